//! Reinstatement in the billing system ([E15]): a policy transaction that puts
//! a lapsed policy back in force (a reinstatement, or the reversal of a
//! cancellation) closes the delinquency that lapsed it, and what its invoices
//! still owe starts a new delinquency on the day the transaction is issued
//! (in the policy's time zone), with a fresh grace period and no late fee.
//! Decided with the policy command, so replaying the log never decides.

use super::state::{EngineError, TenantEvent, TenantState};
use crate::collections::{Decider, DelinquencyStatus, InvoiceAdjuster};
use crate::domain::{local_date, parse_time_zone};
use crate::ledger::EntryId;
use crate::policy::{BookEvent, CommandContext, TransactionChange, TransactionKind};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// A transaction putting a policy back in force: policy, transaction, the
/// day it was issued.
type Reinstated = (String, String, NaiveDate);

impl TenantState {
    /// Whether a transaction of `policy` puts it back in force: a
    /// reinstatement, or the reversal of a cancellation.
    fn reinstates(&self, policy: &str, change: &TransactionChange) -> bool {
        match change {
            TransactionChange::Reinstatement => true,
            TransactionChange::Reversal { target } => self
                .book
                .policies
                .get(policy)
                .and_then(|p| p.transaction(target))
                .is_some_and(|t| t.kind == TransactionKind::Cancellation),
            _ => false,
        }
    }

    /// The billing events of the reinstatements among a policy command's
    /// `events` (book events, their entries, and the billing events decided
    /// for them so far): lapsed delinquencies closed, successors started.
    pub(super) fn close_reinstated_delinquencies(
        &self,
        events: &[TenantEvent],
        context: &CommandContext,
        adjuster: &dyn InvoiceAdjuster,
        first_id: EntryId,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let mut by_account: BTreeMap<&str, Vec<Reinstated>> = BTreeMap::new();
        for event in events {
            let TenantEvent::Book(BookEvent::TransactionIssued { record }) = event else {
                continue;
            };
            if !self.reinstates(&record.policy, &record.transaction.change) {
                continue;
            }
            let Some(state) = self.book.policies.get(&record.policy) else {
                continue;
            };
            let on =
                context
                    .today
                    .unwrap_or_else(|| match parse_time_zone(&state.header.time_zone) {
                        Ok(zone) => local_date(context.issued_at, zone),
                        Err(_) => context.issued_at.date_naive(),
                    });
            by_account
                .entry(state.header.account.as_str())
                .or_default()
                .push((
                    record.policy.clone(),
                    record.transaction.locator.clone(),
                    on,
                ));
        }
        let mut id = first_id;
        let mut billing = Vec::new();
        for (account, reinstated) in by_account {
            let lapsed = self.collections.accounts.get(account).is_some_and(|a| {
                a.delinquencies
                    .iter()
                    .any(|d| matches!(d.status, DelinquencyStatus::Lapsed { .. }))
            });
            if !lapsed {
                continue;
            }
            let mut decider = Decider::new(&self.collections, &self.book, account, id, adjuster)?;
            for event in events {
                if let TenantEvent::Collections(event) = event
                    && event.account() == Some(account)
                {
                    decider.follow(event);
                }
            }
            for (policy, transaction, on) in &reinstated {
                decider.close_on_reinstatement(policy, transaction, *on)?;
            }
            billing.extend(self.journal(decider.take(), &mut id)?);
        }
        Ok(billing)
    }
}
