//! Bad scenario files get a clear error naming the file, line and column of the fault, with a
//! caret under it; the command line exits with code 2 and never panics.

mod common;

use common::{podlab, scenario_file};
use podlab::scenario::LoadError;

/// The 1-based line and column of the `nth` occurrence of `needle` in `text`.
fn position(text: &str, needle: &str, nth: usize) -> (u32, u32) {
    let at = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("`{needle}` not in the text")).0;
    let before = &text[..at];
    let line = before.matches('\n').count() as u32 + 1;
    let col = before.rsplit('\n').next().unwrap().chars().count() as u32 + 1;
    (line, col)
}

/// Loads `text`, expects an error at the `nth` `needle`, whose message contains `why`.
fn assert_error(text: &str, needle: &str, nth: usize, why: &str) {
    let err = match podlab::load_str("bad.yaml", text) {
        Ok(_) => panic!("expected an error about `{needle}` in:\n{text}"),
        Err(e) => e,
    };
    let d = err.diagnostic().unwrap_or_else(|| panic!("not a positioned error: {err}"));
    let (line, col) = position(text, needle, nth);
    assert_eq!((d.pos.line, d.pos.col), (line, col), "wrong place for: {err}");
    assert!(
        d.message.contains(why) || d.help.as_deref().is_some_and(|h| h.contains(why)),
        "message lacks `{why}`: {err}"
    );
    let rendered = err.to_string();
    assert!(rendered.contains(&format!("bad.yaml:{line}:{col}")), "{rendered}");
    assert!(rendered.contains('^'), "no caret: {rendered}");
}

const NODE: &str =
    "apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\nstatus: {allocatable: {cpu: \"2\", memory: 2Gi}}\n";

fn pod_with(requests: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n    resources:\n      requests: {requests}\n"
    )
}

fn sim(spec: &str) -> String {
    format!("{NODE}---\napiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: s}}\nspec:\n{spec}")
}

/// Malformed YAML is reported where the parser stopped.
#[test]
fn malformed_yaml() {
    let text = "apiVersion: v1\nkind: Node\nmetadata: {name: a\nstatus: [\n";
    let err = podlab::load_str("bad.yaml", text).unwrap_err();
    let d = err.diagnostic().expect("positioned");
    assert!(d.message.starts_with("malformed YAML"), "{err}");
    assert!(d.pos.line >= 3, "{err}");
}

/// A kind podlab does not know is named, with what it does read (a Kubernetes kind it does
/// not model is skipped with a warning instead: `tests/real_dump.rs`).
#[test]
fn unknown_kind() {
    let text = "apiVersion: example.com/v1\nkind: Frobnicator\nmetadata: {name: web}\n";
    assert_error(text, "Frobnicator", 0, "unknown kind");
    let text = "apiVersion: v1\nkind: Servise\nmetadata: {name: web}\n";
    assert_error(text, "Servise", 0, "did you mean `Service`");
}

/// Kubernetes kinds are checked as `kubectl --validate=strict` checks them: a misspelt field of
/// a Job or a PodGroup — which would silently change the experiment — is an error at the
/// field, with the field meant.
#[test]
fn typos_in_kubernetes_fields() {
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  completion: 6\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c}]\n";
    assert_error(job, "completion", 0, "did you mean `completions`");
    let group =
        "apiVersion: scheduling.x-k8s.io/v1alpha1\nkind: PodGroup\nmetadata: {name: g}\nspec: {minMembers: 4}\n";
    assert_error(group, "minMembers", 0, "did you mean `minMember`");
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, resource: {requests: {cpu: 1}}}]\n";
    assert_error(pod, "resource", 0, "did you mean `resources`");
}

/// Every unknown kind and field is reported in one go, each at its place.
#[test]
fn every_unknown_field_at_once() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, lables: {a: b}}\nspec:\n  containers: [{name: c}]\n  nodeSelecter: {a: b}\n---\napiVersion: v1\nkind: Servise\nmetadata: {name: s}\n";
    let err = podlab::load_str("bad.yaml", text).unwrap_err();
    let errors: Vec<String> = err.diagnostics().iter().map(|d| d.message.clone()).collect();
    assert_eq!(
        errors,
        [
            "unknown field `metadata.lables` in Pod",
            "unknown field `spec.nodeSelecter` in Pod",
            "unknown kind `Servise`"
        ]
    );
    let rendered = err.to_string();
    assert!(rendered.ends_with("3 errors, 0 warnings"), "{rendered}");
    assert!(rendered.contains("bad.yaml:3:21") && rendered.contains("bad.yaml:6:3"), "{rendered}");
}

