//! The OpenB paper's own simulator, as its six policies decide: hkust-adsl/kubernetes-scheduler-
//! simulator (Weng et al., "Beware of Fragmentation", USENIX ATC 2023), a kube-scheduler v1.20
//! fork with the paper's score plugins. `podlab experiment openb` uses it by default because it
//! claims to reproduce the paper; podlab's own Kubernetes-style plugins (`gpu.rs`: exact scores,
//! uniform ties, podlab's fragmentation) stay beside it under their own names.
//!
//! Every rule here is the original's, with its file and line (paths in that repository, at the
//! commits named in `docs/src/traces-and-gpus.md`):
//!
//! - **Ties** go to the first node of one random order fixed per run: the simulator prefixes
//!   node names with a random permutation once (`pkg/simulator/simulator.go:541-550`,
//!   `syncClusterResourceList`), and its scheduler fork picks the lexicographically smallest
//!   name among equal scores (`vendor/k8s.io/kubernetes/pkg/scheduler/core/generic_scheduler.go:
//!   187-212`, `selectHost`). [`SimCluster`] keeps each node's `rank` in that order.
//! - **Scores are integers 0–100**, Go's float64 truncated by `int64()`: FGD
//!   `int64(sigmoid(Δ/1000)·100)`, DotProduct and BestFit truncated, GpuPacking in steps of 10%,
//!   GpuClustering in quarters ([`score`]).
//! - **Fixed maxima** normalise BestFit and DotProduct: 128 CPUs and 8 GPUs
//!   (`pkg/type/open-gpu-share/utils/const.go:15-17`, `MaxSpecCpu`, `MaxSpecGpu`).
//! - **Fragmentation** is measured against the *typical* pods, the most common request specs
//!   covering 95% of the pods (`pkg/utils/frag.go:381-476`, `GetTypicalPods`, with
//!   `scripts/generate_config_and_run.py:56-58`: threshold 95, step 1, CPU pods included), and
//!   every CPU-only typical pod counts all of a node's idle GPU as fragment, whether its CPU fits
//!   or not (`pkg/utils/frag.go:147-167`, `NodeGpuShareFragAmount`, summed by
//!   `FragAmountSumExceptQ3`, `frag.go:507-514`: only `q3_satisfied` is left out).
//! - **GPUs inside a node**: best fit for shares (`pkg/simulator/plugin/open_gpu_share.go:
//!   268-286`), a uniformly random GPU with room under Random (`open_gpu_share.go:308-326`), the
//!   GPU with FGD's best score under FGD (`pkg/simulator/plugin/fgd_score.go:62-85`); whole GPUs
//!   are the lowest-numbered free ones (`pkg/type/resource.go:348-368`,
//!   `AllocateExclusiveGpuId`).
//! - **Filters**: CPU and memory (kube's NodeResourcesFit), 1001 pods a node (`pods: '1001'` in
//!   the node YAML its data scripts write; it never binds here), and Open-Gpu-Share's GPU filter: a
//!   GPU node, a GPU model the pod accepts, and GPUs with room (`open_gpu_share.go:81-110`, and
//!   `AllocateGpuId` in `pkg/type/open-gpu-share/cache/gpunodeinfo.go`).

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;

use podlab_cluster::rng::below;

/// `framework.MaxNodeScore`: every plugin's score is an integer from 0 to this.
pub const MAX_NODE_SCORE: i64 = 100;
/// `MaxSpecCpu` (`pkg/type/open-gpu-share/utils/const.go:15`): BestFit's and DotProduct's CPU scale.
pub const MAX_SPEC_CPU_MILLI: i64 = 128_000;
/// `MaxSpecGpu` (`const.go:17`): their GPU scale, 8 GPUs.
pub const MAX_SPEC_GPU_MILLI: i64 = 8_000;
/// One GPU (`gpushareutils.MILLI`).
pub const MILLI: i64 = 1000;
/// `--pod-popularity-threshold` (`scripts/generate_config_and_run.py:57`): typical pods cover 95%.
pub const POD_POPULARITY_THRESHOLD: u32 = 95;
/// `pods: '1001'` in the node YAML the simulator's data scripts write.
pub const MAX_PODS_PER_NODE: u32 = 1001;
/// kube's `DefaultMilliCPURequest`: `GetPodResource` (`pkg/utils/utils.go`) counts a pod
/// without a CPU request as this much (`schedulerutil.GetNonzeroRequests`).
const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Accessible to every GPU model: a pod without `gpu_spec`.
pub const ANY_MODEL: u64 = u64::MAX;

/// The six policies of the paper, as `experiments/run_scripts/generate_run_scripts.py:35-42`
/// names and configures them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimPolicy {
    /// `RandomScore`: a uniformly random feasible node, a random GPU with room.
    Random,
    /// `DotProductScore`, `-gpusel best -dimext merge -norm max`: Tetris' alignment.
    DotProd,
    /// `GpuClusteringScore`: pods of the same GPU kind together.
    GpuClustering,
    /// `GpuPackingScore`: a share on a used GPU, then free GPUs of a used node, then an idle node.
    GpuPacking,
    /// `BestFitScore`: the least free CPU and GPU left.
    BestFit,
    /// `FGDScore`: the least growth of the typical pods' fragmentation.
    Fgd,
}

impl SimPolicy {
    pub const ALL: [SimPolicy; 6] = [
        SimPolicy::Random,
        SimPolicy::DotProd,
        SimPolicy::GpuClustering,
        SimPolicy::GpuPacking,
        SimPolicy::BestFit,
        SimPolicy::Fgd,
    ];

