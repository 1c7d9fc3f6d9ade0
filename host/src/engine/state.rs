//! The state of one tenant: its policy book and its ledger, driven by
//! commands into events. Pure: the durable log is layered on top by
//! [`super::Engine`].
//!
//! Every financial event posts one balanced journal entry: a transaction's
//! charges (and flat charges added by hand) post through
//! [`postings::charges_written`], dated on the day the transaction was issued
//! in the policy's time zone; billing events post what
//! [`crate::collections::CollectionsEvent::posting`] says.

use super::accounting::{Accounting, AccountingError, AccountingEvent};
use super::auto_bind::{BindingEvent, PendingTransactions};
use super::clock::{ClockError, ClockEvent, TenantClock, wall_today};
use super::command::EngineCommand;
use super::shadow_report::{ShadowError, ShadowRecord, ShadowReports};
use crate::collections::{
    AdjusterDates, Collections, CollectionsError, CollectionsEvent, InvoiceAdjuster,
    NoInvoicingPlugins,
};
use crate::config::{ConfigError, ConfigEvent, ConfigState};
use crate::domain::{Currency, ErrorKind, local_date, parse_time_zone};
use crate::keys::{ApiKeys, KeyError, KeyEvent};
use crate::ledger::{
    EntryDraft, EntryId, JournalEntry, Ledger, LedgerAccount, LedgerError, Posting, Side, postings,
};
use crate::payments::{PaymentError, PaymentEvent, Payments};
use crate::policy::{
    BookEvent, Charge, CommandContext, PolicyBook, PolicyCommand, PolicyError, RaterResolver,
};
use crate::store::{BalanceLine, PAYLOAD_BYTES_MAX};
use crate::webhooks::{WebhookEndpoints, WebhookError, WebhookEvent};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// An event of a tenant's log.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantEvent {
    Book(BookEvent),
    Journal(JournalEntry),
    Collections(CollectionsEvent),
    /// A test tenant's clock started or moved.
    Clock(ClockEvent),
    /// An API key was created, rotated or revoked.
    Keys(KeyEvent),
    /// A plugin, rate table, activation or external rater recorded.
    Config(ConfigEvent),
    /// A product's challenger answered beside its champion (shadow rating).
    Shadow(ShadowRecord),
    /// A transaction held, bound or expired by automatic binding.
    Binding(BindingEvent),
    /// A webhook endpoint created, changed, disabled, enabled, given a new
    /// secret or deleted.
    Webhooks(WebhookEvent),
    /// An earnings run, a closed month or a GL mapping uploaded.
    Accounting(AccountingEvent),
    /// A payment method, autopay, the processor or a collection attempt.
    Payments(PaymentEvent),
}

