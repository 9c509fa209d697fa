//! The deterministic world: the event queue, the event log and its digest, the simulated
//! cluster backend, and the invariant checker. It drives any `Controller`; it knows no policy.

pub mod backend;
pub mod invariants;
pub mod log;
pub mod model;
pub mod queue;

use std::sync::Arc;

use podlab_cluster::config::Component;
use podlab_cluster::controller::Factory;
use podlab_cluster::scenario::Scenario;
use podlab_cluster::{Driver, RecordSink, Records, SimTime};

pub use backend::SimBackend;

/// How to run a scenario in the simulator.
#[derive(Clone, Copy, Debug)]
pub struct SimOptions {
    pub seed: u64,
    /// Check the cluster's invariants after every record (tests always do).
    pub check_invariants: bool,
    /// Keep the records in [`SimRun::records`]; otherwise only the sink reads them.
    pub keep_records: bool,
}

/// The outcome of one simulated run.
#[derive(Debug)]
pub struct SimRun {
    /// The scenario as the run left it: with the pods controllers created, and node specs as
    /// they ended. Reports of the run use this one.
    pub scenario: Arc<Scenario>,
    /// The controllers that ran, by id (notes in the records name them by id).
    pub controllers: Vec<String>,
    /// Empty unless [`SimOptions::keep_records`].
    pub records: Records,
    /// `blake3:<hex>` of the canonical event log.
    pub digest: String,
    /// When the run ended: the scenario's duration, or the last event.
    pub end: SimTime,
    pub events_processed: u64,
    /// Invariant violations (checked runs only); empty when all held.
    pub violations: Vec<String>,
}

/// Runs the controllers `factory` builds against the scenario's cluster in virtual time;
/// `components` says which process each runs in. A controller that a fault crashes is built
/// afresh by `factory` when it restarts. `sink` reads every record as it is written.
pub fn run(
    scenario: Arc<Scenario>,
    factory: Factory<'_>,
    components: Vec<Component>,
    options: SimOptions,
    sink: &mut dyn RecordSink,
) -> SimRun {
    let mut driver = Driver::restartable(factory, options.seed);
    let names = driver.names();
    let mut backend = SimBackend::new(scenario, names.clone(), components, options, sink);
    driver.run(&mut backend);
    let events_processed = backend.events_processed();
    let (end, scenario, log, violations) = backend.finish();
    SimRun {
        scenario,
        controllers: names,
        digest: log.digest(),
        records: log.into_records(),
        end,
        events_processed,
        violations,
    }
}
