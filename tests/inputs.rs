//! What podlab reads (issue 25): every file a user names is read through one module
//! (`scenario/src/input.rs`) — a regular file, within a cap on the bytes actually read and
//! inflated, every gzip member — and numbers too large for time or quantities are located
//! errors. Each hostile input here ends in exit code 2, within seconds, never a hang or a panic.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{assert_bad_input, podlab_command_in, root, stderr, stdout, temp_dir};

/// Every `.rs` file under a `src` folder of the repository (the code that ships, not tests).
fn shipped_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | ".git" | "tests" | "benches" | "examples" | "docs" | "data") {
                shipped_sources(&path, out);
            }
        } else if name.ends_with(".rs") && path.components().any(|c| c.as_os_str() == "src") {
            out.push(path);
        }
    }
}

/// Ways of reading a path that would skip the input module's checks.
const READS: &[&str] =
    &["fs::read(", "fs::read_to_string(", "File::open(", "GzDecoder", "OpenOptions::new().read(", ".read(true)"];

/// Reads that are not of a user's file, each with why it may bypass the module: the kernel's
/// own files, and real mode's own binary and lease files.
const ALLOWED: &[(&str, &str, &str)] = &[
    ("src/bench.rs", "\"/proc/self/status\"", "the kernel's account of this process"),
    ("src/cli/bench_command.rs", "\"/proc/cpuinfo\"", "the kernel's description of the CPU"),
    ("real/src/cgroup.rs", "read_to_string(path)", "cgroup v2 interface files of the kernel"),
    ("real/src/image.rs", "read(&binary)", "the workload binary cargo built for real mode"),
    ("real/src/labels.rs", "\"/dev/urandom\"", "the kernel's random bytes for a run's id"),
    ("real/workload/src/main.rs", "read(path)", "the workload in its container watches its lease file"),
    ("reports/src/out_dir.rs", ".open(&path)", "an output directory's lock file, which names its writer"),
];

/// No reader can forget the checks: outside `scenario/src/input.rs`, shipped code opens no
/// path to read, but for the kernel's files listed in `ALLOWED`. (Test modules at the end of a
/// file, after `#[cfg(test)]`, may read their fixtures.)
#[test]
fn every_user_file_is_read_through_the_input_module() {
    let mut files = Vec::new();
    shipped_sources(root(), &mut files);
    assert!(files.len() > 100, "found only {} source files", files.len());
    let mut bypasses = Vec::new();
    let mut allowed_seen = vec![false; ALLOWED.len()];
    for file in &files {
        let rel = file.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/");
        if rel == "scenario/src/input.rs" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        let shipped = text.split("#[cfg(test)]\nmod ").next().unwrap_or("");
        for (i, line) in shipped.lines().enumerate() {
            if line.trim_start().starts_with("//") || !READS.iter().any(|r| line.contains(r)) {
                continue;
            }
            match ALLOWED.iter().position(|(f, snippet, _)| rel == *f && line.contains(snippet)) {
                Some(k) => allowed_seen[k] = true,
                None => bypasses.push(format!("{rel}:{}: {}", i + 1, line.trim())),
            }
        }
    }
    assert!(
        bypasses.is_empty(),
        "read user files with podlab_scenario::input::{{read_input, read_input_text, open_input}}:\n{}",
        bypasses.join("\n")
    );
    let stale: Vec<&str> = ALLOWED.iter().zip(&allowed_seen).filter(|(_, seen)| !**seen).map(|(a, _)| a.0).collect();
    assert!(stale.is_empty(), "ALLOWED names reads that are gone: {stale:?}");
}

