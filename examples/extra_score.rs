//! An extra Score plugin on kube-scheduler's default profile, entered as a new policy
//! `kubernetes+myscore`: every default plugin as upstream configures it, plus `PreferLabel`,
//! which ranks nodes labelled `podlab.dev/preferred=true` first (weight 5, so it outweighs
//! the default scores on nodes that fit equally well).
//!
//! ```console
//! $ cargo run --example extra_score -- run scenarios/coscheduling.yaml --policy kubernetes+myscore --policy kubernetes
//! ```

#[path = "common/cycle_scheduler.rs"]
mod cycle_scheduler;

use std::process::ExitCode;

use podlab::Registry;
use podlab::cluster::Pod;
use podlab::schedulers::kube::plugin::MAX_NODE_SCORE;
use podlab::schedulers::kube::profile::{Entry, default_profile};
use podlab::schedulers::kube::{NodeState, Plugin, Snapshot};

use cycle_scheduler::CycleScheduler;

/// The label `PreferLabel` looks for, and the value it wants.
pub const PREFERRED: (&str, &str) = ("podlab.dev/preferred", "true");

/// A Score plugin: the highest score on a node with the [`PREFERRED`] label, none elsewhere.
struct PreferLabel;

impl Plugin for PreferLabel {
    fn name(&self) -> &'static str {
        "PreferLabel"
    }

    fn scores(&self) -> bool {
        true
    }

    fn score(&self, _pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> i64 {
        let (key, value) = PREFERRED;
        if node.spec.labels.get(key).is_some_and(|v| v == value) { MAX_NODE_SCORE } else { 0 }
    }
}

/// Enters `kubernetes+myscore`: the default profile with `PreferLabel` appended.
pub fn register(registry: &mut Registry) -> Result<(), String> {
    let description = "kube-scheduler's default profile plus the PreferLabel score (an example)";
    registry
        .register_fn("kubernetes+myscore", description, |_scenario| {
            let mut profile = default_profile();
            profile.plugins.push(Entry { plugin: Box::new(PreferLabel), weight: 5 });
            vec![Box::new(CycleScheduler::new("kubernetes+myscore", profile))]
        })
        .map(|_| ())
}

/// A podlab binary that knows `kubernetes+myscore` too.
#[allow(dead_code)]
fn main() -> ExitCode {
    let mut registry = Registry::builtin();
    register(&mut registry).expect("kubernetes+myscore is a new name");
    podlab::cli::main_with(registry)
}
