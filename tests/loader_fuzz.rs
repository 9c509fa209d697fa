//! Property tests of the scenario loader: random documents built from the real schema's pieces
//! (Node, Pod, PodGroup in three dialects, Workload, PriorityClass, List, Simulation with all
//! its sections), mutated (wrong types, missing and unknown fields, bad quantities and
//! durations, unknown kinds, deep nesting, random bytes), never make `load_str` panic or hang,
//! and every error points inside the file.
//!
//! Then the files a scenario names: traces and distributions that are FIFOs, devices,
//! directories or gzip of several members, and edge numbers in every numeric field of SWF,
//! prefill, distribution and OpenB files — loaded or refused at a position, never a hang, a
//! panic or a wrapped number.
//!
//! Cases: 256 per property in CI; `PODLAB_FUZZ_CASES=N` runs more.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::select;

use podlab::scenario::{LoadError, LoadOptions, parse_bytes};

/// A YAML value: enough to write every scenario shape, block or flow style.
#[derive(Clone, Debug)]
enum Y {
    S(String),
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
}

fn s(text: &str) -> Y {
    Y::S(text.to_string())
}

fn map(entries: Vec<(&str, Y)>) -> Y {
    Y::Map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// A scalar as YAML writes it: plain when safe, double-quoted otherwise.
fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '/'))
        && !text.starts_with(['-', '.']);
    if plain { text.to_string() } else { format!("{text:?}") }
}

impl Y {
    fn flow(&self, out: &mut String) {
        match self {
            Y::S(t) => out.push_str(&scalar(t)),
            Y::Seq(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.flow(out);
                }
                out.push(']');
            }
            Y::Map(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&scalar(k));
                    out.push_str(": ");
                    v.flow(out);
                }
                out.push('}');
            }
        }
    }

    /// Block style down to `flow_below` levels of nesting, flow style deeper.
    fn block(&self, out: &mut String, indent: usize, flow_below: usize) {
        let pad = " ".repeat(indent);
        match self {
            Y::Map(entries) if !entries.is_empty() && flow_below > 0 => {
                for (k, v) in entries {
                    out.push_str(&pad);
                    out.push_str(&scalar(k));
                    out.push(':');
                    match v {
                        Y::Map(e) if !e.is_empty() && flow_below > 1 => {
                            out.push('\n');
                            v.block(out, indent + 2, flow_below - 1);
                        }
                        Y::Seq(e) if !e.is_empty() && flow_below > 1 => {
                            out.push('\n');
                            v.block(out, indent, flow_below - 1);
                        }
                        _ => {
                            out.push(' ');
                            v.flow(out);
                            out.push('\n');
                        }
                    }
                }
            }
            Y::Seq(items) if !items.is_empty() && flow_below > 0 => {
                for v in items {
                    out.push_str(&pad);
                    out.push_str("- ");
                    v.flow(out);
                    out.push('\n');
                }
            }
            _ => {
                out.push_str(&pad);
                self.flow(out);
                out.push('\n');
            }
        }
    }

    /// Every node in preorder, counted.
    fn size(&self) -> usize {
        1 + match self {
            Y::S(_) => 0,
            Y::Seq(items) => items.iter().map(Y::size).sum(),
            Y::Map(entries) => entries.iter().map(|(_, v)| v.size()).sum(),
        }
    }

    /// The `n`th node in preorder.
    fn nth(&mut self, n: usize) -> Option<&mut Y> {
        if n == 0 {
            return Some(self);
        }
        let mut n = n - 1;
        let children: Vec<&mut Y> = match self {
            Y::S(_) => return None,
            Y::Seq(items) => items.iter_mut().collect(),
            Y::Map(entries) => entries.iter_mut().map(|(_, v)| v).collect(),
        };
        for child in children {
            let size = child.size();
            if n < size {
                return child.nth(n);
            }
            n -= size;
        }
        None
    }
}

// --- The schema's pieces, good values and bad.

