//! The Deployment controller: each revision of a Deployment's pod template is a ReplicaSet
//! `<deployment>-<pod-template-hash>` whose pods are `<replicaset>-<5 char suffix>`; a new
//! template is rolled out by its strategy (RollingUpdate within `maxSurge` and
//! `maxUnavailable`, or Recreate), `kubectl rollout undo` brings the previous revision's
//! ReplicaSet back up, and each ReplicaSet's pods are kept (self-healing), as the ReplicaSet
//! controller would for it.
//!
//! ReplicaSets are not objects of their own here: a ReplicaSet's size is its live pods plus
//! its creations in flight, so all the controller's state is rebuilt from the pod events it
//! receives (pods carry their owner and `pod-template-hash`) and the scenario's timed changes,
//! except creations and deletions in flight.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::work_queue::WorkQueue;
use podlab_cluster::apps::{
    DeploymentChange, DeploymentChangeKind, DeploymentSpec, DeploymentStrategy, POD_TEMPLATE_HASH_LABEL, SAFE_ALPHABET,
    pod_template_hash,
};
use podlab_cluster::rng::below;
use podlab_cluster::{Action, Context, Controller, Event, Note, Part, Pod, PodId, SimDuration, SimTime};

/// Timer tokens: a scheduled change of the Deployments' specs, a pod passing
/// `minReadySeconds`, and the sync of Deployments whose pods changed.
const CHANGE: u64 = 1;
const MIN_READY: u64 = 2;
const SYNC: u64 = 3;

/// A Deployment's spec from one instant on: what the fold of its timed changes gives.
#[derive(Clone, Debug)]
struct Version {
    at: SimTime,
    /// Its place among its Deployment's versions: what [`History`] is read as of.
    index: usize,
    replicas: u32,
    /// The template of the current revision, labelled with its hash and owned by its
    /// ReplicaSet.
    template: Arc<Pod>,
    hash: String,
    revision: u32,
    /// For a `rollout undo`: the revision it went back to, by its former number.
    rollback_of: Option<u32>,
}

/// A Deployment's ReplicaSets across all its versions, kept once: a copy in every version
/// made n timed changes cost n² (8,000 `setImage`s at one instant took minutes and GBs).
#[derive(Debug, Default)]
struct History {
    /// Each template hash's revision numbers (a ReplicaSet taken over is renumbered): from
    /// which version on it holds each, in version order.
    revisions: BTreeMap<String, Vec<(usize, u32)>>,
    /// Every ReplicaSet's pod template (labelled and owned), by hash: a proportional scaling
    /// may grow an old one.
    templates: BTreeMap<String, Arc<Pod>>,
}

impl History {
    /// The revision of ReplicaSet `hash` as of version `version` (0: none yet).
    fn revision(&self, hash: &str, version: usize) -> u32 {
        let Some(numbers) = self.revisions.get(hash) else { return 0 };
        let i = numbers.partition_point(|(from, _)| *from <= version);
        i.checked_sub(1).map_or(0, |i| numbers[i].1)
    }

    /// Every hash with its latest revision number.
    fn latest(&self) -> impl Iterator<Item = (&String, u32)> {
        self.revisions.iter().filter_map(|(h, numbers)| numbers.last().map(|(_, r)| (h, *r)))
    }
}