/// Runs podlab in `dir`; a run still going after 30 s (a FIFO's hang, a bomb inflated without
/// end) is killed and fails the test.
fn podlab_within_30s(dir: &Path, args: &[&str]) -> Output {
    let mut child =
        podlab_command_in(dir, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("podlab runs");
    for _ in 0..600 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    panic!("podlab {args:?} still runs after 30 s: {}", stderr(&out));
}

/// Expects exit code 2, no panic, and every one of `want` in the message.
fn expect_refused(dir: &Path, args: &[&str], want: &[&str]) -> String {
    assert_bad_input(&podlab_within_30s(dir, args), &args, want)
}

/// A scenario whose workload is `workload` (one line of YAML under `spec.workload`).
fn scenario(dir: &Path, name: &str, workload: &str) {
    let text = format!(
        "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nspec:\n  nodePools: [{{name: n, count: 2, cpu: '4', \
         memory: 4Gi}}]\n  workload:\n    {workload}\n"
    );
    std::fs::write(dir.join(name), text).unwrap();
}

fn generator_from(file: &str) -> String {
    format!(
        "generators: [{{name: b, interArrival: {{distribution: empirical, file: {file}}}, tasks: {{distribution: \
         constant, value: 1}}, runFor: {{distribution: constant, value: 1s}}, cpu: '1', memory: 1Gi, count: 3}}]"
    )
}

/// Every reader, handed a FIFO (which would block forever) or `/dev/zero` (which reports a
/// length of 0 and never ends): a scenario, a KubeSchedulerConfiguration, a trace and a
/// distribution a scenario names, each `import`'s files, OpenB lists, explain's run.json.
#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_by_every_reader() {
    let dir = temp_dir("fifo");
    let made = Command::new("mkfifo").arg(dir.join("fifo")).status().expect("mkfifo runs");
    assert!(made.success());
    std::fs::write(dir.join("pods.csv"), "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1000,1024,1,500\n").unwrap();
    std::fs::write(dir.join("nodes.csv"), "sn,cpu_milli,memory_mib,gpu,model\nn,4000,4096,1,T4\n").unwrap();
    std::fs::create_dir(dir.join("run")).unwrap();
    std::os::unix::fs::symlink(dir.join("fifo"), dir.join("run/run.json")).unwrap();
    for (input, kind) in [("fifo", "a FIFO (named pipe)"), ("/dev/zero", "a character device")] {
        scenario(&dir, "trace.yaml", &format!("trace: {{format: swf, path: {input}}}"));
        scenario(&dir, "prefill.yaml", &format!("trace: {{format: google-prefill, path: {input}}}"));
        scenario(&dir, "empirical.yaml", &generator_from(input));
        scenario(&dir, "plain.yaml", "jobs: [{name: j, at: 0s, tasks: 1, cpu: '1', memory: 1Gi}]");
        let outside = "--allow-paths-outside";
        let cases: Vec<Vec<&str>> = vec![
            vec!["validate", input],
            vec!["run", input],
            vec!["run", "trace.yaml", outside],
            vec!["validate", "prefill.yaml", outside],
            vec!["validate", "empirical.yaml", outside],
            vec!["validate", "--scheduler-config", input, "plain.yaml"],
            vec!["import", "swf", input],
            vec!["import", "google-prefill", input],
            vec!["import", "openb", "--nodes", input, "--pods", "pods.csv"],
            vec!["import", "openb", "--nodes", "nodes.csv", "--pods", input],
            vec!["experiment", "openb", "--nodes", input, "--pods", "pods.csv", "--out", "out"],
        ];
        for args in &cases {
            expect_refused(&dir, args, &[input, kind, "not a regular file"]);
        }
    }
    // A run record that is a FIFO (through a link) is no run record: refused, not waited on.
    expect_refused(&dir, &["explain", "run", "p"], &["run.json"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `parts` gzipped, each a member of its own, one after another in one file.
fn gzip_members(path: &Path, parts: &[&[u8]]) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    for part in parts {
        let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        member.write_all(part).unwrap();
        file.write_all(&member.finish().unwrap()).unwrap();
    }
}

/// A gzip bomb (a few KB that inflate past the 64 MiB cap) is refused where the reading
/// stopped; a trace of several gzip members is read to its last member.
#[test]
fn gzip_bombs_are_capped_and_every_member_is_read() {
    let dir = temp_dir("gzip");
    // Blank lines (spaces, then a newline), each skipped by the reader: only the cap ends it.
    let mut blank = vec![b' '; 60_000];
    blank.push(b'\n');
    let inflated: Vec<u8> = blank.repeat((65 << 20) / blank.len() + 1);
    gzip_members(&dir.join("bomb_cmb.log"), &[&inflated]);
    let compressed = std::fs::metadata(dir.join("bomb_cmb.log")).unwrap().len();
    assert!(compressed < (1 << 20), "a bomb of {compressed} bytes");
    drop(inflated);
    scenario(&dir, "bomb.yaml", &generator_from("bomb_cmb.log"));
    expect_refused(&dir, &["validate", "bomb.yaml"], &["bomb_cmb.log:", "more than 64 MiB once inflated from gzip"]);
    // Zeros, no line at all: the line budget refuses it first.
    gzip_members(&dir.join("zeros.swf"), &[&vec![0u8; 1 << 20]]);
    expect_refused(&dir, &["import", "swf", "zeros.swf"], &["zeros.swf:1:", "this is not a trace file"]);

    let job = |n: u32| format!("{n} {} 0 60 2 -1 -1 2 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n", n * 10);
    let (first, second) = (format!("; Computer: two members\n{}", job(1)), job(2) + &job(3));
    gzip_members(&dir.join("two.swf.gz"), &[first.as_bytes(), second.as_bytes()]);
    let out = podlab_within_30s(&dir, &["import", "swf", "two.swf.gz"]);
    let yaml = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for name in ["job-1", "job-2", "job-3"] {
        assert!(yaml.contains(&format!("name: {name},")), "{name} missing:\n{yaml}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Numbers that would wrap once turned into nanoseconds or bytes are errors at their field:
/// an SWF run time of 18,446,744,074 s (which wrapped to 0.29 s), an OpenB `memory_mib` of
/// 2^44 (which wrapped to 0 bytes), prefill and distribution values past 100 years.
#[test]
fn numbers_that_would_wrap_are_located_errors() {
    let dir = temp_dir("numbers");
    let swf = |submit: &str, run: &str| format!("1 {submit} 0 {run} 1 -1 -1 1 -1 -1 1 -1 -1 -1 -1 -1 -1 -1\n");
    std::fs::write(dir.join("run.swf"), swf("0", "18446744074")).unwrap();
    std::fs::write(dir.join("submit.swf"), swf("9223372036854775807", "60")).unwrap();
    let beyond = "beyond podlab's longest time";
    expect_refused(&dir, &["import", "swf", "run.swf"], &["run.swf:1:7", beyond]);
    expect_refused(&dir, &["import", "swf", "submit.swf"], &["submit.swf:1:3", "not a whole number"]);
    std::fs::write(dir.join("submit.swf"), swf("4000000000", "60")).unwrap();
    expect_refused(&dir, &["import", "swf", "submit.swf"], &["submit.swf:1:3", beyond]);
    scenario(&dir, "swf.yaml", "trace: {format: swf, path: run.swf}");
    expect_refused(&dir, &["run", "swf.yaml"], &["run.swf:1:7", beyond]);

    let nodes = |memory_mib: &str| format!("sn,cpu_milli,memory_mib,gpu,model\nn,4000,{memory_mib},1,T4\n");
    let pods = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1000,1024,1,500\n";
    std::fs::write(dir.join("nodes.csv"), nodes("17592186044416")).unwrap();
    std::fs::write(dir.join("pods.csv"), pods).unwrap();
    let openb = ["--nodes", "nodes.csv", "--pods", "pods.csv"];
    let want = ["nodes.csv:2:8", "`memory_mib`: 17592186044416 is more than 1073741824"];
    expect_refused(&dir, &[&["import", "openb"][..], &openb].concat(), &want);
    expect_refused(&dir, &[&["experiment", "openb", "--out", "out"][..], &openb].concat(), &want);
    std::fs::write(dir.join("nodes.csv"), nodes("99999999999999999999999")).unwrap();
    expect_refused(&dir, &[&["import", "openb"][..], &openb].concat(), &["nodes.csv:2:8", "is too large"]);
    assert!(!dir.join("out").exists(), "experiment wrote outputs for refused input");

    std::fs::write(dir.join("end.log"), "11 0 7 0 0 1 1 1000\n12 1e30 7 0 0 0\n").unwrap();
    expect_refused(&dir, &["import", "google-prefill", "end.log"], &["end.log:2:4", beyond]);
    std::fs::write(dir.join("ram.log"), "11 0 7 0 0 1 1 1e18\n").unwrap();
    expect_refused(&dir, &["import", "google-prefill", "ram.log"], &["ram.log:1:16", "a pod asks for at most"]);
    std::fs::write(dir.join("big_cmb.log"), "c p 0 1\nc p 0 1e300\n").unwrap();
    scenario(&dir, "cmb.yaml", &generator_from("big_cmb.log"));
    expect_refused(&dir, &["validate", "cmb.yaml"], &["big_cmb.log:2:7", beyond]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `sweep` reads a sweep file and, to merge, every shard's `result.json`: a FIFO or a link to
/// `/dev/zero` in either place is refused, exit 2, never waited on or read without end.
#[cfg(unix)]
#[test]
fn sweep_files_and_shard_results_are_regular_files() {
    let dir = temp_dir("sweep");
    assert!(Command::new("mkfifo").arg(dir.join("fifo")).status().expect("mkfifo runs").success());
    let root = root();
    let fifo = dir.join("fifo");
    let fifo = fifo.to_str().unwrap();
    expect_refused(root, &["sweep", "plan", fifo], &["fifo", "a FIFO (named pipe), not a regular file"]);
    let plan = podlab_within_30s(root, &["sweep", "plan", "sweeps/coscheduling.yaml"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let ids: Vec<String> = stdout(&plan)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().filter(|id| id.len() == 16).map(String::from))
        .collect();
    assert!(!ids.is_empty(), "no run ids in {}", stdout(&plan));
    for (target, kind) in [("fifo", "a FIFO (named pipe)"), ("/dev/zero", "a character device")] {
        let out = dir.join(format!("out-{}", kind.len()));
        for id in &ids {
            std::fs::create_dir_all(out.join("runs").join(id)).unwrap();
            let target = if target == "fifo" { dir.join("fifo") } else { PathBuf::from(target) };
            std::os::unix::fs::symlink(target, out.join("runs").join(id).join("result.json")).unwrap();
        }
        let merge = ["sweep", "merge", "sweeps/coscheduling.yaml", "--out", out.to_str().unwrap()];
        expect_refused(root, &merge, &["result.json", kind, "not a regular file"]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
