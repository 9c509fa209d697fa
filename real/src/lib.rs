//! Real mode: podlab's controllers on actual containers. `DockerBackend` implements the same
//! `Backend` contract as the simulator, so the very same `Driver` runs the very same
//! controllers; pods become containers (an infra container owning the network namespace, app
//! containers joined to it, a shared volume), nodes become cgroup slices, and virtual time is
//! the wall clock since the run started. This is the only crate that talks to Docker, spawns
//! I/O or reads the wall clock; its API is synchronous (a tokio runtime lives inside).

pub mod backend;
pub mod cgroup;
pub mod clock;
pub mod engine;
pub mod image;
pub mod labels;
pub mod lease;
pub mod reaper;

use std::fmt;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use podlab_cluster::scenario::Scenario;
use podlab_cluster::{Controller, Driver, Records, SimDuration, SimTime};

pub use backend::{Crash, DockerBackend, OomKill, SHARED_MOUNT, Startup};
/// Docker's own view of a container, for callers that inspect what a run made (tests do).
pub use bollard::models::{ContainerInspectResponse, ContainerSummary};
pub use cgroup::Slices;
pub use engine::Engine;
pub use reaper::{Reaped, reap};

/// Why a real run could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RealError {
    /// No Docker daemon answers, or it is too old: the environment, not a bug.
    Unavailable(String),
    /// The workload image could not be made.
    Image(String),
    /// Docker refused something podlab asked.
    Docker(String),
}

impl fmt::Display for RealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RealError::Unavailable(why) | RealError::Image(why) | RealError::Docker(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for RealError {}

/// How to run a scenario on Docker.
#[derive(Clone, Debug)]
pub struct RealOptions {
    pub seed: u64,
    /// The longest a run may take in wall time, whatever the scenario's duration says.
    pub max_duration: SimDuration,
    /// Nodes to crash, and when.
    pub crashes: Vec<Crash>,
    /// Set (by a signal handler) to stop the run early; it still cleans up.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// How long the run lives on without renewing its lease ([`lease::DEFAULT_TTL`]): a reaper
    /// removes a run's objects only once its lease has ended.
    pub lease_ttl: SimDuration,
}

/// The outcome of one real run: records as the simulator writes them, and what only a real
/// run can measure.
#[derive(Debug)]
pub struct RealRun {
    /// The value of the run's `podlab.dev/run` label.
    pub run_id: String,
    pub controllers: Vec<String>,
    /// The scenario as the run left it, with the pods its controllers created (their ids are
    /// the records' `PodId`s past the scenario's own).
    pub scenario: Scenario,
    pub records: Records,
    /// Wall time from start to end of the run.
    pub end: SimTime,
    /// Events delivered to controllers.
    pub deliveries: u64,
    /// From binding to every container of the part started, per part.
    pub startups: Vec<Startup>,
    pub oom_kills: Vec<OomKill>,
    /// Whether node slices (parent cgroups) held the nodes' capacities, or why not.
    pub slices: Slices,
    pub image: String,
    pub docker: String,
    /// Stopped early by a signal (or because Docker's event stream ended).
    pub interrupted: bool,
    /// Stopped by itself before its time was up: every pod had ended, every Job finished, and
    /// nothing more was due, so any later moment would look the same.
    pub finished: bool,
    /// What went wrong without stopping the run: a part that could not start, clean-up leftovers.
    pub problems: Vec<String>,
    /// Runs of dead processes reaped before this one started.
    pub reaped: Reaped,
}

/// Runs `controllers` against the scenario's cluster on Docker: reaps what dead runs left,
/// makes sure the workload image exists, takes the run's lease, runs until the scenario's
/// duration (capped by `max_duration`) or until every pod has ended, then removes everything
/// it made. A run that lost its lease (stopped or starved for longer than its time-to-live) is
/// an error: a reaper may have removed its containers under it.
pub fn run(
    scenario: &Scenario,
    controllers: Vec<Box<dyn Controller>>,
    options: &RealOptions,
) -> Result<RealRun, RealError> {
    if !(lease::MIN_TTL..=lease::MAX_TTL).contains(&options.lease_ttl) {
        return Err(RealError::Docker(format!(
            "a lease's time-to-live of {} is outside {}..={}",
            options.lease_ttl,
            lease::MIN_TTL,
            lease::MAX_TTL
        )));
    }
    let engine = Engine::connect()?;
    let reaped = reap(&engine);
    let image = image::ensure(&engine)?;
    let slices = Slices::detect();
    let mut driver = Driver::new(controllers, options.seed);
    let names = driver.names();
    let run = labels::new_run_id();
    // Before anything else of the run exists: a reaper that finds any of it finds the lease.
    let lease = lease::Lease::take(&engine, &image, &run, options.lease_ttl)?;
    let mut backend =
        DockerBackend::new(scenario, &engine, (run, lease), image.clone(), names.clone(), &slices, options)?;
    driver.run(&mut backend);
    let end = backend.end_time();
    backend.cleanup();
    if let Some(why) = backend.lease_lost.take() {
        return Err(RealError::Docker(format!("run {}: {why}", backend.run_id())));
    }
    Ok(RealRun {
        run_id: backend.run_id().to_string(),
        controllers: names,
        scenario: backend.scenario().clone(),
        records: backend.take_records(),
        end,
        deliveries: backend.deliveries,
        startups: std::mem::take(&mut backend.startups),
        oom_kills: std::mem::take(&mut backend.oom_kills),
        slices,
        image,
        docker: engine.version.clone(),
        interrupted: backend.interrupted,
        finished: backend.finished,
        problems: std::mem::take(&mut backend.problems),
        reaped,
    })
}

/// A flag set by SIGINT, SIGTERM or SIGHUP, for [`RealOptions::interrupt`]. Installed once per
/// process; a second signal during clean-up changes nothing (the flag is already set).
pub fn interrupt_flag() -> Result<Arc<AtomicBool>, RealError> {
    static FLAG: OnceLock<Result<Arc<AtomicBool>, String>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
            signal_hook::flag::register(signal, flag.clone()).map_err(|e| format!("signal handler: {e}"))?;
        }
        Ok(flag)
    })
    .clone()
    .map_err(RealError::Docker)
}
