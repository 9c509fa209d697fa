//! The `Simulation` document's policy sections (`scheduler`, `omega`, `monolithic`, `mesos`) and
//! its `workload`, turned into [`PolicyConfig`] and [`Workload`] with positioned errors.

use std::path::{Component, Path, PathBuf};

use serde_saphyr::Spanned;

use super::diagnostic::LoadError;
use super::manifest::Doc;
use super::simulation::{
    DecisionManifest, DistributionManifest, FaultManifest, GeneratorManifest, JobManifest, PrefillJobManifest,
    RetryManifest, SchedulerSpecManifest, SimulationManifest,
};
use super::trace::{self, TimeUnit};
use crate::config::{
    AllocationRounds, Assignment, DecisionTime, FrameworkBehaviour, FrameworkSpec, OfferGranularity, Placement,
    PolicyConfig, Retry, SchedulerSpec, ScoringStrategy, WorkloadClass,
};
use crate::event::ConflictDetection;
use crate::input;
use crate::quantity::parse_quantity;
use crate::resources::Resources;
use crate::time::{SimDuration, SimTime};
use podlab_cluster::workload::{Distribution, Generator, Prefill, PrefillJob, Rounding, Shaped, Workload};

type SimDoc<'a> = Doc<'a, SimulationManifest>;

fn one_of<T: Copy>(
    doc: &SimDoc<'_>,
    value: &Spanned<String>,
    what: &str,
    choices: &[(&str, T)],
) -> Result<T, LoadError> {
    choices.iter().find(|(name, _)| *name == value.value).map(|(_, v)| *v).ok_or_else(|| {
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        doc.error(value, format!("unknown {what} `{}` ({})", value.value, names.join(", ")))
    })
}

fn duration_or(
    doc: &SimDoc<'_>,
    value: &Option<Spanned<String>>,
    default: SimDuration,
) -> Result<SimDuration, LoadError> {
    value.as_ref().map_or(Ok(default), |v| doc.duration(v))
}

/// The shortest period of anything that repeats by itself — a kubelet's heartbeat, Mesos's
/// offer rounds, a random fault process's mean gap. A real cluster's are seconds (heartbeats
/// 10 s, offers 1 s); 1 ms is a thousand times shorter, and still lets simulated time move:
/// a period of 0 (or 1 ns) repeats at one instant, or a day of it is 10^14 events.
pub const MIN_PERIOD: SimDuration = SimDuration::from_millis(1);

/// `duration_or` for a period: refused, where it is written, if shorter than [`MIN_PERIOD`].
fn period_or(
    doc: &SimDoc<'_>,
    value: &Option<Spanned<String>>,
    default: SimDuration,
    what: &str,
) -> Result<SimDuration, LoadError> {
    let period = duration_or(doc, value, default)?;
    match value {
        Some(v) if period < MIN_PERIOD => Err(doc.error(v, too_short(what, &v.value))),
        _ => Ok(period),
    }
}

fn too_short(what: &str, value: &str) -> String {
    format!(
        "{what} `{value}` is shorter than {}: it would repeat without simulated time moving (podlab's \
         shortest period is {}, a thousand times a real cluster's)",
        MIN_PERIOD, MIN_PERIOD
    )
}

fn decision(
    doc: &SimDoc<'_>,
    t_job: &Option<Spanned<String>>,
    t_task: &Option<Spanned<String>>,
    default: DecisionTime,
) -> Result<DecisionTime, LoadError> {
    Ok(DecisionTime {
        t_job: duration_or(doc, t_job, default.t_job)?,
        t_task: duration_or(doc, t_task, default.t_task)?,
    })
}

fn decision_section(doc: &SimDoc<'_>, d: &DecisionManifest, default: DecisionTime) -> Result<DecisionTime, LoadError> {
    decision(doc, &d.t_job, &d.t_task, default)
}

fn retry(doc: &SimDoc<'_>, r: &RetryManifest) -> Result<Retry, LoadError> {
    let default = Retry::default();
    Ok(Retry {
        interval: duration_or(doc, &r.interval, default.interval)?,
        max_attempts: r.max_attempts.unwrap_or(default.max_attempts),
        max_fruitless_attempts: r.max_fruitless_attempts.unwrap_or(default.max_fruitless_attempts),
    })
}

pub fn workload_class(
    doc: &SimDoc<'_>,
    value: &Option<Spanned<String>>,
    default: WorkloadClass,
) -> Result<WorkloadClass, LoadError> {
    match value {
        None => Ok(default),
        Some(v) => one_of(doc, v, "workload", &[("batch", WorkloadClass::Batch), ("service", WorkloadClass::Service)]),
    }
}

fn scheduler_specs(
    doc: &SimDoc<'_>,
    list: &[SchedulerSpecManifest],
    mesos: bool,
) -> Result<Vec<FrameworkSpec>, LoadError> {
    let mut out: Vec<FrameworkSpec> = Vec::new();
    for m in list {
        if !crate::names::is_dns_subdomain(&m.name.value) {
            return Err(doc.error(
                &m.name,
                format!("`{}` is not a valid scheduler name (lower-case letters, digits, `-`)", m.name.value),
            ));
        }
        if out.iter().any(|o| o.scheduler.name == m.name.value) {
            return Err(doc.error(&m.name, format!("duplicate scheduler `{}`", m.name.value)));
        }
        let count = match &m.count {
            None => 1,
            Some(c) if (1..=1024).contains(&c.value) => c.value,
            Some(c) => return Err(doc.error(c, format!("count {} is out of range (1 to 1024)", c.value))),
        };
        if !mesos && (m.behaviour.is_some() || m.hoard_timeout.is_some()) {
            let at = m.behaviour.as_ref().or(m.hoard_timeout.as_ref()).expect("one is set");
            return Err(
                doc.error(at, "`behaviour` and `hoardTimeout` belong to Mesos frameworks (spec.mesos.frameworks)")
            );
        }
        let workload = match &m.workload {
            None => None,
            Some(v) => Some(workload_class(doc, &Some(v.clone()), WorkloadClass::Batch)?),
        };
        let behaviour = match &m.behaviour {
            None => FrameworkBehaviour::Paper,
            Some(b) => one_of(
                doc,
                b,
                "framework behaviour",
                &[("paper", FrameworkBehaviour::Paper), ("hoarding", FrameworkBehaviour::Hoarding)],
            )?,
        };
        out.push(FrameworkSpec {
            scheduler: SchedulerSpec {
                name: m.name.value.clone(),
                count,
                workload,
                decision: decision(doc, &m.t_job, &m.t_task, DecisionTime::PAPER)?,
            },
            behaviour,
            hoard_timeout: duration_or(doc, &m.hoard_timeout, SimDuration::from_secs(60))?,
        });
    }
    if out.is_empty() {
        return Err(doc.src.error(doc.start, "an empty list of schedulers can place nothing"));
    }
    Ok(out)
}

