//! The Omega paper's `monolithic` and `omega` architectures as Controllers. A job scheduler
//! works on one job at a time: it spends the decision time, then places the job's tasks by
//! randomised first fit — on the live cell state (monolithic: no conflict is possible), or on
//! the state it saw when the attempt began, committed as a transaction that may conflict with
//! other schedulers' commits (Omega: shared state, optimistic concurrency).

use std::collections::BTreeSet;

use podlab_cluster::config::{DecisionTime, Placement, Retry, WorkloadClass};
use podlab_cluster::{
    Action, BindRefusal, Claim, ConflictDetection, Context, Controller, Event, JobRef, NodeId, Note, Part, PodId,
    Refused,
};

use crate::jobs::{AfterAttempt, JobTable, Owners, Room, Router, Task, Tasks, task, task_mut};

/// Timer tokens.
const ATTEMPT_OVER: u64 = 1;
const RETRY_DUE: u64 = 2;
const START: u64 = 3;

/// Where a job scheduler places its decisions.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// One scheduler on the live state. Multi-path: batch and service decision times differ.
    Monolithic { batch: DecisionTime, service: DecisionTime },
    /// One of several schedulers sharing the cell; decisions commit as transactions.
    Omega { decision: DecisionTime, detection: ConflictDetection, all_or_nothing: bool },
}

/// The attempt in flight.
struct Attempt {
    job: JobRef,
    /// Omega: the claims decided at the start, on the state seen then.
    claims: Vec<Claim>,
    /// Omega: the commit is out; waiting for `Committed`.
    committing: bool,
}

pub struct JobScheduler {
    name: String,
    /// This instance's index in the router.
    me: usize,
    router: Router,
    mode: Mode,
    retry: Retry,
    placement: Placement,
    /// Free room per node, as the cache knows it.
    free: Vec<Option<Room>>,
    /// Per node: claims applied so far (the paper's sequence number), from watch events.
    seq: Vec<u64>,
    /// Every pod in flight: its spec, job, and where it is bound or assumed.
    tasks: Tasks,
    /// Nodes that take no new work now (tainted NotReady, cordoned).
    closed: BTreeSet<NodeId>,
    /// Which jobs are this instance's, decided at each job's first task.
    owners: Owners,
    table: JobTable,
    attempt: Option<Attempt>,
    /// A start is due at the current instant (see [`JobScheduler::arm`]).
    start_armed: bool,
    order: Vec<u32>,
}

impl JobScheduler {
    pub fn new(name: String, me: usize, router: Router, mode: Mode, retry: Retry) -> JobScheduler {
        JobScheduler {
            name,
            me,
            router,
            mode,
            retry,
            placement: Placement::PerTask,
            free: Vec::new(),
            seq: Vec::new(),
            tasks: Tasks::default(),
            closed: BTreeSet::new(),
            owners: Owners::default(),
            table: JobTable::default(),
            attempt: None,
            start_armed: false,
            order: Vec::new(),
        }
    }

    /// How its randomised first fit picks machines (the original's per-task draw unless set).
    pub fn with_placement(mut self, placement: Placement) -> JobScheduler {
        self.placement = placement;
        self
    }

    fn decision_time(&self, class: WorkloadClass) -> DecisionTime {
        match self.mode {
            Mode::Monolithic { batch, service } => {
                if class == WorkloadClass::Service {
                    service
                } else {
                    batch
                }
            }
            Mode::Omega { decision, .. } => decision,
        }
    }

    /// The pod's requests are taken on `node` in the books.
    fn account(&mut self, pod: PodId, node: NodeId) {
        let Some(t) = task_mut(&mut self.tasks, pod) else { return };
        t.node = Some(node).into();
        if let Some(room) = self.free.get_mut(node.index()).and_then(Option::as_mut) {
            room.take(&t.spec.requests);
        }
    }

    /// The pod's requests are given back on the node it held, if any.
    fn release(&mut self, pod: PodId) {
        let Some(t) = task_mut(&mut self.tasks, pod) else { return };
        let Some(node) = t.node.get() else { return };
        t.node = None.into();
        t.assumed = false;
        if let Some(room) = self.free.get_mut(node.index()).and_then(Option::as_mut) {
            room.give(&t.spec.requests);
        }
    }

