//! Duration bases: how long a period is, as an exact fraction of a year, under the
//! policy's duration basis (`months`, `days`, `weeks` or `years`).
//!
//! The fraction is kept as an exact integer ratio so that proration divides once,
//! at the very end, and can print the arithmetic it did.

use crate::domain::period::{Period, PeriodError, add_months_clamped, month_index};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An error measuring a period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Date arithmetic left the supported range.
    #[error(transparent)]
    Period(#[from] PeriodError),
    /// A zero denominator or an overflowing product (never for real periods).
    #[error("fraction arithmetic overflow")]
    Overflow,
}

/// How a yearly premium becomes an amount for part of a year. Copied onto each
/// policy when it is created, so later product changes never reprice old policies.
///
/// Serialised in kebab-case: `"months"`, `"days"`, `"weeks"`, `"years"`.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum DurationBasis {
    /// Whole months plus the remaining days over the length of the month they fall
    /// in; `amount = yearly / 12 * months`. The default.
    ///
    /// Months count from the period's start with end-of-month clamping, and "the month
    /// they fall in" is the month-long interval that starts after the whole months:
    /// `[2024-01-20, 2024-02-15)` is 0 whole months and 26 days of the 31-day
    /// `[2024-01-20, 2024-02-20)`, so 26/31 of a month.
    #[default]
    Months,
    /// `amount = yearly * days / 365`, in every year, leap or not.
    Days,
    /// `amount = yearly / 52 * days / 7`, that is `yearly * days / 364`.
    Weeks,
    /// Whole years plus the remaining days over the length of that year (the
    /// year-long interval after the whole years: 365 or 366 days).
    Years,
}

impl fmt::Display for DurationBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DurationBasis::Months => "months",
            DurationBasis::Days => "days",
            DurationBasis::Weeks => "weeks",
            DurationBasis::Years => "years",
        })
    }
}

/// An exact non-negative ratio of integers, always in lowest terms.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fraction {
    pub numerator: u64,
    pub denominator: u64,
}

impl Fraction {
    /// One whole.
    pub const ONE: Fraction = Fraction {
        numerator: 1,
        denominator: 1,
    };

    /// `numerator / denominator` in lowest terms; the denominator must not be zero.
    pub fn new(numerator: u64, denominator: u64) -> Result<Fraction, DurationError> {
        if denominator == 0 {
            return Err(DurationError::Overflow);
        }
        let divisor = gcd(numerator, denominator);
        Ok(Fraction {
            numerator: numerator / divisor,
            denominator: denominator / divisor,
        })
    }

    /// `self / other`; `other` must not be zero.
    pub fn divided_by(self, other: Fraction) -> Result<Fraction, DurationError> {
        let numerator = self
            .numerator
            .checked_mul(other.denominator)
            .ok_or(DurationError::Overflow)?;
        let denominator = self
            .denominator
            .checked_mul(other.numerator)
            .ok_or(DurationError::Overflow)?;
        Fraction::new(numerator, denominator)
    }

    /// `value * numerator / denominator`, multiplying first and dividing once, unrounded.
    pub fn apply(self, value: Decimal) -> Result<Decimal, DurationError> {
        if self == Fraction::ONE {
            return Ok(value);
        }
        value
            .checked_mul(Decimal::from(self.numerator))
            .and_then(|product| product.checked_div(Decimal::from(self.denominator)))
            .ok_or(DurationError::Overflow)
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// A period measured under a basis: `whole` units (months, days or years) plus
/// `remaining_days` out of `unit_days`, and the exact fraction of a year that makes.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duration {
    pub basis: DurationBasis,
    /// Whole months (`months`), whole years (`years`) or days (`days`, `weeks`).
    pub whole: u32,
    /// Days after the whole months or years; zero for `days` and `weeks`.
    pub remaining_days: u32,
    /// Length of the month or year the remaining days fall in; zero for `days` and `weeks`.
    pub unit_days: u32,
    /// The period as an exact fraction of a year under this basis.
    pub year_fraction: Fraction,
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.basis {
            DurationBasis::Months => "months",
            DurationBasis::Years => "years",
            DurationBasis::Days | DurationBasis::Weeks => "",
        };
        match self.basis {
            DurationBasis::Months | DurationBasis::Years if self.remaining_days == 0 => {
                write!(f, "{} {unit}", self.whole)
            }
            DurationBasis::Months | DurationBasis::Years => write!(
                f,
                "{} {unit} + {}/{} days",
                self.whole, self.remaining_days, self.unit_days
            ),
            DurationBasis::Days => write!(f, "{} days / 365", self.whole),
            DurationBasis::Weeks => write!(f, "{} days / 7 / 52", self.whole),
        }
    }
}

