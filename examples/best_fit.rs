//! An out-of-tree policy: a best-fit pod scheduler, written against podlab's public pieces and
//! run by every podlab command. It keeps kube-scheduler's filters (the default profile's, made
//! filter-only) and scores nodes with one plugin of its own, `BestFit`: the node the pod leaves
//! the least of its parameter `resource` on wins, so pods pack tightly.
//!
//! ```console
//! $ cargo run --example best_fit -- compare scenarios/coscheduling.yaml --policy best-fit --policy kubernetes
//! ```

#[path = "common/cycle_scheduler.rs"]
mod cycle_scheduler;

use std::process::ExitCode;

use podlab::cluster::scenario::Scenario;
use podlab::cluster::{Controller, NodeId, Pod};
use podlab::schedulers::kube::plugin::{MAX_NODE_SCORE, default_normalize_score};
use podlab::schedulers::kube::profile::{Entry, default_profile};
use podlab::schedulers::kube::{NodeState, Plugin, Profile, Snapshot, Status};
use podlab::{Policy, Registry};

use cycle_scheduler::CycleScheduler;

/// The policy: its name and its parameter.
pub struct BestFit {
    /// The resource to pack on (`cpu`, `memory`, `nvidia.com/gpu`).
    pub resource: String,
}

impl Policy for BestFit {
    fn name(&self) -> &str {
        "best-fit"
    }

    fn description(&self) -> &str {
        "kube-scheduler's filters, then the node left with the least of one resource (an example)"
    }

    fn build(&self, _scenario: &Scenario) -> Vec<Box<dyn Controller>> {
        let mut profile = default_profile();
        // Keep the default filters, drop their scores: only ours ranks the nodes.
        let filters = std::mem::take(&mut profile.plugins).into_iter().filter(|e| e.plugin.filters());
        let mut plugins: Vec<Entry> =
            filters.map(|e| Entry { plugin: Box::new(FilterOnly(e.plugin)), weight: 1 }).collect();
        plugins.push(Entry { plugin: Box::new(LeastLeft { resource: self.resource.clone() }), weight: 1 });
        let profile = Profile::new("best-fit", plugins);
        vec![Box::new(CycleScheduler::new("best-fit", profile))]
    }
}

/// The Score plugin: the less of `resource` a node keeps free once the pod is on it, the
/// higher its score.
struct LeastLeft {
    resource: String,
}

impl Plugin for LeastLeft {
    fn name(&self) -> &'static str {
        "BestFit"
    }

    fn scores(&self) -> bool {
        true
    }

    /// What the node would keep free (the raw score; NormalizeScore reverses it).
    fn score(&self, pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> i64 {
        let free = node.spec.allocatable.get(&self.resource).saturating_sub(node.requested.get(&self.resource));
        free.saturating_sub(pod.effective_requests().get(&self.resource)).try_into().unwrap_or(i64::MAX)
    }

    fn normalize(&self, _pod: &Pod, scores: &mut [i64]) {
        default_normalize_score(MAX_NODE_SCORE, true, scores);
    }
}

/// A plugin at its filtering points only (PreFilter, Filter), never scoring.
struct FilterOnly(Box<dyn Plugin>);

impl Plugin for FilterOnly {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn filters(&self) -> bool {
        true
    }

    fn pre_filter(&mut self, pod: &Pod, snapshot: &Snapshot) -> Result<(), Status> {
        self.0.pre_filter(pod, snapshot)
    }

    fn pre_filter_nodes(&self) -> Option<&[NodeId]> {
        self.0.pre_filter_nodes()
    }

    fn filter(&self, pod: &Pod, node: &NodeState, snapshot: &Snapshot) -> Result<(), Status> {
        self.0.filter(pod, node, snapshot)
    }
}

/// Enters the policy, packing on CPU, beside the built-ins.
pub fn register(registry: &mut Registry) -> Result<(), String> {
    registry.register(BestFit { resource: "cpu".into() }).map(|_| ())
}

/// A podlab binary that knows `best-fit` too.
#[allow(dead_code)]
fn main() -> ExitCode {
    let mut registry = Registry::builtin();
    register(&mut registry).expect("best-fit is a new name");
    podlab::cli::main_with(registry)
}
