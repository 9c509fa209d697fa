//! A Simulation's `expect:` entries, read into the scenario's [`Expectation`]s: the policies
//! and instant each holds for, and its checks — of pods, groups, Deployments, Jobs,
//! ReplicaSets, the cluster's phases and the records written — each naming objects that must
//! be in the scenario.

use podlab_cluster::scenario::{Check, Expectation, Scenario};
use serde_saphyr::Spanned;

use crate::diagnostic::LoadError;
use crate::event::Phase;
use crate::manifest::Doc;
use crate::objects::GroupId;
use crate::reading::Loader;
use crate::simulation::{ExpectManifest, SimulationManifest};
use crate::time::SimTime;

type SimDoc<'a> = Doc<'a, SimulationManifest>;

impl Loader<'_> {
    /// Every `expect:` entry of the Simulation, in file order.
    pub(crate) fn expectations(&self, doc: &SimDoc<'_>, scenario: &mut Scenario) -> Result<(), LoadError> {
        for e in &doc.parsed.value.spec.expect {
            let expectation = self.expectation(doc, e, scenario)?;
            scenario.expectations.push(expectation);
        }
        Ok(())
    }

    /// One `expect:` entry, which must check something.
    fn expectation(
        &self,
        doc: &SimDoc<'_>,
        e: &Spanned<ExpectManifest>,
        scenario: &Scenario,
    ) -> Result<Expectation, LoadError> {
        let ex = &e.value;
        let mut policies: Vec<String> = ex.policy.iter().map(|p| self.policy(doc, p)).collect::<Result<_, _>>()?;
        for p in ex.policies.iter().flatten() {
            policies.push(self.policy(doc, p)?);
        }
        let at = ex.at.as_ref().map(|a| doc.duration(a).map(|d| SimTime::ZERO + d)).transpose()?;
        let mut checks = Vec::new();
        pod_checks(doc, ex, scenario, &mut checks)?;
        group_checks(doc, ex, scenario, &mut checks)?;
        deployment_checks(doc, ex, scenario, &mut checks)?;
        job_checks(doc, ex, scenario, &mut checks)?;
        replica_set_checks(doc, ex, scenario, &mut checks)?;
        cluster_checks(doc, ex, &mut checks)?;
        record_checks(doc, ex, &mut checks)?;
        if checks.is_empty() {
            return Err(doc.src.error_with_help(
                doc.at(e),
                "this expectation checks nothing",
                "add e.g. `pods: {my-pod: {phase: Running}}`",
            ));
        }
        Ok(Expectation { policies, at, why: ex.why.clone(), pos: doc.at(e), checks })
    }
}

/// `pods:`: a pod's phase, node and whether it is split across nodes.
fn pod_checks(
    doc: &SimDoc<'_>,
    ex: &ExpectManifest,
    scenario: &Scenario,
    checks: &mut Vec<Check>,
) -> Result<(), LoadError> {
    for (key, want) in &ex.pods {
        let pod = scenario
            .pod_named(key)
            .ok_or_else(|| doc.error(want, format!("expect names pod `{key}`, which is not in this scenario")))?;
        if let Some(phase) = &want.value.phase {
            let phase = Phase::parse(&phase.value).ok_or_else(|| {
                doc.error(phase, format!("unknown phase `{}` (Pending, Running, Succeeded, Failed)", phase.value))
            })?;
            checks.push(Check::PodPhase { pod, phase });
        }
        if let Some(node) = &want.value.node {
            let node = scenario
                .node_named(&node.value)
                .ok_or_else(|| doc.error(node, format!("no node named `{}` in this scenario", node.value)))?;
            checks.push(Check::PodNode { pod, node });
        }
        if let Some(split) = want.value.split {
            checks.push(Check::PodSplit { pod, split });
        }
    }
    Ok(())
}

/// `groups:`: whether a PodGroup is split, and how many of its pods are placed.
fn group_checks(
    doc: &SimDoc<'_>,
    ex: &ExpectManifest,
    scenario: &Scenario,
    checks: &mut Vec<Check>,
) -> Result<(), LoadError> {
    for (key, want) in &ex.groups {
        let group = scenario.groups.iter().position(|g| g.key() == *key).map(|i| GroupId(i as u32));
        let group = group
            .ok_or_else(|| doc.error(want, format!("expect names PodGroup `{key}`, which is not in this scenario")))?;
        if let Some(split) = want.value.split {
            checks.push(Check::GroupSplit { group, split });
        }
        if let Some(placed) = want.value.placed {
            checks.push(Check::GroupPlaced { group, placed });
        }
    }
    Ok(())
}

