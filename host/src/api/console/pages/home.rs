//! The home page: the tenant's today and the worklists billing staff start
//! from (delinquent accounts, disbursements awaiting approval, holds in
//! force, invoices coming due, webhook endpoints not delivering, plugins in
//! quarantine), each read from the read model's indexes, at most
//! [`ROWS_MAX`] rows each.

use super::{ROWS_MAX, amount, decimal, href, layout, name_of};
use crate::api::console::View;
use crate::engine::TenantState;
use crate::engine::read_model::{PageRequest, Worklist, WorklistRow, worklist};
use chrono::NaiveDate;
use maud::{Markup, html};

/// What the home page lists that is not the billing state's: the plugins
/// in quarantine (`GET /v1/worklists/quarantined-plugins` rows) and the
/// webhook endpoints (`GET /v1/webhooks/endpoints`), of which it shows the
/// ones disabled or failing (a failure in a row at the head of their queue).
#[derive(Debug, Clone, Default)]
pub struct Worklists {
    pub quarantined_plugins: Vec<serde_json::Value>,
    pub webhook_endpoints: Vec<serde_json::Value>,
}

/// Whether an endpoint (a `/v1/webhooks/endpoints` row) is not delivering:
/// disabled, or its last attempts failed.
fn not_delivering(endpoint: &serde_json::Value) -> bool {
    endpoint["status"]["state"] != "enabled" || endpoint["failures"].as_u64().unwrap_or(0) > 0
}

/// An RFC 3339 time as `2026-12-05 12:07:00` (UTC), or nothing.
fn instant(value: &serde_json::Value) -> String {
    value
        .as_str()
        .and_then(|t| t.get(..19))
        .map_or(String::new(), |t| t.replace('T', " "))
}

fn rows(state: &TenantState, list: Worklist, today: NaiveDate) -> Vec<WorklistRow> {
    let request = PageRequest {
        after: None,
        limit: Some(ROWS_MAX),
    };
    worklist(state, list, &request, today)
        .map(|page| page.data)
        .unwrap_or_default()
}

/// The home page on `today`.
pub fn home(view: &View, state: &TenantState, today: NaiveDate, extra: &Worklists) -> Markup {
    let currency = |account: &str| {
        state
            .collections
            .accounts
            .get(account)
            .map_or("", |a| a.currency.code())
    };
    let delinquent = rows(state, Worklist::DelinquentAccounts, today);
    let awaiting = rows(state, Worklist::DisbursementsAwaitingApproval, today);
    let holds = rows(state, Worklist::ActiveHolds, today);
    let coming_due = rows(state, Worklist::InvoicesComingDue { days: 14 }, today);
    let failing: Vec<&serde_json::Value> = extra
        .webhook_endpoints
        .iter()
        .filter(|e| not_delivering(e))
        .take(ROWS_MAX)
        .collect();
    layout(
        "Home",
        Some(view),
        html! {
            h1 { "Today, " (today) }
            h2 { "Delinquent accounts" }
            @if delinquent.is_empty() { p.empty { "No account is in grace." } } @else {
                table { thead { tr { th { "Account" } th { "Delinquency" } th { "Grace ends" } th { "Policies" } th.amount { "Owed" } } }
                    tbody { @for row in &delinquent { @if let WorklistRow::DelinquentAccount(d) = row { tr {
                        td { a href=(href::account(&d.account)) { (d.account) } }
                        td { (d.delinquency) }
                        td { (d.grace_end) }
                        td { @for p in &d.policies { a href=(href::policy(p)) { (p) } " " } }
                        (decimal(d.billed_outstanding, currency(&d.account)))
                    } } } }
                }
            }
            h2 { "Disbursements awaiting approval" }
            @if awaiting.is_empty() { p.empty { "None." } } @else {
                table { thead { tr { th { "Disbursement" } th { "Account" } th { "Drafted" } th { "Reason" } th.amount { "Amount" } } }
                    tbody { @for row in &awaiting { @if let WorklistRow::Disbursement(d) = row { tr {
                        @let d = &d.disbursement;
                        td { (d.locator) }
                        td { a href=(href::account(&d.account)) { (d.account) } }
                        td { (d.drafted_on) }
                        td { (d.reason) }
                        (amount(&d.amount))
                    } } } }
                }
            }
            h2 { "Active holds" }
            @if holds.is_empty() { p.empty { "None." } } @else {
                table { thead { tr { th { "Hold" } th { "Account" } th { "Kind" } th { "From" } th { "Reason" } } }
                    tbody { @for row in &holds { @if let WorklistRow::Hold(h) = row { tr {
                        td { (h.hold.locator) }
                        td { a href=(href::account(&h.account)) { (h.account) } }
                        td { (name_of(&h.hold.kind)) }
                        td { (h.hold.from) }
                        td { (h.hold.reason) }
                    } } } }
                }
            }
            h2 { "Invoices coming due (14 days)" }
            @if coming_due.is_empty() { p.empty { "No invoice falls due in the next 14 days." } } @else {
                table { thead { tr { th { "Invoice" } th { "Account" } th { "Due" } th.amount { "Outstanding" } } }
                    tbody { @for row in &coming_due { @if let WorklistRow::Invoice(i) = row { tr {
                        td { a href=(href::invoice(&i.locator)) { (i.locator) } }
                        td { a href=(href::account(&i.account)) { (i.account) } }
                        td { (i.due_date) }
                        (decimal(i.outstanding, i.total.currency.code()))
                    } } } }
                }
            }
            h2 { "Webhook endpoints not delivering" }
            @if failing.is_empty() { p.empty { "Every endpoint is enabled." } } @else {
                table { thead { tr { th { "Endpoint" } th { "URL" } th { "Status" } th.count { "Failures in a row" } th { "Failing since (UTC)" } th { "Next attempt (UTC)" } } }
                    tbody { @for e in &failing { tr {
                        td { (e["id"].as_str().unwrap_or("")) } td { (e["url"].as_str().unwrap_or("")) }
                        td { (name_of(&e["status"])) }
                        td.count { (e["failures"].as_u64().unwrap_or(0)) }
                        td { (instant(&e["failing_since"])) }
                        td { (instant(&e["next_attempt_at"])) }
                    } } }
                }
            }
            h2 { "Plugins in quarantine" }
            @if extra.quarantined_plugins.is_empty() { p.empty { "No plugin is in quarantine." } } @else {
                table { thead { tr { th { "Plugin" } th.count { "Quarantine left" } } }
                    tbody { @for p in &extra.quarantined_plugins { tr {
                        td { (p["id"].as_str().unwrap_or("")) }
                        td.count { (p["quarantined_ms_left"].as_u64().unwrap_or(0) / 1000) " s" }
                    } } }
                }
            }
        },
    )
}
