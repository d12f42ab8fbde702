//! Byte sizes as Compose writes them (`512m`, `1g`, `1.5GiB`, `1024`):
//! binary units, case-insensitive, an optional `b`/`ib` suffix.

/// Parses a size into bytes. `-1` (unlimited) is accepted.
pub fn parse_bytes(text: &str) -> Result<i64, String> {
    let invalid = || {
        format!("invalid size {text:?}: expected a number of bytes with an optional unit (b, k, m, g, t, p), e.g. 512m")
    };
    let t = text.trim();
    if t == "-1" {
        return Ok(-1);
    }
    let lower = t.to_ascii_lowercase();
    let without_b = lower.strip_suffix('b').unwrap_or(&lower);
    let without_i = without_b.strip_suffix('i').unwrap_or(without_b);
    let (number, multiplier) = match without_i.chars().last() {
        Some('k') => (&without_i[..without_i.len() - 1], 1u64 << 10),
        Some('m') => (&without_i[..without_i.len() - 1], 1u64 << 20),
        Some('g') => (&without_i[..without_i.len() - 1], 1u64 << 30),
        Some('t') => (&without_i[..without_i.len() - 1], 1u64 << 40),
        Some('p') => (&without_i[..without_i.len() - 1], 1u64 << 50),
        _ if without_i.len() != without_b.len() => return Err(invalid()),
        _ => (without_i, 1u64),
    };
    let number = number.trim_end();
    if number.is_empty()
        || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || number.starts_with('.')
    {
        return Err(invalid());
    }
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let bytes = value * multiplier as f64;
    if !bytes.is_finite() || bytes > i64::MAX as f64 {
        return Err(invalid());
    }
    Ok(bytes as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_compose_reads_them() {
        assert_eq!(parse_bytes("512m"), Ok(536870912));
        assert_eq!(parse_bytes("1g"), Ok(1073741824));
        assert_eq!(parse_bytes("1024"), Ok(1024));
        assert_eq!(parse_bytes("1.5g"), Ok(1610612736));
        assert_eq!(parse_bytes("512mb"), Ok(536870912));
        assert_eq!(parse_bytes("1GiB"), Ok(1073741824));
        assert_eq!(parse_bytes("1GB"), Ok(1073741824));
        assert_eq!(parse_bytes("10k"), Ok(10240));
        assert_eq!(parse_bytes("1b"), Ok(1));
        assert_eq!(parse_bytes("2M"), Ok(2097152));
        assert_eq!(parse_bytes("1t"), Ok(1099511627776));
        assert_eq!(parse_bytes("-1"), Ok(-1));
        for bad in ["abc", "", "m", "1x", "1.2.3k", "-5", "1ib", "99999999999p"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }
}
