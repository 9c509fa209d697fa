//! The Gymnasium environment's engine: a run on a thread of its own whose scheduler,
//! `GymScheduler`, stops at every decision — one pending pod — and waits for the agent's
//! choice (a node, or wait) over a channel. The run is the usual one (the same backend,
//! records and digest), so an episode is a function of the scenario, the seed and the
//! agent's choices.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use podlab::RunOptions;
use podlab::cluster::scenario::Scenario as Loaded;
use podlab::cluster::{Action, Context, Controller, Event, NodeId, Part, PodId};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::Scenario;

/// The timer that ends an instant: the decisions are asked once its events are in.
const DECIDE: u64 = 1;

/// One decision the agent is asked for.
struct Ask {
    now: u64,
    pod: u32,
    /// The pod's CPU and memory, then each node's free CPU and memory, all as fractions of
    /// the largest node's allocatable.
    observation: Vec<f32>,
    pending: u32,
    placed_last: bool,
    cpu_used: f64,
    nodes_used: u32,
}

enum ToAgent {
    Decide(Ask),
    Done { digest: String, summary: String, violations: Vec<String> },
    Failed(String),
}

/// A node's books as the scheduler keeps them.
#[derive(Clone, Copy, Default)]
struct Books {
    cpu: i64,
    memory: i64,
    max_pods: i64,
    open: bool,
    used_cpu: i64,
    used_memory: i64,
    held: i64,
}

impl Books {
    fn free(&self) -> (i64, i64) {
        (self.cpu - self.used_cpu, self.memory - self.used_memory)
    }
}

/// The scheduler an agent drives.
struct GymScheduler {
    ask: SyncSender<ToAgent>,
    /// Shared by every instance the run builds (one to count, one to run, one per restart).
    act: Arc<std::sync::Mutex<Receiver<Option<u32>>>>,
    /// The agent went away (a reset, a closed env): every later choice is "wait".
    detached: bool,
    scale: (f64, f64),
    nodes: Vec<Option<Books>>,
    allocatable_cpu: i64,
    requests: BTreeMap<u32, (i64, i64)>,
    placed: BTreeMap<u32, u32>,
    pending: VecDeque<u32>,
    armed: bool,
    placed_last: Arc<AtomicBool>,
}

impl GymScheduler {
    fn charge(&mut self, pod: u32, node: u32, sign: i64) {
        let (cpu, memory) = self.requests.get(&pod).copied().unwrap_or((0, 0));
        if let Some(Some(books)) = self.nodes.get_mut(node as usize) {
            books.used_cpu += sign * cpu;
            books.used_memory += sign * memory;
            books.held += sign;
        }
    }

    fn fits(&self, pod: u32, node: u32) -> bool {
        let (cpu, memory) = self.requests.get(&pod).copied().unwrap_or((0, 0));
        matches!(self.nodes.get(node as usize), Some(Some(b)) if b.open && b.free().0 >= cpu && b.free().1 >= memory && b.held < b.max_pods)
    }

    fn observe(&self, pod: u32, now: u64) -> Ask {
        let (cpu, memory) = self.requests.get(&pod).copied().unwrap_or((0, 0));
        let frac = |v: i64, of: f64| ((v.max(0) as f64) / of).min(1.0) as f32;
        let mut observation = Vec::with_capacity(2 + 2 * self.nodes.len());
        observation.push(frac(cpu, self.scale.0));
        observation.push(frac(memory, self.scale.1));
        let mut used_cpu = 0i64;
        for books in &self.nodes {
            let b = books.unwrap_or_default();
            let (free_cpu, free_memory) = if b.open { b.free() } else { (0, 0) };
            observation.push(frac(free_cpu, self.scale.0));
            observation.push(frac(free_memory, self.scale.1));
            used_cpu += b.used_cpu;
        }
        let nodes_used = self.nodes.iter().flatten().filter(|f| f.held > 0).count() as u32;
        let cpu_used = if self.allocatable_cpu > 0 { used_cpu as f64 / self.allocatable_cpu as f64 } else { 0.0 };
        Ask {
            now,
            pod,
            observation,
            pending: self.pending.len() as u32 + 1,
            placed_last: self.placed_last.load(Ordering::Relaxed),
            cpu_used,
            nodes_used,
        }
    }

