//! A run directory (`podlab run --out DIR`): its policies' folders, locked for one writer, and
//! what it says it holds (`run.json`) for `podlab explain RUN_DIR POD`, which replays it. The
//! record names the scenario by a path relative to the run directory (then absolutely) and by
//! the BLAKE3 of its bytes, with the seed, the policies and each one's event-log digest, so a
//! replay from anywhere runs the very scenario that ran — or refuses.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use super::explain;
use crate::input::BadInput;
use crate::reports::out_dir::{LockMode, OutDir, OutLock};
use crate::scenario::input::{Cap, read_input, read_input_text};
use crate::{out, outln};

/// The record's file in a run directory.
pub const RUN_FILE: &str = "run.json";

/// [`RunRecipe::schema`] of this version: an older `run.json` (no hash) is refused.
const RUN_SCHEMA: &str = "podlab.run/v2";

/// What `podlab run --out DIR` remembers in `DIR/run.json`, so `podlab explain DIR POD` can
/// replay the very same runs (they are deterministic).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecipe {
    schema: String,
    /// The scenario file, relative to the directory holding `run.json`.
    scenario: PathBuf,
    /// The scenario file's absolute path when it ran: the fallback when the relative path
    /// finds nothing (the run directory was moved away from it).
    scenario_absolute: PathBuf,
    /// BLAKE3 of the scenario file's bytes, hex: a replay refuses any other file.
    scenario_blake3: String,
    policies: Vec<String>,
    seed: u64,
    set: Vec<String>,
    /// Each policy's event-log digest, in `policies`' order: a replay must give the same, or
    /// something the hash does not cover changed (a trace the scenario reads, the scheduler
    /// configuration, podlab itself).
    digests: Vec<String>,
}