    /// The paper's name (`generate_run_scripts.py`).
    pub fn as_str(self) -> &'static str {
        match self {
            SimPolicy::Random => "Random",
            SimPolicy::DotProd => "DotProd",
            SimPolicy::GpuClustering => "GpuClustering",
            SimPolicy::GpuPacking => "GpuPacking",
            SimPolicy::BestFit => "BestFit",
            SimPolicy::Fgd => "FGD",
        }
    }

    pub fn parse(text: &str) -> Option<SimPolicy> {
        SimPolicy::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// The GPU models of a node list, each a bit: a pod's accepted models are a mask of them.
#[derive(Clone, Debug, Default)]
pub struct Models {
    names: Vec<String>,
}

impl Models {
    /// The id of a node's model (`""` for a node without one), added if new; at most 64.
    pub fn id(&mut self, name: &str) -> Result<u8, String> {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Ok(i as u8);
        }
        if self.names.len() >= 64 {
            return Err(format!("more than 64 GPU models in one node list (`{name}`)"));
        }
        self.names.push(name.to_string());
        Ok((self.names.len() - 1) as u8)
    }

    /// The nodes a pod that accepts `allowed` may use: every model when the list is empty
    /// (`IsNodeAccessibleToPodByType`, `pkg/utils/utils.go`); a model no node has
    /// matches none. A node without a model takes no pod that names models.
    pub fn mask(&self, allowed: &[String]) -> u64 {
        if allowed.is_empty() {
            return ANY_MODEL;
        }
        let mut mask = 0u64;
        for (i, name) in self.names.iter().enumerate() {
            if !name.is_empty() && allowed.iter().any(|a| a == name) {
                mask |= 1 << i;
            }
        }
        mask
    }
}

/// One pod as the original sees it (`PodResource`, `pkg/type/resource.go:50-56`).
#[derive(Clone, Debug)]
pub struct SimPod {
    /// The CPU request, as NodeResourcesFit and the node's books count it.
    pub cpu: i64,
    pub memory: i64,
    /// Milli-GPU per GPU (`MilliGpu`): 1..999 for a share, 1000 for whole GPUs, 0 without.
    pub milli: i64,
    /// GPUs (`GpuNumber`): 1 for a share.
    pub gpus: u32,
    /// The node models it accepts ([`Models::mask`]).
    pub models: u64,
    /// `gpu_spec` as the trace writes it (`A|B`): part of a typical pod's identity.
    model_text: String,
    /// FGD's memo key: pods with the same CPU and GPU request score alike.
    kind: u32,
}

impl SimPod {
    pub fn new(cpu: i64, memory: i64, gpus: u32, milli: i64, models: u64, model_text: &str) -> SimPod {
        let milli = if gpus == 0 { 0 } else { milli };
        SimPod { cpu, memory, milli, gpus, models, model_text: model_text.to_string(), kind: 0 }
    }

    /// The CPU the original's plugins and fragmentation count (`GetPodResource`: a pod without
    /// a request counts kube's default, 100m).
    fn score_cpu(&self) -> i64 {
        if self.cpu == 0 { DEFAULT_MILLI_CPU_REQUEST } else { self.cpu }
    }

    /// A share of one GPU (`IsGpuShare`, `pkg/type/resource.go:371-376`).
    fn is_share(&self) -> bool {
        self.gpus == 1 && self.milli < MILLI
    }

    /// `TotalMilliGpu`.
    pub fn total_milli(&self) -> i64 {
        self.milli * i64::from(self.gpus)
    }

    /// The GPU affinity tag GpuClustering groups by (`GetGpuAffinityFromPodAnnotation`,
    /// `pkg/type/open-gpu-share/utils/pod.go`), as a bit: `share-gpu` is bit 0,
    /// `k-gpu` bit k; a CPU-only pod has none.
    fn affinity_bit(&self) -> u128 {
        match (self.gpus, self.is_share()) {
            (0, _) => 0,
            (_, true) => 1,
            (k, false) => 1u128 << k.min(127),
        }
    }
}

/// A node and its books as the original keeps them (`NodeResource`, `pkg/type/resource.go:59-69`).
#[derive(Clone, Debug)]
pub struct SimNode {
    cpu_left: i64,
    memory_left: i64,
    pods_left: u32,
    model: u8,
    /// Free milli-GPU of each GPU, by index (`MilliGpuLeftList`).
    free: Vec<i64>,
    /// The most free milli on one GPU, and the wholly free GPUs: the GPU filter's summary.
    max_free: i64,
    wholly_free: u32,
    /// The affinity tags of the pods placed here (`GpuAffinity`'s keys).
    tags: u128,
}

impl SimNode {
    pub fn new(cpu: i64, memory: i64, gpus: usize, model: u8) -> SimNode {
        let free = vec![MILLI; gpus];
        let mut node = SimNode {
            cpu_left: cpu,
            memory_left: memory,
            pods_left: MAX_PODS_PER_NODE,
            model,
            free,
            max_free: 0,
            wholly_free: 0,
            tags: 0,
        };
        node.summarise();
        node
    }

    pub fn cpu_left(&self) -> i64 {
        self.cpu_left
    }

    /// Free milli-GPU of each GPU, by index.
    pub fn free(&self) -> &[i64] {
        &self.free
    }

    pub fn model(&self) -> u8 {
        self.model
    }

    fn summarise(&mut self) {
        self.max_free = self.free.iter().copied().max().unwrap_or(0);
        self.wholly_free = self.free.iter().filter(|f| **f == MILLI).count() as u32;
    }

    fn accessible(&self, pod_models: u64) -> bool {
        pod_models == ANY_MODEL || pod_models >> self.model & 1 == 1
    }

    /// The filters: NodeResourcesFit's CPU, memory and pod count, and Open-Gpu-Share's
    /// (`open_gpu_share.go:81-110`): a GPU pod needs a GPU node of a model it accepts and, for
    /// a share, one GPU with room, for whole GPUs, that many wholly free
    /// (`AllocateGpuId`, `gpunodeinfo.go`).
    fn fits(&self, pod: &SimPod) -> bool {
        if pod.cpu > self.cpu_left || pod.memory > self.memory_left || self.pods_left == 0 {
            return false;
        }
        if pod.milli <= 0 {
            return true;
        }
        if self.free.is_empty() || !self.accessible(pod.models) {
            return false;
        }
        if pod.gpus == 1 { self.max_free >= pod.milli } else { self.wholly_free >= pod.gpus }
    }

