//! Placement policies, each a `Controller`: the scheduling framework with kube-scheduler's
//! default plugins, used whole (`kubernetes`) or container by container (`per-container`).

pub mod framework;
pub mod scheduler;

use podlab_cluster::Controller;
use podlab_cluster::scenario::Scenario;

pub use scheduler::{Granularity, Scheduler};

/// Every policy podlab can run, in the order a comparison shows them.
pub const POLICIES: &[&str] = &["per-container", "kubernetes", "gang"];

/// The controllers that make up one policy, configured from the scenario. `None` for a name
/// that is not in [`POLICIES`].
pub fn build(policy: &str, scenario: &Scenario) -> Option<Vec<Box<dyn Controller>>> {
    let config = scenario.config.scheduler.clone();
    let scheduler = match policy {
        "kubernetes" => Scheduler::new(policy, Granularity::Pod, false, config),
        "per-container" => Scheduler::new(policy, Granularity::Container, false, config),
        "gang" => Scheduler::new(policy, Granularity::Pod, true, config),
        _ => return None,
    };
    Some(vec![Box::new(scheduler)])
}
