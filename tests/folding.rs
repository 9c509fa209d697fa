//! The summary folded as a run's records are written is the one read back from them: for the
//! bundled scenarios that exercise each fold (groups split and partial, Mesos offers and
//! deadlocks, Omega conflicts, crashes, the control plane's latencies), under every policy they
//! name; and a run that keeps no records gives the same summary as one that keeps them.

use std::path::Path;

use podlab::reports::{RunInfo, summarize};
use podlab::{RunOptions, run_policy_with};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn folded_summaries_are_the_replayed_ones() {
    let files = [
        "scenarios/coscheduling.yaml",
        "scenarios/gang-node-crash.yaml",
        "scenarios/mesos-deadlock.yaml",
        "scenarios/omega-race.yaml",
        "scenarios/apiserver-timeouts.yaml",
        "scenarios/node-crash-deployment.yaml",
        "scenarios/random-node-crashes.yaml",
        "scenarios/gpu-sharing.yaml",
    ];
    for file in files {
        let scenario = podlab::load(&root().join(file)).unwrap();
        for policy in &scenario.policies {
            let kept = RunOptions { check_invariants: false, keep_records: true };
            let run = run_policy_with(&scenario, policy, scenario.seed, kept).unwrap();
            let info = RunInfo {
                policy,
                controllers: &run.sim.controllers,
                seed: run.seed,
                digest: &run.sim.digest,
                end: run.sim.end,
                events: run.sim.events_processed,
            };
            let replayed = summarize(&run.scenario, &run.sim.records, &info);
            assert_eq!(run.summary, replayed, "{file} under {policy}");
            assert!(run.summary.pods.total > 0, "{file}: a run with pods");
        }
    }
}

/// Without expectations, Deployments or Jobs, a run that keeps no records has none, and the
/// same summary and first pods' outcomes.
#[test]
fn a_run_without_records_is_summarized_alike() {
    let text = podlab::bench::scale_scenario_text(50, 3_000);
    let scenario = podlab::load_str("scale.yaml", &text).unwrap();
    assert!(!podlab::reports::needs_records(&scenario));
    let with = |keep_records| {
        run_policy_with(&scenario, "kubernetes", scenario.seed, RunOptions { check_invariants: true, keep_records })
            .unwrap()
    };
    let (kept, folded) = (with(true), with(false));
    assert!(folded.sim.records.is_empty() && !kept.sim.records.is_empty());
    assert_eq!(folded.summary, kept.summary);
    assert_eq!(folded.first_pods.pods, kept.first_pods.pods);
    assert_eq!(folded.summary.pods.succeeded, 3_000, "{:?}", folded.summary.pods);
    assert!(folded.sim.violations.is_empty(), "{:?}", folded.sim.violations);
}
