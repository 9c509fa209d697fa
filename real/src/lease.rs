//! A run's lease: how a run proves it lives to a reaper anywhere its Docker daemon is reached —
//! another PID namespace, another host — without a PID.
//!
//! The lease is a tiny container of the run (`podlab-workload lease --ttl-ms N`, role `lease`)
//! that runs while its file `/podlab-lease` keeps changing and exits once it has not changed for
//! the time-to-live. A thread of the run rewrites the file through Docker's archive API (one
//! `PUT` of a 2 KiB tar) every sixth of the time-to-live. A run is alive exactly while its
//! lease container runs: a reaper reads that from the container list, which any client of the
//! daemon sees alike. The deadline is kept by the daemon's host on its own monotonic clock, so
//! no two machines' clocks are compared; a killed run — reaped by its parent or a zombie —
//! renews nothing, and its lease ends a time-to-live later.
//!
//! Why a container: Docker cannot change a container's or a volume's labels after creation,
//! and a timestamp written by the run would be compared with a reaper's clock on another host.
//! The lease is taken before anything else of the run is made (node slices, volumes,
//! containers), so whatever a reaper finds of a live run, it finds the run's lease too.

use std::collections::BTreeSet;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::models::{ContainerCreateBody, ContainerSummary, HostConfig};
use bollard::query_parameters::UploadToContainerOptions;
use podlab_cluster::SimDuration;

use crate::RealError;
use crate::engine::{Engine, docker_error};
use crate::image::{ENTRYPOINT, tar_entry};
use crate::labels::{self, ROLE_LABEL, RUN_LABEL, docker_name};

/// The role label of a lease container.
pub const LEASE_ROLE: &str = "lease";
/// The lease's time-to-live in milliseconds, on the lease container (for a lease not yet started).
pub const TTL_LABEL: &str = "podlab.dev/lease-ttl-ms";
/// How long a run lives on without renewing its lease: generous, so that a loaded machine or a
/// slow daemon never costs a live run its containers.
pub const DEFAULT_TTL: SimDuration = SimDuration::from_secs(30);
/// The shortest time-to-live allowed (tests use a few seconds); shorter would race renewals.
pub const MIN_TTL: SimDuration = SimDuration::from_secs(1);
/// The longest: a dead run's objects are reaped at most this long after it died.
pub const MAX_TTL: SimDuration = SimDuration::from_secs(3600);
/// The file the lease container watches (the workload's `LEASE_FILE`, without its `/`).
const LEASE_FILE: &str = "podlab-lease";

/// A held lease: its container and the thread that renews it. Released (the thread stopped)
/// when dropped; the container goes with the run's other objects.
pub struct Lease {
    container: String,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    lost: Arc<Mutex<Option<String>>>,
}

impl Lease {
    /// Starts `run`'s lease container and the thread that renews it every sixth of `ttl`.
    pub fn take(engine: &Engine, image: &str, run: &str, ttl: SimDuration) -> Result<Lease, RealError> {
        // Its own connection: renewals go on whatever the run's thread is waiting for.
        let renewer = Engine::connect()?;
        let ttl_ms = (ttl.as_nanos() / 1_000_000).to_string();
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            entrypoint: Some(vec![ENTRYPOINT.into()]),
            cmd: Some(vec!["lease".into(), "--ttl-ms".into(), ttl_ms.clone()]),
            labels: Some(labels::map(&[(RUN_LABEL, run), (ROLE_LABEL, LEASE_ROLE), (TTL_LABEL, &ttl_ms)])),
            host_config: Some(HostConfig {
                network_mode: Some("none".into()),
                // A watchdog that reads one small file: 16 MiB is plenty.
                memory: Some(16 << 20),
                ..Default::default()
            }),
            ..Default::default()
        };
        let container = engine.create_container(&docker_name(&["podlab", run, "lease"]), body)?;
        if let Err(e) = engine.block_on(engine.docker.start_container(&container, None)) {
            let _ = engine.remove(&container);
            return Err(docker_error("start the run's lease")(e));
        }
        let (stop, stopped) = mpsc::channel();
        let lost = Arc::new(Mutex::new(None));
        let (id, lost_by) = (container.clone(), lost.clone());
        let every = Duration::from_nanos(ttl.as_nanos() / 6);
        let thread = std::thread::Builder::new()
            .name("podlab-lease".into())
            .spawn(move || renew(&renewer, &id, every, &stopped, &lost_by))
            .map_err(|e| {
                let _ = engine.remove(&container);
                RealError::Docker(format!("cannot start the lease's renewal thread: {e}"))
            })?;
        Ok(Lease { container, stop: Some(stop), thread: Some(thread), lost })
    }

    /// Why the lease was lost (it ended before the run: the run was stopped or starved for longer
    /// than the time-to-live, and a reaper may have removed its objects), or `None`.
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The lease container's id.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// Stops renewing (the container then ends by itself, or with the run's clean-up).
    pub fn release(&mut self) {
        // Dropping the sender wakes the thread at once.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.release();
    }
}

