//! A run's files — `summary.json`, `events.jsonl`, `placements.csv`, `trace.json` — each written atomically
//! (a temporary file beside it, synced, then renamed), so no reader ever sees half a file; and
//! whole runs written into a temporary directory renamed into place, so a run's directory is
//! complete or absent. Every temporary path is tracked while it exists: an interrupted process
//! (SIGINT, SIGTERM) calls [`abandon_temporaries`] and leaves none behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

use podlab_cluster::scenario::Scenario;
use podlab_cluster::time::seconds_exact;
use std::collections::BTreeMap;

use podlab_cluster::{ControllerId, GroupId, JobRef, NodeId, Note, Part, PodId, Record, Records, Stamped};

use crate::outcome::Outcomes;
use crate::summary::Summary;

/// Temporary files and directories that exist now, and whether the process is being
/// interrupted (then nothing new may be created).
struct InFlight {
    paths: Vec<PathBuf>,
    interrupted: bool,
}

static IN_FLIGHT: Mutex<InFlight> = Mutex::new(InFlight { paths: Vec::new(), interrupted: false });

fn in_flight() -> MutexGuard<'static, InFlight> {
    // A panicking writer leaves the list as it was: still the truth about the disk.
    IN_FLIGHT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn interrupted_error() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::Interrupted, "podlab is being interrupted")
}

/// Creates something on disk under the lock, so an interruption either sees it (and removes
/// it) or stops it from being created; `track` records a temporary path.
fn create_guarded<T>(track: Option<&Path>, create: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
    let mut flight = in_flight();
    if flight.interrupted {
        return Err(interrupted_error());
    }
    let made = create()?;
    if let Some(path) = track {
        flight.paths.push(path.to_path_buf());
    }
    Ok(made)
}

fn untrack(path: &Path) {
    let mut flight = in_flight();
    if let Some(i) = flight.paths.iter().position(|p| p == path) {
        flight.paths.swap_remove(i);
    }
}

/// Held by an interrupted process until it exits: no writer can create anything meanwhile.
pub struct Abandoned {
    _held: MutexGuard<'static, InFlight>,
}

/// Removes every temporary file and directory being written, and refuses new ones for as
/// long as the returned guard lives. The signal handler calls it and exits holding the guard,
/// so no writer can create anything after the clean-up.
pub fn abandon_temporaries() -> Abandoned {
    let mut flight = in_flight();
    flight.interrupted = true;
    for path in std::mem::take(&mut flight.paths) {
        if path.is_dir() {
            // A writer thread may still be renaming a file it finished into the directory
            // while it is being removed (its rename needs no new creation, so the flag cannot
            // stop it): the removal then finds the directory not empty, and is tried again.
            for _ in 0..50 {
                if std::fs::remove_dir_all(&path).is_ok() || !path.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
    Abandoned { _held: flight }
}

/// What a file system object is, for an error: "a FIFO", "a character device"…
pub fn kind_of(metadata: &std::fs::Metadata) -> &'static str {
    let t = metadata.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return "a FIFO";
        } else if t.is_char_device() {
            return "a character device";
        } else if t.is_block_device() {
            return "a block device";
        } else if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Refuses to write `path` unless it is absent or a regular file: an output never replaces a
/// device, a FIFO, a socket, a directory or a link (`--out /dev/null` would otherwise become
/// a regular file in place of the device node).
pub fn check_file_target(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.is_file() => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is {}: outputs go only to regular files", path.display(), kind_of(&m)),
        )),
        _ => Ok(()),
    }
}

/// `create_dir_all`, refused once the process is being interrupted (a writer must not
/// recreate a directory the clean-up just removed).
pub fn create_dir_all(dir: &Path) -> std::io::Result<()> {
    create_guarded(None, || std::fs::create_dir_all(dir))
}

/// Writes `bytes` to `path` so that `path` holds either its old content or all of the new,
/// and no temporary file outlives a failure (a full disk, an unwritable folder) or an
/// interruption.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    check_file_target(path)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let mut file = create_guarded(Some(&tmp), || std::fs::File::create(&tmp))?;
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    untrack(&tmp);
    result
}

