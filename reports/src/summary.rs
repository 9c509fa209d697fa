//! The metrics of one run (`summary.json`, schema `podlab.summary/v1`), computed from records.

use serde::Serialize;

use podlab_cluster::scenario::Scenario;
use podlab_cluster::{Phase, PodId, Record, Records, SimTime};

use crate::control_plane::{ControlPlaneMetrics, control_plane_metrics};
use crate::outcome::Outcomes;
use crate::scheduling::{SchedulingMetrics, scheduling_metrics};
use crate::workloads::{WorkloadMetrics, workload_metrics};

pub const SUMMARY_SCHEMA: &str = "podlab.summary/v1";

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    pub schema: &'static str,
    pub scenario: String,
    pub policy: String,
    pub seed: u64,
    pub digest: String,
    pub end_ns: u64,
    pub events: u64,
    pub pods: PodCounts,
    pub colocation: Colocation,
    pub time_to_schedule: Percentiles,
    pub unschedulable_attempts: u64,
    pub bind_refusals: u64,
    pub utilisation: Utilisation,
    /// Jobs, schedulers' work, idle holdings and deadlocks.
    #[serde(flatten)]
    pub scheduling: SchedulingMetrics,
    /// Start-up, API latency, failure detection, replicas lost and restored.
    pub control_plane: ControlPlaneMetrics,
    /// Deployment rollouts and Jobs.
    pub workloads: WorkloadMetrics,
}

/// Where every pod of the scenario stands at the end of the run.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PodCounts {
    pub total: u64,
    /// Pods whose every part was bound at some point.
    pub scheduled: u64,
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Pods deleted (by a controller) before they were bound: not pending any more.
    pub deleted: u64,
    /// Pods due after the run ended.
    pub not_arrived: u64,
}

/// The co-scheduling failures: parts of one pod or group on different nodes, and placements
/// left half done.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Colocation {
    /// Split pods plus split groups.
    pub violations: u64,
    pub split_pods: u64,
    pub split_groups: u64,
    pub partial_pods: u64,
    pub partial_groups: u64,
}

/// A distribution of durations, in nanoseconds (nearest-rank percentiles).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Percentiles {
    pub count: u64,
    pub mean_ns: Option<u64>,
    pub p50_ns: Option<u64>,
    pub p90_ns: Option<u64>,
    pub p99_ns: Option<u64>,
    pub max_ns: Option<u64>,
}

impl Percentiles {
    pub fn of(mut values: Vec<u64>) -> Percentiles {
        values.sort_unstable();
        let n = values.len();
        let rank = |q: u64| (n > 0).then(|| values[((q as usize * n).div_ceil(100)).max(1) - 1]);
        Percentiles {
            count: n as u64,
            mean_ns: (n > 0).then(|| (values.iter().map(|&v| v as u128).sum::<u128>() / n as u128) as u64),
            p50_ns: rank(50),
            p90_ns: rank(90),
            p99_ns: rank(99),
            max_ns: values.last().copied(),
        }
    }
}

/// Requested resources as a share of the allocatable resources of the nodes present, averaged
/// over the run.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Utilisation {
    pub cpu: f64,
    pub memory: f64,
}

/// Who ran what, for the summary's header.
pub struct RunInfo<'a> {
    pub policy: &'a str,
    /// The run's controllers, by id.
    pub controllers: &'a [String],
    pub seed: u64,
    pub digest: &'a str,
    pub end: SimTime,
    pub events: u64,
}