/// The versions of one Deployment, from its creation through its timed changes. Revisions
/// follow Kubernetes: a new template gets the next number; a template equal to an older
/// ReplicaSet's takes that ReplicaSet over and renumbers it; `rollout undo` goes back to the
/// template of the highest revision below the current one.
fn versions(spec: &DeploymentSpec, changes: &[&DeploymentChange]) -> (Vec<Version>, History) {
    let labelled = |template: &Pod, hash: &str| {
        let mut pod = template.clone();
        pod.labels.insert(POD_TEMPLATE_HASH_LABEL.into(), hash.to_string());
        pod.owner = Some(format!("{}-{hash}", spec.name));
        Arc::new(pod)
    };
    let hash = pod_template_hash(&spec.template);
    let mut templates: BTreeMap<String, Arc<Pod>> = BTreeMap::new();
    templates.insert(hash.clone(), spec.template.clone());
    let mut current = Version {
        at: SimTime::ZERO,
        index: 0,
        replicas: spec.replicas,
        template: labelled(&spec.template, &hash),
        hash: hash.clone(),
        revision: 1,
        rollback_of: None,
    };
    let mut history = History {
        revisions: [(hash.clone(), vec![(0, 1)])].into(),
        templates: [(hash.clone(), current.template.clone())].into(),
    };
    // Every new number is one above the highest so far: the last one given.
    let mut max_revision = 1;
    let mut out = vec![current.clone()];
    for change in changes {
        let mut next = current.clone();
        next.at = change.at;
        next.index = out.len();
        next.rollback_of = None;
        let target = match &change.change {
            DeploymentChangeKind::Scale { replicas } => {
                next.replicas = *replicas;
                None
            }
            DeploymentChangeKind::SetImage { container, image } => {
                let mut t = (*templates[&current.hash]).clone();
                t.containers[*container].image = image.clone();
                Some(Arc::new(t))
            }
            DeploymentChangeKind::RolloutUndo { to_revision } => {
                // The previous revision: the highest below the current one; or the one named
                // (none such: no-op, as kubectl's "no rollout history found" / "unable to find
                // specified revision").
                let previous = history
                    .latest()
                    .filter(|(_, r)| match to_revision {
                        Some(want) => *r == *want && *want != current.revision,
                        None => *r < current.revision,
                    })
                    .max_by_key(|(_, r)| *r)
                    .map(|(h, r)| (h.clone(), r));
                previous.map(|(h, r)| {
                    next.rollback_of = Some(r);
                    templates[&h].clone()
                })
            }
        };
        if let Some(t) = target {
            let h = pod_template_hash(&t);
            if h != current.hash {
                templates.entry(h.clone()).or_insert_with(|| t.clone());
                max_revision += 1;
                next.revision = max_revision;
                history.revisions.entry(h.clone()).or_default().push((next.index, next.revision));
                next.template = labelled(&t, &h);
                history.templates.entry(h.clone()).or_insert_with(|| next.template.clone());
                next.hash = h;
            } else {
                next.rollback_of = None;
            }
        }
        out.push(next.clone());
        current = next;
    }
    (out, history)
}

/// A pod of one of the Deployments, as the watch told it.
struct PodView {
    deployment: usize,
    hash: String,
    /// Parts bound (ideal control plane) or started (modelled), and how many it has.
    parts_up: usize,
    parts: usize,
    /// When it became available (every part up), before `minReadySeconds`.
    up_since: Option<SimTime>,
    /// A delete was asked for (in flight until its end is seen).
    deleting: bool,
    /// Whether some part was ever bound (unbound pods are deleted first on scale-down).
    bound: bool,
}

#[derive(Default)]
struct DeploymentState {
    /// Creations asked for and not yet seen, per ReplicaSet hash.
    creating: BTreeMap<String, u32>,
    /// The revision whose rollout start was noted, and whose completion.
    started: Option<u32>,
    completed: Option<u32>,
    /// Each ReplicaSet's size as last noted.
    noted_size: BTreeMap<String, u32>,
    /// The scaling event (a change of replicas alone) last applied, by its instant.
    scaled_at: Option<SimTime>,
}

pub struct DeploymentController {
    specs: Vec<DeploymentSpec>,
    /// Each Deployment's versions in time order, and its ReplicaSets across them.
    versions: Vec<Vec<Version>>,
    histories: Vec<History>,
    /// Every change instant, ascending.
    change_times: Vec<SimTime>,
    /// With a modelled control plane a pod is up when the kubelet started it; in the ideal
    /// one, when it is bound.
    modelled: bool,
    state: Vec<DeploymentState>,
    pods: BTreeMap<PodId, PodView>,
    names: BTreeSet<String>,
    /// The change instant a timer is set for.
    timer_for: Option<SimTime>,
    /// Deployments to sync (`work_queue.rs`).
    queue: WorkQueue,
}

