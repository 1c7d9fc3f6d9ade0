//! Proration: the amount of a rated premium for a segment of time, and splitting a
//! segment so that its two parts always sum to the whole.
//!
//! Amounts stay unrounded `Decimal` until the end; each result carries the exact
//! arithmetic that produced it, for the audit trail ("the proration that produced
//! its amount").

use crate::billing::duration::{DurationBasis, DurationError, Fraction, measure};
use crate::domain::currency::Currency;
use crate::domain::money::{Money, MoneyError, RoundingMode};
use crate::domain::period::{Period, PeriodError};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An error prorating a premium.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProrationError {
    /// The segment is not inside the period the premium was rated for.
    #[error("segment {segment} is not inside the rated period {rated}")]
    SegmentOutsideRatedPeriod { segment: Period, rated: Period },
    /// Measuring a period failed.
    #[error(transparent)]
    Duration(#[from] DurationError),
    /// Splitting a period failed.
    #[error(transparent)]
    Period(#[from] PeriodError),
    /// Money arithmetic failed.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// What a rater returned for an item: a rate per year, or an exact amount for the
/// rated period. Exact wins when a rater gives both (the caller picks `Exact`).
///
/// Serialised externally tagged in kebab-case: `{"yearly": "1000.00"}`.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PremiumRate {
    /// An annual rate, converted to an amount by the duration basis.
    Yearly(Decimal),
    /// The amount for the whole rated period; part of it is prorated by the duration
    /// basis in proportion (measure of the part over measure of the rated period).
    Exact(Decimal),
}

/// A premium as rated: the rate, the period it was rated for, and the policy's
/// duration basis.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatedPremium {
    pub rate: PremiumRate,
    pub period: Period,
    pub basis: DurationBasis,
}

/// An unrounded prorated amount and the arithmetic that gave it:
/// `amount = base * fraction`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prorated {
    /// The exact amount, not yet rounded to minor units.
    pub amount: Decimal,
    /// The yearly rate or the exact amount the fraction applies to.
    pub base: Decimal,
    /// The exact fraction of `base`.
    pub fraction: Fraction,
    /// The arithmetic in words, for audit:
    /// `yearly 1000.00 x 181/365 (days basis: 181 days / 365) = 495.89...`.
    pub explanation: String,
}

impl Prorated {
    /// The amount rounded once to the currency's minor unit.
    pub fn rounded(&self, currency: Currency, mode: RoundingMode) -> Money {
        Money::new(self.amount, currency).rounded(mode)
    }
}

/// Whether a computation writes out its arithmetic in words for the audit
/// trail, or only computes the amounts (for a quote, which keeps nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Arithmetic {
    /// Amounts and their explanation (what is booked and previewed).
    #[default]
    Written,
    /// Amounts only; explanations are left empty.
    Skipped,
}

/// A segment split in two. `second` is `whole - first` after rounding, so the parts
/// always sum exactly to the whole.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitAmounts {
    pub whole: Money,
    pub first: Money,
    pub second: Money,
    /// How `whole` was computed.
    pub whole_proration: Prorated,
    /// How `first` was computed; `second` is the remainder.
    pub first_proration: Prorated,
}

impl RatedPremium {
    /// The unrounded amount of this premium for `segment`, which must lie inside the
    /// rated period.
    ///
    /// - `Yearly(y)`: `y * year_fraction(segment)` by the basis.
    /// - `Exact(x)`: `x * year_fraction(segment) / year_fraction(rated period)`; the
    ///   whole rated period gives exactly `x`.
    ///
    /// Example ([E2]): `Exact(100.00)` rated for `[2024-01-15, 2024-02-15)`, months
    /// basis, for `[2024-01-20, 2024-02-15)` is `100.00 * 26/31 = 83.870967...`,
    /// which rounds to 83.87.
    pub fn prorate(&self, segment: Period) -> Result<Prorated, ProrationError> {
        self.prorate_as(segment, Arithmetic::Written)
    }

