//! The summary folded as a run's records are written is the one read back from them: for the
//! bundled scenarios that exercise each fold (groups split and partial, Mesos offers and
//! deadlocks, Omega conflicts, crashes, the control plane's latencies), under every policy they
//! name, and its pod counts are those of every pod's outcome replayed (the fold drops a pod's
//! books when it finishes); and a run that keeps no records summarizes as one that keeps them.

mod common;

use podlab::cluster::{Phase, PodId};
use podlab::reports::summary::{Percentiles, Summary};
use podlab::reports::{Outcomes, RunInfo, summarize};
use podlab::{RunOptions, run_policy_with};

use common::root;

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
            let kept = RunOptions { check_invariants: false, keep_records: true, ..RunOptions::default() };
            let run = run_policy_with(&scenario, policy, scenario.seed, kept).unwrap();
            let info = RunInfo {
                policy,
                controllers: &run.sim.controllers,
                seed: run.seed,
                digest: &run.sim.digest,
                end: run.sim.end,
                events: run.sim.events_processed,
                stopped: run.summary.stopped.clone(),
            };
            let replayed = summarize(&run.scenario, &run.sim.records, &info);
            assert_eq!(run.summary, replayed, "{file} under {policy}");
            check_against_every_pods_outcome(&run, &format!("{file} under {policy}"));
            assert!(run.summary.pods.total > 0, "{file}: a run with pods");
        }
    }
}

/// The fold drops a pod's books once it has succeeded or failed: its counts must be those of
/// every pod's outcome replayed to the end, as the reports counted before they folded.
fn check_against_every_pods_outcome(run: &podlab::PolicyRun, what: &str) {
    let scenario = &*run.scenario;
    let outcomes = Outcomes::replay(scenario, &run.sim.records, run.sim.end);
    let Summary { pods, colocation, time_to_schedule, .. } = &run.summary;
    let (mut counts, mut waits) = ([0u64; 7], Vec::new());
    let (mut split, mut partial) = (0, 0);
    for (i, o) in outcomes.pods.iter().enumerate() {
        let slot = match outcomes.phase(scenario, PodId(i as u32)) {
            None => 0,
            Some(Phase::Pending) if o.deleted => 1,
            Some(Phase::Pending) => 2,
            Some(Phase::Running) => 3,
            Some(Phase::Succeeded) => 4,
            Some(Phase::Failed) => 5,
        };
        counts[slot] += 1;
        if let (Some(created), Some(scheduled)) = (o.created_at(), o.scheduled_at()) {
            counts[6] += 1;
            waits.push(scheduled.since(created).as_nanos());
        }
        split += u64::from(o.split());
        partial += u64::from(o.partial);
    }
    let folded =
        [pods.not_arrived, pods.deleted, pods.pending, pods.running, pods.succeeded, pods.failed, pods.scheduled];
    assert_eq!(folded, counts, "{what}: not arrived, deleted, pending, running, succeeded, failed, scheduled");
    assert_eq!((colocation.split_pods, colocation.partial_pods), (split, partial), "{what}");
    let spread = scenario.group_members().iter().filter(|m| outcomes.group_nodes(m).len() > 1).count();
    assert_eq!(colocation.spread_groups, spread as u64, "{what}");
    assert_eq!(colocation.partial_groups, outcomes.partial_groups.len() as u64, "{what}");
    // With no pod left unscheduled, the censored waits are the plain nearest-rank ones.
    let scheduled = Percentiles::of(waits);
    assert_eq!((time_to_schedule.scheduled, time_to_schedule.max_ns), (scheduled.count, scheduled.max_ns), "{what}");
    let never = counts[1] + counts[2];
    assert_eq!(time_to_schedule.never_scheduled, never, "{what}: pods never scheduled");
    if never == 0 {
        let p = (time_to_schedule.p50_ns, time_to_schedule.p90_ns, time_to_schedule.p99_ns, time_to_schedule.mean_ns);
        assert_eq!(p, (scheduled.p50_ns, scheduled.p90_ns, scheduled.p99_ns, scheduled.mean_ns), "{what}");
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
        run_policy_with(
            &scenario,
            "kubernetes",
            scenario.seed,
            RunOptions { check_invariants: true, keep_records, ..RunOptions::default() },
        )
        .unwrap()
    };
    let (kept, folded) = (with(true), with(false));
    assert!(folded.sim.records.is_empty() && !kept.sim.records.is_empty());
    assert_eq!(folded.summary, kept.summary);
    assert_eq!(folded.first_pods.pods, kept.first_pods.pods);
    assert_eq!(folded.summary.pods.succeeded, 3_000, "{:?}", folded.summary.pods);
    assert!(folded.sim.violations.is_empty(), "{:?}", folded.sim.violations);
}