/// `deployments:`: a Deployment's available replicas, revision, image and bounds.
fn deployment_checks(
    doc: &SimDoc<'_>,
    ex: &ExpectManifest,
    scenario: &Scenario,
    checks: &mut Vec<Check>,
) -> Result<(), LoadError> {
    for (key, want) in &ex.deployments {
        if !scenario.deployments.iter().any(|d| d.key() == *key) {
            return Err(doc.error(want, format!("expect names Deployment `{key}`, which is not in this scenario")));
        }
        let (w, deployment) = (&want.value, key.clone());
        if let Some(available) = w.available {
            checks.push(Check::DeploymentAvailable { deployment: deployment.clone(), available });
        }
        if let Some(revision) = w.revision {
            checks.push(Check::DeploymentRevision { deployment: deployment.clone(), revision });
        }
        if let Some(image) = &w.image {
            checks.push(Check::DeploymentImage { deployment: deployment.clone(), image: image.clone() });
        }
        if let Some(min) = w.min_available {
            checks.push(Check::DeploymentMinAvailable { deployment: deployment.clone(), min });
        }
        if let Some(max) = w.max_pods {
            checks.push(Check::DeploymentMaxPods { deployment, max });
        }
    }
    Ok(())
}

/// `jobs:`: a Job's status (with its reason), its succeeded and failed pods, its most active.
fn job_checks(
    doc: &SimDoc<'_>,
    ex: &ExpectManifest,
    scenario: &Scenario,
    checks: &mut Vec<Check>,
) -> Result<(), LoadError> {
    for (key, want) in &ex.jobs {
        if !scenario.jobs.iter().any(|j| j.key() == *key) {
            return Err(doc.error(want, format!("expect names Job `{key}`, which is not in this scenario")));
        }
        let (w, job) = (&want.value, key.clone());
        if let Some(status) = &w.status {
            if !["Complete", "Failed", "Running"].contains(&status.value.as_str()) {
                return Err(
                    doc.error(status, format!("unknown Job status `{}` (Complete, Failed, Running)", status.value))
                );
            }
            let reason = w.reason.clone();
            checks.push(Check::JobStatus { job: job.clone(), status: status.value.clone(), reason });
        }
        if let Some(pods) = w.succeeded {
            checks.push(Check::JobSucceeded { job: job.clone(), pods });
        }
        if let Some(pods) = w.failed {
            checks.push(Check::JobFailed { job: job.clone(), pods });
        }
        if let Some(pods) = w.max_active {
            checks.push(Check::JobMaxActive { job, pods });
        }
    }
    Ok(())
}

/// `replicaSets:`: how many pods of a ReplicaSet (or a Deployment's) run.
fn replica_set_checks(
    doc: &SimDoc<'_>,
    ex: &ExpectManifest,
    scenario: &Scenario,
    checks: &mut Vec<Check>,
) -> Result<(), LoadError> {
    for (name, want) in &ex.replica_sets {
        if !scenario.replica_sets.iter().any(|r| r.name == *name)
            && !scenario.deployments.iter().any(|d| d.name == *name)
        {
            return Err(doc.error(want, format!("expect names ReplicaSet `{name}`, which is not in this scenario")));
        }
        checks.push(Check::ReplicasRunning { owner: name.clone(), running: want.value.running });
    }
    Ok(())
}

/// `cluster:`: how many pods are in each phase.
fn cluster_checks(doc: &SimDoc<'_>, ex: &ExpectManifest, checks: &mut Vec<Check>) -> Result<(), LoadError> {
    for (phase, count) in &ex.cluster {
        let phase = Phase::parse(phase).ok_or_else(|| {
            doc.error(count, format!("unknown phase `{phase}` (Pending, Running, Succeeded, Failed)"))
        })?;
        checks.push(Check::PodsInPhase { phase, count: count.value });
    }
    Ok(())
}

/// `events:`: how many records of a kind the run wrote, at least or at most.
fn record_checks(doc: &SimDoc<'_>, ex: &ExpectManifest, checks: &mut Vec<Check>) -> Result<(), LoadError> {
    for (kind, want) in &ex.events {
        let Some(kind) = crate::event::RECORD_KINDS.iter().find(|k| **k == kind.as_str()) else {
            return Err(doc.src.error_with_help(
                doc.at(want),
                format!("unknown record kind `{kind}`"),
                format!("kinds: {}", crate::event::RECORD_KINDS.join(", ")),
            ));
        };
        if want.value.min.is_none() && want.value.max.is_none() {
            return Err(doc.error(want, "give `min:`, `max:` or both"));
        }
        checks.push(Check::Records { kind, min: want.value.min, max: want.value.max });
    }
    Ok(())
}
