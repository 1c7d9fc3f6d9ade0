//! The warehouse datasets read from a tenant's state (issue 21 item 6): the
//! rows of `export::warehouse`, filtered by a date range on each dataset's
//! own day and by a cursor, the ledger entry id each record posted.
//!
//! Loading only what is new: entry ids are a tenant's one growing sequence,
//! and a record and the entry it posts are appended together, so the rows
//! whose entry id is greater than the last load's cursor are exactly the
//! records added since. The cursor to keep is [`TenantState::warehouse_cursor`]
//! read with the rows (the last entry id of the book). Example: a first load
//! with no cursor answers the rows of entries 1 to 40 and cursor 40; after a
//! payment (entry 41) `?after=40` answers its allocations only, and cursor 41.

use super::accounting::at_scale;
use super::state::TenantState;
use crate::billing::earned_through;
use crate::collections::DisbursementStatus;
use crate::export::{
    AllocationRow, CommissionRow, DisbursementRow, EarnedPremiumRow, InstallmentRow,
    InvoiceLineRow, WriteOffRow,
};
use crate::ledger::{ChargeCategory, EntryId, EntryKind};
use crate::policy::Charge;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// Which rows a load wants: a range of days (each dataset's own day, both
/// ends included) and rows posted after a cursor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WarehouseFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Only rows whose ledger entry id is greater (rows with none are left
    /// out).
    pub after: Option<u64>,
}

impl WarehouseFilter {
    /// Whether a row of `day` and `entry` is wanted.
    pub fn keeps(&self, day: Option<NaiveDate>, entry: Option<u64>) -> bool {
        let in_range = match day {
            Some(day) => {
                self.from.is_none_or(|from| day >= from) && self.to.is_none_or(|to| day <= to)
            }
            None => self.from.is_none() && self.to.is_none(),
        };
        let new = match self.after {
            Some(after) => entry.is_some_and(|id| id > after),
            None => true,
        };
        in_range && new
    }
}

fn code<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn is_commission(charge: &Charge) -> bool {
    matches!(
        charge.category,
        ChargeCategory::Commission | ChargeCategory::FlatCommission
    )
}

impl TenantState {
    /// The cursor a load read now should keep: the book's last entry id (0
    /// for an empty book).
    pub fn warehouse_cursor(&self) -> u64 {
        self.ledger.next_id().0 - 1
    }

    /// The first entry of each (kind, reference).
    fn entries_by_reference(&self) -> BTreeMap<(EntryKind, &str), EntryId> {
        let mut ids = BTreeMap::new();
        for entry in self.ledger.entries() {
            ids.entry((entry.kind, entry.reference.as_str()))
                .or_insert(entry.id);
        }
        ids
    }

    /// Every line of every issued invoice (by account, invoice, line).
    pub fn invoice_lines(&self, filter: WarehouseFilter) -> Vec<InvoiceLineRow> {
        let ids = self.entries_by_reference();
        let mut rows = Vec::new();
        for account in self.collections.accounts.values() {
            for record in &account.invoices {
                let invoice = &record.invoice;
                let entry = ids
                    .get(&(EntryKind::InvoiceIssued, invoice.locator.as_str()))
                    .map(|id| id.0);
                if !filter.keeps(Some(invoice.issue_date), entry) {
                    continue;
                }
                let currency = invoice.currency;
                for item in &invoice.items {
                    rows.push(InvoiceLineRow {
                        entry_id: entry,
                        invoice: invoice.locator.clone(),
                        account: invoice.account.clone(),
                        invoice_number: invoice.number,
                        issue_date: invoice.issue_date,
                        due_date: invoice.due_date,
                        currency: currency.code().to_string(),
                        invoice_total: at_scale(invoice.total.amount, currency),
                        line: item.locator.clone(),
                        kind: code(&item.kind),
                        policy: item.policy.clone(),
                        transaction: item.transaction.clone(),
                        charge: item.charge.clone(),
                        charge_name: item.charge_name.clone(),
                        category: item.category.to_string(),
                        slice: item
                            .slice
                            .as_ref()
                            .map(|s| format!("{}#{}", s.policy, s.index)),
                        term: item.slice.as_ref().map(|s| s.term),
                        installment: item.slice.as_ref().map(|s| s.installment),
                        period_start: item.period.map(|p| p.start()),
                        period_end: item.period.map(|p| p.end()),
                        amount: at_scale(item.amount.amount, currency),
                        corrects: item.corrects.clone(),
                    });
                }
            }
        }
        rows
    }

