//! `podlab teach`: the Task co-scheduling problem, lesson by lesson. Each lesson is a bundled
//! scenario (`lessons.rs`, embedded in the binary) whose `expect:` lines are its claims — so a
//! lesson that stops being true fails the tests — told as a story whose numbers come from the
//! run, replayed as a timeline of what each design did, moment by moment (`--step` pauses at
//! each; `q` quits), and closed with an exercise to try. `--html DIR` writes the whole lesson
//! as one page.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::lessons::{LESSONS, Lesson, render};
use crate::cluster::scenario::Scenario;
use crate::cluster::{Note, Record, SimDuration, SimTime};
use crate::{PolicyRun, out, outln};

fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn bold(text: &str) -> String {
    if colour() { format!("\x1b[1m{text}\x1b[0m") } else { text.to_string() }
}

/// One line of the timeline, or `None` for records a lesson does not tell.
fn tell(scenario: &Scenario, run: &PolicyRun, record: &Record) -> Option<String> {
    let pod = |p: crate::cluster::PodId| scenario.pods.get(p).key();
    let node = |n: crate::cluster::NodeId| scenario.nodes[n.index()].name.clone();
    let by = |c: crate::cluster::ControllerId| run.sim.controllers.get(c.index()).cloned().unwrap_or_default();
    Some(match record {
        Record::Bound { pod: p, part, node: n } => {
            let what = scenario.pods.spec(*p).part_name(*part);
            if what == "-" {
                format!("{} bound to {}", pod(*p), node(*n))
            } else {
                format!("{}/{what} bound to {}", pod(*p), node(*n))
            }
        }
        Record::Unschedulable { pod: p, message, .. } => format!("{} unschedulable: {message}", pod(*p)),
        Record::Conflict { pod: p, node: n, .. } => format!("{}'s claim on {} conflicted", pod(*p), node(*n)),
        Record::Ended { pod: p, part, phase, .. } => match scenario.pods.spec(*p).part_name(*part) {
            "-" => format!("{} ended: {}", pod(*p), phase.as_str()),
            container => format!("{}/{container} ended: {}", pod(*p), phase.as_str()),
        },
        Record::NodeCrashed { node: n } => format!("node {} crashed", node(*n)),
        Record::Partitioned { node: n } => format!("node {} cut off from the control plane", node(*n)),
        Record::Healed { node: n } => format!("node {} reachable again", node(*n)),
        Record::Tainted { node: n, key } => format!("node {} tainted {key}", node(*n)),
        Record::Preempted { pod: p, node: n, victims } => {
            let victims: Vec<String> = victims.iter().map(|v| pod(*v)).collect();
            format!("{} preempts {} on {}", pod(*p), victims.join(", "), node(*n))
        }
        Record::Note { by: c, note } => match note {
            Note::Reserved { pod: p, node: n, .. } => {
                format!("{}: {} reserved on {}, waiting at Permit", by(*c), pod(*p), node(*n))
            }
            Note::Released { pod: p, .. } => format!("{}: reservation of {} released", by(*c), pod(*p)),
            Note::GroupTimedOut { group } => {
                format!("{}: gang {} timed out", by(*c), scenario.groups[group.index()].key())
            }
            Note::Offered { framework, resources, .. } => {
                format!("{}: offered {resources} to {}", by(*c), by(*framework))
            }
            Note::Hoard { held, needs } if !needs.is_zero() => {
                format!("{}: holds {held}, its group needs {needs}", by(*c))
            }
            Note::Hoard { .. } => format!("{}: gave back its hoard", by(*c)),
            Note::NodeNotReady { node: n } => format!("{}: node {} NotReady", by(*c), node(*n)),
            Note::NodeReady { node: n } => format!("{}: node {} Ready", by(*c), node(*n)),
            Note::Evicted { pod: p } => format!("{}: evicted {}", by(*c), pod(*p)),
            Note::RolloutStarted { deployment, revision, .. } => {
                format!("{}: rollout of {deployment} revision {revision}", by(*c))
            }
            Note::RolloutComplete { deployment, revision } => {
                format!("{}: {deployment} revision {revision} rolled out", by(*c))
            }
            Note::JobComplete { job } => format!("{}: job {job} complete", by(*c)),
            Note::JobFailed { job, reason } => format!("{}: job {job} failed ({reason})", by(*c)),
            Note::DeletedPod { pod: p } => format!("{}: deleted {}", by(*c), pod(*p)),
            Note::ScaledReplicaSet { .. }
            | Note::Abandoned { .. }
            | Note::Attempt { .. }
            | Note::AttemptDone { .. }
            | Note::OfferClosed { .. } => {
                return None;
            }
        },
        _ => return None,
    })
}

