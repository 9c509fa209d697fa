//! The Mesos master's books of each node — free room from the watch, what offers lock, whether
//! it takes work — kept so that an allocation round costs little per node.
//!
//! A round of the paper's whole-cell offers locks nearly every node, and its answer unlocks
//! them again (about 6,600 offers of about 900 nodes each in the paper day's first 3 hours).
//! So each node's row as a round offers it when nothing is locked sits in a column, brought up
//! to date when its books change (a task bound or ended, the node added or cordoned); an offer
//! locks by being kept, and unlocks by being let go of. What is locked of each node — the sum
//! of the outstanding offers' rows — is added up only when a round runs while offers are
//! outstanding, and a round with none outstanding is the column, less the nodes with nothing.
//!
//! That last offer is itself kept, as a column of the cell with the offered rows marked
//! ([`OfferedNodes::column`]), shared with the offer made of it, along with the nodes whose
//! rows changed since. A round brings it up to date for those nodes alone — about 35 between
//! two rounds of the paper day, against 1,000 to read — in place once the framework has let go
//! of the offer (a copy of the column otherwise). A list of the offered rows would be as
//! cheap to change in place but for the nodes that fill up or free up between rounds: each
//! moved the rows after it (three a round in the paper day, about 15,000 instructions).

use std::collections::BTreeSet;
use std::sync::Arc;

use podlab_cluster::event::OfferedNodes;
use podlab_cluster::{Node, NodeId, Resources};

use crate::jobs::Room;

/// The master's books of each node, and the column a round reads.
pub struct CellBooks {
    /// Free room per node from the watch (and the master's own launches).
    free: Vec<Option<Room>>,
    /// Nodes that take no new work now (tainted NotReady, cordoned): never offered.
    closed: BTreeSet<NodeId>,
    /// Per node, its row when nothing is locked: its free CPU and memory if it takes work,
    /// has slots and no resources but CPU and memory; zeros otherwise.
    column: Vec<(NodeId, u64, u64)>,
    /// The nodes with other resources than CPU and memory: offered by the rule itself.
    extended: BTreeSet<usize>,
    /// The rows of the offers locked and not yet unlocked.
    outstanding: Vec<Arc<OfferedNodes>>,
    /// The column as an offer, up to date but for the `dirty` nodes: what a round with nothing
    /// locked offers, shared with the offers made of it.
    offer: Arc<OfferedNodes>,
    /// The CPU and memory of `offer`, summed.
    offer_total: (u64, u64),
    /// The nodes whose row in the column changed since `offer` was brought up to date (a node
    /// changed twice is there twice).
    dirty: Vec<u32>,
}

impl Default for CellBooks {
    fn default() -> Self {
        CellBooks {
            free: Vec::new(),
            closed: BTreeSet::new(),
            column: Vec::new(),
            extended: BTreeSet::new(),
            outstanding: Vec::new(),
            offer: Arc::new(OfferedNodes::column()),
            offer_total: (0, 0),
            dirty: Vec::new(),
        }
    }
}

impl CellBooks {
    /// A node joined (or was listed again): its room is its allocatable.
    pub fn add_node(&mut self, node: NodeId, spec: &Node) {
        let n = node.index();
        if self.free.len() <= n {
            self.free.resize(n + 1, None);
            self.column.extend((self.column.len()..=n).map(|n| (NodeId(n as u32), 0, 0)));
        }
        self.free[n] = Some(Room::of(spec));
        // A node may join cordoned or tainted (a real cluster's dump at t = 0).
        crate::jobs::track_closed(&mut self.closed, node, spec);
        self.recompute(n);
    }

    /// A node's spec changed: it may have closed or reopened.
    pub fn update_node(&mut self, node: NodeId, spec: &Node) {
        crate::jobs::track_closed(&mut self.closed, node, spec);
        if node.index() < self.column.len() {
            self.recompute(node.index());
        }
    }

    /// A task holds `requests` on `node` (launched, or bound by another).
    pub fn take(&mut self, node: NodeId, requests: &Resources) {
        if let Some(room) = self.free.get_mut(node.index()).and_then(Option::as_mut) {
            room.take(requests);
            self.recompute(node.index());
        }
    }

    /// A task gave back `requests` on `node` (ended, or its binding refused).
    pub fn give(&mut self, node: NodeId, requests: &Resources) {
        if let Some(room) = self.free.get_mut(node.index()).and_then(Option::as_mut) {
            room.give(requests);
            self.recompute(node.index());
        }
    }

    /// Node `n`'s row in the column, from its books.
    fn recompute(&mut self, n: usize) {
        let (mut cpu, mut memory) = (0, 0);
        match &self.free[n] {
            Some(room) if !room.resources.extended.is_empty() => {
                self.extended.insert(n);
            }
            Some(room) => {
                if !self.extended.is_empty() {
                    self.extended.remove(&n);
                }
                if room.slots > 0 && !self.closed.contains(&NodeId(n as u32)) {
                    (cpu, memory) = (room.resources.cpu_milli, room.resources.memory_bytes);
                }
            }
            None => {
                self.extended.remove(&n);
            }
        }
        let row = (NodeId(n as u32), cpu, memory);
        if self.column[n] != row {
            self.dirty.push(n as u32);
        }
        self.column[n] = row;
    }

