//! The `kubernetes` policy runs the profiles a scenario's KubeSchedulerConfiguration describes:
//! its plugins' arguments (NodeResourcesFit's scoring strategy), its plugins enabled and
//! disabled per extension point, its score weights, and each pod under the profile its
//! `schedulerName` names.

mod common;

use common::{load, node, nodes_of, ok, pod, podlab, root, run_checked};

const CONFIG: &str = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";

fn scenario(config: Option<&str>) -> podlab::cluster::scenario::Scenario {
    let mut docs = vec![
        node("big").cpu("8").memory("16Gi").yaml(),
        node("small").cpu("2").memory("4Gi").yaml(),
        node("tainted").cpu("16").memory("32Gi").taint("dedicated", "NoSchedule").yaml(),
        pod("p").cpu("1").memory("1Gi").yaml(),
    ];
    if let Some(config) = config {
        docs.push(format!("{CONFIG}{config}"));
    }
    load(&docs)
}

/// Without a configuration the default profile spreads (LeastAllocated); MostAllocated in
/// `pluginConfig` packs onto the small node.
#[test]
fn plugin_config_sets_the_scoring_strategy() {
    let default = scenario(None);
    assert_eq!(nodes_of(&default, &run_checked(&default, "kubernetes", 1), "p"), ["big"]);
    let packing = scenario(Some(
        "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: {scoringStrategy: {type: MostAllocated}}\n",
    ));
    assert_eq!(nodes_of(&packing, &run_checked(&packing, "kubernetes", 1), "p"), ["small"]);
}

/// NodeAffinity disabled at Filter lets a pod whose nodeSelector no node matches onto the
/// emptiest node. (A disabled TaintToleration would too, but the invariant checker forbids a
/// pod on a node whose taint it does not tolerate, whatever the configuration.)
#[test]
fn a_filter_disabled_filters_nothing() {
    let docs = |config: &str| {
        let mut docs = vec![
            node("big").cpu("8").memory("16Gi").yaml(),
            node("small").cpu("2").memory("4Gi").yaml(),
            pod("p").cpu("1").memory("1Gi").node_selector("disk", "ssd").yaml(),
        ];
        if !config.is_empty() {
            docs.push(format!("{CONFIG}{config}"));
        }
        load(&docs)
    };
    let strict = docs("");
    assert!(nodes_of(&strict, &run_checked(&strict, "kubernetes", 1), "p").is_empty());
    let open = docs("profiles:\n- plugins:\n    filter:\n      disabled: [{name: NodeAffinity}]\n");
    assert_eq!(nodes_of(&open, &run_checked(&open, "kubernetes", 1), "p"), ["big"]);
}

/// A weight decides. Pod 1 CPU, 1 GiB: on `even` (4 CPU, 4 GiB) MostAllocated gives 25 and
/// BalancedAllocation 100; on `lopsided` (2 CPU, 8 GiB) 31 and 81. At weight 1 `even` wins
/// (125 against 112); NodeResourcesFit at weight 10 makes it 350 against 391.
#[test]
fn score_weights_count() {
    let docs = |fit_weight: &str| {
        let config = format!(
            "profiles:\n- plugins:\n    multiPoint:\n      enabled: [{{name: NodeResourcesFit, weight: {fit_weight}}}]\n  pluginConfig:\n  - name: NodeResourcesFit\n    args: {{scoringStrategy: {{type: MostAllocated}}}}\n"
        );
        load(&[
            node("even").cpu("4").memory("4Gi").yaml(),
            node("lopsided").cpu("2").memory("8Gi").yaml(),
            pod("p").cpu("1").memory("1Gi").yaml(),
            format!("{CONFIG}{config}"),
        ])
    };
    let one = docs("1");
    assert_eq!(nodes_of(&one, &run_checked(&one, "kubernetes", 1), "p"), ["even"]);
    let ten = docs("10");
    assert_eq!(nodes_of(&ten, &run_checked(&ten, "kubernetes", 1), "p"), ["lopsided"]);
}

