//! The double-entry ledger: one book per tenant, every currency kept apart, every
//! financial event posted as one balanced, immutable journal entry.
//!
//! Pure: no I/O, no async, no floats. Limits on everything ([`ENTRIES_MAX`],
//! [`LINES_PER_ENTRY_MAX`], [`AMOUNT_MAX`], [`CHARGES_PER_ENTRY_MAX`], name lengths);
//! invariants (every entry balances, every currency's trial balance is zero, a
//! reversal is the exact contra of its original and the only one) are checked on
//! input and asserted after every posting.
//!
//! - `account`: the chart of accounts, normal sides, account keys with subledgers.
//! - `category`: charge categories (seed 001) and the accounts they post to.
//! - `entry`: journal lines, drafts, posted entries, their shape rules.
//! - `book`: the [`Ledger`] (post, reverse, replay, balances).
//! - `trial`: the trial balance.
//! - `postings`: the posting rule of each financial event.
//! - `export`: flat ledger-line rows for CSV and Parquet exports.
//! - `gl_mapping`: the insurer's GL account of each ledger account (the GL export).
//! - `error`: [`LedgerError`].
//!
//! Typical flow: an engine calls a posting rule (`postings::payment_received(...)`),
//! posts the draft (`ledger.post(draft)`), and stores the returned entry
//! (`ledger.entry(id)`) in the event log; on start-up `Ledger::from_entries` replays
//! the log.

pub mod account;
pub mod book;
pub mod category;
pub mod entry;
pub mod error;
pub mod export;
pub mod gl_mapping;
pub mod postings;
pub mod trial;

#[cfg(test)]
mod tests;

pub use account::{AccountClass, AccountKey, LedgerAccount, SUBLEDGER_BYTES_MAX, Side};
pub use book::{ENTRIES_MAX, Ledger, LedgerHead, Posting, TENANT_BYTES_MAX};
pub use category::{CHARGES_PER_ENTRY_MAX, ChargeCategory};
pub use entry::{
    AMOUNT_MAX, EntryDraft, EntryId, EntryKind, JournalEntry, JournalLine, LINES_PER_ENTRY_MAX,
    LINES_PER_ENTRY_MIN, MEMO_BYTES_MAX, REFERENCE_BYTES_MAX,
};
pub use error::LedgerError;
pub use export::{LedgerLineRow, line_rows};
pub use gl_mapping::{
    GL_ACCOUNT_BYTES_MAX, GL_MAPPING_ROWS_MAX, GlJournalLine, GlMapping, GlMappingError,
    GlMappingRow,
};
pub use trial::{TrialBalance, TrialBalanceRow};
