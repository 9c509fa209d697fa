//! Distributions of durations in a summary: nearest-rank percentiles (the rule is
//! `podlab_cluster::percentile`'s, shared with the simulator's watch-lag record), and the
//! samples they are computed from, kept in little memory when values repeat. Every fold of a
//! summary (scheduling, the control plane, workloads) gathers its waits here.

use podlab_cluster::percentile::{nearest_rank, percentile};
use serde::Serialize;

/// A distribution of durations, in nanoseconds (nearest-rank percentiles).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Percentiles {
    pub count: u64,
    pub mean_ns: Option<u64>,
    pub p50_ns: Option<u64>,
    pub p90_ns: Option<u64>,
    pub p99_ns: Option<u64>,
    pub max_ns: Option<u64>,
}

impl Percentiles {
    pub fn of(mut values: Vec<u64>) -> Percentiles {
        values.sort_unstable();
        let n = values.len();
        let rank = |q: u64| percentile(&values, q);
        Percentiles {
            count: n as u64,
            mean_ns: (n > 0).then(|| (values.iter().map(|&v| v as u128).sum::<u128>() / n as u128) as u64),
            p50_ns: rank(50),
            p90_ns: rank(90),
            p99_ns: rank(99),
            max_ns: values.last().copied(),
        }
    }
}

/// Durations gathered for exact percentiles, in little memory when values repeat (a run's
/// million waits are mostly a few distinct values): the raw values are sorted into runs of
/// `(value, count)` whenever they outnumber the runs, while that halves what is kept.
#[derive(Clone, Debug, Default)]
pub(crate) struct Samples {
    raw: Vec<u64>,
    /// Sorted by value, each value once.
    runs: Vec<(u64, u64)>,
    /// Runs stopped paying (nearly every value distinct): values stay raw from then on.
    raw_only: bool,
}

/// Below this many raw values, sorting them into runs is not worth it.
const SAMPLES_BATCH: usize = 1 << 14;

impl Samples {
    pub(crate) fn push(&mut self, value: u64) {
        self.raw.push(value);
        if !self.raw_only && self.raw.len() >= SAMPLES_BATCH.max(self.runs.len()) {
            self.compact();
            // A run takes two words, a raw value one: runs are kept while they are at most a
            // quarter of the values (half would only break even).
            let count: u64 = self.runs.iter().map(|r| r.1).sum();
            self.raw_only = self.runs.len() as u64 * 4 > count;
        }
    }

    /// Merges the raw values into the runs.
    fn compact(&mut self) {
        self.raw.sort_unstable();
        let mut merged = Vec::with_capacity(self.runs.len() + 16);
        let (mut runs, mut raw) = (self.runs.iter().copied().peekable(), self.raw.iter().copied().peekable());
        loop {
            let next = match (runs.peek(), raw.peek()) {
                (Some(&(v, _)), Some(&r)) if r < v => (raw.next().expect("peeked"), 1),
                (Some(_), _) => runs.next().expect("peeked"),
                (None, Some(_)) => (raw.next().expect("peeked"), 1),
                (None, None) => break,
            };
            match merged.last_mut() {
                Some((v, c)) if *v == next.0 => *c += next.1,
                _ => merged.push(next),
            }
        }
        (self.runs, self.raw) = (merged, Vec::new());
    }

    /// Every value, sorted, as `(value, count)` runs.
    pub(crate) fn into_runs(mut self) -> Vec<(u64, u64)> {
        self.compact();
        self.runs
    }

    /// Nearest-rank percentiles, as [`Percentiles::of`] gives of the same values.
    pub(crate) fn percentiles(mut self) -> Percentiles {
        if self.runs.is_empty() {
            return Percentiles::of(self.raw);
        }
        self.compact();
        let n: u64 = self.runs.iter().map(|r| r.1).sum();
        // The value of rank k (1-based): the run whose cumulative count reaches k.
        let rank = |q: u64| {
            let k = nearest_rank(q, n);
            let mut seen = 0;
            self.runs.iter().find(|r| {
                seen += r.1;
                seen >= k
            })
        };
        let sum: u128 = self.runs.iter().map(|&(v, c)| v as u128 * c as u128).sum();
        Percentiles {
            count: n,
            mean_ns: Some((sum / n as u128) as u64),
            p50_ns: rank(50).map(|r| r.0),
            p90_ns: rank(90).map(|r| r.0),
            p99_ns: rank(99).map(|r| r.0),
            max_ns: self.runs.last().map(|r| r.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples give exactly the percentiles of their values, whether kept raw or as runs.
    #[test]
    fn samples_are_exact_however_they_are_kept() {
        for (n, distinct) in [(0u64, 1u64), (10, 3), (100_000, 7), (100_000, 100_000), (70_000, 20_000)] {
            let values: Vec<u64> = (0..n).map(|i| (i * 7919) % distinct * 1000 + distinct).collect();
            let mut samples = Samples::default();
            values.iter().for_each(|&v| samples.push(v));
            assert_eq!(samples.percentiles(), Percentiles::of(values), "{n} values, {distinct} distinct");
        }
    }

    /// Percentiles use the nearest rank, so every reported value is one that occurred.
    #[test]
    fn nearest_rank_percentiles() {
        let p = Percentiles::of((1..=100).collect());
        assert_eq!(
            (p.p50_ns, p.p90_ns, p.p99_ns, p.max_ns, p.mean_ns),
            (Some(50), Some(90), Some(99), Some(100), Some(50))
        );
        let p = Percentiles::of(vec![7]);
        let mut samples = Samples::default();
        samples.push(7);
        assert_eq!(samples.percentiles(), p);
        assert_eq!((p.p50_ns, p.p99_ns), (Some(7), Some(7)));
        assert_eq!(Percentiles::of(vec![]).p50_ns, None);
    }
}
