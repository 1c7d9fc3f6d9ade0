//! Billing commands in the engine: each is decided by the billing system
//! ([`Decider`]) on the current book and ledger, and every financial event is
//! followed by its journal entry. The engine adds what needs the policy book:
//!
//! - a lapse is a `PolicyCommand::Cancel` decided on the current book,
//!   effective the day after grace ends, issued "by the billing run" at noon of
//!   the run's day in the policy's time zone; its credits flow into the
//!   following invoices (the run is resumed by the next command);
//! - charges a policy command books are billed at once when seed 001 says so
//!   (`immediate` ones, `next` ones with no installment left).
//!
//! A billing run is one command per account ([`BillingCommand::RunAccount`]),
//! repeated while it has more to do (after a lapse, or when a decision is
//! full); each is idempotent, so a run interrupted anywhere is resumed by
//! running the same date again.

use super::command::EngineCommand;
use super::state::{EngineError, TenantEvent, TenantState, journal_count};
use crate::collections::{AUTOMATIC_BILLING_OFF, HoldKind};
use crate::collections::{
    AdjusterDates, BillingCommand, CollectionsError, CollectionsEvent, Decided, Decider,
    Delinquency, Fee, Invoice, InvoiceAdjuster, LapseCancellation, RunOutcome, WriteOff,
    change_plan, has_run_work,
};
use crate::domain::Money;
use crate::domain::{local_date, parse_time_zone};
use crate::ledger::{EntryId, JournalEntry, LedgerError};
use crate::policy::{
    BookEvent, CancellationReason, Charge, CommandContext, PolicyCommand, PolicyError,
    RaterResolver, Transaction, is_spread,
};
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The most commands one account's billing run may take (one more per lapse).
pub const RUN_COMMANDS_PER_ACCOUNT_MAX: usize = 1_000;

/// Who issues lapse cancellations (defined with delinquencies).
pub use crate::collections::LAPSE_ACTOR;

/// What a billing run did.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillingRunReport {
    pub up_to: NaiveDate,
    /// Accounts looked at.
    pub accounts: usize,
    /// Accounts that had something to do.
    pub accounts_billed: usize,
    /// Commands made (durable ones, through the engine service).
    pub commands: usize,
    pub events: usize,
    /// Accounts whose run failed, with why; the others are billed regardless.
    #[schema(value_type = Vec<Vec<String>>)]
    pub failures: Vec<(String, String)>,
}

impl BillingRunReport {
    pub fn new(up_to: NaiveDate) -> Self {
        BillingRunReport {
            up_to,
            accounts: 0,
            accounts_billed: 0,
            commands: 0,
            events: 0,
            failures: Vec::new(),
        }
    }
}

/// What a billing run would do, from the events it would append: the run
/// made on a copy of the tenant's state, nothing kept
/// ([`crate::engine::Engine::preview_billing_run`]).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillingRunPreview {
    /// Always true: nothing was kept.
    pub preview: bool,
    pub up_to: NaiveDate,
    /// The report the run would answer.
    pub report: BillingRunReport,
    /// Invoices it would issue, with their items, dates and due dates.
    pub invoices: Vec<Invoice>,
    /// Invoices it would mark past due.
    pub past_due: Vec<PastDue>,
    /// Delinquencies it would start.
    pub delinquencies: Vec<Delinquency>,
    /// Delinquencies whose grace would end unpaid: the policies cancelled and
    /// from when.
    pub lapses: Vec<LapsePreview>,
    /// The policy transactions it would issue (lapse cancellations), with
    /// their effective dates.
    pub transactions: Vec<Transaction>,
    /// Write-offs it would make (under the small-balance threshold).
    pub write_offs: Vec<WriteOff>,
    /// Approved disbursements it would execute.
    pub disbursements: Vec<DisbursementPreview>,
    /// Fees it would book (late fees, invoicing-plugin fees).
    pub fees: Vec<Fee>,
    /// Journal entries it would post.
    pub journal_entries: Vec<JournalEntry>,
    /// Every event, in order, exactly as the run would append them.
    pub events: Vec<TenantEvent>,
}

