//! Installment slices: each scheduled charge of a transaction spread over its
//! term's installment frames by the billing core, with catch-up of frames
//! already invoiced when the charge arrives.

use super::charges::Charge;
use super::product::{Handling, Invoicing};
use crate::billing::{InstallmentFrame, InstallmentPlan, SpreadCharge, spread};
use crate::domain::{Money, Period};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The part of a charge billed by one installment.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallmentSlice {
    /// The charge it bills.
    pub charge: String,
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

/// Spreads the scheduled charges of one term over its frames. Flat charges
/// with `scheduled` invoicing have no period of their own: they are spread
/// over the rest of the term from `effective`.
///
/// Charges of one transaction are spread together, so installment totals stay
/// level ([E8]).
pub fn slices_for_term(
    charges: &[&Charge],
    term_number: u32,
    term: Period,
    plan: &InstallmentPlan,
    effective: NaiveDate,
    arrival_date: NaiveDate,
) -> Result<Vec<InstallmentSlice>, String> {
    if charges.is_empty() {
        return Ok(Vec::new());
    }
    let frames: Vec<InstallmentFrame> = plan.frames(term).map_err(|e| e.to_string())?;
    let rest_of_term = Period::new(
        effective.clamp(term.start(), term.end().pred_opt().expect("a date")),
        term.end(),
    )
    .map_err(|e| e.to_string())?;
    let inputs: Vec<SpreadCharge> = charges
        .iter()
        .map(|charge| SpreadCharge {
            amount: charge.amount,
            period: match (charge.handling, charge.period) {
                (Handling::Normal, Some(period)) => period,
                _ => rest_of_term,
            },
        })
        .collect();
    let spread = spread(&frames, &inputs, arrival_date, plan.residue).map_err(|e| e.to_string())?;
    Ok(spread
        .parts
        .iter()
        .map(|part| InstallmentSlice {
            charge: charges[part.charge_index].locator.clone(),
            term: term_number,
            installment: frames[part.frame_index].index,
            installment_period: frames[part.frame_index].period,
            amount: part.amount,
            invoice_date: part.invoice_date,
            due_date: part.due_date,
            caught_up: part.caught_up,
        })
        .collect())
}
