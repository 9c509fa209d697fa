//! The six lessons of `podlab teach`: each a bundled scenario, embedded in the binary (so the
//! lessons work from anywhere after `cargo install`), told by a story whose numbers about the
//! run are not written in it but taken from the run (`facts`, filling the story's `{name}`
//! slots) — a lesson cannot say 40 s where its timeline shows 35 s. The numbers a story states
//! about the scenario's own settings (its inputs) are listed, and `tests/teach.rs` checks that
//! no other number is written in a story or an exercise.

use crate::PolicyRun;
use crate::cluster::{Note, Record, SimDuration, SimTime};

/// What a lesson's story quotes from its runs, by the name of its slot.
pub type Facts = Vec<(&'static str, String)>;

pub struct Lesson {
    pub id: &'static str,
    pub title: &'static str,
    /// The scenario's path in the repository, for messages and exercises.
    pub scenario: &'static str,
    /// The scenario file itself.
    pub text: &'static str,
    pub policies: &'static [&'static str],
    /// The story, with `{slot}`s that [`Lesson::facts`] fills from the runs.
    pub story: &'static str,
    pub exercise: &'static str,
    /// The numbers story and exercise state about the scenario's settings, as written there.
    #[cfg_attr(not(test), expect(dead_code, reason = "the tests check that no other number is written"))]
    pub inputs: &'static [&'static str],
    /// The story's slots, from the lesson's runs (one per policy, in `policies` order).
    pub facts: fn(&[PolicyRun]) -> Result<Facts, String>,
}

