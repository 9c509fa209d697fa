//! `podlab import`: workload traces as podlab scenarios. The traces are read by the very code
//! that reads a scenario's `spec.workload.trace` (`podlab_scenario::trace`), so an imported
//! scenario and one that references the trace file hold the same jobs.
//!
//! - `swf`: a Parallel Workloads Archive log. Every job is a rigid gang — N processors that
//!   start together and stay together for the job's run time — a PodGroup of N one-CPU pods
//!   with minMember N, on a node pool of one-CPU nodes as large as the log's `MaxProcs`.
//! - `google-prefill`: the jobs running when Google's 2011 trace opens (the Omega simulator's
//!   `init-cluster-state.log`) as `prefillJobs`, placed per seed by random first fit.
//! - `omega`: the Omega simulator's `*_cmb.log` empirical distributions (interarrival, tasks
//!   per job, run time) of one cell and assignment policy, as batch and service generators
//!   that reference the files.
//! - `openb`: the OpenB GPU trace's node list and pod list as Nodes with GPUs and Pods with
//!   whole GPUs, GPU shares and GPU-model constraints (`podlab_scenario::openb`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cluster::config::WorkloadClass;
use crate::cluster::time::SimDuration;
use crate::cluster::workload::PrefillJob;
use crate::scenario::input::{Cap, open_input};
use crate::scenario::openb;
use crate::scenario::trace::{self, Swf, TimeUnit};

use crate::input::BadInput;
use crate::out;

/// The policies an imported trace scenario lists: every design podlab has.
const ALL_POLICIES: &str = "[per-container, kubernetes, gang, mesos, omega, monolithic]";
/// The Omega paper's three architectures, which its simulator's distributions were made for.
const PAPER_POLICIES: &str = "[monolithic, mesos, omega]";

use trace::{GOOGLE_ATTRIBUTION, OMEGA_ATTRIBUTION};

/// A trace or distribution file to stream: the loader's reader, so it is refused or read alike.
fn open(file: &Path, cap: Cap) -> anyhow::Result<Box<dyn std::io::BufRead>> {
    Ok(open_input(file, cap).map_err(|e| BadInput(e.to_string()))?)
}

/// A trace error as the loader reports one: positioned at the trace file's line (exit 2).
fn positioned(file: &Path) -> impl FnOnce(trace::TraceError) -> anyhow::Error + '_ {
    move |e| e.into_load_error(&file.display().to_string()).into()
}

/// A scenario name from a file name: lower case, `-` for anything else.
fn name_of(file: &Path, suffixes: &[&str]) -> String {
    let mut stem = file.file_name().map_or("trace".into(), |n| n.to_string_lossy().to_lowercase());
    for s in suffixes {
        stem = stem.trim_end_matches(s).to_string();
    }
    dns_name(&stem, "trace")
}

/// `text` as a DNS-1123 label, which a Simulation's name must be (a subdomain; a label is
/// one): lower-case letters and digits, `-` for anything else, no `-` at either end, at most
/// 63 characters; `fallback` when nothing is left.
fn dns_name(text: &str, fallback: &str) -> String {
    let name: String =
        text.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).take(63).collect();
    let name = name.trim_matches('-');
    if name.is_empty() { fallback.into() } else { name.into() }
}

