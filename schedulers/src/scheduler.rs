//! The scheduler as a Controller: an informer cache of nodes and pods fed by watch events, a
//! queue ordered by priority then arrival, and one scheduling cycle at a time, each taking the
//! configured decision time. The same code is three policies: `kubernetes` (the Pod is the
//! unit), `per-container` (each container is placed on its own, with the same filters and
//! scores) and `gang` (scheduler-plugins coscheduling: members of a PodGroup wait at Permit,
//! holding their reservations, until `minMember` of them are reserved).
//!
//! The queue is kube-scheduler's: `activeQ`, `backoffQ` (1 s doubling to 10 s per attempt,
//! flushed on a 1 s tick) and `unschedulablePods`, from which a cluster event moves a pod back
//! only when a plugin that rejected it says the event may help (queueing hints), and where no
//! pod stays past 5 minutes (flushed on a 30 s tick).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use podlab_cluster::config::KubeConfig;
use podlab_cluster::id_window::IdWindow;
use podlab_cluster::maybe::Maybe;
use podlab_cluster::{
    Action, BindRefusal, Context, Controller, Event, GroupId, JobRef, NodeId, Note, Part, Pod, PodGroup, PodId,
    Refused, Resources, SimDuration, SimTime,
};

use crate::framework::{FilterPlugin, Framework, Plugins, Unit};
use crate::kube::cache::KubeCache;
use crate::kube::cycle::CycleResult;
use crate::kube::nominator::Nominator;
use crate::kube::preemption::Preemption;
use crate::node_table::NodeTable;

/// Timer kinds, the top byte of a [`Token`].
const CYCLE: u64 = 1 << 56;
const PERMIT_TIMEOUT: u64 = 2 << 56;
const BACKOFF_OVER: u64 = 3 << 56;
/// kube-scheduler's periodic flushes: `flushBackoffQCompleted` every second and
/// `flushUnschedulablePodsLeftover` every 30 s.
const BACKOFF_TICK: u64 = 4 << 56;
const LEFTOVER_TICK: u64 = 5 << 56;
const BACKOFF_TICK_PERIOD: SimDuration = SimDuration::from_secs(1);
const LEFTOVER_TICK_PERIOD: SimDuration = SimDuration::from_secs(30);
/// `podMaxInUnschedulablePodsDuration`.
const MAX_IN_UNSCHEDULABLE: SimDuration = SimDuration::from_secs(300);

/// A timer's token as `Action::SetTimer` carries it, one `u64`: the kind in the top byte, then
/// (for a gang's timers) the group's generation modulo 2^24, then the group id, whole, in the
/// low 32 bits. The layout lives here only: [`Token::pack`] and [`Token::unpack`] are inverses
/// for every kind, group id and generation (tested), where group ids from 2^24 up once aliased
/// smaller ones. A generation is compared modulo 2^24 ([`Token::is_current`]): a stale permit
/// timeout passes for a live one only if its group's generation moved by a multiple of 2^24
/// (16.7 million waits and rejections) while it was pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Token {
    kind: u64,
    generation: u32,
    group: GroupId,
}

impl Token {
    const KIND: u64 = 0xFF << 56;
    const GENERATION: u32 = 0xFF_FFFF;

    /// A gang's timer of `kind`, for its `generation`.
    fn gang(kind: u64, generation: u32, group: GroupId) -> Token {
        assert_eq!(kind & !Self::KIND, 0, "a timer kind is the top byte only");
        Token { kind, generation: generation & Self::GENERATION, group }
    }

    fn pack(self) -> u64 {
        self.kind | (u64::from(self.generation) << 32) | u64::from(self.group.0)
    }

    fn unpack(token: u64) -> Token {
        let generation = (token >> 32) as u32 & Self::GENERATION;
        Token { kind: token & Self::KIND, generation, group: GroupId(token as u32) }
    }

    /// Whether the token was set at the group's `generation` (compared modulo 2^24).
    fn is_current(self, generation: u32) -> bool {
        self.generation == generation & Self::GENERATION
    }
}

/// One entry of the scheduling queue: higher priority first; then, so that a gang's members
/// stay together (coscheduling's QueueSort), the arrival of the group's first member; then
/// the pod's own arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct QueueKey {
    priority: Reverse<i32>,
    group_seq: u64,
    seq: u64,
    pod: PodId,
    part: Part,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    /// Kubernetes: the Pod is the atomic unit of placement.
    Pod,
    /// The naive design: every container is placed on its own.
    Container,
}

/// What the scheduler knows of a PodGroup.
#[derive(Default)]
struct GangState {
    spec: Option<Arc<PodGroup>>,
    /// Members seen so far (PreFilter rejects the group until `minMember` exist).
    members: u32,
    /// Members bound so far.
    bound: u32,
    /// Members reserved and waiting at Permit, with their nodes.
    waiting: Vec<(PodId, NodeId)>,
    /// Bumped at every new wait and every rejection, so stale timers are ignored.
    generation: u32,
    /// Members set aside until the group's backoff is over.
    backing_off: Vec<QueueKey>,
    first_seq: Option<u64>,
    /// The group's parts the cache holds on nodes (bound or reserved): PreFilter's resource
    /// check counts what they hold as free, as coscheduling's `getNodeResource` does.
    placed: Vec<(PodId, NodeId)>,
    /// Until when the group skips PreFilter's resource check, having passed it (coscheduling's
    /// `permittedPG`, kept for the permit waiting time and dropped when PostFilter rejects).
    permitted_until: Option<SimTime>,
}

/// A cycle in progress: the decision is taken on the cache at the start; it is carried out
/// when the decision time is over.
struct InFlight {
    key: QueueKey,
    outcome: Result<NodeId, Rejection>,
    /// The move-request count when the cycle began (kube's `moveRequestCycle` test).
    moves_at_start: u64,
}

/// Why a cycle placed nothing: the message, and the plugins that rejected the part.
#[derive(Clone, Debug)]
struct Rejection {
    message: String,
    plugins: Plugins,
    /// Coscheduling's PreFilter turned it away (its group lacks members).
    gang: bool,
    /// A plugin whose verdict other pods decide rejected it (InterPodAffinity,
    /// PodTopologySpread, NodePorts): a pod placed or gone anywhere may help.
    pods: bool,
}