    /// The GPU a share goes to by best fit: the least free with room, the lowest index among
    /// equals (`allocateGpuIdBasedOnBestFit`, `open_gpu_share.go:268-286`).
    fn best_fit_gpu(&self, milli: i64) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, f) in self.free.iter().enumerate() {
            if *f >= milli && best.is_none_or(|b| *f < self.free[b]) {
                best = Some(i);
            }
        }
        best
    }

    /// Places `pod`: a share on GPU `share_gpu`, whole GPUs on the lowest-numbered wholly free
    /// ones (`AllocateExclusiveGpuId`, `pkg/type/resource.go:348-368`).
    fn place(&mut self, pod: &SimPod, share_gpu: Option<usize>) {
        self.cpu_left -= pod.cpu;
        self.memory_left -= pod.memory;
        self.pods_left -= 1;
        self.tags |= pod.affinity_bit();
        match share_gpu {
            Some(i) if pod.is_share() => self.free[i] -= pod.milli,
            _ => {
                let mut left = pod.total_milli();
                for f in self.free.iter_mut() {
                    if left <= 0 {
                        break;
                    }
                    if *f == MILLI {
                        *f = 0;
                        left -= MILLI;
                    }
                }
            }
        }
        self.summarise();
    }
}

/// Where an idle GPU milli stands for one typical pod (`GetNodePodFrag`, `pkg/utils/frag.go:
/// 556-582`); the index is the original's bucket (`FragRatioDataMap`, `frag.go:27-35`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FragType {
    LackBoth = 0,
    LackGpu = 1,
    Satisfied = 2,
    LackCpu = 3,
    /// A CPU-only pod whose CPU fits: still all idle GPU is fragment to it.
    CpuOnlySatisfied = 4,
    CpuOnlyLackCpu = 5,
    NoAccess = 6,
}

/// One typical pod: a request spec and its popularity (`TargetPod`).
#[derive(Clone, Debug)]
struct TypicalPod {
    cpu: i64,
    milli: i64,
    gpus: u32,
    models: u64,
    /// Pods of the list with this spec.
    count: u64,
    /// `Percentage`, as the original computes it in float64.
    freq: f64,
}

/// The typical pods of a pod list (`GetTypicalPods`, `pkg/utils/frag.go:381-476`): specs sorted
/// by popularity, kept until they cover the threshold, their popularities renormalised.
#[derive(Clone, Debug)]
pub struct Typical {
    pods: Vec<TypicalPod>,
    /// The pods the kept specs account for: the denominator of the exact fragmentation.
    covered: u64,
}

impl Typical {
    /// The typical pods of `pods` at `threshold_percent` (the paper's: 95), stepping one spec at
    /// a time (`--pod-increase-step 1`) and counting CPU-only pods (`--is-involved-cpu-pods`).
    pub fn new(pods: &[SimPod], threshold_percent: u32) -> Typical {
        // The spec is `PodResource` (`pkg/type/resource.go:50-56`): CPU, milli per GPU, GPUs,
        // the `gpu_spec` text.
        let mut counts: BTreeMap<(i64, i64, u32, &str), (u64, u64)> = BTreeMap::new();
        for p in pods {
            let entry = counts.entry((p.score_cpu(), p.milli, p.gpus, p.model_text.as_str())).or_insert((0, p.models));
            entry.0 += 1;
        }
        // Most popular first; equal counts by the spec, larger first (`sort.Reverse` of
        // `TargetPodList.Less`, `pkg/type/resource.go:23-41`).
        let mut specs: Vec<_> = counts.into_iter().collect();
        specs.sort_by(|(ka, (ca, _)), (kb, (cb, _))| (cb, kb).cmp(&(ca, ka)));
        let total = pods.len() as f64;
        let expected = f64::from(threshold_percent) * total / 100.0;
        let (mut kept, mut cumulative) = (0usize, 0.0f64);
        while cumulative < expected && kept < specs.len() {
            cumulative += specs[kept].1.0 as f64;
            kept += 1;
        }
        let renormalise = kept < specs.len();
        let typical: Vec<TypicalPod> = specs[..kept]
            .iter()
            .map(|((cpu, milli, gpus, _), (count, models))| {
                let mut freq = *count as f64 / total;
                if renormalise {
                    freq /= cumulative / total;
                }
                TypicalPod { cpu: *cpu, milli: *milli, gpus: *gpus, models: *models, count: *count, freq }
            })
            .collect();
        let covered = typical.iter().map(|t| t.count).sum();
        Typical { pods: typical, covered }
    }

    /// How many specs are typical.
    pub fn len(&self) -> usize {
        self.pods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pods.is_empty()
    }

    /// The pods the typical specs account for.
    pub fn covered(&self) -> u64 {
        self.covered
    }

    /// `GetNodePodFrag` (`frag.go:556-582`) with `CanNodeHostPodOnGpuMemory` (`frag.go:543-554`).
    fn frag_type(t: &TypicalPod, cpu_left: i64, free: &[i64], model: u8) -> FragType {
        let cpu_fits = cpu_left >= t.cpu;
        if t.milli == 0 {
            return if cpu_fits { FragType::CpuOnlySatisfied } else { FragType::CpuOnlyLackCpu };
        }
        if t.models != ANY_MODEL && (free.is_empty() || t.models >> model & 1 == 0) {
            return FragType::NoAccess;
        }
        let hosts = free.iter().filter(|f| **f >= t.milli).count() >= t.gpus.max(1) as usize;
        match (hosts, cpu_fits) {
            (true, true) => FragType::Satisfied,
            (true, false) => FragType::LackCpu,
            (false, true) => FragType::LackGpu,
            (false, false) => FragType::LackBoth,
        }
    }