/// Fills the directory `dir` whole or not at all: `fill` writes into a temporary directory
/// beside it, which is then renamed to `dir`, replacing an earlier one (the caller decides
/// whether that is allowed). On failure or interruption the temporary directory is removed.
pub fn write_dir_whole<T>(dir: &Path, fill: impl FnOnce(&Path) -> std::io::Result<T>) -> std::io::Result<T> {
    if let Ok(m) = std::fs::symlink_metadata(dir)
        && !m.is_dir()
    {
        let kind = kind_of(&m);
        let why = format!("{} is {kind}: outputs go only to directories and regular files", dir.display());
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, why));
    }
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let parent = dir.parent().unwrap_or(Path::new("."));
    create_dir_all(parent)?;
    // Host and process in the name: the pods of a Kubernetes Job all run as pid 1 on one
    // shared volume (`sweep run`), and a retried shard may overlap with its predecessor.
    // Only letters, digits and `-` of it: the environment must not name a path elsewhere.
    let host: String = std::env::var("HOSTNAME")
        .unwrap_or_default()
        .chars()
        .take(64)
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let tmp = parent.join(format!(".{name}.tmp-{host}-{}", std::process::id()));
    let old = parent.join(format!(".{name}.old-{host}-{}", std::process::id()));
    create_guarded(Some(&tmp), || {
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir(&tmp)
    })?;
    let result = fill(&tmp).and_then(|value| {
        if dir.exists() {
            // An earlier run moves aside first: a directory cannot be renamed onto a full one.
            create_guarded(Some(&old), || std::fs::rename(dir, &old))?;
            let moved = std::fs::rename(&tmp, dir);
            if moved.is_ok() {
                let _ = std::fs::remove_dir_all(&old);
            } else {
                let _ = std::fs::rename(&old, dir);
            }
            untrack(&old);
            moved?;
        } else {
            std::fs::rename(&tmp, dir)?;
        }
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    untrack(&tmp);
    result
}

#[derive(Serialize, Default)]
struct EventLine<'a> {
    t_ns: u64,
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pod: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    /// The controller that wrote a note.
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    framework: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offer: Option<u64>,
    /// The workload a controller's note is about: `deployment/<name>`, `replicaset/<name>`,
    /// `job/<name>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    workload: Option<String>,
    /// Counts a note carries: tasks, placed, conflicts, launched, busy_ns.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(flatten)]
    counts: BTreeMap<&'static str, u64>,
    /// Resources a note carries: held, needs, offered.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[serde(flatten)]
    amounts: BTreeMap<&'static str, String>,
}

/// `events.jsonl`: one JSON object per record.
pub fn events_jsonl(scenario: &Scenario, controllers: &[String], records: &Records) -> String {
    let names = Names { scenario, controllers };
    let mut out = String::new();
    for s in records {
        out.push_str(&serde_json::to_string(&names.line(&s)).expect("an event line always serializes"));
        out.push('\n');
    }
    out
}

/// How an event line names what a record is about: pods, parts, nodes, groups and controllers
/// by name, never by id.
struct Names<'a> {
    scenario: &'a Scenario,
    controllers: &'a [String],
}

impl<'a> Names<'a> {
    fn pod(&self, p: PodId) -> Option<String> {
        Some(self.scenario.pods.get(p).key())
    }

