//! `podlab bench`: the performance figures the project promises, measured on this machine —
//! the event queue, one scheduling decision, the randomised first fit, a 1M-pod run end to
//! end, an OpenB packing run, the memory a live pod costs and (`bench_boundary`) the speed of
//! policies of one's own — each against its target, as a table or JSON. The set-ups are
//! `podlab::bench`'s, the ones criterion times.
//!
//! Wall clock: clippy.toml forbids `std::time::Instant` because a simulation must never read
//! it. This module only measures how long the simulator takes; no time it reads reaches a
//! simulation, so it opts out locally (as real/src/clock.rs does for real mode).
#![allow(clippy::disallowed_types)]

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::bench::{
    DecisionBench, FirstFitBench, GOOGLE_DAY_YAML, QueueBench, SCALE_SCENARIO_YAML, SCORE_ADAPTIVE_PERCENT,
    SCORE_ALL_PERCENT, app_with_logs, decision_part, google_day_text, live_pods_scenario_text, peak_rss_bytes,
    scale_scenario_text,
};
use crate::schedulers::fgd_sim::SimPolicy;
use crate::schedulers::framework::Unit;

use crate::input::BadInput;
use crate::{out, outln};

use super::bench_boundary;

pub const LONG_ABOUT: &str = "Measure podlab's performance figures on this machine, each against its target, and print \
a table (or JSON with --json). The set-ups are the ones `cargo bench --bench engine` times with criterion \
(podlab::bench); this command needs no Rust toolchain and gives one number per figure.\n\n\
Figures (the name for --only, the target):
  queue-1k           ≥ 10 M/s
      event loop: events/s through the radix-heap event queue with 1k events
      pending; each event pops the earliest and pushes one up to 1 ms ahead
  queue-1m           ≥ 4 M/s
      the same with 1M events pending
  decision-all       ≥ 40k/s
      one `kubernetes` scheduling decision (the framework's filters and
      LeastAllocated score, a two-container pod) over 10k partly loaded nodes,
      scoring every feasible node
  decision-adaptive  ≥ 300k/s
      the same with kube-scheduler's adaptive percentageOfNodesToScore
  first-fit-10k      ≥ 500k/s
      one task placed by the Omega paper's randomised first fit (`monolithic`,
      `omega`) in a 10k-node cell, nine nodes in ten full
  first-fit-100k     ≥ 350k/s
      the same at 100k nodes
  end-to-end-time    ≤ 2 s
      benches/scenarios/10k-nodes-1m-pods.yaml (10k nodes, 1M pods arriving 1
      ms apart, a minute each) loaded and run under `kubernetes`: wall time
  end-to-end-memory  ≤ 100 MB
      the same run's peak memory: the peak RSS of a process that does only
      that
  google-day-time    ≤ 60 s
      benches/scenarios/google-cell-day.yaml (12.5k nodes, about 12M pods in
      one simulated day, the Omega paper's batch and service jobs) loaded and
      run under `kubernetes` with sampled scoring: wall time
  google-day-memory  ≤ 1 GB
      the same run's peak memory (one child process serves both figures)
  openb              ≤ 1 s
      one OpenB packing run (Weng et al., ATC 2023; `podlab experiment
      openb`): one seed, the FGD GPU score plugin, pods placed until they ask
      for 130% of the cluster's GPUs, trace files read and all; needs the
      trace in --openb-traces, else reported as not found
  paper-day          ≤ 1 s
      benches/scenarios/paper-day.yaml (the Omega paper's experiment: a day of
      a 1,000-machine cell, about 960k pods) run under monolithic, mesos and
      omega, keeping no records: the slowest architecture's wall time (each
      one's in the table's last column)
  bytes-per-pod      ≤ 256 B
      memory per live pod: the peak RSS of a run that ends holding 100k live
      pods (100m, 256 Mi, never ending) on 1k nodes, minus that of the same
      run with no pods, divided by 100k
  registry-first-fit ≤ 1.10×
      a first-fit policy written in Rust against the public API and entered
      in a registry, on 1k nodes × 10k pods (one CPU each, 1 ms apart): its
      wall time over the built-in kubernetes policy's on the same run
  exec-first-fit     ≥ 50k/s
      the same first fit as a separate Rust process over the exec protocol:
      pods bound a second of the run's wall time (the client: this binary,
      serving the code of podlab-exec-first-fit; another with --exec-client)
  python-in-process  ≥ 20k/s
      a Python first fit (python/tests/policies.py) called in-process by the
      Python package: decisions a second, by python/benchmarks/throughput.py,
      run with --python from the repository's root; needs the package
      (pip install ./python), else reported as not measured
  python-exec        ≥ 5k/s
      the same class over the exec protocol (python -m podlab.exec)
  gym-random         ≥ 10k/s
      podlab.gym's environment on the same run, a random agent: steps a
      second; needs pip install './python[gym]'\n\n\
