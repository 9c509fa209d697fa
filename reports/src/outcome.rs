//! What happened to each pod and group, rebuilt from a run's records alone (so the simulator
//! and real mode are measured by the same code).

use std::collections::BTreeSet;

use podlab_cluster::affinity::{LabelSelector, PodAffinityTerm};
use podlab_cluster::few::Few;
use podlab_cluster::pods::PodFacts;
use podlab_cluster::scenario::Scenario;
use podlab_cluster::{GroupId, MaybeTime, NodeId, Part, Phase, PodId, PodSpec, Record, Records, SimTime, Stamped};

/// One part of a pod that was bound (24 bytes: the part as a code, the phase valid once it
/// ended).
#[derive(Clone, PartialEq, Eq)]
pub struct PartRun {
    pub bound_at: SimTime,
    ended_at: MaybeTime,
    pub node: NodeId,
    /// 0 for the whole pod, `i + 1` for container `i`.
    part: u16,
    phase: Phase,
}

impl PartRun {
    fn new(part: Part, node: NodeId, bound_at: SimTime) -> PartRun {
        let part = match part {
            Part::Whole => 0,
            Part::Container(i) => i.checked_add(1).expect("fewer than 65535 containers"),
        };
        PartRun { bound_at, ended_at: MaybeTime::NONE, node, part, phase: Phase::Running }
    }

    pub fn part(&self) -> Part {
        match self.part {
            0 => Part::Whole,
            i => Part::Container(i - 1),
        }
    }

    /// When and how it ended, if it did.
    pub fn ended(&self) -> Option<(SimTime, Phase)> {
        self.ended_at.get().map(|at| (at, self.phase))
    }

    fn end(&mut self, at: SimTime, phase: Phase) {
        (self.ended_at, self.phase) = (MaybeTime::some(at), phase);
    }
}

impl std::fmt::Debug for PartRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartRun")
            .field("part", &self.part())
            .field("node", &self.node)
            .field("bound_at", &self.bound_at)
            .field("ended", &self.ended())
            .finish()
    }
}

/// A pod's bound parts, in binding order (nearly every pod has one, kept inline).
pub type Runs = Few<PartRun>;

/// The story of one pod (40 bytes: a replay holds one per pod, the summary's fold one per pod
/// in flight).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodOutcome {
    created_at: MaybeTime,
    pub runs: Runs,
    /// How many runs it had when every part was first bound (its part count), 0 before: the
    /// time it was scheduled is that run's binding, so it is not kept again.
    scheduled_runs: u16,
    /// Failed scheduling attempts of its parts.
    pub unschedulable_attempts: u32,
    /// Some parts were placed while another was found unplaceable.
    pub partial: bool,
    /// A controller deleted it before it was bound.
    pub deleted: bool,
}

impl PodOutcome {
    pub fn created_at(&self) -> Option<SimTime> {
        self.created_at.get()
    }

    /// When its last part was bound, if every part was.
    pub fn scheduled_at(&self) -> Option<SimTime> {
        let last = usize::from(self.scheduled_runs).checked_sub(1)?;
        Some(self.runs[last].bound_at)
    }

    /// The part's current run: its last, if it has not ended (a part bound again without an
    /// end leaves its earlier run unended but no longer current).
    fn current_run(&mut self, part: Part) -> Option<&mut PartRun> {
        self.runs.iter_mut().rev().find(|r| r.part() == part).filter(|r| r.ended().is_none())
    }

