//! The `podlab` command line (`src/main.rs` calls [`main`]): parse arguments, load a scenario,
//! run policies on it, print the comparison and write the outputs. Exit codes: 0 all good, 1 an
//! expectation or invariant failed, 2 bad input or environment (a scenario error, a bad flag, an
//! output that would be overwritten or another podlab is writing, any error), 141 standard
//! output closed by its reader (`src/out.rs`).

mod bench_boundary;
mod bench_command;
mod explain;
mod fuzz;
mod lessons;
mod progress;
mod real;
mod run_record;
mod table;
mod teach;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::input::{ALLOW_PATHS_OUTSIDE, BadInput};
use crate::out::StdoutError;
use crate::reports::out_dir::OutDir;
use crate::scenario::LoadError;
use crate::scenario::input::InputError;
use crate::{compare, experiment, import, out, outln, sweep};

#[derive(Parser)]
#[command(
    name = "podlab",
    version,
    about = "A deterministic cluster simulator and scheduler testbed",
    long_about = "podlab replays Kubernetes-shaped scenarios (YAML manifests plus a `kind: Simulation` \
document) in a deterministic discrete-event simulator, and compares scheduling designs on them — \
starting from the Task co-scheduling problem: naive per-container placement against the \
Kubernetes Pod as the atomic unit.\n\nSame scenario and seed, same event-log digest, on any machine.",
    after_help = "Examples:\n  podlab compare scenarios/coscheduling.yaml --seeds 5 --out podlab-out\n  podlab run scenarios/coscheduling.yaml\n  podlab run scenarios/coscheduling.yaml --policy kubernetes --seed 7 --out runs/\n  podlab validate scenarios/*.yaml"
)]
struct Cli {
    /// Let scenarios read files outside their own folder (an empirical distribution's `file:`);
    /// PODLAB_ALLOW_PATHS_OUTSIDE=1 does the same.
    #[arg(long, global = true)]
    allow_paths_outside: bool,
    /// Let scenario files name external policies (`policies: [exec:NAME=COMMAND]`): running
    /// them runs their commands. PODLAB_ALLOW_EXEC=1 does the same; `--policy exec:…` needs
    /// neither.
    #[arg(long, global = true)]
    allow_exec: bool,
    /// A KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1) for the `kubernetes`
    /// policy, in place of any the scenario holds (run, compare, validate).
    #[arg(long, global = true, value_name = "FILE")]
    scheduler_config: Option<PathBuf>,
    /// Refuse what podlab would approximate: a Kubernetes kind it skips (ConfigMap,
    /// PersistentVolumeClaim…) or a field it does not model (`hostNetwork`, a volume's
    /// claim…) is an error, not a warning.
    #[arg(long, global = true)]
    strict: bool,
    /// Stop a simulated run after N events and exit 2, its result marked partial (default
    /// 1,000,000,000: twelve times a Google cell's day).
    #[arg(long, global = true, value_name = "N")]
    max_events: Option<u64>,
    /// Stop a simulated run when N events and actions happen at one simulated instant — time
    /// has stopped moving, a livelock — naming what spins, and exit 2 (default 1,000,000 plus
    /// 256 per node, pod and group of the scenario).
    #[arg(long, global = true, value_name = "N")]
    max_instant_events: Option<u64>,
    /// Stop a simulated run when its controllers have created N pods (ReplicaSets replacing
    /// pods that keep failing…) and exit 2 (default 1,000,000).
    #[arg(long, global = true, value_name = "N")]
    max_created_pods: Option<u64>,
    /// Let a --grid (or a sweep's grid) make up to N variants of each scenario (default 1,000).
    #[arg(long, global = true, value_name = "N")]
    max_variants: Option<u64>,
    /// Let --jobs exceed the machine's parallelism (each job is a thread).
    #[arg(long, global = true)]
    force_jobs: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario under one or more policies and compare them.
    #[command(after_help = "Prints a side-by-side summary per policy, where each pod landed, the verdict on the \
scenario's `expect:` lines, and the BLAKE3 digest of each run's event log.\n\nWith --out DIR it also writes, \
for each policy P:\n  DIR/P/summary.json    the metrics (schema podlab.summary/v1)\n  DIR/P/events.jsonl    \
one JSON object per event\n  DIR/P/placements.csv  one row per pod: group, nodes, created/scheduled/finished \
times, phase, split, partial\n  DIR/P/trace.json      Chrome trace events for Perfetto: a process per node, a track per pod\n\nWithout --out (and --explain) a run keeps no event records: its summary is folded as they happen, so a run of millions of pods needs memory for its cluster, not for its history. On a terminal, a bar shows how far each run has got in simulated time.")]
    Run(RunArgs),
    /// Compare policies over seeds: a table, results.csv, charts and report.html.
    #[command(after_help = "Runs every scenario × policy × seed in parallel (seeds S, S+1, …, S+N-1 from the \
scenario's spec.seed S), prints per metric and policy the mean and 95% confidence interval (Student t) over \
seeds, and writes under --out (default podlab-out):\n  results.csv          tidy: scenario,policy,seed,metric,value\n  \
report.html          one self-contained page: scenario, table, charts, what happened per policy\n  \
charts/SCENARIO/     SVG charts (and PNG with --png)\n  runs/SCENARIO/POLICY/seed-N/   each run's summary.json, \
events.jsonl, placements.csv, trace.json (Perfetto), result.json\n\nThe same inputs give byte-identical files, \
whatever --jobs is. An earlier comparison under --out is replaced only with --force; while one \
compare writes under --out, another on it fails at once (exit 2).")]
    Compare(compare::CompareArgs),
    /// Run a sweep file in shards across machines, then merge: the same files as `compare`.
    #[command(
        subcommand,
        after_help = "A sweep file:\n  apiVersion: podlab.dev/v1alpha1\n  kind: Sweep\n  \
spec:\n    scenarios: [../scenarios/coscheduling.yaml]   # relative to the sweep file\n    \
policies: [per-container, kubernetes]          # default: each scenario's spec.policies\n    \
seeds: 5                                       # S, S+1, …, S+4 from the scenario's seed\n\n\
podlab sweep plan SWEEP; podlab sweep run SWEEP --shard I/N --out DIR (on each machine); podlab sweep merge \
SWEEP --out DIR. See docs/scale-out.md."
    )]
    Sweep(sweep::SweepCommand),
    /// Explain why a pod is where it is, from the output folder of `podlab run --out`: each
    /// scheduling decision, every node's filters and scores as the scheduler saw them, and
    /// where the pod ended under each policy. (`podlab run SCENARIO --explain POD` does the
    /// same without a folder.)
    Explain {
        /// The folder `podlab run --out` wrote (or one of its policy subfolders).
        #[arg(value_name = "RUN_DIR")]
        dir: PathBuf,
        /// The pod's name (`namespace/name` outside the default namespace).
        #[arg(value_name = "POD")]
        pod: String,
    },
    /// Learn the Task co-scheduling problem: six lessons, each a scenario told step by step,
    /// with its claims checked and an exercise to try. Without LESSON, lists them.
    Teach {
        /// A lesson (`problem`, `pod`, `mesos`, `omega`, `gang`, `failures`, a number, or `all`).
        #[arg(value_name = "LESSON")]
        lesson: Option<String>,
        /// Pause after each moment of the timeline until a key is pressed, `q` to quit (on a
        /// terminal).
        #[arg(long)]
        step: bool,
        /// Also write the lesson as a page with its charts into DIR.
        #[arg(long, value_name = "DIR")]
        html: Option<PathBuf>,
    },
    /// Turn a workload trace into a scenario.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Run a scenario on actual Docker containers: the same controllers, real pods and nodes.
    #[command(after_help = "Each pod becomes an infra container owning its network namespace, its app \
