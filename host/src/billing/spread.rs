//! Spreading charges over installment frames: each charge goes to the frames its
//! period covers, in proportion to weight and overlap, cents conserved, installment
//! totals level; parts of frames already invoiced are caught up on the next invoice.

use crate::billing::installments::{FRAMES_MAX, InstallmentFrame};
use crate::billing::level::{AMOUNTS_MAX, LevelError, level_split};
use crate::domain::allocation::{AllocationError, ResiduePlacement, WEIGHT_SCALE_MAX};
use crate::domain::currency::Currency;
use crate::domain::money::{Money, MoneyError};
use crate::domain::period::{Period, PeriodError, add_days};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An error spreading charges.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpreadError {
    /// No frames, or more than [`FRAMES_MAX`].
    #[error("{0} frames is not in 1-{FRAMES_MAX}")]
    FrameCount(usize),
    /// More than [`AMOUNTS_MAX`] charges.
    #[error("{0} charges is more than the limit of {AMOUNTS_MAX}")]
    TooManyCharges(usize),
    /// Frames that do not follow each other day after day, or a malformed frame.
    #[error("frame {index} is not contiguous with the one before it or is malformed")]
    InvalidFrames { index: usize },
    /// A charge whose period covers no frame with a positive weight.
    #[error("charge {index} covers no installment frame with a positive weight")]
    ChargeOutsideFrames { index: usize },
    /// A charge amount that is not a whole number of minor units.
    #[error("charge {index}: {source}")]
    Money { index: usize, source: MoneyError },
    /// Splitting failed (overflow of the exact arithmetic).
    #[error(transparent)]
    Level(#[from] LevelError),
    /// Date arithmetic failed.
    #[error(transparent)]
    Period(#[from] PeriodError),
}

/// A charge to spread: its amount (in whole minor units) and the period it pays for.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpreadCharge {
    pub amount: Money,
    pub period: Period,
}

/// The part of one charge billed with one installment frame.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpreadPart {
    /// Index of the charge in the input.
    pub charge_index: usize,
    /// Index of the frame the part pays for.
    pub frame_index: usize,
    pub amount: Money,
    /// The invoice date the part is billed on: the frame's generate date, or for a
    /// caught-up part the next invoice date.
    pub invoice_date: NaiveDate,
    /// The due date of that invoice.
    pub due_date: NaiveDate,
    /// Whether the frame's generate date had passed when the charge arrived.
    pub caught_up: bool,
}

/// The result of a spread: for each charge, its non-zero parts in frame order,
/// charges in input order.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spread {
    pub parts: Vec<SpreadPart>,
}

impl Spread {
    /// What frame `frame_index` bills in `currency`, all charges together.
    pub fn frame_total(&self, frame_index: usize, currency: Currency) -> Money {
        self.sum(currency, |part| part.frame_index == frame_index)
    }

    /// What charge `charge_index` comes to over all frames (its amount).
    pub fn charge_total(&self, charge_index: usize, currency: Currency) -> Money {
        self.sum(currency, |part| part.charge_index == charge_index)
    }

    /// The amount of one charge in one frame (zero when it has no part there).
    pub fn amount(&self, charge_index: usize, frame_index: usize, currency: Currency) -> Money {
        self.sum(currency, |part| {
            part.charge_index == charge_index && part.frame_index == frame_index
        })
    }

    fn sum(&self, currency: Currency, keep: impl Fn(&SpreadPart) -> bool) -> Money {
        let units: i128 = self
            .parts
            .iter()
            .filter(|part| part.amount.currency == currency && keep(part))
            .map(|part| {
                part.amount
                    .to_minor_units()
                    .expect("parts are in minor units")
            })
            .sum();
        Money::from_minor_units(units, currency).expect("a sum of parts fits")
    }
}