/// The renewal loop: every `every`, a new counter in the lease file, then a look that the lease
/// container still runs (an upload into a stopped container succeeds too). Returns when told to
/// stop, or when the lease is lost.
fn renew(engine: &Engine, container: &str, every: Duration, stop: &mpsc::Receiver<()>, lost: &Mutex<Option<String>>) {
    for n in 1u64.. {
        match stop.recv_timeout(every) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        // One header block, one data block, the two zero blocks that end an archive: 2 KiB.
        let mut tar = Vec::with_capacity(2048);
        tar_entry(&mut tar, LEASE_FILE, 0o644, n.to_string().as_bytes());
        tar.extend_from_slice(&[0; 1024]);
        let options = UploadToContainerOptions { path: "/".into(), ..Default::default() };
        // A failed upload is retried at the next renewal (the lease has time to spare); what
        // ends the lease is its container stopped or gone.
        let _ = engine.block_on(engine.docker.upload_to_container(
            container,
            Some(options),
            bollard::body_full(tar.into()),
        ));
        let why = match engine.block_on(engine.docker.inspect_container(container, None)) {
            Ok(c) if c.state.as_ref().and_then(|s| s.running) == Some(true) => continue,
            Ok(_) => "the run's lease container stopped",
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                "the run's lease container is gone"
            }
            // The daemon did not answer: asked again at the next renewal.
            Err(_) => continue,
        };
        *lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!(
            "{why}: its lease expired, so a reaper may have removed the run's containers, volumes and slices \
             (was the process stopped, or starved, for longer than the lease's time-to-live?)"
        ));
        return;
    }
}

/// The runs holding a live lease among `containers` (every container with podlab's run label):
/// a lease container that runs (or is paused), or one created but not yet started less than
/// its time-to-live ago by the daemon's clock (`daemon_now`, Unix seconds; unknown counts as
/// young, so a starting run is never mistaken for a dead one).
pub fn holders(containers: &[ContainerSummary], daemon_now: Option<i64>) -> BTreeSet<String> {
    let mut alive = BTreeSet::new();
    for c in containers {
        let Some(labels) = c.labels.as_ref() else { continue };
        let (Some(run), Some(LEASE_ROLE)) = (labels.get(RUN_LABEL), labels.get(ROLE_LABEL).map(String::as_str)) else {
            continue;
        };
        let state = c.state.as_ref().map(|s| s.to_string()).unwrap_or_default();
        let live = match state.as_str() {
            "running" | "paused" => true,
            "created" => {
                let ttl_s = labels.get(TTL_LABEL).and_then(|t| t.parse::<i64>().ok()).unwrap_or(i64::MAX) / 1000;
                match (daemon_now, c.created) {
                    (Some(now), Some(created)) => now.saturating_sub(created) <= ttl_s.saturating_add(1),
                    _ => true,
                }
            }
            _ => false,
        };
        if live {
            alive.insert(run.clone());
        }
    }
    alive
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(run: &str, state: &str, created: i64) -> ContainerSummary {
        ContainerSummary {
            labels: Some(labels::map(&[(RUN_LABEL, run), (ROLE_LABEL, LEASE_ROLE), (TTL_LABEL, "30000")])),
            state: Some(state.parse().expect("a container state")),
            created: Some(created),
            ..Default::default()
        }
    }

    /// A run holds its lease while the lease container runs; an exited lease, a lease of another
    /// role, or a never-started lease older than its time-to-live hold nothing.
    #[test]
    fn leases_are_held_by_running_containers() {
        let app = ContainerSummary {
            labels: Some(labels::map(&[(RUN_LABEL, "app-only"), (ROLE_LABEL, "app")])),
            state: Some("running".parse().expect("a container state")),
            ..Default::default()
        };
        let list = [
            lease("running", "running", 0),
            lease("exited", "exited", 0),
            lease("dead", "dead", 0),
            lease("starting", "created", 1000),
            lease("stuck", "created", 900),
            app,
        ];
        let alive: Vec<String> = holders(&list, Some(1020)).into_iter().collect();
        assert_eq!(alive, ["running", "starting"]);
        let unknown_time: Vec<String> = holders(&list, None).into_iter().collect();
        assert_eq!(unknown_time, ["running", "starting", "stuck"]);
    }
}
