//! Scheduling a transaction's charges into a term that already holds
//! installments: installments follow what the coverage costs in each frame,
//! whatever transactions it took to get there.
//!
//! The rules (DOMAIN section 5):
//!
//! - **Coverage cost.** Each frame's exact cost is what every scheduled charge of
//!   the term puts there (its weight times overlap share, as in [`crate::billing::spread`]),
//!   summed exactly before any rounding; a frame with no day in force (after a
//!   cancellation) costs exactly nothing. A charge touching only frames of weight 0
//!   goes on the next frame of positive weight, or on the next invoice when none.
//! - **Levelling across transactions.** The frames not yet invoiced ("open") are
//!   levelled again over everything they hold: their totals are the level split of
//!   their exact costs (largest remainder, or the plan's first/last residue rule),
//!   so full frames of equal weight are at most one cent apart.
//! - **Netting before spreading.** An open frame whose cost is now zero (after a
//!   cancellation, a reversal) bills nothing: its pending installments and the new
//!   parts that withdraw them are *netted* and never invoiced.
//! - **The remainder** (the difference for frames already invoiced, and rounding,
//!   together with earlier caught-up parts still waiting for their invoice, which
//!   are withdrawn and netted) is billed once: on the policy's next invoice (the first open frame that still
//!   bills something), or on the arrival day when there is none or when the
//!   transaction opens the term (a back-dated bind: [E16]).
//!
//! Worked example ([E14]): 1000.00 a year, monthly from 2026-01-01, January to June
//! invoiced (83.33 each), July to December pending (83.33, 83.33, 83.34 x 4).
//! A cancellation effective 2026-07-01 books -500.00 over July-December. July to
//! December now cost 0: their 500.02 pending is netted by the credit's parts, and
//! the credit's other 0.02 (owed for January to June) is billed once, on the
//! arrival day.

use crate::billing::installments::InstallmentFrame;
use crate::billing::spread::{SpreadError, charge_shares, check_frames, frame_factors};
use crate::domain::allocation::{AllocationError, ResiduePlacement, allocate_units};
use crate::domain::period::{Period, add_days};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Decimal places kept of a frame's exact cost (in minor units): enough to tell
/// any two different costs apart, few enough to drop division noise.
const COST_SCALE: u32 = 9;

/// A scheduled charge of the term: its amount in minor units, the period it
/// pays for, and whether the transaction being decided books it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermCharge {
    pub units: i128,
    pub period: Period,
    pub new: bool,
}

/// An installment slice the term already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldSlice {
    /// The frame (index into the term's frames) it pays for.
    pub frame: usize,
    pub units: i128,
    /// Not yet invoiced.
    pub pending: bool,
    /// Billed on another frame's (or the arrival day's) invoice.
    pub caught_up: bool,
}

/// One part of a new charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPart {
    /// Index of the charge in the input.
    pub charge: usize,
    /// The frame it pays for (for a remainder: the frame whose invoice bills it).
    pub frame: usize,
    pub units: i128,
    pub invoice_date: NaiveDate,
    pub due_date: NaiveDate,
    pub caught_up: bool,
    /// Withdraws pending installments of a frame that now bills nothing: never
    /// invoiced.
    pub netted: bool,
}

/// The new charges' parts, and the held slices they net (never invoiced).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rescheduled {
    pub parts: Vec<NewPart>,
    pub netted: Vec<usize>,
}

