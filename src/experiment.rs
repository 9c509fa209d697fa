//! `podlab experiment openb`: the OpenB paper's packing experiment (Weng et al., "Beware of
//! Fragmentation", USENIX ATC 2023, §6), run on every bundled pod list. Per seed, the list's
//! pods are shuffled, then thinned or topped up with draws to ask for 1.3× the cluster's GPUs
//! (the simulator's `tuneDownPods` / `tuneUpPods`); each is placed at once and never leaves.
//! Every policy places the same sequence. After each pod the GPU allocation and both
//! fragmentations are measured; like the paper's analysis scripts, a percent of arrived load
//! reports the mean over the pods whose arrived load rounds to it.
//!
//! The policies are the paper's six under the original simulator's semantics
//! (`podlab_schedulers::fgd_sim`, the default: the experiment claims to reproduce the paper),
//! and podlab's own Kubernetes-style GPU plugins (`kube-…`: the scheduler's `Framework::select`
//! with exact scores and uniform ties, over a `NodeInfo` cache), driven in a plain loop: with
//! nothing ever released and no time, the event loop would add only its overheads.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;

use anyhow::Context as _;
use rayon::prelude::*;

use crate::cluster::config::GpuScoring;
use crate::cluster::gpu::{GpuDemand, MILLI_PER_GPU};
use crate::cluster::rng::{below, stream};
use crate::cluster::scenario::ScoringStrategy;
use crate::cluster::{Node, NodeId, Part, Pod};
use crate::reports::charts::{Chart, Plot, Series};
use crate::scenario::openb;
use crate::schedulers::fgd_sim::{Models, SimCluster, SimNode, SimPod, SimPolicy, SimWorkload, Typical};
use crate::schedulers::framework::{Framework, NodeInfo, Unit};
use crate::schedulers::gpu::{GpuScorer, TargetWorkload};

use crate::input::BadInput;
use crate::outln;

/// `podlab experiment openb` arguments.
#[derive(clap::Args)]
pub struct OpenbExperimentArgs {
    /// The node list. The default is the repository's copy, read from the repository's root.
    #[arg(long, value_name = "FILE", default_value = "data/traces/openb/openb_node_list_gpu_node.csv")]
    pub nodes: PathBuf,
    /// A pod list (the pods drawn, and the workload fragmentation is measured for); repeat for
    /// several. Default: every `openb_pod_list_*.csv` beside the node list.
    #[arg(long, value_name = "FILE")]
    pub pods: Vec<PathBuf>,
    /// How many seeds (S, S+1, …, S+N-1) to average over.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub seeds: u64,
    /// The first seed.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub start: u64,
    /// A policy to run; repeat for several. The paper's six under the original simulator's
    /// semantics (Random, DotProd, GpuClustering, GpuPacking, BestFit, FGD) are the default;
    /// podlab's Kubernetes-style plugins are kube-Default, kube-BestFit, kube-GpuPacking,
    /// kube-DotProduct, kube-FGD; `paper` and `kube` name each group.
    #[arg(long = "policy", alias = "scoring", value_name = "NAME")]
    pub policies: Vec<String>,
    /// Pods arrive until they ask for this many percent of the cluster's GPUs.
    #[arg(long, value_name = "PERCENT", default_value_t = 130)]
    pub load_percent: u64,
    /// Write openb.csv, openb-mean.csv and each pod list's charts here.
    #[arg(long, value_name = "DIR", default_value = "podlab-openb")]
    pub out: PathBuf,
    /// Replace the files of an earlier experiment in --out.
    #[arg(long)]
    pub force: bool,
    /// Also write the charts as PNG.
    #[arg(long)]
    pub png: bool,
}

/// One placement rule of the experiment: the original simulator's policy, or podlab's
/// Kubernetes-style GPU plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    Sim(SimPolicy),
    Kube(GpuScoring),
}

impl From<SimPolicy> for Policy {
    fn from(p: SimPolicy) -> Policy {
        Policy::Sim(p)
    }
}

impl From<GpuScoring> for Policy {
    fn from(p: GpuScoring) -> Policy {
        Policy::Kube(p)
    }
}

impl Policy {
    /// Every policy: the paper's six, then podlab's five.
    pub fn all() -> Vec<Policy> {
        let sim = SimPolicy::ALL.into_iter().map(Policy::Sim);
        sim.chain(GpuScoring::ALL.into_iter().map(Policy::Kube)).collect()
    }

