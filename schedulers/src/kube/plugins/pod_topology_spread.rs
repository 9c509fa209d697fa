//! PodTopologySpread, as kube-scheduler v1.35 computes it
//! (`pkg/scheduler/framework/plugins/podtopologyspread/{plugin,common,filtering,scoring}.go` and
//! `helper.DefaultSelector`): the pod's own topology spread constraints or, when it declares
//! none, the system default constraints (hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway)
//! over the selector of the Services, ReplicationControllers, ReplicaSets and StatefulSets
//! that select it. `DoNotSchedule` constraints filter (skew against the global minimum, with
//! `minDomains`), `ScheduleAnyway` ones score (matching pods per domain weighted by the log of
//! the number of domains, inverted between the min and the max).
//!
//! Cost per decision: nothing for a pod without constraints of its own and no selecting object
//! (PreFilter skips at once — the system defaults never filter — and PreScore after one pass
//! over the spread selectors); otherwise one visit of every placed pod per constraint at
//! PreFilter and PreScore, as upstream's `countPodsMatchSelector` over every node.

use std::collections::{BTreeMap, BTreeSet};

use podlab_cluster::affinity::{InclusionPolicy, LabelSelector, TopologySpreadConstraint, WhenUnsatisfiable};
use podlab_cluster::apps::default_selector;
use podlab_cluster::objects::SelectorOp;
use podlab_cluster::{Node, NodeId, Pod};

use crate::kube::plugin::{Plugin, PreScore, Status};
use crate::kube::snapshot::{NodeState, Snapshot};

/// Upstream's plugin name.
pub const NAME: &str = "PodTopologySpread";
/// `ErrReasonConstraintsNotMatch` (Unschedulable).
pub const ERR_CONSTRAINTS_NOT_MATCH: &str = "node(s) didn't match pod topology spread constraints";
/// `ErrReasonNodeLabelNotMatch` (UnschedulableAndUnresolvable).
pub const ERR_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
/// `v1.LabelHostname`: its domains are counted per node at Score.
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
/// `v1.LabelTopologyZone`.
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
/// `framework.MaxNodeScore`.
const MAX_NODE_SCORE: i64 = 100;

/// Upstream's `topologySpreadConstraint`: a constraint with its selector parsed (`None` is
/// `labels.Nothing()`, a nil selector) and its defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Constraint {
    max_skew: i32,
    topology_key: String,
    selector: Option<LabelSelector>,
    min_domains: i32,
    node_affinity_policy: InclusionPolicy,
    node_taints_policy: InclusionPolicy,
}

impl Constraint {
    /// `matchNodeInclusionPolicies`: whether `node` counts for this constraint — it passes the
    /// pod's node selector and required node affinity (policy Honor, the default) and has no
    /// NoSchedule/NoExecute taint the pod does not tolerate (policy Honor; default Ignore).
    fn includes(&self, pod: &Pod, node: &Node) -> bool {
        (self.node_affinity_policy == InclusionPolicy::Ignore || pod.matches_node_affinity(node))
            && (self.node_taints_policy == InclusionPolicy::Ignore || pod.untolerated_taint(node).is_none())
    }

    /// `Selector.Matches`.
    fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }

    /// `countPodsMatchSelector`: the pods on `node` in `namespace` the selector matches. An
    /// empty selector (`Empty()`: no requirement) counts none, as upstream's does.
    fn count(&self, node: &NodeState, namespace: &str) -> i64 {
        let Some(selector) = self.selector.as_ref().filter(|s| !s.is_empty()) else { return 0 };
        let matching = node.pods.iter().filter(|p| p.pod.namespace == namespace && selector.matches(&p.pod.labels));
        matching.count() as i64
    }
}

/// `nodeLabelsMatchSpreadConstraints`: the node has every constraint's topology key.
fn has_all_keys(node: &Node, constraints: &[Constraint]) -> bool {
    constraints.iter().all(|c| node.labels.contains_key(&c.topology_key))
}

