//! The cluster objects podlab models — Node, Pod, PodGroup — their typed ids, and the scheduling
//! rules that belong to the objects themselves (effective requests, taints and tolerations,
//! node selectors and required node affinity).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use ecow::EcoString;

use crate::affinity::{ContainerImage, PreemptionPolicy, SchedulingTerms};
use crate::maybe::Maybe;
use crate::resources::Resources;
/// Named here too, where the pods' and nodes' own selectors are (their home is `selector`).
pub use crate::selector::{NodeSelectorTerm, SelectorOp, SelectorRequirement};
use crate::time::SimDuration;
use crate::workload::WorkloadClass;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident($repr:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $repr);
        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
        impl crate::maybe::Niche for $name {
            const NONE: $name = $name(<$repr>::MAX);
        }
    };
}

typed_id!(
    /// A node: its index in the scenario's node list.
    NodeId(u32)
);
typed_id!(
    /// A pod: its index in the scenario's pod list.
    PodId(u32)
);
typed_id!(
    /// A pod group: its index in the scenario's group list.
    GroupId(u32)
);
typed_id!(
    /// A controller: its index in the driver's controller list.
    ControllerId(u16)
);

/// The unit a scheduler places: a whole pod (Kubernetes) or one app container of it (the naive
/// per-container design, where a pod's containers can end up on different nodes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Whole,
    Container(u16),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl TaintEffect {
    pub fn parse(text: &str) -> Option<TaintEffect> {
        match text {
            "NoSchedule" => Some(TaintEffect::NoSchedule),
            "PreferNoSchedule" => Some(TaintEffect::PreferNoSchedule),
            "NoExecute" => Some(TaintEffect::NoExecute),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: TaintEffect,
}

impl fmt::Display for Taint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{{{}}}", self.key)
        } else {
            write!(f, "{{{}: {}}}", self.key, self.value)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toleration {
    /// Empty with `Exists` tolerates every taint.
    pub key: String,
    /// `Exists` when true, `Equal` otherwise.
    pub exists: bool,
    pub value: String,
    /// `None` tolerates every effect.
    pub effect: Option<TaintEffect>,
    pub toleration_seconds: Option<u64>,
}

impl Toleration {
    /// Kubernetes' `ToleratesTaint`.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if self.effect.is_some_and(|e| e != taint.effect) {
            return false;
        }
        if self.key.is_empty() {
            return self.exists;
        }
        self.key == taint.key && (self.exists || self.value == taint.value)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    /// What the scheduler may hand out (`status.allocatable`, else `status.capacity`).
    pub allocatable: Resources,
    /// `status.allocatable.pods`: the kubelet's limit on pods (110 by default).
    pub max_pods: u64,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    /// `status.images`: the images the node has cached, for ImageLocality.
    pub images: Vec<ContainerImage>,
}

impl Node {
    /// This node with `taint` in place of any taint keyed `key` (`None`: with that taint
    /// removed), or `None` when nothing changes (removing a taint it does not carry). Both
    /// backends apply `TaintNode` and `UntaintNode` through it.
    pub fn retainted(&self, taint: Option<Taint>, key: &str) -> Option<Node> {
        let mut spec = self.clone();
        spec.taints.retain(|t| t.key != key);
        let removed = spec.taints.len() != self.taints.len();
        match taint {
            Some(t) => spec.taints.push(t),
            None if removed => {}
            None => return None,
        }
        Some(spec)
    }
}

/// The kubelet's default `maxPods`.
pub const DEFAULT_MAX_PODS: u64 = 110;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    /// The image (empty when the manifest names none).
    pub image: String,
    pub requests: Resources,
    pub limits: Resources,
    /// An init container with `restartPolicy: Always`: a sidecar that keeps running.
    pub sidecar: bool,
}