    /// The paper's name for its six; `kube-<plugin>` for podlab's.
    pub fn name(self) -> String {
        match self {
            Policy::Sim(p) => p.as_str().to_string(),
            Policy::Kube(p) => format!("kube-{}", p.as_str()),
        }
    }

    pub fn parse(text: &str) -> Option<Policy> {
        Policy::all().into_iter().find(|p| p.name() == text)
    }
}

/// The cluster at one percent of arrived load: means over the pods whose arrived load rounds
/// to it.
#[derive(Clone, Copy, Debug, Default)]
struct Point {
    load_percent: u64,
    /// GPUs allocated, in percent of the cluster's.
    allocated: f64,
    /// The original's fragmentation (typical pods), in percent of the cluster's GPUs.
    frag_typical: f64,
    /// podlab's fragmentation (every pod of the list), in percent of the cluster's GPUs.
    frag_all: f64,
    /// Pods that fit no node, by the last pod of the percent.
    refused_pods: u64,
}

/// One run: one pod list, one policy, one seed.
pub struct Run {
    policy: Policy,
    seed: u64,
    points: Vec<Point>,
    pub placed_pods: u64,
}

/// The node list, ready to place on.
pub struct NodeSet {
    pub nodes: Vec<Arc<Node>>,
    sim: Vec<SimNode>,
    models: Models,
    /// Each node's GPU model, as a [`Models`] id.
    model_of: Vec<u8>,
    gpu_milli: u64,
}

/// One pod list, ready to place.
pub struct PodList {
    /// The list's name: the file's, less `openb_pod_list_` (`default`, `cpu050`…).
    pub name: String,
    pub pods: Vec<Arc<Pod>>,
    /// Each pod's GPU demand in milli-GPU.
    demand_milli: Vec<u64>,
    /// Each pod's milli-GPU per GPU: the original's top-up stops on it.
    milli_per_gpu: Vec<u64>,
    /// podlab's target workload: every pod of the list.
    workload: TargetWorkload,
    /// The original simulator's view: its pods and typical pods.
    sim: SimWorkload,
}

/// A node list and one pod list (shared with `podlab bench`, which times one run).
pub struct Setup {
    pub nodes: Arc<NodeSet>,
    pub list: PodList,
}

/// Reads a node list.
pub fn load_nodes(nodes_file: &Path) -> anyhow::Result<NodeSet> {
    let node_list = openb::read_nodes(nodes_file).map_err(|e| BadInput(e.0))?;
    let nodes: Vec<Arc<Node>> = node_list.iter().map(openb::to_node).collect();
    let mut models = Models::default();
    let mut model_of = Vec::with_capacity(node_list.len());
    let mut sim = Vec::with_capacity(node_list.len());
    for n in &node_list {
        let model = models
            .id(if n.gpus > 0 { &n.model } else { "" })
            .map_err(|e| BadInput(format!("{}: {e}", nodes_file.display())))?;
        model_of.push(model);
        sim.push(SimNode::new(n.cpu_milli as i64, n.memory_bytes() as i64, n.gpus as usize, model));
    }
    let gpu_milli: u64 = node_list.iter().map(|n| n.gpus).sum::<u64>() * u64::from(MILLI_PER_GPU);
    if gpu_milli == 0 {
        return Err(BadInput(format!("{}: no node has a GPU", nodes_file.display())).into());
    }
    Ok(NodeSet { nodes, sim, models, model_of, gpu_milli })
}

/// Reads a pod list for a node list.
pub fn load_list(nodes: &NodeSet, pods_file: &Path) -> anyhow::Result<PodList> {
    let pod_list = openb::read_pods(pods_file, usize::MAX).map_err(|e| BadInput(e.0))?;
    let pods: Vec<Arc<Pod>> = pod_list.iter().map(openb::to_pod).collect();
    let demand_milli: Vec<u64> = pods.iter().map(|p| GpuDemand::of(p, Part::Whole).milli()).collect();
    if demand_milli.iter().all(|d| *d == 0) {
        return Err(BadInput(format!("{}: no pod asks for a GPU", pods_file.display())).into());
    }
    let milli_per_gpu = pod_list.iter().map(|p| if p.num_gpu == 0 { 0 } else { p.gpu_milli }).collect();
    let sim_pods = pod_list
        .iter()
        .map(|p| {
            let models = nodes.models.mask(&p.gpu_models);
            SimPod::new(
                p.cpu_milli as i64,
                p.memory_bytes() as i64,
                p.num_gpu as u32,
                p.gpu_milli as i64,
                models,
                &p.gpu_models.join("|"),
            )
        })
        .collect();
    let workload = TargetWorkload::from_pods(pods.iter().map(|p| &*p.spec));
    Ok(PodList {
        name: list_name(pods_file),
        pods,
        demand_milli,
        milli_per_gpu,
        workload,
        sim: SimWorkload::new(sim_pods),
    })
}

