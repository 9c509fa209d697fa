//! Swarm testing of the simulator: a seed makes a random scenario — cluster size and node
//! shapes, pods of 1–3 containers, PodGroups in every dialect, a generated workload, priorities,
//! taints and tolerations, nodes joining later, a policy and its parameters — which runs with
//! the invariant checker on; then the properties each policy guarantees are checked. A failing
//! scenario is shrunk (objects dropped, counts halved) while it still fails.
//!
//! The properties, by policy (ARCHITECTURE.md):
//! - every policy: no invariant violation (no over-commit, no part bound twice, no reservation
//!   past its gang's timeout, Mesos offers within free capacity, every pod accounted for), and
//!   the same digest when run twice;
//! - `gang`: a group's first bindings happen at one instant and number at least `minMember`
//!   (members bind together);
//! - convergence, when every pod fits some node on its own, every pod ends (`runFor`), nothing
//!   runs forever and the run has no `duration`: `kubernetes`, `per-container`, `monolithic`
//!   and `omega` (with unbounded retries) place every pod — every pod but those a preemption
//!   evicted (`kubernetes`: a pod of higher priority took their place). `gang` and `mesos`
//!   promise no such thing (a gang larger than the cell, a hoarding deadlock).
//! - time moves and growth is bounded: a control-plane period (a heartbeat, a random fault
//!   process's mean gap) under 1 ms is refused by the loader where it is written; with periods
//!   of 1 ms or more no run ever spends its budget at one instant, and a ReplicaSet whose pods
//!   keep failing (churn) stops at the created-pods budget with its summary marked partial.

use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use podlab_cluster::rng::{below, stream};
use podlab_cluster::scenario::Scenario;
use podlab_cluster::{Phase, PodId, Record};
use podlab_reports::Outcomes;
use rand_chacha::ChaCha8Rng;

/// Policies whose runs must place every individually schedulable pod (with enough retries).
pub const CONVERGING: &[&str] = &["kubernetes", "per-container", "monolithic", "omega"];

/// A node of a swarm scenario.
#[derive(Clone, Debug)]
pub struct SwarmNode {
    pub cpu_milli: u64,
    pub memory_mib: u64,
    pub max_pods: u64,
    /// Tainted `dedicated=batch:NoSchedule`.
    pub tainted: bool,
    pub zone: u8,
    pub unschedulable: bool,
    /// Joins at this second (0: at the start).
    pub joins_at_s: u64,
}

/// How a pod names its group: the three dialects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// scheduler-plugins: a PodGroup and the `scheduling.x-k8s.io/pod-group` label.
    Plugins,
    /// Volcano: a PodGroup and the `scheduling.k8s.io/group-name` annotation.
    Volcano,
    /// Kubernetes: a Workload with a gang pod group, and `spec.workloadRef`.
    Workload,
}

#[derive(Clone, Debug)]
pub struct SwarmGroup {
    pub dialect: Dialect,
    pub min_member: u32,
    pub timeout_s: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct SwarmPod {
    /// (cpu milli, memory MiB) per container.
    pub containers: Vec<(u64, u64)>,
    pub init: Option<(u64, u64)>,
    pub priority: i32,
    pub tolerates: bool,
    pub zone: Option<u8>,
    pub run_for_s: Option<u64>,
    pub group: Option<usize>,
    pub arrives_at_s: u64,
}

#[derive(Clone, Debug)]
pub struct SwarmGenerator {
    pub count: u64,
    pub inter_arrival_ms: u64,
    pub tasks: u64,
    pub run_for_s: u64,
    pub cpu_milli: u64,
    pub memory_mib: u64,
}

/// A random scenario and the policy it runs under, as data: the shrinker edits it.
#[derive(Clone, Debug)]
pub struct SwarmCase {
    pub seed: u64,
    pub policy: String,
    pub nodes: Vec<SwarmNode>,
    pub groups: Vec<SwarmGroup>,
    pub pods: Vec<SwarmPod>,
    pub generator: Option<SwarmGenerator>,
    /// A prefill to this CPU share (percent), its jobs running `run_for_s`.
    pub prefill: Option<(u64, u64)>,
    pub duration_s: Option<u64>,
    /// Policy parameters, written as `spec` sections (YAML flow mappings).
    pub params: Vec<(String, String)>,
    /// The control plane's periods, in ns: the kubelets' heartbeat and a random NodeCrash
    /// process's mean gap (0 or 1 ns among them: the loader must refuse those).
    pub periods: Option<(u64, u64)>,
    /// A ReplicaSet of this many replicas whose pods fail this many ns after they start.
    pub churn: Option<(u32, u64)>,
}

/// The budgets a swarm run stops at: small, so that churn stops in a debug build's second.
pub const SWARM_BUDGETS: podlab_sim::Budgets =
    podlab_sim::Budgets { events: 2_000_000, instant: Some(200_000), created_pods: 500 };

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[below(rng, items.len() as u64) as usize]
}

