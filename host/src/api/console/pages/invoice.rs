//! One invoice (the read model's detail): its figures, every item with the
//! policy, transaction, charge and installment it bills, the payments and
//! write-offs applied to it, the invoices it corrects or that correct it,
//! and the journal entries recording it: every neighbour is a link.

use super::{amount, decimal, href, layout, name_of, shown};
use crate::api::console::View;
use crate::engine::TenantState;
use crate::engine::read_model::invoice_detail;
use chrono::NaiveDate;
use maud::{Markup, html};

/// An invoice's page; none when the tenant has no such invoice.
pub fn invoice(
    view: &View,
    state: &TenantState,
    locator: &str,
    today: NaiveDate,
) -> Option<Markup> {
    let detail = invoice_detail(state, locator, today).ok()?;
    let row = &detail.row;
    let currency = row.total.currency.code();
    Some(layout(
        locator,
        Some(view),
        html! {
            h1 { "Invoice " (locator) }
            dl.facts {
                dt { "Account" } dd { a href=(href::account(&row.account)) { (row.account) } }
                dt { "Status" } dd { (name_of(&row.status)) @if let Some(days) = row.days_past_due { ", " (days) " days past due" } }
                dt { "Issued" } dd { (row.issue_date) }
                dt { "Effective" } dd { (detail.effective_on) }
                dt { "Due" } dd { (row.due_date) }
                dt { "Total" } dd.amount { (shown(row.total.amount, currency)) }
                dt { "Paid" } dd.amount { (shown(row.paid, currency)) }
                dt { "Credited" } dd.amount { (shown(row.credited, currency)) }
                dt { "Written off" } dd.amount { (shown(row.written_off, currency)) }
                dt { "Outstanding" } dd.amount { (shown(row.outstanding, currency)) }
                dt { "Policies" } dd { @for p in &row.policies { a href=(href::policy(p)) { (p) } " " } }
            }
            p { a href=(href::entries_of(locator)) { "Journal entries of this invoice" } }
            h2 { "Items" }
            @if detail.items.is_empty() { p.empty { "No item." } } @else {
                table { thead { tr { th { "Item" } th { "What" } th { "Policy" } th { "Transaction" } th { "Charge" } th { "Period" } th.amount { "Amount" } th.amount { "Written off" } th { "Corrections" } } }
                    tbody { @for item in &detail.items { tr id=(item.item.locator) {
                        td { (item.item.locator) }
                        td { (item.item.description) }
                        td { @if let Some(p) = &item.item.policy { a href=(href::policy(p)) { (p) } } }
                        td { @if let (Some(p), Some(t)) = (&item.item.policy, &item.booked_by) {
                            a href=(href::transaction(p, &t.locator)) { (t.locator) } " " (name_of(&t.kind)) " " (t.effective)
                        } }
                        td { @if let Some(p) = &item.item.policy {
                            a href=(href::charge(p, &item.item.charge)) { (item.item.charge) }
                        } @else { (item.item.charge) } }
                        td { @if let Some(period) = &item.item.period { (period) }
                            @if let Some(slice) = &item.installment { br; "installment " (slice.installment + 1) " of term " (slice.term) } }
                        (amount(&item.item.amount))
                        (decimal(item.written_off, currency))
                        td {
                            @if let Some(c) = &item.item.corrects { "corrects " a href=(href::invoice(c.rsplit_once('-').map_or(c.as_str(), |(i, _)| i))) { (c) } " " }
                            @for by in &item.corrected_by { "corrected by " a href=(href::invoice(by.rsplit_once('-').map_or(by.as_str(), |(i, _)| i))) { (by) } " " }
                        }
                    } } }
                }
            }
            h2 { "Payments applied" }
            @if detail.payments.is_empty() { p.empty { "No payment applied." } } @else {
                table { thead { tr { th { "Payment" } th { "Received" } th.amount { "Applied here" } th { "Returned" } } }
                    tbody { @for p in &detail.payments { tr {
                        td { a href=(href::payment(&row.account, &p.payment)) { (p.payment) } }
                        td { (p.received_on) }
                        (decimal(p.amount, currency))
                        td { @if let Some(on) = p.reversed_on { (on) } }
                    } } }
                }
            }
            h2 { "Write-offs" }
            @if detail.write_offs.is_empty() { p.empty { "None." } } @else {
                table { thead { tr { th { "Write-off" } th { "On" } th { "Reason" } th.amount { "Amount" } th { "Entry" } } }
                    tbody { @for w in &detail.write_offs { tr {
                        td { (w.write_off.locator) }
                        td { (w.write_off.on) }
                        td { (w.write_off.reason) }
                        (amount(&w.write_off.amount))
                        td { a href=(href::entry(w.write_off.entry.0)) { "E" (w.write_off.entry.0) } }
                    } } }
                }
            }
            @if !detail.corrects.is_empty() || !detail.corrected_by.is_empty() {
                h2 { "Corrections" }
                @if !detail.corrects.is_empty() { p { "Corrects " @for i in &detail.corrects { a href=(href::invoice(i)) { (i) } " " } } }
                @if !detail.corrected_by.is_empty() { p { "Corrected by " @for i in &detail.corrected_by { a href=(href::invoice(i)) { (i) } " " } } }
            }
        },
    ))
}