/// Reads the node and pod lists (shared with `podlab bench`).
pub fn load_setup(nodes_file: &Path, pods_file: &Path) -> anyhow::Result<Setup> {
    let nodes = Arc::new(load_nodes(nodes_file)?);
    let list = load_list(&nodes, pods_file)?;
    Ok(Setup { nodes, list })
}

fn list_name(path: &Path) -> String {
    let stem = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
    stem.strip_prefix("openb_pod_list_").map_or(stem.clone(), str::to_string)
}

/// The pods that arrive, in order, for one seed (the original's `SortClusterPods`,
/// `pkg/simulator/simulator.go:908-944`, then `TunePodsByNodeTotalResource`, 1132-1204, called from
/// `Simulate`, `pkg/simulator/core.go:100-120`): the list shuffled; then, if
/// it asks for more than the target, pods removed at random until it does not; else pods drawn
/// from the list with replacement and appended until the next would take the requests past the
/// target (by its milli per GPU, as the original tests).
fn sequence(list: &PodList, gpu_milli: u64, seed: u64, load_percent: u64) -> Vec<u32> {
    let mut draw = stream(seed, "experiment/openb/workload");
    let n = list.pods.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        let j = below(&mut draw, i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let target = gpu_milli * load_percent / 100;
    let mut total: u64 = list.demand_milli.iter().sum();
    while total > target && !order.is_empty() {
        let i = below(&mut draw, order.len() as u64) as usize;
        total -= list.demand_milli[order.remove(i) as usize];
    }
    while total < target {
        let i = below(&mut draw, n as u64) as usize;
        if total + list.milli_per_gpu[i] > target {
            break;
        }
        total += list.demand_milli[i];
        order.push(i as u32);
    }
    order
}

/// The measures after each pod, summed per rounded percent of arrived load.
struct Windows {
    gpu_milli: u64,
    covered: u64,
    total_weight: u64,
    /// Per percent: pods, Σ allocation (percent, rounded as the paper's script does), Σ typical
    /// fragmentation (milli × covered), Σ podlab fragmentation (milli × total weight), refused
    /// by the last.
    sums: Vec<(u64, f64, f64, f64, u64)>,
}

impl Windows {
    fn new(gpu_milli: u64, typical: &Typical, workload: &TargetWorkload, load_percent: u64) -> Windows {
        let sums = vec![(0, 0.0, 0.0, 0.0, 0); load_percent as usize + 2];
        Windows { gpu_milli, covered: typical.covered().max(1), total_weight: workload.total_weight().max(1), sums }
    }

    /// One pod done: `experiments/analysis/merge_alloc_discrete_0920.py:97-101` rounds arrived
    /// milli / GPUs / 10 to the percent (half to even) and the allocation to 2 decimals; 113-121
    /// take a percent's mean, or its neighbours' when it has no pod.
    fn record(&mut self, arrived: u64, allocated: u64, frag_typical: u64, frag_all: u64, refused: u64) {
        let gpus = (self.gpu_milli / u64::from(MILLI_PER_GPU)) as f64;
        let percent = (arrived as f64 / gpus / 10.0).round_ties_even() as usize;
        if percent >= self.sums.len() {
            self.sums.resize(percent + 1, (0, 0.0, 0.0, 0.0, 0));
        }
        let alloc = (allocated as f64 / gpus / 10.0 * 100.0).round_ties_even() / 100.0;
        let s = &mut self.sums[percent];
        *s = (s.0 + 1, s.1 + alloc, s.2 + frag_typical as f64, s.3 + frag_all as f64, refused);
    }

    /// The points 0..=load: a percent without pods takes the mean over its neighbours'.
    fn points(&self, load_percent: u64) -> Vec<Point> {
        let to_percent = |milli: f64| milli * 100.0 / self.gpu_milli as f64;
        let mut last_refused = 0;
        let mut points = Vec::new();
        for pct in 0..=load_percent as usize {
            let mut range = pct..pct + 1;
            if self.sums.get(pct).is_none_or(|s| s.0 == 0) {
                range = pct.saturating_sub(1)..(pct + 2).min(self.sums.len());
            }
            let window = &self.sums[range.start.min(self.sums.len())..range.end.min(self.sums.len())];
            let n: u64 = window.iter().map(|s| s.0).sum();
            if let Some(s) = self.sums.get(pct).filter(|s| s.0 > 0) {
                last_refused = s.4;
            }
            if n == 0 {
                continue;
            }
            let sum = |f: fn(&(u64, f64, f64, f64, u64)) -> f64| window.iter().map(f).sum::<f64>() / n as f64;
            points.push(Point {
                load_percent: pct as u64,
                allocated: sum(|s| s.1),
                frag_typical: to_percent(sum(|s| s.2) / self.covered as f64),
                frag_all: to_percent(sum(|s| s.3) / self.total_weight as f64),
                refused_pods: last_refused,
            });
        }
        points
    }
}

/// Places one seed's sequence with one policy, measuring after each pod.
pub fn run_one(setup: &Setup, policy: impl Into<Policy>, seed: u64, load_percent: u64) -> Run {
    let policy = policy.into();
    let order = sequence(&setup.list, setup.nodes.gpu_milli, seed, load_percent);
    match policy {
        Policy::Sim(p) => run_sim(setup, p, seed, &order, load_percent),
        Policy::Kube(p) => run_kube(setup, p, seed, &order, load_percent),
    }
}

/// The run's fixed random order of the nodes: each node's rank, a permutation
/// (`pkg/simulator/simulator.go:541-550` of the original prefixes node names with one).
fn node_ranks(nodes: usize, seed: u64) -> Vec<u32> {
    let mut draw = stream(seed, "experiment/openb/node-order");
    let mut rank: Vec<u32> = (0..nodes as u32).collect();
    for i in (1..nodes).rev() {
        let j = below(&mut draw, i as u64 + 1) as usize;
        rank.swap(i, j);
    }
    rank
}

/// Both fragmentations of one node in a state, for the running sums: the typical pods' (×
/// covered) and podlab's (× total weight).
fn node_frags(list: &PodList, node: &Node, model: u8, cpu_left: i64, free: &[i64]) -> (u64, u64) {
    let typical = list.sim.typical.fragmentation_weighted(cpu_left, free, model);
    let mut sorted = [0u16; 64];
    let n = free.len().min(64);
    for (s, f) in sorted.iter_mut().zip(free) {
        *s = *f as u16;
    }
    sorted[..n].sort_unstable();
    let all = list.workload.node_fragmentation(node, cpu_left.max(0) as u64, &sorted[..n]);
    (typical, all)
}

/// The running cluster sums of both fragmentations, a node's part replaced when it changes.
struct FragSums {
    per_node: Vec<(u64, u64)>,
    typical: u64,
    all: u64,
}

impl FragSums {
    fn new(per_node: Vec<(u64, u64)>) -> FragSums {
        let typical = per_node.iter().map(|f| f.0).sum();
        let all = per_node.iter().map(|f| f.1).sum();
        FragSums { per_node, typical, all }
    }

    fn update(&mut self, node: usize, now: (u64, u64)) {
        let was = std::mem::replace(&mut self.per_node[node], now);
        self.typical = self.typical - was.0 + now.0;
        self.all = self.all - was.1 + now.1;
    }
}

/// A run under the original simulator's semantics.
fn run_sim(setup: &Setup, policy: SimPolicy, seed: u64, order: &[u32], load_percent: u64) -> Run {
    let (nodes, list) = (&*setup.nodes, &setup.list);
    let rank = node_ranks(nodes.sim.len(), seed);
    let rng = stream(seed, "experiment/openb/random-policy");
    let mut cluster = SimCluster::new(nodes.sim.clone(), rank, policy, &list.sim, rng);
    let frag_of = |cluster: &SimCluster<'_>, i: usize| {
        let n = &cluster.nodes[i];
        node_frags(list, &nodes.nodes[i], n.model(), n.cpu_left(), n.free())
    };
    let mut frags = FragSums::new((0..nodes.sim.len()).map(|i| frag_of(&cluster, i)).collect());
    let mut windows = Windows::new(nodes.gpu_milli, &list.sim.typical, &list.workload, load_percent);
    let (mut arrived, mut allocated, mut refused, mut placed) = (0u64, 0u64, 0u64, 0u64);
    for &index in order {
        let index = index as usize;
        arrived += list.demand_milli[index];
        match cluster.place(&list.sim.pods[index]) {
            Some(node) => {
                allocated += list.demand_milli[index];
                placed += 1;
                frags.update(node, frag_of(&cluster, node));
            }
            None => refused += 1,
        }
        windows.record(arrived, allocated, frags.typical, frags.all, refused);
    }
    Run { policy: Policy::Sim(policy), seed, points: windows.points(load_percent), placed_pods: placed }
}