fn chance(rng: &mut ChaCha8Rng, percent: u64) -> bool {
    below(rng, 100) < percent
}

/// The policy parameters a swarm varies, per policy.
fn params(rng: &mut ChaCha8Rng, policy: &str, unbounded_retries: bool) -> Vec<(String, String)> {
    let retry = if unbounded_retries {
        // Every 10 s: a job that can never fit retries for the quiet hour, 360 times, not 3600.
        "retry: {interval: 10s, maxAttempts: 4000000000, maxFruitlessAttempts: 4000000000}".to_string()
    } else {
        format!("retry: {{interval: {}, maxAttempts: {}}}", pick(rng, &["100ms", "1s", "5s"]), 1 + below(rng, 20))
    };
    let t = |rng: &mut ChaCha8Rng| pick(rng, &["0s", "1ms", "100ms", "1s"]).to_string();
    match policy {
        "kubernetes" | "per-container" | "gang" => vec![(
            "scheduler".into(),
            format!(
                "{{scoringStrategy: {}, tJob: {}, permitWaitingTime: {}, podGroupBackoff: {}}}",
                pick(rng, &["LeastAllocated", "MostAllocated"]),
                t(rng),
                pick(rng, &["5s", "30s", "60s"]),
                pick(rng, &["1s", "10s"])
            ),
        )],
        "omega" => {
            let schedulers = if chance(rng, 50) {
                format!("[{{name: all, count: {}, tJob: {}}}]", 1 + below(rng, 3), t(rng))
            } else {
                format!("[{{name: batch, workload: batch, tJob: {}}}, {{name: service, workload: service}}]", t(rng))
            };
            vec![(
                "omega".into(),
                format!(
                    "{{schedulers: {schedulers}, conflictDetection: {}, transactions: {}, assignment: {}, {retry}}}",
                    pick(rng, &["fine", "coarse"]),
                    pick(rng, &["incremental", "all-or-nothing"]),
                    pick(rng, &["hash", "round-robin"])
                ),
            )]
        }
        "monolithic" => vec![(
            "monolithic".into(),
            format!(
                "{{multiPath: {}, batch: {{tJob: {}}}, service: {{tJob: {}}}, {retry}}}",
                chance(rng, 50),
                t(rng),
                t(rng)
            ),
        )],
        _ => {
            let framework = |rng: &mut ChaCha8Rng, name: &str, workload: &str| {
                let behaviour = pick(rng, &["paper", "hoarding"]);
                format!("{{name: {name}, workload: {workload}, behaviour: {behaviour}, hoardTimeout: 30s, tJob: 1ms}}")
            };
            let frameworks = if chance(rng, 50) {
                format!("[{}]", framework(rng, "all", "batch"))
            } else {
                format!("[{}, {}]", framework(rng, "batch", "batch"), framework(rng, "service", "service"))
            };
            let timeout = if chance(rng, 50) { ", offerTimeout: 20s".to_string() } else { String::new() };
            vec![(
                "mesos".into(),
                format!(
                    "{{frameworks: {frameworks}, offers: {}, offerInterval: {}, refuse: {}{timeout}, {retry}}}",
                    pick(rng, &["per-node", "whole-cell"]),
                    pick(rng, &["1ms", "1s"]),
                    pick(rng, &["0s", "5s"])
                ),
            )]
        }
    }
}