fn resources(doc: &SimDoc<'_>, cpu: &Spanned<String>, memory: &Spanned<String>) -> Result<Resources, LoadError> {
    let cpu_milli = parse_quantity(&cpu.value, "cpu").map_err(|why| doc.error(cpu, why))?;
    let memory_bytes = parse_quantity(&memory.value, "memory").map_err(|why| doc.error(memory, why))?;
    Ok(Resources::new(cpu_milli, memory_bytes))
}

/// The policy sections of the Simulation document.
pub fn policy_config(doc: &SimDoc<'_>) -> Result<PolicyConfig, LoadError> {
    let spec = &doc.parsed.value.spec;
    let mut c = PolicyConfig::default();

    let k = &spec.scheduler;
    if let Some(s) = &k.scoring_strategy {
        c.scheduler.scoring = one_of(
            doc,
            s,
            "scoring strategy",
            &[("LeastAllocated", ScoringStrategy::LeastAllocated), ("MostAllocated", ScoringStrategy::MostAllocated)],
        )?;
    }
    if let Some(s) = &k.gpu_scoring {
        let all: Vec<(&str, crate::config::GpuScoring)> =
            crate::config::GpuScoring::ALL.iter().map(|g| (g.as_str(), *g)).collect();
        c.scheduler.gpu_scoring = one_of(doc, s, "GPU scoring plugin", &all)?;
    }
    c.scheduler.decision = decision(doc, &k.t_job, &k.t_task, c.scheduler.decision)?;
    c.scheduler.permit_waiting_time = duration_or(doc, &k.permit_waiting_time, c.scheduler.permit_waiting_time)?;
    c.scheduler.group_backoff = duration_or(doc, &k.pod_group_backoff, c.scheduler.group_backoff)?;
    if let Some(p) = &k.percentage_of_nodes_to_score {
        if p.value > 100 {
            return Err(doc.error(p, format!("{}% is not a percentage (0 to 100; 0 is adaptive)", p.value)));
        }
        c.scheduler.percentage_of_nodes_to_score = p.value;
    }
    c.scheduler.pod_initial_backoff = duration_or(doc, &k.pod_initial_backoff, c.scheduler.pod_initial_backoff)?;
    c.scheduler.pod_max_backoff = duration_or(doc, &k.pod_max_backoff, c.scheduler.pod_max_backoff)?;
    if c.scheduler.pod_max_backoff < c.scheduler.pod_initial_backoff {
        let at = k.pod_max_backoff.as_ref().or(k.pod_initial_backoff.as_ref()).expect("one was set");
        return Err(doc.error(at, "podMaxBackoff is shorter than podInitialBackoff"));
    }

    let o = &spec.omega;
    if let Some(list) = &o.schedulers {
        c.omega.schedulers = scheduler_specs(doc, list, false)?.into_iter().map(|f| f.scheduler).collect();
    }
    if let Some(d) = &o.conflict_detection {
        c.omega.detection = one_of(
            doc,
            d,
            "conflict detection",
            &[("fine", ConflictDetection::Fine), ("coarse", ConflictDetection::Coarse)],
        )?;
    }
    if let Some(t) = &o.transactions {
        c.omega.all_or_nothing =
            one_of(doc, t, "transaction mode", &[("incremental", false), ("all-or-nothing", true)])?;
    }
    if let Some(a) = &o.assignment {
        c.omega.assignment =
            one_of(doc, a, "assignment", &[("hash", Assignment::Hash), ("round-robin", Assignment::RoundRobin)])?;
    }
    c.omega.retry = retry(doc, &o.retry)?;

    let m = &spec.monolithic;
    c.monolithic.multi_path = m.multi_path;
    c.monolithic.batch = decision_section(doc, &m.batch, c.monolithic.batch)?;
    c.monolithic.service = decision_section(doc, &m.service, c.monolithic.service)?;
    c.monolithic.retry = retry(doc, &m.retry)?;

    let ms = &spec.mesos;
    if let Some(list) = &ms.frameworks {
        c.mesos.frameworks = scheduler_specs(doc, list, true)?;
    }
    c.mesos.offer_interval = period_or(doc, &ms.offer_interval, c.mesos.offer_interval, "offerInterval")?;
    if let Some(list) = &ms.min_offer {
        c.mesos.min_offer = doc.resources(list)?;
    }
    c.mesos.offer_timeout = ms.offer_timeout.as_ref().map(|t| doc.duration(t)).transpose()?;
    c.mesos.refuse = duration_or(doc, &ms.refuse, c.mesos.refuse)?;
    if let Some(g) = &ms.offers {
        c.mesos.granularity = one_of(
            doc,
            g,
            "offer granularity",
            &[("per-node", OfferGranularity::PerNode), ("whole-cell", OfferGranularity::WholeCell)],
        )?;
    }
    c.mesos.retry = retry(doc, &ms.retry)?;
    paper_model_options(doc, &mut c)?;
    Ok(c)
}

