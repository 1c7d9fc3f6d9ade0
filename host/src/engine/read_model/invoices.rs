//! Invoices: listed by account, status and due date, and one in detail with
//! its items (the slices, charges and transactions they bill), the payments
//! and credit applied to it, its write-offs and the corrections linking it
//! to other invoices.

use super::{CursorPage, PageRequest, ReadError, at_scale, encode_cursor, page};
use crate::collections::{AccountBilling, InvoiceItem, InvoiceKey, InvoiceState, WriteOffRecord};
use crate::domain::Money;
use crate::engine::state::TenantState;
use crate::policy::{InstallmentSlice, TransactionKind};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeSet;
use std::ops::Bound;

/// Where an invoice stands on the tenant's today.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Still owes something, not yet past its due date.
    Open,
    /// Still owes something, due before today.
    PastDue,
    /// Settled by payments and credit.
    Paid,
    /// Closed with a write-off.
    WrittenOff,
}

impl InvoiceStatus {
    pub fn parse(name: &str) -> Result<InvoiceStatus, ReadError> {
        match name {
            "open" => Ok(InvoiceStatus::Open),
            "past_due" => Ok(InvoiceStatus::PastDue),
            "paid" => Ok(InvoiceStatus::Paid),
            "written_off" => Ok(InvoiceStatus::WrittenOff),
            other => Err(ReadError::UnknownStatus(other.to_string())),
        }
    }

    fn of(state: InvoiceState, due: NaiveDate, today: NaiveDate) -> InvoiceStatus {
        match state {
            InvoiceState::Open if due < today => InvoiceStatus::PastDue,
            InvoiceState::Open => InvoiceStatus::Open,
            InvoiceState::Paid => InvoiceStatus::Paid,
            InvoiceState::WrittenOff => InvoiceStatus::WrittenOff,
        }
    }
}

/// Days `due` is past on `today` (1 the day after it), or none when it is
/// not past due.
pub(super) fn past_due_days(due: NaiveDate, today: NaiveDate) -> Option<i64> {
    (due < today).then(|| (today - due).num_days())
}

/// An invoice in a list.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceRow {
    pub locator: String,
    pub account: String,
    pub number: u32,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub total: Money,
    pub paid: Decimal,
    pub credited: Decimal,
    pub written_off: Decimal,
    pub outstanding: Decimal,
    pub status: InvoiceStatus,
    /// Days past due on today, for an invoice past due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_past_due: Option<i64>,
    /// The policies it bills.
    pub policies: Vec<String>,
    pub catch_up: bool,
    pub sent: bool,
}

impl InvoiceRow {
    /// The row of the invoice at `position` of `account`.
    pub fn of(account: &AccountBilling, position: usize, today: NaiveDate) -> InvoiceRow {
        let record = &account.invoices[position];
        let invoice = &record.invoice;
        let status = InvoiceStatus::of(account.invoice_state(position), invoice.due_date, today);
        InvoiceRow {
            locator: invoice.locator.clone(),
            account: invoice.account.clone(),
            number: invoice.number,
            issue_date: invoice.issue_date,
            due_date: invoice.due_date,
            total: invoice.total,
            paid: at_scale(record.paid, invoice.currency),
            credited: at_scale(record.credited, invoice.currency),
            written_off: at_scale(record.written_off, invoice.currency),
            outstanding: at_scale(record.outstanding(), invoice.currency),
            status,
            days_past_due: if status == InvoiceStatus::PastDue {
                past_due_days(invoice.due_date, today)
            } else {
                None
            },
            policies: invoice.policies().into_iter().map(str::to_string).collect(),
            catch_up: invoice.catch_up,
            sent: invoice.sent,
        }
    }
}

/// The filters of an invoice list (all optional; together they all apply).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceQuery {
    pub account: Option<String>,
    pub status: Option<InvoiceStatus>,
    /// Due on or after.
    pub due_from: Option<NaiveDate>,
    /// Due on or before.
    pub due_to: Option<NaiveDate>,
}