fn quantity() -> impl Strategy<Value = String> {
    select(vec![
        "500m",
        "1",
        "2",
        "4",
        "1Gi",
        "1280Mi",
        "0.5Gi",
        "1e3",
        "100M",
        "0",
        "1Gb",
        "-1",
        "2Ei",
        "lots",
        "",
        "1e400",
        "99999999999999999999999",
        "0.0000001",
        ".5",
        "1.5.5",
        "NaN",
        "1Ki",
        "8Ei",
        "0x10",
        "1e-3",
        "∞",
    ])
    .prop_map(String::from)
}

fn duration() -> impl Strategy<Value = String> {
    select(vec![
        "30s",
        "1h30m",
        "1.5s",
        "0s",
        "10ms",
        "1m",
        "100us",
        "30",
        "-5s",
        "1y",
        "99999999999h",
        "1e9h",
        "",
        "1.5.s",
        "18446744073709551615s",
        "9223372036854775807ns",
        "1h-1m",
        "h",
        "0.000000001ns",
    ])
    .prop_map(String::from)
}

fn name() -> impl Strategy<Value = String> {
    let long = "a".repeat(300);
    select(vec![
        "a".to_string(),
        "node-a".into(),
        "n1".into(),
        "app".into(),
        "g".into(),
        "x.y".into(),
        "Node_A".into(),
        "".into(),
        "-a".into(),
        "a-".into(),
        long,
    ])
}

fn integer() -> impl Strategy<Value = String> {
    select(vec![
        "0",
        "1",
        "2",
        "3",
        "100",
        "-1",
        "1000000000000000000",
        "18446744073709551616",
        "1.5",
        "x",
        "1e18",
        "4294967296",
    ])
    .prop_map(String::from)
}

fn policy() -> impl Strategy<Value = String> {
    select(vec!["kubernetes", "per-container", "gang", "mesos", "omega", "monolithic", "kuberentes", ""])
        .prop_map(String::from)
}

/// Any value at all, nested a few levels: the "wrong type" mutation.
fn anything() -> impl Strategy<Value = Y> {
    let leaf = prop_oneof![quantity().prop_map(Y::S), duration().prop_map(Y::S), integer().prop_map(Y::S)];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Y::Seq),
            prop::collection::vec((name(), inner), 0..3).prop_map(Y::Map),
        ]
    })
}

fn resources() -> impl Strategy<Value = Y> {
    (quantity(), quantity(), prop::option::of(quantity())).prop_map(|(cpu, memory, gpu)| {
        let mut e = vec![("cpu".to_string(), Y::S(cpu)), ("memory".to_string(), Y::S(memory))];
        if let Some(gpu) = gpu {
            e.push(("nvidia.com/gpu".into(), Y::S(gpu)));
        }
        Y::Map(e)
    })
}

fn metadata(labels: Vec<(String, Y)>, annotations: Vec<(String, Y)>) -> impl Strategy<Value = Y> {
    name().prop_map(move |n| {
        map(vec![("name", Y::S(n)), ("labels", Y::Map(labels.clone())), ("annotations", Y::Map(annotations.clone()))])
    })
}

fn node_doc() -> impl Strategy<Value = Y> {
    (metadata(vec![("zone".into(), s("a"))], vec![]), resources(), any::<bool>(), any::<bool>()).prop_map(
        |(meta, allocatable, tainted, unschedulable)| {
            let taints = if tainted {
                Y::Seq(vec![map(vec![("key", s("gpu")), ("effect", s("NoSchedule"))])])
            } else {
                Y::Seq(vec![])
            };
            map(vec![
                ("apiVersion", s("v1")),
                ("kind", s("Node")),
                ("metadata", meta),
                ("spec", map(vec![("taints", taints), ("unschedulable", s(&unschedulable.to_string()))])),
                ("status", map(vec![("allocatable", allocatable)])),
            ])
        },
    )
}

fn container() -> impl Strategy<Value = Y> {
    (name(), resources()).prop_map(|(n, r)| map(vec![("name", Y::S(n)), ("resources", map(vec![("requests", r)]))]))
}

