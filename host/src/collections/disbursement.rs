//! Disbursements: customer credit paid back. Drafted, then approved (or
//! rejected); an approved one is executed by the billing run on or after its
//! execution date, and only then does money move. An executed one can be
//! reversed (the refund never reached the customer): the credit comes back.
//!
//! Drafted and approved disbursements hold back their amount: that credit is
//! not applied to invoices automatically while they are pending.

use crate::domain::Money;
use crate::ledger::EntryId;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where a disbursement stands.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum DisbursementStatus {
    Draft,
    Approved {
        on: NaiveDate,
        execute_on: NaiveDate,
    },
    Executed {
        on: NaiveDate,
        entry: EntryId,
    },
    Rejected {
        on: NaiveDate,
        reason: String,
    },
    Reversed {
        on: NaiveDate,
        executed_on: NaiveDate,
        reason: String,
    },
}

impl DisbursementStatus {
    /// The state's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            DisbursementStatus::Draft => "draft",
            DisbursementStatus::Approved { .. } => "approved",
            DisbursementStatus::Executed { .. } => "executed",
            DisbursementStatus::Rejected { .. } => "rejected",
            DisbursementStatus::Reversed { .. } => "reversed",
        }
    }

    /// Whether it still holds back credit (drafted or approved).
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            DisbursementStatus::Draft | DisbursementStatus::Approved { .. }
        )
    }
}

/// A refund of customer credit.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disbursement {
    /// `<account>-D<n>`.
    pub locator: String,
    pub account: String,
    pub amount: Money,
    pub drafted_on: NaiveDate,
    /// Who is paid, or why.
    pub reason: String,
    pub status: DisbursementStatus,
}