impl Rejection {
    /// The kube profile's cycle that found no node among `nodes`: upstream's message, and its
    /// rejecting plugins as the queueing hints know them.
    fn of_cycle(cycle: &CycleResult, nodes: usize) -> Rejection {
        let mut rejection =
            Rejection { message: cycle.fit_error(nodes), plugins: Plugins::default(), gang: false, pods: false };
        let plugins = cycle.pre_filter.iter().map(|(p, _)| *p).chain(cycle.filtered.iter().map(|(_, p, _)| *p));
        for plugin in plugins {
            match plugin {
                "NodeUnschedulable" => rejection.plugins.insert(FilterPlugin::NodeUnschedulable),
                "TaintToleration" => rejection.plugins.insert(FilterPlugin::TaintToleration),
                "NodeAffinity" => rejection.plugins.insert(FilterPlugin::NodeAffinity),
                "NodeResourcesFit" => rejection.plugins.insert(FilterPlugin::NodeResourcesFit),
                _ => rejection.pods = true,
            }
        }
        rejection
    }
}

/// A part waiting in `unschedulablePods`.
#[derive(Clone, Copy, Debug)]
struct Parked {
    since: SimTime,
    plugins: Plugins,
    gang: bool,
    pods: bool,
}

/// The last failed decision, reused while nothing in the cache changes: a part with the same
/// requests and constraints would be filtered exactly the same way, node by node.
struct Memo {
    generation: u64,
    pod: Arc<Pod>,
    part: Part,
    rejection: Rejection,
}

/// Where each placed part is in the cache: whole pods in a window of ids (four bytes a pod in
/// flight, where a map took 26, and a column four for every pod of the run), containers
/// placed one by one (`per-container`) in a map.
#[derive(Default)]
struct Placements {
    /// The node of each pod placed whole.
    whole: IdWindow<Maybe<NodeId>>,
    containers: BTreeMap<(PodId, u16), NodeId>,
}

impl Placements {
    fn insert(&mut self, pod: PodId, part: Part, node: NodeId) {
        match part {
            Part::Whole => self.whole.insert(pod.index(), Maybe::some(node)),
            Part::Container(c) => {
                self.containers.insert((pod, c), node);
            }
        }
    }

    fn get(&self, pod: PodId, part: Part) -> Option<NodeId> {
        match part {
            Part::Whole => self.whole.get(pod.index()).and_then(|n| n.get()),
            Part::Container(c) => self.containers.get(&(pod, c)).copied(),
        }
    }

    fn remove(&mut self, pod: PodId, part: Part) -> Option<NodeId> {
        match part {
            Part::Whole => self.whole.remove(pod.index()).get(),
            Part::Container(c) => self.containers.remove(&(pod, c)),
        }
    }
}

/// A pod of `pods` (the scheduler's, by id), which holds every pod heard of and not yet done.
fn pod_ref(pods: &IdWindow<Option<Arc<Pod>>>, pod: PodId) -> &Arc<Pod> {
    pods.get(pod.index()).and_then(Option::as_ref).expect("the cache holds every pod it has heard of")
}

/// The same, shared: what the kube cache's snapshot takes of a placed pod (`PodOf`).
fn pod_of(pods: &IdWindow<Option<Arc<Pod>>>, pod: PodId) -> Arc<Pod> {
    pod_ref(pods, pod).clone()
}

pub struct Scheduler {
    name: String,
    granularity: Granularity,
    /// Coscheduling's Permit: PodGroup members wait for their gang.
    gang: bool,
    config: KubeConfig,
    framework: Framework,
    /// The node cache.
    nodes: NodeTable,
    /// The kube profile and its snapshot of the cluster (`kubernetes` without a GPU score
    /// plugin): decisions are the profile's. `None`: the framework's four filters and its
    /// strategy's score (`per-container`, `gang`, the GPU score plugins).
    kube: Option<Box<KubeCache>>,
    /// Preemption's books (nominations, terminating victims), the last cycle that found no
    /// node (for PostFilter) and the preemption the cycle in flight will carry out (see the
    /// preemption methods below).
    nominator: Nominator,
    failed_cycle: Option<Box<CycleResult>>,
    preempting: Option<(PodId, Box<Preemption>)>,
    /// Placements so far: the snapshot orders its pods' starts by it.
    placements: u64,
    /// Every pod heard of and not yet done (a done pod is never asked about again).
    pods: IdWindow<Option<Arc<Pod>>>,
    groups: BTreeMap<GroupId, GangState>,
    /// Where each part runs or is assumed to run, as the cache knows it.
    placed: Placements,
    /// Parts this scheduler bound and whose binding is not yet confirmed by a watch event.
    assumed: BTreeSet<(PodId, Part)>,
    active: BTreeSet<QueueKey>,
    /// Parts waiting out their backoff, by when it ends.
    backoff: BTreeSet<(SimTime, QueueKey)>,
    /// Parts that fit nowhere, waiting for an event that may help.
    unschedulable: BTreeMap<QueueKey, Parked>,
    /// The keys of `unschedulable` that NodeResourcesFit rejected, and those coscheduling's
    /// PreFilter rejected by group: the events that move them (resources freed, a new member)
    /// take them without scanning every parked part, which a big backlog makes costly.
    parked_fit: BTreeSet<QueueKey>,
    parked_gang: BTreeMap<GroupId, BTreeSet<QueueKey>>,
    /// The keys of `unschedulable` a pod's arrival or departure may help (see [`Rejection`]).
    parked_pods: BTreeSet<QueueKey>,
    /// Per part not yet placed: attempts so far and when its backoff ends.
    attempts: BTreeMap<(PodId, Part), (u32, SimTime)>,
    /// Cluster events that could move parts so far (kube's move requests).
    moves: u64,
    memo: Option<Memo>,
    /// The last group's `minResources` check, by cache generation: placing or removing any
    /// part (the group's own included) bumps the generation, so while it holds the check
    /// would find the same gap — and a flush retries a gang's members one after another.
    gap_memo: Option<(u64, GroupId, Option<String>)>,
    /// Pods deleted before they were bound: never queued again.
    deleted: BTreeSet<PodId>,
    in_flight: Option<InFlight>,
    cycle_armed: bool,
    backoff_tick_armed: bool,
    leftover_tick_armed: bool,
    next_seq: u64,
}