impl DeploymentController {
    pub fn new(specs: Vec<DeploymentSpec>, changes: &[DeploymentChange], modelled: bool) -> DeploymentController {
        let mut by_deployment: Vec<Vec<&DeploymentChange>> = vec![Vec::new(); specs.len()];
        for c in changes {
            by_deployment[c.deployment].push(c);
        }
        let (versions, histories) = specs.iter().zip(&by_deployment).map(|(s, changes)| versions(s, changes)).unzip();
        let mut change_times: Vec<SimTime> = changes.iter().map(|c| c.at).collect();
        change_times.dedup();
        DeploymentController {
            state: specs.iter().map(|_| DeploymentState::default()).collect(),
            specs,
            versions,
            histories,
            change_times,
            modelled,
            pods: BTreeMap::new(),
            names: BTreeSet::new(),
            timer_for: None,
            queue: WorkQueue::new(SYNC),
        }
    }

    fn version(&self, d: usize, now: SimTime) -> &Version {
        // The last version from `now` or before (the first is at 0).
        let i = self.versions[d].partition_point(|v| v.at <= now);
        &self.versions[d][i.saturating_sub(1)]
    }

    /// Sets a timer for the next change instant, if none is set for it.
    fn arm(&mut self, ctx: &mut Context<'_>) {
        let now = ctx.now();
        if let Some(&next) = self.change_times.get(self.change_times.partition_point(|t| *t <= now))
            && self.timer_for != Some(next)
        {
            self.timer_for = Some(next);
            ctx.act(Action::SetTimer { at: next, token: CHANGE });
        }
    }

    fn available(&self, view: &PodView, d: usize, now: SimTime) -> bool {
        !view.deleting && view.up_since.is_some_and(|t| t + self.specs[d].min_ready <= now)
    }

    fn create(&mut self, d: usize, template: &Arc<Pod>, hash: &str, ctx: &mut Context<'_>) {
        let rs = template.owner.clone().expect("a Deployment template has its ReplicaSet");
        let name = loop {
            let suffix: String =
                (0..5).map(|_| SAFE_ALPHABET[below(ctx.rng(), SAFE_ALPHABET.len() as u64) as usize] as char).collect();
            let name = format!("{rs}-{suffix}");
            if self.names.insert(name.clone()) {
                break name;
            }
        };
        let mut pod = (**template).clone();
        pod.name = name.into();
        *self.state[d].creating.entry(hash.to_string()).or_insert(0) += 1;
        ctx.act(Action::CreatePod { spec: Arc::new(pod) });
    }

    /// Deletes `count` live pods of ReplicaSet `hash`, as the ReplicaSet controller picks
    /// them: never bound first, then not available, then the newest.
    fn delete(&mut self, d: usize, hash: &str, count: u32, now: SimTime, ctx: &mut Context<'_>) -> u32 {
        let mut victims: Vec<(bool, bool, std::cmp::Reverse<PodId>)> = self
            .pods
            .iter()
            .filter(|(_, v)| v.deployment == d && v.hash == hash && !v.deleting)
            .map(|(&p, v)| (v.bound, self.available(v, d, now), std::cmp::Reverse(p)))
            .collect();
        victims.sort();
        let mut deleted = 0;
        for (_, _, std::cmp::Reverse(pod)) in victims.into_iter().take(count as usize) {
            self.pods.get_mut(&pod).expect("listed").deleting = true;
            ctx.act(Action::Note(Note::DeletedPod { pod }));
            ctx.act(Action::Evict { pod });
            deleted += 1;
        }
        deleted
    }

