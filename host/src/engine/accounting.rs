//! Insurance accounting (DOMAIN section 10): earning written premium, closing
//! accounting periods, and the general-ledger mapping, as commands into
//! events of the tenant's log; and the reports read from them.
//!
//! - **Earnings run** as of a day D ([`AccountingCommand::RunEarnings`]):
//!   per premium charge (`premium`, `flatPremium`, `credit`) written by D, the
//!   earned-through-D ([`crate::billing::earned_through`]) minus what earlier
//!   runs posted; one `premium_earned` entry per product and currency (Dr
//!   unearned premium, Cr earned premium; a credit the reverse). Running it
//!   again posts nothing; a run as of a day before the latest run earns as of
//!   the latest run's day (the ledger never un-earns). A day after the
//!   tenant's today is refused, and so is a day in a closed month
//!   (`earnings_in_closed_period`: its entry would date into it).
//! - **Closing a month** ([`AccountingCommand::ClosePeriod`]): months close in
//!   order, once over (their last day before today); closing runs earnings to
//!   the month's last day first. From then on no entry is dated into it: a
//!   later entry with an earlier date gets the first open day as its
//!   accounting date ([`crate::ledger::Ledger::accounting_date_for`]).
//! - **GL mapping** ([`AccountingCommand::UploadGlMapping`]): each upload is a
//!   new version, recorded with its actor and time.
//!
//! Worked example ([E10]): 1200.00 on `[2026-01-01, 2027-01-01)` by months,
//! written on 2025-12-15. Earnings as of 2026-01-31 post 100.00 (Dr unearned,
//! Cr earned); as of 2026-02-28 another 100.00; the premium report then shows
//! written 1200.00, earned 200.00, unearned 1000.00.
//!
//! Charges posted before insurance accounting (their transaction's entry
//! credited `written_premium`) were revenue at once: runs leave them alone,
//! and the report still counts them (written, and earned by the formula).

use super::agency::AllocationRequest;
use super::producer_book::{
    AgencyConfig, CommissionPayment, CommissionPaymentStatus, ProducerBook, Remittance,
};
use super::producer_error::ProducerError;
use super::state::{EngineError, TenantEvent, TenantState};
use crate::billing::{DurationBasis, ProrationError, earned_through};
use crate::domain::{Currency, ErrorKind, Money, RoundingMode};
use crate::ledger::{
    EntryKind, GlJournalLine, GlMapping, GlMappingError, JournalEntry, LedgerAccount, Posting,
    TrialBalance, postings,
};
use crate::policy::{Charge, CommandContext};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// The most charges one `premium_earned` event lists (about 100 bytes each in
/// the log: well below the event payload limit).
pub const EARNED_CHARGES_PER_EVENT_MAX: usize = 5_000;
/// The most charges one earnings run earns (its events stay far below an
/// append's limits); the rest is earned by running the same day again.
pub const EARNED_CHARGES_PER_RUN_MAX: usize = 100_000;

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// A calendar month, the accounting period: written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// The month of `day`.
    pub fn of(day: NaiveDate) -> Month {
        Month {
            year: day.year(),
            month: day.month(),
        }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month")
    }

    /// The month after it.
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .expect("a day before a first of the month")
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = AccountingError;

    fn from_str(text: &str) -> Result<Month, AccountingError> {
        let invalid = || AccountingError::InvalidPeriod(text.chars().take(16).collect());
        let (year, month) = text.split_once('-').ok_or_else(invalid)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(invalid());
        }
        let year: i32 = year.parse().map_err(|_| invalid())?;
        let month: u32 = month.parse().map_err(|_| invalid())?;
        NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(invalid)?;
        Ok(Month { year, month })
    }
}

impl TryFrom<String> for Month {
    type Error = AccountingError;

    fn try_from(text: String) -> Result<Month, AccountingError> {
        text.parse()
    }
}

impl From<Month> for String {
    fn from(month: Month) -> String {
        month.to_string()
    }
}

