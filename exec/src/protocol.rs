//! The wire format of protocol `podlab.exec/1`: JSON lines, one message a line. What podlab
//! sends is encoded from the controllers' own `Event`s; what a policy answers is decoded and
//! checked into `Action`s. `docs/src/protocol.md` is the specification.

use std::collections::BTreeMap;

use podlab_cluster::event::JobRef;
use podlab_cluster::objects::{Taint, TaintEffect, Toleration};
use podlab_cluster::{Action, BindRefusal, Event, Node, NodeId, Note, Part, Phase, Pod, PodId, Resources, SimTime};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// The protocol's version: the hello exchange carries it both ways, and a policy that answers
/// another one is refused.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest timer token a policy may use (2^53: exact in every JSON reader, JavaScript's
/// included). Larger ones are podlab's own.
pub const MAX_TOKEN: u64 = 1 << 53;

/// podlab's first message to a policy.
#[derive(Serialize)]
pub struct Hello<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub protocol: u32,
    /// The policy's name (what results and the log call it).
    pub policy: &'a str,
    /// A seed for the policy's own random draws, derived from the run's seed.
    pub seed: u64,
    pub params: &'a BTreeMap<String, serde_json::Value>,
}

/// The policy's answer to the hello.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelloReply {
    #[serde(rename = "type")]
    pub kind: String,
    pub protocol: u32,
    /// Free text for logs (the policy's own name for itself).
    #[serde(default)]
    pub name: Option<String>,
}

/// A batch's header, written before its events.
pub fn batch_header(now: SimTime, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"type\":\"events\",\"now\":");
    out.extend_from_slice(now.as_nanos().to_string().as_bytes());
    out.extend_from_slice(b",\"events\":[");
}

/// A resource list as one flat map: `cpu` in millicores, `memory` in bytes, every extended
/// resource by its name in its own unit.
struct Res<'a>(&'a Resources);

impl Serialize for Res<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2 + self.0.extended.len()))?;
        map.serialize_entry("cpu", &self.0.cpu_milli)?;
        map.serialize_entry("memory", &self.0.memory_bytes)?;
        for (name, value) in &self.0.extended {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct WireTaint<'a> {
    key: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    value: &'a str,
    effect: &'static str,
}

fn effect_name(effect: TaintEffect) -> &'static str {
    match effect {
        TaintEffect::NoSchedule => "NoSchedule",
        TaintEffect::PreferNoSchedule => "PreferNoSchedule",
        TaintEffect::NoExecute => "NoExecute",
    }
}

fn taint(t: &Taint) -> WireTaint<'_> {
    WireTaint { key: &t.key, value: &t.value, effect: effect_name(t.effect) }
}

#[derive(Serialize)]
struct WireToleration<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    key: &'a str,
    operator: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    effect: Option<&'static str>,
}

fn toleration(t: &Toleration) -> WireToleration<'_> {
    WireToleration {
        key: &t.key,
        operator: if t.exists { "Exists" } else { "Equal" },
        value: &t.value,
        effect: t.effect.map(effect_name),
    }
}

#[derive(Serialize)]
struct WireNode<'a> {
    node: u32,
    name: &'a str,
    allocatable: Res<'a>,
    max_pods: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    taints: Vec<WireTaint<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unschedulable: bool,
}

fn node(id: NodeId, spec: &Node) -> WireNode<'_> {
    WireNode {
        node: id.0,
        name: &spec.name,
        allocatable: Res(&spec.allocatable),
        max_pods: spec.max_pods,
        labels: &spec.labels,
        taints: spec.taints.iter().map(taint).collect(),
        unschedulable: spec.unschedulable,
    }
}

#[derive(Serialize)]
struct WireContainer<'a> {
    name: &'a str,
    requests: Res<'a>,
}

#[derive(Serialize)]
struct WirePod<'a> {
    pod: u32,
    name: &'a str,
    namespace: &'a str,
    requests: Res<'a>,
    #[serde(skip_serializing_if = "is_zero")]
    priority: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<u32>,
    /// `spec.nodeName`: bound by name on arrival, not the scheduler's to place.
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<u32>,
    /// Absent for `default-scheduler` (and for none).
    #[serde(skip_serializing_if = "is_default_scheduler")]
    scheduler_name: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    node_selector: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tolerations: Vec<WireToleration<'a>>,
    /// Only for a pod of more than one app container (what a per-container policy places).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    containers: Vec<WireContainer<'a>>,
}