/// `filterTopologySpreadConstraints`: the constraints of `action`, with `matchLabelKeys`
/// merged into their selectors (`mergeLabelSetWithSelector`: the pod's values of those keys
/// it has; a nil selector stays nil) and upstream's defaults (`minDomains` 1, node affinity
/// Honor, node taints Ignore).
fn filter_constraints(
    constraints: &[TopologySpreadConstraint],
    pod_labels: &BTreeMap<String, String>,
    action: WhenUnsatisfiable,
) -> Vec<Constraint> {
    let of_action = constraints.iter().filter(|c| c.when_unsatisfiable == action);
    of_action
        .map(|c| {
            let mut selector = c.label_selector.clone();
            if let Some(s) = &mut selector {
                for key in &c.match_label_keys {
                    if let Some(value) = pod_labels.get(key) {
                        *s = std::mem::take(s).with_requirement(key, SelectorOp::In, value);
                    }
                }
            }
            Constraint {
                max_skew: c.max_skew,
                topology_key: c.topology_key.clone(),
                selector,
                min_domains: c.min_domains.unwrap_or(1),
                node_affinity_policy: c.node_affinity_policy.unwrap_or(InclusionPolicy::Honor),
                node_taints_policy: c.node_taints_policy.unwrap_or(InclusionPolicy::Ignore),
            }
        })
        .collect()
}

/// The system default constraints (`systemDefaultConstraints` of `plugin.go`).
pub fn system_default_constraints() -> Vec<TopologySpreadConstraint> {
    let soft = |key: &str, max_skew| TopologySpreadConstraint {
        max_skew,
        topology_key: key.into(),
        when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
        label_selector: None,
        min_domains: None,
        node_affinity_policy: None,
        node_taints_policy: None,
        match_label_keys: vec![],
    };
    vec![soft(LABEL_HOSTNAME, 3), soft(LABEL_ZONE, 5)]
}

/// What PreFilter counted (upstream's `preFilterState`), per hard constraint.
#[derive(Clone, Debug, Default)]
struct FilterState {
    constraints: Vec<Constraint>,
    /// `TpValueToMatchNum`: matching pods per domain of each constraint's key, over the nodes
    /// that count for it.
    counts: Vec<BTreeMap<String, i64>>,
}

impl FilterState {
    /// `minMatchNum`: the global minimum, 0 when fewer domains than `minDomains`, MaxInt32
    /// when no domain (upstream's critical paths start there).
    fn min_match(&self, i: usize) -> i64 {
        let counts = &self.counts[i];
        if (counts.len() as i64) < i64::from(self.constraints[i].min_domains) {
            return 0;
        }
        counts.values().copied().min().unwrap_or(i64::from(i32::MAX))
    }
}

/// What PreScore computed (upstream's `preScoreState`), per soft constraint.
#[derive(Clone, Debug, Default)]
struct ScoreState {
    constraints: Vec<Constraint>,
    /// Feasible nodes missing a topology key (when every key is required): scored 0.
    ignored: BTreeSet<NodeId>,
    /// The same, by position among the feasible nodes, for NormalizeScore.
    ignored_at: Vec<bool>,
    /// `TopologyValueToPodCounts` (not kept for the hostname constraint: counted at Score).
    counts: Vec<BTreeMap<String, i64>>,
    /// `TopologyNormalizingWeight`: `ln(domains + 2)`.
    weights: Vec<f64>,
}

/// The PodTopologySpread plugin with its arguments (`PodTopologySpreadArgs`) and this cycle's
/// state.
#[derive(Clone, Debug)]
pub struct PodTopologySpread {
    /// The constraints of a pod that declares none (`defaultConstraints`, or the system ones
    /// under `defaultingType: System`), each with the pod's default selector.
    pub default_constraints: Vec<TopologySpreadConstraint>,
    /// `defaultingType: System`: a node without a default constraint's key still counts.
    pub system_defaulted: bool,
    /// `None`: PreFilter said Skip (no hard constraint).
    filter_state: Option<FilterState>,
    /// `None`: PreScore said Skip (no soft constraint).
    score_state: Option<ScoreState>,
}

impl Default for PodTopologySpread {
    fn default() -> Self {
        PodTopologySpread::system_defaulted()
    }
}

