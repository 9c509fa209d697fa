//! A comparison of policies over seeds (and scenarios): each run reduced to a `RunResult`, the
//! record a comparison needs, and from a list of them the tidy `results.csv`, the text table,
//! the charts and `report.html`. `podlab compare` builds the list in memory; `podlab sweep
//! merge` reads it back from each run's `result.json`. Both write through [`Comparison::write`],
//! so the same runs give byte-identical files either way.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use podlab_cluster::scenario::Scenario;
use podlab_cluster::{GroupId, Part, Records, SimTime};

use crate::charts::{Bar, Chart, GanttBar, Plot, Series, nice_max};
use crate::expect::Verdict;
use crate::metrics::{Estimate, Metric, flatten};
use crate::outcome::{Outcomes, groups_sharing_a_node};
use crate::series::{ClusterPoint, cluster_steps, never_scheduled, schedule_waits_ns, spans};
use crate::summary::Summary;
use crate::waits::kaplan_meier;

pub const RESULT_SCHEMA: &str = "podlab.run-result/v1";

/// Points kept for a chart's line: enough to look exact at any chart width.
const MAX_LINE_POINTS: usize = 1_500;
/// Nodes shown in a Gantt chart before it is cut short, and its greatest height in pixels.
const MAX_GANTT_NODES: usize = 40;
const MAX_GANTT_PX: usize = 1_600;
/// The file stem of the story chart (who went where), the first chart of a scenario.
pub const STORY_STEM: &str = "who-went-where";

/// Pods listed by name as never scheduled before the list says how many more.
pub const MAX_LISTED: usize = 20;

/// What a comparison keeps of one run (`result.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub schema: String,
    pub scenario: String,
    pub policy: String,
    pub seed: u64,
    /// `blake3:<hex>` of the run's event log.
    pub digest: String,
    pub end_ns: u64,
    /// The summary's numeric leaves, in its declaration order.
    pub metrics: Vec<Metric>,
    /// Each scheduled pod's time to schedule, sorted.
    pub waits_ns: Vec<u64>,
    /// Each never-scheduled pod's wait until the run ended (or it was deleted), sorted: the
    /// censored waits of the time-to-schedule curve.
    #[serde(default)]
    pub censored_ns: Vec<u64>,
    pub verdicts: Vec<VerdictLine>,
    /// Pods split across nodes, and groups split against their own rule: the violations, one
    /// readable line each.
    pub split: Vec<String>,
    /// Groups spread over nodes without a rule against it, one line each.
    #[serde(default)]
    pub spread: Vec<String>,
    /// Pods and groups left partly placed.
    pub partial: Vec<String>,
    /// Pods never scheduled, with why they waited (at most [`MAX_LISTED`], then how many more).
    #[serde(default)]
    pub unscheduled: Vec<String>,
    /// Whether the invariants were checked after every record.
    pub invariants_checked: bool,
    /// Invariant violations (checked runs only).
    pub violations: Vec<String>,
    /// Why the run stopped at a budget before its end, if it did (`Summary::stopped`): its
    /// figures are partial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// The series behind the over-time and Gantt charts: kept for the run that is charted (each
    /// policy's first seed), not for every seed.
    pub detail: Option<RunDetail>,
}

/// One `expect:` entry's verdict, readable without the scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerdictLine {
    /// Where the entry is written in the scenario file.
    pub line: u32,
    pub why: Option<String>,
    /// What did not hold; empty when it held.
    pub failures: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub cluster: Vec<ClusterPoint>,
    pub spans: Vec<SpanLine>,
}

/// One bound part on one node, for the Gantt chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpanLine {
    /// Index into the scenario's nodes.
    pub node: usize,
    /// The pod, or `pod/container` for a part placed on its own.
    pub label: String,
    /// What the bar is coloured by: its group, else its pod.
    pub colour_key: String,
    pub start_ns: u64,
    pub end_ns: u64,
    /// Its pod or group is split across nodes.
    pub split: bool,
}

