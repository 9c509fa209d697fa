//! podlab's own `kind: Simulation` document. Unlike Kubernetes kinds it is strict: an unknown
//! field is a typo, and a typo is an error.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

pub const API_VERSION: &str = "podlab.dev/v1alpha1";

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SimulationManifest {
    // Read by the loader's first pass; named here so the strict struct accepts them.
    #[allow(dead_code)]
    pub api_version: String,
    #[allow(dead_code)]
    pub kind: String,
    #[serde(default)]
    pub metadata: SimulationMeta,
    #[serde(default)]
    pub spec: SimulationSpec,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SimulationMeta {
    /// Checked to be a DNS-1123 subdomain: it names the folders of the scenario's outputs.
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    pub labels: BTreeMap<String, String>,
    /// `podlab.dev/attribution`: where the scenario's data comes from (reports show it).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SimulationSpec {
    /// The master seed of every run of this scenario (`--seed` overrides it).
    pub seed: Option<u64>,
    /// When the run stops, in virtual time; without it the run goes until nothing is left to do.
    pub duration: Option<Spanned<String>>,
    /// The policies `podlab run` compares when `--policy` is not given.
    pub policies: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub scheduler: SchedulerManifest,
    #[serde(default)]
    pub omega: OmegaManifest,
    #[serde(default)]
    pub monolithic: MonolithicManifest,
    #[serde(default)]
    pub mesos: MesosManifest,
    #[serde(default)]
    pub workload: WorkloadManifest,
    pub control_plane: Option<ControlPlaneManifest>,
    #[serde(default)]
    pub faults: Vec<FaultManifest>,
    /// Identical nodes by the count, for cells too big to list.
    #[serde(default)]
    pub node_pools: Vec<NodePoolManifest>,
    /// Objects created later than t = 0.
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
    /// kubectl-style changes to Deployments at fixed times.
    #[serde(default)]
    pub actions: Vec<Spanned<ActionManifest>>,
    #[serde(default)]
    pub expect: Vec<Spanned<ExpectManifest>>,
}

/// One timed action, as `kubectl` would do it: exactly one of `setImage`, `rolloutUndo`,
/// `scale`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ActionManifest {
    pub at: Spanned<String>,
    pub set_image: Option<SetImageManifest>,
    pub rollout_undo: Option<DeploymentRefManifest>,
    pub scale: Option<ScaleManifest>,
}

/// `kubectl set image deployment/<deployment> <container>=<image>`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetImageManifest {
    pub deployment: Spanned<String>,
    pub container: Spanned<String>,
    pub image: Spanned<String>,
}

/// `kubectl rollout undo deployment/<deployment> [--to-revision=<toRevision>]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeploymentRefManifest {
    pub deployment: Spanned<String>,
    pub to_revision: Option<Spanned<i64>>,
}

