//! A run's records, kept compactly: the frequent kinds (a pod created, bound, started, ended,
//! a scheduling attempt…) as a few varint bytes each, the rare ones as they are.
//!
//! A million-pod run writes five million records; as `Vec<Stamped>` (104 bytes each, and a
//! vector that doubles) they took more than a gigabyte. Here a binding is about ten bytes: a
//! tag, the time as a delta from the previous record's, and the ids as LEB128 varints. Every
//! report reads records front to back, so that is the only way they are read: [`Records::iter`]
//! decodes each record into the very `Stamped` that was pushed.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::event::{JobRef, Note, Phase, Record, Stamped};
use crate::objects::{ControllerId, GroupId, NodeId, Part, PodId};
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

/// Whatever reads a run's records as they are written, with the scenario as it is at that
/// moment (the reports fold a big run this way instead of keeping its records).
pub trait RecordSink {
    /// Reads one record, with the scenario as it is when the record is written.
    fn observe(&mut self, scenario: &Scenario, stamped: &Stamped);
}

/// A sink that reads nothing.
impl RecordSink for () {
    fn observe(&mut self, _: &Scenario, _: &Stamped) {}
}

/// Records in the order they were pushed.
#[derive(Clone, Default)]
pub struct Records {
    /// One entry per record — its tag, its time's delta, then its fields — in chunks of at
    /// most `CHUNK_BYTES`, a record never split between two. A vector that doubles would
    /// hold up to twice what it stores, and every live pod's records are part of its cost.
    chunks: Vec<Vec<u8>>,
    /// The records stored whole (tag `OTHER`), in order: the k-th `OTHER` tag is `others[k]`.
    others: Vec<Record>,
    /// Each distinct unschedulable message once, by the index the bytes name.
    messages: Vec<Arc<str>>,
    message_ids: BTreeMap<Arc<str>, u32>,
    len: usize,
    last_time: SimTime,
    /// Pod ids are written as the difference from the last one written: a pod's records come
    /// close together (attempt, binding, start), so most take a byte rather than three.
    pods: PodDelta,
}

/// A full chunk's size; the first chunk grows to it as a vector does (a small run's records
/// stay small).
const CHUNK_BYTES: usize = 64 << 10;

/// The most bytes one record takes (a tag, a time and at most five varints; `Attempt`, the
/// largest, takes 34).
const MAX_RECORD_BYTES: usize = 64;

const OTHER: u8 = 0;
const NODE_ADDED: u8 = 1;
const POD_CREATED: u8 = 2;
const BOUND: u8 = 3;
const ENDED: u8 = 4;
const STARTED: u8 = 5;
const CONFLICT: u8 = 6;
const UNSCHEDULABLE: u8 = 7;
const API: u8 = 8;
const ATTEMPT: u8 = 9;
const ATTEMPT_DONE: u8 = 10;
const RESERVED: u8 = 11;
const RELEASED: u8 = 12;

/// The apiserver verbs the simulator writes (`Record::Api`), by their index in the bytes.
const VERBS: [&str; 5] = ["bind", "commit", "create", "delete", "patch"];
const PHASES: [Phase; 4] = [Phase::Pending, Phase::Running, Phase::Succeeded, Phase::Failed];

impl Records {
    /// No records.
    pub fn new() -> Records {
        Records::default()
    }

