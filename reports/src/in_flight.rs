//! Per-pod books kept only while a pod is in flight: the reports fold a million-pod run with the
//! books of the pods alive at once, not of every pod of the run.
//!
//! Pods are mostly created, and finish, in about the order of their ids, so the books sit in a
//! window of consecutive ids, from the oldest pod still in flight. A pod that stays far behind
//! the others (a service that runs all day) would pin the window open: once the window is more
//! than twice the pods it holds, its front pods move to a map of laggards. Every id in the map
//! is below the window's first.

use std::collections::{BTreeMap, VecDeque};

use podlab_cluster::PodId;

/// The window is never shrunk below this many slots: moving pods to the map is for laggards.
const SLACK: usize = 4096;

pub(crate) struct InFlight<T> {
    /// The id of `window[0]`.
    base: u32,
    /// `None`: not begun, or retired.
    window: VecDeque<Option<T>>,
    /// How many of `window` are `Some`.
    in_window: usize,
    laggards: BTreeMap<u32, T>,
    /// A bit per pod id: retired (its books folded and dropped).
    retired: Vec<u64>,
}

impl<T: Default> InFlight<T> {
    pub(crate) fn new() -> InFlight<T> {
        InFlight { base: 0, window: VecDeque::new(), in_window: 0, laggards: BTreeMap::new(), retired: Vec::new() }
    }

    pub(crate) fn is_retired(&self, pod: PodId) -> bool {
        self.retired.get(pod.index() / 64).is_some_and(|w| w & (1 << (pod.index() % 64)) != 0)
    }

    /// The pod's books, begun at their default on the first call; `None` once retired.
    pub(crate) fn get_mut(&mut self, pod: PodId) -> Option<&mut T> {
        if self.is_retired(pod) {
            return None;
        }
        let id = pod.0;
        if id < self.base {
            return Some(self.laggards.entry(id).or_default());
        }
        let offset = (id - self.base) as usize;
        if offset >= self.window.len() + self.window.len().max(SLACK) {
            // Far ahead of every pod in flight: the window starts again there.
            let base = self.base;
            for (i, slot) in std::mem::take(&mut self.window).into_iter().enumerate() {
                if let Some(books) = slot {
                    self.laggards.insert(base + i as u32, books);
                }
            }
            (self.base, self.in_window) = (id, 0);
        }
        let offset = (id - self.base) as usize;
        if offset >= self.window.len() {
            self.window.resize_with(offset + 1, || None);
        }
        let slot = &mut self.window[offset];
        if slot.is_none() {
            *slot = Some(T::default());
            self.in_window += 1;
        }
        slot.as_mut()
    }

    /// Drops the pod's books for good, returning them; later calls for it find nothing.
    pub(crate) fn retire(&mut self, pod: PodId) -> Option<T> {
        if self.is_retired(pod) {
            return None;
        }
        let word = pod.index() / 64;
        if self.retired.len() <= word {
            self.retired.resize(word + 1, 0);
        }
        self.retired[word] |= 1 << (pod.index() % 64);
        let id = pod.0;
        let books = if id < self.base {
            self.laggards.remove(&id)
        } else {
            let books = self.window.get_mut((id - self.base) as usize).and_then(Option::take);
            self.in_window -= usize::from(books.is_some());
            books
        };
        self.shrink();
        books
    }

    /// Drops the window's retired front, and moves its front pods to the laggards while it is
    /// more than twice the pods it holds.
    fn shrink(&mut self) {
        while self.window.front().is_some_and(Option::is_none) {
            self.window.pop_front();
            self.base += 1;
        }
        if self.window.len() > 2 * self.in_window + SLACK {
            while self.window.len() > self.in_window + SLACK / 2 {
                if let Some(Some(books)) = self.window.pop_front() {
                    self.laggards.insert(self.base, books);
                    self.in_window -= 1;
                }
                self.base += 1;
            }
        }
    }

    /// Every pod still in flight, in id order, with its books.
    pub(crate) fn into_iter(self) -> impl Iterator<Item = (PodId, T)> {
        let base = self.base;
        let window = self.window.into_iter().enumerate().filter_map(move |(i, b)| Some((base + i as u32, b?)));
        self.laggards.into_iter().chain(window).map(|(id, b)| (PodId(id), b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Books survive being moved to the laggards and back out; a retired pod's are gone for
    /// good, and the window stays about the size of the pods in flight.
    #[test]
    fn books_follow_their_pods_wherever_they_are_kept() {
        let mut books: InFlight<u64> = InFlight::new();
        // One pod stays all along; 100k others come and go in id order.
        *books.get_mut(PodId(0)).unwrap() = 7;
        for id in 1..100_000u32 {
            *books.get_mut(PodId(id)).unwrap() += u64::from(id);
            if id > 10 {
                assert_eq!(books.retire(PodId(id - 10)), Some(u64::from(id - 10)));
            }
        }
        assert!(books.window.len() < 2 * SLACK, "window of {}", books.window.len());
        assert_eq!(books.get_mut(PodId(0)).copied(), Some(7));
        assert_eq!(books.get_mut(PodId(500)), None);
        assert_eq!(books.retire(PodId(500)), None);
        // A pod far ahead restarts the window: those in flight become laggards, still found.
        *books.get_mut(PodId(5_000_000)).unwrap() = 1;
        *books.get_mut(PodId(99_995)).unwrap() += 1_000_000;
        assert_eq!(books.retire(PodId(99_999)), Some(99_999));
        let left: Vec<(u32, u64)> = books.into_iter().map(|(p, b)| (p.0, b)).collect();
        let mut expected = vec![(0, 7)];
        expected.extend((99_990..99_999).map(|id| (id, u64::from(id) + if id == 99_995 { 1_000_000 } else { 0 })));
        expected.push((5_000_000, 1));
        assert_eq!(left, expected);
    }
}