fn pod_doc() -> impl Strategy<Value = Y> {
    (
        name(),
        prop::collection::vec(container(), 0..4),
        prop::option::of(container()),
        duration(),
        0..4u8,
        integer(),
        prop::option::of(name()),
    )
        .prop_map(|(n, containers, init, run_for, dialect, priority, node_name)| {
            let mut labels = vec![];
            let annotations = vec![("podlab.dev/run-for".to_string(), Y::S(run_for))];
            let mut spec = vec![
                ("containers", Y::Seq(containers)),
                ("priority", Y::S(priority)),
                ("tolerations", Y::Seq(vec![map(vec![("key", s("gpu")), ("operator", s("Exists"))])])),
                ("nodeSelector", map(vec![("zone", s("a"))])),
            ];
            if let Some(init) = init {
                spec.push(("initContainers", Y::Seq(vec![init])));
            }
            if let Some(node) = node_name {
                spec.push(("nodeName", Y::S(node)));
            }
            let mut annotations = annotations;
            match dialect {
                1 => labels.push(("scheduling.x-k8s.io/pod-group".to_string(), s("g"))),
                2 => annotations.push(("scheduling.k8s.io/group-name".to_string(), s("g"))),
                3 => spec.push((
                    "workloadRef",
                    map(vec![("name", s("w")), ("podGroup", s("g")), ("podGroupReplicaKey", s("0"))]),
                )),
                _ => {}
            }
            map(vec![
                ("apiVersion", s("v1")),
                ("kind", s("Pod")),
                (
                    "metadata",
                    map(vec![("name", Y::S(n)), ("labels", Y::Map(labels)), ("annotations", Y::Map(annotations))]),
                ),
                ("spec", Y::Map(spec.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            ])
        })
}

fn group_doc() -> impl Strategy<Value = Y> {
    (0..4u8, integer(), integer()).prop_map(|(dialect, min, timeout)| match dialect {
        0 => map(vec![
            ("apiVersion", s("scheduling.x-k8s.io/v1alpha1")),
            ("kind", s("PodGroup")),
            ("metadata", map(vec![("name", s("g"))])),
            ("spec", map(vec![("minMember", Y::S(min)), ("scheduleTimeoutSeconds", Y::S(timeout))])),
        ]),
        1 => map(vec![
            ("apiVersion", s("scheduling.volcano.sh/v1beta1")),
            ("kind", s("PodGroup")),
            ("metadata", map(vec![("name", s("g"))])),
            ("spec", map(vec![("minAvailable", Y::S(min)), ("minResources", map(vec![("cpu", s("1"))]))])),
        ]),
        2 => map(vec![
            ("apiVersion", s("scheduling.k8s.io/v1alpha1")),
            ("kind", s("Workload")),
            ("metadata", map(vec![("name", s("w"))])),
            (
                "spec",
                map(vec![(
                    "podGroups",
                    Y::Seq(vec![map(vec![
                        ("name", s("g")),
                        ("policy", map(vec![("gang", map(vec![("minCount", Y::S(min))]))])),
                    ])]),
                )]),
            ),
        ]),
        _ => map(vec![
            ("apiVersion", s("scheduling.k8s.io/v1")),
            ("kind", s("PriorityClass")),
            ("metadata", map(vec![("name", s("high"))])),
            ("value", Y::S(min)),
            ("globalDefault", s("true")),
        ]),
    })
}

fn distribution() -> impl Strategy<Value = Y> {
    (0..5u8, duration(), integer(), integer()).prop_map(|(kind, d, a, b)| match kind {
        0 => map(vec![("distribution", s("constant")), ("value", Y::S(a))]),
        1 => map(vec![("distribution", s("exponential")), ("mean", Y::S(d))]),
        2 => map(vec![("distribution", s("uniform")), ("min", Y::S(a)), ("max", Y::S(b))]),
        3 => map(vec![("distribution", s("empirical")), ("file", s("../../etc/passwd"))]),
        _ => map(vec![("distribution", s("lognormal")), ("mean", Y::S(d))]),
    })
}

fn simulation_doc() -> impl Strategy<Value = Y> {
    (
        (prop::collection::vec(policy(), 0..3), duration(), integer(), duration(), duration()),
        (integer(), quantity(), quantity(), distribution(), distribution(), distribution()),
        (integer(), duration(), integer(), any::<bool>()),
    )
        .prop_map(
            |((policies, d, seed, t_job, t_task), (count, cpu, memory, ia, tasks, run), (n, at, pods, multi))| {
                let mut spec = vec![
                    ("seed", Y::S(seed)),
                    ("duration", Y::S(d.clone())),
                    ("policies", Y::Seq(policies.into_iter().map(Y::S).collect())),
                ];
                spec.extend(policy_sections(&t_job, &t_task, &d, &n, &cpu, multi));
                let pool = map(vec![
                    ("name", s("pool")),
                    ("count", Y::S(count)),
                    ("cpu", Y::S(cpu.clone())),
                    ("memory", Y::S(memory.clone())),
                ]);
                spec.push(("nodePools", Y::Seq(vec![pool])));
                let workload = map(vec![
                    ("jobs", Y::Seq(vec![listed_job(&at, &pods, &cpu, &memory)])),
                    ("generators", Y::Seq(vec![generator(n, ia, tasks.clone(), run, &cpu, &memory)])),
                    ("prefill", prefill(tasks, cpu, memory)),
                ]);
                spec.push(("workload", workload));
                spec.push((
                    "timeline",
                    Y::Seq(vec![map(vec![("at", Y::S(at)), ("create", Y::Seq(vec![s("Pod/app")]))])]),
                ));
                spec.push(("expect", Y::Seq(vec![expectation(pods)])));
                map(vec![
                    ("apiVersion", s("podlab.dev/v1alpha1")),
                    ("kind", s("Simulation")),
                    ("metadata", map(vec![("name", s("fuzz"))])),
                    ("spec", map(spec)),
                ])
            },
        )
}

/// The Simulation's policy sections — `scheduler`, `omega`, `monolithic`, `mesos` — from
/// the decision times, a duration (Mesos's hoarding timeout), a count and a CPU drawn for them.
fn policy_sections(t_job: &str, t_task: &str, d: &str, n: &str, cpu: &str, multi: bool) -> Vec<(&'static str, Y)> {
    let sched = map(vec![("name", s("batch")), ("workload", s("batch")), ("tJob", s(t_job))]);
    let mut framework = sched.clone();
    if let Y::Map(e) = &mut framework {
        e.push(("behaviour".into(), s("hoarding")));
        e.push(("hoardTimeout".into(), s(d)));
    }
    let scheduler = map(vec![("scoringStrategy", s("MostAllocated")), ("tJob", s(t_job)), ("tTask", s(t_task))]);
    let omega = map(vec![
        ("schedulers", Y::Seq(vec![sched])),
        ("conflictDetection", s("coarse")),
        ("transactions", s("all-or-nothing")),
        ("retry", map(vec![("interval", s(t_task)), ("maxAttempts", s(n))])),
    ]);
    let monolithic = map(vec![("multiPath", s(&multi.to_string())), ("batch", map(vec![("tJob", s(t_job))]))]);
    let mesos = map(vec![
        ("frameworks", Y::Seq(vec![framework])),
        ("offerInterval", s(t_task)),
        ("offers", s("per-node")),
        ("minOffer", map(vec![("cpu", s(cpu))])),
    ]);
    vec![("scheduler", scheduler), ("omega", omega), ("monolithic", monolithic), ("mesos", mesos)]
}

/// A listed job of `tasks` pods arriving `at`.
fn listed_job(at: &str, tasks: &str, cpu: &str, memory: &str) -> Y {
    map(vec![("name", s("job")), ("at", s(at)), ("tasks", s(tasks)), ("cpu", s(cpu)), ("memory", s(memory))])
}

/// A workload generator of `count` jobs.
fn generator(count: String, inter_arrival: Y, tasks: Y, run_for: Y, cpu: &str, memory: &str) -> Y {
    map(vec![
        ("name", s("gen")),
        ("count", Y::S(count)),
        ("interArrival", inter_arrival),
        ("tasks", tasks),
        ("runFor", run_for),
        ("cpu", s(cpu)),
        ("memory", s(memory)),
    ])
}

/// A generated prefill to 30% of the cell's CPU.
fn prefill(tasks: Y, cpu: String, memory: String) -> Y {
    map(vec![("cpuUtilisation", s("0.3")), ("tasks", tasks), ("cpu", Y::S(cpu)), ("memory", Y::S(memory))])
}

/// An expectation of a pod's phase and node and of how many of a group's pods are placed.
fn expectation(placed: String) -> Y {
    map(vec![
        ("policy", s("kubernetes")),
        ("pods", map(vec![("app", map(vec![("phase", s("Running")), ("node", s("node-a"))]))])),
        ("groups", map(vec![("g", map(vec![("placed", Y::S(placed))]))])),
    ])
}

fn document() -> impl Strategy<Value = Y> {
    prop_oneof![
        3 => node_doc(),
        3 => pod_doc(),
        2 => group_doc(),
        2 => simulation_doc(),
        1 => prop::collection::vec(prop_oneof![node_doc(), pod_doc()], 0..3).prop_map(|items| map(vec![
            ("apiVersion", s("v1")),
            ("kind", s("List")),
            ("items", Y::Seq(items)),
        ])),
    ]
}

/// A structural change at the `at`th node (modulo the document's size).
#[derive(Clone, Debug)]
enum Mutation {
    Replace(usize, Y),
    Delete(usize),
    AddField(usize, String, Y),
    UnknownKind(String),
    Nest(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), anything()).prop_map(|(at, v)| Mutation::Replace(at, v)),
        2 => any::<usize>().prop_map(Mutation::Delete),
        2 => (any::<usize>(), select(vec!["bogus", "spec", "kind", "apiVersion", "name", "count"]), anything())
            .prop_map(|(at, k, v)| Mutation::AddField(at, k.to_string(), v)),
        1 => select(vec!["Deployment", "", "pod", "List", "Simulation", "Sweep"]).prop_map(|k| Mutation::UnknownKind(k.to_string())),
        1 => (any::<usize>(), 1..300usize).prop_map(|(at, depth)| Mutation::Nest(at, depth)),
    ]
}

