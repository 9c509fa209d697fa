//! The fields of the Kubernetes kinds podlab reads, checked as `kubectl --validate=strict`
//! checks them, before the typed parse: an unknown field is an error with a "did you mean"
//! (a typo such as `completion: 6` would otherwise change the experiment without a word);
//! what the API server writes (`status`, `metadata.managedFields`, `uid`…) and what does not
//! bear on scheduling (`env`, probes, `securityContext`…) is accepted and ignored; and a field
//! that bears on scheduling but that podlab does not model is one warning per kind and field,
//! saying what podlab does instead.
//!
//! Kinds podlab does not read at all (ConfigMap, Secret, PersistentVolumeClaim…) are skipped
//! whole, with one warning per kind ([`SKIPPED_KINDS`]).

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Pos, Severity};
use crate::yaml::{Shape, Source, YNode};

/// What podlab does with a field.
#[derive(Clone, Copy, Debug)]
pub(crate) enum F {
    /// Read by the typed parse, which checks its shape.
    Read,
    /// An object whose every field is known.
    Obj(&'static [(&'static str, F)]),
    /// A list of such objects.
    List(&'static [(&'static str, F)]),
    /// A list of objects whose listed fields are checked and any other accepted (a volume's
    /// many sources).
    OpenList(&'static [(&'static str, F)]),
    /// Accepted and ignored, with whatever it holds: no bearing on scheduling.
    Ignored,
    /// Bears on scheduling, and podlab does not model it: a warning, saying what podlab does
    /// instead. Not when unset (`null`, `false`, empty).
    Unmodelled(&'static str),
}

use F::{Ignored, List, Obj, OpenList, Read, Unmodelled};

/// `metadata` of every object: podlab reads names, labels, annotations and owners; the rest the
/// API server writes.
const META: &[(&str, F)] = &[
    ("name", Read),
    ("generateName", Ignored),
    ("namespace", Read),
    ("labels", Read),
    ("annotations", Read),
    ("ownerReferences", Read),
    ("uid", Ignored),
    ("resourceVersion", Ignored),
    ("generation", Ignored),
    ("creationTimestamp", Ignored),
    ("deletionTimestamp", Ignored),
    ("deletionGracePeriodSeconds", Ignored),
    ("finalizers", Ignored),
    ("managedFields", Ignored),
    ("selfLink", Ignored),
];

const RESOURCES: &[(&str, F)] = &[
    ("requests", Read),
    ("limits", Read),
    ("claims", Unmodelled("podlab does not model dynamic resource allocation: the claims are not allocated")),
];

const CONTAINER: &[(&str, F)] = &[
    ("name", Read),
    ("image", Read),
    ("resources", Obj(RESOURCES)),
    ("restartPolicy", Read),
    ("ports", Read),
    ("command", Ignored),
    ("args", Ignored),
    ("workingDir", Ignored),
    ("env", Ignored),
    ("envFrom", Ignored),
    ("volumeMounts", Ignored),
    ("volumeDevices", Ignored),
    ("resizePolicy", Ignored),
    ("lifecycle", Ignored),
    ("livenessProbe", Ignored),
    ("readinessProbe", Ignored),
    ("startupProbe", Ignored),
    ("terminationMessagePath", Ignored),
    ("terminationMessagePolicy", Ignored),
    ("imagePullPolicy", Ignored),
    ("securityContext", Ignored),
    ("stdin", Ignored),
    ("stdinOnce", Ignored),
    ("tty", Ignored),
];

const TOLERATION: &[(&str, F)] =
    &[("key", Read), ("operator", Read), ("value", Read), ("effect", Read), ("tolerationSeconds", Read)];

const VOLUME: &[(&str, F)] = &[
    ("name", Read),
    (
        "persistentVolumeClaim",
        Unmodelled(
            "podlab does not model volumes (VolumeBinding, VolumeZone, NodeVolumeLimits): the pod is placed as if \
             its claims were bound on every node",
        ),
    ),
    (
        "ephemeral",
        Unmodelled(
            "podlab does not model volumes (VolumeBinding, NodeVolumeLimits): the pod is placed as if its \
             ephemeral volumes were provisioned on every node",
        ),
    ),
];

