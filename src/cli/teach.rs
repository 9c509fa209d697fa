//! `podlab teach`: the Task co-scheduling problem, lesson by lesson. Each lesson is a bundled
//! scenario whose `expect:` lines are its claims — so a lesson that stops being true fails the
//! tests — told as a story, replayed as a timeline of what each design did, and closed with an
//! exercise to try.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::PolicyRun;
use crate::cluster::scenario::Scenario;
use crate::cluster::{Note, Record, SimTime};

pub struct Lesson {
    pub id: &'static str,
    pub title: &'static str,
    pub scenario: &'static str,
    pub policies: &'static [&'static str],
    pub story: &'static str,
    pub exercise: &'static str,
}

pub const LESSONS: &[Lesson] = &[
    Lesson {
        id: "problem",
        title: "1. The problem: placing containers one by one splits what must stay together",
        scenario: "scenarios/coscheduling.yaml",
        policies: &["per-container"],
        story: "App (1 GiB) and LogCollector (0.5 GiB) must share a machine. node-a has 1.25 GiB free, node-b 2 GiB.\n\
A scheduler that places each container on its own sends App to node-b, the emptier node (LeastAllocated\n\
scores it 62 against 47). LogCollector would still fit beside it, but now node-a is the emptier one for it\n\
(77 against 47), so it goes there. Nothing in per-container placement says the two belong together: the\n\
pair is split. (`podlab run scenarios/coscheduling.yaml --explain app-with-logs` shows every score.)",
        exercise: "Score for bin packing instead: add `scheduler: {scoringStrategy: MostAllocated}` to the Simulation\n\
spec of scenarios/coscheduling.yaml. App now goes to node-a first — and LogCollector cannot join it there.\n\
The split remains; only its direction changes.",
    },
    Lesson {
        id: "pod",
        title: "2. The Pod: one atomic unit of scheduling",
        scenario: "scenarios/coscheduling.yaml",
        policies: &["per-container", "kubernetes"],
        story: "Kubernetes answers with the Pod: both containers in one object, scheduled as one unit. The Pod needs\n\
1.5 GiB; the filter rejects node-a (Insufficient memory) and the only node that fits takes both containers.",
        exercise: "Run scenarios/coscheduling-podgroup.yaml: the same pair as two Pods in a PodGroup. Pod-at-a-time\n\
scheduling splits them again — atomicity ends at the Pod. `podlab run … --explain app` shows why.",
    },
    Lesson {
        id: "mesos",
        title: "3. Mesos: hoarding offers, and the deadlock of two frameworks",
        scenario: "scenarios/mesos-deadlock.yaml",
        policies: &["mesos"],
        story: "In two-level scheduling, Mesos offers free resources to one framework at a time, locked until it answers.\n\
To co-schedule, a framework can hoard: keep what it is offered until its whole group fits. Two frameworks each\n\
need 3 CPUs on a cell of two 2-CPU nodes; each is offered one node, and each holds it, waiting for the other's.\n\
The resources sit idle — hoarded — until a timeout breaks the deadlock.",
        exercise: "Give both frameworks the same timeout: `--set mesos.beta.hoardTimeout=60s`. They let go together,\n\
are offered a node each again, and deadlock round after round: a livelock. Then try `behaviour: paper` for\n\
both: no deadlock — but groups start partly.",
    },
    Lesson {
        id: "omega",
        title: "4. Omega: optimism, conflicts and retries",
        scenario: "scenarios/omega-race.yaml",
        policies: &["omega"],
        story: "In Omega every scheduler sees the whole cell and decides on its own view, then commits a transaction.\n\
Two schedulers decide at once that node-1 suits them; the first commit wins, the second conflicts — its claim\n\
no longer fits — and retries a second later. Optimism costs wasted work, never a wrong placement.",
        exercise: "Make the losing scheduler slower: `--set omega.blue.tJob=5s`. Then run the paper's experiment:\n\
`podlab run scenarios/paper/omega-paper.yaml --policy omega --set omega.service.tJob=100s` and watch the\n\
conflict fraction grow; add `--set omega.transactions=all-or-nothing` and it grows again.",
    },
    Lesson {
        id: "gang",
        title: "5. Gang scheduling across Pods: PodGroup, Permit, timeout",
        scenario: "scenarios/gang-timeout.yaml",
        policies: &["kubernetes", "gang"],
        story: "A PodGroup with minMember 10 asks for all-or-nothing. Pod by pod, Kubernetes starts nine and leaves the\n\
tenth waiting: half a job. With coscheduling, members are reserved on their nodes and wait at Permit; nine\n\
reservations are held but nothing binds, until the 30 s timeout releases them all and the group backs off.\n\
When the blocker finishes, all ten bind at once.",
        exercise: "Set `minMember: 9` in the scenario's PodGroup: nine is enough, and the gang binds at once. Or set\n\
`scheduleTimeoutSeconds: 5` and count the timeouts in `--out DIR`'s events.jsonl.",
    },
    Lesson {
        id: "failures",
        title: "6. When the control plane fails: a node crash in the middle of a group",
        scenario: "scenarios/gang-node-crash.yaml",
        policies: &["gang"],
        story: "Gang scheduling makes the start all-or-nothing, but not the end. A node crashes under half a gang. Its\n\
kubelet falls silent; after the 40 s grace period the node lifecycle controller marks it NotReady and taints it;\n\
300 s later the dead members are evicted. Until then the API still shows them running — and the survivors run\n\
on, alone.",
        exercise: "Change the fault to `{type: Partition, at: 30s, nodes: [node-2], healAfter: 60s}`: the node is\n\
marked NotReady, then Ready again, and nothing is lost. Then run scenarios/node-crash-deployment.yaml, where a\n\
ReplicaSet restores its replica about 5 m 40 s after the crash.",
    },
];

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
        Record::Ended { pod: p, phase, .. } => format!("{} ended: {}", pod(*p), phase.as_str()),
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
            Note::Released { pod: p, .. } => format!("{}: {} released its reservation", by(*c), pod(*p)),
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

