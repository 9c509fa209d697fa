//! The control-plane model: writes take the apiserver's and etcd's time, kubelets take the
//! start-up path, and a crashed node is detected, tainted and drained in the time Kubernetes'
//! defaults imply, while its ReplicaSet restores the replicas.

mod common;

use common::{bundled, run_checked};
use podlab::cluster::{BindRefusal, Record};

fn drill() -> podlab::cluster::scenario::Scenario {
    bundled("node-crash-deployment.yaml")
}

/// The node-crash drill: detection within the 40 s grace period after the last heartbeat, the
/// replica restored about grace + 300 s toleration after the crash, one pod lost and one
/// re-created, and the crashed node never given new work once tainted.
#[test]
fn node_crash_is_detected_drained_and_healed() {
    let s = drill();
    let run = run_checked(&s, "kubernetes", s.seed);
    let c = &run.summary.control_plane;
    let detect = c.node_failure_detection.max_ns.unwrap();
    // The last heartbeat came up to one interval (10 s) before the crash; the monitor looks
    // every 5 s.
    assert!((30_000_000_000..=45_000_000_000).contains(&detect), "detected after {detect} ns");
    let restore = c.replica_restore.max_ns.unwrap();
    assert!((330_000_000_000..=350_000_000_000).contains(&restore), "restored after {restore} ns");
    assert_eq!((c.pods_lost, c.pods_recreated), (1, 1));
    let node2 = s.node_named("node-2").unwrap();
    let tainted_at = run
        .sim
        .records
        .iter()
        .find(|r| matches!(r.record, Record::Tainted { node, .. } if node == node2))
        .unwrap()
        .time;
    assert!(
        !run.sim
            .records
            .iter()
            .any(|r| r.time > tainted_at && matches!(r.record, Record::Bound { node, .. } if node == node2))
    );
}

/// Writes and watches take time: every bind went through the apiserver with a latency, and
/// pods start only after the sandbox, the image pull (once per node) and the container start.
#[test]
fn writes_and_start_up_take_time() {
    let s = drill();
    let run = run_checked(&s, "kubernetes", s.seed);
    let c = &run.summary.control_plane;
    assert_eq!(c.api_latency["bind"].count, 4);
    assert!(c.api_latency["bind"].p50_ns.unwrap() > 0);
    // 100 MiB at 50 MiB/s, a 300 ms sandbox and a 100 ms start: over 2.4 s for a first pod.
    assert!(c.pod_startup.max_ns.unwrap() > 2_400_000_000);
    let pulls: Vec<u64> = run
        .sim
        .records
        .iter()
        .filter_map(|r| match r.record {
            Record::Started { pull, .. } => Some(pull.as_nanos()),
            _ => None,
        })
        .collect();
    // Three first pods pull; the replacement lands on a node that has the image.
    assert_eq!(pulls, [2_000_000_000, 2_000_000_000, 2_000_000_000, 0]);
}

/// Without `spec.controlPlane` nothing of this happens: the ideal control plane is instant.
#[test]
fn ideal_control_plane_is_instant() {
    let s = bundled("coscheduling.yaml");
    let run = run_checked(&s, "kubernetes", s.seed);
    assert!(!run.sim.records.iter().any(|r| matches!(r.record, Record::Api { .. } | Record::Started { .. })));
    assert_eq!(run.summary.control_plane.pod_startup.max_ns, Some(1_000_000));
}

/// During an etcd leader election no write commits: every binding of the burst lands after the
/// election, none during it, and each once.
#[test]
fn etcd_leader_loss_holds_writes_until_election() {
    let s = bundled("etcd-leader-loss.yaml");
    for policy in ["kubernetes", "omega"] {
        let run = run_checked(&s, policy, s.seed);
        let binds: Vec<u64> = run
            .sim
            .records
            .iter()
            .filter(|r| matches!(r.record, Record::Bound { .. }))
            .map(|r| r.time.as_nanos())
            .collect();
        assert_eq!(binds.len(), 20, "{policy}");
        assert!(binds.iter().all(|&t| t >= 5_000_000_000), "{policy}: a bind committed during the election");
        assert!(run.summary.control_plane.api_latency.values().any(|p| p.max_ns.unwrap() >= 2_500_000_000));
    }
}

