//! The scheduling framework's synchronous cycle — Filter, Score, NormalizeScore and the choice
//! of a host — over the scheduler's cache of nodes, with kube-scheduler's default plugins.
//! Filter answers "unschedulable" with a reason per node, and the reasons add up to the
//! familiar `0/3 nodes are available: …` message.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use podlab_cluster::gpu::{GpuBooks, GpuDemand};
use podlab_cluster::objects::{Taint, TaintEffect};
use podlab_cluster::rng::below;
use podlab_cluster::scenario::ScoringStrategy;
use podlab_cluster::{Node, NodeId, Part, Pod, Resources};
use rand_core::Rng;

/// Kube-scheduler's `MaxNodeScore`.
pub const MAX_NODE_SCORE: u64 = 100;
/// Kube-scheduler's defaults for scoring a container that requests nothing: 100m CPU and
/// 200 MiB memory (`GetNonzeroRequests`), so empty requests still spread.
pub const DEFAULT_SCORE_CPU_MILLI: u64 = 100;
pub const DEFAULT_SCORE_MEMORY_BYTES: u64 = 200 << 20;

/// A node as the scheduler's cache sees it.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    pub id: NodeId,
    pub spec: Arc<Node>,
    /// The sum of the requests of the parts bound or assumed here.
    pub requested: Resources,
    /// The same sum with kube's non-zero defaults, used only for scoring.
    pub score_cpu_milli: u64,
    pub score_memory_bytes: u64,
    pub parts: u64,
    /// Per-GPU free milli-GPU and which part holds which GPUs (`gpu.rs`); `None` without GPUs.
    pub gpus: Option<Box<GpuBooks<crate::gpu::CacheHolder>>>,
}

impl NodeInfo {
    pub fn new(id: NodeId, spec: Arc<Node>) -> NodeInfo {
        let gpus = GpuBooks::for_node(&spec);
        NodeInfo {
            id,
            spec,
            requested: Resources::default(),
            score_cpu_milli: 0,
            score_memory_bytes: 0,
            parts: 0,
            gpus,
        }
    }

    pub fn add(&mut self, unit: &Unit<'_>) {
        crate::gpu::add(self, unit);
        self.requested.add(unit.requests);
        self.score_cpu_milli += unit.score_cpu_milli;
        self.score_memory_bytes += unit.score_memory_bytes;
        self.parts += 1;
    }

    pub fn remove(&mut self, unit: &Unit<'_>) {
        crate::gpu::remove(self, unit);
        self.requested.sub(unit.requests);
        self.score_cpu_milli -= unit.score_cpu_milli;
        self.score_memory_bytes -= unit.score_memory_bytes;
        self.parts -= 1;
    }
}

/// What is being placed: a whole pod or one of its containers, with what it asks for.
#[derive(Clone, Copy, Debug)]
pub struct Unit<'a> {
    pub pod: &'a Pod,
    pub part: Part,
    pub requests: &'a Resources,
    pub score_cpu_milli: u64,
    pub score_memory_bytes: u64,
    /// Whole GPUs or a share of one (`podlab_cluster::gpu`).
    pub gpu: GpuDemand,
}

impl<'a> Unit<'a> {
    pub fn new(pod: &'a Pod, part: Part) -> Unit<'a> {
        let nonzero = |v: u64, default: u64| if v == 0 { default } else { v };
        let (score_cpu_milli, score_memory_bytes) = match part {
            // Upstream's aggregation: init containers, sidecars and overhead count too.
            Part::Whole => crate::kube::snapshot::nonzero_requests(pod),
            Part::Container(i) => {
                let c = &pod.containers[i as usize].requests;
                (nonzero(c.cpu_milli, DEFAULT_SCORE_CPU_MILLI), nonzero(c.memory_bytes, DEFAULT_SCORE_MEMORY_BYTES))
            }
        };
        let gpu = GpuDemand::of(pod, part);
        Unit { pod, part, requests: pod.part_requests(part), score_cpu_milli, score_memory_bytes, gpu }
    }

    /// Whether only CPU, memory and the pod count can keep this unit off an untainted,
    /// schedulable node without extended resources (the packed table's fast path).
    pub fn is_plain(&self) -> bool {
        self.requests.extended.is_empty()
            && self.gpu.share_milli == 0
            && self.pod.node_selector.is_empty()
            && self.pod.required_node_affinity.is_none()
    }
}

/// Why a node cannot host a unit: kube-scheduler's own wording.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    Unschedulable,
    UntoleratedTaint(String),
    AffinityMismatch,
    Insufficient(String),
    TooManyPods,
}