    fn part(&self, p: PodId, part: Part) -> Option<&'a str> {
        Some(self.scenario.pods.spec(p).part_name(part))
    }

    fn node(&self, n: NodeId) -> Option<&'a str> {
        Some(self.scenario.nodes[n.index()].name.as_str())
    }

    fn group(&self, g: GroupId) -> Option<String> {
        Some(self.scenario.groups[g.index()].key())
    }

    fn controller(&self, c: &ControllerId) -> Option<&'a str> {
        self.controllers.get(c.index()).map(String::as_str)
    }

    fn job(&self, j: &JobRef) -> String {
        match j {
            JobRef::Group(g) => format!("group/{}", self.scenario.groups[g.index()].key()),
            JobRef::Pod(p) => format!("pod/{}", self.scenario.pods.get(*p).key()),
        }
    }

    /// A pod's part on a node: what started, bound, ended… are about.
    fn placed<'b>(&self, line: &mut EventLine<'b>, p: PodId, part: Part, n: NodeId)
    where
        'a: 'b,
    {
        (line.pod, line.part, line.node) = (self.pod(p), self.part(p, part), self.node(n));
    }

    /// One record's line (a controller's note's fields: [`Names::note`]).
    fn line<'b>(&self, s: &'b Stamped) -> EventLine<'b>
    where
        'a: 'b,
    {
        let mut line = EventLine { t_ns: s.time.as_nanos(), ..EventLine::default() };
        let record = &s.record;
        match record {
            Record::Started { pod: p, part, node: n, pull } => {
                line.event = "started";
                self.placed(&mut line, *p, *part, *n);
                line.counts = [("pull_ns", pull.as_nanos())].into();
            }
            Record::GroupCreated { group } => {
                line.event = "group-created";
                line.group = self.group(*group);
            }
            Record::PodCreated { pod: p } => {
                line.event = "pod-created";
                line.pod = self.pod(*p);
            }
            Record::PodDeleted { pod: p } => {
                line.event = "pod-deleted";
                line.pod = self.pod(*p);
            }
            Record::Preempted { pod: p, node: n, victims } => {
                line.event = "preempted";
                (line.pod, line.node) = (self.pod(*p), self.node(*n));
                let names: Vec<String> = victims.iter().map(|v| self.scenario.pods.get(*v).key()).collect();
                line.amounts = [("victims", names.join(","))].into();
            }
            Record::Bound { pod: p, part, node: n } => {
                line.event = "bound";
                self.placed(&mut line, *p, *part, *n);
            }
            Record::BindRefused { pod: p, part, node: n, reason } => {
                line.event = "bind-refused";
                self.placed(&mut line, *p, *part, *n);
                line.reason = Some(reason.to_string());
            }
            Record::Unschedulable { pod: p, part, message } => {
                line.event = "unschedulable";
                (line.pod, line.part) = (self.pod(*p), self.part(*p, *part));
                line.message = Some(message);
            }
            Record::Conflict { pod: p, part, node: n } => {
                line.event = "conflict";
                self.placed(&mut line, *p, *part, *n);
            }
            Record::Note { by, note } => {
                line.by = self.controller(by);
                self.note(&mut line, note);
            }
            Record::Ended { pod: p, part, node: n, phase } => {
                line.event = "ended";
                self.placed(&mut line, *p, *part, *n);
                line.phase = Some(phase.as_str());
            }
            // The cluster's and the control plane's own records.
            other => self.cluster(&mut line, other),
        }
        line
    }

    /// The fields of a record about the cluster or the control plane rather than a pod.
    fn cluster<'b>(&self, line: &mut EventLine<'b>, record: &'b Record)
    where
        'a: 'b,
    {
        match record {
            Record::Api { verb, latency } => {
                line.event = "api";
                line.message = Some(verb);
                line.counts = [("latency_ns", latency.as_nanos())].into();
            }
            Record::NodeCrashed { node: n }
            | Record::NodeRecovered { node: n }
            | Record::Partitioned { node: n }
            | Record::Healed { node: n } => {
                line.event = match record {
                    Record::NodeCrashed { .. } => "node-crashed",
                    Record::NodeRecovered { .. } => "node-recovered",
                    Record::Partitioned { .. } => "partitioned",
                    _ => "healed",
                };
                line.node = self.node(*n);
            }
            Record::ApiFailed { verb, reason, retry_after } => {
                line.event = "api-failed";
                line.message = Some(verb);
                line.reason = Some(reason.to_string());
                line.counts = [("retry_after_ns", retry_after.as_nanos())].into();
            }
            Record::ControllerCrashed { by } | Record::ControllerRestarted { by } => {
                line.event = if matches!(record, Record::ControllerCrashed { .. }) {
                    "controller-crashed"
                } else {
                    "controller-restarted"
                };
                line.by = self.controller(by);
            }
            Record::Relisted { by, objects, latency, missed } => {
                line.event = "relisted";
                line.by = self.controller(by);
                line.counts = [("objects", *objects), ("latency_ns", latency.as_nanos()), ("missed", *missed)].into();
            }
            Record::WatchLag { events, p50, p99, max } => {
                line.event = "watch-lag";
                line.counts = [
                    ("events", *events),
                    ("p50_ns", p50.as_nanos()),
                    ("p99_ns", p99.as_nanos()),
                    ("max_ns", max.as_nanos()),
                ]
                .into();
            }
            Record::EtcdLeaderLost { election } => {
                line.event = "etcd-leader-lost";
                line.counts = [("election_ns", election.as_nanos())].into();
            }
            Record::ApiServerBrownout { until, error_rate_permille } => {
                line.event = "apiserver-brownout";
                line.counts =
                    [("until_ns", until.as_nanos()), ("error_rate_permille", u64::from(*error_rate_permille))].into();
            }
            Record::Tainted { node: n, key } | Record::Untainted { node: n, key } => {
                line.event = if matches!(record, Record::Tainted { .. }) { "tainted" } else { "untainted" };
                line.node = self.node(*n);
                line.reason = Some(key.clone());
            }
            Record::NodeAdded { node: n } => {
                line.event = "node-added";
                line.node = self.node(*n);
            }
            Record::Started { .. }
            | Record::Bound { .. }
            | Record::BindRefused { .. }
            | Record::Unschedulable { .. }
            | Record::Conflict { .. }
            | Record::Ended { .. }
            | Record::PodCreated { .. }
            | Record::PodDeleted { .. }
            | Record::Preempted { .. }
            | Record::GroupCreated { .. }
            | Record::Note { .. } => unreachable!("Names::line writes the records about pods and groups"),
        }
    }

    /// The fields of a controller's note.
    fn note<'b>(&self, line: &mut EventLine<'b>, note: &'b Note)
    where
        'a: 'b,
    {
        match note {
            Note::Attempt { job: j, tasks, busy } => {
                line.event = "attempt";
                line.job = Some(self.job(j));
                line.counts = [("tasks", u64::from(*tasks)), ("busy_ns", busy.as_nanos())].into();
            }
            Note::AttemptDone { job: j, placed, conflicts } => {
                line.event = "attempt-done";
                line.job = Some(self.job(j));
                line.counts = [("placed", u64::from(*placed)), ("conflicts", u64::from(*conflicts))].into();
            }
            Note::Abandoned { job: j } => {
                line.event = "abandoned";
                line.job = Some(self.job(j));
            }
            Note::Reserved { pod: p, part, node: n } | Note::Released { pod: p, part, node: n } => {
                line.event = if matches!(note, Note::Reserved { .. }) { "reserved" } else { "released" };
                self.placed(line, *p, *part, *n);
            }
            Note::GroupTimedOut { group } => {
                line.event = "group-timed-out";
                line.group = self.group(*group);
            }
            Note::NodeNotReady { node: n } | Note::NodeReady { node: n } => {
                line.event = if matches!(note, Note::NodeReady { .. }) { "node-ready" } else { "node-not-ready" };
                line.node = self.node(*n);
            }
            Note::Evicted { pod: p } => {
                line.event = "evicted";
                line.pod = self.pod(*p);
            }
            Note::DeletedPod { pod: p } => {
                line.event = "deleted";
                line.pod = self.pod(*p);
            }
            Note::Offered { offer, framework, resources } => {
                line.event = "offered";
                (line.offer, line.framework) = (Some(*offer), self.controller(framework));
                line.amounts = [("resources", resources.to_string())].into();
            }
            Note::OfferClosed { offer, launched } => {
                line.event = "offer-closed";
                line.offer = Some(*offer);
                line.counts = [("launched", u64::from(*launched))].into();
            }
            Note::Hoard { held, needs } => {
                line.event = "hoard";
                line.amounts = [("held", held.to_string()), ("needs", needs.to_string())].into();
            }
            Note::RolloutStarted { deployment, revision, replicas, rollback_of } => {
                line.event = "rollout-started";
                line.workload = Some(format!("deployment/{deployment}"));
                line.counts = [("revision", u64::from(*revision)), ("replicas", u64::from(*replicas))].into();
                if let Some(r) = rollback_of {
                    line.counts.insert("rollback_of", u64::from(*r));
                }
            }
            Note::RolloutComplete { deployment, revision } => {
                line.event = "rollout-complete";
                line.workload = Some(format!("deployment/{deployment}"));
                line.counts = [("revision", u64::from(*revision))].into();
            }
            Note::ScaledReplicaSet { replica_set, replicas } => {
                line.event = "scaled";
                line.workload = Some(format!("replicaset/{replica_set}"));
                line.counts = [("replicas", u64::from(*replicas))].into();
            }
            Note::JobComplete { job: j } => {
                line.event = "job-complete";
                line.workload = Some(format!("job/{j}"));
            }
            Note::JobFailed { job: j, reason } => {
                line.event = "job-failed";
                line.workload = Some(format!("job/{j}"));
                line.reason = Some(reason.to_string());
            }
        }
    }
}

