//! The `kubernetes` policy's view of the cluster and its decision with the kube profile: the
//! scheduler's [`Snapshot`] kept up to date from watch events (every node's pods with their
//! labels, affinities and start order, and the cluster objects the plugins read), beside the
//! node table's packed verdicts (`crate::node_table`).
//!
//! A decision takes the packed fast path only where it is provably the plain cycle's: a pod with
//! nothing but CPU and memory requests and tolerations (no node selector or affinity, no
//! inter-pod terms, no spread constraints, no host ports, no extended resources, no image any
//! node holds, not selected by a Service or controller for the default spreading), in a cluster
//! where no placed pod has inter-pod terms and no node a PreferNoSchedule taint, under a profile
//! with the default plugins and resource arguments. There every plugin but NodeResourcesFit and
//! BalancedAllocation scores each node alike or skips itself, so the packed verdict (their sum)
//! orders the nodes as the total does. Every other decision runs [`cycle::run_sampled`]. Both
//! visit nodes from the same rotating start, stop at the same count of feasible nodes and break
//! ties with one draw among the best in visiting order; `node_table`'s test checks they agree.

use std::collections::BTreeMap;
use std::sync::Arc;

use podlab_cluster::apps::default_selector;
use podlab_cluster::config::KubeConfig;
use podlab_cluster::kube_config::{
    NodeResourcesFitArgs, PluginArgs as ConfigArgs, PluginConfig, Plugins, ProfileConfig, ScoringStrategyType,
};
use podlab_cluster::rng::below;
use podlab_cluster::scenario::{Scenario, ScoringStrategy};
use podlab_cluster::{Node, NodeId, Pod, PodId, PodSpec, SimDuration};
use rand_core::Rng;

use super::cycle::{self, CycleResult, Sampling};
use super::pending::{Pending, Placement};
use super::plugins::node_affinity::AddedAffinity;
use super::plugins::node_resources_fit::{NodeResourcesFit, ResourceSpec, Strategy};
use super::plugins::{balanced_allocation, image_locality, node_unschedulable, taint_toleration};
use super::profile::{DEFAULT_SCHEDULER_NAME, PluginArgs, Profile, build};
use super::snapshot::{NodeState, PlacedPod, Snapshot, affinity_flags, nonzero_requests};
use crate::framework::{NodeInfo, Unit};
use crate::node_table::{Kube, NodeTable, Shape};

/// The pod of an id the cache has placed: its holder's (the scheduler holds every pod it has
/// heard of and not seen end). Read once, when the snapshot first keeps the placed pods.
pub type PodOf<'a> = &'a dyn Fn(PodId) -> Arc<Pod>;

/// The kube profile, its snapshot of the cluster and what tells whether the fast path holds.
pub struct KubeCache {
    pub profile: Profile,
    /// Read through [`KubeCache::sync`]: its resource sums lag behind the table's.
    snapshot: Snapshot,
    /// Each node slot's position in `snapshot.nodes` (kept in node id order).
    positions: Vec<Option<u32>>,
    /// The NodeResourcesFit plugin as configured, for the fast path's nodes that are not plain.
    fit: NodeResourcesFit,
    /// The packed verdicts' strategy, when the profile allows the fast path at all.
    fast: Option<ScoringStrategy>,
    /// Nodes with a PreferNoSchedule taint (TaintToleration then scores nodes apart).
    prefer_no_schedule: usize,
    /// Every image name a node holds, with how many nodes hold it.
    images: BTreeMap<String, u32>,
    /// Placed pods with inter-pod affinity or anti-affinity terms, over every node.
    pods_with_affinity: u64,
    /// Pods nominated to a node and not bound yet: their resources count on that node in the
    /// filters (`RunFilterPluginsWithNominatedPods`), so the fast path is off while any exist.
    pub nominated: usize,
    /// Those pods, on their nominated nodes (kept by the scheduler's preemption books).
    pub nominated_pods: Vec<(NodeId, PlacedPod)>,
    /// `DefaultPreemptionArgs` of the profile's `pluginConfig` (upstream's defaults otherwise).
    pub preemption_args: super::preemption::Args,
    /// The last pod spec asked about and its shape (`None`: not for the fast path).
    last_shape: Option<(Arc<PodSpec>, Option<Shape>)>,
    /// Nodes whose sums in the snapshot are behind the table's, as a list and by slot.
    unsynced_list: Vec<u32>,
    unsynced: Vec<bool>,
    /// Whether the snapshot keeps the nodes and their pods. Not until a cycle first reads it:
    /// until then (a run of plain pods on the fast path, which reads the table only) a node is
    /// its spec in `specs`, by slot (a `NodeState` is about 120 bytes), and the placed pods
    /// wait in `pending` with their node and start, and a placement costs an append.
    active: bool,
    specs: Vec<Option<Arc<Node>>>,
    pending: Pending,
    /// The configuration's other profiles, each with what goes with it; one is swapped with
    /// the one in use when a pod names it by `schedulerName` ([`KubeCache::use_profile_for`]).
    others: Vec<Unused>,
    /// The profile's own `percentageOfNodesToScore`, over the configuration's.
    percentage: Option<u32>,
    /// Whether a pod whose `schedulerName` names no profile is scheduled all the same (no
    /// KubeSchedulerConfiguration: the default profile takes every pod).
    claims_all: bool,
}