pub fn summarize(scenario: &Scenario, records: &Records, info: &RunInfo<'_>) -> Summary {
    let outcomes = Outcomes::replay(scenario, records, info.end);
    let mut pods = PodCounts { total: scenario.pods.len() as u64, ..PodCounts::default() };
    let mut colocation = Colocation::default();
    let mut waits = Vec::new();
    for (i, o) in outcomes.pods.iter().enumerate() {
        let id = PodId(i as u32);
        match outcomes.phase(scenario, id) {
            None => pods.not_arrived += 1,
            Some(Phase::Pending) if o.deleted => pods.deleted += 1,
            Some(Phase::Pending) => pods.pending += 1,
            Some(Phase::Running) => pods.running += 1,
            Some(Phase::Succeeded) => pods.succeeded += 1,
            Some(Phase::Failed) => pods.failed += 1,
        }
        if let (Some(created), Some(scheduled)) = (o.created_at(), o.scheduled_at()) {
            pods.scheduled += 1;
            waits.push(scheduled.since(created).as_nanos());
        }
        colocation.split_pods += o.split() as u64;
        colocation.partial_pods += o.partial as u64;
    }
    for members in scenario.group_members() {
        colocation.split_groups += (outcomes.group_nodes(&members).len() > 1) as u64;
    }
    colocation.partial_groups = outcomes.partial_groups.len() as u64;
    colocation.violations = colocation.split_pods + colocation.split_groups;
    let (utilisation, unschedulable_attempts, bind_refusals) = utilisation_and_counts(scenario, records, info.end);
    let time_to_schedule = Percentiles::of(waits);
    let scheduling = scheduling_metrics(scenario, info.controllers, records, &outcomes, info.end);
    // A run's books are one per pod: the next passes need none of them.
    drop(outcomes);
    Summary {
        schema: SUMMARY_SCHEMA,
        scenario: scenario.name.clone(),
        policy: info.policy.to_string(),
        seed: info.seed,
        digest: info.digest.to_string(),
        end_ns: info.end.as_nanos(),
        events: info.events,
        pods,
        colocation,
        time_to_schedule,
        unschedulable_attempts,
        bind_refusals,
        utilisation,
        scheduling,
        control_plane: control_plane_metrics(scenario, records, info.end),
        workloads: workload_metrics(scenario, records, info.end),
    }
}

/// ∫ requested dt ÷ ∫ allocatable dt over [0, end], per resource, in exact integers until the
/// final division; and, in the same pass over the records, the unschedulable and refused
/// binding records of the whole run.
fn utilisation_and_counts(scenario: &Scenario, records: &Records, end: SimTime) -> (Utilisation, u64, u64) {
    let (mut unschedulable, mut refused) = (0, 0);
    let (mut used, mut capacity) = ([0u128; 2], [0u128; 2]);
    let (mut used_area, mut capacity_area) = ([0u128; 2], [0u128; 2]);
    let mut last = SimTime::ZERO;
    let mut advance = |to: SimTime, used: &[u128; 2], capacity: &[u128; 2]| {
        let dt = to.since(last).as_nanos() as u128;
        for r in 0..2 {
            used_area[r] += used[r] * dt;
            capacity_area[r] += capacity[r] * dt;
        }
        last = to;
    };
    for s in records.iter() {
        match s.record {
            Record::Unschedulable { .. } => unschedulable += 1,
            Record::BindRefused { .. } => refused += 1,
            _ => {}
        }
        if s.time > end {
            continue;
        }
        advance(s.time, &used, &capacity);
        let amounts = |r: &podlab_cluster::Resources| [r.cpu_milli as u128, r.memory_bytes as u128];
        match &s.record {
            Record::NodeAdded { node } => {
                let a = amounts(&scenario.nodes[node.index()].allocatable);
                capacity = [capacity[0] + a[0], capacity[1] + a[1]];
            }
            Record::Bound { pod, part, .. } => {
                let a = amounts(scenario.pods[pod.index()].part_requests(*part));
                used = [used[0] + a[0], used[1] + a[1]];
            }
            Record::Ended { pod, part, .. } => {
                let a = amounts(scenario.pods[pod.index()].part_requests(*part));
                used = [used[0] - a[0], used[1] - a[1]];
            }
            _ => {}
        }
    }
    advance(end, &used, &capacity);
    let ratio = |r: usize| if capacity_area[r] == 0 { 0.0 } else { used_area[r] as f64 / capacity_area[r] as f64 };
    (Utilisation { cpu: ratio(0), memory: ratio(1) }, unschedulable, refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Percentiles use the nearest rank, so every reported value is one that occurred.
    #[test]
    fn nearest_rank_percentiles() {
        let p = Percentiles::of((1..=100).collect());
        assert_eq!(
            (p.p50_ns, p.p90_ns, p.p99_ns, p.max_ns, p.mean_ns),
            (Some(50), Some(90), Some(99), Some(100), Some(50))
        );
        let p = Percentiles::of(vec![7]);
        assert_eq!((p.p50_ns, p.p99_ns), (Some(7), Some(7)));
        assert_eq!(Percentiles::of(vec![]).p50_ns, None);
    }
}
