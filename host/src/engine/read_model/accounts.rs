//! Accounts: search by locator or name with filters, an account's whole
//! picture (balances with ageing, policies and their terms, upcoming
//! installments, delinquency, holds, write-offs, disbursements, settings in
//! effect) and its payments with how they were applied.

use super::invoices::{InvoiceRow, past_due_days};
use super::{CursorPage, PageRequest, ReadError, at_scale, encode_cursor, page};
use crate::collections::{
    AccountBilling, AccountOverrides, BillingSettings, Delinquency, Disbursement, Hold,
    PaymentRecord, WriteOffRecord,
};
use crate::domain::{Currency, Money, Period};
use crate::engine::account_summary::AccountPosition;
use crate::engine::state::TenantState;
use crate::policy::PolicyState;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeSet;
use std::ops::Bound;

/// The upcoming installments an account's picture shows unless asked.
pub const UPCOMING_INSTALLMENTS_DEFAULT: usize = 6;
/// The most upcoming installments it shows.
pub const UPCOMING_INSTALLMENTS_MAX: usize = 120;

/// The most open invoices an account's picture lists (oldest due first);
/// `GET /v1/invoices?account=` pages through the rest.
pub const SUMMARY_OPEN_INVOICES_MAX: usize = 100;

/// A filter of the account search.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountFilter {
    /// A delinquency in grace.
    Delinquent,
    /// Customer credit other than zero.
    WithCredit,
    /// A hold in force today.
    OnHold,
    /// An open invoice due before today.
    PastDue,
}

impl AccountFilter {
    /// Filters from `delinquent,past_due`.
    pub fn parse_list(text: &str) -> Result<Vec<AccountFilter>, ReadError> {
        text.split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| match name {
                "delinquent" => Ok(AccountFilter::Delinquent),
                "with_credit" => Ok(AccountFilter::WithCredit),
                "on_hold" => Ok(AccountFilter::OnHold),
                "past_due" => Ok(AccountFilter::PastDue),
                other => Err(ReadError::UnknownFilter(other.to_string())),
            })
            .collect()
    }

    fn holds(self, account: &AccountBilling, today: NaiveDate) -> bool {
        match self {
            AccountFilter::Delinquent => account.delinquencies.iter().any(|d| d.is_in_grace()),
            AccountFilter::WithCredit => !account.credit.is_zero(),
            AccountFilter::OnHold => account.holds.iter().any(|h| h.is_active_on(today)),
            AccountFilter::PastDue => account
                .open
                .iter()
                .any(|i| account.invoices[*i].invoice.due_date < today),
        }
    }
}

/// An account in a search.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountRow {
    pub locator: String,
    pub name: String,
    pub currency: Currency,
    /// What its open invoices still owe.
    pub billed_outstanding: Decimal,
    /// The part of it due before today.
    pub past_due: Decimal,
    pub credit: Decimal,
    pub delinquent: bool,
    pub on_hold: bool,
}

fn account_row(state: &TenantState, account: &AccountBilling, today: NaiveDate) -> AccountRow {
    let past_due = account
        .open
        .iter()
        .map(|i| &account.invoices[*i])
        .filter(|r| r.invoice.due_date < today)
        .map(|r| r.outstanding())
        .sum();
    let money = |value| at_scale(value, account.currency);
    AccountRow {
        locator: account.locator.clone(),
        name: state
            .book
            .accounts
            .get(&account.locator)
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        currency: account.currency,
        billed_outstanding: money(account.open_balance()),
        past_due: money(past_due),
        credit: money(account.credit),
        delinquent: AccountFilter::Delinquent.holds(account, today),
        on_hold: AccountFilter::OnHold.holds(account, today),
    }
}