/// An accounting command.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum AccountingCommand {
    /// Posts premium earned through the end of `as_of`.
    RunEarnings { as_of: NaiveDate },
    /// Runs earnings to the month's end, then closes it.
    ClosePeriod { period: Month },
    /// Records a new version of the GL mapping.
    UploadGlMapping { mapping: GlMapping },
    /// Drafts a commission payment to a producer.
    DraftCommissionPayment {
        producer: String,
        amount: Money,
        #[serde(default)]
        reason: String,
    },
    /// Approves a drafted commission payment.
    ApproveCommissionPayment { producer: String, payment: String },
    /// Rejects a drafted or approved commission payment.
    RejectCommissionPayment {
        producer: String,
        payment: String,
        #[serde(default)]
        reason: String,
    },
    /// Executes an approved commission payment: money leaves.
    ExecuteCommissionPayment { producer: String, payment: String },
    /// Configures a producer for agency bill (its statement day), from today.
    ConfigureAgency {
        producer: String,
        statement_day: u32,
    },
    /// Records an agency's remittance for one of its statements.
    ReceiveRemittance {
        producer: String,
        statement: NaiveDate,
        amount: Money,
        #[serde(default)]
        received_on: Option<NaiveDate>,
        #[serde(default)]
        reference: String,
        /// Item by item; oldest first when absent.
        #[serde(default)]
        allocations: Option<Vec<AllocationRequest>>,
    },
}

/// What one charge earned in one run (earned-to-date minus what was posted
/// before; negative for credits).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarnedCharge {
    pub charge: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    pub amount: Money,
}

/// An event of insurance accounting.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum AccountingEvent {
    /// An earnings run through the end of `as_of`, and what each charge
    /// earned in it; its entries follow it.
    PremiumEarned {
        as_of: NaiveDate,
        charges: Vec<EarnedCharge>,
        /// Charges left for another run of the same day (more than
        /// [`EARNED_CHARGES_PER_RUN_MAX`] had something to earn); written
        /// only when not zero.
        #[serde(default, skip_serializing_if = "is_zero")]
        remaining: usize,
    },
    /// A month closed.
    PeriodClosed {
        period: Month,
        actor: String,
        at: DateTime<Utc>,
    },
    /// A version of the GL mapping uploaded.
    GlMappingUploaded {
        version: u32,
        mapping: GlMapping,
        actor: String,
        at: DateTime<Utc>,
    },
    /// A commission payment drafted (its drafter in the payment).
    CommissionPaymentDrafted {
        payment: CommissionPayment,
        at: DateTime<Utc>,
    },
    /// A commission payment approved.
    CommissionPaymentApproved {
        payment: String,
        on: NaiveDate,
        actor: String,
        at: DateTime<Utc>,
    },
    /// A commission payment rejected.
    CommissionPaymentRejected {
        payment: String,
        on: NaiveDate,
        reason: String,
        actor: String,
        at: DateTime<Utc>,
    },
    /// A commission payment executed; its `commission_paid` entry follows.
    CommissionPaymentExecuted {
        payment: String,
        on: NaiveDate,
        actor: String,
        at: DateTime<Utc>,
    },
    /// A producer configured for agency bill (a new version).
    AgencyConfigured { config: AgencyConfig },
    /// An agency's remittance and its allocations; its entry follows.
    RemittanceReceived {
        remittance: Remittance,
        actor: String,
        at: DateTime<Utc>,
    },
}

impl AccountingEvent {
    /// The stable kind stored with the event.
    pub fn kind(&self) -> &'static str {
        match self {
            AccountingEvent::PremiumEarned { .. } => "premium_earned",
            AccountingEvent::PeriodClosed { .. } => "accounting_period_closed",
            AccountingEvent::GlMappingUploaded { .. } => "gl_mapping_uploaded",
            AccountingEvent::CommissionPaymentDrafted { .. } => "commission_payment_drafted",
            AccountingEvent::CommissionPaymentApproved { .. } => "commission_payment_approved",
            AccountingEvent::CommissionPaymentRejected { .. } => "commission_payment_rejected",
            AccountingEvent::CommissionPaymentExecuted { .. } => "commission_payment_executed",
            AccountingEvent::AgencyConfigured { .. } => "agency_configured",
            AccountingEvent::RemittanceReceived { .. } => "remittance_received",
        }
    }

    /// `ledger` for earnings and closes, `configuration` for the mapping and
    /// agency configurations, `billing` for commission payments and
    /// remittances.
    pub fn category(&self) -> &'static str {
        match self {
            AccountingEvent::PremiumEarned { .. } | AccountingEvent::PeriodClosed { .. } => {
                "ledger"
            }
            AccountingEvent::GlMappingUploaded { .. }
            | AccountingEvent::AgencyConfigured { .. } => "configuration",
            AccountingEvent::CommissionPaymentDrafted { .. }
            | AccountingEvent::CommissionPaymentApproved { .. }
            | AccountingEvent::CommissionPaymentRejected { .. }
            | AccountingEvent::CommissionPaymentExecuted { .. }
            | AccountingEvent::RemittanceReceived { .. } => "billing",
        }
    }
}

