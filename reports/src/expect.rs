//! Checks a scenario's `expect:` lines against what a run did.

use podlab_cluster::scenario::{Check, Expectation, Scenario};
use podlab_cluster::{NodeId, PodId, Records, SimTime};

use crate::outcome::Outcomes;
use crate::workloads::{deployment_story, job_story};

/// The verdict on one expectation for one policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Index into `scenario.expectations`.
    pub index: usize,
    /// What did not hold; empty when it all held.
    pub failures: Vec<String>,
}

impl Verdict {
    pub fn holds(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The verdicts of the expectations that apply to `policy`.
pub fn check(scenario: &Scenario, policy: &str, records: &Records, end: SimTime) -> Vec<Verdict> {
    if scenario.expectations.is_empty() {
        // The groups' members are a pass over every pod of the run (11.7M in the Google
        // cell's day), for nothing.
        return Vec::new();
    }
    let members = scenario.group_members();
    scenario
        .expectations
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            if e.policies.is_empty() {
                scenario.policies.iter().any(|p| p == policy)
            } else {
                e.policies.iter().any(|p| p == policy)
            }
        })
        .map(|(index, e): (usize, &Expectation)| {
            let at = e.at.unwrap_or(end);
            let outcomes = Outcomes::replay(scenario, records, at);
            let run = Run { scenario, records, outcomes: &outcomes, members: &members, at };
            let mut failures: Vec<String> = e.checks.iter().filter_map(|c| run.failure(c)).collect();
            if e.at.is_some() && !failures.is_empty() {
                failures.iter_mut().for_each(|f| *f = format!("at {at}: {f}"));
            }
            Verdict { index, failures }
        })
        .collect()
}

/// A run as one expectation's checks read it: its records, and its outcomes at the
/// expectation's time.
struct Run<'a> {
    scenario: &'a Scenario,
    records: &'a Records,
    outcomes: &'a Outcomes,
    /// Each group's pods, by group id.
    members: &'a [Vec<PodId>],
    at: SimTime,
}