    /// Brings `offer` up to date with the column: each changed node's row set anew.
    fn refresh(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let offer = Arc::make_mut(&mut self.offer);
        let (mut cpu_sum, mut memory_sum) = self.offer_total;
        for n in self.dirty.drain(..) {
            let (node, cpu, memory) = self.column[n as usize];
            if let Some((was_cpu, was_memory)) = offer.set_row(node, cpu, memory) {
                (cpu_sum, memory_sum) = (cpu_sum - was_cpu, memory_sum - was_memory);
            }
            if cpu > 0 && memory > 0 {
                (cpu_sum, memory_sum) = (cpu_sum + cpu, memory_sum + memory);
            }
        }
        self.offer_total = (cpu_sum, memory_sum);
    }

    /// Locks an offer's rows until [`CellBooks::unlock`] lets them go.
    pub fn lock(&mut self, nodes: &Arc<OfferedNodes>) {
        self.outstanding.push(nodes.clone());
    }

    /// Unlocks a closed offer's rows.
    pub fn unlock(&mut self, nodes: &Arc<OfferedNodes>) {
        if let Some(i) = self.outstanding.iter().position(|o| Arc::ptr_eq(o, nodes)) {
            self.outstanding.swap_remove(i);
        }
    }

    /// What the outstanding offers lock of node `n`: the sum of their rows.
    fn locked(&self, n: usize) -> Resources {
        let mut locked = Resources::default();
        for (_, r) in self.outstanding.iter().flat_map(|o| o.iter()).filter(|(node, _)| node.index() == n) {
            locked.add(&r);
        }
        locked
    }

    /// Every node with something available (free, less what offers lock; CPU and memory
    /// both), in node order, and their sum.
    pub fn available(&mut self) -> (Arc<OfferedNodes>, Resources) {
        if self.outstanding.is_empty() {
            self.refresh();
            let (cpu, memory) = self.offer_total;
            let total = Resources::new(cpu, memory);
            if self.extended.is_empty() {
                return (self.offer.clone(), total);
            }
            return self.with_extended(&self.offer);
        }
        // Sized for the whole cell at once: grown as it fills, the vector's copies cost more
        // than the filter.
        let mut rows: Vec<(NodeId, u64, u64)> = Vec::with_capacity(self.column.len());
        // What is locked of each node's CPU and memory, added up for this round.
        let mut locked = vec![(0, 0); self.column.len()];
        for o in &self.outstanding {
            for (node, cpu, memory) in o.rows() {
                let l: &mut (u64, u64) = &mut locked[node.index()];
                (l.0, l.1) = (l.0 + cpu, l.1 + memory);
            }
        }
        rows.extend(
            (self.column.iter().zip(&locked))
                .filter(|&(&(_, cpu, memory), &(lc, lm))| lc < cpu && lm < memory)
                .map(|(&(node, cpu, memory), &(lc, lm))| (node, cpu - lc, memory - lm)),
        );
        let mut total = Resources::default();
        for &(_, cpu, memory) in &rows {
            (total.cpu_milli, total.memory_bytes) = (total.cpu_milli + cpu, total.memory_bytes + memory);
        }
        let nodes = OfferedNodes::from_rows(rows);
        if self.extended.is_empty() {
            return (Arc::new(nodes), total);
        }
        self.with_extended(&nodes)
    }

    /// The plain rows `nodes` with the nodes that have other resources than CPU and memory,
    /// offered by the rule itself, in node order, and their sum.
    fn with_extended(&self, nodes: &OfferedNodes) -> (Arc<OfferedNodes>, Resources) {
        let (mut all, mut sum) = (OfferedNodes::with_capacity(self.column.len()), Resources::default());
        let mut plain = nodes.rows().peekable();
        for n in 0..self.column.len() {
            if let Some(&(node, cpu, memory)) = plain.peek()
                && node.index() == n
            {
                plain.next();
                (sum.cpu_milli, sum.memory_bytes) = (sum.cpu_milli + cpu, sum.memory_bytes + memory);
                all.push_row(node, cpu, memory);
            } else if self.extended.contains(&n) {
                self.add_available(n, &self.locked(n), &mut all, &mut sum);
            }
        }
        (Arc::new(all), sum)
    }

