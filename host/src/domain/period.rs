//! Coverage periods: half-open `[start, end)` ranges of calendar dates, and the
//! calendar arithmetic billing needs (day counts, month steps with end-of-month
//! clamping, the local date of an instant in an IANA time zone).
//!
//! Dates are calendar dates in the policy's time zone. Day counts are calendar days,
//! so a daylight-saving change never changes an amount.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest period Premia accepts: 100 years of days.
pub const PERIOD_DAYS_MAX: u32 = 36_600;

/// An error building a period or doing date arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The start is not strictly before the end.
    #[error("period start {start} is not before its end {end}")]
    NotIncreasing { start: NaiveDate, end: NaiveDate },
    /// The period is longer than [`PERIOD_DAYS_MAX`].
    #[error("period {start}..{end} is longer than {PERIOD_DAYS_MAX} days")]
    TooLong { start: NaiveDate, end: NaiveDate },
    /// The split date is not strictly inside the period.
    #[error("{date} is not strictly inside {period}")]
    SplitOutside { date: NaiveDate, period: Period },
    /// Date arithmetic left chrono's range.
    #[error("date arithmetic out of range from {date}")]
    OutOfRange { date: NaiveDate },
    /// The name is not an IANA time zone.
    #[error("unknown IANA time zone {0:?}")]
    UnknownTimeZone(String),
}

/// A half-open range of calendar dates `[start, end)`: `start` is the first day
/// covered, `end` the first day not covered. Always at least one day long.
///
/// Serialised as `{"start": "2024-01-01", "end": "2025-01-01"}`; deserialising
/// checks the same rules as [`Period::new`].
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(try_from = "RawPeriod")]
pub struct Period {
    #[serde(serialize_with = "super::date_text::serialize_date")]
    start: NaiveDate,
    #[serde(serialize_with = "super::date_text::serialize_date")]
    end: NaiveDate,
}

#[derive(Deserialize)]
struct RawPeriod {
    start: NaiveDate,
    end: NaiveDate,
}

impl TryFrom<RawPeriod> for Period {
    type Error = PeriodError;

    fn try_from(raw: RawPeriod) -> Result<Self, Self::Error> {
        Period::new(raw.start, raw.end)
    }
}

impl Period {
    /// `[start, end)`. `start` must be before `end`, and the period at most
    /// [`PERIOD_DAYS_MAX`] long.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Period, PeriodError> {
        if start >= end {
            return Err(PeriodError::NotIncreasing { start, end });
        }
        if (end - start).num_days() > i64::from(PERIOD_DAYS_MAX) {
            return Err(PeriodError::TooLong { start, end });
        }
        Ok(Period { start, end })
    }

    /// The first day covered.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The first day not covered.
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// Number of calendar days covered: `[2024-01-01, 2024-03-01)` is 60 days.
    pub fn days(&self) -> u32 {
        let days = (self.end - self.start).num_days();
        debug_assert!(days > 0 && days <= i64::from(PERIOD_DAYS_MAX));
        days as u32
    }

    /// Whether `date` is covered (`start <= date < end`).
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }

    /// Whether every day of `other` is covered by `self`.
    pub fn contains_period(&self, other: &Period) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// The days both periods cover, if any. Touching periods (`[a, b)` and `[b, c)`)
    /// do not overlap.
    pub fn intersection(&self, other: &Period) -> Option<Period> {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        (start < end).then_some(Period { start, end })
    }

    /// Number of days both periods cover; zero when they do not overlap.
    pub fn overlap_days(&self, other: &Period) -> u32 {
        self.intersection(other).map_or(0, |overlap| overlap.days())
    }

    /// Splits into `[start, date)` and `[date, end)`; `date` must be strictly inside.
    pub fn split_at(&self, date: NaiveDate) -> Result<(Period, Period), PeriodError> {
        if date <= self.start || date >= self.end {
            return Err(PeriodError::SplitOutside {
                date,
                period: *self,
            });
        }
        Ok((
            Period {
                start: self.start,
                end: date,
            },
            Period {
                start: date,
                end: self.end,
            },
        ))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        super::date_text::write_date(f, self.start)?;
        f.write_str(", ")?;
        super::date_text::write_date(f, self.end)?;
        f.write_str(")")
    }
}

