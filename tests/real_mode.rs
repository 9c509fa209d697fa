//! Real mode on a Docker daemon: the co-scheduling example under `per-container` and
//! `kubernetes` with its containers inspected while they run, a node crash, an OOM kill under a
//! node's slice, clean-up after a run killed with SIGKILL (once its lease ends, zombie or not)
//! or stopped with SIGTERM, live runs in other PID namespaces left alone by reapers; the
//! controller manager on real containers: killed Deployment and ReplicaSet replicas replaced,
//! a Job run to completion, pods evicted by a scale-down, a silent node tainted, the failure
//! annotations. The
//! tests skip, saying why, where no daemon answers — and fail instead when
//! `PODLAB_REQUIRE_DOCKER=1` (CI). They run one at a time: a run reaps dead runs when it starts,
//! which must not race the test that checks what a killed run left.

mod common;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use podlab::cluster::{Part, Phase, Record, SimDuration, SimTime};
use podlab::real::labels::{POD_LABEL, ROLE_LABEL, RUN_LABEL};
use podlab::real::lease::LEASE_ROLE;
use podlab::real::{ContainerInspectResponse, Crash, Engine, RealOptions, cgroup};
use podlab::reports::Outcomes;

use common::{PODLAB, podlab_command, root, stderr};

/// One real-mode test at a time (see the file's comment).
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The engine, or `None` (with the reason printed) where no Docker daemon answers.
fn docker(test: &str) -> Option<Engine> {
    match Engine::connect() {
        Ok(engine) => Some(engine),
        Err(why) if std::env::var("PODLAB_REQUIRE_DOCKER").as_deref() == Ok("1") => {
            panic!("{test}: PODLAB_REQUIRE_DOCKER=1 but Docker is not usable: {why}")
        }
        Err(why) => {
            // Straight to stderr, past the test harness's capture, so a skip is seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: no usable Docker daemon ({why}); set PODLAB_REQUIRE_DOCKER=1 to fail instead"
            );
            None
        }
    }
}

const GI: i64 = 1 << 30;
const MI: i64 = 1 << 20;

/// The co-scheduling example with its own pod name (so runs are told apart by label), a short
/// run and a short duration.
fn coscheduling(pod: &str, run_for: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Node
metadata: {{name: node-a}}
status: {{allocatable: {{cpu: "2", memory: 1280Mi}}}}
---
apiVersion: v1
kind: Node
metadata: {{name: node-b}}
status: {{allocatable: {{cpu: "2", memory: 2Gi}}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: {pod}
  annotations: {{podlab.dev/run-for: {run_for}}}
spec:
  containers:
  - name: app
    image: example/app:1.0
    resources: {{requests: {{cpu: 500m, memory: 1Gi}}, limits: {{memory: 1Gi}}}}
  - name: log-collector
    image: example/log-collector:1.0
    resources: {{requests: {{cpu: 100m, memory: 0.5Gi}}, limits: {{memory: 0.5Gi}}}}
---
apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {{name: {pod}}}
spec: {{seed: 42, duration: 40s}}
"#
    )
}

fn options(crashes: Vec<Crash>) -> RealOptions {
    RealOptions {
        seed: 42,
        max_duration: SimDuration::from_secs(40),
        crashes,
        interrupt: None,
        lease_ttl: podlab::real::lease::DEFAULT_TTL,
    }
}

/// What a watcher saw: each container's last inspection (by name), each node slice's limits.
type Seen = (BTreeMap<String, ContainerInspectResponse>, BTreeMap<String, (u64, i64)>);

/// Inspects the containers of one pod while a run goes on, from another thread with its own
/// connection, keeping the last inspection of each container (by name).
struct Watcher {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Seen>,
}

impl Watcher {
    fn start(pod: &str) -> Watcher {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, label) = (stop.clone(), format!("{POD_LABEL}={pod}"));
        let thread = std::thread::spawn(move || {
            let engine = Engine::connect().expect("the test's engine connected, so this one does");
            let mut seen = BTreeMap::new();
            let mut slices = BTreeMap::new();
            while !flag.load(Ordering::Relaxed) {
                for c in engine.containers_labelled(&label).unwrap_or_default() {
                    let Some(id) = c.id else { continue };
                    if let Ok(inspected) = engine.inspect(&id)
                        && inspected.state.as_ref().and_then(|s| s.running) == Some(true)
                    {
                        let labels = inspected.config.as_ref().and_then(|c| c.labels.clone()).unwrap_or_default();
                        if let (Some(run), Some(node)) = (labels.get(RUN_LABEL), labels.get("podlab.dev/node"))
                            && let Some(limits) = cgroup::node_limits(run, node)
                        {
                            slices.insert(node.clone(), limits);
                        }
                        seen.insert(inspected.name.clone().unwrap_or_default(), inspected);
                    }
                }
                std::thread::sleep(Duration::from_millis(150));
            }
            (seen, slices)
        });
        Watcher { stop, thread }
    }

    fn finish(self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the watcher thread does not panic")
    }
}

fn label<'a>(c: &'a ContainerInspectResponse, key: &str) -> Option<&'a str> {
    c.config.as_ref()?.labels.as_ref()?.get(key).map(String::as_str)
}

