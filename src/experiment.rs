//! `podlab experiment openb`: the OpenB paper's packing experiment (Weng et al., "Beware of
//! Fragmentation", USENIX ATC 2023, §6). Per seed, the trace's pods are shuffled, then drawn
//! again with replacement until the GPUs they ask for reach the target load (1.3× the cluster's
//! GPUs by default); each is placed at once and never leaves (no arrival times, no endings).
//! Every GPU score plugin places the same sequence. Along the way, at each percent of arrived
//! load (requested GPUs / cluster GPUs), the GPU allocation ratio and the paper's GPU
//! fragmentation are measured; their means over the seeds go to a CSV and two SVG charts.
//!
//! Placement is the scheduler's own framework — `Framework::select` with the same filters,
//! GPU books and score plugins — over a `NodeInfo` cache, driven directly in a loop instead of
//! through the event-driven driver and backend: with nothing ever released and no time, the
//! event loop would add only its overheads.

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
use crate::schedulers::framework::{Framework, NodeInfo, Unit};
use crate::schedulers::gpu::{GpuScorer, TargetWorkload};

use crate::input::BadInput;

/// `podlab experiment openb` arguments.
#[derive(clap::Args)]
pub struct OpenbExperimentArgs {
    /// The node list. The default is the repository's copy, read from the repository's root.
    #[arg(long, value_name = "FILE", default_value = "data/traces/openb/openb_node_list_gpu_node.csv")]
    pub nodes: PathBuf,
    /// The pod list: the pods drawn, and FGD's target workload. The default is the repository's
    /// copy, as for --nodes.
    #[arg(long, value_name = "FILE", default_value = "data/traces/openb/openb_pod_list_default.csv")]
    pub pods: PathBuf,
    /// How many seeds (S, S+1, …, S+N-1) to average over.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub seeds: u64,
    /// The first seed.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub start: u64,
    /// A GPU score plugin to run (Default, BestFit, GpuPacking, DotProduct, FGD); repeat for
    /// several. Default: all of them.
    #[arg(long = "scoring", value_name = "PLUGIN")]
    pub scoring: Vec<String>,
    /// Stop once the pods that arrived ask for this many percent of the cluster's GPUs.
    #[arg(long, value_name = "PERCENT", default_value_t = 130)]
    pub load_percent: u64,
    /// Write openb.csv, openb-mean.csv and the charts here.
    #[arg(long, value_name = "DIR", default_value = "podlab-openb")]
    pub out: PathBuf,
    /// Replace the files of an earlier experiment in --out.
    #[arg(long)]
    pub force: bool,
    /// Also write the charts as PNG.
    #[arg(long)]
    pub png: bool,
}

/// The cluster at one percent of arrived load.
#[derive(Clone, Copy, Debug, Default)]
struct Point {
    load_percent: u64,
    /// GPU milli-GPU held by placed pods.
    allocated_milli: u64,
    /// The paper's fragmentation, in milli-GPU (summed over nodes, averaged over task kinds).
    fragmented_milli: u64,
    /// Pods that fit no node so far.
    refused_pods: u64,
}

/// One run: one plugin, one seed.
pub struct Run {
    scoring: GpuScoring,
    seed: u64,
    points: Vec<Point>,
    pub placed_pods: u64,
}

/// The trace, ready to place.
pub struct Setup {
    pub nodes: Vec<Arc<Node>>,
    pub pods: Vec<Arc<Pod>>,
    /// Each pod's GPU demand in milli-GPU.
    demand_milli: Vec<u64>,
    gpu_milli: u64,
    workload: TargetWorkload,
}

