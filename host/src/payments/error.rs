//! Why a payment command is refused.

use crate::domain::ErrorKind;

/// A refused payment command; a refused command changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// A field holds what looks like a full card number.
    #[error(
        "field {field} looks like a full card number: send the processor's token and display fields only"
    )]
    CardNumber { field: String },
    #[error("payment method {field}: {why}")]
    BadMethod { field: &'static str, why: String },
    #[error("account {account} has no payment method {method}")]
    UnknownMethod { account: String, method: String },
    #[error("an account has at most {max} payment methods")]
    TooManyMethods { max: usize },
    #[error(
        "payment method {method} pays autopay: turn autopay off or choose another method first"
    )]
    MethodInAutopay { method: String },
    #[error("autopay needs a payment method: name one or make one the default")]
    NoAutopayMethod,
    #[error("no payment processor is configured (POST /v1/payment-processor)")]
    NoProcessor,
    #[error("payment processor {field}: {why}")]
    BadProcessor { field: &'static str, why: String },
    #[error("no collection attempt {0}")]
    UnknownAttempt(String),
    #[error("processor event {0} was already applied")]
    EventApplied(String),
    #[error("collection attempt {attempt} is {status}: {why}")]
    AttemptState {
        attempt: String,
        status: &'static str,
        why: &'static str,
    },
}

impl PaymentError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            PaymentError::CardNumber { .. } => "card_number_refused",
            PaymentError::BadMethod { .. } => "invalid_payment_method",
            PaymentError::UnknownMethod { .. } => "payment_method_not_found",
            PaymentError::TooManyMethods { .. } => "too_many_payment_methods",
            PaymentError::MethodInAutopay { .. } => "payment_method_in_autopay",
            PaymentError::NoAutopayMethod => "no_autopay_method",
            PaymentError::NoProcessor => "no_payment_processor",
            PaymentError::BadProcessor { .. } => "invalid_payment_processor",
            PaymentError::UnknownAttempt(_) => "collection_attempt_not_found",
            PaymentError::EventApplied(_) => "processor_event_applied",
            PaymentError::AttemptState { .. } => "collection_attempt_state",
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PaymentError::UnknownMethod { .. } | PaymentError::UnknownAttempt(_) => {
                ErrorKind::NotFound
            }
            PaymentError::TooManyMethods { .. }
            | PaymentError::MethodInAutopay { .. }
            | PaymentError::NoProcessor
            | PaymentError::EventApplied(_)
            | PaymentError::AttemptState { .. } => ErrorKind::Conflict,
            PaymentError::CardNumber { .. }
            | PaymentError::BadMethod { .. }
            | PaymentError::NoAutopayMethod
            | PaymentError::BadProcessor { .. } => ErrorKind::Invalid,
        }
    }
}