/// What one run produced, for [`RunResult::new`].
pub struct RunInput<'a> {
    pub scenario: &'a Scenario,
    pub records: &'a Records,
    pub end: SimTime,
    pub summary: &'a Summary,
    pub verdicts: &'a [Verdict],
    pub invariants_checked: bool,
    pub violations: &'a [String],
    /// Keep the series for the over-time and Gantt charts.
    pub detailed: bool,
    /// The run's controllers by id, to name who gave a pod up.
    pub controllers: &'a [String],
}

impl RunResult {
    pub fn new(run: &RunInput<'_>) -> RunResult {
        let scenario = run.scenario;
        let outcomes = Outcomes::replay(scenario, run.records, run.end);
        let members = scenario.group_members();
        let node_name = |n: podlab_cluster::NodeId| scenario.nodes[n.index()].name.as_str();
        let mut split = Vec::new();
        let mut spread = Vec::new();
        let mut partial = Vec::new();
        let spread_groups: Vec<GroupId> = (0..members.len())
            .filter(|&g| outcomes.group_nodes(&members[g]).len() > 1)
            .map(|g| GroupId(g as u32))
            .collect();
        let mut group_split = vec![false; members.len()];
        for g in groups_sharing_a_node(scenario, &spread_groups) {
            group_split[g.index()] = true;
        }
        for (i, o) in outcomes.pods.iter().enumerate() {
            let pod = &scenario.pods.get(podlab_cluster::PodId(i as u32));
            if o.split() {
                let places: Vec<String> =
                    o.runs.iter().map(|r| format!("{} → {}", pod.part_name(r.part()), node_name(r.node))).collect();
                split.push(format!("pod {}: {}", pod.key(), places.join(", ")));
            }
            if o.partial {
                partial.push(format!("pod {}", pod.key()));
            }
        }
        for g in &spread_groups {
            let places: Vec<String> = members[g.index()]
                .iter()
                .map(|m| {
                    let nodes: Vec<&str> = outcomes.pods[m.index()].nodes().into_iter().map(node_name).collect();
                    format!("{} → {}", scenario.pods.get(*m).name, nodes.join(" + "))
                })
                .collect();
            let line = format!("group {}: {}", scenario.groups[g.index()].key(), places.join(", "));
            if group_split[g.index()] { split.push(line) } else { spread.push(line) }
        }
        for g in &outcomes.partial_groups {
            partial.push(format!("group {}", scenario.groups[g.index()].key()));
        }
        let never = never_scheduled(scenario, run.records, &outcomes, run.end, run.controllers, MAX_LISTED);
        let verdicts = run
            .verdicts
            .iter()
            .map(|v| {
                let e = &scenario.expectations[v.index];
                VerdictLine { line: e.pos.line, why: e.why.clone(), failures: v.failures.clone() }
            })
            .collect();
        let detail = run.detailed.then(|| RunDetail {
            cluster: cluster_steps(scenario, run.records, run.end, MAX_LINE_POINTS),
            spans: spans(&outcomes, run.end)
                .into_iter()
                .map(|s| {
                    let pod = &scenario.pods.get(s.pod);
                    let group = pod.group();
                    SpanLine {
                        node: s.node.index(),
                        label: match s.part {
                            Part::Whole => pod.key(),
                            part => format!("{}/{}", pod.key(), pod.part_name(part)),
                        },
                        colour_key: group.map_or_else(|| pod.key(), |g| scenario.groups[g.index()].key()),
                        start_ns: s.start.as_nanos(),
                        end_ns: s.end.as_nanos(),
                        split: outcomes.pods[s.pod.index()].split() || group.is_some_and(|g| group_split[g.index()]),
                    }
                })
                .collect(),
        });
        RunResult {
            schema: RESULT_SCHEMA.to_string(),
            scenario: scenario.name.clone(),
            policy: run.summary.policy.clone(),
            seed: run.summary.seed,
            digest: run.summary.digest.clone(),
            end_ns: run.summary.end_ns,
            metrics: flatten(run.summary),
            waits_ns: schedule_waits_ns(&outcomes),
            censored_ns: never.waits_ns,
            verdicts,
            split,
            spread,
            partial,
            unscheduled: never.listed,
            invariants_checked: run.invariants_checked,
            violations: run.violations.to_vec(),
            stopped: run.summary.stopped.clone(),
            detail,
        }
    }

