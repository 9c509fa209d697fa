//! `SimBackend`: the cluster in virtual time. It creates the scenario's objects when they
//! arrive, carries out bindings against the true node capacities, runs each pod for its
//! duration, broadcasts every change to every controller as a watch event, injects faults, and
//! writes the log. With a control-plane model every write goes through the apiserver and etcd
//! with their latencies, watch events reach each watcher late, and kubelets take the start-up
//! path (sandbox, image pulls, container starts) and send heartbeats; watch events may be
//! lost (the watcher relists), requests time out or fail and are retried, and the scheduler or
//! controller-manager process may crash and restart (its controllers relist from nothing).

use std::sync::Arc;

use podlab_cluster::books::NodeUse;
use podlab_cluster::commit::{self, Ledger};
use podlab_cluster::config::{Brownout, Component, Fault};
use podlab_cluster::few::Few;
use podlab_cluster::objects::Taint;
use podlab_cluster::percentile::percentile;
use podlab_cluster::pod_set::PodSet;
use podlab_cluster::scenario::{ObjectRef, Scenario};
use podlab_cluster::{
    Action, Backend, BindRefusal, Claim, Commitment, ConflictDetection, ControllerId, Delivery, Event, Handover,
    MaybeTime, NodeId, Part, Phase, PodId, Record, Refused, Resources, SimDuration, SimTime, Stamped,
};

use crate::SimOptions;
use crate::budget::{Exceeded, Meter};
use crate::invariants::Invariants;
use crate::log::EventLog;
use crate::model::ControlPlane;
use crate::queue::EventQueue;
use crate::recorder::{Journal, Recorder};

enum Pending {
    Arrive(ObjectRef),
    PartEnds {
        pod: PodId,
        part: Part,
        node: NodeId,
        /// Succeeded, or Failed (`podlab.dev/fail-after`, `podlab.dev/failure-probability`).
        phase: Phase,
    },
    /// An event for one incarnation (`epoch`) of a controller: a crash voids what was on
    /// its way to the dead one. A watch event carries when it was committed (none for a
    /// List's objects and replies).
    Deliver {
        to: ControllerId,
        event: Event,
        epoch: u32,
        committed: MaybeTime,
    },
    /// A watch event for every controller, queued once and handed to each in turn
    /// ([`SimBackend::hand_on`]): only where no watcher ever goes down or changes
    /// incarnation (`SimBackend::fan_out`), so who hears it is known when it is pushed.
    Broadcast(Event),
    /// A controller's write reaching etcd, `latency` after the request (its reply goes to
    /// the incarnation that asked); it left the client at `sent`.
    /// (The action boxed: queued events stay small, and writes are queued only with a model.)
    Apply {
        from: ControllerId,
        action: Box<Action>,
        latency: SimDuration,
        epoch: u32,
        sent: SimTime,
    },
    /// An attempt of a write sent during a brownout (the `failures`-th retry of a request
    /// made at `since`): each attempt meets the apiserver as it is then.
    Attempt {
        from: ControllerId,
        action: Box<Action>,
        epoch: u32,
        since: SimTime,
        failures: u32,
    },
    /// One attempt of a write failed (its `Record::ApiFailed`, boxed: rare and large); the
    /// client waits and tries again.
    ApiFailed(Box<Record>),
    /// A watcher's informer noticed its broken watch (or a restarted controller begins its
    /// first List): the List call goes out.
    Relist {
        to: ControllerId,
        epoch: u32,
    },
    /// The List answered after `latency`.
    RelistDone {
        to: ControllerId,
        epoch: u32,
        latency: SimDuration,
    },
    /// A watch timed out with no event since the `breaks`-th break: the client re-watches,
    /// finds the resourceVersion gone, and relists.
    WatchTimeout {
        to: ControllerId,
        epoch: u32,
        breaks: u64,
    },
    ComponentCrash(Box<ComponentCrash>),
    Restart(ControllerId),
    /// The kubelet finished starting a bound part.
    Started {
        pod: PodId,
        part: Part,
        node: NodeId,
        pull: SimDuration,
    },
    Crash(NodeId),
    Recover(NodeId),
    Partition(NodeId),
    Heal(NodeId),
    Heartbeat(NodeId),
    EtcdLeaderLoss(SimDuration),
    Brownout {
        until: SimTime,
        brownout: Box<Brownout>,
    },
}

impl Pending {
    /// Whether this is the world changing by itself — an arrival, a part's start or end, a
    /// fault, a restart, a write on its way to etcd — rather than news of a change (a watch
    /// event, a relist, a heartbeat): while any such event is queued, a run without a
    /// `duration` goes on.
    fn changes_world(&self) -> bool {
        match self {
            Pending::Arrive(_)
            | Pending::PartEnds { .. }
            | Pending::Apply { .. }
            | Pending::Attempt { .. }
            | Pending::ComponentCrash(_)
            | Pending::Restart(_)
            | Pending::Started { .. }
            | Pending::Crash(_)
            | Pending::Recover(_)
            | Pending::Partition(_)
            | Pending::Heal(_)
            | Pending::EtcdLeaderLoss(_)
            | Pending::Brownout { .. } => true,
            Pending::Deliver { .. }
            | Pending::Broadcast(_)
            | Pending::ApiFailed(_)
            | Pending::Relist { .. }
            | Pending::RelistDone { .. }
            | Pending::WatchTimeout { .. }
            | Pending::Heartbeat(_) => false,
        }
    }
}

/// The queue of what is to happen, and how many of its events change the world by themselves
/// ([`Pending::changes_world`]): counted as they are pushed and popped, so no handler keeps
/// the count.
struct Agenda {
    queue: EventQueue<Pending>,
    world: usize,
}

impl Agenda {
    fn with_capacity(capacity: usize) -> Agenda {
        Agenda { queue: EventQueue::with_capacity(capacity), world: 0 }
    }

    #[inline]
    fn push(&mut self, at: SimTime, pending: Pending) {
        self.world += usize::from(pending.changes_world());
        self.queue.push(at, pending);
    }

    fn pop(&mut self) -> Option<(SimTime, Pending)> {
        let (at, pending) = self.queue.pop()?;
        self.world -= usize::from(pending.changes_world());
        Some((at, pending))
    }