    /// [`Self::prorate`] with `arithmetic` saying whether the explanation is
    /// written out: a quote, which keeps nothing and shows no audit trail,
    /// skips the words (the amount, base and fraction are the same).
    pub fn prorate_as(
        &self,
        segment: Period,
        arithmetic: Arithmetic,
    ) -> Result<Prorated, ProrationError> {
        if !self.period.contains_period(&segment) {
            return Err(ProrationError::SegmentOutsideRatedPeriod {
                segment,
                rated: self.period,
            });
        }
        let written = arithmetic == Arithmetic::Written;
        let part = measure(self.basis, segment)?;
        let (base, fraction, explanation) = match self.rate {
            PremiumRate::Yearly(yearly) => {
                let fraction = part.year_fraction;
                let words = if written {
                    format!(
                        "yearly {yearly} x {fraction} ({} basis: {part})",
                        self.basis
                    )
                } else {
                    String::new()
                };
                (yearly, fraction, words)
            }
            PremiumRate::Exact(exact) => {
                let whole = measure(self.basis, self.period)?;
                let fraction = if segment == self.period {
                    Fraction::ONE
                } else {
                    part.year_fraction.divided_by(whole.year_fraction)?
                };
                let words = if written {
                    format!(
                        "exact {exact} for {} x {fraction} ({} basis: {part} of {whole})",
                        self.period, self.basis,
                    )
                } else {
                    String::new()
                };
                (exact, fraction, words)
            }
        };
        let amount = fraction.apply(base)?;
        Ok(Prorated {
            amount,
            base,
            fraction,
            explanation: if written {
                format!("{explanation} = {amount}")
            } else {
                explanation
            },
        })
    }

    /// The amount for `segment`, rounded once to the currency's minor unit.
    pub fn amount(
        &self,
        segment: Period,
        currency: Currency,
        mode: RoundingMode,
    ) -> Result<Money, ProrationError> {
        Ok(self.prorate(segment)?.rounded(currency, mode))
    }

