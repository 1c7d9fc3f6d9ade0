//! Fees of the billing system: charges it books itself (a late fee when a
//! delinquency starts, a fee for a returned payment, a fee or adjustment from
//! the invoicing plugin). Each posts when booked and is billed on the next
//! invoice of its policy (or account), like a `next` flat charge.

use crate::domain::Money;
use crate::ledger::ChargeCategory;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The charge name of late fees.
pub const LATE_FEE_CHARGE: &str = "late-fee";
/// The charge name of fees for returned payments.
pub const REVERSAL_FEE_CHARGE: &str = "payment-reversal-fee";

/// Why a fee was booked.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FeeReason {
    /// A delinquency started.
    LateFee { delinquency: String },
    /// A payment was returned.
    PaymentReversal { payment: String },
    /// The invoicing plugin added it to an invoice.
    Invoicing { plugin: String, invoice: String },
}

/// A fee booked by the billing system.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    /// `<account>-X<n>`.
    pub locator: String,
    pub account: String,
    pub policy: Option<String>,
    /// The charge name.
    pub charge: String,
    pub category: ChargeCategory,
    /// Signed: a plugin may give a discount.
    pub amount: Money,
    pub booked_on: NaiveDate,
    pub description: String,
    pub reason: FeeReason,
}
