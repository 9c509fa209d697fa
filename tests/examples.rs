//! The examples' policies (`examples/best_fit.rs`, `examples/extra_score.rs`) entered in a
//! registry and run through the library, as a downstream crate runs them: each places a pod
//! where its design says, and the built-ins keep theirs.

// Each example is a whole program and brings its own copy of the shared scheduler module.
#![allow(clippy::duplicate_mod)]

mod common;

#[path = "../examples/best_fit.rs"]
#[allow(dead_code)]
mod best_fit;
#[path = "../examples/extra_score.rs"]
#[allow(dead_code)]
mod extra_score;

use common::{load, node, nodes_of, pod};
use podlab::{Registry, RunOptions, run_policy_in};

/// Three nodes that fit one pod: `big` (most room, kube's LeastAllocated choice), `small`
/// (least room left, best fit's), `mid` (labelled preferred, PreferLabel's).
fn scenario() -> podlab::cluster::scenario::Scenario {
    let (key, value) = extra_score::PREFERRED;
    load(&[
        node("big").cpu("8").memory("16Gi").yaml(),
        node("small").cpu("2").memory("4Gi").yaml(),
        node("mid").cpu("4").memory("8Gi").label(key, value).yaml(),
        pod("web").cpu("1").memory("1Gi").run_for("1m").yaml(),
    ])
}

fn registry() -> Registry {
    let mut registry = Registry::builtin();
    best_fit::register(&mut registry).expect("a new name");
    extra_score::register(&mut registry).expect("a new name");
    registry
}

#[test]
fn the_examples_policies_place_as_designed() {
    let (scenario, registry) = (scenario(), registry());
    let options = RunOptions { check_invariants: true, keep_records: true, ..RunOptions::default() };
    let expected = [("kubernetes", "big"), ("best-fit", "small"), ("kubernetes+myscore", "mid")];
    for (policy, node) in expected {
        let run = run_policy_in(&registry, &scenario, policy, 1, options, &mut ()).expect(policy);
        assert!(run.sim.violations.is_empty(), "{policy}: {:?}", run.sim.violations);
        assert_eq!(nodes_of(&scenario, &run, "web"), [node], "{policy}");
        assert_eq!(run.summary.pods.succeeded, 1, "{policy}");
    }
}

/// Both examples run a bundled scenario through the registry, whole.
#[test]
fn the_examples_policies_run_a_bundled_scenario() {
    let registry = registry();
    let scenario = common::bundled("coscheduling.yaml");
    for policy in ["best-fit", "kubernetes+myscore"] {
        let run =
            run_policy_in(&registry, &scenario, policy, scenario.seed, RunOptions::default(), &mut ()).expect(policy);
        assert_eq!(run.summary.pods.scheduled, run.summary.pods.total, "{policy}");
    }
    assert!(run_policy_in(&registry, &scenario, "no-such", 1, RunOptions::default(), &mut ()).is_err());
}
