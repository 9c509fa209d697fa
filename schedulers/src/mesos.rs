//! Mesos: two-level scheduling by resource offers. The master's allocator offers free
//! resources to the framework furthest below its Dominant Resource Fairness share; offered
//! resources are locked until the framework answers. Frameworks either behave as in the Omega
//! paper's simulator (`MesosSimulation.scala`) — walk their queue against an offer the moment
//! it arrives, until the offer is used up, and answer after the summed decision times — or
//! hoard for co-scheduling: keep offers until a whole group fits, then launch it at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use podlab_cluster::config::{AllocationRounds, FrameworkBehaviour, MesosConfig, OfferGranularity, Placement, Retry};
use podlab_cluster::rng::below;
use podlab_cluster::{
    Action, Context, Controller, ControllerId, Event, JobRef, Message, NodeId, Note, Part, Pod, PodId, Refused,
    Resources, SimDuration, SimTime,
};

use podlab_cluster::event::OfferedNodes;
use podlab_cluster::id_window::IdWindow;

use crate::jobs::{
    AfterAttempt, JobTable, OfferRooms, Owners, Room, Router, Task, Tasks, Zeros, place, task, task_mut,
};
use crate::offerable::CellBooks;

/// Timer tokens of the master: a round, or a kind in the top byte and an offer's id below.
const ALLOCATE: u64 = 1;
const OFFER_TIMEOUT: u64 = 2 << 56;
const OFFER_SEND: u64 = 4 << 56;
const KIND: u64 = 0xff << 56;

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

/// What an offer holds: each node and its resources offered, shared by the master's books
/// and the message.
type Offered = Arc<OfferedNodes>;

/// A pod the master knows of, while it is pending or running.
struct MasterTask {
    requests: Resources,
    /// The framework that launched it.
    framework: Option<usize>,
    /// Launched, its binding not confirmed by the watch yet (its resources are taken).
    unconfirmed: bool,
    /// Bound, or launched: it holds resources until it ends.
    held: bool,
}

impl MasterTask {
    fn new(requests: Resources) -> MasterTask {
        MasterTask { requests, framework: None, unconfirmed: false, held: false }
    }
}

struct OutstandingOffer {
    framework: usize,
    nodes: Offered,
    total: Resources,
}