impl Reason {
    /// The plugin that gives this reason.
    pub fn plugin(&self) -> FilterPlugin {
        match self {
            Reason::Unschedulable => FilterPlugin::NodeUnschedulable,
            Reason::UntoleratedTaint(_) => FilterPlugin::TaintToleration,
            Reason::AffinityMismatch => FilterPlugin::NodeAffinity,
            Reason::Insufficient(_) | Reason::TooManyPods => FilterPlugin::NodeResourcesFit,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Unschedulable => f.write_str("node(s) were unschedulable"),
            Reason::UntoleratedTaint(taint) => write!(f, "node(s) had untolerated taint {taint}"),
            Reason::AffinityMismatch => f.write_str("node(s) didn't match Pod's node affinity/selector"),
            Reason::Insufficient(resource) => write!(f, "Insufficient {resource}"),
            Reason::TooManyPods => f.write_str("Too many pods"),
        }
    }
}

/// The Filter plugins of the default profile that podlab models, in kube-scheduler's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterPlugin {
    NodeUnschedulable,
    TaintToleration,
    NodeAffinity,
    NodeResourcesFit,
}

impl FilterPlugin {
    pub const DEFAULTS: [FilterPlugin; 4] = [
        FilterPlugin::NodeUnschedulable,
        FilterPlugin::TaintToleration,
        FilterPlugin::NodeAffinity,
        FilterPlugin::NodeResourcesFit,
    ];

    pub fn filter(self, unit: &Unit<'_>, node: &NodeInfo) -> Result<(), Reason> {
        match self {
            FilterPlugin::NodeUnschedulable => {
                if !node.spec.unschedulable {
                    return Ok(());
                }
                // A cordoned node still takes pods that tolerate its implicit taint.
                let cordon = Taint {
                    key: "node.kubernetes.io/unschedulable".into(),
                    value: String::new(),
                    effect: TaintEffect::NoSchedule,
                };
                if unit.pod.tolerations.iter().any(|t| t.tolerates(&cordon)) {
                    Ok(())
                } else {
                    Err(Reason::Unschedulable)
                }
            }
            FilterPlugin::TaintToleration => match unit.pod.untolerated_taint(&node.spec) {
                Some(taint) => Err(Reason::UntoleratedTaint(taint.to_string())),
                None => Ok(()),
            },
            FilterPlugin::NodeAffinity => {
                if unit.pod.matches_node_affinity(&node.spec) {
                    Ok(())
                } else {
                    Err(Reason::AffinityMismatch)
                }
            }
            FilterPlugin::NodeResourcesFit => {
                if node.parts >= node.spec.max_pods {
                    return Err(Reason::TooManyPods);
                }
                let alloc = &node.spec.allocatable;
                let req = &node.requested;
                let short = |have: u64, want: u64, cap: u64| have.saturating_add(want) > cap;
                if short(req.cpu_milli, unit.requests.cpu_milli, alloc.cpu_milli) {
                    return Err(Reason::Insufficient("cpu".into()));
                }
                if short(req.memory_bytes, unit.requests.memory_bytes, alloc.memory_bytes) {
                    return Err(Reason::Insufficient("memory".into()));
                }
                for (name, want) in &unit.requests.extended {
                    if short(req.get(name), *want, alloc.get(name)) {
                        return Err(Reason::Insufficient(name.clone()));
                    }
                }
                // Whole GPUs must be wholly free ones, a share must fit on one GPU.
                if !podlab_cluster::gpu::fits(node.gpus.as_deref(), unit.gpu) {
                    return Err(Reason::Insufficient(podlab_cluster::gpu::GPU_RESOURCE.into()));
                }
                Ok(())
            }
        }
    }
}