impl Scheduler {
    pub fn new(name: &str, granularity: Granularity, gang: bool, config: KubeConfig) -> Scheduler {
        Scheduler {
            name: name.to_string(),
            granularity,
            gang,
            framework: Framework::new(config.scoring),
            config,
            nodes: NodeTable::default(),
            kube: None,
            nominator: Nominator::default(),
            failed_cycle: None,
            preempting: None,
            placements: 0,
            pods: IdWindow::default(),
            groups: BTreeMap::new(),
            placed: Placements::default(),
            assumed: BTreeSet::new(),
            deleted: BTreeSet::new(),
            active: BTreeSet::new(),
            backoff: BTreeSet::new(),
            unschedulable: BTreeMap::new(),
            parked_fit: BTreeSet::new(),
            parked_gang: BTreeMap::new(),
            parked_pods: BTreeSet::new(),
            attempts: BTreeMap::new(),
            moves: 0,
            memo: None,
            gap_memo: None,
            in_flight: None,
            cycle_armed: false,
            backoff_tick_armed: false,
            leftover_tick_armed: false,
            next_seq: 0,
        }
    }

    /// Scores nodes with a GPU plugin instead of the scoring strategy (`gpu.rs`).
    pub fn with_gpu_scorer(mut self, plugin: Option<std::rc::Rc<crate::gpu::GpuScorer>>) -> Scheduler {
        self.framework.gpu = plugin;
        self
    }

    /// Decides with the kube profile of `cache` (which holds no nodes yet) instead of the
    /// framework — unless a GPU score plugin is configured, which keeps its own profile.
    pub fn with_kube_profile(mut self, cache: KubeCache) -> Scheduler {
        if self.framework.gpu.is_none() {
            self.nominator = Nominator::new(cache.preemption_args);
            self.kube = Some(Box::new(cache));
        }
        self
    }

    fn pod(&self, pod: PodId) -> &Arc<Pod> {
        pod_ref(&self.pods, pod)
    }

    /// The gang a pod belongs to under this policy (only `gang` treats groups as gangs).
    fn gang_of(&self, pod: PodId) -> Option<GroupId> {
        if self.gang { self.pod(pod).group() } else { None }
    }

    fn job_of(&self, pod: PodId) -> JobRef {
        self.pod(pod).group().map_or(JobRef::Pod(pod), JobRef::Group)
    }