impl PodTopologySpread {
    /// `defaultingType: System` (the default): the system default constraints.
    pub fn system_defaulted() -> PodTopologySpread {
        PodTopologySpread {
            default_constraints: system_default_constraints(),
            system_defaulted: true,
            filter_state: None,
            score_state: None,
        }
    }

    /// `defaultingType: List` with these `defaultConstraints` (none: no default spreading).
    pub fn with_default_constraints(default_constraints: Vec<TopologySpreadConstraint>) -> PodTopologySpread {
        PodTopologySpread { default_constraints, system_defaulted: false, filter_state: None, score_state: None }
    }

    /// `getConstraints` (`action` DoNotSchedule) and `initPreScoreState`'s choice
    /// (ScheduleAnyway): the pod's own constraints of `action`, else the default ones of
    /// `action` with the pod's default selector (`buildDefaultConstraints`), none when nothing
    /// selects the pod.
    fn constraints(&self, pod: &Pod, snapshot: &Snapshot, action: WhenUnsatisfiable) -> Vec<Constraint> {
        if let Some(own) = pod.terms.as_deref().map(|t| &t.topology_spread).filter(|c| !c.is_empty()) {
            return filter_constraints(own, &pod.labels, action);
        }
        let mut constraints = filter_constraints(&self.default_constraints, &pod.labels, action);
        if constraints.is_empty() {
            return constraints;
        }
        // `helper.DefaultSelector`: Services selecting the pod, its RC/ReplicaSet/StatefulSet.
        let selector = default_selector(&snapshot.spread_selectors, pod);
        if selector.is_empty() {
            return Vec::new();
        }
        for c in &mut constraints {
            c.selector = Some(selector.clone());
        }
        constraints
    }

    /// PreFilter's `updateWithPod`, upstream's AddPod (`delta` 1) and RemovePod (-1) for
    /// preemption's dry run: `other` placed on (or removed from) `node`, for `incoming`.
    pub fn update_with_pod(&mut self, incoming: &Pod, other: &Pod, node: &NodeState, delta: i64) {
        let Some(state) = &mut self.filter_state else { return };
        if other.namespace != incoming.namespace || !has_all_keys(&node.spec, &state.constraints) {
            return;
        }
        for (i, c) in state.constraints.iter().enumerate() {
            if !c.selects(&other.labels) || !c.includes(incoming, &node.spec) {
                continue;
            }
            let value = &node.spec.labels[&c.topology_key];
            *state.counts[i].entry(value.clone()).or_insert(0) += delta;
        }
    }

    /// `initPreScoreState`: the domains of the feasible nodes (a node missing a key is ignored
    /// when every key is required; otherwise its missing value is the domain "") and each
    /// constraint's normalizing weight.
    fn init_score_state(constraints: Vec<Constraint>, feasible: &[&NodeState], require_all: bool) -> ScoreState {
        let mut state = ScoreState {
            counts: vec![BTreeMap::new(); constraints.len()],
            ignored_at: vec![false; feasible.len()],
            ..ScoreState::default()
        };
        let mut sizes = vec![0usize; constraints.len()];
        for (at, node) in feasible.iter().enumerate() {
            if require_all && !has_all_keys(&node.spec, &constraints) {
                state.ignored.insert(node.id);
                state.ignored_at[at] = true;
                continue;
            }
            for (i, c) in constraints.iter().enumerate().filter(|(_, c)| c.topology_key != LABEL_HOSTNAME) {
                let value = node.spec.labels.get(&c.topology_key).map_or("", String::as_str);
                if !state.counts[i].contains_key(value) {
                    state.counts[i].insert(value.to_owned(), 0);
                    sizes[i] += 1;
                }
            }
        }
        let scored = feasible.len() - state.ignored.len();
        state.weights = constraints
            .iter()
            .zip(sizes)
            .map(|(c, size)| topology_normalizing_weight(if c.topology_key == LABEL_HOSTNAME { scored } else { size }))
            .collect();
        state.constraints = constraints;
        state
    }
}

/// `topologyNormalizingWeight`: `math.Log(float64(size + 2))`.
fn topology_normalizing_weight(size: usize) -> f64 {
    ((size + 2) as f64).ln()
}

