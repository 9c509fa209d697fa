//! Policy parameters a scenario can set (`spec.scheduler`, `spec.omega`, `spec.mesos`,
//! `spec.monolithic`), with their defaults: Kubernetes-like for the Kubernetes framework, the
//! Omega paper's for the paper's three architectures.

use crate::event::ConflictDetection;
use crate::objects::NodeId;
use crate::resources::Resources;
use crate::time::{SimDuration, SimTime};
use crate::workload::Distribution;
pub use crate::workload::WorkloadClass;

/// The Omega paper's decision time: `t_job + t_task × (tasks still unscheduled)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecisionTime {
    pub t_job: SimDuration,
    pub t_task: SimDuration,
}

impl DecisionTime {
    /// Kube-scheduler decides a pod in about a millisecond; its cost hardly grows with size.
    pub const KUBERNETES: DecisionTime = DecisionTime { t_job: SimDuration::from_millis(1), t_task: SimDuration::ZERO };
    /// The Omega paper's defaults: `t_job = 0.1 s`, `t_task = 5 ms`.
    pub const PAPER: DecisionTime =
        DecisionTime { t_job: SimDuration::from_millis(100), t_task: SimDuration::from_millis(5) };

    pub fn for_tasks(&self, unscheduled: u32) -> SimDuration {
        SimDuration(self.t_job.0.saturating_add(self.t_task.0.saturating_mul(u64::from(unscheduled))))
    }
}

/// How NodeResourcesFit scores nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScoringStrategy {
    /// Prefer emptier nodes (spreading): Kubernetes' default.
    #[default]
    LeastAllocated,
    /// Prefer fuller nodes (bin packing).
    MostAllocated,
}

/// A GPU score plugin that replaces NodeResourcesFit's score in the kube-framework policies
/// (`spec.scheduler.gpuScoring`); the OpenB paper's baselines and its FGD (`podlab::gpu`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum GpuScoring {
    /// No GPU plugin: NodeResourcesFit's strategy scores (Kubernetes' default).
    #[default]
    Default,
    /// The node left with the least free GPU and CPU after placement.
    BestFit,
    /// A share onto an already shared GPU, then free GPUs of a partly used node, then an idle node.
    GpuPacking,
    /// Tetris: the smallest dot product of the request and the node's free resources.
    DotProduct,
    /// Fragmentation gradient descent: the smallest growth of the node's expected fragmentation.
    Fgd,
}

impl GpuScoring {
    pub const ALL: [GpuScoring; 5] =
        [GpuScoring::Default, GpuScoring::BestFit, GpuScoring::GpuPacking, GpuScoring::DotProduct, GpuScoring::Fgd];

    pub fn as_str(self) -> &'static str {
        match self {
            GpuScoring::Default => "Default",
            GpuScoring::BestFit => "BestFit",
            GpuScoring::GpuPacking => "GpuPacking",
            GpuScoring::DotProduct => "DotProduct",
            GpuScoring::Fgd => "FGD",
        }
    }

    pub fn parse(text: &str) -> Option<GpuScoring> {
        GpuScoring::ALL.into_iter().find(|g| g.as_str() == text)
    }

    /// The names, for messages: `Default | BestFit | …`.
    pub fn names() -> String {
        GpuScoring::ALL.map(GpuScoring::as_str).join(" | ")
    }
}

/// When the paper's schedulers retry a job and when they give up on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// A job left with unplaced tasks is attempted again this much later.
    pub interval: SimDuration,
    /// Abandon a job after more than this many attempts…
    pub max_attempts: u32,
    /// …or more than this many attempts that placed nothing.
    pub max_fruitless_attempts: u32,
}

impl Default for Retry {
    fn default() -> Self {
        Retry { interval: SimDuration::from_secs(1), max_attempts: 1000, max_fruitless_attempts: 100 }
    }
}

/// `spec.scheduler`: the Kubernetes scheduling framework (`kubernetes`, `per-container`, `gang`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeConfig {
    pub scoring: ScoringStrategy,
    /// A GPU score plugin in place of the strategy's score (`Default`: none).
    pub gpu_scoring: GpuScoring,
    pub decision: DecisionTime,
    /// How long gang members wait at Permit when their PodGroup sets no
    /// `scheduleTimeoutSeconds` (coscheduling's `permitWaitingTimeSeconds`).
    pub permit_waiting_time: SimDuration,
    /// How long a gang that timed out waits before its members are tried again.
    pub group_backoff: SimDuration,
    /// kube-scheduler's `percentageOfNodesToScore`: 0 is its adaptive default (50% less 1% per
    /// 125 nodes, at least 5%); clusters under 100 nodes are always searched whole.
    pub percentage_of_nodes_to_score: u32,
    /// `podInitialBackoffSeconds` and `podMaxBackoffSeconds`: a part that failed waits this
    /// long, doubling per attempt up to the maximum, before it is tried again.
    pub pod_initial_backoff: SimDuration,
    pub pod_max_backoff: SimDuration,
}