    fn peek_time(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    fn advance(&mut self, time: SimTime) {
        self.queue.advance(time);
    }
}

/// A scheduled crash of a component's process (boxed in `Pending`: rare, and the name large).
struct ComponentCrash {
    component: Component,
    name: Option<String>,
    restart_after: Option<SimDuration>,
}

/// One controller as a watcher, and its process.
#[derive(Clone)]
struct Watcher {
    component: Component,
    /// Its process is down: it hears nothing.
    down: bool,
    /// Grows with each restart: deliveries meant for an earlier incarnation are dropped.
    epoch: u32,
    /// A watch event was lost: the stream is broken until the informer relists.
    broken: bool,
    /// How many times its watch broke (a watch timeout is for one break).
    breaks: u64,
    /// A relist is under way.
    relisting: bool,
    /// The relist is a restarted controller's first List: it gets the state, not a replay.
    snapshot: bool,
    /// Events lost or held since the stream broke, with their commit times, in order.
    missed: Vec<(SimTime, Event)>,
    /// When each incarnation died, by epoch: requests it had not sent by then die with it.
    deaths: Vec<SimTime>,
}

#[derive(Clone, Default)]
struct NodeBooks {
    joined: bool,
    /// Crashed: its containers are dead and its kubelet silent.
    down: bool,
    /// Cut off from the control plane: containers run, the kubelet can neither report nor see.
    partitioned: bool,
    /// What is bound here (the rule that admits a part is shared with real mode).
    usage: NodeUse,
}

/// A pod's books: its bound parts, in binding order (whether it was created or deleted is a
/// bit each in a `PodSet`, so a pod of the run costs the books 16 bytes, not 24).
#[derive(Clone, Default)]
struct PodBooks {
    parts: Parts,
}

/// One bound part: where, whether the kubelet started it (the status a List shows), and how
/// it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PartBook {
    part: Part,
    node: NodeId,
    started: bool,
    ended: Option<Phase>,
}

/// A pod's bound parts (`Few`: inline when there is one, so a million pods' books are 24 MB
/// rather than 150 MB of vectors).
type Parts = Few<PartBook>;

/// What a pod's parts say about it.
trait PartsExt {
    /// The parts bound and not ended.
    fn running(&self) -> impl Iterator<Item = &PartBook> + Clone;
    fn running_mut(&mut self, part: Part, node: NodeId) -> Option<&mut PartBook>;
}

impl PartsExt for Parts {
    fn running(&self) -> impl Iterator<Item = &PartBook> + Clone {
        self.iter().filter(|b| b.ended.is_none())
    }

    fn running_mut(&mut self, part: Part, node: NodeId) -> Option<&mut PartBook> {
        self.iter_mut().find(|b| b.part == part && b.node == node && b.ended.is_none())
    }
}

/// The simulated cluster.
pub struct SimBackend<'s> {
    /// The scenario's objects as they are now (pods created during the run are appended, node
    /// specs change with taints), and the records' way out: changed only through
    /// `Journal::change`, which settles the records' reader first. Shared with the caller until
    /// the first such change (a million generated pods' lists are not copied for a run that
    /// creates none).
    journal: Journal<'s>,
    queue: Agenda,
    /// The scenario's next arrival not yet queued (`scenario.arrivals` is in time order).
    next_arrival: usize,
    now: SimTime,
    end: Option<SimTime>,
    nodes: Vec<NodeBooks>,
    pods: Vec<PodBooks>,
    /// Pods created so far, and pods deleted (by a controller: no part binds any more).
    created: PodSet,
    deleted: PodSet,
    model: Option<ControlPlane>,
    invariants: Option<Invariants>,
    violations: Vec<String>,
    /// Events processed, and the budgets the run stops at.
    meter: Meter,
    /// The last arrival, binding, ending or fault.
    last_change: SimTime,
    /// Kubelet work waiting for a partitioned node to heal (start-ups and endings it could
    /// not report).
    held: Vec<(NodeId, Pending)>,
    /// etcd commits nothing before this time (a leader election).
    etcd_down_until: SimTime,
    /// An apiserver brownout in force, until when.
    brownout: Option<(SimTime, Brownout)>,
    watchers: Vec<Watcher>,
    /// Every watch event's lag, commit to delivery (modelled control plane only).
    watch_lags: Vec<u64>,
    /// Groups created so far, in order (what a List returns).
    created_groups: Vec<podlab_cluster::GroupId>,
    /// Whether a run ends Failed, for pods with `podlab.dev/failure-probability` (drawn only
    /// for them, so other runs' draws never shift).
    exits: rand_chacha::ChaCha8Rng,
    /// The ideal control plane with no component crash: every watcher is up, in its first
    /// incarnation, all run, so a watch event is queued once (`Pending::Broadcast`), not
    /// once per watcher; each pop and push cost about as much as the delivery itself.
    fan_out: bool,
    /// The watch event being handed to each watcher in turn: the next watcher's index, and
    /// the event's kind (for a budget's error); the driver holds the event itself.
    fanning: Option<(u16, &'static str)>,
}

/// Without a `duration`, a run ends when nothing is left to happen by itself and the
/// controllers have changed nothing for this long: they only retry in vain (a gang that can
/// never fit times out and retries forever, for instance).
pub const QUIET_LIMIT: SimDuration = SimDuration::from_secs(3600);

