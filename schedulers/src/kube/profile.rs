//! A scheduling profile: the plugins that run, in upstream's order, each with its score weight.

use podlab_cluster::kube_config::{
    DefaultingType, ExtensionPoint, InterPodAffinityArgs, NodeResourcesFitArgs, PluginArgs as ConfigArgs, PluginRef,
    PluginSet, PodTopologySpreadArgs, ProfileConfig, ScoringStrategyType, plugin_info,
};
use podlab_cluster::{NodeId, Pod};

use super::plugin::{Plugin, PreScore, Status};
use super::plugins::node_affinity::AddedAffinity;
use super::plugins::node_resources_fit::{FitArgs, ResourceSpec, ShapePoint, Strategy};
use super::snapshot::{NodeState, Snapshot};

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
    /// Whether DefaultPreemption runs at PostFilter (it does by default).
    pub preemption: bool,
}

impl Profile {
    /// A profile of these plugins, with DefaultPreemption.
    pub fn new(scheduler_name: &str, plugins: Vec<Entry>) -> Profile {
        Profile { scheduler_name: scheduler_name.into(), plugins, preemption: true }
    }

    /// The plugin of this name, if the profile has it.
    pub fn plugin(&self, name: &str) -> Option<&dyn Plugin> {
        self.plugins.iter().find(|e| e.plugin.name() == name).map(|e| &*e.plugin)
    }
}

/// The plugins' arguments of a profile (`pluginConfig`) as the plugins take them, each at
/// upstream's default unless a KubeSchedulerConfiguration says otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginArgs {
    pub node_affinity: AddedAffinity,
    pub fit: FitArgs,
    /// `NodeResourcesBalancedAllocationArgs.resources`; empty means the default (cpu, memory).
    pub balanced_resources: Vec<ResourceSpec>,
    pub inter_pod_affinity: InterPodAffinityArgs,
    pub topology_spread: PodTopologySpreadArgs,
}

impl Default for PluginArgs {
    fn default() -> PluginArgs {
        PluginArgs::of(&ProfileConfig::named(DEFAULT_SCHEDULER_NAME))
    }
}

impl PluginArgs {
    /// A profile's `pluginConfig`, defaulted as the loader left it.
    pub fn of(config: &ProfileConfig) -> PluginArgs {
        let mut args = PluginArgs {
            node_affinity: AddedAffinity::default(),
            fit: FitArgs::default(),
            balanced_resources: ResourceSpec::defaults(),
            inter_pod_affinity: InterPodAffinityArgs::default(),
            topology_spread: PodTopologySpreadArgs::default(),
        };
        for entry in &config.plugin_config {
            match &entry.args {
                ConfigArgs::NodeAffinity(a) => args.node_affinity = a.added_affinity.clone().unwrap_or_default(),
                ConfigArgs::NodeResourcesFit(a) => args.fit = fit_args(a),
                ConfigArgs::NodeResourcesBalancedAllocation(a) => args.balanced_resources = a.resources.clone(),
                ConfigArgs::InterPodAffinity(a) => args.inter_pod_affinity = *a,
                ConfigArgs::PodTopologySpread(a) => args.topology_spread = a.clone(),
                _ => {}
            }
        }
        args
    }
}

/// `NodeResourcesFitArgs` as the plugin takes them.
fn fit_args(a: &NodeResourcesFitArgs) -> FitArgs {
    let strategy = match a.scoring_strategy.kind {
        ScoringStrategyType::LeastAllocated => Strategy::LeastAllocated,
        ScoringStrategyType::MostAllocated => Strategy::MostAllocated,
        ScoringStrategyType::RequestedToCapacityRatio => Strategy::RequestedToCapacityRatio(
            a.scoring_strategy
                .shape
                .iter()
                .map(|p| ShapePoint { utilization: i64::from(p.utilization), score: i64::from(p.score) })
                .collect(),
        ),
    };
    FitArgs {
        ignored_resources: a.ignored_resources.clone(),
        ignored_resource_groups: a.ignored_resource_groups.clone(),
        strategy,
        resources: a.scoring_strategy.resources.clone(),
    }
}

/// The profile's `schedulerName` by default.
pub const DEFAULT_SCHEDULER_NAME: &str = podlab_cluster::kube_config::DEFAULT_SCHEDULER_NAME;

/// kube-scheduler v1.35's default profile with upstream's default arguments
/// (`pkg/scheduler/apis/config/v1/default_plugins.go`).
pub fn default_profile() -> Profile {
    build(&ProfileConfig::named(DEFAULT_SCHEDULER_NAME))
}

