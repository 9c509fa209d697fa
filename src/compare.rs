//! `podlab compare`: every scenario × policy × seed, run in parallel, reduced to a comparison
//! (table, `results.csv`, charts, `report.html`). The plan and the one-run step here are shared
//! with `podlab sweep`, which runs the same plan in shards and merges it into the same bytes.
//!
//! Seeds: a scenario with `spec.seed: S` run with `--seeds N` uses seeds S, S+1, …, S+N-1.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use rayon::prelude::*;

use crate::cluster::scenario::Scenario;
use crate::reports::comparison::{Comparison, RunInput, RunResult, ScenarioInfo};
use crate::reports::out_dir::{LockMode, OutDir, OutLock, component_problem};
use crate::reports::output::{write_atomic, write_dir_whole, write_run};

use crate::input::BadInput;
use crate::out;
use crate::scenario::input::{Cap, read_input, read_input_text};

/// A loaded scenario and the BLAKE3 of its file's bytes.
pub struct Loaded {
    pub scenario: Scenario,
    pub content_digest: String,
    /// The grid values this variant was made with (`--grid`), in the order given.
    pub grid: Vec<(String, String)>,
}

impl Loaded {
    /// The scenario file once per combination of the `grid`'s values (each key with its
    /// values, combined in the order given), with `set` applied to every one. A variant is
    /// named after its grid values, joined by `+` (`omega-paper.omega.service.tJob=10s`), and
    /// digested with all
    /// its settings, so its runs' ids and rows are its own.
    pub fn variants(
        path: &Path,
        set: &[(String, String)],
        grid: &[(String, Vec<String>)],
    ) -> anyhow::Result<Vec<Loaded>> {
        check_grid(grid)?;
        let base = crate::input::load(path)?;
        let bytes = read_input(path, Cap::SCENARIO)?;
        let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
        for (key, values) in grid {
            combos = combos
                .into_iter()
                .flat_map(|c| values.iter().map(move |v| [c.clone(), vec![(key.clone(), v.clone())]].concat()))
                .collect();
        }
        let mut out = Vec::new();
        for combo in combos {
            let mut scenario = base.clone();
            let mut hasher = blake3::Hasher::new();
            hasher.update(&bytes);
            for (key, value) in set.iter().chain(&combo) {
                crate::scenario::params::set(&mut scenario, key, value)
                    .map_err(|why| BadInput(format!("{}: {key}={value}: {why}", path.display())))?;
                hasher.update(format!("\0{key}={value}").as_bytes());
            }
            if !combo.is_empty() {
                let values: Vec<String> = combo.iter().map(|(k, v)| format!("{k}={v}")).collect();
                // Named after its values, so that its rows and charts are its own; results.csv
                // also has a column per grid key.
                scenario.name = format!("{}.{}", scenario.name, values.join("+"));
            }
            // The name is a folder of the outputs (`runs/<name>/`, `charts/<name>/`).
            if let Some(why) = component_problem(&scenario.name) {
                return Err(BadInput(format!(
                    "{}: the scenario's name cannot name its output folders: {why}; give its Simulation another \
                     `metadata.name`",
                    path.display()
                ))
                .into());
            }
            out.push(Loaded { scenario, content_digest: hasher.finalize().to_hex().to_string(), grid: combo });
        }
        Ok(out)
    }
}

/// Grid variants a comparison or sweep makes of one scenario by default: each variant is a
/// copy of the scenario held for the whole comparison, and its runs' results too, so a grid
/// typed by mistake (`--grid k=$(seq -s, 10000)`) would be refused only by the machine's memory,
/// after hours of runs. A thousand variants of a bundled scenario is a few hundred MB.
pub const MAX_GRID_VARIANTS: u64 = 1000;

/// Refuses a grid of more variants than [`MAX_GRID_VARIANTS`] (or `--max-variants`), before
/// anything is loaded or run.
fn check_grid(grid: &[(String, Vec<String>)]) -> Result<(), BadInput> {
    let max = crate::input::MAX_VARIANTS.get().copied().unwrap_or(MAX_GRID_VARIANTS);
    let variants = grid.iter().try_fold(1u64, |n, (_, values)| n.checked_mul(values.len() as u64));
    if variants.is_none_or(|n| n > max) {
        let sizes: Vec<String> = grid.iter().map(|(key, values)| format!("{key}: {}", values.len())).collect();
        let count = variants.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string());
        return Err(BadInput(format!(
            "--grid makes {count} variants of each scenario ({}), past the budget of {max}; nothing was run \
             (pass --max-variants N if you mean it)",
            sizes.join(" × ")
        )));
    }
    Ok(())
}

