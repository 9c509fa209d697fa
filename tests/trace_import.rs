//! Real workload traces (`data/traces`): every bundled SWF log, Google 2011 prefill file and
//! Omega-format distribution imports into a scenario that loads and runs with the invariants
//! checked; a scenario that references a trace holds the very jobs its import inlines (same
//! digest); a bad trace line is an error at the trace file's line and column (exit code 2).

mod common;

use std::path::Path;

use common::{podlab, root, run_checked, stderr, temp_dir};
use podlab::cluster::scenario::Scenario;
use podlab::scenario::{self, LoadOptions};

const KTH: &str = "data/traces/swf/KTH-SP2-1996-2.1-cln.swf.gz";
const NASA: &str = "data/traces/swf/NASA-iPSC-1993-3.1-cln.swf.gz";
const GOOGLE: &str = "data/traces/google-2011/init-cluster-state.log";
const OMEGA_DIR: &str = "data/traces/omega-format/job-distribution-traces";
const OMEGA_PREFILL: &str = "data/traces/omega-format/example-init-cluster-state.log";

fn options(allow_paths_outside: bool) -> LoadOptions<'static> {
    LoadOptions { known_policies: podlab::schedulers::POLICIES, allow_paths_outside }
}

/// Runs `podlab import ARGS --out DIR/FILE` and loads the scenario it wrote.
fn import(dir: &Path, file: &str, args: &[&str]) -> Scenario {
    let out = dir.join(file);
    let mut all: Vec<&str> = vec!["import"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out.to_str().unwrap()]);
    let result = podlab(&all);
    assert!(result.status.success(), "{all:?}: {}", stderr(&result));
    scenario::load(&out, options(true)).unwrap_or_else(|e| panic!("{e}"))
}

/// Loads scenario text as if it were the file `file` (paths resolve from its folder).
fn load_text(file: &Path, text: &str) -> Scenario {
    scenario::parse(file.to_str().unwrap(), text, options(true)).unwrap_or_else(|e| panic!("{e}"))
}

fn abs(relative: &str) -> String {
    root().join(relative).canonicalize().unwrap().display().to_string()
}

