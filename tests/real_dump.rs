//! A real cluster's dump runs: `kubectl get nodes,pods,pvc,svc,cm -A -o yaml`
//! (`tests/data/kubectl-dump.yaml`) loads with one warning per kind podlab skips and per field
//! it does not model — each saying what podlab does instead — runs under every policy with the
//! invariants checked, and is refused whole under `--strict`.

mod common;

use common::{podlab, root, run_checked, stdout, temp_dir};

const DUMP: &str = "tests/data/kubectl-dump.yaml";

#[test]
fn a_kubectl_dump_loads_with_one_warning_per_skipped_kind_and_unmodelled_field() {
    let scenario = podlab::load(&root().join(DUMP)).expect("the dump loads");
    let warnings: Vec<&str> = scenario.warnings.iter().map(|w| w.message.as_str()).collect();
    let starts = [
        "skipped 2 PersistentVolumeClaim objects, a kind podlab does not model: ",
        "skipped 3 ConfigMap objects, a kind podlab does not model: ",
        "2 Pods set `spec.hostNetwork`; podlab does not model host networking",
        "a Pod sets `spec.volumes[].persistentVolumeClaim`; podlab does not model volumes",
    ];
    assert_eq!(warnings.len(), starts.len(), "{warnings:#?}");
    for (w, start) in warnings.iter().zip(starts) {
        assert!(w.starts_with(start), "{w}\n  should start with\n{start}");
    }
    assert_eq!((scenario.nodes.len(), scenario.pods.len()), (3, 5));
    // The Services are read (for the default topology spreading); the static and DaemonSet
    // pods stay where the dump says.
    assert_eq!(scenario.kube.spread_selectors.len(), 2);
    for policy in podlab::schedulers::POLICIES {
        let run = run_checked(&scenario, policy, 1);
        assert_eq!(run.summary.pods.scheduled, 5, "{policy}");
        assert_eq!(common::nodes_of(&scenario, &run, "kube-system/kube-proxy-4xk2p"), ["demo-worker"], "{policy}");
    }
}

/// `validate` prints every warning once, and says the file is fine; `run` prints each once.
#[test]
fn validate_and_run_print_each_warning_once() {
    let out = podlab(&["validate", DUMP]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.matches("warning: ").count(), 4, "{stderr}");
    assert!(stdout(&out).contains("ok — 3 nodes, 5 pods, 0 groups, 0 expectations (4 warnings)"));
    let out = podlab(&["run", DUMP, "--policy", "kubernetes", "--policy", "omega"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.matches("warning: ").count(), 4, "{err}");
}

/// Under `--strict` every approximation is an error, all reported together, exit code 2.
#[test]
fn strict_refuses_what_podlab_would_approximate() {
    let out = podlab(&["validate", "--strict", DUMP]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.matches("error: ").count(), 4, "{stderr}");
    assert!(stderr.contains("4 errors, 0 warnings"), "{stderr}");
    assert!(stderr.contains("tests/data/kubectl-dump.yaml:"), "{stderr}");
}

/// `validate` reports every error of a file, not only the first.
#[test]
fn validate_prints_every_error() {
    let dir = temp_dir("typos");
    let file = dir.join("typos.yaml");
    std::fs::write(
        &file,
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  completion: 6\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c}]\n---\napiVersion: scheduling.x-k8s.io/v1alpha1\nkind: PodGroup\nmetadata: {name: g}\nspec: {minMembers: 4}\n",
    )
    .unwrap();
    let out = podlab(&["validate", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("did you mean `completions`?"), "{stderr}");
    assert!(stderr.contains("did you mean `minMember`?"), "{stderr}");
    assert!(stderr.contains("2 errors, 0 warnings"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