/// Why an accounting command or read was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountingError {
    #[error("`{0}` is not a month: use YYYY-MM")]
    InvalidPeriod(String),
    #[error("earnings as of {as_of} are past the tenant's today ({today})")]
    EarningsInTheFuture { as_of: NaiveDate, today: NaiveDate },
    #[error(
        "earnings as of {as_of} would post into a closed period: the books are closed through {closed_through}; run earnings as of a later day"
    )]
    EarningsInClosedPeriod {
        as_of: NaiveDate,
        closed_through: NaiveDate,
    },
    #[error(
        "{period} is not over: it can be closed from the day after {last_day} (today is {today})"
    )]
    PeriodNotOver {
        period: Month,
        last_day: NaiveDate,
        today: NaiveDate,
    },
    #[error("months close in order: the next to close is {expected}, not {period}")]
    PeriodOutOfOrder { period: Month, expected: Month },
    #[error(
        "earning through {last_day} touches {charges} charges, more than one run earns: run earnings as of {last_day} until none is left, then close {period}"
    )]
    EarningsIncomplete {
        period: Month,
        last_day: NaiveDate,
        charges: usize,
    },
    #[error(transparent)]
    GlMapping(#[from] GlMappingError),
    #[error("earning a charge: {0}")]
    Earning(String),
    #[error("no commission was ever written to producer {0}")]
    UnknownProducer(String),
    #[error(transparent)]
    Producer(#[from] ProducerError),
}

impl AccountingError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            AccountingError::InvalidPeriod(_) => "invalid_period",
            AccountingError::EarningsInTheFuture { .. } => "earnings_in_the_future",
            AccountingError::EarningsInClosedPeriod { .. } => "earnings_in_closed_period",
            AccountingError::PeriodNotOver { .. } => "period_not_over",
            AccountingError::PeriodOutOfOrder { .. } => "period_out_of_order",
            AccountingError::EarningsIncomplete { .. } => "earnings_incomplete",
            AccountingError::GlMapping(error) => error.code(),
            AccountingError::Earning(_) => "internal",
            AccountingError::UnknownProducer(_) => "unknown_producer",
            AccountingError::Producer(error) => error.code(),
        }
    }

    /// How the refusal is answered.
    pub fn kind(&self) -> ErrorKind {
        match self {
            AccountingError::InvalidPeriod(_) | AccountingError::EarningsInTheFuture { .. } => {
                ErrorKind::Invalid
            }
            AccountingError::PeriodNotOver { .. }
            | AccountingError::PeriodOutOfOrder { .. }
            | AccountingError::EarningsInClosedPeriod { .. }
            | AccountingError::EarningsIncomplete { .. } => ErrorKind::Conflict,
            AccountingError::GlMapping(error) => error.kind(),
            AccountingError::Earning(_) => ErrorKind::Internal,
            AccountingError::UnknownProducer(_) => ErrorKind::NotFound,
            AccountingError::Producer(error) => error.kind(),
        }
    }
}

impl From<ProrationError> for AccountingError {
    fn from(error: ProrationError) -> Self {
        AccountingError::Earning(error.to_string())
    }
}

/// A closed month: who closed it and when.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ClosedPeriod {
    pub period: Month,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A version of the GL mapping.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GlMappingVersion {
    pub version: u32,
    pub mapping: GlMapping,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A tenant's accounting state, rebuilt from its log.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct Accounting {
    /// Per charge, the premium earned posted so far.
    earned: BTreeMap<String, Decimal>,
    /// The latest earnings run's day.
    earned_through: Option<NaiveDate>,
    /// The day each charge entry (by reference: a transaction or a flat
    /// charge) was posted.
    written_on: BTreeMap<String, NaiveDate>,
    /// The references of charge entries of older logs, which credited
    /// premium to `written_premium` (revenue at once).
    revenue_at_once: BTreeSet<String>,
    /// Closed months, in order.
    pub closed: Vec<ClosedPeriod>,
    /// Every version of the GL mapping, in order.
    pub gl_mappings: Vec<GlMappingVersion>,
    /// Commission payments, agency configurations and remittances.
    pub producers: ProducerBook,
}

