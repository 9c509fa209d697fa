//! `podlab sweep`: a sweep run in three shards and merged writes the very bytes a one-shot
//! `podlab compare` of the same scenarios, policies and seeds writes; shards skip runs already
//! done; merging an incomplete sweep or loading a bad sweep file is a clear error.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{ok, podlab, podlab_env, root, stderr, temp_path};

/// Every file under `root`, by relative path, with its bytes (`runs/` left out: a sweep lays
/// its runs out by id, a comparison by scenario, policy and seed).
fn outputs(root: &Path) -> BTreeMap<String, Vec<u8>> {
    common::file_tree(root, &["runs"])
}

const SWEEP: &str = "sweeps/coscheduling.yaml";

/// Three shards (one taking its index from JOB_COMPLETION_INDEX, as a Kubernetes Indexed Job
/// gives it) then a merge give byte-identical results.csv, charts and report.html to one
/// `compare`; a shard run again skips its runs; merging before every shard ran names what is
/// missing and exits 2.
#[test]
fn sharded_sweep_merges_to_the_one_shot_bytes() {
    let sharded = temp_path("sharded");
    let one_shot = temp_path("one-shot");
    let out = sharded.to_str().unwrap();

    let plan = ok(&podlab(&["sweep", "plan", SWEEP, "--shards", "3"]));
    assert!(plan.ends_with("30 runs\n"), "{plan}");
    for shard in ["0/3", "1/3", "2/3"] {
        assert_eq!(plan.lines().filter(|l| l.ends_with(&format!(" {shard}"))).count(), 10, "{plan}");
    }

    ok(&podlab(&["sweep", "run", SWEEP, "--shard", "0/3", "--out", out]));
    let early = podlab(&["sweep", "merge", SWEEP, "--out", out]);
    assert_eq!(early.status.code(), Some(2));
    assert!(stderr(&early).contains("20 of 30 runs are not under"), "{early:?}");

    ok(&podlab_env(
        &["sweep", "run", SWEEP, "--shard", "3", "--out", out, "--jobs", "2", "--force-jobs"],
        &[("JOB_COMPLETION_INDEX", "1")],
    ));
    let last = ok(&podlab(&["sweep", "run", SWEEP, "--shard", "2/3", "--out", out, "--jobs", "1"]));
    assert!(last.contains("ran 10, 0 were already done"), "{last}");
    let again = ok(&podlab(&["sweep", "run", SWEEP, "--shard", "2/3", "--out", out]));
    assert!(again.contains("ran 0, 10 were already done"), "{again}");
    ok(&podlab(&["sweep", "merge", SWEEP, "--out", out]));

    let scenarios = ["scenarios/coscheduling.yaml", "scenarios/coscheduling-podgroup.yaml", "scenarios/spread.yaml"];
    let flags =
        ["--policy", "per-container", "--policy", "kubernetes", "--seeds", "5", "--out", one_shot.to_str().unwrap()];
    ok(&podlab(&[&["compare"][..], &scenarios, &flags].concat()));

    let (a, b) = (outputs(&sharded), outputs(&one_shot));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a.contains_key("results.csv") && a.contains_key("report.html"));
    assert!(a.keys().filter(|k| k.ends_with(".svg")).count() >= 12);
    for (path, bytes) in &a {
        assert!(bytes == &b[path], "{path} differs between the merged sweep and the one-shot comparison");
    }
    let runs = std::fs::read_dir(sharded.join("runs")).unwrap().count();
    assert_eq!(runs, 30, "one directory per run, no temporary left behind");
    std::fs::remove_dir_all(&sharded).unwrap();
    std::fs::remove_dir_all(&one_shot).unwrap();
}