    /// Whether every expectation and invariant held.
    pub fn ok(&self) -> bool {
        self.violations.is_empty() && self.verdicts.iter().all(|v| v.failures.is_empty())
    }

    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string_pretty(self).expect("a run result always serializes");
        json.push('\n');
        json
    }
}

/// What a comparison says about one scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioInfo {
    pub name: String,
    /// The file's name, without its directory: reports carry no paths of the machine they were
    /// made on.
    pub file: String,
    /// BLAKE3 of the file's bytes, which also keys the runs of a sweep.
    pub content_digest: String,
    pub nodes: Vec<String>,
    pub pods: usize,
    pub groups: usize,
    pub expectations: usize,
    pub policies: Vec<String>,
    pub seeds: Vec<u64>,
    /// Where the scenario's data comes from (traces' attributions), shown with its results.
    pub attributions: Vec<String>,
    /// The parameter values of a `--grid` variant, in the grid's order (empty otherwise):
    /// columns of `results.csv`, and the x axis of the charts across the grid.
    pub grid: Vec<(String, String)>,
}

impl ScenarioInfo {
    pub fn new(scenario: &Scenario, content_digest: &str, policies: &[String], seeds: &[u64]) -> ScenarioInfo {
        let file = Path::new(&scenario.file)
            .file_name()
            .map_or_else(|| scenario.file.clone(), |f| f.to_string_lossy().into_owned());
        ScenarioInfo {
            name: scenario.name.clone(),
            file,
            content_digest: content_digest.to_string(),
            nodes: scenario.nodes.iter().map(|n| n.name.clone()).collect(),
            pods: scenario.pods.len(),
            groups: scenario.groups.len(),
            expectations: scenario.expectations.len(),
            policies: policies.to_vec(),
            seeds: seeds.to_vec(),
            attributions: scenario.attributions.clone(),
            grid: Vec::new(),
        }
    }

    /// The scenario's name without its grid values: what the variants of one grid share.
    pub fn base_name(&self) -> &str {
        let suffix: Vec<String> = self.grid.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let suffix = format!(".{}", suffix.join("+"));
        if self.grid.is_empty() { &self.name } else { self.name.strip_suffix(&suffix).unwrap_or(&self.name) }
    }
}

/// The headline metrics, each charted as bars with error bars when present.
pub const HEADLINE: &[Headline] = &[
    Headline {
        metric: "colocation.violations",
        title: "Co-location violations",
        unit: Unit::Count("pods (and must-share groups) split per run"),
    },
    Headline { metric: "time_to_schedule.p50_ns", title: "Time to schedule, median", unit: Unit::Seconds },
    Headline { metric: "time_to_schedule.p99_ns", title: "Time to schedule, p99", unit: Unit::Seconds },
    Headline { metric: "utilisation.cpu", title: "CPU utilisation", unit: Unit::Percent },
    Headline { metric: "utilisation.memory", title: "Memory utilisation", unit: Unit::Percent },
    Headline { metric: "pods.pending", title: "Pods pending at the end", unit: Unit::Count("pods per run") },
];

#[derive(Clone, Copy, Debug)]
pub struct Headline {
    pub metric: &'static str,
    pub title: &'static str,
    pub unit: Unit,
}

/// How a metric's values are shown.
#[derive(Clone, Copy, Debug)]
pub enum Unit {
    /// A count; the axis says of what.
    Count(&'static str),
    /// Nanoseconds, shown in seconds.
    Seconds,
    /// A ratio, shown in percent (of allocatable, time-averaged).
    Percent,
}

impl Unit {
    /// The unit a metric's name implies: `_ns` is time; anything else a plain number.
    pub fn of(metric: &str) -> Unit {
        match HEADLINE.iter().find(|h| h.metric == metric) {
            Some(h) => h.unit,
            None if metric.ends_with("_ns") => Unit::Seconds,
            None => Unit::Count("value"),
        }
    }

