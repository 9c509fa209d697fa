//! NodeName: a pod that names its node (`spec.nodeName`) fits that node only
//! (`pkg/scheduler/framework/plugins/nodename/node_name.go`).

use podlab_cluster::Pod;

use crate::kube::plugin::{Plugin, Status};
use crate::kube::snapshot::{NodeState, Snapshot};

/// Upstream's `ErrReason`.
pub const REASON: &str = "node(s) didn't match the requested node name";

/// The plugin; it has no state.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        "NodeName"
    }

    fn filters(&self) -> bool {
        true
    }

    fn filter(&self, pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> Result<(), Status> {
        match pod.node_name() {
            Some(named) if named != node.id => Err(Status::unresolvable(REASON)),
            _ => Ok(()),
        }
    }
}