/// The Omega paper's models' options: the first fit's rule, and the Mesos allocator's rounds
/// and decision time.
fn paper_model_options(doc: &SimDoc<'_>, c: &mut PolicyConfig) -> Result<(), LoadError> {
    let spec = &doc.parsed.value.spec;
    let rules = [("per-task", Placement::PerTask), ("pack", Placement::Pack)];
    for (field, placement) in [
        (&spec.omega.placement, &mut c.omega.placement),
        (&spec.monolithic.placement, &mut c.monolithic.placement),
        (&spec.mesos.placement, &mut c.mesos.placement),
    ] {
        if let Some(p) = field {
            *placement = one_of(doc, p, "placement", &rules)?;
        }
    }
    if let Some(r) = &spec.mesos.rounds {
        let rounds =
            [("after-trigger", AllocationRounds::AfterTrigger), ("rate-limited", AllocationRounds::RateLimited)];
        c.mesos.rounds = Some(one_of(doc, r, "allocation rounds", &rounds)?);
    }
    c.mesos.allocator_decision = spec.mesos.allocator_decision.as_ref().map(|t| doc.duration(t)).transpose()?;
    Ok(())
}

/// What a distribution's values are: durations (ns) or counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Values {
    Nanos,
    Count,
}

fn number(doc: &SimDoc<'_>, v: &Spanned<String>, kind: Values) -> Result<f64, LoadError> {
    match kind {
        Values::Nanos => Ok(doc.duration(v)?.as_nanos() as f64),
        Values::Count => match v.value.parse::<f64>() {
            Ok(x) if (0.0..=1e9).contains(&x) => Ok(x),
            _ => Err(doc.error(v, format!("`{}` is not a count (a number from 0 to 10^9)", v.value))),
        },
    }
}

/// Where a scenario's files are read from, and whether they may lie outside its folder.
#[derive(Clone, Copy)]
struct Files<'p> {
    dir: &'p Path,
    allow_outside: bool,
}

/// The path of a file a scenario names, relative to its folder. Unless allowed, the file must
/// stay inside that folder — lexically (no absolute path, no `..` above it) and once symbolic
/// links are resolved — so a scenario from elsewhere cannot read any file of the machine.
fn inside(dir: &Path, file: &str, allow_outside: bool) -> Result<PathBuf, String> {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let path = dir.join(file);
    if allow_outside {
        return Ok(path);
    }
    let refuse = || {
        format!(
            "`{file}` lies outside the scenario's folder ({}); pass --allow-paths-outside (or set \
             PODLAB_ALLOW_PATHS_OUTSIDE=1) to read it",
            dir.display()
        )
    };
    let mut depth = 0i64;
    for component in Path::new(file).components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return Err(refuse());
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err(refuse()),
        }
    }
    // A symbolic link inside the folder may still point out of it.
    if let (Ok(real_dir), Ok(real_path)) = (dir.canonicalize(), path.canonicalize())
        && !real_path.starts_with(&real_dir)
    {
        return Err(refuse());
    }
    Ok(path)
}

fn distribution(
    doc: &SimDoc<'_>,
    d: &DistributionManifest,
    kind: Values,
    class: WorkloadClass,
    files: Files<'_>,
) -> Result<Distribution, LoadError> {
    let base = base_distribution(doc, d, kind, class, files)?;
    shaped(doc, d, kind, base)
}

/// A distribution's `offset`, `rounding` (with `step`), `atLeast` and `atMost`, around its
/// draws; the distribution itself when it has none.
fn shaped(
    doc: &SimDoc<'_>,
    d: &DistributionManifest,
    kind: Values,
    base: Distribution,
) -> Result<Distribution, LoadError> {
    if d.offset.is_none() && d.rounding.is_none() && d.step.is_none() && d.at_least.is_none() && d.at_most.is_none() {
        return Ok(base);
    }
    let value = |v: &Option<Spanned<String>>| v.as_ref().map(|v| signed_number(doc, v, kind)).transpose();
    let rounding = match &d.rounding {
        None => None,
        Some(r) => Some(one_of(
            doc,
            r,
            "rounding",
            &[("ceil", Rounding::Ceil), ("floor", Rounding::Floor), ("round", Rounding::Nearest)],
        )?),
    };
    let step = value(&d.step)?.unwrap_or(1.0);
    if let Some(s) = d.step.as_ref().filter(|_| step <= 0.0) {
        return Err(doc.error(s, "`step` must be above 0"));
    }
    if let Some(s) = d.step.as_ref().filter(|_| rounding.is_none()) {
        return Err(doc.error(s, "`step` belongs to a `rounding`"));
    }
    let (at_least, at_most) = (value(&d.at_least)?, value(&d.at_most)?);
    if let (Some(low), Some(high), Some(at)) = (at_least, at_most, d.at_most.as_ref())
        && low > high
    {
        return Err(doc.error(at, "`atMost` is below `atLeast`"));
    }
    let offset = value(&d.offset)?.unwrap_or(0.0);
    Ok(Distribution::Shaped(std::sync::Arc::new(Shaped { base, offset, rounding, step, at_least, at_most })))
}

/// A number of the distribution's kind that may be negative (an offset): `-5s`, `-2`.
fn signed_number(doc: &SimDoc<'_>, v: &Spanned<String>, kind: Values) -> Result<f64, LoadError> {
    match v.value.strip_prefix('-') {
        Some(rest) => {
            let positive = Spanned { value: rest.to_string(), referenced: v.referenced, defined: v.defined };
            Ok(-number(doc, &positive, kind)?)
        }
        None => number(doc, v, kind),
    }
}

