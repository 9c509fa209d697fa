//! GPUs as the OpenB trace and its paper model them (Weng et al., "Beware of Fragmentation",
//! USENIX ATC 2023): every GPU is 1000 milli-GPU; a pod asks either for k whole GPUs
//! (`nvidia.com/gpu: k`, Kubernetes' extended resource), which must be k wholly free GPUs of one
//! node, or for a share of one GPU (the annotation `alibabacloud.com/gpu-milli: "1".."999"`, as
//! the OpenB simulator writes it), taken from a single GPU. Schedulers, backends and the
//! invariant checker all keep per-GPU free milli with [`GpuSlots`] and choose GPUs inside a
//! node by the one rule of [`GpuSlots::pick`], so their books agree.

use crate::objects::{Node, Part, PodSpec};

/// Kubernetes' extended resource for whole GPUs (the NVIDIA device plugin's name).
pub const GPU_RESOURCE: &str = "nvidia.com/gpu";
/// The annotation that asks for a share of one GPU, in milli-GPU (the OpenB simulator's).
pub const GPU_SHARE_ANNOTATION: &str = "alibabacloud.com/gpu-milli";
/// The node label that names the GPU model (GPU feature discovery's).
pub const GPU_MODEL_LABEL: &str = "nvidia.com/gpu.product";
/// One GPU, in milli-GPU.
pub const MILLI_PER_GPU: u16 = 1000;
/// The most GPUs one node may have: a part's GPUs are a bit mask of one `u64`.
pub const MAX_GPUS_PER_NODE: u64 = 64;

/// What one part asks of a node's GPUs: whole GPUs, or a share of one (never both: the loader
/// refuses a pod with the share annotation that also requests `nvidia.com/gpu`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GpuDemand {
    /// Whole GPUs (`nvidia.com/gpu`).
    pub whole_gpus: u32,
    /// 0, or 1..=999 milli-GPU of one GPU.
    pub share_milli: u16,
}

impl GpuDemand {
    /// The demand of one part: the whole pod, or one container (the share goes with the first
    /// app container under per-container placement).
    pub fn of(pod: &PodSpec, part: Part) -> GpuDemand {
        let whole_gpus = u32::try_from(pod.part_requests(part).get(GPU_RESOURCE)).unwrap_or(u32::MAX);
        let share_milli = match part {
            Part::Whole | Part::Container(0) => pod.gpu_share_milli,
            Part::Container(_) => 0,
        };
        GpuDemand { whole_gpus, share_milli }
    }

    /// Whether the part asks for no GPU at all.
    pub fn is_none(self) -> bool {
        self.whole_gpus == 0 && self.share_milli == 0
    }

    /// The demand in milli-GPU.
    pub fn milli(self) -> u64 {
        u64::from(self.whole_gpus) * u64::from(MILLI_PER_GPU) + u64::from(self.share_milli)
    }
}

/// The GPUs one part holds on its node: one bit per GPU, and the milli taken from each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpuPick {
    /// Bit `i` set: the part holds some of GPU `i`.
    pub gpu_mask: u64,
    /// The milli-GPU taken from each GPU of the mask (1000 for whole GPUs).
    pub milli_each: u16,
}

impl GpuPick {
    /// The GPU indices, lowest first.
    pub fn gpus(self) -> impl Iterator<Item = usize> {
        (0..64).filter(move |i| self.gpu_mask & (1u64 << i) != 0)
    }
}

/// Free milli-GPU of each GPU of one node. Nodes without GPUs carry none of these (callers
/// hold an `Option`), so CPU-only nodes cost no memory for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuSlots {
    /// Per GPU, the milli-GPU still free (1000 for an idle GPU).
    pub free_milli: Box<[u16]>,
}

