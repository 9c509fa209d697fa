//! `podlab sweep plan | run | merge`: a sweep file (`kind: Sweep`) expands into runs with stable
//! ids; `run --shard I/N` runs one slice of them (on one machine of many: a Kubernetes Indexed
//! Job, a Slurm array), writing each run atomically and skipping runs already done; `merge`
//! joins them into the same `results.csv`, charts and `report.html`, byte for byte, that
//! `podlab compare` writes for the same scenarios, policies and seeds.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Deserialize;

use crate::reports::comparison::{RESULT_SCHEMA, RunResult};
use crate::scenario::{OwnDocument, Spanned, load_own_document};

use crate::compare::{
    Loaded, PlannedRun, check_unique_names, comparison, finish, in_parallel, lock_out, plan, run_one,
};
use crate::input::BadInput;
use crate::reports::out_dir::LockMode;
use crate::scenario::input::{Cap, read_input_text};
use crate::{out, outln};

/// The sweep file: strict, like every podlab kind (a typo is an error).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SweepManifest {
    // Checked before parsing; named so the strict struct accepts them.
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    metadata: SweepMeta,
    spec: Spanned<SweepSpec>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SweepMeta {
    #[allow(dead_code)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SweepSpec {
    /// Scenario files, relative to the sweep file.
    scenarios: Spanned<Vec<Spanned<String>>>,
    /// Policies to run; default: each scenario's `spec.policies`.
    policies: Option<Vec<Spanned<String>>>,
    /// Seeds per scenario and policy: S, S+1, …, S+N-1 from the scenario's seed S. Default 1.
    seeds: Option<Spanned<u64>>,
    /// Check the invariants after every event of every run.
    #[serde(default)]
    check_invariants: bool,
    /// Parameters set on every scenario (`omega.service.tJob: 10s`).
    #[serde(default)]
    set: std::collections::BTreeMap<String, Spanned<String>>,
    /// A parameter grid: every scenario runs once per combination of these values
    /// (`omega.service.tJob: [100ms, 1s, 10s]`).
    #[serde(default)]
    grid: std::collections::BTreeMap<String, Vec<String>>,
}

/// A loaded sweep: its scenarios, policies, seeds, and the plan they make.
pub struct Sweep {
    scenarios: Vec<Loaded>,
    policies: Vec<String>,
    seeds: u64,
    check_invariants: bool,
    plan: Vec<PlannedRun>,
}

const MAX_SEEDS: u64 = 100_000;

impl Sweep {
    pub fn load(path: &Path) -> anyhow::Result<Sweep> {
        let doc: OwnDocument<SweepManifest> = load_own_document(path, "Sweep")?;
        let spec = &doc.value.spec.value;
        if spec.scenarios.value.is_empty() {
            return Err(doc
                .error(
                    &spec.scenarios,
                    "the sweep lists no scenario",
                    Some("add e.g. `scenarios: [coscheduling.yaml]`".into()),
                )
                .into());
        }
        let base = path.parent().unwrap_or(Path::new(""));
        let mut scenarios = Vec::new();
        for entry in &spec.scenarios.value {
            let file = base.join(&entry.value);
            if !file.is_file() {
                let help = format!("scenario paths are relative to the sweep file; looked for {}", file.display());
                return Err(doc.error(entry, format!("no scenario file `{}`", entry.value), Some(help)).into());
            }
            let set: Vec<(String, String)> = spec.set.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
            let grid: Vec<(String, Vec<String>)> = spec.grid.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            scenarios.extend(Loaded::variants(&file, &set, &grid)?);
        }
        check_unique_names(&scenarios)?;
        let known = crate::registry().names();
        let mut policies = Vec::new();
        for p in spec.policies.iter().flatten() {
            if !known.contains(&p.value.as_str()) {
                let help = format!("podlab knows: {}", known.join(", "));
                return Err(doc.error(p, format!("unknown policy `{}`", p.value), Some(help)).into());
            }
            policies.push(p.value.clone());
        }
        let seeds = match &spec.seeds {
            None => 1,
            Some(n) if (1..=MAX_SEEDS).contains(&n.value) => n.value,
            Some(n) => {
                return Err(doc.error(n, format!("seeds must be 1 to {MAX_SEEDS}, not {}", n.value), None).into());
            }
        };
        let plan = plan(&scenarios, &policies, seeds);
        Ok(Sweep { scenarios, policies, seeds, check_invariants: spec.check_invariants, plan })
    }

    /// The plan's positions that shard `index` of `count` runs: runs sorted by id, dealt round
    /// robin, so a shard's share depends on the sweep alone, never on timing.
    fn shard(&self, index: u64, count: u64) -> Vec<usize> {
        let mut by_id: Vec<usize> = (0..self.plan.len()).collect();
        by_id.sort_by(|&a, &b| self.plan[a].id.cmp(&self.plan[b].id));
        by_id.into_iter().enumerate().filter(|(k, _)| *k as u64 % count == index).map(|(_, i)| i).collect()
    }
}

