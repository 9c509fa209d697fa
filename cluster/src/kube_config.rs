//! kube-scheduler's configuration (`KubeSchedulerConfiguration`,
//! `kubescheduler.config.k8s.io/v1`) as plain data: its profiles, each profile's plugins per
//! extension point as the file writes them, and its plugins' arguments with upstream's defaults
//! for what the file leaves out (`pkg/scheduler/apis/config/v1/defaults.go`). The loader parses
//! and validates it (`scenario::scheduler_config`); the `kubernetes` policy builds its profiles
//! from it, merging each profile's plugins with the default ones as upstream's `mergePlugins`
//! does.

use crate::affinity::{PreferredSchedulingTerm, TopologySpreadConstraint};
use crate::objects::NodeSelectorTerm;
use crate::time::SimDuration;

/// The API version podlab reads.
pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";
/// The scheduler name of the default profile (`v1.DefaultSchedulerName`).
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// The highest score of a `RequestedToCapacityRatio` shape point (`MaxCustomPriorityScore`).
pub const MAX_CUSTOM_PRIORITY_SCORE: i32 = 10;

/// A whole configuration file, defaulted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeSchedulerConfiguration {
    /// At least one; the only one is `default-scheduler` when the file names none.
    pub profiles: Vec<ProfileConfig>,
    /// 0 (the default) is the adaptive rule: every node below 100 nodes.
    pub percentage_of_nodes_to_score: i32,
    /// Default 1.
    pub pod_initial_backoff_seconds: i64,
    /// Default 10.
    pub pod_max_backoff_seconds: i64,
    /// Default 16 (podlab's cycles are sequential; read for completeness).
    pub parallelism: i32,
}

impl Default for KubeSchedulerConfiguration {
    /// What kube-scheduler runs without a configuration file.
    fn default() -> Self {
        KubeSchedulerConfiguration {
            profiles: vec![ProfileConfig::named(DEFAULT_SCHEDULER_NAME)],
            percentage_of_nodes_to_score: 0,
            pod_initial_backoff_seconds: 1,
            pod_max_backoff_seconds: 10,
            parallelism: 16,
        }
    }
}

impl KubeSchedulerConfiguration {
    /// The profile for pods with this `schedulerName`.
    pub fn profile(&self, scheduler_name: &str) -> Option<&ProfileConfig> {
        self.profiles.iter().find(|p| p.scheduler_name == scheduler_name)
    }
}

/// One `profiles[]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileConfig {
    pub scheduler_name: String,
    /// The profile's own `percentageOfNodesToScore`, overriding the file's.
    pub percentage_of_nodes_to_score: Option<i32>,
    /// As written: the default plugins are not merged in (an empty set changes nothing).
    pub plugins: Plugins,
    /// `pluginConfig`, in file order, each with its arguments' defaults filled in. A plugin
    /// absent here runs with its default arguments (each args type's `Default`).
    pub plugin_config: Vec<PluginConfig>,
}

impl ProfileConfig {
    /// A profile with nothing written but its name: the default plugins and arguments.
    pub fn named(scheduler_name: &str) -> ProfileConfig {
        ProfileConfig { scheduler_name: scheduler_name.into(), ..Default::default() }
    }

    /// The arguments configured for a plugin, if any.
    pub fn args(&self, plugin: &str) -> Option<&PluginArgs> {
        self.plugin_config.iter().find(|c| c.name == plugin).map(|c| &c.args)
    }
}

/// A profile's extension points (`Plugins`), each a set of enabled and disabled plugins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plugins {
    pub multi_point: PluginSet,
    pub pre_enqueue: PluginSet,
    pub queue_sort: PluginSet,
    pub pre_filter: PluginSet,
    pub filter: PluginSet,
    pub post_filter: PluginSet,
    pub pre_score: PluginSet,
    pub score: PluginSet,
    pub reserve: PluginSet,
    pub permit: PluginSet,
    pub pre_bind: PluginSet,
    pub bind: PluginSet,
    pub post_bind: PluginSet,
}

