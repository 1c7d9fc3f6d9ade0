//! The console's pages, rendered on the server with maud (no JavaScript):
//! the layout, the home page (search and worklists), search results, an
//! account's whole picture with its actions, a policy's terms and
//! transaction timeline with every charge's explanation, and the trial
//! balance. Amounts are right-aligned with their currency; dates are ISO.
//! A read-only key sees no action.

use super::View;
use crate::collections::{AccountBilling, DisbursementStatus, InvoiceRecord};
use crate::domain::Money;
use crate::engine::TenantState;
use crate::keys::Access;
use maud::{DOCTYPE, Markup, html};
use rust_decimal::Decimal;

/// Most rows a search or worklist shows.
pub const ROWS_MAX: usize = 50;

fn amount(money: &Money) -> Markup {
    html! { td.amount { (money.amount) " " (money.currency.code()) } }
}

fn decimal(value: Decimal, currency: &str) -> Markup {
    html! { td.amount { (value) " " (currency) } }
}

/// The page around `body`.
pub fn layout(title: &str, view: Option<&View>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Premia" }
                link rel="stylesheet" href="/console/assets/console.css";
            }
            body {
                header {
                    a.brand href="/console" { "Premia" }
                    @if let Some(view) = view {
                        nav aria-label="Main" {
                            a href="/console" { "Home" }
                            a href="/console/ledger" { "Ledger" }
                        }
                        form method="get" action="/console/search" role="search" {
                            label for="q" style="display:inline" { "Search " }
                            input #q type="search" name="q" placeholder="Account, policy or invoice";
                            " "
                            button type="submit" { "Search" }
                        }
                        form.inline method="post" action="/console/sign-out" {
                            input type="hidden" name="csrf" value=(view.csrf);
                            " " (view.caller.tenant) " · " (view.caller.role.name()) " "
                            button.secondary type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The sign-in page, with a readable error when the last attempt failed.
pub fn sign_in(problem: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            h1 { "Sign in" }
            @if let Some(problem) = problem { p.problem role="alert" { (problem) } }
            form method="post" action="/console/sign-in" {
                label for="key" { "API key" }
                input #key type="password" name="key" autocomplete="off" required size="60";
                p { button type="submit" { "Sign in" } }
            }
            p.empty { "Your key's role applies: a read-only key sees no action." }
        },
    )
}

/// The home page: search and the worklists.
pub fn home(view: &View, state: &TenantState, today: chrono::NaiveDate) -> Markup {
    let accounts = &state.collections.accounts;
    let delinquent: Vec<&AccountBilling> = accounts
        .values()
        .filter(|a| a.delinquencies.iter().any(|d| d.is_in_grace()))
        .take(ROWS_MAX)
        .collect();
    let awaiting: Vec<(&AccountBilling, &crate::collections::Disbursement)> = accounts
        .values()
        .flat_map(|a| a.disbursements.iter().map(move |d| (a, d)))
        .filter(|(_, d)| d.status == DisbursementStatus::Draft)
        .take(ROWS_MAX)
        .collect();
    let holds: Vec<(&AccountBilling, &crate::collections::Hold)> = accounts
        .values()
        .flat_map(|a| a.holds.iter().map(move |h| (a, h)))
        .filter(|(_, h)| h.is_active_on(today))
        .take(ROWS_MAX)
        .collect();
    let failing: Vec<&crate::webhooks::Endpoint> = state
        .webhooks
        .endpoints
        .values()
        .filter(|e| !e.is_enabled())
        .collect();
    layout(
        "Home",
        Some(view),
        html! {
            h1 { "Today, " (today) }
            h2 { "Delinquent accounts" }
            @if delinquent.is_empty() { p.empty { "No account is in grace." } } @else {
                table { thead { tr { th { "Account" } th { "Grace ends" } th.amount { "Owed" } } }
                    tbody { @for a in &delinquent { tr {
                        td { a href=(format!("/console/accounts/{}", a.locator)) { (a.locator) } }
                        td { @for d in a.delinquencies.iter().filter(|d| d.is_in_grace()) { (d.grace_end) " " } }
                        (decimal(a.open_balance(), a.currency.code()))
                    } } }
                }
            }
            h2 { "Disbursements awaiting approval" }
            @if awaiting.is_empty() { p.empty { "None." } } @else {
                table { thead { tr { th { "Disbursement" } th { "Account" } th { "Reason" } th.amount { "Amount" } } }
                    tbody { @for (a, d) in &awaiting { tr {
                        td { (d.locator) }
                        td { a href=(format!("/console/accounts/{}", a.locator)) { (a.locator) } }
                        td { (d.reason) }
                        (amount(&d.amount))
                    } } }
                }
            }
            h2 { "Active holds" }
            @if holds.is_empty() { p.empty { "None." } } @else {
                table { thead { tr { th { "Hold" } th { "Account" } th { "From" } } }
                    tbody { @for (a, h) in &holds { tr {
                        td { (h.locator) }
                        td { a href=(format!("/console/accounts/{}", a.locator)) { (a.locator) } }
                        td { (h.from) }
                    } } }
                }
            }
            h2 { "Webhook endpoints not delivering" }
            @if failing.is_empty() { p.empty { "Every endpoint is enabled." } } @else {
                table { thead { tr { th { "Endpoint" } th { "URL" } th { "Status" } } }
                    tbody { @for e in &failing { tr {
                        td { (e.id) } td { (e.url) }
                        td { (serde_json::to_string(&e.status).unwrap_or_default()) }
                    } } }
                }
            }
        },
    )
}

/// What a search found: accounts by locator or name (prefix, any case),
/// policies and invoices by locator.
pub fn search(view: &View, state: &TenantState, query: &str) -> Markup {
    let q = query.trim().to_lowercase();
    let accounts: Vec<&crate::policy::Account> = state
        .book
        .accounts
        .values()
        .filter(|a| {
            !q.is_empty()
                && (a.locator.to_lowercase().starts_with(&q)
                    || a.name.to_lowercase().starts_with(&q))
        })
        .take(ROWS_MAX)
        .collect();
    let policies: Vec<&String> = state
        .book
        .policies
        .keys()
        .filter(|p| !q.is_empty() && p.to_lowercase().starts_with(&q))
        .take(ROWS_MAX)
        .collect();
    let invoices: Vec<(&AccountBilling, &InvoiceRecord)> = state
        .collections
        .accounts
        .values()
        .filter(|a| !q.is_empty() && q.starts_with(&a.locator.to_lowercase()))
        .flat_map(|a| a.invoices.iter().map(move |r| (a, r)))
        .filter(|(_, r)| r.invoice.locator.to_lowercase().starts_with(&q))
        .take(ROWS_MAX)
        .collect();
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
                ul { @for a in &accounts { li { a href=(format!("/console/accounts/{}", a.locator)) { (a.locator) } " " (a.name) } } }
            }
            @if !policies.is_empty() {
                h2 { "Policies" }
                ul { @for p in &policies { li { a href=(format!("/console/policies/{p}")) { (p) } } } }
            }
            @if !invoices.is_empty() {
                h2 { "Invoices" }
                ul { @for (a, r) in &invoices { li {
                    a href=(format!("/console/accounts/{}#{}", a.locator, r.invoice.locator)) { (r.invoice.locator) }
                    " due " (r.invoice.due_date) ", owes " (r.outstanding()) " " (a.currency.code())
                } } }
            }
        },
    )
}