    /// Randomised first fit of a job's unplaced tasks on the cache; `keep` leaves the
    /// placements accounted (monolithic binds them now), otherwise they are only claims.
    fn first_fit(&mut self, job: JobRef, keep: bool, ctx: &mut Context<'_>) -> Vec<(PodId, NodeId)> {
        // Closed nodes sit out this fit.
        let set_aside: Vec<(NodeId, Option<Room>)> =
            self.closed.iter().map(|n| (*n, self.free[n.index()].take())).collect();
        // The tasks' requests borrowed where they are kept (no copy of the job's list, nor of
        // each task's spec), while the fit changes only the free room.
        let unplaced = self.table.jobs.get(&job).map_or(&[][..], |j| &j.unplaced[..]);
        let mut tasks: Vec<(PodId, &podlab_cluster::Resources)> = Vec::with_capacity(unplaced.len());
        tasks.extend(unplaced.iter().filter_map(|p| Some((*p, &task(&self.tasks, *p)?.spec.requests))));
        let placed = crate::jobs::place(self.placement, &tasks, &mut self.free, &mut self.order, ctx.rng());
        for (n, room) in set_aside {
            self.free[n.index()] = room;
        }
        if !keep {
            for (pod, node) in &placed {
                if let (Some(room), Some(t)) = (self.free[node.index()].as_mut(), task(&self.tasks, *pod)) {
                    room.give(&t.spec.requests);
                }
            }
        }
        placed
    }

    /// Starts the next attempt through a timer at the current instant rather than at once, so
    /// that every task of a job arriving at this instant is in the job before it is decided.
    fn arm(&mut self, ctx: &mut Context<'_>) {
        if self.attempt.is_none() && !self.start_armed && !self.table.queue.is_empty() {
            self.start_armed = true;
            ctx.act(Action::SetTimer { at: ctx.now(), token: START });
        }
    }

    fn start_attempt(&mut self, ctx: &mut Context<'_>) {
        if self.attempt.is_some() {
            return;
        }
        let Some(job) = self.table.queue.pop_front() else { return };
        let Some(j) = self.table.jobs.get(&job) else { return };
        let tasks = j.unplaced.len() as u32;
        let busy = self.decision_time(j.class).for_tasks(tasks);
        ctx.act(Action::Note(Note::Attempt { job, tasks, busy }));
        let claims = match self.mode {
            Mode::Monolithic { .. } => Vec::new(),
            Mode::Omega { .. } => self
                .first_fit(job, false, ctx)
                .into_iter()
                .map(|(pod, node)| Claim { pod, part: Part::Whole, node, seen_seq: self.seq[node.index()] })
                .collect(),
        };
        self.attempt = Some(Attempt { job, claims, committing: false });
        ctx.act(Action::SetTimer { at: ctx.now() + busy, token: ATTEMPT_OVER });
    }

    fn attempt_over(&mut self, ctx: &mut Context<'_>) {
        let Some(attempt) = self.attempt.as_mut() else { return };
        match self.mode {
            Mode::Monolithic { .. } => {
                let job = attempt.job;
                let placed = self.first_fit(job, true, ctx);
                for &(pod, node) in &placed {
                    if let Some(t) = task_mut(&mut self.tasks, pod) {
                        t.node = Some(node).into();
                        t.assumed = true;
                    }
                    ctx.act(Action::Bind { pod, part: Part::Whole, node });
                }
                let pods: Vec<PodId> = placed.iter().map(|(p, _)| *p).collect();
                self.finish(job, &pods, 0, ctx);
            }
            Mode::Omega { detection, all_or_nothing, .. } => {
                attempt.committing = true;
                let claims = attempt.claims.clone();
                ctx.act(Action::Commit { claims, detection, all_or_nothing });
            }
        }
    }

    fn committed(&mut self, accepted: &[Claim], conflicted: &[Claim], ctx: &mut Context<'_>) {
        let Some(attempt) = self.attempt.as_ref() else { return };
        debug_assert!(attempt.committing);
        let job = attempt.job;
        let pods: Vec<PodId> = accepted.iter().map(|c| c.pod).collect();
        self.finish(job, &pods, conflicted.len() as u32, ctx);
    }

