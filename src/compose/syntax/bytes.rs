//! Byte sizes as Compose reads them from strings: `512m`, `1g`, `1.5g`,
//! `512mb`, `1GiB`, `1024`.
//!
//! Compose (compose-go `UnitBytes`) decodes `mem_limit`, `memswap_limit`,
//! `mem_reservation`, `mem_swappiness`, `shm_size` (service and build),
//! `deploy.resources.*.memory`, tmpfs `size` and blkio rates this way when
//! the value is a string; `config` prints the result as a quoted decimal
//! (`mem_limit: 512m` prints `"536870912"`). The rules, from
//! docker/go-units `RAMInBytes`:
//!
//! - the number is everything up to the last digit, `.` or space; what
//!   follows is the unit. A single space may separate them (`5 m`); other
//!   spaces are errors (` 5`, `5  m`); a trailing space is dropped (`5 `);
//! - the number is a Go float literal: `1.5`, `.5`, `5.`, `1e3`, `+5`,
//!   `1_000`, even hex floats like `0x1p4`; negative numbers are refused;
//! - units are binary and case-insensitive: `b`, `k`, `m`, `g`, `t`, `p`,
//!   each of the last five optionally followed by `b` or `ib`
//!   (`1g` = `1gb` = `1GiB` = 1073741824); anything else is refused;
//! - the result is truncated toward zero (`1.9` is 1). A value of 2^63 bytes
//!   or more comes out as `-9223372036854775808`, which is what the
//!   amd64 Compose binary prints for it.
//!
//! A YAML integer (`mem_limit: 1024`, even `-1`) is kept as is by Compose and
//! never comes here; a YAML float (`mem_limit: 1.5`) is silently treated as
//! unset by Compose.

/// Parses a byte size written as a string (`512m`, `1.5g`, `1GiB`, `1024`).
///
/// Errors read like `invalid size "1x": unknown unit "x" (use b, k, m, g, t or p, optionally followed by b or ib)`.
pub fn parse_bytes(text: &str) -> Result<i64, String> {
    let invalid = |why: &str| format!("invalid size {text:?}: {why}");
    let Some(sep) = text.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ') else {
        return Err(invalid("expected a number, like 512m"));
    };
    // The separator is ASCII, so `sep + 1` is a char boundary.
    let (number, suffix) = if text.as_bytes().get(sep) == Some(&b' ') {
        (&text[..sep], &text[sep + 1..])
    } else {
        (&text[..sep + 1], &text[sep + 1..])
    };
    let size = parse_go_float(number).map_err(|why| invalid(&why))?;
    if size < 0.0 {
        return Err(invalid("must not be negative"));
    }
    let multiplier = unit_multiplier(suffix).ok_or_else(|| {
        invalid(&format!(
            "unknown unit {suffix:?} (use b, k, m, g, t or p, optionally followed by b or ib)"
        ))
    })?;
    Ok(go_float_to_i64(size * multiplier as f64))
}

/// The multiplier for a unit suffix as go-units `RAMInBytes` reads it, or
/// `None` when the suffix is not a unit.
fn unit_multiplier(suffix: &str) -> Option<i64> {
    if suffix.is_empty() {
        return Some(1);
    }
    if suffix.len() > 3 {
        return None;
    }
    let lower = go_lowercase(suffix);
    let bytes = lower.as_bytes();
    let first = *bytes.first()?;
    if first == b'b' {
        return (bytes.len() == 1).then_some(1);
    }
    let multiplier: i64 = match first {
        b'k' => 1 << 10,
        b'm' => 1 << 20,
        b'g' => 1 << 30,
        b't' => 1 << 40,
        b'p' => 1 << 50,
        _ => return None,
    };
    match bytes.get(1..) {
        Some(b"") | Some(b"b") | Some(b"ib") => Some(multiplier),
        _ => None,
    }
}

