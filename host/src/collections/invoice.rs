//! Invoices: immutable once issued. Each item says what it bills: an installment
//! slice of a policy (and so its charge and transaction), a charge billed whole
//! (flat, `next`, `immediate`, retention), or a fee of the billing system (late
//! fee, reversal fee, a fee from the invoicing plugin). An item that corrects an
//! earlier one (a caught-up installment of an endorsement, a reverse charge)
//! names it.
//!
//! What happens to an invoice after it is issued (payments, credit, write-offs,
//! becoming past due) is kept beside it in an [`InvoiceRecord`], never in it.

use crate::domain::{Currency, Money, Period};
use crate::ledger::ChargeCategory;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most items one invoice carries; a larger bill is split into several
/// invoices of the same dates (each stored event stays small).
pub const INVOICE_ITEMS_MAX: usize = 100;

/// The installment slice an item bills: `policy.slices[index]` in the book.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceRef {
    pub policy: String,
    pub index: u32,
    pub term: u32,
    /// The installment within the term, from 0.
    pub installment: u32,
    /// The date the slice was scheduled to be invoiced.
    pub invoice_date: NaiveDate,
}

/// What an item bills.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A part of a charge spread over installments.
    Installment,
    /// A charge of the policy book billed whole.
    Charge,
    /// A fee of the billing system.
    Fee,
}

/// A line of an invoice.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceItem {
    /// `<invoice>-<n>`.
    pub locator: String,
    pub kind: ItemKind,
    /// The installment slice, for installment items.
    pub slice: Option<SliceRef>,
    /// The locator of the charge (or fee) billed.
    pub charge: String,
    /// The charge's name in the product (`premium`, `policy-fee`, `late-fee`).
    pub charge_name: String,
    /// The transaction that booked the charge, if any.
    pub transaction: Option<String>,
    pub policy: Option<String>,
    pub category: ChargeCategory,
    pub amount: Money,
    /// The coverage paid for (the installment's period).
    pub period: Option<Period>,
    pub description: String,
    /// The earlier item this one corrects.
    pub corrects: Option<String>,
}

/// The billing stream an invoice belongs to (seed 003). Deductible charges
/// are never mixed with premium: they go on deductible invoices of their
/// own, due after the deductible due days, and only credit flagged for
/// deductibles pays them automatically. Serialised in snake_case;
/// an invoice stored before streams existed reads as `premium`.
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStream {
    /// Premium, fees, taxes: everything but deductibles.
    #[default]
    Premium,
    /// Deductibles billed to the insured.
    Deductible,
}

impl InvoiceStream {
    /// The stream that bills charges of `category`.
    pub fn of(category: ChargeCategory) -> InvoiceStream {
        if category.is_deductible() {
            InvoiceStream::Deductible
        } else {
            InvoiceStream::Premium
        }
    }

    /// Whether it is the premium stream (the serialised default, left out).
    pub fn is_premium(&self) -> bool {
        *self == InvoiceStream::Premium
    }
}

/// An issued invoice. Never changes.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// `<account>-I<n>`.
    pub locator: String,
    pub account: String,
    pub currency: Currency,
    /// Position among the account's invoices, from 1.
    pub number: u32,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub items: Vec<InvoiceItem>,
    /// The sum of the items.
    pub total: Money,
    /// Whether it is sent to the customer (seed 003: invoices with nothing
    /// outstanding after credit may be kept back).
    pub sent: bool,
    /// Whether it is the catch-up invoice of a hold or a suspension.
    pub catch_up: bool,
    /// The earliest start of the terms it bills (its issue date when it bills
    /// no installment): credit applied "when the term is effective" waits for it.
    pub effective_on: NaiveDate,
    /// Premium or deductible (seed 003); left out when premium, so invoices
    /// stored before deductible invoices existed read back identically.
    #[serde(default, skip_serializing_if = "InvoiceStream::is_premium")]
    pub stream: InvoiceStream,
}

impl Invoice {
    /// The policies it bills, sorted, without repeats.
    pub fn policies(&self) -> Vec<&str> {
        let mut policies: Vec<&str> = self
            .items
            .iter()
            .filter_map(|item| item.policy.as_deref())
            .collect();
        policies.sort_unstable();
        policies.dedup();
        policies
    }

    /// Whether it bills anything of `policy`.
    pub fn bills_policy(&self, policy: &str) -> bool {
        self.items
            .iter()
            .any(|item| item.policy.as_deref() == Some(policy))
    }
}

/// An invoice and what has happened to it since it was issued.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InvoiceRecord {
    pub invoice: Invoice,
    /// Settled by payments.
    pub paid: Decimal,
    /// Settled by customer credit; for a credit invoice, its (negative) total
    /// turned into credit.
    pub credited: Decimal,
    pub written_off: Decimal,
    /// Written off per item, for item write-offs.
    pub item_written_off: BTreeMap<String, Decimal>,
    /// The day it was found past due.
    pub past_due_on: Option<NaiveDate>,
    /// Set when a write-off of it was reversed: someone decided to collect it,
    /// so small balances are no longer written off automatically.
    pub keep_collecting: bool,
}

impl InvoiceRecord {
    pub fn new(invoice: Invoice) -> Self {
        InvoiceRecord {
            invoice,
            paid: Decimal::ZERO,
            credited: Decimal::ZERO,
            written_off: Decimal::ZERO,
            item_written_off: BTreeMap::new(),
            past_due_on: None,
            keep_collecting: false,
        }
    }

    /// What it still owes: its total less payments, credit and write-offs.
    pub fn outstanding(&self) -> Decimal {
        self.invoice.total.amount - self.paid - self.credited - self.written_off
    }

    /// Whether payments and credit have reached its total (seed 002).
    pub fn is_paid(&self) -> bool {
        self.paid + self.credited >= self.invoice.total.amount
    }

    /// The order payments settle invoices in: oldest due first, then oldest
    /// issued, then by number.
    pub fn age_key(&self) -> (NaiveDate, NaiveDate, u32) {
        (
            self.invoice.due_date,
            self.invoice.issue_date,
            self.invoice.number,
        )
    }
}