    fn new_key(&mut self, pod: PodId, part: Part) -> QueueKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let group_seq = match self.gang_of(pod) {
            Some(g) => *self.groups.entry(g).or_default().first_seq.get_or_insert(seq),
            None => seq,
        };
        QueueKey { priority: Reverse(self.pod(pod).priority), group_seq, seq, pod, part }
    }

    fn enqueue(&mut self, pod: PodId, part: Part) {
        let key = self.new_key(pod, part);
        self.active.insert(key);
    }

    /// Into `activeQ`, or into `backoffQ` while the part's backoff lasts (kube's
    /// `isPodBackingoff`).
    fn activate_or_back_off(&mut self, key: QueueKey, ctx: &mut Context<'_>) {
        match self.attempts.get(&(key.pod, key.part)) {
            Some(&(_, until)) if until > ctx.now() => {
                self.backoff.insert((until, key));
                self.arm_tick(BACKOFF_TICK, ctx);
            }
            _ => {
                self.active.insert(key);
            }
        }
    }

    /// A cluster event: every parked part for which `helps` says the event may make it
    /// schedulable moves to `activeQ` or `backoffQ` (kube's queueing hints).
    fn cluster_event(&mut self, ctx: &mut Context<'_>, helps: impl Fn(&Self, &QueueKey, &Parked) -> bool) {
        self.moves += 1;
        let moved: Vec<QueueKey> =
            self.unschedulable.iter().filter(|(key, parked)| helps(self, key, parked)).map(|(key, _)| *key).collect();
        self.move_parked(moved, ctx);
    }

    /// Moves parked parts out of `unschedulablePods`, in key order.
    fn move_parked(&mut self, moved: Vec<QueueKey>, ctx: &mut Context<'_>) {
        for key in moved {
            self.unpark(&key);
            self.activate_or_back_off(key, ctx);
        }
    }

    fn park_unschedulable(&mut self, key: QueueKey, parked: Parked) {
        if parked.plugins.contains(FilterPlugin::NodeResourcesFit) {
            self.parked_fit.insert(key);
        }
        if parked.pods {
            self.parked_pods.insert(key);
        }
        if parked.gang {
            if let Some(g) = self.gang_of(key.pod) {
                self.parked_gang.entry(g).or_default().insert(key);
            }
        }
        self.unschedulable.insert(key, parked);
    }

    fn unpark(&mut self, key: &QueueKey) -> Option<Parked> {
        let parked = self.unschedulable.remove(key)?;
        self.parked_fit.remove(key);
        self.parked_pods.remove(key);
        if let Some(g) = self.gang_of(key.pod) {
            if let Some(keys) = self.parked_gang.get_mut(&g) {
                keys.remove(key);
                if keys.is_empty() {
                    self.parked_gang.remove(&g);
                }
            }
        }
        Some(parked)
    }

    /// Resources were freed on a node: NodeResourcesFit queues what it rejected, and so do
    /// the plugins other pods decide (a pod gone).
    fn resources_freed(&mut self, ctx: &mut Context<'_>) {
        self.moves += 1;
        let moved: Vec<QueueKey> = self.parked_fit.union(&self.parked_pods).copied().collect();
        self.move_parked(moved, ctx);
    }

    /// A pod was placed on a node: the plugins other pods decide queue what they rejected (an
    /// affinity term may now be met). Conservative: upstream's hints look at the pod first.
    fn pod_placed(&mut self, ctx: &mut Context<'_>) {
        if self.parked_pods.is_empty() {
            return;
        }
        self.moves += 1;
        let moved: Vec<QueueKey> = self.parked_pods.iter().copied().collect();
        self.move_parked(moved, ctx);
    }

    /// A new member of group `g`: coscheduling's hint queues the members its PreFilter
    /// turned away.
    fn member_added(&mut self, g: GroupId, ctx: &mut Context<'_>) {
        self.moves += 1;
        let moved: Vec<QueueKey> =
            self.parked_gang.get(&g).map(|keys| keys.iter().copied().collect()).unwrap_or_default();
        self.move_parked(moved, ctx);
    }

    /// A node joined or changed: a part moves if any plugin that rejected it now passes the
    /// node (each plugin's hint checks the node against the pod).
    fn node_changed(&mut self, node: NodeId, ctx: &mut Context<'_>) {
        self.cluster_event(ctx, |this, key, parked| {
            let Some(info) = this.nodes.get(node) else { return false };
            let spec = this.pod(key.pod);
            let unit = Unit::new(spec, key.part);
            parked.pods || parked.plugins.iter().any(|plugin| plugin.filter(&unit, info).is_ok())
        });
    }

    /// Takes a part — or, with `None`, every part of the pod — out of every queue.
    fn unqueue(&mut self, pod: PodId, part: Option<Part>) {
        let hit = |k: &QueueKey| k.pod == pod && part.is_none_or(|p| k.part == p);
        self.active.retain(|k| !hit(k));
        self.backoff.retain(|(_, k)| !hit(k));
        let parked: Vec<QueueKey> = self.unschedulable.keys().filter(|k| hit(k)).copied().collect();
        for key in parked {
            self.unpark(&key);
        }
        self.attempts.retain(|&(p, q), _| !(p == pod && part.is_none_or(|x| x == q)));
    }

    /// Accounts a part on a node of the cache.
    fn place(&mut self, pod: PodId, part: Part, node: NodeId) {
        let spec = self.pod(pod).clone();
        let unit = Unit::new(&spec, part);
        match &mut self.kube {
            Some(kube) => {
                self.placements += 1;
                kube.place(&mut self.nodes, pod, &spec, &unit, node, self.placements);
                self.nominator.placed(spec.priority);
            }
            None => self.nodes.add(node, &unit),
        }
        self.placed.insert(pod, part, node);
        if let Some(g) = self.gang_of(pod) {
            self.groups.entry(g).or_default().placed.push((pod, node));
        }
    }

    fn unplace(&mut self, pod: PodId, part: Part) {
        let Some(node) = self.placed.remove(pod, part) else { return };
        let spec = self.pod(pod).clone();
        let unit = Unit::new(&spec, part);
        match &mut self.kube {
            Some(kube) => {
                kube.unplace(&mut self.nodes, pod, &unit, node);
                self.nominator.unplaced(spec.priority);
            }
            None => self.nodes.remove(node, &unit),
        }
        if let Some(g) = self.gang_of(pod) {
            let state = self.groups.entry(g).or_default();
            if let Some(i) = state.placed.iter().position(|&(p, _)| p == pod) {
                state.placed.swap_remove(i);
            }
        }
    }

    /// Arms a periodic flush at its next tick (ticks fall on multiples of the period).
    fn arm_tick(&mut self, kind: u64, ctx: &mut Context<'_>) {
        let (armed, period) = match kind {
            BACKOFF_TICK => (&mut self.backoff_tick_armed, BACKOFF_TICK_PERIOD),
            _ => (&mut self.leftover_tick_armed, LEFTOVER_TICK_PERIOD),
        };
        if !*armed {
            *armed = true;
            let period = period.as_nanos();
            let at = SimTime((ctx.now().as_nanos() / period + 1) * period);
            ctx.act(Action::SetTimer { at, token: kind });
        }
    }

    /// Filter and score on the cache, or reuse the last failure if neither the cache nor the
    /// part's constraints differ from it.
    fn decide(&mut self, pod: &Arc<Pod>, part: Part, ctx: &mut Context<'_>) -> Result<NodeId, Rejection> {
        let unit = Unit::new(pod, part);
        if let Some(memo) = &self.memo {
            // The kube profile reads everything of the spec (labels, namespace, owner, terms).
            let same = match self.kube {
                Some(_) => Arc::ptr_eq(&memo.pod.spec, &pod.spec) || memo.pod.spec == pod.spec,
                None => same_constraints(&unit, &Unit::new(&memo.pod, memo.part)),
            };
            if memo.generation == self.nodes.generation() && same {
                return Err(memo.rejection.clone());
            }
        }
        let percentage = self.config.percentage_of_nodes_to_score;
        let pods = &self.pods;
        let outcome = match &mut self.kube {
            Some(kube) => {
                kube.decide(&mut self.nodes, pod, percentage, ctx.rng(), &|id| pod_of(pods, id)).map_err(|cycle| {
                    let rejection = Rejection::of_cycle(&cycle, self.nodes.len());
                    self.failed_cycle = Some(cycle);
                    rejection
                })
            }
            None => self.nodes.select(&self.framework, &unit, percentage, ctx.rng()).map_err(|d| Rejection {
                message: d.to_string(),
                plugins: d.plugins,
                gang: false,
                pods: false,
            }),
        };
        if let Err(rejection) = &outcome {
            let generation = self.nodes.generation();
            self.memo = Some(Memo { generation, pod: pod.clone(), part, rejection: rejection.clone() });
        }
        outcome
    }

    /// kube-scheduler v1.35's `SchedulerPopFromBackoffQ` (beta, on by default): with `activeQ`
    /// empty, the next cycle takes the head of `backoffQ` rather than wait out its backoff
    /// (`activeQueue.unlockedPop`). The kube profile's scheduler only; the others keep the
    /// queue of the releases before.
    fn pops_from_backoff(&self) -> bool {
        self.kube.is_some()
    }

    fn arm(&mut self, ctx: &mut Context<'_>) {
        let ready = !self.active.is_empty() || (self.pops_from_backoff() && !self.backoff.is_empty());
        if !self.cycle_armed && self.in_flight.is_none() && ready {
            self.cycle_armed = true;
            ctx.act(Action::SetTimer { at: ctx.now(), token: CYCLE });
        }
    }

    /// PreFilter of coscheduling: a gang is not tried until `minMember` of its pods exist, nor,
    /// when its PodGroup states `minResources`, while the cluster's free resources (counting
    /// what the group itself holds as free) cannot hold them and `minMember` more pods. A group
    /// that passed the resource check skips it for the permit waiting time (`permittedPG`).
    fn gang_pre_filter(&mut self, pod: PodId, now: SimTime) -> Result<(), Rejection> {
        let Some(g) = self.gang_of(pod) else { return Ok(()) };
        let state = &self.groups[&g];
        let min = state.spec.as_ref().map_or(1, |s| s.min_member);
        if state.members < min {
            let message = format!("pod group has {} of its minMember {min} pods", state.members);
            return Err(Rejection { message, plugins: Plugins::default(), gang: true, pods: false });
        }
        let Some(min_resources) = state.spec.as_ref().and_then(|s| s.min_resources.as_ref()) else { return Ok(()) };
        if state.permitted_until.is_some_and(|until| until > now) {
            return Ok(());
        }
        let generation = self.nodes.generation();
        let gap = match &self.gap_memo {
            Some((at, group, gap)) if *at == generation && *group == g => gap.clone(),
            _ => {
                let gap = self.resource_gap(g, min_resources, min);
                self.gap_memo = Some((generation, g, gap.clone()));
                gap
            }
        };
        if let Some(gap) = gap {
            let message = format!("pod group's minResources exceed the cluster's free resources: resource gap {gap}");
            return Err(Rejection { message, plugins: Plugins::default(), gang: true, pods: false });
        }
        let until = now + self.config.permit_waiting_time;
        self.groups.get_mut(&g).expect("known group").permitted_until = Some(until);
        Ok(())
    }

    /// Coscheduling's `CheckClusterResource`: node by node, the free resources (allocatable
    /// less requested, the group's own parts not counted as requested) are taken off what the
    /// group asks for; a resource is settled once covered, and later nodes — even overcommitted
    /// ones — cannot unsettle it. What is left uncovered after the last node is the gap.
    fn resource_gap(&self, g: GroupId, min_resources: &Resources, min_member: u32) -> Option<String> {
        let own = &self.groups[&g].placed;
        // What is still needed, by resource; `pods` is always asked for, as many as `minMember`.
        let mut need: Vec<(Need<'_>, i128)> = Vec::new();
        if min_resources.cpu_milli > 0 {
            need.push((Need::Cpu, i128::from(min_resources.cpu_milli)));
        }
        if min_resources.memory_bytes > 0 {
            need.push((Need::Memory, i128::from(min_resources.memory_bytes)));
        }
        for (name, &value) in &min_resources.extended {
            if value > 0 {
                need.push((Need::Other(name), i128::from(value)));
            }
        }
        need.push((Need::Pods, i128::from(min_member)));
        for info in self.nodes.iter() {
            let alloc = &info.spec.allocatable;
            let mut used =
                [i128::from(info.requested.cpu_milli), i128::from(info.requested.memory_bytes), i128::from(info.parts)];
            let mine: Vec<&Pod> =
                own.iter().filter(|&&(_, node)| node == info.id).map(|&(pod, _)| &**self.pod(pod)).collect();
            for pod in &mine {
                let r = pod.part_requests(Part::Whole);
                used[0] -= i128::from(r.cpu_milli);
                used[1] -= i128::from(r.memory_bytes);
                used[2] -= 1;
            }
            need.retain_mut(|(kind, still)| {
                *still -= match kind {
                    Need::Cpu => i128::from(alloc.cpu_milli) - used[0],
                    Need::Memory => i128::from(alloc.memory_bytes) - used[1],
                    Need::Pods => i128::from(info.spec.max_pods) - used[2],
                    Need::Other(name) => {
                        let mine: u64 = mine.iter().map(|p| p.part_requests(Part::Whole).get(name)).sum();
                        i128::from(alloc.get(name)) - i128::from(info.requested.get(name)) + i128::from(mine)
                    }
                };
                *still > 0
            });
            if need.is_empty() {
                return None;
            }
        }
        let gap: Vec<String> = need
            .iter()
            .map(|(kind, still)| match kind {
                Need::Cpu => format!("cpu: {still}m"),
                Need::Memory => format!("memory: {still}"),
                Need::Pods => format!("pods: {still}"),
                Need::Other(name) => format!("{name}: {still}"),
            })
            .collect();
        Some(gap.join(", "))
    }

    /// Starts a scheduling cycle: the head of the queue is filtered and scored against the
    /// cache now; the scheduler stays busy for the decision time.
    fn start_cycle(&mut self, ctx: &mut Context<'_>) {
        let popped = match self.active.pop_first() {
            Some(key) => Some(key),
            // backoffQ's head: the earliest backoff's end, then the queue's order.
            None if self.pops_from_backoff() => self.backoff.pop_first().map(|(_, key)| key),
            None => None,
        };
        let Some(key) = popped else { return };
        let spec = self.pod(key.pod).clone();
        let attempts = self.attempts.entry((key.pod, key.part)).or_insert((0, SimTime::ZERO));
        attempts.0 += 1;
        let outcome = match self.nominated_first(key.pod, &spec) {
            Some(node) => Ok(node),
            None => self.gang_pre_filter(key.pod, ctx.now()).and_then(|()| self.decide(&spec, key.part, ctx)),
        };
        let outcome = outcome.map_err(|rejection| self.post_filter(key.pod, &spec, rejection, ctx));
        if let Ok(node) = outcome {
            // Reserve: the cache holds the part on its node from now on.
            self.place(key.pod, key.part, node);
        }
        let busy = self.config.decision.for_tasks(1);
        ctx.act(Action::Note(Note::Attempt { job: self.job_of(key.pod), tasks: 1, busy }));
        self.in_flight = Some(InFlight { key, outcome, moves_at_start: self.moves });
        ctx.act(Action::SetTimer { at: ctx.now() + busy, token: CYCLE });
    }

    /// A failed part waits: in `backoffQ` if a move request came during its cycle (the event
    /// may already have helped), else in `unschedulablePods`. Either way its backoff restarts:
    /// 1 s, doubling with every attempt, at most 10 s.
    fn park(&mut self, key: QueueKey, rejection: &Rejection, moved: bool, ctx: &mut Context<'_>) {
        let now = ctx.now();
        let entry = self.attempts.entry((key.pod, key.part)).or_insert((1, now));
        let shift = entry.0.saturating_sub(1).min(32);
        let backoff = SimDuration(
            self.config
                .pod_initial_backoff
                .as_nanos()
                .saturating_mul(1 << shift)
                .min(self.config.pod_max_backoff.as_nanos()),
        );
        entry.1 = now + backoff;
        if moved {
            self.backoff.insert((entry.1, key));
            self.arm_tick(BACKOFF_TICK, ctx);
        } else {
            let parked = Parked { since: now, plugins: rejection.plugins, gang: rejection.gang, pods: rejection.pods };
            self.park_unschedulable(key, parked);
            self.arm_tick(LEFTOVER_TICK, ctx);
        }
    }

    /// Ends the cycle in flight: Permit and Bind, or report the pod unschedulable.
    fn finish_cycle(&mut self, ctx: &mut Context<'_>) {
        let Some(InFlight { key, outcome, moves_at_start }) = self.in_flight.take() else { return };
        let job = self.job_of(key.pod);
        ctx.act(Action::Note(Note::AttemptDone { job, placed: u32::from(outcome.is_ok()), conflicts: 0 }));
        match outcome {
            Ok(node) => match self.gang_of(key.pod) {
                None => self.bind(key.pod, key.part, node, ctx),
                Some(g) => self.permit(g, key.pod, node, ctx),
            },
            Err(rejection) => {
                let message = rejection.message.clone();
                ctx.act(Action::ReportUnschedulable { pod: key.pod, part: key.part, message });
                self.park(key, &rejection, self.moves != moves_at_start, ctx);
                self.carry_out_preemption(key, ctx);
                if let Some(g) = self.gang_of(key.pod) {
                    // Coscheduling's PostFilter: a member that cannot fit releases the gang's
                    // waiting members rather than let them hold resources in vain — unless at
                    // most 10% of `minMember` is missing, when the members keep waiting for a
                    // later member to fit (and may time out at Permit instead).
                    let state = &self.groups[&g];
                    let min = state.spec.as_ref().map_or(1, |s| s.min_member);
                    let assigned = state.bound + state.waiting.len() as u32;
                    if min.saturating_sub(assigned) * 10 > min {
                        // DeletePermittedPodGroup: the next attempt checks resources again.
                        self.groups.get_mut(&g).expect("known group").permitted_until = None;
                        self.reject_gang(g, ctx);
                    }
                }
            }
        }
    }

    fn bind(&mut self, pod: PodId, part: Part, node: NodeId, ctx: &mut Context<'_>) {
        self.assumed.insert((pod, part));
        ctx.act(Action::Bind { pod, part, node });
    }

    /// Coscheduling's Permit: wait until `minMember` members are bound or waiting, then let
    /// them all through.
    fn permit(&mut self, g: GroupId, pod: PodId, node: NodeId, ctx: &mut Context<'_>) {
        let state = self.groups.get_mut(&g).expect("a gang member's group is known");
        let spec = state.spec.clone();
        let min = spec.as_ref().map_or(1, |s| s.min_member);
        state.waiting.push((pod, node));
        if state.bound + state.waiting.len() as u32 >= min {
            let ready = std::mem::take(&mut state.waiting);
            state.generation += 1;
            for (p, n) in ready {
                self.bind(p, Part::Whole, n, ctx);
            }
            return;
        }
        ctx.act(Action::Note(Note::Reserved { pod, part: Part::Whole, node }));
        if state.waiting.len() == 1 {
            state.generation += 1;
            let timeout = spec.and_then(|s| s.schedule_timeout).unwrap_or(self.config.permit_waiting_time);
            let at = ctx.now() + timeout;
            ctx.act(Action::SetTimer { at, token: Token::gang(PERMIT_TIMEOUT, state.generation, g).pack() });
        }
    }

    /// Rejects every waiting member of a gang: reservations released, members backed off.
    fn reject_gang(&mut self, g: GroupId, ctx: &mut Context<'_>) {
        let state = self.groups.get_mut(&g).expect("known group");
        state.generation += 1;
        let waiting = std::mem::take(&mut state.waiting);
        let generation = state.generation;
        for &(pod, node) in &waiting {
            ctx.act(Action::Note(Note::Released { pod, part: Part::Whole, node }));
            self.unplace(pod, Part::Whole);
        }
        // The members wait out the group's backoff, then try again.
        let mut keys: Vec<QueueKey> = waiting
            .iter()
            .map(|&(pod, _)| {
                let seq = self.next_seq;
                self.next_seq += 1;
                let state = &self.groups[&g];
                QueueKey {
                    priority: Reverse(self.pod(pod).priority),
                    group_seq: state.first_seq.unwrap_or(seq),
                    seq,
                    pod,
                    part: Part::Whole,
                }
            })
            .collect();
        let state = self.groups.get_mut(&g).expect("known group");
        state.backing_off.append(&mut keys);
        if !state.backing_off.is_empty() {
            let at = ctx.now() + self.config.group_backoff;
            ctx.act(Action::SetTimer { at, token: Token::gang(BACKOFF_OVER, generation, g).pack() });
        }
    }

    fn timer(&mut self, token: u64, ctx: &mut Context<'_>) {
        let token = Token::unpack(token);
        let g = token.group;
        match token.kind {
            CYCLE => {
                if self.in_flight.is_some() {
                    self.finish_cycle(ctx);
                } else {
                    self.cycle_armed = false;
                    self.start_cycle(ctx);
                }
            }
            PERMIT_TIMEOUT => {
                let Some(state) = self.groups.get(&g) else { return };
                if token.is_current(state.generation) && !state.waiting.is_empty() {
                    ctx.act(Action::Note(Note::GroupTimedOut { group: g }));
                    self.reject_gang(g, ctx);
                }
            }
            BACKOFF_OVER => {
                if let Some(state) = self.groups.get_mut(&g) {
                    self.active.extend(state.backing_off.drain(..));
                }
            }
            BACKOFF_TICK => {
                self.backoff_tick_armed = false;
                while let Some(&(until, key)) = self.backoff.first() {
                    if until > ctx.now() {
                        break;
                    }
                    self.backoff.pop_first();
                    self.active.insert(key);
                }
                if !self.backoff.is_empty() {
                    self.arm_tick(BACKOFF_TICK, ctx);
                }
            }
            LEFTOVER_TICK => {
                self.leftover_tick_armed = false;
                let now = ctx.now();
                let stale: Vec<QueueKey> = self
                    .unschedulable
                    .iter()
                    .filter(|(_, parked)| now.since(parked.since) > MAX_IN_UNSCHEDULABLE)
                    .map(|(key, _)| *key)
                    .collect();
                self.move_parked(stale, ctx);
                if !self.unschedulable.is_empty() {
                    self.arm_tick(LEFTOVER_TICK, ctx);
                }
            }
            _ => {}
        }
    }
}

