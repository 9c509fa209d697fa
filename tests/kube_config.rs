//! The `kubernetes` policy runs the profile a scenario's KubeSchedulerConfiguration describes:
//! its plugins' arguments (NodeResourcesFit's scoring strategy), its plugins enabled and
//! disabled per extension point, and its score weights.

mod common;

use common::{load, node, nodes_of, pod, run_checked};

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