    /// Every payment split into what settled each invoice and what went to
    /// customer credit.
    pub fn payment_allocations(&self, filter: WarehouseFilter) -> Vec<AllocationRow> {
        let mut rows = Vec::new();
        for account in self.collections.accounts.values() {
            for record in &account.payments {
                let payment = &record.payment;
                let entry = payment.entry.0;
                if !filter.keeps(Some(payment.received_on), Some(entry)) {
                    continue;
                }
                let currency = payment.amount.currency;
                let row = |target, invoice: Option<String>, amount| AllocationRow {
                    entry_id: entry,
                    payment: payment.locator.clone(),
                    account: payment.account.clone(),
                    received_on: payment.received_on,
                    currency: currency.code().to_string(),
                    payment_amount: at_scale(payment.amount.amount, currency),
                    target,
                    invoice,
                    amount: at_scale(amount, currency),
                    reversed_on: record.reversed_on,
                };
                for allocation in &payment.allocations {
                    rows.push(row(
                        "invoice",
                        Some(allocation.invoice.clone()),
                        allocation.amount,
                    ));
                }
                if !payment.to_credit.is_zero() {
                    rows.push(row("customer_credit", None, payment.to_credit));
                }
            }
        }
        rows
    }

    /// Every write-off.
    pub fn write_off_rows(&self, filter: WarehouseFilter) -> Vec<WriteOffRow> {
        let mut rows = Vec::new();
        for account in self.collections.accounts.values() {
            for record in &account.write_offs {
                let w = &record.write_off;
                if !filter.keeps(Some(w.on), Some(w.entry.0)) {
                    continue;
                }
                rows.push(WriteOffRow {
                    entry_id: w.entry.0,
                    write_off: w.locator.clone(),
                    account: w.account.clone(),
                    invoice: w.invoice.clone(),
                    line: w.item.clone(),
                    currency: w.amount.currency.code().to_string(),
                    amount: at_scale(w.amount.amount, w.amount.currency),
                    written_off_on: w.on,
                    automatic: w.automatic,
                    reason: w.reason.clone(),
                    reversed_on: record.reversed_on,
                });
            }
        }
        rows
    }

    /// Every disbursement, whatever its status.
    pub fn disbursement_rows(&self, filter: WarehouseFilter) -> Vec<DisbursementRow> {
        let ids = self.entries_by_reference();
        let mut rows = Vec::new();
        for account in self.collections.accounts.values() {
            for d in &account.disbursements {
                let entry = ids
                    .get(&(EntryKind::DisbursementExecuted, d.locator.as_str()))
                    .map(|id| id.0);
                if !filter.keeps(Some(d.drafted_on), entry) {
                    continue;
                }
                let (status_on, execute_on, executed_on) = match &d.status {
                    DisbursementStatus::Draft => (None, None, None),
                    DisbursementStatus::Approved { on, execute_on } => {
                        (Some(*on), Some(*execute_on), None)
                    }
                    DisbursementStatus::Executed { on, .. } => (Some(*on), None, Some(*on)),
                    DisbursementStatus::Rejected { on, .. } => (Some(*on), None, None),
                    DisbursementStatus::Reversed {
                        on, executed_on, ..
                    } => (Some(*on), None, Some(*executed_on)),
                };
                rows.push(DisbursementRow {
                    entry_id: entry,
                    disbursement: d.locator.clone(),
                    account: d.account.clone(),
                    currency: d.amount.currency.code().to_string(),
                    amount: at_scale(d.amount.amount, d.amount.currency),
                    drafted_on: d.drafted_on,
                    reason: d.reason.clone(),
                    status: d.status.name(),
                    status_on,
                    execute_on,
                    executed_on,
                });
            }
        }
        rows
    }

    /// Every installment slice of every policy, with the invoice line that
    /// billed it.
    pub fn installment_rows(&self, filter: WarehouseFilter) -> Vec<InstallmentRow> {
        let ids = self.entries_by_reference();
        // (policy, slice index) -> (invoice, line).
        let mut billed: BTreeMap<(&str, u32), (&str, &str)> = BTreeMap::new();
        for account in self.collections.accounts.values() {
            for record in &account.invoices {
                for item in &record.invoice.items {
                    if let Some(slice) = &item.slice {
                        billed
                            .entry((slice.policy.as_str(), slice.index))
                            .or_insert((record.invoice.locator.as_str(), item.locator.as_str()));
                    }
                }
            }
        }
        let mut rows = Vec::new();
        for policy in self.book.policies.values() {
            let charges: BTreeMap<&str, &Charge> = policy
                .charges
                .iter()
                .map(|c| (c.locator.as_str(), c))
                .collect();
            let locator = policy.header.locator.as_str();
            for (index, slice) in policy.slices.iter().enumerate() {
                let index = index as u32;
                let charge = charges.get(slice.charge.as_str());
                let transaction = charge.map(|c| c.transaction.as_str()).unwrap_or_default();
                let entry = ids
                    .get(&(EntryKind::ChargeWritten, transaction))
                    .map(|id| id.0);
                if !filter.keeps(Some(slice.invoice_date), entry) {
                    continue;
                }
                let on_invoice = billed.get(&(locator, index));
                let currency = slice.amount.currency;
                rows.push(InstallmentRow {
                    entry_id: entry,
                    slice: format!("{locator}#{index}"),
                    policy: locator.to_string(),
                    account: policy.header.account.clone(),
                    transaction: transaction.to_string(),
                    charge: slice.charge.to_string(),
                    category: charge.map(|c| c.category.to_string()).unwrap_or_default(),
                    term: slice.term,
                    installment: slice.installment,
                    installment_start: slice.installment_period.start(),
                    installment_end: slice.installment_period.end(),
                    currency: currency.code().to_string(),
                    amount: at_scale(slice.amount.amount, currency),
                    invoice_date: slice.invoice_date,
                    due_date: slice.due_date,
                    caught_up: slice.caught_up,
                    netted: policy.netted.contains(&index),
                    invoice: on_invoice.map(|(invoice, _)| invoice.to_string()),
                    invoice_line: on_invoice.map(|(_, line)| line.to_string()),
                });
            }
        }
        rows
    }