/// An invoice a run would mark past due.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PastDue {
    pub account: String,
    pub invoice: String,
    pub on: NaiveDate,
}

/// A lapse a run would make.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LapsePreview {
    pub account: String,
    pub delinquency: String,
    /// The run's day.
    pub on: NaiveDate,
    /// The day the policies are cancelled from (the day after grace ends).
    pub effective: NaiveDate,
    pub cancellations: Vec<LapseCancellation>,
}

/// A disbursement a run would execute.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisbursementPreview {
    pub account: String,
    pub disbursement: String,
    pub amount: Money,
    pub on: NaiveDate,
}

impl BillingRunPreview {
    /// The preview of a run that reported `report` and applied `events`.
    pub fn new(report: BillingRunReport, events: Vec<TenantEvent>) -> Self {
        use CollectionsEvent as E;
        let mut preview = BillingRunPreview {
            preview: true,
            up_to: report.up_to,
            report,
            invoices: Vec::new(),
            past_due: Vec::new(),
            delinquencies: Vec::new(),
            lapses: Vec::new(),
            transactions: Vec::new(),
            write_offs: Vec::new(),
            disbursements: Vec::new(),
            fees: Vec::new(),
            journal_entries: Vec::new(),
            events: Vec::new(),
        };
        for event in &events {
            match event {
                TenantEvent::Collections(E::InvoiceIssued { invoice }) => {
                    preview.invoices.push(invoice.clone())
                }
                TenantEvent::Collections(E::InvoicePastDue {
                    account,
                    invoice,
                    on,
                }) => preview.past_due.push(PastDue {
                    account: account.clone(),
                    invoice: invoice.clone(),
                    on: *on,
                }),
                TenantEvent::Collections(E::DelinquencyStarted { delinquency }) => {
                    preview.delinquencies.push(delinquency.clone())
                }
                TenantEvent::Collections(E::DelinquencyLapsed {
                    account,
                    delinquency,
                    on,
                    effective,
                    cancellations,
                }) => preview.lapses.push(LapsePreview {
                    account: account.clone(),
                    delinquency: delinquency.clone(),
                    on: *on,
                    effective: *effective,
                    cancellations: cancellations.clone(),
                }),
                TenantEvent::Book(BookEvent::TransactionIssued { record }) => {
                    preview.transactions.push(record.transaction.clone())
                }
                TenantEvent::Collections(E::WrittenOff { write_off }) => {
                    preview.write_offs.push(write_off.clone())
                }
                TenantEvent::Collections(E::DisbursementExecuted {
                    account,
                    disbursement,
                    amount,
                    on,
                    ..
                }) => preview.disbursements.push(DisbursementPreview {
                    account: account.clone(),
                    disbursement: disbursement.clone(),
                    amount: *amount,
                    on: *on,
                }),
                TenantEvent::Collections(E::FeesCharged { fees, .. }) => {
                    preview.fees.extend(fees.iter().cloned())
                }
                TenantEvent::Journal(entry) => preview.journal_entries.push(entry.clone()),
                _ => {}
            }
        }
        preview.events = events;
        preview
    }
}

/// Charges billed whole (not spread over installments).
fn billed_whole(charges: &[Charge]) -> impl Iterator<Item = &Charge> {
    charges
        .iter()
        .filter(|c| c.category.is_billed() && !is_spread(c) && !c.amount.is_zero())
}

/// The context of a lapse cancellation: the billing run at noon of `on` in the
/// policy's time zone, arriving on `on` (the run's day, which for a test
/// tenant is a day of its own clock, not of the wall clock).
fn lapse_context(on: NaiveDate, zone: &str, delinquency: &str) -> CommandContext {
    let noon = on.and_hms_opt(12, 0, 0).expect("noon exists");
    let issued_at = parse_time_zone(zone)
        .ok()
        .and_then(|tz| tz.from_local_datetime(&noon).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| noon.and_utc());
    CommandContext {
        actor: LAPSE_ACTOR.to_string(),
        issued_at,
        idempotency_key: Some(format!("lapse/{delinquency}")),
        arithmetic: crate::billing::Arithmetic::Written,
        pending_slices: None,
        today: Some(on),
    }
}