/// Which slice of the plan a worker runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// `I/N` (0-based I), or `N` alone with I from `JOB_COMPLETION_INDEX` (Kubernetes Indexed Job)
/// or `SLURM_ARRAY_TASK_ID` (Slurm array, started at 0).
pub fn parse_shard(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
    let number =
        |s: &str, what: &str| s.trim().parse::<u64>().map_err(|_| format!("{what} `{s}` is not a whole number"));
    let (index, count) = match text.split_once('/') {
        Some((i, n)) => (number(i, "the shard index")?, number(n, "the shard count")?),
        None => {
            let count = number(text, "the shard count")?;
            let from_env = ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"]
                .iter()
                .find_map(|var| env(var).map(|v| (*var, v)))
                .ok_or(
                    "--shard N needs the index from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID; or write --shard I/N",
                )?;
            (number(&from_env.1, from_env.0)?, count)
        }
    };
    if count == 0 {
        return Err("the shard count must be at least 1".into());
    }
    if index >= count {
        return Err(format!("shard index {index} is out of range for {count} shards (0 to {})", count - 1));
    }
    Ok(Shard { index, count })
}

#[derive(clap::Subcommand)]
pub enum SweepCommand {
    /// List the sweep's runs: id, scenario, policy, seed (and shard, with --shards N).
    Plan {
        #[arg(value_name = "SWEEP")]
        file: PathBuf,
        /// Also show which of N shards runs each run.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        shards: Option<u64>,
    },
    /// Run one shard of the sweep into DIR/runs/<id>/, skipping runs already there.
    Run {
        #[arg(value_name = "SWEEP")]
        file: PathBuf,
        /// The output directory, shared by every shard.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// `I/N` runs slice I (0-based) of N; `N` takes I from JOB_COMPLETION_INDEX or
        /// SLURM_ARRAY_TASK_ID. Default: every run.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Runs at once (0: one per core).
        #[arg(long, short = 'j', value_name = "J", default_value_t = 0)]
        jobs: usize,
        /// Keep no run's event records: each run writes summary.json and result.json only.
        #[arg(long)]
        summary_only: bool,
    },
    /// Join every run under DIR/runs/ into DIR/results.csv, charts and report.html.
    Merge {
        #[arg(value_name = "SWEEP")]
        file: PathBuf,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Also write each chart as PNG beside its SVG.
        #[arg(long)]
        png: bool,
    },
}