/// Measures `period` under `basis`.
///
/// Example: `[2021-01-01, 2021-07-01)` is 6 months (6/12 of a year) by `months`,
/// 181 days (181/365) by `days`, and 0 years + 181/365 days by `years`.
pub fn measure(basis: DurationBasis, period: Period) -> Result<Duration, DurationError> {
    let days = period.days();
    let duration = match basis {
        DurationBasis::Days => Duration {
            basis,
            whole: days,
            remaining_days: 0,
            unit_days: 0,
            year_fraction: Fraction::new(u64::from(days), 365)?,
        },
        DurationBasis::Weeks => Duration {
            basis,
            whole: days,
            remaining_days: 0,
            unit_days: 0,
            year_fraction: Fraction::new(u64::from(days), 52 * 7)?,
        },
        DurationBasis::Months | DurationBasis::Years => {
            let step = if basis == DurationBasis::Months {
                1
            } else {
                12
            };
            let (whole, remaining_days, unit_days) = whole_steps(period, step)?;
            // months: (whole + remaining/unit) / 12; years: whole + remaining/unit.
            let per_year = if basis == DurationBasis::Months {
                12
            } else {
                1
            };
            let numerator = u64::from(whole) * u64::from(unit_days) + u64::from(remaining_days);
            let denominator = per_year * u64::from(unit_days);
            Duration {
                basis,
                whole,
                remaining_days,
                unit_days,
                year_fraction: Fraction::new(numerator, denominator)?,
            }
        }
    };
    Ok(duration)
}

