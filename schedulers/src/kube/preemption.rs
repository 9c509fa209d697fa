//! kube-scheduler v1.35's DefaultPreemption PostFilter: when a cycle finds no node, which pods
//! to evict and where the preemptor should go (`pkg/scheduler/framework/preemption/
//! preemption.go` and `pkg/scheduler/framework/plugins/defaultpreemption/
//! default_preemption.go`), and the disruption controller's `disruptionsAllowed` that it
//! reads from each PodDisruptionBudget (`pkg/controller/disruption/disruption.go`).
//!
//! Upstream's dry run keeps the cycle's PreFilter state and updates it with the plugins'
//! AddPod/RemovePod extensions as it takes victims off a node and puts them back. Here the
//! node's pods are changed in a working copy of the snapshot and every plugin's PreFilter is
//! run again on it before the node's filters: the state a plugin computes from a snapshot is
//! the state upstream's extensions reach incrementally, so the verdicts are the same.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use podlab_cluster::affinity::{IntOrPercent, PodDisruptionBudget, PreemptionPolicy};
use podlab_cluster::rng::below;
use podlab_cluster::{NodeId, Pod, PodId};
use rand_core::Rng;

use super::cycle::CycleResult;
use super::nominated::{filter_node, nominated_on, with_nominated};
use super::plugin::{Code, Status};
use super::profile::Profile;
use super::snapshot::{PlacedPod, Snapshot};

/// `DefaultPreemptionArgs`, with upstream's defaults (10 % and 100).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Args {
    pub min_candidate_nodes_percentage: i32,
    pub min_candidate_nodes_absolute: i32,
}

impl Default for Args {
    fn default() -> Args {
        Args { min_candidate_nodes_percentage: 10, min_candidate_nodes_absolute: 100 }
    }
}

/// What preemption reads beyond the snapshot: the plugin's arguments, the PDBs' status, the
/// preemptor's nomination, the pods already being deleted and the pods nominated to nodes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inputs<'a> {
    pub args: Args,
    /// `status.disruptionsAllowed` of each PDB of `snapshot.pdbs`, in the same order (a PDB
    /// without an entry allows none).
    pub disruptions_allowed: &'a [i32],
    /// The preemptor's `status.nominatedNodeName`, from an earlier preemption.
    pub nominated_node: Option<NodeId>,
    /// Placed pods that are terminating because a preemption deleted them.
    pub terminating: &'a [PodId],
    /// Pods nominated to a node and not bound yet (upstream's nominator), other than the
    /// preemptor: those of at least its priority count as placed when filters run
    /// (`RunFilterPluginsWithNominatedPods`).
    pub nominated_pods: &'a [(NodeId, PlacedPod)],
}

/// A successful preemption: the node the preemptor is nominated to and who must go.
#[derive(Clone, Debug)]
pub struct Preemption {
    pub node: NodeId,
    /// The victims, most important first (priority, then the earlier start).
    pub victims: Vec<PlacedPod>,
    /// How many victims take a PDB below its budget.
    pub pdb_violations: usize,
    /// How many nodes the dry run found where preemption would help.
    pub candidates: usize,
}

/// Why the pod preempts nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotPreempted {
    /// `preemptionPolicy: Never`.
    PolicyNever,
    /// Victims of its earlier preemption are still terminating on its nominated node.
    VictimsTerminating,
    /// No node where evicting lower-priority pods makes room: the status of each node the dry
    /// run tried; every other node of the `nodes` is one where preemption is not helpful.
    NoCandidate { nodes: usize, statuses: Vec<(NodeId, Status)> },
    /// As `NoCandidate`, where no candidate node even holds a pod of lower priority (every
    /// status is "No preemption victims found"): the dry run had nothing to try.
    NothingLower { nodes: usize, statuses: Vec<(NodeId, Status)> },
}

impl NotPreempted {
    /// The PostFilter status message, as upstream words it (`preemption: …`).
    pub fn message(&self) -> String {
        match self {
            NotPreempted::PolicyNever => "preemption: not eligible due to preemptionPolicy=Never.".into(),
            NotPreempted::VictimsTerminating => {
                "preemption: not eligible due to a terminating pod on the nominated node.".into()
            }
            NotPreempted::NoCandidate { nodes, statuses } | NotPreempted::NothingLower { nodes, statuses } => {
                format!("preemption: {}", fit_error(*nodes, statuses))
            }
        }
    }
}

/// The reason given for nodes the dry run did not try (`findCandidates`'s absent nodes).
pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
/// `SelectVictimsOnNode` on a node without lower-priority pods.
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

/// `FitError.Error()` of the dry run: `0/N nodes are available: ` and every reason with the
/// number of nodes giving it, the `count reason` strings sorted as strings (Go's
/// `sort.Strings`), the nodes without a status counted as not helpful.
fn fit_error(nodes: usize, statuses: &[(NodeId, Status)]) -> String {
    let mut histogram: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (_, status) in statuses {
        for reason in &status.reasons {
            *histogram.entry(reason.as_str()).or_default() += 1;
        }
    }
    let absent = nodes.saturating_sub(statuses.len());
    if absent > 0 {
        *histogram.entry(NOT_HELPFUL).or_default() += absent;
    }
    let mut reasons: Vec<String> = histogram.iter().map(|(reason, count)| format!("{count} {reason}")).collect();
    reasons.sort();
    format!("0/{nodes} nodes are available: {}.", reasons.join(", "))
}

