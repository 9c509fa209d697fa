//! `podlab explain` and `podlab run --explain POD`: why a pod (or its group) is where it is.
//! For each scheduling decision about the pod, the cluster is rebuilt from the run's records as
//! it was when the attempt began, and the Kubernetes framework's filters and scores are run on
//! every node again — the run is deterministic, so this is what the scheduler saw. Then, across
//! the scenario's policies, where the pod ended under each and what held it back.

use std::fmt::Write;
use std::sync::Arc;

use crate::PolicyRun;
use crate::cluster::Pod;
use crate::cluster::scenario::Scenario;
use crate::cluster::{JobRef, Note, PodId, Record, SimDuration, SimTime};
use crate::reports::Outcomes;
use crate::schedulers::framework::{FilterPlugin, NodeInfo, Unit, resource_score};
use crate::schedulers::kube::cache::KubeCache;
use crate::schedulers::kube::nominator::Nominator;
use crate::schedulers::kube::preemption::{self, Inputs};
use crate::schedulers::node_table::NodeTable;

/// The nodes as a run's records say they were before record `upto`.
fn cluster_at(scenario: &Scenario, run: &PolicyRun, upto: usize) -> Vec<NodeInfo> {
    let mut nodes: Vec<Option<NodeInfo>> = vec![None; scenario.nodes.len()];
    let mut specs: Vec<Arc<crate::cluster::Node>> = scenario.nodes.clone();
    // Gang members reserved at Permit hold their place in the scheduler's cache.
    let mut reserved = std::collections::BTreeSet::new();
    for s in run.sim.records.iter().take(upto) {
        match &s.record {
            Record::NodeAdded { node } => nodes[node.index()] = Some(NodeInfo::new(*node, specs[node.index()].clone())),
            Record::Note { note: Note::Reserved { pod, part, node }, .. } => {
                reserved.insert(*pod);
                if let Some(info) = nodes[node.index()].as_mut() {
                    info.add(&Unit::new(&scenario.pods.get(*pod), *part));
                }
            }
            Record::Note { note: Note::Released { pod, part, node }, .. } => {
                reserved.remove(pod);
                if let Some(info) = nodes[node.index()].as_mut() {
                    info.remove(&Unit::new(&scenario.pods.get(*pod), *part));
                }
            }
            Record::Bound { pod, part, node } => {
                if !reserved.remove(pod)
                    && let Some(info) = nodes[node.index()].as_mut()
                {
                    info.add(&Unit::new(&scenario.pods.get(*pod), *part));
                }
            }
            Record::Ended { pod, part, node, .. } => {
                if let Some(info) = nodes[node.index()].as_mut() {
                    info.remove(&Unit::new(&scenario.pods.get(*pod), *part));
                }
            }
            Record::Tainted { node, .. } | Record::Untainted { node, .. } => {
                // The records name the change; the run's final specs hold the taints' effects.
                specs[node.index()] = run.scenario.nodes[node.index()].clone();
            }
            _ => {}
        }
    }
    nodes.into_iter().flatten().collect()
}

/// A decision about a pod: where its attempt began in the records, when, which part it
/// decided, and what came of it.
struct Decision {
    attempt_index: usize,
    attempt_time: SimTime,
    part: Option<crate::cluster::Part>,
    outcome: String,
    /// The node its preemption nominated it to, when the decision was to preempt.
    preempted_on: Option<crate::cluster::NodeId>,
}

