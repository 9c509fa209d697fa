//! The OpenB trace (Alibaba's GPU cluster trace, cluster-trace-gpu-v2023; Weng et al., USENIX
//! ATC 2023): its node and pod CSV files, read by header name (the `multigpu50` list has only
//! the first five pod columns), checked row by row, and turned into podlab's cluster objects —
//! the same objects `podlab import openb` writes as YAML and `podlab experiment openb` places.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use podlab_cluster::gpu::{GPU_MODEL_LABEL, GPU_RESOURCE, MAX_GPUS_PER_NODE, MILLI_PER_GPU};
use podlab_cluster::objects::{DEFAULT_MAX_PODS, NodeSelectorTerm, SelectorOp, SelectorRequirement};
use podlab_cluster::quantity::Unit;
use podlab_cluster::{Node, Pod, Resources};

use crate::names::is_dns_subdomain;

/// What is wrong with an OpenB file, with its path and line: the user's to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OpenbError(pub String);

/// One machine of a node list.
pub struct OpenbNode {
    pub name: String,
    pub cpu_milli: u64,
    pub memory_mib: u64,
    pub gpus: u64,
    /// The GPU model (`P100`, `T4`, `G2`, …); empty on CPU-only nodes.
    pub model: String,
}

impl OpenbNode {
    /// The memory in bytes (a node list's `memory_mib` is at most 1 PiB: this never wraps).
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mib.saturating_mul(1 << 20)
    }
}

/// One pod of a pod list.
pub struct OpenbPod {
    pub name: String,
    pub cpu_milli: u64,
    pub memory_mib: u64,
    /// Whole GPUs (k > 1), one GPU (1, whole or shared), or none.
    pub num_gpu: u64,
    /// The share of one GPU when `num_gpu == 1` (1..=1000); 1000 for multi-GPU pods.
    pub gpu_milli: u64,
    /// Allowed GPU models; empty: any.
    pub gpu_models: Vec<String>,
    pub creation_s: Option<u64>,
    pub deletion_s: Option<u64>,
    pub scheduled_s: Option<u64>,
}

impl OpenbPod {
    /// The memory in bytes (a pod list's `memory_mib` is at most 1 PiB: this never wraps).
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mib.saturating_mul(1 << 20)
    }

    /// A share of one GPU (1..=999 milli), if that is what the pod asks for.
    pub fn share_milli(&self) -> Option<u16> {
        (self.num_gpu == 1 && self.gpu_milli < u64::from(MILLI_PER_GPU)).then_some(self.gpu_milli as u16)
    }

    /// Whole GPUs asked for (0 for a share or none).
    pub fn whole_gpus(&self) -> u64 {
        if self.share_milli().is_some() { 0 } else { self.num_gpu }
    }

    /// How long the pod ran in the trace: deletion minus scheduling (or creation, for a pod
    /// never scheduled), at least one second; `None` without a deletion time.
    pub fn run_for_s(&self) -> Option<u64> {
        let end = self.deletion_s?;
        let start = self.scheduled_s.or(self.creation_s).unwrap_or(0);
        Some(end.saturating_sub(start).max(1))
    }
}

/// The rows of a CSV file by header name.
struct Table {
    label: String,
    columns: BTreeMap<String, usize>,
    rows: Vec<Row>,
}

/// One row: its line number, its fields trimmed, and the 1-based character column where each
/// field starts, so an error points at the field.
struct Row {
    line: usize,
    fields: Vec<String>,
    cols: Vec<usize>,
}

impl Row {
    fn split(line: usize, text: &str) -> Row {
        let (mut fields, mut cols) = (Vec::new(), Vec::new());
        let mut col = 1;
        for raw in text.split(',') {
            cols.push(col + raw.chars().take_while(|c| c.is_whitespace()).count());
            fields.push(raw.trim().to_string());
            col += raw.chars().count() + 1;
        }
        Row { line, fields, cols }
    }
}

/// The largest value a numeric column may hold: what one Kubernetes object may name for CPU
/// and memory (so `memory_mib` shifted to bytes, and sums of requests, never wrap), and
/// podlab's longest time for the times in seconds. Other columns are checked where read.
fn column_limit(column: &str) -> Option<(u64, &'static str)> {
    match column {
        "cpu_milli" => Some((Unit::Milli.limit(), "a million cores")),
        "memory_mib" => Some((Unit::Bytes.limit() >> 20, "1 PiB")),
        "creation_time" | "deletion_time" | "scheduled_time" => {
            Some((crate::trace::MAX_SECONDS as u64, "podlab's longest time, 100 years"))
        }
        _ => None,
    }
}