    fn reconcile(&mut self, d: usize, ctx: &mut Context<'_>) {
        let now = ctx.now();
        let v = self.version(d, now).clone();
        if self.state[d].started != Some(v.revision) {
            self.state[d].started = Some(v.revision);
            ctx.act(Action::Note(Note::RolloutStarted {
                deployment: self.specs[d].key(),
                revision: v.revision,
                replicas: v.replicas,
                rollback_of: v.rollback_of,
            }));
        }
        // Per ReplicaSet: live pods (not being deleted), pods being deleted, available pods.
        let mut live: BTreeMap<String, u32> = BTreeMap::new();
        let mut deleting = 0u32;
        let mut available: BTreeMap<String, u32> = BTreeMap::new();
        for view in self.pods.values().filter(|p| p.deployment == d) {
            if view.deleting {
                deleting += 1;
                continue;
            }
            *live.entry(view.hash.clone()).or_insert(0) += 1;
            if self.available(view, d, now) {
                *available.entry(view.hash.clone()).or_insert(0) += 1;
            }
        }
        let creating = |h: &str, st: &DeploymentState| st.creating.get(h).copied().unwrap_or(0);
        let size = |h: &str, live: &BTreeMap<String, u32>, st: &DeploymentState| {
            live.get(h).copied().unwrap_or(0) + creating(h, st)
        };
        let old_hashes: Vec<String> = {
            // Oldest revision first: scaled down first.
            let mut old: Vec<(u32, String)> = live
                .keys()
                .chain(self.state[d].creating.keys())
                .filter(|h| **h != v.hash)
                .map(|h| (self.histories[d].revision(h, v.index), h.clone()))
                .collect();
            old.sort();
            old.dedup();
            old.into_iter().map(|(_, h)| h).collect()
        };
        let new_size = size(&v.hash, &live, &self.state[d]);
        let all_size: u32 = live.values().sum::<u32>() + self.state[d].creating.values().sum::<u32>();
        let (max_surge, max_unavailable) = self.specs[d].strategy.fenceposts(v.replicas);
        if self.proportional_scale(d, &v, &live, now, ctx) {
            // Sizes changed: decide the rest on the new picture, at a sync of its own.
            self.queue.mark(Some(d), self.specs.len(), ctx);
            return;
        }
        match self.specs[d].strategy {
            DeploymentStrategy::Recreate => {
                let old_left: u32 = old_hashes.iter().map(|h| size(h, &live, &self.state[d])).sum();
                if old_left > 0 {
                    for h in &old_hashes {
                        let n = live.get(h).copied().unwrap_or(0);
                        self.delete(d, h, n, now, ctx);
                    }
                } else if deleting == 0 {
                    // Every old pod is gone: the new ReplicaSet to its size.
                    for _ in new_size..v.replicas {
                        self.create(d, &v.template, &v.hash, ctx);
                    }
                    if new_size > v.replicas {
                        self.delete(d, &v.hash, new_size - v.replicas, now, ctx);
                    }
                }
            }
            DeploymentStrategy::RollingUpdate { .. } => {
                // Scale the new ReplicaSet up within the surge (pods being deleted still
                // count: they exist until their end is seen).
                if new_size > v.replicas {
                    self.delete(d, &v.hash, new_size - v.replicas, now, ctx);
                } else {
                    let max_total = v.replicas + max_surge;
                    let existing = all_size + deleting;
                    let up = max_total.saturating_sub(existing).min(v.replicas - new_size);
                    for _ in 0..up {
                        self.create(d, &v.template, &v.hash, ctx);
                    }
                }
                // Scale old ones down while enough stay available (Kubernetes'
                // reconcileOldReplicaSets: unhealthy pods first, then available ones).
                let min_available = v.replicas.saturating_sub(max_unavailable);
                let new_available = available.get(&v.hash).copied().unwrap_or(0);
                let new_unavailable = size(&v.hash, &live, &self.state[d]).saturating_sub(new_available);
                let mut budget = all_size.saturating_sub(min_available).saturating_sub(new_unavailable);
                for h in &old_hashes {
                    let unhealthy = live.get(h).copied().unwrap_or(0) - available.get(h).copied().unwrap_or(0);
                    let n = self.delete_unavailable(d, h, unhealthy.min(budget), now, ctx);
                    budget -= n;
                }
                let total_available: u32 = available.values().sum();
                let mut can = total_available.saturating_sub(min_available).min(budget);
                for h in &old_hashes {
                    if can == 0 {
                        break;
                    }
                    let n = available.get(h).copied().unwrap_or(0).min(can);
                    can -= self.delete(d, h, n, now, ctx);
                }
            }
        }
        self.note_progress(d, &v, now, ctx);
    }

