//! The control plane's metrics, from records: pod start-up latency (with and without image
//! pulls), apiserver write latency per verb and failed attempts by reason, time to detect a
//! crashed node, how replicas were lost and restored, watch lag and relists, and controller
//! restarts.

use std::collections::BTreeMap;

use serde::Serialize;

use podlab_cluster::scenario::Scenario;
use podlab_cluster::{NodeId, Note, Phase, PodId, Record, Records, SimTime};

use crate::summary::Percentiles;

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ControlPlaneMetrics {
    /// From a pod's creation to its last part running (Kubernetes' pod start-up SLI).
    pub pod_startup: Percentiles,
    /// The same, less the time its node spent pulling images (the SLO's "excluding pulls").
    pub pod_startup_excluding_pulls: Percentiles,
    /// Apiserver write latency (request to etcd commit), by verb.
    pub api_latency: BTreeMap<&'static str, Percentiles>,
    /// From a node's crash to the node lifecycle controller marking it NotReady.
    pub node_failure_detection: Percentiles,
    /// Pods that failed with their node (evicted, or reported dead when it came back).
    pub pods_lost: u64,
    /// Pods a ReplicaSet created after its first ones, and pods a Deployment created while a
    /// failure of one of its pods waited: replacements.
    pub pods_recreated: u64,
    /// From a replica's failure (its node's crash, or its own failure) to its replacement
    /// running.
    pub replica_restore: Percentiles,
    /// Bindings refused and transaction claims conflicting: stale views meeting the store.
    pub update_conflicts: u64,
    /// Failed attempts of writes, by reason (`timeout`, `5xx`, `429`); each was retried.
    pub api_failures: BTreeMap<&'static str, u64>,
    /// From a write's commit to its watch event reaching a watcher, over every delivery.
    pub watch_lag: WatchLag,
    /// Lists made by informers whose watch broke, or by restarted controllers; how long they
    /// took, and how many lost or held events they made up for.
    pub relists: u64,
    pub relist_latency: Percentiles,
    pub relist_missed_events: u64,
    /// Controllers whose process crashed, and restarted.
    pub controller_crashes: u64,
    pub controller_restarts: u64,
}

/// Watch lag over a run (`Record::WatchLag`): zero without a modelled control plane.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct WatchLag {
    pub events: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
}

