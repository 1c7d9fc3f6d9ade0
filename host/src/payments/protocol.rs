//! Premia's collection protocol with a payment processor adapter (JSON
//! over HTTP; `docs/payments.md`):
//!
//! - `POST {adapter}/attempts` with an [`AttemptRequest`] and the header
//!   `Idempotency-Key`; the adapter answers a [`ProcessorAnswer`]. The same
//!   key twice must give the same answer and collect once.
//! - `GET {adapter}/attempts/{id}`: the [`ProcessorAnswer`] of an attempt
//!   the adapter has seen, `404` if it never saw it. Premia asks before it
//!   sends an attempt again whose answer it lost.
//! - Outcomes that come later are posted to `POST /v1/processor-events`
//!   as a [`ProcessorEventBody`], signed like a webhook with the tenant's
//!   processor secret.

use super::attempt::{FailureClass, ReturnKind};
use crate::domain::Money;
use serde::{Deserialize, Serialize};

/// What Premia asks the adapter to collect.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRequest {
    /// The attempt's id (`ca_<n>`): the look-up key.
    pub attempt: String,
    /// Also sent as the `Idempotency-Key` header.
    pub idempotency_key: String,
    /// The amount and its currency.
    pub amount: Money,
    /// The processor's token of the payment method.
    pub method_token: String,
    pub account: String,
    pub invoice: String,
}

/// The adapter's answer about one attempt.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ProcessorAnswer {
    /// Collected.
    Succeeded {
        #[serde(default)]
        processor_reference: String,
    },
    /// Accepted; the outcome comes later as a processor event.
    Pending {
        #[serde(default)]
        processor_reference: String,
    },
    /// Not collected.
    Failed {
        /// The processor's decline or error code (`insufficient_funds`).
        code: String,
        /// Whether trying again may work.
        retryable: bool,
        /// The failure class; absent: a retryable failure is a soft
        /// decline, another a hard decline.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        class: Option<FailureClass>,
    },
}

impl ProcessorAnswer {
    /// The class of a failure (see [`ProcessorAnswer::Failed`]).
    pub fn failure_class(retryable: bool, class: Option<FailureClass>) -> FailureClass {
        match (class, retryable) {
            (Some(class), _) => class,
            (None, true) => FailureClass::SoftDecline,
            (None, false) => FailureClass::HardDecline,
        }
    }
}

/// What a processor event says happened to an attempt.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessorEventType {
    Succeeded,
    Failed,
    Returned,
    Chargeback,
}

impl ProcessorEventType {
    /// The return kind of a `returned` or `chargeback` event.
    pub fn return_kind(self) -> Option<ReturnKind> {
        match self {
            ProcessorEventType::Returned => Some(ReturnKind::Returned),
            ProcessorEventType::Chargeback => Some(ReturnKind::Chargeback),
            ProcessorEventType::Succeeded | ProcessorEventType::Failed => None,
        }
    }
}

/// A processor event posted to Premia (`POST /v1/processor-events`).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessorEventBody {
    /// The processor's event id: an event is applied once.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: ProcessorEventType,
    /// The attempt it is about (`ca_<n>`).
    pub attempt: String,
    /// The return, chargeback or decline code.
    #[serde(default)]
    pub code: String,
    /// For `failed`: whether trying again may work.
    #[serde(default)]
    pub retryable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<FailureClass>,
    #[serde(default)]
    pub processor_reference: String,
}