const POD_SPEC: &[(&str, F)] = &[
    ("containers", List(CONTAINER)),
    ("initContainers", List(CONTAINER)),
    ("overhead", Read),
    ("nodeSelector", Read),
    ("affinity", Read),
    ("tolerations", List(TOLERATION)),
    ("priority", Read),
    ("priorityClassName", Read),
    ("schedulerName", Read),
    ("nodeName", Read),
    ("workloadRef", Read),
    ("restartPolicy", Read),
    ("topologySpreadConstraints", Read),
    ("preemptionPolicy", Read),
    ("volumes", OpenList(VOLUME)),
    (
        "hostNetwork",
        Unmodelled(
            "podlab does not model host networking: only ports with a `hostPort` claim a port of the node \
             (NodePorts)",
        ),
    ),
    ("schedulingGates", Unmodelled("podlab does not model scheduling gates: the pod is scheduled as if ungated")),
    (
        "resourceClaims",
        Unmodelled("podlab does not model dynamic resource allocation: the pod is placed without its claims"),
    ),
    (
        "runtimeClassName",
        Unmodelled("podlab does not model RuntimeClasses: no overhead is added beyond `spec.overhead`"),
    ),
    (
        "resources",
        Unmodelled("podlab does not model pod-level resources: the pod's requests are its containers' (and overhead)"),
    ),
    ("activeDeadlineSeconds", Ignored),
    ("automountServiceAccountToken", Ignored),
    ("dnsConfig", Ignored),
    ("dnsPolicy", Ignored),
    ("enableServiceLinks", Ignored),
    ("ephemeralContainers", Ignored),
    ("hostAliases", Ignored),
    ("hostIPC", Ignored),
    ("hostPID", Ignored),
    ("hostUsers", Ignored),
    ("hostname", Ignored),
    ("imagePullSecrets", Ignored),
    ("os", Ignored),
    ("readinessGates", Ignored),
    ("securityContext", Ignored),
    ("serviceAccount", Ignored),
    ("serviceAccountName", Ignored),
    ("setHostnameAsFQDN", Ignored),
    ("shareProcessNamespace", Ignored),
    ("subdomain", Ignored),
    ("terminationGracePeriodSeconds", Ignored),
];

const TEMPLATE: &[(&str, F)] = &[("metadata", Obj(META)), ("spec", Obj(POD_SPEC))];

const TAINT: &[(&str, F)] = &[("key", Read), ("value", Read), ("effect", Read), ("timeAdded", Ignored)];

const NODE_SPEC: &[(&str, F)] = &[
    ("taints", List(TAINT)),
    ("unschedulable", Read),
    ("podCIDR", Ignored),
    ("podCIDRs", Ignored),
    ("providerID", Ignored),
    ("configSource", Ignored),
    ("externalID", Ignored),
];

const NODE_STATUS: &[(&str, F)] = &[
    ("capacity", Read),
    ("allocatable", Read),
    ("images", Read),
    ("phase", Ignored),
    ("conditions", Ignored),
    ("addresses", Ignored),
    ("daemonEndpoints", Ignored),
    ("nodeInfo", Ignored),
    ("volumesInUse", Ignored),
    ("volumesAttached", Ignored),
    ("config", Ignored),
    ("runtimeHandlers", Ignored),
    ("features", Ignored),
    ("declaredFeatures", Ignored),
];

const STRATEGY: &[(&str, F)] = &[("type", Read), ("rollingUpdate", Read)];

const DEPLOYMENT_SPEC: &[(&str, F)] = &[
    ("replicas", Read),
    ("selector", Read),
    ("template", Obj(TEMPLATE)),
    ("strategy", Obj(STRATEGY)),
    ("minReadySeconds", Read),
    ("paused", Unmodelled("podlab does not pause rollouts: the Deployment rolls out as if resumed")),
    ("progressDeadlineSeconds", Ignored),
    ("revisionHistoryLimit", Ignored),
];

