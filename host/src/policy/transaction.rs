//! Policy transactions: what each one changes, when it takes effect, who sent
//! it, and whether it has been reversed.

use super::cancellation::CancellationReason;
use super::data::{DataChange, PolicyData};
use crate::domain::Period;
use crate::rating::Operation;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The kind of a policy transaction.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    NewBusiness,
    Endorsement,
    Renewal,
    Cancellation,
    Reinstatement,
    Reversal,
    /// Re-rates a term with another version of its plugin (DOMAIN section
    /// 9): the differences are booked as charges.
    RateCorrection,
}

impl TransactionKind {
    /// The rating operation a segment started by this transaction is priced
    /// under (a reversal starts no segment).
    pub fn operation(self) -> Operation {
        match self {
            TransactionKind::NewBusiness | TransactionKind::Reversal => Operation::NewBusiness,
            TransactionKind::Endorsement | TransactionKind::RateCorrection => {
                Operation::Endorsement
            }
            TransactionKind::Renewal => Operation::Renewal,
            TransactionKind::Cancellation => Operation::Cancellation,
            TransactionKind::Reinstatement => Operation::Reinstatement,
        }
    }
}

/// What a transaction changes.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TransactionChange {
    /// Opens the policy and its first term with its data.
    NewBusiness {
        term: Period,
        plan: String,
        data: PolicyData,
    },
    /// Changes the data from the effective date on.
    Endorsement { changes: Vec<DataChange> },
    /// Opens a new term, optionally with changes from its start.
    Renewal {
        term: Period,
        plan: String,
        changes: Vec<DataChange>,
    },
    /// Ends coverage from the effective date, for a reason (which chooses the
    /// product's refund method).
    Cancellation {
        #[serde(default)]
        reason: CancellationReason,
    },
    /// Restores coverage from the effective date (a gap when it is after the
    /// cancellation's date).
    Reinstatement,
    /// Removes another transaction from the timeline.
    Reversal { target: String },
    /// Re-rates the term with `version` of the product's plugin, for a
    /// reason kept in the audit. It starts no segment and changes no data.
    RateCorrection {
        version: String,
        /// The version the term was rated by before.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_version: Option<String>,
        reason: String,
    },
}

/// An issued policy transaction.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// `<policy>-T<sequence>`.
    pub locator: String,
    /// Issue order within the policy, from 1.
    pub sequence: u32,
    pub kind: TransactionKind,
    pub effective: NaiveDate,
    /// The term (1-based) it belongs to.
    pub term: u32,
    pub change: TransactionChange,
    pub issued_at: DateTime<Utc>,
    pub actor: String,
    pub idempotency_key: Option<String>,
    /// The reversal that removed it, if any.
    pub reversed_by: Option<String>,
}

impl Transaction {
    /// Whether it shapes the timeline: issued, not reversed, not a reversal
    /// nor a rate correction (which change prices, not coverage or data).
    pub fn is_in_effect(&self) -> bool {
        self.reversed_by.is_none()
            && !matches!(
                self.kind,
                TransactionKind::Reversal | TransactionKind::RateCorrection
            )
    }
}
