//! The labels on everything podlab creates in Docker, and run ids — so that a later run can
//! reap what a killed one left (its lease tells, `crate::lease`), and never touch anything else.

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

/// A fresh run id: 16 hex digits from the kernel's random source, unique across processes, PID
/// namespaces and hosts that share a Docker daemon (a PID and its start time are not: two
/// containers' first processes may share both). Whether the run lives is its lease's business
/// (`crate::lease`), never its id's.
pub fn new_run_id() -> String {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; 8];
    let random = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if random.is_err() {
        // No /dev/urandom (a bare chroot): the process, the time and a counter, hashed, are
        // unique enough for one daemon's runs.
        #[allow(clippy::disallowed_types)]
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let seed = format!("{}-{}-{}", std::process::id(), now.as_nanos(), RUNS.fetch_add(1, Ordering::Relaxed));
        bytes.copy_from_slice(&blake3::hash(seed.as_bytes()).as_bytes()[..8]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `run` is a run id this podlab makes (16 lowercase hex digits). Objects of other ids —
/// a podlab older than leases, someone else's — are never reaped: no lease says they are dead.
pub fn is_run_id(run: &str) -> bool {
    run.len() == 16 && run.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
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

    /// Run ids are 16 hex digits, a fresh one each time.
    #[test]
    fn run_ids_are_fresh() {
        let (a, b) = (new_run_id(), new_run_id());
        assert_ne!(a, b);
        assert!(is_run_id(&a) && is_run_id(&b), "{a} {b}");
        assert!(!is_run_id("4242-1234567-0"), "a podlab older than leases");
        assert!(!is_run_id("0123456789ABCDEF"));
    }

    /// Docker names keep letters, digits, `_`, `.`, `-` and replace the rest.
    #[test]
    fn docker_names_are_safe() {
        assert_eq!(docker_name(&["podlab", "1-2-3", "ns/app", "log collector"]), "podlab-1-2-3-ns_app-log_collector");
    }
}
