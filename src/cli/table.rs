//! The readable comparison `podlab run` prints: metrics side by side, where each pod landed,
//! the verdict on every expectation, and each run's digest.

use std::fmt::Write;

use crate::PolicyRun;
use crate::cluster::scenario::Scenario;
use crate::cluster::{PodId, SimDuration};

/// Pods listed one by one before the list is cut short.
const MAX_PLACEMENT_ROWS: usize = crate::FIRST_PODS;

pub fn report(scenario: &Scenario, seed: u64, runs: &[PolicyRun]) -> String {
    let mut out = String::new();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(out, "{} — {}", scenario.name, scenario.file);
    // A generated workload is drawn per seed: its pods are counted as the first run had them.
    let (pods, groups, drawn) = match runs.first() {
        Some(r) if !scenario.workload.is_empty() => {
            (r.scenario.pods.len(), r.scenario.groups.len(), " (the workload drawn for it)")
        }
        _ => (scenario.pods.len(), scenario.groups.len(), ""),
    };
    let _ = writeln!(
        out,
        "{}, {}, {}, seed {seed}{drawn}\n",
        plural(scenario.nodes.len(), "node"),
        plural(pods, "pod"),
        plural(groups, "group")
    );
    for a in &scenario.attributions {
        let _ = writeln!(out, "data: {a}\n");
    }

    let dur = |ns: Option<u64>| ns.map_or("—".to_string(), |n| SimDuration(n).to_string());
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let mut rows: Vec<(&str, Vec<String>)> = Vec::new();
    let mut row = |label, cell: &dyn Fn(&PolicyRun) -> String| rows.push((label, runs.iter().map(cell).collect()));
    row("pods scheduled", &|r| format!("{}/{}", r.summary.pods.scheduled, r.summary.pods.total));
    row("pending / running / done", &|r| {
        let p = &r.summary.pods;
        format!("{} / {} / {}", p.pending, p.running, p.succeeded + p.failed)
    });
    row("co-location violations", &|r| r.summary.colocation.violations.to_string());
    row("  split pods / groups", &|r| {
        format!("{} / {}", r.summary.colocation.split_pods, r.summary.colocation.split_groups)
    });
    row("groups spread over nodes", &|r| r.summary.colocation.spread_groups.to_string());
    row("partial pods / groups", &|r| {
        format!("{} / {}", r.summary.colocation.partial_pods, r.summary.colocation.partial_groups)
    });
    row("pods never scheduled", &|r| r.summary.time_to_schedule.never_scheduled.to_string());
    // Censored: a percentile that too many pods never scheduled to reach is not reached.
    let reached = |ns: Option<u64>| ns.map_or("not reached".to_string(), |n| SimDuration(n).to_string());
    row("time to schedule p50", &|r| reached(r.summary.time_to_schedule.p50_ns));
    row("time to schedule p99", &|r| reached(r.summary.time_to_schedule.p99_ns));
    row("unschedulable attempts", &|r| r.summary.unschedulable_attempts.to_string());
    row("jobs (Omega paper) scheduled", &|r| {
        let j = &r.summary.scheduling.jobs;
        format!("{}/{}", j.fully_scheduled, j.total)
    });
    row("jobs abandoned", &|r| r.summary.scheduling.jobs.abandoned.to_string());
    row("job wait to 1st attempt p90", &|r| dur(r.summary.scheduling.jobs.wait_to_first_attempt.p90_ns));
    row("job wait to scheduled p90", &|r| dur(r.summary.scheduling.jobs.wait_to_fully_scheduled.p90_ns));
    row("  batch / service p90", &|r| {
        let by = &r.summary.scheduling.jobs.by_workload;
        // To the millisecond: two waits share the cell.
        let ms = |ns: u64| ns.div_ceil(1_000_000) * 1_000_000;
        let p90 = |class: &str| dur(by.get(class).and_then(|w| w.wait_to_first_attempt.p90_ns).map(ms));
        format!("{} / {}", p90("batch"), p90("service"))
    });
    row("scheduler busyness", &|r| pct(r.summary.scheduling.all_schedulers.busyness));
    row("  as the paper counts it", &|r| pct(r.summary.scheduling.all_schedulers.busyness_paper));
    row("conflict fraction", &|r| format!("{:.3}", r.summary.scheduling.all_schedulers.conflict_fraction));
    row("  as the paper counts it", &|r| format!("{:.3}", r.summary.scheduling.all_schedulers.conflict_fraction_paper));
    row("locked in offers (core·s)", &|r| format!("{:.1}", r.summary.scheduling.locked_in_offers.cpu_core_seconds));
    row("reserved/hoarded idle (core·s)", &|r| {
        let s = &r.summary.scheduling;
        format!("{:.1}", s.reserved_at_permit.cpu_core_seconds + s.hoarded.cpu_core_seconds)
    });
    row("deadlocks (total time)", &|r| {
        let d = &r.summary.scheduling.deadlocks;
        if d.count == 0 { "0".into() } else { format!("{} ({})", d.count, SimDuration(d.total_ns)) }
    });
    row("pod start-up p50 / p99", &|r| {
        let p = &r.summary.control_plane.pod_startup;
        format!("{} / {}", dur(p.p50_ns), dur(p.p99_ns))
    });
    row("pods lost / re-created", &|r| {
        let c = &r.summary.control_plane;
        format!("{} / {}", c.pods_lost, c.pods_recreated)
    });
    row("replica restore (max)", &|r| dur(r.summary.control_plane.replica_restore.max_ns));
    row("node failure detection", &|r| dur(r.summary.control_plane.node_failure_detection.max_ns));
    row("cpu utilisation", &|r| pct(r.summary.utilisation.cpu));
    row("memory utilisation", &|r| pct(r.summary.utilisation.memory));
    row("simulated time", &|r| SimDuration(r.summary.end_ns).to_string());
    row("events", &|r| r.summary.events.to_string());
    let width = runs.iter().map(|r| r.policy.len()).max().unwrap_or(0).max(14) + 2;
    let _ = write!(out, "{:<31}", "");
    for r in runs {
        let _ = write!(out, "{:<width$}", r.policy);
    }
    out.push('\n');
    for (label, cells) in &rows {
        let _ = write!(out, "{label:<31}");
        for cell in cells {
            let _ = write!(out, "{cell:<width$}");
        }
        out.push('\n');
    }

    let _ = writeln!(out, "\nwhere the pods landed");
    for r in runs {
        let scenario = &*r.scenario;
        let outcomes = &r.first_pods;
        for (i, pod) in scenario.pods.iter().enumerate().take(MAX_PLACEMENT_ROWS) {
            let o = &outcomes.pods[i];
            let mut places: Vec<String> = o
                .runs
                .iter()
                .map(|run| match run.part() {
                    crate::cluster::Part::Whole => scenario.nodes[run.node.index()].name.clone(),
                    part => format!("{} → {}", pod.part_name(part), scenario.nodes[run.node.index()].name),
                })
                .collect();
            if places.is_empty() {
                places.push("not placed".into());
            }
            let mut phase = outcomes.phase(scenario, PodId(i as u32)).map_or("not arrived", |p| p.as_str()).to_string();
            if let (true, Some(Some(why))) = (o.scheduled_at().is_none(), outcomes.waiting.get(i)) {
                phase = format!("{phase} — {why}");
            }
            let flag = if o.split() {
                "  SPLIT"
            } else if o.partial {
                "  PARTIAL"
            } else {
                ""
            };
            let _ = writeln!(out, "  {:<width$}{:<20} {} ({phase}){flag}", r.policy, pod.key(), places.join(", "));
        }
        if scenario.pods.len() > MAX_PLACEMENT_ROWS {
            let _ = writeln!(
                out,
                "  {:<width$}… {} more in placements.csv (--out)",
                r.policy,
                scenario.pods.len() - MAX_PLACEMENT_ROWS
            );
        }
    }

    let verdicts: usize = runs.iter().map(|r| r.verdicts.len()).sum();
    if verdicts > 0 {
        let held: usize = runs.iter().map(|r| r.verdicts.iter().filter(|v| v.holds()).count()).sum();
        let _ = writeln!(out, "\nexpectations: {held}/{verdicts} hold");
        for r in runs {
            for v in &r.verdicts {
                let e = &scenario.expectations[v.index];
                let mark = if v.holds() { "ok  " } else { "FAIL" };
                let why = e.why.as_deref().unwrap_or("");
                let _ = writeln!(out, "  {mark} {:<width$}line {:<4} {why}", r.policy, e.pos.line);
                for f in &v.failures {
                    let _ = writeln!(out, "         {f}");
                }
            }
        }
    }

    for r in runs {
        for v in &r.sim.violations {
            let _ = writeln!(out, "\nINVARIANT VIOLATED under {}: {v}", r.policy);
        }
    }

    let _ = writeln!(out, "\nevent-log digests");
    for r in runs {
        let _ = writeln!(out, "  {:<width$}{}", r.policy, r.sim.digest);
    }
    // Cells are padded to align columns; trailing padding helps no one.
    out.lines().map(str::trim_end).fold(String::with_capacity(out.len()), |mut acc, line| {
        acc.push_str(line);
        acc.push('\n');
        acc
    })
}