/// A run with podlab's Kubernetes-style plugins: the scheduler's framework, exact scores,
/// uniform ties.
fn run_kube(setup: &Setup, scoring: GpuScoring, seed: u64, order: &[u32], load_percent: u64) -> Run {
    let (nodes, list) = (&*setup.nodes, &setup.list);
    let mut framework = Framework::new(ScoringStrategy::LeastAllocated);
    // Each run its own plugin: FGD keeps a per-node memo.
    framework.gpu =
        (scoring != GpuScoring::Default).then(|| Rc::new(GpuScorer::new(scoring, list.pods.iter().map(|p| &*p.spec))));
    let mut ties = stream(seed, &format!("controller/openb-{}", scoring.as_str()));
    let mut cache: Vec<NodeInfo> =
        nodes.nodes.iter().enumerate().map(|(i, n)| NodeInfo::new(NodeId(i as u32), n.clone())).collect();
    let frag_of = |cache: &[NodeInfo], i: usize| {
        let info = &cache[i];
        let mut free = [0i64; 64];
        let slots = info.gpus.as_deref().map_or(&[][..], |b| &b.slots.free_milli[..]);
        for (f, s) in free.iter_mut().zip(slots) {
            *f = i64::from(*s);
        }
        let cpu_left = info.spec.allocatable.cpu_milli as i64 - info.requested.cpu_milli as i64;
        node_frags(list, &info.spec, nodes.model_of[i], cpu_left, &free[..slots.len().min(64)])
    };
    let mut frags = FragSums::new((0..cache.len()).map(|i| frag_of(&cache, i)).collect());
    let mut windows = Windows::new(nodes.gpu_milli, &list.sim.typical, &list.workload, load_percent);
    let (mut arrived, mut allocated, mut refused, mut placed) = (0u64, 0u64, 0u64, 0u64);
    for &index in order {
        let index = index as usize;
        let unit = Unit::new(&list.pods[index], Part::Whole);
        arrived += list.demand_milli[index];
        // Only nodes with room for the pod's CPU, memory and GPUs go to the framework, which
        // filters and scores them: the same choice as over all nodes (the others fail
        // NodeResourcesFit and take no part in the tie-break), without explaining each failure.
        let candidates = cache.iter().filter(|n| has_room(&unit, n));
        match framework.select(&unit, candidates, &mut ties) {
            Ok(node) => {
                cache[node.index()].add(&unit);
                allocated += list.demand_milli[index];
                placed += 1;
                frags.update(node.index(), frag_of(&cache, node.index()));
            }
            Err(_) => refused += 1,
        }
        windows.record(arrived, allocated, frags.typical, frags.all, refused);
    }
    Run { policy: Policy::Kube(scoring), seed, points: windows.points(load_percent), placed_pods: placed }
}