fn decisions(scenario: &Scenario, run: &PolicyRun, pod: PodId) -> Vec<Decision> {
    let job = scenario.pods.group(pod).map_or(JobRef::Pod(pod), JobRef::Group);
    let (mut attempt_index, mut attempt_time) = (0, SimTime::ZERO);
    let mut out = Vec::new();
    let node_name = |n: crate::cluster::NodeId| scenario.nodes[n.index()].name.clone();
    for (i, s) in run.sim.records.iter().enumerate() {
        let outcome = match &s.record {
            Record::Note { note: Note::Attempt { job: j, .. }, .. } if *j == job => {
                (attempt_index, attempt_time) = (i, s.time);
                None
            }
            Record::Unschedulable { pod: p, part, message } if *p == pod => {
                Some((Some(*part), format!("unschedulable: {message}")))
            }
            Record::Note { note: Note::Reserved { pod: p, part, node }, .. } if *p == pod => {
                Some((Some(*part), format!("reserved on {} and waiting at Permit for its gang", node_name(*node))))
            }
            Record::Bound { pod: p, part, node } if *p == pod => {
                let what = scenario.pods.spec(pod).part_name(*part);
                let what = if what == "-" { String::new() } else { format!("container {what} ") };
                Some((Some(*part), format!("{what}bound to {}", node_name(*node))))
            }
            Record::Conflict { pod: p, node, .. } if *p == pod => {
                Some((None, format!("its claim on {} conflicted at commit", node_name(*node))))
            }
            // DefaultPreemption: the pod that preempted, and each of its victims.
            Record::Preempted { pod: p, node, victims } if *p == pod => {
                let victims: Vec<String> = victims.iter().map(|v| scenario.pods.get(*v).key()).collect();
                let node = node_name(*node);
                Some((None, format!("nominated to {node}, preempting {} there", victims.join(", "))))
            }
            Record::Preempted { pod: p, node, victims } if victims.contains(&pod) => {
                let by = scenario.pods.get(*p).key();
                Some((None, format!("preempted on {} by {by}, a pod of higher priority", node_name(*node))))
            }
            _ => None,
        };
        if let Some((part, o)) = outcome {
            let preempted_on = match &s.record {
                Record::Preempted { pod: p, node, .. } if *p == pod => Some(*node),
                _ => None,
            };
            let outcome = format!("at {}: {o}", s.time);
            out.push(Decision { attempt_index, attempt_time, part, outcome, preempted_on });
        }
    }
    out
}

/// The explanation of one pod under one policy's run.
pub fn explain(run: &PolicyRun, pod_name: &str) -> Result<String, String> {
    let scenario = &*run.scenario;
    let pod = scenario.pod_named(pod_name).ok_or_else(|| format!("no pod `{pod_name}` in this run"))?;
    let spec = &scenario.pods.get(pod);
    let mut out = String::new();
    let share = match spec.gpu_share_milli {
        0 => String::new(),
        milli => format!(" and {milli} milli-GPU of one GPU"),
    };
    let _ = writeln!(out, "pod {} under {} — requests {}{share}", spec.key(), run.policy, spec.requests);
    if let Some(config) = scenario.scheduler_config.as_ref().filter(|_| run.policy == "kubernetes")
        && config.profile(&spec.scheduler_name).is_some()
        && config.profiles.len() > 1
    {
        let _ = writeln!(out, "  scheduled by the profile `{}`", spec.scheduler_name);
    }
    if let Some(g) = spec.group() {
        let group = &scenario.groups[g.index()];
        let _ = writeln!(out, "  member of PodGroup {} (minMember {})", group.key(), group.min_member);
    }
    let kube_framework = matches!(run.policy.as_str(), "kubernetes" | "per-container" | "gang");
    let points = decisions(scenario, run, pod);
    if points.is_empty() {
        let _ = writeln!(out, "  no scheduler ever decided on it{}", unscheduled_because(scenario, run, spec));
    }
    for d in points {
        let _ = writeln!(out, "\n  attempt begun at {}; {}", d.attempt_time, d.outcome);
        let gpu_plugin = crate::schedulers::gpu::GpuScorer::for_scenario(scenario);
        if let (Some(node), "kubernetes", None) = (d.preempted_on, run.policy.as_str(), &gpu_plugin) {
            explain_preemption(&mut out, scenario, run, spec, d.attempt_index, node);
            continue;
        }
        let (true, Some(part)) = (kube_framework, d.part) else { continue };
        // What the scheduler saw: every node's filters and score, as at the attempt's start
        // (with an ideal control plane its cache is exactly the records' state).
        let strategy = scenario.config.scheduler.scoring;
        if run.policy == "kubernetes" && gpu_plugin.is_none() {
            explain_kube_cycle(&mut out, scenario, run, spec, d.attempt_index);
            continue;
        }
        {
            let unit = Unit::new(spec, part);
            for node in cluster_at(scenario, run, d.attempt_index) {
                let verdict = FilterPlugin::DEFAULTS.iter().find_map(|f| f.filter(&unit, &node).err().map(|r| (f, r)));
                let name = &node.spec.name;
                match verdict {
                    Some((plugin, reason)) => {
                        let _ = writeln!(out, "    {name:<16} filtered out by {plugin:?}: {reason}");
                    }
                    None => match &gpu_plugin {
                        Some(plugin) => {
                            let score = plugin.score(&unit, &node);
                            let _ = writeln!(out, "    {name:<16} feasible, {} score {score}", plugin.plugin.as_str());
                        }
                        None => {
                            let score = resource_score(strategy, &unit, &node);
                            let _ =
                                writeln!(out, "    {name:<16} feasible, NodeResourcesFit {strategy:?} score {score}");
                        }
                    },
                }
            }
        }
    }
    let outcomes = Outcomes::replay(scenario, &run.sim.records, run.sim.end);
    let nodes: Vec<&str> =
        outcomes.pods[pod.index()].nodes().iter().map(|n| scenario.nodes[n.index()].name.as_str()).collect();
    let phase = outcomes.phase(scenario, pod).map_or("not created", |p| p.as_str());
    let _ = writeln!(
        out,
        "\n  at the end ({}): {phase}, on {}",
        SimDuration(run.sim.end.as_nanos()),
        if nodes.is_empty() { "no node".into() } else { nodes.join(" + ") }
    );
    Ok(out)
}

