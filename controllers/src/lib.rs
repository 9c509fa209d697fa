//! The controller manager's logic, each a `Controller` (so the simulator and real mode run the
//! same code): the ReplicaSet controller, which keeps replicas running (self-healing); the
//! Deployment controller, which rolls templates out through ReplicaSets and rolls them back;
//! the Job controller, which runs pods to completion; and the node lifecycle controller, which
//! marks silent nodes NotReady, taints them, and evicts their pods after their toleration.

pub mod deployment;
pub mod job;
pub mod node_lifecycle;
pub mod replica_set;
pub mod work_queue;

use podlab_cluster::Controller;
use podlab_cluster::scenario::Scenario;

pub use deployment::DeploymentController;
pub use job::JobController;
pub use node_lifecycle::NodeLifecycle;
pub use replica_set::ReplicaSetController;

/// The controllers a scenario needs besides its scheduling policy: a ReplicaSet controller
/// when it has ReplicaSets, a Deployment controller when it has Deployments, a Job controller
/// when it has Jobs, a node lifecycle controller when its control plane is modelled (without a
/// model, kubelets send no heartbeats to watch).
pub fn build(scenario: &Scenario) -> Vec<Box<dyn Controller>> {
    let mut out: Vec<Box<dyn Controller>> = Vec::new();
    if !scenario.replica_sets.is_empty() {
        out.push(Box::new(ReplicaSetController::new(scenario.replica_sets.clone())));
    }
    if !scenario.deployments.is_empty() {
        out.push(Box::new(DeploymentController::new(
            scenario.deployments.clone(),
            &scenario.deployment_changes,
            scenario.control_plane.is_some(),
        )));
    }
    if !scenario.jobs.is_empty() {
        out.push(Box::new(JobController::new(scenario.jobs.clone())));
    }
    if let Some(cp) = &scenario.control_plane {
        out.push(Box::new(NodeLifecycle::new(cp.node_monitor_grace)));
    }
    out
}
