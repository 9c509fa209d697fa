//! An independent checker of the cluster's invariants. It rebuilds the cluster's state from the
//! records alone — not from the backend's books — so a bookkeeping bug in the backend cannot
//! hide itself. Tests run it after every record.

use std::collections::BTreeMap;

use podlab_cluster::gpu::{GpuDemand, GpuPick, GpuSlots, MILLI_PER_GPU};
use podlab_cluster::objects::{Taint, TaintEffect};
use podlab_cluster::scenario::Scenario;
use podlab_cluster::{
    ControllerId, Node, NodeId, Note, Part, Phase, PodId, Record, Resources, SimDuration, SimTime, Stamped,
};

/// The taint kube-scheduler's NodeUnschedulable filter asks a pod to tolerate on a cordoned
/// node.
const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

#[derive(Default)]
pub struct Invariants {
    node_used: Vec<Resources>,
    node_parts: Vec<u64>,
    node_added: Vec<bool>,
    /// Per-GPU free milli-GPU of each node with GPUs, from the records alone.
    node_gpus: Vec<Option<GpuSlots>>,
    /// The GPUs each running part holds, and on which node.
    gpu_held: BTreeMap<(PodId, Part), GpuPick>,
    created: Vec<bool>,
    bound: BTreeMap<(PodId, Part), NodeId>,
    ended: BTreeMap<(PodId, Part), Phase>,
    /// Gang members waiting at Permit: since when, and how long they may wait, and which
    /// scheduler holds them.
    reserved: BTreeMap<PodId, (SimTime, SimDuration, ControllerId)>,
    /// Mesos offers not yet answered or rescinded, what each locks, and which master made it.
    offered: BTreeMap<u64, (Resources, ControllerId)>,
    /// Whether a gang's reservations must end within its timeout. Not with a modelled control
    /// plane: a gang allowed at Permit holds its reservations until its bindings commit, and a
    /// slow or failing apiserver can take longer than the timeout to commit them.
    reservation_deadline: bool,
    /// Pods deleted before they were bound: none may bind later.
    deleted: std::collections::BTreeSet<PodId>,
    /// Per node, what closes it from the start of the run: cordoned, and its NoSchedule and
    /// NoExecute taints not changed since (see [`Invariants::filters_allow`]).
    closed: Vec<Closed>,
}

/// What kept a node closed to new pods from the start of the run, as the loaded scenario had
/// it.
#[derive(Clone, Default)]
struct Closed {
    cordoned: bool,
    taints: Vec<Taint>,
}

impl Invariants {
    pub fn new(scenario: &Scenario) -> Invariants {
        Invariants {
            node_used: vec![Resources::default(); scenario.nodes.len()],
            node_parts: vec![0; scenario.nodes.len()],
            node_added: vec![false; scenario.nodes.len()],
            node_gpus: scenario.nodes.iter().map(|n| GpuSlots::for_node(n)).collect(),
            created: vec![false; scenario.pods.len()],
            reservation_deadline: scenario.control_plane.is_none(),
            closed: scenario
                .nodes
                .iter()
                .map(|n| Closed {
                    cordoned: n.unschedulable,
                    taints: n.taints.iter().filter(|t| t.effect != TaintEffect::PreferNoSchedule).cloned().collect(),
                })
                .collect(),
            ..Invariants::default()
        }
    }

    /// Whether kube-scheduler's filters let this pod onto this node: NodeUnschedulable (a
    /// cordon, unless tolerated) and TaintToleration (every NoSchedule and NoExecute taint
    /// tolerated). Every policy is held to this rule; the Omega paper's schedulers keep off
    /// closed nodes whatever a pod tolerates, which is stricter and passes. (NodeAffinity is
    /// not checked yet: the Omega-paper models do not read `nodeSelector` or node affinity.) A pod with `spec.nodeName` is exempt: no
    /// scheduler placed it. Taints and cordons count only as the scenario had them at the
    /// start and until a record changes them: a taint added during the run races with
    /// decisions already in flight (a real scheduler's cache is behind too).
    fn filters_allow(&self, scenario: &Scenario, pod: PodId, node: NodeId) -> Result<(), String> {
        if scenario.pods.node_name(pod).is_some() {
            return Ok(());
        }
        let spec = scenario.pods.spec(pod);
        let n: &Node = &scenario.nodes[node.index()];
        let who = || format!("pod {} bound to node {}", scenario.pods.get(pod).key(), n.name);
        let closed = &self.closed[node.index()];
        let cordon = Taint { key: UNSCHEDULABLE_TAINT.into(), value: String::new(), effect: TaintEffect::NoSchedule };
        if closed.cordoned && !spec.tolerations.iter().any(|t| t.tolerates(&cordon)) {
            return Err(format!("{}, which is cordoned (spec.unschedulable): NodeUnschedulable forbids it", who()));
        }
        if let Some(t) = closed.taints.iter().find(|t| !spec.tolerations.iter().any(|tol| tol.tolerates(t))) {
            let value = if t.value.is_empty() { String::new() } else { format!("={}", t.value) };
            return Err(format!(
                "{}, whose taint {}{value}:{:?} it does not tolerate: TaintToleration forbids it",
                who(),
                t.key,
                t.effect
            ));
        }
        Ok(())
    }