fn mutate(doc: &mut Y, m: &Mutation) {
    let size = doc.size();
    match m {
        Mutation::Replace(at, v) => {
            if let Some(node) = doc.nth(at % size) {
                *node = v.clone();
            }
        }
        Mutation::Delete(at) => {
            let victim = at % size;
            // Delete the entry holding the `victim`th node from its parent mapping or list.
            fn delete(y: &mut Y, n: &mut usize) -> bool {
                match y {
                    Y::S(_) => false,
                    Y::Seq(items) => {
                        for i in 0..items.len() {
                            if *n == 0 {
                                items.remove(i);
                                return true;
                            }
                            *n -= 1;
                            if delete(&mut items[i], n) {
                                return true;
                            }
                        }
                        false
                    }
                    Y::Map(entries) => {
                        for i in 0..entries.len() {
                            if *n == 0 {
                                entries.remove(i);
                                return true;
                            }
                            *n -= 1;
                            if delete(&mut entries[i].1, n) {
                                return true;
                            }
                        }
                        false
                    }
                }
            }
            let mut n = victim.saturating_sub(1);
            delete(doc, &mut n);
        }
        Mutation::AddField(at, key, v) => {
            if let Some(Y::Map(entries)) = doc.nth(at % size) {
                entries.push((key.clone(), v.clone()));
            }
        }
        Mutation::UnknownKind(kind) => {
            if let Y::Map(entries) = doc {
                for (k, v) in entries.iter_mut() {
                    if k == "kind" {
                        *v = Y::S(kind.clone());
                    }
                }
            }
        }
        Mutation::Nest(at, depth) => {
            if let Some(node) = doc.nth(at % size) {
                let mut v = node.clone();
                for _ in 0..*depth {
                    v = Y::Seq(vec![v]);
                }
                *node = v;
            }
        }
    }
}

