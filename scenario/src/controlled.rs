//! The kinds a controller runs, read from their manifests: ReplicaSets and Deployments (the
//! ReplicaSet and Deployment controllers keep their replicas) and Jobs (the Job controller runs
//! their pods to completion), each with its pod template read as a Pod is.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_saphyr::Spanned;

use crate::affinity::{LabelSelector, SpreadSelector};
use crate::apps::{DeploymentSpec, DeploymentStrategy, IntOrPercent, JOB_NAME_LABEL, JobSpec, LEGACY_JOB_NAME_LABEL};
use crate::diagnostic::{LoadError, Pos};
use crate::manifest::{self, Doc, JobManifestK8s, JobSpecManifest, PodManifest, ReplicaSetManifest, StrategyManifest};
use crate::objects::{Pod, ReplicaSetSpec};
use crate::reading::{Found, Loader, PodRefs};
use crate::time::{SimDuration, SimTime};
use crate::yaml;

/// What a file's controlled kinds add to its scenario.
#[derive(Default)]
pub(crate) struct Controlled<'f> {
    pub(crate) replica_sets: Vec<ReplicaSetSpec>,
    pub(crate) deployments: Vec<DeploymentSpec>,
    pub(crate) jobs: Vec<JobSpec>,
    /// Each ReplicaSet's and Deployment's selector, which spreading constraints count by.
    pub(crate) selectors: Vec<SpreadSelector>,
    /// Workloads whose pods end by themselves: each is replaced, so the world never rests —
    /// where each is defined, its kind and its name.
    pub(crate) replaced_forever: Vec<(Pos, &'f str, String)>,
    /// Every workload's namespace and name, across kinds: their pods' owners must not clash.
    names: Vec<(String, String)>,
}

/// A document's value, and the document left to place positions with (a manifest's parts are
/// moved out of the value while errors still point into the file).
fn take_value<'a, T>(doc: Doc<'a, T>) -> (Doc<'a, ()>, T) {
    let line_offset = doc.parsed.line_offset;
    let at_doc = Doc { src: doc.src, parsed: yaml::Parsed { value: (), line_offset }, start: doc.start };
    (at_doc, doc.parsed.value)
}

