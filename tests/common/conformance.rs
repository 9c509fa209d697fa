//! The lockstep replay of upstream kube-scheduler's conformance vectors
//! (`data/conformance/README.md`): load a scenario with podlab's loader, build the scheduler's
//! snapshot (nodes, the pods bound from the start, the cluster objects plugins read), then per
//! line of `<name>.expected.jsonl` run the default profile's cycle for the arriving pod,
//! compare everything the line recorded of its first cycle, and apply the line's events.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use podlab::cluster::scenario::Scenario;
use podlab::cluster::{NodeId, Pod, PodId};
use podlab::schedulers::kube::cycle::{self, CycleResult};
use podlab::schedulers::kube::preemption::{self, Inputs};
use podlab::schedulers::kube::profile::{Profile, default_profile};
use podlab::schedulers::kube::{NodeState, PlacedPod, Snapshot};
use serde_json::Value;

/// The families of `data/conformance/`.
pub const FAMILIES: &[&str] = &["A", "B", "C", "D", "E", "F", "G"];

/// How many differences of one decision a report keeps.
const DIFFERENCES_KEPT: usize = 6;

/// One decision that did not match: where, and what differed (one line per difference).
#[derive(Clone, Debug)]
pub struct Mismatch {
    pub scenario: String,
    pub step: u64,
    pub pod: String,
    pub what: String,
}

/// A scenario's replay: decisions matched out of those compared, and the mismatches.
#[derive(Clone, Debug, Default)]
pub struct ScenarioReport {
    pub matched: usize,
    pub total: usize,
    pub mismatches: Vec<Mismatch>,
}

/// A family's replay, summed over its scenarios.
#[derive(Clone, Debug, Default)]
pub struct FamilyReport {
    pub family: String,
    pub matched: usize,
    pub total: usize,
    pub mismatches: Vec<Mismatch>,
}

impl FamilyReport {
    pub fn percent(&self) -> f64 {
        if self.total == 0 { 0.0 } else { 100.0 * self.matched as f64 / self.total as f64 }
    }

    /// Every decision compared matched (and there were some).
    pub fn all_matched(&self) -> bool {
        self.total > 0 && self.matched == self.total
    }

    /// The first `limit` mismatches, each with its differences.
    pub fn print_mismatches(&self, limit: usize) {
        if self.mismatches.is_empty() {
            return;
        }
        println!(
            "\nfamily {}: {} of {} decisions differ; the first:",
            self.family,
            self.total - self.matched,
            self.total
        );
        for m in self.mismatches.iter().take(limit) {
            println!("  {} step {} {}:", m.scenario, m.step, m.pod);
            for line in m.what.lines() {
                println!("    {line}");
            }
        }
    }
}

