//! The warehouse datasets (issue 21 item 6): invoice lines, payment
//! allocations, write-offs, disbursements, installments, earned and unearned
//! premium by charge, and commission by producer, one flat row per record.
//!
//! Every dataset but the earned-premium snapshot carries `entry_id`, the
//! ledger entry the record posted (an invoice's `invoice_issued`, a payment's
//! `payment_received`, a transaction's `charge_written`...). Entry ids only
//! grow, so a warehouse loads what is new with `?after=<the last cursor>`
//! (the rows whose entry id is greater); a record that posted nothing (a
//! zero invoice, a disbursement not executed) has no entry id and is only in
//! loads without a cursor. Money is `DECIMAL(18,4)` in Parquet and a decimal
//! string in CSV, never a float.

use super::ColumnKind::{Boolean, Date, Decimal as Dec, Integer, Text};
use super::{Column, Row, column};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// One line of an issued invoice, with the slice, charge and transaction it
/// bills. The lines of an invoice sum to its `invoice_total`.
#[derive(Debug, Clone, Serialize)]
pub struct InvoiceLineRow {
    pub entry_id: Option<u64>,
    pub invoice: String,
    pub account: String,
    pub invoice_number: u32,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub invoice_total: Decimal,
    pub line: String,
    /// `installment`, `charge` or `fee`.
    pub kind: String,
    pub policy: Option<String>,
    pub transaction: Option<String>,
    pub charge: String,
    pub charge_name: String,
    pub category: String,
    /// The installment slice (`<policy>#<index>`), for installment lines.
    pub slice: Option<String>,
    pub term: Option<u32>,
    pub installment: Option<u32>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub amount: Decimal,
    /// The line this one corrects, if any.
    pub corrects: Option<String>,
}

impl Row for InvoiceLineRow {
    const COLUMNS: &'static [Column] = &[
        column("entry_id", Integer),
        column("invoice", Text),
        column("account", Text),
        column("invoice_number", Integer),
        column("issue_date", Date),
        column("due_date", Date),
        column("currency", Text),
        column("invoice_total", Dec),
        column("line", Text),
        column("kind", Text),
        column("policy", Text),
        column("transaction", Text),
        column("charge", Text),
        column("charge_name", Text),
        column("category", Text),
        column("slice", Text),
        column("term", Integer),
        column("installment", Integer),
        column("period_start", Date),
        column("period_end", Date),
        column("amount", Dec),
        column("corrects", Text),
    ];
}

/// Where part of a payment went: an invoice, or customer credit (`invoice`
/// empty, `target` `customer_credit`). A payment's rows sum to its amount.
#[derive(Debug, Clone, Serialize)]
pub struct AllocationRow {
    pub entry_id: u64,
    pub payment: String,
    pub account: String,
    pub received_on: NaiveDate,
    pub currency: String,
    pub payment_amount: Decimal,
    /// `invoice` or `customer_credit`.
    pub target: &'static str,
    pub invoice: Option<String>,
    pub amount: Decimal,
    pub reversed_on: Option<NaiveDate>,
}

impl Row for AllocationRow {
    const COLUMNS: &'static [Column] = &[
        column("entry_id", Integer),
        column("payment", Text),
        column("account", Text),
        column("received_on", Date),
        column("currency", Text),
        column("payment_amount", Dec),
        column("target", Text),
        column("invoice", Text),
        column("amount", Dec),
        column("reversed_on", Date),
    ];
}

/// A write-off of an invoice (or one of its lines).
#[derive(Debug, Clone, Serialize)]
pub struct WriteOffRow {
    pub entry_id: u64,
    pub write_off: String,
    pub account: String,
    pub invoice: String,
    pub line: Option<String>,
    pub currency: String,
    pub amount: Decimal,
    pub written_off_on: NaiveDate,
    pub automatic: bool,
    pub reason: String,
    pub reversed_on: Option<NaiveDate>,
}

impl Row for WriteOffRow {
    const COLUMNS: &'static [Column] = &[
        column("entry_id", Integer),
        column("write_off", Text),
        column("account", Text),
        column("invoice", Text),
        column("line", Text),
        column("currency", Text),
        column("amount", Dec),
        column("written_off_on", Date),
        column("automatic", Boolean),
        column("reason", Text),
        column("reversed_on", Date),
    ];
}

