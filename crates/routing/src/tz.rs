//! IANA time zones as POSIX TZ rules, and the civil calendar.
//!
//! Every TZif file of the IANA database ends with a POSIX TZ string, the rule
//! its zone follows after its last listed transition: `EST5EDT,M3.2.0,M11.1.0`
//! for America/New_York, `WET0WEST,M3.5.0/1,M10.5.0` for Europe/Lisbon,
//! `<+0530>-5:30`-style quoted names for fixed offsets. `scripts/gen-tz-zones.sh`
//! copies that string for every zone name (links such as `UTC` and
//! `US/Eastern` included) into `tz_zones.rs`, and this module parses it and
//! computes the UTC offset at an instant. Zone names are matched ignoring
//! ASCII case, as jiff's bundled database did.
//!
//! # Exact from the present on, not for history
//!
//! A zone's POSIX rule is exact from the zone's last rule change on, which
//! for most zones is years back; earlier instants get the current rule
//! projected backwards (New York's 2006 transitions come out on the 2007
//! dates, for example). A handful of zones have transitions no POSIX rule
//! can express listed decades ahead (Morocco's and Palestine's, which follow
//! Ramadan); for those the generator also emits the listed transitions, from
//! 1 January of the tzdata release year until the rule takes over. The
//! generator checks every zone, so offsets match the database from
//! 1 January of the release year (2025 for tzdata 2025b) on, until a later
//! tzdata release changes a zone's rules. Business hours are evaluated at
//! the present, so that is the range that matters.
//!
//! # Rules understood
//!
//! `std offset [dst [offset] , start [/time] , end [/time]]` as POSIX
//! defines it, with RFC 8536's extension of rule times to -167..=167 hours:
//! names alphabetic or `<…>`-quoted (at least three characters), offsets
//! `[+-]hh[:mm[:ss]]` counted west of Greenwich (POSIX's inverted sign), the
//! DST offset one hour ahead of standard time by default, dates `Mm.w.d`,
//! `Jn` (1..=365, February 29 never counted) and `n` (0..=365), times
//! 02:00 by default. A DST name without rules is rejected rather than given
//! an implementation-defined default. DST that spans the new year
//! (southern hemisphere), negative DST (Europe/Dublin) and all-year DST
//! work. Nothing here panics, whatever the string or instant.

use core::cmp::Ordering;

use crate::tz_zones::{EXACT_FROM, EXPLICIT, TZDATA_VERSION, ZONES};

const SECONDS_PER_DAY: i64 = 86_400;
/// Rule times run from -167 to 167 hours (RFC 8536, section 3.3.1).
const MAX_RULE_HOURS: u32 = 167;
/// Offsets run from -24 to 24 hours (POSIX).
const MAX_OFFSET_HOURS: u32 = 24;

/// The tzdata release the zone table was generated from, e.g. `"2025b"`.
pub fn tzdata_version() -> &'static str {
    TZDATA_VERSION
}

/// The Unix second (1 January of the tzdata release year, 00:00 UTC) from
/// which [`TimeZone::offset_at`] is guaranteed to match the database.
pub fn exact_from() -> i64 {
    EXACT_FROM
}

/// An IANA time zone (or a bare POSIX TZ rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone {
    rule: PosixTz,
    /// `(from Unix second, UTC offset)` periods before the rule takes over
    /// at the last entry's instant; empty for nearly every zone.
    explicit: &'static [(i64, i32)],
}

/// A local date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalDateTime {
    /// Proleptic Gregorian year.
    pub year: i64,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59.
    pub second: u8,
    /// Monday = 0 .. Sunday = 6.
    pub weekday: u8,
    /// Seconds east of UTC in effect.
    pub offset_seconds: i32,
}

impl TimeZone {
    /// Looks up an IANA zone name, ignoring ASCII case.
    pub fn get(name: &str) -> Option<Self> {
        let index = ZONES
            .binary_search_by(|(candidate, _)| cmp_ignore_ascii_case(candidate, name))
            .ok()?;
        let (canonical, rule) = ZONES.get(index)?;
        let explicit = EXPLICIT
            .binary_search_by(|(candidate, _)| cmp_ignore_ascii_case(candidate, canonical))
            .ok()
            .and_then(|index| EXPLICIT.get(index))
            .map_or(&[][..], |(_, transitions)| *transitions);
        Some(Self {
            rule: PosixTz::parse(rule)?,
            explicit,
        })
    }

