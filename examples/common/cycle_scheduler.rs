//! A small pod scheduler built on the kube framework's public pieces, shared by the examples:
//! it keeps a [`Snapshot`] of the cluster from the watch events it hears, runs
//! [`cycle::run`] of its [`Profile`] for each pending pod, in arrival order, and binds the
//! pod to the first of the best nodes. No queue, backoff or preemption: a pod no node can take
//! waits until something ends.

use std::collections::BTreeMap;
use std::sync::Arc;

use podlab::cluster::{Action, Context, Controller, Event, NodeId, Part, Pod, PodId};
use podlab::schedulers::kube::{NodeState, PlacedPod, Profile, Snapshot, cycle};

/// A controller placing whole pods with `profile`'s filters and scores.
pub struct CycleScheduler {
    name: String,
    profile: Profile,
    snapshot: Snapshot,
    /// Pods waiting for a node, in arrival order.
    pending: Vec<(PodId, Arc<Pod>)>,
    /// Where each placed pod is, as this scheduler believes.
    placed: BTreeMap<PodId, NodeId>,
    /// Counts placements, to order pods' starts for the plugins that read them.
    starts: u64,
}

impl CycleScheduler {
    pub fn new(name: &str, profile: Profile) -> CycleScheduler {
        let (snapshot, pending, placed) = (Snapshot::default(), Vec::new(), BTreeMap::new());
        CycleScheduler { name: name.into(), profile, snapshot, pending, placed, starts: 0 }
    }

    fn node_mut(&mut self, node: NodeId) -> Option<&mut NodeState> {
        self.snapshot.nodes.iter_mut().find(|n| n.id == node)
    }

    /// Books `pod` on `node` in the snapshot.
    fn place(&mut self, id: PodId, pod: Arc<Pod>, node: NodeId) {
        self.starts += 1;
        let placed = PlacedPod { pod, id: Some(id), start: self.starts };
        if let Some(state) = self.node_mut(node) {
            state.add(placed);
            self.placed.insert(id, node);
        }
    }

    /// Takes `pod` off its node; gives back what was placed.
    fn unplace(&mut self, id: PodId) -> Option<PlacedPod> {
        let node = self.placed.remove(&id)?;
        self.node_mut(node)?.remove_id(id)
    }

    /// Runs a cycle for every pending pod, binding those a node can take.
    fn schedule(&mut self, ctx: &mut Context<'_>) {
        let mut waiting = Vec::new();
        for (id, pod) in std::mem::take(&mut self.pending) {
            let result = cycle::run(&mut self.profile, &pod, &self.snapshot);
            match result.top.first() {
                Some(&node) => {
                    ctx.act(Action::Bind { pod: id, part: Part::Whole, node });
                    self.place(id, pod, node);
                }
                None => waiting.push((id, pod)),
            }
        }
        self.pending = waiting;
    }
}

impl Controller for CycleScheduler {
    fn name(&self) -> &str {
        &self.name
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        match event {
            Event::NodeAdded { node, spec } => {
                self.snapshot.nodes.push(NodeState::new(*node, spec.clone()));
                self.snapshot.nodes.sort_by_key(|n| n.id);
            }
            Event::NodeUpdated { node, spec } => {
                if let Some(state) = self.node_mut(*node) {
                    state.spec = spec.clone();
                }
            }
            Event::PodAdded { pod, spec } if spec.node_name().is_none() => self.pending.push((*pod, spec.clone())),
            Event::PodAdded { pod, spec } => {
                if let Some(node) = spec.node_name() {
                    self.place(*pod, spec.clone(), node);
                }
            }
            Event::Bound { pod, node, .. } if !self.placed.contains_key(pod) => {
                // Bound by someone else: only pods still pending are known in full.
                if let Some(i) = self.pending.iter().position(|(id, _)| id == pod) {
                    let (id, spec) = self.pending.remove(i);
                    self.place(id, spec, *node);
                }
            }
            Event::Ended { pod, .. } => {
                self.unplace(*pod);
            }
            Event::BindRefused(refused) => {
                if let Some(placed) = self.unplace(refused.pod) {
                    self.pending.push((refused.pod, placed.pod));
                }
            }
            Event::PodDeleted { pod } => self.pending.retain(|(id, _)| id != pod),
            _ => return,
        }
        self.schedule(ctx);
    }
}