impl TenantEvent {
    /// The stable kind stored with the event.
    pub fn kind(&self) -> &'static str {
        match self {
            TenantEvent::Book(BookEvent::ProductDeployed { .. }) => "product_deployed",
            TenantEvent::Book(BookEvent::AccountCreated { .. }) => "account_created",
            TenantEvent::Book(BookEvent::TransactionIssued { .. }) => "transaction_issued",
            TenantEvent::Book(BookEvent::FlatChargeAdded { .. }) => "flat_charge_added",
            TenantEvent::Book(BookEvent::PlanChanged { .. }) => "plan_changed",
            TenantEvent::Book(BookEvent::NonRenewed { .. }) => "policy_non_renewed",
            TenantEvent::Book(BookEvent::PolicySystemNotified { .. }) => "policy_system_notified",
            TenantEvent::Journal(_) => "journal_entry_posted",
            TenantEvent::Collections(event) => event.kind(),
            TenantEvent::Clock(event) => event.kind(),
            TenantEvent::Config(event) => event.kind(),
            TenantEvent::Keys(event) => event.kind(),
            TenantEvent::Shadow(_) => "shadow_rated",
            TenantEvent::Binding(event) => event.kind(),
            TenantEvent::Webhooks(event) => event.kind(),
            TenantEvent::Accounting(event) => event.kind(),
            TenantEvent::Payments(event) => event.kind(),
        }
    }

    /// What the event is about, for filtering the feed: `configuration`
    /// (products, tenant billing settings, API keys), `policy` (accounts,
    /// transactions, flat charges, plan changes), `billing` (collections),
    /// `ledger` (journal entries), `clock` or `rating` (shadow rating).
    pub fn category(&self) -> &'static str {
        match self {
            TenantEvent::Book(BookEvent::ProductDeployed { .. }) => "configuration",
            TenantEvent::Book(_) => "policy",
            TenantEvent::Journal(_) => "ledger",
            TenantEvent::Collections(CollectionsEvent::BillingConfigured { .. }) => "configuration",
            TenantEvent::Collections(_) => "billing",
            TenantEvent::Clock(_) => "clock",
            TenantEvent::Keys(_) => "configuration",
            TenantEvent::Config(_) => "configuration",
            TenantEvent::Shadow(_) => "rating",
            TenantEvent::Binding(_) => "policy",
            TenantEvent::Webhooks(_) => "configuration",
            TenantEvent::Accounting(event) => event.category(),
            TenantEvent::Payments(event) => event.category(),
        }
    }

    /// What the event adds to the store's balance projection (the debit and
    /// credit totals per ledger account, currency and subledger that a
    /// PostgreSQL store keeps beside the log): one line per journal line of
    /// a journal entry, none for any other event. The engine hands these to
    /// the store with the event, so the store never reads an event's kind or
    /// JSON.
    ///
    /// Example: an entry of Dr `cash` 100.05 / Cr `premium_receivable_billed`
    /// (subledger `A-1`) 100.05 in USD gives `("cash", "USD", "", 100.05, 0)`
    /// and `("premium_receivable_billed", "USD", "A-1", 0, 100.05)`.
    pub fn balance_lines(&self) -> Vec<BalanceLine> {
        let TenantEvent::Journal(entry) = self else {
            return Vec::new();
        };
        entry
            .lines
            .iter()
            .map(|line| {
                let (debit, credit) = match line.side {
                    Side::Debit => (line.amount, Decimal::ZERO),
                    Side::Credit => (Decimal::ZERO, line.amount),
                };
                BalanceLine {
                    account: line.account.account.code().to_string(),
                    currency: line.account.currency.code().to_string(),
                    subledger: line.account.subledger.clone().unwrap_or_default(),
                    debit,
                    credit,
                }
            })
            .collect()
    }

    /// The stream the event belongs to (`policy/<locator>`, `account/<locator>`,
    /// `product/<name>`, `ledger`, `billing` for the tenant's settings,
    /// `clock`, `api-key/<id>`, `shadow/<product>`).
    pub fn stream(&self) -> String {
        match self {
            TenantEvent::Book(BookEvent::ProductDeployed { product }) => {
                format!("product/{}", product.name)
            }
            TenantEvent::Book(BookEvent::AccountCreated { account }) => {
                format!("account/{}", account.locator)
            }
            TenantEvent::Book(BookEvent::TransactionIssued { record }) => {
                format!("policy/{}", record.policy)
            }
            TenantEvent::Book(BookEvent::FlatChargeAdded { charge }) => match &charge.policy {
                Some(policy) => format!("policy/{policy}"),
                None => format!("account/{}", charge.account),
            },
            TenantEvent::Book(
                BookEvent::PlanChanged { policy, .. }
                | BookEvent::NonRenewed { policy, .. }
                | BookEvent::PolicySystemNotified { policy, .. },
            ) => format!("policy/{policy}"),
            TenantEvent::Journal(_) => "ledger".to_string(),
            TenantEvent::Collections(event) => match event.account() {
                Some(account) => format!("account/{account}"),
                None => "billing".to_string(),
            },
            TenantEvent::Clock(_) => "clock".to_string(),
            TenantEvent::Keys(event) => format!("api-key/{}", event.key()),
            TenantEvent::Config(event) => event.stream(),
            TenantEvent::Shadow(record) => format!("shadow/{}", record.product),
            TenantEvent::Binding(event) => format!("account/{}", event.account()),
            TenantEvent::Webhooks(event) => format!("webhook-endpoint/{}", event.endpoint()),
            TenantEvent::Accounting(_) => "accounting".to_string(),
            TenantEvent::Payments(event) => event.stream(),
        }
    }
}

