//! A set of pods as one bit per pod id: a million-pod run's flags in 125 KB.

use crate::objects::PodId;

/// A set of pod ids, one bit each, growing with the largest id inserted.
#[derive(Clone, Debug, Default)]
pub struct PodSet(Vec<u64>);

impl PodSet {
    /// Whether `pod` is in the set.
    pub fn contains(&self, pod: PodId) -> bool {
        self.0.get(pod.index() / 64).is_some_and(|w| (w >> (pod.index() % 64)) & 1 == 1)
    }

    /// Adds `pod`.
    pub fn insert(&mut self, pod: PodId) {
        let word = pod.index() / 64;
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << (pod.index() % 64);
    }

    /// Takes `pod` out; whether it was in.
    pub fn remove(&mut self, pod: PodId) -> bool {
        let Some(word) = self.0.get_mut(pod.index() / 64) else { return false };
        let bit = 1 << (pod.index() % 64);
        let was = *word & bit != 0;
        *word &= !bit;
        was
    }

    /// How many pods are in the set.
    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether no pod is in the set.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_found_and_counted() {
        let mut set = PodSet::default();
        for id in [0, 63, 64, 1_000_000] {
            set.insert(PodId(id));
        }
        set.insert(PodId(64));
        assert!(set.contains(PodId(63)) && set.contains(PodId(1_000_000)) && !set.contains(PodId(65)));
        assert!(!set.contains(PodId(5_000_000)));
        assert_eq!(set.len(), 4);
        assert!(PodSet::default().is_empty() && !set.is_empty());
        assert!(set.remove(PodId(64)) && !set.remove(PodId(64)) && !set.remove(PodId(9_000_000)));
        assert!(!set.contains(PodId(64)) && set.contains(PodId(63)));
        assert_eq!(set.len(), 3);
    }
}
