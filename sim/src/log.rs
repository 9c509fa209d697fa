//! The event log: one canonical text line per record, and a BLAKE3 digest of those bytes — the
//! oracle of determinism. Same scenario and seed ⇒ same digest, on any machine.

use std::fmt::Write;

use podlab_cluster::scenario::Scenario;
use podlab_cluster::{
    ControllerId, GroupId, JobRef, NodeId, Note, Part, PodId, PodSpec, Record, Records, Resources, SimTime, Stamped,
};

/// Records in order, and the running digest of their canonical lines.
pub struct EventLog {
    records: Records,
    /// Whether `records` keeps what is appended (the digest takes every record either way).
    keep: bool,
    hasher: blake3::Hasher,
    /// Lines not yet hashed: BLAKE3 takes them many kilobytes at a time, where its wide
    /// instructions pay (the digest is of the same bytes however they are cut).
    lines: String,
    /// The last line's time and its digits: the records of one instant come together (a job's
    /// pods created, its tasks bound), and their lines begin with the same digits.
    time: (Option<SimTime>, String),
    /// The last pod's requests and their canonical text: pods of one template share them.
    requests: Option<(Resources, String)>,
    nodes: NodeNames,
}

/// Every node's name in one string, in id order: the lines of bindings and endings name a
/// node each, and reading it from its `Node` missed the cache twice (the node, then its name)
/// among ten thousand nodes.
#[derive(Default)]
struct NodeNames {
    text: String,
    /// Where each node's name ends in `text`.
    ends: Vec<u32>,
}

impl NodeNames {
    /// Adds the names of nodes the scenario gained (a node's id and name never change).
    fn sync(&mut self, scenario: &Scenario) {
        for node in &scenario.nodes[self.ends.len()..] {
            self.text.push_str(&node.name);
            self.ends.push(u32::try_from(self.text.len()).expect("node names fit in 4 GiB"));
        }
    }

    #[inline]
    fn get(&self, node: podlab_cluster::NodeId) -> &str {
        let i = node.index();
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
}

/// How many bytes of lines wait before they are hashed.
const HASH_BATCH_BYTES: usize = 64 << 10;

/// BLAKE3's chunk: what is hashed at once is a whole number of chunks (the rest waits for the
/// next batch), so every chunk but the one BLAKE3 holds back goes through its wide path, none
/// through its block-at-a-time path for a chunk begun by the batch before (with 16 KiB batches
/// cut anywhere, that path was 31 M of BLAKE3's 109 M instructions in 3 hours of the paper day).
const CHUNK_BYTES: usize = 1024;

impl Default for EventLog {
    fn default() -> Self {
        EventLog {
            records: Records::new(),
            keep: true,
            hasher: blake3::Hasher::new(),
            lines: String::with_capacity(HASH_BATCH_BYTES + CHUNK_BYTES + 256),
            time: (None, String::new()),
            requests: None,
            nodes: NodeNames::default(),
        }
    }
}

impl EventLog {
    /// A log that digests its records without keeping them (a run whose reports fold them as
    /// they are written).
    pub fn digest_only() -> EventLog {
        EventLog { keep: false, ..EventLog::default() }
    }

    pub fn append(&mut self, scenario: &Scenario, controllers: &[String], time: SimTime, record: Record) {
        self.nodes.sync(scenario);
        if self.time.0 != Some(time) {
            self.time.0 = Some(time);
            self.time.1.clear();
            number(&mut self.time.1, time.0);
        }
        self.lines.push_str(&self.time.1);
        let mut line =
            Line { out: &mut self.lines, scenario, nodes: &self.nodes, controllers, requests: &mut self.requests };
        line.write(&record);
        self.lines.push('\n');
        if self.lines.len() >= HASH_BATCH_BYTES {
            // The lines so far began at a chunk's start: so does what is left. (A character
            // of several bytes across the cut moves it a chunk back: the lines stay text.)
            let mut whole = self.lines.len() / CHUNK_BYTES * CHUNK_BYTES;
            while !self.lines.is_char_boundary(whole) {
                whole -= CHUNK_BYTES;
            }
            self.hasher.update(&self.lines.as_bytes()[..whole]);
            self.lines.drain(..whole);
        }
        if self.keep {
            self.records.push(Stamped { time, record });
        }
    }

    pub fn records(&self) -> &Records {
        &self.records
    }

