//! Placement policies, each a `Controller`: the scheduling framework with kube-scheduler's
//! default plugins, used whole (`kubernetes`) or container by container (`per-container`).

pub mod framework;
pub mod scheduler;

use podlab_cluster::Controller;
use podlab_cluster::scenario::Scenario;

pub use scheduler::{Granularity, Scheduler};

/// Every policy podlab can run, in the order a comparison shows them.
pub const POLICIES: &[&str] = &["per-container", "kubernetes"];

/// The controllers that make up one policy, configured from the scenario. `None` for a name
/// that is not in [`POLICIES`].
pub fn build(policy: &str, scenario: &Scenario) -> Option<Vec<Box<dyn Controller>>> {
    let granularity = match policy {
        "kubernetes" => Granularity::Pod,
        "per-container" => Granularity::Container,
        _ => return None,
    };
    Some(vec![Box::new(Scheduler::new(policy, granularity, scenario.scoring))])
}