fn is_default_scheduler(name: &str) -> bool {
    name.is_empty() || name == "default-scheduler"
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

fn pod(id: PodId, spec: &Pod) -> WirePod<'_> {
    let containers = if spec.containers.len() > 1 {
        spec.containers.iter().map(|c| WireContainer { name: &c.name, requests: Res(&c.requests) }).collect()
    } else {
        Vec::new()
    };
    WirePod {
        pod: id.0,
        name: &spec.name,
        namespace: &spec.namespace,
        requests: Res(&spec.requests),
        priority: spec.priority,
        group: spec.group().map(|g| g.0),
        node: spec.node_name().map(|n| n.0),
        scheduler_name: &spec.scheduler_name,
        labels: &spec.labels,
        node_selector: &spec.node_selector,
        tolerations: spec.tolerations.iter().map(toleration).collect(),
        containers,
    }
}

/// A part on the wire: absent for the whole pod, else the app container's index.
fn part(p: Part) -> Option<u16> {
    match p {
        Part::Whole => None,
        Part::Container(i) => Some(i),
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum WireEvent<'a> {
    Start,
    Synced,
    NodeAdded(WireNode<'a>),
    NodeUpdated(WireNode<'a>),
    NodeHeartbeat {
        node: u32,
    },
    GroupAdded {
        group: u32,
        name: &'a str,
        namespace: &'a str,
        min_member: u32,
    },
    PodAdded(WirePod<'a>),
    Bound {
        pod: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        part: Option<u16>,
        node: u32,
    },
    BindRefused {
        pod: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        part: Option<u16>,
        node: u32,
        reason: String,
    },
    Ended {
        pod: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        part: Option<u16>,
        node: u32,
        phase: &'static str,
    },
    Started {
        pod: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        part: Option<u16>,
        node: u32,
    },
    PodDeleted {
        pod: u32,
    },
    Timer {
        token: u64,
    },
}

fn wire(event: &Event) -> Option<WireEvent<'_>> {
    Some(match event {
        Event::Start => WireEvent::Start,
        Event::Synced => WireEvent::Synced,
        Event::NodeAdded { node: id, spec } => WireEvent::NodeAdded(node(*id, spec)),
        Event::NodeUpdated { node: id, spec } => WireEvent::NodeUpdated(node(*id, spec)),
        Event::NodeHeartbeat { node } => WireEvent::NodeHeartbeat { node: node.0 },
        Event::GroupAdded { group, spec } => WireEvent::GroupAdded {
            group: group.0,
            name: &spec.name,
            namespace: &spec.namespace,
            min_member: spec.min_member,
        },
        Event::PodAdded { pod: id, spec } => WireEvent::PodAdded(pod(*id, spec)),
        Event::Bound { pod, part: p, node } => WireEvent::Bound { pod: pod.0, part: part(*p), node: node.0 },
        Event::BindRefused(r) => {
            WireEvent::BindRefused { pod: r.pod.0, part: part(r.part), node: r.node.0, reason: refusal(&r.reason) }
        }
        Event::Ended { pod, part: p, node, phase } => {
            WireEvent::Ended { pod: pod.0, part: part(*p), node: node.0, phase: phase_name(*phase) }
        }
        Event::Started { pod, part: p, node } => WireEvent::Started { pod: pod.0, part: part(*p), node: node.0 },
        Event::PodDeleted { pod } => WireEvent::PodDeleted { pod: pod.0 },
        Event::Timer { token } => WireEvent::Timer { token: *token },
        // Between podlab's own controllers only: an exec policy sends no messages and commits
        // no transactions, so it is never answered with one.
        Event::Message { .. } | Event::Committed(_) => return None,
    })
}

fn refusal(reason: &BindRefusal) -> String {
    reason.to_string()
}

fn phase_name(phase: Phase) -> &'static str {
    phase.as_str()
}

/// Appends `event`'s JSON to `out` (after a comma when `out` already holds one); `false` for
/// an event the protocol does not carry.
pub fn encode_event(event: &Event, out: &mut Vec<u8>, first: bool) -> bool {
    let Some(wire) = wire(event) else { return false };
    if !first {
        out.push(b',');
    }
    // Writing to a Vec cannot fail, and every field serializes (no maps with non-string keys).
    if serde_json::to_writer(&mut *out, &wire).is_err() {
        return false;
    }
    true
}

/// The events that make a sleeping policy answer: something it may have to decide on.
pub fn wakes(event: &Event) -> bool {
    matches!(event, Event::Start | Event::Synced | Event::PodAdded { .. } | Event::BindRefused(_) | Event::Timer { .. })
}

/// One action as a policy writes it.
#[derive(Deserialize, Debug)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum WireAction {
    /// Bind a pod (or one container of it) to a node.
    Bind {
        pod: u32,
        node: u32,
        #[serde(default)]
        part: Option<u16>,
    },
    /// Be woken with `{"type":"timer","token":…}` at `at` (nanoseconds, not before now).
    Timer { at: u64, token: u64 },
    /// A scheduling attempt found no node: kube's `FailedScheduling`, with a message.
    Unschedulable {
        pod: u32,
        #[serde(default)]
        part: Option<u16>,
        message: String,
    },
    /// Give up on a pod for good: recorded as unschedulable with the reason, and abandoned.
    GiveUp { pod: u32, reason: String },
    /// Evict (delete) a pod; one not bound yet is deleted and never runs.
    Evict { pod: u32 },
}

/// The policy's answer to a batch of events.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub actions: Vec<WireAction>,
    /// Nothing to decide until a pod arrives, a binding is refused or a timer fires: podlab
    /// keeps the other events for the next batch instead of asking now.
    #[serde(default)]
    pub sleep: bool,
}

