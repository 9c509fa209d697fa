//! What podlab writes and what it records, against hostile names and neighbours: no name in a
//! scenario reaches outside `--out`; outputs go only to regular files and directories; one
//! writer holds an output directory at a time; a run directory's record replays the very
//! scenario that ran, from anywhere; and every command answers with the documented exit code.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{ONE_NODE, podlab, podlab_command, podlab_in, stderr, stdout, temp_dir, text};

/// Every entry under `dir`, by relative path.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn named(name: &str) -> String {
    format!(
        "{ONE_NODE}---\napiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata:\n  name: {name}\nspec: {{seed: 1}}\n"
    )
}

/// A Simulation named `../…`, absolutely or with a NUL is refused where the name is written
/// (line 9, column 9), exit 2, by every command that writes — and nothing is created,
/// inside or outside the output directory.
#[test]
fn a_name_that_leaves_out_is_refused_at_its_position() {
    let dir = temp_dir("names");
    let victim = dir.join("victim");
    let absolute = format!("\"{}\"", victim.display());
    for (k, name) in
        ["\"../../victim\"", absolute.as_str(), "\"..\"", "\"a..b\"", "\"x\\0y\"", "Upper"].iter().enumerate()
    {
        let file = dir.join(format!("s{k}.yaml"));
        std::fs::write(&file, named(name)).unwrap();
        let out = dir.join("out");
        for args in [
            vec!["compare", text(&file), "--out", text(&out)],
            vec!["run", text(&file), "--out", text(&out)],
            vec!["validate", text(&file)],
        ] {
            let result = podlab(&args);
            let err = stderr(&result);
            assert_eq!(result.status.code(), Some(2), "{name} {args:?}: {err}");
            assert!(err.contains(&format!("s{k}.yaml:9:9")), "{name} {args:?}: no position in {err}");
            assert!(err.contains("is not a valid Simulation name"), "{name}: {err}");
        }
        assert!(!out.exists() && !victim.exists(), "{name} created something");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Defence in depth: a name that never was a `metadata.name` — a file `...yaml`, whose stem
/// `..` names the scenario — is refused before anything is written, by `compare` and `sweep`.
#[test]
fn a_file_name_that_leaves_out_is_refused() {
    let dir = temp_dir("stem");
    let file = dir.join("...yaml");
    std::fs::write(
        &file,
        format!("{ONE_NODE}---\napiVersion: podlab.dev/v1alpha1\nkind: Simulation\nspec: {{seed: 1}}\n"),
    )
    .unwrap();
    let out = dir.join("out");
    let result = podlab(&["compare", text(&file), "--out", text(&out)]);
    let err = stderr(&result);
    assert_eq!(result.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot name its output folders"), "{err}");
    assert!(!out.exists(), "{:?}", listing(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Outputs go only to regular files and directories: `/dev/null` and a FIFO as `--out` are a
/// clear error, exit 2, for the commands that write files and folders, and stay what they were.
#[test]
fn a_device_or_fifo_is_no_output() {
    use std::os::unix::fs::FileTypeExt as _;
    let dir = temp_dir("devices");
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs").success());
    let nodes = "data/traces/openb/openb_node_list_gpu_node.csv";
    let pods = "data/traces/openb/openb_pod_list_default.csv";
    for target in [Path::new("/dev/null"), fifo.as_path()] {
        let t = text(target);
        for args in [
            vec!["import", "openb", "--nodes", nodes, "--pods", pods, "--max-pods", "5", "--out", t],
            vec!["compare", "scenarios/coscheduling.yaml", "--out", t],
            vec!["run", "scenarios/coscheduling.yaml", "--out", t],
            vec!["sweep", "run", "sweeps/coscheduling.yaml", "--out", t],
            vec!["teach", "problem", "--html", t],
        ] {
            let result = podlab(&args);
            let err = stderr(&result);
            assert_eq!(result.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains(t) && (err.contains("a character device") || err.contains("a FIFO")),
                "{args:?}: {err}"
            );
        }
    }
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two `compare --out D` started together: exactly one succeeds; the other is refused, exit
/// 2, either by the lock (while the first writes) or by the first's finished comparison.
#[test]
fn two_writers_race_and_one_wins() {
    let dir = temp_dir("race");
    let out = dir.join("out");
    let spawn = || {
        podlab_command(&[
            "compare",
            "scenarios/paper/omega-paper.yaml",
            "--seeds",
            "2",
            "--jobs",
            "1",
            "--out",
            text(&out),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("podlab starts")
    };
    let (a, b) = (spawn(), spawn());
    let results = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let won: Vec<&Output> = results.iter().filter(|r| r.status.success()).collect();
    assert_eq!(won.len(), 1, "{:?}", results.iter().map(stderr).collect::<Vec<_>>());
    let lost = results.iter().find(|r| !r.status.success()).unwrap();
    assert_eq!(lost.status.code(), Some(2), "{}", stderr(lost));
    let err = stderr(lost);
    assert!(err.contains("being written by another podlab") || err.contains("earlier comparison"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// While another process holds an output directory, every writer is refused at once, exit 2,
/// naming the holder: `run`, `compare` (even with `--force` or `--resume`), `sweep merge`;
/// `sweep run` shards share it with each other but not with a merge.
#[test]
fn a_held_output_directory_refuses_other_writers() {
    let dir = temp_dir("held");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let lock = std::fs::File::create(out.join(".podlab.lock")).unwrap();
    lock.try_lock().unwrap();
    std::fs::write(out.join(".podlab.lock"), "pid 1 on elsewhere: podlab compare\n").unwrap();
    let o = text(&out);
    for args in [
        vec!["run", "scenarios/coscheduling.yaml", "--out", o],
        vec!["compare", "scenarios/coscheduling.yaml", "--out", o],
        vec!["compare", "scenarios/coscheduling.yaml", "--out", o, "--force"],
        vec!["compare", "scenarios/coscheduling.yaml", "--out", o, "--resume"],
        vec!["sweep", "run", "sweeps/coscheduling.yaml", "--out", o],
        vec!["sweep", "merge", "sweeps/coscheduling.yaml", "--out", o],
    ] {
        let result = podlab(&args);
        let err = stderr(&result);
        assert_eq!(result.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("being written by another podlab (pid 1 on elsewhere: podlab compare)"),
            "{args:?}: {err}"
        );
    }
    drop(lock);
    let shard = std::fs::File::open(out.join(".podlab.lock")).unwrap();
    shard.try_lock_shared().unwrap();
    let merge = podlab(&["sweep", "merge", "sweeps/coscheduling.yaml", "--out", o]);
    assert_eq!(merge.status.code(), Some(2), "{}", stderr(&merge));
    assert!(stderr(&merge).contains("being written by another podlab"), "{}", stderr(&merge));
    drop(shard);
    assert_eq!(listing(&out), vec![".podlab.lock"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `explain RUN_DIR` replays the scenario recorded relative to the run directory, whatever the
/// current directory holds under the same relative path, and after both were moved together;
/// once the scenario's bytes change, it refuses (exit 2) rather than explain another run.
#[test]
fn explain_replays_the_recorded_scenario_or_refuses() {
    let dir = temp_dir("explain");
    let repo = common::root();
    let original = dir.join("a");
    std::fs::create_dir_all(original.join("scenarios")).unwrap();
    std::fs::copy(repo.join("scenarios/coscheduling.yaml"), original.join("scenarios/coscheduling.yaml")).unwrap();
    let run = podlab_in(&original, &["run", "scenarios/coscheduling.yaml", "--out", "out"]);
    assert!(run.status.success(), "{}", stderr(&run));
    // Elsewhere, a different scenario under the same relative path.
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir_all(elsewhere.join("scenarios")).unwrap();
    std::fs::copy(repo.join("scenarios/spread.yaml"), elsewhere.join("scenarios/coscheduling.yaml")).unwrap();
    let moved = dir.join("moved");
    std::fs::rename(&original, &moved).unwrap();
    let explained = podlab_in(&elsewhere, &["explain", text(&moved.join("out/kubernetes")), "app-with-logs"]);
    assert!(explained.status.success(), "{}", stderr(&explained));
    let said = stdout(&explained);
    assert!(said.contains("kubernetes     Succeeded  on node-b"), "{said}");
    assert!(said.contains("per-container  Succeeded  on node-a + node-b"), "{said}");
    let scenario = moved.join("scenarios/coscheduling.yaml");
    let mut changed = std::fs::read_to_string(&scenario).unwrap();
    changed.push_str("# changed after the run\n");
    std::fs::write(&scenario, changed).unwrap();
    let refused = podlab_in(&elsewhere, &["explain", text(&moved.join("out")), "app-with-logs"]);
    let err = stderr(&refused);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(err.contains("is not the scenario this run was made from"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A shard's `result.json` that is not JSON makes `sweep merge` exit 2 (bad input), naming
/// the file — never 1, the code of a failed expectation.
#[test]
fn a_corrupt_shard_is_bad_input() {
    let dir = temp_dir("corrupt");
    let plan = podlab(&["sweep", "plan", "sweeps/coscheduling.yaml"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let ids: Vec<String> = stdout(&plan)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().filter(|id| id.len() == 16).map(String::from))
        .collect();
    assert_eq!(ids.len(), 30);
    for id in &ids {
        std::fs::create_dir_all(dir.join("runs").join(id)).unwrap();
        std::fs::write(dir.join("runs").join(id).join("result.json"), "{\"schema\": truncated").unwrap();
    }
    let merge = podlab(&["sweep", "merge", "sweeps/coscheduling.yaml", "--out", text(&dir)]);
    let err = stderr(&merge);
    assert_eq!(merge.status.code(), Some(2), "{err}");
    assert!(err.contains("result.json is not a run result"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Each command's classes of failure and their exit codes: 2 for bad input (a missing or
/// malformed file, a bad flag or value) and for the environment (an output that cannot be
/// written), 1 for a failed expectation; never a panic.
#[test]
fn every_command_exits_with_its_documented_code() {
    let dir = temp_dir("codes");
    // The co-scheduling scenario with an expectation that cannot hold under `kubernetes`.
    let failing = dir.join("failing.yaml");
    let scenario = std::fs::read_to_string(common::root().join("scenarios/coscheduling.yaml"));
    let wrong =
        scenario.unwrap().replace("{phase: Running, node: node-b, split: false}", "{phase: Running, node: node-a}");
    std::fs::write(&failing, wrong).unwrap();
    let missing = text(&dir.join("missing.yaml")).to_string();
    let m = missing.as_str();
    let null = "/dev/null";
    let (failing_out, empty) = (dir.join("failing-out"), dir.join("empty"));
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["run", m], 2),
        (vec!["run", "scenarios/coscheduling.yaml", "--seed", "x"], 2),
        (vec!["run", "scenarios/coscheduling.yaml", "--out", null], 2),
        (vec!["run", text(&failing), "--policy", "kubernetes"], 1),
        (vec!["compare", m], 2),
        (vec!["compare", "scenarios/coscheduling.yaml", "--set", "no.such=1", "--out", null], 2),
        (vec!["compare", "scenarios/coscheduling.yaml", "--out", null], 2),
        (vec!["compare", text(&failing), "--policy", "kubernetes", "--out", text(&failing_out)], 1),
        (vec!["sweep", "plan", m], 2),
        (vec!["sweep", "run", m, "--out", text(&dir)], 2),
        (vec!["sweep", "run", "sweeps/coscheduling.yaml", "--shard", "3/3", "--out", text(&dir)], 2),
        (vec!["sweep", "merge", "sweeps/coscheduling.yaml", "--out", text(&empty)], 2),
        (vec!["explain", text(&dir), "x"], 2),
        (vec!["teach", "no-such-lesson"], 2),
        (vec!["teach", "problem", "--html", null], 2),
        (vec!["validate", m], 2),
        (vec!["import", "swf", m], 2),
        (vec!["import", "google-prefill", m], 2),
        (vec!["import", "omega", m], 2),
        (vec!["import", "openb", "--nodes", m, "--pods", m], 2),
        (vec!["experiment", "openb", "--seeds", "0"], 2),
        (vec!["experiment", "openb", "--out", null], 2),
        (vec!["fuzz", "--seeds", "x"], 2),
        (vec!["bench", "--only", "no-such-figure"], 2),
        (vec!["real", m], 2),
        (vec!["policies", "--no-such-flag"], 2),
    ];
    for (args, code) in cases {
        let result = podlab(&args);
        let err = stderr(&result);
        assert_eq!(result.status.code(), Some(code), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `compare --resume` prunes what its plan does not hold under `runs/` by each entry's own
/// type: a symbolic link to a folder elsewhere is removed as a link, and the folder it points
/// to keeps every file.
#[test]
fn resume_never_follows_a_link_out() {
    let dir = temp_dir("resume-link");
    let out = dir.join("out");
    let outside = dir.join("outside");
    std::fs::create_dir_all(outside.join("seed-1")).unwrap();
    std::fs::write(outside.join("seed-1/keep.txt"), "mine").unwrap();
    let args = ["compare", "scenarios/coscheduling.yaml", "--policy", "kubernetes", "--out", text(&out)];
    let first = podlab(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    for link in ["runs/coscheduling/linked", "runs/coscheduling/kubernetes/seed-1"] {
        std::os::unix::fs::symlink(&outside, out.join(link)).unwrap();
    }
    let resumed = podlab(&[&args[..], &["--resume"]].concat());
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(std::fs::read_to_string(outside.join("seed-1/keep.txt")).unwrap(), "mine");
    assert!(std::fs::symlink_metadata(out.join("runs/coscheduling/linked")).is_err());
    assert!(std::fs::symlink_metadata(out.join("runs/coscheduling/kubernetes/seed-1")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
