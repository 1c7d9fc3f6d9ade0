//! Native types of the invoicing hook, and their WIT conversions (to the
//! newest WIT version; `versions` converts for older plugins). Billing builds
//! a [`DraftInvoice`]; an invoicing plugin answers with
//! [`InvoiceAdjustments`] (fees, discounts, a new due date).

use super::bindings::wit_invoicing as wi;
use super::convert::{date_from_wit, date_to_wit, parse_decimal, period_to_wit};
use crate::rating::Segment;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A line of a draft invoice.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftItem {
    pub locator: String,
    #[serde(default)]
    pub policy: Option<String>,
    pub charge: String,
    pub category: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    #[serde(default)]
    pub period: Option<Segment>,
    #[serde(default)]
    pub installment_number: Option<u32>,
}

/// Where a policy's coverage stands on an invoice's date.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Coverage {
    /// Covered on the invoice date.
    InForce,
    /// Its term starts after the invoice date.
    NotStarted,
    /// Cancelled on request from `effective`, not reinstated by the invoice date.
    Cancelled { effective: NaiveDate },
    /// Cancelled by billing for non-payment from `effective`, not
    /// reinstated by the invoice date.
    Lapsed { effective: NaiveDate },
    /// Its term ended before the invoice date, and no renewal covers it.
    Expired,
}

/// A policy billed on a draft invoice, and its coverage on the invoice date.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyStatus {
    pub policy: String,
    /// The term the invoice bills (1 = the first).
    pub term: u32,
    pub coverage: Coverage,
}

/// An invoice about to be issued. Its net and whether it is a credit follow
/// from its items ([`DraftInvoice::net`], [`DraftInvoice::is_credit`]), so
/// they can never disagree with them; a plugin of WIT 0.2 receives both.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftInvoice {
    pub account: String,
    pub currency: String,
    pub invoice_date: NaiveDate,
    pub due_date: NaiveDate,
    pub previous_invoice_count: u32,
    pub items: Vec<DraftItem>,
    /// Every policy the items belong to, once, in locator order.
    #[serde(default)]
    pub policies: Vec<PolicyStatus>,
}

impl DraftInvoice {
    /// The sum of the items' amounts.
    pub fn net(&self) -> Decimal {
        self.items.iter().map(|i| i.amount).sum()
    }

    /// Whether the invoice is a credit: its net is below zero.
    pub fn is_credit(&self) -> bool {
        self.net() < Decimal::ZERO
    }
}

fn coverage_to_wit(coverage: Coverage) -> wi::Coverage {
    match coverage {
        Coverage::InForce => wi::Coverage::InForce,
        Coverage::NotStarted => wi::Coverage::NotStarted,
        Coverage::Cancelled { effective } => wi::Coverage::Cancelled(date_to_wit(effective)),
        Coverage::Lapsed { effective } => wi::Coverage::Lapsed(date_to_wit(effective)),
        Coverage::Expired => wi::Coverage::Expired,
    }
}

/// A line an invoicing plugin adds (a fee, or a negative adjustment).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub charge: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub policy: Option<String>,
    pub description: String,
}

/// What an invoicing plugin does to a draft invoice.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceAdjustments {
    pub lines: Vec<InvoiceLine>,
    pub due_date: Option<NaiveDate>,
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

/// An installment of a new schedule, offered to the plugin to move its dates.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleInstallment {
    pub locator: String,
    pub policy: String,
    pub number: u32,
    pub period: Segment,
    pub generate_date: NaiveDate,
    pub due_date: NaiveDate,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// New dates for one installment.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallmentDates {
    pub locator: String,
    pub generate_date: NaiveDate,
    pub due_date: NaiveDate,
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