    /// How many records were pushed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no record was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes the records take.
    pub fn byte_len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    /// Appends one record, its time kept as a delta from the previous record's.
    pub fn push(&mut self, stamped: Stamped) {
        let Stamped { time, record } = stamped;
        if self.chunks.last().is_none_or(|c| c.len() + MAX_RECORD_BYTES > CHUNK_BYTES) {
            let capacity = if self.chunks.is_empty() { 0 } else { CHUNK_BYTES };
            self.chunks.push(Vec::with_capacity(capacity));
        }
        let b = self.chunks.last_mut().expect("a chunk with room");
        let start = b.len();
        b.push(OTHER);
        // Zigzag, so that a clock that steps back (it never does in virtual time) still encodes.
        put(b, zigzag(time.0.wrapping_sub(self.last_time.0) as i64));
        self.last_time = time;
        let pods = &mut self.pods;
        self.len += 1;
        let tag = match &record {
            Record::NodeAdded { node } => {
                put(b, node.0.into());
                NODE_ADDED
            }
            Record::PodCreated { pod } => {
                put(b, pods.encode(*pod));
                POD_CREATED
            }
            Record::Bound { pod, part, node } => {
                put_placement(b, pods, *pod, *part, *node);
                BOUND
            }
            Record::Ended { pod, part, node, phase } => {
                put_placement(b, pods, *pod, *part, *node);
                b.push(*phase as u8);
                ENDED
            }
            Record::Started { pod, part, node, pull } => {
                put_placement(b, pods, *pod, *part, *node);
                put(b, pull.as_nanos());
                STARTED
            }
            Record::Conflict { pod, part, node } => {
                put_placement(b, pods, *pod, *part, *node);
                CONFLICT
            }
            Record::Unschedulable { pod, part, message } => {
                let next = self.messages.len() as u32;
                let id = *self.message_ids.entry(message.clone()).or_insert(next);
                if id == next {
                    self.messages.push(message.clone());
                }
                put(b, pods.encode(*pod));
                put(b, part_code(*part));
                put(b, id.into());
                UNSCHEDULABLE
            }
            Record::Api { verb, latency } if VERBS.contains(verb) => {
                b.push(VERBS.iter().position(|v| v == verb).expect("contained") as u8);
                put(b, latency.as_nanos());
                API
            }
            Record::Note { by, note: Note::Attempt { job, tasks, busy } } => {
                put(b, by.0.into());
                put(b, pods.job_code(*job));
                put(b, (*tasks).into());
                put(b, busy.as_nanos());
                ATTEMPT
            }
            Record::Note { by, note: Note::AttemptDone { job, placed, conflicts } } => {
                put(b, by.0.into());
                put(b, pods.job_code(*job));
                put(b, (*placed).into());
                put(b, (*conflicts).into());
                ATTEMPT_DONE
            }
            Record::Note { by, note: Note::Reserved { pod, part, node } } => {
                put(b, by.0.into());
                put_placement(b, pods, *pod, *part, *node);
                RESERVED
            }
            Record::Note { by, note: Note::Released { pod, part, node } } => {
                put(b, by.0.into());
                put_placement(b, pods, *pod, *part, *node);
                RELEASED
            }
            _ => {
                self.others.push(record);
                OTHER
            }
        };
        b[start] = tag;
        debug_assert!(b.len() - start <= MAX_RECORD_BYTES, "a record of {} bytes", b.len() - start);
    }

    /// The records of the rare kinds (those not kept as bytes: crashes, faults, taints,
    /// offers…) in order, without decoding the rest: a report can ask whether a run had any.
    pub fn rare(&self) -> &[Record] {
        &self.others
    }

    /// The records front to back, each decoded into the `Stamped` that was pushed.
    pub fn iter(&self) -> Iter<'_> {
        let bytes = self.chunks.first().map_or(&[][..], Vec::as_slice);
        Iter { records: self, chunk: 0, bytes, at: 0, time: SimTime::ZERO, pods: PodDelta::default(), other: 0 }
    }
}

impl fmt::Debug for Records {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Records {
    fn eq(&self, other: &Records) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for Records {}

impl FromIterator<Stamped> for Records {
    fn from_iter<I: IntoIterator<Item = Stamped>>(iter: I) -> Records {
        let mut records = Records::new();
        for stamped in iter {
            records.push(stamped);
        }
        records
    }
}

impl From<Vec<Stamped>> for Records {
    fn from(records: Vec<Stamped>) -> Records {
        records.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a Records {
    type Item = Stamped;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Decodes the records in order.
pub struct Iter<'a> {
    records: &'a Records,
    /// The chunk being read, and its bytes.
    chunk: usize,
    bytes: &'a [u8],
    /// The next record's first byte in it.
    at: usize,
    time: SimTime,
    pods: PodDelta,
    /// How many `OTHER` records have been read.
    other: usize,
}

impl Iter<'_> {
    fn take(&mut self) -> u64 {
        let (value, next) = get(self.bytes, self.at);
        self.at = next;
        value
    }

    fn byte(&mut self) -> u8 {
        self.at += 1;
        self.bytes[self.at - 1]
    }

    fn pod(&mut self) -> PodId {
        let code = self.take();
        self.pods.decode(code)
    }

    fn job(&mut self) -> JobRef {
        let code = self.take();
        self.pods.job_of(code)
    }

    fn placement(&mut self) -> (PodId, Part, NodeId) {
        let pod = self.pod();
        let part = part_of(self.take());
        (pod, part, NodeId(self.take() as u32))
    }

    fn controller(&mut self) -> ControllerId {
        ControllerId(self.take() as u16)
    }

    fn duration(&mut self) -> SimDuration {
        SimDuration(self.take())
    }
}

impl Iterator for Iter<'_> {
    type Item = Stamped;

