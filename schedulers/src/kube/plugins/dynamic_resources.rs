//! DynamicResources: resource claims (DRA). podlab models no ResourceClaims, so for every pod
//! the plugin does what upstream's does for a pod without claims
//! (`pkg/scheduler/framework/plugins/dynamicresources/dynamicresources.go`): its PreFilter
//! skips (no Filter verdict), and its Score, which has no PreScore to skip it, gives every
//! node 0 — the score the conformance vectors list for it, weight 2.

use podlab_cluster::Pod;

use crate::kube::plugin::Plugin;
use crate::kube::snapshot::{NodeState, Snapshot};

/// The plugin; it has no state.
#[derive(Clone, Copy, Debug, Default)]
pub struct DynamicResources;

impl Plugin for DynamicResources {
    fn name(&self) -> &'static str {
        "DynamicResources"
    }

    fn scores(&self) -> bool {
        true
    }

    fn score(&self, _pod: &Pod, _node: &NodeState, _snapshot: &Snapshot) -> i64 {
        0
    }
}
