//! `podlab bench --quick --json`: every figure is there with a positive measurement (the OpenB
//! one on the repository's own copy of its trace; the Python ones where a Python imports the
//! package, else saying how to get them), and `--only` measures just what it names. The
//! figures across the boundary of a policy of one's own are measured for real in Rust; the
//! Python ones are read from stand-in Pythons, so the reading is tested without the package.
//! Performance targets are never asserted here: a debug build on a shared machine says nothing
//! about them.

mod common;

use std::path::Path;

use common::{podlab, root, stderr, temp_dir};

/// `podlab bench ARGS…`, which must succeed: the JSON it prints.
fn bench(args: &[&str]) -> serde_json::Value {
    let output = podlab(&[&["bench"][..], args].concat());
    assert!(output.status.success(), "podlab bench failed: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("podlab bench --json prints JSON")
}

const FIGURES: [&str; 18] = [
    "queue-1k",
    "queue-1m",
    "decision-all",
    "decision-adaptive",
    "first-fit-10k",
    "first-fit-100k",
    "end-to-end-time",
    "end-to-end-memory",
    "google-day-time",
    "google-day-memory",
    "openb",
    "paper-day",
    "bytes-per-pod",
    "registry-first-fit",
    "exec-first-fit",
    "python-in-process",
    "python-exec",
    "gym-random",
];

/// The figures the Python package measures: absent where no Python imports it.
const PYTHON_FIGURES: [&str; 3] = ["python-in-process", "python-exec", "gym-random"];

#[test]
fn quick_json_has_every_figure_measured() {
    let report = bench(&["--quick", "--json"]);
    assert_eq!(report["schema"], "podlab.bench/v1");
    assert_eq!(report["quick"], true);
    assert!(report["machine"]["cores"].as_u64().is_some_and(|n| n > 0));
    let figures = report["figures"].as_array().expect("figures");
    let ids: Vec<&str> = figures.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, FIGURES);
    // The OpenB trace is in the repository, where the default --openb-traces finds it: the
    // figure is always measured.
    let trace = root().join("data/traces/openb/openb_pod_list_default.csv");
    assert!(trace.is_file(), "{} is missing", trace.display());
    let proc_status = Path::new("/proc/self/status").exists();
    for figure in figures {
        let id = figure["id"].as_str().unwrap();
        // Quick figures are not the targets' sizes: never judged.
        assert!(figure["met"].is_null(), "{id}: {figure}");
        assert!(figure["target"].as_f64().is_some_and(|t| t > 0.0), "{id}");
        let absent = !proc_status && matches!(id, "end-to-end-memory" | "google-day-memory" | "bytes-per-pod");
        let python_absent = PYTHON_FIGURES.contains(&id) && figure["measured"].is_null();
        if python_absent {
            let note = figure["note"].as_str().unwrap_or_default();
            assert!(note.starts_with("not measured: "), "{id}: {figure}");
            eprintln!("{id}: {note}");
        } else if absent {
            eprintln!("{id}: not measured here: {}", figure["note"]);
            assert!(figure["measured"].is_null() && figure["note"].is_string(), "{id}: {figure}");
        } else {
            assert!(figure["measured"].as_f64().is_some_and(|m| m > 0.0), "{id}: {figure}");
        }
    }
}

#[test]
fn only_measures_what_it_names() {
    let report = bench(&["--quick", "--json", "--only", "first-fit-10k", "--only", "queue-1k"]);
    let ids: Vec<&str> = report["figures"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["queue-1k", "first-fit-10k"]);
}

/// The figures of the first fit in Rust, through the registry and over the exec protocol
/// (this binary serving the client), are measured for real in quick mode.
#[test]
fn the_rust_boundary_figures_are_measured() {
    let report = bench(&["--quick", "--json", "--only", "exec-first-fit", "--only", "registry-first-fit"]);
    let figures = report["figures"].as_array().unwrap();
    let ids: Vec<&str> = figures.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["registry-first-fit", "exec-first-fit"]);
    let ratio = &figures[0];
    assert_eq!((ratio["unit"].as_str(), ratio["target"].as_f64()), (Some("ratio"), Some(1.1)));
    assert!(ratio["measured"].as_f64().is_some_and(|r| r > 0.0), "{ratio}");
    assert!(ratio["method"].as_str().unwrap().contains("kubernetes"), "{ratio}");
    let exec = &figures[1];
    assert!(exec["measured"].as_f64().is_some_and(|r| r > 0.0), "{exec}");
    assert!(exec["note"].is_null(), "{exec}");
}

/// A client that cannot start is a figure not measured, saying why: never a failed bench.
#[test]
fn a_failing_exec_client_is_reported_not_measured() {
    let report = bench(&["--quick", "--json", "--only", "exec-first-fit", "--exec-client", "/nonexistent/client"]);
    let figure = &report["figures"][0];
    assert!(figure["measured"].is_null(), "{figure}");
    let note = figure["note"].as_str().unwrap();
    assert!(note.starts_with("not measured: ") && note.contains("--exec-client"), "{note}");
}

/// A stand-in for Python: a shell script answering as `python/benchmarks/throughput.py` would.
fn fake_python(name: &str, script: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = temp_dir(name);
    let path = dir.join("python");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn python_figures(python: &Path) -> Vec<serde_json::Value> {
    let python = python.to_str().unwrap();
    let only = ["--only", "python-in-process", "--only", "python-exec", "--only", "gym-random"];
    let report = bench(&[&["--quick", "--json", "--python", python][..], &only].concat());
    report["figures"].as_array().unwrap().clone()
}

#[test]
fn python_figures_are_read_from_the_script_or_say_how_to_get_them() {
    let missing = fake_python("missing", "echo \"ModuleNotFoundError: No module named 'podlab'\" >&2; exit 1");
    for figure in python_figures(&missing) {
        let note = figure["note"].as_str().unwrap();
        assert!(figure["measured"].is_null() && note.ends_with("cannot import podlab: pip install ./python"), "{note}");
    }
    let nowhere = python_figures(Path::new("/nonexistent/python3"));
    assert!(nowhere.iter().all(|f| f["note"].as_str().unwrap().contains("cannot run")), "{nowhere:?}");
    // The script's JSON: two figures taken, the Gymnasium one missing its package.
    let json = r#"{"in_process": {"decisions": 1000, "seconds": 0.05, "runs": 3}, "exec": {"decisions": 1000, "seconds": 0.5, "runs": 3}, "gym": {"missing": "No module named gymnasium"}}"#;
    let answers = fake_python("answers", &format!("echo '{json}'"));
    let figures = python_figures(&answers);
    assert_eq!(figures[0]["measured"].as_f64(), Some(20_000.0));
    assert_eq!(figures[1]["measured"].as_f64(), Some(2_000.0));
    assert!(figures[2]["measured"].is_null());
    assert!(figures[2]["note"].as_str().unwrap().contains("pip install './python[gym]'"), "{}", figures[2]);
    std::fs::remove_dir_all(answers.parent().unwrap()).unwrap();
    std::fs::remove_dir_all(missing.parent().unwrap()).unwrap();
}
