//! The console's pages, rendered on the server with maud (no JavaScript):
//! the layout and the pieces every page shares (amounts right-aligned with
//! their currency, links to an entity's own page, a pager, readable names),
//! then one file per screen. Dates are ISO (`2026-07-02`). A read-only key
//! sees no action: every form is drawn only for a role that may use it.

mod account;
mod events;
mod home;
mod invoice;
mod ledger;
mod policy;
mod preview;
mod search;

pub use account::{AccountPage, account};
pub use events::account_events;
pub use home::{Worklists, home};
pub use invoice::invoice;
pub use ledger::{ENTRIES_SCANNED_MAX, LedgerPage, ledger};
pub use policy::{charge, policy};
pub use preview::{TransactionFields, transaction_preview};
pub use search::{exact_match, search};

use super::View;
use crate::domain::{Currency, Money};
use maud::{DOCTYPE, Markup, html};
use rust_decimal::Decimal;

/// Most rows a search, worklist or list page shows.
pub const ROWS_MAX: usize = 50;

/// An amount in a table cell, right-aligned, with its currency.
pub fn amount(money: &Money) -> Markup {
    decimal(money.amount, money.currency.code())
}

/// A decimal of `currency` in a table cell, right-aligned.
pub fn decimal(value: Decimal, currency: &str) -> Markup {
    html! { td.amount { (shown(value, currency)) } }
}

/// `value` with at least its currency's decimals, then its code: a zero
/// worked out without decimals reads `0.00 USD`, not `0 USD`; `5` JPY
/// reads `5 JPY`; more decimals than the currency's are never cut.
pub fn shown(value: Decimal, currency: &str) -> String {
    let mut value = value.normalize();
    if value.is_zero() {
        value.set_sign_positive(true);
    }
    if let Ok(known) = Currency::from_code(currency) {
        let places = known.minor_unit_scale();
        if value.scale() < places {
            value.rescale(places);
        }
    }
    format!("{value} {currency}")
}

/// [`shown`] for an amount the API wrote as text (`"12.5"`); the text as
/// it is when it is not a number.
pub fn shown_text(value: &str, currency: &str) -> String {
    match value.parse::<Decimal>() {
        Ok(number) => shown(number, currency),
        Err(_) => format!("{value} {currency}"),
    }
}

/// A serde enum's name, readable: `"in_force"` -> `in force`; a tagged
/// one with its fields: `{"state": "disabled", "reason": "failing"}` ->
/// `disabled (reason failing)`.
pub fn name_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text.replace('_', " "),
        Ok(serde_json::Value::Object(map)) => {
            let tag = ["state", "kind", "status"]
                .into_iter()
                .find(|t| map.contains_key(*t));
            let head = tag
                .and_then(|t| map[t].as_str())
                .unwrap_or("")
                .replace('_', " ");
            // Fields in name order, whatever order the JSON map keeps
            // (serde_json's `preserve_order` may be on in a workspace build).
            let mut fields: Vec<(&String, &serde_json::Value)> = map.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            let rest: Vec<String> = fields
                .into_iter()
                .filter(|(k, _)| Some(k.as_str()) != tag)
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    format!("{} {}", k.replace('_', " "), v.replace('_', " "))
                })
                .collect();
            if rest.is_empty() {
                head
            } else {
                format!("{head} ({})", rest.join(", "))
            }
        }
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Links to the console's pages of each kind of entity.
pub mod href {
    pub fn account(account: &str) -> String {
        format!("/console/accounts/{account}")
    }
    pub fn invoice(invoice: &str) -> String {
        format!("/console/invoices/{invoice}")
    }
    pub fn policy(policy: &str) -> String {
        format!("/console/policies/{policy}")
    }
    /// A transaction's row in its policy's timeline.
    pub fn transaction(policy: &str, transaction: &str) -> String {
        format!("/console/policies/{policy}#{transaction}")
    }
    pub fn charge(policy: &str, charge: &str) -> String {
        format!("/console/policies/{policy}/charges/{charge}")
    }
    /// A payment's row on its account's page.
    pub fn payment(account: &str, payment: &str) -> String {
        format!("/console/accounts/{account}#{payment}")
    }
    /// The journal entries recording `reference` (a transaction, invoice,
    /// payment, ...).
    pub fn entries_of(reference: &str) -> String {
        format!("/console/ledger?reference={reference}")
    }
    /// One journal entry on the ledger page.
    pub fn entry(id: u64) -> String {
        format!("/console/ledger?after={}#E{id}", id.saturating_sub(1))
    }
}

