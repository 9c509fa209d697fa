//! The pod-scheduling terms of the Kubernetes API beyond node selectors: label selectors,
//! inter-pod affinity and anti-affinity, preferred node affinity, topology spread constraints,
//! host ports, preemption policy and node images — the vocabulary kube-scheduler's default
//! plugins read (`k8s.io/api/core/v1`, v1.35). Matching rules live here so every plugin and the
//! invariant checker apply one definition.

use std::collections::BTreeMap;

use crate::objects::{NodeSelectorTerm, SelectorOp, SelectorRequirement};

/// A `metav1.LabelSelector`: `matchLabels` and `matchExpressions` (operators `In`, `NotIn`,
/// `Exists`, `DoesNotExist`), all of which must hold. An empty selector matches every set of
/// labels; an absent one (`Option::None` where it is optional) matches none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<SelectorRequirement>,
}

impl LabelSelector {
    /// Whether `labels` satisfy every requirement (`metav1.LabelSelectorAsSelector`).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches_label(labels.get(&r.key).map(String::as_str)))
    }

    /// Whether the selector has no requirement at all (it then selects everything).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// This selector with one more `key In (value)` requirement — how the API server merges
    /// `matchLabelKeys` into a term's selector (and `NotIn` for `mismatchLabelKeys`).
    pub fn with_requirement(mut self, key: &str, op: SelectorOp, value: &str) -> LabelSelector {
        self.match_expressions.push(SelectorRequirement { key: key.into(), op, values: vec![value.into()] });
        self
    }
}

impl SelectorRequirement {
    /// A label-selector requirement's verdict on a label's value (`None`: the label is absent).
    /// `Gt`/`Lt` never appear in label selectors (the loader refuses them); they match nothing.
    pub fn matches_label(&self, value: Option<&str>) -> bool {
        match (self.op, value) {
            (SelectorOp::In, Some(v)) => self.values.iter().any(|x| x == v),
            (SelectorOp::NotIn, v) => v.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            (SelectorOp::Exists, v) => v.is_some(),
            (SelectorOp::DoesNotExist, v) => v.is_none(),
            _ => false,
        }
    }
}

/// A `PodAffinityTerm`: the pods its selector picks, in its namespaces, co-located (or not)
/// with the incoming pod within one value of `topology_key`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodAffinityTerm {
    /// `None` selects no pod.
    pub label_selector: Option<LabelSelector>,
    /// Explicit namespaces; with neither these nor a namespace selector, the pod's own.
    pub namespaces: Vec<String>,
    /// Namespaces by their labels; an empty selector means every namespace.
    pub namespace_selector: Option<LabelSelector>,
    pub topology_key: String,
    /// Kept for explanations; the loader has already merged them into `label_selector` as the
    /// API server does (`MatchLabelKeysInPodAffinity`, GA in v1.33).
    pub match_label_keys: Vec<String>,
    pub mismatch_label_keys: Vec<String>,
}

/// A preferred inter-pod (anti-)affinity term and its weight (1–100).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightedPodAffinityTerm {
    pub weight: i32,
    pub term: PodAffinityTerm,
}

/// A preferred node-affinity term and its weight (1–100).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreferredSchedulingTerm {
    pub weight: i32,
    pub preference: NodeSelectorTerm,
}

/// `whenUnsatisfiable` of a topology spread constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenUnsatisfiable {
    /// A hard constraint: PodTopologySpread's Filter.
    DoNotSchedule,
    /// A soft one: its Score.
    ScheduleAnyway,
}

/// `nodeAffinityPolicy` / `nodeTaintsPolicy` of a topology spread constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InclusionPolicy {
    Honor,
    Ignore,
}

/// A `TopologySpreadConstraint` as the pod declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologySpreadConstraint {
    pub max_skew: i32,
    pub topology_key: String,
    pub when_unsatisfiable: WhenUnsatisfiable,
    pub label_selector: Option<LabelSelector>,
    pub min_domains: Option<i32>,
    /// Default `Honor`.
    pub node_affinity_policy: Option<InclusionPolicy>,
    /// Default `Ignore`.
    pub node_taints_policy: Option<InclusionPolicy>,
    pub match_label_keys: Vec<String>,
}

/// `preemptionPolicy` of a pod (from its PriorityClass by the Priority admission plugin).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PreemptionPolicy {
    #[default]
    PreemptLowerPriority,
    Never,
}

/// A `containerPort` with a `hostPort`: what NodePorts checks.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostPort {
    /// `TCP` (default), `UDP` or `SCTP`.
    pub protocol: String,
    /// `hostIP`; empty or `0.0.0.0` means every address.
    pub ip: String,
    pub port: u16,
}

/// The scheduling terms a pod carries beyond resources, node selector, required node
/// affinity and tolerations (which `PodSpec` holds itself). Boxed in `PodSpec`, absent for the
/// common pod that has none, so a million plain pods pay one pointer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchedulingTerms {
    pub preferred_node_affinity: Vec<PreferredSchedulingTerm>,
    pub pod_affinity_required: Vec<PodAffinityTerm>,
    pub pod_affinity_preferred: Vec<WeightedPodAffinityTerm>,
    pub pod_anti_affinity_required: Vec<PodAffinityTerm>,
    pub pod_anti_affinity_preferred: Vec<WeightedPodAffinityTerm>,
    pub topology_spread: Vec<TopologySpreadConstraint>,
    pub host_ports: Vec<HostPort>,
}

impl SchedulingTerms {
    /// Whether the pod has any inter-pod affinity or anti-affinity term.
    pub fn has_pod_affinity(&self) -> bool {
        !(self.pod_affinity_required.is_empty()
            && self.pod_affinity_preferred.is_empty()
            && self.pod_anti_affinity_required.is_empty()
            && self.pod_anti_affinity_preferred.is_empty())
    }
}

/// One entry of `node.status.images`: the names an image goes by and its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerImage {
    pub names: Vec<String>,
    pub size_bytes: u64,
}

/// The label selectors of the objects that select pods for the default topology spreading
/// (Services, ReplicationControllers, ReplicaSets, StatefulSets), by namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpreadSelector {
    pub namespace: String,
    /// `Service` (its `spec.selector` as `matchLabels`), `ReplicationController`,
    /// `ReplicaSet` or `StatefulSet`.
    pub kind: String,
    pub name: String,
    pub selector: LabelSelector,
}

/// A `policy/v1` PodDisruptionBudget: how many of the pods it selects must stay available.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodDisruptionBudget {
    pub namespace: String,
    pub name: String,
    pub selector: LabelSelector,
    pub min_available: Option<IntOrPercent>,
    pub max_unavailable: Option<IntOrPercent>,
}

/// An `IntOrString` holding a count or a percentage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(i32),
    Percent(i32),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn selectors_match_as_kubernetes_does() {
        let empty = LabelSelector::default();
        assert!(empty.matches(&labels(&[])), "an empty selector selects everything");
        let web = LabelSelector { match_labels: labels(&[("app", "web")]), match_expressions: vec![] };
        assert!(web.matches(&labels(&[("app", "web"), ("x", "y")])));
        assert!(!web.matches(&labels(&[("app", "db")])));
        let not_db = LabelSelector::default().with_requirement("app", SelectorOp::NotIn, "db");
        assert!(not_db.matches(&labels(&[])), "NotIn holds when the label is absent");
        assert!(!not_db.matches(&labels(&[("app", "db")])));
    }
}