fn base_distribution(
    doc: &SimDoc<'_>,
    d: &DistributionManifest,
    kind: Values,
    class: WorkloadClass,
    files: Files<'_>,
) -> Result<Distribution, LoadError> {
    fn need<'d>(
        doc: &SimDoc<'_>,
        d: &'d DistributionManifest,
        field: &'d Option<Spanned<String>>,
        name: &str,
    ) -> Result<&'d Spanned<String>, LoadError> {
        field.as_ref().ok_or_else(|| {
            doc.error(&d.distribution, format!("a {} distribution needs `{name}`", d.distribution.value))
        })
    }
    let need = |field, name| need(doc, d, field, name);
    if d.distribution.value != "empirical"
        && let Some(f) = d.cell.as_ref().or(d.policy.as_ref())
    {
        return Err(doc.error(f, "`cell` and `policy` choose the rows of an empirical distribution's file"));
    }
    Ok(match d.distribution.value.as_str() {
        "constant" => Distribution::Constant(number(doc, need(&d.value, "value")?, kind)?),
        "exponential" => Distribution::Exponential { mean: number(doc, need(&d.mean, "mean")?, kind)? },
        "uniform" => {
            let (min, max) = (number(doc, need(&d.min, "min")?, kind)?, number(doc, need(&d.max, "max")?, kind)?);
            if min > max {
                return Err(doc.error(need(&d.max, "max")?, "`max` is below `min`"));
            }
            Distribution::Uniform { min, max }
        }
        "lognormal" => {
            let (p50, p99) = (number(doc, need(&d.p50, "p50")?, kind)?, number(doc, need(&d.p99, "p99")?, kind)?);
            if !(p50 > 0.0 && p99 >= p50) {
                return Err(doc.error(need(&d.p99, "p99")?, "a lognormal needs 0 < p50 ≤ p99"));
            }
            Distribution::lognormal(p50, p99)
        }
        "empirical" => {
            let file = need(&d.file, "file")?;
            let class = workload_class(doc, &d.workload, class)?;
            let path = inside(files.dir, &file.value, files.allow_outside).map_err(|why| doc.error(file, why))?;
            let reader = input::open_input(&path, input::Cap::DATA).map_err(|e| doc.error(file, e.to_string()))?;
            let scale = if kind == Values::Nanos { 1e9 } else { 1.0 };
            let select = trace::OmegaSelect {
                class,
                cell: d.cell.as_ref().map(|c| c.value.as_str()),
                policy: d.policy.as_ref().map(|p| p.value.as_str()),
            };
            let values = trace::read_omega_distribution(reader, select, scale)
                .map_err(|e| e.into_load_error(&path.display().to_string()))?;
            Distribution::Empirical(values.into())
        }
        other => {
            return Err(doc.error(
                &d.distribution,
                format!("unknown distribution `{other}` (constant, exponential, uniform, empirical)"),
            ));
        }
    })
}

/// Explicit jobs, expanded at load: name, arrival, tasks, per-task size, class.
pub struct FixedJob {
    pub name: String,
    pub at: SimTime,
    pub tasks: u32,
    pub requests: Resources,
    pub run_for: Option<SimDuration>,
    pub workload: WorkloadClass,
    pub scheduler_name: Option<String>,
}

pub fn fixed_jobs(doc: &SimDoc<'_>) -> Result<Vec<FixedJob>, LoadError> {
    let list: &[JobManifest] = &doc.parsed.value.spec.workload.jobs;
    list.iter()
        .map(|j| {
            if !crate::names::is_dns_subdomain(&j.name.value) {
                return Err(doc.error(&j.name, format!("`{}` is not a valid job name", j.name.value)));
            }
            if j.tasks == 0 || j.tasks > 1_000_000 {
                return Err(doc.error(&j.name, format!("job `{}` has {} tasks (1 to 1000000)", j.name.value, j.tasks)));
            }
            Ok(FixedJob {
                name: j.name.value.clone(),
                at: SimTime::ZERO + doc.duration(&j.at)?,
                tasks: j.tasks,
                requests: resources(doc, &j.cpu, &j.memory)?,
                run_for: j.run_for.as_ref().map(|r| doc.duration(r)).transpose()?,
                workload: workload_class(doc, &j.workload, WorkloadClass::Batch)?,
                scheduler_name: j.scheduler_name.clone(),
            })
        })
        .collect()
}

fn generator(doc: &SimDoc<'_>, g: &GeneratorManifest, files: Files<'_>) -> Result<Generator, LoadError> {
    if g.until.is_none() && g.count.is_none() {
        return Err(doc.src.error_with_help(
            doc.at(&g.name),
            format!("generator `{}` never stops", g.name.value),
            "give it `until: 1h` or `count: 1000`",
        ));
    }
    let workload = workload_class(doc, &g.workload, WorkloadClass::Batch)?;
    Ok(Generator {
        name: g.name.value.clone(),
        workload,
        inter_arrival_ns: distribution(doc, &g.inter_arrival, Values::Nanos, workload, files)?,
        tasks: distribution(doc, &g.tasks, Values::Count, workload, files)?,
        run_for_ns: distribution(doc, &g.run_for, Values::Nanos, workload, files)?,
        requests: resources(doc, &g.cpu, &g.memory)?,
        until: g.until.as_ref().map(|u| doc.duration(u).map(|d| SimTime::ZERO + d)).transpose()?,
        count: g.count.as_ref().map(|c| c.value),
        scheduler_name: g.scheduler_name.clone(),
    })
}