fn account_of(command: &BillingCommand) -> Option<&str> {
    use BillingCommand as B;
    match command {
        B::ConfigureBilling { .. } | B::ChangePlan { .. } => None,
        B::ConfigureAccount { account, .. }
        | B::RunAccount { account, .. }
        | B::RecordPayment { account, .. }
        | B::ReversePayment { account, .. }
        | B::DistributeCredit { account, .. }
        | B::WriteOff { account, .. }
        | B::ReverseWriteOff { account, .. }
        | B::DraftDisbursement { account, .. }
        | B::ApproveDisbursement { account, .. }
        | B::RejectDisbursement { account, .. }
        | B::ReverseDisbursement { account, .. }
        | B::PlaceHold { account, .. }
        | B::ReleaseHold { account, .. } => Some(account),
    }
}

impl TenantState {
    /// The events of a billing command.
    pub(super) fn decide_billing(
        &self,
        command: &BillingCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        use BillingCommand as B;
        let collections = |event| Ok(vec![TenantEvent::Collections(event)]);
        match command {
            B::ConfigureBilling { settings } => {
                settings.validate()?;
                if !settings.automatic_billing {
                    return Err(CollectionsError::AutomaticBillingPerAccount.into());
                }
                return collections(CollectionsEvent::BillingConfigured {
                    settings: settings.clone(),
                });
            }
            B::ConfigureAccount { account, overrides } => {
                let billing = self.collections.account(account)?;
                overrides.validate()?;
                let settings = self.collections.settings.for_account(overrides);
                settings.validate()?;
                let mut events = vec![TenantEvent::Collections(
                    CollectionsEvent::AccountConfigured {
                        account: account.clone(),
                        overrides: overrides.clone(),
                    },
                )];
                // Automatic billing turned off or on (seed 003): an
                // invoicing hold from today, released (with its catch-up
                // invoice) when it is turned back on.
                let held = billing
                    .holds
                    .iter()
                    .find(|h| h.released_on.is_none() && h.reason == AUTOMATIC_BILLING_OFF)
                    .map(|h| h.locator.clone());
                let today = context
                    .today
                    .unwrap_or_else(|| context.issued_at.date_naive());
                let follow = match (settings.automatic_billing, held) {
                    (false, None) => Some(B::PlaceHold {
                        account: account.clone(),
                        kind: HoldKind::Invoicing,
                        from: today,
                        reason: AUTOMATIC_BILLING_OFF.to_string(),
                    }),
                    (true, Some(hold)) => Some(B::ReleaseHold {
                        account: account.clone(),
                        hold,
                        on: today,
                    }),
                    _ => None,
                };
                if let Some(follow) = follow {
                    events.extend(self.decide_billing(&follow, context, raters, adjuster)?);
                }
                return Ok(events);
            }
            B::ChangePlan {
                policy,
                plan,
                effective,
            } => {
                let event = change_plan(
                    &self.book,
                    &self.collections,
                    policy,
                    plan,
                    *effective,
                    &AdjusterDates(adjuster),
                )?;
                return Ok(vec![TenantEvent::Book(event)]);
            }
            B::RunAccount { account, up_to } => {
                // Pending transactions expire first (see `super::auto_bind`).
                let mut events = self.expire_pending(account, *up_to);
                events.extend(self.decide_run(account, *up_to, raters, adjuster)?);
                // Once billing has nothing more to do, the autopay
                // invoices' collection attempts (see `super::payments`).
                if events.is_empty() {
                    events = self.autopay_requests(account, *up_to, context);
                }
                return Ok(events);
            }
            _ => {}
        }
        let account = account_of(command).expect("an account command");
        let mut id = self.ledger.next_id();
        let mut decider = Decider::new(&self.collections, &self.book, account, id, adjuster)?;
        match command {
            B::RecordPayment {
                amount,
                received_on,
                invoices,
                reference,
                for_deductibles,
                reserved_for,
                ..
            } => decider.record_payment(
                *amount,
                *received_on,
                invoices,
                reference,
                *for_deductibles,
                reserved_for.as_ref(),
            )?,
            B::ReversePayment {
                payment,
                on,
                fee,
                reason,
                ..
            } => decider.reverse_payment(payment, *on, *fee, reason)?,
            B::DistributeCredit { on, targets, .. } => decider.distribute_credit(*on, targets)?,
            B::WriteOff {
                invoice,
                item,
                amount,
                on,
                reason,
                ..
            } => decider.write_off(invoice, item.as_deref(), *amount, *on, reason)?,
            B::ReverseWriteOff { write_off, on, .. } => {
                decider.reverse_write_off(write_off, *on)?
            }
            B::DraftDisbursement {
                amount, on, reason, ..
            } => decider.draft_disbursement(*amount, *on, reason)?,
            B::ApproveDisbursement {
                disbursement,
                on,
                execute_on,
                ..
            } => decider.approve_disbursement(disbursement, *on, *execute_on)?,
            B::RejectDisbursement {
                disbursement,
                on,
                reason,
                ..
            } => decider.reject_disbursement(disbursement, *on, reason)?,
            B::ReverseDisbursement {
                disbursement,
                on,
                reason,
                ..
            } => decider.reverse_disbursement(disbursement, *on, reason)?,
            B::PlaceHold {
                kind, from, reason, ..
            } => decider.place_hold(kind, *from, reason)?,
            B::ReleaseHold { hold, on, .. } => decider.release_hold(hold, *on)?,
            B::ConfigureBilling { .. }
            | B::ConfigureAccount { .. }
            | B::ChangePlan { .. }
            | B::RunAccount { .. } => unreachable!("handled above"),
        }
        self.journal(decider.take(), &mut id)
    }

