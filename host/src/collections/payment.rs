//! Payments: money received for an account, allocated to invoices (the ones the
//! payer names, or oldest due first), the rest to the account's credit; and
//! their reversal (a returned cheque), which undoes every allocation.

use super::invoice::InvoiceRecord;
use crate::domain::Money;
use crate::ledger::EntryId;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The most invoices one payment or credit distribution may name.
pub const TARGETS_MAX: usize = 100;

/// An amount settled on one invoice.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub invoice: String,
    pub amount: Decimal,
}

/// A payment received.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// `<account>-P<n>`.
    pub locator: String,
    pub account: String,
    pub amount: Money,
    pub received_on: NaiveDate,
    /// The payer's reference (cheque number, bank reference).
    pub reference: String,
    pub allocations: Vec<Allocation>,
    /// What went to the account's credit.
    pub to_credit: Decimal,
    /// Flagged for deductibles (seed 003): it settles deductible invoices
    /// only, and its credit pays deductible invoices only. Left out when
    /// not flagged, so payments stored before the flag read back identically.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub for_deductibles: bool,
    /// Made for a policy term or a transaction (seed 003): what it leaves
    /// over is credit reserved for it (see [`super::CreditScope`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_for: Option<super::CreditScope>,
    /// The journal entry that posted it.
    pub entry: EntryId,
}

/// A payment and whether it was reversed.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PaymentRecord {
    pub payment: Payment,
    pub reversed_on: Option<NaiveDate>,
}

/// Splits `amount` over invoices in order, each up to what it owes; returns
/// the allocations (non-zero only) and what is left.
///
/// Example: 250.00 over invoices owing 100.00 and 200.00 allocates 100.00 and
/// 150.00 and leaves nothing; 350.00 leaves 50.00 for the account's credit.
pub fn allocate<'a>(
    amount: Decimal,
    invoices: impl IntoIterator<Item = &'a InvoiceRecord>,
) -> (Vec<Allocation>, Decimal) {
    let mut left = amount;
    let mut allocations = Vec::new();
    for record in invoices {
        if left <= Decimal::ZERO {
            break;
        }
        let owed = record.outstanding();
        if owed <= Decimal::ZERO {
            continue;
        }
        let settled = owed.min(left);
        allocations.push(Allocation {
            invoice: record.invoice.locator.clone(),
            amount: settled,
        });
        left -= settled;
    }
    (allocations, left)
}
