//! `podlab compare`: it writes results.csv, charts, report.html and each run's files; the bytes
//! do not depend on the thread count; earlier results are protected; bad flags exit with 2.

mod common;

use common::{file_tree, podlab, root, stderr, stdout, temp_path};

/// A comparison over two scenarios and three seeds writes the tidy CSV (one row per scenario,
/// policy, seed and metric), an SVG per chart, the report and each run's six files.
#[test]
fn compare_writes_every_output() {
    let out = temp_path("outputs");
    let out_str = out.to_str().unwrap();
    let run =
        podlab(&["compare", "scenarios/coscheduling.yaml", "scenarios/spread.yaml", "--seeds", "3", "--out", out_str]);
    assert!(run.status.success(), "{}", stderr(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("coscheduling — coscheduling.yaml (3 seeds, 42–44)"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("co-location violations") && l.contains(" 1 ") && l.ends_with('0')));

    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("scenario,policy,seed,metric,value"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 5), "{csv}");
    assert!(rows.contains(&vec!["coscheduling", "per-container", "43", "colocation.violations", "1"]), "{csv}");
    assert!(rows.contains(&vec!["coscheduling", "kubernetes", "44", "colocation.violations", "0"]), "{csv}");
    // spread.yaml names one policy; coscheduling.yaml all six; three seeds each.
    let runs: std::collections::BTreeSet<(&str, &str, &str)> = rows.iter().map(|r| (r[0], r[1], r[2])).collect();
    assert_eq!(runs.len(), 3 * 6 + 3, "{runs:?}");

    let files = file_tree(&out, &[]);
    for chart in ["who-went-where", "colocation-violations", "time-to-schedule-cdf", "cpu-allocated-over-time"] {
        let svg = files.get(&format!("charts/coscheduling/{chart}.svg")).unwrap_or_else(|| panic!("no {chart}"));
        assert!(svg.starts_with(b"<svg"), "{chart}");
    }
    assert!(!files.keys().any(|k| k.ends_with(".png")), "PNG only with --png");
    // The split pod's parts say which container went where; a label too long for its bar
    // gives its container's name alone.
    let story = String::from_utf8_lossy(&files["charts/coscheduling/who-went-where.svg"]);
    assert!(story.contains("\napp-with-logs/app\n</text>") && story.contains("\nlog-collector\n</text>"), "{story}");
    for f in ["summary.json", "events.jsonl", "placements.csv", "trace.json", "result.json", "run.key"] {
        assert!(files.contains_key(&format!("runs/coscheduling/kubernetes/seed-43/{f}")), "no {f}");
    }
    assert!(!files.keys().any(|k| k.contains(".tmp")), "a temporary file was left behind");
    let html = String::from_utf8(files["report.html"].clone()).unwrap();
    assert!(html.contains("<table class=\"metrics\">") && html.contains("the Pod is placed whole"), "{html}");
    assert!(!html.contains(out_str), "the report names a path of this machine");
    std::fs::remove_dir_all(&out).unwrap();
}

/// One thread or four, the comparison's files are byte-identical: results are ordered by
/// scenario, policy and seed, never by completion.
#[test]
fn bytes_do_not_depend_on_jobs() {
    let (a, b) = (temp_path("jobs1"), temp_path("jobs4"));
    for (dir, jobs) in [(&a, "1"), (&b, "4")] {
        let args = ["compare", "scenarios/spread.yaml", "scenarios/coscheduling.yaml", "--seeds", "4", "--png"];
        let run = podlab(&[&args[..], &["--jobs", jobs, "--force-jobs", "--out", dir.to_str().unwrap()]].concat());
        assert!(run.status.success(), "{}", stderr(&run));
    }
    let (ta, tb) = (file_tree(&a, &[]), file_tree(&b, &[]));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(bytes == &tb[path], "{path} differs between --jobs 1 and --jobs 4");
    }
    assert!(ta.keys().any(|k| k.ends_with(".png")));
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

/// A second comparison into the same directory is refused with exit code 2 unless --force,
/// which replaces it.
#[test]
fn earlier_results_need_force() {
    let out = temp_path("force");
    let out_str = out.to_str().unwrap();
    assert!(podlab(&["compare", "scenarios/spread.yaml", "--out", out_str]).status.success());
    let again = podlab(&["compare", "scenarios/spread.yaml", "--out", out_str]);
    assert_eq!(again.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("earlier comparison") && stderr.contains("--force"), "{stderr}");
    let forced = podlab(&["compare", "scenarios/coscheduling.yaml", "--out", out_str, "--force"]);
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));
    // The earlier comparison's runs are gone: the directory shows this comparison only.
    assert!(!out.join("runs/spread").exists());
    assert!(out.join("runs/coscheduling").exists());
    std::fs::remove_dir_all(&out).unwrap();
}