/// Lower-cases like Go's `strings.ToLower` as far as it matters here: ASCII
/// letters, and the Kelvin sign (U+212A), whose lower case is an ASCII `k`.
/// Other characters never make a valid unit, so they are kept.
fn go_lowercase(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{212A}' => 'k',
            '\u{130}' => 'i',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Go's `int64(f)` on amd64: truncation toward zero, and the "integer
/// indefinite" value `i64::MIN` for NaN and anything out of range.
fn go_float_to_i64(value: f64) -> i64 {
    // 2^63 as f64 is exact.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if value.is_nan() || !(-TWO_63..TWO_63).contains(&value) {
        i64::MIN
    } else {
        value as i64
    }
}

/// Parses a number the way Go's `strconv.ParseFloat(s, 64)` does, for the
/// strings that can reach it here (they end with a digit or a dot):
/// decimal and hexadecimal float literals with optional sign and `_`
/// digit separators. Out-of-range results are errors, like in Go.
fn parse_go_float(text: &str) -> Result<f64, String> {
    let syntax = || format!("{text:?} is not a number");
    let bytes = text.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'+') => {
            i = 1;
            false
        }
        Some(b'-') => {
            i = 1;
            true
        }
        _ => false,
    };
    let hex = bytes.len() > i + 2
        && bytes.get(i) == Some(&b'0')
        && matches!(bytes.get(i + 1), Some(b'x' | b'X'));
    let value = if hex {
        parse_hex_float(bytes, i + 2).ok_or_else(syntax)?
    } else {
        check_decimal_syntax(bytes, i).ok_or_else(syntax)?;
        let cleaned: String = text.chars().filter(|&c| c != '_').collect();
        cleaned.parse::<f64>().map_err(|_| syntax())?
    };
    if !underscores_ok(bytes) {
        return Err(syntax());
    }
    if value.is_infinite() {
        return Err(format!("{text:?} is out of range"));
    }
    // The decimal parse already applied the sign.
    Ok(if hex && negative { -value } else { value })
}

/// Checks that `bytes[start..]` is a Go decimal float literal body:
/// digits with at most one dot and at least one digit, then an optional
/// exponent `e[+-]digits`; underscores allowed (checked elsewhere).
fn check_decimal_syntax(bytes: &[u8], start: usize) -> Option<()> {
    let mut i = start;
    let mut saw_dot = false;
    let mut saw_digits = false;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'_' => {}
            b'.' if !saw_dot => saw_dot = true,
            b'0'..=b'9' => saw_digits = true,
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !bytes.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while bytes
            .get(i)
            .is_some_and(|c| c.is_ascii_digit() || *c == b'_')
        {
            i += 1;
        }
    }
    (i == bytes.len()).then_some(())
}

/// Go's rule for `_` in number literals: only between digits, or between
/// the base prefix and a digit.
fn underscores_ok(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    if let Some((b'+' | b'-', tail)) = rest.split_first() {
        rest = tail;
    }
    // 'd' digit or prefix, 'u' underscore, 'o' other, 's' start.
    let mut saw = b's';
    let mut hex = false;
    if rest.len() >= 2
        && rest.first() == Some(&b'0')
        && matches!(
            rest.get(1).map(u8::to_ascii_lowercase),
            Some(b'b' | b'o' | b'x')
        )
    {
        hex = rest.get(1).map(u8::to_ascii_lowercase) == Some(b'x');
        saw = b'd';
        rest = rest.get(2..).unwrap_or_default();
    }
    for &c in rest {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'd';
        } else if c == b'_' {
            if saw != b'd' {
                return false;
            }
            saw = b'u';
        } else {
            if saw == b'u' {
                return false;
            }
            saw = b'o';
        }
    }
    saw != b'u'
}