/// Spreads `charges` over `frames` (a term's frames, in order), as they arrive on
/// `arrival_date`.
///
/// - A charge goes only to the frames its period covers. Frame `j`'s share is its
///   weight times the charge's days in the frame over the days of the frame's full
///   cadence period: full frames of equal weight get equal parts whatever their
///   length, a stub only its fraction. Days of the charge outside every frame are
///   ignored; a charge covering no frame with a positive weight is an error.
/// - Charges in the same currency with the same shares (the usual case: the
///   premium, taxes and fees of one transaction) are split together with
///   [`level_split`], so each installment's total is the level split of their sum,
///   extra cents on the later installments, and each charge still sums exactly to
///   its amount ([E8]). Charges covering different frames are levelled in separate
///   groups: one common level is not possible for them.
/// - `residue` places the rounding residue (the plan's setting): largest remainder,
///   or the whole of it on the first or last installment.
/// - Catch-up: a frame whose generate date is before `arrival_date` has already been
///   invoiced, so the charge's part for it is billed on the next invoice: the
///   generate date (and due date) of the first frame still to be invoiced, or, when
///   every frame has been invoiced, at once on `arrival_date`, due after the same
///   number of days as the frame it pays for (never before `arrival_date`).
/// - Parts that round to zero are left out.
///
/// Example ([E5]): 1400.00 over quarterly frames weighted 3, 2, 1, 1 is 600.00,
/// 400.00, 200.00 and 200.00.
pub fn spread(
    frames: &[InstallmentFrame],
    charges: &[SpreadCharge],
    arrival_date: NaiveDate,
    residue: ResiduePlacement,
) -> Result<Spread, SpreadError> {
    check_frames(frames)?;
    if charges.len() > AMOUNTS_MAX {
        return Err(SpreadError::TooManyCharges(charges.len()));
    }
    let factors = frame_factors(frames)?;

    // Each charge's integer share of each frame, reduced to lowest terms so that
    // charges with the same proportions compare equal.
    let mut groups: Vec<Group> = Vec::new();
    for (index, charge) in charges.iter().enumerate() {
        let units = charge
            .amount
            .to_minor_units()
            .map_err(|source| SpreadError::Money { index, source })?;
        let shares = charge_shares(frames, &factors, charge.period)?;
        if shares.iter().all(|share| *share == 0) {
            return Err(SpreadError::ChargeOutsideFrames { index });
        }
        let currency = charge.amount.currency;
        match groups
            .iter_mut()
            .find(|group| group.currency == currency && group.shares == shares)
        {
            Some(group) => group.members.push((index, units)),
            None => groups.push(Group {
                currency,
                shares,
                members: vec![(index, units)],
            }),
        }
    }

    let billing = catch_up_dates(frames, arrival_date)?;
    let mut rows: Vec<Option<(Currency, Vec<i128>)>> = vec![None; charges.len()];
    for group in &groups {
        let amounts: Vec<i128> = group.members.iter().map(|(_, units)| *units).collect();
        let split = level_split(&amounts, &group.shares, residue)?;
        for ((index, _), row) in group.members.iter().zip(split) {
            rows[*index] = Some((group.currency, row));
        }
    }

    let mut parts = Vec::new();
    for (charge_index, row) in rows.into_iter().enumerate() {
        let (currency, row) = row.expect("every charge is in a group");
        for (frame_index, units) in row.into_iter().enumerate() {
            if units == 0 {
                continue;
            }
            let amount =
                Money::from_minor_units(units, currency).map_err(|source| SpreadError::Money {
                    index: charge_index,
                    source,
                })?;
            let (invoice_date, due_date, caught_up) = billing[frame_index];
            parts.push(SpreadPart {
                charge_index,
                frame_index,
                amount,
                invoice_date,
                due_date,
                caught_up,
            });
        }
    }
    Ok(Spread { parts })
}

/// Charges that are levelled together.
struct Group {
    currency: Currency,
    shares: Vec<i128>,
    members: Vec<(usize, i128)>,
}

pub(crate) fn check_frames(frames: &[InstallmentFrame]) -> Result<(), SpreadError> {
    if frames.is_empty() || frames.len() > FRAMES_MAX {
        return Err(SpreadError::FrameCount(frames.len()));
    }
    for (index, frame) in frames.iter().enumerate() {
        let contiguous = index == 0 || frames[index - 1].period.end() == frame.period.start();
        let well_formed = frame.full_period.contains_period(&frame.period)
            && !frame.weight.is_sign_negative()
            && frame.weight.normalize().scale() <= WEIGHT_SCALE_MAX
            && frame.generate_date <= frame.due_date;
        if !contiguous || !well_formed {
            return Err(SpreadError::InvalidFrames { index });
        }
    }
    Ok(())
}

