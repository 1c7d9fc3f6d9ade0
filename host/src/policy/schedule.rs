//! Installment slices: each scheduled charge of a transaction spread over its
//! term's installment frames by the billing core, with catch-up of frames
//! already invoiced when the charge arrives.

use super::charges::Charge;
use super::product::{Handling, Invoicing};
use crate::billing::{HeldSlice, InstallmentFrame, InstallmentPlan, TermCharge, reschedule};
use crate::domain::{Money, Period};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The part of a charge billed by one installment.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallmentSlice {
    /// The charge it bills: one allocation shared by every slice of the
    /// charge (an `ArcStr` is one pointer and writes a plain string).
    #[schema(value_type = String)]
    pub charge: arcstr::ArcStr,
    pub term: u32,
    /// The installment (frame) index within the term, from 0.
    pub installment: u32,
    /// The installment's coverage period.
    pub installment_period: Period,
    pub amount: Money,
    /// When it is to be invoiced.
    pub invoice_date: NaiveDate,
    pub due_date: NaiveDate,
    /// Whether its frame had already been invoiced when the charge arrived,
    /// so it is billed on the next invoice instead.
    pub caught_up: bool,
}

/// Whether a charge is spread over installments: billed to the customer and
/// invoiced `scheduled` (normal charges, and scheduled flat charges).
pub fn is_spread(charge: &Charge) -> bool {
    charge.category.is_billed() && charge.invoicing == Invoicing::Scheduled && charge.term.is_some()
}

/// The period a scheduled charge is spread over: its coverage, or for a flat
/// charge with `scheduled` invoicing (no period of its own) the rest of the
/// term from its transaction's effective date.
pub fn spread_period(charge: &Charge, effective: NaiveDate, term: Period) -> Period {
    match (charge.handling, charge.period) {
        (Handling::Normal, Some(period)) => period,
        _ => {
            let last_day = term.end().pred_opt().expect("a term has a last day");
            Period::new(effective.clamp(term.start(), last_day), term.end())
                .expect("a day of the term starts a period to its end")
        }
    }
}

/// Where a slice the policy already holds stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldState {
    /// Waiting to be invoiced.
    Pending,
    /// On an invoice.
    Invoiced,
    /// Netted: never invoiced, and with the others of its frame sums to zero.
    Netted,
}

/// What scheduling a transaction into one term needs to know.
#[derive(Debug, Clone, Copy)]
pub struct TermSlicing<'a> {
    pub number: u32,
    pub period: Period,
    pub plan: &'a InstallmentPlan,
    /// The day the transaction arrives ("today" for its policy).
    pub arrival: NaiveDate,
    /// Whether the transaction opens the term (new business, renewal): what
    /// is already due is billed on the arrival day ([E16]).
    pub opens_term: bool,
    /// The periods the term is in force after the transaction.
    pub covered: &'a [Period],
    /// The term's frames as laid out with their dates moved (the product's
    /// invoicing plugin); `None`: the plan's frames.
    pub frames: Option<&'a [InstallmentFrame]>,
}

/// Slices of a transaction's new scheduled charges in one term, by the rules
/// of [`crate::billing::reschedule`]: installments follow the coverage's cost,
/// open frames are levelled again over everything they hold, frames that now
/// bill nothing are netted, and the remainder is billed once.
///
/// `held` are the policy's existing slices with where each stands (netted
/// ones are left out: they sum to zero in frames that bill nothing); `old` and `new` the term's scheduled charges before and
/// from the transaction, each with the period it is spread over. Returns the
/// new slices and the positions, among the policy's slices once these are
/// appended from position `base`, of every slice netted (never invoiced).
pub fn slices_for_term(
    held: &[(&InstallmentSlice, HeldState)],
    old: &[(&Charge, Period)],
    new: &[(&Charge, Period)],
    term: &TermSlicing,
    base: usize,
) -> Result<(Vec<InstallmentSlice>, Vec<u32>), String> {
    if new.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let frames: Vec<InstallmentFrame> = match term.frames {
        Some(frames) => frames.to_vec(),
        None => term.plan.frames(term.period).map_err(|e| e.to_string())?,
    };
    let charges = old
        .iter()
        .map(|c| (c, false))
        .chain(new.iter().map(|c| (c, true)))
        .map(|((charge, period), new)| {
            Ok(TermCharge {
                units: units_of(charge.amount)?,
                period: *period,
                new,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut held_positions = Vec::new();
    let mut held_slices = Vec::new();
    for (position, (slice, state)) in held.iter().enumerate() {
        if slice.term != term.number || *state == HeldState::Netted {
            continue;
        }
        // Frames tile the term in order: the slice's own frame, when it is
        // one of this plan's. A slice of an earlier plan (before a plan
        // change) counts in the term's total but neither opens nor closes a
        // frame of this one.
        let day = slice.installment_period.start();
        let frame = frames.partition_point(|f| f.period.end() <= day);
        let frame = if frames
            .get(frame)
            .is_some_and(|f| f.period == slice.installment_period)
        {
            frame
        } else {
            frames.len()
        };
        held_positions.push(position);
        held_slices.push(HeldSlice {
            frame,
            units: units_of(slice.amount)?,
            pending: *state == HeldState::Pending,
            caught_up: slice.caught_up,
        });
    }
    let scheduled = reschedule(
        &frames,
        &charges,
        &held_slices,
        term.covered,
        term.arrival,
        term.opens_term,
        term.plan.residue,
    )
    .map_err(|e| e.to_string())?;
    let currency = new[0].0.amount.currency;
    let mut slices = Vec::with_capacity(scheduled.parts.len());
    let mut netted: Vec<u32> = scheduled
        .netted
        .iter()
        .map(|i| held_positions[*i] as u32)
        .collect();
    // One shared locator per new charge, cloned into each of its slices.
    let locators: Vec<arcstr::ArcStr> = new
        .iter()
        .map(|(charge, ..)| arcstr::ArcStr::from(charge.locator.as_str()))
        .collect();
    for part in &scheduled.parts {
        let charge = &locators[part.charge - old.len()];
        if part.netted {
            netted.push((base + slices.len()) as u32);
        }
        slices.push(InstallmentSlice {
            charge: charge.clone(),
            term: term.number,
            installment: frames[part.frame].index,
            installment_period: frames[part.frame].period,
            amount: Money::from_minor_units(part.units, currency).map_err(|e| e.to_string())?,
            invoice_date: part.invoice_date,
            due_date: part.due_date,
            caught_up: part.caught_up,
        });
    }
    Ok((slices, netted))
}

fn units_of(amount: Money) -> Result<i128, String> {
    amount.to_minor_units().map_err(|e| e.to_string())
}
