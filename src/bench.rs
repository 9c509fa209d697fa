//! The set-ups of the engine's benchmarks, shared by criterion (`benches/engine.rs`) and
//! `podlab bench`, so that both time the very same work: the event queue in its steady state,
//! one kube-framework decision over a partly loaded node table, one randomised first fit into a
//! mostly full cell, the scenarios run end to end or held with live pods, and (`first_fit`) a
//! policy of one's own entered in the registry. No wall clock here: the callers time these.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Arc;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::Rng;

use podlab_cluster::kube_config::{DEFAULT_SCHEDULER_NAME, ProfileConfig};
use podlab_cluster::objects::{Container, DEFAULT_MAX_PODS};
use podlab_cluster::scenario::ScoringStrategy;
use podlab_cluster::{Node, NodeId, Part, Pod, PodId, Resources, SimTime, rng};
use podlab_schedulers::framework::{Framework, Unit};
use podlab_schedulers::jobs::{Room, random_first_fit};
use podlab_schedulers::kube::cache::KubeCache;
use podlab_schedulers::node_table::NodeTable;
use podlab_sim::queue::EventQueue;

pub mod first_fit;

/// The event queue in its steady state: `pending` events queued, each step pops the earliest
/// and pushes one a random distance (up to 1 ms) ahead, so the queue's size never changes.
pub struct QueueBench {
    queue: EventQueue<u64>,
    rng: ChaCha8Rng,
}

impl QueueBench {
    /// `pending` events at random times within the first simulated second.
    pub fn new(pending: u64) -> QueueBench {
        let mut rng = rng::stream(1, "bench");
        let mut queue = EventQueue::with_capacity(pending as usize + 1);
        for i in 0..pending {
            queue.push(SimTime(rng.next_u64() % 1_000_000_000), i);
        }
        QueueBench { queue, rng }
    }

    /// One event through the queue: pop the earliest, push it again further ahead.
    #[inline]
    pub fn step(&mut self) {
        let (t, item) = self.queue.pop().expect("never empty");
        self.queue.push(SimTime(t.0 + 1 + (self.rng.next_u64() % 1_000_000)), black_box(item));
    }
}

/// A node of the benchmarks' clusters: 32 CPUs, 128 GiB, the default pod slots.
pub fn node(i: usize) -> Arc<Node> {
    let mut labels = BTreeMap::new();
    labels.insert("kubernetes.io/hostname".to_string(), format!("node-{i}"));
    Arc::new(Node {
        name: format!("node-{i}"),
        labels,
        taints: vec![],
        allocatable: Resources::new(32_000, 128 << 30),
        max_pods: DEFAULT_MAX_PODS,
        unschedulable: false,
        images: Vec::new(),
    })
}

fn pod(cpu_milli: u64, memory_bytes: u64) -> Pod {
    Pod::single("bench", Resources::new(cpu_milli, memory_bytes))
}

/// The co-scheduling pod whose decisions are timed: App (500m, 1 GiB) and LogCollector (100m,
/// 0.5 GiB).
pub fn app_with_logs() -> Pod {
    let mut pod = pod(600, 3 << 29);
    let container = |name: &str, cpu_milli, memory_bytes| Container {
        name: name.into(),
        image: String::new(),
        requests: Resources::new(cpu_milli, memory_bytes),
        limits: Resources::default(),
        sidecar: false,
    };
    pod.containers = vec![container("app", 500, 1 << 30), container("log-collector", 100, 1 << 29)];
    pod
}

/// What one decision of a policy places: `kubernetes` filters and scores the whole Pod,
/// `per-container` one container. The framework code is the same, so this is what differs.
/// `None` for a policy whose decision is not a single `Framework::select` (it needs its own
/// benchmark).
pub fn decision_part(policy: &str) -> Option<Part> {
    match policy {
        "kubernetes" => Some(Part::Whole),
        "per-container" => Some(Part::Container(0)),
        _ => None,
    }
}

