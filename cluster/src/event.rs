//! What controllers hear (`Event`) and what they ask for (`Action`), and the `Record`s a
//! backend writes about everything that happens in the cluster.

use std::fmt;
use std::sync::Arc;

use crate::objects::{ControllerId, GroupId, Node, NodeId, Part, Pod, PodGroup, PodId, Taint};
pub use crate::offered::OfferedNodes;
use crate::resources::Resources;
use crate::time::{SimDuration, SimTime};

/// The phase of a pod, or of one part of it, as Kubernetes names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl Phase {
    pub fn parse(text: &str) -> Option<Phase> {
        Some(match text {
            "Pending" => Phase::Pending,
            "Running" => Phase::Running,
            "Succeeded" => Phase::Succeeded,
            "Failed" => Phase::Failed,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
        }
    }
}

/// Why the backend refused a binding. These are modelled outcomes a scheduler must handle
/// (its cache was stale, or another scheduler won the race), not errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindRefusal {
    /// The part is already bound (Kubernetes answers 409 Conflict).
    AlreadyBound,
    /// The node no longer has room for it.
    Insufficient(String),
    /// The node does not exist (any more).
    NoSuchNode,
}

impl fmt::Display for BindRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindRefusal::AlreadyBound => f.write_str("already-bound"),
            BindRefusal::Insufficient(resource) => write!(f, "insufficient-{resource}"),
            BindRefusal::NoSuchNode => f.write_str("no-such-node"),
        }
    }
}

/// A notification delivered to a controller: a watch event, the reply to one of its own
/// requests, or one of its timers firing.
#[derive(Clone, Debug)]
pub enum Event {
    /// The controller's process begins: delivered to every controller before anything else —
    /// and again when a crashed one restarts, to a new instance with empty memory.
    Start,
    /// The controller's first List has been delivered whole (client-go's `HasSynced`): what
    /// it knows now is the cluster, so a controller that acts on what is missing (a
    /// ReplicaSet short of replicas) may act. At the run's start it follows `Start` at once
    /// (nothing exists yet); after a restart it follows the relisted objects.
    Synced,
    NodeAdded {
        node: NodeId,
        spec: Arc<Node>,
    },
    GroupAdded {
        group: GroupId,
        spec: Arc<PodGroup>,
    },
    /// A node's spec changed (a taint added or removed).
    NodeUpdated {
        node: NodeId,
        spec: Arc<Node>,
    },
    /// A kubelet's node-status heartbeat reached the apiserver.
    NodeHeartbeat {
        node: NodeId,
    },
    /// A new, unbound pod.
    PodAdded {
        pod: PodId,
        spec: Arc<Pod>,
    },
    /// A part was bound to a node, by this or any other scheduler.
    Bound {
        pod: PodId,
        part: Part,
        node: NodeId,
    },
    /// The reply to this controller's own `Action::Bind` when the backend refused it.
    BindRefused(Box<Refused>),
    /// A part stopped running and gave its resources back.
    Ended {
        pod: PodId,
        part: Part,
        node: NodeId,
        phase: Phase,
    },
    /// The kubelet started a bound part (its containers run): the pod status update every
    /// pod watcher sees. Sent only with a modelled control plane; in the ideal one a part
    /// runs from its binding.
    Started {
        pod: PodId,
        part: Part,
        node: NodeId,
    },
    /// A pod deleted before any part of it was bound: it is gone, and will never run.
    PodDeleted {
        pod: PodId,
    },
    /// A timer this controller set.
    Timer {
        token: u64,
    },
    /// A message from another controller (a Mesos offer, a framework's answer). Boxed, as are
    /// `Committed`'s claims and `BindRefused`'s reason: every queued delivery is an `Event`,
    /// and these three are rare and large.
    Message {
        from: ControllerId,
        message: Box<Message>,
    },
    /// The reply to this controller's own `Action::Commit`: which claims were applied.
    Committed(Box<Commitment>),
}