/// The Mesos master and its DRF allocator.
pub struct Master {
    config: MesosConfig,
    frameworks: Vec<FrameworkBooks>,
    /// Free room per node from the watch, what of it offers lock, which nodes are closed, and
    /// what a round would offer of each.
    books: CellBooks,
    total: Resources,
    /// Every pod in flight: what it asks for, which framework launched it.
    tasks: IdWindow<Option<MasterTask>>,
    offers: BTreeMap<u64, OutstandingOffer>,
    /// Offers made and locked, not yet delivered (the allocator's decision time).
    unsent: BTreeMap<u64, ControllerId>,
    next_offer: u64,
    rounds: AllocationRounds,
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
        let rounds = config.rounds();
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
            books: CellBooks::default(),
            total: Resources::default(),
            tasks: IdWindow::default(),
            offers: BTreeMap::new(),
            unsent: BTreeMap::new(),
            next_offer: 0,
            rounds,
            round_armed: false,
            last_round: None,
            stalled: false,
        }
    }

    /// A framework's dominant share: the largest of its CPU and memory shares of the cell,
    /// counting what it runs and (per-node offers, as Mesos) what it is offered. Whole-cell
    /// offers count what it runs only, as the original's `drfSortSchedulers` does
    /// (`MesosSimulation.scala` ~lines 580–600: `occupiedCpus`, not `lockedCpus`).
    fn dominant_share(&self, f: &FrameworkBooks) -> (u128, u128) {
        self.share_of(&f.allocated, &f.offered)
    }

    /// The dominant share of a framework running `allocated` and offered `offered`.
    fn share_of(&self, allocated: &Resources, offered: &Resources) -> (u128, u128) {
        let share = |used: u64, total: u64| if total == 0 { 0 } else { (u128::from(used) << 32) / u128::from(total) };
        let (offered_cpu, offered_memory) = match self.config.granularity {
            OfferGranularity::PerNode => (offered.cpu_milli, offered.memory_bytes),
            OfferGranularity::WholeCell => (0, 0),
        };
        let cpu = share(allocated.cpu_milli + offered_cpu, self.total.cpu_milli);
        let mem = share(allocated.memory_bytes + offered_memory, self.total.memory_bytes);
        (cpu.max(mem), cpu.min(mem))
    }

    /// Which framework gets which of `nodes`: all of them to the wanting framework with the
    /// lowest dominant share (whole-cell: the paper's model, `MesosSimulation.scala` ~lines
    /// 470–520, less the nodes it declined recently), or each node in random order to the
    /// lowest-share framework that has not declined it (per-node, as Mesos does).
    fn bundles(&self, nodes: Offered, total: Resources, ctx: &mut Context<'_>) -> Vec<(usize, Offered, Resources)> {
        let now = ctx.now();
        let candidate =
            |f: &FrameworkBooks, node: &NodeId| f.wanting && f.refused.get(node).is_none_or(|until| *until <= now);
        let lowest = |node: Option<&NodeId>| {
            (0..self.frameworks.len())
                .filter(|&i| node.map_or(self.frameworks[i].wanting, |n| candidate(&self.frameworks[i], n)))
                .min_by_key(|&i| (self.dominant_share(&self.frameworks[i]), i))
        };
        if self.config.granularity == OfferGranularity::WholeCell {
            let Some(f) = lowest(None) else { return Vec::new() };
            if self.frameworks[f].refused.is_empty() {
                return vec![(f, nodes, total)];
            }
            let mut sum = Resources::default();
            let kept: OfferedNodes = (nodes.iter().filter(|(n, _)| candidate(&self.frameworks[f], n)))
                .inspect(|(_, r)| sum.add(r))
                .collect();
            return if kept.is_empty() { Vec::new() } else { vec![(f, Arc::new(kept), sum)] };
        }
        let mut nodes: Vec<(NodeId, Resources)> = nodes.iter().collect();
        // Mesos visits agents in random order each round.
        for k in 0..nodes.len() {
            let j = k + below(ctx.rng(), (nodes.len() - k) as u64) as usize;
            nodes.swap(k, j);
        }
        let mut bundles: BTreeMap<usize, (Vec<(NodeId, Resources)>, Resources)> = BTreeMap::new();
        let mut offered: Vec<Resources> = self.frameworks.iter().map(|f| f.offered.clone()).collect();
        for (node, room) in nodes {
            // The share counts what this round has offered so far.
            let pick = (0..self.frameworks.len())
                .filter(|&i| candidate(&self.frameworks[i], &node))
                .min_by_key(|&i| (self.share_of(&self.frameworks[i].allocated, &offered[i]), i));
            let Some(f) = pick else { continue };
            offered[f].add(&room);
            let bundle = bundles.entry(f).or_default();
            bundle.1.add(&room);
            bundle.0.push((node, room));
        }
        bundles.into_iter().map(|(f, (nodes, sum))| (f, Arc::new(nodes.into_iter().collect()), sum)).collect()
    }

    /// Rate-limited rounds: one as soon as a framework wants offers and the last round is an
    /// interval old.
    fn arm(&mut self, ctx: &mut Context<'_>) {
        if self.rounds != AllocationRounds::RateLimited
            || self.round_armed
            || self.stalled
            || !self.frameworks.iter().any(|f| f.wanting)
        {
            return;
        }
        // Offers are batched: at most one allocation round per interval.
        let at = self.last_round.map_or(ctx.now(), |t| (t + self.config.offer_interval).max(ctx.now()));
        self.round_armed = true;
        ctx.act(Action::SetTimer { at, token: ALLOCATE });
    }

    /// Rounds after a trigger, as the original's `schedBuildAndSendOffer` (`MesosSimulation.scala`
    /// ~lines 406–418): a round one offer interval from now, unless one is due already. Called
    /// on a request for offers (~390), a framework's answer (~571) and the end of a task a
    /// framework launched (~567).
    fn trigger(&mut self, ctx: &mut Context<'_>) {
        if self.rounds != AllocationRounds::AfterTrigger || self.round_armed {
            return;
        }
        self.round_armed = true;
        ctx.act(Action::SetTimer { at: ctx.now() + self.config.offer_interval, token: ALLOCATE });
    }

    /// One allocation round: each free node goes to the wanting framework with the lowest
    /// dominant share that has not declined it recently (per node, as Mesos does), or all of
    /// them to one framework (the paper's model).
    fn allocate(&mut self, ctx: &mut Context<'_>) {
        self.round_armed = false;
        self.last_round = Some(ctx.now());
        let now = ctx.now();
        if self.config.granularity == OfferGranularity::WholeCell && !self.frameworks.iter().any(|f| f.wanting) {
            // No framework to offer the cell to: the round would offer nothing, whatever is
            // free (per-node rounds go on, as they draw their order whatever the outcome).
            self.stalled = true;
            return;
        }
        let (nodes, total_available) = self.books.available();
        if nodes.is_empty() || !self.config.min_offer.fits_in(&total_available) {
            self.stalled = true;
            return;
        }
        let bundles = self.bundles(nodes, total_available, ctx);
        let offered_any = !bundles.is_empty();
        let delay = self.config.allocator_decision();
        for (f, nodes, total) in bundles {
            let offer = self.next_offer;
            self.next_offer += 1;
            self.frameworks[f].offered.add(&total);
            let framework = self.frameworks[f].id;
            ctx.act(Action::Note(Note::Offered { offer, framework, resources: total.clone() }));
            self.books.lock(&nodes);
            if delay == SimDuration::ZERO {
                let message = Message::Offer { offer, nodes: nodes.clone(), total: total.clone() };
                ctx.act(Action::Send { to: framework, message });
            } else {
                // Locked now, delivered when the allocator is done deciding (the original's
                // `afterDelay(thinkTime)`, `MesosSimulation.scala` ~lines 505–516).
                self.unsent.insert(offer, framework);
                ctx.act(Action::SetTimer { at: now + delay, token: OFFER_SEND | offer });
            }
            if let Some(timeout) = self.config.offer_timeout {
                ctx.act(Action::SetTimer { at: now + timeout, token: OFFER_TIMEOUT | offer });
            }
            self.offers.insert(offer, OutstandingOffer { framework: f, nodes, total });
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
        self.books.unlock(&o.nodes);
        if refuse > SimDuration::ZERO {
            // The decline filter covers the nodes the framework left wholly unused.
            for (node, ..) in o.nodes.rows() {
                if !launches.iter().any(|l| l.2 == node) {
                    self.frameworks[o.framework].refused.insert(node, now + refuse);
                }
            }
        }
        self.frameworks[o.framework].offered.sub(&o.total);
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
            self.books.take(node, requests);
            self.frameworks[f].allocated.add(requests);
            // The master's own watch may not have shown it the pod yet.
            if self.tasks.get(pod.index()).is_none_or(Option::is_none) {
                self.tasks.insert(pod.index(), Some(MasterTask::new(requests.clone())));
            }
            if let Some(t) = self.tasks.get_mut(pod.index()).and_then(Option::as_mut) {
                (t.framework, t.unconfirmed, t.held) = (Some(f), true, true);
            }
            ctx.act(Action::Bind { pod, part, node });
        }
    }
}

