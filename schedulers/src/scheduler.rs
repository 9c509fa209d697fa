//! The scheduler as a Controller: an informer cache of nodes and pods fed by watch events, a
//! queue ordered by priority then arrival, and one scheduling cycle at a time, each taking the
//! configured decision time. The same code is three policies: `kubernetes` (the Pod is the
//! unit), `per-container` (each container is placed on its own, with the same filters and
//! scores) and `gang` (scheduler-plugins coscheduling: members of a PodGroup wait at Permit,
//! holding their reservations, until `minMember` of them are reserved).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use podlab_cluster::config::KubeConfig;
use podlab_cluster::{
    Action, BindRefusal, Context, Controller, Event, GroupId, JobRef, NodeId, Note, Part, Pod, PodGroup, PodId,
};

use crate::framework::{Framework, NodeInfo, Unit};

/// Timer tokens: the kind in the top byte, a generation and a group id below it.
const CYCLE: u64 = 1 << 56;
const PERMIT_TIMEOUT: u64 = 2 << 56;
const BACKOFF_OVER: u64 = 3 << 56;

fn token(kind: u64, generation: u32, group: GroupId) -> u64 {
    kind | (u64::from(generation) << 24) | u64::from(group.0 & 0xFF_FFFF)
}

/// One entry of the scheduling queue: higher priority first; then, so that a gang's members
/// stay together (coscheduling's QueueSort), the arrival of the group's first member; then
/// the pod's own arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct QueueKey {
    priority: Reverse<i32>,
    group_seq: u64,
    seq: u64,
    pod: PodId,
    part: Part,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// Kubernetes: the Pod is the atomic unit of placement.
    Pod,
    /// The naive design: every container is placed on its own.
    Container,
}

/// What the scheduler knows of a PodGroup.
#[derive(Default)]
struct GangState {
    spec: Option<Arc<PodGroup>>,
    /// Members seen so far (PreFilter rejects the group until `minMember` exist).
    members: u32,
    /// Members bound so far.
    bound: u32,
    /// Members reserved and waiting at Permit, with their nodes.
    waiting: Vec<(PodId, NodeId)>,
    /// Bumped at every new wait and every rejection, so stale timers are ignored.
    generation: u32,
    /// Members set aside until the group's backoff is over.
    backing_off: Vec<QueueKey>,
    first_seq: Option<u64>,
}

/// A cycle in progress: the decision is taken on the cache at the start; it is carried out
/// when the decision time is over.
struct InFlight {
    key: QueueKey,
    outcome: Result<NodeId, String>,
}

pub struct Scheduler {
    name: String,
    granularity: Granularity,
    /// Coscheduling's Permit: PodGroup members wait for their gang.
    gang: bool,
    config: KubeConfig,
    framework: Framework,
    /// The node cache, by node id; `None` for nodes not seen yet.
    nodes: Vec<Option<NodeInfo>>,
    pods: Vec<Option<Arc<Pod>>>,
    groups: BTreeMap<GroupId, GangState>,
    /// Where each part runs or is assumed to run, as the cache knows it.
    placed: BTreeMap<(PodId, Part), NodeId>,
    /// Parts this scheduler bound and whose binding is not yet confirmed by a watch event.
    assumed: BTreeSet<(PodId, Part)>,
    active: BTreeSet<QueueKey>,
    /// Parts that fit nowhere, waiting for the cluster to change.
    unschedulable: Vec<QueueKey>,
    in_flight: Option<InFlight>,
    cycle_armed: bool,
    next_seq: u64,
}

impl Scheduler {
    pub fn new(name: &str, granularity: Granularity, gang: bool, config: KubeConfig) -> Scheduler {
        Scheduler {
            name: name.to_string(),
            granularity,
            gang,
            framework: Framework::new(config.scoring),
            config,
            nodes: Vec::new(),
            pods: Vec::new(),
            groups: BTreeMap::new(),
            placed: BTreeMap::new(),
            assumed: BTreeSet::new(),
            active: BTreeSet::new(),
            unschedulable: Vec::new(),
            in_flight: None,
            cycle_armed: false,
            next_seq: 0,
        }
    }