/// An account's whole picture, with its actions for a key that may act.
pub fn account(
    view: &View,
    state: &TenantState,
    locator: &str,
    today: chrono::NaiveDate,
    key: &str,
) -> Option<Markup> {
    let billing = state.collections.accounts.get(locator)?;
    let name = state
        .book
        .accounts
        .get(locator)
        .map_or("", |a| a.name.as_str());
    let currency = billing.currency.code();
    let may_collect = view.caller.role.allows(Access::Collect);
    let policies: Vec<&crate::policy::PolicyState> = state
        .book
        .policies
        .values()
        .filter(|p| p.header.account == locator)
        .collect();
    let past_due: Decimal = billing
        .open
        .iter()
        .map(|i| &billing.invoices[*i])
        .filter(|r| r.invoice.due_date < today)
        .map(InvoiceRecord::outstanding)
        .sum();
    Some(layout(
        locator,
        Some(view),
        html! {
            h1 { "Account " (locator) " · " (name) }
            dl.facts {
                dt { "Owed on open invoices" } dd { (billing.open_balance()) " " (currency) }
                dt { "Past due" } dd { (past_due) " " (currency) }
                dt { "Credit" } dd { (billing.credit) " " (currency) }
                dt { "Free credit (refundable)" } dd { (billing.available_credit()) " " (currency) }
            }
            h2 { "Policies" }
            @if policies.is_empty() { p.empty { "No policy." } } @else {
                table { thead { tr { th { "Policy" } th { "Product" } th { "Terms" } th { "In force today" } } }
                    tbody { @for p in &policies { tr {
                        td { a href=(format!("/console/policies/{}", p.locator())) { (p.locator()) } }
                        td { (p.header.product.name) }
                        td { @for t in &p.terms { (t.period) " " } }
                        td { @if p.is_in_force(today) { "yes" } @else { "no" } }
                    } } }
                }
            }
            h2 { "Invoices" }
            @if billing.invoices.is_empty() { p.empty { "No invoice yet." } } @else {
                table { thead { tr { th { "Invoice" } th { "Issued" } th { "Due" } th.amount { "Total" } th.amount { "Outstanding" } th { "Past due since" } th { "" } } }
                    tbody { @for r in billing.invoices.iter().rev().take(ROWS_MAX) { tr id=(r.invoice.locator) {
                        td { (r.invoice.locator) }
                        td { (r.invoice.issue_date) }
                        td { (r.invoice.due_date) }
                        (amount(&r.invoice.total))
                        (decimal(r.outstanding(), currency))
                        td { @if let Some(on) = r.past_due_on { (on) } }
                        td { @if may_collect && r.outstanding() > Decimal::ZERO {
                            form.inline method="post" action=(format!("/console/accounts/{locator}/invoices/{}/write-off", r.invoice.locator)) {
                                input type="hidden" name="csrf" value=(view.csrf);
                                input type="hidden" name="idempotency_key" value=(format!("{key}-{}", r.invoice.locator));
                                label for=(format!("wo-{}", r.invoice.locator)) { "Write off (empty: all)" }
                                input id=(format!("wo-{}", r.invoice.locator)) name="amount" inputmode="decimal" size="8";
                                label for=(format!("wor-{}", r.invoice.locator)) { "Reason" }
                                input id=(format!("wor-{}", r.invoice.locator)) name="reason" required size="12";
                                " " button.secondary type="submit" { "Write off" }
                            }
                        } }
                    } } }
                }
            }
            @if may_collect {
                h2 { "Record a payment" }
                form method="post" action=(format!("/console/accounts/{locator}/payments")) {
                    input type="hidden" name="csrf" value=(view.csrf);
                    input type="hidden" name="idempotency_key" value=(key);
                    label for="amount" { "Amount (" (currency) ")" }
                    input #amount name="amount" inputmode="decimal" required pattern="[0-9]+([.][0-9]{1,2})?";
                    label for="received_on" { "Received on" }
                    input #received_on type="date" name="received_on" value=(today) required;
                    label for="invoices" { "Invoices (locators, comma-separated; empty: oldest due first)" }
                    input #invoices name="invoices";
                    label for="reference" { "Reference" }
                    input #reference name="reference";
                    p { button type="submit" { "Record payment" } }
                }
            }
            h2 { "Payments" }
            @if billing.payments.is_empty() { p.empty { "No payment." } } @else {
                table { thead { tr { th { "Payment" } th { "Received" } th { "Applied to" } th.amount { "Amount" } th.amount { "To credit" } th { "Returned" } } }
                    tbody { @for r in billing.payments.iter().rev().take(ROWS_MAX) { tr {
                        td { (r.payment.locator) }
                        td { (r.payment.received_on) }
                        td { @for a in &r.payment.allocations { (a.invoice) " " (a.amount) "; " } }
                        (amount(&r.payment.amount))
                        (decimal(r.payment.to_credit, currency))
                        td { @if let Some(on) = r.reversed_on { (on) } @else if may_collect {
                            form.inline method="post" action=(format!("/console/accounts/{locator}/payments/{}/return", r.payment.locator)) {
                                input type="hidden" name="csrf" value=(view.csrf);
                                input type="hidden" name="idempotency_key" value=(format!("{key}-{}", r.payment.locator));
                                label for=(format!("fee-{}", r.payment.locator)) { "Fee" }
                                input id=(format!("fee-{}", r.payment.locator)) name="fee" inputmode="decimal" size="6";
                                label for=(format!("why-{}", r.payment.locator)) { "Reason" }
                                input id=(format!("why-{}", r.payment.locator)) name="reason" size="12";
                                " " button.secondary type="submit" { "Return" }
                            }
                        } }
                    } } }
                }
            }
            h2 { "Delinquencies" }
            @if billing.delinquencies.is_empty() { p.empty { "None." } } @else {
                table { thead { tr { th { "Delinquency" } th { "Started" } th { "Grace ends" } th { "Status" } } }
                    tbody { @for d in &billing.delinquencies { tr {
                        td { (d.locator) } td { (d.started_on) } td { (d.grace_end) }
                        td { (serde_json::to_string(&d.status).unwrap_or_default()) }
                    } } }
                }
            }
            h2 { "Disbursements" }
            @if billing.disbursements.is_empty() { p.empty { "None." } } @else {
                table { thead { tr { th { "Disbursement" } th { "Drafted" } th { "Reason" } th.amount { "Amount" } th { "Status" } th { "" } } }
                    tbody { @for d in &billing.disbursements { tr {
                        td { (d.locator) } td { (d.drafted_on) } td { (d.reason) }
                        (amount(&d.amount))
                        td { (serde_json::to_string(&d.status).unwrap_or_default()) }
                        td { @if may_collect && d.status == DisbursementStatus::Draft {
                            form.inline method="post" action=(format!("/console/accounts/{locator}/disbursements/{}/approve", d.locator)) {
                                input type="hidden" name="csrf" value=(view.csrf);
                                input type="hidden" name="idempotency_key" value=(format!("{key}-{}", d.locator));
                                button type="submit" { "Approve" }
                            }
                            " "
                            form.inline method="post" action=(format!("/console/accounts/{locator}/disbursements/{}/reject", d.locator)) {
                                input type="hidden" name="csrf" value=(view.csrf);
                                input type="hidden" name="idempotency_key" value=(format!("{key}-{}-rejected", d.locator));
                                label for=(format!("rej-{}", d.locator)) { "Reason" }
                                input id=(format!("rej-{}", d.locator)) name="reason" required size="12";
                                " " button.secondary type="submit" { "Reject" }
                            }
                        } }
                    } } }
                }
            }
            @if may_collect && billing.available_credit() > Decimal::ZERO && !billing.open.is_empty() {
                h2 { "Apply credit" }
                form method="post" action=(format!("/console/accounts/{locator}/credit")) {
                    input type="hidden" name="csrf" value=(view.csrf);
                    input type="hidden" name="idempotency_key" value=(format!("{key}-credit"));
                    p { (billing.available_credit()) " " (currency) " of free credit goes to the open invoices, oldest due first." }
                    button type="submit" { "Apply credit" }
                }
            }
            h2 { "Holds" }
            @if billing.holds.is_empty() { p.empty { "None." } } @else {
                ul { @for h in &billing.holds { li { (h.locator) " (" (serde_json::to_string(&h.kind).unwrap_or_default()) ") from " (h.from)
                    @if let Some(on) = h.released_on { ", released " (on) }
                    @else if may_collect {
                        " "
                        form.inline method="post" action=(format!("/console/accounts/{locator}/holds/{}/release", h.locator)) {
                            input type="hidden" name="csrf" value=(view.csrf);
                            input type="hidden" name="idempotency_key" value=(format!("{key}-{}", h.locator));
                            button.secondary type="submit" { "Release" }
                        }
                    }
                } } }
            }
            @if may_collect {
                form method="post" action=(format!("/console/accounts/{locator}/holds")) {
                    input type="hidden" name="csrf" value=(view.csrf);
                    input type="hidden" name="idempotency_key" value=(format!("{key}-hold"));
                    label for="hold-kind" { "Place a hold" }
                    select #hold-kind name="kind" {
                        option value="invoicing" { "Invoicing (no invoices until released)" }
                        option value="delinquency" { "Delinquency (grace paused until released)" }
                    }
                    label for="hold-reason" { "Reason" }
                    input #hold-reason name="reason" required;
                    p { button.secondary type="submit" { "Place hold" } }
                }
            }
            p { a href=(format!("/v1/events?account={locator}")) { "Event history (JSON)" } }
        },
    ))
}