/// Parses the body of a Go hexadecimal float (`1.8p3`, after `0x`), which
/// must have a `p` exponent; rounds to nearest even like Go's `atofHex`.
/// Returns the magnitude (the caller applies the sign).
fn parse_hex_float(bytes: &[u8], start: usize) -> Option<f64> {
    const MAX_MANTISSA_DIGITS: i64 = 16;
    let mut i = start;
    let mut mantissa: u64 = 0;
    let mut truncated = false;
    let mut saw_dot = false;
    let mut saw_digits = false;
    let mut digits: i64 = 0; // significant digits seen
    let mut kept: i64 = 0; // digits accumulated into the mantissa
    let mut point: i64 = 0; // position of the point, in digits
    while let Some(&c) = bytes.get(i) {
        match c {
            b'_' => {}
            b'.' if !saw_dot => {
                saw_dot = true;
                point = digits;
            }
            b'0' if digits == 0 => {
                saw_digits = true;
                point -= 1;
            }
            c if c.is_ascii_hexdigit() => {
                saw_digits = true;
                digits += 1;
                let value = u64::from(char::from(c).to_digit(16)?);
                if kept < MAX_MANTISSA_DIGITS {
                    mantissa = mantissa * 16 + value;
                    kept += 1;
                } else if value != 0 {
                    truncated = true;
                }
            }
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    if !saw_dot {
        point = digits;
    }
    point *= 4;
    kept *= 4;
    // The exponent is mandatory.
    if !matches!(bytes.get(i), Some(b'p' | b'P')) {
        return None;
    }
    i += 1;
    let mut exponent_sign = 1;
    match bytes.get(i) {
        Some(b'+') => i += 1,
        Some(b'-') => {
            exponent_sign = -1;
            i += 1;
        }
        _ => {}
    }
    if !bytes.get(i).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut exponent: i64 = 0;
    while let Some(&c) = bytes.get(i) {
        if c.is_ascii_digit() {
            if exponent < 10_000 {
                exponent = exponent * 10 + i64::from(c - b'0');
            }
        } else if c != b'_' {
            break;
        }
        i += 1;
    }
    if i != bytes.len() {
        return None;
    }
    point += exponent * exponent_sign;
    let binary_exponent = if mantissa != 0 { point - kept } else { 0 };
    Some(hex_to_f64(mantissa, binary_exponent, truncated))
}

/// `mantissa * 2^exponent` rounded to the nearest f64 (ties to even), with
/// `truncated` telling that nonzero bits were dropped below the mantissa.
/// Overflow gives infinity.
fn hex_to_f64(mut mantissa: u64, exponent: i64, truncated: bool) -> f64 {
    const MANT_BITS: u32 = 52;
    const BIAS: i64 = -1023;
    const MAX_EXP: i64 = 1023;
    const MIN_EXP: i64 = BIAS + 1;
    if mantissa == 0 {
        return 0.0;
    }
    let mut exp = exponent + i64::from(MANT_BITS);
    while mantissa >> (MANT_BITS + 2) == 0 {
        mantissa <<= 1;
        exp -= 1;
    }
    if truncated {
        mantissa |= 1;
    }
    while mantissa >> (MANT_BITS + 3) != 0 {
        mantissa = (mantissa >> 1) | (mantissa & 1);
        exp += 1;
    }
    while mantissa > 1 && exp < MIN_EXP - 2 {
        mantissa = (mantissa >> 1) | (mantissa & 1);
        exp += 1;
    }
    let mut round = mantissa & 3;
    mantissa >>= 2;
    round |= mantissa & 1;
    exp += 2;
    if round == 3 {
        mantissa += 1;
        if mantissa == 1 << (MANT_BITS + 1) {
            mantissa >>= 1;
            exp += 1;
        }
    }
    if mantissa >> MANT_BITS == 0 {
        exp = BIAS;
    }
    if exp > MAX_EXP {
        return f64::INFINITY;
    }
    let biased = u64::try_from(exp - BIAS).unwrap_or(0) & 0x7FF;
    let bits = (mantissa & ((1 << MANT_BITS) - 1)) | (biased << MANT_BITS);
    f64::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> i64 {
        parse_bytes(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn plain_numbers() {
        assert_eq!(ok("1024"), 1024);
        assert_eq!(ok("0"), 0);
        assert_eq!(ok("-0"), 0);
        assert_eq!(ok("+5"), 5);
        assert_eq!(ok("1.9"), 1);
        assert_eq!(ok("5."), 5);
        assert_eq!(ok("1e3"), 1000);
        assert_eq!(ok("1E3"), 1000);
        assert_eq!(ok("1_000"), 1000);
        assert_eq!(ok("8e18"), 8_000_000_000_000_000_000);
    }

    #[test]
    fn units_are_binary_and_case_insensitive() {
        assert_eq!(ok("512m"), 536_870_912);
        assert_eq!(ok("512mb"), 536_870_912);
        assert_eq!(ok("1g"), 1_073_741_824);
        assert_eq!(ok("1G"), 1_073_741_824);
        assert_eq!(ok("1GB"), 1_073_741_824);
        assert_eq!(ok("1GiB"), 1_073_741_824);
        assert_eq!(ok("1gib"), 1_073_741_824);
        assert_eq!(ok("1.5g"), 1_610_612_736);
        assert_eq!(ok("1k"), 1024);
        assert_eq!(ok("1kb"), 1024);
        assert_eq!(ok(".5k"), 512);
        assert_eq!(ok("1.5k"), 1536);
        assert_eq!(ok("1t"), 1_099_511_627_776);
        assert_eq!(ok("1p"), 1_125_899_906_842_624);
        assert_eq!(ok("1b"), 1);
        assert_eq!(ok("1B"), 1);
        assert_eq!(ok("1e3k"), 1_024_000);
        // The Kelvin sign lower-cases to `k` in Go.
        assert_eq!(ok("1\u{212A}"), 1024);
    }

    #[test]
    fn spaces() {
        assert_eq!(ok("5 "), 5);
        assert_eq!(ok("1 "), 1);
        assert_eq!(ok("5 m"), 5_242_880);
        for bad in [" 5", "5  m", "1mib ", "5 m "] {
            assert!(parse_bytes(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hex_floats() {
        assert_eq!(ok("0x1p4"), 16);
        assert_eq!(ok("0x_1p4"), 16);
        assert_eq!(ok("0x1.8p1"), 3);
        assert_eq!(ok("0X10p0k"), 16 * 1024);
        assert_eq!(ok("0x.8p1"), 1);
        assert_eq!(ok("0x1p-1"), 0);
        assert!(parse_bytes("0x10").is_err());
        assert!(parse_bytes("0x1p").is_err());
        assert!(parse_bytes("0x1p9999").is_err());
    }

    #[test]
    fn huge_values_wrap_like_amd64_compose() {
        assert_eq!(ok("1e30"), i64::MIN);
        assert_eq!(ok("9223372036854775807"), i64::MIN);
        assert_eq!(ok("9223372036854775808"), i64::MIN);
        assert_eq!(ok("8192p"), i64::MIN);
        assert_eq!(ok("9223372036854774784"), 9_223_372_036_854_774_784);
        assert!(parse_bytes("1e400").is_err());
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "", "m", "inf", "-5", "-1", "1x", "1bb", "1gibx", "1mi", "1ib", "1e", ".", "NaN1",
            "1,5m", "0x10", "1__0", "_1", "1_", "1_.5", "1._5", "1e_5", "1_e5", "1..5", "--1",
            "+-1", "1gb ", "1µ", "1İb", "1 kb b", "1kB5",
        ] {
            assert!(parse_bytes(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn odd_but_accepted_like_compose() {
        assert_eq!(ok("0_1"), 1);
        assert_eq!(ok("1e+3"), 1000);
        assert_eq!(ok("1e-3"), 0);
        assert_eq!(ok("1e1_0"), 10_000_000_000);
        assert_eq!(ok("00012"), 12);
    }

    #[test]
    fn error_messages_read_well() {
        assert_eq!(
            parse_bytes("1x").unwrap_err(),
            "invalid size \"1x\": unknown unit \"x\" (use b, k, m, g, t or p, optionally followed by b or ib)"
        );
        assert_eq!(
            parse_bytes("-5").unwrap_err(),
            "invalid size \"-5\": must not be negative"
        );
        assert_eq!(
            parse_bytes("m").unwrap_err(),
            "invalid size \"m\": expected a number, like 512m"
        );
        assert_eq!(
            parse_bytes("1,5m").unwrap_err(),
            "invalid size \"1,5m\": \"1,5\" is not a number"
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let pieces = [
            "1", ".", "-", "+", "_", "0x", "p", "e", "k", "b", "i", " ", "\u{212A}", "é",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    for d in pieces {
                        let _ = parse_bytes(&format!("{a}{b}{c}{d}"));
                    }
                }
            }
        }
    }
}
