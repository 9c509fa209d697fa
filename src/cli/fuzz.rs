//! `podlab fuzz`: swarm-test the simulator over many seeds (`podlab::swarm`), in parallel, and
//! print a summary; each failure with its seed, the command that reproduces it and a shrunk
//! scenario's YAML. Exit code 1 when any seed failed.

use std::process::ExitCode;

use crate::{out, outln, swarm};

use crate::compare::in_parallel;

#[derive(clap::Args)]
pub struct FuzzArgs {
    /// How many seeds (scenarios) to run.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    seeds: u64,
    /// The first seed.
    #[arg(long, value_name = "S", default_value_t = 0)]
    start: u64,
    /// Run every scenario under this policy (default: a policy drawn from each seed).
    #[arg(long = "policy", short = 'p', value_name = "POLICY", value_parser = clap::builder::PossibleValuesParser::new(crate::schedulers::POLICIES))]
    policy: Option<String>,
    /// Runs at once (0: one per core).
    #[arg(long, short = 'j', value_name = "J", default_value_t = 0)]
    jobs: usize,
    /// Print each seed's scenario YAML before running it (with --seeds 1, to look at a case).
    #[arg(long)]
    show: bool,
}

pub fn fuzz(args: FuzzArgs) -> anyhow::Result<ExitCode> {
    let seeds: Vec<u64> = (0..args.seeds).map(|i| args.start.wrapping_add(i)).collect();
    let policy = args.policy.as_deref();
    if args.show {
        for &seed in &seeds {
            out!("{}", swarm::generate(seed, policy).yaml())?;
        }
    }
    let outcomes = in_parallel(&seeds, args.jobs, "seeds", |&seed| swarm::run_seed(seed, policy))?;
    let mut per_policy: Vec<(&str, u64, u64)> = crate::schedulers::POLICIES.iter().map(|p| (*p, 0, 0)).collect();
    let mut failures = Vec::new();
    for o in &outcomes {
        if let Some(row) = per_policy.iter_mut().find(|(p, _, _)| *p == o.case.policy) {
            row.1 += 1;
            row.2 += u64::from(o.failure.is_some());
        }
        if let Some(f) = &o.failure {
            failures.push((&o.case, f));
        }
    }
    for (case, failure) in &failures {
        outln!("{}", swarm::report_failure(case, failure, policy.is_some()))?;
    }
    outln!("podlab fuzz: seeds {}..{} ({} scenarios)", args.start, args.start.wrapping_add(args.seeds), seeds.len())?;
    for (p, runs, failed) in per_policy.iter().filter(|(_, runs, _)| *runs > 0) {
        outln!("  {p:<14} {runs:>6} scenarios  {failed:>4} failed")?;
    }
    outln!("{} passed, {} failed", seeds.len() - failures.len(), failures.len())?;
    Ok(if failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
