//! Business hours: is the business open at a given instant?
//!
//! Opening hours are written in local wall-clock time for an IANA time zone
//! ("Monday 09:00 to 17:00 in Europe/Lisbon"), so answering needs the zone's
//! UTC offset at that instant, daylight saving time included. The engine
//! reads no clock: the instant is the request's `now_ms`.
//!
//! # Why POSIX TZ rules instead of a time zone database
//!
//! The same code runs natively and in WebAssembly, where there is no system
//! time zone database to read, so the zone data must be compiled in. A full
//! database (jiff's bundle: every zone's TZif history, about 200 KB, plus its
//! parser) cost the optimised WebAssembly module about 80 KB gzipped, almost
//! all of it history that business hours never consult: they are evaluated
//! at the present. [`crate::tz`] keeps only what the present needs: each
//! zone's POSIX TZ rule (the footer of its TZif file, such as
//! `WET0WEST,M3.5.0/1,M10.5.0`), plus the listed transitions of the few zones
//! whose rule does not describe the present yet, in a table generated from
//! the system tzdata by `scripts/gen-tz-zones.sh`, and a small parser and
//! calendar. Offsets match the database from 1 January of the tzdata
//! release year on, not for earlier instants (see [`crate::tz`]). A zone is
//! resolved once, by [`CompiledHours::compile`], so routing pays only for
//! the offset lookup.

use crate::definition::BusinessHours;
use crate::tz::{self, TimeZone};

/// Why opening hours cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    /// The time zone is not in the IANA database.
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    /// A time is not `HH:MM`.
    #[error("invalid time {0:?}, expected HH:MM between 00:00 and 24:00")]
    InvalidTime(String),
    /// An interval closes at or before it opens.
    #[error("the interval closes at {close} which is not after its opening at {open}")]
    EmptyInterval {
        /// The opening time as written.
        open: String,
        /// The closing time as written.
        close: String,
    },
    /// A closed date is not `YYYY-MM-DD`.
    #[error("invalid date {0:?}, expected YYYY-MM-DD")]
    InvalidDate(String),
}

/// Looks up an IANA time zone (ignoring ASCII case) in the compiled-in table.
pub fn time_zone(name: &str) -> Result<TimeZone, HoursError> {
    TimeZone::get(name).ok_or_else(|| HoursError::UnknownTimeZone(name.to_string()))
}

/// Parses `HH:MM` (00:00 to 24:00) into minutes since midnight.
pub fn parse_time(text: &str) -> Result<u16, HoursError> {
    let invalid = || HoursError::InvalidTime(text.to_string());
    let (hours, minutes) = text.split_once(':').ok_or_else(invalid)?;
    if hours.len() != 2 || minutes.len() != 2 {
        return Err(invalid());
    }
    let hours: u16 = hours.parse().map_err(|_| invalid())?;
    let minutes: u16 = minutes.parse().map_err(|_| invalid())?;
    if minutes >= 60 || hours > 24 || (hours == 24 && minutes != 0) {
        return Err(invalid());
    }
    Ok(hours * 60 + minutes)
}

/// Parses a `YYYY-MM-DD` date into its parts.
pub fn parse_date(text: &str) -> Result<(i16, i8, i8), HoursError> {
    let invalid = || HoursError::InvalidDate(text.to_string());
    let mut parts = text.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Err(invalid());
    }
    let year: i16 = year.parse().map_err(|_| invalid())?;
    let month: i8 = month.parse().map_err(|_| invalid())?;
    let day: i8 = day.parse().map_err(|_| invalid())?;
    // Four characters keep the year within -9999..=9999 ("+999" parses too).
    let (Ok(month_number), Ok(day_number)) = (u8::try_from(month), u8::try_from(day)) else {
        return Err(invalid());
    };
    if !tz::is_valid_date(i64::from(year), month_number, day_number) {
        return Err(invalid());
    }
    Ok((year, month, day))
}

/// Opening hours ready to answer "open at this instant?".
#[derive(Debug, Clone)]
pub struct CompiledHours {
    time_zone: TimeZone,
    /// Opening intervals in minutes since local midnight, Monday first.
    weekly: [Vec<(u16, u16)>; 7],
    closed_dates: Vec<(i16, i8, i8)>,
}

impl CompiledHours {
    /// Resolves the time zone and parses every time and date, returning each
    /// problem with its path relative to the hours object.
    pub fn compile(hours: &BusinessHours) -> Result<Self, Vec<(String, HoursError)>> {
        let mut problems = Vec::new();
        let time_zone = match time_zone(&hours.time_zone) {
            Ok(time_zone) => Some(time_zone),
            Err(error) => {
                problems.push(("time_zone".to_string(), error));
                None
            }
        };
        let mut weekly: [Vec<(u16, u16)>; 7] = Default::default();
        for (day_index, (day_name, intervals)) in hours.weekly.days().into_iter().enumerate() {
            for (interval_index, interval) in intervals.iter().enumerate() {
                let path = format!("weekly.{day_name}[{interval_index}]");
                let open = parse_time(&interval.open)
                    .map_err(|error| problems.push((format!("{path}.open"), error)));
                let close = parse_time(&interval.close)
                    .map_err(|error| problems.push((format!("{path}.close"), error)));
                if let (Ok(open), Ok(close)) = (open, close) {
                    if close <= open {
                        problems.push((
                            path,
                            HoursError::EmptyInterval {
                                open: interval.open.clone(),
                                close: interval.close.clone(),
                            },
                        ));
                    } else {
                        weekly[day_index].push((open, close));
                    }
                }
            }
        }
        let mut closed_dates = Vec::new();
        for (index, date) in hours.closed_dates.iter().enumerate() {
            match parse_date(date) {
                Ok(date) => closed_dates.push(date),
                Err(error) => problems.push((format!("closed_dates[{index}]"), error)),
            }
        }
        match time_zone {
            Some(time_zone) if problems.is_empty() => Ok(Self {
                time_zone,
                weekly,
                closed_dates,
            }),
            _ => Err(problems),
        }
    }

