//! `podlab real`: a scenario on actual Docker containers — the same controllers, the same
//! table and files as `podlab run` (with wall-clock times), what only a real run measures
//! (start-up latency, OOM kills), and with `--compare-sim` where real and simulated runs agree.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use crate::cluster::scenario::Scenario;
use crate::cluster::time::parse_duration;
use crate::cluster::{Part, Record, SimDuration, SimTime};
use crate::real::{Crash, RealOptions, lease};
use crate::reports::Outcomes;
use crate::{PolicyRun, RealPolicyRun, out, outln};

use crate::input::BadInput;

#[derive(Args)]
pub struct RealArgs {
    /// The scenario file (multi-document YAML).
    #[arg(value_name = "SCENARIO")]
    scenario: PathBuf,
    /// A policy to run; repeat for several (they run one after the other). Default: the
    /// scenario's `spec.policies`, else all.
    #[arg(long = "policy", short = 'p', value_name = "POLICY", value_parser = crate::parse_policy_arg)]
    policies: Vec<String>,
    /// The master seed, overriding the scenario's `spec.seed`.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// The longest one run may take in wall time (the scenario's `duration` is capped by it).
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    max_duration: String,
    /// Crash a node (kill every container on it) at the time given by --at.
    #[arg(long, value_name = "NODE", requires = "at")]
    crash_node: Option<String>,
    /// When --crash-node crashes its node, in wall time since the start of the run (e.g. 10s).
    #[arg(long, value_name = "DURATION", requires = "crash_node")]
    at: Option<String>,
    /// How long a run lives on without renewing its lease: another `podlab real` (in any PID
    /// namespace or on any host on the same Docker daemon) reaps a run's containers, volumes and
    /// slices only once its lease has ended. Between 1s and 1h.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    lease: String,
    /// Also run the scenario in the simulator, and report where real and simulated runs agree.
    #[arg(long)]
    compare_sim: bool,
    /// Write each policy's summary.json, events.jsonl, placements.csv and trace.json under DIR/POLICY/.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Overwrite the files of an earlier run under --out.
    #[arg(long, requires = "out")]
    force: bool,
}

