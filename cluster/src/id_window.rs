//! `IdWindow`: a map from dense ids (pods, say) to values that keeps a slot for each id from
//! the lowest one held to the highest — a column indexed by id, but only across the ids in
//! flight. A generator's pods get their ids in arrival order and mostly finish in that order,
//! so what a component keeps of the pods in flight costs it the live pods, not every pod of
//! the run. (One stream of ids: a pod that runs all day holds the front, and the window is then
//! a column. The reports' `InFlight` keeps one of these per stream, for several streams, and
//! moves laggards to a map.)

use std::collections::VecDeque;

use crate::maybe::{Maybe, Niche};

/// A slot's value when it holds nothing: `None`, or a [`Maybe`]'s none (four bytes a slot
/// for a node id, where an `Option` takes eight).
pub trait Vacancy: Sized {
    /// The value of an empty slot.
    fn vacant() -> Self;
    /// Whether a slot is empty.
    fn is_vacant(&self) -> bool;
}

impl<T> Vacancy for Option<T> {
    fn vacant() -> Self {
        None
    }

    fn is_vacant(&self) -> bool {
        self.is_none()
    }
}

impl<T: Niche> Vacancy for Maybe<T> {
    fn vacant() -> Self {
        Maybe::NONE
    }

    fn is_vacant(&self) -> bool {
        !self.is_some()
    }
}

/// Slots by id from the lowest id held to the highest, in a ring (`VecDeque`): the front is
/// dropped as soon as it is let go of, with no copying, so what is kept follows the span of the
/// ids in flight — the ring's capacity is the largest span so far, rounded up to a power of
/// two. (A vector whose let-go front was drained once it reached half the vector kept up to
/// twice the span: 3.7 → 7.3 MB for the reports' books of a 1M-pod run.) Where the ids do not
/// slide (a service that runs all day holds the front) this is a column that grows at its back,
/// doubling as the vector did, its new capacity touched only as it fills.
#[derive(Clone, Debug)]
pub struct IdWindow<S> {
    /// The id of `slots[0]`.
    first: usize,
    /// Empty, or held at both ends: the first and the last slot are never vacant.
    slots: VecDeque<S>,
}

impl<S> Default for IdWindow<S> {
    fn default() -> Self {
        IdWindow { first: 0, slots: VecDeque::new() }
    }
}

impl<S: Vacancy> IdWindow<S> {
    /// `id`'s slot, vacant or not; `None` outside the window.
    #[inline]
    pub fn get(&self, id: usize) -> Option<&S> {
        self.slots.get(id.checked_sub(self.first)?)
    }

    /// `id`'s slot to change in place; `None` outside the window.
    #[inline]
    pub fn get_mut(&mut self, id: usize) -> Option<&mut S> {
        self.slots.get_mut(id.checked_sub(self.first)?)
    }

    /// Puts `value` in `id`'s slot: the window widens to reach it (backwards too: a pod listed
    /// in the file may arrive after later ids have gone). A vacant `value` is not held.
    pub fn insert(&mut self, id: usize, value: S) {
        if value.is_vacant() {
            self.remove(id);
            return;
        }
        if self.slots.is_empty() {
            self.first = id;
        } else if id < self.first {
            for _ in id + 1..self.first {
                self.slots.push_front(S::vacant());
            }
            self.slots.push_front(value);
            self.first = id;
            return;
        }
        let i = id - self.first;
        if i < self.slots.len() {
            self.slots[i] = value;
        } else {
            // Mostly the next id: pushed, not made vacant and then overwritten.
            for _ in self.slots.len()..i {
                self.slots.push_back(S::vacant());
            }
            self.slots.push_back(value);
        }
    }

    /// Takes `id`'s value out (vacant outside the window); the window's ends move in past every
    /// slot let go of.
    pub fn remove(&mut self, id: usize) -> S {
        let Some(i) = id.checked_sub(self.first).filter(|&i| i < self.slots.len()) else { return S::vacant() };
        let taken = std::mem::replace(&mut self.slots[i], S::vacant());
        while self.slots.back().is_some_and(S::is_vacant) {
            self.slots.pop_back();
        }
        while self.slots.front().is_some_and(S::is_vacant) {
            self.slots.pop_front();
            self.first += 1;
        }
        taken
    }