pub const LESSONS: &[Lesson] = &[
    Lesson {
        id: "problem",
        title: "1. The problem: placing containers one by one splits what must stay together",
        scenario: "scenarios/coscheduling.yaml",
        text: include_str!("../../scenarios/coscheduling.yaml"),
        policies: &["per-container"],
        story: "App (1 GiB) and LogCollector (0.5 GiB) must share a machine. node-a has 1.25 GiB free, node-b 2 GiB.\n\
A scheduler that places each container on its own sends App to node-b, the emptier node (LeastAllocated\n\
scores it {app_on_b} against {app_on_a}). LogCollector would still fit beside it, but now node-a is the emptier\n\
one for it ({logs_on_a} against {logs_on_b}), so it goes there. Nothing in per-container placement says the two\n\
belong together: the pair is split. (`podlab run scenarios/coscheduling.yaml --explain app-with-logs` shows\n\
every score.)",
        exercise: "Score for bin packing instead: add `scheduler: {scoringStrategy: MostAllocated}` to the Simulation\n\
spec of scenarios/coscheduling.yaml. App now goes to node-a first — and LogCollector cannot join it there.\n\
The split remains; only its direction changes.",
        inputs: &["(1 GiB)", "(0.5 GiB)", "1.25 GiB", "2 GiB"],
        facts: problem_facts,
    },
    Lesson {
        id: "pod",
        title: "2. The Pod: one atomic unit of scheduling",
        scenario: "scenarios/coscheduling.yaml",
        text: include_str!("../../scenarios/coscheduling.yaml"),
        policies: &["per-container", "kubernetes"],
        story: "Kubernetes answers with the Pod: both containers in one object, scheduled as one unit. The Pod needs\n\
{pod_memory}; the filter rejects node-a (Insufficient memory) and the only node that fits takes both containers.",
        exercise: "Run scenarios/coscheduling-podgroup.yaml: the same pair as two Pods in a PodGroup. Pod-at-a-time\n\
scheduling splits them again — atomicity ends at the Pod. `podlab run … --explain app` shows why.",
        inputs: &[],
        facts: pod_facts,
    },
    Lesson {
        id: "mesos",
        title: "3. Mesos: hoarding offers, and the deadlock of two frameworks",
        scenario: "scenarios/mesos-deadlock.yaml",
        text: include_str!("../../scenarios/mesos-deadlock.yaml"),
        policies: &["mesos"],
        story: "In two-level scheduling, Mesos offers free resources to one framework at a time, locked until it answers.\n\
To co-schedule, a framework can hoard: keep what it is offered until its whole group fits. Two frameworks each\n\
need 3 CPUs on a cell of two 2-CPU nodes; each is offered one node, and each holds it, waiting for the other's.\n\
The resources sit idle — hoarded — for {deadlock_for}, until alpha's hoarding timeout breaks the deadlock.",
        exercise: "Give both frameworks the same timeout: `--set mesos.beta.hoardTimeout=60s`. They let go together,\n\
are offered a node each again, and deadlock round after round: a livelock. Then try `behaviour: paper` for\n\
both: no deadlock — but groups start partly.",
        inputs: &["3 CPUs", "2-CPU", "=60s"],
        facts: mesos_facts,
    },
    Lesson {
        id: "omega",
        title: "4. Omega: optimism, conflicts and retries",
        scenario: "scenarios/omega-race.yaml",
        text: include_str!("../../scenarios/omega-race.yaml"),
        policies: &["omega"],
        story: "In Omega every scheduler sees the whole cell and decides on its own view, then commits a transaction.\n\
Two schedulers decide at once that node-1 suits them; the first commit wins, the second conflicts — its claim\n\
no longer fits — and retries {retry_after} later. Optimism costs wasted work, never a wrong placement.",
        exercise: "Make the losing scheduler slower: `--set omega.blue.tJob=5s`. Then run the paper's experiment:\n\
`podlab run scenarios/paper/omega-paper.yaml --policy omega --set omega.service.tJob=100s` and watch the\n\
conflict fraction grow; add `--set omega.transactions=all-or-nothing` and it grows again.",
        inputs: &["node-1", "=5s", "=100s"],
        facts: omega_facts,
    },
    Lesson {
        id: "gang",
        title: "5. Gang scheduling across Pods: PodGroup, Permit, timeout",
        scenario: "scenarios/gang-timeout.yaml",
        text: include_str!("../../scenarios/gang-timeout.yaml"),
        policies: &["kubernetes", "gang"],
        story: "A PodGroup with minMember {min_member} asks for all-or-nothing. Pod by pod, Kubernetes starts {kube_started}\n\
of them and leaves the rest waiting: part of a job. With coscheduling, members are reserved on their node and\n\
wait at Permit; {reserved} reservations are held but nothing binds, until the {timeout} timeout releases them\n\
all and the group backs off and tries again. When the blocker finishes, all {bound_at_once} bind at once.",
        exercise: "Set `minMember: 9` in the scenario's PodGroup: nine is enough, and the gang binds at once. Or set\n\
`scheduleTimeoutSeconds: 5` and count the timeouts in `--out DIR`'s events.jsonl.",
        inputs: &["minMember: 9", "scheduleTimeoutSeconds: 5"],
        facts: gang_facts,
    },
    Lesson {
        id: "failures",
        title: "6. When the control plane fails: a node crash in the middle of a group",
        scenario: "scenarios/gang-node-crash.yaml",
        text: include_str!("../../scenarios/gang-node-crash.yaml"),
        policies: &["gang"],
        story: "Gang scheduling makes the start all-or-nothing, but not the end. A node crashes under half a gang. Its\n\
kubelet falls silent; {not_ready_after} after the crash — the {grace} grace period counts from its last heartbeat,\n\
not from the crash — the node lifecycle controller marks it NotReady and taints it; {evicted_after} later the\n\
dead members are evicted. Until then the API still shows them running — and the survivors run on, alone.",
        exercise: "Change the fault to `{type: Partition, at: 30s, nodes: [node-2], healAfter: 60s}`: the node is\n\
marked NotReady, then Ready again, and nothing is lost. Then run scenarios/node-crash-deployment.yaml, where a\n\
ReplicaSet restores its replica: compare how long that takes with the eviction here.",
        inputs: &["at: 30s", "node-2", "healAfter: 60s"],
        facts: failures_facts,
    },
];

/// A duration as a lesson says it: `35 s`, `59.9 s` (to a tenth of a second from one
/// second up), `2ms` below.
pub fn spoken(d: SimDuration) -> String {
    let ns = d.as_nanos();
    if ns >= 1_000_000_000 {
        let tenths = (ns + 50_000_000) / 100_000_000;
        if tenths % 10 == 0 { format!("{} s", tenths / 10) } else { format!("{}.{} s", tenths / 10, tenths % 10) }
    } else {
        d.to_string()
    }
}

fn run_of<'a>(runs: &'a [PolicyRun], policy: &str) -> Result<&'a PolicyRun, String> {
    runs.iter().find(|r| r.policy == policy).ok_or_else(|| format!("no {policy} run"))
}

/// When the first record `pick` accepts was written.
fn first(run: &PolicyRun, what: &str, pick: impl Fn(&Record) -> bool) -> Result<SimTime, String> {
    run.sim.records.iter().find(|s| pick(&s.record)).map(|s| s.time).ok_or_else(|| format!("no {what} in the run"))
}

