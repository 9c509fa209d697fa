//! The scheduler's node cache, kept twice: as `NodeInfo`s (the spec and what is placed there,
//! for the plugins and for `explain`) and packed (free resources and scoring sums, a record a
//! node, and a byte a node of verdicts), so that the common decision — a pod with no affinity,
//! extended resources or taints to check, against untainted schedulable nodes — is a tight loop
//! over bytes. Any other pod or
//! node takes the plugins' own code, so both paths give the same verdicts and scores.
//!
//! Selection follows kube-scheduler: nodes are visited from a rotating start index and the
//! search stops once `numFeasibleNodesToFind` feasible nodes are found (its
//! `percentageOfNodesToScore`, adaptive by default); the best score wins and ties are broken
//! uniformly at random with one draw of the scheduler's stream (kube's reservoir sampling draws
//! once per tie: same distribution, fewer draws).

use podlab_cluster::rng::below;
use podlab_cluster::scenario::ScoringStrategy;
use podlab_cluster::{Node, NodeId};
use rand_core::Rng;
use std::cmp::Ordering;
use std::sync::Arc;

use crate::framework::{Diagnosis, Framework, NodeInfo, Reason, Unit, magic, resource_part};

/// Node kinds in the packed table.
const ABSENT: u8 = 0;
/// Schedulable, untainted, no extended resources (and capacities below 2^56): only CPU, memory
/// and pod count can refuse a plain unit here.
const PLAIN: u8 = 1;
/// Anything else: the filter plugins decide.
const SPECIAL: u8 = 2;

/// A visited node some filter refused (scores are 0 to 200, or a GPU plugin's below this).
const INFEASIBLE: u64 = u64::MAX;

/// The highest score a verdict holds: NodeResourcesFit's 100, plus BalancedAllocation's 100
/// folded in for the kube profile.
const MAX_VERDICT_SCORE: u8 = 200;

/// A node's verdict for a plain unit, one byte: a score 0 to `MAX_VERDICT_SCORE`, or one of
/// these.
const V_TOO_MANY_PODS: u8 = 240;
const V_SHORT_CPU: u8 = 241;
const V_SHORT_MEMORY: u8 = 242;
/// The plugins decide (a node that is not `PLAIN`, or a unit that is not plain).
const V_SLOW: u8 = 250;
const V_ABSENT: u8 = 255;

/// What a plain unit's verdicts depend on: its requests, its scoring sums and the strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub want_cpu: i64,
    pub want_memory: i64,
    pub score_cpu: u64,
    pub score_memory: u64,
    pub strategy: ScoringStrategy,
    /// `None`: the 4-filter framework's verdict. `Some`: the kube profile's (see [`Kube`]).
    pub kube: Option<Kube>,
}

/// How the kube profile's verdict differs on a plain node, as upstream's plugins compute it:
/// NodeResourcesFit checks a resource only if the pod requests it (an over-committed node still
/// takes a pod that asks for no CPU), and BalancedAllocation's score is added to the fit score
/// unless the pod is best-effort (upstream then skips it). TaintToleration (300 on every node
/// without PreferNoSchedule taints), DynamicResources and ImageLocality (0) are the same on
/// every node and left out; the other plugins skip a plain pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kube {
    /// The pod's CPU and memory requests as they are (BalancedAllocation's), `None` for a
    /// best-effort pod.
    pub balanced: Option<(u64, u64)>,
}

#[derive(Clone, Debug, Default)]
pub struct NodeTable {
    infos: Vec<Option<NodeInfo>>,
    kind: Vec<u8>,
    /// What a plain unit's verdict reads of each node, packed together: a binding and an
    /// ending each rewrite one node's, in one or two cache lines rather than one a column.
    packed: Vec<Packed>,
    present: usize,
    /// Bumped by every change to any node, so an unchanged cache can be recognised.
    generation: u64,
    /// Where the next search starts (kube's `nextStartNodeIndex`, as a node id).
    next_start: usize,
    /// Scratch for one decision: each visited `V_SLOW` node's score, or `INFEASIBLE`.
    scores: Vec<u64>,
    /// Each node's verdicts for the last two shapes decided, kept between decisions: a run of
    /// pods of one shape recomputes only the nodes that changed since the last, so a decision
    /// is a scan of bytes — and so does a workload whose pods come in two shapes by turns (the
    /// Google cell's batch and service jobs), where one set had all of its nodes recomputed at
    /// every turn.
    verdicts: [Verdicts; 2],
    /// The set the last decision read (the other is the older).
    current: usize,
}