/// The lesson told as text: story, timeline (in groups of one instant), claims, exercise.
/// `pause` is called between instants (for `--step`).
pub fn lesson_text(lesson: &Lesson, runs: &[PolicyRun], mut pause: impl FnMut(&str)) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n\n{}\n", bold(lesson.title), lesson.story);
    for run in runs {
        let scenario = &*run.scenario;
        let _ = writeln!(out, "{}", bold(&format!("what {} did", run.policy)));
        let mut last: Option<SimTime> = None;
        let mut shown = 0;
        for s in &run.sim.records {
            let Some(line) = tell(scenario, run, &s.record) else { continue };
            if shown == 40 {
                let _ = writeln!(out, "  … (the rest in `podlab run {} --out DIR`)", lesson.scenario);
                break;
            }
            if last != Some(s.time) {
                pause(&out);
                out.clear();
                let _ = writeln!(out, "  {:>10}  {line}", s.time.to_string());
            } else {
                let _ = writeln!(out, "  {:>10}  {line}", "");
            }
            last = Some(s.time);
            shown += 1;
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", bold("what this lesson claims (each checked by podlab's tests)"));
    for run in runs {
        for v in &run.verdicts {
            let e = &run.scenario.expectations[v.index];
            let mark = if v.holds() { "✓" } else { "✗" };
            let _ = writeln!(out, "  {mark} {:<14} {}", run.policy, e.why.as_deref().unwrap_or("(no reason given)"));
        }
    }
    let _ = writeln!(out, "\n{}\n{}\n", bold("try this"), lesson.exercise);
    out
}

fn find(id: &str) -> Option<&'static Lesson> {
    LESSONS.iter().find(|l| l.id == id || l.title.starts_with(&format!("{id}.")))
}

fn run_lesson(lesson: &Lesson) -> anyhow::Result<(Scenario, Vec<PolicyRun>)> {
    let scenario = crate::input::load(Path::new(lesson.scenario))?;
    let runs = lesson
        .policies
        .iter()
        .map(|p| {
            crate::run_policy(&scenario, p, scenario.seed, true).map_err(|e| crate::input::BadInput(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((scenario, runs))
}

/// `podlab teach [LESSON] [--step] [--html DIR]`.
pub fn teach(lesson: Option<String>, step: bool, html: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let Some(id) = lesson else {
        println!("{}\n", bold("podlab teach: the Task co-scheduling problem, in six lessons"));
        for l in LESSONS {
            println!("  {:<9} {}", l.id, l.title);
        }
        println!(
            "\nRun `podlab teach problem` (or a number: `podlab teach 1`); add --step to go an instant at a time,"
        );
        println!("--html DIR for a page with the charts. Run from the podlab folder: lessons read scenarios/.");
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
    let interactive = step && std::io::stdin().is_terminal();
    let mut ok = true;
    for lesson in lessons {
        let (_, runs) = run_lesson(lesson)?;
        ok &= runs.iter().all(|r| r.verdicts.iter().all(|v| v.holds()) && r.sim.violations.is_empty());
        let text = lesson_text(lesson, &runs, |so_far| {
            print!("{so_far}");
            if interactive {
                print!("  ⏎ ");
                let _ = std::io::stdout().flush();
                let _ = std::io::stdin().lock().read_line(&mut String::new());
            }
        });
        print!("{text}");
        if let Some(dir) = &html {
            write_html(lesson, &runs, dir)?;
            println!("wrote {}", dir.join(format!("lesson-{}.html", lesson.id)).display());
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The lesson as a page: the story, the timeline, the claims, the exercise, and the Gantt
/// chart of each policy's run (from `podlab compare`'s charts, inlined).
fn write_html(lesson: &Lesson, runs: &[PolicyRun], dir: &Path) -> anyhow::Result<()> {
    let out = dir.join(format!("lesson-{}-comparison", lesson.id));
    let args = crate::compare::CompareArgs {
        scenarios: vec![PathBuf::from(lesson.scenario)],
        policies: lesson.policies.iter().map(|p| p.to_string()).collect(),
        seeds: 1,
        jobs: 1,
        out: out.clone(),
        png: false,
        force: true,
        check_invariants: false,
        summary_only: false,
        set: Vec::new(),
        grid: Vec::new(),
        all_metrics: false,
    };
    crate::compare::quietly(args)?;
    let esc = crate::reports::html::escape;
    let text = lesson_text(lesson, runs, |_| {});
    let mut page = String::from("<!doctype html><html><head><meta charset=\"utf-8\"><title>");
    let _ = write!(
        page,
        "{}</title><style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}}pre{{background:#f5f5f5;padding:1em;overflow-x:auto}}svg{{max-width:100%;height:auto}}</style></head><body>",
        esc(lesson.title)
    );
    let _ = write!(
        page,
        "<h1>{}</h1><pre>{}</pre>",
        esc(lesson.title),
        esc(&text.replace("\x1b[1m", "").replace("\x1b[0m", ""))
    );
    let name = runs.first().map_or(String::new(), |r| r.scenario.name.clone());
    let story = out.join("charts").join(&name).join(format!("{}.svg", crate::reports::comparison::STORY_STEM));
    if let Ok(svg) = std::fs::read_to_string(&story) {
        let _ = write!(page, "<h2>Who went where</h2>{svg}");
    }
    for run in runs {
        let chart = out.join("charts").join(&name).join(format!("gantt-{}.svg", run.policy));
        if let Ok(svg) = std::fs::read_to_string(&chart) {
            let _ = write!(page, "<h2>{} — pods on nodes</h2>{svg}", esc(&run.policy));
        }
    }
    let _ = writeln!(
        page,
        "<p>The full comparison: <a href=\"lesson-{}-comparison/report.html\">report.html</a></p></body></html>",
        lesson.id
    );
    std::fs::create_dir_all(dir)?;
    crate::reports::output::write_atomic(&dir.join(format!("lesson-{}.html", lesson.id)), page.as_bytes())?;
    Ok(())
}
