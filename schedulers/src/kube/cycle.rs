//! One scheduling cycle's synchronous part, as upstream's `schedulePod`: PreFilter, Filter on
//! every node, PreScore and Score on the feasible ones, NormalizeScore, weights, the total,
//! and the set of nodes sharing the top total. Nothing is chosen here: the caller breaks the
//! tie with its own seeded stream, so the result is the whole truth of the cycle.

use podlab_cluster::{NodeId, Pod};

use super::plugin::{PreScore, Status};
use super::profile::Profile;
use super::snapshot::Snapshot;

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
    for entry in &mut profile.plugins {
        if let Err(status) = entry.plugin.pre_filter(pod, snapshot) {
            let name = entry.plugin.name();
            result.filtered = snapshot.nodes.iter().map(|n| (n.id, name, status.clone())).collect();
            return result;
        }
    }
    let mut feasible = Vec::new();
    for node in &snapshot.nodes {
        let verdict = profile.plugins.iter().filter(|e| e.plugin.filters()).try_for_each(|e| {
            e.plugin.filter(pod, node, snapshot).map_err(|status| (e.plugin.name(), status))
        });
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
