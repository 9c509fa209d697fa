//! Mesos: two-level scheduling by resource offers. The master's allocator offers free
//! resources to the framework furthest below its Dominant Resource Fairness share; offered
//! resources are locked until the framework answers. Frameworks either behave as in the Omega
//! paper — walk their queue against the offer, spending each job's decision time, and answer
//! after the sum — or hoard for co-scheduling: keep offers until a whole group fits, then
//! launch it at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use podlab_cluster::config::{FrameworkBehaviour, MesosConfig, OfferGranularity, Retry};
use podlab_cluster::rng::below;
use podlab_cluster::{
    Action, Context, Controller, ControllerId, Event, JobRef, Message, NodeId, Note, Part, PodId, Refused, Resources,
    SimDuration, SimTime,
};

use crate::jobs::{AfterAttempt, JobTable, Pods, Room, Router, random_first_fit};

/// Timer tokens of the master.
const ALLOCATE: u64 = 1;
const OFFER_TIMEOUT: u64 = 2 << 56;

struct FrameworkBooks {
    id: ControllerId,
    wanting: bool,
    /// Requests of its running tasks.
    allocated: Resources,
    /// Resources in its outstanding offers.
    offered: Resources,
    /// Nodes it declined, not to be re-offered to it before the given time.
    refused: BTreeMap<NodeId, SimTime>,
}

struct OutstandingOffer {
    framework: usize,
    nodes: Vec<(NodeId, Resources)>,
}

/// The Mesos master and its DRF allocator.
pub struct Master {
    config: MesosConfig,
    frameworks: Vec<FrameworkBooks>,
    /// Free room per node from the watch, and what of it is locked in offers.
    free: Vec<Option<Room>>,
    locked: Vec<Resources>,
    total: Resources,
    pods: Pods,
    owner_of_task: BTreeMap<PodId, usize>,
    /// Tasks launched whose binding the watch has not confirmed yet, with their resources.
    launched: BTreeMap<PodId, Resources>,
    /// Nodes that take no new work now (tainted NotReady, cordoned): never offered.
    closed: std::collections::BTreeSet<NodeId>,
    offers: BTreeMap<u64, OutstandingOffer>,
    next_offer: u64,
    round_armed: bool,
    last_round: Option<SimTime>,
    /// The last round offered nothing: the next waits for a change (resources freed or
    /// unlocked, a node, a framework wanting) or for a refusal to expire. Without this, a
    /// zero offer interval re-ran empty rounds at one instant forever (found by the swarm).
    stalled: bool,
}

impl Master {
    /// `frameworks` are the controller ids of the frameworks, in the order of the config.
    pub fn new(config: MesosConfig, frameworks: Vec<ControllerId>) -> Master {
        Master {
            config,
            frameworks: frameworks
                .into_iter()
                .map(|id| FrameworkBooks {
                    id,
                    wanting: false,
                    allocated: Resources::default(),
                    offered: Resources::default(),
                    refused: BTreeMap::new(),
                })
                .collect(),
            free: Vec::new(),
            locked: Vec::new(),
            total: Resources::default(),
            pods: Pods::default(),
            owner_of_task: BTreeMap::new(),
            launched: Default::default(),
            closed: Default::default(),
            offers: BTreeMap::new(),
            next_offer: 0,
            round_armed: false,
            last_round: None,
            stalled: false,
        }
    }

    /// A framework's dominant share: the largest of its CPU and memory shares of the cell,
    /// counting what it runs and what it is offered.
    fn dominant_share(&self, f: &FrameworkBooks) -> (u128, u128) {
        let share = |used: u64, total: u64| if total == 0 { 0 } else { (u128::from(used) << 32) / u128::from(total) };
        let cpu = share(f.allocated.cpu_milli + f.offered.cpu_milli, self.total.cpu_milli);
        let mem = share(f.allocated.memory_bytes + f.offered.memory_bytes, self.total.memory_bytes);
        (cpu.max(mem), cpu.min(mem))
    }

