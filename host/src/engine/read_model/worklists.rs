//! Billing staff's worklists from the tenant's billing state: delinquent
//! accounts, disbursements awaiting approval, holds in force, invoices
//! coming due. (Quarantined plugins are the plugin runtime's, listed by the
//! api.) Each reads an index kept in `apply`, never every account.

use super::invoices::{InvoiceRow, index_range, invoice_key_text, parse_invoice_key};
use super::{
    CursorPage, PageRequest, ReadError, encode_cursor, numbered_key, page, parse_numbered_key,
};
use crate::collections::{Disbursement, DisbursementStatus, Hold, InvoiceState};
use crate::engine::state::TenantState;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::ops::Bound;

/// Days ahead `invoices-coming-due` looks unless asked.
pub const COMING_DUE_DAYS_DEFAULT: u32 = 14;
/// The most days ahead it looks.
pub const COMING_DUE_DAYS_MAX: u32 = 366;

/// A worklist of the billing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worklist {
    DelinquentAccounts,
    DisbursementsAwaitingApproval,
    ActiveHolds,
    /// Open invoices due from today to `days` later, both included.
    InvoicesComingDue {
        days: u32,
    },
}

impl Worklist {
    /// The worklist named in a path; `days` only for invoices coming due.
    pub fn parse(name: &str, days: Option<u32>) -> Result<Worklist, ReadError> {
        Ok(match name {
            "delinquent-accounts" => Worklist::DelinquentAccounts,
            "disbursements-awaiting-approval" => Worklist::DisbursementsAwaitingApproval,
            "active-holds" => Worklist::ActiveHolds,
            "invoices-coming-due" => Worklist::InvoicesComingDue {
                days: days
                    .unwrap_or(COMING_DUE_DAYS_DEFAULT)
                    .min(COMING_DUE_DAYS_MAX),
            },
            other => return Err(ReadError::UnknownWorklist(other.to_string())),
        })
    }
}

/// An account with a delinquency in grace.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelinquentAccountRow {
    pub account: String,
    /// Its delinquency in grace ending first.
    pub delinquency: String,
    pub started_on: NaiveDate,
    pub due_date: NaiveDate,
    pub grace_end: NaiveDate,
    /// The policies that lapse unless it is paid.
    pub policies: Vec<String>,
    /// What its open invoices owe.
    pub billed_outstanding: Decimal,
}

/// A disbursement drafted and waiting for approval.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisbursementRow {
    #[serde(flatten)]
    pub disbursement: Disbursement,
}

/// A hold in force today.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldRow {
    pub account: String,
    #[serde(flatten)]
    pub hold: Hold,
}

/// A row of a worklist.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum WorklistRow {
    DelinquentAccount(DelinquentAccountRow),
    Disbursement(DisbursementRow),
    Hold(HoldRow),
    Invoice(InvoiceRow),
}

/// A page of `worklist` on `today`.
pub fn worklist(
    state: &TenantState,
    worklist: Worklist,
    request: &PageRequest,
    today: NaiveDate,
) -> Result<CursorPage<WorklistRow>, ReadError> {
    let limit = request.limit();
    let after = request.after_text()?;
    let collections = &state.collections;
    let bad = |text: &str| ReadError::BadCursor(encode_cursor(text));
    match worklist {
        Worklist::DelinquentAccounts => {
            let start = after.map_or(Bound::Unbounded, Bound::Excluded);
            let rows: Vec<DelinquentAccountRow> = collections
                .index
                .delinquent
                .range((start, Bound::Unbounded))
                .filter_map(|locator| collections.accounts.get(locator))
                .filter_map(|account| {
                    let delinquency = account
                        .delinquencies
                        .iter()
                        .filter(|d| d.is_in_grace())
                        .min_by_key(|d| d.grace_end)?;
                    Some(DelinquentAccountRow {
                        account: account.locator.clone(),
                        delinquency: delinquency.locator.clone(),
                        started_on: delinquency.started_on,
                        due_date: delinquency.due_date,
                        grace_end: delinquency.grace_end,
                        policies: delinquency.policies.clone(),
                        billed_outstanding: super::at_scale(
                            account.open_balance(),
                            account.currency,
                        ),
                    })
                })
                .take(limit + 1)
                .collect();
            let answer = page(rows, limit, |row| row.account.clone());
            Ok(CursorPage {
                data: answer
                    .data
                    .into_iter()
                    .map(WorklistRow::DelinquentAccount)
                    .collect(),
                next_cursor: answer.next_cursor,
            })
        }
        Worklist::DisbursementsAwaitingApproval | Worklist::ActiveHolds => {
            let after = after
                .map(|text| parse_numbered_key(&text).ok_or_else(|| bad(&text)))
                .transpose()?;
            let start = after.as_ref().map_or(Bound::Unbounded, |(account, _)| {
                Bound::Included(account.clone())
            });
            let set = if worklist == Worklist::ActiveHolds {
                &collections.index.held
            } else {
                &collections.index.awaiting_approval
            };
            let mut rows: Vec<(String, usize, WorklistRow)> = Vec::new();
            'accounts: for locator in set.range((start, Bound::Unbounded)) {
                let Some(account) = collections.accounts.get(locator) else {
                    continue;
                };
                let skip = match &after {
                    Some((cursor_account, number)) if cursor_account == locator => *number,
                    _ => 0,
                };
                let found: Vec<(usize, WorklistRow)> = if worklist == Worklist::ActiveHolds {
                    account
                        .holds
                        .iter()
                        .enumerate()
                        .skip(skip)
                        .filter(|(_, h)| h.is_active_on(today))
                        .map(|(i, h)| {
                            (
                                i + 1,
                                WorklistRow::Hold(HoldRow {
                                    account: locator.clone(),
                                    hold: h.clone(),
                                }),
                            )
                        })
                        .collect()
                } else {
                    account
                        .disbursements
                        .iter()
                        .enumerate()
                        .skip(skip)
                        .filter(|(_, d)| d.status == DisbursementStatus::Draft)
                        .map(|(i, d)| {
                            (
                                i + 1,
                                WorklistRow::Disbursement(DisbursementRow {
                                    disbursement: d.clone(),
                                }),
                            )
                        })
                        .collect()
                };
                for (number, row) in found {
                    rows.push((locator.clone(), number, row));
                    if rows.len() > limit {
                        break 'accounts;
                    }
                }
            }
            let answer = page(rows, limit, |(account, number, _)| {
                numbered_key(account, *number)
            });
            Ok(CursorPage {
                data: answer.data.into_iter().map(|(_, _, row)| row).collect(),
                next_cursor: answer.next_cursor,
            })
        }
        Worklist::InvoicesComingDue { days } => {
            let after = after
                .map(|text| parse_invoice_key(&text).ok_or_else(|| bad(&text)))
                .transpose()?;
            let until = today + chrono::Days::new(u64::from(days));
            let rows: Vec<(String, WorklistRow)> = index_range(
                state,
                InvoiceState::Open,
                Some(today),
                Some(until),
                after.as_ref(),
            )
            .filter_map(|key| {
                let account = collections.accounts.get(&key.account)?;
                let row = InvoiceRow::of(account, key.number as usize - 1, today);
                Some((invoice_key_text(key), WorklistRow::Invoice(row)))
            })
            .take(limit + 1)
            .collect();
            let answer = page(rows, limit, |(key, _)| key.clone());
            Ok(CursorPage {
                data: answer.data.into_iter().map(|(_, row)| row).collect(),
                next_cursor: answer.next_cursor,
            })
        }
    }
}
