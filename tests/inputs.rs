//! What podlab reads (issue 25): every file a user names is read through one module
//! (`scenario/src/input.rs`) — a regular file, within a cap on the bytes actually read and
//! inflated, every gzip member — and numbers too large for time or quantities are located
//! errors. Each hostile input here ends in exit code 2, within seconds, never a hang or a panic.

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

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