    /// The rollout's steps as notes: each ReplicaSet whose size changed since last noted, and
    /// the rollout's completion (every pod of the new version, all available, none other).
    fn note_progress(&mut self, d: usize, v: &Version, now: SimTime, ctx: &mut Context<'_>) {
        let name = self.specs[d].name.clone();
        let creating = |h: &str, st: &DeploymentState| st.creating.get(h).copied().unwrap_or(0);
        let size = |h: &str, live: &BTreeMap<String, u32>, st: &DeploymentState| {
            live.get(h).copied().unwrap_or(0) + creating(h, st)
        };
        let mut live_now: BTreeMap<String, u32> = BTreeMap::new();
        for view in self.pods.values().filter(|p| p.deployment == d && !p.deleting) {
            *live_now.entry(view.hash.clone()).or_insert(0) += 1;
        }
        let hashes: BTreeSet<String> = live_now
            .keys()
            .chain(self.state[d].creating.keys())
            .chain(self.state[d].noted_size.keys())
            .cloned()
            .chain(std::iter::once(v.hash.clone()))
            .collect();
        for h in hashes {
            let n = size(&h, &live_now, &self.state[d]);
            if self.state[d].noted_size.get(&h) != Some(&n) {
                self.state[d].noted_size.insert(h.clone(), n);
                ctx.act(Action::Note(Note::ScaledReplicaSet { replica_set: format!("{name}-{h}"), replicas: n }));
            }
        }
        let others = self.pods.values().filter(|p| p.deployment == d && p.hash != v.hash).count();
        let new_pods = self.pods.values().filter(|p| p.deployment == d && p.hash == v.hash).count() as u32;
        let all_new_available =
            self.pods.values().filter(|p| p.deployment == d && p.hash == v.hash).all(|p| self.available(p, d, now));
        if others == 0
            && new_pods == v.replicas
            && all_new_available
            && creating(&v.hash, &self.state[d]) == 0
            && self.state[d].completed != Some(v.revision)
        {
            self.state[d].completed = Some(v.revision);
            ctx.act(Action::Note(Note::RolloutComplete { deployment: self.specs[d].key(), revision: v.revision }));
        }
    }

    /// Kubernetes' proportional scaling: when only `replicas` changed while a rolling update
    /// is under way (several ReplicaSets have pods and the new one is not yet all there), each
    /// ReplicaSet grows or shrinks in proportion to its size, so the rollout keeps its pace
    /// and the mix of versions its ratio; the leftover goes to the largest. Returns whether it
    /// scaled.
    fn proportional_scale(
        &mut self,
        d: usize,
        v: &Version,
        live: &BTreeMap<String, u32>,
        now: SimTime,
        ctx: &mut Context<'_>,
    ) -> bool {
        let DeploymentStrategy::RollingUpdate { .. } = self.specs[d].strategy else { return false };
        let before = self.versions[d].partition_point(|p| p.at < v.at);
        let Some(prev) = before.checked_sub(1).map(|i| &self.versions[d][i]) else { return false };
        if v.at != now || prev.hash != v.hash || prev.replicas == v.replicas || self.state[d].scaled_at == Some(now) {
            return false;
        }
        self.state[d].scaled_at = Some(now);
        let size = |h: &str| live.get(h).copied().unwrap_or(0) + self.state[d].creating.get(h).copied().unwrap_or(0);
        // Active ReplicaSets, larger first; ties: newer first to scale up, older to scale down.
        let mut active: Vec<(u32, u32, String)> = live
            .keys()
            .chain(self.state[d].creating.keys())
            .map(|h| (size(h), self.histories[d].revision(h, v.index), h.clone()))
            .filter(|(n, _, _)| *n > 0)
            .collect();
        active.sort();
        active.dedup();
        // One ReplicaSet: the normal sync sizes it. (The new one is never saturated at a
        // scaling event: its desired-replicas annotation is the old count.)
        if active.len() < 2 {
            return false;
        }
        let (surge, _) = self.specs[d].strategy.fenceposts(v.replicas);
        let (prev_surge, _) = self.specs[d].strategy.fenceposts(prev.replicas);
        let allowed = if v.replicas > 0 { i64::from(v.replicas + surge) } else { 0 };
        let annotated = i64::from(prev.replicas + prev_surge).max(1);
        let total: i64 = active.iter().map(|(n, _, _)| i64::from(*n)).sum();
        let to_add = allowed - total;
        if to_add == 0 {
            return false;
        }
        if to_add > 0 {
            active.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        } else {
            active.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        }
        let mut added = 0i64;
        let mut targets: Vec<i64> = Vec::with_capacity(active.len());
        for (n, _, _) in &active {
            let n = i64::from(*n);
            let fraction = if v.replicas == 0 {
                -n
            } else {
                // Rounded half away from zero, as Go's math.Round.
                (2 * n * allowed + annotated).div_euclid(2 * annotated) - n
            };
            let left = to_add - added;
            let proportion = if to_add > 0 { fraction.min(left) } else { fraction.max(left) };
            added += proportion;
            targets.push(n + proportion);
        }
        targets[0] = (targets[0] + to_add - added).max(0);
        for ((n, _, hash), target) in active.iter().zip(targets) {
            let n = i64::from(*n);
            if target > n {
                let template = self.histories[d].templates[hash].clone();
                for _ in n..target {
                    self.create(d, &template, hash, ctx);
                }
            } else if target < n {
                self.delete(d, hash, (n - target) as u32, now, ctx);
            }
        }
        true
    }