fn write_out(text: &str, out: Option<&Path>, what: &str) -> anyhow::Result<ExitCode> {
    match out {
        Some(path) => {
            crate::reports::output::write_atomic(path, text.as_bytes())
                .map_err(|e| BadInput(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("wrote {} ({what})", path.display());
        }
        None => out!("{text}")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The Simulation document's start; `attribution` goes into its annotation, which reports show.
fn header(out: &mut String, name: &str, attribution: &str, policies: &str) {
    let _ = writeln!(out, "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata:\n  name: {name}");
    if !attribution.is_empty() {
        let key = crate::scenario::ATTRIBUTION_ANNOTATION;
        let _ = writeln!(out, "  annotations: {{{key}: {}}}", quoted(attribution));
    }
    out.push_str("spec:\n");
    let _ = writeln!(out, "  seed: 1\n  policies: {policies}");
}

/// The scenario text of an SWF log: the one-CPU machine and every job inline.
fn swf_scenario(swf: &Swf, name: &str, source: &str, reference: bool) -> anyhow::Result<String> {
    let procs = swf.max_procs.or_else(|| swf.jobs.iter().map(|j| u64::from(j.procs)).max()).unwrap_or(1);
    let start = swf.start_s();
    let mut out = String::new();
    let _ = writeln!(out, "# Imported by `podlab import swf` from {source}.");
    if let Some(c) = &swf.computer {
        let _ = writeln!(
            out,
            "# Computer: {c}. Acknowledge: {}.",
            swf.acknowledge.as_deref().unwrap_or("see the log's header")
        );
    }
    let _ = writeln!(out, "# {}.", trace::SWF_ATTRIBUTION);
    let _ = writeln!(
        out,
        "# {} jobs ({} skipped: never ran or unknown size); each a gang of one-CPU pods.",
        swf.jobs.len(),
        swf.skipped
    );
    // A referenced log adds its attribution when it loads; an inlined one carries it here.
    let attribution = if reference { String::new() } else { swf.attribution() };
    header(&mut out, name, &attribution, ALL_POLICIES);
    let _ = writeln!(out, "  nodePools: [{{name: proc, count: {procs}, cpu: \"1\", memory: 1Gi, maxPods: 1}}]");
    let _ = writeln!(out, "  workload:");
    if let Some(j) = swf.jobs.iter().find(|j| u64::from(j.procs) > procs) {
        return Err(
            BadInput(format!("job {} asks for {} processors; the machine has {procs}", j.number, j.procs)).into()
        );
    }
    if reference {
        return Ok(out);
    }
    let _ = writeln!(out, "    jobs:");
    for j in &swf.jobs {
        // The same jobs `spec.workload.trace: {format: swf}` reads (one task per processor).
        let _ = writeln!(
            out,
            "    - {{name: job-{}, at: {}, tasks: {}, cpu: \"{}\", memory: {}, runFor: {}}}",
            j.number,
            SimDuration::from_secs(j.submit_s - start),
            j.procs,
            trace::SWF_TASK_CPU,
            trace::SWF_TASK_MEMORY,
            SimDuration::from_secs(j.run_s)
        );
    }
    Ok(out)
}

/// More jobs than this are not written inline: a scenario file of them passes the YAML
/// loader's node budget (KTH-SP2's 28,476 jobs do). Such traces are referenced instead.
const MAX_INLINE_JOBS: usize = 10_000;

/// The folder a scenario written to `out` (stdout: the current folder) names its files from.
fn folder_of(out: Option<&Path>) -> PathBuf {
    match out {
        Some(out) => out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf(),
        None => PathBuf::from("."),
    }
}

fn too_many_inline(jobs: usize) -> anyhow::Error {
    BadInput(format!(
        "{jobs} jobs are too many to write inline (at most {MAX_INLINE_JOBS}: the scenario would pass the YAML \
         loader's budget); pass --reference to reference the trace (spec.workload.trace), or --max-jobs"
    ))
    .into()
}

/// A YAML double-quoted string.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `spec.workload.trace` naming `file` relative to where the scenario is written.
fn trace_line(file: &Path, out: Option<&Path>, format: &str, max_jobs: usize, extra: &str) -> anyhow::Result<String> {
    let mut line = format!("    trace: {{format: {format}, path: {}", quoted(&relative(&folder_of(out), file)?));
    if max_jobs != usize::MAX {
        let _ = write!(line, ", maxJobs: {max_jobs}");
    }
    let _ = write!(line, "{extra}}}");
    Ok(line)
}

/// `podlab import swf FILE [--max-jobs N] [--reference] [--out FILE]`.
pub fn import_swf(
    file: &Path,
    max_jobs: usize,
    window: (Option<String>, Option<String>),
    reference: bool,
    out: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let label = file.display().to_string();
    let secs = |flag: &str, d: &Option<String>| -> anyhow::Result<Option<u64>> {
        d.as_deref()
            .map(|d| crate::cluster::time::parse_duration(d).map_err(|why| BadInput(format!("--{flag}: {why}"))))
            .transpose()
            .map(|d| d.map(|d| d.as_nanos() / 1_000_000_000))
            .map_err(Into::into)
    };
    let (from_s, until_s) = (secs("from", &window.0)?.unwrap_or(0), secs("until", &window.1)?);
    if until_s.is_some_and(|u| u <= from_s) {
        return Err(BadInput("--until must come after --from".into()).into());
    }
    let slice = trace::SwfSlice { max_jobs: max_jobs as u64, from_s, until_s };
    let swf = trace::read_swf(open(file, Cap::TRACE)?, slice).map_err(positioned(file))?;
    if swf.jobs.is_empty() {
        return Err(BadInput(format!("{label}: no job that ran")).into());
    }
    if !reference && swf.jobs.len() > MAX_INLINE_JOBS {
        return Err(too_many_inline(swf.jobs.len()));
    }
    let mut text = swf_scenario(&swf, &name_of(file, &[".gz", ".swf"]), &label, reference)?;
    if reference {
        let mut extra = String::new();
        for (key, value) in [("from", &window.0), ("until", &window.1)] {
            if let Some(v) = value {
                let _ = write!(extra, ", {key}: {v}");
            }
        }
        let _ = writeln!(text, "{}", trace_line(file, out.as_deref(), "swf", max_jobs, &extra)?);
    }
    write_out(&text, out.as_deref(), &format!("{} jobs", swf.jobs.len()))
}

/// What `import google-prefill` is asked.
#[derive(clap::Args)]
pub struct PrefillArgs {
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Only the first N jobs (of --workload).
    #[arg(long, value_name = "N", default_value_t = usize::MAX)]
    pub max_jobs: usize,
    /// Only `batch` or `service` jobs (service: prod = 1 and scheduling class 2 or 3).
    #[arg(long, value_name = "CLASS")]
    pub workload: Option<String>,
    /// The unit of the end rows' times: `us` (Google 2011) or `s` (the Omega example file).
    #[arg(long, value_name = "UNIT", default_value = "us")]
    pub time_unit: String,
    /// Machines in the cell; default: enough that the jobs fill --utilisation of it.
    #[arg(long, value_name = "N")]
    pub machines: Option<u32>,
    /// The fraction of the cell's CPU (and memory) the prefill fills when --machines is not given.
    #[arg(long, value_name = "F", default_value_t = 0.6)]
    pub utilisation: f64,
    #[arg(long, value_name = "CPU", default_value = "32")]
    pub machine_cpu: String,
    #[arg(long, value_name = "BYTES", default_value = "128Gi")]
    pub machine_memory: String,
    /// How long runs of the scenario last (virtual time).
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub duration: String,
    /// Reference the file (`spec.workload.trace`) instead of writing its jobs inline.
    #[arg(long)]
    pub reference: bool,
    /// Write the scenario here (atomically) instead of to stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn class(name: &str) -> anyhow::Result<WorkloadClass> {
    WorkloadClass::parse(name).ok_or_else(|| BadInput(format!("unknown workload `{name}` (batch, service)")).into())
}

fn time_unit(unit: &str) -> anyhow::Result<TimeUnit> {
    match unit {
        "us" => Ok(TimeUnit::Microseconds),
        "s" => Ok(TimeUnit::Seconds),
        other => Err(BadInput(format!("unknown time unit `{other}` (us: the Google 2011 trace, s: seconds)")).into()),
    }
}

fn quantity(text: &str, what: &str) -> anyhow::Result<u64> {
    Ok(crate::cluster::quantity::parse_quantity(text, what)
        .map_err(|why| BadInput(format!("--machine-{what}: {why}")))?)
}

/// One prefill job as a `prefillJobs:` line: exact millicores and bytes per task.
fn prefill_line(j: &PrefillJob) -> String {
    let mut line = format!(
        "    - {{name: prefill-{}, tasks: {}, cpu: {}m, memory: \"{}\", workload: {}",
        j.id,
        j.tasks,
        j.cpu_milli_per_task,
        j.memory_bytes_per_task,
        j.workload.as_str()
    );
    if let Some(d) = j.run_for {
        let _ = write!(line, ", runFor: {d}");
    }
    line.push('}');
    line
}

/// `podlab import google-prefill FILE`: the jobs running at the start, on a cell of identical
/// machines sized (unless `--machines`) so that they fill `--utilisation` of its CPU and memory.
pub fn import_google_prefill(a: PrefillArgs) -> anyhow::Result<ExitCode> {
    let label = a.file.display().to_string();
    let only = a.workload.as_deref().map(class).transpose()?;
    let unit = time_unit(&a.time_unit)?;
    let jobs = trace::read_google_prefill(open(&a.file, Cap::DATA)?, a.max_jobs as u64, unit, only)
        .map_err(positioned(&a.file))?;
    if jobs.is_empty() {
        return Err(BadInput(format!("{label}: no job running at the start (of that workload)")).into());
    }
    let cpu_milli = quantity(&a.machine_cpu, "cpu")?;
    let memory_bytes = quantity(&a.machine_memory, "memory")?;
    if cpu_milli == 0 || memory_bytes == 0 {
        return Err(BadInput("a machine needs some CPU and memory".into()).into());
    }
    if !(a.utilisation > 0.0 && a.utilisation <= 1.0) {
        return Err(BadInput("--utilisation is a fraction above 0, at most 1".into()).into());
    }
    let total_cpu: u64 = jobs.iter().map(|j| j.cpu_milli_per_task * u64::from(j.tasks)).sum();
    let total_memory: u64 = jobs.iter().map(|j| j.memory_bytes_per_task * u64::from(j.tasks)).sum();
    let machines = match a.machines {
        Some(0) => return Err(BadInput("--machines must be at least 1".into()).into()),
        Some(m) => m,
        None => {
            let need = |total: u64, per: u64| (total as f64 / (per as f64 * a.utilisation)).ceil() as u64;
            need(total_cpu, cpu_milli).max(need(total_memory, memory_bytes)).clamp(1, 1_000_000) as u32
        }
    };
    let tasks: u64 = jobs.iter().map(|j| u64::from(j.tasks)).sum();
    let mut out = String::new();
    let _ = writeln!(out, "# Imported by `podlab import google-prefill` from {label}.");
    let _ = writeln!(out, "# {GOOGLE_ATTRIBUTION}.");
    let _ = writeln!(
        out,
        "# {} jobs, {tasks} tasks running at t = 0 ({} CPU cores, {:.0} GiB in all: average usage,\n\
         # scaled to 32-core, 128 GiB machines), placed per seed by random first fit on {machines} machines.",
        jobs.len(),
        total_cpu / 1000,
        total_memory as f64 / f64::from(1u32 << 30)
    );
    header(
        &mut out,
        &name_of(&a.file, &[".gz", ".log"]),
        if a.reference { "" } else { GOOGLE_ATTRIBUTION },
        ALL_POLICIES,
    );
    let _ = writeln!(out, "  duration: {}", a.duration);
    let _ = writeln!(
        out,
        "  nodePools: [{{name: machine, count: {machines}, cpu: \"{}\", memory: \"{}\", maxPods: 10000}}]",
        a.machine_cpu, a.machine_memory
    );
    let _ = writeln!(out, "  workload:");
    if a.reference {
        let mut extra = format!(", timeUnit: {}", a.time_unit);
        if let Some(w) = &a.workload {
            let _ = write!(extra, ", workload: {w}");
        }
        let _ = writeln!(out, "{}", trace_line(&a.file, a.out.as_deref(), "google-prefill", a.max_jobs, &extra)?);
    } else {
        if jobs.len() > MAX_INLINE_JOBS {
            return Err(too_many_inline(jobs.len()));
        }
        let _ = writeln!(out, "    prefillJobs:");
        for j in &jobs {
            let _ = writeln!(out, "{}", prefill_line(j));
        }
    }
    write_out(&out, a.out.as_deref(), &format!("{} prefill jobs on {machines} machines", jobs.len()))
}

/// What `import omega` is asked.
#[derive(clap::Args)]
pub struct OmegaArgs {
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The cell whose rows to use (column 1); needed when the files hold several.
    #[arg(long, value_name = "CELL")]
    pub cell: Option<String>,
    /// The assignment policy whose rows to use (column 2); needed when the files hold several.
    #[arg(long, value_name = "POLICY")]
    pub policy: Option<String>,
    /// Also prefill the cell from this init-cluster-state file (referenced as `spec.workload.trace`).
    #[arg(long, value_name = "FILE")]
    pub prefill: Option<PathBuf>,
    /// The prefill file's end-row unit: `us` (Google 2011) or `s` (the Omega example file).
    #[arg(long, value_name = "UNIT", default_value = "us")]
    pub prefill_time_unit: String,
    /// Machines in the cell (the Omega simulator's example cell has 10,000 of 4 CPUs, 16 GiB).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub machines: u32,
    #[arg(long, value_name = "CPU", default_value = "4")]
    pub machine_cpu: String,
    #[arg(long, value_name = "BYTES", default_value = "16Gi")]
    pub machine_memory: String,
    /// Each task's CPU (the distributions do not give task sizes).
    #[arg(long, value_name = "CPU", default_value = "1")]
    pub task_cpu: String,
    /// Each task's memory.
    #[arg(long, value_name = "BYTES", default_value = "2Gi")]
    pub task_memory: String,
    /// Generate jobs until this time; also the runs' duration.
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub until: String,
    /// Write the scenario here (atomically) instead of to stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// The one file in `dir` whose name ends with `suffix`.
fn one_file(dir: &Path, suffix: &str) -> anyhow::Result<PathBuf> {
    let entries = std::fs::read_dir(dir).map_err(|e| BadInput(format!("cannot read {}: {e}", dir.display())))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(suffix)))
        .collect();
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(BadInput(format!("{}: no file named `*{suffix}`", dir.display())).into()),
        _ => Err(BadInput(format!(
            "{}: several files named `*{suffix}` ({}); put one set of *_cmb.log files in a folder of its own",
            dir.display(),
            found.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        ))
        .into()),
    }
}

/// Chooses the cell or policy: the one asked for, which every file must have, or the only one
/// the files have. The error lists what the files hold.
fn choose(asked: Option<&str>, found: &[(PathBuf, Vec<String>)], what: &str, flag: &str) -> anyhow::Result<String> {
    let mut all: Vec<&str> = found.iter().flat_map(|(_, v)| v.iter().map(String::as_str)).collect();
    all.sort();
    all.dedup();
    match asked {
        Some(a) => {
            for (file, values) in found {
                if !values.iter().any(|v| v == a) {
                    return Err(BadInput(format!(
                        "{}: no rows of {what} `{a}`; the file has: {}",
                        file.display(),
                        values.join(", ")
                    ))
                    .into());
                }
            }
            Ok(a.to_string())
        }
        None if all.len() == 1 => Ok(all[0].to_string()),
        None => {
            Err(BadInput(format!("the files hold several {what}s ({}); choose one with {flag}", all.join(", "))).into())
        }
    }
}

/// `to` relative to the folder `from` (both made absolute), as a scenario names its files.
fn relative(from: &Path, to: &Path) -> anyhow::Result<String> {
    let canon = |p: &Path| p.canonicalize().map_err(|e| BadInput(format!("cannot resolve {}: {e}", p.display())));
    let (from, to) = (canon(from)?, canon(to)?);
    let (a, b): (Vec<Component>, Vec<Component>) = (from.components().collect(), to.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut rel = PathBuf::new();
    for _ in common..a.len() {
        rel.push("..");
    }
    for c in &b[common..] {
        rel.push(c);
    }
    Ok(rel.to_string_lossy().into_owned())
}

/// `podlab import omega DIR`: generators for batch and service whose interarrival times, tasks
/// per job and run times are the `*_cmb.log` files' empirical distributions of one cell and
/// assignment policy, referenced by path (relative to where the scenario is written).
pub fn import_omega(a: OmegaArgs) -> anyhow::Result<ExitCode> {
    let files = [
        ("interArrival", one_file(&a.dir, "interarrival_cmb.log")?),
        ("tasks", one_file(&a.dir, "csizes_cmb.log")?),
        ("runFor", one_file(&a.dir, "runtimes_cmb.log")?),
    ];
    let mut cells = Vec::new();
    let mut policies = Vec::new();
    for (_, file) in &files {
        let (c, p) = trace::omega_cells_and_policies(open(file, Cap::DATA)?).map_err(positioned(file))?;
        cells.push((file.clone(), c));
        policies.push((file.clone(), p));
    }
    let cell = choose(a.cell.as_deref(), &cells, "cell", "--cell")?;
    let policy = choose(a.policy.as_deref(), &policies, "assignment policy", "--policy")?;
    // A class with no rows in one of the files gets no generator.
    let mut classes = Vec::new();
    for class in [WorkloadClass::Batch, WorkloadClass::Service] {
        let select = trace::OmegaSelect { class, cell: Some(&cell), policy: Some(&policy) };
        let mut complete = true;
        for (_, file) in &files {
            complete &= trace::read_omega_distribution(open(file, Cap::DATA)?, select, 1.0).is_ok();
        }
        if complete {
            classes.push(class);
        }
    }
    if classes.is_empty() {
        return Err(BadInput(format!(
            "{}: no workload (batch or service) has rows of cell `{cell}`, policy `{policy}` in all three files",
            a.dir.display()
        ))
        .into());
    }
    for (text, what) in [(&a.machine_cpu, "cpu"), (&a.machine_memory, "memory")] {
        quantity(text, what)?;
    }
    for (text, what) in [(&a.task_cpu, "cpu"), (&a.task_memory, "memory")] {
        crate::cluster::quantity::parse_quantity(text, what)
            .map_err(|why| BadInput(format!("--task-{what}: {why}")))?;
    }
    crate::cluster::time::parse_duration(&a.until).map_err(|why| BadInput(format!("--until: {why}")))?;
    let here = folder_of(a.out.as_deref());
    let mut out = String::new();
    let _ =
        writeln!(out, "# Imported by `podlab import omega` from {} (cell {cell}, policy {policy}).", a.dir.display());
    let _ = writeln!(out, "# {OMEGA_ATTRIBUTION}.");
    let _ = writeln!(
        out,
        "# Files are named relative to this scenario's folder; outside it, load with --allow-paths-outside."
    );
    header(&mut out, &format!("omega-{}", name_of(Path::new(&cell), &[])), OMEGA_ATTRIBUTION, PAPER_POLICIES);
    let _ = writeln!(out, "  duration: {}", a.until);
    let _ = writeln!(
        out,
        "  nodePools: [{{name: machine, count: {}, cpu: \"{}\", memory: \"{}\"}}]",
        a.machines, a.machine_cpu, a.machine_memory
    );
    let _ = writeln!(out, "  workload:\n    generators:");
    for class in &classes {
        let _ = writeln!(out, "    - name: {}\n      workload: {}", class.as_str(), class.as_str());
        for (field, file) in &files {
            let _ = writeln!(
                out,
                "      {field}: {{distribution: empirical, file: {}, cell: {}, policy: {}}}",
                quoted(&relative(&here, file)?),
                quoted(&cell),
                quoted(&policy)
            );
        }
        let _ = writeln!(
            out,
            "      cpu: \"{}\"\n      memory: \"{}\"\n      until: {}",
            a.task_cpu, a.task_memory, a.until
        );
    }
    if let Some(prefill) = &a.prefill {
        let unit = time_unit(&a.prefill_time_unit)?;
        // Read it now, so a bad prefill file is refused here, with its line.
        trace::read_google_prefill(open(prefill, Cap::DATA)?, u64::MAX, unit, None).map_err(positioned(prefill))?;
        let _ = writeln!(
            out,
            "    trace: {{format: google-prefill, path: {}, timeUnit: {}}}",
            quoted(&relative(&here, prefill)?),
            a.prefill_time_unit
        );
    }
    write_out(&out, a.out.as_deref(), &format!("cell {cell}, policy {policy}"))
}

/// The scenario text of an OpenB node list and pod list: one Node per machine (CPU, memory,
/// `nvidia.com/gpu`, the model as `nvidia.com/gpu.product`), one Pod per pod (CPU, memory, whole
/// GPUs as `nvidia.com/gpu`, a share of one GPU as the `alibabacloud.com/gpu-milli`
/// annotation, allowed models as required node affinity), created at its `creation_time` and
/// running for its time in the trace when it has a `deletion_time`.
pub fn openb_scenario(nodes: &[openb::OpenbNode], pods: &[openb::OpenbPod], name: &str, sources: &str) -> String {
    use crate::cluster::gpu::{GPU_MODEL_LABEL, GPU_RESOURCE, GPU_SHARE_ANNOTATION};
    let mut out = String::new();
    let _ = writeln!(out, "# Imported by `podlab import openb` from {sources}.");
    let _ = writeln!(
        out,
        "# Alibaba GPU cluster trace (OpenB, cluster-trace-gpu-v2023) — cite Weng et al., \"Beware of\n\
         # Fragmentation: Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent\", USENIX ATC 2023."
    );
    let gpus: u64 = nodes.iter().map(|n| n.gpus).sum();
    let _ = writeln!(out, "# {} nodes ({gpus} GPUs), {} pods.", nodes.len(), pods.len());
    let _ = writeln!(out, "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: {name}}}\nspec:");
    let _ = writeln!(out, "  seed: 1\n  policies: [kubernetes]");
    let start = pods.iter().filter_map(|p| p.creation_s).min().unwrap_or(0);
    let mut later: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for p in pods {
        let at = p.creation_s.unwrap_or(start) - start;
        if at > 0 {
            later.entry(at).or_default().push(&p.name);
        }
    }
    if !later.is_empty() {
        let _ = writeln!(out, "  timeline:");
        for (at, names) in &later {
            let list: Vec<String> = names.iter().map(|n| format!("Pod/{n}")).collect();
            let _ = writeln!(out, "  - {{at: {at}s, create: [{}]}}", list.join(", "));
        }
    }
    for n in nodes {
        let _ = write!(out, "---\napiVersion: v1\nkind: Node\nmetadata: {{name: {}", n.name);
        if n.gpus > 0 && !n.model.is_empty() {
            let _ = write!(out, ", labels: {{{GPU_MODEL_LABEL}: \"{}\"}}", n.model);
        }
        let _ = write!(out, "}}\nstatus: {{allocatable: {{cpu: {}m, memory: {}Mi", n.cpu_milli, n.memory_mib);
        if n.gpus > 0 {
            let _ = write!(out, ", {GPU_RESOURCE}: \"{}\"", n.gpus);
        }
        let _ = writeln!(out, "}}}}");
    }
    for p in pods {
        let mut annotations = Vec::new();
        if let Some(share) = p.share_milli() {
            annotations.push(format!("{GPU_SHARE_ANNOTATION}: \"{share}\""));
        }
        if let Some(s) = p.run_for_s() {
            annotations.push(format!("{}: {s}s", "podlab.dev/run-for"));
        }
        let _ = write!(out, "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {}", p.name);
        if !annotations.is_empty() {
            let _ = write!(out, ", annotations: {{{}}}", annotations.join(", "));
        }
        let _ = write!(out, "}}\nspec: {{");
        if !p.gpu_models.is_empty() {
            let values: Vec<String> = p.gpu_models.iter().map(|m| format!("\"{m}\"")).collect();
            let _ = write!(
                out,
                "affinity: {{nodeAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: {{nodeSelectorTerms: \
                 [{{matchExpressions: [{{key: {GPU_MODEL_LABEL}, operator: In, values: [{}]}}]}}]}}}}}}, ",
                values.join(", ")
            );
        }
        let _ = write!(
            out,
            "containers: [{{name: main, resources: {{requests: {{cpu: {}m, memory: {}Mi",
            p.cpu_milli, p.memory_mib
        );
        if p.whole_gpus() > 0 {
            let _ = write!(out, ", {GPU_RESOURCE}: \"{}\"", p.whole_gpus());
        }
        let _ = writeln!(out, "}}}}}}]}}");
    }
    out
}

/// `podlab import openb --nodes FILE --pods FILE [--max-pods N] [--out FILE]`.
pub fn import_openb(nodes: &Path, pods: &Path, max_pods: usize, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let node_list = openb::read_nodes(nodes).map_err(|e| BadInput(e.0))?;
    let pod_list = openb::read_pods(pods, max_pods).map_err(|e| BadInput(e.0))?;
    let stem = pods.file_stem().map_or("openb".into(), |n| n.to_string_lossy().to_lowercase());
    let name = format!("openb-{}", dns_name(stem.trim_start_matches("openb_pod_list_"), "pods"));
    let sources = format!("{} and {}", nodes.display(), pods.display());
    let text = openb_scenario(&node_list, &pod_list, &name, &sources);
    match out {
        Some(path) => {
            crate::reports::output::write_atomic(&path, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {} ({} nodes, {} pods)", path.display(), node_list.len(), pod_list.len());
        }
        None => out!("{text}")?,
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use crate::scenario::openb::{OpenbNode, OpenbPod, read_nodes, read_pods, to_node, to_pod};

    use super::*;

    /// Whatever a trace's file is called, the scenario's name is a DNS-1123 label, which the
    /// loader requires of a Simulation's name.
    #[test]
    fn imported_names_are_dns_labels() {
        let long = "A".repeat(300);
        for stem in ["", "---", "É_x", "../..", "KTH-SP2-1996", long.as_str()] {
            let name = dns_name(stem, "trace");
            let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
            assert!(name.len() <= 63 && alnum(name.chars().next()) && alnum(name.chars().last()), "{name}");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{name}");
        }
        assert_eq!(dns_name("KTH-SP2-1996", "trace"), "kth-sp2-1996");
    }

    #[test]
    fn relative_paths_climb_and_descend() {
        let root = std::env::temp_dir().join(format!("podlab-rel-{}", std::process::id()));
        let (a, b) = (root.join("x/y"), root.join("z"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("f.log"), "").unwrap();
        assert_eq!(relative(&a, &b.join("f.log")).unwrap(), "../../z/f.log");
        assert_eq!(relative(&b, &b.join("f.log")).unwrap(), "f.log");
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// The two ways the trace becomes objects agree: the scenario `podlab import openb` writes,
    /// loaded, has the very nodes and pods the experiment builds (run times aside: the
    /// experiment never releases a pod).
    #[test]
    fn import_and_experiment_build_the_same_objects() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/traces/openb");
        for (nodes, pods) in [("gpu_node", "default"), ("all_node", "multigpu50")] {
            let node_list = read_nodes(&dir.join(format!("openb_node_list_{nodes}.csv"))).unwrap();
            let pod_list = read_pods(&dir.join(format!("openb_pod_list_{pods}.csv")), 40).unwrap();
            let text = openb_scenario(&node_list, &pod_list, "t", "test");
            let scenario = crate::load_str("t.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
            for (loaded, row) in scenario.nodes.iter().zip(&node_list) {
                assert_eq!(**loaded, *to_node(row));
            }
            assert_eq!(scenario.pods.len(), pod_list.len());
            for (loaded, row) in scenario.pods.iter().zip(&pod_list) {
                let mut loaded = (**loaded).clone();
                assert_eq!(loaded.run_for().map(|d| d.as_nanos() / 1_000_000_000), row.run_for_s());
                loaded.set_run_for(None);
                assert_eq!(loaded, *to_pod(row));
            }
        }
    }

    /// A pod asking for a GPU model gets required node affinity on the model label.
    #[test]
    fn gpu_models_become_required_node_affinity() {
        let pod = OpenbPod {
            name: "p".into(),
            cpu_milli: 1000,
            memory_mib: 1024,
            num_gpu: 1,
            gpu_milli: 500,
            gpu_models: vec!["V100M16".into(), "V100M32".into()],
            creation_s: None,
            deletion_s: None,
            scheduled_s: None,
        };
        let built = to_pod(&pod);
        assert_eq!(built.gpu_share_milli, 500);
        let node = |model: &str| {
            to_node(&OpenbNode { name: "n".into(), cpu_milli: 1000, memory_mib: 1024, gpus: 1, model: model.into() })
        };
        assert!(built.matches_node_affinity(&node("V100M32")));
        assert!(!built.matches_node_affinity(&node("T4")));
        // The importer writes the same affinity.
        let row = OpenbNode { name: "n".into(), cpu_milli: 1000, memory_mib: 1024, gpus: 1, model: "T4".into() };
        let text = openb_scenario(&[row], &[pod], "t", "test");
        let scenario = crate::load_str("t.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(**scenario.pods.get(podlab_cluster::PodId(0)), *built);
    }
}