/// DefaultPreemption's PostFilter for `pod` after `cycle` found no feasible node on
/// `snapshot` (`Evaluator.Preempt`): eligibility, the candidate nodes (those a filter found
/// `Unschedulable`, not `UnschedulableAndUnresolvable`), the dry run from a random offset
/// drawn from `rng`, and the choice among the candidates. Nothing is deleted here: the caller
/// carries out the result.
pub fn preempt(
    profile: &mut Profile,
    pod: &Pod,
    cycle: &CycleResult,
    snapshot: &Snapshot,
    inputs: &Inputs,
    rng: &mut impl Rng,
) -> Result<Preemption, NotPreempted> {
    eligible(pod, cycle, snapshot, inputs)?;
    let potential = potential_nodes(cycle, snapshot);
    let nodes = snapshot.nodes.len();
    if potential.is_empty() {
        return Err(NotPreempted::NoCandidate { nodes, statuses: Vec::new() });
    }
    // Where no candidate node holds a pod of lower priority, every one gives "No preemption
    // victims" whatever the order: the offset would change nothing, and is not drawn (a run
    // where nothing can be preempted keeps its stream as it was without preemption).
    let lower = |&i: &usize| snapshot.nodes[i].pods.iter().any(|p| p.pod.priority < pod.priority);
    if !potential.iter().any(lower) {
        let statuses = potential.iter().map(|&i| (snapshot.nodes[i].id, Status::unresolvable(NO_VICTIMS))).collect();
        return Err(NotPreempted::NothingLower { nodes, statuses });
    }
    let (offset, wanted) = offset_and_num_candidates(&inputs.args, potential.len(), rng);
    let (candidates, statuses) = dry_run(profile, pod, snapshot, inputs, &potential, offset, wanted);
    if candidates.is_empty() {
        return Err(NotPreempted::NoCandidate { nodes, statuses });
    }
    let count = candidates.len();
    let chosen = pick_one_node(&candidates);
    let best = candidates.into_iter().nth(chosen).ok_or(NotPreempted::NoCandidate { nodes, statuses: Vec::new() })?;
    Ok(Preemption { node: best.node, victims: best.victims, pdb_violations: best.pdb_violations, candidates: count })
}

/// The nodes where preemption may help (`NodesForStatusCode(…, Unschedulable)`): those a
/// filter found `Unschedulable`, not `UnschedulableAndUnresolvable`, as indices into the
/// snapshot's nodes, in their order.
fn potential_nodes(cycle: &CycleResult, snapshot: &Snapshot) -> Vec<usize> {
    let unschedulable: BTreeSet<NodeId> =
        cycle.filtered.iter().filter(|(_, _, s)| s.code == Code::Unschedulable).map(|(n, _, _)| *n).collect();
    (0..snapshot.nodes.len()).filter(|&i| unschedulable.contains(&snapshot.nodes[i].id)).collect()
}

/// Every candidate of [`preempt`]'s dry run had it tried every potential node (no random
/// offset, no limit on the number): the candidates violating no PDB first, each list in the
/// snapshot's node order. What `explain` shows; the scheduler tries at least 100 nodes (or
/// 10 %) from a random offset, so on a larger cluster it may have seen only some of them.
pub fn all_candidates(
    profile: &mut Profile,
    pod: &Pod,
    cycle: &CycleResult,
    snapshot: &Snapshot,
    inputs: &Inputs,
) -> Vec<Candidate> {
    let potential = potential_nodes(cycle, snapshot);
    dry_run(profile, pod, snapshot, inputs, &potential, 0, potential.len()).0
}

/// The first look of a later cycle of a pod that preempted (`evaluateNominatedNode` in
/// upstream's `schedule_one.go`): PreFilter, then the filters on its nominated node alone, with
/// the pods nominated there of at least its priority placed as in the dry run. When the node
/// passes it is the cycle's only feasible node, taken without scoring; otherwise the cycle goes
/// on over every node.
pub fn nominated_node_fits(
    profile: &mut Profile,
    pod: &Pod,
    snapshot: &Snapshot,
    node: NodeId,
    nominated_pods: &[(NodeId, PlacedPod)],
) -> Result<(), Status> {
    let Some(index) = snapshot.nodes.iter().position(|n| n.id == node) else {
        return Err(Status::unresolvable("node not found"));
    };
    let on: Vec<&PlacedPod> = nominated_on(pod, node, nominated_pods).collect();
    if on.is_empty() {
        return filter_node(profile, pod, snapshot, index).map_err(|(_, status)| status);
    }
    with_nominated(profile, pod, &mut snapshot.clone(), index, &on).map_err(|(_, status)| status)
}

/// `PodEligibleToPreemptOthers`: not with `preemptionPolicy: Never`; not while a lower-priority
/// pod on the nominated node is terminating (the victims of its last preemption), unless the
/// filters now find that node `UnschedulableAndUnresolvable`.
fn eligible(pod: &Pod, cycle: &CycleResult, snapshot: &Snapshot, inputs: &Inputs) -> Result<(), NotPreempted> {
    if pod.preemption_policy == PreemptionPolicy::Never {
        return Err(NotPreempted::PolicyNever);
    }
    let Some(nominated) = inputs.nominated_node else { return Ok(()) };
    let unresolvable =
        cycle.filtered.iter().any(|(n, _, s)| *n == nominated && s.code == Code::UnschedulableAndUnresolvable);
    if unresolvable {
        return Ok(());
    }
    let Some(node) = snapshot.node(nominated) else { return Ok(()) };
    let terminating = node
        .pods
        .iter()
        .any(|p| p.pod.priority < pod.priority && p.id.is_some_and(|id| inputs.terminating.contains(&id)));
    if terminating { Err(NotPreempted::VictimsTerminating) } else { Ok(()) }
}