    /// Every held slot with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &S)> {
        let first = self.first;
        self.slots.iter().enumerate().filter(|(_, s)| !s.is_vacant()).map(move |(i, s)| (first + i, s))
    }

    /// Every held slot with its id, in id order, taken out.
    pub fn into_held(self) -> impl Iterator<Item = (usize, S)> {
        let first = self.first;
        self.slots.into_iter().enumerate().filter(|(_, s)| !s.is_vacant()).map(move |(i, s)| (first + i, s))
    }

    /// Slots between the lowest and the highest id held, held or not.
    pub fn span(&self) -> usize {
        self.slots.len()
    }

    /// The ids from the lowest held to one past the highest held (empty when none is).
    pub fn ids(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.slots.len()
    }

    /// Takes out the lowest id held and its value, if any.
    pub fn pop_first(&mut self) -> Option<(usize, S)> {
        if self.slots.front().is_none_or(S::is_vacant) {
            return None;
        }
        let id = self.first;
        Some((id, self.remove(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Iterates the held slots only, with their ids.
    #[test]
    fn iterates_what_it_holds() {
        let mut w = IdWindow::default();
        for id in [7, 3, 9] {
            w.insert(id, Some(id * 10));
        }
        w.remove(7);
        let held: Vec<(usize, u32)> = w.iter().map(|(id, v)| (id, v.unwrap_or(0) as u32)).collect();
        assert_eq!(held, vec![(3, 30), (9, 90)]);
    }

    /// Behaves as a map, and spans only from the lowest id held to the highest.
    #[test]
    fn is_a_map_over_the_ids_in_flight() {
        let mut w = IdWindow::default();
        for id in 10..20 {
            w.insert(id, Some(id * 2));
        }
        let get = |w: &IdWindow<Option<usize>>, id| w.get(id).copied().flatten();
        assert_eq!((get(&w, 9), get(&w, 10), get(&w, 19), get(&w, 20)), (None, Some(20), Some(38), None));
        assert_eq!(w.remove(12), Some(24));
        assert_eq!(w.span(), 10, "a hole in the middle stays");
        assert_eq!(w.remove(12), None);
        assert_eq!((w.remove(10), w.remove(11)), (Some(20), Some(22)));
        assert_eq!(w.span(), 7, "the front moves past every id let go of: 13..=19");
        // An earlier id widens it backwards; a later one forwards.
        w.insert(5, Some(1));
        assert_eq!((w.span(), get(&w, 5), get(&w, 13)), (15, Some(1), Some(26)));
        w.insert(30, Some(4));
        assert_eq!((w.span(), get(&w, 30)), (26, Some(4)));
        for id in [5, 13, 14, 15, 16, 17, 18, 19] {
            w.remove(id);
        }
        assert_eq!((w.span(), get(&w, 30)), (1, Some(4)));
        assert_eq!(w.ids(), 30..31);
        w.insert(32, Some(5));
        assert_eq!((w.pop_first(), w.ids()), (Some((30, Some(4))), 32..33));
        assert_eq!((w.pop_first(), w.pop_first(), w.ids().len()), (Some((32, Some(5))), None, 0));
        w.insert(30, Some(4));
        w.remove(30);
        assert_eq!(w.span(), 0);
        w.insert(3, Some(7));
        assert_eq!((w.span(), get(&w, 3)), (1, Some(7)));
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
                w.insert(id, Maybe::some(crate::NodeId(step)));
                column[id] = Some(step);
            } else {
                assert_eq!(w.remove(id).get().map(|n| n.0), column[id].take());
            }
            let held: Vec<usize> = (0..200).filter(|&i| column[i].is_some()).collect();
            let span = held.last().map_or(0, |last| last - held[0] + 1);
            assert_eq!(w.span(), span);
            assert!((0..200).all(|i| w.get(i).and_then(|n| n.get()).map(|n| n.0) == column[i]));
        }
    }
}
