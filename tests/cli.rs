//! The command line's outputs: `--out` writes each policy's three files, atomically, and never
//! overwrites an earlier run without `--force`; `--help` teaches.

mod common;

use std::path::Path;

use common::{podlab, root, stderr, temp_dir, temp_path};

/// `run --out` writes summary.json, events.jsonl and placements.csv per policy, with what the
/// run did in them; a second run needs `--force`.
#[test]
fn run_writes_outputs_and_protects_them() {
    let out = temp_path("out");
    let out_str = out.to_str().unwrap();
    let first = podlab(&["run", "scenarios/coscheduling.yaml", "--out", out_str]);
    assert!(first.status.success(), "{}", stderr(&first));
    for policy in ["per-container", "kubernetes"] {
        let dir = out.join(policy);
        let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
        assert!(summary.contains("\"schema\": \"podlab.summary/v1\""), "{summary}");
        assert!(summary.contains(&format!("\"policy\": \"{policy}\"")));
        let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
        assert!(events.lines().all(|l| l.starts_with("{\"t_ns\":") && l.ends_with('}')), "{events}");
        assert!(events.contains("\"event\":\"bound\""));
        let csv = std::fs::read_to_string(dir.join("placements.csv")).unwrap();
        let row = csv.lines().nth(1).unwrap();
        let split = policy == "per-container";
        let nodes = if split { "node-a;node-b" } else { "node-b" };
        // A decision takes 1 ms: the pod (its last container, per container) binds then.
        let (scheduled, finished) =
            if split { ("0.002000000", "600.002000000") } else { ("0.001000000", "600.001000000") };
        assert_eq!(
            row,
            format!("app-with-logs,default,,{nodes},0.000000000,{scheduled},{finished},Succeeded,{split},false")
        );
        assert!(!std::fs::read_dir(&dir).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains(".tmp")));
    }
    let again = podlab(&["run", "scenarios/coscheduling.yaml", "--out", out_str]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"));
    let forced = podlab(&["run", "scenarios/coscheduling.yaml", "--out", out_str, "--force"]);
    assert!(forced.status.success());
    std::fs::remove_dir_all(&out).unwrap();
}

/// A failing expectation fails the run with exit code 1 and says what did not hold.
#[test]
fn failed_expectation_exits_one() {
    let dir = temp_dir("expect");
    let text = std::fs::read_to_string(root().join("scenarios/coscheduling.yaml")).unwrap();
    let wrong = text.replace("{phase: Running, node: node-b, split: false}", "{phase: Running, node: node-a}");
    let file = dir.join("wrong.yaml");
    std::fs::write(&file, wrong).unwrap();
    let out = podlab(&["run", file.to_str().unwrap(), "--policy", "kubernetes"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAIL") && stdout.contains("pod app-with-logs is on node-b, expected node-a"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The help explains the commands with examples.
#[test]
fn help_teaches() {
    let help = String::from_utf8(podlab(&["--help"]).stdout).unwrap();
    assert!(help.contains("podlab run scenarios/coscheduling.yaml"), "{help}");
    let run_help = String::from_utf8(podlab(&["run", "--help"]).stdout).unwrap();
    for word in ["--policy", "--seed", "--out", "summary.json", "placements.csv"] {
        assert!(run_help.contains(word), "run --help lacks {word}");
    }
}

/// A generated workload is counted as drawn for the run's seed (the scenario file lists no
/// pods), and a run without --out prints its summary from the folded records.
#[test]
fn run_counts_the_pods_drawn_for_the_seed() {
    let dir = temp_dir("drawn");
    let file = dir.join("scale.yaml");
    std::fs::write(&file, podlab::bench::scale_scenario_text(20, 500)).unwrap();
    let run = podlab(&["run", file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout.contains("20 nodes, 500 pods, 0 groups, seed 1 (the workload drawn for it)"), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("pods scheduled ") && l.split_whitespace().any(|w| w == "500/500")),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `run --out DIR --summary-only` writes each policy's summary.json alone — the same summary
/// a run keeping its records writes — for sweeps of runs too big to keep.
#[test]
fn summary_only_writes_the_summary_alone() {
    let base = temp_path("summary");
    let (full, only) = (base.join("full"), base.join("only"));
    for (dir, extra) in [(&full, None), (&only, Some("--summary-only"))] {
        let mut args = vec!["run", "scenarios/omega-race.yaml", "--out", dir.to_str().unwrap()];
        args.extend(extra);
        let out = podlab(&args);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let files: Vec<String> =
        std::fs::read_dir(only.join("omega")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(files, ["summary.json"]);
    let read = |dir: &Path| std::fs::read_to_string(dir.join("omega/summary.json")).unwrap();
    assert_eq!(read(&full), read(&only));
    let _ = std::fs::remove_dir_all(&base);
}
