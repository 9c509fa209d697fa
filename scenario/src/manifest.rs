//! The Kubernetes manifests podlab reads (Node, Pod, PodGroup, PriorityClass), as serde types
//! that ignore fields podlab does not model — real manifests carry `status`, `managedFields`
//! and more — and their conversion into cluster objects with positioned errors.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::diagnostic::{LoadError, Pos};
use super::yaml::{Parsed, Source};
use crate::affinity::ContainerImage;
use crate::names::is_dns_subdomain;
use crate::objects::{Container, DEFAULT_MAX_PODS, Node, Taint, TaintEffect, Toleration};
use crate::quantity::parse_quantity;
use crate::resources::Resources;
use crate::time::{SimDuration, parse_duration};

/// The annotation that says how long a pod's containers run once started.
pub const RUN_FOR_ANNOTATION: &str = "podlab.dev/run-for";
/// The annotation that makes a pod's containers exit non-zero this long after they start.
pub const FAIL_AFTER_ANNOTATION: &str = "podlab.dev/fail-after";
/// The annotation giving the chance (0 to 1) that a pod's run ends Failed rather than
/// Succeeded.
pub const FAILURE_PROBABILITY_ANNOTATION: &str = "podlab.dev/failure-probability";
/// The annotation that sizes a pod's images, for the kubelet's pulls.
pub const IMAGE_SIZE_ANNOTATION: &str = "podlab.dev/image-size";
/// Real mode: the memory each app container allocates and touches (`800Mi`); with a suffix
/// `.<container>`, that container's alone. The simulator ignores it.
pub const ALLOCATE_MEMORY_ANNOTATION: &str = "podlab.dev/allocate-memory";
/// The labels that put a pod in a scheduler-plugins PodGroup (current and older spelling).
pub const POD_GROUP_LABELS: [&str; 2] = ["scheduling.x-k8s.io/pod-group", "pod-group.scheduling.sigs.k8s.io"];
/// The annotation that puts a pod in a Volcano PodGroup.
pub const VOLCANO_GROUP_ANNOTATION: &str = "scheduling.k8s.io/group-name";

pub type ResourceList = BTreeMap<String, Spanned<String>>;

#[derive(Deserialize, Default)]
pub struct ObjectMeta {
    pub name: Option<Spanned<String>>,
    pub namespace: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub annotations: BTreeMap<String, Spanned<String>>,
    #[serde(default, rename = "ownerReferences")]
    pub owner_references: Vec<OwnerReferenceManifest>,
}

#[derive(Deserialize)]
pub struct NodeManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NodeSpec,
    #[serde(default)]
    pub status: NodeStatus,
}

#[derive(Deserialize, Default)]
pub struct NodeSpec {
    #[serde(default)]
    pub taints: Vec<TaintManifest>,
    #[serde(default)]
    pub unschedulable: bool,
}

#[derive(Deserialize)]
pub struct TaintManifest {
    pub key: String,
    #[serde(default)]
    pub value: String,
    pub effect: Spanned<String>,
}

#[derive(Deserialize, Default)]
pub struct NodeStatus {
    pub capacity: Option<ResourceList>,
    pub allocatable: Option<ResourceList>,
    #[serde(default)]
    pub images: Vec<ContainerImageManifest>,
}

/// An entry of `status.images`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerImageManifest {
    #[serde(default)]
    pub names: Vec<String>,
    pub size_bytes: Option<Spanned<i64>>,
}

/// `apps/v1` ReplicaSet or Deployment: replicas of a pod template.
#[derive(Deserialize)]
pub struct ReplicaSetManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: ReplicaSetSpecManifest,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSetSpecManifest {
    pub replicas: Option<Spanned<i64>>,
    pub template: PodManifest,
    /// Deployments only.
    pub strategy: Option<StrategyManifest>,
    pub min_ready_seconds: Option<Spanned<i64>>,
    /// Read for topology spreading; absent, the template's labels.
    pub selector: Option<LabelSelectorManifest>,
}

