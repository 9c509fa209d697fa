//! The scheduler's view of the cluster for one cycle (upstream's `framework.NodeInfo` list and
//! the listers plugins read): every node with the pods placed on it, and the cluster-wide
//! objects the default plugins consult — the selectors of Services, ReplicaSets and
//! StatefulSets (default topology spreading), PodDisruptionBudgets (preemption), namespaces'
//! labels (namespace selectors), and how many nodes hold each image (ImageLocality).

use std::collections::BTreeMap;
use std::sync::Arc;

use podlab_cluster::affinity::{PodDisruptionBudget, SpreadSelector};
use podlab_cluster::gpu::GpuSlots;
use podlab_cluster::{Node, NodeId, Pod, PodId, Resources};

/// A pod the cache holds on a node (bound, or assumed by this scheduler).
#[derive(Clone, Debug)]
pub struct PlacedPod {
    pub pod: Arc<Pod>,
    /// The pod's id in the run, when it has one (the conformance replay's pods all do).
    pub id: Option<PodId>,
    /// When it started, in any unit that orders starts (preemption prefers the victims that
    /// started last, `GetPodStartTime`).
    pub start: u64,
}

/// One node: its spec and what is placed on it.
#[derive(Clone, Debug)]
pub struct NodeState {
    pub id: NodeId,
    pub spec: Arc<Node>,
    pub pods: Vec<PlacedPod>,
    /// The sum of the placed pods' effective requests.
    pub requested: Resources,
    /// The same sum with upstream's non-zero defaults for a container that requests no CPU
    /// (100m) or memory (200 MiB): what NodeResourcesFit's score counts.
    pub nonzero_cpu_milli: u64,
    pub nonzero_memory_bytes: u64,
    /// How many placed pods carry an inter-pod affinity or anti-affinity term (upstream's
    /// `NodeInfo.PodsWithAffinity`) and how many a required anti-affinity term
    /// (`PodsWithRequiredAntiAffinity`): InterPodAffinity visits only the nodes that have such
    /// pods when the incoming pod has no term of its own.
    pub pods_with_affinity: u32,
    pub pods_with_required_anti_affinity: u32,
    /// The free milli-GPU of each of the node's GPUs, for podlab's GPU model (whole GPUs must
    /// be wholly free ones, a share must fit on one GPU: what the backend enforces); `None`
    /// without GPUs. Set from the spec, then by a cache that books GPUs (`KubeCache::sync`);
    /// [`NodeState::add`] leaves it as it is.
    pub gpus: Option<GpuSlots>,
}

impl NodeState {
    /// A node with nothing on it.
    pub fn new(id: NodeId, spec: Arc<Node>) -> NodeState {
        let gpus = GpuSlots::for_node(&spec);
        NodeState {
            id,
            spec,
            pods: Vec::new(),
            requested: Resources::default(),
            nonzero_cpu_milli: 0,
            nonzero_memory_bytes: 0,
            pods_with_affinity: 0,
            pods_with_required_anti_affinity: 0,
            gpus,
        }
    }

    /// Places a pod here, keeping the sums.
    pub fn add(&mut self, placed: PlacedPod) {
        let (cpu, memory) = nonzero_requests(&placed.pod);
        self.requested.add(&placed.pod.requests);
        self.nonzero_cpu_milli += cpu;
        self.nonzero_memory_bytes += memory;
        self.push_unsummed(placed);
    }

    /// Places a pod here, keeping the affinity counts but not the resource sums: for a cache
    /// that keeps those elsewhere and sets them with [`NodeState::set_sums`] before a cycle.
    pub fn push_unsummed(&mut self, placed: PlacedPod) {
        let (affinity, anti) = affinity_flags(&placed.pod);
        self.pods_with_affinity += u32::from(affinity);
        self.pods_with_required_anti_affinity += u32::from(anti);
        self.pods.push(placed);
    }

    /// Removes the pod with this id from this node, if it is here.
    pub fn remove_id(&mut self, id: PodId) -> Option<PlacedPod> {
        let at = self.pods.iter().position(|p| p.id == Some(id))?;
        Some(self.remove_at(at))
    }

    /// [`NodeState::remove_id`] without the resource sums (see [`NodeState::push_unsummed`]).
    /// The last pod takes the removed one's place, as upstream's `NodeInfo.RemovePod` does
    /// (the pods' order is not their start order: `PlacedPod::start` is).
    pub fn remove_id_unsummed(&mut self, id: PodId) -> Option<PlacedPod> {
        // From the end: a pod assumed and forgotten again (a refused binding) is the last.
        let at = self.pods.iter().rposition(|p| p.id == Some(id))?;
        let placed = self.pods.swap_remove(at);
        self.uncount(&placed.pod);
        Some(placed)
    }

    /// Sets the resource sums of the pods here (plain requests, and with the non-zero
    /// defaults) and the GPUs' free shares, as a cache that keeps them elsewhere computed them.
    pub fn set_sums(
        &mut self,
        requested: &Resources,
        nonzero_cpu_milli: u64,
        nonzero_memory_bytes: u64,
        gpus: Option<&GpuSlots>,
    ) {
        self.requested.clone_from(requested);
        self.nonzero_cpu_milli = nonzero_cpu_milli;
        self.nonzero_memory_bytes = nonzero_memory_bytes;
        self.gpus = gpus.cloned();
    }

