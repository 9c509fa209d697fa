//! `SimBackend`: the cluster in virtual time. It creates the scenario's objects when they
//! arrive, carries out bindings against the true node capacities, runs each pod for its
//! duration, broadcasts every change to every controller as a watch event, and writes the log.

use podlab_cluster::scenario::{ObjectRef, Scenario};
use podlab_cluster::{
    Action, Backend, BindRefusal, ControllerId, Delivery, Event, NodeId, Part, Phase, PodId, Record, Resources,
    SimTime, Stamped,
};

use crate::invariants::Invariants;
use crate::log::EventLog;
use crate::queue::EventQueue;

enum Pending {
    Arrive(ObjectRef),
    PartEnds { pod: PodId, part: Part, node: NodeId },
    Deliver { to: ControllerId, event: Event },
}

#[derive(Clone, Default)]
struct NodeBooks {
    joined: bool,
    requested: Resources,
    parts: u64,
}

#[derive(Clone, Default)]
struct PodBooks {
    created: bool,
    /// Parts running now, and where.
    running: Vec<(Part, NodeId)>,
    /// Parts that ran and ended.
    ended: Vec<(Part, Phase)>,
}

/// The simulated cluster.
pub struct SimBackend<'s> {
    scenario: &'s Scenario,
    queue: EventQueue<Pending>,
    now: SimTime,
    end: Option<SimTime>,
    controllers: u16,
    nodes: Vec<NodeBooks>,
    pods: Vec<PodBooks>,
    log: EventLog,
    invariants: Option<Invariants>,
    violations: Vec<String>,
    events_processed: u64,
}

