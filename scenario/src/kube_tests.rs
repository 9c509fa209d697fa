//! Loader tests for what kube-scheduler's default profile reads: pods' scheduling terms,
//! nodes' images, PriorityClasses' preemption policy, and the objects of `Scenario::kube`.

use std::collections::BTreeMap;

use crate::affinity::{HostPort, InclusionPolicy, OwnerRef, PreemptionPolicy, WhenUnsatisfiable};
use crate::objects::{SelectorOp, SelectorRequirement};
use crate::{LoadError, LoadOptions, parse};
use podlab_cluster::scenario::Scenario;

fn load(text: &str) -> Result<Scenario, LoadError> {
    parse("t.yaml", text, LoadOptions { known_policies: &["kubernetes"], allow_paths_outside: false })
}

/// The error's line, column and text; panics when the text loads.
fn error(text: &str) -> (u32, u32, String) {
    match load(text) {
        Ok(_) => panic!("expected an error in:\n{text}"),
        Err(e) => {
            let d = e.diagnostic().unwrap_or_else(|| panic!("not positioned: {e}"));
            (d.pos.line, d.pos.col, e.to_string())
        }
    }
}

/// The 1-based line and column where `needle` first occurs.
fn at(text: &str, needle: &str) -> (u32, u32) {
    let i = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in the text"));
    let before = &text[..i];
    (before.matches('\n').count() as u32 + 1, before.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1)
}

fn assert_error_at(text: &str, needle: &str, why: &str) {
    let (line, col, rendered) = error(text);
    assert_eq!((line, col), at(text, needle), "wrong place: {rendered}");
    assert!(rendered.contains(why), "`{why}` not in: {rendered}");
}

const NODE: &str =
    "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {allocatable: {cpu: \"4\", memory: 8Gi}}\n---\n";

/// A pod document with `spec` lines (indented two spaces) after one container.
fn pod(labels: &str, spec: &str) -> String {
    format!(
        "{NODE}apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {labels}\nspec:\n  containers:\n  - name: c\n{spec}"
    )
}

fn req(key: &str, op: SelectorOp, values: &[&str]) -> SelectorRequirement {
    SelectorRequirement { key: key.into(), op, values: values.iter().map(|v| v.to_string()).collect() }
}

#[test]
fn inter_pod_affinity_is_read_and_label_keys_merged() {
    let text = pod(
        "{app: web, tier: front, rev: r1}",
        "  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        topologyKey: topology.kubernetes.io/zone
        matchLabelKeys: [tier, missing]
        mismatchLabelKeys: [rev]
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 30
        podAffinityTerm:
          labelSelector: {matchExpressions: [{key: app, operator: In, values: [cache]}]}
          namespaces: [other]
          namespaceSelector: {}
          topologyKey: kubernetes.io/hostname
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchExpressions: [{key: app, operator: Exists}]}
        topologyKey: kubernetes.io/hostname
",
    );
    let s = load(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let terms = s.pods.get(podlab_cluster::PodId(0)).terms.clone().expect("the pod has terms");
    let required = &terms.pod_affinity_required[0];
    let selector = required.label_selector.as_ref().expect("a selector");
    assert_eq!(selector.match_labels, BTreeMap::from([("app".to_string(), "db".to_string())]));
    // matchLabelKeys → In (value); a key the pod lacks adds nothing; mismatchLabelKeys → NotIn.
    assert_eq!(
        selector.match_expressions,
        vec![req("tier", SelectorOp::In, &["front"]), req("rev", SelectorOp::NotIn, &["r1"])]
    );
    assert_eq!(required.match_label_keys, vec!["tier", "missing"]);
    assert_eq!(required.topology_key, "topology.kubernetes.io/zone");
    let preferred = &terms.pod_affinity_preferred[0];
    assert_eq!(preferred.weight, 30);
    assert_eq!(preferred.term.namespaces, vec!["other"]);
    assert_eq!(preferred.term.namespace_selector, Some(Default::default()), "an empty selector is kept");
    assert_eq!(terms.pod_anti_affinity_required.len(), 1);
    assert!(terms.pod_anti_affinity_preferred.is_empty());
}