/// A quiet gap longer than this between two told records starts a new moment.
const MOMENT_GAP: SimDuration = SimDuration(2_000_000_000);

/// A moment of a timeline: what happened in one burst, lines of the same kind about several
/// pods told once, and the later times at which the same moment happened again.
#[derive(Debug, PartialEq)]
pub struct Moment {
    pub at: SimTime,
    pub lines: Vec<(SimTime, String)>,
    pub again: Vec<SimTime>,
}

/// The run's told records, in moments: bursts apart by more than [`MOMENT_GAP`]; within one,
/// consecutive lines alike but for their pod told as one line (`9 pods (t-0 … t-8) reserved…`);
/// a moment that repeats the one before only noted as happening again.
pub fn moments(scenario: &Scenario, run: &PolicyRun) -> Vec<Moment> {
    let mut raw: Vec<Vec<Line>> = Vec::new();
    let mut last: Option<SimTime> = None;
    for s in &run.sim.records {
        let Some(line) = tell(scenario, run, &s.record) else { continue };
        let pod = subject(scenario, &s.record);
        if last.is_none_or(|l| s.time.since(l) > MOMENT_GAP) {
            raw.push(Vec::new());
        }
        if let Some(m) = raw.last_mut() {
            m.push((s.time, line, pod));
        }
        last = Some(s.time);
    }
    let mut out: Vec<Moment> = Vec::new();
    for lines in raw {
        let lines = collapse(lines);
        let at = lines.first().map_or(SimTime::ZERO, |l| l.0);
        match out.last_mut() {
            Some(prev) if same_lines(&prev.lines, &lines) => prev.again.push(at),
            _ => out.push(Moment { at, lines, again: Vec::new() }),
        }
    }
    out
}

/// A told line, its time, and the pod it names with that pod's group.
type Line = (SimTime, String, Option<(String, Option<crate::cluster::GroupId>)>);

/// The pod a told record is about, when its line names one, with its group.
fn subject(scenario: &Scenario, record: &Record) -> Option<(String, Option<crate::cluster::GroupId>)> {
    let pod = match record {
        Record::Bound { pod, .. } | Record::Unschedulable { pod, .. } | Record::Ended { pod, .. } => *pod,
        Record::Note {
            note: Note::Reserved { pod, .. } | Note::Released { pod, .. } | Note::Evicted { pod }, ..
        } => *pod,
        _ => return None,
    };
    Some((scenario.pods.get(pod).key(), scenario.pods.group(pod)))
}

/// Consecutive lines alike but for their pod (of one group, or none), three or more, as one
/// line: the pods named when they are few, else counted with the first and the last.
fn collapse(lines: Vec<Line>) -> Vec<(SimTime, String)> {
    let key = |(_, text, pod): &Line| pod.as_ref().map(|(p, group)| (text.replacen(p.as_str(), "\u{0}", 1), *group));
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let k = key(&lines[i]);
        let mut j = i + 1;
        while k.is_some() && j < lines.len() && key(&lines[j]) == k {
            j += 1;
        }
        match (&k, j - i) {
            (Some((k, _)), n) if n >= 3 => {
                let names: Vec<&str> =
                    lines[i..j].iter().filter_map(|l| l.2.as_ref().map(|(p, _)| p.as_str())).collect();
                let who =
                    if n <= 4 { names.join(", ") } else { format!("{n} pods ({} … {})", names[0], names[n - 1]) };
                out.push((lines[i].0, k.replace('\u{0}', &who)));
            }
            _ => out.extend(lines[i..j].iter().map(|(t, text, _)| (*t, text.clone()))),
        }
        i = j;
    }
    out
}

