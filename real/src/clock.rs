//! The wall clock, as virtual time: nanoseconds since the run started. The only place podlab
//! reads the wall clock.

// Real mode maps virtual time onto the wall clock; this is where that mapping lives.
#![allow(clippy::disallowed_types)]

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use podlab_cluster::SimTime;

/// A monotonic start, and the Unix time it corresponds to (for Docker's `since`).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,
    unix_start: SystemTime,
}

impl Clock {
    pub fn start() -> Clock {
        Clock { start: Instant::now(), unix_start: SystemTime::now() }
    }

    /// Wall time elapsed since the start, as `SimTime` (monotonic: never goes back).
    pub fn now(&self) -> SimTime {
        SimTime(u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    /// The start as Unix `seconds.nanoseconds`, a second early: Docker's event filter compares
    /// in its own clock, and an event a little before the run is harmless (it is filtered by run).
    pub fn unix_start(&self) -> String {
        let since = self.unix_start.duration_since(UNIX_EPOCH).unwrap_or_default();
        format!("{}.{:09}", since.as_secs().saturating_sub(1), since.subsec_nanos())
    }
}
