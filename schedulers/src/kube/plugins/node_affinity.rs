//! NodeAffinity (`pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go`, matching as
//! `k8s.io/component-helpers/scheduling/corev1/nodeaffinity`): Filter requires the pod's
//! `nodeSelector` and required node-affinity terms (and the plugin's `addedAffinity`);
//! PreFilter narrows the cycle to the nodes named by `matchFields` on `metadata.name`; Score
//! sums the weights of the preferred terms a node matches, normalised so the best node gets
//! 100 (`DefaultNormalizeScore`, not reversed). A pod without preferred terms (and no added
//! preferred terms) skips the score.

use podlab_cluster::affinity::PreferredSchedulingTerm;
use podlab_cluster::objects::{NodeSelectorTerm, SelectorOp, SelectorRequirement};
use podlab_cluster::{Node, NodeId, Pod};

use crate::kube::plugin::{MAX_NODE_SCORE, Plugin, PreScore, Status, default_normalize_score};
use crate::kube::snapshot::{NodeState, Snapshot};

/// Upstream's `ErrReasonPod`.
pub const REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";
/// Upstream's `errReasonEnforced`: the profile's `addedAffinity` refused the node.
pub const REASON_ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";
/// Upstream's `errReasonConflict`: every required term names nodes, and none is named by all
/// of a term's `metadata.name` requirements.
pub const REASON_CONFLICT: &str = "pod affinity terms conflict";

/// `NodeAffinityArgs.addedAffinity`: node affinity the profile adds to every pod.
pub use podlab_cluster::kube_config::AddedAffinity;

/// The plugin, with its args and what PreFilter found for the cycle.
#[derive(Clone, Debug, Default)]
pub struct NodeAffinity {
    pub added: AddedAffinity,
    /// PreFilter's `PreFilterResult`: the nodes named by `metadata.name`, if the terms name any.
    nodes: Option<Vec<NodeId>>,
}