/// A Deployment's `spec.strategy`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StrategyManifest {
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    pub rolling_update: Option<RollingUpdateManifest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdateManifest {
    pub max_surge: Option<Spanned<String>>,
    pub max_unavailable: Option<Spanned<String>>,
}

/// `batch/v1` Job: pods of a template run to completion.
#[derive(Deserialize)]
pub struct JobManifestK8s {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: JobSpecManifest,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSpecManifest {
    pub completions: Option<Spanned<i64>>,
    pub parallelism: Option<Spanned<i64>>,
    pub backoff_limit: Option<Spanned<i64>>,
    pub active_deadline_seconds: Option<Spanned<i64>>,
    pub completion_mode: Option<Spanned<String>>,
    pub template: PodManifest,
}

#[derive(Deserialize)]
pub struct PodManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: PodSpec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    pub containers: Spanned<Vec<ContainerManifest>>,
    #[serde(default)]
    pub init_containers: Vec<ContainerManifest>,
    pub overhead: Option<ResourceList>,
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    pub affinity: Option<Affinity>,
    #[serde(default)]
    pub tolerations: Vec<TolerationManifest>,
    pub priority: Option<i32>,
    pub priority_class_name: Option<Spanned<String>>,
    pub scheduler_name: Option<String>,
    pub node_name: Option<Spanned<String>>,
    /// Kubernetes-native gang scheduling (v1.35): the Workload and pod group this pod is in.
    pub workload_ref: Option<WorkloadRefManifest>,
    /// Read for Job templates (Never or OnFailure); a bare pod is never restarted here.
    pub restart_policy: Option<Spanned<String>>,
    #[serde(default)]
    pub topology_spread_constraints: Vec<Spanned<TopologySpreadConstraintManifest>>,
    pub preemption_policy: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadRefManifest {
    pub name: Spanned<String>,
    pub pod_group: Spanned<String>,
    pub pod_group_replica_key: Option<String>,
}

/// `scheduling.k8s.io/v1alpha1` Workload: named pod groups, each with a basic or gang policy.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: WorkloadSpec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSpec {
    #[serde(default)]
    pub pod_groups: Vec<WorkloadPodGroup>,
}