/// Generators and prefill, drawn per run from its seed. Empirical files are read relative to
/// the scenario's folder, and from inside it unless `allow_outside`.
pub fn workload(doc: &SimDoc<'_>, dir: &Path, allow_outside: bool) -> Result<Workload, LoadError> {
    let files = Files { dir, allow_outside };
    let w = &doc.parsed.value.spec.workload;
    let mut generators: Vec<Generator> = Vec::new();
    for g in &w.generators {
        if generators.iter().any(|o| o.name == g.name.value) {
            return Err(doc.error(&g.name, format!("duplicate generator `{}`", g.name.value)));
        }
        generators.push(generator(doc, g, files)?);
    }
    let prefill = match &w.prefill {
        None => None,
        Some(p) => {
            if !(0.0..=1.0).contains(&p.cpu_utilisation.value) {
                return Err(doc.error(&p.cpu_utilisation, "cpuUtilisation is a fraction from 0 to 1"));
            }
            let workload = workload_class(doc, &p.workload, WorkloadClass::Service)?;
            let requests = resources(doc, &p.cpu, &p.memory)?;
            if requests.cpu_milli == 0 {
                // Tasks of no CPU never fill the cell's CPU: the prefill would never end.
                return Err(doc.error(&p.cpu, "a prefill fills the cell's CPU: its tasks need a `cpu` above 0"));
            }
            Some(Prefill {
                cpu_utilisation: p.cpu_utilisation.value,
                workload,
                tasks: distribution(doc, &p.tasks, Values::Count, workload, files)?,
                requests,
                run_for_ns: p
                    .run_for
                    .as_ref()
                    .map(|d| distribution(doc, d, Values::Nanos, workload, files))
                    .transpose()?,
            })
        }
    };
    let prefill_jobs = w.prefill_jobs.iter().map(|j| prefill_job(doc, j)).collect::<Result<Vec<_>, _>>()?;
    let rate_multiplier = match &w.rate_multiplier {
        None => 1.0,
        Some(r) if r.value > 0.0 && r.value <= 1e6 => r.value,
        Some(r) => return Err(doc.error(r, "rateMultiplier must be above 0 (and at most 10^6)")),
    };
    Ok(Workload { generators, prefill, prefill_jobs, rate_multiplier })
}

fn prefill_job(doc: &SimDoc<'_>, j: &PrefillJobManifest) -> Result<PrefillJob, LoadError> {
    let Some(id) = j.name.value.strip_prefix("prefill-").filter(|id| crate::names::is_dns_subdomain(id)) else {
        return Err(doc.src.error_with_help(
            doc.at(&j.name),
            format!("`{}` is not a prefill job name", j.name.value),
            "name it `prefill-<id>` (lower-case letters, digits, `-`): its pods are `prefill-<id>-<k>`",
        ));
    };
    if j.tasks == 0 || j.tasks > 1_000_000 {
        return Err(doc.error(&j.name, format!("job `{}` has {} tasks (1 to 1000000)", j.name.value, j.tasks)));
    }
    let requests = resources(doc, &j.cpu, &j.memory)?;
    Ok(PrefillJob {
        id: id.to_string(),
        tasks: j.tasks,
        cpu_milli_per_task: requests.cpu_milli,
        memory_bytes_per_task: requests.memory_bytes,
        run_for: j.run_for.as_ref().map(|r| doc.duration(r)).transpose()?,
        workload: workload_class(doc, &j.workload, WorkloadClass::Batch)?,
    })
}

/// What a referenced trace adds: jobs arriving over time, or jobs running at t = 0.
pub enum Trace {
    Jobs(Vec<FixedJob>),
    Prefill(Vec<PrefillJob>),
}

/// The jobs of an SWF log as podlab jobs: job `job-<number>` arrives at its submit time (from
/// the first job's), a gang of `procs` tasks of `requests` each, running its run time.
pub fn swf_jobs(swf: &trace::Swf, requests: &Resources) -> Vec<FixedJob> {
    let start = swf.start_s();
    swf.jobs
        .iter()
        .map(|j| FixedJob {
            name: format!("job-{}", j.number),
            at: SimTime::ZERO + SimDuration::from_secs(j.submit_s - start),
            tasks: j.procs,
            requests: requests.clone(),
            run_for: Some(SimDuration::from_secs(j.run_s)),
            workload: WorkloadClass::Batch,
            scheduler_name: None,
        })
        .collect()
}

