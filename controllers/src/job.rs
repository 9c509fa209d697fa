//! The Job controller (`batch/v1`): runs a Job's pods until `completions` of them succeed (in
//! the Indexed mode: one per index 0…completions−1, each pod labelled with its index), at most
//! `parallelism` at once. A failed pod is replaced by a new one (restartPolicy
//! Never; OnFailure is run the same way, see ARCHITECTURE.md) after the failure backoff — 10 s
//! doubling with each consecutive failure, at most 6 minutes; past `backoffLimit` failed pods,
//! or past `activeDeadlineSeconds`, the Job fails and its active pods are deleted.
//!
//! All its state is rebuilt from pod events (pods carry their Job's name): active pods,
//! succeeded and failed counts, consecutive failures and when the last one was seen; only
//! creations and deletions in flight are its own.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::work_queue::WorkQueue;
use podlab_cluster::apps::{JOB_COMPLETION_INDEX_LABEL, JobSpec, SAFE_ALPHABET};
use podlab_cluster::rng::below;
use podlab_cluster::{Action, Context, Controller, Event, Note, Part, Phase, PodId, SimDuration, SimTime};

/// Kubernetes' pod failure backoff: 10 s, doubled per consecutive failure, at most 6 minutes.
pub const BACKOFF_BASE: SimDuration = SimDuration::from_secs(10);
pub const BACKOFF_MAX: SimDuration = SimDuration::from_secs(360);

/// The delay before a new pod after `failures` consecutive failures (at least one).
pub fn failure_backoff(failures: u32) -> SimDuration {
    let doublings = failures.saturating_sub(1).min(16);
    SimDuration(BACKOFF_BASE.as_nanos().saturating_mul(1 << doublings).min(BACKOFF_MAX.as_nanos()))
}

/// How a Job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Finished {
    Complete,
    Failed(&'static str),
}

#[derive(Default)]
struct JobState {
    active: BTreeSet<PodId>,
    succeeded: u32,
    failed: u32,
    /// Failures since the last success, and when the last was seen: the backoff.
    consecutive_failures: u32,
    last_failure: Option<SimTime>,
    creating: u32,
    /// Indexed Jobs: indexes with a succeeded pod, each active pod's index, and the indexes of
    /// creations in flight.
    succeeded_indexes: BTreeSet<u32>,
    active_index: BTreeMap<PodId, u32>,
    creating_indexes: BTreeSet<u32>,
    /// Deletes asked for and not yet seen.
    deleting: BTreeSet<PodId>,
    finished: Option<Finished>,
    /// A backoff timer is set for this instant.
    timer_for: Option<SimTime>,
}

impl JobState {
    /// Completions so far: pods succeeded, or for an Indexed Job indexes succeeded.
    fn done(&self, spec: &JobSpec) -> u32 {
        if spec.indexed { self.succeeded_indexes.len() as u32 } else { self.succeeded }
    }
}

/// A pod of one of the Jobs: how many parts it has (known at its first binding) and ended.
struct PodView {
    job: usize,
    parts: usize,
    ended: usize,
}

pub struct JobController {
    specs: Vec<JobSpec>,
    jobs: Vec<JobState>,
    pods: BTreeMap<PodId, PodView>,
    names: BTreeSet<String>,
    /// Jobs to sync (`work_queue.rs`).
    queue: WorkQueue,
}

/// Timer tokens: the job's index times two, plus 0 for a backoff's end, 1 for its deadline;
/// and the sync of Jobs whose pods changed.
fn token(job: usize, deadline: bool) -> u64 {
    job as u64 * 2 + u64::from(deadline)
}
const SYNC: u64 = u64::MAX;

impl JobController {
    pub fn new(specs: Vec<JobSpec>) -> JobController {
        JobController {
            jobs: specs.iter().map(|_| JobState::default()).collect(),
            specs,
            pods: BTreeMap::new(),
            names: BTreeSet::new(),
            queue: WorkQueue::new(SYNC),
        }
    }

