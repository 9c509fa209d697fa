//! Generated workloads: jobs drawn from distributions with the run's seed (the Omega paper's
//! batch and service streams, a prefill of jobs already running), expanded into PodGroups and
//! pods. Every policy sees the same job list for the same seed: the draws come from streams
//! named after the generators, never from a scheduler's stream.

use std::sync::Arc;

use rand_chacha::ChaCha8Rng;
use rand_core::Rng;

pub use super::trace::PrefillJob;
use super::{Arrival, ObjectRef, Scenario};
use crate::config::WorkloadClass;
use crate::objects::{GroupId, NodeId, Pod, PodGroup, PodId};
use crate::resources::Resources;
use crate::rng;
use crate::time::{SimDuration, SimTime};

/// The most pods a generated workload may add to one run: past this it is a runaway
/// configuration, not an experiment. Checked before any pod is built. A Google cell's day
/// (`benches/scenarios/google-cell-day.yaml`, about 12 million pods) fits; a pod and what a run
/// keeps for it cost about 250 bytes, so the budget is about 4 GB.
pub const MAX_GENERATED_PODS: u64 = 16_000_000;

/// A distribution of non-negative values (nanoseconds for times, counts for tasks).
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    Constant(f64),
    Exponential {
        mean: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    /// `exp(mu + sigma·Z)`, Z standard normal.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    /// Sorted observations; a draw interpolates between neighbouring quantiles.
    Empirical(Arc<[f64]>),
    /// Another distribution's draw shifted, rounded and bounded (see [`Shaped`]).
    Shaped(Arc<Shaped>),
}

/// A draw of `base`, then `+ offset`, then rounded to a multiple of `step` (if `rounding`),
/// then held within `[at_least, at_most]`: the Omega paper's task counts are
/// `max(1, ceil(Exp(mean)))` (`CoreClusterSimulation.scala`, `ExpExpExpWorkloadGenerator`):
/// `{distribution: exponential, mean: "15", rounding: ceil, atLeast: "1"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Shaped {
    pub base: Distribution,
    pub offset: f64,
    pub rounding: Option<Rounding>,
    /// What the rounding rounds to a multiple of (above 0; 1 for counts, 1 ns for times by
    /// default).
    pub step: f64,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
}

/// How a shaped draw is rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Up: the original's task counts.
    Ceil,
    Floor,
    /// To the nearest, halves away from zero.
    Nearest,
}

impl Shaped {
    fn apply(&self, x: f64) -> f64 {
        let x = x + self.offset;
        let mut x = match self.rounding {
            None => x,
            Some(Rounding::Ceil) => (x / self.step).ceil() * self.step,
            Some(Rounding::Floor) => (x / self.step).floor() * self.step,
            Some(Rounding::Nearest) => round(x / self.step) * self.step,
        };
        if let Some(low) = self.at_least {
            x = x.max(low);
        }
        if let Some(high) = self.at_most {
            x = x.min(high);
        }
        x
    }
}

/// A uniform draw in [0, 1) with 53 random bits.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl Distribution {
    /// The lognormal with the given median and 99th percentile.
    pub fn lognormal(p50: f64, p99: f64) -> Distribution {
        let mu = libm::log(p50);
        // z(0.99) of the standard normal.
        let sigma = (libm::log(p99) - mu) / 2.326_347_874_040_841;
        Distribution::LogNormal { mu, sigma }
    }

    /// One draw. The logarithm is `libm`'s, a pure-Rust port of musl's, so a draw is the same
    /// bits on every machine (the platform's `ln` need not be).
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            Distribution::Constant(v) => *v,
            Distribution::Exponential { mean } => -mean * libm::log(1.0 - unit(rng)),
            Distribution::Uniform { min, max } => min + (max - min) * unit(rng),
            Distribution::LogNormal { mu, sigma } => {
                // Box–Muller, with libm's functions for the same bits everywhere.
                let (u1, u2) = (1.0 - unit(rng), unit(rng));
                let z = libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2);
                libm::exp(mu + sigma * z)
            }
            Distribution::Empirical(values) => {
                // Interpolate between the quantiles below and above: below + f·(above − below).
                // (The original simulator added below + f·(below + above), inflating draws.)
                let position = unit(rng) * (values.len() - 1) as f64;
                let i = position as usize;
                let f = position - i as f64;
                let below = values[i];
                let above = values[(i + 1).min(values.len() - 1)];
                below + f * (above - below)
            }
            Distribution::Shaped(shaped) => shaped.apply(shaped.base.sample(rng)),
        }
    }

    /// Reads the Omega simulator's `<cell> <policy> <0 batch | 1 service> <value>` lines for one
    /// workload class; `scale` converts the file's unit (seconds → ns, or 1 for counts).
    pub fn empirical_from_omega_log(text: &str, class: WorkloadClass, scale: f64) -> Result<Distribution, String> {
        let select = super::trace::OmegaSelect { class, cell: None, policy: None };
        super::trace::read_omega_distribution(text.as_bytes(), select, scale)
            .map(|values| Distribution::Empirical(values.into()))
            .map_err(|e| if e.line == 0 { e.message } else { format!("line {}: {}", e.line, e.message) })
    }
}

