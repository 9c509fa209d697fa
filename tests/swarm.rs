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

/// Random scenarios under a random fault plan on the full control-plane model — lost watch
/// events, node crashes and partitions, etcd elections, brownouts with timeouts and 429s,
/// scheduler and controller-manager crashes — keep every invariant under every policy, and
/// give the same digest twice. (Convergence is not promised: a node may never come back.)
#[test]
fn random_scenarios_under_random_faults_keep_the_invariants() {
    use podlab::cluster::config::{Brownout, Component, ControlPlaneConfig, Fault};
    use podlab::cluster::rng::{below, stream};
    use podlab::cluster::{NodeId, SimDuration, SimTime};
    let failures: Vec<String> = (0..budget() / 12)
        .into_par_iter()
        .flat_map(|seed| podlab::schedulers::POLICIES.par_iter().map(move |p| (seed, *p)))
        .filter_map(|(seed, policy)| {
            let mut case = swarm::generate(20_000 + seed, Some(policy));
            // This test brings its own control plane and faults.
            (case.periods, case.churn) = (None, None);
            let mut s = podlab::load_str("swarm.yaml", &case.yaml()).expect("the swarm writes valid scenarios");
            if policy == "mesos" {
                // A pod bound by `spec.nodeName` reaches the Mesos master only through its
                // watch, which now lags: until then the master may offer the room it took, and
                // the cell-wide offer invariant flags it (ARCHITECTURE.md names this). Here
                // the master is the only binder, as in Mesos.
                s.workload.prefill = None;
                for p in s.pods.held_mut() {
                    std::sync::Arc::make_mut(p).set_node_name(None);
                }
            }
            // The fault plan's own stream: the swarm's draws stay as they were.
            let rng = &mut stream(seed, "swarm/faults");
            let secs = |rng: &mut _, max: u64| SimDuration::from_millis(below(rng, max * 1000));
            let at = |rng: &mut _| SimTime::ZERO + secs(rng, 100);
            let mut cp = ControlPlaneConfig::kubernetes();
            cp.watch_drop_rate = [0.0, 0.01, 0.05][below(rng, 3) as usize];
            s.control_plane = Some(cp);
            s.duration = Some(SimDuration::from_secs(300));
            for _ in 0..1 + below(rng, 5) {
                let node = NodeId(below(rng, s.nodes.len() as u64) as u32);
                let fault = match below(rng, 6) {
                    0 => Fault::NodeCrash { at: at(rng), node, recover_after: Some(secs(rng, 150)) },
                    1 => Fault::Partition { at: at(rng), node, heal_after: Some(secs(rng, 150)) },
                    2 => Fault::EtcdLeaderLoss { at: at(rng), election: secs(rng, 5) },
                    3 => Fault::ApiServerBrownout {
                        at: at(rng),
                        lasting: secs(rng, 60),
                        brownout: Brownout {
                            latency_factor: 50.0,
                            error_rate: 0.2,
                            throttle_rate: 0.2,
                            retry_after: SimDuration::from_secs(1),
                            timeout: Some(SimDuration::from_millis(200)),
                        },
                    },
                    component => Fault::ComponentCrash {
                        at: at(rng),
                        component: if component == 4 { Component::Scheduler } else { Component::ControllerManager },
                        name: None,
                        restart_after: Some(secs(rng, 60)),
                    },
                };
                s.faults.push(fault);
            }
            s.faults.sort_by_key(Fault::at);
            let run = |s: &podlab::cluster::scenario::Scenario| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| podlab::run_policy(s, policy, seed, true)))
            };
            let (a, b) = match (run(&s), run(&s)) {
                (Ok(Ok(a)), Ok(Ok(b))) => (a, b),
                _ => return Some(format!("seed {seed} {policy}: the run panicked or could not start\n{:?}", s.faults)),
            };
            if let Some(v) = a.sim.violations.first() {
                return Some(format!("seed {seed} {policy}: {v}\n{:?}\n{}", s.faults, case.yaml()));
            }
            (a.sim.digest != b.sim.digest).then(|| format!("seed {seed} {policy}: two digests"))
        })
        .collect();
    assert!(failures.is_empty(), "{} failed:\n{}", failures.len(), failures.join("\n"));
}
