//! GPU sharing in the scheduler (the cache's per-GPU books are `NodeInfo`'s, `node_info.rs`):
//! the GPU score plugins of the OpenB paper (Weng et al., "Beware of Fragmentation",
//! USENIX ATC 2023) — best fit, GPU packing, dot product (Tetris) and fragmentation gradient
//! descent (FGD) — with the paper's fragmentation measure, which FGD and the packing experiment
//! share. A plugin replaces NodeResourcesFit's score when `spec.scheduler.gpuScoring` names it,
//! as the OpenB simulator's profiles disable the default scores.
//!
//! These are podlab's Kubernetes-style versions: exact scores, the framework's uniform
//! tie-break, each node's own capacity as the scale, podlab's fragmentation over every pod.
//! The paper's own simulator decides otherwise (integer scores, a fixed node order, its typical
//! pods): that is `fgd_sim.rs`, the default of `podlab experiment openb`, where these run as
//! `kube-…`.

use std::cell::RefCell;
use std::rc::Rc;

use podlab_cluster::config::GpuScoring;
use podlab_cluster::gpu::{GpuDemand, GpuSlots, MILLI_PER_GPU};
use podlab_cluster::scenario::Scenario;
use podlab_cluster::{Node, Part, PodSpec};

use crate::node_info::{NodeInfo, Unit};

/// A million: scores and ratios in parts per million keep the plugins in integers.
const PPM: u64 = 1_000_000;

/// One kind of task of the target workload: pods with the same GPU demand and the same node
/// constraints, with how many pods of each CPU request there are.
#[derive(Debug)]
struct DemandGroup {
    demand: GpuDemand,
    /// A pod of the group, for its node selector and affinity; `None` when it has neither.
    constrained: Option<PodSpec>,
    /// `fit_weight[i]`: pods of the group asking at most `cpus[i - 1]` CPU (`fit_weight[0] = 0`).
    fit_weight: Vec<u64>,
    weight: u64,
}

/// The target workload of FGD: the popularity of each kind of task (the paper's `M`), here the
/// pods of the scenario or trace. Memory is left out of "can this task run here", as in the
/// paper, which measures fragmentation over CPU and GPU.
#[derive(Debug)]
pub struct TargetWorkload {
    /// Every CPU request of the workload, sorted, distinct.
    cpus: Vec<u64>,
    groups: Vec<DemandGroup>,
    total_weight: u64,
}