    /// Returns true when `now_ms` (Unix milliseconds) falls inside an
    /// opening interval of the local day and the day is not a closed date.
    /// Instants whose local year is outside -9999..=9999 are never open.
    pub fn is_open(&self, now_ms: i64) -> bool {
        let Some(local) = self.time_zone.to_local(now_ms) else {
            return false;
        };
        let (Ok(year), Ok(month), Ok(day)) = (
            i16::try_from(local.year),
            i8::try_from(local.month),
            i8::try_from(local.day),
        ) else {
            return false;
        };
        if !(-9999..=9999).contains(&year) || self.closed_dates.contains(&(year, month, day)) {
            return false;
        }
        let day_index = usize::from(local.weekday);
        let minute = u16::from(local.hour) * 60 + u16::from(local.minute);
        self.weekly.get(day_index).is_some_and(|intervals| {
            intervals
                .iter()
                .any(|(open, close)| minute >= *open && minute < *close)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::{OpeningInterval, WeeklyHours};

    fn nine_to_five(time_zone: &str) -> BusinessHours {
        let day = vec![OpeningInterval {
            open: "09:00".into(),
            close: "17:00".into(),
        }];
        BusinessHours {
            time_zone: time_zone.into(),
            weekly: WeeklyHours {
                monday: day.clone(),
                tuesday: day.clone(),
                wednesday: day.clone(),
                thursday: day.clone(),
                friday: day,
                saturday: Vec::new(),
                sunday: Vec::new(),
            },
            closed_dates: vec!["2026-12-25".into()],
        }
    }

    fn ms(text: &str) -> i64 {
        crate::tz::tests::utc_ms(text)
    }

    #[test]
    fn parses_times_and_dates() {
        assert_eq!(parse_time("09:30"), Ok(570));
        assert_eq!(parse_time("24:00"), Ok(1440));
        assert!(parse_time("24:01").is_err());
        assert!(parse_time("9:30").is_err());
        assert!(parse_time("09:60").is_err());
        assert_eq!(parse_date("2026-02-28"), Ok((2026, 2, 28)));
        assert!(parse_date("2026-02-30").is_err());
        assert_eq!(parse_date("2028-02-29"), Ok((2028, 2, 29)));
        assert!(parse_date("2100-02-29").is_err());
        assert!(parse_date("2026-13-01").is_err());
        assert!(parse_date("2026-00-10").is_err());
        assert!(parse_date("2026-04-31").is_err());
        assert!(parse_date("2026-2-3").is_err());
    }

    #[test]
    fn follows_daylight_saving_time_in_new_york() {
        let hours = CompiledHours::compile(&nine_to_five("America/New_York")).unwrap();
        // Friday 2026-03-06, EST (UTC-5): 09:30 local is 14:30 UTC.
        assert!(hours.is_open(ms("2026-03-06T14:30:00Z")));
        assert!(!hours.is_open(ms("2026-03-06T13:30:00Z")));
        // Monday 2026-03-09, EDT (UTC-4) after the switch: 13:30 UTC is 09:30.
        assert!(hours.is_open(ms("2026-03-09T13:30:00Z")));
        assert!(!hours.is_open(ms("2026-03-09T21:30:00Z")));
    }

    #[test]
    fn uses_the_local_day_in_other_zones() {
        let hours = CompiledHours::compile(&nine_to_five("australia/sydney")).unwrap();
        // Thursday 2026-12-24 10:00 AEDT (UTC+11).
        assert!(hours.is_open(ms("2026-12-23T23:00:00Z")));
        // Friday 2026-12-25 10:00 AEDT is a closed date, though still the
        // 24th in UTC.
        assert!(!hours.is_open(ms("2026-12-24T23:00:00Z")));
        let hours = CompiledHours::compile(&nine_to_five("Asia/Kolkata")).unwrap();
        // Monday 2026-03-09 09:00 IST (UTC+5:30) opens; 08:59 does not.
        assert!(hours.is_open(ms("2026-03-09T03:30:00Z")));
        assert!(!hours.is_open(ms("2026-03-09T03:29:00Z")));
        assert!(!hours.is_open(i64::MAX));
        assert!(!hours.is_open(i64::MIN));
    }

    #[test]
    fn closed_on_weekends_and_closed_dates() {
        let hours = CompiledHours::compile(&nine_to_five("Europe/Lisbon")).unwrap();
        // Saturday.
        assert!(!hours.is_open(ms("2026-03-07T10:00:00Z")));
        // Friday 2026-12-25 is a closed date.
        assert!(!hours.is_open(ms("2026-12-25T10:00:00Z")));
        assert!(hours.is_open(ms("2026-12-24T10:00:00Z")));
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let mut hours = nine_to_five("Mars/Olympus_Mons");
        hours.weekly.monday[0].close = "08:00".into();
        hours.weekly.sunday.push(OpeningInterval {
            open: "25:00".into(),
            close: "26:00".into(),
        });
        hours.closed_dates.push("tomorrow".into());
        let problems: Vec<String> = CompiledHours::compile(&hours)
            .unwrap_err()
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        assert_eq!(
            problems,
            vec![
                "time_zone",
                "weekly.monday[0]",
                "weekly.sunday[0].open",
                "weekly.sunday[0].close",
                "closed_dates[1]"
            ]
        );
    }
}
