//! The exported row types and their declared columns.

use super::ColumnKind::{Date, Decimal as Dec, Integer, Text};
use super::{Column, Row, column};
use crate::ledger::{GlJournalLine, LedgerLineRow};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

impl Row for LedgerLineRow {
    const COLUMNS: &'static [Column] = &[
        column("entry_id", Integer),
        column("tenant", Text),
        column("currency", Text),
        column("posted_on", Date),
        column("kind", Text),
        column("reference", Text),
        column("reverses", Integer),
        column("line", Integer),
        column("account", Text),
        column("subledger", Text),
        column("side", Text),
        column("amount", Dec),
        column("debit_amount", Dec),
    ];
}

impl Row for GlJournalLine {
    const COLUMNS: &'static [Column] = &[
        column("period", Text),
        column("entry_id", Integer),
        column("accounting_date", Date),
        column("posted_on", Date),
        column("kind", Text),
        column("reference", Text),
        column("line", Integer),
        column("currency", Text),
        column("gl_account", Text),
        column("account", Text),
        column("product", Text),
        column("subledger", Text),
        column("debit", Dec),
        column("credit", Dec),
    ];
}

/// A charge as one flat row.
#[derive(Debug, Clone, Serialize)]
pub struct ChargeRow {
    pub locator: String,
    pub account: String,
    pub policy: Option<String>,
    pub transaction: String,
    pub term: Option<u32>,
    pub item: Option<String>,
    pub charge: String,
    pub category: String,
    pub handling: String,
    pub invoicing: String,
    pub recipient: Option<String>,
    pub currency: String,
    pub amount: Decimal,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub reverses: Option<String>,
    /// The charge's technical premium, when its rater answered one (last,
    /// so readers of the older columns are unaffected).
    pub technical_premium: Option<Decimal>,
}

impl Row for ChargeRow {
    const COLUMNS: &'static [Column] = &[
        column("locator", Text),
        column("account", Text),
        column("policy", Text),
        column("transaction", Text),
        column("term", Integer),
        column("item", Text),
        column("charge", Text),
        column("category", Text),
        column("handling", Text),
        column("invoicing", Text),
        column("recipient", Text),
        column("currency", Text),
        column("amount", Dec),
        column("period_start", Date),
        column("period_end", Date),
        column("reverses", Text),
        column("technical_premium", Dec),
    ];
}

/// An invoice and how it was settled, as one flat row.
#[derive(Debug, Clone, Serialize)]
pub struct InvoiceRow {
    pub locator: String,
    pub account: String,
    pub number: u32,
    pub currency: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub total: Decimal,
    pub paid: Decimal,
    pub credited: Decimal,
    pub written_off: Decimal,
    pub outstanding: Decimal,
    pub past_due_on: Option<NaiveDate>,
}

impl Row for InvoiceRow {
    const COLUMNS: &'static [Column] = &[
        column("locator", Text),
        column("account", Text),
        column("number", Integer),
        column("currency", Text),
        column("issue_date", Date),
        column("due_date", Date),
        column("total", Dec),
        column("paid", Dec),
        column("credited", Dec),
        column("written_off", Dec),
        column("outstanding", Dec),
        column("past_due_on", Date),
    ];
}

/// A payment as one flat row.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentRow {
    pub locator: String,
    pub account: String,
    pub currency: String,
    pub amount: Decimal,
    pub received_on: NaiveDate,
    pub to_credit: Decimal,
    pub reversed_on: Option<NaiveDate>,
}

impl Row for PaymentRow {
    const COLUMNS: &'static [Column] = &[
        column("locator", Text),
        column("account", Text),
        column("currency", Text),
        column("amount", Dec),
        column("received_on", Date),
        column("to_credit", Dec),
        column("reversed_on", Date),
    ];
}