impl Controller for Master {
    fn name(&self) -> &str {
        "mesos-master"
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        // A pod's arrival and its binding, two of the master's three events in four, change
        // nothing a round depends on: handled here, without the checks of what unstalls or
        // triggers a round, nor `arm` (the event before left it nothing to do). A pod's end,
        // the third, asks only what it can change.
        match event {
            Event::PodAdded { pod, spec } => self.pod_added(*pod, spec),
            Event::Bound { pod, node, .. } => self.bound(*pod, *node),
            Event::Ended { pod, node, .. } => self.ended(*pod, *node, ctx),
            _ => self.dispatch(event, ctx),
        }
    }
}

impl Master {
    /// A pod arrived: what it asks for, unless its launch told it first.
    fn pod_added(&mut self, pod: PodId, spec: &Pod) {
        if self.tasks.get(pod.index()).is_none_or(Option::is_none) {
            self.tasks.insert(pod.index(), Some(MasterTask::new(spec.requests.clone())));
        }
    }

    /// A pod was bound: our launches were accounted when launched; others' (pre-bound pods) now.
    fn bound(&mut self, pod: PodId, node: NodeId) {
        if let Some(t) = self.tasks.get_mut(pod.index()).and_then(Option::as_mut) {
            if !t.unconfirmed {
                self.books.take(node, &t.requests);
            }
            (t.unconfirmed, t.held) = (false, true);
        }
    }