/// Places one seed's sequence of pods with one plugin, measuring at each percent of load.
pub fn run_one(setup: &Setup, scoring: GpuScoring, seed: u64, load_percent: u64) -> Run {
    let mut draw = stream(seed, "experiment/openb/workload");
    let mut order: Vec<usize> = (0..setup.pods.len()).collect();
    for i in (1..order.len()).rev() {
        let j = below(&mut draw, i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let mut framework = Framework::new(ScoringStrategy::LeastAllocated);
    // Each run its own plugin: FGD keeps a per-node memo.
    framework.gpu =
        (scoring != GpuScoring::Default).then(|| Rc::new(GpuScorer::new(scoring, setup.pods.iter().map(|p| &*p.spec))));
    let mut ties = stream(seed, &format!("controller/openb-{}", scoring.as_str()));
    let mut cache: Vec<NodeInfo> =
        setup.nodes.iter().enumerate().map(|(i, n)| NodeInfo::new(NodeId(i as u32), n.clone())).collect();
    let measure = |cache: &[NodeInfo], load_percent: u64, allocated_milli: u64, refused_pods: u64| {
        let weighted: u64 = cache.iter().map(|n| setup.workload.fragmentation_of(n, None)).sum();
        Point {
            load_percent,
            allocated_milli,
            fragmented_milli: weighted / setup.workload.total_weight().max(1),
            refused_pods,
        }
    };
    let target = setup.gpu_milli * load_percent / 100;
    let (mut arrived, mut allocated, mut refused, mut placed) = (0u64, 0u64, 0u64, 0u64);
    let mut points = vec![measure(&cache, 0, 0, 0)];
    let mut next_percent = 1;
    let mut i = 0usize;
    while arrived < target {
        // The shuffled trace first, then draws with replacement.
        let index = if i < order.len() { order[i] } else { below(&mut draw, order.len() as u64) as usize };
        i += 1;
        let pod = &setup.pods[index];
        let unit = Unit::new(pod, Part::Whole);
        arrived += setup.demand_milli[index];
        // Only nodes with room for the pod's CPU, memory and GPUs go to the framework, which
        // filters and scores them: the same choice as over all nodes (the others fail
        // NodeResourcesFit and take no part in the tie-break), without the cost of explaining
        // why each full node failed.
        let candidates = cache.iter().filter(|n| has_room(&unit, n));
        match framework.select(&unit, candidates, &mut ties) {
            Ok(node) => {
                cache[node.index()].add(&unit);
                allocated += setup.demand_milli[index];
                placed += 1;
            }
            Err(_) => refused += 1,
        }
        while next_percent <= load_percent && arrived * 100 >= next_percent * setup.gpu_milli {
            points.push(measure(&cache, next_percent, allocated, refused));
            next_percent += 1;
        }
    }
    Run { scoring, seed, points, placed_pods: placed }
}

/// A necessary condition of NodeResourcesFit, cheap to test: CPU, memory and GPU room.
fn has_room(unit: &Unit<'_>, node: &NodeInfo) -> bool {
    let alloc = &node.spec.allocatable;
    node.requested.cpu_milli + unit.requests.cpu_milli <= alloc.cpu_milli
        && node.requested.memory_bytes + unit.requests.memory_bytes <= alloc.memory_bytes
        && crate::cluster::gpu::fits(node.gpus.as_deref(), unit.gpu)
}

fn ratio_percent(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 }
}

/// The mean over seeds of one plugin's runs, per percent of load: (load, allocated %,
/// fragmented %, refused pods).
fn means(runs: &[&Run], gpu_milli: u64, load_percent: u64) -> Vec<(u64, f64, f64, f64)> {
    (0..=load_percent)
        .map(|pct| {
            let at: Vec<&Point> = runs.iter().filter_map(|r| r.points.get(pct as usize)).collect();
            let n = at.len().max(1) as f64;
            (
                pct,
                at.iter().map(|p| ratio_percent(p.allocated_milli, gpu_milli)).sum::<f64>() / n,
                at.iter().map(|p| ratio_percent(p.fragmented_milli, gpu_milli)).sum::<f64>() / n,
                at.iter().map(|p| p.refused_pods as f64).sum::<f64>() / n,
            )
        })
        .collect()
}

/// Reads the node and pod lists and readies them to place (shared with `podlab bench`, which
/// times one run).
pub fn load_setup(nodes_file: &Path, pods_file: &Path) -> anyhow::Result<Setup> {
    let node_list = openb::read_nodes(nodes_file).map_err(|e| BadInput(e.0))?;
    let pod_list = openb::read_pods(pods_file, usize::MAX).map_err(|e| BadInput(e.0))?;
    let nodes: Vec<Arc<Node>> = node_list.iter().map(openb::to_node).collect();
    let pods: Vec<Arc<Pod>> = pod_list.iter().map(openb::to_pod).collect();
    let demand_milli: Vec<u64> = pods.iter().map(|p| GpuDemand::of(p, Part::Whole).milli()).collect();
    let gpu_milli: u64 = node_list.iter().map(|n| n.gpus).sum::<u64>() * u64::from(MILLI_PER_GPU);
    if gpu_milli == 0 {
        return Err(BadInput(format!("{}: no node has a GPU", nodes_file.display())).into());
    }
    if demand_milli.iter().all(|d| *d == 0) {
        return Err(BadInput(format!("{}: no pod asks for a GPU", pods_file.display())).into());
    }
    let workload = TargetWorkload::from_pods(pods.iter().map(|p| &*p.spec));
    Ok(Setup { nodes, pods, demand_milli, gpu_milli, workload })
}

/// `podlab experiment openb`.
#[expect(
    clippy::too_many_lines,
    reason = "the experiment in order: arguments, runs per plugin and seed, files, charts; still to split (issue 20)"
)]
pub fn experiment_openb(args: OpenbExperimentArgs) -> anyhow::Result<ExitCode> {
    if args.seeds == 0 || args.seeds > 10_000 {
        return Err(BadInput(format!("--seeds {}: from 1 to 10000", args.seeds)).into());
    }
    if !(1..=1000).contains(&args.load_percent) {
        return Err(BadInput(format!("--load-percent {}: from 1 to 1000", args.load_percent)).into());
    }
    let plugins: Vec<GpuScoring> = if args.scoring.is_empty() {
        GpuScoring::ALL.to_vec()
    } else {
        let mut list = Vec::new();
        for name in &args.scoring {
            let p = GpuScoring::parse(name)
                .ok_or_else(|| BadInput(format!("--scoring `{name}`: one of {}", GpuScoring::names())))?;
            if !list.contains(&p) {
                list.push(p);
            }
        }
        list
    };
    let files = ["openb.csv", "openb-mean.csv", "gpu-allocation.svg", "gpu-fragmentation.svg"];
    if !args.force {
        if let Some(f) = files.iter().find(|f| args.out.join(f).exists()) {
            return Err(BadInput(format!(
                "{} exists: an earlier experiment; pass --force to replace it, or choose another --out",
                args.out.join(f).display()
            ))
            .into());
        }
    }
    let setup = load_setup(&args.nodes, &args.pods)?;
    let gpu_milli = setup.gpu_milli;

    let plan: Vec<(GpuScoring, u64)> =
        plugins.iter().flat_map(|p| (args.start..args.start + args.seeds).map(move |s| (*p, s))).collect();
    // In parallel across runs; results in plan order, so the files do not depend on threads.
    let runs: Vec<Run> = plan.par_iter().map(|(p, s)| run_one(&setup, *p, *s, args.load_percent)).collect();

    let mut per_seed =
        String::from("scoring,seed,arrived_load_percent,gpu_allocated_percent,gpu_fragmented_percent,refused_pods\n");
    for r in &runs {
        for p in &r.points {
            let _ = writeln!(
                per_seed,
                "{},{},{},{:.4},{:.4},{}",
                r.scoring.as_str(),
                r.seed,
                p.load_percent,
                ratio_percent(p.allocated_milli, gpu_milli),
                ratio_percent(p.fragmented_milli, gpu_milli),
                p.refused_pods
            );
        }
    }
    let mut mean_csv =
        String::from("scoring,seeds,arrived_load_percent,gpu_allocated_percent,gpu_fragmented_percent,refused_pods\n");
    // The table shows full load (100%) and the end; a shorter experiment shows its end twice.
    let midpoint = args.load_percent.min(100);
    let mut allocation = Vec::new();
    let mut fragmentation = Vec::new();
    let mut table = Vec::new();
    for (color, plugin) in plugins.iter().enumerate() {
        let mine: Vec<&Run> = runs.iter().filter(|r| r.scoring == *plugin).collect();
        let m = means(&mine, gpu_milli, args.load_percent);
        for (pct, alloc, frag, refused) in &m {
            let _ = writeln!(mean_csv, "{},{},{pct},{alloc:.4},{frag:.4},{refused:.2}", plugin.as_str(), mine.len());
        }
        let name = plugin.as_str().to_string();
        allocation.push(Series {
            name: name.clone(),
            points: m.iter().map(|(x, a, _, _)| (*x as f64, *a)).collect(),
            step: false,
            color,
        });
        fragmentation.push(Series {
            name,
            points: m.iter().map(|(x, _, f, _)| (*x as f64, *f)).collect(),
            step: false,
            color,
        });
        let at = |pct: u64| m.iter().find(|row| row.0 == pct).copied().unwrap_or_default();
        let placed = mine.iter().map(|r| r.placed_pods).sum::<u64>() as f64 / mine.len().max(1) as f64;
        table.push((plugin.as_str(), at(midpoint), at(args.load_percent), placed));
    }
    let x_max = args.load_percent as f64;
    let chart = |title: &str, y_label: &str, series: Vec<Series>, y_max: f64| Chart {
        title: title.to_string(),
        x_label: "arrived workload (% of the cluster's GPUs)".to_string(),
        y_label: y_label.to_string(),
        plot: Plot::Lines { series, x_max, y_max },
    };
    let seeds_note = format!("mean of {} seeds", args.seeds);
    let alloc_chart = chart(
        &format!("OpenB: GPU allocation ratio ({seeds_note})"),
        "GPUs allocated (% of the cluster's)",
        allocation,
        100.0,
    );
    let frag_top = fragmentation.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(1.0f64, f64::max);
    let frag_chart = chart(
        &format!("OpenB: GPU fragmentation ({seeds_note})"),
        "fragmented GPUs (% of the cluster's)",
        fragmentation,
        crate::reports::charts::nice_max(frag_top),
    );
    crate::reports::output::create_dir_all(&args.out)
        .map_err(|e| BadInput(format!("cannot create {}: {e}; choose another --out", args.out.display())))?;
    let write = |name: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let path = args.out.join(name);
        crate::reports::output::write_atomic(&path, bytes).with_context(|| format!("writing {}", path.display()))
    };
    write("openb.csv", per_seed.as_bytes())?;
    write("openb-mean.csv", mean_csv.as_bytes())?;
    write("gpu-allocation.svg", alloc_chart.to_svg()?.as_bytes())?;
    write("gpu-fragmentation.svg", frag_chart.to_svg()?.as_bytes())?;
    if args.png {
        write("gpu-allocation.png", &alloc_chart.to_png()?)?;
        write("gpu-fragmentation.png", &frag_chart.to_png()?)?;
    }

    println!(
        "OpenB packing experiment — {} nodes, {} GPUs; {} ({} pods); seeds {}–{}; arrivals to {}% of the GPUs",
        setup.nodes.len(),
        gpu_milli / u64::from(MILLI_PER_GPU),
        file_name(&args.pods),
        setup.pods.len(),
        args.start,
        args.start + args.seeds - 1,
        args.load_percent
    );
    println!("Trace: Alibaba cluster-trace-gpu-v2023 (OpenB); Weng et al., USENIX ATC 2023.");
    println!(
        "{:<12} {:>16} {:>16} {:>16} {:>16} {:>12}",
        "scoring",
        format!("alloc@{midpoint}%"),
        format!("alloc@{}%", args.load_percent),
        format!("frag@{midpoint}%"),
        format!("frag@{}%", args.load_percent),
        "pods placed"
    );
    for (name, full, end, placed) in &table {
        println!("{name:<12} {:>15.1}% {:>15.1}% {:>15.1}% {:>15.1}% {placed:>12.0}", full.1, end.1, full.2, end.2);
    }
    eprintln!("wrote {} (openb.csv, openb-mean.csv, gpu-allocation.svg, gpu-fragmentation.svg)", args.out.display());
    Ok(ExitCode::SUCCESS)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}
