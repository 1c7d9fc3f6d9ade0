//! Deciding billing commands for one account: the decider works on a copy of
//! the account's billing state, emits events one by one and applies each to
//! the copy at once, so every later decision sees the earlier ones. The events
//! (with the journal entry each posts) are then applied to the real state by
//! the engine, exactly as when the log is replayed.
//!
//! - `run`: the billing run, day by day up to a date.
//! - `generate`: building and issuing invoices (and the invoicing plugin).
//! - `settle`: payments, their reversal, credit, and what settling ends
//!   (delinquencies) or confirms (terms).
//! - `delinquency`: past due, delinquencies, lapses.
//! - `manual`: write-offs, disbursements and holds.

mod delinquency;
mod future_installments;
mod generate;
mod manual;
mod run;
mod settle;

pub use delinquency::LAPSE_POLICIES_MAX;
pub use run::{Lapse, LapseItem, RUN_STEPS_MAX, RunOutcome, has_run_work};
pub(crate) use run::{next_step, slice_step};

use super::account::AccountBilling;
use super::adjuster::InvoiceAdjuster;
use super::error::CollectionsError;
use super::event::CollectionsEvent;
use super::settings::BillingSettings;
use super::state::Collections;
use crate::billing::InstallmentPlan;
use crate::domain::Money;
use crate::ledger::Posting;
use crate::ledger::{AMOUNT_MAX, EntryId};
use crate::policy::{PolicyBook, ProductConfig};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// The longest reason, reference or description a command may give, in bytes.
pub const TEXT_BYTES_MAX: usize = 256;

/// The most events one decision may emit before it stops and leaves the rest
/// to the next command (an append holds at most 1,000 events, with their
/// journal entries).
pub const DECISION_EVENTS_MAX: usize = 400;

/// Events decided, each with the journal entry it posts.
pub type Decided = Vec<(CollectionsEvent, Option<Posting>)>;

/// Decides billing commands for one account.
pub struct Decider<'a> {
    pub(crate) book: &'a PolicyBook,
    pub(crate) settings: BillingSettings,
    pub(crate) account: AccountBilling,
    adjuster: &'a dyn InvoiceAdjuster,
    next_entry: EntryId,
    out: Decided,
    /// Policies opened by the command being decided, not yet in the book:
    /// their product and first plan.
    opened: Vec<(String, ProductConfig, String)>,
}

impl<'a> Decider<'a> {
    /// A decider for `account`, whose first journal entry will be `next_entry`.
    pub fn new(
        collections: &Collections,
        book: &'a PolicyBook,
        account: &str,
        next_entry: EntryId,
        adjuster: &'a dyn InvoiceAdjuster,
    ) -> Result<Self, CollectionsError> {
        let account = collections.account(account)?;
        Ok(Decider {
            book,
            settings: collections.settings_for(account),
            account: account.clone(),
            adjuster,
            next_entry,
            out: Vec::new(),
            opened: Vec::new(),
        })
    }

    /// Makes a policy the command being decided opens known to invoicing
    /// (its product's invoicing plugin and plan), before it is in the book.
    pub fn opening(&mut self, policy: &str, product: &ProductConfig, plan: &str) {
        self.opened
            .push((policy.to_string(), product.clone(), plan.to_string()));
    }

    /// The product of `policy`.
    pub(crate) fn product_of(&self, policy: &str) -> Option<&ProductConfig> {
        match self.book.policies.get(policy) {
            Some(state) => Some(&state.header.product),
            None => self
                .opened
                .iter()
                .find(|(p, _, _)| p == policy)
                .map(|(_, product, _)| product),
        }
    }

    /// The plan of `policy`'s last term.
    pub(crate) fn plan_of(&self, policy: &str) -> Option<&InstallmentPlan> {
        match self.book.policies.get(policy) {
            Some(state) => {
                let plan = &state.terms.last()?.plan;
                state.header.product.plans.get(plan)
            }
            None => self
                .opened
                .iter()
                .find(|(p, _, _)| p == policy)
                .and_then(|(_, product, plan)| product.plans.get(plan)),
        }
    }

    /// The id the next journal entry will get.
    pub fn next_entry(&self) -> EntryId {
        self.next_entry
    }

    /// Moves the entry counter past entries posted by others in between.
    pub fn skip_entries(&mut self, count: u64) {
        self.next_entry = EntryId(self.next_entry.0 + count);
    }

    /// Takes the events decided so far.
    pub fn take(&mut self) -> Decided {
        std::mem::take(&mut self.out)
    }

    /// Takes in a billing event of this account decided earlier in the same
    /// command (and not yet applied to the billing state), so later
    /// decisions see it.
    pub fn follow(&mut self, event: &CollectionsEvent) {
        self.account.apply(event);
    }

    /// The account's state with every event decided so far applied.
    pub fn account(&self) -> &AccountBilling {
        &self.account
    }

    pub(crate) fn emitted(&self) -> usize {
        self.out.len()
    }

    /// Whether the decision holds as many events as one command may carry;
    /// what is left is done by the next command.
    pub(crate) fn full(&self) -> bool {
        self.out.len() >= DECISION_EVENTS_MAX
    }

    /// Emits an event: computes its posting and applies it to the copy.
    pub(crate) fn emit(&mut self, event: CollectionsEvent) -> Result<(), CollectionsError> {
        let posting = event.posting()?;
        if posting.is_some() {
            self.next_entry = self.next_entry.next();
        }
        self.account.apply(&event);
        self.out.push((event, posting));
        Ok(())
    }

    pub(crate) fn money(&self, amount: Decimal) -> Money {
        Money::new(amount, self.account.currency)
    }

    /// A positive amount in whole minor units of the account's currency.
    pub(crate) fn positive(&self, what: &str, amount: Decimal) -> Result<Money, CollectionsError> {
        let money = self.money(amount);
        if amount <= Decimal::ZERO || !money.is_in_minor_units() || amount > AMOUNT_MAX {
            return Err(CollectionsError::InvalidAmount(format!(
                "{what} {amount} must be above zero, at most {AMOUNT_MAX}, in whole {} minor units",
                self.account.currency.code()
            )));
        }
        Ok(money)
    }

    /// The locator of the next record tagged `tag`.
    pub(crate) fn locator(&self, tag: &str, count: usize) -> String {
        self.account.next_locator(tag, count)
    }

    pub(crate) fn not_found(&self, what: &'static str, locator: &str) -> CollectionsError {
        CollectionsError::NotFound {
            account: self.account.locator.clone(),
            what,
            locator: locator.to_string(),
        }
    }
}

/// Checks a free text's length.
pub(crate) fn check_text(what: &'static str, text: &str) -> Result<(), CollectionsError> {
    if text.len() > TEXT_BYTES_MAX {
        return Err(CollectionsError::TextTooLong { what });
    }
    Ok(())
}

/// `date` plus `days`, or an error naming what overflowed.
pub(crate) fn plus_days(date: NaiveDate, days: u32) -> Result<NaiveDate, CollectionsError> {
    crate::domain::add_days(date, i64::from(days)).map_err(CollectionsError::DateOutOfRange)
}