impl<'s> SimBackend<'s> {
    /// `controllers` are the names of the driver's controllers, by id, and `components` the
    /// process each runs in (what a component crash takes down). `recorder` takes the records.
    pub fn new(
        scenario: Arc<Scenario>,
        controllers: Vec<String>,
        components: Vec<Component>,
        options: SimOptions,
        recorder: Recorder<'s>,
    ) -> SimBackend<'s> {
        let SimOptions { seed, check_invariants, budgets, .. } = options;
        assert_eq!(controllers.len(), components.len(), "one component per controller");
        let mut queue = Agenda::with_capacity(1024);
        for to in 0..controllers.len() {
            let to = ControllerId(to as u16);
            queue.push(
                SimTime::ZERO,
                Pending::Deliver { to, event: Event::Start, epoch: 0, committed: MaybeTime::NONE },
            );
        }
        // The first List finds nothing: objects of t = 0 arrive after it, as watch events.
        for to in 0..controllers.len() {
            let to = ControllerId(to as u16);
            queue.push(
                SimTime::ZERO,
                Pending::Deliver { to, event: Event::Synced, epoch: 0, committed: MaybeTime::NONE },
            );
        }
        // Arrivals at t = 0 are queued (after the first List); later ones are read from the
        // scenario's sorted list when their time comes (`pop`), so a million pods do not sit in
        // the queue all run.
        let arrivals_at_zero = scenario.arrivals.partition_point(|a| a.at == SimTime::ZERO);
        for arrival in &scenario.arrivals[..arrivals_at_zero] {
            queue.push(arrival.at, Pending::Arrive(arrival.object));
        }
        for fault in &scenario.faults {
            match *fault {
                Fault::NodeCrash { at, node, recover_after } => {
                    queue.push(at, Pending::Crash(node));
                    if let Some(after) = recover_after {
                        queue.push(at + after, Pending::Recover(node));
                    }
                }
                Fault::Partition { at, node, heal_after } => {
                    queue.push(at, Pending::Partition(node));
                    if let Some(after) = heal_after {
                        queue.push(at + after, Pending::Heal(node));
                    }
                }
                Fault::EtcdLeaderLoss { at, election } => queue.push(at, Pending::EtcdLeaderLoss(election)),
                Fault::ApiServerBrownout { at, lasting, ref brownout } => {
                    queue.push(at, Pending::Brownout { until: at + lasting, brownout: Box::new(brownout.clone()) });
                }
                Fault::ComponentCrash { at, component, ref name, restart_after } => {
                    let crash = ComponentCrash { component, name: name.clone(), restart_after };
                    queue.push(at, Pending::ComponentCrash(Box::new(crash)));
                }
            }
        }
        let model =
            scenario.control_plane.clone().map(|c| ControlPlane::new(c, seed, controllers.len(), scenario.nodes.len()));
        let crashes = scenario.faults.iter().any(|f| matches!(f, Fault::ComponentCrash { .. }));
        // One watcher gains nothing: its delivery is queued once either way.
        let fan_out = model.is_none() && !crashes && controllers.len() > 1;
        SimBackend {
            invariants: check_invariants.then(|| Invariants::new(&scenario)),
            queue,
            next_arrival: arrivals_at_zero,
            now: SimTime::ZERO,
            end: scenario.duration.map(|d| SimTime::ZERO + d),
            nodes: vec![NodeBooks::default(); scenario.nodes.len()],
            pods: vec![PodBooks::default(); scenario.pods.len()],
            created: PodSet::default(),
            deleted: PodSet::default(),
            model,
            violations: Vec::new(),
            meter: Meter::new(budgets, &scenario),
            last_change: SimTime::ZERO,
            held: Vec::new(),
            etcd_down_until: SimTime::ZERO,
            brownout: None,
            exits: podlab_cluster::rng::stream(seed, "kubelet/exits"),
            watchers: components
                .into_iter()
                .map(|component| Watcher {
                    component,
                    down: false,
                    epoch: 0,
                    broken: false,
                    breaks: 0,
                    relisting: false,
                    snapshot: false,
                    missed: Vec::new(),
                    deaths: Vec::new(),
                })
                .collect(),
            watch_lags: Vec::new(),
            created_groups: Vec::new(),
            fan_out,
            fanning: None,
            journal: Journal::new(scenario, controllers, recorder),
        }
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// What can still change the world by itself: arrivals not yet read, events queued that
    /// change it ([`Pending::changes_world`]), and kubelet work held by a partition.
    fn world_pending(&self) -> usize {
        self.queue.world + self.held.len() + (self.journal.scenario().arrivals.len() - self.next_arrival)
    }

    /// When the next thing happens, and whether it is the scenario's next arrival rather than
    /// a queued event. An arrival goes before every event queued for its instant, as it did
    /// when all arrivals were queued up front: every other event at a time after 0 was queued
    /// after them.
    #[inline]
    fn next_time(&self) -> Option<(SimTime, bool)> {
        let arrival = self.journal.scenario().arrivals.get(self.next_arrival).map(|a| a.at);
        match (arrival, self.queue.peek_time()) {
            (Some(a), Some(q)) if a <= q => Some((a, true)),
            (_, Some(q)) => Some((q, false)),
            (Some(a), None) => Some((a, true)),
            (None, None) => None,
        }
    }

    /// The next thing to happen, which [`SimBackend::next_time`] said is an arrival or not.
    #[inline]
    fn pop(&mut self, arrives: bool) -> Option<Pending> {
        if arrives {
            let arrival = self.journal.scenario().arrivals[self.next_arrival];
            self.next_arrival += 1;
            // Nothing queued comes at its instant: the queue moves there, so the watch events
            // the arrival sends join that instant's list at once.
            if self.queue.peek_time().is_none_or(|q| arrival.at < q) {
                self.queue.advance(arrival.at);
            }
            return Some(Pending::Arrive(arrival.object));
        }
        self.queue.pop().map(|(_, pending)| pending)
    }

    pub fn events_processed(&self) -> u64 {
        self.meter.events
    }

    /// The budget the run stopped at, if it reached one (its result is then partial).
    pub fn exceeded(&self) -> Option<&Exceeded> {
        self.meter.exceeded()
    }

    /// What a queued event is, for a livelock's error: a delivery by its receiver and kind.
    fn describe(controllers: &[String], pending: &Pending) -> String {
        let kind = match pending {
            Pending::Deliver { to, event, .. } => {
                let name = &controllers[to.index()];
                return format!("{name} <- {}", event.kind());
            }
            Pending::Broadcast(event) => return format!("watchers <- {}", event.kind()),
            Pending::Arrive(_) => "arrival",
            Pending::PartEnds { .. } => "kubelet: part ends",
            Pending::Apply { .. } | Pending::Attempt { .. } | Pending::ApiFailed(_) => "apiserver: write",
            Pending::Relist { .. } | Pending::RelistDone { .. } | Pending::WatchTimeout { .. } => "apiserver: relist",
            Pending::ComponentCrash(_) | Pending::Restart(_) => "fault: component crash",
            Pending::Started { .. } => "kubelet: part started",
            Pending::Heartbeat(_) => "kubelet: heartbeat",
            _ => "fault",
        };
        kind.to_string()
    }

    /// Ends the run: the end time, the scenario as it ended (with the pods created during the
    /// run), the log, and every invariant violation found (checked runs).
    pub fn finish(mut self) -> (SimTime, Arc<Scenario>, Box<EventLog>, Vec<String>) {
        let end = self.end.unwrap_or(self.now);
        if self.model.is_some() {
            // How late watch events were, over the run: one record at its end.
            let mut lags = std::mem::take(&mut self.watch_lags);
            lags.sort_unstable();
            // Nearest rank, the reports' rule.
            let at = |q: u64| SimDuration(percentile(&lags, q).unwrap_or(0));
            let (p50, p99, max) = (at(50), at(99), at(100));
            self.now = self.now.max(end);
            self.record(Record::WatchLag { events: lags.len() as u64, p50, p99, max });
        }
        if let Some(inv) = &self.invariants {
            // Every pod accounted for: the backend's books and the records agree on each phase.
            for i in 0..self.pods.len() {
                let pod = PodId(i as u32);
                let recorded = inv.phase(self.journal.scenario(), pod);
                let booked = self.created.contains(pod).then(|| self.booked_phase(pod));
                if recorded != booked {
                    self.violations.push(format!(
                        "pod {} is {:?} in the backend but {:?} in the records",
                        self.journal.scenario().pods.get(podlab_cluster::PodId(i as u32)).key(),
                        booked,
                        recorded
                    ));
                }
            }
        }
        let (scenario, log) = self.journal.finish();
        (end, scenario, log, self.violations)
    }

    /// Whether a pod is being placed container by container (any part bound so far says so;
    /// an unbound pod is pending either way).
    fn per_container(&self, pod: PodId) -> bool {
        self.pods[pod.index()].parts.iter().any(|b| matches!(b.part, Part::Container(_)))
    }