    /// The GPU milli a satisfied pod cannot use: GPUs with less free than it asks of one
    /// (`GetGpuFragMilliByNodeResAndPodRes`, `frag.go:184-192`).
    fn unusable(t: &TypicalPod, free: &[i64]) -> i64 {
        free.iter().filter(|f| **f < t.milli).sum()
    }

    /// A node's fragmentation as FGD scores it, in float64 exactly as the original adds it
    /// (`NodeGpuShareFragAmount`, `frag.go:147-167`, through `NodeGpuShareFragAmountScore`, 179-182): each typical pod adds its popularity
    /// times the node's idle GPU milli (for a satisfied pod, only the milli it cannot use) to
    /// its bucket, in the typical pods' order, and the buckets are summed in index order
    /// leaving `q3_satisfied` out (`FragAmountSumExceptQ3`, `frag.go:507-514`).
    pub fn fragmentation(&self, cpu_left: i64, free: &[i64], model: u8) -> f64 {
        let idle: i64 = free.iter().sum();
        let mut buckets = [0.0f64; 7];
        for t in &self.pods {
            match Typical::frag_type(t, cpu_left, free, model) {
                FragType::Satisfied => {
                    buckets[FragType::LackGpu as usize] += t.freq * Typical::unusable(t, free) as f64;
                }
                other => buckets[other as usize] += t.freq * idle as f64,
            }
        }
        let mut sum = 0.0;
        for (i, b) in buckets.iter().enumerate() {
            if i != FragType::Satisfied as usize {
                sum += b;
            }
        }
        sum
    }

    /// The same fragmentation, exactly: in milli-GPU times [`Typical::covered`] (integers;
    /// what the experiment sums over nodes).
    pub fn fragmentation_weighted(&self, cpu_left: i64, free: &[i64], model: u8) -> u64 {
        let idle: i64 = free.iter().sum();
        let mut sum = 0u64;
        for t in &self.pods {
            let milli = match Typical::frag_type(t, cpu_left, free, model) {
                FragType::Satisfied => Typical::unusable(t, free),
                _ => idle,
            };
            sum += t.count * milli as u64;
        }
        sum
    }
}

/// A pod list as the original simulator sees it: its pods and their typical pods.
#[derive(Clone, Debug)]
pub struct SimWorkload {
    pub pods: Vec<SimPod>,
    pub typical: Typical,
    /// Distinct (CPU, milli, GPUs) requests: FGD's memo has a column per kind.
    kinds: usize,
}

impl SimWorkload {
    pub fn new(mut pods: Vec<SimPod>) -> SimWorkload {
        let mut kinds: BTreeMap<(i64, i64, u32), u32> = BTreeMap::new();
        for p in &mut pods {
            let next = kinds.len() as u32;
            p.kind = *kinds.entry((p.score_cpu(), p.milli, p.gpus)).or_insert(next);
        }
        let typical = Typical::new(&pods, POD_POPULARITY_THRESHOLD);
        SimWorkload { kinds: kinds.len(), pods, typical }
    }
}

/// `sigmoid` (`pkg/simulator/plugin/plugin_utils.go:75-77`).
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// FGD's score of placing `pod` on a node in this state, and for a share the GPU it goes to
/// (`calculateGpuShareFragExtendScore`, `pkg/simulator/plugin/fgd_score.go:62-85`): the
/// fragmentation before less after, through `int64(sigmoid(Δ/1000)·100)`; a share is tried on
/// each GPU with room and takes the best, the lowest index among equal scores.
pub fn fgd_score(typical: &Typical, node: &SimNode, pod: &SimPod, before: f64) -> (i64, Option<usize>) {
    let score = |after: f64| (sigmoid((before - after) / 1000.0) * MAX_NODE_SCORE as f64) as i64;
    let cpu_after = node.cpu_left - pod.score_cpu();
    let mut free = [0i64; 64];
    let n = node.free.len().min(64);
    free[..n].copy_from_slice(&node.free[..n]);
    if pod.is_share() {
        // GPUs with the same free milli give the same score: each value is scored once.
        let mut seen: [(i64, i64); 64] = [(-1, 0); 64];
        let mut seen_len = 0;
        let mut best: Option<(i64, usize)> = None;
        for i in 0..n {
            if node.free[i] < pod.milli {
                continue;
            }
            let s = match seen[..seen_len].iter().find(|(f, _)| *f == node.free[i]) {
                Some(&(_, s)) => s,
                None => {
                    free[i] -= pod.milli;
                    let s = score(typical.fragmentation(cpu_after, &free[..n], node.model));
                    free[i] += pod.milli;
                    seen[seen_len] = (node.free[i], s);
                    seen_len += 1;
                    s
                }
            };
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, i));
            }
        }
        return best.map_or((0, None), |(s, i)| (s, Some(i)));
    }
    // `nodeRes.Sub` (`pkg/type/resource.go:418-444`) takes the least free GPUs with room first:
    // for whole GPUs (1000 milli each) those are the wholly free ones, lowest index first.
    let mut left = pod.gpus;
    for f in free[..n].iter_mut() {
        if left == 0 {
            break;
        }
        if *f >= pod.milli && pod.milli > 0 {
            *f -= pod.milli;
            left -= 1;
        }
    }
    (score(typical.fragmentation(cpu_after, &free[..n], node.model)), None)
}

/// The integer score of `policy` for a feasible node (FGD's is [`fgd_score`]).
pub fn score(policy: SimPolicy, node: &SimNode, pod: &SimPod) -> i64 {
    match policy {
        SimPolicy::Random | SimPolicy::Fgd => 0,
        SimPolicy::DotProd => dot_product_score(node, pod),
        SimPolicy::BestFit => best_fit_score(node, pod),
        SimPolicy::GpuPacking => gpu_packing_score(node, pod),
        SimPolicy::GpuClustering => gpu_clustering_score(node, pod),
    }
}

