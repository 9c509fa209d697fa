//! What happened to each pod and group, rebuilt from a run's records alone (so the simulator
//! and real mode are measured by the same code).

use std::collections::{BTreeMap, BTreeSet};

use podlab_cluster::few::Few;
use podlab_cluster::scenario::Scenario;
use podlab_cluster::{GroupId, NodeId, Part, Phase, PodId, Record, Records, SimTime};

/// One part of a pod that was bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartRun {
    pub part: Part,
    pub node: NodeId,
    pub bound_at: SimTime,
    pub ended: Option<(SimTime, Phase)>,
}

/// A pod's bound parts, in binding order (nearly every pod has one, kept inline).
pub type Runs = Few<PartRun>;

/// The story of one pod.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodOutcome {
    pub created_at: Option<SimTime>,
    pub runs: Runs,
    /// When its last part was bound, if every part was.
    pub scheduled_at: Option<SimTime>,
    /// Some parts were placed while another was found unplaceable.
    pub partial: bool,
    /// Failed scheduling attempts of its parts.
    pub unschedulable_attempts: u64,
    /// When a controller deleted it before it was bound.
    pub deleted_at: Option<SimTime>,
}

impl PodOutcome {
    /// The distinct nodes its parts ran on, in id order.
    pub fn nodes(&self) -> Vec<NodeId> {
        self.runs.iter().map(|r| r.node).collect::<BTreeSet<_>>().into_iter().collect()
    }

    pub fn split(&self) -> bool {
        self.nodes().len() > 1
    }

    pub fn per_container(&self) -> bool {
        self.runs.iter().any(|r| matches!(r.part, Part::Container(_)))
    }

    pub fn phase(&self, parts: usize) -> Option<Phase> {
        self.created_at?;
        let ended: Vec<Phase> = self.runs.iter().filter_map(|r| r.ended.map(|(_, p)| p)).collect();
        Some(if self.runs.len() == parts && ended.len() == parts {
            if ended.contains(&Phase::Failed) { Phase::Failed } else { Phase::Succeeded }
        } else if self.runs.len() == parts {
            Phase::Running
        } else {
            Phase::Pending
        })
    }

    pub fn finished_at(&self, parts: usize) -> Option<SimTime> {
        if self.runs.len() < parts {
            return None;
        }
        self.runs.iter().map(|r| r.ended.map(|(t, _)| t)).collect::<Option<Vec<_>>>()?.into_iter().max()
    }
}

/// Every pod's and group's outcome up to a point in time.
#[derive(Clone, Debug)]
pub struct Outcomes {
    pub pods: Vec<PodOutcome>,
    /// Groups some of whose members were placed while another member was unplaceable.
    pub partial_groups: BTreeSet<GroupId>,
}

impl Outcomes {
    /// Replays the records up to and including `until`.
    pub fn replay(scenario: &Scenario, records: &Records, until: SimTime) -> Outcomes {
        Outcomes::replay_first(scenario, records, until, scenario.pods.len())
    }

    /// The outcomes of the first `count` pods only (what a table of the first few shows, without
    /// the books of a million): `pods` holds those, and `partial_groups` only what they tell.
    pub fn replay_first(scenario: &Scenario, records: &Records, until: SimTime, count: usize) -> Outcomes {
        let count = count.min(scenario.pods.len());
        let mut pods = vec![PodOutcome::default(); count];
        let mut running: BTreeMap<(PodId, Part), usize> = BTreeMap::new();
        let mut partial_groups = BTreeSet::new();
        // Parts running per group, so whether another member runs is a subtraction rather
        // than a lookup per member at every failed attempt (a trace's big gangs fail thousands
        // of times while a hundred members wait).
        let mut group_running = vec![0usize; scenario.groups.len()];
        for s in records.iter().take_while(|s| s.time <= until) {
            match &s.record {
                Record::PodCreated { pod }
                | Record::PodDeleted { pod }
                | Record::Bound { pod, .. }
                | Record::Ended { pod, .. }
                | Record::Unschedulable { pod, .. }
                    if pod.index() >= count => {}
                Record::PodCreated { pod } => pods[pod.index()].created_at = Some(s.time),
                Record::PodDeleted { pod } => pods[pod.index()].deleted_at = Some(s.time),
                Record::Bound { pod, part, node } => {
                    let o = &mut pods[pod.index()];
                    if running.insert((*pod, *part), o.runs.len()).is_none() {
                        if let Some(group) = scenario.pods[pod.index()].group {
                            group_running[group.index()] += 1;
                        }
                    }
                    o.runs.push(PartRun { part: *part, node: *node, bound_at: s.time, ended: None });
                    let parts = scenario.pods[pod.index()].parts(matches!(part, Part::Container(_))).len();
                    if o.runs.len() == parts {
                        o.scheduled_at = Some(s.time);
                    }
                }
                Record::Ended { pod, part, phase, .. } => {
                    if let Some(i) = running.remove(&(*pod, *part)) {
                        pods[pod.index()].runs[i].ended = Some((s.time, *phase));
                        if let Some(group) = scenario.pods[pod.index()].group {
                            group_running[group.index()] -= 1;
                        }
                    }
                }
                Record::Unschedulable { pod, part, .. } => {
                    let runs_of = |p: PodId| {
                        running.range((p, Part::Whole)..=(p, Part::Container(u16::MAX))).map(|((_, q), _)| *q)
                    };
                    let sibling_runs = runs_of(*pod).any(|q| q != *part);
                    let own_running = runs_of(*pod).count();
                    let o = &mut pods[pod.index()];
                    o.unschedulable_attempts += 1;
                    o.partial |= sibling_runs;
                    if let Some(group) = scenario.pods[pod.index()].group {
                        let member_runs = group_running[group.index()] > own_running;
                        if member_runs || sibling_runs {
                            partial_groups.insert(group);
                        }
                    }
                }
                _ => {}
            }
        }
        Outcomes { pods, partial_groups }
    }

    /// How many parts a pod has under the policy that placed it.
    pub fn parts(&self, scenario: &Scenario, pod: PodId) -> usize {
        scenario.pods[pod.index()].parts(self.pods[pod.index()].per_container()).len()
    }

    pub fn phase(&self, scenario: &Scenario, pod: PodId) -> Option<Phase> {
        self.pods[pod.index()].phase(self.parts(scenario, pod))
    }

    /// The distinct nodes a group's members ran on.
    pub fn group_nodes(&self, members: &[PodId]) -> Vec<NodeId> {
        members.iter().flat_map(|m| self.pods[m.index()].nodes()).collect::<BTreeSet<_>>().into_iter().collect()
    }

    /// How many of a group's members were wholly placed.
    pub fn group_placed(&self, members: &[PodId]) -> u32 {
        members.iter().filter(|m| self.pods[m.index()].scheduled_at.is_some()).count() as u32
    }
}