    pub(crate) fn scale(self) -> f64 {
        match self {
            Unit::Count(_) => 1.0,
            Unit::Seconds => 1e-9,
            Unit::Percent => 100.0,
        }
    }

    pub(crate) fn axis(self) -> &'static str {
        match self {
            Unit::Count(what) => what,
            Unit::Seconds => "seconds",
            Unit::Percent => "% of allocatable, time-averaged",
        }
    }

    /// A value for a table cell.
    pub fn show(self, value: f64) -> String {
        let v = value * self.scale();
        let n = crate::charts::axis_number(v);
        match self {
            Unit::Count(_) => n,
            Unit::Seconds => format!("{n} s"),
            Unit::Percent if v > 0.0 && v < 0.01 => "<0.01%".to_string(),
            Unit::Percent => format!("{n}%"),
        }
    }

    /// An estimate for a table cell: `mean ± half-width`, or the value alone from one seed.
    pub fn show_estimate(self, e: &Estimate, of: usize) -> String {
        let mut cell = self.show(e.mean);
        if e.n > 1 && e.half_width > 0.0 {
            let half = crate::charts::axis_number(e.half_width * self.scale());
            let _ = write!(cell, " ± {half}");
        }
        if e.n < of {
            let _ = write!(cell, " (n={})", e.n);
        }
        cell
    }
}

/// One metric's estimate per policy, for one scenario.
#[derive(Clone, Debug)]
pub struct MetricRow {
    pub metric: String,
    pub per_policy: Vec<Option<Estimate>>,
}

/// The runs of a comparison, ordered by (scenario, policy, seed) as the scenarios list them.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub scenarios: Vec<ScenarioInfo>,
    pub runs: Vec<RunResult>,
}