const REPLICA_SET_SPEC: &[(&str, F)] =
    &[("replicas", Read), ("selector", Read), ("template", Obj(TEMPLATE)), ("minReadySeconds", Read)];

const JOB_SPEC: &[(&str, F)] = &[
    ("completions", Read),
    ("parallelism", Read),
    ("backoffLimit", Read),
    ("activeDeadlineSeconds", Read),
    ("completionMode", Read),
    ("template", Obj(TEMPLATE)),
    ("selector", Ignored),
    ("manualSelector", Ignored),
    ("ttlSecondsAfterFinished", Ignored),
    ("managedBy", Ignored),
    ("suspend", Unmodelled("podlab does not suspend Jobs: the Job starts at once")),
    (
        "podFailurePolicy",
        Unmodelled("podlab does not model pod failure policies: every failure counts toward backoffLimit"),
    ),
    ("podReplacementPolicy", Unmodelled("podlab replaces a failed pod once it has failed (TerminatingOrFailed)")),
    ("backoffLimitPerIndex", Unmodelled("podlab does not model per-index backoff: backoffLimit counts every failure")),
    ("maxFailedIndexes", Unmodelled("podlab does not model per-index backoff: backoffLimit counts every failure")),
    ("successPolicy", Unmodelled("podlab does not model success policies: the Job completes at `completions`")),
];

const SERVICE_SPEC: &[(&str, F)] = &[
    ("selector", Read),
    ("allocateLoadBalancerNodePorts", Ignored),
    ("clusterIP", Ignored),
    ("clusterIPs", Ignored),
    ("externalIPs", Ignored),
    ("externalName", Ignored),
    ("externalTrafficPolicy", Ignored),
    ("healthCheckNodePort", Ignored),
    ("internalTrafficPolicy", Ignored),
    ("ipFamilies", Ignored),
    ("ipFamilyPolicy", Ignored),
    ("loadBalancerClass", Ignored),
    ("loadBalancerIP", Ignored),
    ("loadBalancerSourceRanges", Ignored),
    ("ports", Ignored),
    ("publishNotReadyAddresses", Ignored),
    ("sessionAffinity", Ignored),
    ("sessionAffinityConfig", Ignored),
    ("trafficDistribution", Ignored),
    ("type", Ignored),
];

const STATEFUL_SET_SPEC: &[(&str, F)] = &[
    ("replicas", Read),
    ("selector", Read),
    ("template", Obj(TEMPLATE)),
    ("serviceName", Ignored),
    ("volumeClaimTemplates", Ignored),
    ("updateStrategy", Ignored),
    ("podManagementPolicy", Ignored),
    ("revisionHistoryLimit", Ignored),
    ("minReadySeconds", Ignored),
    ("persistentVolumeClaimRetentionPolicy", Ignored),
    ("ordinals", Ignored),
];

const RC_SPEC: &[(&str, F)] =
    &[("replicas", Read), ("selector", Read), ("template", Obj(TEMPLATE)), ("minReadySeconds", Ignored)];

const PDB_SPEC: &[(&str, F)] =
    &[("selector", Read), ("minAvailable", Read), ("maxUnavailable", Read), ("unhealthyPodEvictionPolicy", Read)];

const POD_GROUP_SPEC: &[(&str, F)] = &[
    ("minMember", Read),
    ("minAvailable", Read),
    ("minResources", Read),
    ("scheduleTimeoutSeconds", Read),
    ("queue", Unmodelled("podlab has no Volcano queues: the group is scheduled as if in the default queue")),
    ("priorityClassName", Unmodelled("podlab reads priority from the group's pods, not from the PodGroup")),
    ("minTaskMember", Unmodelled("podlab gangs a group by minMember alone, not per task")),
    ("networkTopology", Unmodelled("podlab does not model network topologies: members go wherever they fit")),
];

