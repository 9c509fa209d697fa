//! The loader: one multi-document YAML file of Kubernetes manifests plus podlab's
//! `kind: Simulation`, read into a validated [`Scenario`] or a positioned error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use podlab_cluster::scenario::{Arrival, Check, Expectation, ObjectRef, Scenario};
use podlab_cluster::workload::Workload;
use serde_saphyr::Spanned;

use crate::diagnostic::{LoadError, Pos, Severity};
use crate::manifest::{
    Doc, FAIL_AFTER_ANNOTATION, FAILURE_PROBABILITY_ANNOTATION, JobManifestK8s, NodeManifest, POD_GROUP_LABELS,
    PodGroupManifest, PodManifest, PriorityClassManifest, RUN_FOR_ANNOTATION, ReplicaSetManifest, StrategyManifest,
    VOLCANO_GROUP_ANNOTATION, WorkloadManifest,
};
use crate::reading::{Found, LoadOptions, Loader};
use crate::simulation::{API_VERSION, SimulationManifest};
use crate::yaml::{Shape, Source, YNode};
use crate::{kinds, names, scheduler_config, schema, terms};
use crate::{manifest, settings, workload, yaml};

use crate::affinity::{LabelSelector, PreemptionPolicy, SpreadSelector};
use crate::apps::{
    DeploymentChange, DeploymentChangeKind, DeploymentSpec, DeploymentStrategy, IntOrPercent, JOB_NAME_LABEL, JobSpec,
    LEGACY_JOB_NAME_LABEL,
};
use crate::config::{Fault, PolicyConfig, WorkloadClass};
use crate::event::Phase;
use crate::objects::{GroupId, Node, NodeId, Pod, PodGroup, PodId, PodSpec, ReplicaSetSpec};
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

/// The scenario's PriorityClasses: value, preemption policy and where each is defined, and
/// the global default's value and policy.
#[derive(Default)]
struct PriorityClasses {
    by_name: BTreeMap<String, (i32, PreemptionPolicy, Pos)>,
    default: Option<(i32, PreemptionPolicy)>,
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