/// A change to the text itself: bytes inserted, removed or cut off.
#[derive(Clone, Debug)]
enum TextMutation {
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    Truncate(usize),
}

fn text_mutation() -> impl Strategy<Value = TextMutation> {
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 1..8),
        select(vec![
            ":",
            "- ",
            "\t",
            "&a ",
            "*a",
            "!!binary ",
            "{",
            "]",
            "---\n",
            "\n  ",
            "'",
            "\"",
            "#",
            "? ",
            "|\n",
            "%YAML 1.2\n",
            "<<: *a\n"
        ])
        .prop_map(|t| t.as_bytes().to_vec()),
    ];
    prop_oneof![
        3 => (any::<usize>(), bytes).prop_map(|(at, b)| TextMutation::Insert(at, b)),
        2 => (any::<usize>(), 1..20usize).prop_map(|(at, n)| TextMutation::Remove(at, n)),
        1 => any::<usize>().prop_map(TextMutation::Truncate),
    ]
}

fn apply_text(bytes: &mut Vec<u8>, m: &TextMutation) {
    let len = bytes.len();
    match m {
        TextMutation::Insert(at, b) => {
            let at = at % (len + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        TextMutation::Remove(at, n) if len > 0 => {
            let at = at % len;
            bytes.drain(at..(at + n).min(len));
        }
        TextMutation::Truncate(at) => bytes.truncate(at % (len + 1)),
        TextMutation::Remove(..) => {}
    }
}

fn render(docs: &[Y], flow_below: usize) -> String {
    let mut text = String::from("# generated by tests/loader_fuzz.rs\n");
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            text.push_str("---\n");
        }
        d.block(&mut text, 0, flow_below);
    }
    text
}

