//! The billing state of a tenant: its settings and every account's billing
//! state, kept in step with the policy book (new accounts, policies, charges
//! and installment slices wait to be invoiced as the book records them).

use super::account::AccountBilling;
use super::error::CollectionsError;
use super::event::CollectionsEvent;
use super::read_index::ReadIndex;
use super::settings::BillingSettings;
use crate::policy::{BookEvent, PolicyBook};
use std::collections::BTreeMap;

/// A tenant's billing state.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Collections {
    pub settings: BillingSettings,
    /// Boxed: a map node holds eleven entries, most of them empty slots,
    /// and an account's billing state is hundreds of bytes wide.
    pub accounts: BTreeMap<String, Box<AccountBilling>>,
    /// The read model's indexes (search, invoices by state and due date,
    /// accounts by flag), kept by `apply` and `follow_book`.
    pub index: ReadIndex,
}

impl Collections {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn account(&self, locator: &str) -> Result<&AccountBilling, CollectionsError> {
        self.accounts
            .get(locator)
            .map(Box::as_ref)
            .ok_or_else(|| CollectionsError::UnknownAccount(locator.to_string()))
    }

    /// The settings in force for an account.
    pub fn settings_for(&self, account: &AccountBilling) -> BillingSettings {
        self.settings.for_account(&account.overrides)
    }

    /// Applies a billing event.
    pub fn apply(&mut self, event: &CollectionsEvent) {
        match event {
            CollectionsEvent::BillingConfigured { settings } => self.settings = settings.clone(),
            _ => {
                if let Some(account) = event.account().and_then(|a| self.accounts.get_mut(a)) {
                    let before = ReadIndex::before(account, event);
                    account.apply(event);
                    self.index.after(account, event, before);
                }
            }
        }
    }

    /// Follows a book event; called with the book as it is *before* the event
    /// is applied to it (to know where its new slices and charges will sit).
    pub fn follow_book(&mut self, event: &BookEvent, book: &PolicyBook) {
        match event {
            BookEvent::ProductDeployed { .. }
            | BookEvent::NonRenewed { .. }
            | BookEvent::PolicySystemNotified { .. } => {}
            BookEvent::AccountCreated { account } => {
                self.index.add_account(&account.locator, &account.name);
                self.accounts.insert(
                    account.locator.clone(),
                    Box::new(AccountBilling::new(&account.locator, account.currency)),
                );
            }
            BookEvent::TransactionIssued { record } => {
                let existing = book.policies.get(&record.policy);
                // An agency-billed policy is billed on its producer's agency
                // statement, never on the account's invoices.
                let header = record.opened.as_ref().or(existing.map(|p| &p.header));
                if header.is_some_and(|h| h.agency().is_some()) {
                    return;
                }
                let Some(account) = record
                    .opened
                    .as_ref()
                    .map(|h| h.account.as_str())
                    .or_else(|| existing.map(|p| p.header.account.as_str()))
                    .and_then(|a| self.accounts.get_mut(a))
                else {
                    return;
                };
                if record.opened.is_some() && existing.is_none() {
                    account.add_policy(&record.policy);
                }
                let slices = existing.map_or(0, |p| p.slices.len());
                let charges = existing.map_or(0, |p| p.charges.len());
                account.add_slices(&record.policy, slices, &record.slices);
                account.withdraw_slices(&record.policy, &record.netted);
                account.add_charges(Some(&record.policy), charges, &record.charges);
            }
            BookEvent::FlatChargeAdded { charge } => {
                let Some(account) = self.accounts.get_mut(&charge.account) else {
                    return;
                };
                match charge.policy.as_ref().and_then(|p| book.policies.get(p)) {
                    Some(policy) => account.add_charges(
                        Some(policy.locator()),
                        policy.charges.len(),
                        std::slice::from_ref(charge),
                    ),
                    None => account.add_charges(
                        None,
                        book.account_charges.len(),
                        std::slice::from_ref(charge),
                    ),
                }
            }
            BookEvent::PlanChanged {
                policy,
                superseded,
                withdrawn,
                slices,
                ..
            } => {
                let Some(state) = book.policies.get(policy) else {
                    return;
                };
                if state.header.agency().is_some() {
                    return;
                }
                let Some(account) = self.accounts.get_mut(&state.header.account) else {
                    return;
                };
                account.withdraw_slices(policy, superseded);
                account.add_slices(policy, state.slices.len() + withdrawn.len(), slices);
            }
        }
    }
}
