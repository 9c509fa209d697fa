//! Determinism: the same scenario and seed give the same event-log digest, within a process and
//! across processes; a different seed changes the digest where the scenario uses randomness.

mod common;

use common::{bundled_scenarios, ok, podlab, root, run_checked, stdout, temp_path};

/// Running every bundled scenario twice under every policy in one process gives equal digests
/// (and every policy runs every scenario with the invariants holding).
#[test]
fn same_seed_same_digest_in_one_process() {
    for path in bundled_scenarios() {
        let scenario = podlab::load(&path).unwrap();
        for policy in podlab::schedulers::POLICIES {
            let a = run_checked(&scenario, policy, 7);
            let b = run_checked(&scenario, policy, 7);
            assert_eq!(a.sim.digest, b.sim.digest, "{} under {policy}", path.display());
            assert_eq!(a.sim.records, b.sim.records);
        }
    }
}

fn digests_from_cli(scenario: &str, seed: &str) -> Vec<String> {
    let stdout = ok(&podlab(&["run", scenario, "--seed", seed]));
    let digests: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("blake3:")))
        .map(String::from)
        .collect();
    assert!(!digests.is_empty(), "no digest printed:\n{stdout}");
    digests
}

/// Two separate processes print the same digests for the same scenario and seed, and the
/// digest printed is the one the library computes.
#[test]
fn same_seed_same_digest_across_processes() {
    // The last two with faults on: a scheduler crash and restart; lost watch events and relists.
    for scenario in [
        "scenarios/coscheduling.yaml",
        "scenarios/spread.yaml",
        "scenarios/scheduler-crash.yaml",
        "scenarios/watch-drops.yaml",
    ] {
        let first = digests_from_cli(scenario, "11");
        let second = digests_from_cli(scenario, "11");
        assert_eq!(first, second, "{scenario}");
    }
    let path = root().join("scenarios/spread.yaml");
    let in_process = run_checked(&podlab::load(&path).unwrap(), "kubernetes", 11);
    assert_eq!(digests_from_cli("scenarios/spread.yaml", "11"), [in_process.sim.digest]);
}

/// `spread.yaml` breaks ties at random, so another seed gives another placement and digest;
/// the deterministic co-scheduling example does not depend on the seed at all.
#[test]
fn different_seed_changes_a_random_scenario() {
    let spread = digests_from_cli("scenarios/spread.yaml", "1");
    let differs = (2..6).any(|seed| digests_from_cli("scenarios/spread.yaml", &seed.to_string()) != spread);
    assert!(differs, "five seeds gave one digest: the tie-break ignores the seed");
    assert_eq!(
        digests_from_cli("scenarios/coscheduling.yaml", "1"),
        digests_from_cli("scenarios/coscheduling.yaml", "2")
    );
}

/// Faults on — crashes and restarts, lost watch events, a random node-crash process, timeouts
/// and 429s — the digests of a comparison do not depend on its thread count: one thread or
/// four, every run's digest is the same.
#[test]
fn fault_digests_do_not_depend_on_thread_count() {
    let digests = |jobs: &str| {
        let dir = temp_path(&format!("faults-jobs{jobs}"));
        ok(&podlab(&[
            "compare",
            "scenarios/scheduler-crash.yaml",
            "scenarios/controller-manager-crash.yaml",
            "scenarios/watch-drops.yaml",
            "scenarios/random-node-crashes.yaml",
            "scenarios/apiserver-timeouts.yaml",
            "--seeds",
            "2",
            "--jobs",
            jobs,
            "--force-jobs",
            "--out",
            dir.to_str().unwrap(),
        ]));
        // results.csv, and every run's summary (which carries its digest), in path order.
        let mut files = vec![std::fs::read_to_string(dir.join("results.csv")).unwrap()];
        let mut stack = vec![dir.join("runs")];
        let mut summaries = std::collections::BTreeMap::new();
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.ends_with("summary.json") {
                    summaries.insert(
                        path.strip_prefix(&dir).unwrap().to_path_buf(),
                        std::fs::read_to_string(&path).unwrap(),
                    );
                }
            }
        }
        assert_eq!(summaries.len(), 2 * (6 + 1 + 6 + 1 + 2), "runs: {:?}", summaries.keys());
        files.extend(summaries.into_values());
        let _ = std::fs::remove_dir_all(&dir);
        files
    };
    let one = digests("1");
    assert!(one[0].contains("control_plane.relists"), "{}", one[0]);
    assert!(one[1..].iter().all(|s| s.contains("blake3:")));
    assert_eq!(one, digests("4"));
}