    /// The parts running now: those whose current run is unended.
    fn running_parts(&self) -> impl Iterator<Item = Part> + '_ {
        let runs = &self.runs;
        (0..runs.len())
            .filter(move |&i| runs[i].ended().is_none() && !runs[i + 1..].iter().any(|r| r.part == runs[i].part))
            .map(move |i| runs[i].part())
    }

    /// The distinct nodes its parts ran on, in id order.
    pub fn nodes(&self) -> Vec<NodeId> {
        self.runs.iter().map(|r| r.node).collect::<BTreeSet<_>>().into_iter().collect()
    }

    /// Its parts ran on more than one node.
    pub fn split(&self) -> bool {
        self.runs.first().is_some_and(|first| self.runs.iter().any(|r| r.node != first.node))
    }

    pub fn per_container(&self) -> bool {
        self.runs.iter().any(|r| matches!(r.part(), Part::Container(_)))
    }

    pub fn phase(&self, parts: usize) -> Option<Phase> {
        self.created_at()?;
        let ended = || self.runs.iter().filter_map(|r| r.ended().map(|(_, p)| p));
        Some(if self.runs.len() == parts && ended().count() == parts {
            if ended().any(|p| p == Phase::Failed) { Phase::Failed } else { Phase::Succeeded }
        } else if self.runs.len() == parts {
            Phase::Running
        } else {
            Phase::Pending
        })
    }

    /// Reads one record about this pod (its [`outcome_pod`]), whose spec and group `pod`
    /// gives; true when this record bound its last unbound part, so that it is scheduled from
    /// now on.
    pub(crate) fn observe(&mut self, pod: &PodFacts<'_>, s: &Stamped, groups: &mut GroupBooks) -> bool {
        match &s.record {
            Record::PodCreated { .. } => self.created_at = MaybeTime::some(s.time),
            Record::PodDeleted { .. } => self.deleted = true,
            Record::Bound { part, node, .. } => {
                let spec = pod.spec;
                if let Some(group) = pod.group {
                    if self.current_run(*part).is_none() {
                        *groups.running_mut(group) += 1;
                    }
                    groups.ran_on(group, *node);
                }
                self.runs.push(PartRun::new(*part, *node, s.time));
                let parts = spec.part_count(matches!(part, Part::Container(_)));
                if self.runs.len() == parts {
                    self.scheduled_runs = u16::try_from(parts).expect("fewer than 65535 parts");
                    return true;
                }
            }
            Record::Ended { part, phase, .. } => {
                if let Some(run) = self.current_run(*part) {
                    run.end(s.time, *phase);
                    if let Some(group) = pod.group {
                        *groups.running_mut(group) -= 1;
                    }
                }
            }
            Record::Unschedulable { part, .. } => {
                let sibling_runs = self.running_parts().any(|q| q != *part);
                let own_running = self.running_parts().count();
                self.unschedulable_attempts = self.unschedulable_attempts.saturating_add(1);
                self.partial |= sibling_runs;
                if let Some(group) = pod.group {
                    let member_runs = *groups.running_mut(group) > own_running;
                    if member_runs || sibling_runs {
                        groups.partial.insert(group);
                    }
                }
            }
            _ => {}
        }
        false
    }

    pub fn finished_at(&self, parts: usize) -> Option<SimTime> {
        if self.runs.len() < parts {
            return None;
        }
        self.runs.iter().map(|r| r.ended().map(|(t, _)| t)).collect::<Option<Vec<_>>>()?.into_iter().max()
    }
}

/// The pod a record changes the outcome of: its creation, deletion, a part's binding, ending
/// or failed attempt.
pub(crate) fn outcome_pod(record: &Record) -> Option<PodId> {
    match record {
        Record::PodCreated { pod }
        | Record::PodDeleted { pod }
        | Record::Bound { pod, .. }
        | Record::Ended { pod, .. }
        | Record::Unschedulable { pod, .. } => Some(*pod),
        _ => None,
    }
}

/// What pods' outcomes tell of their groups as records are read.
#[derive(Clone, Debug, Default)]
pub(crate) struct GroupBooks {
    /// Parts running per group, so whether another member runs is a subtraction rather than a
    /// lookup per member at every failed attempt (a trace's big gangs fail thousands of times
    /// while a hundred members wait).
    running: Vec<usize>,
    /// Groups some of whose members were placed while another member was unplaceable.
    pub partial: BTreeSet<GroupId>,
    /// Per group: the node its members first ran on, and whether one ran elsewhere.
    nodes: Vec<(Option<NodeId>, bool)>,
}

impl GroupBooks {
    fn ran_on(&mut self, group: GroupId, node: NodeId) {
        if self.nodes.len() <= group.index() {
            self.nodes.resize(group.index() + 1, (None, false));
        }
        let (first, split) = &mut self.nodes[group.index()];
        *split |= first.is_some_and(|f| f != node);
        first.get_or_insert(node);
    }

    /// The groups that had members on more than one node.
    pub(crate) fn spread(&self) -> Vec<GroupId> {
        (0..self.nodes.len()).filter(|&g| self.nodes[g].1).map(|g| GroupId(g as u32)).collect()
    }

    fn running_mut(&mut self, group: GroupId) -> &mut usize {
        if self.running.len() <= group.index() {
            self.running.resize(group.index() + 1, 0);
        }
        &mut self.running[group.index()]
    }
}

/// The topology key that means "the same node".
const HOSTNAME: &str = "kubernetes.io/hostname";

