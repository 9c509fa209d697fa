//! podlab as a library: load a scenario, run a policy on it in the simulator, and measure the
//! run. The command line and the integration tests share this wiring.

use std::path::Path;

pub use podlab_cluster as cluster;
pub use podlab_reports as reports;
pub use podlab_schedulers as schedulers;
pub use podlab_sim as sim;

use podlab_cluster::scenario::{self, LoadError, LoadOptions, Scenario};
use podlab_reports::{RunInfo, Summary, Verdict};
use podlab_sim::{SimOptions, SimRun};

/// Loads a scenario file, knowing every policy podlab has.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    scenario::load(path, load_options())
}

/// Loads a scenario from text (tests, and scenarios that do not live in a file).
pub fn load_str(file: &str, text: &str) -> Result<Scenario, LoadError> {
    scenario::parse(file, text, load_options())
}

fn load_options() -> LoadOptions<'static> {
    LoadOptions { known_policies: podlab_schedulers::POLICIES }
}

/// One policy's run of a scenario, measured.
#[derive(Debug)]
pub struct PolicyRun {
    pub policy: String,
    pub seed: u64,
    pub sim: SimRun,
    pub summary: Summary,
    pub verdicts: Vec<Verdict>,
}

/// Runs `policy` on `scenario` in the simulator. `None` when the policy does not exist.
pub fn run_policy(scenario: &Scenario, policy: &str, seed: u64, check_invariants: bool) -> Option<PolicyRun> {
    let controllers = podlab_schedulers::build(policy, scenario)?;
    let sim = podlab_sim::run(scenario, controllers, SimOptions { seed, check_invariants });
    let info = RunInfo { policy, seed, digest: &sim.digest, end: sim.end, events: sim.events_processed };
    let summary = podlab_reports::summarize(scenario, &sim.records, &info);
    let verdicts = podlab_reports::check(scenario, policy, &sim.records, sim.end);
    Some(PolicyRun { policy: policy.to_string(), seed, sim, summary, verdicts })
}
