//! The invoicing hook's WIT conversions (to the newest WIT version;
//! `versions` converts for older plugins): the contract's plain types live in
//! `crate::invoicing`; only the bindings and the conversions are here.

use super::bindings::wit_invoicing as wi;
use super::convert::{date_from_wit, date_to_wit, parse_decimal, period_to_wit};
use crate::invoicing::{
    Coverage, DraftInvoice, InstallmentDates, InvoiceAdjustments, InvoiceLine, ScheduleInstallment,
};

fn coverage_to_wit(coverage: Coverage) -> wi::Coverage {
    match coverage {
        Coverage::InForce => wi::Coverage::InForce,
        Coverage::NotStarted => wi::Coverage::NotStarted,
        Coverage::Cancelled { effective } => wi::Coverage::Cancelled(date_to_wit(effective)),
        Coverage::Lapsed { effective } => wi::Coverage::Lapsed(date_to_wit(effective)),
        Coverage::Expired => wi::Coverage::Expired,
    }
}

pub(super) fn draft_to_wit(draft: &DraftInvoice) -> wi::DraftInvoice {
    wi::DraftInvoice {
        account: draft.account.clone(),
        currency: draft.currency.clone(),
        invoice_date: date_to_wit(draft.invoice_date),
        due_date: date_to_wit(draft.due_date),
        previous_invoice_count: draft.previous_invoice_count,
        items: draft
            .items
            .iter()
            .map(|i| wi::DraftItem {
                locator: i.locator.clone(),
                policy: i.policy.clone(),
                charge: i.charge.clone(),
                category: i.category.clone(),
                amount: i.amount.to_string(),
                period: i.period.map(period_to_wit),
                installment_number: i.installment_number,
            })
            .collect(),
        net: draft.net().to_string(),
        credit: draft.is_credit(),
        policies: draft
            .policies
            .iter()
            .map(|p| wi::PolicyStatus {
                policy: p.policy.clone(),
                term: p.term,
                coverage: coverage_to_wit(p.coverage),
            })
            .collect(),
    }
}

pub(super) fn draft_bytes(draft: &DraftInvoice) -> usize {
    const VALUE_OVERHEAD_BYTES: usize = 16;
    draft.account.len()
        + draft.currency.len()
        + draft
            .items
            .iter()
            .map(|i| {
                i.locator.len()
                    + i.policy.as_ref().map_or(0, String::len)
                    + i.charge.len()
                    + i.category.len()
                    + 4 * VALUE_OVERHEAD_BYTES
            })
            .sum::<usize>()
        + draft
            .policies
            .iter()
            .map(|p| p.policy.len() + 2 * VALUE_OVERHEAD_BYTES)
            .sum::<usize>()
}

pub(super) fn adjustments_bytes(adjustments: &wi::InvoiceAdjustments) -> usize {
    adjustments
        .lines
        .iter()
        .map(|l| {
            l.charge.len()
                + l.amount.len()
                + l.description.len()
                + l.policy.as_ref().map_or(0, String::len)
        })
        .sum()
}

pub(super) fn adjustments_from_wit(
    draft: &DraftInvoice,
    adjustments: wi::InvoiceAdjustments,
) -> Result<InvoiceAdjustments, String> {
    let due_date = adjustments.due_date.map(date_from_wit).transpose()?;
    if let Some(due) = due_date
        && due < draft.invoice_date
    {
        return Err(format!(
            "due date {due} is before the invoice date {}",
            draft.invoice_date
        ));
    }
    let lines = adjustments
        .lines
        .into_iter()
        .map(|l| {
            if l.charge.is_empty() {
                return Err("an invoice line has no charge name".to_string());
            }
            Ok(InvoiceLine {
                amount: parse_decimal(&l.amount, &format!("invoice line {}", l.charge))?,
                charge: l.charge,
                policy: l.policy,
                description: l.description,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(InvoiceAdjustments { lines, due_date })
}

pub(super) fn installments_to_wit(installments: &[ScheduleInstallment]) -> Vec<wi::Installment> {
    installments
        .iter()
        .map(|i| wi::Installment {
            locator: i.locator.clone(),
            policy: i.policy.clone(),
            number: i.number,
            period: period_to_wit(i.period),
            generate_date: date_to_wit(i.generate_date),
            due_date: date_to_wit(i.due_date),
            amount: i.amount.to_string(),
        })
        .collect()
}

pub(super) fn installment_dates_from_wit(
    installments: &[ScheduleInstallment],
    moved: Vec<wi::InstallmentDates>,
) -> Result<Vec<InstallmentDates>, String> {
    moved
        .into_iter()
        .map(|m| {
            if !installments.iter().any(|i| i.locator == m.locator) {
                return Err(format!("installment {} is not in the schedule", m.locator));
            }
            let dates = InstallmentDates {
                generate_date: date_from_wit(m.generate_date)?,
                due_date: date_from_wit(m.due_date)?,
                locator: m.locator,
            };
            if dates.generate_date > dates.due_date {
                return Err(format!(
                    "installment {}: generate date after due date",
                    dates.locator
                ));
            }
            Ok(dates)
        })
        .collect()
}