/// Schedules the new charges among `charges` into `frames` (see the module
/// documentation); `covered` are the periods the term is in force after the
/// transaction. `held` are the term's existing slices; every charge's parts
/// sum exactly to it, and the held slices plus the new parts sum to all charges.
pub fn reschedule(
    frames: &[InstallmentFrame],
    charges: &[TermCharge],
    held: &[HeldSlice],
    covered: &[Period],
    arrival: NaiveDate,
    opens_term: bool,
    residue: ResiduePlacement,
) -> Result<Rescheduled, SpreadError> {
    check_frames(frames)?;
    let overflow = || SpreadError::Level(AllocationError::Overflow.into());
    let n = frames.len();
    let placement_slot = n;
    if charges.iter().all(|c| !c.new) {
        return Ok(Rescheduled::default());
    }
    let factors = frame_factors(frames)?;

    // Exact cost per frame, and each new charge's own split by its shares
    // (slot `n` holds what no frame can take).
    let mut cost = vec![Decimal::ZERO; n];
    let mut own: Vec<(usize, Vec<i128>)> = Vec::new();
    for (index, charge) in charges.iter().enumerate() {
        let mut shares = charge_shares(frames, &factors, charge.period)?;
        let mut row = vec![0_i128; 2 * n + 2];
        if shares.iter().all(|share| *share == 0) {
            let next = frames
                .iter()
                .position(|f| !f.weight.is_zero() && f.period.end() > charge.period.start());
            match next {
                Some(frame) => shares[frame] = 1,
                None => {
                    if charge.new {
                        row[placement_slot] = charge.units;
                        own.push((index, row));
                    }
                    continue;
                }
            }
        }
        let sum: i128 = shares.iter().sum();
        let amount = decimal(charge.units)?;
        let divisor = decimal(sum)?;
        for (frame, share) in shares.iter().enumerate().filter(|(_, s)| **s != 0) {
            let part = amount
                .checked_mul(decimal(*share)?)
                .and_then(|p| p.checked_div(divisor))
                .ok_or_else(overflow)?;
            cost[frame] = cost[frame].checked_add(part).ok_or_else(overflow)?;
        }
        if charge.new {
            let split = allocate_units(charge.units, &shares, residue)
                .map_err(|e| SpreadError::Level(e.into()))?;
            row[..n].copy_from_slice(&split);
            own.push((index, row));
        }
    }
    for c in &mut cost {
        *c = c.round_dp(COST_SCALE);
    }
    // A frame with no covered day costs nothing, exactly: whatever the
    // proration of the charges that took its coverage away left over is
    // rounding, billed once with the remainder, never drip-fed.
    for (frame, c) in frames.iter().zip(&mut cost) {
        if covered.iter().all(|p| p.overlap_days(&frame.period) == 0) {
            *c = Decimal::ZERO;
        }
    }

    // Which frames are still open: not invoiced, and either holding pending
    // installments of their own or not yet due to be invoiced.
    let mut invoiced = vec![false; n];
    let mut pending_own = vec![false; n];
    for slice in held.iter().filter(|s| !s.caught_up && s.frame < n) {
        if slice.pending {
            pending_own[slice.frame] = true;
        } else {
            invoiced[slice.frame] = true;
        }
    }
    let open: Vec<bool> = (0..n)
        .map(|f| !invoiced[f] && (pending_own[f] || frames[f].generate_date >= arrival))
        .collect();
    let open_frames: Vec<usize> = (0..n).filter(|f| open[*f]).collect();
    let mut adjustable = vec![0_i128; n];
    let mut fixed: i128 = 0;
    // Caught-up parts still waiting for their invoice (in any frame: an open
    // frame's level total is its own installments only) are withdrawn and billed again with this transaction's remainder: a
    // later credit for the same frames nets them instead of being billed on
    // its own.
    let replaced_slice = |slice: &HeldSlice| slice.pending && slice.caught_up;
    let mut replaced: i128 = 0;
    let mut replaced_in = vec![0_i128; n];
    let mut fixed_in = vec![0_i128; n];
    for slice in held {
        if slice.frame < n && open[slice.frame] && slice.pending && !slice.caught_up {
            adjustable[slice.frame] += slice.units;
        } else if replaced_slice(slice) {
            replaced += slice.units;
            if slice.frame < n {
                replaced_in[slice.frame] += slice.units;
            }
        } else {
            fixed += slice.units;
            if slice.frame < n {
                fixed_in[slice.frame] += slice.units;
            }
        }
    }
    let total: i128 = charges.iter().map(|c| c.units).sum();
    let open_costs: Vec<Decimal> = open_frames.iter().map(|f| cost[*f]).collect();
    let targets = level_targets(&open_costs, residue)?;
    let remainder = total - fixed - targets.iter().sum::<i128>();

    // Where the remainder is billed.
    let gap = (frames[0].due_date - frames[0].generate_date).num_days();
    let next_invoice = open_frames
        .iter()
        .zip(&targets)
        .find(|(f, t)| frames[**f].generate_date >= arrival && **t != 0)
        .map(|(f, _)| *f);
    let (catch_frame, catch_date, catch_due) = match next_invoice {
        Some(frame) if !opens_term => (frame, frames[frame].generate_date, frames[frame].due_date),
        _ => {
            // Billed on arrival, for the latest frame begun by then that has
            // coverage (a cancelled policy's last months, not the empty
            // month the cancellation's remainder happens to be billed in).
            let begun = |f: &usize| frames[*f].period.start() <= arrival;
            let has_cover = |f: &usize| {
                covered
                    .iter()
                    .any(|p| p.overlap_days(&frames[*f].period) > 0)
            };
            let frame = (0..n)
                .rev()
                .find(|f| begun(f) && has_cover(f))
                .or_else(|| (0..n).rev().find(begun))
                .unwrap_or(0);
            (frame, arrival, add_days(arrival, gap)?.max(arrival))
        }
    };

    // Slot targets: open frames take their level total less what they hold;
    // closed frames what the new charges' own splits put there with what was
    // caught up for them and is withdrawn (billed on the next invoice, caught
    // up; nothing when they cancel out); the placement slot the rest of the remainder
    // (rounding, and what closed frames lost or gained otherwise). The largest
    // new charge takes the differences, which sum to zero, so every charge
    // still sums exactly to itself.
    // Withdrawal slots: one a frame (`n + 1 + frame`) for the caught-up parts
    // withdrawn there, and one (`2n + 1`) for those of no frame of this plan.
    let withdrawal_slot = |frame: usize| n + 1 + frame;
    let mut slot_target = vec![0_i128; 2 * n + 2];
    for (frame, units) in replaced_in.iter().enumerate() {
        slot_target[withdrawal_slot(frame)] = -units;
    }
    slot_target[withdrawal_slot(n)] = -(replaced - replaced_in.iter().sum::<i128>());
    for (frame, target) in open_frames.iter().zip(&targets) {
        slot_target[*frame] = target - adjustable[*frame];
    }
    // Closed frames are brought to what their coverage costs: each is
    // billed, caught up, its cost (rounded cumulatively, so the closed
    // frames' rounding never adds up past a cent) less what it already
    // bills. What is left (rounding, what no frame can take, and what the
    // spread of a credit would leave on frames with no coverage) goes on the
    // placement slot, billed once.
    let mut closed_parts: i128 = 0;
    let mut running = Decimal::ZERO;
    let mut running_units: i128 = 0;
    for frame in (0..n).filter(|f| !open[*f]) {
        running = running.checked_add(cost[frame]).ok_or_else(overflow)?;
        let upto = running.round().to_i128().ok_or_else(overflow)?;
        let frame_cost = upto - running_units;
        running_units = upto;
        slot_target[frame] = frame_cost - fixed_in[frame];
        closed_parts += slot_target[frame];
    }
    slot_target[placement_slot] = remainder - closed_parts;
    let adjuster = own
        .iter()
        .enumerate()
        .max_by_key(|(i, (index, _))| (charges[*index].units.abs(), std::cmp::Reverse(*i)))
        .map(|(i, _)| i)
        .expect("a new charge");
    for slot in 0..2 * n + 2 {
        let placed: i128 = own.iter().map(|(_, row)| row[slot]).sum();
        own[adjuster].1[slot] += slot_target[slot] - placed;
    }
    for (index, row) in &own {
        assert_eq!(
            row.iter().sum::<i128>(),
            charges[*index].units,
            "a charge's parts sum to it"
        );
    }

    let netted_frame = |frame: usize| {
        open[frame]
            && open_frames
                .iter()
                .zip(&targets)
                .any(|(f, t)| *f == frame && *t == 0)
    };
    let mut result = Rescheduled::default();
    for (index, row) in own {
        for (slot, units) in row.into_iter().enumerate().filter(|(_, u)| *u != 0) {
            let part = if slot < n && open[slot] {
                NewPart {
                    charge: index,
                    frame: slot,
                    units,
                    invoice_date: frames[slot].generate_date,
                    due_date: frames[slot].due_date,
                    caught_up: false,
                    netted: netted_frame(slot),
                }
            } else {
                let frame = match slot {
                    slot if slot < n => slot,
                    slot if slot > n && slot - n - 1 < n => slot - n - 1,
                    _ => catch_frame,
                };
                NewPart {
                    charge: index,
                    frame,
                    units,
                    invoice_date: catch_date,
                    due_date: catch_due,
                    caught_up: true,
                    netted: slot > n,
                }
            };
            result.parts.push(part);
        }
    }
    result
        .parts
        .sort_by_key(|p| (p.charge, p.frame, p.caught_up));
    result.netted = held
        .iter()
        .enumerate()
        .filter(|(_, s)| (s.pending && s.frame < n && netted_frame(s.frame)) || replaced_slice(s))
        .map(|(i, _)| i)
        .collect();
    Ok(result)
}

