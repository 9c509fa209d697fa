//! What a scenario's generated workload is: the distributions its draws come from, its job
//! generators and prefill, the jobs a prefill trace lists, and the two kinds of work of the
//! Omega paper. Drawing a run's jobs from them is `podlab-scenario`'s workload generator; the
//! control plane's latencies and random faults draw from the same distributions.

use std::sync::Arc;

use rand_chacha::ChaCha8Rng;
use rand_core::Rng;

use crate::resources::Resources;
use crate::time::{SimDuration, SimTime};

/// The two kinds of work of the Omega paper.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadClass {
    /// Many, short, small jobs.
    #[default]
    Batch,
    /// Few, long-running, larger jobs.
    Service,
}

impl WorkloadClass {
    pub fn parse(text: &str) -> Option<WorkloadClass> {
        match text {
            "batch" => Some(WorkloadClass::Batch),
            "service" => Some(WorkloadClass::Service),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadClass::Batch => "batch",
            WorkloadClass::Service => "service",
        }
    }
}

/// A distribution of non-negative values (nanoseconds for times, counts for tasks).
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    Constant(f64),
    Exponential {
        mean: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    /// `exp(mu + sigma·Z)`, Z standard normal.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    /// Sorted observations; a draw interpolates between neighbouring quantiles.
    Empirical(Arc<[f64]>),
    /// Another distribution's draw shifted, rounded and bounded (see [`Shaped`]).
    Shaped(Arc<Shaped>),
}

/// A draw of `base`, then `+ offset`, then rounded to a multiple of `step` (if `rounding`),
/// then held within `[at_least, at_most]`: the Omega paper's task counts are
/// `max(1, ceil(Exp(mean)))` (`CoreClusterSimulation.scala`, `ExpExpExpWorkloadGenerator`):
/// `{distribution: exponential, mean: "15", rounding: ceil, atLeast: "1"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Shaped {
    pub base: Distribution,
    pub offset: f64,
    pub rounding: Option<Rounding>,
    /// What the rounding rounds to a multiple of (above 0; 1 for counts, 1 ns for times by
    /// default).
    pub step: f64,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
}

/// How a shaped draw is rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Up: the original's task counts.
    Ceil,
    Floor,
    /// To the nearest, halves away from zero.
    Nearest,
}

impl Shaped {
    fn apply(&self, x: f64) -> f64 {
        let x = x + self.offset;
        let mut x = match self.rounding {
            None => x,
            Some(Rounding::Ceil) => (x / self.step).ceil() * self.step,
            Some(Rounding::Floor) => (x / self.step).floor() * self.step,
            Some(Rounding::Nearest) => round(x / self.step) * self.step,
        };
        if let Some(low) = self.at_least {
            x = x.max(low);
        }
        if let Some(high) = self.at_most {
            x = x.min(high);
        }
        x
    }
}

/// A uniform draw in [0, 1) with 53 random bits.
pub fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl Distribution {
    /// The lognormal with the given median and 99th percentile.
    pub fn lognormal(p50: f64, p99: f64) -> Distribution {
        let mu = libm::log(p50);
        // z(0.99) of the standard normal.
        let sigma = (libm::log(p99) - mu) / 2.326_347_874_040_841;
        Distribution::LogNormal { mu, sigma }
    }

    /// The mean of a draw: exact but for a shaped one, whose offset and bounds are applied to
    /// its base's mean (rounding ignored) — close enough to tell a period that is too short.
    pub fn mean(&self) -> f64 {
        match self {
            Distribution::Constant(v) => *v,
            Distribution::Exponential { mean } => *mean,
            Distribution::Uniform { min, max } => (min + max) / 2.0,
            Distribution::LogNormal { mu, sigma } => libm::exp(mu + sigma * sigma / 2.0),
            Distribution::Empirical(values) => values.iter().sum::<f64>() / values.len().max(1) as f64,
            Distribution::Shaped(s) => {
                let x = s.base.mean() + s.offset;
                let x = s.at_least.map_or(x, |low| x.max(low));
                s.at_most.map_or(x, |high| x.min(high))
            }
        }
    }

    /// One draw. The logarithm is `libm`'s, a pure-Rust port of musl's, so a draw is the same
    /// bits on every machine (the platform's `ln` need not be).
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            Distribution::Constant(v) => *v,
            Distribution::Exponential { mean } => -mean * libm::log(1.0 - unit(rng)),
            Distribution::Uniform { min, max } => min + (max - min) * unit(rng),
            Distribution::LogNormal { mu, sigma } => {
                // Box–Muller, with libm's functions for the same bits everywhere.
                let (u1, u2) = (1.0 - unit(rng), unit(rng));
                let z = libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2);
                libm::exp(mu + sigma * z)
            }
            Distribution::Empirical(values) => {
                // Interpolate between the quantiles below and above: below + f·(above − below).
                // (The original simulator added below + f·(below + above), inflating draws.)
                let position = unit(rng) * (values.len() - 1) as f64;
                let i = position as usize;
                let f = position - i as f64;
                let below = values[i];
                let above = values[(i + 1).min(values.len() - 1)];
                below + f * (above - below)
            }
            Distribution::Shaped(shaped) => shaped.apply(shaped.base.sample(rng)),
        }
    }
}

