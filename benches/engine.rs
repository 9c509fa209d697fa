//! Benchmarks of the engine's hot paths: the event queue at 1k, 100k and 1M pending events; one
//! kube-framework decision at 1k, 10k and 100k nodes (every node scored, and kube's adaptive
//! `percentageOfNodesToScore`); the randomised first fit at 10k and 100k nodes; and a whole
//! scenario end to end. The set-ups are `podlab::bench`'s, which `podlab bench` times too.
//!
//!   cargo bench --bench engine

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use podlab::bench::{
    DecisionBench, FirstFitBench, QueueBench, SCORE_ADAPTIVE_PERCENT, SCORE_ALL_PERCENT, app_with_logs,
    burst_scenario_text, decision_part,
};
use podlab::schedulers::POLICIES;
use podlab::schedulers::framework::Unit;

/// Steady state: pop the earliest event and push one a random distance ahead, with `pending`
/// events in the queue.
fn event_queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_queue");
    for pending in [1_000u64, 100_000, 1_000_000] {
        let mut queue = QueueBench::new(pending);
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(pending), &pending, |b, _| b.iter(|| queue.step()));
    }
    group.finish();
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
        let mut bench = DecisionBench::new(nodes);
        group.throughput(Throughput::Elements(1));
        for policy in POLICIES {
            let Some(part) = decision_part(policy) else {
                eprintln!("decision/{policy}: no single-decision benchmark for this policy yet");
                continue;
            };
            let unit = Unit::new(&incoming, part);
            for (label, percentage) in [("all", SCORE_ALL_PERCENT), ("adaptive", SCORE_ADAPTIVE_PERCENT)] {
                group.bench_with_input(BenchmarkId::new(format!("{policy}/{label}"), nodes), &nodes, |b, _| {
                    b.iter(|| bench.decide(&unit, percentage))
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
    for nodes in [10_000usize, 100_000] {
        let mut bench = FirstFitBench::new(nodes);
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(nodes), &nodes, |b, _| b.iter(|| bench.place()));
    }
    group.finish();
}

/// A whole run: 1,000 nodes, 10,000 short pods arriving together, under `kubernetes`.
fn end_to_end(c: &mut Criterion) {
    let text = burst_scenario_text(1_000, 10_000);
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
