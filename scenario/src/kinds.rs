//! The kinds a scenario declares only for kube-scheduler to read — Services,
//! ReplicationControllers and StatefulSets (their selectors, for the default topology
//! spreading), PodDisruptionBudgets (preemption) and Namespaces (their labels, for namespace
//! selectors) — gathered into [`KubeObjects`]. No controller runs them: a StatefulSet's or a
//! ReplicationController's pods are listed as Pods.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::affinity::{
    IntOrPercent, KubeObjects, LabelSelector, NAMESPACE_NAME_LABEL, PodDisruptionBudget, SpreadSelector,
};
use crate::diagnostic::{LoadError, Pos};
use crate::manifest::LabelSelectorManifest;
use crate::manifest::{Doc, ObjectMeta};
use crate::reading::{Found, Loader};

/// `v1` Service: only `spec.selector` matters here; the rest of the spec is accepted and
/// ignored.
#[derive(Deserialize)]
pub struct ServiceManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ServiceSpec,
}

#[derive(Deserialize, Default)]
pub struct ServiceSpec {
    /// `None`: the Service selects no pod (`GetPodServices` skips it).
    pub selector: Option<BTreeMap<String, Spanned<String>>>,
}

/// `apps/v1` StatefulSet: its selector.
#[derive(Deserialize)]
pub struct StatefulSetManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: StatefulSetSpec,
}

#[derive(Deserialize)]
pub struct StatefulSetSpec {
    pub replicas: Option<Spanned<i64>>,
    pub selector: Option<LabelSelectorManifest>,
}

/// `v1` ReplicationController: its selector (a plain map), defaulted to its template's labels.
#[derive(Deserialize)]
pub struct ReplicationControllerManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: ReplicationControllerSpec,
}

#[derive(Deserialize)]
pub struct ReplicationControllerSpec {
    pub replicas: Option<Spanned<i64>>,
    pub selector: Option<BTreeMap<String, Spanned<String>>>,
    pub template: Option<TemplateMetadata>,
}

#[derive(Deserialize)]
pub struct TemplateMetadata {
    #[serde(default)]
    pub metadata: ObjectMeta,
}

/// `policy/v1` PodDisruptionBudget.
#[derive(Deserialize)]
pub struct PdbManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: PdbSpec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PdbSpec {
    pub selector: Option<LabelSelectorManifest>,
    pub min_available: Option<Spanned<IntOrString>>,
    pub max_unavailable: Option<Spanned<IntOrString>>,
    /// Accepted and ignored (`IfHealthyBudget` or `AlwaysAllow`: eviction, not scheduling).
    #[serde(rename = "unhealthyPodEvictionPolicy")]
    pub _unhealthy_pod_eviction_policy: Option<serde::de::IgnoredAny>,
}

/// An `intstr.IntOrString` as YAML writes it.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i64),
    Str(String),
}

/// `v1` Namespace: its labels.
#[derive(Deserialize)]
pub struct NamespaceManifest {
    #[serde(default)]
    pub metadata: ObjectMeta,
}

/// The kinds this module reads, as `(kind, apiVersion)`.
pub const KINDS: [(&str, &str); 5] = [
    ("Service", "v1"),
    ("ReplicationController", "v1"),
    ("StatefulSet", "apps/v1"),
    ("PodDisruptionBudget", "policy/v1"),
    ("Namespace", "v1"),
];

impl<T> Doc<'_, T> {
    /// A selector written as a plain map (Services, ReplicationControllers), as `matchLabels`.
    fn map_selector(&self, map: &BTreeMap<String, Spanned<String>>) -> Result<LabelSelector, LoadError> {
        let m = LabelSelectorManifest { match_labels: map.clone(), match_expressions: Vec::new() };
        self.label_selector(&m)
    }
}

