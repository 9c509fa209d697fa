//! Time series rebuilt from a run's records for charts and traces: resources allocated and
//! available over time (cluster-wide and per node), and each bound part's span on its node.

use podlab_cluster::scenario::Scenario;
use std::collections::{BTreeMap, BTreeSet};

use podlab_cluster::{JobRef, NodeId, Note, Part, PodId, Record, Records, SimTime};

use crate::outcome::Outcomes;

/// CPU and memory, exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Amounts {
    pub cpu_milli: u64,
    pub memory_bytes: u64,
}

impl Amounts {
    fn of(r: &podlab_cluster::Resources) -> Amounts {
        Amounts { cpu_milli: r.cpu_milli, memory_bytes: r.memory_bytes }
    }

    fn add(&mut self, other: Amounts) {
        self.cpu_milli += other.cpu_milli;
        self.memory_bytes += other.memory_bytes;
    }

    /// Saturating: a record stream cut mid-way can end a part it never saw bound.
    fn sub(&mut self, other: Amounts) {
        self.cpu_milli = self.cpu_milli.saturating_sub(other.cpu_milli);
        self.memory_bytes = self.memory_bytes.saturating_sub(other.memory_bytes);
    }
}

/// One change of a node's books, at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeChange {
    pub time: SimTime,
    pub node: NodeId,
    /// Allocated (requested by bound parts) on the node after the change.
    pub allocated: Amounts,
    /// Allocatable on the node after the change.
    pub capacity: Amounts,
}

/// Every change of any node's allocated or allocatable resources, in record order: a node
/// joining adds its allocatable, a bound part adds its requests, an ended part takes them back.
pub fn node_changes(scenario: &Scenario, records: &Records, end: SimTime) -> Vec<NodeChange> {
    let mut allocated = vec![Amounts::default(); scenario.nodes.len()];
    let mut capacity = vec![Amounts::default(); scenario.nodes.len()];
    let mut out = Vec::new();
    for s in records.iter().take_while(|s| s.time <= end) {
        let node = match &s.record {
            Record::NodeAdded { node } => {
                capacity[node.index()].add(Amounts::of(&scenario.nodes[node.index()].allocatable));
                *node
            }
            Record::Bound { pod, part, node } => {
                allocated[node.index()].add(Amounts::of(scenario.pods.spec(*pod).part_requests(*part)));
                *node
            }
            Record::Ended { pod, part, node, .. } => {
                allocated[node.index()].sub(Amounts::of(scenario.pods.spec(*pod).part_requests(*part)));
                *node
            }
            // Other records (and any added later) change no node's books.
            _ => continue,
        };
        out.push(NodeChange {
            time: s.time,
            node,
            allocated: allocated[node.index()],
            capacity: capacity[node.index()],
        });
    }
    out
}

/// The cluster's allocated and allocatable resources from one instant on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClusterPoint {
    pub t_ns: u64,
    pub allocated: Amounts,
    pub capacity: Amounts,
}

