//! NodeResourcesFit (`pkg/scheduler/framework/plugins/noderesources/fit.go`,
//! `resource_allocation.go`, `least_allocated.go`, `most_allocated.go`,
//! `requested_to_capacity_ratio.go`). Filter: the node's pod count, then CPU, memory,
//! ephemeral storage and each scalar resource the pod requests must fit beside what its pods
//! request; every shortfall is a reason, and the status is `UnschedulableAndUnresolvable` when a
//! request exceeds the node's allocatable by itself (preemption cannot help). Score: the scoring
//! strategy over the configured resources, counting CPU and memory with the non-zero defaults
//! (a container that requests none counts 100m / 200 MiB) on both the pod and the node.

use podlab_cluster::gpu::{GPU_RESOURCE, GpuDemand, GpuSlots};
use podlab_cluster::{Node, Part, Pod, Resources};

use crate::kube::plugin::{Code, MAX_NODE_SCORE, Plugin, PreScore, Status};
use crate::kube::snapshot::{NodeState, Snapshot, nonzero_requests};

/// `config.MaxCustomPriorityScore`: the score scale of a RequestedToCapacityRatio shape.
pub const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;
/// `maxUtilization`: the utilisation scale of a shape.
const MAX_UTILIZATION: i64 = 100;

/// One resource a score counts, and its weight (`config.ResourceSpec`); `defaults()` is cpu
/// and memory, weight 1 each (NodeResourcesFit's and BalancedAllocation's default).
pub use podlab_cluster::kube_config::ResourceSpec;

/// A point of a RequestedToCapacityRatio shape: utilisation 0–100 → score 0–10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShapePoint {
    pub utilization: i64,
    pub score: i64,
}

/// `scoringStrategy.type`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// Prefer the node with the most left (upstream's default).
    #[default]
    LeastAllocated,
    /// Prefer the fullest node.
    MostAllocated,
    /// A broken-linear function of each resource's utilisation.
    RequestedToCapacityRatio(Vec<ShapePoint>),
}

/// `NodeResourcesFitArgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FitArgs {
    /// Extended resources the filter ignores.
    pub ignored_resources: Vec<String>,
    /// Extended resources whose prefix (before `/`) is one of these are ignored by the filter.
    pub ignored_resource_groups: Vec<String>,
    pub strategy: Strategy,
    pub resources: Vec<ResourceSpec>,
}

impl Default for FitArgs {
    fn default() -> FitArgs {
        FitArgs {
            ignored_resources: Vec::new(),
            ignored_resource_groups: Vec::new(),
            strategy: Strategy::LeastAllocated,
            resources: ResourceSpec::defaults(),
        }
    }
}

/// The plugin and its args.
#[derive(Clone, Debug, Default)]
pub struct NodeResourcesFit {
    pub args: FitArgs,
    /// PreScore's `podRequests`, in the order of `args.resources`.
    pod_requests: Vec<i64>,
}

impl NodeResourcesFit {
    /// The plugin with these args.
    pub fn new(args: FitArgs) -> NodeResourcesFit {
        NodeResourcesFit { args, pod_requests: Vec::new() }
    }
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn filters(&self) -> bool {
        true
    }

    fn scores(&self) -> bool {
        true
    }

