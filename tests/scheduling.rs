//! The `kubernetes` and `per-container` policies follow kube-scheduler's semantics: filters,
//! scoring strategies, the queue's order, retries when the cluster changes, and tie-breaking.

mod common;

use common::{group, load, node, nodes_of, pod, run_checked};

fn sim(spec: &str) -> String {
    format!("apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: t}}\nspec: {spec}\n")
}

/// Filters: a pod goes only where its nodeSelector matches and its tolerations cover the taints.
#[test]
fn filters_respect_selectors_and_taints() {
    let s = load(&[
        node("plain").yaml(),
        node("gpu").label("accel", "gpu").taint("dedicated", "NoSchedule").yaml(),
        node("ssd").label("disk", "ssd").yaml(),
        pod("wants-ssd").node_selector("disk", "ssd").yaml(),
        pod("tolerant-gpu").node_selector("accel", "gpu").tolerate("dedicated").yaml(),
        pod("intolerant-gpu").node_selector("accel", "gpu").yaml(),
    ]);
    let run = run_checked(&s, "kubernetes", 1);
    assert_eq!(nodes_of(&s, &run, "wants-ssd"), ["ssd"]);
    assert_eq!(nodes_of(&s, &run, "tolerant-gpu"), ["gpu"]);
    assert!(nodes_of(&s, &run, "intolerant-gpu").is_empty());
    let msg = run
        .sim
        .records
        .iter()
        .find_map(|r| match &r.record {
            podlab::cluster::Record::Unschedulable { message, .. } => Some(message.to_string()),
            _ => None,
        })
        .expect("the intolerant pod is reported unschedulable");
    assert_eq!(
        msg,
        "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 node(s) didn't match Pod's node affinity/selector."
    );
}

/// LeastAllocated spreads and MostAllocated packs, as their kube-scheduler formulas say.
#[test]
fn scoring_strategies_spread_or_pack() {
    let docs = |strategy: &str| {
        vec![
            node("big").cpu("8").memory("16Gi").yaml(),
            node("small").cpu("2").memory("4Gi").yaml(),
            pod("p").cpu("1").memory("1Gi").yaml(),
            sim(&format!("{{scheduler: {{scoringStrategy: {strategy}}}}}")),
        ]
    };
    let spread = load(&docs("LeastAllocated"));
    assert_eq!(nodes_of(&spread, &run_checked(&spread, "kubernetes", 1), "p"), ["big"]);
    let pack = load(&docs("MostAllocated"));
    assert_eq!(nodes_of(&pack, &run_checked(&pack, "kubernetes", 1), "p"), ["small"]);
}

/// The queue takes higher priority first: when only one pod fits, the important one gets it.
#[test]
fn higher_priority_is_scheduled_first() {
    let s = load(&[
        node("only").cpu("1").memory("1Gi").yaml(),
        pod("low").cpu("1").memory("1Gi").priority(0).yaml(),
        pod("high").cpu("1").memory("1Gi").priority(1000).yaml(),
    ]);
    let run = run_checked(&s, "kubernetes", 1);
    assert_eq!(nodes_of(&s, &run, "high"), ["only"]);
    assert!(nodes_of(&s, &run, "low").is_empty());
    assert_eq!(run.summary.pods.pending, 1);
}

/// A pod that fits nowhere waits, and is placed when another pod finishes and frees room.
#[test]
fn unschedulable_pod_retries_when_resources_free_up() {
    let s = load(&[
        node("only").cpu("1").memory("1Gi").yaml(),
        pod("first").cpu("1").memory("1Gi").run_for("30s").yaml(),
        pod("second").cpu("1").memory("1Gi").run_for("30s").yaml(),
    ]);
    let run = run_checked(&s, "kubernetes", 1);
    assert_eq!(run.summary.pods.succeeded, 2);
    assert_eq!(run.summary.unschedulable_attempts, 1);
    // Each decision takes kube's default 1 ms: `first` binds at 1 ms and ends at 30.001 s;
    // `second`, retried then, binds at 30.002 s and ends at 60.002 s.
    assert_eq!(run.summary.time_to_schedule.max_ns, Some(30_002_000_000));
    assert_eq!(run.sim.end.as_nanos(), 60_002_000_000);
}