pub fn sweep(command: SweepCommand) -> anyhow::Result<ExitCode> {
    match command {
        SweepCommand::Plan { file, shards } => {
            let sweep = Sweep::load(&file)?;
            out!("{}", plan_table(&sweep, shards))?;
            Ok(ExitCode::SUCCESS)
        }
        SweepCommand::Run { file, out, shard, jobs, summary_only } => {
            let sweep = Sweep::load(&file)?;
            let shard = match shard {
                None => Shard { index: 0, count: 1 },
                Some(text) => parse_shard(&text, |var| std::env::var(var).ok()).map_err(BadInput)?,
            };
            let mine = sweep.shard(shard.index, shard.count);
            // Shared: the shards write their own runs side by side; a merge or a comparison
            // on the same directory waits for none of them and fails at once.
            let (dir, _lock) = lock_out(&out, LockMode::Shared, "podlab sweep run")?;
            let runs_dir = dir.join(&["runs"]).map_err(|e| BadInput(e.to_string()))?;
            crate::reports::output::create_dir_all(&runs_dir)
                .with_context(|| format!("creating {}", runs_dir.display()))?;
            let fresh = in_parallel(&mine, jobs, "runs", |&k| -> anyhow::Result<bool> {
                let run = &sweep.plan[k];
                let dir = dir.join(&["runs", &run.id]).map_err(|e| BadInput(e.to_string()))?;
                if dir.join("result.json").is_file() {
                    return Ok(false);
                }
                // Written beside, then renamed whole (`run_one`): a run directory is complete
                // or absent. Another worker finishing the same run meanwhile wrote the same bytes.
                run_one(&sweep.scenarios[run.scenario], run, &dir, sweep.check_invariants, summary_only)?;
                Ok(true)
            })?;
            let fresh = fresh.into_iter().collect::<anyhow::Result<Vec<bool>>>()?;
            let ran = fresh.iter().filter(|f| **f).count();
            outln!(
                "shard {}/{}: {} of {} runs; ran {ran}, {} were already done; under {}",
                shard.index,
                shard.count,
                mine.len(),
                sweep.plan.len(),
                mine.len() - ran,
                runs_dir.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        SweepCommand::Merge { file, out, png } => {
            let sweep = Sweep::load(&file)?;
            // Alone: no shard may still be writing the runs it reads, nor another merge.
            let (dir, _lock) = lock_out(&out, LockMode::Exclusive, "podlab sweep merge")?;
            let mut results = Vec::with_capacity(sweep.plan.len());
            let mut missing = Vec::new();
            for run in &sweep.plan {
                let path = dir.join(&["runs", &run.id, "result.json"]).map_err(|e| BadInput(e.to_string()))?;
                match read_input_text(&path, Cap::DATA) {
                    Ok(text) => results.push(read_result(&path, &text, &sweep, run)?),
                    Err(e) if e.is_not_found() => missing.push(run.id.as_str()),
                    Err(e) => return Err(BadInput(e.to_string()).into()),
                }
            }
            if !missing.is_empty() {
                let shown: Vec<&str> = missing.iter().take(10).copied().collect();
                return Err(BadInput(format!(
                    "{} of {} runs are not under {} yet ({}{}); run every shard first (`podlab sweep run`)",
                    missing.len(),
                    sweep.plan.len(),
                    out.join("runs").display(),
                    shown.join(", "),
                    if missing.len() > shown.len() { ", …" } else { "" }
                ))
                .into());
            }
            finish(&comparison(&sweep.scenarios, &sweep.policies, sweep.seeds, results), &out, png, false)
        }
    }
}

/// `sweep plan`'s table: id, scenario, policy, seed (and shard, with `shards`), each column as
/// wide as its widest cell and two spaces from the next — a grid's variant names run long
/// (`coscheduling.MostAllocated+2s`) — then the count of runs.
fn plan_table(sweep: &Sweep, shards: Option<u64>) -> String {
    let mut shard_of = vec![0u64; sweep.plan.len()];
    if let Some(n) = shards {
        for i in 0..n {
            for k in sweep.shard(i, n) {
                shard_of[k] = i;
            }
        }
    }
    let shard_header = if shards.is_some() { "shard" } else { "" };
    let mut rows = vec![["id", "scenario", "policy", "seed", shard_header].map(String::from)];
    for (k, run) in sweep.plan.iter().enumerate() {
        let name = sweep.scenarios[run.scenario].scenario.name.clone();
        let shard = shards.map_or(String::new(), |n| format!("{}/{n}", shard_of[k]));
        rows.push([run.id.clone(), name, run.policy.clone(), run.seed.to_string(), shard]);
    }
    let mut widths = [0usize; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in &rows {
        let line: String = row.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}  ")).collect();
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text.push_str(&format!("{} runs\n", sweep.plan.len()));
    text
}

/// A run's `result.json`, checked to be the run the plan expects.
fn read_result(path: &Path, text: &str, sweep: &Sweep, run: &PlannedRun) -> anyhow::Result<RunResult> {
    // A damaged shard is bad input (exit 2), never a failed expectation (exit 1).
    let result: RunResult = serde_json::from_str(text)
        .map_err(|e| BadInput(format!("{} is not a run result: {e}; run its shard again", path.display())))?;
    let name = &sweep.scenarios[run.scenario].scenario.name;
    if result.schema != RESULT_SCHEMA
        || &result.scenario != name
        || result.policy != run.policy
        || result.seed != run.seed
    {
        return Err(BadInput(format!(
            "{} holds {} / {} / seed {} ({}), not the planned {name} / {} / seed {}",
            path.display(),
            result.scenario,
            result.policy,
            result.seed,
            result.schema,
            run.policy,
            run.seed
        ))
        .into());
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shard is `I/N`, or `N` with I from the Kubernetes or Slurm variable; out-of-range and
    /// malformed shards are refused with a reason.
    #[test]
    fn shards_parse_from_flag_and_environment() {
        let none = |_: &str| None;
        assert_eq!(parse_shard("1/3", none), Ok(Shard { index: 1, count: 3 }));
        let k8s = |v: &str| (v == "JOB_COMPLETION_INDEX").then(|| "2".to_string());
        assert_eq!(parse_shard("3", k8s), Ok(Shard { index: 2, count: 3 }));
        let slurm = |v: &str| (v == "SLURM_ARRAY_TASK_ID").then(|| "0".to_string());
        assert_eq!(parse_shard("4", slurm), Ok(Shard { index: 0, count: 4 }));
        assert!(parse_shard("3", none).unwrap_err().contains("JOB_COMPLETION_INDEX"));
        assert!(parse_shard("3/3", none).unwrap_err().contains("out of range"));
        assert!(parse_shard("0/0", none).unwrap_err().contains("at least 1"));
        assert!(parse_shard("a/3", none).unwrap_err().contains("not a whole number"));
    }
}