/// The random scenario of `seed`, under `policy` (drawn from the seed when `None`).
pub fn generate(seed: u64, policy: Option<&str>) -> SwarmCase {
    let rng = &mut stream(seed, "swarm");
    let policies = podlab_schedulers::POLICIES;
    let drawn = pick(rng, policies).to_string();
    let policy = policy.map_or(drawn, str::to_string);
    // Half the cases are "healable": every pod ends and no run is cut short, so the converging
    // policies must place every pod that fits somewhere.
    let healable = chance(rng, 50);
    let node_count = 1 + below(rng, 6) as usize;
    let nodes = (0..node_count)
        .map(|_| SwarmNode {
            cpu_milli: *pick(rng, &[500, 1000, 2000, 4000, 8000]),
            memory_mib: *pick(rng, &[512, 1024, 2048, 8192]),
            max_pods: *pick(rng, &[1, 3, 110]),
            tainted: chance(rng, 15),
            zone: below(rng, 2) as u8,
            unschedulable: chance(rng, 5),
            joins_at_s: if chance(rng, 20) { below(rng, 120) } else { 0 },
        })
        .collect();
    let groups: Vec<SwarmGroup> = (0..below(rng, 3))
        .map(|_| SwarmGroup {
            dialect: *pick(rng, &[Dialect::Plugins, Dialect::Volcano, Dialect::Workload]),
            min_member: 1 + below(rng, 4) as u32,
            timeout_s: chance(rng, 50).then(|| *pick(rng, &[5, 30, 120])),
        })
        .collect();
    let pod_count = below(rng, 14) as usize;
    let pods = (0..pod_count)
        .map(|_| {
            let containers = (0..1 + below(rng, 3))
                .map(|_| (*pick(rng, &[0, 100, 250, 500, 1000, 3000]), *pick(rng, &[0, 64, 256, 1024, 3000])))
                .collect();
            SwarmPod {
                containers,
                init: chance(rng, 10).then(|| (*pick(rng, &[100, 2000]), *pick(rng, &[64, 2048]))),
                priority: *pick(rng, &[0, 0, 100, -5]),
                tolerates: chance(rng, 30),
                zone: chance(rng, 15).then(|| below(rng, 2) as u8),
                run_for_s: if healable || chance(rng, 70) { Some(1 + below(rng, 90)) } else { None },
                group: (!groups.is_empty() && chance(rng, 40)).then(|| below(rng, groups.len() as u64) as usize),
                arrives_at_s: if chance(rng, 30) { below(rng, 100) } else { 0 },
            }
        })
        .collect();
    let generator = chance(rng, 30).then(|| SwarmGenerator {
        count: 1 + below(rng, 12),
        inter_arrival_ms: *pick(rng, &[0, 100, 2000, 10_000]),
        tasks: 1 + below(rng, 4),
        run_for_s: 1 + below(rng, 60),
        cpu_milli: *pick(rng, &[100, 500, 1000]),
        memory_mib: *pick(rng, &[128, 512]),
    });
    let prefill = chance(rng, 15).then(|| (10 + below(rng, 50), 1 + below(rng, 60)));
    let duration_s = (!healable && chance(rng, 50)).then(|| 30 + below(rng, 600));
    let params = params(rng, &policy, healable);
    // Periods and churn only where convergence is not promised: crashes and failures stop it.
    // (Nor under `gang`: with the control plane's latencies a gang's bindings reach etcd at
    // instants of their own, and its property reads one instant.)
    const PERIODS_NS: [u64; 6] = [0, 1, 500_000, 1_000_000, 10_000_000, 10_000_000_000];
    let periods =
        (!healable && chance(rng, 30) && policy != "gang").then(|| (*pick(rng, &PERIODS_NS), *pick(rng, &PERIODS_NS)));
    let churn =
        (!healable && chance(rng, 20)).then(|| (1 + below(rng, 3) as u32, *pick(rng, &[1, 1_000_000, 1_000_000_000])));
    SwarmCase { seed, policy, nodes, groups, pods, generator, prefill, duration_s, params, periods, churn }
}

