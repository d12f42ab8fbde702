//! Durations as Compose writes them — Go duration strings (`1m30s`, `500ms`,
//! `1.5s`, `2us`) — and Go's way of printing them (`1h0m0s`).

/// A signed span of time in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

impl Duration {
    /// The duration as a `std::time::Duration` (negative values become zero).
    pub fn as_std(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.max(0) as u64)
    }
}

const NS: i64 = 1;
const US: i64 = 1_000;
const MS: i64 = 1_000_000;
const S: i64 = 1_000_000_000;
const M: i64 = 60 * S;
const H: i64 = 60 * M;

/// Parses a Go duration string.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = |why: &str| format!("invalid duration {text:?}: {why}");
    let t = text.trim();
    let (negative, mut rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if rest == "0" {
        return Ok(Duration(0));
    }
    if rest.is_empty() {
        return Err(invalid(
            "expected a number with a unit such as 10s, 1m30s or 500ms",
        ));
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..num_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(invalid(
                "expected a number with a unit such as 10s, 1m30s or 500ms",
            ));
        }
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let scale = match unit {
            "ns" => NS,
            "us" | "µs" | "μs" => US,
            "ms" => MS,
            "s" => S,
            "m" => M,
            "h" => H,
            "" => {
                return Err(invalid(
                    "missing unit (use ns, us, ms, s, m or h, e.g. 10s)",
                ))
            }
            other => {
                return Err(invalid(&format!(
                    "unknown unit {other:?} (use ns, us, ms, s, m or h)"
                )))
            }
        };
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        let int: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid("number too large"))?
        };
        let mut value = int
            .checked_mul(scale as i128)
            .ok_or_else(|| invalid("too large"))?;
        let mut unit_fraction = scale as i128;
        for digit in frac_part.bytes().take(18) {
            unit_fraction /= 10;
            value += (digit - b'0') as i128 * unit_fraction;
        }
        total = total
            .checked_add(value)
            .ok_or_else(|| invalid("too large"))?;
        if total > i64::MAX as i128 {
            return Err(invalid("too large"));
        }
    }
    let nanos = total as i64;
    Ok(Duration(if negative { -nanos } else { nanos }))
}

/// Prints a duration the way Go's `time.Duration.String` does.
pub fn format_go(d: &Duration) -> String {
    if d.0 == 0 {
        return "0s".into();
    }
    let sign = if d.0 < 0 { "-" } else { "" };
    let u = d.0.unsigned_abs();
    if u < S as u64 {
        let (unit, div, digits) = if u < US as u64 {
            ("ns", 1, 0)
        } else if u < MS as u64 {
            ("µs", US as u64, 3)
        } else {
            ("ms", MS as u64, 6)
        };
        return format!("{sign}{}{unit}", fraction(u, div, digits));
    }
    let secs = u / S as u64;
    let hours = secs / 3600;
    let minutes = (secs / 60) % 60;
    let seconds = fraction(u % (60 * S as u64), S as u64, 9);
    if hours > 0 {
        format!("{sign}{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{sign}{minutes}m{seconds}s")
    } else {
        format!("{sign}{seconds}s")
    }
}

/// `value / div` with the remainder as decimal digits, trailing zeros trimmed.
fn fraction(value: u64, div: u64, digits: usize) -> String {
    let int = value / div;
    let frac = value % div;
    if frac == 0 || digits == 0 {
        return int.to_string();
    }
    let frac = format!("{frac:0digits$}");
    format!("{int}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(text: &str) -> String {
        format_go(&parse_duration(text).unwrap())
    }

    #[test]
    fn prints_like_go() {
        assert_eq!(round("1m30s"), "1m30s");
        assert_eq!(round("90s"), "1m30s");
        assert_eq!(round("1h"), "1h0m0s");
        assert_eq!(round("500ms"), "500ms");
        assert_eq!(round("1.5s"), "1.5s");
        assert_eq!(round("2us"), "2µs");
        assert_eq!(round("10ns"), "10ns");
        assert_eq!(round("1h1m1s"), "1h1m1s");
        assert_eq!(round("0s"), "0s");
        assert_eq!(round("1m0.5s"), "1m0.5s");
        assert_eq!(round("-1s"), "-1s");
        assert_eq!(round(".5s"), "500ms");
        assert_eq!(round("1.25ms"), "1.25ms");
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "90",
            "1d",
            "",
            "s",
            "1..5s",
            "abc",
            "10 s",
            "99999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("90").unwrap_err().contains("missing unit"));
    }
}
