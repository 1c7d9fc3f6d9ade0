//! A collection attempt: one request to the processor adapter to collect
//! one invoice with the account's autopay method, with its own id and
//! idempotency key (so nothing is ever collected twice), and where it
//! stands.

use crate::domain::Money;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Why a collection failed, which decides its retries
/// ([`super::retry::retry_on`]).
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The bank may accept it later (insufficient funds): retried after
    /// the configured days (3 and 7 by default).
    SoftDecline,
    /// Never retried (stolen card, closed account).
    HardDecline,
    /// The processor or the adapter failed: retried with back-off.
    ProcessorError,
}

/// How a collected payment came back.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnKind {
    /// Returned by the bank (e.g. an ACH return for insufficient funds).
    Returned,
    /// Disputed by the card holder.
    Chargeback,
}

/// Where an attempt stands.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum AttemptStatus {
    /// Recorded by the billing run; the worker sends it.
    Requested,
    /// The processor accepted it; its outcome comes later as a processor
    /// event.
    Pending,
    /// Collected: `payment` records it.
    Succeeded { payment: String, on: NaiveDate },
    /// Not collected; retried on `retry_on` (none: never).
    Failed {
        code: String,
        class: FailureClass,
        on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_on: Option<NaiveDate>,
    },
    /// Collected, then returned or charged back: `payment` was reversed.
    Returned {
        payment: String,
        kind: ReturnKind,
        code: String,
        on: NaiveDate,
    },
}

/// One collection attempt.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionAttempt {
    /// `ca_<n>`, per tenant.
    pub id: String,
    /// Sent to the adapter with every request of this attempt, never with
    /// another attempt's.
    pub idempotency_key: String,
    pub account: String,
    pub invoice: String,
    pub amount: Money,
    /// The payment method's id (its token is in the secret area).
    pub method: String,
    /// 1 for the first attempt at an invoice, 2 for its first retry, ...
    pub number: u32,
    /// The day the invoice's first attempt was requested (retries count
    /// from it).
    pub first_requested_on: NaiveDate,
    pub requested_on: NaiveDate,
    pub requested_at: DateTime<Utc>,
    pub status: AttemptStatus,
}

impl CollectionAttempt {
    /// Whether the worker still has to send it (or learn its answer).
    pub fn awaits_sending(&self) -> bool {
        matches!(self.status, AttemptStatus::Requested)
    }

    /// Whether its outcome is still to come.
    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            AttemptStatus::Requested | AttemptStatus::Pending
        )
    }
}
