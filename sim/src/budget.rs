//! Budgets a simulated run stops at: events processed, work (events and actions) at one
//! simulated instant, and pods created by controllers. A run that reaches one stops cleanly
//! with a partial result that says why ([`Exceeded`]), instead of spinning or growing until the
//! machine kills it.

use std::collections::BTreeMap;
use std::fmt;

use podlab_cluster::SimTime;
use podlab_cluster::scenario::Scenario;

/// The limits a run stops at. The defaults are generous for real work: the bundled scenarios,
/// the benches (a million pods, a Google cell's day) stay far below them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budgets {
    /// Events processed in the whole run (`--max-events`).
    pub events: u64,
    /// Events and actions at one simulated instant (`--max-instant-events`): past it time has
    /// stopped moving — a livelock. `None`: [`Budgets::instant_for`] scales it to the scenario.
    pub instant: Option<u64>,
    /// Pods the controllers create in the whole run (`--max-created-pods`).
    pub created_pods: u64,
}

impl Budgets {
    /// A Google cell's day (`benches/scenarios/google-cell-day.yaml`, 12 million pods)
    /// processes 83 million events; twelve times that is some minutes of a release build.
    pub const EVENTS: u64 = 1_000_000_000;
    /// Work at one instant allowed to any scenario: a second or two of a release build.
    pub const INSTANT_BASE: u64 = 1_000_000;
    /// And per object the scenario holds at the start (nodes, pods, groups): what arrives at
    /// one instant is heard by every controller, bound, started and heard of again; the
    /// bundled scenarios and benches use fewer than 40 events and actions per object at any
    /// one instant.
    pub const INSTANT_PER_OBJECT: u64 = 256;
    /// Pods created by controllers: a created pod is kept whole to the end (its spec, books,
    /// records), a few hundred bytes each, so a million is a few hundred MB.
    pub const CREATED_PODS: u64 = 1_000_000;
    /// The defaults, all three.
    pub const DEFAULT: Budgets = Budgets { events: Self::EVENTS, instant: None, created_pods: Self::CREATED_PODS };

    /// The work-at-one-instant budget for `scenario`: the explicit one, or
    /// [`Budgets::INSTANT_BASE`] plus [`Budgets::INSTANT_PER_OBJECT`] per object.
    pub fn instant_for(&self, scenario: &Scenario) -> u64 {
        self.instant.unwrap_or_else(|| {
            let objects = (scenario.nodes.len() + scenario.pods.len() + scenario.groups.len()) as u64;
            Self::INSTANT_BASE.saturating_add(Self::INSTANT_PER_OBJECT.saturating_mul(objects))
        })
    }
}

impl Default for Budgets {
    fn default() -> Budgets {
        Self::DEFAULT
    }
}

/// Which budget a run reached, and where: the run stopped there, and its result is partial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exceeded {
    Events {
        limit: u64,
        at: SimTime,
    },
    /// Time stopped moving: `limit` events and actions at the instant `at`; `busiest` names
    /// what happened most there (component and event or action kind, and how often, among a
    /// sample of what came next).
    Instant {
        limit: u64,
        at: SimTime,
        busiest: Vec<(String, u64)>,
    },
    CreatedPods {
        limit: u64,
        at: SimTime,
    },
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exceeded::Events { limit, at } => {
                write!(f, "stopped at {at}: {limit} events processed, the run's budget (raise it with --max-events)")
            }
            Exceeded::Instant { limit, at, busiest } => {
                write!(
                    f,
                    "stopped at {at}: time stopped moving — {limit} events and actions at this one instant \
                     (a livelock; raise the budget with --max-instant-events if the work is real). Busiest:"
                )?;
                let total: u64 = busiest.iter().map(|(_, n)| n).sum::<u64>().max(1);
                for (what, n) in busiest {
                    write!(f, " {what} {}%;", n * 100 / total)?;
                }
                Ok(())
            }
            Exceeded::CreatedPods { limit, at } => write!(
                f,
                "stopped at {at}: controllers created {limit} pods, the run's budget (pods that keep failing \
                 and being replaced?; raise it with --max-created-pods)"
            ),
        }
    }
}

/// What happens at an instant past its budget, counted for the error: a delivery by its
/// receiver and event kind, an action by its sender and verb, anything else by its kind.
#[derive(Debug, Default)]
pub(crate) struct Busiest {
    counts: BTreeMap<String, u64>,
    pub(crate) sampled: u64,
}

impl Busiest {
    /// How many events and actions past the budget are sampled before the run stops.
    pub(crate) const SAMPLE: u64 = 10_000;