    /// Removes the pod `namespace/name` from this node, if it is here.
    pub fn remove(&mut self, namespace: &str, name: &str) -> Option<PlacedPod> {
        let at = self.pods.iter().position(|p| p.pod.namespace == namespace && p.pod.name == name)?;
        Some(self.remove_at(at))
    }

    /// Removes the pod at this index of `pods`, keeping the sums.
    fn remove_at(&mut self, at: usize) -> PlacedPod {
        let placed = self.pods.remove(at);
        let (cpu, memory) = nonzero_requests(&placed.pod);
        self.requested.sub(&placed.pod.requests);
        self.nonzero_cpu_milli -= cpu;
        self.nonzero_memory_bytes -= memory;
        self.uncount(&placed.pod);
        placed
    }

    /// Takes a pod that left out of the affinity counts.
    fn uncount(&mut self, pod: &Pod) {
        let (affinity, anti) = affinity_flags(pod);
        self.pods_with_affinity -= u32::from(affinity);
        self.pods_with_required_anti_affinity -= u32::from(anti);
    }
}

/// Whether a pod has any inter-pod (anti-)affinity term, and whether it has a required
/// anti-affinity term (upstream's `podWithAffinity`, `podWithRequiredAntiAffinity`).
pub fn affinity_flags(pod: &Pod) -> (bool, bool) {
    pod.terms.as_deref().map_or((false, false), |t| (t.has_pod_affinity(), !t.pod_anti_affinity_required.is_empty()))
}

/// Upstream's `schedutil.DefaultMilliCPURequest` and `DefaultMemoryRequest`: what a container
/// that requests no CPU or no memory counts as in NodeResourcesFit's score.
pub const DEFAULT_MILLI_CPU_REQUEST: u64 = 100;
pub const DEFAULT_MEMORY_REQUEST: u64 = 200 << 20;

/// A pod's CPU and memory requests with upstream's non-zero defaults applied to each container
/// (init containers too) that requests none: `resource.PodRequests` with
/// `NonMissingContainerRequests` (`k8s.io/component-helpers/resource`), the same aggregation as
/// the effective request — app containers and sidecars summed, each init container (with the
/// sidecars started before it) as a floor, then `spec.overhead`. (podlab cannot tell a request
/// of 0 from a missing one; upstream keeps an explicit 0.)
pub fn nonzero_requests(pod: &Pod) -> (u64, u64) {
    let nonzero = |c: &podlab_cluster::objects::Container| {
        let cpu = if c.requests.cpu_milli == 0 { DEFAULT_MILLI_CPU_REQUEST } else { c.requests.cpu_milli };
        let memory = if c.requests.memory_bytes == 0 { DEFAULT_MEMORY_REQUEST } else { c.requests.memory_bytes };
        (cpu, memory)
    };
    let (mut cpu, mut memory) = pod.containers.iter().map(nonzero).fold((0, 0), |(a, b), (c, m)| (a + c, b + m));
    let (mut sidecar_cpu, mut sidecar_memory, mut init_cpu, mut init_memory) = (0, 0, 0, 0);
    for init in &pod.init_containers {
        let (c, m) = nonzero(init);
        let during = if init.sidecar {
            cpu += c;
            memory += m;
            sidecar_cpu += c;
            sidecar_memory += m;
            (sidecar_cpu, sidecar_memory)
        } else {
            (c + sidecar_cpu, m + sidecar_memory)
        };
        init_cpu = init_cpu.max(during.0);
        init_memory = init_memory.max(during.1);
    }
    (cpu.max(init_cpu) + pod.overhead.cpu_milli, memory.max(init_memory) + pod.overhead.memory_bytes)
}

/// The whole view a cycle runs on.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub nodes: Vec<NodeState>,
    /// Services, ReplicationControllers, ReplicaSets and StatefulSets, for the default spread.
    pub spread_selectors: Vec<SpreadSelector>,
    pub pdbs: Vec<PodDisruptionBudget>,
    /// Each namespace's labels (a namespace absent here has none).
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
}

impl Snapshot {
    /// The node with this id, if the snapshot has it.
    pub fn node(&self, id: NodeId) -> Option<&NodeState> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The node with this id, to change.
    pub fn node_mut(&mut self, id: NodeId) -> Option<&mut NodeState> {
        self.nodes.iter_mut().find(|n| n.id == id)
    }

    /// Every placed pod with the node it is on.
    pub fn placed(&self) -> impl Iterator<Item = (&NodeState, &PlacedPod)> {
        self.nodes.iter().flat_map(|n| n.pods.iter().map(move |p| (n, p)))
    }

    /// How many nodes hold an image of this name (ImageLocality's spread).
    pub fn nodes_with_image(&self, image: &str) -> usize {
        self.nodes.iter().filter(|n| n.spec.images.iter().any(|i| i.names.iter().any(|x| x == image))).count()
    }
}