/// An extension point, by the name the file gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExtensionPoint {
    MultiPoint,
    PreEnqueue,
    QueueSort,
    PreFilter,
    Filter,
    PostFilter,
    PreScore,
    Score,
    Reserve,
    Permit,
    PreBind,
    Bind,
    PostBind,
}

impl ExtensionPoint {
    /// Every extension point, in the order of `Plugins`.
    pub const ALL: [ExtensionPoint; 13] = [
        ExtensionPoint::MultiPoint,
        ExtensionPoint::PreEnqueue,
        ExtensionPoint::QueueSort,
        ExtensionPoint::PreFilter,
        ExtensionPoint::Filter,
        ExtensionPoint::PostFilter,
        ExtensionPoint::PreScore,
        ExtensionPoint::Score,
        ExtensionPoint::Reserve,
        ExtensionPoint::Permit,
        ExtensionPoint::PreBind,
        ExtensionPoint::Bind,
        ExtensionPoint::PostBind,
    ];

    /// Its field name in the file (`multiPoint`, `preFilter`…).
    pub fn name(self) -> &'static str {
        match self {
            ExtensionPoint::MultiPoint => "multiPoint",
            ExtensionPoint::PreEnqueue => "preEnqueue",
            ExtensionPoint::QueueSort => "queueSort",
            ExtensionPoint::PreFilter => "preFilter",
            ExtensionPoint::Filter => "filter",
            ExtensionPoint::PostFilter => "postFilter",
            ExtensionPoint::PreScore => "preScore",
            ExtensionPoint::Score => "score",
            ExtensionPoint::Reserve => "reserve",
            ExtensionPoint::Permit => "permit",
            ExtensionPoint::PreBind => "preBind",
            ExtensionPoint::Bind => "bind",
            ExtensionPoint::PostBind => "postBind",
        }
    }
}

impl Plugins {
    pub fn get(&self, point: ExtensionPoint) -> &PluginSet {
        match point {
            ExtensionPoint::MultiPoint => &self.multi_point,
            ExtensionPoint::PreEnqueue => &self.pre_enqueue,
            ExtensionPoint::QueueSort => &self.queue_sort,
            ExtensionPoint::PreFilter => &self.pre_filter,
            ExtensionPoint::Filter => &self.filter,
            ExtensionPoint::PostFilter => &self.post_filter,
            ExtensionPoint::PreScore => &self.pre_score,
            ExtensionPoint::Score => &self.score,
            ExtensionPoint::Reserve => &self.reserve,
            ExtensionPoint::Permit => &self.permit,
            ExtensionPoint::PreBind => &self.pre_bind,
            ExtensionPoint::Bind => &self.bind,
            ExtensionPoint::PostBind => &self.post_bind,
        }
    }

    pub fn get_mut(&mut self, point: ExtensionPoint) -> &mut PluginSet {
        match point {
            ExtensionPoint::MultiPoint => &mut self.multi_point,
            ExtensionPoint::PreEnqueue => &mut self.pre_enqueue,
            ExtensionPoint::QueueSort => &mut self.queue_sort,
            ExtensionPoint::PreFilter => &mut self.pre_filter,
            ExtensionPoint::Filter => &mut self.filter,
            ExtensionPoint::PostFilter => &mut self.post_filter,
            ExtensionPoint::PreScore => &mut self.pre_score,
            ExtensionPoint::Score => &mut self.score,
            ExtensionPoint::Reserve => &mut self.reserve,
            ExtensionPoint::Permit => &mut self.permit,
            ExtensionPoint::PreBind => &mut self.pre_bind,
            ExtensionPoint::Bind => &mut self.bind,
            ExtensionPoint::PostBind => &mut self.post_bind,
        }
    }
}

/// `enabled` and `disabled` of one extension point.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginSet {
    pub enabled: Vec<PluginRef>,
    /// Plugin names; `*` disables every default plugin of the extension point.
    pub disabled: Vec<String>,
}

