//! InterPodAffinity, as kube-scheduler v1.35 computes it
//! (`pkg/scheduler/framework/plugins/interpodaffinity/{plugin,filtering,scoring}.go`): the
//! Filter of required affinity and anti-affinity — the incoming pod's and the placed pods' —
//! counted per topology pair at PreFilter, and the Score of preferred terms (both ways) and of
//! placed pods' required affinity (`hardPodAffinityWeight`), summed per topology pair at
//! PreScore and normalised by min and max.
//!
//! Cost per decision: a pod without terms of its own reads one counter per node and visits only
//! the placed pods that carry terms (upstream's `PodsWithAffinity` lists), and skips both its
//! Filter and its Score when none of them concerns it; a pod with required terms visits every
//! placed pod once at PreFilter, with preferred terms once more at PreScore.

use std::collections::BTreeMap;

use podlab_cluster::Pod;
use podlab_cluster::affinity::{LabelSelector, PodAffinityTerm, SchedulingTerms, WeightedPodAffinityTerm};

use crate::kube::plugin::{Plugin, PreScore, Status};
use crate::kube::snapshot::{NodeState, Snapshot};

/// Upstream's plugin name.
pub const NAME: &str = "InterPodAffinity";
/// `ErrReasonAffinityRulesNotMatch` (UnschedulableAndUnresolvable).
pub const ERR_AFFINITY_RULES: &str = "node(s) didn't match pod affinity rules";
/// `ErrReasonAntiAffinityRulesNotMatch` (Unschedulable).
pub const ERR_ANTI_AFFINITY_RULES: &str = "node(s) didn't match pod anti-affinity rules";
/// `ErrReasonExistingAntiAffinityRulesNotMatch` (Unschedulable).
pub const ERR_EXISTING_ANTI_AFFINITY_RULES: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
/// `framework.MaxNodeScore`.
const MAX_NODE_SCORE: i64 = 100;
/// The label the API server sets on every namespace to its name (`kubernetes.io/metadata.name`).
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Counts per topology pair (key, then value), the zero entries removed as upstream's
/// `topologyToMatchedTermCount` deletes them, so that emptiness means "no pair counts".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct PairCounts(BTreeMap<String, BTreeMap<String, i64>>);

impl PairCounts {
    /// `topologyToMatchedTermCount.update`: adds `delta` to the pair of `node`'s value of `key`,
    /// if the node has that label.
    fn update(&mut self, node: &NodeState, key: &str, delta: i64) {
        let Some(value) = node.spec.labels.get(key) else { return };
        let values = self.0.entry(key.to_owned()).or_default();
        let count = values.entry(value.clone()).or_insert(0);
        *count += delta;
        if *count == 0 {
            values.remove(value);
            if values.is_empty() {
                self.0.remove(key);
            }
        }
    }