    fn pod(&self, pod: PodId) -> &Arc<Pod> {
        self.pods[pod.index()].as_ref().expect("the cache holds every pod it has heard of")
    }

    /// The gang a pod belongs to under this policy (only `gang` treats groups as gangs).
    fn gang_of(&self, pod: PodId) -> Option<GroupId> {
        if self.gang { self.pod(pod).group } else { None }
    }

    fn job_of(&self, pod: PodId) -> JobRef {
        self.pod(pod).group.map_or(JobRef::Pod(pod), JobRef::Group)
    }

    fn enqueue(&mut self, pod: PodId, part: Part) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let group_seq = match self.gang_of(pod) {
            Some(g) => *self.groups.entry(g).or_default().first_seq.get_or_insert(seq),
            None => seq,
        };
        let priority = Reverse(self.pod(pod).priority);
        self.active.insert(QueueKey { priority, group_seq, seq, pod, part });
    }

    /// A change that may let waiting parts fit (a node joined, resources were freed): move them
    /// back to the active queue, as kube-scheduler's `MoveAllToActiveOrBackoffQueue` does.
    fn cluster_changed(&mut self) {
        self.active.extend(self.unschedulable.drain(..));
    }

    /// Accounts a part on a node of the cache.
    fn place(&mut self, pod: PodId, part: Part, node: NodeId) {
        let spec = self.pod(pod).clone();
        if let Some(info) = self.nodes.get_mut(node.index()).and_then(Option::as_mut) {
            info.add(&Unit::new(&spec, part));
        }
        self.placed.insert((pod, part), node);
    }

    fn unplace(&mut self, pod: PodId, part: Part) {
        let Some(node) = self.placed.remove(&(pod, part)) else { return };
        let spec = self.pod(pod).clone();
        if let Some(info) = self.nodes.get_mut(node.index()).and_then(Option::as_mut) {
            info.remove(&Unit::new(&spec, part));
        }
    }

    fn arm(&mut self, ctx: &mut Context<'_>) {
        if !self.cycle_armed && self.in_flight.is_none() && !self.active.is_empty() {
            self.cycle_armed = true;
            ctx.act(Action::SetTimer { at: ctx.now(), token: CYCLE });
        }
    }

    /// PreFilter of coscheduling: a gang is not tried until `minMember` of its pods exist.
    fn gang_pre_filter(&self, pod: PodId) -> Result<(), String> {
        let Some(g) = self.gang_of(pod) else { return Ok(()) };
        let state = &self.groups[&g];
        let min = state.spec.as_ref().map_or(1, |s| s.min_member);
        if state.members < min {
            return Err(format!("pod group has {} of its minMember {min} pods", state.members));
        }
        Ok(())
    }

    /// Starts a scheduling cycle: the head of the queue is filtered and scored against the
    /// cache now; the scheduler stays busy for the decision time.
    fn start_cycle(&mut self, ctx: &mut Context<'_>) {
        let Some(key) = self.active.pop_first() else { return };
        let spec = self.pod(key.pod).clone();
        let outcome = self.gang_pre_filter(key.pod).and_then(|()| {
            let unit = Unit::new(&spec, key.part);
            self.framework.select(&unit, self.nodes.iter().flatten(), ctx.rng()).map_err(|d| d.to_string())
        });
        if let Ok(node) = outcome {
            // Reserve: the cache holds the part on its node from now on.
            self.place(key.pod, key.part, node);
        }
        let busy = self.config.decision.for_tasks(1);
        ctx.act(Action::Note(Note::Attempt { job: self.job_of(key.pod), tasks: 1, busy }));
        self.in_flight = Some(InFlight { key, outcome });
        ctx.act(Action::SetTimer { at: ctx.now() + busy, token: CYCLE });
    }

    /// Ends the cycle in flight: Permit and Bind, or report the pod unschedulable.
    fn finish_cycle(&mut self, ctx: &mut Context<'_>) {
        let Some(InFlight { key, outcome }) = self.in_flight.take() else { return };
        let job = self.job_of(key.pod);
        ctx.act(Action::Note(Note::AttemptDone { job, placed: u32::from(outcome.is_ok()), conflicts: 0 }));
        match outcome {
            Ok(node) => match self.gang_of(key.pod) {
                None => self.bind(key.pod, key.part, node, ctx),
                Some(g) => self.permit(g, key.pod, node, ctx),
            },
            Err(message) => {
                ctx.act(Action::ReportUnschedulable { pod: key.pod, part: key.part, message });
                self.unschedulable.push(key);
                if let Some(g) = self.gang_of(key.pod) {
                    // Coscheduling's PostFilter: a member that cannot fit releases the gang's
                    // waiting members rather than let them hold resources in vain — unless at
                    // most 10% of `minMember` is missing, when the members keep waiting for a
                    // later member to fit (and may time out at Permit instead).
                    let state = &self.groups[&g];
                    let min = state.spec.as_ref().map_or(1, |s| s.min_member);
                    let assigned = state.bound + state.waiting.len() as u32;
                    if min.saturating_sub(assigned) * 10 > min {
                        self.reject_gang(g, ctx);
                    }
                }
            }
        }
    }

    fn bind(&mut self, pod: PodId, part: Part, node: NodeId, ctx: &mut Context<'_>) {
        self.assumed.insert((pod, part));
        ctx.act(Action::Bind { pod, part, node });
    }

    /// Coscheduling's Permit: wait until `minMember` members are bound or waiting, then let
    /// them all through.
    fn permit(&mut self, g: GroupId, pod: PodId, node: NodeId, ctx: &mut Context<'_>) {
        let state = self.groups.get_mut(&g).expect("a gang member's group is known");
        let spec = state.spec.clone();
        let min = spec.as_ref().map_or(1, |s| s.min_member);
        state.waiting.push((pod, node));
        if state.bound + state.waiting.len() as u32 >= min {
            let ready = std::mem::take(&mut state.waiting);
            state.generation += 1;
            for (p, n) in ready {
                self.bind(p, Part::Whole, n, ctx);
            }
            return;
        }
        ctx.act(Action::Note(Note::Reserved { pod, part: Part::Whole, node }));
        if state.waiting.len() == 1 {
            state.generation += 1;
            let timeout = spec.and_then(|s| s.schedule_timeout).unwrap_or(self.config.permit_waiting_time);
            let at = ctx.now() + timeout;
            ctx.act(Action::SetTimer { at, token: token(PERMIT_TIMEOUT, state.generation, g) });
        }
    }

    /// Rejects every waiting member of a gang: reservations released, members backed off.
    fn reject_gang(&mut self, g: GroupId, ctx: &mut Context<'_>) {
        let state = self.groups.get_mut(&g).expect("known group");
        state.generation += 1;
        let waiting = std::mem::take(&mut state.waiting);
        let generation = state.generation;
        for &(pod, node) in &waiting {
            ctx.act(Action::Note(Note::Released { pod, part: Part::Whole, node }));
            self.unplace(pod, Part::Whole);
        }
        // The members wait out the group's backoff, then try again.
        let mut keys: Vec<QueueKey> = waiting
            .iter()
            .map(|&(pod, _)| {
                let seq = self.next_seq;
                self.next_seq += 1;
                let state = &self.groups[&g];
                QueueKey {
                    priority: Reverse(self.pod(pod).priority),
                    group_seq: state.first_seq.unwrap_or(seq),
                    seq,
                    pod,
                    part: Part::Whole,
                }
            })
            .collect();
        let state = self.groups.get_mut(&g).expect("known group");
        state.backing_off.append(&mut keys);
        if !state.backing_off.is_empty() {
            let at = ctx.now() + self.config.group_backoff;
            ctx.act(Action::SetTimer { at, token: token(BACKOFF_OVER, generation, g) });
        }
    }

    fn timer(&mut self, token: u64, ctx: &mut Context<'_>) {
        let kind = token & (0xFF << 56);
        let generation = ((token >> 24) & 0xFFFF_FFFF) as u32;
        let g = GroupId((token & 0xFF_FFFF) as u32);
        match kind {
            CYCLE => {
                if self.in_flight.is_some() {
                    self.finish_cycle(ctx);
                } else {
                    self.cycle_armed = false;
                    self.start_cycle(ctx);
                }
            }
            PERMIT_TIMEOUT => {
                let Some(state) = self.groups.get(&g) else { return };
                if state.generation == generation && !state.waiting.is_empty() {
                    ctx.act(Action::Note(Note::GroupTimedOut { group: g }));
                    self.reject_gang(g, ctx);
                }
            }
            BACKOFF_OVER => {
                if let Some(state) = self.groups.get_mut(&g) {
                    self.active.extend(state.backing_off.drain(..));
                }
            }
            _ => {}
        }
    }
}

