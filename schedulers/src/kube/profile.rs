//! A scheduling profile: the plugins that run, in upstream's order, each with its score weight.

use super::plugin::Plugin;

/// One plugin of a profile and the weight its normalised score is multiplied by.
pub struct Entry {
    pub plugin: Box<dyn Plugin>,
    /// Score weight (upstream's defaults: TaintToleration 3; NodeAffinity, PodTopologySpread,
    /// InterPodAffinity 2; the others 1). Unused when the plugin does not score.
    pub weight: i64,
}

/// The plugins of one profile, in the order their filters run and their scores are listed.
pub struct Profile {
    /// The profile's `schedulerName`.
    pub scheduler_name: String,
    pub plugins: Vec<Entry>,
}

impl Profile {
    /// A profile of these plugins.
    pub fn new(scheduler_name: &str, plugins: Vec<Entry>) -> Profile {
        Profile { scheduler_name: scheduler_name.into(), plugins }
    }

    /// The plugin of this name, if the profile has it.
    pub fn plugin(&self, name: &str) -> Option<&dyn Plugin> {
        self.plugins.iter().find(|e| e.plugin.name() == name).map(|e| &*e.plugin)
    }
}

/// The plugins' arguments of a profile (`pluginConfig`), each at upstream's default unless a
/// KubeSchedulerConfiguration says otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginArgs {
    pub node_affinity: super::plugins::node_affinity::AddedAffinity,
    pub fit: super::plugins::node_resources_fit::FitArgs,
    /// `NodeResourcesBalancedAllocationArgs.resources`; empty means the default (cpu, memory).
    pub balanced_resources: Vec<super::plugins::node_resources_fit::ResourceSpec>,
}

/// The profile's `schedulerName` by default.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// kube-scheduler v1.35's default profile with upstream's default arguments
/// (`pkg/scheduler/apis/config/v1/default_plugins.go`).
pub fn default_profile() -> Profile {
    profile_with(DEFAULT_SCHEDULER_NAME, &PluginArgs::default())
}

/// v1.35's default plugins with these arguments, in upstream's order: the Filter order
/// (NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit,
/// PodTopologySpread, InterPodAffinity, DynamicResources), then the score-only plugins; the
/// scoring plugins in this order are upstream's Score order, with its default weights
/// (TaintToleration 3; NodeAffinity, PodTopologySpread, InterPodAffinity, DynamicResources 2;
/// the others 1). The volume plugins (VolumeRestrictions, NodeVolumeLimits, VolumeBinding,
/// VolumeZone) are absent: podlab models no volumes, and they pass and skip for a pod without
/// any. PrioritySort (the queue), DefaultPreemption (`kube::preemption`) and DefaultBinder are
/// the controller's.
pub fn profile_with(scheduler_name: &str, args: &PluginArgs) -> Profile {
    use super::plugins::*;
    let balanced = if args.balanced_resources.is_empty() {
        node_resources_fit::ResourceSpec::defaults()
    } else {
        args.balanced_resources.clone()
    };
    let entry = |plugin: Box<dyn Plugin>, weight: i64| Entry { plugin, weight };
    let plugins = vec![
        entry(Box::new(node_unschedulable::NodeUnschedulable), 0),
        entry(Box::new(node_name::NodeName), 0),
        entry(Box::new(taint_toleration::TaintToleration), 3),
        entry(Box::new(node_affinity::NodeAffinity::new(args.node_affinity.clone())), 2),
        entry(Box::new(node_ports::NodePorts), 0),
        entry(Box::new(node_resources_fit::NodeResourcesFit::new(args.fit.clone())), 1),
        entry(Box::<pod_topology_spread::PodTopologySpread>::default(), 2),
        entry(Box::new(inter_pod_affinity::InterPodAffinity::new(1, false)), 2),
        entry(Box::new(dynamic_resources::DynamicResources), 2),
        entry(Box::new(balanced_allocation::BalancedAllocation::new(balanced)), 1),
        entry(Box::<image_locality::ImageLocality>::default(), 1),
    ];
    Profile::new(scheduler_name, plugins)
}