/// `kubectl scale deployment/<deployment> --replicas=<replicas>`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleManifest {
    pub deployment: Spanned<String>,
    pub replicas: Spanned<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchedulerManifest {
    /// `LeastAllocated` (Kubernetes' default) or `MostAllocated` (bin packing).
    pub scoring_strategy: Option<Spanned<String>>,
    /// A GPU score plugin: `Default`, `BestFit`, `GpuPacking`, `DotProduct` or `FGD`.
    pub gpu_scoring: Option<Spanned<String>>,
    pub t_job: Option<Spanned<String>>,
    pub t_task: Option<Spanned<String>>,
    pub permit_waiting_time: Option<Spanned<String>>,
    pub pod_group_backoff: Option<Spanned<String>>,
    /// kube-scheduler's `percentageOfNodesToScore` (0: adaptive).
    pub percentage_of_nodes_to_score: Option<Spanned<u32>>,
    /// kube-scheduler's `podInitialBackoffSeconds` and `podMaxBackoffSeconds`, as durations.
    pub pod_initial_backoff: Option<Spanned<String>>,
    pub pod_max_backoff: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DecisionManifest {
    pub t_job: Option<Spanned<String>>,
    pub t_task: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RetryManifest {
    pub interval: Option<Spanned<String>>,
    pub max_attempts: Option<u32>,
    pub max_fruitless_attempts: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchedulerSpecManifest {
    pub name: Spanned<String>,
    pub count: Option<Spanned<u32>>,
    pub workload: Option<Spanned<String>>,
    pub t_job: Option<Spanned<String>>,
    pub t_task: Option<Spanned<String>>,
    /// Mesos frameworks only: `paper` or `hoarding`.
    pub behaviour: Option<Spanned<String>>,
    /// Mesos hoarding frameworks only.
    pub hoard_timeout: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OmegaManifest {
    pub schedulers: Option<Vec<SchedulerSpecManifest>>,
    pub conflict_detection: Option<Spanned<String>>,
    pub transactions: Option<Spanned<String>>,
    pub assignment: Option<Spanned<String>>,
    #[serde(default)]
    pub retry: RetryManifest,
    /// `per-task` (the original simulator's first fit) or `pack`.
    pub placement: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MonolithicManifest {
    #[serde(default)]
    pub multi_path: bool,
    #[serde(default)]
    pub batch: DecisionManifest,
    #[serde(default)]
    pub service: DecisionManifest,
    #[serde(default)]
    pub retry: RetryManifest,
    /// `per-task` (the original simulator's first fit) or `pack`.
    pub placement: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MesosManifest {
    pub frameworks: Option<Vec<SchedulerSpecManifest>>,
    pub offer_interval: Option<Spanned<String>>,
    pub min_offer: Option<BTreeMap<String, Spanned<String>>>,
    pub offer_timeout: Option<Spanned<String>>,
    pub refuse: Option<Spanned<String>>,
    /// `per-node` (Mesos) or `whole-cell` (the Omega paper's model).
    pub offers: Option<Spanned<String>>,
    #[serde(default)]
    pub retry: RetryManifest,
    /// `per-task` (the original simulator's first fit) or `pack`.
    pub placement: Option<Spanned<String>>,
    /// `after-trigger` (the original's rounds) or `rate-limited`.
    pub rounds: Option<Spanned<String>>,
    /// The allocator's decision time before an offer is delivered.
    pub allocator_decision: Option<Spanned<String>>,
}

/// A value drawn from a distribution: `{distribution: exponential, mean: 10s}`,
/// `{distribution: constant, value: 4}`, `{distribution: uniform, min: 1, max: 8}`, or
/// `{distribution: empirical, file: …_cmb.log, workload: batch}` (the Omega simulator's format).
/// Any of them may be shaped: `offset`, then `rounding` (to a multiple of `step`), then
/// `atLeast`/`atMost` — the paper's task counts are
/// `{distribution: exponential, mean: "15", rounding: ceil, atLeast: "1"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributionManifest {
    pub distribution: Spanned<String>,
    pub mean: Option<Spanned<String>>,
    pub value: Option<Spanned<String>>,
    pub min: Option<Spanned<String>>,
    pub max: Option<Spanned<String>>,
    pub file: Option<Spanned<String>>,
    pub workload: Option<Spanned<String>>,
    /// Empirical: the rows of this cell and assignment policy (columns 1 and 2 of the file),
    /// required when the file has several.
    pub cell: Option<Spanned<String>>,
    pub policy: Option<Spanned<String>>,
    /// Lognormal: the median and the 99th percentile.
    pub p50: Option<Spanned<String>>,
    pub p99: Option<Spanned<String>>,
    /// Any distribution: added to each draw, before rounding.
    pub offset: Option<Spanned<String>>,
    /// Any distribution: `ceil`, `floor` or `round` each draw (to a multiple of `step`).
    pub rounding: Option<Spanned<String>>,
    pub step: Option<Spanned<String>>,
    /// Any distribution: the least and the most a draw may be, after rounding.
    #[serde(rename = "atLeast")]
    pub at_least: Option<Spanned<String>>,
    #[serde(rename = "atMost")]
    pub at_most: Option<Spanned<String>>,
}

/// `spec.controlPlane`: latencies of the apiserver, etcd and watches, and the kubelet's pod
/// start-up path. Without this section the control plane is ideal (instant); with it, every
/// unset field takes Kubernetes-like defaults.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControlPlaneManifest {
    pub api_server: Option<LatencyManifest>,
    pub etcd: Option<EtcdManifest>,
    pub watch_delay: Option<DistributionManifest>,
    pub kubelet: Option<KubeletManifest>,
    pub node_monitor_grace_period: Option<Spanned<String>>,
    /// The chance that one watch event to one watcher is lost (0 to 0.5).
    pub watch_drop_rate: Option<Spanned<f64>>,
    /// How long a watch stays open with no event before the client renews it.
    pub watch_timeout: Option<Spanned<String>>,
    /// What a List costs per object returned, on top of one request.
    pub list_latency_per_object: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LatencyManifest {
    pub latency: Option<DistributionManifest>,
    /// Each client's write rate limit (client-go's QPS and burst).
    pub client_qps: Option<Spanned<u32>>,
    pub client_burst: Option<Spanned<u32>>,
    /// The apiserver's `--request-timeout` (60s).
    pub request_timeout: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EtcdManifest {
    pub commit_latency: DistributionManifest,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeletManifest {
    pub sandbox: Option<Spanned<String>>,
    pub container_start: Option<Spanned<String>>,
    /// Image pull bandwidth per node, bytes per second (`50Mi`).
    pub pull_bandwidth: Option<Spanned<String>>,
    /// The size of an image no pod annotation sizes.
    pub default_image_size: Option<Spanned<String>>,
    pub heartbeat_interval: Option<Spanned<String>>,
}

/// A fault at a fixed time (`at`), or drawn as a random process (`every`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultManifest {
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    pub at: Option<Spanned<String>>,
    /// A random process: the time between occurrences, drawn per seed.
    pub every: Option<DistributionManifest>,
    /// A process's first occurrence is drawn from here (default 0)…
    pub from: Option<Spanned<String>>,
    /// …and none begins from here on (default: the scenario's duration).
    pub until: Option<Spanned<String>>,
    /// A process's occurrences last a drawn time (a node's recovery, a heal, an election, a
    /// brownout, a restart).
    pub recovery: Option<DistributionManifest>,
    #[serde(default)]
    pub nodes: Vec<Spanned<String>>,
    /// The nodes of a node pool (`spec.nodePools`)…
    pub pool: Option<Spanned<String>>,
    /// …or those with all these labels.
    pub node_selector: Option<Spanned<BTreeMap<String, String>>>,
    /// NodeCrash: when the node comes back.
    pub recover_after: Option<Spanned<String>>,
    /// Partition: when it heals.
    pub heal_after: Option<Spanned<String>>,
    /// EtcdLeaderLoss: how long the election takes (default 1s); ApiServerBrownout: how long
    /// it lasts.
    pub lasting: Option<Spanned<String>>,
    /// ApiServerBrownout: latency multiplier (default 10) and share of failed requests
    /// (default 0.2).
    pub latency_factor: Option<Spanned<f64>>,
    pub error_rate: Option<Spanned<f64>>,
    /// ApiServerBrownout: share of requests refused with 429 (default 0), the `Retry-After`
    /// they carry (default 1s), and a request timeout in force (default the control plane's).
    pub throttle_rate: Option<Spanned<f64>>,
    pub retry_after: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    /// SchedulerCrash, ControllerManagerCrash: when the process is back (absent: never).
    pub restart_after: Option<Spanned<String>>,
    /// SchedulerCrash: only this scheduler (a controller's name, e.g. `omega-batch-0`).
    pub scheduler: Option<Spanned<String>>,
}

/// One job written out: `tasks` identical pods arriving `at`, a PodGroup when more than one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JobManifest {
    pub name: Spanned<String>,
    pub at: Spanned<String>,
    #[serde(default = "one")]
    pub tasks: u32,
    pub cpu: Spanned<String>,
    pub memory: Spanned<String>,
    pub run_for: Option<Spanned<String>>,
    pub workload: Option<Spanned<String>>,
    pub scheduler_name: Option<String>,
}

fn one() -> u32 {
    1
}

/// A stream of jobs drawn from the run's seed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GeneratorManifest {
    pub name: Spanned<String>,
    pub workload: Option<Spanned<String>>,
    pub inter_arrival: DistributionManifest,
    pub tasks: DistributionManifest,
    pub run_for: DistributionManifest,
    pub cpu: Spanned<String>,
    pub memory: Spanned<String>,
    /// Stop generating at this time (required unless `count` is given).
    pub until: Option<Spanned<String>>,
    pub count: Option<Spanned<u64>>,
    pub scheduler_name: Option<String>,
}

/// Jobs already running at t = 0, drawn until the cell's CPU is this full.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrefillManifest {
    pub cpu_utilisation: Spanned<f64>,
    pub workload: Option<Spanned<String>>,
    pub tasks: DistributionManifest,
    pub cpu: Spanned<String>,
    pub memory: Spanned<String>,
    /// How long prefilled jobs keep running; unset: to the end.
    pub run_for: Option<DistributionManifest>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadManifest {
    #[serde(default)]
    pub jobs: Vec<JobManifest>,
    #[serde(default)]
    pub generators: Vec<GeneratorManifest>,
    pub prefill: Option<PrefillManifest>,
    /// Jobs already running at t = 0, placed per seed by random first fit.
    #[serde(default)]
    pub prefill_jobs: Vec<PrefillJobManifest>,
    /// A trace file read at load time: an SWF log's jobs, or a prefill trace's running jobs.
    pub trace: Option<TraceManifest>,
    /// Multiplies every generator's arrival rate (the paper's λ sweep).
    pub rate_multiplier: Option<Spanned<f64>>,
}

/// A job running at t = 0: `tasks` identical tasks of `cpu` and `memory` each.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrefillJobManifest {
    pub name: Spanned<String>,
    #[serde(default = "one")]
    pub tasks: u32,
    pub cpu: Spanned<String>,
    pub memory: Spanned<String>,
    /// How long it keeps running from t = 0; unset: to the end.
    pub run_for: Option<Spanned<String>>,
    pub workload: Option<Spanned<String>>,
}

/// `spec.workload.trace`: a trace file referenced, not inlined, and read (streaming, gzip or
/// not) when the scenario loads.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TraceManifest {
    /// `swf` (a Parallel Workloads Archive log: each job a gang of one-CPU pods) or
    /// `google-prefill` (the Omega simulator's prefill rows: jobs running at t = 0).
    pub format: Spanned<String>,
    /// Relative to the scenario's folder.
    pub path: Spanned<String>,
    /// Only the first N jobs (that ran, for SWF).
    pub max_jobs: Option<Spanned<u64>>,
    /// SWF: only jobs submitted from this long after the log's first submit, and before
    /// `until` (`720h`: a month in); the first of them arrives at t = 0.
    pub from: Option<Spanned<String>>,
    pub until: Option<Spanned<String>>,
    /// SWF: each task's size (default `1` CPU, `512Mi`).
    pub cpu: Option<Spanned<String>>,
    pub memory: Option<Spanned<String>>,
    /// google-prefill: only `batch` or `service` jobs (default both).
    pub workload: Option<Spanned<String>>,
    /// google-prefill: the end rows' unit, `us` (the Google 2011 trace, the default) or `s`.
    pub time_unit: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    pub at: Spanned<String>,
    /// `Kind/name` references to objects of this file (`Pod/app`, `Node/node-c`).
    pub create: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectManifest {
    /// Which policy this holds for (or `policies:` for several); when neither is given, every
    /// policy the scenario lists in `spec.policies`.
    pub policy: Option<Spanned<String>>,
    pub policies: Option<Vec<Spanned<String>>>,
    /// The instant it holds at; the end of the run when absent.
    pub at: Option<Spanned<String>>,
    /// What it teaches, shown when it fails.
    pub why: Option<String>,
    #[serde(default)]
    pub pods: BTreeMap<String, Spanned<PodExpect>>,
    #[serde(default)]
    pub groups: BTreeMap<String, Spanned<GroupExpect>>,
    #[serde(default, rename = "replicaSets")]
    pub replica_sets: BTreeMap<String, Spanned<ReplicaSetExpect>>,
    #[serde(default)]
    pub deployments: BTreeMap<String, Spanned<DeploymentExpect>>,
    #[serde(default)]
    pub jobs: BTreeMap<String, Spanned<JobExpect>>,
    /// How many pods are in each phase: `{Pending: 0, Running: 20}`.
    #[serde(default)]
    pub cluster: BTreeMap<String, Spanned<u32>>,
    /// How many records of a kind the run wrote by then: `{relisted: {min: 1}}`.
    #[serde(default)]
    pub events: BTreeMap<String, Spanned<CountExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeploymentExpect {
    /// Its pods available (running, for `minReadySeconds`) at the time.
    pub available: Option<u32>,
    /// Its revision at the time.
    pub revision: Option<u32>,
    /// The image every one of its running pods runs (in some container).
    pub image: Option<String>,
    /// During every update (a rollout after the first) up to the time, at least this many
    /// pods were available at every instant.
    pub min_available: Option<u32>,
    /// During every rollout up to the time, at most this many of its pods existed.
    pub max_pods: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JobExpect {
    /// `Complete`, `Failed` or `Running`.
    pub status: Option<Spanned<String>>,
    /// Why it failed: `BackoffLimitExceeded` or `DeadlineExceeded`.
    pub reason: Option<String>,
    /// Its pods that succeeded, and that failed, by then.
    pub succeeded: Option<u32>,
    pub failed: Option<u32>,
    /// At most this many of its pods ran at once.
    pub max_active: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountExpect {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaSetExpect {
    /// How many of its pods run (bound and not ended) by then.
    pub running: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodExpect {
    pub phase: Option<Spanned<String>>,
    pub node: Option<Spanned<String>>,
    /// The pod's containers landed on more than one node.
    pub split: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupExpect {
    /// The group's pods landed on more than one node.
    pub split: Option<bool>,
    /// How many of its pods were placed (wholly bound) by then.
    pub placed: Option<u32>,
}

/// `count` identical nodes named `<name>-0`, `<name>-1`, …
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodePoolManifest {
    pub name: Spanned<String>,
    pub count: Spanned<u32>,
    pub cpu: Spanned<String>,
    pub memory: Spanned<String>,
    pub max_pods: Option<u64>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}
