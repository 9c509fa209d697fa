//! TaintToleration (`pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go`):
//! Filter refuses a node with a `NoSchedule` or `NoExecute` taint the pod does not tolerate;
//! Score counts the node's `PreferNoSchedule` taints the pod does not tolerate, and
//! NormalizeScore reverses the counts (`DefaultNormalizeScore(100, reverse)`), so a node with
//! none gets 100 and the node with the most gets 0.

use podlab_cluster::Pod;
use podlab_cluster::objects::{Taint, TaintEffect, Toleration};

use crate::kube::plugin::{MAX_NODE_SCORE, Plugin, Status, default_normalize_score};
use crate::kube::snapshot::{NodeState, Snapshot};

/// The reason v1.35.4 gives (its vectors' wording: the taint itself is not named).
pub const REASON: &str = "node(s) had untolerated taint(s)";

/// The plugin; it has no state.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaintToleration;

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }

    fn filters(&self) -> bool {
        true
    }

    fn scores(&self) -> bool {
        true
    }

    /// `FindMatchingUntoleratedTaint` with `DoNotScheduleTaintsFilterFunc`: the node's taints in
    /// order, `NoSchedule` and `NoExecute` only; the first untolerated one refuses.
    fn filter(&self, pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> Result<(), Status> {
        match untolerated_taint(&pod.tolerations, &node.spec.taints) {
            Some(_) => Err(Status::unresolvable(REASON)),
            None => Ok(()),
        }
    }

    fn score(&self, pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> i64 {
        intolerable_prefer_no_schedule(&pod.tolerations, &node.spec.taints)
    }

    fn normalize(&self, _pod: &Pod, scores: &mut [i64]) {
        default_normalize_score(MAX_NODE_SCORE, true, scores);
    }
}

/// The first `NoSchedule`/`NoExecute` taint no toleration tolerates.
pub fn untolerated_taint<'t>(tolerations: &[Toleration], taints: &'t [Taint]) -> Option<&'t Taint> {
    taints
        .iter()
        .filter(|t| matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute))
        .find(|t| !tolerations.iter().any(|tol| tol.tolerates(t)))
}

/// `countIntolerableTaintsPreferNoSchedule` over the pod's tolerations of effect
/// `PreferNoSchedule` or of no effect (`getAllTolerationPreferNoSchedule`, in PreScore).
pub fn intolerable_prefer_no_schedule(tolerations: &[Toleration], taints: &[Taint]) -> i64 {
    let prefer = |tol: &&Toleration| tol.effect.is_none_or(|e| e == TaintEffect::PreferNoSchedule);
    taints
        .iter()
        .filter(|t| t.effect == TaintEffect::PreferNoSchedule)
        .filter(|t| !tolerations.iter().filter(prefer).any(|tol| tol.tolerates(t)))
        .count() as i64
}