/// A binding the backend refused, and why (boxed in [`Event::BindRefused`]: rare, and twice
/// the size of every other event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub pod: PodId,
    pub part: Part,
    pub node: NodeId,
    pub reason: BindRefusal,
}

/// Which claims of an `Action::Commit` were applied, and which conflicted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment {
    pub accepted: Vec<Claim>,
    pub conflicted: Vec<Claim>,
}

/// A job: what the Omega paper's schedulers place as one unit of work — a PodGroup, or a lone
/// pod — and whose decision time grows with its tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobRef {
    Group(GroupId),
    Pod(PodId),
}

/// One placement of an optimistic transaction, with the node's sequence number as the
/// scheduler's snapshot saw it (for coarse-grained conflict detection).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Claim {
    pub pod: PodId,
    pub part: Part,
    pub node: NodeId,
    pub seen_seq: u64,
}

/// How a commit decides that a claim conflicts (the Omega paper's two options).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConflictDetection {
    /// The claim no longer fits on its node ("resource-fit").
    #[default]
    Fine,
    /// The node's sequence number moved since the snapshot ("sequence numbers"): any claim by
    /// anyone in between is a conflict, even one that left room.
    Coarse,
}

/// What passes between controllers: the Mesos master's offers and the frameworks' answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Master → framework: these resources are locked for you until you answer; `total` is
    /// their sum.
    Offer { offer: u64, nodes: Arc<OfferedNodes>, total: Resources },
    /// Master → framework: the offer is withdrawn (it timed out).
    Rescind { offer: u64 },
    /// Framework → master: launch these on the offer's nodes; the rest of the offer returns.
    /// `refuse` keeps the returned resources from being re-offered to this framework that long.
    /// Each launch carries the task's resources, as a Mesos `TaskInfo` does: the master's own
    /// watch may not have shown it the pod yet.
    Answer { offer: u64, launches: Vec<(PodId, Part, NodeId, Resources)>, refuse: SimDuration },
    /// Framework → master: whether it has work waiting for resources (and so wants offers).
    Demand { wanting: bool },
}

/// Facts a controller states about its own decisions, for the log and the metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// A scheduling attempt of a job began; it keeps the scheduler busy for `busy`.
    Attempt { job: JobRef, tasks: u32, busy: SimDuration },
    /// The attempt ended: tasks placed, and claims that conflicted (any conflict wastes it).
    AttemptDone { job: JobRef, placed: u32, conflicts: u32 },
    /// A job given up after too many attempts.
    Abandoned { job: JobRef },
    /// A part holds resources on a node without running (gang Permit, hoarding).
    Reserved { pod: PodId, part: Part, node: NodeId },
    /// A reservation given back without binding.
    Released { pod: PodId, part: Part, node: NodeId },
    /// A gang's wait at Permit timed out; its members were rejected.
    GroupTimedOut { group: GroupId },
    /// Mesos: resources offered to a framework, locked until it answers.
    Offered { offer: u64, framework: ControllerId, resources: Resources },
    /// Mesos: an offer answered or rescinded; `launched` tasks started on it.
    OfferClosed { offer: u64, launched: u32 },
    /// Mesos hoarding: what the framework writing it now holds for its head group, and what
    /// that group needs.
    Hoard { held: Resources, needs: Resources },
    /// The node lifecycle controller found a node silent past the grace period.
    NodeNotReady { node: NodeId },
    /// The node lifecycle controller saw a node report again.
    NodeReady { node: NodeId },
    /// A pod evicted from a node that stayed unreachable past its toleration.
    Evicted { pod: PodId },
    /// A Deployment's rollout to a revision began (`revision` 1 is its first creation);
    /// `rollback_of` names the revision `kubectl rollout undo` went back to, by its former number.
    RolloutStarted { deployment: String, revision: u32, replicas: u32, rollback_of: Option<u32> },
    /// Every desired pod of the revision is available and no older pod is left.
    RolloutComplete { deployment: String, revision: u32 },
    /// A controller deletes one of its pods (a ReplicaSet scaled down, a Job finished): the
    /// Kubernetes event `SuccessfulDelete`. Its running parts end Failed, as an eviction's do.
    DeletedPod { pod: PodId },
    /// A ReplicaSet's desired pods changed (a rollout step, or a scaling).
    ScaledReplicaSet { replica_set: String, replicas: u32 },
    /// A Job's pods succeeded `completions` times.
    JobComplete { job: String },
    /// A Job failed: `BackoffLimitExceeded` or `DeadlineExceeded`.
    JobFailed { job: String, reason: &'static str },
}

