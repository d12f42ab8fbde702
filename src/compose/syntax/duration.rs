//! Durations as Compose writes them: Go `time.Duration` strings.
//!
//! Compose decodes `healthcheck.interval`, `timeout`, `start_period`,
//! `start_interval` and `stop_grace_period` with Go's `time.ParseDuration`,
//! and `config` prints them back with `time.Duration.String()`. This module
//! reproduces both exactly:
//!
//! - a sequence of `<number><unit>` with units `ns`, `us`, `µs` (U+00B5),
//!   `μs` (U+03BC), `ms`, `s`, `m`, `h`; numbers may carry a fraction
//!   (`1.5s`, `.5s`, `5.s`); one optional leading sign (`-1s` is accepted);
//! - the bare string `"0"` (with an optional sign) is zero; any other number
//!   without a unit is an error (`"10"`: missing unit). A YAML integer is
//!   refused earlier by Compose's schema ("must be a string");
//! - no spaces anywhere, units are case-sensitive (`1S` is refused), no `d`;
//! - the total must fit in an `i64` of nanoseconds.
//!
//! Printing: `1m30s`, `1h0m0s`, `500ms`, `1.5s`, `2µs`, `0s`, `-1s`.

use std::fmt;

/// A signed span of time in nanoseconds, like Go's `time.Duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    nanos: i64,
}

impl Duration {
    /// The zero duration.
    pub const ZERO: Duration = Duration { nanos: 0 };

    /// A duration of `nanos` nanoseconds (may be negative).
    pub const fn from_nanos(nanos: i64) -> Self {
        Duration { nanos }
    }

    /// A duration of whole seconds; `None` if it does not fit.
    pub const fn from_secs(secs: i64) -> Option<Self> {
        match secs.checked_mul(NANOS_PER_SECOND as i64) {
            Some(nanos) => Some(Duration { nanos }),
            None => None,
        }
    }

    /// The length in nanoseconds (negative for negative durations).
    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    /// Whether the duration is below zero.
    pub const fn is_negative(self) -> bool {
        self.nanos < 0
    }

    /// The same span as a [`std::time::Duration`]; `None` when negative.
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.nanos)
            .ok()
            .map(std::time::Duration::from_nanos)
    }
}

impl fmt::Display for Duration {
    /// Writes the duration the way Go's `time.Duration.String()` does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_go(self))
    }
}

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SECOND: u64 = 1_000_000_000;
const NANOS_PER_MINUTE: u64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: u64 = 60 * NANOS_PER_MINUTE;

/// 2^63: the magnitude of the most negative duration.
const LIMIT: u64 = 1 << 63;

/// The value of one unit in nanoseconds, if `unit` is a unit Go knows.
fn unit_nanos(unit: &str) -> Option<u64> {
    match unit {
        "ns" => Some(1),
        "us" | "\u{b5}s" | "\u{3bc}s" => Some(NANOS_PER_MICRO),
        "ms" => Some(NANOS_PER_MILLI),
        "s" => Some(NANOS_PER_SECOND),
        "m" => Some(NANOS_PER_MINUTE),
        "h" => Some(NANOS_PER_HOUR),
        _ => None,
    }
}

/// Parses a Go duration string (`1m30s`, `1.5h`, `-500ms`, `0`).
///
/// Errors read like `invalid duration "10": missing unit (ns, us, ms, s, m or h)`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = |why: &str| format!("invalid duration {text:?}: {why}");
    let bytes = text.as_bytes();
    let mut rest = bytes;
    let mut negative = false;
    if let Some((&sign, tail)) = rest.split_first() {
        if sign == b'-' || sign == b'+' {
            negative = sign == b'-';
            rest = tail;
        }
    }
    if rest == b"0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid("expected a number followed by a unit, like 30s"));
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !rest
            .first()
            .is_some_and(|&c| c == b'.' || c.is_ascii_digit())
        {
            return Err(invalid("expected a number followed by a unit, like 30s"));
        }
        // Whole part.
        let whole_len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let (whole_digits, after_whole) = rest.split_at(whole_len);
        let mut whole: u64 = 0;
        for &d in whole_digits {
            whole = whole
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
                .filter(|&v| v <= LIMIT)
                .ok_or_else(|| invalid("too large"))?;
        }
        rest = after_whole;
        // Fraction: keeps precision while it fits, then ignores digits.
        let mut fraction: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut has_fraction_digits = false;
        if let Some((b'.', tail)) = rest.split_first() {
            rest = tail;
            let frac_len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            let (frac_digits, after_frac) = rest.split_at(frac_len);
            has_fraction_digits = frac_len > 0;
            let mut overflowed = false;
            for &d in frac_digits {
                if overflowed {
                    continue;
                }
                match fraction
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(d - b'0')))
                    .filter(|&v| v <= LIMIT)
                {
                    Some(v) if fraction <= (LIMIT - 1) / 10 => {
                        fraction = v;
                        scale *= 10.0;
                    }
                    _ => overflowed = true,
                }
            }
            rest = after_frac;
        }
        if whole_len == 0 && !has_fraction_digits {
            return Err(invalid("expected digits before the unit"));
        }
        // Unit: everything up to the next digit or dot.
        let unit_len = rest
            .iter()
            .take_while(|&&c| c != b'.' && !c.is_ascii_digit())
            .count();
        if unit_len == 0 {
            return Err(invalid("missing unit (ns, us, ms, s, m or h)"));
        }
        let (unit_bytes, after_unit) = rest.split_at(unit_len);
        rest = after_unit;
        let unit_text = String::from_utf8_lossy(unit_bytes);
        let unit = unit_nanos(&unit_text).ok_or_else(|| {
            invalid(&format!(
                "unknown unit {unit_text:?} (use ns, us, ms, s, m or h)"
            ))
        })?;
        let mut value = whole
            .checked_mul(unit)
            .filter(|&v| v <= LIMIT)
            .ok_or_else(|| invalid("too large"))?;
        if fraction > 0 {
            // Go computes the fractional part in float64; so do we, bit for bit.
            let part = (fraction as f64) * (unit as f64 / scale);
            value = value
                .checked_add(part as u64)
                .filter(|&v| v <= LIMIT)
                .ok_or_else(|| invalid("too large"))?;
        }
        total = total
            .checked_add(value)
            .filter(|&v| v <= LIMIT)
            .ok_or_else(|| invalid("too large"))?;
    }
    if negative {
        // total <= 2^63, so its negation fits.
        let nanos = 0i64
            .checked_sub_unsigned(total)
            .ok_or_else(|| invalid("too large"))?;
        return Ok(Duration::from_nanos(nanos));
    }
    let nanos = i64::try_from(total).map_err(|_| invalid("too large"))?;
    Ok(Duration::from_nanos(nanos))
}