    fn available(&self, node: usize) -> Option<Resources> {
        if self.closed.contains(&NodeId(node as u32)) {
            return None;
        }
        let room = self.free.get(node)?.as_ref()?;
        if room.slots == 0 {
            return None;
        }
        let mut r = room.resources.clone();
        r.sub(&self.locked[node]);
        (r.cpu_milli > 0 && r.memory_bytes > 0).then_some(r)
    }

    fn arm(&mut self, ctx: &mut Context<'_>) {
        if self.round_armed || self.stalled || !self.frameworks.iter().any(|f| f.wanting) {
            return;
        }
        // Offers are batched: at most one allocation round per interval.
        let at = self.last_round.map_or(ctx.now(), |t| (t + self.config.offer_interval).max(ctx.now()));
        self.round_armed = true;
        ctx.act(Action::SetTimer { at, token: ALLOCATE });
    }

    /// One allocation round: each free node goes to the wanting framework with the lowest
    /// dominant share that has not declined it recently (per node, as Mesos does), or all of
    /// them to one framework (the paper's model).
    fn allocate(&mut self, ctx: &mut Context<'_>) {
        self.round_armed = false;
        self.last_round = Some(ctx.now());
        let now = ctx.now();
        let mut nodes: Vec<(usize, Resources)> =
            (0..self.free.len()).filter_map(|n| self.available(n).map(|r| (n, r))).collect();
        let mut total_available = Resources::default();
        for (_, r) in &nodes {
            total_available.add(r);
        }
        if nodes.is_empty() || !self.config.min_offer.fits_in(&total_available) {
            self.stalled = true;
            return;
        }
        // Mesos visits agents in random order each round.
        for k in 0..nodes.len() {
            let j = k + below(ctx.rng(), (nodes.len() - k) as u64) as usize;
            nodes.swap(k, j);
        }
        let mut bundles: BTreeMap<usize, Vec<(NodeId, Resources)>> = BTreeMap::new();
        let mut whole_cell_pick: Option<usize> = None;
        for (node, room) in nodes {
            let node_id = NodeId(node as u32);
            let candidate = |f: &FrameworkBooks| f.wanting && f.refused.get(&node_id).is_none_or(|until| *until <= now);
            let pick = match (self.config.granularity, whole_cell_pick) {
                (OfferGranularity::WholeCell, Some(p)) => candidate(&self.frameworks[p]).then_some(p),
                _ => (0..self.frameworks.len())
                    .filter(|&i| candidate(&self.frameworks[i]))
                    .min_by_key(|&i| (self.dominant_share(&self.frameworks[i]), i)),
            };
            let Some(f) = pick else { continue };
            if self.config.granularity == OfferGranularity::WholeCell {
                whole_cell_pick = Some(f);
            }
            self.frameworks[f].offered.add(&room);
            self.locked[node].add(&room);
            bundles.entry(f).or_default().push((node_id, room));
        }
        let offered_any = !bundles.is_empty();
        for (f, nodes) in bundles {
            let offer = self.next_offer;
            self.next_offer += 1;
            let mut resources = Resources::default();
            for (_, r) in &nodes {
                resources.add(r);
            }
            let framework = self.frameworks[f].id;
            ctx.act(Action::Note(Note::Offered { offer, framework, resources }));
            ctx.act(Action::Send { to: framework, message: Message::Offer { offer, nodes: Arc::from(nodes.clone()) } });
            if let Some(timeout) = self.config.offer_timeout {
                ctx.act(Action::SetTimer { at: now + timeout, token: OFFER_TIMEOUT | offer });
            }
            self.offers.insert(offer, OutstandingOffer { framework: f, nodes });
        }
        if !offered_any {
            // Nothing offered (every wanting framework declined what is free): wait for a
            // change, or for the first refusal to expire.
            self.stalled = true;
            let expiry = self
                .frameworks
                .iter()
                .filter(|f| f.wanting)
                .flat_map(|f| f.refused.values())
                .filter(|until| **until > now)
                .min();
            if let Some(&at) = expiry {
                self.round_armed = true;
                ctx.act(Action::SetTimer { at, token: ALLOCATE });
            }
        }
    }