    /// One billing-run command of one account: nothing when it has nothing to
    /// do up to `up_to`.
    fn decide_run(
        &self,
        account: &str,
        up_to: NaiveDate,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let billing = self.collections.account(account)?;
        if !has_run_work(billing, &self.collections.settings_for(billing), up_to) {
            return Ok(Vec::new());
        }
        let mut id = self.ledger.next_id();
        let mut decider = Decider::new(&self.collections, &self.book, account, id, adjuster)?;
        let outcome = decider.run(up_to)?;
        let mut events = self.journal(decider.take(), &mut id)?;
        if let RunOutcome::Lapse(lapse) = outcome {
            let mut book_events = Vec::new();
            let mut cancelled = BTreeSet::new();
            let mut charges: Vec<Charge> = Vec::new();
            let mut with_slices = BTreeSet::new();
            let mut netted: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
            let before = id;
            let mut lapses = Vec::new();
            for item in &lapse.items {
                let mut cancellations = Vec::new();
                for policy in &item.policies {
                    let Ok(state) = self.book.policy(policy) else {
                        continue;
                    };
                    if !state.is_in_force(item.effective) || !cancelled.insert(policy.clone()) {
                        continue;
                    }
                    let context =
                        lapse_context(lapse.on, &state.header.time_zone, &item.delinquency);
                    let cancel = PolicyCommand::Cancel {
                        policy: policy.clone(),
                        effective: item.effective,
                        reason: CancellationReason::NonPayment,
                    };
                    let decided = match self.decide_policy(&cancel, &context, raters, adjuster, id)
                    {
                        Ok(decided) => decided,
                        Err(EngineError::Policy(
                            PolicyError::OutsideTerm { .. } | PolicyError::NotInForce { .. },
                        )) => continue,
                        Err(error) => return Err(error),
                    };
                    id = EntryId(id.0 + journal_count(&decided));
                    for event in &decided {
                        if let TenantEvent::Book(BookEvent::TransactionIssued { record }) = event {
                            cancellations.push(LapseCancellation {
                                policy: policy.clone(),
                                transaction: record.transaction.locator.clone(),
                            });
                            charges.extend(billed_whole(&record.charges).cloned());
                            if record.bills_installments(state.slices.len()) {
                                with_slices.insert(policy.clone());
                            }
                            netted
                                .entry(policy.clone())
                                .or_default()
                                .extend(record.netted.iter().copied());
                        }
                    }
                    book_events.extend(decided);
                }
                lapses.push((item, cancellations));
            }
            for (item, cancellations) in lapses {
                decider.record_lapse(lapse.on, item, cancellations)?;
            }
            let mut lapse_id = before;
            events.extend(self.journal(decider.take(), &mut lapse_id)?);
            events.extend(book_events);
            decider.skip_entries(id.0 - before.0);
            decider.invoice_immediately(lapse.on, &charges, &with_slices, &netted)?;
            events.extend(self.journal(decider.take(), &mut id)?);
        }
        Ok(events)
    }