    /// What node `node` has available (its free room less `locked`), if it has CPU and memory
    /// both: added to `nodes` and `total`. The rule itself, which the column follows.
    fn add_available(&self, node: usize, locked: &Resources, nodes: &mut OfferedNodes, total: &mut Resources) {
        let Some(room) = self.free.get(node).and_then(Option::as_ref) else { return };
        if room.slots == 0
            || locked.cpu_milli >= room.resources.cpu_milli
            || locked.memory_bytes >= room.resources.memory_bytes
            || self.closed.contains(&NodeId(node as u32))
        {
            return;
        }
        let (cpu, memory) =
            (room.resources.cpu_milli - locked.cpu_milli, room.resources.memory_bytes - locked.memory_bytes);
        if room.resources.extended.is_empty() {
            total.cpu_milli += cpu;
            total.memory_bytes += memory;
            nodes.push_row(NodeId(node as u32), cpu, memory);
        } else {
            let mut r = room.resources.clone();
            r.sub(locked);
            total.add(&r);
            nodes.push(NodeId(node as u32), &r);
        }
    }

    /// Every node with something available, by the rule over the books, with `locked` what
    /// offers lock of each: what [`CellBooks::available`] must return.
    #[cfg(test)]
    fn available_by_rule(&self, locked: &[Resources]) -> (OfferedNodes, Resources) {
        let mut total = Resources::default();
        let mut nodes = OfferedNodes::with_capacity(self.free.len());
        for (n, locked) in locked.iter().enumerate().take(self.free.len()) {
            self.add_available(n, locked, &mut nodes, &mut total);
        }
        (nodes, total)
    }
}

#[cfg(test)]
mod tests {
    use podlab_cluster::rng::below;
    use std::sync::Arc;

    use podlab_cluster::event::OfferedNodes;
    use podlab_cluster::{Node, NodeId, Resources};
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    use super::CellBooks;

    fn node(cpu_milli: u64, memory_bytes: u64, max_pods: u64) -> Node {
        Node {
            name: "n".into(),
            labels: Default::default(),
            taints: Vec::new(),
            allocatable: Resources::new(cpu_milli, memory_bytes),
            max_pods,
            unschedulable: false,
            images: Vec::new(),
        }
    }

    /// Random takes, gives, locks, unlocks, cordons and GPUs: after each step the round read
    /// from the column is the rule's round over the books, row for row, with what is locked of
    /// each node the running sum of the rows locked and not unlocked. Offers are parts of a
    /// round, or the round itself (whole-cell offers: the column the books keep, shared).
    #[test]
    fn the_column_is_the_books_round() {
        for seed in 0..40 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut books = CellBooks::default();
            let mut offers: Vec<Arc<OfferedNodes>> = Vec::new();
            let mut held: Vec<(NodeId, Resources)> = Vec::new();
            let mut kept: Option<(Arc<OfferedNodes>, OfferedNodes)> = None;
            for n in 0..12 {
                books.add_node(NodeId(n), &node(4000, 16 << 30, 3));
            }
            for _ in 0..400 {
                let n = NodeId(below(&mut rng, 12) as u32);
                let r = Resources::new(250 * (1 + below(&mut rng, 8)), (1 << 29) * (1 + below(&mut rng, 8)));
                match below(&mut rng, 9) {
                    0 | 1 => {
                        books.take(n, &r);
                        held.push((n, r));
                    }
                    2 | 3 if !held.is_empty() => {
                        let (n, r) = held.swap_remove(below(&mut rng, held.len() as u64) as usize);
                        books.give(n, &r);
                    }
                    4 => {
                        let (nodes, _) = books.available();
                        books.lock(&nodes);
                        // Held on past its unlocking too, as a framework may hold the message.
                        kept = Some((nodes.clone(), (*nodes).clone()));
                        offers.push(nodes);
                    }
                    5 => {
                        let (nodes, _) = books.available();
                        // An offer of a random part of what is available, as per-node
                        // bundles and declines make.
                        let part: Arc<OfferedNodes> =
                            Arc::new(nodes.iter().filter(|_| below(&mut rng, 3) > 0).collect());
                        books.lock(&part);
                        offers.push(part);
                    }
                    6 | 7 if !offers.is_empty() => {
                        let offer = offers.swap_remove(below(&mut rng, offers.len() as u64) as usize);
                        books.unlock(&offer);
                    }
                    7 => {
                        let mut spec = node(4000, 16 << 30, 3);
                        spec.unschedulable = below(&mut rng, 2) == 0;
                        books.update_node(n, &spec);
                    }
                    8 => {
                        let mut spec = node(4000 + 1000 * below(&mut rng, 2), 16 << 30, below(&mut rng, 3));
                        if below(&mut rng, 4) == 0 {
                            spec.allocatable.extended.insert("nvidia.com/gpu".into(), 2);
                        }
                        books.add_node(n, &spec);
                    }
                    _ => {}
                }
                // What is locked: the running sum of the rows locked and not unlocked.
                let mut locked = vec![Resources::default(); 12];
                for (node, r) in offers.iter().flat_map(|o| o.iter()) {
                    locked[node.index()].add(&r);
                }
                let (nodes, total) = books.available();
                let (rule, rule_total) = books.available_by_rule(&locked);
                assert_eq!((&*nodes, total), (&rule, rule_total), "seed {seed}");
                // An offer still held is what it was when made, whatever the books did since.
                if let Some((offer, made)) = &kept {
                    assert_eq!(**offer, *made, "seed {seed}");
                }
            }
        }
    }
}