/// A necessary condition of NodeResourcesFit, cheap to test: CPU, memory and GPU room.
fn has_room(unit: &Unit<'_>, node: &NodeInfo) -> bool {
    let alloc = &node.spec.allocatable;
    node.requested.cpu_milli + unit.requests.cpu_milli <= alloc.cpu_milli
        && node.requested.memory_bytes + unit.requests.memory_bytes <= alloc.memory_bytes
        && crate::cluster::gpu::fits(node.gpus.as_deref(), unit.gpu)
}

/// One policy's runs on one list, per percent: the means over seeds, and the allocation's
/// lowest and highest seed.
#[derive(Clone, Copy, Debug, Default)]
struct MeanPoint {
    load_percent: u64,
    allocated: f64,
    allocated_min: f64,
    allocated_max: f64,
    frag_typical: f64,
    frag_all: f64,
    refused_pods: f64,
}

fn means(runs: &[&Run], load_percent: u64) -> Vec<MeanPoint> {
    (0..=load_percent)
        .filter_map(|pct| {
            let at: Vec<&Point> = runs.iter().filter_map(|r| r.points.iter().find(|p| p.load_percent == pct)).collect();
            if at.is_empty() {
                return None;
            }
            let n = at.len() as f64;
            let mean = |f: fn(&Point) -> f64| at.iter().map(|p| f(p)).sum::<f64>() / n;
            Some(MeanPoint {
                load_percent: pct,
                allocated: mean(|p| p.allocated),
                allocated_min: at.iter().map(|p| p.allocated).fold(f64::INFINITY, f64::min),
                allocated_max: at.iter().map(|p| p.allocated).fold(f64::NEG_INFINITY, f64::max),
                frag_typical: mean(|p| p.frag_typical),
                frag_all: mean(|p| p.frag_all),
                refused_pods: mean(|p| p.refused_pods as f64),
            })
        })
        .collect()
}

