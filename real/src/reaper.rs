//! Clean-up: removing one run's containers, volumes and node slices, and reaping what runs
//! that died (`kill -9`, a crash) left behind. Only objects with podlab's run label are
//! touched, and only those of runs whose process is gone.

use crate::cgroup;
use crate::engine::Engine;
use crate::labels::{RUN_LABEL, run_alive};

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

/// Reaps every run whose process is gone: its labelled containers and volumes, its slices.
pub fn reap(engine: &Engine) -> Reaped {
    let mut reaped = Reaped::default();
    let dead = |run: &str, reaped: &mut Reaped| {
        if !run_alive(run) && !reaped.runs.iter().any(|r| r == run) {
            reaped.runs.push(run.to_string());
        }
    };
    match engine.containers_labelled(RUN_LABEL) {
        Ok(list) => {
            for c in &list {
                if let Some(run) = c.labels.as_ref().and_then(|l| l.get(RUN_LABEL)) {
                    dead(run, &mut reaped);
                }
            }
            reaped.containers = list
                .iter()
                .filter(|c| c.labels.as_ref().and_then(|l| l.get(RUN_LABEL)).is_some_and(|r| reaped.runs.contains(r)))
                .count();
        }
        Err(e) => reaped.problems.push(e.to_string()),
    }
    match engine.podlab_volumes() {
        Ok(volumes) => {
            for (_, run) in &volumes {
                dead(run, &mut reaped);
            }
            reaped.volumes = volumes.iter().filter(|(_, run)| reaped.runs.contains(run)).count();
        }
        Err(e) => reaped.problems.push(e.to_string()),
    }
    for run in cgroup::runs() {
        dead(&run, &mut reaped);
    }
    reaped.runs.sort();
    for run in reaped.runs.clone() {
        reaped.problems.extend(remove_run(engine, &run));
    }
    reaped
}
