//! The scheduler's node cache, kept twice: as `NodeInfo`s (the spec and what is placed there,
//! for the plugins and for `explain`) and as packed columns of free resources and scoring sums,
//! so that the common decision — a pod with no affinity, extended resources or taints to check,
//! against untainted schedulable nodes — is a tight loop over a few arrays. Any other pod or
//! node takes the plugins' own code, so both paths give the same verdicts and scores.
//!
//! Selection follows kube-scheduler: nodes are visited from a rotating start index and the
//! search stops once `numFeasibleNodesToFind` feasible nodes are found (its
//! `percentageOfNodesToScore`, adaptive by default); the best score wins and ties are broken
//! uniformly at random with one draw of the scheduler's stream (kube's reservoir sampling draws
//! once per tie: same distribution, fewer draws).

use podlab_cluster::rng::below;
use podlab_cluster::{Node, NodeId};
use rand_core::Rng;
use std::sync::Arc;

use crate::framework::{Diagnosis, Framework, NodeInfo, Reason, Unit, score_of};

/// kube-scheduler's `minFeasibleNodesToFind` and `minFeasibleNodesPercentageToFind`.
const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE: usize = 5;

/// Node kinds in the packed table.
const ABSENT: u8 = 0;
/// Schedulable, untainted, no extended resources: only CPU, memory and pod count can refuse a
/// plain unit here.
const PLAIN: u8 = 1;
/// Anything else: the filter plugins decide.
const SPECIAL: u8 = 2;

/// The fast path's own reasons, counted without building strings.
const TOO_MANY_PODS: usize = 0;
const SHORT_CPU: usize = 1;
const SHORT_MEMORY: usize = 2;

#[derive(Clone, Debug, Default)]
pub struct NodeTable {
    infos: Vec<Option<NodeInfo>>,
    kind: Vec<u8>,
    /// Allocatable minus requested (negative when a stale cache over-counts).
    free_cpu_milli: Vec<i64>,
    free_memory_bytes: Vec<i64>,
    free_pods: Vec<i64>,
    alloc_cpu_milli: Vec<u64>,
    alloc_memory_bytes: Vec<u64>,
    /// Requests with kube's non-zero defaults, for scoring only.
    score_cpu_milli: Vec<u64>,
    score_memory_bytes: Vec<u64>,
    present: usize,
    /// Bumped by every change to any node, so an unchanged cache can be recognised.
    generation: u64,
    /// Where the next search starts (kube's `nextStartNodeIndex`, as a node id).
    next_start: usize,
    /// Scratch for one decision: the feasible nodes found and their scores.
    feasible: Vec<(u32, u8)>,
}

impl NodeTable {
    pub fn get(&self, node: NodeId) -> Option<&NodeInfo> {
        self.infos.get(node.index()).and_then(Option::as_ref)
    }

    pub fn iter(&self) -> impl Iterator<Item = &NodeInfo> {
        self.infos.iter().flatten()
    }

    /// How many nodes the cache holds.
    pub fn len(&self) -> usize {
        self.present
    }

    pub fn is_empty(&self) -> bool {
        self.present == 0
    }

    /// Changes whenever any node's spec or load changes.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// A node joined, or its spec changed (taints, schedulability); what runs there stays.
    pub fn upsert(&mut self, node: NodeId, spec: Arc<Node>) {
        let i = node.index();
        if self.infos.len() <= i {
            let n = i + 1;
            self.infos.resize(n, None);
            self.kind.resize(n, ABSENT);
            for column in [&mut self.free_cpu_milli, &mut self.free_memory_bytes, &mut self.free_pods] {
                column.resize(n, 0);
            }
            for column in [
                &mut self.alloc_cpu_milli,
                &mut self.alloc_memory_bytes,
                &mut self.score_cpu_milli,
                &mut self.score_memory_bytes,
            ] {
                column.resize(n, 0);
            }
        }
        match &mut self.infos[i] {
            Some(info) => info.spec = spec,
            slot @ None => {
                *slot = Some(NodeInfo::new(node, spec));
                self.present += 1;
            }
        }
        self.refresh(i);
    }

    /// Accounts a unit on a node (bound, or assumed bound).
    pub fn add(&mut self, node: NodeId, unit: &Unit<'_>) {
        if let Some(info) = self.infos.get_mut(node.index()).and_then(Option::as_mut) {
            info.add(unit);
            self.refresh(node.index());
        }
    }

    pub fn remove(&mut self, node: NodeId, unit: &Unit<'_>) {
        if let Some(info) = self.infos.get_mut(node.index()).and_then(Option::as_mut) {
            info.remove(unit);
            self.refresh(node.index());
        }
    }