/// A profile not in use, with what goes with it (see the fields of the same names).
struct Unused {
    profile: Profile,
    fit: NodeResourcesFit,
    fast: Option<ScoringStrategy>,
    preemption_args: super::preemption::Args,
    percentage: Option<u32>,
}

impl KubeCache {
    /// The profile a KubeSchedulerConfiguration describes (`profile::build`), over the
    /// cluster objects `objects` holds (spread selectors, PDBs, namespaces; no nodes yet).
    pub fn new(config: &ProfileConfig, objects: Snapshot) -> KubeCache {
        let profile = build(config);
        let args = PluginArgs::of(config);
        let fast = fast_strategy(config, &args);
        KubeCache {
            profile,
            snapshot: Snapshot { nodes: Vec::new(), ..objects },
            positions: Vec::new(),
            fit: NodeResourcesFit::new(args.fit.clone()),
            fast,
            prefer_no_schedule: 0,
            images: BTreeMap::new(),
            pods_with_affinity: 0,
            nominated: 0,
            nominated_pods: Vec::new(),
            preemption_args: preemption_args(config),
            last_shape: None,
            unsynced_list: Vec::new(),
            unsynced: Vec::new(),
            active: false,
            specs: Vec::new(),
            pending: Pending::default(),
            others: Vec::new(),
            percentage: own_percentage(config),
            claims_all: true,
        }
    }

    /// This cache with the configuration's other profiles beside the one in use; from now on
    /// it schedules only the pods that name one of its profiles, as kube-scheduler does.
    pub fn with_other_profiles(mut self, configs: &[ProfileConfig]) -> KubeCache {
        self.claims_all = false;
        for config in configs.iter().filter(|c| c.scheduler_name != self.profile.scheduler_name) {
            let args = PluginArgs::of(config);
            self.others.push(Unused {
                profile: build(config),
                fit: NodeResourcesFit::new(args.fit.clone()),
                fast: fast_strategy(config, &args),
                preemption_args: preemption_args(config),
                percentage: own_percentage(config),
            });
        }
        self
    }

    /// Whether this scheduler schedules `pod`: with a configuration, only a pod whose
    /// `schedulerName` names one of its profiles (upstream's `responsibleForPod`; the others
    /// are left for another scheduler and stay Pending); without one, every pod.
    pub fn responsible_for(&self, pod: &Pod) -> bool {
        self.claims_all
            || self.profile.scheduler_name == pod.scheduler_name
            || self.others.iter().any(|o| o.profile.scheduler_name == pod.scheduler_name)
    }

    /// Puts in use the profile of the pod's `schedulerName`; a pod that names none keeps the
    /// one in use (without a configuration there is only the default). Everything that runs a
    /// cycle for the pod reads `profile` after this.
    pub fn use_profile_for(&mut self, pod: &Pod) {
        // One profile (every run without a configuration of several): no name to compare on
        // the decision's hot path.
        if self.others.is_empty() || self.profile.scheduler_name == pod.scheduler_name {
            return;
        }
        let Some(other) = self.others.iter_mut().find(|o| o.profile.scheduler_name == pod.scheduler_name) else {
            return;
        };
        std::mem::swap(&mut self.profile, &mut other.profile);
        std::mem::swap(&mut self.fit, &mut other.fit);
        std::mem::swap(&mut self.fast, &mut other.fast);
        std::mem::swap(&mut self.preemption_args, &mut other.preemption_args);
        std::mem::swap(&mut self.percentage, &mut other.percentage);
        // The fast path's shape holds the profile's scoring strategy.
        self.last_shape = None;
    }

