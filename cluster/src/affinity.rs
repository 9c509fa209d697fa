//! The pod-scheduling terms of the Kubernetes API beyond node selectors: label selectors,
//! inter-pod affinity and anti-affinity, preferred node affinity, topology spread constraints,
//! host ports, preemption policy and node images — the vocabulary kube-scheduler's default
//! plugins read (`k8s.io/api/core/v1`, v1.35). Matching rules live here so every plugin and the
//! invariant checker apply one definition.

use std::collections::BTreeMap;

/// Named here too, beside the terms that hold one (its home is `selector`).
pub use crate::selector::LabelSelector;
use crate::selector::{NodeSelectorTerm, SelectorOp, SelectorRequirement};

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

impl PodAffinityTerm {
    /// Merges `matchLabelKeys` (as `key In (value)`) and `mismatchLabelKeys` (as `key NotIn
    /// (value)`) into the selector for each key the pod's `labels` have, as the API server does
    /// when it creates the pod (`pkg/registry/core/pod/strategy.go`,
    /// `applyMatchLabelKeysAndMismatchLabelKeys`); nothing when the selector is absent (it
    /// selects no pod either way). A requirement already there is not added twice, so a pod
    /// whose labels grew (a Deployment's `pod-template-hash`) can be merged again.
    pub fn merge_label_keys(&mut self, labels: &BTreeMap<String, String>) {
        let Some(selector) = self.label_selector.as_mut() else { return };
        merge_keys(selector, &self.match_label_keys, SelectorOp::In, labels);
        merge_keys(selector, &self.mismatch_label_keys, SelectorOp::NotIn, labels);
    }
}

/// Appends `key op (labels[key])` for every key of `keys` the labels have, unless the same
/// requirement is already in the selector (`applyLabelKeysToLabelSelector`).
fn merge_keys(selector: &mut LabelSelector, keys: &[String], op: SelectorOp, labels: &BTreeMap<String, String>) {
    for key in keys {
        let Some(value) = labels.get(key) else { continue };
        let requirement = SelectorRequirement { key: key.clone(), op, values: vec![value.clone()] };
        if !selector.match_expressions.contains(&requirement) {
            selector.match_expressions.push(requirement);
        }
    }
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

impl TopologySpreadConstraint {
    /// Merges `matchLabelKeys` into the selector as `key In (value)` for each key the pod's
    /// labels have: in v1.35 the API server does it at creation (`applyMatchLabelKeys`, gate
    /// `MatchLabelKeysInPodTopologySpreadSelectorMerge`, beta, on by default). The scheduler's
    /// own merge (`filterTopologySpreadConstraints`) then adds an equivalent `key=value`, which
    /// selects the same pods, so a plugin need not merge again.
    pub fn merge_label_keys(&mut self, labels: &BTreeMap<String, String>) {
        let Some(selector) = self.label_selector.as_mut() else { return };
        merge_keys(selector, &self.match_label_keys, SelectorOp::In, labels);
    }
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
    /// `metadata.ownerReferences`' controller, as the manifest declares it (a pod the
    /// scenario lists as a ReplicaSet's without letting the ReplicaSet controller run it). Pods
    /// podlab's controllers make have `PodSpec.owner` instead; `apps::controller_of` reads both.
    pub controller: Option<OwnerRef>,
}

/// A controller owner reference (`metav1.OwnerReference` with `controller: true`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerRef {
    /// `apps/v1`, `v1`, `batch/v1`…
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

impl SchedulingTerms {
    /// Whether the pod has any inter-pod affinity or anti-affinity term.
    /// Merges every term's `matchLabelKeys`/`mismatchLabelKeys` into its selector for a pod
    /// with these labels (see [`PodAffinityTerm::merge_label_keys`]). The loader does it for
    /// every pod whose labels are final; a controller that adds labels to a template's pods
    /// (`pod-template-hash`, a Job's completion index) calls it again after.
    pub fn merge_label_keys(&mut self, labels: &BTreeMap<String, String>) {
        let affinity = self.pod_affinity_required.iter_mut().chain(self.pod_anti_affinity_required.iter_mut());
        let weighted = self.pod_affinity_preferred.iter_mut().chain(self.pod_anti_affinity_preferred.iter_mut());
        for term in affinity.chain(weighted.map(|w| &mut w.term)) {
            term.merge_label_keys(labels);
        }
        for constraint in &mut self.topology_spread {
            constraint.merge_label_keys(labels);
        }
    }

    /// Whether the pod has nothing here at all (its `PodSpec.terms` is then `None`).
    pub fn is_empty(&self) -> bool {
        !self.has_pod_affinity()
            && self.preferred_node_affinity.is_empty()
            && self.topology_spread.is_empty()
            && self.host_ports.is_empty()
            && self.controller.is_none()
    }

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
    /// `ReplicaSet` or `StatefulSet`; or `Deployment`, whose ReplicaSets (made while the run
    /// goes) select this and their `pod-template-hash` (see `apps::default_selector`).
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

/// The cluster objects beyond nodes and pods that kube-scheduler's default plugins read: the
/// selectors of Services, ReplicationControllers, ReplicaSets and StatefulSets (default topology
/// spreading), PodDisruptionBudgets (preemption) and namespaces' labels (`namespaceSelector`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KubeObjects {
    /// Every Service, ReplicationController, ReplicaSet, StatefulSet and Deployment, in file
    /// order within each kind.
    pub spread_selectors: Vec<SpreadSelector>,
    pub pdbs: Vec<PodDisruptionBudget>,
    /// Each declared `Namespace`'s labels, by name. Namespaces pods use but nobody declared are
    /// absent: they have only the `kubernetes.io/metadata.name` label, which
    /// [`KubeObjects::namespace_labels_of`] supplies.
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
}

/// The label the API server puts on every namespace: its own name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

impl KubeObjects {
    /// A namespace's labels, declared or not: at least `kubernetes.io/metadata.name`.
    pub fn namespace_labels_of(&self, namespace: &str) -> BTreeMap<String, String> {
        let mut labels = self.namespace_labels.get(namespace).cloned().unwrap_or_default();
        labels.insert(NAMESPACE_NAME_LABEL.into(), namespace.into());
        labels
    }
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