    /// `blake3:` and the hex digest of every line so far.
    pub fn digest(&self) -> String {
        let mut hasher = self.hasher.clone();
        hasher.update(self.lines.as_bytes());
        format!("blake3:{}", hasher.finalize().to_hex())
    }

    pub fn into_records(self) -> Records {
        self.records
    }
}

/// Appends `n` in decimal (`itoa`: two digits a step, and no UTF-8 check of the digits; every
/// line starts with a time of a dozen digits).
fn number(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends `namespace/name`, or the name alone in `default` (as `Pod::key` and
/// `PodGroup::key` write them).
fn push_key(out: &mut String, namespace: &str, name: &str) {
    if namespace != "default" {
        out.push_str(namespace);
        out.push('/');
    }
    out.push_str(name);
}

/// The one writer of the log's lines: `<time ns> <kind> key=value…` (the kind as
/// `Record::kind` names it; a note's first field is `by=`, the controller that wrote it), names
/// rather than ids. Each kind's fields are written in one place, piece by piece: the log writes
/// millions of lines, and the formatting machinery was most of its cost.
struct Line<'a> {
    out: &'a mut String,
    scenario: &'a Scenario,
    /// The scenario's node names.
    nodes: &'a NodeNames,
    controllers: &'a [String],
    /// The last created pod's requests and their text: pods of one template share them.
    requests: &'a mut Option<(Resources, String)>,
}

impl<'a> Line<'a> {
    /// The line after its time.
    fn write(&mut self, record: &Record) {
        self.out.push(' ');
        self.out.push_str(record.kind());
        match record {
            Record::Note { by, note } => {
                self.controller(" by=", *by);
                self.note(note);
            }
            _ => self.fields(record),
        }
    }

    /// The fields of a record other than a note.
    fn fields(&mut self, record: &Record) {
        match record {
            Record::Bound { pod, part, node } | Record::Conflict { pod, part, node } => {
                self.placement(*pod, *part, *node)
            }
            Record::Ended { pod, part, node, phase } => {
                self.placement(*pod, *part, *node);
                self.text(" phase=", phase.as_str());
            }
            Record::Started { pod, part, node, pull } => {
                self.placement(*pod, *part, *node);
                self.number(" pull_ns=", pull.as_nanos());
            }
            Record::PodCreated { pod } => self.pod_created(*pod),
            Record::GroupCreated { group } => self.group(*group),
            Record::NodeAdded { node } => {
                self.node(*node);
                self.display(" allocatable=", &self.scenario.nodes[node.index()].allocatable);
            }
            Record::BindRefused { pod, part, node, reason } => {
                self.placement(*pod, *part, *node);
                self.display(" reason=", reason);
            }
            Record::Unschedulable { pod, part, message } => {
                let spec = self.pod(" pod=", *pod);
                self.part(spec, *part);
                let _ = write!(self.out, " message={message:?}");
            }
            Record::Api { verb, latency } => {
                self.text(" verb=", verb);
                self.number(" latency_ns=", latency.as_nanos());
            }
            Record::NodeCrashed { node }
            | Record::Partitioned { node }
            | Record::Healed { node }
            | Record::NodeRecovered { node } => self.node(*node),
            Record::PodDeleted { pod } => {
                self.pod(" pod=", *pod);
            }
            Record::Preempted { pod, node, victims } => {
                self.pod(" pod=", *pod);
                self.node(*node);
                self.out.push_str(" victims=");
                for (i, victim) in victims.iter().enumerate() {
                    self.pod(if i == 0 { "" } else { "," }, *victim);
                }
            }
            Record::EtcdLeaderLost { election } => self.number(" election_ns=", election.as_nanos()),
            Record::ApiServerBrownout { until, error_rate_permille } => {
                self.number(" until_ns=", until.0);
                self.number(" error_rate_permille=", u64::from(*error_rate_permille));
            }
            Record::Tainted { node, key } | Record::Untainted { node, key } => {
                self.node(*node);
                self.text(" key=", key);
            }
            Record::ApiFailed { verb, reason, retry_after } => {
                self.text(" verb=", verb);
                self.text(" reason=", reason);
                self.number(" retry_after_ns=", retry_after.as_nanos());
            }
            Record::ControllerCrashed { by } | Record::ControllerRestarted { by } => self.controller(" by=", *by),
            Record::Relisted { by, objects, latency, missed } => {
                self.controller(" by=", *by);
                self.number(" objects=", *objects);
                self.number(" latency_ns=", latency.as_nanos());
                self.number(" missed=", *missed);
            }
            Record::WatchLag { events, p50, p99, max } => {
                self.number(" events=", *events);
                self.number(" p50_ns=", p50.as_nanos());
                self.number(" p99_ns=", p99.as_nanos());
                self.number(" max_ns=", max.as_nanos());
            }
            Record::Note { .. } => unreachable!("a note's fields are `Line::note`'s"),
        }
    }

    /// The fields of a controller's note, after its `by=`.
    fn note(&mut self, note: &Note) {
        match note {
            Note::Attempt { job, tasks, busy } => {
                self.job(job);
                self.number(" tasks=", u64::from(*tasks));
                self.number(" busy_ns=", busy.as_nanos());
            }
            Note::AttemptDone { job, placed, conflicts } => {
                self.job(job);
                self.number(" placed=", u64::from(*placed));
                self.number(" conflicts=", u64::from(*conflicts));
            }
            Note::Abandoned { job } => self.job(job),
            Note::Reserved { pod, part, node } | Note::Released { pod, part, node } => {
                self.placement(*pod, *part, *node)
            }
            Note::GroupTimedOut { group } => self.group(*group),
            Note::Offered { offer, framework, resources } => {
                self.number(" offer=", *offer);
                self.controller(" framework=", *framework);
                self.display(" resources=", resources);
            }
            Note::OfferClosed { offer, launched } => {
                self.number(" offer=", *offer);
                self.number(" launched=", u64::from(*launched));
            }
            Note::Hoard { held, needs } => {
                self.display(" held=", held);
                self.display(" needs=", needs);
            }
            Note::NodeNotReady { node } | Note::NodeReady { node } => self.node(*node),
            Note::Evicted { pod } | Note::DeletedPod { pod } => {
                self.pod(" pod=", *pod);
            }
            Note::RolloutStarted { deployment, revision, replicas, rollback_of } => {
                self.text(" deployment=", deployment);
                self.number(" revision=", u64::from(*revision));
                self.number(" replicas=", u64::from(*replicas));
                if let Some(r) = rollback_of {
                    self.number(" rollback-of=", u64::from(*r));
                }
            }
            Note::RolloutComplete { deployment, revision } => {
                self.text(" deployment=", deployment);
                self.number(" revision=", u64::from(*revision));
            }
            Note::ScaledReplicaSet { replica_set, replicas } => {
                self.text(" replicaset=", replica_set);
                self.number(" replicas=", u64::from(*replicas));
            }
            Note::JobComplete { job } => self.text(" job=", job),
            Note::JobFailed { job, reason } => {
                self.text(" job=", job);
                self.text(" reason=", reason);
            }
        }
    }

    fn text(&mut self, key: &str, value: &str) {
        self.out.push_str(key);
        self.out.push_str(value);
    }

    fn number(&mut self, key: &str, value: u64) {
        self.out.push_str(key);
        number(self.out, value);
    }

    /// A value as its `Display` writes it (the rare kinds' resources and reasons).
    fn display(&mut self, key: &str, value: &impl std::fmt::Display) {
        let _ = write!(self.out, "{key}{value}");
    }

    /// A pod's key, its name spelled in place (a generator's pod's name is never built); its
    /// spec, found on the way.
    fn pod(&mut self, key: &str, pod: PodId) -> &'a PodSpec {
        self.out.push_str(key);
        self.scenario.pods.push_key(pod, self.out)
    }

    fn part(&mut self, spec: &PodSpec, part: Part) {
        match part {
            // Nearly every part: one piece of known length, copied without a call.
            Part::Whole => self.out.push_str(" part=-"),
            Part::Container(_) => self.text(" part=", spec.part_name(part)),
        }
    }

    fn node(&mut self, node: NodeId) {
        self.text(" node=", self.nodes.get(node));
    }

    fn placement(&mut self, pod: PodId, part: Part, node: NodeId) {
        let spec = self.pod(" pod=", pod);
        self.part(spec, part);
        self.node(node);
    }

    fn group(&mut self, group: GroupId) {
        let group = &self.scenario.groups[group.index()];
        self.out.push_str(" group=");
        push_key(self.out, &group.namespace, &group.name);
    }

    fn controller(&mut self, key: &str, by: ControllerId) {
        self.text(key, self.controllers.get(by.index()).map_or("?", String::as_str));
    }

    /// A job's key with its kind: `pod/…` or `group/…`.
    fn job(&mut self, job: &JobRef) {
        self.out.push_str(" job=");
        match job {
            JobRef::Pod(p) => {
                self.pod("pod/", *p);
            }
            JobRef::Group(g) => {
                let group = &self.scenario.groups[g.index()];
                self.out.push_str("group/");
                push_key(self.out, &group.namespace, &group.name);
            }
        }
    }

    /// A created pod's key and requests (their text shared with the pod created before it,
    /// when they are equal).
    fn pod_created(&mut self, pod: PodId) {
        let spec = self.pod(" pod=", pod);
        if self.requests.as_ref().is_none_or(|(r, _)| *r != spec.requests) {
            *self.requests = Some((spec.requests.clone(), spec.requests.to_string()));
        }
        self.out.push_str(" requests=");
        self.out.push_str(&self.requests.as_ref().expect("just set").1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use podlab_cluster::scenario::Scenario;
    use podlab_cluster::{
        BindRefusal, ControllerId, GroupId, Node, NodeId, Part, Phase, Pod, PodGroup, PodId, SimDuration,
    };

    /// Two nodes, a pod in `default` and one in `ns`, a group in each.
    fn scenario() -> Scenario {
        let node = |name: &str| {
            Arc::new(Node {
                name: name.into(),
                labels: Default::default(),
                taints: vec![],
                allocatable: Resources::new(4000, 8 << 30),
                max_pods: 110,
                unschedulable: false,
                images: Vec::new(),
            })
        };
        let a = Pod::single("a", Resources::new(500, 1 << 30));
        let mut b = Pod::single("b", Resources::new(250, 0));
        b.namespace = "ns".into();
        let group = |namespace: &str, name: &str| {
            Arc::new(PodGroup {
                namespace: namespace.into(),
                name: name.into(),
                min_member: 2,
                schedule_timeout: None,
                min_resources: None,
            })
        };
        Scenario {
            name: "log".into(),
            file: "log.yaml".into(),
            seed: 0,
            duration: None,
            policies: Vec::new(),
            config: Default::default(),
            workload: Default::default(),
            control_plane: None,
            faults: Vec::new(),
            fault_processes: Vec::new(),
            replica_sets: Vec::new(),
            deployments: Vec::new(),
            deployment_changes: Vec::new(),
            jobs: Vec::new(),
            nodes: vec![node("n0"), node("n1")],
            pods: vec![Arc::new(a), Arc::new(b)].into(),
            groups: vec![group("default", "g"), group("ns", "h")],
            arrivals: Vec::new(),
            expectations: Vec::new(),
            warnings: Vec::new(),
            attributions: Vec::new(),
            kube: Default::default(),
            scheduler_config: None,
        }
    }

    /// One record of every kind, and the line each is written as: the log's bytes, pinned
    /// (every digest is of these lines).
    #[test]
    fn every_kind_has_its_line() {
        let scenario = scenario();
        let controllers = ["sched".to_string(), "cm".to_string()];
        let (a, b, n0, n1) = (PodId(0), PodId(1), NodeId(0), NodeId(1));
        let (by, cm, main) = (ControllerId(0), ControllerId(1), Part::Container(0));
        let ms = SimDuration::from_millis;
        let note = |by, note| Record::Note { by, note };
        let records = vec![
            Record::NodeAdded { node: n0 },
            Record::GroupCreated { group: GroupId(0) },
            Record::GroupCreated { group: GroupId(1) },
            Record::PodCreated { pod: a },
            Record::PodCreated { pod: b },
            Record::Bound { pod: a, part: Part::Whole, node: n0 },
            Record::BindRefused { pod: b, part: main, node: n1, reason: BindRefusal::Insufficient("cpu".into()) },
            Record::BindRefused { pod: b, part: main, node: n1, reason: BindRefusal::AlreadyBound },
            Record::Unschedulable { pod: b, part: Part::Whole, message: "0/2 nodes: \"x\"".into() },
            Record::Ended { pod: a, part: main, node: n0, phase: Phase::Succeeded },
            Record::Conflict { pod: b, part: Part::Whole, node: n1 },
            Record::Started { pod: a, part: Part::Whole, node: n0, pull: ms(3) },
            Record::Api { verb: "bind", latency: ms(7) },
            Record::NodeCrashed { node: n1 },
            Record::PodDeleted { pod: b },
            Record::Partitioned { node: n0 },
            Record::Healed { node: n0 },
            Record::EtcdLeaderLost { election: ms(500) },
            Record::ApiServerBrownout { until: SimTime(9_000), error_rate_permille: 250 },
            Record::NodeRecovered { node: n1 },
            Record::Tainted { node: n1, key: "node.kubernetes.io/unreachable".into() },
            Record::Untainted { node: n1, key: "k".into() },
            Record::ApiFailed { verb: "create", reason: "429", retry_after: ms(1) },
            Record::ControllerCrashed { by: cm },
            Record::ControllerRestarted { by: ControllerId(7) },
            Record::Relisted { by, objects: 12, latency: ms(2), missed: 3 },
            Record::Preempted { pod: a, node: n0, victims: vec![b, a] },
            Record::Preempted { pod: a, node: n0, victims: vec![] },
            Record::WatchLag { events: 10, p50: ms(1), p99: ms(2), max: ms(3) },
            note(by, Note::Attempt { job: JobRef::Pod(b), tasks: 2, busy: ms(4) }),
            note(by, Note::AttemptDone { job: JobRef::Group(GroupId(1)), placed: 1, conflicts: 1 }),
            note(by, Note::Abandoned { job: JobRef::Group(GroupId(0)) }),
            note(by, Note::Abandoned { job: JobRef::Pod(b) }),
            note(by, Note::Reserved { pod: a, part: main, node: n1 }),
            note(by, Note::Released { pod: b, part: Part::Whole, node: n0 }),
            note(by, Note::GroupTimedOut { group: GroupId(1) }),
            note(by, Note::Offered { offer: 5, framework: cm, resources: Resources::new(1500, 1 << 20) }),
            note(by, Note::OfferClosed { offer: 5, launched: 2 }),
            note(cm, Note::Hoard { held: Resources::new(1, 2), needs: Resources::new(3000, 4 << 30) }),
            note(cm, Note::NodeNotReady { node: n1 }),
            note(cm, Note::NodeReady { node: n1 }),
            note(cm, Note::Evicted { pod: b }),
            note(cm, Note::RolloutStarted { deployment: "ns/web".into(), revision: 2, replicas: 3, rollback_of: None }),
            note(cm, Note::RolloutStarted { deployment: "web".into(), revision: 3, replicas: 3, rollback_of: Some(1) }),
            note(cm, Note::RolloutComplete { deployment: "web".into(), revision: 3 }),
            note(cm, Note::ScaledReplicaSet { replica_set: "web-5d9".into(), replicas: 0 }),
            note(cm, Note::DeletedPod { pod: a }),
            note(cm, Note::JobComplete { job: "ns/batch".into() }),
            note(cm, Note::JobFailed { job: "batch".into(), reason: "BackoffLimitExceeded" }),
            // Pods of one template share their requests' text: again, then once more.
            Record::PodCreated { pod: a },
            Record::PodCreated { pod: a },
        ];
        let kinds: std::collections::BTreeSet<&str> = records.iter().map(Record::kind).collect();
        assert_eq!(kinds.len(), podlab_cluster::event::RECORD_KINDS.len(), "a record of every kind");
        let mut log = EventLog::default();
        for (i, record) in records.into_iter().enumerate() {
            log.append(&scenario, &controllers, SimTime(1_000_000_000 + i as u64), record);
        }
        for (got, want) in log.lines.lines().zip(EXPECTED.lines()) {
            assert_eq!(got, want);
        }
        assert_eq!(log.lines, EXPECTED);
    }

    const EXPECTED: &str = r#"1000000000 node-added node=n0 allocatable=cpu=4,memory=8Gi
1000000001 group-created group=g
1000000002 group-created group=ns/h
1000000003 pod-created pod=a requests=cpu=500m,memory=1Gi
1000000004 pod-created pod=ns/b requests=cpu=250m,memory=0
1000000005 bound pod=a part=- node=n0
1000000006 bind-refused pod=ns/b part=main node=n1 reason=insufficient-cpu
1000000007 bind-refused pod=ns/b part=main node=n1 reason=already-bound
1000000008 unschedulable pod=ns/b part=- message="0/2 nodes: \"x\""
1000000009 ended pod=a part=main node=n0 phase=Succeeded
1000000010 conflict pod=ns/b part=- node=n1
1000000011 started pod=a part=- node=n0 pull_ns=3000000
1000000012 api verb=bind latency_ns=7000000
1000000013 node-crashed node=n1
1000000014 pod-deleted pod=ns/b
1000000015 partitioned node=n0
1000000016 healed node=n0
1000000017 etcd-leader-lost election_ns=500000000
1000000018 apiserver-brownout until_ns=9000 error_rate_permille=250
1000000019 node-recovered node=n1
1000000020 tainted node=n1 key=node.kubernetes.io/unreachable
1000000021 untainted node=n1 key=k
1000000022 api-failed verb=create reason=429 retry_after_ns=1000000
1000000023 controller-crashed by=cm
1000000024 controller-restarted by=?
1000000025 relisted by=sched objects=12 latency_ns=2000000 missed=3
1000000026 preempted pod=a node=n0 victims=ns/b,a
1000000027 preempted pod=a node=n0 victims=
1000000028 watch-lag events=10 p50_ns=1000000 p99_ns=2000000 max_ns=3000000
1000000029 attempt by=sched job=pod/ns/b tasks=2 busy_ns=4000000
1000000030 attempt-done by=sched job=group/ns/h placed=1 conflicts=1
1000000031 abandoned by=sched job=group/g
1000000032 abandoned by=sched job=pod/ns/b
1000000033 reserved by=sched pod=a part=main node=n1
1000000034 released by=sched pod=ns/b part=- node=n0
1000000035 group-timed-out by=sched group=ns/h
1000000036 offered by=sched offer=5 framework=cm resources=cpu=1500m,memory=1Mi
1000000037 offer-closed by=sched offer=5 launched=2
1000000038 hoard by=cm held=cpu=1m,memory=2 needs=cpu=3,memory=4Gi
1000000039 node-not-ready by=cm node=n1
1000000040 node-ready by=cm node=n1
1000000041 evicted by=cm pod=ns/b
1000000042 rollout-started by=cm deployment=ns/web revision=2 replicas=3
1000000043 rollout-started by=cm deployment=web revision=3 replicas=3 rollback-of=1
1000000044 rollout-complete by=cm deployment=web revision=3
1000000045 scaled by=cm replicaset=web-5d9 replicas=0
1000000046 deleted by=cm pod=a
1000000047 job-complete by=cm job=ns/batch
1000000048 job-failed by=cm job=batch reason=BackoffLimitExceeded
1000000049 pod-created pod=a requests=cpu=500m,memory=1Gi
1000000050 pod-created pod=a requests=cpu=500m,memory=1Gi
"#;

    /// The digest is BLAKE3's of every line, however the lines are cut into batches: many
    /// batches of lines with characters of several bytes, and instants of several records
    /// (whose time is spelled once), against each line written by a log of its own.
    #[test]
    fn digest_is_of_every_line_whatever_the_batches() {
        let scenario = scenario();
        let controllers = vec!["sched".to_string()];
        let (a, b) = (PodId(0), PodId(1));
        let mut log = EventLog::digest_only();
        let mut text = String::new();
        for i in 0..20_000u64 {
            let record = match i % 3 {
                0 => Record::Bound { pod: a, part: Part::Whole, node: NodeId(1) },
                1 => Record::PodCreated { pod: b },
                _ => {
                    let message = format!("0/2 nodes… {}", "é".repeat((i % 97) as usize));
                    Record::Unschedulable { pod: b, part: Part::Whole, message: message.into() }
                }
            };
            let time = SimTime(1_000_000_000 + i / 4);
            let mut alone = EventLog::digest_only();
            alone.append(&scenario, &controllers, time, record.clone());
            text.push_str(&alone.lines);
            log.append(&scenario, &controllers, time, record);
        }
        assert!(text.len() > 20 * HASH_BATCH_BYTES, "many batches");
        assert_eq!(log.digest(), format!("blake3:{}", blake3::hash(text.as_bytes()).to_hex()));
    }

    #[test]
    fn numbers_as_display_writes_them() {
        for n in [0, 7, 10, 99, 1_000_000_007, u64::MAX] {
            let mut out = String::new();
            number(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }
}
