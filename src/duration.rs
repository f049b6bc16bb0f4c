//! Durations as people and files write them: the one parser (`10`, `0.5`,
//! `1.25s`) and the one formatter (seconds with as many decimals as asked
//! for) of the project. supervise.conf, the scanner's sections, svc's `-w`,
//! supervise's `-t`, the info and history files, log lines and alarms all
//! go through here. Pure.

use std::fmt::Write;
use std::time::Duration;

/// Longest seconds value [`parse_seconds`] accepts, about 31 years: keeps
/// every later addition to a moment far from overflow.
pub const MAX_SECONDS: u64 = 1_000_000_000;

/// `10`, `0.5`, `1.25s`, `.5`, `5.`: a non-negative decimal number of
/// seconds up to [`MAX_SECONDS`], an optional `s`, nanosecond precision
/// (further digits are dropped). What a person writes.
pub fn parse_seconds(value: &str) -> Option<Duration> {
    let number = value.strip_suffix('s').unwrap_or(value);
    parse_decimal(number).filter(|d| d.as_secs() <= MAX_SECONDS)
}

/// `1764621234.123`, `12`, `0.5`: a non-negative decimal number of seconds
/// of any size, no unit, nanosecond precision. What a file of ours holds
/// (a moment since the epoch is beyond [`MAX_SECONDS`]).
pub fn parse_decimal(number: &str) -> Option<Duration> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let secs = if whole.is_empty() {
        0
    } else {
        whole.parse::<u64>().ok()?
    };
    let mut nanos = 0u32;
    for i in 0..9 {
        let digit = fraction
            .as_bytes()
            .get(i)
            .map_or(0, |b| u32::from(b - b'0'));
        nanos = nanos * 10 + digit;
    }
    Some(Duration::new(secs, nanos))
}

/// How many decimals [`format`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decimals {
    /// Exactly this many (at most 9), zeros included: `3.250`.
    Fixed(usize),
    /// Up to this many (at most 9), trailing zeros and a bare point
    /// dropped: `3.25`, `10`.
    Needed(usize),
}

/// `d` in seconds with `decimals` (truncated, never rounded up), no unit.
pub fn format(d: Duration, decimals: Decimals) -> String {
    let (digits, trim) = match decimals {
        Decimals::Fixed(n) => (n.min(9), false),
        Decimals::Needed(n) => (n.min(9), true),
    };
    let mut text = d.as_secs().to_string();
    if digits > 0 {
        let fraction = format!("{:09}", d.subsec_nanos());
        let fraction = &fraction[..digits];
        let fraction = if trim {
            fraction.trim_end_matches('0')
        } else {
            fraction
        };
        if !fraction.is_empty() {
            let _ = write!(text, ".{fraction}");
        }
    }
    text
}

/// The exact value with only the decimals it needs, for settings: `0.1`.
pub fn exact(d: Duration) -> String {
    format(d, Decimals::Needed(9))
}

/// A setting as supervise.conf writes it, exact, with its unit: `0.1s`.
pub fn setting(d: Duration) -> String {
    exact(d) + "s"
}

/// Milliseconds, always three decimals, for files and alarms: `3.250`.
pub fn millis(d: Duration) -> String {
    format(d, Decimals::Fixed(3))
}

/// Milliseconds with only the decimals they need, for log lines: `3.25`.
pub fn millis_needed(d: Duration) -> String {
    format(d, Decimals::Needed(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_people_write() {
        let cases = [
            ("10", Some(Duration::from_secs(10))),
            ("10s", Some(Duration::from_secs(10))),
            ("0.1", Some(Duration::from_millis(100))),
            (".5", Some(Duration::from_millis(500))),
            ("5.", Some(Duration::from_secs(5))),
            ("0", Some(Duration::ZERO)),
            ("1.0000000019", Some(Duration::new(1, 1))),
            ("1000000000", Some(Duration::from_secs(MAX_SECONDS))),
            ("1000000001", None),
            ("99999999999999999999999", None),
            ("", None),
            (".", None),
            ("s", None),
            ("-1", None),
            ("+1", None),
            ("1e3", None),
            ("1 s", None),
            (" 1", None),
            ("1ms", None),
            ("1ss", None),
            ("1.2.3", None),
            ("NaN", None),
            ("inf", None),
            ("١", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_seconds(text), expected, "{text:?}");
        }
    }

    #[test]
    fn decimals_files_hold() {
        let cases = [
            (
                "1764621234.123",
                Some(Duration::new(1_764_621_234, 123_000_000)),
            ),
            ("12", Some(Duration::from_secs(12))),
            ("0.5", Some(Duration::from_millis(500))),
            ("18446744073709551615", Some(Duration::from_secs(u64::MAX))),
            ("18446744073709551616", None),
            ("1s", None),
            ("", None),
            ("x", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_decimal(text), expected, "{text:?}");
        }
    }

    #[test]
    fn formats() {
        let d = Duration::new;
        // (duration, exact, millis, millis_needed)
        let cases = [
            (Duration::ZERO, "0", "0.000", "0"),
            (d(10, 0), "10", "10.000", "10"),
            (d(0, 100_000_000), "0.1", "0.100", "0.1"),
            (d(3, 250_000_000), "3.25", "3.250", "3.25"),
            (d(1, 1), "1.000000001", "1.000", "1"),
            (d(61, 999_999_999), "61.999999999", "61.999", "61.999"),
            (
                d(u64::MAX, 0),
                "18446744073709551615",
                "18446744073709551615.000",
                "18446744073709551615",
            ),
        ];
        for (duration, e, m, n) in cases {
            assert_eq!(exact(duration), e, "{duration:?}");
            assert_eq!(millis(duration), m, "{duration:?}");
            assert_eq!(millis_needed(duration), n, "{duration:?}");
        }
        assert_eq!(format(d(1, 5), Decimals::Fixed(0)), "1");
        assert_eq!(format(d(1, 5), Decimals::Fixed(12)), "1.000000005");
    }

    #[test]
    fn what_is_formatted_reads_back() {
        for duration in [
            Duration::ZERO,
            Duration::new(7, 1),
            Duration::new(MAX_SECONDS, 999_999_999),
        ] {
            assert_eq!(parse_seconds(&exact(duration)), Some(duration));
            assert_eq!(
                parse_seconds(&format!("{}s", exact(duration))),
                Some(duration)
            );
            let truncated = Duration::from_millis(duration.as_millis() as u64);
            assert_eq!(parse_decimal(&millis(duration)), Some(truncated));
        }
    }
}