/// A stream of identical-task jobs.
#[derive(Clone, Debug, PartialEq)]
pub struct Generator {
    pub name: String,
    pub workload: WorkloadClass,
    pub inter_arrival_ns: Distribution,
    pub tasks: Distribution,
    pub run_for_ns: Distribution,
    /// Per task.
    pub requests: Resources,
    pub until: Option<SimTime>,
    pub count: Option<u64>,
    pub scheduler_name: Option<String>,
}

/// Jobs running before the run starts, drawn until the cell's CPU is `cpu_utilisation` full and
/// placed by random first fit, bound before any scheduler sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct Prefill {
    pub cpu_utilisation: f64,
    pub workload: WorkloadClass,
    pub tasks: Distribution,
    pub requests: Resources,
    pub run_for_ns: Option<Distribution>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Workload {
    pub generators: Vec<Generator>,
    pub prefill: Option<Prefill>,
    /// Jobs already running at t = 0, listed (`prefillJobs:`) or read from a prefill trace;
    /// placed per seed by random first fit, as the Omega simulator prefills its cell.
    pub prefill_jobs: Vec<PrefillJob>,
    pub rate_multiplier: f64,
}

impl Workload {
    pub fn is_empty(&self) -> bool {
        self.generators.is_empty() && self.prefill.is_none() && self.prefill_jobs.is_empty()
    }
}

/// A job running when the trace's window opens: `tasks` identical tasks, bound before any
/// scheduler runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefillJob {
    /// The trace's job id (digits): the job's pods are `prefill-<id>-<k>`.
    pub id: String,
    pub tasks: u32,
    pub cpu_milli_per_task: u64,
    pub memory_bytes_per_task: u64,
    /// When it ends, counted from t = 0; `None`: it runs to the end of the run.
    pub run_for: Option<SimDuration>,
    pub workload: WorkloadClass,
}

/// `x.round()` — halves away from zero — to the bit, without the call into libm that it is on
/// x86-64's baseline (no SSE4.1 `roundsd`): a generated workload rounds four draws a job, and
/// draws every job twice (counted against the budget, then built), so a million jobs took
/// eight million calls.
#[inline]
pub fn round(x: f64) -> f64 {
    /// From 2^52 on every double is a whole number.
    const WHOLE_FROM: f64 = 4_503_599_627_370_496.0;
    if x.is_nan() || x.abs() >= WHOLE_FROM {
        return x; // NaN, infinite, or whole already
    }
    // Both exact below 2^52: the conversion truncates, and the fraction is representable.
    let truncated = x as i64 as f64;
    let fraction = x - truncated;
    let rounded = if fraction >= 0.5 {
        truncated + 1.0
    } else if fraction <= -0.5 {
        truncated - 1.0
    } else {
        truncated
    };
    rounded.copysign(x) // -0.3 rounds to -0.0, as `f64::round` does
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shaped draw is the base's, shifted, rounded to its step and bounded: the paper's task
    /// counts `max(1, ceil(Exp(mean)))` draw for draw.
    #[test]
    fn shaped_draws_are_exact() {
        let exp = Distribution::Exponential { mean: 15.0 };
        let shaped = |rounding, offset, step, at_least, at_most| {
            Distribution::Shaped(Arc::new(Shaped { base: exp.clone(), offset, rounding, step, at_least, at_most }))
        };
        let paper = shaped(Some(Rounding::Ceil), 0.0, 1.0, Some(1.0), None);
        let (mut a, mut b) = (crate::rng::stream(5, "t"), crate::rng::stream(5, "t"));
        for _ in 0..10_000 {
            let (x, y) = (exp.sample(&mut a), paper.sample(&mut b));
            assert_eq!(y, x.ceil().max(1.0));
        }
        let mut r = crate::rng::stream(6, "t");
        for _ in 0..1000 {
            let x = shaped(Some(Rounding::Floor), 2.5, 5.0, Some(10.0), Some(30.0)).sample(&mut r);
            assert!(x % 5.0 == 0.0 && (10.0..=30.0).contains(&x), "{x}");
            let y = shaped(Some(Rounding::Nearest), 0.0, 1.0, None, None).sample(&mut r);
            assert_eq!(y, y.round());
        }
        let y = shaped(None, -1e12, 1.0, Some(0.0), None).sample(&mut r);
        assert_eq!(y, 0.0);
    }

    /// Exponential draws have the requested mean.
    #[test]
    fn exponential_mean() {
        let d = Distribution::Exponential { mean: 10.0 };
        let mut rng = crate::rng::stream(2, "t");
        let mean = (0..20_000).map(|_| d.sample(&mut rng)).sum::<f64>() / 20_000.0;
        assert!((mean - 10.0).abs() < 0.3, "mean {mean}");
    }
}