/// Per frame, the integer factor `weight * lcm / full_period_days` (weights scaled to
/// integers), so that a charge's share of frame `j` is `factor[j] * overlap_days`.
pub(crate) fn frame_factors(frames: &[InstallmentFrame]) -> Result<Vec<i128>, SpreadError> {
    let overflow = || SpreadError::Level(LevelError::Allocation(AllocationError::Overflow));
    let scale = frames
        .iter()
        .map(|frame| frame.weight.normalize().scale())
        .max()
        .unwrap_or(0);
    let mut common_days: i128 = 1;
    for frame in frames.iter().filter(|frame| !frame.weight.is_zero()) {
        let days = i128::from(frame.full_period.days());
        common_days = (common_days / gcd(common_days, days))
            .checked_mul(days)
            .ok_or_else(overflow)?;
    }
    frames
        .iter()
        .map(|frame| {
            let weight = frame.weight.normalize();
            let integer = weight.mantissa() * 10_i128.pow(scale - weight.scale());
            let days = i128::from(frame.full_period.days());
            integer.checked_mul(common_days / days).ok_or_else(overflow)
        })
        .collect()
}

/// A charge's integer share of each frame, in lowest terms.
pub(crate) fn charge_shares(
    frames: &[InstallmentFrame],
    factors: &[i128],
    period: Period,
) -> Result<Vec<i128>, SpreadError> {
    let mut shares = Vec::with_capacity(frames.len());
    let mut divisor = 0;
    for (frame, factor) in frames.iter().zip(factors) {
        let overlap = i128::from(frame.period.overlap_days(&period));
        let share =
            factor
                .checked_mul(overlap)
                .ok_or(SpreadError::Level(LevelError::Allocation(
                    AllocationError::Overflow,
                )))?;
        divisor = gcd(divisor, share);
        shares.push(share);
    }
    if divisor > 1 {
        for share in &mut shares {
            *share /= divisor;
        }
    }
    Ok(shares)
}

