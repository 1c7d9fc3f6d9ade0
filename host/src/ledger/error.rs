//! Why the ledger refused an entry, a reversal or a posting rule's input.
//!
//! A refused operation changes nothing: the ledger validates everything first and
//! only then records.

use crate::domain::Currency;
use crate::ledger::account::{LedgerAccount, SUBLEDGER_BYTES_MAX};
use crate::ledger::book::{ENTRIES_MAX, TENANT_BYTES_MAX};
use crate::ledger::category::{CHARGES_PER_ENTRY_MAX, ChargeCategory};
use crate::ledger::entry::{
    AMOUNT_MAX, EntryId, EntryKind, LINES_PER_ENTRY_MAX, LINES_PER_ENTRY_MIN, MEMO_BYTES_MAX,
    REFERENCE_BYTES_MAX,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// An error posting to, reversing in, or rebuilding a [`crate::ledger::Ledger`], or
/// building an entry with a posting rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    // The shape of an entry.
    /// Fewer than 2 or more than [`LINES_PER_ENTRY_MAX`] lines.
    #[error(
        "an entry has {LINES_PER_ENTRY_MIN} to {LINES_PER_ENTRY_MAX} lines, this one has {count}"
    )]
    LineCount { count: usize },
    /// A line's amount is zero or below.
    #[error("line {line}: amount {amount} is not positive")]
    NonPositiveAmount { line: usize, amount: Decimal },
    /// A line's amount is above [`AMOUNT_MAX`].
    #[error("line {line}: amount {amount} is more than the limit of {AMOUNT_MAX}")]
    AmountTooLarge { line: usize, amount: Decimal },
    /// A line's amount has more decimal places than the currency's minor unit.
    #[error("line {line}: {amount} {currency} is not a whole number of minor units")]
    NotInMinorUnits {
        line: usize,
        amount: Decimal,
        currency: Currency,
    },
    /// A line's account is in another currency than the entry.
    #[error("line {line} is in {found}, the entry is in {expected}")]
    CurrencyMismatch {
        line: usize,
        expected: Currency,
        found: Currency,
    },
    /// A receivable or customer-credit line names no billing account.
    #[error("line {line}: account {account} needs a subledger (the billing account)")]
    SubledgerRequired { line: usize, account: LedgerAccount },
    /// A subledger name is empty, too long, or has control characters or padding.
    #[error(
        "line {line}: subledger {subledger:?} is not 1 to {SUBLEDGER_BYTES_MAX} printable bytes"
    )]
    InvalidSubledger { line: usize, subledger: String },
    /// Debits and credits differ.
    #[error("debits {debits} and credits {credits} differ")]
    Unbalanced { debits: Decimal, credits: Decimal },
    /// The reference is empty, too long, or has control characters or padding.
    #[error("reference {reference:?} is not 1 to {REFERENCE_BYTES_MAX} printable bytes")]
    InvalidReference { reference: String },
    /// The memo is longer than [`MEMO_BYTES_MAX`] bytes.
    #[error("a memo of {len} bytes is more than the limit of {MEMO_BYTES_MAX}")]
    MemoTooLong { len: usize },
    /// An entry of a reversal kind does not name the entry it reverses (drafts never
    /// do: contra entries come only from `Ledger::reverse`).
    #[error("a {kind} entry must reverse an existing entry")]
    ReversalKindWithoutOriginal { kind: EntryKind },
    /// An entry names an original but is not of a reversal kind.
    #[error("a {kind} entry cannot reverse entry {original}")]
    OriginalWithoutReversalKind { kind: EntryKind, original: EntryId },

    // The book.
    /// The tenant name is empty, too long, or has control characters or padding.
    #[error("tenant {tenant:?} is not 1 to {TENANT_BYTES_MAX} printable bytes")]
    InvalidTenant { tenant: String },
    /// The entry belongs to another tenant's book.
    #[error("entry of tenant {found:?} posted to the book of {expected:?}")]
    TenantMismatch { expected: String, found: String },
    /// The book holds [`ENTRIES_MAX`] entries already.
    #[error("the book is full: {ENTRIES_MAX} entries")]
    BookFull,
    /// An entry replayed out of order, or numbered other than the book's next id.
    #[error("expected entry {expected}, found entry {found}")]
    UnexpectedEntryId { expected: EntryId, found: EntryId },
    /// No entry has this id.
    #[error("no entry {0}")]
    UnknownEntry(EntryId),
    /// The entry has been reversed already.
    #[error("entry {entry} is already reversed by entry {reversal}")]
    AlreadyReversed { entry: EntryId, reversal: EntryId },
    /// The entry is a reversal; a reversal is never reversed (post the event again).
    #[error("entry {0} is a reversal and cannot be reversed")]
    CannotReverseReversal(EntryId),
    /// A reversal is dated before the entry it reverses.
    #[error("reversal dated {reversal_posted_on} is before entry {entry} of {posted_on}")]
    ReversalPredatesEntry {
        entry: EntryId,
        posted_on: NaiveDate,
        reversal_posted_on: NaiveDate,
    },
    /// A replayed reversal is not the exact contra of the entry it names, or is not
    /// of that entry's reversal kind.
    #[error("entry {reversal} is not the exact contra of entry {entry}")]
    NotExactContra { entry: EntryId, reversal: EntryId },
    /// An entry's accounting date falls in a closed accounting period: nothing is
    /// ever dated into one.
    #[error(
        "entry {entry} is dated {accounting_date}, in a period closed through {closed_through}"
    )]
    DatedIntoClosedPeriod {
        entry: EntryId,
        accounting_date: NaiveDate,
        closed_through: NaiveDate,
    },
    /// Periods close in order: the book is closed through `closed_through`, and a
    /// close through an earlier or the same day was asked.
    #[error("the book is closed through {closed_through}: {asked} is not after it")]
    PeriodAlreadyClosed {
        closed_through: NaiveDate,
        asked: NaiveDate,
    },
    /// Rebuilding a book stopped at the entry at `position` (from 0).
    #[error("replaying entry at position {position}: {source}")]
    Replay {
        position: usize,
        #[source]
        source: Box<LedgerError>,
    },

    // Inputs of posting rules.
    /// A posting rule's input amount must be positive (`what` names the input).
    #[error("{what} {amount} is not positive")]
    InputNotPositive { what: &'static str, amount: Decimal },
    /// A posting rule's input amount has fractions of a minor unit: round it first.
    #[error("{what} {amount} {currency} is not a whole number of minor units")]
    InputNotInMinorUnits {
        what: &'static str,
        amount: Decimal,
        currency: Currency,
    },
    /// A posting rule's input amount is beyond [`AMOUNT_MAX`].
    #[error("{what} {amount} is more than the limit of {AMOUNT_MAX}")]
    InputTooLarge { what: &'static str, amount: Decimal },
    /// The inputs of one posting rule are in different currencies.
    #[error("{what} is in {found}, expected {expected}")]
    InputCurrencyMismatch {
        what: &'static str,
        expected: Currency,
        found: Currency,
    },
    /// A payment allocates more to invoices than it brings.
    #[error("{allocated} allocated to invoices is more than the payment of {payment}")]
    AllocationExceedsPayment {
        allocated: Decimal,
        payment: Decimal,
    },
    /// More than [`CHARGES_PER_ENTRY_MAX`] charges for one entry.
    #[error("{count} charges is more than the limit of {CHARGES_PER_ENTRY_MAX}")]
    TooManyCharges { count: usize },
    /// A charge is in another currency than the first charge of the transaction.
    #[error("charge {index} ({category}) is in {found}, the transaction is in {expected}")]
    ChargeCurrencyMismatch {
        index: usize,
        category: ChargeCategory,
        expected: Currency,
        found: Currency,
    },
    /// A charge has fractions of a minor unit, or is beyond [`AMOUNT_MAX`].
    #[error(
        "charge {index} ({category}) of {amount} is not a whole number of minor units up to {AMOUNT_MAX}"
    )]
    InvalidChargeAmount {
        index: usize,
        category: ChargeCategory,
        amount: Decimal,
    },
}