impl Default for KubeConfig {
    fn default() -> Self {
        KubeConfig {
            scoring: ScoringStrategy::default(),
            gpu_scoring: GpuScoring::default(),
            decision: DecisionTime::KUBERNETES,
            permit_waiting_time: SimDuration::from_secs(60),
            group_backoff: SimDuration::from_secs(1),
            percentage_of_nodes_to_score: 0,
            pod_initial_backoff: SimDuration::from_secs(1),
            pod_max_backoff: SimDuration::from_secs(10),
        }
    }
}

/// One scheduler (or `count` identical ones) of a shared-state cell, or one Mesos framework.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchedulerSpec {
    pub name: String,
    /// How many identical instances (Omega batch schedulers scale out this way).
    pub count: u32,
    /// The work it takes when a pod's `schedulerName` names no scheduler; `None`: any.
    pub workload: Option<WorkloadClass>,
    pub decision: DecisionTime,
}

/// How Omega assigns jobs among schedulers that could all take them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Assignment {
    #[default]
    Hash,
    RoundRobin,
}

/// How the Omega paper's randomised first fit picks machines for a job's tasks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Placement {
    /// The original simulator's (`CoreClusterSimulation.scala`, `scheduleJob`): a fresh random
    /// machine for every task from a candidate pool; a machine that takes a task stays in the
    /// pool, one that does not is dropped from it. A job's tasks spread over many machines.
    #[default]
    PerTask,
    /// podlab's earlier rule: machines in one random order, each filled with as many of the
    /// job's tasks as fit before the next. A job touches few machines.
    Pack,
}

impl Placement {
    pub fn parse(text: &str) -> Result<Placement, String> {
        match text {
            "per-task" => Ok(Placement::PerTask),
            "pack" => Ok(Placement::Pack),
            _ => Err(format!("`{text}`: placement is per-task or pack")),
        }
    }
}

/// `spec.omega`: shared-state schedulers with optimistic transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OmegaConfig {
    pub schedulers: Vec<SchedulerSpec>,
    pub detection: ConflictDetection,
    pub all_or_nothing: bool,
    pub assignment: Assignment,
    pub retry: Retry,
    pub placement: Placement,
}

impl Default for OmegaConfig {
    fn default() -> Self {
        let spec = |name: &str, workload| SchedulerSpec {
            name: name.into(),
            count: 1,
            workload: Some(workload),
            decision: DecisionTime::PAPER,
        };
        OmegaConfig {
            schedulers: vec![spec("batch", WorkloadClass::Batch), spec("service", WorkloadClass::Service)],
            detection: ConflictDetection::Fine,
            all_or_nothing: false,
            assignment: Assignment::Hash,
            retry: Retry::default(),
            placement: Placement::PerTask,
        }
    }
}

/// `spec.monolithic`: one scheduler, one queue, placing on the live cell state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonolithicConfig {
    /// Multi-path: batch and service jobs get their own decision times (still one queue).
    pub multi_path: bool,
    /// The decision time of every job (single-path), or of batch jobs (multi-path).
    pub batch: DecisionTime,
    pub service: DecisionTime,
    pub retry: Retry,
    pub placement: Placement,
}

impl Default for MonolithicConfig {
    fn default() -> Self {
        MonolithicConfig {
            multi_path: false,
            batch: DecisionTime::PAPER,
            service: DecisionTime::PAPER,
            retry: Retry::default(),
            placement: Placement::PerTask,
        }
    }
}

/// How a Mesos framework uses its offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FrameworkBehaviour {
    /// The paper's: walk the queue against the offer, answer after the summed decision time,
    /// partial placement allowed.
    #[default]
    Paper,
    /// Co-scheduling by hoarding: keep offers until a whole group fits, then launch it at once.
    Hoarding,
}

/// How much the Mesos allocator offers at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OfferGranularity {
    /// Like Mesos: each free node goes to the framework furthest below its DRF share at that
    /// moment, so one round can split the cell between frameworks.
    #[default]
    PerNode,
    /// The Omega paper's model: all free resources to one framework.
    WholeCell,
}