/// `spec.workload.trace`, read now: the file relative to the scenario's folder (inside it
/// unless `allow_outside`), streamed; a bad line is an error about the trace file's line.
pub fn trace(doc: &SimDoc<'_>, dir: &Path, allow_outside: bool) -> Result<Option<(Trace, String)>, LoadError> {
    let Some(t) = &doc.parsed.value.spec.workload.trace else { return Ok(None) };
    let path = inside(dir, &t.path.value, allow_outside).map_err(|why| doc.error(&t.path, why))?;
    let label = path.display().to_string();
    let max_jobs = t.max_jobs.as_ref().map_or(u64::MAX, |m| m.value);
    if max_jobs == 0 {
        return Err(doc.error(t.max_jobs.as_ref().expect("set"), "maxJobs of 0 reads nothing; leave it out for all"));
    }
    // An SWF log is streamed, its memory bounded by the jobs kept; the prefill reader remembers
    // every row's job id, so its file is data, capped as such.
    let cap = if t.format.value == "swf" { input::Cap::TRACE } else { input::Cap::DATA };
    let open = || input::open_input(&path, cap).map_err(|e| doc.error(&t.path, e.to_string()));
    let only_for = |field: &Option<Spanned<String>>, name: &str, format: &str| match field {
        Some(f) => Err(doc.error(f, format!("`{name}` is not an option of `format: {format}`"))),
        None => Ok(()),
    };
    match t.format.value.as_str() {
        "swf" => {
            only_for(&t.workload, "workload", "swf")?;
            only_for(&t.time_unit, "timeUnit", "swf")?;
            let cpu = t.cpu.as_ref().map_or(trace::SWF_TASK_CPU, |c| c.value.as_str());
            let memory = t.memory.as_ref().map_or(trace::SWF_TASK_MEMORY, |m| m.value.as_str());
            let cpu_milli =
                parse_quantity(cpu, "cpu").map_err(|why| doc.error(t.cpu.as_ref().unwrap_or(&t.format), why))?;
            let memory_bytes = parse_quantity(memory, "memory")
                .map_err(|why| doc.error(t.memory.as_ref().unwrap_or(&t.format), why))?;
            let secs = |f: &Option<Spanned<String>>| -> Result<Option<u64>, LoadError> {
                Ok(f.as_ref().map(|d| doc.duration(d)).transpose()?.map(|d| d.as_nanos() / 1_000_000_000))
            };
            let (from_s, until_s) = (secs(&t.from)?.unwrap_or(0), secs(&t.until)?);
            if let (Some(u), Some(at)) = (until_s, &t.until)
                && u <= from_s
            {
                return Err(doc.error(at, "`until` must come after `from`"));
            }
            let slice = trace::SwfSlice { max_jobs, from_s, until_s };
            let swf = trace::read_swf(open()?, slice).map_err(|e| e.into_load_error(&label))?;
            if swf.jobs.is_empty() {
                return Err(doc.error(&t.path, format!("{label}: no job that ran")));
            }
            let jobs = swf_jobs(&swf, &Resources::new(cpu_milli, memory_bytes));
            Ok(Some((Trace::Jobs(jobs), swf.attribution())))
        }
        "google-prefill" => {
            only_for(&t.cpu, "cpu", "google-prefill")?;
            only_for(&t.from, "from", "google-prefill")?;
            only_for(&t.until, "until", "google-prefill")?;
            only_for(&t.memory, "memory", "google-prefill")?;
            let only = match &t.workload {
                None => None,
                Some(w) => Some(workload_class(doc, &Some(w.clone()), WorkloadClass::Batch)?),
            };
            let unit = match &t.time_unit {
                None => TimeUnit::Microseconds,
                Some(u) => one_of(doc, u, "time unit", &[("us", TimeUnit::Microseconds), ("s", TimeUnit::Seconds)])?,
            };
            let jobs =
                trace::read_google_prefill(open()?, max_jobs, unit, only).map_err(|e| e.into_load_error(&label))?;
            if jobs.is_empty() {
                return Err(doc.error(&t.path, format!("{label}: no job running at the start (of that workload)")));
            }
            Ok(Some((Trace::Prefill(jobs), trace::GOOGLE_ATTRIBUTION.to_string())))
        }
        other => Err(doc.error(&t.format, format!("unknown trace format `{other}` (swf, google-prefill)"))),
    }
}

/// The nodes of `spec.nodePools`, in pool order.
pub fn node_pools(doc: &SimDoc<'_>) -> Result<Vec<crate::objects::Node>, LoadError> {
    let mut nodes = Vec::new();
    for pool in &doc.parsed.value.spec.node_pools {
        if !crate::names::is_dns_subdomain(&pool.name.value) {
            return Err(doc.error(&pool.name, format!("`{}` is not a valid node name prefix", pool.name.value)));
        }
        if pool.count.value == 0 || pool.count.value > 1_000_000 {
            return Err(
                doc.error(&pool.count, format!("a pool of {} nodes is out of range (1 to 1000000)", pool.count.value))
            );
        }
        let allocatable = resources(doc, &pool.cpu, &pool.memory)?;
        for i in 0..pool.count.value {
            let name = format!("{}-{i}", pool.name.value);
            let mut labels = pool.labels.clone();
            labels.insert("kubernetes.io/hostname".into(), name.clone());
            labels.insert("kubernetes.io/os".into(), "linux".into());
            nodes.push(crate::objects::Node {
                name,
                labels,
                taints: Vec::new(),
                allocatable: allocatable.clone(),
                max_pods: pool.max_pods.unwrap_or(crate::objects::DEFAULT_MAX_PODS),
                unschedulable: false,
                images: Vec::new(),
            });
        }
    }
    Ok(nodes)
}

/// `spec.controlPlane`: `None` when absent (the ideal control plane).
pub fn control_plane(
    doc: &SimDoc<'_>,
    dir: &Path,
    allow_outside: bool,
) -> Result<Option<crate::config::ControlPlaneConfig>, LoadError> {
    let files = Files { dir, allow_outside };
    let Some(m) = &doc.parsed.value.spec.control_plane else { return Ok(None) };
    let mut c = crate::config::ControlPlaneConfig::kubernetes();
    let dist = |d: &DistributionManifest| distribution(doc, d, Values::Nanos, WorkloadClass::Batch, files);
    if let Some(a) = &m.api_server {
        if let Some(l) = &a.latency {
            c.api_latency = dist(l)?;
        }
        match (&a.client_qps, &a.client_burst) {
            (None, None) => {}
            (Some(q), b) if q.value > 0 => {
                let burst = b.as_ref().map_or(q.value, |b| b.value).max(1);
                c.client_qps = Some((q.value, burst));
            }
            (Some(q), _) => return Err(doc.error(q, "clientQps must be at least 1")),
            (None, Some(b)) => return Err(doc.error(b, "clientBurst needs clientQps")),
        }
        c.request_timeout = duration_or(doc, &a.request_timeout, c.request_timeout)?;
        if let (Some(t), SimDuration(0)) = (&a.request_timeout, c.request_timeout) {
            return Err(doc.error(t, "a request timeout must be longer than 0"));
        }
    }
    if let Some(e) = &m.etcd {
        c.etcd_commit = dist(&e.commit_latency)?;
    }
    if let Some(w) = &m.watch_delay {
        c.watch_delay = dist(w)?;
    }
    c.node_monitor_grace = duration_or(doc, &m.node_monitor_grace_period, c.node_monitor_grace)?;
    if let Some(r) = &m.watch_drop_rate {
        if !(0.0..=0.5).contains(&r.value) {
            return Err(doc.error(r, "watchDropRate is a fraction from 0 to 0.5"));
        }
        c.watch_drop_rate = r.value;
    }
    c.watch_timeout = duration_or(doc, &m.watch_timeout, c.watch_timeout)?;
    if let (Some(t), SimDuration(0)) = (&m.watch_timeout, c.watch_timeout) {
        return Err(doc.error(t, "a watch timeout must be longer than 0"));
    }
    c.list_per_object = duration_or(doc, &m.list_latency_per_object, c.list_per_object)?;
    if let Some(k) = &m.kubelet {
        c.sandbox = duration_or(doc, &k.sandbox, c.sandbox)?;
        c.container_start = duration_or(doc, &k.container_start, c.container_start)?;
        c.heartbeat = period_or(doc, &k.heartbeat_interval, c.heartbeat, "heartbeatInterval")?;
        let bytes = |v: &Spanned<String>| parse_quantity(&v.value, "memory").map_err(|why| doc.error(v, why));
        if let Some(b) = &k.pull_bandwidth {
            c.pull_bytes_per_second = bytes(b)?.max(1);
        }
        if let Some(b) = &k.default_image_size {
            c.default_image_bytes = bytes(b)?;
        }
    }
    Ok(Some(c))
}

