//! Placement policies, each a `Controller`: the scheduling framework with kube-scheduler's
//! default plugins, used whole (`kubernetes`) or container by container (`per-container`).

pub mod fgd_sim;
pub mod framework;
pub mod gpu;
pub mod jobs;
pub mod kube;
pub mod mesos;
pub mod node_info;
pub mod node_table;
pub mod offerable;
pub mod sampling;
pub mod scheduler;
pub mod shared_state;

use podlab_cluster::Controller;
use podlab_cluster::scenario::Scenario;

pub use scheduler::{Granularity, Scheduler};
pub use shared_state::{JobScheduler, Mode};

use jobs::Router;
use mesos::{Framework, Master};
use podlab_cluster::ControllerId;
use podlab_cluster::config::{Assignment, SchedulerSpec};

/// Every policy podlab can run, in the order a comparison shows them.
pub const POLICIES: &[&str] = &["per-container", "kubernetes", "gang", "mesos", "omega", "monolithic"];

/// The controllers that make up one policy, configured from the scenario. `None` for a name
/// that is not in [`POLICIES`].
pub fn build(policy: &str, scenario: &Scenario) -> Option<Vec<Box<dyn Controller>>> {
    let config = scenario.config.scheduler.clone();
    // The GPU score plugin, if any: FGD's target workload is the scenario's pods.
    let gpu = gpu::GpuScorer::for_scenario(scenario);
    let scheduler: Box<dyn Controller> = match policy {
        "kubernetes" => {
            // Its KubeSchedulerConfiguration, if any: the profile, the share of nodes scored,
            // the backoff.
            let mut config = config;
            kube::cache::KubeCache::apply_settings(scenario, &mut config);
            let cache = kube::cache::KubeCache::for_scenario(scenario);
            Box::new(
                Scheduler::new(policy, Granularity::Pod, false, config).with_gpu_scorer(gpu).with_kube_profile(cache),
            )
        }
        "per-container" => Box::new(Scheduler::new(policy, Granularity::Container, false, config).with_gpu_scorer(gpu)),
        "gang" => Box::new(Scheduler::new(policy, Granularity::Pod, true, config).with_gpu_scorer(gpu)),
        "monolithic" => {
            let m = &scenario.config.monolithic;
            let service = if m.multi_path { m.service } else { m.batch };
            let mode = Mode::Monolithic { batch: m.batch, service };
            // One scheduler takes every job.
            let all = SchedulerSpec { name: "monolithic".into(), count: 1, workload: None, decision: m.batch };
            let router = Router::new(&[all], false);
            Box::new(JobScheduler::new("monolithic".into(), 0, router, mode, m.retry).with_placement(m.placement))
        }
        "omega" => {
            let o = &scenario.config.omega;
            let router = Router::new(&o.schedulers, o.assignment == Assignment::RoundRobin);
            let mut all: Vec<Box<dyn Controller>> = Vec::new();
            let decisions = o.schedulers.iter().flat_map(|s| std::iter::repeat_n(s.decision, s.count as usize));
            for (me, ((name, _, _), decision)) in router.instances.iter().zip(decisions).enumerate() {
                let mode = Mode::Omega { decision, detection: o.detection, all_or_nothing: o.all_or_nothing };
                let scheduler = JobScheduler::new(format!("omega-{name}"), me, router.clone(), mode, o.retry);
                all.push(Box::new(scheduler.with_placement(o.placement)));
            }
            return Some(all);
        }
        "mesos" => {
            let m = &scenario.config.mesos;
            let specs: Vec<SchedulerSpec> = m.frameworks.iter().map(|f| f.scheduler.clone()).collect();
            let router = Router::new(&specs, false);
            // The master is controller 0; frameworks follow, one per instance.
            let ids = (1..=router.instances.len()).map(|i| ControllerId(i as u16)).collect();
            let mut all: Vec<Box<dyn Controller>> = vec![Box::new(Master::new(m.clone(), ids))];
            let per_instance = m.frameworks.iter().flat_map(|f| std::iter::repeat_n(f, f.scheduler.count as usize));
            for (me, spec) in per_instance.enumerate() {
                all.push(Box::new(Framework::new(spec, me, router.clone(), ControllerId(0), m)));
            }
            return Some(all);
        }
        _ => return None,
    };
    Some(vec![scheduler])
}
