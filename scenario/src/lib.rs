//! Scenario files and traces: the loader that turns one multi-document YAML file of Kubernetes
//! manifests plus podlab's `kind: Simulation` into a validated `podlab_cluster::scenario::Scenario`
//! (or a positioned error), the workload generator that draws a run's jobs from its seed, and the
//! trace readers (SWF, Google 2011 prefill, the Omega simulator's distributions, OpenB).
//!
//! The data a loaded scenario is — `Scenario`, its workload, its diagnostics — belongs to the
//! vocabulary crate, which everything that runs or measures a scenario reads; this crate is the
//! only one that knows YAML (`serde-saphyr`) and gzip (`flate2`). It depends on `cluster`, never
//! the other way round.

#[cfg(test)]
mod config_tests;
mod controlled;
mod diagnostic;
mod document;
mod expectations;
pub mod input;
mod kinds;
#[cfg(test)]
mod kube_tests;
mod loader;
mod manifest;
mod names;
pub mod openb;
pub mod params;
mod plugin_args;
mod reading;
mod scheduler_config;
mod schema;
mod settings;
mod simulation;
mod terms;
pub mod trace;
mod workload;
mod yaml;

// The vocabulary's modules under their own names: the loader's paths (`crate::objects::Pod`,
// `crate::config::Fault`) read as they did when it lived in `cluster`.
use podlab_cluster::{affinity, apps, config, event, gpu, kube_config, objects, quantity, resources, rng, time};

pub use diagnostic::{Diagnostic, LoadError, Pos, Severity};
pub use document::{OwnDocument, Spanned, load_own_document, parse_own_document};
pub use loader::{
    ATTRIBUTION_ANNOTATION, EXEC_POLICIES, MAX_FILE_BYTES, WORKLOAD_LABEL, instantiate, load, parse, parse_bytes,
};
pub use manifest::{
    ALLOCATE_MEMORY_ANNOTATION, FAIL_AFTER_ANNOTATION, FAILURE_PROBABILITY_ANNOTATION, POD_GROUP_LABELS,
    RUN_FOR_ANNOTATION, VOLCANO_GROUP_ANNOTATION,
};
pub use reading::LoadOptions;
pub use scheduler_config::{load_scheduler_config, parse_scheduler_config, unscheduled_pod_warnings};
pub use schema::SKIPPED_KINDS;
pub use simulation::API_VERSION;
pub use workload::MAX_GENERATED_PODS;
