//! `podlab explain` rebuilds what the scheduler saw and agrees with what it decided: the filter
//! that rejected each node, the scores, and where the pod ended under each policy.

use std::process::Command;

fn podlab(args: &[&str]) -> String {
    let out =
        Command::new(env!("CARGO_BIN_EXE_podlab")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The co-scheduling pod: per container, App scores 62 on node-b against 47 on node-a (so it
/// goes to node-b) and LogCollector then scores 77 on node-a against 47 on node-b; as one Pod,
/// node-a is filtered out for memory.
#[test]
fn explains_the_coscheduling_split() {
    let text = podlab(&["run", "scenarios/coscheduling.yaml", "--explain", "app-with-logs"]);
    for want in [
        "at 1ms: container app bound to node-b",
        "node-a           feasible, NodeResourcesFit LeastAllocated score 47",
        "node-b           feasible, NodeResourcesFit LeastAllocated score 62",
        "at 2ms: container log-collector bound to node-a",
        "node-a           feasible, NodeResourcesFit LeastAllocated score 77",
        "node-a           filtered out by NodeResourcesFit: Insufficient memory",
        "per-container  Succeeded  on node-a + node-b  its parts were placed apart",
        "kubernetes     Succeeded  on node-b           placed whole",
    ] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
}

/// The rebuilt cluster is the scheduler's view: gang reservations count, so the tenth member
/// is filtered for CPU exactly as the scheduler reported.
#[test]
fn agrees_with_the_scheduler_on_a_gang() {
    let text = podlab(&["run", "scenarios/gang-timeout.yaml", "--policy", "gang", "--explain", "training-9"]);
    assert!(text.contains("unschedulable: 0/1 nodes are available: 1 Insufficient cpu."), "{text}");
    assert!(text.contains("node-1           filtered out by NodeResourcesFit: Insufficient cpu"), "{text}");
    assert!(text.contains("bound to node-1"), "{text}");
}

/// `podlab explain RUN_DIR POD` replays the runs `podlab run --out` recorded.
#[test]
fn explains_from_a_run_folder() {
    let dir = std::env::temp_dir().join(format!("podlab-explain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    podlab(&["run", "scenarios/coscheduling.yaml", "--policy", "kubernetes", "--out", dir.to_str().unwrap()]);
    let text = podlab(&["explain", dir.join("kubernetes").to_str().unwrap(), "app-with-logs"]);
    assert!(text.contains("kubernetes     Succeeded  on node-b"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
    let missing = Command::new(env!("CARGO_BIN_EXE_podlab")).args(["explain", "/nonexistent", "x"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

/// A pod whose `schedulerName` names none of the configuration's profiles: `explain` says no
/// scheduler tried it, and why.
#[test]
fn says_why_a_pod_of_no_profile_was_never_tried() {
    let dir = std::env::temp_dir().join(format!("podlab-explain-profiles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("profiles.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {allocatable: {cpu: \"8\", memory: 8Gi}}\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {name: other}\nspec: {schedulerName: my-scheduler, containers: [{name: main}]}\n---\n\
         apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: default-scheduler\n",
    )
    .unwrap();
    let text = podlab(&["run", file.to_str().unwrap(), "--policy", "kubernetes", "--explain", "other"]);
    std::fs::remove_dir_all(&dir).unwrap();
    let want = "no scheduler ever decided on it: its schedulerName `my-scheduler` is none of the \
                KubeSchedulerConfiguration's profiles (default-scheduler), so it is left for another scheduler";
    assert!(text.contains(want), "{text}");
}