impl SwarmCase {
    /// The scenario file: manifests and a Simulation document.
    pub fn yaml(&self) -> String {
        let mut y = format!("# podlab fuzz: seed {}, policy {}\n", self.seed, self.policy);
        for (i, n) in self.nodes.iter().enumerate() {
            let taints = if n.tainted { "[{key: dedicated, value: batch, effect: NoSchedule}]" } else { "[]" };
            let _ = write!(
                y,
                "---\napiVersion: v1\nkind: Node\nmetadata: {{name: node-{i}, labels: {{zone: z{}}}}}\nspec: {{taints: {taints}, unschedulable: {}}}\nstatus: {{allocatable: {{cpu: {}m, memory: {}Mi, pods: \"{}\"}}}}\n",
                n.zone, n.unschedulable, n.cpu_milli, n.memory_mib, n.max_pods
            );
        }
        for (g, group) in self.groups.iter().enumerate() {
            let timeout = group.timeout_s.map_or(String::new(), |t| format!(", scheduleTimeoutSeconds: {t}"));
            match group.dialect {
                Dialect::Plugins => {
                    let _ = write!(
                        y,
                        "---\napiVersion: scheduling.x-k8s.io/v1alpha1\nkind: PodGroup\nmetadata: {{name: g{g}}}\nspec: {{minMember: {}{timeout}}}\n",
                        group.min_member
                    );
                }
                Dialect::Volcano => {
                    let _ = write!(
                        y,
                        "---\napiVersion: scheduling.volcano.sh/v1beta1\nkind: PodGroup\nmetadata: {{name: g{g}}}\nspec: {{minMember: {}{timeout}}}\n",
                        group.min_member
                    );
                }
                Dialect::Workload => {
                    let _ = write!(
                        y,
                        "---\napiVersion: scheduling.k8s.io/v1alpha1\nkind: Workload\nmetadata: {{name: w{g}}}\nspec: {{podGroups: [{{name: gang, policy: {{gang: {{minCount: {}}}}}}}]}}\n",
                        group.min_member
                    );
                }
            }
        }
        for (i, p) in self.pods.iter().enumerate() {
            self.write_pod(&mut y, i, p);
        }
        if let Some((replicas, fail_after_ns)) = self.churn {
            let _ = write!(
                y,
                "---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: churn}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: churn}}}}\n  template:\n    metadata: {{labels: {{app: churn}}, annotations: {{podlab.dev/fail-after: {fail_after_ns}ns}}}}\n    spec: {{containers: [{{name: c, resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}}}]}}\n"
            );
        }
        let _ = write!(
            y,
            "---\napiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: swarm-{}}}\nspec:\n  seed: {}\n  policies: [{}]\n",
            self.seed, self.seed, self.policy
        );
        // A ReplicaSet of pods that end by themselves needs an end: an hour, for churn.
        if let Some(d) = self.duration_s.or(self.churn.map(|_| 3600)) {
            let _ = writeln!(y, "  duration: {d}s");
        }
        for (section, value) in &self.params {
            let _ = writeln!(y, "  {section}: {value}");
        }
        if let Some((heartbeat_ns, crash_gap_ns)) = self.periods {
            let _ = writeln!(y, "  controlPlane: {{kubelet: {{heartbeatInterval: {heartbeat_ns}ns}}}}");
            // A node fault names its nodes: none, no fault process.
            let nodes: Vec<String> = (0..self.nodes.len()).map(|i| format!("node-{i}")).collect();
            if !nodes.is_empty() {
                let _ = writeln!(
                    y,
                    "  faults: [{{type: NodeCrash, nodes: [{}], every: {{distribution: exponential, mean: {crash_gap_ns}ns}}, recovery: {{distribution: constant, value: 5s}}, until: 60s}}]",
                    nodes.join(", ")
                );
            }
        }
        if self.generator.is_some() || self.prefill.is_some() {
            y.push_str("  workload:\n");
            if let Some(g) = &self.generator {
                let _ = writeln!(
                    y,
                    "    generators:\n    - {{name: gen, count: {}, interArrival: {{distribution: exponential, mean: {}ms}}, tasks: {{distribution: uniform, min: \"1\", max: \"{}\"}}, runFor: {{distribution: constant, value: {}s}}, cpu: {}m, memory: {}Mi}}",
                    g.count, g.inter_arrival_ms, g.tasks, g.run_for_s, g.cpu_milli, g.memory_mib
                );
            }
            if let Some((percent, run_for)) = self.prefill {
                let _ = writeln!(
                    y,
                    "    prefill: {{cpuUtilisation: 0.{percent:02}, tasks: {{distribution: constant, value: \"2\"}}, cpu: 250m, memory: 128Mi, runFor: {{distribution: constant, value: {run_for}s}}}}"
                );
            }
        }
        let timeline: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.joins_at_s > 0)
            .map(|(i, n)| format!("{{at: {}s, create: [Node/node-{i}]}}", n.joins_at_s))
            .chain(
                self.pods
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.arrives_at_s > 0)
                    .map(|(i, p)| format!("{{at: {}s, create: [Pod/pod-{i}]}}", p.arrives_at_s)),
            )
            .collect();
        if !timeline.is_empty() {
            let _ = writeln!(y, "  timeline: [{}]", timeline.join(", "));
        }
        y
    }

    /// Pod `i`'s manifest: its containers, its gang in its group's dialect, its constraints.
    fn write_pod(&self, y: &mut String, i: usize, p: &SwarmPod) {
        let container = |name: String, (cpu, mem): (u64, u64)| {
            format!("{{name: {name}, resources: {{requests: {{cpu: {cpu}m, memory: {mem}Mi}}}}}}")
        };
        let containers: Vec<String> =
            p.containers.iter().enumerate().map(|(k, c)| container(format!("c{k}"), *c)).collect();
        let mut labels = String::new();
        let mut annotations = String::new();
        let mut extra = String::new();
        if let Some(run_for) = p.run_for_s {
            annotations.push_str(&format!("podlab.dev/run-for: {run_for}s"));
        }
        if let Some(g) = p.group {
            match self.groups[g].dialect {
                Dialect::Plugins => labels = format!("scheduling.x-k8s.io/pod-group: g{g}"),
                Dialect::Volcano => {
                    if !annotations.is_empty() {
                        annotations.push_str(", ");
                    }
                    annotations.push_str(&format!("scheduling.k8s.io/group-name: g{g}"));
                }
                Dialect::Workload => extra.push_str(&format!(", workloadRef: {{name: w{g}, podGroup: gang}}")),
            }
        }
        if let Some(init) = p.init {
            extra.push_str(&format!(", initContainers: [{}]", container("init".into(), init)));
        }
        if p.tolerates {
            extra.push_str(", tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]");
        }
        if let Some(zone) = p.zone {
            extra.push_str(&format!(", nodeSelector: {{zone: z{zone}}}"));
        }
        let _ = write!(
            y,
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: pod-{i}, labels: {{{labels}}}, annotations: {{{annotations}}}}}\nspec: {{priority: {}, containers: [{}]{extra}}}\n",
            p.priority,
            containers.join(", ")
        );
    }

    /// Whether every pod ends by itself and the run is not cut short: then a converging policy
    /// must place every pod that fits some node on its own.
    fn healable(&self) -> bool {
        self.duration_s.is_none()
            && self.pods.iter().all(|p| p.run_for_s.is_some())
            && self.params.iter().all(|(_, v)| !v.contains("retry:") || v.contains("maxAttempts: 4000000000"))
    }

    /// The command that runs this case again.
    pub fn command(&self, policy_given: bool) -> String {
        let policy = if policy_given { format!(" --policy {}", self.policy) } else { String::new() };
        format!("podlab fuzz --start {} --seeds 1{policy}", self.seed)
    }
}