    fn booked_phase(&self, pod: PodId) -> Phase {
        let books = &self.pods[pod.index()].parts;
        let parts = self.journal.scenario().pods.spec(pod).part_count(self.per_container(pod));
        let ended = || books.iter().filter_map(|b| b.ended);
        if ended().count() == parts {
            if ended().any(|p| p == Phase::Failed) { Phase::Failed } else { Phase::Succeeded }
        } else if books.len() == parts {
            Phase::Running
        } else {
            Phase::Pending
        }
    }

    fn record(&mut self, record: Record) {
        let stamped = Stamped { time: self.now, record };
        if let Some(inv) = &mut self.invariants
            && let Err(violation) = inv.observe(self.journal.scenario(), &stamped)
        {
            self.violations.push(format!("at {}: {violation}", self.now));
        }
        self.journal.record(stamped);
    }

    /// A watch event to every controller that is up: at once, or each after its own watch
    /// delay. An event may be lost (the watcher's stream breaks); the informer notices when
    /// its next event would have arrived (the resourceVersion jumps) and relists; until the
    /// relist has answered, its events are kept for it.
    fn broadcast(&mut self, event: Event) {
        let now = self.now;
        if self.fan_out {
            return self.queue.push(now, Pending::Broadcast(event));
        }
        if self.model.is_none() {
            return self.broadcast_now(event);
        }
        for (i, w) in self.watchers.iter_mut().enumerate() {
            let to = ControllerId(i as u16);
            if w.down {
                continue;
            }
            let Some(m) = &mut self.model else {
                self.queue.push(
                    now,
                    Pending::Deliver { to, event: event.clone(), epoch: w.epoch, committed: MaybeTime::some(now) },
                );
                continue;
            };
            if w.relisting {
                // A restart's List will show this anyway; a relist replays it afterwards.
                if !w.snapshot {
                    w.missed.push((now, event.clone()));
                }
            } else if w.broken {
                // This event reveals the gap when it arrives: the informer relists then.
                w.missed.push((now, event.clone()));
                w.relisting = true;
                let at = m.watch_arrival(i, now);
                self.queue.push(at, Pending::Relist { to, epoch: w.epoch });
            } else if m.watch_event_lost() {
                w.broken = true;
                w.breaks += 1;
                w.missed.push((now, event.clone()));
                let at = now + m.watch_timeout();
                self.queue.push(at, Pending::WatchTimeout { to, epoch: w.epoch, breaks: w.breaks });
            } else {
                let at = m.watch_arrival(i, now);
                self.queue.push(
                    at,
                    Pending::Deliver { to, event: event.clone(), epoch: w.epoch, committed: MaybeTime::some(now) },
                );
            }
        }
    }

    /// A watch event on the ideal control plane: every controller that is up hears it now (the
    /// last one gets the event itself, the others a copy).
    fn broadcast_now(&mut self, event: Event) {
        let now = self.now;
        let committed = MaybeTime::some(now);
        let Some(last) = self.watchers.iter().rposition(|w| !w.down) else { return };
        for (i, w) in self.watchers[..last].iter().enumerate() {
            if !w.down {
                let (to, epoch) = (ControllerId(i as u16), w.epoch);
                self.queue.push(now, Pending::Deliver { to, event: event.clone(), epoch, committed });
            }
        }
        let (to, epoch) = (ControllerId(last as u16), self.watchers[last].epoch);
        self.queue.push(now, Pending::Deliver { to, event, epoch, committed });
    }

    /// A pod status update (the kubelet's report that a part runs) to every controller that is
    /// up, on the model's status watch: its own delays, so the other watch events keep their
    /// times. (Status events are never lost: only the object watch drops events.)
    fn broadcast_status(&mut self, event: Event) {
        let Some(m) = &mut self.model else { return };
        for (i, w) in self.watchers.iter().enumerate() {
            if w.down {
                continue;
            }
            let at = m.status_arrival(i, self.now);
            let (to, epoch) = (ControllerId(i as u16), w.epoch);
            self.queue
                .push(at, Pending::Deliver { to, event: event.clone(), epoch, committed: MaybeTime::some(self.now) });
        }
    }

    /// A direct message to the controller's current incarnation (a reply goes through
    /// [`SimBackend::reply`]).
    fn deliver(&mut self, to: ControllerId, event: Event) {
        let epoch = self.watchers[to.index()].epoch;
        self.reply(to, epoch, event);
    }

    /// An answer to one incarnation's request: lost if that incarnation has died since.
    fn reply(&mut self, to: ControllerId, epoch: u32, event: Event) {
        self.queue.push(self.now, Pending::Deliver { to, event, epoch, committed: MaybeTime::NONE });
    }

    /// How many objects a List returns: nodes, groups and pods that exist.
    fn objects(&self) -> u64 {
        let nodes = self.nodes.iter().filter(|n| n.joined).count();
        let pods = self.created.len();
        (nodes + self.created_groups.len() + pods) as u64
    }

