//! Deployments and Jobs as the records tell them: per Deployment its available and existing
//! pods over time, its revisions and rollouts (the fewest available pods during an update, the
//! most pods during any rollout); per Job its succeeded and failed pods, the most running at
//! once, and how and when it ended. The run summary's `workloads` metrics and the
//! `deployments:` and `jobs:` expectations both come from here.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use podlab_cluster::scenario::Scenario;
use podlab_cluster::{Note, Part, Phase, PodId, Record, Records, SimTime};

use crate::percentiles::Percentiles;

/// The summary's Deployment and Job metrics.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct WorkloadMetrics {
    /// Rollouts of a new template (or back to an old one) after each Deployment's first.
    pub rollouts: u64,
    pub rollouts_completed: u64,
    /// From an update's start to all its pods available and no older pod left.
    pub rollout_duration: Percentiles,
    /// The fewest pods of a Deployment available at any instant of an update (over all).
    pub min_available_during_rollout: Option<u64>,
    /// The most pods of a Deployment over its desired replicas during a rollout.
    pub max_surge_observed: Option<u64>,
    pub jobs_completed: u64,
    pub jobs_failed: u64,
    /// From a Job's creation (t = 0, or its `timeline` entry) to its completion.
    pub job_completion_time: Percentiles,
    /// Pods of Jobs that failed (before their Job ended).
    pub job_failed_pods: u64,
}

/// One Deployment's story up to a time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeploymentStory {
    /// Pods available (every part running for `minReadySeconds`) at the end.
    pub available: u32,
    /// Pods existing (created, not ended nor deleted) at the end.
    pub pods: u32,
    /// The revision of the last rollout started.
    pub revision: Option<u32>,
    /// Images of its running pods at the end (each pod's containers' images, joined by `,`).
    pub running_images: BTreeSet<String>,
    /// Over every update (rollout of revision > 1): the fewest available pods.
    pub min_available_in_updates: Option<u32>,
    /// Over every rollout: the most pods, and the most over the desired replicas.
    pub max_pods_in_rollouts: Option<u32>,
    pub max_surge: Option<u32>,
    /// Updates started, and the durations of those completed.
    pub updates: u32,
    pub update_durations: Vec<u64>,
}

/// One Job's story up to a time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobStory {
    pub succeeded: u32,
    pub failed: u32,
    pub max_active: u32,
    /// `Complete`, or `Failed` with its reason, and when.
    pub finished: Option<(SimTime, &'static str, Option<&'static str>)>,
}

impl JobStory {
    pub fn status(&self) -> &'static str {
        self.finished.map_or("Running", |(_, s, _)| s)
    }
}

/// The key of a pod's Deployment (`name`, or `namespace/name`).
fn deployment_key(scenario: &Scenario, pod: PodId) -> Option<String> {
    let spec = (pod.index() < scenario.pods.len()).then(|| scenario.pods.spec(pod))?;
    let name = spec.deployment()?;
    Some(if spec.namespace == "default" { name.to_string() } else { format!("{}/{name}", spec.namespace) })
}

fn job_key(scenario: &Scenario, pod: PodId) -> Option<String> {
    let spec = (pod.index() < scenario.pods.len()).then(|| scenario.pods.spec(pod))?;
    let name = spec.job()?;
    Some(if spec.namespace == "default" { name.to_string() } else { format!("{}/{name}", spec.namespace) })
}

/// How many parts a pod has, from the kind of part bound.
fn parts_of(scenario: &Scenario, pod: PodId, part: Part) -> usize {
    scenario.pods.spec(pod).part_count(matches!(part, Part::Container(_)))
}

/// Replays one Deployment's records up to `until`.
pub fn deployment_story(scenario: &Scenario, records: &Records, key: &str, until: SimTime) -> DeploymentStory {
    let Some(spec) = scenario.deployments.iter().find(|d| d.key() == key) else { return DeploymentStory::default() };
    let min_ready = spec.min_ready;
    // With a modelled control plane a part runs from the kubelet's start; else from binding.
    let modelled = scenario.control_plane.is_some();
    let mine = |p: &PodId| deployment_key(scenario, *p).as_deref() == Some(key);
    let mut existing: BTreeSet<PodId> = BTreeSet::new();
    let mut parts_up: BTreeMap<PodId, usize> = BTreeMap::new();
    let mut up_since: BTreeMap<PodId, SimTime> = BTreeMap::new();
    let mut story = DeploymentStory::default();
    // The rollout in progress: (revision, replicas, started at).
    let mut rollout: Option<(u32, u32, SimTime)> = None;
    let available_at =
        |t: SimTime, up: &BTreeMap<PodId, SimTime>| up.values().filter(|s| **s + min_ready <= t).count() as u32;
    for s in records.iter().take_while(|s| s.time <= until) {
        match &s.record {
            Record::PodCreated { pod } if mine(pod) => {
                existing.insert(*pod);
            }
            Record::Bound { pod, part, .. } | Record::Started { pod, part, .. } if mine(pod) => {
                if matches!(s.record, Record::Bound { .. }) == modelled {
                    continue;
                }
                let n = parts_up.entry(*pod).or_insert(0);
                *n += 1;
                if *n == parts_of(scenario, *pod, *part) {
                    up_since.insert(*pod, s.time);
                }
            }
            Record::Ended { pod, .. } | Record::PodDeleted { pod } if mine(pod) => {
                existing.remove(pod);
                up_since.remove(pod);
            }
            Record::Note { note: Note::RolloutStarted { deployment, revision, replicas, .. }, .. }
                if deployment == key =>
            {
                // Revisions only grow: a note of a revision already started (a restarted
                // controller noting again) neither starts nor restarts a rollout.
                if story.revision.is_none_or(|r| *revision > r) {
                    rollout = Some((*revision, *replicas, s.time));
                    story.updates += u32::from(*revision > 1);
                    story.revision = Some(*revision);
                }
            }
            Record::Note { note: Note::RolloutComplete { deployment, revision }, .. } if deployment == key => {
                if let Some((r, _, since)) = rollout
                    && r == *revision
                {
                    if r > 1 {
                        story.update_durations.push(s.time.since(since).as_nanos());
                    }
                    rollout = None;
                }
            }
            _ => continue,
        }
        if let Some((revision, replicas, _)) = rollout {
            let pods = existing.len() as u32;
            story.max_pods_in_rollouts = Some(story.max_pods_in_rollouts.map_or(pods, |m| m.max(pods)));
            let surge = pods.saturating_sub(replicas);
            story.max_surge = Some(story.max_surge.map_or(surge, |m| m.max(surge)));
            if revision > 1 {
                let available = available_at(s.time, &up_since);
                story.min_available_in_updates =
                    Some(story.min_available_in_updates.map_or(available, |m| m.min(available)));
            }
        }
    }
    story.available = available_at(until, &up_since);
    story.pods = existing.len() as u32;
    story.running_images = up_since
        .keys()
        .map(|p| scenario.pods.spec(*p).containers.iter().map(|c| c.image.as_str()).collect::<Vec<_>>().join(","))
        .collect();
    story
}