/// Whether `pod` fits some node of the scenario on its own (the cell empty): resources and pod
/// count; for the kube-framework policies its taints, selector and schedulability, for the
/// others the node open to new work.
fn fits_alone(scenario: &Scenario, pod: PodId, kube_filters: bool) -> bool {
    let spec = &scenario.pods.get(pod);
    scenario.nodes.iter().any(|node| {
        let open = if kube_filters {
            !node.unschedulable && spec.untolerated_taint(node).is_none() && spec.matches_node_affinity(node)
        } else {
            // The Omega paper's schedulers keep off a cordoned or NoSchedule-tainted node
            // whatever the pod tolerates (`jobs::accepts_work`).
            crate::schedulers::jobs::accepts_work(node)
        };
        spec.requests.fits_in(&node.allocatable) && node.max_pods >= 1 && open
    })
}

/// Runs a case and checks every property that holds for its policy. `Err` says which failed.
pub fn check(case: &SwarmCase) -> Result<(), String> {
    let text = case.yaml();
    let Some(scenario) = loads_if_time_moves(case, &text)? else { return Ok(()) };
    let options =
        crate::RunOptions { check_invariants: true, keep_records: true, budgets: SWARM_BUDGETS, ..Default::default() };
    let run = |scenario: &Scenario| {
        catch_unwind(AssertUnwindSafe(|| crate::run_policy_with(scenario, &case.policy, case.seed, options)))
            .map_err(|panic| {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                format!("the run panicked: {message}")
            })?
            .map_err(|e| format!("the run could not start: {e}"))
    };
    let first = run(&scenario)?;
    if let Some(v) = first.sim.violations.first() {
        return Err(format!("invariant violated: {v} ({} in all)", first.sim.violations.len()));
    }
    let again = run(&scenario)?;
    if again.sim.digest != first.sim.digest {
        return Err(format!("two runs gave two digests: {} and {}", first.sim.digest, again.sim.digest));
    }
    time_moved(&first)?;
    let s = &*first.scenario;
    let records = &first.sim.records;
    if case.policy == "gang" {
        gang_binds_together(s, records)?;
    }
    if CONVERGING.contains(&case.policy.as_str()) && case.healable() {
        let kube = matches!(case.policy.as_str(), "kubernetes" | "per-container");
        let outcomes = Outcomes::replay(s, records, first.sim.end);
        // A preemption's victims end Failed by design: the pods of higher priority converge.
        let victims: std::collections::BTreeSet<PodId> = records
            .iter()
            .filter_map(|r| match r.record {
                podlab_cluster::Record::Preempted { victims, .. } => Some(victims),
                _ => None,
            })
            .flatten()
            .collect();
        for i in 0..s.pods.len() {
            let pod = PodId(i as u32);
            if victims.contains(&pod) {
                continue;
            }
            // Per container, each container is smaller than the pod: a pod that fits whole
            // has every container fit too.
            let fits = fits_alone(s, pod, kube);
            let phase = outcomes.phase(s, pod);
            if fits && !matches!(phase, Some(Phase::Succeeded | Phase::Running)) {
                return Err(format!(
                    "pod {} fits a node on its own but ended {:?} (not converged)",
                    s.pods.get(podlab_cluster::PodId(i as u32)).key(),
                    phase
                ));
            }
        }
    }
    Ok(())
}