/// Where each part of each pod ran: `(pod, part) → node`, from a run's records.
fn placements(run: &podlab::PolicyRun) -> Vec<(String, String, String)> {
    let s = &run.scenario;
    let outcomes = Outcomes::replay(s, &run.sim.records, run.sim.end);
    let mut out: Vec<_> = outcomes
        .pods
        .iter()
        .enumerate()
        .flat_map(|(i, o)| {
            o.runs.iter().map(move |r| {
                (
                    s.pods.get(podlab::cluster::PodId(i as u32)).key(),
                    s.pods.get(podlab::cluster::PodId(i as u32)).part_name(r.part()).to_string(),
                    s.nodes[r.node.index()].name.clone(),
                )
            })
        })
        .collect();
    out.sort();
    out
}

/// Nothing of the run is left: no container, no volume, no node slice.
fn assert_nothing_left(engine: &Engine, run: &str) {
    let containers = engine.containers_labelled(&format!("{RUN_LABEL}={run}")).expect("containers list");
    assert!(containers.is_empty(), "containers of run {run} left: {containers:?}");
    let volumes: Vec<_> =
        engine.podlab_volumes().expect("volumes list").into_iter().filter(|(_, r)| r == run).collect();
    assert!(volumes.is_empty(), "volumes of run {run} left: {volumes:?}");
    assert!(!cgroup::runs().contains(&run.to_string()), "node slices of run {run} left");
}

/// Under `kubernetes` the pod is placed whole on node-b, as in the simulator: an infra
/// container and both app containers in its network namespace, under node-b's slice, each with
/// its memory limit and CPU shares; the pod runs its 3 seconds and succeeds; nothing is left.
#[test]
fn kubernetes_runs_the_pod_whole_on_real_containers() {
    let _serial = serial();
    let Some(engine) = docker("kubernetes_runs_the_pod_whole_on_real_containers") else { return };
    let pod = "cosched-kubernetes";
    let scenario = podlab::load_str("kubernetes.yaml", &coscheduling(pod, "3s")).expect("the scenario loads");
    let watcher = Watcher::start(pod);
    let real = podlab::run_policy_real(&scenario, "kubernetes", &options(vec![])).expect("the real run runs");
    let (seen, slices) = watcher.finish();
    let sim = podlab::run_policy(&scenario, "kubernetes", 42, true).expect("the simulated run runs");
    assert_eq!(placements(&real.run), placements(&sim));
    assert_eq!(placements(&real.run), vec![(pod.to_string(), "-".to_string(), "node-b".to_string())]);
    assert!(real.run.sim.violations.is_empty(), "{:?}", real.run.sim.violations);
    assert!(real.run.verdicts.iter().all(|v| v.holds()), "{:?}", real.run.verdicts);
    let ended: Vec<Phase> = real
        .run
        .sim
        .records
        .iter()
        .filter_map(|r| match r.record {
            Record::Ended { phase, .. } => Some(phase),
            _ => None,
        })
        .collect();
    assert_eq!(ended, vec![Phase::Succeeded]);

    let run = &real.real.run_id;
    assert_eq!(seen.len(), 3, "an infra and two app containers: {:?}", seen.keys().collect::<Vec<_>>());
    let infra: Vec<_> = seen.values().filter(|c| label(c, ROLE_LABEL) == Some("infra")).collect();
    assert_eq!(infra.len(), 1);
    let infra_id = infra[0].id.clone().expect("the infra container has an id");
    for c in seen.values() {
        let host = c.host_config.as_ref().expect("inspected containers have a host config");
        assert_eq!(label(c, RUN_LABEL), Some(run.as_str()));
        assert_eq!(label(c, "podlab.dev/node"), Some("node-b"));
        assert_eq!(host.cgroup_parent.as_deref(), Some(format!("/podlab/{run}/node-b").as_str()));
        if label(c, ROLE_LABEL) == Some("app") {
            assert_eq!(host.network_mode.as_deref(), Some(format!("container:{infra_id}").as_str()));
            let (memory, shares) = match label(c, "podlab.dev/container") {
                Some("app") => (GI, 512),
                Some("log-collector") => (512 * MI, 102),
                other => panic!("unexpected app container {other:?}"),
            };
            assert_eq!(host.memory, Some(memory));
            assert_eq!(host.cpu_shares, Some(shares));
            let mounts = c.mounts.as_ref().expect("app containers have mounts");
            assert!(mounts.iter().any(|m| m.destination.as_deref() == Some(podlab::real::SHARED_MOUNT)));
        }
    }
    assert_eq!(slices.get("node-b"), Some(&(2 * GI as u64, 200_000)), "node-b's slice: 2Gi, 2 CPUs");
    assert!(!real.real.startups.is_empty());
    assert_nothing_left(&engine, run);
}

/// Under `per-container` each container is placed on its own, as in the simulator: app on
/// node-b, log-collector on node-a, each in a sandbox of its own — the split pair shares no
/// network namespace.
#[test]
fn per_container_splits_the_pair_on_real_containers() {
    let _serial = serial();
    let Some(engine) = docker("per_container_splits_the_pair_on_real_containers") else { return };
    let pod = "cosched-per-container";
    let scenario = podlab::load_str("per-container.yaml", &coscheduling(pod, "3s")).expect("the scenario loads");
    let watcher = Watcher::start(pod);
    let real = podlab::run_policy_real(&scenario, "per-container", &options(vec![])).expect("the real run runs");
    let (seen, slices) = watcher.finish();
    let sim = podlab::run_policy(&scenario, "per-container", 42, true).expect("the simulated run runs");
    assert_eq!(placements(&real.run), placements(&sim));
    assert_eq!(
        placements(&real.run),
        vec![
            (pod.to_string(), "app".to_string(), "node-b".to_string()),
            (pod.to_string(), "log-collector".to_string(), "node-a".to_string())
        ]
    );
    assert_eq!(real.run.summary.colocation.split_pods, 1);
    let apps: Vec<_> = seen.values().filter(|c| label(c, ROLE_LABEL) == Some("app")).collect();
    assert_eq!(apps.len(), 2);
    let namespaces: Vec<_> = apps.iter().map(|c| c.host_config.as_ref().and_then(|h| h.network_mode.clone())).collect();
    assert_ne!(namespaces[0], namespaces[1], "a split pod cannot share one network namespace");
    assert_eq!(slices.get("node-a"), Some(&(1280 * MI as u64, 200_000)));
    assert_nothing_left(&engine, &real.real.run_id);
}