/// Every scenario of one family, in name order.
pub fn replay_family(root: &Path, family: &str) -> FamilyReport {
    let dir = root.join(family);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter_map(|f| f.strip_suffix(".expected.jsonl").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut report = FamilyReport { family: family.into(), ..FamilyReport::default() };
    for name in names {
        let scenario = replay_scenario_with(&dir, &name, |_| {});
        report.matched += scenario.matched;
        report.total += scenario.total;
        report.mismatches.extend(scenario.mismatches);
    }
    report
}

/// One scenario, each expected line passed through `tamper` first (the harness's own test).
pub fn replay_scenario_with(dir: &Path, name: &str, mut tamper: impl FnMut(&mut Value)) -> ScenarioReport {
    let mut report = ScenarioReport::default();
    let lines: Vec<Value> = std::fs::read_to_string(dir.join(format!("{name}.expected.jsonl")))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    report.total = lines.len();
    let scenario = match load(dir, name, true) {
        Ok(s) => s,
        Err(why) => {
            let mut what = format!("the scenario does not load: {why}");
            // Replayed without its PodDisruptionBudgets rather than not at all (a note, not a
            // decision): only preemption reads them.
            let without = dir.join(format!("{name}.pdbs.yaml")).exists().then(|| load(dir, name, false).ok()).flatten();
            if without.is_some() {
                what = format!("replayed without its PodDisruptionBudgets, which do not load: {why}");
            }
            report.mismatches.push(Mismatch { scenario: name.into(), step: 0, pod: "-".into(), what });
            let Some(scenario) = without else { return report };
            scenario
        }
    };
    let mut lines = lines;
    lines.iter_mut().for_each(&mut tamper);
    // Each pod's line, read again when a later step's events bind it (`bound_cycle`).
    let later: BTreeMap<String, Value> =
        lines.iter().filter_map(|l| Some((l["pod"].as_str()?.to_string(), l.clone()))).collect();
    let mut replay = Replay::new(&scenario);
    for line in &lines {
        let step = line["step"].as_u64().unwrap_or(0);
        let pod_name = line["pod"].as_str().unwrap_or("").to_string();
        let mut differences = replay.decide(line);
        match replay.apply_events(line, &later) {
            Ok(more) => differences.extend(more),
            Err(why) => {
                report.mismatches.push(Mismatch { scenario: name.into(), step, pod: "-".into(), what: why });
                break;
            }
        }
        if differences.is_empty() {
            report.matched += 1;
        } else {
            let mut what: Vec<String> = differences.iter().take(DIFFERENCES_KEPT).cloned().collect();
            if differences.len() > DIFFERENCES_KEPT {
                what.push(format!("… and {} more", differences.len() - DIFFERENCES_KEPT));
            }
            report.mismatches.push(Mismatch { scenario: name.into(), step, pod: pod_name, what: what.join("\n") });
        }
    }
    report
}

/// The scenario file, with its PodDisruptionBudgets appended (`<name>.pdbs.yaml`) when
/// `with_pdbs`, as the README says to read it once the loader knows the kind.
fn load(dir: &Path, name: &str, with_pdbs: bool) -> Result<Scenario, String> {
    let path = dir.join(format!("{name}.yaml"));
    let mut text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    if let Some(pdbs) = with_pdbs.then(|| std::fs::read_to_string(dir.join(format!("{name}.pdbs.yaml"))).ok()).flatten()
    {
        text.push_str("\n---\n");
        text.push_str(&pdbs);
    }
    podlab::load_str(&path.to_string_lossy(), &text).map_err(|e| e.to_string())
}

/// The replay's state: the scheduler's snapshot as upstream had it, the profile, and what maps
/// the vectors' names to podlab's ids.
struct Replay<'s> {
    scenario: &'s Scenario,
    snapshot: Snapshot,
    profile: Profile,
    /// Start times in binding order (upstream's kubelet started each pod 1 ms after the last).
    clock: u64,
    rng: rand_chacha::ChaCha8Rng,
    /// The pods that exist (bound from the start, or arrived and not deleted), for the
    /// PodDisruptionBudgets' status.
    existing: Vec<PodId>,
}