    /// A zone that follows a POSIX TZ rule such as `CET-1CEST,M3.5.0,M10.5.0/3`.
    pub fn from_posix(rule: &str) -> Option<Self> {
        Some(Self {
            rule: PosixTz::parse(rule)?,
            explicit: &[],
        })
    }

    /// The UTC offset, in seconds east of Greenwich, at a Unix instant in
    /// milliseconds.
    pub fn offset_at(&self, unix_ms: i64) -> i32 {
        let seconds = unix_ms.div_euclid(1000);
        if let (Some(first), Some(last)) = (self.explicit.first(), self.explicit.last()) {
            if first.0 <= seconds && seconds < last.0 {
                let after = self.explicit.partition_point(|(from, _)| *from <= seconds);
                if let Some((_, offset)) = after.checked_sub(1).and_then(|i| self.explicit.get(i)) {
                    return *offset;
                }
            }
        }
        self.rule.offset_at(seconds)
    }

    /// The local date and time at a Unix instant in milliseconds, or `None`
    /// when the local date would be out of the `i64` day range.
    pub fn to_local(&self, unix_ms: i64) -> Option<LocalDateTime> {
        let offset_seconds = self.offset_at(unix_ms);
        let local = unix_ms
            .div_euclid(1000)
            .checked_add(i64::from(offset_seconds))?;
        let days = local.div_euclid(SECONDS_PER_DAY);
        let second_of_day = local.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days)?;
        Some(LocalDateTime {
            year,
            month,
            day,
            hour: u8::try_from(second_of_day / 3600).ok()?,
            minute: u8::try_from(second_of_day / 60 % 60).ok()?,
            second: u8::try_from(second_of_day % 60).ok()?,
            weekday: weekday_from_days(days),
            offset_seconds,
        })
    }
}

/// Orders like comparing the ASCII-lowercased strings.
fn cmp_ignore_ascii_case(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|byte| byte.to_ascii_lowercase())
        .cmp(b.bytes().map(|byte| byte.to_ascii_lowercase()))
}