/// `spec.faults`, with their nodes resolved: faults at fixed times, and random processes (each
/// drawn per seed by [`crate::config::FaultProcess::draw`]).
pub fn faults(
    doc: &SimDoc<'_>,
    nodes: &[std::sync::Arc<crate::objects::Node>],
    dir: &Path,
    allow_outside: bool,
    duration: Option<SimDuration>,
) -> Result<(Vec<crate::config::Fault>, Vec<crate::config::FaultProcess>), LoadError> {
    use crate::config::FaultProcess;
    let files = Files { dir, allow_outside };
    let mut out = Vec::new();
    let mut processes = Vec::new();
    for (index, f) in doc.parsed.value.spec.faults.iter().enumerate() {
        let every = fault_every(doc, f, files)?;
        let at = match (&f.at, &every) {
            (Some(at), None) => SimTime::ZERO + doc.duration(at)?,
            (None, Some(_)) => SimTime::ZERO,
            (Some(at), Some(_)) => {
                return Err(doc.error(at, "a fault has `at:` (one, at a fixed time) or `every:` (a process), not both"));
            }
            (None, None) => return Err(doc.error(&f.kind, "a fault needs `at: 5m`, or `every:` for a random process")),
        };
        check_process_fields(doc, f, every.is_some())?;
        let (templates, node_set) = fault_templates(doc, f, nodes, at)?;
        let Some(every) = every else {
            out.extend(templates);
            continue;
        };
        let start = SimTime::ZERO + duration_or(doc, &f.from, SimDuration::ZERO)?;
        let until = match (&f.until, duration) {
            (Some(u), _) => SimTime::ZERO + doc.duration(u)?,
            (None, Some(d)) => SimTime::ZERO + d,
            (None, None) => {
                return Err(doc.src.error_with_help(
                    doc.at(&f.kind),
                    "a random fault process needs an end",
                    "add `until: 1h` to the fault, or a `duration` to the Simulation spec",
                ));
            }
        };
        let recovery = f
            .recovery
            .as_ref()
            .map(|d| distribution(doc, d, Values::Nanos, WorkloadClass::Batch, files))
            .transpose()?;
        let template = templates.into_iter().next().expect("every kind makes a template");
        processes.push(FaultProcess { index, template, every, recovery, nodes: node_set, start, until });
    }
    Ok((out, processes))
}

/// A fault process's gaps (`every:`), if it is one: a mean gap of at least [`MIN_PERIOD`].
fn fault_every(doc: &SimDoc<'_>, f: &FaultManifest, files: Files<'_>) -> Result<Option<Distribution>, LoadError> {
    let every =
        f.every.as_ref().map(|d| distribution(doc, d, Values::Nanos, WorkloadClass::Batch, files)).transpose()?;
    if let (Some(d), Some(m)) = (&every, &f.every)
        && (d.mean().is_nan() || d.mean() < MIN_PERIOD.as_nanos() as f64)
    {
        return Err(doc.error(
            &m.distribution,
            too_short("a fault process's mean gap", &SimDuration(d.mean().max(0.0) as u64).to_string()),
        ));
    }
    Ok(every)
}

/// `recovery:`, `from:` and `until:` belong to a random process: refused on a fixed fault.
fn check_process_fields(doc: &SimDoc<'_>, f: &FaultManifest, process: bool) -> Result<(), LoadError> {
    if let Some(d) = f.recovery.as_ref().filter(|_| !process) {
        return Err(doc.error(&d.distribution, "`recovery:` belongs to a random process (with `every:`)"));
    }
    for (field, name) in [(&f.from, "from"), (&f.until, "until")] {
        if let Some(v) = field.as_ref().filter(|_| !process) {
            return Err(doc.error(v, format!("`{name}:` belongs to a random process (with `every:`)")));
        }
    }
    Ok(())
}