/// A stream of identical-task jobs.
#[derive(Clone, Debug, PartialEq)]
pub struct Generator {
    pub name: String,
    pub workload: WorkloadClass,
    pub inter_arrival_ns: Distribution,
    pub tasks: Distribution,
    pub run_for_ns: Distribution,
    /// Per task.
    pub requests: Resources,
    pub until: Option<SimTime>,
    pub count: Option<u64>,
    pub scheduler_name: Option<String>,
}

/// Jobs running before the run starts, drawn until the cell's CPU is `cpu_utilisation` full and
/// placed by random first fit, bound before any scheduler sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct Prefill {
    pub cpu_utilisation: f64,
    pub workload: WorkloadClass,
    pub tasks: Distribution,
    pub requests: Resources,
    pub run_for_ns: Option<Distribution>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Workload {
    pub generators: Vec<Generator>,
    pub prefill: Option<Prefill>,
    /// Jobs already running at t = 0, listed (`prefillJobs:`) or read from a prefill trace;
    /// placed per seed by random first fit, as the Omega simulator prefills its cell.
    pub prefill_jobs: Vec<PrefillJob>,
    pub rate_multiplier: f64,
}

impl Workload {
    pub fn is_empty(&self) -> bool {
        self.generators.is_empty() && self.prefill.is_none() && self.prefill_jobs.is_empty()
    }
}

/// Adds one job — a lone pod, or a PodGroup of `tasks` pods — to the scenario, its pods held
/// whole (a generator's jobs are rows of `Pods` instead).
///
/// The job's pods share the template's spec; and a job whose spec equals the previous pod's
/// (the next job of a trace or a prefill) shares that one instead, so a trace's many jobs
/// keep a handful of specs rather than one copy per job.
pub(super) fn add_job(s: &mut Scenario, name: &str, at: SimTime, tasks: u32, template: &Pod) {
    let mut pod = template.clone();
    if let Some(last) = s.pods.held().last()
        && !Arc::ptr_eq(&last.spec, &pod.spec)
        && last.spec == pod.spec
    {
        pod.spec = Arc::clone(&last.spec);
    }
    if tasks > 1 {
        pod.set_group(Some(add_group(s, name, at, tasks, template)));
    }
    for k in 0..tasks {
        let mut p = pod.clone();
        p.name = if tasks > 1 { format!("{name}-{k}").into() } else { name.into() };
        let id = s.pods.push(Arc::new(p));
        s.arrivals.push(Arrival { at, object: ObjectRef::Pod(id) });
    }
}