/// A configuration of two profiles: a pod naming the second (`packer`, MostAllocated) packs, a
/// pod naming the first spreads, and a pod naming neither is left Pending, as kube-scheduler
/// leaves it for another scheduler, with a warning at load naming it and the profiles.
#[test]
fn a_pod_gets_the_profile_its_scheduler_name_names() {
    let config = "profiles:\n- schedulerName: default-scheduler\n- schedulerName: packer\n  pluginConfig:\n  - name: NodeResourcesFit\n    args: {scoringStrategy: {type: MostAllocated}}\n";
    let docs = load(&[
        node("big").cpu("8").memory("16Gi").yaml(),
        node("small").cpu("2").memory("4Gi").yaml(),
        pod("spread").cpu("1").memory("1Gi").yaml(),
        named_pod("packed", "packer"),
        named_pod("unknown", "elsewhere"),
        format!("{CONFIG}{config}"),
    ]);
    let warning = docs.warnings.iter().find(|w| w.message.contains("`elsewhere`")).expect("a warning");
    for want in ["pod `unknown` stays Pending", "`default-scheduler`, `packer`"] {
        assert!(warning.message.contains(want), "missing `{want}` in: {}", warning.message);
    }
    assert_eq!(docs.warnings.iter().filter(|w| w.message.contains("schedulerName")).count(), 1);
    let run = run_checked(&docs, "kubernetes", 1);
    assert_eq!(nodes_of(&docs, &run, "spread"), ["big"]);
    assert_eq!(nodes_of(&docs, &run, "packed"), ["small"]);
    assert!(nodes_of(&docs, &run, "unknown").is_empty());
    let unscheduled =
        run.sim.records.iter().filter(|s| matches!(s.record, podlab::cluster::Record::Unschedulable { .. }));
    assert_eq!(unscheduled.count(), 0, "no scheduler tries the pod, so none reports it unschedulable");
}

/// Without a configuration the default profile takes every pod, whatever its
/// `schedulerName` (podlab's scenarios name schedulers for Omega's and Mesos's routing).
#[test]
fn without_a_configuration_every_pod_is_scheduled() {
    let docs = load(&[node("big").cpu("8").memory("16Gi").yaml(), named_pod("batch", "batch")]);
    assert!(docs.warnings.iter().all(|w| !w.message.contains("schedulerName")));
    assert_eq!(nodes_of(&docs, &run_checked(&docs, "kubernetes", 1), "batch"), ["big"]);
}

