//! Exact Kubernetes resource quantities (`500m`, `1.5`, `1Gi`, `1280Mi`, `1e3`) parsed to
//! integers — millicores for CPU, base units (bytes, devices) for everything else — without
//! ever passing through a float.

/// How a resource's quantity is counted once parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// CPU: thousandths of a core. Finer values round up, as the apiserver does.
    Milli,
    /// Memory and storage: bytes. Fractional bytes round up.
    Bytes,
    /// Extended resources (`nvidia.com/gpu`) and `pods`: whole devices; fractions are invalid.
    Whole,
}

impl Unit {
    /// The unit a Kubernetes resource name is counted in.
    pub fn of(resource: &str) -> Unit {
        match resource {
            "cpu" => Unit::Milli,
            "memory" | "ephemeral-storage" | "storage" => Unit::Bytes,
            r if r.starts_with("hugepages-") => Unit::Bytes,
            _ => Unit::Whole,
        }
    }

    /// The largest value one object may name: beyond this a number is a typo, and the bound
    /// keeps every sum of requests on a node far from `u64` overflow.
    pub fn limit(self) -> u64 {
        match self {
            Unit::Milli => 1_000_000 * 1000,  // a million cores
            Unit::Bytes => 1 << 50,           // 1 PiB
            Unit::Whole => 1_000_000_000_000, // 10^12 devices
        }
    }

    fn limit_text(self) -> &'static str {
        match self {
            Unit::Milli => "1000000 cores",
            Unit::Bytes => "1Pi",
            Unit::Whole => "10^12",
        }
    }
}

/// Parses a quantity for `resource` into its integer unit (see [`Unit`]).
pub fn parse_quantity(text: &str, resource: &str) -> Result<u64, String> {
    let unit = Unit::of(resource);
    let s = text.trim();
    let hint = "write e.g. `500m`, `2`, `1.5`, `1Gi`, `512Mi` or `1e3`";
    if s.is_empty() {
        return Err(format!("empty quantity for `{resource}`; {hint}"));
    }
    let (negative, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let number_end = body.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(body.len());
    let (number, suffix) = body.split_at(number_end);
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && frac.is_empty()) || frac.contains('.') {
        return Err(format!("`{text}` is not a quantity; {hint}"));
    }
    // value = digits × 10^(exp10 − len(frac)) × 2^exp2
    let (exp10, exp2): (i32, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        s if s.starts_with(['e', 'E']) => match s[1..].parse::<i32>() {
            Ok(e) if (-30..=30).contains(&e) => (e, 0),
            _ => return Err(format!("`{text}`: bad exponent `{s}`; {hint}")),
        },
        other => {
            return Err(format!(
                "`{text}`: unknown suffix `{other}` (decimal: m k M G T P E; binary: Ki Mi Gi Ti Pi Ei)"
            ));
        }
    };
    if negative && number.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        return Err(format!("`{text}` is negative; `{resource}` cannot be negative"));
    }
    let digits = format!("{whole}{frac}");
    let digits = digits.trim_start_matches('0');
    let too_large =
        || format!("`{text}` is absurdly large for `{resource}` (podlab's limit is {} per object)", unit.limit_text());
    if digits.len() > 30 {
        return Err(too_large());
    }
    let mantissa: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| format!("`{text}` is not a quantity; {hint}"))?
    };
    let scale_exp10 = exp10 + if unit == Unit::Milli { 3 } else { 0 } - frac.len() as i32;
    let mut numerator = mantissa.checked_shl(exp2).filter(|v| v >> exp2 == mantissa).ok_or_else(too_large)?;
    let mut denominator: u128 = 1;
    if scale_exp10 >= 0 {
        if scale_exp10 > 36 && mantissa != 0 {
            return Err(too_large());
        }
        numerator = numerator.checked_mul(10u128.pow(scale_exp10.min(36) as u32)).ok_or_else(too_large)?;
    } else {
        denominator = 10u128.pow((-scale_exp10).min(38) as u32);
    }
    let value = numerator.div_ceil(denominator);
    if unit == Unit::Whole && numerator % denominator != 0 {
        return Err(format!("`{text}`: `{resource}` is counted in whole units; fractions are not allowed"));
    }
    if value > unit.limit() as u128 {
        return Err(too_large());
    }
    Ok(value as u64)
}

/// Formats a value in its resource's unit the way `kubectl` would show it (`500m`, `2`, `1536Mi`).
pub fn format_quantity(value: u64, resource: &str) -> String {
    match Unit::of(resource) {
        Unit::Milli if value % 1000 == 0 => format!("{}", value / 1000),
        Unit::Milli => format!("{value}m"),
        Unit::Bytes => {
            for (shift, suffix) in [(50, "Pi"), (40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki")] {
                if value != 0 && value % (1u64 << shift) == 0 {
                    return format!("{}{suffix}", value >> shift);
                }
            }
            format!("{value}")
        }
        Unit::Whole => format!("{value}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every form of quantity a manifest uses maps to the exact integer Kubernetes would store.
    #[test]
    fn parses_exactly() {
        let cases = [
            ("500m", "cpu", 500),
            ("2", "cpu", 2000),
            ("1.5", "cpu", 1500),
            ("0.1", "cpu", 100),
            ("1e3", "cpu", 1_000_000),
            ("100u", "cpu", 1), // finer than a millicore rounds up
            ("1Gi", "memory", 1 << 30),
            ("1280Mi", "memory", 1280 << 20),
            ("0.5Gi", "memory", 1 << 29),
            ("1.25Gi", "memory", 1_342_177_280),
            ("1e3", "memory", 1000),
            ("1k", "memory", 1000),
            ("128974848", "memory", 128_974_848),
            ("129M", "memory", 129_000_000),
            ("2", "nvidia.com/gpu", 2),
            ("0", "cpu", 0),
            ("-0", "cpu", 0),
            ("+1", "cpu", 1000),
            ("1E3", "pods", 1000),
        ];
        for (text, resource, want) in cases {
            assert_eq!(parse_quantity(text, resource), Ok(want), "{text} of {resource}");
        }
    }

    /// Bad quantities are rejected with a reason that says how to fix them.
    #[test]
    fn rejects_bad_quantities() {
        let cases = [
            ("", "cpu", "empty"),
            ("abc", "cpu", "not a quantity"),
            ("1.2.3", "cpu", "not a quantity"),
            ("-1Gi", "memory", "negative"),
            ("5Zi", "memory", "unknown suffix"),
            ("2Ei", "memory", "absurdly large"),
            ("99999999999999999999999999999999999999", "cpu", "absurdly large"),
            ("1e30", "cpu", "absurdly large"),
            ("0.5", "nvidia.com/gpu", "whole units"),
            ("1e99", "cpu", "bad exponent"),
        ];
        for (text, resource, why) in cases {
            let err = parse_quantity(text, resource).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    /// Formatting picks the unit a person would write.
    #[test]
    fn formats_like_kubectl() {
        assert_eq!(format_quantity(500, "cpu"), "500m");
        assert_eq!(format_quantity(2000, "cpu"), "2");
        assert_eq!(format_quantity(1536 << 20, "memory"), "1536Mi");
        assert_eq!(format_quantity(1 << 30, "memory"), "1Gi");
        assert_eq!(format_quantity(1000, "memory"), "1000");
    }
}