impl Accounting {
    /// Applies an accounting event (a close is applied to the ledger by the
    /// tenant's state).
    pub fn apply(&mut self, event: &AccountingEvent) {
        match event {
            AccountingEvent::PremiumEarned { as_of, charges, .. } => {
                for charge in charges {
                    *self.earned.entry(charge.charge.clone()).or_default() += charge.amount.amount;
                }
                self.earned_through = self.earned_through.max(Some(*as_of));
            }
            AccountingEvent::PeriodClosed { period, actor, at } => self.closed.push(ClosedPeriod {
                period: *period,
                actor: actor.clone(),
                at: *at,
            }),
            AccountingEvent::GlMappingUploaded {
                version,
                mapping,
                actor,
                at,
            } => self.gl_mappings.push(GlMappingVersion {
                version: *version,
                mapping: mapping.clone(),
                actor: actor.clone(),
                at: *at,
            }),
            AccountingEvent::CommissionPaymentDrafted { payment, .. } => {
                self.producers
                    .payments
                    .insert(payment.locator.clone(), payment.clone());
            }
            AccountingEvent::CommissionPaymentApproved {
                payment, on, actor, ..
            } => self.set_payment_status(
                payment,
                CommissionPaymentStatus::Approved {
                    on: *on,
                    by: actor.clone(),
                },
            ),
            AccountingEvent::CommissionPaymentRejected {
                payment,
                on,
                reason,
                actor,
                ..
            } => self.set_payment_status(
                payment,
                CommissionPaymentStatus::Rejected {
                    on: *on,
                    by: actor.clone(),
                    reason: reason.clone(),
                },
            ),
            AccountingEvent::CommissionPaymentExecuted {
                payment, on, actor, ..
            } => self.set_payment_status(
                payment,
                CommissionPaymentStatus::Executed {
                    on: *on,
                    by: actor.clone(),
                },
            ),
            AccountingEvent::AgencyConfigured { config } => self
                .producers
                .agencies
                .entry(config.producer.clone())
                .or_default()
                .push(config.clone()),
            AccountingEvent::RemittanceReceived { remittance, .. } => {
                self.producers.remittances.push(remittance.clone())
            }
        }
    }

    fn set_payment_status(&mut self, payment: &str, status: CommissionPaymentStatus) {
        if let Some(payment) = self.producers.payments.get_mut(payment) {
            payment.status = status;
        }
    }

    /// Follows a journal entry: a charge entry's day is when its charges
    /// were written; one that credits `written_premium` is of an older log
    /// (revenue at once), never earned by a run.
    pub fn follow_journal(&mut self, entry: &JournalEntry) {
        if entry.kind != EntryKind::ChargeWritten {
            return;
        }
        self.written_on
            .entry(entry.reference.clone())
            .or_insert(entry.posted_on);
        if entry
            .lines
            .iter()
            .any(|line| line.account.account == LedgerAccount::WrittenPremium)
        {
            self.revenue_at_once.insert(entry.reference.clone());
        }
    }

    /// The day the charge entry of `reference` (a transaction or a flat
    /// charge) was posted, if it posted one.
    pub fn written_on(&self, reference: &str) -> Option<NaiveDate> {
        self.written_on.get(reference).copied()
    }

    /// What earnings runs have posted for `charge` so far.
    pub fn earned_posted(&self, charge: &str) -> Decimal {
        self.earned.get(charge).copied().unwrap_or_default()
    }

    /// The latest earnings run's day.
    pub fn earned_through(&self) -> Option<NaiveDate> {
        self.earned_through
    }

    /// The current GL mapping.
    pub fn gl_mapping(&self) -> Option<&GlMappingVersion> {
        self.gl_mappings.last()
    }
}

/// Whether a charge is premium (posted to unearned premium, earned over time).
pub(super) fn is_premium(charge: &Charge) -> bool {
    charge.category.accounts().map(|(_, credit)| credit) == Some(LedgerAccount::UnearnedPremium)
}

/// A premium charge with what earning it needs.
pub(super) struct PremiumCharge<'a> {
    pub(super) charge: &'a Charge,
    pub(super) product: Option<&'a str>,
    pub(super) basis: DurationBasis,
    pub(super) mode: RoundingMode,
    /// The day it was written; `None` when its transaction is unknown.
    pub(super) written_on: Option<NaiveDate>,
    /// Whether its entry went to unearned premium (not the older revenue).
    earnable: bool,
}