/// The policies the arguments name, in the order given (default: the paper's six).
fn chosen_policies(names: &[String]) -> anyhow::Result<Vec<Policy>> {
    if names.is_empty() {
        return Ok(SimPolicy::ALL.into_iter().map(Policy::Sim).collect());
    }
    let mut list = Vec::new();
    for name in names {
        let group: Vec<Policy> = match name.as_str() {
            "paper" => SimPolicy::ALL.into_iter().map(Policy::Sim).collect(),
            "kube" => GpuScoring::ALL.into_iter().map(Policy::Kube).collect(),
            _ => vec![Policy::parse(name).ok_or_else(|| {
                let names: Vec<String> = Policy::all().into_iter().map(Policy::name).collect();
                BadInput(format!("--policy `{name}`: one of {}, paper, kube", names.join(", ")))
            })?],
        };
        for p in group {
            if !list.contains(&p) {
                list.push(p);
            }
        }
    }
    Ok(list)
}

/// The pod lists: those named, else every `openb_pod_list_*.csv` beside the node list.
fn chosen_lists(args: &OpenbExperimentArgs) -> anyhow::Result<Vec<PathBuf>> {
    if !args.pods.is_empty() {
        return Ok(args.pods.clone());
    }
    let dir = args.nodes.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let entries =
        std::fs::read_dir(dir).map_err(|e| BadInput(format!("cannot read {}: {e}; pass --pods", dir.display())))?;
    let mut lists: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("openb_pod_list_"))
                && p.extension().is_some_and(|x| x == "csv")
        })
        .collect();
    lists.sort();
    if lists.is_empty() {
        return Err(BadInput(format!("no openb_pod_list_*.csv in {}; pass --pods", dir.display())).into());
    }
    Ok(lists)
}

/// The files an experiment writes in --out.
fn output_files(lists: &[String], png: bool) -> Vec<String> {
    let mut files = vec!["openb.csv".to_string(), "openb-mean.csv".to_string()];
    for l in lists {
        for chart in ["gpu-allocation", "gpu-fragmentation"] {
            files.push(format!("{l}-{chart}.svg"));
            if png {
                files.push(format!("{l}-{chart}.png"));
            }
        }
    }
    files
}