    /// Checks one record against the state so far: no node over-committed, no part bound twice
    /// or to a node that is not there, nothing ending that was not running, no gang holding
    /// reservations past its timeout.
    pub fn observe(&mut self, scenario: &Scenario, stamped: &Stamped) -> Result<(), String> {
        self.apply(scenario, stamped)?;
        if matches!(stamped.record, Record::Bound { .. } | Record::Note { note: Note::Offered { .. }, .. })
            && !self.offered.is_empty()
        {
            self.offers_disjoint(scenario)?;
        }
        // A gang is complete or holds nothing past its timeout. The timeout counts from the
        // first member's wait, so no member waits longer than the timeout itself.
        if let Some((pod, (since, timeout, _))) = self
            .reserved
            .iter()
            .find(|(_, (since, timeout, _))| self.reservation_deadline && stamped.time.since(*since) > *timeout)
        {
            return Err(format!(
                "pod {} has held its reservation since {since}, past its gang's {timeout} timeout",
                scenario.pods.get(*pod).key()
            ));
        }
        Ok(())
    }

    /// Offers are disjoint and within free capacity: what outstanding offers lock, plus what
    /// runs, fits in the joined nodes. (Offer notes carry totals, not nodes, so this is the
    /// cell-wide form; per node, the backend's fit check still refuses any over-commit.) A
    /// binding into resources still offered to a framework breaks it too.
    fn offers_disjoint(&self, scenario: &Scenario) -> Result<(), String> {
        let mut locked = Resources::default();
        for (r, _) in self.offered.values() {
            locked.add(r);
        }
        let mut capacity = Resources::default();
        let mut committed = locked.clone();
        for (i, node) in scenario.nodes.iter().enumerate() {
            if self.node_added[i] {
                capacity.add(&node.allocatable);
                committed.add(&self.node_used[i]);
            }
        }
        match committed.first_shortfall(&capacity) {
            Some(resource) => {
                Err(format!("offers lock {locked} while {} runs: more {resource} than the cell's {capacity}", {
                    let mut used = committed.clone();
                    used.sub(&locked);
                    used
                }))
            }
            None => Ok(()),
        }
    }

    /// A bound part's GPUs, placed by the rule every component applies, then checked here
    /// against the checker's own per-GPU books: k whole GPUs are k wholly free GPUs; a share
    /// is one GPU with room for it. No GPU ever gives more than 1000 milli-GPU.
    fn take_gpus(&mut self, scenario: &Scenario, pod: PodId, part: Part, node: NodeId) -> Result<(), String> {
        let demand = GpuDemand::of(&scenario.pods.get(pod), part);
        if demand.is_none() {
            return Ok(());
        }
        let name = &scenario.nodes[node.index()].name;
        let who = scenario.pods.get(pod).key();
        let Some(slots) = self.node_gpus[node.index()].as_mut() else {
            return Err(format!("pod {who} needs GPUs ({} milli) on node {name}, which has none", demand.milli()));
        };
        let Some(pick) = slots.pick(demand) else {
            return Err(format!(
                "node {name} over-committed on GPUs: pod {who} needs {} milli-GPU, free per GPU {:?}",
                demand.milli(),
                slots.free_milli
            ));
        };
        let gpus = pick.gpu_mask.count_ones();
        let (want_gpus, want_each) =
            if demand.whole_gpus > 0 { (demand.whole_gpus, MILLI_PER_GPU) } else { (1, demand.share_milli) };
        if gpus != want_gpus || pick.milli_each != want_each {
            return Err(format!("pod {who} on node {name} got {gpus} GPUs of {} milli", pick.milli_each));
        }
        for i in pick.gpus() {
            let free = slots.free_milli.get(i).copied().unwrap_or(0);
            if free < pick.milli_each {
                return Err(format!(
                    "node {name} GPU {i} over-committed: {} milli asked, {free} free",
                    pick.milli_each
                ));
            }
            slots.free_milli[i] = free - pick.milli_each;
        }
        self.gpu_held.insert((pod, part), pick);
        Ok(())
    }