/// Replays one Job's records up to `until`.
pub fn job_story(scenario: &Scenario, records: &Records, key: &str, until: SimTime) -> JobStory {
    let mine = |p: &PodId| job_key(scenario, *p).as_deref() == Some(key);
    let mut story = JobStory::default();
    let mut running: BTreeSet<PodId> = BTreeSet::new();
    let mut ended_parts: BTreeMap<PodId, usize> = BTreeMap::new();
    let mut over: BTreeSet<PodId> = BTreeSet::new();
    for s in records.iter().take_while(|s| s.time <= until) {
        match &s.record {
            Record::Bound { pod, .. } if mine(pod) => {
                running.insert(*pod);
                story.max_active = story.max_active.max(running.len() as u32);
            }
            Record::Ended { pod, part, phase, .. } if mine(pod) => {
                let n = ended_parts.entry(*pod).or_insert(0);
                *n += 1;
                let done = *phase == Phase::Failed || *n == parts_of(scenario, *pod, *part);
                if done && running.remove(pod) && over.insert(*pod) && story.finished.is_none() {
                    if *phase == Phase::Failed {
                        story.failed += 1;
                    } else {
                        story.succeeded += 1;
                    }
                }
            }
            Record::Note { note: Note::JobComplete { job }, .. } if job == key && story.finished.is_none() => {
                story.finished = Some((s.time, "Complete", None));
            }
            Record::Note { note: Note::JobFailed { job, reason }, .. } if job == key && story.finished.is_none() => {
                story.finished = Some((s.time, "Failed", Some(*reason)));
            }
            _ => {}
        }
    }
    story
}

pub fn workload_metrics(scenario: &Scenario, records: &Records, end: SimTime) -> WorkloadMetrics {
    let mut m = WorkloadMetrics::default();
    let mut durations = Vec::new();
    for d in &scenario.deployments {
        let story = deployment_story(scenario, records, &d.key(), end);
        m.rollouts += u64::from(story.updates);
        m.rollouts_completed += story.update_durations.len() as u64;
        durations.extend(story.update_durations.iter().copied());
        if let Some(a) = story.min_available_in_updates {
            m.min_available_during_rollout = Some(m.min_available_during_rollout.map_or(a.into(), |x| x.min(a.into())));
        }
        if let Some(s) = story.max_surge {
            m.max_surge_observed = Some(m.max_surge_observed.map_or(s.into(), |x| x.max(s.into())));
        }
    }
    m.rollout_duration = Percentiles::of(durations);
    let mut completion = Vec::new();
    for j in &scenario.jobs {
        let story = job_story(scenario, records, &j.key(), end);
        m.job_failed_pods += u64::from(story.failed);
        match story.finished {
            Some((at, "Complete", _)) => {
                m.jobs_completed += 1;
                completion.push(at.since(j.start).as_nanos());
            }
            Some(_) => m.jobs_failed += 1,
            None => {}
        }
    }
    m.job_completion_time = Percentiles::of(completion);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use podlab_cluster::ControllerId;
    use podlab_scenario::{LoadOptions, parse};

    /// Notes written again by a restarted controller (the revision in progress, or one already
    /// complete) count no extra rollout.
    #[test]
    fn repeated_rollout_notes_count_once() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: app, image: a}]\n";
        let options = LoadOptions { known_policies: &["kubernetes"], allow_paths_outside: false };
        let scenario = parse("t.yaml", text, options).unwrap();
        let note = |secs: u64, note: Note| podlab_cluster::Stamped {
            time: SimTime::ZERO + podlab_cluster::SimDuration::from_secs(secs),
            record: Record::Note { by: ControllerId(0), note },
        };
        let started =
            |r: u32| Note::RolloutStarted { deployment: "web".into(), revision: r, replicas: 1, rollback_of: None };
        let complete = |r: u32| Note::RolloutComplete { deployment: "web".into(), revision: r };
        let records: Records = [
            note(0, started(1)),
            note(1, complete(1)),
            note(10, started(2)),
            note(12, started(2)),
            note(15, complete(2)),
            note(20, started(2)),
            note(21, complete(2)),
        ]
        .into_iter()
        .collect();
        let story =
            deployment_story(&scenario, &records, "web", SimTime::ZERO + podlab_cluster::SimDuration::from_secs(30));
        assert_eq!((story.updates, story.revision), (1, Some(2)));
        assert_eq!(story.update_durations, [5_000_000_000]);
    }
}