    /// Closes an offer: unlocks its resources and stops counting them in the DRF share.
    fn close(
        &mut self,
        offer: u64,
        launches: &[(PodId, Part, NodeId, Resources)],
        refuse: SimDuration,
        now: SimTime,
        ctx: &mut Context<'_>,
    ) -> Option<usize> {
        let o = self.offers.remove(&offer)?;
        let launched = launches.len() as u32;
        for (node, r) in &o.nodes {
            self.locked[node.index()].sub(r);
            self.frameworks[o.framework].offered.sub(r);
            // The decline filter covers the nodes the framework left wholly unused.
            if refuse > SimDuration::ZERO && !launches.iter().any(|l| l.2 == *node) {
                self.frameworks[o.framework].refused.insert(*node, now + refuse);
            }
        }
        ctx.act(Action::Note(Note::OfferClosed { offer, launched }));
        Some(o.framework)
    }

    fn answer(
        &mut self,
        offer: u64,
        launches: &[(PodId, Part, NodeId, Resources)],
        refuse: SimDuration,
        ctx: &mut Context<'_>,
    ) {
        let Some(f) = self.close(offer, launches, refuse, ctx.now(), ctx) else { return };
        for (pod, part, node, requests) in launches {
            let (pod, part, node) = (*pod, *part, *node);
            // Account the launch now, so a round at this same instant cannot offer it again.
            if let Some(room) = self.free.get_mut(node.index()).and_then(Option::as_mut) {
                room.take(requests);
            }
            self.frameworks[f].allocated.add(requests);
            self.owner_of_task.insert(pod, f);
            self.launched.insert(pod, requests.clone());
            ctx.act(Action::Bind { pod, part, node });
        }
    }
}

impl Controller for Master {
    fn name(&self) -> &str {
        "mesos-master"
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        // What can make a stalled allocator's next round offer something.
        if matches!(event, Event::NodeAdded { .. } | Event::Ended { .. } | Event::BindRefused(_))
            || matches!(event, Event::Message { message, .. } if matches!(**message, Message::Answer { .. } | Message::Demand { .. }))
            || matches!(event, Event::Timer { token } if token & OFFER_TIMEOUT != 0)
        {
            self.stalled = false;
        }
        match event {
            Event::NodeAdded { node, spec } => {
                if self.free.len() <= node.index() {
                    self.free.resize(node.index() + 1, None);
                    self.locked.resize(node.index() + 1, Resources::default());
                }
                self.free[node.index()] = Some(Room::of(spec));
                self.total.add(&spec.allocatable);
                // A node may join cordoned or tainted (a real cluster's dump at t = 0).
                crate::jobs::track_closed(&mut self.closed, *node, spec);
            }
            Event::PodAdded { pod, spec } => self.pods.insert(*pod, spec.clone()),
            Event::Bound { pod, node, .. } => {
                // Our launches were accounted when launched; others' (pre-bound pods) now.
                if self.launched.remove(pod).is_none() {
                    let requests = self.pods.get(*pod).requests.clone();
                    if let Some(room) = self.free.get_mut(node.index()).and_then(Option::as_mut) {
                        room.take(&requests);
                    }
                }
            }
            Event::BindRefused(refused) => {
                let Refused { pod, node, .. } = &**refused;
                // Cannot happen while offers lock what they offer; undo the accounting if it does.
                if let Some(requests) = self.launched.remove(pod) {
                    if let Some(room) = self.free.get_mut(node.index()).and_then(Option::as_mut) {
                        room.give(&requests);
                    }
                    if let Some(f) = self.owner_of_task.remove(pod) {
                        self.frameworks[f].allocated.sub(&requests);
                    }
                }
            }
            Event::Ended { pod, node, .. } => {
                let requests = self.pods.get(*pod).requests.clone();
                if let Some(room) = self.free.get_mut(node.index()).and_then(Option::as_mut) {
                    room.give(&requests);
                }
                if let Some(f) = self.owner_of_task.remove(pod) {
                    self.frameworks[f].allocated.sub(&requests);
                }
            }
            Event::Message { from, message } => match &**message {
                Message::Demand { wanting } => {
                    if let Some(f) = self.frameworks.iter_mut().find(|f| f.id == *from) {
                        f.wanting = *wanting;
                    }
                }
                Message::Answer { offer, launches, refuse } => self.answer(*offer, launches, *refuse, ctx),
                Message::Offer { .. } | Message::Rescind { .. } => {}
            },
            Event::Timer { token: ALLOCATE } => self.allocate(ctx),
            Event::Timer { token } if token & OFFER_TIMEOUT != 0 => {
                let offer = token & !OFFER_TIMEOUT;
                if let Some(f) = self.close(offer, &[], SimDuration::ZERO, ctx.now(), ctx) {
                    ctx.act(Action::Send { to: self.frameworks[f].id, message: Message::Rescind { offer } });
                }
            }
            Event::NodeUpdated { node, spec } => crate::jobs::track_closed(&mut self.closed, *node, spec),
            Event::Timer { .. }
            | Event::GroupAdded { .. }
            | Event::Committed(_)
            | Event::Start
            | Event::NodeHeartbeat { .. }
            | Event::Started { .. }
            | Event::PodDeleted { .. }
            | Event::Synced => {}
        }
        self.arm(ctx);
    }
}