/// v1.35's default plugins, `multiPoint`, in order, with their default weights
/// (`getDefaultPlugins`, and `applyFeatureGates` inserting DynamicResources before
/// DefaultPreemption, DynamicResourceAllocation being on).
pub const DEFAULT_MULTI_POINT: &[(&str, Option<i32>)] = &[
    ("SchedulingGates", None),
    ("PrioritySort", None),
    ("NodeUnschedulable", None),
    ("NodeName", None),
    ("TaintToleration", Some(3)),
    ("NodeAffinity", Some(2)),
    ("NodePorts", None),
    ("NodeResourcesFit", Some(1)),
    ("VolumeRestrictions", None),
    ("NodeVolumeLimits", None),
    ("VolumeBinding", None),
    ("VolumeZone", None),
    ("PodTopologySpread", Some(2)),
    ("InterPodAffinity", Some(2)),
    ("DynamicResources", Some(2)),
    ("DefaultPreemption", None),
    ("NodeResourcesBalancedAllocation", Some(1)),
    ("ImageLocality", Some(1)),
    ("DefaultBinder", None),
];

/// The extension points a cycle runs, in the order [`Points`] keeps them.
const CYCLE_POINTS: [ExtensionPoint; 4] =
    [ExtensionPoint::PreFilter, ExtensionPoint::Filter, ExtensionPoint::PreScore, ExtensionPoint::Score];

/// A profile as a KubeSchedulerConfiguration describes it: the default plugins merged with the
/// profile's (`mergePlugins`: per extension point, the disabled ones out — `*` all defaults —,
/// a re-configured default replaced in place, the others appended), `multiPoint` expanded to
/// every point a plugin implements (`expandMultiPointPlugins`: plugins also named at the point
/// first, then the multiPoint ones, then the point's own), score weights from `score` then
/// `multiPoint` (`getScoreWeights`; 0 or unset is 1), and each plugin built with its
/// `pluginConfig`. podlab keeps one plugin order for the cycle: the Filter order, then the
/// plugins that only pre-filter, pre-score or score, in those points' orders. Plugins that are
/// not part of a cycle (SchedulingGates, PrioritySort, DefaultPreemption, DefaultBinder) and the
/// volume plugins (podlab models no volumes) get no entry.
pub fn build(config: &ProfileConfig) -> Profile {
    let args = PluginArgs::of(config);
    let multi = merge(
        &DEFAULT_MULTI_POINT.iter().map(|&(name, weight)| PluginRef { name: name.into(), weight }).collect::<Vec<_>>(),
        config.plugins.get(ExtensionPoint::MultiPoint),
    );
    let lists: Vec<Vec<String>> = CYCLE_POINTS.iter().map(|&point| expand(&multi, config, point)).collect();
    let mut order: Vec<&str> = Vec::new();
    for list in [&lists[1], &lists[0], &lists[2], &lists[3]] {
        for name in list {
            if !order.contains(&name.as_str()) {
                order.push(name);
            }
        }
    }
    let weights: Vec<&PluginRef> = config.plugins.score.enabled.iter().chain(&multi.enabled).collect();
    let mut plugins = Vec::new();
    for name in order {
        let Some(plugin) = instantiate(name, &args) else { continue };
        let points = Points {
            pre_filter: lists[0].iter().any(|n| n == name),
            filter: lists[1].iter().any(|n| n == name),
            pre_score: lists[2].iter().any(|n| n == name),
            score: lists[3].iter().any(|n| n == name),
        };
        let weight = weights.iter().find(|r| r.name == name).and_then(|r| r.weight).filter(|&w| w != 0).unwrap_or(1);
        let plugin: Box<dyn Plugin> =
            if points == Points::ALL { plugin } else { Box::new(AtPoints { inner: plugin, points }) };
        plugins.push(Entry { plugin, weight: i64::from(weight) });
    }
    let mut profile = Profile::new(&config.scheduler_name, plugins);
    profile.preemption = multi.enabled.iter().any(|r| r.name == "DefaultPreemption")
        && !config.plugins.post_filter.disabled.iter().any(|d| d == "DefaultPreemption" || d == "*")
        || config.plugins.post_filter.enabled.iter().any(|r| r.name == "DefaultPreemption");
    profile
}

/// `mergePluginSet` of a default set (enabled only) with a configured one.
fn merge(defaults: &[PluginRef], custom: &PluginSet) -> PluginSet {
    let all_disabled = custom.disabled.iter().any(|d| d == "*");
    let mut enabled = Vec::new();
    let mut replaced = Vec::new();
    if !all_disabled {
        for default in defaults.iter().filter(|d| !custom.disabled.contains(&d.name)) {
            match custom.enabled.iter().position(|c| c.name == default.name) {
                Some(i) => {
                    enabled.push(custom.enabled[i].clone());
                    replaced.push(i);
                }
                None => enabled.push(default.clone()),
            }
        }
    }
    enabled.extend(custom.enabled.iter().enumerate().filter(|(i, _)| !replaced.contains(i)).map(|(_, c)| c.clone()));
    PluginSet { enabled, disabled: custom.disabled.clone() }
}