/// One pod: what differs from pod to pod (name, gang, run time, a prefilled binding) plus a
/// shared [`PodSpec`]. A million generated pods are copies of a few templates, so keeping the
/// template's part behind one `Arc` costs each pod a pointer instead of a copy of its strings,
/// maps and containers. Reads (`pod.requests`) go through `Deref`; a write to a spec field
/// (`pod.labels.insert(..)`) goes through `DerefMut`, which copies the spec first if it is
/// shared (copy on write), so changing one pod never changes another.
#[derive(Clone, PartialEq, Eq)]
pub struct Pod {
    /// Inline up to 15 bytes (`web-123456`): most pods' names allocate nothing.
    pub name: EcoString,
    /// Everything the pod shares with the other pods of its template.
    pub spec: Arc<PodSpec>,
    /// The three options in 16 bytes rather than 32 (a pod is 40 bytes; a scenario holds one
    /// per pod of its run): read and set through [`Pod::run_for`], [`Pod::group`] and
    /// [`Pod::node_name`].
    run_for: Maybe<SimDuration>,
    group: Maybe<GroupId>,
    node_name: Maybe<NodeId>,
}

impl Pod {
    /// A pod of `spec` in no group, with no run time and no `spec.nodeName`.
    pub fn new(name: EcoString, spec: Arc<PodSpec>) -> Pod {
        Pod { name, spec, run_for: Maybe::NONE, group: Maybe::NONE, node_name: Maybe::NONE }
    }

    /// The PodGroup this pod belongs to, if any.
    pub fn group(&self) -> Option<GroupId> {
        self.group.get()
    }

    pub fn set_group(&mut self, group: Option<GroupId>) {
        self.group = group.into();
    }

    /// How long the pod's containers run once started (`podlab.dev/run-for`); `None` runs until
    /// the end of the simulation, like a service.
    pub fn run_for(&self) -> Option<SimDuration> {
        self.run_for.get()
    }

    pub fn set_run_for(&mut self, run_for: Option<SimDuration>) {
        self.run_for = run_for.into();
    }

    /// `spec.nodeName`: bound before any scheduler sees it (a prefilled job, a static pod).
    /// Schedulers leave such pods alone; the backend binds them when they arrive.
    pub fn node_name(&self) -> Option<NodeId> {
        self.node_name.get()
    }

    pub fn set_node_name(&mut self, node: Option<NodeId>) {
        self.node_name = node.into();
    }
}

/// The part of a pod that the pods of one template share (see [`Pod`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSpec {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub priority: i32,
    pub scheduler_name: String,
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
    pub overhead: Resources,
    pub node_selector: BTreeMap<String, String>,
    /// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`: any term must match.
    pub required_node_affinity: Option<Vec<NodeSelectorTerm>>,
    pub tolerations: Vec<Toleration>,
    /// Batch or service work (label `podlab.dev/workload`; batch by default).
    pub workload: WorkloadClass,
    /// The controller that created this pod, if any: a ReplicaSet (for a Deployment's pods,
    /// its ReplicaSet `<deployment>-<pod-template-hash>`) or a Job.
    pub owner: Option<String>,
    /// The size of this pod's images (`podlab.dev/image-size`), for the kubelet's pulls.
    pub image_bytes: Option<u64>,
    /// The effective request (see [`PodSpec::effective_requests`]), computed once at load.
    pub requests: Resources,
    /// Real mode: the bytes each app container allocates and touches, by container index
    /// (`podlab.dev/allocate-memory`); empty when none does. The simulator ignores it.
    pub allocate_memory_bytes: Vec<u64>,
    /// `podlab.dev/fail-after`: the containers exit non-zero this long after they start (the
    /// part ends Failed), unless `run_for` ends them first.
    pub fail_after: Option<SimDuration>,
    /// `podlab.dev/failure-probability`, in parts per million: the chance that a run ending by
    /// itself ends Failed rather than Succeeded, drawn per part from the kubelet's stream.
    pub failure_ppm: u32,
    /// A share of one GPU in milli-GPU (1..=999, annotation `alibabacloud.com/gpu-milli`);
    /// 0 when the pod shares none (see `crate::gpu`).
    pub gpu_share_milli: u16,
    /// Inter-pod affinity, preferred node affinity, spread constraints and host ports; `None`
    /// for a pod with none of them.
    pub terms: Option<Box<SchedulingTerms>>,
    /// `spec.preemptionPolicy`.
    pub preemption_policy: PreemptionPolicy,
}

