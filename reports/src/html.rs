//! `report.html`: one self-contained page per comparison — inline CSS and SVG, no script, no
//! network. Each scenario opens with its story, above the fold of a laptop's screen: the
//! headline rows, the `expect:` verdicts per policy and who went where (split pods marked);
//! below, collapsible, the charts, every metric, and per policy what happened (verdicts with
//! their `why:`, split, spread and partial placements, pods never scheduled, digests).

use std::fmt::Write as _;

use crate::comparison::{Comparison, RunResult, STORY_STEM, ScenarioInfo, Unit, seeds_phrase};

const STYLE: &str = r#"
:root { --ink: #222; --muted: #666; --line: #ddd; --ok: #1b7f3b; --bad: #c62828; --accent: #4e79a7; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 "DejaVu Sans", system-ui, sans-serif; color: var(--ink); background: #fafafa; }
main { max-width: 1480px; margin: 0 auto; padding: 14px 24px 40px; background: #fff; }
h1 { font-size: 21px; margin: 0 0 2px; }
h2 { font-size: 18px; margin: 18px 0 2px; padding-bottom: 2px; border-bottom: 2px solid var(--accent); }
h4 { font-size: 15px; margin: 18px 0 6px; }
p.lead, p.note, p.facts { color: var(--muted); margin: 2px 0 8px; }
p.lead { font-size: 13px; }
nav ul { margin: 4px 0; padding-left: 20px; }
code { font: 12px/1.4 "DejaVu Sans Mono", ui-monospace, monospace; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 4px 0 10px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 9px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid var(--ink); font-size: 13px; }
table.headline, table.verdicts { font-size: 13px; }
table.headline td.sub { padding-left: 22px; color: var(--muted); }
table.verdicts td { text-align: center; }
table.verdicts td:first-child { text-align: left; max-width: 280px; font-size: 12px; }
table.verdicts th { font-size: 12px; }
table.runs th, table.runs td { text-align: left; }
.story { display: grid; grid-template-columns: minmax(0, max-content) minmax(440px, 1fr); gap: 18px; align-items: start; }
@media (max-width: 1100px) { .story { grid-template-columns: 1fr; } }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 14px; }
figure { margin: 0; border: 1px solid var(--line); padding: 4px; background: #fff; }
figure svg { display: block; width: 100%; max-width: 980px; height: auto; margin: 0 auto; }
figure.story-chart svg { max-height: 600px; }
figcaption { color: var(--muted); font-size: 12px; padding: 2px 2px 0; }
details { margin: 10px 0; border-top: 1px solid var(--line); padding-top: 6px; }
summary { cursor: pointer; font-weight: bold; font-size: 15px; padding: 4px 0; }
ul.verdicts { list-style: none; padding: 0; margin: 6px 0; }
ul.verdicts li { margin: 4px 0; padding-left: 26px; text-indent: -26px; }
.held { color: var(--ok); font-weight: bold; }
.failed { color: var(--bad); font-weight: bold; }
.why { font-style: italic; }
footer { color: var(--muted); font-size: 12px; margin-top: 30px; }
"#;

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// An id for an anchor: letters, digits and `-` only.
fn anchor(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// Each chart across a parameter grid, first: what the grid moves, before each variant's story.
fn across_section(h: &mut String, across: &[(String, String, String, String)]) {
    if across.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<section id=\"across-the-grid\">\n<h2>Across the grid</h2>\n<p class=\"facts\">Each headline metric \
         against the grid's values (<code>--grid</code>), a line per policy; each variant's own story follows.</p>\n\
         <div class=\"charts\">"
    );
    for (base, stem, title, svg) in across {
        let _ = writeln!(
            h,
            "<figure id=\"{}-{}\" title=\"{}\">\n{}\n<figcaption><code>charts/{}/{}.svg</code></figcaption>\n</figure>",
            anchor(base),
            anchor(stem),
            escape(title),
            svg.trim_end(),
            escape(base),
            escape(stem)
        );
    }
    h.push_str("</div>\n</section>\n");
}

/// The page. `charts` holds each chart's scenario index, file stem, title and SVG, in order;
/// `across` each chart across a parameter grid: the scenario's base name, stem, title and SVG.
pub fn report(
    comparison: &Comparison,
    charts: &[(usize, String, String, String)],
    across: &[(String, String, String, String)],
) -> String {
    // Scenarios by name; the variants of a grid once, by the scenario's own name.
    let mut names: Vec<&str> = Vec::new();
    for s in &comparison.scenarios {
        if !names.contains(&s.base_name()) {
            names.push(s.base_name());
        }
    }
    let variants = comparison.scenarios.iter().filter(|s| !s.grid.is_empty()).count();
    let over_grid = if variants > 0 { format!(" over a grid of {variants} variants") } else { String::new() };
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>podlab report — {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(&names.join(", "))
    );
    let _ = writeln!(h, "<h1>podlab comparison: {}{over_grid}</h1>", escape(&names.join(", ")));
    let total_runs = comparison.runs.len();
    let _ = writeln!(
        h,
        "<p class=\"lead\">{total_runs} simulated runs, deterministic: the same scenario, policy and seed give the \
         same event-log digest on any machine. {}</p>",
        checked_phrase(&comparison.runs)
    );
    if comparison.scenarios.len() > 1 {
        h.push_str("<nav><ul>\n");
        for s in &comparison.scenarios {
            let _ = writeln!(h, "<li><a href=\"#{}\">{}</a></li>", anchor(&s.name), escape(&s.name));
        }
        h.push_str("</ul></nav>\n");
    }
    across_section(&mut h, across);
    for (si, s) in comparison.scenarios.iter().enumerate() {
        scenario_section(&mut h, comparison, s, charts.iter().filter(|c| c.0 == si));
    }
    let _ = writeln!(
        h,
        "<footer>Written by podlab {}. Charts are SVG drawn with plotters; values are means over seeds with 95% \
         Student-t confidence intervals. The tidy data is in <code>results.csv</code>; each run's files are under \
         <code>runs/</code>.</footer>",
        env!("CARGO_PKG_VERSION")
    );
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// Exactly what was checked over the runs, and how it went: the `expect:` entries, and the
/// invariants where they were checked.
pub fn checked_phrase(runs: &[RunResult]) -> String {
    let n = runs.len();
    let entries: usize = runs.iter().map(|r| r.verdicts.len()).sum();
    let failed_entries: usize = runs.iter().map(|r| r.verdicts.iter().filter(|v| !v.failures.is_empty()).count()).sum();
    let expectations = if entries == 0 {
        "No <code>expect:</code> entry to check.".to_string()
    } else if failed_entries == 0 {
        format!("<span class=\"held\">All {entries} <code>expect:</code> verdicts held</span> (entries × runs).")
    } else {
        format!(
            "<span class=\"failed\">{failed_entries} of {entries} <code>expect:</code> verdicts failed</span> \
             (entries × runs)."
        )
    };
    let checked = runs.iter().filter(|r| r.invariants_checked).count();
    let broken = runs.iter().filter(|r| !r.violations.is_empty()).count();
    let invariants = match (checked, broken) {
        (0, _) => {
            "Invariants were not checked (<code>--check-invariants</code> checks them after every event).".to_string()
        }
        (c, 0) if c == n => format!("<span class=\"held\">Invariants held after every event of all {n} runs</span>."),
        (c, 0) => format!(
            "<span class=\"held\">Invariants held after every event of the {c} runs checked</span>; {} not checked.",
            n - c
        ),
        (c, b) => format!("<span class=\"failed\">Invariants broken in {b} of the {c} runs checked</span>."),
    };
    format!("{expectations} {invariants}")
}

fn scenario_section<'a>(
    h: &mut String,
    comparison: &Comparison,
    s: &ScenarioInfo,
    charts: impl Iterator<Item = &'a (usize, String, String, String)>,
) {
    let _ = writeln!(h, "<section id=\"{}\">", anchor(&s.name));
    let _ = writeln!(
        h,
        "<h2>{}</h2>\n<p class=\"facts\">{} · {}, {}, {} · {} · policies {}</p>",
        escape(&s.name),
        escape(&s.file),
        plural(s.nodes.len(), "node"),
        plural(s.pods, "pod"),
        plural(s.groups, "pod group"),
        escape(&seeds_phrase(&s.seeds)),
        escape(&s.policies.join(", "))
    );
    // The traces' attributions travel with every result computed from them.
    for a in &s.attributions {
        let _ = writeln!(h, "<p class=\"facts\">data: {}</p>", escape(a));
    }
    let charts: Vec<&(usize, String, String, String)> = charts.collect();
    // Above the fold: the headline, the verdicts, and who went where.
    h.push_str("<div class=\"story\">\n<div>\n");
    headline_table(h, comparison, s);
    verdict_table(h, comparison, s);
    h.push_str("</div>\n");
    if let Some(story) = charts.iter().find(|c| c.1 == STORY_STEM) {
        figure(h, s, story, "story-chart");
    }
    h.push_str("</div>\n");

    let rest: Vec<&&(usize, String, String, String)> = charts.iter().filter(|c| c.1 != STORY_STEM).collect();
    let _ = writeln!(h, "<details open>\n<summary>Charts ({})</summary>\n<div class=\"charts\">", rest.len());
    for chart in rest {
        figure(h, s, chart, "");
    }
    h.push_str("</div>\n</details>\n");

    let rows = comparison.metric_rows(s);
    let _ = writeln!(h, "<details>\n<summary>Every metric ({} rows)</summary>", rows.len());
    h.push_str("<table class=\"metrics\">\n<thead><tr><th>metric</th>");
    for p in &s.policies {
        let _ = write!(h, "<th>{}</th>", escape(p));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        let unit = Unit::of(&row.metric);
        let _ = write!(h, "<tr><td>{}</td>", escape(&row.metric));
        for e in &row.per_policy {
            let cell = e.map_or("—".to_string(), |e| unit.show_estimate(&e, s.seeds.len()));
            let _ = write!(h, "<td>{}</td>", escape(&cell));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
    let _ = writeln!(h, "<p class=\"note\">{}</p>\n</details>", cells_note(s));

    h.push_str(
        "<details>\n<summary>What happened, per policy: verdicts, split and spread placements, pods never \
                scheduled, digests</summary>\n",
    );
    for p in &s.policies {
        let runs: Vec<&RunResult> = comparison.runs.iter().filter(|r| r.scenario == s.name && &r.policy == p).collect();
        policy_article(h, p, &runs);
    }
    let _ = writeln!(
        h,
        "<p class=\"note\">The scenario file's content: <code>blake3:{}</code>.</p>\n</details>",
        escape(&s.content_digest)
    );
    h.push_str("</section>\n");
}

/// What a cell of the tables holds.
fn cells_note(s: &ScenarioInfo) -> String {
    let how = if s.seeds.len() > 1 {
        format!("Each cell: mean ± half-width of the 95% confidence interval (Student t) over {} seeds.", s.seeds.len())
    } else {
        "Each cell: the value of the one seed run.".to_string()
    };
    format!(
        "{how} Times are in seconds of simulated time; utilisation is requested ÷ allocatable, averaged over the \
         run; time to schedule counts pods never scheduled as censored waits."
    )
}

/// A chart in a figure, with the file it is also written to.
fn figure(h: &mut String, s: &ScenarioInfo, chart: &(usize, String, String, String), class: &str) {
    let (_, stem, title, svg) = chart;
    let _ = writeln!(
        h,
        "<figure id=\"{}-{}\" class=\"{class}\" title=\"{}\">\n{}\n<figcaption><code>charts/{}/{}.svg</code></figcaption>\n</figure>",
        anchor(&s.name),
        anchor(stem),
        escape(title),
        svg.trim_end(),
        escape(&s.name),
        escape(stem)
    );
}

/// The headline rows, as `podlab compare` prints them.
fn headline_table(h: &mut String, comparison: &Comparison, s: &ScenarioInfo) {
    h.push_str("<table class=\"headline\">\n<thead><tr><th></th>");
    for p in &s.policies {
        let _ = write!(h, "<th>{}</th>", escape(p));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (row, metric) in comparison.headline(s) {
        let label = row.label.trim_start();
        let indent = if label.len() < row.label.len() { " class=\"sub\"" } else { "" };
        let _ = write!(h, "<tr><td{indent} title=\"{}\">{}</td>", escape(row.metric), escape(label));
        for e in &metric.per_policy {
            let cell = e.map_or("—".to_string(), |e| row.unit.show_estimate(&e, s.seeds.len()));
            let _ = write!(h, "<td>{}</td>", escape(&cell));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
}

/// Each `expect:` entry against each policy: ✓ when it held in every run, ✗ with how many
/// runs it failed in, blank when it is not about that policy.
fn verdict_table(h: &mut String, comparison: &Comparison, s: &ScenarioInfo) {
    let runs: Vec<&RunResult> = comparison.runs.iter().filter(|r| r.scenario == s.name).collect();
    let mut entries: Vec<(u32, Option<String>)> = Vec::new();
    for v in runs.iter().flat_map(|r| &r.verdicts) {
        if !entries.iter().any(|(line, _)| *line == v.line) {
            entries.push((v.line, v.why.clone()));
        }
    }
    entries.sort_by_key(|e| e.0);
    if entries.is_empty() {
        h.push_str("<p class=\"note\">No <code>expect:</code> entry in this scenario.</p>\n");
        return;
    }
    h.push_str("<table class=\"verdicts\">\n<thead><tr><th>expected</th>");
    for p in &s.policies {
        let _ = write!(h, "<th>{}</th>", escape(p));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (line, why) in &entries {
        let why = why.as_deref().map_or(String::new(), |w| format!(": {}", escape(w)));
        let _ = write!(h, "<tr><td>line {line}{why}</td>");
        for p in &s.policies {
            let of: Vec<&&RunResult> = runs.iter().filter(|r| &r.policy == p).collect();
            let verdicts: Vec<_> = of.iter().filter_map(|r| r.verdicts.iter().find(|v| v.line == *line)).collect();
            let failed: Vec<_> = verdicts.iter().filter(|v| !v.failures.is_empty()).collect();
            let cell = match (verdicts.len(), failed.first()) {
                (0, _) => String::new(),
                (n, None) => format!("<span class=\"held\" title=\"held in {n} of {n} runs\">✓</span>"),
                (n, Some(first)) => format!(
                    "<span class=\"failed\" title=\"{}\">✗ {} of {n}</span>",
                    escape(&first.failures.join("; ")),
                    failed.len()
                ),
            };
            let _ = write!(h, "<td>{cell}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
}

fn policy_article(h: &mut String, policy: &str, runs: &[&RunResult]) {
    let _ = writeln!(h, "<article class=\"policy\">\n<h4>{}</h4>", escape(policy));
    let n = runs.len();
    if let Some(first) = runs.first()
        && !first.verdicts.is_empty()
    {
        h.push_str("<ul class=\"verdicts\">\n");
        for (i, v) in first.verdicts.iter().enumerate() {
            let failing: Vec<&RunResult> =
                runs.iter().copied().filter(|r| r.verdicts.get(i).is_some_and(|v| !v.failures.is_empty())).collect();
            let held = n - failing.len();
            let (class, mark) = if failing.is_empty() { ("held", "✓") } else { ("failed", "✗") };
            let why =
                v.why.as_deref().map_or(String::new(), |w| format!(" — <span class=\"why\">{}</span>", escape(w)));
            let _ = write!(
                h,
                "<li><span class=\"{class}\">{mark}</span> expect at line {}{why}: held in {held} of {n} runs",
                v.line
            );
            if let Some(r) = failing.first() {
                let failures = r.verdicts[i].failures.iter().map(|f| escape(f)).collect::<Vec<_>>().join("; ");
                let _ = write!(h, " (seed {}: {failures})", r.seed);
            }
            h.push_str("</li>\n");
        }
        h.push_str("</ul>\n");
    }
    h.push_str(
        "<table class=\"runs\">\n<thead><tr><th>seed</th><th>split across nodes</th><th>groups spread over nodes\
         </th><th>partly placed</th><th>never scheduled</th><th>invariants</th><th>event-log digest</th></tr></thead>\n\
         <tbody>\n",
    );
    let list = |items: &[String]| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items.iter().map(|i| escape(i)).collect::<Vec<_>>().join("<br>")
        }
    };
    for r in runs {
        let invariants = if !r.violations.is_empty() {
            format!("<span class=\"failed\">{}</span>", list(&r.violations))
        } else if r.invariants_checked {
            "held after every event".to_string()
        } else {
            "not checked".to_string()
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{invariants}</td><td><code>{}</code></td></tr>",
            r.seed,
            list(&r.split),
            list(&r.spread),
            list(&r.partial),
            list(&r.unscheduled),
            escape(&r.digest)
        );
    }
    h.push_str("</tbody>\n</table>\n</article>\n");
}
