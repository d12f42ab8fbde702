//! RFC 3339 timestamps without a date-time dependency: with nanoseconds in
//! UTC as Docker writes them in logs and `inspect`
//! (`2026-11-23T10:04:05.123456789Z`), whole seconds in image configs, and
//! the "3 years ago" ages `berth images` shows.

use std::time::{SystemTime, UNIX_EPOCH};

/// Formats a time as RFC 3339 with nanoseconds, UTC.
pub fn rfc3339_nanos(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since_epoch.subsec_nanos()
    )
}

/// The current time, formatted.
pub fn now() -> String {
    rfc3339_nanos(SystemTime::now())
}

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `2024-01-02T03:04:05Z` for a Unix time.
pub fn format_rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The Unix time of an RFC 3339 timestamp (fractions ignored, offsets applied).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh = rest.get(1..3)?.parse::<i64>().ok()?;
            let om = rest.get(4..6)?.parse::<i64>().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset)
}

/// The time an RFC 3339 timestamp names, fractions of a second included
/// (`None` before the epoch or when it does not parse).
pub fn parse_rfc3339_time(text: &str) -> Option<SystemTime> {
    let seconds = u64::try_from(parse_rfc3339(text)?).ok()?;
    let digits: String = text
        .get(19..)
        .and_then(|rest| rest.strip_prefix('.'))
        .map(|frac| {
            frac.chars()
                .take_while(char::is_ascii_digit)
                .take(9)
                .collect()
        })
        .unwrap_or_default();
    let nanos = if digits.is_empty() {
        0
    } else {
        format!("{digits:0<9}").parse::<u32>().ok()?
    };
    Some(UNIX_EPOCH + std::time::Duration::new(seconds, nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Docker's "human" age: `Less than a second ago`, `5 minutes ago`, `2 weeks ago`.
pub fn human_age(seconds: i64) -> String {
    let s = seconds.max(0);
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match s {
        0 => "Less than a second ago".to_string(),
        1..60 => plural(s, "second"),
        60..3600 => {
            if s / 60 == 1 {
                "About a minute ago".to_string()
            } else {
                plural(s / 60, "minute")
            }
        }
        3600..172_800 => {
            if s / 3600 == 1 {
                "About an hour ago".to_string()
            } else {
                plural(s / 3600, "hour")
            }
        }
        172_800..1_209_600 => plural(s / 86_400, "day"),
        1_209_600..5_184_000 => plural(s / 604_800, "week"),
        5_184_000..63_072_000 => plural(s / 2_592_000, "month"),
        _ => plural(s / 31_536_000, "year"),
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parses_fractions_of_a_second() {
        let time = |t: &str| parse_rfc3339_time(t).map(|t| t.duration_since(UNIX_EPOCH).unwrap());
        assert_eq!(
            time("2024-01-02T03:04:05.25Z"),
            Some(Duration::new(1_704_164_645, 250_000_000))
        );
        assert_eq!(
            time("2024-01-02T03:04:05.123456789Z"),
            Some(Duration::new(1_704_164_645, 123_456_789))
        );
        assert_eq!(
            time("2024-01-02T03:04:05Z"),
            Some(Duration::new(1_704_164_645, 0))
        );
        assert_eq!(time("1969-12-31T23:59:59Z"), None);
        assert_eq!(time("soon"), None);
    }

    #[test]
    fn round_trips_and_parses_offsets() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(
            parse_rfc3339("2023-11-14T23:13:20.123456789+01:00"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(parse_rfc3339("yesterday"), None);
        for t in [0, 951_782_400, 1_700_000_000, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t));
        }
    }

    #[test]
    fn ages_read_like_docker() {
        assert_eq!(human_age(0), "Less than a second ago");
        assert_eq!(human_age(30), "30 seconds ago");
        assert_eq!(human_age(90), "About a minute ago");
        assert_eq!(human_age(3 * 3600), "3 hours ago");
        assert_eq!(human_age(3 * 86_400), "3 days ago");
        assert_eq!(human_age(400 * 86_400), "13 months ago");
        assert_eq!(human_age(800 * 86_400), "2 years ago");
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_nanos(UNIX_EPOCH), "1970-01-01T00:00:00.000000000Z");
        let t = UNIX_EPOCH + Duration::new(1_795_435_445, 123_456_789);
        assert_eq!(rfc3339_nanos(t), "2026-11-23T12:04:05.123456789Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339_nanos(leap), "2000-02-29T00:00:00.000000000Z");
    }
}