    /// The billing events of the charges a policy command booked: those seed
    /// 001 bills at once go on an invoice now.
    pub(super) fn invoice_new_charges(
        &self,
        events: &[TenantEvent],
        context: &CommandContext,
        adjuster: &dyn InvoiceAdjuster,
        first_id: EntryId,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        type Opened<'e> = Vec<(&'e str, &'e crate::policy::ProductConfig, &'e str)>;
        let mut by_account: BTreeMap<String, (Vec<Charge>, Option<String>, Opened<'_>)> =
            BTreeMap::new();
        let mut with_slices = BTreeSet::new();
        let mut netted: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
        for event in events {
            let TenantEvent::Book(event) = event else {
                continue;
            };
            let mut opened = None;
            let (account, zone, charges): (&str, Option<&str>, Vec<&Charge>) = match event {
                BookEvent::TransactionIssued { record } => {
                    if let (Some(header), Some(term)) = (&record.opened, &record.term) {
                        opened =
                            Some((record.policy.as_str(), &*header.product, term.plan.as_str()));
                    }
                    let header = record
                        .opened
                        .as_ref()
                        .or_else(|| self.book.policies.get(&record.policy).map(|p| &p.header));
                    let Some(header) = header else { continue };
                    // Agency bill: on the producer's statement, not invoiced.
                    if header.agency().is_some() {
                        continue;
                    }
                    let base = self
                        .book
                        .policies
                        .get(&record.policy)
                        .map_or(0, |p| p.slices.len());
                    if record.bills_installments(base) {
                        with_slices.insert(record.policy.clone());
                    }
                    netted
                        .entry(record.policy.clone())
                        .or_default()
                        .extend(record.netted.iter().copied());
                    (
                        &header.account,
                        Some(&header.time_zone),
                        billed_whole(&record.charges).collect(),
                    )
                }
                BookEvent::FlatChargeAdded { charge } => {
                    let zone = charge
                        .policy
                        .as_ref()
                        .and_then(|p| self.book.policies.get(p))
                        .map(|p| p.header.time_zone.as_str());
                    (
                        &charge.account,
                        zone,
                        billed_whole(std::slice::from_ref(charge)).collect(),
                    )
                }
                _ => continue,
            };
            if charges.is_empty() {
                continue;
            }
            let entry = by_account
                .entry(account.to_string())
                .or_insert_with(|| (Vec::new(), zone.map(str::to_string), Vec::new()));
            entry.0.extend(charges.into_iter().cloned());
            entry.2.extend(opened);
        }
        let mut id = first_id;
        let mut billing = Vec::new();
        for (account, (charges, zone, opened)) in by_account {
            if !self.collections.accounts.contains_key(&account) {
                continue;
            }
            let on = match (context.today, zone.as_deref().map(parse_time_zone)) {
                // A test tenant bills on its clock's day.
                (Some(today), _) => today,
                (None, Some(Ok(zone))) => local_date(context.issued_at, zone),
                _ => context.issued_at.date_naive(),
            };
            let mut decider = Decider::new(&self.collections, &self.book, &account, id, adjuster)?;
            for (policy, product, plan) in opened {
                decider.opening(policy, product, plan);
            }
            decider.invoice_immediately(on, &charges, &with_slices, &netted)?;
            billing.extend(self.journal(decider.take(), &mut id)?);
        }
        Ok(billing)
    }