    /// The cache for a scenario's `kubernetes` policy: its cluster objects, and the profiles of
    /// its KubeSchedulerConfiguration (`default-scheduler`'s in use, else the first's), or
    /// without one the default profile with `spec.scheduler`'s scoring strategy.
    pub fn for_scenario(scenario: &Scenario) -> KubeCache {
        let config = match &scenario.scheduler_config {
            Some(c) => c.profile(DEFAULT_SCHEDULER_NAME).or(c.profiles.first()).cloned().unwrap_or_default(),
            None => {
                let mut profile = ProfileConfig::named(DEFAULT_SCHEDULER_NAME);
                if scenario.config.scheduler.scoring == ScoringStrategy::MostAllocated {
                    let mut fit = NodeResourcesFitArgs::default();
                    fit.scoring_strategy.kind = ScoringStrategyType::MostAllocated;
                    let args = ConfigArgs::NodeResourcesFit(fit);
                    profile.plugin_config.push(PluginConfig { name: "NodeResourcesFit".into(), args });
                }
                profile
            }
        };
        let objects = Snapshot {
            nodes: Vec::new(),
            spread_selectors: scenario.kube.spread_selectors.clone(),
            pdbs: scenario.kube.pdbs.clone(),
            namespace_labels: scenario.kube.namespace_labels.clone(),
        };
        let cache = KubeCache::new(&config, objects);
        match &scenario.scheduler_config {
            Some(c) => cache.with_other_profiles(&c.profiles),
            None => cache,
        }
    }

    /// What a scenario's KubeSchedulerConfiguration sets beyond its profiles: the share of
    /// nodes to score (a profile's own overrides it in [`KubeCache::decide`]) and the pods'
    /// backoff, over `spec.scheduler`.
    pub fn apply_settings(scenario: &Scenario, config: &mut KubeConfig) {
        let Some(c) = &scenario.scheduler_config else { return };
        config.percentage_of_nodes_to_score = u32::try_from(c.percentage_of_nodes_to_score).unwrap_or(0);
        let seconds = |s: i64| SimDuration::from_secs(u64::try_from(s).unwrap_or(0));
        config.pod_initial_backoff = seconds(c.pod_initial_backoff_seconds);
        config.pod_max_backoff = seconds(c.pod_max_backoff_seconds);
    }

    fn position(&self, node: NodeId) -> Option<usize> {
        self.positions.get(node.index()).copied().flatten().map(|p| p as usize)
    }

    /// A node joined or its spec changed; its pods stay.
    pub fn upsert_node(&mut self, id: NodeId, spec: Arc<Node>) {
        let old = if self.active {
            self.upsert_state(id, spec.clone())
        } else {
            if self.specs.len() <= id.index() {
                self.specs.resize(id.index() + 1, None);
            }
            self.specs[id.index()].replace(spec.clone())
        };
        if let Some(old) = old {
            count_node(&mut self.prefer_no_schedule, &mut self.images, &old, false);
        }
        count_node(&mut self.prefer_no_schedule, &mut self.images, &spec, true);
    }

    /// The snapshot's node `id` with this spec, new or changed; its old spec.
    fn upsert_state(&mut self, id: NodeId, spec: Arc<Node>) -> Option<Arc<Node>> {
        match self.position(id) {
            Some(p) => Some(std::mem::replace(&mut self.snapshot.nodes[p].spec, spec)),
            None => {
                let at = self.snapshot.nodes.partition_point(|n| n.id < id);
                self.snapshot.nodes.insert(at, NodeState::new(id, spec));
                if self.positions.len() <= id.index() {
                    self.positions.resize(id.index() + 1, None);
                    self.unsynced.resize(id.index() + 1, false);
                }
                for (p, n) in self.snapshot.nodes.iter().enumerate().skip(at) {
                    self.positions[n.id.index()] = Some(p as u32);
                }
                None
            }
        }
    }

