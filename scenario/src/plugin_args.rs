//! A `pluginConfig` entry's `args`, typed by the plugin's name, defaulted as
//! `pkg/scheduler/apis/config/v1/defaults.go` does and validated as
//! `pkg/scheduler/apis/config/validation/validation_pluginargs.go` does. Each args type is
//! strict: an unknown argument is an error at its line and column.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_saphyr::Spanned;

use crate::diagnostic::{LoadError, Pos};
use crate::kube_config::{
    API_VERSION, AddedAffinity, DefaultPreemptionArgs, DefaultingType, DynamicResourcesArgs, InterPodAffinityArgs,
    MAX_CUSTOM_PRIORITY_SCORE, NodeAffinityArgs, NodeResourcesBalancedAllocationArgs, NodeResourcesFitArgs, PluginArgs,
    PodTopologySpreadArgs, ResourceSpec, ScoringStrategy, ScoringStrategyType, UtilizationShapePoint,
    VolumeBindingArgs,
};
use crate::manifest::TopologySpreadConstraintManifest;
use crate::manifest::{Doc, NodeAffinity};
use crate::names::{label_key_problem, unknown_help};
use crate::scheduler_config::ConfigReader;
use crate::yaml::{self, Shape, YNode};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DefaultPreemptionManifest {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    min_candidate_nodes_percentage: Option<Spanned<i64>>,
    min_candidate_nodes_absolute: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InterPodAffinityManifest {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    hard_pod_affinity_weight: Option<Spanned<i64>>,
    ignore_preferred_terms_of_existing_pods: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NodeAffinityArgsManifest {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    added_affinity: Option<NodeAffinity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BalancedAllocationManifest {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    #[serde(default)]
    resources: Vec<ResourceSpecManifest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceSpecManifest {
    name: Spanned<String>,
    weight: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FitManifest {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    #[serde(default)]
    ignored_resources: Vec<Spanned<String>>,
    #[serde(default)]
    ignored_resource_groups: Vec<Spanned<String>>,
    scoring_strategy: Option<Spanned<ScoringStrategyManifest>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ScoringStrategyManifest {
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    #[serde(default)]
    resources: Vec<ResourceSpecManifest>,
    requested_to_capacity_ratio: Option<Spanned<RequestedToCapacityRatioManifest>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestedToCapacityRatioManifest {
    #[serde(default)]
    shape: Vec<ShapePointManifest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShapePointManifest {
    utilization: Spanned<i64>,
    score: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PodTopologySpreadManifest {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    #[serde(default)]
    default_constraints: Vec<Spanned<TopologySpreadConstraintManifest>>,
    defaulting_type: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct VolumeBindingManifest {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    bind_timeout_seconds: Option<Spanned<i64>>,
    shape: Option<Spanned<IgnoredAny>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DynamicResourcesManifest {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    filter_timeout: Option<Spanned<String>>,
    binding_timeout: Option<Spanned<String>>,
}

/// The plugins with arguments, as `(plugin, args kind)`.
const ARGS_KINDS: [&str; 8] = [
    "DefaultPreemption",
    "InterPodAffinity",
    "NodeAffinity",
    "NodeResourcesBalancedAllocation",
    "NodeResourcesFit",
    "PodTopologySpread",
    "VolumeBinding",
    "DynamicResources",
];

impl ConfigReader<'_> {
    /// The typed arguments of plugin `name` from its `args` node (`None`: none written, the
    /// defaults); `Ok(None)` for a plugin that takes none.
    pub(super) fn plugin_args(
        &mut self,
        name: &str,
        node: Option<&YNode>,
        at: Pos,
    ) -> Result<Option<PluginArgs>, LoadError> {
        if !ARGS_KINDS.contains(&name) {
            if let Some(node) = node.filter(|n| !matches!(&n.shape, Shape::Map(entries) if entries.is_empty())) {
                return Err(self.src.error_with_help(
                    self.src.pos_of(node.start),
                    format!("plugin `{name}` takes no arguments"),
                    format!("the plugins with arguments: {}", ARGS_KINDS.join(", ")),
                ));
            }
            return Ok(None);
        }
        let args = match name {
            "DefaultPreemption" => PluginArgs::DefaultPreemption(self.parse(node, at, default_preemption)?),
            "InterPodAffinity" => PluginArgs::InterPodAffinity(self.parse(node, at, inter_pod_affinity)?),
            "NodeAffinity" => PluginArgs::NodeAffinity(self.parse(node, at, node_affinity)?),
            "NodeResourcesBalancedAllocation" => {
                PluginArgs::NodeResourcesBalancedAllocation(self.parse(node, at, balanced_allocation)?)
            }
            "NodeResourcesFit" => PluginArgs::NodeResourcesFit(self.parse(node, at, fit)?),
            "PodTopologySpread" => PluginArgs::PodTopologySpread(self.parse(node, at, pod_topology_spread)?),
            "VolumeBinding" => PluginArgs::VolumeBinding(self.parse(node, at, volume_binding)?),
            _ => PluginArgs::DynamicResources(self.parse(node, at, dynamic_resources)?),
        };
        // VolumeBinding was named already, as a plugin podlab does not model.
        if name == "DynamicResources" && node.is_some() {
            self.warn(
                at,
                format!("{name}'s arguments are read and checked, and change nothing here"),
                "podlab models no resource claims: DynamicResources has nothing to filter and scores 0",
            );
        }
        Ok(Some(args))
    }

    /// Parses `node` as `M` (an empty map when absent) and converts it with `convert`,
    /// after checking its optional `apiVersion`/`kind`.
    fn parse<M: DeserializeOwned + TypeMeta, A>(
        &self,
        node: Option<&YNode>,
        at: Pos,
        convert: impl FnOnce(&Doc<'_, M>) -> Result<A, LoadError>,
    ) -> Result<A, LoadError> {
        let parsed = match node {
            Some(node) => yaml::parse_node::<M>(self.src, node)?,
            None => {
                // No `args`: the defaults, as an empty map would give.
                let value = serde_saphyr::from_str::<M>("{}").map_err(|e| self.src.error(at, e.to_string()))?;
                yaml::Parsed { value, line_offset: 0 }
            }
        };
        let start = node.map_or(at, |n| self.src.pos_of(n.start));
        let doc = Doc { src: self.src, parsed, start };
        let (api_version, kind) = doc.parsed.value.type_meta();
        if let Some(v) = api_version.filter(|v| v.value != API_VERSION) {
            return Err(
                doc.error(v, format!("plugin arguments of apiVersion `{}`; podlab reads `{API_VERSION}`", v.value))
            );
        }
        let expected = M::KIND;
        if let Some(k) = kind.filter(|k| k.value != expected) {
            return Err(doc.src.error_with_help(
                doc.at(k),
                format!("these are `{expected}`, not `{}`", k.value),
                format!("write `kind: {expected}` or leave it out"),
            ));
        }
        convert(&doc)
    }
}

/// The `apiVersion` and `kind` an args object may carry.
trait TypeMeta {
    const KIND: &'static str;
    fn type_meta(&self) -> (Option<&Spanned<String>>, Option<&Spanned<String>>);
}

macro_rules! type_meta {
    ($($t:ty => $kind:literal),* $(,)?) => {$(
        impl TypeMeta for $t {
            const KIND: &'static str = $kind;
            fn type_meta(&self) -> (Option<&Spanned<String>>, Option<&Spanned<String>>) {
                (self.api_version.as_ref(), self.kind.as_ref())
            }
        }
    )*};
}

type_meta! {
    DefaultPreemptionManifest => "DefaultPreemptionArgs",
    InterPodAffinityManifest => "InterPodAffinityArgs",
    NodeAffinityArgsManifest => "NodeAffinityArgs",
    BalancedAllocationManifest => "NodeResourcesBalancedAllocationArgs",
    FitManifest => "NodeResourcesFitArgs",
    PodTopologySpreadManifest => "PodTopologySpreadArgs",
    VolumeBindingManifest => "VolumeBindingArgs",
    DynamicResourcesManifest => "DynamicResourcesArgs",
}

/// An `int32` field, checked against `range`.
fn int_in<T>(
    doc: &Doc<'_, T>,
    v: &Spanned<i64>,
    field: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i32, LoadError> {
    if range.contains(&v.value) && i32::try_from(v.value).is_ok() {
        Ok(v.value as i32)
    } else {
        let (lo, hi) = (range.start(), range.end());
        let shown = if *hi >= i64::from(i32::MAX) { format!("[{lo}, inf)") } else { format!("[{lo}, {hi}]") };
        Err(doc.error(v, format!("{field} {} is not in the valid range {shown}", v.value)))
    }
}

/// `ValidateDefaultPreemptionArgs`.
fn default_preemption(doc: &Doc<'_, DefaultPreemptionManifest>) -> Result<DefaultPreemptionArgs, LoadError> {
    let m = &doc.parsed.value;
    let mut args = DefaultPreemptionArgs::default();
    if let Some(p) = &m.min_candidate_nodes_percentage {
        args.min_candidate_nodes_percentage = int_in(doc, p, "minCandidateNodesPercentage", 0..=100)?;
    }
    if let Some(a) = &m.min_candidate_nodes_absolute {
        args.min_candidate_nodes_absolute = int_in(doc, a, "minCandidateNodesAbsolute", 0..=i64::from(i32::MAX))?;
    }
    if args.min_candidate_nodes_percentage == 0 && args.min_candidate_nodes_absolute == 0 {
        let at = m.min_candidate_nodes_absolute.as_ref().map_or(doc.start, |a| doc.at(a));
        return Err(doc.src.error(at, "minCandidateNodesPercentage and minCandidateNodesAbsolute cannot both be zero"));
    }
    Ok(args)
}

/// `ValidateInterPodAffinityArgs`.
fn inter_pod_affinity(doc: &Doc<'_, InterPodAffinityManifest>) -> Result<InterPodAffinityArgs, LoadError> {
    let m = &doc.parsed.value;
    let mut args = InterPodAffinityArgs::default();
    if let Some(w) = &m.hard_pod_affinity_weight {
        args.hard_pod_affinity_weight = int_in(doc, w, "hardPodAffinityWeight", 0..=100)?;
    }
    args.ignore_preferred_terms_of_existing_pods = m.ignore_preferred_terms_of_existing_pods.unwrap_or(false);
    Ok(args)
}

/// `ValidateNodeAffinityArgs`: the added terms as `nodeaffinity.NewNodeSelector` reads them.
fn node_affinity(doc: &Doc<'_, NodeAffinityArgsManifest>) -> Result<NodeAffinityArgs, LoadError> {
    let Some(added) = &doc.parsed.value.added_affinity else { return Ok(NodeAffinityArgs::default()) };
    let required = added
        .required_during_scheduling_ignored_during_execution
        .as_ref()
        .map(|s| s.node_selector_terms.iter().map(|t| doc.selector_term(t)).collect::<Result<Vec<_>, _>>())
        .transpose()?;
    let mut preferred = Vec::new();
    for p in &added.preferred_during_scheduling_ignored_during_execution {
        let weight = doc.weight(&p.weight)?;
        preferred
            .push(crate::affinity::PreferredSchedulingTerm { weight, preference: doc.selector_term(&p.preference)? });
    }
    Ok(NodeAffinityArgs { added_affinity: Some(AddedAffinity { required, preferred }) })
}

/// Resource specs: default cpu and memory when empty, weight 0 (or unset) as 1, each name
/// once; `weights` is the range allowed once defaulted.
fn resources<T>(
    doc: &Doc<'_, T>,
    list: &[ResourceSpecManifest],
    weights: std::ops::RangeInclusive<i64>,
    field: &str,
) -> Result<Vec<ResourceSpec>, LoadError> {
    if list.is_empty() {
        return Ok(ResourceSpec::defaults());
    }
    let mut out: Vec<ResourceSpec> = Vec::with_capacity(list.len());
    for r in list {
        if out.iter().any(|o| o.name == r.name.value) {
            return Err(doc.error(&r.name, format!("resource `{}` is listed twice", r.name.value)));
        }
        let weight = r.weight.as_ref().map_or(0, |w| w.value);
        let weight = if weight == 0 { 1 } else { weight };
        if !weights.contains(&weight) {
            let at = r.weight.as_ref().map_or(doc.at(&r.name), |w| doc.at(w));
            let allowed = if weights.start() == weights.end() {
                "must be 1".to_string()
            } else {
                format!("not in the valid range (0, {}]", weights.end())
            };
            return Err(doc.src.error(at, format!("{field}: weight {weight} of `{}` {allowed}", r.name.value)));
        }
        out.push(ResourceSpec { name: r.name.value.clone(), weight });
    }
    Ok(out)
}

/// `ValidateNodeResourcesBalancedAllocationArgs`: every weight 1.
fn balanced_allocation(
    doc: &Doc<'_, BalancedAllocationManifest>,
) -> Result<NodeResourcesBalancedAllocationArgs, LoadError> {
    Ok(NodeResourcesBalancedAllocationArgs {
        resources: resources(doc, &doc.parsed.value.resources, 1..=1, "resources")?,
    })
}

/// `ValidateNodeResourcesFitArgs`.
fn fit(doc: &Doc<'_, FitManifest>) -> Result<NodeResourcesFitArgs, LoadError> {
    let m = &doc.parsed.value;
    for r in &m.ignored_resources {
        if let Some(why) = label_key_problem(&r.value) {
            return Err(doc.error(r, format!("ignoredResources: {why}")));
        }
    }
    for g in &m.ignored_resource_groups {
        if g.value.contains('/') {
            return Err(doc.error(g, "a resource group name can't contain '/'"));
        }
        if let Some(why) = label_key_problem(&g.value) {
            return Err(doc.error(g, format!("ignoredResourceGroups: {why}")));
        }
    }
    let scoring_strategy = match &m.scoring_strategy {
        None => ScoringStrategy::default(),
        Some(s) => scoring_strategy(doc, s)?,
    };
    Ok(NodeResourcesFitArgs {
        ignored_resources: m.ignored_resources.iter().map(|r| r.value.clone()).collect(),
        ignored_resource_groups: m.ignored_resource_groups.iter().map(|g| g.value.clone()).collect(),
        scoring_strategy,
    })
}

fn scoring_strategy(
    doc: &Doc<'_, FitManifest>,
    spanned: &Spanned<ScoringStrategyManifest>,
) -> Result<ScoringStrategy, LoadError> {
    let m = &spanned.value;
    const TYPES: [&str; 3] = ["LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"];
    let kind = match m.kind.as_ref().map(|k| k.value.as_str()) {
        Some("LeastAllocated") => ScoringStrategyType::LeastAllocated,
        Some("MostAllocated") => ScoringStrategyType::MostAllocated,
        Some("RequestedToCapacityRatio") => ScoringStrategyType::RequestedToCapacityRatio,
        // Upstream defaults a missing strategy, not a missing type: validation refuses "".
        other => {
            let at = m.kind.as_ref().map_or(doc.at(spanned), |k| doc.at(k));
            let help = unknown_help(other.unwrap_or(""), &TYPES);
            let message = match other {
                Some(t) => format!("unknown scoringStrategy type `{t}`"),
                None => "scoringStrategy has no type".to_string(),
            };
            return Err(doc.src.error_with_help(at, message, help));
        }
    };
    let resources = resources(doc, &m.resources, 1..=100, "scoringStrategy.resources")?;
    let shape = match (&m.requested_to_capacity_ratio, kind) {
        (None, ScoringStrategyType::RequestedToCapacityRatio) => {
            return Err(doc.src.error_with_help(
                doc.at(spanned),
                "scoringStrategy RequestedToCapacityRatio needs `requestedToCapacityRatio`",
                "give its shape: `requestedToCapacityRatio: {shape: [{utilization: 0, score: 0}, {utilization: 100, score: 10}]}`",
            ));
        }
        (None, _) => Vec::new(),
        (Some(r), ScoringStrategyType::RequestedToCapacityRatio) => shape(doc, r)?,
        (Some(r), _) => {
            return Err(doc.error(r, "requestedToCapacityRatio applies only to type RequestedToCapacityRatio"));
        }
    };
    Ok(ScoringStrategy { kind, resources, shape })
}

/// `validateFunctionShape`: at least one point, utilisation 0–100 strictly increasing,
/// score 0–10.
fn shape(
    doc: &Doc<'_, FitManifest>,
    r: &Spanned<RequestedToCapacityRatioManifest>,
) -> Result<Vec<UtilizationShapePoint>, LoadError> {
    if r.value.shape.is_empty() {
        return Err(doc.error(r, "the shape needs at least one point"));
    }
    let mut out: Vec<UtilizationShapePoint> = Vec::new();
    for p in &r.value.shape {
        let utilization = int_in(doc, &p.utilization, "utilization", 0..=100)?;
        let score = int_in(doc, &p.score, "score", 0..=i64::from(MAX_CUSTOM_PRIORITY_SCORE))?;
        if out.last().is_some_and(|last| last.utilization >= utilization) {
            return Err(doc.error(&p.utilization, "utilization values must be sorted in increasing order"));
        }
        out.push(UtilizationShapePoint { utilization, score });
    }
    Ok(out)
}

/// `ValidatePodTopologySpreadArgs`.
fn pod_topology_spread(doc: &Doc<'_, PodTopologySpreadManifest>) -> Result<PodTopologySpreadArgs, LoadError> {
    let m = &doc.parsed.value;
    let defaulting_type = match m.defaulting_type.as_ref().map(|t| t.value.as_str()) {
        None | Some("System") => DefaultingType::System,
        Some("List") => DefaultingType::List,
        Some(other) => {
            let t = m.defaulting_type.as_ref().expect("matched Some");
            return Err(doc.src.error_with_help(
                doc.at(t),
                format!("unknown defaultingType `{other}`"),
                unknown_help(other, &["System", "List"]),
            ));
        }
    };
    if defaulting_type == DefaultingType::System
        && let Some(first) = m.default_constraints.first()
    {
        let at = m.defaulting_type.as_ref().map_or(doc.at(first), |t| doc.at(t));
        return Err(doc.src.error_with_help(
            at,
            "defaultConstraints need defaultingType `List`",
            "`System` (the default) uses the built-in constraints: write `defaultingType: List` to use these",
        ));
    }
    let default_constraints = doc.topology_spread(&m.default_constraints, &BTreeMap::new(), true)?;
    Ok(PodTopologySpreadArgs { default_constraints, defaulting_type })
}

/// `ValidateVolumeBindingArgs` with v1.35's default gates (StorageCapacityScoring off).
fn volume_binding(doc: &Doc<'_, VolumeBindingManifest>) -> Result<VolumeBindingArgs, LoadError> {
    let m = &doc.parsed.value;
    if let Some(s) = &m.shape {
        return Err(doc.error(s, "unexpected field `shape`: the StorageCapacityScoring feature gate is off in v1.35"));
    }
    let mut args = VolumeBindingArgs::default();
    if let Some(t) = &m.bind_timeout_seconds {
        if t.value < 0 {
            return Err(doc.error(t, format!("bindTimeoutSeconds {} must not be negative", t.value)));
        }
        args.bind_timeout_seconds = t.value;
    }
    Ok(args)
}

/// `ValidateDynamicResourcesArgs` with v1.35's default gates (DRASchedulerFilterTimeout on,
/// DRADeviceBindingConditions off).
fn dynamic_resources(doc: &Doc<'_, DynamicResourcesManifest>) -> Result<DynamicResourcesArgs, LoadError> {
    let m = &doc.parsed.value;
    if let Some(b) = &m.binding_timeout {
        return Err(doc.error(b, "bindingTimeout needs the DRADeviceBindingConditions feature gate, off in v1.35"));
    }
    let mut args = DynamicResourcesArgs::default();
    if let Some(t) = &m.filter_timeout {
        args.filter_timeout = doc.duration(t)?;
    }
    Ok(args)
}