/// The invoices the query asks for, as of `today`. With an account: its
/// invoices by number. Without: the tenant's, from the index by state and
/// due date (open and past due, then paid, then written off; by due date
/// within each), so only the rows answered and the ones the filters pass
/// over inside the due range are read.
pub fn list_invoices(
    state: &TenantState,
    query: &InvoiceQuery,
    request: &PageRequest,
    today: NaiveDate,
) -> Result<CursorPage<InvoiceRow>, ReadError> {
    if let (Some(from), Some(to)) = (query.due_from, query.due_to)
        && from > to
    {
        return Err(ReadError::DueRange { from, to });
    }
    let limit = request.limit();
    let after = request.after_text()?;
    let due_ok = |due: NaiveDate| {
        query.due_from.is_none_or(|from| due >= from) && query.due_to.is_none_or(|to| due <= to)
    };
    if let Some(account) = &query.account {
        let billing = state
            .collections
            .accounts
            .get(account)
            .ok_or_else(|| ReadError::UnknownAccount(account.clone()))?;
        let from = match after {
            Some(text) => text
                .parse::<usize>()
                .map_err(|_| ReadError::BadCursor(encode_cursor(&text)))?,
            None => 0,
        };
        let wanted = |position: usize| {
            let record = &billing.invoices[position];
            due_ok(record.invoice.due_date)
                && query.status.is_none_or(|status| {
                    status
                        == InvoiceStatus::of(
                            billing.invoice_state(position),
                            record.invoice.due_date,
                            today,
                        )
                })
        };
        // Open and past-due invoices come from the account's open set.
        let positions: Box<dyn Iterator<Item = usize>> = match query.status {
            Some(InvoiceStatus::Open | InvoiceStatus::PastDue) => {
                Box::new(billing.open.range(from..).copied())
            }
            _ => Box::new(from..billing.invoices.len()),
        };
        let rows: Vec<InvoiceRow> = positions
            .filter(|i| wanted(*i))
            .take(limit + 1)
            .map(|i| InvoiceRow::of(billing, i, today))
            .collect();
        return Ok(page(rows, limit, |row| row.number.to_string()));
    }
    let after_key = after
        .as_deref()
        .map(|text| {
            parse_invoice_key(text).ok_or_else(|| ReadError::BadCursor(encode_cursor(text)))
        })
        .transpose()?;
    let mut ranges: Vec<(InvoiceState, Option<NaiveDate>, Option<NaiveDate>)> = Vec::new();
    let yesterday = today.pred_opt().unwrap_or(today);
    let (from, to) = (query.due_from, query.due_to);
    match query.status {
        Some(InvoiceStatus::Open) => ranges.push((
            InvoiceState::Open,
            Some(from.map_or(today, |f| f.max(today))),
            to,
        )),
        Some(InvoiceStatus::PastDue) => ranges.push((
            InvoiceState::Open,
            from,
            Some(to.map_or(yesterday, |t| t.min(yesterday))),
        )),
        Some(InvoiceStatus::Paid) => ranges.push((InvoiceState::Paid, from, to)),
        Some(InvoiceStatus::WrittenOff) => ranges.push((InvoiceState::WrittenOff, from, to)),
        None => {
            for state in [
                InvoiceState::Open,
                InvoiceState::Paid,
                InvoiceState::WrittenOff,
            ] {
                ranges.push((state, from, to));
            }
        }
    }
    let mut rows = Vec::new();
    for (invoice_state, from, to) in ranges {
        let keys = index_range(state, invoice_state, from, to, after_key.as_ref());
        for key in keys {
            let Some(account) = state.collections.accounts.get(&key.account) else {
                continue;
            };
            rows.push(InvoiceRow::of(account, key.number as usize - 1, today));
            if rows.len() > limit {
                break;
            }
        }
        if rows.len() > limit {
            break;
        }
    }
    Ok(page(rows, limit, |row| {
        let position = row.number as usize - 1;
        let account = &state.collections.accounts[&row.account];
        invoice_key_text(&account.invoice_key(position))
    }))
}

/// The keys of the index in `state` due between `from` and `to` (both
/// included), after `after`.
pub(super) fn index_range<'a>(
    state: &'a TenantState,
    invoice_state: InvoiceState,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    after: Option<&InvoiceKey>,
) -> impl Iterator<Item = &'a InvoiceKey> + 'a {
    let key = |due: NaiveDate| InvoiceKey {
        state: invoice_state,
        due,
        account: String::new(),
        number: 0,
    };
    let lower = key(from.unwrap_or(NaiveDate::MIN));
    let start = match after {
        Some(after) if *after >= lower => Bound::Excluded(after.clone()),
        _ => Bound::Included(lower),
    };
    let end = match to.and_then(|t| t.succ_opt()) {
        Some(next) => Bound::Excluded(key(next)),
        None => Bound::Excluded(InvoiceKey {
            state: invoice_state,
            due: NaiveDate::MAX,
            account: String::from(char::MAX),
            number: u32::MAX,
        }),
    };
    let empty = match (&start, &end) {
        (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e)) => s >= e,
        _ => false,
    };
    let range = if empty {
        None
    } else {
        Some(state.collections.index.invoices.range((start, end)))
    };
    range.into_iter().flatten()
}

/// The cursor text of an index key.
pub(super) fn invoice_key_text(key: &InvoiceKey) -> String {
    format!(
        "{}\n{}\n{}\n{}",
        key.state.name(),
        key.due,
        key.number,
        key.account
    )
}

pub(super) fn parse_invoice_key(text: &str) -> Option<InvoiceKey> {
    let mut parts = text.splitn(4, '\n');
    Some(InvoiceKey {
        state: InvoiceState::parse(parts.next()?)?,
        due: parts.next()?.parse().ok()?,
        number: parts.next()?.parse().ok()?,
        account: parts.next()?.to_string(),
    })
}

/// The transaction an item's charge was booked by.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionBrief {
    pub locator: String,
    pub kind: TransactionKind,
    pub effective: NaiveDate,
    pub term: u32,
}

