//! The control plane's metrics, from records: pod start-up latency (with and without image
//! pulls), apiserver write latency per verb and failed attempts by reason, time to detect a
//! crashed node, how replicas were lost and restored, watch lag and relists, and controller
//! restarts.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use podlab_cluster::pods::PodFacts;
use podlab_cluster::scenario::Scenario;
use podlab_cluster::{NodeId, Note, Phase, PodId, PodSpec, Record, SimTime, Stamped};

use crate::percentiles::{Percentiles, Samples};

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

/// The control-plane metrics folded over records as they are read. Start-up latencies are
/// measured when a pod's last part is bound (without a kubelet model a part runs from its
/// binding) and when its last part started (with one): parts still on their way are counted
/// in maps of the pods in flight; the pod's creation time comes from the caller's books.
#[derive(Default)]
pub(crate) struct ControlPlaneFold {
    m: ControlPlaneMetrics,
    /// Whether any node crashes in the run: which pods each node holds matters only then.
    crashes: bool,
    started_parts: BTreeMap<PodId, (usize, u64)>,
    bound_parts: BTreeMap<PodId, usize>,
    by_binding: Samples,
    by_start: Samples,
    by_start_without_pulls: Samples,
    api: BTreeMap<&'static str, Samples>,
    crashed: BTreeMap<NodeId, SimTime>,
    relist_latencies: Vec<u64>,
    detections: Vec<u64>,
    started_any: bool,
    /// Per ReplicaSet: failures waiting for a replacement to run.
    waiting: BTreeMap<String, Vec<SimTime>>,
    restores: Vec<u64>,
    first_replicas: BTreeMap<String, u32>,
    /// Pods on each node, and pods whose failure was counted at their node's crash.
    on_node: BTreeMap<NodeId, BTreeSet<PodId>>,
    died_with_node: BTreeSet<PodId>,
    deleted_by_owner: BTreeSet<PodId>,
}

/// Whose replicas a pod is: its Deployment's (any revision's pod restores a failure), its
/// ReplicaSet's; a Job's pods are not replicas.
fn owner(scenario: &Scenario, p: &PodId) -> Option<String> {
    let spec = (p.index() < scenario.pods.len()).then(|| scenario.pods.spec(*p))?;
    owner_of(spec)
}

/// [`owner`] of a pod of this spec.
fn owner_of(spec: &PodSpec) -> Option<String> {
    // A pod no controller owns (a generator's, a trace's): every pod of a big run.
    spec.owner.as_ref()?;
    if spec.job().is_some() {
        return None;
    }
    match spec.deployment() {
        Some(d) => Some(format!("deployment/{}/{d}", spec.namespace)),
        None => spec.owner.clone(),
    }
}

impl ControlPlaneFold {
    /// `crashes`: whether any node crashes in the run.
    pub(crate) fn new(crashes: bool) -> ControlPlaneFold {
        ControlPlaneFold { crashes, ..ControlPlaneFold::default() }
    }

    /// A pod was created: a replacement, if its owner had its first replicas already or (a
    /// Deployment's) a failure of its waits for one.
    fn pod_created(&mut self, scenario: &Scenario, spec: &PodSpec) {
        if let Some(o) = owner_of(spec) {
            if spec.deployment().is_some() {
                // A Deployment creates pods for rollouts and scaling too: a replacement
                // is one created while a failure of its Deployment waits.
                self.m.pods_recreated += u64::from(self.waiting.get(&o).is_some_and(|w| !w.is_empty()));
            } else {
                let n = self.first_replicas.entry(o.clone()).or_insert(0);
                let desired = scenario.replica_sets.iter().find(|r| r.name == o).map_or(0, |r| r.replicas);
                if *n >= desired {
                    self.m.pods_recreated += 1;
                } else {
                    *n += 1;
                }
            }
        }
    }