/// A bad sweep file is reported at its line and column with exit code 2; so is a shard out of
/// range, or a shard count without an index.
#[test]
fn bad_sweeps_are_positioned_errors() {
    let dir = temp_path("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = root().join("scenarios/spread.yaml");
    std::fs::copy(&scenario, dir.join("spread.yaml")).unwrap();
    let head = "apiVersion: podlab.dev/v1alpha1\nkind: Sweep\nspec:\n";
    let cases = [
        ("  scenarios: [spread.yaml]\n  seedz: 3\n", "bad.yaml:5:3", "unknown field `seedz`"),
        (
            "  scenarios: [spread.yaml]\n  policies: [kubernetes, gang-ish]\n",
            "bad.yaml:5:26",
            "unknown policy `gang-ish`",
        ),
        ("  scenarios: [spread.yaml, missing.yaml]\n", "bad.yaml:4:28", "no scenario file `missing.yaml`"),
        ("  scenarios: [spread.yaml]\n  seeds: 0\n", "bad.yaml:5:10", "seeds must be 1 to"),
        ("  scenarios: []\n", "bad.yaml:4:14", "lists no scenario"),
    ];
    let file = dir.join("bad.yaml");
    for (spec, at, says) in cases {
        std::fs::write(&file, format!("{head}{spec}")).unwrap();
        let out = podlab(&["sweep", "plan", file.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{spec}: {stderr}");
        assert!(stderr.contains(at) && stderr.contains(says), "{spec}: expected {at} {says}, got {stderr}");
    }
    std::fs::write(&file, "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\n").unwrap();
    let wrong_kind = podlab(&["sweep", "plan", file.to_str().unwrap()]);
    assert_eq!(wrong_kind.status.code(), Some(2));
    assert!(stderr(&wrong_kind).contains("expected kind `Sweep`, found `Simulation`"));

    let out = dir.join("out");
    for (shard, says) in [("3/3", "out of range"), ("3", "JOB_COMPLETION_INDEX")] {
        let run = podlab(&["sweep", "run", SWEEP, "--shard", shard, "--out", out.to_str().unwrap()]);
        assert_eq!(run.status.code(), Some(2), "{shard}");
        assert!(stderr(&run).contains(says), "{shard}: {run:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A parameter grid: a sweep with `grid:` and `set:`, run in two shards and merged, gives the
/// bytes of `compare --grid … --set …`; every combination is a scenario variant of its own, with
/// its own rows in results.csv.
#[test]
fn parameter_grids_sweep_like_compare() {
    let dir = temp_path("grid");
    std::fs::create_dir_all(&dir).unwrap();
    let sweep = dir.join("grid.yaml");
    let scenario = root().join("scenarios/spread.yaml");
    std::fs::write(
        &sweep,
        format!(
            "apiVersion: podlab.dev/v1alpha1\nkind: Sweep\nmetadata: {{name: grid}}\nspec:\n  scenarios: [{}]\n  seeds: 2\n  set: {{scheduler.tTask: 1ms}}\n  grid:\n    scheduler.scoringStrategy: [LeastAllocated, MostAllocated]\n    scheduler.tJob: [1ms, 2s]\n",
            scenario.display()
        ),
    )
    .unwrap();
    let sharded = dir.join("sharded");
    let one_shot = dir.join("one-shot");
    let (s, o) = (sweep.to_str().unwrap(), sharded.to_str().unwrap());
    let plan = ok(&podlab(&["sweep", "plan", s, "--shards", "2"]));
    assert!(plan.ends_with("8 runs\n"), "{plan}");
    // The variants' names (`spread.scheduler.scoringStrategy=LeastAllocated+…`) are wider than
    // any fixed column: every row still has its five cells, starting under their headings.
    let starts = |line: &str| -> Vec<usize> {
        let bytes = line.as_bytes();
        (0..bytes.len()).filter(|&i| bytes[i] != b' ' && (i == 0 || bytes[i - 1] == b' ')).collect()
    };
    let mut lines = plan.lines();
    let header = starts(lines.next().unwrap());
    assert_eq!(header.len(), 5, "{plan}");
    for line in lines.filter(|l| !l.ends_with(" runs")) {
        assert_eq!(starts(line), header, "{line:?} in\n{plan}");
    }
    ok(&podlab(&["sweep", "run", s, "--shard", "0/2", "--out", o]));
    ok(&podlab(&["sweep", "run", s, "--shard", "1/2", "--out", o]));
    ok(&podlab(&["sweep", "merge", s, "--out", o]));
    ok(&podlab(&[
        "compare",
        scenario.to_str().unwrap(),
        "--seeds",
        "2",
        "--set",
        "scheduler.tTask=1ms",
        "--grid",
        "scheduler.scoringStrategy=LeastAllocated,MostAllocated",
        "--grid",
        "scheduler.tJob=1ms,2s",
        "--out",
        one_shot.to_str().unwrap(),
    ]));
    let (a, b) = (outputs(&sharded), outputs(&one_shot));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        assert!(bytes == &b[path], "{path} differs");
    }
    let csv = String::from_utf8(a["results.csv"].clone()).unwrap();
    for variant in [
        "spread.scheduler.scoringStrategy=LeastAllocated+scheduler.tJob=1ms",
        "spread.scheduler.scoringStrategy=MostAllocated+scheduler.tJob=2s",
    ] {
        assert!(csv.lines().any(|l| l.starts_with(&format!("{variant},kubernetes,1,"))), "{variant} missing");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