/// A policy's terms and transaction timeline; every charge with its
/// explanation (rater and arithmetic).
pub fn policy(view: &View, state: &TenantState, locator: &str) -> Option<Markup> {
    let policy = state.book.policies.get(locator)?;
    let currency = policy.header.product.currency.code();
    Some(layout(
        locator,
        Some(view),
        html! {
            h1 { "Policy " (locator) }
            dl.facts {
                dt { "Account" } dd { a href=(format!("/console/accounts/{}", policy.header.account)) { (policy.header.account) } }
                dt { "Product" } dd { (policy.header.product.name) }
                dt { "Time zone" } dd { (policy.header.time_zone) }
            }
            @if view.caller.role.allows(Access::Transact) {
                h2 { "Cancel" }
                form method="post" action=(format!("/console/policies/{locator}/cancellation-preview")) {
                    input type="hidden" name="csrf" value=(view.csrf);
                    label for="effective" { "Effective" }
                    input #effective type="date" name="effective" required;
                    p { button.secondary type="submit" { "Preview the cancellation" } }
                }
            }
            h2 { "Terms" }
            table { thead { tr { th { "Term" } th { "Period" } th { "Plan" } th { "Rate version" } } }
                tbody { @for t in &policy.terms { tr {
                    td { (t.number) } td { (t.period) } td { (t.plan) }
                    td { (t.rate_version.as_deref().unwrap_or("")) }
                } } }
            }
            h2 { "Transactions" }
            table { thead { tr { th { "Transaction" } th { "Kind" } th { "Effective" } th { "Issued" } th { "By" } th { "Reversed by" } } }
                tbody { @for t in &policy.transactions { tr {
                    td { (t.locator) }
                    td { (serde_json::to_string(&t.kind).unwrap_or_default().trim_matches('"')) }
                    td { (t.effective) }
                    td { (t.issued_at.format("%Y-%m-%d %H:%M")) }
                    td { (t.actor) }
                    td { (t.reversed_by.as_deref().unwrap_or("")) }
                } } }
            }
            h2 { "Charges" }
            table { thead { tr { th { "Charge" } th { "Transaction" } th { "What" } th { "Period" } th.amount { "Amount" } th { "Explanation" } } }
                tbody { @for c in &policy.charges { tr id=(c.locator) {
                    td { (c.locator) }
                    td { (c.transaction) }
                    td { (c.description) }
                    td { @if let Some(p) = c.period { (p) } }
                    (decimal(c.amount.amount, currency))
                    td { details {
                        summary { "How" }
                        @if let Some(rater) = &c.explanation.rater { p { "Rater: " (serde_json::to_string(rater).unwrap_or_default()) } }
                        @for line in &c.explanation.arithmetic { p { (line) } }
                        p { a href=(format!("/v1/policies/{locator}/charges/{}/audit", c.locator)) { "Rating calls (JSON)" } }
                    } }
                } } }
            }
        },
    ))
}