#[test]
fn preferred_node_affinity_ports_spread_and_owner() {
    let text = pod(
        "{app: web, pod-template-hash: h1}",
        "    ports:
    - {containerPort: 80, hostPort: 8080}
    - {containerPort: 53, hostPort: 53, protocol: UDP, hostIP: 10.0.0.1}
    - {containerPort: 9090}
  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 7
        preference: {matchExpressions: [{key: disk, operator: In, values: [ssd]}]}
  topologySpreadConstraints:
  - maxSkew: 2
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    labelSelector: {matchLabels: {app: web}}
    minDomains: 3
    nodeTaintsPolicy: Honor
    matchLabelKeys: [pod-template-hash]
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
",
    )
    .replace(
        "  name: p\n",
        "  name: p\n  ownerReferences:\n  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-h1, uid: x, controller: true}\n",
    );
    let s = load(&text).unwrap_or_else(|e| panic!("{e}"));
    let terms = s.pods.get(podlab_cluster::PodId(0)).terms.clone().expect("terms");
    assert_eq!(terms.preferred_node_affinity[0].weight, 7);
    assert_eq!(
        terms.preferred_node_affinity[0].preference.match_expressions,
        vec![req("disk", SelectorOp::In, &["ssd"])]
    );
    assert_eq!(
        terms.host_ports,
        vec![
            HostPort { protocol: "TCP".into(), ip: "0.0.0.0".into(), port: 8080 },
            HostPort { protocol: "UDP".into(), ip: "10.0.0.1".into(), port: 53 },
        ]
    );
    let hard = &terms.topology_spread[0];
    assert_eq!(
        (hard.max_skew, hard.when_unsatisfiable, hard.min_domains),
        (2, WhenUnsatisfiable::DoNotSchedule, Some(3))
    );
    assert_eq!((hard.node_affinity_policy, hard.node_taints_policy), (None, Some(InclusionPolicy::Honor)));
    let merged = &hard.label_selector.as_ref().expect("selector").match_expressions;
    assert_eq!(merged, &vec![req("pod-template-hash", SelectorOp::In, &["h1"])], "v1.35's API server merges them");
    assert_eq!(terms.topology_spread[1].label_selector, None);
    assert_eq!(
        terms.controller,
        Some(OwnerRef { api_version: "apps/v1".into(), kind: "ReplicaSet".into(), name: "web-h1".into() })
    );
}

#[test]
fn a_plain_pod_has_no_terms() {
    let s = load(&pod("{app: web}", "")).unwrap_or_else(|e| panic!("{e}"));
    let p = s.pods.get(podlab_cluster::PodId(0));
    assert!(p.terms.is_none());
    assert_eq!(p.preemption_policy, PreemptionPolicy::PreemptLowerPriority);
}

#[test]
fn node_images_are_read() {
    let text = "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus:\n  allocatable: {cpu: \"4\"}\n  images:\n  - {names: [\"nginx:1.27\", \"docker.io/library/nginx:1.27\"], sizeBytes: 70000000}\n  - {names: []}\n";
    let s = load(text).unwrap_or_else(|e| panic!("{e}"));
    let images = &s.nodes[0].images;
    assert_eq!(images.len(), 2);
    assert_eq!(images[0].names[1], "docker.io/library/nginx:1.27");
    assert_eq!((images[0].size_bytes, images[1].size_bytes), (70_000_000, 0));
    let bad = text.replace("70000000", "-1");
    assert_error_at(&bad, "-1", "negative");
}

#[test]
fn preemption_policy_comes_from_the_pod_or_its_class() {
    let classes = "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: never}\nvalue: 10\npreemptionPolicy: Never\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: dflt}\nvalue: 5\nglobalDefault: true\npreemptionPolicy: Never\n---\n";
    let pod = |name: &str, spec: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers: [{{name: c}}]\n{spec}---\n"
        )
    };
    let text = format!(
        "{NODE}{classes}{}{}{}{}{}",
        pod("by-class", "  priorityClassName: never\n"),
        pod("own", "  priorityClassName: never\n  preemptionPolicy: PreemptLowerPriority\n"),
        pod("by-default", ""),
        pod("absent-class", "  priorityClassName: gone\n  priority: 7\n"),
        pod("stated", "  priority: 3\n"),
    );
    let s = load(&text).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(i32, PreemptionPolicy)> = s.pods.iter().map(|p| (p.priority, p.preemption_policy)).collect();
    use PreemptionPolicy::{Never, PreemptLowerPriority as Lower};
    assert_eq!(got, vec![(10, Never), (10, Lower), (5, Never), (7, Lower), (3, Never)]);
    let bad = text.replace(
        "preemptionPolicy: Never\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: dflt}",
        "preemptionPolicy: never\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: dflt}",
    );
    assert_error_at(&bad, "never\n", "did you mean `Never`");
}

