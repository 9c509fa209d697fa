//! One scheduling cycle's synchronous part, as upstream's `schedulePod`: PreFilter, Filter on
//! every node, PreScore and Score on the feasible ones, NormalizeScore, weights, the total,
//! and the set of nodes sharing the top total. Nothing is chosen here: the caller breaks the
//! tie with its own seeded stream, so the result is the whole truth of the cycle.

use podlab_cluster::{NodeId, Pod};

use super::plugin::{Code, PreScore, Status};
use super::profile::Profile;
use super::snapshot::{NodeState, Snapshot};

/// A feasible node's scores: each scoring plugin's normalised score times its weight, in the
/// profile's order, and their sum. Plugins that skipped themselves at PreScore are absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeScore {
    pub node: NodeId,
    pub by_plugin: Vec<(&'static str, i64)>,
    pub total: i64,
}

/// Everything one cycle found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CycleResult {
    /// Every infeasible node, the plugin that refused it first, and its status.
    pub filtered: Vec<(NodeId, &'static str, Status)>,
    /// The feasible nodes, in snapshot order.
    pub feasible: Vec<NodeId>,
    /// Scores of the feasible nodes; empty when fewer than two are feasible (upstream does not
    /// score a single feasible node).
    pub scores: Vec<NodeScore>,
    /// The feasible nodes sharing the highest total (the single feasible node, if only one).
    pub top: Vec<NodeId>,
}

/// Runs one cycle of `profile` for `pod` over every node of `snapshot`.
pub fn run(profile: &mut Profile, pod: &Pod, snapshot: &Snapshot) -> CycleResult {
    let mut result = CycleResult::default();
    let narrowed = match pre_filter(profile, pod, snapshot) {
        Ok(narrowed) => narrowed,
        Err((plugin, status)) => {
            result.filtered = snapshot.nodes.iter().map(|n| (n.id, plugin, status.clone())).collect();
            return result;
        }
    };
    let candidates: Vec<&NodeState> = match &narrowed {
        None => snapshot.nodes.iter().collect(),
        Some((ids, plugins)) => {
            // `findNodesThatFitPod`: the nodes a PreFilterResult left out are
            // UnschedulableAndUnresolvable, with no plugin named.
            let status = Status::unresolvable(format!("node(s) didn't satisfy plugin(s) [{}]", plugins.join(" ")));
            let (kept, left): (Vec<&NodeState>, Vec<&NodeState>) =
                snapshot.nodes.iter().partition(|n| ids.contains(&n.id));
            result.filtered = left.iter().map(|n| (n.id, "", status.clone())).collect();
            kept
        }
    };
    let mut feasible = Vec::new();
    for node in candidates {
        let verdict = profile
            .plugins
            .iter()
            .filter(|e| e.plugin.filters())
            .try_for_each(|e| e.plugin.filter(pod, node, snapshot).map_err(|status| (e.plugin.name(), status)));
        match verdict {
            Ok(()) => feasible.push(node),
            Err((plugin, status)) => result.filtered.push((node.id, plugin, status)),
        }
    }
    result.feasible = feasible.iter().map(|n| n.id).collect();
    if feasible.len() < 2 {
        result.top = result.feasible.clone();
        return result;
    }
    result.scores = feasible.iter().map(|n| NodeScore { node: n.id, by_plugin: Vec::new(), total: 0 }).collect();
    for entry in profile.plugins.iter_mut().filter(|e| e.plugin.scores()) {
        if entry.plugin.pre_score(pod, &feasible, snapshot) == PreScore::Skip {
            continue;
        }
        let mut raw: Vec<i64> = feasible.iter().map(|n| entry.plugin.score(pod, n, snapshot)).collect();
        entry.plugin.normalize(pod, &mut raw);
        let name = entry.plugin.name();
        for (score, value) in result.scores.iter_mut().zip(raw) {
            score.by_plugin.push((name, value * entry.weight));
            score.total += value * entry.weight;
        }
    }
    let best = result.scores.iter().map(|s| s.total).max().unwrap_or(0);
    result.top = result.scores.iter().filter(|s| s.total == best).map(|s| s.node).collect();
    result
}