/// podlab's own kinds are strict: a misspelt field is an error at the field.
#[test]
fn unknown_field_in_simulation() {
    assert_error(&sim("  seeed: 42\n"), "seeed", 0, "unknown field");
    assert_error(&sim("  expect:\n  - pods: {}\n    polcy: kubernetes\n"), "polcy", 0, "unknown field");
}

/// Bad, negative and absurd quantities point at the value.
#[test]
fn bad_quantities() {
    assert_error(&pod_with("{memory: 1Gb}"), "1Gb", 0, "unknown suffix");
    assert_error(&pod_with("{cpu: \"-1\"}"), "\"-1\"", 0, "negative");
    assert_error(&pod_with("{memory: 2Ei}"), "2Ei", 0, "absurdly large");
    assert_error(&pod_with("{cpu: lots}"), "lots", 0, "not a quantity");
    assert_error(&pod_with("{nvidia.com/gpu: 0.5}"), "0.5", 0, "whole units");
}

/// A second object with the same name is an error at the second name, pointing to the first.
#[test]
fn duplicate_names() {
    let text = format!("{NODE}---\n{NODE}");
    assert_error(&text, "node-a", 1, "duplicate Node `node-a`");
    assert_error(&text, "node-a", 1, "line 3");
}

/// A pod naming a PodGroup the scenario does not have is an error at the label's value.
#[test]
fn missing_pod_group() {
    let text = format!(
        "{NODE}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: app\n  labels:\n    scheduling.x-k8s.io/pod-group: ghost\nspec:\n  containers: [{{name: app}}]\n"
    );
    assert_error(&text, "ghost", 0, "pod group `ghost`");
}

/// A policy that does not exist is an error at its name, listing the ones that do.
#[test]
fn unknown_policy() {
    assert_error(&sim("  policies: [kubernetes, kuberentes]\n"), "kuberentes", 0, "unknown policy");
    assert_error(&sim("  policies: [omega-typo]\n"), "omega-typo", 0, "per-container, kubernetes");
}

/// Errors inside the items of a `kind: List`, flow or block style, keep their true position.
#[test]
fn errors_inside_list_items() {
    let flow = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Node, metadata: {name: a}, status: {allocatable: {cpu: 2x}}}\n";
    assert_error(flow, "2x", 0, "unknown suffix");
    let block = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata: {name: a}\n  status:\n    allocatable:\n      memory: 12XB\n";
    assert_error(block, "12XB", 0, "unknown suffix");
}

/// Everything else a user can get wrong names its place too.
#[test]
fn other_mistakes() {
    assert_error(
        "apiVersion: v1\nkind: Node\nmetadata: {labels: {a: b}}\nstatus: {capacity: {cpu: 1}}\n",
        "apiVersion",
        0,
        "no metadata.name",
    );
    assert_error("apiVersion: v1\nkind: Node\nmetadata: {name: Node_A}\n", "Node_A", 0, "not a valid Node name");
    assert_error("apiVersion: v1\nkind: Node\nmetadata: {name: a}\n", "a}", 0, "no status.allocatable");
    assert_error("apiVersion: v2\nkind: Pod\n", "v2", 0, "apiVersion `v2`");
    assert_error(&sim("  duration: 30\n"), "30", 0, "no unit");
    assert_error(&sim("  timeline: [{at: 5s, create: [Pod/nobody]}]\n"), "Pod/nobody", 0, "not in this scenario");
    assert_error(&sim("  seed: -3\n"), "-3", 0, "");
    assert_error(&sim("  expect: [{pods: {ghost: {phase: Running}}}]\n"), "{phase", 0, "pod `ghost`");
    assert_error(&sim("  expect: [{pods: {}}]\n"), "{pods", 0, "checks nothing");
    assert_error(&sim("  scheduler: {scoringStrategy: Random}\n"), "Random", 0, "unknown scoring strategy");
    assert_error(&format!("{NODE}---\n- just\n- a list\n"), "- just", 0, "expected a Kubernetes object");
    assert_error(
        &format!("{}---\n{}", sim(""), sim("").split("---\n").nth(1).unwrap()),
        "apiVersion: podlab",
        1,
        "at most one Simulation",
    );
}