/// `GetOffsetAndNumCandidates`: a random offset into the potential nodes
/// (`rand.Int31n`, here from the run's seeded stream) and how many candidates to find —
/// `minCandidateNodesPercentage` of the nodes, at least `minCandidateNodesAbsolute`, at most
/// all of them (`calculateNumCandidates`, int32 arithmetic).
pub fn offset_and_num_candidates(args: &Args, potential: usize, rng: &mut impl Rng) -> (usize, usize) {
    let nodes = i32::try_from(potential).unwrap_or(i32::MAX);
    let offset = below(rng, potential as u64) as usize;
    let n = (nodes.saturating_mul(args.min_candidate_nodes_percentage) / 100)
        .max(args.min_candidate_nodes_absolute)
        .min(nodes);
    (offset, usize::try_from(n).unwrap_or(0))
}

/// One node where preemption would make room: its victims, most important first, and how
/// many of them take a PDB below its budget.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub node: NodeId,
    pub victims: Vec<PlacedPod>,
    pub pdb_violations: usize,
}

/// `DryRunPreemption`, sequentially: the potential nodes from `offset` on, wrapping around,
/// until at least one candidate violates no PDB and `wanted` candidates are found (upstream's
/// cancellation; its lists hold at most `wanted` each). Candidates violating no PDB come
/// first. Returns them with the status of every node tried that is not one.
fn dry_run(
    profile: &mut Profile,
    pod: &Pod,
    snapshot: &Snapshot,
    inputs: &Inputs,
    potential: &[usize],
    offset: usize,
    wanted: usize,
) -> (Vec<Candidate>, Vec<(NodeId, Status)>) {
    // The working copy is made at the first node with a pod of lower priority: a pod that can
    // preempt nothing (the common case of a full cluster) costs a scan, not a copy.
    let mut work: Option<Snapshot> = None;
    let (mut clean, mut violating) = (Vec::new(), Vec::new());
    let mut statuses = Vec::new();
    for i in 0..potential.len() {
        let index = potential[(offset + i) % potential.len()];
        let node = snapshot.nodes[index].id;
        if !snapshot.nodes[index].pods.iter().any(|p| p.pod.priority < pod.priority) {
            statuses.push((node, Status::unresolvable(NO_VICTIMS)));
            continue;
        }
        let work = work.get_or_insert_with(|| snapshot.clone());
        match select_victims_on_node(profile, pod, work, index, inputs) {
            Ok((victims, 0)) if !victims.is_empty() => {
                if clean.len() < wanted {
                    clean.push(Candidate { node, victims, pdb_violations: 0 });
                }
            }
            Ok((victims, pdb_violations)) if !victims.is_empty() => {
                if violating.len() < wanted {
                    violating.push(Candidate { node, victims, pdb_violations });
                }
            }
            // Upstream reports an error for a node that fits without victims (possible only
            // with nominated pods that left since the cycle); it is no candidate.
            Ok(_) => statuses.push((
                node,
                Status::unschedulable(format!(
                    "expected at least one victim pod on node {:?}",
                    work.nodes[index].spec.name
                )),
            )),
            Err(status) => statuses.push((node, status)),
        }
        if !clean.is_empty() && clean.len() + violating.len() >= wanted {
            break;
        }
    }
    clean.extend(violating);
    (clean, statuses)
}

/// `SelectVictimsOnNode` on `work.nodes[index]`: take off every pod of lower priority; if the
/// preemptor then passes the node's filters, put them back one by one — those whose eviction
/// would violate a PDB first, each group most important first — keeping back only those
/// without which it no longer fits. Returns the victims, most important first, and how many
/// of them violate a PDB. The node is restored before returning.
fn select_victims_on_node(
    profile: &mut Profile,
    pod: &Pod,
    work: &mut Snapshot,
    index: usize,
    inputs: &Inputs,
) -> Result<(Vec<PlacedPod>, usize), Status> {
    let saved = work.nodes[index].clone();
    let result = select_victims(profile, pod, work, index, inputs);
    work.nodes[index] = saved;
    result
}

fn select_victims(
    profile: &mut Profile,
    pod: &Pod,
    work: &mut Snapshot,
    index: usize,
    inputs: &Inputs,
) -> Result<(Vec<PlacedPod>, usize), Status> {
    let mut potential: Vec<PlacedPod> =
        work.nodes[index].pods.iter().filter(|p| p.pod.priority < pod.priority).cloned().collect();
    if potential.is_empty() {
        return Err(Status::unresolvable(NO_VICTIMS));
    }
    for victim in &potential {
        work.nodes[index].remove(&victim.pod.namespace, &victim.pod.name);
    }
    fits(profile, pod, work, index, inputs)?;
    // Upstream's `sort.Slice` with `MoreImportantPod` is not stable; a stable sort gives pods
    // equal in priority and start the node's order.
    potential.sort_by(more_important);
    let (violating, non_violating) = filter_pods_with_pdb_violation(potential, &work.pdbs, inputs.disruptions_allowed);
    let both = !violating.is_empty() && !non_violating.is_empty();
    let mut victims = Vec::new();
    let mut pdb_violations = 0;
    for (pods, violate) in [(violating, true), (non_violating, false)] {
        for victim in pods {
            work.nodes[index].add(victim.clone());
            if fits(profile, pod, work, index, inputs).is_err() {
                work.nodes[index].remove(&victim.pod.namespace, &victim.pod.name);
                victims.push(victim);
                pdb_violations += usize::from(violate);
            }
        }
    }
    if both {
        victims.sort_by(more_important);
    }
    Ok((victims, pdb_violations))
}