/// NodeResourcesFit's scoring over CPU and memory, weight 1 each, as kube-scheduler computes it.
pub fn resource_score(strategy: ScoringStrategy, unit: &Unit<'_>, node: &NodeInfo) -> u64 {
    let alloc = &node.spec.allocatable;
    score_of(
        strategy,
        node.score_cpu_milli + unit.score_cpu_milli,
        alloc.cpu_milli,
        node.score_memory_bytes + unit.score_memory_bytes,
        alloc.memory_bytes,
    )
}

/// The score of a node whose CPU and memory would be requested that much (kube's non-zero
/// request sums, the unit included) of those capacities.
pub fn score_of(
    strategy: ScoringStrategy,
    cpu_requested: u64,
    cpu_capacity: u64,
    memory_requested: u64,
    memory_capacity: u64,
) -> u64 {
    let cpu = resource_part(strategy, cpu_requested, cpu_capacity, magic(cpu_capacity));
    let memory = resource_part(strategy, memory_requested, memory_capacity, magic(memory_capacity));
    (cpu + memory) / 2
}

/// `u64::MAX / capacity`, which [`resource_part`] multiplies by instead of dividing.
pub fn magic(capacity: u64) -> u64 {
    u64::MAX.checked_div(capacity).unwrap_or(0)
}

/// One resource's share of the score, 0 to 100; `magic` is [`magic`]`(capacity)`.
#[inline]
pub fn resource_part(strategy: ScoringStrategy, requested: u64, capacity: u64, magic: u64) -> u64 {
    if capacity == 0 {
        return 0;
    }
    match strategy {
        ScoringStrategy::LeastAllocated if requested > capacity => 0,
        ScoringStrategy::LeastAllocated => percent_of(capacity - requested, capacity, magic),
        ScoringStrategy::MostAllocated => percent_of(requested.min(capacity), capacity, magic),
    }
}

/// `part * 100 / whole` rounded down, for `part <= whole`, exactly and without a division:
/// with `magic = ⌊(2^64 − 1) / whole⌋`, the high half of `part * 100 * magic` is the quotient or
/// one less, and one product tells which.
#[inline]
fn percent_of(part: u64, whole: u64, magic: u64) -> u64 {
    if whole >= 1 << 56 {
        return (u128::from(part) * u128::from(MAX_NODE_SCORE) / u128::from(whole)) as u64;
    }
    let scaled = part * MAX_NODE_SCORE;
    let q = ((u128::from(scaled) * u128::from(magic)) >> 64) as u64;
    if (q + 1) * whole <= scaled { q + 1 } else { q }
}

/// Why no node could take a unit: how many nodes failed for each reason, and which plugins
/// turned nodes away (kube's `UnschedulablePlugins`, which pick the events that requeue it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnosis {
    pub nodes: usize,
    pub reasons: BTreeMap<String, usize>,
    pub plugins: Plugins,
}

impl Diagnosis {
    pub fn count(&mut self, reason: &Reason) {
        *self.reasons.entry(reason.to_string()).or_insert(0) += 1;
        self.plugins.insert(reason.plugin());
    }
}

/// A set of filter plugins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Plugins(u8);

impl Plugins {
    pub fn insert(&mut self, plugin: FilterPlugin) {
        self.0 |= 1 << plugin as u8;
    }

    pub fn contains(self, plugin: FilterPlugin) -> bool {
        self.0 & (1 << plugin as u8) != 0
    }