/// A pod waiting for room is placed when a node joins later in the timeline.
#[test]
fn unschedulable_pod_retries_when_a_node_joins() {
    let s = load(&[
        node("small").cpu("1").memory("1Gi").yaml(),
        node("late").cpu("4").memory("8Gi").yaml(),
        pod("big").cpu("2").memory("2Gi").yaml(),
        sim("{timeline: [{at: 45s, create: [Node/late]}]}"),
    ]);
    let run = run_checked(&s, "kubernetes", 1);
    assert_eq!(nodes_of(&s, &run, "big"), ["late"]);
    // Placed one decision (1 ms) after the node joins.
    assert_eq!(run.summary.time_to_schedule.p50_ns, Some(45_001_000_000));
}

/// Per-container placement splits a pod's containers across nodes and records the pod as
/// partial when one container finds no room while another runs; Kubernetes places it whole or
/// not at all.
#[test]
fn per_container_records_partial_placements() {
    let s = load(&[
        node("a").cpu("1").memory("1Gi").yaml(),
        pod("pair").container("big").cpu("1").memory("1Gi").container("other").cpu("1").memory("1Gi").yaml(),
    ]);
    let naive = run_checked(&s, "per-container", 1);
    assert_eq!(naive.summary.colocation.partial_pods, 1);
    assert_eq!(naive.summary.pods.pending, 1);
    let kube = run_checked(&s, "kubernetes", 1);
    assert_eq!(kube.summary.colocation.partial_pods, 0);
    assert!(nodes_of(&s, &kube, "pair").is_empty());
}

/// Members of a PodGroup placed pod by pod can end up split and partial.
#[test]
fn groups_placed_pod_by_pod_can_be_split_and_partial() {
    let s = load(&[
        node("a").cpu("2").memory("2Gi").yaml(),
        node("b").cpu("2").memory("2Gi").yaml(),
        group("gang", 3),
        pod("m1").cpu("2").memory("1Gi").group("gang").yaml(),
        pod("m2").cpu("2").memory("1Gi").group("gang").yaml(),
        pod("m3").cpu("2").memory("1Gi").group("gang").yaml(),
    ]);
    let run = run_checked(&s, "kubernetes", 1);
    // Spread, not split: a PodGroup asks for all or nothing, not for one node.
    assert_eq!((run.summary.colocation.spread_groups, run.summary.colocation.split_groups), (1, 0));
    assert_eq!(run.summary.colocation.partial_groups, 1);
    assert_eq!(run.summary.pods.scheduled, 2);
}

