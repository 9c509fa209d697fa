//! What the scheduler's plugins see: a node as the scheduler's cache holds it (`NodeInfo`,
//! with its per-GPU books) and the unit being placed — a whole pod or one of its containers,
//! with what it asks for (`Unit`). The framework (`framework.rs`) and the GPU score plugins
//! (`gpu.rs`) both read them.

use std::sync::Arc;

use podlab_cluster::gpu::{GpuBooks, GpuDemand};
use podlab_cluster::{Node, NodeId, Part, Pod, Resources};

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
    pub gpus: Option<Box<GpuBooks<CacheHolder>>>,
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
        add_gpus(self, unit);
        self.requested.add(unit.requests);
        self.score_cpu_milli += unit.score_cpu_milli;
        self.score_memory_bytes += unit.score_memory_bytes;
        self.parts += 1;
    }

    pub fn remove(&mut self, unit: &Unit<'_>) {
        remove_gpus(self, unit);
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

/// Who holds GPUs in the scheduler's cache: the pod's `namespace/name` and the part. (A
/// `Unit` carries no pod id, and names are unique.)
pub type CacheHolder = (Box<str>, Part);

/// Takes a unit's GPUs on a cached node, by the rule every component applies. A unit that does
/// not fit the cache's books (a binding the cache learned of late) takes nothing here.
fn add_gpus(node: &mut NodeInfo, unit: &Unit<'_>) {
    if unit.gpu.is_none() {
        return;
    }
    if let Some(books) = node.gpus.as_mut() {
        books.assign((unit.pod.key().into_boxed_str(), unit.part), unit.gpu);
    }
}

/// Gives a unit's GPUs back on a cached node.
fn remove_gpus(node: &mut NodeInfo, unit: &Unit<'_>) {
    if unit.gpu.is_none() {
        return;
    }
    if let Some(books) = node.gpus.as_mut() {
        let key = unit.pod.key();
        books.release_where(|(k, part)| **k == *key && *part == unit.part);
    }
}