/// The PodGroup of a rigid job of `tasks` pods of `template`, arriving at `at`.
fn add_group(s: &mut Scenario, name: &str, at: SimTime, tasks: u32, template: &Pod) -> GroupId {
    let group = GroupId(s.groups.len() as u32);
    // A rigid job asks for all its tasks at once, so its PodGroup states their sum as
    // `minResources`, as a coscheduling user writes it for an MPI job: coscheduling's
    // PreFilter then turns the gang away while the cluster lacks that much free, instead
    // of letting members reserve nodes only to be rejected.
    let each = template.part_requests(crate::objects::Part::Whole);
    let mut min_resources = Resources::new(each.cpu_milli * u64::from(tasks), each.memory_bytes * u64::from(tasks));
    for (name, value) in &each.extended {
        min_resources.set(name, value * u64::from(tasks));
    }
    s.groups.push(Arc::new(PodGroup {
        namespace: template.namespace.as_str().into(),
        name: name.into(),
        min_member: tasks,
        schedule_timeout: None,
        min_resources: Some(min_resources),
    }));
    s.arrivals.push(Arrival { at, object: ObjectRef::Group(group) });
    group
}

/// A pod template: one container `task` asking for `requests`, of the given class.
pub fn task_template(
    requests: &Resources,
    workload: WorkloadClass,
    run_for: Option<SimDuration>,
    scheduler_name: Option<&str>,
) -> Pod {
    let mut pod = Pod::single("task", requests.clone());
    pod.containers[0].name = "task".into();
    pod.workload = workload;
    pod.labels.insert("podlab.dev/workload".into(), workload.as_str().into());
    pod.set_run_for(run_for);
    if let Some(name) = scheduler_name {
        pod.scheduler_name = name.to_string();
    }
    pod
}

/// `x.round()` — halves away from zero — to the bit, without the call into libm that it is on
/// x86-64's baseline (no SSE4.1 `roundsd`): a generated workload rounds four draws a job, and
/// draws every job twice (counted against the budget, then built), so a million jobs took
/// eight million calls.
#[inline]
fn round(x: f64) -> f64 {
    /// From 2^52 on every double is a whole number.
    const WHOLE_FROM: f64 = 4_503_599_627_370_496.0;
    if x.is_nan() || x.abs() >= WHOLE_FROM {
        return x; // NaN, infinite, or whole already
    }
    // Both exact below 2^52: the conversion truncates, and the fraction is representable.
    let truncated = x as i64 as f64;
    let fraction = x - truncated;
    let rounded = if fraction >= 0.5 {
        truncated + 1.0
    } else if fraction <= -0.5 {
        truncated - 1.0
    } else {
        truncated
    };
    rounded.copysign(x) // -0.3 rounds to -0.0, as `f64::round` does
}

fn draw_tasks(d: &Distribution, rng: &mut ChaCha8Rng) -> u32 {
    round(d.sample(rng)).clamp(1.0, 1_000_000.0) as u32
}

fn draw_ns(d: &Distribution, rng: &mut ChaCha8Rng) -> SimDuration {
    SimDuration(round(d.sample(rng)).clamp(0.0, crate::time::MAX_DURATION.0 as f64) as u64)
}

/// Counts the pods the workload would generate for `seed` — the generators' very draws, on
/// streams of their own, and the prefill's upper bound — and refuses a runaway workload
/// before a single pod is built.
fn generated_pods_within_budget(base: &Scenario, seed: u64) -> Result<(), String> {
    let too_many =
        || format!("the workload generates more than {MAX_GENERATED_PODS} pods; lower `count`, `until` or the rates");
    let w = &base.workload;
    let mut total: u64 = w.prefill_jobs.iter().map(|j| u64::from(j.tasks)).sum();
    if let Some(p) = &w.prefill {
        // Every prefilled task takes `cpu` (above zero: the loader says so) of the target.
        let cpu_milli: u64 = base.nodes.iter().map(|n| n.allocatable.cpu_milli).sum();
        let target_milli = (cpu_milli as f64 * p.cpu_utilisation.clamp(0.0, 1.0)) as u64;
        total = target_milli.div_ceil(p.requests.cpu_milli.max(1));
        if total > MAX_GENERATED_PODS {
            return Err(too_many());
        }
    }
    for g in &w.generators {
        for (_, _, tasks, _) in jobs(g, seed, w.rate_multiplier) {
            total += u64::from(tasks);
            if total > MAX_GENERATED_PODS {
                return Err(too_many());
            }
        }
    }
    Ok(())
}

