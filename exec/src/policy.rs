//! `ExecPolicy`: a `Controller` whose decisions come from across a boundary — a child process
//! (`ProcessTransport`) or any other [`Transport`] (the Python package calls a Python object
//! in-process) — in lockstep: it collects the events of an instant, sends them as one batch
//! when the instant's other events are delivered, and carries out the answer before the run
//! moves on.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use podlab_cluster::{Action, Context, Controller, Event};
use rand_core::Rng;

use crate::error::ExecError;
use crate::protocol::{self, Hello, HelloReply, Known, PROTOCOL_VERSION, Reply};

/// The token of the timer that ends an instant's batch (above every token a policy may use).
const FLUSH: u64 = u64::MAX;

/// How a policy is reached: one line out, one line back.
pub trait Transport {
    /// Sends `line` (newline included) and returns the answer's line (without its newline);
    /// an error says what went wrong in words (it crashed, it timed out, it raised).
    fn exchange(&mut self, line: &[u8]) -> Result<Vec<u8>, String>;
    /// What the policy printed last on its stderr, for an error message ("" if nothing).
    fn stderr_tail(&mut self) -> String;
    /// The run is over for it, or it failed: let it go.
    fn close(&mut self);
    /// The policy failed: let it go at once (after this, [`Transport::stderr_tail`] has all
    /// it wrote).
    fn abort(&mut self) {
        self.close();
    }
    /// How the transport reaches the policy, for error messages (a command line).
    fn describe(&self) -> String;
}

/// Where the first failure of a run's external policies is kept: the run goes on without the
/// failed policy (it does nothing more) and its caller reports the error instead of results.
pub type FailureSlot = Arc<Mutex<Option<ExecError>>>;

/// A new, empty failure slot.
pub fn failure_slot() -> FailureSlot {
    Arc::new(Mutex::new(None))
}

/// The first failure a slot holds, taken out of it.
pub fn take_failure(slot: &FailureSlot) -> Option<ExecError> {
    slot.lock().ok().and_then(|mut f| f.take())
}

/// A policy across a [`Transport`], as a controller.
pub struct ExecPolicy<T: Transport> {
    name: String,
    params: BTreeMap<String, serde_json::Value>,
    transport: T,
    failure: FailureSlot,
    known: Known,
    /// The events since the last exchange, encoded, comma-separated.
    batch: Vec<u8>,
    events: usize,
    line: Vec<u8>,
    actions: Vec<Action>,
    sleeping: bool,
    armed: bool,
    started: bool,
    dead: bool,
}

impl<T: Transport> ExecPolicy<T> {
    pub fn new(
        name: &str,
        params: BTreeMap<String, serde_json::Value>,
        transport: T,
        failure: FailureSlot,
    ) -> ExecPolicy<T> {
        ExecPolicy {
            name: name.to_string(),
            params,
            transport,
            failure,
            known: Known::default(),
            batch: Vec::new(),
            events: 0,
            line: Vec::new(),
            actions: Vec::new(),
            sleeping: false,
            armed: false,
            started: false,
            dead: false,
        }
    }

    /// The hello exchange: the protocol's version, a seed drawn from this controller's own
    /// stream, the parameters.
    fn hello(&mut self, seed: u64) -> Result<(), ()> {
        let hello = Hello { kind: "hello", protocol: PROTOCOL_VERSION, policy: &self.name, seed, params: &self.params };
        self.line.clear();
        if serde_json::to_writer(&mut self.line, &hello).is_err() {
            return self.fail("could not encode the hello".into(), None);
        }
        self.line.push(b'\n');
        let answer = match self.transport.exchange(&self.line) {
            Ok(answer) => answer,
            Err(what) => return self.fail(what, None),
        };
        match serde_json::from_slice::<HelloReply>(&answer) {
            Ok(reply) if reply.kind == "hello" && reply.protocol == PROTOCOL_VERSION => Ok(()),
            Ok(reply) if reply.kind == "hello" => self
                .fail(format!("it speaks protocol {}, podlab speaks {PROTOCOL_VERSION}", reply.protocol), Some(answer)),
            Ok(reply) => self.fail(format!("answered the hello with a `{}` message", reply.kind), Some(answer)),
            Err(e) => self.fail(format!("answered the hello with nonsense: {e}"), Some(answer)),
        }
    }

    /// Sends the batch and carries out the answer.
    fn exchange(&mut self, ctx: &mut Context<'_>) {
        let now = ctx.now();
        self.line.clear();
        protocol::batch_header(now, &mut self.line);
        self.line.extend_from_slice(&self.batch);
        self.line.extend_from_slice(b"]}\n");
        self.batch.clear();
        self.events = 0;
        let answer = match self.transport.exchange(&self.line) {
            Ok(answer) => answer,
            Err(what) => {
                let _ = self.fail(what, None);
                return;
            }
        };
        let reply: Reply = match serde_json::from_slice(&answer) {
            Ok(reply) => reply,
            Err(e) => {
                let _ = self.fail(format!("answered nonsense: {e}"), Some(answer));
                return;
            }
        };
        if let Some(kind) = reply.kind.as_deref().filter(|k| *k != "actions") {
            let _ = self.fail(format!("answered a batch with a `{kind}` message"), Some(answer));
            return;
        }
        self.actions.clear();
        for wire in reply.actions {
            if let Err(why) = protocol::action(wire, now, &self.known, &mut self.actions) {
                let _ = self.fail(format!("answered nonsense: {why}"), Some(answer));
                return;
            }
        }
        for action in self.actions.drain(..) {
            ctx.act(action);
        }
        self.sleeping = reply.sleep;
    }

    /// Records the failure (the run's first one wins), lets the policy go, and does nothing
    /// more.
    fn fail(&mut self, what: String, received: Option<Vec<u8>>) -> Result<(), ()> {
        self.dead = true;
        self.transport.abort();
        let stderr = self.transport.stderr_tail();
        let error = ExecError {
            policy: self.name.clone(),
            via: self.transport.describe(),
            what,
            last_sent: String::from_utf8_lossy(&self.line).trim_end().to_string(),
            last_received: received.map(|r| String::from_utf8_lossy(&r).into_owned()),
            stderr_tail: stderr,
        };
        if let Ok(mut slot) = self.failure.lock()
            && slot.is_none()
        {
            *slot = Some(error);
        }
        Err(())
    }
}

impl<T: Transport> Controller for ExecPolicy<T> {
    fn name(&self) -> &str {
        &self.name
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        if self.dead {
            return;
        }
        if let Event::Timer { token: FLUSH } = event {
            self.armed = false;
            self.exchange(ctx);
            return;
        }
        if !self.started {
            self.started = true;
            // Below 2^53: exact as a JavaScript number too.
            let seed = ctx.rng().next_u64() & protocol::MAX_TOKEN.wrapping_sub(1);
            if self.hello(seed).is_err() {
                return;
            }
        }
        self.known.observe(event);
        if protocol::encode_event(event, &mut self.batch, self.events == 0) {
            self.events += 1;
            // Once the instant's other deliveries are done (a timer at the same instant comes
            // after every event already queued for it), the batch goes out whole.
            if (!self.sleeping || protocol::wakes(event)) && !self.armed {
                self.armed = true;
                ctx.act(Action::SetTimer { at: ctx.now(), token: FLUSH });
            }
        }
    }
}

impl<T: Transport> Drop for ExecPolicy<T> {
    fn drop(&mut self) {
        self.transport.close();
    }
}
