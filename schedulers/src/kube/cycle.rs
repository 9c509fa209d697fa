//! One scheduling cycle's synchronous part, as upstream's `schedulePod`: PreFilter, Filter on
//! every node, PreScore and Score on the feasible ones, NormalizeScore, weights, the total,
//! and the set of nodes sharing the top total. Nothing is chosen here: the caller breaks the
//! tie with its own seeded stream, so the result is the whole truth of the cycle.

use podlab_cluster::{NodeId, Pod};

use super::plugin::{Code, PreScore, Status};
use super::profile::Profile;
use super::snapshot::{NodeState, PlacedPod, Snapshot};
use crate::sampling::num_feasible_nodes_to_find;

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
    /// The feasible nodes, in the order the cycle visited them (snapshot order from its start).
    pub feasible: Vec<NodeId>,
    /// Scores of the feasible nodes; empty when fewer than two are feasible (upstream does not
    /// score a single feasible node).
    pub scores: Vec<NodeScore>,
    /// The feasible nodes sharing the highest total (the single feasible node, if only one).
    pub top: Vec<NodeId>,
    /// The PreFilter rejection, when PreFilter turned the pod away (then every node of
    /// `filtered` has this status).
    pub pre_filter: Option<(&'static str, Status)>,
}

impl CycleResult {
    /// Upstream's `FitError.Error()` for a cycle that found no node among `nodes`:
    /// `0/N nodes are available: ` then the PreFilter's message, or else every filter reason
    /// counted over the nodes (`"3 Insufficient cpu"`), sorted as strings and joined by `, `;
    /// then a full stop. (A PostFilter's message, preemption's, follows it upstream.)
    pub fn fit_error(&self, nodes: usize) -> String {
        let mut message = format!("0/{nodes} nodes are available");
        if let Some((_, status)) = &self.pre_filter {
            message.push_str(": ");
            message.push_str(&status.reasons.join(", "));
        } else {
            let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
            for reason in self.filtered.iter().flat_map(|(_, _, s)| &s.reasons) {
                *counts.entry(reason.as_str()).or_default() += 1;
            }
            let mut reasons: Vec<String> = counts.iter().map(|(reason, n)| format!("{n} {reason}")).collect();
            reasons.sort();
            if !reasons.is_empty() {
                message.push_str(": ");
                message.push_str(&reasons.join(", "));
            }
        }
        message.push('.');
        message
    }
}

/// Runs one cycle of `profile` for `pod` over every node of `snapshot`.
pub fn run(profile: &mut Profile, pod: &Pod, snapshot: &Snapshot) -> CycleResult {
    run_sampled(profile, pod, snapshot, Sampling::ALL).0
}

/// Which nodes a cycle filters: from `start` (upstream's `nextStartNodeIndex`, taken modulo the
/// number of nodes), wrapping, until `numFeasibleNodesToFind` of them are feasible
/// (`percentage_of_nodes_to_score`; 0 is the adaptive rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sampling {
    pub start: usize,
    pub percentage: u32,
}

impl Sampling {
    /// Every node, from the first.
    pub const ALL: Sampling = Sampling { start: 0, percentage: 100 };
}

/// One cycle as `schedulePod` runs it with sampling: PreFilter; Filter on the nodes from
/// `sampling.start` (over the nodes a PreFilterResult kept, else all), wrapping, stopping once
/// enough are feasible — one, for a profile without Score plugins — (`findNodesThatPassFilters`,
/// here sequential); Score on those. Also
/// returns the next cycle's start: `(start + nodes processed) % nodes`, unchanged when
/// PreFilter rejects the pod. The feasible nodes, scores and top set are in visiting order.
pub fn run_sampled(profile: &mut Profile, pod: &Pod, snapshot: &Snapshot, sampling: Sampling) -> (CycleResult, usize) {
    run_sampled_with(profile, pod, snapshot, sampling, &[])
}

/// [`run_sampled`] with the pods nominated to nodes by preemption and not bound yet: on a node
/// that has some, the filters run as `RunFilterPluginsWithNominatedPods` runs them
/// ([`super::nominated::filter_with_nominated`]: those of at least the pod's priority hold
/// their room). Scores do not count them, as upstream's do not.
pub fn run_sampled_with(
    profile: &mut Profile,
    pod: &Pod,
    snapshot: &Snapshot,
    sampling: Sampling,
    nominated: &[(NodeId, PlacedPod)],
) -> (CycleResult, usize) {
    let mut result = CycleResult::default();
    let narrowed = match pre_filter(profile, pod, snapshot) {
        Ok(narrowed) => narrowed,
        Err((plugin, status)) => {
            result.filtered = snapshot.nodes.iter().map(|n| (n.id, plugin, status.clone())).collect();
            result.pre_filter = Some((plugin, status));
            return (result, sampling.start);
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
    let all = candidates.len();
    // `hasScoring`: a profile without a Score plugin takes the first feasible node (no
    // extenders here). `Sampling::ALL` still visits every node, for `explain`.
    let scoring = sampling == Sampling::ALL || profile.plugins.iter().any(|e| e.plugin.scores());
    let to_find = if scoring { num_feasible_nodes_to_find(all, sampling.percentage) } else { 1 };
    let start = if all == 0 { 0 } else { sampling.start % all };
    let mut feasible = Vec::new();
    let mut processed = 0;
    for node in candidates[start..].iter().chain(&candidates[..start]) {
        if feasible.len() == to_find {
            break;
        }
        processed += 1;
        let verdict = match nominated.iter().any(|(n, _)| *n == node.id) {
            true => {
                let index = snapshot.nodes.iter().position(|n| n.id == node.id).unwrap_or_default();
                super::nominated::filter_with_nominated(profile, pod, snapshot, index, nominated)
            }
            false => profile
                .plugins
                .iter()
                .filter(|e| e.plugin.filters())
                .try_for_each(|e| e.plugin.filter(pod, node, snapshot).map_err(|status| (e.plugin.name(), status))),
        };
        match verdict {
            Ok(()) => feasible.push(*node),
            Err((plugin, status)) => result.filtered.push((node.id, plugin, status)),
        }
    }
    let next_start = if all == 0 { 0 } else { (start + processed) % all };
    score(profile, pod, snapshot, &feasible, &mut result);
    (result, next_start)
}

/// PreScore, Score, NormalizeScore and the weights over the feasible nodes, in their order;
/// the top set. A single feasible node is not scored.
fn score(profile: &mut Profile, pod: &Pod, snapshot: &Snapshot, feasible: &[&NodeState], result: &mut CycleResult) {
    result.feasible = feasible.iter().map(|n| n.id).collect();
    if feasible.len() < 2 {
        result.top = result.feasible.clone();
        return;
    }
    result.scores = feasible.iter().map(|n| NodeScore { node: n.id, by_plugin: Vec::new(), total: 0 }).collect();
    for entry in profile.plugins.iter_mut().filter(|e| e.plugin.scores()) {
        if entry.plugin.pre_score(pod, feasible, snapshot) == PreScore::Skip {
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