/// DotProduct with `-dimext merge -norm max` (`calculateDotProductScore`,
/// `pkg/simulator/plugin/dot_product_score.go:64-100`, vectors from `GenerateSchedulingMatchGroups`
/// in `pkg/utils/utils.go` and `ToVirtualNodeResourceList`, `pkg/type/resource.go:261-346`): the node's free CPU and total free GPU milli and the pod's
/// request, each divided by the fixed maxima, their dot product halved, `int64(100·(1 − ·))`.
fn dot_product_score(node: &SimNode, pod: &SimPod) -> i64 {
    let cpu = pod.score_cpu();
    if node.cpu_left < cpu {
        return 0;
    }
    let gpu_left: i64 = node.free.iter().sum();
    let node_vec = [node.cpu_left as f64 / MAX_SPEC_CPU_MILLI as f64, gpu_left as f64 / MAX_SPEC_GPU_MILLI as f64];
    let pod_vec = [cpu as f64 / MAX_SPEC_CPU_MILLI as f64, pod.total_milli() as f64 / MAX_SPEC_GPU_MILLI as f64];
    let mut dot = 0.0;
    for i in 0..2 {
        dot += node_vec[i] * pod_vec[i];
    }
    let score = 1.0 - dot / 2.0;
    (MAX_NODE_SCORE as f64 * score) as i64
}

/// BestFit (`getBestFitScore`, `pkg/simulator/plugin/best_fit_score.go:66-97`): half the free
/// CPU and half the free GPU left after placement, each over the fixed maximum,
/// `int64((1 − ·)·100)`. Its NormalizeScore (`plugin_utils.go:47-73`) is applied by
/// [`SimCluster`].
fn best_fit_score(node: &SimNode, pod: &SimPod) -> i64 {
    let gpu_left: i64 = node.free.iter().sum();
    let free = [node.cpu_left as f64, gpu_left as f64];
    let request = [pod.score_cpu() as f64, pod.total_milli() as f64];
    let max_spec = [MAX_SPEC_CPU_MILLI as f64, MAX_SPEC_GPU_MILLI as f64];
    let mut score = 0.0;
    for i in 0..2 {
        if free[i] < request[i] {
            return 0;
        }
        score += (free[i] - request[i]) / max_spec[i] * 0.5;
    }
    ((1.0 - score) * MAX_NODE_SCORE as f64) as i64
}

/// GpuPacking (`getPackingScore`, `pkg/simulator/plugin/gpu_packing_score.go:71-117`), integers:
/// an idle node scores 33 − its GPUs (at least its GPUs); a pod that needs wholly free GPUs of a
/// used node, 50 − those GPUs (at least 33); a share on used GPUs, 100 − Σ⌊free·100/1000⌋/10
/// (at least 50) — steps of 10%. CPU-only pods score 0 everywhere.
fn gpu_packing_score(node: &SimNode, pod: &SimPod) -> i64 {
    if pod.total_milli() <= 0 {
        return 0;
    }
    let gpus = node.free.len() as i64;
    let wholly_free = i64::from(node.wholly_free);
    if wholly_free == gpus {
        return (MAX_NODE_SCORE / 3 - wholly_free).max(wholly_free);
    }
    // The GPUs it would use, least free first: a share's is the least free GPU with room;
    // whole GPUs (1000 milli each) can only be wholly free ones.
    if pod.is_share() {
        let Some(left) = node.free.iter().copied().filter(|f| *f >= pod.milli).min() else { return 0 };
        if left < MILLI {
            return (MAX_NODE_SCORE - (left * 100 / MILLI) / 10).max(MAX_NODE_SCORE / 2);
        }
        return (MAX_NODE_SCORE / 2 - 1).max(MAX_NODE_SCORE / 3);
    }
    if wholly_free < i64::from(pod.gpus) {
        return 0;
    }
    (MAX_NODE_SCORE / 2 - i64::from(pod.gpus)).max(MAX_NODE_SCORE / 3)
}

/// GpuClustering (`pkg/simulator/plugin/gpu_clustering_score.go:32-56`), integers: a GPU pod
/// scores 25·(8000 − free GPU milli)/8000 plus 75 on a node holding only its kind of GPU pod,
/// 50 on one holding its kind among others, 25 on one holding no GPU pod, 0 otherwise; a
/// CPU-only pod scores 0.
fn gpu_clustering_score(node: &SimNode, pod: &SimPod) -> i64 {
    let bit = pod.affinity_bit();
    if bit == 0 {
        return 0;
    }
    let gpu_left: i64 = node.free.iter().sum();
    let used = MAX_NODE_SCORE / 4 * (MAX_SPEC_GPU_MILLI - gpu_left) / MAX_SPEC_GPU_MILLI;
    let base = if node.tags & bit != 0 {
        if node.tags.count_ones() == 1 { MAX_NODE_SCORE * 3 / 4 } else { MAX_NODE_SCORE * 2 / 4 }
    } else if node.tags == 0 {
        MAX_NODE_SCORE / 4
    } else {
        0
    };
    used + base
}

/// NormalizeScore (`pkg/simulator/plugin/plugin_utils.go:47-73`): scores mapped onto 0–100 by
/// integer arithmetic, all 0 when they are equal.
fn normalise(scores: &mut [(usize, i64)]) {
    let high = scores.iter().map(|s| s.1).max().unwrap_or(0);
    let low = scores.iter().map(|s| s.1).min().unwrap_or(0);
    for s in scores.iter_mut() {
        s.1 = if high == low { 0 } else { (s.1 - low) * MAX_NODE_SCORE / (high - low) };
    }
}

/// FGD's memo: a node's fragmentation and its scores for each kind of pod, valid until
/// something is placed on it (a cache: scores do not depend on it, only their cost).
#[derive(Clone, Debug)]
struct FgdMemo {
    kinds: usize,
    before: Vec<Option<f64>>,
    /// Per node and kind: the score and the share's GPU, packed; `UNKNOWN` when not computed.
    scores: Vec<u16>,
}