/// A profile's PostFilter is its own: on a full node, a high-priority pod of the profile that
/// disables DefaultPreemption waits, the same pod of the default profile preempts.
#[test]
fn each_profile_preempts_as_its_plugins_say() {
    let docs = |scheduler: &str| {
        let timeline = "---\napiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {name: polite}\nspec:\n  duration: 1m\n  timeline:\n  - {at: 0s, create: [Pod/low]}\n  - {at: 10s, create: [Pod/high]}\n";
        let high = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: high}}\nspec: {{schedulerName: {scheduler}, priority: 100, containers: [{{name: main, resources: {{requests: {{cpu: \"2\"}}}}}}]}}\n"
        );
        load(&[
            node("n").cpu("2").memory("4Gi").yaml(),
            pod("low").cpu("2").priority(0).yaml(),
            high,
            format!(
                "{CONFIG}profiles:\n- schedulerName: default-scheduler\n- schedulerName: polite\n  plugins:\n    postFilter:\n      disabled: [{{name: DefaultPreemption}}]\n"
            ),
            timeline.to_string(),
        ])
    };
    let preempting = docs("default-scheduler");
    let run = run_checked(&preempting, "kubernetes", 1);
    assert_eq!((run.summary.preemptions, nodes_of(&preempting, &run, "high")), (1, vec!["n".to_string()]));
    let polite = docs("polite");
    let run = run_checked(&polite, "kubernetes", 1);
    assert_eq!((run.summary.preemptions, nodes_of(&polite, &run, "low")), (0, vec!["n".to_string()]));
    assert!(nodes_of(&polite, &run, "high").is_empty());
}

/// A profile's own `percentageOfNodesToScore` holds for its pods, the file's for the others.
/// 150 nodes, the roomiest last: a pod of `quick` (50 %: at least 100 nodes to find) stops
/// before it; a pod of `default-scheduler` (the file's 100 %) scores every node and takes it.
#[test]
fn a_profile_scores_its_own_share_of_nodes() {
    let mut docs: Vec<String> = (0..149).map(|i| node(&format!("n{i:03}")).cpu("4").memory("8Gi").yaml()).collect();
    docs.push(node("roomy").cpu("64").memory("128Gi").yaml());
    docs.push(named_pod("sampled", "quick"));
    docs.push(pod("thorough").cpu("1").memory("1Gi").yaml());
    docs.push(format!(
        "{CONFIG}percentageOfNodesToScore: 100\nprofiles:\n- schedulerName: default-scheduler\n- schedulerName: quick\n  percentageOfNodesToScore: 50\n"
    ));
    docs.push("apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {name: share}\nspec:\n  duration: 1m\n  timeline:\n  - {at: 0s, create: [Pod/sampled]}\n  - {at: 1s, create: [Pod/thorough]}\n".into());
    let docs = load(&docs);
    let run = run_checked(&docs, "kubernetes", 1);
    assert_ne!(nodes_of(&docs, &run, "sampled"), ["roomy"]);
    assert_eq!(nodes_of(&docs, &run, "thorough"), ["roomy"]);
}

/// A profile without Score plugins takes the first feasible node from the rotating start
/// (upstream's `hasScoring`): three pods on three equal nodes go to the nodes in turn, whatever
/// the seed, where ties broken at random would not.
#[test]
fn a_profile_without_scores_takes_the_first_feasible_node() {
    let mut docs: Vec<String> = (0..3).map(|i| node(&format!("n{i}")).cpu("4").memory("8Gi").yaml()).collect();
    docs.extend((0..3).map(|i| pod(&format!("p{i}")).cpu("1").memory("1Gi").yaml()));
    docs.push(format!("{CONFIG}profiles:\n- plugins:\n    score:\n      disabled: [{{name: \"*\"}}]\n"));
    docs.push("apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {name: first}\nspec:\n  duration: 1m\n  timeline:\n  - {at: 0s, create: [Pod/p0]}\n  - {at: 1s, create: [Pod/p1]}\n  - {at: 2s, create: [Pod/p2]}\n".into());
    let docs = load(&docs);
    for seed in 1..=5 {
        let run = run_checked(&docs, "kubernetes", seed);
        let placed: Vec<Vec<String>> = ["p0", "p1", "p2"].iter().map(|p| nodes_of(&docs, &run, p)).collect();
        assert_eq!(placed, [["n0"], ["n1"], ["n2"]], "seed {seed}");
    }
}

/// The bundled `kube-profiles` scenario: the web pods of `default-scheduler` spread, the batch
/// pods of `bin-packer` pack, and batch-1 goes to `highmem` only because bin-packer weighs
/// NodeResourcesFit 5 and disables BalancedAllocation: with its plugins reset to the default
/// (its MostAllocated kept), or under the default profile, it goes to a general node.
#[test]
fn the_bundled_profiles_scenario_uses_both_profiles() {
    let path = root().join("scenarios/kube-profiles.yaml");
    let scenario = podlab::load(&path).expect("the scenario loads");
    let run = run_checked(&scenario, "kubernetes", 1);
    let on = |run: &podlab::PolicyRun, pod: &str| nodes_of(&scenario, run, pod).concat();
    assert_ne!(on(&run, "web-1"), on(&run, "web-2"), "default-scheduler spreads");
    assert_eq!(on(&run, "batch-1"), "highmem");
    assert_eq!(on(&run, "batch-2"), on(&run, "batch-3"), "bin-packer packs");
    let explain = |pod: &str| ok(&podlab(&["run", path.to_str().expect("a UTF-8 path"), "--explain", pod]));
    let batch = explain("batch-1");
    assert!(batch.contains("scheduled by the profile `bin-packer`"), "{batch}");
    assert!(
        batch.contains("highmem          feasible, total 565 (TaintToleration 300, NodeResourcesFit 265,"),
        "{batch}"
    );
    assert!(!batch.contains("BalancedAllocation"), "bin-packer scores without it:\n{batch}");
    let web = explain("web-1");
    assert!(web.contains("NodeResourcesBalancedAllocation 100"), "{web}");
    let mut reset = scenario.clone();
    let config = reset.scheduler_config.as_mut().expect("a configuration");
    config.profiles[1].plugins = podlab::cluster::kube_config::Plugins::default();
    assert_ne!(on(&run_checked(&reset, "kubernetes", 1), "batch-1"), "highmem", "weight 1, BalancedAllocation on");
    let mut default = scenario.clone();
    let batch_1 = default.pod_named("batch-1").expect("batch-1");
    std::sync::Arc::make_mut(&mut default.pods.held_mut()[batch_1.index()]).scheduler_name = "default-scheduler".into();
    assert_ne!(on(&run_checked(&default, "kubernetes", 1), "batch-1"), "highmem", "the default profile");
}

/// A pod of 1 CPU and 1 GiB with this `schedulerName`.
fn named_pod(name: &str, scheduler: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec: {{schedulerName: {scheduler}, containers: [{{name: main, resources: {{requests: {{cpu: \"1\", memory: 1Gi}}}}}}]}}\n"
    )
}
