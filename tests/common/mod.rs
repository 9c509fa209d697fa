//! What the integration tests share (`mod common;` in each): small fluent builders that write
//! scenario YAML, so tests read like the manifests they make (`pod("app").cpu("500m")`) and go
//! through the real loader; running policies with the invariants checked; and, from [`cli`],
//! running the binary under test in a folder of the test's own.

#![allow(dead_code)] // each test binary uses its own share of these

mod cli;

#[allow(unused_imports)] // each test binary uses its own share of these
pub use cli::{
    PODLAB, assert_bad_input, file_tree, ok, podlab, podlab_command, podlab_command_in, podlab_env, podlab_in, root,
    scenario_file, stderr, stdout, temp_dir, temp_path, text,
};

use std::path::PathBuf;

use podlab::cluster::scenario::Scenario;

pub struct NodeBuilder {
    name: String,
    cpu: String,
    memory: String,
    labels: Vec<(String, String)>,
    taints: Vec<String>,
}

pub fn node(name: &str) -> NodeBuilder {
    NodeBuilder { name: name.into(), cpu: "4".into(), memory: "8Gi".into(), labels: vec![], taints: vec![] }
}

impl NodeBuilder {
    pub fn cpu(mut self, q: &str) -> Self {
        self.cpu = q.into();
        self
    }
    pub fn memory(mut self, q: &str) -> Self {
        self.memory = q.into();
        self
    }
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.labels.push((k.into(), v.into()));
        self
    }
    pub fn taint(mut self, key: &str, effect: &str) -> Self {
        self.taints.push(format!("{{key: {key}, effect: {effect}}}"));
        self
    }
    pub fn yaml(&self) -> String {
        let labels: Vec<String> = self.labels.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: {}, labels: {{{}}}}}\nspec: {{taints: [{}]}}\nstatus: {{allocatable: {{cpu: \"{}\", memory: \"{}\"}}}}\n",
            self.name,
            labels.join(", "),
            self.taints.join(", "),
            self.cpu,
            self.memory
        )
    }
}

pub struct PodBuilder {
    name: String,
    containers: Vec<(String, String, String)>,
    priority: Option<i32>,
    run_for: Option<String>,
    group: Option<String>,
    node_selector: Vec<(String, String)>,
    tolerations: Vec<String>,
}

pub fn pod(name: &str) -> PodBuilder {
    PodBuilder {
        name: name.into(),
        containers: vec![],
        priority: None,
        run_for: None,
        group: None,
        node_selector: vec![],
        tolerations: vec![],
    }
}

impl PodBuilder {
    /// Adds a container; `cpu` and `memory` set the last container added (one is made if none).
    pub fn container(mut self, name: &str) -> Self {
        self.containers.push((name.into(), "100m".into(), "128Mi".into()));
        self
    }
    fn last(&mut self) -> &mut (String, String, String) {
        if self.containers.is_empty() {
            self.containers.push(("main".into(), "100m".into(), "128Mi".into()));
        }
        self.containers.last_mut().unwrap()
    }
    pub fn cpu(mut self, q: &str) -> Self {
        self.last().1 = q.into();
        self
    }
    pub fn memory(mut self, q: &str) -> Self {
        self.last().2 = q.into();
        self
    }
    pub fn priority(mut self, p: i32) -> Self {
        self.priority = Some(p);
        self
    }
    pub fn run_for(mut self, d: &str) -> Self {
        self.run_for = Some(d.into());
        self
    }
    pub fn group(mut self, g: &str) -> Self {
        self.group = Some(g.into());
        self
    }
    pub fn node_selector(mut self, k: &str, v: &str) -> Self {
        self.node_selector.push((k.into(), v.into()));
        self
    }
    pub fn tolerate(mut self, key: &str) -> Self {
        self.tolerations.push(format!("{{key: {key}, operator: Exists}}"));
        self
    }
    pub fn yaml(&self) -> String {
        let mut this = PodBuilder { containers: self.containers.clone(), ..pod(&self.name) };
        this.last();
        let containers: Vec<String> = this
            .containers
            .iter()
            .map(|(n, c, m)| format!("{{name: {n}, resources: {{requests: {{cpu: \"{c}\", memory: \"{m}\"}}}}}}"))
            .collect();
        let mut labels = String::new();
        if let Some(g) = &self.group {
            labels = format!("scheduling.x-k8s.io/pod-group: {g}");
        }
        let annotations = self.run_for.as_ref().map_or(String::new(), |d| format!("podlab.dev/run-for: {d}"));
        let selector: Vec<String> = self.node_selector.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let priority = self.priority.map_or(String::new(), |p| format!(", priority: {p}"));
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {}, labels: {{{labels}}}, annotations: {{{annotations}}}}}\nspec: {{containers: [{}], nodeSelector: {{{}}}, tolerations: [{}]{priority}}}\n",
            self.name,
            containers.join(", "),
            selector.join(", "),
            self.tolerations.join(", ")
        )
    }
}

