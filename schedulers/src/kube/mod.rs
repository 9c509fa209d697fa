//! kube-scheduler v1.35's scheduling framework, plugin by plugin, as upstream computes it
//! (`pkg/scheduler/framework` and `pkg/scheduler/framework/plugins/...` of kubernetes/kubernetes
//! at v1.35). A [`Profile`] is an ordered list of [`Plugin`]s with their weights; one
//! [`cycle::run`] filters every node against a pod, scores the feasible ones and reports every
//! verdict and every plugin's weighted score — what `explain` shows and what the conformance
//! vectors of upstream's decisions are checked against.

pub mod cache;
pub mod cycle;
pub mod nominated;
pub mod nominator;
pub mod pending;
pub mod plugin;
pub mod plugins;
pub mod preemption;
pub mod profile;
pub mod snapshot;

pub use cycle::{CycleResult, NodeScore};
pub use plugin::{Code, Plugin, PreScore, Status};
pub use profile::Profile;
pub use snapshot::{NodeState, PlacedPod, Snapshot};