    pub fn iter(self) -> impl Iterator<Item = FilterPlugin> {
        FilterPlugin::DEFAULTS.into_iter().filter(move |&p| self.contains(p))
    }
}

impl fmt::Display for Diagnosis {
    /// `0/3 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {gpu}.`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0/{} nodes are available", self.nodes)?;
        for (i, (reason, count)) in self.reasons.iter().enumerate() {
            write!(f, "{} {count} {reason}", if i == 0 { ":" } else { "," })?;
        }
        f.write_str(".")
    }
}

/// A scheduling profile: which filters run and how nodes are scored.
#[derive(Clone, Debug)]
pub struct Framework {
    pub filters: Vec<FilterPlugin>,
    pub scoring: ScoringStrategy,
    /// A GPU score plugin that replaces the strategy's score (`gpu.rs`), if configured. `Rc`:
    /// FGD keeps a memo, and a framework never leaves its scheduler's thread.
    pub gpu: Option<std::rc::Rc<crate::gpu::GpuScorer>>,
}

impl Framework {
    pub fn new(scoring: ScoringStrategy) -> Framework {
        Framework { filters: FilterPlugin::DEFAULTS.to_vec(), scoring, gpu: None }
    }

    /// Runs the filters in order; the first to refuse gives the node's reason.
    pub fn filter(&self, unit: &Unit<'_>, node: &NodeInfo) -> Result<(), Reason> {
        self.filters.iter().try_for_each(|f| f.filter(unit, node))
    }

    /// The node's score: the GPU plugin's if one is configured, else the scoring strategy's.
    pub fn score(&self, unit: &Unit<'_>, node: &NodeInfo) -> u64 {
        match &self.gpu {
            Some(plugin) => plugin.score(unit, node),
            None => resource_score(self.scoring, unit, node),
        }
    }

    /// Filter every node given, score the feasible ones, and pick the best, the plugins' way
    /// and nothing else (the scheduler's packed `NodeTable` decides the same, faster). Ties are
    /// broken uniformly at random with one draw among the best, in the order given.
    pub fn select<'n>(
        &self,
        unit: &Unit<'_>,
        nodes: impl Iterator<Item = &'n NodeInfo>,
        rng: &mut impl Rng,
    ) -> Result<NodeId, Diagnosis> {
        let mut diagnosis = Diagnosis::default();
        let mut feasible: Vec<(NodeId, u64)> = Vec::new();
        for node in nodes {
            diagnosis.nodes += 1;
            match self.filter(unit, node) {
                Err(reason) => diagnosis.count(&reason),
                Ok(()) => feasible.push((node.id, self.score(unit, node))),
            }
        }
        let Some(best) = feasible.iter().map(|&(_, score)| score).max() else { return Err(diagnosis) };
        let ties = feasible.iter().filter(|&&(_, score)| score == best).count() as u64;
        let k = if ties > 1 { below(rng, ties) as usize } else { 0 };
        Ok(feasible.iter().filter(|&&(_, score)| score == best).nth(k).expect("k < ties").0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The division-free percentage equals integer division wherever it is used: small and
    /// huge capacities, parts on and beside every integer boundary.
    #[test]
    fn percent_of_is_exact() {
        let wholes =
            [1u64, 3, 7, 100, 999, 32_000, 128 << 30, 3 * (1 << 40) + 17, (1 << 56) - 1, 1 << 56, u64::MAX / 128];
        for whole in wholes {
            let magic = magic(whole);
            let mut parts: Vec<u64> = (0..=200).map(|k| whole / 200 * k).collect();
            for k in 0..=100u64 {
                let boundary = (u128::from(whole) * u128::from(k) / 100) as u64;
                parts.extend([boundary.saturating_sub(1), boundary, boundary + 1]);
            }
            for part in parts.into_iter().filter(|&p| p <= whole) {
                let exact = (u128::from(part) * 100 / u128::from(whole)) as u64;
                assert_eq!(percent_of(part, whole, magic), exact, "{part} of {whole}");
            }
        }
    }
}