pub fn group(name: &str, min_member: u32) -> String {
    format!(
        "apiVersion: scheduling.x-k8s.io/v1alpha1\nkind: PodGroup\nmetadata: {{name: {name}}}\nspec: {{minMember: {min_member}}}\n"
    )
}

/// One node, `n`, of 4 CPUs and 8 GiB: the cluster of the command-line tests' scenarios.
pub const ONE_NODE: &str =
    "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {allocatable: {cpu: \"4\", memory: 8Gi}}\n";

/// A scenario's text: [`ONE_NODE`], then a Simulation whose `spec:` holds `spec` (indented
/// lines, the first at line 10 of the file, where the tests' error positions count from).
pub fn one_node_simulation(spec: &str) -> String {
    format!("{ONE_NODE}---\napiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: s}}\nspec:\n{spec}")
}

/// Joins documents into one scenario file's text.
pub fn scenario_text(docs: &[String]) -> String {
    docs.join("---\n")
}

pub fn load(docs: &[String]) -> Scenario {
    let text = scenario_text(docs);
    podlab::load_str("test.yaml", &text).unwrap_or_else(|e| panic!("{e}\n--- scenario ---\n{text}"))
}

/// The bundled scenario `scenarios/<name>` (`name` may name a subfolder: `paper/…`), loaded.
pub fn bundled(name: &str) -> Scenario {
    let path = root().join("scenarios").join(name);
    podlab::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every scenario file shipped in `scenarios/`, its subfolders included — but
/// `scenarios/traces/`, whose scenarios `tests/trace_import.rs` runs on a small slice.
pub fn bundled_scenarios() -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("scenarios/ exists") {
            let path = entry.unwrap().path();
            // Trace scenarios read files outside their folder and are too big to run whole in
            // debug tests: tests/trace_import.rs runs them on a small slice.
            if path.is_dir() && path.ends_with("traces") {
                continue;
            }
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "yaml") {
                out.push(path);
            }
        }
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files = Vec::new();
    walk(&dir, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no scenario in {}", dir.display());
    files
}

/// Whether a bundled scenario is a lesson (top level of `scenarios/`, with `expect:` lines)
/// rather than an experiment (a subfolder, measured by its own tests).
pub fn is_lesson(path: &std::path::Path) -> bool {
    path.parent().is_some_and(|p| p.ends_with("scenarios"))
}

/// Runs a policy with the invariant checker on, failing the test on any violation.
pub fn run_checked(scenario: &Scenario, policy: &str, seed: u64) -> podlab::PolicyRun {
    let run = podlab::run_policy(scenario, policy, seed, true).expect("known policy");
    assert!(run.sim.violations.is_empty(), "{policy}: invariants violated: {:#?}", run.sim.violations);
    run
}

/// Where the run placed a pod: the node names of its parts, in node-id order.
pub fn nodes_of(_scenario: &Scenario, run: &podlab::PolicyRun, pod: &str) -> Vec<String> {
    let scenario = &*run.scenario;
    let outcomes = podlab::reports::Outcomes::replay(scenario, &run.sim.records, run.sim.end);
    let id = scenario.pod_named(pod).expect("pod exists");
    outcomes.pods[id.index()].nodes().iter().map(|n| scenario.nodes[n.index()].name.clone()).collect()
}