/// An enabled plugin and its score weight as written (`None`: unset; upstream then uses the
/// default plugin's weight, or 1 — and 0 counts as 1, `getScoreWeights`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginRef {
    pub name: String,
    pub weight: Option<i32>,
}

/// One `pluginConfig` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginConfig {
    pub name: String,
    pub args: PluginArgs,
}

/// A plugin's typed arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PluginArgs {
    DefaultPreemption(DefaultPreemptionArgs),
    InterPodAffinity(InterPodAffinityArgs),
    NodeAffinity(NodeAffinityArgs),
    NodeResourcesBalancedAllocation(NodeResourcesBalancedAllocationArgs),
    NodeResourcesFit(NodeResourcesFitArgs),
    PodTopologySpread(PodTopologySpreadArgs),
    /// Read and validated; podlab models no volumes.
    VolumeBinding(VolumeBindingArgs),
    /// Read and validated; podlab models no resource claims.
    DynamicResources(DynamicResourcesArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultPreemptionArgs {
    /// 0–100, default 10.
    pub min_candidate_nodes_percentage: i32,
    /// At least 0, default 100 (not both 0).
    pub min_candidate_nodes_absolute: i32,
}

impl Default for DefaultPreemptionArgs {
    fn default() -> Self {
        DefaultPreemptionArgs { min_candidate_nodes_percentage: 10, min_candidate_nodes_absolute: 100 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterPodAffinityArgs {
    /// 0–100, default 1: the score an existing pod's required affinity term gives.
    pub hard_pod_affinity_weight: i32,
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinityArgs {
    fn default() -> Self {
        InterPodAffinityArgs { hard_pod_affinity_weight: 1, ignore_preferred_terms_of_existing_pods: false }
    }
}

/// `NodeAffinityArgs`: node affinity every pod of the profile gets on top of its own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeAffinityArgs {
    pub added_affinity: Option<AddedAffinity>,
}

/// `addedAffinity` (a `v1.NodeAffinity`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddedAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms` (any term).
    pub required: Option<Vec<NodeSelectorTerm>>,
    pub preferred: Vec<PreferredSchedulingTerm>,
}

/// A resource and its weight in a score.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceSpec {
    pub name: String,
    pub weight: i64,
}

impl ResourceSpec {
    /// `cpu` and `memory`, weight 1 each (`defaultResourceSpec`).
    pub fn defaults() -> Vec<ResourceSpec> {
        vec![ResourceSpec { name: "cpu".into(), weight: 1 }, ResourceSpec { name: "memory".into(), weight: 1 }]
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeResourcesBalancedAllocationArgs {
    /// Default cpu and memory; every weight 1 (upstream refuses others).
    pub resources: Vec<ResourceSpec>,
}

impl Default for NodeResourcesBalancedAllocationArgs {
    fn default() -> Self {
        NodeResourcesBalancedAllocationArgs { resources: ResourceSpec::defaults() }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeResourcesFitArgs {
    /// Resources the filter ignores.
    pub ignored_resources: Vec<String>,
    /// Resource groups (the prefix before `/`) the filter ignores.
    pub ignored_resource_groups: Vec<String>,
    pub scoring_strategy: ScoringStrategy,
}

/// NodeResourcesFit's `scoringStrategy`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoringStrategy {
    pub kind: ScoringStrategyType,
    /// Weights 1–100; default cpu and memory.
    pub resources: Vec<ResourceSpec>,
    /// `requestedToCapacityRatio.shape`, only (and always) with that strategy: utilisation
    /// 0–100 strictly increasing, score 0–10.
    pub shape: Vec<UtilizationShapePoint>,
}

impl Default for ScoringStrategy {
    fn default() -> Self {
        ScoringStrategy {
            kind: ScoringStrategyType::LeastAllocated,
            resources: ResourceSpec::defaults(),
            shape: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoringStrategyType {
    LeastAllocated,
    MostAllocated,
    RequestedToCapacityRatio,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtilizationShapePoint {
    pub utilization: i32,
    pub score: i32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodTopologySpreadArgs {
    /// Used with `List` defaulting, for pods without constraints of their own; no selector
    /// (each pod's is deduced from its Services and controller).
    pub default_constraints: Vec<TopologySpreadConstraint>,
    pub defaulting_type: DefaultingType,
}

/// `defaultingType`: `System` (hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway) or `List`
/// (`defaultConstraints`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DefaultingType {
    #[default]
    System,
    List,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VolumeBindingArgs {
    /// Default 600.
    pub bind_timeout_seconds: i64,
}

impl Default for VolumeBindingArgs {
    fn default() -> Self {
        VolumeBindingArgs { bind_timeout_seconds: 600 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DynamicResourcesArgs {
    /// Default 10 s.
    pub filter_timeout: SimDuration,
}

impl Default for DynamicResourcesArgs {
    fn default() -> Self {
        DynamicResourcesArgs { filter_timeout: SimDuration::from_secs(10) }
    }
}

/// An in-tree plugin of kube-scheduler v1.35 (`pkg/scheduler/framework/plugins/registry.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: &'static str,
    /// The extension points it implements (as the default profile lists it in v1.35);
    /// `None` for the alpha plugins podlab knows only by name.
    pub points: Option<&'static [ExtensionPoint]>,
    /// Whether podlab models what it checks. The volume plugins pass and skip for a pod
    /// without volumes, and podlab has none; GangScheduling and NodeDeclaredFeatures sit
    /// behind feature gates that are off by default.
    pub modelled: bool,
}

/// Every in-tree plugin name v1.35 knows.
pub const PLUGINS: &[PluginInfo] = {
    use ExtensionPoint::*;
    const fn p(name: &'static str, points: &'static [ExtensionPoint], modelled: bool) -> PluginInfo {
        PluginInfo { name, points: Some(points), modelled }
    }
    &[
        p("SchedulingGates", &[PreEnqueue], true),
        p("PrioritySort", &[QueueSort], true),
        p("NodeUnschedulable", &[Filter], true),
        p("NodeName", &[Filter], true),
        p("TaintToleration", &[Filter, PreScore, Score], true),
        p("NodeAffinity", &[PreFilter, Filter, PreScore, Score], true),
        p("NodePorts", &[PreFilter, Filter], true),
        p("NodeResourcesFit", &[PreFilter, Filter, PreScore, Score], true),
        p("VolumeRestrictions", &[PreFilter, Filter], false),
        p("NodeVolumeLimits", &[PreFilter, Filter], false),
        p("VolumeBinding", &[PreFilter, Filter, PreScore, Score, Reserve, PreBind], false),
        p("VolumeZone", &[PreFilter, Filter], false),
        p("PodTopologySpread", &[PreFilter, Filter, PreScore, Score], true),
        p("InterPodAffinity", &[PreFilter, Filter, PreScore, Score], true),
        p("DynamicResources", &[PreEnqueue, PreFilter, Filter, PostFilter, Score, Reserve, PreBind], true),
        p("DefaultPreemption", &[PreEnqueue, PostFilter], true),
        p("NodeResourcesBalancedAllocation", &[PreScore, Score], true),
        p("ImageLocality", &[Score], true),
        p("DefaultBinder", &[Bind], true),
        PluginInfo { name: "GangScheduling", points: None, modelled: false },
        PluginInfo { name: "NodeDeclaredFeatures", points: None, modelled: false },
    ]
};

/// Plugins the v1 configuration refuses: removed in-tree volume limits
/// (`invalidPluginsByVersion`).
pub const REMOVED_PLUGINS: [&str; 4] = ["AzureDiskLimits", "CinderLimits", "EBSLimits", "GCEPDLimits"];

/// The plugin of this name, if v1.35 has it.
pub fn plugin_info(name: &str) -> Option<&'static PluginInfo> {
    PLUGINS.iter().find(|p| p.name == name)
}
