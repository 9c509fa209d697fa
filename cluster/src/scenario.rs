//! A loaded, validated scenario: its objects and their arrivals, the policies' parameters, the
//! control plane, faults, workload, and the `expect:` checks. The loader that builds one from
//! YAML is `podlab-scenario`; everything that runs or measures a scenario reads this.

use std::sync::Arc;

pub use crate::config::ScoringStrategy;

use crate::apps::{DeploymentChange, DeploymentSpec, JobSpec};
use crate::config::{ControlPlaneConfig, Fault, FaultProcess, PolicyConfig};
use crate::diagnostic::{Diagnostic, Pos};
use crate::event::Phase;
use crate::objects::{GroupId, Node, NodeId, PodGroup, PodId, ReplicaSetSpec};
use crate::pods::Pods;
use crate::time::{SimDuration, SimTime};
use crate::workload::Workload;

/// An object of the scenario, by kind and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectRef {
    Group(GroupId),
    Node(NodeId),
    Pod(PodId),
}

/// An object that enters the cluster at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub at: SimTime,
    pub object: ObjectRef,
}

/// One assertion of an `expect:` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    PodPhase {
        pod: PodId,
        phase: Phase,
    },
    PodNode {
        pod: PodId,
        node: NodeId,
    },
    PodSplit {
        pod: PodId,
        split: bool,
    },
    GroupSplit {
        group: GroupId,
        split: bool,
    },
    GroupPlaced {
        group: GroupId,
        placed: u32,
    },
    /// Pods of a ReplicaSet (or of any ReplicaSet of a Deployment) running at the time.
    ReplicasRunning {
        owner: String,
        running: u32,
    },
    /// A Deployment's (by key) pods available at the time.
    DeploymentAvailable {
        deployment: String,
        available: u32,
    },
    DeploymentRevision {
        deployment: String,
        revision: u32,
    },
    DeploymentImage {
        deployment: String,
        image: String,
    },
    /// Over every update rollout up to the time: the fewest available pods, at least `min`.
    DeploymentMinAvailable {
        deployment: String,
        min: u32,
    },
    /// Over every rollout up to the time: the most pods, at most `max`.
    DeploymentMaxPods {
        deployment: String,
        max: u32,
    },
    /// A Job's (by key) condition: `Complete`, `Failed` (with a reason, if given) or `Running`.
    JobStatus {
        job: String,
        status: String,
        reason: Option<String>,
    },
    JobSucceeded {
        job: String,
        pods: u32,
    },
    JobFailed {
        job: String,
        pods: u32,
    },
    JobMaxActive {
        job: String,
        pods: u32,
    },
    /// How many created pods are in this phase at the time.
    PodsInPhase {
        phase: Phase,
        count: u32,
    },
    /// How many records of this kind (`Record::kind`) the run wrote by the time: at least
    /// `min`, at most `max`.
    Records {
        kind: &'static str,
        min: Option<u64>,
        max: Option<u64>,
    },
}

/// An `expect:` entry: checks that must hold for some policies at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// The policies it holds for; empty: every policy in the scenario's `spec.policies`.
    pub policies: Vec<String>,
    pub at: Option<SimTime>,
    pub why: Option<String>,
    /// Where it is written, so a failure can point at it.
    pub pos: Pos,
    pub checks: Vec<Check>,
}

/// A loaded, validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    /// The path it was loaded from, as the user wrote it.
    pub file: String,
    pub seed: u64,
    pub duration: Option<SimDuration>,
    /// The policies to run when the user names none.
    pub policies: Vec<String>,
    /// Every policy's parameters.
    pub config: PolicyConfig,
    /// Jobs drawn per run from its seed (see `podlab_scenario::instantiate`).
    pub workload: Workload,
    /// The control plane's latencies; `None`: ideal (every request and watch instant).
    pub control_plane: Option<ControlPlaneConfig>,
    pub faults: Vec<Fault>,
    /// Faults drawn per seed (`every:`); `podlab_scenario::instantiate` adds them to `faults`.
    pub fault_processes: Vec<FaultProcess>,
    pub replica_sets: Vec<ReplicaSetSpec>,
    pub deployments: Vec<DeploymentSpec>,
    /// The scenario's `actions:` on Deployments (`setImage`, `rolloutUndo`, `scale`), in time
    /// order.
    pub deployment_changes: Vec<DeploymentChange>,
    pub jobs: Vec<JobSpec>,
    pub nodes: Vec<Arc<Node>>,
    /// By id; a generator's pods are rebuilt when asked for (see [`Pods`]).
    pub pods: Pods,
    pub groups: Vec<Arc<PodGroup>>,
    /// Every object's creation, in time order (ties in file order: groups, nodes, then pods).
    pub arrivals: Vec<Arrival>,
    pub expectations: Vec<Expectation>,
    pub warnings: Vec<Diagnostic>,
    /// Where the scenario's data comes from, to be shown with every result computed from it:
    /// the `podlab.dev/attribution` annotation of the Simulation document, and each trace read.
    pub attributions: Vec<String>,
    /// What kube-scheduler reads beyond nodes and pods: the selectors of Services,
    /// ReplicationControllers, ReplicaSets, Deployments and StatefulSets, PodDisruptionBudgets
    /// and namespaces' labels.
    pub kube: crate::affinity::KubeObjects,
    /// The scenario's `KubeSchedulerConfiguration` document, if it has one (`--scheduler-config`
    /// replaces it); `None`: kube-scheduler's defaults.
    pub scheduler_config: Option<crate::kube_config::KubeSchedulerConfiguration>,
}

impl Scenario {
    pub fn node_named(&self, name: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.name == name).map(|i| NodeId(i as u32))
    }

    pub fn pod_named(&self, key: &str) -> Option<PodId> {
        self.pods.iter().position(|p| p.key() == key).map(|i| PodId(i as u32))
    }

    /// The members of each group, by group id.
    pub fn group_members(&self) -> Vec<Vec<PodId>> {
        let mut members = vec![Vec::new(); self.groups.len()];
        for pod in (0..self.pods.len() as u32).map(PodId) {
            if let Some(g) = self.pods.group(pod) {
                members[g.index()].push(pod);
            }
        }
        members
    }
}
