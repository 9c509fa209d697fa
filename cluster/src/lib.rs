//! podlab's shared vocabulary: virtual time, exact quantities, cluster objects, the events and
//! actions that pass between controllers and backends, the driver loop, and a loaded
//! scenario's data (loading one from YAML is `podlab-scenario`'s). Every other crate depends
//! on this one; it depends on none of them.

// Every public item is documented; the modules marked below are still to be (issue 20).
#![warn(missing_docs)]

#[expect(missing_docs, reason = "public items still to document (issue 20)")]
pub mod affinity;
#[expect(missing_docs, reason = "public items still to document (issue 20)")]
pub mod apps;
pub mod books;
pub mod commit;
#[expect(missing_docs, reason = "public items still to document (issue 20)")]
pub mod config;
pub mod controller;
pub mod diagnostic;
#[expect(missing_docs, reason = "public items still to document (issue 20)")]
pub mod event;
pub mod few;
pub mod gpu;
pub mod id_window;
#[expect(missing_docs, reason = "public items still to document (issue 20)")]
pub mod kube_config;
pub mod maybe;
#[expect(missing_docs, reason = "public items still to document (issue 20)")]
pub mod objects;
pub mod offered;
pub mod percentile;
pub mod pod_set;
pub mod pods;
pub mod quantity;
pub mod records;
pub mod resources;
pub mod rng;
#[expect(missing_docs, reason = "public items still to document (issue 20)")]
pub mod scenario;
pub mod selector;
pub mod time;
#[expect(missing_docs, reason = "public items still to document (issue 20)")]
pub mod workload;

pub use controller::{Backend, Context, Controller, Delivery, Driver, Handover};
/// Names of pods and groups: inline up to 15 bytes.
pub use ecow::EcoString;
pub use event::{
    Action, BindRefusal, Claim, Commitment, ConflictDetection, Event, JobRef, Message, Note, Phase, Record, Refused,
    Stamped,
};
pub use objects::{ControllerId, GroupId, Node, NodeId, Part, Pod, PodGroup, PodId, PodSpec};
pub use records::{RecordSink, Records};
pub use resources::Resources;
pub use time::{MaybeTime, SimDuration, SimTime};