impl Run<'_> {
    /// What is wrong with the run by one check, if anything.
    fn failure(&self, check: &Check) -> Option<String> {
        match check {
            Check::PodPhase { .. }
            | Check::PodNode { .. }
            | Check::PodSplit { .. }
            | Check::GroupSplit { .. }
            | Check::GroupPlaced { .. }
            | Check::PodsInPhase { .. }
            | Check::ReplicasRunning { .. } => self.placement_failure(check),
            Check::DeploymentAvailable { .. }
            | Check::DeploymentRevision { .. }
            | Check::DeploymentImage { .. }
            | Check::DeploymentMinAvailable { .. }
            | Check::DeploymentMaxPods { .. } => self.deployment_failure(check),
            Check::JobStatus { .. }
            | Check::JobSucceeded { .. }
            | Check::JobFailed { .. }
            | Check::JobMaxActive { .. } => self.job_failure(check),
            Check::Records { kind, min, max } => self.records_failure(kind, *min, *max),
        }
    }

    /// Nodes by name, joined: `node-a + node-b`, or `no node`.
    fn node_list(&self, ids: Vec<NodeId>) -> String {
        if ids.is_empty() {
            "no node".to_string()
        } else {
            ids.iter().map(|n| self.scenario.nodes[n.index()].name.as_str()).collect::<Vec<_>>().join(" + ")
        }
    }

    /// Where pods and groups are, and in what phase.
    fn placement_failure(&self, check: &Check) -> Option<String> {
        let (scenario, outcomes, members) = (self.scenario, self.outcomes, &self.members);
        match *check {
            Check::PodPhase { pod, phase } => {
                let got = outcomes.phase(scenario, pod);
                if got != Some(phase) {
                    let got = got.map_or("not created", |p| p.as_str());
                    return Some(format!("pod {} is {got}, expected {}", scenario.pods.get(pod).key(), phase.as_str()));
                }
            }
            Check::PodNode { pod, node } => {
                let nodes = outcomes.pods[pod.index()].nodes();
                if nodes != [node] {
                    return Some(format!(
                        "pod {} is on {}, expected {}",
                        scenario.pods.get(pod).key(),
                        self.node_list(nodes),
                        scenario.nodes[node.index()].name
                    ));
                }
            }
            Check::PodSplit { pod, split } => {
                let o = &outcomes.pods[pod.index()];
                if o.split() != split {
                    let how = if split { "split across nodes" } else { "on one node" };
                    return Some(format!(
                        "pod {} is on {}, expected it {how}",
                        scenario.pods.get(pod).key(),
                        self.node_list(o.nodes())
                    ));
                }
            }
            Check::GroupSplit { group, split } => {
                let nodes = outcomes.group_nodes(&members[group.index()]);
                if (nodes.len() > 1) != split {
                    let how = if split { "split across nodes" } else { "on one node" };
                    return Some(format!(
                        "group {} is on {}, expected it {how}",
                        scenario.groups[group.index()].key(),
                        self.node_list(nodes)
                    ));
                }
            }
            Check::GroupPlaced { group, placed } => {
                let got = outcomes.group_placed(&members[group.index()]);
                if got != placed {
                    return Some(format!(
                        "group {} has {got} pods placed, expected {placed}",
                        scenario.groups[group.index()].key()
                    ));
                }
            }
            Check::PodsInPhase { phase, count } => {
                let got = (0..outcomes.pods.len())
                    .filter(|&i| outcomes.phase(scenario, podlab_cluster::PodId(i as u32)) == Some(phase))
                    .count() as u32;
                if got != count {
                    return Some(format!("{got} pods are {}, expected {count}", phase.as_str()));
                }
            }
            Check::ReplicasRunning { ref owner, running } => {
                let got = (0..outcomes.pods.len())
                    .filter(|&i| {
                        let pod = &scenario.pods.get(podlab_cluster::PodId(i as u32));
                        pod.owner.as_deref() == Some(owner.as_str()) || pod.deployment() == Some(owner.as_str())
                    })
                    .filter(|&i| {
                        outcomes.phase(scenario, podlab_cluster::PodId(i as u32))
                            == Some(podlab_cluster::Phase::Running)
                    })
                    .count() as u32;
                if got != running {
                    return Some(format!("ReplicaSet {owner} has {got} pods running, expected {running}"));
                }
            }
            _ => unreachable!("not one of these checks"),
        }
        None
    }

    /// A Deployment's story up to the time.
    fn deployment_failure(&self, check: &Check) -> Option<String> {
        let (scenario, records, at) = (self.scenario, self.records, self.at);
        match *check {
            Check::DeploymentAvailable { ref deployment, available } => {
                let got = deployment_story(scenario, records, deployment, at).available;
                if got != available {
                    return Some(format!("Deployment {deployment} has {got} pods available, expected {available}"));
                }
            }
            Check::DeploymentRevision { ref deployment, revision } => {
                let got = deployment_story(scenario, records, deployment, at).revision;
                if got != Some(revision) {
                    let got = got.map_or("no revision".to_string(), |r| format!("revision {r}"));
                    return Some(format!("Deployment {deployment} is at {got}, expected revision {revision}"));
                }
            }
            Check::DeploymentImage { ref deployment, ref image } => {
                let images = deployment_story(scenario, records, deployment, at).running_images;
                let all_run_it = !images.is_empty() && images.iter().all(|i| i.split(',').any(|c| c == image));
                if !all_run_it {
                    let got: Vec<&str> = images.iter().map(String::as_str).collect();
                    return Some(format!(
                        "Deployment {deployment}'s running pods run [{}], expected each to run {image}",
                        got.join("; ")
                    ));
                }
            }
            Check::DeploymentMinAvailable { ref deployment, min } => {
                let story = deployment_story(scenario, records, deployment, at);
                match story.min_available_in_updates {
                    None => return Some(format!("Deployment {deployment} had no update rollout")),
                    Some(got) if got < min => {
                        return Some(format!(
                            "Deployment {deployment} had only {got} pods available during a rollout, expected \
                             at least {min}"
                        ));
                    }
                    Some(_) => {}
                }
            }
            Check::DeploymentMaxPods { ref deployment, max } => {
                let story = deployment_story(scenario, records, deployment, at);
                match story.max_pods_in_rollouts {
                    None => return Some(format!("Deployment {deployment} had no rollout")),
                    Some(got) if got > max => {
                        return Some(format!(
                            "Deployment {deployment} had {got} pods during a rollout, expected at most {max}"
                        ));
                    }
                    Some(_) => {}
                }
            }
            _ => unreachable!("not one of these checks"),
        }
        None
    }

    /// A Job's story up to the time.
    fn job_failure(&self, check: &Check) -> Option<String> {
        let (scenario, records, at) = (self.scenario, self.records, self.at);
        match *check {
            Check::JobStatus { ref job, ref status, ref reason } => {
                let story = job_story(scenario, records, job, at);
                let got_reason = story.finished.and_then(|(_, _, r)| r);
                if story.status() != status || reason.as_deref().is_some_and(|r| Some(r) != got_reason) {
                    let why = got_reason.map_or(String::new(), |r| format!(" ({r})"));
                    let want = reason.as_ref().map_or(String::new(), |r| format!(" ({r})"));
                    return Some(format!("Job {job} is {}{why}, expected {status}{want}", story.status()));
                }
            }
            Check::JobSucceeded { ref job, pods } => {
                let got = job_story(scenario, records, job, at).succeeded;
                if got != pods {
                    return Some(format!("Job {job} has {got} pods succeeded, expected {pods}"));
                }
            }
            Check::JobFailed { ref job, pods } => {
                let got = job_story(scenario, records, job, at).failed;
                if got != pods {
                    return Some(format!("Job {job} has {got} pods failed, expected {pods}"));
                }
            }
            Check::JobMaxActive { ref job, pods } => {
                let got = job_story(scenario, records, job, at).max_active;
                if got > pods {
                    return Some(format!("Job {job} ran {got} pods at once, expected at most {pods}"));
                }
            }
            _ => unreachable!("not one of these checks"),
        }
        None
    }

    /// How many records of a kind the run wrote by the time.
    fn records_failure(&self, kind: &str, min: Option<u64>, max: Option<u64>) -> Option<String> {
        let at = self.at;
        let got = self.records.iter().take_while(|s| s.time <= at).filter(|s| s.record.kind() == kind).count() as u64;
        if min.is_some_and(|m| got < m) || max.is_some_and(|m| got > m) {
            let range = match (min, max) {
                (Some(a), Some(b)) if a == b => format!("{a}"),
                (Some(a), Some(b)) => format!("{a} to {b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => unreachable!("the loader asks for a bound"),
            };
            return Some(format!("{got} {kind} records, expected {range}"));
        }
        None
    }
}