impl FgdMemo {
    const UNKNOWN: u16 = u16::MAX;
    const NO_GPU: u16 = 127;

    fn new(nodes: usize, kinds: usize) -> FgdMemo {
        FgdMemo { kinds, before: vec![None; nodes], scores: vec![FgdMemo::UNKNOWN; nodes * kinds] }
    }

    fn forget(&mut self, node: usize) {
        self.before[node] = None;
        self.scores[node * self.kinds..(node + 1) * self.kinds].fill(FgdMemo::UNKNOWN);
    }
}

/// A cluster as the original simulator places pods on it: one policy, the fixed node order,
/// pods placed one at a time and never released.
pub struct SimCluster<'w> {
    pub nodes: Vec<SimNode>,
    /// Each node's place in the run's random order: the first among equal scores wins.
    rank: Vec<u32>,
    policy: SimPolicy,
    workload: &'w SimWorkload,
    /// Random's draws (`rand.Intn` in `RandomScore`'s PreScore and the random GPU choice).
    rng: ChaCha8Rng,
    memo: Option<FgdMemo>,
    feasible: Vec<(usize, i64)>,
}

impl<'w> SimCluster<'w> {
    /// `rank` is a permutation of the nodes' indices: the random prefixes of their names.
    pub fn new(
        nodes: Vec<SimNode>,
        rank: Vec<u32>,
        policy: SimPolicy,
        workload: &'w SimWorkload,
        rng: ChaCha8Rng,
    ) -> Self {
        let memo = (policy == SimPolicy::Fgd).then(|| FgdMemo::new(nodes.len(), workload.kinds));
        SimCluster { nodes, rank, policy, workload, rng, memo, feasible: Vec::new() }
    }

    /// Schedules `pod` (one of the workload's): the node it went to, or `None` when no node
    /// passes the filters.
    pub fn place(&mut self, pod: &SimPod) -> Option<usize> {
        let (node, share_gpu) = match self.policy {
            SimPolicy::Random => self.choose_random(pod)?,
            SimPolicy::Fgd => self.choose_fgd(pod)?,
            SimPolicy::BestFit => self.choose_normalised(pod)?,
            policy => self.choose(pod, |n, p| score(policy, n, p))?,
        };
        let share_gpu = match (pod.is_share(), share_gpu) {
            (true, None) => self.nodes[node].best_fit_gpu(pod.milli),
            (_, gpu) => gpu,
        };
        self.nodes[node].place(pod, share_gpu);
        if let Some(memo) = &mut self.memo {
            memo.forget(node);
        }
        Some(node)
    }

    /// The best of two (node, score) candidates: the higher score, the earlier rank among equals.
    fn better(&self, a: (usize, i64), b: Option<(usize, i64)>) -> bool {
        b.is_none_or(|(bn, bs)| a.1 > bs || (a.1 == bs && self.rank[a.0] < self.rank[bn]))
    }

    fn choose(&self, pod: &SimPod, score: impl Fn(&SimNode, &SimPod) -> i64) -> Option<(usize, Option<usize>)> {
        let mut best: Option<(usize, i64)> = None;
        for (i, node) in self.nodes.iter().enumerate() {
            if node.fits(pod) {
                let s = (i, score(node, pod));
                if self.better(s, best) {
                    best = Some(s);
                }
            }
        }
        best.map(|(i, _)| (i, None))
    }

    /// BestFit, whose scores are normalised over the feasible nodes first.
    fn choose_normalised(&mut self, pod: &SimPod) -> Option<(usize, Option<usize>)> {
        let mut feasible = std::mem::take(&mut self.feasible);
        feasible.clear();
        feasible.extend(
            self.nodes.iter().enumerate().filter(|(_, n)| n.fits(pod)).map(|(i, n)| (i, best_fit_score(n, pod))),
        );
        normalise(&mut feasible);
        let mut best: Option<(usize, i64)> = None;
        for s in &feasible {
            if self.better(*s, best) {
                best = Some(*s);
            }
        }
        self.feasible = feasible;
        best.map(|(i, _)| (i, None))
    }

    /// Random: one feasible node drawn uniformly (`RandomScorePlugin.PreScore`,
    /// `pkg/simulator/plugin/random_score.go:42-51`), and for a share one GPU with room drawn
    /// uniformly (`allocateGpuIdBasedOnRandomFit`, `open_gpu_share.go:308-326`).
    fn choose_random(&mut self, pod: &SimPod) -> Option<(usize, Option<usize>)> {
        let mut feasible = std::mem::take(&mut self.feasible);
        feasible.clear();
        feasible.extend(self.nodes.iter().enumerate().filter(|(_, n)| n.fits(pod)).map(|(i, _)| (i, 0)));
        let chosen = (!feasible.is_empty()).then(|| feasible[below(&mut self.rng, feasible.len() as u64) as usize].0);
        self.feasible = feasible;
        let node = chosen?;
        if !pod.is_share() {
            return Some((node, None));
        }
        let with_room: Vec<usize> =
            (0..self.nodes[node].free.len()).filter(|&g| self.nodes[node].free[g] >= pod.milli).collect();
        let gpu = with_room[below(&mut self.rng, with_room.len() as u64) as usize];
        Some((node, Some(gpu)))
    }