    fn finish(&mut self, job: JobRef, placed: &[PodId], conflicts: u32, ctx: &mut Context<'_>) {
        self.attempt = None;
        self.table.placed(job, placed);
        ctx.act(Action::Note(Note::AttemptDone { job, placed: placed.len() as u32, conflicts }));
        match self.table.after_attempt(job, placed.len() as u32, &self.retry) {
            AfterAttempt::Done => {}
            AfterAttempt::Abandon => ctx.act(Action::Note(Note::Abandoned { job })),
            AfterAttempt::Retry => ctx.act(Action::SetTimer { at: ctx.now() + self.retry.interval, token: RETRY_DUE }),
        }
    }
}

impl Controller for JobScheduler {
    fn name(&self) -> &str {
        &self.name
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        match event {
            Event::NodeAdded { node, spec } => {
                if self.free.len() <= node.index() {
                    self.free.resize(node.index() + 1, None);
                    self.seq.resize(node.index() + 1, 0);
                }
                self.free[node.index()] = Some(Room::of(spec));
                // A node may join cordoned or tainted (a real cluster's dump at t = 0).
                crate::jobs::track_closed(&mut self.closed, *node, spec);
            }
            Event::PodAdded { pod, spec } => {
                let job = spec.group().map_or(JobRef::Pod(*pod), JobRef::Group);
                let t = Task { spec: spec.spec.clone(), job, node: None.into(), assumed: false, deleted: false };
                self.tasks.insert(pod.index(), Some(t));
                if spec.node_name().is_some() {
                    return;
                }
                if self.owners.owns(&self.router, self.me, job, spec) {
                    self.table.add_task(job, *pod, spec.workload);
                }
            }
            Event::Bound { pod, node, .. } => {
                if let Some(s) = self.seq.get_mut(node.index()) {
                    *s += 1;
                }
                // Another's binding, or one that won over our assumption (an earlier
                // incarnation's): the pod is where the binding says.
                let Some(t) = task_mut(&mut self.tasks, *pod) else { return self.arm(ctx) };
                let ours = t.assumed && t.node.get() == Some(*node);
                t.assumed = false;
                if !ours {
                    let job = t.job;
                    self.release(*pod);
                    self.account(*pod, *node);
                    // Nothing left to place for it (a restart's list shows the pod, then its
                    // binding).
                    self.table.placed(job, &[*pod]);
                }
            }
            Event::BindRefused(refused) => {
                let Refused { pod, reason, .. } = &**refused;
                // Monolithic on a stale cache (only with a slow control plane): retry the task
                // — unless it is bound already (409, an earlier incarnation's binding): its
                // binding shows where.
                if task(&self.tasks, *pod).is_some_and(|t| t.assumed) {
                    self.release(*pod);
                }
                match task(&self.tasks, *pod) {
                    Some(t) if t.deleted => {
                        self.tasks.remove(pod.index());
                    }
                    Some(t) if *reason != BindRefusal::AlreadyBound => {
                        let (job, workload) = (t.job, t.spec.workload);
                        self.table.add_task(job, *pod, workload);
                    }
                    _ => {}
                }
            }
            Event::PodDeleted { pod } => {
                // Deleted while pending: no longer a task of its job; forgotten unless it
                // holds room (bound, or a binding in flight: its end or refusal gives it back).
                if let Some(t) = task_mut(&mut self.tasks, *pod) {
                    t.deleted = true;
                    let (job, holds) = (t.job, t.node.is_some());
                    self.table.placed(job, &[*pod]);
                    if !holds {
                        self.tasks.remove(pod.index());
                    }
                }
            }
            Event::Ended { pod, .. } => {
                self.release(*pod);
                self.tasks.remove(pod.index());
            }
            Event::Committed(commitment) => self.committed(&commitment.accepted, &commitment.conflicted, ctx),
            Event::Timer { token: ATTEMPT_OVER } => self.attempt_over(ctx),
            Event::Timer { token: RETRY_DUE } => self.table.retry_due(),
            Event::Timer { token: START } => {
                self.start_armed = false;
                self.start_attempt(ctx);
            }
            Event::NodeUpdated { node, spec } => crate::jobs::track_closed(&mut self.closed, *node, spec),
            Event::Timer { .. }
            | Event::GroupAdded { .. }
            | Event::Message { .. }
            | Event::Start
            | Event::NodeHeartbeat { .. }
            | Event::Started { .. }
            | Event::Synced => {}
        }
        self.arm(ctx);
    }
}