    /// Asks the agent about each pending pod once, in arrival order.
    fn decide(&mut self, ctx: &mut Context<'_>) {
        for _ in 0..self.pending.len() {
            let Some(pod) = self.pending.pop_front() else { break };
            let choice = if self.detached { None } else { self.choose(pod, ctx.now().as_nanos()) };
            match choice {
                Some(node) if self.fits(pod, node) => {
                    self.placed.insert(pod, node);
                    self.charge(pod, node, 1);
                    self.placed_last.store(true, Ordering::Relaxed);
                    ctx.act(Action::Bind { pod: PodId(pod), part: Part::Whole, node: NodeId(node) });
                }
                _ => {
                    self.placed_last.store(false, Ordering::Relaxed);
                    self.pending.push_back(pod);
                }
            }
        }
    }

    fn choose(&mut self, pod: u32, now: u64) -> Option<u32> {
        let ask = self.observe(pod, now);
        if self.ask.send(ToAgent::Decide(ask)).is_err() {
            self.detached = true;
            return None;
        }
        match self.act.lock().map_err(|_| ()).and_then(|act| act.recv().map_err(|_| ())) {
            Ok(choice) => choice,
            Err(()) => {
                self.detached = true;
                None
            }
        }
    }

    fn hear(&mut self, event: &Event) -> bool {
        match event {
            Event::NodeAdded { node, spec } | Event::NodeUpdated { node, spec } => {
                let Some(slot) = self.nodes.get_mut(node.index()) else { return false };
                let a = &spec.allocatable;
                let mut books = slot.unwrap_or_default();
                if slot.is_none() {
                    self.allocatable_cpu += a.cpu_milli as i64;
                }
                (books.cpu, books.memory) = (a.cpu_milli as i64, a.memory_bytes as i64);
                books.max_pods = spec.max_pods as i64;
                books.open = !spec.unschedulable;
                *slot = Some(books);
                true
            }
            Event::PodAdded { pod, spec } => {
                let r = &spec.requests;
                self.requests.insert(pod.0, (r.cpu_milli as i64, r.memory_bytes as i64));
                if spec.node_name().is_none() {
                    self.pending.push_back(pod.0);
                }
                true
            }
            Event::Bound { pod, node, .. } if self.placed.get(&pod.0) != Some(&node.0) => {
                self.placed.insert(pod.0, node.0);
                self.charge(pod.0, node.0, 1);
                false
            }
            Event::BindRefused(refused) => {
                if self.placed.remove(&refused.pod.0).is_some() {
                    self.charge(refused.pod.0, refused.node.0, -1);
                }
                self.pending.push_back(refused.pod.0);
                true
            }
            Event::Ended { pod, node, .. } => {
                if self.placed.remove(&pod.0).is_some() {
                    self.charge(pod.0, node.0, -1);
                }
                self.requests.remove(&pod.0);
                true
            }
            Event::PodDeleted { pod } => {
                self.pending.retain(|p| *p != pod.0);
                false
            }
            _ => false,
        }
    }
}

impl Controller for GymScheduler {
    fn name(&self) -> &str {
        "gym"
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        if let Event::Timer { token: DECIDE } = event {
            self.armed = false;
            self.decide(ctx);
            return;
        }
        let changed = self.hear(event);
        if changed && !self.pending.is_empty() && !self.armed {
            self.armed = true;
            ctx.act(Action::SetTimer { at: ctx.now(), token: DECIDE });
        }
    }
}

/// An episode in progress, as the Python environment drives it.
#[pyclass(module = "podlab._native", unsendable)]
pub struct GymSession {
    asks: Receiver<ToAgent>,
    acts: Option<SyncSender<Option<u32>>>,
    thread: Option<JoinHandle<()>>,
    deciding: bool,
    nodes: usize,
    /// Whether the agent's last choice placed its pod (read once the run has taken it).
    placed_last: Arc<AtomicBool>,
}