/// kube-scheduler's `percentageOfNodesToScore` for scoring every feasible node.
pub const SCORE_ALL_PERCENT: u32 = 100;
/// `percentageOfNodesToScore: 0`: kube-scheduler's adaptive default (50% less 1% per 125
/// nodes, at least 5%, at least 100 nodes).
pub const SCORE_ADAPTIVE_PERCENT: u32 = 0;

/// A kube scheduler's cache of `nodes` nodes, each holding 0 to 39 filler pods (500m, 1 GiB):
/// the node table, and the kube profile's snapshot beside it, as the `kubernetes` scheduler
/// keeps them. Decisions of one pod shape in a row, one node changed between them: what a
/// burst of a Deployment's or a job's pods costs. A whole pod is decided by the kube profile
/// (LeastAllocated), a container by the framework (`per-container`).
pub struct DecisionBench {
    pub table: NodeTable,
    pub kube: KubeCache,
    pub framework: Framework,
    /// The scheduler's tie-break stream.
    pub rng: ChaCha8Rng,
    /// The pod last decided (by the caller's address), shared as the scheduler's cache
    /// shares it.
    pod: Option<(usize, Arc<Pod>)>,
    /// The id the decided pod is placed under: the next after the fillers'.
    next_id: PodId,
    /// The filler pod, every placed pod the snapshot may be asked for (a decided pod is
    /// taken back before the next decision).
    filler: Arc<Pod>,
}

impl DecisionBench {
    pub fn new(nodes: usize) -> DecisionBench {
        let mut rng = rng::stream(2, "bench");
        let filler = Arc::new(pod(500, 1 << 30));
        let mut table = NodeTable::default();
        let mut kube = KubeCache::new(&ProfileConfig::named(DEFAULT_SCHEDULER_NAME), Default::default());
        let mut filler_id = 0u32;
        for i in 0..nodes {
            let id = NodeId(i as u32);
            let spec = node(i);
            table.upsert(id, spec.clone());
            kube.upsert_node(id, spec);
            for _ in 0..(rng.next_u64() % 40) {
                kube.place(
                    &mut table,
                    PodId(filler_id),
                    &filler,
                    &Unit::new(&filler, Part::Whole),
                    id,
                    u64::from(filler_id),
                );
                filler_id += 1;
            }
        }
        let framework = Framework::new(ScoringStrategy::LeastAllocated);
        DecisionBench { table, kube, framework, rng, pod: None, next_id: PodId(filler_id), filler }
    }

    /// One decision for `unit` with `percentage` of nodes to score. The pod is placed and
    /// taken away again, as a scheduler's cache changes one node per binding: the table
    /// rescores that node next time.
    #[inline]
    pub fn decide(&mut self, unit: &Unit<'_>, percentage: u32) -> Option<NodeId> {
        if unit.part != Part::Whole {
            let chosen = self.table.select(&self.framework, unit, percentage, &mut self.rng);
            if let Ok(node) = chosen {
                self.table.add(node, unit);
                self.table.remove(node, unit);
            }
            return black_box(chosen).ok();
        }
        let address = std::ptr::from_ref(unit.pod) as usize;
        let pod = match &self.pod {
            Some((at, pod)) if *at == address => pod.clone(),
            _ => self.pod.insert((address, Arc::new(unit.pod.clone()))).1.clone(),
        };
        let filler = &self.filler;
        let chosen = self.kube.decide(&mut self.table, &pod, percentage, &mut self.rng, &|_| filler.clone());
        if let Ok(node) = chosen {
            // Placed (and taken back) in both books, as the scheduler's Reserve and an end do.
            let id = self.next_id;
            self.kube.place(&mut self.table, id, &pod, unit, node, 0);
            self.kube.unplace(&mut self.table, id, unit, node);
        }
        black_box(chosen).ok()
    }
}

/// The Omega paper's randomised first fit (`monolithic`, `omega`) placing one task (1 CPU,
/// 2 GiB) into a cell of `nodes` nodes where nine in ten are full, so a placement probes about
/// ten nodes; the task is given back after each placement, keeping the cell as it was.
pub struct FirstFitBench {
    free: Vec<Option<Room>>,
    order: Vec<u32>,
    task: Resources,
    rng: ChaCha8Rng,
}

