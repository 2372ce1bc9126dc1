//! UTC timestamps for history rows, backup manifests and file names, and `migrate new`.
//!
//! Only UTC and only the few fixed formats this crate writes, so the default build does not compile a date-time
//! library for them (issue 13: an app that only migrates at launch should build light). The conversion between days
//! and civil dates is the proleptic-Gregorian algorithm of Howard Hinnant's "chrono-Compatible Low-Level Date
//! Algorithms"; tests check every format against `jiff` (a dev-dependency) over random instants.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant as whole seconds since the Unix epoch (negative before it) plus nanoseconds into that second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Instant {
    secs: i64,
    nanos: u32,
}

impl Instant {
    /// The system clock now. A clock set before 1970 gives a negative instant rather than failing.
    pub(crate) fn now() -> Self {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => Self::after_epoch(d),
            Err(e) => {
                let d = e.duration();
                let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                match d.subsec_nanos() {
                    0 => Self { secs: -secs, nanos: 0 },
                    n => Self {
                        secs: -secs - 1,
                        nanos: 1_000_000_000 - n,
                    },
                }
            }
        }
    }

    fn after_epoch(d: Duration) -> Self {
        Self {
            secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            nanos: d.subsec_nanos(),
        }
    }

    /// From milliseconds since the Unix epoch.
    #[cfg(test)]
    pub(crate) fn from_millis(ms: i64) -> Self {
        let nanos = u32::try_from(ms.rem_euclid(1000) * 1_000_000).unwrap_or(0);
        Self {
            secs: ms.div_euclid(1000),
            nanos,
        }
    }

    /// Milliseconds since the Unix epoch.
    pub(crate) fn as_millis(self) -> i64 {
        self.secs
            .saturating_mul(1000)
            .saturating_add(i64::from(self.nanos / 1_000_000))
    }

    fn civil(self) -> Civil {
        let days = self.secs.div_euclid(86_400);
        let sod = self.secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: (sod / 3600) as u32,
            minute: (sod % 3600 / 60) as u32,
            second: (sod % 60) as u32,
            nanos: self.nanos,
        }
    }

    /// `2026-11-22T10:30:00.123Z`: backup manifests.
    pub(crate) fn rfc3339_millis(self) -> String {
        let c = self.civil();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            c.year,
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.second,
            c.nanos / 1_000_000
        )
    }

    /// `2026-11-22T10:30:00.123456Z`: history rows (microseconds, so rows written in one batch keep their order).
    pub(crate) fn rfc3339_micros(self) -> String {
        let c = self.civil();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            c.year,
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.second,
            c.nanos / 1_000
        )
    }

    /// `20261122T103000.123Z`: backup file names (no `:`, which Windows refuses in names).
    pub(crate) fn compact_millis(self) -> String {
        let c = self.civil();
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z",
            c.year,
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.second,
            c.nanos / 1_000_000
        )
    }

    /// `20261122103000`: the version `migrate new --timestamp` gives a file.
    pub(crate) fn digits(self) -> u64 {
        let c = self.civil();
        let date = c.year.clamp(0, 9999) as u64 * 10_000 + u64::from(c.month) * 100 + u64::from(c.day);
        date * 1_000_000 + u64::from(c.hour) * 10_000 + u64::from(c.minute) * 100 + u64::from(c.second)
    }
}

/// Parses what [`Instant::rfc3339_millis`] and older manifests wrote: `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (a lowercase
/// `t`/`z` and a `+00:00` offset are accepted too), to milliseconds since the epoch. `None` for anything else, so a
/// hand-edited manifest is reported, not misread.
pub(crate) fn parse_utc_millis(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = b.get(range)?;
        if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        s.iter()
            .try_fold(0i64, |n, d| n.checked_mul(10)?.checked_add(i64::from(d - b'0')))
    };
    let sep = |i: usize, want: &[u8]| b.get(i).is_some_and(|c| want.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month as u32) as i64 {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if sep(i, b".") {
        let start = i + 1;
        let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if end == start {
            return None;
        }
        // The first three digits are the milliseconds; further digits only say more precisely where in it.
        let ms_digits = &text[start..end.min(start + 3)];
        millis = ms_digits.parse::<i64>().ok()? * 10i64.pow(3 - ms_digits.len() as u32);
        i = end;
    }
    match &text[i..] {
        "Z" | "z" | "+00:00" => {}
        _ => return None,
    }
    let days = days_from_civil(year, month as u32, day as u32);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(secs * 1000 + millis)
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic-Gregorian date (eras of 400 years, March-based years).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
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
    use proptest::prelude::*;

    /// Year 1 to year 9999, the range every format here prints with four digits.
    const MIN_MS: i64 = -62_135_596_800_000;
    const MAX_MS: i64 = 253_402_300_799_999;

    fn jiff_at(ms: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(ms).unwrap()
    }

    #[test]
    fn known_instants() {
        let t = Instant::from_millis(jiff_at(0).as_millisecond());
        assert_eq!(t.rfc3339_millis(), "1970-01-01T00:00:00.000Z");
        let t: jiff::Timestamp = "2026-11-22T10:30:00.123456Z".parse().unwrap();
        let i = Instant {
            secs: t.as_second(),
            nanos: t.subsec_nanosecond() as u32,
        };
        assert_eq!(i.rfc3339_millis(), "2026-11-22T10:30:00.123Z");
        assert_eq!(i.rfc3339_micros(), "2026-11-22T10:30:00.123456Z");
        assert_eq!(i.compact_millis(), "20261122T103000.123Z");
        assert_eq!(i.digits(), 20261122103000);
        assert_eq!(parse_utc_millis("2026-11-22T10:30:00.123Z"), Some(t.as_millisecond()));
        assert_eq!(
            parse_utc_millis("2024-02-29T00:00:00Z"),
            Some(jiff_ms("2024-02-29T00:00:00Z"))
        );
    }

    fn jiff_ms(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn refuses_what_it_did_not_write() {
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T10:30:00",
            "2026-11-22T10:30:00.Z",
            "2026-02-30T10:30:00Z",
            "2025-02-29T10:30:00Z",
            "2026-13-01T10:30:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T10:30:00+01:00",
            "2026-11-22 10:30:00Z",
            "+2026-11-22T10:30:00Z",
            "2026-11-22T10:30:00.123Zjunk",
        ] {
            assert_eq!(parse_utc_millis(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn before_the_epoch() {
        let t = Instant::from_millis(-1);
        assert_eq!(t.rfc3339_millis(), "1969-12-31T23:59:59.999Z");
        assert_eq!(t.as_millis(), -1);
    }

    proptest! {
        #[test]
        fn formats_agree_with_jiff(ms in MIN_MS..=MAX_MS) {
            let ours = Instant::from_millis(ms);
            let theirs = jiff_at(ms);
            prop_assert_eq!(ours.rfc3339_millis(), theirs.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
            prop_assert_eq!(ours.rfc3339_micros(), theirs.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            prop_assert_eq!(ours.compact_millis(), theirs.strftime("%Y%m%dT%H%M%S%.3fZ").to_string());
            prop_assert_eq!(Some(ours.digits()), theirs.strftime("%Y%m%d%H%M%S").to_string().parse::<u64>().ok());
            prop_assert_eq!(ours.as_millis(), ms);
            prop_assert_eq!(parse_utc_millis(&ours.rfc3339_millis()), Some(ms));
            prop_assert_eq!(parse_utc_millis(&theirs.to_string()), Some(ms));
        }
    }
}