    /// The cluster as a fresh informer lists it, as the add events it would hand its
    /// handlers: nodes, groups, pods; then each finished part as bound and ended; then each
    /// running part as bound, and started if its kubelet reported it. (Finished parts first, each bound and ended at once: a handler
    /// that accounts bindings never holds a finished part together with the part that took
    /// its place.)
    fn snapshot(&self) -> Vec<Event> {
        let mut out = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if n.joined {
                out.push(Event::NodeAdded { node: NodeId(i as u32), spec: self.journal.scenario().nodes[i].clone() });
            }
        }
        for &group in &self.created_groups {
            out.push(Event::GroupAdded { group, spec: self.journal.scenario().groups[group.index()].clone() });
        }
        let created = || {
            let books = self.pods.iter().enumerate().map(|(i, b)| (PodId(i as u32), b));
            books.filter(|(pod, _)| self.created.contains(*pod))
        };
        for (pod, _) in created() {
            out.push(Event::PodAdded { pod, spec: self.journal.scenario().pods.get(pod).into_owned() });
        }
        for (pod, books) in created() {
            for b in &books.parts {
                if let Some(phase) = b.ended {
                    out.push(Event::Bound { pod, part: b.part, node: b.node });
                    out.push(Event::Ended { pod, part: b.part, node: b.node, phase });
                }
            }
        }
        for (pod, books) in created() {
            for b in books.parts.running() {
                out.push(Event::Bound { pod, part: b.part, node: b.node });
                if b.started {
                    out.push(Event::Started { pod, part: b.part, node: b.node });
                }
            }
        }
        out
    }

    fn changed(&mut self) {
        self.last_change = self.now;
    }

    fn arrive(&mut self, object: ObjectRef) {
        match object {
            ObjectRef::Group(group) => {
                self.created_groups.push(group);
                self.record(Record::GroupCreated { group });
                self.broadcast(Event::GroupAdded {
                    group,
                    spec: self.journal.scenario().groups[group.index()].clone(),
                });
            }
            ObjectRef::Node(node) => {
                self.nodes[node.index()].joined = true;
                self.nodes[node.index()].usage = NodeUse::for_node(&self.journal.scenario().nodes[node.index()]);
                self.record(Record::NodeAdded { node });
                self.broadcast(Event::NodeAdded { node, spec: self.journal.scenario().nodes[node.index()].clone() });
                self.schedule_heartbeat(node);
            }
            ObjectRef::Pod(pod) => self.create_pod(pod),
        }
    }

    fn create_pod(&mut self, pod: PodId) {
        self.created.insert(pod);
        self.record(Record::PodCreated { pod });
        let spec = self.journal.scenario().pods.get(pod).into_owned();
        let node_name = spec.node_name();
        self.broadcast(Event::PodAdded { pod, spec });
        // `spec.nodeName`: bound on arrival, as a kubelet admits a pod named for it. One that
        // does not fit is refused and stays pending (no scheduler will take it).
        if let Some(node) = node_name
            && let Err(reason) = self.apply(pod, Part::Whole, node)
        {
            self.record(Record::BindRefused { pod, part: Part::Whole, node, reason });
        }
    }

    fn schedule_heartbeat(&mut self, node: NodeId) {
        if let Some(m) = &self.model {
            let at = self.now + m.config.heartbeat;
            self.queue.push(at, Pending::Heartbeat(node));
        }
    }

    /// Checks a binding against the true state of the cluster (the scheduler's cache may be
    /// stale), and applies it.
    fn bind(&mut self, pod: PodId, part: Part, node: NodeId) -> Result<(), BindRefusal> {
        let Some(books) = self.pods.get(pod.index()) else { return Err(BindRefusal::AlreadyBound) };
        let mut taken = books.parts.iter().map(|b| b.part);
        if !self.created.contains(pod)
            || self.deleted.contains(pod)
            || taken.any(|p| p == part || p == Part::Whole || part == Part::Whole)
        {
            return Err(BindRefusal::AlreadyBound);
        }
        let Some(n) = self.nodes.get_mut(node.index()) else { return Err(BindRefusal::NoSuchNode) };
        if !n.joined {
            return Err(BindRefusal::NoSuchNode);
        }
        n.usage.admit(self.journal.scenario().pods.spec(pod), pod, part)?;
        self.pods[pod.index()].parts.push(PartBook { part, node, started: false, ended: None });
        Ok(())
    }

    /// Binds a part if the true state allows it, tells everyone, and starts it: at once
    /// (ideal), or when the node's kubelet is through its start-up path.
    fn apply(&mut self, pod: PodId, part: Part, node: NodeId) -> Result<(), BindRefusal> {
        self.bind(pod, part, node)?;
        self.changed();
        self.record(Record::Bound { pod, part, node });
        self.broadcast(Event::Bound { pod, part, node });
        match &mut self.model {
            None => self.started(pod, part, node),
            Some(m) => {
                let (at, pull) = m.start_up(&self.journal.scenario().pods.get(pod), part, node, self.now);
                self.queue.push(at, Pending::Started { pod, part, node, pull });
            }
        }
        Ok(())
    }

    /// The part runs from now, for its pod's duration; it ends Failed at `fail-after` if that
    /// comes first, or by the draw of its `failure-probability`.
    fn started(&mut self, pod: PodId, part: Part, node: NodeId) {
        let Some((after, phase)) = self.journal.scenario().pods.ending(pod, &mut self.exits) else { return };
        self.queue.push(self.now + after, Pending::PartEnds { pod, part, node, phase });
    }

    /// A part stops and gives its resources back.
    fn end_part(&mut self, pod: PodId, part: Part, node: NodeId, phase: Phase) {
        let Some(book) = self.pods[pod.index()].parts.running_mut(part, node) else { return };
        book.started = false;
        book.ended = Some(phase);
        self.nodes[node.index()].usage.release(self.journal.scenario().pods.spec(pod), pod, part);
        self.changed();
        self.record(Record::Ended { pod, part, node, phase });
        self.broadcast(Event::Ended { pod, part, node, phase });
    }

    /// The parts running on a node, in pod order.
    fn parts_on(&self, node: NodeId) -> Vec<(PodId, Part)> {
        let mut out = Vec::new();
        for (i, books) in self.pods.iter().enumerate() {
            for b in books.parts.running() {
                if b.node == node {
                    out.push((PodId(i as u32), b.part));
                }
            }
        }
        out
    }

    fn crash(&mut self, node: NodeId) {
        if !self.nodes[node.index()].joined || self.nodes[node.index()].down {
            return;
        }
        self.nodes[node.index()].down = true;
        self.changed();
        // Its containers die with it; the API still shows them running until the node
        // lifecycle controller evicts them or the kubelet comes back and reports them.
        self.record(Record::NodeCrashed { node });
    }

    fn recover(&mut self, node: NodeId) {
        if !self.nodes[node.index()].down {
            return;
        }
        self.nodes[node.index()].down = false;
        self.changed();
        self.record(Record::NodeRecovered { node });
        // The kubelet reports the containers that died in the crash.
        for (pod, part) in self.parts_on(node) {
            self.end_part(pod, part, node, Phase::Failed);
        }
        self.schedule_heartbeat(node);
    }

    fn set_taint(&mut self, node: NodeId, taint: Option<Taint>, key: &str) {
        let tainted = taint.is_some();
        let Some(spec) = self.journal.scenario().nodes.get(node.index()).and_then(|n| n.retainted(taint, key)) else {
            return;
        };
        let key = key.to_string();
        self.record(if tainted { Record::Tainted { node, key } } else { Record::Untainted { node, key } });
        let spec = Arc::new(spec);
        self.journal.change().nodes[node.index()] = spec.clone();
        self.broadcast(Event::NodeUpdated { node, spec });
    }

    /// A write that reached etcd: carried out now; replies go to incarnation `epoch`.
    fn carry_out(&mut self, from: ControllerId, epoch: u32, action: Action) {
        match action {
            Action::Bind { pod, part, node } => {
                if let Err(reason) = self.apply(pod, part, node) {
                    self.record(Record::BindRefused { pod, part, node, reason: reason.clone() });
                    self.reply(from, epoch, Event::BindRefused(Box::new(Refused { pod, part, node, reason })));
                }
            }
            Action::Commit { claims, detection, all_or_nothing } => {
                let (accepted, conflicted) = self.commit(claims, detection, all_or_nothing);
                self.reply(from, epoch, Event::Committed(Box::new(Commitment { accepted, conflicted })));
            }
            Action::CreatePod { spec } => {
                if !self.meter.create_pod(self.now) {
                    return;
                }
                let pod = PodId(self.journal.scenario().pods.len() as u32);
                self.journal.change().pods.push(spec);
                self.pods.push(PodBooks::default());
                self.changed();
                self.create_pod(pod);
            }
            Action::TaintNode { node, taint } => {
                let key = taint.key.clone();
                self.set_taint(node, Some(taint), &key);
            }
            Action::UntaintNode { node, key } => self.set_taint(node, None, &key),
            Action::Evict { pod } => self.delete_now(pod),
            Action::Preempt { pod, node, victims } => {
                self.record(Record::Preempted { pod, node, victims: victims.clone() });
                for victim in victims {
                    self.terminate(victim);
                }
            }
            other => self.execute_now(from, epoch, other),
        }
    }

    /// A pod deleted at once (an eviction, a controller's deletion): its running parts end
    /// Failed now; a pod never bound is gone and never binds.
    fn delete_now(&mut self, pod: PodId) {
        let Some(books) = self.pods.get_mut(pod.index()) else { return };
        if !self.created.contains(pod) || self.deleted.contains(pod) {
            return;
        }
        self.deleted.insert(pod);
        let never_bound = books.parts.is_empty();
        let running: Vec<(Part, NodeId)> = books.parts.running().map(|b| (b.part, b.node)).collect();
        for (part, node) in running {
            self.end_part(pod, part, node, Phase::Failed);
        }
        if never_bound {
            // A pending pod deleted: gone before it ran; schedulers drop it.
            self.changed();
            self.record(Record::PodDeleted { pod });
            self.broadcast(Event::PodDeleted { pod });
        }
    }

    /// A pod deleted gracefully (a preemption's victim): with a modelled control plane its
    /// parts keep their place until the node's kubelet has seen the deletion and stopped the
    /// containers, then end Failed; on the ideal one, and for a pod never bound, at once.
    fn terminate(&mut self, pod: PodId) {
        if !self.created.contains(pod) || self.deleted.contains(pod) {
            return;
        }
        let running: Vec<(Part, NodeId)> = self.pods[pod.index()].parts.running().map(|b| (b.part, b.node)).collect();
        let Some(model) = self.model.as_mut().filter(|_| !running.is_empty()) else { return self.delete_now(pod) };
        self.deleted.insert(pod);
        let at = model.termination(self.journal.scenario().pods.spec(pod).containers.len(), self.now);
        for (part, node) in running {
            self.queue.push(at, Pending::PartEnds { pod, part, node, phase: Phase::Failed });
        }
    }

    /// Actions that are not writes: timers, notes, messages between controllers.
    fn execute_now(&mut self, from: ControllerId, epoch: u32, action: Action) {
        match action {
            Action::SetTimer { at, token } => {
                debug_assert!(at >= self.now, "a controller set a timer in the past");
                // A timer lives in its process: it dies with it (the epoch).
                let event = Event::Timer { token };
                self.queue
                    .push(at.max(self.now), Pending::Deliver { to: from, event, epoch, committed: MaybeTime::NONE });
            }
            Action::ReportUnschedulable { pod, part, message } => {
                self.record(Record::Unschedulable { pod, part, message: message.into() })
            }
            Action::Send { to, message } => self.deliver(to, Event::Message { from, message: Box::new(message) }),
            Action::Note(note) => self.record(Record::Note { by: from, note }),
            write => self.carry_out(from, epoch, write),
        }
    }

    /// An optimistic transaction, by the rule both backends share (`commit::commit`).
    fn commit(
        &mut self,
        claims: Vec<Claim>,
        detection: ConflictDetection,
        all_or_nothing: bool,
    ) -> (Vec<Claim>, Vec<Claim>) {
        commit::commit(&mut Omega(self), claims, detection, all_or_nothing)
    }
}

