//! What a Mesos offer holds: its nodes and what it offers of each, as a list of rows, or as a
//! column of the whole cell with the offered rows marked — the form the master keeps from one
//! round to the next, changing only the nodes that changed.

use std::collections::BTreeMap;

use crate::objects::NodeId;
use crate::resources::Resources;

/// A Mesos offer's nodes and what it offers of each: rows of CPU and memory, with any other
/// resources beside (most cells have none) — an offer of a whole 1,000-machine cell, made about
/// once a second, costs no allocation per node.
///
/// Its rows are numbered `0..len()` in node order, whatever the form: a framework's draws name
/// rows by that number.
#[derive(Clone, Debug, Default)]
pub struct OfferedNodes {
    /// The list: every row offered, in node order. The column: a row for every node of the
    /// cell, by node index, offered or not (`marks` tells).
    rows: Vec<(NodeId, u64, u64)>,
    /// By row: the resources other than CPU and memory, where there are some (the list only).
    extended: BTreeMap<usize, BTreeMap<String, u64>>,
    /// The column's marks: `None` for the list.
    marks: Option<Marks>,
}

/// Which of a column's rows are offered: a bit per node, and the offered nodes' indices in
/// order — row `i` of the offer is the `i`-th, read at once. (Found by a search over counts
/// per word of 64 and then in the word, a row cost a framework's draw about 120 instructions:
/// 14 M in the paper day's first 3 hours. Few nodes cross between offered and not in a round,
/// about three, each moving the indices after it.)
#[derive(Clone, Debug, Default)]
struct Marks {
    words: Vec<u64>,
    /// The offered indices, ascending.
    offered: Vec<u32>,
}

impl Marks {
    /// The index of the offered row numbered `i` (`i < count`).
    #[inline]
    fn select(&self, i: usize) -> usize {
        self.offered[i] as usize
    }

    /// How many rows are offered.
    #[inline]
    fn count(&self) -> usize {
        self.offered.len()
    }

    /// Marks or unmarks index `n`; whether it was marked.
    fn set(&mut self, n: usize, offered: bool) -> bool {
        let (w, bit) = (n / 64, 1u64 << (n % 64));
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        let was = self.words[w] & bit != 0;
        if was != offered {
            self.words[w] ^= bit;
            let at = self.offered.partition_point(|&m| (m as usize) < n);
            if offered {
                self.offered.insert(at, n as u32);
            } else {
                self.offered.remove(at);
            }
        }
        was
    }

    fn is_marked(&self, n: usize) -> bool {
        self.words.get(n / 64).is_some_and(|w| w & (1 << (n % 64)) != 0)
    }
}

impl OfferedNodes {
    /// An empty list with room for `rows` rows.
    pub fn with_capacity(rows: usize) -> OfferedNodes {
        OfferedNodes { rows: Vec::with_capacity(rows), ..OfferedNodes::default() }
    }

    /// A list of rows of CPU and memory only.
    pub fn from_rows(rows: Vec<(NodeId, u64, u64)>) -> OfferedNodes {
        OfferedNodes { rows, ..OfferedNodes::default() }
    }

    /// An empty column: no node offered yet.
    pub fn column() -> OfferedNodes {
        OfferedNodes { marks: Some(Marks::default()), ..OfferedNodes::default() }
    }

    /// A column's row of `node`: offered if it has CPU and memory both. Returns what the node
    /// was offered before, if it was. (The column grows to reach `node`.)
    ///
    /// # Panics
    ///
    /// On a list.
    pub fn set_row(&mut self, node: NodeId, cpu_milli: u64, memory_bytes: u64) -> Option<(u64, u64)> {
        let marks = self.marks.as_mut().expect("a column");
        let n = node.index();
        if self.rows.len() <= n {
            self.rows.extend((self.rows.len()..=n).map(|n| (NodeId(n as u32), 0, 0)));
        }
        let (_, cpu, memory) = std::mem::replace(&mut self.rows[n], (node, cpu_milli, memory_bytes));
        marks.set(n, cpu_milli > 0 && memory_bytes > 0).then_some((cpu, memory))
    }

    /// Adds a node's row to a list.
    #[inline]
    pub fn push(&mut self, node: NodeId, offered: &Resources) {
        if !offered.extended.is_empty() {
            self.extended.insert(self.rows.len(), offered.extended.clone());
        }
        self.push_row(node, offered.cpu_milli, offered.memory_bytes);
    }