Method: each throughput is run once untimed (warm-up), then in 5 rounds of about 0.2 s; the figure is the \
median round's rate. A wall time is the best of up to 3 runs (more runs only while the runs so far took under 10 s; the OpenB run: under 1 s). Memory is \
each figure's own child process (this binary, re-run) reading its peak resident set, VmHWM in \
/proc/self/status, after its first run; n/a where /proc is absent. MB are 10^6 bytes.\n\n\
--quick runs small sizes and short rounds, for tests and CI: 10k events pending instead of 1M, 1k nodes \
instead of 10k (100k for first fit: 10k), 1k nodes and 10k pods end to end, the Google day on 200 nodes for a minute, 1% load for OpenB, the paper day on 100 machines for 10 \
minutes (one run each), 10k live pods, 100 nodes × 1k pods across the boundary (one run each). Its figures are labelled as such and not compared with the targets.\n\n\
The machine matters: the table names its cores and CPU. A build without --release is far slower; the \
table says so. On a busy machine figures are noisy: run again, or use --only.";

pub const AFTER_HELP: &str = "Examples:\n  cargo build --release && target/release/podlab bench\n  \
podlab bench --only decision-all --only decision-adaptive\n  podlab bench --quick --json\n  \
podlab bench --json --out bench.json";

/// `podlab bench` arguments.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Small sizes and short rounds (seconds, even in a debug build): for tests and CI, not
    /// compared with the targets.
    #[arg(long)]
    pub quick: bool,
    /// Measure only this figure; repeat for several. Default: all.
    #[arg(long = "only", value_name = "FIGURE", value_enum)]
    pub only: Vec<Figure>,
    /// Print the figures as JSON (schema podlab.bench/v1) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// With --json: write the JSON to FILE (atomically) and print the table.
    #[arg(long, value_name = "FILE", requires = "json")]
    pub out: Option<PathBuf>,
    /// The folder of the OpenB trace (openb_node_list_gpu_node.csv, openb_pod_list_default.csv).
    /// The default is the repository's copy, read from the repository's root.
    #[arg(long, value_name = "DIR", default_value = "data/traces/openb")]
    pub openb_traces: PathBuf,
    /// The exec figure's client, a shell command speaking the exec protocol
    /// (target/release/podlab-exec-first-fit, a C client…). The default is this binary serving
    /// the same first fit as podlab-exec-first-fit.
    #[arg(long, value_name = "COMMAND")]
    pub exec_client: Option<String>,
    /// The Python that runs the Python figures (python/benchmarks/throughput.py, from the
    /// repository's root); it must import the podlab package (pip install ./python).
    #[arg(long, value_name = "PATH", default_value = "python3")]
    pub python: String,
    /// Internal: run one memory-measured figure in this process and print its measurement, or
    /// (`exec-first-fit`) serve the exec figure's first fit over stdin and stdout.
    #[arg(long, value_name = "WHAT", hide = true)]
    pub child: Option<String>,
}

/// A figure `podlab bench` measures, in the order of its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Figure {
    #[value(name = "queue-1k")]
    Queue1k,
    #[value(name = "queue-1m")]
    Queue1m,
    DecisionAll,
    DecisionAdaptive,
    #[value(name = "first-fit-10k")]
    FirstFit10k,
    #[value(name = "first-fit-100k")]
    FirstFit100k,
    EndToEndTime,
    EndToEndMemory,
    GoogleDayTime,
    GoogleDayMemory,
    Openb,
    PaperDay,
    BytesPerPod,
    RegistryFirstFit,
    ExecFirstFit,
    PythonInProcess,
    PythonExec,
    GymRandom,
}