    fn finish(&mut self, j: usize, how: Finished, ctx: &mut Context<'_>) {
        self.jobs[j].finished = Some(how);
        let job = self.specs[j].key();
        ctx.act(Action::Note(match how {
            Finished::Complete => Note::JobComplete { job },
            Finished::Failed(reason) => Note::JobFailed { job, reason },
        }));
    }

    fn reconcile(&mut self, j: usize, ctx: &mut Context<'_>) {
        let now = ctx.now();
        let spec = &self.specs[j];
        let st = &self.jobs[j];
        if now < spec.start {
            return; // not created yet
        }
        if st.finished.is_none() {
            if spec.active_deadline.is_some_and(|d| now >= spec.start + d) {
                self.finish(j, Finished::Failed("DeadlineExceeded"), ctx);
            } else if st.failed > spec.backoff_limit {
                self.finish(j, Finished::Failed("BackoffLimitExceeded"), ctx);
            } else if st.done(spec) >= spec.completions {
                self.finish(j, Finished::Complete, ctx);
            }
        }
        let st = &mut self.jobs[j];
        let spec = &self.specs[j];
        let doomed: Vec<PodId> = if st.finished.is_some() {
            // A finished Job keeps no pod running.
            st.active.difference(&st.deleting).copied().collect()
        } else {
            let want = spec.parallelism.min(spec.completions - st.done(spec));
            let have = st.active.len() as u32 - st.deleting.len() as u32 + st.creating;
            if have < want {
                if let Some(last) = st.last_failure.filter(|_| st.consecutive_failures > 0) {
                    let ready = last + failure_backoff(st.consecutive_failures);
                    if now < ready {
                        if st.timer_for != Some(ready) {
                            st.timer_for = Some(ready);
                            ctx.act(Action::SetTimer { at: ready, token: token(j, false) });
                        }
                        return;
                    }
                }
                let mut free_indexes = (0..spec.completions).filter(|i| {
                    !st.succeeded_indexes.contains(i)
                        && !st.creating_indexes.contains(i)
                        && !st.active_index.iter().any(|(p, x)| x == i && !st.deleting.contains(p))
                });
                let indexes: Vec<Option<u32>> =
                    (have..want).map(|_| if spec.indexed { free_indexes.next() } else { None }).collect();
                for index in indexes {
                    self.create(j, index, ctx);
                }
                return;
            }
            // Too many (parallelism lowered by completions nearly reached): newest first.
            let extra = (have - want) as usize;
            st.active.iter().rev().filter(|p| !st.deleting.contains(p)).take(extra).copied().collect()
        };
        for pod in doomed {
            self.jobs[j].deleting.insert(pod);
            ctx.act(Action::Note(Note::DeletedPod { pod }));
            ctx.act(Action::Evict { pod });
        }
    }

    /// Creates a pod `<job>-<suffix>`, or for an Indexed Job `<job>-<index>-<suffix>`.
    fn create(&mut self, j: usize, index: Option<u32>, ctx: &mut Context<'_>) {
        let prefix = match index {
            Some(i) => format!("{}-{i}", self.specs[j].name),
            None => self.specs[j].name.clone(),
        };
        let name = loop {
            let suffix: String =
                (0..5).map(|_| SAFE_ALPHABET[below(ctx.rng(), SAFE_ALPHABET.len() as u64) as usize] as char).collect();
            let name = format!("{prefix}-{suffix}");
            if self.names.insert(name.clone()) {
                break name;
            }
        };
        let mut pod = (*self.specs[j].template).clone();
        pod.name = name.into();
        if let Some(i) = index {
            // The index label is the pod's own, so an Indexed Job's pod copies the template's
            // spec here (copy on write); other Jobs' pods all share it.
            pod.labels.insert(JOB_COMPLETION_INDEX_LABEL.into(), i.to_string());
            self.jobs[j].creating_indexes.insert(i);
        }
        self.jobs[j].creating += 1;
        ctx.act(Action::CreatePod { spec: Arc::new(pod) });
    }