containers joined to it and a shared volume; each node a cgroup slice with the node's memory and CPU. \
Times are wall-clock times since the run started. Annotations: podlab.dev/run-for (how long the app \
containers run), podlab.dev/allocate-memory (memory each app container allocates; \
podlab.dev/allocate-memory.<container> for one). Everything created carries the label podlab.dev/run and is \
removed at the end, on error and on Ctrl-C; what a killed run left is reaped by the next.\n\nExit codes: 0 \
all good, 1 an expectation or invariant failed, 2 bad input or no usable Docker, 130 interrupted.\n\n\
Examples:\n  podlab real scenarios/coscheduling.yaml --policy kubernetes --max-duration 20s\n  \
podlab real scenarios/coscheduling.yaml --policy per-container --compare-sim --out real-out")]
    Real(real::RealArgs),
    /// Measure real start-up latency on Docker: N one-container pods, bind to running.
    Calibrate(real::CalibrateArgs),
    /// Check scenario files without running them: every error with its line and column.
    Validate {
        /// Scenario files to check.
        #[arg(required = true, value_name = "SCENARIO")]
        files: Vec<PathBuf>,
    },
    /// Swarm-test the simulator: random scenarios from seeds, run with the invariant checker.
    #[command(after_help = "Each seed makes a random scenario (cluster, pods of 1-3 containers, PodGroups of \