/// Every node's verdict for one shape, and what changed since they were computed.
#[derive(Clone, Debug, Default)]
struct Verdicts {
    /// `None`: none computed.
    shape: Option<Shape>,
    codes: Vec<u8>,
    /// A summary of each run of `BLOCK` verdicts, so that the visit takes whole blocks of
    /// plain nodes at once: at 10k nodes kube scores 500 of them a decision.
    blocks: Vec<Block>,
    /// Nodes changed since, as a list and by slot.
    stale: Vec<u32>,
    is_stale: Vec<bool>,
}

impl Verdicts {
    /// Node `i` changed. Past a quarter of the nodes, recomputing them all is as cheap as
    /// keeping the list: the set is dropped.
    fn mark(&mut self, i: usize) {
        if self.shape.is_none() || self.is_stale[i] {
            return;
        }
        if self.stale.len() >= self.codes.len() / 4 {
            self.shape = None;
            for k in self.stale.drain(..) {
                self.is_stale[k as usize] = false;
            }
            return;
        }
        self.is_stale[i] = true;
        self.stale.push(i as u32);
    }
}

/// One node's numbers for the packed verdict: the spec's (set when the node joins or changes)
/// and its load's (set at every change).
#[derive(Clone, Copy, Debug, Default)]
struct Packed {
    /// Allocatable minus requested (negative when a stale cache over-counts).
    free_cpu_milli: i64,
    free_memory_bytes: i64,
    free_pods: i64,
    /// Requests with kube's non-zero defaults, for scoring only.
    score_cpu_milli: u64,
    score_memory_bytes: u64,
    alloc_cpu_milli: u64,
    alloc_memory_bytes: u64,
    max_pods: u64,
    /// `u64::MAX / allocatable`, so scoring multiplies instead of dividing.
    magic_cpu: u64,
    magic_memory: u64,
}

/// Nodes per [`Block`].
const BLOCK: usize = 64;

/// What a visit needs from `BLOCK` consecutive verdicts when it takes them all.
#[derive(Clone, Copy, Debug, Default)]
struct Block {
    /// Nodes that are not `V_ABSENT`.
    present: u8,
    /// Nodes with a score.
    feasible: u8,
    /// The best score, and how many nodes have it (0 when none is feasible).
    top: u8,
    ties: u8,
    /// Some node needs the plugins: the visit walks this block node by node.
    slow: bool,
}

/// The visit so far: nodes visited and found feasible, the best score and how many have it.
struct Walk {
    visited: usize,
    found: usize,
    best: u64,
    ties: u64,
    last_visited: usize,
}

impl Walk {
    /// `count` more nodes scored `score` (none when `count` is 0).
    fn offer(&mut self, score: u64, count: u64) {
        if count == 0 {
            return;
        }
        if self.best == INFEASIBLE || score > self.best {
            (self.best, self.ties) = (score, count);
        } else if score == self.best {
            self.ties += count;
        }
    }
}

impl Verdicts {
    /// Recomputes block `b`'s summary from its verdicts.
    fn summarize(&mut self, b: usize) {
        let end = ((b + 1) * BLOCK).min(self.codes.len());
        self.blocks[b] = Block::of(&self.codes[b * BLOCK..end]);
    }
}

