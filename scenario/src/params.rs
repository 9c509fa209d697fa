//! Named parameters that a command line (`--set KEY=VALUE`) or a sweep can change on a loaded
//! scenario, so one scenario file serves a whole experiment: `omega.service.tJob=10s`,
//! `workload.rateMultiplier=2`, `omega.transactions=all-or-nothing`, …

use crate::config::{ConflictDetectionName, DecisionTime};
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
#[expect(
    clippy::too_many_lines,
    reason = "a table: one match arm per parameter of `PARAMETERS`, each a line or a few, read best side by side"
)]
pub fn set(scenario: &mut Scenario, key: &str, value: &str) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    let c = &mut scenario.config;
    let unknown = || {
        let list: Vec<String> = PARAMETERS.iter().map(|(k, v)| format!("  {k} — {v}")).collect();
        format!("unknown parameter `{key}`; podlab knows:\n{}", list.join("\n"))
    };
    match parts[..] {
        ["duration"] => scenario.duration = Some(duration(value)?),
        ["controlPlane", "watchDropRate"] => {
            let rate: f64 = value.parse().map_err(|_| format!("`{value}`: a fraction from 0 to 0.5"))?;
            if !(0.0..=0.5).contains(&rate) {
                return Err(format!("`{value}`: a fraction from 0 to 0.5"));
            }
            let cp = scenario.control_plane.as_mut().ok_or("this scenario has no `controlPlane` to lose events")?;
            cp.watch_drop_rate = rate;
        }
        ["scheduler", "scoringStrategy"] => {
            c.scheduler.scoring = match value {
                "LeastAllocated" => crate::config::ScoringStrategy::LeastAllocated,
                "MostAllocated" => crate::config::ScoringStrategy::MostAllocated,
                _ => return Err(format!("`{value}`: LeastAllocated or MostAllocated")),
            }
        }
        ["scheduler", "percentageOfNodesToScore"] => {
            c.scheduler.percentage_of_nodes_to_score = value
                .parse()
                .ok()
                .filter(|p| *p <= 100)
                .ok_or_else(|| format!("`{value}`: a percentage from 0 to 100 (0: adaptive)"))?
        }
        ["scheduler", "gpuScoring"] => {
            c.scheduler.gpu_scoring = crate::config::GpuScoring::parse(value)
                .ok_or_else(|| format!("`{value}`: one of {}", crate::config::GpuScoring::names()))?
        }
        ["scheduler", field] => set_decision(&mut c.scheduler.decision, field, value)?,
        ["omega", "conflictDetection"] => c.omega.detection = ConflictDetectionName::parse(value)?,
        ["omega", "transactions"] => {
            c.omega.all_or_nothing = match value {
                "incremental" => false,
                "all-or-nothing" => true,
                _ => return Err(format!("`{value}`: transactions are incremental or all-or-nothing")),
            }
        }
        ["omega", name, field] => {
            let names: Vec<String> = c.omega.schedulers.iter().map(|s| s.name.clone()).collect();
            let s = c
                .omega
                .schedulers
                .iter_mut()
                .find(|s| s.name == name)
                .ok_or_else(|| format!("no Omega scheduler `{name}` (have: {})", names.join(", ")))?;
            if field == "count" {
                s.count = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=1024).contains(n))
                    .ok_or_else(|| format!("`{value}`: count is 1 to 1024"))?;
            } else {
                set_decision(&mut s.decision, field, value)?;
            }
        }
        ["omega" | "monolithic" | "mesos", "placement"] => {
            let placement = crate::config::Placement::parse(value)?;
            match parts[0] {
                "omega" => c.omega.placement = placement,
                "monolithic" => c.monolithic.placement = placement,
                _ => c.mesos.placement = placement,
            }
        }
        ["mesos", "rounds"] => {
            c.mesos.rounds = Some(match value {
                "after-trigger" => crate::config::AllocationRounds::AfterTrigger,
                "rate-limited" => crate::config::AllocationRounds::RateLimited,
                _ => return Err(format!("`{value}`: rounds are after-trigger or rate-limited")),
            })
        }
        ["mesos", "allocatorDecision"] => c.mesos.allocator_decision = Some(duration(value)?),
        ["mesos", "offers"] => {
            c.mesos.granularity = match value {
                "per-node" => crate::config::OfferGranularity::PerNode,
                "whole-cell" => crate::config::OfferGranularity::WholeCell,
                _ => return Err(format!("`{value}`: offers are per-node or whole-cell")),
            }
        }
        ["mesos", name, field] => {
            let names: Vec<String> = c.mesos.frameworks.iter().map(|f| f.scheduler.name.clone()).collect();
            let f = c
                .mesos
                .frameworks
                .iter_mut()
                .find(|f| f.scheduler.name == name)
                .ok_or_else(|| format!("no Mesos framework `{name}` (have: {})", names.join(", ")))?;
            if field == "hoardTimeout" {
                f.hoard_timeout = duration(value)?;
            } else {
                set_decision(&mut f.scheduler.decision, field, value)?;
            }
        }
        ["monolithic", "multiPath"] => {
            c.monolithic.multi_path = value.parse().map_err(|_| format!("`{value}`: true or false"))?
        }
        ["monolithic", "batch", field] => set_decision(&mut c.monolithic.batch, field, value)?,
        ["monolithic", "service", field] => set_decision(&mut c.monolithic.service, field, value)?,
        ["workload", "rateMultiplier"] => {
            scenario.workload.rate_multiplier = value
                .parse::<f64>()
                .ok()
                .filter(|m| *m > 0.0 && *m <= 1e6)
                .ok_or_else(|| format!("`{value}`: a number above 0"))?;
        }
        _ => return Err(unknown()),
    }
    Ok(())
}
