//! `DockerBackend`: the simulator's real twin. The same `Driver` runs the same controllers; this
//! backend creates the scenario's objects when their wall-clock time comes, checks bindings
//! against the true node capacities as the API server would, and acts as every node's kubelet:
//! a bound part becomes an infra container, its app containers joined to its network namespace
//! and a shared volume, under the node's cgroup slice. Docker's `die` events end parts, as
//! Succeeded or Failed (OOM kills and crashes included). Everything is recorded as the
//! simulator records it, with wall-clock times since the run started. The controller manager's
//! writes are carried out too: pods created at run time, deletions (evictions), node taints.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, EventMessage, HostConfig};
use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use podlab_cluster::books::NodeUse;
use podlab_cluster::commit::{self, Ledger};
use podlab_cluster::objects::Taint;
use podlab_cluster::scenario::{ObjectRef, Scenario};
use podlab_cluster::{
    Action, Backend, BindRefusal, Claim, Commitment, ControllerId, Delivery, Event, Handover, NodeId, Part, Phase,
    PodId, Record, Records, Refused, Resources, SimDuration, SimTime, Stamped,
};

use crate::RealError;
use crate::cgroup::{self, Slices};
use crate::clock::Clock;
use crate::engine::Engine;
use crate::image::ENTRYPOINT;
use crate::labels::{self, CONTAINER_LABEL, NODE_LABEL, PART_LABEL, POD_LABEL, ROLE_LABEL, RUN_LABEL, docker_name};
use crate::lease::Lease;

/// How often the backend looks at the interrupt flag while it waits for Docker or a timer.
const POLL: SimDuration = SimDuration::from_millis(100);
/// Where each container of a part mounts the part's shared volume.
pub const SHARED_MOUNT: &str = "/podlab/shared";

/// A node fault: at `at`, every container on `node` is killed and the node takes no more pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crash {
    pub at: SimTime,
    pub node: NodeId,
}

/// How one part started: from its binding to the last of its containers running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Startup {
    pub pod: PodId,
    pub part: Part,
    pub node: NodeId,
    pub latency: SimDuration,
}

/// An app container the kernel killed for memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OomKill {
    pub at: SimTime,
    pub pod: PodId,
    pub container: String,
    pub node: NodeId,
}

enum Pending {
    Arrive(ObjectRef),
    Timer {
        to: ControllerId,
        token: u64,
    },
    Crash(NodeId),
    /// A node's kubelet reports in (with a modelled control plane, whose node lifecycle
    /// controller watches heartbeats); a crashed node's kubelet is silent.
    Heartbeat(NodeId),
}

/// What the runtime's tasks report back to the backend.
enum Happening {
    Started { pod: PodId, part: Part, latency: SimDuration },
    StartFailed { pod: PodId, part: Part, why: String },
    Docker(EventMessage),
    EventsEnded(String),
}

#[derive(Clone, Default)]
struct NodeBooks {
    joined: bool,
    crashed: bool,
    /// What is bound here, admitted by the rule the simulator uses.
    usage: NodeUse,
}

#[derive(Clone, Default)]
struct PodBooks {
    created: bool,
    running: Vec<(Part, NodeId)>,
    ended: Vec<(Part, Phase)>,
    /// Deleted (by a controller): no part binds any more.
    deleted: bool,
}

/// A bound part whose containers have not all ended.
struct Live {
    node: NodeId,
    /// App containers (by index in the pod) still running or starting.
    left: BTreeSet<u16>,
    failed: bool,
}

