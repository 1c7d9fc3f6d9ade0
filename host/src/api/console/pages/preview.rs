//! A policy transaction's preview: the API's answer to the request with
//! `?preview=true` (nothing kept), shown as its full effect: the
//! transactions it would issue, the charges it would book, the
//! installments, the journal entries, the net effect for the customer
//! (premium and fees given back or charged, commission apart), and each
//! account before and after.
//! Under it one button commits exactly what was previewed: the same
//! fields, carried as hidden inputs, with an idempotency key made here (a
//! double submit commits once).

use super::{layout, shown, shown_text};
use crate::api::console::View;
use maud::{Markup, html};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// What a previewed transaction is and how to commit it.
#[derive(Debug, Clone)]
pub struct TransactionFields {
    /// `cancellation`, `endorsement`, ...: the thing previewed.
    pub noun: &'static str,
    /// The console's address that commits it.
    pub commit: String,
    /// The form's fields, sent again as they were.
    pub fields: Vec<(&'static str, String)>,
}

fn money(value: &serde_json::Value) -> String {
    shown_text(
        value["amount"].as_str().unwrap_or(""),
        value["currency"].as_str().unwrap_or(""),
    )
}

/// What the charges previewed do to the customer, per currency: given back
/// (the negative charges), charged or kept (the positive ones) and the
/// net, commission apart (it is between the insurer and the producer).
///
/// Example: a cancellation giving back 256.25 + 382.50 + 92.50 = 731.25
/// of premium and keeping a 73.13 short-rate fee nets 731.25 - 73.13 =
/// 658.12 back to the customer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetEffect {
    pub given_back: Decimal,
    pub charged: Decimal,
    pub net: Decimal,
    pub commission_lines: usize,
}