    /// A pod placed (bound or assumed) on a node, in both books: the node table's and the
    /// snapshot's; `start` orders the pods' starts. The snapshot's resource sums are the
    /// table's, copied when a cycle needs them ([`KubeCache::sync`]). `unit` is the pod's
    /// `Unit` (whole).
    pub fn place(
        &mut self,
        table: &mut NodeTable,
        id: PodId,
        pod: &Arc<Pod>,
        unit: &Unit<'_>,
        node: NodeId,
        start: u64,
    ) {
        table.add(node, unit);
        self.pods_with_affinity += u64::from(affinity_flags(pod).0);
        if !self.active {
            self.pending.place(Placement { id, node, start });
            return;
        }
        let Some(p) = self.position(node) else { return };
        self.snapshot.nodes[p].push_unsummed(PlacedPod { pod: pod.clone(), id: Some(id), start });
        self.mark(node);
    }

    /// A pod gone from a node, from both books.
    pub fn unplace(&mut self, table: &mut NodeTable, id: PodId, unit: &Unit<'_>, node: NodeId) {
        table.remove(node, unit);
        let removed = if self.active {
            let removed = self.position(node).and_then(|p| self.snapshot.nodes[p].remove_id_unsummed(id)).is_some();
            self.mark(node);
            removed
        } else {
            self.pending.unplace(id)
        };
        if removed {
            self.pods_with_affinity -= u64::from(affinity_flags(unit.pod).0);
        }
    }

    /// The snapshot keeps every node and its pods from now on: the nodes so far join it, in
    /// id order, and the pods placed so far their nodes.
    fn activate(&mut self, pod_of: PodOf<'_>) {
        if self.active {
            return;
        }
        self.active = true;
        for (slot, spec) in std::mem::take(&mut self.specs).into_iter().enumerate() {
            if let Some(spec) = spec {
                self.upsert_state(NodeId(slot as u32), spec);
            }
        }
        // In id order, as the pods have always joined their nodes here.
        for Placement { id, node, start } in self.pending.take_by_id() {
            let Some(p) = self.position(node) else { continue };
            self.snapshot.nodes[p].push_unsummed(PlacedPod { pod: pod_of(id), id: Some(id), start });
            self.mark(node);
        }
    }

    /// The node has other pods than its sums in the snapshot say.
    fn mark(&mut self, node: NodeId) {
        if !self.unsynced[node.index()] {
            self.unsynced[node.index()] = true;
            self.unsynced_list.push(node.0);
        }
    }

    /// Brings the snapshot's resource sums up to date from the table's, for a cycle (or
    /// preemption's dry run) to read; the snapshot, synced. `pod_of` gives the placed pods
    /// the first time the snapshot keeps them (the decisions' `pod_of` below is passed here).
    pub fn sync(&mut self, table: &NodeTable, pod_of: PodOf<'_>) -> &Snapshot {
        self.activate(pod_of);
        for slot in std::mem::take(&mut self.unsynced_list) {
            let node = NodeId(slot);
            self.unsynced[node.index()] = false;
            if let (Some(p), Some(info)) = (self.position(node), table.get(node)) {
                let gpus = info.gpus.as_deref().map(|b| &b.slots);
                self.snapshot.nodes[p].set_sums(&info.requested, info.score_cpu_milli, info.score_memory_bytes, gpus);
            }
        }
        &self.snapshot
    }

    /// The profile and the snapshot synced with `table`, together: what preemption's dry run
    /// and a nominated pod's first look at its node read.
    pub fn profile_and_snapshot(&mut self, table: &NodeTable, pod_of: PodOf<'_>) -> (&mut Profile, &Snapshot) {
        self.sync(table, pod_of);
        (&mut self.profile, &self.snapshot)
    }

    /// The decision for `pod` of the profile its `schedulerName` names: the chosen node, or the
    /// cycle that found none. Sampled as the profile's own `percentageOfNodesToScore` says, else
    /// `percentage`, from the table's rotating start, which moves on; ties are broken by one
    /// draw of `rng` among the best nodes, in visiting order.
    pub fn decide(
        &mut self,
        table: &mut NodeTable,
        pod: &Pod,
        percentage: u32,
        rng: &mut impl Rng,
        pod_of: PodOf<'_>,
    ) -> Result<NodeId, Box<CycleResult>> {
        self.use_profile_for(pod);
        let percentage = self.percentage.unwrap_or(percentage);
        if let Some(shape) = self.fast_shape(pod) {
            let chosen = table.select_kube(shape, percentage, rng, |info| self.slow_node(pod, info));
            if let Some(node) = chosen {
                return Ok(node);
            }
            // Nothing feasible: every node was visited and the start stays; the plain cycle
            // gives the statuses (its visit draws nothing either).
        }
        self.decide_plain(table, pod, percentage, rng, pod_of)
    }

