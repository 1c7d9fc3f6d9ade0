//! A policy's page (the read model's timeline): its standing, its terms
//! and whether billing has confirmed each, every transaction in effect
//! order (effective date, then issue order) with what reversed it and its
//! journal entries, every charge with its explanation (rater and
//! arithmetic) opening its own page; and, for a key that may transact, the
//! forms that preview each policy transaction (endorse, cancel, reinstate,
//! reverse, change plan) before it is committed.
//!
//! A charge's page is its audit: the charge, the transaction that booked
//! it, the rating calls of the segments it comes from (request and
//! response), the arithmetic, the invoice items billing it and the journal
//! entries of its transaction.

use super::{decimal, href, layout, name_of, shown};
use crate::api::console::View;
use crate::engine::TenantState;
use crate::engine::read_model::policy_timeline;
use crate::keys::Access;
use crate::policy::{ChargeAudit, TransactionKind};
use chrono::NaiveDate;
use maud::{Markup, html};

fn kind(kind: &TransactionKind) -> String {
    name_of(kind)
}

/// A policy's page; none when the tenant has no such policy.
pub fn policy(view: &View, state: &TenantState, locator: &str, today: NaiveDate) -> Option<Markup> {
    let timeline = policy_timeline(state, locator, today).ok()?;
    let found = state.book.policies.get(locator)?;
    let currency = found.header.product.currency.code();
    let reversible: Vec<&crate::policy::Transaction> = timeline
        .transactions
        .iter()
        .filter(|t| {
            t.reversed_by.is_none()
                && !matches!(
                    t.kind,
                    TransactionKind::Reversal | TransactionKind::NewBusiness
                )
        })
        .collect();
    let plans: Vec<&String> = found.header.product.plans.keys().collect();
    let base = href::policy(locator);
    Some(layout(
        locator,
        Some(view),
        html! {
            h1 { "Policy " (locator) }
            dl.facts {
                dt { "Account" } dd { a href=(href::account(&timeline.account)) { (timeline.account) } }
                dt { "Product" } dd { (found.header.product.name) }
                dt { "Status" } dd { (name_of(&timeline.status)) }
                dt { "Time zone" } dd { (found.header.time_zone) }
            }
            h2 { "Terms" }
            table { thead { tr { th { "Term" } th { "Period" } th { "Plan" } th { "Bound on" } th { "Confirmed" } th { "Rate version" } } }
                tbody { @for t in &timeline.terms { tr {
                    td { (t.term) } td { (t.period) } td { (t.plan) }
                    td { @if let Some(on) = t.bound_on { (on) } }
                    td { @if t.confirmed { "yes (first invoice paid)" } @else { "not yet" } }
                    td { (found.terms.iter().find(|x| x.number == t.term).and_then(|x| x.rate_version.as_deref()).unwrap_or("")) }
                } } }
            }
            h2 { "Transactions (in effect order)" }
            table { thead { tr { th { "Transaction" } th { "Kind" } th { "Effective" } th { "Term" } th { "Issued" } th { "By" } th { "Reversed by" } th { "Charges" } th { "Ledger" } } }
                tbody { @for t in &timeline.transactions { tr id=(t.locator) {
                    td { (t.locator) }
                    td { (kind(&t.kind)) }
                    td { (t.effective) }
                    td { (t.term) }
                    td { (t.issued_at.format("%Y-%m-%d %H:%M")) }
                    td { (t.actor) }
                    td { @if let Some(by) = &t.reversed_by { a href=(href::transaction(locator, by)) { (by) } } }
                    td { @for c in timeline.charges.iter().filter(|c| c.transaction == t.locator) {
                        a href=(href::charge(locator, &c.locator)) { (c.locator) } " "
                    } }
                    td { a href=(href::entries_of(&t.locator)) { "entries" } }
                } } }
            }
            h2 { "Charges" }
            @if timeline.charges.is_empty() { p.empty { "No charge." } } @else {
                table { thead { tr { th { "Charge" } th { "Transaction" } th { "What" } th { "Period" } th.amount { "Amount" } th { "Explanation" } } }
                    tbody { @for c in &timeline.charges { tr id=(c.locator) {
                        td { a href=(href::charge(locator, &c.locator)) { (c.locator) } }
                        td { a href=(href::transaction(locator, &c.transaction)) { (c.transaction) } }
                        td { (c.description) }
                        td { @if let Some(p) = c.period { (p) } }
                        (decimal(c.amount.amount, currency))
                        td { details {
                            summary { "How" }
                            @if let Some(rater) = &c.explanation.rater { p { "Rater: " (serde_json::to_string(rater).unwrap_or_default()) } }
                            @for line in &c.explanation.arithmetic { p { (line) } }
                            p { a href=(href::charge(locator, &c.locator)) { "Rating calls and arithmetic" } }
                            p { a href=(format!("/v1/policies/{locator}/charges/{}/audit", c.locator)) { "Rating calls (JSON)" } }
                        } }
                    } } }
                }
            }
            @if view.caller.role.allows(Access::Transact) {
                h2 { "Policy transactions" }
                p.empty { "Each is shown first as a preview of its full effect (charges, installments, journal entries, balances); nothing is kept until you commit it." }
                h3 { "Cancel" }
                form method="post" action=(format!("{base}/cancellation-preview")) {
                    input type="hidden" name="csrf" value=(view.csrf);
                    label for="effective" { "Effective" }
                    input #effective type="date" name="effective" required;
                    label for="cancel-reason" { "Reason" }
                    select #cancel-reason name="reason" {
                        option value="insured_request" { "Insured's request" }
                        option value="non_payment" { "Non-payment" }
                        option value="underwriting" { "Underwriting" }
                        option value="rewrite" { "Rewrite" }
                    }
                    p { button.secondary type="submit" { "Preview the cancellation" } }
                }
                h3 { "Reinstate" }
                form method="post" action=(format!("{base}/reinstatement-preview")) {
                    input type="hidden" name="csrf" value=(view.csrf);
                    label for="reinstate-effective" { "Effective" }
                    input #reinstate-effective type="date" name="effective" required;
                    p { button.secondary type="submit" { "Preview the reinstatement" } }
                }
                h3 { "Endorse" }
                form method="post" action=(format!("{base}/endorsement-preview")) {
                    input type="hidden" name="csrf" value=(view.csrf);
                    label for="endorse-effective" { "Effective" }
                    input #endorse-effective type="date" name="effective" required;
                    label for="endorse-changes" { "Changes (JSON list, as the API takes them: [{\"op\": \"set_policy_fields\", \"fields\": {...}}])" }
                    textarea #endorse-changes name="changes" rows="4" cols="70" required {}
                    p { button.secondary type="submit" { "Preview the endorsement" } }
                }
                h3 { "Change the payment plan" }
                form method="post" action=(format!("{base}/plan-change-preview")) {
                    input type="hidden" name="csrf" value=(view.csrf);
                    label for="plan" { "Plan" }
                    select #plan name="plan" { @for p in &plans { option value=(p) { (p) } } }
                    label for="plan-effective" { "Effective" }
                    input #plan-effective type="date" name="effective" required;
                    p { button.secondary type="submit" { "Preview the plan change" } }
                }
                h3 { "Reverse a transaction" }
                @if reversible.is_empty() { p.empty { "No transaction can be reversed." } } @else {
                    form method="post" action=(format!("{base}/reversal-preview")) {
                        input type="hidden" name="csrf" value=(view.csrf);
                        label for="reverse-transaction" { "Transaction" }
                        select #reverse-transaction name="transaction" {
                            @for t in &reversible { option value=(t.locator) { (t.locator) " (" (kind(&t.kind)) ", effective " (t.effective) ")" } }
                        }
                        p { button.secondary type="submit" { "Preview the reversal" } }
                    }
                }
            }
        },
    ))
}