    /// FGD, from the memo where the node did not change.
    fn choose_fgd(&mut self, pod: &SimPod) -> Option<(usize, Option<usize>)> {
        let mut memo = self.memo.take()?;
        let typical = &self.workload.typical;
        let mut best: Option<(usize, i64, Option<usize>)> = None;
        for (i, node) in self.nodes.iter().enumerate() {
            if !node.fits(pod) {
                continue;
            }
            let slot = i * memo.kinds + pod.kind as usize;
            let (s, gpu) = if memo.scores[slot] != FgdMemo::UNKNOWN {
                let packed = memo.scores[slot];
                let gpu = packed >> 7;
                (i64::from(packed & 127), (gpu != FgdMemo::NO_GPU).then_some(usize::from(gpu)))
            } else {
                let before =
                    *memo.before[i].get_or_insert_with(|| typical.fragmentation(node.cpu_left, &node.free, node.model));
                let (s, gpu) = fgd_score(typical, node, pod, before);
                memo.scores[slot] = (s as u16 & 127) | (gpu.map_or(FgdMemo::NO_GPU, |g| g as u16) << 7);
                (s, gpu)
            };
            if self.better((i, s), best.map(|(n, s, _)| (n, s))) {
                best = Some((i, s, gpu));
            }
        }
        self.memo = Some(memo);
        best.map(|(i, _, gpu)| (i, gpu))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use podlab_cluster::rng::stream;

    const G: i64 = 1 << 30;

    fn node(cpu: i64, gpus: usize) -> SimNode {
        SimNode::new(cpu, 256 * G, gpus, 0)
    }

    fn share(cpu: i64, milli: i64) -> SimPod {
        SimPod::new(cpu, G, 1, milli, ANY_MODEL, "")
    }

    fn whole(cpu: i64, gpus: u32) -> SimPod {
        SimPod::new(cpu, G, gpus, MILLI, ANY_MODEL, "")
    }

    fn cpu_only(cpu: i64) -> SimPod {
        SimPod::new(cpu, G, 0, 0, ANY_MODEL, "")
    }

    fn cluster(nodes: Vec<SimNode>, rank: Vec<u32>, policy: SimPolicy, workload: &SimWorkload) -> SimCluster<'_> {
        SimCluster::new(nodes, rank, policy, workload, stream(7, "test"))
    }

    /// Ties go to the first node of the run's fixed order (`selectHost` takes the smallest
    /// name, and names carry the random rank): three identical idle nodes, ranked 2, 0, 1, take
    /// pod after pod on the middle one while it scores as well as the others — a first fit.
    #[test]
    fn a_tie_goes_to_the_first_node_in_the_fixed_order() {
        let workload = SimWorkload::new(vec![cpu_only(4000)]);
        for policy in [SimPolicy::GpuPacking, SimPolicy::GpuClustering, SimPolicy::BestFit, SimPolicy::Fgd] {
            let mut c =
                cluster(vec![node(64_000, 2), node(64_000, 2), node(64_000, 2)], vec![2, 0, 1], policy, &workload);
            // GpuPacking and GpuClustering score every node 0 for a CPU-only pod: 16 fill node 1.
            let fill = if matches!(policy, SimPolicy::GpuPacking | SimPolicy::GpuClustering) { 16 } else { 1 };
            for i in 0..fill {
                assert_eq!(c.place(&cpu_only(4000)), Some(1), "{policy:?}, pod {i}");
            }
        }
        // Ranked 1, 2, 0 instead, the third node takes them.
        let mut c = cluster(
            vec![node(64_000, 2), node(64_000, 2), node(64_000, 2)],
            vec![1, 2, 0],
            SimPolicy::GpuPacking,
            &workload,
        );
        assert_eq!(c.place(&cpu_only(4000)), Some(2));
    }

    /// Scores are Go's float64 truncated to integers 0–100, so nodes that differ exactly can tie.
    #[test]
    fn integer_scores_truncate() {
        // DotProduct over the fixed maxima: (64/128·8/128 + 8/8·1/8)/2 = 0.078125 → 92.1875 → 92;
        // with 32 CPUs free, 0.0703125 → 92.96875 → 92 too: a tie, to the first in the order.
        let pod = whole(8000, 1);
        assert_eq!(dot_product_score(&node(64_000, 8), &pod), 92);
        assert_eq!(dot_product_score(&node(32_000, 8), &pod), 92);
        let workload = SimWorkload::new(vec![pod.clone()]);
        let mut c = cluster(vec![node(32_000, 8), node(64_000, 8)], vec![1, 0], SimPolicy::DotProd, &workload);
        assert_eq!(c.place(&pod), Some(1), "exact scores would prefer node 0");
        // BestFit: ½·56/128 + ½·7/8 = 0.65625 → (1 − ·)·100 = 34.375 → 34.
        assert_eq!(best_fit_score(&node(64_000, 8), &pod), 34);
        // GpuPacking in steps of 10%: a 300 share on a GPU with 730 or 700 free: 100 − 73/10 =
        // 100 − 70/10 = 93.
        let mut a = node(64_000, 1);
        a.place(&share(1000, 270), Some(0));
        let mut b = node(64_000, 1);
        b.place(&share(1000, 300), Some(0));
        assert_eq!((gpu_packing_score(&a, &share(1000, 300)), gpu_packing_score(&b, &share(1000, 300))), (93, 93));
        // GpuClustering: a share beside only shares, 600 of 8000 milli used: 25·600/8000 = 1.875
        // → 1, plus 75.
        let mut n = node(64_000, 8);
        n.place(&share(1000, 600), Some(0));
        assert_eq!(gpu_clustering_score(&n, &share(1000, 100)), 76);
        // FGD: typical pods all whole single GPUs; a 400 share on an idle two-GPU node leaves
        // 600 milli they cannot use: Δ = −600, 100·sigmoid(−0.6) = 35.43 → 35.
        let workload = SimWorkload::new(vec![whole(1000, 1)]);
        let n = node(64_000, 2);
        let before = workload.typical.fragmentation(n.cpu_left, &n.free, 0);
        assert_eq!(before, 0.0);
        assert_eq!(fgd_score(&workload.typical, &n, &share(1000, 400), before), (35, Some(0)));
    }

