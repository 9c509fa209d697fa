//! The metrics of one run (`summary.json`, schema `podlab.summary/v1`), folded over its records
//! as they are written or read back.

use serde::Serialize;

use podlab_cluster::pods::PodFacts;
use podlab_cluster::scenario::Scenario;
use podlab_cluster::{ControllerId, JobRef, Note, Phase, PodId, Record, RecordSink, Records, SimTime, Stamped};

use crate::control_plane::{ControlPlaneFold, ControlPlaneMetrics};
use crate::in_flight::InFlight;
use crate::outcome::{GroupBooks, Outcomes, PodOutcome, groups_sharing_a_node, outcome_pod};
use crate::percentiles::Samples;
use crate::scheduling::{JobAttempts, SchedulingFold, SchedulingMetrics};
use crate::waits::Waits;
use crate::workloads::{WorkloadMetrics, workload_metrics};

/// Where a summary's distributions of durations are defined; named here too, beside the
/// summary that holds them.
pub use crate::percentiles::Percentiles;

pub const SUMMARY_SCHEMA: &str = "podlab.summary/v1";

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    pub schema: &'static str,
    pub scenario: String,
    pub policy: String,
    pub seed: u64,
    pub digest: String,
    pub end_ns: u64,
    pub events: u64,
    /// Present only when the run stopped at a budget before its end (`--max-events` and
    /// kin): why and when. Every figure of the summary is then of a partial run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    pub pods: PodCounts,
    pub colocation: Colocation,
    /// From a pod's creation to the binding of its last part, over every pod created: those
    /// never scheduled are counted, as censored waits (see [`Waits`]).
    pub time_to_schedule: Waits,
    pub unschedulable_attempts: u64,
    pub bind_refusals: u64,
    /// Preemptions carried out (kube-scheduler's PostFilter), and the pods they deleted.
    pub preemptions: u64,
    pub victims: u64,
    pub utilisation: Utilisation,
    /// Jobs, schedulers' work, idle holdings and deadlocks.
    #[serde(flatten)]
    pub scheduling: SchedulingMetrics,
    /// Start-up, API latency, failure detection, replicas lost and restored.
    pub control_plane: ControlPlaneMetrics,
    /// Deployment rollouts and Jobs.
    pub workloads: WorkloadMetrics,
}

/// Where every pod of the scenario stands at the end of the run.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PodCounts {
    pub total: u64,
    /// Pods whose every part was bound at some point.
    pub scheduled: u64,
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Pods deleted (by a controller) before they were bound: not pending any more.
    pub deleted: u64,
    /// Pods due after the run ended.
    pub not_arrived: u64,
}

/// The co-scheduling failures — a Pod's containers on different nodes, a group on different
/// nodes against its own rule — apart from groups spread over nodes as they may be, and
/// placements left half done.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Colocation {
    /// Split pods plus split groups: what the co-scheduling problem forbids.
    pub violations: u64,
    /// Pods whose containers ran on more than one node: the Pod is the unit that shares a node.
    pub split_pods: u64,
    /// Groups spread over nodes against their own rule: a member requires the others on its
    /// node (a required pod affinity on `kubernetes.io/hostname` that selects them).
    pub split_groups: u64,
    /// Groups whose members ran on more than one node, split or not. A PodGroup asks for its
    /// members all or nothing, not for one node: a gang spread over nodes on purpose is here,
    /// not among the violations.
    pub spread_groups: u64,
    pub partial_pods: u64,
    pub partial_groups: u64,
}

/// Requested resources as a share of the allocatable resources of the nodes present, averaged
/// over the run.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Utilisation {
    pub cpu: f64,
    pub memory: f64,
}

/// Who ran what, for the summary's header.
pub struct RunInfo<'a> {
    pub policy: &'a str,
    /// The run's controllers, by id.
    pub controllers: &'a [String],
    pub seed: u64,
    pub digest: &'a str,
    pub end: SimTime,
    pub events: u64,
    /// Why the run stopped before its end (a budget reached), if it did: its result is partial.
    pub stopped: Option<String>,
}

/// Whether the summary needs the run's records kept (not only folded as they are written):
/// the Deployments' and Jobs' stories are read from them at the end, and so are `expect:`
/// lines.
pub fn needs_records(scenario: &Scenario) -> bool {
    !scenario.deployments.is_empty() || !scenario.jobs.is_empty() || !scenario.expectations.is_empty()
}

/// The summary of a run from its records (kept, or recorded by real mode).
pub fn summarize(scenario: &Scenario, records: &Records, info: &RunInfo<'_>) -> Summary {
    Tally::replay(scenario, records, info, 0).0
}