#[derive(Deserialize)]
pub struct WorkloadPodGroup {
    pub name: Spanned<String>,
    pub policy: WorkloadPolicy,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadPolicy {
    pub gang: Option<GangPolicy>,
    pub basic: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GangPolicy {
    pub min_count: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerManifest {
    pub name: Spanned<String>,
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub resources: ContainerResources,
    pub restart_policy: Option<String>,
    #[serde(default)]
    pub ports: Vec<Spanned<ContainerPortManifest>>,
}

#[derive(Deserialize, Default)]
pub struct ContainerResources {
    pub requests: Option<ResourceList>,
    pub limits: Option<ResourceList>,
}

/// `spec.affinity`: every field of the API is read, and an unknown one is an error (a typo
/// here would silently drop a rule).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Affinity {
    pub node_affinity: Option<NodeAffinity>,
    pub pod_affinity: Option<PodAffinityManifest>,
    pub pod_anti_affinity: Option<PodAffinityManifest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeAffinity {
    pub required_during_scheduling_ignored_during_execution: Option<NodeSelector>,
    #[serde(default)]
    pub preferred_during_scheduling_ignored_during_execution: Vec<PreferredSchedulingTermManifest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSelector {
    #[serde(default)]
    pub node_selector_terms: Vec<SelectorTermManifest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SelectorTermManifest {
    #[serde(default)]
    pub match_expressions: Vec<RequirementManifest>,
    #[serde(default)]
    pub match_fields: Vec<RequirementManifest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementManifest {
    pub key: String,
    pub operator: Spanned<String>,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TolerationManifest {
    #[serde(default)]
    pub key: String,
    pub operator: Option<Spanned<String>>,
    #[serde(default)]
    pub value: String,
    pub effect: Option<Spanned<String>>,
    pub toleration_seconds: Option<u64>,
}

#[derive(Deserialize)]
pub struct PodGroupManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PodGroupSpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodGroupSpec {
    pub min_member: Option<Spanned<i64>>,
    /// Volcano's Job spelling; a Volcano PodGroup may carry it too.
    pub min_available: Option<Spanned<i64>>,
    pub min_resources: Option<ResourceList>,
    pub schedule_timeout_seconds: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorityClassManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub value: i32,
    #[serde(default)]
    pub global_default: bool,
    pub preemption_policy: Option<Spanned<String>>,
}

/// A `metav1.LabelSelector`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelectorManifest {
    #[serde(default)]
    pub match_labels: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub match_expressions: Vec<LabelRequirementManifest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelRequirementManifest {
    pub key: Spanned<String>,
    pub operator: Spanned<String>,
    #[serde(default)]
    pub values: Vec<Spanned<String>>,
}

/// `podAffinity` or `podAntiAffinity`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodAffinityManifest {
    #[serde(default)]
    pub required_during_scheduling_ignored_during_execution: Vec<Spanned<PodAffinityTermManifest>>,
    #[serde(default)]
    pub preferred_during_scheduling_ignored_during_execution: Vec<Spanned<WeightedPodAffinityTermManifest>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodAffinityTermManifest {
    pub label_selector: Option<LabelSelectorManifest>,
    #[serde(default)]
    pub namespaces: Vec<Spanned<String>>,
    pub namespace_selector: Option<LabelSelectorManifest>,
    pub topology_key: Option<Spanned<String>>,
    #[serde(default)]
    pub match_label_keys: Vec<Spanned<String>>,
    #[serde(default)]
    pub mismatch_label_keys: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WeightedPodAffinityTermManifest {
    pub weight: Spanned<i64>,
    pub pod_affinity_term: Spanned<PodAffinityTermManifest>,
}

/// A `preferredDuringSchedulingIgnoredDuringExecution` entry of `nodeAffinity`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferredSchedulingTermManifest {
    pub weight: Spanned<i64>,
    pub preference: SelectorTermManifest,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TopologySpreadConstraintManifest {
    pub max_skew: Spanned<i64>,
    pub topology_key: Spanned<String>,
    pub when_unsatisfiable: Spanned<String>,
    pub label_selector: Option<LabelSelectorManifest>,
    pub min_domains: Option<Spanned<i64>>,
    pub node_affinity_policy: Option<Spanned<String>>,
    pub node_taints_policy: Option<Spanned<String>>,
    #[serde(default)]
    pub match_label_keys: Vec<Spanned<String>>,
}

/// A container's `ports[]` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerPortManifest {
    /// A port's name: accepted, not used.
    #[serde(rename = "name")]
    pub _name: Option<serde::de::IgnoredAny>,
    pub container_port: Spanned<i64>,
    pub host_port: Option<Spanned<i64>>,
    #[serde(rename = "hostIP")]
    pub host_ip: Option<Spanned<String>>,
    pub protocol: Option<Spanned<String>>,
}

/// A `metadata.ownerReferences` entry (the fields podlab reads; `uid` and
/// `blockOwnerDeletion` are accepted and ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReferenceManifest {
    pub api_version: Spanned<String>,
    pub kind: Spanned<String>,
    pub name: Spanned<String>,
    pub controller: Option<bool>,
}

/// Turns positions inside one parsed document into positions in the file.
pub struct Doc<'a, T> {
    pub src: &'a Source,
    pub parsed: Parsed<T>,
    /// Where the document starts: errors about the document as a whole point here.
    pub start: Pos,
}

impl<T> Doc<'_, T> {
    pub fn at<V>(&self, spanned: &Spanned<V>) -> Pos {
        self.parsed.pos(&spanned.referenced)
    }

    pub fn error<V>(&self, spanned: &Spanned<V>, message: impl Into<String>) -> LoadError {
        self.src.error(self.at(spanned), message)
    }

    /// `metadata.name`, which every object must have.
    pub fn name(&self, meta: &ObjectMeta, kind: &str) -> Result<(String, Pos), LoadError> {
        match &meta.name {
            Some(name) => self.checked_name(name, kind),
            None => Err(self.src.error_with_help(
                self.start,
                format!("this {kind} has no metadata.name"),
                "add `metadata: {name: my-name}`",
            )),
        }
    }

    /// A `metadata.name`, checked to be a DNS-1123 subdomain (what Kubernetes requires of
    /// most objects' names; a Simulation's names the folders of its outputs, so no name can
    /// reach outside them).
    pub fn checked_name(&self, name: &Spanned<String>, kind: &str) -> Result<(String, Pos), LoadError> {
        if is_dns_subdomain(&name.value) {
            return Ok((name.value.clone(), self.at(name)));
        }
        Err(self.src.error_with_help(
            self.at(name),
            format!("`{}` is not a valid {kind} name", name.value.escape_debug()),
            "names are lower-case letters, digits, `-` and `.`, each dot-separated part starting and ending with a letter or digit, at most 253 characters",
        ))
    }

    /// A resource list (`{cpu: 500m, memory: 1Gi}`), every quantity exact.
    pub fn resources(&self, list: &ResourceList) -> Result<Resources, LoadError> {
        let mut out = Resources::default();
        for (name, quantity) in list {
            let value = parse_quantity(&quantity.value, name).map_err(|why| self.error(quantity, why))?;
            out.set(name, value);
        }
        Ok(out)
    }

    pub fn duration(&self, text: &Spanned<String>) -> Result<SimDuration, LoadError> {
        parse_duration(&text.value).map_err(|why| self.error(text, why))
    }
}

impl Doc<'_, NodeManifest> {
    pub fn to_node(&self) -> Result<(Node, Pos), LoadError> {
        let m = &self.parsed.value;
        let (name, pos) = self.name(&m.metadata, "Node")?;
        let list = m.status.allocatable.as_ref().or(m.status.capacity.as_ref()).ok_or_else(|| {
            self.src.error_with_help(
                pos,
                format!("Node `{name}` has no status.allocatable or status.capacity"),
                "give it a size: `status: {allocatable: {cpu: \"4\", memory: 16Gi}}`",
            )
        })?;
        let mut allocatable = self.resources(list)?;
        if allocatable.get(crate::gpu::GPU_RESOURCE) > crate::gpu::MAX_GPUS_PER_NODE {
            let quantity = list.get(crate::gpu::GPU_RESOURCE).expect("the GPU count came from this list");
            return Err(self.error(
                quantity,
                format!(
                    "Node `{name}` has more than {} GPUs, the most podlab tracks per node",
                    crate::gpu::MAX_GPUS_PER_NODE
                ),
            ));
        }
        let max_pods = match allocatable.extended.remove("pods") {
            Some(n) => n,
            None => DEFAULT_MAX_PODS,
        };
        let mut labels: BTreeMap<String, String> =
            m.metadata.labels.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
        // The kubelet sets these on every node; selectors often use them.
        labels.entry("kubernetes.io/hostname".into()).or_insert_with(|| name.clone());
        labels.entry("kubernetes.io/os".into()).or_insert_with(|| "linux".into());
        let mut taints = Vec::new();
        for t in &m.spec.taints {
            let effect = TaintEffect::parse(&t.effect.value).ok_or_else(|| {
                self.error(
                    &t.effect,
                    format!("unknown taint effect `{}` (NoSchedule, PreferNoSchedule, NoExecute)", t.effect.value),
                )
            })?;
            taints.push(Taint { key: t.key.clone(), value: t.value.clone(), effect });
        }
        let images = self.images(&m.status.images)?;
        Ok((Node { name, labels, taints, allocatable, max_pods, unschedulable: m.spec.unschedulable, images }, pos))
    }

    /// `status.images`. Both fields are optional in the API (an image without names counts
    /// for nothing, one without a size for 0 bytes); a negative size is refused.
    fn images(&self, list: &[ContainerImageManifest]) -> Result<Vec<ContainerImage>, LoadError> {
        let mut out = Vec::with_capacity(list.len());
        for image in list {
            let size_bytes = match &image.size_bytes {
                None => 0,
                Some(size) if size.value < 0 => {
                    return Err(self.error(size, format!("sizeBytes {} is negative", size.value)));
                }
                Some(size) => size.value as u64,
            };
            out.push(ContainerImage { names: image.names.clone(), size_bytes });
        }
        Ok(out)
    }
}

impl Doc<'_, PodManifest> {
    pub fn containers(&self, list: &[ContainerManifest], init: bool) -> Result<Vec<Container>, LoadError> {
        let mut out: Vec<Container> = Vec::with_capacity(list.len());
        for c in list {
            if out.iter().any(|o| o.name == c.name.value) {
                return Err(self.error(&c.name, format!("duplicate container name `{}`", c.name.value)));
            }
            let limits = match &c.resources.limits {
                Some(l) => self.resources(l)?,
                None => Resources::default(),
            };
            let mut requests = match &c.resources.requests {
                Some(r) => self.resources(r)?,
                None => Resources::default(),
            };
            // Kubernetes defaulting: a limit without a request makes the request equal the limit.
            for (name, value) in [("cpu", limits.cpu_milli), ("memory", limits.memory_bytes)] {
                let given = c.resources.requests.as_ref().is_some_and(|r| r.contains_key(name));
                if !given && value > 0 {
                    requests.set(name, value);
                }
            }
            for (name, value) in &limits.extended {
                requests.extended.entry(name.clone()).or_insert(*value);
            }
            let sidecar = init && c.restart_policy.as_deref() == Some("Always");
            out.push(Container { name: c.name.value.clone(), image: c.image.clone(), requests, limits, sidecar });
        }
        Ok(out)
    }

    /// The memory each app container allocates in real mode, from `podlab.dev/allocate-memory`
    /// (every app container) and `podlab.dev/allocate-memory.<container>` (that one, which wins).
    pub fn allocate_memory(&self, containers: &[Container]) -> Result<Vec<u64>, LoadError> {
        let mut bytes = vec![0; containers.len()];
        let mut any = false;
        // The plain key sorts before every suffixed one, so a container's own value comes last.
        for (key, value) in self.parsed.value.metadata.annotations.range(ALLOCATE_MEMORY_ANNOTATION.to_string()..) {
            let Some(rest) = key.strip_prefix(ALLOCATE_MEMORY_ANNOTATION) else { break };
            let amount = parse_quantity(&value.value, "memory").map_err(|why| self.error(value, why))?;
            if rest.is_empty() {
                bytes.iter_mut().for_each(|b| *b = amount);
            } else if let Some(i) =
                rest.strip_prefix('.').and_then(|name| containers.iter().position(|c| c.name == name))
            {
                bytes[i] = amount;
            } else {
                return Err(self.error(
                    value,
                    format!(
                        "`{key}` names no app container of this pod (write {ALLOCATE_MEMORY_ANNOTATION}.<container>)"
                    ),
                ));
            }
            any = true;
        }
        Ok(if any { bytes } else { Vec::new() })
    }

    pub fn tolerations(&self) -> Result<Vec<Toleration>, LoadError> {
        let mut out = Vec::new();
        for t in &self.parsed.value.spec.tolerations {
            let exists = match &t.operator {
                None => false,
                Some(op) if op.value == "Equal" => false,
                Some(op) if op.value == "Exists" => true,
                Some(op) => {
                    return Err(self.error(op, format!("unknown toleration operator `{}` (Equal, Exists)", op.value)));
                }
            };
            let effect = match &t.effect {
                None => None,
                Some(e) if e.value.is_empty() => None,
                Some(e) => Some(TaintEffect::parse(&e.value).ok_or_else(|| {
                    self.error(
                        e,
                        format!("unknown taint effect `{}` (NoSchedule, PreferNoSchedule, NoExecute)", e.value),
                    )
                })?),
            };
            out.push(Toleration {
                key: t.key.clone(),
                exists,
                value: t.value.clone(),
                effect,
                toleration_seconds: t.toleration_seconds,
            });
        }
        Ok(out)
    }
}