/// The case's scenario, if its periods let time move; `None` if the loader rightly refused a
/// period under 1 ms where it is written; an error if it refused nothing, or elsewhere.
fn loads_if_time_moves(case: &SwarmCase, text: &str) -> Result<Option<Scenario>, String> {
    let too_short = case.periods.is_some_and(|(h, f)| h < 1_000_000 || (f < 1_000_000 && !case.nodes.is_empty()));
    match crate::load_str("swarm.yaml", text) {
        Ok(_) if too_short => Err(format!("a period under 1 ms loaded: {:?}", case.periods)),
        Ok(scenario) => Ok(Some(scenario)),
        Err(e) if too_short => {
            let shown = e.to_string();
            let located = shown.contains("shorter than 1ms") && shown.contains("swarm.yaml:");
            if located { Ok(None) } else { Err(format!("a period under 1 ms was not refused where written:\n{shown}")) }
        }
        Err(e) => Err(format!("the generated scenario does not load:\n{e}")),
    }
}

/// Time moved (no instant spent its budget), and a run stopped at a budget says so.
fn time_moved(run: &crate::PolicyRun) -> Result<(), String> {
    if let Some(exceeded @ podlab_sim::Exceeded::Instant { .. }) = &run.sim.exceeded {
        return Err(format!("time stood still with every period of 1 ms or more: {exceeded}"));
    }
    if run.sim.exceeded.is_some() != run.summary.stopped.is_some() {
        return Err("a run stopped at a budget but its summary does not say so".into());
    }
    Ok(())
}

/// Under `gang`, a group's members bind together: the first instant any member of a group
/// binds, at least `minMember` members (or all it has) bind.
fn gang_binds_together(s: &Scenario, records: &podlab_cluster::Records) -> Result<(), String> {
    let members = s.group_members();
    let mut first: Vec<Option<(podlab_cluster::SimTime, u32)>> = vec![None; s.groups.len()];
    for r in records {
        if let Record::Bound { pod, .. } = &r.record
            && let Some(g) = s.pods.group(*pod)
            && s.pods.get(*pod).node_name().is_none()
        {
            match &mut first[g.index()] {
                None => first[g.index()] = Some((r.time, 1)),
                Some((t, n)) if *t == r.time => *n += 1,
                Some(_) => {}
            }
        }
    }
    for (g, group) in s.groups.iter().enumerate() {
        let want = group.min_member.min(members[g].len() as u32);
        if let Some((t, n)) = first[g]
            && n < want
        {
            return Err(format!("gang {} bound {n} members at {t}, fewer than its minMember {want}", group.key()));
        }
    }
    Ok(())
}

