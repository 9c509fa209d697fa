//! `podlab teach`: every lesson runs to its end with its claims holding, and can be written as
//! a page with its charts.

mod common;

use common::{podlab, podlab_in, stderr, temp_dir, temp_path};

/// All six lessons run, tell their timeline, and every claim holds (✓, none ✗).
#[test]
fn every_lesson_runs_and_its_claims_hold() {
    let out = podlab(&["teach", "all"]);
    assert!(out.status.success(), "{}", stderr(&out));
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
    let dir = temp_path("gang");
    let out = podlab(&["teach", "gang", "--html", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
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
    let elsewhere = temp_dir("elsewhere");
    let out = podlab_in(&elsewhere, &["teach", "gang"]);
    assert!(out.status.success(), "{}", stderr(&out));
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

/// The page's words: SVG and tags dropped, entities read, whitespace collapsed, lower case.
fn page_words(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(at) = rest.find("<svg") {
        text.push_str(&rest[..at]);
        rest = rest[at..].split_once("</svg>").map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let plain = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'");
    words(&plain.replace("&amp;", "&"))
}

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Every lesson's `--html` page holds its whole story: each line the terminal tells — story,
/// every moment of every timeline, each claim, the exercise — is on the page, and the page
/// has its chart of who went where.
#[test]
fn every_lesson_page_holds_the_whole_lesson() {
    let dir = temp_path("all");
    let out = podlab(&["teach", "all", "--html", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut told = stdout.as_str();
    let mut pages = 0;
    while let Some((lesson, rest)) = told.split_once("wrote ") {
        let (file, rest) = rest.split_once('\n').unwrap();
        told = rest;
        let html = std::fs::read_to_string(file).unwrap();
        assert!(html.contains("<svg") && html.contains("Who went where"), "{file} has no chart");
        let page = page_words(&html);
        for line in lesson.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if line.starts_with("what this lesson claims") {
                continue;
            }
            // A timeline line's time is a cell of its own; a claim is `✓ POLICY  WHY`.
            let line = match line.split_once("  ") {
                Some((first, said)) if first.starts_with(|c: char| c.is_ascii_digit()) => said,
                Some((first, why)) if first.starts_with(['✓', '✗']) => why,
                _ => line,
            };
            let line = words(&line.replace('`', " "));
            assert!(page.contains(&line), "{file} lacks `{line}`");
        }
        pages += 1;
    }
    assert_eq!(pages, 6, "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}