/// The top-level fields of every object podlab reads, beside `apiVersion`, `kind`, `metadata`.
const fn object(spec: F, status: F) -> [(&'static str, F); 5] {
    [("apiVersion", Read), ("kind", Read), ("metadata", Obj(META)), ("spec", spec), ("status", status)]
}

const NODE: [(&str, F); 5] = object(Obj(NODE_SPEC), Obj(NODE_STATUS));
const POD: [(&str, F); 5] = object(Obj(POD_SPEC), Ignored);
const DEPLOYMENT: [(&str, F); 5] = object(Obj(DEPLOYMENT_SPEC), Ignored);
const REPLICA_SET: [(&str, F); 5] = object(Obj(REPLICA_SET_SPEC), Ignored);
const JOB: [(&str, F); 5] = object(Obj(JOB_SPEC), Ignored);
const SERVICE: [(&str, F); 5] = object(Obj(SERVICE_SPEC), Ignored);
const STATEFUL_SET: [(&str, F); 5] = object(Obj(STATEFUL_SET_SPEC), Ignored);
const RC: [(&str, F); 5] = object(Obj(RC_SPEC), Ignored);
const PDB: [(&str, F); 5] = object(Obj(PDB_SPEC), Ignored);
const NAMESPACE: [(&str, F); 5] = object(Obj(&[("finalizers", Ignored)]), Ignored);
const POD_GROUP: [(&str, F); 5] = object(Obj(POD_GROUP_SPEC), Ignored);
const PRIORITY_CLASS: &[(&str, F)] = &[
    ("apiVersion", Read),
    ("kind", Read),
    ("metadata", Obj(META)),
    ("value", Read),
    ("globalDefault", Read),
    ("preemptionPolicy", Read),
    ("description", Ignored),
];

/// The fields of a kind podlab reads, or `None` for the kinds checked by their own strict
/// parse (Simulation, KubeSchedulerConfiguration, Workload).
fn fields_of(kind: &str) -> Option<&'static [(&'static str, F)]> {
    Some(match kind {
        "Node" => &NODE,
        "Pod" => &POD,
        "Deployment" => &DEPLOYMENT,
        "ReplicaSet" => &REPLICA_SET,
        "Job" => &JOB,
        "Service" => &SERVICE,
        "StatefulSet" => &STATEFUL_SET,
        "ReplicationController" => &RC,
        "PodDisruptionBudget" => &PDB,
        "Namespace" => &NAMESPACE,
        "PodGroup" => &POD_GROUP,
        "PriorityClass" => PRIORITY_CLASS,
        _ => return None,
    })
}