/// [`NetEffect`] of `charges` (the preview's JSON), by currency code.
pub fn net_effect(charges: &[serde_json::Value]) -> BTreeMap<String, NetEffect> {
    let mut by_currency: BTreeMap<String, NetEffect> = BTreeMap::new();
    for c in charges {
        let currency = c["amount"]["currency"].as_str().unwrap_or("").to_string();
        let Some(value) = c["amount"]["amount"]
            .as_str()
            .and_then(|a| a.parse::<Decimal>().ok())
        else {
            continue;
        };
        let effect = by_currency.entry(currency).or_default();
        if c["category"] == "commission" {
            effect.commission_lines += 1;
            continue;
        }
        if value.is_sign_negative() {
            effect.given_back -= value;
        } else {
            effect.charged += value;
        }
        effect.net += value;
    }
    by_currency
}

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The preview of a policy transaction on `policy`.
pub fn transaction_preview(
    view: &View,
    policy: &str,
    what: &TransactionFields,
    effect: &serde_json::Value,
    key: &str,
) -> Markup {
    let list = |name: &str| -> Vec<serde_json::Value> {
        effect[name].as_array().cloned().unwrap_or_default()
    };
    let transactions = list("transactions");
    let charges = list("charges");
    let installments = list("installments");
    let entries = list("journal_entries");
    let summaries = list("summaries");
    let net = net_effect(&charges);
    let given: Vec<String> = what
        .fields
        .iter()
        .filter(|(name, _)| *name != "changes")
        .map(|(name, value)| format!("{} {value}", name.replace('_', " ")))
        .collect();
    layout(
        "Preview",
        Some(view),
        html! {
            h1 { "Preview: " (what.noun) " of " (policy) }
            p { (given.join(", ")) }
            p.notice { "Nothing is kept yet. The " (what.noun) " would book:" }
            h2 { "Transactions" }
            @if transactions.is_empty() { p.empty { "No transaction." } } @else {
                table { thead { tr { th { "Transaction" } th { "Kind" } th { "Effective" } th { "Term" } } }
                    tbody { @for t in &transactions { tr {
                        td { (text(&t["locator"])) } td { (text(&t["kind"]).replace('_', " ")) }
                        td { (text(&t["effective"])) } td { (text(&t["term"])) }
                    } } }
                }
            }
            h2 { "Charges" }
            @if charges.is_empty() { p.empty { "No charge." } } @else {
                table { thead { tr { th { "Charge" } th { "What" } th { "Period" } th.amount { "Amount" } th { "Arithmetic" } } }
                    tbody { @for c in &charges { tr {
                        td { (text(&c["locator"])) br; (text(&c["charge"])) }
                        td { (text(&c["description"])) }
                        td { @if let Some(p) = c["period"].as_object() { (text(&p["start"])) " to " (text(&p["end"])) } }
                        td.amount { (money(&c["amount"])) }
                        td { @for line in c["explanation"]["arithmetic"].as_array().into_iter().flatten() { (text(line)) br; } }
                    } } }
                }
            }
            h2 { "Net effect for the customer" }
            @if net.is_empty() { p.empty { "Nothing changes for the customer." } }
            @for (currency, effect) in &net {
                table.net { thead { tr { th { "" } th.amount { "Amount" } } }
                    tbody {
                        tr { th { "Premium and fees given back" } td.amount { (shown(-effect.given_back, currency)) } }
                        tr { th { "Premium and fees charged or kept" } td.amount { (shown(effect.charged, currency)) } }
                        tr.total { th { "Net for the customer" } td.amount { (shown(effect.net, currency)) } }
                    }
                }
                p.net {
                    strong {
                        @if effect.net.is_sign_negative() && !effect.net.is_zero() { "Net: " (shown(-effect.net, currency)) " back to the customer's account." }
                        @else if effect.net.is_zero() { "Net: nothing more to pay and nothing back." }
                        @else { "Net: " (shown(effect.net, currency)) " more for the customer to pay." }
                    }
                    @if effect.commission_lines > 0 { " Commission lines (" (effect.commission_lines) ") are between the insurer and the producer: they do not change what the customer owes." }
                }
            }
            h2 { "Installments" }
            @if installments.is_empty() { p.empty { "No installment changes." } } @else {
                table { thead { tr { th { "Charge" } th { "Term" } th { "Installment" } th { "Invoiced on" } th { "Due" } th.amount { "Amount" } } }
                    tbody { @for i in &installments { tr {
                        td { (text(&i["charge"])) } td { (text(&i["term"])) }
                        td { (i["installment"].as_u64().map_or(0, |n| n + 1)) }
                        td { (text(&i["invoice_date"])) } td { (text(&i["due_date"])) }
                        td.amount { (money(&i["amount"])) }
                    } } }
                }
            }
            h2 { "Journal entries" }
            @if entries.is_empty() { p.empty { "No journal entry." } } @else {
                table { thead { tr { th { "Posted" } th { "Kind" } th { "Reference" } th { "Account" } th.amount { "Debit" } th.amount { "Credit" } } }
                    tbody { @for e in &entries { @for line in e["lines"].as_array().into_iter().flatten() { tr {
                        td { (text(&e["posted_on"])) } td { (text(&e["kind"]).replace('_', " ")) } td { (text(&e["reference"])) }
                        td { (text(&line["account"]["account"])) @if let Some(s) = line["account"]["subledger"].as_str() { " · " (s) } }
                        @if line["side"] == "debit" { td.amount { (shown_text(&text(&line["amount"]), &text(&e["currency"]))) } td {} }
                        @else { td {} td.amount { (shown_text(&text(&line["amount"]), &text(&e["currency"]))) } }
                    } } } }
                }
            }
            @for s in &summaries {
                h2 { "Account " (text(&s["account"])) ": before and after" }
                @let currency = text(&s["currency"]);
                table { thead { tr { th { "" } th.amount { "Owed" } th.amount { "Not yet invoiced" } th.amount { "Credit" } th.amount { "Refund due" } th.amount { "Amount owed" } } }
                    tbody { @for (label, side) in [("Before", &s["before"]), ("After", &s["after"])] { tr {
                        th { (label) }
                        td.amount { (shown_text(&text(&side["owed"]), &currency)) }
                        td.amount { (shown_text(&text(&side["unbilled"]), &currency)) }
                        td.amount { (shown_text(&text(&side["credit"]), &currency)) }
                        td.amount { (shown_text(&text(&side["refund_due"]), &currency)) }
                        td.amount { (shown_text(&text(&side["amount_owed"]), &currency)) }
                    } } }
                }
            }
            form method="post" action=(what.commit) {
                input type="hidden" name="csrf" value=(view.csrf);
                input type="hidden" name="idempotency_key" value=(key);
                @for (name, value) in &what.fields { input type="hidden" name=(name) value=(value); }
                button type="submit" { "Commit the " (what.noun) }
                " " a href=(super::href::policy(policy)) { "Back" }
            }
        },
    )
}
