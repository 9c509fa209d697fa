//! The wall clock, as virtual time: nanoseconds since the run started. The only place podlab
//! reads the wall clock; Docker's timestamps are read here too, as Unix seconds.

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

/// An RFC 3339 time (Docker's `SystemTime`: `2026-12-06T12:17:50.123456789Z`, or with an offset
/// such as `+01:00`) as Unix seconds.
pub fn unix_seconds(text: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if text.get(4..5) != Some("-") || text.get(10..11).is_none_or(|t| t != "T" && t != "t") {
        return None;
    }
    // The offset follows the seconds and their optional fraction.
    let rest = text.get(19..)?.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let (h, m) = (rest.get(1..3)?.parse::<i64>().ok()?, rest.get(4..6)?.parse::<i64>().ok()?);
            sign * (h * 3600 + m * 60)
        }
    };
    // Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Docker's times read as Unix seconds, with their offsets; anything else is `None`.
    #[test]
    fn daemon_times_read() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2026-12-06T12:17:50.123456789Z"), Some(1_796_559_470));
        assert_eq!(unix_seconds("2026-12-06T13:17:50.5+01:00"), Some(1_796_559_470));
        assert_eq!(unix_seconds("2000-02-29T00:00:00-00:30"), Some(951_784_200));
        assert_eq!(unix_seconds("yesterday"), None);
        assert_eq!(unix_seconds("2026-12-06 12:17:50"), None);
    }
}