    fn get(&self, key: &str, value: &str) -> i64 {
        self.0.get(key).and_then(|values| values.get(value)).copied().unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What PreFilter counted (upstream's `preFilterState`).
#[derive(Clone, Debug, Default)]
struct FilterState {
    /// Placed pods' required anti-affinity terms that match the incoming pod.
    existing_anti_affinity: PairCounts,
    /// Placed pods that match all of the incoming pod's required affinity terms.
    affinity: PairCounts,
    /// Placed pods that match each of the incoming pod's required anti-affinity terms.
    anti_affinity: PairCounts,
}

/// The InterPodAffinity plugin with its arguments (`InterPodAffinityArgs`) and this cycle's
/// state.
#[derive(Clone, Debug)]
pub struct InterPodAffinity {
    /// `hardPodAffinityWeight` (default 1): the score weight of a placed pod's *required*
    /// affinity term the incoming pod matches; 0 ignores them.
    pub hard_pod_affinity_weight: i32,
    /// `ignorePreferredTermsOfExistingPods` (default false): score only the incoming pod's own
    /// preferred terms.
    pub ignore_preferred_terms_of_existing_pods: bool,
    /// `None`: PreFilter said Skip (nothing to check), so every node passes.
    filter_state: Option<FilterState>,
    /// PreScore's `topologyScore`: weight sums per topology pair.
    topology_score: BTreeMap<String, BTreeMap<String, i64>>,
    /// The indices of the nodes that have placed pods with terms (upstream's
    /// `HavePodsWithAffinityList`), found by PreFilter's one pass over the nodes and reused by
    /// PreScore on the same snapshot.
    affinity_nodes: Vec<usize>,
    /// Which snapshot `affinity_nodes` describes: its address, its nodes' address and count.
    affinity_nodes_of: Option<(usize, usize, usize)>,
}

/// What tells one snapshot from another within a cycle: PreScore reuses PreFilter's list only
/// for the snapshot PreFilter saw (a snapshot changed in place between them would keep its
/// key, which no cycle does), and forgets it after.
fn snapshot_key(snapshot: &Snapshot) -> (usize, usize, usize) {
    (std::ptr::from_ref(snapshot) as usize, snapshot.nodes.as_ptr() as usize, snapshot.nodes.len())
}

impl Default for InterPodAffinity {
    fn default() -> Self {
        InterPodAffinity::new(1, false)
    }
}

fn terms_of(pod: &Pod) -> Option<&SchedulingTerms> {
    pod.terms.as_deref()
}

fn required_affinity(pod: &Pod) -> &[PodAffinityTerm] {
    terms_of(pod).map_or(&[], |t| &t.pod_affinity_required)
}

fn required_anti_affinity(pod: &Pod) -> &[PodAffinityTerm] {
    terms_of(pod).map_or(&[], |t| &t.pod_anti_affinity_required)
}

/// Whether `selector` selects namespace `namespace` by its labels (an empty selector selects
/// every namespace). A pod's namespace exists, and carries the name label the API server sets.
fn namespace_selected(selector: &LabelSelector, namespace: &str, snapshot: &Snapshot) -> bool {
    if selector.is_empty() {
        return true;
    }
    let mut labels = snapshot.namespace_labels.get(namespace).cloned().unwrap_or_default();
    labels.insert(NAMESPACE_NAME_LABEL.into(), namespace.into());
    selector.matches(&labels)
}

/// `fwk.AffinityTerm.Matches`: whether `target` lies in the term's namespaces and its labels
/// match the term's selector. `owner_namespace` is the namespace of the pod carrying the term,
/// the term's only namespace when it names none and has no namespace selector
/// (`getNamespacesFromPodAffinityTerm`). A namespace selector is evaluated on the target's
/// namespace: the same as upstream's merging of the incoming pod's selector into the list of
/// namespaces it selects (`mergeAffinityTermNamespacesIfNotEmpty`), and as its evaluation of a
/// placed pod's selector on the incoming pod's namespace labels.
pub fn term_matches(term: &PodAffinityTerm, owner_namespace: &str, target: &Pod, snapshot: &Snapshot) -> bool {
    // A nil label selector is `labels.Nothing()`.
    let Some(selector) = &term.label_selector else { return false };
    let in_namespace = if term.namespaces.is_empty() && term.namespace_selector.is_none() {
        target.namespace == owner_namespace
    } else {
        term.namespaces.iter().any(|n| *n == target.namespace)
            || term.namespace_selector.as_ref().is_some_and(|s| namespace_selected(s, &target.namespace, snapshot))
    };
    in_namespace && selector.matches(&target.labels)
}

/// `podMatchesAllAffinityTerms`: false for no terms.
fn matches_all(terms: &[PodAffinityTerm], owner_namespace: &str, target: &Pod, snapshot: &Snapshot) -> bool {
    !terms.is_empty() && terms.iter().all(|t| term_matches(t, owner_namespace, target, snapshot))
}

impl InterPodAffinity {
    /// The plugin with these arguments.
    pub fn new(hard_pod_affinity_weight: i32, ignore_preferred_terms_of_existing_pods: bool) -> InterPodAffinity {
        InterPodAffinity {
            hard_pod_affinity_weight,
            ignore_preferred_terms_of_existing_pods,
            filter_state: None,
            topology_score: BTreeMap::new(),
            affinity_nodes: Vec::new(),
            affinity_nodes_of: None,
        }
    }

    /// PreFilter's `updateWithPod`, upstream's AddPod (`delta` 1) and RemovePod (-1) for
    /// preemption's dry run: `other` placed on (or removed from) `node`, for `incoming`.
    pub fn update_with_pod(&mut self, incoming: &Pod, other: &Pod, node: &NodeState, snapshot: &Snapshot, delta: i64) {
        let Some(state) = &mut self.filter_state else { return };
        for term in required_anti_affinity(other) {
            if term_matches(term, &other.namespace, incoming, snapshot) {
                state.existing_anti_affinity.update(node, &term.topology_key, delta);
            }
        }
        count_incoming_terms(state, incoming, other, node, snapshot, delta);
    }

    /// Finds the nodes with placed pods that have terms, unless already found for `snapshot`:
    /// one read of a counter per node.
    fn find_affinity_nodes(&mut self, snapshot: &Snapshot) {
        if self.affinity_nodes_of == Some(snapshot_key(snapshot)) {
            return;
        }
        self.affinity_nodes.clear();
        let with_terms = snapshot.nodes.iter().enumerate().filter(|(_, n)| n.pods_with_affinity > 0);
        self.affinity_nodes.extend(with_terms.map(|(i, _)| i));
        self.affinity_nodes_of = Some(snapshot_key(snapshot));
    }

    /// `getExistingAntiAffinityCounts`: the placed pods' required anti-affinity terms that
    /// match `pod`, on the nodes that have such pods (a subset of the nodes with terms).
    fn existing_anti_affinity_counts(&self, pod: &Pod, snapshot: &Snapshot) -> PairCounts {
        let mut counts = PairCounts::default();
        let nodes = self.affinity_nodes.iter().map(|&i| &snapshot.nodes[i]);
        for node in nodes.filter(|n| n.pods_with_required_anti_affinity > 0) {
            for placed in &node.pods {
                for term in required_anti_affinity(&placed.pod) {
                    if term_matches(term, &placed.pod.namespace, pod, snapshot) {
                        counts.update(node, &term.topology_key, 1);
                    }
                }
            }
        }
        counts
    }

    /// PreScore's `processExistingPod`: every term between `placed` (on `node`) and `pod` that
    /// scores, added to the topology score; whether any did (upstream's non-empty `topoScore`).
    fn process_existing_pod(&mut self, pod: &Pod, placed: &Pod, node: &NodeState, snapshot: &Snapshot) -> bool {
        if node.spec.labels.is_empty() {
            return false;
        }
        let mut hit = false;
        if let Some(terms) = terms_of(pod) {
            hit |= self.process_weighted(&terms.pod_affinity_preferred, &pod.namespace, placed, node, snapshot, 1);
            hit |=
                self.process_weighted(&terms.pod_anti_affinity_preferred, &pod.namespace, placed, node, snapshot, -1);
        }
        let Some(terms) = terms_of(placed) else { return hit };
        if self.hard_pod_affinity_weight > 0 {
            for term in &terms.pod_affinity_required {
                hit |=
                    self.process_term(term, self.hard_pod_affinity_weight, &placed.namespace, pod, node, snapshot, 1);
            }
        }
        hit |= self.process_weighted(&terms.pod_affinity_preferred, &placed.namespace, pod, node, snapshot, 1);
        hit |= self.process_weighted(&terms.pod_anti_affinity_preferred, &placed.namespace, pod, node, snapshot, -1);
        hit
    }

    fn process_weighted(
        &mut self,
        terms: &[WeightedPodAffinityTerm],
        owner_namespace: &str,
        target: &Pod,
        node: &NodeState,
        snapshot: &Snapshot,
        multiplier: i32,
    ) -> bool {
        let mut hit = false;
        for t in terms {
            hit |= self.process_term(&t.term, t.weight, owner_namespace, target, node, snapshot, multiplier);
        }
        hit
    }

    /// `scoreMap.processTerm`: if `target` matches the term and `node` has its topology key,
    /// the pair gets `weight * multiplier`.
    #[allow(clippy::too_many_arguments)]
    fn process_term(
        &mut self,
        term: &PodAffinityTerm,
        weight: i32,
        owner_namespace: &str,
        target: &Pod,
        node: &NodeState,
        snapshot: &Snapshot,
        multiplier: i32,
    ) -> bool {
        if !term_matches(term, owner_namespace, target, snapshot) {
            return false;
        }
        let Some(value) = node.spec.labels.get(&term.topology_key) else { return false };
        let values = self.topology_score.entry(term.topology_key.clone()).or_default();
        *values.entry(value.clone()).or_insert(0) += i64::from(weight * multiplier);
        true
    }
}

/// The incoming pod's side of `updateWithPod` and of `getIncomingAffinityAntiAffinityCounts`:
/// `other` on `node` counted against `incoming`'s required affinity (if it matches them all)
/// and anti-affinity terms (each it matches).
fn count_incoming_terms(
    state: &mut FilterState,
    incoming: &Pod,
    other: &Pod,
    node: &NodeState,
    snapshot: &Snapshot,
    delta: i64,
) {
    let affinity = required_affinity(incoming);
    if matches_all(affinity, &incoming.namespace, other, snapshot) {
        for term in affinity {
            state.affinity.update(node, &term.topology_key, delta);
        }
    }
    for term in required_anti_affinity(incoming) {
        if term_matches(term, &incoming.namespace, other, snapshot) {
            state.anti_affinity.update(node, &term.topology_key, delta);
        }
    }
}

/// `satisfyPodAffinity`: every required affinity term's topology key on the node, and a
/// matching pod in each of the node's domains — or the first pod of a group affine to itself
/// (no pod anywhere matches, and the pod matches all its own terms).
fn satisfies_pod_affinity(state: &FilterState, pod: &Pod, node: &NodeState, snapshot: &Snapshot) -> bool {
    let terms = required_affinity(pod);
    let mut pods_exist = true;
    for term in terms {
        let Some(value) = node.spec.labels.get(&term.topology_key) else { return false };
        if state.affinity.get(&term.topology_key, value) <= 0 {
            pods_exist = false;
        }
    }
    pods_exist || (state.affinity.is_empty() && matches_all(terms, &pod.namespace, pod, snapshot))
}

/// `satisfyPodAntiAffinity`: no pod matching a required anti-affinity term in the node's domain.
fn satisfies_pod_anti_affinity(state: &FilterState, pod: &Pod, node: &NodeState) -> bool {
    if state.anti_affinity.is_empty() {
        return true;
    }
    required_anti_affinity(pod).iter().all(|term| {
        node.spec
            .labels
            .get(&term.topology_key)
            .is_none_or(|value| state.anti_affinity.get(&term.topology_key, value) <= 0)
    })
}

/// `satisfyExistingPodsAntiAffinity`: no placed pod's required anti-affinity term against the
/// incoming pod covers any of the node's topology pairs.
fn satisfies_existing_anti_affinity(state: &FilterState, node: &NodeState) -> bool {
    state.existing_anti_affinity.is_empty()
        || node.spec.labels.iter().all(|(key, value)| state.existing_anti_affinity.get(key, value) <= 0)
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        NAME
    }

    fn filters(&self) -> bool {
        true
    }

    fn scores(&self) -> bool {
        true
    }

    /// `PreFilter`: Skip (here: no state, every node passes) when no placed pod's required
    /// anti-affinity matches the pod and the pod has no required terms.
    fn pre_filter(&mut self, pod: &Pod, snapshot: &Snapshot) -> Result<(), Status> {
        self.filter_state = None;
        self.affinity_nodes_of = None;
        self.find_affinity_nodes(snapshot);
        let mut state = FilterState {
            existing_anti_affinity: self.existing_anti_affinity_counts(pod, snapshot),
            ..FilterState::default()
        };
        let has_required = !required_affinity(pod).is_empty() || !required_anti_affinity(pod).is_empty();
        if has_required {
            for node in &snapshot.nodes {
                for placed in &node.pods {
                    count_incoming_terms(&mut state, pod, &placed.pod, node, snapshot, 1);
                }
            }
        }
        if has_required || !state.existing_anti_affinity.is_empty() {
            self.filter_state = Some(state);
        }
        Ok(())
    }

    fn filter(&self, pod: &Pod, node: &NodeState, snapshot: &Snapshot) -> Result<(), Status> {
        let Some(state) = &self.filter_state else { return Ok(()) };
        if !satisfies_pod_affinity(state, pod, node, snapshot) {
            return Err(Status::unresolvable(ERR_AFFINITY_RULES));
        }
        if !satisfies_pod_anti_affinity(state, pod, node) {
            return Err(Status::unschedulable(ERR_ANTI_AFFINITY_RULES));
        }
        if !satisfies_existing_anti_affinity(state, node) {
            return Err(Status::unschedulable(ERR_EXISTING_ANTI_AFFINITY_RULES));
        }
        Ok(())
    }

    /// `PreScore`: with preferred terms of its own the pod is scored against every placed pod;
    /// without, only against the placed pods with terms. Skip when nothing scored.
    fn pre_score(&mut self, pod: &Pod, _feasible: &[&NodeState], snapshot: &Snapshot) -> PreScore {
        self.topology_score.clear();
        let has_preferred = terms_of(pod)
            .is_some_and(|t| !t.pod_affinity_preferred.is_empty() || !t.pod_anti_affinity_preferred.is_empty());
        if self.ignore_preferred_terms_of_existing_pods && !has_preferred {
            return PreScore::Skip;
        }
        let mut hit = false;
        if has_preferred {
            for node in &snapshot.nodes {
                for placed in &node.pods {
                    hit |= self.process_existing_pod(pod, &placed.pod, node, snapshot);
                }
            }
        } else {
            self.find_affinity_nodes(snapshot);
            let nodes = std::mem::take(&mut self.affinity_nodes);
            for node in nodes.iter().map(|&i| &snapshot.nodes[i]) {
                for placed in
                    node.pods.iter().filter(|p| terms_of(&p.pod).is_some_and(SchedulingTerms::has_pod_affinity))
                {
                    hit |= self.process_existing_pod(pod, &placed.pod, node, snapshot);
                }
            }
            self.affinity_nodes = nodes;
        }
        // The list served this cycle; the next starts with PreFilter's pass.
        self.affinity_nodes_of = None;
        if hit { PreScore::Run } else { PreScore::Skip }
    }

    /// `Score`: the sum of the topology score of each of the node's pairs.
    fn score(&self, _pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> i64 {
        self.topology_score
            .iter()
            .filter_map(|(key, values)| node.spec.labels.get(key).map(|v| values.get(v).copied().unwrap_or(0)))
            .sum()
    }

    /// `NormalizeScore`: `MaxNodeScore * (score - min) / (max - min)` in float64, truncated.
    fn normalize(&self, _pod: &Pod, scores: &mut [i64]) {
        if self.topology_score.is_empty() {
            return;
        }
        let min = scores.iter().copied().min().unwrap_or(i64::MAX);
        let max = scores.iter().copied().max().unwrap_or(i64::MIN);
        let diff = max - min;
        for score in scores.iter_mut() {
            let mut f = 0.0_f64;
            if diff > 0 {
                f = MAX_NODE_SCORE as f64 * ((*score - min) as f64 / diff as f64);
            }
            // Go's int64(float64) truncates toward zero.
            *score = f as i64;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use podlab_cluster::affinity::{LabelSelector, PodAffinityTerm, SchedulingTerms, WeightedPodAffinityTerm};
    use podlab_cluster::{Node, NodeId, Pod, Resources};

    use super::*;
    use crate::kube::plugin::Code;
    use crate::kube::snapshot::PlacedPod;

    const HOST: &str = "kubernetes.io/hostname";
    const ZONE: &str = "topology.kubernetes.io/zone";

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// A node `n-<i>` in `zone` (no zone label when `None`).
    fn node(i: u32, zone: Option<&str>) -> NodeState {
        let name = format!("n-{i}");
        let mut l = labels(&[(HOST, &name)]);
        if let Some(z) = zone {
            l.insert(ZONE.into(), z.into());
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
        NodeState::new(NodeId(i), Arc::new(spec))
    }

    fn app(value: &str) -> Option<LabelSelector> {
        Some(LabelSelector { match_labels: labels(&[("app", value)]), match_expressions: vec![] })
    }

    fn term(selector: &str, key: &str) -> PodAffinityTerm {
        PodAffinityTerm { label_selector: app(selector), topology_key: key.into(), ..PodAffinityTerm::default() }
    }

    fn weighted(weight: i32, selector: &str, key: &str) -> WeightedPodAffinityTerm {
        WeightedPodAffinityTerm { weight, term: term(selector, key) }
    }

    fn pod(name: &str, app_label: &str, terms: SchedulingTerms) -> Pod {
        let mut pod = Pod::single(name, Resources::default());
        let spec = Arc::make_mut(&mut pod.spec);
        spec.labels = labels(&[("app", app_label)]);
        if terms != SchedulingTerms::default() {
            spec.terms = Some(Box::new(terms));
        }
        pod
    }

    fn place(snapshot: &mut Snapshot, node: u32, pod: Pod) {
        let placed = PlacedPod { pod: Arc::new(pod), id: None, start: 0 };
        snapshot.node_mut(NodeId(node)).expect("node").add(placed);
    }

    fn cluster(zones: &[Option<&str>]) -> Snapshot {
        let nodes = zones.iter().enumerate().map(|(i, z)| node(i as u32, *z)).collect();
        Snapshot { nodes, ..Snapshot::default() }
    }

    /// Each node's verdict: `None` passes, else the code and the reason.
    fn verdicts(plugin: &mut InterPodAffinity, pod: &Pod, snapshot: &Snapshot) -> Vec<Option<(Code, String)>> {
        plugin.pre_filter(pod, snapshot).expect("pre_filter");
        snapshot
            .nodes
            .iter()
            .map(|n| plugin.filter(pod, n, snapshot).err().map(|s| (s.code, s.reasons[0].clone())))
            .collect()
    }

    /// PreScore, Score and NormalizeScore over every node; `None` when PreScore skips.
    fn scores(plugin: &mut InterPodAffinity, pod: &Pod, snapshot: &Snapshot) -> Option<Vec<i64>> {
        let feasible: Vec<&NodeState> = snapshot.nodes.iter().collect();
        if plugin.pre_score(pod, &feasible, snapshot) == PreScore::Skip {
            return None;
        }
        let mut raw: Vec<i64> = feasible.iter().map(|n| plugin.score(pod, n, snapshot)).collect();
        plugin.normalize(pod, &mut raw);
        Some(raw)
    }

    fn anti(reason: &str) -> Option<(Code, String)> {
        Some((Code::Unschedulable, reason.into()))
    }

    #[test]
    fn a_placed_pods_required_anti_affinity_keeps_matching_pods_off_its_domain() {
        let mut snapshot = cluster(&[Some("a"), Some("a"), Some("b")]);
        let db = SchedulingTerms { pod_anti_affinity_required: vec![term("web", ZONE)], ..Default::default() };
        place(&mut snapshot, 0, pod("db", "db", db));
        let mut plugin = InterPodAffinity::default();
        let web = pod("web", "web", SchedulingTerms::default());
        let existing = anti(ERR_EXISTING_ANTI_AFFINITY_RULES);
        assert_eq!(verdicts(&mut plugin, &web, &snapshot), vec![existing.clone(), existing, None]);
        // Another label is not concerned, and PreFilter skips: no state at all.
        let cache = pod("cache", "cache", SchedulingTerms::default());
        assert_eq!(verdicts(&mut plugin, &cache, &snapshot), vec![None, None, None]);
        assert!(plugin.filter_state.is_none());
    }

    #[test]
    fn required_affinity_needs_a_matching_pod_in_the_domain_and_the_label() {
        let mut snapshot = cluster(&[Some("a"), Some("a"), Some("b"), None]);
        place(&mut snapshot, 1, pod("cache", "cache", SchedulingTerms::default()));
        let terms = SchedulingTerms { pod_affinity_required: vec![term("cache", ZONE)], ..Default::default() };
        let web = pod("web", "web", terms);
        let mut plugin = InterPodAffinity::default();
        let unresolvable = Some((Code::UnschedulableAndUnresolvable, ERR_AFFINITY_RULES.to_string()));
        assert_eq!(verdicts(&mut plugin, &web, &snapshot), vec![None, None, unresolvable.clone(), unresolvable]);
    }

    #[test]
    fn the_first_pod_of_a_self_affine_group_goes_anywhere_with_the_label() {
        let mut snapshot = cluster(&[Some("a"), Some("b"), None]);
        let terms = SchedulingTerms { pod_affinity_required: vec![term("web", ZONE)], ..Default::default() };
        let web = pod("web-0", "web", terms.clone());
        let mut plugin = InterPodAffinity::default();
        let unresolvable = Some((Code::UnschedulableAndUnresolvable, ERR_AFFINITY_RULES.to_string()));
        assert_eq!(verdicts(&mut plugin, &web, &snapshot), vec![None, None, unresolvable.clone()]);
        // A pod that does not match its own terms waits for a matching pod.
        let other = pod("other", "other", terms.clone());
        assert_eq!(verdicts(&mut plugin, &other, &snapshot), vec![unresolvable.clone(); 3]);
        // Once one is placed, only its zone is open.
        place(&mut snapshot, 1, pod("web-0", "web", terms));
        assert_eq!(verdicts(&mut plugin, &web, &snapshot), vec![unresolvable.clone(), None, unresolvable]);
    }

    #[test]
    fn required_anti_affinity_of_the_incoming_pod() {
        let mut snapshot = cluster(&[Some("a"), Some("a"), Some("b")]);
        place(&mut snapshot, 0, pod("web-0", "web", SchedulingTerms::default()));
        let terms = SchedulingTerms { pod_anti_affinity_required: vec![term("web", HOST)], ..Default::default() };
        let web = pod("web-1", "web", terms);
        let mut plugin = InterPodAffinity::default();
        assert_eq!(verdicts(&mut plugin, &web, &snapshot), vec![anti(ERR_ANTI_AFFINITY_RULES), None, None]);
        // Preemption's dry run removes web-0 from n-0: the node is open again.
        let removed = snapshot.nodes[0].pods[0].pod.clone();
        plugin.update_with_pod(&web, &removed, &snapshot.nodes[0], &snapshot, -1);
        assert_eq!(plugin.filter(&web, &snapshot.nodes[0], &snapshot), Ok(()));
    }

    #[test]
    fn preferred_terms_of_the_incoming_pod_score_by_domain() {
        let mut snapshot = cluster(&[Some("a"), Some("a"), Some("b")]);
        place(&mut snapshot, 0, pod("web-0", "web", SchedulingTerms::default()));
        let terms = SchedulingTerms {
            pod_affinity_preferred: vec![weighted(10, "web", ZONE)],
            pod_anti_affinity_preferred: vec![weighted(5, "web", HOST)],
            ..Default::default()
        };
        let cache = pod("cache", "cache", terms);
        // Raw: n-0 10 - 5 = 5, n-1 10, n-2 0; min 0, max 10.
        assert_eq!(scores(&mut InterPodAffinity::default(), &cache, &snapshot), Some(vec![50, 100, 0]));
    }

    #[test]
    fn placed_pods_terms_score_the_incoming_pod_with_the_hard_weight() {
        let mut snapshot = cluster(&[Some("a"), Some("a"), Some("b")]);
        let terms = SchedulingTerms {
            pod_affinity_required: vec![term("web", ZONE)],
            pod_anti_affinity_preferred: vec![weighted(3, "web", HOST)],
            ..Default::default()
        };
        place(&mut snapshot, 0, pod("cache", "cache", terms));
        let web = pod("web", "web", SchedulingTerms::default());
        // Raw: n-0 1 - 3 = -2, n-1 1, n-2 0; min -2, diff 3: 0, 100, int(66.67) = 66.
        assert_eq!(scores(&mut InterPodAffinity::default(), &web, &snapshot), Some(vec![0, 100, 66]));
        // hardPodAffinityWeight 0 leaves only the preferred anti-affinity: -3, 0, 0.
        assert_eq!(scores(&mut InterPodAffinity::new(0, false), &web, &snapshot), Some(vec![0, 100, 100]));
        // ignorePreferredTermsOfExistingPods: the pod has no preferred terms, Skip.
        assert_eq!(scores(&mut InterPodAffinity::new(1, true), &web, &snapshot), None);
    }

    #[test]
    fn pre_score_skips_when_no_term_matches_anything() {
        let mut snapshot = cluster(&[Some("a"), Some("b")]);
        place(&mut snapshot, 0, pod("db", "db", SchedulingTerms::default()));
        let terms =
            SchedulingTerms { pod_anti_affinity_preferred: vec![weighted(50, "web", HOST)], ..Default::default() };
        assert_eq!(scores(&mut InterPodAffinity::default(), &pod("web", "web", terms), &snapshot), None);
        assert_eq!(
            scores(&mut InterPodAffinity::default(), &pod("x", "x", SchedulingTerms::default()), &snapshot),
            None
        );
    }

    #[test]
    fn terms_select_namespaces_by_name_or_labels() {
        let mut snapshot = cluster(&[Some("a"), Some("b")]);
        snapshot.namespace_labels.insert("other".into(), labels(&[("team", "x")]));
        let mut web = pod("web", "web", SchedulingTerms::default());
        Arc::make_mut(&mut web.spec).namespace = "other".into();
        place(&mut snapshot, 0, web);
        let with = |t: PodAffinityTerm| SchedulingTerms {
            pod_affinity_preferred: vec![WeightedPodAffinityTerm { weight: 7, term: t }],
            ..Default::default()
        };
        let mut plugin = InterPodAffinity::default();
        // The term's own namespace (default) has no web pod.
        assert_eq!(scores(&mut plugin, &pod("c", "c", with(term("web", ZONE))), &snapshot), None);
        let named = PodAffinityTerm { namespaces: vec!["other".into()], ..term("web", ZONE) };
        assert_eq!(scores(&mut plugin, &pod("c", "c", with(named)), &snapshot), Some(vec![100, 0]));
        let team = LabelSelector { match_labels: labels(&[("team", "x")]), match_expressions: vec![] };
        let by_labels = PodAffinityTerm { namespace_selector: Some(team), ..term("web", ZONE) };
        assert_eq!(scores(&mut plugin, &pod("c", "c", with(by_labels)), &snapshot), Some(vec![100, 0]));
        let by_name =
            LabelSelector { match_labels: labels(&[(NAMESPACE_NAME_LABEL, "other")]), match_expressions: vec![] };
        let by_name = PodAffinityTerm { namespace_selector: Some(by_name), ..term("web", ZONE) };
        assert_eq!(scores(&mut plugin, &pod("c", "c", with(by_name)), &snapshot), Some(vec![100, 0]));
        let every = PodAffinityTerm { namespace_selector: Some(LabelSelector::default()), ..term("web", ZONE) };
        assert_eq!(scores(&mut plugin, &pod("c", "c", with(every)), &snapshot), Some(vec![100, 0]));
    }
}