impl<'s> Replay<'s> {
    fn new(scenario: &'s Scenario) -> Replay<'s> {
        let mut snapshot = Snapshot::default();
        for (i, node) in scenario.nodes.iter().enumerate() {
            snapshot.nodes.push(NodeState::new(NodeId(i as u32), node.clone()));
        }
        cluster_objects(scenario, &mut snapshot);
        let mut replay = Replay {
            scenario,
            snapshot,
            profile: default_profile(),
            clock: 0,
            rng: podlab::cluster::rng::stream(scenario.seed, "conformance/preemption"),
            existing: Vec::new(),
        };
        // The pods bound from the start (`spec.nodeName`), in file order.
        for i in 0..scenario.pods.len() {
            let id = PodId(i as u32);
            if let Some(node) = scenario.pods.node_name(id) {
                replay.existing.push(id);
                replay.place(id, node);
            }
        }
        replay
    }

    fn place(&mut self, id: PodId, node: NodeId) {
        let pod: Arc<Pod> = self.scenario.pods.get(id).into_owned();
        self.clock += 1;
        let start = self.clock;
        if let Some(state) = self.snapshot.node_mut(node) {
            state.add(PlacedPod { pod, id: Some(id), start });
        }
    }

    fn node_name(&self, id: NodeId) -> &str {
        self.scenario.nodes.get(id.index()).map_or("?", |n| n.name.as_str())
    }

    /// Runs the cycle (and preemption, when nothing fits) for the line's pod and lists every
    /// difference from what the line recorded.
    fn decide(&mut self, line: &Value) -> Vec<String> {
        let name = line["pod"].as_str().unwrap_or("");
        let Some(id) = self.scenario.pod_named(name) else { return vec![format!("no pod {name} in the scenario")] };
        let pod = self.scenario.pods.get(id).into_owned();
        let mut out = Vec::new();
        self.compare_pdbs(line, &mut out);
        self.existing.push(id);
        let result = cycle::run(&mut self.profile, &pod, &self.snapshot);
        self.compare_filtered(line, &result, &mut out);
        self.compare_scores(line, &result, &mut out);
        if result.feasible.is_empty() {
            self.compare_preemption(line, &pod, &result, &mut out);
        }
        out
    }

    fn compare_filtered(&self, line: &Value, result: &CycleResult, out: &mut Vec<String>) {
        let expected = line["filtered"].as_object().cloned().unwrap_or_default();
        let mut got: BTreeMap<&str, _> = BTreeMap::new();
        for (node, plugin, status) in &result.filtered {
            got.insert(self.node_name(*node), (plugin, status));
        }
        for (node, want) in &expected {
            let want_line = format!(
                "{} {:?} {}",
                want["plugin"].as_str().unwrap_or(""),
                strings(&want["reasons"]),
                want["code"].as_str().unwrap_or("")
            );
            match got.remove(node.as_str()) {
                None => out.push(format!("{node}: expected filtered by {want_line}, got feasible")),
                Some((plugin, status)) => {
                    let got_line = format!("{plugin} {:?} {}", status.reasons, status.code.as_str());
                    if got_line != want_line {
                        out.push(format!("{node}: filter expected {want_line}, got {got_line}"));
                    }
                }
            }
        }
        for (node, (plugin, status)) in got {
            out.push(format!("{node}: expected feasible, got filtered by {plugin} {:?}", status.reasons));
        }
        let feasible = line["feasible_nodes"].as_u64().unwrap_or(0) as usize;
        if feasible != result.feasible.len() {
            out.push(format!("feasible nodes: expected {feasible}, got {}", result.feasible.len()));
        }
    }

    fn compare_scores(&self, line: &Value, result: &CycleResult, out: &mut Vec<String>) {
        let expected = line["scores"].as_object().cloned().unwrap_or_default();
        let mut got: BTreeMap<&str, BTreeMap<String, i64>> = BTreeMap::new();
        for score in &result.scores {
            let mut by: BTreeMap<String, i64> = score.by_plugin.iter().map(|(p, s)| (p.to_string(), *s)).collect();
            by.insert("total".into(), score.total);
            got.insert(self.node_name(score.node), by);
        }
        for (node, want) in &expected {
            let want: BTreeMap<String, i64> = want
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(-1))).collect())
                .unwrap_or_default();
            let Some(have) = got.remove(node.as_str()) else {
                out.push(format!("{node}: expected scores {want:?}, got none"));
                continue;
            };
            for (plugin, value) in &want {
                match have.get(plugin) {
                    Some(v) if v == value => {}
                    Some(v) => out.push(format!("{node}: {plugin} expected {value}, got {v}")),
                    None => out.push(format!("{node}: {plugin} expected {value}, got no score")),
                }
            }
            for (plugin, v) in have.iter().filter(|(p, _)| !want.contains_key(*p)) {
                out.push(format!("{node}: {plugin} expected absent (skipped), got {v}"));
            }
        }
        for node in got.keys() {
            out.push(format!("{node}: scored, expected no scores"));
        }
        let want_top = strings(&line["top_nodes"]);
        let mut got_top: Vec<String> = result.top.iter().map(|&n| self.node_name(n).to_string()).collect();
        got_top.sort();
        if want_top != got_top {
            out.push(format!("top nodes: expected {want_top:?}, got {got_top:?}"));
        }
    }

    /// Each PodDisruptionBudget's `disruptionsAllowed` at the start of the step
    /// (`pdbs_disruptions_allowed`), as the disruption controller computes it from the pods
    /// that exist, the bound ones healthy.
    fn compare_pdbs(&self, line: &Value, out: &mut Vec<String>) {
        let bound: Vec<PodId> = self.snapshot.placed().filter_map(|(_, p)| p.id).collect();
        let pods: Vec<(Arc<Pod>, bool)> =
            self.existing.iter().map(|&id| (self.scenario.pods.get(id).into_owned(), bound.contains(&id))).collect();
        let scale = |owner: &str| {
            let rs = self.scenario.replica_sets.iter().find(|rs| rs.name == owner)?;
            i32::try_from(rs.replicas).ok()
        };
        for pdb in &self.snapshot.pdbs {
            let got = preemption::disruptions_allowed(pdb, pods.iter().map(|(p, h)| (&**p, *h)), scale);
            let want = line["pdbs_disruptions_allowed"][pdb.name.as_str()].as_i64();
            if want.is_some_and(|w| w != i64::from(got)) {
                out.push(format!("{}: disruptionsAllowed expected {}, got {got}", pdb.name, want.unwrap_or(-1)));
            }
        }
    }

    /// DefaultPreemption's outcome for a pod that fit nowhere: the nominated node, the victims
    /// and the number of candidates (`preemption`), or no preemption.
    fn compare_preemption(&mut self, line: &Value, pod: &Pod, result: &CycleResult, out: &mut Vec<String>) {
        let allowed: Vec<i32> = self
            .snapshot
            .pdbs
            .iter()
            .map(|pdb| line["pdbs_disruptions_allowed"][pdb.name.as_str()].as_i64().unwrap_or(0) as i32)
            .collect();
        let inputs = Inputs { disruptions_allowed: &allowed, ..Inputs::default() };
        let got = preemption::preempt(&mut self.profile, pod, result, &self.snapshot, &inputs, &mut self.rng);
        let want = &line["preemption"];
        match (want.is_object(), got) {
            (false, Err(_)) => {}
            (false, Ok(p)) => {
                out.push(format!("expected no preemption, got a nomination to {}", self.node_name(p.node)))
            }
            (true, Err(why)) => {
                out.push(format!("expected preemption on {}, got none: {}", want["node"], why.message()))
            }
            (true, Ok(p)) => {
                let node = self.node_name(p.node);
                if want["node"].as_str() != Some(node) {
                    out.push(format!("preemption: expected nominated {}, got {node}", want["node"]));
                }
                let mut want_victims = strings(&want["victims"]);
                want_victims.sort();
                let mut victims: Vec<String> = p.victims.iter().map(|v| v.pod.name.to_string()).collect();
                victims.sort();
                if want_victims != victims {
                    out.push(format!("preemption victims: expected {want_victims:?}, got {victims:?}"));
                }
                if want["candidates"].as_u64() != Some(p.candidates as u64) {
                    out.push(format!("preemption candidates: expected {}, got {}", want["candidates"], p.candidates));
                }
            }
        }
    }

    /// The step's `events`, in order: each binding places its pod, each deletion removes it.
    /// A binding by a later cycle than the pod's first (`bound_cycle`) is compared first, on
    /// the state the events before it left: returns its differences.
    fn apply_events(&mut self, line: &Value, later: &BTreeMap<String, Value>) -> Result<Vec<String>, String> {
        let step = line["step"].as_u64();
        let mut out = Vec::new();
        for event in line["events"].as_array().into_iter().flatten() {
            if let Some(pod) = event["bind"].as_str() {
                let id = self.scenario.pod_named(pod).ok_or(format!("event binds unknown pod {pod}"))?;
                let node_name = event["node"].as_str().unwrap_or("");
                let node =
                    self.scenario.node_named(node_name).ok_or(format!("event binds to unknown node {node_name}"))?;
                if let Some(theirs) = later.get(pod)
                    && theirs["bound_cycle"]["step"].as_u64() == step
                {
                    self.compare_bound_cycle(pod, theirs, &mut out);
                }
                self.place(id, node);
            } else if let Some(pod) = event["delete"].as_str() {
                let removed = self.snapshot.nodes.iter_mut().any(|n| n.remove("default", pod).is_some());
                self.existing.retain(|&id| self.scenario.pods.get(id).name != pod);
                if !removed {
                    return Err(format!("event deletes {pod}, which is on no node"));
                }
            }
        }
        Ok(out)
    }

    /// The cycle that bound a pod later than its first: a preemptor's looks at its nominated
    /// node first (`evaluateNominatedNode`), which must take it; any other pod's is a whole
    /// cycle, compared as the first one is.
    fn compare_bound_cycle(&mut self, name: &str, line: &Value, out: &mut Vec<String>) {
        let Some(id) = self.scenario.pod_named(name) else { return };
        let pod = self.scenario.pods.get(id).into_owned();
        let cycle = &line["bound_cycle"];
        let mut differences = Vec::new();
        let nominated = line["preemption"]["node"].as_str().and_then(|n| self.scenario.node_named(n));
        if let Some(node) = nominated {
            if let Err(status) = preemption::nominated_node_fits(&mut self.profile, &pod, &self.snapshot, node, &[]) {
                differences.push(format!("its nominated node refused it: {:?}", status.reasons));
            }
            let top = strings(&cycle["top_nodes"]);
            if top != [self.node_name(node)] {
                differences.push(format!("top nodes: expected {top:?}, got the nominated {}", self.node_name(node)));
            }
        } else {
            let result = cycle::run(&mut self.profile, &pod, &self.snapshot);
            self.compare_filtered(cycle, &result, &mut differences);
            self.compare_scores(cycle, &result, &mut differences);
        }
        out.extend(differences.into_iter().map(|d| format!("{name}'s binding cycle: {d}")));
    }
}