    /// A task ended: its resources are free again, which may unstall the allocator; the end
    /// of a task a framework launched triggers a round.
    fn ended(&mut self, pod: PodId, node: NodeId, ctx: &mut Context<'_>) {
        self.stalled = false;
        let mut launched = false;
        if let Some(t) = self.tasks.remove(pod.index()) {
            self.books.give(node, &t.requests);
            if let Some(f) = t.framework {
                launched = true;
                self.frameworks[f].allocated.sub(&t.requests);
            }
        }
        if launched {
            self.trigger(ctx);
        }
        self.arm(ctx);
    }

    /// Every other event.
    #[inline(never)]
    fn dispatch(&mut self, event: &Event, ctx: &mut Context<'_>) {
        // What can make a stalled allocator's next round offer something.
        if matches!(event, Event::NodeAdded { .. } | Event::Ended { .. } | Event::BindRefused(_))
            || matches!(event, Event::Message { message, .. } if matches!(**message, Message::Answer { .. } | Message::Demand { .. }))
            || matches!(event, Event::Timer { token } if token & KIND == OFFER_TIMEOUT)
        {
            self.stalled = false;
        }
        // What schedules a round after a trigger: the original's three (a request for offers,
        // an answer, the end of a task a framework launched), and podlab's events the original
        // has not (a node joining or reopening, a refused binding, an offer timing out).
        let triggers = match event {
            Event::Message { message, .. } => {
                matches!(**message, Message::Answer { .. } | Message::Demand { wanting: true })
            }
            Event::Ended { pod, .. } => {
                self.tasks.get(pod.index()).and_then(Option::as_ref).is_some_and(|t| t.framework.is_some())
            }
            Event::NodeAdded { .. } | Event::NodeUpdated { .. } | Event::BindRefused(_) => true,
            Event::Timer { token } => token & KIND == OFFER_TIMEOUT,
            _ => false,
        };
        match event {
            Event::NodeAdded { node, spec } => {
                self.books.add_node(*node, spec);
                self.total.add(&spec.allocatable);
            }
            Event::PodAdded { pod, spec } => self.pod_added(*pod, spec),
            Event::Bound { pod, node, .. } => self.bound(*pod, *node),
            Event::BindRefused(refused) => {
                let Refused { pod, node, .. } = &**refused;
                // Cannot happen while offers lock what they offer; undo the accounting if it does.
                if let Some(t) = self.tasks.get_mut(pod.index()).and_then(Option::as_mut)
                    && t.unconfirmed
                {
                    self.books.give(*node, &t.requests);
                    if let Some(f) = t.framework.take() {
                        self.frameworks[f].allocated.sub(&t.requests);
                    }
                    (t.unconfirmed, t.held) = (false, false);
                }
            }
            Event::Ended { pod, node, .. } => {
                if let Some(t) = self.tasks.remove(pod.index()) {
                    self.books.give(*node, &t.requests);
                    if let Some(f) = t.framework {
                        self.frameworks[f].allocated.sub(&t.requests);
                    }
                }
            }
            Event::PodDeleted { pod } => {
                // Deleted before it held anything: forgotten (one that holds ends, or is refused).
                if self.tasks.get(pod.index()).and_then(Option::as_ref).is_some_and(|t| !t.held) {
                    self.tasks.remove(pod.index());
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
            Event::Timer { token } if token & KIND == OFFER_TIMEOUT => {
                let offer = token & !KIND;
                // Never delivered: nothing for the framework to withdraw.
                let delivered = self.unsent.remove(&offer).is_none();
                if let Some(f) = self.close(offer, &[], SimDuration::ZERO, ctx.now(), ctx)
                    && delivered
                {
                    ctx.act(Action::Send { to: self.frameworks[f].id, message: Message::Rescind { offer } });
                }
            }
            Event::Timer { token } if token & KIND == OFFER_SEND => {
                let offer = token & !KIND;
                if let (Some(to), Some(o)) = (self.unsent.remove(&offer), self.offers.get(&offer)) {
                    let message = Message::Offer { offer, nodes: o.nodes.clone(), total: o.total.clone() };
                    ctx.act(Action::Send { to, message });
                }
            }
            Event::NodeUpdated { node, spec } => self.books.update_node(*node, spec),
            Event::Timer { .. }
            | Event::GroupAdded { .. }
            | Event::Committed(_)
            | Event::Start
            | Event::NodeHeartbeat { .. }
            | Event::Started { .. }
            | Event::Synced => {}
        }
        if triggers {
            self.trigger(ctx);
        }
        self.arm(ctx);
    }
}

/// Timer tokens of a framework: small ones, or a kind in the top byte and an id below.
const DECIDED: u64 = 1;
const RETRY_DUE: u64 = 2;
const HOARD_TIMEOUT: u64 = 3 << 56;
const ANSWER_DUE: u64 = 4 << 56;

/// An offer a framework holds: its nodes and what is left of them.
struct HeldOffer {
    offer: u64,
    nodes: Offered,
    total: Resources,
}

/// Launches decided against an offer, answered when the decisions' time is over.
type Launches = Vec<(PodId, Part, NodeId, Resources)>;

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
    placement: Placement,
    /// Whether every job entering the queue asks the master for offers (rounds after a
    /// trigger), or only a change of demand is told (rate-limited rounds).
    request_each_job: bool,
    /// Every pod in flight: its spec and job.
    tasks: Tasks,
    /// Which jobs are this framework's, decided at each job's first task.
    owners: Owners,
    table: JobTable,
    wanting: bool,
    /// Paper behaviour: the launches decided against each offer not yet answered.
    answers: BTreeMap<u64, Launches>,
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
    /// The walks' scratch of what is taken of each row of an offer.
    zeros: Zeros,
    /// A walk's scratch: the pods it launches and their nodes, empty between walks.
    decided: Vec<(PodId, NodeId)>,
    /// A walk's scratch: the pods placed of one job, empty between jobs.
    pods: Vec<PodId>,
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
            placement: config.placement,
            request_each_job: config.rounds() == AllocationRounds::AfterTrigger,
            tasks: Tasks::default(),
            owners: Owners::default(),
            table: JobTable::default(),
            wanting: false,
            answers: BTreeMap::new(),
            hoard: Vec::new(),
            hoard_since: None,
            hoard_generation: 0,
            hoard_dirty: false,
            hoard_expired: false,
            deciding: None,
            order: Vec::new(),
            zeros: Zeros::default(),
            decided: Vec::new(),
            pods: Vec::new(),
            node_count: 0,
        }
    }

    fn room_of(&self, offers: &[&HeldOffer]) -> Vec<Option<Room>> {
        // An offer may name a node this framework's watch has not shown it yet.
        let nodes =
            offers.iter().flat_map(|o| (0..o.nodes.len()).map(|i| o.nodes.row(i).0.index() + 1)).max().unwrap_or(0);
        let mut free: Vec<Option<Room>> = vec![None; self.node_count.max(nodes)];
        for o in offers {
            for (node, r) in o.nodes.iter() {
                let slot = free[node.index()].get_or_insert(Room::new(Resources::default(), u64::MAX));
                slot.resources.add(&r);
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

    /// A job entered the queue: with rounds after a trigger, every such job asks the master
    /// for offers, as the original's `addJob` calls `requestOffer` (`MesosSimulation.scala`
    /// ~line 345), which schedules a round unless one is due.
    fn request(&mut self, ctx: &mut Context<'_>) {
        if self.request_each_job {
            self.wanting = true;
            ctx.act(Action::Send { to: self.master, message: Message::Demand { wanting: true } });
        }
    }

    // --- The paper's framework: the original's `handleNextResourceOffer`.

    /// Walks the queue against an offer the moment it arrives, as the original does
    /// (`MesosSimulation.scala` ~lines 180–300): job after job, each attempt stamped now (its
    /// wait ends at the offer's receipt, ~194–195) and placed by randomised first fit on what
    /// is left of the offer; the walk stops when the offer has no CPU or memory left or the
    /// queue is empty (~191–193). A job with tasks left is retried 1 s from now. The answer
    /// goes to the master after the sum of the walked jobs' decision times (~305–312); the
    /// framework takes its next offer at once, whatever answers are outstanding (~320–321).
    fn walk(&mut self, offer: HeldOffer, ctx: &mut Context<'_>) {
        let mut free = OfferRooms::new(&offer.nodes, std::mem::take(&mut self.zeros));
        let mut left = offer.total.clone();
        // The walk's launches, their requests looked up once it is over: the message's list is
        // then made at its length (grown launch by launch, its copies cost 10 M instructions).
        let mut decided = std::mem::take(&mut self.decided);
        let mut thinking = SimDuration::ZERO;
        while left.cpu_milli > 0 && left.memory_bytes > 0 {
            let Some(job) = self.table.queue.pop_front() else { break };
            let Some(j) = self.table.jobs.get_mut(&job) else { continue };
            j.queued = false;
            if j.unplaced.is_empty() {
                // Its tasks were deleted or bound elsewhere meanwhile.
                self.table.jobs.remove(&job);
                continue;
            }
            let tasks = j.unplaced.clone();
            let busy = self.decision.for_tasks(tasks.len() as u32);
            thinking = thinking + busy;
            ctx.act(Action::Note(Note::Attempt { job, tasks: tasks.len() as u32, busy }));
            let mut with_requests: Vec<(PodId, &Resources)> = Vec::with_capacity(tasks.len());
            with_requests.extend(tasks.iter().filter_map(|p| Some((*p, &task(&self.tasks, *p)?.spec.requests))));
            // The original's short path (~206–207): no first fit unless one task fits in the
            // sum of what the offer has left. (It compares the memory left with the CPU a task
            // asks for, a defect; podlab compares memory with memory.)
            let placed = if with_requests.iter().any(|(_, r)| r.fits_in(&left)) {
                place(self.placement, &with_requests, &mut free, &mut self.order, ctx.rng())
            } else {
                Vec::new()
            };
            for &(pod, node) in &placed {
                let Some(t) = task_mut(&mut self.tasks, pod) else { continue };
                left.sub(&t.spec.requests);
                // Off its job's list once `after` is done: its binding has nothing to take off.
                t.assumed = true;
                decided.push((pod, node));
            }
            let mut pods = std::mem::take(&mut self.pods);
            pods.extend(placed.iter().map(|(p, _)| *p));
            self.after(job, &pods, ctx);
            pods.clear();
            self.pods = pods;
        }
        self.zeros = free.into_zeros();
        let mut launches: Launches = Vec::with_capacity(decided.len());
        for (pod, node) in decided.drain(..) {
            if let Some(t) = task(&self.tasks, pod) {
                launches.push((pod, Part::Whole, node, t.spec.requests.clone()));
            }
        }
        self.decided = decided;
        self.answers.insert(offer.offer, launches);
        ctx.act(Action::SetTimer { at: ctx.now() + thinking, token: ANSWER_DUE | offer.offer });
    }

    /// The walk's decision time is over: the offer is answered with its launches.
    fn answer_due(&mut self, offer: u64, ctx: &mut Context<'_>) {
        let Some(launches) = self.answers.remove(&offer) else { return };
        ctx.act(Action::Send { to: self.master, message: Message::Answer { offer, launches, refuse: self.refuse } });
    }

    /// An offer withdrawn before its answer: the launches decided on it will not happen, so
    /// their tasks are unplaced again.
    fn rescinded(&mut self, offer: u64) {
        let Some(launches) = self.answers.remove(&offer) else { return };
        for (pod, ..) in launches {
            if let Some(t) = task_mut(&mut self.tasks, pod) {
                t.assumed = false;
                let (job, workload) = (t.job, t.spec.workload);
                self.table.add_task(job, pod, workload);
            }
        }
    }

    fn job_decided(&mut self, ctx: &mut Context<'_>) {
        self.hoard_decided(ctx);
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
        let specs: Vec<_> = tasks.iter().filter_map(|p| Some((*p, task(&self.tasks, *p)?.spec.clone()))).collect();
        let with_requests: Vec<(PodId, &Resources)> = specs.iter().map(|(p, s)| (*p, &s.requests)).collect();
        let mut free = self.room_of(&self.hoard.iter().collect::<Vec<_>>());
        let placed = place(self.placement, &with_requests, &mut free, &mut self.order, ctx.rng());
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
                for (_, r) in o.nodes.iter() {
                    held.add(&r);
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
            match hoard.iter().rposition(|o| o.nodes.contains(node)) {
                Some(i) => {
                    let requests = task(&self.tasks, pod).map(|t| t.spec.requests.clone()).unwrap_or_default();
                    launches[i].push((pod, Part::Whole, node, requests));
                }
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
        // A paper framework's pod events, nearly all it hears, handled here: a binding or an
        // end changes neither its queue nor what it decides, so its demand stays as it was.
        if self.behaviour == FrameworkBehaviour::Paper {
            match event {
                Event::PodAdded { pod, spec } => {
                    self.pod_added(*pod, spec, ctx);
                    return self.update_demand(ctx);
                }
                Event::Bound { pod, node, .. } => return self.bound(*pod, *node),
                Event::Ended { pod, .. } => {
                    // Half the pods are the other framework's, never kept: nothing to let go of.
                    if task(&self.tasks, *pod).is_some() {
                        self.tasks.remove(pod.index());
                    }
                    return;
                }
                _ => {}
            }
        }
        self.dispatch(event, ctx);
    }
}

impl Framework {
    /// A new pod: a task of this framework's queue if its job is this framework's.
    fn pod_added(&mut self, pod: PodId, spec: &Pod, ctx: &mut Context<'_>) {
        let job = spec.group().map_or(JobRef::Pod(pod), JobRef::Group);
        let mine = spec.node_name().is_none() && self.owners.owns(&self.router, self.me, job, spec);
        // The paper's framework reads the tasks of its own queue only; a hoarding one decides
        // again when any pod it knows of is deleted, so it keeps every pod. (Every framework
        // kept every pod: half the paper day's were another's.)
        if mine || self.behaviour == FrameworkBehaviour::Hoarding {
            let t = Task { spec: spec.spec.clone(), job, node: None.into(), assumed: false, deleted: false };
            self.tasks.insert(pod.index(), Some(t));
        }
        if mine {
            let queued = self.table.queue.len();
            self.table.add_task(job, pod, spec.workload);
            if self.table.queue.len() > queued {
                self.request(ctx);
            }
        }
    }

    /// Placed: by this framework, or by an earlier incarnation of it (a restart's list shows a
    /// pod, then its binding): nothing left to launch for it.
    fn bound(&mut self, pod: PodId, node: NodeId) {
        if let Some(t) = self.tasks.get_mut(pod.index()).and_then(Option::as_mut) {
            t.node = Some(node).into();
            let job = t.job;
            // A walk's launch left its job's list when launched (a search of the jobs, 3.3 M in
            // the paper day's first 3 hours): only another's binding is taken off here.
            if !std::mem::take(&mut t.assumed) {
                self.table.placed(job, &[pod]);
            }
        }
    }

    /// Every event of a hoarding framework, and a paper one's other events.
    #[inline(never)]
    fn dispatch(&mut self, event: &Event, ctx: &mut Context<'_>) {
        match event {
            Event::NodeAdded { node, .. } => self.node_count = self.node_count.max(node.index() + 1),
            Event::PodAdded { pod, spec } => self.pod_added(*pod, spec, ctx),
            Event::Bound { pod, node, .. } => self.bound(*pod, *node),
            Event::Ended { pod, .. } => {
                self.tasks.remove(pod.index());
            }
            Event::Message { message, .. } => match &**message {
                Message::Offer { offer, nodes, total } => {
                    let held = HeldOffer { offer: *offer, nodes: nodes.clone(), total: total.clone() };
                    match self.behaviour {
                        FrameworkBehaviour::Paper => self.walk(held, ctx),
                        FrameworkBehaviour::Hoarding => self.hoard_offer(held, ctx),
                    }
                }
                Message::Rescind { offer } => {
                    self.rescinded(*offer);
                    self.hoard.retain(|o| o.offer != *offer);
                    if self.hoard.is_empty() {
                        self.hoard_since = None;
                    }
                }
                Message::Answer { .. } | Message::Demand { .. } => {}
            },
            Event::PodDeleted { pod } => {
                // Deleted while pending: no longer a task to launch. (A bound one ends.)
                if let Some(t) = task(&self.tasks, *pod) {
                    let (job, bound) = (t.job, t.node.is_some());
                    self.table.placed(job, &[*pod]);
                    self.hoard_dirty = true;
                    if !bound {
                        self.tasks.remove(pod.index());
                    }
                }
            }
            Event::Timer { token: DECIDED } => self.job_decided(ctx),
            Event::Timer { token: RETRY_DUE } => {
                let queued = self.table.queue.len();
                self.table.retry_due();
                if self.table.queue.len() > queued {
                    self.request(ctx);
                }
                self.hoard_dirty = true;
            }
            Event::Timer { token } if token & (0xff << 56) == ANSWER_DUE => self.answer_due(token & !(0xff << 56), ctx),
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
