//! The story first: the dozen metrics that tell a comparison apart, chosen for the scenario's
//! policies (placements, violations, pending pods, waits, utilisation, and each design's own
//! headline — Mesos's locked offers, Omega's conflicts, gang scheduling's reservations), and the
//! picture that tells the scenario's story: who went where under each policy, split pods
//! marked. `podlab run` and `podlab compare` print the rows; `report.html` opens with both.

use crate::charts::{Chart, GanttBar, Plot};
use crate::comparison::{Comparison, MetricRow, ScenarioInfo, Unit};

/// When a headline row is shown.
#[derive(Clone, Copy, Debug)]
enum When {
    Always,
    /// When some policy's value is not zero.
    NonZero,
    /// When one of these policies runs and some policy's value is not zero.
    Policies(&'static [&'static str]),
}

/// One row of the headline table.
#[derive(Clone, Copy, Debug)]
pub struct HeadlineRow {
    pub metric: &'static str,
    pub label: &'static str,
    pub unit: Unit,
    when: When,
}

const fn row(metric: &'static str, label: &'static str, unit: Unit, when: When) -> HeadlineRow {
    HeadlineRow { metric, label, unit, when }
}

const PODS: Unit = Unit::Count("pods per run");
const CORE_SECONDS: Unit = Unit::Count("core-seconds per run");
const PAPER: &[&str] = &["mesos", "omega", "monolithic"];

/// The candidates, in the order shown.
const CANDIDATES: &[HeadlineRow] = &[
    row("pods.scheduled", "pods scheduled", PODS, When::Always),
    row("colocation.violations", "co-location violations", Unit::Count("per run"), When::Always),
    row("colocation.split_pods", "  pods split across nodes", PODS, When::Always),
    row("colocation.split_groups", "  groups split against their rule", Unit::Count("groups per run"), When::NonZero),
    row("colocation.spread_groups", "groups spread over nodes", Unit::Count("groups per run"), When::NonZero),
    row("colocation.partial_groups", "groups partly placed", Unit::Count("groups per run"), When::NonZero),
    row("pods.pending", "pods pending at the end", PODS, When::Always),
    row("time_to_schedule.never_scheduled", "pods never scheduled", PODS, When::NonZero),
    row("time_to_schedule.p50_ns", "time to schedule, p50", Unit::Seconds, When::Always),
    row("time_to_schedule.p99_ns", "time to schedule, p99", Unit::Seconds, When::Always),
    row("utilisation.cpu", "CPU utilisation", Unit::Percent, When::Always),
    row("utilisation.memory", "memory utilisation", Unit::Percent, When::Always),
    row("preemptions", "preemptions", Unit::Count("per run"), When::NonZero),
    row("reserved_at_permit.cpu_core_seconds", "reserved at Permit (core·s)", CORE_SECONDS, When::Policies(&["gang"])),
    row("locked_in_offers.cpu_core_seconds", "locked in offers (core·s)", CORE_SECONDS, When::Policies(&["mesos"])),
    row("hoarded.cpu_core_seconds", "hoarded while idle (core·s)", CORE_SECONDS, When::Policies(&["mesos"])),
    row("deadlocks.count", "hoarding deadlocks", Unit::Count("per run"), When::Policies(&["mesos"])),
    row(
        "all_schedulers.conflict_fraction",
        "conflict fraction",
        Unit::Count("per attempt"),
        When::Policies(&["omega"]),
    ),
    row("all_schedulers.busyness", "scheduler busyness", Unit::Percent, When::Policies(PAPER)),
    row("paper_jobs.abandoned", "jobs abandoned (Omega paper)", Unit::Count("jobs per run"), When::Policies(PAPER)),
    row("control_plane.pods_lost", "pods lost with their node", PODS, When::NonZero),
    row("workloads.jobs_completed", "Jobs completed", Unit::Count("Jobs per run"), When::NonZero),
    row("workloads.rollouts_completed", "rollouts completed", Unit::Count("per run"), When::NonZero),
];

/// The headline rows for these policies: `values(metric)` gives each policy's value (a mean over
/// seeds), `None` where it has none.
pub fn headline_rows(policies: &[String], values: &dyn Fn(&str) -> Vec<Option<f64>>) -> Vec<HeadlineRow> {
    let runs = |names: &[&str]| policies.iter().any(|p| names.contains(&p.as_str()));
    CANDIDATES
        .iter()
        .filter(|r| {
            let values = values(r.metric);
            if values.iter().all(Option::is_none) {
                return false;
            }
            let non_zero = values.iter().flatten().any(|v| *v != 0.0);
            match r.when {
                When::Always => true,
                When::NonZero => non_zero,
                When::Policies(names) => runs(names) && non_zero,
            }
        })
        .copied()
        .collect()
}

/// The most nodes per policy the story chart shows, and in all.
const STORY_ROWS: usize = 16;