/// The simulated cluster as an Omega commit sees it.
struct Omega<'b, 's>(&'b mut SimBackend<'s>);

impl Ledger for Omega<'_, '_> {
    fn books(&self, node: NodeId) -> Option<&NodeUse> {
        self.0.nodes.get(node.index()).map(|n| &n.usage)
    }

    fn takes_parts(&self, node: NodeId) -> bool {
        self.0.nodes[node.index()].joined
    }

    fn requests(&self, pod: PodId, part: Part) -> &Resources {
        self.0.journal.scenario().pods.spec(pod).part_requests(part)
    }

    fn bind(&mut self, c: &Claim) -> bool {
        self.0.apply(c.pod, c.part, c.node).is_ok()
    }

    fn conflict(&mut self, c: &Claim) {
        self.0.record(Record::Conflict { pod: c.pod, part: c.part, node: c.node });
    }
}

impl<'s> SimBackend<'s> {
    /// A component's process dies: each of its controllers (or only the one named) is down,
    /// forgets its broken watch, and comes back after `restart_after` if given.
    fn crash_component(&mut self, component: Component, name: Option<&str>, restart_after: Option<SimDuration>) {
        for i in 0..self.watchers.len() {
            let w = &mut self.watchers[i];
            if w.component != component || w.down || name.is_some_and(|n| n != self.journal.controllers()[i]) {
                continue;
            }
            w.down = true;
            debug_assert_eq!(w.deaths.len(), w.epoch as usize, "each incarnation dies once");
            w.deaths.push(self.now);
            (w.broken, w.relisting, w.snapshot) = (false, false, false);
            w.missed.clear();
            let by = ControllerId(i as u16);
            self.record(Record::ControllerCrashed { by });
            if let Some(after) = restart_after {
                self.queue.push(self.now + after, Pending::Restart(by));
            }
        }
    }

    /// Whether incarnation `epoch` of `from` had died by `at` (a request it would send then
    /// is never sent).
    fn died_before(&self, from: ControllerId, epoch: u32, at: SimTime) -> bool {
        self.watchers[from.index()].deaths.get(epoch as usize).is_some_and(|&death| at > death)
    }

    /// A crashed controller's process starts again: a new incarnation gets `Start` (the
    /// driver builds it afresh), then lists the cluster and gets it as add events.
    fn restart(&mut self, to: ControllerId) {
        let w = &mut self.watchers[to.index()];
        if !w.down {
            return;
        }
        w.down = false;
        w.epoch += 1;
        (w.relisting, w.snapshot) = (true, true);
        let epoch = w.epoch;
        self.record(Record::ControllerRestarted { by: to });
        self.reply(to, epoch, Event::Start);
        self.queue.push(self.now, Pending::Relist { to, epoch });
    }

