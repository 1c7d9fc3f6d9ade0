//! Why a commission payment, an agency configuration or a remittance was
//! refused (DOMAIN section 10, issue 21 items 4 and 5). Every refusal
//! changes nothing.

use crate::domain::{Currency, ErrorKind};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// A refusal of a producer command (commission payments, agency bill).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProducerError {
    #[error(
        "a commission payment of {amount} {currency} to {producer} is more than its commission payable ({available} {currency} after payments pending)"
    )]
    PaymentOverPayable {
        producer: String,
        currency: Currency,
        amount: Decimal,
        available: Decimal,
    },
    #[error("no commission payment {payment} of producer {producer}")]
    UnknownPayment { producer: String, payment: String },
    #[error("commission payment {payment} is {state}: it cannot be {action}")]
    PaymentWrongState {
        payment: String,
        state: &'static str,
        action: &'static str,
    },
    #[error("{what} must be above zero, in whole minor units of {currency}: {amount}")]
    InvalidAmount {
        what: &'static str,
        amount: Decimal,
        currency: Currency,
    },
    #[error("{what} has {chars} characters, more than {limit}")]
    TextTooLong {
        what: &'static str,
        chars: usize,
        limit: usize,
    },
    #[error("a statement day is a day of the month, 1 to 31: {0}")]
    InvalidStatementDay(u32),
    #[error("producer {0} is not configured for agency bill: PUT /v1/producers/{0}/agency first")]
    AgencyNotConfigured(String),
    #[error("producer {producer} has no agency statement of {date}")]
    UnknownStatement { producer: String, date: NaiveDate },
    #[error("the agency statement of {date} is not issued yet (today is {today})")]
    StatementNotIssued { date: NaiveDate, today: NaiveDate },
    #[error("the agency statement of {date} has no item in {currency}")]
    RemittanceCurrency { date: NaiveDate, currency: Currency },
    #[error(
        "a remittance of {amount} {currency} is more than the statement of {date} still owes ({open} {currency})"
    )]
    RemittanceOverStatement {
        date: NaiveDate,
        currency: Currency,
        amount: Decimal,
        open: Decimal,
    },
    #[error("remittance allocation: {0}")]
    RemittanceAllocation(String),
}

impl ProducerError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            ProducerError::PaymentOverPayable { .. } => "commission_payment_over_payable",
            ProducerError::UnknownPayment { .. } => "commission_payment_not_found",
            ProducerError::PaymentWrongState { .. } => "commission_payment_wrong_state",
            ProducerError::InvalidAmount { .. } => "invalid_amount",
            ProducerError::TextTooLong { .. } => "text_too_long",
            ProducerError::InvalidStatementDay(_) => "invalid_statement_day",
            ProducerError::AgencyNotConfigured(_) => "agency_producer_unknown",
            ProducerError::UnknownStatement { .. } => "agency_statement_not_found",
            ProducerError::StatementNotIssued { .. } => "agency_statement_not_issued",
            ProducerError::RemittanceCurrency { .. } => "remittance_currency_mismatch",
            ProducerError::RemittanceOverStatement { .. } => "remittance_over_statement",
            ProducerError::RemittanceAllocation(_) => "remittance_allocation_invalid",
        }
    }

    /// How the refusal is answered.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ProducerError::UnknownPayment { .. } | ProducerError::UnknownStatement { .. } => {
                ErrorKind::NotFound
            }
            ProducerError::PaymentOverPayable { .. }
            | ProducerError::PaymentWrongState { .. }
            | ProducerError::StatementNotIssued { .. } => ErrorKind::Conflict,
            ProducerError::InvalidAmount { .. }
            | ProducerError::TextTooLong { .. }
            | ProducerError::InvalidStatementDay(_)
            | ProducerError::AgencyNotConfigured(_)
            | ProducerError::RemittanceCurrency { .. }
            | ProducerError::RemittanceOverStatement { .. }
            | ProducerError::RemittanceAllocation(_) => ErrorKind::Invalid,
        }
    }
}