/// Accounts whose locator or name starts with `q` (ignoring case), with
/// every filter holding, as of `today`.
///
/// Without `q`, in locator order, from the index of the first filter (or
/// every account without one); with `q`, in the order of the matched text
/// (locator or name, lower-cased), then locator.
pub fn search_accounts(
    state: &TenantState,
    q: Option<&str>,
    filters: &[AccountFilter],
    request: &PageRequest,
    today: NaiveDate,
) -> Result<CursorPage<AccountRow>, ReadError> {
    let limit = request.limit();
    let after = request.after_text()?;
    let collections = &state.collections;
    let keep = |account: &AccountBilling| filters.iter().all(|f| f.holds(account, today));
    let q = q.map(str::to_lowercase).filter(|q| !q.is_empty());
    let Some(q) = q else {
        // Locator order, from the first filter's candidates.
        let start = match &after {
            Some(locator) => Bound::Excluded(locator.clone()),
            None => Bound::Unbounded,
        };
        let range = (start, Bound::Unbounded);
        let index = &collections.index;
        let past_due_accounts: BTreeSet<String>;
        let candidates: Box<dyn Iterator<Item = &String>> = match filters.first() {
            None => Box::new(collections.accounts.range(range).map(|(k, _)| k)),
            Some(AccountFilter::Delinquent) => Box::new(index.delinquent.range(range)),
            Some(AccountFilter::WithCredit) => Box::new(index.with_credit.range(range)),
            Some(AccountFilter::OnHold) => Box::new(index.held.range(range)),
            Some(AccountFilter::PastDue) => {
                past_due_accounts = past_due_accounts_on(state, today);
                Box::new(past_due_accounts.range(range))
            }
        };
        let rows: Vec<AccountRow> = candidates
            .filter_map(|locator| collections.accounts.get(locator))
            .filter(|a| keep(a))
            .take(limit + 1)
            .map(|a| account_row(state, a, today))
            .collect();
        return Ok(page(rows, limit, |row| row.locator.clone()));
    };
    let start = match &after {
        Some(text) => {
            let (key, locator) = text
                .split_once('\n')
                .ok_or_else(|| ReadError::BadCursor(encode_cursor(text)))?;
            Bound::Excluded((key.to_string(), locator.to_string()))
        }
        None => Bound::Included((q.clone(), String::new())),
    };
    let mut rows: Vec<(String, AccountRow)> = Vec::new();
    for (key, locator) in collections.index.search.range((start, Bound::Unbounded)) {
        if !key.starts_with(&q) {
            break;
        }
        // An account found by both its locator and its name is listed once,
        // by its locator.
        if *key != locator.to_lowercase() && locator.to_lowercase().starts_with(&q) {
            continue;
        }
        let Some(account) = collections.accounts.get(locator) else {
            continue;
        };
        if !keep(account) {
            continue;
        }
        rows.push((key.clone(), account_row(state, account, today)));
        if rows.len() > limit {
            break;
        }
    }
    let answer = page(rows, limit, |(key, row)| format!("{key}\n{}", row.locator));
    Ok(CursorPage {
        data: answer.data.into_iter().map(|(_, row)| row).collect(),
        next_cursor: answer.next_cursor,
    })
}

/// The accounts with an open invoice due before `today`, from the index of
/// open invoices by due date.
fn past_due_accounts_on(state: &TenantState, today: NaiveDate) -> BTreeSet<String> {
    use crate::collections::{InvoiceKey, InvoiceState};
    let from = InvoiceKey {
        state: InvoiceState::Open,
        due: NaiveDate::MIN,
        account: String::new(),
        number: 0,
    };
    let to = InvoiceKey {
        state: InvoiceState::Open,
        due: today,
        account: String::new(),
        number: 0,
    };
    state
        .collections
        .index
        .invoices
        .range(from..to)
        .map(|key| key.account.clone())
        .collect()
}

/// Money past due by age: days past its due date as of today (an invoice
/// due yesterday is 1 day past due).
#[derive(utoipa::ToSchema, Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Ageing {
    /// 0 to 29 days past due.
    pub days_0_29: Decimal,
    pub days_30_59: Decimal,
    pub days_60_89: Decimal,
    /// 90 days past due or more.
    pub days_90_plus: Decimal,
}

/// An account's balances.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balances {
    /// What its open invoices still owe.
    pub billed_outstanding: Decimal,
    /// Charged but not yet invoiced (the unbilled receivable).
    pub unbilled: Decimal,
    /// Customer credit, refunds drafted or approved included.
    pub credit: Decimal,
    /// Credit not held back by drafted or approved refunds.
    pub available_credit: Decimal,
    /// The part of `billed_outstanding` due before today.
    pub past_due: Decimal,
    pub ageing: Ageing,
}

/// A policy's standing on the tenant's today.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyStatus {
    /// Today falls in a term, not cancelled.
    InForce,
    /// In force, with a delinquency in grace that lapses it unless paid.
    PendingLapse,
    /// Cancelled on request (or by the policy system) for today.
    Cancelled,
    /// Cancelled for non-payment (a delinquency's lapse).
    Lapsed,
    /// Its first term starts after today.
    NotStarted,
    /// Its last term ended before today.
    Expired,
}

