//! Named parameters that a command line (`--set KEY=VALUE`) or a sweep can change on a loaded
//! scenario, so one scenario file serves a whole experiment: `omega.service.tJob=10s`,
//! `workload.rateMultiplier=2`, `omega.transactions=all-or-nothing`, …

use crate::config::{ConflictDetectionName, DecisionTime, PolicyConfig};
use crate::time::parse_duration;
use podlab_cluster::scenario::Scenario;

/// The parameters and what they take, for help texts and error messages.
pub const PARAMETERS: &[(&str, &str)] = &[
    ("duration", "duration: when the run stops"),
    ("scheduler.tJob | scheduler.tTask", "duration: the Kubernetes framework's decision time"),
    ("scheduler.scoringStrategy", "LeastAllocated | MostAllocated"),
    ("scheduler.percentageOfNodesToScore", "0 to 100 (0: kube's adaptive default)"),
    ("scheduler.gpuScoring", "Default | BestFit | GpuPacking | DotProduct | FGD"),
    ("omega.<scheduler>.tJob | .tTask", "duration: one Omega scheduler's decision time"),
    ("omega.<scheduler>.count", "number: how many instances of that scheduler"),
    ("omega.conflictDetection", "fine | coarse"),
    ("omega.transactions", "incremental | all-or-nothing"),
    ("mesos.<framework>.tJob | .tTask", "duration: one framework's decision time"),
    ("mesos.<framework>.hoardTimeout", "duration"),
    ("mesos.offers", "per-node | whole-cell"),
    ("mesos.rounds", "after-trigger | rate-limited: when the allocator runs a round of offers"),
    ("mesos.allocatorDecision", "duration: how long after its round an offer reaches its framework"),
    ("omega.placement | monolithic.placement | mesos.placement", "per-task | pack: the randomised first fit's rule"),
    ("monolithic.batch.tJob | .tTask, monolithic.service.tJob | .tTask", "duration"),
    ("monolithic.multiPath", "true | false"),
    ("workload.rateMultiplier", "number > 0: multiplies every generator's arrival rate"),
    ("controlPlane.watchDropRate", "0 to 0.5: the chance a watch event to one watcher is lost (needs controlPlane)"),
];

fn duration(value: &str) -> Result<crate::time::SimDuration, String> {
    parse_duration(value)
}

fn set_decision(d: &mut DecisionTime, field: &str, value: &str) -> Result<(), String> {
    match field {
        "tJob" => d.t_job = duration(value)?,
        "tTask" => d.t_task = duration(value)?,
        other => return Err(format!("unknown field `{other}` (tJob, tTask)")),
    }
    Ok(())
}

/// Sets one parameter; the error says what is wrong and lists what exists.
pub fn set(scenario: &mut Scenario, key: &str, value: &str) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    let c = &mut scenario.config;
    let known = match parts[..] {
        ["duration"] => {
            scenario.duration = Some(duration(value)?);
            true
        }
        ["controlPlane", "watchDropRate"] => {
            let rate: f64 = value.parse().map_err(|_| format!("`{value}`: a fraction from 0 to 0.5"))?;
            if !(0.0..=0.5).contains(&rate) {
                return Err(format!("`{value}`: a fraction from 0 to 0.5"));
            }
            let cp = scenario.control_plane.as_mut().ok_or("this scenario has no `controlPlane` to lose events")?;
            cp.watch_drop_rate = rate;
            true
        }
        ["workload", "rateMultiplier"] => {
            scenario.workload.rate_multiplier = value
                .parse::<f64>()
                .ok()
                .filter(|m| *m > 0.0 && *m <= 1e6)
                .ok_or_else(|| format!("`{value}`: a number above 0"))?;
            true
        }
        ["scheduler", field] => set_scheduler(c, field, value).map(|()| true)?,
        ["omega", ref rest @ ..] => set_omega(c, rest, value)?,
        ["mesos", ref rest @ ..] => set_mesos(c, rest, value)?,
        ["monolithic", ref rest @ ..] => set_monolithic(c, rest, value)?,
        _ => false,
    };
    if known {
        return Ok(());
    }
    let list: Vec<String> = PARAMETERS.iter().map(|(k, v)| format!("  {k} — {v}")).collect();
    Err(format!("unknown parameter `{key}`; podlab knows:\n{}", list.join("\n")))
}