/// Refuses, before anything is stored or shown as a preview, events larger
/// than the store keeps ([`PAYLOAD_BYTES_MAX`]): the same answer for a
/// preview and a commit, a 4xx naming the limit, never a retryable 503. Only
/// events with many charges or slices are measured (a small one is far
/// below the limit), so quotes pay nothing for it.
pub(crate) fn check_event_sizes(events: &[TenantEvent]) -> Result<(), EngineError> {
    /// Below this many charges and slices an event cannot reach the limit.
    const MEASURED_ITEMS_MIN: usize = 1_000;
    for event in events {
        let items = match event {
            TenantEvent::Book(BookEvent::TransactionIssued { record }) => {
                record.charges.len() + record.slices.len()
            }
            TenantEvent::Book(BookEvent::PlanChanged {
                withdrawn, slices, ..
            }) => withdrawn.len() + slices.len(),
            _ => 0,
        };
        if items < MEASURED_ITEMS_MIN {
            continue;
        }
        let bytes = serde_json::to_vec(event)
            .map(|b| b.len())
            .unwrap_or(usize::MAX);
        if bytes > PAYLOAD_BYTES_MAX {
            return Err(EngineError::TooLarge {
                what: "event payload bytes",
                limit: PAYLOAD_BYTES_MAX,
                actual: bytes,
            });
        }
    }
    Ok(())
}

/// Why a command failed in the engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("store: {0}")]
    Store(String),
    /// The command's effect is larger than the log keeps: not retryable.
    #[error("{what} {actual} is over the limit of {limit}")]
    TooLarge {
        what: &'static str,
        limit: usize,
        actual: usize,
    },
    #[error("the event log is inconsistent: {0}")]
    Corrupt(String),
    #[error("idempotency key {0} was used for a different request")]
    IdempotencyConflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error(transparent)]
    Billing(#[from] CollectionsError),
    #[error(transparent)]
    Clock(#[from] ClockError),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Shadow(#[from] ShadowError),
    #[error(transparent)]
    Webhooks(#[from] WebhookError),
    #[error(transparent)]
    Accounting(#[from] AccountingError),
    #[error(transparent)]
    Payments(#[from] PaymentError),
    /// A held transaction (automatic binding) on an account billing does
    /// not know: create the account first.
    #[error("automatic binding holds transactions of known accounts only: no billing account {0}")]
    AutoBindUnknownAccount(String),
    /// An amount that came in with more decimal places than its currency.
    #[error("{what} {source}")]
    InvalidAmount {
        what: &'static str,
        source: crate::domain::MoneyError,
    },
}

impl EngineError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Policy(error) => error.code(),
            EngineError::Ledger(_) => "ledger_refused",
            EngineError::Store(_) => "store_unavailable",
            EngineError::TooLarge { .. } => "too_large",
            EngineError::Corrupt(_) => "internal",
            EngineError::IdempotencyConflict(_) => "idempotency_conflict",
            EngineError::NotFound(_) => "not_found",
            EngineError::Billing(error) => error.code(),
            EngineError::Clock(error) => error.code(),
            EngineError::Keys(error) => error.code(),
            EngineError::Config(error) => error.code(),
            EngineError::Webhooks(error) => error.code(),
            EngineError::Payments(error) => error.code(),
            EngineError::Shadow(error) => error.code(),
            EngineError::Accounting(error) => error.code(),
            EngineError::InvalidAmount { .. } => "invalid_amount",
            EngineError::AutoBindUnknownAccount(_) => "auto_bind_unknown_account",
        }
    }

    /// How the error is answered: each module's error says for its own
    /// variants; a ledger refusal or an inconsistent log is Premia's fault,
    /// a store that failed may work again later.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Policy(error) => error.kind(),
            EngineError::Ledger(_) | EngineError::Corrupt(_) => ErrorKind::Internal,
            EngineError::Store(_) => ErrorKind::Unavailable,
            EngineError::TooLarge { .. } => ErrorKind::TooLarge,
            EngineError::IdempotencyConflict(_) => ErrorKind::Conflict,
            EngineError::NotFound(_) => ErrorKind::NotFound,
            EngineError::Billing(error) => error.kind(),
            EngineError::Clock(error) => error.kind(),
            EngineError::Keys(error) => error.kind(),
            EngineError::Config(error) => error.kind(),
            EngineError::Shadow(error) => error.kind(),
            EngineError::Webhooks(error) => error.kind(),
            EngineError::Accounting(error) => error.kind(),
            EngineError::Payments(error) => error.kind(),
            EngineError::InvalidAmount { .. } | EngineError::AutoBindUnknownAccount(_) => {
                ErrorKind::Invalid
            }
        }
    }
}