impl NodeAffinity {
    /// The plugin with `NodeAffinityArgs`.
    pub fn new(added: AddedAffinity) -> NodeAffinity {
        NodeAffinity { added, nodes: None }
    }
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }

    fn filters(&self) -> bool {
        true
    }

    fn scores(&self) -> bool {
        true
    }

    /// Upstream's PreFilter: if every required term has `metadata.name In` requirements, the
    /// union over terms of the intersection within each term is the only nodes to look at.
    fn pre_filter(&mut self, pod: &Pod, snapshot: &Snapshot) -> Result<(), Status> {
        self.nodes = None;
        let Some(terms) = pod.required_node_affinity.as_deref().filter(|t| !t.is_empty()) else { return Ok(()) };
        let mut names: Vec<&str> = Vec::new();
        for term in terms {
            let mut term_names: Option<Vec<&str>> = None;
            for r in term.match_fields.iter().filter(|r| r.key == "metadata.name" && r.op == SelectorOp::In) {
                let values: Vec<&str> = r.values.iter().map(String::as_str).collect();
                term_names = Some(match term_names {
                    None => values,
                    Some(mut kept) => {
                        kept.retain(|n| values.contains(n));
                        kept
                    }
                });
            }
            // A term without a name requirement lets every node through: the terms are ORed.
            let Some(term_names) = term_names else { return Ok(()) };
            names.extend(term_names);
        }
        if names.is_empty() {
            return Err(Status::unresolvable(REASON_CONFLICT));
        }
        // Names of nodes the snapshot does not have are dropped, as `findNodesThatFitPod` does.
        self.nodes =
            Some(snapshot.nodes.iter().filter(|n| names.contains(&n.spec.name.as_str())).map(|n| n.id).collect());
        Ok(())
    }

    fn pre_filter_nodes(&self) -> Option<&[NodeId]> {
        self.nodes.as_deref()
    }

    fn filter(&self, pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> Result<(), Status> {
        if let Some(required) = &self.added.required
            && !selector_matches(required, &node.spec)
        {
            return Err(Status::unresolvable(REASON_ENFORCED));
        }
        if required_matches(pod, &node.spec) { Ok(()) } else { Err(Status::unresolvable(REASON_POD)) }
    }

    fn pre_score(&mut self, pod: &Pod, _feasible: &[&NodeState], _snapshot: &Snapshot) -> PreScore {
        let preferred = pod.terms.as_ref().is_some_and(|t| !t.preferred_node_affinity.is_empty());
        if preferred || !self.added.preferred.is_empty() { PreScore::Run } else { PreScore::Skip }
    }

    fn score(&self, pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> i64 {
        let own = pod.terms.as_ref().map_or(&[][..], |t| &t.preferred_node_affinity[..]);
        preferred_score(&self.added.preferred, &node.spec) + preferred_score(own, &node.spec)
    }

    fn normalize(&self, _pod: &Pod, scores: &mut [i64]) {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
    }
}

/// `GetRequiredNodeAffinity(pod).Match(node)`: the `nodeSelector` labels, then the required
/// terms (any of them).
pub fn required_matches(pod: &Pod, node: &Node) -> bool {
    pod.node_selector.iter().all(|(k, v)| node.labels.get(k) == Some(v))
        && pod.required_node_affinity.as_deref().is_none_or(|terms| selector_matches(terms, node))
}

/// `LazyErrorNodeSelector.Match`: any term matches; an empty term, or one that does not parse,
/// matches nothing.
pub fn selector_matches(terms: &[NodeSelectorTerm], node: &Node) -> bool {
    terms.iter().any(|t| term_matches(t, node) == Some(true))
}

/// `PreferredSchedulingTerms.Score`: the sum of the weights of the terms the node matches
/// (terms of weight 0, empty terms and terms that do not parse count for nothing).
pub fn preferred_score(terms: &[PreferredSchedulingTerm], node: &Node) -> i64 {
    terms
        .iter()
        .filter(|t| t.weight != 0 && term_matches(&t.preference, node) == Some(true))
        .map(|t| i64::from(t.weight))
        .sum()
}

/// One `nodeSelectorTerm` on a node: `None` when it is empty or does not parse (upstream's
/// `parseErrs`), else whether every requirement holds.
pub fn term_matches(term: &NodeSelectorTerm, node: &Node) -> Option<bool> {
    if term.match_expressions.is_empty() && term.match_fields.is_empty() {
        return None;
    }
    let mut all = true;
    for r in &term.match_expressions {
        all &= label_requirement(r, node.labels.get(&r.key).map(String::as_str))?;
    }
    for r in &term.match_fields {
        all &= field_requirement(r, &node.name)?;
    }
    Some(all)
}

/// A `matchExpressions` requirement as `labels.NewRequirement` validates and matches it.
fn label_requirement(r: &SelectorRequirement, value: Option<&str>) -> Option<bool> {
    match r.op {
        SelectorOp::In | SelectorOp::NotIn if r.values.is_empty() => None,
        SelectorOp::Exists | SelectorOp::DoesNotExist if !r.values.is_empty() => None,
        SelectorOp::In => Some(value.is_some_and(|v| r.values.iter().any(|x| x == v))),
        SelectorOp::NotIn => Some(value.is_none_or(|v| !r.values.iter().any(|x| x == v))),
        SelectorOp::Exists => Some(value.is_some()),
        SelectorOp::DoesNotExist => Some(value.is_none()),
        SelectorOp::Gt | SelectorOp::Lt => {
            let [bound] = r.values.as_slice() else { return None };
            let bound: i64 = bound.parse().ok()?;
            let Some(have) = value.and_then(|v| v.parse::<i64>().ok()) else { return Some(false) };
            Some(if r.op == SelectorOp::Gt { have > bound } else { have < bound })
        }
    }
}

/// A `matchFields` requirement (`nodeSelectorRequirementsAsFieldSelector`): one value, `In`
/// or `NotIn`, on the node's fields — of which there is only `metadata.name`.
fn field_requirement(r: &SelectorRequirement, node_name: &str) -> Option<bool> {
    let [value] = r.values.as_slice() else { return None };
    let field = if r.key == "metadata.name" { node_name } else { "" };
    match r.op {
        SelectorOp::In => Some(field == value),
        SelectorOp::NotIn => Some(field != value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use podlab_cluster::Resources;

    use super::*;

    fn node(name: &str, labels: &[(&str, &str)]) -> Node {
        Node {
            name: name.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            taints: vec![],
            allocatable: Resources::new(1000, 1 << 30),
            max_pods: 110,
            unschedulable: false,
            images: vec![],
        }
    }

    fn req(key: &str, op: SelectorOp, values: &[&str]) -> SelectorRequirement {
        SelectorRequirement { key: key.into(), op, values: values.iter().map(|v| v.to_string()).collect() }
    }

    fn term(expressions: Vec<SelectorRequirement>, fields: Vec<SelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm { match_expressions: expressions, match_fields: fields }
    }

    /// Requirements that do not parse (In without values, Gt on a word) make their term match
    /// nothing; a label that is not an integer fails Gt without an error.
    #[test]
    fn terms_parse_as_upstream() {
        let n = node("n1", &[("cores", "64"), ("zone", "a")]);
        assert_eq!(term_matches(&term(vec![req("cores", SelectorOp::Gt, &["32"])], vec![]), &n), Some(true));
        assert_eq!(term_matches(&term(vec![req("zone", SelectorOp::Gt, &["1"])], vec![]), &n), Some(false));
        assert_eq!(term_matches(&term(vec![req("cores", SelectorOp::Gt, &["x"])], vec![]), &n), None);
        assert_eq!(term_matches(&term(vec![req("zone", SelectorOp::In, &[])], vec![]), &n), None);
        assert_eq!(term_matches(&term(vec![], vec![]), &n), None);
        assert_eq!(term_matches(&term(vec![], vec![req("metadata.name", SelectorOp::NotIn, &["n2"])]), &n), Some(true));
        assert_eq!(term_matches(&term(vec![], vec![req("metadata.name", SelectorOp::In, &["n1", "n2"])]), &n), None);
    }

    /// PreFilter narrows to the nodes named in every term; a term without a name lets all in.
    #[test]
    fn pre_filter_narrows_to_named_nodes() {
        let mut snapshot = Snapshot::default();
        for (i, name) in ["n0", "n1", "n2"].into_iter().enumerate() {
            snapshot.nodes.push(NodeState::new(NodeId(i as u32), Arc::new(node(name, &[]))));
        }
        let mut pod = Pod::single("p", Resources::default());
        let named = |n: &str| term(vec![], vec![req("metadata.name", SelectorOp::In, &[n])]);
        pod.required_node_affinity = Some(vec![named("n1"), named("n2"), named("gone")]);
        let mut plugin = NodeAffinity::default();
        assert_eq!(plugin.pre_filter(&pod, &snapshot), Ok(()));
        assert_eq!(plugin.pre_filter_nodes(), Some(&[NodeId(1), NodeId(2)][..]));
        pod.required_node_affinity = Some(vec![named("n1"), term(vec![req("zone", SelectorOp::Exists, &[])], vec![])]);
        assert_eq!(plugin.pre_filter(&pod, &snapshot), Ok(()));
        assert_eq!(plugin.pre_filter_nodes(), None);
        let both = term(
            vec![],
            vec![req("metadata.name", SelectorOp::In, &["n1"]), req("metadata.name", SelectorOp::In, &["n2"])],
        );
        pod.required_node_affinity = Some(vec![both]);
        assert_eq!(plugin.pre_filter(&pod, &snapshot), Err(Status::unresolvable(REASON_CONFLICT)));
    }
}
