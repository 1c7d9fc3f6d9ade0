//! An account's whole picture (the read model's overview): balances with
//! ageing, policies with their status and terms, upcoming installments,
//! invoices and payments paged ([`ROWS_MAX`] a page, so an account with
//! thousands of invoices opens as fast as a small one), delinquencies,
//! disbursements, holds and write-offs; with the forms of a key that may
//! collect (record a payment, return one, write off, apply credit to the
//! invoices chosen, approve or reject a disbursement, place a hold (invoicing, delinquency, suspension) or release one).

use super::{ROWS_MAX, amount, decimal, href, layout, name_of, pager, shown};
use crate::api::console::View;
use crate::collections::DisbursementStatus;
use crate::engine::TenantState;
use crate::engine::read_model::{
    InvoiceQuery, PageRequest, UPCOMING_INSTALLMENTS_DEFAULT, account_overview, list_invoices,
    payments,
};
use crate::keys::Access;
use chrono::NaiveDate;
use maud::{Markup, html};
use rust_decimal::Decimal;

/// Which account, on which day, and which pages of its lists.
#[derive(Debug, Clone, Default)]
pub struct AccountPage {
    pub locator: String,
    pub today: NaiveDate,
    /// The idempotency key of the page's forms (each form adds a suffix).
    pub key: String,
    /// The cursor of the page of invoices (the first page without one).
    pub invoices_after: Option<String>,
    /// The cursor of the page of payments.
    pub payments_after: Option<String>,
}

