//! Waits that may never end: a pod's time to schedule, when some pods are never scheduled
//! (abandoned after their retries, deleted while pending, or still pending when the run ends).
//! Dropping them would make the design that gives up most look fastest; counting them as
//! scheduled at the end would invent a wait. They are *censored* observations, as survival
//! analysis has them: the pod waited at least this long. Percentiles come from the
//! Kaplan–Meier estimate of the distribution, and a percentile the estimate never reaches
//! (more pods never scheduled than the percentile leaves out) is `None`.

use serde::Serialize;

/// A pod's time to schedule over every pod created, those never scheduled included (as
/// censored waits). Without censored waits the percentiles are exactly the nearest-rank
/// percentiles of the waits.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Waits {
    /// Pods created: scheduled, and never scheduled.
    pub count: u64,
    pub scheduled: u64,
    /// Created but never scheduled: abandoned, deleted while pending, or pending at the end.
    /// Each is counted as waiting until it was deleted or the run ended, and no longer.
    pub never_scheduled: u64,
    /// The mean of every pod's wait, a never-scheduled pod's counted until its deletion or the
    /// run's end (the restricted mean: a lower bound when any pod was never scheduled).
    pub mean_ns: Option<u64>,
    /// Kaplan–Meier percentiles; `None` when too many pods were never scheduled to reach it.
    pub p50_ns: Option<u64>,
    pub p90_ns: Option<u64>,
    pub p99_ns: Option<u64>,
    /// The longest wait of a pod that was scheduled.
    pub max_ns: Option<u64>,
}

impl Waits {
    /// The waits of scheduled pods (`waits`, as sorted `(value, count)` runs) and the waits so
    /// far of pods never scheduled (`censored`, in any order).
    pub fn of(waits: &[(u64, u64)], mut censored: Vec<u64>) -> Waits {
        censored.sort_unstable();
        let scheduled: u64 = waits.iter().map(|w| w.1).sum();
        let never = censored.len() as u64;
        let count = scheduled + never;
        let sum: u128 = waits.iter().map(|&(v, c)| u128::from(v) * u128::from(c)).sum::<u128>()
            + censored.iter().map(|&v| u128::from(v)).sum::<u128>();
        let curve = kaplan_meier(waits, &censored);
        let at = |q: u64| quantile(&curve, q);
        Waits {
            count,
            scheduled,
            never_scheduled: never,
            mean_ns: (count > 0).then(|| (sum / u128::from(count)) as u64),
            p50_ns: at(50),
            p90_ns: at(90),
            p99_ns: at(99),
            max_ns: waits.last().map(|w| w.0),
        }
    }
}

/// One step of a Kaplan–Meier curve: at `wait_ns`, the estimated share of pods scheduled
/// within it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub wait_ns: u64,
    pub share: f64,
    /// The share as an exact fraction while no wait has been censored yet (`k` of `n`), so
    /// that percentiles are the nearest-rank ones exactly.
    exact: Option<(u64, u64)>,
}

/// The Kaplan–Meier estimate of the share of pods scheduled within each wait: `waits` are
/// observed waits as sorted `(value, count)` runs, `censored` sorted waits so far of pods never
/// scheduled. A pod censored at a wait is still at risk at that wait (the usual convention).
pub fn kaplan_meier(waits: &[(u64, u64)], censored: &[u64]) -> Vec<Step> {
    let total = waits.iter().map(|w| w.1).sum::<u64>() + censored.len() as u64;
    let mut steps = Vec::with_capacity(waits.len());
    // Survival is exact within a segment with no censoring: the segment's start times
    // (r − k) / r, r at risk when it began and k scheduled since.
    let (mut base, mut at_risk, mut done_in_segment, mut exact) = (1.0_f64, total, 0_u64, true);
    let mut c = 0;
    for &(wait, count) in waits {
        // Pods censored before this wait leave the risk set, starting a new segment.
        let mut left = 0;
        while c < censored.len() && censored[c] < wait {
            left += 1;
            c += 1;
        }
        if left > 0 {
            base *= (at_risk - done_in_segment) as f64 / at_risk as f64;
            at_risk -= done_in_segment + left;
            (done_in_segment, exact) = (0, false);
        }
        done_in_segment += count;
        let survival = base * (at_risk - done_in_segment) as f64 / at_risk as f64;
        let exact_share = exact.then_some((done_in_segment, total));
        let share = exact_share.map_or(1.0 - survival, |(k, n)| k as f64 / n as f64);
        steps.push(Step { wait_ns: wait, share, exact: exact_share });
    }
    steps
}

/// The `percent`-th percentile of a Kaplan–Meier curve: the first wait whose share reaches
/// it; nearest rank exactly while no wait is censored.
pub fn quantile(curve: &[Step], percent: u64) -> Option<u64> {
    let reached = |s: &Step| match s.exact {
        Some((k, n)) => k * 100 >= percent * n,
        None => s.share >= percent as f64 / 100.0,
    };
    curve.iter().find(|s| reached(s)).map(|s| s.wait_ns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::percentiles::Percentiles;

    fn runs(values: &[u64]) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        for &v in values {
            match out.last_mut() {
                Some((w, c)) if *w == v => *c += 1,
                _ => out.push((v, 1)),
            }
        }
        out
    }

    /// With every pod scheduled, the percentiles are the nearest-rank ones of the waits.
    #[test]
    fn without_censoring_the_percentiles_are_nearest_rank() {
        for values in [(1..=100).collect::<Vec<u64>>(), vec![7], vec![3, 3, 3, 9], (0..1000).map(|i| i / 7).collect()] {
            let w = Waits::of(&runs(&values), Vec::new());
            let p = Percentiles::of(values.clone());
            assert_eq!(
                (w.p50_ns, w.p90_ns, w.p99_ns, w.max_ns, w.mean_ns),
                (p.p50_ns, p.p90_ns, p.p99_ns, p.max_ns, p.mean_ns)
            );
            assert_eq!((w.count, w.scheduled, w.never_scheduled), (p.count, p.count, 0));
        }
    }

    /// A pod never scheduled is never dropped: with half the pods abandoned, the median is not
    /// reached, and the design that gives up does not look fast.
    #[test]
    fn pods_never_scheduled_hold_the_percentiles_back() {
        let w = Waits::of(&runs(&[1, 2]), vec![100, 100]);
        assert_eq!((w.count, w.scheduled, w.never_scheduled), (4, 2, 2));
        assert_eq!((w.p50_ns, w.p90_ns, w.max_ns), (Some(2), None, Some(2)));
        assert_eq!(w.mean_ns, Some(50));
        let none = Waits::of(&[], vec![5]);
        assert_eq!((none.p50_ns, none.max_ns, none.never_scheduled), (None, None, 1));
    }

    /// A pod censored early (it arrived just before the end) leaves the risk set: the pods
    /// after it are estimated among those still waiting, as Kaplan and Meier do.
    #[test]
    fn early_censoring_is_kaplan_meier() {
        // Waits 1, 2, 3, 4 and one pod censored at 1 (at risk at 1): S(1) = 4/5, then 3 at
        // risk: S(2) =
        // 4/5 · 2/3, S(3) = 4/5 · 1/3, S(4) = 0.
        let curve = kaplan_meier(&runs(&[1, 2, 3, 4]), &[1]);
        let shares: Vec<f64> = curve.iter().map(|s| (s.share * 1e6).round() / 1e6).collect();
        assert_eq!(shares, vec![0.2, 0.466667, 0.733333, 1.0]);
        assert_eq!((quantile(&curve, 50), quantile(&curve, 99)), (Some(3), Some(4)));
    }
}
