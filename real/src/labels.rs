//! The labels on everything podlab creates in Docker, and run ids that say whether their run is
//! still alive — so that a later run can reap what a killed one left, and never touch anything
//! else.

use std::sync::atomic::{AtomicU64, Ordering};

/// The run an object belongs to. Nothing without it is ever touched.
pub const RUN_LABEL: &str = "podlab.dev/run";
/// The node a container runs on.
pub const NODE_LABEL: &str = "podlab.dev/node";
/// The pod (`namespace/name`, or `name` in the default namespace).
pub const POD_LABEL: &str = "podlab.dev/pod";
/// The part of the pod: `-` for the whole pod, else the app container it is.
pub const PART_LABEL: &str = "podlab.dev/part";
/// `infra` (the pod's sandbox, owning its network namespace) or `app`.
pub const ROLE_LABEL: &str = "podlab.dev/role";
/// The app container's name within the pod.
pub const CONTAINER_LABEL: &str = "podlab.dev/container";

/// A fresh run id: `<pid>-<process start time>-<n>`. The pid and start time (clock ticks since
/// boot, from `/proc/self/stat`) tell whether the run's process still lives, even after the pid
/// was reused; `n` tells apart the runs of one process.
pub fn new_run_id() -> String {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let pid = std::process::id();
    let start = process_start(pid).unwrap_or(0);
    format!("{pid}-{start}-{}", RUNS.fetch_add(1, Ordering::Relaxed))
}

/// Whether the process that made `run` is alive. A run id podlab did not make counts as alive:
/// it is someone else's, and left alone.
pub fn run_alive(run: &str) -> bool {
    let mut parts = run.split('-');
    let (Some(pid), Some(start), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return true;
    };
    let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>()) else { return true };
    process_start(pid) == Some(start)
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks since boot.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after its end.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// A name Docker accepts for containers and volumes: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn docker_name(parts: &[&str]) -> String {
    let joined = parts.join("-");
    joined
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' { c } else { '_' })
        .collect()
}

/// Labels as bollard wants them. Order does not matter: they go straight into JSON.
#[allow(clippy::disallowed_types)]
pub(crate) fn map(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// List filters as bollard wants them (`label=key=value` and the like); order does not matter.
#[allow(clippy::disallowed_types)]
pub(crate) fn filters(pairs: &[(&str, &str)]) -> std::collections::HashMap<String, Vec<String>> {
    let mut out = std::collections::HashMap::<String, Vec<String>>::new();
    for (k, v) in pairs {
        out.entry(k.to_string()).or_default().push(v.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This process's own run ids are alive; a dead pid's, or a start time that does not match,
    /// are not; ids podlab did not make are left alone (alive).
    #[test]
    fn run_liveness_follows_the_process() {
        let run = new_run_id();
        assert!(run_alive(&run));
        let pid = std::process::id();
        let start = process_start(pid).expect("this process has a start time");
        assert!(!run_alive(&format!("{pid}-{}-0", start + 1)));
        assert!(!run_alive(&format!("{}-{start}-0", u32::MAX)));
        assert!(run_alive("someone-else"));
        assert_ne!(new_run_id(), new_run_id());
    }

    /// Docker names keep letters, digits, `_`, `.`, `-` and replace the rest.
    #[test]
    fn docker_names_are_safe() {
        assert_eq!(docker_name(&["podlab", "1-2-3", "ns/app", "log collector"]), "podlab-1-2-3-ns_app-log_collector");
    }
}
