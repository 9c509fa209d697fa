//! The pods placed while the kube cache's snapshot keeps none (`KubeCache`'s inactive books):
//! a list of placements in the order made, and a bit per pod for whether its latest placement
//! still holds. A placement is an append and its end a cleared bit, and the list is compacted
//! once half of it is let go of, so the books cost the pods placed now — not a slot for every
//! pod id between the oldest placed pod and the newest, as a window by id does when a pod runs
//! all day (the Google cell's services: 24 bytes for each of its 11.7M pods). A placement
//! holds no `Arc<Pod>`: the scheduler holds every pod it has placed, and hands them over by id
//! when the snapshot is built ([`super::cache::PodOf`]) — 16 bytes a placement, not 24.

use podlab_cluster::pod_set::PodSet;
use podlab_cluster::{NodeId, PodId};

/// Placements let go of that are kept before a compaction, beyond as many as are held.
const SLACK: usize = 1024;

/// One placement: the pod's id, its node and its start (see `PlacedPod::start`).
#[derive(Clone, Copy, Debug)]
pub struct Placement {
    pub id: PodId,
    pub node: NodeId,
    pub start: u64,
}

/// The placements of the pods placed now, with some let go of among them.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    /// Every placement since the last compaction, in the order made; a pod's latest one holds
    /// if its bit in `held` is set, the others are let go of.
    list: Vec<Placement>,
    held: PodSet,
    /// How many bits of `held` are set.
    count: usize,
    /// Whether a held pod was placed again since the last compaction (the list may then hold
    /// two placements of a pod, both with its bit set).
    replaced: bool,
}

impl Pending {
    /// A pod placed: this placement replaces any it had.
    pub fn place(&mut self, placement: Placement) {
        if self.held.contains(placement.id) {
            // Its earlier placement is let go of.
            self.replaced = true;
            self.compact_if_sparse();
        } else {
            self.held.insert(placement.id);
            self.count += 1;
        }
        self.list.push(placement);
    }

    /// A pod gone from its node; whether it had a placement here.
    pub fn unplace(&mut self, id: PodId) -> bool {
        if !self.held.remove(id) {
            return false;
        }
        self.count -= 1;
        if self.list.last().is_some_and(|p| p.id == id) {
            // Placed last and gone first (an assumption a binding refuses, the bench's
            // decisions): the list does not grow into memory not yet touched.
            self.list.pop();
        }
        self.compact_if_sparse();
        true
    }

    /// Compacts once more than half the list, and `SLACK` more, is let go of.
    fn compact_if_sparse(&mut self) {
        if self.list.len() > 2 * self.count + SLACK {
            self.compact();
        }
    }

    /// Keeps only each held pod's latest placement, in the order made, in place (a new list
    /// would be grown again by doubling).
    fn compact(&mut self) {
        if !self.replaced {
            // A pod's only placement holds if its bit is set.
            self.list.retain(|p| self.held.contains(p.id));
            return;
        }
        self.replaced = false;
        // From the newest: a pod's first placement met is its latest, kept by swapping it to
        // the back of what is kept; its bit is cleared so that its older ones are let go of,
        // and set again after.
        let mut kept_from = self.list.len();
        for i in (0..self.list.len()).rev() {
            if self.held.remove(self.list[i].id) {
                kept_from -= 1;
                self.list.swap(i, kept_from);
            }
        }
        self.list.drain(..kept_from);
        for placement in &self.list {
            self.held.insert(placement.id);
        }
    }

    /// The held placements, one per pod, in id order; the books are left empty.
    pub fn take_by_id(&mut self) -> Vec<Placement> {
        self.compact();
        let mut held = std::mem::take(&mut self.list);
        *self = Pending::default();
        held.sort_unstable_by_key(|p| p.id);
        held
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use podlab_cluster::rng::stream;
    use rand_core::Rng;

    use super::*;

    /// Against a map by id, over random placements, replacements and ends (enough to compact
    /// many times): the same pods, nodes and starts.
    #[test]
    fn holds_what_a_map_by_id_holds() {
        let mut r = stream(7, "pending-test");
        let mut pending = Pending::default();
        let mut map: BTreeMap<PodId, (NodeId, u64)> = BTreeMap::new();
        for start in 0..50_000u64 {
            let id = PodId((r.next_u64() % 3_000) as u32);
            if r.next_u64() % 2 == 0 {
                let node = NodeId((r.next_u64() % 10) as u32);
                pending.place(Placement { id, node, start });
                map.insert(id, (node, start));
            } else {
                assert_eq!(pending.unplace(id), map.remove(&id).is_some(), "pod {id:?} at {start}");
            }
            assert!(pending.list.len() <= 2 * map.len() + SLACK + 1);
        }
        let held: Vec<(PodId, NodeId, u64)> = pending.take_by_id().iter().map(|p| (p.id, p.node, p.start)).collect();
        let expected: Vec<(PodId, NodeId, u64)> = map.iter().map(|(&id, &(node, start))| (id, node, start)).collect();
        assert_eq!(held, expected);
    }
}