/// `util.MoreImportantPod` as an ordering: higher priority first, then the earlier start.
fn more_important(a: &PlacedPod, b: &PlacedPod) -> Ordering {
    b.pod.priority.cmp(&a.pod.priority).then(a.start.cmp(&b.start))
}

/// `RunFilterPluginsWithNominatedPods` on one node of the working snapshot, after PreFilter
/// on it: first with the nominated pods of at least the preemptor's priority placed there
/// (`addGENominatedPods`), then, if there were any and it passed, without them.
fn fits(profile: &mut Profile, pod: &Pod, work: &mut Snapshot, index: usize, inputs: &Inputs) -> Result<(), Status> {
    let node = work.nodes[index].id;
    let nominated: Vec<&PlacedPod> = nominated_on(pod, node, inputs.nominated_pods).collect();
    with_nominated(profile, pod, work, index, &nominated).map_err(|(_, status)| status)
}

/// `filterPodsWithPDBViolation`: splits the victims, in their order, into those whose
/// eviction takes a PDB they match below its `disruptionsAllowed` (each matching pod spends
/// one disruption of every PDB it matches) and the others. A pod without labels matches no
/// PDB; neither does a PDB with an empty selector, nor one of another namespace.
fn filter_pods_with_pdb_violation(
    pods: Vec<PlacedPod>,
    pdbs: &[PodDisruptionBudget],
    disruptions_allowed: &[i32],
) -> (Vec<PlacedPod>, Vec<PlacedPod>) {
    let mut allowed: Vec<i32> = (0..pdbs.len()).map(|i| disruptions_allowed.get(i).copied().unwrap_or(0)).collect();
    let (mut violating, mut non_violating) = (Vec::new(), Vec::new());
    for placed in pods {
        let pod = &placed.pod;
        let mut violated = false;
        if !pod.labels.is_empty() {
            for (i, pdb) in pdbs.iter().enumerate() {
                if pdb.namespace != pod.namespace || pdb.selector.is_empty() || !pdb.selector.matches(&pod.labels) {
                    continue;
                }
                allowed[i] -= 1;
                violated |= allowed[i] < 0;
            }
        }
        if violated { violating.push(placed) } else { non_violating.push(placed) }
    }
    (violating, non_violating)
}

/// `pickOneNodeForPreemption` with the default score functions, each breaking the ties the
/// one before left: fewest PDB violations; the lowest highest-priority victim; the lowest sum
/// of priorities (each shifted by 2³¹ so negatives count); the fewest victims; the latest
/// earliest start among the highest-priority victims; then the first. Returns its index.
fn pick_one_node(candidates: &[Candidate]) -> usize {
    pick_one_node_by(candidates).0
}