    /// Recomputes node `i`'s columns from its `NodeInfo`.
    fn refresh(&mut self, i: usize) {
        self.generation += 1;
        let Some(info) = &self.infos[i] else { return };
        let spec = &info.spec;
        let alloc = &spec.allocatable;
        let plain = !spec.unschedulable && spec.taints.is_empty() && alloc.extended.is_empty();
        self.kind[i] = if plain { PLAIN } else { SPECIAL };
        let free = |cap: u64, used: u64| (cap as i64).saturating_sub(used as i64);
        self.free_cpu_milli[i] = free(alloc.cpu_milli, info.requested.cpu_milli);
        self.free_memory_bytes[i] = free(alloc.memory_bytes, info.requested.memory_bytes);
        self.free_pods[i] = free(spec.max_pods, info.parts);
        self.alloc_cpu_milli[i] = alloc.cpu_milli;
        self.alloc_memory_bytes[i] = alloc.memory_bytes;
        self.score_cpu_milli[i] = info.score_cpu_milli;
        self.score_memory_bytes[i] = info.score_memory_bytes;
    }

    /// kube-scheduler's `numFeasibleNodesToFind`: every node below 100 nodes; else
    /// `percentage` of them (0: adaptive, 50% less 1% per 125 nodes, at least 5%), at least 100.
    pub fn feasible_to_find(&self, percentage: u32) -> usize {
        let all = self.present;
        if all < MIN_FEASIBLE_NODES_TO_FIND {
            return all;
        }
        let percentage = match percentage as usize {
            0 => 50usize.saturating_sub(all / 125).max(MIN_FEASIBLE_NODES_PERCENTAGE),
            p => p.min(100),
        };
        (all * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
    }

    /// Filter nodes from the rotating start until `percentage` of them (see
    /// [`NodeTable::feasible_to_find`]) are feasible, score those, and pick the best.
    pub fn select(
        &mut self,
        framework: &Framework,
        unit: &Unit<'_>,
        percentage: u32,
        rng: &mut impl Rng,
    ) -> Result<NodeId, Diagnosis> {
        let slots = self.infos.len();
        let to_find = self.feasible_to_find(percentage);
        let plain_unit = unit.is_plain();
        let want_cpu = unit.requests.cpu_milli as i64;
        let want_memory = unit.requests.memory_bytes as i64;
        let mut fast_reasons = [0usize; 3];
        let mut diagnosis = Diagnosis::default();
        let mut feasible = std::mem::take(&mut self.feasible);
        feasible.clear();
        let start = if self.next_start < slots { self.next_start } else { 0 };
        let mut visited = 0usize;
        let mut last_visited = None;
        let mut best = 0u8;
        // Visit slots start..slots, then 0..start; stop once enough nodes are feasible.
        'search: for range in [start..slots, 0..start] {
            for i in range {
                let kind = self.kind[i];
                if kind == ABSENT {
                    continue;
                }
                if feasible.len() == to_find {
                    break 'search;
                }
                visited += 1;
                last_visited = Some(i);
                let score = if kind == PLAIN && plain_unit {
                    let reason = if self.free_pods[i] < 1 {
                        TOO_MANY_PODS
                    } else if self.free_cpu_milli[i] < want_cpu {
                        SHORT_CPU
                    } else if self.free_memory_bytes[i] < want_memory {
                        SHORT_MEMORY
                    } else {
                        usize::MAX
                    };
                    if reason != usize::MAX {
                        fast_reasons[reason] += 1;
                        continue;
                    }
                    score_of(
                        framework.scoring,
                        self.score_cpu_milli[i] + unit.score_cpu_milli,
                        self.alloc_cpu_milli[i],
                        self.score_memory_bytes[i] + unit.score_memory_bytes,
                        self.alloc_memory_bytes[i],
                    )
                } else {
                    let info = self.infos[i].as_ref().expect("a present node has its info");
                    if let Err(reason) = framework.filter(unit, info) {
                        diagnosis.count(&reason);
                        continue;
                    }
                    crate::framework::resource_score(framework.scoring, unit, info)
                };
                let score = score as u8;
                best = best.max(score);
                feasible.push((i as u32, score));
            }
        }
        // kube moves the start past every node it processed, so the next pod begins elsewhere;
        // when it processed them all, the start stays.
        if let Some(i) = last_visited.filter(|_| visited < self.present) {
            self.next_start = (i + 1) % slots;
        }
        let ties = feasible.iter().filter(|&&(_, s)| s == best).count() as u64;
        let chosen = match ties {
            0 => None,
            1 => feasible.iter().find(|&&(_, s)| s == best),
            n => {
                let k = below(rng, n) as usize;
                feasible.iter().filter(|&&(_, s)| s == best).nth(k)
            }
        }
        .map(|&(i, _)| NodeId(i));
        self.feasible = feasible;
        chosen.ok_or_else(|| {
            diagnosis.nodes = visited;
            let names =
                [Reason::TooManyPods, Reason::Insufficient("cpu".into()), Reason::Insufficient("memory".into())];
            for (reason, count) in names.iter().zip(fast_reasons) {
                if count > 0 {
                    *diagnosis.reasons.entry(reason.to_string()).or_insert(0) += count;
                    diagnosis.plugins.insert(reason.plugin());
                }
            }
            diagnosis
        })
    }
}
