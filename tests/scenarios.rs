//! The bundled scenarios: every one loads, and every `expect:` line holds under every policy
//! it runs, with the invariants checked after every event.

mod common;

use common::{bundled_scenarios, is_lesson, run_checked};

/// Each scenario in `scenarios/` keeps its promises: its expectations hold for each policy.
#[test]
fn every_bundled_scenario_meets_its_expectations() {
    for path in bundled_scenarios() {
        let scenario = podlab::load(&path).unwrap_or_else(|e| panic!("{e}"));
        if is_lesson(&path) {
            assert!(!scenario.expectations.is_empty(), "{} has no expect: lines", path.display());
        }
        for policy in &scenario.policies {
            let run = run_checked(&scenario, policy, scenario.seed);
            if is_lesson(&path) {
                assert!(!run.verdicts.is_empty(), "{}: no expectation applies to {policy}", path.display());
            }
            for v in &run.verdicts {
                assert!(v.holds(), "{} under {policy}: {:?}", path.display(), v.failures);
            }
        }
    }
}

/// The seed's example: per-container placement splits App and LogCollector across the two
/// nodes, while the Pod is placed whole on node-b.
#[test]
fn coscheduling_split_versus_pod_atomic() {
    let scenario = common::bundled("coscheduling.yaml");
    let naive = run_checked(&scenario, "per-container", 42);
    let kube = run_checked(&scenario, "kubernetes", 42);
    assert_eq!(common::nodes_of(&scenario, &naive, "app-with-logs"), ["node-a", "node-b"]);
    assert_eq!(naive.summary.colocation.split_pods, 1);
    assert_eq!(common::nodes_of(&scenario, &kube, "app-with-logs"), ["node-b"]);
    assert_eq!(kube.summary.colocation.violations, 0);
}
