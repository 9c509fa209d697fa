//! The one percentile rule: nearest rank. Both the simulator (its watch-lag record) and the
//! reports (every distribution of a summary) ask here, so a reported value is always one that
//! occurred and the two can never round differently.

/// The 1-based rank of the `percent`-th percentile among `n` sorted values, by nearest rank:
/// ⌈percent × n ÷ 100⌉, at least 1. `percent` is at most 100.
pub fn nearest_rank(percent: u64, n: u64) -> u64 {
    debug_assert!(percent <= 100, "a percentile of {percent}");
    (percent * n).div_ceil(100).max(1)
}

/// The `percent`-th percentile of `sorted` (ascending), by nearest rank; `None` when empty.
pub fn percentile<T: Copy>(sorted: &[T], percent: u64) -> Option<T> {
    let rank = nearest_rank(percent, sorted.len() as u64);
    sorted.get(usize::try_from(rank).ok()? - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nearest rank: each percentile is a value that occurred, the 100th the largest.
    #[test]
    fn nearest_rank_of_a_hundred_values() {
        let values: Vec<u64> = (1..=100).collect();
        let at = |q| percentile(&values, q);
        assert_eq!((at(0), at(1), at(50), at(99), at(100)), (Some(1), Some(1), Some(50), Some(99), Some(100)));
        assert_eq!((percentile(&[7u64], 50), percentile::<u64>(&[], 50)), (Some(7), None));
        assert_eq!((nearest_rank(50, 3), nearest_rank(99, 3), nearest_rank(50, 0)), (2, 3, 1));
    }
}
