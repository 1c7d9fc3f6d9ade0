//! Why a billing command is refused.

use crate::ledger::LedgerError;
use crate::policy::InstallmentDatesError;

/// A refused billing command; a refused command changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectionsError {
    #[error("no billing account {0}")]
    UnknownAccount(String),
    #[error("account {account} has no {what} {locator}")]
    NotFound {
        account: String,
        what: &'static str,
        locator: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{what} {locator} is {state}, not {expected}")]
    WrongState {
        what: &'static str,
        locator: String,
        state: String,
        expected: &'static str,
    },
    #[error("invoicing plugin {plugin}: {message}")]
    Plugin { plugin: String, message: String },
    #[error("{0}")]
    InstallmentDates(#[from] InstallmentDatesError),
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("billing run of account {account} did not finish: {message}")]
    RunLimit { account: String, message: String },
    /// A billing calendar that cannot be (a day not of its frequency, a day
    /// of month out of range, ...).
    #[error("billing calendar: {0}")]
    InvalidCalendar(String),
}

impl CollectionsError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            CollectionsError::UnknownAccount(_) => "account_not_found",
            CollectionsError::NotFound { .. } => "not_found",
            CollectionsError::Invalid(_) => "invalid_request",
            CollectionsError::WrongState { .. } => "conflict",
            CollectionsError::Plugin { .. } => "invoicing_plugin_failed",
            CollectionsError::InstallmentDates(error) => error.code(),
            CollectionsError::Ledger(_) => "ledger_refused",
            CollectionsError::RunLimit { .. } => "internal",
            CollectionsError::InvalidCalendar(_) => "invalid_billing_calendar",
        }
    }
}