    /// FGD tries a share on each GPU with room and keeps the best integer score, the lowest
    /// index among equals: on GPUs with 600, 1000 and 600 free, GPU 0 (57) over GPU 1 (33).
    #[test]
    fn fgd_puts_a_share_on_its_best_gpu() {
        let workload = SimWorkload::new(vec![whole(1000, 1)]);
        let mut n = node(64_000, 3);
        n.place(&share(1000, 400), Some(0));
        n.place(&share(1000, 400), Some(2));
        let before = workload.typical.fragmentation(n.cpu_left, &n.free, 0);
        assert_eq!(before, 1200.0);
        // GPU 0: 300 + 600 unusable, Δ = 300, 57; GPU 1: no whole GPU left, all 1900, Δ = −700, 33.
        assert_eq!(fgd_score(&workload.typical, &n, &share(1000, 300), before), (57, Some(0)));
    }

    /// Every CPU-only typical pod counts all of a node's idle GPU as fragment, whether its CPU
    /// fits or not (`q3_satisfied` is the only bucket left out): with 3 CPU-only pods and 1
    /// whole-GPU pod, an idle two-GPU node is 0.75 × 2000 fragmented.
    #[test]
    fn cpu_only_typical_pods_count_all_idle_gpu() {
        let pods = vec![cpu_only(1000), cpu_only(1000), cpu_only(1000), whole(1000, 1)];
        let workload = SimWorkload::new(pods);
        let t = &workload.typical;
        assert_eq!((t.len(), t.covered()), (2, 4));
        let idle = [MILLI, MILLI];
        assert_eq!(t.fragmentation(64_000, &idle, 0), 1500.0);
        assert_eq!(t.fragmentation_weighted(64_000, &idle, 0), 4 * 1500);
        // No CPU left: the whole-GPU pod lacks CPU too.
        assert_eq!(t.fragmentation(0, &idle, 0), 2000.0);
        // A node without GPUs has none to fragment.
        assert_eq!(t.fragmentation(64_000, &[], 0), 0.0);
    }

    /// Typical pods: specs by popularity until they cover 95% of the pods, renormalised; equal
    /// counts put the larger spec first.
    #[test]
    fn typical_pods_cover_95_percent() {
        let mut pods = Vec::new();
        for (n, cpu) in [(50, 1000), (30, 2000), (14, 3000), (4, 4000), (2, 5000)] {
            pods.extend((0..n).map(|_| cpu_only(cpu)));
        }
        let t = Typical::new(&pods, 95);
        // 50 + 30 + 14 = 94 < 95: a fourth spec, then 98 ≥ 95.
        let kept: Vec<(i64, u64)> = t.pods.iter().map(|p| (p.cpu, p.count)).collect();
        assert_eq!(kept, [(1000, 50), (2000, 30), (3000, 14), (4000, 4)]);
        assert_eq!(t.pods[0].freq, (50.0 / 100.0) / (98.0 / 100.0));
        let even = [cpu_only(4000), cpu_only(4000), cpu_only(8000), cpu_only(8000)];
        let t = Typical::new(&even, 95);
        assert_eq!(t.pods.iter().map(|p| p.cpu).collect::<Vec<_>>(), [8000, 4000]);
        assert_eq!(t.pods[0].freq, 0.5, "every spec kept: no renormalisation");
    }

    /// BestFit and DotProduct divide by 128 CPUs and 8 GPUs, not the node's own capacity: a
    /// 16-CPU one-GPU node left with 8 CPUs and 500 milli scores (1 − ½·8/128 − ½·0.5/8)·100.
    #[test]
    fn fixed_maxima_normalise() {
        assert_eq!(best_fit_score(&node(16_000, 1), &share(8000, 500)), 93);
        // Against its own capacity it would be (1 − ½·8/16 − ½·0.5/1)·100 = 50.
    }

    /// BestFit's NormalizeScore maps the feasible nodes' scores onto 0–100 by integer
    /// arithmetic, all 0 when equal.
    #[test]
    fn best_fit_scores_are_normalised() {
        let mut s = [(0, 30), (1, 40), (2, 33)];
        normalise(&mut s);
        assert_eq!(s, [(0, 0), (1, 100), (2, 30)]);
        let mut same = [(0, 7), (1, 7)];
        normalise(&mut same);
        assert_eq!(same, [(0, 0), (1, 0)]);
    }

    /// Random places only on feasible nodes, each drawn with some seed, and a share on a GPU
    /// with room.
    #[test]
    fn random_draws_feasible_nodes() {
        let workload = SimWorkload::new(vec![whole(1000, 2)]);
        let mut seen = [0; 3];
        for seed in 0..40 {
            let nodes = vec![node(64_000, 2), node(64_000, 1), node(64_000, 2)];
            let mut c = SimCluster::new(nodes, vec![0, 1, 2], SimPolicy::Random, &workload, stream(seed, "t"));
            let n = c.place(&whole(1000, 2)).unwrap();
            assert_ne!(n, 1, "one GPU cannot take two");
            seen[n] += 1;
        }
        assert!(seen[0] > 0 && seen[2] > 0, "{seen:?}");
    }

    /// The GPU filter: a model the pod accepts, and GPUs with room; CPU-only pods go anywhere.
    #[test]
    fn filters_follow_open_gpu_share() {
        let mut models = Models::default();
        let (t4, v100) = (models.id("T4").unwrap(), models.id("V100M16").unwrap());
        let on_t4 = SimNode::new(64_000, 256 * G, 2, t4);
        let on_v100 = SimNode::new(64_000, 256 * G, 2, v100);
        let wants_v100 = SimPod::new(1000, G, 1, 500, models.mask(&["V100M16".to_string()]), "V100M16");
        assert!(!on_t4.fits(&wants_v100) && on_v100.fits(&wants_v100));
        assert!(on_t4.fits(&cpu_only(1000)) && !node(64_000, 0).fits(&share(1000, 1)));
        assert!(!on_t4.fits(&whole(1000, 3)) && on_t4.fits(&whole(1000, 2)));
        assert!(!on_t4.fits(&cpu_only(65_000)));
    }
}
