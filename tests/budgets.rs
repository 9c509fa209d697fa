//! Time always moves, and everything that grows has a budget: periods of 0 or 1 ns are refused
//! where they are written; a run whose time stops (a livelock) or whose controllers create pods
//! without end stops cleanly, exit 2, its summary marked partial and the error naming what
//! spun; a grid or a `--jobs` too large is refused before anything runs; and 8,000 `setImage`
//! actions at one instant cost what 8,000 changes should.
#![allow(clippy::disallowed_types)] // Instant: each case must end in seconds, not spin.

mod common;

use std::time::{Duration, Instant};

use podlab::cluster::scenario::Scenario;
use podlab::cluster::{Action, Context, Controller, Event, SimTime};
use podlab::sim::{Budgets, Exceeded};
use podlab::{RunOptions, run_controllers};

use common::{ONE_NODE, assert_bad_input, one_node_simulation as sim, podlab, scenario_file, stderr, stdout, temp_dir};

/// `podlab ARGS…` must exit 2 without a panic and say `want`; its standard error and output.
fn expect_exit_2(args: &[&str], want: &str) -> (String, String) {
    let out = podlab(args);
    (assert_bad_input(&out, &args, &[want]), stdout(&out))
}

/// A period of 0 or 1 ns — a heartbeat, Mesos's offer rounds, a random fault process — is
/// refused where it is written, before anything runs.
#[test]
fn periods_shorter_than_a_millisecond_are_refused_where_written() {
    let cases = [
        ("heartbeat-0", "  controlPlane: {kubelet: {heartbeatInterval: 0s}}\n", "heartbeatInterval `0s`"),
        ("heartbeat-1ns", "  controlPlane: {kubelet: {heartbeatInterval: 1ns}}\n", "heartbeatInterval `1ns`"),
        ("offers-0", "  mesos: {offerInterval: 0s, offerTimeout: 0s}\n", "offerInterval `0s`"),
        (
            "faults-0",
            "  duration: 1h\n  faults:\n  - {type: NodeCrash, every: {distribution: constant, value: 0s}}\n",
            "a fault process's mean gap `0s`",
        ),
        (
            "faults-500us",
            "  duration: 1h\n  faults:\n  - {type: NodeCrash, every: {distribution: exponential, mean: 500us}}\n",
            "a fault process's mean gap `500µs`",
        ),
    ];
    for (name, spec, want) in cases {
        let (dir, file) = scenario_file(name, sim(&format!("  seed: 1\n{spec}")));
        let (stderr, _) = expect_exit_2(&["validate", file.to_str().unwrap()], want);
        assert!(stderr.contains("shorter than 1ms"), "{name}: {stderr}");
        // The line of the Simulation's spec that holds the period (the Node takes 4, the
        // Simulation's head 5 more with `---`, the seed 1).
        let line = stderr.split(&format!("{name}.yaml:")).nth(1).and_then(|at| at.split(':').next());
        let line: u32 = line.and_then(|l| l.parse().ok()).unwrap_or_else(|| panic!("{name}: no position: {stderr}"));
        assert!((11..=13).contains(&line), "{name}: at line {line}: {stderr}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A controller that sets a timer for now each time its timer fires: simulated time stops.
struct Spinner;

impl Controller for Spinner {
    fn name(&self) -> &str {
        "spinner"
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        if matches!(event, Event::Start | Event::Timer { .. }) {
            let at: SimTime = ctx.now();
            ctx.act(Action::SetTimer { at, token: 1 });
        }
    }
}

/// A livelock stops at the instant's budget, and the error names the controller and the
/// event kind that spun.
#[test]
fn a_livelock_stops_at_its_instant_naming_what_spins() {
    let scenario = common::bundled("coscheduling.yaml");
    let budgets = Budgets { instant: Some(50_000), ..Budgets::DEFAULT };
    let options = RunOptions { budgets, ..RunOptions::default() };
    let build = |_: &Scenario| -> Vec<Box<dyn Controller>> { vec![Box::new(Spinner)] };
    let run = run_controllers(&scenario, "spinner", &build, 1, options).expect("runs");
    let Some(Exceeded::Instant { limit, at, busiest }) = &run.sim.exceeded else {
        panic!("no livelock found: {:?}", run.sim.exceeded)
    };
    assert_eq!((*limit, *at), (50_000, SimTime::ZERO));
    // Its timers and the actions that set them, half each.
    let named: Vec<&str> = busiest.iter().map(|(what, _)| what.as_str()).collect();
    assert_eq!(named, ["spinner -> SetTimer", "spinner <- Timer"]);
    let stopped = run.summary.stopped.as_deref().expect("the summary says the run stopped");
    assert!(stopped.contains("time stopped moving") && stopped.contains("spinner <- Timer"), "{stopped}");
    // Sampled past the budget, then stopped: bounded work.
    assert!(run.sim.events_processed < 50_000 + 2 * 10_000, "{}", run.sim.events_processed);
    assert_eq!(run.sim.end, SimTime::ZERO);
}

/// The reproducer: a hoarding Mesos framework with offers every 0 s that time out at
/// once, on a cell too small for its gang, looped for ever at one instant. The loader refuses
/// such a period now (above); built by a library user, the run stops at the instant's default
/// budget and names the master and the framework.
#[test]
fn the_mesos_livelock_stops_naming_master_and_framework() {
    let text = "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {name: livelock}\nspec:\n  seed: 1\n  \
                duration: 1s\n  policies: [mesos]\n  nodePools: [{name: node, count: 1, cpu: '2', memory: 8Gi}]\n  \
                mesos:\n    offerInterval: 1ms\n    offerTimeout: 0s\n    frameworks:\n    - {name: alpha, \
                behaviour: hoarding}\n  workload:\n    jobs:\n    - {name: gang, at: 0s, tasks: 3, cpu: '1', \
                memory: 1Gi, runFor: 30s, schedulerName: alpha}\n";
    let (dir, file) = scenario_file("livelock", text);
    let mut scenario = podlab::load(&file).expect("the scenario loads");
    scenario.config.mesos.offer_interval = podlab::cluster::SimDuration::ZERO;
    let started = Instant::now();
    let run = podlab::run_policy_with(&scenario, "mesos", 1, RunOptions::default()).expect("runs");
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    let Some(Exceeded::Instant { busiest, .. }) = &run.sim.exceeded else {
        panic!("no livelock found: {:?}", run.sim.exceeded)
    };
    let named: Vec<&str> = busiest.iter().map(|(what, _)| what.as_str()).collect();
    assert!(named.iter().any(|w| w.starts_with("mesos-master")), "{named:?}");
    assert!(named.iter().any(|w| w.starts_with("mesos-alpha")), "{named:?}");
    assert!(run.summary.stopped.is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A ReplicaSet whose pods fail a nanosecond after they start, for a day, is stopped at the
/// created-pods budget: exit 2, a partial summary that says so.
#[test]
fn controllers_creating_pods_without_end_stop_at_the_budget() {
    let text = format!(
        "{ONE_NODE}---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: churn}}\nspec:\n  replicas: 2\n  \
         selector: {{matchLabels: {{app: churn}}}}\n  template:\n    metadata:\n      labels: {{app: churn}}\n      \
         annotations: {{podlab.dev/fail-after: 1ns}}\n    spec:\n      containers:\n      - {{name: c, image: i, \
         resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}}}\n---\napiVersion: podlab.dev/v1alpha1\nkind: \
         Simulation\nmetadata: {{name: churn}}\nspec:\n  seed: 1\n  duration: 24h\n  policies: [kubernetes]\n"
    );
    let (dir, file) = scenario_file("churn", &text);
    let out = dir.join("out");
    let started = Instant::now();
    let args =
        ["--max-created-pods", "2000", "run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--summary-only"];
    let (stderr, stdout) = expect_exit_2(&args, "controllers created 2000 pods");
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    assert!(stdout.contains("PARTIAL RESULT"), "{stdout}");
    let summary = std::fs::read_to_string(out.join("kubernetes/summary.json")).unwrap();
    assert!(summary.contains("\"stopped\": \"stopped at"), "{summary}");
    assert!(stderr.contains("its results are partial"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The events budget: a run past `--max-events` stops there, exit 2; the same run without it
/// is fine.
#[test]
fn a_run_past_max_events_stops_with_a_partial_result() {
    let (stderr, stdout) =
        expect_exit_2(&["--max-events", "10", "run", "scenarios/coscheduling.yaml"], "10 events processed");
    assert!(stdout.contains("PARTIAL RESULT"), "{stdout}");
    assert!(stderr.contains("--max-events"), "{stderr}");
    let whole = podlab(&["run", "scenarios/coscheduling.yaml"]);
    assert_eq!(whole.status.code(), Some(0));
}

/// 8,000 `setImage` actions at one instant: each makes a revision, and building them costs
/// what 8,000 changes should (the revisions were copied into each version: 4,000 took
/// minutes and GBs).
#[test]
fn eight_thousand_set_image_actions_at_one_instant_are_linear() {
    let mut text = format!(
        "{ONE_NODE}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: 2\n  \
         template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers:\n      - {{name: app, \
         image: 'web:v0', resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}\n---\napiVersion: \
         podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: storm}}\nspec:\n  seed: 1\n  duration: 2m\n  \
         policies: [kubernetes]\n  actions:\n"
    );
    for i in 1..=8000 {
        text.push_str(&format!("  - {{at: 1m, setImage: {{deployment: web, container: app, image: 'web:v{i}'}}}}\n"));
    }
    let (dir, file) = scenario_file("storm", &text);
    let started = Instant::now();
    let out = podlab(&["run", file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    assert!(stdout.contains("pods scheduled"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A grid of 10,000 values is refused before anything runs (nothing is written).
#[test]
fn a_huge_grid_is_refused_before_anything_runs() {
    let dir = temp_dir("grid");
    let out = dir.join("out");
    let values: Vec<String> = (1..=10_000).map(|i| format!("{i}ms")).collect();
    let grid = format!("omega.service.tJob={}", values.join(","));
    let args = ["compare", "scenarios/coscheduling.yaml", "--grid", &grid, "--out", out.to_str().unwrap()];
    let (stderr, _) = expect_exit_2(&args, "makes 10000 variants");
    assert!(stderr.contains("nothing was run") && stderr.contains("--max-variants"), "{stderr}");
    assert!(!out.exists(), "the refused comparison wrote {}", out.display());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--jobs` far beyond the machine's threads is refused (a thread per job), unless forced.
#[test]
fn jobs_beyond_the_machine_are_refused() {
    let dir = temp_dir("jobs");
    let out = dir.join("out");
    let args = ["compare", "scenarios/coscheduling.yaml", "--jobs", "100000", "--out", out.to_str().unwrap()];
    let (stderr, _) = expect_exit_2(&args, "--jobs 100000");
    assert!(stderr.contains("--force-jobs"), "{stderr}");
    let (stderr, _) = expect_exit_2(&["fuzz", "--seeds", "1", "--jobs", "100000"], "--jobs 100000");
    assert!(stderr.contains("--force-jobs"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