/// `expandMultiPointPlugins` for one extension point: the plugins it runs, in order.
fn expand(multi: &PluginSet, config: &ProfileConfig, point: ExtensionPoint) -> Vec<String> {
    let own = config.plugins.get(point);
    let implements = |name: &str| plugin_info(name).and_then(|p| p.points).is_some_and(|p| p.contains(&point));
    let own_enabled: Vec<&str> = own.enabled.iter().map(|r| r.name.as_str()).filter(|n| implements(n)).collect();
    if own.disabled.iter().any(|d| d == "*") {
        return own_enabled.iter().map(|n| n.to_string()).collect();
    }
    let (mut overridden, mut from_multi) = (Vec::new(), Vec::new());
    for name in multi.enabled.iter().map(|r| r.name.as_str()).filter(|n| implements(n)) {
        if own.disabled.iter().any(|d| d == name) {
            continue;
        }
        let list = if own_enabled.contains(&name) { &mut overridden } else { &mut from_multi };
        if !list.contains(&name) {
            list.push(name);
        }
    }
    let mut out: Vec<&str> = overridden;
    for name in from_multi.into_iter().chain(own_enabled) {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out.into_iter().map(str::to_string).collect()
}

/// The plugin of this name with the profile's arguments; `None` for one that takes no part in
/// a cycle here.
fn instantiate(name: &str, args: &PluginArgs) -> Option<Box<dyn Plugin>> {
    use super::plugins::*;
    Some(match name {
        "NodeUnschedulable" => Box::new(node_unschedulable::NodeUnschedulable),
        "NodeName" => Box::new(node_name::NodeName),
        "TaintToleration" => Box::new(taint_toleration::TaintToleration),
        "NodeAffinity" => Box::new(node_affinity::NodeAffinity::new(args.node_affinity.clone())),
        "NodePorts" => Box::new(node_ports::NodePorts),
        "NodeResourcesFit" => Box::new(node_resources_fit::NodeResourcesFit::new(args.fit.clone())),
        "PodTopologySpread" => Box::new(match args.topology_spread.defaulting_type {
            DefaultingType::System => pod_topology_spread::PodTopologySpread::system_defaulted(),
            DefaultingType::List => pod_topology_spread::PodTopologySpread::with_default_constraints(
                args.topology_spread.default_constraints.clone(),
            ),
        }),
        "InterPodAffinity" => Box::new(inter_pod_affinity::InterPodAffinity::new(
            args.inter_pod_affinity.hard_pod_affinity_weight,
            args.inter_pod_affinity.ignore_preferred_terms_of_existing_pods,
        )),
        "DynamicResources" => Box::new(dynamic_resources::DynamicResources),
        "NodeResourcesBalancedAllocation" => {
            Box::new(balanced_allocation::BalancedAllocation::new(args.balanced_resources.clone()))
        }
        "ImageLocality" => Box::<image_locality::ImageLocality>::default(),
        _ => return None,
    })
}

/// Which of a cycle's extension points a plugin is enabled at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Points {
    pre_filter: bool,
    filter: bool,
    pre_score: bool,
    score: bool,
}

impl Points {
    const ALL: Points = Points { pre_filter: true, filter: true, pre_score: true, score: true };
}

/// A plugin enabled at some of its extension points only. Its PreFilter and PreScore still
/// run when disabled (upstream's Filter and Score then compute the same state themselves),
/// but a disabled PreFilter rejects nothing and narrows nothing, and a disabled PreScore skips
/// nothing.
struct AtPoints {
    inner: Box<dyn Plugin>,
    points: Points,
}

impl Plugin for AtPoints {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn filters(&self) -> bool {
        self.points.filter && self.inner.filters()
    }

    fn scores(&self) -> bool {
        self.points.score && self.inner.scores()
    }

    fn pre_filter(&mut self, pod: &Pod, snapshot: &Snapshot) -> Result<(), Status> {
        let verdict = self.inner.pre_filter(pod, snapshot);
        if self.points.pre_filter { verdict } else { Ok(()) }
    }

    fn pre_filter_nodes(&self) -> Option<&[NodeId]> {
        if self.points.pre_filter { self.inner.pre_filter_nodes() } else { None }
    }