/// A term, and whether billing has confirmed it (its first invoice paid).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermView {
    pub term: u32,
    pub period: Period,
    pub plan: String,
    pub bound_on: Option<NaiveDate>,
    pub confirmed: bool,
}

/// A policy of the account.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyStanding {
    pub policy: String,
    pub product: String,
    pub status: PolicyStatus,
    pub terms: Vec<TermView>,
}

/// An installment slice still to be invoiced.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpcomingInstallment {
    pub policy: String,
    pub term: u32,
    /// The installment within its term, from 0.
    pub installment: u32,
    pub charge: String,
    pub invoice_date: NaiveDate,
    pub due_date: NaiveDate,
    pub period: Period,
    pub amount: Money,
}

/// An account's whole picture on the tenant's today.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountOverview {
    pub account: String,
    pub name: String,
    pub currency: Currency,
    /// The tenant's today: the day ageing and statuses are worked out on.
    pub today: NaiveDate,
    pub balances: Balances,
    pub policies: Vec<PolicyStanding>,
    /// Open invoices, oldest due first: the first
    /// [`SUMMARY_OPEN_INVOICES_MAX`] of them.
    pub open_invoices: Vec<InvoiceRow>,
    /// How many invoices are open (past due or not), listed or not.
    pub open_invoice_count: usize,
    /// The next installment slices to invoice, by invoice date.
    pub upcoming_installments: Vec<UpcomingInstallment>,
    /// Every delinquency; `status` is its stage (`in_grace`, `ended`,
    /// `lapsed`, `closed_by_reinstatement`), `grace_end` its last day of grace.
    pub delinquencies: Vec<Delinquency>,
    /// Every hold, released or not.
    pub holds: Vec<Hold>,
    /// The locators of the holds in force today.
    pub active_holds: Vec<String>,
    pub write_offs: Vec<WriteOffRecord>,
    pub disbursements: Vec<Disbursement>,
    /// The tenant's billing settings with the account's overrides applied.
    pub settings: BillingSettings,
    /// The account's overrides alone.
    pub overrides: AccountOverrides,
    /// The last day a billing run finished the account through.
    pub processed_through: Option<NaiveDate>,
}

/// Where `policy` stands on `today`.
pub(super) fn policy_status(
    policy: &PolicyState,
    account: Option<&AccountBilling>,
    today: NaiveDate,
) -> PolicyStatus {
    let cancelled = |term: u32, day: NaiveDate| {
        policy.cancellation_on(term, day).map(|t| {
            if t.actor == crate::collections::LAPSE_ACTOR {
                PolicyStatus::Lapsed
            } else {
                PolicyStatus::Cancelled
            }
        })
    };
    if let Some(term) = policy.terms.iter().find(|t| t.period.contains(today)) {
        if let Some(status) = cancelled(term.number, today) {
            return status;
        }
        let lapsing = account.is_some_and(|a| {
            a.delinquencies
                .iter()
                .any(|d| d.is_in_grace() && d.policies.iter().any(|p| p == policy.locator()))
        });
        return if lapsing {
            PolicyStatus::PendingLapse
        } else {
            PolicyStatus::InForce
        };
    }
    match (policy.terms.first(), policy.terms.last()) {
        (Some(first), _) if today < first.period.start() => PolicyStatus::NotStarted,
        (_, Some(last)) => {
            let last_day = last.period.end().pred_opt().unwrap_or(last.period.end());
            cancelled(last.number, last_day).unwrap_or(PolicyStatus::Expired)
        }
        _ => PolicyStatus::NotStarted,
    }
}

/// The terms of `policy` as billing sees them.
pub(super) fn term_views(policy: &PolicyState, account: Option<&AccountBilling>) -> Vec<TermView> {
    policy
        .terms
        .iter()
        .map(|t| TermView {
            term: t.number,
            period: t.period,
            plan: t.plan.clone(),
            bound_on: t.bound_on,
            confirmed: account.is_some_and(|a| {
                a.confirmed_terms
                    .contains(&(policy.locator().to_string(), t.number))
            }),
        })
        .collect()
}