/// A pod's books while it is in flight.
#[derive(Default)]
struct PodBooks {
    outcome: PodOutcome,
    /// Its job's attempts, if it is a job of its own.
    attempts: JobAttempts,
}

/// The summary folded over a run's records as they are written, with books only for the pods
/// in flight: a pod is counted, and its books dropped, when it has succeeded or failed (no
/// record about it can follow), the others at the end. [`summarize`] replays kept records
/// through the same fold.
pub struct Tally {
    pods: InFlight<PodBooks>,
    groups: GroupBooks,
    /// The outcomes of the pods with the lowest ids (a table's rows), kept when counted.
    first_pods: Vec<PodOutcome>,
    /// Why each of the first pods last waited, if it did.
    first_waiting: Vec<Option<Waiting>>,
    counts: PodCounts,
    colocation: Colocation,
    waits: Samples,
    /// Waits of pods never scheduled, cut short by their deletion.
    censored: Vec<u64>,
    /// Creation times of pods never scheduled nor deleted: censored at the run's end.
    unscheduled_since: Vec<SimTime>,
    /// Pods with books, counted.
    counted: u64,
    unschedulable: u64,
    refused: u64,
    preemptions: u64,
    victims: u64,
    utilisation: UtilisationFold,
    scheduling: SchedulingFold,
    control_plane: ControlPlaneFold,
}

impl Tally {
    /// `crashes`: whether any node crashes in the run; `first_pods`: how many of the first
    /// pods' outcomes to keep for [`Tally::finish`].
    pub fn new(crashes: bool, first_pods: usize) -> Tally {
        Tally {
            pods: InFlight::new(),
            groups: GroupBooks::default(),
            first_pods: vec![PodOutcome::default(); first_pods],
            first_waiting: vec![None; first_pods],
            counts: PodCounts::default(),
            colocation: Colocation::default(),
            waits: Samples::default(),
            censored: Vec::new(),
            unscheduled_since: Vec::new(),
            counted: 0,
            unschedulable: 0,
            refused: 0,
            preemptions: 0,
            victims: 0,
            utilisation: UtilisationFold::default(),
            scheduling: SchedulingFold::default(),
            control_plane: ControlPlaneFold::new(crashes),
        }
    }

    /// The summary of a run from its records, and the outcomes of its first `first_pods`
    /// pods (as [`Tally::finish`]).
    pub fn replay(
        scenario: &Scenario,
        records: &Records,
        info: &RunInfo<'_>,
        first_pods: usize,
    ) -> (Summary, Outcomes) {
        let crashes = records.rare().iter().any(|r| matches!(r, Record::NodeCrashed { .. }));
        let mut tally = Tally::new(crashes, first_pods);
        for s in records.iter() {
            if s.time <= info.end { tally.observe(scenario, &s) } else { tally.observe_after_end(&s) }
        }
        tally.finish(scenario, records, info)
    }

    /// A record after the run's end (real mode's last replies): counted as an unschedulable
    /// attempt or a refused binding, nothing else.
    pub fn observe_after_end(&mut self, s: &Stamped) {
        self.count_failures(s);
    }

    /// Failed attempts, refused bindings and preemptions count over the whole run, its end or
    /// not.
    fn count_failures(&mut self, s: &Stamped) {
        self.unschedulable += u64::from(matches!(s.record, Record::Unschedulable { .. }));
        self.refused += u64::from(matches!(s.record, Record::BindRefused { .. }));
        if let Record::Preempted { victims, .. } = &s.record {
            self.preemptions += 1;
            self.victims += victims.len() as u64;
        }
    }

