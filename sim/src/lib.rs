//! The deterministic world: the event queue, the event log and its digest, the simulated
//! cluster backend, and the invariant checker. It drives any `Controller`; it knows no policy.

pub mod backend;
pub mod budget;
pub mod invariants;
pub mod log;
pub mod model;
pub mod queue;
pub mod recorder;

use std::sync::Arc;

use podlab_cluster::config::Component;
use podlab_cluster::controller::Factory;
use podlab_cluster::scenario::Scenario;
use podlab_cluster::{Driver, RecordSink, Records, SimTime};

pub use backend::SimBackend;
pub use budget::{Budgets, Exceeded};
use log::EventLog;
use recorder::Recorder;

/// How to run a scenario in the simulator.
#[derive(Clone, Copy, Debug)]
pub struct SimOptions {
    pub seed: u64,
    /// Check the cluster's invariants after every record (tests always do).
    pub check_invariants: bool,
    /// Keep the records in [`SimRun::records`]; otherwise only the sink reads them.
    pub keep_records: bool,
    /// Whether the event log and the sink read the records on a second thread.
    pub record_thread: RecordThread,
    /// Where the run stops if time stops moving or something grows without end.
    pub budgets: Budgets,
}

/// Whether a run's records are read (its log's lines written and digested, the sink's fold)
/// on a thread of their own, beside the simulation. The records, their order and what reads
/// them are the same either way; only the wall time differs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordThread {
    /// On a second thread when the machine has a second core and the run is big enough to
    /// gain: a scenario of at least [`RecordThread::AUTO_PODS`] pods.
    #[default]
    Auto,
    Always,
    Never,
}

impl RecordThread {
    /// The scenario's pods from which `Auto` reads records on a second thread: a thread's
    /// start and the batches' hand-over are then a small part of the run.
    pub const AUTO_PODS: usize = 10_000;

    fn wanted(self, scenario: &Scenario) -> bool {
        match self {
            RecordThread::Always => true,
            RecordThread::Never => false,
            RecordThread::Auto => {
                scenario.pods.len() >= Self::AUTO_PODS
                    && std::thread::available_parallelism().is_ok_and(|cores| cores.get() > 1)
            }
        }
    }
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
    /// The budget the run reached, if any: it stopped there, and everything above is partial.
    pub exceeded: Option<Exceeded>,
}

/// Runs the controllers `factory` builds against the scenario's cluster in virtual time;
/// `components` says which process each runs in. A controller that a fault crashes is built
/// afresh by `factory` when it restarts. `sink` reads every record as it is written, in order
/// (on a second thread if `options.record_thread` says so).
pub fn run(
    scenario: Arc<Scenario>,
    factory: Factory<'_>,
    components: Vec<Component>,
    options: SimOptions,
    sink: &mut (dyn RecordSink + Send),
) -> SimRun {
    let mut driver = Driver::restartable(factory, options.seed);
    let names = driver.names();
    // The log keeps the records, or digests them only.
    let log = Box::new(if options.keep_records { EventLog::default() } else { EventLog::digest_only() });
    let reader = (log, sink);
    let (events_processed, exceeded, end, scenario, log, violations) = std::thread::scope(|scope| {
        let recorder = if options.record_thread.wanted(&scenario) {
            Recorder::piped(scope, scenario.clone(), names.clone(), reader)
        } else {
            Recorder::Here { log: reader.0, sink: reader.1 }
        };
        let mut backend = SimBackend::new(scenario, names.clone(), components, options, recorder);
        driver.run(&mut backend);
        let events_processed = backend.events_processed();
        let exceeded = backend.exceeded().cloned();
        let (end, scenario, log, violations) = backend.finish();
        (events_processed, exceeded, end, scenario, log, violations)
    });
    SimRun {
        scenario,
        controllers: names,
        digest: log.digest(),
        records: log.into_records(),
        end,
        events_processed,
        violations,
        exceeded,
    }
}
