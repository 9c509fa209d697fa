//! What controllers hear (`Event`) and what they ask for (`Action`), and the `Record`s a
//! backend writes about everything that happens in the cluster.

use std::fmt;
use std::sync::Arc;

use crate::objects::{GroupId, Node, NodeId, Part, Pod, PodGroup, PodId};
use crate::time::SimTime;

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
    NodeAdded {
        node: NodeId,
        spec: Arc<Node>,
    },
    GroupAdded {
        group: GroupId,
        spec: Arc<PodGroup>,
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
    BindRefused {
        pod: PodId,
        part: Part,
        node: NodeId,
        reason: BindRefusal,
    },
    /// A part stopped running and gave its resources back.
    Ended {
        pod: PodId,
        part: Part,
        node: NodeId,
        phase: Phase,
    },
    /// A timer this controller set.
    Timer {
        token: u64,
    },
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
}

/// One thing that happened in the cluster, as the event log and the reports see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    NodeAdded { node: NodeId },
    GroupCreated { group: GroupId },
    PodCreated { pod: PodId },
    Bound { pod: PodId, part: Part, node: NodeId },
    BindRefused { pod: PodId, part: Part, node: NodeId, reason: BindRefusal },
    Unschedulable { pod: PodId, part: Part, message: String },
    Ended { pod: PodId, part: Part, node: NodeId, phase: Phase },
}

/// A record with the time it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamped {
    pub time: SimTime,
    pub record: Record,
}