impl TargetWorkload {
    pub fn from_pods<'p>(pods: impl Iterator<Item = &'p PodSpec> + Clone) -> TargetWorkload {
        let mut cpus: Vec<u64> = pods.clone().map(|p| p.requests.cpu_milli).collect();
        cpus.sort_unstable();
        cpus.dedup();
        let mut groups: Vec<DemandGroup> = Vec::new();
        let mut total_weight = 0;
        for pod in pods {
            let demand = GpuDemand::of(pod, Part::Whole);
            let constrained = !pod.node_selector.is_empty() || pod.required_node_affinity.is_some();
            let same = |g: &DemandGroup| {
                g.demand == demand
                    && match &g.constrained {
                        None => !constrained,
                        Some(q) => {
                            constrained
                                && q.node_selector == pod.node_selector
                                && q.required_node_affinity == pod.required_node_affinity
                        }
                    }
            };
            let i = match groups.iter().position(same) {
                Some(i) => i,
                None => {
                    groups.push(DemandGroup {
                        demand,
                        constrained: constrained.then(|| pod.clone()),
                        fit_weight: vec![0; cpus.len() + 1],
                        weight: 0,
                    });
                    groups.len() - 1
                }
            };
            let at = cpus.partition_point(|c| *c < pod.requests.cpu_milli) + 1;
            for w in &mut groups[i].fit_weight[at..] {
                *w += 1;
            }
            groups[i].weight += 1;
            total_weight += 1;
        }
        // Shares ascending (see `node_fragmentation`); whole-GPU and CPU-only groups have share 0.
        groups.sort_by_key(|g| g.demand.share_milli);
        TargetWorkload { cpus, groups, total_weight }
    }

    /// How many tasks the workload weighs: fragmentation sums are this many times milli-GPU.
    pub fn total_weight(&self) -> u64 {
        self.total_weight
    }

    /// The paper's fragmentation of one node for the workload, times [`Self::total_weight`]:
    /// for each kind of task, the node's free GPU milli it cannot use — all of it when the task
    /// cannot run here (too little CPU, no GPU with room, another GPU model), else the GPUs
    /// with less free than the task's share of one GPU (any used GPU, for whole-GPU tasks).
    /// `free_sorted` is the node's per-GPU free milli, ascending.
    pub fn node_fragmentation(&self, node: &Node, cpu_free_milli: u64, free_sorted: &[u16]) -> u64 {
        if free_sorted.is_empty() {
            return 0;
        }
        let free_total: u64 = free_sorted.iter().map(|f| u64::from(*f)).sum();
        if free_total == 0 {
            return 0;
        }
        let wholly_free = free_sorted.iter().rev().take_while(|f| **f == MILLI_PER_GPU).count() as u64;
        let max_free = free_sorted[free_sorted.len() - 1];
        let fits_cpu = self.cpus.partition_point(|c| *c <= cpu_free_milli);
        let mut frag = 0u64;
        // Groups come sorted by share, so the GPUs with less free than each share are a prefix
        // of `free_sorted` that only grows: one walk serves every share group.
        let (mut below_count, mut below_sum) = (0usize, 0u64);
        for g in &self.groups {
            if g.constrained.as_ref().is_some_and(|p| !p.matches_node_affinity(node)) {
                frag += g.weight * free_total;
                continue;
            }
            let (gpu_fits, unusable) = if g.demand.whole_gpus > 0 {
                (wholly_free >= u64::from(g.demand.whole_gpus), free_total - wholly_free * u64::from(MILLI_PER_GPU))
            } else if g.demand.share_milli > 0 {
                let d = g.demand.share_milli;
                while below_count < free_sorted.len() && free_sorted[below_count] < d {
                    below_sum += u64::from(free_sorted[below_count]);
                    below_count += 1;
                }
                (max_free >= d, below_sum)
            } else {
                (true, 0)
            };
            let w_fit = g.fit_weight[fits_cpu];
            frag += if gpu_fits { w_fit * unusable + (g.weight - w_fit) * free_total } else { g.weight * free_total };
        }
        frag
    }

    /// [`Self::node_fragmentation`] of a cached node as it is, or with `unit` placed on it.
    pub fn fragmentation_of(&self, node: &NodeInfo, unit: Option<&Unit<'_>>) -> u64 {
        let Some(books) = node.gpus.as_deref() else { return 0 };
        let mut buffer = [0u16; podlab_cluster::gpu::MAX_GPUS_PER_NODE as usize];
        let n = books.slots.count();
        buffer[..n].copy_from_slice(&books.slots.free_milli);
        let mut cpu_used = node.requested.cpu_milli;
        if let Some(unit) = unit {
            cpu_used += unit.requests.cpu_milli;
            if let Some(pick) = books.slots.pick(unit.gpu) {
                for i in pick.gpus() {
                    buffer[i] -= pick.milli_each;
                }
            }
        }
        let free = &mut buffer[..n];
        free.sort_unstable();
        self.node_fragmentation(&node.spec, node.spec.allocatable.cpu_milli.saturating_sub(cpu_used), free)
    }
}

/// A node's fragmentation as FGD last computed it, and the state it was computed for (CPU in
/// use and per-GPU free milli): a node scored again unchanged costs a comparison.
#[derive(Clone, Copy, Debug, Default)]
struct FragMemo {
    cpu_used_milli: u64,
    gpus: u8,
    free_milli: [u16; FragMemo::GPUS],
    fragmentation: u64,
}

impl FragMemo {
    /// Nodes with more GPUs than this are computed each time.
    const GPUS: usize = 8;

    fn state(node: &NodeInfo) -> Option<FragMemo> {
        let slots = &node.gpus.as_deref()?.slots;
        if slots.count() > FragMemo::GPUS {
            return None;
        }
        let mut free_milli = [0u16; FragMemo::GPUS];
        free_milli[..slots.count()].copy_from_slice(&slots.free_milli);
        Some(FragMemo {
            cpu_used_milli: node.requested.cpu_milli,
            gpus: slots.count() as u8,
            free_milli,
            fragmentation: 0,
        })
    }

    fn same_state(&self, other: &FragMemo) -> bool {
        self.cpu_used_milli == other.cpu_used_milli && self.gpus == other.gpus && self.free_milli == other.free_milli
    }
}

/// A GPU score plugin, ready to score: the plugin and, for FGD, its target workload.
#[derive(Debug)]
pub struct GpuScorer {
    pub plugin: GpuScoring,
    workload: Option<TargetWorkload>,
    /// FGD's fragmentations of each node, by node id (a cache: scores do not depend on it,
    /// only their cost).
    memo: RefCell<Vec<Option<NodeFrags>>>,
}

/// A unit as FGD's fragmentation after placing it sees it: its CPU and its GPU demand.
type UnitKind = (u64, GpuDemand);