impl Figure {
    fn id(self) -> String {
        self.to_possible_value().expect("no figure is skipped").get_name().to_string()
    }

    /// What is measured, at the target's size or (`quick`) the quick one.
    fn title(self, quick: bool) -> String {
        let q = |full: &str, small: &str| if quick { format!("{small} (quick)") } else { full.to_string() };
        match self {
            Figure::Queue1k => "event loop, 1k pending".into(),
            Figure::Queue1m => q("event loop, 1M pending", "event loop, 10k pending"),
            Figure::DecisionAll => {
                q("kubernetes decision, 10k nodes, all scored", "kubernetes decision, 1k nodes, all")
            }
            Figure::DecisionAdaptive => {
                q("kubernetes decision, 10k nodes, adaptive", "kubernetes decision, 1k nodes, adaptive")
            }
            Figure::FirstFit10k => q("random first fit, 10k nodes", "random first fit, 1k nodes"),
            Figure::FirstFit100k => q("random first fit, 100k nodes", "random first fit, 10k nodes"),
            Figure::EndToEndTime => q("10k nodes, 1M pods: wall time", "1k nodes, 10k pods: wall time"),
            Figure::EndToEndMemory => q("10k nodes, 1M pods: peak memory", "1k nodes, 10k pods: peak memory"),
            Figure::GoogleDayTime => q("Google-cell day: wall time", "Google-cell day, 200 nodes, 1 min: wall time"),
            Figure::GoogleDayMemory => {
                q("Google-cell day: peak memory", "Google-cell day, 200 nodes, 1 min: peak memory")
            }
            Figure::Openb => q("OpenB packing run (FGD, 130%)", "OpenB packing run (FGD, 1%)"),
            Figure::PaperDay => {
                q("paper day, 1k machines: slowest architecture", "paper day, 100 machines, 10 min: slowest")
            }
            Figure::BytesPerPod => q("bytes per live pod (100k pods)", "bytes per live pod (10k pods)"),
            Figure::RegistryFirstFit => q("Rust first fit, registry: ÷ kubernetes", "Rust first fit, registry, 100×1k"),
            Figure::ExecFirstFit => q("Rust first fit, exec protocol", "Rust first fit, exec protocol, 100×1k"),
            Figure::PythonInProcess => q("Python first fit, in-process", "Python first fit, in-process, 100×1k"),
            Figure::PythonExec => q("Python first fit, exec protocol", "Python first fit, exec, 100×1k"),
            Figure::GymRandom => q("Gymnasium env, random agent: steps", "Gymnasium env, random agent, 100×1k"),
        }
    }

    fn target(self) -> Target {
        match self {
            Figure::Queue1k => Target::AtLeast(10e6, Quantity::PerSecond),
            Figure::Queue1m => Target::AtLeast(4e6, Quantity::PerSecond),
            Figure::DecisionAll => Target::AtLeast(40e3, Quantity::PerSecond),
            Figure::DecisionAdaptive => Target::AtLeast(300e3, Quantity::PerSecond),
            Figure::FirstFit10k => Target::AtLeast(500e3, Quantity::PerSecond),
            Figure::FirstFit100k => Target::AtLeast(350e3, Quantity::PerSecond),
            Figure::EndToEndTime => Target::AtMost(2.0, Quantity::Seconds),
            Figure::EndToEndMemory => Target::AtMost(100e6, Quantity::Bytes),
            Figure::GoogleDayTime => Target::AtMost(60.0, Quantity::Seconds),
            Figure::GoogleDayMemory => Target::AtMost(1e9, Quantity::Bytes),
            Figure::Openb => Target::AtMost(1.0, Quantity::Seconds),
            Figure::PaperDay => Target::AtMost(1.0, Quantity::Seconds),
            Figure::BytesPerPod => Target::AtMost(256.0, Quantity::Bytes),
            Figure::RegistryFirstFit => Target::AtMost(1.10, Quantity::Ratio),
            Figure::ExecFirstFit => Target::AtLeast(50e3, Quantity::PerSecond),
            Figure::PythonInProcess => Target::AtLeast(20e3, Quantity::PerSecond),
            Figure::PythonExec => Target::AtLeast(5e3, Quantity::PerSecond),
            Figure::GymRandom => Target::AtLeast(10e3, Quantity::PerSecond),
        }
    }
}