/// A request from a controller to its backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Bind a part of a pod to a node (the scheduler's `Bind` extension point).
    Bind { pod: PodId, part: Part, node: NodeId },
    /// Deliver `Event::Timer { token }` to this controller at `at` (never earlier than now).
    SetTimer { at: SimTime, token: u64 },
    /// Record that a scheduling attempt found no node (`FailedScheduling`), with the
    /// scheduler's message, e.g. `0/2 nodes are available: 2 Insufficient memory.`
    ReportUnschedulable { pod: PodId, part: Part, message: String },
    /// Send a message to another controller.
    Send { to: ControllerId, message: Message },
    /// Apply an optimistic transaction to the shared cell state (Omega). With `all_or_nothing`
    /// the first conflict rolls back every claim; otherwise every claim that does not conflict
    /// is applied. Answered with `Event::Committed`.
    Commit { claims: Vec<Claim>, detection: ConflictDetection, all_or_nothing: bool },
    /// State a fact about this controller's decisions, for the log and the metrics.
    Note(Note),
    /// Create a pod (a controller's replica); its name must be new.
    CreatePod { spec: Arc<Pod> },
    /// Add a taint to a node (the node lifecycle controller's NotReady/unreachable taints).
    TaintNode { node: NodeId, taint: Taint },
    /// Remove the node's taint with this key.
    UntaintNode { node: NodeId, key: String },
    /// Evict (delete) a pod: its running parts end as Failed and free their resources; a pod
    /// not bound yet is deleted (`Record::PodDeleted`) and never binds.
    Evict { pod: PodId },
    /// kube-scheduler's preemption (DefaultPreemption's PostFilter): `pod` is nominated to
    /// `node`, and each of the `victims` is deleted gracefully — its parts stop once the
    /// node's kubelet has seen the deletion (at once on the ideal control plane) and end as
    /// Failed. Written as `Record::Preempted`.
    Preempt { pod: PodId, node: NodeId, victims: Vec<PodId> },
}