/// FGD's fragmentations of one node in one state: as it is (`state.fragmentation`), and with
/// a unit of each kind seen since placed. A node's state changes only when something is bound
/// to it or leaves it, so most nodes are scored from here: a trace's pods come in a few dozen
/// kinds.
#[derive(Clone, Debug)]
struct NodeFrags {
    state: FragMemo,
    after: Vec<(UnitKind, u64)>,
}

/// More kinds than this in one node's state start its list afresh.
const AFTER_KINDS: usize = 64;

impl GpuScorer {
    pub fn new<'p>(plugin: GpuScoring, pods: impl Iterator<Item = &'p PodSpec> + Clone) -> GpuScorer {
        let workload = (plugin == GpuScoring::Fgd).then(|| TargetWorkload::from_pods(pods));
        GpuScorer { plugin, workload, memo: RefCell::new(Vec::new()) }
    }

    /// FGD's fragmentation of a node as it is and with `unit` placed, from the memo when the
    /// node did not change since they were computed.
    fn fragmentations(&self, workload: &TargetWorkload, node: &NodeInfo, unit: &Unit<'_>) -> (u64, u64) {
        let Some(mut state) = FragMemo::state(node) else {
            return (workload.fragmentation_of(node, None), workload.fragmentation_of(node, Some(unit)));
        };
        let mut memo = self.memo.borrow_mut();
        let i = node.id.index();
        if memo.len() <= i {
            memo.resize(i + 1, None);
        }
        let frags = match &mut memo[i] {
            Some(frags) if frags.state.same_state(&state) => frags,
            slot => {
                state.fragmentation = workload.fragmentation_of(node, None);
                slot.insert(NodeFrags { state, after: Vec::new() })
            }
        };
        let kind = (unit.requests.cpu_milli, unit.gpu);
        let after = match frags.after.iter().find(|(k, _)| *k == kind) {
            Some(&(_, after)) => after,
            None => {
                let after = workload.fragmentation_of(node, Some(unit));
                if frags.after.len() >= AFTER_KINDS {
                    frags.after.clear();
                }
                frags.after.push((kind, after));
                after
            }
        };
        (frags.state.fragmentation, after)
    }

    /// The scenario's plugin, or `None` when it keeps kube's default scores.
    pub fn for_scenario(scenario: &Scenario) -> Option<Rc<GpuScorer>> {
        match scenario.config.scheduler.gpu_scoring {
            GpuScoring::Default => None,
            plugin => Some(Rc::new(GpuScorer::new(plugin, scenario.pods.specs()))),
        }
    }

    /// The score of a feasible node, higher is better (only the order matters: the framework
    /// takes the top and breaks ties at random).
    pub fn score(&self, unit: &Unit<'_>, node: &NodeInfo) -> u64 {
        let slots = node.gpus.as_deref().map(|b| &b.slots);
        match self.plugin {
            GpuScoring::Default => 0,
            GpuScoring::BestFit => best_fit(unit, node, slots),
            GpuScoring::GpuPacking => gpu_packing(unit, slots),
            GpuScoring::DotProduct => dot_product(unit, node, slots),
            GpuScoring::Fgd => {
                let workload = self.workload.as_ref().expect("FGD is built with its workload");
                let (before, after) = self.fragmentations(workload, node, unit);
                // Smallest growth of fragmentation first; it may shrink (a fragment filled).
                (1u64 << 62) + before - after
            }
        }
    }
}

fn ratio_ppm(part: u64, whole: u64) -> u64 {
    (part.min(whole) * PPM).checked_div(whole).unwrap_or(0)
}

fn gpu_capacity_milli(slots: &GpuSlots) -> u64 {
    slots.count() as u64 * u64::from(MILLI_PER_GPU)
}

/// Best fit: the node left with the least free CPU and GPU (each as a share of the node's).
fn best_fit(unit: &Unit<'_>, node: &NodeInfo, slots: Option<&GpuSlots>) -> u64 {
    let cpu_cap = node.spec.allocatable.cpu_milli;
    let cpu_left = cpu_cap.saturating_sub(node.requested.cpu_milli + unit.requests.cpu_milli);
    let gpu_left_ppm =
        slots.map_or(0, |s| ratio_ppm(s.free_total().saturating_sub(unit.gpu.milli()), gpu_capacity_milli(s)));
    2 * PPM - ratio_ppm(cpu_left, cpu_cap) - gpu_left_ppm
}