/// Invalid UTF-8 is reported at the first bad byte.
#[test]
fn invalid_utf8() {
    let mut bytes = b"apiVersion: v1\nkind: Node\nmetadata: {name: \"".to_vec();
    bytes.extend([0xff, 0xfe]);
    let err = podlab::scenario::parse_bytes(
        "bad.yaml",
        bytes,
        podlab::scenario::LoadOptions { known_policies: &[], allow_paths_outside: false },
    )
    .unwrap_err();
    let d = err.diagnostic().unwrap();
    assert_eq!((d.pos.line, d.pos.col), (3, 19));
    assert!(d.message.contains("UTF-8"));
}

/// Nesting is bounded, so no input can exhaust the stack.
#[test]
fn deep_nesting_is_refused() {
    let text = format!("apiVersion: v1\nkind: Node\nmetadata: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let err = podlab::load_str("bad.yaml", &text).unwrap_err().to_string();
    assert!(err.contains("nesting deeper than") || err.contains("recursion limit"), "{err}");
    assert!(err.len() < 1000, "the message shows a window of the line, not all of it: {err}");
}

/// The command line prints the positioned error and exits with code 2; a missing file too.
#[test]
fn cli_exit_code_two() {
    let (dir, file) = scenario_file("bad", pod_with("{memory: 1Gb}"));
    for args in [
        vec!["run", file.to_str().unwrap()],
        vec!["validate", file.to_str().unwrap()],
        vec!["run", "/no/such/file.yaml"],
    ] {
        let out = podlab(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        if args[1] != "/no/such/file.yaml" {
            assert!(stderr.contains("bad.yaml:9:"), "{stderr}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let _ = LoadError::Io { path: String::new(), source: std::io::Error::other("unused") };
}

/// The control plane's failure settings and fault processes are checked where they are
/// written: a fault with both `at:` and `every:`, a process with no end, a pool or selector
/// that names nothing, rates out of range, a `scheduler:` on the wrong kind, and an
/// expectation counting a record kind that does not exist.
#[test]
fn fault_process_and_control_plane_errors() {
    let cp = "  controlPlane: {}\n";
    let every = "every: {distribution: exponential, mean: 5m}";
    assert_error(
        &sim(&format!("{cp}  duration: 1h\n  faults:\n  - {{type: NodeCrash, at: 1m, {every}, nodes: [node-a]}}\n")),
        "1m",
        0,
        "not both",
    );
    assert_error(
        &sim(&format!("{cp}  faults:\n  - {{type: NodeCrash, {every}, nodes: [node-a]}}\n")),
        "NodeCrash",
        0,
        "until",
    );
    assert_error(
        &sim(&format!("{cp}  duration: 1h\n  faults:\n  - {{type: NodeCrash, {every}, pool: workers}}\n")),
        "workers",
        0,
        "no node pool named `workers`",
    );
    assert_error(
        &sim(&format!("{cp}  duration: 1h\n  faults:\n  - {{type: Partition, {every}, nodeSelector: {{zone: b}}}}\n")),
        "{zone: b}",
        0,
        "no node of this scenario",
    );
    assert_error(
        &sim(&format!(
            "{cp}  faults:\n  - {{type: NodeCrash, at: 1m, nodes: [node-a], recovery: {{distribution: constant, value: 1m}}}}\n"
        )),
        "constant",
        0,
        "random process",
    );
    assert_error(&sim("  controlPlane: {watchDropRate: 0.9}\n"), "0.9", 0, "watchDropRate is a fraction from 0 to 0.5");
    assert_error(
        &sim(&format!("{cp}  faults:\n  - {{type: ApiServerBrownout, at: 1m, lasting: 1m, throttleRate: 1.5}}\n")),
        "1.5",
        0,
        "throttleRate",
    );
    assert_error(
        &sim(&format!("{cp}  faults:\n  - {{type: ControllerManagerCrash, at: 1m, scheduler: kube}}\n")),
        "kube",
        0,
        "ControllerManagerCrash has none",
    );
    assert_error(&sim(&format!("{cp}  faults:\n  - {{type: NodeCrash}}\n")), "NodeCrash", 0, "needs `at: 5m`");
    assert_error(&sim("  expect:\n  - events: {relistd: {min: 1}}\n"), "{min: 1}", 0, "unknown record kind `relistd`");
}

/// A fault process over a pool and the new control-plane settings load into their values.
#[test]
fn fault_process_and_control_plane_settings_load() {
    let text =
        sim("  duration: 1h\n  controlPlane: {watchDropRate: 0.1, watchTimeout: 1m, listLatencyPerObject: 1ms, \
         apiServer: {requestTimeout: 5s}}\n  nodePools: [{name: w, count: 3, cpu: '1', memory: 1Gi}]\n  faults:\n  \
         - {type: NodeCrash, every: {distribution: constant, value: 10m}, pool: w, until: 45m}\n  - {type: \
         SchedulerCrash, at: 1m, restartAfter: 10s, scheduler: kubernetes}\n");
    let s = podlab::load_str("ok.yaml", &text).unwrap();
    let c = s.control_plane.as_ref().unwrap();
    assert_eq!(c.watch_drop_rate, 0.1);
    assert_eq!(c.watch_timeout, podlab::cluster::SimDuration::from_secs(60));
    assert_eq!(c.list_per_object, podlab::cluster::SimDuration::from_millis(1));
    assert_eq!(c.request_timeout, podlab::cluster::SimDuration::from_secs(5));
    assert_eq!(s.fault_processes.len(), 1);
    assert_eq!(s.fault_processes[0].nodes.len(), 3);
    // Every 10 minutes until 45 would be four crashes; with no recovery each keeps its node
    // down, so the fourth finds all three down and is skipped.
    let faults = podlab::scenario::instantiate(&s, 1).unwrap().faults;
    let crashed: std::collections::BTreeSet<_> = faults
        .iter()
        .filter_map(|f| match f {
            podlab::cluster::config::Fault::NodeCrash { node, .. } => Some(*node),
            _ => None,
        })
        .collect();
    assert_eq!(crashed.len(), 3, "{faults:?}");
    assert_eq!(faults.len(), 4, "{faults:?}");
    assert!(faults.iter().any(|f| matches!(
        f,
        podlab::cluster::config::Fault::ComponentCrash { name: Some(n), .. } if n == "kubernetes"
    )));
}

/// What kube-scheduler reads is strict too: pods' scheduling terms, the new kinds and a
/// scenario's KubeSchedulerConfiguration point at the fault.
#[test]
fn kube_scheduler_inputs_are_located() {
    let affinity = |rule: &str| {
        format!(
            "{NODE}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: app, labels: {{app: web}}}}\nspec:\n  containers: [{{name: app}}]\n  affinity:\n{rule}"
        )
    };
    let weighted = "    podAntiAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - weight: 0\n        podAffinityTerm: {topologyKey: kubernetes.io/hostname}\n";
    assert_error(&affinity(weighted), "0\n", 0, "weight 0 is out of range");
    let typo = "    nodeAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - {weight: 1, preferance: {}}\n";
    assert_error(&affinity(typo), "preferance", 0, "did you mean `preference`");
    let pdb = format!(
        "{NODE}---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: b}}\nspec: {{minAvailable: 1, maxUnavailable: \"10%\"}}\n"
    );
    assert_error(&pdb, "\"10%\"", 0, "cannot both be set");
    let config = format!(
        "{NODE}---\napiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- pluginConfig:\n  - {{name: NodeResourcesFit, args: {{scoringStrategy: {{type: MostAllocated, resources: [{{name: cpu, weight: 0}}, {{name: cpu}}]}}}}}}\n"
    );
    assert_error(&config, "cpu}", 0, "listed twice");
}
