//! Spreading charges over installment frames: each charge goes to the frames its
//! period covers, in proportion to weight and overlap, cents conserved, installment
//! totals level; parts of frames already invoiced are caught up on the next invoice.

use crate::billing::installments::{InstallmentFrame, MAX_FRAMES};
use crate::billing::level::{LevelError, MAX_AMOUNTS, level_split};
use crate::domain::allocation::{AllocationError, MAX_WEIGHT_SCALE, ResiduePlacement};
use crate::domain::currency::Currency;
use crate::domain::money::{Money, MoneyError};
use crate::domain::period::{Period, PeriodError, add_days};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An error spreading charges.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpreadError {
    /// No frames, or more than [`MAX_FRAMES`].
    #[error("{0} frames is not in 1-{MAX_FRAMES}")]
    FrameCount(usize),
    /// More than [`MAX_AMOUNTS`] charges.
    #[error("{0} charges is more than the limit of {MAX_AMOUNTS}")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpreadCharge {
    pub amount: Money,
    pub period: Period,
}

/// The part of one charge billed with one installment frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
            .map(|part| part.amount.to_minor_units().expect("parts are in minor units"))
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
    if charges.len() > MAX_AMOUNTS {
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
            let amount = Money::from_minor_units(units, currency)
                .map_err(|source| SpreadError::Money {
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

fn check_frames(frames: &[InstallmentFrame]) -> Result<(), SpreadError> {
    if frames.is_empty() || frames.len() > MAX_FRAMES {
        return Err(SpreadError::FrameCount(frames.len()));
    }
    for (index, frame) in frames.iter().enumerate() {
        let contiguous = index == 0 || frames[index - 1].period.end() == frame.period.start();
        let well_formed = frame.full_period.contains_period(&frame.period)
            && !frame.weight.is_sign_negative()
            && frame.weight.normalize().scale() <= MAX_WEIGHT_SCALE
            && frame.generate_date <= frame.due_date;
        if !contiguous || !well_formed {
            return Err(SpreadError::InvalidFrames { index });
        }
    }
    Ok(())
}

/// Per frame, the integer factor `weight * lcm / full_period_days` (weights scaled to
/// integers), so that a charge's share of frame `j` is `factor[j] * overlap_days`.
fn frame_factors(frames: &[InstallmentFrame]) -> Result<Vec<i128>, SpreadError> {
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
            integer
                .checked_mul(common_days / days)
                .ok_or_else(overflow)
        })
        .collect()
}

/// A charge's integer share of each frame, in lowest terms.
fn charge_shares(
    frames: &[InstallmentFrame],
    factors: &[i128],
    period: Period,
) -> Result<Vec<i128>, SpreadError> {
    let mut shares = Vec::with_capacity(frames.len());
    let mut divisor = 0;
    for (frame, factor) in frames.iter().zip(factors) {
        let overlap = i128::from(frame.period.overlap_days(&period));
        let share = factor.checked_mul(overlap).ok_or(SpreadError::Level(
            LevelError::Allocation(AllocationError::Overflow),
        ))?;
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
