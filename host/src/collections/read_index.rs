//! Indexes of a tenant's billing state for the read model (billing staff's
//! search, lists and worklists, `engine/read_model/`), kept in `apply` so no
//! read scans the tenant's whole book:
//!
//! - `search`: every account's lower-cased locator and name, each with the
//!   account: a prefix search is one range of it;
//! - `invoices`: every invoice by (state, due date, account, number): open
//!   invoices by due date answer "past due" (due before today) and "coming
//!   due" (due within days) as one range, paid and written-off ones list by
//!   due date;
//! - `delinquent`, `with_credit`, `held`, `awaiting_approval`: the accounts
//!   with a delinquency in grace, credit other than zero, a hold not
//!   released, a disbursement drafted and not yet approved or rejected.
//!
//! Each event updates only what it touches: the invoices it names, and the
//! flags of its account (worked out from the account's delinquencies, holds
//! and disbursements, never from its invoices).

use super::account::AccountBilling;
use super::disbursement::DisbursementStatus;
use super::event::CollectionsEvent;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Where an invoice stands, as kept in the index: still owing (or owed),
/// settled by payments and credit, or closed with a write-off. "Past due"
/// is an open invoice whose due date is before the tenant's today.
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceState {
    Open,
    Paid,
    WrittenOff,
}

impl InvoiceState {
    pub fn name(self) -> &'static str {
        match self {
            InvoiceState::Open => "open",
            InvoiceState::Paid => "paid",
            InvoiceState::WrittenOff => "written_off",
        }
    }

    pub fn parse(name: &str) -> Option<InvoiceState> {
        [
            InvoiceState::Open,
            InvoiceState::Paid,
            InvoiceState::WrittenOff,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// An invoice's place in the index (fields in sort order).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize, serde::Serialize,
)]
pub struct InvoiceKey {
    pub state: InvoiceState,
    pub due: NaiveDate,
    pub account: String,
    /// Its number among the account's invoices, from 1.
    pub number: u32,
}

/// The read model's indexes of a tenant's billing state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct ReadIndex {
    /// (lower-cased locator or name, account locator).
    pub search: BTreeSet<(String, String)>,
    pub invoices: BTreeSet<InvoiceKey>,
    pub delinquent: BTreeSet<String>,
    pub with_credit: BTreeSet<String>,
    pub held: BTreeSet<String>,
    pub awaiting_approval: BTreeSet<String>,
}

/// The invoices an event changes the state of (or issues).
fn invoices_touched(event: &CollectionsEvent) -> Vec<&str> {
    use CollectionsEvent as E;
    match event {
        E::InvoiceIssued { invoice } => vec![invoice.locator.as_str()],
        E::CreditIssued { invoice, .. } | E::WriteOffReversed { invoice, .. } => {
            vec![invoice.as_str()]
        }
        E::CreditApplied { allocations, .. } | E::PaymentReversed { allocations, .. } => {
            allocations.iter().map(|a| a.invoice.as_str()).collect()
        }
        E::PaymentReceived { payment } => payment
            .allocations
            .iter()
            .map(|a| a.invoice.as_str())
            .collect(),
        E::WrittenOff { write_off } => vec![write_off.invoice.as_str()],
        _ => Vec::new(),
    }
}

impl AccountBilling {
    /// The state of the invoice at `position`.
    pub fn invoice_state(&self, position: usize) -> InvoiceState {
        if self.open.contains(&position) {
            InvoiceState::Open
        } else if self.invoices[position].written_off.is_zero() {
            InvoiceState::Paid
        } else {
            InvoiceState::WrittenOff
        }
    }

    /// The index key of the invoice at `position`.
    pub fn invoice_key(&self, position: usize) -> InvoiceKey {
        InvoiceKey {
            state: self.invoice_state(position),
            due: self.invoices[position].invoice.due_date,
            account: self.locator.clone(),
            number: self.invoices[position].invoice.number,
        }
    }
}

impl ReadIndex {
    /// A new account, found by its locator and its name.
    pub fn add_account(&mut self, locator: &str, name: &str) {
        self.search
            .insert((locator.to_lowercase(), locator.to_string()));
        self.search
            .insert((name.to_lowercase(), locator.to_string()));
    }

    /// The keys of the invoices `event` touches in `account`, before it is
    /// applied (invoices it issues are not there yet).
    pub fn before(account: &AccountBilling, event: &CollectionsEvent) -> Vec<InvoiceKey> {
        invoices_touched(event)
            .into_iter()
            .filter_map(|locator| account.invoice_position(locator))
            .map(|position| account.invoice_key(position))
            .collect()
    }

    /// Follows `event`, just applied to `account`; `before` is what
    /// [`ReadIndex::before`] said.
    pub fn after(
        &mut self,
        account: &AccountBilling,
        event: &CollectionsEvent,
        before: Vec<InvoiceKey>,
    ) {
        for key in before {
            self.invoices.remove(&key);
        }
        for locator in invoices_touched(event) {
            if let Some(position) = account.invoice_position(locator) {
                self.invoices.insert(account.invoice_key(position));
            }
        }
        let locator = &account.locator;
        let flag = |set: &mut BTreeSet<String>, on: bool| {
            if on {
                set.insert(locator.clone());
            } else {
                set.remove(locator);
            }
        };
        flag(
            &mut self.delinquent,
            account.delinquencies.iter().any(|d| d.is_in_grace()),
        );
        flag(&mut self.with_credit, !account.credit.is_zero());
        flag(
            &mut self.held,
            account.holds.iter().any(|h| h.released_on.is_none()),
        );
        flag(
            &mut self.awaiting_approval,
            account
                .disbursements
                .iter()
                .any(|d| d.status == DisbursementStatus::Draft),
        );
    }
}
