//! NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes only pods that tolerate its
//! implicit taint (`pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go`).

use podlab_cluster::Pod;
use podlab_cluster::objects::{Taint, TaintEffect};

use crate::kube::plugin::{Plugin, Status};
use crate::kube::snapshot::{NodeState, Snapshot};

/// Upstream's `ErrReasonUnschedulable`.
pub const REASON: &str = "node(s) were unschedulable";

/// `v1.TaintNodeUnschedulable`.
pub const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

/// The plugin; it has no state.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeUnschedulable;

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        "NodeUnschedulable"
    }

    fn filters(&self) -> bool {
        true
    }

    fn filter(&self, pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> Result<(), Status> {
        if !node.spec.unschedulable || tolerates_cordon(pod) {
            return Ok(());
        }
        Err(Status::unresolvable(REASON))
    }
}

/// Whether the pod tolerates `node.kubernetes.io/unschedulable:NoSchedule` (upstream builds
/// this taint with an empty value and asks `TolerationsTolerateTaint`).
pub fn tolerates_cordon(pod: &Pod) -> bool {
    let cordon = Taint { key: UNSCHEDULABLE_TAINT.into(), value: String::new(), effect: TaintEffect::NoSchedule };
    pod.tolerations.iter().any(|t| t.tolerates(&cordon))
}