    /// Billing events, each followed by the journal entry it posts, numbered
    /// from `*id`.
    pub(super) fn journal(
        &self,
        decided: Decided,
        id: &mut EntryId,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let mut events = Vec::with_capacity(decided.len() * 2);
        for (event, posting) in decided {
            events.push(TenantEvent::Collections(event));
            let Some(posting) = posting else { continue };
            // A reversal the command asks for twice is the caller's
            // mistake; one of an entry that is not there, a corrupt state.
            let entry = self
                .ledger
                .entry_for(posting, *id)
                .map_err(|error| match error {
                    LedgerError::AlreadyReversed { entry, .. } => EngineError::from(
                        CollectionsError::Internal(format!("entry {entry} is already reversed")),
                    ),
                    LedgerError::UnknownEntry(entry)
                    | LedgerError::CannotReverseReversal(entry) => {
                        EngineError::Corrupt(format!("no entry {entry} to reverse"))
                    }
                    error => error.into(),
                })?;
            *id = id.next();
            events.push(TenantEvent::Journal(entry));
        }
        Ok(events)
    }

    /// Runs one account's billing up to `up_to` to the end: decides and applies
    /// one command after another until there is nothing left to do. Returns the
    /// commands and events it took.
    pub fn run_account(
        &mut self,
        account: &str,
        up_to: NaiveDate,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<(usize, usize), EngineError> {
        let mut events = Vec::new();
        self.run_account_into(account, up_to, context, raters, adjuster, &mut events)
    }

    /// [`TenantState::run_account`], keeping the events it applied in
    /// `applied` (those of a run that failed half-way included).
    fn run_account_into(
        &mut self,
        account: &str,
        up_to: NaiveDate,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
        applied: &mut Vec<TenantEvent>,
    ) -> Result<(usize, usize), EngineError> {
        let command = EngineCommand::Billing(BillingCommand::RunAccount {
            account: account.to_string(),
            up_to,
        });
        let mut events = 0;
        for commands in 0..RUN_COMMANDS_PER_ACCOUNT_MAX {
            let decided = self.decide_with(&command, context, raters, adjuster)?;
            if decided.is_empty() {
                return Ok((commands, events));
            }
            events += decided.len();
            for event in &decided {
                self.apply(event)?;
            }
            applied.extend(decided);
        }
        Err(CollectionsError::RunLimit {
            account: account.to_string(),
            message: format!("more than {RUN_COMMANDS_PER_ACCOUNT_MAX} commands"),
        }
        .into())
    }

    /// A billing run of every account up to `up_to` on this state, in memory
    /// (the state layer: nothing is made durable). It makes the same
    /// `RunAccount` decisions as the service layer's
    /// [`Engine::run_billing`](crate::engine::Engine::run_billing), which
    /// appends each to the store one by one; previews run it on a copy.
    ///
    /// Who does what in a billing run: `collections::decide::run` decides one
    /// account's next step (`BillingCommand::RunAccount`);
    /// [`TenantState::run_account`] repeats it for one account until nothing
    /// is left; this runs every account; `Engine::run_billing` does the same
    /// durably; the API's `POST /v1/billing/runs` (`api::routes::billing::
    /// post_billing_run`) calls the service.
    ///
    /// Example: an account with a 100.00 installment invoiced on 2021-01-01
    /// and one with nothing due: run up to 2021-01-01, the report counts 2
    /// accounts and 1 billed; run again, 2 accounts and 0 billed.
    pub fn billing_run(
        &mut self,
        up_to: NaiveDate,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> BillingRunReport {
        self.billing_run_recording(up_to, context, raters, adjuster, &mut Vec::new())
    }

    /// [`TenantState::billing_run`], recording every event it applied in
    /// `applied`, in order: what a billing-run preview shows.
    pub fn billing_run_recording(
        &mut self,
        up_to: NaiveDate,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
        applied: &mut Vec<TenantEvent>,
    ) -> BillingRunReport {
        let accounts: Vec<String> = self.collections.accounts.keys().cloned().collect();
        let mut report = BillingRunReport::new(up_to);
        for account in accounts {
            report.accounts += 1;
            match self.run_account_into(&account, up_to, context, raters, adjuster, applied) {
                Ok((0, _)) => {}
                Ok((commands, events)) => {
                    report.accounts_billed += 1;
                    report.commands += commands;
                    report.events += events;
                }
                Err(error) => report.failures.push((account, error.to_string())),
            }
        }
        report
    }
}