    /// [`KubeCache::decide`] by the plain cycle alone, whatever the pod.
    pub fn decide_plain(
        &mut self,
        table: &mut NodeTable,
        pod: &Pod,
        percentage: u32,
        rng: &mut impl Rng,
        pod_of: PodOf<'_>,
    ) -> Result<NodeId, Box<CycleResult>> {
        self.use_profile_for(pod);
        let percentage = self.percentage.unwrap_or(percentage);
        self.sync(table, pod_of);
        let nodes = &self.snapshot.nodes;
        let slot = table.next_start();
        let start = match nodes.partition_point(|n| n.id.index() < slot) {
            p if p < nodes.len() => p,
            _ => 0,
        };
        let sampling = Sampling { start, percentage };
        let (result, next) =
            cycle::run_sampled_with(&mut self.profile, pod, &self.snapshot, sampling, &self.nominated_pods);
        if let Some(node) = self.snapshot.nodes.get(next) {
            table.set_next_start(node.id.index());
        }
        let ties = result.top.len() as u64;
        if ties == 0 {
            return Err(Box::new(result));
        }
        let k = if ties > 1 { below(rng, ties) } else { 0 };
        Ok(result.top[k as usize])
    }

    /// The profile's whole cycle for `pod` over every node (no sampling, nothing chosen), on
    /// the snapshot synced with `table`: what `explain` shows.
    pub fn cycle(&mut self, table: &NodeTable, pod: &Pod, pod_of: PodOf<'_>) -> CycleResult {
        self.use_profile_for(pod);
        self.sync(table, pod_of);
        cycle::run_sampled_with(&mut self.profile, pod, &self.snapshot, Sampling::ALL, &self.nominated_pods).0
    }

    /// The packed verdicts' shape for `pod`, when the fast path decides it as the profile
    /// would (see the module's doc). What depends on the pod alone is kept for its spec (the
    /// pods of one template share it).
    pub fn fast_shape(&mut self, pod: &Pod) -> Option<Shape> {
        let strategy = self.fast?;
        if self.prefer_no_schedule != 0 || self.pods_with_affinity != 0 || self.nominated != 0 {
            return None;
        }
        let shape = match &self.last_shape {
            Some((spec, shape)) if Arc::ptr_eq(spec, &pod.spec) => *shape,
            _ => {
                let shape = self.pod_shape(pod, strategy);
                self.last_shape = Some((pod.spec.clone(), shape));
                shape
            }
        };
        if !self.images.is_empty() && pod_images(pod).any(|image| self.images.contains_key(&image)) {
            return None;
        }
        shape
    }

    /// What of the fast path's eligibility and shape depends on the pod alone.
    fn pod_shape(&self, pod: &Pod, strategy: ScoringStrategy) -> Option<Shape> {
        if !plain_pod(pod) {
            return None;
        }
        if !self.snapshot.spread_selectors.is_empty()
            && !default_selector(&self.snapshot.spread_selectors, pod).is_empty()
        {
            return None;
        }
        let (score_cpu, score_memory) = nonzero_requests(pod);
        let (cpu, memory) = (pod.requests.cpu_milli, pod.requests.memory_bytes);
        Some(Shape {
            want_cpu: cpu as i64,
            want_memory: memory as i64,
            score_cpu,
            score_memory,
            strategy,
            kube: Some(Kube { balanced: (cpu != 0 || memory != 0).then_some((cpu, memory)) }),
        })
    }