/// A brownout makes writes slow and retried, not lost.
#[test]
fn brownout_slows_writes_without_losing_them() {
    let s = bundled("apiserver-brownout.yaml");
    let run = run_checked(&s, "kubernetes", s.seed);
    let bind = &run.summary.control_plane.api_latency["bind"];
    assert_eq!(bind.count, 10);
    assert_eq!(run.summary.pods.running, 10);
    let mut calm = s.clone();
    calm.faults.clear();
    let calm = run_checked(&calm, "kubernetes", s.seed);
    let before = calm.summary.control_plane.api_latency["bind"].mean_ns.unwrap();
    // Ten times slower attempts, and retries after backoff for the half that fail.
    assert!(bind.mean_ns.unwrap() > 10 * before, "{} vs {before}", bind.mean_ns.unwrap());
    assert!(bind.max_ns.unwrap() > 1_000_000_000, "no retry waited out a backoff: {bind:?}");
}

/// A partition shorter than the toleration: NotReady and tainted, then Ready and untainted on
/// healing, and no pod evicted.
#[test]
fn partition_heals_without_evictions() {
    let s = bundled("partition-heals.yaml");
    let run = run_checked(&s, "kubernetes", s.seed);
    let kinds: Vec<&str> = run
        .sim
        .records
        .iter()
        .filter_map(|r| match &r.record {
            Record::Partitioned { .. } => Some("partitioned"),
            Record::Tainted { .. } => Some("tainted"),
            Record::Healed { .. } => Some("healed"),
            Record::Untainted { .. } => Some("untainted"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["partitioned", "tainted", "healed", "untainted"]);
    assert_eq!(run.summary.control_plane.pods_lost, 0);
}

/// Client-side rate limits: a scheduler allowed 5 writes per second with bursts of 5 spreads a
/// burst of 20 bindings over at least 3 seconds.
#[test]
fn client_rate_limit_spreads_a_burst() {
    let mut s = bundled("etcd-leader-loss.yaml");
    s.faults.clear();
    s.control_plane.as_mut().unwrap().client_qps = Some((5, 5));
    let run = run_checked(&s, "kubernetes", s.seed);
    let binds: Vec<u64> = run
        .sim
        .records
        .iter()
        .filter(|r| matches!(r.record, Record::Bound { .. }))
        .map(|r| r.time.as_nanos())
        .collect();
    assert_eq!(binds.len(), 20);
    assert!(binds[19] - binds[0] >= 3_000_000_000, "burst spread over {} ns", binds[19] - binds[0]);
    let mut free = s.clone();
    free.control_plane.as_mut().unwrap().client_qps = None;
    let run = run_checked(&free, "kubernetes", s.seed);
    let binds: Vec<u64> = run
        .sim
        .records
        .iter()
        .filter(|r| matches!(r.record, Record::Bound { .. }))
        .map(|r| r.time.as_nanos())
        .collect();
    assert!(binds[19] - binds[0] < 1_000_000_000);
}

fn records_of(run: &podlab::PolicyRun, kind: &str) -> Vec<(u64, Record)> {
    run.sim.records.iter().filter(|r| r.record.kind() == kind).map(|r| (r.time.as_nanos(), r.record.clone())).collect()
}

/// Every pod of the run is bound at most once per part, and the number of pods bound.
fn bound_once(run: &podlab::PolicyRun) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    for (_, r) in records_of(run, "bound") {
        if let Record::Bound { pod, part, .. } = r {
            assert!(seen.insert((pod, part)), "{}: {pod:?} {part:?} bound twice", run.policy);
        }
    }
    seen.iter().map(|(p, _)| *p).collect::<std::collections::BTreeSet<_>>().len()
}

/// A scheduler that dies with bindings in flight — etcd has no leader, so they wait — comes
/// back, lists the pods as unbound and binds them again; the old bindings commit first when
/// etcd is back and the new ones are refused AlreadyBound. Every pod ends up bound exactly
/// once, under every policy.
#[test]
fn scheduler_crash_with_bindings_in_flight_never_double_binds() {
    let mut s = bundled("scheduler-crash.yaml");
    s.faults = podlab::load_str(
        "faults.yaml",
        "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nspec:\n  duration: 2m\n  controlPlane: {}\n  nodePools: \
         [{name: node, count: 4, cpu: '8', memory: 32Gi}]\n  faults:\n  - {type: EtcdLeaderLoss, at: 5ms, lasting: \
         3s}\n  - {type: SchedulerCrash, at: 30ms, restartAfter: 100ms}\n",
    )
    .unwrap()
    .faults;
    for policy in podlab::schedulers::POLICIES {
        let run = run_checked(&s, policy, s.seed);
        assert_eq!(bound_once(&run), 40, "{policy}: not every pod was placed");
        assert_eq!(
            run.summary.control_plane.controller_restarts as usize,
            records_of(&run, "controller-crashed").len()
        );
        if *policy == "kubernetes" {
            let refused = records_of(&run, "bind-refused");
            assert!(
                refused.iter().any(|(_, r)| matches!(r, Record::BindRefused { reason: BindRefusal::AlreadyBound, .. })),
                "the new scheduler never re-bound a pod the old one had bound: {refused:?}"
            );
        }
    }
}

/// A restarted controller manager lists its ReplicaSet's pods before it counts them: it never
/// creates a surplus replica, and the replica lost with a crashed node comes back later than
/// without the crash (the new node lifecycle controller starts the grace period afresh).
#[test]
fn controller_manager_crash_delays_the_replica_and_creates_no_surplus() {
    let s = bundled("controller-manager-crash.yaml");
    let run = run_checked(&s, "kubernetes", s.seed);
    let c = &run.summary.control_plane;
    assert_eq!((c.controller_crashes, c.controller_restarts), (2, 2));
    assert_eq!(records_of(&run, "pod-created").len(), 4, "one replacement, no surplus");
    let mut calm = s.clone();
    calm.faults.retain(|f| !matches!(f, podlab::cluster::config::Fault::ComponentCrash { .. }));
    let calm = run_checked(&calm, "kubernetes", s.seed);
    let (with, without) =
        (c.replica_restore.max_ns.unwrap(), calm.summary.control_plane.replica_restore.max_ns.unwrap());
    assert!(with > without + 60_000_000_000, "restored after {with} ns with the crash, {without} ns without");
}

/// Lost watch events make watchers relist — the List costs more with more objects — and the
/// events they missed arrive late: watch lag's tail grows; without losses nobody relists.
#[test]
fn lost_watch_events_cause_relists_and_lag() {
    let s = bundled("watch-drops.yaml");
    let run = run_checked(&s, "kubernetes", s.seed);
    let c = &run.summary.control_plane;
    assert!(c.relists >= 5 && c.relist_missed_events >= c.relists, "{c:?}");
    // 500 µs per object, and the cluster holds at least its eight nodes.
    assert!(c.relist_latency.max_ns.unwrap() > 8 * 500_000);
    let mut calm = s.clone();
    podlab::scenario::params::set(&mut calm, "controlPlane.watchDropRate", "0").unwrap();
    assert!(podlab::scenario::params::set(&mut calm, "controlPlane.watchDropRate", "0.7").is_err());
    let calm = run_checked(&calm, "kubernetes", s.seed);
    let q = &calm.summary.control_plane;
    assert_eq!(q.relists, 0);
    assert!(q.watch_lag.events > 1000 && c.watch_lag.events > 1000);
    assert!(c.watch_lag.max_ns > 10 * q.watch_lag.max_ns, "{:?} vs {:?}", c.watch_lag, q.watch_lag);
}

/// A lost event followed by no other is found by the watch timeout: the informer relists
/// `watchTimeout` (to twice it) after the loss, not at a next event that never comes.
#[test]
fn watch_timeout_reveals_a_silent_break() {
    let text = |seed: u64| {
        format!(
            "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nspec:\n  seed: {seed}\n  duration: 2m\n  \
             controlPlane:\n    watchDropRate: 0.5\n    watchTimeout: 30s\n    kubelet: {{heartbeatInterval: 1h}}\n  \
             nodePools: [{{name: node, count: 1, cpu: '1', memory: 1Gi}}]\n  workload:\n    jobs:\n    - {{name: a, \
             at: 1s, cpu: 100m, memory: 100Mi}}\n"
        )
    };
    let late_relist = (0..40).any(|seed| {
        let s = podlab::load_str("t.yaml", &text(seed)).unwrap();
        let run = run_checked(&s, "kubernetes", seed);
        let last_change = run.sim.records.iter().filter(|r| r.record.kind() == "bound").map(|r| r.time).max();
        records_of(&run, "relisted")
            .iter()
            .any(|(t, _)| last_change.is_some_and(|c| *t >= c.as_nanos() + 30_000_000_000))
    });
    assert!(late_relist, "no seed lost a last event and relisted at its watch timeout");
}

/// A fault process draws the same faults for the same seed and others for another; a second
/// process draws from its own stream and does not shift the first one's faults.
#[test]
fn fault_processes_are_seeded_and_independent() {
    let s = bundled("random-node-crashes.yaml");
    let faults = |s: &podlab::cluster::scenario::Scenario, seed| podlab::scenario::instantiate(s, seed).unwrap().faults;
    let a = faults(&s, 1);
    assert!(a.len() >= 5, "{a:?}");
    assert_eq!(a, faults(&s, 1));
    assert_ne!(a, faults(&s, 2));
    let mut two = s.clone();
    let mut second = two.fault_processes[0].clone();
    second.index = 1;
    second.template = podlab::cluster::config::Fault::EtcdLeaderLoss {
        at: podlab::cluster::SimTime::ZERO,
        election: podlab::cluster::SimDuration::from_secs(2),
    };
    two.fault_processes.push(second);
    let both = faults(&two, 1);
    let crashes: Vec<_> =
        both.iter().filter(|f| matches!(f, podlab::cluster::config::Fault::NodeCrash { .. })).cloned().collect();
    assert_eq!(crashes, a, "the second process shifted the first one's draws");
    assert!(both.len() > a.len());
}

/// An overloaded apiserver: slow attempts time out at the request timeout and are retried
/// after backoff, 429s after their Retry-After; every binding lands in the end, once.
#[test]
fn timeouts_and_429s_are_retried() {
    let s = bundled("apiserver-timeouts.yaml");
    let run = run_checked(&s, "kubernetes", s.seed);
    let c = &run.summary.control_plane;
    assert!(c.api_failures["timeout"] > 0 && c.api_failures["429"] > 0, "{:?}", c.api_failures);
    assert!(!c.api_failures.contains_key("5xx"));
    for (_, r) in records_of(&run, "api-failed") {
        if let Record::ApiFailed { reason: "429", retry_after, .. } = r {
            assert_eq!(retry_after, podlab::cluster::SimDuration::from_secs(2));
        }
    }
    assert_eq!(bound_once(&run), 30);
    // Each timed-out attempt cost the 8 s timeout before its retry.
    assert!(c.api_latency["bind"].max_ns.unwrap() > 8_000_000_000);
}

/// Every policy runs on the full model at once — latencies, lost watch events, a random node
/// crash process, a brownout with timeouts and 429s, an etcd election, a scheduler and a
/// controller-manager crash — with the invariants holding and the same digest twice.
#[test]
fn every_policy_runs_on_the_full_model() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 4\n  template:\n    \
                spec:\n      containers:\n      - {name: web, resources: {requests: {cpu: '1', memory: 1Gi}}}\n---\n\
                apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nspec:\n  seed: 2\n  duration: 12m\n  \
                controlPlane: {watchDropRate: 0.01, apiServer: {clientQps: 50, clientBurst: 100}}\n  nodePools: \
                [{name: node, count: 6, cpu: '8', memory: 32Gi}]\n  faults:\n  - {type: NodeCrash, every: \
                {distribution: exponential, mean: 3m}, pool: node, recovery: {distribution: constant, value: 2m}}\n  \
                - {type: ApiServerBrownout, at: 2m, lasting: 1m, latencyFactor: 100, errorRate: 0.1, throttleRate: \
                0.2, timeout: 300ms}\n  - {type: EtcdLeaderLoss, at: 6m, lasting: 2s}\n  - {type: SchedulerCrash, \
                at: 4m, restartAfter: 30s}\n  - {type: ControllerManagerCrash, every: {distribution: exponential, \
                mean: 4m}, recovery: {distribution: uniform, min: 5s, max: 1m}}\n  workload:\n    generators:\n    \
                - {name: batch, interArrival: {distribution: exponential, mean: 5s}, tasks: {distribution: uniform, \
                min: 1, max: 4}, runFor: {distribution: exponential, mean: 2m}, cpu: 500m, memory: 1Gi, until: 10m}\n";
    let s = podlab::load_str("full.yaml", text).unwrap();
    for policy in podlab::schedulers::POLICIES {
        let a = run_checked(&s, policy, 3);
        let b = run_checked(&s, policy, 3);
        assert_eq!(a.sim.digest, b.sim.digest, "{policy}");
        let c = &a.summary.control_plane;
        assert!(c.controller_restarts >= 2 && c.relists > 0 && !c.api_failures.is_empty(), "{policy}: {c:?}");
        assert!(a.summary.pods.running + a.summary.pods.succeeded > 0, "{policy} ran nothing");
    }
}

