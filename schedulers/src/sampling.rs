//! How many feasible nodes a scheduling cycle looks for before it stops filtering:
//! kube-scheduler's `numFeasibleNodesToFind`. A leaf, because two layers sample alike — the
//! kube profile's plain cycle (`kube::cycle`) and the node table's fast path (`node_table`),
//! which must stop where the cycle stops — and the table sits below the kube profile.

/// kube-scheduler's `minFeasibleNodesToFind` and `minFeasibleNodesPercentageToFind`.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// `numFeasibleNodesToFind` (`pkg/scheduler/schedule_one.go`): every node below 100 nodes;
/// else `percentage` of them (0: adaptive, 50% less 1% per 125 nodes, at least 5%), at least
/// 100.
pub fn num_feasible_nodes_to_find(nodes: usize, percentage: u32) -> usize {
    if nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return nodes;
    }
    let percentage = match percentage as usize {
        0 => 50usize.saturating_sub(nodes / 125).max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND),
        p => p.min(100),
    };
    (nodes * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}