/// When the Mesos allocator runs a round of offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocationRounds {
    /// The original simulator's (`MesosSimulation.scala`, `schedBuildAndSendOffer`): a request
    /// for offers, a framework's answer or the end of a task it launched schedules a round one
    /// offer interval later, unless one is scheduled already.
    AfterTrigger,
    /// A round at once when the allocator has been idle for an interval, else an interval
    /// after the last (at most one round per interval, as Mesos's batch allocation).
    RateLimited,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameworkSpec {
    pub scheduler: SchedulerSpec,
    pub behaviour: FrameworkBehaviour,
    /// A hoarding framework gives everything back if its head group has not fitted by then.
    pub hoard_timeout: SimDuration,
}

/// `spec.mesos`: a DRF allocator offering resources to frameworks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MesosConfig {
    pub frameworks: Vec<FrameworkSpec>,
    /// Offers are batched: at most one allocation round per interval.
    pub offer_interval: SimDuration,
    /// No offer is made while less than this is free.
    pub min_offer: Resources,
    /// Unanswered offers are rescinded after this long; `None`: never (the paper's model).
    pub offer_timeout: Option<SimDuration>,
    /// Declined resources are not re-offered to the same framework for this long.
    pub refuse: SimDuration,
    pub granularity: OfferGranularity,
    pub retry: Retry,
    pub placement: Placement,
    /// When rounds run; `None`: the offers' model decides (whole-cell: after a trigger, as the
    /// original; per-node: rate-limited).
    pub rounds: Option<AllocationRounds>,
    /// The allocator's decision time: an offer reaches its framework this long after the round
    /// that made it (its resources are locked from the round on). `None`: whole-cell offers
    /// take the original's 1 ms, per-node ones none.
    pub allocator_decision: Option<SimDuration>,
}

impl MesosConfig {
    /// When rounds run, the model's default unless set.
    pub fn rounds(&self) -> AllocationRounds {
        self.rounds.unwrap_or(match self.granularity {
            OfferGranularity::WholeCell => AllocationRounds::AfterTrigger,
            OfferGranularity::PerNode => AllocationRounds::RateLimited,
        })
    }

    /// The allocator's decision time, the model's default unless set.
    pub fn allocator_decision(&self) -> SimDuration {
        self.allocator_decision.unwrap_or(match self.granularity {
            OfferGranularity::WholeCell => SimDuration::from_millis(1),
            OfferGranularity::PerNode => SimDuration::ZERO,
        })
    }
}

impl Default for MesosConfig {
    fn default() -> Self {
        let framework = |name: &str, workload| FrameworkSpec {
            scheduler: SchedulerSpec {
                name: name.into(),
                count: 1,
                workload: Some(workload),
                decision: DecisionTime::PAPER,
            },
            behaviour: FrameworkBehaviour::Paper,
            hoard_timeout: SimDuration::from_secs(60),
        };
        MesosConfig {
            frameworks: vec![framework("batch", WorkloadClass::Batch), framework("service", WorkloadClass::Service)],
            offer_interval: SimDuration::from_secs(1),
            min_offer: Resources::default(),
            offer_timeout: None,
            refuse: SimDuration::from_secs(5),
            granularity: OfferGranularity::PerNode,
            retry: Retry::default(),
            placement: Placement::PerTask,
            rounds: None,
            allocator_decision: None,
        }
    }
}

/// Every policy's parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyConfig {
    pub scheduler: KubeConfig,
    pub omega: OmegaConfig,
    pub monolithic: MonolithicConfig,
    pub mesos: MesosConfig,
}

/// Parses the names scenarios and `--set` use for conflict detection.
pub struct ConflictDetectionName;

impl ConflictDetectionName {
    pub fn parse(text: &str) -> Result<ConflictDetection, String> {
        match text {
            "fine" => Ok(ConflictDetection::Fine),
            "coarse" => Ok(ConflictDetection::Coarse),
            _ => Err(format!("`{text}`: conflict detection is fine or coarse")),
        }
    }
}