pub fn control_plane_metrics(scenario: &Scenario, records: &Records, end: SimTime) -> ControlPlaneMetrics {
    let mut m = ControlPlaneMetrics::default();
    // Start-up latencies, measured when a pod's last part is bound (without a kubelet model a
    // part runs from its binding) and when its last part started (with one): parts still on
    // their way are counted in maps of the pods in flight, creation times in a dense vector.
    let mut created = vec![NONE; scenario.pods.len()];
    let mut started_parts: BTreeMap<PodId, (usize, u64)> = BTreeMap::new();
    let mut bound_parts: BTreeMap<PodId, usize> = BTreeMap::new();
    let (mut by_binding, mut by_start, mut by_start_without_pulls) = (Vec::new(), Vec::new(), Vec::new());
    let mut api: BTreeMap<&'static str, Vec<u64>> = BTreeMap::new();
    let mut crashed: BTreeMap<NodeId, SimTime> = BTreeMap::new();
    let mut relist_latencies = Vec::new();
    let mut detections = Vec::new();
    let mut started_any = false;
    // Per ReplicaSet: failures waiting for a replacement to run.
    let mut waiting: BTreeMap<String, Vec<SimTime>> = BTreeMap::new();
    let mut restores = Vec::new();
    let mut first_replicas: BTreeMap<String, u32> = BTreeMap::new();
    // Pods on each node, and pods whose failure was counted at their node's crash.
    let mut on_node: BTreeMap<NodeId, std::collections::BTreeSet<PodId>> = BTreeMap::new();
    let mut died_with_node: std::collections::BTreeSet<PodId> = Default::default();
    let mut deleted_by_owner: std::collections::BTreeSet<PodId> = Default::default();
    // Whose replicas a pod is: its Deployment's (any revision's pod restores a failure), its
    // ReplicaSet's; a Job's pods are not replicas.
    let owner = |p: &PodId| {
        let spec = scenario.pods.get(p.index())?;
        if spec.job().is_some() {
            return None;
        }
        match spec.deployment() {
            Some(d) => Some(format!("deployment/{}/{d}", spec.namespace)),
            None => spec.owner.clone(),
        }
    };
    let parts_of = |p: &PodId, container: bool| scenario.pods[p.index()].part_count(container);
    // Which pods each node holds matters only at a node's crash: kept only in runs that have one.
    let crashes = records.rare().iter().any(|r| matches!(r, Record::NodeCrashed { .. }));
    for s in records.iter().take_while(|s| s.time <= end) {
        match &s.record {
            Record::PodCreated { pod } => {
                created[pod.index()] = s.time.as_nanos();
                if let Some(o) = owner(pod) {
                    if scenario.pods[pod.index()].deployment().is_some() {
                        // A Deployment creates pods for rollouts and scaling too: a replacement
                        // is one created while a failure of its Deployment waits.
                        m.pods_recreated += u64::from(waiting.get(&o).is_some_and(|w| !w.is_empty()));
                    } else {
                        let n = first_replicas.entry(o.clone()).or_insert(0);
                        let desired = scenario.replica_sets.iter().find(|r| r.name == o).map_or(0, |r| r.replicas);
                        if *n >= desired {
                            m.pods_recreated += 1;
                        } else {
                            *n += 1;
                        }
                    }
                }
            }
            Record::Bound { pod, part, node } => {
                if crashes {
                    on_node.entry(*node).or_default().insert(*pod);
                }
                // A pod of one part is bound whole at once (nearly all pods: no map for them).
                let parts = parts_of(pod, matches!(part, podlab_cluster::Part::Container(_)));
                let all_bound = parts == 1 || {
                    let n = bound_parts.entry(*pod).or_insert(0);
                    *n += 1;
                    *n == parts
                };
                if all_bound {
                    bound_parts.remove(pod);
                    by_binding.push(s.time.as_nanos().saturating_sub(created[pod.index()]));
                    if !started_any {
                        // Without a control-plane model, a part runs from its binding.
                        restore(|| owner(pod), s.time, &mut waiting, &mut restores);
                    }
                }
            }
            Record::Started { pod, part, pull, .. } => {
                started_any = true;
                let e = started_parts.entry(*pod).or_insert((0, 0));
                e.0 += 1;
                e.1 = e.1.max(pull.as_nanos());
                if e.0 == parts_of(pod, matches!(part, podlab_cluster::Part::Container(_))) {
                    let pulls = e.1;
                    started_parts.remove(pod);
                    let latency = s.time.as_nanos().saturating_sub(created[pod.index()]);
                    by_start.push(latency);
                    by_start_without_pulls.push(latency.saturating_sub(pulls));
                    restore(|| owner(pod), s.time, &mut waiting, &mut restores);
                }
            }
            Record::Note { note: Note::DeletedPod { pod }, .. } => {
                deleted_by_owner.insert(*pod);
            }
            Record::Ended { pod, node, phase, .. } => {
                if crashes && let Some(set) = on_node.get_mut(node) {
                    set.remove(pod);
                }
                // A pod its own controller deleted (scaled down) was not lost.
                if *phase == Phase::Failed && !deleted_by_owner.contains(pod) {
                    m.pods_lost += 1;
                    if let Some(o) = owner(pod).filter(|_| !died_with_node.contains(pod)) {
                        waiting.entry(o).or_default().push(s.time);
                    }
                }
            }
            Record::Api { verb, latency } => api.entry(verb).or_default().push(latency.as_nanos()),
            Record::NodeCrashed { node } => {
                crashed.insert(*node, s.time);
                // Its pods die now, whenever the API learns it.
                for pod in on_node.get(node).into_iter().flatten() {
                    if let Some(o) = owner(pod) {
                        died_with_node.insert(*pod);
                        waiting.entry(o).or_default().push(s.time);
                    }
                }
            }
            Record::Note { note: Note::NodeNotReady { node }, .. } => {
                if let Some(at) = crashed.remove(node) {
                    detections.push(s.time.since(at).as_nanos());
                }
            }
            Record::BindRefused { .. } | Record::Conflict { .. } => m.update_conflicts += 1,
            Record::ApiFailed { reason, .. } => *m.api_failures.entry(reason).or_insert(0) += 1,
            Record::WatchLag { events, p50, p99, max } => {
                m.watch_lag = WatchLag {
                    events: *events,
                    p50_ns: p50.as_nanos(),
                    p99_ns: p99.as_nanos(),
                    max_ns: max.as_nanos(),
                };
            }
            Record::Relisted { latency, missed, .. } => {
                m.relists += 1;
                m.relist_missed_events += missed;
                relist_latencies.push(latency.as_nanos());
            }
            Record::ControllerCrashed { .. } => m.controller_crashes += 1,
            Record::ControllerRestarted { .. } => m.controller_restarts += 1,
            _ => {}
        }
    }
    // Start-up: from the records of started parts when the kubelet is modelled, else binds.
    if started_any {
        m.pod_startup = Percentiles::of(by_start);
        m.pod_startup_excluding_pulls = Percentiles::of(by_start_without_pulls);
    } else {
        m.pod_startup = Percentiles::of(by_binding);
        m.pod_startup_excluding_pulls = m.pod_startup.clone();
    }
    m.api_latency = api.into_iter().map(|(verb, v)| (verb, Percentiles::of(v))).collect();
    m.node_failure_detection = Percentiles::of(detections);
    m.replica_restore = Percentiles::of(restores);
    m.relist_latency = Percentiles::of(relist_latencies);
    m
}

/// "Not created", in the vector of creation times.
const NONE: u64 = u64::MAX;

/// A replica of `owner` runs at `at`: it restores the oldest failure waiting, if any. (The
/// owner is looked up only when some failure waits.)
fn restore(
    owner: impl FnOnce() -> Option<String>,
    at: SimTime,
    waiting: &mut BTreeMap<String, Vec<SimTime>>,
    out: &mut Vec<u64>,
) {
    if waiting.is_empty() {
        return;
    }
    if let Some(o) = owner()
        && let Some(list) = waiting.get_mut(&o)
        && !list.is_empty()
    {
        let failed = list.remove(0);
        out.push(at.since(failed).as_nanos());
    }
}