/// A parsed POSIX TZ rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PosixTz {
    /// Standard time, seconds east of UTC.
    std_offset: i32,
    dst: Option<Dst>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dst {
    /// Daylight saving time, seconds east of UTC.
    offset: i32,
    /// When DST starts, in standard local time.
    start: Transition,
    /// When DST ends, in DST local time.
    end: Transition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Transition {
    date: RuleDate,
    /// Seconds after local midnight of `date`, -167..=167 hours.
    time: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleDate {
    /// `Jn`: day 1..=365, February 29 never counted.
    Julian(u16),
    /// `n`: zero-based day 0..=365, February 29 counted.
    ZeroBased(u16),
    /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    MonthWeekDay { month: u8, week: u8, weekday: u8 },
}

impl PosixTz {
    /// Parses a POSIX TZ string; `None` unless the whole string is valid.
    pub fn parse(text: &str) -> Option<Self> {
        let mut cursor = Cursor(text.as_bytes());
        cursor.name()?;
        let std_offset = cursor.offset()?;
        if cursor.is_empty() {
            return Some(Self {
                std_offset,
                dst: None,
            });
        }
        cursor.name()?;
        let offset = if cursor.peek() == Some(b',') {
            std_offset.checked_add(3600)?
        } else {
            cursor.offset()?
        };
        // A DST name without rules has no portable meaning: reject it.
        if !cursor.eat(b',') {
            return None;
        }
        let start = cursor.transition()?;
        if !cursor.eat(b',') {
            return None;
        }
        let end = cursor.transition()?;
        if !cursor.is_empty() {
            return None;
        }
        Some(Self {
            std_offset,
            dst: Some(Dst { offset, start, end }),
        })
    }

    /// The UTC offset, in seconds east of Greenwich, at a Unix second.
    pub fn offset_at(&self, unix_seconds: i64) -> i32 {
        let Some(dst) = self.dst else {
            return self.std_offset;
        };
        let Some((year, _, _)) = civil_from_days(unix_seconds.div_euclid(SECONDS_PER_DAY)) else {
            return self.std_offset;
        };
        // The latest transition at or before the instant decides. A rule's
        // transitions fall within a week of its year (rule times stay under
        // 168 hours), so the neighbouring years cover every case, DST that
        // spans the new year included. Ties go to the later year, then to
        // the end of DST: all-year DST ends exactly when next year's starts.
        let mut latest: Option<(i64, i64, bool)> = None;
        for rule_year in year.saturating_sub(2)..=year.saturating_add(1) {
            let candidates = [
                (dst.start.instant(rule_year, self.std_offset), false),
                (dst.end.instant(rule_year, dst.offset), true),
            ];
            for (instant, ends_dst) in candidates {
                if let Some(instant) = instant.filter(|instant| *instant <= unix_seconds) {
                    latest = latest.max(Some((instant, rule_year, ends_dst)));
                }
            }
        }
        match latest {
            Some((_, _, false)) => dst.offset,
            _ => self.std_offset,
        }
    }
}

impl Transition {
    /// The Unix second of this transition in `year`, given the UTC offset in
    /// effect just before it.
    fn instant(&self, year: i64, offset_before: i32) -> Option<i64> {
        self.date
            .day_in(year)?
            .checked_mul(SECONDS_PER_DAY)?
            .checked_add(i64::from(self.time))?
            .checked_sub(i64::from(offset_before))
    }
}

impl RuleDate {
    /// Days since 1970-01-01 of this date in `year`.
    fn day_in(&self, year: i64) -> Option<i64> {
        match *self {
            Self::Julian(day) => {
                let skip_february_29 = is_leap_year(year) && day >= 60;
                let day_of_year = i64::from(day) - 1 + i64::from(skip_february_29);
                days_from_civil(year, 1, 1)?.checked_add(day_of_year)
            }
            Self::ZeroBased(day) => days_from_civil(year, 1, 1)?.checked_add(i64::from(day)),
            Self::MonthWeekDay {
                month,
                week,
                weekday,
            } => {
                let first = days_from_civil(year, month, 1)?;
                let first_weekday = (weekday_from_days(first) + 1) % 7; // Sunday = 0
                let mut day = (weekday + 7 - first_weekday) % 7 + 7 * week.saturating_sub(1);
                if day >= days_in_month(year, month) {
                    day = day.saturating_sub(7);
                }
                first.checked_add(i64::from(day))
            }
        }
    }
}

/// A parser over the bytes of a POSIX TZ string.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        match self.0.split_first() {
            Some((first, rest)) if *first == byte => {
                self.0 = rest;
                true
            }
            _ => false,
        }
    }

    /// Takes the longest prefix of bytes satisfying `accept`.
    fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &[u8] {
        let length = self.0.iter().take_while(|byte| accept(**byte)).count();
        let (taken, rest) = self.0.split_at(length.min(self.0.len()));
        self.0 = rest;
        taken
    }

    /// A zone abbreviation: three or more letters, or `<…>` with three or
    /// more letters, digits and signs.
    fn name(&mut self) -> Option<()> {
        let length = if self.eat(b'<') {
            let length = self
                .take_while(|byte| byte.is_ascii_alphanumeric() || byte == b'+' || byte == b'-')
                .len();
            if !self.eat(b'>') {
                return None;
            }
            length
        } else {
            self.take_while(|byte| byte.is_ascii_alphabetic()).len()
        };
        (length >= 3).then_some(())
    }

    /// An unsigned number of 1 to `max_digits` digits.
    fn number(&mut self, max_digits: usize) -> Option<u32> {
        let digits = self.take_while(|byte| byte.is_ascii_digit());
        if digits.is_empty() || digits.len() > max_digits {
            return None;
        }
        digits.iter().try_fold(0u32, |value, digit| {
            value.checked_mul(10)?.checked_add(u32::from(digit - b'0'))
        })
    }

    /// `[+-]hh[:mm[:ss]]` with `hh` at most `max_hours`, as signed seconds.
    fn signed_duration(&mut self, max_hours: u32) -> Option<i32> {
        let negative = if self.eat(b'-') {
            true
        } else {
            self.eat(b'+');
            false
        };
        let hours = self.number(3).filter(|hours| *hours <= max_hours)?;
        let mut seconds = hours * 3600;
        for scale in [60, 1] {
            if !self.eat(b':') {
                break;
            }
            seconds += self.number(2).filter(|part| *part < 60)? * scale;
        }
        let seconds = i32::try_from(seconds).ok()?;
        Some(if negative { -seconds } else { seconds })
    }

    /// A UTC offset, written west-positive, as seconds east of Greenwich.
    fn offset(&mut self) -> Option<i32> {
        self.signed_duration(MAX_OFFSET_HOURS).map(|west| -west)
    }

    /// `date[/time]`.
    fn transition(&mut self) -> Option<Transition> {
        let date = if self.eat(b'J') {
            RuleDate::Julian(
                self.number(3)
                    .filter(|day| (1..=365).contains(day))
                    .and_then(|day| u16::try_from(day).ok())?,
            )
        } else if self.eat(b'M') {
            let month = self.number(2).filter(|month| (1..=12).contains(month))?;
            if !self.eat(b'.') {
                return None;
            }
            let week = self.number(1).filter(|week| (1..=5).contains(week))?;
            if !self.eat(b'.') {
                return None;
            }
            let weekday = self.number(1).filter(|weekday| *weekday <= 6)?;
            RuleDate::MonthWeekDay {
                month: u8::try_from(month).ok()?,
                week: u8::try_from(week).ok()?,
                weekday: u8::try_from(weekday).ok()?,
            }
        } else {
            RuleDate::ZeroBased(
                self.number(3)
                    .filter(|day| *day <= 365)
                    .and_then(|day| u16::try_from(day).ok())?,
            )
        };
        let time = if self.eat(b'/') {
            self.signed_duration(MAX_RULE_HOURS)?
        } else {
            2 * 3600
        };
        Some(Transition { date, time })
    }
}