// Preemption in the scheduler controller (the `kubernetes` policy's kube profile), as
// kube-scheduler v1.35 runs it (`pkg/scheduler/schedule_one.go`, DefaultPreemption, and
// KEP-4832's asynchronous preemption, on by default since v1.33):
//
// - a pod nominated by an earlier preemption tries its nominated node first
//   (`evaluateNominatedNode`); if the node takes it, the cycle binds it there unscored;
// - a cycle that finds no node runs PostFilter: DefaultPreemption's dry run on the cache; when
//   nothing can be preempted the FailedScheduling message ends with PostFilter's, as upstream's
//   does — except where no placed pod has a lower priority at all (a run without priorities
//   logs what it logged before preemption was modelled);
// - at the cycle's end a successful preemption nominates the pod (the nominator), sends one
//   `Action::Preempt` that deletes the victims gracefully, clears the lower-priority
//   nominations on that node and queues those pods again; the pod waits in
//   `unschedulablePods` until the victims' deletion frees the room;
// - pods nominated and not bound hold their room in every other cycle's filters
//   (`RunFilterPluginsWithNominatedPods`, through the kube cache's nominated pods);
// - a nomination ends when its pod is bound or gone; a victim stops counting as terminating
//   when it has ended.
//
// Simplified: the pod is not kept out of the queue while the deletions are in flight
// (upstream's PreEnqueue gate, `IsPodRunningPreemption`); if an event moves it meanwhile, its
// attempt finds its nominated node still full and PostFilter declines again (the victims are
// terminating), which costs an attempt and changes no decision. The PodDisruptionBudgets'
// status is computed from the scheduler's cache when preemption runs (see
// `kube::nominator::Nominator::disruptions_allowed`), where upstream reads the disruption
// controller's.
impl Scheduler {
    /// `evaluateNominatedNode`: the node `pod` is nominated to, if the filters (with the other
    /// nominated pods of at least its priority) take it there now.
    fn nominated_first(&mut self, pod: PodId, spec: &Arc<Pod>) -> Option<NodeId> {
        let kube = self.kube.as_mut()?;
        self.nominator.nominated_node(pod)?;
        kube.use_profile_for(spec);
        let pods = &self.pods;
        let (profile, snapshot) = kube.profile_and_snapshot(&self.nodes, &|id| pod_of(pods, id));
        self.nominator.try_nominated_node(profile, pod, spec, snapshot)?.ok()
    }