    pub fn observe(&mut self, scenario: &Scenario, s: &Stamped) {
        self.count_failures(s);
        self.note_waiting(scenario, s);
        let outcome_of = outcome_pod(&s.record);
        // The pods whose books other folds read: a start-up's (its creation), an attempt's job.
        let pod = outcome_of.or(match &s.record {
            Record::Started { pod, .. } | Record::Note { note: Note::Attempt { job: JobRef::Pod(pod), .. }, .. } => {
                Some(*pod)
            }
            _ => None,
        });
        // Its spec, group and node name, found once for every fold below (they were a third of
        // the fold's instructions, found again by each).
        let facts = pod.filter(|p| p.index() < scenario.pods.len()).map(|p| scenario.pods.facts(p));
        self.utilisation.observe(scenario, s, facts.as_ref());
        let books = pod.and_then(|p| Some((p, self.pods.get_mut(p)?)));
        let (mut created, mut attempts, mut finished) = (None, None, None);
        if let Some((pod, books)) = books {
            if outcome_of.is_some() {
                let was_created = books.outcome.created_at().is_some();
                // A pod deleted before it was scheduled waited until then, and no longer.
                if let (Record::PodDeleted { .. }, Some(created), None) =
                    (&s.record, books.outcome.created_at(), books.outcome.scheduled_at())
                {
                    self.censored.push(s.time.since(created).as_nanos());
                }
                let facts = facts.as_ref().expect("a record's pod is the scenario's");
                let scheduled = books.outcome.observe(facts, s, &mut self.groups);
                if matches!(s.record, Record::PodCreated { .. }) && !was_created {
                    self.scheduling.pod_created(facts, s.time);
                }
                if scheduled && books.outcome.created_at().is_some() {
                    self.scheduling.pod_scheduled(facts, s.time);
                }
                if matches!(s.record, Record::Ended { .. }) {
                    let parts = facts.spec.part_count(books.outcome.per_container());
                    if matches!(books.outcome.phase(parts), Some(Phase::Succeeded | Phase::Failed)) {
                        finished = Some(pod);
                    }
                }
            }
            created = books.outcome.created_at();
            attempts = Some(&mut books.attempts);
        }
        self.scheduling.observe(scenario, s, facts.as_ref(), attempts);
        self.control_plane.observe(scenario, s, created, facts.as_ref());
        if let (Some(pod), Some(facts)) = (finished, &facts)
            && let Some(books) = self.pods.retire(pod)
        {
            self.count(facts, pod, books);
        }
    }

    /// Why one of the first pods waits: the scheduler's last `Unschedulable` message, or the
    /// job it belongs to given up.
    fn note_waiting(&mut self, scenario: &Scenario, s: &Stamped) {
        if self.first_waiting.is_empty() {
            return;
        }
        match &s.record {
            Record::Unschedulable { pod, message, .. } => {
                if let Some(slot) = self.first_waiting.get_mut(pod.index()) {
                    *slot = Some(Waiting::Unschedulable(message.clone()));
                }
            }
            Record::Note { by, note: Note::Abandoned { job } } => {
                for (i, slot) in self.first_waiting.iter_mut().enumerate() {
                    let pod = PodId(i as u32);
                    let of_job = match job {
                        JobRef::Pod(p) => *p == pod,
                        JobRef::Group(g) => i < scenario.pods.len() && scenario.pods.group(pod) == Some(*g),
                    };
                    if of_job {
                        *slot = Some(Waiting::Abandoned(*by));
                    }
                }
            }
            _ => {}
        }
    }

    /// Counts a pod whose books are done with: it finished, or the run did.
    fn count(&mut self, facts: &PodFacts<'_>, pod: PodId, books: PodBooks) {
        let o = books.outcome;
        let parts = facts.spec.part_count(o.per_container());
        let counts = &mut self.counts;
        match o.phase(parts) {
            None => counts.not_arrived += 1,
            Some(Phase::Pending) if o.deleted => counts.deleted += 1,
            Some(Phase::Pending) => counts.pending += 1,
            Some(Phase::Running) => counts.running += 1,
            Some(Phase::Succeeded) => counts.succeeded += 1,
            Some(Phase::Failed) => counts.failed += 1,
        }
        match (o.created_at(), o.scheduled_at()) {
            (Some(created), Some(scheduled)) => {
                counts.scheduled += 1;
                self.waits.push(scheduled.since(created).as_nanos());
            }
            // Deleted pods were censored at their deletion.
            (Some(created), None) if !o.deleted => self.unscheduled_since.push(created),
            _ => {}
        }
        self.colocation.split_pods += o.split() as u64;
        self.colocation.partial_pods += o.partial as u64;
        self.scheduling.pod_job_done(facts, o.created_at(), o.scheduled_at(), &books.attempts);
        self.counted += 1;
        if let Some(slot) = self.first_pods.get_mut(pod.index()) {
            *slot = o;
        }
    }

