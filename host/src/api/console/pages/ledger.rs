//! The ledger: the trial balance per currency, then the journal entries by
//! number, a page at a time (the latest page first, then earlier ones), optionally only those recording one reference
//! (a transaction, invoice, payment, ...). Each entry links to what it
//! came from (its reference), to the billing accounts of its subledger
//! lines and to the entry it reverses.

use super::{ROWS_MAX, decimal, href, layout, name_of, pager};
use crate::api::console::View;
use crate::engine::TenantState;
use crate::ledger::{JournalEntry, Side};
use maud::{Markup, html};

/// The most entries a page filtered by reference reads before it answers
/// (fewer than [`ROWS_MAX`] found: "Next page" reads on).
pub const ENTRIES_SCANNED_MAX: usize = 10_000;

/// Which entries: after entry number `after`, only `reference`'s if given.
/// Without `after` or a reference: the latest page.
#[derive(Debug, Clone, Default)]
pub struct LedgerPage {
    pub after: Option<u64>,
    pub reference: Option<String>,
}

/// The console page of what a journal entry's reference names, if the
/// tenant has it: a charge, a transaction, an invoice, a payment, an
/// account.
pub fn reference_href(state: &TenantState, reference: &str) -> Option<String> {
    if let Some((transaction, _)) = reference.rsplit_once("-C")
        && let Some((policy, _)) = transaction.rsplit_once("-T")
        && state.book.policies.contains_key(policy)
    {
        return Some(href::charge(policy, reference));
    }
    if let Some((policy, _)) = reference.rsplit_once("-T")
        && state.book.policies.contains_key(policy)
    {
        return Some(href::transaction(policy, reference));
    }
    if let Some((account, _)) = reference.rsplit_once("-I")
        && let Some(billing) = state.collections.accounts.get(account)
        && billing.invoice_position(reference).is_some()
    {
        return Some(href::invoice(reference));
    }
    if let Some((account, _)) = reference.rsplit_once('-')
        && state.collections.accounts.contains_key(account)
    {
        return Some(format!("{}#{reference}", href::account(account)));
    }
    if state.collections.accounts.contains_key(reference) {
        return Some(href::account(reference));
    }
    if state.book.policies.contains_key(reference) {
        return Some(href::policy(reference));
    }
    None
}

/// The page of entries asked for and the `after` of the next page.
fn entries<'a>(
    state: &'a TenantState,
    page: &LedgerPage,
    after: u64,
) -> (Vec<&'a JournalEntry>, Option<u64>) {
    let all = state.ledger.entries();
    let start = all.partition_point(|e| e.id.0 <= after);
    let rest = &all[start..];
    match &page.reference {
        None => {
            let shown: Vec<&JournalEntry> = rest.iter().take(ROWS_MAX).collect();
            let next = (rest.len() > ROWS_MAX)
                .then(|| shown.last().map(|e| e.id.0))
                .flatten();
            (shown, next)
        }
        Some(reference) => {
            let mut shown = Vec::new();
            let mut last = None;
            for entry in rest.iter().take(ENTRIES_SCANNED_MAX) {
                last = Some(entry.id.0);
                if entry.reference == *reference {
                    shown.push(entry);
                    if shown.len() == ROWS_MAX {
                        break;
                    }
                }
            }
            let read_to = last.unwrap_or(after);
            let more = all.last().is_some_and(|e| e.id.0 > read_to);
            (shown, more.then_some(read_to))
        }
    }
}

/// The trial balance and a page of journal entries.
pub fn ledger(view: &View, state: &TenantState, page: &LedgerPage) -> Markup {
    let currencies: Vec<crate::domain::Currency> = state.ledger.currencies().collect();
    // The latest page unless asked: entry numbers run from 1 without gaps.
    let latest = || {
        let last = state.ledger.entries().last().map_or(0, |e| e.id.0);
        last.saturating_sub(ROWS_MAX as u64)
    };
    let after = match (page.after, &page.reference) {
        (Some(after), _) => after,
        (None, Some(_)) => 0,
        (None, None) => latest(),
    };
    let (shown, next) = entries(state, page, after);
    let filter = page
        .reference
        .as_deref()
        .map(|r| format!("&reference={r}"))
        .unwrap_or_default();
    let first = (after > 0).then(|| format!("/console/ledger?after=0{filter}"));
    let previous = (after > 0 && page.reference.is_none()).then(|| {
        format!(
            "/console/ledger?after={}#entries",
            after.saturating_sub(ROWS_MAX as u64)
        )
    });
    let next = next.map(|n| format!("/console/ledger?after={n}{filter}#entries"));
    layout(
        "Ledger",
        Some(view),
        html! {
            h1 { "Trial balance" }
            @if currencies.is_empty() { p.empty { "Nothing posted yet." } }
            @for currency in &currencies {
                @let trial = state.ledger.trial_balance(*currency);
                h2 { (currency.code()) @if trial.is_balanced() { " · balanced" } @else { " · NOT BALANCED" } }
                table { thead { tr { th { "Account" } th.amount { "Debits" } th.amount { "Credits" } } }
                    tbody {
                        @for row in &trial.rows { tr { td { (row.account) } (decimal(row.debits, currency.code())) (decimal(row.credits, currency.code())) } }
                        tr { th { "Total" } (decimal(trial.total_debits, currency.code())) (decimal(trial.total_credits, currency.code())) }
                    }
                }
            }
            h2 #entries { "Journal entries" @if let Some(r) = &page.reference { " of " (r) } }
            @if let Some(r) = &page.reference {
                p { @if let Some(target) = reference_href(state, r) { a href=(target) { "Open " (r) } " · " } a href="/console/ledger" { "All entries" } }
            }
            @if shown.is_empty() { p.empty { "No journal entry here." } } @else {
                table { thead { tr { th { "Entry" } th { "Posted" } th { "Kind" } th { "Reference" } th { "Account" } th.amount { "Debit" } th.amount { "Credit" } th { "Memo" } } }
                    tbody { @for e in &shown {
                        @for (n, line) in e.lines.iter().enumerate() { tr id=[(n == 0).then(|| format!("E{}", e.id.0))] {
                            @if n == 0 {
                                td { "E" (e.id.0) @if let Some(r) = e.reverses { br; "reverses " a href=(href::entry(r.0)) { "E" (r.0) } } }
                                td { (e.posted_on) @if let Some(on) = e.accounting_date { br; "(period of " (on) ")" } }
                                td { (name_of(&e.kind)) }
                                td { @if let Some(target) = reference_href(state, &e.reference) { a href=(target) { (e.reference) } } @else { (e.reference) } }
                            } @else { td {} td {} td {} td {} }
                            td { (line.account.account)
                                @if let Some(sub) = &line.account.subledger {
                                    " · " @if state.collections.accounts.contains_key(sub) { a href=(href::account(sub)) { (sub) } } @else { (sub) }
                                } }
                            @if line.side == Side::Debit { (decimal(line.amount, e.currency.code())) td {} }
                            @else { td {} (decimal(line.amount, e.currency.code())) }
                            td { @if n == 0 { (e.memo) } }
                        } }
                    } }
                }
            }
            @if let Some(previous) = &previous { p { a href=(previous) rel="prev" { "Earlier entries" } } }
            (pager(first.as_deref(), next.as_deref()))
        },
    )
}