/// `podlab experiment openb`.
pub fn experiment_openb(args: OpenbExperimentArgs) -> anyhow::Result<ExitCode> {
    if args.seeds == 0 || args.seeds > 10_000 {
        return Err(BadInput(format!("--seeds {}: from 1 to 10000", args.seeds)).into());
    }
    if !(1..=1000).contains(&args.load_percent) {
        return Err(BadInput(format!("--load-percent {}: from 1 to 1000", args.load_percent)).into());
    }
    let policies = chosen_policies(&args.policies)?;
    let nodes = Arc::new(load_nodes(&args.nodes)?);
    let mut setups = Vec::new();
    for file in chosen_lists(&args)? {
        let list = load_list(&nodes, &file)?;
        if setups.iter().any(|s: &Setup| s.list.name == list.name) {
            return Err(BadInput(format!("{}: a second pod list named `{}`", file.display(), list.name)).into());
        }
        setups.push(Setup { nodes: nodes.clone(), list });
    }
    let names: Vec<String> = setups.iter().map(|s| s.list.name.clone()).collect();
    // Held until the last file is written, so the --force check and the writing are one.
    let (out, _lock) =
        crate::compare::lock_out(&args.out, crate::reports::out_dir::LockMode::Exclusive, "podlab experiment openb")?;
    for f in output_files(&names, args.png) {
        let path = out.join(&[&f]).map_err(|e| BadInput(e.to_string()))?;
        if !args.force && path.exists() {
            return Err(BadInput(format!(
                "{} exists: an earlier experiment; pass --force to replace it, or choose another --out",
                path.display()
            ))
            .into());
        }
    }
    let plan: Vec<(usize, Policy, u64)> = (0..setups.len())
        .flat_map(|l| policies.iter().flat_map(move |p| (args.start..args.start + args.seeds).map(move |s| (l, *p, s))))
        .collect();
    // In parallel across runs; results in plan order, so the files do not depend on threads.
    let runs: Vec<(usize, Run)> =
        plan.par_iter().map(|(l, p, s)| (*l, run_one(&setups[*l], *p, *s, args.load_percent))).collect();
    write_results(&args, &setups, &policies, &runs)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the CSVs and charts and prints the table.
fn write_results(
    args: &OpenbExperimentArgs,
    setups: &[Setup],
    policies: &[Policy],
    runs: &[(usize, Run)],
) -> anyhow::Result<()> {
    crate::reports::output::create_dir_all(&args.out)
        .map_err(|e| BadInput(format!("cannot create {}: {e}; choose another --out", args.out.display())))?;
    let out = crate::reports::out_dir::OutDir::new(&args.out).map_err(|e| BadInput(e.to_string()))?;
    let write = |name: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let path = out.join(&[name]).map_err(|e| BadInput(e.to_string()))?;
        crate::reports::output::write_atomic(&path, bytes).with_context(|| format!("writing {}", path.display()))
    };
    let mut per_seed = String::from(
        "pod_list,policy,seed,arrived_load_percent,gpu_allocated_percent,gpu_frag_typical_percent,gpu_frag_all_pods_percent,refused_pods\n",
    );
    for (l, r) in runs {
        for p in &r.points {
            let _ = writeln!(
                per_seed,
                "{},{},{},{},{:.4},{:.4},{:.4},{}",
                setups[*l].list.name,
                r.policy.name(),
                r.seed,
                p.load_percent,
                p.allocated,
                p.frag_typical,
                p.frag_all,
                p.refused_pods
            );
        }
    }
    let mut mean_csv = String::from(
        "pod_list,policy,seeds,arrived_load_percent,gpu_allocated_percent,gpu_allocated_min_percent,gpu_allocated_max_percent,gpu_frag_typical_percent,gpu_frag_all_pods_percent,refused_pods\n",
    );
    let n = setups[0].nodes.nodes.len();
    let gpus = setups[0].nodes.gpu_milli / u64::from(MILLI_PER_GPU);
    outln!(
        "OpenB packing experiment — {n} nodes, {gpus} GPUs; seeds {}–{}; arrivals to {}% of the GPUs",
        args.start,
        args.start + args.seeds - 1,
        args.load_percent
    )?;
    outln!("Trace: Alibaba cluster-trace-gpu-v2023 (OpenB); Weng et al., USENIX ATC 2023.")?;
    outln!("Policies: the paper's under its simulator's semantics; kube-…: podlab's Kubernetes-style plugins.")?;
    for (l, setup) in setups.iter().enumerate() {
        let mut table = Vec::new();
        let mut allocation = Vec::new();
        let mut fragmentation = Vec::new();
        for (color, policy) in policies.iter().enumerate() {
            let mine: Vec<&Run> =
                runs.iter().filter(|(rl, r)| *rl == l && r.policy == *policy).map(|(_, r)| r).collect();
            let m = means(&mine, args.load_percent);
            for p in &m {
                let _ = writeln!(
                    mean_csv,
                    "{},{},{},{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.2}",
                    setup.list.name,
                    policy.name(),
                    mine.len(),
                    p.load_percent,
                    p.allocated,
                    p.allocated_min,
                    p.allocated_max,
                    p.frag_typical,
                    p.frag_all,
                    p.refused_pods
                );
            }
            let line = |f: fn(&MeanPoint) -> f64| Series {
                name: policy.name(),
                points: m.iter().map(|p| (p.load_percent as f64, f(p))).collect(),
                step: false,
                color,
            };
            allocation.push(line(|p| p.allocated));
            fragmentation.push(line(|p| p.frag_typical));
            let placed = mine.iter().map(|r| r.placed_pods).sum::<u64>() as f64 / mine.len().max(1) as f64;
            table.push((policy.name(), m, placed));
        }
        print_table(&setup.list, &table, args.load_percent)?;
        write_charts(args, &setup.list.name, allocation, fragmentation, &write)?;
    }
    write("openb.csv", per_seed.as_bytes())?;
    write("openb-mean.csv", mean_csv.as_bytes())?;
    eprintln!(
        "wrote {} (openb.csv, openb-mean.csv, <list>-gpu-allocation.svg, <list>-gpu-fragmentation.svg)",
        args.out.display()
    );
    Ok(())
}