/// The control plane's latencies and the kubelet's start-up path (`spec.controlPlane`). Times
/// are drawn in nanoseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct ControlPlaneConfig {
    /// One apiserver request, there and back (a bind, a commit).
    pub api_latency: Distribution,
    /// An etcd commit, added to every write.
    pub etcd_commit: Distribution,
    /// From a write's commit to its watch event reaching one watcher.
    pub watch_delay: Distribution,
    /// The kubelet: the pod sandbox (infra container), then each container's start.
    pub sandbox: SimDuration,
    pub container_start: SimDuration,
    pub pull_bytes_per_second: u64,
    pub default_image_bytes: u64,
    /// Kubelet node-status heartbeats, and how long the node lifecycle controller waits
    /// without one before it marks the node NotReady.
    pub heartbeat: SimDuration,
    pub node_monitor_grace: SimDuration,
    /// Each client's (controller's) rate limit on writes, as client-go's token bucket: `qps`
    /// requests per second on average, bursts of `burst`. `None`: unlimited.
    pub client_qps: Option<(u32, u32)>,
    /// The chance that one watch event to one watcher is lost (its stream broke). The
    /// watcher's informer notices at its next event (a resourceVersion gap) or at its watch
    /// timeout, and relists.
    pub watch_drop_rate: f64,
    /// How long a watch with no event stays open before the client re-establishes it (and so
    /// notices a broken stream that nothing else revealed): drawn between this and twice it.
    pub watch_timeout: SimDuration,
    /// A List call costs one apiserver request plus this per object returned.
    pub list_per_object: SimDuration,
    /// The apiserver's request timeout (`--request-timeout`, 60 s): an attempt slower than
    /// this fails, and the client retries.
    pub request_timeout: SimDuration,
}

impl ControlPlaneConfig {
    /// Kubernetes-like defaults: apiserver p50 5 ms / p99 50 ms, etcd commits of 2 ms on
    /// average, watches 10 ms behind, a 300 ms sandbox, 100 ms per container start, 50 MiB/s
    /// pulls of 100 MiB images, 10 s heartbeats, a 40 s grace period, no client rate limit;
    /// no watch event lost, 5 min watch timeouts (client-go's minimum), 20 µs per listed
    /// object, 60 s request timeouts.
    pub fn kubernetes() -> ControlPlaneConfig {
        ControlPlaneConfig {
            api_latency: Distribution::lognormal(5e6, 50e6),
            etcd_commit: Distribution::Exponential { mean: 2e6 },
            watch_delay: Distribution::Exponential { mean: 10e6 },
            sandbox: SimDuration::from_millis(300),
            container_start: SimDuration::from_millis(100),
            pull_bytes_per_second: 50 << 20,
            default_image_bytes: 100 << 20,
            heartbeat: SimDuration::from_secs(10),
            node_monitor_grace: SimDuration::from_secs(40),
            client_qps: None,
            watch_drop_rate: 0.0,
            watch_timeout: SimDuration::from_secs(300),
            list_per_object: SimDuration(20_000),
            request_timeout: SimDuration::from_secs(60),
        }
    }
}

/// A process a fault can crash: all the controllers it runs go down together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Component {
    /// kube-scheduler, an Omega scheduler, the Mesos master or a framework.
    Scheduler,
    /// kube-controller-manager: the ReplicaSet, node lifecycle (and any later) controllers.
    ControllerManager,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Scheduler => "scheduler",
            Component::ControllerManager => "controller-manager",
        }
    }
}

/// How the apiserver misbehaves during a brownout.
#[derive(Clone, Debug, PartialEq)]
pub struct Brownout {
    /// Every attempt's apiserver latency is multiplied by this.
    pub latency_factor: f64,
    /// A share of attempts fails with a 5xx; the client retries after an exponential backoff.
    pub error_rate: f64,
    /// A share of attempts is refused with 429 Too Many Requests; the client retries after
    /// the `Retry-After` the apiserver sent.
    pub throttle_rate: f64,
    pub retry_after: SimDuration,
    /// The request timeout in force (else the control plane's): a slower attempt fails.
    pub timeout: Option<SimDuration>,
}

/// A fault injected at a fixed time.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// The node stops: its containers die, its kubelet falls silent; it comes back after
    /// `recover_after` if given.
    NodeCrash { at: SimTime, node: NodeId, recover_after: Option<SimDuration> },
    /// The node is cut off from the control plane: its kubelet can neither report nor see new
    /// bindings, but its containers go on running. It heals after `heal_after` if given.
    Partition { at: SimTime, node: NodeId, heal_after: Option<SimDuration> },
    /// etcd loses its leader: no write commits until a new one is elected.
    EtcdLeaderLoss { at: SimTime, election: SimDuration },
    /// The apiserver is degraded for `lasting`: latency multiplied by `latency_factor`, and a
    /// share `error_rate` of requests fail with 5xx/429, which clients retry with backoff.
    ApiServerBrownout { at: SimTime, lasting: SimDuration, brownout: Brownout },
    /// A control-plane process dies: its controllers lose their memory, hear nothing and
    /// their timers die; after `restart_after` they start afresh and relist. `name`: only the
    /// controller of that name (else every controller of the component).
    ComponentCrash { at: SimTime, component: Component, name: Option<String>, restart_after: Option<SimDuration> },
}