impl Comparison {
    fn runs_of<'a>(&'a self, scenario: &'a str, policy: &'a str) -> impl Iterator<Item = &'a RunResult> + 'a {
        self.runs.iter().filter(move |r| r.scenario == scenario && r.policy == policy)
    }

    /// Every metric of a scenario's runs, in first-seen order, estimated per policy.
    pub fn metric_rows(&self, s: &ScenarioInfo) -> Vec<MetricRow> {
        let mut names: Vec<String> = Vec::new();
        let mut seen: BTreeMap<&str, ()> = BTreeMap::new();
        for r in self.runs.iter().filter(|r| r.scenario == s.name) {
            for m in &r.metrics {
                if seen.insert(&m.name, ()).is_none() {
                    names.push(m.name.clone());
                }
            }
        }
        names
            .into_iter()
            .map(|metric| {
                let per_policy = s
                    .policies
                    .iter()
                    .map(|p| {
                        let values: Vec<f64> = self
                            .runs_of(&s.name, p)
                            .filter_map(|r| r.metrics.iter().find(|m| m.name == metric).map(|m| m.value))
                            .collect();
                        Estimate::of(&values)
                    })
                    .collect();
                MetricRow { metric, per_policy }
            })
            .collect()
    }

    /// The grid's keys over every scenario, in the order first given.
    pub fn grid_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for (k, _) in self.scenarios.iter().flat_map(|s| &s.grid) {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
        keys
    }

    /// `results.csv`: one row per (scenario, policy, seed, metric), tidy; with a `--grid`, a
    /// column per grid key (after `seed`) holds each variant's value.
    pub fn results_csv(&self) -> String {
        let keys = self.grid_keys();
        let mut out = String::from("scenario,policy,seed,");
        for k in &keys {
            let _ = write!(out, "{},", csv(k));
        }
        out.push_str("metric,value\n");
        for r in &self.runs {
            let grid: String = match self.scenarios.iter().find(|s| s.name == r.scenario) {
                Some(s) if !keys.is_empty() => keys
                    .iter()
                    .map(|k| s.grid.iter().find(|(g, _)| g == k).map_or(String::new(), |(_, v)| csv(v)) + ",")
                    .collect(),
                _ => String::new(),
            };
            for m in &r.metrics {
                let _ = writeln!(
                    out,
                    "{},{},{},{grid}{},{}",
                    csv(&r.scenario),
                    csv(&r.policy),
                    r.seed,
                    csv(&m.name),
                    m.value
                );
            }
        }
        out
    }

    /// The text table `podlab compare` prints: per scenario, the headline rows per policy (every
    /// metric, by name, when `all`), then the verdicts.
    pub fn table(&self, all: bool) -> String {
        let mut out = String::new();
        for s in &self.scenarios {
            let _ = writeln!(out, "{} — {} ({})", s.name, s.file, seeds_phrase(&s.seeds));
            for a in &s.attributions {
                let _ = writeln!(out, "data: {a}");
            }
            let cells = |row: &MetricRow, unit: Unit| -> Vec<String> {
                row.per_policy.iter().map(|e| e.map_or("—".into(), |e| unit.show_estimate(&e, s.seeds.len()))).collect()
            };
            let every = self.metric_rows(s);
            let rows: Vec<(String, Vec<String>)> = if all {
                every.iter().map(|row| (row.metric.clone(), cells(row, Unit::of(&row.metric)))).collect()
            } else {
                self.headline(s).iter().map(|(h, row)| (h.label.to_string(), cells(row, h.unit))).collect()
            };
            let label_width = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0).max(6) + 2;
            let widths: Vec<usize> = (0..s.policies.len())
                .map(|i| {
                    let cells = rows.iter().map(|(_, c)| c[i].chars().count());
                    cells.chain([s.policies[i].chars().count()]).max().unwrap_or(0) + 2
                })
                .collect();
            let _ = write!(out, "{:label_width$}", "metric");
            for (p, w) in s.policies.iter().zip(&widths) {
                let _ = write!(out, "{p:w$}");
            }
            out.truncate(out.trim_end().len());
            out.push('\n');
            for (label, cells) in &rows {
                let _ = write!(out, "{label:label_width$}");
                for (c, w) in cells.iter().zip(&widths) {
                    let _ = write!(out, "{c:w$}");
                }
                out.truncate(out.trim_end().len());
                out.push('\n');
            }
            if !all {
                let _ = writeln!(
                    out,
                    "({} rows of {} metrics: --all-metrics prints every one; results.csv holds every run's)",
                    rows.len(),
                    every.len()
                );
            }
            out.push_str(&self.verdict_lines(s));
            out.push('\n');
        }
        out
    }

    /// What was checked in a scenario's runs and how it went: one line when all held, else a
    /// line per policy that failed.
    fn verdict_lines(&self, s: &ScenarioInfo) -> String {
        let runs: Vec<&RunResult> = self.runs.iter().filter(|r| r.scenario == s.name).collect();
        let verdicts: usize = runs.iter().map(|r| r.verdicts.len()).sum();
        let checked = runs.iter().filter(|r| r.invariants_checked).count();
        let invariants = match checked {
            0 => "invariants not checked (--check-invariants)".to_string(),
            c if c == runs.len() => "invariants checked after every event".to_string(),
            c => format!("invariants checked in {c} of {} runs", runs.len()),
        };
        let mut out = String::new();
        if runs.iter().all(|r| r.ok()) {
            let expectations = match verdicts {
                0 => "no expect: entry".to_string(),
                n => format!("all {n} expect: verdicts held"),
            };
            let _ = writeln!(out, "{expectations} ({} runs); {invariants}", runs.len());
            return out;
        }
        for p in &s.policies {
            let of_policy: Vec<&&RunResult> = runs.iter().filter(|r| &r.policy == p).collect();
            let failed = of_policy.iter().filter(|r| !r.ok()).count();
            let _ = match failed {
                0 => writeln!(out, "{p}: every expectation held"),
                f => writeln!(out, "{p}: FAILED in {f} of {} runs", of_policy.len()),
            };
        }
        let _ = writeln!(out, "{invariants}");
        out
    }

    /// Every chart of the comparison, with the stem of its file name, per scenario: the story
    /// (who went where), the headline metrics on which the policies differ (each once), the
    /// time-to-schedule curve, resources over time, and each policy's Gantt chart when the
    /// story could not show every node.
    pub fn charts(&self) -> Vec<(usize, String, Chart)> {
        let mut out = Vec::new();
        for (si, s) in self.scenarios.iter().enumerate() {
            let story = self.story_chart(s);
            let whole = story.as_ref().is_some_and(|(_, whole)| *whole);
            if let Some((chart, _)) = story {
                out.push((si, STORY_STEM.to_string(), chart));
            }
            let over = if s.seeds.len() > 1 {
                format!("mean ± 95% CI over {} seeds", s.seeds.len())
            } else {
                format!("seed {}", s.seeds.first().copied().unwrap_or(0))
            };
            // A metric is charted when the policies differ on it, and only once: a row whose
            // values another charted row already shows adds nothing.
            let mut shown: Vec<Vec<Option<f64>>> = Vec::new();
            for (h, row) in self.headline(s) {
                let means: Vec<Option<f64>> = row.per_policy.iter().map(|e| e.map(|e| e.mean)).collect();
                let present: Vec<f64> = means.iter().flatten().copied().collect();
                if present.iter().all(|m| *m == present[0]) || shown.contains(&means) {
                    continue;
                }
                shown.push(means);
                let title = h.label.trim();
                let mut title_case = title.chars();
                let title = title_case.next().map_or(String::new(), |c| c.to_uppercase().chain(title_case).collect());
                out.push((si, row.metric.replace(['.', '_'], "-"), self.bar_chart(s, &row, &title, h.unit, &over)));
            }
            out.push((si, "time-to-schedule-cdf".into(), self.cdf_chart(s)));
            for (stem, title, pick) in [
                ("cpu-allocated-over-time", "CPU requested by running pods", cpu_share as fn(&ClusterPoint) -> f64),
                ("memory-allocated-over-time", "Memory requested by running pods", memory_share),
            ] {
                if let Some(chart) = self.over_time_chart(s, title, pick) {
                    out.push((si, stem.into(), chart));
                }
            }
            if !whole {
                for p in &s.policies {
                    if let Some(chart) = self.gantt_chart(s, p) {
                        out.push((si, format!("gantt-{p}"), chart));
                    }
                }
            }
        }
        out
    }

    fn bar_chart(&self, s: &ScenarioInfo, row: &MetricRow, title: &str, unit: Unit, over: &str) -> Chart {
        let scale = unit.scale();
        let bars: Vec<Bar> = s
            .policies
            .iter()
            .zip(&row.per_policy)
            .enumerate()
            .filter_map(|(i, (p, e))| {
                let e = (*e)?;
                Some(Bar {
                    label: p.clone(),
                    mean: e.mean * scale,
                    low: e.low() * scale,
                    high: e.high() * scale,
                    color: i,
                })
            })
            .collect();
        let y_label = match unit {
            Unit::Count("value") => row.metric.clone(),
            unit => unit.axis().to_string(),
        };
        Chart { title: format!("{title} — {over}"), x_label: "policy".into(), y_label, plot: Plot::Bars { bars } }
    }

    fn cdf_chart(&self, s: &ScenarioInfo) -> Chart {
        let mut x_max: f64 = 0.0;
        let series: Vec<Series> = s
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut waits: Vec<u64> = self.runs_of(&s.name, p).flat_map(|r| r.waits_ns.iter().copied()).collect();
                let mut censored: Vec<u64> =
                    self.runs_of(&s.name, p).flat_map(|r| r.censored_ns.iter().copied()).collect();
                waits.sort_unstable();
                censored.sort_unstable();
                let mut runs: Vec<(u64, u64)> = Vec::new();
                for &w in &waits {
                    match runs.last_mut() {
                        Some((v, c)) if *v == w => *c += 1,
                        _ => runs.push((w, 1)),
                    }
                }
                // The Kaplan–Meier curve: pods never scheduled keep it below 1 (one point per
                // distinct wait, thinned to evenly spaced steps on long runs).
                let curve = kaplan_meier(&runs, &censored);
                let mut points = vec![(0.0, 0.0)];
                let stride = curve.len().div_ceil(MAX_LINE_POINTS).max(1);
                for (k, step) in curve.iter().enumerate() {
                    if k % stride == 0 || k + 1 == curve.len() {
                        points.push((step.wait_ns as f64 * 1e-9, step.share));
                    }
                }
                x_max = x_max.max(points.last().map_or(0.0, |p| p.0));
                let name = match censored.len() {
                    0 => format!("{p} (n={})", waits.len()),
                    never => format!("{p} (n={}, {never} never scheduled)", waits.len() + never),
                };
                Series { name, points, step: true, color: i }
            })
            .collect();
        let x_max = nice_max(x_max);
        let series = series
            .into_iter()
            .map(|mut s| {
                let last = s.points.last().map_or(0.0, |p| p.1);
                s.points.push((x_max, last));
                s
            })
            .collect();
        Chart {
            title: format!("Time to schedule, CDF — {} pooled", seeds_phrase(&s.seeds)),
            x_label: "time from creation to binding of the last part (seconds)".into(),
            y_label: "share of pods scheduled".into(),
            plot: Plot::Lines { series, x_max, y_max: 1.04 },
        }
    }

    /// The charted run of a policy: its first seed.
    fn charted<'a>(&'a self, s: &'a ScenarioInfo, policy: &'a str) -> Option<(&'a RunResult, &'a RunDetail)> {
        let run = self.runs_of(&s.name, policy).next()?;
        Some((run, run.detail.as_ref()?))
    }

    fn over_time_chart(&self, s: &ScenarioInfo, title: &str, pick: fn(&ClusterPoint) -> f64) -> Option<Chart> {
        let mut x_max: f64 = 0.0;
        let mut y_max: f64 = 0.0;
        let mut series = Vec::new();
        let mut seed = 0;
        for (i, p) in s.policies.iter().enumerate() {
            let Some((run, detail)) = self.charted(s, p) else { continue };
            let points: Vec<(f64, f64)> = detail.cluster.iter().map(|c| (c.t_ns as f64 * 1e-9, pick(c))).collect();
            x_max = x_max.max(run.end_ns as f64 * 1e-9);
            y_max = points.iter().map(|p| p.1).fold(y_max, f64::max);
            seed = run.seed;
            series.push(Series { name: p.clone(), points, step: true, color: i });
        }
        if series.is_empty() {
            return None;
        }
        Some(Chart {
            title: format!("{title} — seed {seed}"),
            x_label: "simulated time (seconds)".into(),
            y_label: "% of allocatable".into(),
            plot: Plot::Lines {
                series,
                x_max: x_max.max(1e-9),
                y_max: if y_max > 100.0 { nice_max(y_max) } else { 100.0 },
            },
        })
    }

    fn gantt_chart(&self, s: &ScenarioInfo, policy: &str) -> Option<Chart> {
        let (run, detail) = self.charted(s, policy)?;
        let bar = |span: &SpanLine| GanttBar {
            row: span.node,
            start: span.start_ns as f64 * 1e-9,
            end: span.end_ns as f64 * 1e-9,
            label: span.label.clone(),
            color: 0,
            marked: span.split,
        };
        // As many nodes as fit a readable chart: at most MAX_GANTT_NODES, fewer when busy
        // nodes need many lanes.
        let mut shown = s.nodes.len().min(MAX_GANTT_NODES);
        loop {
            let bars: Vec<GanttBar> = detail.spans.iter().filter(|sp| sp.node < shown).map(bar).collect();
            if shown <= 1 || 120 + crate::charts::gantt_row_px(&bars) as usize * shown <= MAX_GANTT_PX {
                break;
            }
            shown -= 1;
        }
        let mut keys: Vec<&str> = Vec::new();
        let mut bars = Vec::new();
        for span in detail.spans.iter().filter(|sp| sp.node < shown) {
            let colour = match keys.iter().position(|k| *k == span.colour_key) {
                Some(i) => i,
                None => {
                    keys.push(&span.colour_key);
                    keys.len() - 1
                }
            };
            // The palette's last colour is red, kept for what is split.
            bars.push(GanttBar { color: colour % 9, ..bar(span) });
        }
        let cut =
            if shown < s.nodes.len() { format!(", first {shown} of {} nodes", s.nodes.len()) } else { String::new() };
        Some(Chart {
            title: format!("Pods on nodes — {policy}, seed {}{cut}", run.seed),
            x_label: "simulated time (seconds)".into(),
            y_label: "node".into(),
            plot: Plot::Gantt {
                rows: s.nodes[..shown].to_vec(),
                bars,
                x_max: (run.end_ns as f64 * 1e-9).max(1e-9),
                legend: keys.iter().enumerate().map(|(i, k)| (k.to_string(), i % 9)).collect(),
            },
        })
    }
}