/// The effective request (init containers, sidecars, overhead) is what must fit, not the sum
/// of app containers alone.
#[test]
fn effective_request_decides_fit() {
    let s = load(&[
        node("n").cpu("1").memory("1Gi").yaml(),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: init-heavy}\nspec:\n  initContainers: [{name: migrate, resources: {requests: {cpu: \"2\"}}}]\n  containers: [{name: app, resources: {requests: {cpu: 100m}}}]\n".to_string(),
    ]);
    assert_eq!(s.pods.get(podlab::cluster::PodId(0)).requests.cpu_milli, 2000);
    let run = run_checked(&s, "kubernetes", 1);
    assert_eq!(run.summary.pods.pending, 1);
}

/// Coscheduling semantics: a gang with 10% missing waits at Permit holding its reservations,
/// times out every `scheduleTimeoutSeconds`, backs off, and binds whole once room appears.
#[test]
fn gang_waits_times_out_and_binds_whole() {
    let s = common::bundled("gang-timeout.yaml");
    let run = run_checked(&s, "gang", 1);
    let timeouts: Vec<u64> = run
        .sim
        .records
        .iter()
        .filter(|r| {
            matches!(r.record, podlab::cluster::Record::Note { note: podlab::cluster::Note::GroupTimedOut { .. }, .. })
        })
        .map(|r| r.time.as_nanos())
        .collect();
    // Reserved by 11 ms, timed out 30 s after the first wait; retried after the 1 s backoff.
    assert_eq!(timeouts, [30_002_000_000, 61_003_000_000]);
    let binds: Vec<u64> = run
        .sim
        .records
        .iter()
        .filter_map(|r| match &r.record {
            podlab::cluster::Record::Bound { pod, .. } if s.pods.group(*pod).is_some() => Some(r.time.as_nanos()),
            _ => None,
        })
        .collect();
    assert_eq!(binds.len(), 10);
    assert!(binds.iter().all(|&t| t == binds[0] && t >= 90_000_000_000), "{binds:?}");
}

/// Under `gang`, a group bigger than the cluster never binds a member and never holds on to
/// reservations forever: every wait ends in a release.
#[test]
fn impossible_gang_binds_nothing() {
    let s = load(&[
        node("n").cpu("2").memory("4Gi").yaml(),
        group("big", 3),
        pod("b1").cpu("1").group("big").yaml(),
        pod("b2").cpu("1").group("big").yaml(),
        pod("b3").cpu("1").group("big").yaml(),
        sim("{duration: 5m}"),
    ]);
    let gang = run_checked(&s, "gang", 1);
    assert_eq!(gang.summary.pods.scheduled, 0);
    let count = |f: fn(&podlab::cluster::Note) -> bool| {
        gang.sim
            .records
            .iter()
            .filter(|r| matches!(&r.record, podlab::cluster::Record::Note { note, .. } if f(note)))
            .count()
    };
    let reserved = count(|n| matches!(n, podlab::cluster::Note::Reserved { .. }));
    let released = count(|n| matches!(n, podlab::cluster::Note::Released { .. }));
    // Every wait ends in a release (the checker also proved none outlived its timeout); only
    // the members waiting when the run stops still hold theirs.
    assert!(
        reserved > 2 && released + 2 >= reserved && released <= reserved,
        "reserved {reserved}, released {released}"
    );
    let kube = run_checked(&s, "kubernetes", 1);
    assert_eq!(kube.summary.pods.scheduled, 2);
}

/// Coscheduling's PreFilter with `minResources`: while the cluster's free resources cannot hold
/// the group's, its members are turned away before Filter and reserve nothing; without
/// `minResources` they reserve what is free and wait at Permit. (Counted while the filler
/// runs, for 2 minutes.) Once the filler ends, the gang binds whole.
#[test]
fn min_resources_keep_a_gang_from_reserving_what_cannot_suffice() {
    let docs = |min_resources: &str| {
        load(&[
            node("n").cpu("2").memory("4Gi").yaml(),
            pod("filler").cpu("1").run_for("2m").yaml(),
            format!(
                "apiVersion: scheduling.x-k8s.io/v1alpha1\nkind: PodGroup\nmetadata: {{name: pair}}\nspec: {{minMember: 2{min_resources}}}\n"
            ),
            pod("p1").cpu("1").group("pair").yaml(),
            pod("p2").cpu("1").group("pair").yaml(),
            sim("{duration: 10m}"),
        ])
    };
    let reservations = |s: &podlab::cluster::scenario::Scenario| {
        let run = run_checked(s, "gang", 1);
        let reserved = run
            .sim
            .records
            .iter()
            .filter(|r| {
                r.time.as_nanos() < 120_000_000_000
                    && matches!(
                        r.record,
                        podlab::cluster::Record::Note { note: podlab::cluster::Note::Reserved { .. }, .. }
                    )
            })
            .count();
        let gap = run.sim.records.iter().any(|r| {
            matches!(&r.record, podlab::cluster::Record::Unschedulable { message, .. } if message.contains("resource gap cpu: 1000m"))
        });
        (reserved, gap, nodes_of(s, &run, "p1"), nodes_of(s, &run, "p2"))
    };
    let (reserved, gap, p1, p2) = reservations(&docs(", minResources: {cpu: \"2\"}"));
    assert_eq!((reserved, gap), (0, true), "turned away at PreFilter");
    assert_eq!((p1, p2), (vec!["n".to_string()], vec!["n".to_string()]), "bound once the filler is gone");
    let (reserved, gap, _, _) = reservations(&docs(""));
    assert!(reserved > 0 && !gap, "without minResources a member reserves the free CPU");
}

/// The three PodGroup dialects — scheduler-plugins (label), Volcano (annotation), and
/// Kubernetes' own Workload (`spec.workloadRef`, replica keys making separate gangs) — all
/// become gangs the `gang` policy binds whole.
#[test]
fn pod_group_dialects_are_gangs() {
    let pod = |name: &str, membership: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}{membership}}}\nspec:\n  containers: [{{name: c, resources: {{requests: {{cpu: \"1\"}}}}}}]\n"
        )
    };
    let with_ref = |name: &str, key: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  workloadRef: {{name: train, podGroup: workers, podGroupReplicaKey: \"{key}\"}}\n  containers: [{{name: c, resources: {{requests: {{cpu: \"1\"}}}}}}]\n"
        )
    };
    let s = load(&[
        node("n").cpu("5").memory("8Gi").yaml(),
        "apiVersion: scheduling.volcano.sh/v1beta1\nkind: PodGroup\nmetadata: {name: vc}\nspec: {minMember: 2}\n".into(),
        "apiVersion: scheduling.k8s.io/v1alpha1\nkind: Workload\nmetadata: {name: train}\nspec:\n  podGroups:\n  - {name: workers, policy: {gang: {minCount: 2}}}\n".into(),
        pod("v1", ", annotations: {scheduling.k8s.io/group-name: vc}"),
        pod("v2", ", annotations: {scheduling.k8s.io/group-name: vc}"),
        with_ref("w0a", "0"),
        with_ref("w0b", "0"),
        with_ref("w1a", "1"),
        with_ref("w1b", "1"),
    ]);
    let names: Vec<String> = s.groups.iter().map(|g| format!("{}/{}", g.name, g.min_member)).collect();
    assert_eq!(names, ["vc/2", "train-workers/2", "train-workers-0/2", "train-workers-1/2"]);
    // Five CPUs: the Volcano gang and one replica gang fit; the other replica waits whole.
    let run = run_checked(&s, "gang", 1);
    assert_eq!(run.summary.pods.scheduled, 4);
    let placed = |p: &str| !nodes_of(&s, &run, p).is_empty();
    assert!(placed("v1") && placed("v2"));
    assert_eq!(placed("w0a"), placed("w0b"));
    assert_eq!(placed("w1a"), placed("w1b"));
    assert_ne!(placed("w0a"), placed("w1a"));
}

/// A group is judged against its own rule: spread over nodes is reported, and counts as a
/// violation only when its members require each other on one node (a required pod affinity
/// on `kubernetes.io/hostname`). The Omega paper's scheduler, which reads no pod affinity,
/// breaks that rule; kube-scheduler keeps it, leaving the second member pending.
#[test]
fn a_group_is_split_only_against_its_own_rule() {
    let member = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {{app: pair, scheduling.x-k8s.io/pod-group: pair}}}}\n\
             spec:\n  containers: [{{name: c, resources: {{requests: {{cpu: \"2\", memory: 1Gi}}}}}}]\n  affinity:\n    podAffinity:\n      \
             requiredDuringSchedulingIgnoredDuringExecution:\n      - labelSelector: {{matchLabels: {{app: pair}}}}\n        \
             topologyKey: kubernetes.io/hostname\n"
        )
    };
    let s = load(&[
        node("a").cpu("2").memory("2Gi").label("kubernetes.io/hostname", "a").yaml(),
        node("b").cpu("2").memory("2Gi").label("kubernetes.io/hostname", "b").yaml(),
        group("pair", 1),
        member("left"),
        member("right"),
    ]);
    let paper = run_checked(&s, "monolithic", 1);
    let c = &paper.summary.colocation;
    assert_eq!((c.spread_groups, c.split_groups, c.violations), (1, 1, 1), "{c:?}");
    let kube = run_checked(&s, "kubernetes", 1);
    let c = &kube.summary.colocation;
    assert_eq!((c.spread_groups, c.split_groups, c.violations), (0, 0, 0), "{c:?}");
    assert_eq!(kube.summary.time_to_schedule.never_scheduled, 1);
}
