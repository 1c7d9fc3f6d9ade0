//! Calendar dates written as ISO 8601 text (`2026-01-31`) without going
//! through `fmt`: a quote writes a few hundred dates (every period of every
//! charge and installment), and chrono's general formatter showed up in
//! profiles. Years outside 0..=9999 fall back to chrono, which writes them
//! with a sign.

use chrono::{Datelike, NaiveDate};
use std::fmt;

/// A date's ISO 8601 text, kept on the stack.
#[derive(Clone, Copy)]
pub struct DateText {
    bytes: [u8; 10],
}

impl DateText {
    /// The text of `date`, or `None` when its year has more than 4 digits
    /// or is negative.
    pub fn of(date: NaiveDate) -> Option<DateText> {
        let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
        let (month, day) = (date.month(), date.day());
        let digit = |n: u32| b'0' + u8::try_from(n % 10).expect("a digit");
        Some(DateText {
            bytes: [
                digit(year / 1000),
                digit(year / 100),
                digit(year / 10),
                digit(year),
                b'-',
                digit(month / 10),
                digit(month),
                b'-',
                digit(day / 10),
                digit(day),
            ],
        })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes).expect("ASCII digits and dashes")
    }
}

/// Writes `date` as chrono's `Display` would, faster for years 0..=9999.
pub fn write_date(f: &mut fmt::Formatter<'_>, date: NaiveDate) -> fmt::Result {
    match DateText::of(date) {
        Some(text) => f.write_str(text.as_str()),
        None => write!(f, "{date}"),
    }
}

/// Serializes `date` as chrono's serde support would (its ISO text).
pub fn serialize_date<S: serde::Serializer>(
    date: &NaiveDate,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match DateText::of(*date) {
        Some(text) => serializer.serialize_str(text.as_str()),
        None => serializer.collect_str(date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_chrono_writes_them_across_the_whole_range() {
        for date in [
            NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
            NaiveDate::from_ymd_opt(1, 12, 9).unwrap(),
            NaiveDate::from_ymd_opt(0, 2, 29).unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
            NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(-5, 3, 1).unwrap(),
        ] {
            let ours = serde_json::to_string(&Wrapped(date)).unwrap();
            assert_eq!(ours, serde_json::to_string(&date).unwrap(), "{date}");
            assert_eq!(format!("{}", Shown(date)), date.to_string());
        }
    }

    struct Wrapped(NaiveDate);
    impl serde::Serialize for Wrapped {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_date(&self.0, s)
        }
    }

    struct Shown(NaiveDate);
    impl fmt::Display for Shown {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_date(f, self.0)
        }
    }

    proptest::proptest! {
        #[test]
        fn every_day_of_four_centuries_reads_the_same(days in 0i64..146_097) {
            let date = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
            let text = DateText::of(date).unwrap();
            proptest::prop_assert_eq!(text.as_str(), date.to_string());
        }
    }
}