impl Table {
    fn read(path: &Path, required: &[&str], expected: &str) -> Result<Table, OpenbError> {
        let label = path.display().to_string();
        let text =
            crate::input::read_input_text(path, crate::input::Cap::DATA).map_err(|e| OpenbError(e.to_string()))?;
        let mut lines = text.lines().enumerate();
        let (_, header) = lines.next().ok_or_else(|| OpenbError(format!("{label}:1: empty file; {expected}")))?;
        let columns: BTreeMap<String, usize> =
            header.split(',').enumerate().map(|(i, name)| (name.trim().to_string(), i)).collect();
        for name in required {
            if !columns.contains_key(*name) {
                return Err(OpenbError(format!("{label}:1: no column `{name}`; {expected}")));
            }
        }
        let mut rows = Vec::new();
        for (i, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let row = Row::split(i + 1, line);
            if row.fields.len() != columns.len() {
                return Err(OpenbError(format!(
                    "{label}:{}: {} fields, the header has {}; {expected}",
                    i + 1,
                    row.fields.len(),
                    columns.len()
                )));
            }
            rows.push(row);
        }
        Ok(Table { label, columns, rows })
    }

    fn text<'r>(&self, row: &'r Row, column: &str) -> &'r str {
        self.columns.get(column).map_or("", |i| row.fields[*i].as_str())
    }

    /// Where `column`'s field of `row` is: `FILE:LINE:COLUMN`.
    fn at(&self, row: &Row, column: &str) -> String {
        let col = self.columns.get(column).map_or(1, |i| row.cols[*i]);
        format!("{}:{}:{col}", self.label, row.line)
    }

    fn number(&self, row: &Row, column: &str) -> Result<Option<u64>, OpenbError> {
        let text = self.text(row, column);
        if text.is_empty() {
            return Ok(None);
        }
        let at = || self.at(row, column);
        let value = text.parse::<u64>().map_err(|_| {
            let why =
                if text.bytes().all(|b| b.is_ascii_digit()) { "is too large" } else { "is not a whole number ≥ 0" };
            OpenbError(format!("{}: column `{column}`: `{text}` {why}", at()))
        })?;
        match column_limit(column) {
            Some((limit, what)) if value > limit => {
                Err(OpenbError(format!("{}: column `{column}`: {value} is more than {limit} ({what})", at())))
            }
            _ => Ok(Some(value)),
        }
    }

    fn required(&self, row: &Row, column: &str) -> Result<u64, OpenbError> {
        self.number(row, column)?
            .ok_or_else(|| OpenbError(format!("{}: column `{column}` is empty", self.at(row, column))))
    }
}

/// A GPU model must be a valid label value (it becomes `nvidia.com/gpu.product`).
fn check_model(label: &str, line: usize, model: &str) -> Result<(), OpenbError> {
    let ok = model.len() <= 63 && model.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(OpenbError(format!(
            "{label}:{line}: GPU model `{model}` is not a label value (letters, digits, `-`, `_`, `.`, at most 63)"
        )))
    }
}

/// Reads an OpenB node list (`sn,cpu_milli,memory_mib,gpu,model`).
pub fn read_nodes(path: &Path) -> Result<Vec<OpenbNode>, OpenbError> {
    let expected = "OpenB node lists have the columns sn,cpu_milli,memory_mib,gpu,model";
    let table = Table::read(path, &["sn", "cpu_milli", "memory_mib", "gpu"], expected)?;
    let mut nodes = Vec::new();
    for row in &table.rows {
        let line = row.line;
        let name = table.text(row, "sn").to_string();
        if !is_dns_subdomain(&name) {
            return Err(OpenbError(format!("{}:{line}: `{name}` is not a valid node name", table.label)));
        }
        let gpus = table.required(row, "gpu")?;
        if gpus > MAX_GPUS_PER_NODE {
            return Err(OpenbError(format!(
                "{}:{line}: {gpus} GPUs; podlab tracks at most {MAX_GPUS_PER_NODE} per node",
                table.label
            )));
        }
        let model = table.text(row, "model").to_string();
        check_model(&table.label, line, &model)?;
        nodes.push(OpenbNode {
            name,
            cpu_milli: table.required(row, "cpu_milli")?,
            memory_mib: table.required(row, "memory_mib")?,
            gpus,
            model,
        });
    }
    if nodes.is_empty() {
        return Err(OpenbError(format!("{}: no nodes; {expected}", table.label)));
    }
    Ok(nodes)
}