/// Why the `kubernetes` policy never tried a pod, when its configuration is why: the pod's
/// `schedulerName` names none of its profiles (kube-scheduler leaves such a pod to another).
fn unscheduled_because(scenario: &Scenario, run: &PolicyRun, pod: &Pod) -> String {
    let Some(config) = scenario.scheduler_config.as_ref().filter(|_| run.policy == "kubernetes") else {
        return String::new();
    };
    if config.profile(&pod.scheduler_name).is_some() || pod.node_name().is_some() {
        return String::new();
    }
    let profiles: Vec<&str> = config.profiles.iter().map(|p| p.scheduler_name.as_str()).collect();
    format!(
        ": its schedulerName `{}` is none of the KubeSchedulerConfiguration's profiles ({}), so it is left for another scheduler",
        pod.scheduler_name,
        profiles.join(", ")
    )
}

/// The `kubernetes` policy's cache as its cycle at record `upto` began: the nodes and the pods
/// bound to them, each starting in the order of its binding; and the pods created and not yet
/// bound, gone or deleted.
fn kube_cache_at(scenario: &Scenario, run: &PolicyRun, upto: usize) -> (KubeCache, NodeTable, Vec<Arc<Pod>>) {
    let mut cache = KubeCache::for_scenario(scenario);
    let mut table = NodeTable::default();
    for info in cluster_at(scenario, run, upto) {
        cache.upsert_node(info.id, info.spec.clone());
        table.upsert(info.id, info.spec.clone());
    }
    let mut bound: Vec<(PodId, crate::cluster::NodeId)> = Vec::new();
    let mut waiting: Vec<PodId> = Vec::new();
    for s in run.sim.records.iter().take(upto) {
        match &s.record {
            Record::PodCreated { pod } => waiting.push(*pod),
            Record::Bound { pod, node, .. } => {
                waiting.retain(|p| p != pod);
                bound.push((*pod, *node));
            }
            Record::Ended { pod, .. } => bound.retain(|(p, _)| p != pod),
            Record::PodDeleted { pod } => waiting.retain(|p| p != pod),
            _ => {}
        }
    }
    for (start, (id, node)) in bound.into_iter().enumerate() {
        let placed = scenario.pods.get(id).into_owned();
        cache.place(&mut table, id, &placed, &Unit::new(&placed, crate::cluster::Part::Whole), node, start as u64);
    }
    let waiting = waiting.into_iter().map(|id| scenario.pods.get(id).into_owned()).collect();
    (cache, table, waiting)
}

/// The `kubernetes` policy's cycle for `pod` as it began at record `upto`: the kube profile on
/// the snapshot the records rebuild, every node's first refusing filter or its weighted scores.
fn explain_kube_cycle(out: &mut String, scenario: &Scenario, run: &PolicyRun, pod: &Pod, upto: usize) {
    let (mut cache, table, _) = kube_cache_at(scenario, run, upto);
    let cycle = cache.cycle(&table, pod, &|id| scenario.pods.get(id).into_owned());
    let name = |n: crate::cluster::NodeId| scenario.nodes[n.index()].name.clone();
    for (node, plugin, status) in &cycle.filtered {
        let _ = writeln!(out, "    {:<16} filtered out by {plugin}: {}", name(*node), status.reasons.join(", "));
    }
    for node in &cycle.feasible {
        let Some(score) = cycle.scores.iter().find(|s| s.node == *node) else {
            let _ = writeln!(out, "    {:<16} feasible, the only one (not scored)", name(*node));
            continue;
        };
        let parts: Vec<String> = score.by_plugin.iter().map(|(p, s)| format!("{p} {s}")).collect();
        let _ = writeln!(out, "    {:<16} feasible, total {} ({})", name(*node), score.total, parts.join(", "));
    }
}