/// A node crash kills its containers: the pod running there ends Failed, early, and the run
/// stops once nothing is left to happen.
#[test]
fn a_node_crash_fails_its_pods() {
    let _serial = serial();
    let Some(engine) = docker("a_node_crash_fails_its_pods") else { return };
    let scenario = podlab::load_str("crash.yaml", &coscheduling("cosched-crash", "30s")).expect("loads");
    let node_b = scenario.node_named("node-b").expect("node-b exists");
    let crash = Crash { at: SimTime::ZERO + SimDuration::from_secs(2), node: node_b };
    let real = podlab::run_policy_real(&scenario, "kubernetes", &options(vec![crash])).expect("the real run runs");
    let ended: Vec<_> = real
        .run
        .sim
        .records
        .iter()
        .filter_map(|r| match r.record {
            Record::Ended { part, node, phase, .. } => Some((part, node, phase, r.time)),
            _ => None,
        })
        .collect();
    assert_eq!(ended.len(), 1, "{ended:?}");
    let (part, node, phase, at) = ended[0];
    assert_eq!((part, node, phase), (Part::Whole, node_b, Phase::Failed));
    assert!(at >= crash.at, "the pod fails after the crash, not before");
    assert!(real.real.oom_kills.is_empty(), "a crash is no OOM kill");
    assert!(real.real.end < SimTime::ZERO + SimDuration::from_secs(30), "the run stops once the pod has failed");
    assert_nothing_left(&engine, &real.real.run_id);
}

/// A container with no memory limit of its own that allocates more than its node's slice holds
/// is OOM-killed by the kernel — the slice is the node's capacity: the pod fails and the kill
/// is reported.
#[test]
fn a_node_slice_oom_kills_an_overcommitting_container() {
    let _serial = serial();
    let Some(engine) = docker("a_node_slice_oom_kills_an_overcommitting_container") else { return };
    let text = r#"
apiVersion: v1
kind: Node
metadata: {name: small}
status: {allocatable: {cpu: "1", memory: 256Mi}}
---
apiVersion: v1
kind: Pod
metadata:
  name: greedy
  annotations: {podlab.dev/run-for: 20s, podlab.dev/allocate-memory: 400Mi}
spec:
  containers:
  - name: main
    image: example/greedy:1.0
    resources: {requests: {cpu: 100m, memory: 64Mi}}
---
apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {name: greedy}
spec: {seed: 42, duration: 40s}
"#;
    let scenario = podlab::load_str("oom.yaml", text).expect("the scenario loads");
    let watcher = Watcher::start("greedy");
    let real = podlab::run_policy_real(&scenario, "kubernetes", &options(vec![])).expect("the real run runs");
    let (seen, _) = watcher.finish();
    for c in seen.values() {
        assert_eq!(c.host_config.as_ref().and_then(|h| h.memory).unwrap_or(0), 0, "no container limit of its own");
    }
    let kills: Vec<_> = real.real.oom_kills.iter().map(|k| k.container.as_str()).collect();
    assert_eq!(kills, vec!["main"]);
    let failed = real.run.sim.records.iter().any(|r| matches!(r.record, Record::Ended { phase: Phase::Failed, .. }));
    assert!(failed, "the killed container's pod ends Failed");
    assert!(real.real.end < SimTime::ZERO + SimDuration::from_secs(20), "killed long before its 20 seconds");
    assert_nothing_left(&engine, &real.real.run_id);
}

/// A workload object (`Deployment` or `ReplicaSet`) of 2 replicas of one service container
/// named `container`, on one node, for a run of `duration`.
fn replicated(kind: &str, name: &str, container: &str, duration: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Node
metadata: {{name: node-a}}
status: {{allocatable: {{cpu: "2", memory: 2Gi}}}}
---
apiVersion: apps/v1
kind: {kind}
metadata: {{name: {name}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: {container}
        image: example/web:1.0
        resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}
---
apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {{name: {name}}}
spec: {{seed: 42, duration: {duration}}}
"#
    )
}