    /// A List answered: a restarted controller gets the cluster as add events; a watcher
    /// whose stream broke gets the events it lost and those since, in order. (client-go's
    /// informer would instead diff the List against its cache — `Replace` — and hand its
    /// handlers the differences; replaying the events gives the handlers the same final state
    /// by the same path they already know.) Then the watch goes on.
    fn relisted(&mut self, to: ControllerId, epoch: u32, latency: SimDuration) {
        let w = &self.watchers[to.index()];
        if w.epoch != epoch || w.down {
            return;
        }
        let objects = self.objects();
        let snapshot = w.snapshot;
        let events: Vec<(MaybeTime, Event)> = if snapshot {
            self.snapshot().into_iter().chain([Event::Synced]).map(|e| (MaybeTime::NONE, e)).collect()
        } else {
            std::mem::take(&mut self.watchers[to.index()].missed)
                .into_iter()
                .map(|(t, e)| (MaybeTime::some(t), e))
                .collect()
        };
        let missed = if snapshot { 0 } else { events.len() as u64 };
        let w = &mut self.watchers[to.index()];
        (w.broken, w.relisting, w.snapshot) = (false, false, false);
        w.missed.clear();
        let m = self.model.as_mut().expect("relists happen with a modelled control plane");
        let at = m.hold_watch(to.index(), self.now);
        for (committed, event) in events {
            self.queue.push(at, Pending::Deliver { to, event, epoch, committed });
        }
        self.record(Record::Relisted { by: to, objects, latency, missed });
    }
}

/// What each queued event does when its time comes.
impl SimBackend<'_> {
    /// Carries out one queued event other than a delivery (the time is already `now`).
    #[inline(never)]
    fn happen(&mut self, pending: Pending) {
        match pending {
            Pending::Deliver { .. } | Pending::Broadcast(_) => {
                unreachable!("deliveries are handed over by the event loop")
            }
            Pending::Apply { from, action, latency, epoch, sent } => {
                self.write_reached_etcd(from, action, latency, epoch, sent)
            }
            Pending::Attempt { from, action, epoch, since, failures } => {
                self.attempt(from, action, epoch, since, failures)
            }
            Pending::ApiFailed(failed) => self.record(*failed),
            Pending::Relist { to, epoch } => self.relist(to, epoch),
            Pending::RelistDone { to, epoch, latency } => self.relisted(to, epoch, latency),
            Pending::WatchTimeout { to, epoch, breaks } => {
                let w = &mut self.watchers[to.index()];
                if w.epoch == epoch && !w.down && w.broken && !w.relisting && w.breaks == breaks {
                    w.relisting = true;
                    self.queue.push(self.now, Pending::Relist { to, epoch });
                }
            }
            Pending::PartEnds { .. } | Pending::Started { .. } | Pending::Heartbeat(_) => self.kubelet(pending),
            Pending::Arrive(object) => {
                self.changed();
                self.arrive(object);
            }
            Pending::ComponentCrash(crash) => {
                let ComponentCrash { component, name, restart_after } = *crash;
                self.changed();
                self.crash_component(component, name.as_deref(), restart_after);
            }
            Pending::Restart(to) => {
                self.changed();
                self.restart(to);
            }
            Pending::Crash(node) => self.crash(node),
            Pending::Recover(node) => self.recover(node),
            Pending::Partition(_) | Pending::Heal(_) | Pending::EtcdLeaderLoss(_) | Pending::Brownout { .. } => {
                self.fault(pending)
            }
        }
    }

    /// An event reaching a controller: handed over unless its incarnation has died.
    #[inline]
    fn delivery(&mut self, to: ControllerId, event: Event, epoch: u32, committed: MaybeTime) -> Option<Delivery> {
        let w = &self.watchers[to.index()];
        if w.down || w.epoch != epoch {
            return None;
        }
        if let Some(at) = committed.get()
            && self.model.is_some()
        {
            self.watch_lags.push(self.now.since(at).as_nanos());
        }
        Some(Delivery { to, now: self.now, event })
    }

    /// The watch event being fanned out, to the next watcher: counted as one event each, as
    /// a delivery queued per watcher would be (the summary's `events` and the budgets see the
    /// same run). The first watcher is handed the event, the others the same again.
    #[inline(always)]
    fn hand_on(&mut self, event: Option<Event>) -> Option<Handover> {
        let (next, kind) = self.fanning.as_mut()?;
        let to = ControllerId(*next);
        self.meter.events += 1;
        self.meter.work += 1;
        if self.meter.work >= self.meter.check_at {
            let (names, kind) = (self.journal.controllers(), *kind);
            if self.meter.check(self.now, || format!("{} <- {kind}", names[to.index()])) {
                self.fanning = None;
                self.end = Some(self.now);
                return None;
            }
        }
        *next += 1;
        if usize::from(*next) == self.watchers.len() {
            self.fanning = None;
        }
        Some(match event {
            Some(event) => Handover::Delivery(Delivery { to, now: self.now, event }),
            None => Handover::Again(to),
        })
    }

    /// A controller's write reaching etcd: carried out, unless its process died before it
    /// left the client or etcd has no leader (then it waits for the election to end).
    fn write_reached_etcd(
        &mut self,
        from: ControllerId,
        action: Box<Action>,
        latency: SimDuration,
        epoch: u32,
        sent: SimTime,
    ) {
        if self.died_before(from, epoch, sent) {
            // Still in the client's rate limiter when its process died.
            return;
        }
        if self.now < self.etcd_down_until {
            // No leader: the write waits for the election to end.
            let wait = self.etcd_down_until.since(self.now);
            let retry = Pending::Apply { from, action, latency: latency + wait, epoch, sent };
            self.queue.push(self.etcd_down_until, retry);
            return;
        }
        self.record(Record::Api { verb: action.verb(), latency });
        self.carry_out(from, epoch, *action);
    }

    /// One attempt of a write during a brownout: it goes on to etcd, or fails and is retried.
    fn attempt(&mut self, from: ControllerId, action: Box<Action>, epoch: u32, since: SimTime, failures: u32) {
        if self.died_before(from, epoch, self.now) {
            // The client's retry loop died with its process.
            return;
        }
        let brownout = self.brownout.as_ref().filter(|(until, _)| self.now < *until).map(|(_, b)| b);
        let m = self.model.as_mut().expect("attempts happen with a modelled control plane");
        let outcome = match brownout {
            Some(b) => m.browned_out_attempt(b, failures),
            None => {
                let (api, etcd) = m.write_latency();
                Ok(api + etcd)
            }
        };
        match outcome {
            Ok(took) => {
                let latency = self.now.since(since) + took;
                let apply = Pending::Apply { from, action, latency, epoch, sent: self.now };
                self.queue.push(self.now + took, apply);
            }
            Err((spent, reason, retry_after)) => {
                let verb = action.verb();
                let failed = Record::ApiFailed { verb, reason, retry_after };
                self.queue.push(self.now + spent, Pending::ApiFailed(Box::new(failed)));
                let retry = Pending::Attempt { from, action, epoch, since, failures: failures + 1 };
                self.queue.push(self.now + spent + retry_after, retry);
            }
        }
    }

    /// A watcher's List call goes out (unless its incarnation has died); it answers after the
    /// model's list latency.
    fn relist(&mut self, to: ControllerId, epoch: u32) {
        if self.watchers[to.index()].epoch != epoch || self.watchers[to.index()].down {
            return;
        }
        let objects = self.objects();
        let m = self.model.as_mut().expect("relists happen with a modelled control plane");
        let latency = m.list_latency(objects);
        self.queue.push(self.now + latency, Pending::RelistDone { to, epoch, latency });
    }

    /// A node's kubelet at work: a part ends or has started, or it sends a heartbeat. A
    /// partitioned kubelet holds its reports until the partition heals.
    fn kubelet(&mut self, pending: Pending) {
        match pending {
            Pending::PartEnds { pod, part, node, phase } => {
                if self.nodes[node.index()].partitioned {
                    // The container finished, but the kubelet reports it only after healing.
                    self.held.push((node, Pending::PartEnds { pod, part, node, phase }));
                    return;
                }
                // A part on a crashed node does not finish: it died with the node.
                if !self.nodes[node.index()].down {
                    self.end_part(pod, part, node, phase);
                }
            }
            Pending::Started { pod, part, node, pull } => {
                if self.nodes[node.index()].partitioned {
                    // The kubelet cannot see the binding until the partition heals.
                    self.held.push((node, Pending::Started { pod, part, node, pull }));
                    return;
                }
                let running = self.pods[pod.index()].parts.running_mut(part, node).is_some();
                if running && !self.nodes[node.index()].down {
                    self.changed();
                    self.record(Record::Started { pod, part, node, pull });
                    if let Some(book) = self.pods[pod.index()].parts.running_mut(part, node) {
                        book.started = true;
                    }
                    self.broadcast_status(Event::Started { pod, part, node });
                    self.started(pod, part, node);
                }
            }
            Pending::Heartbeat(node) => {
                // Heartbeats are not the world changing by themselves: a silent cluster
                // heartbeating forever must still end. A partitioned kubelet keeps trying;
                // none of its reports arrive.
                if !self.nodes[node.index()].down {
                    if !self.nodes[node.index()].partitioned {
                        self.broadcast(Event::NodeHeartbeat { node });
                    }
                    self.schedule_heartbeat(node);
                }
            }
            _ => unreachable!("not the kubelet's"),
        }
    }

    /// A fault of the network or the control plane begins or ends.
    fn fault(&mut self, pending: Pending) {
        self.changed();
        match pending {
            Pending::Partition(node) => {
                self.nodes[node.index()].partitioned = true;
                self.record(Record::Partitioned { node });
            }
            Pending::Heal(node) => {
                self.nodes[node.index()].partitioned = false;
                self.record(Record::Healed { node });
                let (mine, others): (Vec<_>, Vec<_>) =
                    std::mem::take(&mut self.held).into_iter().partition(|(n, _)| *n == node);
                self.held = others;
                for (_, pending) in mine {
                    self.queue.push(self.now, pending);
                }
            }
            Pending::EtcdLeaderLoss(election) => {
                self.etcd_down_until = self.now + election;
                self.record(Record::EtcdLeaderLost { election });
            }
            Pending::Brownout { until, brownout } => {
                let error_rate_permille = (brownout.error_rate * 1000.0).round() as u32;
                self.brownout = Some((until, *brownout));
                self.record(Record::ApiServerBrownout { until, error_rate_permille });
            }
            _ => unreachable!("not a fault"),
        }
    }
}