/// `scoreForCount`: `float64(cnt)*tpWeight + float64(maxSkew-1)`.
fn score_for_count(count: i64, max_skew: i32, weight: f64) -> f64 {
    count as f64 * weight + f64::from(max_skew - 1)
}

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }

    fn filters(&self) -> bool {
        true
    }

    fn scores(&self) -> bool {
        true
    }

    /// `calPreFilterState`: matching pods per domain of each hard constraint, over the nodes
    /// that have every key and count for the constraint. Skip without hard constraints.
    fn pre_filter(&mut self, pod: &Pod, snapshot: &Snapshot) -> Result<(), Status> {
        self.filter_state = None;
        let constraints = self.constraints(pod, snapshot, WhenUnsatisfiable::DoNotSchedule);
        if constraints.is_empty() {
            return Ok(());
        }
        let mut counts = vec![BTreeMap::<String, i64>::new(); constraints.len()];
        for node in snapshot.nodes.iter().filter(|n| has_all_keys(&n.spec, &constraints)) {
            for (i, c) in constraints.iter().enumerate() {
                if !c.includes(pod, &node.spec) {
                    continue;
                }
                let value = &node.spec.labels[&c.topology_key];
                let count = c.count(node, &pod.namespace);
                match counts[i].get_mut(value) {
                    Some(sum) => *sum += count,
                    None => {
                        counts[i].insert(value.clone(), count);
                    }
                }
            }
        }
        self.filter_state = Some(FilterState { constraints, counts });
        Ok(())
    }

    /// `Filter`: each hard constraint's key on the node, and `matching + self - minimum <=
    /// maxSkew` in the node's domain.
    fn filter(&self, pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> Result<(), Status> {
        let Some(state) = &self.filter_state else { return Ok(()) };
        for (i, c) in state.constraints.iter().enumerate() {
            let Some(value) = node.spec.labels.get(&c.topology_key) else {
                return Err(Status::unresolvable(ERR_NODE_LABEL_NOT_MATCH));
            };
            let self_match = i64::from(c.selects(&pod.labels));
            let matching = state.counts[i].get(value).copied().unwrap_or(0);
            if matching + self_match - state.min_match(i) > i64::from(c.max_skew) {
                return Err(Status::unschedulable(ERR_CONSTRAINTS_NOT_MATCH));
            }
        }
        Ok(())
    }

    /// `PreScore`: the soft constraints' domains among the feasible nodes, and the matching
    /// pods of each (but hostname's) over every node that counts. Skip without soft
    /// constraints.
    fn pre_score(&mut self, pod: &Pod, feasible: &[&NodeState], snapshot: &Snapshot) -> PreScore {
        self.score_state = None;
        if snapshot.nodes.is_empty() {
            return PreScore::Skip;
        }
        let own = pod.terms.as_deref().is_some_and(|t| !t.topology_spread.is_empty());
        // Only non-system-default constraints require every key on a node, so that nodes
        // without a zone label still get hostname spreading.
        let require_all = own || !self.system_defaulted;
        let constraints = self.constraints(pod, snapshot, WhenUnsatisfiable::ScheduleAnyway);
        if constraints.is_empty() {
            return PreScore::Skip;
        }
        let mut state = Self::init_score_state(constraints, feasible, require_all);
        for node in &snapshot.nodes {
            if require_all && !has_all_keys(&node.spec, &state.constraints) {
                continue;
            }
            for (i, c) in state.constraints.iter().enumerate() {
                if !c.includes(pod, &node.spec) {
                    continue;
                }
                let value = node.spec.labels.get(&c.topology_key).map_or("", String::as_str);
                // Only the domains of feasible nodes are counted (never hostname's).
                if let Some(count) = state.counts[i].get_mut(value) {
                    *count += c.count(node, &pod.namespace);
                }
            }
        }
        self.score_state = Some(state);
        PreScore::Run
    }

    /// `Score`: per constraint whose key the node has, its domain's matching pods (the node's
    /// own for hostname) times the weight, plus `maxSkew - 1`; rounded half away from zero.
    fn score(&self, pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> i64 {
        let Some(state) = &self.score_state else { return 0 };
        if state.ignored.contains(&node.id) {
            return 0;
        }
        let mut score = 0.0_f64;
        for (i, c) in state.constraints.iter().enumerate() {
            let Some(value) = node.spec.labels.get(&c.topology_key) else { continue };
            let count = if c.topology_key == LABEL_HOSTNAME {
                c.count(node, &pod.namespace)
            } else {
                state.counts[i].get(value).copied().unwrap_or(0)
            };
            score += score_for_count(count, c.max_skew, state.weights[i]);
        }
        // Go's math.Round rounds half away from zero, as f64::round does.
        score.round() as i64
    }

    /// `NormalizeScore`: ignored nodes 0; otherwise `MaxNodeScore * (max + min - score) / max`
    /// in integers (100 for all when the max is 0), the max starting at 0.
    fn normalize(&self, _pod: &Pod, scores: &mut [i64]) {
        let Some(state) = &self.score_state else { return };
        let ignored = |i: usize| state.ignored_at.get(i).copied().unwrap_or(false);
        let mut min = i64::MAX;
        let mut max = 0_i64;
        for (_, &score) in scores.iter().enumerate().filter(|(i, _)| !ignored(*i)) {
            min = min.min(score);
            max = max.max(score);
        }
        for (i, score) in scores.iter_mut().enumerate() {
            *score = if ignored(i) {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *score) / max
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use podlab_cluster::affinity::{SchedulingTerms, SpreadSelector};
    use podlab_cluster::objects::{Taint, TaintEffect};
    use podlab_cluster::{NodeId, Resources};

    use super::*;
    use crate::kube::plugin::Code;
    use crate::kube::snapshot::PlacedPod;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn web_selector() -> LabelSelector {
        LabelSelector { match_labels: labels(&[("app", "web")]), match_expressions: vec![] }
    }

    /// Nodes `n-<i>`, each in its zone (no zone label when `None`).
    fn cluster(zones: &[Option<&str>]) -> Snapshot {
        let node = |(i, zone): (usize, &Option<&str>)| {
            let name = format!("n-{i}");
            let mut l = labels(&[(LABEL_HOSTNAME, &name)]);
            if let Some(z) = zone {
                l.insert(LABEL_ZONE.into(), z.to_string());
            }
            let spec = Node {
                name,
                labels: l,
                taints: vec![],
                allocatable: Resources::default(),
                max_pods: 110,
                unschedulable: false,
                images: vec![],
            };
            NodeState::new(NodeId(i as u32), Arc::new(spec))
        };
        Snapshot { nodes: zones.iter().enumerate().map(node).collect(), ..Snapshot::default() }
    }

    fn pod(name: &str, app: &str, owner: Option<&str>, constraints: Vec<TopologySpreadConstraint>) -> Pod {
        let mut pod = Pod::single(name, Resources::default());
        let spec = Arc::make_mut(&mut pod.spec);
        spec.labels = labels(&[("app", app)]);
        spec.owner = owner.map(String::from);
        if !constraints.is_empty() {
            spec.terms = Some(Box::new(SchedulingTerms { topology_spread: constraints, ..SchedulingTerms::default() }));
        }
        pod
    }

    fn place(snapshot: &mut Snapshot, node: u32, count: usize, pod: &Pod) {
        for _ in 0..count {
            let placed = PlacedPod { pod: Arc::new(pod.clone()), id: None, start: 0 };
            snapshot.node_mut(NodeId(node)).expect("node").add(placed);
        }
    }

    fn constraint(key: &str, max_skew: i32, when: WhenUnsatisfiable) -> TopologySpreadConstraint {
        TopologySpreadConstraint {
            max_skew,
            topology_key: key.into(),
            when_unsatisfiable: when,
            label_selector: Some(web_selector()),
            min_domains: None,
            node_affinity_policy: None,
            node_taints_policy: None,
            match_label_keys: vec![],
        }
    }

    fn replica_set(name: &str) -> SpreadSelector {
        SpreadSelector {
            namespace: "default".into(),
            kind: "ReplicaSet".into(),
            name: name.into(),
            selector: web_selector(),
        }
    }

    fn verdicts(plugin: &mut PodTopologySpread, pod: &Pod, snapshot: &Snapshot) -> Vec<Option<(Code, &'static str)>> {
        plugin.pre_filter(pod, snapshot).expect("pre_filter");
        let reason = |s: Status| {
            let text = if s.reasons[0] == ERR_NODE_LABEL_NOT_MATCH {
                ERR_NODE_LABEL_NOT_MATCH
            } else {
                ERR_CONSTRAINTS_NOT_MATCH
            };
            (s.code, text)
        };
        snapshot.nodes.iter().map(|n| plugin.filter(pod, n, snapshot).err().map(reason)).collect()
    }

    fn scores(plugin: &mut PodTopologySpread, pod: &Pod, snapshot: &Snapshot) -> Option<Vec<i64>> {
        let feasible: Vec<&NodeState> = snapshot.nodes.iter().collect();
        if plugin.pre_score(pod, &feasible, snapshot) == PreScore::Skip {
            return None;
        }
        let mut raw: Vec<i64> = feasible.iter().map(|n| plugin.score(pod, n, snapshot)).collect();
        plugin.normalize(pod, &mut raw);
        Some(raw)
    }

    const SKEW: Option<(Code, &str)> = Some((Code::Unschedulable, ERR_CONSTRAINTS_NOT_MATCH));
    const NO_LABEL: Option<(Code, &str)> = Some((Code::UnschedulableAndUnresolvable, ERR_NODE_LABEL_NOT_MATCH));

    #[test]
    fn system_defaults_spread_a_replica_sets_pods() {
        let mut snapshot = cluster(&[Some("a"), Some("a"), Some("b")]);
        snapshot.spread_selectors.push(replica_set("web-1"));
        let web = pod("web", "web", Some("web-1"), vec![]);
        place(&mut snapshot, 0, 2, &web);
        place(&mut snapshot, 1, 1, &web);
        let mut plugin = PodTopologySpread::default();
        // The system defaults never filter.
        assert_eq!(verdicts(&mut plugin, &web, &snapshot), vec![None; 3]);
        // Hostname weight ln(3 + 2), zone weight ln(2 + 2); zone a holds 3, b 0.
        // n-0: 2 ln5 + 2 + 3 ln4 + 4 = 13.38 → 13; n-1: ln5 + 2 + 3 ln4 + 4 = 11.77 → 12;
        // n-2: 2 + 4 = 6. Normalised 100 (13 + 6 - s) / 13: 46, 53, 100.
        assert_eq!(scores(&mut plugin, &web, &snapshot), Some(vec![46, 53, 100]));
    }

    #[test]
    fn a_pod_nothing_selects_skips_and_a_service_selects() {
        let mut snapshot = cluster(&[Some("a"), Some("b")]);
        snapshot.spread_selectors.push(replica_set("web-1"));
        let bare = pod("bare", "web", None, vec![]);
        place(&mut snapshot, 0, 1, &bare);
        let mut plugin = PodTopologySpread::default();
        assert_eq!(scores(&mut plugin, &bare, &snapshot), None);
        assert_eq!(scores(&mut plugin, &pod("x", "web", Some("other-rs"), vec![]), &snapshot), None);
        let service = SpreadSelector {
            namespace: "default".into(),
            kind: "Service".into(),
            name: "svc".into(),
            selector: web_selector(),
        };
        snapshot.spread_selectors.push(service);
        // n-0: ln4 + 2 + ln4 + 4 = 8.77 → 9; n-1: 6. 100 (9 + 6 - s) / 9: 66, 100.
        assert_eq!(scores(&mut plugin, &bare, &snapshot), Some(vec![66, 100]));
        // No default constraints (defaultingType List, empty): skip.
        assert_eq!(scores(&mut PodTopologySpread::with_default_constraints(vec![]), &bare, &snapshot), None);
    }

    #[test]
    fn system_defaults_keep_nodes_without_a_zone_in_the_empty_domain() {
        let mut snapshot = cluster(&[Some("a"), None]);
        snapshot.spread_selectors.push(replica_set("web-1"));
        let web = pod("web", "web", Some("web-1"), vec![]);
        place(&mut snapshot, 1, 1, &web);
        // Zone domains "a" and "" (weight ln4), hostname over 2 nodes (ln4).
        // n-0: 2 + 0 ln4 + 4 = 6; n-1: ln4 + 2 = 3.39 → 3 (no zone label: no zone term).
        // 100 (6 + 3 - s) / 6: 50, 100.
        assert_eq!(scores(&mut PodTopologySpread::default(), &web, &snapshot), Some(vec![50, 100]));
    }

    #[test]
    fn hard_constraints_filter_by_skew_and_missing_labels() {
        let mut snapshot = cluster(&[Some("a"), Some("b"), Some("c"), None]);
        let zone = constraint(LABEL_ZONE, 1, WhenUnsatisfiable::DoNotSchedule);
        let web = pod("web", "web", None, vec![zone.clone()]);
        place(&mut snapshot, 0, 2, &web);
        place(&mut snapshot, 1, 1, &web);
        place(&mut snapshot, 3, 5, &web);
        let mut plugin = PodTopologySpread::default();
        // Counts a 2, b 1, c 0 (n-3 has no zone); min 0: skews 3, 2, 1.
        assert_eq!(verdicts(&mut plugin, &web, &snapshot), vec![SKEW, SKEW, None, NO_LABEL]);
        // A pod the selector does not match adds no self-match: skews 2, 1, 0.
        let other = pod("db", "db", None, vec![zone]);
        assert_eq!(verdicts(&mut plugin, &other, &snapshot), vec![SKEW, None, None, NO_LABEL]);
    }

    #[test]
    fn min_domains_treats_the_minimum_as_zero_below_it() {
        let mut snapshot = cluster(&[Some("a"), Some("b")]);
        let mut zone = constraint(LABEL_ZONE, 1, WhenUnsatisfiable::DoNotSchedule);
        place(&mut snapshot, 0, 1, &pod("w", "web", None, vec![]));
        place(&mut snapshot, 1, 1, &pod("w", "web", None, vec![]));
        let mut plugin = PodTopologySpread::default();
        // Both domains hold 1: skew 1 + 1 - 1 = 1.
        assert_eq!(verdicts(&mut plugin, &pod("web", "web", None, vec![zone.clone()]), &snapshot), vec![None, None]);
        zone.min_domains = Some(3);
        // 2 domains < 3: the minimum is 0, skew 2.
        assert_eq!(verdicts(&mut plugin, &pod("web", "web", None, vec![zone]), &snapshot), vec![SKEW, SKEW]);
    }

    #[test]
    fn inclusion_policies_choose_the_nodes_that_count() {
        let mut snapshot = cluster(&[Some("a"), Some("a"), Some("b")]);
        let taint = Taint { key: "gpu".into(), value: String::new(), effect: TaintEffect::NoSchedule };
        Arc::make_mut(&mut snapshot.nodes[2].spec).taints.push(taint);
        place(&mut snapshot, 0, 1, &pod("w", "web", None, vec![]));
        place(&mut snapshot, 1, 1, &pod("w", "web", None, vec![]));
        let host = constraint(LABEL_HOSTNAME, 1, WhenUnsatisfiable::DoNotSchedule);
        let mut plugin = PodTopologySpread::default();
        // Node affinity Honor: the pod's nodeSelector leaves n-2 (empty) out, the minimum is 1.
        let mut in_a = pod("web", "web", None, vec![host.clone()]);
        Arc::make_mut(&mut in_a.spec).node_selector = labels(&[(LABEL_ZONE, "a")]);
        assert_eq!(verdicts(&mut plugin, &in_a, &snapshot), vec![None, None, None]);
        // Ignore counts n-2: the minimum is 0, skew 2 on n-0 and n-1.
        let ignore = TopologySpreadConstraint { node_affinity_policy: Some(InclusionPolicy::Ignore), ..host.clone() };
        Arc::make_mut(&mut in_a.spec).terms.as_mut().expect("terms").topology_spread = vec![ignore];
        assert_eq!(verdicts(&mut plugin, &in_a, &snapshot), vec![SKEW, SKEW, None]);
        // Taints Ignore (the default) counts the tainted n-2; Honor leaves it out.
        assert_eq!(
            verdicts(&mut plugin, &pod("web", "web", None, vec![host.clone()]), &snapshot),
            vec![SKEW, SKEW, None]
        );
        let honor = TopologySpreadConstraint { node_taints_policy: Some(InclusionPolicy::Honor), ..host };
        assert_eq!(verdicts(&mut plugin, &pod("web", "web", None, vec![honor]), &snapshot), vec![None, None, None]);
    }

    #[test]
    fn own_soft_constraints_ignore_nodes_missing_the_key() {
        let mut snapshot = cluster(&[Some("a"), Some("b"), None]);
        let zone = constraint(LABEL_ZONE, 1, WhenUnsatisfiable::ScheduleAnyway);
        let web = pod("web", "web", None, vec![zone]);
        place(&mut snapshot, 0, 1, &web);
        // Own constraints: no hard ones, PreFilter skips.
        assert_eq!(verdicts(&mut PodTopologySpread::default(), &web, &snapshot), vec![None; 3]);
        // n-2 ignored (0). Zone weight ln4: n-0 ln4 = 1.39 → 1, n-1 0; 100 (1 + 0 - s) / 1.
        assert_eq!(scores(&mut PodTopologySpread::default(), &web, &snapshot), Some(vec![0, 100, 0]));
    }

    #[test]
    fn all_zero_scores_normalise_to_the_maximum_and_other_namespaces_do_not_count() {
        let mut snapshot = cluster(&[Some("a"), Some("b")]);
        let zone = constraint(LABEL_ZONE, 1, WhenUnsatisfiable::ScheduleAnyway);
        let mut elsewhere = pod("w", "web", None, vec![]);
        Arc::make_mut(&mut elsewhere.spec).namespace = "other".into();
        place(&mut snapshot, 0, 3, &elsewhere);
        let web = pod("web", "web", None, vec![zone]);
        assert_eq!(scores(&mut PodTopologySpread::default(), &web, &snapshot), Some(vec![100, 100]));
    }

    #[test]
    fn an_empty_selector_counts_no_pod_but_matches_the_pod_itself() {
        let mut snapshot = cluster(&[Some("a"), Some("b")]);
        let zone = TopologySpreadConstraint {
            label_selector: Some(LabelSelector::default()),
            ..constraint(LABEL_ZONE, 1, WhenUnsatisfiable::DoNotSchedule)
        };
        place(&mut snapshot, 0, 3, &pod("w", "web", None, vec![]));
        // Upstream's countPodsMatchSelector counts nothing for an empty selector: skew 0 + 1 - 0.
        assert_eq!(
            verdicts(&mut PodTopologySpread::default(), &pod("web", "web", None, vec![zone]), &snapshot),
            vec![None, None]
        );
    }

    #[test]
    fn preemption_removing_a_pod_lowers_its_domain() {
        let mut snapshot = cluster(&[Some("a"), Some("b")]);
        let zone = constraint(LABEL_ZONE, 1, WhenUnsatisfiable::DoNotSchedule);
        let victim = pod("w", "web", None, vec![]);
        place(&mut snapshot, 0, 2, &victim);
        let web = pod("web", "web", None, vec![zone]);
        let mut plugin = PodTopologySpread::default();
        assert_eq!(verdicts(&mut plugin, &web, &snapshot), vec![SKEW, None]);
        plugin.update_with_pod(&web, &victim, &snapshot.nodes[0], -1);
        // a 1, b 0: skew 2 on n-0 still; once more and a is 0.
        assert_eq!(plugin.filter(&web, &snapshot.nodes[0], &snapshot).map_err(|s| s.code), Err(Code::Unschedulable));
        plugin.update_with_pod(&web, &victim, &snapshot.nodes[0], -1);
        assert_eq!(plugin.filter(&web, &snapshot.nodes[0], &snapshot), Ok(()));
    }
}
