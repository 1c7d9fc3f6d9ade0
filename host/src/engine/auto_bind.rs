//! Automatic binding after payment (seed 003's "Auto Bind Setting"): policy
//! commands of the types a tenant lists in `auto_bind` are held as pending
//! transactions until a payment covers the amount their first invoice
//! bills, then bound; never paid, they expire.
//!
//! The rules:
//!
//! - **Holding.** A policy command of a listed type (new business, renewal,
//!   endorsement, cancellation, reinstatement) is decided on the current
//!   state, exactly as if it were bound, so a command that would fail fails
//!   now; its events are thrown away and one `transaction_pending` event is
//!   kept instead, with the command, the amount required (what its first
//!   invoice would bill: its slices invoiced on or before its first invoice
//!   date, or the binding day when that is later, plus charges billed
//!   whole; never below zero), the day it arrived and the day it expires
//!   (`expire_after_days` later).
//! - **Binding.** When a payment is recorded on the account, the budget is
//!   the payment plus the account's credit before it. Pending transactions
//!   are taken in the order they arrived: each whose required amount is
//!   within what is left of the budget is bound (a `transaction_bound`
//!   event, then the events of its command decided after the payment's,
//!   issued by its original actor) and its amount is taken from the budget;
//!   the first one not covered stops the walk, so a later one never jumps
//!   ahead. Credit that bound an earlier transaction whose first invoice is
//!   not yet issued is set aside for it (not counted again). A command that can no longer be decided (the policy changed
//!   since) stays pending and takes nothing from the budget. Its effective
//!   date is the one it was sent with; the charges it books are billed by
//!   the normal invoicing, where the payment's credit meets them.
//! - **Expiry.** A payment received on or after the expiry day binds
//!   nothing; a billing run up to a day on or after it marks the pending
//!   transaction `transaction_expired`. It never binds.
//!
//! Example: `auto_bind: {"transactions": ["endorsement"], "expire_after_days": 30}`.
//! An endorsement sent on 2026-03-10 adding 120.00 to a monthly policy
//! whose next installment is invoiced on 2026-04-01 is pending, requires
//! 10.00 and expires on 2026-04-09. A payment of 10.00 on 2026-03-12 binds
//! it: its charges are booked after the payment. Unpaid, the run of
//! 2026-04-09 expires it and the policy never changes.

use super::state::{EngineError, TenantEvent, TenantState};
use crate::collections::{AutoBindType, InvoiceAdjuster};
use crate::domain::Currency;
use crate::policy::{BookEvent, CommandContext, PolicyCommand, RaterResolver, is_spread};
use chrono::{DateTime, Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a held transaction stands.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingStatus {
    /// Waiting for a payment.
    Pending,
    /// Bound after a payment covered it.
    Bound,
    /// Never paid before its expiry day.
    Expired,
}

/// A policy command held until a payment covers its first invoice.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTransaction {
    /// `pending-<n>`, numbered in arrival order.
    pub locator: String,
    pub account: String,
    /// The policy it transacts on (the one it opens for new business).
    pub policy: String,
    pub transaction_type: AutoBindType,
    /// The command, decided again when it is bound.
    pub command: PolicyCommand,
    pub currency: Currency,
    /// What its first invoice would bill: the payment (with credit) that
    /// binds it.
    pub required: Decimal,
    pub arrived_on: NaiveDate,
    /// From this day on it no longer binds; a billing run expires it.
    pub expires_on: NaiveDate,
    /// The day its first invoice would be issued: until then, credit that
    /// bound it is set aside for it.
    pub first_invoice_on: NaiveDate,
    /// Who sent it, and when.
    pub actor: String,
    pub issued_at: DateTime<Utc>,
    pub status: PendingStatus,
    /// The day it was bound or expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_on: Option<NaiveDate>,
    /// The payment that bound it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<String>,
}

/// An event of automatic binding.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BindingEvent {
    /// A command was held (`transaction_pending`).
    TransactionPending { pending: Box<PendingTransaction> },
    /// A payment covered it; its command's events follow (`transaction_bound`).
    TransactionBound {
        account: String,
        locator: String,
        payment: Option<String>,
        on: NaiveDate,
    },
    /// It was never paid (`transaction_expired`).
    TransactionExpired {
        account: String,
        locator: String,
        on: NaiveDate,
    },
}