/// Parses `KEY=VALUE`.
pub fn setting(text: &str) -> Result<(String, String), String> {
    let (k, v) =
        text.split_once('=').ok_or_else(|| format!("`{text}`: write KEY=VALUE, e.g. omega.service.tJob=10s"))?;
    if k.trim().is_empty() || v.trim().is_empty() || v.contains('/') {
        return Err(format!("`{text}`: write KEY=VALUE (no `/` in the value)"));
    }
    Ok((k.trim().to_string(), v.trim().to_string()))
}

/// Parses `KEY=V1,V2,…`.
pub fn grid_axis(text: &str) -> Result<(String, Vec<String>), String> {
    let (k, v) = setting(text)?;
    Ok((k, v.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()))
}

/// One run of a plan.
#[derive(Clone, Debug)]
pub struct PlannedRun {
    /// Index into the plan's scenarios.
    pub scenario: usize,
    pub policy: String,
    pub seed: u64,
    /// 0 for a policy's first seed: the run whose series are charted.
    pub seed_index: u64,
    /// A stable id: BLAKE3 of `<scenario content digest>/<policy>/<seed>`, 16 hex digits.
    pub id: String,
}

/// Every run of `scenarios` × policies × `seeds`, ordered by (scenario, policy, seed). An empty
/// `policies` means each scenario's own `spec.policies`.
pub fn plan(scenarios: &[Loaded], policies: &[String], seeds: u64) -> Vec<PlannedRun> {
    let mut runs = Vec::new();
    for (si, l) in scenarios.iter().enumerate() {
        for policy in policies_of(l, policies) {
            for i in 0..seeds {
                let seed = l.scenario.seed.wrapping_add(i);
                let key = format!("{}/{policy}/{seed}", l.content_digest);
                let id = blake3::hash(key.as_bytes()).to_hex()[..16].to_string();
                runs.push(PlannedRun { scenario: si, policy: policy.clone(), seed, seed_index: i, id });
            }
        }
    }
    runs
}