fn cpu_share(c: &ClusterPoint) -> f64 {
    share(c.allocated.cpu_milli, c.capacity.cpu_milli)
}

fn memory_share(c: &ClusterPoint) -> f64 {
    share(c.allocated.memory_bytes, c.capacity.memory_bytes)
}

fn share(used: u64, capacity: u64) -> f64 {
    if capacity == 0 { 0.0 } else { used as f64 * 100.0 / capacity as f64 }
}

pub fn seeds_phrase(seeds: &[u64]) -> String {
    match seeds {
        [] => "no seeds".into(),
        [one] => format!("seed {one}"),
        [first, .., last] => format!("{} seeds, {first}–{last}", seeds.len()),
    }
}

/// A CSV field, quoted when it must be.
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{Colocation, PodCounts, SUMMARY_SCHEMA, Utilisation};

    /// Every headline metric is a leaf of today's `Summary`: renaming one breaks this test,
    /// not silently a chart.
    #[test]
    fn headline_metrics_exist_in_the_summary() {
        let summary = Summary {
            schema: SUMMARY_SCHEMA,
            scenario: "s".into(),
            policy: "p".into(),
            seed: 1,
            digest: "blake3:0".into(),
            end_ns: 1,
            events: 1,
            stopped: None,
            pods: PodCounts::default(),
            colocation: Colocation::default(),
            time_to_schedule: crate::waits::Waits::of(&[(5, 1)], Vec::new()),
            unschedulable_attempts: 0,
            bind_refusals: 0,
            preemptions: 0,
            victims: 0,
            utilisation: Utilisation::default(),
            scheduling: Default::default(),
            control_plane: Default::default(),
            workloads: Default::default(),
        };
        let names: Vec<String> = flatten(&summary).into_iter().map(|m| m.name).collect();
        for h in HEADLINE {
            assert!(names.iter().any(|n| n == h.metric), "{} is not in {names:?}", h.metric);
        }
    }

    /// Cells read as a person writes them: seconds from nanoseconds, percent from ratios, the
    /// interval only where seeds disagree, and `n` when some seeds lack the metric.
    #[test]
    fn cells_are_readable() {
        let e = Estimate { n: 3, mean: 1.5e9, half_width: 0.25e9 };
        assert_eq!(Unit::Seconds.show_estimate(&e, 3), "1.5 s ± 0.25");
        let e = Estimate { n: 2, mean: 0.308, half_width: 0.0 };
        assert_eq!(Unit::Percent.show_estimate(&e, 3), "30.8% (n=2)");
    }
}