/// Whole steps of `step` months from the period's start (with end-of-month clamping
/// from the start's day), the days left after them, and the length in days of the
/// step those days fall in.
fn whole_steps(period: Period, step: i32) -> Result<(u32, u32, u32), DurationError> {
    let start = period.start();
    let end = period.end();
    // An estimate from the calendar months between the dates, then corrected: the
    // clamped day can make the last step land after the end.
    let months = (month_index(end) - month_index(start)).max(0);
    let mut whole = i32::try_from(months).map_err(|_| DurationError::Overflow)? / step;
    while whole > 0 && add_months_clamped(start, whole * step)? > end {
        whole -= 1;
    }
    while add_months_clamped(start, (whole + 1) * step)? <= end {
        whole += 1;
    }
    let boundary = add_months_clamped(start, whole * step)?;
    let next = add_months_clamped(start, (whole + 1) * step)?;
    let remaining_days = (end - boundary).num_days();
    let unit_days = (next - boundary).num_days();
    debug_assert!(remaining_days >= 0 && remaining_days < unit_days);
    Ok((whole as u32, remaining_days as u32, unit_days as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn period(start: NaiveDate, end: NaiveDate) -> Period {
        Period::new(start, end).unwrap()
    }

    fn fraction(numerator: u64, denominator: u64) -> Fraction {
        Fraction::new(numerator, denominator).unwrap()
    }

    #[test]
    fn half_a_year_measures_differently_under_each_basis() {
        let half = period(date(2021, 1, 1), date(2021, 7, 1));
        let months = measure(DurationBasis::Months, half).unwrap();
        assert_eq!((months.whole, months.remaining_days), (6, 0));
        assert_eq!(months.year_fraction, fraction(1, 2));
        assert_eq!(
            measure(DurationBasis::Days, half).unwrap().year_fraction,
            fraction(181, 365)
        );
        assert_eq!(
            measure(DurationBasis::Weeks, half).unwrap().year_fraction,
            fraction(181, 364)
        );
        let years = measure(DurationBasis::Years, half).unwrap();
        assert_eq!(
            (years.whole, years.remaining_days, years.unit_days),
            (0, 181, 365)
        );
    }

    #[test]
    fn remaining_days_count_over_the_month_they_fall_in() {
        let cases = [
            // [E2]: 26 days of the 31-day month from 2024-01-20.
            (date(2024, 1, 20), date(2024, 2, 15), 0, 26, 31),
            (date(2024, 1, 15), date(2024, 2, 15), 1, 0, 29),
            // 2024-02-10 + 1 month = 2024-03-10 is after the end; February 2024 has 29 days.
            (date(2024, 2, 10), date(2024, 3, 5), 0, 24, 29),
            (date(2023, 2, 10), date(2023, 3, 5), 0, 23, 28),
            // Month ends: 01-31 + 1 month is 02-29 (clamped), then 03-31.
            (date(2024, 1, 31), date(2024, 2, 29), 1, 0, 31),
            (date(2024, 1, 31), date(2024, 3, 1), 1, 1, 31),
            (date(2024, 1, 31), date(2024, 3, 31), 2, 0, 30),
            (date(2020, 1, 1), date(2020, 6, 17), 5, 16, 30),
            // 2024-02-29 + 13 months is 2025-03-29: the next month is 29 days long.
            (date(2024, 2, 29), date(2025, 2, 28), 12, 0, 29),
        ];
        for (start, end, whole, remaining, unit) in cases {
            let duration = measure(DurationBasis::Months, period(start, end)).unwrap();
            assert_eq!(
                (duration.whole, duration.remaining_days, duration.unit_days),
                (whole, remaining, unit),
                "[{start}, {end})"
            );
        }
    }

    #[test]
    fn years_count_whole_years_then_days_of_the_year_they_fall_in() {
        let cases = [
            (date(2023, 3, 1), date(2024, 3, 1), 1, 0, 365),
            (date(2023, 3, 1), date(2024, 2, 29), 0, 365, 366),
            (date(2024, 1, 1), date(2025, 1, 1), 1, 0, 365),
            (date(2024, 1, 1), date(2024, 7, 1), 0, 182, 366),
            (date(2024, 2, 29), date(2025, 2, 28), 1, 0, 365),
            (date(2024, 2, 29), date(2026, 3, 1), 2, 1, 365),
            (date(2021, 1, 1), date(2023, 1, 1), 2, 0, 365),
        ];
        for (start, end, whole, remaining, unit) in cases {
            let duration = measure(DurationBasis::Years, period(start, end)).unwrap();
            assert_eq!(
                (duration.whole, duration.remaining_days, duration.unit_days),
                (whole, remaining, unit),
                "[{start}, {end})"
            );
        }
    }

    #[test]
    fn a_whole_leap_year_is_one_year_by_months_and_years_but_366_days_by_days() {
        let leap = period(date(2024, 1, 1), date(2025, 1, 1));
        assert_eq!(
            measure(DurationBasis::Months, leap).unwrap().year_fraction,
            Fraction::ONE
        );
        assert_eq!(
            measure(DurationBasis::Years, leap).unwrap().year_fraction,
            Fraction::ONE
        );
        assert_eq!(
            measure(DurationBasis::Days, leap).unwrap().year_fraction,
            fraction(366, 365)
        );
    }

    #[test]
    fn fractions_stay_exact_and_apply_with_one_division() {
        assert_eq!(fraction(6, 12), fraction(1, 2));
        assert_eq!(
            fraction(26, 31).divided_by(fraction(1, 1)).unwrap(),
            fraction(26, 31)
        );
        assert_eq!(
            fraction(181, 365)
                .apply(Decimal::from(1000))
                .unwrap()
                .round_dp(2),
            Decimal::new(49589, 2)
        );
        assert!(Fraction::new(1, 0).is_err());
    }

    #[test]
    fn durations_explain_themselves() {
        let partial = period(date(2024, 1, 20), date(2024, 2, 15));
        let months = measure(DurationBasis::Months, partial).unwrap();
        assert_eq!(months.to_string(), "0 months + 26/31 days");
        let days = measure(DurationBasis::Days, partial).unwrap();
        assert_eq!(days.to_string(), "26 days / 365");
    }
}