    fn next(&mut self) -> Option<Stamped> {
        while self.at == self.bytes.len() {
            self.chunk += 1;
            self.bytes = self.records.chunks.get(self.chunk)?;
            self.at = 0;
        }
        let tag = self.byte();
        let delta = unzigzag(self.take());
        self.time = SimTime(self.time.0.wrapping_add(delta as u64));
        let record = match tag {
            NODE_ADDED => Record::NodeAdded { node: NodeId(self.take() as u32) },
            POD_CREATED => Record::PodCreated { pod: self.pod() },
            BOUND => {
                let (pod, part, node) = self.placement();
                Record::Bound { pod, part, node }
            }
            ENDED => {
                let (pod, part, node) = self.placement();
                Record::Ended { pod, part, node, phase: PHASES[usize::from(self.byte())] }
            }
            STARTED => {
                let (pod, part, node) = self.placement();
                Record::Started { pod, part, node, pull: self.duration() }
            }
            CONFLICT => {
                let (pod, part, node) = self.placement();
                Record::Conflict { pod, part, node }
            }
            UNSCHEDULABLE => {
                let pod = self.pod();
                let part = part_of(self.take());
                let message = self.records.messages[self.take() as usize].clone();
                Record::Unschedulable { pod, part, message }
            }
            API => {
                let verb = VERBS[usize::from(self.byte())];
                Record::Api { verb, latency: self.duration() }
            }
            ATTEMPT => {
                let by = self.controller();
                let job = self.job();
                let tasks = self.take() as u32;
                Record::Note { by, note: Note::Attempt { job, tasks, busy: self.duration() } }
            }
            ATTEMPT_DONE => {
                let by = self.controller();
                let job = self.job();
                let placed = self.take() as u32;
                Record::Note { by, note: Note::AttemptDone { job, placed, conflicts: self.take() as u32 } }
            }
            RESERVED | RELEASED => {
                let by = self.controller();
                let (pod, part, node) = self.placement();
                let note = if tag == RESERVED {
                    Note::Reserved { pod, part, node }
                } else {
                    Note::Released { pod, part, node }
                };
                Record::Note { by, note }
            }
            _ => {
                self.other += 1;
                self.records.others[self.other - 1].clone()
            }
        };
        Some(Stamped { time: self.time, record })
    }
}

/// Appends `value` as LEB128: seven bits a byte, low bits first.
fn put(bytes: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        bytes.push(value as u8 | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
}

/// Reads a LEB128 value at `at`; returns it and where the next value starts.
fn get(bytes: &[u8], mut at: usize) -> (u64, usize) {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = bytes[at];
        at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return (value, at);
        }
        shift += 7;
    }
}

fn put_placement(bytes: &mut Vec<u8>, pods: &mut PodDelta, pod: PodId, part: Part, node: NodeId) {
    put(bytes, pods.encode(pod));
    put(bytes, part_code(part));
    put(bytes, node.0.into());
}

/// A signed value as an unsigned one, small when it is near zero either way.
fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(code: u64) -> i64 {
    ((code >> 1) as i64) ^ -((code & 1) as i64)
}

/// The last pod id written (or read): each is coded as its zigzagged difference from it, the
/// writer and every reader keeping it alike from the first record on.
#[derive(Clone, Copy, Default)]
struct PodDelta {
    last: u32,
}

impl PodDelta {
    fn encode(&mut self, pod: PodId) -> u64 {
        let code = zigzag(i64::from(pod.0.wrapping_sub(self.last) as i32));
        self.last = pod.0;
        code
    }

