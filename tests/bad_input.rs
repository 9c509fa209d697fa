//! Every class of bad input the reliability issue names — alias bombs, huge counts, deep
//! nesting, a 100 MB file, invalid UTF-8, workloads that would explode, paths that leave the
//! scenario's folder — gets a clear, positioned error and exit code 2 through the command line;
//! and outputs stay safe: never overwritten without `--force`, no temporary file left by an
//! unwritable `--out` or by a `compare` killed at any moment.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{
    ONE_NODE, assert_bad_input, one_node_simulation as sim, podlab, podlab_command, scenario_file, stderr, temp_dir,
};

/// Runs `podlab ARGS… FILE` on `text` written to a temporary file, expecting exit code 2, no
/// panic, and `want` and `FILE:LINE:` in the message (any line inside the file when `None`).
fn expect_bad(name: &str, args: &[&str], text: &[u8], want: &str, line: Option<u32>) -> String {
    let (dir, file) = scenario_file(name, text);
    let mut all: Vec<&str> = args.to_vec();
    all.push(file.to_str().unwrap());
    let stderr = assert_bad_input(&podlab(&all), &name, &[want]);
    match line {
        Some(line) => assert!(stderr.contains(&format!("{name}.yaml:{line}:")), "{name}: not at line {line}: {stderr}"),
        None => {
            let lines = text.iter().filter(|b| **b == b'\n').count() + 1;
            let at = stderr.split(&format!("{name}.yaml:")).nth(1).unwrap_or_else(|| panic!("no position: {stderr}"));
            let line: usize = at.split(':').next().unwrap().parse().unwrap();
            assert!((1..=lines).contains(&line), "{name}: line {line} outside the file: {stderr}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    stderr
}

/// A billion-laughs alias bomb is refused by the YAML library's budget, at a position.
#[test]
fn alias_bomb() {
    let mut text = String::from(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n  labels:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("    a{i}: &a{i} [{}]\n", [prev.as_str(); 10].join(", ")));
    }
    let stderr = expect_bad("bomb", &["validate"], text.as_bytes(), "error", None);
    assert!(stderr.len() < 4000, "the message is short: {stderr}");
}

/// Counts of 10^18 — node pools, job tasks, gang sizes, scheduler counts — are refused where
/// they are written; a generator of 10^18 jobs is refused before it builds a single pod.
#[test]
fn huge_counts() {
    let big = "1000000000000000000";
    let pool = sim(&format!("  nodePools: [{{name: p, count: {big}, cpu: \"1\", memory: 1Gi}}]\n"));
    expect_bad("pool", &["validate"], pool.as_bytes(), "", Some(10));
    let job = sim(&format!("  workload: {{jobs: [{{name: j, at: 0s, tasks: {big}, cpu: 1m, memory: 1Mi}}]}}\n"));
    expect_bad("tasks", &["validate"], job.as_bytes(), "", Some(10));
    let gang = format!(
        "{ONE_NODE}---\napiVersion: scheduling.k8s.io/v1alpha1\nkind: Workload\nmetadata: {{name: w}}\nspec: {{podGroups: [{{name: g, policy: {{gang: {{minCount: {big}}}}}}}]}}\n"
    );
    expect_bad("replicas", &["validate"], gang.as_bytes(), "", Some(9));
    let omega = sim(&format!("  omega: {{schedulers: [{{name: s, count: {big}}}]}}\n"));
    expect_bad("schedulers", &["validate"], omega.as_bytes(), "", Some(10));
}

/// A generated workload that would explode is refused with a clear message and exit code 2 —
/// counted before any pod exists, so it costs neither minutes nor memory.
#[test]
fn exploding_generated_workload() {
    let dir = temp_dir("explode");
    let file = dir.join("explode.yaml");
    let text = sim(
        "  workload:\n    generators:\n    - {name: flood, count: 1000000000000000000, interArrival: {distribution: constant, value: 0s}, tasks: {distribution: constant, value: \"1000\"}, runFor: {distribution: constant, value: 1s}, cpu: 1m, memory: 1Mi}\n",
    );
    std::fs::write(&file, text).unwrap();
    let out = podlab(&["run", file.to_str().unwrap(), "--policy", "kubernetes"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("generates more than 16000000 pods"), "{stderr}");
    // A prefill of tasks asking no CPU would never fill the cell: refused at load.
    let prefill = sim(
        "  workload:\n    prefill: {cpuUtilisation: 0.5, tasks: {distribution: constant, value: \"1\"}, cpu: \"0\", memory: 1Mi}\n",
    );
    expect_bad("prefill", &["validate"], prefill.as_bytes(), "above 0", Some(11));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Nesting 100,000 levels deep is refused at its place, with a short message.
#[test]
fn deep_nesting() {
    let text = format!("apiVersion: v1\nkind: Node\nmetadata: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let stderr = expect_bad("deep", &["run"], text.as_bytes(), "", Some(3));
    assert!(stderr.contains("nesting deeper than") || stderr.contains("recursion limit"), "{stderr}");
    assert!(stderr.len() < 2000, "{stderr}");
}

/// A 100 MB file is refused before it is read, at line 1, by `validate`, `run` and `compare`.
#[test]
fn a_hundred_megabyte_file() {
    let dir = temp_dir("huge");
    let file = dir.join("huge.yaml");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        let line = format!("# {}\n", "x".repeat(1022));
        for _ in 0..100 * 1024 {
            f.write_all(line.as_bytes()).unwrap();
        }
    }
    for command in ["validate", "run", "compare"] {
        let out_dir = dir.join("out");
        let out = podlab(
            &[command, file.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]
                [..if command == "compare" { 4 } else { 2 }],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(stderr.contains("at most 64 MiB") && stderr.contains("huge.yaml:1:1"), "{command}: {stderr}");
        assert!(!out_dir.exists(), "{command} wrote outputs for a refused scenario");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Invalid UTF-8 is reported at the first bad byte's line.
#[test]
fn invalid_utf8() {
    let mut bytes = ONE_NODE.as_bytes().to_vec();
    bytes.extend(b"---\napiVersion: v1\nkind: Pod\nmetadata: {name: \"\xff\xfe\"}\n");
    expect_bad("utf8", &["run"], &bytes, "not valid UTF-8", Some(8));
}

/// A scenario cannot read a file outside its folder — `..`, an absolute path, or a symbolic
/// link pointing out — unless `--allow-paths-outside` (or PODLAB_ALLOW_PATHS_OUTSIDE=1) says so;
/// the error names the file, line and column.
#[test]
fn paths_stay_inside_the_scenario_folder() {
    let root = temp_dir("paths");
    let inner = root.join("scenario");
    std::fs::create_dir_all(&inner).unwrap();
    let log = "cell policy 0 1.5\ncell policy 0 3\n";
    std::fs::write(root.join("outside.log"), log).unwrap();
    std::fs::write(inner.join("inside.log"), log).unwrap();
    std::os::unix::fs::symlink(root.join("outside.log"), inner.join("link.log")).unwrap();
    let scenario = |file: &str| {
        sim(&format!(
            "  workload:\n    generators:\n    - {{name: g, count: 2, interArrival: {{distribution: empirical, file: \"{file}\"}}, tasks: {{distribution: constant, value: \"1\"}}, runFor: {{distribution: constant, value: 1s}}, cpu: 1m, memory: 1Mi}}\n"
        ))
    };
    let outside = root.join("outside.log");
    for (i, file) in ["../outside.log", outside.to_str().unwrap(), "link.log", "./inside.log"].iter().enumerate() {
        let path = inner.join(format!("s{i}.yaml"));
        let text = scenario(file);
        std::fs::write(&path, &text).unwrap();
        let refused = podlab(&["validate", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        if *file == "./inside.log" {
            assert_eq!(refused.status.code(), Some(0), "{stderr}");
            continue;
        }
        assert_eq!(refused.status.code(), Some(2), "{file}: {stderr}");
        let col = text.lines().nth(11).unwrap().find(&format!("\"{file}\"")).unwrap() + 1;
        assert!(stderr.contains(&format!("s{i}.yaml:12:{col}")), "{file}: {stderr}");
        assert!(
            stderr.contains("outside the scenario's folder") && stderr.contains("--allow-paths-outside"),
            "{stderr}"
        );
        let allowed = podlab(&["validate", "--allow-paths-outside", path.to_str().unwrap()]);
        assert_eq!(allowed.status.code(), Some(0), "{}", String::from_utf8_lossy(&allowed.stderr));
        let by_env = podlab_command(&["validate", path.to_str().unwrap()])
            .env("PODLAB_ALLOW_PATHS_OUTSIDE", "1")
            .output()
            .unwrap();
        assert_eq!(by_env.status.code(), Some(0));
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// Temporary files and directories (`.NAME.tmp-…`, `.NAME.old-…`) anywhere under `dir`.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains(".tmp-") || name.contains(".old-") {
            found.push(path.clone());
        }
        if path.is_dir() {
            found.extend(leftovers(&path));
        }
    }
    found
}

/// An `--out` that cannot be written (a path through a regular file) is a clear error with
/// exit code 2, and leaves no temporary file behind, for `run` and `compare`.
#[test]
fn unwritable_out_is_a_clear_error() {
    let dir = temp_dir("unwritable");
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let out = blocker.join("out");
    for command in ["run", "compare"] {
        let result = podlab(&[command, "scenarios/coscheduling.yaml", "--out", out.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{command}: {stderr}");
        assert!(stderr.contains(out.to_str().unwrap()) && stderr.contains("Not a directory"), "{command}: {stderr}");
        assert_eq!(leftovers(&dir), Vec::<PathBuf>::new());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `run --out` refuses a policy directory holding anything (not only an earlier summary):
/// it replaces that directory whole, so it must not take a user's files with it.
#[test]
fn run_never_replaces_a_foreign_directory() {
    let dir = temp_dir("foreign");
    std::fs::create_dir_all(dir.join("kubernetes")).unwrap();
    std::fs::write(dir.join("kubernetes/notes.txt"), "mine").unwrap();
    let out = podlab(&["run", "scenarios/coscheduling.yaml", "--policy", "kubernetes", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(dir.join("kubernetes/notes.txt")).unwrap(), "mine");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `compare` stopped by SIGTERM or SIGINT at any moment leaves no temporary file and only
/// complete runs: every run directory holds all five files.
#[test]
fn a_killed_compare_leaves_only_whole_runs() {
    let dir = temp_dir("killed");
    for (k, delay_ms) in [30u64, 120, 300, 600, 1000, 1600].into_iter().enumerate() {
        let out = dir.join(format!("out-{k}"));
        let args =
            ["compare", "scenarios/paper/omega-paper.yaml", "--seeds", "3", "--jobs", "2", "--force-jobs", "--out"];
        let mut child = podlab_command(&args)
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let signal = if k % 2 == 0 { "-TERM" } else { "-INT" };
        let _ = Command::new("kill").args([signal, &child.id().to_string()]).status();
        let _ = child.wait().unwrap();
        assert_eq!(leftovers(&out), Vec::<PathBuf>::new(), "killed after {delay_ms} ms");
        let runs = out.join("runs/omega-paper");
        for policy in std::fs::read_dir(&runs).into_iter().flatten() {
            for seed in std::fs::read_dir(policy.unwrap().path()).unwrap() {
                let seed = seed.unwrap().path();
                for file in ["summary.json", "events.jsonl", "placements.csv", "trace.json", "result.json"] {
                    assert!(seed.join(file).is_file(), "{} lacks {file} (killed after {delay_ms} ms)", seed.display());
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