/// Timer tokens of a framework.
const DECIDED: u64 = 1;
const RETRY_DUE: u64 = 2;
const HOARD_TIMEOUT: u64 = 3 << 56;

/// An offer a framework holds: its nodes and what is left of them.
struct HeldOffer {
    offer: u64,
    nodes: Vec<(NodeId, Resources)>,
}

/// The offer being worked through by a paper-style framework.
struct Walk {
    offer: HeldOffer,
    /// Jobs still to consider, in queue order at the offer's arrival.
    pending: std::collections::VecDeque<JobRef>,
    /// The job whose decision time is running, with the tasks it placed.
    current: Option<(JobRef, Vec<(PodId, NodeId)>)>,
    free: Vec<Option<Room>>,
    launches: Vec<(PodId, Part, NodeId, Resources)>,
}

pub struct Framework {
    name: String,
    master: ControllerId,
    me: usize,
    router: Router,
    behaviour: FrameworkBehaviour,
    decision: podlab_cluster::config::DecisionTime,
    hoard_timeout: SimDuration,
    refuse: SimDuration,
    retry: Retry,
    pods: Pods,
    owned: BTreeMap<JobRef, bool>,
    jobs_seen: u64,
    table: JobTable,
    wanting: bool,
    /// Paper behaviour: offers waiting their turn, and the one being walked.
    inbox: std::collections::VecDeque<HeldOffer>,
    walk: Option<Walk>,
    /// Hoarding behaviour: the offers kept for the head group, since when, and its attempt.
    hoard: Vec<HeldOffer>,
    hoard_since: Option<SimTime>,
    hoard_generation: u64,
    /// The hoard or the head changed since the last decision: worth deciding again.
    hoard_dirty: bool,
    /// The hoard timeout passed while a decision was in flight.
    hoard_expired: bool,
    deciding: Option<JobRef>,
    order: Vec<u32>,
    node_count: usize,
}

impl Framework {
    pub fn new(
        spec: &podlab_cluster::config::FrameworkSpec,
        me: usize,
        router: Router,
        master: ControllerId,
        config: &MesosConfig,
    ) -> Framework {
        Framework {
            name: format!("mesos-{}", router.instances[me].0),
            master,
            me,
            router,
            behaviour: spec.behaviour,
            decision: spec.scheduler.decision,
            hoard_timeout: spec.hoard_timeout,
            refuse: config.refuse,
            retry: config.retry,
            pods: Pods::default(),
            owned: BTreeMap::new(),
            jobs_seen: 0,
            table: JobTable::default(),
            wanting: false,
            inbox: Default::default(),
            walk: None,
            hoard: Vec::new(),
            hoard_since: None,
            hoard_generation: 0,
            hoard_dirty: false,
            hoard_expired: false,
            deciding: None,
            order: Vec::new(),
            node_count: 0,
        }
    }

