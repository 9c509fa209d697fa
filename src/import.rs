//! `podlab import swf`: a Parallel Workloads Archive log (Standard Workload Format, gzipped or
//! not) as a podlab scenario. Every job is a rigid gang: N processors that start together and
//! stay together for the job's run time — a PodGroup of N one-CPU pods with minMember N. The
//! machine becomes a node pool of one-CPU nodes, as many as the log's `MaxProcs`.
//!
//! `podlab import openb`: the OpenB GPU trace's node list and pod list as a scenario of Nodes
//! with GPUs and Pods with whole GPUs, GPU shares and GPU-model constraints (`crate::openb`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::BadInput;

/// One job of the log that ran.
struct SwfJob {
    number: u64,
    submit_s: u64,
    run_s: u64,
    procs: u64,
}

/// The header's `; Key: value` lines that matter, and the jobs.
struct Swf {
    max_procs: Option<u64>,
    computer: Option<String>,
    acknowledge: Option<String>,
    jobs: Vec<SwfJob>,
    skipped: u64,
}

fn parse(reader: impl BufRead, label: &str, max_jobs: usize) -> anyhow::Result<Swf> {
    let mut swf = Swf { max_procs: None, computer: None, acknowledge: None, jobs: Vec::new(), skipped: 0 };
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {label}"))?;
        let line = line.trim();
        if let Some(header) = line.strip_prefix(';') {
            if let Some((key, value)) = header.split_once(':') {
                let value = value.trim().to_string();
                match key.trim() {
                    "MaxProcs" => swf.max_procs = value.parse().ok(),
                    "Computer" => swf.computer = Some(value),
                    "Acknowledge" => swf.acknowledge = Some(value),
                    _ => {}
                }
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if swf.jobs.len() >= max_jobs {
            break;
        }
        let fields: Vec<i64> =
            line.split_whitespace().map(|f| f.parse::<f64>().map(|v| v as i64)).collect::<Result<_, _>>().map_err(
                |_| BadInput(format!("{label}:{}: not a line of 18 numbers (Standard Workload Format)", n + 1)),
            )?;
        if fields.len() < 8 {
            return Err(BadInput(format!("{label}:{}: {} fields; SWF lines have 18", n + 1, fields.len())).into());
        }
        // 1 job, 2 submit, 4 run time, 5 allocated processors (8: requested, when 5 is unknown).
        let procs = if fields[4] > 0 { fields[4] } else { fields[7] };
        if fields[3] <= 0 || procs <= 0 || fields[1] < 0 {
            swf.skipped += 1; // never ran, or unknown size
            continue;
        }
        swf.jobs.push(SwfJob {
            number: fields[0] as u64,
            submit_s: fields[1] as u64,
            run_s: fields[3] as u64,
            procs: procs as u64,
        });
    }
    Ok(swf)
}

/// The scenario text of an SWF log.
fn scenario(swf: &Swf, name: &str, source: &str) -> anyhow::Result<String> {
    let procs = swf.max_procs.or_else(|| swf.jobs.iter().map(|j| j.procs).max()).unwrap_or(1);
    let start = swf.jobs.iter().map(|j| j.submit_s).min().unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(out, "# Imported by `podlab import swf` from {source}.");
    if let Some(c) = &swf.computer {
        let _ = writeln!(
            out,
            "# Computer: {c}. Acknowledge: {}.",
            swf.acknowledge.as_deref().unwrap_or("see the log's header")
        );
    }
    let _ = writeln!(out, "# Parallel Workloads Archive — cite Feitelson, Tsafrir, Krakov, JPDC 2014.");
    let _ = writeln!(
        out,
        "# {} jobs ({} skipped: never ran or unknown size); each a gang of one-CPU pods.",
        swf.jobs.len(),
        swf.skipped
    );
    let _ = writeln!(out, "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: {name}}}\nspec:");
    let _ = writeln!(out, "  seed: 1\n  policies: [kubernetes, gang, mesos, omega, monolithic]");
    let _ = writeln!(out, "  nodePools: [{{name: proc, count: {procs}, cpu: \"1\", memory: 1Gi, maxPods: 1}}]");
    let _ = writeln!(out, "  workload:\n    jobs:");
    for j in &swf.jobs {
        if j.procs > procs {
            return Err(
                BadInput(format!("job {} asks for {} processors; the machine has {procs}", j.number, j.procs)).into()
            );
        }
        let _ = writeln!(
            out,
            "    - {{name: job-{}, at: {}s, tasks: {}, cpu: \"1\", memory: 512Mi, runFor: {}s}}",
            j.number,
            j.submit_s - start,
            j.procs,
            j.run_s
        );
    }
    Ok(out)
}

/// `podlab import swf FILE [--max-jobs N] [--out FILE]`.
pub fn import_swf(file: &Path, max_jobs: usize, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let label = file.display().to_string();
    let raw = std::fs::File::open(file).map_err(|e| BadInput(format!("cannot read {label}: {e}")))?;
    let reader: Box<dyn Read> =
        if label.ends_with(".gz") { Box::new(flate2::read::GzDecoder::new(raw)) } else { Box::new(raw) };
    let swf = parse(BufReader::new(reader), &label, max_jobs)?;
    if swf.jobs.is_empty() {
        return Err(BadInput(format!("{label}: no job that ran")).into());
    }
    let stem = file.file_name().map_or("swf".into(), |n| n.to_string_lossy().to_lowercase());
    let name: String = stem
        .trim_end_matches(".gz")
        .trim_end_matches(".swf")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    let text = scenario(&swf, &name, &label)?;
    match out {
        Some(path) => {
            podlab::reports::output::write_atomic(&path, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {} ({} jobs)", path.display(), swf.jobs.len());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The scenario text of an OpenB node list and pod list: one Node per machine (CPU, memory,
/// `nvidia.com/gpu`, the model as `nvidia.com/gpu.product`), one Pod per pod (CPU, memory, whole
/// GPUs as `nvidia.com/gpu`, a share of one GPU as the `alibabacloud.com/gpu-milli`
/// annotation, allowed models as required node affinity), created at its `creation_time` and
/// running for its time in the trace when it has a `deletion_time`.
pub(crate) fn openb_scenario(
    nodes: &[crate::openb::OpenbNode],
    pods: &[crate::openb::OpenbPod],
    name: &str,
    sources: &str,
) -> String {
    use podlab::cluster::gpu::{GPU_MODEL_LABEL, GPU_RESOURCE, GPU_SHARE_ANNOTATION};
    let mut out = String::new();
    let _ = writeln!(out, "# Imported by `podlab import openb` from {sources}.");
    let _ = writeln!(
        out,
        "# Alibaba GPU cluster trace (OpenB, cluster-trace-gpu-v2023) — cite Weng et al., \"Beware of\n\
         # Fragmentation: Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent\", USENIX ATC 2023."
    );
    let gpus: u64 = nodes.iter().map(|n| n.gpus).sum();
    let _ = writeln!(out, "# {} nodes ({gpus} GPUs), {} pods.", nodes.len(), pods.len());
    let _ = writeln!(out, "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: {name}}}\nspec:");
    let _ = writeln!(out, "  seed: 1\n  policies: [kubernetes]");
    let start = pods.iter().filter_map(|p| p.creation_s).min().unwrap_or(0);
    let mut later: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for p in pods {
        let at = p.creation_s.unwrap_or(start) - start;
        if at > 0 {
            later.entry(at).or_default().push(&p.name);
        }
    }
    if !later.is_empty() {
        let _ = writeln!(out, "  timeline:");
        for (at, names) in &later {
            let list: Vec<String> = names.iter().map(|n| format!("Pod/{n}")).collect();
            let _ = writeln!(out, "  - {{at: {at}s, create: [{}]}}", list.join(", "));
        }
    }
    for n in nodes {
        let _ = write!(out, "---\napiVersion: v1\nkind: Node\nmetadata: {{name: {}", n.name);
        if n.gpus > 0 && !n.model.is_empty() {
            let _ = write!(out, ", labels: {{{GPU_MODEL_LABEL}: \"{}\"}}", n.model);
        }
        let _ = write!(out, "}}\nstatus: {{allocatable: {{cpu: {}m, memory: {}Mi", n.cpu_milli, n.memory_mib);
        if n.gpus > 0 {
            let _ = write!(out, ", {GPU_RESOURCE}: \"{}\"", n.gpus);
        }
        let _ = writeln!(out, "}}}}");
    }
    for p in pods {
        let mut annotations = Vec::new();
        if let Some(share) = p.share_milli() {
            annotations.push(format!("{GPU_SHARE_ANNOTATION}: \"{share}\""));
        }
        if let Some(s) = p.run_for_s() {
            annotations.push(format!("{}: {s}s", "podlab.dev/run-for"));
        }
        let _ = write!(out, "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {}", p.name);
        if !annotations.is_empty() {
            let _ = write!(out, ", annotations: {{{}}}", annotations.join(", "));
        }
        let _ = write!(out, "}}\nspec: {{");
        if !p.gpu_models.is_empty() {
            let values: Vec<String> = p.gpu_models.iter().map(|m| format!("\"{m}\"")).collect();
            let _ = write!(
                out,
                "affinity: {{nodeAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: {{nodeSelectorTerms: \
                 [{{matchExpressions: [{{key: {GPU_MODEL_LABEL}, operator: In, values: [{}]}}]}}]}}}}}}, ",
                values.join(", ")
            );
        }
        let _ = write!(
            out,
            "containers: [{{name: main, resources: {{requests: {{cpu: {}m, memory: {}Mi",
            p.cpu_milli, p.memory_mib
        );
        if p.whole_gpus() > 0 {
            let _ = write!(out, ", {GPU_RESOURCE}: \"{}\"", p.whole_gpus());
        }
        let _ = writeln!(out, "}}}}}}]}}");
    }
    out
}

/// `podlab import openb --nodes FILE --pods FILE [--max-pods N] [--out FILE]`.
pub fn import_openb(nodes: &Path, pods: &Path, max_pods: usize, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let node_list = crate::openb::read_nodes(nodes)?;
    let pod_list = crate::openb::read_pods(pods, max_pods)?;
    let stem = pods.file_stem().map_or("openb".into(), |n| n.to_string_lossy().to_lowercase());
    let name: String = stem
        .trim_start_matches("openb_pod_list_")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    let name = format!("openb-{name}");
    let sources = format!("{} and {}", nodes.display(), pods.display());
    let text = openb_scenario(&node_list, &pod_list, &name, &sources);
    match out {
        Some(path) => {
            podlab::reports::output::write_atomic(&path, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {} ({} nodes, {} pods)", path.display(), node_list.len(), pod_list.len());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