    /// PostFilter after a failed kube cycle of `pod`: DefaultPreemption's dry run. Returns the
    /// rejection, its message followed by PostFilter's when nothing can be preempted; a
    /// preemption found waits for the cycle's end ([`Scheduler::carry_out_preemption`]).
    fn post_filter(
        &mut self,
        pod: PodId,
        spec: &Arc<Pod>,
        mut rejection: Rejection,
        ctx: &mut Context<'_>,
    ) -> Rejection {
        self.preempting = None;
        let (Some(kube), Some(cycle)) = (self.kube.as_mut(), self.failed_cycle.as_deref()) else { return rejection };
        if rejection.gang {
            return rejection;
        }
        // The pod's profile (a failure reused from the memo ran no cycle to put it in use), with
        // its DefaultPreemption arguments.
        kube.use_profile_for(spec);
        self.nominator.args = kube.preemption_args;
        let pods = &self.pods;
        let (profile, snapshot) = kube.profile_and_snapshot(&self.nodes, &|id| pod_of(pods, id));
        let placed = &self.placed;
        let pending = self
            .pods
            .iter()
            .filter(|&(id, _)| placed.get(PodId(id as u32), Part::Whole).is_none())
            .filter_map(|(_, p)| p.as_deref());
        let post = self.nominator.post_filter(profile, pod, spec, cycle, snapshot, pending, ctx.rng());
        if !post.message.is_empty() {
            rejection.message.push(' ');
            rejection.message.push_str(&post.message);
        }
        self.preempting = post.preemption.map(|p| (pod, Box::new(p)));
        rejection
    }