impl Controller for Scheduler {
    fn name(&self) -> &str {
        &self.name
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        match event {
            Event::NodeAdded { node, spec } => {
                if self.nodes.len() <= node.index() {
                    self.nodes.resize(node.index() + 1, None);
                }
                self.nodes[node.index()] = Some(NodeInfo::new(*node, spec.clone()));
                self.cluster_changed();
            }
            Event::GroupAdded { group, spec } => {
                self.groups.entry(*group).or_default().spec = Some(spec.clone());
            }
            Event::PodAdded { pod, spec } => {
                if self.pods.len() <= pod.index() {
                    self.pods.resize(pod.index() + 1, None);
                }
                self.pods[pod.index()] = Some(spec.clone());
                if spec.node_name.is_some() {
                    return; // bound by name: not the scheduler's to place
                }
                if let Some(g) = self.gang_of(*pod) {
                    self.groups.entry(g).or_default().members += 1;
                    // A new member may complete a gang PreFilter turned away.
                    self.cluster_changed();
                }
                for part in spec.parts(self.granularity == Granularity::Container) {
                    self.enqueue(*pod, part);
                }
            }
            Event::Bound { pod, part, node } => {
                // Our own binding confirmed, or another's to account for — or another's that
                // won over our assumption (an earlier incarnation's, sent before a crash):
                // the pod is where the binding says, not where we assumed it.
                let ours = self.assumed.remove(&(*pod, *part)) && self.placed.get(&(*pod, *part)) == Some(node);
                if !ours {
                    self.unplace(*pod, *part);
                    self.place(*pod, *part, *node);
                    // Nothing left to schedule for it (a restart's list shows the pod, then its
                    // binding): out of the queues.
                    let key = (*pod, *part);
                    self.active.retain(|k| (k.pod, k.part) != key);
                    self.unschedulable.retain(|k| (k.pod, k.part) != key);
                }
                if let Some(g) = self.gang_of(*pod) {
                    self.groups.entry(g).or_default().bound += 1;
                }
            }
            Event::BindRefused { pod, part, reason, .. } => {
                // The cache was wrong: forget the assumption and try again — unless the part
                // is bound already (409): then its binding shows where, and it is done.
                if self.assumed.remove(&(*pod, *part)) {
                    self.unplace(*pod, *part);
                }
                if *reason != BindRefusal::AlreadyBound {
                    self.enqueue(*pod, *part);
                }
            }
            Event::Ended { pod, part, .. } => {
                self.unplace(*pod, *part);
                self.cluster_changed();
            }
            Event::NodeUpdated { node, spec } => {
                if let Some(info) = self.nodes.get_mut(node.index()).and_then(Option::as_mut) {
                    info.spec = spec.clone();
                }
                self.cluster_changed();
            }
            Event::Timer { token } => self.timer(*token, ctx),
            Event::Message { .. }
            | Event::Committed { .. }
            | Event::Start
            | Event::Synced
            | Event::NodeHeartbeat { .. } => {}
        }
        self.arm(ctx);
    }
}
