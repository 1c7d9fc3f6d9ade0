//! Earning: how much of a written premium charge is earned through the end of
//! a day (DOMAIN section 10), by the policy's duration basis.
//!
//! Earned through the end of day D = amount x duration(period start,
//! min(D + 1 day, period end)) / duration(period), rounded once to the
//! currency's minor unit by the policy's rounding mode; unearned = amount -
//! earned. Nothing is earned before the period starts, everything by its end.
//! A credit (a negative charge, such as a cancellation's refund) earns
//! negatively the same way. A charge without a period (a flat premium) is
//! earned whole from the day it is written.
//!
//! Worked example ([E10]): 1200.00 on `[2026-01-01, 2027-01-01)`.
//!
//! | through    | months basis     | days basis           |
//! |------------|------------------|----------------------|
//! | 2025-12-31 | 0.00             | 0.00                 |
//! | 2026-01-31 | 1 month: 100.00  | 31/365: 101.92       |
//! | 2026-02-28 | 2 months: 200.00 | 59/365: 193.97       |
//! | 2026-12-31 | 1200.00          | 1200.00              |
//!
//! A cancellation effective 2026-07-01 writes -600.00 (by months) on
//! `[2026-07-01, 2027-01-01)`: it earns nothing through 2026-06-30, so the
//! policy has earned 600.00 of its 600.00 written by then, and stays at
//! 600.00 (the two charges earn +100.00 and -100.00 a month from July on).

use crate::billing::duration::DurationBasis;
use crate::billing::proration::{PremiumRate, ProrationError, RatedPremium};
use crate::domain::money::{Money, RoundingMode};
use crate::domain::period::Period;
use chrono::NaiveDate;

/// What of `amount` (a charge over `period`) is earned through the end of
/// `through`, rounded once by `mode`.
///
/// `period` `None` (a flat charge): the whole amount, the caller deciding
/// that it was written by then.
pub fn earned_through(
    amount: Money,
    period: Option<Period>,
    basis: DurationBasis,
    mode: RoundingMode,
    through: NaiveDate,
) -> Result<Money, ProrationError> {
    let Some(period) = period else {
        return Ok(amount);
    };
    // The end of day `through` is the start of the next day.
    let end = through
        .succ_opt()
        .map_or(period.end(), |next| next.min(period.end()));
    if end <= period.start() {
        return Ok(Money::zero(amount.currency));
    }
    if end == period.end() {
        return Ok(amount);
    }
    let rated = RatedPremium {
        rate: PremiumRate::Exact(amount.amount),
        period,
        basis,
    };
    let part = Period::new(period.start(), end)?;
    rated.amount(part, amount.currency, mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn earned(
        amount: Decimal,
        start: &str,
        end: &str,
        basis: DurationBasis,
        through: &str,
    ) -> Decimal {
        let period = Period::new(date(start), date(end)).unwrap();
        earned_through(
            Money::new(amount, Currency::USD),
            Some(period),
            basis,
            RoundingMode::default(),
            date(through),
        )
        .unwrap()
        .amount
    }

    #[test]
    fn a_year_of_1200_earns_100_a_month_by_months_and_by_the_day_by_days() {
        use DurationBasis::{Days, Months};
        let year =
            |basis, through| earned(dec!(1200.00), "2026-01-01", "2027-01-01", basis, through);
        assert_eq!(year(Months, "2025-12-31"), dec!(0.00));
        assert_eq!(year(Months, "2026-01-31"), dec!(100.00));
        assert_eq!(year(Days, "2026-01-31"), dec!(101.92));
        assert_eq!(year(Months, "2026-02-28"), dec!(200.00));
        assert_eq!(year(Days, "2026-02-28"), dec!(193.97));
        assert_eq!(year(Days, "2026-12-31"), dec!(1200.00));
        assert_eq!(year(Months, "2030-01-01"), dec!(1200.00));
    }

    #[test]
    fn a_cancellation_refund_earns_negatively_from_its_start() {
        let refund = |through| {
            earned(
                dec!(-600.00),
                "2026-07-01",
                "2027-01-01",
                DurationBasis::Months,
                through,
            )
        };
        assert_eq!(refund("2026-06-30"), dec!(0.00));
        assert_eq!(refund("2026-07-31"), dec!(-100.00));
        assert_eq!(refund("2026-12-31"), dec!(-600.00));
    }

    #[test]
    fn a_flat_charge_is_earned_whole() {
        let flat = earned_through(
            Money::new(dec!(25.00), Currency::USD),
            None,
            DurationBasis::Months,
            RoundingMode::default(),
            date("2026-01-01"),
        )
        .unwrap();
        assert_eq!(flat.amount, dec!(25.00));
    }

    use proptest::prelude::*;

    fn basis() -> impl Strategy<Value = DurationBasis> {
        prop_oneof![
            Just(DurationBasis::Months),
            Just(DurationBasis::Days),
            Just(DurationBasis::Weeks),
            Just(DurationBasis::Years),
        ]
    }

    proptest! {
        /// For any charge (positive premium or negative credit, any period of
        /// up to two years, any basis and rounding) and any day: what is
        /// earned is whole cents, between nothing and the amount with the
        /// amount's sign (so earned + unearned = amount with unearned of the
        /// same sign too), never less than the day before, nothing before the
        /// period starts, and the whole amount from its last day on.
        #[test]
        fn earned_and_unearned_make_the_amount_and_earned_reaches_it_at_the_periods_end(
            cents in -500_000_000i64..500_000_000,
            start in 0i64..1_500,
            length in 1i64..730,
            basis in basis(),
            even in any::<bool>(),
            day in -60i64..900,
        ) {
            let origin = date("2024-01-01");
            let from = origin + chrono::Duration::days(start);
            let period = Period::new(from, from + chrono::Duration::days(length)).unwrap();
            let amount = Money::new(Decimal::new(cents, 2), Currency::USD);
            let mode = if even { RoundingMode::HalfEven } else { RoundingMode::HalfAwayFromZero };
            let through = from + chrono::Duration::days(day);
            let at = |d: NaiveDate| earned_through(amount, Some(period), basis, mode, d).unwrap().amount;
            let earned = at(through);
            let unearned = amount.amount - earned;
            prop_assert_eq!(earned + unearned, amount.amount);
            prop_assert!(earned.scale() <= 2, "whole cents: {}", earned);
            prop_assert!(earned.abs() <= amount.amount.abs(), "{} of {}", earned, amount.amount);
            prop_assert!(earned.is_zero() || earned.is_sign_negative() == amount.amount.is_sign_negative());
            prop_assert!(unearned.is_zero() || unearned.is_sign_negative() == amount.amount.is_sign_negative());
            let before = at(through - chrono::Duration::days(1));
            prop_assert!(earned.abs() >= before.abs(), "{} after {}", earned, before);
            let last_day = period.end().pred_opt().unwrap();
            prop_assert_eq!(at(last_day), amount.amount);
            prop_assert_eq!(at(last_day + chrono::Duration::days(day.abs())), amount.amount);
            prop_assert_eq!(at(from - chrono::Duration::days(1 + day.abs())), Decimal::ZERO);
        }
    }
}