/// `scheduler: NAME` crashes that controller only: under omega the batch scheduler dies and
/// comes back while the service scheduler goes on; every pod is still placed once.
#[test]
fn a_named_scheduler_crashes_alone() {
    let mut s = bundled("scheduler-crash.yaml");
    for f in &mut s.faults {
        if let podlab::cluster::config::Fault::ComponentCrash { name, .. } = f {
            *name = Some("omega-batch".into());
        }
    }
    let run = run_checked(&s, "omega", s.seed);
    let crashed: Vec<&str> = records_of(&run, "controller-crashed")
        .into_iter()
        .map(|(_, r)| match r {
            Record::ControllerCrashed { by } => run.sim.controllers[by.index()].as_str(),
            _ => unreachable!("filtered by kind"),
        })
        .collect();
    assert_eq!(crashed, ["omega-batch"], "controllers: {:?}", run.sim.controllers);
    assert_eq!(bound_once(&run), 40);
}

/// Writes still waiting in a client's rate limiter die with its process: a scheduler allowed
/// one write per second crashes with a backlog of bindings, and none of them commits while it
/// is down; the restarted scheduler binds the rest.
#[test]
fn queued_writes_die_with_their_process() {
    let mut s = bundled("scheduler-crash.yaml");
    s.control_plane.as_mut().unwrap().client_qps = Some((1, 1));
    for f in &mut s.faults {
        if let podlab::cluster::config::Fault::ComponentCrash { at, restart_after, .. } = f {
            (*at, *restart_after) = (
                podlab::cluster::SimTime::ZERO + podlab::cluster::SimDuration::from_secs(5),
                Some(podlab::cluster::SimDuration::from_secs(10)),
            );
        }
    }
    let run = run_checked(&s, "kubernetes", s.seed);
    let binds: Vec<u64> = records_of(&run, "bound").into_iter().map(|(t, _)| t).collect();
    let (down, up) = (6_000_000_000, 15_000_000_000);
    assert!(binds.iter().any(|&t| t < down), "nothing bound before the crash");
    assert!(!binds.iter().any(|&t| (down..up).contains(&t)), "a queued write committed while its process was down");
    assert_eq!(bound_once(&run), 40);
}