    /// At the end of a cycle whose PostFilter found a preemption: the pod is nominated, the
    /// victims deleted through the API, and the lower-priority pods nominated to that node lose
    /// their nomination and are queued again (upstream moves them to `activeQ`).
    fn carry_out_preemption(&mut self, key: QueueKey, ctx: &mut Context<'_>) {
        let Some((pod, preemption)) = self.preempting.take() else { return };
        if pod != key.pod {
            return;
        }
        let spec = self.pod(pod).clone();
        let (action, cleared) = self.nominator.nominate(pod, spec, &preemption);
        ctx.act(action);
        self.nominations_changed();
        let parked: Vec<QueueKey> = self.unschedulable.keys().filter(|k| cleared.contains(&k.pod)).copied().collect();
        for key in parked {
            self.unpark(&key);
            self.active.insert(key);
        }
    }

    /// A pod bound, ended or deleted: nominated nowhere any more, and no longer terminating.
    fn preemption_forget(&mut self, pod: PodId) {
        if self.nominator.nominated_node(pod).is_some() || self.nominator.is_terminating(pod) {
            self.nominator.forget(pod);
            self.nominations_changed();
        }
    }

    /// The nominations changed: the cycles' filters see the new ones, and no failure decided
    /// without them is reused.
    fn nominations_changed(&mut self) {
        self.memo = None;
        if let Some(kube) = &mut self.kube {
            kube.nominated_pods = self.nominator.nominated_pods();
            kube.nominated = kube.nominated_pods.len();
        }
    }
}