#[test]
fn bad_terms_are_located() {
    let affinity = |term: &str| {
        pod(
            "{app: web}",
            &format!(
                "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n      - {term}\n"
            ),
        )
    };
    assert_error_at(&affinity("{labelSelector: {matchLabels: {app: db}}}"), "{labelSelector", "no topologyKey");
    assert_error_at(
        &affinity("{labelSelector: {matchExpressions: [{key: app, operator: Gt, values: [\"1\"]}]}, topologyKey: k}"),
        "Gt",
        "node labels only",
    );
    assert_error_at(
        &affinity("{labelSelector: {matchExpressions: [{key: app, operator: in, values: [a]}]}, topologyKey: k}"),
        "in,",
        "did you mean `In`",
    );
    assert_error_at(
        &affinity("{labelSelector: {matchExpressions: [{key: app, operator: In}]}, topologyKey: k}"),
        "In}",
        "needs `values`",
    );
    assert_error_at(
        &affinity("{labelSelector: {matchExpressions: [{key: app, operator: Exists, values: [a]}]}, topologyKey: k}"),
        "a]",
        "takes no `values`",
    );
    assert_error_at(
        &affinity("{labelSelector: {matchLabels: {app: web}}, topologyKey: k, matchLabelKeys: [app]}"),
        "app]",
        "both matchLabelKeys and labelSelector",
    );
    assert_error_at(&affinity("{topologyKey: k, matchLabelKeys: [app]}"), "app]", "need a labelSelector");
    assert_error_at(&affinity("{labelSelector: {}, topologyKey: k, namespaces: [Bad_NS]}"), "Bad_NS", "namespace");
    assert_error_at(&affinity("{labelSelector: {}, topologyKey: \"bad key\"}"), "\"bad key\"", "label key");
    assert_error_at(&affinity("{labelSelector: {}, topologyKy: k}"), "topologyKy", "unknown field");
    let preferred = pod(
        "{}",
        "  affinity:\n    podAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - {weight: 101, podAffinityTerm: {topologyKey: k}}\n",
    );
    assert_error_at(&preferred, "101", "weight 101 is out of range");
    let typo = pod("{}", "  affinity:\n    podAffinty: {}\n");
    assert_error_at(&typo, "podAffinty", "unknown field");
}

#[test]
fn bad_spread_constraints_and_ports_are_located() {
    let tsc = |c: &str| pod("{app: web}", &format!("  topologySpreadConstraints:\n  - {c}\n"));
    assert_error_at(&tsc("{maxSkew: 0, topologyKey: k, whenUnsatisfiable: DoNotSchedule}"), "0,", "greater than zero");
    assert_error_at(
        &tsc("{maxSkew: 1, topologyKey: k, whenUnsatisfiable: DontSchedule}"),
        "DontSchedule",
        "did you mean `DoNotSchedule`",
    );
    assert_error_at(
        &tsc("{maxSkew: 1, topologyKey: k, whenUnsatisfiable: ScheduleAnyway, minDomains: 2}"),
        "2}",
        "only to whenUnsatisfiable `DoNotSchedule`",
    );
    assert_error_at(
        &tsc("{maxSkew: 1, topologyKey: k, whenUnsatisfiable: DoNotSchedule, nodeAffinityPolicy: honor}"),
        "honor",
        "did you mean `Honor`",
    );
    let twice = pod(
        "{}",
        "  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: k, whenUnsatisfiable: DoNotSchedule}\n  - {maxSkew: 2, topologyKey: k2, whenUnsatisfiable: DoNotSchedule}\n  - {maxSkew: 2, topologyKey: k, whenUnsatisfiable: DoNotSchedule}\n",
    );
    let (line, _, rendered) = error(&twice);
    assert_eq!(line, 17, "{rendered}");
    assert!(rendered.contains("a second constraint"), "{rendered}");
    let ports = |p: &str| pod("{}", &format!("    ports:\n{p}"));
    assert_error_at(&ports("    - {containerPort: 80, hostPort: 70000}\n"), "70000", "not a port");
    assert_error_at(&ports("    - {containerPort: 80, protocol: tcp}\n"), "tcp", "did you mean `TCP`");
    assert_error_at(&ports("    - {containerPort: 80, hostPort: 1, hostIP: nowhere}\n"), "nowhere", "not an IP");
    let (line, col, rendered) =
        error(&ports("    - {containerPort: 80, hostPort: 8080}\n    - {containerPort: 81, hostPort: 8080}\n"));
    assert_eq!((line, col), (16, 37), "the second one: {rendered}");
    assert!(rendered.contains("used twice"), "{rendered}");
}