/// One thing that happened in the cluster, as the event log and the reports see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    NodeAdded {
        node: NodeId,
    },
    GroupCreated {
        group: GroupId,
    },
    PodCreated {
        pod: PodId,
    },
    Bound {
        pod: PodId,
        part: Part,
        node: NodeId,
    },
    BindRefused {
        pod: PodId,
        part: Part,
        node: NodeId,
        reason: BindRefusal,
    },
    Unschedulable {
        pod: PodId,
        part: Part,
        /// Shared: a storm of pending pods repeats a handful of messages.
        message: Arc<str>,
    },
    Ended {
        pod: PodId,
        part: Part,
        node: NodeId,
        phase: Phase,
    },
    /// A claim of a transaction rejected as conflicting.
    Conflict {
        pod: PodId,
        part: Part,
        node: NodeId,
    },
    /// The kubelet started a bound part: it runs from now; `pull` of the wait was image pulls.
    Started {
        pod: PodId,
        part: Part,
        node: NodeId,
        pull: SimDuration,
    },
    /// A write went through the apiserver and etcd (`verb`: bind, commit, create, delete, patch).
    Api {
        verb: &'static str,
        latency: SimDuration,
    },
    NodeCrashed {
        node: NodeId,
    },
    /// A pod deleted before any part of it was bound.
    PodDeleted {
        pod: PodId,
    },
    /// A node cut off from the control plane, and healed.
    Partitioned {
        node: NodeId,
    },
    Healed {
        node: NodeId,
    },
    /// etcd lost its leader; no write commits for the election.
    EtcdLeaderLost {
        election: SimDuration,
    },
    /// The apiserver degrades until `until`, failing this share (‰) of requests.
    ApiServerBrownout {
        until: SimTime,
        error_rate_permille: u32,
    },
    NodeRecovered {
        node: NodeId,
    },
    Tainted {
        node: NodeId,
        key: String,
    },
    Untainted {
        node: NodeId,
        key: String,
    },
    /// A controller's note about its own decisions.
    Note {
        by: ControllerId,
        note: Note,
    },
    /// An attempt of a write failed (`reason`: `timeout`, `5xx`, `429`); the client retries
    /// it after `retry_after`.
    ApiFailed {
        verb: &'static str,
        reason: &'static str,
        retry_after: SimDuration,
    },
    /// A controller's process died: it hears nothing until it restarts.
    ControllerCrashed {
        by: ControllerId,
    },
    /// It started again with empty memory, and lists the cluster's state.
    ControllerRestarted {
        by: ControllerId,
    },
    /// A watcher's informer listed `objects` (taking `latency`) after its watch broke, and
    /// then received the `missed` events it had lost.
    Relisted {
        by: ControllerId,
        objects: u64,
        latency: SimDuration,
        missed: u64,
    },
    /// A preemption's deletions reached etcd: `pod` is nominated to `node`, where the
    /// `victims` (most important first) now terminate.
    Preempted {
        pod: PodId,
        node: NodeId,
        victims: Vec<PodId>,
    },
    /// At the run's end: how late watch events reached their watchers (commit → delivery),
    /// over `events` deliveries.
    WatchLag {
        events: u64,
        p50: SimDuration,
        p99: SimDuration,
        max: SimDuration,
    },
}

/// A record with the time it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamped {
    pub time: SimTime,
    pub record: Record,
}

impl Record {
    /// The record's kind as its canonical log line names it (`bound`, `relisted`, a note's
    /// own kind such as `evicted`); `expect:` lines count records by it.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::NodeAdded { .. } => "node-added",
            Record::GroupCreated { .. } => "group-created",
            Record::PodCreated { .. } => "pod-created",
            Record::Bound { .. } => "bound",
            Record::BindRefused { .. } => "bind-refused",
            Record::Unschedulable { .. } => "unschedulable",
            Record::Ended { .. } => "ended",
            Record::Conflict { .. } => "conflict",
            Record::Started { .. } => "started",
            Record::Api { .. } => "api",
            Record::NodeCrashed { .. } => "node-crashed",
            Record::Partitioned { .. } => "partitioned",
            Record::Healed { .. } => "healed",
            Record::EtcdLeaderLost { .. } => "etcd-leader-lost",
            Record::ApiServerBrownout { .. } => "apiserver-brownout",
            Record::NodeRecovered { .. } => "node-recovered",
            Record::Tainted { .. } => "tainted",
            Record::Untainted { .. } => "untainted",
            Record::ApiFailed { .. } => "api-failed",
            Record::ControllerCrashed { .. } => "controller-crashed",
            Record::ControllerRestarted { .. } => "controller-restarted",
            Record::Relisted { .. } => "relisted",
            Record::WatchLag { .. } => "watch-lag",
            Record::PodDeleted { .. } => "pod-deleted",
            Record::Preempted { .. } => "preempted",
            Record::Note { note, .. } => match note {
                Note::Attempt { .. } => "attempt",
                Note::AttemptDone { .. } => "attempt-done",
                Note::Abandoned { .. } => "abandoned",
                Note::Reserved { .. } => "reserved",
                Note::Released { .. } => "released",
                Note::GroupTimedOut { .. } => "group-timed-out",
                Note::Offered { .. } => "offered",
                Note::OfferClosed { .. } => "offer-closed",
                Note::Hoard { .. } => "hoard",
                Note::NodeNotReady { .. } => "node-not-ready",
                Note::NodeReady { .. } => "node-ready",
                Note::Evicted { .. } => "evicted",
                Note::RolloutStarted { .. } => "rollout-started",
                Note::RolloutComplete { .. } => "rollout-complete",
                Note::ScaledReplicaSet { .. } => "scaled",
                Note::DeletedPod { .. } => "deleted",
                Note::JobComplete { .. } => "job-complete",
                Note::JobFailed { .. } => "job-failed",
            },
        }
    }
}

