//! Waiting for the other side's line by polling briefly before sleeping. Each exchange is one
//! round trip, and the answer usually comes within microseconds; a reader that sleeps at once
//! must be woken by the kernel, which on a virtual machine with an idle second core costs an
//! inter-processor interrupt and a halted vCPU's wake-up, tens of microseconds — more than the
//! decision itself. Both sides (podlab in `child`, a Rust policy in `client`) poll the pipe
//! without sleeping for at most [`SPIN`], then sleep as before.
//!
//! Polling only pays when the other side runs meanwhile, on another core. On a busy machine it
//! may not (it waits for a core, or for this very one), and a reader that polls its whole
//! budget each time burns it for nothing — ten times slower, measured. So a [`Spinner`] backs
//! off: each wait whose polling missed doubles the number of waits it then sleeps through
//! without polling (up to [`MAX_SKIP`]), and each hit halves it. Where polling misses more
//! often than it hits it is soon tried once in a thousand waits; where it hits (two idle
//! cores), it is tried every wait. Only how long a wait takes changes, never what is read.
// A wall-clock budget on polling: it bounds CPU spent waiting and reaches no decision.
#![allow(clippy::disallowed_types)]

use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fd::AsFd;

/// How long a reader polls before it sleeps: above a first fit's decision and podlab's work
/// between two exchanges of the throughput run (a few microseconds each), well below what a
/// slow policy takes (a Python one answers in about 100 µs: the reader misses, and backs off).
pub const SPIN: Duration = Duration::from_micros(50);

/// The most waits a [`Spinner`] sleeps through without polling after misses in a row: on a
/// machine where polling never pays it costs at most one [`SPIN`] in this many waits.
pub const MAX_SKIP: u32 = 1024;

/// A reader's polling, backing off while it misses.
#[derive(Debug, Default)]
pub struct Spinner {
    /// Waits left to sleep through without polling.
    skip: u32,
    /// Misses less hits, at least 0 (the skip after a wait is 2^misses − 1, capped).
    misses: u32,
}

impl Spinner {
    /// Whether `fd` became readable (or hung up, or in error: the read that follows says
    /// which) by polling it for at most [`SPIN`]; `false` means: sleep on it.
    pub fn wait(&mut self, fd: impl AsFd) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
            return false;
        }
        let started = Instant::now();
        let ready = readable_within(&fd, started, SPIN);
        // Readable only after the budget (a yield gave the core away for long) is a miss too:
        // polling did not save a sleep's cost.
        if ready && started.elapsed() <= SPIN {
            self.misses = self.misses.saturating_sub(1);
        } else {
            self.misses = (self.misses + 1).min(MAX_SKIP.ilog2() + 1);
        }
        self.skip = (1u32 << self.misses).min(MAX_SKIP + 1) - 1;
        ready
    }
}

/// Polls `fd` without sleeping until it is readable or `budget` has passed since `started`,
/// yielding the core between polls: on a busy machine the other side may be waiting for it.
fn readable_within(fd: &impl AsFd, started: Instant, budget: Duration) -> bool {
    let zero = Timespec { tv_sec: 0, tv_nsec: 0 };
    loop {
        let mut fds = [PollFd::new(fd, PollFlags::IN)];
        if matches!(rustix::event::poll(&mut fds, Some(&zero)), Ok(n) if n > 0) {
            return true;
        }
        if started.elapsed() >= budget {
            return false;
        }
        std::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_with_a_line_is_readable_and_an_empty_one_is_not_after_the_budget() {
        let (reader, writer) = rustix::pipe::pipe().expect("a pipe");
        let started = Instant::now();
        assert!(!readable_within(&reader, started, Duration::from_millis(2)));
        assert!(started.elapsed() >= Duration::from_millis(2));
        rustix::io::write(&writer, b"x\n").expect("written");
        assert!(readable_within(&reader, Instant::now(), Duration::ZERO));
        let mut buf = [0u8; 4];
        assert_eq!(rustix::io::read(&reader, &mut buf).expect("read"), 2);
        drop(writer);
        // Hung up: readable at once (the read says end of file).
        assert!(readable_within(&reader, Instant::now(), Duration::ZERO));
    }

    #[test]
    fn misses_back_off_exponentially_and_hits_win_polling_back() {
        let (reader, writer) = rustix::pipe::pipe().expect("a pipe");
        let mut spinner = Spinner::default();
        // Each miss polls once, then skips 1, 3, 7… waits.
        let mut polled = Vec::new();
        for _ in 0..11 {
            let skipping = spinner.skip > 0;
            assert!(!spinner.wait(&reader));
            polled.push(!skipping);
        }
        assert_eq!(polled, [true, false, true, false, false, false, true, false, false, false, false]);
        for _ in 0..10_000 {
            spinner.wait(&reader);
        }
        assert_eq!(spinner.misses, MAX_SKIP.ilog2() + 1);
        assert!(spinner.skip <= MAX_SKIP, "capped: {}", spinner.skip);
        // With a line waiting, each hit halves the skip, back to polling every wait.
        rustix::io::write(&writer, b"x\n").expect("written");
        let mut polls = 0;
        while spinner.misses > 0 {
            if spinner.skip == 0 {
                polls += 1;
            }
            spinner.wait(&reader);
        }
        assert_eq!((polls, spinner.skip), (11, 0));
        assert!(spinner.wait(&reader));
    }
}
