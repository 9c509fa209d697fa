//! The scheduler controller's side of preemption: upstream's nominator (which pending pods
//! are nominated to which nodes, `pkg/scheduler/backend/queue/nominator.go`), the victims
//! still terminating, the PodDisruptionBudgets' status as the disruption controller would
//! report it from the scheduler's cache, and the PostFilter that puts them together after a
//! cycle with no feasible node (`schedule_one.go`'s `schedulingCycle` and
//! `handleSchedulingFailure`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use podlab_cluster::{Action, NodeId, Pod, PodId};
use rand_core::Rng;

use super::cycle::CycleResult;
use super::plugin::Status;
use super::preemption::{self, Args, Inputs, NotPreempted, Preemption};
use super::profile::Profile;
use super::snapshot::{PlacedPod, Snapshot};

/// DynamicResources' PostFilter for a pod without resource claims: it runs before
/// DefaultPreemption in the default profile and its message comes first.
pub const NO_CLAIMS: &str = "no new claims to deallocate";

/// What PostFilter made of a failed cycle.
#[derive(Clone, Debug)]
pub struct PostFilter {
    /// The preemption to carry out (the pod is nominated once the action is sent).
    pub preemption: Option<Preemption>,
    /// The PostFilter plugins' message, appended after the cycle's `0/N nodes are
    /// available: …` (`FitError.Error`'s `PostFilterMsg`); empty when preemption succeeded —
    /// and, unlike upstream, when no candidate node holds a pod of lower priority, so that a
    /// run without priorities logs the messages it logged before preemption was modelled.
    pub message: String,
}

/// The scheduler's preemption books.
#[derive(Default)]
pub struct Nominator {
    pub args: Args,
    /// Pods nominated to a node by their preemption and not bound yet, as they would be
    /// placed there.
    nominated: BTreeMap<PodId, (NodeId, PlacedPod)>,
    /// Pods deleted by a preemption and not gone yet.
    terminating: BTreeSet<PodId>,
    /// How many placed pods have each priority: a pod with no placed pod below it has nothing
    /// to preempt, which PostFilter then knows without a look at any node.
    priorities: BTreeMap<i32, u64>,
}

impl Nominator {
    pub fn new(args: Args) -> Nominator {
        Nominator { args, ..Nominator::default() }
    }

    /// The node a pod is nominated to (its `status.nominatedNodeName`).
    pub fn nominated_node(&self, pod: PodId) -> Option<NodeId> {
        self.nominated.get(&pod).map(|(node, _)| *node)
    }

    /// A pod of this priority was placed on a node (bound or assumed).
    pub fn placed(&mut self, priority: i32) {
        *self.priorities.entry(priority).or_default() += 1;
    }

    /// A pod of this priority left its node.
    pub fn unplaced(&mut self, priority: i32) {
        if let Some(count) = self.priorities.get_mut(&priority) {
            *count -= 1;
            if *count == 0 {
                self.priorities.remove(&priority);
            }
        }
    }

    /// Whether any placed pod has a priority below this one.
    pub fn any_placed_below(&self, priority: i32) -> bool {
        self.priorities.keys().next().is_some_and(|&lowest| lowest < priority)
    }

    /// Whether any pod is nominated (most runs never preempt: the callers skip their work).
    pub fn is_empty(&self) -> bool {
        self.nominated.is_empty()
    }

    /// The pods nominated to nodes other than `pod` whose priority is at least `pod`'s: what
    /// `addGENominatedPods` places on their nodes before a filter runs for `pod`.
    pub fn nominated_for(&self, pod: PodId, spec: &Pod) -> Vec<(NodeId, PlacedPod)> {
        self.nominated
            .iter()
            .filter(|(id, (_, p))| **id != pod && p.pod.priority >= spec.priority)
            .map(|(_, entry)| entry.clone())
            .collect()
    }

    /// Every nominated pod on its node, in pod order (what the cycles' filters read).
    pub fn nominated_pods(&self) -> Vec<(NodeId, PlacedPod)> {
        self.nominated.values().cloned().collect()
    }

    /// Whether a preemption deleted this pod and it has not gone yet.
    pub fn is_terminating(&self, pod: PodId) -> bool {
        self.terminating.contains(&pod)
    }

    /// The pod is bound, gone, or its victim is: it is nominated nowhere and terminates no
    /// more (upstream clears the nomination at binding, `ClearingNominatedNodeNameAfterBinding`).
    pub fn forget(&mut self, pod: PodId) {
        self.nominated.remove(&pod);
        self.terminating.remove(&pod);
    }