/// What podlab knows of the pods and nodes a policy has heard of, to check its actions.
#[derive(Default)]
pub struct Known {
    /// Per pod id: 0 if never announced, else 1 + its app containers.
    pods: Vec<u16>,
    nodes: Vec<bool>,
}

impl Known {
    pub fn observe(&mut self, event: &Event) {
        match event {
            Event::PodAdded { pod, spec } => {
                let i = pod.index();
                if self.pods.len() <= i {
                    self.pods.resize(i + 1, 0);
                }
                self.pods[i] = 1 + u16::try_from(spec.containers.len()).unwrap_or(u16::MAX - 1);
            }
            Event::NodeAdded { node, .. } => {
                let i = node.index();
                if self.nodes.len() <= i {
                    self.nodes.resize(i + 1, false);
                }
                self.nodes[i] = true;
            }
            _ => {}
        }
    }

    fn pod(&self, pod: u32) -> Result<PodId, String> {
        match self.pods.get(pod as usize) {
            Some(&n) if n > 0 => Ok(PodId(pod)),
            _ => Err(format!("pod {pod} was never announced")),
        }
    }

    fn part(&self, pod: u32, part: Option<u16>) -> Result<Part, String> {
        let Some(c) = part else { return Ok(Part::Whole) };
        let containers = self.pods.get(pod as usize).map_or(0, |n| n.saturating_sub(1));
        if c >= containers {
            return Err(format!("pod {pod} has no container {c} (it has {containers})"));
        }
        Ok(Part::Container(c))
    }

    fn node(&self, node: u32) -> Result<NodeId, String> {
        if self.nodes.get(node as usize).copied().unwrap_or(false) {
            Ok(NodeId(node))
        } else {
            Err(format!("node {node} was never announced"))
        }
    }
}