/// What a figure measures, and so how its value reads.
#[derive(Clone, Copy)]
enum Quantity {
    PerSecond,
    Seconds,
    Bytes,
    /// One time over another's.
    Ratio,
}

impl Quantity {
    fn json_name(self) -> &'static str {
        match self {
            Quantity::PerSecond => "per_second",
            Quantity::Seconds => "seconds",
            Quantity::Bytes => "bytes",
            Quantity::Ratio => "ratio",
        }
    }

    /// `12.3 M/s`, `1.42 s`, `87.1 MB`, `212 B`, `1.04×`.
    fn show(self, value: f64) -> String {
        match self {
            Quantity::PerSecond if value >= 1e6 => format!("{:.1} M/s", value / 1e6),
            Quantity::PerSecond if value >= 1e3 => format!("{:.0}k/s", value / 1e3),
            Quantity::PerSecond => format!("{value:.0}/s"),
            Quantity::Seconds if value < 0.1 => format!("{:.1} ms", value * 1e3),
            Quantity::Seconds => format!("{value:.2} s"),
            Quantity::Bytes if value >= 1e6 => format!("{:.1} MB", value / 1e6),
            Quantity::Bytes => format!("{value:.0} B"),
            Quantity::Ratio => format!("{value:.2}×"),
        }
    }
}

#[derive(Clone, Copy)]
enum Target {
    AtLeast(f64, Quantity),
    AtMost(f64, Quantity),
}

impl Target {
    fn unit(self) -> Quantity {
        match self {
            Target::AtLeast(_, u) | Target::AtMost(_, u) => u,
        }
    }

    fn met(self, measured: f64) -> bool {
        match self {
            Target::AtLeast(t, _) => measured >= t,
            Target::AtMost(t, _) => measured <= t,
        }
    }

    fn show(self) -> String {
        match self {
            Target::AtLeast(t, u) => format!("≥ {}", u.show(t)),
            Target::AtMost(t, u) => format!("≤ {}", u.show(t)),
        }
    }
}

/// One figure as measured: the JSON's `figures[]`.
#[derive(Serialize)]
struct Row {
    id: String,
    title: String,
    unit: &'static str,
    /// `at_least` or `at_most`.
    target_kind: &'static str,
    target: f64,
    /// `None`: not measured (see `note`).
    measured: Option<f64>,
    /// `None` with --quick (not the target's size) or when not measured.
    met: Option<bool>,
    /// How the figure was taken (rounds, best or median, child process).
    method: String,
    note: Option<String>,
}

impl Row {
    fn of(figure: Figure, value: Option<f64>, method: String, note: Option<String>, quick: bool) -> Row {
        let target = figure.target();
        let (target_kind, target_value) = match target {
            Target::AtLeast(t, _) => ("at_least", t),
            Target::AtMost(t, _) => ("at_most", t),
        };
        Row {
            id: figure.id(),
            title: figure.title(quick),
            unit: target.unit().json_name(),
            target_kind,
            target: target_value,
            measured: value,
            met: if quick { None } else { value.map(|v| target.met(v)) },
            method,
            note,
        }
    }
}

/// The machine the figures were taken on.
#[derive(Serialize)]
struct Machine {
    cores: Option<usize>,
    cpu_model: Option<String>,
    os: &'static str,
    arch: &'static str,
    release_build: bool,
}

impl Machine {
    fn here() -> Machine {
        Machine {
            cores: std::thread::available_parallelism().ok().map(|n| n.get()),
            cpu_model: cpu_model(),
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            release_build: !cfg!(debug_assertions),
        }
    }
}

#[derive(Serialize)]
struct Report {
    schema: &'static str,
    quick: bool,
    machine: Machine,
    figures: Vec<Row>,
}

/// What a child process prints: its runs' wall times and its peak RSS.
#[derive(Serialize, Deserialize)]
struct ChildOutput {
    wall_ns: Vec<u64>,
    peak_rss_bytes: Option<u64>,
}

/// How long throughput rounds last, and how many.
struct Budget {
    round: Duration,
    rounds: usize,
}

impl Budget {
    fn of(quick: bool) -> Budget {
        if quick {
            Budget { round: Duration::from_millis(20), rounds: 3 }
        } else {
            Budget { round: Duration::from_millis(200), rounds: 5 }
        }
    }

