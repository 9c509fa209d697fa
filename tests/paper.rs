//! The Omega paper's model, checked exactly: the two checks of the original simulator's own
//! test suite, and the architectures' defining behaviours.

mod common;

use podlab::cluster::{Note, Record};

use common::run_checked;

fn scenario(spec: &str) -> podlab::cluster::scenario::Scenario {
    let text = format!("apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: paper}}\nspec:\n{spec}");
    podlab::load_str("paper.yaml", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn jobs(count: u32, tasks: impl Fn(u32) -> u32) -> String {
    (1..=count)
        .map(|i| {
            format!("    - {{name: job-{i}, at: {i}s, tasks: {}, cpu: \"1\", memory: 1Gi, runFor: {i}s}}\n", tasks(i))
        })
        .collect()
}

/// Exact check 1: one Omega scheduler with t_job = t_task = 1 s on 1,000 one-CPU machines; job
/// i arrives at i s with one task lasting i s. Each decision takes 2 s, so the queue backs up:
/// job 40 commits at 81 s and its task ends at 121 s, the last event of the run.
#[test]
fn omega_exact_check() {
    let s = scenario(&format!(
        "  nodePools: [{{name: m, count: 1000, cpu: \"1\", memory: 1Gi}}]\n  omega:\n    schedulers: [{{name: only, tJob: 1s, tTask: 1s}}]\n  workload:\n    jobs:\n{}",
        jobs(40, |_| 1)
    ));
    let run = run_checked(&s, "omega", 1);
    assert_eq!(run.summary.pods.succeeded, 40);
    let last = run.sim.records.last().unwrap();
    assert_eq!(last.time.as_nanos(), 121_000_000_000, "{:?}", last.record);
    let job40 = s.pod_named("job-40").unwrap();
    let bound_at =
        run.sim.records.iter().find(|r| matches!(r.record, Record::Bound { pod, .. } if pod == job40)).unwrap().time;
    assert_eq!(bound_at.as_nanos(), 81_000_000_000);
}

/// Exact check 2: monolithic, one machine of 10 CPUs; t_job = t_task = 1 s; job i arrives at
/// i s with i tasks. The waits to first attempt are 0, 1, 3 and 6 s: mean 2.5 s.
#[test]
fn monolithic_exact_check() {
    let s = scenario(&format!(
        "  nodePools: [{{name: m, count: 1, cpu: \"10\", memory: 20Gi}}]\n  monolithic: {{batch: {{tJob: 1s, tTask: 1s}}}}\n  workload:\n    jobs:\n{}",
        jobs(4, |i| i)
    ));
    let run = run_checked(&s, "monolithic", 1);
    let starts: Vec<u64> = run
        .sim
        .records
        .iter()
        .filter(|r| matches!(r.record, Record::Note { note: Note::Attempt { .. }, .. }))
        .map(|r| r.time.as_nanos() / 1_000_000_000)
        .collect();
    assert_eq!(starts, [1, 3, 6, 10]);
    let waits: Vec<u64> = starts.iter().zip(1..).map(|(s, i)| s - i).collect();
    assert_eq!(waits, [0, 1, 3, 6]);
    assert_eq!(run.summary.pods.succeeded, 10);
}