/// Checks one action against what the policy was told, and turns it into the controller's
/// actions; a description of what is wrong otherwise.
pub fn action(wire: WireAction, now: SimTime, known: &Known, out: &mut Vec<Action>) -> Result<(), String> {
    match wire {
        WireAction::Bind { pod, node, part } => {
            let p = known.pod(pod)?;
            let part = known.part(pod, part)?;
            out.push(Action::Bind { pod: p, part, node: known.node(node)? });
        }
        WireAction::Timer { at, token } => {
            if at < now.as_nanos() {
                return Err(format!("a timer at {at} ns, before now ({} ns)", now.as_nanos()));
            }
            if token > MAX_TOKEN {
                return Err(format!("timer token {token} is above 2^53"));
            }
            out.push(Action::SetTimer { at: SimTime(at), token });
        }
        WireAction::Unschedulable { pod, part, message } => {
            let p = known.pod(pod)?;
            out.push(Action::ReportUnschedulable { pod: p, part: known.part(pod, part)?, message });
        }
        WireAction::GiveUp { pod, reason } => {
            let p = known.pod(pod)?;
            out.push(Action::ReportUnschedulable { pod: p, part: Part::Whole, message: reason });
            out.push(Action::Note(Note::Abandoned { job: JobRef::Pod(p) }));
        }
        WireAction::Evict { pod } => out.push(Action::Evict { pod: known.pod(pod)? }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use podlab_cluster::objects::TaintEffect;
    use podlab_cluster::{Refused, SimDuration};

    use super::*;

    fn encode(events: &[Event]) -> String {
        let mut out = Vec::new();
        for (i, e) in events.iter().enumerate() {
            assert!(encode_event(e, &mut out, i == 0));
        }
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    /// The wire format is the specification's (docs/src/protocol.md): a change here is a
    /// change of protocol.
    #[test]
    fn events_encode_as_the_spec_says() {
        let mut node = Node {
            name: "n0".into(),
            labels: BTreeMap::from([("zone".into(), "a".into())]),
            taints: vec![Taint { key: "gpu".into(), value: String::new(), effect: TaintEffect::NoSchedule }],
            allocatable: Resources::new(4000, 8 << 30),
            max_pods: 110,
            unschedulable: false,
            images: Vec::new(),
        };
        node.allocatable.set("nvidia.com/gpu", 2);
        let pod = Pod::single("web-1", Resources::new(500, 1 << 30));
        let events = [
            Event::Start,
            Event::NodeAdded { node: NodeId(0), spec: Arc::new(node) },
            Event::PodAdded { pod: PodId(7), spec: Arc::new(pod) },
            Event::Bound { pod: PodId(7), part: Part::Whole, node: NodeId(0) },
            Event::BindRefused(Box::new(Refused {
                pod: PodId(7),
                part: Part::Container(1),
                node: NodeId(0),
                reason: BindRefusal::Insufficient("cpu".into()),
            })),
            Event::Ended { pod: PodId(7), part: Part::Whole, node: NodeId(0), phase: Phase::Succeeded },
            Event::Timer { token: 3 },
        ];
        assert_eq!(
            encode(&events),
            concat!(
                r#"{"type":"start"},"#,
                r#"{"type":"node-added","node":0,"name":"n0","allocatable":{"cpu":4000,"memory":8589934592,"nvidia.com/gpu":2},"max_pods":110,"labels":{"zone":"a"},"taints":[{"key":"gpu","effect":"NoSchedule"}]},"#,
                r#"{"type":"pod-added","pod":7,"name":"web-1","namespace":"default","requests":{"cpu":500,"memory":1073741824}},"#,
                r#"{"type":"bound","pod":7,"node":0},"#,
                r#"{"type":"bind-refused","pod":7,"part":1,"node":0,"reason":"insufficient-cpu"},"#,
                r#"{"type":"ended","pod":7,"node":0,"phase":"Succeeded"},"#,
                r#"{"type":"timer","token":3}"#,
            )
        );
        let mut header = Vec::new();
        batch_header(SimTime::ZERO + SimDuration::from_secs(2), &mut header);
        assert_eq!(header, br#"{"type":"events","now":2000000000,"events":["#);
    }

    fn known() -> Known {
        let mut known = Known::default();
        let mut pod = Pod::single("p", Resources::new(1, 1));
        let second = pod.containers[0].clone();
        Arc::make_mut(&mut pod.spec).containers.push(second);
        known.observe(&Event::PodAdded { pod: PodId(2), spec: Arc::new(pod) });
        known.observe(&Event::NodeAdded {
            node: NodeId(1),
            spec: Arc::new(Node {
                name: "n".into(),
                labels: BTreeMap::new(),
                taints: Vec::new(),
                allocatable: Resources::new(1, 1),
                max_pods: 1,
                unschedulable: false,
                images: Vec::new(),
            }),
        });
        known
    }

    fn decode(reply: &str, now: u64) -> Result<Vec<Action>, String> {
        let reply: Reply = serde_json::from_str(reply).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for wire in reply.actions {
            action(wire, SimTime(now), &known(), &mut out)?;
        }
        Ok(out)
    }

    #[test]
    fn actions_decode_and_nonsense_is_named() {
        let actions = decode(
            r#"{"type":"actions","actions":[{"type":"bind","pod":2,"node":1,"part":1},{"type":"timer","at":5,"token":9},{"type":"give-up","pod":2,"reason":"too big"}],"sleep":true}"#,
            5,
        )
        .expect("valid");
        assert_eq!(actions[0], Action::Bind { pod: PodId(2), part: Part::Container(1), node: NodeId(1) });
        assert_eq!(actions[1], Action::SetTimer { at: SimTime(5), token: 9 });
        assert_eq!(actions.len(), 4, "give-up is a FailedScheduling and an abandonment");
        let wrong = [
            (r#"{"actions":[{"type":"bind","pod":2,"node":1,"part":2}]}"#, "pod 2 has no container 2 (it has 2)"),
            (r#"{"actions":[{"type":"bind","pod":3,"node":1}]}"#, "pod 3 was never announced"),
            (r#"{"actions":[{"type":"timer","at":4,"token":1}]}"#, "a timer at 4 ns, before now (5 ns)"),
            (r#"{"actions":[{"type":"timer","at":9,"token":18446744073709551615}]}"#, "above 2^53"),
            (r#"{"actions":[{"type":"bind","pod":2,"node":1,"zone":"a"}]}"#, "unknown field `zone`"),
            (r#"{"actions":[],"mood":"good"}"#, "unknown field `mood`"),
            (r#"{"sleep":true}"#, "missing field `actions`"),
        ];
        for (reply, why) in wrong {
            let error = decode(reply, 5).expect_err(reply);
            assert!(error.contains(why), "{reply}: {error}");
        }
    }
}