impl RunRecipe {
    /// The record of runs of `scenario` (as given on the command line) written under `out`,
    /// which exists.
    pub fn new(
        scenario: &Path,
        out: &Path,
        runs: &[crate::PolicyRun],
        seed: u64,
        set: &[String],
    ) -> anyhow::Result<Self> {
        let absolute = scenario.canonicalize().with_context(|| format!("resolving {}", scenario.display()))?;
        let out = out.canonicalize().with_context(|| format!("resolving {}", out.display()))?;
        Ok(RunRecipe {
            schema: RUN_SCHEMA.into(),
            scenario: relative_path(&out, &absolute),
            scenario_blake3: file_blake3(&absolute)?,
            scenario_absolute: absolute,
            policies: runs.iter().map(|r| r.policy.clone()).collect(),
            seed,
            set: set.to_vec(),
            digests: runs.iter().map(|r| r.sim.digest.clone()).collect(),
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a recipe serializes") + "\n"
    }
}

/// `run --out DIR`, locked for this process: each policy's directory under it must be a plain
/// name, and may hold an earlier run only with `--force`.
pub(crate) fn run_out_dir(out: &Path, policies: &[String], force: bool) -> anyhow::Result<(OutDir, OutLock)> {
    let bad = |e: std::io::Error| BadInput(e.to_string());
    let dir = OutDir::new(out).map_err(bad)?;
    let lock = OutLock::acquire(&dir, LockMode::Exclusive, "podlab run").map_err(bad)?;
    for policy in policies {
        // Any content, not only an earlier run's summary: the directory is replaced whole.
        let existing = dir.join(&[crate::policy_name(policy)]).map_err(bad)?;
        let occupied = std::fs::read_dir(&existing).is_ok_and(|mut entries| entries.next().is_some());
        if (occupied || std::fs::symlink_metadata(&existing).is_ok_and(|m| !m.is_dir())) && !force {
            return Err(BadInput(format!(
                "{} holds an earlier run; pass --force to overwrite it, or choose another --out",
                existing.display()
            ))
            .into());
        }
    }
    Ok((dir, lock))
}

/// The path from the directory `from` to `to`, both absolute and canonical: `../x/s.yaml`.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path: PathBuf = from[common..].iter().map(|_| Component::ParentDir).collect();
    path.extend(&to[common..]);
    path
}

/// BLAKE3 of a scenario file's bytes, hex, read as the loader reads it (a regular file within
/// the scenario cap).
fn file_blake3(path: &Path) -> anyhow::Result<String> {
    let bytes = read_input(path, Cap::SCENARIO).map_err(|e| BadInput(e.to_string()))?;
    Ok(blake3::hash(&bytes).to_hex().to_string())
}

/// The recorded scenario, found relative to `base` (the directory of `run.json`) or else at
/// its absolute path, and checked to be the bytes that ran.
fn recorded_scenario(recipe: &RunRecipe, base: &Path) -> anyhow::Result<PathBuf> {
    let relative = base.join(&recipe.scenario);
    let path = if relative.is_file() { relative } else { recipe.scenario_absolute.clone() };
    if !path.exists() {
        return Err(BadInput(format!(
            "the run's scenario is gone: neither {} nor {} exists",
            base.join(&recipe.scenario).display(),
            recipe.scenario_absolute.display()
        ))
        .into());
    }
    let digest = file_blake3(&path)?;
    if digest != recipe.scenario_blake3 {
        return Err(BadInput(format!(
            "{} is not the scenario this run was made from: its BLAKE3 is {digest}, the run recorded {}; \
             explain replays the run, so restore that scenario or run it again",
            path.display(),
            recipe.scenario_blake3
        ))
        .into());
    }
    Ok(path)
}

/// `podlab explain RUN_DIR POD`: replays the runs recorded in RUN_DIR and explains the pod.
pub fn explain_dir(dir: &Path, pod: &str) -> anyhow::Result<ExitCode> {
    let file =
        [dir.join(RUN_FILE), dir.join("..").join(RUN_FILE)].into_iter().find(|f| f.is_file()).ok_or_else(|| {
            BadInput(format!(
                "{} holds no {RUN_FILE}: explain reads the output folder of `podlab run --out`",
                dir.display()
            ))
        })?;
    let text = read_input_text(&file, Cap::DATA).map_err(|e| BadInput(e.to_string()))?;
    let recipe: RunRecipe = serde_json::from_str(&text)
        .ok()
        .filter(|r: &RunRecipe| r.schema == RUN_SCHEMA && r.digests.len() == r.policies.len())
        .ok_or_else(|| {
            BadInput(format!(
                "{}: not a {RUN_SCHEMA} run record (an older podlab's, or damaged); run the scenario again with --out",
                file.display()
            ))
        })?;
    let base = file.parent().unwrap_or(Path::new("."));
    let scenario = crate::input::load_with_settings(&recorded_scenario(&recipe, base)?, &recipe.set)?;
    let mut runs = Vec::new();
    for (policy, recorded) in recipe.policies.iter().zip(&recipe.digests) {
        let run = crate::run_policy(&scenario, policy, recipe.seed, false).map_err(|e| BadInput(e.to_string()))?;
        if &run.sim.digest != recorded {
            return Err(BadInput(format!(
                "replaying {policy} gave event-log digest {}, but the run recorded {recorded}: something the \
                 scenario's hash does not cover changed (a file it reads, --scheduler-config, podlab's version)",
                run.sim.digest
            ))
            .into());
        }
        runs.push(run);
    }
    for run in &runs {
        outln!("{}", explain::explain(run, pod).map_err(BadInput)?)?;
    }
    out!("{}", explain::across_policies(&runs, pod))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_then_descend() {
        let rel = relative_path(Path::new("/a/b/out"), Path::new("/a/scenarios/s.yaml"));
        assert_eq!(rel, Path::new("../../scenarios/s.yaml"));
        assert_eq!(relative_path(Path::new("/a"), Path::new("/a/s.yaml")), Path::new("s.yaml"));
        assert_eq!(relative_path(Path::new("/x/y"), Path::new("/s.yaml")), Path::new("../../s.yaml"));
    }
}