/// The whole picture of `account` on `today`, with the next `upcoming`
/// installment slices (at most [`UPCOMING_INSTALLMENTS_MAX`]).
pub fn account_overview(
    state: &TenantState,
    account: &str,
    today: NaiveDate,
    upcoming: usize,
) -> Result<AccountOverview, ReadError> {
    let billing = state
        .collections
        .accounts
        .get(account)
        .ok_or_else(|| ReadError::UnknownAccount(account.to_string()))?;
    let position = AccountPosition::of(&state.collections, &state.ledger, account);
    let money = |value| at_scale(value, billing.currency);
    let mut ageing = Ageing::default();
    let mut past_due = Decimal::ZERO;
    for i in &billing.open {
        let record = &billing.invoices[*i];
        let Some(days) = past_due_days(record.invoice.due_date, today) else {
            continue;
        };
        let owed = record.outstanding();
        past_due += owed;
        let bucket = match days {
            ..=29 => &mut ageing.days_0_29,
            30..=59 => &mut ageing.days_30_59,
            60..=89 => &mut ageing.days_60_89,
            _ => &mut ageing.days_90_plus,
        };
        *bucket += owed;
    }
    let policies = billing
        .policies
        .iter()
        .filter_map(|p| state.book.policies.get(p.as_str()))
        .map(|p| PolicyStanding {
            policy: p.locator().to_string(),
            product: p.header.product.name.clone(),
            status: policy_status(p, Some(billing), today),
            terms: term_views(p, Some(billing)),
        })
        .collect();
    let open_invoices = billing
        .open_by_age()
        .into_iter()
        .take(SUMMARY_OPEN_INVOICES_MAX)
        .map(|i| InvoiceRow::of(billing, i, today))
        .collect();
    let upcoming_installments = billing
        .pending_slices
        .iter()
        .filter_map(|pending| {
            let slice = state
                .book
                .policies
                .get(pending.policy.as_str())?
                .slices
                .get(pending.index as usize)?;
            Some(UpcomingInstallment {
                policy: pending.policy.to_string(),
                term: slice.term,
                installment: slice.installment,
                charge: slice.charge.to_string(),
                invoice_date: slice.invoice_date,
                due_date: slice.due_date,
                period: slice.installment_period,
                amount: slice.amount,
            })
        })
        .take(upcoming.min(UPCOMING_INSTALLMENTS_MAX))
        .collect();
    Ok(AccountOverview {
        account: billing.locator.clone(),
        name: state
            .book
            .accounts
            .get(account)
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        currency: billing.currency,
        today,
        balances: Balances {
            billed_outstanding: money(position.owed),
            unbilled: money(position.unbilled),
            credit: money(position.credit),
            available_credit: money(position.available_credit),
            past_due: money(past_due),
            ageing: Ageing {
                days_0_29: money(ageing.days_0_29),
                days_30_59: money(ageing.days_30_59),
                days_60_89: money(ageing.days_60_89),
                days_90_plus: money(ageing.days_90_plus),
            },
        },
        policies,
        open_invoices,
        open_invoice_count: billing.open.len(),
        upcoming_installments,
        delinquencies: billing.delinquencies.clone(),
        holds: billing.holds.clone(),
        active_holds: billing
            .holds
            .iter()
            .filter(|h| h.is_active_on(today))
            .map(|h| h.locator.clone())
            .collect(),
        write_offs: billing.write_offs.clone(),
        disbursements: billing.disbursements.clone(),
        settings: state.collections.settings_for(billing),
        overrides: billing.overrides.clone(),
        processed_through: billing.processed_through,
    })
}

/// An account's payments in the order received, each with its allocations
/// (the invoices it settled and how much of each) and what went to credit.
pub fn payments(
    state: &TenantState,
    account: &str,
    request: &PageRequest,
) -> Result<CursorPage<PaymentRecord>, ReadError> {
    let billing = state
        .collections
        .accounts
        .get(account)
        .ok_or_else(|| ReadError::UnknownAccount(account.to_string()))?;
    let limit = request.limit();
    let from = match request.after_text()? {
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| ReadError::BadCursor(encode_cursor(&text)))?,
        None => 0,
    };
    let rows: Vec<(usize, PaymentRecord)> = billing
        .payments
        .iter()
        .enumerate()
        .skip(from)
        .take(limit + 1)
        .map(|(i, p)| (i + 1, PaymentRecord::clone(p)))
        .collect();
    let answer = page(rows, limit, |(number, _)| number.to_string());
    Ok(CursorPage {
        data: answer.data.into_iter().map(|(_, p)| p).collect(),
        next_cursor: answer.next_cursor,
    })
}
