//! Clean-up: removing one run's containers, volumes and node slices, and reaping what runs
//! that died (`kill -9`, a crash, a lost host) left behind. Only objects with podlab's run label
//! (and slices under podlab's cgroup directory) are touched, and only those of runs whose lease
//! has ended (`crate::lease`): a run in another PID namespace or on another host renews its
//! lease like any other, and a killed run — reaped by its parent or still a zombie — does not.

use crate::cgroup;
use crate::engine::Engine;
use crate::labels::{self, RUN_LABEL};
use crate::lease;

/// What a reap removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reaped {
    /// The dead runs found.
    pub runs: Vec<String>,
    pub containers: usize,
    pub volumes: usize,
    /// Problems met on the way (the reap goes on past them).
    pub problems: Vec<String>,
}

/// Removes everything of `run`; returns the problems met (an empty list when all went).
/// Idempotent: a second call finds nothing.
pub fn remove_run(engine: &Engine, run: &str) -> Vec<String> {
    let mut problems = Vec::new();
    match engine.containers_labelled(&format!("{RUN_LABEL}={run}")) {
        Ok(list) => {
            for c in list {
                if let Some(id) = c.id
                    && let Err(e) = engine.remove(&id)
                {
                    problems.push(e.to_string());
                }
            }
        }
        Err(e) => problems.push(e.to_string()),
    }
    match engine.podlab_volumes() {
        Ok(volumes) => {
            for (name, owner) in volumes {
                if owner == run
                    && let Err(e) = engine.remove_volume(&name)
                {
                    problems.push(e.to_string());
                }
            }
        }
        Err(e) => problems.push(e.to_string()),
    }
    for dir in cgroup::remove_run(run) {
        problems.push(format!("cgroup {dir} could not be removed"));
    }
    problems
}

/// Reaps every run whose lease has ended: its labelled containers (the lease's too) and
/// volumes, its slices. Runs of ids this podlab does not make (`labels::is_run_id`) are left
/// alone. Nothing is reaped when the containers cannot be listed: without the
/// leases, no run is known to be dead.
pub fn reap(engine: &Engine) -> Reaped {
    let mut reaped = Reaped::default();
    // Slices and volumes are listed before the containers, whose list says which leases live: a
    // run takes its lease before it makes anything else, so a live run whose slice or volume
    // was seen has its lease in the later list.
    let slices = cgroup::runs();
    let volumes = engine.podlab_volumes().unwrap_or_else(|e| {
        reaped.problems.push(e.to_string());
        Vec::new()
    });
    let daemon_now = engine.daemon_time();
    let containers = match engine.containers_labelled(RUN_LABEL) {
        Ok(list) => list,
        Err(e) => {
            reaped.problems.push(e.to_string());
            return reaped;
        }
    };
    let alive = lease::holders(&containers, daemon_now);
    let run_of = |c: &bollard::models::ContainerSummary| c.labels.as_ref().and_then(|l| l.get(RUN_LABEL)).cloned();
    let mut dead: Vec<String> = containers
        .iter()
        .filter_map(run_of)
        .chain(volumes.iter().map(|(_, run)| run.clone()))
        .chain(slices)
        .filter(|run| labels::is_run_id(run) && !alive.contains(run))
        .collect();
    dead.sort();
    dead.dedup();
    reaped.containers = containers.iter().filter(|c| run_of(c).is_some_and(|r| dead.contains(&r))).count();
    reaped.volumes = volumes.iter().filter(|(_, run)| dead.contains(run)).count();
    for run in &dead {
        reaped.problems.extend(remove_run(engine, run));
    }
    reaped.runs = dead;
    reaped
}