/// `placements.csv`: one row per pod — its group, the nodes it ran on, when it was created,
/// scheduled and finished (exact seconds), its phase, and whether it was split or partial.
pub fn placements_csv(scenario: &Scenario, records: &Records, end: podlab_cluster::SimTime) -> String {
    let outcomes = Outcomes::replay(scenario, records, end);
    let mut out = String::from("pod,namespace,group,nodes,created_s,scheduled_s,finished_s,phase,split,partial\n");
    let time = |t: Option<podlab_cluster::SimTime>| t.map_or(String::new(), |t| seconds_exact(t.as_nanos()));
    for (i, pod) in scenario.pods.iter().enumerate() {
        let id = PodId(i as u32);
        let o = &outcomes.pods[i];
        let group = pod.group().map_or(String::new(), |g| scenario.groups[g.index()].name.to_string());
        let nodes: Vec<&str> = o.nodes().iter().map(|n| scenario.nodes[n.index()].name.as_str()).collect();
        let phase = outcomes.phase(scenario, id).map_or("NotArrived", |p| p.as_str());
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            pod.name,
            pod.namespace,
            group,
            nodes.join(";"),
            time(o.created_at()),
            time(o.scheduled_at()),
            time(o.finished_at(outcomes.parts(scenario, id))),
            phase,
            o.split(),
            o.partial
        ));
    }
    out
}

/// Writes a run's four files into `dir` (created if needed).
/// A run's `summary.json`, as [`write_run`] writes it.
pub fn summary_json(summary: &Summary) -> std::io::Result<String> {
    let mut json = serde_json::to_string_pretty(summary).map_err(std::io::Error::other)?;
    json.push('\n');
    Ok(json)
}

pub fn write_run(
    dir: &Path,
    scenario: &Scenario,
    controllers: &[String],
    records: &Records,
    summary: &Summary,
) -> std::io::Result<()> {
    create_dir_all(dir)?;
    write_atomic(&dir.join("summary.json"), summary_json(summary)?.as_bytes())?;
    write_atomic(&dir.join("events.jsonl"), events_jsonl(scenario, controllers, records).as_bytes())?;
    let end = podlab_cluster::SimTime(summary.end_ns);
    write_atomic(&dir.join("placements.csv"), placements_csv(scenario, records, end).as_bytes())?;
    write_atomic(&dir.join("trace.json"), crate::trace::trace_json(scenario, records, end).as_bytes())
}