    /// Deletes up to `count` pods of ReplicaSet `hash` that are not available.
    fn delete_unavailable(&mut self, d: usize, hash: &str, count: u32, now: SimTime, ctx: &mut Context<'_>) -> u32 {
        let victims: Vec<PodId> = self
            .pods
            .iter()
            .filter(|(_, v)| v.deployment == d && v.hash == hash && !v.deleting && !self.available(v, d, now))
            .map(|(&p, _)| p)
            .rev()
            .take(count as usize)
            .collect();
        for pod in &victims {
            self.pods.get_mut(pod).expect("listed").deleting = true;
            ctx.act(Action::Note(Note::DeletedPod { pod: *pod }));
            ctx.act(Action::Evict { pod: *pod });
        }
        victims.len() as u32
    }

    /// A part of a pod is up (bound, or started): the pod is up once all its parts are.
    fn part_up(&mut self, pod: PodId, part: Part, spec_parts: impl Fn() -> usize, ctx: &mut Context<'_>) -> bool {
        let Some(view) = self.pods.get_mut(&pod) else { return false };
        if matches!(part, Part::Container(_)) {
            view.parts = spec_parts();
        }
        view.parts_up += 1;
        if view.parts_up >= view.parts && view.up_since.is_none() {
            view.up_since = Some(ctx.now());
            let min_ready = self.specs[view.deployment].min_ready;
            if min_ready > SimDuration::ZERO {
                ctx.act(Action::SetTimer { at: ctx.now() + min_ready, token: MIN_READY });
            }
            return true;
        }
        false
    }
}