/// The level totals of frames with exact `costs` (minor units): their sum rounded
/// once, split in proportion to the costs by `residue`. Zero costs get zero.
fn level_targets(costs: &[Decimal], residue: ResiduePlacement) -> Result<Vec<i128>, SpreadError> {
    let overflow = || SpreadError::Level(AllocationError::Overflow.into());
    let sum = costs
        .iter()
        .try_fold(Decimal::ZERO, |s, c| s.checked_add(*c))
        .ok_or_else(overflow)?;
    let total = sum
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_i128()
        .ok_or_else(overflow)?;
    if total == 0 || costs.is_empty() {
        return Ok(vec![0; costs.len()]);
    }
    let same_sign = costs
        .iter()
        .all(|c| c.is_zero() || c.is_sign_positive() == (total > 0));
    if same_sign {
        let weights: Vec<i128> = costs
            .iter()
            .map(|c| integer_weight(*c))
            .collect::<Result<_, _>>()?;
        if weights.iter().any(|w| *w > 0) {
            return allocate_units(total, &weights, residue)
                .map_err(|e| SpreadError::Level(e.into()));
        }
    }
    // Costs of both signs (rare: a credit larger than its frame): each frame
    // its own cost rounded once.
    costs
        .iter()
        .map(|c| {
            c.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                .to_i128()
                .ok_or_else(overflow)
        })
        .collect()
}