/// Whether `year` is a leap year of the proleptic Gregorian calendar.
pub fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The number of days of `month` (1..=12) in `year`, 0 for other months.
pub fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Whether `year-month-day` exists in the proleptic Gregorian calendar.
pub fn is_valid_date(year: i64, month: u8, day: u8) -> bool {
    day >= 1 && day <= days_in_month(year, month)
}

/// Days since 1970-01-01 of a valid date (Howard Hinnant's
/// `days_from_civil`); `None` on overflow.
pub fn days_from_civil(year: i64, month: u8, day: u8) -> Option<i64> {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era.checked_mul(146_097)?
        .checked_add(day_of_era)?
        .checked_sub(719_468)
}

/// The date `days` after 1970-01-01 as `(year, month, day)` (Howard
/// Hinnant's `civil_from_days`); `None` on overflow.
pub fn civil_from_days(days: i64) -> Option<(i64, u8, u8)> {
    let days = days.checked_add(719_468)?;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // March = 0
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = era
        .checked_mul(400)?
        .checked_add(year_of_era + i64::from(month <= 2))?;
    Some((year, u8::try_from(month).ok()?, u8::try_from(day).ok()?))
}

/// The weekday of the day `days` after 1970-01-01, Monday = 0 .. Sunday = 6.
pub fn weekday_from_days(days: i64) -> u8 {
    // 1970-01-01 was a Thursday.
    u8::try_from((days.rem_euclid(7) + 3) % 7).unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Unix milliseconds of `YYYY-MM-DDTHH:MM[:SS]Z`.
    pub(crate) fn utc_ms(text: &str) -> i64 {
        let text = text.strip_suffix('Z').unwrap();
        let (date, time) = text.split_once('T').unwrap();
        let date: Vec<i64> = date.split('-').map(|part| part.parse().unwrap()).collect();
        let time: Vec<i64> = time.split(':').map(|part| part.parse().unwrap()).collect();
        let days = days_from_civil(date[0], date[1] as u8, date[2] as u8).unwrap();
        let seconds = days * 86_400 + time[0] * 3600 + time[1] * 60 + time.get(2).unwrap_or(&0);
        seconds * 1000
    }

    fn offset(zone: &str, at: &str) -> i32 {
        TimeZone::get(zone).unwrap().offset_at(utc_ms(at))
    }

    const HOUR: i32 = 3600;

    #[test]
    fn lisbon_winter_and_summer() {
        assert_eq!(offset("Europe/Lisbon", "2026-01-15T12:00Z"), 0);
        assert_eq!(offset("Europe/Lisbon", "2026-07-15T12:00Z"), HOUR);
        // 2026-03-29 01:00 UTC and 2026-10-25 01:00 UTC.
        assert_eq!(offset("Europe/Lisbon", "2026-03-29T00:59:59Z"), 0);
        assert_eq!(offset("Europe/Lisbon", "2026-03-29T01:00Z"), HOUR);
        assert_eq!(offset("Europe/Lisbon", "2026-10-25T00:59:59Z"), HOUR);
        assert_eq!(offset("Europe/Lisbon", "2026-10-25T01:00Z"), 0);
    }

    #[test]
    fn new_york_at_the_exact_minutes_of_both_2026_transitions() {
        let zone = TimeZone::get("America/New_York").unwrap();
        let start = utc_ms("2026-03-08T07:00Z");
        assert_eq!(zone.offset_at(start - 60_000), -5 * HOUR);
        assert_eq!(zone.offset_at(start - 1), -5 * HOUR);
        assert_eq!(zone.offset_at(start), -4 * HOUR);
        let end = utc_ms("2026-11-01T06:00Z");
        assert_eq!(zone.offset_at(end - 1), -4 * HOUR);
        assert_eq!(zone.offset_at(end), -5 * HOUR);
        assert_eq!(zone.offset_at(end + 60_000), -5 * HOUR);
        let local = zone.to_local(start).unwrap();
        assert_eq!(
            (local.month, local.day, local.hour, local.minute),
            (3, 8, 3, 0)
        );
        assert_eq!(local.weekday, 6); // Sunday
    }

    #[test]
    fn sydney_dst_spans_the_new_year() {
        // AEST-10AEDT,M10.1.0,M4.1.0/3
        assert_eq!(offset("Australia/Sydney", "2026-01-15T00:00Z"), 11 * HOUR);
        assert_eq!(offset("Australia/Sydney", "2026-07-15T00:00Z"), 10 * HOUR);
        assert_eq!(offset("Australia/Sydney", "2026-12-31T23:00Z"), 11 * HOUR);
        // Ends 2026-04-05 03:00 AEDT = 2026-04-04 16:00 UTC.
        assert_eq!(
            offset("Australia/Sydney", "2026-04-04T15:59:59Z"),
            11 * HOUR
        );
        assert_eq!(offset("Australia/Sydney", "2026-04-04T16:00Z"), 10 * HOUR);
        // Starts 2026-10-04 02:00 AEST = 2026-10-03 16:00 UTC.
        assert_eq!(
            offset("Australia/Sydney", "2026-10-03T15:59:59Z"),
            10 * HOUR
        );
        assert_eq!(offset("Australia/Sydney", "2026-10-03T16:00Z"), 11 * HOUR);
    }

    #[test]
    fn fixed_offsets() {
        assert_eq!(offset("Asia/Kolkata", "2026-06-01T00:00Z"), 5 * HOUR + 1800);
        assert_eq!(
            offset("Asia/Kathmandu", "2026-06-01T00:00Z"),
            5 * HOUR + 2700
        );
        assert_eq!(offset("UTC", "2026-06-01T00:00Z"), 0);
        assert_eq!(offset("Etc/GMT+5", "2026-06-01T00:00Z"), -5 * HOUR);
        // Tokyo and São Paulo have no DST.
        assert_eq!(offset("Asia/Tokyo", "2026-01-01T00:00Z"), 9 * HOUR);
        assert_eq!(offset("Asia/Tokyo", "2026-07-01T00:00Z"), 9 * HOUR);
        assert_eq!(offset("America/Sao_Paulo", "2026-01-01T00:00Z"), -3 * HOUR);
        assert_eq!(offset("America/Sao_Paulo", "2026-07-01T00:00Z"), -3 * HOUR);
    }

    #[test]
    fn negative_dst_in_dublin() {
        // IST-1GMT0,M10.5.0,M3.5.0/1: winter is the "daylight saving" period.
        assert_eq!(offset("Europe/Dublin", "2026-01-15T12:00Z"), 0);
        assert_eq!(offset("Europe/Dublin", "2026-07-15T12:00Z"), HOUR);
    }

    #[test]
    fn explicit_transitions_in_casablanca() {
        // Ramadan 2026: UTC+0 from 2026-02-15 02:00 UTC to 2026-03-22 02:00 UTC.
        assert_eq!(offset("Africa/Casablanca", "2026-02-15T01:59:59Z"), HOUR);
        assert_eq!(offset("Africa/Casablanca", "2026-02-15T02:00Z"), 0);
        assert_eq!(offset("Africa/Casablanca", "2026-03-22T01:59:59Z"), 0);
        assert_eq!(offset("Africa/Casablanca", "2026-03-22T02:00Z"), HOUR);
    }

    #[test]
    fn names_ignore_ascii_case_and_include_links() {
        assert!(TimeZone::get("america/new_york").is_some());
        assert!(TimeZone::get("EUROPE/LISBON").is_some());
        assert_eq!(
            TimeZone::get("US/Eastern"),
            TimeZone::get("America/New_York")
        );
        assert_eq!(
            TimeZone::get("Asia/Calcutta"),
            TimeZone::get("Asia/Kolkata")
        );
        assert!(TimeZone::get("Mars/Olympus_Mons").is_none());
        assert!(TimeZone::get("").is_none());
        assert!(TimeZone::get("posixrules").is_none());
        assert!(TimeZone::get("Factory").is_none());
    }

    #[test]
    fn the_table_is_sorted_and_every_rule_parses() {
        for pair in ZONES.windows(2) {
            assert_eq!(cmp_ignore_ascii_case(pair[0].0, pair[1].0), Ordering::Less);
        }
        for pair in EXPLICIT.windows(2) {
            assert_eq!(cmp_ignore_ascii_case(pair[0].0, pair[1].0), Ordering::Less);
        }
        for (name, rule) in ZONES {
            assert!(PosixTz::parse(rule).is_some(), "{name}: {rule}");
            assert!(TimeZone::get(name).is_some(), "{name}");
        }
        for (name, transitions) in EXPLICIT {
            assert!(ZONES.iter().any(|(zone, _)| zone == name), "{name}");
            assert!(transitions.windows(2).all(|pair| pair[0].0 < pair[1].0));
            assert_eq!(
                transitions.first().map(|(from, _)| *from),
                Some(exact_from())
            );
        }
        assert!(ZONES.len() > 400);
        assert!(tzdata_version().starts_with("20"));
    }

    #[test]
    fn parses_the_posix_grammar() {
        let ny = PosixTz::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(ny.std_offset, -5 * HOUR);
        let dst = ny.dst.unwrap();
        assert_eq!(dst.offset, -4 * HOUR);
        assert_eq!(dst.start.time, 2 * HOUR);
        let quoted = PosixTz::parse("<+0530>-5:30").unwrap();
        assert_eq!((quoted.std_offset, quoted.dst), (5 * HOUR + 1800, None));
        let seconds = PosixTz::parse("<-00>+0:00:01").unwrap();
        assert_eq!(seconds.std_offset, -1);
        let explicit_dst = PosixTz::parse("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0").unwrap();
        assert_eq!(explicit_dst.dst.unwrap().offset, 11 * HOUR);
        let times = PosixTz::parse("<-02>2<-01>,M3.5.0/-1,M10.5.0/0").unwrap();
        assert_eq!(times.dst.unwrap().start.time, -HOUR);
        let long = PosixTz::parse("EET-2EEST,M3.4.4/50,M10.4.4/167:59:59").unwrap();
        assert_eq!(long.dst.unwrap().end.time, 167 * HOUR + 3599);
        let julian = PosixTz::parse("XXX3YYY,J60/0,300").unwrap().dst.unwrap();
        assert_eq!(julian.start.date, RuleDate::Julian(60));
        assert_eq!(julian.end.date, RuleDate::ZeroBased(300));
        for bad in [
            "",
            "EST",
            "ES5",
            "EST5EDT",
            "EST5EDT,M3.2.0",
            "EST5EDT,M3.2.0,M11.1.0,",
            "EST5EDT,M13.2.0,M11.1.0",
            "EST5EDT,M3.6.0,M11.1.0",
            "EST5EDT,M3.2.7,M11.1.0",
            "EST5EDT,J0,J365",
            "EST5EDT,0,366",
            "EST5EDT,M3.2.0/168,M11.1.0",
            "EST25",
            "EST5:60",
            "<+05-5",
            "<+5>-5",
            "EST5 ",
        ] {
            assert_eq!(PosixTz::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn julian_days_and_all_year_dst() {
        // J60 is 1 March even in leap years; 59 is 29 February in leap years.
        let zone = PosixTz::parse("AAA0BBB,J60/0,59/0").unwrap();
        let leap = Transition {
            date: RuleDate::Julian(60),
            time: 0,
        };
        assert_eq!(
            leap.instant(2028, 0),
            Some(utc_ms("2028-03-01T00:00Z") / 1000)
        );
        let zero_based = Transition {
            date: RuleDate::ZeroBased(59),
            time: 0,
        };
        assert_eq!(
            zero_based.instant(2028, 0),
            Some(utc_ms("2028-02-29T00:00Z") / 1000)
        );
        // DST from 1 March to 29 February (leap) or 1 March 00:00 DST: an
        // hour of standard time a year, once the end falls on 1 March.
        assert_eq!(zone.offset_at(utc_ms("2028-06-01T00:00Z") / 1000), 3600);
        assert_eq!(zone.offset_at(utc_ms("2029-02-28T22:59:59Z") / 1000), 3600);
        assert_eq!(zone.offset_at(utc_ms("2029-02-28T23:30Z") / 1000), 0);
        assert_eq!(zone.offset_at(utc_ms("2029-03-01T00:00Z") / 1000), 3600);
        // RFC 8536's all-year DST: DST from January 1 00:00 standard time to
        // December 31 25:00 DST, i.e. forever.
        let always = PosixTz::parse("EST5EDT4,0/0,J365/25").unwrap();
        for at in [
            "2026-01-01T00:00Z",
            "2026-01-01T05:00Z",
            "2026-06-01T00:00Z",
            "2026-12-31T23:59:59Z",
            "2027-01-01T05:00Z",
        ] {
            assert_eq!(always.offset_at(utc_ms(at) / 1000), -4 * HOUR, "{at}");
        }
    }

    #[test]
    fn calendar() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(civil_from_days(0), Some((1970, 1, 1)));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(civil_from_days(-1), Some((1969, 12, 31)));
        assert_eq!(weekday_from_days(0), 3); // Thursday
        assert_eq!(weekday_from_days(-4), 6); // Sunday 1969-12-28
        assert!(is_valid_date(2024, 2, 29));
        assert!(!is_valid_date(2026, 2, 29));
        assert!(!is_valid_date(1900, 2, 29));
        assert!(is_valid_date(2000, 2, 29));
        assert!(!is_valid_date(2026, 4, 31));
        assert!(!is_valid_date(2026, 13, 1));
        assert!(!is_valid_date(2026, 1, 0));
        assert_eq!(civil_from_days(i64::MAX), None);
        assert_eq!(days_from_civil(i64::MIN, 1, 1), None);
    }

    proptest! {
        #[test]
        fn calendar_round_trips(days in -10_000_000_000_000i64..10_000_000_000_000) {
            let (year, month, day) = civil_from_days(days).unwrap();
            prop_assert!(is_valid_date(year, month, day));
            prop_assert_eq!(days_from_civil(year, month, day), Some(days));
            prop_assert_eq!(
                weekday_from_days(days + 1),
                (weekday_from_days(days) + 1) % 7
            );
        }

        #[test]
        fn the_calendar_never_panics(days in any::<i64>(), year in any::<i64>(), month in any::<u8>(), day in any::<u8>()) {
            let _ = civil_from_days(days);
            let _ = weekday_from_days(days);
            let _ = days_from_civil(year, month, day);
            let _ = is_valid_date(year, month, day);
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(text in ".{0,64}") {
            let _ = PosixTz::parse(&text);
            let _ = TimeZone::get(&text);
        }

        #[test]
        fn parsing_posix_like_text_never_panics(text in "[<>A-Za-z0-9+:,./J-]{0,48}") {
            if let Some(zone) = TimeZone::from_posix(&text) {
                let _ = zone.offset_at(0);
            }
        }

        #[test]
        fn arbitrary_rules_at_arbitrary_instants_never_panic(
            std in -24i32..=24,
            dst in -24i32..=24,
            month in 1u8..=12,
            week in 1u8..=5,
            weekday in 0u8..=6,
            julian in 1u16..=365,
            start_time in -167i32..=167,
            end_time in -167i32..=167,
            instant in any::<i64>(),
        ) {
            let rule = format!(
                "AAA{std}BBB{dst},M{month}.{week}.{weekday}/{start_time},J{julian}/{end_time}"
            );
            let zone = TimeZone::from_posix(&rule).unwrap();
            let offset = zone.offset_at(instant);
            prop_assert!(offset == -std * 3600 || offset == -dst * 3600);
            let _ = zone.to_local(instant);
        }

        #[test]
        fn every_zone_answers_arbitrary_instants(instant in any::<i64>()) {
            for (name, _) in ZONES {
                let zone = TimeZone::get(name).unwrap();
                let offset = zone.offset_at(instant);
                prop_assert!(offset.abs() < 24 * 3600);
                let _ = zone.to_local(instant);
            }
        }
    }
}