impl Event {
    /// The event's kind, its variant's name (`PodAdded`): what a livelock's error counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Start => "Start",
            Event::Synced => "Synced",
            Event::NodeAdded { .. } => "NodeAdded",
            Event::GroupAdded { .. } => "GroupAdded",
            Event::NodeUpdated { .. } => "NodeUpdated",
            Event::NodeHeartbeat { .. } => "NodeHeartbeat",
            Event::PodAdded { .. } => "PodAdded",
            Event::Bound { .. } => "Bound",
            Event::BindRefused(_) => "BindRefused",
            Event::Ended { .. } => "Ended",
            Event::Started { .. } => "Started",
            Event::PodDeleted { .. } => "PodDeleted",
            Event::Timer { .. } => "Timer",
            Event::Message { .. } => "Message",
            Event::Committed(_) => "Committed",
        }
    }
}

impl Action {
    /// The action's kind, its variant's name (`Bind`): what a livelock's error counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Bind { .. } => "Bind",
            Action::Commit { .. } => "Commit",
            Action::CreatePod { .. } => "CreatePod",
            Action::TaintNode { .. } => "TaintNode",
            Action::UntaintNode { .. } => "UntaintNode",
            Action::Evict { .. } => "Evict",
            Action::Preempt { .. } => "Preempt",
            Action::SetTimer { .. } => "SetTimer",
            Action::Send { .. } => "Send",
            Action::Note(_) => "Note",
            Action::ReportUnschedulable { .. } => "ReportUnschedulable",
        }
    }

    /// The API verb a write goes to the apiserver as (`bind`, `create`…), for its `api`
    /// record; `other` for what is not a write.
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Bind { .. } => "bind",
            Action::Commit { .. } => "commit",
            Action::CreatePod { .. } => "create",
            Action::Evict { .. } | Action::Preempt { .. } => "delete",
            Action::TaintNode { .. } | Action::UntaintNode { .. } => "patch",
            Action::SetTimer { .. } | Action::ReportUnschedulable { .. } | Action::Send { .. } | Action::Note(_) => {
                "other"
            }
        }
    }
}

/// Every record kind, for checking the names `expect:` lines use.
pub const RECORD_KINDS: &[&str] = &[
    "node-added",
    "group-created",
    "pod-created",
    "bound",
    "bind-refused",
    "unschedulable",
    "ended",
    "conflict",
    "started",
    "api",
    "node-crashed",
    "partitioned",
    "healed",
    "etcd-leader-lost",
    "apiserver-brownout",
    "node-recovered",
    "tainted",
    "untainted",
    "api-failed",
    "controller-crashed",
    "controller-restarted",
    "relisted",
    "watch-lag",
    "attempt",
    "attempt-done",
    "abandoned",
    "reserved",
    "released",
    "group-timed-out",
    "offered",
    "offer-closed",
    "hoard",
    "node-not-ready",
    "node-ready",
    "evicted",
    "pod-deleted",
    "preempted",
    "rollout-started",
    "rollout-complete",
    "scaled",
    "deleted",
    "job-complete",
    "job-failed",
];
