//! The exec protocol end to end: a Rust and a JavaScript policy run scenarios through child
//! processes (same digests, every pod placed, the invariants checked), and policies that
//! crash, hang or answer nonsense end the run with an error naming them.
#![allow(clippy::disallowed_types)] // Instant: a hung policy's run must end in seconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use podlab_cluster::config::Component;
use podlab_cluster::scenario::Scenario;
use podlab_cluster::{Controller, Record};
use podlab_exec::{ExecError, ExecSpec, failure_slot, take_failure};
use podlab_scenario::{LoadOptions, parse};
use podlab_sim::{RecordThread, SimOptions, SimRun};

const RUST_CLIENT: &str = env!("CARGO_BIN_EXE_podlab-exec-first-fit");

/// `nodes` nodes of 4 CPUs and `pods` one-CPU pods arriving about two a second, each
/// running 3 to 7 s: more than fits at once, so pods wait for room.
fn scenario(nodes: usize, pods: usize) -> String {
    format!(
        "apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {{name: exec-test}}
spec:
  nodePools: [{{name: n, count: {nodes}, cpu: \"4\", memory: 8Gi}}]
  workload:
    generators:
    - name: job
      count: {pods}
      interArrival: {{distribution: exponential, mean: 500ms}}
      tasks: {{distribution: constant, value: 1}}
      runFor: {{distribution: uniform, min: 3s, max: 7s}}
      cpu: \"1\"
      memory: 1Gi
"
    )
}

fn spec(name: &str, command: &str) -> ExecSpec {
    let mut spec = ExecSpec::parse(&format!("exec:{name}={command}")).expect("exec").expect("valid");
    spec.timeout = Duration::from_secs(20);
    spec
}

fn run(text: &str, spec: &ExecSpec, seed: u64) -> Result<SimRun, Box<ExecError>> {
    let options = LoadOptions { known_policies: &[], allow_paths_outside: false };
    let scenario = parse("exec-test.yaml", text, options).expect("the scenario loads");
    run_scenario(&scenario, spec, seed)
}

fn run_scenario(scenario: &Scenario, spec: &ExecSpec, seed: u64) -> Result<SimRun, Box<ExecError>> {
    let instantiated = Arc::new(podlab_scenario::instantiate(scenario, seed).expect("instantiates"));
    let slot = failure_slot();
    let built = instantiated.clone();
    let factory = {
        let slot = slot.clone();
        move || {
            let mut all: Vec<Box<dyn Controller>> = vec![spec.controller(&slot)];
            all.extend(podlab_controllers::build(&built));
            all
        }
    };
    let mut components = vec![Component::Scheduler];
    components.extend(std::iter::repeat_n(Component::ControllerManager, factory().len() - 1));
    let options = SimOptions {
        seed,
        check_invariants: true,
        keep_records: true,
        record_thread: RecordThread::Never,
        budgets: Default::default(),
    };
    let sim = podlab_sim::run(instantiated, Box::new(factory), components, options, &mut ());
    match take_failure(&slot) {
        Some(error) => Err(Box::new(error)),
        None => Ok(sim),
    }
}

fn bound(sim: &SimRun) -> usize {
    sim.records.iter().filter(|s| matches!(s.record, Record::Bound { .. })).count()
}

#[test]
fn a_rust_policy_places_every_pod_and_its_digest_repeats() {
    let text = scenario(3, 40);
    let first = run(&text, &spec("first-fit", RUST_CLIENT), 7).expect("the policy runs");
    assert!(first.violations.is_empty(), "{:?}", first.violations);
    assert_eq!(bound(&first), 40);
    // A second process, the same digest.
    let second = run(&text, &spec("first-fit", RUST_CLIENT), 7).expect("the policy runs");
    assert_eq!(first.digest, second.digest);
}

#[test]
fn a_javascript_policy_decides_as_the_rust_one_does() {
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(node.is_ok_and(|o| o.status.success()), "node (v20 or later) must be installed for this test");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/first_fit.mjs");
    let text = scenario(3, 40);
    let js = run(&text, &spec("first-fit", &format!("node {script}")), 7).expect("the policy runs");
    let rust = run(&text, &spec("first-fit", RUST_CLIENT), 7).expect("the policy runs");
    assert!(js.violations.is_empty(), "{:?}", js.violations);
    assert_eq!(bound(&js), 40);
    assert_eq!(js.digest, rust.digest, "the same algorithm in two languages, the same run");
}

/// Answers the hello, then does `then` on the first batch.
fn after_hello(then: &str) -> String {
    format!(r#"read hello; echo '{{"type":"hello","protocol":1}}'; read batch; {then}"#)
}

/// Answers the hello and every batch with nothing until the first pod arrives, then does
/// `then`.
fn on_first_pod(then: &str) -> String {
    format!(
        r#"read hello; echo '{{"type":"hello","protocol":1}}'; while read batch; do case "$batch" in *pod-added*) break;; esac; echo '{{"actions":[]}}'; done; {then}"#
    )
}

#[test]
fn a_crash_names_the_policy_its_last_message_and_its_stderr() {
    let spec = spec("crashy", &after_hello("echo 'crashy: out of ideas' >&2; exit 3"));
    let error = run(&scenario(1, 3), &spec, 1).expect_err("the policy crashed");
    assert_eq!(error.policy, "crashy");
    assert!(error.what.contains("exited") && error.what.contains('3'), "{}", error.what);
    assert!(error.last_sent.starts_with(r#"{"type":"events","now":0,"#), "{}", error.last_sent);
    assert!(error.stderr_tail.contains("out of ideas"), "{error}");
    let shown = error.to_string();
    assert!(shown.contains("policy `crashy`") && shown.contains("out of ideas"), "{shown}");
}

#[test]
fn a_hang_ends_at_the_timeout() {
    let mut spec = spec("sleepy", &after_hello("sleep 60"));
    spec.timeout = Duration::from_millis(500);
    let started = Instant::now();
    let error = run(&scenario(1, 3), &spec, 1).expect_err("the policy hung");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(error.what.contains("no answer within 0.5 s"), "{}", error.what);
}

#[test]
fn nonsense_is_refused_with_what_was_wrong() {
    let cases = [
        (after_hello("echo 'not json'; read x"), "answered nonsense"),
        (
            on_first_pod(r#"echo '{"actions":[{"type":"bind","pod":999,"node":0}]}'; read x"#),
            "pod 999 was never announced",
        ),
        (
            on_first_pod(r#"echo '{"actions":[{"type":"bind","pod":0,"node":7}]}'; read x"#),
            "node 7 was never announced",
        ),
        (after_hello(r#"echo '{"actions":[{"type":"fly","pod":0}]}'; read x"#), "unknown variant `fly`"),
        (r#"read hello; echo '{"type":"hello","protocol":2}'; read x"#.to_string(), "it speaks protocol 2"),
        ("exit 0".to_string(), "exited (status 0) without answering"),
    ];
    for (command, expected) in cases {
        let error = run(&scenario(1, 3), &spec("silly", &command), 1).expect_err(expected);
        assert!(error.to_string().contains(expected), "{command}: {error}");
        assert_eq!(error.policy, "silly");
    }
}

#[test]
fn a_command_that_does_not_exist_is_an_error() {
    let error = run(&scenario(1, 1), &spec("ghost", "/nonexistent/policy"), 1).expect_err("no such command");
    assert!(error.what.contains("exited") && error.stderr_tail.contains("nonexistent"), "{error}");
}

#[test]
fn a_policy_that_sleeps_is_woken_by_its_timer_and_new_pods_only() {
    // Sets a timer at 5 s, then sleeps and binds nothing; a batch without a pod, a timer or
    // the start in it would crash it. Its timer gives up on pod 0.
    let answer = r#"{"actions":[],"sleep":true}"#;
    let timer = r#"{"actions":[{"type":"timer","at":5000000000,"token":9}],"sleep":true}"#;
    let give_up = r#"{"actions":[{"type":"give-up","pod":0,"reason":"timer-fired"}],"sleep":true}"#;
    let command = format!(
        r#"read hello; echo '{{"type":"hello","protocol":1}}'; read batch; echo '{timer}'; while read batch; do case "$batch" in *'"type":"timer","token":9'*) echo '{give_up}';; *pod-added*) echo '{answer}';; *) echo "woken by: $batch" >&2; exit 4;; esac; done"#
    );
    let sim = run(&scenario(1, 3), &spec("sleeper", &command), 1).expect("a sleeping policy is fine");
    assert_eq!(bound(&sim), 0);
    let gave_up = sim.records.iter().filter(|s| match &s.record {
        Record::Unschedulable { pod, message, .. } => pod.0 == 0 && &**message == "timer-fired",
        _ => false,
    });
    assert_eq!(gave_up.map(|s| s.time.as_nanos()).collect::<Vec<_>>(), [5_000_000_000]);
    let abandoned = sim.records.iter().filter(|s| s.record.kind() == "abandoned").count();
    assert_eq!(abandoned, 1);
}

#[test]
fn a_crashed_scheduler_comes_back_as_a_new_process_that_relists() {
    // The bundled scenario: the scheduler dies at 20 ms in a burst of 40 pods on a modelled
    // control plane, and restarts 20 s later.
    let text = include_str!("../../scenarios/scheduler-crash.yaml");
    let known = ["per-container", "kubernetes", "gang", "mesos", "omega", "monolithic"];
    let options = LoadOptions { known_policies: &known, allow_paths_outside: false };
    let scenario = parse("scheduler-crash.yaml", text, options).expect("the scenario loads");
    let sim = run_scenario(&scenario, &spec("first-fit", RUST_CLIENT), 5).expect("the policy runs");
    assert!(sim.violations.is_empty(), "{:?}", sim.violations);
    let kinds: Vec<&str> = sim.records.iter().map(|s| s.record.kind()).collect();
    assert!(kinds.contains(&"controller-crashed") && kinds.contains(&"controller-restarted"));
    let running = sim.records.iter().filter(|s| s.record.kind() == "started").count();
    assert_eq!(running, 40, "every pod runs once");
}