    /// Adds a node's row of CPU and memory only to a list.
    #[inline]
    pub fn push_row(&mut self, node: NodeId, cpu_milli: u64, memory_bytes: u64) {
        debug_assert!(self.marks.is_none(), "a column's rows are set, not pushed");
        self.rows.push((node, cpu_milli, memory_bytes));
    }

    /// How many rows are offered.
    #[inline]
    pub fn len(&self) -> usize {
        self.marks.as_ref().map_or(self.rows.len(), Marks::count)
    }

    /// Whether any row offers resources other than CPU and memory.
    #[inline]
    pub fn has_extended(&self) -> bool {
        !self.extended.is_empty()
    }

    /// Whether no row is offered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i`: its node, CPU and memory.
    #[inline]
    pub fn row(&self, i: usize) -> (NodeId, u64, u64) {
        match &self.marks {
            None => self.rows[i],
            Some(marks) => {
                assert!(i < marks.count(), "row {i} of {} offered", marks.count());
                self.rows[marks.select(i)]
            }
        }
    }

    /// Every row: node, CPU and memory, in order.
    pub fn rows(&self) -> impl Iterator<Item = (NodeId, u64, u64)> + '_ {
        let marks = self.marks.as_ref();
        self.rows.iter().enumerate().filter(move |(n, _)| marks.is_none_or(|m| m.is_marked(*n))).map(|(_, r)| *r)
    }

    /// Row `i`'s resources other than CPU and memory, if any.
    pub fn extended(&self, i: usize) -> Option<&BTreeMap<String, u64>> {
        self.extended.get(&i)
    }

    /// Row `i`'s resources, whole.
    pub fn resources(&self, i: usize) -> Resources {
        let (_, cpu, memory) = self.row(i);
        let mut r = Resources::new(cpu, memory);
        if let Some(extended) = self.extended(i) {
            r.extended = extended.clone();
        }
        r
    }

    /// Every row: its node and its resources, whole.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, Resources)> + '_ {
        self.rows().enumerate().map(|(i, (node, cpu, memory))| {
            let mut r = Resources::new(cpu, memory);
            if let Some(extended) = self.extended(i) {
                r.extended = extended.clone();
            }
            (node, r)
        })
    }

    /// Whether `node` has a row.
    pub fn contains(&self, node: NodeId) -> bool {
        match &self.marks {
            None => self.rows.iter().any(|r| r.0 == node),
            Some(marks) => marks.is_marked(node.index()),
        }
    }
}

/// Two offers are equal when they offer the same rows, whatever their form.
impl PartialEq for OfferedNodes {
    fn eq(&self, other: &OfferedNodes) -> bool {
        self.len() == other.len() && self.rows().eq(other.rows()) && self.extended == other.extended
    }
}

impl Eq for OfferedNodes {}

impl FromIterator<(NodeId, Resources)> for OfferedNodes {
    fn from_iter<I: IntoIterator<Item = (NodeId, Resources)>>(rows: I) -> OfferedNodes {
        let mut nodes = OfferedNodes::default();
        for (node, r) in rows {
            nodes.push(node, &r);
        }
        nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column set row by row offers what a list of its offered rows does, row for row, as
    /// rows cross between offered and not.
    #[test]
    fn a_column_is_its_list() {
        let mut column = OfferedNodes::column();
        let mut x: u64 = 7;
        for step in 0..3000u64 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let node = NodeId(((x >> 33) % 300) as u32);
            let (cpu, memory) = if (x >> 20) % 3 == 0 { (0, 5) } else { ((x >> 40) % 4, 1 + step) };
            let before: Vec<_> = column.rows().collect();
            let was = column.set_row(node, cpu, memory);
            let old = before.iter().find(|r| r.0 == node).map(|r| (r.1, r.2));
            assert_eq!(was, old);
            let list: Vec<_> = (0..column.rows.len())
                .map(|n| column.rows[n])
                .filter(|&(_, cpu, memory)| cpu > 0 && memory > 0)
                .collect();
            assert_eq!(column.len(), list.len());
            for (i, row) in list.iter().enumerate() {
                assert_eq!(column.row(i), *row);
                assert!(column.contains(row.0));
            }
            assert_eq!(column, OfferedNodes::from_rows(list));
        }
    }
}
