//! Swarm testing: random scenarios from seeds (`podlab::swarm`), each run under a policy with
//! the invariant checker on, then the properties its policy guarantees (convergence, gangs
//! binding together, the same digest twice). A failure prints the seed, the command that
//! reproduces it and a shrunk scenario's YAML.
//!
//! CI runs a fixed budget of seeds; `PODLAB_SWARM_SEEDS=N` runs more (or `podlab fuzz`).

use rayon::prelude::*;

use podlab::swarm;

/// Checks every seed of `seeds`; on failure, the report of each failing one.
fn check_seeds(seeds: impl IntoParallelIterator<Item = u64>, policy: Option<&str>) {
    let failures: Vec<String> = seeds
        .into_par_iter()
        .filter_map(|seed| {
            let outcome = swarm::run_seed(seed, policy);
            outcome.failure.map(|f| swarm::report_failure(&outcome.case, &f, policy.is_some()))
        })
        .collect();
    assert!(failures.is_empty(), "{} swarm seeds failed:\n{}", failures.len(), failures.join("\n"));
}

fn budget() -> u64 {
    std::env::var("PODLAB_SWARM_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(240)
}

/// A fixed budget of random scenarios, each under the policy its seed draws, keeps every
/// invariant and every property of its policy.
#[test]
fn random_scenarios_keep_every_property() {
    check_seeds(0..budget(), None);
}

/// The same holds with each policy forced, so every policy sees every kind of scenario.
#[test]
fn every_policy_on_shared_seeds() {
    for policy in podlab::schedulers::POLICIES {
        check_seeds(10_000..10_000 + budget() / 12, Some(policy));
    }
}

/// The generator is deterministic: a seed gives the same scenario text every time, and
/// different seeds give different scenarios.
#[test]
fn a_seed_is_a_scenario() {
    assert_eq!(swarm::generate(7, None).yaml(), swarm::generate(7, None).yaml());
    assert_ne!(swarm::generate(7, None).yaml(), swarm::generate(8, None).yaml());
    let case = swarm::generate(7, Some("gang"));
    assert!(case.yaml().contains("policies: [gang]"), "{}", case.yaml());
    assert_eq!(case.command(true), "podlab fuzz --start 7 --seeds 1 --policy gang");
}

/// The shrinker keeps a failure while making the scenario smaller: with a property that fails
/// whenever a scenario has a pod, it ends with exactly one pod and no other object it can drop.
#[test]
fn the_shrinker_reduces_a_failure() {
    let case =
        (0..100).map(|s| swarm::generate(s, Some("kubernetes"))).find(|c| c.pods.len() >= 5).expect("a big case");
    let (small, why) = swarm::shrink_with(&case, "has pods".into(), 500, |c| {
        if c.pods.is_empty() { Ok(()) } else { Err("has pods".into()) }
    });
    assert_eq!(why, "has pods");
    assert_eq!(small.pods.len(), 1, "{}", small.yaml());
    assert!(small.generator.is_none() && small.prefill.is_none() && small.groups.is_empty(), "{}", small.yaml());
    assert!(small.nodes.is_empty(), "{}", small.yaml());
}

/// Regressions the swarm found, by the seeds that found them (each also has a focused test
/// beside its fix): omega's first fit stopped at a pod too big for every node and kept its
/// group's other pods pending forever (9); the Mesos allocator re-ran empty rounds at one
/// instant forever with a zero offer interval (44, 60); a hoarding framework dropped launches
/// that needed the room of two offers on one node (65, 83, 128); a prefill past a node's
/// `maxPods` stayed pending forever (110, 126, 132).
#[test]
fn seeds_that_found_bugs() {
    check_seeds([9, 44, 60, 65, 83, 128, 110, 126, 132], None);
}