    fn method(&self) -> String {
        format!("median of {} rounds of {} ms after a warm-up", self.rounds, self.round.as_millis())
    }
}

/// Operations a second of `op`: warmed up for one round (which also sizes the batches between
/// clock reads to about a hundredth of a round), then timed in `budget.rounds` rounds; the
/// median round's rate.
fn throughput(budget: &Budget, mut op: impl FnMut()) -> f64 {
    let mut batch: u64 = 1;
    let warm_up = Instant::now();
    loop {
        let start = Instant::now();
        for _ in 0..batch {
            op();
        }
        let took = start.elapsed();
        if warm_up.elapsed() >= budget.round {
            break;
        }
        if took < budget.round / 100 {
            batch *= 2;
        }
    }
    let mut rates: Vec<f64> = (0..budget.rounds)
        .map(|_| {
            let start = Instant::now();
            let mut done = 0u64;
            while start.elapsed() < budget.round {
                for _ in 0..batch {
                    op();
                }
                done += batch;
            }
            done as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

/// `podlab bench`.
pub fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(what) = &args.child {
        if what == "exec-first-fit" {
            bench_boundary::serve_first_fit()?;
            return Ok(ExitCode::SUCCESS);
        }
        return child(what, args.quick);
    }
    let mut figures = if args.only.is_empty() { Figure::value_variants().to_vec() } else { args.only.clone() };
    figures.sort();
    figures.dedup();
    let quick = args.quick;
    let budget = Budget::of(quick);
    let machine = Machine::here();
    // Progress on a terminal only: a pipe or a test reads the table or the JSON alone.
    let progress = !args.json && std::io::stderr().is_terminal();
    if !args.json {
        outln!("{}", machine_line(&machine, quick))?;
    }
    let mut measured: Vec<(Figure, Option<f64>, String, Option<String>)> = Vec::new();
    let mut end_to_end: Option<ChildOutput> = None;
    let mut google_day: Option<ChildOutput> = None;
    let mut python: Option<bench_boundary::PythonFigures> = None;
    for &figure in &figures {
        if progress {
            eprint!("measuring {} …\r", figure.id());
        }
        let (value, method, note) = match figure {
            Figure::Queue1k | Figure::Queue1m => {
                let pending = match (figure, quick) {
                    (Figure::Queue1k, _) => 1_000,
                    (_, true) => 10_000,
                    (_, false) => 1_000_000,
                };
                let mut queue = QueueBench::new(pending);
                (Some(throughput(&budget, || queue.step())), budget.method(), None)
            }
            Figure::DecisionAll | Figure::DecisionAdaptive => {
                let percentage = if figure == Figure::DecisionAll { SCORE_ALL_PERCENT } else { SCORE_ADAPTIVE_PERCENT };
                let mut table = DecisionBench::new(if quick { 1_000 } else { 10_000 });
                let pod = app_with_logs();
                let unit = Unit::new(&pod, decision_part("kubernetes").expect("kubernetes decides one pod"));
                (
                    Some(throughput(&budget, || {
                        table.decide(&unit, percentage);
                    })),
                    budget.method(),
                    None,
                )
            }
            Figure::FirstFit10k | Figure::FirstFit100k => {
                let nodes = match (figure, quick) {
                    (Figure::FirstFit10k, true) => 1_000,
                    (Figure::FirstFit10k, false) => 10_000,
                    (_, true) => 10_000,
                    (_, false) => 100_000,
                };
                let mut cell = FirstFitBench::new(nodes);
                (
                    Some(throughput(&budget, || {
                        cell.place();
                    })),
                    budget.method(),
                    None,
                )
            }
            Figure::EndToEndTime | Figure::EndToEndMemory | Figure::GoogleDayTime | Figure::GoogleDayMemory => {
                // One child process serves a scenario's two figures: its peak RSS is the run's own.
                let (slot, what) = if matches!(figure, Figure::EndToEndTime | Figure::EndToEndMemory) {
                    (&mut end_to_end, "end-to-end")
                } else {
                    (&mut google_day, "google-day")
                };
                scenario_figure(figure, slot, what, quick)?
            }
            Figure::Openb => openb(&args.openb_traces, quick)?,
            Figure::PaperDay => paper_day(quick)?,
            Figure::RegistryFirstFit => bench_boundary::registry_first_fit(quick)?,
            Figure::ExecFirstFit => bench_boundary::exec_first_fit(quick, args.exec_client.as_deref())?,
            Figure::PythonInProcess | Figure::PythonExec | Figure::GymRandom => {
                // One run of the script serves the three figures.
                let figures = python.get_or_insert_with(|| bench_boundary::python_figures(&args.python, quick));
                match figure {
                    Figure::PythonInProcess => figures.in_process.clone(),
                    Figure::PythonExec => figures.exec.clone(),
                    _ => figures.gym.clone(),
                }
            }
            Figure::BytesPerPod => bytes_per_pod(quick)?,
        };
        measured.push((figure, value, method, note));
    }
    if progress {
        eprint!("{:40}\r", "");
    }
    let rows: Vec<Row> =
        measured.into_iter().map(|(f, value, method, note)| Row::of(f, value, method, note, quick)).collect();
    print_report(&args, Report { schema: "podlab.bench/v1", quick, machine, figures: rows }, &figures)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the table, or the JSON (to stdout, or with `--out` to its file and the table).
fn print_report(args: &BenchArgs, report: Report, figures: &[Figure]) -> anyhow::Result<()> {
    let quick = report.quick;
    let table = render_table(&report.figures, figures, quick);
    if args.json {
        let json = serde_json::to_string_pretty(&report).expect("a report serializes") + "\n";
        match &args.out {
            Some(file) => {
                crate::reports::output::write_atomic(file, json.as_bytes())
                    .map_err(|e| BadInput(format!("cannot write {}: {e}", file.display())))?;
                outln!("{}", machine_line(&report.machine, quick))?;
                out!("{table}")?;
                eprintln!("wrote {}", file.display());
            }
            None => out!("{json}")?,
        }
    } else {
        out!("{table}")?;
    }
    Ok(())
}

/// A figure of a scenario run in a child process (`what`): its wall time or its peak memory,
/// from the child's output, run into `slot` unless it has been already.
fn scenario_figure(
    figure: Figure,
    slot: &mut Option<ChildOutput>,
    what: &str,
    quick: bool,
) -> anyhow::Result<(Option<f64>, String, Option<String>)> {
    if slot.is_none() {
        *slot = Some(spawn_child(what, quick)?);
    }
    let out = slot.as_ref().expect("just run");
    if matches!(figure, Figure::EndToEndTime | Figure::GoogleDayTime) {
        let best_ns = out.wall_ns.iter().copied().min();
        let method = format!(
            "best of {} run(s) in a child process: load the scenario, run it under kubernetes",
            out.wall_ns.len()
        );
        Ok((best_ns.map(|ns| ns as f64 / 1e9), method, None))
    } else {
        let note = out.peak_rss_bytes.is_none().then(|| "n/a: no /proc/self/status here".to_string());
        Ok((out.peak_rss_bytes.map(|b| b as f64), "VmHWM of a child process after its first run".into(), note))
    }
}

fn machine_line(machine: &Machine, quick: bool) -> String {
    let mut line = format!(
        "podlab bench — {} cores, {} ({}/{})",
        machine.cores.map_or_else(|| "? ".to_string(), |n| n.to_string()),
        machine.cpu_model.as_deref().unwrap_or("CPU model unknown"),
        machine.os,
        machine.arch
    );
    if !machine.release_build {
        line += "\nnote: a debug build — far slower than `cargo build --release`; not the figures to compare";
    }
    if quick {
        line += "\nnote: --quick — small sizes and short rounds, not the targets' sizes; targets not judged";
    }
    line
}

fn render_table(rows: &[Row], figures: &[Figure], quick: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<48} {:>12} {:>12}  met  how", "figure", "target", "measured");
    for (row, figure) in rows.iter().zip(figures) {
        let target = figure.target();
        let measured = row.measured.map_or_else(|| "—".to_string(), |v| target.unit().show(v));
        let met = match row.met {
            Some(true) => "✓",
            Some(false) => "✗",
            None => "–",
        };
        let how = row.note.as_deref().unwrap_or(&row.method);
        let _ = writeln!(out, "{:<48} {:>12} {:>12}   {met}   {how}", row.title, target.show(), measured);
    }
    if quick {
        let _ = writeln!(out, "(--quick: sizes are not the targets'; run without it for the real figures)");
    }
    out
}

/// The CPU's model name from /proc/cpuinfo, where there is one.
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name") || l.starts_with("Model") || l.starts_with("cpu model"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Runs this binary as `podlab bench --child WHAT` and reads the line it prints.
fn spawn_child(what: &str, quick: bool) -> anyhow::Result<ChildOutput> {
    let exe = std::env::current_exe().context("finding this program to re-run it")?;
    let mut command = std::process::Command::new(exe);
    command.args(["bench", "--child", what]);
    if quick {
        command.arg("--quick");
    }
    let output = command.output().with_context(|| format!("running the `{what}` child process"))?;
    anyhow::ensure!(
        output.status.success(),
        "the `{what}` child process failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("reading the `{what}` child's output `{line}`"))
}

/// The runs measured keep no records: `podlab run` without `--out` does the same.
const FOLDED: crate::RunOptions = crate::RunOptions {
    check_invariants: false,
    keep_records: false,
    record_thread: crate::RecordThread::Auto,
    budgets: crate::sim::Budgets::DEFAULT,
};

/// `podlab bench --child WHAT`: one memory-measured figure alone in this process, then one
/// JSON line with the runs' wall times and the process's peak RSS.
fn child(what: &str, quick: bool) -> anyhow::Result<ExitCode> {
    let scenario_run = match what {
        "end-to-end" if quick => Some(("10k-nodes-1m-pods.yaml", scale_scenario_text(1_000, 10_000))),
        "end-to-end" => Some(("10k-nodes-1m-pods.yaml", SCALE_SCENARIO_YAML.to_string())),
        "google-day" if quick => Some(("google-cell-day.yaml", google_day_text(200, 1))),
        "google-day" => Some(("google-cell-day.yaml", GOOGLE_DAY_YAML.to_string())),
        _ => None,
    };
    let (wall_ns, peak_rss_bytes) = if let Some((file, text)) = scenario_run {
        let mut wall_ns = Vec::new();
        let mut first_peak = None;
        let started = Instant::now();
        // The first run always; up to three while the runs so far took under ten seconds (a
        // shared machine's runs differ by a tenth: the million pods are run three times, the
        // Google day once).
        while wall_ns.is_empty() || (wall_ns.len() < 3 && started.elapsed() < Duration::from_secs(10)) {
            let start = Instant::now();
            let scenario = crate::load_str(file, &text)?;
            let run = crate::run_policy_with(&scenario, "kubernetes", scenario.seed, FOLDED)?;
            wall_ns.push(start.elapsed().as_nanos() as u64);
            anyhow::ensure!(run.sim.violations.is_empty(), "the {file} run broke an invariant");
            drop(run);
            // The memory figure is the first run's: a later one reuses what the allocator
            // kept of it, and its own peak adds to what is left.
            if wall_ns.len() == 1 {
                first_peak = peak_rss_bytes();
            }
        }
        (wall_ns, first_peak)
    } else if let Some(sizes) = what.strip_prefix("live-pods=") {
        let parse = |s: &str| s.parse::<usize>().map_err(|_| BadInput(format!("--child {what}: live-pods=N/M")));
        let (pods, for_pods) = sizes.split_once('/').ok_or_else(|| BadInput(format!("--child {what}")))?;
        let (pods, for_pods) = (parse(pods)?, parse(for_pods)?);
        let scenario = crate::load_str("live-pods.yaml", &live_pods_scenario_text(pods, for_pods))?;
        let start = Instant::now();
        // Both runs read their records on a second thread, as a big run does, so that the
        // thread's own memory (its stack, its allocator arena, the batches) counts in neither.
        let options = crate::RunOptions { record_thread: crate::RecordThread::Always, ..FOLDED };
        let run = crate::run_policy_with(&scenario, "kubernetes", scenario.seed, options)?;
        let took_ns = start.elapsed().as_nanos() as u64;
        // The run is held until the peak is read: its pods are live to the end.
        let out = ChildOutput { wall_ns: vec![took_ns], peak_rss_bytes: peak_rss_bytes() };
        outln!("{}", serde_json::to_string(&out)?)?;
        drop(run);
        return Ok(ExitCode::SUCCESS);
    } else {
        return Err(BadInput(format!("--child {what}: unknown")).into());
    };
    let out = ChildOutput { wall_ns, peak_rss_bytes };
    outln!("{}", serde_json::to_string(&out)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Memory per live pod: the peaks of two child processes, a run ending with live pods and the
/// same run without them, their difference per pod.
fn bytes_per_pod(quick: bool) -> anyhow::Result<(Option<f64>, String, Option<String>)> {
    let pods = if quick { 10_000 } else { 100_000 };
    let with = spawn_child(&format!("live-pods={pods}/{pods}"), quick)?;
    let without = spawn_child(&format!("live-pods=0/{pods}"), quick)?;
    let method = format!(
        "(VmHWM of a run ending with {pods} live pods − VmHWM of the same run without pods) / {pods}, \
         each in its own child process"
    );
    Ok(match (with.peak_rss_bytes, without.peak_rss_bytes) {
        (Some(w), Some(wo)) => (Some(w.saturating_sub(wo) as f64 / pods as f64), method, None),
        _ => (None, method, Some("n/a: no /proc/self/status here".to_string())),
    })
}

/// The paper day under each architecture, keeping no records: best of up to 3 runs each
/// (more only while that architecture's runs took under 10 s); the figure is the slowest
/// architecture's best, the method names each one's.
fn paper_day(quick: bool) -> anyhow::Result<(Option<f64>, String, Option<String>)> {
    let text = if quick { crate::bench::paper_day_text(100, 10) } else { crate::bench::PAPER_DAY_YAML.to_string() };
    // Quick: one run each (a debug build takes seconds).
    let most = if quick { 1 } else { 3 };
    let scenario = crate::load_str("paper-day.yaml", &text)?;
    let mut each = Vec::new();
    for policy in crate::bench::PAPER_POLICIES {
        let started = Instant::now();
        let mut best = f64::INFINITY;
        let mut runs = 0;
        while runs == 0 || (runs < most && started.elapsed() < Duration::from_secs(10)) {
            let start = Instant::now();
            let run = crate::run_policy_with(&scenario, policy, scenario.seed, FOLDED)?;
            best = best.min(start.elapsed().as_secs_f64());
            anyhow::ensure!(run.sim.violations.is_empty(), "the paper day under {policy} broke an invariant");
            runs += 1;
        }
        each.push((policy, best, runs));
    }
    let slowest = each.iter().map(|e| e.1).fold(0.0, f64::max);
    let method = each.iter().map(|(p, s, n)| format!("{p} {s:.2} s ({n} runs)")).collect::<Vec<_>>().join(", ");
    Ok((Some(slowest), format!("best of runs, no records: {method}"), None))
}

/// One OpenB packing run: the trace read and readied, then one seed placed with FGD (the
/// original simulator's semantics, `podlab experiment openb`'s default) until the pods ask for
/// 130% (quick: 1%) of the cluster's GPUs. Best of up to 3 runs.
fn openb(traces: &Path, quick: bool) -> anyhow::Result<(Option<f64>, String, Option<String>)> {
    let nodes = traces.join("openb_node_list_gpu_node.csv");
    let pods = traces.join("openb_pod_list_default.csv");
    let load_percent = if quick { 1 } else { 130 };
    let method = "best of up to 3 runs: read the trace, place one seed with FGD".to_string();
    if !nodes.is_file() || !pods.is_file() {
        let note = format!("trace not found: {} (see --openb-traces)", traces.display());
        return Ok((None, method, Some(note)));
    }
    let started = Instant::now();
    let mut best_s = f64::INFINITY;
    let mut runs = 0;
    while runs == 0 || (runs < 3 && started.elapsed() < Duration::from_secs(1)) {
        let start = Instant::now();
        let setup = crate::experiment::load_setup(&nodes, &pods)?;
        let run = crate::experiment::run_one(&setup, SimPolicy::Fgd, 1, load_percent);
        std::hint::black_box(run.placed_pods);
        best_s = best_s.min(start.elapsed().as_secs_f64());
        runs += 1;
    }
    Ok((Some(best_s), method.replace("up to 3 runs", &format!("{runs} run(s)")), None))
}