/// A generator's jobs for `seed`: (index, arrival, tasks, run time), drawn in one fixed order
/// from its own stream — so counting them ahead and building them draw the very same jobs.
fn jobs(g: &Generator, seed: u64, rate_multiplier: f64) -> impl Iterator<Item = (u64, SimTime, u32, SimDuration)> + '_ {
    let mut rng = rng::stream(seed, &format!("workload/{}", g.name));
    let mut at = SimTime::ZERO;
    let mut n = 0u64;
    std::iter::from_fn(move || {
        let gap = draw_ns(&g.inter_arrival_ns, &mut rng);
        at += SimDuration(round(gap.0 as f64 / rate_multiplier.max(1e-9)) as u64);
        if g.until.is_some_and(|until| at > until) || g.count.is_some_and(|c| n >= c) {
            return None;
        }
        let tasks = draw_tasks(&g.tasks, &mut rng);
        let run_for = draw_ns(&g.run_for_ns, &mut rng);
        n += 1;
        Some((n - 1, at, tasks, run_for))
    })
}

/// The nodes present at t = 0, which a prefill fills.
fn nodes_at_start(base: &Scenario) -> Vec<NodeId> {
    base.arrivals
        .iter()
        .filter(|a| a.at == SimTime::ZERO)
        .filter_map(|a| match a.object {
            ObjectRef::Node(n) => Some(n),
            _ => None,
        })
        .collect()
}

/// Places listed prefill jobs as the Omega simulator's prefill scheduler does: each job in
/// order, each task by random first fit (nodes from a random start, the first with room —
/// several tasks may share a node), bound by `spec.nodeName` at t = 0. Tasks that fit nowhere
/// are left out (the original drops them too), and a job keeps the tasks that were placed.
fn prefill_listed_jobs(base: &Scenario, s: &mut Scenario, jobs: &[PrefillJob], seed: u64) {
    let mut rng = rng::stream(seed, "workload/prefill-jobs");
    let nodes = nodes_at_start(base);
    let mut free: Vec<Resources> = nodes.iter().map(|n| base.nodes[n.index()].allocatable.clone()).collect();
    let mut slots: Vec<u64> = nodes.iter().map(|n| base.nodes[n.index()].max_pods).collect();
    for job in jobs {
        let requests = Resources::new(job.cpu_milli_per_task, job.memory_bytes_per_task);
        let mut placed: Vec<NodeId> = Vec::new();
        for _ in 0..job.tasks {
            if nodes.is_empty() {
                break;
            }
            let start = rng::below(&mut rng, nodes.len() as u64) as usize;
            let slot = (0..nodes.len())
                .map(|k| (start + k) % nodes.len())
                .find(|&k| slots[k] > 0 && requests.fits_in(&free[k]));
            // The job's tasks are identical: once one fits nowhere, none of the rest will.
            let Some(k) = slot else { break };
            free[k].sub(&requests);
            slots[k] -= 1;
            placed.push(nodes[k]);
        }
        if placed.is_empty() {
            continue;
        }
        let run_for = job.run_for;
        let first = s.pods.len();
        let template = task_template(&requests, job.workload, run_for, None);
        add_job(s, &format!("prefill-{}", job.id), SimTime::ZERO, placed.len() as u32, &template);
        for (i, node) in (first..s.pods.len()).zip(placed) {
            Arc::make_mut(&mut s.pods.held_mut()[i]).set_node_name(Some(node));
        }
    }
}

