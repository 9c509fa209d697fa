//! Per-pod books kept only while a pod is in flight: the reports fold a million-pod run with the
//! books of the pods alive at once, not of every pod of the run.
//!
//! Pods of one generator are created, and finish, in about the order of their ids; a scenario
//! with several generators has several such streams of ids at once (the Google cell's batch
//! and service jobs). So the books sit in a few windows of ids (`IdWindow`, the cluster's one
//! window of ids: a slot per id from the lowest in flight to the highest), one per stream. That
//! is why this is a structure of its own rather than one `IdWindow`: a single window over
//! several streams would span the ids between them, and a pod that stays far behind its stream
//! (a service that runs all day) would pin its window open. So each window is extended only a
//! little past its end at once (a pod beyond every window opens a new one, up to a few), and
//! once a window spans more than twice the pods it holds, its front pods move to a map of
//! laggards, as do pods that fit no window.

use std::collections::BTreeMap;

use podlab_cluster::PodId;
use podlab_cluster::id_window::IdWindow;
use podlab_cluster::pod_set::PodSet;

/// A window is never shrunk below this many slots, nor extended by more than its length or
/// this at once: moving pods to the map is for laggards.
const SLACK: usize = 4096;

/// At most this many windows (streams of ids) at once; pods of further streams go to the map.
const WINDOWS: usize = 4;

/// One stream's window: the books of its pods by id, and how many it holds.
struct Window<T> {
    books: IdWindow<Option<T>>,
    live: usize,
}

impl<T> Window<T> {
    fn holds(&self, id: usize) -> bool {
        self.books.ids().contains(&id)
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
        let id = pod.index();
        let w = match self.windows.iter().position(|w| w.holds(id)) {
            Some(w) => w,
            None => match self.window_for(id) {
                Some(w) => w,
                None => return Some(self.laggards.entry(pod.0).or_default()),
            },
        };
        let window = &mut self.windows[w];
        if window.books.get(id).is_none_or(Option::is_none) {
            // Books moved to the laggards before the window reached this id stay there.
            if let Some(books) = self.laggards.get_mut(&pod.0) {
                return Some(books);
            }
            window.books.insert(id, Some(T::default()));
            window.live += 1;
        }
        window.books.get_mut(id).and_then(Option::as_mut)
    }

    /// A window that may be extended to hold `id`, or a new one for it: `None` if neither may
    /// be.
    fn window_for(&mut self, id: usize) -> Option<usize> {
        let windows = &self.windows;
        // Not far past its end, and no other window in between.
        let extend = windows.iter().position(|w| {
            let end = w.books.ids().end;
            id >= end
                && id < end + w.books.span().max(SLACK)
                && !windows.iter().any(|o| o.books.ids().start >= end && o.books.ids().start <= id)
        });
        if extend.is_some() {
            return extend;
        }
        if self.windows.len() < WINDOWS {
            self.windows.push(Window { books: IdWindow::default(), live: 0 });
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
        let id = pod.index();
        let Some(w) = self.windows.iter().position(|w| w.holds(id)) else { return self.laggards.remove(&pod.0) };
        let window = &mut self.windows[w];
        let books = window.books.remove(id);
        window.live -= usize::from(books.is_some());
        let books = books.or_else(|| self.laggards.remove(&pod.0));
        self.shrink(w);
        books
    }

    /// Moves the window's front pods to the laggards while it spans more than twice the pods
    /// it holds; a window that holds none is closed (the laggards in its range are found in
    /// the map without it).
    fn shrink(&mut self, w: usize) {
        let window = &mut self.windows[w];
        if window.books.span() > 2 * window.live + SLACK {
            while window.books.span() > window.live + SLACK / 2 {
                let Some((id, books)) = window.books.pop_first() else { break };
                let books = books.expect("a window's lowest id held has books");
                self.laggards.insert(u32::try_from(id).expect("pod ids are u32"), books);
                window.live -= 1;
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
            w.books.into_held().filter_map(|(id, b)| Some((u32::try_from(id).expect("pod ids are u32"), b?)))
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
        let slots: usize = books.windows.iter().map(|w| w.books.span()).sum();
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
        let slots: usize = books.windows.iter().map(|w| w.books.span()).sum();
        assert!(slots <= 2 * 100 + 2, "{slots} slots");
        assert_eq!(books.into_iter().count(), 200);
    }

    /// Against a plain map, over random streams of ids: pods begun and retired about in order,
    /// some long-lived, some far ahead; whatever window or map holds the books, each pod's are
    /// its own, and a retired pod's are gone.
    #[test]
    fn agrees_with_a_map() {
        use podlab_cluster::rng::{below, stream};
        let mut rng = stream(7, "in-flight");
        let mut books: InFlight<u64> = InFlight::new();
        let mut model: BTreeMap<u32, u64> = BTreeMap::new();
        let mut retired = std::collections::BTreeSet::new();
        // Six streams (more than there are windows), each a next id to begin and an oldest.
        let mut next: Vec<u32> = (0..6).map(|s| s * 1_000_000).collect();
        for step in 0..60_000u64 {
            let s = below(&mut rng, 6) as usize;
            let id = match below(&mut rng, 10) {
                0..=4 => {
                    next[s] += 1 + below(&mut rng, 3) as u32;
                    next[s]
                }
                5..=8 => next[s].saturating_sub(below(&mut rng, 20_000) as u32),
                _ => below(&mut rng, 6_000_000) as u32,
            };
            let pod = PodId(id);
            if below(&mut rng, 3) == 0 {
                let expected = if retired.insert(id) { model.remove(&id) } else { None };
                assert_eq!(books.retire(pod), expected, "step {step}: retiring {id}");
            } else {
                match books.get_mut(pod) {
                    Some(b) => {
                        *b += step;
                        *model.entry(id).or_default() += step;
                    }
                    None => assert!(retired.contains(&id), "step {step}: {id} not retired"),
                }
            }
        }
        let mut left: Vec<(u32, u64)> = books.into_iter().map(|(p, b)| (p.0, b)).collect();
        left.sort_unstable();
        assert_eq!(left, model.into_iter().collect::<Vec<_>>());
    }
}