/// Two moments tell the same, whatever their times.
fn same_lines(a: &[(SimTime, String)], b: &[(SimTime, String)]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.1 == y.1)
}

/// A moment as text, times aligned on `width`.
fn moment_text(m: &Moment, width: usize) -> String {
    let mut out = String::new();
    let mut shown: Option<SimTime> = None;
    for (t, line) in &m.lines {
        let time = if shown == Some(*t) { String::new() } else { t.to_string() };
        let _ = writeln!(out, "  {time:>width$}  {line}");
        shown = Some(*t);
    }
    if !m.again.is_empty() {
        let times: Vec<String> = m.again.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "  {:>width$}  … the same again at {}", "", times.join(", "));
    }
    out
}

/// One lesson, told: its runs' moments, facts and claims.
pub struct Told {
    pub story: String,
    pub exercise: String,
    pub timelines: Vec<(String, Vec<Moment>)>,
    pub claims: Vec<(String, bool, String)>,
}

/// Tells a lesson from its runs.
pub fn tell_lesson(lesson: &Lesson, runs: &[PolicyRun]) -> Result<Told, String> {
    let facts = (lesson.facts)(runs)?;
    let timelines = runs.iter().map(|r| (r.policy.clone(), moments(&r.scenario, r))).collect();
    let mut claims = Vec::new();
    for run in runs {
        for v in &run.verdicts {
            let why = run.scenario.expectations[v.index].why.clone().unwrap_or_else(|| "(no reason given)".into());
            claims.push((run.policy.clone(), v.holds(), why));
        }
    }
    Ok(Told { story: render(lesson.story, &facts)?, exercise: render(lesson.exercise, &facts)?, timelines, claims })
}