/// The scenario with its generated workload for `seed`: the same jobs for every policy.
pub fn instantiate(base: &Scenario, seed: u64) -> Result<Scenario, String> {
    let mut s = base.clone();
    let w = &base.workload;
    if w.is_empty() {
        return Ok(s);
    }
    generated_pods_within_budget(base, seed)?;
    let budget = |s: &Scenario| {
        if (s.pods.len() - base.pods.len()) as u64 > MAX_GENERATED_PODS {
            Err(format!(
                "the workload generates more than {MAX_GENERATED_PODS} pods; lower `count`, `until` or the rates"
            ))
        } else {
            Ok(())
        }
    };
    if !w.prefill_jobs.is_empty() {
        prefill_listed_jobs(base, &mut s, &w.prefill_jobs, seed);
    }
    if let Some(p) = &w.prefill {
        let mut rng = rng::stream(seed, "workload/prefill");
        // The cell at t = 0, and a scratch copy of what is free on it.
        let nodes = nodes_at_start(base);
        let mut free: Vec<Resources> = nodes.iter().map(|n| base.nodes[n.index()].allocatable.clone()).collect();
        // Pods each node may still take: a prefill past `maxPods` was refused at arrival and
        // stayed pending forever (found by the swarm).
        let mut slots: Vec<u64> = nodes.iter().map(|n| base.nodes[n.index()].max_pods).collect();
        let total_cpu_milli: u64 = free.iter().map(|r| r.cpu_milli).sum();
        let target_milli = (total_cpu_milli as f64 * p.cpu_utilisation.clamp(0.0, 1.0)) as u64;
        let mut used_milli = 0u64;
        let mut job = 0u64;
        // One template for every prefill job: only the run time differs, and that is per pod.
        let mut template = task_template(&p.requests, p.workload, None, None);
        while used_milli < target_milli && !nodes.is_empty() {
            let tasks = draw_tasks(&p.tasks, &mut rng);
            template.set_run_for(p.run_for_ns.as_ref().map(|d| draw_ns(d, &mut rng)));
            let name = format!("prefill-{job}");
            let first = s.pods.len();
            add_job(&mut s, &name, SimTime::ZERO, tasks, &template);
            // Random first fit, task by task; a task that fits nowhere is dropped from the prefill.
            let mut kept = first;
            for i in first..s.pods.len() {
                let start = rng::below(&mut rng, nodes.len() as u64) as usize;
                let slot = (0..nodes.len())
                    .map(|k| (start + k) % nodes.len())
                    .find(|&k| slots[k] > 0 && p.requests.fits_in(&free[k]));
                if let Some(k) = slot {
                    free[k].sub(&p.requests);
                    slots[k] -= 1;
                    used_milli += p.requests.cpu_milli;
                    Arc::make_mut(&mut s.pods.held_mut()[i]).set_node_name(Some(nodes[k]));
                    s.pods.held_mut().swap(kept, i);
                    kept += 1;
                }
            }
            if kept == first {
                // The cell is as full as first fit can make it.
                s.pods.held_mut().truncate(first);
                s.arrivals.retain(|a| !matches!(a.object, ObjectRef::Pod(p) if p.index() >= first));
                if tasks > 1 {
                    s.groups.pop();
                    s.arrivals.retain(|a| !matches!(a.object, ObjectRef::Group(g) if g.index() >= s.groups.len()));
                }
                break;
            }
            s.pods.held_mut().truncate(kept);
            s.arrivals.retain(|a| !matches!(a.object, ObjectRef::Pod(p) if p.index() >= kept));
            job += 1;
            budget(&s)?;
        }
    }
    for g in &w.generators {
        // One template per generator: its jobs differ only in run time, which is per pod, and
        // its pods are kept as the rows drawn for them (`Pods`), not as pods.
        let template = task_template(&g.requests, g.workload, None, g.scheduler_name.as_deref());
        s.pods.start_generator(&g.name, template.clone());
        for (n, at, tasks, run_for) in jobs(g, seed, w.rate_multiplier) {
            let group = (tasks > 1).then(|| add_group(&mut s, &format!("{}-{n}", g.name), at, tasks, &template));
            let first = s.pods.push_job(tasks, run_for, group);
            s.arrivals.extend((first.0..first.0 + tasks).map(|p| Arrival { at, object: ObjectRef::Pod(PodId(p)) }));
            budget(&s)?;
        }
    }
    s.arrivals.sort_by_key(|a| a.at); // stable: creation order within an instant
    // Grown by doubling: up to half of each list is slack, which a run holds to its end.
    s.arrivals.shrink_to_fit();
    s.pods.shrink_to_fit();
    s.groups.shrink_to_fit();
    s.workload = Workload::default();
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The workload's rounding is `f64::round` to the bit: on the halves and their neighbours,
    /// at and around 2^52 and 2^53, on zeros, infinities and NaN, and on a million random bit
    /// patterns and a million draws of the sizes workloads use.
    #[test]
    fn round_is_f64_round() {
        let same = |x: f64| {
            let (ours, std) = (round(x), x.round());
            assert!(ours.to_bits() == std.to_bits() || (ours.is_nan() && std.is_nan()), "{x:e}: {ours:e} ≠ {std:e}");
        };
        let mut edges = vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, f64::MAX, f64::MIN_POSITIVE];
        for whole in [0.0f64, 1.0, 2.0, 1e6, 4_503_599_627_370_495.0, 4_503_599_627_370_496.0, 9_007_199_254_740_992.0]
        {
            for x in [whole - 0.5, whole + 0.5, whole, whole + 0.25, whole + 0.75] {
                edges.extend([x, x.next_up(), x.next_down()]);
            }
        }
        for x in edges {
            same(x);
            same(-x);
        }
        let mut rng = rng::stream(7, "round");
        for _ in 0..1_000_000 {
            same(f64::from_bits(rng.next_u64()));
            same(unit(&mut rng) * 1e12 - 1e6);
        }
    }

    /// Empirical draws stay within the observed range and interpolate between quantiles.
    #[test]
    fn empirical_draws_interpolate() {
        let text = "c p 0 1\nc p 0 3\nc p 1 100\n";
        let d = Distribution::empirical_from_omega_log(text, WorkloadClass::Batch, 1.0).unwrap();
        assert_eq!(d, Distribution::Empirical(vec![1.0, 3.0].into()));
        let mut rng = rng::stream(1, "t");
        let draws: Vec<f64> = (0..1000).map(|_| d.sample(&mut rng)).collect();
        assert!(draws.iter().all(|&v| (1.0..=3.0).contains(&v)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 2.0).abs() < 0.1, "mean {mean}");
        assert!(Distribution::empirical_from_omega_log("c p 0 x\n", WorkloadClass::Batch, 1.0).is_err());
        assert!(Distribution::empirical_from_omega_log("c p 0 1\n", WorkloadClass::Service, 1.0).is_err());
    }

    /// A shaped draw is the base's, shifted, rounded to its step and bounded: the paper's task
    /// counts `max(1, ceil(Exp(mean)))` draw for draw.
    #[test]
    fn shaped_draws_are_exact() {
        let exp = Distribution::Exponential { mean: 15.0 };
        let shaped = |rounding, offset, step, at_least, at_most| {
            Distribution::Shaped(Arc::new(Shaped { base: exp.clone(), offset, rounding, step, at_least, at_most }))
        };
        let paper = shaped(Some(Rounding::Ceil), 0.0, 1.0, Some(1.0), None);
        let (mut a, mut b) = (rng::stream(5, "t"), rng::stream(5, "t"));
        for _ in 0..10_000 {
            let (x, y) = (exp.sample(&mut a), paper.sample(&mut b));
            assert_eq!(y, x.ceil().max(1.0));
        }
        let mut r = rng::stream(6, "t");
        for _ in 0..1000 {
            let x = shaped(Some(Rounding::Floor), 2.5, 5.0, Some(10.0), Some(30.0)).sample(&mut r);
            assert!(x % 5.0 == 0.0 && (10.0..=30.0).contains(&x), "{x}");
            let y = shaped(Some(Rounding::Nearest), 0.0, 1.0, None, None).sample(&mut r);
            assert_eq!(y, y.round());
        }
        let y = shaped(None, -1e12, 1.0, Some(0.0), None).sample(&mut r);
        assert_eq!(y, 0.0);
    }

    /// Exponential draws have the requested mean.
    #[test]
    fn exponential_mean() {
        let d = Distribution::Exponential { mean: 10.0 };
        let mut rng = rng::stream(2, "t");
        let mean = (0..20_000).map(|_| d.sample(&mut rng)).sum::<f64>() / 20_000.0;
        assert!((mean - 10.0).abs() < 0.3, "mean {mean}");
    }
}
