//! Benchmarks of the engine's hot paths: the event queue at 1k, 100k and 1M pending events; one
//! `kubernetes` scheduling decision at 1k and 10k nodes; and a whole scenario end to end.
//!
//!   cargo bench --bench engine

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand_core::Rng;

use podlab::cluster::objects::DEFAULT_MAX_PODS;
use podlab::cluster::scenario::ScoringStrategy;
use podlab::cluster::{Node, NodeId, Part, Pod, Resources, SimTime, rng};
use podlab::schedulers::framework::{Framework, NodeInfo, Unit};
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

/// One filter-and-score decision over every node of a partly loaded cluster.
fn kubernetes_decision(c: &mut Criterion) {
    let mut group = c.benchmark_group("kubernetes_decision");
    for nodes in [1_000usize, 10_000] {
        let mut r = rng::stream(2, "bench");
        let filler = pod(500, 1 << 30);
        let mut cache: Vec<NodeInfo> = (0..nodes).map(|i| NodeInfo::new(NodeId(i as u32), node(i))).collect();
        for info in &mut cache {
            for _ in 0..(r.next_u64() % 40) {
                info.add(&Unit::new(&filler, Part::Whole));
            }
        }
        let framework = Framework::new(ScoringStrategy::LeastAllocated);
        let incoming = pod(1000, 2 << 30);
        let unit = Unit::new(&incoming, Part::Whole);
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(nodes), &nodes, |b, _| {
            b.iter(|| black_box(framework.select(&unit, cache.iter(), &mut r)))
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

criterion_group!(benches, event_queue, kubernetes_decision, end_to_end);
criterion_main!(benches);