pub fn real(args: RealArgs) -> anyhow::Result<ExitCode> {
    let scenario = crate::input::load(&args.scenario)?;
    let policies = if args.policies.is_empty() { scenario.policies.clone() } else { args.policies.clone() };
    let seed = args.seed.unwrap_or(scenario.seed);
    let duration =
        |flag: &str, text: &str| parse_duration(text).map_err(|why| BadInput(format!("{flag} {text}: {why}")));
    let max_duration = duration("--max-duration", &args.max_duration)?;
    let mut crashes = Vec::new();
    if let (Some(node), Some(at)) = (&args.crash_node, &args.at) {
        let id = scenario
            .node_named(node)
            .ok_or_else(|| BadInput(format!("--crash-node {node}: the scenario has no node of that name")))?;
        crashes.push(Crash { at: SimTime::ZERO + duration("--at", at)?, node: id });
    }
    let lease_ttl = duration("--lease", &args.lease)?;
    if !(lease::MIN_TTL..=lease::MAX_TTL).contains(&lease_ttl) {
        return Err(
            BadInput(format!("--lease {}: between {} and {}", args.lease, lease::MIN_TTL, lease::MAX_TTL)).into()
        );
    }
    // Held for the whole run: a second writer on the same --out fails before any container starts.
    let out = args.out.as_deref().map(|out| super::run_record::run_out_dir(out, &policies, args.force)).transpose()?;
    let interrupt = crate::real::interrupt_flag().map_err(|e| BadInput(e.to_string()))?;
    let options = RealOptions { seed, max_duration, crashes, interrupt: Some(interrupt), lease_ttl };
    let mut runs: Vec<RealPolicyRun> = Vec::new();
    for policy in &policies {
        eprintln!("real: running {policy} on Docker (at most {})…", SimDuration(max_duration.as_nanos()));
        let run = crate::run_policy_real(&scenario, policy, &options).map_err(|e| BadInput(e.to_string()))?;
        let stop = run.real.interrupted;
        runs.push(run);
        if stop {
            break;
        }
    }
    let plain: Vec<PolicyRun> = runs.iter().map(|r| clone_run(&r.run)).collect();
    out!("{}", super::table::report(&scenario, seed, &plain, false))?;
    out!("{}", real_report(&runs))?;
    if args.compare_sim {
        let sims = policies
            .iter()
            .take(runs.len())
            .map(|p| crate::run_policy(&scenario, p, seed, true).map_err(|e| BadInput(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        out!("{}", compare_report(&runs, &sims))?;
    }
    if let Some((out, _lock)) = &out {
        for r in &runs {
            let dir = out.join(&[crate::policy_name(&r.run.policy)]).map_err(|e| BadInput(e.to_string()))?;
            crate::reports::output::write_run(
                &dir,
                &r.run.scenario,
                &r.run.sim.controllers,
                &r.run.sim.records,
                &r.run.summary,
            )
            .with_context(|| format!("writing the outputs of {} under {}", r.run.policy, dir.display()))?;
        }
        outln!(
            "\nwrote summary.json, events.jsonl, placements.csv and trace.json under {}/<policy>/",
            out.root().display()
        )?;
    }
    if runs.iter().any(|r| r.real.interrupted) {
        eprintln!("real: interrupted; everything the run created was removed");
        return Ok(ExitCode::from(130));
    }
    let failed = runs.iter().any(|r| !r.run.sim.violations.is_empty() || r.run.verdicts.iter().any(|v| !v.holds()));
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn clone_run(run: &PolicyRun) -> PolicyRun {
    PolicyRun {
        policy: run.policy.clone(),
        seed: run.seed,
        scenario: run.scenario.clone(),
        sim: crate::sim::SimRun {
            scenario: run.sim.scenario.clone(),
            controllers: run.sim.controllers.clone(),
            records: run.sim.records.clone(),
            digest: run.sim.digest.clone(),
            end: run.sim.end,
            events_processed: run.sim.events_processed,
            violations: run.sim.violations.clone(),
            exceeded: run.sim.exceeded.clone(),
        },
        summary: run.summary.clone(),
        first_pods: run.first_pods.clone(),
        verdicts: run.verdicts.clone(),
    }
}

/// What only a real run knows: where it ran, start-up latencies, OOM kills, problems.
fn real_report(runs: &[RealPolicyRun]) -> String {
    let mut out = String::from("\non Docker\n");
    for r in runs {
        let real = &r.real;
        // The run's own scenario: it holds the pods its controllers created.
        let scenario = &*r.run.scenario;
        let _ = writeln!(out, "  {}: run {} on {}, image {}", r.run.policy, real.run_id, real.docker, real.image);
        match &real.slices {
            crate::real::Slices::V1 => {
                let _ =
                    writeln!(out, "    nodes are cgroup slices (/podlab/{}/<node>) with their capacity", real.run_id);
            }
            crate::real::Slices::Unavailable(why) => {
                let _ = writeln!(out, "    nodes are NOT capacity slices ({why}); per-container limits only");
            }
        }
        let mut latencies: Vec<u64> = real.startups.iter().map(|s| s.latency.as_nanos()).collect();
        latencies.sort_unstable();
        if let (Some(first), Some(last)) = (latencies.first(), latencies.last()) {
            let median = latencies[(latencies.len() - 1) / 2];
            let _ = writeln!(
                out,
                "    start-up (bind → containers running): {} parts, min {}, median {}, max {}",
                latencies.len(),
                SimDuration(*first),
                SimDuration(median),
                SimDuration(*last)
            );
        }
        for kill in &real.oom_kills {
            let _ = writeln!(
                out,
                "    OOM-killed at {}: {} container {} on {}",
                kill.at,
                scenario.pods.get(kill.pod).key(),
                kill.container,
                scenario.nodes[kill.node.index()].name
            );
        }
        if !real.reaped.runs.is_empty() {
            let _ = writeln!(
                out,
                "    reaped {} dead run(s) first: {} containers, {} volumes",
                real.reaped.runs.len(),
                real.reaped.containers,
                real.reaped.volumes
            );
        }
        for problem in real.problems.iter().chain(&real.reaped.problems) {
            let _ = writeln!(out, "    problem: {problem}");
        }
    }
    out
}

/// The binds of a run in order, as `pod[/container]→node`.
fn bind_order(run: &PolicyRun) -> Vec<String> {
    let s = &run.scenario;
    run.sim
        .records
        .iter()
        .filter_map(|r| match &r.record {
            Record::Bound { pod, part, node } => Some(format!(
                "{}{}→{}",
                s.pods.get(*pod).key(),
                match part {
                    Part::Whole => String::new(),
                    p => format!("/{}", s.pods.spec(*pod).part_name(*p)),
                },
                s.nodes[node.index()].name
            )),
            _ => None,
        })
        .collect()
}

/// Where a real run and the simulated run of the same policy and seed agree, and where not.
fn compare_report(runs: &[RealPolicyRun], sims: &[PolicyRun]) -> String {
    let mut out = String::from("\nreal against simulated\n");
    for (r, sim) in runs.iter().zip(sims) {
        let real = &r.run;
        let scenario = &*real.scenario;
        let real_outcomes = Outcomes::replay(scenario, &real.sim.records, real.sim.end);
        let sim_outcomes = Outcomes::replay(&sim.scenario, &sim.sim.records, sim.sim.end);
        // Pods by name: each run holds the scenario's pods and those its controllers created,
        // which need not be the same ones in both runs.
        let places = |s: &Scenario, o: &Outcomes| -> BTreeMap<String, Vec<String>> {
            s.pods
                .iter()
                .zip(&o.pods)
                .map(|(pod, outcome)| {
                    let mut v: Vec<String> = outcome
                        .runs
                        .iter()
                        .map(|run| format!("{}→{}", pod.part_name(run.part()), s.nodes[run.node.index()].name))
                        .collect();
                    v.sort();
                    (pod.key(), v)
                })
                .collect()
        };
        let (real_places, sim_places) = (places(scenario, &real_outcomes), places(&sim.scenario, &sim_outcomes));
        let keys: BTreeSet<&String> = real_places.keys().chain(sim_places.keys()).collect();
        let mut differ = Vec::new();
        for key in keys {
            let (r, s) = (real_places.get(key), sim_places.get(key));
            if r != s {
                let show = |v: Option<&Vec<String>>| v.map_or("absent".to_string(), |v| format!("{v:?}"));
                differ.push(format!("pod {key}: real {}, simulated {}", show(r), show(s)));
            }
        }
        let agree = differ.is_empty();
        let _ = writeln!(
            out,
            "  {}: placements {}",
            real.policy,
            if agree { "agree for every pod".to_string() } else { format!("differ for {} pod(s)", differ.len()) }
        );
        for d in differ {
            let _ = writeln!(out, "    {d}");
        }
        let groups =
            |o: &Outcomes| -> Vec<usize> { scenario.group_members().iter().map(|m| o.group_nodes(m).len()).collect() };
        if !scenario.groups.is_empty() {
            let same = groups(&real_outcomes) == groups(&sim_outcomes);
            let _ = writeln!(out, "    group outcomes (nodes per group): {}", if same { "agree" } else { "differ" });
        }
        let (ro, so) = (bind_order(real), bind_order(sim));
        let _ = writeln!(
            out,
            "    order of binds: {}",
            if ro == so { format!("agrees ({})", ro.join(", ")) } else { format!("real {ro:?}, simulated {so:?}") }
        );
        let phase = |p: &PolicyRun| {
            let o = Outcomes::replay(&p.scenario, &p.sim.records, p.sim.end);
            (0..p.scenario.pods.len())
                .map(|i| {
                    let phase = o.phase(&p.scenario, crate::cluster::PodId(i as u32)).map_or("-", |p| p.as_str());
                    (p.scenario.pods.get(podlab_cluster::PodId(i as u32)).key(), phase)
                })
                .collect::<BTreeMap<_, _>>()
        };
        let (rp, sp) = (phase(real), phase(sim));
        if rp != sp {
            let _ = writeln!(out, "    pod phases at the end differ: real {rp:?}, simulated {sp:?}");
        }
        let waits =
            |p: &PolicyRun| p.summary.time_to_schedule.p50_ns.map_or("—".into(), |n| SimDuration(n).to_string());
        let _ = writeln!(
            out,
            "    time to schedule p50: real {}, simulated {}; start-up (real only, the simulator starts pods at once): {}",
            waits(real),
            waits(sim),
            r.real.startups.iter().map(|s| s.latency.to_string()).collect::<Vec<_>>().join(", ")
        );
        let _ = writeln!(
            out,
            "    OOM kills: real {}, simulated 0 (the simulator does not model memory use)",
            r.real.oom_kills.len()
        );
    }
    out
}

#[derive(Args)]
pub struct CalibrateArgs {
    /// How many pods to start (one container each, on one roomy node).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pods: u32,
}

/// `podlab calibrate`: starts N one-container pods on Docker under `kubernetes` and reports the
/// start-up latency from binding to running container — the delay the simulator leaves out.
pub fn calibrate(args: CalibrateArgs) -> anyhow::Result<ExitCode> {
    if args.pods == 0 || args.pods > 100 {
        return Err(BadInput(format!("--pods {}: between 1 and 100", args.pods)).into());
    }
    let mut text = String::from(
        "apiVersion: v1\nkind: Node\nmetadata: {name: calibration}\nstatus: {allocatable: {cpu: \"64\", memory: 64Gi}}\n",
    );
    for i in 0..args.pods {
        let _ = write!(
            text,
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: calibrate-{i}, annotations: {{podlab.dev/run-for: 1s}}}}\n\
             spec: {{containers: [{{name: main, image: podlab, resources: {{requests: {{cpu: 10m, memory: 8Mi}}}}}}]}}\n"
        );
    }
    text.push_str(
        "---\napiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {name: calibrate}\nspec: {duration: 60s}\n",
    );
    let scenario = crate::load_str("calibrate", &text)?;
    let interrupt = crate::real::interrupt_flag().map_err(|e| BadInput(e.to_string()))?;
    let options = RealOptions {
        seed: 0,
        max_duration: SimDuration::from_secs(60),
        crashes: Vec::new(),
        interrupt: Some(interrupt),
        lease_ttl: lease::DEFAULT_TTL,
    };
    let run = crate::run_policy_real(&scenario, "kubernetes", &options).map_err(|e| BadInput(e.to_string()))?;
    let mut latencies: Vec<u64> = run.real.startups.iter().map(|s| s.latency.as_nanos()).collect();
    latencies.sort_unstable();
    let p = crate::reports::summary::Percentiles::of(latencies.clone());
    let show = |ns: Option<u64>| ns.map_or("—".to_string(), |n| SimDuration(n).to_string());
    outln!(
        "start-up latency (bind → container running) of {} pods, all bound at once, on {}:",
        latencies.len(),
        run.real.docker
    )?;
    outln!(
        "  min {}  p50 {}  p90 {}  max {}  mean {}",
        show(latencies.first().copied()),
        show(p.p50_ns),
        show(p.p90_ns),
        show(p.max_ns),
        show(p.mean_ns)
    )?;
    outln!("  (each pod is a volume, an infra container and an app container; concurrent starts queue in the daemon)")?;
    Ok(if run.real.interrupted { ExitCode::from(130) } else { ExitCode::SUCCESS })
}