/// A tenant's book, ledger and billing state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TenantState {
    pub book: PolicyBook,
    pub ledger: Ledger,
    pub collections: Collections,
    /// A test tenant's own clock (none for a normal tenant).
    pub clock: TenantClock,
    /// Events applied so far (only a tenant with none can become a test
    /// tenant).
    pub events_applied: u64,
    /// The tenant's API keys (ids, roles, labels; never secrets).
    pub keys: ApiKeys,
    /// Plugins, rate tables, active versions and external raters.
    pub config: ConfigState,
    /// Each product's shadow rating report.
    pub shadow: ShadowReports,
    /// Transactions held by automatic binding.
    pub pending: PendingTransactions,
    /// Webhook endpoints.
    pub webhooks: WebhookEndpoints,
    /// Earnings runs, closed months and GL mappings.
    pub accounting: Accounting,
    /// Payment methods, autopay, the processor and collection attempts.
    pub payments: Payments,
}

impl TenantState {
    pub fn new(tenant: &str) -> Result<Self, EngineError> {
        Ok(TenantState {
            book: PolicyBook::new(),
            ledger: Ledger::new(tenant)?,
            collections: Collections::new(),
            clock: TenantClock::default(),
            events_applied: 0,
            keys: ApiKeys::default(),
            config: ConfigState::default(),
            shadow: ShadowReports::default(),
            pending: PendingTransactions::default(),
            webhooks: WebhookEndpoints::default(),
            accounting: Accounting::default(),
            payments: Payments::default(),
        })
    }

