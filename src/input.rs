//! What the commands share about their input: a failure that is the user's to fix
//! ([`BadInput`], exit code 2), and scenario files loaded as the command line asked
//! (`--allow-paths-outside`), their warnings printed.

use std::path::Path;
use std::sync::OnceLock;

use crate::cluster::scenario::Scenario;

/// A failure that is the user's to fix: printed as is, exit code 2.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// `--allow-paths-outside` or its environment variable, set once at start by the command line.
pub static ALLOW_PATHS_OUTSIDE: OnceLock<bool> = OnceLock::new();

/// `--scheduler-config`, set once at start by the command line.
pub static SCHEDULER_CONFIG: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();

/// `--strict`, set once at start by the command line: every warning about a scenario (a kind
/// or a field podlab does not model) is an error.
pub static STRICT: OnceLock<bool> = OnceLock::new();

/// `--max-events`, `--max-instant-events` and `--max-created-pods`, set once at start by the
/// command line: where every run of this process stops ([`crate::RunOptions`]'s default).
pub static BUDGETS: OnceLock<crate::sim::Budgets> = OnceLock::new();

/// `--max-variants`, set once at start by the command line: how many variants a `--grid` (or a
/// sweep's grid) may make of one scenario.
pub static MAX_VARIANTS: OnceLock<u64> = OnceLock::new();

/// `--force-jobs`, set once at start by the command line: `--jobs` may exceed the machine's
/// parallelism.
pub static FORCE_JOBS: OnceLock<bool> = OnceLock::new();

/// The warnings printed so far, so that a scenario loaded twice says each once.
static PRINTED: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Loads a scenario file, reading files outside its folder if [`ALLOW_PATHS_OUTSIDE`] says so
/// (unset: if the environment says so), with the [`SCHEDULER_CONFIG`] file's configuration in
/// place of its own, and prints its warnings on stderr.
pub fn load(path: &Path) -> anyhow::Result<Scenario> {
    let scenario = load_unprinted(path)?;
    print_warnings(&scenario.warnings);
    Ok(scenario)
}

/// [`load`], printing nothing: the warnings are the scenario's. Under [`STRICT`] a warning is
/// an error, and all of them are the error.
pub fn load_unprinted(path: &Path) -> anyhow::Result<Scenario> {
    let allow = ALLOW_PATHS_OUTSIDE.get().copied().unwrap_or_else(crate::allow_paths_outside_from_env);
    let mut scenario = crate::load_with(path, allow)?;
    if let Some(file) = SCHEDULER_CONFIG.get().and_then(Option::as_ref) {
        let (config, warnings) = podlab_scenario::load_scheduler_config(file)?;
        if let Some(replaced) = &scenario.scheduler_config {
            // The scenario's own configuration's warnings about pods of no profile are void.
            let void: std::collections::BTreeSet<String> =
                podlab_scenario::unscheduled_pod_warnings(&scenario, replaced, "")
                    .into_iter()
                    .map(|d| d.message)
                    .collect();
            scenario.warnings.retain(|w| !void.contains(&w.message));
        }
        scenario.warnings.extend(warnings);
        let label = file.display().to_string();
        scenario.warnings.extend(podlab_scenario::unscheduled_pod_warnings(&scenario, &config, &label));
        scenario.scheduler_config = Some(config);
    }
    if STRICT.get().copied().unwrap_or(false) && !scenario.warnings.is_empty() {
        let errors = scenario.warnings.iter().map(|w| {
            let mut e = w.clone();
            e.severity = crate::scenario::Severity::Error;
            e.help.get_or_insert_with(|| "--strict refuses what podlab would approximate".into());
            e
        });
        return Err(crate::scenario::LoadError::Several(errors.collect()).into());
    }
    Ok(scenario)
}

/// [`load`], then each `--set KEY=VALUE` of `set` applied (`podlab run`, and `explain`
/// replaying a run with the settings it recorded).
pub fn load_with_settings(path: &Path, set: &[String]) -> anyhow::Result<Scenario> {
    let mut scenario = load(path)?;
    for assignment in set {
        let (key, value) = assignment.split_once('=').ok_or_else(|| {
            BadInput(format!("--set {assignment}: write KEY=VALUE, e.g. --set omega.service.tJob=10s"))
        })?;
        crate::scenario::params::set(&mut scenario, key.trim(), value.trim())
            .map_err(|why| BadInput(format!("--set {assignment}: {why}")))?;
    }
    Ok(scenario)
}

/// Prints each warning on stderr, once per process whatever loads the scenario again.
pub fn print_warnings(warnings: &[crate::scenario::Diagnostic]) {
    let mut printed = PRINTED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for warning in warnings {
        let text = warning.to_string();
        if printed.insert(text.clone()) {
            eprintln!("{text}\n");
        }
    }
}