/// The golden list: scenarios × policies whose digests a debug build computes here and a
/// release build must reproduce (`scripts/release-digests.sh` compares them, outside the test
/// suite: a release build takes minutes).
const GOLDEN: &[(&str, &str, u64)] = &[
    ("scenarios/coscheduling.yaml", "per-container", 5),
    ("scenarios/coscheduling.yaml", "kubernetes", 5),
    ("scenarios/spread.yaml", "kubernetes", 5),
    ("scenarios/gang-timeout.yaml", "gang", 5),
    ("scenarios/mesos-deadlock.yaml", "mesos", 5),
    ("scenarios/omega-race.yaml", "omega", 5),
    ("scenarios/paper/omega-paper.yaml", "monolithic", 2013),
    ("scenarios/paper/omega-paper.yaml", "omega", 2013),
];

/// The golden list's digests, computed in this (debug) build, equal what the debug command
/// line prints; they are written to `target/tmp/podlab-golden-digests.txt` for the release
/// check.
#[test]
fn golden_digests_for_the_release_check() {
    let mut lines = String::new();
    for (file, policy, seed) in GOLDEN {
        let scenario = podlab::load(&root().join(file)).unwrap();
        let digest = run_checked(&scenario, policy, *seed).sim.digest;
        let out = podlab(&["run", file, "--policy", policy, "--seed", &seed.to_string()]);
        assert!(stdout(&out).contains(&digest), "{file} {policy}: the CLI differs");
        lines.push_str(&format!("{file} {policy} {seed} {digest}\n"));
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("podlab-golden-digests.txt");
    std::fs::write(&path, lines).unwrap();
}

/// Reading the records on a second thread changes nothing: every bundled scenario under its
/// policies gives the same digest, records, summary and verdicts with the records read beside
/// the run or after each one — among them runs whose controllers create pods and taint nodes
/// (the backend takes the reading back before it changes the scenario), and runs that keep
/// no records (the summary folded on the reader's thread), and a run of many batches.
#[test]
fn the_record_thread_changes_nothing() {
    use podlab::{RecordThread, RunOptions};
    let many = podlab::load_str("scale.yaml", &podlab::bench::scale_scenario_text(50, 3_000)).unwrap();
    let bundled =
        bundled_scenarios().into_iter().map(|path| (path.display().to_string(), podlab::load(&path).unwrap()));
    for (name, scenario) in bundled.chain([("scale.yaml".to_string(), many)]) {
        for policy in &scenario.policies {
            for keep_records in [true, false] {
                let run = |record_thread| {
                    let options =
                        RunOptions { check_invariants: true, keep_records, record_thread, ..RunOptions::default() };
                    podlab::run_policy_with(&scenario, policy, scenario.seed, options).unwrap()
                };
                let (here, piped) = (run(RecordThread::Never), run(RecordThread::Always));
                let what = format!("{name} under {policy}, keeping records: {keep_records}");
                assert_eq!(here.sim.digest, piped.sim.digest, "{what}");
                assert_eq!(here.sim.records, piped.sim.records, "{what}");
                assert_eq!(here.summary, piped.summary, "{what}");
                assert_eq!(here.first_pods.pods, piped.first_pods.pods, "{what}");
                assert_eq!(here.verdicts, piped.verdicts, "{what}");
                assert!(piped.sim.violations.is_empty(), "{what}: {:?}", piped.sim.violations);
            }
        }
    }
}