    /// The summary at the run's end, and the outcomes of the first pods (`first_pods` of
    /// [`Tally::new`]; their groups' partial placements are all the run's). `records` are the
    /// run's if kept: the Deployments' and Jobs' stories are read from them.
    pub fn finish(mut self, scenario: &Scenario, records: &Records, info: &RunInfo<'_>) -> (Summary, Outcomes) {
        for (pod, books) in std::mem::replace(&mut self.pods, InFlight::new()).into_iter() {
            self.count(&scenario.pods.facts(pod), pod, books);
        }
        let total = scenario.pods.len() as u64;
        let mut pods = self.counts;
        (pods.total, pods.not_arrived) = (total, pods.not_arrived + total.saturating_sub(self.counted));
        let mut colocation = self.colocation;
        let spread = self.groups.spread();
        colocation.spread_groups = spread.len() as u64;
        colocation.split_groups = groups_sharing_a_node(scenario, &spread).len() as u64;
        colocation.partial_groups = self.groups.partial.len() as u64;
        colocation.violations = colocation.split_pods + colocation.split_groups;
        let mut censored = self.censored;
        censored.extend(self.unscheduled_since.iter().map(|c| info.end.max(*c).since(*c).as_nanos()));
        let time_to_schedule = Waits::of(&self.waits.into_runs(), censored);
        let waiting = self.first_waiting.into_iter().map(|w| w.map(|w| w.describe(info.controllers))).collect();
        let first_pods = Outcomes { pods: self.first_pods, partial_groups: self.groups.partial, waiting };
        let summary = Summary {
            schema: SUMMARY_SCHEMA,
            scenario: scenario.name.clone(),
            policy: info.policy.to_string(),
            seed: info.seed,
            digest: info.digest.to_string(),
            end_ns: info.end.as_nanos(),
            events: info.events,
            stopped: info.stopped.clone(),
            pods,
            colocation,
            time_to_schedule,
            unschedulable_attempts: self.unschedulable,
            bind_refusals: self.refused,
            preemptions: self.preemptions,
            victims: self.victims,
            utilisation: self.utilisation.finish(info.end),
            scheduling: self.scheduling.finish(info.controllers, info.end),
            control_plane: self.control_plane.finish(),
            workloads: workload_metrics(scenario, records, info.end),
        };
        (summary, first_pods)
    }
}

impl RecordSink for Tally {
    fn observe(&mut self, scenario: &Scenario, stamped: &Stamped) {
        Tally::observe(self, scenario, stamped);
    }
}

/// Why a pod waited, as the records tell it.
#[derive(Clone, Debug)]
enum Waiting {
    /// kube-scheduler's `FailedScheduling`: the pod condition `PodScheduled=False`, reason
    /// `Unschedulable`, with the scheduler's message.
    Unschedulable(std::sync::Arc<str>),
    /// The Omega paper's schedulers give a job up after its retries (a note by this
    /// scheduler); the pod stays Pending and no scheduler tries it again.
    Abandoned(ControllerId),
}

impl Waiting {
    fn describe(&self, controllers: &[String]) -> String {
        match self {
            Waiting::Unschedulable(message) => format!("Unschedulable: {message}"),
            Waiting::Abandoned(by) => {
                let name = controllers.get(by.index()).map_or("its scheduler", String::as_str);
                format!("Abandoned: {name} gave its job up after its retries")
            }
        }
    }
}

/// ∫ requested dt ÷ ∫ allocatable dt over [0, end], per resource, in exact integers until the
/// final division.
#[derive(Default)]
struct UtilisationFold {
    used: [u128; 2],
    capacity: [u128; 2],
    used_area: [u128; 2],
    capacity_area: [u128; 2],
    last: SimTime,
}

impl UtilisationFold {
    fn advance(&mut self, to: SimTime) {
        if to == self.last {
            return; // most records share their instant with the one before
        }
        let dt = to.since(self.last).as_nanos() as u128;
        for r in 0..2 {
            self.used_area[r] += self.used[r] * dt;
            self.capacity_area[r] += self.capacity[r] * dt;
        }
        self.last = to;
    }

    /// Reads one record; `pod` is the spec of the pod it names, if any.
    fn observe(&mut self, scenario: &Scenario, s: &Stamped, pod: Option<&PodFacts<'_>>) {
        self.advance(s.time);
        let amounts = |r: &podlab_cluster::Resources| [r.cpu_milli as u128, r.memory_bytes as u128];
        let spec = |id: &PodId| pod.map_or_else(|| &**scenario.pods.spec(*id), |f| &**f.spec);
        match &s.record {
            Record::NodeAdded { node } => {
                let a = amounts(&scenario.nodes[node.index()].allocatable);
                self.capacity = [self.capacity[0] + a[0], self.capacity[1] + a[1]];
            }
            Record::Bound { pod, part, .. } => {
                let a = amounts(spec(pod).part_requests(*part));
                self.used = [self.used[0] + a[0], self.used[1] + a[1]];
            }
            Record::Ended { pod, part, .. } => {
                let a = amounts(spec(pod).part_requests(*part));
                self.used = [self.used[0] - a[0], self.used[1] - a[1]];
            }
            _ => {}
        }
    }

    fn finish(mut self, end: SimTime) -> Utilisation {
        self.advance(end);
        let ratio = |r: usize| {
            if self.capacity_area[r] == 0 { 0.0 } else { self.used_area[r] as f64 / self.capacity_area[r] as f64 }
        };
        Utilisation { cpu: ratio(0), memory: ratio(1) }
    }
}