/// A cost as a non-negative integer weight (millionths of a minor unit).
fn integer_weight(cost: Decimal) -> Result<i128, SpreadError> {
    (cost.abs() * Decimal::from(1_000_000))
        .round()
        .to_i128()
        .ok_or(SpreadError::Level(AllocationError::Overflow.into()))
}

fn decimal(units: i128) -> Result<Decimal, SpreadError> {
    Decimal::try_from_i128_with_scale(units, 0)
        .map_err(|_| SpreadError::Level(AllocationError::Overflow.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::installments::{Cadence, InstallmentPlan};
    use rust_decimal_macros::dec;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn period(start: NaiveDate, end: NaiveDate) -> Period {
        Period::new(start, end).unwrap()
    }

    fn year_2026() -> Period {
        period(date(2026, 1, 1), date(2027, 1, 1))
    }

    /// 1000.00 a year, monthly: 83.33 for January to August, 83.34 after.
    fn monthly_slices(invoiced_through: usize) -> Vec<HeldSlice> {
        (0..12)
            .map(|frame| HeldSlice {
                frame,
                units: if frame < 8 { 8333 } else { 8334 },
                pending: frame >= invoiced_through,
                caught_up: false,
            })
            .collect()
    }

    fn frame_totals(held: &[HeldSlice], result: &Rescheduled, frames: usize) -> Vec<i128> {
        let mut totals = vec![0; frames];
        for slice in held {
            totals[slice.frame] += slice.units;
        }
        for part in result.parts.iter().filter(|p| !p.caught_up) {
            totals[part.frame] += part.units;
        }
        totals
    }

    #[test]
    fn e14_a_cancellation_nets_july_to_december_and_bills_the_two_cents_once() {
        let frames = InstallmentPlan::new(Cadence::Monthly)
            .frames(year_2026())
            .unwrap();
        let charges = [
            TermCharge {
                units: 100_000,
                period: year_2026(),
                new: false,
            },
            TermCharge {
                units: -50_000,
                period: period(date(2026, 7, 1), date(2027, 1, 1)),
                new: true,
            },
        ];
        let held = monthly_slices(6);
        let covered = [period(date(2026, 1, 1), date(2026, 7, 1))];
        let result = reschedule(
            &frames,
            &charges,
            &held,
            &covered,
            date(2026, 6, 15),
            false,
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        // July to December: the credit withdraws exactly what is pending
        // (500.02), and all of it is netted: no invoice for them.
        let withdrawn: Vec<(usize, i128, bool)> = result
            .parts
            .iter()
            .filter(|p| !p.caught_up)
            .map(|p| (p.frame, p.units, p.netted))
            .collect();
        assert_eq!(
            withdrawn,
            vec![
                (6, -8333, true),
                (7, -8333, true),
                (8, -8334, true),
                (9, -8334, true),
                (10, -8334, true),
                (11, -8334, true)
            ]
        );
        assert_eq!(result.netted, vec![6, 7, 8, 9, 10, 11]);
        // The 0.02 still owed for January to June, billed once, on arrival
        // (a cent each for two months whose 83.33 fell short of 83.333: the
        // closed months' costs are rounded cumulatively, 83.33, 83.34, 83.33,
        // 83.33, 83.34, 83.33, so February and May).
        let remainder: Vec<(usize, i128, NaiveDate, bool)> = result
            .parts
            .iter()
            .filter(|p| p.caught_up)
            .map(|p| (p.frame, p.units, p.invoice_date, p.netted))
            .collect();
        assert_eq!(
            remainder,
            vec![
                (1, 1, date(2026, 6, 15), false),
                (4, 1, date(2026, 6, 15), false)
            ]
        );
        let total: i128 = result.parts.iter().map(|p| p.units).sum();
        assert_eq!(total, -50_000, "the credit's parts sum to it");
    }

    #[test]
    fn e16_a_back_dated_bind_bills_may_to_august_on_the_binding_day() {
        let term = period(date(2026, 5, 1), date(2027, 5, 1));
        let frames = InstallmentPlan::new(Cadence::Monthly).frames(term).unwrap();
        let charges = [TermCharge {
            units: 120_000,
            period: term,
            new: true,
        }];
        let result = reschedule(
            &frames,
            &charges,
            &[],
            &[term],
            date(2026, 8, 12),
            true,
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        let parts: Vec<(u32, i128, NaiveDate, bool)> = result
            .parts
            .iter()
            .map(|p| (frames[p.frame].index, p.units, p.invoice_date, p.caught_up))
            .collect();
        let mut expected: Vec<(u32, i128, NaiveDate, bool)> = (0..4)
            .map(|i| (i, 10_000, date(2026, 8, 12), true))
            .collect();
        for (i, month) in (4..12).zip([9, 10, 11, 12, 1, 2, 3, 4]) {
            let year = if month >= 9 { 2026 } else { 2027 };
            expected.push((i, 10_000, date(year, month, 1), false));
        }
        assert_eq!(parts, expected);
    }

    #[test]
    fn installments_stay_level_across_transactions() {
        let frames = InstallmentPlan::new(Cadence::Monthly)
            .frames(year_2026())
            .unwrap();
        let charges = [
            TermCharge {
                units: 100_000,
                period: year_2026(),
                new: false,
            },
            TermCharge {
                units: 100,
                period: year_2026(),
                new: true,
            },
        ];
        let held = monthly_slices(0);
        let result = reschedule(
            &frames,
            &charges,
            &held,
            &[year_2026()],
            date(2025, 12, 1),
            false,
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        // 1001.00 in twelve: 83.41 four times, then 83.42 eight times.
        let mut expected = vec![8341; 4];
        expected.extend([8342; 8]);
        assert_eq!(frame_totals(&held, &result, 12), expected);
    }

    #[test]
    fn a_charge_touching_only_zero_weight_frames_goes_on_the_next_positive_one() {
        let plan = InstallmentPlan {
            weights: vec![dec!(1), dec!(0), dec!(0), dec!(1)],
            ..InstallmentPlan::new(Cadence::Quarterly)
        };
        let frames = plan.frames(year_2026()).unwrap();
        let charges = [TermCharge {
            units: -4_000,
            period: period(date(2026, 5, 1), date(2026, 7, 1)),
            new: true,
        }];
        let result = reschedule(
            &frames,
            &charges,
            &[],
            &[year_2026()],
            date(2026, 1, 1),
            false,
            ResiduePlacement::LargestRemainder,
        )
        .unwrap();
        let parts: Vec<(usize, i128, NaiveDate)> = result
            .parts
            .iter()
            .map(|p| (p.frame, p.units, p.invoice_date))
            .collect();
        assert_eq!(parts, vec![(3, -4_000, date(2026, 10, 1))]);
    }
}