    fn filter(&self, pod: &Pod, node: &NodeState, snapshot: &Snapshot) -> Result<(), Status> {
        self.inner.filter(pod, node, snapshot)
    }

    fn pre_score(&mut self, pod: &Pod, feasible: &[&NodeState], snapshot: &Snapshot) -> PreScore {
        let verdict = self.inner.pre_score(pod, feasible, snapshot);
        if self.points.pre_score { verdict } else { PreScore::Run }
    }

    fn score(&self, pod: &Pod, node: &NodeState, snapshot: &Snapshot) -> i64 {
        self.inner.score(pod, node, snapshot)
    }

    fn normalize(&self, pod: &Pod, scores: &mut [i64]) {
        self.inner.normalize(pod, scores);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(profile: &Profile) -> Vec<(&'static str, bool, bool, i64)> {
        profile.plugins.iter().map(|e| (e.plugin.name(), e.plugin.filters(), e.plugin.scores(), e.weight)).collect()
    }

    fn enable(name: &str, weight: Option<i32>) -> PluginRef {
        PluginRef { name: name.into(), weight }
    }

    /// The default profile: upstream's Filter order, then the score-only plugins; the default
    /// weights; DefaultPreemption on.
    #[test]
    fn the_default_profile() {
        let profile = default_profile();
        assert_eq!(
            summary(&profile),
            vec![
                ("NodeUnschedulable", true, false, 1),
                ("NodeName", true, false, 1),
                ("TaintToleration", true, true, 3),
                ("NodeAffinity", true, true, 2),
                ("NodePorts", true, false, 1),
                ("NodeResourcesFit", true, true, 1),
                ("PodTopologySpread", true, true, 2),
                ("InterPodAffinity", true, true, 2),
                ("DynamicResources", false, true, 2),
                ("NodeResourcesBalancedAllocation", false, true, 1),
                ("ImageLocality", false, true, 1),
            ]
        );
        assert!(profile.preemption);
    }

    /// `mergePlugins` and `expandMultiPointPlugins`: a point's disabled plugin is off at that
    /// point only; a re-configured default keeps its place with the new weight (unset counts
    /// 1); `*` at a point leaves only what that point enables; a plugin named at `score` takes
    /// its weight from there.
    #[test]
    fn configured_profiles_merge_as_upstream() {
        let mut config = ProfileConfig::named("custom");
        config.plugins.score.disabled.push("TaintToleration".into());
        config.plugins.multi_point.enabled.push(enable("NodeResourcesFit", Some(5)));
        config.plugins.multi_point.enabled.push(enable("NodeAffinity", None));
        config.plugins.score.enabled.push(enable("ImageLocality", Some(7)));
        config.plugins.post_filter.disabled.push("DefaultPreemption".into());
        let profile = build(&config);
        let by_name = |name: &str| summary(&profile).into_iter().find(|s| s.0 == name).expect(name);
        assert_eq!(by_name("TaintToleration"), ("TaintToleration", true, false, 3));
        assert_eq!(by_name("NodeResourcesFit"), ("NodeResourcesFit", true, true, 5));
        assert_eq!(by_name("NodeAffinity"), ("NodeAffinity", true, true, 1));
        assert_eq!(by_name("ImageLocality"), ("ImageLocality", false, true, 7));
        assert!(!profile.preemption);
        let names: Vec<&str> = profile.plugins.iter().map(|e| e.plugin.name()).collect();
        assert_eq!(
            &names[..6],
            ["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts", "NodeResourcesFit"]
        );

        let mut only_fit = ProfileConfig::named("only-fit");
        only_fit.plugins.filter.disabled.push("*".into());
        only_fit.plugins.filter.enabled.push(enable("NodeResourcesFit", None));
        let profile = build(&only_fit);
        let filters: Vec<&str> =
            profile.plugins.iter().filter(|e| e.plugin.filters()).map(|e| e.plugin.name()).collect();
        assert_eq!(filters, ["NodeResourcesFit"]);
    }

    /// `pluginConfig` reaches the plugins: NodeResourcesFit's strategy.
    #[test]
    fn plugin_config_reaches_the_plugins() {
        let mut config = ProfileConfig::named("packing");
        let mut fit = NodeResourcesFitArgs::default();
        fit.scoring_strategy.kind = ScoringStrategyType::MostAllocated;
        config.plugin_config.push(podlab_cluster::kube_config::PluginConfig {
            name: "NodeResourcesFit".into(),
            args: ConfigArgs::NodeResourcesFit(fit),
        });
        assert_eq!(PluginArgs::of(&config).fit.strategy, Strategy::MostAllocated);
    }
}