fn start(scenario: Arc<Loaded>, seed: u64, check_invariants: bool) -> Result<(GymSession, usize), String> {
    let instantiated = podlab::scenario::instantiate(&scenario, seed)?;
    let nodes = instantiated.nodes.len();
    let max = |f: fn(&podlab::cluster::Node) -> u64| instantiated.nodes.iter().map(|n| f(n)).max().unwrap_or(1).max(1);
    let scale = (max(|n| n.allocatable.cpu_milli) as f64, max(|n| n.allocatable.memory_bytes) as f64);
    let (ask_tx, asks) = sync_channel(1);
    let (acts, act_rx) = sync_channel(1);
    let done = ask_tx.clone();
    let act_rx = Arc::new(std::sync::Mutex::new(act_rx));
    let placed_last = Arc::new(AtomicBool::new(false));
    let placed = placed_last.clone();
    let thread = std::thread::Builder::new()
        .name("podlab-gym".into())
        .spawn(move || {
            let build = |_: &Loaded| -> Vec<Box<dyn Controller>> {
                vec![Box::new(GymScheduler {
                    ask: ask_tx.clone(),
                    act: act_rx.clone(),
                    detached: false,
                    scale,
                    nodes: vec![None; nodes],
                    allocatable_cpu: 0,
                    requests: BTreeMap::new(),
                    placed: BTreeMap::new(),
                    pending: VecDeque::new(),
                    armed: false,
                    placed_last: placed.clone(),
                })]
            };
            let options = RunOptions { check_invariants, keep_records: false, ..RunOptions::default() };
            let message = match podlab::run_controllers(&scenario, "gym", &build, seed, options) {
                Ok(run) => ToAgent::Done {
                    digest: run.sim.digest.clone(),
                    summary: serde_json::to_string(&run.summary).unwrap_or_default(),
                    violations: run.sim.violations.clone(),
                },
                Err(e) => ToAgent::Failed(e.to_string()),
            };
            let _ = done.send(message);
        })
        .map_err(|e| e.to_string())?;
    Ok((GymSession { asks, acts: Some(acts), thread: Some(thread), deciding: false, nodes, placed_last }, nodes))
}

#[pymethods]
impl GymSession {
    #[new]
    #[pyo3(signature = (scenario, seed, check_invariants = false))]
    fn new(scenario: &Scenario, seed: u64, check_invariants: bool) -> PyResult<GymSession> {
        start(scenario.inner.clone(), seed, check_invariants).map(|(s, _)| s).map_err(PyRuntimeError::new_err)
    }

    /// Nodes in an observation (the scenario's nodes).
    #[getter]
    fn nodes(&self) -> usize {
        self.nodes
    }

    /// Answers the decision asked last (`None`: wait; ignored before the first), and returns
    /// the next: `("decide", now_ns, pod, observation bytes (float32), pending, placed_last,
    /// cpu_used, nodes_used)`, or at the episode's end `("done", digest, summary_json,
    /// violations, placed_last)`.
    #[pyo3(signature = (choice = None))]
    fn step<'py>(&mut self, py: Python<'py>, choice: Option<u32>) -> PyResult<Bound<'py, PyAny>> {
        if self.deciding {
            self.deciding = false;
            let sent = self.acts.as_ref().is_some_and(|acts| acts.send(choice).is_ok());
            if !sent {
                return Err(PyRuntimeError::new_err("the episode's run stopped unexpectedly"));
            }
        }
        let asks = &mut self.asks;
        let next = py.detach(move || asks.recv());
        match next {
            Ok(ToAgent::Decide(ask)) => {
                self.deciding = true;
                let bytes: Vec<u8> = ask.observation.iter().flat_map(|v| v.to_le_bytes()).collect();
                let obs = PyBytes::new(py, &bytes);
                ("decide", ask.now, ask.pod, obs, ask.pending, ask.placed_last, ask.cpu_used, ask.nodes_used)
                    .into_pyobject(py)
                    .map(|t| t.into_any())
            }
            Ok(ToAgent::Done { digest, summary, violations }) => {
                self.finish();
                let placed = self.placed_last.load(Ordering::Relaxed);
                ("done", digest, summary, violations, placed).into_pyobject(py).map(|t| t.into_any())
            }
            Ok(ToAgent::Failed(why)) => {
                self.finish();
                Err(PyRuntimeError::new_err(why))
            }
            Err(_) => Err(PyRuntimeError::new_err("the episode's run stopped unexpectedly")),
        }
    }

    /// Ends the episode: the run goes on without the agent (every pod left waits) and ends.
    fn close(&mut self, py: Python<'_>) {
        py.detach(|| self.finish());
    }
}

impl GymSession {
    fn finish(&mut self) {
        self.acts = None;
        if let Some(thread) = self.thread.take() {
            // Drain what the run still sends (a decision it will not get, its end) until it
            // ends and drops its senders.
            while self.asks.recv().is_ok() {}
            let _ = thread.join();
        }
    }
}

impl Drop for GymSession {
    fn drop(&mut self) {
        self.finish();
    }
}