impl GpuSlots {
    /// `gpus` idle GPUs (at most `MAX_GPUS_PER_NODE`).
    pub fn new(gpus: usize) -> GpuSlots {
        GpuSlots { free_milli: vec![MILLI_PER_GPU; gpus.min(MAX_GPUS_PER_NODE as usize)].into_boxed_slice() }
    }

    /// The GPUs of a node (its allocatable `nvidia.com/gpu`); `None` for a node without any.
    pub fn for_node(node: &Node) -> Option<GpuSlots> {
        match node.allocatable.get(GPU_RESOURCE) {
            0 => None,
            n => Some(GpuSlots::new(n.min(MAX_GPUS_PER_NODE) as usize)),
        }
    }

    /// The GPUs a demand would take, by the one rule every component applies: k whole GPUs are
    /// the k lowest-numbered wholly free ones; a share goes to the fullest GPU that still has
    /// room (best fit, lowest number on ties), so shares pack onto GPUs already shared.
    /// `None` when the demand does not fit; a demand of nothing takes nothing.
    pub fn pick(&self, demand: GpuDemand) -> Option<GpuPick> {
        if demand.whole_gpus > 0 {
            if demand.share_milli > 0 {
                return None;
            }
            let mut mask = 0u64;
            let mut found = 0u32;
            for (i, free) in self.free_milli.iter().enumerate() {
                if found == demand.whole_gpus {
                    break;
                }
                if *free == MILLI_PER_GPU {
                    mask |= 1 << i;
                    found += 1;
                }
            }
            return (found == demand.whole_gpus).then_some(GpuPick { gpu_mask: mask, milli_each: MILLI_PER_GPU });
        }
        if demand.share_milli == 0 {
            return Some(GpuPick { gpu_mask: 0, milli_each: 0 });
        }
        let mut best: Option<(u16, usize)> = None;
        for (i, free) in self.free_milli.iter().enumerate() {
            if *free >= demand.share_milli && best.is_none_or(|(b, _)| *free < b) {
                best = Some((*free, i));
            }
        }
        best.map(|(_, i)| GpuPick { gpu_mask: 1 << i, milli_each: demand.share_milli })
    }

    /// Whether [`GpuSlots::pick`] would find GPUs, without choosing them.
    pub fn fits(&self, demand: GpuDemand) -> bool {
        match (demand.whole_gpus, demand.share_milli) {
            (0, 0) => true,
            (0, share) => self.free_milli.iter().any(|f| *f >= share),
            (k, 0) => self.free_milli.iter().filter(|f| **f == MILLI_PER_GPU).take(k as usize).count() == k as usize,
            _ => false,
        }
    }

    /// Takes what a pick names (the pick came from [`GpuSlots::pick`] on this state).
    pub fn take(&mut self, pick: GpuPick) {
        for i in pick.gpus() {
            self.free_milli[i] -= pick.milli_each;
        }
    }

    /// Gives a pick back.
    pub fn give(&mut self, pick: GpuPick) {
        for i in pick.gpus() {
            self.free_milli[i] = (self.free_milli[i] + pick.milli_each).min(MILLI_PER_GPU);
        }
    }

    /// Free milli-GPU over all GPUs.
    pub fn free_total(&self) -> u64 {
        self.free_milli.iter().map(|f| u64::from(*f)).sum()
    }

    /// How many GPUs are wholly free.
    pub fn wholly_free(&self) -> u32 {
        self.free_milli.iter().filter(|f| **f == MILLI_PER_GPU).count() as u32
    }

    /// How many GPUs the node has.
    pub fn count(&self) -> usize {
        self.free_milli.len()
    }
}

/// A node's GPUs and which holder (a part, named by `K`) took which: what a backend or a
/// scheduler's cache needs to give a part's GPUs back when it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuBooks<K> {
    /// The node's GPUs and what is free on each.
    pub slots: GpuSlots,
    held: Vec<(K, GpuPick)>,
}

