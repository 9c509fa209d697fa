//! podlab as a library: load a scenario, run a policy on it in the simulator, and measure the
//! run. The command line and the integration tests share this wiring; the commands' own logic
//! lives here too — comparisons (`compare`), sweeps (`sweep`), the OpenB experiment
//! (`experiment`), trace imports (`import`) — and the command line itself (`cli`).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub use podlab_cluster as cluster;
pub use podlab_controllers as controllers;
pub use podlab_exec as exec;
pub use podlab_real as real;
pub use podlab_reports as reports;
pub use podlab_scenario as scenario;
pub use podlab_schedulers as schedulers;
pub use podlab_sim as sim;

pub mod bench;
pub mod cli;
pub mod compare;
pub mod experiment;
pub mod import;
pub mod input;
pub mod out;
pub mod policy;
pub mod swarm;
pub mod sweep;

use podlab_cluster::config::Component;
use podlab_cluster::scenario::Scenario;
use podlab_cluster::{RecordSink, Stamped};
use podlab_reports::{RunInfo, Summary, Verdict};
use podlab_scenario::{LoadError, LoadOptions};
pub use podlab_sim::RecordThread;
use podlab_sim::{SimOptions, SimRun};
pub use policy::{Policy, Registry, registry, set_registry};

/// The environment variable that lets scenarios read files outside their own folder (as the
/// command line's `--allow-paths-outside` does): `1` or `true`.
pub const ALLOW_PATHS_OUTSIDE_ENV: &str = "PODLAB_ALLOW_PATHS_OUTSIDE";

/// Loads a scenario file, knowing every policy podlab has. Files it names must lie in its
/// folder unless [`ALLOW_PATHS_OUTSIDE_ENV`] says otherwise.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    load_with(path, allow_paths_outside_from_env())
}

/// Loads a scenario file; `allow_paths_outside` lets it read files outside its folder.
pub fn load_with(path: &Path, allow_paths_outside: bool) -> Result<Scenario, LoadError> {
    scenario::load(path, load_options(allow_paths_outside))
}

/// Loads a scenario from text (tests, and scenarios that do not live in a file); files it
/// names are read relative to `file`'s folder.
pub fn load_str(file: &str, text: &str) -> Result<Scenario, LoadError> {
    scenario::parse(file, text, load_options(allow_paths_outside_from_env()))
}

/// Whether [`ALLOW_PATHS_OUTSIDE_ENV`] is set to `1` or `true`.
pub fn allow_paths_outside_from_env() -> bool {
    std::env::var(ALLOW_PATHS_OUTSIDE_ENV).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

fn load_options(allow_paths_outside: bool) -> LoadOptions<'static> {
    LoadOptions { known_policies: registry().known(allow_exec()), allow_paths_outside }
}

/// The environment variable that lets scenario files name external policies
/// (`policies: [exec:NAME=COMMAND]`), as the command line's `--allow-exec` does: `1` or `true`.
/// A policy given on the command line needs neither.
pub const ALLOW_EXEC_ENV: &str = "PODLAB_ALLOW_EXEC";