/// Per frame: the invoice date and due date its parts are billed on, and whether
/// that is a catch-up.
fn catch_up_dates(
    frames: &[InstallmentFrame],
    arrival_date: NaiveDate,
) -> Result<Vec<(NaiveDate, NaiveDate, bool)>, SpreadError> {
    let next = frames
        .iter()
        .find(|frame| frame.generate_date >= arrival_date);
    frames
        .iter()
        .map(|frame| {
            if frame.generate_date >= arrival_date {
                return Ok((frame.generate_date, frame.due_date, false));
            }
            match next {
                Some(next) => Ok((next.generate_date, next.due_date, true)),
                None => {
                    let due_days = (frame.due_date - frame.generate_date).num_days();
                    Ok((arrival_date, add_days(arrival_date, due_days)?, true))
                }
            }
        })
        .collect()
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::installments::{Anchor, Cadence, InstallmentPlan};
    use crate::domain::allocation::allocate;
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn period(start: NaiveDate, end: NaiveDate) -> Period {
        Period::new(start, end).unwrap()
    }

    fn usd(amount: Decimal) -> Money {
        Money::new(amount, Currency::USD)
    }

    fn charge(amount: Decimal, period: Period) -> SpreadCharge {
        SpreadCharge {
            amount: usd(amount),
            period,
        }
    }

    fn frame_totals(spread: &Spread, frames: usize) -> Vec<Decimal> {
        (0..frames)
            .map(|frame| spread.frame_total(frame, Currency::USD).amount)
            .collect()
    }

    const LEVEL: ResiduePlacement = ResiduePlacement::LargestRemainder;

    #[test]
    fn e5_quarterly_weights_3_2_split_1400_as_600_400_200_200() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let plan = InstallmentPlan {
            weights: vec![dec!(3), dec!(2)],
            ..InstallmentPlan::new(Cadence::Quarterly)
        };
        let frames = plan.frames(term).unwrap();
        let spread = spread(&frames, &[charge(dec!(1400.00), term)], term.start(), LEVEL).unwrap();
        assert_eq!(
            frame_totals(&spread, 4),
            [dec!(600.00), dec!(400.00), dec!(200.00), dec!(200.00)]
        );
    }

    #[test]
    fn e8_charges_over_a_monthly_year_give_31_94_then_eleven_31_95() {
        let term = period(date(2022, 5, 15), date(2023, 5, 15));
        let frames = InstallmentPlan::new(Cadence::Monthly).frames(term).unwrap();
        let amounts = [
            dec!(139.86),
            dec!(12.94),
            dec!(192.78),
            dec!(17.83),
            dec!(10.00),
            dec!(9.98),
        ];
        let charges: Vec<SpreadCharge> = amounts.iter().map(|a| charge(*a, term)).collect();
        let spread = spread(&frames, &charges, term.start(), LEVEL).unwrap();
        let mut expected = vec![dec!(31.94)];
        expected.extend([dec!(31.95); 11]);
        assert_eq!(frame_totals(&spread, 12), expected);
        for (index, amount) in amounts.iter().enumerate() {
            assert_eq!(spread.charge_total(index, Currency::USD).amount, *amount);
        }
        // The first charge is 11.655 a month: 11.65 or 11.66, never further.
        for frame in 0..12 {
            let part = spread.amount(0, frame, Currency::USD).amount;
            assert!(part == dec!(11.65) || part == dec!(11.66), "{part}");
        }
    }

    #[test]
    fn full_months_are_equal_whatever_their_length_and_a_stub_gets_its_fraction() {
        let term = period(date(2020, 1, 1), date(2020, 6, 17));
        let frames = InstallmentPlan::new(Cadence::Monthly).frames(term).unwrap();
        // Five full months and 16/30 of one: 5 + 16/30 = 166/30.
        let spread = spread(&frames, &[charge(dec!(166.00), term)], term.start(), LEVEL).unwrap();
        assert_eq!(
            frame_totals(&spread, 6),
            [
                dec!(30.00),
                dec!(30.00),
                dec!(30.00),
                dec!(30.00),
                dec!(30.00),
                dec!(16.00)
            ]
        );
    }

    #[test]
    fn a_mid_term_charge_goes_only_to_the_frames_it_covers() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let frames = InstallmentPlan::new(Cadence::Monthly).frames(term).unwrap();
        // From July 16: 16 of July's 31 days, then five full months: 5 + 16/31 = 171/31.
        let endorsement = charge(dec!(171.00), period(date(2024, 7, 16), date(2025, 1, 1)));
        let spread = spread(&frames, &[endorsement], date(2024, 6, 1), LEVEL).unwrap();
        let mut expected = vec![Decimal::ZERO; 6];
        expected.push(dec!(16.00));
        expected.extend([dec!(31.00); 5]);
        assert_eq!(frame_totals(&spread, 12), expected);
        assert_eq!(spread.parts.len(), 6);
    }

    #[test]
    fn parts_of_frames_already_invoiced_are_caught_up_on_the_next_invoice() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let plan = InstallmentPlan {
            generate_lead_days: 15,
            ..InstallmentPlan::new(Cadence::Monthly)
        };
        let frames = plan.frames(term).unwrap();
        let arrival = date(2024, 3, 20);
        let spread = spread(&frames, &[charge(dec!(1200.00), term)], arrival, LEVEL).unwrap();
        // January to April were generated on or before 03-17; May's invoice is 04-16.
        for part in &spread.parts[..4] {
            assert!(part.caught_up);
            assert_eq!(part.invoice_date, date(2024, 4, 16));
            assert_eq!(part.due_date, date(2024, 5, 1));
            assert_eq!(part.amount.amount, dec!(100.00));
        }
        let may = &spread.parts[4];
        assert!(!may.caught_up);
        assert_eq!(
            (may.invoice_date, may.due_date),
            (date(2024, 4, 16), date(2024, 5, 1))
        );
        let june = &spread.parts[5];
        assert_eq!(
            (june.invoice_date, june.due_date),
            (date(2024, 5, 17), date(2024, 6, 1))
        );
    }

    #[test]
    fn a_frame_generated_on_the_arrival_day_is_not_caught_up() {
        let term = period(date(2024, 1, 1), date(2024, 3, 1));
        let frames = InstallmentPlan::new(Cadence::Monthly).frames(term).unwrap();
        let spread = spread(
            &frames,
            &[charge(dec!(10.00), term)],
            date(2024, 1, 1),
            LEVEL,
        )
        .unwrap();
        assert!(spread.parts.iter().all(|part| !part.caught_up));
        assert_eq!(spread.parts[0].invoice_date, date(2024, 1, 1));
    }

    #[test]
    fn when_every_frame_is_invoiced_the_charge_is_billed_at_once() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let plan = InstallmentPlan {
            generate_lead_days: 20,
            due_lead_days: 5,
            ..InstallmentPlan::new(Cadence::Quarterly)
        };
        let frames = plan.frames(term).unwrap();
        let arrival = date(2024, 12, 20);
        let spread = spread(&frames, &[charge(dec!(40.00), term)], arrival, LEVEL).unwrap();
        for part in &spread.parts {
            assert!(part.caught_up);
            assert_eq!(part.invoice_date, arrival);
            assert_eq!(part.due_date, date(2025, 1, 4));
        }
    }

    #[test]
    fn a_credit_is_spread_as_the_mirror_of_its_charge() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let frames = InstallmentPlan::new(Cadence::Monthly).frames(term).unwrap();
        let charges = [charge(dec!(100.00), term), charge(dec!(7.77), term)];
        let credits = [charge(dec!(-100.00), term), charge(dec!(-7.77), term)];
        let forward = spread(&frames, &charges, term.start(), LEVEL).unwrap();
        let backward = spread(&frames, &credits, term.start(), LEVEL).unwrap();
        for (a, b) in forward.parts.iter().zip(&backward.parts) {
            assert_eq!(a.amount.negated(), b.amount);
            assert_eq!(
                (a.charge_index, a.frame_index),
                (b.charge_index, b.frame_index)
            );
        }
    }

    #[test]
    fn the_plan_can_put_the_residue_on_the_first_installment() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let frames = InstallmentPlan::new(Cadence::Monthly).frames(term).unwrap();
        let spread = spread(
            &frames,
            &[charge(dec!(100.00), term)],
            term.start(),
            ResiduePlacement::First,
        )
        .unwrap();
        let mut expected = vec![dec!(8.37)];
        expected.extend([dec!(8.33); 11]);
        assert_eq!(frame_totals(&spread, 12), expected);
    }

    #[test]
    fn currencies_are_spread_separately() {
        let term = period(date(2024, 1, 1), date(2024, 4, 1));
        let frames = InstallmentPlan::new(Cadence::Monthly).frames(term).unwrap();
        let yen = SpreadCharge {
            amount: Money::new(dec!(1000), Currency::JPY),
            period: term,
        };
        let spread = spread(
            &frames,
            &[charge(dec!(1.00), term), yen],
            term.start(),
            LEVEL,
        )
        .unwrap();
        assert_eq!(spread.charge_total(1, Currency::JPY).amount, dec!(1000));
        assert_eq!(spread.amount(1, 2, Currency::JPY).amount, dec!(334));
        assert_eq!(spread.frame_total(2, Currency::USD).amount, dec!(0.34));
    }

    #[test]
    fn bad_inputs_are_errors() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let frames = InstallmentPlan::new(Cadence::Monthly).frames(term).unwrap();
        let outside = charge(dec!(1.00), period(date(2025, 2, 1), date(2025, 3, 1)));
        assert_eq!(
            spread(&frames, &[outside], term.start(), LEVEL),
            Err(SpreadError::ChargeOutsideFrames { index: 0 })
        );
        let fractional = charge(dec!(1.001), term);
        assert!(matches!(
            spread(&frames, &[fractional], term.start(), LEVEL),
            Err(SpreadError::Money { index: 0, .. })
        ));
        assert_eq!(
            spread(&[], &[], term.start(), LEVEL),
            Err(SpreadError::FrameCount(0))
        );
        let mut gap = frames.clone();
        gap.remove(3);
        assert_eq!(
            spread(&gap, &[], term.start(), LEVEL),
            Err(SpreadError::InvalidFrames { index: 3 })
        );
        assert_eq!(
            spread(&frames, &[], term.start(), LEVEL),
            Ok(Spread { parts: vec![] })
        );
    }

    fn plans() -> impl Strategy<Value = InstallmentPlan> {
        let cadence = prop_oneof![
            Just(Cadence::FullPay),
            Just(Cadence::Weekly),
            Just(Cadence::EveryTwoWeeks),
            Just(Cadence::Monthly),
            Just(Cadence::Quarterly),
            Just(Cadence::SemiAnnual),
        ];
        let weights = prop::collection::vec((0_i64..5, 0_u32..2), 0..6).prop_map(|weights| {
            weights
                .into_iter()
                .map(|(w, s)| Decimal::new(w, s))
                .collect()
        });
        (cadence, 1_u8..=31, any::<bool>(), weights).prop_map(
            |(cadence, day, anchored, weights)| {
                let anchor = match cadence {
                    Cadence::Monthly | Cadence::Quarterly | Cadence::SemiAnnual if anchored => {
                        Anchor::DayOfMonth(day)
                    }
                    _ => Anchor::TermStart,
                };
                let mut weights: Vec<Decimal> = weights;
                if let Some(first) = weights.first_mut() {
                    *first += Decimal::ONE; // keep at least one positive weight
                }
                InstallmentPlan {
                    anchor,
                    weights,
                    ..InstallmentPlan::new(cadence)
                }
            },
        )
    }

    proptest! {
        #[test]
        fn every_charge_sums_exactly_and_shared_charges_are_level(
            plan in plans(),
            offset in 0_i64..15_000,
            length in 20_i64..800,
            cents in prop::collection::vec(-10_000_000_i64..10_000_000, 1..8),
            cut in 0_i64..19,
        ) {
            let start = date(1990, 1, 1) + chrono::Duration::days(offset);
            let term = period(start, start + chrono::Duration::days(length));
            let frames = plan.frames(term).unwrap();
            let late = period(start + chrono::Duration::days(cut), term.end());
            let mut charges: Vec<SpreadCharge> =
                cents.iter().map(|c| charge(Decimal::new(*c, 2), term)).collect();
            charges.push(charge(dec!(12.34), late));
            let result = spread(&frames, &charges, start, LEVEL);
            let Ok(result) = result else {
                // Only a late charge over zero-weight frames may be refused.
                let refused = matches!(result, Err(SpreadError::ChargeOutsideFrames { .. }));
                prop_assert!(refused);
                return Ok(());
            };
            for (index, charge) in charges.iter().enumerate() {
                prop_assert_eq!(result.charge_total(index, Currency::USD), charge.amount);
            }
            // The whole-term charges are one group: their frame totals are the level
            // split of their sum by the frames' shares.
            let whole: Vec<SpreadCharge> = charges[..charges.len() - 1].to_vec();
            let levelled = spread(&frames, &whole, start, LEVEL).unwrap();
            let total = whole
                .iter()
                .try_fold(Money::zero(Currency::USD), |sum, c| sum.checked_add(c.amount))
                .unwrap();
            let single = spread(&frames, &[charge(total.amount, term)], start, LEVEL).unwrap();
            for frame in 0..frames.len() {
                prop_assert_eq!(
                    levelled.frame_total(frame, Currency::USD),
                    single.frame_total(frame, Currency::USD)
                );
            }
        }
    }

    #[test]
    fn a_single_charge_spreads_like_allocate_over_equal_frames() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let frames = InstallmentPlan::new(Cadence::Monthly).frames(term).unwrap();
        let spread = spread(&frames, &[charge(dec!(100.00), term)], term.start(), LEVEL).unwrap();
        let expected = allocate(usd(dec!(100.00)), &[Decimal::ONE; 12], LEVEL).unwrap();
        let amounts: Vec<Money> = spread.parts.iter().map(|part| part.amount).collect();
        assert_eq!(amounts, expected);
    }
}