/// The cluster-wide objects the plugins read, from the scenario: the spread selectors of
/// Services, ReplicaSets and StatefulSets, the PodDisruptionBudgets, namespaces' labels.
fn cluster_objects(scenario: &Scenario, snapshot: &mut Snapshot) {
    snapshot.spread_selectors = scenario.kube.spread_selectors.clone();
    snapshot.pdbs = scenario.kube.pdbs.clone();
    snapshot.namespace_labels = scenario.kube.namespace_labels.clone();
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect()
}

/// The free run of a tie-free scenario (`tie_free: true`): the `kubernetes` policy run in the
/// simulator on the scenario with instant decisions, its outcome compared pod by pod with
/// `<name>.placements.json` — where each arriving pod ended (`final`, a node or none), and
/// which pods were preempted. Every difference, one line each.
pub fn free_run(dir: &Path, name: &str) -> Vec<String> {
    let placements: Value = match std::fs::read_to_string(dir.join(format!("{name}.placements.json"))) {
        Ok(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
        Err(_) => return Vec::new(),
    };
    let mut scenario = match load(dir, name, true) {
        Ok(s) => s,
        Err(why) => return vec![format!("{name}: does not load: {why}")],
    };
    // Upstream ran the scheduler until its queues were empty before the next pod arrived
    // (README, "How they were produced"): decisions that take no simulated time, where
    // podlab's default cycle takes 1 ms and the next pod arrives 1 ms later.
    let instant = podlab::cluster::SimDuration::ZERO;
    scenario.config.scheduler.decision = podlab::cluster::config::DecisionTime { t_job: instant, t_task: instant };
    let run = match podlab::run_policy(&scenario, "kubernetes", scenario.seed, true) {
        Ok(run) => run,
        Err(why) => return vec![format!("{name}: does not run: {why}")],
    };
    let mut out: Vec<String> = run.sim.violations.iter().map(|v| format!("{name}: invariant: {v:?}")).collect();
    let mut node_of: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut preempted: Vec<String> = Vec::new();
    let pod_name = |id: PodId| run.scenario.pods.get(id).name.to_string();
    for record in run.sim.records.iter() {
        match &record.record {
            podlab::cluster::Record::Bound { pod, node, .. } => {
                node_of.insert(pod_name(*pod), Some(run.scenario.nodes[node.index()].name.clone()));
            }
            podlab::cluster::Record::Preempted { victims, .. } => {
                for victim in victims {
                    node_of.remove(&pod_name(*victim));
                    preempted.push(pod_name(*victim));
                }
            }
            _ => {}
        }
    }
    for (pod, want) in placements["final"].as_object().into_iter().flatten() {
        let got = node_of.get(pod).cloned().flatten();
        if want.as_str() != got.as_deref() {
            out.push(format!("{name}: {pod} expected on {want}, got {got:?}"));
        }
    }
    let mut want_preempted: Vec<String> =
        placements["preempted"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    want_preempted.sort();
    preempted.sort();
    if want_preempted != preempted {
        out.push(format!("{name}: preempted expected {want_preempted:?}, got {preempted:?}"));
    }
    out
}