/// Whether scenario files may name external policies: [`ALLOW_EXEC_ENV`] or [`set_allow_exec`].
static ALLOW_EXEC: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Lets scenarios loaded from now on name external policies (the command line's
/// `--allow-exec`): running such a scenario runs the commands it names.
pub fn set_allow_exec(allow: bool) {
    ALLOW_EXEC.store(allow, std::sync::atomic::Ordering::Relaxed);
}

fn allow_exec() -> bool {
    ALLOW_EXEC.load(std::sync::atomic::Ordering::Relaxed)
        || std::env::var(ALLOW_EXEC_ENV).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// The name a policy's results go by: an external policy's NAME (`exec:NAME=COMMAND`), else
/// the policy itself.
pub fn policy_name(policy: &str) -> &str {
    match policy.strip_prefix(podlab_exec::PREFIX).and_then(|rest| rest.split_once('=')) {
        Some((name, _)) => name.trim(),
        None => policy,
    }
}

/// Reads a `--policy` argument: one of podlab's policies, or an external one,
/// `exec:NAME=COMMAND`.
pub fn parse_policy_arg(text: &str) -> Result<String, String> {
    match podlab_exec::ExecSpec::parse(text) {
        Some(spec) => spec.map(|_| text.to_string()),
        None if registry().get(text).is_some() => Ok(text.to_string()),
        None => Err(format!(
            "unknown policy `{text}`: podlab knows {}, or an external policy exec:NAME=COMMAND",
            registry().names().join(", ")
        )),
    }
}

/// One policy's run of a scenario, measured.
#[derive(Debug)]
pub struct PolicyRun {
    pub policy: String,
    pub seed: u64,
    /// The scenario as run: with its generated workload for this seed. Outcomes and reports
    /// of the run must use this one (its pods include the generated jobs).
    pub scenario: Arc<Scenario>,
    pub sim: SimRun,
    pub summary: Summary,
    /// The outcomes of the scenario's first [`FIRST_PODS`] pods (the rows a table shows).
    pub first_pods: podlab_reports::Outcomes,
    pub verdicts: Vec<Verdict>,
}

/// How many pods' outcomes a run keeps beside its summary, however many pods it has.
pub const FIRST_PODS: usize = 20;

/// Why a run could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    UnknownPolicy(String),
    /// The generated workload is unusable (e.g. far too large).
    Workload(String),
    /// Real mode could not run: no Docker, no image, Docker refused.
    Real(podlab_real::RealError),
    /// An external policy is written wrong (`exec:NAME=COMMAND`).
    BadPolicy(String),
    /// An external policy crashed, hung or answered nonsense: the run has no results.
    Exec(Box<podlab_exec::ExecError>),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::UnknownPolicy(p) => {
                write!(f, "unknown policy `{p}` (podlab knows: {})", registry().names().join(", "))
            }
            RunError::Workload(why) => write!(f, "workload: {why}"),
            RunError::Real(why) => write!(f, "real mode: {why}"),
            RunError::BadPolicy(why) => f.write_str(why),
            RunError::Exec(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Runs `policy` on `scenario` in the simulator, with the workload drawn for `seed`, keeping
/// its records in `sim.records`.
pub fn run_policy(scenario: &Scenario, policy: &str, seed: u64, check_invariants: bool) -> Result<PolicyRun, RunError> {
    run_policy_with(
        scenario,
        policy,
        seed,
        RunOptions { check_invariants, keep_records: true, ..RunOptions::default() },
    )
}

/// What a simulated run keeps and checks, and where it reads its records.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Check the cluster's invariants after every record.
    pub check_invariants: bool,
    /// Keep the records in `sim.records` (for the files a run writes, or to read them back).
    /// Otherwise the summary is folded as they are written and they are dropped — unless the
    /// scenario needs them (`podlab_reports::needs_records`): a million-pod run then keeps
    /// books only of the pods in flight.
    pub keep_records: bool,
    /// Whether the event log and the reports' fold read the records on a second thread
    /// (a big run's records, by default); the same results either way.
    pub record_thread: RecordThread,
    /// Where a run stops if time stops moving or something grows without end
    /// (`--max-events`, `--max-instant-events`, `--max-created-pods`).
    pub budgets: podlab_sim::Budgets,
}

impl Default for RunOptions {
    /// Nothing checked or kept beyond what the scenario needs, records read where it pays,
    /// and the budgets of the command line (`input::BUDGETS`) or the defaults.
    fn default() -> RunOptions {
        RunOptions {
            check_invariants: false,
            keep_records: false,
            record_thread: RecordThread::default(),
            budgets: crate::input::BUDGETS.get().copied().unwrap_or_default(),
        }
    }
}

/// [`run_policy`], with what it keeps chosen.
pub fn run_policy_with(
    scenario: &Scenario,
    policy: &str,
    seed: u64,
    options: RunOptions,
) -> Result<PolicyRun, RunError> {
    run_policy_watched(scenario, policy, seed, options, &mut ())
}

/// [`run_policy_with`], with `watch` reading every record as it is written too (a progress
/// bar, say).
pub fn run_policy_watched(
    scenario: &Scenario,
    policy: &str,
    seed: u64,
    options: RunOptions,
    watch: &mut (dyn RecordSink + Send),
) -> Result<PolicyRun, RunError> {
    run_policy_in(registry(), scenario, policy, seed, options, watch)
}

/// [`run_policy_watched`] with the policy taken from `registry` (`exec:` policies still
/// parsed from their name).
pub fn run_policy_in(
    registry: &Registry,
    scenario: &Scenario,
    policy: &str,
    seed: u64,
    options: RunOptions,
    watch: &mut (dyn RecordSink + Send),
) -> Result<PolicyRun, RunError> {
    if let Some(spec) = podlab_exec::ExecSpec::parse(policy) {
        let spec = spec.map_err(RunError::BadPolicy)?;
        return run_exec_watched(scenario, &spec, seed, options, watch);
    }
    let found = registry.get(policy).ok_or_else(|| RunError::UnknownPolicy(policy.into()))?;
    // The policy's controllers first (Mesos's master is controller 0): the scheduler's
    // process; then the controller manager's.
    run_controllers_watched(scenario, policy, &|s: &Scenario| found.build(s), seed, options, watch)
}

/// Builds a policy's controllers for an instantiated scenario, afresh at each call (a crashed
/// controller's replacement comes from here too).
pub type BuildPolicy<'a> = &'a dyn Fn(&Scenario) -> Vec<Box<dyn podlab_cluster::Controller>>;

/// Runs controllers that are not one of podlab's named policies (an external policy, a
/// researcher's own `Controller`) on `scenario` in the simulator, as [`run_policy_with`] runs a
/// named one: `build` makes the policy's controllers (the scheduler's process), the controller
/// manager's follow; `policy` names the run in its results.
pub fn run_controllers(
    scenario: &Scenario,
    policy: &str,
    build: BuildPolicy<'_>,
    seed: u64,
    options: RunOptions,
) -> Result<PolicyRun, RunError> {
    run_controllers_watched(scenario, policy, build, seed, options, &mut ())
}

/// [`run_controllers`], with `watch` reading every record as it is written too.
pub fn run_controllers_watched(
    scenario: &Scenario,
    policy: &str,
    build: BuildPolicy<'_>,
    seed: u64,
    options: RunOptions,
    watch: &mut (dyn RecordSink + Send),
) -> Result<PolicyRun, RunError> {
    let instantiated = Arc::new(crate::scenario::instantiate(scenario, seed).map_err(RunError::Workload)?);
    let schedulers = build(&instantiated).len();
    let managers = podlab_controllers::build(&instantiated).len();
    let mut components = vec![Component::Scheduler; schedulers];
    components.extend(std::iter::repeat_n(Component::ControllerManager, managers));
    let factory = || {
        let mut all = build(&instantiated);
        all.extend(podlab_controllers::build(&instantiated));
        all
    };
    let crashes = instantiated.faults.iter().any(|f| matches!(f, podlab_cluster::config::Fault::NodeCrash { .. }));
    let mut tally = podlab_reports::Tally::new(crashes, FIRST_PODS);
    let keep_records = options.keep_records || podlab_reports::needs_records(&instantiated);
    let sim_options = SimOptions {
        seed,
        check_invariants: options.check_invariants,
        keep_records,
        record_thread: options.record_thread,
        budgets: options.budgets,
    };
    let mut both = Tee(&mut tally, watch);
    let sim = podlab_sim::run(instantiated.clone(), Box::new(factory), components, sim_options, &mut both);
    drop(instantiated);
    let scenario = sim.scenario.clone();
    let info = run_info(policy, seed, &sim);
    let (summary, first_pods) = tally.finish(&scenario, &sim.records, &info);
    let verdicts = podlab_reports::check(&scenario, policy, &sim.records, sim.end);
    Ok(PolicyRun { policy: policy.to_string(), seed, scenario, sim, summary, first_pods, verdicts })
}

/// An external policy's run (`exec:NAME=COMMAND`, the exec protocol): named by its NAME. If it
/// fails, the run's results are dropped and the error says why.
pub fn run_exec_watched(
    scenario: &Scenario,
    spec: &podlab_exec::ExecSpec,
    seed: u64,
    options: RunOptions,
    watch: &mut (dyn RecordSink + Send),
) -> Result<PolicyRun, RunError> {
    let slot = podlab_exec::failure_slot();
    let build = |_: &Scenario| vec![spec.controller(&slot)];
    let run = run_controllers_watched(scenario, &spec.name, &build, seed, options, watch);
    match podlab_exec::take_failure(&slot) {
        Some(error) => Err(RunError::Exec(Box::new(error))),
        None => run,
    }
}

/// The summary's fold and a watcher, fed the same records.
struct Tee<'a>(&'a mut podlab_reports::Tally, &'a mut (dyn RecordSink + Send));

impl RecordSink for Tee<'_> {
    fn observe(&mut self, scenario: &Scenario, stamped: &Stamped) {
        self.0.observe(scenario, stamped);
        self.1.observe(scenario, stamped);
    }
}

fn run_info<'a>(policy: &'a str, seed: u64, sim: &'a SimRun) -> RunInfo<'a> {
    RunInfo {
        policy,
        controllers: &sim.controllers,
        seed,
        digest: &sim.digest,
        end: sim.end,
        events: sim.events_processed,
        stopped: sim.exceeded.as_ref().map(ToString::to_string),
    }
}

/// A run's summary and the verdicts on its scenario's expectations (those `judged` keeps),
/// read back from its records.
fn measure(
    scenario: Arc<Scenario>,
    policy: &str,
    seed: u64,
    sim: SimRun,
    judged: impl Fn(&podlab_reports::Verdict) -> bool,
) -> PolicyRun {
    let info = run_info(policy, seed, &sim);
    let (summary, first_pods) = podlab_reports::Tally::replay(&scenario, &sim.records, &info, FIRST_PODS);
    let verdicts = podlab_reports::check(&scenario, policy, &sim.records, sim.end).into_iter().filter(judged).collect();
    PolicyRun { policy: policy.to_string(), seed, scenario, sim, summary, first_pods, verdicts }
}

/// One policy's run of a scenario on Docker: measured as a simulated run is (its records stand
/// in `run.sim`, with wall-clock times and their digest), plus what only a real run knows.
#[derive(Debug)]
pub struct RealPolicyRun {
    pub run: PolicyRun,
    pub real: podlab_real::RealRun,
}

/// Runs `policy` on `scenario` on Docker (real mode): the very controllers `run_policy` runs
/// (the policy's schedulers and the controller manager's controllers), against
/// `podlab_real::DockerBackend`. The records are checked by the simulator's independent
/// invariant checker too (no node over-committed, nothing bound twice).
pub fn run_policy_real(
    scenario: &Scenario,
    policy: &str,
    options: &podlab_real::RealOptions,
) -> Result<RealPolicyRun, RunError> {
    let seed = options.seed;
    let instantiated = scenario::instantiate(scenario, seed).map_err(RunError::Workload)?;
    // As `run_policy`: the policy's controllers, then the controller manager's.
    let slot = podlab_exec::failure_slot();
    let (policy, mut controllers) = match podlab_exec::ExecSpec::parse(policy) {
        Some(spec) => {
            let spec = spec.map_err(RunError::BadPolicy)?;
            (spec.name.clone(), vec![spec.controller(&slot)])
        }
        None => (
            policy.to_string(),
            registry().get(policy).ok_or_else(|| RunError::UnknownPolicy(policy.into()))?.build(&instantiated),
        ),
    };
    let policy = policy.as_str();
    controllers.extend(podlab_controllers::build(&instantiated));
    let real = podlab_real::run(&instantiated, controllers, options).map_err(RunError::Real)?;
    if let Some(error) = podlab_exec::take_failure(&slot) {
        return Err(RunError::Exec(Box::new(error)));
    }
    // The scenario as the run left it: with the pods its controllers created.
    let scenario = Arc::new(real.scenario.clone());
    let mut log = podlab_sim::log::EventLog::default();
    // The checker starts from the cluster as the run began (its nodes' taints then), and reads
    // the scenario as the run left it for the pods created since.
    let mut invariants = podlab_sim::invariants::Invariants::new(&instantiated);
    let mut violations = Vec::new();
    for stamped in &real.records {
        if let Err(violation) = invariants.observe(&scenario, &stamped) {
            violations.push(format!("at {}: {violation}", stamped.time));
        }
        log.append(&scenario, &real.controllers, stamped.time, stamped.record.clone());
    }
    let sim = SimRun {
        scenario: scenario.clone(),
        controllers: real.controllers.clone(),
        digest: log.digest(),
        records: real.records.clone(),
        end: real.end,
        events_processed: real.deliveries,
        violations,
        exceeded: None,
    };
    // A real run is capped in wall time: an expectation about a moment it never reached (a
    // pod that runs 10 minutes, in a 2-minute run) is not judged rather than failed — unless
    // the run stopped by itself, when every later moment looks as its end does.
    let end = if real.finished { podlab_cluster::SimTime::MAX } else { sim.end };
    let moments: Vec<Option<podlab_cluster::SimTime>> = scenario
        .expectations
        .iter()
        .map(|e| e.at.or(scenario.duration.map(|d| podlab_cluster::SimTime::ZERO + d)))
        .collect();
    let reached = move |v: &podlab_reports::Verdict| moments[v.index].is_none_or(|at| at <= end);
    let run = measure(scenario, policy, seed, sim, reached);
    Ok(RealPolicyRun { run, real })
}
