//! The control-plane model: writes take the apiserver's and etcd's time, kubelets take the
//! start-up path, and a crashed node is detected, tainted and drained in the time Kubernetes'
//! defaults imply, while its ReplicaSet restores the replicas.

mod common;

use common::run_checked;
use podlab::cluster::Record;

fn drill() -> podlab::cluster::scenario::Scenario {
    podlab::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/node-crash-deployment.yaml"))
        .unwrap()
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
    let s =
        podlab::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/coscheduling.yaml")).unwrap();
    let run = run_checked(&s, "kubernetes", s.seed);
    assert!(!run.sim.records.iter().any(|r| matches!(r.record, Record::Api { .. } | Record::Started { .. })));
    assert_eq!(run.summary.control_plane.pod_startup.max_ns, Some(1_000_000));
}

fn bundled(name: &str) -> podlab::cluster::scenario::Scenario {
    podlab::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)).unwrap()
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
