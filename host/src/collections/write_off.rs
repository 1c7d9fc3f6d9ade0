//! Write-offs: billed receivable given up, of a whole invoice or one item,
//! whole or in part, by hand or automatically for small past-due balances.
//! Reversible: the reversal is the exact contra entry and the invoice owes again.

use crate::domain::Money;
use crate::ledger::EntryId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A write-off.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOff {
    /// `<account>-W<n>`.
    pub locator: String,
    pub account: String,
    pub invoice: String,
    /// The item, for an item write-off.
    pub item: Option<String>,
    pub amount: Money,
    pub on: NaiveDate,
    /// Made by the billing run under the small-balance threshold.
    pub automatic: bool,
    pub reason: String,
    pub entry: EntryId,
}

/// A write-off and whether it was reversed.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WriteOffRecord {
    pub write_off: WriteOff,
    pub reversed_on: Option<NaiveDate>,
}
