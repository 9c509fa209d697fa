//! The readable comparison `podlab run` prints: metrics side by side, where each pod landed,
//! the verdict on every expectation, and each run's digest.

use std::fmt::Write;

use crate::PolicyRun;
use crate::cluster::scenario::Scenario;
use crate::cluster::{PodId, SimDuration};

/// Pods listed one by one before the list is cut short.
const MAX_PLACEMENT_ROWS: usize = crate::FIRST_PODS;

/// The comparison of `runs`: the headline rows (every metric with `all`), where each pod
/// landed, the verdicts, the digests.
pub fn report(scenario: &Scenario, seed: u64, runs: &[PolicyRun], all: bool) -> String {
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

    metrics_table(&mut out, runs, all);
    let width = runs.iter().map(|r| r.policy.len()).max().unwrap_or(0).max(14) + 2;

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

/// The headline rows `podlab compare` shows, for these runs (every metric of their summaries,
/// by name, with `all`), side by side.
fn metrics_table(out: &mut String, runs: &[PolicyRun], all: bool) {
    use crate::reports::comparison::Unit;
    let flat: Vec<Vec<crate::reports::metrics::Metric>> =
        runs.iter().map(|r| crate::reports::metrics::flatten(&r.summary)).collect();
    let value = |i: usize, metric: &str| flat[i].iter().find(|m| m.name == metric).map(|m| m.value);
    let values = |metric: &str| (0..runs.len()).map(|i| value(i, metric)).collect::<Vec<_>>();
    let policies: Vec<String> = runs.iter().map(|r| r.policy.clone()).collect();
    let rows: Vec<(String, String, Unit)> = if all {
        let names = flat.iter().flatten().map(|m| m.name.clone());
        let mut seen: Vec<String> = Vec::new();
        names.for_each(|n| {
            if !seen.contains(&n) {
                seen.push(n)
            }
        });
        seen.into_iter().map(|n| (n.clone(), n.clone(), Unit::of(&n))).collect()
    } else {
        crate::reports::headline::headline_rows(&policies, &values)
            .into_iter()
            .map(|h| (h.label.to_string(), h.metric.to_string(), h.unit))
            .collect()
    };
    let cell = |i: usize, metric: &str, unit: Unit| match (value(i, metric), unit) {
        // A percentile the pods never scheduled keep out of reach.
        (None, _) if metric.starts_with("time_to_schedule.p") => "not reached".to_string(),
        (None, _) => "—".to_string(),
        (Some(ns), Unit::Seconds) => SimDuration(ns as u64).to_string(),
        (Some(ratio), Unit::Percent) if ratio > 0.0 && ratio < 0.0005 => "<0.1%".to_string(),
        (Some(ratio), Unit::Percent) => format!("{:.1}%", ratio * 100.0),
        (Some(n), _) if metric == "pods.scheduled" => format!("{n}/{}", value(i, "pods.total").unwrap_or(n)),
        (Some(n), Unit::Count(_)) if n.fract() == 0.0 => format!("{n}"),
        (Some(x), Unit::Count(_)) => crate::reports::charts::axis_number(x),
    };
    let label_width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0).max(20) + 2;
    let width = runs.iter().map(|r| r.policy.len()).max().unwrap_or(0).max(12) + 2;
    let _ = write!(out, "{:<label_width$}", "");
    for r in runs {
        let _ = write!(out, "{:<width$}", r.policy);
    }
    out.push('\n');
    for (label, metric, unit) in &rows {
        let _ = write!(out, "{label:<label_width$}");
        for i in 0..runs.len() {
            let _ = write!(out, "{:<width$}", cell(i, metric, *unit));
        }
        out.push('\n');
    }
    if !all {
        let total = flat.first().map_or(0, Vec::len);
        let _ = writeln!(
            out,
            "({} rows of {total} metrics: --all-metrics prints every one; --out writes summary.json)",
            rows.len()
        );
    }
}