/// Number of days in `month` (1-12) of `year`: 29 for February 2024.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    assert!((1..=12).contains(&month), "month {month} out of 1-12");
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let first = NaiveDate::from_ymd_opt(year, month, 1);
    let next = NaiveDate::from_ymd_opt(next_year, next_month, 1);
    match (first, next) {
        (Some(first), Some(next)) => (next - first).num_days() as u32,
        // Only at the edges of chrono's range; December always has 31 days.
        _ => 31,
    }
}

/// The date with `day` in `month` of `year`, clamped to the month's last day:
/// day 31 in April 2017 is 2017-04-30, day 30 in February 2024 is 2024-02-29.
pub fn clamped_date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    assert!((1..=31).contains(&day), "day {day} out of 1-31");
    NaiveDate::from_ymd_opt(year, month, day.min(days_in_month(year, month)))
}

/// Months since year 0 (`year * 12 + month - 1`); the inverse of [`from_month_index`].
pub fn month_index(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// The date with `day` (clamped) in the month numbered `index` by [`month_index`].
pub fn from_month_index(index: i64, day: u32) -> Option<NaiveDate> {
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = index.rem_euclid(12) as u32 + 1;
    clamped_date(year, month, day)
}

/// Adds (or with a negative count, subtracts) whole months, keeping the day of month
/// and clamping it to the end of shorter months: 2024-01-31 plus one month is
/// 2024-02-29, plus two is 2024-03-31 (each step counts from the original day, not
/// from the clamped one).
pub fn add_months_clamped(date: NaiveDate, months: i32) -> Result<NaiveDate, PeriodError> {
    from_month_index(month_index(date) + i64::from(months), date.day())
        .ok_or(PeriodError::OutOfRange { date })
}

/// Adds a signed number of calendar days.
pub fn add_days(date: NaiveDate, days: i64) -> Result<NaiveDate, PeriodError> {
    let result = if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    result.ok_or(PeriodError::OutOfRange { date })
}

/// Parses an IANA time zone name such as `"America/New_York"`.
pub fn parse_time_zone(name: &str) -> Result<Tz, PeriodError> {
    name.parse::<Tz>()
        .map_err(|_| PeriodError::UnknownTimeZone(name.to_owned()))
}

/// The calendar date of a UTC instant in `zone`: 2024-03-10T03:30Z is 2024-03-09 in
/// New York. Coverage and billing dates are always these local dates.
pub fn local_date(instant: DateTime<Utc>, zone: Tz) -> NaiveDate {
    instant.with_timezone(&zone).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn period(start: NaiveDate, end: NaiveDate) -> Period {
        Period::new(start, end).unwrap()
    }

    #[test]
    fn a_period_counts_calendar_days_of_its_half_open_range() {
        assert_eq!(period(date(2024, 1, 1), date(2024, 3, 1)).days(), 60);
        assert_eq!(period(date(2023, 1, 1), date(2023, 3, 1)).days(), 59);
        assert_eq!(period(date(2024, 1, 1), date(2025, 1, 1)).days(), 366);
        assert_eq!(period(date(2024, 1, 1), date(2024, 1, 2)).days(), 1);
    }

    #[test]
    fn an_empty_or_reversed_period_is_an_error() {
        let day = date(2024, 1, 1);
        assert_eq!(
            Period::new(day, day),
            Err(PeriodError::NotIncreasing {
                start: day,
                end: day
            })
        );
        assert!(Period::new(date(2024, 2, 1), day).is_err());
        assert!(matches!(
            Period::new(day, date(2200, 1, 1)),
            Err(PeriodError::TooLong { .. })
        ));
    }

    #[test]
    fn the_end_date_is_not_covered() {
        let january = period(date(2024, 1, 1), date(2024, 2, 1));
        assert!(january.contains(date(2024, 1, 1)));
        assert!(january.contains(date(2024, 1, 31)));
        assert!(!january.contains(date(2024, 2, 1)));
    }

    #[test]
    fn touching_periods_do_not_overlap() {
        let january = period(date(2024, 1, 1), date(2024, 2, 1));
        let february = period(date(2024, 2, 1), date(2024, 3, 1));
        assert_eq!(january.intersection(&february), None);
        assert_eq!(january.overlap_days(&february), 0);
        let middle = period(date(2024, 1, 20), date(2024, 2, 15));
        assert_eq!(
            january.intersection(&middle),
            Some(period(date(2024, 1, 20), date(2024, 2, 1)))
        );
        assert_eq!(middle.overlap_days(&february), 14);
        assert!(january.contains_period(&period(date(2024, 1, 5), date(2024, 2, 1))));
        assert!(!january.contains_period(&middle));
    }

    #[test]
    fn splitting_needs_a_date_strictly_inside() {
        let year = period(date(2021, 1, 1), date(2022, 1, 1));
        let (first, second) = year.split_at(date(2021, 7, 1)).unwrap();
        assert_eq!(first, period(date(2021, 1, 1), date(2021, 7, 1)));
        assert_eq!(second, period(date(2021, 7, 1), date(2022, 1, 1)));
        assert!(year.split_at(date(2021, 1, 1)).is_err());
        assert!(year.split_at(date(2022, 1, 1)).is_err());
    }

    #[test]
    fn month_arithmetic_clamps_to_the_end_of_short_months() {
        let cases = [
            (date(2024, 1, 31), 1, date(2024, 2, 29)),
            (date(2023, 1, 31), 1, date(2023, 2, 28)),
            (date(2024, 1, 31), 2, date(2024, 3, 31)),
            (date(2024, 1, 31), 3, date(2024, 4, 30)),
            (date(2024, 2, 29), 12, date(2025, 2, 28)),
            (date(2024, 2, 29), 48, date(2028, 2, 29)),
            (date(2024, 3, 31), -1, date(2024, 2, 29)),
            (date(2024, 1, 15), -1, date(2023, 12, 15)),
            (date(2024, 12, 30), 2, date(2025, 2, 28)),
            (date(2024, 5, 20), 0, date(2024, 5, 20)),
        ];
        for (start, months, expected) in cases {
            assert_eq!(
                add_months_clamped(start, months).unwrap(),
                expected,
                "{start} + {months}"
            );
        }
    }

    #[test]
    fn month_lengths_follow_leap_years() {
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2024, 4), 30);
        assert_eq!(days_in_month(2024, 12), 31);
        assert_eq!(clamped_date(2024, 2, 30), Some(date(2024, 2, 29)));
        assert_eq!(clamped_date(2017, 4, 31), Some(date(2017, 4, 30)));
    }

    #[test]
    fn the_local_date_is_the_date_in_the_policy_time_zone() {
        let instant = Utc.with_ymd_and_hms(2024, 3, 10, 3, 30, 0).unwrap();
        let new_york = parse_time_zone("America/New_York").unwrap();
        assert_eq!(local_date(instant, new_york), date(2024, 3, 9));
        let tokyo = parse_time_zone("Asia/Tokyo").unwrap();
        assert_eq!(local_date(instant, tokyo), date(2024, 3, 10));
        assert_eq!(
            parse_time_zone("Mars/Olympus"),
            Err(PeriodError::UnknownTimeZone("Mars/Olympus".to_owned()))
        );
    }

    #[test]
    fn periods_serialise_as_start_and_end_and_are_checked_when_read() {
        let year = period(date(2024, 1, 1), date(2025, 1, 1));
        let json = serde_json::to_string(&year).unwrap();
        assert_eq!(json, r#"{"start":"2024-01-01","end":"2025-01-01"}"#);
        assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), year);
        let reversed = r#"{"start":"2025-01-01","end":"2024-01-01"}"#;
        assert!(serde_json::from_str::<Period>(reversed).is_err());
    }

    proptest! {
        #[test]
        fn adding_months_keeps_the_day_or_clamps_it(
            days in 0_u64..40_000,
            months in -600_i32..600,
        ) {
            let start = date(1950, 1, 1).checked_add_days(Days::new(days)).unwrap();
            let moved = add_months_clamped(start, months).unwrap();
            prop_assert_eq!(month_index(moved), month_index(start) + i64::from(months));
            let last = days_in_month(moved.year(), moved.month());
            prop_assert_eq!(moved.day(), start.day().min(last));
        }
    }
}