/// One of `pickOneNodeForPreemption`'s scores (the higher the better) and what it prefers.
type Rule = (fn(&Candidate) -> i128, &'static str);

/// [`pick_one_node`]'s choice and the rule that made it: the first that left one candidate.
pub fn pick_one_node_by(candidates: &[Candidate]) -> (usize, &'static str) {
    let scores: [Rule; 5] = [
        (|c| -(c.pdb_violations as i128), "the fewest PodDisruptionBudget violations"),
        (|c| -i128::from(c.victims.first().map_or(0, |v| v.pod.priority)), "the lowest highest victim priority"),
        (
            |c| -c.victims.iter().map(|v| i128::from(v.pod.priority) + (1i128 << 31)).sum::<i128>(),
            "the lowest sum of victim priorities",
        ),
        (|c| -(c.victims.len() as i128), "the fewest victims"),
        (|c| i128::from(earliest_start_of_highest(&c.victims)), "the latest start of its highest-priority victims"),
    ];
    if candidates.len() == 1 {
        return (0, "the only candidate");
    }
    let mut left: Vec<usize> = (0..candidates.len()).collect();
    for (score, rule) in scores {
        let best = left.iter().map(|&i| score(&candidates[i])).max().unwrap_or(0);
        left.retain(|&i| score(&candidates[i]) == best);
        if left.len() == 1 {
            return (left[0], rule);
        }
    }
    (left.first().copied().unwrap_or(0), "the first of the candidates left equal")
}

/// `util.GetEarliestPodStartTime`: the earliest start among the victims of the highest
/// priority.
fn earliest_start_of_highest(victims: &[PlacedPod]) -> u64 {
    let Some(first) = victims.first() else { return 0 };
    let (mut priority, mut earliest) = (first.pod.priority, first.start);
    for v in victims {
        match v.pod.priority.cmp(&priority) {
            Ordering::Equal => earliest = earliest.min(v.start),
            Ordering::Greater => (priority, earliest) = (v.pod.priority, v.start),
            Ordering::Less => {}
        }
    }
    earliest
}

/// The disruption controller's `disruptionsAllowed` for `pdb` (`trySync`,
/// `getExpectedPodCount`, `countHealthyPods`, `updatePdbStatus`): `pods` is every pod that
/// exists, with whether it is healthy (bound, running and not being deleted); `scale` gives
/// the replicas of a pod's controller by its name (`None`: no such controller with a scale).
///
/// An integer `minAvailable` is the desired number of healthy pods and every matching pod is
/// expected; a percentage `minAvailable` or any `maxUnavailable` is scaled (rounding up) on
/// the sum of the matching pods' controllers' replicas — pods without a controller skipped, a
/// controller without a scale failing the sync, which leaves no disruption allowed. The
/// result is `currentHealthy − desiredHealthy`, and 0 when that is negative or nothing is
/// expected.
pub fn disruptions_allowed<'p>(
    pdb: &PodDisruptionBudget,
    pods: impl IntoIterator<Item = (&'p Pod, bool)>,
    scale: impl Fn(&str) -> Option<i32>,
) -> i32 {
    // policy/v1: an empty selector selects every pod of the namespace.
    let matching: Vec<(&Pod, bool)> =
        pods.into_iter().filter(|(p, _)| p.namespace == pdb.namespace && pdb.selector.matches(&p.labels)).collect();
    let healthy = matching.iter().filter(|(_, h)| *h).count() as i32;
    let expected_scale = || -> Option<i32> {
        let mut owners: Vec<&str> = matching.iter().filter_map(|(p, _)| p.owner.as_deref()).collect();
        owners.sort_unstable();
        owners.dedup();
        owners.iter().try_fold(0i32, |sum, owner| scale(owner).map(|s| sum.saturating_add(s)))
    };
    let (expected, desired) = match (pdb.max_unavailable, pdb.min_available) {
        (Some(max_unavailable), _) => {
            let Some(expected) = expected_scale() else { return 0 };
            (expected, (expected - scaled(max_unavailable, expected)).max(0))
        }
        (None, Some(IntOrPercent::Int(min))) => (matching.len() as i32, min),
        (None, Some(min @ IntOrPercent::Percent(_))) => {
            let Some(expected) = expected_scale() else { return 0 };
            (expected, scaled(min, expected))
        }
        (None, None) => (0, 0),
    };
    let allowed = healthy - desired;
    if expected <= 0 || allowed <= 0 { 0 } else { allowed }
}

/// `intstr.GetScaledValueFromIntOrPercent(v, total, roundUp=true)`: a percentage is
/// `ceil(float64(v) * float64(total) / 100)`, in float64 as upstream computes it.
fn scaled(value: IntOrPercent, total: i32) -> i32 {
    match value {
        IntOrPercent::Int(v) => v,
        IntOrPercent::Percent(p) => (f64::from(p) * f64::from(total) / 100.0).ceil() as i32,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use podlab_cluster::affinity::LabelSelector;
    use podlab_cluster::{Node, Resources};

    use super::*;
    use crate::kube::cycle;
    use crate::kube::nominated::filter_with_nominated;
    use crate::kube::plugin::Plugin;
    use crate::kube::profile::Entry;
    use crate::kube::snapshot::NodeState;

    /// A CPU-only NodeResourcesFit: unresolvable when the request exceeds the node, else
    /// unschedulable when it exceeds what is free.
    struct CpuFit;

    impl Plugin for CpuFit {
        fn name(&self) -> &'static str {
            "CpuFit"
        }
        fn filters(&self) -> bool {
            true
        }
        fn filter(&self, pod: &Pod, node: &NodeState, _: &Snapshot) -> Result<(), Status> {
            let (want, have) = (pod.requests.cpu_milli, node.spec.allocatable.cpu_milli);
            if want > have {
                Err(Status::unresolvable("Insufficient cpu"))
            } else if want + node.requested.cpu_milli > have {
                Err(Status::unschedulable("Insufficient cpu"))
            } else {
                Ok(())
            }
        }
    }

    fn profile() -> Profile {
        Profile::new("default-scheduler", vec![Entry { plugin: Box::new(CpuFit), weight: 1 }])
    }

    fn pod(name: &str, cpu: u64, priority: i32, labels: &[(&str, &str)]) -> Pod {
        let mut p = Pod::single(name, Resources::new(cpu, 0));
        p.priority = priority;
        p.labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        p
    }

    fn node(i: u32, cpu: u64) -> NodeState {
        let spec = Node {
            name: format!("n-{i:02}"),
            labels: BTreeMap::new(),
            taints: vec![],
            allocatable: Resources::new(cpu, 1 << 40),
            max_pods: 110,
            unschedulable: false,
            images: vec![],
        };
        NodeState::new(NodeId(i), Arc::new(spec))
    }

    /// A placed pod of a test: name, CPU, priority, start, labels.
    type Spec<'a> = (&'a str, u64, i32, u64, &'a [(&'a str, &'a str)]);

    /// Places `pods` on the node.
    fn with(mut n: NodeState, pods: &[Spec]) -> NodeState {
        for &(name, cpu, priority, start, labels) in pods {
            n.add(PlacedPod { pod: Arc::new(pod(name, cpu, priority, labels)), id: None, start });
        }
        n
    }

    fn snapshot(nodes: Vec<NodeState>) -> Snapshot {
        Snapshot { nodes, ..Snapshot::default() }
    }

    fn pdb(app: &str) -> PodDisruptionBudget {
        PodDisruptionBudget {
            namespace: "default".into(),
            name: format!("pdb-{app}"),
            selector: LabelSelector {
                match_labels: [("app".to_string(), app.to_string())].into(),
                match_expressions: vec![],
            },
            min_available: Some(IntOrPercent::Int(1)),
            max_unavailable: None,
        }
    }

    fn run(s: &Snapshot, preemptor: &Pod, inputs: &Inputs) -> Result<Preemption, NotPreempted> {
        let mut profile = profile();
        let cycle = cycle::run(&mut profile, preemptor, s);
        assert!(cycle.feasible.is_empty(), "preemption runs after a cycle without a feasible node");
        let mut rng = podlab_cluster::rng::stream(7, "preemption-test");
        preempt(&mut profile, preemptor, &cycle, s, inputs, &mut rng)
    }

    fn names(p: &Preemption) -> Vec<&str> {
        p.victims.iter().map(|v| v.pod.name.as_str()).collect()
    }

    #[test]
    fn never_preempts_with_policy_never() {
        let s = snapshot(vec![with(node(0, 4000), &[("a", 4000, 0, 1, &[])])]);
        let mut p = pod("p", 2000, 100, &[]);
        p.preemption_policy = PreemptionPolicy::Never;
        let err = run(&s, &p, &Inputs::default()).unwrap_err();
        assert_eq!(err, NotPreempted::PolicyNever);
        assert_eq!(err.message(), "preemption: not eligible due to preemptionPolicy=Never.");
    }

    /// Of two equal victims, the one that started later goes: the earlier one is reprieved first.
    #[test]
    fn reprieves_the_most_important_first() {
        let s = snapshot(vec![with(node(0, 4000), &[("old", 2000, 0, 1, &[]), ("new", 2000, 0, 2, &[])])]);
        let got = run(&s, &pod("p", 2000, 10, &[]), &Inputs::default()).unwrap();
        assert_eq!((got.node, names(&got), got.candidates, got.pdb_violations), (NodeId(0), vec!["new"], 1, 0));
        // Higher priority beats an earlier start; equal or higher priority is never a victim.
        let s = snapshot(vec![with(
            node(0, 6000),
            &[("low", 2000, 1, 5, &[]), ("mid", 2000, 5, 9, &[]), ("peer", 2000, 10, 1, &[])],
        )]);
        let got = run(&s, &pod("p", 2000, 10, &[]), &Inputs::default()).unwrap();
        assert_eq!(names(&got), vec!["low"]);
        let got = run(&s, &pod("p", 4000, 10, &[]), &Inputs::default()).unwrap();
        assert_eq!(names(&got), vec!["mid", "low"], "victims are listed most important first");
    }

    /// A PDB with no disruption left makes its pod the first to be reprieved, so another goes
    /// in its place; when there is no other way, it is evicted and counted as a violation.
    #[test]
    fn respects_pdbs_where_it_can() {
        let pods: &[Spec] = &[("db", 2000, 0, 2, &[("app", "db")]), ("web", 2000, 0, 1, &[("app", "web")])];
        let s = snapshot(vec![with(node(0, 4000), pods)]);
        let p = pod("p", 2000, 10, &[]);
        let got = run(&s, &p, &Inputs::default()).unwrap();
        assert_eq!(names(&got), vec!["db"], "without a PDB the later start goes");
        let mut s = s;
        s.pdbs = vec![pdb("db")];
        let got = run(&s, &p, &Inputs { disruptions_allowed: &[0], ..Inputs::default() }).unwrap();
        assert_eq!((names(&got), got.pdb_violations), (vec!["web"], 0));
        let got = run(&s, &p, &Inputs { disruptions_allowed: &[1], ..Inputs::default() }).unwrap();
        assert_eq!(names(&got), vec!["db"], "a disruption allowed leaves the order alone");
        let got =
            run(&s, &pod("p", 4000, 10, &[]), &Inputs { disruptions_allowed: &[0], ..Inputs::default() }).unwrap();
        assert_eq!((names(&got), got.pdb_violations), (vec!["web", "db"], 1));
    }

    /// Each matching pod spends one disruption, most important first: with one allowed, the
    /// second pod of the PDB is the violating one.
    #[test]
    fn budgets_are_spent_in_order_of_importance() {
        let placed =
            |name: &str, start| PlacedPod { pod: Arc::new(pod(name, 1000, 0, &[("app", "db")])), id: None, start };
        let (violating, ok) =
            filter_pods_with_pdb_violation(vec![placed("a", 1), placed("b", 2), placed("c", 3)], &[pdb("db")], &[1]);
        let names = |v: &[PlacedPod]| v.iter().map(|p| p.pod.name.to_string()).collect::<Vec<_>>();
        assert_eq!((names(&violating), names(&ok)), (vec!["b".to_string(), "c".into()], vec!["a".to_string()]));
        let unlabelled = PlacedPod { pod: Arc::new(pod("x", 1000, 0, &[])), id: None, start: 0 };
        let mut empty = pdb("db");
        empty.selector = LabelSelector::default();
        let (violating, _) = filter_pods_with_pdb_violation(vec![unlabelled, placed("a", 1)], &[empty], &[0]);
        assert!(violating.is_empty(), "an empty PDB selector matches nothing here; no labels match nothing");
    }

    /// The candidate order of `pickOneNodeForPreemption`, one criterion at a time.
    #[test]
    fn picks_the_node_in_upstreams_order() {
        let p = pod("p", 2000, 100, &[]);
        let pick = |a: NodeState, b: NodeState, pdbs: Vec<PodDisruptionBudget>| {
            let mut s = snapshot(vec![a, b]);
            s.pdbs = pdbs;
            let zeros = [0; 4];
            run(&s, &p, &Inputs { disruptions_allowed: &zeros, ..Inputs::default() }).unwrap()
        };
        // Fewest PDB violations beats a lower victim priority.
        let got = pick(
            with(node(0, 2000), &[("a", 2000, 1, 1, &[("app", "db")])]),
            with(node(1, 2000), &[("b", 2000, 50, 1, &[])]),
            vec![pdb("db")],
        );
        assert_eq!((got.node, got.candidates), (NodeId(1), 2));
        // The lowest highest-priority victim beats fewer victims.
        let got = pick(
            with(node(0, 2000), &[("a", 2000, 5, 1, &[])]),
            with(node(1, 2000), &[("b", 1000, 3, 1, &[]), ("c", 1000, 3, 2, &[])]),
            vec![],
        );
        assert_eq!(got.node, NodeId(1));
        // Then the lowest sum of priorities.
        let got = pick(
            with(node(0, 2000), &[("a", 1000, 3, 1, &[]), ("b", 1000, 2, 1, &[])]),
            with(node(1, 2000), &[("c", 1000, 3, 1, &[]), ("d", 1000, 1, 1, &[])]),
            vec![],
        );
        assert_eq!(got.node, NodeId(1));
        // Then the fewest victims (sums equal only through the shift by 2^31).
        let got = pick(
            with(node(0, 2000), &[("a", 1000, 0, 1, &[]), ("b", 1000, i32::MIN, 1, &[])]),
            with(node(1, 2000), &[("c", 2000, 0, 1, &[])]),
            vec![],
        );
        assert_eq!(got.node, NodeId(1));
        // Then the latest start of the highest-priority victims.
        let got = pick(
            with(node(0, 2000), &[("a", 2000, 3, 9, &[])]),
            with(node(1, 2000), &[("b", 2000, 3, 5, &[])]),
            vec![],
        );
        assert_eq!(got.node, NodeId(0));
        let victims = |pods: &[(i32, u64)]| -> Vec<PlacedPod> {
            pods.iter()
                .map(|&(priority, start)| PlacedPod { pod: Arc::new(pod("v", 1, priority, &[])), id: None, start })
                .collect()
        };
        assert_eq!(earliest_start_of_highest(&victims(&[(3, 9), (3, 4), (1, 1)])), 4);
        // Then the first.
        let equal = |i| Candidate { node: NodeId(i), victims: victims(&[(3, 9)]), pdb_violations: 0 };
        assert_eq!(pick_one_node(&[equal(4), equal(2)]), 0);
    }

    /// The rule named with a pick is the first that leaves one candidate.
    #[test]
    fn names_the_rule_that_picked() {
        let c = |i, priority, start, pdb_violations| Candidate {
            node: NodeId(i),
            victims: vec![PlacedPod { pod: Arc::new(pod("v", 1, priority, &[])), id: None, start }],
            pdb_violations,
        };
        assert_eq!(pick_one_node_by(&[c(0, 0, 1, 1), c(1, 0, 1, 0)]), (1, "the fewest PodDisruptionBudget violations"));
        assert_eq!(pick_one_node_by(&[c(0, 5, 1, 0), c(1, 3, 1, 0)]), (1, "the lowest highest victim priority"));
        let latest = "the latest start of its highest-priority victims";
        assert_eq!(pick_one_node_by(&[c(0, 3, 1, 0), c(1, 3, 9, 0)]), (1, latest));
        assert_eq!(pick_one_node_by(&[c(0, 3, 1, 0)]), (0, "the only candidate"));
        assert_eq!(pick_one_node_by(&[c(4, 3, 1, 0), c(2, 3, 1, 0)]), (0, "the first of the candidates left equal"));
    }

    #[test]
    fn says_why_no_node_helps() {
        let s = snapshot(vec![
            with(node(0, 1000), &[]),
            with(node(1, 4000), &[("peer", 4000, 10, 1, &[])]),
            with(node(2, 4000), &[("a", 2000, 0, 1, &[]), ("peer", 2000, 10, 1, &[])]),
        ]);
        let err = run(&s, &pod("p", 3000, 10, &[]), &Inputs::default()).unwrap_err();
        assert_eq!(
            err.message(),
            "preemption: 0/3 nodes are available: 1 Insufficient cpu, 1 No preemption victims found for incoming pod, \
             1 Preemption is not helpful for scheduling."
        );
    }

    /// A pod whose last preemption's victims are still terminating on its nominated node waits.
    #[test]
    fn waits_for_terminating_victims() {
        let mut n = node(0, 2000);
        n.add(PlacedPod { pod: Arc::new(pod("v", 2000, 0, &[])), id: Some(PodId(3)), start: 1 });
        let s = snapshot(vec![n]);
        let p = pod("p", 2000, 10, &[]);
        let waiting = Inputs { nominated_node: Some(NodeId(0)), terminating: &[PodId(3)], ..Inputs::default() };
        assert_eq!(run(&s, &p, &waiting).unwrap_err(), NotPreempted::VictimsTerminating);
        let done = Inputs { nominated_node: Some(NodeId(0)), ..Inputs::default() };
        assert_eq!(run(&s, &p, &done).unwrap().node, NodeId(0));
    }

    /// A nominated pod of at least the preemptor's priority holds its room in the dry run.
    #[test]
    fn nominated_pods_hold_their_room() {
        let s = snapshot(vec![
            with(node(0, 4000), &[("a", 2000, 0, 1, &[]), ("b", 2000, 0, 2, &[])]),
            with(node(1, 4000), &[("c", 4000, 5, 1, &[])]),
        ]);
        let p = pod("p", 2000, 10, &[]);
        let other = PlacedPod { pod: Arc::new(pod("q", 2000, 10, &[])), id: None, start: u64::MAX };
        let nominated = [(NodeId(0), other.clone())];
        let got = run(&s, &p, &Inputs { nominated_pods: &nominated, ..Inputs::default() }).unwrap();
        assert_eq!((got.node, names(&got)), (NodeId(0), vec!["a", "b"]));
        let lower = [(NodeId(0), PlacedPod { pod: Arc::new(pod("q", 2000, 9, &[])), ..other })];
        let got = run(&s, &p, &Inputs { nominated_pods: &lower, ..Inputs::default() }).unwrap();
        assert_eq!((got.node, names(&got)), (NodeId(0), vec!["b"]));
    }

    /// In any cycle, a node's nominated pods of at least the pod's priority hold their room.
    #[test]
    fn cycles_filter_with_nominated_pods() {
        let s = snapshot(vec![with(node(0, 4000), &[("a", 2000, 0, 1, &[])])]);
        let nominated = [(NodeId(0), PlacedPod { pod: Arc::new(pod("q", 2000, 10, &[])), id: None, start: u64::MAX })];
        let mut profile = profile();
        let low = pod("low", 2000, 5, &[]);
        let refused = filter_with_nominated(&mut profile, &low, &s, 0, &nominated);
        assert_eq!(refused, Err(("CpuFit", Status::unschedulable("Insufficient cpu"))));
        assert_eq!(filter_with_nominated(&mut profile, &pod("top", 2000, 20, &[]), &s, 0, &nominated), Ok(()));
        assert_eq!(filter_with_nominated(&mut profile, &low, &s, 0, &[]), Ok(()));
    }

    #[test]
    fn candidates_wanted_follow_the_arguments() {
        let mut rng = podlab_cluster::rng::stream(1, "t");
        let args = Args::default();
        assert_eq!(offset_and_num_candidates(&args, 50, &mut rng).1, 50);
        assert_eq!(offset_and_num_candidates(&args, 150, &mut rng).1, 100);
        assert_eq!(offset_and_num_candidates(&args, 2000, &mut rng).1, 200);
        assert!((0..100).all(|_| offset_and_num_candidates(&args, 7, &mut rng).0 < 7));
    }

    /// With 150 potential nodes the dry run stops at 100 candidates, starting at the offset.
    #[test]
    fn dry_run_stops_at_the_wanted_number() {
        let nodes = (0..150).map(|i| with(node(i, 1000), &[("v", 1000, 0, 1, &[])])).collect();
        let s = snapshot(nodes);
        let got = run(&s, &pod("p", 1000, 1, &[]), &Inputs::default()).unwrap();
        assert_eq!(got.candidates, 100);
    }

    #[test]
    fn disruptions_allowed_as_the_disruption_controller_computes_them() {
        let mk = |name: &str, owner: Option<&str>| {
            let mut p = pod(name, 1, 0, &[("app", "db")]);
            p.owner = owner.map(String::from);
            p
        };
        let pods = [mk("a", Some("rs")), mk("b", Some("rs")), mk("c", Some("rs")), mk("d", None)];
        // a, b, c healthy; d pending.
        let all = || pods.iter().zip([true, true, true, false]);
        let scale = |owner: &str| (owner == "rs").then_some(5);
        let budget = |min: Option<IntOrPercent>, max: Option<IntOrPercent>| PodDisruptionBudget {
            min_available: min,
            max_unavailable: max,
            ..pdb("db")
        };
        let allowed = |b: &PodDisruptionBudget| disruptions_allowed(b, all(), scale);
        assert_eq!(allowed(&budget(Some(IntOrPercent::Int(1)), None)), 2);
        assert_eq!(allowed(&budget(Some(IntOrPercent::Int(3)), None)), 0);
        assert_eq!(allowed(&budget(Some(IntOrPercent::Int(5)), None)), 0, "never negative");
        // 30 % of 5 replicas is 1.5, rounded up to 2: 3 - 2.
        assert_eq!(allowed(&budget(Some(IntOrPercent::Percent(30)), None)), 1);
        // maxUnavailable 3 of 5: desired 2.
        assert_eq!(allowed(&budget(None, Some(IntOrPercent::Int(3)))), 1);
        // maxUnavailable 10 % of 5 rounds up to 1: desired 4 > 3 healthy.
        assert_eq!(allowed(&budget(None, Some(IntOrPercent::Percent(10)))), 0);
        assert_eq!(allowed(&budget(None, Some(IntOrPercent::Percent(100)))), 3);
        // A controller without a scale fails the sync: nothing allowed.
        let none = |_: &str| None;
        assert_eq!(disruptions_allowed(&budget(None, Some(IntOrPercent::Int(3))), all(), none), 0);
        let mut other = budget(Some(IntOrPercent::Int(0)), None);
        other.namespace = "elsewhere".into();
        assert_eq!(allowed(&other), 0, "a PDB counts the pods of its own namespace");
    }
}
