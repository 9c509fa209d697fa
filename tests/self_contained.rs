//! The repository stands alone: no source, test, scenario, manifest or script names the
//! project's shared folder beside the checkout (a fresh clone has none), and every data folder
//! it ships is indexed, with where it comes from and its terms, in `data/README.md`.

mod common;

use std::path::{Path, PathBuf};

use common::root;

/// What a file must not contain: the shared folder beside the checkout, by either path.
/// Built from pieces so that this file does not name it.
fn needles() -> [String; 2] {
    [format!("..{}shared", '/'), format!("/work{}shared", '/')]
}

/// Whether the walk checks this file: Rust, YAML, TOML, shell scripts, CI's script, and the
/// READMEs of `data/`.
fn checked(path: &Path, under_data: bool) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = path.extension().and_then(|x| x.to_str()).unwrap_or("");
    matches!(ext, "rs" | "yaml" | "yml" | "toml" | "sh")
        || path.ends_with(".ci/run")
        || (under_data && ext == "md")
        || name == "Cargo.lock"
}

/// Collects the checked files under `dir`, skipping Git's folder, build outputs (cargo marks
/// its target folders with CACHEDIR.TAG) and podlab's default output folder. Symbolic links
/// are not followed.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("CACHEDIR.TAG").exists() {
        return;
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        let name = entry.file_name();
        if kind.is_dir() {
            if !matches!(name.to_str(), Some(".git" | "target" | "podlab-out")) {
                walk(&path, out);
            }
        } else if kind.is_file() && checked(&path, path.starts_with(root().join("data"))) {
            out.push(path);
        }
    }
}

#[test]
fn no_file_names_the_shared_folder_beside_the_checkout() {
    let mut files = Vec::new();
    walk(root(), &mut files);
    assert!(files.iter().any(|f| f.ends_with(".ci/run")), "the walk reaches .ci/run");
    assert!(files.iter().any(|f| f.ends_with("data/traces/README.md")), "the walk reaches data/");
    let needles = needles();
    let mut found = Vec::new();
    for file in &files {
        // Data files may not be UTF-8 throughout: search the bytes.
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for (number, line) in text.lines().enumerate() {
            if needles.iter().any(|n| line.contains(n.as_str())) {
                let shown = file.strip_prefix(root()).unwrap_or(file).display();
                found.push(format!("{shown}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "these lines name the shared folder beside the checkout, which a fresh clone does not \
         have; point them at the repository's data/ instead:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_data_folder_is_indexed_in_the_data_readme() {
    let data = root().join("data");
    let index = std::fs::read_to_string(data.join("README.md")).unwrap();
    let mut folders = vec!["conformance/".to_string()];
    for entry in std::fs::read_dir(data.join("traces")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            folders.push(format!("traces/{}/", entry.file_name().to_string_lossy()));
        }
    }
    for entry in std::fs::read_dir(&data).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            entry.file_type().unwrap().is_file() || matches!(name.as_str(), "traces" | "conformance"),
            "data/{name} is not in data/README.md's table"
        );
    }
    for folder in &folders {
        assert!(index.contains(&format!("| `{folder}` |")), "data/README.md has no row for `{folder}`");
    }
    for readme in ["traces/README.md", "conformance/README.md"] {
        assert!(data.join(readme).is_file(), "data/{readme}, the detailed attribution, is missing");
    }
    for family in ["A", "B", "C", "D", "E", "F", "G"] {
        assert!(data.join("conformance").join(family).is_dir(), "data/conformance/{family} is missing");
    }
}