/// The cluster on Docker.
pub struct DockerBackend<'s> {
    /// The scenario's objects as they are now: pods created during the run are appended, node
    /// specs change with taints (as in the simulator).
    scenario: Scenario,
    engine: &'s Engine,
    image: String,
    run: String,
    /// The run's lease, renewed while the run lives; released at clean-up.
    lease: Option<Lease>,
    /// Why the lease was lost, if it was: the run stops, its objects may be gone.
    pub(crate) lease_lost: Option<String>,
    slices: bool,
    clock: Clock,
    end: SimTime,
    controllers: Vec<String>,
    pending: BTreeMap<(SimTime, u64), Pending>,
    seq: u64,
    ready: VecDeque<(ControllerId, Event)>,
    nodes: Vec<NodeBooks>,
    pods: Vec<PodBooks>,
    live: BTreeMap<(PodId, Part), Live>,
    /// Jobs whose controller has said they finished (Complete or Failed).
    jobs_finished: BTreeSet<String>,
    /// Whether a run ends Failed, for pods with `podlab.dev/failure-probability`: the
    /// simulator's kubelet stream, drawn only for them.
    exits: rand_chacha::ChaCha8Rng,
    bound_at: BTreeMap<(PodId, Part), SimTime>,
    records: Records,
    tx: mpsc::UnboundedSender<Happening>,
    rx: mpsc::UnboundedReceiver<Happening>,
    events_task: Option<tokio::task::JoinHandle<()>>,
    interrupt: Option<Arc<AtomicBool>>,
    pub(crate) interrupted: bool,
    /// The run stopped by itself: everything had ended and nothing more was due.
    pub(crate) finished: bool,
    pub(crate) deliveries: u64,
    pub(crate) startups: Vec<Startup>,
    pub(crate) oom_kills: Vec<OomKill>,
    pub(crate) problems: Vec<String>,
    cleaned: bool,
}