/// A charge's page from its audit; `policy` names the policy it belongs to.
pub fn charge(view: &View, state: &TenantState, policy: &str, audit: &ChargeAudit) -> Markup {
    let c = &audit.charge;
    let billed_by: Vec<(String, String)> = state
        .collections
        .accounts
        .get(&c.account)
        .map(|account| {
            account
                .invoices
                .iter()
                .flat_map(|r| r.invoice.items.iter().map(move |i| (r, i)))
                .filter(|(_, i)| i.charge == c.locator)
                .map(|(r, i)| (r.invoice.locator.clone(), i.locator.clone()))
                .collect()
        })
        .unwrap_or_default();
    layout(
        &c.locator,
        Some(view),
        html! {
            h1 { "Charge " (c.locator) }
            dl.facts {
                dt { "Policy" } dd { a href=(href::policy(policy)) { (policy) } }
                dt { "Account" } dd { a href=(href::account(&c.account)) { (c.account) } }
                dt { "Transaction" } dd { a href=(href::transaction(policy, &c.transaction)) { (c.transaction) }
                    @if let Some(t) = &audit.transaction { " (" (kind(&t.kind)) ", effective " (t.effective) ")" } }
                dt { "What" } dd { (c.description) " (" (c.charge) ")" }
                dt { "Period" } dd { @if let Some(p) = c.period { (p) } }
                dt { "Amount" } dd.amount { (shown(c.amount.amount, c.amount.currency.code())) }
                @if let Some(r) = &c.reverses { dt { "Reverses" } dd { a href=(href::charge(policy, r)) { (r) } } }
                dt { "Journal entries" } dd { a href=(href::entries_of(&c.transaction)) { "of " (c.transaction) } }
            }
            h2 { "Arithmetic" }
            @if c.explanation.arithmetic.is_empty() { p.empty { "No arithmetic recorded (a charge added by command)." } }
            @else { ol { @for line in &c.explanation.arithmetic { li { code { (line) } } } } }
            @if let Some(rater) = &c.explanation.rater { p { "Rater: " code { (serde_json::to_string(rater).unwrap_or_default()) } } }
            @if let Some(basis) = &c.explanation.duration_basis { p { "Duration basis: " (name_of(basis)) } }
            h2 { "Rating calls" }
            @if audit.rating_calls.is_empty() { p.empty { "No rating call of its own: a flat charge, a reversal, or a charge worked out from the ratings already recorded (see the arithmetic)." } }
            @for call in &audit.rating_calls {
                h3 { (call.period) " · started by " a href=(href::transaction(policy, &call.started_by)) { (call.started_by) } }
                p { "Rater: " code { (serde_json::to_string(&call.rater).unwrap_or_default()) } }
                details {
                    summary { "Request" }
                    pre { (serde_json::to_string_pretty(&call.request).unwrap_or_default()) }
                }
                details open {
                    summary { "Response" }
                    pre { (serde_json::to_string_pretty(&call.response).unwrap_or_default()) }
                }
            }
            h2 { "Billed on" }
            @if billed_by.is_empty() { p.empty { "Not invoiced yet." } } @else {
                ul { @for (invoice, item) in &billed_by { li { a href=(format!("{}#{item}", href::invoice(invoice))) { (item) } } } }
            }
        },
    )
}
