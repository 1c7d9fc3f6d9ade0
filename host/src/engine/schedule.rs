//! The payment schedule shown before binding (seed 002; DOMAIN section 6):
//! what the invoices of a new policy's first term will be. Not a second copy
//! of the billing rules: the issue's book events are billed by the same
//! invoice generation as a billing run, on a scratch tenant that holds only
//! the policy's product, its account and the account's billing settings. So
//! the schedule has what the invoices will have: flat charges billed with
//! the first invoice, the invoicing plugin's fees, invoice dates after the
//! billing calendar, and due dates.
//!
//! Choices: the schedule is the policy's own invoices (lines of other
//! policies that the account's invoices may also carry are left out); no
//! payment, credit or delinquency touches them; it covers the first term.

use super::state::{EngineError, TenantEvent, TenantState};
use crate::collections::{InvoiceAdjuster, ItemKind, decide::slice_step};
use crate::policy::{BookEvent, CommandContext, RaterResolver};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeSet;

/// The most billing runs a schedule preview takes (a calendar can put an
/// installment's run after the last one foreseen).
pub const PREVIEW_RUNS_MAX: usize = 4;

/// One invoice of a previewed payment schedule.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduledInvoice {
    #[serde(serialize_with = "crate::domain::date_text::serialize_date")]
    pub invoice_date: NaiveDate,
    #[serde(serialize_with = "crate::domain::date_text::serialize_date")]
    pub due_date: NaiveDate,
    /// Its total: installments, flat charges and plugin fees.
    pub amount: Decimal,
    /// The installments it bills (1 = the term's first).
    pub installments: Vec<u32>,
}

impl TenantState {
    /// The invoices of the policy a new-business command's `issue` events
    /// open (decided on this state, not yet applied), through its first
    /// term. Nothing here is kept.
    pub fn scheduled_invoices(
        &self,
        issue: &[TenantEvent],
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<Vec<ScheduledInvoice>, EngineError> {
        self.schedule_scratch(issue)?
            .bill_first_term(issue, context, raters, adjuster)
    }

    /// A tenant holding only what billing the opened policy needs: its
    /// product, its account, and the account's billing settings with
    /// delinquency and automatic write-off off.
    pub fn schedule_scratch(&self, issue: &[TenantEvent]) -> Result<TenantState, EngineError> {
        let header = opened(issue)
            .and_then(|e| e.opened.as_ref())
            .ok_or_else(|| EngineError::NotFound("a new policy to schedule".into()))?;
        // The account: known, or opened by the quote itself (seed 002: a
        // quote before the billing system knows the account), billed with
        // the tenant's settings.
        let (account, mut settings) = match self.book.accounts.get(&header.account) {
            Some(account) => {
                let billing = self.collections.account(&header.account)?;
                (account.clone(), self.collections.settings_for(billing))
            }
            None => {
                let created = issue.iter().find_map(|e| match e {
                    TenantEvent::Book(BookEvent::AccountCreated { account })
                        if account.locator == header.account =>
                    {
                        Some(account.clone())
                    }
                    _ => None,
                });
                let account = created
                    .ok_or_else(|| EngineError::NotFound(format!("account {}", header.account)))?;
                (account, self.collections.settings.clone())
            }
        };
        settings.delinquency.enabled = false;
        settings.auto_write_off_up_to = Decimal::ZERO;
        let mut scratch = TenantState::new(self.ledger.tenant())?;
        for event in [
            BookEvent::ProductDeployed {
                product: crate::policy::ProductConfig::clone(&header.product),
            },
            BookEvent::AccountCreated { account },
        ] {
            scratch.apply(&TenantEvent::Book(event))?;
        }
        scratch.collections.settings = settings;
        Ok(scratch)
    }

    /// Books the `issue` events on this scratch state, bills at once what
    /// the issue bills at once, then runs billing until the first term's
    /// installments are invoiced; returns the policy's invoices.
    pub(crate) fn bill_first_term(
        mut self,
        issue: &[TenantEvent],
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<Vec<ScheduledInvoice>, EngineError> {
        let record = opened(issue)
            .ok_or_else(|| EngineError::NotFound("a new policy to schedule".into()))?;
        let policy = record.policy.clone();
        let account = record
            .opened
            .as_ref()
            .map(|h| h.account.clone())
            .unwrap_or_default();
        // The account is already on the scratch state.
        let book: Vec<TenantEvent> = issue
            .iter()
            .filter(|e| {
                matches!(e, TenantEvent::Book(_))
                    && !matches!(e, TenantEvent::Book(BookEvent::AccountCreated { .. }))
            })
            .cloned()
            .collect();
        let billed = self.invoice_new_charges(&book, context, adjuster, self.ledger.next_id())?;
        for event in book.iter().chain(&billed) {
            self.apply(event)?;
        }
        let mut last_run: Option<NaiveDate> = None;
        for _ in 0..PREVIEW_RUNS_MAX {
            let billing = self.collections.account(&account)?;
            let calendar = self.collections.settings_for(billing).calendar;
            let up_to = billing
                .pending_slices
                .iter()
                .filter(|s| s.policy == policy)
                .map(|s| slice_step(calendar.as_ref(), s.date))
                .max();
            let Some(up_to) = up_to.filter(|d| last_run.is_none_or(|last| *d > last)) else {
                break;
            };
            self.run_account(&account, up_to, context, raters, adjuster)?;
            last_run = Some(up_to);
        }
        let billing = self.collections.account(&account)?;
        Ok(billing
            .invoices
            .iter()
            .filter(|r| r.invoice.bills_policy(&policy))
            .map(|r| ScheduledInvoice {
                invoice_date: r.invoice.issue_date,
                due_date: r.invoice.due_date,
                amount: r.invoice.total.amount,
                installments: r
                    .invoice
                    .items
                    .iter()
                    .filter(|i| i.kind == ItemKind::Installment)
                    .filter_map(|i| i.slice.as_ref())
                    .map(|s| s.installment + 1)
                    .collect::<BTreeSet<u32>>()
                    .into_iter()
                    .collect(),
            })
            .collect())
    }
}

/// The new-business transaction among `events`.
fn opened(events: &[TenantEvent]) -> Option<&crate::policy::TransactionRecord> {
    events.iter().find_map(|e| match e {
        TenantEvent::Book(BookEvent::TransactionIssued { record }) if record.opened.is_some() => {
            Some(record.as_ref())
        }
        _ => None,
    })
}
