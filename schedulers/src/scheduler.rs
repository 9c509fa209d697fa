//! The scheduler as a Controller: an informer cache of nodes and pods fed by watch events, a
//! queue ordered by priority then arrival, and one scheduling cycle at a time. The same code is
//! the `kubernetes` policy (a Pod is the unit) and the naive `per-container` policy (each
//! container is placed on its own, with the same filters and scores).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use podlab_cluster::scenario::ScoringStrategy;
use podlab_cluster::{Action, Context, Controller, Event, NodeId, Part, Pod, PodId};

use crate::framework::{Framework, NodeInfo, Unit};

/// The timer token of the scheduling cycle.
const CYCLE: u64 = 1;

/// One entry of the scheduling queue: higher priority first, then first come, first served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct QueueKey {
    priority: Reverse<i32>,
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

pub struct Scheduler {
    name: String,
    granularity: Granularity,
    framework: Framework,
    /// The node cache, by node id; `None` for nodes not seen yet.
    nodes: Vec<Option<NodeInfo>>,
    pods: Vec<Option<Arc<Pod>>>,
    /// Where each part runs or is assumed to run, as the cache knows it.
    placed: BTreeMap<(PodId, Part), NodeId>,
    /// Parts this scheduler bound and whose binding is not yet confirmed by a watch event.
    assumed: BTreeSet<(PodId, Part)>,
    active: BTreeSet<QueueKey>,
    /// Parts that fit nowhere, waiting for the cluster to change.
    unschedulable: Vec<QueueKey>,
    cycle_armed: bool,
    next_seq: u64,
}

impl Scheduler {
    pub fn new(name: &str, granularity: Granularity, scoring: ScoringStrategy) -> Scheduler {
        Scheduler {
            name: name.to_string(),
            granularity,
            framework: Framework::new(scoring),
            nodes: Vec::new(),
            pods: Vec::new(),
            placed: BTreeMap::new(),
            assumed: BTreeSet::new(),
            active: BTreeSet::new(),
            unschedulable: Vec::new(),
            cycle_armed: false,
            next_seq: 0,
        }
    }

    fn pod(&self, pod: PodId) -> &Arc<Pod> {
        self.pods[pod.index()].as_ref().expect("the cache holds every pod it has heard of")
    }

    fn enqueue(&mut self, pod: PodId, part: Part) {
        let priority = Reverse(self.pod(pod).priority);
        self.active.insert(QueueKey { priority, seq: self.next_seq, pod, part });
        self.next_seq += 1;
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
        if !self.cycle_armed && !self.active.is_empty() {
            self.cycle_armed = true;
            ctx.act(Action::SetTimer { at: ctx.now(), token: CYCLE });
        }
    }

    /// One scheduling cycle: the head of the queue, filtered and scored against the cache,
    /// reserved (assumed) on the chosen node and bound; or reported unschedulable.
    fn cycle(&mut self, ctx: &mut Context<'_>) {
        let Some(key) = self.active.pop_first() else { return };
        let spec = self.pod(key.pod).clone();
        let unit = Unit::new(&spec, key.part);
        match self.framework.select(&unit, self.nodes.iter().flatten(), ctx.rng()) {
            Ok(node) => {
                self.place(key.pod, key.part, node);
                self.assumed.insert((key.pod, key.part));
                ctx.act(Action::Bind { pod: key.pod, part: key.part, node });
            }
            Err(diagnosis) => {
                ctx.act(Action::ReportUnschedulable { pod: key.pod, part: key.part, message: diagnosis.to_string() });
                self.unschedulable.push(key);
            }
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
            Event::PodAdded { pod, spec } => {
                if self.pods.len() <= pod.index() {
                    self.pods.resize(pod.index() + 1, None);
                }
                self.pods[pod.index()] = Some(spec.clone());
                for part in spec.parts(self.granularity == Granularity::Container) {
                    self.enqueue(*pod, part);
                }
            }
            Event::Bound { pod, part, node } => {
                // Our own binding confirmed, or another scheduler's to account for.
                if !self.assumed.remove(&(*pod, *part)) {
                    self.place(*pod, *part, *node);
                }
            }
            Event::BindRefused { pod, part, .. } => {
                // The cache was wrong: forget the assumption and try again.
                self.assumed.remove(&(*pod, *part));
                self.unplace(*pod, *part);
                self.enqueue(*pod, *part);
            }
            Event::Ended { pod, part, .. } => {
                self.unplace(*pod, *part);
                self.cluster_changed();
            }
            Event::Timer { token: CYCLE } => {
                self.cycle_armed = false;
                self.cycle(ctx);
            }
            Event::GroupAdded { .. } | Event::Timer { .. } => {}
        }
        self.arm(ctx);
    }
}
