//! `podlab teach`: every lesson runs to its end with its claims holding, and can be written as
//! a page with its charts.

use std::process::Command;

fn podlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_podlab")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

/// All six lessons run, tell their timeline, and every claim holds (✓, none ✗).
#[test]
fn every_lesson_runs_and_its_claims_hold() {
    let out = podlab(&["teach", "all"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for title in [
        "1. The problem",
        "2. The Pod",
        "3. Mesos",
        "4. Omega",
        "5. Gang scheduling",
        "6. When the control plane fails",
    ] {
        assert!(text.contains(title), "no lesson `{title}`");
    }
    assert_eq!(text.matches("try this").count(), 6);
    assert!(text.contains('✓') && !text.contains('✗'), "{text}");
    assert!(text.contains("gang: gang training timed out"));
    assert!(text.contains("node node-2 crashed"));
    // Plain text when piped: no terminal escapes.
    assert!(!text.contains('\x1b'));
}

/// A lesson by number, the list without one, and an unknown lesson (exit 2).
#[test]
fn lessons_by_name_and_number() {
    let list = String::from_utf8(podlab(&["teach"]).stdout).unwrap();
    assert!(list.contains("problem") && list.contains("failures"));
    let one = String::from_utf8(podlab(&["teach", "2"]).stdout).unwrap();
    assert!(one.contains("2. The Pod") && one.contains("filter rejects node-a"));
    assert_eq!(podlab(&["teach", "nonsense"]).status.code(), Some(2));
}

/// `--html DIR` writes the whole lesson as one page: its story with the run's numbers, who
/// went where, every moment of the timeline down to the climax (the whole gang binding at
/// once), the claims and the exercise.
#[test]
fn lesson_as_a_page() {
    let dir = std::env::temp_dir().join(format!("podlab-teach-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = podlab(&["teach", "gang", "--html", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(dir.join("lesson-gang.html")).unwrap();
    for part in [
        "A PodGroup with minMember 10 asks for all-or-nothing",
        "<svg",
        "Who went where",
        "What kubernetes did",
        "What gang did",
        "gang: gang training timed out",
        "10 pods (training-0 … training-9) bound to node-1",
        "the whole gang binds together",
        "<code>minMember: 9</code>",
    ] {
        assert!(page.contains(part), "the page lacks `{part}`");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The lessons are built into the binary: `podlab teach gang` works from any folder.
#[test]
fn lessons_work_outside_the_repository() {
    let elsewhere = std::env::temp_dir().join(format!("podlab-teach-elsewhere-{}", std::process::id()));
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out =
        Command::new(env!("CARGO_BIN_EXE_podlab")).args(["teach", "gang"]).current_dir(&elsewhere).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("10 pods (training-0 … training-9) bound to node-1"), "the climax is shown: {text}");
    assert!(!text.contains("the rest in"), "nothing elided: {text}");
    std::fs::remove_dir_all(&elsewhere).unwrap();
}

/// Without a terminal `--step` tells the whole lesson; every lesson's timeline is told in a
/// few moments, not one press per instant.
#[test]
fn step_goes_by_moments() {
    let out = podlab(&["teach", "gang", "--step"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("… the same again at 1m1.003s"), "{text}");
    let timeline_lines = text.lines().filter(|l| l.starts_with("  ") && !l.starts_with("  ✓")).count();
    assert!(timeline_lines < 20, "{text}");
}