/// The trial balance, per currency in use.
pub fn ledger(view: &View, state: &TenantState) -> Markup {
    let currencies: std::collections::BTreeSet<crate::domain::Currency> = state
        .collections
        .accounts
        .values()
        .map(|a| a.currency)
        .collect();
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
        },
    )
}

/// A policy transaction's preview: its charges, then one button that
/// commits exactly it (the same body, an idempotency key made here).
pub fn cancellation_preview(
    view: &View,
    policy: &str,
    effective: &str,
    effect: &serde_json::Value,
    key: &str,
) -> Markup {
    let charges: Vec<&serde_json::Value> = effect["charges"]
        .as_array()
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    layout(
        "Preview",
        Some(view),
        html! {
            h1 { "Cancel " (policy) " from " (effective) "?" }
            p { "Nothing is kept yet. The cancellation would book:" }
            @if charges.is_empty() { p.empty { "No charge." } } @else {
                table { thead { tr { th { "Charge" } th { "What" } th.amount { "Amount" } } }
                    tbody { @for c in &charges { tr {
                        td { (c["charge"].as_str().unwrap_or("")) }
                        td { (c["description"].as_str().unwrap_or("")) }
                        td.amount { (c["amount"]["amount"].as_str().unwrap_or("")) " " (c["amount"]["currency"].as_str().unwrap_or("")) }
                    } } }
                }
            }
            form method="post" action=(format!("/console/policies/{policy}/cancellations")) {
                input type="hidden" name="csrf" value=(view.csrf);
                input type="hidden" name="idempotency_key" value=(key);
                input type="hidden" name="effective" value=(effective);
                button type="submit" { "Commit the cancellation" }
                " " a href=(format!("/console/policies/{policy}")) { "Back" }
            }
        },
    )
}