every dialect, generated workloads, priorities, taints, nodes joining later, policy parameters) and runs it \
under every policy (or --policy) with the invariants checked after every event, then checks that the run \
converged where the policy guarantees it. A failure prints the seed, the command that reproduces it, and a \
shrunk scenario's YAML.")]
    Fuzz(fuzz::FuzzArgs),
    /// Experiments that are not scenarios: `podlab experiment openb` is the OpenB paper's
    /// GPU packing and fragmentation experiment.
    #[command(subcommand)]
    Experiment(ExperimentCommand),
    /// Measure the performance figures on this machine against their targets: event loop,
    /// scheduling decisions, first fit, a 1M-pod run, OpenB, bytes per live pod.
    #[command(long_about = bench_command::LONG_ABOUT, after_help = bench_command::AFTER_HELP)]
    Bench(bench_command::BenchArgs),
    /// List the policies podlab can run (and, with --parameters, what `--set` can change).
    Policies {
        /// Also list the parameters `run --set` accepts.
        #[arg(long)]
        parameters: bool,
    },
}

#[derive(Subcommand)]
enum ExperimentCommand {
    /// The OpenB packing experiment (Weng et al., ATC 2023) on every bundled pod list: per seed,
    /// the list's pods shuffled and thinned or topped up to ask for 1.3× the cluster's GPUs,
    /// placed one by one and never released, by the paper's six policies under its simulator's
    /// semantics (or podlab's `kube-…` plugins); writes the GPU allocation and both
    /// fragmentations against arrived load, averaged over the seeds (openb.csv, openb-mean.csv,
    /// <list>-gpu-allocation.svg, <list>-gpu-fragmentation.svg). E.g.
    /// `podlab experiment openb --seeds 10 --out openb-out`.
    Openb(experiment::OpenbExperimentArgs),
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A Parallel Workloads Archive log (SWF, .gz or not): every job a gang of one-CPU pods
    /// (minMember = its processors), arriving at its submit time, running its run time, on a
    /// node pool of one-CPU nodes as large as the machine. E.g.
    /// `podlab import swf data/traces/swf/KTH-SP2-1996-2.1-cln.swf.gz --max-jobs 2000 --out kth.yaml`.
    Swf {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Only the first N jobs of the log.
        #[arg(long, value_name = "N", default_value_t = usize::MAX)]
        max_jobs: usize,
        /// Only jobs submitted this long after the log's first submit or later (`720h`).
        #[arg(long, value_name = "DURATION")]
        from: Option<String>,
        /// Only jobs submitted before this long after the log's first submit.
        #[arg(long, value_name = "DURATION")]
        until: Option<String>,
        /// Reference the log (`spec.workload.trace`, read when the scenario loads) instead of
        /// writing its jobs inline; needed past 10,000 jobs.
        #[arg(long)]
        reference: bool,
        /// Write the scenario here (atomically) instead of to stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The jobs running when Google's 2011 trace opens (the Omega simulator's
    /// init-cluster-state.log: `11` rows start a job, `12` rows end it) as `prefillJobs`: bound
    /// at t = 0 by random first fit, as the Omega simulator prefills its cell. Sizes are the
    /// whole job's average usage, shared by its tasks. E.g.
    /// `podlab import google-prefill data/traces/google-2011/init-cluster-state.log --max-jobs 500 --out g.yaml`.
    GooglePrefill(import::PrefillArgs),
    /// The Omega simulator's empirical distributions: DIR holds `*interarrival_cmb.log`,
    /// `*csizes_cmb.log` and `*runtimes_cmb.log` (`<cell> <policy> <0 batch|1 service> <value>`);
    /// the scenario's batch and service generators draw from them, referencing the files. E.g.
    /// `podlab import omega data/traces/omega-format/job-distribution-traces --out omega.yaml`.
    Omega(import::OmegaArgs),
    /// The OpenB GPU trace (Alibaba cluster-trace-gpu-v2023; Weng et al., ATC 2023): a node list
    /// and a pod list as a scenario. Nodes get cpu, memory, `nvidia.com/gpu` and the label
    /// `nvidia.com/gpu.product`; pods get cpu, memory, whole GPUs (`nvidia.com/gpu`), a share of
    /// one GPU (annotation `alibabacloud.com/gpu-milli`), GPU models (required node affinity),
    /// arrival at `creation_time` and run time to `deletion_time`. E.g.
    /// `podlab import openb --nodes data/traces/openb/openb_node_list_gpu_node.csv
    /// --pods data/traces/openb/openb_pod_list_default.csv --max-pods 500 --out openb.yaml`.
    Openb {
        /// The node list (`sn,cpu_milli,memory_mib,gpu,model`).
        #[arg(long, value_name = "FILE")]
        nodes: PathBuf,
        /// The pod list (`name,cpu_milli,memory_mib,num_gpu,gpu_milli,…`).
        #[arg(long, value_name = "FILE")]
        pods: PathBuf,
        /// Only the first N pods of the list.
        #[arg(long, value_name = "N", default_value_t = usize::MAX)]
        max_pods: usize,
        /// Write the scenario here (atomically) instead of to stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
struct RunArgs {
    /// The scenario file (multi-document YAML).
    #[arg(value_name = "SCENARIO")]
    scenario: PathBuf,
    /// A policy to run; repeat for several. Default: the scenario's `spec.policies`, else all.
    /// An external policy is `exec:NAME=COMMAND` (the exec protocol, docs/src/protocol.md).
    #[arg(long = "policy", short = 'p', value_name = "POLICY", value_parser = crate::parse_policy_arg)]
    policies: Vec<String>,
    /// The master seed, overriding the scenario's `spec.seed`.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Write each policy's summary.json, events.jsonl, placements.csv and trace.json under DIR/POLICY/.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Change a parameter of the scenario, e.g. `--set omega.service.tJob=10s` or
    /// `--set workload.rateMultiplier=2`; repeatable. `podlab policies --parameters` lists them.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Overwrite the files of an earlier run under --out.
    #[arg(long, requires = "out")]
    force: bool,
    /// With --out: write each policy's summary.json only, keeping no event records (a day of
    /// a big cell keeps about a gigabyte of them).
    #[arg(long, requires = "out")]
    summary_only: bool,
    /// Explain why this pod is where it is: each scheduling decision, every node's filters and
    /// scores as the scheduler saw them, and where it ended under each policy.
    #[arg(long, value_name = "POD")]
    explain: Option<String>,
    /// Check the cluster's invariants after every event (no over-commit, no double binding,
    /// every pod accounted for). Slower; tests always do it.
    #[arg(long)]
    check_invariants: bool,
    /// Print every metric of the summaries, not only the headline rows.
    #[arg(long)]
    all_metrics: bool,
}

/// Parses the command line, runs the command, and answers its exit code.
pub fn main() -> ExitCode {
    main_with(crate::Registry::builtin())
}

/// [`main`], with the policies of `registry`: a downstream crate enters its own policies and
/// gets every podlab command for them (`run`, `compare`, `sweep`, `real`, `policies`, …).
pub fn main_with(registry: crate::Registry) -> ExitCode {
    if crate::set_registry(registry).is_err() {
        eprintln!("error: podlab's policy registry was installed or read before cli::main_with");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    let _ = ALLOW_PATHS_OUTSIDE.set(cli.allow_paths_outside || crate::allow_paths_outside_from_env());
    if cli.allow_exec {
        crate::set_allow_exec(true);
    }
    let _ = crate::input::SCHEDULER_CONFIG.set(cli.scheduler_config.clone());
    let _ = crate::input::STRICT.set(cli.strict);
    let mut budgets = crate::sim::Budgets::DEFAULT;
    budgets.events = cli.max_events.unwrap_or(budgets.events);
    budgets.instant = cli.max_instant_events.or(budgets.instant);
    budgets.created_pods = cli.max_created_pods.unwrap_or(budgets.created_pods);
    let _ = crate::input::BUDGETS.set(budgets);
    let _ = crate::input::FORCE_JOBS.set(cli.force_jobs);
    if let Some(max) = cli.max_variants {
        let _ = crate::input::MAX_VARIANTS.set(max);
    }
    // SIGINT, SIGTERM, SIGHUP: remove the temporary files of writes in flight and stop, so an
    // interrupted run leaves only whole files and whole run directories. Real mode handles the
    // signals itself: it must remove its containers first.
    if !matches!(cli.command, Command::Real(_) | Command::Calibrate(_)) {
        let _ = ctrlc::set_handler(|| {
            let _held = crate::reports::output::abandon_temporaries();
            eprintln!("podlab: interrupted; no partial output left behind");
            std::process::exit(130);
        });
    }
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Compare(args) => compare::compare(args),
        Command::Sweep(command) => sweep::sweep(command),
        Command::Real(args) => real::real(args),
        Command::Calibrate(args) => real::calibrate(args),
        Command::Validate { files } => validate(&files),
        Command::Explain { dir, pod } => run_record::explain_dir(&dir, &pod),
        Command::Teach { lesson, step, html } => teach::teach(lesson, step, html),
        Command::Import(ImportCommand::Swf { file, max_jobs, from, until, reference, out }) => {
            import::import_swf(&file, max_jobs, (from, until), reference, out)
        }
        Command::Import(ImportCommand::GooglePrefill(args)) => import::import_google_prefill(args),
        Command::Import(ImportCommand::Omega(args)) => import::import_omega(args),
        Command::Import(ImportCommand::Openb { nodes, pods, max_pods, out }) => {
            import::import_openb(&nodes, &pods, max_pods, out)
        }
        Command::Experiment(ExperimentCommand::Openb(args)) => experiment::experiment_openb(args),
        Command::Fuzz(args) => fuzz::fuzz(args),
        Command::Bench(args) => bench_command::bench(args),
        Command::Policies { parameters } => policies(parameters),
    };
    match result {
        Ok(code) => code,
        // The reader stopped reading (`podlab … | head`): stop as quietly as it did.
        Err(e) if StdoutError::closed_in(&e) => ExitCode::from(crate::out::CLOSED_EXIT_CODE),
        Err(e) => {
            if let Some(load) = e.downcast_ref::<LoadError>() {
                eprintln!("{load}");
            } else if let Some(bad) = e.downcast_ref::<BadInput>() {
                eprintln!("error: {bad}");
            } else if let Some(input) = e.downcast_ref::<InputError>() {
                // A file podlab refused or could not read is the user's to fix.
                eprintln!("error: {input}");
            } else {
                // Exit code 1 means a failed expectation or invariant, which a command answers
                // as `Ok`: every error is the input's or the environment's (a file that cannot
                // be read or written, a corrupt record).
                eprintln!("error: {e:#}");
            }
            ExitCode::from(2)
        }
    }
}

/// `podlab policies [--parameters]`: each policy with what it is, and what `--set` changes.
fn policies(parameters: bool) -> anyhow::Result<ExitCode> {
    for p in crate::registry().iter() {
        outln!("{:<16}{}", p.name(), p.description())?;
    }
    if parameters {
        outln!("\nparameters (run --set KEY=VALUE):")?;
        for (key, what) in crate::scenario::params::PARAMETERS {
            outln!("  {key:<64} {what}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `podlab validate`: every error and every warning of each file (on stderr), then a line per
/// file saying whether it loads (on stdout).
fn validate(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for file in files {
        match crate::input::load_unprinted(file) {
            Ok(s) => {
                for w in &s.warnings {
                    eprintln!("{w}\n");
                }
                let warned = match s.warnings.len() {
                    0 => String::new(),
                    1 => " (1 warning)".to_string(),
                    n => format!(" ({n} warnings)"),
                };
                outln!(
                    "{}: ok — {} nodes, {} pods, {} groups, {} expectations{warned}",
                    file.display(),
                    s.nodes.len(),
                    s.pods.len(),
                    s.groups.len(),
                    s.expectations.len()
                )?;
            }
            Err(e) => {
                eprintln!("{e:#}\n");
                outln!("{}: invalid", file.display())?;
                failed = true;
            }
        }
    }
    Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let scenario = crate::input::load_with_settings(&args.scenario, &args.set)?;
    let policies = if args.policies.is_empty() { scenario.policies.clone() } else { args.policies.clone() };
    let seed = args.seed.unwrap_or(scenario.seed);
    // Held from the --force check to the last file: a second writer fails at once.
    let out = args.out.as_deref().map(|out| run_record::run_out_dir(out, &policies, args.force)).transpose()?;
    // The records are kept only for the files --out writes and for --explain; otherwise the
    // summary is folded as they are written.
    let options = crate::RunOptions {
        check_invariants: args.check_invariants,
        keep_records: (args.out.is_some() && !args.summary_only) || args.explain.is_some(),
        ..Default::default()
    };
    let runs = policies
        .iter()
        .map(|p| {
            let mut progress = progress::RunProgress::new(p, scenario.duration);
            let run = crate::run_policy_watched(&scenario, p, seed, options, &mut progress);
            progress.finish();
            run.map_err(|e| BadInput(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(pod) = &args.explain {
        for run in &runs {
            outln!("{}", explain::explain(run, pod).map_err(BadInput)?)?;
        }
        out!("{}", explain::across_policies(&runs, pod))?;
        return Ok(ExitCode::SUCCESS);
    }
    out!("{}", table::report(&scenario, seed, &runs, args.all_metrics))?;
    for run in &runs {
        if let Some(stopped) = &run.summary.stopped {
            outln!("\n{}: PARTIAL RESULT — {stopped}", run.policy)?;
        }
    }
    if let Some((out, _lock)) = &out {
        write_run_dirs(out, &runs, args.summary_only)?;
        let recipe = run_record::RunRecipe::new(&args.scenario, out.root(), &runs, seed, &args.set)?;
        let file = out.join(&[run_record::RUN_FILE])?;
        crate::reports::output::write_atomic(&file, recipe.to_json().as_bytes())
            .with_context(|| format!("writing {}", file.display()))?;
        let files = if args.summary_only {
            "summary.json"
        } else {
            "summary.json, events.jsonl, placements.csv and trace.json"
        };
        outln!("\nwrote {files} under {}/<policy>/", out.root().display())?;
    }
    if let Some(code) = compare::stopped_early(runs.iter().map(|r| (r.policy.as_str(), r.summary.stopped.as_deref()))) {
        return Ok(code);
    }
    let failed = runs.iter().any(|r| !r.sim.violations.is_empty() || r.verdicts.iter().any(|v| !v.holds()));
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Each run's files under `out/<policy>/`, each directory whole or absent.
fn write_run_dirs(out: &OutDir, runs: &[crate::PolicyRun], summary_only: bool) -> anyhow::Result<()> {
    for run in runs {
        let dir = out.join(&[crate::policy_name(&run.policy)]).map_err(|e| BadInput(e.to_string()))?;
        // Whole or absent, whatever interrupts the writing (a full disk, a signal).
        crate::reports::output::write_dir_whole(&dir, |tmp| {
            if summary_only {
                crate::reports::output::create_dir_all(tmp)?;
                let json = crate::reports::output::summary_json(&run.summary)?;
                return crate::reports::output::write_atomic(&tmp.join("summary.json"), json.as_bytes());
            }
            crate::reports::output::write_run(tmp, &run.scenario, &run.sim.controllers, &run.sim.records, &run.summary)
        })
        .map_err(|e| BadInput(format!("writing the outputs of {} under {}: {e}", run.policy, dir.display())))?;
    }
    Ok(())
}