impl Fault {
    pub fn at(&self) -> SimTime {
        match self {
            Fault::NodeCrash { at, .. }
            | Fault::Partition { at, .. }
            | Fault::EtcdLeaderLoss { at, .. }
            | Fault::ApiServerBrownout { at, .. }
            | Fault::ComponentCrash { at, .. } => *at,
        }
    }

    /// The same fault at another time, lasting `recovery` when given (a node's recovery, a
    /// partition's heal, an election, a brownout, a restart).
    pub fn instance(&self, at: SimTime, node: Option<NodeId>, recovery: Option<SimDuration>) -> Fault {
        let mut f = self.clone();
        match &mut f {
            Fault::NodeCrash { at: a, node: n, recover_after: r } => {
                (*a, *n) = (at, node.unwrap_or(*n));
                *r = recovery.or(*r);
            }
            Fault::Partition { at: a, node: n, heal_after: r } => {
                (*a, *n) = (at, node.unwrap_or(*n));
                *r = recovery.or(*r);
            }
            Fault::EtcdLeaderLoss { at: a, election } => {
                *a = at;
                *election = recovery.unwrap_or(*election);
            }
            Fault::ApiServerBrownout { at: a, lasting, .. } => {
                *a = at;
                *lasting = recovery.unwrap_or(*lasting);
            }
            Fault::ComponentCrash { at: a, restart_after, .. } => {
                *a = at;
                *restart_after = recovery.or(*restart_after);
            }
        }
        f
    }

    /// How long the fault lasts, if it ends by itself.
    pub fn lasting(&self) -> Option<SimDuration> {
        match self {
            Fault::NodeCrash { recover_after: d, .. }
            | Fault::Partition { heal_after: d, .. }
            | Fault::ComponentCrash { restart_after: d, .. } => *d,
            Fault::EtcdLeaderLoss { election: d, .. } | Fault::ApiServerBrownout { lasting: d, .. } => Some(*d),
        }
    }
}

/// A fault drawn as a random process from the run's seed (`every:` in `spec.faults`): from
/// `start`, occurrences `every` apart (drawn), until `until`; node faults hit a node of `nodes`
/// not already down by this process, drawn uniformly; each lasts `recovery` (drawn) or the
/// template's fixed duration. Each process draws from its own stream `faults/<index>`.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultProcess {
    /// The position of the process in `spec.faults`: it names the stream.
    pub index: usize,
    pub template: Fault,
    pub every: Distribution,
    pub recovery: Option<Distribution>,
    pub nodes: Vec<NodeId>,
    pub start: SimTime,
    pub until: SimTime,
}

impl FaultProcess {
    /// The process's faults for `seed`, in time order. Node faults skip an occurrence when
    /// every node of the set is still down from an earlier one; other kinds skip one that
    /// begins before the previous has ended (one etcd election, one brownout at a time).
    pub fn draw(&self, seed: u64) -> Vec<Fault> {
        let mut rng = crate::rng::stream(seed, &format!("faults/{}", self.index));
        let nanos = |d: &Distribution, rng: &mut rand_chacha::ChaCha8Rng| {
            SimDuration(d.sample(rng).round().clamp(0.0, 1e15) as u64)
        };
        let node_fault = matches!(self.template, Fault::NodeCrash { .. } | Fault::Partition { .. });
        let mut out = Vec::new();
        // Per node of the set (or the one non-node slot): when its last fault ends; `None`
        // while it never ends.
        let slots = if node_fault { self.nodes.len() } else { 1 };
        let mut busy_until: Vec<Option<SimTime>> = vec![Some(SimTime::ZERO); slots];
        let mut at = self.start;
        // Bounded: a process of zero-length gaps must not loop for ever.
        for _ in 0..1_000_000 {
            at += nanos(&self.every, &mut rng).max(SimDuration(1));
            if at >= self.until {
                break;
            }
            let free: Vec<usize> = (0..slots).filter(|&i| busy_until[i].is_some_and(|t| t <= at)).collect();
            // The recovery is drawn even for a skipped occurrence, so that a skip shifts no
            // later draw but the node's.
            let pick = if free.is_empty() { None } else { Some(crate::rng::below(&mut rng, free.len() as u64)) };
            let recovery = self.recovery.as_ref().map(|d| nanos(d, &mut rng));
            let Some(pick) = pick else { continue };
            let slot = free[pick as usize];
            let node = node_fault.then(|| self.nodes[slot]);
            let fault = self.template.instance(at, node, recovery);
            busy_until[slot] = fault.lasting().map(|d| at + d);
            out.push(fault);
        }
        out
    }
}