    /// The tenant's today at `now`: a test tenant's clock, or for a normal
    /// tenant the latest local date of UTC and of its policies' time zones
    /// (see [`super::clock`]).
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        match self.clock.test_today {
            Some(today) => today,
            None => wall_today(
                now,
                self.book
                    .policies
                    .values()
                    .map(|p| p.header.time_zone.as_str()),
            ),
        }
    }

    /// The date a billing run asked `up_to` (or, without one, today) runs
    /// to at `now`; a date past today is refused with
    /// [`ClockError::RunInTheFuture`]. Every run and run preview of the
    /// engine asks here.
    pub fn run_date(
        &self,
        up_to: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<NaiveDate, EngineError> {
        let today = self.today(now);
        match up_to {
            Some(up_to) if up_to > today => Err(ClockError::RunInTheFuture { up_to, today }.into()),
            Some(up_to) => Ok(up_to),
            None => Ok(today),
        }
    }

    /// The events of `command`, with no invoicing plugins (see
    /// [`TenantState::decide_with`]).
    pub fn decide(
        &self,
        command: &EngineCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        self.decide_with(command, context, raters, &NoInvoicingPlugins)
    }

    /// The events of `command`: the book's and billing system's events, each
    /// followed by the journal entry it posts (numbered as the ledger will
    /// number them). Raters and invoicing plugins are called only here.
    pub fn decide_with(
        &self,
        command: &EngineCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        self.check_received_amounts(command)?;
        let events = match command {
            EngineCommand::Policy(command) => {
                self.check_agency_bind(command)?;
                let events = self.decide_policy_full(command, context, raters, adjuster)?;
                match self.hold(command, context, &events)? {
                    Some(pending) => vec![pending],
                    None => events,
                }
            }
            EngineCommand::Billing(command) => {
                let mut events = self.decide_billing(command, context, raters, adjuster)?;
                events.extend(self.confirmation_notices(&events));
                if let crate::collections::BillingCommand::RecordPayment {
                    account,
                    amount,
                    received_on,
                    ..
                } = command
                {
                    let bound = self.bind_covered(
                        account,
                        *amount,
                        *received_on,
                        &events,
                        context,
                        raters,
                        adjuster,
                    )?;
                    events.extend(bound);
                }
                events
            }
            EngineCommand::Clock(command) => {
                let fresh = self.events_applied == 0;
                vec![TenantEvent::Clock(self.clock.decide(command, fresh)?)]
            }
            EngineCommand::Keys(command) => vec![TenantEvent::Keys(self.keys.decide(
                command,
                &context.actor,
                context.issued_at,
            )?)],
            EngineCommand::Config(command) => {
                // A version that has rated a term is immutable: its tables
                // too (DOMAIN section 9).
                if let crate::config::ConfigCommand::AttachRateTable { name, version, .. } = command
                    && self.book.version_has_rated(name, version)
                {
                    return Err(EngineError::Config(
                        crate::config::ConfigError::VersionInUse {
                            name: name.clone(),
                            version: version.clone(),
                        },
                    ));
                }
                let today = context
                    .today
                    .unwrap_or_else(|| context.issued_at.date_naive());
                self.config
                    .decide(command, &context.actor, context.issued_at, today)?
                    .into_iter()
                    .map(TenantEvent::Config)
                    .collect()
            }
            EngineCommand::Shadow(record) => {
                vec![TenantEvent::Shadow(self.shadow.decide(record, &self.book)?)]
            }
            EngineCommand::Webhooks(command) => vec![TenantEvent::Webhooks(self.webhooks.decide(
                command,
                &context.actor,
                context.issued_at,
                self.events_applied,
            )?)],
            EngineCommand::Accounting(command) => self.decide_accounting(command, context)?,
            EngineCommand::Payments(command) => {
                self.decide_payments(command, context, raters, adjuster)?
            }
        };
        check_event_sizes(&events)?;
        Ok(events)
    }

    /// The events of a policy command bound now: the book's events and their
    /// journal entries, the invoices of charges billed at once, the
    /// delinquencies a reinstatement closes and the confirmation notices.
    pub(super) fn decide_policy_full(
        &self,
        command: &PolicyCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let mut events =
            self.decide_policy(command, context, raters, adjuster, self.ledger.next_id())?;
        let next_id = EntryId(self.ledger.next_id().0 + journal_count(&events));
        events.extend(self.invoice_new_charges(&events, context, adjuster, next_id)?);
        let next_id = EntryId(self.ledger.next_id().0 + journal_count(&events));
        events.extend(self.close_reinstated_delinquencies(&events, context, adjuster, next_id)?);
        events.extend(self.confirmation_notices(&events));
        Ok(events)
    }

    /// The notices to the policy system of the terms `events` confirm, for
    /// policies bound with `notify_upon_sufficient_payment` (seed 002:
    /// "BillingCenter notifies PolicyCenter that sufficient payment has been
    /// received").
    fn confirmation_notices(&self, events: &[TenantEvent]) -> Vec<TenantEvent> {
        events
            .iter()
            .filter_map(|event| match event {
                TenantEvent::Collections(CollectionsEvent::TermConfirmed {
                    policy,
                    term,
                    invoice,
                    on,
                    ..
                }) => {
                    // The policy's header: in the book, or opened by these
                    // very events (a bind paid at once).
                    let opened = events.iter().find_map(|e| match e {
                        TenantEvent::Book(BookEvent::TransactionIssued { record }) => {
                            record.opened.as_ref().filter(|h| &h.locator == policy)
                        }
                        _ => None,
                    });
                    let header = match self.book.policies.get(policy) {
                        Some(state) => &state.header,
                        None => opened?,
                    };
                    (header.confirmation_notification
                        == crate::policy::ConfirmationNotification::NotifyUponSufficientPayment)
                        .then(|| {
                            TenantEvent::Book(BookEvent::PolicySystemNotified {
                                policy: policy.clone(),
                                term: *term,
                                invoice: invoice.clone(),
                                on: *on,
                            })
                        })
                }
                _ => None,
            })
            .collect()
    }

    /// The events of a policy command: the book's events, then the journal
    /// entries they post, the first numbered `first_id`. Installments are
    /// dated by the product's invoicing plugin through `adjuster`.
    pub(super) fn decide_policy(
        &self,
        command: &PolicyCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
        first_id: EntryId,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        // What billing has not yet invoiced decides which installments a
        // transaction may still net and level again.
        let mut context = context.clone();
        if context.pending_slices.is_none() {
            context.pending_slices = Some(Arc::new(self.pending_slices(command)));
        }
        let context = &context;
        let book_events =
            self.book
                .decide_dated(command, context, raters, &AdjusterDates(adjuster))?;
        let mut events = Vec::with_capacity(book_events.len() * 2);
        let mut next_id = first_id;
        for event in book_events {
            let draft = self.posting(&event, context)?;
            events.push(TenantEvent::Book(event));
            if let Some(draft) = draft {
                let entry = self.ledger.entry_for(Posting::Entry(draft), next_id)?;
                next_id = next_id.next();
                events.push(TenantEvent::Journal(entry));
            }
        }
        Ok(events)
    }

    /// The slices still waiting to be invoiced of the policy a command
    /// transacts on, by policy.
    fn pending_slices(
        &self,
        command: &PolicyCommand,
    ) -> BTreeMap<String, std::collections::BTreeSet<u32>> {
        let policy = match command {
            PolicyCommand::Endorse { policy, .. }
            | PolicyCommand::Renew { policy, .. }
            | PolicyCommand::Cancel { policy, .. }
            | PolicyCommand::Reinstate { policy, .. }
            | PolicyCommand::Reverse { policy, .. } => policy,
            _ => return BTreeMap::new(),
        };
        let Some(account) = self
            .book
            .policies
            .get(policy)
            .and_then(|p| self.collections.accounts.get(&p.header.account))
        else {
            return BTreeMap::new();
        };
        let pending = account
            .pending_slices
            .iter()
            .filter(|s| &s.policy == policy)
            .map(|s| s.index)
            .collect();
        BTreeMap::from([(policy.clone(), pending)])
    }

    /// The journal entry a book event posts, if any.
    fn posting(
        &self,
        event: &BookEvent,
        context: &CommandContext,
    ) -> Result<Option<EntryDraft>, EngineError> {
        let mut agency: Option<&str> = None;
        let (account, charges, reference, zone): (&str, Vec<&Charge>, String, Option<&str>) =
            match event {
                BookEvent::TransactionIssued { record } => {
                    agency = record
                        .opened
                        .as_ref()
                        .or_else(|| self.book.policies.get(&record.policy).map(|p| &p.header))
                        .and_then(|h| h.agency());
                    let zone = record
                        .opened
                        .as_ref()
                        .map(|h| h.time_zone.as_str())
                        .or_else(|| {
                            self.book
                                .policies
                                .get(&record.policy)
                                .map(|p| p.header.time_zone.as_str())
                        });
                    let account = record
                        .opened
                        .as_ref()
                        .map(|h| h.account.as_str())
                        .or_else(|| {
                            self.book
                                .policies
                                .get(&record.policy)
                                .map(|p| p.header.account.as_str())
                        })
                        .ok_or_else(|| {
                            EngineError::Corrupt(format!("no account for policy {}", record.policy))
                        })?;
                    (
                        account,
                        record.charges.iter().collect(),
                        record.transaction.locator.clone(),
                        zone,
                    )
                }
                BookEvent::FlatChargeAdded { charge } => {
                    let zone = charge
                        .policy
                        .as_ref()
                        .and_then(|p| self.book.policies.get(p))
                        .map(|p| p.header.time_zone.as_str());
                    (
                        charge.account.as_str(),
                        vec![charge],
                        charge.locator.clone(),
                        zone,
                    )
                }
                _ => return Ok(None),
            };
        let posted_on: NaiveDate = match (context.today, zone.map(parse_time_zone)) {
            // A test tenant's charges are posted on its clock's day.
            (Some(today), _) => today,
            (None, Some(Ok(zone))) => local_date(context.issued_at, zone),
            _ => context.issued_at.date_naive(),
        };
        let lines: Vec<_> = charges
            .iter()
            .map(|c| (c.category, c.amount, c.recipient.as_deref()))
            .collect();
        let draft = postings::charges_written_to(account, &lines, posted_on, &reference)?;
        // Agency bill ([E11]): the producer of record owes the receivable.
        Ok(match agency {
            Some(producer) => draft.map(|d| postings::agency_billed(d, producer)),
            None => draft,
        })
    }

    /// Applies an event; an event that does not apply means the log is corrupt.
    pub fn apply(&mut self, event: &TenantEvent) -> Result<(), EngineError> {
        self.events_applied += 1;
        match event {
            TenantEvent::Book(event) => {
                self.collections.follow_book(event, &self.book);
                self.book.apply(event);
                Ok(())
            }
            TenantEvent::Collections(event) => {
                self.collections.apply(event);
                Ok(())
            }
            TenantEvent::Clock(event) => {
                self.clock.apply(event);
                Ok(())
            }
            TenantEvent::Keys(event) => {
                self.keys.apply(event);
                Ok(())
            }
            TenantEvent::Config(event) => {
                self.config.apply(event);
                Ok(())
            }
            TenantEvent::Shadow(record) => {
                self.shadow.apply(record);
                Ok(())
            }
            TenantEvent::Binding(event) => {
                self.pending.apply(event);
                Ok(())
            }
            TenantEvent::Webhooks(event) => {
                self.webhooks.apply(event);
                Ok(())
            }
            TenantEvent::Payments(event) => {
                self.payments.apply(event);
                Ok(())
            }
            TenantEvent::Journal(entry) => {
                self.accounting.follow_journal(entry);
                self.ledger
                    .apply(entry.clone())
                    .map(drop)
                    .map_err(|e| EngineError::Corrupt(e.to_string()))
            }
            TenantEvent::Accounting(event) => {
                if let AccountingEvent::PeriodClosed { period, .. } = event {
                    self.ledger
                        .close_through(period.last_day())
                        .map_err(|e| EngineError::Corrupt(e.to_string()))?;
                }
                self.accounting.apply(event);
                Ok(())
            }
        }
    }

    /// Decides and applies a command, with no invoicing plugins.
    pub fn execute(
        &mut self,
        command: &EngineCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        self.execute_with(command, context, raters, &NoInvoicingPlugins)
    }

    /// Decides and applies a command.
    pub fn execute_with(
        &mut self,
        command: &EngineCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let events = self.decide_with(command, context, raters, adjuster)?;
        for event in &events {
            self.apply(event)?;
        }
        Ok(events)
    }

    /// Accounts whose billed receivable differs from what their open invoices
    /// still owe, with both amounts; empty when the invariant holds.
    pub fn receivable_mismatches(
        &self,
    ) -> Vec<(String, rust_decimal::Decimal, rust_decimal::Decimal)> {
        self.collections
            .accounts
            .values()
            .filter_map(|account| {
                let billed = self.ledger.balance_of(
                    LedgerAccount::PremiumReceivableBilled,
                    account.currency,
                    Some(&account.locator),
                );
                let open = account.open_balance();
                (billed != open).then(|| (account.locator.clone(), billed, open))
            })
            .collect()
    }

    /// Whether every currency's trial balance is zero.
    pub fn trial_balances_are_zero(&self) -> bool {
        let currencies: Vec<Currency> = self.ledger.currencies().collect();
        currencies
            .into_iter()
            .all(|c| self.ledger.trial_balance(c).is_balanced())
    }
}

/// The number of journal entries among `events`.
pub(super) fn journal_count(events: &[TenantEvent]) -> u64 {
    events
        .iter()
        .filter(|e| matches!(e, TenantEvent::Journal(_)))
        .count() as u64
}
