//! A policy transaction's preview: the API's answer to the request with
//! `?preview=true` (nothing kept), shown as its full effect: the
//! transactions it would issue, the charges it would book, the
//! installments, the journal entries, and each account before and after.
//! Under it one button commits exactly what was previewed: the same
//! fields, carried as hidden inputs, with an idempotency key made here (a
//! double submit commits once).

use super::layout;
use crate::api::console::View;
use maud::{Markup, html};

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
    format!(
        "{} {}",
        value["amount"].as_str().unwrap_or(""),
        value["currency"].as_str().unwrap_or("")
    )
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
                        @if line["side"] == "debit" { td.amount { (text(&line["amount"])) " " (text(&e["currency"])) } td {} }
                        @else { td {} td.amount { (text(&line["amount"])) " " (text(&e["currency"])) } }
                    } } } }
                }
            }
            @for s in &summaries {
                h2 { "Account " (text(&s["account"])) ": before and after" }
                @let currency = text(&s["currency"]);
                table { thead { tr { th { "" } th.amount { "Owed" } th.amount { "Not yet invoiced" } th.amount { "Credit" } th.amount { "Refund due" } th.amount { "Amount owed" } } }
                    tbody { @for (label, side) in [("Before", &s["before"]), ("After", &s["after"])] { tr {
                        th { (label) }
                        td.amount { (text(&side["owed"])) " " (currency) }
                        td.amount { (text(&side["unbilled"])) " " (currency) }
                        td.amount { (text(&side["credit"])) " " (currency) }
                        td.amount { (text(&side["refund_due"])) " " (currency) }
                        td.amount { (text(&side["amount_owed"])) " " (currency) }
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