/// The faults one entry makes at `at` (one per node for a fixed node fault; a process's first
/// is its template), and the nodes a process draws its node from.
fn fault_templates(
    doc: &SimDoc<'_>,
    f: &FaultManifest,
    nodes: &[std::sync::Arc<crate::objects::Node>],
    at: SimTime,
) -> Result<(Vec<crate::config::Fault>, Vec<crate::objects::NodeId>), LoadError> {
    use crate::config::{Component, Fault};
    const KINDS: &str =
        "NodeCrash, Partition, EtcdLeaderLoss, ApiServerBrownout, SchedulerCrash, ControllerManagerCrash";
    let recover_after = f.recover_after.as_ref().map(|r| doc.duration(r)).transpose()?;
    let lasting = f.lasting.as_ref().map(|l| doc.duration(l)).transpose()?;
    let restart_after = f.restart_after.as_ref().map(|r| doc.duration(r)).transpose()?;
    let mut node_set = Vec::new();
    let mut templates = Vec::new();
    match f.kind.value.as_str() {
        "NodeCrash" => {
            node_set = fault_nodes(doc, f, nodes, "NodeCrash")?;
            templates.extend(node_set.iter().map(|&node| Fault::NodeCrash { at, node, recover_after }));
        }
        "Partition" => {
            let heal_after = f.heal_after.as_ref().map(|r| doc.duration(r)).transpose()?;
            node_set = fault_nodes(doc, f, nodes, "Partition")?;
            templates.extend(node_set.iter().map(|&node| Fault::Partition { at, node, heal_after }));
        }
        "EtcdLeaderLoss" => {
            templates.push(Fault::EtcdLeaderLoss { at, election: lasting.unwrap_or(SimDuration::from_secs(1)) });
        }
        "ApiServerBrownout" => templates.push(brownout(doc, f, at, lasting)?),
        "SchedulerCrash" | "ControllerManagerCrash" => {
            let component = if f.kind.value == "SchedulerCrash" {
                Component::Scheduler
            } else {
                if let Some(s) = &f.scheduler {
                    return Err(doc.error(s, "`scheduler:` names a scheduler; a ControllerManagerCrash has none"));
                }
                Component::ControllerManager
            };
            let name = f.scheduler.as_ref().map(|s| s.value.clone());
            templates.push(Fault::ComponentCrash { at, component, name, restart_after });
        }
        other => return Err(doc.error(&f.kind, format!("unknown fault type `{other}` ({KINDS})"))),
    }
    Ok((templates, node_set))
}

/// The nodes a node fault (`what`) names: by name, a node pool's, and those a selector's
/// labels match; sorted, each once, at least one.
fn fault_nodes(
    doc: &SimDoc<'_>,
    f: &FaultManifest,
    nodes: &[std::sync::Arc<crate::objects::Node>],
    what: &str,
) -> Result<Vec<crate::objects::NodeId>, LoadError> {
    use crate::objects::NodeId;
    let by_name = |n: &Spanned<String>| {
        nodes
            .iter()
            .position(|x| x.name == n.value)
            .map(|i| NodeId(i as u32))
            .ok_or_else(|| doc.error(n, format!("no node named `{}` in this scenario", n.value)))
    };
    let mut ids: Vec<NodeId> = f.nodes.iter().map(by_name).collect::<Result<_, _>>()?;
    if let Some(pool) = &f.pool {
        let Some(p) = doc.parsed.value.spec.node_pools.iter().find(|p| p.name.value == pool.value) else {
            return Err(doc.error(pool, format!("no node pool named `{}` in `spec.nodePools`", pool.value)));
        };
        for i in 0..p.count.value {
            ids.push(by_name(&Spanned { value: format!("{}-{i}", pool.value), ..pool.clone() })?);
        }
    }
    if let Some(selector) = &f.node_selector {
        let matching = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| selector.value.iter().all(|(k, v)| n.labels.get(k).is_some_and(|l| l == v)));
        let before = ids.len();
        ids.extend(matching.map(|(i, _)| NodeId(i as u32)));
        if ids.len() == before {
            return Err(doc.error(selector, "no node of this scenario has all these labels"));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(doc.error(&f.kind, format!("a {what} needs `nodes: [...]`, `pool:` or `nodeSelector:`")));
    }
    Ok(ids)
}

/// An ApiServerBrownout: slower answers, errors and throttling for a while (`lasting:`, or
/// the draws of a process's `recovery:`).
fn brownout(
    doc: &SimDoc<'_>,
    f: &FaultManifest,
    at: SimTime,
    lasting: Option<SimDuration>,
) -> Result<crate::config::Fault, LoadError> {
    use crate::config::{Brownout, Fault};
    let factor = f.latency_factor.as_ref().map_or(10.0, |v| v.value);
    let rate = f.error_rate.as_ref().map_or(0.2, |v| v.value);
    let throttle_rate = f.throttle_rate.as_ref().map_or(0.0, |v| v.value);
    if !(1.0..=1e6).contains(&factor) {
        return Err(doc.error(f.latency_factor.as_ref().expect("set"), "latencyFactor is 1 to 10^6"));
    }
    if !(0.0..0.99).contains(&rate) {
        return Err(doc.error(f.error_rate.as_ref().expect("set"), "errorRate is a fraction from 0 to 0.99"));
    }
    if !(0.0..0.99).contains(&throttle_rate) {
        return Err(doc.error(f.throttle_rate.as_ref().expect("set"), "throttleRate is a fraction from 0 to 0.99"));
    }
    let retry_after = duration_or(doc, &f.retry_after, SimDuration::from_secs(1))?;
    let timeout = f.timeout.as_ref().map(|t| doc.duration(t)).transpose()?;
    if let (Some(t), Some(SimDuration(0))) = (&f.timeout, timeout) {
        return Err(doc.error(t, "a request timeout must be longer than 0"));
    }
    let lasting = match (lasting, &f.recovery) {
        (Some(l), _) => l,
        (None, Some(_)) => SimDuration::ZERO,
        (None, None) => return Err(doc.error(&f.kind, "an ApiServerBrownout needs `lasting: 30s`")),
    };
    let brownout = Brownout { latency_factor: factor, error_rate: rate, throttle_rate, retry_after, timeout };
    Ok(Fault::ApiServerBrownout { at, lasting, brownout })
}
