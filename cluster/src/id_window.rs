//! `IdWindow`: a map from dense ids (pods, say) to values that keeps a slot for each id from
//! the lowest one held to the highest — a column indexed by id, but only across the ids in
//! flight. Ids are handed out in arrival order and mostly let go of in that order, so what a
//! component keeps of the pods in flight costs it the live pods, not every pod of the run.

use std::collections::VecDeque;

#[derive(Clone, Debug)]
pub struct IdWindow<T> {
    /// The id of `slots[0]`.
    first: usize,
    /// Each id's value from `first` on; the first and last slots are always held.
    slots: VecDeque<Option<T>>,
}

impl<T> Default for IdWindow<T> {
    fn default() -> Self {
        IdWindow { first: 0, slots: VecDeque::new() }
    }
}

impl<T> IdWindow<T> {
    pub fn get(&self, id: usize) -> Option<&T> {
        self.slots.get(id.checked_sub(self.first)?)?.as_ref()
    }

    pub fn get_mut(&mut self, id: usize) -> Option<&mut T> {
        self.slots.get_mut(id.checked_sub(self.first)?)?.as_mut()
    }

    /// Holds `value` for `id`, in place of what was held: the window widens to reach it
    /// (backwards too: a pod listed in the file may arrive after later ids have gone).
    pub fn insert(&mut self, id: usize, value: T) {
        if self.slots.is_empty() {
            self.first = id;
        } else if id < self.first {
            let gap = self.first - id;
            self.slots.reserve(gap);
            for _ in 0..gap {
                self.slots.push_front(None);
            }
            self.first = id;
        }
        let i = id - self.first;
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        self.slots[i] = Some(value);
    }

    /// Lets go of `id`'s value; the window's ends move in past every id no longer held.
    pub fn remove(&mut self, id: usize) -> Option<T> {
        let taken = self.slots.get_mut(id.checked_sub(self.first)?)?.take();
        while self.slots.front().is_some_and(Option::is_none) {
            self.slots.pop_front();
            self.first += 1;
        }
        while self.slots.back().is_some_and(Option::is_none) {
            self.slots.pop_back();
        }
        taken
    }

    /// Slots kept (held or not) between the lowest and highest ids held.
    pub fn span(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Behaves as a map, and spans only from the lowest id held to the highest.
    #[test]
    fn is_a_map_over_the_ids_in_flight() {
        let mut w = IdWindow::default();
        for id in 10..20 {
            w.insert(id, id * 2);
        }
        assert_eq!((w.get(9), w.get(10), w.get(19), w.get(20)), (None, Some(&20), Some(&38), None));
        assert_eq!(w.remove(12), Some(24));
        assert_eq!(w.span(), 10, "a hole in the middle stays");
        assert_eq!(w.remove(12), None);
        assert_eq!((w.remove(10), w.remove(11)), (Some(20), Some(22)));
        assert_eq!(w.span(), 7, "the front moves past every id let go of: 13..=19");
        // An earlier id widens it backwards; a later one forwards.
        w.insert(5, 1);
        assert_eq!((w.span(), w.get(5), w.get(13)), (15, Some(&1), Some(&26)));
        w.insert(30, 3);
        *w.get_mut(30).unwrap() += 1;
        assert_eq!((w.span(), w.get(30)), (26, Some(&4)));
        for id in [5, 13, 14, 15, 16, 17, 18, 19] {
            w.remove(id);
        }
        assert_eq!((w.span(), w.get(30)), (1, Some(&4)));
        w.remove(30);
        assert_eq!(w.span(), 0);
        w.insert(3, 7);
        assert_eq!((w.span(), w.get(3)), (1, Some(&7)));
    }

    /// Against a plain column, over random inserts and removals.
    #[test]
    fn agrees_with_a_column() {
        let mut rng = crate::rng::stream(3, "id-window");
        let mut w = IdWindow::default();
        let mut column: Vec<Option<u32>> = vec![None; 200];
        for step in 0..20_000u32 {
            let id = crate::rng::below(&mut rng, 200) as usize;
            if crate::rng::below(&mut rng, 2) == 0 {
                w.insert(id, step);
                column[id] = Some(step);
            } else {
                assert_eq!(w.remove(id), column[id].take());
            }
            let held: Vec<usize> = (0..200).filter(|&i| column[i].is_some()).collect();
            let span = held.last().map_or(0, |last| last - held[0] + 1);
            assert_eq!(w.span(), span);
            assert!((0..200).all(|i| w.get(i) == column[i].as_ref()));
        }
    }
}