/// A refund of customer credit and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct DisbursementRow {
    /// The `disbursement_executed` entry, once executed.
    pub entry_id: Option<u64>,
    pub disbursement: String,
    pub account: String,
    pub currency: String,
    pub amount: Decimal,
    pub drafted_on: NaiveDate,
    pub reason: String,
    /// `draft`, `approved`, `executed`, `rejected` or `reversed`.
    pub status: &'static str,
    /// The day it reached its status.
    pub status_on: Option<NaiveDate>,
    pub execute_on: Option<NaiveDate>,
    pub executed_on: Option<NaiveDate>,
}

impl Row for DisbursementRow {
    const COLUMNS: &'static [Column] = &[
        column("entry_id", Integer),
        column("disbursement", Text),
        column("account", Text),
        column("currency", Text),
        column("amount", Dec),
        column("drafted_on", Date),
        column("reason", Text),
        column("status", Text),
        column("status_on", Date),
        column("execute_on", Date),
        column("executed_on", Date),
    ];
}

/// The part of a charge one installment bills (the schedule), and the
/// invoice line that billed it, once invoiced.
#[derive(Debug, Clone, Serialize)]
pub struct InstallmentRow {
    /// The `charge_written` entry of the slice's transaction.
    pub entry_id: Option<u64>,
    /// `<policy>#<index>`.
    pub slice: String,
    pub policy: String,
    pub account: String,
    pub transaction: String,
    pub charge: String,
    pub category: String,
    pub term: u32,
    pub installment: u32,
    pub installment_start: NaiveDate,
    pub installment_end: NaiveDate,
    pub currency: String,
    pub amount: Decimal,
    pub invoice_date: NaiveDate,
    pub due_date: NaiveDate,
    pub caught_up: bool,
    /// Netted: never invoiced (it and others of its frame sum to zero).
    pub netted: bool,
    pub invoice: Option<String>,
    pub invoice_line: Option<String>,
}

impl Row for InstallmentRow {
    const COLUMNS: &'static [Column] = &[
        column("entry_id", Integer),
        column("slice", Text),
        column("policy", Text),
        column("account", Text),
        column("transaction", Text),
        column("charge", Text),
        column("category", Text),
        column("term", Integer),
        column("installment", Integer),
        column("installment_start", Date),
        column("installment_end", Date),
        column("currency", Text),
        column("amount", Dec),
        column("invoice_date", Date),
        column("due_date", Date),
        column("caught_up", Boolean),
        column("netted", Boolean),
        column("invoice", Text),
        column("invoice_line", Text),
    ];
}

/// A premium charge's written, earned and unearned premium as of the end of
/// a day (earned + unearned = written, for every row).
#[derive(Debug, Clone, Serialize)]
pub struct EarnedPremiumRow {
    pub as_of: NaiveDate,
    pub charge: String,
    pub policy: Option<String>,
    pub product: Option<String>,
    pub account: String,
    pub transaction: String,
    pub written_on: Option<NaiveDate>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub currency: String,
    pub written: Decimal,
    pub earned: Decimal,
    pub unearned: Decimal,
    /// What earnings runs have posted for it so far.
    pub earned_posted: Decimal,
}

impl Row for EarnedPremiumRow {
    const COLUMNS: &'static [Column] = &[
        column("as_of", Date),
        column("charge", Text),
        column("policy", Text),
        column("product", Text),
        column("account", Text),
        column("transaction", Text),
        column("written_on", Date),
        column("period_start", Date),
        column("period_end", Date),
        column("currency", Text),
        column("written", Dec),
        column("earned", Dec),
        column("unearned", Dec),
        column("earned_posted", Dec),
    ];
}

/// A commission charge owed to a producer (negative: a chargeback), beside
/// the premium its transaction wrote for the same item.
#[derive(Debug, Clone, Serialize)]
pub struct CommissionRow {
    /// The `charge_written` entry of its transaction.
    pub entry_id: Option<u64>,
    pub producer: String,
    /// `written` or `chargeback`.
    pub kind: &'static str,
    pub posted_on: Option<NaiveDate>,
    pub policy: Option<String>,
    pub account: String,
    pub transaction: String,
    pub charge: String,
    pub item: Option<String>,
    pub currency: String,
    pub amount: Decimal,
    pub premium: Decimal,
    pub technical_premium: Option<Decimal>,
}

impl Row for CommissionRow {
    const COLUMNS: &'static [Column] = &[
        column("entry_id", Integer),
        column("producer", Text),
        column("kind", Text),
        column("posted_on", Date),
        column("policy", Text),
        column("account", Text),
        column("transaction", Text),
        column("charge", Text),
        column("item", Text),
        column("currency", Text),
        column("amount", Dec),
        column("premium", Dec),
        column("technical_premium", Dec),
    ];
}