/// One line of the premium report.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PremiumRow {
    /// The policy (absent for flat premium on a billing account).
    pub policy: Option<String>,
    pub product: Option<String>,
    pub currency: Currency,
    pub written: Decimal,
    pub earned: Decimal,
    pub unearned: Decimal,
}

/// Written, earned and unearned premium as of the end of a day.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PremiumReport {
    pub as_of: NaiveDate,
    /// By policy, product and currency.
    pub rows: Vec<PremiumRow>,
    /// By product and currency.
    pub products: Vec<PremiumRow>,
    /// By currency.
    pub totals: Vec<PremiumRow>,
}

/// A month and whether it is closed.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodView {
    pub period: Month,
    /// `open` or `closed`.
    pub state: &'static str,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
}

/// One currency of a period: what its entries posted, and the balances at
/// its end.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodBalances {
    pub currency: Currency,
    /// The entries whose accounting date is in the month.
    pub activity: TrialBalance,
    /// Every entry through the month's last day.
    pub closing: TrialBalance,
}

/// A period and its trial balances.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodDetail {
    #[serde(flatten)]
    pub period: PeriodView,
    pub currencies: Vec<PeriodBalances>,
}

impl TenantState {
    /// Every premium charge of the book, with its product, basis and the day
    /// it was written.
    pub(super) fn premium_charges(&self) -> Vec<PremiumCharge<'_>> {
        let accounting = &self.accounting;
        let mut charges = Vec::new();
        for policy in self.book.policies.values() {
            let product = &policy.header.product;
            for charge in policy.charges.iter().filter(|c| is_premium(c)) {
                let posted = accounting.written_on.get(&charge.transaction);
                let issued = policy
                    .transactions
                    .iter()
                    .find(|t| t.locator == charge.transaction)
                    .map(|t| t.issued_at.date_naive());
                charges.push(PremiumCharge {
                    charge,
                    product: Some(product.name.as_str()),
                    basis: product.duration_basis,
                    mode: product.rounding_mode,
                    written_on: posted.copied().or(issued),
                    earnable: posted.is_some()
                        && !accounting.revenue_at_once.contains(&charge.transaction),
                });
            }
        }
        for charge in self.book.account_charges.iter().filter(|c| is_premium(c)) {
            let posted = accounting.written_on.get(&charge.locator);
            charges.push(PremiumCharge {
                charge,
                product: None,
                basis: DurationBasis::default(),
                mode: RoundingMode::default(),
                written_on: posted.copied(),
                earnable: posted.is_some() && !accounting.revenue_at_once.contains(&charge.locator),
            });
        }
        charges
    }

    /// The tenant's today for a command.
    pub(super) fn command_today(&self, context: &CommandContext) -> NaiveDate {
        context
            .today
            .unwrap_or_else(|| self.today(context.issued_at))
    }

    /// The events of an accounting command.
    pub(super) fn decide_accounting(
        &self,
        command: &AccountingCommand,
        context: &CommandContext,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        match command {
            AccountingCommand::RunEarnings { as_of } => {
                let today = self.command_today(context);
                if *as_of > today {
                    return Err(AccountingError::EarningsInTheFuture {
                        as_of: *as_of,
                        today,
                    }
                    .into());
                }
                if let Some(closed_through) = self.ledger.closed_through()
                    && *as_of <= closed_through
                {
                    return Err(AccountingError::EarningsInClosedPeriod {
                        as_of: *as_of,
                        closed_through,
                    }
                    .into());
                }
                Ok(self.earnings(*as_of)?.0)
            }
            AccountingCommand::ClosePeriod { period } => {
                let today = self.command_today(context);
                if period.last_day() >= today {
                    return Err(AccountingError::PeriodNotOver {
                        period: *period,
                        last_day: period.last_day(),
                        today,
                    }
                    .into());
                }
                let expected = match self.accounting.closed.last() {
                    Some(last) => Some(last.period.next()),
                    None => self
                        .ledger
                        .entries()
                        .iter()
                        .map(|e| Month::of(e.accounting_date()))
                        .min()
                        .filter(|first| first < period),
                };
                if let Some(expected) = expected
                    && expected != *period
                {
                    return Err(AccountingError::PeriodOutOfOrder {
                        period: *period,
                        expected,
                    }
                    .into());
                }
                let (mut events, remaining) = self.earnings(period.last_day())?;
                if remaining > 0 {
                    return Err(AccountingError::EarningsIncomplete {
                        period: *period,
                        last_day: period.last_day(),
                        charges: remaining + EARNED_CHARGES_PER_RUN_MAX,
                    }
                    .into());
                }
                events.push(TenantEvent::Accounting(AccountingEvent::PeriodClosed {
                    period: *period,
                    actor: context.actor.clone(),
                    at: context.issued_at,
                }));
                Ok(events)
            }
            AccountingCommand::DraftCommissionPayment {
                producer,
                amount,
                reason,
            } => self.draft_commission_payment(
                producer,
                *amount,
                reason,
                context,
                self.command_today(context),
            ),
            AccountingCommand::ApproveCommissionPayment { producer, payment } => self
                .approve_commission_payment(
                    producer,
                    payment,
                    context,
                    self.command_today(context),
                ),
            AccountingCommand::RejectCommissionPayment {
                producer,
                payment,
                reason,
            } => self.reject_commission_payment(
                producer,
                payment,
                reason,
                context,
                self.command_today(context),
            ),
            AccountingCommand::ExecuteCommissionPayment { producer, payment } => self
                .execute_commission_payment(
                    producer,
                    payment,
                    context,
                    self.command_today(context),
                ),
            AccountingCommand::ConfigureAgency {
                producer,
                statement_day,
            } => self.configure_agency(
                producer,
                *statement_day,
                context,
                self.command_today(context),
            ),
            AccountingCommand::ReceiveRemittance {
                producer,
                statement,
                amount,
                received_on,
                reference,
                allocations,
            } => {
                let today = self.command_today(context);
                self.receive_remittance(
                    producer,
                    *statement,
                    *amount,
                    received_on.unwrap_or(today),
                    reference,
                    allocations.as_deref(),
                    context,
                    today,
                )
            }
            AccountingCommand::UploadGlMapping { mapping } => {
                mapping.validate().map_err(AccountingError::from)?;
                let version = self.accounting.gl_mappings.len() as u32 + 1;
                Ok(vec![TenantEvent::Accounting(
                    AccountingEvent::GlMappingUploaded {
                        version,
                        mapping: mapping.clone(),
                        actor: context.actor.clone(),
                        at: context.issued_at,
                    },
                )])
            }
        }
    }

    /// An earnings run through the end of `as_of` (or of the latest run, if
    /// later): the run's events (the charges' deltas, at most
    /// [`EARNED_CHARGES_PER_EVENT_MAX`] an event), then one entry per product
    /// (or billing account, for flat premium on an account) and currency.
    /// At most [`EARNED_CHARGES_PER_RUN_MAX`] charges are earned in one run;
    /// the last event says how many are left, for the next run of the same
    /// day to earn.
    fn earnings(&self, as_of: NaiveDate) -> Result<(Vec<TenantEvent>, usize), EngineError> {
        let through = self
            .accounting
            .earned_through
            .map_or(as_of, |d| d.max(as_of));
        let mut earned = Vec::new();
        let mut remaining = 0;
        // Per (product or billing account, currency): the sum earned.
        let mut per_reference: BTreeMap<(String, Currency), Decimal> = BTreeMap::new();
        for premium in self.premium_charges() {
            if !premium.earnable || premium.written_on.is_none_or(|day| day > through) {
                continue;
            }
            let charge = premium.charge;
            let target = earned_through(
                charge.amount,
                charge.period,
                premium.basis,
                premium.mode,
                through,
            )
            .map_err(AccountingError::from)?;
            let posted = self
                .accounting
                .earned
                .get(&charge.locator)
                .copied()
                .unwrap_or_default();
            let delta = target.amount - posted;
            if delta.is_zero() {
                continue;
            }
            if earned.len() >= EARNED_CHARGES_PER_RUN_MAX {
                remaining += 1;
                continue;
            }
            let reference = premium
                .product
                .map_or_else(|| charge.account.clone(), str::to_string);
            *per_reference
                .entry((reference, charge.amount.currency))
                .or_default() += delta;
            earned.push(EarnedCharge {
                charge: charge.locator.clone(),
                policy: charge.policy.clone(),
                amount: Money::new(delta, charge.amount.currency),
            });
        }
        let mut chunks: Vec<Vec<EarnedCharge>> = Vec::new();
        let mut rest = earned.into_iter().peekable();
        while rest.peek().is_some() {
            chunks.push(rest.by_ref().take(EARNED_CHARGES_PER_EVENT_MAX).collect());
        }
        if chunks.is_empty() {
            chunks.push(Vec::new());
        }
        let last = chunks.len() - 1;
        let mut events: Vec<TenantEvent> = chunks
            .into_iter()
            .enumerate()
            .map(|(index, charges)| {
                TenantEvent::Accounting(AccountingEvent::PremiumEarned {
                    as_of: through,
                    charges,
                    remaining: if index == last { remaining } else { 0 },
                })
            })
            .collect();
        let mut next_id = self.ledger.next_id();
        for ((reference, currency), amount) in per_reference {
            let draft =
                postings::premium_earned(Money::new(amount, currency), through, &reference)?;
            if let Some(draft) = draft {
                let draft = draft.with_memo(format!("premium earned through {through}"));
                let entry = self.ledger.entry_for(Posting::Entry(draft), next_id)?;
                next_id = next_id.next();
                events.push(TenantEvent::Journal(entry));
            }
        }
        Ok((events, remaining))
    }

    /// Written, earned and unearned premium as of the end of `as_of`, by
    /// policy, product and currency: written is every premium charge written
    /// by then, earned what of each is earned through then (the formula of
    /// [`crate::billing::earned_through`], whether or not a run has posted
    /// it), unearned the difference.
    pub fn premium_report(&self, as_of: NaiveDate) -> Result<PremiumReport, EngineError> {
        type Key = (Option<String>, Option<String>, Currency);
        let mut rows: BTreeMap<Key, (Decimal, Decimal)> = BTreeMap::new();
        for premium in self.premium_charges() {
            if premium.written_on.is_none_or(|day| day > as_of) {
                continue;
            }
            let charge = premium.charge;
            let earned = earned_through(
                charge.amount,
                charge.period,
                premium.basis,
                premium.mode,
                as_of,
            )
            .map_err(AccountingError::from)?;
            let key = (
                charge.policy.clone(),
                premium.product.map(str::to_string),
                charge.amount.currency,
            );
            let row = rows.entry(key).or_default();
            row.0 += charge.amount.amount;
            row.1 += earned.amount;
        }
        let row =
            |(policy, product, currency): Key, (written, earned): (Decimal, Decimal)| PremiumRow {
                policy,
                product,
                currency,
                written: at_scale(written, currency),
                earned: at_scale(earned, currency),
                unearned: at_scale(written - earned, currency),
            };
        let mut products: BTreeMap<Key, (Decimal, Decimal)> = BTreeMap::new();
        let mut totals: BTreeMap<Key, (Decimal, Decimal)> = BTreeMap::new();
        for ((_, product, currency), (written, earned)) in &rows {
            for (map, key) in [
                (&mut products, (None, product.clone(), *currency)),
                (&mut totals, (None, None, *currency)),
            ] {
                let sum = map.entry(key).or_default();
                sum.0 += written;
                sum.1 += earned;
            }
        }
        Ok(PremiumReport {
            as_of,
            rows: rows.into_iter().map(|(k, v)| row(k, v)).collect(),
            products: products.into_iter().map(|(k, v)| row(k, v)).collect(),
            totals: totals.into_iter().map(|(k, v)| row(k, v)).collect(),
        })
    }

    /// A month with its state.
    pub fn period_view(&self, period: Month) -> PeriodView {
        let closed = self
            .accounting
            .closed
            .iter()
            .find(|closed| closed.period == period);
        let closed_through = self.ledger.closed_through();
        PeriodView {
            period,
            state: if closed_through.is_some_and(|day| period.last_day() <= day) {
                "closed"
            } else {
                "open"
            },
            first_day: period.first_day(),
            last_day: period.last_day(),
            closed_by: closed.map(|c| c.actor.clone()),
            closed_at: closed.map(|c| c.at),
        }
    }

    /// Every month from the first entry's (or first close's) to today's.
    pub fn periods(&self, today: NaiveDate) -> Vec<PeriodView> {
        let first = self
            .ledger
            .entries()
            .iter()
            .map(|e| Month::of(e.accounting_date()))
            .chain(self.accounting.closed.iter().map(|c| c.period))
            .min();
        let last = Month::of(today);
        let mut periods = Vec::new();
        let mut month = first.unwrap_or(last).min(last);
        loop {
            periods.push(self.period_view(month));
            if month >= last {
                break;
            }
            month = month.next();
        }
        periods
    }

    /// A month's trial balances: its activity and the balances at its end,
    /// per currency. A closed month's are the same forever (nothing is ever
    /// dated into it).
    pub fn period_detail(&self, period: Month) -> PeriodDetail {
        let currencies: Vec<Currency> = self.ledger.currencies().collect();
        PeriodDetail {
            period: self.period_view(period),
            currencies: currencies
                .into_iter()
                .map(|currency| PeriodBalances {
                    currency,
                    activity: self.ledger.trial_balance_between(
                        currency,
                        Some(period.first_day()),
                        period.last_day(),
                    ),
                    closing: self
                        .ledger
                        .trial_balance_between(currency, None, period.last_day()),
                })
                .filter(|b| !b.closing.rows.is_empty())
                .collect(),
        }
    }

    /// The product of each reference an entry may carry: products (earnings
    /// entries), policies, transactions and flat charges of policies.
    fn products_by_reference(&self) -> BTreeMap<&str, &str> {
        let mut products = BTreeMap::new();
        // Earnings entries reference their product.
        for name in self.book.products.keys() {
            products.insert(name.as_str(), name.as_str());
        }
        for policy in self.book.policies.values() {
            let product = policy.header.product.name.as_str();
            products.insert(policy.header.locator.as_str(), product);
            for transaction in &policy.transactions {
                products.insert(transaction.locator.as_str(), product);
            }
            for charge in &policy.charges {
                products.insert(charge.locator.as_str(), product);
            }
        }
        products
    }

    /// The journal lines of `period` (by accounting date) mapped to the
    /// insurer's GL accounts by the current mapping; refused naming the
    /// first account (with its product and currency) no row maps.
    pub fn gl_journal(&self, period: Month) -> Result<Vec<GlJournalLine>, AccountingError> {
        let mapping = &self
            .accounting
            .gl_mapping()
            .ok_or(GlMappingError::NoMapping)?
            .mapping;
        let products = self.products_by_reference();
        let (first, last) = (period.first_day(), period.last_day());
        let mut lines = Vec::new();
        for entry in self.ledger.entries() {
            let day = entry.accounting_date();
            if day < first || day > last {
                continue;
            }
            // A contra entry belongs to the product of the entry it reverses.
            let reference = entry
                .reverses
                .and_then(|original| self.ledger.entry(original))
                .map_or(entry.reference.as_str(), |original| {
                    original.reference.as_str()
                });
            let product = products.get(reference).copied();
            for (index, line) in entry.lines.iter().enumerate() {
                let gl_account =
                    mapping.gl_account(line.account.account, product, entry.currency)?;
                let signed = line.debit_amount();
                let zero = at_scale(Decimal::ZERO, entry.currency);
                lines.push(GlJournalLine {
                    period: period.to_string(),
                    entry_id: entry.id,
                    accounting_date: day,
                    posted_on: entry.posted_on,
                    kind: entry.kind,
                    reference: entry.reference.clone(),
                    line: index,
                    currency: entry.currency,
                    gl_account: gl_account.to_string(),
                    account: line.account.account,
                    product: product.map(str::to_string),
                    subledger: line.account.subledger.clone(),
                    debit: if signed.is_sign_positive() {
                        line.amount
                    } else {
                        zero
                    },
                    credit: if signed.is_sign_positive() {
                        zero
                    } else {
                        line.amount
                    },
                });
            }
        }
        Ok(lines)
    }
}

/// `value` at the currency's minor-unit scale (`0` -> `0.00`).
pub(super) fn at_scale(mut value: Decimal, currency: Currency) -> Decimal {
    let scale = currency.minor_unit_scale();
    if value.scale() < scale {
        value.rescale(scale);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_reads_and_writes_as_yyyy_mm_and_knows_its_days() {
        let month: Month = "2026-02".parse().unwrap();
        assert_eq!(month.to_string(), "2026-02");
        assert_eq!(month.last_day(), "2026-02-28".parse::<NaiveDate>().unwrap());
        assert_eq!(month.next().to_string(), "2026-03");
        assert_eq!(
            "2026-12".parse::<Month>().unwrap().next().to_string(),
            "2027-01"
        );
        for bad in ["2026-13", "2026-1", "26-01", "2026/01", ""] {
            assert_eq!(
                bad.parse::<Month>().unwrap_err().code(),
                "invalid_period",
                "{bad}"
            );
        }
        let json = serde_json::to_string(&month).unwrap();
        assert_eq!(json, "\"2026-02\"");
        assert_eq!(serde_json::from_str::<Month>(&json).unwrap(), month);
    }
}