impl Comparison {
    /// The headline rows of a scenario, each with its estimates per policy.
    pub fn headline(&self, s: &ScenarioInfo) -> Vec<(HeadlineRow, MetricRow)> {
        let rows = self.metric_rows(s);
        let find = |metric: &str| rows.iter().find(|r| r.metric == metric);
        let values = |metric: &str| {
            find(metric).map_or_else(
                || vec![None; s.policies.len()],
                |r| r.per_policy.iter().map(|e| e.map(|e| e.mean)).collect(),
            )
        };
        headline_rows(&s.policies, &values).into_iter().filter_map(|h| Some((h, find(h.metric)?.clone()))).collect()
    }

    /// Who went where under each policy (its first seed), one row per policy and node, split
    /// pods outlined in red; at most [`STORY_ROWS`] rows, the nodes with split pods first, then
    /// the busiest. `None` without the runs' series (`--summary-only`). The second value says
    /// whether every node of every policy is shown (the per-policy Gantt charts would then
    /// repeat it).
    pub fn story_chart(&self, s: &ScenarioInfo) -> Option<(Chart, bool)> {
        let charted: Vec<(&str, &crate::comparison::RunResult)> = s
            .policies
            .iter()
            .filter_map(|p| {
                let run = self.runs.iter().find(|r| r.scenario == s.name && &r.policy == p)?;
                run.detail.as_ref()?;
                Some((p.as_str(), run))
            })
            .collect();
        if charted.is_empty() || s.nodes.is_empty() {
            return None;
        }
        let per_policy = (STORY_ROWS / charted.len()).clamp(1, s.nodes.len());
        let whole = per_policy == s.nodes.len();
        let (mut rows, mut bars, mut keys) = (Vec::new(), Vec::new(), Vec::<String>::new());
        let mut x_max: f64 = 1e-9;
        for (policy, run) in &charted {
            let detail = run.detail.as_ref()?;
            x_max = x_max.max(run.end_ns as f64 * 1e-9);
            // Nodes with split pods first, then the busiest, then in order.
            let mut nodes: Vec<usize> = (0..s.nodes.len()).collect();
            let score = |n: usize| {
                let spans = detail.spans.iter().filter(|sp| sp.node == n);
                let split = spans.clone().filter(|sp| sp.split).count();
                (std::cmp::Reverse(split), std::cmp::Reverse(spans.count()), n)
            };
            nodes.sort_by_key(|&n| score(n));
            let mut shown: Vec<usize> = nodes.into_iter().take(per_policy).collect();
            shown.sort_unstable();
            for node in shown {
                let row = rows.len();
                rows.push(format!("{policy} · {}", s.nodes[node]));
                for span in detail.spans.iter().filter(|sp| sp.node == node) {
                    let colour = match keys.iter().position(|k| *k == span.colour_key) {
                        Some(i) => i,
                        None => {
                            keys.push(span.colour_key.clone());
                            keys.len() - 1
                        }
                    };
                    bars.push(GanttBar {
                        row,
                        start: span.start_ns as f64 * 1e-9,
                        end: span.end_ns as f64 * 1e-9,
                        label: span.label.clone(),
                        color: colour % 9,
                        marked: span.split,
                    });
                }
            }
        }
        let seed = charted[0].1.seed;
        let cut = if whole { String::new() } else { format!(", {per_policy} of {} nodes each", s.nodes.len()) };
        let chart = Chart {
            title: format!("Who went where — seed {seed}{cut}"),
            x_label: "simulated time (seconds)".into(),
            y_label: "policy · node".into(),
            plot: Plot::Gantt {
                rows,
                bars,
                x_max,
                legend: keys.iter().enumerate().map(|(i, k)| (k.clone(), i % 9)).collect(),
            },
        };
        Some((chart, whole))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows follow the policies: Mesos brings its locked offers, a zero-valued optional row
    /// stays out, and the core rows are always there.
    #[test]
    fn rows_are_chosen_for_the_policies() {
        let policies: Vec<String> = ["kubernetes", "mesos"].iter().map(|p| p.to_string()).collect();
        let values = |metric: &str| match metric {
            "locked_in_offers.cpu_core_seconds" => vec![Some(0.0), Some(3.5)],
            "paper_jobs.abandoned" => vec![None, Some(2.0)],
            "all_schedulers.conflict_fraction" => vec![Some(0.5), Some(0.5)],
            _ => vec![Some(0.0), Some(0.0)],
        };
        let rows: Vec<&str> = headline_rows(&policies, &values).iter().map(|r| r.metric).collect();
        assert!(rows.contains(&"locked_in_offers.cpu_core_seconds"), "{rows:?}");
        assert!(!rows.contains(&"colocation.spread_groups"), "{rows:?}");
        assert!(!rows.contains(&"all_schedulers.conflict_fraction"), "omega is not run: {rows:?}");
        assert!(rows.contains(&"colocation.violations") && rows.contains(&"time_to_schedule.p99_ns"));
        assert!(rows.contains(&"paper_jobs.abandoned"), "{rows:?}");
        assert!(rows.len() <= 12, "{rows:?}");
    }
}