/// An invoice's item with what it bills.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemDetail {
    #[serde(flatten)]
    pub item: InvoiceItem,
    /// Written off of this item alone.
    pub written_off: Decimal,
    /// The installment slice it bills, as the policy book holds it.
    pub installment: Option<InstallmentSlice>,
    /// The transaction that booked its charge.
    pub booked_by: Option<TransactionBrief>,
    /// Items of later invoices that correct this one (`<invoice>-<n>`).
    pub corrected_by: Vec<String>,
}

/// A payment's part in settling an invoice.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedPayment {
    pub payment: String,
    pub received_on: NaiveDate,
    /// The part of the payment applied to this invoice.
    pub amount: Decimal,
    pub reversed_on: Option<NaiveDate>,
}

/// An invoice in detail.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceDetail {
    #[serde(flatten)]
    pub row: InvoiceRow,
    pub effective_on: NaiveDate,
    pub items: Vec<ItemDetail>,
    /// The payments applied to it.
    pub payments: Vec<AppliedPayment>,
    pub write_offs: Vec<WriteOffRecord>,
    /// Earlier invoices whose items its items correct.
    pub corrects: Vec<String>,
    /// Later invoices with items correcting its items.
    pub corrected_by: Vec<String>,
}

/// The invoice whose item `item` (`<invoice>-<n>`) is.
fn invoice_of_item(item: &str) -> &str {
    item.rsplit_once('-').map_or(item, |(invoice, _)| invoice)
}

/// The account of an invoice locator `<account>-I<n>`.
fn account_of_invoice(invoice: &str) -> Option<&str> {
    invoice.rsplit_once("-I").map(|(account, _)| account)
}

/// One invoice with its items, payments, write-offs and corrections.
pub fn invoice_detail(
    state: &TenantState,
    invoice: &str,
    today: NaiveDate,
) -> Result<InvoiceDetail, ReadError> {
    let unknown = || ReadError::UnknownInvoice(invoice.to_string());
    let account = account_of_invoice(invoice)
        .and_then(|a| state.collections.accounts.get(a))
        .ok_or_else(unknown)?;
    let position = account.invoice_position(invoice).ok_or_else(unknown)?;
    let record = &account.invoices[position];
    // Corrections of its items: in the invoices issued after it.
    let own: BTreeSet<&str> = record
        .invoice
        .items
        .iter()
        .map(|i| i.locator.as_str())
        .collect();
    let mut corrections: Vec<(&str, &str)> = Vec::new();
    for later in account.invoices.iter().skip(position + 1) {
        for item in &later.invoice.items {
            if let Some(corrected) = item.corrects.as_deref()
                && own.contains(corrected)
            {
                corrections.push((corrected, item.locator.as_str()));
            }
        }
    }
    let items = record
        .invoice
        .items
        .iter()
        .map(|item| {
            let policy = item
                .policy
                .as_deref()
                .and_then(|p| state.book.policies.get(p));
            let installment = item
                .slice
                .as_ref()
                .and_then(|s| policy.and_then(|p| p.slices.get(s.index as usize)).cloned());
            let booked_by = item.transaction.as_deref().and_then(|t| {
                policy
                    .and_then(|p| p.transaction(t))
                    .map(|t| TransactionBrief {
                        locator: t.locator.clone(),
                        kind: t.kind,
                        effective: t.effective,
                        term: t.term,
                    })
            });
            ItemDetail {
                written_off: at_scale(
                    record
                        .item_written_off
                        .get(&item.locator)
                        .copied()
                        .unwrap_or_default(),
                    record.invoice.currency,
                ),
                installment,
                booked_by,
                corrected_by: corrections
                    .iter()
                    .filter(|(corrected, _)| *corrected == item.locator)
                    .map(|(_, by)| by.to_string())
                    .collect(),
                item: item.clone(),
            }
        })
        .collect::<Vec<_>>();
    let mut corrects: Vec<String> = record
        .invoice
        .items
        .iter()
        .filter_map(|i| i.corrects.as_deref())
        .map(|c| invoice_of_item(c).to_string())
        .collect();
    corrects.sort();
    corrects.dedup();
    let mut corrected_by: Vec<String> = corrections
        .iter()
        .map(|(_, by)| invoice_of_item(by).to_string())
        .collect();
    corrected_by.sort();
    corrected_by.dedup();
    let payments = account
        .payments
        .iter()
        .flat_map(|p| {
            p.payment
                .allocations
                .iter()
                .filter(|a| a.invoice == invoice)
                .map(move |a| AppliedPayment {
                    payment: p.payment.locator.clone(),
                    received_on: p.payment.received_on,
                    amount: a.amount,
                    reversed_on: p.reversed_on,
                })
        })
        .collect();
    Ok(InvoiceDetail {
        row: InvoiceRow::of(account, position, today),
        effective_on: record.invoice.effective_on,
        items,
        payments,
        write_offs: account
            .write_offs
            .iter()
            .filter(|w| w.write_off.invoice == invoice)
            .cloned()
            .collect(),
        corrects,
        corrected_by,
    })
}
