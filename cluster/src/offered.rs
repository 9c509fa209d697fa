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

/// Which of a column's rows are offered: a bit per node, and how many are offered before each
/// word of 64 — row `i` of the offer is found by a search over the words, then in one word.
#[derive(Clone, Debug, Default)]
struct Marks {
    words: Vec<u64>,
    /// By word: the offered rows in the words before it.
    before: Vec<u32>,
    count: usize,
}

impl Marks {
    /// The index of the offered row numbered `i` (`i < count`).
    fn select(&self, i: usize) -> usize {
        // Offered rows spread about evenly over a cell: the word in proportion is the word, or
        // one beside it.
        let last = self.words.len() - 1;
        let mut w = (i * self.words.len() / self.count).min(last);
        while self.before[w] as usize > i {
            w -= 1;
        }
        while w < last && self.before[w + 1] as usize <= i {
            w += 1;
        }
        w * 64 + select_in_word(self.words[w], i - self.before[w] as usize)
    }

    /// Marks or unmarks index `n`; whether it was marked.
    fn set(&mut self, n: usize, offered: bool) -> bool {
        let (w, bit) = (n / 64, 1u64 << (n % 64));
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
            self.before.resize(w + 1, self.count as u32);
        }
        let was = self.words[w] & bit != 0;
        if was != offered {
            self.words[w] ^= bit;
            // Few nodes cross between offered and not in a round: the counts after the word
            // follow them one by one.
            for b in &mut self.before[w + 1..] {
                *b = if offered { *b + 1 } else { *b - 1 };
            }
            self.count = if offered { self.count + 1 } else { self.count - 1 };
        }
        was
    }

    fn is_marked(&self, n: usize) -> bool {
        self.words.get(n / 64).is_some_and(|w| w & (1 << (n % 64)) != 0)
    }
}

/// The position of the set bit numbered `k` (from 0, lowest first) in `word`, which has more
/// than `k` set: each byte's count by halving (no popcount instruction assumed), the byte by
/// their running sums compared with `k` all at once, then the bit in the byte.
fn select_in_word(word: u64, k: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let pairs = word - ((word >> 1) & 0x5555_5555_5555_5555);
    let nibbles = (pairs & 0x3333_3333_3333_3333) + ((pairs >> 2) & 0x3333_3333_3333_3333);
    let bytes = (nibbles + (nibbles >> 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    // Byte j of `running`: the set bits in bytes 0..=j (at most 64: no carry between bytes).
    let running = bytes.wrapping_mul(ONES);
    // A byte's high bit where its running sum passes `k` (every byte is below 128, so one
    // byte's subtraction never borrows from the next); the bytes below those are skipped.
    let past = ((running | HIGHS) - (k as u64 + 1) * ONES) & HIGHS;
    let byte = 8 - ((past >> 7).wrapping_mul(ONES) >> 56) as usize;
    let skipped = if byte == 0 { 0 } else { ((running >> ((byte - 1) * 8)) & 0xff) as usize };
    let mut bits = (word >> (byte * 8)) & 0xff;
    for _ in 0..k - skipped {
        bits &= bits - 1;
    }
    byte * 8 + bits.trailing_zeros() as usize
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
        self.marks.as_ref().map_or(self.rows.len(), |m| m.count)
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
                assert!(i < marks.count, "row {i} of {} offered", marks.count);
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

    /// The bit numbered `k` of a word, found by the byte counts, is the one found by clearing
    /// the lowest bits one by one.
    #[test]
    fn select_in_word_is_the_kth_set_bit() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for word in [x, x & (x >> 1), x | (x << 3), u64::MAX, 1 << (x % 64), x & 0xff00_0000_0000_00ff] {
                let mut bits = word;
                for k in 0..word.count_ones() as usize {
                    assert_eq!(select_in_word(word, k), bits.trailing_zeros() as usize, "{word:#x} {k}");
                    bits &= bits - 1;
                }
            }
        }
    }

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
