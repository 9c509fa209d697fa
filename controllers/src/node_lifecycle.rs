//! The node lifecycle controller: a node whose kubelet has not reported for the grace period
//! (40 s by default) becomes NotReady and gets the `node.kubernetes.io/unreachable` NoExecute
//! taint, so schedulers stop placing there; its pods are evicted once their toleration of that
//! taint runs out (300 s by default, Kubernetes' DefaultTolerationSeconds), at most one node's
//! pods per 10 s (the default eviction rate of 0.1 nodes per second). A node that reports again
//! is Ready and untainted.

use std::collections::{BTreeMap, BTreeSet};

use podlab_cluster::objects::{Taint, TaintEffect};
use podlab_cluster::{Action, Context, Controller, Event, NodeId, Note, PodId, SimDuration, SimTime};

/// How often the controller checks its nodes (`node-monitor-period`).
const MONITOR_PERIOD: SimDuration = SimDuration::from_secs(5);
/// The toleration every pod gets for `unreachable:NoExecute` unless it sets its own.
pub const DEFAULT_TOLERATION: SimDuration = SimDuration::from_secs(300);
/// At most one node's pods are evicted per this interval.
const EVICTION_INTERVAL: SimDuration = SimDuration::from_secs(10);
const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
const MONITOR: u64 = 1;

#[derive(Default)]
struct NodeState {
    last_heartbeat: SimTime,
    ready: bool,
    /// When it became NotReady.
    not_ready_since: Option<SimTime>,
    pods: BTreeSet<PodId>,
}

pub struct NodeLifecycle {
    grace: SimDuration,
    nodes: BTreeMap<NodeId, NodeState>,
    /// Per pod: how long it tolerates an unreachable node.
    tolerations: BTreeMap<PodId, SimDuration>,
    last_eviction: Option<SimTime>,
}

impl NodeLifecycle {
    pub fn new(grace: SimDuration) -> NodeLifecycle {
        NodeLifecycle { grace, nodes: BTreeMap::new(), tolerations: BTreeMap::new(), last_eviction: None }
    }

    fn monitor(&mut self, ctx: &mut Context<'_>) {
        let now = ctx.now();
        for (&node, state) in self.nodes.iter_mut() {
            if state.ready && now.since(state.last_heartbeat) > self.grace {
                state.ready = false;
                state.not_ready_since = Some(now);
                ctx.act(Action::Note(Note::NodeNotReady { node }));
                let taint = Taint { key: UNREACHABLE.into(), value: String::new(), effect: TaintEffect::NoExecute };
                ctx.act(Action::TaintNode { node, taint });
            }
        }
        // Evictions, rate-limited: the first NotReady node whose pods' tolerations ran out.
        if self.last_eviction.is_some_and(|t| now.since(t) < EVICTION_INTERVAL) {
            return;
        }
        let due = self.nodes.iter().find_map(|(&node, state)| {
            let since = state.not_ready_since?;
            let pods: Vec<PodId> = state
                .pods
                .iter()
                .copied()
                .filter(|p| now.since(since) >= self.tolerations.get(p).copied().unwrap_or(DEFAULT_TOLERATION))
                .collect();
            (!pods.is_empty()).then_some((node, pods))
        });
        if let Some((node, pods)) = due {
            self.last_eviction = Some(now);
            for pod in pods {
                self.nodes.get_mut(&node).expect("known").pods.remove(&pod);
                ctx.act(Action::Note(Note::Evicted { pod }));
                ctx.act(Action::Evict { pod });
            }
        }
    }
}

impl Controller for NodeLifecycle {
    fn name(&self) -> &str {
        "node-lifecycle-controller"
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        match event {
            Event::Start => ctx.act(Action::SetTimer { at: ctx.now() + MONITOR_PERIOD, token: MONITOR }),
            Event::NodeAdded { node, .. } => {
                self.nodes.insert(*node, NodeState { last_heartbeat: ctx.now(), ready: true, ..NodeState::default() });
            }
            Event::NodeHeartbeat { node } => {
                let Some(state) = self.nodes.get_mut(node) else { return };
                state.last_heartbeat = ctx.now();
                if !state.ready {
                    state.ready = true;
                    state.not_ready_since = None;
                    ctx.act(Action::Note(Note::NodeReady { node: *node }));
                    ctx.act(Action::UntaintNode { node: *node, key: UNREACHABLE.into() });
                }
            }
            Event::PodAdded { pod, spec } => {
                let unreachable =
                    Taint { key: UNREACHABLE.into(), value: String::new(), effect: TaintEffect::NoExecute };
                let own = spec.tolerations.iter().filter(|t| t.tolerates(&unreachable)).map(|t| t.toleration_seconds);
                let seconds =
                    own.max().map_or(DEFAULT_TOLERATION, |s| s.map_or(SimDuration(u64::MAX), SimDuration::from_secs));
                self.tolerations.insert(*pod, seconds);
            }
            Event::Bound { pod, node, .. } => {
                if let Some(state) = self.nodes.get_mut(node) {
                    state.pods.insert(*pod);
                }
            }
            Event::Ended { pod, node, .. } => {
                if let Some(state) = self.nodes.get_mut(node) {
                    state.pods.remove(pod);
                }
            }
            Event::Timer { token: MONITOR } => {
                self.monitor(ctx);
                ctx.act(Action::SetTimer { at: ctx.now() + MONITOR_PERIOD, token: MONITOR });
            }
            _ => {}
        }
    }
}