impl Block {
    /// One pass for the counts and the best, one for its ties: both vectorize.
    fn of(verdicts: &[u8]) -> Block {
        let (mut present, mut feasible, mut top_plus_one, mut slow) = (0u8, 0u8, 0u8, false);
        for &code in verdicts {
            present += u8::from(code != V_ABSENT);
            feasible += u8::from(code <= MAX_VERDICT_SCORE);
            top_plus_one = top_plus_one.max(if code <= MAX_VERDICT_SCORE { code + 1 } else { 0 });
            slow |= code == V_SLOW;
        }
        let top = top_plus_one.saturating_sub(1);
        let ties = if top_plus_one == 0 { 0 } else { verdicts.iter().map(|&code| u8::from(code == top)).sum() };
        Block { present, feasible, top, ties, slow }
    }
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
            self.packed.resize(n, Packed::default());
            for set in &mut self.verdicts {
                set.codes.resize(n, V_ABSENT);
                set.is_stale.resize(n, false);
            }
        }
        match &mut self.infos[i] {
            Some(info) => info.spec = spec,
            slot @ None => {
                *slot = Some(NodeInfo::new(node, spec));
                self.present += 1;
            }
        }
        self.refresh_spec(i);
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

    /// Recomputes node `i`'s kind and packed numbers from its spec, then from its load.
    fn refresh_spec(&mut self, i: usize) {
        let Some(info) = &self.infos[i] else { return };
        let spec = &info.spec;
        let alloc = &spec.allocatable;
        // Nothing allocatable of CPU or memory: upstream's scores leave that resource out.
        let plain = !spec.unschedulable
            && spec.taints.is_empty()
            && alloc.extended.is_empty()
            && (1..1 << 56).contains(&alloc.cpu_milli)
            && (1..1 << 56).contains(&alloc.memory_bytes);
        self.kind[i] = if plain { PLAIN } else { SPECIAL };
        let p = &mut self.packed[i];
        p.alloc_cpu_milli = alloc.cpu_milli;
        p.alloc_memory_bytes = alloc.memory_bytes;
        p.max_pods = spec.max_pods;
        p.magic_cpu = magic(alloc.cpu_milli);
        p.magic_memory = magic(alloc.memory_bytes);
        self.refresh(i);
    }

    /// Recomputes node `i`'s load in its packed numbers from its `NodeInfo` (the spec's part
    /// is already there: reading it through the node's `Arc` was a cache miss a binding).
    fn refresh(&mut self, i: usize) {
        self.generation += 1;
        for set in &mut self.verdicts {
            set.mark(i);
        }
        let Some(info) = &self.infos[i] else { return };
        let p = &mut self.packed[i];
        let free = |cap: u64, used: u64| (cap as i64).saturating_sub(used as i64);
        p.free_cpu_milli = free(p.alloc_cpu_milli, info.requested.cpu_milli);
        p.free_memory_bytes = free(p.alloc_memory_bytes, info.requested.memory_bytes);
        p.free_pods = free(p.max_pods, info.parts);
        p.score_cpu_milli = info.score_cpu_milli;
        p.score_memory_bytes = info.score_memory_bytes;
    }

    /// kube-scheduler's `numFeasibleNodesToFind`: every node below 100 nodes; else
    /// `percentage` of them (0: adaptive, 50% less 1% per 125 nodes, at least 5%), at least 100.
    pub fn feasible_to_find(&self, percentage: u32) -> usize {
        crate::sampling::num_feasible_nodes_to_find(self.present, percentage)
    }

    /// Where the next search starts, as a slot (a node id's index; kube's
    /// `nextStartNodeIndex`).
    pub fn next_start(&self) -> usize {
        self.next_start
    }

    /// Sets where the next search starts (a decision taken outside the table moved it).
    pub fn set_next_start(&mut self, slot: usize) {
        self.next_start = slot;
    }

    /// Node `i`'s verdict for a plain unit of this shape, from the columns alone (`kind` and
    /// `packed`, passed apart so that a set of verdicts can be written while they are read).
    fn verdict(kind: &[u8], packed: &[Packed], i: usize, shape: &Shape) -> u8 {
        match kind[i] {
            ABSENT => return V_ABSENT,
            PLAIN => {}
            _ => return V_SLOW,
        }
        let p = &packed[i];
        // The kube profile checks a resource only if the pod requests some of it.
        let checked = |want: i64| shape.kube.is_none() || want > 0;
        if p.free_pods < 1 {
            V_TOO_MANY_PODS
        } else if checked(shape.want_cpu) && p.free_cpu_milli < shape.want_cpu {
            V_SHORT_CPU
        } else if checked(shape.want_memory) && p.free_memory_bytes < shape.want_memory {
            V_SHORT_MEMORY
        } else {
            let cpu_requested = p.score_cpu_milli + shape.score_cpu;
            let memory_requested = p.score_memory_bytes + shape.score_memory;
            let cpu = resource_part(shape.strategy, cpu_requested, p.alloc_cpu_milli, p.magic_cpu);
            let memory = resource_part(shape.strategy, memory_requested, p.alloc_memory_bytes, p.magic_memory);
            let fit = ((cpu + memory) / 2) as u8;
            match shape.kube.and_then(|k| k.balanced) {
                None => fit,
                Some((cpu, memory)) => {
                    // `balancedResourceScorer` with two resources, both allocatable (a plain
                    // node): what the node's pods request as they are (allocatable less free)
                    // and the pod, each fraction capped at 1, std |f₀ − f₁| / 2, truncated.
                    let fraction = |alloc: u64, free: i64, want: u64| {
                        let requested = (alloc as i64 - free).saturating_add(want as i64);
                        (requested as f64 / alloc as f64).min(1.0)
                    };
                    let cpu = fraction(p.alloc_cpu_milli, p.free_cpu_milli, cpu);
                    let memory = fraction(p.alloc_memory_bytes, p.free_memory_bytes, memory);
                    let std = ((cpu - memory) / 2.0).abs();
                    fit + ((1.0 - std) * 100.0) as u8
                }
            }
        }
    }

    /// Brings a set of verdicts up to date for `shape` and makes it the current one: the set
    /// of that shape, for the nodes changed since it was computed; else the older set, all of
    /// it. Runs once a decision, so the current set is looked at first and left at once when
    /// nothing changed, and a set is updated where it lies (moved out and back, its shape and
    /// four vectors were copied twice a decision).
    fn refresh_verdicts(&mut self, shape: Shape) {
        let c = if self.verdicts[self.current].shape == Some(shape) {
            self.current
        } else if self.verdicts[1 - self.current].shape == Some(shape) {
            1 - self.current
        } else {
            self.current = 1 - self.current;
            let (kind, packed) = (&self.kind[..], &self.packed[..]);
            let set = &mut self.verdicts[self.current];
            set.shape = Some(shape);
            set.codes = (0..self.infos.len()).map(|i| Self::verdict(kind, packed, i, &shape)).collect();
            set.blocks = set.codes.chunks(BLOCK).map(Block::of).collect();
            set.is_stale = vec![false; set.codes.len()];
            set.stale.clear();
            return;
        };
        self.current = c;
        let (kind, packed) = (&self.kind[..], &self.packed[..]);
        let set = &mut self.verdicts[c];
        if set.stale.is_empty() {
            // Nothing changed since (a node that joins is marked too): blocks and codes agree.
            return;
        }
        // Nodes that joined since have summaries to come (`resize` is a call, so it is made
        // only when they did).
        let blocks = set.codes.len().div_ceil(BLOCK);
        if set.blocks.len() < blocks {
            set.blocks.resize(blocks, Block::default());
        }
        // Stale nodes come in bursts on one node or a few: a block is summarised once per
        // run of its nodes, and only if a verdict in it changed (a pod placed and taken away
        // again, as an assumption a binding refuses, changes none).
        let mut last = usize::MAX;
        for k in 0..set.stale.len() {
            let i = set.stale[k] as usize;
            let verdict = Self::verdict(kind, packed, i, &shape);
            if verdict == set.codes[i] {
                continue;
            }
            set.codes[i] = verdict;
            let b = i / BLOCK;
            if b != last {
                if last != usize::MAX {
                    set.summarize(last);
                }
                last = b;
            }
        }
        if last != usize::MAX {
            set.summarize(last);
        }
        // Cleared, not drained: a `Drain` costs more than the one node a decision has here.
        for &i in &set.stale {
            set.is_stale[i as usize] = false;
        }
        set.stale.clear();
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
        // A GPU score plugin scores every node its own way: only a plain unit under the
        // strategy's score has verdicts.
        let cached = unit.is_plain() && framework.gpu.is_none();
        let shape = cached.then_some(Shape {
            want_cpu: unit.requests.cpu_milli as i64,
            want_memory: unit.requests.memory_bytes as i64,
            score_cpu: unit.score_cpu_milli,
            score_memory: unit.score_memory_bytes,
            strategy: framework.scoring,
            kube: None,
        });
        self.visit(shape, percentage, rng, |info, diagnosis| match framework.filter(unit, info) {
            Err(reason) => {
                diagnosis.count(&reason);
                INFEASIBLE
            }
            Ok(()) => framework.score(unit, info).min(INFEASIBLE - 1),
        })
    }

    /// The kube profile's decision for a plain pod (see [`Kube`]) with verdicts of `shape`:
    /// `slow` gives the score (fit plus balanced) of a node that is not plain, `None` when a
    /// filter refuses it. `None` when no node is feasible (the caller then runs the plain cycle
    /// for the diagnosis).
    pub fn select_kube(
        &mut self,
        shape: Shape,
        percentage: u32,
        rng: &mut impl Rng,
        mut slow: impl FnMut(&NodeInfo) -> Option<u64>,
    ) -> Option<NodeId> {
        self.visit(Some(shape), percentage, rng, |info, _| slow(info).map_or(INFEASIBLE, |s| s.min(INFEASIBLE - 1)))
            .ok()
    }

    /// The visit both decisions share: verdicts of `shape` where there is one (`None`: every
    /// node through `slow`, which scores a node or counts its reason and says `INFEASIBLE`).
    #[expect(
        clippy::too_many_lines,
        reason = "the decision's hot loop over blocks and verdicts; splitting it waits for the decision-* benchmarks to show it costs nothing"
    )]
    fn visit(
        &mut self,
        shape: Option<Shape>,
        percentage: u32,
        rng: &mut impl Rng,
        mut slow: impl FnMut(&NodeInfo, &mut Diagnosis) -> u64,
    ) -> Result<NodeId, Diagnosis> {
        let slots = self.infos.len();
        let to_find = self.feasible_to_find(percentage);
        let cached = shape.is_some();
        if let Some(shape) = shape {
            self.refresh_verdicts(shape);
        }
        let mut diagnosis = Diagnosis::default();
        // Borrowed where it lies, beside the other fields the visit reads (taking it out and
        // putting it back was a dozen instructions a decision).
        if self.scores.len() < slots {
            self.scores.resize(slots, INFEASIBLE);
        }
        let scores = &mut self.scores[..slots];
        // One byte a node: its verdict, or (for a unit that is not plain) absent or slow.
        let uncached: Vec<u8>;
        let current = &self.verdicts[self.current];
        let codes: &[u8] = if cached {
            &current.codes[..slots]
        } else {
            uncached = self.kind.iter().map(|&k| if k == ABSENT { V_ABSENT } else { V_SLOW }).collect();
            &uncached
        };
        let infos = &self.infos[..slots];
        let start = if self.next_start < slots { self.next_start } else { 0 };
        // Plain nodes are taken a block at a time by the block's summary — and the part of a
        // block where the visit begins (the rotating start) by a summary of that part — unless
        // the walk must stop inside; every other node is visited one by one.
        let blocks: &[Block] = &current.blocks;
        let head_end = ((start / BLOCK + 1) * BLOCK).min(slots);
        let head = (cached && start % BLOCK != 0).then(|| Block::of(&codes[start..head_end]));
        let summary = |i: usize, stop: usize| {
            let block = match head {
                Some(head) if i == start && stop == head_end => head,
                _ if cached && i % BLOCK == 0 && stop - i == BLOCK => blocks[i / BLOCK],
                _ => return None,
            };
            (!block.slow).then_some(block)
        };
        let mut walk = Walk { visited: 0, found: 0, best: INFEASIBLE, ties: 0, last_visited: start };
        // Visit every slot once from `start`, wrapping; stop once enough nodes are feasible.
        'visit: for (from, end) in [(start, slots), (0, start)] {
            let mut i = from;
            while i < end {
                // To the end of this block.
                let stop = end.min((i / BLOCK + 1) * BLOCK);
                if let Some(block) = summary(i, stop).filter(|b| walk.found + usize::from(b.feasible) < to_find) {
                    walk.visited += usize::from(block.present);
                    walk.found += usize::from(block.feasible);
                    walk.offer(u64::from(block.top), u64::from(block.ties));
                    i = stop;
                    continue;
                }
                for (i, &code) in (i..stop).zip(&codes[i..stop]) {
                    if code == V_ABSENT {
                        continue;
                    }
                    if walk.found == to_find {
                        break 'visit;
                    }
                    walk.visited += 1;
                    walk.last_visited = i;
                    let score = if code <= MAX_VERDICT_SCORE {
                        u64::from(code)
                    } else if code == V_SLOW {
                        let info = infos[i].as_ref().expect("a present node has its info");
                        scores[i] = slow(info, &mut diagnosis);
                        scores[i]
                    } else {
                        INFEASIBLE
                    };
                    if score != INFEASIBLE {
                        walk.found += 1;
                        walk.offer(score, 1);
                    }
                }
                i = stop;
            }
        }
        // The k-th best node in visiting order: the visited nodes come first in that order, so
        // the first `ties` nodes with the best score are the visited ones.
        let k = if walk.ties > 1 { below(rng, walk.ties) } else { 0 };
        let score_of = |i: usize| match codes[i] {
            c if c <= MAX_VERDICT_SCORE => u64::from(c),
            V_SLOW => scores[i],
            _ => INFEASIBLE,
        };
        let chosen = (walk.ties > 0).then(|| {
            let mut seen = 0;
            for (from, end) in [(start, slots), (0, start)] {
                let mut i = from;
                while i < end {
                    let stop = end.min((i / BLOCK + 1) * BLOCK);
                    if let Some(block) = summary(i, stop) {
                        // A block with a better score than the visit's best was visited only
                        // in part: it is walked node by node.
                        let top = u64::from(block.top);
                        let hits = match top.cmp(&walk.best) {
                            _ if block.ties == 0 => Some(0),
                            Ordering::Less => Some(0),
                            Ordering::Equal => Some(u64::from(block.ties)),
                            Ordering::Greater => None,
                        };
                        if let Some(hits) = hits.filter(|&hits| seen + hits <= k) {
                            seen += hits;
                            i = stop;
                            continue;
                        }
                    }
                    for i in i..stop {
                        if score_of(i) == walk.best {
                            seen += 1;
                            if seen == k + 1 {
                                return Some(NodeId(i as u32));
                            }
                        }
                    }
                    i = stop;
                }
            }
            None
        });
        let chosen = chosen.map(|node| node.expect("the k-th tie was visited"));
        // kube moves the start past every node it processed, so the next pod begins elsewhere;
        // when it processed them all, the start stays.
        if walk.visited < self.present {
            self.next_start = (walk.last_visited + 1) % slots;
        }
        chosen.ok_or_else(|| {
            // Nothing feasible: every node was visited, and whole blocks were taken by their
            // summaries, so the plain reasons are counted over all verdicts at once.
            let mut fast_reasons = [0usize; 3];
            for (count, code) in fast_reasons.iter_mut().zip(V_TOO_MANY_PODS..=V_SHORT_MEMORY) {
                *count = codes.iter().filter(|&&c| c == code).count();
            }
            diagnosis.nodes = walk.visited;
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use podlab_cluster::objects::{Taint, TaintEffect, Toleration};
    use podlab_cluster::scenario::ScoringStrategy;
    use podlab_cluster::{Part, Pod, Resources, rng};
    use rand_core::Rng;

    use super::*;

    fn node(i: usize, r: &mut impl Rng) -> Node {
        let mut labels = BTreeMap::new();
        labels.insert("zone".to_string(), format!("z{}", r.next_u64() % 3));
        let mut allocatable = Resources::new(1_000 * (1 + r.next_u64() % 8), (1 << 30) * (1 + r.next_u64() % 16));
        if r.next_u64() % 5 == 0 {
            allocatable.set("example.com/fpga", 2);
        }
        let taints = if r.next_u64() % 6 == 0 {
            vec![Taint { key: "dedicated".into(), value: "x".into(), effect: TaintEffect::NoSchedule }]
        } else {
            vec![]
        };
        Node {
            name: format!("n{i}"),
            labels,
            taints,
            allocatable,
            max_pods: 1 + r.next_u64() % 6,
            unschedulable: r.next_u64() % 10 == 0,
            images: Vec::new(),
        }
    }

    fn pod(r: &mut impl Rng) -> Pod {
        let mut pod = Pod::single("p", Resources::new(r.next_u64() % 3_000, (r.next_u64() % 6) << 29));
        if r.next_u64() % 4 == 0 {
            pod.node_selector.insert("zone".into(), format!("z{}", r.next_u64() % 3));
        }
        if r.next_u64() % 4 == 0 {
            let key = "dedicated".to_string();
            pod.tolerations.push(Toleration {
                key,
                exists: true,
                value: String::new(),
                effect: None,
                toleration_seconds: None,
            });
        }
        if r.next_u64() % 8 == 0 {
            pod.requests.set("example.com/fpga", 1);
        }
        pod
    }

    /// The packed table decides as the plugins do, node by node: its choice has the best score
    /// among the nodes every filter passes, and with none its diagnosis counts the same reasons.
    #[test]
    fn agrees_with_the_plugins() {
        for seed in 0..200 {
            let mut r = rng::stream(seed, "node-table-test");
            let mut table = NodeTable::default();
            let strategy = if seed % 2 == 0 { ScoringStrategy::LeastAllocated } else { ScoringStrategy::MostAllocated };
            let framework = Framework::new(strategy);
            let nodes = 1 + (r.next_u64() % 12) as usize;
            let filler = pod(&mut r);
            for i in 0..nodes {
                table.upsert(NodeId(i as u32), Arc::new(node(i, &mut r)));
                for _ in 0..r.next_u64() % 3 {
                    table.add(NodeId(i as u32), &Unit::new(&filler, Part::Whole));
                }
            }
            // Rounds of decisions on one table, alternating two pods and placing each where the
            // table chose: verdicts kept from round to round must stay exact.
            let incoming = [pod(&mut r), pod(&mut r)];
            for round in 0..6 {
                let unit = Unit::new(&incoming[round % 2], Part::Whole);
                let mut reference = Diagnosis::default();
                let mut best = None;
                for info in table.iter() {
                    match framework.filter(&unit, info) {
                        Err(reason) => reference.count(&reason),
                        Ok(()) => best = best.max(Some(framework.score(&unit, info))),
                    }
                }
                reference.nodes = nodes;
                match table.select(&framework, &unit, 100, &mut r) {
                    Ok(chosen) => {
                        let info = table.get(chosen).expect("a node of the table");
                        assert!(framework.filter(&unit, info).is_ok(), "seed {seed}: chose an infeasible node");
                        assert_eq!(Some(framework.score(&unit, info)), best, "seed {seed} round {round}");
                        table.add(chosen, &unit);
                    }
                    Err(diagnosis) => {
                        assert_eq!(best, None, "seed {seed} round {round}: a node was feasible");
                        assert_eq!(diagnosis, reference, "seed {seed} round {round}");
                    }
                }
            }
        }
    }

    /// The kube profile's fast path decides as its plain cycle does: on random clusters
    /// (tainted, cordoned, full and extended-resource nodes among plain ones; 1 to 12 nodes, or
    /// 100 to 300 for sampled scoring) and plain pods of every shape (no CPU, no memory, none at
    /// all, init containers, tolerations), the same node, the same draws and the same start for
    /// the next decision, round after round with each choice placed.
    #[test]
    fn kube_fast_path_agrees_with_the_cycle() {
        use crate::kube::cache::KubeCache;
        use crate::kube::snapshot::Snapshot;
        use podlab_cluster::PodId;
        use podlab_cluster::kube_config::{
            NodeResourcesFitArgs, PluginArgs as ConfigArgs, PluginConfig, ProfileConfig, ScoringStrategyType,
        };
        for seed in 0..160 {
            let mut r = rng::stream(seed, "kube-fast-path-test");
            let mut config = ProfileConfig::named("default-scheduler");
            if seed % 3 == 1 {
                let mut fit = NodeResourcesFitArgs::default();
                fit.scoring_strategy.kind = ScoringStrategyType::MostAllocated;
                let args = ConfigArgs::NodeResourcesFit(fit);
                config.plugin_config.push(PluginConfig { name: "NodeResourcesFit".into(), args });
            }
            let mut table = NodeTable::default();
            let mut cache = KubeCache::new(&config, Snapshot::default());
            let nodes =
                if seed % 4 == 3 { 100 + (r.next_u64() % 200) as usize } else { 1 + (r.next_u64() % 12) as usize };
            // The placed pods by id, as the scheduler holds them for the snapshot.
            let mut placed: Vec<Arc<Pod>> = Vec::new();
            let place =
                |table: &mut NodeTable, cache: &mut KubeCache, placed: &mut Vec<Arc<Pod>>, pod: &Arc<Pod>, node| {
                    let id = placed.len() as u32;
                    cache.place(table, PodId(id), pod, &Unit::new(pod, Part::Whole), node, u64::from(id));
                    placed.push(pod.clone());
                };
            for i in 0..nodes {
                let mut spec = node(i, &mut r);
                if r.next_u64() % 7 == 0 {
                    spec.allocatable.memory_bytes = 0;
                }
                let spec = Arc::new(spec);
                table.upsert(NodeId(i as u32), spec.clone());
                cache.upsert_node(NodeId(i as u32), spec);
                let filler = Arc::new(kube_pod(&mut r));
                for _ in 0..r.next_u64() % 3 {
                    place(&mut table, &mut cache, &mut placed, &filler, NodeId(i as u32));
                }
            }
            let incoming: Vec<Arc<Pod>> = (0..3).map(|_| Arc::new(kube_pod(&mut r))).collect();
            for round in 0..8 {
                let pod = &incoming[round % incoming.len()];
                let percentage = [0, 100, 10, 50][(seed as usize + round) % 4];
                assert!(cache.fast_shape(pod).is_some(), "seed {seed}: a plain pod takes the fast path");
                let start = table.next_start();
                let mut draws = r.clone();
                let pod_of = |id: PodId| placed[id.index()].clone();
                let plain = cache.decide_plain(&mut table, pod, percentage, &mut draws, &pod_of).ok();
                let plain_next = table.next_start();
                table.set_next_start(start);
                let fast = cache.decide(&mut table, pod, percentage, &mut r, &pod_of).ok();
                assert_eq!(fast, plain, "seed {seed} round {round}: {nodes} nodes, {percentage}%");
                assert_eq!(table.next_start(), plain_next, "seed {seed} round {round}: the next start");
                assert!(r == draws, "seed {seed} round {round}: the same draws");
                if let Some(node) = fast {
                    place(&mut table, &mut cache, &mut placed, pod, node);
                }
            }
        }
    }

    /// A plain pod for the kube profile: CPU and memory (either may be absent), sometimes an
    /// init container or a toleration.
    fn kube_pod(r: &mut impl Rng) -> Pod {
        let cpu = [0, 100, 500, 1_500, 2_500][(r.next_u64() % 5) as usize];
        let memory = [0u64, 1 << 28, 1 << 30, 3 << 30][(r.next_u64() % 4) as usize];
        let mut pod = Pod::single("p", Resources::new(cpu, memory));
        if r.next_u64() % 5 == 0 {
            let mut init = pod.containers[0].clone();
            init.name = "init".into();
            init.requests = Resources::new(3_000, 0);
            pod.init_containers.push(init);
            pod.requests = pod.effective_requests();
        }
        if r.next_u64() % 3 == 0 {
            pod.tolerations.push(Toleration {
                key: "dedicated".into(),
                exists: true,
                value: String::new(),
                effect: None,
                toleration_seconds: None,
            });
        }
        pod
    }

    /// Sampled scoring on a large table, against kube's visit written plainly: from the start,
    /// node by node through the plugins, stop once enough are feasible, draw among the best in
    /// visiting order — so the blocks of verdicts taken whole change nothing.
    #[test]
    fn sampled_visit_matches_a_plain_walk() {
        for seed in 0..12 {
            let mut r = rng::stream(seed, "node-table-sampled");
            let mut table = NodeTable::default();
            let framework = Framework::new(ScoringStrategy::LeastAllocated);
            let nodes = 700 + (r.next_u64() % 900) as usize;
            let filler = Pod::single("f", Resources::new(500, 1 << 28));
            for i in 0..nodes {
                // Mostly plain nodes (the chunks), some tainted or full (the plugins, reasons).
                let mut spec = node(i, &mut r);
                // Every third table has identical nodes: ties across whole blocks.
                if seed % 3 == 0 {
                    spec.allocatable = Resources::new(4_000, 8 << 30);
                }
                if r.next_u64() % 150 != 0 {
                    spec.taints.clear();
                    spec.unschedulable = false;
                    spec.allocatable.extended.clear();
                }
                spec.max_pods = 3 + r.next_u64() % 4;
                table.upsert(NodeId(i as u32), Arc::new(spec));
                for _ in 0..r.next_u64() % 4 {
                    table.add(NodeId(i as u32), &Unit::new(&filler, Part::Whole));
                }
            }
            let incoming = Pod::single("p", Resources::new(300, 1 << 27));
            for round in 0..40 {
                let unit = Unit::new(&incoming, Part::Whole);
                let percentage = [0, 10, 30][round % 3];
                let to_find = table.feasible_to_find(percentage);
                // The plain walk.
                let slots = table.infos.len();
                let start = if table.next_start < slots { table.next_start } else { 0 };
                let (mut found, mut visited) = (Vec::new(), 0);
                for i in (start..slots).chain(0..start) {
                    let Some(info) = table.infos[i].as_ref() else { continue };
                    if found.len() == to_find {
                        break;
                    }
                    visited += 1;
                    if framework.filter(&unit, info).is_ok() {
                        found.push((i, framework.score(&unit, info)));
                    }
                }
                let best = found.iter().map(|&(_, s)| s).max();
                let ties: Vec<usize> = found.iter().filter(|&&(_, s)| Some(s) == best).map(|&(i, _)| i).collect();
                let mut draw = r.clone();
                let expected = (!ties.is_empty()).then(|| {
                    let k = if ties.len() > 1 { below(&mut draw, ties.len() as u64) } else { 0 };
                    NodeId(ties[k as usize] as u32)
                });
                let chosen = table.select(&framework, &unit, percentage, &mut r).ok();
                assert_eq!(chosen, expected, "seed {seed} round {round}: {visited} visited");
                // A pod no node can take: every node is visited (whole blocks by their
                // summaries) and the reasons are the plugins' own.
                let huge = Pod::single("h", Resources::new(1 << 40, 1 << 20));
                let unit = Unit::new(&huge, Part::Whole);
                let mut reference = Diagnosis::default();
                for info in table.iter() {
                    reference.count(&framework.filter(&unit, info).expect_err("nothing fits"));
                }
                reference.nodes = table.len();
                let refused = table.select(&framework, &unit, percentage, &mut r);
                assert_eq!(refused, Err(reference), "seed {seed} round {round}");
                if let Some(node) = chosen {
                    table.add(node, &unit);
                }
            }
        }
    }

    /// kube-scheduler's numbers: all nodes below 100; adaptive 50% less 1% per 125 nodes, at
    /// least 5% and at least 100 nodes.
    #[test]
    fn feasible_nodes_to_find() {
        let mut table = NodeTable::default();
        let spec = Arc::new(Node {
            name: "n".into(),
            labels: BTreeMap::new(),
            taints: vec![],
            allocatable: Resources::new(1_000, 1 << 30),
            max_pods: 110,
            unschedulable: false,
            images: Vec::new(),
        });
        let mut sizes = BTreeMap::new();
        for n in 1..=10_000u32 {
            table.upsert(NodeId(n - 1), spec.clone());
            if [50, 100, 1_000, 5_000, 10_000].contains(&n) {
                sizes.insert(n, (table.feasible_to_find(0), table.feasible_to_find(30)));
            }
        }
        assert_eq!(sizes[&50], (50, 50));
        assert_eq!(sizes[&100], (100, 100));
        assert_eq!(sizes[&1_000], (420, 300));
        assert_eq!(sizes[&5_000], (500, 1_500));
        assert_eq!(sizes[&10_000], (500, 3_000));
    }
}