/// Services, ReplicationControllers, StatefulSets, ReplicaSets, Deployments, PDBs and Namespaces
/// land in `Scenario::kube`.
#[test]
fn kube_objects_are_gathered() {
    let text = format!(
        "{NODE}apiVersion: v1
kind: Service
metadata: {{name: web, namespace: shop}}
spec: {{selector: {{app: web}}, ports: [{{port: 80}}], type: ClusterIP}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: shop}}
spec: {{replicas: 0, selector: {{matchLabels: {{app: db}}}}, serviceName: db, template: {{}}}}
---
apiVersion: v1
kind: ReplicationController
metadata: {{name: old}}
spec: {{replicas: 0, template: {{metadata: {{labels: {{app: old}}}}}}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: rs}}
spec:
  replicas: 0
  selector: {{matchExpressions: [{{key: app, operator: In, values: [rs, other]}}]}}
  template:
    metadata: {{labels: {{app: rs}}}}
    spec: {{containers: [{{name: c}}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: dep}}
spec:
  replicas: 0
  template:
    metadata: {{labels: {{app: dep}}}}
    spec: {{containers: [{{name: c}}]}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: pdb, namespace: shop}}
spec: {{minAvailable: \"50%\", selector: {{matchLabels: {{app: web}}}}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: pdb2}}
spec: {{maxUnavailable: 1, selector: {{matchLabels: {{app: rs}}}}}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: shop, labels: {{team: a}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: p, namespace: elsewhere}}
spec: {{containers: [{{name: c}}]}}
"
    );
    let s = load(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let kinds: Vec<(&str, &str, &str)> =
        s.kube.spread_selectors.iter().map(|x| (x.kind.as_str(), x.namespace.as_str(), x.name.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            ("Service", "shop", "web"),
            ("ReplicationController", "default", "old"),
            ("ReplicaSet", "default", "rs"),
            ("Deployment", "default", "dep"),
            ("StatefulSet", "shop", "db"),
        ]
    );
    let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    assert_eq!(s.kube.spread_selectors[0].selector.match_labels, labels(&[("app", "web")]));
    assert_eq!(s.kube.spread_selectors[1].selector.match_labels, labels(&[("app", "old")]), "the template's labels");
    assert_eq!(
        s.kube.spread_selectors[2].selector.match_expressions,
        vec![req("app", SelectorOp::In, &["rs", "other"])]
    );
    assert_eq!(s.kube.spread_selectors[3].selector.match_labels, labels(&[("app", "dep")]), "defaulted");
    use crate::affinity::IntOrPercent;
    assert_eq!((s.kube.pdbs[0].min_available, s.kube.pdbs[0].max_unavailable), (Some(IntOrPercent::Percent(50)), None));
    assert_eq!((s.kube.pdbs[1].min_available, s.kube.pdbs[1].max_unavailable), (None, Some(IntOrPercent::Int(1))));
    assert_eq!(s.kube.namespace_labels["shop"], labels(&[("kubernetes.io/metadata.name", "shop"), ("team", "a")]));
    assert_eq!(s.kube.namespace_labels["elsewhere"], labels(&[("kubernetes.io/metadata.name", "elsewhere")]));
    assert!(s.kube.namespace_labels.contains_key("default"));
}

/// `DefaultSelector`: the Services that select the pod, then its controller's selector.
#[test]
fn default_selector_follows_upstream() {
    use crate::affinity::{KubeObjects, LabelSelector, SpreadSelector};
    use crate::apps::default_selector;
    use crate::objects::Pod;
    let spread = |kind: &str, name: &str, selector: LabelSelector| SpreadSelector {
        namespace: "default".into(),
        kind: kind.into(),
        name: name.into(),
        selector,
    };
    let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let matching = |pairs: &[(&str, &str)]| LabelSelector { match_labels: labels(pairs), match_expressions: vec![] };
    let kube = KubeObjects {
        spread_selectors: vec![
            spread("Service", "svc", matching(&[("app", "web")])),
            spread("Service", "other", matching(&[("app", "db")])),
            spread("ReplicaSet", "rs", matching(&[("app", "web"), ("tier", "a")])),
            spread("Deployment", "dep", matching(&[("app", "web")])),
        ],
        ..Default::default()
    };
    let mut pod = Pod::single("p", Default::default());
    pod.labels = labels(&[("app", "web"), ("tier", "a"), ("pod-template-hash", "h9")]);
    let only_services = default_selector(&kube.spread_selectors, &pod);
    assert_eq!(only_services, matching(&[("app", "web")]), "no controller: the Services' labels");
    pod.owner = Some("rs".into());
    let with_rs = default_selector(&kube.spread_selectors, &pod);
    assert_eq!(
        with_rs.match_expressions,
        vec![req("app", SelectorOp::In, &["web"]), req("tier", SelectorOp::In, &["a"])]
    );
    pod.owner = Some("dep-h9".into());
    let with_dep = default_selector(&kube.spread_selectors, &pod);
    assert_eq!(
        with_dep.match_expressions,
        vec![req("app", SelectorOp::In, &["web"]), req("pod-template-hash", SelectorOp::In, &["h9"])]
    );
    pod.owner = Some("gone".into());
    assert_eq!(
        default_selector(&kube.spread_selectors, &pod),
        only_services,
        "an owner that is not there adds nothing"
    );
}

#[test]
fn bad_kube_objects_are_located() {
    let obj = |body: &str| format!("{NODE}{body}");
    assert_error_at(
        &obj(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: b}\nspec: {minAvailable: 1, maxUnavailable: 2}\n",
        ),
        "2}",
        "cannot both be set",
    );
    assert_error_at(
        &obj("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: b}\nspec: {minAvailable: \"150%\"}\n"),
        "\"150%\"",
        "neither a count nor a percentage",
    );
    assert_error_at(
        &obj("apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: b}\nspec: {}\n"),
        "policy/v1beta1",
        "policy/v1",
    );
    assert_error_at(
        &obj("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec: {replicas: 0}\n"),
        "db}",
        "no spec.selector",
    );
    assert_error_at(
        &obj("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: {app: \"a b\"}}\n"),
        "\"a b\"",
        "not a valid label value",
    );
    assert_error_at(
        &obj("apiVersion: v1\nkind: Namespace\nmetadata: {name: a.b}\n"),
        "a.b",
        "not a valid Namespace name",
    );
    let twice =
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n";
    let (line, _, rendered) = error(&obj(twice));
    assert_eq!(line, 12, "the second one: {rendered}");
    assert!(rendered.contains("duplicate Service `s`"), "{rendered}");
    let rs = |selector: &str| {
        obj(&format!(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: rs}}\nspec:\n  replicas: 0\n  selector: {selector}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: c}}]}}\n"
        ))
    };
    assert_error_at(&rs("{matchLabels: {app: db}}"), "rs}", "does not select its template's labels");
    assert_error_at(&rs("{}"), "rs}", "empty selector");
    let s = load(&obj(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec: {selector: {matchLabels: {app: db}}}\n",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(s.warnings[0].message.contains("does not run the StatefulSet controller"), "{:?}", s.warnings);
}
