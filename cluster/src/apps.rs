//! Workload objects run by the controller manager: Deployments (revisions of a pod template,
//! rolled out by strategy) and Jobs (pods run to completion), with the kubectl-style changes a
//! scenario makes to Deployments at fixed times, and Kubernetes' `pod-template-hash`; and which
//! workload controls a pod (`controller_of`) and so selects it for the default topology
//! spreading (`default_selector`).

use std::sync::Arc;

use ecow::EcoString;

use crate::affinity::{LabelSelector, OwnerRef, SpreadSelector};
use crate::objects::{Pod, PodSpec};
use crate::selector::SelectorOp;
use crate::time::{SimDuration, SimTime};

/// The label the Deployment controller puts on its ReplicaSets' pods.
pub const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// The label the Job controller puts on its pods (and its older spelling, also set).
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
pub const LEGACY_JOB_NAME_LABEL: &str = "job-name";
/// The label (and annotation, in Kubernetes) with an Indexed Job pod's completion index.
pub const JOB_COMPLETION_INDEX_LABEL: &str = "batch.kubernetes.io/job-completion-index";

/// A count given as an integer or a percentage of the desired replicas (`intstr.IntOrString`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(u32),
    Percent(u32),
}

impl IntOrPercent {
    /// The count for `replicas`: a percentage rounds up (`maxSurge`) or down
    /// (`maxUnavailable`), as Kubernetes' `ResolveFenceposts` does.
    pub fn resolve(self, replicas: u32, round_up: bool) -> u32 {
        match self {
            IntOrPercent::Int(n) => n,
            IntOrPercent::Percent(p) => {
                let scaled = u64::from(p) * u64::from(replicas);
                let n = if round_up { scaled.div_ceil(100) } else { scaled / 100 };
                n.min(u64::from(u32::MAX)) as u32
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeploymentStrategy {
    /// Replace pods step by step: at most `max_surge` pods over the desired count, at most
    /// `max_unavailable` of the desired count unavailable.
    RollingUpdate { max_surge: IntOrPercent, max_unavailable: IntOrPercent },
    /// Delete every old pod, then create the new ones.
    Recreate,
}

impl DeploymentStrategy {
    /// `(maxSurge, maxUnavailable)` for `replicas`; both resolving to zero makes
    /// maxUnavailable 1, as Kubernetes does (a rollout must be able to progress).
    pub fn fenceposts(&self, replicas: u32) -> (u32, u32) {
        match *self {
            DeploymentStrategy::RollingUpdate { max_surge, max_unavailable } => {
                let surge = max_surge.resolve(replicas, true);
                let unavailable = max_unavailable.resolve(replicas, false);
                if surge == 0 && unavailable == 0 { (0, 1) } else { (surge, unavailable.min(replicas)) }
            }
            DeploymentStrategy::Recreate => (0, replicas),
        }
    }
}

/// An `apps/v1` Deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeploymentSpec {
    pub namespace: String,
    pub name: String,
    pub replicas: u32,
    /// The pod template (its name is the Deployment's; `owner` is unset).
    pub template: Arc<Pod>,
    pub strategy: DeploymentStrategy,
    /// `minReadySeconds`: a pod counts as available this long after it runs.
    pub min_ready: SimDuration,
}

impl DeploymentSpec {
    pub fn key(&self) -> String {
        if self.namespace == "default" { self.name.clone() } else { format!("{}/{}", self.namespace, self.name) }
    }
}

/// What a scenario's `actions:` do to a Deployment, as `kubectl` would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeploymentChangeKind {
    /// `kubectl set image deployment/<d> <container>=<image>`.
    SetImage { container: usize, image: String },
    /// `kubectl rollout undo deployment/<d> [--to-revision=N]`: back to the previous
    /// revision's template, or revision N's.
    RolloutUndo { to_revision: Option<u32> },
    /// `kubectl scale deployment/<d> --replicas=<n>`.
    Scale { replicas: u32 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeploymentChange {
    pub at: SimTime,
    /// Index into `Scenario::deployments`.
    pub deployment: usize,
    pub change: DeploymentChangeKind,
}

/// A `batch/v1` Job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSpec {
    pub namespace: String,
    pub name: String,
    /// Successful pods needed.
    pub completions: u32,
    /// Pods running at once, at most.
    pub parallelism: u32,
    /// Failed pods tolerated; one more fails the Job (`BackoffLimitExceeded`).
    pub backoff_limit: u32,
    /// `activeDeadlineSeconds`, from the Job's start.
    pub active_deadline: Option<SimDuration>,
    /// The pod template (`restartPolicy` Never or OnFailure), labelled with the Job's name.
    pub template: Arc<Pod>,
    /// When the Job is created (`spec.timeline`), and starts: t = 0 by default.
    pub start: SimTime,
    /// `completionMode: Indexed`: each index 0…completions−1 needs one successful pod.
    pub indexed: bool,
}

impl JobSpec {
    pub fn key(&self) -> String {
        if self.namespace == "default" { self.name.clone() } else { format!("{}/{}", self.namespace, self.name) }
    }
}

impl PodSpec {
    /// The Deployment whose ReplicaSet created this pod: its owner `<deployment>-<hash>` less
    /// the `pod-template-hash` label's value.
    pub fn deployment(&self) -> Option<&str> {
        let hash = self.labels.get(POD_TEMPLATE_HASH_LABEL)?;
        self.owner.as_deref()?.strip_suffix(hash.as_str())?.strip_suffix('-')
    }

    /// The Job that created this pod.
    pub fn job(&self) -> Option<&str> {
        self.labels.get(JOB_NAME_LABEL).map(String::as_str).filter(|j| self.owner.as_deref() == Some(*j))
    }
}

/// Kubernetes' `pod-template-hash`: FNV-1a (32 bits) over the template, its decimal digits
/// mapped through the alphabet of generated names (`rand.SafeEncodeString`). podlab hashes its
/// own canonical text of the template (what the pod would run), not Go's object dump, so the
/// values differ from a real cluster's, but equal templates give equal hashes.
pub fn pod_template_hash(template: &Pod) -> String {
    let mut canonical = template.clone();
    canonical.name = EcoString::new();
    canonical.owner = None;
    canonical.labels.remove(POD_TEMPLATE_HASH_LABEL);
    let text = format!("{canonical:?}");
    let mut hash: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    safe_encode(&hash.to_string())
}

/// The characters Kubernetes uses for generated names (no vowels, no look-alikes).
pub const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `rand.SafeEncodeString`: each byte mapped into [`SAFE_ALPHABET`].
pub fn safe_encode(text: &str) -> String {
    text.bytes().map(|b| SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()] as char).collect()
}

/// The pod's controller (`metav1.GetControllerOf`): its declared owner reference, or the
/// ReplicaSet or Job of podlab's own controllers that made it.
pub fn controller_of(pod: &PodSpec) -> Option<OwnerRef> {
    if let Some(declared) = pod.terms.as_ref().and_then(|t| t.controller.clone()) {
        return Some(declared);
    }
    let owner = pod.owner.as_deref()?;
    let (api_version, kind) = if pod.job().is_some() { ("batch/v1", "Job") } else { ("apps/v1", "ReplicaSet") };
    Some(OwnerRef { api_version: api_version.into(), kind: kind.into(), name: owner.into() })
}

/// The selector kube-scheduler's default topology spreading uses for a pod
/// (`pkg/scheduler/framework/plugins/helper/spread.go`, `DefaultSelector`): the
/// `spec.selector` labels of every Service of its namespace that selects it, and the
/// requirements of its controller's selector when that is a ReplicationController,
/// ReplicaSet or StatefulSet of its namespace. Empty when nothing applies (the caller then
/// builds no default constraint). A ReplicaSet podlab's Deployment controller made
/// (`<deployment>-<pod-template-hash>`) selects its Deployment's selector and the hash.
/// `spread_selectors` are `KubeObjects::spread_selectors` (a scheduler's snapshot keeps
/// them without the rest of the scenario's objects).
pub fn default_selector(spread_selectors: &[SpreadSelector], pod: &PodSpec) -> LabelSelector {
    let in_namespace =
        |kind: &'static str| spread_selectors.iter().filter(move |s| s.kind == kind && s.namespace == pod.namespace);
    let mut selector = LabelSelector::default();
    // labels.Merge: Services that select one pod agree on shared keys; a later one wins.
    for service in in_namespace("Service").filter(|s| !s.selector.is_empty() && s.selector.matches(&pod.labels)) {
        selector.match_labels.extend(service.selector.match_labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let Some(owner) = controller_of(pod) else { return selector };
    let kind = match (owner.api_version.as_str(), owner.kind.as_str()) {
        ("v1", "ReplicationController") => "ReplicationController",
        ("apps/v1", "ReplicaSet") => "ReplicaSet",
        ("apps/v1", "StatefulSet") => "StatefulSet",
        _ => return selector,
    };
    let found = in_namespace(kind).find(|s| s.name == owner.name).map(|s| s.selector.clone());
    let found = found.or_else(|| deployment_replica_set(spread_selectors, pod, kind, &owner.name));
    if let Some(other) = found {
        // `selector.Add(requirements…)`: a conjunction, so matchLabels become `In` terms.
        for (key, value) in &other.match_labels {
            selector = selector.with_requirement(key, SelectorOp::In, value);
        }
        selector.match_expressions.extend(other.match_expressions);
    }
    selector
}

/// The selector of the ReplicaSet `<deployment>-<hash>` a Deployment's pod belongs to.
fn deployment_replica_set(
    spread_selectors: &[SpreadSelector],
    pod: &PodSpec,
    kind: &str,
    name: &str,
) -> Option<LabelSelector> {
    let hash = pod.labels.get(POD_TEMPLATE_HASH_LABEL)?;
    let deployment = name.strip_suffix(hash.as_str())?.strip_suffix('-')?;
    let spec = spread_selectors.iter().find(|s| {
        kind == "ReplicaSet" && s.kind == "Deployment" && s.namespace == pod.namespace && s.name == deployment
    })?;
    Some(spec.selector.clone().with_requirement(POD_TEMPLATE_HASH_LABEL, SelectorOp::In, hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Resources;

    #[test]
    fn percentages_round_surge_up_and_unavailable_down() {
        let s = DeploymentStrategy::RollingUpdate {
            max_surge: IntOrPercent::Percent(25),
            max_unavailable: IntOrPercent::Percent(25),
        };
        assert_eq!(s.fenceposts(10), (3, 2));
        assert_eq!(s.fenceposts(4), (1, 1));
        // 25% of 1: surge 1 (up), unavailable 0 (down).
        assert_eq!(s.fenceposts(1), (1, 0));
        let zero = DeploymentStrategy::RollingUpdate {
            max_surge: IntOrPercent::Int(0),
            max_unavailable: IntOrPercent::Percent(10),
        };
        assert_eq!(zero.fenceposts(5), (0, 1), "both zero: one may be unavailable");
        assert_eq!(DeploymentStrategy::Recreate.fenceposts(3), (0, 3));
    }

    #[test]
    fn template_hash_follows_the_template_not_the_name() {
        let a = Pod::single("web", Resources::default());
        let mut b = a.clone();
        b.name = "other".into();
        assert_eq!(pod_template_hash(&a), pod_template_hash(&b));
        b.containers[0].image = "web:v2".into();
        assert_ne!(pod_template_hash(&a), pod_template_hash(&b));
        assert!(pod_template_hash(&a).bytes().all(|c| SAFE_ALPHABET.contains(&c)));
    }
}
