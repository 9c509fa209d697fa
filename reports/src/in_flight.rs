//! Per-pod books kept only while a pod is in flight: the reports fold a million-pod run with the
//! books of the pods alive at once, not of every pod of the run.
//!
//! Pods of one generator are created, and finish, in about the order of their ids; a scenario
//! with several generators has several such streams of ids at once (the Google cell's batch
//! and service jobs). So the books sit in a few windows of consecutive ids, each from the
//! oldest pod of its stream still in flight. A pod that stays far behind its stream (a service
//! that runs all day) would pin its window open: once a window is more than twice the pods it
//! holds, its front pods move to a map of laggards, as do pods that fit no window.

use std::collections::{BTreeMap, VecDeque};

use podlab_cluster::PodId;
use podlab_cluster::pod_set::PodSet;

/// A window is never shrunk below this many slots, nor extended by more than its length or
/// this at once: moving pods to the map is for laggards.
const SLACK: usize = 4096;

/// At most this many windows (streams of ids) at once; pods of further streams go to the map.
const WINDOWS: usize = 4;

/// Consecutive ids from `base`; `None`: not begun, retired, or kept in the laggards.
struct Window<T> {
    base: u32,
    slots: VecDeque<Option<T>>,
    /// How many of `slots` are `Some`.
    live: usize,
}

impl<T> Window<T> {
    fn end(&self) -> u64 {
        u64::from(self.base) + self.slots.len() as u64
    }

    fn holds(&self, id: u32) -> bool {
        id >= self.base && u64::from(id) < self.end()
    }
}

pub(crate) struct InFlight<T> {
    /// Disjoint ranges of ids.
    windows: Vec<Window<T>>,
    laggards: BTreeMap<u32, T>,
    /// Pods retired (their books folded and dropped).
    retired: PodSet,
}

impl<T: Default> InFlight<T> {
    pub(crate) fn new() -> InFlight<T> {
        InFlight { windows: Vec::new(), laggards: BTreeMap::new(), retired: PodSet::default() }
    }

    /// The pod's books, begun at their default on the first call; `None` once retired.
    pub(crate) fn get_mut(&mut self, pod: PodId) -> Option<&mut T> {
        if self.retired.contains(pod) {
            return None;
        }
        let id = pod.0;
        let w = match self.windows.iter().position(|w| w.holds(id)) {
            Some(w) => w,
            None => match self.window_for(id) {
                Some(w) => w,
                None => return Some(self.laggards.entry(id).or_default()),
            },
        };
        let window = &mut self.windows[w];
        let slot = &mut window.slots[(id - window.base) as usize];
        if slot.is_none() {
            // Books moved to the laggards before the window reached this id stay there.
            if let Some(books) = self.laggards.get_mut(&id) {
                return Some(books);
            }
            *slot = Some(T::default());
            window.live += 1;
        }
        slot.as_mut()
    }

    /// A window extended to hold `id`, or a new one at `id`: `None` if neither may be.
    fn window_for(&mut self, id: u32) -> Option<usize> {
        let id64 = u64::from(id);
        let windows = &self.windows;
        // Not far past its end, and no other window in between.
        let extend = windows.iter().position(|w| {
            id64 >= w.end()
                && id64 < w.end() + w.slots.len().max(SLACK) as u64
                && !windows.iter().any(|o| u64::from(o.base) >= w.end() && u64::from(o.base) <= id64)
        });
        if let Some(w) = extend {
            let window = &mut self.windows[w];
            window.slots.resize_with((id - window.base) as usize + 1, || None);
            return Some(w);
        }
        if self.windows.len() < WINDOWS {
            self.windows.push(Window { base: id, slots: VecDeque::from([None]), live: 0 });
            return Some(self.windows.len() - 1);
        }
        None
    }

    /// Drops the pod's books for good, returning them; later calls for it find nothing.
    pub(crate) fn retire(&mut self, pod: PodId) -> Option<T> {
        if self.retired.contains(pod) {
            return None;
        }
        self.retired.insert(pod);
        let id = pod.0;
        let Some(w) = self.windows.iter().position(|w| w.holds(id)) else { return self.laggards.remove(&id) };
        let window = &mut self.windows[w];
        let books = window.slots[(id - window.base) as usize].take();
        window.live -= usize::from(books.is_some());
        let books = books.or_else(|| self.laggards.remove(&id));
        self.shrink(w);
        books
    }

    /// Drops the window's retired front, and moves its front pods to the laggards while it is
    /// more than twice the pods it holds; a window that holds none is closed (its slots are
    /// all empty, and the laggards in its range are found in the map without it).
    fn shrink(&mut self, w: usize) {
        let window = &mut self.windows[w];
        while window.slots.front().is_some_and(Option::is_none) {
            window.slots.pop_front();
            window.base += 1;
        }
        if window.slots.len() > 2 * window.live + SLACK {
            while window.slots.len() > window.live + SLACK / 2 {
                if let Some(Some(books)) = window.slots.pop_front() {
                    self.laggards.insert(window.base, books);
                    window.live -= 1;
                }
                window.base += 1;
            }
        }
        if window.live == 0 {
            self.windows.swap_remove(w);
        }
    }

    /// Every pod still in flight, with its books: the laggards, then each window's, each in id
    /// order (nothing is gathered: at a run's end they may be all its pods).
    pub(crate) fn into_iter(self) -> impl Iterator<Item = (PodId, T)> {
        let windows = self.windows.into_iter().flat_map(|w| {
            let base = w.base;
            w.slots.into_iter().enumerate().filter_map(move |(i, b)| Some((base + i as u32, b?)))
        });
        self.laggards.into_iter().chain(windows).map(|(id, b)| (PodId(id), b))
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
        let slots: usize = books.windows.iter().map(|w| w.slots.len()).sum();
        assert!(slots < 2 * SLACK, "windows of {slots} slots");
        assert_eq!(books.get_mut(PodId(0)).copied(), Some(7));
        assert_eq!(books.get_mut(PodId(500)), None);
        assert_eq!(books.retire(PodId(500)), None);
        // A pod far ahead opens a window of its own; the others' books are still found.
        *books.get_mut(PodId(5_000_000)).unwrap() = 1;
        *books.get_mut(PodId(99_995)).unwrap() += 1_000_000;
        assert_eq!(books.retire(PodId(99_999)), Some(99_999));
        let mut left: Vec<(u32, u64)> = books.into_iter().map(|(p, b)| (p.0, b)).collect();
        left.sort_unstable();
        let mut expected = vec![(0, 7)];
        expected.extend((99_990..99_999).map(|id| (id, u64::from(id) + if id == 99_995 { 1_000_000 } else { 0 })));
        expected.push((5_000_000, 1));
        assert_eq!(left, expected);
    }

    /// Two streams of ids far apart, interleaved (a batch and a service generator), each keep
    /// a window: no pod is a laggard, and retired slots are dropped.
    #[test]
    fn interleaved_streams_keep_a_window_each() {
        let mut books: InFlight<u32> = InFlight::new();
        let streams = [0u32, 3_000_000];
        for i in 0..50_000u32 {
            for base in streams {
                *books.get_mut(PodId(base + i)).unwrap() = i;
                if i >= 100 {
                    assert_eq!(books.retire(PodId(base + i - 100)), Some(i - 100));
                }
            }
        }
        assert!(books.laggards.is_empty());
        assert_eq!(books.windows.len(), 2);
        let slots: usize = books.windows.iter().map(|w| w.slots.len()).sum();
        assert!(slots <= 2 * 100 + 2, "{slots} slots");
        assert_eq!(books.into_iter().count(), 200);
    }
}