/// Cluster-wide totals as a step function: one point per instant at which they changed (the
/// last state of that instant), starting at 0 and closed by a point at `end`. With more than
/// `max_points` instants, each of `max_points` equal time buckets keeps its last state, so a
/// long run still charts in bounded size.
pub fn cluster_steps(scenario: &Scenario, records: &Records, end: SimTime, max_points: usize) -> Vec<ClusterPoint> {
    let mut allocated = Amounts::default();
    let mut capacity = Amounts::default();
    let mut by_node = vec![(Amounts::default(), Amounts::default()); scenario.nodes.len()];
    let mut points: Vec<ClusterPoint> = vec![ClusterPoint { t_ns: 0, allocated, capacity }];
    for c in node_changes(scenario, records, end) {
        let (old_allocated, old_capacity) = by_node[c.node.index()];
        allocated.sub(old_allocated);
        allocated.add(c.allocated);
        capacity.sub(old_capacity);
        capacity.add(c.capacity);
        by_node[c.node.index()] = (c.allocated, c.capacity);
        let point = ClusterPoint { t_ns: c.time.as_nanos(), allocated, capacity };
        match points.last_mut() {
            Some(last) if last.t_ns == point.t_ns => *last = point,
            _ => points.push(point),
        }
    }
    let closing = ClusterPoint { t_ns: end.as_nanos(), ..*points.last().expect("starts with one point") };
    if closing.t_ns > points.last().map_or(0, |p| p.t_ns) {
        points.push(closing);
    }
    if points.len() > max_points && max_points >= 2 && end.as_nanos() > 0 {
        let bucket_ns = end.as_nanos().div_ceil(max_points as u64 - 1).max(1);
        let mut kept: Vec<ClusterPoint> = Vec::with_capacity(max_points);
        for p in points {
            let bucketed = ClusterPoint { t_ns: p.t_ns / bucket_ns * bucket_ns, ..p };
            match kept.last_mut() {
                Some(last) if last.t_ns == bucketed.t_ns => *last = bucketed,
                _ => kept.push(bucketed),
            }
        }
        points = kept;
    }
    points
}

/// One bound part, from its binding to its end (or the end of the run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub pod: PodId,
    pub part: Part,
    pub node: NodeId,
    pub start: SimTime,
    pub end: SimTime,
    /// Whether the part ended by the end of the run (else it was still running).
    pub ended: bool,
}

/// Every bound part's span, in pod order then binding order.
pub fn spans(outcomes: &Outcomes, end: SimTime) -> Vec<Span> {
    let mut out = Vec::new();
    for (i, o) in outcomes.pods.iter().enumerate() {
        for run in &o.runs {
            let (stop, ended) = run.ended().map_or((end.max(run.bound_at), false), |(t, _)| (t, true));
            out.push(Span {
                pod: PodId(i as u32),
                part: run.part(),
                node: run.node,
                start: run.bound_at,
                end: stop,
                ended,
            });
        }
    }
    out
}

/// Each scheduled pod's wait from creation to its last part's binding, in nanoseconds, sorted.
pub fn schedule_waits_ns(outcomes: &Outcomes) -> Vec<u64> {
    let mut waits: Vec<u64> =
        outcomes.pods.iter().filter_map(|o| Some(o.scheduled_at()?.since(o.created_at()?).as_nanos())).collect();
    waits.sort_unstable();
    waits
}

/// The pods never scheduled: their waits (censored) and why they waited.
pub struct NeverScheduled {
    /// Each one's wait until its deletion or the run's end, sorted.
    pub waits_ns: Vec<u64>,
    /// `pod NAME: Reason: message` for the first `max` of them, then how many more.
    pub listed: Vec<String>,
}

