//! A node's books as the API server keeps them — what its bound parts request, how many there
//! are, which GPUs they hold, the Omega sequence number — and the one rule that admits a part.
//! Both backends (the simulator and real mode's Docker backend) bind and release through it, so
//! their capacity checks cannot drift apart.

use crate::event::BindRefusal;
use crate::gpu::{GPU_RESOURCE, GpuBooks, GpuDemand};
use crate::objects::{Node, Part, PodId, PodSpec};
use crate::resources::Resources;

/// What is bound on one node, beside what it can hold.
#[derive(Clone, Default)]
pub struct NodeUse {
    /// What the bound parts request, summed.
    pub requested: Resources,
    /// How many parts are bound.
    pub parts: u64,
    /// The node's allocatable resources and pod limit, kept beside what is bound (read through
    /// the node's spec, they were a cache miss a binding among ten thousand nodes); a node's
    /// update changes its taints, never these.
    allocatable: Resources,
    max_pods: u64,
    /// Per-GPU free milli-GPU and which part holds which GPUs; `None` for a node without GPUs.
    pub gpus: Option<Box<GpuBooks<(PodId, Part)>>>,
    /// Grows by one with every part admitted here (the Omega paper's sequence number).
    pub seq: u64,
}

impl NodeUse {
    /// The books of a node that has just joined: nothing bound.
    pub fn for_node(spec: &Node) -> NodeUse {
        NodeUse {
            gpus: GpuBooks::for_node(spec),
            allocatable: spec.allocatable.clone(),
            max_pods: spec.max_pods,
            ..NodeUse::default()
        }
    }

    /// Admits part `part` of pod `id` if it fits the node's true free capacity — every
    /// resource, the pod count, and GPUs (whole GPUs wholly free, a share on one GPU) — and
    /// books it; otherwise changes nothing and says what is short.
    pub fn admit(&mut self, pod: &PodSpec, id: PodId, part: Part) -> Result<(), BindRefusal> {
        let mut after = self.requested.clone();
        after.add(pod.part_requests(part));
        if let Some(resource) = after.first_shortfall(&self.allocatable) {
            return Err(BindRefusal::Insufficient(resource.to_string()));
        }
        if self.parts >= self.max_pods {
            return Err(BindRefusal::Insufficient("pods".into()));
        }
        let demand = GpuDemand::of(pod, part);
        if !demand.is_none() && self.gpus.as_mut().and_then(|g| g.assign((id, part), demand)).is_none() {
            return Err(BindRefusal::Insufficient(GPU_RESOURCE.into()));
        }
        self.requested = after;
        self.parts += 1;
        self.seq += 1;
        Ok(())
    }

    /// Whether the node could hold `requested` in all, as `parts` parts (GPUs aside): an
    /// all-or-nothing commit's dry run, on a scratch copy of the books.
    pub fn would_hold(&self, requested: &Resources, parts: u64) -> bool {
        requested.fits_in(&self.allocatable) && parts <= self.max_pods
    }

    /// Gives back what an admitted part held.
    pub fn release(&mut self, pod: &PodSpec, id: PodId, part: Part) {
        self.requested.sub(pod.part_requests(part));
        self.parts -= 1;
        if let Some(gpus) = self.gpus.as_mut() {
            gpus.release_where(|held| *held == (id, part));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pod;

    /// A part is admitted while it fits every resource and the pod count, refused with what is
    /// short otherwise (changing nothing), and released to make room again.
    #[test]
    fn admits_what_fits_and_releases() {
        let node = Node {
            name: "n".into(),
            labels: Default::default(),
            taints: vec![],
            allocatable: Resources { cpu_milli: 1000, ..Default::default() },
            max_pods: 2,
            unschedulable: false,
            images: Vec::new(),
        };
        let pod = Pod::single("p", Resources { cpu_milli: 500, ..Default::default() });
        let mut usage = NodeUse::for_node(&node);
        assert_eq!(usage.admit(&pod, PodId(0), Part::Whole), Ok(()));
        assert_eq!(usage.admit(&pod, PodId(1), Part::Whole), Ok(()));
        assert_eq!(usage.seq, 2);
        let refused = usage.admit(&pod, PodId(2), Part::Whole);
        assert!(matches!(refused, Err(BindRefusal::Insufficient(_))), "{refused:?}");
        assert_eq!((usage.parts, usage.seq), (2, 2), "a refusal books nothing");
        usage.release(&pod, PodId(0), Part::Whole);
        assert_eq!(usage.parts, 1);
        assert_eq!(usage.admit(&pod, PodId(2), Part::Whole), Ok(()));
        usage.allocatable.cpu_milli = 10_000;
        assert_eq!(usage.admit(&pod, PodId(3), Part::Whole), Err(BindRefusal::Insufficient("pods".into())));
    }
}
