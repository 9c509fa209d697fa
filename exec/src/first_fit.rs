//! A first-fit policy on the policy's side of the protocol: each pending pod, in arrival order,
//! goes to the first node (by id) with room for its CPU, memory and a pod slot. Served by
//! `podlab-exec-first-fit` (the tests' Rust client) and by `podlab bench` for its exec figure,
//! so both measure the same code.

use std::collections::{BTreeMap, VecDeque};

use crate::client::{InEvent, OutAction, Policy, Resources};

#[derive(Clone, Copy, Default)]
struct Room {
    cpu: i64,
    memory: i64,
    pods: i64,
}

/// The policy: what it knows of the cluster, from the events it was sent.
#[derive(Default)]
pub struct FirstFit {
    /// Free room per node id (`None`: not a node).
    nodes: Vec<Option<Room>>,
    /// Each known pod's request.
    requests: BTreeMap<u32, Room>,
    /// Where each placed pod is (ours assumed at once, others' when their binding is heard).
    placed: BTreeMap<u32, u32>,
    pending: VecDeque<u32>,
}

fn room(r: &Resources, pods: i64) -> Room {
    let get = |k: &str| r.get(k).copied().unwrap_or(0) as i64;
    Room { cpu: get("cpu"), memory: get("memory"), pods }
}

impl FirstFit {
    fn charge(&mut self, pod: u32, node: u32, sign: i64) {
        let need = self.requests.get(&pod).copied().unwrap_or_default();
        if let Some(Some(free)) = self.nodes.get_mut(node as usize) {
            free.cpu -= sign * need.cpu;
            free.memory -= sign * need.memory;
            free.pods -= sign;
        }
    }

    fn hear(&mut self, event: InEvent) {
        match event {
            InEvent::NodeAdded { node, allocatable, max_pods } => {
                let i = node as usize;
                if self.nodes.len() <= i {
                    self.nodes.resize(i + 1, None);
                }
                self.nodes[i] = Some(room(&allocatable, max_pods as i64));
            }
            InEvent::PodAdded { pod, requests, node } => {
                self.requests.insert(pod, room(&requests, 1));
                if node.is_none() {
                    self.pending.push_back(pod);
                }
            }
            // Another's binding (ours was charged when we made it).
            InEvent::Bound { pod, node, .. } if self.placed.get(&pod) != Some(&node) => {
                self.placed.insert(pod, node);
                self.charge(pod, node, 1);
            }
            InEvent::BindRefused { pod, node, .. } => {
                if self.placed.remove(&pod).is_some() {
                    self.charge(pod, node, -1);
                }
                self.pending.push_back(pod);
            }
            InEvent::Ended { pod, node, .. } => {
                if self.placed.remove(&pod).is_some() {
                    self.charge(pod, node, -1);
                }
                self.requests.remove(&pod);
            }
            InEvent::PodDeleted { pod } => self.pending.retain(|&p| p != pod),
            _ => {}
        }
    }

    fn fit(&self, need: Room) -> Option<u32> {
        self.nodes
            .iter()
            .position(|n| n.is_some_and(|free| free.cpu >= need.cpu && free.memory >= need.memory && free.pods >= 1))
            .map(|i| i as u32)
    }
}

impl Policy for FirstFit {
    fn decide(&mut self, _now: u64, events: Vec<InEvent>, out: &mut Vec<OutAction>) -> bool {
        for event in events {
            self.hear(event);
        }
        let mut waiting = VecDeque::new();
        while let Some(pod) = self.pending.pop_front() {
            let need = self.requests.get(&pod).copied().unwrap_or_default();
            match self.fit(need) {
                Some(node) => {
                    self.placed.insert(pod, node);
                    self.charge(pod, node, 1);
                    out.push(OutAction::Bind { pod, node });
                }
                None => waiting.push_back(pod),
            }
        }
        self.pending = waiting;
        self.pending.is_empty()
    }
}
