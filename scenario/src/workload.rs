//! Generated workloads: jobs drawn from distributions with the run's seed (the Omega paper's
//! batch and service streams, a prefill of jobs already running), expanded into PodGroups and
//! pods. Every policy sees the same job list for the same seed: the draws come from streams
//! named after the generators, never from a scheduler's stream.

use std::sync::Arc;

use rand_chacha::ChaCha8Rng;

use podlab_cluster::scenario::{Arrival, ObjectRef, Scenario};
use podlab_cluster::workload::{Distribution, Generator, PrefillJob, Workload, round};

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
    // Saturating: a sum past u64's end is never free, so the gang waits just as it would for
    // the true sum (coscheduling only compares it with what is free).
    let each = template.part_requests(crate::objects::Part::Whole);
    let times = |v: u64| v.saturating_mul(u64::from(tasks));
    let mut min_resources = Resources::new(times(each.cpu_milli), times(each.memory_bytes));
    for (name, value) in &each.extended {
        min_resources.set(name, times(*value));
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
    use podlab_cluster::workload::unit;
    use rand_core::Rng;

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
}