/// Reads an OpenB pod list (`name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,qos,
/// pod_phase,creation_time,deletion_time,scheduled_time]`), at most `max_pods` of it.
pub fn read_pods(path: &Path, max_pods: usize) -> Result<Vec<OpenbPod>, OpenbError> {
    let expected = "OpenB pod lists have the columns name,cpu_milli,memory_mib,num_gpu,gpu_milli and optionally \
gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time";
    let table = Table::read(path, &["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"], expected)?;
    let mut pods = Vec::new();
    for row in table.rows.iter().take(max_pods) {
        let line = row.line;
        let name = table.text(row, "name").to_string();
        if !is_dns_subdomain(&name) {
            return Err(OpenbError(format!("{}:{line}: `{name}` is not a valid pod name", table.label)));
        }
        let num_gpu = table.required(row, "num_gpu")?;
        let gpu_milli = table.required(row, "gpu_milli")?;
        let why = match num_gpu {
            0 if gpu_milli != 0 => Some("a pod without GPUs has gpu_milli 0"),
            1 if !(1..=1000).contains(&gpu_milli) => Some("a one-GPU pod has gpu_milli 1 to 1000"),
            n if n > 1 && gpu_milli != 1000 => Some("a multi-GPU pod takes whole GPUs: gpu_milli 1000"),
            n if n > MAX_GPUS_PER_NODE => Some("more GPUs than podlab tracks on one node (64)"),
            _ => None,
        };
        if let Some(why) = why {
            return Err(OpenbError(format!(
                "{}:{line}: num_gpu {num_gpu} with gpu_milli {gpu_milli}: {why}",
                table.label
            )));
        }
        let gpu_models: Vec<String> =
            table.text(row, "gpu_spec").split('|').map(str::trim).filter(|m| !m.is_empty()).map(String::from).collect();
        for m in &gpu_models {
            check_model(&table.label, line, m)?;
        }
        pods.push(OpenbPod {
            name,
            cpu_milli: table.required(row, "cpu_milli")?,
            memory_mib: table.required(row, "memory_mib")?,
            num_gpu,
            gpu_milli,
            gpu_models,
            creation_s: table.number(row, "creation_time")?,
            deletion_s: table.number(row, "deletion_time")?,
            scheduled_s: table.number(row, "scheduled_time")?,
        });
    }
    if pods.is_empty() {
        return Err(OpenbError(format!("{}: no pods; {expected}", table.label)));
    }
    Ok(pods)
}

/// The node as podlab models it: CPU, memory, `nvidia.com/gpu` and the GPU model label.
pub fn to_node(n: &OpenbNode) -> Arc<Node> {
    let mut allocatable = Resources::new(n.cpu_milli, n.memory_bytes());
    allocatable.set(GPU_RESOURCE, n.gpus);
    let mut labels = BTreeMap::from([
        ("kubernetes.io/hostname".to_string(), n.name.clone()),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
    ]);
    if n.gpus > 0 && !n.model.is_empty() {
        labels.insert(GPU_MODEL_LABEL.to_string(), n.model.clone());
    }
    Arc::new(Node {
        name: n.name.clone(),
        labels,
        taints: vec![],
        allocatable,
        max_pods: DEFAULT_MAX_PODS,
        unschedulable: false,
        images: Vec::new(),
    })
}

/// The pod as podlab models it: one container with the CPU, memory and whole GPUs; a share of
/// one GPU in `gpu_share_milli`; the allowed models as required node affinity on the label.
pub fn to_pod(p: &OpenbPod) -> Arc<Pod> {
    let mut requests = Resources::new(p.cpu_milli, p.memory_bytes());
    requests.set(GPU_RESOURCE, p.whole_gpus());
    let mut pod = Pod::single(&p.name, requests);
    pod.gpu_share_milli = p.share_milli().unwrap_or(0);
    if !p.gpu_models.is_empty() {
        pod.required_node_affinity = Some(vec![NodeSelectorTerm {
            match_expressions: vec![SelectorRequirement {
                key: GPU_MODEL_LABEL.into(),
                op: SelectorOp::In,
                values: p.gpu_models.clone(),
            }],
            match_fields: vec![],
        }]);
    }
    Arc::new(pod)
}