    #[expect(
        clippy::too_many_lines,
        reason = "every kind of one file, read in the order their references need (classes and groups, then nodes, pods, workloads, the Simulation); still to split into a reader per kind (issue 20)"
    )]
    fn load(mut self) -> Result<Scenario, LoadError> {
        let roots = yaml::documents(self.src)?;
        let mut found = Vec::new();
        for root in roots.iter().filter(|r| !r.is_empty_document()) {
            self.collect(root, &mut found, false)?;
        }
        self.check_kinds(&mut found)?;
        let of_kind = |kind: &str| found.iter().filter(move |f| f.kind == kind).collect::<Vec<_>>();

        // PriorityClasses and PodGroups first: pods refer to them.
        let mut priority_classes = PriorityClasses::default();
        for f in of_kind("PriorityClass") {
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

        let mut groups: Vec<Arc<PodGroup>> = Vec::new();
        let mut group_pos: Vec<Pos> = Vec::new();
        for f in of_kind("PodGroup") {
            // The scheduler-plugins dialect (current and older group) and Volcano's.
            self.check_api_version(
                f,
                &["scheduling.x-k8s.io/v1alpha1", "scheduling.sigs.k8s.io/v1alpha1", "scheduling.volcano.sh/v1beta1"],
            )?;
            let doc: Doc<PodGroupManifest> = self.doc(f.node)?;
            let m = &doc.parsed.value;
            let (name, pos) = doc.name(&m.metadata, "PodGroup")?;
            let namespace = m.metadata.namespace.clone().unwrap_or_else(|| "default".into());
            if let Some(i) = groups.iter().position(|g| g.name == name && g.namespace == namespace) {
                return Err(self.duplicate(pos, "PodGroup", &name, group_pos[i]));
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
                    return Err(
                        doc.error(s, format!("scheduleTimeoutSeconds {} is out of range (0 to one year)", s.value))
                    );
                }
            };
            let min_resources = m.spec.min_resources.as_ref().map(|r| doc.resources(r)).transpose()?;
            let (namespace, name) = (namespace.into(), name.into());
            groups.push(Arc::new(PodGroup { namespace, name, min_member, schedule_timeout, min_resources }));
            group_pos.push(pos);
        }

        // Kubernetes-native gang scheduling: each pod group of a Workload is a PodGroup named
        // `<workload>-<group>`; basic groups gang nothing (minMember 1).
        for f in of_kind("Workload") {
            self.check_api_version(f, &["scheduling.k8s.io/v1alpha1"])?;
            let doc: Doc<WorkloadManifest> = self.doc(f.node)?;
            let m = &doc.parsed.value;
            let (workload, pos) = doc.name(&m.metadata, "Workload")?;
            let namespace = m.metadata.namespace.clone().unwrap_or_else(|| "default".into());
            for g in &m.spec.pod_groups {
                let name = format!("{workload}-{}", g.name.value);
                if let Some(i) = groups.iter().position(|o| o.name == name && o.namespace == namespace) {
                    return Err(self.duplicate(doc.at(&g.name), "PodGroup", &name, group_pos[i]));
                }
                let min_member = match (&g.policy.gang, &g.policy.basic) {
                    (Some(gang), None) if (1..=1_000_000).contains(&gang.min_count.value) => {
                        gang.min_count.value as u32
                    }
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
                groups.push(Arc::new(PodGroup {
                    namespace: namespace.as_str().into(),
                    name: name.into(),
                    min_member,
                    schedule_timeout: None,
                    min_resources: None,
                }));
                group_pos.push(pos);
            }
        }

        // Names seen so far, with where they were first defined (indexes, not scans: a scenario
        // may list many thousands of objects).
        let mut nodes: Vec<Arc<Node>> = Vec::new();
        let mut node_names: BTreeMap<String, Pos> = BTreeMap::new();
        for f in of_kind("Node") {
            self.check_api_version(f, &["v1"])?;
            let doc: Doc<NodeManifest> = self.doc(f.node)?;
            let (node, pos) = doc.to_node()?;
            if let Some(first) = node_names.insert(node.name.clone(), pos) {
                return Err(self.duplicate(pos, "Node", &node.name, first));
            }
            nodes.push(Arc::new(node));
        }

        let mut pods: Vec<Arc<Pod>> = Vec::new();
        let mut pod_keys: BTreeMap<String, Pos> = BTreeMap::new();
        for f in of_kind("Pod") {
            self.check_api_version(f, &["v1"])?;
            let doc: Doc<PodManifest> = self.doc(f.node)?;
            let (pod, pos) = self.pod(&doc, &nodes, &mut groups, &priority_classes)?;
            if let Some(first) = pod_keys.insert(pod.key(), pos) {
                return Err(self.duplicate(pos, "Pod", &pod.key(), first));
            }
            pods.push(Arc::new(pod));
        }

        // ReplicaSets, run by the ReplicaSet controller; Deployments, by the Deployment
        // controller through ReplicaSets of their own.
        let mut replica_sets: Vec<ReplicaSetSpec> = Vec::new();
        let mut deployments: Vec<DeploymentSpec> = Vec::new();
        let mut workload_selectors: Vec<SpreadSelector> = Vec::new();
        // Every workload's name and namespace, across kinds: their pods' owners must not clash.
        let mut workload_names: Vec<(String, String)> = Vec::new();
        // Workloads whose pods end by themselves: each is replaced, so the world never rests.
        let mut replaced_forever: Vec<(Pos, &str, String)> = Vec::new();
        for f in found.iter().filter(|f| matches!(f.kind, "ReplicaSet" | "Deployment")) {
            self.check_api_version(f, &["apps/v1"])?;
            let doc: Doc<ReplicaSetManifest> = self.doc(f.node)?;
            let line_offset = doc.parsed.line_offset;
            let m = doc.parsed.value;
            let at_doc = Doc { src: doc.src, parsed: yaml::Parsed { value: (), line_offset }, start: doc.start };
            let (name, pos) = at_doc.name(&m.metadata, f.kind)?;
            let namespace = m.metadata.namespace.clone().unwrap_or_else(|| "default".into());
            if workload_names.contains(&(namespace.clone(), name.clone())) {
                return Err(self.src.error_with_help(
                    pos,
                    format!("duplicate {} `{name}`", f.kind),
                    "ReplicaSets, Deployments and Jobs of one namespace need distinct names",
                ));
            }
            workload_names.push((namespace.clone(), name.clone()));
            let replicas = match &m.spec.replicas {
                None => 1,
                Some(r) if (0..=100_000).contains(&r.value) => r.value as u32,
                Some(r) => {
                    let at = at_doc.parsed.pos(&r.referenced);
                    return Err(self.src.error(at, format!("replicas {} is out of range (0 to 100000)", r.value)));
                }
            };
            let strategy = match (f.kind, &m.spec.strategy) {
                ("ReplicaSet", Some(_)) => {
                    return Err(self.src.error(pos, "a ReplicaSet has no `strategy`; only a Deployment rolls out"));
                }
                (_, None) => DeploymentStrategy::RollingUpdate {
                    max_surge: IntOrPercent::Percent(25),
                    max_unavailable: IntOrPercent::Percent(25),
                },
                (_, Some(st)) => self.strategy(&at_doc, st)?,
            };
            let min_ready = match &m.spec.min_ready_seconds {
                None => SimDuration::ZERO,
                Some(r) if (0..=365 * 24 * 3600).contains(&r.value) => SimDuration::from_secs(r.value as u64),
                Some(r) => {
                    let at = at_doc.parsed.pos(&r.referenced);
                    return Err(self.src.error(at, format!("minReadySeconds {} is out of range", r.value)));
                }
            };
            let mut template = m.spec.template;
            let name_at = m.metadata.name.as_ref().expect("named above");
            template.metadata.name =
                Some(serde_saphyr::Spanned::new(name.clone(), name_at.referenced, name_at.defined));
            template.metadata.namespace = Some(namespace.clone());
            let tdoc = Doc { src: doc.src, parsed: yaml::Parsed { value: template, line_offset }, start: doc.start };
            let (mut pod, _) = self.pod(&tdoc, &nodes, &mut groups, &priority_classes)?;
            let selector =
                self.workload_selector(&at_doc, m.spec.selector.as_ref(), &pod.labels, f.kind, &name, pos)?;
            let kind = f.kind.to_string();
            workload_selectors.push(SpreadSelector {
                namespace: namespace.clone(),
                kind,
                name: name.clone(),
                selector,
            });
            if pod.run_for().is_some() || pod.fail_after.is_some() {
                replaced_forever.push((pos, f.kind, name.clone()));
            }
            if f.kind == "ReplicaSet" {
                pod.owner = Some(name.clone());
                replica_sets.push(ReplicaSetSpec { namespace, name, replicas, template: Arc::new(pod) });
            } else {
                deployments.push(DeploymentSpec {
                    namespace,
                    name,
                    replicas,
                    template: Arc::new(pod),
                    strategy,
                    min_ready,
                });
            }
        }

        let mut jobs: Vec<JobSpec> = Vec::new();
        for f in of_kind("Job") {
            self.check_api_version(f, &["batch/v1"])?;
            let doc: Doc<JobManifestK8s> = self.doc(f.node)?;
            let line_offset = doc.parsed.line_offset;
            let m = doc.parsed.value;
            let at_doc = Doc { src: doc.src, parsed: yaml::Parsed { value: (), line_offset }, start: doc.start };
            let (name, pos) = at_doc.name(&m.metadata, "Job")?;
            let namespace = m.metadata.namespace.clone().unwrap_or_else(|| "default".into());
            if workload_names.contains(&(namespace.clone(), name.clone())) {
                return Err(self.src.error_with_help(
                    pos,
                    format!("duplicate Job `{name}`"),
                    "ReplicaSets, Deployments and Jobs of one namespace need distinct names",
                ));
            }
            workload_names.push((namespace.clone(), name.clone()));
            let count = |field: &Option<Spanned<i64>>, what: &str, default: u32, min: i64| match field {
                None => Ok(default),
                Some(v) if (min..=100_000).contains(&v.value) => Ok(v.value as u32),
                Some(v) => {
                    Err(self.src.error(at_doc.at(v), format!("{what} {} is out of range ({min} to 100000)", v.value)))
                }
            };
            // Kubernetes: parallelism 1 and completions 1 by default (an unset completions
            // with parallelism > 1 is a work queue, which podlab runs as completions 1).
            let completions = count(&m.spec.completions, "completions", 1, 1)?;
            let parallelism = count(&m.spec.parallelism, "parallelism", 1, 0)?;
            let backoff_limit = count(&m.spec.backoff_limit, "backoffLimit", 6, 0)?;
            let active_deadline = match &m.spec.active_deadline_seconds {
                None => None,
                Some(v) if (1..=365 * 24 * 3600).contains(&v.value) => Some(SimDuration::from_secs(v.value as u64)),
                Some(v) => {
                    return Err(self.src.error(
                        at_doc.at(v),
                        format!("activeDeadlineSeconds {} is out of range (1 to one year)", v.value),
                    ));
                }
            };
            let indexed = match &m.spec.completion_mode {
                None => false,
                Some(mode) if mode.value == "NonIndexed" => false,
                Some(mode) if mode.value == "Indexed" => {
                    if m.spec.completions.is_none() {
                        return Err(self.src.error_with_help(
                            at_doc.at(mode),
                            "an Indexed Job needs `completions`",
                            "Kubernetes requires it: the indexes are 0 to completions − 1",
                        ));
                    }
                    true
                }
                Some(mode) => {
                    return Err(self.src.error_with_help(
                        at_doc.at(mode),
                        format!("unknown completionMode `{}`", mode.value),
                        "`NonIndexed` (the default) or `Indexed`",
                    ));
                }
            };
            match &m.spec.template.spec.restart_policy {
                Some(p) if p.value == "Never" || p.value == "OnFailure" => {}
                Some(p) => {
                    return Err(self.src.error_with_help(
                        at_doc.at(p),
                        format!("a Job's pods cannot have restartPolicy `{}`", p.value),
                        "use `Never` (a new pod per failure) or `OnFailure`",
                    ));
                }
                None => {
                    return Err(self.src.error_with_help(
                        pos,
                        format!("Job `{name}` has no `spec.template.spec.restartPolicy`"),
                        "Kubernetes requires `Never` or `OnFailure` for a Job's pods",
                    ));
                }
            }
            let mut template = m.spec.template;
            let name_at = m.metadata.name.as_ref().expect("named above");
            template.metadata.name =
                Some(serde_saphyr::Spanned::new(name.clone(), name_at.referenced, name_at.defined));
            template.metadata.namespace = Some(namespace.clone());
            let tdoc = Doc { src: doc.src, parsed: yaml::Parsed { value: template, line_offset }, start: doc.start };
            let (mut pod, _) = self.pod(&tdoc, &nodes, &mut groups, &priority_classes)?;
            pod.owner = Some(name.clone());
            pod.labels.insert(JOB_NAME_LABEL.into(), name.clone());
            pod.labels.insert(LEGACY_JOB_NAME_LABEL.into(), name.clone());
            // The Job controller's labels are on the pod when the API server merges label keys.
            let labels = pod.labels.clone();
            if let Some(terms) = pod.terms.as_mut() {
                terms.merge_label_keys(&labels);
            }
            jobs.push(JobSpec {
                namespace,
                name,
                completions,
                parallelism,
                backoff_limit,
                active_deadline,
                template: Arc::new(pod),
                start: SimTime::ZERO,
                indexed,
            });
        }

        let simulations = of_kind("Simulation");
        if let Some(second) = simulations.get(1) {
            return Err(self.src.error(self.pos(second.node), "a scenario has at most one Simulation document"));
        }
        let mut scenario = Scenario {
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
            replica_sets,
            deployments,
            deployment_changes: Vec::new(),
            jobs,
            nodes,
            pods: pods.into(),
            groups,
            arrivals: Vec::new(),
            expectations: Vec::new(),
            warnings: Vec::new(),
            attributions: Vec::new(),
            kube: self.kube_objects(&found, workload_selectors)?,
            scheduler_config: self.scheduler_config(&found)?,
        };
        let mut created_at: BTreeMap<ObjectRef, SimTime> = BTreeMap::new();
        if let Some(f) = simulations.first() {
            self.check_api_version(f, &[API_VERSION])?;
            let doc: Doc<SimulationManifest> = self.doc(f.node)?;
            self.simulation(&doc, &mut scenario, &mut created_at)?;
        }
        if scenario.duration.is_none()
            && let Some((pos, kind, name)) = replaced_forever.first()
        {
            return Err(self.src.error_with_help(
                *pos,
                format!("{kind} `{name}` replaces every pod that ends, and its pods end by themselves: the run would never end"),
                "give the Simulation a `spec.duration`, or drop `podlab.dev/run-for` / `podlab.dev/fail-after` from the template",
            ));
        }
        let all = (0..scenario.groups.len())
            .map(|i| ObjectRef::Group(GroupId(i as u32)))
            .chain((0..scenario.nodes.len()).map(|i| ObjectRef::Node(NodeId(i as u32))))
            .chain((0..scenario.pods.len()).map(|i| ObjectRef::Pod(PodId(i as u32))));
        scenario.arrivals = all
            .map(|object| Arrival { at: created_at.get(&object).copied().unwrap_or(SimTime::ZERO), object })
            .collect();
        scenario.arrivals.sort_by_key(|a| a.at); // stable: ties keep file order
        if scenario.nodes.is_empty() {
            self.warn(Pos { line: 1, col: 1 }, "the scenario has no Node: no pod can be scheduled");
        }
        // Every namespace a pod may live in has at least its name label, declared or not.
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
        self.warn_unscheduled_pods(&found, &scenario);
        scenario.warnings = self.warnings;
        Ok(scenario)
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

    /// A ReplicaSet's or Deployment's `spec.selector`: required by `apps/v1`, but podlab
    /// defaults an absent one to the template's labels; a given one must select them
    /// (`ValidateReplicaSetSpec`: "selector does not match template labels").
    fn workload_selector(
        &self,
        doc: &Doc<'_, ()>,
        given: Option<&manifest::LabelSelectorManifest>,
        labels: &BTreeMap<String, String>,
        kind: &str,
        name: &str,
        pos: Pos,
    ) -> Result<LabelSelector, LoadError> {
        let Some(given) = given else {
            return Ok(LabelSelector { match_labels: labels.clone(), match_expressions: Vec::new() });
        };
        let selector = doc.label_selector(given)?;
        if selector.is_empty() {
            return Err(self.src.error_with_help(
                pos,
                format!("{kind} `{name}` has an empty selector"),
                "apps/v1 refuses a selector that selects every pod; give it the template's labels",
            ));
        }
        if !selector.matches(labels) {
            return Err(self.src.error_with_help(
                pos,
                format!("the selector of {kind} `{name}` does not select its template's labels"),
                "make spec.selector match spec.template.metadata.labels",
            ));
        }
        Ok(selector)
    }

    /// A Deployment's `spec.strategy`: `RollingUpdate` (25%/25% by default) or `Recreate`.
    fn strategy(&self, doc: &Doc<'_, ()>, st: &StrategyManifest) -> Result<DeploymentStrategy, LoadError> {
        let kind = st.kind.as_ref().map_or("RollingUpdate", |k| k.value.as_str());
        match kind {
            "Recreate" => {
                if st.rolling_update.is_some() {
                    let at = st.kind.as_ref().map_or(doc.start, |k| doc.at(k));
                    return Err(self.src.error(at, "a Recreate strategy has no `rollingUpdate`"));
                }
                Ok(DeploymentStrategy::Recreate)
            }
            "RollingUpdate" => {
                let field = |v: &Option<Spanned<String>>, what: &str| -> Result<IntOrPercent, LoadError> {
                    let Some(v) = v else { return Ok(IntOrPercent::Percent(25)) };
                    let text = v.value.trim();
                    let parsed = match text.strip_suffix('%') {
                        Some(p) => p.parse::<u32>().ok().filter(|p| *p <= 100).map(IntOrPercent::Percent),
                        None => text.parse::<u32>().ok().filter(|n| *n <= 100_000).map(IntOrPercent::Int),
                    };
                    parsed.ok_or_else(|| {
                        self.src.error_with_help(
                            doc.at(v),
                            format!("{what} `{}` is neither a count nor a percentage", v.value),
                            "write a whole number (`1`) or a percentage up to 100% (`25%`)",
                        )
                    })
                };
                let ru = st.rolling_update.as_ref();
                let max_surge = field(&ru.and_then(|r| r.max_surge.clone()), "maxSurge")?;
                let max_unavailable = field(&ru.and_then(|r| r.max_unavailable.clone()), "maxUnavailable")?;
                let zero = |v: IntOrPercent| matches!(v, IntOrPercent::Int(0) | IntOrPercent::Percent(0));
                if zero(max_surge) && zero(max_unavailable) {
                    let at = ru.and_then(|r| r.max_surge.as_ref()).map_or(doc.start, |v| doc.at(v));
                    return Err(self.src.error_with_help(
                        at,
                        "maxSurge and maxUnavailable are both zero: the rollout could never progress",
                        "allow at least one: e.g. `maxSurge: 1` or `maxUnavailable: 1`",
                    ));
                }
                Ok(DeploymentStrategy::RollingUpdate { max_surge, max_unavailable })
            }
            other => {
                let at = st.kind.as_ref().map_or(doc.start, |k| doc.at(k));
                Err(self.src.error_with_help(
                    at,
                    format!("unknown strategy type `{other}`"),
                    "a Deployment's strategy is `RollingUpdate` (the default) or `Recreate`",
                ))
            }
        }
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one Pod manifest's fields checked in turn, each error at its own position; still to split with `load` (issue 20)"
    )]
    fn pod(
        &mut self,
        doc: &Doc<'_, PodManifest>,
        nodes: &[Arc<Node>],
        groups: &mut Vec<Arc<PodGroup>>,
        priority_classes: &PriorityClasses,
    ) -> Result<(Pod, Pos), LoadError> {
        let m = &doc.parsed.value;
        let (name, pos) = doc.name(&m.metadata, "Pod")?;
        let namespace = m.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        if m.spec.containers.value.is_empty() {
            return Err(doc.error(&m.spec.containers, format!("Pod `{name}` has no containers")));
        }
        let node_name = match &m.spec.node_name {
            None => None,
            Some(n) => {
                Some(nodes.iter().position(|node| node.name == n.value).map(|i| NodeId(i as u32)).ok_or_else(|| {
                    doc.error(n, format!("spec.nodeName names node `{}`, which is not in this scenario", n.value))
                })?)
            }
        };
        let workload = match m.metadata.labels.get(WORKLOAD_LABEL) {
            None => WorkloadClass::Batch,
            Some(v) => WorkloadClass::parse(&v.value)
                .ok_or_else(|| doc.error(v, format!("unknown workload `{}` (batch, service)", v.value)))?,
        };
        // The Priority admission plugin: the class the pod names (or the global default when it
        // names none) gives its priority and preemption policy. podlab keeps a priority the
        // pod states itself, even when its class is absent.
        let class = match &m.spec.priority_class_name {
            Some(class) => priority_classes.by_name.get(&class.value).map(|(value, policy, _)| (*value, *policy)),
            None => priority_classes.default,
        };
        let priority = match (&m.spec.priority, &m.spec.priority_class_name, class) {
            (Some(p), _, _) => *p,
            (None, Some(class), None) => {
                return Err(doc.error(class, format!("no PriorityClass named `{}` in this scenario", class.value)));
            }
            (None, _, class) => class.map_or(0, |(value, _)| value),
        };
        let preemption_policy = doc.preemption_policy(class.map(|(_, policy)| policy))?;
        let labels: BTreeMap<String, String> =
            m.metadata.labels.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
        let terms = doc.scheduling_terms(&labels)?;
        // Group membership in the three dialects: scheduler-plugins' label, Volcano's
        // annotation, Kubernetes' `spec.workloadRef`.
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
                // Each replica key is a gang of its own, with the pod group's policy.
                Some(key) => {
                    replica_of = Some(base.clone());
                    named = Some((format!("{base}-{key}"), doc.at(&r.pod_group)));
                }
                None => named = Some((base, doc.at(&r.pod_group))),
            }
        }
        let mut group = None;
        if let Some((group_name, at)) = named {
            let find =
                |groups: &[Arc<PodGroup>], n: &str| groups.iter().position(|g| g.name == n && g.namespace == namespace);
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
            group = Some(GroupId(id as u32));
        }
        let run_for = m.metadata.annotations.get(RUN_FOR_ANNOTATION).map(|text| doc.duration(text)).transpose()?;
        let fail_after =
            m.metadata.annotations.get(FAIL_AFTER_ANNOTATION).map(|text| doc.duration(text)).transpose()?;
        let failure_ppm = match m.metadata.annotations.get(FAILURE_PROBABILITY_ANNOTATION) {
            None => 0,
            Some(text) => parse_probability_ppm(&text.value).ok_or_else(|| {
                doc.src.error_with_help(
                    doc.at(text),
                    format!("`{}` is not a probability", text.value),
                    "write a number from 0 to 1, e.g. \"0.25\" (at most six decimals)",
                )
            })?,
        };
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
        if let Some(text) = m.metadata.annotations.get(crate::gpu::GPU_SHARE_ANNOTATION) {
            spec.gpu_share_milli = text.value.trim().parse::<u16>().ok().filter(|v| (1..1000).contains(v)).ok_or_else(|| {
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
        }
        let mut pod = Pod::new(name.into(), Arc::new(spec));
        pod.set_group(group);
        pod.set_run_for(run_for);
        pod.set_node_name(node_name);
        Ok((pod, pos))
    }

    #[expect(
        clippy::too_many_lines,
        reason = "the Simulation document's sections read in turn into the scenario; still to split with `load` (issue 20)"
    )]
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
        let dir = Path::new(&self.src.file).parent().unwrap_or(Path::new("."));
        scenario.workload = settings::workload(doc, dir, self.options.allow_paths_outside)?;
        scenario.control_plane = settings::control_plane(doc, dir, self.options.allow_paths_outside)?;
        (scenario.faults, scenario.fault_processes) =
            settings::faults(doc, &scenario.nodes, dir, self.options.allow_paths_outside, scenario.duration)?;
        if scenario.control_plane.is_none()
            && let Some(f) = doc.parsed.value.spec.faults.first()
        {
            return Err(doc.src.error_with_help(
                doc.at(&f.kind),
                "faults need a modelled control plane: the ideal one cannot notice a node go silent",
                "add `controlPlane: {}` to the Simulation spec (Kubernetes-like defaults)",
            ));
        }
        if let Some(a) = m.metadata.annotations.get(ATTRIBUTION_ANNOTATION).filter(|a| !a.trim().is_empty()) {
            scenario.attributions.push(a.clone());
        }
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
        if let (Some(p), false) = (&spec.workload.prefill, scenario.workload.prefill_jobs.is_empty()) {
            return Err(doc.error(
                &p.cpu_utilisation,
                "a generated prefill and listed (or traced) prefill jobs would fill the cell twice; keep one",
            ));
        }
        // Names taken so far, so a listed or traced job cannot reuse one (a set: a trace adds
        // thousands of jobs, and a scan per job would be quadratic).
        let mut taken: BTreeSet<String> =
            scenario.pods.iter().map(|p| p.key()).chain(scenario.groups.iter().map(|g| g.key())).collect();
        for job in jobs {
            if taken.contains(&job.name) {
                return Err(doc.src.error(
                    doc.start,
                    format!("job `{}` has the name of an object already in the scenario", job.name),
                ));
            }
            let template =
                workload::task_template(&job.requests, job.workload, job.run_for, job.scheduler_name.as_deref());
            let (pods, groups) = (scenario.pods.len(), scenario.groups.len());
            let before = scenario.arrivals.len();
            workload::add_job(scenario, &job.name, job.at, job.tasks, &template);
            taken.extend(scenario.pods.held()[pods..].iter().map(|p| p.key()));
            taken.extend(scenario.groups[groups..].iter().map(|g| g.key()));
            for a in scenario.arrivals.drain(before..) {
                created_at.insert(a.object, a.at);
            }
        }
        for entry in &spec.timeline {
            let at = SimTime::ZERO + doc.duration(&entry.at)?;
            for reference in &entry.create {
                // A Job created later: its controller starts it then.
                if let Some(key) = reference.value.strip_prefix("Job/") {
                    let job = scenario.jobs.iter_mut().find(|j| j.key() == key).ok_or_else(|| {
                        doc.error(reference, format!("`{}` is not in this scenario", reference.value))
                    })?;
                    if job.start != SimTime::ZERO {
                        return Err(doc.error(
                            reference,
                            format!("`{}` is already created earlier in the timeline", reference.value),
                        ));
                    }
                    job.start = at;
                    continue;
                }
                let object = self.object_ref(doc, reference, scenario)?;
                if created_at.insert(object, at).is_some() {
                    return Err(doc.error(
                        reference,
                        format!("`{}` is already created earlier in the timeline", reference.value),
                    ));
                }
            }
        }
        self.actions(doc, scenario)?;
        for e in &spec.expect {
            let ex = &e.value;
            let mut policies: Vec<String> = ex.policy.iter().map(|p| self.policy(doc, p)).collect::<Result<_, _>>()?;
            for p in ex.policies.iter().flatten() {
                policies.push(self.policy(doc, p)?);
            }
            let at = ex.at.as_ref().map(|a| doc.duration(a).map(|d| SimTime::ZERO + d)).transpose()?;
            let mut checks = Vec::new();
            for (key, want) in &ex.pods {
                let pod = scenario.pod_named(key).ok_or_else(|| {
                    doc.error(want, format!("expect names pod `{key}`, which is not in this scenario"))
                })?;
                if let Some(phase) = &want.value.phase {
                    let phase = Phase::parse(&phase.value).ok_or_else(|| {
                        doc.error(
                            phase,
                            format!("unknown phase `{}` (Pending, Running, Succeeded, Failed)", phase.value),
                        )
                    })?;
                    checks.push(Check::PodPhase { pod, phase });
                }
                if let Some(node) = &want.value.node {
                    let node = scenario
                        .node_named(&node.value)
                        .ok_or_else(|| doc.error(node, format!("no node named `{}` in this scenario", node.value)))?;
                    checks.push(Check::PodNode { pod, node });
                }
                if let Some(split) = want.value.split {
                    checks.push(Check::PodSplit { pod, split });
                }
            }
            for (key, want) in &ex.groups {
                let group = scenario.groups.iter().position(|g| g.key() == *key).map(|i| GroupId(i as u32));
                let group = group.ok_or_else(|| {
                    doc.error(want, format!("expect names PodGroup `{key}`, which is not in this scenario"))
                })?;
                if let Some(split) = want.value.split {
                    checks.push(Check::GroupSplit { group, split });
                }
                if let Some(placed) = want.value.placed {
                    checks.push(Check::GroupPlaced { group, placed });
                }
            }
            for (key, want) in &ex.deployments {
                if !scenario.deployments.iter().any(|d| d.key() == *key) {
                    return Err(
                        doc.error(want, format!("expect names Deployment `{key}`, which is not in this scenario"))
                    );
                }
                let (w, deployment) = (&want.value, key.clone());
                if let Some(available) = w.available {
                    checks.push(Check::DeploymentAvailable { deployment: deployment.clone(), available });
                }
                if let Some(revision) = w.revision {
                    checks.push(Check::DeploymentRevision { deployment: deployment.clone(), revision });
                }
                if let Some(image) = &w.image {
                    checks.push(Check::DeploymentImage { deployment: deployment.clone(), image: image.clone() });
                }
                if let Some(min) = w.min_available {
                    checks.push(Check::DeploymentMinAvailable { deployment: deployment.clone(), min });
                }
                if let Some(max) = w.max_pods {
                    checks.push(Check::DeploymentMaxPods { deployment, max });
                }
            }
            for (key, want) in &ex.jobs {
                if !scenario.jobs.iter().any(|j| j.key() == *key) {
                    return Err(doc.error(want, format!("expect names Job `{key}`, which is not in this scenario")));
                }
                let (w, job) = (&want.value, key.clone());
                if let Some(status) = &w.status {
                    if !["Complete", "Failed", "Running"].contains(&status.value.as_str()) {
                        return Err(doc.error(
                            status,
                            format!("unknown Job status `{}` (Complete, Failed, Running)", status.value),
                        ));
                    }
                    let reason = w.reason.clone();
                    checks.push(Check::JobStatus { job: job.clone(), status: status.value.clone(), reason });
                }
                if let Some(pods) = w.succeeded {
                    checks.push(Check::JobSucceeded { job: job.clone(), pods });
                }
                if let Some(pods) = w.failed {
                    checks.push(Check::JobFailed { job: job.clone(), pods });
                }
                if let Some(pods) = w.max_active {
                    checks.push(Check::JobMaxActive { job, pods });
                }
            }
            for (name, want) in &ex.replica_sets {
                if !scenario.replica_sets.iter().any(|r| r.name == *name)
                    && !scenario.deployments.iter().any(|d| d.name == *name)
                {
                    return Err(
                        doc.error(want, format!("expect names ReplicaSet `{name}`, which is not in this scenario"))
                    );
                }
                checks.push(Check::ReplicasRunning { owner: name.clone(), running: want.value.running });
            }
            for (phase, count) in &ex.cluster {
                let phase = Phase::parse(phase).ok_or_else(|| {
                    doc.error(count, format!("unknown phase `{phase}` (Pending, Running, Succeeded, Failed)"))
                })?;
                checks.push(Check::PodsInPhase { phase, count: count.value });
            }
            for (kind, want) in &ex.events {
                let Some(kind) = crate::event::RECORD_KINDS.iter().find(|k| **k == kind.as_str()) else {
                    return Err(doc.src.error_with_help(
                        doc.at(want),
                        format!("unknown record kind `{kind}`"),
                        format!("kinds: {}", crate::event::RECORD_KINDS.join(", ")),
                    ));
                };
                if want.value.min.is_none() && want.value.max.is_none() {
                    return Err(doc.error(want, "give `min:`, `max:` or both"));
                }
                checks.push(Check::Records { kind, min: want.value.min, max: want.value.max });
            }
            if checks.is_empty() {
                return Err(doc.src.error_with_help(
                    doc.at(e),
                    "this expectation checks nothing",
                    "add e.g. `pods: {my-pod: {phase: Running}}`",
                ));
            }
            scenario.expectations.push(Expectation { policies, at, why: ex.why.clone(), pos: doc.at(e), checks });
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

    fn policy(
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