impl<'s> SimBackend<'s> {
    pub fn new(scenario: &'s Scenario, controllers: usize, check_invariants: bool) -> SimBackend<'s> {
        let mut queue = EventQueue::with_capacity(scenario.arrivals.len() * 2);
        for arrival in &scenario.arrivals {
            queue.push(arrival.at, Pending::Arrive(arrival.object));
        }
        SimBackend {
            scenario,
            queue,
            now: SimTime::ZERO,
            end: scenario.duration.map(|d| SimTime::ZERO + d),
            controllers: controllers as u16,
            nodes: vec![NodeBooks::default(); scenario.nodes.len()],
            pods: vec![PodBooks::default(); scenario.pods.len()],
            log: EventLog::default(),
            invariants: check_invariants.then(|| Invariants::new(scenario)),
            violations: Vec::new(),
            events_processed: 0,
        }
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }

    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    /// Ends the run: the end time, the log, and every invariant violation found (checked runs).
    pub fn finish(mut self) -> (SimTime, EventLog, Vec<String>) {
        let end = self.end.unwrap_or(self.now);
        if let Some(inv) = &self.invariants {
            // Every pod accounted for: the backend's books and the records agree on each phase.
            for (i, books) in self.pods.iter().enumerate() {
                let pod = PodId(i as u32);
                let recorded = inv.phase(self.scenario, pod);
                let booked = books.created.then(|| self.booked_phase(pod));
                if recorded != booked {
                    self.violations.push(format!(
                        "pod {} is {:?} in the backend but {:?} in the records",
                        self.scenario.pods[i].key(),
                        booked,
                        recorded
                    ));
                }
            }
        }
        (end, self.log, self.violations)
    }

    /// Whether a pod is being placed container by container (any part bound so far says so;
    /// an unbound pod is pending either way).
    fn per_container(&self, pod: PodId) -> bool {
        let books = &self.pods[pod.index()];
        books
            .running
            .iter()
            .map(|(p, _)| p)
            .chain(books.ended.iter().map(|(p, _)| p))
            .any(|p| matches!(p, Part::Container(_)))
    }

    fn booked_phase(&self, pod: PodId) -> Phase {
        let books = &self.pods[pod.index()];
        let parts = self.scenario.pods[pod.index()].parts(self.per_container(pod)).len();
        if books.ended.len() == parts {
            if books.ended.iter().any(|(_, p)| *p == Phase::Failed) { Phase::Failed } else { Phase::Succeeded }
        } else if books.running.len() + books.ended.len() == parts {
            Phase::Running
        } else {
            Phase::Pending
        }
    }

    fn record(&mut self, record: Record) {
        if let Some(inv) = &mut self.invariants {
            let stamped = Stamped { time: self.now, record: record.clone() };
            if let Err(violation) = inv.observe(self.scenario, &stamped) {
                self.violations.push(format!("at {}: {violation}", self.now));
            }
        }
        self.log.append(self.scenario, self.now, record);
    }

    fn broadcast(&mut self, event: Event) {
        for to in 0..self.controllers {
            self.queue.push(self.now, Pending::Deliver { to: ControllerId(to), event: event.clone() });
        }
    }

    fn arrive(&mut self, object: ObjectRef) {
        match object {
            ObjectRef::Group(group) => {
                self.record(Record::GroupCreated { group });
                self.broadcast(Event::GroupAdded { group, spec: self.scenario.groups[group.index()].clone() });
            }
            ObjectRef::Node(node) => {
                self.nodes[node.index()].joined = true;
                self.record(Record::NodeAdded { node });
                self.broadcast(Event::NodeAdded { node, spec: self.scenario.nodes[node.index()].clone() });
            }
            ObjectRef::Pod(pod) => {
                self.pods[pod.index()].created = true;
                self.record(Record::PodCreated { pod });
                self.broadcast(Event::PodAdded { pod, spec: self.scenario.pods[pod.index()].clone() });
            }
        }
    }

    /// Checks a binding against the true state of the cluster (the scheduler's cache may be
    /// stale), and applies it.
    fn bind(&mut self, pod: PodId, part: Part, node: NodeId) -> Result<(), BindRefusal> {
        let books = &self.pods[pod.index()];
        let taken = books.running.iter().map(|(p, _)| p).chain(books.ended.iter().map(|(p, _)| p));
        if !books.created || taken.clone().any(|p| *p == part || *p == Part::Whole || part == Part::Whole) {
            return Err(BindRefusal::AlreadyBound);
        }
        let Some(spec) = self.scenario.nodes.get(node.index()) else { return Err(BindRefusal::NoSuchNode) };
        let n = &mut self.nodes[node.index()];
        if !n.joined {
            return Err(BindRefusal::NoSuchNode);
        }
        let request = self.scenario.pods[pod.index()].part_requests(part);
        let mut after = n.requested.clone();
        after.add(request);
        if let Some(resource) = after.first_shortfall(&spec.allocatable) {
            return Err(BindRefusal::Insufficient(resource.to_string()));
        }
        if n.parts >= spec.max_pods {
            return Err(BindRefusal::Insufficient("pods".into()));
        }
        n.requested = after;
        n.parts += 1;
        self.pods[pod.index()].running.push((part, node));
        Ok(())
    }

    fn part_ends(&mut self, pod: PodId, part: Part, node: NodeId) {
        let books = &mut self.pods[pod.index()];
        let Some(i) = books.running.iter().position(|r| *r == (part, node)) else { return };
        books.running.swap_remove(i);
        books.ended.push((part, Phase::Succeeded));
        let n = &mut self.nodes[node.index()];
        n.requested.sub(self.scenario.pods[pod.index()].part_requests(part));
        n.parts -= 1;
        self.record(Record::Ended { pod, part, node, phase: Phase::Succeeded });
        self.broadcast(Event::Ended { pod, part, node, phase: Phase::Succeeded });
    }
}

impl Backend for SimBackend<'_> {
    fn next_delivery(&mut self) -> Option<Delivery> {
        loop {
            let time = self.queue.peek_time()?;
            if self.end.is_some_and(|end| time > end) {
                return None;
            }
            let (time, pending) = self.queue.pop()?;
            self.now = time;
            self.events_processed += 1;
            match pending {
                Pending::Arrive(object) => self.arrive(object),
                Pending::PartEnds { pod, part, node } => self.part_ends(pod, part, node),
                Pending::Deliver { to, event } => return Some(Delivery { to, now: time, event }),
            }
        }
    }

    fn execute(&mut self, from: ControllerId, action: Action) {
        match action {
            Action::Bind { pod, part, node } => match self.bind(pod, part, node) {
                Ok(()) => {
                    self.record(Record::Bound { pod, part, node });
                    self.broadcast(Event::Bound { pod, part, node });
                    if let Some(run_for) = self.scenario.pods[pod.index()].run_for {
                        self.queue.push(self.now + run_for, Pending::PartEnds { pod, part, node });
                    }
                }
                Err(reason) => {
                    self.record(Record::BindRefused { pod, part, node, reason: reason.clone() });
                    self.queue.push(
                        self.now,
                        Pending::Deliver { to: from, event: Event::BindRefused { pod, part, node, reason } },
                    );
                }
            },
            Action::SetTimer { at, token } => {
                debug_assert!(at >= self.now, "a controller set a timer in the past");
                self.queue.push(at.max(self.now), Pending::Deliver { to: from, event: Event::Timer { token } });
            }
            Action::ReportUnschedulable { pod, part, message } => {
                self.record(Record::Unschedulable { pod, part, message })
            }
        }
    }
}