impl std::ops::Deref for Pod {
    type Target = PodSpec;
    fn deref(&self) -> &PodSpec {
        &self.spec
    }
}

/// Copy on write: a pod that changes a spec field gets a spec of its own first, so the pods
/// still sharing the old one are untouched.
impl std::ops::DerefMut for Pod {
    fn deref_mut(&mut self) -> &mut PodSpec {
        Arc::make_mut(&mut self.spec)
    }
}

/// The debug text of the pod as one flat struct, in the field order `Pod` had before the
/// spec was split off: `pod_template_hash` hashes this text, and the hash names a
/// Deployment's pods, so the text must not change with the representation.
impl fmt::Debug for Pod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &*self.spec;
        f.debug_struct("Pod")
            .field("namespace", &s.namespace)
            .field("name", &self.name)
            .field("labels", &s.labels)
            .field("priority", &s.priority)
            .field("scheduler_name", &s.scheduler_name)
            .field("containers", &s.containers)
            .field("init_containers", &s.init_containers)
            .field("overhead", &s.overhead)
            .field("node_selector", &s.node_selector)
            .field("required_node_affinity", &s.required_node_affinity)
            .field("tolerations", &s.tolerations)
            .field("run_for", &self.run_for())
            .field("group", &self.group())
            .field("workload", &s.workload)
            .field("owner", &s.owner)
            .field("image_bytes", &s.image_bytes)
            .field("node_name", &self.node_name())
            .field("requests", &s.requests)
            .field("allocate_memory_bytes", &s.allocate_memory_bytes)
            .field("fail_after", &s.fail_after)
            .field("failure_ppm", &s.failure_ppm)
            .field("gpu_share_milli", &s.gpu_share_milli)
            .finish()
    }
}

impl Pod {
    /// A pod in the default namespace with one container `main` asking for `requests`: the
    /// shortest way to a pod in unit tests and benchmarks.
    pub fn single(name: &str, requests: Resources) -> Pod {
        let main = Container {
            name: "main".into(),
            image: String::new(),
            requests: requests.clone(),
            limits: Resources::default(),
            sidecar: false,
        };
        Pod::new(
            name.into(),
            Arc::new(PodSpec {
                namespace: "default".into(),
                labels: BTreeMap::new(),
                priority: 0,
                scheduler_name: "default-scheduler".into(),
                containers: vec![main],
                init_containers: vec![],
                overhead: Resources::default(),
                node_selector: BTreeMap::new(),
                required_node_affinity: None,
                tolerations: vec![],
                workload: WorkloadClass::Batch,
                owner: None,
                image_bytes: None,
                requests,
                allocate_memory_bytes: Vec::new(),
                fail_after: None,
                failure_ppm: 0,
                gpu_share_milli: 0,
                terms: None,
                preemption_policy: PreemptionPolicy::PreemptLowerPriority,
            }),
        )
    }

    /// When and how one run of the pod's containers ends by itself once started: at
    /// `fail-after` if it comes no later than `run-for` (Failed), else at `run-for`
    /// (Succeeded, or Failed by a draw from `exits` of `failure-probability`, drawn only for
    /// pods that set it); `None` runs until the run ends. Both backends read it (the kubelet's
    /// stream `kubelet/exits`), so a simulated and a real pod end alike.
    pub fn ending(&self, exits: &mut impl rand_core::Rng) -> Option<(SimDuration, crate::Phase)> {
        self.spec.ending_after(self.run_for(), exits)
    }

    /// `namespace/name`, or just `name` in the default namespace: how logs and reports name it.
    pub fn key(&self) -> String {
        if self.namespace == "default" { self.name.to_string() } else { format!("{}/{}", self.namespace, self.name) }
    }
}