impl Controller for Scheduler {
    fn name(&self) -> &str {
        &self.name
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        match event {
            Event::NodeAdded { node, spec } => {
                self.nodes.upsert(*node, spec.clone());
                if let Some(kube) = &mut self.kube {
                    kube.upsert_node(*node, spec.clone());
                }
                self.node_changed(*node, ctx);
            }
            // Only gangs have books (a pod-atomic policy places a group's members as any
            // pods; the Google cell's day has 780k groups).
            Event::GroupAdded { group, spec } if self.gang => {
                self.groups.entry(*group).or_default().spec = Some(spec.clone());
                // Its minResources may differ from what the memo was computed with.
                self.gap_memo = None;
            }
            Event::GroupAdded { .. } => {}
            Event::PodAdded { pod, spec } => {
                self.pods.insert(pod.index(), Some(spec.clone()));
                if spec.node_name().is_some() {
                    return; // bound by name: not the scheduler's to place
                }
                if self.kube.as_ref().is_some_and(|kube| !kube.responsible_for(spec)) {
                    return; // its schedulerName names none of our profiles: another's to place
                }
                if let Some(g) = self.gang_of(*pod) {
                    self.groups.entry(g).or_default().members += 1;
                    // A new member may complete a gang PreFilter turned away (coscheduling's
                    // hint: a pod of the same group was added).
                    self.member_added(g, ctx);
                }
                for part in spec.parts(self.granularity == Granularity::Container) {
                    self.enqueue(*pod, part);
                }
            }
            Event::Bound { pod, part, node } => {
                // Our own binding confirmed, or another's to account for — or another's that
                // won over our assumption (an earlier incarnation's, sent before a crash):
                // the pod is where the binding says, not where we assumed it.
                let ours = self.assumed.remove(&(*pod, *part)) && self.placed.get(*pod, *part) == Some(*node);
                if !ours {
                    self.unplace(*pod, *part);
                    self.place(*pod, *part, *node);
                    // Nothing left to schedule for it (a restart's list shows the pod, then its
                    // binding): out of the queues.
                    self.unqueue(*pod, Some(*part));
                }
                self.attempts.remove(&(*pod, *part));
                if let Some(g) = self.gang_of(*pod) {
                    self.groups.entry(g).or_default().bound += 1;
                }
                self.pod_placed(ctx);
                self.preemption_forget(*pod);
            }
            Event::BindRefused(refused) => {
                let Refused { pod, part, reason, .. } = &**refused;
                // The cache was wrong: forget the assumption and try again after a backoff, as
                // kube's `handleSchedulingFailure` does with a binding error — unless the part
                // is bound already (409: its binding shows where, and it is done) or the pod
                // is gone.
                if self.assumed.remove(&(*pod, *part)) {
                    self.unplace(*pod, *part);
                }
                if *reason != BindRefusal::AlreadyBound && !self.deleted.contains(pod) {
                    let key = self.new_key(*pod, *part);
                    let rejection =
                        Rejection { message: String::new(), plugins: Plugins::default(), gang: false, pods: false };
                    self.park(key, &rejection, true, ctx);
                }
            }
            Event::PodDeleted { pod } => {
                // Deleted while pending: out of every queue.
                self.deleted.insert(*pod);
                self.unqueue(*pod, None);
                self.preemption_forget(*pod);
            }
            Event::Ended { pod, part, .. } => {
                self.unplace(*pod, *part);
                if *part == Part::Whole {
                    // Done: nothing of this pod is queued, placed or asked about again, and
                    // its spec is the larger part of what a pod of the run costs.
                    self.pods.remove(pod.index());
                }
                self.preemption_forget(*pod);
                self.resources_freed(ctx);
            }
            Event::NodeUpdated { node, spec } => {
                if self.nodes.get(*node).is_some() {
                    self.nodes.upsert(*node, spec.clone());
                    if let Some(kube) = &mut self.kube {
                        kube.upsert_node(*node, spec.clone());
                    }
                }
                self.node_changed(*node, ctx);
            }
            Event::Timer { token } => self.timer(*token, ctx),
            Event::Message { .. }
            | Event::Committed(_)
            | Event::Start
            | Event::NodeHeartbeat { .. }
            | Event::Started { .. }
            | Event::Synced => {}
        }
        self.arm(ctx);
    }
}

/// A resource PreFilter's `minResources` check asks for.
enum Need<'a> {
    Cpu,
    Memory,
    Pods,
    Other(&'a str),
}

/// Whether two units would be filtered alike on any node: the same requests and the same
/// constraints on nodes.
fn same_constraints(a: &Unit<'_>, b: &Unit<'_>) -> bool {
    a.requests == b.requests
        && a.gpu == b.gpu
        && a.pod.tolerations == b.pod.tolerations
        && a.pod.node_selector == b.pod.node_selector
        && a.pod.required_node_affinity == b.pod.required_node_affinity
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token unpacks to what was packed, for every kind, at the edges of group ids (2^24
    /// once aliased 0) and generations; a bare kind (`CYCLE`) unpacks to its kind; generations
    /// compare modulo 2^24.
    #[test]
    fn timer_tokens_round_trip() {
        let edges = [0, 1, (1 << 24) - 1, 1 << 24, u32::MAX];
        for kind in [CYCLE, PERMIT_TIMEOUT, BACKOFF_OVER, BACKOFF_TICK, LEFTOVER_TICK] {
            assert_eq!(Token::unpack(kind), Token::gang(kind, 0, GroupId(0)));
            for group in edges {
                for generation in edges {
                    let token = Token::unpack(Token::gang(kind, generation, GroupId(group)).pack());
                    assert_eq!((token.kind, token.group), (kind, GroupId(group)));
                    assert!(token.is_current(generation), "{token:?} at {generation}");
                    assert!(!token.is_current(generation.wrapping_add(1)), "{token:?} at {generation} + 1");
                }
            }
        }
    }
}
