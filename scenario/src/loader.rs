//! The loader: one multi-document YAML file of Kubernetes manifests plus podlab's
//! `kind: Simulation`, read into a validated [`Scenario`] or a positioned error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use podlab_cluster::scenario::{Arrival, ObjectRef, Scenario};
use podlab_cluster::workload::Workload;
use serde_saphyr::Spanned;

use crate::controlled::Controlled;
use crate::diagnostic::{LoadError, Pos, Severity};
use crate::manifest::{
    Doc, FAIL_AFTER_ANNOTATION, FAILURE_PROBABILITY_ANNOTATION, NodeManifest, POD_GROUP_LABELS, PodGroupManifest,
    PodManifest, PriorityClassManifest, RUN_FOR_ANNOTATION, VOLCANO_GROUP_ANNOTATION, WorkloadManifest,
};
use crate::reading::{Found, LoadOptions, Loader, PodRefs, PriorityClasses};
use crate::simulation::{API_VERSION, SimulationManifest};
use crate::yaml::{Shape, Source, YNode};
use crate::{kinds, names, scheduler_config, schema, terms};
use crate::{manifest, settings, workload, yaml};

use crate::affinity::PreemptionPolicy;
use crate::apps::{DeploymentChange, DeploymentChangeKind};
use crate::config::{Fault, PolicyConfig, WorkloadClass};
use crate::objects::{GroupId, Node, NodeId, Pod, PodGroup, PodId, PodSpec};
use crate::time::{SimDuration, SimTime};

/// Files larger than this are refused before parsing: no scenario is this big, and traces are
/// referenced, not inlined.
pub const MAX_FILE_BYTES: usize = crate::input::Cap::SCENARIO.bytes as usize;

/// The scenario as one run sees it: its generated workload for `seed` (every policy run with
/// the same seed sees the same jobs) and its random faults drawn for `seed` (each fault process
/// from its own stream `faults/<index>`). Without either it is the scenario itself.
pub fn instantiate(base: &Scenario, seed: u64) -> Result<Scenario, String> {
    let mut s = workload::instantiate(base, seed)?;
    // Drawn once: the instantiated scenario has them as fixed faults.
    for process in std::mem::take(&mut s.fault_processes) {
        s.faults.extend(process.draw(seed));
    }
    s.faults.sort_by_key(Fault::at);
    Ok(s)
}

/// Reads and loads a scenario file.
pub fn load(path: &Path, options: LoadOptions<'_>) -> Result<Scenario, LoadError> {
    let bytes = crate::input::read_input(path, crate::input::Cap::SCENARIO)?;
    parse_bytes(&path.display().to_string(), bytes, options)
}

/// Loads a scenario from bytes; `file` names it in messages.
pub fn parse_bytes(file: &str, bytes: Vec<u8>, options: LoadOptions<'_>) -> Result<Scenario, LoadError> {
    crate::input::parse_bytes_with(file, bytes, |file, text| parse(file, text, options))
}

/// Loads a scenario from text; `file` names it in messages.
pub fn parse(file: &str, text: &str, options: LoadOptions<'_>) -> Result<Scenario, LoadError> {
    let src = Source::new(file, text);
    Loader::new(&src, options).load()
}

/// The prefix of an external policy (`exec:NAME=COMMAND`, the exec protocol); among
/// [`LoadOptions::known_policies`], it allows scenarios to name such policies.
pub const EXEC_POLICIES: &str = "exec:";

/// The Simulation annotation that names where a scenario's data comes from; reports show it.
pub const ATTRIBUTION_ANNOTATION: &str = "podlab.dev/attribution";

/// The label that makes a pod batch or service work.
pub const WORKLOAD_LABEL: &str = "podlab.dev/workload";

const SUPPORTED_KINDS: &str = "Node, Pod, PodGroup, Workload, PriorityClass, ReplicaSet, Deployment, Job, Service, \
     ReplicationController, StatefulSet, PodDisruptionBudget, Namespace, KubeSchedulerConfiguration, List, Simulation";

/// The pod groups read so far, each with where it is defined (for a duplicate's error).
#[derive(Default)]
struct Groups {
    groups: Vec<Arc<PodGroup>>,
    defined_at: Vec<Pos>,
}

impl Groups {
    /// Where the group `name` of `namespace` is defined, if it already is.
    fn defined(&self, namespace: &str, name: &str) -> Option<Pos> {
        self.groups.iter().position(|g| g.name == name && g.namespace == namespace).map(|i| self.defined_at[i])
    }

    fn add(&mut self, group: PodGroup, pos: Pos) {
        self.groups.push(Arc::new(group));
        self.defined_at.push(pos);
    }
}

/// Every object's arrival: when the timeline creates it, else at the start; in time order, ties
/// in file order (groups, then nodes, then pods).
fn arrivals(scenario: &Scenario, created_at: &BTreeMap<ObjectRef, SimTime>) -> Vec<Arrival> {
    let all = (0..scenario.groups.len())
        .map(|i| ObjectRef::Group(GroupId(i as u32)))
        .chain((0..scenario.nodes.len()).map(|i| ObjectRef::Node(NodeId(i as u32))))
        .chain((0..scenario.pods.len()).map(|i| ObjectRef::Pod(PodId(i as u32))));
    let mut arrivals: Vec<Arrival> =
        all.map(|object| Arrival { at: created_at.get(&object).copied().unwrap_or(SimTime::ZERO), object }).collect();
    arrivals.sort_by_key(|a| a.at); // stable: ties keep file order
    arrivals
}

/// Gives every namespace a pod may live in at least its name label, declared or not.
fn label_every_namespace(scenario: &mut Scenario) {
    let templates = scenario.replica_sets.iter().map(|r| &r.template);
    let templates = templates.chain(scenario.deployments.iter().map(|d| &d.template));
    let namespaces = templates.chain(scenario.jobs.iter().map(|j| &j.template)).map(|t| t.namespace.clone());
    let namespaces = namespaces.chain(scenario.pods.held().iter().map(|p| p.namespace.clone()));
    for namespace in namespaces.chain(std::iter::once("default".to_string())) {
        if !scenario.kube.namespace_labels.contains_key(&namespace) {
            let labels = scenario.kube.namespace_labels_of(&namespace);
            scenario.kube.namespace_labels.insert(namespace, labels);
        }
    }
}

