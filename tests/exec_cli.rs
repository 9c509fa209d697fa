//! External policies from the command line (`--policy exec:NAME=COMMAND`) and from scenarios
//! (`policies: [exec:…]`, only with `--allow-exec`): they run like podlab's own, and one that
//! fails ends the command with exit code 2, its error, and nothing written.
#![allow(clippy::disallowed_types)] // Instant: a hung policy must end the command in seconds.

mod common;

use std::process::{Command, Output};

use common::{podlab_env, root, stderr, stdout, temp_path};

/// The JavaScript first-fit client of the exec crate's tests (node v20 is on every machine).
fn node_first_fit() -> String {
    let node = Command::new("node").arg("--version").output();
    assert!(node.is_ok_and(|o| o.status.success()), "node (v20 or later) must be installed for this test");
    format!("node {}/exec/tests/clients/first_fit.mjs", root().display())
}

/// Everything a command said, standard output then error.
fn text(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

#[test]
fn an_external_policy_runs_beside_podlabs_own() {
    let out = temp_path("run");
    let policy = format!("exec:ff={}", node_first_fit());
    let args = ["run", "scenarios/scheduler-crash.yaml", "--policy", &policy, "--policy", "kubernetes"];
    let run = podlab_env(&[&args[..], &["--check-invariants", "--out", out.to_str().expect("utf-8")]].concat(), &[]);
    assert!(run.status.success(), "{}", text(&run));
    let summary = std::fs::read_to_string(out.join("ff/summary.json")).expect("ff's summary");
    assert!(summary.contains("\"policy\": \"ff\""), "{summary}");
    assert!(summary.contains("\"scheduled\": 40"), "{summary}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_failing_policy_exits_2_and_writes_nothing() {
    let out = temp_path("crash");
    let args = ["run", "scenarios/scheduler-crash.yaml", "--policy", "kubernetes", "--policy"];
    let crash = "exec:crashy=echo 'crashy: no plan' >&2; exit 3";
    let run = podlab_env(&[&args[..], &[crash, "--out", out.to_str().expect("utf-8")]].concat(), &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    let said = text(&run);
    assert!(said.contains("policy `crashy`") && said.contains("crashy: no plan"), "{said}");
    assert!(said.contains("last message sent: {\"type\":\"hello\""), "{said}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn a_malformed_external_policy_is_refused_by_the_parser() {
    let run = podlab_env(&["run", "scenarios/scheduler-crash.yaml", "--policy", "exec:no command"], &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(text(&run).contains("exec:NAME=COMMAND"), "{}", text(&run));
}

#[test]
fn a_scenario_names_external_policies_only_when_allowed() {
    let dir = temp_path("scenario");
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let file = dir.join("exec.yaml");
    let scenario = format!(
        "apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {{name: exec-scenario}}
spec:
  policies: [kubernetes, \"exec:ff={}\"]
  nodePools: [{{name: n, count: 2, cpu: \"4\", memory: 8Gi}}]
  workload:
    generators:
    - {{name: j, count: 6, interArrival: {{distribution: constant, value: 1s}}, tasks: {{distribution: constant, value: 1}}, runFor: {{distribution: constant, value: 3s}}, cpu: \"1\", memory: 1Gi}}
",
        node_first_fit()
    );
    std::fs::write(&file, scenario).expect("written");
    let path = file.to_str().expect("utf-8");
    let refused = podlab_env(&["run", path], &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("exec.yaml:5:"), "{}", text(&refused));
    assert!(text(&refused).contains("--allow-exec"), "{}", text(&refused));
    for (flag, env) in [(Some("--allow-exec"), None), (None, Some(("PODLAB_ALLOW_EXEC", "1")))] {
        let args: Vec<&str> = ["run", path].into_iter().chain(flag).collect();
        let run = podlab_env(&args, &env.into_iter().collect::<Vec<_>>());
        assert!(run.status.success(), "{}", text(&run));
        assert!(text(&run).contains("6/6"), "{}", text(&run));
    }
    let out = dir.join("compare");
    let compare =
        podlab_env(&["compare", path, "--allow-exec", "--seeds", "2", "--out", out.to_str().expect("utf-8")], &[]);
    assert!(compare.status.success(), "{}", text(&compare));
    for seed in ["seed-0", "seed-1"] {
        assert!(out.join("runs/exec-scenario/ff").join(seed).join("summary.json").exists(), "{seed}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_hung_policy_ends_at_the_timeout_the_environment_sets() {
    let hang = r#"exec:stuck=read hello; echo '{"type":"hello","protocol":1}'; sleep 60"#;
    let started = std::time::Instant::now();
    let run =
        podlab_env(&["run", "scenarios/scheduler-crash.yaml", "--policy", hang], &[("PODLAB_EXEC_TIMEOUT", "0.3")]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(text(&run).contains("no answer within 0.3 s (it was killed)"), "{}", text(&run));
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "took {:?}", started.elapsed());
}