/// "Next page" (and "First page") links of a paged list; `next` is the
/// address of the next page, if there is one.
pub fn pager(first: Option<&str>, next: Option<&str>) -> Markup {
    html! {
        @if first.is_some() || next.is_some() {
            nav.pager aria-label="Pages" {
                @if let Some(first) = first { a href=(first) { "First page" } " " }
                @if let Some(next) = next { a href=(next) rel="next" { "Next page" } }
            }
        }
    }
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
                            label.inline for="q" { "Search " }
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

/// An API problem (problem+json) as a readable message: its detail and code.
pub fn problem(answer: &serde_json::Value) -> Markup {
    let detail = answer["detail"]
        .as_str()
        .or_else(|| answer["title"].as_str())
        .unwrap_or("The request was refused.");
    let code = answer["code"].as_str().unwrap_or("");
    html! {
        p.problem role="alert" { (detail) @if !code.is_empty() { " (" (code) ")" } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_without_underscores_and_tagged_ones_with_their_fields() {
        assert_eq!(name_of(&"in_force"), "in force");
        let disabled = serde_json::json!({"state": "disabled", "reason": "failing"});
        assert_eq!(name_of(&disabled), "disabled (reason failing)");
        let suspension = serde_json::json!({"kind": "suspension", "until": "2027-02-01", "catch_up_due_days": 10});
        assert_eq!(
            name_of(&suspension),
            "suspension (catch up due days 10, until 2027-02-01)"
        );
    }

    #[test]
    fn an_amount_cell_is_right_aligned_with_its_currency() {
        let cell = decimal(Decimal::new(-59677, 2), "USD").into_string();
        assert_eq!(cell, "<td class=\"amount\">-596.77 USD</td>");
    }

    #[test]
    fn an_amount_shows_its_currency_decimals_even_when_zero_or_whole() {
        assert_eq!(shown(Decimal::ZERO, "USD"), "0.00 USD");
        assert_eq!(shown(-Decimal::ZERO, "USD"), "0.00 USD");
        assert_eq!(shown(Decimal::new(1200, 0), "USD"), "1200.00 USD");
        assert_eq!(shown(Decimal::new(1250, 1), "USD"), "125.00 USD");
        assert_eq!(shown(Decimal::new(5, 0), "JPY"), "5 JPY");
        assert_eq!(shown(Decimal::new(73125, 3), "USD"), "73.125 USD");
        assert_eq!(shown_text("0", "USD"), "0.00 USD");
        assert_eq!(shown_text("-658.12", "USD"), "-658.12 USD");
    }

    #[test]
    fn a_preview_nets_what_the_customer_gets_back_commission_apart() {
        let charge = |category: &str, amount: &str| serde_json::json!({"category": category, "amount": {"amount": amount, "currency": "USD"}});
        // Six months of 512.50, 765.00 and 185.00 back (731.25), a 10%
        // short-rate kept (73.13), the producer's commission taken back.
        let charges = [
            charge("premium", "-256.25"),
            charge("premium", "-382.50"),
            charge("premium", "-92.50"),
            charge("shortRate", "73.13"),
            charge("commission", "-73.13"),
        ];
        let net = preview::net_effect(&charges);
        assert_eq!(
            net["USD"],
            preview::NetEffect {
                given_back: Decimal::new(73125, 2),
                charged: Decimal::new(7313, 2),
                net: Decimal::new(-65812, 2),
                commission_lines: 1,
            }
        );
    }

    #[test]
    fn a_problem_reads_as_its_detail_and_code() {
        let answer = serde_json::json!({"title": "Unprocessable", "detail": "amount must be positive", "code": "invalid_amount"});
        assert_eq!(
            problem(&answer).into_string(),
            "<p class=\"problem\" role=\"alert\">amount must be positive (invalid_amount)</p>"
        );
        assert!(
            problem(&serde_json::Value::Null)
                .into_string()
                .contains("The request was refused.")
        );
    }
}