/// Loads `bytes` on a thread of its own: a panic or a load that does not finish within a
/// minute (a hang, not slowness: a load takes milliseconds) is reported with the input.
fn load_checked(bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let lines = bytes.iter().filter(|b| **b == b'\n').count() as u32 + 1;
    let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(4000)]).into_owned();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let options = LoadOptions { known_policies: podlab::schedulers::POLICIES, allow_paths_outside: false };
        let result = parse_bytes("fuzz.yaml", bytes, options);
        // Rendering must not panic either, and positions must lie inside the file.
        let checked = match &result {
            Ok(scenario) => scenario.warnings.iter().map(|w| (w.pos, w.to_string())).collect::<Vec<_>>(),
            Err(e @ LoadError::Invalid(d)) => vec![(d.pos, e.to_string())],
            Err(e @ LoadError::Several(all)) => all.iter().map(|d| (d.pos, e.to_string())).collect(),
            Err(e @ LoadError::Io { .. }) => vec![(Default::default(), e.to_string())],
        };
        let _ = tx.send(checked);
    });
    let checked = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(checked) => checked,
        Err(mpsc::RecvTimeoutError::Timeout) => return Err(TestCaseError::fail(format!("load hangs on:\n{shown}"))),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            return Err(TestCaseError::fail(format!("load panicked on:\n{shown}")));
        }
    };
    for (pos, rendered) in checked {
        prop_assert!(
            pos.line >= 1 && pos.line <= lines + 1,
            "line {} outside 1..={}: {rendered}\n{shown}",
            pos.line,
            lines + 1
        );
        prop_assert!(pos.col >= 1, "column 0: {rendered}\n{shown}");
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PODLAB_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Well-formed documents of every kind, structurally mutated, load or fail with a
    /// positioned error; never a panic.
    #[test]
    fn mutated_documents_never_panic(
        mut docs in prop::collection::vec(document(), 1..5),
        mutations in prop::collection::vec((0..5usize, mutation()), 0..4),
        flow_below in 0..5usize,
    ) {
        for (which, m) in &mutations {
            let n = docs.len();
            mutate(&mut docs[which % n], m);
        }
        load_checked(render(&docs, flow_below).into_bytes())?;
    }

    /// The same documents with bytes inserted, removed or cut off — invalid UTF-8 and broken
    /// YAML included — still load or fail with a positioned error.
    #[test]
    fn mangled_bytes_never_panic(
        docs in prop::collection::vec(document(), 1..4),
        edits in prop::collection::vec(text_mutation(), 1..6),
        flow_below in 0..5usize,
    ) {
        let mut bytes = render(&docs, flow_below).into_bytes();
        for e in &edits {
            apply_text(&mut bytes, e);
        }
        load_checked(bytes)?;
    }

    /// Random bytes, not YAML at all, are refused with a positioned error.
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        load_checked(bytes)?;
    }
}

