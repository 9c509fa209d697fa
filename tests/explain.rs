//! `podlab explain` rebuilds what the scheduler saw and agrees with what it decided: the filter
//! that rejected each node, the scores, and where the pod ended under each policy.

mod common;

use common::{ok, podlab, temp_dir, temp_path};

/// Runs podlab, which must succeed; what it printed.
fn podlab_ok(args: &[&str]) -> String {
    ok(&podlab(args))
}

#[test]
fn explains_the_coscheduling_split() {
    let text = podlab_ok(&["run", "scenarios/coscheduling.yaml", "--explain", "app-with-logs"]);
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
    let text = podlab_ok(&["run", "scenarios/gang-timeout.yaml", "--policy", "gang", "--explain", "training-9"]);
    assert!(text.contains("unschedulable: 0/1 nodes are available: 1 Insufficient cpu."), "{text}");
    assert!(text.contains("node-1           filtered out by NodeResourcesFit: Insufficient cpu"), "{text}");
    assert!(text.contains("bound to node-1"), "{text}");
}

/// `podlab explain RUN_DIR POD` replays the runs `podlab run --out` recorded.
#[test]
fn explains_from_a_run_folder() {
    let dir = temp_path("folder");
    podlab_ok(&["run", "scenarios/coscheduling.yaml", "--policy", "kubernetes", "--out", dir.to_str().unwrap()]);
    let text = podlab_ok(&["explain", dir.join("kubernetes").to_str().unwrap(), "app-with-logs"]);
    assert!(text.contains("kubernetes     Succeeded  on node-b"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
    let missing = podlab(&["explain", "/nonexistent", "x"]);
    assert_eq!(missing.status.code(), Some(2));
}

/// A pod whose `schedulerName` names none of the configuration's profiles: `explain` says no
/// scheduler tried it, and why.
#[test]
fn says_why_a_pod_of_no_profile_was_never_tried() {
    let dir = temp_dir("profiles");
    let file = dir.join("profiles.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {allocatable: {cpu: \"8\", memory: 8Gi}}\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {name: other}\nspec: {schedulerName: my-scheduler, containers: [{name: main}]}\n---\n\
         apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: default-scheduler\n",
    )
    .unwrap();
    let text = podlab_ok(&["run", file.to_str().unwrap(), "--policy", "kubernetes", "--explain", "other"]);
    std::fs::remove_dir_all(&dir).unwrap();
    let want = "no scheduler ever decided on it: its schedulerName `my-scheduler` is none of the \
                KubeSchedulerConfiguration's profiles (default-scheduler), so it is left for another scheduler";
    assert!(text.contains(want), "{text}");
}

/// A preemption explained: the budget's disruptions allowed, every candidate node with its
/// victims and PDB violations, and the rule that picked the node. The urgent pod's candidates
/// are the critical pod's node (only a protected database replica to evict: one violation) and
/// the other (a batch pod: none); the first rule, the fewest violations, picks the other.
#[test]
fn explains_a_preemption_and_the_budget() {
    let text = podlab_ok(&["run", "scenarios/preemption.yaml", "--explain", "urgent"]);
    let line = text.lines().find(|l| l.contains("nominated to")).unwrap_or_else(|| panic!("{text}"));
    let (node, victim) =
        if line.contains("nominated to node-1") { ("node-1", "batch-1") } else { ("node-2", "batch-2") };
    let (other, replica) = if node == "node-1" { ("node-2", "db-2") } else { ("node-1", "db-1") };
    for want in [
        format!("nominated to {node}, preempting {victim} there"),
        "PodDisruptionBudget db: 0 disruptions allowed".to_string(),
        format!("{node:<16} candidate: evict {victim} (priority 0); 0 PodDisruptionBudget violations"),
        format!("{other:<16} candidate: evict {replica} (priority 0); 1 PodDisruptionBudget violation"),
        format!("DefaultPreemption picked {node} by the fewest PodDisruptionBudget violations"),
    ] {
        assert!(text.contains(&want), "missing `{want}` in:\n{text}");
    }
    // The critical pod's two candidates are alike but for their victims' starts.
    let text = podlab_ok(&["run", "scenarios/preemption.yaml", "--explain", "critical"]);
    assert_eq!(text.matches("candidate: evict batch-").count(), 2, "{text}");
    assert!(text.contains("by the latest start of its highest-priority victims"), "{text}");
    // And from a run folder.
    let dir = temp_path("preemption");
    podlab_ok(&["run", "scenarios/preemption.yaml", "--out", dir.to_str().unwrap()]);
    let folder = podlab_ok(&["explain", dir.join("kubernetes").to_str().unwrap(), "urgent"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(folder.contains("DefaultPreemption picked"), "{folder}");
    assert!(folder.contains("PodDisruptionBudget violation"), "{folder}");
}