impl<K: PartialEq> GpuBooks<K> {
    /// The books of a node's GPUs, boxed so a node without GPUs holds one null pointer.
    pub fn for_node(node: &Node) -> Option<Box<GpuBooks<K>>> {
        GpuSlots::for_node(node).map(|slots| Box::new(GpuBooks { slots, held: Vec::new() }))
    }

    /// Picks and takes GPUs for a holder; `None` (and nothing changed) when they do not fit.
    pub fn assign(&mut self, holder: K, demand: GpuDemand) -> Option<GpuPick> {
        let pick = self.slots.pick(demand)?;
        if pick.gpu_mask != 0 {
            self.slots.take(pick);
            self.held.push((holder, pick));
        }
        Some(pick)
    }

    /// Gives back what the first holder matching `which` took, if any.
    pub fn release_where(&mut self, which: impl Fn(&K) -> bool) -> Option<GpuPick> {
        let i = self.held.iter().position(|(k, _)| which(k))?;
        let (_, pick) = self.held.remove(i);
        self.slots.give(pick);
        Some(pick)
    }
}

/// Whether a node could host a demand: no demand always fits; a GPU demand needs GPUs.
pub fn fits<K: PartialEq>(books: Option<&GpuBooks<K>>, demand: GpuDemand) -> bool {
    demand.is_none() || books.is_some_and(|b| b.slots.fits(demand))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(milli: u16) -> GpuDemand {
        GpuDemand { whole_gpus: 0, share_milli: milli }
    }

    fn whole(k: u32) -> GpuDemand {
        GpuDemand { whole_gpus: k, share_milli: 0 }
    }

    /// Shares never over-commit one GPU: 600 + 500 do not share a GPU, 600 + 400 do, and the
    /// best-fit rule puts a share on the fuller GPU.
    #[test]
    fn shares_never_overcommit_a_gpu() {
        let mut books: GpuBooks<u32> = GpuBooks { slots: GpuSlots::new(2), held: Vec::new() };
        assert_eq!(books.assign(1, share(600)).unwrap().gpu_mask, 0b01);
        assert_eq!(books.assign(2, share(500)).unwrap().gpu_mask, 0b10, "500 does not fit the 400 left");
        assert_eq!(books.assign(3, share(400)).unwrap().gpu_mask, 0b01, "fills GPU 0 exactly");
        assert_eq!(&*books.slots.free_milli, &[0, 500]);
        assert_eq!(books.assign(4, share(501)), None);
        assert_eq!(&*books.slots.free_milli, &[0, 500], "a refusal changes nothing");
        assert!(books.slots.free_milli.iter().all(|f| *f <= MILLI_PER_GPU));
        books.release_where(|k| *k == 1);
        assert_eq!(&*books.slots.free_milli, &[600, 500]);
        assert_eq!(books.assign(5, share(500)).unwrap().gpu_mask, 0b10, "best fit: the fuller GPU");
    }

    /// k whole GPUs need k wholly free GPUs of the node: a shared GPU does not count.
    #[test]
    fn whole_gpus_need_wholly_free_gpus() {
        let mut books: GpuBooks<u32> = GpuBooks { slots: GpuSlots::new(4), held: Vec::new() };
        books.assign(1, share(100)).unwrap();
        assert_eq!(books.slots.wholly_free(), 3);
        assert_eq!(books.assign(2, whole(4)), None, "one GPU is shared");
        let pick = books.assign(3, whole(3)).unwrap();
        assert_eq!(pick.gpu_mask, 0b1110);
        assert_eq!(books.slots.free_total(), 900);
        assert_eq!(books.assign(4, whole(1)), None);
        books.release_where(|k| *k == 3);
        assert_eq!(books.slots.wholly_free(), 3);
        assert!(GpuDemand { whole_gpus: 1, share_milli: 1 }.milli() == 1001);
        assert_eq!(books.slots.pick(GpuDemand { whole_gpus: 1, share_milli: 1 }), None, "never both");
    }
}
