//! The plugin interface: one trait for every extension point a plugin may implement
//! (PreFilter, Filter, PreScore, Score, NormalizeScore), each with a default that does
//! nothing, as upstream's plugins implement only the interfaces they need. The built-in
//! plugins and a user's own go through this same trait.

use podlab_cluster::{NodeId, Pod};

use super::snapshot::{NodeState, Snapshot};

/// Upstream's `framework.MaxNodeScore`: every NormalizeScore maps into `0..=100`.
pub const MAX_NODE_SCORE: i64 = 100;

/// Upstream's `helper.DefaultNormalizeScore` (`pkg/scheduler/framework/plugins/helper/
/// normalize_score.go`): scales the scores so the highest becomes `max`, in integers
/// (`max * score / highest`); `reverse` turns each into `max - score`. With every score 0,
/// the scores stay 0, or all become `max` when reversed.
pub fn default_normalize_score(max: i64, reverse: bool, scores: &mut [i64]) {
    let highest = scores.iter().copied().max().unwrap_or(0).max(0);
    if highest == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max);
        }
        return;
    }
    for score in scores.iter_mut() {
        let scaled = max * *score / highest;
        *score = if reverse { max - scaled } else { scaled };
    }
}

/// Upstream's `framework.Code` for a node the pod cannot go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    /// Preemption might help (`Unschedulable`).
    Unschedulable,
    /// Preemption cannot help (`UnschedulableAndUnresolvable`).
    UnschedulableAndUnresolvable,
}

impl Code {
    /// Upstream's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unschedulable => "Unschedulable",
            Code::UnschedulableAndUnresolvable => "UnschedulableAndUnresolvable",
        }
    }
}

/// A plugin's refusal: its code and reason strings, worded as upstream's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: Code,
    pub reasons: Vec<String>,
}

impl Status {
    /// An `Unschedulable` status with one reason.
    pub fn unschedulable(reason: impl Into<String>) -> Status {
        Status { code: Code::Unschedulable, reasons: vec![reason.into()] }
    }

    /// An `UnschedulableAndUnresolvable` status with one reason.
    pub fn unresolvable(reason: impl Into<String>) -> Status {
        Status { code: Code::UnschedulableAndUnresolvable, reasons: vec![reason.into()] }
    }
}

/// What a plugin's PreScore says of this cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreScore {
    /// The plugin scores this pod.
    Run,
    /// Upstream's `Skip`: the plugin takes no part in this cycle's scores (and is absent from
    /// them, not 0).
    Skip,
}

/// One plugin of a profile. A cycle calls, in this order: `pre_filter` once; `filter` per
/// node (after the plugins before it passed the node); `pre_score` once with the feasible
/// nodes; `score` per feasible node; `normalize` once over those scores. A plugin keeps what
/// it computes for the cycle (upstream's `CycleState`) in itself: `pre_filter` and
/// `pre_score` take `&mut self`, and every cycle starts with `pre_filter`.
pub trait Plugin {
    /// Upstream's plugin name (`NodeResourcesFit`).
    fn name(&self) -> &'static str;

    /// Whether the plugin has a Filter (its verdicts are checked, in profile order).
    fn filters(&self) -> bool {
        false
    }

    /// Whether the plugin has a Score.
    fn scores(&self) -> bool {
        false
    }

    /// PreFilter: the cycle's set-up. An error rejects the pod on every node with that status.
    fn pre_filter(&mut self, _pod: &Pod, _snapshot: &Snapshot) -> Result<(), Status> {
        Ok(())
    }

    /// The nodes this plugin's PreFilter narrowed the cycle to (upstream's `PreFilterResult`
    /// `NodeNames`), read right after `pre_filter` succeeded; `None` (the default): every node.
    /// The cycle intersects the plugins' sets; nodes left out are `UnschedulableAndUnresolvable`.
    fn pre_filter_nodes(&self) -> Option<&[NodeId]> {
        None
    }

    /// Filter: whether `node` can take `pod`.
    fn filter(&self, _pod: &Pod, _node: &NodeState, _snapshot: &Snapshot) -> Result<(), Status> {
        Ok(())
    }

    /// PreScore over the feasible nodes.
    fn pre_score(&mut self, _pod: &Pod, _feasible: &[&NodeState], _snapshot: &Snapshot) -> PreScore {
        PreScore::Run
    }

    /// Score of one feasible node, before normalisation.
    fn score(&self, _pod: &Pod, _node: &NodeState, _snapshot: &Snapshot) -> i64 {
        0
    }

    /// NormalizeScore: rewrites the raw scores (in the order of the feasible nodes) into
    /// `0..=MAX_NODE_SCORE`. The default keeps them.
    fn normalize(&self, _pod: &Pod, _scores: &mut [i64]) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_normalize_score_as_upstream() {
        let mut scores = [0, 1, 3];
        default_normalize_score(100, false, &mut scores);
        assert_eq!(scores, [0, 33, 100]);
        let mut scores = [0, 1, 3];
        default_normalize_score(100, true, &mut scores);
        assert_eq!(scores, [100, 67, 0]);
        let mut zeros = [0, 0];
        default_normalize_score(100, true, &mut zeros);
        assert_eq!(zeros, [100, 100]);
        let mut zeros = [0, 0];
        default_normalize_score(100, false, &mut zeros);
        assert_eq!(zeros, [0, 0]);
    }
}