    pub(crate) fn count(&mut self, what: String) {
        self.sampled += 1;
        *self.counts.entry(what).or_default() += 1;
    }

    /// The five most frequent, most first (ties by name: the error is deterministic too).
    pub(crate) fn top(self) -> Vec<(String, u64)> {
        let mut all: Vec<(String, u64)> = self.counts.into_iter().collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(5);
        all
    }
}

/// Where a run stands against its [`Budgets`]. The backend's hot path only counts and compares
/// `work` with `check_at`; everything else happens in [`Meter::check`], when they meet.
#[derive(Debug)]
pub(crate) struct Meter {
    budgets: Budgets,
    instant_limit: u64,
    /// Events processed so far (what a summary reports).
    pub(crate) events: u64,
    /// Events and actions so far, and at the start of the current instant.
    pub(crate) work: u64,
    instant_start: u64,
    /// The `work` from which a budget may have been reached; 0 while every event and action
    /// must be looked at (sampling a livelock, or stopped).
    pub(crate) check_at: u64,
    created_pods: u64,
    /// Sampling an instant past its budget: what happens there, and when it was.
    busiest: Option<(SimTime, Busiest)>,
    exceeded: Option<Exceeded>,
}

impl Meter {
    pub(crate) fn new(budgets: Budgets, scenario: &Scenario) -> Meter {
        let mut meter = Meter {
            budgets,
            instant_limit: budgets.instant_for(scenario),
            events: 0,
            work: 0,
            instant_start: 0,
            check_at: 0,
            created_pods: 0,
            busiest: None,
            exceeded: None,
        };
        meter.arm();
        meter
    }

    /// The first `work` at which the instant's budget or the run's could be exceeded (events
    /// grow no faster than work).
    fn arm(&mut self) {
        let instant = self.instant_start.saturating_add(self.instant_limit).saturating_add(1);
        let events = self.work.saturating_add(self.budgets.events.saturating_add(1).saturating_sub(self.events));
        self.check_at = instant.min(events);
    }

    /// Simulated time moved on. An instant being sampled ends the sample: the run stops.
    #[inline]
    pub(crate) fn new_instant(&mut self) {
        if self.busiest.is_some() {
            self.end_sample();
        }
        self.instant_start = self.work;
        if self.exceeded.is_none() {
            self.arm();
        }
    }

    /// The sampled instant ended before the sample was full: the run stops on what it holds.
    /// Out of line: the hot loop calls `new_instant` at every instant and never gets here.
    #[cold]
    #[inline(never)]
    fn end_sample(&mut self) {
        if let Some((at, busiest)) = self.busiest.take() {
            let limit = self.instant_limit;
            self.exceeded = Some(Exceeded::Instant { limit, at, busiest: busiest.top() });
        }
    }

    /// A controller asks for a pod: whether the budget allows it (if not, the run stops).
    pub(crate) fn create_pod(&mut self, now: SimTime) -> bool {
        self.created_pods += 1;
        if self.created_pods > self.budgets.created_pods {
            self.stop(Exceeded::CreatedPods { limit: self.budgets.created_pods, at: now });
            return false;
        }
        true
    }

    fn stop(&mut self, exceeded: Exceeded) {
        self.exceeded.get_or_insert(exceeded);
        self.busiest = None;
        self.check_at = 0;
    }

    /// `work` reached `check_at`: whether the run must stop before what `what` names (a
    /// delivery, an action) happens. Past an instant's budget, a sample of what comes next is
    /// counted first, so the error can say what spins. Out of line: reached once per armed
    /// distance, it keeps the event loop's code small.
    #[cold]
    #[inline(never)]
    pub(crate) fn check(&mut self, now: SimTime, what: impl FnOnce() -> String) -> bool {
        if self.exceeded.is_some() {
            return true;
        }
        if self.events > self.budgets.events {
            self.stop(Exceeded::Events { limit: self.budgets.events, at: now });
            return true;
        }
        if self.busiest.is_none() && self.work - self.instant_start > self.instant_limit {
            self.busiest = Some((now, Busiest::default()));
            self.check_at = 0;
        }
        let Some((at, busiest)) = &mut self.busiest else {
            self.arm();
            return false;
        };
        busiest.count(what());
        if busiest.sampled >= Busiest::SAMPLE {
            let (at, limit) = (*at, self.instant_limit);
            let busiest = self.busiest.take().map(|(_, b)| b.top()).unwrap_or_default();
            self.stop(Exceeded::Instant { limit, at, busiest });
            return true;
        }
        false
    }

    /// The budget the run reached, if it stopped on one.
    pub(crate) fn exceeded(&self) -> Option<&Exceeded> {
        self.exceeded.as_ref()
    }
}
