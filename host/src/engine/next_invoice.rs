//! The next invoice of an account: the first invoice the billing runs after
//! a preview's commands would issue for it. Not a second copy of the billing
//! rules: the account's own billing run ([`TenantState::run_account`], the
//! code a billing run commits) is made on the preview's copy of the tenant,
//! one day with work at a time (the days the run itself stops on), until a
//! run issues an invoice for the account or nothing is left to do. So the
//! next invoice has what the real one will have: its date after the billing
//! calendar, its due date, the flat charges and fees that ride on it, the
//! invoicing plugin's fees, and the credit the run applies to it.
//!
//! The copy is the preview's, so on the way the run may also mark invoices
//! past due, start delinquencies or lapse policies, as the real runs would;
//! only the invoice is reported.

use super::account_summary::AccountPosition;
use super::state::{EngineError, TenantState};
use crate::collections::decide::next_step;
use crate::collections::{InvoiceAdjuster, InvoiceItem, InvoiceRecord};
use crate::domain::Money;
use crate::policy::{CommandContext, RaterResolver};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// The most days with work the search for the next invoice runs through
/// (an account whose days keep bringing work without an invoice, a year of
/// daily steps, gives up there and reports none).
pub const NEXT_INVOICE_STEPS_MAX: usize = 400;

/// The invoice the next billing run of an account would issue.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextInvoice {
    /// The locator it would get (`<account>-I<n>`).
    pub locator: String,
    #[serde(serialize_with = "crate::domain::date_text::serialize_date")]
    pub issue_date: NaiveDate,
    #[serde(serialize_with = "crate::domain::date_text::serialize_date")]
    pub due_date: NaiveDate,
    pub items: Vec<InvoiceItem>,
    /// The sum of its items.
    pub total: Money,
    /// What it would still owe once the run has applied the account's
    /// credit to it (as the billing settings say): its total when no credit
    /// is applied.
    pub outstanding: Decimal,
    /// The account once the invoice is issued (and credit applied to it, or
    /// a credit invoice turned into credit).
    pub after: AccountPosition,
}

impl NextInvoice {
    fn of(record: &InvoiceRecord, after: AccountPosition) -> NextInvoice {
        let invoice = &record.invoice;
        NextInvoice {
            locator: invoice.locator.clone(),
            issue_date: invoice.issue_date,
            due_date: invoice.due_date,
            items: invoice.items.clone(),
            total: invoice.total,
            outstanding: record.outstanding(),
            after,
        }
    }
}

impl TenantState {
    /// Runs `account`'s billing forward, day with work by day with work,
    /// until a run issues an invoice for it: that invoice, or none when the
    /// account has nothing left to invoice (no installment, charge or fee
    /// waiting, or all of it held). Changes this state: call it on a copy.
    pub fn run_to_next_invoice(
        &mut self,
        account: &str,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<Option<NextInvoice>, EngineError> {
        let issued = self.collections.account(account)?.invoices.len();
        let mut cursor: Option<NaiveDate> = None;
        for _ in 0..NEXT_INVOICE_STEPS_MAX {
            let billing = self.collections.account(account)?;
            let settings = self.collections.settings_for(billing);
            let after = cursor.max(billing.processed_through);
            let Some(day) = next_step(billing, &settings, after, NaiveDate::MAX) else {
                return Ok(None);
            };
            self.run_account(account, day, context, raters, adjuster)?;
            if let Some(record) = self.collections.account(account)?.invoices.get(issued) {
                let after = AccountPosition::of(&self.collections, &self.ledger, account);
                return Ok(Some(NextInvoice::of(record, after)));
            }
            cursor = Some(day);
        }
        Ok(None)
    }
}