/// The nodes a PreFilterResult narrowed the cycle to, and the plugins that narrowed it.
type Narrowed = Option<(Vec<NodeId>, Vec<&'static str>)>;

/// Upstream's `RunPreFilterPlugins` (`pkg/scheduler/framework/runtime/framework.go`): an
/// `UnschedulableAndUnresolvable` PreFilter ends the phase at once; an `Unschedulable` one is
/// kept while the others still run (preemption may then help), the last one winning; the
/// plugins' node sets are intersected, and an empty intersection rejects every node.
fn pre_filter(profile: &mut Profile, pod: &Pod, snapshot: &Snapshot) -> Result<Narrowed, (&'static str, Status)> {
    let mut rejected = None;
    let mut narrowed: Narrowed = None;
    for entry in &mut profile.plugins {
        let name = entry.plugin.name();
        match entry.plugin.pre_filter(pod, snapshot) {
            Err(status) if status.code == Code::UnschedulableAndUnresolvable => return Err((name, status)),
            Err(status) => rejected = Some((name, status)),
            Ok(()) => {
                let Some(nodes) = entry.plugin.pre_filter_nodes() else { continue };
                let (ids, plugins) = narrowed.get_or_insert_with(|| (nodes.to_vec(), Vec::new()));
                ids.retain(|id| nodes.contains(id));
                plugins.push(name);
                if ids.is_empty() {
                    let message = match plugins.as_slice() {
                        [one] => format!("node(s) didn't satisfy plugin {one}"),
                        many => format!("node(s) didn't satisfy plugin(s) [{}] simultaneously", many.join(" ")),
                    };
                    return Err(("", Status::unresolvable(message)));
                }
            }
        }
    }
    match rejected {
        Some(rejection) => Err(rejection),
        None => Ok(narrowed),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use podlab_cluster::objects::{NodeSelectorTerm, SelectorOp, SelectorRequirement};
    use podlab_cluster::{Node, Resources};

    use super::*;
    use crate::kube::profile::default_profile;

    fn snapshot(sizes: &[(u64, u64)]) -> Snapshot {
        let mut snapshot = Snapshot::default();
        for (i, &(cpu, memory)) in sizes.iter().enumerate() {
            let node = Node {
                name: format!("n{i}"),
                labels: Default::default(),
                taints: vec![],
                allocatable: Resources::new(cpu, memory),
                max_pods: 110,
                unschedulable: false,
                images: vec![],
            };
            snapshot.nodes.push(NodeState::new(NodeId(i as u32), Arc::new(node)));
        }
        snapshot
    }

    /// Nodes a PreFilterResult leaves out are refused by no plugin, UnschedulableAndUnresolvable,
    /// and the filters run on the others only.
    #[test]
    fn pre_filter_results_narrow_the_nodes() {
        let snapshot = snapshot(&[(4000, 8 << 30), (4000, 8 << 30), (1000, 1 << 30)]);
        let mut pod = Pod::single("p", Resources::new(2000, 1 << 30));
        let names = SelectorRequirement { key: "metadata.name".into(), op: SelectorOp::In, values: vec!["n1".into()] };
        let other = SelectorRequirement { key: "metadata.name".into(), op: SelectorOp::In, values: vec!["n2".into()] };
        let term =
            |r: &SelectorRequirement| NodeSelectorTerm { match_expressions: vec![], match_fields: vec![r.clone()] };
        pod.required_node_affinity = Some(vec![term(&names), term(&other)]);
        let result = run(&mut default_profile(), &pod, &snapshot);
        assert_eq!(result.feasible, vec![NodeId(1)]);
        assert_eq!(result.top, vec![NodeId(1)]);
        let refused: Vec<(NodeId, &str, Code, String)> =
            result.filtered.iter().map(|(n, p, s)| (*n, *p, s.code, s.reasons.join(","))).collect();
        assert_eq!(
            refused,
            vec![
                (
                    NodeId(0),
                    "",
                    Code::UnschedulableAndUnresolvable,
                    "node(s) didn't satisfy plugin(s) [NodeAffinity]".into()
                ),
                (NodeId(2), "NodeResourcesFit", Code::UnschedulableAndUnresolvable, "Insufficient cpu".into()),
            ]
        );
    }

    /// Two feasible nodes are scored by every plugin that does not skip itself; one is not.
    #[test]
    fn a_single_feasible_node_is_not_scored() {
        let snapshot = snapshot(&[(4000, 8 << 30), (2000, 8 << 30)]);
        let pod = Pod::single("p", Resources::new(1000, 1 << 30));
        let result = run(&mut default_profile(), &pod, &snapshot);
        assert_eq!(result.top, vec![NodeId(0)]);
        let plugins: Vec<&str> = result.scores[0].by_plugin.iter().map(|(p, _)| *p).collect();
        assert_eq!(
            plugins,
            [
                "TaintToleration",
                "NodeResourcesFit",
                "DynamicResources",
                "NodeResourcesBalancedAllocation",
                "ImageLocality"
            ]
        );
        let big = Pod::single("big", Resources::new(3000, 1 << 30));
        let result = run(&mut default_profile(), &big, &snapshot);
        assert_eq!((result.feasible.clone(), result.scores.len(), result.top), (vec![NodeId(0)], 0, vec![NodeId(0)]));
    }
}