/// `scheduler.<field>`: the Kubernetes framework's scoring, or its decision time.
fn set_scheduler(c: &mut PolicyConfig, field: &str, value: &str) -> Result<(), String> {
    match field {
        "scoringStrategy" => {
            c.scheduler.scoring = match value {
                "LeastAllocated" => crate::config::ScoringStrategy::LeastAllocated,
                "MostAllocated" => crate::config::ScoringStrategy::MostAllocated,
                _ => return Err(format!("`{value}`: LeastAllocated or MostAllocated")),
            }
        }
        "percentageOfNodesToScore" => {
            c.scheduler.percentage_of_nodes_to_score = value
                .parse()
                .ok()
                .filter(|p| *p <= 100)
                .ok_or_else(|| format!("`{value}`: a percentage from 0 to 100 (0: adaptive)"))?
        }
        "gpuScoring" => {
            c.scheduler.gpu_scoring = crate::config::GpuScoring::parse(value)
                .ok_or_else(|| format!("`{value}`: one of {}", crate::config::GpuScoring::names()))?
        }
        field => set_decision(&mut c.scheduler.decision, field, value)?,
    }
    Ok(())
}

/// `omega.<rest>`: Omega's transactions and placement, or one scheduler's; false for a key
/// Omega has not.
fn set_omega(c: &mut PolicyConfig, rest: &[&str], value: &str) -> Result<bool, String> {
    match rest {
        ["conflictDetection"] => c.omega.detection = ConflictDetectionName::parse(value)?,
        ["transactions"] => {
            c.omega.all_or_nothing = match value {
                "incremental" => false,
                "all-or-nothing" => true,
                _ => return Err(format!("`{value}`: transactions are incremental or all-or-nothing")),
            }
        }
        ["placement"] => c.omega.placement = crate::config::Placement::parse(value)?,
        [name, field] => {
            let names: Vec<String> = c.omega.schedulers.iter().map(|s| s.name.clone()).collect();
            let s = c
                .omega
                .schedulers
                .iter_mut()
                .find(|s| s.name == *name)
                .ok_or_else(|| format!("no Omega scheduler `{name}` (have: {})", names.join(", ")))?;
            if *field == "count" {
                s.count = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=1024).contains(n))
                    .ok_or_else(|| format!("`{value}`: count is 1 to 1024"))?;
            } else {
                set_decision(&mut s.decision, field, value)?;
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `mesos.<rest>`: the allocator's rounds and offers and the placement, or one framework's
/// decision time and hoarding; false for a key Mesos has not.
fn set_mesos(c: &mut PolicyConfig, rest: &[&str], value: &str) -> Result<bool, String> {
    match rest {
        ["placement"] => c.mesos.placement = crate::config::Placement::parse(value)?,
        ["rounds"] => {
            c.mesos.rounds = Some(match value {
                "after-trigger" => crate::config::AllocationRounds::AfterTrigger,
                "rate-limited" => crate::config::AllocationRounds::RateLimited,
                _ => return Err(format!("`{value}`: rounds are after-trigger or rate-limited")),
            })
        }
        ["allocatorDecision"] => c.mesos.allocator_decision = Some(duration(value)?),
        ["offers"] => {
            c.mesos.granularity = match value {
                "per-node" => crate::config::OfferGranularity::PerNode,
                "whole-cell" => crate::config::OfferGranularity::WholeCell,
                _ => return Err(format!("`{value}`: offers are per-node or whole-cell")),
            }
        }
        [name, field] => {
            let names: Vec<String> = c.mesos.frameworks.iter().map(|f| f.scheduler.name.clone()).collect();
            let f = c
                .mesos
                .frameworks
                .iter_mut()
                .find(|f| f.scheduler.name == *name)
                .ok_or_else(|| format!("no Mesos framework `{name}` (have: {})", names.join(", ")))?;
            if *field == "hoardTimeout" {
                f.hoard_timeout = duration(value)?;
            } else {
                set_decision(&mut f.scheduler.decision, field, value)?;
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `monolithic.<rest>`: the placement, multi-path, or a path's decision time; false for a key
/// the monolithic scheduler has not.
fn set_monolithic(c: &mut PolicyConfig, rest: &[&str], value: &str) -> Result<bool, String> {
    match rest {
        ["placement"] => c.monolithic.placement = crate::config::Placement::parse(value)?,
        ["multiPath"] => c.monolithic.multi_path = value.parse().map_err(|_| format!("`{value}`: true or false"))?,
        ["batch", field] => set_decision(&mut c.monolithic.batch, field, value)?,
        ["service", field] => set_decision(&mut c.monolithic.service, field, value)?,
        _ => return Ok(false),
    }
    Ok(true)
}