/// One pod list's table: allocation at full load (mean and seed range) and at the end,
/// fragmentation (the typical pods') at both.
fn print_table(list: &PodList, table: &[(String, Vec<MeanPoint>, f64)], load_percent: u64) -> anyhow::Result<()> {
    let mid = load_percent.min(100);
    outln!("\n{} ({} pods, {} typical specs)", list.name, list.pods.len(), list.sim.typical.len())?;
    outln!(
        "{:<16} {:>22} {:>14} {:>12} {:>12} {:>12}",
        "policy",
        format!("alloc@{mid}% [seeds]"),
        format!("alloc@{load_percent}%"),
        format!("frag@{mid}%"),
        format!("frag@{load_percent}%"),
        "pods placed"
    )?;
    for (name, m, placed) in table {
        let at = |pct: u64| m.iter().find(|p| p.load_percent == pct).copied().unwrap_or_default();
        let (full, end) = (at(mid), at(load_percent));
        outln!(
            "{name:<16} {:>7.2}% [{:>5.2}–{:>5.2}] {:>13.2}% {:>11.2}% {:>11.2}% {placed:>12.0}",
            full.allocated,
            full.allocated_min,
            full.allocated_max,
            end.allocated,
            full.frag_typical,
            end.frag_typical
        )?;
    }
    Ok(())
}

fn write_charts(
    args: &OpenbExperimentArgs,
    name: &str,
    allocation: Vec<Series>,
    fragmentation: Vec<Series>,
    write: &dyn Fn(&str, &[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let x_max = args.load_percent as f64;
    let chart = |title: String, y_label: &str, series: Vec<Series>, y_max: f64| Chart {
        title,
        x_label: "arrived workload (% of the cluster's GPUs)".to_string(),
        y_label: y_label.to_string(),
        plot: Plot::Lines { series, x_max, y_max },
    };
    let seeds = format!("mean of {} seeds", args.seeds);
    let alloc = chart(
        format!("OpenB {name}: GPU allocation ({seeds})"),
        "GPUs allocated (% of the cluster's)",
        allocation,
        100.0,
    );
    let top = fragmentation.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(1.0f64, f64::max);
    let frag = chart(
        format!("OpenB {name}: GPU fragmentation, typical pods ({seeds})"),
        "fragmented GPUs (% of the cluster's)",
        fragmentation,
        crate::reports::charts::nice_max(top),
    );
    write(&format!("{name}-gpu-allocation.svg"), alloc.to_svg()?.as_bytes())?;
    write(&format!("{name}-gpu-fragmentation.svg"), frag.to_svg()?.as_bytes())?;
    if args.png {
        write(&format!("{name}-gpu-allocation.png"), &alloc.to_png()?)?;
        write(&format!("{name}-gpu-fragmentation.png"), &frag.to_png()?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analysis script's window: a percent is the mean over the pods whose arrived load
    /// rounds to it, half to even; an empty percent takes its neighbours'.
    #[test]
    fn windows_round_half_to_even_and_fill_gaps() {
        let typical = Typical::new(&[], 95);
        let workload = TargetWorkload::from_pods(std::iter::empty());
        // 10 GPUs: 1% is 100 milli.
        let mut w = Windows::new(10_000, &typical, &workload, 4);
        w.record(50, 50, 0, 0, 0); // 0.5% → 0
        w.record(150, 100, 0, 0, 1); // 1.5% → 2
        w.record(250, 200, 0, 0, 1); // 2.5% → 2
        w.record(400, 300, 0, 0, 2); // 4% → 4
        let points = w.points(4);
        let at = |pct: u64| points.iter().find(|p| p.load_percent == pct).map(|p| p.allocated);
        assert_eq!(at(0), Some(0.5));
        // 1% has no pod: the mean over 0..=2.
        assert_eq!(at(1), Some((0.5 + 1.0 + 2.0) / 3.0));
        assert_eq!(at(2), Some(1.5));
        assert_eq!(at(3), Some((1.0 + 2.0 + 3.0) / 3.0));
        assert_eq!(at(4), Some(3.0));
        assert_eq!(points.iter().find(|p| p.load_percent == 2).map(|p| p.refused_pods), Some(1));
    }
}