/// LeastAllocated's scores for App and then LogCollector, as `--explain` reads them from the run.
fn problem_facts(runs: &[PolicyRun]) -> Result<Facts, String> {
    let run = run_of(runs, "per-container")?;
    let text = super::explain::explain(run, "app-with-logs")?;
    let scores: Vec<&str> =
        text.lines().filter_map(|l| l.split("LeastAllocated score ").nth(1)).map(str::trim).collect();
    let [app_on_a, app_on_b, logs_on_a, logs_on_b] = scores[..] else {
        return Err(format!("expected four scores, node-a and node-b for each container: {text}"));
    };
    Ok(vec![
        ("app_on_a", app_on_a.into()),
        ("app_on_b", app_on_b.into()),
        ("logs_on_a", logs_on_a.into()),
        ("logs_on_b", logs_on_b.into()),
    ])
}

/// What the whole Pod asks for.
fn pod_facts(runs: &[PolicyRun]) -> Result<Facts, String> {
    let run = run_of(runs, "kubernetes")?;
    let pod = run.scenario.pod_named("app-with-logs").ok_or("no app-with-logs")?;
    let bytes = run.scenario.pods.spec(pod).requests.memory_bytes;
    let gib = bytes as f64 / (1u64 << 30) as f64;
    Ok(vec![("pod_memory", format!("{} GiB", crate::reports::charts::axis_number(gib)))])
}

/// How long the hoarding deadlock lasted.
fn mesos_facts(runs: &[PolicyRun]) -> Result<Facts, String> {
    let deadlocks = &run_of(runs, "mesos")?.summary.scheduling.deadlocks;
    Ok(vec![("deadlock_for", spoken(SimDuration(deadlocks.longest_ns)))])
}

/// How long after its conflict the losing scheduler tried again.
fn omega_facts(runs: &[PolicyRun]) -> Result<Facts, String> {
    let run = run_of(runs, "omega")?;
    let records: Vec<_> = run.sim.records.iter().collect();
    let (at, pod) = records
        .iter()
        .enumerate()
        .find_map(|(i, s)| match s.record {
            Record::Conflict { pod, .. } => Some((i, pod)),
            _ => None,
        })
        .ok_or("no conflict")?;
    let retry = records[at..]
        .iter()
        .find(|s| matches!(&s.record, Record::Note { note: Note::Attempt { job: crate::cluster::JobRef::Pod(p), .. }, .. } if *p == pod))
        .ok_or("no retry after the conflict")?;
    Ok(vec![("retry_after", spoken(retry.time.since(records[at].time)))])
}

/// The gang: its size, what kubernetes started of it, what gang reserved, its timeout, and how
/// many members bound together at the end.
fn gang_facts(runs: &[PolicyRun]) -> Result<Facts, String> {
    let (kube, gang) = (run_of(runs, "kubernetes")?, run_of(runs, "gang")?);
    let group = gang.scenario.groups.first().ok_or("no PodGroup")?;
    let members = |run: &PolicyRun, p: crate::cluster::PodId| run.scenario.pods.group(p).is_some();
    let blocker_ended = first(kube, "the blocker's end", |r| matches!(r, Record::Ended { .. }))?;
    let started = kube.sim.records.iter().filter(|s| s.time < blocker_ended);
    let started = started.filter(|s| matches!(s.record, Record::Bound { pod, .. } if members(kube, pod))).count();
    let mut reserved: i64 = 0;
    let mut most = 0;
    for s in gang.sim.records.iter() {
        match s.record {
            Record::Note { note: Note::Reserved { .. }, .. } => reserved += 1,
            Record::Note { note: Note::Released { .. }, .. } => reserved -= 1,
            _ => {}
        }
        most = most.max(reserved);
    }
    // The members bound within a second of the last one: those that bound together.
    let bound: Vec<SimTime> = gang
        .sim
        .records
        .iter()
        .filter(|s| matches!(s.record, Record::Bound { pod, .. } if members(gang, pod)))
        .map(|s| s.time)
        .collect();
    let last = *bound.last().ok_or("the gang never bound")?;
    let together = bound.iter().filter(|t| last.since(**t) <= SimDuration::from_secs(1)).count();
    let timeout = group.schedule_timeout.ok_or("the PodGroup has no timeout")?;
    Ok(vec![
        ("min_member", group.min_member.to_string()),
        ("kube_started", started.to_string()),
        ("reserved", most.to_string()),
        ("timeout", spoken(timeout)),
        ("bound_at_once", together.to_string()),
    ])
}

