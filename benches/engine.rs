//! Benchmarks of the engine's hot paths: the event queue at 1k, 100k and 1M pending events; one
//! kube-framework decision at 1k, 10k and 100k nodes (every node scored, and kube's adaptive
//! `percentageOfNodesToScore`); the randomised first fit at 10k and 100k nodes; and a whole
//! scenario end to end.
//!
//!   cargo bench --bench engine

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand_core::Rng;

use podlab::cluster::objects::Container;
use podlab::cluster::objects::DEFAULT_MAX_PODS;
use podlab::cluster::scenario::ScoringStrategy;
use podlab::cluster::{Node, NodeId, Part, Pod, PodId, Resources, SimTime, rng};
use podlab::schedulers::POLICIES;
use podlab::schedulers::framework::{Framework, Unit};
use podlab::schedulers::jobs::{Room, random_first_fit};
use podlab::schedulers::node_table::NodeTable;
use podlab::sim::queue::EventQueue;

/// Steady state: pop the earliest event and push one a random distance ahead, with `pending`
/// events in the queue.
fn event_queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_queue");
    for pending in [1_000u64, 100_000, 1_000_000] {
        let mut r = rng::stream(1, "bench");
        let mut queue = EventQueue::with_capacity(pending as usize + 1);
        for i in 0..pending {
            queue.push(SimTime(r.next_u64() % 1_000_000_000), i);
        }
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(pending), &pending, |b, _| {
            b.iter(|| {
                let (t, item) = queue.pop().expect("never empty");
                queue.push(SimTime(t.0 + 1 + (r.next_u64() % 1_000_000)), black_box(item));
            })
        });
    }
    group.finish();
}

fn node(i: usize) -> Arc<Node> {
    let mut labels = BTreeMap::new();
    labels.insert("kubernetes.io/hostname".to_string(), format!("node-{i}"));
    Arc::new(Node {
        name: format!("node-{i}"),
        labels,
        taints: vec![],
        allocatable: Resources::new(32_000, 128 << 30),
        max_pods: DEFAULT_MAX_PODS,
        unschedulable: false,
    })
}

fn pod(cpu_milli: u64, memory_bytes: u64) -> Pod {
    Pod::single("bench", Resources::new(cpu_milli, memory_bytes))
}

/// The co-scheduling pod: App (500m, 1 GiB) and LogCollector (100m, 0.5 GiB).
fn app_with_logs() -> Pod {
    let mut pod = pod(600, 3 << 29);
    let container = |name: &str, cpu_milli, memory_bytes| Container {
        name: name.into(),
        image: String::new(),
        requests: Resources::new(cpu_milli, memory_bytes),
        limits: Resources::default(),
        sidecar: false,
    };
    pod.containers = vec![container("app", 500, 1 << 30), container("log-collector", 100, 1 << 29)];
    pod
}

/// What one decision of a policy places: `kubernetes` filters and scores the whole Pod,
/// `per-container` one container. The framework code is the same, so this is what differs.
/// `None` for a policy whose decision is not a single `Framework::select` (it needs its own
/// benchmark).
fn decision_part(policy: &str) -> Option<Part> {
    match policy {
        "kubernetes" => Some(Part::Whole),
        "per-container" => Some(Part::Container(0)),
        _ => None,
    }
}

/// One filter-and-score decision of each policy over a partly loaded cluster: scoring every
/// feasible node (`percentageOfNodesToScore: 100`), and with kube-scheduler's adaptive default.
/// Pods of one shape in a row, one node changed between decisions: what a burst of a
/// Deployment's or a job's pods costs.
fn policy_decision(c: &mut Criterion) {
    let mut group = c.benchmark_group("decision");
    // 100k nodes take a while a decision: fewer, shorter samples keep the suite quick.
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    let incoming = app_with_logs();
    for nodes in [1_000usize, 10_000, 100_000] {
        let mut r = rng::stream(2, "bench");
        let filler = pod(500, 1 << 30);
        let mut table = NodeTable::default();
        for i in 0..nodes {
            let id = NodeId(i as u32);
            table.upsert(id, node(i));
            for _ in 0..(r.next_u64() % 40) {
                table.add(id, &Unit::new(&filler, Part::Whole));
            }
        }
        let framework = Framework::new(ScoringStrategy::LeastAllocated);
        group.throughput(Throughput::Elements(1));
        for policy in POLICIES {
            let Some(part) = decision_part(policy) else {
                eprintln!("decision/{policy}: no single-decision benchmark for this policy yet");
                continue;
            };
            let unit = Unit::new(&incoming, part);
            for (label, percentage) in [("all", 100), ("adaptive", 0)] {
                // Each decision places the pod and takes it away again, as a scheduler's cache
                // changes one node per binding: the table rescores that node next time.
                group.bench_with_input(BenchmarkId::new(format!("{policy}/{label}"), nodes), &nodes, |b, _| {
                    b.iter(|| {
                        let chosen = table.select(&framework, &unit, percentage, &mut r);
                        if let Ok(node) = chosen {
                            table.add(node, &unit);
                            table.remove(node, &unit);
                        }
                        black_box(chosen)
                    })
                });
            }
        }
    }
    group.finish();
}

/// One task placed by the Omega paper's randomised first fit (`monolithic`, `omega`) into a
/// cell where nine nodes in ten are full, so a placement probes about ten nodes; the task is
/// given back after each placement, keeping the cell as it was.
fn first_fit(c: &mut Criterion) {
    let mut group = c.benchmark_group("first_fit");
    let task = Resources::new(1_000, 2 << 30);
    for nodes in [10_000usize, 100_000] {
        let mut r = rng::stream(3, "bench");
        let mut free: Vec<Option<Room>> = (0..nodes)
            .map(|i| {
                let mut room = Room::of(&node(i));
                if r.next_u64() % 10 != 0 {
                    room.take(&Resources::new(31_500, 0));
                }
                Some(room)
            })
            .collect();
        let mut order = Vec::new();
        let tasks = [(PodId(0), &task)];
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(nodes), &nodes, |b, _| {
            b.iter(|| {
                let placed = random_first_fit(&tasks, &mut free, &mut order, &mut r);
                for &(_, at) in &placed {
                    free[at.index()].as_mut().expect("a node of the cell").give(&task);
                }
                black_box(placed.len())
            })
        });
    }
    group.finish();
}

/// A whole run: 1,000 nodes, 10,000 short pods arriving together, under `kubernetes`.
fn end_to_end(c: &mut Criterion) {
    let mut text = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for i in 0..1_000 {
        text += &format!(
            "- {{apiVersion: v1, kind: Node, metadata: {{name: n{i}}}, status: {{allocatable: {{cpu: \"32\", memory: 128Gi}}}}}}\n"
        );
    }
    for i in 0..10_000 {
        text += &format!(
            "- {{apiVersion: v1, kind: Pod, metadata: {{name: p{i}, annotations: {{podlab.dev/run-for: {}s}}}}, spec: {{containers: [{{name: c, resources: {{requests: {{cpu: \"1\", memory: 2Gi}}}}}}]}}}}\n",
            10 + i % 50
        );
    }
    let scenario = podlab::load_str("bench.yaml", &text).expect("the bench scenario loads");
    let mut group = c.benchmark_group("end_to_end");
    group.sample_size(10);
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("1k_nodes_10k_pods", |b| {
        b.iter(|| black_box(podlab::run_policy(&scenario, "kubernetes", 1, false).expect("known policy").sim.digest))
    });
    group.finish();
}

criterion_group!(benches, event_queue, policy_decision, first_fit, end_to_end);
criterion_main!(benches);