impl PodSpec {
    /// [`Pod::ending`] of a pod of this spec that runs for `run_for`.
    pub fn ending_after(
        &self,
        run_for: Option<SimDuration>,
        exits: &mut impl rand_core::Rng,
    ) -> Option<(SimDuration, crate::Phase)> {
        let (after, phase) = match (run_for, self.fail_after) {
            (Some(run), Some(fail)) if fail <= run => (fail, crate::Phase::Failed),
            (Some(run), _) => (run, crate::Phase::Succeeded),
            (None, Some(fail)) => (fail, crate::Phase::Failed),
            (None, None) => return None,
        };
        if phase == crate::Phase::Succeeded
            && self.failure_ppm > 0
            && crate::rng::below(exits, 1_000_000) < u64::from(self.failure_ppm)
        {
            return Some((after, crate::Phase::Failed));
        }
        Some((after, phase))
    }

    /// Kubernetes' effective request: the larger of (app containers plus sidecars) and (each
    /// init container plus the sidecars started before it), plus `spec.overhead`.
    pub fn effective_requests(&self) -> Resources {
        let mut sidecars = Resources::default();
        let mut init_peak = Resources::default();
        for init in &self.init_containers {
            if init.sidecar {
                sidecars.add(&init.requests);
                init_peak = init_peak.max(&sidecars);
            } else {
                let mut during = init.requests.clone();
                during.add(&sidecars);
                init_peak = init_peak.max(&during);
            }
        }
        let mut running = sidecars;
        for c in &self.containers {
            running.add(&c.requests);
        }
        let mut total = running.max(&init_peak);
        total.add(&self.overhead);
        total
    }

    /// What one part of this pod asks for: the whole effective request, or one app container's.
    /// (Per-container placement charges init containers and overhead to nobody; ARCHITECTURE.md
    /// names that simplification.)
    pub fn part_requests(&self, part: Part) -> &Resources {
        match part {
            Part::Whole => &self.requests,
            Part::Container(i) => &self.containers[i as usize].requests,
        }
    }

    /// The parts a scheduler of the given granularity places.
    pub fn parts(&self, per_container: bool) -> Vec<Part> {
        if per_container { (0..self.containers.len() as u16).map(Part::Container).collect() } else { vec![Part::Whole] }
    }

    /// How many parts [`PodSpec::parts`] gives, without building them (reports ask for every pod).
    pub fn part_count(&self, per_container: bool) -> usize {
        if per_container { self.containers.len() } else { 1 }
    }

    /// Human name of a part, for logs: `-` for the whole pod, else the container's name.
    pub fn part_name(&self, part: Part) -> &str {
        match part {
            Part::Whole => "-",
            Part::Container(i) => &self.containers[i as usize].name,
        }
    }

    /// NodeSelector and required NodeAffinity together.
    pub fn matches_node_affinity(&self, node: &Node) -> bool {
        self.node_selector.iter().all(|(k, v)| node.labels.get(k) == Some(v))
            && self
                .required_node_affinity
                .as_ref()
                .is_none_or(|terms| terms.iter().any(|t| t.matches(&node.labels, &node.name)))
    }

    /// The first `NoSchedule`/`NoExecute` taint of `node` this pod does not tolerate.
    pub fn untolerated_taint<'n>(&self, node: &'n Node) -> Option<&'n Taint> {
        node.taints
            .iter()
            .filter(|t| t.effect != TaintEffect::PreferNoSchedule)
            .find(|t| !self.tolerations.iter().any(|tol| tol.tolerates(t)))
    }
}

/// A gang: pods that belong together (scheduler-plugins `PodGroup`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodGroup {
    /// Inline when short, as a pod's name: a trace or generator makes a group per job.
    pub namespace: EcoString,
    pub name: EcoString,
    pub min_member: u32,
    pub schedule_timeout: Option<SimDuration>,
    pub min_resources: Option<Resources>,
}

