//! Conformance with upstream kube-scheduler v1.35.4, decision by decision: every scenario of
//! `data/conformance/<family>/` replayed in lockstep as its README says. For each arriving pod
//! the `kubernetes` profile's cycle runs on the snapshot kube-scheduler had; its filter
//! verdicts (plugin, reasons, code), feasible count, every plugin's weighted score and total
//! per node, and top set are compared with the recorded ones (and, where the pod fit nowhere,
//! DefaultPreemption's nomination and victims); then the step's recorded events (bindings,
//! deletions) are applied, so each step starts from upstream's state whatever podlab decided.
//!
//! The test prints each family's agreement and the first mismatches of each (step, node,
//! plugin, expected and got), and asserts 100% for the families in [`ASSERTED`].

#![allow(
    clippy::disallowed_macros,
    reason = "the agreement table is printed for `cargo test -- --nocapture`: the harness reads it"
)]

mod common;

#[path = "common/conformance.rs"]
mod conformance;

use conformance::{FamilyReport, replay_family};

/// The families whose every decision must match: all of them. A: resources
/// (NodeResourcesFit, BalancedAllocation); B: PodTopologySpread's system defaults; C:
/// InterPodAffinity; D: taints, node affinity, cordons; E: DefaultPreemption and PDBs; F:
/// ImageLocality; G: everything together. (A family whose plugin is missing or wrong would be
/// left out of this list until it reproduces every decision, never asserted below 100%.)
const ASSERTED: &[&str] = &["A", "B", "C", "D", "E", "F", "G"];

/// The families whose tie-free scenarios (`*04`–`*07`) must also run freely to upstream's
/// placements: all of them (a family is listed once the controller's queue, retries, bindings
/// and preemptions reproduce every placement).
const FREE_RUN: &[&str] = &["A", "B", "C", "D", "E", "F", "G"];

/// Every family, replayed; the ones in [`ASSERTED`] must agree everywhere.
#[test]
fn kube_scheduler_v1_35_decisions() {
    let root = common::root().join("data/conformance");
    let reports: Vec<FamilyReport> = conformance::FAMILIES.iter().map(|f| replay_family(&root, f)).collect();
    println!("{:<7} {:>9} {:>9} {:>8}  asserted", "family", "matched", "decisions", "agree");
    for r in &reports {
        let asserted = if ASSERTED.contains(&r.family.as_str()) { "yes" } else { "no" };
        println!("{:<7} {:>9} {:>9} {:>7.1}%  {asserted}", r.family, r.matched, r.total, r.percent());
    }
    for r in &reports {
        r.print_mismatches(8);
    }
    let failing: Vec<String> = reports
        .iter()
        .filter(|r| ASSERTED.contains(&r.family.as_str()) && !r.all_matched())
        .map(|r| format!("{} {}/{}", r.family, r.matched, r.total))
        .collect();
    assert!(failing.is_empty(), "families below 100%: {failing:?} (mismatches printed above)");
}

/// The harness itself can fail: a decision recorded with a different score is a mismatch.
#[test]
fn a_changed_score_is_a_mismatch() {
    let root = common::root().join("data/conformance");
    let report = conformance::replay_scenario_with(&root.join("A"), "a04", |line| {
        if let Some(scores) = line.get_mut("scores").and_then(|s| s.as_object_mut())
            && let Some(first) = scores.values_mut().next()
            && let Some(total) = first.get_mut("total")
        {
            *total = serde_json::json!(total.as_i64().unwrap_or(0) + 1);
        }
    });
    assert!(report.matched < report.total, "a tampered total went unnoticed: {}/{}", report.matched, report.total);
    assert!(report.mismatches.iter().any(|m| m.what.contains("total")), "{:?}", report.mismatches.first());
}

/// A PodDisruptionBudget's recorded status and a preemptor's later binding cycle are compared
/// too: tampered, every line that has them is a mismatch.
#[test]
fn a_changed_budget_or_binding_cycle_is_a_mismatch() {
    let root = common::root().join("data/conformance");
    let budgets = conformance::replay_scenario_with(&root.join("E"), "e04", |line| {
        if let Some(allowed) = line.get_mut("pdbs_disruptions_allowed").and_then(|s| s.as_object_mut()) {
            allowed.values_mut().for_each(|v| *v = serde_json::json!(v.as_i64().unwrap_or(0) + 1));
        }
    });
    assert_eq!(budgets.matched, 0, "{:?}", budgets.mismatches.first());
    assert!(budgets.mismatches.iter().any(|m| m.what.contains("disruptionsAllowed")));
    let cycles = conformance::replay_scenario_with(&root.join("E"), "e04", |line| {
        if let Some(cycle) = line.get_mut("bound_cycle").and_then(|s| s.as_object_mut()) {
            cycle.insert("top_nodes".into(), serde_json::json!(["elsewhere"]));
        }
    });
    assert!(cycles.matched < cycles.total, "a tampered binding cycle went unnoticed");
    assert!(cycles.mismatches.iter().any(|m| m.what.contains("binding cycle")), "{:?}", cycles.mismatches.first());
}

/// The tie-free scenarios run freely in the simulator under `kubernetes`, decisions taking no
/// simulated time as upstream's ran to an empty queue between arrivals: the controller's
/// queue, retries, bindings and preemptions end every pod where upstream's did, in every
/// family listed in [`FREE_RUN`].
#[test]
fn tie_free_scenarios_run_freely_to_upstreams_placements() {
    let root = common::root().join("data/conformance");
    let mut failures = Vec::new();
    for family in conformance::FAMILIES {
        for i in 4..8 {
            let name = format!("{}{i:02}", family.to_lowercase());
            let differences = conformance::free_run(&root.join(family), &name);
            println!("free run {name}: {}", if differences.is_empty() { "as upstream" } else { "differs" });
            if FREE_RUN.contains(family) {
                failures.extend(differences.into_iter().take(5));
            } else {
                for d in differences.iter().take(3) {
                    println!("  {d}");
                }
            }
        }
    }
    assert!(failures.is_empty(), "free runs differ from upstream:\n{}", failures.join("\n"));
}