/// The policies a scenario runs under, each once, in the order given.
pub fn policies_of(l: &Loaded, policies: &[String]) -> Vec<String> {
    let given = if policies.is_empty() { &l.scenario.policies } else { policies };
    let mut out: Vec<String> = Vec::new();
    for p in given {
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    out
}

/// Refuses two scenarios of one name: their charts and rows would mix.
pub fn check_unique_names(scenarios: &[Loaded]) -> Result<(), BadInput> {
    for (i, a) in scenarios.iter().enumerate() {
        if let Some(b) = scenarios[..i].iter().find(|b| b.scenario.name == a.scenario.name) {
            return Err(BadInput(format!(
                "{} and {} are both named `{}`; give one another `metadata.name` in its Simulation",
                b.scenario.file, a.scenario.file, a.scenario.name
            )));
        }
    }
    Ok(())
}

/// Runs one planned run, writes its files (`summary.json`, `events.jsonl`, `placements.csv`,
/// `trace.json`, then `result.json`) into `dir` — whole or not at all, replacing an earlier
/// `dir` — and returns its comparison record. `summary_only`: the run keeps no records (unless
/// its scenario's expectations need them) and writes `summary.json` and `result.json` alone;
/// the record has no split or partial lists and no charts' series.
pub fn run_one(
    l: &Loaded,
    run: &PlannedRun,
    dir: &Path,
    check_invariants: bool,
    summary_only: bool,
) -> anyhow::Result<RunResult> {
    let options = crate::RunOptions { check_invariants, keep_records: !summary_only, ..Default::default() };
    let done = crate::run_policy_with(&l.scenario, &run.policy, run.seed, options)
        .map_err(|e| BadInput(format!("{}: {e}", l.scenario.file)))?;
    // The scenario as run, with the workload generated for this seed.
    let scenario = &*done.scenario;
    let writing = || {
        format!("writing the outputs of {} / {} / seed {} under {}", scenario.name, run.policy, run.seed, dir.display())
    };
    let result = RunResult::new(&RunInput {
        scenario,
        records: &done.sim.records,
        end: done.sim.end,
        summary: &done.summary,
        verdicts: &done.verdicts,
        invariants_checked: check_invariants,
        violations: &done.sim.violations,
        detailed: run.seed_index == 0 && !summary_only,
        controllers: &done.sim.controllers,
    });
    // The run's directory is complete or absent, whatever interrupts the writing.
    write_dir_whole(dir, |tmp| {
        if summary_only {
            crate::reports::output::create_dir_all(tmp)?;
            write_atomic(&tmp.join("summary.json"), crate::reports::output::summary_json(&done.summary)?.as_bytes())?;
        } else {
            write_run(tmp, scenario, &done.sim.controllers, &done.sim.records, &done.summary)?;
        }
        write_atomic(&tmp.join(RUN_KEY_FILE), run_key(run, check_invariants, summary_only).as_bytes())?;
        write_atomic(&tmp.join("result.json"), result.to_json().as_bytes())
    })
    .map_err(|e| BadInput(format!("{}: {e}", writing())))?;
    Ok(result)
}

/// The file in a run's directory that says which run it holds: the planned run's id (its
/// scenario's content with every setting, its policy and seed) and what changes its files.
pub const RUN_KEY_FILE: &str = "run.key";

/// What [`RUN_KEY_FILE`] holds for a planned run.
pub fn run_key(run: &PlannedRun, check_invariants: bool, summary_only: bool) -> String {
    format!(
        "id={} seed_index={} check_invariants={check_invariants} summary_only={summary_only}\n",
        run.id, run.seed_index
    )
}

/// The result of an earlier run in `dir`, when the directory holds exactly this planned run,
/// whole (a run's directory is written whole or not at all): what `compare --resume` keeps.
pub fn whole_run(dir: &Path, run: &PlannedRun, check_invariants: bool, summary_only: bool) -> Option<RunResult> {
    let key = read_input_text(&dir.join(RUN_KEY_FILE), Cap::DATA).ok()?;
    if key != run_key(run, check_invariants, summary_only) {
        return None;
    }
    let text = read_input_text(&dir.join("result.json"), Cap::DATA).ok()?;
    let result: RunResult = serde_json::from_str(&text).ok()?;
    (result.policy == crate::policy_name(&run.policy) && result.seed == run.seed).then_some(result)
}

/// Runs `work` over `items` on `jobs` threads (0: one per core), with a progress bar on a
/// terminal. Results come back in `items` order whatever the thread count or finishing order.
pub fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    what: &str,
    work: impl Fn(&T) -> R + Sync,
) -> anyhow::Result<Vec<R>> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(items.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} {elapsed_precise}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(what.to_string());
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    check_jobs(jobs)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().context("starting the worker threads")?;
    let results = pool.install(|| {
        items
            .par_iter()
            .map(|item| {
                let r = work(item);
                bar.inc(1);
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    Ok(results)
}

/// Exit code 2, each stopped run said on standard error, if any run stopped at a budget
/// (`--max-events` and kin): its results are partial, however the rest went.
pub fn stopped_early<'a>(runs: impl Iterator<Item = (&'a str, Option<&'a str>)>) -> Option<ExitCode> {
    let mut any = false;
    for (run, stopped) in runs {
        if let Some(why) = stopped {
            eprintln!("error: {run}: {why}; its results are partial");
            any = true;
        }
    }
    any.then(|| ExitCode::from(2))
}

/// Refuses `--jobs` beyond the machine's parallelism (a thread each, and no run goes faster)
/// unless `--force-jobs` says so.
pub fn check_jobs(jobs: usize) -> Result<(), BadInput> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if jobs > cores && !crate::input::FORCE_JOBS.get().copied().unwrap_or(false) {
        return Err(BadInput(format!(
            "--jobs {jobs}: this machine runs {cores} threads at once; each job is a thread, so more gain \
             nothing (pass --force-jobs if you mean it, or --jobs 0 for one per core)"
        )));
    }
    Ok(())
}

/// The comparison of a plan's results (`results[i]` is the result of `plan[i]`).
pub fn comparison(scenarios: &[Loaded], policies: &[String], seeds: u64, results: Vec<RunResult>) -> Comparison {
    let infos = scenarios
        .iter()
        .map(|l| {
            let seed_list: Vec<u64> = (0..seeds).map(|i| l.scenario.seed.wrapping_add(i)).collect();
            // Results go by a policy's name (an external policy's NAME, not its command).
            let names: Vec<String> =
                policies_of(l, policies).iter().map(|p| crate::policy_name(p).to_string()).collect();
            let mut info = ScenarioInfo::new(&l.scenario, &l.content_digest, &names, &seed_list);
            info.grid.clone_from(&l.grid);
            info
        })
        .collect();
    Comparison { scenarios: infos, runs: results }
}

#[derive(clap::Args)]
pub struct CompareArgs {
    /// Scenario files (multi-document YAML); each is compared on its own.
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    /// A policy to compare; repeat for several. Default: each scenario's `spec.policies`.
    #[arg(long = "policy", short = 'p', value_name = "POLICY", value_parser = crate::parse_policy_arg)]
    pub policies: Vec<String>,
    /// How many seeds per scenario and policy: the scenario's seed S, then S+1, …, S+N-1.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub seeds: u64,
    /// Runs at once (0: one per core). The results do not depend on it.
    #[arg(long, short = 'j', value_name = "J", default_value_t = 0)]
    pub jobs: usize,
    /// Where to write results.csv, report.html, charts/ and runs/.
    #[arg(long, value_name = "DIR", default_value = "podlab-out")]
    pub out: PathBuf,
    /// Also write each chart as PNG beside its SVG.
    #[arg(long)]
    pub png: bool,
    /// Replace an earlier comparison under --out (its charts/ and runs/ are removed first).
    #[arg(long)]
    pub force: bool,
    /// Check the cluster's invariants after every event of every run. Slower.
    #[arg(long)]
    pub check_invariants: bool,
    /// Keep no run's event records: each run writes summary.json and result.json only (no
    /// events.jsonl, placements.csv, trace.json; no split lists, Gantt or over-time charts).
    /// For sweeps of big runs.
    #[arg(long)]
    pub summary_only: bool,
    /// Change a parameter of every scenario, e.g. `--set omega.service.tJob=10s`; repeatable
    /// (`podlab policies --parameters` lists them).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = setting)]
    pub set: Vec<(String, String)>,
    /// Run every scenario once per value of a parameter, e.g.
    /// `--grid omega.service.tJob=100ms,1s,10s`; several grids combine. Each variant is a
    /// scenario of its own in the table, results.csv and charts, named after its values.
    #[arg(long = "grid", value_name = "KEY=V1,V2,…", value_parser = grid_axis)]
    pub grid: Vec<(String, Vec<String>)>,
    /// Print every metric, not only the headline rows (results.csv holds them all either way).
    #[arg(long)]
    pub all_metrics: bool,
    /// Continue an interrupted comparison under the same --out: the runs already written whole
    /// for the same plan are kept, the others run; the files are those a comparison from
    /// scratch writes, byte for byte.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
}

pub fn compare(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let all = args.all_metrics;
    // The lock is held until the last file is written.
    let (comparison, out, png, _lock) = run_comparison(args)?;
    finish(&comparison, &out, png, all)
}

/// A comparison written to its files without printing its table.
pub fn quietly(args: CompareArgs) -> anyhow::Result<()> {
    let (comparison, out, png, _lock) = run_comparison(args)?;
    comparison.write(&out, png).with_context(|| format!("writing the comparison under {}", out.display()))?;
    Ok(())
}

/// Takes `out` for this process alone ([`OutLock`]), or fails at once: a bad input (exit 2).
pub fn lock_out(out: &Path, mode: LockMode, what: &str) -> anyhow::Result<(OutDir, OutLock)> {
    let bad = |e: std::io::Error| BadInput(e.to_string());
    let dir = OutDir::new(out).map_err(bad)?;
    let lock = OutLock::acquire(&dir, mode, what).map_err(bad)?;
    Ok((dir, lock))
}

fn run_comparison(args: CompareArgs) -> anyhow::Result<(Comparison, PathBuf, bool, OutLock)> {
    let mut scenarios = Vec::new();
    for path in &args.scenarios {
        scenarios.extend(Loaded::variants(path, &args.set, &args.grid)?);
    }
    check_unique_names(&scenarios)?;
    // Every run's directory, checked to be under --out, before anything runs or is removed.
    let plan = plan(&scenarios, &args.policies, args.seeds);
    let dirs = OutDir::new(&args.out)
        .and_then(|out| plan.iter().map(|run| run_dir(&out, &scenarios, run)).collect::<std::io::Result<Vec<_>>>())
        .map_err(|e| BadInput(e.to_string()))?;
    // Taken before the earlier comparison is looked for, so the check and the writing are one.
    let (_, lock) = lock_out(&args.out, LockMode::Exclusive, "podlab compare")?;
    let out = &args.out;
    let earlier = ["results.csv", "report.html", "runs", "charts"].iter().map(|f| out.join(f)).find(|p| p.exists());
    if let Some(earlier) = earlier {
        if !args.force && !args.resume {
            return Err(BadInput(format!(
                "{} holds an earlier comparison; pass --resume to continue it, --force to replace it, or choose \
                 another --out",
                earlier.display()
            ))
            .into());
        }
        // Resuming keeps the runs; the charts are drawn again either way.
        let owned: &[&str] = if args.resume { &["charts"] } else { &["runs", "charts"] };
        for owned in owned {
            let dir = out.join(owned);
            if dir.exists() {
                std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
            }
        }
    }
    let work: Vec<(&PlannedRun, &PathBuf)> = plan.iter().zip(&dirs).collect();
    let results = in_parallel(&work, args.jobs, "runs", |&(run, dir)| -> anyhow::Result<(RunResult, bool)> {
        let l = &scenarios[run.scenario];
        if args.resume
            && let Some(kept) = whole_run(dir, run, args.check_invariants, args.summary_only)
        {
            return Ok((kept, true));
        }
        Ok((run_one(l, run, dir, args.check_invariants, args.summary_only)?, false))
    })?;
    let results = results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    if args.resume {
        prune_runs(&out.join("runs"), &dirs)?;
        let kept = results.iter().filter(|r| r.1).count();
        eprintln!(
            "resumed: {kept} of {} runs were whole under {} and kept; ran {}",
            plan.len(),
            out.display(),
            plan.len() - kept
        );
    }
    let results = results.into_iter().map(|r| r.0).collect();
    Ok((comparison(&scenarios, &args.policies, args.seeds, results), out.clone(), args.png, lock))
}

/// Where a planned run's files go under `out`: `runs/<scenario>/<policy>/seed-<seed>`, each
/// name checked to stay a plain folder name.
fn run_dir(out: &OutDir, scenarios: &[Loaded], run: &PlannedRun) -> std::io::Result<PathBuf> {
    let name = scenarios[run.scenario].scenario.name.as_str();
    out.join(&["runs", name, crate::policy_name(&run.policy), &format!("seed-{}", run.seed)])
}

/// Removes from `runs` (three levels: scenario, policy, seed) every entry that is not a planned
/// run's directory — an earlier plan's runs, a temporary a killed process left — and the
/// folders left empty, so that a resumed comparison's tree is the one a fresh one writes.
fn prune_runs(runs: &Path, planned: &[PathBuf]) -> anyhow::Result<()> {
    fn walk(dir: &Path, depth: usize, planned: &[PathBuf]) -> std::io::Result<bool> {
        // By each entry's own type, never following a link: a link to a folder elsewhere is
        // removed as a link, and nothing outside `runs` is read or removed.
        let mut entries: Vec<(PathBuf, bool)> = std::fs::read_dir(dir)?
            .map(|e| e.and_then(|e| Ok((e.path(), e.file_type()?.is_dir()))))
            .collect::<Result<_, _>>()?;
        entries.sort();
        let mut keep_any = false;
        for (path, is_dir) in entries {
            let keep = if depth == 2 {
                is_dir && planned.contains(&path)
            } else {
                is_dir && !is_hidden(&path) && walk(&path, depth + 1, planned)?
            };
            if keep {
                keep_any = true;
            } else if is_dir {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
        Ok(keep_any)
    }
    fn is_hidden(path: &Path) -> bool {
        path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
    }
    // A link in place of `runs` itself is not followed either.
    if std::fs::symlink_metadata(runs).is_ok_and(|m| m.is_dir()) {
        walk(runs, 0, planned).with_context(|| format!("removing runs outside the plan under {}", runs.display()))?;
    }
    Ok(())
}

/// Writes the comparison's files, then prints the table (the headline rows, or every metric
/// with `all`) and says where they are.
pub fn finish(comparison: &Comparison, out: &Path, png: bool, all: bool) -> anyhow::Result<ExitCode> {
    let written = comparison
        .write(out, png)
        .map_err(|e| BadInput(format!("writing the comparison under {}: {e}", out.display())))?;
    let charts = written.iter().filter(|p| p.starts_with("charts")).count();
    let text = format!(
        "{}wrote {} and {}, {charts} charts under {}, and each run's files under {}\n",
        comparison.table(all),
        out.join("results.csv").display(),
        out.join("report.html").display(),
        out.join("charts").display(),
        out.join("runs").display()
    );
    // The files are written already: a reader that stops early (`| head`) loses only this.
    out!("{text}")?;
    let runs = comparison.runs.iter().map(|r| (r.policy.as_str(), r.stopped.as_deref()));
    if let Some(code) = stopped_early(runs) {
        return Ok(code);
    }
    let ok = comparison.runs.iter().all(RunResult::ok);
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