    /// Splits `segment` at `at` into `[start, at)` and `[at, end)`. The first part
    /// is prorated and rounded; the second part is the rounded whole minus the first,
    /// so the two always sum to the whole segment's amount, whatever the basis.
    ///
    /// Example ([E1]): 1000.00 yearly on `[2021-01-01, 2022-01-01)` split on
    /// 2021-07-01 is 500.00 + 500.00 by months and 495.89 + 504.11 by days.
    pub fn split(
        &self,
        segment: Period,
        at: NaiveDate,
        currency: Currency,
        mode: RoundingMode,
    ) -> Result<SplitAmounts, ProrationError> {
        let (first_segment, _) = segment.split_at(at)?;
        let whole_proration = self.prorate(segment)?;
        let first_proration = self.prorate(first_segment)?;
        let whole = whole_proration.rounded(currency, mode);
        let first = first_proration.rounded(currency, mode);
        let second = whole.checked_sub(first)?;
        assert_eq!(
            first.checked_add(second)?,
            whole,
            "split parts sum to the whole"
        );
        Ok(SplitAmounts {
            whole,
            first,
            second,
            whole_proration,
            first_proration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn period(start: NaiveDate, end: NaiveDate) -> Period {
        Period::new(start, end).unwrap()
    }

    fn yearly(amount: Decimal, rated: Period, basis: DurationBasis) -> RatedPremium {
        RatedPremium {
            rate: PremiumRate::Yearly(amount),
            period: rated,
            basis,
        }
    }

    const MODE: RoundingMode = RoundingMode::HalfAwayFromZero;

    #[test]
    fn e1_a_mid_year_split_is_500_by_months_and_495_89_by_days() {
        let year = period(date(2021, 1, 1), date(2022, 1, 1));
        let at = date(2021, 7, 1);

        let months = yearly(dec!(1000.00), year, DurationBasis::Months);
        let split = months.split(year, at, Currency::USD, MODE).unwrap();
        assert_eq!(split.first.amount, dec!(500.00));
        assert_eq!(split.second.amount, dec!(500.00));
        assert_eq!(split.whole.amount, dec!(1000.00));

        let days = yearly(dec!(1000.00), year, DurationBasis::Days);
        let split = days.split(year, at, Currency::USD, MODE).unwrap();
        assert_eq!(split.first.amount, dec!(495.89));
        assert_eq!(split.second.amount, dec!(504.11));
        assert_eq!(split.whole.amount, dec!(1000.00));
        assert_eq!(
            split.first_proration.fraction,
            Fraction::new(181, 365).unwrap()
        );
    }

    #[test]
    fn e2_26_of_31_days_of_a_monthly_period_is_83_87_of_100() {
        let rated = period(date(2024, 1, 15), date(2024, 2, 15));
        let premium = RatedPremium {
            rate: PremiumRate::Exact(dec!(100.00)),
            period: rated,
            basis: DurationBasis::Months,
        };
        let segment = period(date(2024, 1, 20), date(2024, 2, 15));
        let prorated = premium.prorate(segment).unwrap();
        assert_eq!(prorated.fraction, Fraction::new(26, 31).unwrap());
        assert_eq!(prorated.rounded(Currency::USD, MODE).amount, dec!(83.87));
        assert_eq!(
            prorated.explanation,
            "exact 100.00 for [2024-01-15, 2024-02-15) x 26/31 (months basis: \
             0 months + 26/31 days of 1 months) = 83.87096774193548387096774194"
        );
    }

    #[test]
    fn yearly_premiums_convert_by_each_basis() {
        let year = period(date(2023, 1, 1), date(2024, 1, 1));
        let quarter = period(date(2023, 1, 1), date(2023, 4, 1)); // 90 days
        let cases = [
            (DurationBasis::Months, dec!(300.00)),
            (DurationBasis::Days, dec!(295.89)), // 1200 * 90 / 365 = 295.890...
            (DurationBasis::Weeks, dec!(296.70)), // 1200 / 52 * 90 / 7 = 296.703...
            (DurationBasis::Years, dec!(295.89)), // 0 years + 90/365
        ];
        for (basis, expected) in cases {
            let premium = yearly(dec!(1200.00), year, basis);
            let amount = premium.amount(quarter, Currency::USD, MODE).unwrap();
            assert_eq!(amount.amount, expected, "{basis}");
        }
    }

    #[test]
    fn leap_year_terms_through_february_29() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let to_leap_day = period(date(2024, 1, 1), date(2024, 2, 29));
        let through_leap_day = period(date(2024, 1, 1), date(2024, 3, 1));
        let cases = [
            // 1 month + 28/29 days: 365 * (1 + 28/29) / 12 = 59.784...
            (DurationBasis::Months, to_leap_day, dec!(59.78)),
            (DurationBasis::Months, through_leap_day, dec!(60.83)),
            (DurationBasis::Days, through_leap_day, dec!(60.00)),
            (DurationBasis::Years, through_leap_day, dec!(59.84)),
            // A whole leap year is 366 days: one day more than a year by days.
            (DurationBasis::Days, term, dec!(366.00)),
            (DurationBasis::Months, term, dec!(365.00)),
            (DurationBasis::Years, term, dec!(365.00)),
        ];
        for (basis, segment, expected) in cases {
            let premium = yearly(dec!(365.00), term, basis);
            let amount = premium.amount(segment, Currency::USD, MODE).unwrap();
            assert_eq!(amount.amount, expected, "{basis} {segment}");
        }
    }

    #[test]
    fn a_month_end_term_prorates_by_clamped_months() {
        // 2023-01-31 .. 2023-02-28 is one whole month: 01-31 + 1 month is 02-28.
        let term = period(date(2023, 1, 31), date(2024, 1, 31));
        let premium = yearly(dec!(1200.00), term, DurationBasis::Months);
        let february = period(date(2023, 1, 31), date(2023, 2, 28));
        assert_eq!(
            premium
                .amount(february, Currency::USD, MODE)
                .unwrap()
                .amount,
            dec!(100.00)
        );
        let split = premium
            .split(term, date(2023, 3, 31), Currency::USD, MODE)
            .unwrap();
        assert_eq!(split.first.amount, dec!(200.00));
        assert_eq!(split.second.amount, dec!(1000.00));
    }

    #[test]
    fn a_segment_outside_the_rated_period_is_an_error() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let premium = yearly(dec!(100), term, DurationBasis::Months);
        let outside = period(date(2024, 12, 1), date(2025, 2, 1));
        assert!(matches!(
            premium.prorate(outside),
            Err(ProrationError::SegmentOutsideRatedPeriod { .. })
        ));
        assert!(matches!(
            premium.split(term, date(2025, 1, 1), Currency::USD, MODE),
            Err(ProrationError::Period(PeriodError::SplitOutside { .. }))
        ));
    }

    #[test]
    fn yearly_prorations_explain_their_arithmetic() {
        let year = period(date(2021, 1, 1), date(2022, 1, 1));
        let premium = yearly(dec!(1000.00), year, DurationBasis::Days);
        let half = period(date(2021, 1, 1), date(2021, 7, 1));
        assert_eq!(
            premium.prorate(half).unwrap().explanation,
            "yearly 1000.00 x 181/365 (days basis: 181 days / 365) = 495.89041095890410958904109589"
        );
    }

    #[test]
    fn e3_cancelling_at_mid_term_credits_the_unearned_half() {
        // The proration part of [E3]: the unearned second half of 1000.00 is 500.00;
        // a 10% holdback on that refund is 50.00 (retention is transactions' work).
        let term = period(date(2021, 1, 1), date(2022, 1, 1));
        let premium = yearly(dec!(1000.00), term, DurationBasis::Months);
        let split = premium
            .split(term, date(2021, 7, 1), Currency::USD, MODE)
            .unwrap();
        assert_eq!(split.second.amount, dec!(500.00));
        let holdback = split.second.checked_mul(dec!(0.10)).unwrap().rounded(MODE);
        assert_eq!(holdback.amount, dec!(50.00));
    }

    #[test]
    fn a_negative_premium_prorates_to_a_credit() {
        let year = period(date(2021, 1, 1), date(2022, 1, 1));
        let premium = yearly(dec!(-1000.00), year, DurationBasis::Days);
        let split = premium
            .split(year, date(2021, 7, 1), Currency::USD, MODE)
            .unwrap();
        assert_eq!(split.first.amount, dec!(-495.89));
        assert_eq!(split.second.amount, dec!(-504.11));
    }

    fn bases() -> impl Strategy<Value = DurationBasis> {
        prop_oneof![
            Just(DurationBasis::Months),
            Just(DurationBasis::Days),
            Just(DurationBasis::Weeks),
            Just(DurationBasis::Years),
        ]
    }

    fn term_and_date() -> impl Strategy<Value = (Period, NaiveDate)> {
        (0_i64..20_000, 2_i64..1_200).prop_flat_map(|(offset, length)| {
            let start = date(1990, 1, 1) + chrono::Duration::days(offset);
            let end = start + chrono::Duration::days(length);
            (Just(period(start, end)), 1..length)
                .prop_map(move |(term, cut)| (term, start + chrono::Duration::days(cut)))
        })
    }

    proptest! {
        #[test]
        fn the_two_parts_of_a_split_always_sum_to_the_whole(
            (term, at) in term_and_date(),
            basis in bases(),
            cents in -100_000_000_i64..100_000_000,
            exact in any::<bool>(),
        ) {
            let value = Decimal::new(cents, 2);
            let rate = if exact { PremiumRate::Exact(value) } else { PremiumRate::Yearly(value) };
            let premium = RatedPremium { rate, period: term, basis };
            let split = premium.split(term, at, Currency::USD, MODE).unwrap();
            prop_assert_eq!(split.first.checked_add(split.second).unwrap(), split.whole);
            prop_assert_eq!(split.whole, premium.amount(term, Currency::USD, MODE).unwrap());
        }

        #[test]
        fn prorating_a_whole_term_gives_the_term_amount(
            (term, _) in term_and_date(),
            basis in bases(),
            cents in -100_000_000_i64..100_000_000,
        ) {
            let value = Decimal::new(cents, 2);
            let premium = RatedPremium { rate: PremiumRate::Exact(value), period: term, basis };
            prop_assert_eq!(premium.prorate(term).unwrap().amount, value);
        }

        #[test]
        fn a_yearly_rate_over_whole_years_is_the_rate_times_the_years(
            offset in 0_i64..20_000,
            years in 1_i32..10,
            basis in prop_oneof![Just(DurationBasis::Months), Just(DurationBasis::Years)],
            cents in 0_i64..100_000_000,
        ) {
            let start = date(1990, 1, 1) + chrono::Duration::days(offset);
            let end = crate::domain::period::add_months_clamped(start, 12 * years).unwrap();
            let term = period(start, end);
            let value = Decimal::new(cents, 2);
            let premium = yearly(value, term, basis);
            prop_assert_eq!(premium.prorate(term).unwrap().amount, value * Decimal::from(years));
        }
    }
}