    fn room_of(&self, offers: &[&HeldOffer]) -> Vec<Option<Room>> {
        // An offer may name a node this framework's watch has not shown it yet.
        let nodes = offers.iter().flat_map(|o| o.nodes.iter().map(|(n, _)| n.index() + 1)).max().unwrap_or(0);
        let mut free: Vec<Option<Room>> = vec![None; self.node_count.max(nodes)];
        for o in offers {
            for (node, r) in &o.nodes {
                let slot = free[node.index()].get_or_insert(Room::new(Resources::default(), u64::MAX));
                slot.resources.add(r);
            }
        }
        free
    }

    /// Tells the master whether this framework wants offers: it does while jobs wait.
    fn update_demand(&mut self, ctx: &mut Context<'_>) {
        let wanting = !self.table.queue.is_empty() || self.deciding.is_some();
        if wanting != self.wanting {
            self.wanting = wanting;
            ctx.act(Action::Send { to: self.master, message: Message::Demand { wanting } });
        }
    }

    fn after(&mut self, job: JobRef, placed: &[PodId], ctx: &mut Context<'_>) {
        self.table.placed(job, placed);
        ctx.act(Action::Note(Note::AttemptDone { job, placed: placed.len() as u32, conflicts: 0 }));
        match self.table.after_attempt(job, placed.len() as u32, &self.retry) {
            AfterAttempt::Done => {}
            AfterAttempt::Abandon => ctx.act(Action::Note(Note::Abandoned { job })),
            AfterAttempt::Retry => ctx.act(Action::SetTimer { at: ctx.now() + self.retry.interval, token: RETRY_DUE }),
        }
    }

    // --- The paper's framework: walk the queue against one offer at a time.

    fn start_walk(&mut self, ctx: &mut Context<'_>) {
        if self.walk.is_some() {
            return;
        }
        let Some(offer) = self.inbox.pop_front() else { return };
        let free = self.room_of(&[&offer]);
        let pending = std::mem::take(&mut self.table.queue);
        for job in &pending {
            if let Some(j) = self.table.jobs.get_mut(job) {
                j.queued = false;
            }
        }
        self.walk = Some(Walk { offer, pending, current: None, free, launches: Vec::new() });
        self.next_job(ctx);
    }

    /// Decides the next job of the walk against what is left of the offer, or answers.
    fn next_job(&mut self, ctx: &mut Context<'_>) {
        let Some(walk) = self.walk.as_mut() else { return };
        let Some(job) = walk.pending.pop_front() else {
            let walk = self.walk.take().expect("walking");
            let refuse = self.refuse;
            ctx.act(Action::Send {
                to: self.master,
                message: Message::Answer { offer: walk.offer.offer, launches: walk.launches, refuse },
            });
            self.start_walk(ctx);
            return;
        };
        let Some(j) = self.table.jobs.get(&job) else { return self.next_job(ctx) };
        let tasks = j.unplaced.clone();
        let specs: Vec<_> = tasks.iter().map(|p| self.pods.get(*p).clone()).collect();
        let with_requests: Vec<(PodId, &Resources)> =
            tasks.iter().zip(&specs).map(|(p, s)| (*p, &s.requests)).collect();
        let busy = self.decision.for_tasks(tasks.len() as u32);
        ctx.act(Action::Note(Note::Attempt { job, tasks: tasks.len() as u32, busy }));
        let placed = random_first_fit(&with_requests, &mut walk.free, &mut self.order, ctx.rng());
        walk.current = Some((job, placed));
        ctx.act(Action::SetTimer { at: ctx.now() + busy, token: DECIDED });
    }

    fn job_decided(&mut self, ctx: &mut Context<'_>) {
        let Some(walk) = self.walk.as_mut() else { return self.hoard_decided(ctx) };
        let Some((job, placed)) = walk.current.take() else { return };
        let launches = placed.iter().map(|&(p, n)| (p, Part::Whole, n, self.pods.get(p).requests.clone()));
        walk.launches.extend(launches);
        let pods: Vec<PodId> = placed.iter().map(|(p, _)| *p).collect();
        self.after(job, &pods, ctx);
        self.next_job(ctx);
    }

    // --- The hoarding framework: keep offers until the head group fits whole.