/// The lesson as text: story, timeline moment by moment, claims, exercise. `pause` is called
/// with what is told so far before each moment (for `--step`); when it answers false the
/// telling stops there.
pub fn lesson_text(lesson: &Lesson, told: &Told, mut pause: impl FnMut(&str) -> bool) -> Option<String> {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n\n{}\n", bold(lesson.title), told.story);
    for (policy, moments) in &told.timelines {
        let _ = writeln!(out, "{}", bold(&format!("what {policy} did")));
        let width = moments.iter().flat_map(|m| &m.lines).map(|(t, _)| t.to_string().len()).max().unwrap_or(0);
        for m in moments {
            if !pause(&out) {
                return None;
            }
            out.clear();
            out.push_str(&moment_text(m, width));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", bold("what this lesson claims (each checked by podlab's tests)"));
    for (policy, holds, why) in &told.claims {
        let _ = writeln!(out, "  {} {policy:<14} {why}", if *holds { "✓" } else { "✗" });
    }
    let _ = writeln!(out, "\n{}\n{}\n", bold("try this"), told.exercise);
    Some(out)
}

fn find(id: &str) -> Option<&'static Lesson> {
    LESSONS.iter().find(|l| l.id == id || l.title.starts_with(&format!("{id}.")))
}

/// Runs a lesson's scenario, from the copy embedded in the binary, under its policies.
pub fn run_lesson(lesson: &Lesson) -> anyhow::Result<Vec<PolicyRun>> {
    let scenario = crate::load_str(lesson.scenario, lesson.text)?;
    let runs = lesson
        .policies
        .iter()
        .map(|p| {
            crate::run_policy(&scenario, p, scenario.seed, true).map_err(|e| crate::input::BadInput(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(runs)
}

/// Waits for a key before the next moment: `q` (or Esc) stops, any other key goes on.
fn wait_for_key(term: &console::Term) -> bool {
    let _ = term.write_str("  [any key: next moment · q: quit] ");
    let key = term.read_key();
    let _ = term.clear_line();
    !matches!(key, Ok(console::Key::Char('q' | 'Q') | console::Key::Escape))
}

/// `podlab teach [LESSON] [--step] [--html DIR]`.
pub fn teach(lesson: Option<String>, step: bool, html: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let Some(id) = lesson else {
        outln!("{}\n", bold("podlab teach: the Task co-scheduling problem, in six lessons"))?;
        for l in LESSONS {
            outln!("  {:<9} {}", l.id, l.title)?;
        }
        outln!("\nRun `podlab teach problem` (or a number: `podlab teach 1`, or `all`); add --step to go a moment at")?;
        outln!(
            "a time (q quits), --html DIR for the whole lesson as a page. The lessons are built in: run them anywhere."
        )?;
        return Ok(ExitCode::SUCCESS);
    };
    let lessons: Vec<&Lesson> = if id == "all" {
        LESSONS.iter().collect()
    } else {
        vec![find(&id).ok_or_else(|| {
            let ids: Vec<&str> = LESSONS.iter().map(|l| l.id).collect();
            crate::input::BadInput(format!("no lesson `{id}`; lessons: {}, or all", ids.join(", ")))
        })?]
    };
    let term = console::Term::stdout();
    let interactive = step && term.is_term() && std::io::stdin().is_terminal();
    let mut ok = true;
    for lesson in lessons {
        let runs = run_lesson(lesson)?;
        ok &= runs.iter().all(|r| r.verdicts.iter().all(|v| v.holds()) && r.sim.violations.is_empty());
        let told = tell_lesson(lesson, &runs).map_err(|e| anyhow::anyhow!("lesson {}: {e}", lesson.id))?;
        // A failed write stops the lesson as `q` does, and is answered after it.
        let mut failed = None;
        let text = lesson_text(lesson, &told, |so_far| {
            if let Err(e) = out!("{so_far}") {
                failed = Some(e);
                return false;
            }
            let _ = std::io::stdout().flush();
            !interactive || wait_for_key(&term)
        });
        if let Some(e) = failed {
            return Err(e.into());
        }
        let Some(text) = text else { return Ok(ExitCode::SUCCESS) };
        out!("{text}")?;
        if let Some(dir) = &html {
            let file = write_html(lesson, &told, &runs, dir)?;
            outln!("wrote {}", file.display())?;
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The whole lesson as one page: title, story, who went where (the comparison's story chart),
/// the timeline moment by moment, the claims with their verdicts, the exercise.
fn write_html(lesson: &Lesson, told: &Told, runs: &[PolicyRun], dir: &Path) -> anyhow::Result<PathBuf> {
    let esc = crate::reports::html::escape;
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{LESSON_STYLE}</style>\n</head>\n\
         <body>\n<main>\n<h1>{}</h1>\n<p class=\"story\">{}</p>\n",
        esc(lesson.title),
        esc(lesson.title),
        prose(&told.story)
    );
    if let Some(svg) = story_svg(runs)? {
        let _ = writeln!(page, "<figure>{svg}</figure>");
    }
    for (policy, moments) in &told.timelines {
        let _ = writeln!(page, "<h2>What {} did</h2>\n<table class=\"timeline\">", esc(policy));
        for m in moments {
            let _ = write!(page, "<tbody class=\"moment\">");
            let mut shown: Option<SimTime> = None;
            for (t, line) in &m.lines {
                let time = if shown == Some(*t) { String::new() } else { t.to_string() };
                let _ = write!(page, "<tr><td>{}</td><td>{}</td></tr>", esc(&time), esc(line));
                shown = Some(*t);
            }
            if !m.again.is_empty() {
                let times: Vec<String> = m.again.iter().map(ToString::to_string).collect();
                let _ =
                    write!(page, "<tr><td></td><td class=\"again\">… the same again at {}</td></tr>", times.join(", "));
            }
            page.push_str("</tbody>\n");
        }
        page.push_str("</table>\n");
    }
    page.push_str(
        "<h2>What this lesson claims</h2>\n<p class=\"note\">Each claim is an <code>expect:</code> line of the \
                   scenario, checked on this run and by podlab's tests.</p>\n<ul class=\"claims\">\n",
    );
    for (policy, holds, why) in &told.claims {
        let (class, mark) = if *holds { ("held", "✓") } else { ("failed", "✗") };
        let _ = writeln!(page, "<li><span class=\"{class}\">{mark}</span> <b>{}</b>: {}</li>", esc(policy), esc(why));
    }
    let _ = writeln!(
        page,
        "</ul>\n<h2>Try this</h2>\n<p class=\"story\">{}</p>\n<footer>podlab {} · <code>{}</code> · \
         <code>podlab teach {}</code></footer>\n</main>\n</body>\n</html>",
        prose(&told.exercise),
        env!("CARGO_PKG_VERSION"),
        esc(lesson.scenario),
        lesson.id
    );
    let (out, _lock) =
        crate::compare::lock_out(dir, crate::reports::out_dir::LockMode::Exclusive, "podlab teach --html")?;
    let file = out.join(&[format!("lesson-{}.html", lesson.id)])?;
    crate::reports::output::write_atomic(&file, page.as_bytes())?;
    Ok(file)
}

/// A story's text as HTML: escaped, one paragraph, `code` spans as code.
fn prose(text: &str) -> String {
    let escaped = crate::reports::html::escape(text).replace('\n', " ");
    let mut out = String::with_capacity(escaped.len());
    for (i, piece) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{piece}</code>");
        } else {
            out.push_str(piece);
        }
    }
    out
}

/// Who went where under each of the lesson's policies, as the comparison's report draws it.
fn story_svg(runs: &[PolicyRun]) -> anyhow::Result<Option<String>> {
    use crate::reports::comparison::{Comparison, RunInput, RunResult, ScenarioInfo};
    let Some(first) = runs.first() else { return Ok(None) };
    let results: Vec<RunResult> = runs
        .iter()
        .map(|r| {
            RunResult::new(&RunInput {
                scenario: &r.scenario,
                records: &r.sim.records,
                end: r.sim.end,
                summary: &r.summary,
                verdicts: &r.verdicts,
                invariants_checked: true,
                violations: &r.sim.violations,
                detailed: true,
                controllers: &r.sim.controllers,
            })
        })
        .collect();
    let policies: Vec<String> = runs.iter().map(|r| r.policy.clone()).collect();
    let info = ScenarioInfo::new(&first.scenario, "", &policies, &[first.summary.seed]);
    let comparison = Comparison { scenarios: vec![info], runs: results };
    let Some((chart, _)) = comparison.story_chart(&comparison.scenarios[0]) else { return Ok(None) };
    Ok(Some(chart.to_svg_width(760)?))
}

const LESSON_STYLE: &str = "body{margin:0;font:15px/1.5 \"DejaVu Sans\",system-ui,sans-serif;color:#222;background:#fafafa}\
main{max-width:62em;margin:0 auto;padding:16px 28px 40px;background:#fff}h1{font-size:22px}h2{font-size:18px;\
margin-top:28px;border-bottom:2px solid #4e79a7}p.story{max-width:52em}figure{margin:12px 0;border:1px solid #ddd;\
padding:4px}figure svg{display:block;width:100%;height:auto}table.timeline{border-collapse:collapse;font-size:14px}\
table.timeline td{padding:2px 10px;vertical-align:top}table.timeline td:first-child{text-align:right;color:#666;\
white-space:nowrap;font-variant-numeric:tabular-nums}tbody.moment{border-top:1px solid #ddd}td.again{color:#666;\
font-style:italic}ul.claims{list-style:none;padding:0}.held{color:#1b7f3b;font-weight:bold}.failed{color:#c62828;\
font-weight:bold}code{font:13px \"DejaVu Sans Mono\",monospace}footer{color:#666;font-size:13px;margin-top:30px}\
p.note{color:#666}";