impl Controller for DeploymentController {
    fn name(&self) -> &str {
        "deployment-controller"
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        let touched: Option<usize> = match event {
            Event::Timer { token: SYNC } => {
                for d in self.queue.take() {
                    self.reconcile(d, ctx);
                }
                self.arm(ctx);
                return;
            }
            Event::Start | Event::Timer { .. } => None,
            Event::Synced => {
                self.queue.synced();
                None
            }
            Event::PodAdded { pod, spec } => {
                self.names.insert(spec.name.to_string());
                let Some(d) = spec
                    .deployment()
                    .and_then(|name| self.specs.iter().position(|s| s.name == name && s.namespace == spec.namespace))
                else {
                    return;
                };
                let hash = spec.labels[POD_TEMPLATE_HASH_LABEL].clone();
                if let Some(n) = self.state[d].creating.get_mut(&hash) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.state[d].creating.remove(&hash);
                    }
                }
                self.pods.insert(
                    *pod,
                    PodView {
                        deployment: d,
                        hash,
                        parts_up: 0,
                        parts: 1,
                        up_since: None,
                        deleting: false,
                        bound: false,
                    },
                );
                Some(d)
            }
            Event::Bound { pod, part, .. } => {
                let Some(view) = self.pods.get_mut(pod) else { return };
                view.bound = true;
                let d = view.deployment;
                if self.modelled {
                    return;
                }
                let parts = self.specs[d].template.containers.len();
                if !self.part_up(*pod, *part, || parts, ctx) {
                    return;
                }
                Some(d)
            }
            Event::Started { pod, part, .. } => {
                let Some(view) = self.pods.get(pod) else { return };
                let d = view.deployment;
                let parts = self.specs[d].template.containers.len();
                if !self.modelled || !self.part_up(*pod, *part, || parts, ctx) {
                    return;
                }
                Some(d)
            }
            // A pod that stops (any part ending, or deleted unbound) is gone from its
            // ReplicaSet; the reconcile replaces it if it is still wanted.
            Event::Ended { pod, .. } | Event::PodDeleted { pod } => match self.pods.remove(pod) {
                Some(view) => Some(view.deployment),
                None => return,
            },
            _ => return,
        };
        self.queue.mark(touched, self.specs.len(), ctx);
        self.arm(ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use podlab_cluster::Resources;
    use podlab_cluster::apps::IntOrPercent;

    fn spec() -> DeploymentSpec {
        let mut t = Pod::single("web", Resources::default());
        t.containers[0].image = "web:v1".into();
        DeploymentSpec {
            namespace: "default".into(),
            name: "web".into(),
            replicas: 3,
            template: Arc::new(t),
            strategy: DeploymentStrategy::RollingUpdate {
                max_surge: IntOrPercent::Int(1),
                max_unavailable: IntOrPercent::Int(0),
            },
            min_ready: SimDuration::ZERO,
        }
    }

    fn change(at_s: u64, change: DeploymentChangeKind) -> DeploymentChange {
        DeploymentChange { at: SimTime::ZERO + SimDuration::from_secs(at_s), deployment: 0, change }
    }

    #[test]
    fn revisions_number_templates_and_undo_goes_back_to_the_previous_one() {
        let set = |image: &str| DeploymentChangeKind::SetImage { container: 0, image: image.into() };
        let changes = [
            change(60, set("web:v2")),
            change(120, DeploymentChangeKind::RolloutUndo { to_revision: None }),
            change(180, DeploymentChangeKind::Scale { replicas: 5 }),
            change(240, set("web:v2")),
        ];
        let (v, _) = versions(&spec(), &changes.iter().collect::<Vec<_>>());
        let revs: Vec<u32> = v.iter().map(|v| v.revision).collect();
        // v1 = 1, v2 = 2, undo takes v1's ReplicaSet over as 3, scaling keeps 3, v2 again is 4.
        assert_eq!(revs, [1, 2, 3, 3, 4]);
        assert_eq!(v[2].hash, v[0].hash, "undo brings back the first template");
        assert_eq!(v[2].rollback_of, Some(1));
        assert_eq!(v[4].hash, v[1].hash);
        assert_eq!(v[3].replicas, 5);
        assert_eq!(v[1].template.owner.as_deref(), Some(format!("web-{}", v[1].hash).as_str()));
        assert_eq!(v[1].template.deployment(), Some("web"));
    }

    /// Feeds events at `secs` and returns the actions, as the driver would.
    fn feed(
        c: &mut DeploymentController,
        rng: &mut rand_chacha::ChaCha8Rng,
        secs: u64,
        events: &[Event],
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        let sync = Event::Timer { token: SYNC };
        for e in events.iter().chain([&Event::Synced, &sync]) {
            let mut ctx = Context::new(SimTime::ZERO + SimDuration::from_secs(secs), rng, &mut actions);
            c.handle(e, &mut ctx);
        }
        actions
    }

    fn created(actions: &[Action]) -> Vec<Arc<Pod>> {
        actions
            .iter()
            .filter_map(|a| if let Action::CreatePod { spec } = a { Some(spec.clone()) } else { None })
            .collect()
    }

    fn evicted(actions: &[Action]) -> Vec<PodId> {
        actions.iter().filter_map(|a| if let Action::Evict { pod } = a { Some(*pod) } else { None }).collect()
    }

    /// A controller rebuilt mid-rollout from a relist of the pods (added, bound) takes the same
    /// next steps as the one that ran from the start: nothing only its past actions knew.
    #[test]
    fn a_controller_rebuilt_from_a_relist_resumes_the_rollout() {
        let set = DeploymentChangeKind::SetImage { container: 0, image: "web:v2".into() };
        let changes = [change(60, set)];
        let mut rng = podlab_cluster::rng::stream(1, "test");
        let mut first = DeploymentController::new(vec![spec()], &changes, false);
        let pods = created(&feed(&mut first, &mut rng, 0, &[Event::Start]));
        assert_eq!(pods.len(), 3);
        let node = podlab_cluster::NodeId(0);
        let mut relist = Vec::new();
        for (i, p) in pods.iter().enumerate() {
            let pod = PodId(i as u32);
            relist.push(Event::PodAdded { pod, spec: p.clone() });
            relist.push(Event::Bound { pod, part: Part::Whole, node });
        }
        let steady = feed(&mut first, &mut rng, 1, &relist);
        assert!(created(&steady).is_empty() && evicted(&steady).is_empty(), "{steady:?}");
        // The update: one surge pod, and no old pod deleted while it is not available.
        let surge = created(&feed(&mut first, &mut rng, 60, &[Event::Timer { token: CHANGE }]));
        assert_eq!(surge.len(), 1);
        assert_eq!(surge[0].containers[0].image, "web:v2");
        let added = Event::PodAdded { pod: PodId(3), spec: surge[0].clone() };
        assert!(created(&feed(&mut first, &mut rng, 61, std::slice::from_ref(&added))).is_empty());
        relist.push(added);
        // A fresh controller hears the relist: it creates nothing (the surge is used) and
        // deletes nothing (three available is the minimum).
        let mut rebuilt = DeploymentController::new(vec![spec()], &changes, false);
        let mut rng2 = podlab_cluster::rng::stream(2, "test");
        let actions = feed(&mut rebuilt, &mut rng2, 62, &relist);
        assert!(created(&actions).is_empty() && evicted(&actions).is_empty(), "{actions:?}");
        // The surge pod becomes available: both delete the same old pod (the newest), and create
        // its replacement only once its end is seen (a pod being deleted still counts against
        // maxSurge).
        let bound = Event::Bound { pod: PodId(3), part: Part::Whole, node };
        let a = feed(&mut first, &mut rng, 63, std::slice::from_ref(&bound));
        let b = feed(&mut rebuilt, &mut rng2, 63, &[bound]);
        assert_eq!(evicted(&a), [PodId(2)], "{a:?}");
        assert_eq!(evicted(&b), [PodId(2)], "{b:?}");
        assert!(created(&a).is_empty() && created(&b).is_empty());
        let ended = Event::Ended { pod: PodId(2), part: Part::Whole, node, phase: podlab_cluster::Phase::Failed };
        let a = feed(&mut first, &mut rng, 64, std::slice::from_ref(&ended));
        let b = feed(&mut rebuilt, &mut rng2, 64, &[ended]);
        for actions in [&a, &b] {
            assert_eq!(created(actions).len(), 1, "{actions:?}");
            assert!(evicted(actions).is_empty(), "{actions:?}");
        }
    }

    #[test]
    fn undo_without_history_changes_nothing() {
        let (v, _) = versions(&spec(), &[&change(60, DeploymentChangeKind::RolloutUndo { to_revision: None })]);
        assert_eq!((v[1].revision, v[1].rollback_of), (1, None));
    }

    /// `--to-revision`: back to a named revision, past the previous one; a revision not in
    /// the history changes nothing.
    #[test]
    fn undo_to_a_named_revision() {
        let set = |image: &str| DeploymentChangeKind::SetImage { container: 0, image: image.into() };
        let undo = |to| DeploymentChangeKind::RolloutUndo { to_revision: Some(to) };
        let changes =
            [change(60, set("web:v2")), change(120, set("web:v3")), change(180, undo(1)), change(240, undo(9))];
        let (v, _) = versions(&spec(), &changes.iter().collect::<Vec<_>>());
        assert_eq!(v[3].template.containers[0].image, "web:v1");
        assert_eq!((v[3].revision, v[3].rollback_of), (4, Some(1)));
        assert_eq!((v[4].revision, v[4].hash.as_str()), (4, v[3].hash.as_str()));
    }
}