/// GPU packing, in three tiers as the OpenB simulator ranks them: a share onto an already
/// shared GPU (the fuller the better), then wholly free GPUs of a partly used node (the fewer
/// the better), then an idle node (the fewer GPUs the better). Pods without GPUs score 0
/// everywhere (ties, broken at random), as there.
fn gpu_packing(unit: &Unit<'_>, slots: Option<&GpuSlots>) -> u64 {
    let Some(slots) = slots.filter(|_| !unit.gpu.is_none()) else { return 0 };
    let Some(pick) = slots.pick(unit.gpu) else { return 0 };
    let count = slots.count() as u64;
    let wholly_free = u64::from(slots.wholly_free());
    if unit.gpu.share_milli > 0 {
        let gpu = pick.gpus().next().expect("a share takes one GPU");
        let free = u64::from(slots.free_milli[gpu]);
        if free < u64::from(MILLI_PER_GPU) {
            return 3 * PPM - free;
        }
    }
    if wholly_free < count {
        let taken = u64::from(unit.gpu.whole_gpus.max(1));
        return 2 * PPM - taken;
    }
    PPM - count
}

/// Tetris' alignment, as the OpenB simulator uses it for packing: the smaller the dot product
/// of the request and the node's free CPU and GPU (each normalised by the node's capacity),
/// the better.
fn dot_product(unit: &Unit<'_>, node: &NodeInfo, slots: Option<&GpuSlots>) -> u64 {
    let cpu_cap = node.spec.allocatable.cpu_milli;
    let cpu_free = cpu_cap.saturating_sub(node.requested.cpu_milli);
    let mut dot = ratio_ppm(unit.requests.cpu_milli, cpu_cap) * ratio_ppm(cpu_free, cpu_cap) / PPM;
    let mut dims = 1;
    if let Some(s) = slots {
        let cap = gpu_capacity_milli(s);
        dot += ratio_ppm(unit.gpu.milli(), cap) * ratio_ppm(s.free_total(), cap) / PPM;
        dims += 1;
    }
    PPM - dot / dims
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use podlab_cluster::Pod;

    use super::*;
    use podlab_cluster::gpu::{GPU_RESOURCE, GPU_SHARE_ANNOTATION};
    use podlab_cluster::objects::DEFAULT_MAX_PODS;
    use podlab_cluster::{NodeId, Resources};

    use crate::framework::Framework;
    use podlab_cluster::scenario::ScoringStrategy;

    fn gpu_node(name: &str, gpus: u64) -> Arc<Node> {
        let mut allocatable = Resources::new(64_000, 256 << 30);
        allocatable.set(GPU_RESOURCE, gpus);
        Arc::new(Node {
            name: name.into(),
            labels: Default::default(),
            taints: vec![],
            allocatable,
            max_pods: DEFAULT_MAX_PODS,
            unschedulable: false,
            images: Vec::new(),
        })
    }

    fn share_pod(name: &str, milli: u16) -> Arc<Pod> {
        let mut pod = Pod::single(name, Resources::new(1000, 1 << 30));
        pod.gpu_share_milli = milli;
        assert!(GPU_SHARE_ANNOTATION.contains("gpu-milli"));
        Arc::new(pod)
    }

    fn whole_pod(name: &str, gpus: u64) -> Arc<Pod> {
        let mut r = Resources::new(1000, 1 << 30);
        r.set(GPU_RESOURCE, gpus);
        Arc::new(Pod::single(name, r))
    }

    /// Two nodes: `a` has a GPU half used by a share, `b` is idle. GPU packing, best fit and FGD
    /// (for a workload of whole-GPU tasks) put a new share on `a`'s shared GPU; kube's default
    /// (LeastAllocated) spreads it to the idle `b`.
    #[test]
    fn packing_prefers_a_shared_gpu() {
        let mut a = NodeInfo::new(NodeId(0), gpu_node("a", 2));
        let b = NodeInfo::new(NodeId(1), gpu_node("b", 2));
        let first = share_pod("first", 500);
        a.add(&Unit::new(&first, Part::Whole));
        let next = share_pod("next", 300);
        let unit = Unit::new(&next, Part::Whole);
        let mut rng = podlab_cluster::rng::stream(1, "test");
        let nodes = [a, b];
        for plugin in [GpuScoring::GpuPacking, GpuScoring::BestFit, GpuScoring::Fgd] {
            let mut framework = Framework::new(ScoringStrategy::LeastAllocated);
            // FGD's workload: whole-GPU tasks, for which `a`'s shared GPU is already a fragment.
            framework.gpu = Some(Rc::new(GpuScorer::new(plugin, [whole_pod("w", 1)].iter().map(|p| &*p.spec))));
            for _ in 0..20 {
                assert_eq!(framework.select(&unit, nodes.iter(), &mut rng), Ok(NodeId(0)), "{plugin:?}");
            }
        }
        let default = Framework::new(ScoringStrategy::LeastAllocated);
        assert_eq!(default.select(&unit, nodes.iter(), &mut rng), Ok(NodeId(1)));
        // And the share went on the shared GPU, not the free one.
        let mut a = nodes[0].clone();
        a.add(&unit);
        assert_eq!(&*a.gpus.as_ref().unwrap().slots.free_milli, &[200, 1000]);
        a.remove(&unit);
        assert_eq!(&*a.gpus.as_ref().unwrap().slots.free_milli, &[500, 1000]);
    }

    /// The filter refuses a node whose GPUs cannot take the demand: a share larger than any
    /// GPU's free milli, or more whole GPUs than are wholly free on one node.
    #[test]
    fn filter_honours_per_gpu_room() {
        let mut a = NodeInfo::new(NodeId(0), gpu_node("a", 2));
        a.add(&Unit::new(&share_pod("s1", 600), Part::Whole));
        a.add(&Unit::new(&share_pod("s2", 600), Part::Whole));
        let framework = Framework::new(ScoringStrategy::LeastAllocated);
        let mut rng = podlab_cluster::rng::stream(1, "test");
        let nodes = [a];
        let big = share_pod("big", 500);
        let err = framework.select(&Unit::new(&big, Part::Whole), nodes.iter(), &mut rng).unwrap_err();
        assert_eq!(err.to_string(), "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.");
        let small = share_pod("small", 400);
        assert!(framework.select(&Unit::new(&small, Part::Whole), nodes.iter(), &mut rng).is_ok());
        let one = whole_pod("one", 1);
        assert!(framework.select(&Unit::new(&one, Part::Whole), nodes.iter(), &mut rng).is_err(), "both shared");
        let b = NodeInfo::new(NodeId(1), gpu_node("b", 2));
        let two = whole_pod("two", 2);
        assert_eq!(framework.select(&Unit::new(&two, Part::Whole), [b].iter(), &mut rng), Ok(NodeId(1)));
    }

    /// The paper's fragmentation: a node with GPUs of 300 and 1000 free is, for a workload of
    /// half 500-milli shares and half whole-GPU tasks, 300 unusable to both: 2 × 300.
    #[test]
    fn fragmentation_follows_the_paper() {
        let workload = TargetWorkload::from_pods([share_pod("s", 500), whole_pod("w", 1)].iter().map(|p| &*p.spec));
        let node = gpu_node("a", 2);
        assert_eq!(workload.node_fragmentation(&node, 64_000, &[300, 1000]), 600);
        assert_eq!(workload.node_fragmentation(&node, 64_000, &[1000, 1000]), 0);
        // No CPU left: every free GPU milli is a fragment for every task.
        assert_eq!(workload.node_fragmentation(&node, 0, &[300, 1000]), 2 * 1300);
        // A 500 share can no longer run on [300, 400]; whole-GPU tasks neither.
        assert_eq!(workload.node_fragmentation(&node, 64_000, &[300, 400]), 2 * 700);
    }

    /// FGD's memo answers what a fresh computation would, however the node changes between
    /// scorings and whatever kinds of unit are scored on it.
    #[test]
    fn fgd_memo_is_only_a_cache() {
        let kinds = [share_pod("s3", 300), share_pod("s5", 500), whole_pod("w1", 1), whole_pod("w2", 2)];
        let scorer = GpuScorer::new(GpuScoring::Fgd, kinds.iter().map(|p| &*p.spec));
        let workload = scorer.workload.as_ref().unwrap();
        let mut node = NodeInfo::new(NodeId(3), gpu_node("a", 4));
        let mut placed = Vec::new();
        for step in 0..40usize {
            for pod in &kinds {
                let unit = Unit::new(pod, Part::Whole);
                let fresh = (1u64 << 62) + workload.fragmentation_of(&node, None)
                    - workload.fragmentation_of(&node, Some(&unit));
                assert_eq!(scorer.score(&unit, &node), fresh, "step {step}, {}", pod.name);
            }
            // Place the next kind if it fits, else free the oldest placement.
            let pod = &kinds[step % kinds.len()];
            if node.gpus.as_ref().unwrap().slots.fits(Unit::new(pod, Part::Whole).gpu) {
                node.add(&Unit::new(pod, Part::Whole));
                placed.push(pod.clone());
            } else if !placed.is_empty() {
                let oldest = placed.remove(0);
                node.remove(&Unit::new(&oldest, Part::Whole));
            }
        }
    }
}
