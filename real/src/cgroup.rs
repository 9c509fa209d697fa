//! Nodes as capacity slices: a parent cgroup per node (`/podlab/<run>/<node>`) holding the
//! node's memory and CPU, which Docker's cgroupfs driver nests each container of the node under
//! (`HostConfig.CgroupParent`). cgroup v1 only; elsewhere podlab says so and keeps per-container
//! limits alone.

use std::path::{Path, PathBuf};

use podlab_cluster::Resources;

/// Where cgroup v1 hierarchies are mounted.
const ROOT: &str = "/sys/fs/cgroup";
/// The directory under each hierarchy that holds podlab's runs.
const PODLAB_DIR: &str = "podlab";
/// The CFS period podlab writes quotas against, as Docker does.
pub const CFS_PERIOD_US: u64 = 100_000;

/// Whether node slices can be made here, and why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slices {
    /// cgroup v1 with writable memory and cpu hierarchies.
    V1,
    Unavailable(String),
}

impl Slices {
    pub fn detect() -> Slices {
        let memory = Path::new(ROOT).join("memory");
        let cpu = Path::new(ROOT).join("cpu");
        if !memory.join("memory.limit_in_bytes").exists() || !cpu.join("cpu.cfs_quota_us").exists() {
            return Slices::Unavailable(format!("{ROOT} has no cgroup v1 memory and cpu hierarchies"));
        }
        let probe = memory.join(PODLAB_DIR);
        match std::fs::create_dir_all(&probe) {
            Ok(()) => Slices::V1,
            Err(e) => Slices::Unavailable(format!("cannot create {}: {e}", probe.display())),
        }
    }
}

/// The cgroup parent Docker is given for a node's containers: `/podlab/<run>/<node>`.
pub fn parent(run: &str, node: &str) -> String {
    format!("/{PODLAB_DIR}/{run}/{node}")
}

/// Makes a node's slice: its memory limit and CPU quota, before any container joins it.
pub fn create_node(run: &str, node: &str, allocatable: &Resources) -> std::io::Result<()> {
    let memory = Path::new(ROOT).join("memory").join(&parent(run, node)[1..]);
    std::fs::create_dir_all(&memory)?;
    if allocatable.memory_bytes > 0 {
        std::fs::write(memory.join("memory.limit_in_bytes"), allocatable.memory_bytes.to_string())?;
    }
    let cpu = Path::new(ROOT).join("cpu").join(&parent(run, node)[1..]);
    std::fs::create_dir_all(&cpu)?;
    if allocatable.cpu_milli > 0 {
        std::fs::write(cpu.join("cpu.cfs_period_us"), CFS_PERIOD_US.to_string())?;
        std::fs::write(cpu.join("cpu.cfs_quota_us"), (allocatable.cpu_milli * CFS_PERIOD_US / 1000).to_string())?;
    }
    Ok(())
}

/// Reads back a node slice's memory limit and CPU quota (tests check what was written).
pub fn node_limits(run: &str, node: &str) -> Option<(u64, i64)> {
    let read = |controller: &str, file: &str| {
        let path = Path::new(ROOT).join(controller).join(&parent(run, node)[1..]).join(file);
        std::fs::read_to_string(path).ok()?.trim().parse::<i64>().ok()
    };
    Some((read("memory", "memory.limit_in_bytes")? as u64, read("cpu", "cpu.cfs_quota_us")?))
}

/// Removes a run's slices from every hierarchy (runc makes the parents in all of them). A slice
/// still holding a container that is being torn down is retried briefly. Idempotent.
pub fn remove_run(run: &str) -> Vec<String> {
    let mut left = Vec::new();
    for hierarchy in hierarchies() {
        let dir = hierarchy.join(PODLAB_DIR).join(run);
        if !dir.exists() {
            continue;
        }
        for attempt in 0..20 {
            remove_tree(&dir);
            if !dir.exists() {
                break;
            }
            if attempt == 19 {
                left.push(dir.display().to_string());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    left
}

/// The runs that have slices here.
pub fn runs() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for hierarchy in hierarchies() {
        let Ok(entries) = std::fs::read_dir(hierarchy.join(PODLAB_DIR)) else { continue };
        for entry in entries.flatten() {
            if entry.path().is_dir()
                && let Some(name) = entry.file_name().to_str()
                && !out.iter().any(|r| r == name)
            {
                out.push(name.to_string());
            }
        }
    }
    out.sort();
    out
}

fn hierarchies() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(ROOT) else { return Vec::new() };
    let mut out: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    out.sort();
    out
}

/// `rmdir` depth first: cgroup directories hold only kernel files, which go with the directory.
fn remove_tree(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.path().is_dir() {
                remove_tree(&entry.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}