/// The pods created and never scheduled by `end`: how long each waited (until deleted, or the
/// end) and why — the scheduler's last `Unschedulable` message, or its job abandoned by the
/// Omega paper's schedulers (`controllers` name who).
pub fn never_scheduled(
    scenario: &Scenario,
    records: &Records,
    outcomes: &Outcomes,
    end: SimTime,
    controllers: &[String],
    max: usize,
) -> NeverScheduled {
    let waiting: Vec<PodId> = (0..outcomes.pods.len())
        .filter(|&i| outcomes.pods[i].created_at().is_some() && outcomes.pods[i].scheduled_at().is_none())
        .map(|i| PodId(i as u32))
        .collect();
    let mut deleted: BTreeMap<PodId, SimTime> = BTreeMap::new();
    let mut why: BTreeMap<PodId, String> = BTreeMap::new();
    if !waiting.is_empty() {
        let mut is_waiting = vec![false; outcomes.pods.len()];
        waiting.iter().for_each(|p| is_waiting[p.index()] = true);
        let listed: BTreeSet<PodId> = waiting.iter().take(max).copied().collect();
        for s in records.iter().take_while(|s| s.time <= end) {
            match &s.record {
                Record::PodDeleted { pod } if is_waiting.get(pod.index()).copied().unwrap_or(false) => {
                    deleted.insert(*pod, s.time);
                }
                Record::Unschedulable { pod, message, .. } if listed.contains(pod) => {
                    why.insert(*pod, format!("Unschedulable: {message}"));
                }
                Record::Note { by, note: Note::Abandoned { job } } => {
                    let name = controllers.get(by.index()).map_or("its scheduler", String::as_str);
                    for pod in &listed {
                        let of_job = match job {
                            JobRef::Pod(p) => p == pod,
                            JobRef::Group(g) => scenario.pods.group(*pod) == Some(*g),
                        };
                        if of_job {
                            why.insert(*pod, format!("Abandoned: {name} gave its job up after its retries"));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut waits_ns: Vec<u64> = waiting
        .iter()
        .filter_map(|p| {
            let created = outcomes.pods[p.index()].created_at()?;
            let until = deleted.get(p).copied().unwrap_or(end).max(created);
            Some(until.since(created).as_nanos())
        })
        .collect();
    waits_ns.sort_unstable();
    let mut listed: Vec<String> = waiting
        .iter()
        .take(max)
        .map(|p| {
            let name = scenario.pods.get(*p).key();
            match (deleted.contains_key(p), why.get(p)) {
                (true, _) => format!("pod {name}: deleted while pending"),
                (false, Some(why)) => format!("pod {name}: {why}"),
                (false, None) => format!("pod {name}: pending, no scheduler said why"),
            }
        })
        .collect();
    if waiting.len() > max {
        listed.push(format!("… and {} more", waiting.len() - max));
    }
    NeverScheduled { waits_ns, listed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use podlab_cluster::{NodeId, Phase, SimDuration};
    use podlab_scenario::{LoadOptions, parse};

    const YAML: &str = "apiVersion: v1\nkind: List\nitems:\n\
        - {apiVersion: v1, kind: Node, metadata: {name: a}, status: {allocatable: {cpu: \"2\", memory: 2Gi}}}\n\
        - {apiVersion: v1, kind: Node, metadata: {name: b}, status: {allocatable: {cpu: \"2\", memory: 2Gi}}}\n\
        - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, resources: {requests: {cpu: \"1\", memory: 1Gi}}}]}}\n";

    fn at(secs: u64, record: Record) -> podlab_cluster::Stamped {
        podlab_cluster::Stamped { time: SimTime::ZERO + SimDuration::from_secs(secs), record }
    }

    /// The cluster's totals step up when nodes join and a part is bound, down when it ends,
    /// one point per instant, closed at the end of the run; thinned to buckets when asked.
    #[test]
    fn cluster_steps_follow_the_records() {
        let scenario = parse("s.yaml", YAML, LoadOptions { known_policies: &[], allow_paths_outside: false }).unwrap();
        let (pod, node_b) = (PodId(0), NodeId(1));
        let records: Records = vec![
            at(0, Record::NodeAdded { node: NodeId(0) }),
            at(0, Record::NodeAdded { node: node_b }),
            at(0, Record::PodCreated { pod }),
            at(5, Record::Bound { pod, part: Part::Whole, node: node_b }),
            at(10, Record::Ended { pod, part: Part::Whole, node: node_b, phase: Phase::Succeeded }),
        ]
        .into();
        let end = SimTime::ZERO + SimDuration::from_secs(20);
        let steps = cluster_steps(&scenario, &records, end, 100);
        let cpu: Vec<(u64, u64, u64)> =
            steps.iter().map(|p| (p.t_ns / 1_000_000_000, p.allocated.cpu_milli, p.capacity.cpu_milli)).collect();
        assert_eq!(cpu, [(0, 0, 4000), (5, 1000, 4000), (10, 0, 4000), (20, 0, 4000)]);
        let thinned = cluster_steps(&scenario, &records, end, 2);
        assert_eq!(thinned.iter().map(|p| p.t_ns / 1_000_000_000).collect::<Vec<_>>(), [0, 20]);
        assert_eq!(thinned[0].allocated.cpu_milli, 0, "the first bucket keeps its last state");
    }
}