    /// A part bound: to a created, undeleted pod, once, on a node that joined, that the
    /// filters allow and that it fits.
    fn bind(&mut self, scenario: &Scenario, pod: PodId, part: Part, node: NodeId) -> Result<(), String> {
        let pod_name = |p: PodId| scenario.pods.get(p).key();
        if !self.created[pod.index()] {
            return Err(format!("pod {} bound before it was created", pod_name(pod)));
        }
        if self.deleted.contains(&pod) {
            return Err(format!("pod {} bound after it was deleted", pod_name(pod)));
        }
        if !self.node_added[node.index()] {
            return Err(format!(
                "pod {} bound to node {} before it joined",
                pod_name(pod),
                scenario.nodes[node.index()].name
            ));
        }
        let of_pod = (pod, Part::Whole)..=(pod, Part::Container(u16::MAX));
        let clash = self
            .bound
            .range(of_pod.clone())
            .map(|(k, _)| k)
            .chain(self.ended.range(of_pod).map(|(k, _)| k))
            .any(|(_, q)| *q == part || *q == Part::Whole || part == Part::Whole);
        if clash {
            return Err(format!("pod {} part {:?} bound twice", pod_name(pod), part));
        }
        self.filters_allow(scenario, pod, node)?;
        self.bound.insert((pod, part), node);
        self.reserved.remove(&pod);
        let spec = &scenario.nodes[node.index()];
        let used = &mut self.node_used[node.index()];
        used.add(scenario.pods.spec(pod).part_requests(part));
        self.node_parts[node.index()] += 1;
        if let Some(resource) = used.first_shortfall(&spec.allocatable) {
            return Err(format!("node {} over-committed on {resource}: {used} > {}", spec.name, spec.allocatable));
        }
        if self.node_parts[node.index()] > spec.max_pods {
            return Err(format!("node {} runs more than its {} pods", spec.name, spec.max_pods));
        }
        self.take_gpus(scenario, pod, part, node)?;
        Ok(())
    }

    /// A part ended: it ran on that node; its resources and GPUs are free again.
    fn end(&mut self, scenario: &Scenario, pod: PodId, part: Part, node: NodeId, phase: Phase) -> Result<(), String> {
        let pod_name = |p: PodId| scenario.pods.get(p).key();
        match self.bound.remove(&(pod, part)) {
            Some(n) if n == node => {}
            _ => {
                return Err(format!("pod {} part {:?} ended on {} without running there", pod_name(pod), part, node.0));
            }
        }
        self.node_used[node.index()].sub(scenario.pods.spec(pod).part_requests(part));
        self.node_parts[node.index()] -= 1;
        if let (Some(pick), Some(slots)) = (self.gpu_held.remove(&(pod, part)), self.node_gpus[node.index()].as_mut()) {
            slots.give(pick);
        }
        self.ended.insert((pod, part), phase);
        Ok(())
    }