    fn hoard_offer(&mut self, offer: HeldOffer, ctx: &mut Context<'_>) {
        if self.table.queue.is_empty() && self.deciding.is_none() {
            // Nothing to hoard for: give it straight back.
            ctx.act(Action::Send {
                to: self.master,
                message: Message::Answer { offer: offer.offer, launches: vec![], refuse: self.refuse },
            });
            return;
        }
        self.hoard.push(offer);
        self.hoard_dirty = true;
        if self.hoard_since.is_none() {
            self.hoard_since = Some(ctx.now());
            self.hoard_generation += 1;
            ctx.act(Action::SetTimer {
                at: ctx.now() + self.hoard_timeout,
                token: HOARD_TIMEOUT | self.hoard_generation,
            });
        }
        self.try_head(ctx);
    }

    /// Starts deciding the head group against the hoard (one decision at a time).
    fn try_head(&mut self, ctx: &mut Context<'_>) {
        if self.deciding.is_some() || self.hoard.is_empty() || !self.hoard_dirty {
            return;
        }
        self.hoard_dirty = false;
        let Some(&job) = self.table.queue.front() else { return };
        let Some(j) = self.table.jobs.get(&job) else {
            self.table.queue.pop_front();
            return self.try_head(ctx);
        };
        let busy = self.decision.for_tasks(j.unplaced.len() as u32);
        ctx.act(Action::Note(Note::Attempt { job, tasks: j.unplaced.len() as u32, busy }));
        self.deciding = Some(job);
        ctx.act(Action::SetTimer { at: ctx.now() + busy, token: DECIDED });
    }

    fn hoard_decided(&mut self, ctx: &mut Context<'_>) {
        let Some(job) = self.deciding.take() else { return };
        let tasks = self.table.jobs.get(&job).map(|j| j.unplaced.clone()).unwrap_or_default();
        let specs: Vec<_> = tasks.iter().map(|p| self.pods.get(*p).clone()).collect();
        let with_requests: Vec<(PodId, &Resources)> =
            tasks.iter().zip(&specs).map(|(p, s)| (*p, &s.requests)).collect();
        let mut free = self.room_of(&self.hoard.iter().collect::<Vec<_>>());
        let placed = random_first_fit(&with_requests, &mut free, &mut self.order, ctx.rng());
        let mut needs = Resources::default();
        for (_, r) in &with_requests {
            needs.add(r);
        }
        if placed.len() == tasks.len() && !tasks.is_empty() {
            // The whole group fits: launch it at once, and give back the rest of the hoard.
            self.table.queue.pop_front();
            self.hoard_dirty = true;
            self.release_hoard(&placed, ctx);
            let pods: Vec<PodId> = placed.iter().map(|(p, _)| *p).collect();
            if let Some(j) = self.table.jobs.get_mut(&job) {
                j.queued = false;
            }
            self.after(job, &pods, ctx);
        } else {
            let mut held = Resources::default();
            for o in &self.hoard {
                for (_, r) in &o.nodes {
                    held.add(r);
                }
            }
            ctx.act(Action::Note(Note::AttemptDone { job, placed: 0, conflicts: 0 }));
            ctx.act(Action::Note(Note::Hoard { held, needs }));
            if self.hoard_expired {
                self.give_up_hoard(ctx);
            }
        }
    }

    /// The hoard timed out: every held offer goes back, the head job waits for its retry.
    fn give_up_hoard(&mut self, ctx: &mut Context<'_>) {
        if self.hoard.is_empty() {
            self.hoard_expired = false;
            return;
        }
        self.release_hoard(&[], ctx);
        if let Some(job) = self.table.queue.pop_front() {
            if let Some(j) = self.table.jobs.get_mut(&job) {
                j.queued = false;
            }
            self.after(job, &[], ctx);
        }
    }