impl PodGroup {
    pub fn key(&self) -> String {
        if self.namespace == "default" { self.name.to_string() } else { format!("{}/{}", self.namespace, self.name) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scenario holds one pod per pod of its run (twelve million for a Google-cell day); the
    /// three optional fields round-trip through their compact form.
    #[test]
    fn a_pod_stays_small_and_keeps_its_options() {
        assert!(size_of::<Pod>() <= 40, "Pod: {} B", size_of::<Pod>());
        let mut pod = Pod::single("p", Resources::new(1, 1));
        assert_eq!((pod.group(), pod.run_for(), pod.node_name()), (None, None, None));
        pod.set_group(Some(GroupId(7)));
        pod.set_run_for(Some(SimDuration(0)));
        pod.set_node_name(Some(NodeId(0)));
        assert_eq!(
            (pod.group(), pod.run_for(), pod.node_name()),
            (Some(GroupId(7)), Some(SimDuration(0)), Some(NodeId(0)))
        );
    }

    /// A taint replaces the one of its key, removing one is a change only if it was there.
    #[test]
    fn retainted_replaces_by_key() {
        let node = Node {
            name: "n".into(),
            labels: BTreeMap::new(),
            taints: vec![],
            allocatable: Resources::default(),
            max_pods: DEFAULT_MAX_PODS,
            unschedulable: false,
            images: Vec::new(),
        };
        let taint = |value: &str| Taint { key: "k".into(), value: value.into(), effect: TaintEffect::NoExecute };
        let once = node.retainted(Some(taint("a")), "k").expect("a new taint is a change");
        let twice = once.retainted(Some(taint("b")), "k").expect("a taint is replaced");
        assert_eq!(twice.taints, vec![taint("b")]);
        assert_eq!(twice.retainted(None, "k").expect("removed").taints, vec![]);
        assert!(node.retainted(None, "k").is_none(), "removing a taint the node lacks changes nothing");
    }

    /// `fail-after` wins when it comes first; `failure-probability` draws only for a run that
    /// would succeed, and only for pods that set it (other pods leave the stream untouched).
    #[test]
    fn ending_follows_the_annotations() {
        let mut exits = crate::rng::stream(1, "kubelet/exits");
        let mut pod = Pod::single("p", Resources::default());
        assert_eq!(pod.ending(&mut exits), None);
        pod.set_run_for(Some(SimDuration::from_secs(10)));
        assert_eq!(pod.ending(&mut exits), Some((SimDuration::from_secs(10), crate::Phase::Succeeded)));
        pod.fail_after = Some(SimDuration::from_secs(3));
        assert_eq!(pod.ending(&mut exits), Some((SimDuration::from_secs(3), crate::Phase::Failed)));
        pod.fail_after = Some(SimDuration::from_secs(30));
        assert_eq!(pod.ending(&mut exits), Some((SimDuration::from_secs(10), crate::Phase::Succeeded)));
        assert_eq!(exits, crate::rng::stream(1, "kubelet/exits"), "no draw without a failure probability");
        pod.failure_ppm = 1_000_000;
        assert_eq!(pod.ending(&mut exits), Some((SimDuration::from_secs(10), crate::Phase::Failed)));
    }

    /// Writing a spec field through a pod copies a shared spec first: the other pods of the
    /// template keep theirs, and the pod's debug text (hashed for `pod-template-hash`) is
    /// the flat one of a single struct.
    #[test]
    fn spec_writes_copy_on_write() {
        let a = Pod::single("a", Resources::new(100, 1));
        let mut b = a.clone();
        assert!(Arc::ptr_eq(&a.spec, &b.spec));
        b.name = "b".into();
        assert!(Arc::ptr_eq(&a.spec, &b.spec), "a per-pod field leaves the spec shared");
        b.labels.insert("k".into(), "v".into());
        assert!(!Arc::ptr_eq(&a.spec, &b.spec));
        assert!(a.labels.is_empty());
        let text = format!("{a:?}");
        assert!(text.starts_with("Pod { namespace: \"default\", name: \"a\", labels: {}, priority: 0,"), "{text}");
        assert!(!text.contains("spec"), "{text}");
    }

    fn container(name: &str, cpu: u64, mem: u64, sidecar: bool) -> Container {
        Container {
            name: name.into(),
            image: String::new(),
            requests: Resources::new(cpu, mem),
            limits: Resources::default(),
            sidecar,
        }
    }

    fn pod(containers: Vec<Container>, init: Vec<Container>) -> Pod {
        let mut pod = Pod::single("p", Resources::default());
        pod.containers = containers;
        pod.init_containers = init;
        pod
    }

    /// The effective request follows Kubernetes: app containers sum, a big init container can
    /// dominate, sidecars add to both sides, overhead is added last.
    #[test]
    fn effective_request_rule() {
        let p = pod(vec![container("app", 500, 100, false), container("log", 100, 50, false)], vec![]);
        assert_eq!(p.effective_requests(), Resources::new(600, 150));

        let p = pod(vec![container("app", 500, 100, false)], vec![container("init", 2000, 10, false)]);
        assert_eq!(p.effective_requests(), Resources::new(2000, 100));

        let mut p = pod(
            vec![container("app", 500, 100, false)],
            vec![container("mesh", 100, 20, true), container("init", 1000, 10, false)],
        );
        assert_eq!(p.effective_requests(), Resources::new(1100, 120));
        p.overhead = Resources::new(10, 1);
        assert_eq!(p.effective_requests(), Resources::new(1110, 121));
    }

    /// Tolerations follow `ToleratesTaint`: key, operator, value and effect all count.
    #[test]
    fn tolerations_match_taints() {
        let taint = Taint { key: "gpu".into(), value: "true".into(), effect: TaintEffect::NoSchedule };
        let tol = |key: &str, exists, value: &str, effect| Toleration {
            key: key.into(),
            exists,
            value: value.into(),
            effect,
            toleration_seconds: None,
        };
        assert!(tol("gpu", false, "true", None).tolerates(&taint));
        assert!(tol("gpu", true, "", Some(TaintEffect::NoSchedule)).tolerates(&taint));
        assert!(tol("", true, "", None).tolerates(&taint));
        assert!(!tol("gpu", false, "false", None).tolerates(&taint));
        assert!(!tol("gpu", true, "", Some(TaintEffect::NoExecute)).tolerates(&taint));
    }

    /// Node affinity terms are ORed, requirements inside a term ANDed, an empty term matches nothing.
    #[test]
    fn node_affinity_terms() {
        let node = Node {
            name: "n1".into(),
            labels: [("zone".to_string(), "a".to_string()), ("cores".to_string(), "64".to_string())].into(),
            taints: vec![],
            allocatable: Resources::default(),
            max_pods: DEFAULT_MAX_PODS,
            unschedulable: false,
            images: Vec::new(),
        };
        let req = |key: &str, op, values: &[&str]| SelectorRequirement {
            key: key.into(),
            op,
            values: values.iter().map(|s| s.to_string()).collect(),
        };
        let mut p = pod(vec![], vec![]);
        let term = |exprs| NodeSelectorTerm { match_expressions: exprs, match_fields: vec![] };
        p.required_node_affinity = Some(vec![term(vec![req("zone", SelectorOp::In, &["b"])])]);
        assert!(!p.matches_node_affinity(&node));
        p.required_node_affinity.as_mut().unwrap().push(term(vec![
            req("zone", SelectorOp::In, &["a"]),
            req("cores", SelectorOp::Gt, &["32"]),
            req("gpu", SelectorOp::DoesNotExist, &[]),
        ]));
        assert!(p.matches_node_affinity(&node));
        p.required_node_affinity = Some(vec![NodeSelectorTerm::default()]);
        assert!(!p.matches_node_affinity(&node));
        p.required_node_affinity = Some(vec![NodeSelectorTerm {
            match_expressions: vec![],
            match_fields: vec![req("metadata.name", SelectorOp::In, &["n1"])],
        }]);
        assert!(p.matches_node_affinity(&node));
        p.node_selector.insert("zone".into(), "b".into());
        assert!(!p.matches_node_affinity(&node));
    }
}

/// A ReplicaSet (a Deployment is run as its ReplicaSet): keep `replicas` pods made from
/// `template` running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaSetSpec {
    pub namespace: String,
    pub name: String,
    pub replicas: u32,
    /// The pod template; its name is the ReplicaSet's, each replica gets a suffix.
    pub template: std::sync::Arc<Pod>,
}