    fn filter(&self, pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> Result<(), Status> {
        self.filter_on(pod, &node.requested, node.pods.len(), &node.spec, node.gpus.as_ref())
    }

    fn pre_score(&mut self, pod: &Pod, _feasible: &[&NodeState], _snapshot: &Snapshot) -> PreScore {
        self.pod_requests = pod_requests(pod, &self.args.resources, false);
        PreScore::Run
    }

    fn score(&self, _pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> i64 {
        let (requested, allocatable) = node_amounts(node, &self.args.resources, &self.pod_requests, false);
        self.args.score(&requested, &allocatable)
    }
}

impl FitArgs {
    /// The scoring strategy over the resources' amounts (`resourceAllocationScorer.score`
    /// after `calculateResourceAllocatableRequest`): the requested-with-the-pod and allocatable
    /// amount of each of `resources`, 0 allocatable for one passed over.
    pub fn score(&self, requested: &[i64], allocatable: &[i64]) -> i64 {
        let weights = self.resources.iter().map(|r| r.weight);
        match &self.strategy {
            Strategy::LeastAllocated => weighted(requested, allocatable, weights, least_requested),
            Strategy::MostAllocated => weighted(requested, allocatable, weights, most_requested),
            Strategy::RequestedToCapacityRatio(shape) => ratio_score(shape, requested, allocatable, weights),
        }
    }
}

impl NodeResourcesFit {
    /// The filter on a node's numbers: what its pods request, how many there are, its spec,
    /// its GPUs' free shares.
    pub fn filter_on(
        &self,
        pod: &Pod,
        used: &Resources,
        pods: usize,
        spec: &Node,
        gpus: Option<&GpuSlots>,
    ) -> Result<(), Status> {
        let mut shortfalls = fits(&pod.requests, used, pods, spec, |name| self.ignored(name));
        // podlab's GPU model, which the backend enforces: whole GPUs must be wholly free ones
        // and a share must fit on one GPU (`podlab_cluster::gpu`). Upstream counts
        // `nvidia.com/gpu` only, and knows no shares; a pod without either is not concerned.
        let demand = GpuDemand::of(pod, Part::Whole);
        if shortfalls.is_empty() && !demand.is_none() && !gpus.is_some_and(|g| g.fits(demand)) {
            shortfalls.push(Shortfall { reason: format!("Insufficient {GPU_RESOURCE}"), unresolvable: false });
        }
        if shortfalls.is_empty() {
            return Ok(());
        }
        let unresolvable = shortfalls.iter().any(|s| s.unresolvable);
        let reasons = shortfalls.into_iter().map(|s| s.reason).collect();
        let code = if unresolvable { Code::UnschedulableAndUnresolvable } else { Code::Unschedulable };
        Err(Status { code, reasons })
    }

    /// Whether the filter ignores this resource: an extended resource named in
    /// `ignoredResources`, or whose prefix is in `ignoredResourceGroups`.
    fn ignored(&self, name: &str) -> bool {
        is_extended_resource(name)
            && (self.args.ignored_resources.iter().any(|r| r == name)
                || name
                    .split('/')
                    .next()
                    .is_some_and(|group| self.args.ignored_resource_groups.iter().any(|g| g == group)))
    }
}

/// One resource a node is short of (`InsufficientResource`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shortfall {
    pub reason: String,
    /// The request alone exceeds the node's allocatable.
    pub unresolvable: bool,
}

/// `fitsRequest`: every resource `node` lacks for a pod requesting `request`, in upstream's
/// order (pods, cpu, memory, ephemeral-storage, then scalar resources by name).
pub fn fits_request(request: &Resources, node: &NodeState, ignored: impl Fn(&str) -> bool) -> Vec<Shortfall> {
    fits(request, &node.requested, node.pods.len(), &node.spec, ignored)
}

/// [`fits_request`] on a node's numbers: what its `pods` request (`used`) and its spec.
pub fn fits(
    request: &Resources,
    used: &Resources,
    pods: usize,
    spec: &Node,
    ignored: impl Fn(&str) -> bool,
) -> Vec<Shortfall> {
    let mut out = Vec::new();
    if pods as u64 + 1 > spec.max_pods {
        out.push(Shortfall { reason: "Too many pods".into(), unresolvable: false });
    }
    let alloc = &spec.allocatable;
    let mut check = |name: &str, want: u64, have: u64, capacity: u64| {
        if want > 0 && u128::from(want) + u128::from(have) > u128::from(capacity) {
            out.push(Shortfall { reason: format!("Insufficient {name}"), unresolvable: want > capacity });
        }
    };
    check("cpu", request.cpu_milli, used.cpu_milli, alloc.cpu_milli);
    check("memory", request.memory_bytes, used.memory_bytes, alloc.memory_bytes);
    let storage = "ephemeral-storage";
    check(storage, request.get(storage), used.get(storage), alloc.get(storage));
    for (name, &want) in request.extended.iter().filter(|(n, _)| is_scalar_resource(n) && !ignored(n)) {
        check(name, want, used.get(name), alloc.get(name));
    }
    out
}

/// `v1helper.IsExtendedResourceName`: a name with a prefix outside `kubernetes.io/` (and not a
/// quota's `requests.` name).
pub fn is_extended_resource(name: &str) -> bool {
    let Some((prefix, rest)) = name.split_once('/') else { return false };
    !name.contains("kubernetes.io/") && !name.starts_with("requests.") && !prefix.is_empty() && !rest.is_empty()
}

/// `schedutil.IsScalarResourceName`: extended resources, huge pages, `kubernetes.io/`-prefixed
/// native resources and attachable volumes — what `framework.Resource` keeps per name.
pub fn is_scalar_resource(name: &str) -> bool {
    is_extended_resource(name)
        || name.starts_with("hugepages-")
        || name.contains("kubernetes.io/")
        || name.starts_with("attachable-volumes-")
}

/// `calculatePodResourceRequestList`: the pod's request of each resource, CPU and memory with the
/// non-zero defaults unless `use_requested` (BalancedAllocation counts the requests as they are).
pub fn pod_requests(pod: &Pod, resources: &[ResourceSpec], use_requested: bool) -> Vec<i64> {
    let (nonzero_cpu, nonzero_memory) = if use_requested { (0, 0) } else { nonzero_requests(pod) };
    let amount = |name: &str| match name {
        "cpu" if !use_requested => nonzero_cpu,
        "memory" if !use_requested => nonzero_memory,
        _ => pod.requests.get(name),
    };
    resources.iter().map(|r| as_i64(amount(&r.name))).collect()
}

/// `resourceAllocationScorer.score`'s inputs: per resource, what the node would have requested
/// with the pod and its allocatable, both 0 for a resource the score passes over (none
/// allocatable, or a scalar resource the pod does not request).
pub fn node_amounts(
    node: &NodeState,
    resources: &[ResourceSpec],
    pod_requests: &[i64],
    use_requested: bool,
) -> (Vec<i64>, Vec<i64>) {
    let mut requested = vec![0; resources.len()];
    let mut allocatable = vec![0; resources.len()];
    for (i, (r, &want)) in resources.iter().zip(pod_requests).enumerate() {
        let (alloc, req) = allocatable_request(node, &r.name, want, use_requested);
        if alloc != 0 {
            allocatable[i] = alloc;
            requested[i] = req;
        }
    }
    (requested, allocatable)
}

/// `calculateResourceAllocatableRequest`: CPU and memory against the non-zero sums (or the
/// plain ones when `use_requested`), other resources against the plain sums.
fn allocatable_request(node: &NodeState, name: &str, want: i64, use_requested: bool) -> (i64, i64) {
    if want == 0 && is_scalar_resource(name) {
        return (0, 0);
    }
    let alloc = &node.spec.allocatable;
    let (capacity, used) = match name {
        "cpu" if use_requested => (alloc.cpu_milli, node.requested.cpu_milli),
        "cpu" => (alloc.cpu_milli, node.nonzero_cpu_milli),
        "memory" if use_requested => (alloc.memory_bytes, node.requested.memory_bytes),
        "memory" => (alloc.memory_bytes, node.nonzero_memory_bytes),
        "ephemeral-storage" => (alloc.get(name), node.requested.get(name)),
        _ if is_scalar_resource(name) && alloc.extended.contains_key(name) => {
            (alloc.get(name), node.requested.get(name))
        }
        _ => return (0, 0),
    };
    (as_i64(capacity), as_i64(used).saturating_add(want))
}

/// A quantity as Go's `int64` holds it (podlab's are unsigned; none comes near the bound).
fn as_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The weighted mean of one per-resource score over the resources with something allocatable
/// (`leastResourceScorer`, `mostResourceScorer`), in integers.
fn weighted(
    requested: &[i64],
    allocatable: &[i64],
    weights: impl Iterator<Item = i64>,
    score: fn(i64, i64) -> i64,
) -> i64 {
    let (mut total, mut weight_sum) = (0, 0);
    for ((&req, &alloc), weight) in requested.iter().zip(allocatable).zip(weights) {
        if alloc == 0 {
            continue;
        }
        total += score(req, alloc) * weight;
        weight_sum += weight;
    }
    if weight_sum == 0 { 0 } else { total / weight_sum }
}

/// `leastRequestedScore`: the share left, 0 when over-committed.
pub fn least_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// `mostRequestedScore`: the share used, capped at the capacity (the non-zero defaults may
/// exceed it).
pub fn most_requested(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    requested.min(capacity) * MAX_NODE_SCORE / capacity
}

/// `buildRequestedToCapacityRatioScorerFunction`: each resource's utilisation through the
/// shape (scores scaled from 0–10 to 0–100); only resources scoring above 0 count in the mean,
/// which is rounded as `math.Round` does.
fn ratio_score(
    shape: &[ShapePoint],
    requested: &[i64],
    allocatable: &[i64],
    weights: impl Iterator<Item = i64>,
) -> i64 {
    let scaled: Vec<ShapePoint> = shape
        .iter()
        .map(|p| ShapePoint {
            utilization: p.utilization,
            score: p.score * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE),
        })
        .collect();
    let (mut total, mut weight_sum) = (0i64, 0i64);
    for ((&req, &alloc), weight) in requested.iter().zip(allocatable).zip(weights) {
        if alloc == 0 {
            continue;
        }
        let utilization = if req > alloc { MAX_UTILIZATION } else { req * MAX_UTILIZATION / alloc };
        let score = broken_linear(&scaled, utilization);
        if score > 0 {
            total += score * weight;
            weight_sum += weight;
        }
    }
    if weight_sum == 0 {
        return 0;
    }
    // Go's math.Round: half away from zero (both operands are non-negative here).
    (total as f64 / weight_sum as f64).round() as i64
}