    fn apply(&mut self, scenario: &Scenario, stamped: &Stamped) -> Result<(), String> {
        let pod_name = |p: PodId| scenario.pods.get(p).key();
        match &stamped.record {
            Record::NodeAdded { node } => self.node_added[node.index()] = true,
            Record::PodCreated { pod } => {
                // Controllers create pods during the run.
                if self.created.len() <= pod.index() {
                    self.created.resize(pod.index() + 1, false);
                }
                if std::mem::replace(&mut self.created[pod.index()], true) {
                    return Err(format!("pod {} created twice", pod_name(*pod)));
                }
            }
            Record::Bound { pod, part, node } => self.bind(scenario, *pod, *part, *node)?,
            Record::Ended { pod, part, node, phase } => self.end(scenario, *pod, *part, *node, *phase)?,
            Record::Note { note: Note::Reserved { pod, .. }, by } => {
                let group = scenario.pods.group(*pod).map(|g| &scenario.groups[g.index()]);
                let timeout =
                    group.and_then(|g| g.schedule_timeout).unwrap_or(scenario.config.scheduler.permit_waiting_time);
                self.reserved.insert(*pod, (stamped.time, timeout, *by));
            }
            Record::Note { note: Note::Released { pod, .. }, .. } => {
                self.reserved.remove(pod);
            }
            Record::PodDeleted { pod } => {
                let of_pod = (*pod, Part::Whole)..=(*pod, Part::Container(u16::MAX));
                if !self.created.get(pod.index()).copied().unwrap_or(false) {
                    return Err(format!("pod {} deleted before it was created", pod_name(*pod)));
                }
                if self.bound.range(of_pod.clone()).next().is_some() || self.ended.range(of_pod).next().is_some() {
                    return Err(format!("pod {} deleted as never bound, but it was", pod_name(*pod)));
                }
                if !self.deleted.insert(*pod) {
                    return Err(format!("pod {} deleted twice", pod_name(*pod)));
                }
            }
            Record::Started { pod, part, node, .. } => {
                if self.bound.get(&(*pod, *part)) != Some(node) {
                    return Err(format!("pod {} started on {} without being bound there", pod_name(*pod), node.0));
                }
            }
            Record::Api { .. }
            | Record::NodeCrashed { .. }
            | Record::Partitioned { .. }
            | Record::Healed { .. }
            | Record::EtcdLeaderLost { .. }
            | Record::ApiServerBrownout { .. }
            | Record::NodeRecovered { .. }
            | Record::ApiFailed { .. }
            | Record::ControllerRestarted { .. }
            | Record::Relisted { .. }
            | Record::WatchLag { .. } => {}
            // A taint set or removed during the run is no longer the start's: decisions in
            // flight may race with it.
            Record::Tainted { node, key } | Record::Untainted { node, key } => {
                if let Some(closed) = self.closed.get_mut(node.index()) {
                    closed.taints.retain(|t| &t.key != key);
                }
            }
            // A crashed scheduler's memory is gone: what it reserved at Permit and the offers
            // it made were only in it, and lock nothing any more.
            Record::ControllerCrashed { by } => {
                self.reserved.retain(|_, (_, _, holder)| holder != by);
                self.offered.retain(|_, (_, master)| master != by);
            }
            Record::Note { note: Note::Offered { offer, resources, .. }, by } => {
                if self.offered.insert(*offer, (resources.clone(), *by)).is_some() {
                    return Err(format!("offer {offer} made twice"));
                }
            }
            Record::Note { note: Note::OfferClosed { offer, .. }, .. } => {
                if self.offered.remove(offer).is_none() {
                    return Err(format!("offer {offer} closed but never made (or closed twice)"));
                }
            }
            Record::Preempted { pod, victims, .. } => {
                let created = |p: &PodId| self.created.get(p.index()).copied().unwrap_or(false);
                if let Some(p) = std::iter::once(pod).chain(victims).find(|p| !created(p)) {
                    return Err(format!("pod {} in a preemption before it was created", pod_name(*p)));
                }
            }
            Record::GroupCreated { .. }
            | Record::BindRefused { .. }
            | Record::Unschedulable { .. }
            | Record::Conflict { .. }
            | Record::Note { .. } => {}
        }
        Ok(())
    }

    /// The phase of a created pod as the records tell it: Running once every part runs,
    /// Succeeded or Failed once every part ended, Pending otherwise. `None`: never created.
    pub fn phase(&self, scenario: &Scenario, pod: PodId) -> Option<Phase> {
        if !self.created.get(pod.index()).copied().unwrap_or(false) {
            return None;
        }
        let containers = (pod, Part::Container(0))..=(pod, Part::Container(u16::MAX));
        let per_container =
            self.bound.range(containers.clone()).next().is_some() || self.ended.range(containers).next().is_some();
        let parts = scenario.pods.spec(pod).parts(per_container);
        let ended: Vec<_> = parts.iter().filter_map(|p| self.ended.get(&(pod, *p))).collect();
        if ended.len() == parts.len() {
            return Some(if ended.iter().any(|p| **p == Phase::Failed) { Phase::Failed } else { Phase::Succeeded });
        }
        let started = parts
            .iter()
            .filter(|p| self.bound.contains_key(&(pod, **p)) || self.ended.contains_key(&(pod, **p)))
            .count();
        Some(if started == parts.len() { Phase::Running } else { Phase::Pending })
    }
}