/// Prints a duration exactly as Go's `time.Duration.String()` does:
/// `1h0m0s`, `1m30s`, `1.5s`, `500ms`, `2µs`, `10ns`, `0s`, `-1s`.
pub fn format_go(duration: &Duration) -> String {
    let nanos = duration.as_nanos();
    let mut magnitude = nanos.unsigned_abs();
    // Built back to front, then reversed.
    let mut out: Vec<u8> = Vec::with_capacity(32);
    if magnitude == 0 {
        return "0s".to_owned();
    }
    if magnitude < NANOS_PER_SECOND {
        // Below a second: one unit among ns, µs, ms, with a fraction.
        out.push(b's');
        let precision = if magnitude < NANOS_PER_MICRO {
            out.push(b'n');
            0
        } else if magnitude < NANOS_PER_MILLI {
            // 'µ' (U+00B5) is 0xC2 0xB5; pushed reversed.
            out.push(0xB5);
            out.push(0xC2);
            3
        } else {
            out.push(b'm');
            6
        };
        magnitude = push_fraction(&mut out, magnitude, precision);
        push_integer(&mut out, magnitude);
    } else {
        out.push(b's');
        magnitude = push_fraction(&mut out, magnitude, 9);
        // Whole seconds.
        push_integer(&mut out, magnitude % 60);
        magnitude /= 60;
        if magnitude > 0 {
            out.push(b'm');
            push_integer(&mut out, magnitude % 60);
            magnitude /= 60;
            if magnitude > 0 {
                out.push(b'h');
                push_integer(&mut out, magnitude);
            }
        }
    }
    if nanos < 0 {
        out.push(b'-');
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// Pushes (reversed) the `precision` low decimal digits of `value` as a
/// fraction without trailing zeros (and without the dot when all are zero);
/// returns what is left of `value`.
fn push_fraction(out: &mut Vec<u8>, mut value: u64, precision: u32) -> u64 {
    let mut printing = false;
    for _ in 0..precision {
        let digit = (value % 10) as u8;
        printing = printing || digit != 0;
        if printing {
            out.push(b'0' + digit);
        }
        value /= 10;
    }
    if printing {
        out.push(b'.');
    }
    value
}

/// Pushes (reversed) the decimal digits of `value`.
fn push_integer(out: &mut Vec<u8>, mut value: u64) {
    if value == 0 {
        out.push(b'0');
        return;
    }
    while value > 0 {
        out.push(b'0' + (value % 10) as u8);
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(text: &str) -> i64 {
        parse_duration(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .as_nanos()
    }

    fn roundtrip(text: &str) -> String {
        format_go(&parse_duration(text).unwrap_or_else(|e| panic!("{text}: {e}")))
    }

    #[test]
    fn parses_units() {
        assert_eq!(ns("10ns"), 10);
        assert_eq!(ns("2us"), 2_000);
        assert_eq!(ns("2\u{b5}s"), 2_000);
        assert_eq!(ns("2\u{3bc}s"), 2_000);
        assert_eq!(ns("500ms"), 500_000_000);
        assert_eq!(ns("1s"), 1_000_000_000);
        assert_eq!(ns("1m"), 60_000_000_000);
        assert_eq!(ns("1h"), 3_600_000_000_000);
    }

    #[test]
    fn parses_combinations_and_fractions() {
        assert_eq!(ns("1m30s"), 90_000_000_000);
        assert_eq!(ns("1h2m3s4ms5us6ns"), 3_723_004_005_006);
        assert_eq!(ns("1.5s"), 1_500_000_000);
        assert_eq!(ns(".5s"), 500_000_000);
        assert_eq!(ns("5.s"), 5_000_000_000);
        assert_eq!(ns("1m1m"), 120_000_000_000);
        assert_eq!(ns("1s.5s"), 1_500_000_000);
        assert_eq!(ns("00001s"), 1_000_000_000);
        assert_eq!(ns("0.1ns"), 0);
        assert_eq!(ns("1.0000000001s"), 1_000_000_000);
        assert_eq!(ns("1.9999999999s"), 1_999_999_999);
    }

    #[test]
    fn parses_signs_and_zero() {
        assert_eq!(ns("0"), 0);
        assert_eq!(ns("-0"), 0);
        assert_eq!(ns("+0"), 0);
        assert_eq!(ns("-1s"), -1_000_000_000);
        assert_eq!(ns("+1s"), 1_000_000_000);
        assert_eq!(ns("0s"), 0);
    }

    #[test]
    fn parses_limits() {
        assert_eq!(ns("9223372036854775807ns"), i64::MAX);
        assert_eq!(ns("2562047h47m16.854775807s"), i64::MAX);
        assert_eq!(ns("-2562047h47m16.854775808s"), i64::MIN);
        assert_eq!(ns("-9223372036854775808ns"), i64::MIN);
        assert!(parse_duration("9223372036854775808ns").is_err());
        assert!(parse_duration("2562047h47m16.854775808s").is_err());
        assert!(parse_duration("-2562047h47m16.854775809s").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
        assert!(parse_duration("2562048h").is_err());
        assert!(parse_duration("2562047h2562047h").is_err());
        // Very long fractions only lose precision.
        assert_eq!(
            ns("1.000000000000000000000000000000000000001s"),
            1_000_000_000
        );
    }

    #[test]
    fn fractions_round_like_go_float64() {
        assert_eq!(roundtrip("0.3333333333333h"), "19m59.999999999s");
        assert_eq!(
            roundtrip("12345.6789012345678901234567890h"),
            "12345h40m44.044444444s"
        );
        assert_eq!(roundtrip("1.5h"), "1h30m0s");
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "", "-", "+", "10", "1.5", "30", "1d", "1S", "1e3s", " 1s", "1s ", ".s", "-.s", "1h1",
            "s", "1..5s", "1 s", "1µ", "--1s", "1ss", "\u{0}", "1s\u{0}",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn error_messages_read_well() {
        assert_eq!(
            parse_duration("10").unwrap_err(),
            "invalid duration \"10\": missing unit (ns, us, ms, s, m or h)"
        );
        assert_eq!(
            parse_duration("1d").unwrap_err(),
            "invalid duration \"1d\": unknown unit \"d\" (use ns, us, ms, s, m or h)"
        );
    }

    #[test]
    fn formats_like_go() {
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (999, "999ns"),
            (1_000, "1µs"),
            (1_500, "1.5µs"),
            (2_000, "2µs"),
            (1_000_000, "1ms"),
            (500_000_000, "500ms"),
            (1_100_000, "1.1ms"),
            (999_999_999, "999.999999ms"),
            (1_000_000_000, "1s"),
            (1_500_000_000, "1.5s"),
            (1_000_000_001, "1.000000001s"),
            (60_000_000_000, "1m0s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_600_500_000_000, "1h0m0.5s"),
            (3_723_004_005_006, "1h2m3.004005006s"),
            (-1_000_000_000, "-1s"),
            (-1, "-1ns"),
            (-5_000_000_000, "-5s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for &(nanos, text) in cases {
            assert_eq!(format_go(&Duration::from_nanos(nanos)), text, "{nanos}");
            assert_eq!(Duration::from_nanos(nanos).to_string(), text);
        }
    }

    #[test]
    fn roundtrips_as_compose_prints() {
        for (input, printed) in [
            ("1m30s", "1m30s"),
            ("1h", "1h0m0s"),
            ("500ms", "500ms"),
            ("1.5s", "1.5s"),
            ("2us", "2µs"),
            ("10ns", "10ns"),
            ("0", "0s"),
            ("90s", "1m30s"),
            ("1h2m3s4ms5us6ns", "1h2m3.004005006s"),
        ] {
            assert_eq!(roundtrip(input), printed, "{input}");
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(
            Duration::from_secs(10),
            Some(Duration::from_nanos(10_000_000_000))
        );
        assert_eq!(Duration::from_secs(i64::MAX), None);
        assert_eq!(
            Duration::from_nanos(5).to_std(),
            Some(std::time::Duration::from_nanos(5))
        );
        assert_eq!(Duration::from_nanos(-5).to_std(), None);
        assert!(Duration::from_nanos(-5).is_negative());
    }

    #[test]
    fn never_panics_on_odd_input() {
        let pieces = [
            "1", ".", "-", "+", "s", "µ", "\u{3bc}", "h", "9", "0", "ms", "e",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let text = format!("{a}{b}{c}");
                    if let Ok(d) = parse_duration(&text) {
                        let _ = format_go(&d);
                    }
                }
            }
        }
    }
}