/// Kubernetes kinds podlab does not model, each with what that means for a run: skipped with
/// one warning per kind (an error under `--strict`).
pub const SKIPPED_KINDS: &[(&str, &str)] = &[
    ("ConfigMap", "configuration does not bear on scheduling"),
    ("Secret", "secrets do not bear on scheduling"),
    ("ServiceAccount", "service accounts do not bear on scheduling"),
    (
        "PersistentVolumeClaim",
        "podlab does not model volumes: pods that mount the claims are placed as if they were bound on every node",
    ),
    ("PersistentVolume", "podlab does not model volumes: pods are placed as if every volume were reachable"),
    ("StorageClass", "podlab does not model volumes or their provisioning"),
    ("VolumeAttachment", "podlab does not model volumes"),
    ("CSINode", "podlab does not model volumes or their per-node limits"),
    ("CSIDriver", "podlab does not model volumes"),
    (
        "DaemonSet",
        "podlab runs no DaemonSet controller: the DaemonSet's pods listed in the file are scheduled as listed, and \
         none is made for a node",
    ),
    ("CronJob", "podlab runs no CronJob controller: list the Jobs (or their Pods) themselves"),
    ("ControllerRevision", "it records rollout history, which does not bear on scheduling"),
    ("Ingress", "ingress does not bear on scheduling"),
    ("IngressClass", "ingress does not bear on scheduling"),
    ("NetworkPolicy", "network policies do not bear on scheduling"),
    ("Endpoints", "endpoints do not bear on scheduling"),
    ("EndpointSlice", "endpoints do not bear on scheduling"),
    ("Event", "events are history, not state"),
    ("Lease", "leases do not bear on scheduling"),
    ("LimitRange", "podlab does not apply LimitRange defaults: pods keep the requests written in the file"),
    ("ResourceQuota", "podlab does not enforce quotas: every pod is admitted"),
    ("HorizontalPodAutoscaler", "podlab does not autoscale: workloads keep their replicas"),
    ("Role", "RBAC does not bear on scheduling"),
    ("RoleBinding", "RBAC does not bear on scheduling"),
    ("ClusterRole", "RBAC does not bear on scheduling"),
    ("ClusterRoleBinding", "RBAC does not bear on scheduling"),
    ("CustomResourceDefinition", "custom resources do not bear on podlab's scheduling"),
    ("APIService", "API registration does not bear on scheduling"),
    ("MutatingWebhookConfiguration", "podlab runs no admission webhooks: pods are admitted as written"),
    ("ValidatingWebhookConfiguration", "podlab runs no admission webhooks: pods are admitted as written"),
    ("ValidatingAdmissionPolicy", "podlab runs no admission policies: pods are admitted as written"),
    ("ValidatingAdmissionPolicyBinding", "podlab runs no admission policies: pods are admitted as written"),
    ("RuntimeClass", "podlab does not model RuntimeClasses: no overhead is added beyond a pod's `spec.overhead`"),
    ("PodTemplate", "a PodTemplate creates no pod"),
    ("CertificateSigningRequest", "certificates do not bear on scheduling"),
    ("ComponentStatus", "component statuses do not bear on scheduling"),
    ("FlowSchema", "API priority and fairness does not bear on scheduling"),
    ("PriorityLevelConfiguration", "API priority and fairness does not bear on scheduling"),
    ("ResourceClaim", "podlab does not model dynamic resource allocation"),
    ("ResourceClaimTemplate", "podlab does not model dynamic resource allocation"),
    ("DeviceClass", "podlab does not model dynamic resource allocation"),
    ("ResourceSlice", "podlab does not model dynamic resource allocation"),
];

/// What the check found: errors (unknown fields) and the warnings, one per kind and field.
#[derive(Default)]
pub(crate) struct Findings {
    pub(crate) errors: Vec<Diagnostic>,
    /// By (kind, field path): how many objects set it, where first, and what podlab does
    /// instead.
    unmodelled: BTreeMap<(&'static str, String), (u32, Pos, &'static str)>,
}

impl Findings {
    /// One warning per kind and unmodelled field, in the order of their first appearance.
    pub(crate) fn warnings(&self, src: &Source) -> Vec<Diagnostic> {
        let mut found: Vec<_> = self.unmodelled.iter().collect();
        found.sort_by_key(|(_, (_, pos, _))| *pos);
        found
            .into_iter()
            .map(|((kind, path), (n, pos, instead))| {
                let objects = if *n == 1 { format!("a {kind} sets") } else { format!("{n} {kind}s set") };
                src.diagnostic(Severity::Warning, *pos, format!("{objects} `{path}`; {instead}"), None)
            })
            .collect()
    }
}

/// Checks an object of `kind` against its fields (nothing for a kind without a schema here).
pub(crate) fn check(src: &Source, kind: &'static str, node: &YNode, out: &mut Findings) {
    if let Some(fields) = fields_of(kind) {
        let mut seen = Vec::new();
        walk(src, kind, node, fields, "", out, &mut seen);
    }
}

/// Whether a value is set: not null, `false`, or empty.
fn is_set(node: &YNode) -> bool {
    match &node.shape {
        Shape::Scalar(s) => !matches!(s.as_str(), "" | "~" | "null" | "false"),
        Shape::Seq(items) => !items.is_empty(),
        Shape::Map(entries) => !entries.is_empty(),
        Shape::Alias => true,
    }
}