/// A number as a trace or a CSV might hold it: ordinary, at a bound, or absurd.
fn file_number() -> impl Strategy<Value = String> {
    let edges = vec![
        "0",
        "-1",
        "1",
        "60",
        "1000",
        "3153600000",
        "3153600001",
        "18446744074",
        "4294967296",
        "1073741824",
        "1073741825",
        "17592186044416",
        "9223372036854775807",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999",
        "1e15",
        "1e16",
        "1e18",
        "1e19",
        "1e300",
        "-1e300",
        "1.5",
        "0.000001",
        "NaN",
        "inf",
        "-0",
    ];
    prop_oneof![
        select(edges).prop_map(String::from),
        any::<u64>().prop_map(|v| v.to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        (0u32..128).prop_map(|shift| (1u128 << shift).to_string()),
    ]
}

/// A folder of its own for each case of a property (cases may run on several threads).
fn case_dir(property: &str) -> std::path::PathBuf {
    static CASES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    common::temp_dir(&format!("{property}-{n}"))
}

/// Loads the scenario file `path` as `load_checked` loads bytes: on a thread of its own, a
/// panic or a load still running after a minute (a FIFO opened, a bomb inflated) a failure.
fn load_file_checked(path: std::path::PathBuf, allow_paths_outside: bool) -> Result<(), TestCaseError> {
    let shown = std::fs::read_to_string(&path).unwrap_or_default();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let options = LoadOptions { known_policies: podlab::schedulers::POLICIES, allow_paths_outside };
        let result = podlab::scenario::load(&path, options);
        let pos = match &result {
            Err(LoadError::Invalid(d)) => Some((d.pos, d.to_string())),
            _ => None,
        };
        let _ = tx.send(pos);
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Some((pos, rendered))) => {
            prop_assert!(pos.line >= 1 && pos.col >= 1, "position {pos:?}: {rendered}\n{shown}");
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(TestCaseError::fail(format!("load hangs on:\n{shown}"))),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(TestCaseError::fail(format!("load panicked on:\n{shown}"))),
    }
}

/// A scenario naming `path` as a trace of `format`, or (format `empirical`) as a distribution.
fn naming(format: &str, path: &str) -> String {
    let workload = if format == "empirical" {
        format!(
            "generators: [{{name: b, interArrival: {{distribution: empirical, file: '{path}'}}, tasks: {{distribution: \
             constant, value: 1}}, runFor: {{distribution: constant, value: 1s}}, cpu: '1', memory: 1Gi, count: 3}}]"
        )
    } else {
        format!("trace: {{format: {format}, path: '{path}'}}")
    };
    format!(
        "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nspec:\n  nodePools: [{{name: n, count: 2, cpu: '4', \
         memory: 4Gi}}]\n  workload:\n    {workload}\n"
    )
}

