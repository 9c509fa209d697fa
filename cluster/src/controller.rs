//! The `Controller` and `Backend` traits and the one driver loop that joins them, in the
//! simulator and in real mode alike.

use rand_chacha::ChaCha8Rng;

use crate::event::{Action, Event};
use crate::objects::ControllerId;
use crate::rng;
use crate::time::SimTime;

/// Scheduler or controller logic, sans I/O: it reacts to one event and answers with actions.
/// It never blocks, reads a clock or does I/O; its only sources of time and chance are the
/// [`Context`] it is handed, so the same code runs in virtual and in wall-clock time.
pub trait Controller {
    /// A stable name; it also names the controller's random stream.
    fn name(&self) -> &str;
    /// Reacts to one event, answering through `ctx` (actions, its time, its random stream).
    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>);
}

/// What a controller may use while it handles one event.
pub struct Context<'a> {
    now: SimTime,
    rng: &'a mut ChaCha8Rng,
    actions: &'a mut Vec<Action>,
}

impl<'a> Context<'a> {
    /// The context of one delivery: the time, the controller's own stream, and where its actions
    /// go.
    pub fn new(now: SimTime, rng: &'a mut ChaCha8Rng, actions: &'a mut Vec<Action>) -> Context<'a> {
        Context { now, rng, actions }
    }

    /// The current simulated (or, in real mode, measured) time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// This controller's own random stream.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        self.rng
    }

    /// Asks the backend for `action`; actions are carried out in the order they were asked.
    pub fn act(&mut self, action: Action) {
        self.actions.push(action);
    }
}

/// One event for one controller, at the backend's current time.
#[derive(Debug)]
pub struct Delivery {
    /// The controller the event is for.
    pub to: ControllerId,
    /// The backend's time at the delivery.
    pub now: SimTime,
    /// What happened.
    pub event: Event,
}

/// What a backend hands the driver next.
#[derive(Debug)]
pub enum Handover {
    /// An event for one controller.
    Delivery(Delivery),
    /// The last delivery's event again, at the same time, for another controller: a watch
    /// event that several controllers hear is handed over once rather than copied for each
    /// (a copy and its drop cost about as much as the rest of a delivery).
    Again(ControllerId),
}

/// Executes actions and produces events: in virtual time (`SimBackend`) or on real containers.
pub trait Backend {
    /// The next event to deliver, or `None` when the run is over.
    fn next_delivery(&mut self) -> Option<Handover>;
    /// Carries out an action a controller asked for while handling its last delivery.
    fn execute(&mut self, from: ControllerId, action: Action);
}

/// Builds a policy's controllers afresh, in the same order each time: how a crashed
/// controller comes back with nothing in memory.
pub type Factory<'a> = Box<dyn Fn() -> Vec<Box<dyn Controller>> + 'a>;

/// The driver loop: deliver each event to its controller, hand the controller's actions to the
/// backend, until the backend says the run is over.
///
/// A second `Event::Start` to a controller means its process was restarted (a backend sends
/// it after a crash): the driver replaces the controller by a fresh one from its factory, so
/// every controller loses its memory on a crash without doing anything for it, and rebuilds
/// its state from the events that follow (the relist).
pub struct Driver<'a> {
    controllers: Vec<Box<dyn Controller>>,
    rngs: Vec<ChaCha8Rng>,
    actions: Vec<Action>,
    factory: Option<Factory<'a>>,
    started: Vec<bool>,
}

impl Driver<'static> {
    /// Every controller gets its own random stream, forked from `master_seed` by its name.
    /// Without a factory, no controller can be restarted.
    pub fn new(controllers: Vec<Box<dyn Controller>>, master_seed: u64) -> Driver<'static> {
        let rngs = controllers.iter().map(|c| rng::stream(master_seed, &format!("controller/{}", c.name()))).collect();
        let started = vec![false; controllers.len()];
        Driver { controllers, rngs, actions: Vec::new(), factory: None, started }
    }
}

impl<'a> Driver<'a> {
    /// Controllers from `factory`, which rebuilds any of them that a backend restarts. The
    /// random stream of a restarted controller goes on where it was (a fresh process of a
    /// deterministic program would repeat its draws).
    pub fn restartable(factory: Factory<'a>, master_seed: u64) -> Driver<'a> {
        let Driver { controllers, rngs, actions, started, .. } = Driver::new(factory(), master_seed);
        Driver { controllers, rngs, actions, factory: Some(factory), started }
    }

    /// The controllers' names, by `ControllerId`.
    pub fn names(&self) -> Vec<String> {
        self.controllers.iter().map(|c| c.name().to_string()).collect()
    }

    /// Delivers the backend's events one by one until it has none, passing each controller's
    /// actions back; rebuilds a controller from the factory when it starts a second time (after a
    /// crash).
    pub fn run(&mut self, backend: &mut dyn Backend) {
        // The last delivery, kept for a `Handover::Again`; replaced (and dropped) by the next.
        let mut last: Option<Delivery> = None;
        while let Some(handover) = backend.next_delivery() {
            let delivery = match handover {
                Handover::Delivery(delivery) => last.insert(delivery),
                Handover::Again(to) => {
                    let delivery = last.as_mut().expect("an event handed over again before any was handed over");
                    delivery.to = to;
                    delivery
                }
            };
            let i = delivery.to.index();
            if matches!(delivery.event, Event::Start) {
                if self.started[i] {
                    let factory =
                        self.factory.as_ref().expect("a controller restarted without a factory to rebuild it");
                    let fresh = factory().into_iter().nth(i).expect("the factory builds the same controllers");
                    assert_eq!(fresh.name(), self.controllers[i].name(), "the factory builds the same controllers");
                    self.controllers[i] = fresh;
                }
                self.started[i] = true;
            }
            let mut ctx = Context::new(delivery.now, &mut self.rngs[i], &mut self.actions);
            self.controllers[i].handle(&delivery.event, &mut ctx);
            // Most events ask for nothing: no drain is begun (and dropped) for them.
            if !self.actions.is_empty() {
                for action in self.actions.drain(..) {
                    backend.execute(delivery.to, action);
                }
            }
        }
    }
}