    /// Per premium charge written by the end of `as_of`: written, earned
    /// (by the formula, [`crate::billing::earned_through`]) and unearned, and
    /// what runs have posted.
    pub fn earned_premium_rows(
        &self,
        as_of: NaiveDate,
    ) -> Result<Vec<EarnedPremiumRow>, super::AccountingError> {
        let mut rows = Vec::new();
        for premium in self.premium_charges() {
            if premium.written_on.is_none_or(|day| day > as_of) {
                continue;
            }
            let charge = premium.charge;
            let currency = charge.amount.currency;
            let earned = earned_through(
                charge.amount,
                charge.period,
                premium.basis,
                premium.mode,
                as_of,
            )?
            .amount;
            rows.push(EarnedPremiumRow {
                as_of,
                charge: charge.locator.clone(),
                policy: charge.policy.clone(),
                product: premium.product.map(str::to_string),
                account: charge.account.clone(),
                transaction: charge.transaction.clone(),
                written_on: premium.written_on,
                period_start: charge.period.map(|p| p.start()),
                period_end: charge.period.map(|p| p.end()),
                currency: currency.code().to_string(),
                written: at_scale(charge.amount.amount, currency),
                earned: at_scale(earned, currency),
                unearned: at_scale(charge.amount.amount - earned, currency),
                earned_posted: at_scale(self.accounting.earned_posted(&charge.locator), currency),
            });
        }
        Ok(rows)
    }

    /// Every commission charge with a recipient (the producer), beside the
    /// premium its transaction wrote for the same item.
    pub fn commission_rows(&self, filter: WarehouseFilter) -> Vec<CommissionRow> {
        let ids = self.entries_by_reference();
        let mut rows = Vec::new();
        for policy in self.book.policies.values() {
            for charge in policy.charges.iter().filter(|c| is_commission(c)) {
                let Some(producer) = charge.recipient.as_deref() else {
                    continue;
                };
                let entry = ids
                    .get(&(EntryKind::ChargeWritten, charge.transaction.as_str()))
                    .map(|id| id.0);
                let posted_on = self.accounting.written_on(&charge.transaction).or_else(|| {
                    policy
                        .transaction(&charge.transaction)
                        .map(|t| t.issued_at.date_naive())
                });
                if !filter.keeps(posted_on, entry) {
                    continue;
                }
                let currency = charge.amount.currency;
                let premiums: Vec<&Charge> = policy
                    .charges
                    .iter()
                    .filter(|c| {
                        super::accounting::is_premium(c)
                            && c.transaction == charge.transaction
                            && c.item == charge.item
                            && c.amount.currency == currency
                    })
                    .collect();
                let premium: Decimal = premiums.iter().map(|c| c.amount.amount).sum();
                let technical: Vec<Decimal> = premiums
                    .iter()
                    .filter_map(|c| c.technical_premium)
                    .collect();
                rows.push(CommissionRow {
                    entry_id: entry,
                    producer: producer.to_string(),
                    kind: if charge.amount.amount.is_sign_negative() {
                        "chargeback"
                    } else {
                        "written"
                    },
                    posted_on,
                    policy: charge.policy.clone(),
                    account: charge.account.clone(),
                    transaction: charge.transaction.clone(),
                    charge: charge.locator.clone(),
                    item: charge.item.clone(),
                    currency: currency.code().to_string(),
                    amount: at_scale(charge.amount.amount, currency),
                    premium: at_scale(premium, currency),
                    technical_premium: (!technical.is_empty())
                        .then(|| at_scale(technical.into_iter().sum(), currency)),
                });
            }
        }
        rows.sort_by(|a, b| {
            (a.entry_id, &a.producer, &a.charge).cmp(&(b.entry_id, &b.producer, &b.charge))
        });
        rows
    }
}