/// What a case's named file is: text (some rows of `numbers`), gzip of one or more members of
/// it, or something that is not a regular file at all.
#[derive(Clone, Debug)]
enum Named {
    Text,
    Gzip(usize),
    Fifo,
    LinkToFifo,
    Device(&'static str),
    Directory,
    Missing,
    Outside,
}

fn named() -> impl Strategy<Value = Named> {
    prop_oneof![
        Just(Named::Text),
        (1..4usize).prop_map(Named::Gzip),
        Just(Named::Fifo),
        Just(Named::LinkToFifo),
        select(vec!["/dev/zero", "/dev/null", "/dev/urandom"]).prop_map(Named::Device),
        Just(Named::Directory),
        Just(Named::Missing),
        Just(Named::Outside),
    ]
}

/// Rows of `format` with `numbers` in every numeric field.
fn rows(format: &str, n: &[String]) -> String {
    let at = |i: usize| n[i % n.len()].as_str();
    match format {
        "swf" => {
            let line = |k: usize| (0..18).map(|i| at(k + i)).collect::<Vec<_>>().join(" ");
            format!("; MaxProcs: {}\n{}\n{}\n", at(3), line(0), line(5))
        }
        "google-prefill" => {
            format!("11 {} 7 {} {} {} {} {}\n12 {} 7 0 0 0\n", at(0), at(1), at(2), at(3), at(4), at(5), at(6))
        }
        _ => format!("c p 0 {}\nc p 0 {}\nc p 1 {}\n", at(0), at(1), at(2)),
    }
}

/// Writes what `named` says at `dir/input`; the path the scenario names for it.
fn make_named(dir: &std::path::Path, named: &Named, text: &str) -> String {
    use std::io::Write;
    let file = dir.join("input");
    match named {
        Named::Text => std::fs::write(&file, text).unwrap(),
        Named::Gzip(members) => {
            let mut out = Vec::new();
            for _ in 0..*members {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(text.as_bytes()).unwrap();
                out.extend(gz.finish().unwrap());
            }
            std::fs::write(&file, out).unwrap();
        }
        Named::Fifo => assert!(std::process::Command::new("mkfifo").arg(&file).status().unwrap().success()),
        Named::LinkToFifo => {
            assert!(std::process::Command::new("mkfifo").arg(dir.join("fifo")).status().unwrap().success());
            std::os::unix::fs::symlink("fifo", &file).unwrap();
        }
        Named::Device(device) => return (*device).to_string(),
        Named::Directory => std::fs::create_dir(&file).unwrap(),
        Named::Missing => {}
        Named::Outside => return "../../../../../../etc/hostname".to_string(),
    }
    "input".to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// A scenario naming a trace or a distribution that is a FIFO, a device, a directory, a
    /// missing file, a file outside, or text (gzipped in one or several members) full of edge
    /// numbers: it loads or fails with a positioned error, never hangs or panics.
    #[cfg(unix)]
    #[test]
    fn named_paths_never_hang_or_panic(
        format in select(vec!["swf", "google-prefill", "empirical"]),
        what in named(),
        numbers in prop::collection::vec(file_number(), 1..24),
        allow_outside in any::<bool>(),
    ) {
        let dir = case_dir("paths");
        let path = make_named(&dir, &what, &rows(format, &numbers));
        std::fs::write(dir.join("scenario.yaml"), naming(format, &path)).unwrap();
        load_file_checked(dir.join("scenario.yaml"), allow_outside)?;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Edge numbers in every numeric field of an SWF log, prefill rows, a distribution and the
    /// OpenB lists: read or refused at a position, never a panic (a debug build panics where
    /// a release build would wrap); what is read converts to nanoseconds and bytes exactly.
    #[test]
    fn file_numbers_never_wrap(numbers in prop::collection::vec(file_number(), 1..24)) {
        use podlab::scenario::{openb, trace};
        let at = |i: usize| numbers[i % numbers.len()].as_str();
        let swf = rows("swf", &numbers);
        if let Ok(read) = trace::read_swf(swf.as_bytes(), trace::SwfSlice::first(u64::MAX)) {
            for j in &read.jobs {
                prop_assert!(u128::from(j.submit_s.max(j.run_s)) * 1_000_000_000 <= u128::from(u64::MAX / 2), "{j:?}");
            }
        }
        let prefill = rows("google-prefill", &numbers);
        for unit in [trace::TimeUnit::Seconds, trace::TimeUnit::Microseconds] {
            let _ = trace::read_google_prefill(prefill.as_bytes(), u64::MAX, unit, None);
        }
        let dir = case_dir("numbers");
        let nodes = dir.join("nodes.csv");
        let pods = dir.join("pods.csv");
        std::fs::write(&nodes, format!("sn,cpu_milli,memory_mib,gpu,model\nn,{},{},{},T4\n", at(0), at(1), at(2))).unwrap();
        std::fs::write(&pods, format!(
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
             p,{},{},1,500,,LS,Running,{},{},{}\n", at(3), at(4), at(5), at(6), at(7)
        )).unwrap();
        if let Ok(list) = openb::read_nodes(&nodes) {
            for n in &list {
                let node = openb::to_node(n);
                prop_assert_eq!(u128::from(node.allocatable.memory_bytes), u128::from(n.memory_mib) << 20);
            }
        }
        if let Ok(list) = openb::read_pods(&pods, usize::MAX) {
            for p in &list {
                prop_assert_eq!(u128::from(p.memory_bytes()), u128::from(p.memory_mib) << 20);
                let _ = p.run_for_s();
            }
        }
        for format in ["swf", "google-prefill", "empirical"] {
            std::fs::write(dir.join("input"), rows(format, &numbers)).unwrap();
            std::fs::write(dir.join("scenario.yaml"), naming(format, "input")).unwrap();
            load_file_checked(dir.join("scenario.yaml"), false)?;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