/// Of `groups`, those whose own rule asks for one node: a member has a required pod affinity
/// on `kubernetes.io/hostname` whose selector picks another member (in a namespace the term
/// covers). A PodGroup alone asks for all or nothing, not for one node.
pub fn groups_sharing_a_node(scenario: &Scenario, groups: &[GroupId]) -> Vec<GroupId> {
    // Without a pod that has such a term, no group asks: the groups' members, a pass over every
    // pod of the run, are not needed.
    if groups.is_empty() || !scenario.pods.distinct_specs().any(has_hostname_affinity) {
        return Vec::new();
    }
    let members = scenario.group_members();
    groups.iter().copied().filter(|g| members.get(g.index()).is_some_and(|m| must_share_a_node(scenario, m))).collect()
}

/// Whether a pod has a required pod affinity on `kubernetes.io/hostname` with a selector.
fn has_hostname_affinity(spec: &PodSpec) -> bool {
    hostname_affinity(spec).next().is_some()
}

/// A pod's required pod affinity terms on `kubernetes.io/hostname` with a selector.
fn hostname_affinity(spec: &PodSpec) -> impl Iterator<Item = (&PodAffinityTerm, &LabelSelector)> {
    let terms = spec.terms.as_deref().map_or(&[][..], |t| &t.pod_affinity_required[..]);
    terms.iter().filter(|t| t.topology_key == HOSTNAME).filter_map(|t| Some((t, t.label_selector.as_ref()?)))
}

fn must_share_a_node(scenario: &Scenario, members: &[PodId]) -> bool {
    members.iter().any(|&m| {
        let spec = scenario.pods.spec(m);
        hostname_affinity(spec).any(|(term, selector)| {
            members.iter().filter(|&&o| o != m).any(|&o| {
                let other = scenario.pods.spec(o);
                let namespace_ok = if term.namespace_selector.is_some() {
                    true
                } else if term.namespaces.is_empty() {
                    other.namespace == spec.namespace
                } else {
                    term.namespaces.contains(&other.namespace)
                };
                namespace_ok && selector.matches(&other.labels)
            })
        })
    })
}

/// Every pod's and group's outcome up to a point in time.
#[derive(Clone, Debug)]
pub struct Outcomes {
    pub pods: Vec<PodOutcome>,
    /// Groups some of whose members were placed while another member was unplaceable.
    pub partial_groups: BTreeSet<GroupId>,
    /// Why each pod last waited, as `Reason: message` (`Unschedulable: 0/2 nodes are
    /// available…`, `Abandoned: …`), for the pods a summary's fold keeps (its first pods);
    /// empty from a replay.
    pub waiting: Vec<Option<String>>,
}

impl Outcomes {
    /// Replays the records up to and including `until`.
    pub fn replay(scenario: &Scenario, records: &Records, until: SimTime) -> Outcomes {
        let mut pods = vec![PodOutcome::default(); scenario.pods.len()];
        // A part's current run is found in its pod's runs (nearly always the one run): no map
        // of running parts.
        let mut groups = GroupBooks::default();
        for s in records.iter().take_while(|s| s.time <= until) {
            if let Some(pod) = outcome_pod(&s.record) {
                pods[pod.index()].observe(&scenario.pods.facts(pod), &s, &mut groups);
            }
        }
        Outcomes { pods, partial_groups: groups.partial, waiting: Vec::new() }
    }

    /// How many parts a pod has under the policy that placed it.
    pub fn parts(&self, scenario: &Scenario, pod: PodId) -> usize {
        scenario.pods.spec(pod).part_count(self.pods[pod.index()].per_container())
    }

    pub fn phase(&self, scenario: &Scenario, pod: PodId) -> Option<Phase> {
        self.pods[pod.index()].phase(self.parts(scenario, pod))
    }

    /// The distinct nodes a group's members ran on.
    pub fn group_nodes(&self, members: &[PodId]) -> Vec<NodeId> {
        let runs = members.iter().flat_map(|m| self.pods[m.index()].runs.iter());
        runs.map(|r| r.node).collect::<BTreeSet<_>>().into_iter().collect()
    }

    /// How many of a group's members were wholly placed.
    pub fn group_placed(&self, members: &[PodId]) -> u32 {
        members.iter().filter(|m| self.pods[m.index()].scheduled_runs > 0).count() as u32
    }
}

#[cfg(test)]
mod tests {
    /// A run's reports hold one outcome per pod (a million, for a big run).
    #[test]
    fn a_pod_outcome_stays_small() {
        assert!(size_of::<super::PodOutcome>() <= 40, "PodOutcome: {} B", size_of::<super::PodOutcome>());
    }
}