    /// A pod of job `j` is over: counted (unless the Job had already finished), and gone.
    fn pod_over(&mut self, j: usize, pod: PodId, phase: Option<Phase>, ctx: &mut Context<'_>) {
        let st = &mut self.jobs[j];
        st.active.remove(&pod);
        st.deleting.remove(&pod);
        let index = st.active_index.remove(&pod);
        self.pods.remove(&pod);
        if st.finished.is_some() {
            return;
        }
        match phase {
            Some(Phase::Succeeded) => {
                st.succeeded += 1;
                st.succeeded_indexes.extend(index);
                st.consecutive_failures = 0;
            }
            Some(_) => {
                st.failed += 1;
                st.consecutive_failures += 1;
                st.last_failure = Some(ctx.now());
            }
            None => {}
        }
    }
}

impl Controller for JobController {
    fn name(&self) -> &str {
        "job-controller"
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        let touched = match event {
            Event::Start => {
                for (j, spec) in self.specs.iter().enumerate() {
                    if spec.start > ctx.now() {
                        ctx.act(Action::SetTimer { at: spec.start, token: token(j, false) });
                    }
                    if let Some(d) = spec.active_deadline {
                        ctx.act(Action::SetTimer { at: spec.start + d, token: token(j, true) });
                    }
                }
                None
            }
            Event::Timer { token: SYNC } => {
                for j in self.queue.take() {
                    self.reconcile(j, ctx);
                }
                return;
            }
            Event::Timer { token } => Some((*token / 2) as usize).filter(|j| *j < self.specs.len()),
            Event::Synced => {
                self.queue.synced();
                None
            }
            Event::PodAdded { pod, spec } => {
                self.names.insert(spec.name.to_string());
                let Some(j) = spec
                    .job()
                    .and_then(|name| self.specs.iter().position(|s| s.name == name && s.namespace == spec.namespace))
                else {
                    return;
                };
                let st = &mut self.jobs[j];
                st.creating = st.creating.saturating_sub(1);
                st.active.insert(*pod);
                if let Some(i) = spec.labels.get(JOB_COMPLETION_INDEX_LABEL).and_then(|i| i.parse().ok()) {
                    st.creating_indexes.remove(&i);
                    st.active_index.insert(*pod, i);
                }
                self.pods.insert(*pod, PodView { job: j, parts: 1, ended: 0 });
                Some(j)
            }
            Event::Bound { pod, part: Part::Container(_), .. } => {
                if let Some(view) = self.pods.get_mut(pod) {
                    view.parts = self.specs[view.job].template.containers.len();
                }
                return;
            }
            Event::Ended { pod, phase, .. } => {
                let Some(view) = self.pods.get_mut(pod) else { return };
                view.ended += 1;
                let j = view.job;
                // A pod fails with its first failed part; it succeeds when every part did.
                if *phase == Phase::Failed || view.ended >= view.parts {
                    self.pod_over(j, *pod, Some(*phase), ctx);
                    Some(j)
                } else {
                    return;
                }
            }
            Event::PodDeleted { pod } => {
                let Some(view) = self.pods.get(pod) else { return };
                let j = view.job;
                self.pod_over(j, *pod, None, ctx);
                Some(j)
            }
            _ => return,
        };
        self.queue.mark(touched, self.specs.len(), ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use podlab_cluster::apps::JOB_NAME_LABEL;
    use podlab_cluster::{NodeId, Pod, Resources};

    fn job(backoff_limit: u32) -> JobSpec {
        let mut t = Pod::single("batch", Resources::default());
        t.owner = Some("batch".into());
        t.labels.insert(JOB_NAME_LABEL.into(), "batch".into());
        JobSpec {
            namespace: "default".into(),
            name: "batch".into(),
            completions: 3,
            parallelism: 2,
            backoff_limit,
            active_deadline: None,
            template: Arc::new(t),
            start: SimTime::ZERO,
            indexed: false,
        }
    }

    /// Events at `secs`, then the sync timer, as the driver would deliver them.
    fn feed(c: &mut JobController, rng: &mut rand_chacha::ChaCha8Rng, secs: u64, events: &[Event]) -> Vec<Action> {
        let mut actions = Vec::new();
        let sync = Event::Timer { token: SYNC };
        for e in events.iter().chain([&Event::Synced, &sync]) {
            let mut ctx = Context::new(SimTime::ZERO + SimDuration::from_secs(secs), rng, &mut actions);
            c.handle(e, &mut ctx);
        }
        actions
    }

    /// A Job controller rebuilt from a relist (pods added, bound, ended) counts the failures
    /// it finds, and fails the Job past its backoffLimit, deleting the pod still running.
    #[test]
    fn a_rebuilt_job_controller_counts_failures_from_the_relist() {
        let mut rng = podlab_cluster::rng::stream(1, "test");
        let mut first = JobController::new(vec![job(1)]);
        let pods: Vec<Arc<Pod>> = feed(&mut first, &mut rng, 0, &[Event::Start])
            .into_iter()
            .filter_map(|a| if let Action::CreatePod { spec } = a { Some(spec) } else { None })
            .collect();
        assert_eq!(pods.len(), 2, "parallelism");
        let node = NodeId(0);
        let mut relist = Vec::new();
        for (i, p) in pods.iter().enumerate() {
            relist.push(Event::PodAdded { pod: PodId(i as u32), spec: p.clone() });
            relist.push(Event::Bound { pod: PodId(i as u32), part: Part::Whole, node });
        }
        relist.push(Event::Ended { pod: PodId(0), part: Part::Whole, node, phase: Phase::Failed });
        let mut rebuilt = JobController::new(vec![job(1)]);
        let actions = feed(&mut rebuilt, &mut rng, 30, &relist);
        // One failure is within backoffLimit 1: the replacement waits out 10 s.
        assert!(actions.iter().all(|a| !matches!(a, Action::CreatePod { .. } | Action::Evict { .. })), "{actions:?}");
        assert!(actions.contains(&Action::SetTimer { at: SimTime::ZERO + SimDuration::from_secs(40), token: 0 }));
        // A second failure is past it: the Job fails and its running pod is deleted.
        let failed = Event::Ended { pod: PodId(1), part: Part::Whole, node, phase: Phase::Failed };
        let mut relist2 = relist.clone();
        relist2.push(failed);
        let mut again = JobController::new(vec![job(1)]);
        let actions = feed(&mut again, &mut rng, 31, &relist2);
        assert!(
            actions.contains(&Action::Note(Note::JobFailed { job: "batch".into(), reason: "BackoffLimitExceeded" }))
        );
        let mut relist3 = relist;
        relist3.push(Event::PodAdded { pod: PodId(2), spec: pods[0].clone() });
        relist3.push(Event::Ended { pod: PodId(1), part: Part::Whole, node, phase: Phase::Failed });
        let actions = feed(&mut JobController::new(vec![job(1)]), &mut rng, 32, &relist3);
        assert!(actions.contains(&Action::Evict { pod: PodId(2) }), "{actions:?}");
    }

    #[test]
    fn backoff_doubles_from_ten_seconds_up_to_six_minutes() {
        let secs: Vec<u64> = (1..=8).map(|n| failure_backoff(n).as_nanos() / 1_000_000_000).collect();
        assert_eq!(secs, [10, 20, 40, 80, 160, 320, 360, 360]);
        assert_eq!(failure_backoff(u32::MAX), BACKOFF_MAX);
    }
}