impl BindingEvent {
    /// The stable kind stored with the event.
    pub fn kind(&self) -> &'static str {
        match self {
            BindingEvent::TransactionPending { .. } => "transaction_pending",
            BindingEvent::TransactionBound { .. } => "transaction_bound",
            BindingEvent::TransactionExpired { .. } => "transaction_expired",
        }
    }

    /// The account it is about.
    pub fn account(&self) -> &str {
        match self {
            BindingEvent::TransactionPending { pending } => &pending.account,
            BindingEvent::TransactionBound { account, .. }
            | BindingEvent::TransactionExpired { account, .. } => account,
        }
    }
}

/// A tenant's held transactions, by locator.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct PendingTransactions {
    pub by_locator: BTreeMap<String, PendingTransaction>,
    /// Locators in arrival order.
    pub order: Vec<String>,
}

impl PendingTransactions {
    pub fn apply(&mut self, event: &BindingEvent) {
        match event {
            BindingEvent::TransactionPending { pending } => {
                self.order.push(pending.locator.clone());
                self.by_locator
                    .insert(pending.locator.clone(), (**pending).clone());
            }
            BindingEvent::TransactionBound {
                locator,
                payment,
                on,
                ..
            } => {
                if let Some(p) = self.by_locator.get_mut(locator) {
                    p.status = PendingStatus::Bound;
                    p.settled_on = Some(*on);
                    p.payment = payment.clone();
                }
            }
            BindingEvent::TransactionExpired { locator, on, .. } => {
                if let Some(p) = self.by_locator.get_mut(locator) {
                    p.status = PendingStatus::Expired;
                    p.settled_on = Some(*on);
                }
            }
        }
    }

    /// Every held transaction in arrival order, of `account` only if given.
    pub fn list(&self, account: Option<&str>) -> Vec<PendingTransaction> {
        self.order
            .iter()
            .filter_map(|l| self.by_locator.get(l))
            .filter(|p| account.is_none_or(|a| p.account == a))
            .cloned()
            .collect()
    }

    /// The transactions of `account` still waiting, in arrival order.
    fn waiting<'a>(&'a self, account: &'a str) -> impl Iterator<Item = &'a PendingTransaction> {
        self.order
            .iter()
            .filter_map(|l| self.by_locator.get(l))
            .filter(move |p| p.account == account && p.status == PendingStatus::Pending)
    }
}

/// The type of a policy command automatic binding can hold, if any.
pub fn transaction_type(command: &PolicyCommand) -> Option<AutoBindType> {
    Some(match command {
        PolicyCommand::IssuePolicy { .. } => AutoBindType::NewBusiness,
        PolicyCommand::Renew { .. } => AutoBindType::Renewal,
        PolicyCommand::Endorse { .. } => AutoBindType::Endorsement,
        PolicyCommand::Cancel { .. } => AutoBindType::Cancellation,
        PolicyCommand::Reinstate { .. } => AutoBindType::Reinstatement,
        _ => return None,
    })
}

/// The day a command arrives on: a test tenant's clock, else the UTC day.
fn arrival_day(context: &CommandContext) -> NaiveDate {
    context
        .today
        .unwrap_or_else(|| context.issued_at.date_naive())
}

impl TenantState {
    /// The `transaction_pending` event holding `command` when the tenant's
    /// settings hold its type; `events` are what it would append bound now.
    pub(super) fn hold(
        &self,
        command: &PolicyCommand,
        context: &CommandContext,
        events: &[TenantEvent],
    ) -> Result<Option<TenantEvent>, EngineError> {
        let Some(settings) = &self.collections.settings.auto_bind else {
            return Ok(None);
        };
        let Some(kind) = transaction_type(command).filter(|k| settings.holds(*k)) else {
            return Ok(None);
        };
        let (policy, account) = match command {
            PolicyCommand::IssuePolicy {
                locator, account, ..
            } => (locator.clone(), account.clone()),
            PolicyCommand::Endorse { policy, .. }
            | PolicyCommand::Renew { policy, .. }
            | PolicyCommand::Cancel { policy, .. }
            | PolicyCommand::Reinstate { policy, .. } => {
                let state = self.book.policy(policy)?;
                (policy.clone(), state.header.account.clone())
            }
            _ => return Ok(None),
        };
        let billing = self
            .collections
            .accounts
            .get(&account)
            .ok_or_else(|| EngineError::AutoBindUnknownAccount(account.clone()))?;
        let arrived_on = arrival_day(context);
        let (required, first_invoice_on) = first_invoice(events, arrived_on);
        let expires_on = arrived_on
            .checked_add_days(Days::new(settings.expire_after_days.into()))
            .ok_or_else(|| EngineError::Corrupt("expiry day out of range".to_string()))?;
        Ok(Some(TenantEvent::Binding(
            BindingEvent::TransactionPending {
                pending: Box::new(PendingTransaction {
                    locator: format!("pending-{}", self.pending.order.len() + 1),
                    account,
                    policy,
                    transaction_type: kind,
                    command: command.clone(),
                    currency: billing.currency,
                    required,
                    arrived_on,
                    expires_on,
                    first_invoice_on,
                    actor: context.actor.clone(),
                    issued_at: context.issued_at,
                    status: PendingStatus::Pending,
                    settled_on: None,
                    payment: None,
                }),
            },
        )))
    }