    /// Answers every held offer: each launch goes with the last held offer that covers its
    /// node, the rest returned. A task may need the room of several offers on one node (the
    /// hoard adds them up, as Mesos merges offers of one agent in one accept): all are answered
    /// at this instant, so the master has unlocked them all before the binding is checked.
    /// (Matching each launch to a single offer with room for it lost such launches: found by
    /// the swarm.)
    fn release_hoard(&mut self, placed: &[(PodId, NodeId)], ctx: &mut Context<'_>) {
        let hoard = std::mem::take(&mut self.hoard);
        let mut launches: Vec<Vec<(PodId, Part, NodeId, Resources)>> = vec![Vec::new(); hoard.len()];
        let mut left: Vec<(PodId, NodeId)> = Vec::new();
        for &(pod, node) in placed {
            // The last offer covering the node: by the time the master launches it, every
            // other offer of the hoard on that node is closed (answers arrive in order), so the
            // task never binds into resources still locked in an offer.
            match hoard.iter().rposition(|o| o.nodes.iter().any(|(n, _)| *n == node)) {
                Some(i) => launches[i].push((pod, Part::Whole, node, self.pods.get(pod).requests.clone())),
                None => left.push((pod, node)),
            }
        }
        for (o, launches) in hoard.into_iter().zip(launches) {
            ctx.act(Action::Send {
                to: self.master,
                message: Message::Answer { offer: o.offer, launches, refuse: SimDuration::ZERO },
            });
        }
        debug_assert!(left.is_empty(), "every launch lies in some held offer");
        self.hoard_since = None;
        self.hoard_expired = false;
        self.hoard_generation += 1;
        ctx.act(Action::Note(Note::Hoard { held: Resources::default(), needs: Resources::default() }));
    }
}

impl Controller for Framework {
    fn name(&self) -> &str {
        &self.name
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        match event {
            Event::NodeAdded { node, .. } => self.node_count = self.node_count.max(node.index() + 1),
            Event::PodAdded { pod, spec } => {
                self.pods.insert(*pod, spec.clone());
                if spec.node_name().is_none() {
                    let job = spec.group().map_or(JobRef::Pod(*pod), JobRef::Group);
                    if crate::jobs::owns(&mut self.owned, &mut self.jobs_seen, &self.router, self.me, job, spec) {
                        self.table.add_task(job, *pod, spec.workload);
                    }
                }
            }
            Event::Bound { pod, .. } => {
                // Placed: by this framework, or by an earlier incarnation of it (a restart's
                // list shows a pod, then its binding): nothing left to launch for it.
                let spec = self.pods.get(*pod);
                let job = spec.group().map_or(JobRef::Pod(*pod), JobRef::Group);
                self.table.placed(job, &[*pod]);
            }
            Event::Message { message, .. } => match &**message {
                Message::Offer { offer, nodes } => {
                    let held = HeldOffer { offer: *offer, nodes: nodes.to_vec() };
                    match self.behaviour {
                        FrameworkBehaviour::Paper => {
                            self.inbox.push_back(held);
                            self.start_walk(ctx);
                        }
                        FrameworkBehaviour::Hoarding => self.hoard_offer(held, ctx),
                    }
                }
                Message::Rescind { offer } => {
                    self.inbox.retain(|o| o.offer != *offer);
                    self.hoard.retain(|o| o.offer != *offer);
                    if self.hoard.is_empty() {
                        self.hoard_since = None;
                    }
                }
                Message::Answer { .. } | Message::Demand { .. } => {}
            },
            Event::PodDeleted { pod } => {
                // Deleted while pending: no longer a task to launch.
                if let Some(spec) = self.pods.try_get(*pod) {
                    let job = spec.group().map_or(JobRef::Pod(*pod), JobRef::Group);
                    self.table.placed(job, &[*pod]);
                    self.hoard_dirty = true;
                }
            }
            Event::Timer { token: DECIDED } => self.job_decided(ctx),
            Event::Timer { token: RETRY_DUE } => {
                self.table.retry_due();
                self.hoard_dirty = true;
            }
            Event::Timer { token }
                if token & HOARD_TIMEOUT == HOARD_TIMEOUT && (token & !HOARD_TIMEOUT) == self.hoard_generation =>
            {
                // The head group did not fit in time: give everything back and retry later (at
                // the end of the decision in flight, if there is one).
                self.hoard_expired = true;
                if self.deciding.is_none() {
                    self.give_up_hoard(ctx);
                }
            }
            _ => {}
        }
        if self.behaviour == FrameworkBehaviour::Hoarding {
            self.try_head(ctx);
        }
        self.update_demand(ctx);
    }
}