/// Both SWF logs import (each job a gang of one-CPU pods on the machine's one-CPU nodes) and
/// a slice runs under every policy without breaking an invariant; gangs never run partly
/// under `gang`.
#[test]
fn swf_logs_import_and_run_under_every_policy() {
    let dir = temp_dir("swf");
    for (log, nodes) in [(KTH, 100), (NASA, 128)] {
        let s = import(&dir, "log.yaml", &["swf", log, "--max-jobs", "12"]);
        assert_eq!(s.nodes.len(), nodes, "{log}");
        assert_eq!(s.groups.len() + s.pods.iter().filter(|p| p.group().is_none()).count(), 12, "{log}: one job each");
        assert_eq!(s.policies.len(), podlab::schedulers::POLICIES.len());
        for policy in &s.policies {
            let run = run_checked(&s, policy, 1);
            assert!(run.summary.pods.scheduled > 0, "{log} under {policy}: nothing scheduled");
        }
        std::fs::remove_file(dir.join("log.yaml")).unwrap();
    }
    // The whole log is too big to inline (the YAML loader's budget): it is referenced, and
    // read whole (streaming) when the scenario loads.
    let inline = podlab(&["import", "swf", KTH]);
    assert_eq!(inline.status.code(), Some(2));
    assert!(stderr(&inline).contains("--reference"));
    let all = import(&dir, "kth.yaml", &["swf", KTH, "--reference"]);
    let text = std::fs::read_to_string(dir.join("kth.yaml")).unwrap();
    assert!(text.contains("Feitelson, Tsafrir, Krakov"), "the archive's attribution is kept");
    assert!(text.contains("trace: {format: swf, path: "), "{text}");
    let jobs = all.groups.len() + all.pods.iter().filter(|p| p.group().is_none()).count();
    assert_eq!(jobs, 28_476 - swf_skipped(&text), "every job that ran");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The skipped-job count the importer wrote in its header comment.
fn swf_skipped(text: &str) -> usize {
    let at = text.find(" skipped").expect("the header counts skipped jobs");
    let open = text[..at].rfind('(').unwrap();
    text[open + 1..at].parse().unwrap()
}

/// A time window of the log, referenced or imported: the same jobs, the first at t = 0.
#[test]
fn swf_time_window_referenced_equals_imported() {
    let dir = temp_dir("swf-window");
    let inlined = import(&dir, "inline.yaml", &["swf", KTH, "--from", "720h", "--until", "722h"]);
    assert!(!inlined.pods.is_empty(), "two hours a month in hold jobs");
    assert_eq!(inlined.arrivals.iter().map(|a| a.at).min(), Some(podlab::cluster::time::SimTime::ZERO));
    let referenced = import(&dir, "ref.yaml", &["swf", KTH, "--from", "720h", "--until", "722h", "--reference"]);
    let text = std::fs::read_to_string(dir.join("ref.yaml")).unwrap();
    assert!(text.contains("from: 720h, until: 722h}"), "{text}");
    assert_eq!(referenced.pods.len(), inlined.pods.len());
    assert_eq!(run_checked(&inlined, "gang", 2).sim.digest, run_checked(&referenced, "gang", 2).sim.digest);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scenario that references the SWF log holds the very jobs `import swf` inlines: same
/// digest under every policy.
#[test]
fn referenced_swf_equals_the_inlined_import() {
    let dir = temp_dir("swf-ref");
    let inlined = import(&dir, "inline.yaml", &["swf", KTH, "--max-jobs", "15"]);
    let text = format!(
        "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: {}}}\nspec:\n  seed: 1\n  \
         nodePools: [{{name: proc, count: 100, cpu: \"1\", memory: 1Gi, maxPods: 1}}]\n  workload:\n    \
         trace: {{format: swf, path: \"{}\", maxJobs: 15}}\n",
        inlined.name,
        abs(KTH)
    );
    let referenced = load_text(&dir.join("ref.yaml"), &text);
    assert_eq!(referenced.pods.len(), inlined.pods.len());
    assert_eq!(referenced.attributions, inlined.attributions, "the log's donor and the archive, either way");
    assert!(referenced.attributions[0].contains("Lars Malinowsky"), "{:?}", referenced.attributions);
    for policy in ["kubernetes", "gang", "omega", "mesos"] {
        let (a, b) = (run_checked(&inlined, policy, 3), run_checked(&referenced, policy, 3));
        assert_eq!(a.sim.digest, b.sim.digest, "{policy}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Google 2011 prefill: every row reads; the jobs running at t = 0 fill the cell to about
/// the asked utilisation, bound before any scheduler runs; service is prod 1, class 2 or 3.
#[test]
fn google_prefill_imports_and_fills_the_cell() {
    let dir = temp_dir("google");
    let all = import(&dir, "all.yaml", &["google-prefill", GOOGLE]);
    assert_eq!(all.workload.prefill_jobs.len(), 3979, "every `11` row is a job");
    let tasks: u64 = all.workload.prefill_jobs.iter().map(|j| u64::from(j.tasks)).sum();
    assert_eq!(tasks, 151_576);
    assert_eq!(all.workload.prefill_jobs.iter().filter(|j| j.run_for.is_some()).count(), 79, "79 `12` rows");
    assert!(std::fs::read_to_string(dir.join("all.yaml")).unwrap().contains("Reiss, Wilkes"), "attribution kept");

    let slice = import(&dir, "slice.yaml", &["google-prefill", GOOGLE, "--max-jobs", "150", "--duration", "10m"]);
    let first = scenario::instantiate(&slice, 1).unwrap();
    assert!(first.pods.iter().all(|p| p.node_name().is_some()), "prefill pods are bound at t = 0");
    let service = slice.workload.prefill_jobs.iter().filter(|j| j.workload.as_str() == "service").count();
    assert!(service > 0 && service < 150, "{service} service jobs: the CMB_PBB split");
    for policy in ["kubernetes", "omega", "mesos", "monolithic"] {
        let run = run_checked(&slice, policy, 1);
        let cpu = run.summary.utilisation.cpu;
        assert!((0.4..0.65).contains(&cpu), "{policy}: CPU utilisation {cpu}, asked 0.6");
    }
    // Another seed, another random first fit.
    let second = scenario::instantiate(&slice, 2).unwrap();
    assert_ne!(
        first.pods.iter().map(|p| p.node_name()).collect::<Vec<_>>(),
        second.pods.iter().map(|p| p.node_name()).collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scenario referencing the prefill trace places the same jobs as the inlined import.
#[test]
fn referenced_prefill_equals_the_inlined_import() {
    let dir = temp_dir("google-ref");
    let args = ["google-prefill", GOOGLE, "--max-jobs", "60", "--machines", "20", "--duration", "5m"];
    let inlined = import(&dir, "inline.yaml", &args);
    let text = format!(
        "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: {}}}\nspec:\n  seed: 1\n  \
         duration: 5m\n  nodePools: [{{name: machine, count: 20, cpu: \"32\", memory: \"128Gi\", maxPods: 10000}}]\n  \
         workload:\n    trace: {{format: google-prefill, path: \"{}\", maxJobs: 60}}\n",
        inlined.name,
        abs(GOOGLE)
    );
    let referenced = load_text(&dir.join("ref.yaml"), &text);
    assert_eq!(referenced.workload.prefill_jobs, inlined.workload.prefill_jobs);
    assert_eq!(referenced.attributions, inlined.attributions);
    for policy in ["kubernetes", "omega"] {
        assert_eq!(run_checked(&inlined, policy, 5).sim.digest, run_checked(&referenced, policy, 5).sim.digest);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Omega simulator's example distributions and prefill import into generators that draw
/// from the files (of the one cell and policy they hold) and a referenced prefill; it runs
/// under the paper's three architectures.
#[test]
fn omega_format_files_import_and_run() {
    let dir = temp_dir("omega");
    let args = [
        "omega",
        OMEGA_DIR,
        "--prefill",
        OMEGA_PREFILL,
        "--prefill-time-unit",
        "s",
        "--machines",
        "40",
        "--until",
        "20s",
    ];
    let s = import(&dir, "omega.yaml", &args);
    assert_eq!(s.workload.generators.len(), 2, "batch and service");
    assert_eq!(s.workload.prefill_jobs.len(), 3, "the example prefill's three jobs");
    assert_eq!(s.workload.prefill_jobs[1].run_for, Some(podlab::cluster::time::SimDuration(6_844_149_000)));
    let text = std::fs::read_to_string(dir.join("omega.yaml")).unwrap();
    assert!(text.contains("cell: \"example_cluster\", policy: \"cmb-new\""), "{text}");
    for policy in &s.policies {
        let run = run_checked(&s, policy, 1);
        assert!(run.summary.pods.scheduled > 0, "{policy}");
    }
    // A cell the files do not have: the error lists what they hold.
    let bad = podlab(&["import", "omega", OMEGA_DIR, "--cell", "nowhere"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("no rows of cell `nowhere`; the file has: example_cluster"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bundled trace scenarios load (reading their trace) and, on a small slice, run under
/// every policy they list. The full slice is for release runs (README).
#[test]
fn bundled_trace_scenarios_run_on_a_small_slice() {
    let dir = root().join("scenarios/traces");
    let mut found = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "yaml") {
            continue;
        }
        found += 1;
        // Outside its folder the trace is refused unless allowed.
        let refused = scenario::load(&path, options(false)).unwrap_err().to_string();
        assert!(refused.contains("--allow-paths-outside"), "{refused}");
        let full = scenario::load(&path, options(true)).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&path).unwrap();
        let small = text.replace("maxJobs: 300", "maxJobs: 10");
        assert_ne!(small, text, "{}: the test expects `maxJobs: 300`", path.display());
        let s = load_text(&path, &small);
        let pods = |s: &Scenario| scenario::instantiate(s, s.seed).unwrap().pods.len();
        assert!(pods(&s) < pods(&full), "{}: the slice is smaller", path.display());
        for policy in &s.policies {
            run_checked(&s, policy, s.seed);
        }
    }
    assert!(found > 0);
}

/// A bad line of a referenced trace is an error at the trace file's line and column, with
/// exit code 2 — for every format and for the importers.
#[test]
fn bad_trace_lines_are_positioned_errors() {
    let dir = temp_dir("bad");
    let swf = dir.join("bad.swf");
    std::fs::write(
        &swf,
        "; MaxProcs: 4\n1 0 5 10 2 -1 -1 2 -1 -1 1 1 1 1 1 1 -1 -1\n2 3 0 x 1 -1 -1 1 -1 -1 0 1 1 1 1 1 -1 -1\n",
    )
    .unwrap();
    let prefill = dir.join("bad-prefill.log");
    std::fs::write(&prefill, "11 0 7 1 3 2 0.5 2000\n11 0 8 1 9 2 0.5 2000\n").unwrap();
    std::fs::write(dir.join("empty.log"), "\n").unwrap();
    let cmb = dir.join("bad_cmb.log");
    std::fs::write(&cmb, "c p 0 1\nc p 0 -4\n").unwrap();
    let cases = [
        ("trace: {format: swf, path: bad.swf}", "bad.swf:3:7", "is not a number"),
        ("trace: {format: google-prefill, path: bad-prefill.log}", "bad-prefill.log:2:10", "scheduling class"),
        ("trace: {format: google-prefill, path: empty.log}", "scenario.yaml:6:", "no job running at the start"),
        ("trace: {format: parquet, path: empty.log}", "scenario.yaml:6:", "unknown trace format `parquet`"),
        (
            "generators: [{name: b, interArrival: {distribution: empirical, file: bad_cmb.log}, \
             tasks: {distribution: constant, value: 1}, runFor: {distribution: constant, value: 1s}, \
             cpu: '1', memory: 1Gi, count: 3}]",
            "bad_cmb.log:2:7",
            "not negative",
        ),
        (
            "generators: [{name: b, interArrival: {distribution: constant, value: 1s, cell: c}, \
             tasks: {distribution: constant, value: 1}, runFor: {distribution: constant, value: 1s}, \
             cpu: '1', memory: 1Gi, count: 3}]",
            "scenario.yaml:6:",
            "choose the rows of an empirical",
        ),
    ];
    for (workload, at, what) in cases {
        let file = dir.join("scenario.yaml");
        let text = format!(
            "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nspec:\n  nodePools: [{{name: n, count: 2, cpu: '4', \
             memory: 4Gi}}]\n  workload:\n    {workload}\n"
        );
        std::fs::write(&file, text).unwrap();
        let out = podlab(&["validate", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{workload}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(at) && stderr.contains(what), "{workload}: {stderr}");
        assert!(stderr.contains('^'), "a caret under the fault: {stderr}");
    }
    let imported = podlab(&["import", "swf", swf.to_str().unwrap()]);
    assert_eq!(imported.status.code(), Some(2));
    assert!(stderr(&imported).contains("bad.swf:3:7"));
    let imported = podlab(&["import", "google-prefill", prefill.to_str().unwrap()]);
    assert_eq!(imported.status.code(), Some(2));
    assert!(stderr(&imported).contains("bad-prefill.log:2:10"));
    // A trace outside the scenario's folder is refused unless allowed.
    let file = dir.join("sub/outside.yaml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nspec:\n  workload:\n    trace: {format: swf, path: ../bad.swf}\n",
    )
    .unwrap();
    let out = podlab(&["validate", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--allow-paths-outside"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `podlab compare` on a trace scenario (the README's KTH-SP2 command, on a small slice) writes
/// results.csv, charts and report.html, and the report and table keep the log's attribution.
#[test]
fn compare_on_a_trace_keeps_its_attribution() {
    let dir = temp_dir("compare");
    let bundled = std::fs::read_to_string(root().join("scenarios/traces/kth-sp2.yaml")).unwrap();
    let text = bundled
        .replace("maxJobs: 300", "maxJobs: 8")
        .replace("../../data/traces/swf/KTH-SP2-1996-2.1-cln.swf.gz", &abs(KTH));
    let file = dir.join("kth-sp2.yaml");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let args = ["compare", file.to_str().unwrap(), "--allow-paths-outside", "--out", out.to_str().unwrap()];
    let result = podlab(&args);
    assert!(result.status.success(), "{}", stderr(&result));
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(stdout.contains("data: IBM SP2, donor Lars Malinowsky; Parallel Workloads Archive"), "{stdout}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("data: IBM SP2, donor Lars Malinowsky; Parallel Workloads Archive"), "{html}");
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    for policy in podlab::schedulers::POLICIES {
        assert!(csv.contains(&format!("kth-sp2,{policy},1,")), "{policy} missing from results.csv");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
