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

/// `--html DIR` writes the lesson's page with its Gantt charts inline and the full comparison.
#[test]
fn lesson_as_a_page() {
    let dir = std::env::temp_dir().join(format!("podlab-teach-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = podlab(&["teach", "pod", "--html", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(dir.join("lesson-pod.html")).unwrap();
    assert!(page.contains("<svg") && page.contains("Who went where"), "{}", &page[..page.len().min(2000)]);
    assert!(dir.join("lesson-pod-comparison/report.html").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