impl Doc<'_, PdbManifest> {
    /// A count (at least 0) or a percentage (0% to 100%), as `ValidatePodDisruptionBudgetSpec`
    /// accepts them.
    fn int_or_percent(&self, v: &Spanned<IntOrString>, field: &str) -> Result<IntOrPercent, LoadError> {
        let parsed = match &v.value {
            IntOrString::Int(n) => i32::try_from(*n).ok().filter(|n| *n >= 0).map(IntOrPercent::Int),
            IntOrString::Str(s) => s
                .strip_suffix('%')
                .and_then(|p| p.parse::<i32>().ok())
                .filter(|p| (0..=100).contains(p))
                .map(IntOrPercent::Percent),
        };
        parsed.ok_or_else(|| {
            self.src.error_with_help(
                self.at(v),
                format!("{field} is neither a count nor a percentage"),
                "write a whole number of pods (`2`) or a percentage from 0% to 100% as a string (`\"50%\"`)",
            )
        })
    }
}

/// Names seen per kind and namespace, for the duplicate check.
type Seen = BTreeMap<(&'static str, String, String), Pos>;

impl Loader<'_> {
    /// Every Service, ReplicationController, StatefulSet, PodDisruptionBudget and Namespace of
    /// the file, with the ReplicaSets' and Deployments' selectors the loader already read.
    pub(super) fn kube_objects(
        &mut self,
        found: &[Found<'_>],
        workload_selectors: Vec<SpreadSelector>,
    ) -> Result<KubeObjects, LoadError> {
        let mut kube = KubeObjects::default();
        let mut seen = Seen::new();
        let mut later = Vec::new();
        for f in found {
            let Some((kind, api_version)) = KINDS.iter().find(|(k, _)| *k == f.kind) else { continue };
            self.check_api_version(f, &[api_version])?;
            match *kind {
                "Service" => kube.spread_selectors.push(self.service(f, &mut seen)?),
                "ReplicationController" => kube.spread_selectors.push(self.replication_controller(f, &mut seen)?),
                "StatefulSet" => later.push(self.stateful_set(f, &mut seen)?),
                "PodDisruptionBudget" => kube.pdbs.push(self.pdb(f, &mut seen)?),
                _ => self.namespace(f, &mut seen, &mut kube.namespace_labels)?,
            }
        }
        // The order `DefaultSelector` consults them in: Services, RCs, ReplicaSets, StatefulSets.
        kube.spread_selectors.sort_by_key(|s| s.kind != "Service");
        kube.spread_selectors.extend(workload_selectors);
        kube.spread_selectors.extend(later);
        Ok(kube)
    }

    /// `metadata.name` and namespace of an object, refused when a second one of its kind has
    /// them.
    fn identity<T>(
        &self,
        doc: &Doc<'_, T>,
        meta: &ObjectMeta,
        kind: &'static str,
        seen: &mut Seen,
    ) -> Result<(String, String, Pos), LoadError> {
        let (name, pos) = doc.name(meta, kind)?;
        let namespace = meta.namespace.clone().unwrap_or_else(|| "default".into());
        if let Some(first) = seen.insert((kind, namespace.clone(), name.clone()), pos) {
            return Err(self.duplicate(pos, kind, &name, first));
        }
        Ok((namespace, name, pos))
    }

    fn service(&mut self, f: &Found<'_>, seen: &mut Seen) -> Result<SpreadSelector, LoadError> {
        let doc: Doc<ServiceManifest> = self.doc(f.node)?;
        let m = &doc.parsed.value;
        let (namespace, name, _) = self.identity(&doc, &m.metadata, "Service", seen)?;
        let selector = m.spec.selector.as_ref().map(|s| doc.map_selector(s)).transpose()?.unwrap_or_default();
        Ok(SpreadSelector { namespace, kind: "Service".into(), name, selector })
    }

    fn replication_controller(&mut self, f: &Found<'_>, seen: &mut Seen) -> Result<SpreadSelector, LoadError> {
        let doc: Doc<ReplicationControllerManifest> = self.doc(f.node)?;
        let m = &doc.parsed.value;
        let (namespace, name, pos) = self.identity(&doc, &m.metadata, "ReplicationController", seen)?;
        self.warn_unrun(pos, "ReplicationController", &name, m.spec.replicas.as_ref().map(|r| r.value));
        // The API defaults an absent selector to the template's labels.
        let selector = match (&m.spec.selector, &m.spec.template) {
            (Some(s), _) => doc.map_selector(s)?,
            (None, Some(t)) => doc.map_selector(&t.metadata.labels)?,
            (None, None) => LabelSelector::default(),
        };
        if selector.is_empty() {
            return Err(self.src.error_with_help(
                pos,
                format!("ReplicationController `{name}` selects nothing"),
                "give it `spec.selector` (or labels on `spec.template.metadata`)",
            ));
        }
        Ok(SpreadSelector { namespace, kind: "ReplicationController".into(), name, selector })
    }

    fn stateful_set(&mut self, f: &Found<'_>, seen: &mut Seen) -> Result<SpreadSelector, LoadError> {
        let doc: Doc<StatefulSetManifest> = self.doc(f.node)?;
        let m = &doc.parsed.value;
        let (namespace, name, pos) = self.identity(&doc, &m.metadata, "StatefulSet", seen)?;
        self.warn_unrun(pos, "StatefulSet", &name, m.spec.replicas.as_ref().map(|r| r.value));
        let selector = match &m.spec.selector {
            Some(s) => doc.label_selector(s)?,
            None => {
                return Err(self.src.error_with_help(
                    pos,
                    format!("StatefulSet `{name}` has no spec.selector"),
                    "apps/v1 requires one: `selector: {matchLabels: {app: db}}`",
                ));
            }
        };
        Ok(SpreadSelector { namespace, kind: "StatefulSet".into(), name, selector })
    }

    /// A controller podlab does not run: its pods are whatever the scenario lists.
    fn warn_unrun(&mut self, pos: Pos, kind: &str, name: &str, replicas: Option<i64>) {
        if replicas != Some(0) {
            self.warn(
                pos,
                format!(
                    "podlab does not run the {kind} controller: `{name}` creates no pod (list its pods as Pods); its selector serves topology spreading"
                ),
            );
        }
    }

    fn pdb(&mut self, f: &Found<'_>, seen: &mut Seen) -> Result<PodDisruptionBudget, LoadError> {
        let doc: Doc<PdbManifest> = self.doc(f.node)?;
        let m = &doc.parsed.value;
        let (namespace, name, pos) = self.identity(&doc, &m.metadata, "PodDisruptionBudget", seen)?;
        let min_available = m.spec.min_available.as_ref().map(|v| doc.int_or_percent(v, "minAvailable")).transpose()?;
        let max_unavailable =
            m.spec.max_unavailable.as_ref().map(|v| doc.int_or_percent(v, "maxUnavailable")).transpose()?;
        if let (Some(_), Some(v)) = (&m.spec.min_available, &m.spec.max_unavailable) {
            return Err(doc.src.error_with_help(
                doc.at(v),
                "minAvailable and maxUnavailable cannot both be set",
                "keep one of them",
            ));
        }
        if min_available.is_none() && max_unavailable.is_none() {
            self.warn(pos, format!("PodDisruptionBudget `{name}` sets neither minAvailable nor maxUnavailable: it allows every disruption"));
        }
        // A nil selector is kept as an empty one: upstream's preemption skips a PDB whose
        // selector is empty (`filterPodsWithPDBViolation`), and both select no pod there.
        let selector = m.spec.selector.as_ref().map(|s| doc.label_selector(s)).transpose()?.unwrap_or_default();
        Ok(PodDisruptionBudget { namespace, name, selector, min_available, max_unavailable })
    }

    fn namespace(
        &mut self,
        f: &Found<'_>,
        seen: &mut Seen,
        labels: &mut BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<(), LoadError> {
        let doc: Doc<NamespaceManifest> = self.doc(f.node)?;
        let m = &doc.parsed.value;
        let (name, pos) = doc.name(&m.metadata, "Namespace")?;
        if !crate::names::is_dns_label(&name) {
            return Err(self.src.error_with_help(
                pos,
                format!("`{name}` is not a valid Namespace name"),
                "a namespace's name is a DNS label: at most 63 lower-case letters, digits and `-`",
            ));
        }
        if let Some(first) = seen.insert(("Namespace", String::new(), name.clone()), pos) {
            return Err(self.duplicate(pos, "Namespace", &name, first));
        }
        let selector = doc.map_selector(&m.metadata.labels)?;
        let mut own = selector.match_labels;
        // The API server labels every namespace with its own name.
        own.insert(NAMESPACE_NAME_LABEL.into(), name.clone());
        labels.insert(name, own);
        Ok(())
    }
}
