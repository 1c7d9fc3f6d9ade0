//! The invoicing contract: the plain data an invoicing plugin is given and
//! answers with, at the same layer as the rating contract (`rating`). Billing
//! (`collections`) builds a [`DraftInvoice`] and asks an
//! `collections::InvoiceAdjuster` for [`InvoiceAdjustments`] (fees,
//! discounts, a new due date); a new schedule's installments
//! ([`ScheduleInstallment`]) may be given new dates ([`InstallmentDates`]).
//! No wasmtime here: `plugin/invoicing.rs` converts these to and from the WIT
//! types of each plugin version.
//!
//! Example: a draft of two items of 100.00 and -30.00 nets 70.00 and is not a
//! credit; a plugin may add an `installment_fee` line of 5.00 and move the
//! due date from 2026-03-01 to 2026-03-15.

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

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn item(locator: &str, amount: Decimal) -> DraftItem {
        DraftItem {
            locator: locator.into(),
            policy: Some("P1".into()),
            charge: "premium".into(),
            category: "premium".into(),
            amount,
            period: None,
            installment_number: Some(1),
        }
    }

    #[test]
    fn a_drafts_net_and_credit_follow_from_its_items() {
        let date = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let mut draft = DraftInvoice {
            account: "A1".into(),
            currency: "USD".into(),
            invoice_date: date(1),
            due_date: date(15),
            previous_invoice_count: 0,
            items: vec![item("I1", dec!(100.00)), item("I2", dec!(-30.00))],
            policies: vec![],
        };
        assert_eq!(draft.net(), dec!(70.00));
        assert!(!draft.is_credit());
        draft.items.push(item("I3", dec!(-80.00)));
        assert_eq!(draft.net(), dec!(-10.00));
        assert!(draft.is_credit());
    }
}
