//! A first-fit scheduler written as a policy of one's own would be — a `Controller` over the
//! public API, entered in a [`Registry`] beside the built-ins — for `podlab bench`'s
//! `registry-first-fit`: what a policy in Rust costs through the registry. Its rule is the
//! exec protocol's Rust client's (`podlab_exec::first_fit`) and the Python tests' `FirstFit`:
//! each pending pod, in arrival order, to the first node (by id) with room for its CPU, memory
//! and a pod slot.

use std::collections::VecDeque;

use podlab_cluster::{Action, Context, Controller, Event, NodeId, Part, Pod, PodId};

use crate::policy::Registry;

/// The name the policy is entered under.
pub const FIRST_FIT: &str = "first-fit";

/// What a node has free, or what a pod asks for (one slot).
#[derive(Clone, Copy, Default)]
struct Room {
    cpu: i64,
    memory: i64,
    pods: i64,
}

impl Room {
    fn of_pod(pod: &Pod) -> Room {
        let asks = pod.effective_requests();
        Room { cpu: asks.cpu_milli as i64, memory: asks.memory_bytes as i64, pods: 1 }
    }

    fn holds(self, need: Room) -> bool {
        self.cpu >= need.cpu && self.memory >= need.memory && self.pods >= need.pods
    }
}

/// The controller. Its books are indexed by typed ids (pods and nodes are indices into the
/// scenario), as a policy that wants to be fast keeps them.
#[derive(Default)]
pub struct FirstFit {
    /// Free room per node (`None`: no such node yet).
    nodes: Vec<Option<Room>>,
    /// Each known pod's request, and where it is placed (ours at once, others' when heard).
    pods: Vec<(Room, Option<NodeId>)>,
    pending: VecDeque<PodId>,
}

impl FirstFit {
    fn pod(&mut self, pod: PodId) -> &mut (Room, Option<NodeId>) {
        let i = pod.index();
        if self.pods.len() <= i {
            self.pods.resize(i + 1, (Room::default(), None));
        }
        &mut self.pods[i]
    }

    /// Books `pod` on `node` (`sign` 1) or takes it off (−1).
    fn charge(&mut self, pod: PodId, node: NodeId, sign: i64) {
        let need = self.pod(pod).0;
        if let Some(Some(free)) = self.nodes.get_mut(node.index()) {
            free.cpu -= sign * need.cpu;
            free.memory -= sign * need.memory;
            free.pods -= sign;
        }
    }

    fn place(&mut self, pod: PodId, node: NodeId) {
        self.pod(pod).1 = Some(node);
        self.charge(pod, node, 1);
    }

    /// Takes `pod` off the node it was booked on, if any.
    fn unplace(&mut self, pod: PodId) {
        if let Some(node) = self.pod(pod).1.take() {
            self.charge(pod, node, -1);
        }
    }

    /// Learns from one event; whether it may have made a pod placeable.
    fn hear(&mut self, event: &Event) -> bool {
        match event {
            Event::NodeAdded { node, spec } | Event::NodeUpdated { node, spec } => {
                let i = node.index();
                if self.nodes.len() <= i {
                    self.nodes.resize(i + 1, None);
                }
                // An update changes taints, never capacity: the books carry over.
                if self.nodes[i].is_none() {
                    let pods = spec.max_pods as i64;
                    let free = &spec.allocatable;
                    self.nodes[i] = Some(Room { cpu: free.cpu_milli as i64, memory: free.memory_bytes as i64, pods });
                }
            }
            Event::PodAdded { pod, spec } => {
                self.pod(*pod).0 = Room::of_pod(spec);
                match spec.node_name() {
                    Some(node) => self.place(*pod, node),
                    None => self.pending.push_back(*pod),
                }
            }
            // Another's binding (ours was booked when we made it).
            Event::Bound { pod, node, .. } if self.pod(*pod).1 != Some(*node) => {
                self.unplace(*pod);
                self.place(*pod, *node);
                return false;
            }
            Event::BindRefused(refused) => {
                self.unplace(refused.pod);
                self.pending.push_back(refused.pod);
            }
            Event::Ended { pod, .. } => self.unplace(*pod),
            Event::PodDeleted { pod } => self.pending.retain(|p| p != pod),
            _ => return false,
        }
        true
    }

    fn fit(&self, need: Room) -> Option<NodeId> {
        let at = self.nodes.iter().position(|n| n.is_some_and(|free| free.holds(need)))?;
        Some(NodeId(at as u32))
    }

    /// Binds every pending pod a node has room for, in arrival order.
    fn schedule(&mut self, ctx: &mut Context<'_>) {
        for _ in 0..self.pending.len() {
            let pod = self.pending.pop_front().expect("counted");
            let need = self.pod(pod).0;
            match self.fit(need) {
                Some(node) => {
                    self.place(pod, node);
                    ctx.act(Action::Bind { pod, part: Part::Whole, node });
                }
                None => self.pending.push_back(pod),
            }
        }
    }
}

impl Controller for FirstFit {
    fn name(&self) -> &str {
        FIRST_FIT
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        if self.hear(event) && !self.pending.is_empty() {
            self.schedule(ctx);
        }
    }
}

/// The built-ins and `first-fit`, entered as a downstream crate enters its policy.
pub fn registry_with_first_fit() -> Registry {
    let mut registry = Registry::builtin();
    registry
        .register_fn(FIRST_FIT, "each pod to the first node with room (podlab bench's own)", |_| {
            vec![Box::new(FirstFit::default())]
        })
        .expect("first-fit is no built-in's name");
    registry
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pod of a run with room for all is bound, first fit packs the lowest nodes, and
    /// the run is a function of its inputs.
    #[test]
    fn first_fit_places_every_pod_and_packs_low() {
        let registry = registry_with_first_fit();
        let scenario = crate::load_str("ff.yaml", &super::super::scale_scenario_text(10, 100)).unwrap();
        let run = |keep| {
            let options = crate::RunOptions { check_invariants: true, keep_records: keep, ..Default::default() };
            crate::run_policy_in(&registry, &scenario, FIRST_FIT, 1, options, &mut ()).unwrap()
        };
        let (a, b) = (run(true), run(false));
        assert_eq!(a.summary.pods.scheduled, 100);
        assert!(a.sim.violations.is_empty());
        assert_eq!(a.sim.digest, b.sim.digest);
        // One-CPU pods on 32-CPU nodes, a minute each, 100 of them in 100 ms: nodes 0 to 3.
        let nodes: std::collections::BTreeSet<_> = a
            .sim
            .records
            .iter()
            .filter_map(|s| match s.record {
                podlab_cluster::Record::Bound { node, .. } => Some(node),
                _ => None,
            })
            .collect();
        assert_eq!(nodes.into_iter().collect::<Vec<_>>(), [NodeId(0), NodeId(1), NodeId(2), NodeId(3)]);
    }
}
