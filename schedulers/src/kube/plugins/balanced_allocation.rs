//! NodeResourcesBalancedAllocation (`pkg/scheduler/framework/plugins/noderesources/
//! balanced_allocation.go`): prefers the node whose resources would be used most evenly with
//! the pod, counting requests as they are (no non-zero defaults): `(1 − std) × 100` of the
//! per-resource fractions requested/allocatable (each capped at 1), in float64 and truncated
//! to an integer as Go's `int64(...)` does. A best-effort pod (requesting none of the
//! resources) skips the score (upstream issue 129138).

use podlab_cluster::Pod;

use super::node_resources_fit::{ResourceSpec, node_amounts, pod_requests};
use crate::kube::plugin::{MAX_NODE_SCORE, Plugin, PreScore};
use crate::kube::snapshot::{NodeState, Snapshot};

/// The plugin, its `resources` and PreScore's requests of the pod.
#[derive(Clone, Debug)]
pub struct BalancedAllocation {
    /// `NodeResourcesBalancedAllocationArgs.resources` (the weights are not used by the score).
    pub resources: Vec<ResourceSpec>,
    pod_requests: Vec<i64>,
}

impl Default for BalancedAllocation {
    fn default() -> BalancedAllocation {
        BalancedAllocation::new(ResourceSpec::defaults())
    }
}

impl BalancedAllocation {
    /// The plugin counting these resources.
    pub fn new(resources: Vec<ResourceSpec>) -> BalancedAllocation {
        BalancedAllocation { resources, pod_requests: Vec::new() }
    }
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }

    fn scores(&self) -> bool {
        true
    }

    fn pre_score(&mut self, pod: &Pod, _feasible: &[&NodeState], _snapshot: &Snapshot) -> PreScore {
        self.pod_requests = pod_requests(pod, &self.resources, true);
        if self.pod_requests.iter().all(|&r| r == 0) { PreScore::Skip } else { PreScore::Run }
    }

    fn score(&self, _pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> i64 {
        let (requested, allocatable) = node_amounts(node, &self.resources, &self.pod_requests, true);
        balanced_score(&requested, &allocatable)
    }
}

/// `balancedResourceScorer`: with two resources the std is |f₀ − f₁| / 2; with more, the
/// population standard deviation; with fewer, 0. (No allocation: the node table calls it for
/// every node whose verdict changes.)
pub fn balanced_score(requested: &[i64], allocatable: &[i64]) -> i64 {
    let fractions = || {
        requested
            .iter()
            .zip(allocatable)
            .filter(|&(_, &alloc)| alloc != 0)
            .map(|(&req, &alloc)| (req as f64 / alloc as f64).min(1.0))
    };
    let (mut count, mut total, mut first, mut second) = (0usize, 0.0f64, 0.0, 0.0);
    for fraction in fractions() {
        match count {
            0 => first = fraction,
            1 => second = fraction,
            _ => {}
        }
        count += 1;
        total += fraction;
    }
    let std = match count {
        2 => ((first - second) / 2.0).abs(),
        0 | 1 => 0.0,
        n => {
            let mean = total / n as f64;
            let sum = fractions().fold(0.0, |sum, f| sum + (f - mean) * (f - mean));
            (sum / n as f64).sqrt()
        }
    };
    // Go's int64(float64) truncates toward zero, as `as` does.
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_resources_use_half_the_difference() {
        // 50% cpu, 25% memory: std 0.125, score 87 (87.5 truncated).
        assert_eq!(balanced_score(&[2, 1], &[4, 4]), 87);
        assert_eq!(balanced_score(&[1, 1], &[4, 4]), 100);
        // Fractions are capped at 1; a resource with nothing allocatable is left out.
        assert_eq!(balanced_score(&[8, 0], &[4, 4]), 50);
        assert_eq!(balanced_score(&[3, 5], &[4, 0]), 100);
    }

    #[test]
    fn three_resources_use_the_population_deviation() {
        let score = balanced_score(&[1, 2, 3], &[4, 4, 4]);
        let f = [0.25f64, 0.5, 0.75];
        let std = (f.iter().map(|x| (x - 0.5) * (x - 0.5)).sum::<f64>() / 3.0).sqrt();
        assert_eq!(score, ((1.0 - std) * 100.0) as i64);
    }
}