/// Kills (SIGKILL) the first running app container named `container` once `replicas` of them
/// run, from another thread with its own connection; answers the killed container's pod.
fn kill_one_replica(container: &str, replicas: usize) -> std::thread::JoinHandle<Option<String>> {
    let wanted = format!("podlab.dev/container={container}");
    std::thread::spawn(move || {
        let engine = Engine::connect().expect("the test's engine connected, so this one does");
        for _ in 0..200 {
            let mut running: Vec<ContainerInspectResponse> = engine
                .containers_labelled(&wanted)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|c| engine.inspect(c.id.as_deref()?).ok())
                .filter(|c| c.state.as_ref().and_then(|s| s.running) == Some(true))
                .collect();
            if running.len() >= replicas {
                running.sort_by(|a, b| a.name.cmp(&b.name));
                let victim = &running[0];
                engine.kill(victim.id.as_deref().expect("inspected containers have ids")).expect("the kill is sent");
                return label(victim, POD_LABEL).map(String::from);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    })
}

/// The controller manager runs in real mode: one of two replicas has its container killed, its
/// pod ends Failed, and the controller creates a replacement that the scheduler binds and the
/// kubelet starts — two replicas run again, on real containers.
fn a_killed_replica_is_replaced(kind: &str, name: &str) {
    let _serial = serial();
    let test = format!("a_killed_replica_is_replaced ({kind})");
    let Some(engine) = docker(&test) else { return };
    let container = format!("{name}-srv");
    let scenario =
        podlab::load_str("replicas.yaml", &replicated(kind, name, &container, "12s")).expect("the scenario loads");
    let killer = kill_one_replica(&container, 2);
    let real = podlab::run_policy_real(&scenario, "kubernetes", &options(vec![])).expect("the real run runs");
    let killed = killer.join().expect("the killer does not panic").expect("two replicas ran and one was killed");
    let s = &real.run.scenario;
    let records = &real.run.sim.records;
    assert!(real.run.sim.violations.is_empty(), "{:?}", real.run.sim.violations);
    let created: Vec<String> = records
        .iter()
        .filter_map(|r| match r.record {
            Record::PodCreated { pod } => Some(s.pods.get(pod).key()),
            _ => None,
        })
        .collect();
    assert_eq!(created.len(), 3, "two replicas and one replacement: {created:?}");
    assert!(created.iter().all(|p| p.starts_with(name)), "{created:?}");
    assert!(created[..2].contains(&killed), "the killed pod {killed} is one of the first two");
    let ended: Vec<(String, Phase, SimTime)> = records
        .iter()
        .filter_map(|r| match r.record {
            Record::Ended { pod, phase, .. } => Some((s.pods.get(pod).key(), phase, r.time)),
            _ => None,
        })
        .collect();
    assert_eq!(ended.len(), 1, "only the killed replica ends: {ended:?}");
    let (ref gone, phase, died_at) = ended[0];
    assert_eq!((gone, phase), (&killed, Phase::Failed));
    let replacement = &created[2];
    let started: Vec<(String, SimTime)> = records
        .iter()
        .filter_map(|r| match r.record {
            Record::Started { pod, .. } => Some((s.pods.get(pod).key(), r.time)),
            _ => None,
        })
        .collect();
    let replacement_started = started.iter().find(|(p, _)| p == replacement).map(|(_, t)| *t);
    assert!(
        replacement_started.is_some_and(|t| t > died_at),
        "the replacement {replacement} starts after {killed} died: {started:?}"
    );
    let outcomes = Outcomes::replay(s, records, real.run.sim.end);
    let running = (0..s.pods.len())
        .filter(|&i| outcomes.phase(s, podlab::cluster::PodId(i as u32)) == Some(Phase::Running))
        .count();
    assert_eq!(running, 2, "two replicas run at the end");
    assert_nothing_left(&engine, &real.real.run_id);
}

#[test]
fn a_killed_deployment_replica_is_replaced() {
    a_killed_replica_is_replaced("Deployment", "realctl-web");
}

#[test]
fn a_killed_replica_set_replica_is_replaced() {
    a_killed_replica_is_replaced("ReplicaSet", "realctl-rs");
}

/// Counts, every 100 ms from another thread, the running app containers named `container`;
/// answers the counts in order once stopped.
struct Counter {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<usize>>,
}

impl Counter {
    fn start(container: &str) -> Counter {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, wanted) = (stop.clone(), format!("podlab.dev/container={container}"));
        let thread = std::thread::spawn(move || {
            let engine = Engine::connect().expect("the test's engine connected, so this one does");
            let mut counts = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                let running = engine
                    .containers_labelled(&wanted)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|c| engine.inspect(c.id.as_deref()?).ok())
                    .filter(|c| c.state.as_ref().and_then(|s| s.running) == Some(true))
                    .count();
                counts.push(running);
                std::thread::sleep(Duration::from_millis(100));
            }
            counts
        });
        Counter { stop, thread }
    }

    fn finish(self) -> Vec<usize> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the counter thread does not panic")
    }
}