/// DefaultPreemption's dry run for `pod` as its cycle at record `upto` saw the cluster: each
/// PodDisruptionBudget's disruptions allowed, every candidate node with its victims and PDB
/// violations, and the rule that picked `chosen`. Victims of earlier preemptions still
/// terminating, and other pods' nominations, are not rebuilt from the records: they count as
/// the scheduler's cache would count them once settled.
fn explain_preemption(
    out: &mut String,
    scenario: &Scenario,
    run: &PolicyRun,
    pod: &Pod,
    upto: usize,
    chosen: crate::cluster::NodeId,
) {
    let (mut cache, table, waiting) = kube_cache_at(scenario, run, upto);
    let cycle = cache.cycle(&table, pod, &|id| scenario.pods.get(id).into_owned());
    let args = cache.preemption_args;
    let (profile, snapshot) = cache.profile_and_snapshot(&table, &|id| scenario.pods.get(id).into_owned());
    let allowed = Nominator::default().disruptions_allowed(snapshot, waiting.iter().map(|p| &**p));
    for (pdb, allowed) in snapshot.pdbs.iter().zip(&allowed) {
        let s = if *allowed == 1 { "" } else { "s" };
        let _ = writeln!(out, "    PodDisruptionBudget {}: {allowed} disruption{s} allowed", pdb_key(pdb));
    }
    let inputs = Inputs { args, disruptions_allowed: &allowed, ..Inputs::default() };
    let candidates = preemption::all_candidates(profile, pod, &cycle, snapshot, &inputs);
    let name = |n: crate::cluster::NodeId| scenario.nodes[n.index()].name.clone();
    for c in &candidates {
        let victims: Vec<String> =
            c.victims.iter().map(|v| format!("{} (priority {})", v.pod.key(), v.pod.priority)).collect();
        let s = if c.pdb_violations == 1 { "" } else { "s" };
        let _ = writeln!(
            out,
            "    {:<16} candidate: evict {}; {} PodDisruptionBudget violation{s}",
            name(c.node),
            victims.join(", "),
            c.pdb_violations
        );
    }
    let (best, rule) = preemption::pick_one_node_by(&candidates);
    let why = match candidates.get(best) {
        Some(c) if c.node == chosen => format!("by {rule}"),
        _ => "among the candidates its dry run found from a random offset".into(),
    };
    let _ = writeln!(out, "    DefaultPreemption picked {} {why}", name(chosen));
}

/// A PodDisruptionBudget as `namespace/name`, or its name in `default`.
fn pdb_key(pdb: &crate::cluster::affinity::PodDisruptionBudget) -> String {
    if pdb.namespace == "default" { pdb.name.clone() } else { format!("{}/{}", pdb.namespace, pdb.name) }
}

/// One line per policy: where the pod ended and, if it waits, what held it.
pub fn across_policies(runs: &[PolicyRun], pod_name: &str) -> String {
    let mut out = String::from("across policies:\n");
    for run in runs {
        let scenario = &*run.scenario;
        let Some(pod) = scenario.pod_named(pod_name) else { continue };
        let outcomes = Outcomes::replay(scenario, &run.sim.records, run.sim.end);
        let o = &outcomes.pods[pod.index()];
        let nodes: Vec<&str> = o.nodes().iter().map(|n| scenario.nodes[n.index()].name.as_str()).collect();
        let phase = outcomes.phase(scenario, pod).map_or("not created", |p| p.as_str());
        let why = if o.split() {
            "its parts were placed apart".to_string()
        } else if o.runs.is_empty() {
            decisions(scenario, run, pod).last().map_or("never decided on".into(), |d| d.outcome.clone())
        } else {
            "placed whole".into()
        };
        let where_ = if nodes.is_empty() { "no node".to_string() } else { nodes.join(" + ") };
        let _ = writeln!(out, "  {:<14} {phase:<10} on {where_:<16} {why}", run.policy);
    }
    out
}