/// Bad input is a clear message and exit code 2, never a panic.
#[test]
fn bad_input_exits_two() {
    let cases: [(&[&str], &str); 4] = [
        (&["compare", "scenarios/spread.yaml", "--seeds", "0"], "--seeds"),
        (&["compare", "scenarios/spread.yaml", "--policy", "mesos-ish"], "mesos-ish"),
        (&["compare", "scenarios/no-such.yaml"], "no-such.yaml"),
        (&["compare", "scenarios/spread.yaml", "scenarios/spread.yaml"], "both named `spread`"),
    ];
    for (args, says) in cases {
        let out = podlab(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?} should say {says}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// The co-scheduling comparison fits one screen: the headline rows chosen for its policies,
/// the verdicts in a line, and where the full table is; `--all-metrics` prints every metric.
#[test]
fn compare_tells_the_story_in_one_screen() {
    let out = temp_path("screen");
    let run = podlab(&["compare", "scenarios/coscheduling.yaml", "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", stderr(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.lines().count() <= 24, "{stdout}");
    for row in ["pods scheduled", "co-location violations", "pods pending at the end", "time to schedule, p99"] {
        assert!(stdout.lines().any(|l| l.starts_with(row)), "no `{row}` row: {stdout}");
    }
    // Mesos's own headline, for the policies that run it; no Omega conflicts without conflicts.
    assert!(stdout.contains("locked in offers (core·s)") && !stdout.contains("conflict fraction"), "{stdout}");
    assert!(stdout.contains("--all-metrics prints every one"), "{stdout}");
    assert!(stdout.contains("all 12 expect: verdicts held (6 runs)"), "{stdout}");
    let all =
        podlab(&["compare", "scenarios/coscheduling.yaml", "--out", out.to_str().unwrap(), "--force", "--all-metrics"]);
    let stdout = String::from_utf8_lossy(&all.stdout);
    assert!(stdout.lines().any(|l| l.starts_with("colocation.spread_groups")), "{stdout}");
    assert!(stdout.lines().count() > 100, "{stdout}");
    std::fs::remove_dir_all(&out).unwrap();
}

/// A failing expectation fails the comparison with exit code 1, and the report says which
/// expectation failed, in how many runs, and why.
#[test]
fn failed_expectation_shows_in_the_report() {
    let dir = temp_path("expect");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(root().join("scenarios/coscheduling.yaml")).unwrap();
    let wrong = text.replace("{phase: Running, node: node-b, split: false}", "{phase: Running, node: node-a}");
    let file = dir.join("coscheduling.yaml");
    std::fs::write(&file, wrong).unwrap();
    let out = dir.join("out");
    let run = podlab(&["compare", file.to_str().unwrap(), "--seeds", "2", "--out", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(stdout(&run).contains("kubernetes: FAILED in 2 of 2 runs"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("10 of 24 <code>expect:</code> verdicts failed"), "{html}");
    assert!(
        html.contains("held in 0 of 2 runs (seed 42: at 1s: pod app-with-logs is on node-b, expected node-a)"),
        "{html}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An interrupted comparison resumes with `--resume` under the same `--out`: the runs already
/// whole are kept, the others run, and every file is the one a comparison from scratch writes.
/// A run made with other settings is not taken for one of the plan's, and what the plan does
/// not hold is removed.
#[test]
fn an_interrupted_comparison_resumes_to_the_same_bytes() {
    let out = temp_path("resume");
    let out_str = out.to_str().unwrap();
    let args = ["compare", "scenarios/coscheduling.yaml", "--seeds", "3", "--out", out_str];
    assert!(podlab(&args).status.success());
    let whole = file_tree(&out, &[]);
    // As an interruption leaves it: some runs written, no comparison files yet.
    for gone in ["results.csv", "report.html", "charts", "runs/coscheduling/mesos/seed-43", "runs/coscheduling/gang"] {
        let path = out.join(gone);
        if path.is_dir() { std::fs::remove_dir_all(&path).unwrap() } else { std::fs::remove_file(&path).unwrap() }
    }
    // A killed process's temporary, and a run an earlier plan had (a fourth seed).
    std::fs::create_dir_all(out.join("runs/coscheduling/mesos/.seed-43.tmp-host-1")).unwrap();
    std::fs::create_dir_all(out.join("runs/coscheduling/omega/seed-45")).unwrap();
    std::fs::write(out.join("runs/coscheduling/omega/seed-45/result.json"), "{}").unwrap();
    let refused = podlab(&args);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("--resume"), "{refused:?}");
    let resumed = podlab(&[&args[..], &["--resume"]].concat());
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    assert!(stderr.contains("resumed: 14 of 18 runs were whole"), "{stderr}");
    assert!(file_tree(&out, &[]) == whole, "a resumed comparison wrote other bytes than one from scratch");
    // Other settings, other runs: none is kept.
    let checked = podlab(&[&args[..], &["--resume", "--check-invariants"]].concat());
    assert!(String::from_utf8_lossy(&checked.stderr).contains("resumed: 0 of 18 runs were whole"));
    std::fs::remove_dir_all(&out).unwrap();
}

/// `--grid` values are columns of results.csv, and the report charts each headline metric the
/// grid moves across its values, and no other.
#[test]
fn grid_values_are_columns_and_charts() {
    let out = temp_path("grid");
    let run = podlab(&[
        "compare",
        "scenarios/coscheduling.yaml",
        "-p",
        "kubernetes",
        "-p",
        "mesos",
        "--grid",
        "mesos.allocatorDecision=100ms,1s,5s",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.code().is_some_and(|c| c <= 1), "{}", stderr(&run));
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(csv.starts_with("scenario,policy,seed,mesos.allocatorDecision,metric,value\n"), "{csv}");
    assert!(csv.contains("\ncoscheduling.mesos.allocatorDecision=5s,mesos,42,5s,time_to_schedule.p50_ns,"), "{csv}");
    let chart = out.join("charts/coscheduling/across-time-to-schedule-p50-ns.svg");
    assert!(std::fs::read_to_string(chart).unwrap().starts_with("<svg"));
    // The allocator's delay moves the offers' locked time; the schedulers' busyness differs by
    // policy but not across the grid, so it has no chart across it.
    assert!(out.join("charts/coscheduling/across-locked-in-offers-cpu-core-seconds.svg").is_file());
    assert!(!out.join("charts/coscheduling/across-all-schedulers-busyness.svg").exists());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<h2>Across the grid</h2>") && html.contains("over a grid of 3 variants"), "{html}");
    std::fs::remove_dir_all(&out).unwrap();
}