/// When the crashed node was noticed and when its pods were evicted, after the crash.
fn failures_facts(runs: &[PolicyRun]) -> Result<Facts, String> {
    let run = run_of(runs, "gang")?;
    let crash = first(run, "crash", |r| matches!(r, Record::NodeCrashed { .. }))?;
    let not_ready = first(run, "NotReady", |r| matches!(r, Record::Note { note: Note::NodeNotReady { .. }, .. }))?;
    let evicted = first(run, "eviction", |r| matches!(r, Record::Note { note: Note::Evicted { .. }, .. }))?;
    let grace = run.scenario.control_plane.as_ref().ok_or("no control-plane model")?.node_monitor_grace;
    Ok(vec![
        ("not_ready_after", spoken(not_ready.since(crash))),
        ("grace", spoken(grace)),
        ("evicted_after", spoken(evicted.since(not_ready))),
    ])
}

/// The story with its slots filled; a slot without a fact is an error.
pub fn render(template: &str, facts: &Facts) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| format!("an unclosed slot in: {template}"))?;
        let name = &after[..close];
        // `{` in an exercise's YAML is text, not a slot: slots are plain names.
        if name.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !name.is_empty() {
            let value = facts.iter().find(|(n, _)| *n == name).ok_or_else(|| format!("no fact for `{{{name}}}`"))?;
            out.push_str(&value.1);
        } else {
            out.push('{');
            out.push_str(name);
            out.push('}');
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every number a lesson's story or exercise quotes is either a slot, filled from the
    /// lesson's own run, or one of the scenario's settings it lists as an input: a story
    /// cannot say 40 s where its timeline shows 35 s.
    #[test]
    fn every_number_in_a_lesson_comes_from_its_run_or_its_inputs() {
        for lesson in LESSONS {
            let mut template = format!("{}\n{}", lesson.story, lesson.exercise);
            for input in lesson.inputs {
                assert!(template.contains(input), "{}: input `{input}` is not in the text", lesson.id);
                template = template.replace(input, "");
            }
            let runs = crate::cli::teach::run_lesson(lesson).expect("the lesson runs");
            let facts = (lesson.facts)(&runs).unwrap_or_else(|e| panic!("{}: {e}", lesson.id));
            for (slot, _) in &facts {
                template = template.replace(&format!("{{{slot}}}"), "");
            }
            let stray: String = template.chars().filter(char::is_ascii_digit).collect();
            assert!(
                stray.is_empty(),
                "{}: numbers written in the text, not taken from the run: {stray}\n{template}",
                lesson.id
            );
            let told = crate::cli::teach::tell_lesson(lesson, &runs).expect("the lesson tells");
            for (slot, value) in &facts {
                assert!(
                    told.story.contains(value.as_str()) || told.exercise.contains(value.as_str()),
                    "{}: {slot}",
                    lesson.id
                );
            }
        }
    }

    /// The facts are what the runs did: the scores `--explain` shows, the node noticed 35 s
    /// after its crash (its last heartbeat was 5 s before), ten members bound together.
    #[test]
    fn facts_read_the_runs() {
        let facts = |id: &str| {
            let lesson = LESSONS.iter().find(|l| l.id == id).expect("a lesson");
            (lesson.facts)(&crate::cli::teach::run_lesson(lesson).expect("runs")).expect("facts")
        };
        let get = |facts: &Facts, slot: &str| facts.iter().find(|(n, _)| *n == slot).expect("a slot").1.clone();
        let problem = facts("problem");
        let scores: Vec<String> =
            ["app_on_b", "app_on_a", "logs_on_a", "logs_on_b"].iter().map(|s| get(&problem, s)).collect();
        assert_eq!(scores, ["62", "47", "77", "47"]);
        let failures = facts("failures");
        assert_eq!((get(&failures, "not_ready_after"), get(&failures, "grace")), ("35 s".into(), "40 s".into()));
        assert_eq!(get(&failures, "evicted_after"), "300 s");
        let gang = facts("gang");
        let got: Vec<String> = ["min_member", "kube_started", "reserved", "timeout", "bound_at_once"]
            .iter()
            .map(|s| get(&gang, s))
            .collect();
        assert_eq!(got, ["10", "9", "9", "30 s", "10"]);
    }
}
