//! Virtual time: integer nanoseconds, never floating point, and Go/Kubernetes-style duration strings.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant of virtual time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of virtual time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

/// Nanoseconds in a second: times and durations are integer nanoseconds.
pub const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// An `Option<SimTime>` in eight bytes rather than sixteen, for books kept per pod or per
/// queued event (a million of them): `SimTime::MAX`, which no event reaches, stands for none.
pub type MaybeTime = crate::maybe::Maybe<SimTime>;

impl crate::maybe::Niche for SimTime {
    const NONE: SimTime = SimTime::MAX;
}

impl crate::maybe::Niche for SimDuration {
    const NONE: SimDuration = SimDuration(u64::MAX);
}

impl SimTime {
    /// The start of a run.
    pub const ZERO: SimTime = SimTime(0);
    /// Later than any time a run reaches.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start of the run.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// Time since `earlier`, or zero if `earlier` is later (never wraps).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// `secs` seconds.
    pub const fn from_secs(secs: u64) -> SimDuration {
        SimDuration(secs * NANOS_PER_SECOND)
    }

    /// `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> SimDuration {
        SimDuration(millis * 1_000_000)
    }

    /// The duration in nanoseconds.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds as a float, for reports only: the clock itself never sees a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SECOND as f64
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    /// Saturates rather than wraps: a timer past the end of time simply never fires.
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(rhs.0))
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, rhs: SimTime) -> SimDuration {
        self.since(rhs)
    }
}

/// Exact decimal seconds (`12.500000000`): the form used in CSV and JSON outputs.
pub fn seconds_exact(nanos: u64) -> String {
    format!("{}.{:09}", nanos / NANOS_PER_SECOND, nanos % NANOS_PER_SECOND)
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SimDuration(self.0).fmt(f)
    }
}

impl fmt::Display for SimDuration {
    /// Human form in the style of Go's `time.Duration`: `1h2m3s`, `1.5s`, `250ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns == 0 {
            return f.write_str("0s");
        }
        if ns < 1_000 {
            return write!(f, "{ns}ns");
        }
        if ns < 1_000_000 {
            return write_fraction(f, ns, 1_000, "µs");
        }
        if ns < NANOS_PER_SECOND {
            return write_fraction(f, ns, 1_000_000, "ms");
        }
        let total_secs = ns / NANOS_PER_SECOND;
        let (hours, minutes) = (total_secs / 3600, (total_secs / 60) % 60);
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if hours > 0 || minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        write_fraction(f, ns % (60 * NANOS_PER_SECOND), NANOS_PER_SECOND, "s")
    }
}

fn write_fraction(f: &mut fmt::Formatter<'_>, value: u64, unit: u64, suffix: &str) -> fmt::Result {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return write!(f, "{whole}{suffix}");
    }
    let digits = unit.ilog10() as usize;
    let text = format!("{frac:0digits$}");
    write!(f, "{whole}.{}{suffix}", text.trim_end_matches('0'))
}

/// The longest duration a scenario may name: a century of virtual time. Anything longer is a
/// typo, and it keeps every sum of durations far from `u64` overflow.
pub const MAX_DURATION: SimDuration = SimDuration(100 * 365 * 24 * 3600 * NANOS_PER_SECOND);

/// Parses a Go/Kubernetes duration string (`30s`, `1h30m`, `1.5s`, `250ms`, `10us`) into exact
/// nanoseconds. Fractions are exact decimal, not floating point; sub-nanosecond remainders are
/// rejected rather than rounded.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration; write e.g. `30s`, `5m` or `1h30m`".into());
    }
    if s.starts_with('-') {
        return Err(format!("`{text}` is negative; durations must be zero or positive"));
    }
    if s == "0" {
        return Ok(SimDuration::ZERO);
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total: u128 = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let whole = &s[start..i];
        let mut frac = "";
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            let fstart = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            frac = &s[fstart..i];
        }
        if whole.is_empty() && frac.is_empty() {
            return Err(format!("`{text}` is not a duration; write e.g. `30s`, `5m` or `1h30m`"));
        }
        let ustart = i;
        while i < bytes.len() && !bytes[i].is_ascii_digit() && bytes[i] != b'.' {
            i += 1;
        }
        let unit_ns: u128 = match &s[ustart..i] {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => {
                return Err(format!("`{text}` has no unit; write e.g. `{text}s` (units: ns, us, ms, s, m, h)"));
            }
            other => {
                return Err(format!("`{text}`: unknown unit `{other}` (units: ns, us, ms, s, m, h)"));
            }
        };
        if whole.len() > 30 || frac.len() > 30 {
            return Err(format!("`{text}` is absurdly long"));
        }
        let whole_value: u128 =
            if whole.is_empty() { 0 } else { whole.parse().map_err(|_| format!("`{text}` is not a duration"))? };
        let mut part = whole_value.checked_mul(unit_ns).ok_or_else(|| too_long(text))?;
        if !frac.is_empty() {
            let frac_value: u128 = frac.parse().map_err(|_| format!("`{text}` is not a duration"))?;
            let scale = 10u128.pow(frac.len() as u32);
            let scaled = frac_value.checked_mul(unit_ns).ok_or_else(|| too_long(text))?;
            if scaled % scale != 0 {
                return Err(format!("`{text}` is finer than a nanosecond"));
            }
            part += scaled / scale;
        }
        total = total.checked_add(part).ok_or_else(|| too_long(text))?;
        if total > MAX_DURATION.0 as u128 {
            return Err(too_long(text));
        }
    }
    Ok(SimDuration(total as u64))
}

fn too_long(text: &str) -> String {
    format!("`{text}` is absurdly long (podlab's limit is 100 years of virtual time)")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Durations parse exactly, in every unit and in compound and fractional forms.
    #[test]
    fn parses_go_style_durations() {
        assert_eq!(parse_duration("30s"), Ok(SimDuration::from_secs(30)));
        assert_eq!(parse_duration("1h30m"), Ok(SimDuration::from_secs(5400)));
        assert_eq!(parse_duration("1.5s"), Ok(SimDuration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(SimDuration::from_millis(250)));
        assert_eq!(parse_duration("10us"), Ok(SimDuration(10_000)));
        assert_eq!(parse_duration("7ns"), Ok(SimDuration(7)));
        assert_eq!(parse_duration("0"), Ok(SimDuration::ZERO));
        assert_eq!(parse_duration("2m3.25s"), Ok(SimDuration(123_250_000_000)));
    }

    /// Malformed, negative, unit-less and absurd durations are rejected with a reason.
    #[test]
    fn rejects_bad_durations() {
        for bad in ["", "30", "-5s", "5x", "s", "1.5ns", "200y", "1000000h", "."] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
    }

    /// Display is the inverse of parsing for the forms people write.
    #[test]
    fn displays_like_go() {
        for text in ["0s", "1h2m3s", "1.5s", "250ms", "10µs", "7ns", "5m0s", "2m3.25s"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(d.to_string(), text);
        }
        assert_eq!(seconds_exact(1_500_000_000), "1.500000000");
    }
}