    /// A node that is not plain (tainted, cordoned, with extended resources), for a pod the
    /// fast path takes: the filters that can refuse it — NodeUnschedulable, TaintToleration,
    /// NodeResourcesFit (the others pass such a pod) — and the fit plus balanced score.
    fn slow_node(&self, pod: &Pod, info: &NodeInfo) -> Option<u64> {
        let spec = &info.spec;
        if spec.unschedulable && !node_unschedulable::tolerates_cordon(pod) {
            return None;
        }
        if taint_toleration::untolerated_taint(&pod.tolerations, &spec.taints).is_some() {
            return None;
        }
        let gpus = info.gpus.as_deref().map(|b| &b.slots);
        self.fit.filter_on(pod, &info.requested, info.parts as usize, spec, gpus).ok()?;
        let (cpu, memory) = nonzero_requests(pod);
        let alloc = [spec.allocatable.cpu_milli as i64, spec.allocatable.memory_bytes as i64];
        let nonzero = [(info.score_cpu_milli + cpu) as i64, (info.score_memory_bytes + memory) as i64];
        let fit = self.fit.args.score(&nonzero, &alloc);
        let requested = [
            (info.requested.cpu_milli + pod.requests.cpu_milli) as i64,
            (info.requested.memory_bytes + pod.requests.memory_bytes) as i64,
        ];
        let best_effort = pod.requests.cpu_milli == 0 && pod.requests.memory_bytes == 0;
        // Both scores leave out a resource with nothing allocatable.
        let balanced = if best_effort { 0 } else { balanced_allocation::balanced_score(&requested, &alloc) };
        Some((fit + balanced).max(0) as u64)
    }
}

/// The packed verdicts' strategy when the profile is the default one in all but its
/// scoring strategy (LeastAllocated or MostAllocated over cpu and memory, weight 1 each): no
/// plugin enabled, disabled or re-weighted at any extension point, no added affinity,
/// BalancedAllocation over cpu and memory. `None`: every decision runs the cycle.
fn fast_strategy(config: &ProfileConfig, args: &PluginArgs) -> Option<ScoringStrategy> {
    let resources = |r: &[ResourceSpec]| r == ResourceSpec::defaults().as_slice();
    let default = config.plugins == Plugins::default()
        && args.node_affinity == AddedAffinity::default()
        && resources(&args.fit.resources)
        && resources(&args.balanced_resources);
    match (default, &args.fit.strategy) {
        (true, Strategy::LeastAllocated) => Some(ScoringStrategy::LeastAllocated),
        (true, Strategy::MostAllocated) => Some(ScoringStrategy::MostAllocated),
        _ => None,
    }
}

/// Counts a node's PreferNoSchedule taint and images in (`add`) or out.
fn count_node(prefer: &mut usize, images: &mut BTreeMap<String, u32>, spec: &Node, add: bool) {
    let has_prefer = spec.taints.iter().any(|t| t.effect == podlab_cluster::objects::TaintEffect::PreferNoSchedule);
    let mut names: Vec<&str> = spec.images.iter().flat_map(|i| i.names.iter().map(String::as_str)).collect();
    names.sort_unstable();
    names.dedup();
    if add {
        *prefer += usize::from(has_prefer);
        for name in names {
            *images.entry(name.to_string()).or_default() += 1;
        }
    } else {
        *prefer -= usize::from(has_prefer);
        for name in names {
            if let Some(count) = images.get_mut(name) {
                *count -= 1;
                if *count == 0 {
                    images.remove(name);
                }
            }
        }
    }
}

/// A pod with nothing but CPU and memory requests and tolerations to decide by.
fn plain_pod(pod: &Pod) -> bool {
    let terms = pod.terms.as_deref().is_none_or(|t| {
        t.preferred_node_affinity.is_empty()
            && !t.has_pod_affinity()
            && t.topology_spread.is_empty()
            && t.host_ports.is_empty()
    });
    terms
        && pod.node_selector.is_empty()
        && pod.required_node_affinity.is_none()
        && pod.requests.extended.is_empty()
        && pod.gpu_share_milli == 0
        && pod.node_name().is_none()
}

/// The pod's images as ImageLocality looks them up.
fn pod_images(pod: &Pod) -> impl Iterator<Item = String> + '_ {
    pod.init_containers.iter().chain(&pod.containers).map(|c| image_locality::normalized_image_name(&c.image))
}

/// A profile's own `percentageOfNodesToScore`, if it sets one.
fn own_percentage(config: &ProfileConfig) -> Option<u32> {
    config.percentage_of_nodes_to_score.map(|p| u32::try_from(p).unwrap_or(0))
}

/// A profile's `DefaultPreemptionArgs` (`pluginConfig`), defaulted as upstream.
fn preemption_args(config: &ProfileConfig) -> super::preemption::Args {
    let mut args = super::preemption::Args::default();
    for entry in &config.plugin_config {
        if let ConfigArgs::DefaultPreemption(a) = &entry.args {
            args.min_candidate_nodes_percentage = a.min_candidate_nodes_percentage;
            args.min_candidate_nodes_absolute = a.min_candidate_nodes_absolute;
        }
    }
    args
}
