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