/// `helper.BuildBrokenLinearFunction`: the shape's score at `p`, linear between points
/// (integer division), flat before the first point and after the last.
pub fn broken_linear(shape: &[ShapePoint], p: i64) -> i64 {
    for (i, point) in shape.iter().enumerate() {
        if p <= point.utilization {
            let Some(prev) = i.checked_sub(1).map(|j| shape[j]) else { return point.score };
            return prev.score
                + (point.score - prev.score) * (p - prev.utilization) / (point.utilization - prev.utilization);
        }
    }
    shape.last().map_or(0, |p| p.score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_and_most_allocated() {
        assert_eq!(least_requested(1000, 4000), 75);
        assert_eq!(least_requested(5000, 4000), 0);
        assert_eq!(most_requested(1000, 4000), 25);
        assert_eq!(most_requested(5000, 4000), 100);
        assert_eq!(weighted(&[1000, 0], &[4000, 0], [1, 1].into_iter(), least_requested), 75);
        assert_eq!(weighted(&[1000, 2000], &[4000, 4000], [1, 3].into_iter(), least_requested), (75 + 50 * 3) / 4);
    }

    #[test]
    fn the_broken_linear_shape() {
        let shape = [ShapePoint { utilization: 0, score: 0 }, ShapePoint { utilization: 100, score: 100 }];
        assert_eq!(broken_linear(&shape, 37), 37);
        let steps = [ShapePoint { utilization: 20, score: 10 }, ShapePoint { utilization: 60, score: 90 }];
        assert_eq!(broken_linear(&steps, 0), 10);
        assert_eq!(broken_linear(&steps, 40), 50);
        assert_eq!(broken_linear(&steps, 99), 90);
        // Upstream's shape scores are 0–10, scaled by 10; the mean is rounded.
        let bin_packing = vec![ShapePoint { utilization: 0, score: 0 }, ShapePoint { utilization: 100, score: 10 }];
        assert_eq!(ratio_score(&bin_packing, &[1, 1], &[4, 3], [1, 1].into_iter()), 29);
    }

    /// podlab's GPU model on top of upstream's count: a share fits a node only if one GPU has
    /// room for it, whole GPUs only wholly free ones; a pod asking for neither is not checked.
    #[test]
    fn gpus_are_checked_gpu_by_gpu() {
        let mut spec = Node {
            name: "gpu".into(),
            labels: Default::default(),
            taints: vec![],
            allocatable: Resources::new(8_000, 32 << 30),
            max_pods: 110,
            unschedulable: false,
            images: vec![],
        };
        spec.allocatable.set(GPU_RESOURCE, 2);
        let plugin = NodeResourcesFit::default();
        let slots = GpuSlots { free_milli: vec![100, 500].into_boxed_slice() };
        let mut share = Pod::single("share", Resources::new(100, 1 << 20));
        share.gpu_share_milli = 500;
        assert!(plugin.filter_on(&share, &Resources::default(), 0, &spec, Some(&slots)).is_ok());
        share.gpu_share_milli = 600;
        let refused = plugin.filter_on(&share, &Resources::default(), 0, &spec, Some(&slots));
        assert_eq!(refused, Err(Status::unschedulable("Insufficient nvidia.com/gpu")));
        let mut whole = Pod::single("whole", Resources::new(100, 1 << 20));
        whole.requests.set(GPU_RESOURCE, 1);
        assert!(plugin.filter_on(&whole, &Resources::default(), 0, &spec, Some(&slots)).is_err());
        let plain = Pod::single("plain", Resources::new(100, 1 << 20));
        assert!(plugin.filter_on(&plain, &Resources::default(), 0, &spec, Some(&slots)).is_ok());
    }

    #[test]
    fn extended_and_scalar_names() {
        assert!(is_extended_resource("nvidia.com/gpu"));
        assert!(!is_extended_resource("cpu"));
        assert!(!is_extended_resource("kubernetes.io/foo"));
        assert!(is_scalar_resource("hugepages-2Mi"));
        assert!(!is_scalar_resource("ephemeral-storage"));
    }
}
