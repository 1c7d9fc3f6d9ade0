//! Search results: accounts by locator or name (prefix, any case, from the
//! read model's search index), policies by locator (prefix, as typed or in
//! capitals) and invoices by locator (`<account>-I<n>`: the account's own
//! invoices). An exact locator never reaches this page: it opens the
//! account, policy or invoice at once.

use super::{ROWS_MAX, decimal, href, layout};
use crate::api::console::View;
use crate::collections::AccountBilling;
use crate::engine::TenantState;
use crate::engine::read_model::{PageRequest, search_accounts};
use chrono::NaiveDate;
use maud::{Markup, html};

/// The spellings of `q` a locator may have: as typed and in capitals.
fn spellings(q: &str) -> Vec<String> {
    let mut all = vec![q.to_string(), q.to_uppercase()];
    all.dedup();
    all
}

/// The page an exact locator opens: an account, a policy or an invoice.
pub fn exact_match(state: &TenantState, q: &str) -> Option<String> {
    for q in spellings(q.trim()) {
        if q.is_empty() {
            continue;
        }
        if state.collections.accounts.contains_key(&q) {
            return Some(href::account(&q));
        }
        if state.book.policies.contains_key(&q) {
            return Some(href::policy(&q));
        }
        if let Some((account, _)) = q.rsplit_once("-I")
            && state
                .collections
                .accounts
                .get(account)
                .and_then(|a| a.invoice_position(&q))
                .is_some()
        {
            return Some(href::invoice(&q));
        }
    }
    None
}

fn policies<'a>(state: &'a TenantState, q: &str) -> Vec<&'a String> {
    let mut found: Vec<&String> = spellings(q)
        .into_iter()
        .flat_map(|prefix| {
            state
                .book
                .policies
                .range(prefix.clone()..)
                .map(|(k, _)| k)
                .take_while(move |k| k.starts_with(&prefix))
                .take(ROWS_MAX)
                .collect::<Vec<_>>()
        })
        .collect();
    found.sort();
    found.dedup();
    found.truncate(ROWS_MAX);
    found
}

fn invoices<'a>(
    state: &'a TenantState,
    q: &str,
) -> Vec<(&'a AccountBilling, &'a crate::collections::InvoiceRecord)> {
    let upper = q.to_uppercase();
    let Some(at) = upper.rfind("-I") else {
        return Vec::new();
    };
    let account = spellings(&q[..at])
        .into_iter()
        .find_map(|a| state.collections.accounts.get(&a).map(Box::as_ref));
    let Some(account) = account else {
        return Vec::new();
    };
    account
        .invoices
        .iter()
        .filter(|r| r.invoice.locator.to_uppercase().starts_with(&upper))
        .take(ROWS_MAX)
        .map(|r| (account, &**r))
        .collect()
}

/// What a search for `query` found, on `today`.
pub fn search(view: &View, state: &TenantState, query: &str, today: NaiveDate) -> Markup {
    let q = query.trim();
    let request = PageRequest {
        after: None,
        limit: Some(ROWS_MAX),
    };
    let accounts = if q.is_empty() {
        Vec::new()
    } else {
        search_accounts(state, Some(q), &[], &request, today)
            .map(|page| page.data)
            .unwrap_or_default()
    };
    let policies = if q.is_empty() {
        Vec::new()
    } else {
        policies(state, q)
    };
    let invoices = invoices(state, q);
    layout(
        "Search",
        Some(view),
        html! {
            h1 { "Search: " (query) }
            @if accounts.is_empty() && policies.is_empty() && invoices.is_empty() {
                p.empty { "Nothing matches." }
            }
            @if !accounts.is_empty() {
                h2 { "Accounts" }
                table { thead { tr { th { "Account" } th { "Name" } th.amount { "Owed" } th.amount { "Past due" } th.amount { "Credit" } th { "Flags" } } }
                    tbody { @for a in &accounts { tr {
                        td { a href=(href::account(&a.locator)) { (a.locator) } }
                        td { (a.name) }
                        (decimal(a.billed_outstanding, a.currency.code()))
                        (decimal(a.past_due, a.currency.code()))
                        (decimal(a.credit, a.currency.code()))
                        td { @if a.delinquent { "delinquent " } @if a.on_hold { "on hold" } }
                    } } }
                }
            }
            @if !policies.is_empty() {
                h2 { "Policies" }
                ul { @for p in &policies { li {
                    a href=(href::policy(p)) { (p) }
                    @if let Some(policy) = state.book.policies.get(*p) {
                        " · account " a href=(href::account(&policy.header.account)) { (policy.header.account) }
                    }
                } } }
            }
            @if !invoices.is_empty() {
                h2 { "Invoices" }
                ul { @for (a, r) in &invoices { li {
                    a href=(href::invoice(&r.invoice.locator)) { (r.invoice.locator) }
                    " due " (r.invoice.due_date) ", owes " (r.outstanding()) " " (a.currency.code())
                } } }
            }
        },
    )
}
