//! The loader reads everything kube-scheduler's default profile needs: every conformance
//! scenario of `data/conformance/` loads without a warning, with its PodDisruptionBudgets
//! appended where it has them, and the objects found match the counts its `meta.json` records.

mod common;

use std::path::{Path, PathBuf};

use common::{podlab, root, stderr, temp_dir};
use podlab::cluster::affinity::PreemptionPolicy;

/// Every scenario file (`<family>/<name>.yaml`, not the `.pdbs.yaml`), sorted.
fn scenario_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for family in std::fs::read_dir(root).expect("data/conformance exists") {
        let family = family.expect("a readable folder").path();
        if !family.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&family).expect("a readable family") {
            let path = file.expect("a readable entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".yaml") && !name.ends_with(".pdbs.yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_conformance_scenario_loads_with_its_pdbs() {
    let root = root().join("data/conformance");
    let files = scenario_files(&root);
    assert_eq!(files.len(), 56, "seven families of eight scenarios");
    let (mut with_pdbs, mut affinity_pods, mut never_pods, mut image_nodes) = (0, 0, 0, 0);
    for path in &files {
        let mut text = std::fs::read_to_string(path).expect("readable");
        let pdbs = path.with_extension("pdbs.yaml");
        if pdbs.exists() {
            text.push_str("---\n");
            text.push_str(&std::fs::read_to_string(&pdbs).expect("readable"));
            with_pdbs += 1;
        }
        let label = path.display().to_string();
        let s = podlab::load_str(&label, &text).unwrap_or_else(|e| panic!("{e}"));
        assert!(s.warnings.is_empty(), "{label}: {:?}", s.warnings);
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("meta.json")).expect("meta"))
                .expect("json");
        let count =
            |key: &str| meta["counts"][key].as_u64().unwrap_or_else(|| panic!("{label}: counts.{key}")) as usize;
        assert_eq!(s.nodes.len(), count("nodes"), "{label}");
        assert_eq!(s.pods.iter().filter(|p| p.node_name().is_none()).count(), count("pods"), "{label}");
        let replica_sets = s.kube.spread_selectors.iter().filter(|x| x.kind == "ReplicaSet").count();
        assert_eq!(replica_sets, count("replicaSets"), "{label}");
        assert_eq!(s.kube.pdbs.len(), count("podDisruptionBudgets"), "{label}");
        assert!(s.kube.namespace_labels.contains_key("default"), "{label}");
        affinity_pods += s.pods.iter().filter(|p| p.terms.as_ref().is_some_and(|t| t.has_pod_affinity())).count();
        never_pods += s.pods.iter().filter(|p| p.preemption_policy == PreemptionPolicy::Never).count();
        image_nodes += s.nodes.iter().filter(|n| !n.images.is_empty()).count();
    }
    assert_eq!(with_pdbs, 16, "families E and G have PodDisruptionBudgets");
    assert!(affinity_pods > 0 && never_pods > 0 && image_nodes > 0, "{affinity_pods} {never_pods} {image_nodes}");
}

/// A ReplicaSet-owned pod of family B gets the ReplicaSet's selector as its default spreading
/// selector, through its declared owner reference.
#[test]
fn replica_set_pods_find_their_selector() {
    let path = root().join("data/conformance/B/b00.yaml");
    let s = podlab::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let owned = s
        .pods
        .iter()
        .find(|p| p.terms.as_ref().is_some_and(|t| t.controller.is_some()))
        .expect("family B has ReplicaSet pods");
    let selector = podlab::cluster::apps::default_selector(&s.kube.spread_selectors, &owned.spec);
    assert!(!selector.is_empty());
    assert!(selector.matches(&owned.labels), "a controller's selector selects its pods");
}

/// `--scheduler-config FILE` is read by `run`, `compare` and `validate`: a bad file is a
/// positioned error and exit code 2, a good one is accepted, and one whose profiles the pods do
/// not name is a warning about them.
#[test]
fn scheduler_config_flag() {
    let dir = temp_dir("scheduler-config");
    let head = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";
    let good = dir.join("good.yaml");
    std::fs::write(
        &good,
        format!(
            "{head}profiles:\n- pluginConfig:\n  - name: InterPodAffinity\n    args: {{hardPodAffinityWeight: 5}}\n"
        ),
    )
    .expect("written");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, format!("{head}profiles:\n- plugins:\n    score:\n      enabled: [{{name: ImageLocalty}}]\n"))
        .expect("written");
    let scenario = root().join("data/conformance/A/a00.yaml");
    let (good, bad, scenario) = (good.to_str().unwrap(), bad.to_str().unwrap(), scenario.to_str().unwrap());
    let out = podlab(&["validate", "--scheduler-config", good, scenario]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A file whose profiles none of the scenario's pods names: each name is one warning.
    let other = dir.join("other.yaml");
    std::fs::write(&other, format!("{head}profiles:\n- schedulerName: other\n")).expect("written");
    let out = podlab(&["validate", "--scheduler-config", other.to_str().unwrap(), scenario]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let want =
        "schedulerName `default-scheduler` is no profile of the KubeSchedulerConfiguration (its profiles: `other`)";
    assert_eq!(stderr.matches(want).count(), 1, "{stderr}");
    assert!(stderr.contains("other.yaml:1:1"), "{stderr}");
    // The file's profiles replace the scenario's: its warning about a pod of no profile goes.
    let named = dir.join("named.yaml");
    std::fs::write(
        &named,
        format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: n}}\nstatus: {{allocatable: {{cpu: \"1\"}}}}\n---\n\
             apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{schedulerName: other, containers: [{{name: c}}]}}\n\
             ---\n{head}profiles:\n- schedulerName: default-scheduler\n"
        ),
    )
    .expect("written");
    let alone = podlab(&["validate", named.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&alone.stderr).contains("schedulerName `other` is no profile"));
    let replaced = podlab(&["validate", "--scheduler-config", other.to_str().unwrap(), named.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&replaced.stderr);
    assert!(!said.contains("is no profile"), "{said}");
    for command in ["validate", "run", "compare"] {
        let out = podlab(&[command, "--scheduler-config", bad, scenario]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("bad.yaml:6:24") && stderr.contains("did you mean `ImageLocality`"),
            "{command}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