/// An account's page; none when the tenant has no such account.
pub fn account(view: &View, state: &TenantState, page: &AccountPage) -> Option<Markup> {
    let locator = page.locator.as_str();
    let today = page.today;
    let key = page.key.as_str();
    let overview = account_overview(state, locator, today, UPCOMING_INSTALLMENTS_DEFAULT).ok()?;
    let billing = state.collections.accounts.get(locator)?;
    let currency = overview.currency.code();
    let may_collect = view.caller.role.allows(Access::Collect);
    let may_transact = view.caller.role.allows(Access::Transact);
    let request = |after: &Option<String>| PageRequest {
        after: after.clone(),
        limit: Some(ROWS_MAX),
    };
    let query = InvoiceQuery {
        account: Some(locator.to_string()),
        ..InvoiceQuery::default()
    };
    let invoices = list_invoices(state, &query, &request(&page.invoices_after), today).ok()?;
    let paid = payments(state, locator, &request(&page.payments_after)).ok()?;
    let base = href::account(locator);
    let balances = &overview.balances;
    let open = &overview.open_invoices;
    Some(layout(
        locator,
        Some(view),
        html! {
            h1 { "Account " (locator) " · " (overview.name) }
            p { a href=(format!("{base}/events")) { "Event history" } }
            dl.facts {
                dt { "Owed on open invoices" } dd.amount { (shown(balances.billed_outstanding, currency)) }
                dt { "Past due" } dd.amount { (shown(balances.past_due, currency)) }
                dt { "Not yet invoiced" } dd.amount { (shown(balances.unbilled, currency)) }
                dt { "Credit" } dd.amount { (shown(balances.credit, currency)) }
                dt { "Free credit (refundable)" } dd.amount { (shown(balances.available_credit, currency)) }
                dt { "Open invoices" } dd { (overview.open_invoice_count) }
            }
            h2 { "Ageing (days past due)" }
            table { thead { tr { th.amount { "0-29" } th.amount { "30-59" } th.amount { "60-89" } th.amount { "90 and more" } } }
                tbody { tr {
                    (decimal(balances.ageing.days_0_29, currency))
                    (decimal(balances.ageing.days_30_59, currency))
                    (decimal(balances.ageing.days_60_89, currency))
                    (decimal(balances.ageing.days_90_plus, currency))
                } }
            }
            h2 { "Policies" }
            @if overview.policies.is_empty() { p.empty { "No policy." } } @else {
                table { thead { tr { th { "Policy" } th { "Product" } th { "Terms" } th { "Status" } } }
                    tbody { @for p in &overview.policies { tr {
                        td { a href=(href::policy(&p.policy)) { (p.policy) } }
                        td { (p.product) }
                        td { @for t in &p.terms {
                            (t.period) " " (t.plan) @if t.confirmed { " (confirmed)" } @else { " (not confirmed)" } br;
                        } }
                        td { (name_of(&p.status)) }
                    } } }
                }
            }
            h2 { "Upcoming installments" }
            @if overview.upcoming_installments.is_empty() { p.empty { "Nothing left to invoice." } } @else {
                table { thead { tr { th { "Policy" } th { "Term" } th { "Charge" } th { "Invoiced on" } th { "Due" } th { "Period" } th.amount { "Amount" } } }
                    tbody { @for u in &overview.upcoming_installments { tr {
                        td { a href=(href::policy(&u.policy)) { (u.policy) } }
                        td { (u.term) }
                        td { a href=(href::charge(&u.policy, &u.charge)) { (u.charge) } }
                        td { (u.invoice_date) }
                        td { (u.due_date) }
                        td { (u.period) }
                        (amount(&u.amount))
                    } } }
                }
            }
            h2 { "Invoices" }
            @if invoices.data.is_empty() { p.empty { "No invoice yet." } } @else {
                table { thead { tr { th { "Invoice" } th { "Issued" } th { "Due" } th.amount { "Total" } th.amount { "Outstanding" } th { "Status" } th { "Past due since" } th { "" } } }
                    tbody { @for r in &invoices.data { tr id=(r.locator) {
                        td { a href=(href::invoice(&r.locator)) { (r.locator) } }
                        td { (r.issue_date) }
                        td { (r.due_date) }
                        (amount(&r.total))
                        (decimal(r.outstanding, currency))
                        td { (name_of(&r.status)) }
                        td { @if let Some(on) = billing.invoice(&r.locator).and_then(|i| i.past_due_on) { (on) } }
                        td { @if may_collect && r.outstanding > Decimal::ZERO {
                            form.inline method="post" action=(format!("{base}/invoices/{}/write-off", r.locator)) {
                                input type="hidden" name="csrf" value=(view.csrf);
                                input type="hidden" name="idempotency_key" value=(format!("{key}-{}", r.locator));
                                label for=(format!("wo-{}", r.locator)) { "Write off (empty: all)" }
                                input id=(format!("wo-{}", r.locator)) name="amount" inputmode="decimal" size="8";
                                label for=(format!("wor-{}", r.locator)) { "Reason" }
                                input id=(format!("wor-{}", r.locator)) name="reason" required size="12";
                                " " button.secondary type="submit" { "Write off" }
                            }
                        } }
                    } } }
                }
                (pager(
                    page.invoices_after.as_ref().map(|_| base.clone()).as_deref(),
                    invoices.next_cursor.as_ref().map(|c| format!("{base}?invoices_after={c}#invoices")).as_deref(),
                ))
            }
            @if may_collect {
                h2 { "Record a payment" }
                form method="post" action=(format!("{base}/payments")) {
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
            @if paid.data.is_empty() { p.empty { "No payment." } } @else {
                table { thead { tr { th { "Payment" } th { "Received" } th { "Reference" } th { "Applied to" } th.amount { "Amount" } th.amount { "To credit" } th { "Returned" } } }
                    tbody { @for r in &paid.data { tr id=(r.payment.locator) {
                        td { (r.payment.locator) " " a href=(href::entries_of(&r.payment.locator)) { "entries" } }
                        td { (r.payment.received_on) }
                        td { (r.payment.reference) }
                        td { @for a in &r.payment.allocations { a href=(href::invoice(&a.invoice)) { (a.invoice) } " " (a.amount) "; " } }
                        (amount(&r.payment.amount))
                        (decimal(r.payment.to_credit, currency))
                        td { @if let Some(on) = r.reversed_on { (on) } @else if may_collect {
                            form.inline method="post" action=(format!("{base}/payments/{}/return", r.payment.locator)) {
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
                (pager(
                    page.payments_after.as_ref().map(|_| base.clone()).as_deref(),
                    paid.next_cursor.as_ref().map(|c| format!("{base}?payments_after={c}")).as_deref(),
                ))
            }
            @if may_collect && balances.available_credit > Decimal::ZERO && !open.is_empty() {
                h2 { "Apply credit" }
                form method="post" action=(format!("{base}/credit")) {
                    input type="hidden" name="csrf" value=(view.csrf);
                    input type="hidden" name="idempotency_key" value=(format!("{key}-credit"));
                    p { (shown(balances.available_credit, currency)) " of free credit goes to the invoices ticked (each up to the amount given, or what it owes), or to the open invoices oldest due first when none is ticked." }
                    fieldset {
                        legend { "Invoices to credit" }
                        @for r in open { p {
                            input type="checkbox" name="invoice" value=(r.locator) id=(format!("credit-{}", r.locator));
                            label.inline for=(format!("credit-{}", r.locator)) { (r.locator) " (owes " (shown(r.outstanding, currency)) ", due " (r.due_date) ")" }
                            " "
                            label.inline for=(format!("credit-amount-{}", r.locator)) { "Amount" }
                            input id=(format!("credit-amount-{}", r.locator)) name=(format!("amount-{}", r.locator)) inputmode="decimal" size="8";
                        } }
                    }
                    button type="submit" { "Apply credit" }
                }
            }
            h2 { "Delinquencies" }
            @if overview.delinquencies.is_empty() { p.empty { "None." } } @else {
                table { thead { tr { th { "Delinquency" } th { "Started" } th { "Due" } th { "Grace ends" } th { "Policies" } th { "Invoices" } th { "Status" } } }
                    tbody { @for d in &overview.delinquencies { tr {
                        td { (d.locator) } td { (d.started_on) } td { (d.due_date) } td { (d.grace_end) }
                        td { @for p in &d.policies { a href=(href::policy(p)) { (p) } " " } }
                        td { @for i in &d.invoices { a href=(href::invoice(i)) { (i) } " " } }
                        td { (name_of(&d.status)) }
                    } } }
                }
            }
            h2 { "Disbursements" }
            @if overview.disbursements.is_empty() { p.empty { "None." } } @else {
                table { thead { tr { th { "Disbursement" } th { "Drafted" } th { "Reason" } th.amount { "Amount" } th { "Status" } th { "" } } }
                    tbody { @for d in &overview.disbursements { tr id=(d.locator) {
                        td { (d.locator) } td { (d.drafted_on) } td { (d.reason) }
                        (amount(&d.amount))
                        td { (name_of(&d.status)) }
                        td { @if may_collect && d.status == DisbursementStatus::Draft {
                            form.inline method="post" action=(format!("{base}/disbursements/{}/approve", d.locator)) {
                                input type="hidden" name="csrf" value=(view.csrf);
                                input type="hidden" name="idempotency_key" value=(format!("{key}-{}", d.locator));
                                button type="submit" { "Approve" }
                            }
                            " "
                            form.inline method="post" action=(format!("{base}/disbursements/{}/reject", d.locator)) {
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
            h2 { "Write-offs" }
            @if overview.write_offs.is_empty() { p.empty { "None." } } @else {
                table { thead { tr { th { "Write-off" } th { "Invoice" } th { "On" } th { "Reason" } th.amount { "Amount" } th { "Entry" } th { "Reversed" } } }
                    tbody { @for w in &overview.write_offs { tr id=(w.write_off.locator) {
                        td { (w.write_off.locator) }
                        td { a href=(href::invoice(&w.write_off.invoice)) { (w.write_off.invoice) } }
                        td { (w.write_off.on) }
                        td { (w.write_off.reason) @if w.write_off.automatic { " (automatic)" } }
                        (amount(&w.write_off.amount))
                        td { a href=(href::entry(w.write_off.entry.0)) { "E" (w.write_off.entry.0) } }
                        td { @if let Some(on) = w.reversed_on { (on) } }
                    } } }
                }
            }
            h2 { "Holds" }
            @if overview.holds.is_empty() { p.empty { "None." } } @else {
                ul { @for h in &overview.holds { li { (h.locator) " (" (name_of(&h.kind)) ") from " (h.from)
                    @if !h.reason.is_empty() { ": " (h.reason) }
                    @if let Some(on) = h.released_on { ", released " (on) }
                    @else if may_collect {
                        " "
                        form.inline method="post" action=(format!("{base}/holds/{}/release", h.locator)) {
                            input type="hidden" name="csrf" value=(view.csrf);
                            input type="hidden" name="idempotency_key" value=(format!("{key}-{}", h.locator));
                            button.secondary type="submit" { "Release" }
                        }
                    }
                } } }
            }
            @if may_collect {
                form method="post" action=(format!("{base}/holds")) {
                    input type="hidden" name="csrf" value=(view.csrf);
                    input type="hidden" name="idempotency_key" value=(format!("{key}-hold"));
                    label for="hold-kind" { "Place a hold" }
                    select #hold-kind name="kind" {
                        option value="invoicing" { "Invoicing (no invoices until released)" }
                        option value="delinquency" { "Delinquency (grace paused until released)" }
                        option value="suspension" { "Suspension (neither until the date below, then one catch-up invoice)" }
                    }
                    label for="hold-until" { "Suspended until (suspension only)" }
                    input #hold-until type="date" name="until";
                    label for="hold-catch-up" { "Catch-up invoice due days after (suspension only)" }
                    input #hold-catch-up name="catch_up_due_days" inputmode="numeric" size="4" value="0";
                    label for="hold-reason" { "Reason" }
                    input #hold-reason name="reason" required;
                    p { button.secondary type="submit" { "Place hold" } }
                }
            }
            @if may_transact && !overview.policies.is_empty() {
                p.empty { "Policy transactions (endorse, cancel, reinstate, reverse, change plan) are on each policy's page." }
            }
        },
    ))
}