    fn decode(&mut self, code: u64) -> PodId {
        self.last = self.last.wrapping_add(unzigzag(code) as i32 as u32);
        PodId(self.last)
    }

    /// A job's code: a pod's (as [`PodDelta::encode`]) or a group's id, and which in the low bit.
    fn job_code(&mut self, job: JobRef) -> u64 {
        match job {
            JobRef::Pod(p) => self.encode(p) << 1,
            JobRef::Group(g) => (u64::from(g.0) << 1) | 1,
        }
    }

    fn job_of(&mut self, code: u64) -> JobRef {
        if code & 1 == 0 { JobRef::Pod(self.decode(code >> 1)) } else { JobRef::Group(GroupId((code >> 1) as u32)) }
    }
}

fn part_code(part: Part) -> u64 {
    match part {
        Part::Whole => 0,
        Part::Container(i) => u64::from(i) + 1,
    }
}

fn part_of(code: u64) -> Part {
    if code == 0 { Part::Whole } else { Part::Container((code - 1) as u16) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::BindRefusal;
    use crate::resources::Resources;

    fn at(ns: u64, record: Record) -> Stamped {
        Stamped { time: SimTime(ns), record }
    }

    #[test]
    fn every_record_comes_back_as_it_was_pushed() {
        let message: Arc<str> = Arc::from("0/2 nodes are available: 2 Insufficient cpu.");
        let (pod, node, by) = (PodId(300), NodeId(70_000), ControllerId(3));
        let pushed = vec![
            at(0, Record::NodeAdded { node }),
            at(0, Record::PodCreated { pod }),
            at(
                5,
                Record::Note {
                    by,
                    note: Note::Attempt { job: JobRef::Group(GroupId(9)), tasks: 4, busy: SimDuration(1) },
                },
            ),
            at(5, Record::Note { by, note: Note::AttemptDone { job: JobRef::Pod(pod), placed: 1, conflicts: 2 } }),
            at(5, Record::Unschedulable { pod, part: Part::Container(2), message: message.clone() }),
            at(6, Record::Unschedulable { pod: PodId(1), part: Part::Whole, message: message.clone() }),
            at(7, Record::Unschedulable { pod, part: Part::Whole, message: Arc::from("another") }),
            at(1 << 40, Record::Bound { pod, part: Part::Whole, node }),
            at(1 << 40, Record::Started { pod, part: Part::Whole, node, pull: SimDuration(u64::MAX) }),
            at(u64::MAX, Record::Ended { pod, part: Part::Container(0), node, phase: Phase::Failed }),
            at(u64::MAX, Record::Conflict { pod, part: Part::Whole, node }),
            // A clock stepping back still round-trips.
            at(3, Record::Api { verb: "patch", latency: SimDuration(12) }),
            at(3, Record::Api { verb: "other", latency: SimDuration(12) }),
            at(4, Record::Note { by, note: Note::Reserved { pod, part: Part::Whole, node } }),
            at(4, Record::Note { by, note: Note::Released { pod, part: Part::Whole, node } }),
            at(
                4,
                Record::BindRefused { pod, part: Part::Whole, node, reason: BindRefusal::Insufficient("cpu".into()) },
            ),
            at(8, Record::Note { by, note: Note::Hoard { held: Resources::new(1, 2), needs: Resources::new(3, 4) } }),
            at(9, Record::Tainted { node, key: "k".into() }),
        ];
        let records: Records = pushed.clone().into();
        assert_eq!(records.len(), pushed.len());
        assert_eq!(records.iter().collect::<Vec<_>>(), pushed);
        assert_eq!(records.messages.len(), 2, "each message is kept once");
        assert_eq!(records.others.len(), 4, "only the rare kinds are stored whole");
    }

    /// Pod ids are coded as differences: jumps either way, to the ends of the range and back,
    /// through pods and pod jobs alike, decode to the ids pushed; a pod's next record takes a
    /// byte for its id.
    #[test]
    fn pod_ids_survive_any_jump() {
        let ids = [0, u32::MAX, 5, 4, u32::MAX - 1, 0, 1 << 31, 7, 7];
        let mut pushed = Vec::new();
        for (i, &id) in ids.iter().enumerate() {
            let (pod, by) = (PodId(id), ControllerId(0));
            pushed.push(at(i as u64, Record::PodCreated { pod }));
            pushed.push(at(
                i as u64,
                Record::Note { by, note: Note::Attempt { job: JobRef::Pod(pod), tasks: 1, busy: SimDuration(0) } },
            ));
            pushed.push(at(
                i as u64,
                Record::Note {
                    by,
                    note: Note::Attempt { job: JobRef::Group(GroupId(id)), tasks: 2, busy: SimDuration(0) },
                },
            ));
            pushed.push(at(i as u64, Record::Bound { pod, part: Part::Whole, node: NodeId(1) }));
        }
        let records: Records = pushed.clone().into();
        assert_eq!(records.iter().collect::<Vec<_>>(), pushed);
        let mut same_pod = Records::new();
        same_pod.push(at(0, Record::PodCreated { pod: PodId(123_456) }));
        let before = same_pod.byte_len();
        same_pod.push(at(0, Record::Bound { pod: PodId(123_456), part: Part::Whole, node: NodeId(1) }));
        assert_eq!(same_pod.byte_len() - before, 5, "tag, time, pod, part, node: a byte each");
    }

    /// Past the first chunk, records go on in the next, none split across two.
    #[test]
    fn records_cross_chunks_whole() {
        let mut pushed = Vec::new();
        for i in 0..20_000u32 {
            let (pod, node) = (PodId(i), NodeId(i % 977));
            let record = match i % 3 {
                0 => Record::Bound { pod, part: Part::Whole, node },
                1 => {
                    Record::Started { pod, part: Part::Container(1), node, pull: SimDuration(u64::MAX - u64::from(i)) }
                }
                _ => Record::Tainted { node, key: format!("k{i}") },
            };
            pushed.push(at(u64::from(i) << 20, record));
        }
        let records: Records = pushed.clone().into();
        assert!(records.chunks.len() > 3, "{} chunks", records.chunks.len());
        assert!(records.chunks.iter().all(|c| c.len() <= CHUNK_BYTES));
        assert_eq!(records.iter().collect::<Vec<_>>(), pushed);
        assert!(Records::new().iter().next().is_none());
    }

    /// A random record of kind `k` (one of [`KINDS`]), its fields drawn across their whole
    /// range — ids near both ends, parts up to the last container, every phase and verb.
    fn random_record(rng: &mut rand_chacha::ChaCha8Rng, k: u64) -> Record {
        use crate::rng::below;
        use rand_core::Rng;
        // Small values mostly (the varints' one-byte case), and now and then any value at all.
        let wide = |rng: &mut rand_chacha::ChaCha8Rng| match below(rng, 4) {
            0 => rng.next_u64(),
            1 => u64::MAX - below(rng, 3),
            _ => below(rng, 300),
        };
        let pod = PodId(wide(rng) as u32);
        let node = NodeId(wide(rng) as u32);
        let by = ControllerId(wide(rng) as u16);
        let part = if below(rng, 2) == 0 { Part::Whole } else { Part::Container(wide(rng) as u16) };
        let duration = SimDuration(wide(rng));
        let phase = PHASES[below(rng, 4) as usize];
        let job = if below(rng, 2) == 0 { JobRef::Pod(pod) } else { JobRef::Group(GroupId(wide(rng) as u32)) };
        let verbs = ["bind", "commit", "create", "delete", "patch", "other"];
        let verb = verbs[below(rng, verbs.len() as u64) as usize];
        let count = wide(rng) as u32;
        let text = format!("t{}", below(rng, 5));
        let message: Arc<str> = Arc::from(text.as_str());
        let resources = crate::resources::Resources::new(wide(rng), wide(rng));
        let note = |note| Record::Note { by, note };
        match k {
            0 => Record::NodeAdded { node },
            1 => Record::GroupCreated { group: GroupId(count) },
            2 => Record::PodCreated { pod },
            3 => Record::Bound { pod, part, node },
            4 => Record::BindRefused { pod, part, node, reason: BindRefusal::Insufficient(text) },
            5 => Record::Unschedulable { pod, part, message },
            6 => Record::Ended { pod, part, node, phase },
            7 => Record::Conflict { pod, part, node },
            8 => Record::Started { pod, part, node, pull: duration },
            9 => Record::Api { verb, latency: duration },
            10 => Record::NodeCrashed { node },
            11 => Record::PodDeleted { pod },
            12 => Record::Partitioned { node },
            13 => Record::Healed { node },
            14 => Record::EtcdLeaderLost { election: duration },
            15 => Record::ApiServerBrownout { until: SimTime(wide(rng)), error_rate_permille: count },
            16 => Record::NodeRecovered { node },
            17 => Record::Tainted { node, key: text },
            18 => Record::Untainted { node, key: text },
            19 => Record::ApiFailed { verb, reason: "timeout", retry_after: duration },
            20 => Record::ControllerCrashed { by },
            21 => Record::ControllerRestarted { by },
            22 => Record::Relisted { by, objects: wide(rng), latency: duration, missed: wide(rng) },
            23 => Record::Preempted { pod, node, victims: vec![PodId(count), pod] },
            24 => Record::WatchLag { events: wide(rng), p50: duration, p99: duration, max: SimDuration(wide(rng)) },
            25 => note(Note::Attempt { job, tasks: count, busy: duration }),
            26 => note(Note::AttemptDone { job, placed: count, conflicts: wide(rng) as u32 }),
            27 => note(Note::Abandoned { job }),
            28 => note(Note::Reserved { pod, part, node }),
            29 => note(Note::Released { pod, part, node }),
            30 => note(Note::GroupTimedOut { group: GroupId(count) }),
            31 => note(Note::Offered { offer: wide(rng), framework: by, resources }),
            32 => note(Note::OfferClosed { offer: wide(rng), launched: count }),
            33 => note(Note::Hoard { held: resources.clone(), needs: resources }),
            34 => note(Note::NodeNotReady { node }),
            35 => note(Note::NodeReady { node }),
            36 => note(Note::Evicted { pod }),
            37 => note(Note::RolloutStarted { deployment: text, revision: count, replicas: 3, rollback_of: Some(1) }),
            38 => note(Note::RolloutComplete { deployment: text, revision: count }),
            39 => note(Note::DeletedPod { pod }),
            40 => note(Note::ScaledReplicaSet { replica_set: text, replicas: count }),
            41 => note(Note::JobComplete { job: text }),
            _ => note(Note::JobFailed { job: text, reason: "BackoffLimitExceeded" }),
        }
    }

    /// How many kinds [`random_record`] draws from.
    const KINDS: u64 = 43;

    /// The encoder and the decoder stay in step: random records of every kind, in random
    /// order, with times that jump either way, come back as they were pushed. Every kind a
    /// record can be (`Record::kind`, whose match has no wildcard) is drawn, so a new kind
    /// fails here until it is drawn too.
    #[test]
    fn random_records_of_every_kind_round_trip() {
        let mut rng = crate::rng::stream(20, "records");
        let mut pushed = Vec::new();
        let mut time = 0u64;
        for _ in 0..100_000 {
            let k = crate::rng::below(&mut rng, KINDS);
            time = match crate::rng::below(&mut rng, 8) {
                0 => time.wrapping_sub(crate::rng::below(&mut rng, 1000)),
                1 => rand_core::Rng::next_u64(&mut rng),
                2..=4 => time,
                _ => time.wrapping_add(crate::rng::below(&mut rng, 1 << 40)),
            };
            pushed.push(at(time, random_record(&mut rng, k)));
        }
        let kinds: std::collections::BTreeSet<&str> = pushed.iter().map(|s| s.record.kind()).collect();
        let every: std::collections::BTreeSet<&str> = crate::event::RECORD_KINDS.iter().copied().collect();
        assert_eq!(kinds, every, "every record kind is drawn");
        let records: Records = pushed.clone().into();
        assert_eq!(records.len(), pushed.len());
        for (i, (got, want)) in records.iter().zip(&pushed).enumerate() {
            assert_eq!(&got, want, "record {i}");
        }
    }

    #[test]
    fn a_binding_takes_a_few_bytes() {
        let mut records = Records::new();
        for i in 0..1000u32 {
            records.push(at(
                u64::from(i) * 1_000_000,
                Record::Bound { pod: PodId(i), part: Part::Whole, node: NodeId(i % 100) },
            ));
        }
        assert!(records.byte_len() <= 10 * 1000, "{} bytes", records.byte_len());
    }
}