/// Smaller cases than `case`, each one change away: objects dropped, counts halved.
fn smaller(case: &SwarmCase) -> Vec<SwarmCase> {
    let mut out = Vec::new();
    let mut with = |f: &dyn Fn(&mut SwarmCase)| {
        let mut c = case.clone();
        f(&mut c);
        out.push(c);
    };
    if case.generator.is_some() {
        with(&|c| c.generator = None);
    }
    if case.prefill.is_some() {
        with(&|c| c.prefill = None);
    }
    if case.periods.is_some() {
        with(&|c| c.periods = None);
    }
    if case.churn.is_some() {
        with(&|c| c.churn = None);
    }
    for i in (0..case.pods.len()).rev() {
        with(&|c| {
            c.pods.remove(i);
        });
    }
    for i in (0..case.nodes.len()).rev() {
        with(&|c| {
            c.nodes.remove(i);
        });
    }
    for g in (0..case.groups.len()).rev() {
        with(&|c| {
            c.groups.remove(g);
            for p in &mut c.pods {
                p.group = match p.group {
                    Some(x) if x == g => None,
                    Some(x) if x > g => Some(x - 1),
                    other => other,
                };
            }
        });
    }
    if let Some(g) = &case.generator {
        if g.count > 1 {
            with(&|c| c.generator.as_mut().expect("some").count /= 2);
        }
        if g.tasks > 1 {
            with(&|c| c.generator.as_mut().expect("some").tasks /= 2);
        }
    }
    for i in 0..case.pods.len() {
        if case.pods[i].containers.len() > 1 {
            with(&|c| c.pods[i].containers.truncate(1));
        }
        if case.pods[i].arrives_at_s > 0 {
            with(&|c| c.pods[i].arrives_at_s = 0);
        }
        if case.pods[i].init.is_some() || case.pods[i].zone.is_some() || case.pods[i].priority != 0 {
            with(&|c| {
                c.pods[i].init = None;
                c.pods[i].zone = None;
                c.pods[i].priority = 0;
            });
        }
    }
    for i in 0..case.nodes.len() {
        if case.nodes[i].joins_at_s > 0 {
            with(&|c| c.nodes[i].joins_at_s = 0);
        }
    }
    out
}

/// Shrinks a failing case: takes the first smaller case that still fails, until none does
/// (at most `budget` runs). Returns the smallest case and its failure.
pub fn shrink(case: &SwarmCase, failure: String, budget: usize) -> (SwarmCase, String) {
    shrink_with(case, failure, budget, check)
}

/// [`shrink`] with another property than [`check`].
pub fn shrink_with(
    case: &SwarmCase,
    failure: String,
    budget: usize,
    check: impl Fn(&SwarmCase) -> Result<(), String>,
) -> (SwarmCase, String) {
    let (mut best, mut why) = (case.clone(), failure);
    let mut runs = 0;
    'outer: while runs < budget {
        for candidate in smaller(&best) {
            runs += 1;
            if let Err(e) = check(&candidate) {
                best = candidate;
                why = e;
                continue 'outer;
            }
            if runs >= budget {
                break;
            }
        }
        break;
    }
    (best, why)
}

/// One seed's result.
pub struct Outcome {
    pub case: SwarmCase,
    pub failure: Option<String>,
}

/// Runs the case of one seed.
pub fn run_seed(seed: u64, policy: Option<&str>) -> Outcome {
    let case = generate(seed, policy);
    let failure = check(&case).err();
    Outcome { case, failure }
}

/// The report of a failure: seed, command, the shrunk scenario's YAML.
pub fn report_failure(case: &SwarmCase, failure: &str, policy_given: bool) -> String {
    let (small, why) = shrink(case, failure.to_string(), 300);
    format!(
        "swarm seed {} under {} failed: {failure}\n  reproduce: {}\n  shrunk to {} nodes, {} pods, {} groups: {why}\n--- shrunk scenario ---\n{}",
        case.seed,
        case.policy,
        case.command(policy_given),
        small.nodes.len(),
        small.pods.len(),
        small.groups.len(),
        small.yaml()
    )
}