/// `Evict` in real mode, both ways: a Deployment of 3 on a node that holds 2 is scaled to 1;
/// the controller deletes the pending pod first (never bound: `PodDeleted`) and then a running
/// one, whose containers are stopped (its part ends Failed) while the other keeps running.
#[test]
fn scaling_down_evicts_real_pods() {
    let _serial = serial();
    let Some(engine) = docker("scaling_down_evicts_real_pods") else { return };
    let text = r#"
apiVersion: v1
kind: Node
metadata: {name: node-a}
status: {allocatable: {cpu: "2", memory: 2Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: realctl-scale}
spec:
  replicas: 3
  selector: {matchLabels: {app: realctl-scale}}
  template:
    metadata: {labels: {app: realctl-scale}}
    spec:
      containers:
      - name: realctl-scale-srv
        image: example/web:1.0
        resources: {requests: {cpu: "1", memory: 64Mi}}
---
apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {name: realctl-scale}
spec:
  seed: 42
  duration: 8s
  actions:
  - {at: 4s, scale: {deployment: realctl-scale, replicas: 1}}
  expect:
  - deployments:
      realctl-scale: {available: 1}
"#;
    let scenario = podlab::load_str("scale.yaml", text).expect("the scenario loads");
    let counter = Counter::start("realctl-scale-srv");
    let real = podlab::run_policy_real(&scenario, "kubernetes", &options(vec![])).expect("the real run runs");
    let counts = counter.finish();
    let records = &real.run.sim.records;
    assert!(real.run.sim.violations.is_empty(), "{:?}", real.run.sim.violations);
    assert!(real.run.verdicts.iter().all(|v| v.holds()), "{:?}", real.run.verdicts);
    let scaled_at = SimTime::ZERO + SimDuration::from_secs(4);
    let deleted: Vec<_> = records.iter().filter(|r| matches!(r.record, Record::PodDeleted { .. })).collect();
    assert_eq!(deleted.len(), 1, "the pending pod is deleted: {deleted:?}");
    assert!(deleted[0].time >= scaled_at);
    let ended: Vec<(Phase, SimTime)> = records
        .iter()
        .filter_map(|r| match r.record {
            Record::Ended { phase, .. } => Some((phase, r.time)),
            _ => None,
        })
        .collect();
    assert_eq!(ended.len(), 1, "one running pod is evicted: {ended:?}");
    assert!(ended[0].0 == Phase::Failed && ended[0].1 >= scaled_at, "{ended:?}");
    // Docker agrees: two containers ran, then one (seen a while before the run's end).
    let two = counts.iter().position(|&n| n == 2).expect("two replicas ran");
    let ones = counts[two..].iter().filter(|&&n| n == 1).count();
    assert!(ones >= 5, "one replica kept running after the eviction: {counts:?}");
    assert!(counts[two..].iter().all(|&n| n <= 2), "never more than the node holds: {counts:?}");
    assert_nothing_left(&engine, &real.real.run_id);
}

/// With a modelled control plane, real mode's kubelets heartbeat and the node lifecycle
/// controller runs: a crashed node falls silent, is marked NotReady and tainted unreachable
/// (`TaintNode` carried out: the record and the updated node); the live node is not.
#[test]
fn a_crashed_node_is_tainted_by_the_node_lifecycle_controller() {
    let _serial = serial();
    let Some(engine) = docker("a_crashed_node_is_tainted_by_the_node_lifecycle_controller") else { return };
    let text = replicated("Deployment", "realctl-lifecycle", "realctl-lifecycle-srv", "9s")
        .replace(
            "metadata: {name: node-a}",
            "metadata: {name: node-b}\nstatus: {allocatable: {cpu: \"2\", memory: 2Gi}}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: node-a}",
        )
        .replace(
            "spec: {seed: 42, duration: 9s}",
            "spec: {seed: 42, duration: 9s, controlPlane: {nodeMonitorGracePeriod: 2s, kubelet: {heartbeatInterval: 1s}}}",
        );
    let scenario = podlab::load_str("lifecycle.yaml", &text).expect("the scenario loads");
    let node_b = scenario.node_named("node-b").expect("node-b exists");
    let crash = Crash { at: SimTime::ZERO + SimDuration::from_secs(2), node: node_b };
    let real = podlab::run_policy_real(&scenario, "kubernetes", &options(vec![crash])).expect("the real run runs");
    let records = &real.run.sim.records;
    assert!(real.run.sim.violations.is_empty(), "{:?}", real.run.sim.violations);
    let tainted: Vec<_> = records
        .iter()
        .filter_map(|r| match &r.record {
            Record::Tainted { node, key } => Some((*node, key.clone(), r.time)),
            _ => None,
        })
        .collect();
    assert_eq!(tainted.len(), 1, "{tainted:?}");
    assert_eq!((tainted[0].0, tainted[0].1.as_str()), (node_b, "node.kubernetes.io/unreachable"));
    assert!(tainted[0].2 >= crash.at + SimDuration::from_secs(2), "only after the grace period: {tainted:?}");
    let not_ready = records.iter().any(
        |r| matches!(r.record, Record::Note { note: podlab::cluster::Note::NodeNotReady { node }, .. } if node == node_b),
    );
    assert!(not_ready, "node-b is marked NotReady");
    let taints = &real.run.scenario.nodes[node_b.index()].taints;
    assert!(taints.iter().any(|t| t.key == "node.kubernetes.io/unreachable"), "{taints:?}");
    assert_nothing_left(&engine, &real.real.run_id);
}

/// A Job of 2 completions, one pod at a time, completes on real containers: the second pod is
/// created only once the first has succeeded, the Job is Complete, and the run stops as soon
/// as it is (long before its duration).
#[test]
fn a_job_completes_on_real_containers() {
    let _serial = serial();
    let Some(engine) = docker("a_job_completes_on_real_containers") else { return };
    let text = r#"
apiVersion: v1
kind: Node
metadata: {name: node-a}
status: {allocatable: {cpu: "2", memory: 2Gi}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: realctl-job}
spec:
  completions: 2
  parallelism: 1
  template:
    metadata:
      annotations: {podlab.dev/run-for: 1s}
    spec:
      restartPolicy: Never
      containers:
      - name: step
        image: example/step:1
        resources: {requests: {cpu: 100m, memory: 64Mi}}
---
apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {name: realctl-job}
spec:
  seed: 42
  duration: 30s
  expect:
  - jobs:
      realctl-job: {status: Complete, succeeded: 2, failed: 0, maxActive: 1}
"#;
    let scenario = podlab::load_str("job.yaml", text).expect("the scenario loads");
    let real = podlab::run_policy_real(&scenario, "kubernetes", &options(vec![])).expect("the real run runs");
    let records = &real.run.sim.records;
    assert!(real.run.sim.violations.is_empty(), "{:?}", real.run.sim.violations);
    let created: Vec<(podlab::cluster::PodId, SimTime)> = records
        .iter()
        .filter_map(|r| match r.record {
            Record::PodCreated { pod } => Some((pod, r.time)),
            _ => None,
        })
        .collect();
    let ended: Vec<(podlab::cluster::PodId, Phase, SimTime)> = records
        .iter()
        .filter_map(|r| match r.record {
            Record::Ended { pod, phase, .. } => Some((pod, phase, r.time)),
            _ => None,
        })
        .collect();
    assert_eq!(created.len(), 2, "{created:?}");
    assert_eq!(
        ended.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>(),
        [(created[0].0, Phase::Succeeded), (created[1].0, Phase::Succeeded)]
    );
    assert!(created[1].1 >= ended[0].2, "parallelism 1: the second pod after the first succeeded");
    let complete = records.iter().any(|r| {
        matches!(&r.record, Record::Note { note: podlab::cluster::Note::JobComplete { job }, .. } if job == "realctl-job")
    });
    assert!(complete, "the Job controller marks the Job Complete");
    // Judged: the run ended early, and an expectation without `at` is about its end.
    assert_eq!(real.run.verdicts.len(), 1);
    assert!(real.run.verdicts.iter().all(|v| v.holds()), "{:?}", real.run.verdicts);
    assert!(real.real.end < SimTime::ZERO + SimDuration::from_secs(20), "the run stops once the Job is Complete");
    assert_nothing_left(&engine, &real.real.run_id);
}

/// `podlab.dev/fail-after` in real mode: the container exits non-zero after that long, before
/// its `run-for`, and the pod ends Failed, as in the simulator; a `failure-probability` of 1
/// fails a run that would have succeeded.
#[test]
fn fail_after_fails_a_real_pod() {
    let _serial = serial();
    let Some(engine) = docker("fail_after_fails_a_real_pod") else { return };
    for (annotation, run_for) in [("podlab.dev/fail-after: 1s", "30s"), ("podlab.dev/failure-probability: \"1\"", "1s")]
    {
        fails(&engine, annotation, run_for);
    }
}

fn fails(engine: &Engine, annotation: &str, run_for: &str) {
    let text = coscheduling("realctl-fails", run_for).replace(
        &format!("annotations: {{podlab.dev/run-for: {run_for}}}"),
        &format!("annotations: {{podlab.dev/run-for: {run_for}, {annotation}}}"),
    );
    let scenario = podlab::load_str("fail.yaml", &text).expect("the scenario loads");
    let pod = &scenario.pods.get(podlab::cluster::PodId(0));
    assert!(pod.fail_after.is_some() || pod.failure_ppm == 1_000_000, "the annotation is read");
    let real = podlab::run_policy_real(&scenario, "kubernetes", &options(vec![])).expect("the real run runs");
    let sim = podlab::run_policy(&scenario, "kubernetes", 42, true).expect("the simulated run runs");
    let phases = |run: &podlab::PolicyRun| -> Vec<Phase> {
        run.sim
            .records
            .iter()
            .filter_map(|r| match r.record {
                Record::Ended { phase, .. } => Some(phase),
                _ => None,
            })
            .collect()
    };
    assert_eq!(phases(&real.run), vec![Phase::Failed]);
    assert_eq!(phases(&real.run), phases(&sim));
    assert!(real.real.oom_kills.is_empty(), "an exit, not a kill");
    assert!(real.real.end < SimTime::ZERO + SimDuration::from_secs(15), "failed after about a second, not 30");
    assert_nothing_left(engine, &real.real.run_id);
}

/// Starts `podlab real` on a 60-second pod in a child process, and waits until its containers run.
fn child_run(pod: &str) -> (std::process::Child, String, tempdir::Dir) {
    child_run_with(pod, "60s", &[], &[])
}

/// Starts `podlab real` on a pod that runs for `run_for`, in a child process — run by `wrapper`
/// (a command line before podlab's, such as `unshare …`) if one is given, with `extra`
/// arguments — and waits until its containers run; answers the child and its run id.
fn child_run_with(
    pod: &str,
    run_for: &str,
    wrapper: &[&str],
    extra: &[&str],
) -> (std::process::Child, String, tempdir::Dir) {
    let dir = tempdir::Dir::new(pod);
    let file = dir.path.join("scenario.yaml");
    std::fs::write(&file, coscheduling(pod, run_for)).expect("the scenario is written");
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(PODLAB);
            command
        }
        None => Command::new(PODLAB),
    };
    let mut child = command
        .args(["real", "--policy", "kubernetes", "--max-duration", "60s"])
        .args(extra)
        .arg(&file)
        .stdout(Stdio::null())
        // A few lines at most: the pipe never fills.
        .stderr(Stdio::piped())
        .spawn()
        .expect("podlab starts");
    let engine = Engine::connect().expect("Docker answers");
    for _ in 0..400 {
        let list = engine.containers_labelled(&format!("{POD_LABEL}={pod}")).unwrap_or_default();
        let running = list.iter().filter(|c| {
            let inspected = c.id.as_deref().and_then(|id| engine.inspect(id).ok());
            inspected.and_then(|i| i.state).and_then(|s| s.running) == Some(true)
        });
        if running.count() == 3 {
            let run = list[0].labels.as_ref().and_then(|l| l.get(RUN_LABEL)).cloned().expect("labelled");
            return (child, run, dir);
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the child run's containers never all ran");
}

/// A run's containers: `(role, running)` of each, sorted.
fn containers_of(engine: &Engine, run: &str) -> Vec<(String, bool)> {
    let list = engine.containers_labelled(&format!("{RUN_LABEL}={run}")).expect("containers list");
    let mut out: Vec<(String, bool)> = list
        .iter()
        .map(|c| {
            let role = c.labels.as_ref().and_then(|l| l.get(ROLE_LABEL)).cloned().unwrap_or_default();
            (role, c.state.as_ref().is_some_and(|s| s.to_string() == "running"))
        })
        .collect();
    out.sort();
    out
}

/// The state letter of a process (`R`, `S`, `Z` for a zombie…), from `/proc/<pid>/stat`.
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// Waits up to `seconds` for `done`, checking every 100 ms; answers whether it came.
fn eventually(seconds: u64, mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..seconds * 10 {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    done()
}

/// A run killed with SIGKILL and not waited for — a zombie, its PID and start time unchanged —
/// renews its lease no more. The reaper (which every run calls first) leaves it while the lease
/// runs, and once the lease has ended removes its containers, the lease's too, its volume and
/// its node slices, zombie or not.
#[test]
fn a_killed_run_is_reaped_once_its_lease_ends() {
    let _serial = serial();
    let Some(engine) = docker("a_killed_run_is_reaped_once_its_lease_ends") else { return };
    let (mut child, run, _dir) = child_run_with("cosched-killed", "60s", &[], &["--lease", "4s"]);
    child.kill().expect("SIGKILL is sent");
    let pid = child.id();
    assert!(eventually(10, || process_state(pid) == Some('Z')), "the killed child is a zombie");
    let all_run = |roles: &[&str]| roles.iter().map(|r| (r.to_string(), true)).collect::<Vec<_>>();
    assert_eq!(
        containers_of(&engine, &run),
        all_run(&["app", "app", "infra", LEASE_ROLE]),
        "a killed run cannot clean up: its containers remain"
    );
    assert!(cgroup::runs().contains(&run));
    let early = podlab::real::reap(&engine);
    assert!(!early.runs.contains(&run), "reaped while its lease had time left: {early:?}");
    assert_eq!(containers_of(&engine, &run).len(), 4);
    // Nothing renews the lease: its container ends within 4 s of the last renewal.
    let lease_ended = || containers_of(&engine, &run).iter().any(|(role, running)| role == LEASE_ROLE && !running);
    assert!(eventually(30, lease_ended), "the lease ended: {:?}", containers_of(&engine, &run));
    assert_eq!(process_state(pid), Some('Z'), "still a zombie: the PID alone would call it alive");
    let reaped = podlab::real::reap(&engine);
    assert!(reaped.runs.contains(&run), "{reaped:?}");
    assert_eq!(reaped.containers, 4, "{reaped:?}");
    assert!(reaped.problems.is_empty(), "{:?}", reaped.problems);
    assert_nothing_left(&engine, &run);
    child.wait().expect("the child is reaped");
}

/// Runs in other PID namespaces live: a run inside `unshare --pid --fork --mount-proc` (its PID
/// means nothing here) and a run on the host, both renewing 3-second leases, survive a reaper
/// in another PID namespace (a whole `podlab real` under `unshare`) and one here, past several
/// of their leases' lifetimes; they then run to their end and clean up after themselves.
#[test]
fn runs_in_other_pid_namespaces_are_not_reaped() {
    let _serial = serial();
    let Some(engine) = docker("runs_in_other_pid_namespaces_are_not_reaped") else { return };
    let unshare = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGTERM"];
    // Long enough that a busy daemon never delays six renewals in a row (one each half second).
    let lease = ["--lease", "3s"];
    let (mut inside, inside_run, _d1) = child_run_with("cosched-inside", "25s", &unshare, &lease);
    let (mut host, host_run, _d2) = child_run_with("cosched-host", "25s", &[], &lease);
    // Past the lifetime of a lease not renewed.
    std::thread::sleep(Duration::from_secs(5));
    let dir = tempdir::Dir::new("cosched-reaper");
    let file = dir.path.join("scenario.yaml");
    std::fs::write(&file, coscheduling("cosched-reaper", "1s")).expect("the scenario is written");
    let reaper = Command::new(unshare[0])
        .args(&unshare[1..])
        .arg(PODLAB)
        .args(["real", "--policy", "kubernetes", "--max-duration", "30s"])
        .arg(&file)
        .output()
        .expect("the reaping run runs");
    let stdout = String::from_utf8_lossy(&reaper.stdout);
    assert!(reaper.status.success(), "{stdout}{}", stderr(&reaper));
    let here = podlab::real::reap(&engine);
    for run in [&inside_run, &host_run] {
        assert!(!here.runs.contains(run), "a live run reaped: {here:?}");
        let roles: Vec<_> = containers_of(&engine, run).into_iter().map(|(role, _)| role).collect();
        assert_eq!(roles, ["app", "app", "infra", LEASE_ROLE], "run {run} lost containers mid-run");
        assert!(containers_of(&engine, run).iter().all(|(_, running)| *running), "run {run}");
        assert!(cgroup::runs().contains(run), "run {run} lost its node slices");
    }
    for (child, run) in [(&mut inside, &inside_run), (&mut host, &host_run)] {
        let status = child.wait().expect("the run ends");
        assert!(status.success(), "run {run}: {status}");
        assert_nothing_left(&engine, run);
    }
}

/// A run whose lease ends under it (here its lease container is killed; a process stopped for
/// longer than the lease's time-to-live meets the same) stops with exit code 2, saying that a
/// reaper may have removed its containers, and removes what is left of it.
#[test]
fn a_run_that_loses_its_lease_stops() {
    let _serial = serial();
    let Some(engine) = docker("a_run_that_loses_its_lease_stops") else { return };
    let (child, run, _dir) = child_run_with("cosched-lost", "60s", &[], &["--lease", "2s"]);
    let list = engine.containers_labelled(&format!("{ROLE_LABEL}={LEASE_ROLE}")).expect("containers list");
    let lease = list.iter().find(|c| c.labels.as_ref().and_then(|l| l.get(RUN_LABEL)) == Some(&run));
    engine.kill(lease.and_then(|c| c.id.as_deref()).expect("the run has a lease")).expect("the kill is sent");
    let out = child.wait_with_output().expect("the run ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("its lease expired, so a reaper may have removed"), "{stderr}");
    assert_nothing_left(&engine, &run);
}

/// SIGTERM stops a run early: it removes everything it made and exits with code 130.
#[test]
fn sigterm_stops_a_run_and_cleans_up() {
    let _serial = serial();
    let Some(engine) = docker("sigterm_stops_a_run_and_cleans_up") else { return };
    let (mut child, run, _dir) = child_run("cosched-sigterm");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let status = child.wait().expect("the child exits");
    assert_eq!(status.code(), Some(130));
    assert_nothing_left(&engine, &run);
}

/// Without a Docker daemon, `podlab real` says so and exits with code 2 (no panic).
#[test]
fn no_docker_is_a_clear_error() {
    let out = podlab_command(&["real", "scenarios/coscheduling.yaml", "--policy", "kubernetes"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .expect("podlab runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no Docker daemon answers"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `podlab.dev/allocate-memory` gives every app container an amount, its `.<container>` form one
/// container its own; a bad quantity or an unknown container is a positioned load error.
#[test]
fn allocate_memory_annotations_load() {
    let pod = |annotations: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {{{annotations}}}\nspec:\n  containers:\n  \
             - {{name: app, image: x}}\n  - {{name: log, image: x}}\n"
        )
    };
    let text = pod("podlab.dev/allocate-memory: 100Mi, podlab.dev/allocate-memory.log: 1Ki");
    let scenario = podlab::load_str("a.yaml", &text).expect("loads");
    assert_eq!(scenario.pods.get(podlab::cluster::PodId(0)).allocate_memory_bytes, vec![100 * MI as u64, 1024]);
    let none = podlab::load_str("a.yaml", &pod("x: y")).expect("loads");
    assert!(none.pods.get(podlab::cluster::PodId(0)).allocate_memory_bytes.is_empty());
    let bad = podlab::load_str("a.yaml", &pod("podlab.dev/allocate-memory: lots")).expect_err("a bad quantity");
    assert!(bad.to_string().contains("a.yaml:5:45"), "{bad}");
    let unknown =
        podlab::load_str("a.yaml", &pod("podlab.dev/allocate-memory.db: 1Mi")).expect_err("no such container");
    assert!(unknown.to_string().contains("names no app container"), "{unknown}");
}

/// `podlab calibrate` refuses a pod count it cannot mean, with exit code 2, before touching Docker.
#[test]
fn calibrate_refuses_a_bad_pod_count() {
    let out = common::podlab(&["calibrate", "--pods", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--pods 0: between 1 and 100"));
}

/// `podlab real` refuses a lease it cannot keep (shorter than its renewals could race) or one
/// that would leave a dead run's objects for days, with exit code 2, before touching Docker.
#[test]
fn real_refuses_a_bad_lease() {
    for lease in ["0s", "500ms", "2h"] {
        let out = podlab_command(&["real", "scenarios/coscheduling.yaml", "--lease", lease])
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!("--lease {lease}: between 1s and 1h")), "{stderr}");
    }
}

/// A scratch directory removed when dropped.
mod tempdir {
    pub struct Dir {
        pub path: std::path::PathBuf,
    }

    impl Dir {
        pub fn new(name: &str) -> Dir {
            Dir { path: super::common::temp_dir(name) }
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// An external policy (the exec protocol's JavaScript first fit) drives real containers as it
/// drives the simulator: the same placement, the invariants held, nothing left behind.
#[test]
fn an_external_policy_runs_on_real_containers() {
    let _serial = serial();
    let Some(engine) = docker("an_external_policy_runs_on_real_containers") else { return };
    let node = Command::new("node").arg("--version").output();
    assert!(node.is_ok_and(|o| o.status.success()), "node (v20 or later) must be installed for this test");
    let policy = format!("exec:ff=node {}/exec/tests/clients/first_fit.mjs", root().display());
    let pod = "cosched-exec";
    let scenario = podlab::load_str("exec.yaml", &coscheduling(pod, "2s")).expect("the scenario loads");
    let real = podlab::run_policy_real(&scenario, &policy, &options(vec![])).expect("the real run runs");
    let sim = podlab::run_policy(&scenario, &policy, 42, true).expect("the simulated run runs");
    assert_eq!(real.run.policy, "ff");
    assert_eq!(placements(&real.run), placements(&sim));
    assert_eq!(placements(&real.run), vec![(pod.to_string(), "-".to_string(), "node-b".to_string())]);
    assert!(real.run.sim.violations.is_empty(), "{:?}", real.run.sim.violations);
    assert_nothing_left(&engine, &real.real.run_id);
}