impl FirstFitBench {
    pub fn new(nodes: usize) -> FirstFitBench {
        let mut rng = rng::stream(3, "bench");
        let free = (0..nodes)
            .map(|i| {
                let mut room = Room::of(&node(i));
                if rng.next_u64() % 10 != 0 {
                    room.take(&Resources::new(31_500, 0));
                }
                Some(room)
            })
            .collect();
        FirstFitBench { free, order: Vec::new(), task: Resources::new(1_000, 2 << 30), rng }
    }

    /// One placement, given back at once; the tasks placed (1, or 0 in a full cell).
    #[inline]
    pub fn place(&mut self) -> usize {
        let tasks = [(PodId(0), &self.task)];
        let placed = random_first_fit(&tasks, &mut self.free, &mut self.order, &mut self.rng);
        for &(_, at) in &placed {
            self.free[at.index()].as_mut().expect("a node of the cell").give(&self.task);
        }
        black_box(placed.len())
    }
}

/// The scale scenario `benches/scenarios/10k-nodes-1m-pods.yaml`: 10,000 nodes and 1,000,000
/// pods under `kubernetes`, arriving one a millisecond and running a minute each. Built into
/// the binary so `podlab bench` runs it from any folder.
pub const SCALE_SCENARIO_YAML: &str = include_str!("../benches/scenarios/10k-nodes-1m-pods.yaml");

/// The Google-cell day: 12,500 nodes, about 12M pods in one simulated day, sampled scoring.
pub const GOOGLE_DAY_YAML: &str = include_str!("../benches/scenarios/google-cell-day.yaml");

/// The Google-cell day at another size, for `--quick`: `nodes` nodes and the day's two
/// workloads for `minutes` simulated minutes (about 8,000 pods a minute).
pub fn google_day_text(nodes: usize, minutes: u64) -> String {
    GOOGLE_DAY_YAML
        .replace("count: 12500", &format!("count: {nodes}"))
        .replace("duration: 24h", &format!("duration: {minutes}m"))
        .replace("until: 24h", &format!("until: {minutes}m"))
}

/// One day of the Omega paper's experiment on a 1,000-machine cell (`podlab bench`'s
/// `paper-day`), run under each of `PAPER_POLICIES`.
pub const PAPER_DAY_YAML: &str = include_str!("../benches/scenarios/paper-day.yaml");

/// The paper's three architectures, as the paper day runs them.
pub const PAPER_POLICIES: [&str; 3] = ["monolithic", "mesos", "omega"];

/// The paper day at another size, for `--quick`: `machines` machines for `minutes` minutes.
pub fn paper_day_text(machines: usize, minutes: u64) -> String {
    PAPER_DAY_YAML
        .replace("count: 1000,", &format!("count: {machines},"))
        .replace("duration: 24h", &format!("duration: {minutes}m"))
        .replace("until: 24h", &format!("until: {minutes}m"))
}