    /// The events binding the pending transactions of `account` a payment
    /// of `amount` received on `received_on` covers; `payment_events` are
    /// the payment's own events, which come first.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn bind_covered(
        &self,
        account: &str,
        amount: Decimal,
        received_on: NaiveDate,
        payment_events: &[TenantEvent],
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let waiting: Vec<PendingTransaction> = self
            .pending
            .waiting(account)
            .filter(|p| received_on < p.expires_on)
            .cloned()
            .collect();
        if waiting.is_empty() {
            return Ok(Vec::new());
        }
        let credit = self
            .collections
            .accounts
            .get(account)
            .map(|a| a.credit)
            .unwrap_or_default();
        // Credit that bound an earlier transaction whose first invoice is
        // not yet due is set aside for it.
        let set_aside: Decimal = self
            .pending
            .list(Some(account))
            .iter()
            .filter(|p| p.status == PendingStatus::Bound && p.first_invoice_on > received_on)
            .map(|p| p.required)
            .sum();
        let mut budget = amount + (credit - set_aside).max(Decimal::ZERO);
        let payment = payment_events.iter().find_map(|e| match e {
            TenantEvent::Collections(crate::collections::CollectionsEvent::PaymentReceived {
                payment,
            }) => Some(payment.locator.clone()),
            _ => None,
        });
        let mut next = self.clone();
        for event in payment_events {
            next.apply(event)?;
        }
        let mut events = Vec::new();
        for pending in waiting {
            if pending.required > budget {
                break;
            }
            let context = CommandContext {
                actor: pending.actor.clone(),
                idempotency_key: None,
                pending_slices: None,
                ..context.clone()
            };
            let Ok(decided) = next.decide_policy_full(&pending.command, &context, raters, adjuster)
            else {
                continue;
            };
            let bound = TenantEvent::Binding(BindingEvent::TransactionBound {
                account: account.to_string(),
                locator: pending.locator.clone(),
                payment: payment.clone(),
                on: received_on,
            });
            next.apply(&bound)?;
            for event in &decided {
                next.apply(event)?;
            }
            events.push(bound);
            events.extend(decided);
            budget -= pending.required;
        }
        Ok(events)
    }

    /// The `transaction_expired` events of `account`'s pending transactions
    /// a billing run up to `up_to` expires.
    pub(super) fn expire_pending(&self, account: &str, up_to: NaiveDate) -> Vec<TenantEvent> {
        self.pending
            .waiting(account)
            .filter(|p| p.expires_on <= up_to)
            .map(|p| {
                TenantEvent::Binding(BindingEvent::TransactionExpired {
                    account: account.to_string(),
                    locator: p.locator.clone(),
                    on: up_to,
                })
            })
            .collect()
    }
}

/// What the first invoice of a transaction would bill, and its day, from
/// the events it appends when bound on `today`: its slices invoiced on or
/// before its first invoice date (or `today`, when later: a catch-up), and
/// its charges billed whole; never below zero. With no slices the day is
/// `today`.
///
/// Example: slices of 10.00 on 2026-04-01 and 10.00 on 2026-05-01, bound on
/// 2026-03-10: 10.00; the same bound on 2026-05-15: 20.00 (both are on or
/// before the binding day, so one catch-up invoice bills them).
fn first_invoice(events: &[TenantEvent], today: NaiveDate) -> (Decimal, NaiveDate) {
    let mut total = Decimal::ZERO;
    let mut day = today;
    for event in events {
        let TenantEvent::Book(BookEvent::TransactionIssued { record }) = event else {
            continue;
        };
        let first = record
            .slices
            .iter()
            .filter(|s| !s.amount.amount.is_zero())
            .map(|s| s.invoice_date)
            .min();
        if let Some(first) = first {
            let cut = first.max(today);
            day = day.max(cut);
            total += record
                .slices
                .iter()
                .filter(|s| s.invoice_date <= cut)
                .map(|s| s.amount.amount)
                .sum::<Decimal>();
        }
        total += record
            .charges
            .iter()
            .filter(|c| c.category.is_billed() && !is_spread(c))
            .map(|c| c.amount.amount)
            .sum::<Decimal>();
    }
    (total.max(Decimal::ZERO), day)
}