impl<'a> Loader<'a> {
    /// Finds the objects of a document (or of a `kind: List`'s items).
    fn collect<'d>(&self, node: &'d YNode, out: &mut Vec<Found<'d>>, in_list: bool) -> Result<(), LoadError> {
        if !matches!(node.shape, Shape::Map(_)) {
            return Err(self.src.error_with_help(
                self.pos(node),
                "expected a Kubernetes object (a mapping with `apiVersion` and `kind`)",
                "each `---`-separated document is one object, e.g. `apiVersion: v1` / `kind: Pod` / `metadata: …`",
            ));
        }
        let kind_node = node.get("kind").ok_or_else(|| {
            self.src.error_with_help(
                self.pos(node),
                "this object has no `kind`",
                format!("podlab reads: {SUPPORTED_KINDS}"),
            )
        })?;
        let kind = kind_node.as_str().ok_or_else(|| self.src.error(self.pos(kind_node), "`kind` must be a string"))?;
        let api_version = node.get("apiVersion").and_then(YNode::as_str);
        if kind == "List" && !in_list {
            let Some(items) = node.get("items") else { return Ok(()) };
            let Shape::Seq(items) = &items.shape else {
                return Err(self.src.error(self.pos(items), "`items` of a List must be a sequence of objects"));
            };
            for item in items {
                self.collect(item, out, true)?;
            }
            return Ok(());
        }
        // Kinds are judged together afterwards (`check_kinds`), so that every unknown one is
        // reported at once.
        out.push(Found { kind, api_version, node });
        Ok(())
    }

    /// Checks every object found: an unknown kind is an error with a "did you mean", a kind
    /// podlab does not model is skipped with one warning per kind, and the fields of the
    /// Kubernetes kinds podlab reads are checked as `kubectl --validate=strict` does
    /// (`schema.rs`). Every error is returned together, with the warnings found so far.
    fn check_kinds(&mut self, found: &mut Vec<Found<'_>>) -> Result<(), LoadError> {
        const KNOWN: [&str; 10] = [
            "Node",
            "Pod",
            "PodGroup",
            "Workload",
            "PriorityClass",
            "ReplicaSet",
            "Deployment",
            "Job",
            "Simulation",
            "KubeSchedulerConfiguration",
        ];
        let mut findings = schema::Findings::default();
        let mut skipped: Vec<(&'static str, &'static str, usize, Pos)> = Vec::new();
        for f in found.iter() {
            let at = f.node.get("kind").map_or(self.pos(f.node), |k| self.pos(k));
            if let Some(kind) = KNOWN.iter().chain(kinds::KINDS.iter().map(|(k, _)| k)).find(|k| **k == f.kind) {
                schema::check(self.src, kind, f.node, &mut findings);
            } else if let Some((kind, why)) = schema::SKIPPED_KINDS.iter().find(|(k, _)| *k == f.kind) {
                match skipped.iter_mut().find(|s| s.0 == *kind) {
                    Some(s) => s.2 += 1,
                    None => skipped.push((kind, why, 1, at)),
                }
            } else {
                let all: Vec<&str> = KNOWN.iter().chain(kinds::KINDS.iter().map(|(k, _)| k)).copied().collect();
                let help = match names::suggest(f.kind, &all) {
                    Some(near) => format!("did you mean `{near}`? podlab reads: {SUPPORTED_KINDS}"),
                    None => format!(
                        "podlab reads: {SUPPORTED_KINDS}; it skips, with a warning, the Kubernetes kinds it does not \
                         model (ConfigMap, Secret, PersistentVolumeClaim…)"
                    ),
                };
                findings.errors.push(self.src.diagnostic(
                    Severity::Error,
                    at,
                    format!("unknown kind `{}`", f.kind),
                    Some(help),
                ));
            }
        }
        found.retain(|f| !schema::SKIPPED_KINDS.iter().any(|(k, _)| *k == f.kind));
        for (kind, why, n, at) in skipped {
            self.warn(at, schema::skipped_kind_message(kind, n, why));
        }
        self.warnings.extend(findings.warnings(self.src));
        if findings.errors.is_empty() {
            return Ok(());
        }
        let mut all = findings.errors;
        all.extend(self.warnings.iter().cloned());
        all.sort_by_key(|d| d.pos);
        Err(LoadError::Several(all))
    }

    /// Reads every kind of the file in the order their references need: PriorityClasses and
    /// pod groups, then nodes, pods, the kinds a controller runs, the Simulation.
    fn load(mut self) -> Result<Scenario, LoadError> {
        let roots = yaml::documents(self.src)?;
        let mut found = Vec::new();
        for root in roots.iter().filter(|r| !r.is_empty_document()) {
            self.collect(root, &mut found, false)?;
        }
        self.check_kinds(&mut found)?;
        // PriorityClasses and PodGroups first: pods refer to them.
        let priority_classes = self.priority_classes(&found)?;
        let groups = self.pod_groups(&found)?;
        let nodes = self.nodes(&found)?;
        let mut refs = PodRefs { nodes, groups, priority_classes };
        let pods = self.pods(&found, &mut refs)?;
        let mut controlled = self.controlled(&found, &mut refs)?;
        let simulations: Vec<&Found<'_>> = found.iter().filter(|f| f.kind == "Simulation").collect();
        if let Some(second) = simulations.get(1) {
            return Err(self.src.error(self.pos(second.node), "a scenario has at most one Simulation document"));
        }
        let replaced_forever = std::mem::take(&mut controlled.replaced_forever);
        let mut scenario = self.scenario(&found, refs, pods, controlled)?;
        let mut created_at: BTreeMap<ObjectRef, SimTime> = BTreeMap::new();
        if let Some(f) = simulations.first() {
            self.check_api_version(f, &[API_VERSION])?;
            let doc: Doc<SimulationManifest> = self.doc(f.node)?;
            self.simulation(&doc, &mut scenario, &mut created_at)?;
        }
        self.check_the_run_ends(&scenario, &replaced_forever)?;
        scenario.arrivals = arrivals(&scenario, &created_at);
        if scenario.nodes.is_empty() {
            self.warn(Pos { line: 1, col: 1 }, "the scenario has no Node: no pod can be scheduled");
        }
        label_every_namespace(&mut scenario);
        self.warn_unscheduled_pods(&found, &scenario);
        scenario.warnings = self.warnings;
        Ok(scenario)
    }

    /// The file's PriorityClasses, by name, and the global default.
    fn priority_classes(&self, found: &[Found<'_>]) -> Result<PriorityClasses, LoadError> {
        let mut priority_classes = PriorityClasses::default();
        for f in found.iter().filter(|f| f.kind == "PriorityClass") {
            self.check_api_version(f, &["scheduling.k8s.io/v1"])?;
            let doc: Doc<PriorityClassManifest> = self.doc(f.node)?;
            let (name, pos) = doc.name(&doc.parsed.value.metadata, "PriorityClass")?;
            if let Some((_, _, first)) = priority_classes.by_name.get(&name) {
                return Err(self.duplicate(pos, "PriorityClass", &name, *first));
            }
            let m = &doc.parsed.value;
            // The API defaults a PriorityClass's preemptionPolicy to PreemptLowerPriority.
            let policy = match &m.preemption_policy {
                None => PreemptionPolicy::PreemptLowerPriority,
                Some(p) => terms::parse_preemption_policy(p).map_err(|help| {
                    self.src.error_with_help(doc.at(p), format!("unknown preemptionPolicy `{}`", p.value), help)
                })?,
            };
            if m.global_default {
                priority_classes.default = Some((m.value, policy));
            }
            priority_classes.by_name.insert(name, (m.value, policy, pos));
        }
        Ok(priority_classes)
    }

    /// The file's pod groups: its PodGroups, then a group per pod group of its Workloads.
    fn pod_groups(&self, found: &[Found<'_>]) -> Result<Vec<Arc<PodGroup>>, LoadError> {
        let mut groups = Groups::default();
        for f in found.iter().filter(|f| f.kind == "PodGroup") {
            self.pod_group(f, &mut groups)?;
        }
        for f in found.iter().filter(|f| f.kind == "Workload") {
            self.workload_groups(f, &mut groups)?;
        }
        Ok(groups.groups)
    }

    /// One PodGroup, in the scheduler-plugins dialect (current and older group) or Volcano's.
    fn pod_group(&self, f: &Found<'_>, groups: &mut Groups) -> Result<(), LoadError> {
        self.check_api_version(
            f,
            &["scheduling.x-k8s.io/v1alpha1", "scheduling.sigs.k8s.io/v1alpha1", "scheduling.volcano.sh/v1beta1"],
        )?;
        let doc: Doc<PodGroupManifest> = self.doc(f.node)?;
        let m = &doc.parsed.value;
        let (name, pos) = doc.name(&m.metadata, "PodGroup")?;
        let namespace = m.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        if let Some(first) = groups.defined(&namespace, &name) {
            return Err(self.duplicate(pos, "PodGroup", &name, first));
        }
        let min_member = match m.spec.min_member.as_ref().or(m.spec.min_available.as_ref()) {
            None => 1,
            Some(n) if (1..=1_000_000).contains(&n.value) => n.value as u32,
            Some(n) => return Err(doc.error(n, format!("minMember {} is out of range (1 to 1000000)", n.value))),
        };
        let schedule_timeout = match &m.spec.schedule_timeout_seconds {
            None => None,
            Some(s) if (0..=365 * 24 * 3600).contains(&s.value) => Some(SimDuration::from_secs(s.value as u64)),
            Some(s) => {
                return Err(doc.error(s, format!("scheduleTimeoutSeconds {} is out of range (0 to one year)", s.value)));
            }
        };
        let min_resources = m.spec.min_resources.as_ref().map(|r| doc.resources(r)).transpose()?;
        let (namespace, name) = (namespace.into(), name.into());
        groups.add(PodGroup { namespace, name, min_member, schedule_timeout, min_resources }, pos);
        Ok(())
    }

    /// Kubernetes-native gang scheduling: each pod group of a Workload is a PodGroup named
    /// `<workload>-<group>`; basic groups gang nothing (minMember 1).
    fn workload_groups(&self, f: &Found<'_>, groups: &mut Groups) -> Result<(), LoadError> {
        self.check_api_version(f, &["scheduling.k8s.io/v1alpha1"])?;
        let doc: Doc<WorkloadManifest> = self.doc(f.node)?;
        let m = &doc.parsed.value;
        let (workload, pos) = doc.name(&m.metadata, "Workload")?;
        let namespace = m.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        for g in &m.spec.pod_groups {
            let name = format!("{workload}-{}", g.name.value);
            if let Some(first) = groups.defined(&namespace, &name) {
                return Err(self.duplicate(doc.at(&g.name), "PodGroup", &name, first));
            }
            let min_member = match (&g.policy.gang, &g.policy.basic) {
                (Some(gang), None) if (1..=1_000_000).contains(&gang.min_count.value) => gang.min_count.value as u32,
                (Some(gang), None) => {
                    return Err(doc.error(
                        &gang.min_count,
                        format!("minCount {} is out of range (1 to 1000000)", gang.min_count.value),
                    ));
                }
                (None, Some(_)) => 1,
                _ => {
                    return Err(doc.error(
                        &g.name,
                        format!(
                            "pod group `{}` needs exactly one policy: `gang: {{minCount: N}}` or `basic: {{}}`",
                            g.name.value
                        ),
                    ));
                }
            };
            let group = PodGroup {
                namespace: namespace.as_str().into(),
                name: name.into(),
                min_member,
                schedule_timeout: None,
                min_resources: None,
            };
            groups.add(group, pos);
        }
        Ok(())
    }

    /// The file's Nodes.
    fn nodes(&self, found: &[Found<'_>]) -> Result<Vec<Arc<Node>>, LoadError> {
        let mut nodes: Vec<Arc<Node>> = Vec::new();
        // Where each name was first defined (an index, not a scan: a scenario may list many
        // thousands of objects).
        let mut node_names: BTreeMap<String, Pos> = BTreeMap::new();
        for f in found.iter().filter(|f| f.kind == "Node") {
            self.check_api_version(f, &["v1"])?;
            let doc: Doc<NodeManifest> = self.doc(f.node)?;
            let (node, pos) = doc.to_node()?;
            if let Some(first) = node_names.insert(node.name.clone(), pos) {
                return Err(self.duplicate(pos, "Node", &node.name, first));
            }
            nodes.push(Arc::new(node));
        }
        Ok(nodes)
    }

    /// The file's Pods.
    fn pods(&mut self, found: &[Found<'_>], refs: &mut PodRefs) -> Result<Vec<Arc<Pod>>, LoadError> {
        let mut pods: Vec<Arc<Pod>> = Vec::new();
        let mut pod_keys: BTreeMap<String, Pos> = BTreeMap::new();
        for f in found.iter().filter(|f| f.kind == "Pod") {
            self.check_api_version(f, &["v1"])?;
            let doc: Doc<PodManifest> = self.doc(f.node)?;
            let (pod, pos) = self.pod(&doc, refs)?;
            if let Some(first) = pod_keys.insert(pod.key(), pos) {
                return Err(self.duplicate(pos, "Pod", &pod.key(), first));
            }
            pods.push(Arc::new(pod));
        }
        Ok(pods)
    }

    /// The scenario of the file's Kubernetes objects, before its Simulation document is read:
    /// named after the file, every known policy, no workload of its own.
    fn scenario(
        &mut self,
        found: &[Found<'_>],
        refs: PodRefs,
        pods: Vec<Arc<Pod>>,
        controlled: Controlled<'_>,
    ) -> Result<Scenario, LoadError> {
        Ok(Scenario {
            name: Path::new(&self.src.file).file_stem().map_or("scenario".into(), |s| s.to_string_lossy().into_owned()),
            file: self.src.file.clone(),
            seed: 0,
            duration: None,
            policies: self.options.known_policies.iter().map(|s| s.to_string()).collect(),
            config: PolicyConfig::default(),
            workload: Workload::default(),
            control_plane: None,
            faults: Vec::new(),
            fault_processes: Vec::new(),
            replica_sets: controlled.replica_sets,
            deployments: controlled.deployments,
            deployment_changes: Vec::new(),
            jobs: controlled.jobs,
            nodes: refs.nodes,
            pods: pods.into(),
            groups: refs.groups,
            arrivals: Vec::new(),
            expectations: Vec::new(),
            warnings: Vec::new(),
            attributions: Vec::new(),
            kube: self.kube_objects(found, controlled.selectors)?,
            scheduler_config: self.scheduler_config(found)?,
        })
    }

    /// A workload whose pods end by themselves is replaced without end: its scenario needs a
    /// duration, or the run would never end.
    fn check_the_run_ends(
        &self,
        scenario: &Scenario,
        replaced_forever: &[(Pos, &str, String)],
    ) -> Result<(), LoadError> {
        if scenario.duration.is_none()
            && let Some((pos, kind, name)) = replaced_forever.first()
        {
            return Err(self.src.error_with_help(
                *pos,
                format!("{kind} `{name}` replaces every pod that ends, and its pods end by themselves: the run would never end"),
                "give the Simulation a `spec.duration`, or drop `podlab.dev/run-for` / `podlab.dev/fail-after` from the template",
            ));
        }
        Ok(())
    }

    /// A warning at the scenario's `KubeSchedulerConfiguration`, if any, for each
    /// `schedulerName` of its pods that none of its profiles has
    /// ([`scheduler_config::unscheduled_pods`]).
    fn warn_unscheduled_pods(&mut self, found: &[Found<'_>], scenario: &Scenario) {
        let Some(config) = &scenario.scheduler_config else { return };
        let Some(at) = found.iter().find(|f| f.kind == "KubeSchedulerConfiguration") else { return };
        let pos = self.pos(at.node);
        for (message, help) in scheduler_config::unscheduled_pods(scenario, config) {
            self.warnings.push(self.src.diagnostic(Severity::Warning, pos, message, Some(help)));
        }
    }

    /// The scenario's `KubeSchedulerConfiguration` document, if any (at most one).
    fn scheduler_config(
        &mut self,
        found: &[Found<'_>],
    ) -> Result<Option<crate::kube_config::KubeSchedulerConfiguration>, LoadError> {
        let mut configs = found.iter().filter(|f| f.kind == "KubeSchedulerConfiguration");
        let Some(first) = configs.next() else { return Ok(None) };
        if let Some(second) = configs.next() {
            return Err(self.src.error(self.pos(second.node), "a scenario has at most one KubeSchedulerConfiguration"));
        }
        self.check_api_version(first, &[crate::kube_config::API_VERSION])?;
        let mut reader = scheduler_config::ConfigReader::new(self.src);
        let config = reader.config(first.node)?;
        self.warnings.extend(reader.warnings);
        Ok(Some(config))
    }

    /// One Pod manifest (or a controller's pod template), its fields checked in turn, each
    /// error at its own position; a pod of a Workload's replicated group adds that group.
    pub(crate) fn pod(&mut self, doc: &Doc<'_, PodManifest>, refs: &mut PodRefs) -> Result<(Pod, Pos), LoadError> {
        let m = &doc.parsed.value;
        let (name, pos) = doc.name(&m.metadata, "Pod")?;
        let namespace = m.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        if m.spec.containers.value.is_empty() {
            return Err(doc.error(&m.spec.containers, format!("Pod `{name}` has no containers")));
        }
        let node_name = node_named(doc, &refs.nodes)?;
        let workload = match m.metadata.labels.get(WORKLOAD_LABEL) {
            None => WorkloadClass::Batch,
            Some(v) => WorkloadClass::parse(&v.value)
                .ok_or_else(|| doc.error(v, format!("unknown workload `{}` (batch, service)", v.value)))?,
        };
        let (priority, preemption_policy) = priority(doc, &refs.priority_classes)?;
        let labels: BTreeMap<String, String> =
            m.metadata.labels.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
        let terms = doc.scheduling_terms(&labels)?;
        let group = group_of(doc, &name, &namespace, &mut refs.groups)?;
        let run_for = m.metadata.annotations.get(RUN_FOR_ANNOTATION).map(|text| doc.duration(text)).transpose()?;
        let fail_after =
            m.metadata.annotations.get(FAIL_AFTER_ANNOTATION).map(|text| doc.duration(text)).transpose()?;
        let failure_ppm = failure_ppm(doc)?;
        let image_bytes = m
            .metadata
            .annotations
            .get(manifest::IMAGE_SIZE_ANNOTATION)
            .map(|q| crate::quantity::parse_quantity(&q.value, "memory").map_err(|why| doc.error(q, why)))
            .transpose()?;
        let containers = doc.containers(&m.spec.containers.value, false)?;
        let allocate_memory_bytes = doc.allocate_memory(&containers)?;
        let mut spec = PodSpec {
            namespace,
            labels,
            priority,
            scheduler_name: m.spec.scheduler_name.clone().unwrap_or_else(|| "default-scheduler".into()),
            containers,
            init_containers: doc.containers(&m.spec.init_containers, true)?,
            overhead: m.spec.overhead.as_ref().map(|o| doc.resources(o)).transpose()?.unwrap_or_default(),
            node_selector: m.spec.node_selector.clone(),
            required_node_affinity: doc.required_node_affinity()?,
            tolerations: doc.tolerations()?,
            workload,
            owner: None,
            image_bytes,
            requests: Default::default(),
            allocate_memory_bytes,
            fail_after,
            failure_ppm,
            gpu_share_milli: 0,
            terms,
            preemption_policy,
        };
        spec.requests = spec.effective_requests();
        spec.gpu_share_milli = gpu_share(doc, &spec, &name)?;
        let mut pod = Pod::new(name.into(), Arc::new(spec));
        pod.set_group(group);
        pod.set_run_for(run_for);
        pod.set_node_name(node_name);
        Ok((pod, pos))
    }

    /// The Simulation document read into the scenario, section by section; `created_at` gets
    /// the instant the timeline (or a listed job) creates each object at.
    fn simulation(
        &self,
        doc: &Doc<'_, SimulationManifest>,
        scenario: &mut Scenario,
        created_at: &mut BTreeMap<ObjectRef, SimTime>,
    ) -> Result<(), LoadError> {
        let m = &doc.parsed.value;
        if let Some(name) = &m.metadata.name {
            scenario.name = doc.checked_name(name, "Simulation")?.0;
        }
        let spec = &m.spec;
        scenario.seed = spec.seed.unwrap_or(0);
        scenario.duration = spec.duration.as_ref().map(|d| doc.duration(d)).transpose()?;
        if let Some(policies) = &spec.policies {
            scenario.policies = policies.iter().map(|p| self.policy(doc, p)).collect::<Result<_, _>>()?;
        }
        scenario.config = settings::policy_config(doc)?;
        add_node_pools(doc, scenario)?;
        let dir = Path::new(&self.src.file).parent().unwrap_or(Path::new("."));
        self.workload_and_faults(doc, scenario, dir)?;
        if let Some(a) = m.metadata.annotations.get(ATTRIBUTION_ANNOTATION).filter(|a| !a.trim().is_empty()) {
            scenario.attributions.push(a.clone());
        }
        let jobs = self.listed_jobs(doc, scenario, dir)?;
        add_listed_jobs(doc, scenario, jobs, created_at)?;
        self.timeline(doc, scenario, created_at)?;
        self.actions(doc, scenario)?;
        self.expectations(doc, scenario)
    }

    /// The Simulation's generated workload, control plane and faults (which need a modelled
    /// control plane); the files they name are found beside the scenario's, in `dir`.
    fn workload_and_faults(
        &self,
        doc: &Doc<'_, SimulationManifest>,
        scenario: &mut Scenario,
        dir: &Path,
    ) -> Result<(), LoadError> {
        let allow_outside = self.options.allow_paths_outside;
        scenario.workload = settings::workload(doc, dir, allow_outside)?;
        scenario.control_plane = settings::control_plane(doc, dir, allow_outside)?;
        (scenario.faults, scenario.fault_processes) =
            settings::faults(doc, &scenario.nodes, dir, allow_outside, scenario.duration)?;
        if scenario.control_plane.is_none()
            && let Some(f) = doc.parsed.value.spec.faults.first()
        {
            return Err(doc.src.error_with_help(
                doc.at(&f.kind),
                "faults need a modelled control plane: the ideal one cannot notice a node go silent",
                "add `controlPlane: {}` to the Simulation spec (Kubernetes-like defaults)",
            ));
        }
        Ok(())
    }

    /// The jobs the Simulation lists and those of its trace (a trace of prefill jobs goes to
    /// the workload's prefill instead), each trace's attribution kept once.
    fn listed_jobs(
        &self,
        doc: &Doc<'_, SimulationManifest>,
        scenario: &mut Scenario,
        dir: &Path,
    ) -> Result<Vec<settings::FixedJob>, LoadError> {
        let mut jobs = settings::fixed_jobs(doc)?;
        match settings::trace(doc, dir, self.options.allow_paths_outside)? {
            None => {}
            Some((settings::Trace::Jobs(more), attribution)) => {
                jobs.extend(more);
                scenario.attributions.push(attribution);
            }
            Some((settings::Trace::Prefill(more), attribution)) => {
                scenario.workload.prefill_jobs.extend(more);
                scenario.attributions.push(attribution);
            }
        }
        scenario.attributions.dedup();
        if let (Some(p), false) = (&doc.parsed.value.spec.workload.prefill, scenario.workload.prefill_jobs.is_empty()) {
            return Err(doc.error(
                &p.cpu_utilisation,
                "a generated prefill and listed (or traced) prefill jobs would fill the cell twice; keep one",
            ));
        }
        Ok(jobs)
    }

    /// `spec.timeline`: the objects created later than the start, each once; a Job created
    /// later is started then by its controller.
    fn timeline(
        &self,
        doc: &Doc<'_, SimulationManifest>,
        scenario: &mut Scenario,
        created_at: &mut BTreeMap<ObjectRef, SimTime>,
    ) -> Result<(), LoadError> {
        for entry in &doc.parsed.value.spec.timeline {
            let at = SimTime::ZERO + doc.duration(&entry.at)?;
            for reference in &entry.create {
                let again = || {
                    doc.error(reference, format!("`{}` is already created earlier in the timeline", reference.value))
                };
                if let Some(key) = reference.value.strip_prefix("Job/") {
                    let job = scenario.jobs.iter_mut().find(|j| j.key() == key).ok_or_else(|| {
                        doc.error(reference, format!("`{}` is not in this scenario", reference.value))
                    })?;
                    if job.start != SimTime::ZERO {
                        return Err(again());
                    }
                    job.start = at;
                    continue;
                }
                let object = self.object_ref(doc, reference, scenario)?;
                if created_at.insert(object, at).is_some() {
                    return Err(again());
                }
            }
        }
        Ok(())
    }

    /// `spec.actions`: kubectl-style changes to Deployments at fixed times.
    fn actions(&self, doc: &Doc<'_, SimulationManifest>, scenario: &mut Scenario) -> Result<(), LoadError> {
        for a in &doc.parsed.value.spec.actions {
            let m = &a.value;
            let at = SimTime::ZERO + doc.duration(&m.at)?;
            let verbs = [m.set_image.is_some(), m.rollout_undo.is_some(), m.scale.is_some()];
            if verbs.iter().filter(|v| **v).count() != 1 {
                return Err(doc.src.error_with_help(
                    doc.at(a),
                    "an action does exactly one thing",
                    "give one of `setImage: {deployment, container, image}`, `rolloutUndo: {deployment, toRevision?}`, \
                     `scale: {deployment, replicas}`",
                ));
            }
            let find = |name: &Spanned<String>| {
                scenario.deployments.iter().position(|d| d.key() == name.value).ok_or_else(|| {
                    let known: Vec<String> = scenario.deployments.iter().map(|d| d.key()).collect();
                    let help = if known.is_empty() {
                        "this scenario has no Deployment".to_string()
                    } else {
                        format!("its Deployments: {}", known.join(", "))
                    };
                    doc.src.error_with_help(
                        doc.at(name),
                        format!("no Deployment named `{}` in this scenario", name.value),
                        help,
                    )
                })
            };
            let (deployment, change) = if let Some(si) = &m.set_image {
                let d = find(&si.deployment)?;
                let template = &scenario.deployments[d].template;
                let container =
                    template.containers.iter().position(|c| c.name == si.container.value).ok_or_else(|| {
                        let names: Vec<&str> = template.containers.iter().map(|c| c.name.as_str()).collect();
                        doc.src.error_with_help(
                            doc.at(&si.container),
                            format!("Deployment `{}` has no container `{}`", si.deployment.value, si.container.value),
                            format!("its containers: {}", names.join(", ")),
                        )
                    })?;
                if si.image.value.trim().is_empty() {
                    return Err(doc.error(&si.image, "the image is empty"));
                }
                (d, DeploymentChangeKind::SetImage { container, image: si.image.value.clone() })
            } else if let Some(undo) = &m.rollout_undo {
                let to_revision = match &undo.to_revision {
                    None => None,
                    Some(r) if (1..=1_000_000).contains(&r.value) => Some(r.value as u32),
                    Some(r) => {
                        return Err(doc.error(r, format!("toRevision {} is out of range (1 to 1000000)", r.value)));
                    }
                };
                (find(&undo.deployment)?, DeploymentChangeKind::RolloutUndo { to_revision })
            } else {
                let sc = m.scale.as_ref().expect("one verb");
                let d = find(&sc.deployment)?;
                if !(0..=100_000).contains(&sc.replicas.value) {
                    return Err(doc
                        .error(&sc.replicas, format!("replicas {} is out of range (0 to 100000)", sc.replicas.value)));
                }
                (d, DeploymentChangeKind::Scale { replicas: sc.replicas.value as u32 })
            };
            scenario.deployment_changes.push(DeploymentChange { at, deployment, change });
        }
        scenario.deployment_changes.sort_by_key(|c| c.at); // stable: ties keep file order
        Ok(())
    }

    pub(crate) fn policy(
        &self,
        doc: &Doc<'_, SimulationManifest>,
        name: &serde_saphyr::Spanned<String>,
    ) -> Result<String, LoadError> {
        if self.options.known_policies.contains(&name.value.as_str()) {
            Ok(name.value.clone())
        } else if let Some(external) = name.value.strip_prefix(EXEC_POLICIES) {
            self.exec_policy(doc, name, external)
        } else {
            Err(doc.src.error_with_help(
                doc.at(name),
                format!("unknown policy `{}`", name.value),
                format!("podlab knows: {}", self.known_policies()),
            ))
        }
    }

    /// The known policies for a message, with the external ones' form if they are allowed.
    fn known_policies(&self) -> String {
        let known = self.options.known_policies;
        let mut names: Vec<&str> = known.iter().copied().filter(|p| *p != EXEC_POLICIES).collect();
        if known.contains(&EXEC_POLICIES) {
            names.push("exec:NAME=COMMAND");
        }
        names.join(", ")
    }

    /// An external policy, `exec:NAME=COMMAND`: allowed only when the options' known policies
    /// include [`EXEC_POLICIES`] (running the scenario runs the command).
    fn exec_policy(
        &self,
        doc: &Doc<'_, SimulationManifest>,
        name: &serde_saphyr::Spanned<String>,
        external: &str,
    ) -> Result<String, LoadError> {
        if !self.options.known_policies.contains(&EXEC_POLICIES) {
            return Err(doc.src.error_with_help(
                doc.at(name),
                "a scenario's external policy runs a command, and is not allowed here",
                "allow it with --allow-exec (or PODLAB_ALLOW_EXEC=1), or give it as --policy",
            ));
        }
        let (policy, command) = external.split_once('=').unwrap_or((external, ""));
        let named = !policy.is_empty() && policy.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !named || command.trim().is_empty() {
            return Err(doc.src.error_with_help(
                doc.at(name),
                format!("`{}` is not an external policy", name.value),
                "write exec:NAME=COMMAND, NAME of letters, digits, `-`, `_` and `.`",
            ));
        }
        Ok(name.value.clone())
    }

    fn object_ref(
        &self,
        doc: &Doc<'_, SimulationManifest>,
        reference: &serde_saphyr::Spanned<String>,
        scenario: &Scenario,
    ) -> Result<ObjectRef, LoadError> {
        let text = reference.value.as_str();
        let found = match text.split_once('/') {
            Some(("Pod", key)) => scenario.pod_named(key).map(ObjectRef::Pod),
            Some(("Node", name)) => scenario.node_named(name).map(ObjectRef::Node),
            Some(("PodGroup", key)) => {
                scenario.groups.iter().position(|g| g.key() == key).map(|i| ObjectRef::Group(GroupId(i as u32)))
            }
            _ => {
                return Err(doc.src.error_with_help(
                    doc.at(reference),
                    format!("`{text}` is not an object reference"),
                    "write `Kind/name`, e.g. `Pod/app`, `Node/node-c` or `Job/batch`",
                ));
            }
        };
        found.ok_or_else(|| doc.error(reference, format!("`{text}` is not in this scenario")))
    }
}

/// The nodes of the Simulation's node pools, whose names must be new to the scenario.
fn add_node_pools(doc: &Doc<'_, SimulationManifest>, scenario: &mut Scenario) -> Result<(), LoadError> {
    // Names seen so far, indexed: a pool of 10,000 nodes checked by scanning took a second.
    let mut names: BTreeSet<String> = scenario.nodes.iter().map(|n| n.name.clone()).collect();
    for node in settings::node_pools(doc)? {
        if !names.insert(node.name.clone()) {
            return Err(doc.src.error(
                doc.start,
                format!("node pool node `{}` has the name of a Node already in the scenario", node.name),
            ));
        }
        scenario.nodes.push(Arc::new(node));
    }
    Ok(())
}

/// Adds the listed (and traced) jobs' pods and groups to the scenario, each job's name new to
/// it, and when each arrives to `created_at`.
fn add_listed_jobs(
    doc: &Doc<'_, SimulationManifest>,
    scenario: &mut Scenario,
    jobs: Vec<settings::FixedJob>,
    created_at: &mut BTreeMap<ObjectRef, SimTime>,
) -> Result<(), LoadError> {
    // Names taken so far, so a listed or traced job cannot reuse one (a set: a trace adds
    // thousands of jobs, and a scan per job would be quadratic).
    let mut taken: BTreeSet<String> =
        scenario.pods.iter().map(|p| p.key()).chain(scenario.groups.iter().map(|g| g.key())).collect();
    for job in jobs {
        if taken.contains(&job.name) {
            return Err(doc
                .src
                .error(doc.start, format!("job `{}` has the name of an object already in the scenario", job.name)));
        }
        let template = workload::task_template(&job.requests, job.workload, job.run_for, job.scheduler_name.as_deref());
        let (pods, groups) = (scenario.pods.len(), scenario.groups.len());
        let before = scenario.arrivals.len();
        workload::add_job(scenario, &job.name, job.at, job.tasks, &template);
        taken.extend(scenario.pods.held()[pods..].iter().map(|p| p.key()));
        taken.extend(scenario.groups[groups..].iter().map(|g| g.key()));
        for a in scenario.arrivals.drain(before..) {
            created_at.insert(a.object, a.at);
        }
    }
    Ok(())
}

/// The node a pod's `spec.nodeName` binds it to, which must be in the scenario.
fn node_named(doc: &Doc<'_, PodManifest>, nodes: &[Arc<Node>]) -> Result<Option<NodeId>, LoadError> {
    let Some(n) = &doc.parsed.value.spec.node_name else { return Ok(None) };
    let id = nodes.iter().position(|node| node.name == n.value).map(|i| NodeId(i as u32)).ok_or_else(|| {
        doc.error(n, format!("spec.nodeName names node `{}`, which is not in this scenario", n.value))
    })?;
    Ok(Some(id))
}

/// A pod's priority and preemption policy, as the Priority admission plugin gives them: from
/// the class the pod names (or the global default when it names none). podlab keeps a
/// priority the pod states itself, even when its class is absent.
fn priority(doc: &Doc<'_, PodManifest>, classes: &PriorityClasses) -> Result<(i32, PreemptionPolicy), LoadError> {
    let spec = &doc.parsed.value.spec;
    let class = match &spec.priority_class_name {
        Some(class) => classes.by_name.get(&class.value).map(|(value, policy, _)| (*value, *policy)),
        None => classes.default,
    };
    let priority = match (&spec.priority, &spec.priority_class_name, class) {
        (Some(p), _, _) => *p,
        (None, Some(class), None) => {
            return Err(doc.error(class, format!("no PriorityClass named `{}` in this scenario", class.value)));
        }
        (None, _, class) => class.map_or(0, |(value, _)| value),
    };
    let preemption_policy = doc.preemption_policy(class.map(|(_, policy)| policy))?;
    Ok((priority, preemption_policy))
}

/// The pod group a pod names, if any, in any of the three dialects — scheduler-plugins'
/// label, Volcano's annotation, Kubernetes' `spec.workloadRef` — with where it is named; and,
/// for a replica key of a Workload's pod group, that pod group's name (the replica is a gang
/// of its own, with the pod group's policy).
fn group_named(doc: &Doc<'_, PodManifest>) -> (Option<(String, Pos)>, Option<String>) {
    let m = &doc.parsed.value;
    let mut named: Option<(String, Pos)> = None;
    for label in POD_GROUP_LABELS {
        if let Some(value) = m.metadata.labels.get(label) {
            named = Some((value.value.clone(), doc.at(value)));
        }
    }
    if let Some(value) = m.metadata.annotations.get(VOLCANO_GROUP_ANNOTATION) {
        named = Some((value.value.clone(), doc.at(value)));
    }
    let mut replica_of = None;
    if let Some(r) = &m.spec.workload_ref {
        let base = format!("{}-{}", r.name.value, r.pod_group.value);
        match &r.pod_group_replica_key {
            Some(key) => {
                replica_of = Some(base.clone());
                named = Some((format!("{base}-{key}"), doc.at(&r.pod_group)));
            }
            None => named = Some((base, doc.at(&r.pod_group))),
        }
    }
    (named, replica_of)
}

/// The group of the pod `name`, if it names one: a group of the scenario, or the replica of a
/// Workload's pod group its replica key makes (added to `groups` on first use).
fn group_of(
    doc: &Doc<'_, PodManifest>,
    name: &str,
    namespace: &str,
    groups: &mut Vec<Arc<PodGroup>>,
) -> Result<Option<GroupId>, LoadError> {
    let (Some((group_name, at)), replica_of) = group_named(doc) else { return Ok(None) };
    let find = |groups: &[Arc<PodGroup>], n: &str| groups.iter().position(|g| g.name == n && g.namespace == namespace);
    let id = match (find(groups, &group_name), &replica_of) {
        (Some(id), _) => id,
        (None, Some(base)) if find(groups, base).is_some() => {
            let template = &groups[find(groups, base).expect("checked")];
            let replica = PodGroup { name: group_name.as_str().into(), ..(**template).clone() };
            groups.push(Arc::new(replica));
            groups.len() - 1
        }
        _ => {
            return Err(doc.src.error_with_help(
                at,
                format!("Pod `{name}` names pod group `{group_name}`, which is not in this scenario"),
                "add the PodGroup (or Workload), or fix the reference",
            ));
        }
    };
    Ok(Some(GroupId(id as u32)))
}

/// The probability that a pod fails, in parts per million, from its annotation (none without).
fn failure_ppm(doc: &Doc<'_, PodManifest>) -> Result<u32, LoadError> {
    let Some(text) = doc.parsed.value.metadata.annotations.get(FAILURE_PROBABILITY_ANNOTATION) else { return Ok(0) };
    parse_probability_ppm(&text.value).ok_or_else(|| {
        doc.src.error_with_help(
            doc.at(text),
            format!("`{}` is not a probability", text.value),
            "write a number from 0 to 1, e.g. \"0.25\" (at most six decimals)",
        )
    })
}

/// A pod's share of one GPU, in milli-GPU, from its annotation (none without); a pod asks for
/// a share or for whole GPUs, never both.
fn gpu_share(doc: &Doc<'_, PodManifest>, spec: &PodSpec, name: &str) -> Result<u16, LoadError> {
    let Some(text) = doc.parsed.value.metadata.annotations.get(crate::gpu::GPU_SHARE_ANNOTATION) else { return Ok(0) };
    let share = text.value.trim().parse::<u16>().ok().filter(|v| (1..1000).contains(v)).ok_or_else(|| {
        doc.src.error_with_help(
            doc.at(text),
            format!("`{}` is not a share of one GPU", text.value),
            "write milli-GPU from 1 to 999 as a string (`alibabacloud.com/gpu-milli: \"500\"`); ask for whole GPUs with `nvidia.com/gpu: N` instead",
        )
    })?;
    if spec.requests.get(crate::gpu::GPU_RESOURCE) > 0 {
        return Err(doc.src.error_with_help(
            doc.at(text),
            format!("Pod `{name}` asks for a GPU share and for whole GPUs"),
            "a pod takes either a share of one GPU (this annotation) or whole GPUs (`nvidia.com/gpu`), not both",
        ));
    }
    Ok(share)
}

/// A probability written as a decimal from 0 to 1 (`0.25`, `1`), in parts per million, exactly:
/// no float is involved, so the same text always gives the same draws.
fn parse_probability_ppm(text: &str) -> Option<u32> {
    let (whole, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u32 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac: u32 = if frac.is_empty() { 0 } else { format!("{frac:0<6}").parse().ok()? };
    let ppm = whole.checked_mul(1_000_000)?.checked_add(frac)?;
    (ppm <= 1_000_000).then_some(ppm)
}

#[cfg(test)]
mod probability_tests {
    use super::parse_probability_ppm;

    #[test]
    fn probabilities_are_exact_parts_per_million() {
        assert_eq!(parse_probability_ppm("0.25"), Some(250_000));
        assert_eq!(parse_probability_ppm("1"), Some(1_000_000));
        assert_eq!(parse_probability_ppm(".5"), Some(500_000));
        assert_eq!(parse_probability_ppm("0.000001"), Some(1));
        assert_eq!(parse_probability_ppm("1.5"), None);
        assert_eq!(parse_probability_ppm("0.1234567"), None);
        assert_eq!(parse_probability_ppm("-0.1"), None);
        assert_eq!(parse_probability_ppm("half"), None);
        assert_eq!(parse_probability_ppm(""), None);
    }
}