impl Backend for SimBackend<'_> {
    fn next_delivery(&mut self) -> Option<Handover> {
        // A watch event's later watchers come before anything queued after it, as their own
        // deliveries would have: they were pushed together.
        if self.fanning.is_some() {
            return self.hand_on(None);
        }
        loop {
            // Looked at once: the time decides whether the run goes on, and the same answer
            // says where the event comes from.
            let (time, arrives) = self.next_time()?;
            if self.end.is_some_and(|end| time > end) {
                return None;
            }
            if self.end.is_none() && self.world_pending() == 0 && time.since(self.last_change) > QUIET_LIMIT {
                self.end = Some(self.last_change + QUIET_LIMIT);
                return None;
            }
            let pending = self.pop(arrives)?;
            if time != self.now {
                self.meter.new_instant();
            }
            self.now = time;
            if let Pending::Broadcast(event) = pending {
                self.fanning = Some((0, event.kind()));
                return self.hand_on(Some(event));
            }
            self.meter.events += 1;
            self.meter.work += 1;
            if self.meter.work >= self.meter.check_at
                && self.meter.check(time, || Self::describe(self.journal.controllers(), &pending))
            {
                // A budget reached: the run ends here, its result partial.
                self.end = Some(time);
                return None;
            }
            // Three events in four are deliveries: handed over here, and everything else out of
            // line in `happen`.
            if let Pending::Deliver { to, event, epoch, committed } = pending {
                if let Some(delivery) = self.delivery(to, event, epoch, committed) {
                    return Some(Handover::Delivery(delivery));
                }
            } else {
                self.happen(pending);
            }
        }
    }

    fn execute(&mut self, from: ControllerId, action: Action) {
        self.meter.work += 1;
        if self.meter.work >= self.meter.check_at {
            let names = self.journal.controllers();
            if self.meter.check(self.now, || format!("{} -> {}", names[from.index()], action.kind())) {
                return;
            }
        }
        let is_write = matches!(
            action,
            Action::Bind { .. }
                | Action::Commit { .. }
                | Action::CreatePod { .. }
                | Action::TaintNode { .. }
                | Action::UntaintNode { .. }
                | Action::Evict { .. }
                | Action::Preempt { .. }
        );
        let browned_out = self.brownout.as_ref().is_some_and(|(until, _)| self.now < *until);
        let epoch = self.watchers[from.index()].epoch;
        match &mut self.model {
            Some(m) if is_write => {
                let throttled = m.throttle(from.index(), self.now);
                if browned_out {
                    // Each attempt, and each retry, meets the apiserver as it is at that time.
                    let attempt =
                        Pending::Attempt { from, action: Box::new(action), epoch, since: self.now, failures: 0 };
                    self.queue.push(self.now + throttled, attempt);
                } else {
                    let (api, etcd) = m.write_latency();
                    let latency = throttled + api + etcd;
                    let sent = self.now + throttled;
                    let action = Box::new(action);
                    self.queue.push(self.now + latency, Pending::Apply { from, action, latency, epoch, sent });
                }
            }
            _ => self.execute_now(from, epoch, action),
        }
    }
}
#[cfg(test)]
mod sizes {
    /// Every live pod has an event queued (its end, at least): a queued event's size is part
    /// of what a live pod costs. The rare, large payloads are boxed to keep it so.
    #[test]
    fn queued_events_stay_small() {
        assert!(size_of::<podlab_cluster::Event>() <= 16, "Event: {} B", size_of::<podlab_cluster::Event>());
        assert!(size_of::<super::Pending>() <= 32, "Pending: {} B", size_of::<super::Pending>());
    }

    /// The backend keeps books for every pod of the run.
    #[test]
    fn pod_books_stay_small() {
        assert!(size_of::<super::PodBooks>() <= 16, "PodBooks: {} B", size_of::<super::PodBooks>());
    }
}
