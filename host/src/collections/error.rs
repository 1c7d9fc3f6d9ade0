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
    #[error("no policy {0}")]
    UnknownPolicy(String),
    #[error("product {product} has no plan {plan}")]
    UnknownPlan { product: String, plan: String },
    #[error("{0}")]
    Invalid(String),
    /// An amount that is not one the command can take (not above zero,
    /// over the limit, not in whole minor units).
    #[error("{0}")]
    InvalidAmount(String),
    /// A payment, write-off or disbursement reversed already: 409 as a
    /// transaction reversed twice.
    #[error("{what} {locator} is already reversed (on {on})")]
    AlreadyReversed {
        what: &'static str,
        locator: String,
        on: chrono::NaiveDate,
    },
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
    /// Automatic billing is turned off per bill-to party (an account's
    /// settings), not for the whole billing entity.
    #[error(
        "automatic billing is turned off per account (POST /v1/accounts/{{account}}/billing-settings), not for the tenant"
    )]
    AutomaticBillingPerAccount,
    /// Automatic binding settings that cannot be (an expiry of 0 or more
    /// than 366 days).
    #[error("automatic binding: {0}")]
    InvalidAutoBind(String),
    /// Deductible invoice due days over the limit (seed 003's deductible
    /// billing settings take 0 to `DUE_DAYS_MAX` days, like `invoice_due_days`).
    #[error(
        "deductible invoice due days {days} is more than {max}",
        max = crate::billing::calendar::DUE_DAYS_MAX
    )]
    InvalidDeductibleDueDays { days: u32 },
    /// A payment flagged for deductibles naming an invoice that is not a
    /// deductible invoice (seed 003: flagged money pays deductibles only).
    #[error(
        "invoice {invoice} is not a deductible invoice; a payment for deductibles pays only those"
    )]
    NotDeductible { invoice: String },
    /// A billing calendar (or an account's calendar changes) setting one of
    /// the two fields the billing settings own: `invoice_due_days` and
    /// `send_zero_outstanding_invoices` are read from the settings (tenant,
    /// then account overrides), never from the calendar, so a calendar
    /// setting them is refused rather than silently ignored.
    #[error(
        "the billing calendar's {field} is not used: set {field} in the billing settings \
         (POST /v1/billing/settings) or the account's overrides instead"
    )]
    CalendarFieldInSettings { field: &'static str },
}

impl CollectionsError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            CollectionsError::UnknownAccount(_) => "account_not_found",
            CollectionsError::NotFound { .. } => "not_found",
            CollectionsError::UnknownPolicy(_) => "policy_not_found",
            CollectionsError::UnknownPlan { .. } => "plan_not_found",
            CollectionsError::Invalid(_) => "invalid_request",
            CollectionsError::AutomaticBillingPerAccount => "automatic_billing_per_account",
            CollectionsError::InvalidAmount(_) => "invalid_amount",
            CollectionsError::AlreadyReversed { .. } => "already_reversed",
            CollectionsError::WrongState { .. } => "conflict",
            CollectionsError::Plugin { .. } => "invoicing_plugin_failed",
            CollectionsError::InstallmentDates(error) => error.code(),
            CollectionsError::Ledger(_) => "ledger_refused",
            CollectionsError::RunLimit { .. } => "internal",
            CollectionsError::InvalidCalendar(_) => "invalid_billing_calendar",
            CollectionsError::InvalidAutoBind(_) => "invalid_auto_bind",
            CollectionsError::InvalidDeductibleDueDays { .. } => "invalid_deductible_due_days",
            CollectionsError::NotDeductible { .. } => "not_a_deductible_invoice",
            CollectionsError::CalendarFieldInSettings { .. } => "calendar_field_in_settings",
        }
    }
}
