//! Payment commands and the events they append. Every event names who
//! did it and when; events carry a token's or a secret's reference, never
//! the token or the secret.

use super::attempt::{FailureClass, ReturnKind};
use super::protocol::{ProcessorAnswer, ProcessorEventBody};
use super::state::MethodType;
use crate::domain::Money;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A command to a tenant's payment methods, autopay, processor or
/// collection attempts.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum PaymentCommand {
    /// Attaches method `pm_<n+1>` to an account; its token is already
    /// sealed in the secret area under `token_ref`.
    AttachMethod {
        account: String,
        method_type: MethodType,
        token_ref: String,
        #[serde(default)]
        brand: String,
        #[serde(default)]
        last_four: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exp_month: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exp_year: Option<u32>,
        /// Makes it the account's default (the first method always is).
        #[serde(default)]
        make_default: bool,
    },
    /// Detaches a method (refused while autopay uses it).
    DetachMethod { account: String, method: String },
    /// Turns autopay on (with `method`, or the account's default) or off.
    SetAutopay {
        account: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        method: Option<String>,
        enabled: bool,
    },
    /// Sets the tenant's processor adapter; its secret is sealed under
    /// `secret_ref`.
    ConfigureProcessor {
        url: String,
        secret_ref: String,
        /// Collect this many days before an invoice's due date.
        #[serde(default)]
        lead_days: u32,
        /// Days after the first attempt on which soft declines are retried.
        #[serde(default = "default_retry_days")]
        soft_decline_retry_days: Vec<u32>,
    },
    /// The adapter's answer to an attempt (sent by the collection worker).
    RecordAnswer {
        attempt: String,
        answer: ProcessorAnswer,
    },
    /// A signed processor event (verified by the API).
    RecordProcessorEvent { event: ProcessorEventBody },
}

fn default_retry_days() -> Vec<u32> {
    super::retry::SOFT_DECLINE_RETRY_DAYS.to_vec()
}

/// An event of a tenant's payments.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum PaymentEvent {
    MethodAttached {
        account: String,
        method: String,
        method_type: MethodType,
        token_ref: String,
        brand: String,
        last_four: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exp_month: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exp_year: Option<u32>,
        default: bool,
        actor: String,
        at: DateTime<Utc>,
    },
    MethodDetached {
        account: String,
        method: String,
        actor: String,
        at: DateTime<Utc>,
    },
    AutopaySet {
        account: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        method: Option<String>,
        enabled: bool,
        actor: String,
        at: DateTime<Utc>,
    },
    ProcessorConfigured {
        url: String,
        secret_ref: String,
        lead_days: u32,
        soft_decline_retry_days: Vec<u32>,
        actor: String,
        at: DateTime<Utc>,
    },
    /// Recorded by a billing run, durably, before anything is sent.
    CollectionAttemptRequested {
        attempt: String,
        idempotency_key: String,
        account: String,
        invoice: String,
        amount: Money,
        method: String,
        number: u32,
        first_requested_on: NaiveDate,
        requested_on: NaiveDate,
        actor: String,
        at: DateTime<Utc>,
    },
    CollectionAttemptPending {
        attempt: String,
        account: String,
        on: NaiveDate,
        actor: String,
        at: DateTime<Utc>,
    },
    /// Collected; `payment` is recorded and allocated to the invoice by
    /// the events that follow.
    CollectionAttemptSucceeded {
        attempt: String,
        account: String,
        payment: String,
        on: NaiveDate,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        processor_reference: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        processor_event: Option<String>,
        actor: String,
        at: DateTime<Utc>,
    },
    CollectionAttemptFailed {
        attempt: String,
        account: String,
        invoice: String,
        code: String,
        class: FailureClass,
        on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_on: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        processor_event: Option<String>,
        actor: String,
        at: DateTime<Utc>,
    },
    /// A collected payment returned or charged back; the payment's
    /// reversal (and its fee) follow.
    CollectionPaymentReturned {
        attempt: String,
        account: String,
        payment: String,
        kind: ReturnKind,
        code: String,
        on: NaiveDate,
        processor_event: String,
        actor: String,
        at: DateTime<Utc>,
    },
}

impl PaymentEvent {
    /// The stable kind stored with the event.
    pub fn kind(&self) -> &'static str {
        match self {
            PaymentEvent::MethodAttached { .. } => "payment_method_attached",
            PaymentEvent::MethodDetached { .. } => "payment_method_detached",
            PaymentEvent::AutopaySet { .. } => "autopay_set",
            PaymentEvent::ProcessorConfigured { .. } => "payment_processor_configured",
            PaymentEvent::CollectionAttemptRequested { .. } => "collection_attempt_requested",
            PaymentEvent::CollectionAttemptPending { .. } => "collection_attempt_pending",
            PaymentEvent::CollectionAttemptSucceeded { .. } => "collection_attempt_succeeded",
            PaymentEvent::CollectionAttemptFailed { .. } => "collection_attempt_failed",
            PaymentEvent::CollectionPaymentReturned { .. } => "collection_payment_returned",
        }
    }

    /// The stream: `account/<a>`, or `payment-processor` for its
    /// configuration.
    pub fn stream(&self) -> String {
        match self {
            PaymentEvent::ProcessorConfigured { .. } => "payment-processor".to_string(),
            PaymentEvent::MethodAttached { account, .. }
            | PaymentEvent::MethodDetached { account, .. }
            | PaymentEvent::AutopaySet { account, .. }
            | PaymentEvent::CollectionAttemptRequested { account, .. }
            | PaymentEvent::CollectionAttemptPending { account, .. }
            | PaymentEvent::CollectionAttemptSucceeded { account, .. }
            | PaymentEvent::CollectionAttemptFailed { account, .. }
            | PaymentEvent::CollectionPaymentReturned { account, .. } => {
                format!("account/{account}")
            }
        }
    }

    /// The feed's category: configuration for methods, autopay and the
    /// processor; billing for collection attempts.
    pub fn category(&self) -> &'static str {
        match self {
            PaymentEvent::MethodAttached { .. }
            | PaymentEvent::MethodDetached { .. }
            | PaymentEvent::AutopaySet { .. }
            | PaymentEvent::ProcessorConfigured { .. } => "configuration",
            PaymentEvent::CollectionAttemptRequested { .. }
            | PaymentEvent::CollectionAttemptPending { .. }
            | PaymentEvent::CollectionAttemptSucceeded { .. }
            | PaymentEvent::CollectionAttemptFailed { .. }
            | PaymentEvent::CollectionPaymentReturned { .. } => "billing",
        }
    }
}