    /// Reads one record; `created` is when the pod it names was created, if it was, and `pod`
    /// its spec, if the fold found it.
    pub(crate) fn observe(
        &mut self,
        scenario: &Scenario,
        s: &Stamped,
        created: Option<SimTime>,
        pod: Option<&PodFacts<'_>>,
    ) {
        let spec_of = |p: &PodId| pod.map_or_else(|| &**scenario.pods.spec(*p), |f| &**f.spec);
        let parts_of = |p: &PodId, container: bool| spec_of(p).part_count(container);
        // A pod whose creation is unknown counts a start-up of 0.
        let since_created = created.map_or(0, |c| s.time.since(c).as_nanos());
        let m = &mut self.m;
        match &s.record {
            Record::PodCreated { pod } if pod.index() < scenario.pods.len() => self.pod_created(scenario, spec_of(pod)),
            Record::Bound { pod, part, node } => {
                if self.crashes {
                    self.on_node.entry(*node).or_default().insert(*pod);
                }
                // A pod of one part is bound whole at once (nearly all pods: no map for them).
                let parts = parts_of(pod, matches!(part, podlab_cluster::Part::Container(_)));
                let all_bound = parts == 1 || {
                    let n = self.bound_parts.entry(*pod).or_insert(0);
                    *n += 1;
                    *n == parts
                };
                if all_bound {
                    self.bound_parts.remove(pod);
                    self.by_binding.push(since_created);
                    if !self.started_any {
                        // Without a control-plane model, a part runs from its binding.
                        restore(|| owner(scenario, pod), s.time, &mut self.waiting, &mut self.restores);
                    }
                }
            }
            Record::Started { pod, part, pull, .. } => {
                self.started_any = true;
                let e = self.started_parts.entry(*pod).or_insert((0, 0));
                e.0 += 1;
                e.1 = e.1.max(pull.as_nanos());
                if e.0 == parts_of(pod, matches!(part, podlab_cluster::Part::Container(_))) {
                    let pulls = e.1;
                    self.started_parts.remove(pod);
                    let latency = since_created;
                    self.by_start.push(latency);
                    self.by_start_without_pulls.push(latency.saturating_sub(pulls));
                    restore(|| owner(scenario, pod), s.time, &mut self.waiting, &mut self.restores);
                }
            }
            Record::Note { note: Note::DeletedPod { pod }, .. } => {
                self.deleted_by_owner.insert(*pod);
            }
            Record::Ended { pod, node, phase, .. } => {
                if self.crashes
                    && let Some(set) = self.on_node.get_mut(node)
                {
                    set.remove(pod);
                }
                // A pod its own controller deleted (scaled down) was not lost.
                if *phase == Phase::Failed && !self.deleted_by_owner.contains(pod) {
                    m.pods_lost += 1;
                    if let Some(o) = owner(scenario, pod).filter(|_| !self.died_with_node.contains(pod)) {
                        self.waiting.entry(o).or_default().push(s.time);
                    }
                }
            }
            Record::Api { verb, latency } => self.api.entry(verb).or_default().push(latency.as_nanos()),
            Record::NodeCrashed { node } => {
                self.crashed.insert(*node, s.time);
                // Its pods die now, whenever the API learns it.
                for pod in self.on_node.get(node).into_iter().flatten() {
                    if let Some(o) = owner(scenario, pod) {
                        self.died_with_node.insert(*pod);
                        self.waiting.entry(o).or_default().push(s.time);
                    }
                }
            }
            Record::Note { note: Note::NodeNotReady { node }, .. } => {
                if let Some(at) = self.crashed.remove(node) {
                    self.detections.push(s.time.since(at).as_nanos());
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
                self.relist_latencies.push(latency.as_nanos());
            }
            Record::ControllerCrashed { .. } => m.controller_crashes += 1,
            Record::ControllerRestarted { .. } => m.controller_restarts += 1,
            _ => {}
        }
    }

    pub(crate) fn finish(self) -> ControlPlaneMetrics {
        let mut m = self.m;
        // Start-up: from the records of started parts when the kubelet is modelled, else binds.
        if self.started_any {
            m.pod_startup = self.by_start.percentiles();
            m.pod_startup_excluding_pulls = self.by_start_without_pulls.percentiles();
        } else {
            m.pod_startup = self.by_binding.percentiles();
            m.pod_startup_excluding_pulls = m.pod_startup.clone();
        }
        m.api_latency = self.api.into_iter().map(|(verb, v)| (verb, v.percentiles())).collect();
        m.node_failure_detection = Percentiles::of(self.detections);
        m.replica_restore = Percentiles::of(self.restores);
        m.relist_latency = Percentiles::of(self.relist_latencies);
        m
    }
}

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