impl Loader<'_> {
    /// The file's ReplicaSets and Deployments, then its Jobs, in file order.
    pub(crate) fn controlled<'f>(
        &mut self,
        found: &[Found<'f>],
        refs: &mut PodRefs,
    ) -> Result<Controlled<'f>, LoadError> {
        let mut out = Controlled::default();
        for f in found.iter().filter(|f| matches!(f.kind, "ReplicaSet" | "Deployment")) {
            self.replicated(f, refs, &mut out)?;
        }
        for f in found.iter().filter(|f| f.kind == "Job") {
            let job = self.job(f, refs, &mut out.names)?;
            out.jobs.push(job);
        }
        Ok(out)
    }

    /// One ReplicaSet or Deployment, with its selector.
    fn replicated<'f>(&mut self, f: &Found<'f>, refs: &mut PodRefs, out: &mut Controlled<'f>) -> Result<(), LoadError> {
        self.check_api_version(f, &["apps/v1"])?;
        let (at_doc, m) = take_value(self.doc::<ReplicaSetManifest>(f.node)?);
        let (name, pos) = at_doc.name(&m.metadata, f.kind)?;
        let namespace = m.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        self.claim_workload_name(&mut out.names, f.kind, &namespace, &name, pos)?;
        let replicas = self.replicas(&at_doc, m.spec.replicas.as_ref())?;
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
        let min_ready = self.min_ready(&at_doc, m.spec.min_ready_seconds.as_ref())?;
        let name_at = m.metadata.name.as_ref().expect("named above");
        let mut pod = self.template_pod(&at_doc, m.spec.template, name_at, &name, &namespace, refs)?;
        let selector = self.workload_selector(&at_doc, m.spec.selector.as_ref(), &pod.labels, f.kind, &name, pos)?;
        out.selectors.push(SpreadSelector {
            namespace: namespace.clone(),
            kind: f.kind.to_string(),
            name: name.clone(),
            selector,
        });
        if pod.run_for().is_some() || pod.fail_after.is_some() {
            out.replaced_forever.push((pos, f.kind, name.clone()));
        }
        if f.kind == "ReplicaSet" {
            pod.owner = Some(name.clone());
            out.replica_sets.push(ReplicaSetSpec { namespace, name, replicas, template: Arc::new(pod) });
        } else {
            let template = Arc::new(pod);
            out.deployments.push(DeploymentSpec { namespace, name, replicas, template, strategy, min_ready });
        }
        Ok(())
    }

    /// One Job: its counts, deadline and completion mode, and its pods' template.
    fn job(
        &mut self,
        f: &Found<'_>,
        refs: &mut PodRefs,
        names: &mut Vec<(String, String)>,
    ) -> Result<JobSpec, LoadError> {
        self.check_api_version(f, &["batch/v1"])?;
        let (at_doc, m) = take_value(self.doc::<JobManifestK8s>(f.node)?);
        let (name, pos) = at_doc.name(&m.metadata, "Job")?;
        let namespace = m.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        self.claim_workload_name(names, "Job", &namespace, &name, pos)?;
        // Kubernetes: parallelism 1 and completions 1 by default (an unset completions
        // with parallelism > 1 is a work queue, which podlab runs as completions 1).
        let completions = self.job_count(&at_doc, &m.spec.completions, "completions", 1, 1)?;
        let parallelism = self.job_count(&at_doc, &m.spec.parallelism, "parallelism", 1, 0)?;
        let backoff_limit = self.job_count(&at_doc, &m.spec.backoff_limit, "backoffLimit", 6, 0)?;
        let active_deadline = self.active_deadline(&at_doc, m.spec.active_deadline_seconds.as_ref())?;
        let indexed = self.indexed(&at_doc, &m.spec)?;
        self.check_job_restart_policy(&at_doc, m.spec.template.spec.restart_policy.as_ref(), &name, pos)?;
        let name_at = m.metadata.name.as_ref().expect("named above");
        let mut pod = self.template_pod(&at_doc, m.spec.template, name_at, &name, &namespace, refs)?;
        pod.owner = Some(name.clone());
        pod.labels.insert(JOB_NAME_LABEL.into(), name.clone());
        pod.labels.insert(LEGACY_JOB_NAME_LABEL.into(), name.clone());
        // The Job controller's labels are on the pod when the API server merges label keys.
        let labels = pod.labels.clone();
        if let Some(terms) = pod.terms.as_mut() {
            terms.merge_label_keys(&labels);
        }
        Ok(JobSpec {
            namespace,
            name,
            completions,
            parallelism,
            backoff_limit,
            active_deadline,
            template: Arc::new(pod),
            start: SimTime::ZERO,
            indexed,
        })
    }

    /// Records a workload's name in its namespace, refusing one taken by another workload.
    fn claim_workload_name(
        &self,
        names: &mut Vec<(String, String)>,
        kind: &str,
        namespace: &str,
        name: &str,
        pos: Pos,
    ) -> Result<(), LoadError> {
        let key = (namespace.to_string(), name.to_string());
        if names.contains(&key) {
            return Err(self.src.error_with_help(
                pos,
                format!("duplicate {kind} `{name}`"),
                "ReplicaSets, Deployments and Jobs of one namespace need distinct names",
            ));
        }
        names.push(key);
        Ok(())
    }

    /// A controller's pod template read as a Pod: named after its owner, in its namespace.
    fn template_pod(
        &mut self,
        at_doc: &Doc<'_, ()>,
        mut template: PodManifest,
        name_at: &Spanned<String>,
        name: &str,
        namespace: &str,
        refs: &mut PodRefs,
    ) -> Result<Pod, LoadError> {
        template.metadata.name = Some(Spanned::new(name.to_string(), name_at.referenced, name_at.defined));
        template.metadata.namespace = Some(namespace.to_string());
        let parsed = yaml::Parsed { value: template, line_offset: at_doc.parsed.line_offset };
        let tdoc = Doc { src: at_doc.src, parsed, start: at_doc.start };
        Ok(self.pod(&tdoc, refs)?.0)
    }

    /// `spec.replicas`: 1 by default, at most 100,000.
    fn replicas(&self, at_doc: &Doc<'_, ()>, replicas: Option<&Spanned<i64>>) -> Result<u32, LoadError> {
        match replicas {
            None => Ok(1),
            Some(r) if (0..=100_000).contains(&r.value) => Ok(r.value as u32),
            Some(r) => {
                let at = at_doc.parsed.pos(&r.referenced);
                Err(self.src.error(at, format!("replicas {} is out of range (0 to 100000)", r.value)))
            }
        }
    }

    /// `spec.minReadySeconds`: none by default, at most a year.
    fn min_ready(&self, at_doc: &Doc<'_, ()>, seconds: Option<&Spanned<i64>>) -> Result<SimDuration, LoadError> {
        match seconds {
            None => Ok(SimDuration::ZERO),
            Some(r) if (0..=365 * 24 * 3600).contains(&r.value) => Ok(SimDuration::from_secs(r.value as u64)),
            Some(r) => {
                let at = at_doc.parsed.pos(&r.referenced);
                Err(self.src.error(at, format!("minReadySeconds {} is out of range", r.value)))
            }
        }
    }

    /// One of a Job's counts: `default` when unset, else from `min` to 100,000.
    fn job_count(
        &self,
        at_doc: &Doc<'_, ()>,
        field: &Option<Spanned<i64>>,
        what: &str,
        default: u32,
        min: i64,
    ) -> Result<u32, LoadError> {
        match field {
            None => Ok(default),
            Some(v) if (min..=100_000).contains(&v.value) => Ok(v.value as u32),
            Some(v) => {
                Err(self.src.error(at_doc.at(v), format!("{what} {} is out of range ({min} to 100000)", v.value)))
            }
        }
    }

    /// A Job's `activeDeadlineSeconds`: none by default, from a second to a year.
    fn active_deadline(
        &self,
        at_doc: &Doc<'_, ()>,
        seconds: Option<&Spanned<i64>>,
    ) -> Result<Option<SimDuration>, LoadError> {
        match seconds {
            None => Ok(None),
            Some(v) if (1..=365 * 24 * 3600).contains(&v.value) => Ok(Some(SimDuration::from_secs(v.value as u64))),
            Some(v) => Err(self
                .src
                .error(at_doc.at(v), format!("activeDeadlineSeconds {} is out of range (1 to one year)", v.value))),
        }
    }

    /// Whether a Job's `completionMode` is `Indexed` (which needs `completions`).
    fn indexed(&self, at_doc: &Doc<'_, ()>, spec: &JobSpecManifest) -> Result<bool, LoadError> {
        match &spec.completion_mode {
            None => Ok(false),
            Some(mode) if mode.value == "NonIndexed" => Ok(false),
            Some(mode) if mode.value == "Indexed" => {
                if spec.completions.is_none() {
                    return Err(self.src.error_with_help(
                        at_doc.at(mode),
                        "an Indexed Job needs `completions`",
                        "Kubernetes requires it: the indexes are 0 to completions − 1",
                    ));
                }
                Ok(true)
            }
            Some(mode) => Err(self.src.error_with_help(
                at_doc.at(mode),
                format!("unknown completionMode `{}`", mode.value),
                "`NonIndexed` (the default) or `Indexed`",
            )),
        }
    }

    /// A Job's pods must say how they restart: `Never` or `OnFailure`.
    fn check_job_restart_policy(
        &self,
        at_doc: &Doc<'_, ()>,
        restart_policy: Option<&Spanned<String>>,
        name: &str,
        pos: Pos,
    ) -> Result<(), LoadError> {
        match restart_policy {
            Some(p) if p.value == "Never" || p.value == "OnFailure" => Ok(()),
            Some(p) => Err(self.src.error_with_help(
                at_doc.at(p),
                format!("a Job's pods cannot have restartPolicy `{}`", p.value),
                "use `Never` (a new pod per failure) or `OnFailure`",
            )),
            None => Err(self.src.error_with_help(
                pos,
                format!("Job `{name}` has no `spec.template.spec.restartPolicy`"),
                "Kubernetes requires `Never` or `OnFailure` for a Job's pods",
            )),
        }
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
}