impl<'s> DockerBackend<'s> {
    /// Prepares run `run`, whose `lease` is held: node slices, the watch on Docker's events. The
    /// run lasts the scenario's duration, at most `options.max_duration` of wall time.
    pub(crate) fn new(
        scenario: &'s Scenario,
        engine: &'s Engine,
        (run, lease): (String, Lease),
        image: String,
        controllers: Vec<String>,
        slices: &Slices,
        options: &crate::RealOptions,
    ) -> Result<DockerBackend<'s>, RealError> {
        let end = scenario.duration.map_or(options.max_duration, |d| d.min(options.max_duration));
        let (tx, rx) = mpsc::unbounded_channel();
        let mut backend = DockerBackend {
            scenario: scenario.clone(),
            engine,
            image,
            run,
            lease: Some(lease),
            lease_lost: None,
            slices: *slices == Slices::V1,
            clock: Clock::start(),
            end: SimTime::ZERO + end,
            controllers,
            pending: BTreeMap::new(),
            seq: 0,
            ready: VecDeque::new(),
            nodes: vec![NodeBooks::default(); scenario.nodes.len()],
            pods: vec![PodBooks::default(); scenario.pods.len()],
            live: BTreeMap::new(),
            jobs_finished: BTreeSet::new(),
            exits: podlab_cluster::rng::stream(options.seed, "kubelet/exits"),
            bound_at: BTreeMap::new(),
            records: Records::new(),
            tx,
            rx,
            events_task: None,
            interrupt: options.interrupt.clone(),
            interrupted: false,
            finished: false,
            deliveries: 0,
            startups: Vec::new(),
            oom_kills: Vec::new(),
            problems: Vec::new(),
            cleaned: false,
        };
        if backend.slices {
            for node in &scenario.nodes {
                cgroup::create_node(&backend.run, &node.name, &node.allocatable).map_err(|e| {
                    RealError::Docker(format!("cannot make the cgroup slice of node {}: {e}", node.name))
                })?;
            }
        }
        backend.watch_events();
        // As the simulator: every controller starts, then its first List (empty: objects of
        // t = 0 arrive after it, as watch events) is in. Controllers that create what is
        // missing wait for `Synced`.
        for event in [Event::Start, Event::Synced] {
            backend.broadcast(event);
        }
        if let Some(cp) = &scenario.control_plane {
            for node in 0..scenario.nodes.len() {
                backend.push(SimTime::ZERO + cp.heartbeat, Pending::Heartbeat(NodeId(node as u32)));
            }
        }
        for arrival in &scenario.arrivals {
            backend.push(arrival.at, Pending::Arrive(arrival.object));
        }
        for crash in &options.crashes {
            backend.push(crash.at, Pending::Crash(crash.node));
        }
        Ok(backend)
    }

    /// This run's id, the value of its `podlab.dev/run` label.
    pub fn run_id(&self) -> &str {
        &self.run
    }

    pub(crate) fn now(&self) -> SimTime {
        self.clock.now()
    }

    /// Docker's `die` events for this run's containers, from the run's start on (so none is
    /// missed while the stream connects), forwarded to the backend's channel.
    fn watch_events(&mut self) {
        let options = EventsOptions {
            since: Some(self.clock.unix_start()),
            until: None,
            filters: Some(labels::filters(&[
                ("type", "container"),
                ("event", "die"),
                ("label", &format!("{RUN_LABEL}={}", self.run)),
            ])),
        };
        let docker = self.engine.docker.clone();
        let tx = self.tx.clone();
        self.events_task = Some(self.engine.runtime.spawn(async move {
            let mut stream = docker.events(Some(options));
            while let Some(item) = stream.next().await {
                let message = match item {
                    Ok(event) => Happening::Docker(event),
                    Err(e) => Happening::EventsEnded(e.to_string()),
                };
                if tx.send(message).is_err() {
                    return;
                }
            }
            let _ = tx.send(Happening::EventsEnded("the daemon closed the event stream".into()));
        }));
    }

    fn push(&mut self, at: SimTime, pending: Pending) {
        self.pending.insert((at, self.seq), pending);
        self.seq += 1;
    }

    fn record(&mut self, record: Record) {
        self.records.push(Stamped { time: self.now(), record });
    }

    fn broadcast(&mut self, event: Event) {
        for to in 0..self.controllers.len() as u16 {
            self.ready.push_back((ControllerId(to), event.clone()));
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
                self.nodes[node.index()].usage = NodeUse::for_node(&self.scenario.nodes[node.index()]);
                self.record(Record::NodeAdded { node });
                self.broadcast(Event::NodeAdded { node, spec: self.scenario.nodes[node.index()].clone() });
            }
            ObjectRef::Pod(pod) => self.create_pod(pod),
        }
    }

    fn create_pod(&mut self, pod: PodId) {
        self.pods[pod.index()].created = true;
        self.record(Record::PodCreated { pod });
        let spec = self.scenario.pods.get(pod).into_owned();
        let node_name = spec.node_name();
        self.broadcast(Event::PodAdded { pod, spec });
        if let Some(node) = node_name
            && let Err(reason) = self.apply(pod, Part::Whole, node)
        {
            self.record(Record::BindRefused { pod, part: Part::Whole, node, reason });
        }
    }

    /// A controller deletes a pod, as the simulator does: its running parts are stopped and
    /// end Failed (an eviction); a pod never bound is deleted outright and no part binds any
    /// more.
    fn evict(&mut self, pod: PodId) {
        let Some(books) = self.pods.get_mut(pod.index()) else { return };
        if !books.created || books.deleted {
            return;
        }
        books.deleted = true;
        let never_bound = books.running.is_empty() && books.ended.is_empty();
        let parts: Vec<Part> = books.running.iter().map(|(part, _)| *part).collect();
        for part in parts {
            // `part_ends` kills the part's containers; their `die` events find it gone.
            self.part_ends(pod, part, Phase::Failed);
        }
        if never_bound {
            self.record(Record::PodDeleted { pod });
            self.broadcast(Event::PodDeleted { pod });
        }
    }

    fn set_taint(&mut self, node: NodeId, taint: Option<Taint>, key: &str) {
        let tainted = taint.is_some();
        let Some(spec) = self.scenario.nodes.get(node.index()).and_then(|n| n.retainted(taint, key)) else { return };
        let key = key.to_string();
        self.record(if tainted { Record::Tainted { node, key } } else { Record::Untainted { node, key } });
        let spec = Arc::new(spec);
        self.scenario.nodes[node.index()] = spec.clone();
        self.broadcast(Event::NodeUpdated { node, spec });
    }

    /// The API server's check: the part is unbound and fits the node's true free capacity.
    fn bind(&mut self, pod: PodId, part: Part, node: NodeId) -> Result<(), BindRefusal> {
        let Some(books) = self.pods.get(pod.index()) else { return Err(BindRefusal::AlreadyBound) };
        let mut taken = books.running.iter().map(|(p, _)| p).chain(books.ended.iter().map(|(p, _)| p));
        if !books.created || books.deleted || taken.any(|p| *p == part || *p == Part::Whole || part == Part::Whole) {
            return Err(BindRefusal::AlreadyBound);
        }
        let Some(n) = self.nodes.get_mut(node.index()) else { return Err(BindRefusal::NoSuchNode) };
        if !n.joined || n.crashed {
            return Err(BindRefusal::NoSuchNode);
        }
        n.usage.admit(&self.scenario.pods.get(pod), pod, part)?;
        self.pods[pod.index()].running.push((part, node));
        Ok(())
    }

    /// Binds a part, tells everyone, and has the node's kubelet start it.
    fn apply(&mut self, pod: PodId, part: Part, node: NodeId) -> Result<(), BindRefusal> {
        self.bind(pod, part, node)?;
        self.record(Record::Bound { pod, part, node });
        self.broadcast(Event::Bound { pod, part, node });
        let apps: BTreeSet<u16> = match part {
            Part::Whole => (0..self.scenario.pods.spec(pod).containers.len() as u16).collect(),
            Part::Container(i) => [i].into(),
        };
        self.live.insert((pod, part), Live { node, left: apps.clone(), failed: false });
        self.bound_at.insert((pod, part), self.now());
        self.start(pod, part, node, apps);
        Ok(())
    }

    /// The kubelet: the part's sandbox (infra container and volume), then its app containers,
    /// created and started on the runtime while the driver goes on.
    fn start(&mut self, pod: PodId, part: Part, node: NodeId, apps: BTreeSet<u16>) {
        let spec = &self.scenario.pods.get(pod);
        let node_name = &self.scenario.nodes[node.index()].name;
        let pod_key = spec.key();
        let part_name = spec.part_name(part).to_string();
        let base = docker_name(&["podlab", &self.run, &pod_key, if part == Part::Whole { "pod" } else { &part_name }]);
        let volume = base.clone();
        let common = [
            (RUN_LABEL, self.run.as_str()),
            (NODE_LABEL, node_name.as_str()),
            (POD_LABEL, pod_key.as_str()),
            (PART_LABEL, part_name.as_str()),
        ];
        let with = |extra: &[(&'static str, &str)]| {
            let mut all: Vec<(&str, &str)> = common.to_vec();
            all.extend_from_slice(extra);
            labels::map(&all)
        };
        let cgroup_parent = self.slices.then(|| cgroup::parent(&self.run, node_name));
        let infra = ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: Some(vec![ENTRYPOINT.into()]),
            cmd: Some(vec!["pause".into()]),
            labels: Some(with(&[(ROLE_LABEL, "infra")])),
            host_config: Some(HostConfig {
                init: Some(true),
                // The pod's own network namespace: loopback only, shared by its containers.
                network_mode: Some("none".into()),
                cgroup_parent: cgroup_parent.clone(),
                ..Default::default()
            }),
            ..Default::default()
        };
        // One draw per part, as the simulator's kubelet makes one per part it starts.
        let ending = spec.ending(&mut self.exits);
        let mut app_bodies = Vec::new();
        for &i in &apps {
            let c = &spec.containers[i as usize];
            let mut cmd = vec!["run".to_string()];
            // `run-for`, or `fail-after` first: the container exits non-zero then.
            if let Some((after, phase)) = ending {
                cmd.extend(["--for-ms".into(), (after.as_nanos() / 1_000_000).to_string()]);
                if phase == Phase::Failed {
                    cmd.extend(["--exit-code".into(), "1".into()]);
                }
            }
            if let Some(&bytes) = spec.allocate_memory_bytes.get(i as usize)
                && bytes > 0
            {
                cmd.extend(["--allocate-bytes".into(), bytes.to_string()]);
            }
            let memory = (c.limits.memory_bytes > 0).then_some(c.limits.memory_bytes as i64);
            // kubelet's mapping: requests.cpu → shares (1024 per core, at least 2), limits.cpu → quota.
            let shares = (c.requests.cpu_milli * 1024 / 1000).max(2) as i64;
            let nano_cpus = (c.limits.cpu_milli > 0).then_some(c.limits.cpu_milli as i64 * 1_000_000);
            app_bodies.push((
                docker_name(&[&base, &c.name]),
                ContainerCreateBody {
                    image: Some(self.image.clone()),
                    entrypoint: Some(vec![ENTRYPOINT.into()]),
                    cmd: Some(cmd),
                    labels: Some(with(&[(ROLE_LABEL, "app"), (CONTAINER_LABEL, c.name.as_str())])),
                    host_config: Some(HostConfig {
                        init: Some(true),
                        cgroup_parent: cgroup_parent.clone(),
                        memory,
                        // No swap: a container over its limit is killed, as in Kubernetes.
                        memory_swap: memory,
                        cpu_shares: Some(shares),
                        nano_cpus,
                        binds: Some(vec![format!("{volume}:{SHARED_MOUNT}")]),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ));
        }
        let volume_labels = with(&[]);
        let docker = self.engine.docker.clone();
        let tx = self.tx.clone();
        let started = Clock::start();
        self.engine.runtime.spawn(async move {
            let message =
                match start_part(&docker, &volume, volume_labels, (format!("{base}-infra"), infra), app_bodies).await {
                    Ok(()) => Happening::Started { pod, part, latency: SimDuration(started.now().as_nanos()) },
                    Err(why) => Happening::StartFailed { pod, part, why },
                };
            let _ = tx.send(message);
        });
    }

    /// A part stopped: its node gets the resources back, and everyone hears of it.
    fn part_ends(&mut self, pod: PodId, part: Part, phase: Phase) {
        let Some(live) = self.live.remove(&(pod, part)) else { return };
        let node = live.node;
        let books = &mut self.pods[pod.index()];
        if let Some(i) = books.running.iter().position(|r| *r == (part, node)) {
            books.running.swap_remove(i);
        }
        books.ended.push((part, phase));
        self.nodes[node.index()].usage.release(&self.scenario.pods.get(pod), pod, part);
        self.record(Record::Ended { pod, part, node, phase });
        self.broadcast(Event::Ended { pod, part, node, phase });
        // The sandbox goes with the part (what is left is removed when the run ends).
        let (key, part_name) = (self.scenario.pods.get(pod).key(), self.part_label(pod, part).to_string());
        self.kill_where(&[(POD_LABEL, &key), (PART_LABEL, &part_name)]);
    }

    fn part_label(&self, pod: PodId, part: Part) -> &str {
        self.scenario.pods.spec(pod).part_name(part)
    }

    /// Kills this run's containers carrying all of `pairs`.
    fn kill_where(&mut self, pairs: &[(&str, &str)]) {
        let mut wanted = vec![format!("{RUN_LABEL}={}", self.run)];
        wanted.extend(pairs.iter().map(|(k, v)| format!("{k}={v}")));
        let filters: Vec<(&str, &str)> = wanted.iter().map(|w| ("label", w.as_str())).collect();
        let options = bollard::query_parameters::ListContainersOptions {
            all: false,
            filters: Some(labels::filters(&filters)),
            ..Default::default()
        };
        let listed = self.engine.block_on(self.engine.docker.list_containers(Some(options)));
        match listed {
            Ok(list) => {
                for c in list {
                    if let Some(id) = c.id
                        && let Err(e) = self.engine.kill(&id)
                    {
                        self.problems.push(e.to_string());
                    }
                }
            }
            Err(e) => self.problems.push(format!("list containers to kill: {e}")),
        }
    }

    fn crash(&mut self, node: NodeId) {
        self.nodes[node.index()].crashed = true;
        let name = self.scenario.nodes[node.index()].name.clone();
        self.kill_where(&[(NODE_LABEL, &name)]);
    }

    fn happened(&mut self, happening: Happening) {
        match happening {
            Happening::Started { pod, part, latency } => {
                let Some(live) = self.live.get(&(pod, part)) else {
                    // Deleted while it was starting: what started after the kill goes too.
                    let (key, part_name) = (self.scenario.pods.get(pod).key(), self.part_label(pod, part).to_string());
                    self.kill_where(&[(POD_LABEL, &key), (PART_LABEL, &part_name)]);
                    return;
                };
                let node = live.node;
                self.startups.push(Startup { pod, part, node, latency });
                if self.nodes[node.index()].crashed {
                    // A crash while the part was starting: it dies with its node.
                    let name = self.scenario.nodes[node.index()].name.clone();
                    self.kill_where(&[(NODE_LABEL, &name)]);
                } else {
                    // The kubelet's status update: the part's containers run. Here the real
                    // start is the start, so the record and the event come with every
                    // control plane (no image is pulled: the image is local).
                    self.record(Record::Started { pod, part, node, pull: SimDuration::ZERO });
                    self.broadcast(Event::Started { pod, part, node });
                }
            }
            Happening::StartFailed { pod, part, why } => {
                // A part deleted while starting fails to start as its sandbox is killed: no problem.
                if self.live.contains_key(&(pod, part)) {
                    let key = self.scenario.pods.get(pod).key();
                    self.problems.push(format!("pod {key} part {}: {why}", self.part_label(pod, part)));
                    self.part_ends(pod, part, Phase::Failed);
                }
            }
            Happening::Docker(event) => self.died(event),
            Happening::EventsEnded(why) => {
                self.problems.push(format!("Docker's event stream ended: {why}"));
                // Without events no part can end any more: the run cannot go on honestly.
                self.interrupted = true;
            }
        }
    }

    /// An app container of this run died: it ran to completion (exit 0), or failed, or the
    /// kernel killed it for memory, or its node crashed.
    fn died(&mut self, event: EventMessage) {
        let Some(actor) = event.actor else { return };
        let attributes = actor.attributes.unwrap_or_default();
        let get = |key: &str| attributes.get(key).map(String::as_str);
        if get(ROLE_LABEL) != Some("app") || get(RUN_LABEL) != Some(self.run.as_str()) {
            return;
        }
        let (Some(pod_key), Some(container), Some(part_name)) = (get(POD_LABEL), get(CONTAINER_LABEL), get(PART_LABEL))
        else {
            return;
        };
        let Some(pod) = self.scenario.pod_named(pod_key) else { return };
        let spec = &self.scenario.pods.get(pod);
        let Some(index) = spec.containers.iter().position(|c| c.name == container) else { return };
        let part = if part_name == "-" { Part::Whole } else { Part::Container(index as u16) };
        let exit_code: i64 = get("exitCode").and_then(|c| c.parse().ok()).unwrap_or(-1);
        let Some(live) = self.live.get(&(pod, part)) else { return };
        let node = live.node;
        // `oom` events reach every container under a node slice whose limit was hit, so the
        // flag alone does not say who was killed: the killed one also died by SIGKILL.
        let oom_killed = exit_code == 137
            && !self.nodes[node.index()].crashed
            && actor
                .id
                .as_deref()
                .and_then(|id| self.engine.inspect(id).ok())
                .is_some_and(|c| c.state.and_then(|s| s.oom_killed).unwrap_or(false));
        if oom_killed {
            self.oom_kills.push(OomKill { at: self.now(), pod, container: container.to_string(), node });
        }
        let Some(live) = self.live.get_mut(&(pod, part)) else { return };
        if !live.left.remove(&(index as u16)) {
            return;
        }
        live.failed |= exit_code != 0;
        if live.left.is_empty() {
            let phase = if live.failed { Phase::Failed } else { Phase::Succeeded };
            self.part_ends(pod, part, phase);
        }
    }

    /// Nothing more can happen by itself: no arrival or crash is due, no part is running,
    /// every pod that arrived has ended whole or was deleted, and every Job has finished. (A
    /// Job creates its next pod on a timer after the last one ended, so pods alone do not
    /// say; a ReplicaSet or a Deployment is a service that replaces its pods for ever: with
    /// one the run lasts its duration.)
    fn all_done(&self) -> bool {
        self.scenario.replica_sets.is_empty()
            && self.scenario.deployments.is_empty()
            && self.jobs_finished.len() >= self.scenario.jobs.len()
            && self.pending.values().all(|p| matches!(p, Pending::Timer { .. } | Pending::Heartbeat(_)))
            && self.live.is_empty()
            && self.pods.iter().enumerate().all(|(i, books)| {
                let per_container = books.ended.iter().any(|(p, _)| matches!(p, Part::Container(_)));
                !books.created
                    || (books.deleted && books.running.is_empty())
                    || books.ended.len()
                        == self.scenario.pods.spec(podlab_cluster::PodId(i as u32)).part_count(per_container)
            })
    }

    /// Stops and removes everything of this run: containers, volumes, node slices. Idempotent.
    pub(crate) fn cleanup(&mut self) {
        if self.cleaned {
            return;
        }
        self.cleaned = true;
        if let Some(task) = self.events_task.take() {
            task.abort();
        }
        // Renewals stop before the lease container goes with the rest of the run.
        if let Some(mut lease) = self.lease.take() {
            lease.release();
        }
        self.problems.extend(crate::reaper::remove_run(self.engine, &self.run));
    }

    pub(crate) fn take_records(&mut self) -> Records {
        std::mem::take(&mut self.records)
    }

    /// The scenario as the run left it: with the pods its controllers created, node taints as
    /// they were last set.
    pub(crate) fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub(crate) fn end_time(&self) -> SimTime {
        self.now().min(self.end)
    }
}

/// Creates and starts one part: the volume, the infra container, then each app container in
/// the infra's network namespace.
// bollard takes labels as a HashMap; they go straight into JSON.
#[allow(clippy::disallowed_types)]
async fn start_part(
    docker: &Docker,
    volume: &str,
    volume_labels: std::collections::HashMap<String, String>,
    infra: (String, ContainerCreateBody),
    apps: Vec<(String, ContainerCreateBody)>,
) -> Result<(), String> {
    let body = bollard::models::VolumeCreateRequest {
        name: Some(volume.to_string()),
        labels: Some(volume_labels),
        ..Default::default()
    };
    docker.create_volume(body).await.map_err(|e| format!("create volume: {e}"))?;
    let create = |name: String, body| async move {
        let options =
            bollard::query_parameters::CreateContainerOptions { name: Some(name.clone()), platform: String::new() };
        let id = docker.create_container(Some(options), body).await.map_err(|e| format!("create {name}: {e}"))?.id;
        docker.start_container(&id, None).await.map_err(|e| format!("start {name}: {e}"))?;
        Ok::<String, String>(id)
    };
    let infra_id = create(infra.0, infra.1).await?;
    for (name, mut body) in apps {
        if let Some(host) = body.host_config.as_mut() {
            host.network_mode = Some(format!("container:{infra_id}"));
        }
        create(name, body).await?;
    }
    Ok(())
}

impl Backend for DockerBackend<'_> {
    fn next_delivery(&mut self) -> Option<Handover> {
        loop {
            if let Some((to, event)) = self.ready.pop_front() {
                self.deliveries += 1;
                return Some(Handover::Delivery(Delivery { to, now: self.now(), event }));
            }
            if self.interrupt.as_ref().is_some_and(|flag| flag.load(Ordering::Relaxed)) {
                self.interrupted = true;
            }
            if let Some(why) = self.lease.as_ref().and_then(Lease::lost) {
                // A reaper may be removing this run's containers: nothing it records is true.
                self.lease_lost = Some(why);
                return None;
            }
            let now = self.now();
            if self.interrupted || now >= self.end {
                return None;
            }
            if self.all_done() {
                self.finished = true;
                return None;
            }
            // Whatever Docker or a start task said first, then whatever is due.
            if let Ok(happening) = self.rx.try_recv() {
                self.happened(happening);
                continue;
            }
            if let Some(entry) = self.pending.first_entry()
                && entry.key().0 <= now
            {
                match entry.remove() {
                    Pending::Arrive(object) => self.arrive(object),
                    Pending::Timer { to, token } => self.ready.push_back((to, Event::Timer { token })),
                    Pending::Crash(node) => self.crash(node),
                    Pending::Heartbeat(node) => {
                        if !self.nodes[node.index()].crashed {
                            if self.nodes[node.index()].joined {
                                self.broadcast(Event::NodeHeartbeat { node });
                            }
                            let every = self.scenario.control_plane.as_ref().map_or(POLL, |cp| cp.heartbeat);
                            self.push(now + every, Pending::Heartbeat(node));
                        }
                    }
                }
                continue;
            }
            let next = self.pending.keys().next().map_or(self.end, |(at, _)| *at).min(self.end).min(now + POLL);
            let wait = std::time::Duration::from_nanos(next.since(now).as_nanos());
            let rx = &mut self.rx;
            let got = self.engine.block_on(async { tokio::time::timeout(wait, rx.recv()).await });
            if let Ok(Some(happening)) = got {
                self.happened(happening);
            }
        }
    }

    fn execute(&mut self, from: ControllerId, action: Action) {
        match action {
            Action::Bind { pod, part, node } => {
                if let Err(reason) = self.apply(pod, part, node) {
                    self.record(Record::BindRefused { pod, part, node, reason: reason.clone() });
                    self.ready.push_back((from, Event::BindRefused(Box::new(Refused { pod, part, node, reason }))));
                }
            }
            Action::SetTimer { at, token } => self.push(at, Pending::Timer { to: from, token }),
            Action::ReportUnschedulable { pod, part, message } => {
                self.record(Record::Unschedulable { pod, part, message: message.into() })
            }
            Action::Send { to, message } => {
                self.ready.push_back((to, Event::Message { from, message: Box::new(message) }))
            }
            Action::Commit { claims, detection, all_or_nothing } => {
                let (accepted, conflicted) = commit::commit(&mut Omega(self), claims, detection, all_or_nothing);
                self.ready.push_back((from, Event::Committed(Box::new(Commitment { accepted, conflicted }))));
            }
            Action::Note(note) => {
                if let podlab_cluster::Note::JobComplete { job } | podlab_cluster::Note::JobFailed { job, .. } = &note {
                    self.jobs_finished.insert(job.clone());
                }
                self.record(Record::Note { by: from, note })
            }
            Action::CreatePod { spec } => {
                let pod = PodId(self.scenario.pods.len() as u32);
                self.scenario.pods.push(spec);
                self.pods.push(PodBooks::default());
                self.create_pod(pod);
            }
            Action::Evict { pod } => self.evict(pod),
            // The containers are stopped as an eviction stops them (Docker's stop is the
            // kubelet's graceful termination here).
            Action::Preempt { pod, node, victims } => {
                self.record(Record::Preempted { pod, node, victims: victims.clone() });
                for victim in victims {
                    self.evict(victim);
                }
            }
            Action::TaintNode { node, taint } => {
                let key = taint.key.clone();
                self.set_taint(node, Some(taint), &key);
            }
            Action::UntaintNode { node, key } => self.set_taint(node, None, &key),
        }
    }
}

/// The Docker cluster as an Omega commit sees it: the simulator's rule (`commit::commit`).
struct Omega<'b, 's>(&'b mut DockerBackend<'s>);

impl Ledger for Omega<'_, '_> {
    fn books(&self, node: NodeId) -> Option<&NodeUse> {
        self.0.nodes.get(node.index()).map(|n| &n.usage)
    }

    fn takes_parts(&self, node: NodeId) -> bool {
        let books = &self.0.nodes[node.index()];
        books.joined && !books.crashed
    }

    fn requests(&self, pod: PodId, part: Part) -> &Resources {
        self.0.scenario.pods.spec(pod).part_requests(part)
    }

    fn bind(&mut self, c: &Claim) -> bool {
        self.0.apply(c.pod, c.part, c.node).is_ok()
    }

    fn conflict(&mut self, c: &Claim) {
        self.0.record(Record::Conflict { pod: c.pod, part: c.part, node: c.node });
    }
}

impl Drop for DockerBackend<'_> {
    /// A run that ends by a panic leaves nothing behind either.
    fn drop(&mut self) {
        self.cleanup();
    }
}
