//! Event timestamps.
//!
//! CloudTrail writes `eventTime` as `YYYY-MM-DDTHH:MM:SSZ`; that form is
//! parsed by a small fast path. Any other RFC 3339 form (fractions of a
//! second, offsets, a blank instead of `T`) goes through chrono. Anything
//! else is unparseable and the record is counted, never placed at 1970.

use chrono::{DateTime, NaiveDateTime, SecondsFormat};

/// Milliseconds since the Unix epoch (UTC).
pub type EpochMs = i64;

/// Parse an event time; `None` when it is not a timestamp we can place.
pub fn parse_event_time(s: &str) -> Option<EpochMs> {
    if let Some(t) = parse_cloudtrail(s.as_bytes()) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    // RFC 3339 allows a blank in place of `T`; a zone is still required.
    let with_t = s.replacen(' ', "T", 1);
    DateTime::parse_from_rfc3339(&with_t).ok().map(|t| t.timestamp_millis())
}

/// `YYYY-MM-DDTHH:MM:SSZ` exactly.
fn parse_cloudtrail(b: &[u8]) -> Option<EpochMs> {
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    Some((days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * 1000)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Format epoch milliseconds as RFC 3339 UTC with `Z` (seconds precision
/// when the milliseconds are zero).
pub fn format_rfc3339(ms: EpochMs) -> String {
    // chrono's RFC 3339 writer, not a `format` string: that string would
    // be parsed again for every call, and a report formats two instants
    // per window.
    let precision = if ms % 1000 == 0 { SecondsFormat::Secs } else { SecondsFormat::Millis };
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(precision, true),
        None => format!("@{ms}ms"),
    }
}

/// Parse a user-supplied instant for `--from`/`--to`: RFC 3339, a date
/// (`2023-07-10`, midnight UTC) or a date and time without zone (UTC).
pub fn parse_user_time(s: &str) -> Option<EpochMs> {
    if let Some(t) = parse_event_time(s) {
        return Some(t);
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

/// The first instant RFC 3339 can write (0000-01-01T00:00:00Z), in
/// milliseconds since the epoch.
pub const RFC3339_MIN: EpochMs = -62_167_219_200_000;

/// The last millisecond RFC 3339 can write (9999-12-31T23:59:59.999Z).
pub const RFC3339_MAX: EpochMs = 253_402_300_799_999;

/// Parse a duration such as `300`, `90s`, `5m`, `1h`, `1d`, `-2m` into
/// milliseconds (a bare number is seconds).
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let split = body.find(|c: char| !c.is_ascii_digit()).unwrap_or(body.len());
    let (digits, unit) = body.split_at(split);
    let n: i64 = digits.parse().ok()?;
    let mult = match unit {
        "" | "s" | "sec" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => return None,
    };
    let v = n.checked_mul(mult)?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudtrail_form() {
        assert_eq!(parse_event_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_event_time("2023-07-10T11:50:00Z"), Some(1_688_989_800_000));
        assert_eq!(parse_event_time("2024-02-29T23:59:59Z"), Some(1_709_251_199_000));
        assert_eq!(parse_event_time("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse_event_time("2023-13-01T00:00:00Z"), None);
    }

    #[test]
    fn fast_path_agrees_with_chrono() {
        for s in ["2000-02-29T12:34:56Z", "1999-12-31T23:59:59Z", "2100-03-01T00:00:00Z", "2038-01-19T03:14:08Z"] {
            let chrono = DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
            assert_eq!(parse_cloudtrail(s.as_bytes()), Some(chrono), "{s}");
        }
    }

    #[test]
    fn other_rfc3339_forms() {
        assert_eq!(parse_event_time("2023-07-10T11:50:00.250Z"), Some(1_688_989_800_250));
        assert_eq!(parse_event_time("2023-07-10T13:50:00+02:00"), Some(1_688_989_800_000));
        assert_eq!(parse_event_time("2023-07-10 11:50:00Z"), Some(1_688_989_800_000));
    }

    #[test]
    fn unplaceable_times() {
        for s in ["", "...", "redacted", "2022-09-24 00:28:15", "1688989800", "2023-07-10"] {
            assert_eq!(parse_event_time(s), None, "{s:?}");
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(format_rfc3339(1_688_989_800_000), "2023-07-10T11:50:00Z");
        assert_eq!(format_rfc3339(1_688_989_800_250), "2023-07-10T11:50:00.250Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_rfc3339(i64::MAX), format!("@{}ms", i64::MAX));
    }

    proptest::proptest! {
        /// The RFC 3339 writer gives what the `strftime` forms gave, over
        /// chrono's whole range (signed years beyond 9999 included).
        #[test]
        fn formatting_agrees_with_strftime(
            ms in proptest::prop_oneof![
                -8_334_632_851_200_000i64..8_210_298_412_799_999,
                0i64..4_102_444_800_000,
                proptest::strategy::Strategy::prop_map(0i64..4_102_444_800, |s| s * 1000),
            ],
        ) {
            let t = DateTime::from_timestamp_millis(ms).unwrap();
            let want = if ms % 1000 == 0 {
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            } else {
                t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
            };
            proptest::prop_assert_eq!(format_rfc3339(ms), want);
        }
    }

    #[test]
    fn user_times_and_durations() {
        assert_eq!(parse_user_time("2023-07-10"), Some(1_688_947_200_000));
        assert_eq!(parse_user_time("2023-07-10T11:50"), Some(1_688_989_800_000));
        assert_eq!(parse_duration("300"), Some(300_000));
        assert_eq!(parse_duration("5m"), Some(300_000));
        assert_eq!(parse_duration("1h"), Some(3_600_000));
        assert_eq!(parse_duration("-2m"), Some(-120_000));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("m"), None);
    }
}