    /// DefaultPreemption after a cycle of `pod` that found no feasible node, on the snapshot
    /// the cycle ran on; `pending` are the other pods that exist and are not placed (for the
    /// PodDisruptionBudgets' expected pods). A pod that finds no candidate loses its
    /// nomination (upstream nominates it to `""`); one not eligible keeps it.
    #[allow(clippy::too_many_arguments)]
    pub fn post_filter<'p>(
        &mut self,
        profile: &mut Profile,
        pod: PodId,
        spec: &Pod,
        cycle: &CycleResult,
        snapshot: &Snapshot,
        pending: impl IntoIterator<Item = &'p Pod>,
        rng: &mut impl Rng,
    ) -> PostFilter {
        if !profile.preemption {
            // DefaultPreemption disabled at PostFilter: DynamicResources' is the only one.
            return PostFilter { preemption: None, message: NO_CLAIMS.into() };
        }
        if !self.any_placed_below(spec.priority) {
            // Nothing placed to preempt: what the dry run would find without looking.
            self.nominated.remove(&pod);
            return PostFilter { preemption: None, message: String::new() };
        }
        let allowed = self.disruptions_allowed(snapshot, pending);
        let terminating: Vec<PodId> = self.terminating.iter().copied().collect();
        let nominated_pods = self.nominated_for(pod, spec);
        let inputs = Inputs {
            args: self.args,
            disruptions_allowed: &allowed,
            nominated_node: self.nominated_node(pod),
            terminating: &terminating,
            nominated_pods: &nominated_pods,
        };
        match preemption::preempt(profile, spec, cycle, snapshot, &inputs, rng) {
            Ok(preemption) => PostFilter { preemption: Some(preemption), message: String::new() },
            Err(NotPreempted::NothingLower { .. }) => {
                self.nominated.remove(&pod);
                PostFilter { preemption: None, message: String::new() }
            }
            Err(why) => {
                if matches!(why, NotPreempted::NoCandidate { .. }) {
                    self.nominated.remove(&pod);
                }
                PostFilter { preemption: None, message: format!("{NO_CLAIMS}, {}", why.message()) }
            }
        }
    }

    /// Carries out a preemption (`prepareCandidateAsync`): `pod` is nominated to the node, its
    /// victims terminate, and the pods of lower priority nominated to that node lose their
    /// nomination (`getLowerPriorityNominatedPods`, `clearNominatedNodeName`) — returned, as
    /// upstream moves them to the active queue. The action deletes the victims.
    pub fn nominate(&mut self, pod: PodId, spec: Arc<Pod>, preemption: &Preemption) -> (Action, Vec<PodId>) {
        let node = preemption.node;
        let cleared: Vec<PodId> = self
            .nominated
            .iter()
            .filter(|(id, (n, p))| **id != pod && *n == node && p.pod.priority < spec.priority)
            .map(|(id, _)| *id)
            .collect();
        for id in &cleared {
            self.nominated.remove(id);
        }
        // A nominated pod has not started: it counts as starting last (`GetPodStartTime`).
        self.nominated.insert(pod, (node, PlacedPod { pod: spec, id: Some(pod), start: u64::MAX }));
        let victims: Vec<PodId> = preemption.victims.iter().filter_map(|v| v.id).collect();
        self.terminating.extend(victims.iter().copied());
        (Action::Preempt { pod, node, victims }, cleared)
    }

    /// Each PodDisruptionBudget's `disruptionsAllowed` from the scheduler's cache, as the
    /// disruption controller computes it: the placed pods that are not terminating are the
    /// healthy ones, the placed and `pending` pods the existing ones, and a controller's
    /// scale the number of its existing pods (a controller at rest has as many as it wants).
    pub fn disruptions_allowed<'p>(&self, snapshot: &Snapshot, pending: impl IntoIterator<Item = &'p Pod>) -> Vec<i32> {
        if snapshot.pdbs.is_empty() {
            return Vec::new();
        }
        let mut pods: Vec<(&Pod, bool)> =
            snapshot.placed().map(|(_, p)| (&*p.pod, !p.id.is_some_and(|id| self.terminating.contains(&id)))).collect();
        pods.extend(pending.into_iter().map(|p| (p, false)));
        let scale = |owner: &str| {
            let count = pods.iter().filter(|(p, _)| p.owner.as_deref() == Some(owner)).count();
            i32::try_from(count).ok()
        };
        snapshot.pdbs.iter().map(|pdb| preemption::disruptions_allowed(pdb, pods.iter().copied(), scale)).collect()
    }

    /// `evaluateNominatedNode`: a nominated pod's cycle tries its nominated node first, with
    /// the other nominated pods of at least its priority; `Ok` means the node takes it.
    pub fn try_nominated_node(
        &self,
        profile: &mut Profile,
        pod: PodId,
        spec: &Pod,
        snapshot: &Snapshot,
    ) -> Option<Result<NodeId, Status>> {
        let node = self.nominated_node(pod)?;
        let others = self.nominated_for(pod, spec);
        Some(preemption::nominated_node_fits(profile, spec, snapshot, node, &others).map(|()| node))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use podlab_cluster::affinity::{IntOrPercent, LabelSelector, PodDisruptionBudget};
    use podlab_cluster::{Node, Resources};

    use super::*;
    use crate::kube::cycle;
    use crate::kube::plugin::Plugin;
    use crate::kube::profile::Entry;
    use crate::kube::snapshot::NodeState;

    /// A CPU-only fit filter.
    struct CpuFit;

    impl Plugin for CpuFit {
        fn name(&self) -> &'static str {
            "CpuFit"
        }
        fn filters(&self) -> bool {
            true
        }
        fn filter(&self, pod: &Pod, node: &NodeState, _: &Snapshot) -> Result<(), Status> {
            if pod.requests.cpu_milli + node.requested.cpu_milli > node.spec.allocatable.cpu_milli {
                Err(Status::unschedulable("Insufficient cpu"))
            } else {
                Ok(())
            }
        }
    }

    fn profile() -> Profile {
        Profile::new("default-scheduler", vec![Entry { plugin: Box::new(CpuFit), weight: 1 }])
    }

    fn pod(name: &str, cpu: u64, priority: i32) -> Arc<Pod> {
        let mut p = Pod::single(name, Resources::new(cpu, 0));
        p.priority = priority;
        p.labels = [("app".to_string(), name.trim_end_matches(char::is_numeric).to_string())].into();
        Arc::new(p)
    }

    fn node(i: u32, cpu: u64, pods: &[(u32, &Arc<Pod>)]) -> NodeState {
        let spec = Node {
            name: format!("n-{i}"),
            labels: BTreeMap::new(),
            taints: vec![],
            allocatable: Resources::new(cpu, 1 << 40),
            max_pods: 110,
            unschedulable: false,
            images: vec![],
        };
        let mut n = NodeState::new(NodeId(i), Arc::new(spec));
        for &(id, p) in pods {
            n.add(PlacedPod { pod: p.clone(), id: Some(PodId(id)), start: u64::from(id) });
        }
        n
    }

    fn budget(app: &str, min: i32) -> PodDisruptionBudget {
        PodDisruptionBudget {
            namespace: "default".into(),
            name: app.into(),
            selector: LabelSelector {
                match_labels: [("app".to_string(), app.to_string())].into(),
                ..Default::default()
            },
            min_available: Some(IntOrPercent::Int(min)),
            max_unavailable: None,
        }
    }

    /// A preemption nominates the pod, marks its victims terminating, and a second attempt
    /// waits for them rather than preempting again; once they are gone it goes to its node.
    #[test]
    fn a_preemptor_waits_for_its_victims_then_takes_its_node() {
        let (low, high) = (pod("low", 2000, 0), pod("high", 2000, 10));
        let s = Snapshot { nodes: vec![node(0, 2000, &[(1, &low)])], ..Snapshot::default() };
        let (mut profile, mut nominator, mut rng) =
            (profile(), Nominator::default(), podlab_cluster::rng::stream(1, "t"));
        nominator.placed(low.priority);
        let result = cycle::run(&mut profile, &high, &s);
        let post = nominator.post_filter(&mut profile, PodId(2), &high, &result, &s, [], &mut rng);
        let preemption = post.preemption.expect("low is in the way");
        let (action, cleared) = nominator.nominate(PodId(2), high.clone(), &preemption);
        assert_eq!(action, Action::Preempt { pod: PodId(2), node: NodeId(0), victims: vec![PodId(1)] });
        assert!(cleared.is_empty() && nominator.is_terminating(PodId(1)));
        assert_eq!(nominator.nominated_node(PodId(2)), Some(NodeId(0)));
        // Retried while the victim terminates: the node refuses it and it preempts nothing more.
        assert!(matches!(nominator.try_nominated_node(&mut profile, PodId(2), &high, &s), Some(Err(_))));
        let again = nominator.post_filter(&mut profile, PodId(2), &high, &result, &s, [], &mut rng);
        assert!(again.preemption.is_none());
        assert_eq!(
            again.message,
            "no new claims to deallocate, preemption: not eligible due to a terminating pod on the nominated node."
        );
        // The victim is gone.
        nominator.forget(PodId(1));
        let empty = Snapshot { nodes: vec![node(0, 2000, &[])], ..Snapshot::default() };
        assert_eq!(nominator.try_nominated_node(&mut profile, PodId(2), &high, &empty), Some(Ok(NodeId(0))));
        // A pod of lower priority must leave the nominated room alone; one of higher may not.
        let small = pod("small", 1000, 5);
        let others = nominator.nominated_for(PodId(3), &small);
        assert_eq!(others.len(), 1);
        assert!(nominator.nominated_for(PodId(3), &pod("top", 1000, 20)).is_empty());
        nominator.forget(PodId(2));
        assert!(nominator.is_empty());
    }

    /// A nomination to a node clears the lower-priority pods nominated there.
    #[test]
    fn a_nomination_clears_lower_ones_on_its_node() {
        let mut nominator = Nominator::default();
        let victim = PlacedPod { pod: pod("v", 1, 0), id: Some(PodId(9)), start: 0 };
        let on =
            |node| Preemption { node: NodeId(node), victims: vec![victim.clone()], pdb_violations: 0, candidates: 1 };
        nominator.nominate(PodId(1), pod("a", 1, 5), &on(0));
        nominator.nominate(PodId(2), pod("b", 1, 50), &on(1));
        let (_, cleared) = nominator.nominate(PodId(3), pod("c", 1, 10), &on(0));
        assert_eq!(cleared, vec![PodId(1)]);
        assert_eq!(nominator.nominated_node(PodId(2)), Some(NodeId(1)));
    }

    /// A cycle where no node can be helped clears the nomination and says why — unless no
    /// node even holds a pod of lower priority, when PostFilter adds nothing to the message.
    #[test]
    fn no_candidate_clears_the_nomination() {
        let (peer, low) = (pod("peer", 1500, 10), pod("low", 500, 0));
        let s = Snapshot { nodes: vec![node(0, 2000, &[(1, &peer), (3, &low)])], ..Snapshot::default() };
        let (mut profile, mut nominator, mut rng) =
            (profile(), Nominator::default(), podlab_cluster::rng::stream(1, "t"));
        nominator.placed(peer.priority);
        nominator.placed(low.priority);
        let p = pod("p", 2000, 10);
        let victim = PlacedPod { pod: pod("v", 1, 0), id: Some(PodId(9)), start: 0 };
        let earlier = Preemption { node: NodeId(0), victims: vec![victim], pdb_violations: 0, candidates: 1 };
        nominator.nominate(PodId(2), p.clone(), &earlier);
        nominator.forget(PodId(9));
        let result = cycle::run(&mut profile, &p, &s);
        let post = nominator.post_filter(&mut profile, PodId(2), &p, &result, &s, [], &mut rng);
        assert!(post.preemption.is_none());
        assert_eq!(
            post.message,
            "no new claims to deallocate, preemption: 0/1 nodes are available: 1 Insufficient cpu."
        );
        assert_eq!(nominator.nominated_node(PodId(2)), None);
        nominator.unplaced(low.priority);
        assert!(!nominator.any_placed_below(10));
        let peers = Snapshot { nodes: vec![node(0, 2000, &[(1, &peer)])], ..Snapshot::default() };
        let result = cycle::run(&mut profile, &p, &peers);
        let post = nominator.post_filter(&mut profile, PodId(2), &p, &result, &peers, [], &mut rng);
        assert!(post.preemption.is_none() && post.message.is_empty());
    }

    /// A profile without DefaultPreemption at PostFilter preempts nothing; DynamicResources'
    /// PostFilter is the only message.
    #[test]
    fn a_profile_without_default_preemption_preempts_nothing() {
        let low = pod("low", 2000, 0);
        let s = Snapshot { nodes: vec![node(0, 2000, &[(1, &low)])], ..Snapshot::default() };
        let (mut profile, mut nominator, mut rng) =
            (profile(), Nominator::default(), podlab_cluster::rng::stream(1, "t"));
        nominator.placed(low.priority);
        profile.preemption = false;
        let high = pod("high", 2000, 10);
        let result = cycle::run(&mut profile, &high, &s);
        let post = nominator.post_filter(&mut profile, PodId(2), &high, &result, &s, [], &mut rng);
        assert!(post.preemption.is_none());
        assert_eq!(post.message, NO_CLAIMS);
    }

    /// The budgets' status from the cache: terminating pods are not healthy; pending ones are
    /// expected.
    #[test]
    fn budgets_from_the_cache() {
        let (db1, db2, db3) = (pod("db1", 1, 0), pod("db2", 1, 0), pod("db3", 1, 0));
        let s = Snapshot {
            nodes: vec![node(0, 10_000, &[(1, &db1), (2, &db2)])],
            pdbs: vec![budget("db", 1), budget("web", 0)],
            ..Snapshot::default()
        };
        let mut nominator = Nominator::default();
        assert_eq!(nominator.disruptions_allowed(&s, [&*db3]), vec![1, 0]);
        let victim = PlacedPod { pod: db1.clone(), id: Some(PodId(1)), start: 1 };
        nominator.nominate(
            PodId(5),
            pod("x", 1, 9),
            &Preemption { node: NodeId(0), victims: vec![victim], pdb_violations: 0, candidates: 1 },
        );
        assert_eq!(nominator.disruptions_allowed(&s, [&*db3]), vec![0, 0]);
    }
}
