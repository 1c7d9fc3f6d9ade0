//! Why a billing command is refused: one variant per situation, each with
//! a stable code for API problems and the [`ErrorKind`] that says how it is
//! answered.

use super::decide::TEXT_BYTES_MAX;
use super::hold::CATCH_UP_DUE_DAYS_MAX;
use super::settings::SETTINGS_AMOUNT_SCALE_MAX;
use crate::billing::InstallmentError;
use crate::billing::calendar::DUE_DAYS_MAX;
use crate::billing::grace::GRACE_DAYS_MAX;
use crate::domain::{ErrorKind, PeriodError};
use crate::ledger::LedgerError;
use crate::policy::InstallmentDatesError;
use chrono::NaiveDate;
use rust_decimal::Decimal;

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
    /// A command naming more invoices than one command takes.
    #[error("name at most {max} invoices")]
    TooManyInvoices { max: usize },
    /// A command naming the same invoice twice.
    #[error("invoice {invoice} is named twice")]
    InvoiceNamedTwice { invoice: String },
    /// A command dated before the record it acts on (reversing a payment
    /// before it was received, releasing a hold before it starts, ...).
    #[error("{what} {locator} {happened} {recorded_on}, after {on}")]
    DateBeforeRecord {
        what: &'static str,
        locator: String,
        /// How the record's date reads: `was received on`, `starts on`...
        happened: &'static str,
        recorded_on: NaiveDate,
        on: NaiveDate,
    },
    /// Distributing credit on an account that has none.
    #[error("account {account} has no credit to distribute")]
    NoCreditToDistribute { account: String },
    /// Credit asked for an invoice beyond what it owes or the credit there
    /// is for its stream.
    #[error(
        "{wanted} of credit is more than invoice {invoice} owes ({owed}) or the credit \
         available for it ({available})"
    )]
    CreditTooLarge {
        invoice: String,
        wanted: Decimal,
        owed: Decimal,
        available: Decimal,
    },
    /// Distributing credit where no open invoice takes any.
    #[error("no open invoice to apply credit to")]
    NoOpenInvoice,
    /// A free text (a reason, a reference) over the limit.
    #[error("{what} is longer than {TEXT_BYTES_MAX} bytes")]
    TextTooLong { what: &'static str },
    /// Date arithmetic (a due date, the end of a grace) past the calendar.
    #[error("{0}")]
    DateOutOfRange(PeriodError),
    /// A write-off of nothing, or of more than is owed.
    #[error("a write-off of {amount} must be above zero and at most {limit}")]
    WriteOffOutOfRange { amount: Decimal, limit: Decimal },
    /// A refund of more credit than the account has.
    #[error("a disbursement of {amount} is more than the credit available ({available})")]
    DisbursementExceedsCredit { amount: Decimal, available: Decimal },
    /// A suspension that ends on or before its start.
    #[error("a suspension from {from} must end after it, not on {until}")]
    SuspensionEndNotAfterStart { from: NaiveDate, until: NaiveDate },
    /// A suspension's catch-up due days over the limit.
    #[error("catch-up due days {days} is more than {CATCH_UP_DUE_DAYS_MAX}")]
    InvalidCatchUpDueDays { days: u32 },
    /// Invoice due days over the limit.
    #[error("invoice due days {days} is more than {DUE_DAYS_MAX}")]
    InvalidInvoiceDueDays { days: u32 },
    /// A delinquency grace over the limit.
    #[error("grace of {days} days is more than {GRACE_DAYS_MAX}")]
    InvalidGraceDays { days: u32 },
    /// A settings amount (a minimum, a fee, a threshold) below zero or too
    /// precise.
    #[error(
        "{what} {amount} must be zero or more, with at most {SETTINGS_AMOUNT_SCALE_MAX} decimal places"
    )]
    InvalidSettingAmount { what: &'static str, amount: Decimal },
    /// A plan change effective on a day no term of the policy covers.
    #[error("policy {policy} has no term on {date}")]
    OutsideTerm { policy: String, date: NaiveDate },
    /// A plan change to the plan the term is on.
    #[error("term {term} of {policy} is already on plan {plan}")]
    PlanUnchanged {
        policy: String,
        term: u32,
        plan: String,
    },
    /// A plan that cannot lay out installments over the term.
    #[error("plan {plan}: {source}")]
    PlanNotApplicable {
        plan: String,
        source: InstallmentError,
    },
    /// Billing's state disagrees with itself or with the book (a pending
    /// charge the book does not have, ...): a bug, not the client's doing.
    #[error("internal error: {0}")]
    Internal(String),
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
    #[error("deductible invoice due days {days} is more than {DUE_DAYS_MAX}")]
    InvalidDeductibleDueDays { days: u32 },
    /// A payment flagged for deductibles naming an invoice that is not a
    /// deductible invoice (seed 003: flagged money pays deductibles only).
    #[error(
        "invoice {invoice} is not a deductible invoice; a payment for deductibles pays only those"
    )]
    NotDeductible { invoice: String },
    /// A payment made for a term or transaction naming a policy of another
    /// account, a term the policy does not have, or another policy's
    /// transaction.
    #[error("no policy term or transaction {scope} on this account")]
    UnknownCreditScope { scope: String },
    /// A payment both flagged for deductibles and made for a term or a
    /// transaction (seed 003 keeps the two apart).
    #[error("a payment is for deductibles or for a policy term or transaction, not both")]
    ReservedForDeductibles,
    /// Credit options that cannot be on together (seed 003: future
    /// installments need "apply on invoice generation"; the remainder rule
    /// needs future installments).
    #[error("credit options: {0}")]
    InvalidCreditOptions(&'static str),
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
            CollectionsError::TooManyInvoices { .. } => "too_many_invoices",
            CollectionsError::InvoiceNamedTwice { .. } => "invoice_named_twice",
            CollectionsError::DateBeforeRecord { .. } => "date_before_record",
            CollectionsError::NoCreditToDistribute { .. } => "no_credit_to_distribute",
            CollectionsError::CreditTooLarge { .. } => "credit_too_large",
            CollectionsError::NoOpenInvoice => "no_open_invoice",
            CollectionsError::TextTooLong { .. } => "text_too_long",
            CollectionsError::DateOutOfRange(_) => "date_out_of_range",
            CollectionsError::WriteOffOutOfRange { .. } => "write_off_out_of_range",
            CollectionsError::DisbursementExceedsCredit { .. } => "disbursement_exceeds_credit",
            CollectionsError::SuspensionEndNotAfterStart { .. } => "invalid_suspension_end",
            CollectionsError::InvalidCatchUpDueDays { .. } => "invalid_catch_up_due_days",
            CollectionsError::InvalidInvoiceDueDays { .. } => "invalid_invoice_due_days",
            CollectionsError::InvalidGraceDays { .. } => "invalid_grace_days",
            CollectionsError::InvalidSettingAmount { .. } => "invalid_setting_amount",
            CollectionsError::OutsideTerm { .. } => "outside_term",
            CollectionsError::PlanUnchanged { .. } => "plan_unchanged",
            CollectionsError::PlanNotApplicable { .. } => "plan_not_applicable",
            CollectionsError::Internal(_) => "internal",
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
            CollectionsError::UnknownCreditScope { .. } => "credit_scope_not_found",
            CollectionsError::ReservedForDeductibles => "reserved_for_deductibles",
            CollectionsError::InvalidCreditOptions(_) => "invalid_credit_options",
            CollectionsError::CalendarFieldInSettings { .. } => "calendar_field_in_settings",
        }
    }

    /// How the refusal is answered.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CollectionsError::UnknownAccount(_)
            | CollectionsError::NotFound { .. }
            | CollectionsError::UnknownPolicy(_)
            | CollectionsError::UnknownPlan { .. } => ErrorKind::NotFound,
            CollectionsError::AlreadyReversed { .. } | CollectionsError::WrongState { .. } => {
                ErrorKind::Conflict
            }
            CollectionsError::InvalidAmount(_)
            | CollectionsError::TooManyInvoices { .. }
            | CollectionsError::InvoiceNamedTwice { .. }
            | CollectionsError::DateBeforeRecord { .. }
            | CollectionsError::NoCreditToDistribute { .. }
            | CollectionsError::CreditTooLarge { .. }
            | CollectionsError::NoOpenInvoice
            | CollectionsError::TextTooLong { .. }
            | CollectionsError::DateOutOfRange(_)
            | CollectionsError::WriteOffOutOfRange { .. }
            | CollectionsError::DisbursementExceedsCredit { .. }
            | CollectionsError::SuspensionEndNotAfterStart { .. }
            | CollectionsError::InvalidCatchUpDueDays { .. }
            | CollectionsError::InvalidInvoiceDueDays { .. }
            | CollectionsError::InvalidGraceDays { .. }
            | CollectionsError::InvalidSettingAmount { .. }
            | CollectionsError::OutsideTerm { .. }
            | CollectionsError::PlanUnchanged { .. }
            | CollectionsError::PlanNotApplicable { .. }
            | CollectionsError::InvalidCalendar(_)
            | CollectionsError::CalendarFieldInSettings { .. }
            | CollectionsError::AutomaticBillingPerAccount
            | CollectionsError::InvalidAutoBind(_)
            | CollectionsError::InvalidDeductibleDueDays { .. }
            | CollectionsError::NotDeductible { .. }
            | CollectionsError::ReservedForDeductibles
            | CollectionsError::InvalidCreditOptions(_) => ErrorKind::Invalid,
            CollectionsError::UnknownCreditScope { .. } => ErrorKind::NotFound,
            CollectionsError::Plugin { .. } => ErrorKind::Upstream,
            CollectionsError::InstallmentDates(error) => error.kind(),
            CollectionsError::Ledger(_)
            | CollectionsError::RunLimit { .. }
            | CollectionsError::Internal(_) => ErrorKind::Internal,
        }
    }
}