/// A scenario of the scale scenario's shape at another size: `nodes` nodes (32 CPUs,
/// 128 GiB), `pods` one-CPU, 2 GiB pods arriving one a millisecond and running a minute each.
pub fn scale_scenario_text(nodes: usize, pods: usize) -> String {
    format!(
        "apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {{name: {nodes}-nodes-{pods}-pods}}
spec:
  seed: 1
  policies: [kubernetes]
  nodePools: [{{name: node, count: {nodes}, cpu: \"32\", memory: 128Gi}}]
  scheduler: {{tJob: 0s, tTask: 0s}}
  workload:
    generators:
    - name: web
      count: {pods}
      interArrival: {{distribution: constant, value: 1ms}}
      tasks: {{distribution: constant, value: \"1\"}}
      runFor: {{distribution: constant, value: 60s}}
      cpu: \"1\"
      memory: 2Gi
"
    )
}

/// A `kind: List` of `nodes` nodes and `pods` short pods (1 CPU, 2 GiB, running 10 to 59 s)
/// arriving together: criterion's end-to-end run.
pub fn burst_scenario_text(nodes: usize, pods: usize) -> String {
    let mut text = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for i in 0..nodes {
        let _ = writeln!(
            text,
            "- {{apiVersion: v1, kind: Node, metadata: {{name: n{i}}}, status: {{allocatable: {{cpu: \"32\", memory: 128Gi}}}}}}"
        );
    }
    for i in 0..pods {
        let _ = writeln!(
            text,
            "- {{apiVersion: v1, kind: Pod, metadata: {{name: p{i}, annotations: {{podlab.dev/run-for: {}s}}}}, spec: {{containers: [{{name: c, resources: {{requests: {{cpu: \"1\", memory: 2Gi}}}}}}]}}}}",
            10 + i % 50
        );
    }
    text
}

/// Live pods a node of [`live_pods_scenario_text`] holds: under the default 110 slots, and
/// 10 CPUs and 25 GiB of its 32 CPUs and 128 GiB.
pub const LIVE_PODS_PER_NODE: usize = 100;

/// The nodes [`live_pods_scenario_text`] gives `pods` live pods (at least one node).
pub fn nodes_for_live_pods(pods: usize) -> usize {
    pods.div_ceil(LIVE_PODS_PER_NODE).max(1)
}

/// A run that ends holding `pods` live pods (100m, 256 Mi each, arriving one a millisecond
/// from t = 0 and running far past the run's end) on a cluster with room for all of them: the
/// memory of live pods, measured against the same run with `pods = 0` (the same nodes, no
/// workload). The cluster is sized by [`nodes_for_live_pods`] of `for_pods`, so both runs of
/// a comparison have the same nodes.
pub fn live_pods_scenario_text(pods: usize, for_pods: usize) -> String {
    let nodes = nodes_for_live_pods(for_pods);
    // Every pod has arrived a second before the end; none ends before it.
    let duration_ms = for_pods as u64 + 1_000;
    let mut text = format!(
        "apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {{name: live-pods}}
spec:
  seed: 1
  policies: [kubernetes]
  duration: {duration_ms}ms
  nodePools: [{{name: node, count: {nodes}, cpu: \"32\", memory: 128Gi}}]
  scheduler: {{tJob: 0s, tTask: 0s}}
"
    );
    if pods > 0 {
        let _ = write!(
            text,
            "  workload:
    generators:
    - name: live
      count: {pods}
      interArrival: {{distribution: constant, value: 1ms}}
      tasks: {{distribution: constant, value: \"1\"}}
      runFor: {{distribution: constant, value: 100000h}}
      cpu: 100m
      memory: 256Mi
"
        );
    }
    text
}

/// This process's peak resident set size (`VmHWM` in /proc/self/status), in bytes; `None`
/// where /proc is absent (not Linux) or unreadable.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm_bytes(&status)
}

/// `VmHWM:   12345 kB` in the text of /proc/self/status, in bytes.
pub fn parse_vm_hwm_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut words = line["VmHWM:".len()..].split_whitespace();
    let kib: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") | None => Some(kib * 1024),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_in_bytes() {
        let status = "Name:\tpodlab\nVmPeak:\t  10 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(parse_vm_hwm_bytes(status), Some(2048 * 1024));
        assert_eq!(parse_vm_hwm_bytes("Name: x\n"), None);
    }

    /// The generated scenarios load, at the sizes `podlab bench --quick` uses, and the scale
    /// scenario file is the one built in.
    #[test]
    fn bench_scenarios_load() {
        let scale = crate::load_str("scale.yaml", &scale_scenario_text(10, 100)).unwrap();
        assert_eq!(scale.nodes.len(), 10);
        let burst = crate::load_str("burst.yaml", &burst_scenario_text(3, 7)).unwrap();
        assert_eq!((burst.nodes.len(), burst.pods.len()), (3, 7));
        for pods in [0, 250] {
            let live = crate::load_str("live.yaml", &live_pods_scenario_text(pods, 250)).unwrap();
            assert_eq!(live.nodes.len(), 3);
        }
        assert!(SCALE_SCENARIO_YAML.contains("count: 1000000"));
        let day = crate::load_str("google-cell-day.yaml", &google_day_text(10, 1)).unwrap();
        assert_eq!((day.nodes.len(), day.duration), (10, Some(podlab_cluster::SimDuration::from_secs(60))));
    }
}