/// Checks one mapping against `fields`; `path` is where it is (`spec.template.spec`);
/// `seen` the unmodelled fields already counted for this object (each counts an object once).
fn walk(
    src: &Source,
    kind: &'static str,
    node: &YNode,
    fields: &[(&'static str, F)],
    path: &str,
    out: &mut Findings,
    seen: &mut Vec<String>,
) {
    let Shape::Map(entries) = &node.shape else { return };
    for (key, value) in entries {
        let Some(name) = key.as_str() else { continue };
        let here = if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
        let Some((_, field)) = fields.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
            let help = match crate::names::suggest(name, &names) {
                Some(near) => format!("did you mean `{near}`? (`kubectl --validate=strict` refuses it too)"),
                None => format!("{kind} has no such field here; its fields are: {}", names.join(", ")),
            };
            let pos = src.pos_of(key.start);
            out.errors.push(src.diagnostic(
                Severity::Error,
                pos,
                format!("unknown field `{here}` in {kind}"),
                Some(help),
            ));
            continue;
        };
        match *field {
            Read | Ignored => {}
            Obj(inner) => walk(src, kind, value, inner, &here, out, seen),
            List(inner) | OpenList(inner) => {
                let Shape::Seq(items) = &value.shape else { continue };
                for item in items {
                    if matches!(field, List(_)) {
                        walk(src, kind, item, inner, &format!("{here}[]"), out, seen);
                    } else {
                        walk_open(src, kind, item, inner, &format!("{here}[]"), out, seen);
                    }
                }
            }
            Unmodelled(instead) if is_set(value) => unmodelled(src, kind, key, here, instead, out, seen),
            Unmodelled(_) => {}
        }
    }
}

/// As [`walk`], with any field not listed accepted.
fn walk_open(
    src: &Source,
    kind: &'static str,
    node: &YNode,
    fields: &[(&'static str, F)],
    path: &str,
    out: &mut Findings,
    seen: &mut Vec<String>,
) {
    let Shape::Map(entries) = &node.shape else { return };
    for (key, value) in entries {
        let Some(name) = key.as_str() else { continue };
        if let Some((_, Unmodelled(instead))) = fields.iter().find(|(n, _)| *n == name)
            && is_set(value)
        {
            unmodelled(src, kind, key, format!("{path}.{name}"), instead, out, seen);
        }
    }
}

fn unmodelled(
    src: &Source,
    kind: &'static str,
    key: &YNode,
    path: String,
    instead: &'static str,
    out: &mut Findings,
    seen: &mut Vec<String>,
) {
    if seen.contains(&path) {
        return;
    }
    seen.push(path.clone());
    let pos = src.pos_of(key.start);
    let entry = out.unmodelled.entry((kind, path)).or_insert((0, pos, instead));
    entry.0 += 1;
}

/// The warning (or, under `--strict`, the error) for `n` objects of a skipped kind.
pub(crate) fn skipped_kind_message(kind: &str, n: usize, why: &str) -> String {
    let objects = if n == 1 { format!("1 {kind}") } else { format!("{n} {kind} objects") };
    format!("skipped {objects}, a kind podlab does not model: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind's fields are unique, so a lookup finds the one meant.
    #[test]
    fn field_names_are_unique_per_object() {
        fn unique(fields: &[(&str, F)], depth: u32) {
            let mut names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{names:?}");
            for (_, f) in fields {
                if let Obj(inner) | List(inner) | OpenList(inner) = f
                    && depth < 8
                {
                    unique(inner, depth + 1);
                }
            }
        }
        for kind in ["Node", "Pod", "Deployment", "ReplicaSet", "Job", "Service", "PodGroup", "PriorityClass"] {
            unique(fields_of(kind).expect("a schema"), 0);
        }
    }
}
