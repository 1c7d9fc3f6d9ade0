//! Journal entries: the balanced, immutable record of one financial event.
//!
//! An entry is built as an [`EntryDraft`] (by the posting rules in
//! [`crate::ledger::postings`], or by hand), and becomes a [`JournalEntry`] when the
//! [`crate::ledger::Ledger`] posts it and gives it the next [`EntryId`]. Entries are
//! never changed: a mistake is undone by a contra entry that swaps every line's side
//! and names the entry it reverses.
//!
//! Rules every entry obeys (checked by [`EntryDraft::validate`] and
//! [`JournalEntry::validate`], asserted again after posting):
//!
//! - 2 to [`LINES_PER_ENTRY_MAX`] lines, all in the entry's currency;
//! - every amount positive, at most [`AMOUNT_MAX`], a whole number of the currency's
//!   minor units (stored at exactly that scale: `250` USD is stored as `250.00`);
//! - debits equal credits;
//! - receivable and customer-credit lines name their billing account (subledger);
//! - a reference of 1 to [`REFERENCE_BYTES_MAX`] printable bytes, a memo of at most
//!   [`MEMO_BYTES_MAX`] bytes.

use crate::domain::{Currency, Money};
use crate::ledger::account::{AccountKey, Side, is_valid_name, is_valid_subledger};
use crate::ledger::error::LedgerError;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The fewest lines an entry has: one debit and one credit.
pub const LINES_PER_ENTRY_MIN: usize = 2;

/// The most lines one entry may have. The posting rules use at most 13 (one per
/// account of the chart); 32 leaves room for hand-built entries.
pub const LINES_PER_ENTRY_MAX: usize = 32;

/// The largest amount of one line: 10^15 units of the currency (a quadrillion).
///
/// With [`crate::ledger::ENTRIES_MAX`] entries of [`LINES_PER_ENTRY_MAX`] lines, a
/// running total stays below 3.2e23 (3.2e27 in minor units of a 4-decimal
/// currency), far inside a `Decimal`'s 7.9e28: balances cannot overflow.
pub const AMOUNT_MAX: Decimal = Decimal::from_parts(0xA4C6_8000, 0x0003_8D7E, 0, false, 0);

/// The longest reference (the locator of the transaction, invoice, payment, ...).
pub const REFERENCE_BYTES_MAX: usize = 128;

/// The longest memo, in bytes.
pub const MEMO_BYTES_MAX: usize = 256;

/// The identifier of a posted entry: its position in the tenant's book, from 1.
///
/// Serialised as a plain number.
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct EntryId(pub u64);

impl EntryId {
    /// The identifier of the first entry of a book.
    pub const FIRST: EntryId = EntryId(1);

    /// The identifier after this one.
    pub fn next(self) -> EntryId {
        EntryId(self.0 + 1)
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The financial event an entry records. The snake_case code is stable.
///
/// The four reversal kinds are only ever produced by
/// [`crate::ledger::Ledger::reverse`]: reversing a `payment_received` entry gives a
/// `payment_reversed` one, a `write_off` a `write_off_reversed`, a
/// `disbursement_executed` a `disbursement_reversed`, anything else a `reversal`.
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Charges written by one policy transaction (or a flat charge added by hand).
    ChargeWritten,
    /// An invoice issued: its amount moves from unbilled to billed receivable.
    InvoiceIssued,
    /// A payment received, allocated to invoices and the rest to customer credit.
    PaymentReceived,
    /// Customer credit applied to an invoice.
    CreditApplied,
    /// A credit (negative) invoice turned into customer credit.
    CreditIssued,
    /// Billed receivable written off.
    WriteOff,
    /// Customer credit refunded: money leaves.
    DisbursementExecuted,
    /// The contra of a `payment_received` entry (a returned cheque).
    PaymentReversed,
    /// The contra of a `write_off` entry.
    WriteOffReversed,
    /// The contra of a `disbursement_executed` entry.
    DisbursementReversed,
    /// The contra of any other entry.
    Reversal,
    /// Premium earned by an earnings run: unearned premium moved to earned premium
    /// (the reverse for credits). Kept last so older codes keep their order.
    PremiumEarned,
    /// Commission paid to a producer (a commission payment executed): Dr commission
    /// payable/producer, Cr cash.
    CommissionPaid,
    /// An agency's remittance for agency-billed items: cash for the net, the
    /// commission payable of the items it settles, against the agency receivable.
    RemittanceReceived,
}

impl EntryKind {
    /// Every kind.
    pub const ALL: [EntryKind; 14] = [
        EntryKind::ChargeWritten,
        EntryKind::InvoiceIssued,
        EntryKind::PaymentReceived,
        EntryKind::CreditApplied,
        EntryKind::CreditIssued,
        EntryKind::WriteOff,
        EntryKind::DisbursementExecuted,
        EntryKind::PaymentReversed,
        EntryKind::WriteOffReversed,
        EntryKind::DisbursementReversed,
        EntryKind::Reversal,
        EntryKind::PremiumEarned,
        EntryKind::CommissionPaid,
        EntryKind::RemittanceReceived,
    ];

    /// The stable snake_case code, the same as its serde form.
    pub fn code(self) -> &'static str {
        match self {
            EntryKind::ChargeWritten => "charge_written",
            EntryKind::InvoiceIssued => "invoice_issued",
            EntryKind::PaymentReceived => "payment_received",
            EntryKind::CreditApplied => "credit_applied",
            EntryKind::CreditIssued => "credit_issued",
            EntryKind::WriteOff => "write_off",
            EntryKind::DisbursementExecuted => "disbursement_executed",
            EntryKind::PaymentReversed => "payment_reversed",
            EntryKind::WriteOffReversed => "write_off_reversed",
            EntryKind::DisbursementReversed => "disbursement_reversed",
            EntryKind::Reversal => "reversal",
            EntryKind::PremiumEarned => "premium_earned",
            EntryKind::CommissionPaid => "commission_paid",
            EntryKind::RemittanceReceived => "remittance_received",
        }
    }

    /// Whether entries of this kind are contra entries (they name what they reverse).
    pub fn is_reversal(self) -> bool {
        matches!(
            self,
            EntryKind::PaymentReversed
                | EntryKind::WriteOffReversed
                | EntryKind::DisbursementReversed
                | EntryKind::Reversal
        )
    }

    /// The kind of the contra entry that reverses an entry of this kind; `None` for a
    /// reversal, which cannot itself be reversed.
    pub fn reversal_kind(self) -> Option<EntryKind> {
        match self {
            EntryKind::PaymentReceived => Some(EntryKind::PaymentReversed),
            EntryKind::WriteOff => Some(EntryKind::WriteOffReversed),
            EntryKind::DisbursementExecuted => Some(EntryKind::DisbursementReversed),
            EntryKind::ChargeWritten
            | EntryKind::InvoiceIssued
            | EntryKind::CreditApplied
            | EntryKind::CreditIssued
            | EntryKind::PremiumEarned
            | EntryKind::CommissionPaid
            | EntryKind::RemittanceReceived => Some(EntryKind::Reversal),
            EntryKind::PaymentReversed
            | EntryKind::WriteOffReversed
            | EntryKind::DisbursementReversed
            | EntryKind::Reversal => None,
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One line of an entry: a positive amount on one side of one account.
///
/// Serialised as `{"account": {...}, "side": "debit", "amount": "250.00"}`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalLine {
    pub account: AccountKey,
    pub side: Side,
    pub amount: Decimal,
}

impl JournalLine {
    /// A debit of `amount` to `account`.
    pub fn debit(account: AccountKey, amount: Decimal) -> JournalLine {
        JournalLine {
            account,
            side: Side::Debit,
            amount,
        }
    }

    /// A credit of `amount` to `account`.
    pub fn credit(account: AccountKey, amount: Decimal) -> JournalLine {
        JournalLine {
            account,
            side: Side::Credit,
            amount,
        }
    }

    /// The amount signed debit-positive: a debit of 10.00 is 10.00, a credit -10.00.
    pub fn debit_amount(&self) -> Decimal {
        match self.side {
            Side::Debit => self.amount,
            Side::Credit => -self.amount,
        }
    }
}

/// An entry not yet posted: everything but its id, tenant and reversal link, which
/// the ledger sets.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDraft {
    pub currency: Currency,
    pub posted_on: NaiveDate,
    pub kind: EntryKind,
    /// The locator of what the entry records (transaction, invoice, payment, ...).
    pub reference: String,
    pub lines: Vec<JournalLine>,
    pub memo: String,
}

impl EntryDraft {
    /// A draft with an empty memo. Amounts are rescaled to the currency's minor
    /// unit where that changes nothing but their written form (`250` -> `250.00`).
    pub fn new(
        currency: Currency,
        posted_on: NaiveDate,
        kind: EntryKind,
        reference: impl Into<String>,
        lines: Vec<JournalLine>,
    ) -> EntryDraft {
        EntryDraft {
            currency,
            posted_on,
            kind,
            reference: reference.into(),
            lines: at_currency_scale(lines, currency),
            memo: String::new(),
        }
    }

    /// The same draft with `memo`.
    pub fn with_memo(mut self, memo: impl Into<String>) -> EntryDraft {
        self.memo = memo.into();
        self
    }

    /// Checks the shape rules of the module header. A draft cannot be of a reversal
    /// kind: contra entries come only from [`crate::ledger::Ledger::reverse`].
    pub fn validate(&self) -> Result<(), LedgerError> {
        if self.kind.is_reversal() {
            return Err(LedgerError::ReversalKindWithoutOriginal { kind: self.kind });
        }
        validate_body(self.currency, &self.reference, &self.memo, &self.lines)
    }
}

/// A posted entry: immutable, numbered, and linked to the entry it reverses.
///
/// Serialised with every field, for the event log and exports:
/// `{"id": 7, "tenant": "acme", "currency": "USD", "posted_on": "2024-03-01",
///   "kind": "payment_received", "reference": "PAY-9", "reverses": null,
///   "lines": [...], "memo": ""}`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub id: EntryId,
    pub tenant: String,
    pub currency: Currency,
    pub posted_on: NaiveDate,
    pub kind: EntryKind,
    pub reference: String,
    /// The entry this one reverses (its exact contra), for the reversal kinds only.
    pub reverses: Option<EntryId>,
    pub lines: Vec<JournalLine>,
    pub memo: String,
    /// The day of the accounting period the entry belongs to, when it is not
    /// `posted_on`: an entry whose date falls in a closed period lands on the first
    /// day of the first open one and keeps `posted_on` (its effective date).
    /// Absent (and not written) otherwise, and on entries of older logs; read it
    /// through [`JournalEntry::accounting_date`].
    ///
    /// Example: with December 2025 closed, a payment received on 2025-12-20 and
    /// recorded in January has `posted_on` 2025-12-20 and `accounting_date`
    /// 2026-01-01.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounting_date: Option<NaiveDate>,
}

impl JournalEntry {
    /// The day whose accounting period holds this entry: `accounting_date` when
    /// set, else `posted_on`.
    pub fn accounting_date(&self) -> NaiveDate {
        self.accounting_date.unwrap_or(self.posted_on)
    }

    /// Checks the shape rules of the module header, and that the entry names an
    /// original exactly when it is of a reversal kind. Whether the original exists
    /// and is exactly contra is for the ledger to check.
    pub fn validate(&self) -> Result<(), LedgerError> {
        match (self.kind.is_reversal(), self.reverses) {
            (true, None) => {
                return Err(LedgerError::ReversalKindWithoutOriginal { kind: self.kind });
            }
            (false, Some(original)) => {
                return Err(LedgerError::OriginalWithoutReversalKind {
                    kind: self.kind,
                    original,
                });
            }
            _ => {}
        }
        validate_body(self.currency, &self.reference, &self.memo, &self.lines)
    }

    /// Sum of the debit lines.
    pub fn debits(&self) -> Decimal {
        side_total(&self.lines, Side::Debit)
    }

    /// Sum of the credit lines.
    pub fn credits(&self) -> Decimal {
        side_total(&self.lines, Side::Credit)
    }

    /// Whether debits equal credits (always true of a posted entry).
    pub fn is_balanced(&self) -> bool {
        self.debits() == self.credits()
    }

    /// The exact contra of this entry, numbered `id`: the same lines in the same
    /// order with every side swapped, the reversal kind of this entry's kind, and a
    /// link back to it. `None` if this entry is itself a reversal.
    pub fn contra(
        &self,
        id: EntryId,
        posted_on: NaiveDate,
        reference: impl Into<String>,
    ) -> Option<JournalEntry> {
        let kind = self.kind.reversal_kind()?;
        Some(JournalEntry {
            id,
            tenant: self.tenant.clone(),
            currency: self.currency,
            posted_on,
            kind,
            reference: reference.into(),
            reverses: Some(self.id),
            lines: self
                .lines
                .iter()
                .map(|line| JournalLine {
                    account: line.account.clone(),
                    side: line.side.opposite(),
                    amount: line.amount,
                })
                .collect(),
            memo: format!("reverses entry {}", self.id),
            accounting_date: None,
        })
    }

    /// Whether `other` is exactly the contra of this entry: same currency, same
    /// accounts and amounts in the same order, every side swapped.
    pub fn is_contra_of(&self, other: &JournalEntry) -> bool {
        self.currency == other.currency
            && self.lines.len() == other.lines.len()
            && self.lines.iter().zip(&other.lines).all(|(mine, theirs)| {
                mine.account == theirs.account
                    && mine.side == theirs.side.opposite()
                    && mine.amount == theirs.amount
            })
    }
}

/// The lines with every amount written at the currency's minor-unit scale, where
/// that does not change its value (more precise amounts are left for validation to
/// refuse).
pub(crate) fn at_currency_scale(lines: Vec<JournalLine>, currency: Currency) -> Vec<JournalLine> {
    let scale = currency.minor_unit_scale();
    lines
        .into_iter()
        .map(|mut line| {
            if line.amount.scale() < scale {
                line.amount.rescale(scale);
            }
            line
        })
        .collect()
}

fn side_total(lines: &[JournalLine], side: Side) -> Decimal {
    // Cannot overflow once validated: at most LINES_PER_ENTRY_MAX lines of at most
    // AMOUNT_MAX each.
    lines
        .iter()
        .filter(|line| line.side == side)
        .map(|line| line.amount)
        .sum()
}

fn validate_body(
    currency: Currency,
    reference: &str,
    memo: &str,
    lines: &[JournalLine],
) -> Result<(), LedgerError> {
    if !is_valid_name(reference, REFERENCE_BYTES_MAX) {
        return Err(LedgerError::InvalidReference {
            reference: reference.chars().take(REFERENCE_BYTES_MAX + 1).collect(),
        });
    }
    if memo.len() > MEMO_BYTES_MAX {
        return Err(LedgerError::MemoTooLong { len: memo.len() });
    }
    if !(LINES_PER_ENTRY_MIN..=LINES_PER_ENTRY_MAX).contains(&lines.len()) {
        return Err(LedgerError::LineCount { count: lines.len() });
    }
    let mut debits = Decimal::ZERO;
    let mut credits = Decimal::ZERO;
    for (line_index, line) in lines.iter().enumerate() {
        validate_line(currency, line_index, line)?;
        // Cannot overflow: at most 32 amounts of at most 10^15 each.
        match line.side {
            Side::Debit => debits += line.amount,
            Side::Credit => credits += line.amount,
        }
    }
    if debits != credits {
        return Err(LedgerError::Unbalanced { debits, credits });
    }
    Ok(())
}

fn validate_line(
    currency: Currency,
    line_index: usize,
    line: &JournalLine,
) -> Result<(), LedgerError> {
    let key = &line.account;
    if key.currency != currency {
        return Err(LedgerError::CurrencyMismatch {
            line: line_index,
            expected: currency,
            found: key.currency,
        });
    }
    match &key.subledger {
        None if key.account.requires_subledger() => {
            return Err(LedgerError::SubledgerRequired {
                line: line_index,
                account: key.account,
            });
        }
        Some(subledger) if !is_valid_subledger(subledger) => {
            return Err(LedgerError::InvalidSubledger {
                line: line_index,
                subledger: subledger.chars().take(80).collect(),
            });
        }
        _ => {}
    }
    let amount = line.amount;
    if amount <= Decimal::ZERO {
        return Err(LedgerError::NonPositiveAmount {
            line: line_index,
            amount,
        });
    }
    if amount > AMOUNT_MAX {
        return Err(LedgerError::AmountTooLarge {
            line: line_index,
            amount,
        });
    }
    if !Money::new(amount, currency).is_in_minor_units() {
        return Err(LedgerError::NotInMinorUnits {
            line: line_index,
            amount,
            currency,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::account::LedgerAccount;
    use rust_decimal_macros::dec;

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()
    }

    fn billed(currency: Currency) -> AccountKey {
        AccountKey::with_subledger(LedgerAccount::PremiumReceivableBilled, currency, "BA-1")
    }

    fn cash(currency: Currency) -> AccountKey {
        AccountKey::new(LedgerAccount::Cash, currency)
    }

    fn draft(lines: Vec<JournalLine>) -> EntryDraft {
        EntryDraft::new(
            Currency::USD,
            date(),
            EntryKind::PaymentReceived,
            "PAY-1",
            lines,
        )
    }

    fn payment(amount: Decimal) -> EntryDraft {
        draft(vec![
            JournalLine::debit(cash(Currency::USD), amount),
            JournalLine::credit(billed(Currency::USD), amount),
        ])
    }

    #[test]
    fn amount_max_is_ten_to_the_fifteenth() {
        assert_eq!(AMOUNT_MAX, Decimal::from(1_000_000_000_000_000_i64));
    }

    #[test]
    fn a_balanced_draft_is_valid_and_written_at_the_currency_scale() {
        let draft = payment(dec!(250));
        assert_eq!(draft.validate(), Ok(()));
        assert_eq!(draft.lines[0].amount.to_string(), "250.00");
    }

    #[test]
    fn debits_that_differ_from_credits_are_refused() {
        let draft = draft(vec![
            JournalLine::debit(cash(Currency::USD), dec!(100.00)),
            JournalLine::credit(billed(Currency::USD), dec!(99.99)),
        ]);
        assert_eq!(
            draft.validate(),
            Err(LedgerError::Unbalanced {
                debits: dec!(100.00),
                credits: dec!(99.99)
            })
        );
    }

    #[test]
    fn a_line_in_another_currency_is_refused() {
        let draft = draft(vec![
            JournalLine::debit(cash(Currency::USD), dec!(1.00)),
            JournalLine::credit(billed(Currency::EUR), dec!(1.00)),
        ]);
        assert_eq!(
            draft.validate(),
            Err(LedgerError::CurrencyMismatch {
                line: 1,
                expected: Currency::USD,
                found: Currency::EUR
            })
        );
    }

    #[test]
    fn zero_and_negative_amounts_are_refused() {
        for amount in [dec!(0), dec!(-5.00)] {
            let draft = draft(vec![
                JournalLine::debit(cash(Currency::USD), amount),
                JournalLine::credit(billed(Currency::USD), amount),
            ]);
            assert_eq!(
                draft.validate(),
                Err(LedgerError::NonPositiveAmount { line: 0, amount })
            );
        }
    }

    #[test]
    fn fractions_of_a_minor_unit_and_huge_amounts_are_refused() {
        assert_eq!(
            payment(dec!(1.005)).validate(),
            Err(LedgerError::NotInMinorUnits {
                line: 0,
                amount: dec!(1.005),
                currency: Currency::USD
            })
        );
        let yen = EntryDraft::new(
            Currency::JPY,
            date(),
            EntryKind::PaymentReceived,
            "PAY-1",
            vec![
                JournalLine::debit(cash(Currency::JPY), dec!(0.5)),
                JournalLine::credit(billed(Currency::JPY), dec!(0.5)),
            ],
        );
        assert!(matches!(
            yen.validate(),
            Err(LedgerError::NotInMinorUnits { line: 0, .. })
        ));
        let huge = AMOUNT_MAX + dec!(0.01);
        assert_eq!(
            payment(huge).validate(),
            Err(LedgerError::AmountTooLarge {
                line: 0,
                amount: huge
            })
        );
        assert_eq!(payment(AMOUNT_MAX).validate(), Ok(()));
    }

    #[test]
    fn fewer_than_two_or_more_than_the_maximum_lines_are_refused() {
        let one = draft(vec![JournalLine::debit(cash(Currency::USD), dec!(1.00))]);
        assert_eq!(one.validate(), Err(LedgerError::LineCount { count: 1 }));
        let mut lines = vec![JournalLine::debit(
            cash(Currency::USD),
            Decimal::from(LINES_PER_ENTRY_MAX as u64),
        )];
        lines.extend(
            (0..LINES_PER_ENTRY_MAX).map(|_| JournalLine::credit(billed(Currency::USD), dec!(1))),
        );
        let many = draft(lines);
        assert_eq!(
            many.validate(),
            Err(LedgerError::LineCount {
                count: LINES_PER_ENTRY_MAX + 1
            })
        );
    }

    #[test]
    fn receivable_lines_must_name_a_valid_billing_account() {
        let draft_without = draft(vec![
            JournalLine::debit(cash(Currency::USD), dec!(1.00)),
            JournalLine::credit(
                AccountKey::new(LedgerAccount::PremiumReceivableBilled, Currency::USD),
                dec!(1.00),
            ),
        ]);
        assert_eq!(
            draft_without.validate(),
            Err(LedgerError::SubledgerRequired {
                line: 1,
                account: LedgerAccount::PremiumReceivableBilled
            })
        );
        let draft_blank = draft(vec![
            JournalLine::debit(cash(Currency::USD), dec!(1.00)),
            JournalLine::credit(
                AccountKey::with_subledger(LedgerAccount::CustomerCredit, Currency::USD, ""),
                dec!(1.00),
            ),
        ]);
        assert!(matches!(
            draft_blank.validate(),
            Err(LedgerError::InvalidSubledger { line: 1, .. })
        ));
    }

    #[test]
    fn references_and_memos_have_limits() {
        let mut blank = payment(dec!(1.00));
        blank.reference = String::new();
        assert!(matches!(
            blank.validate(),
            Err(LedgerError::InvalidReference { .. })
        ));
        let long = payment(dec!(1.00)).with_memo("m".repeat(MEMO_BYTES_MAX + 1));
        assert_eq!(
            long.validate(),
            Err(LedgerError::MemoTooLong {
                len: MEMO_BYTES_MAX + 1
            })
        );
    }

    #[test]
    fn a_draft_cannot_claim_to_be_a_reversal() {
        let mut draft = payment(dec!(1.00));
        draft.kind = EntryKind::PaymentReversed;
        assert_eq!(
            draft.validate(),
            Err(LedgerError::ReversalKindWithoutOriginal {
                kind: EntryKind::PaymentReversed
            })
        );
    }

    #[test]
    fn every_kind_but_the_reversals_has_a_reversal_kind() {
        for kind in EntryKind::ALL {
            assert_eq!(kind.reversal_kind().is_none(), kind.is_reversal(), "{kind}");
            if let Some(reversal) = kind.reversal_kind() {
                assert!(reversal.is_reversal());
            }
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.code()));
        }
        assert_eq!(
            EntryKind::PaymentReceived.reversal_kind(),
            Some(EntryKind::PaymentReversed)
        );
        assert_eq!(
            EntryKind::ChargeWritten.reversal_kind(),
            Some(EntryKind::Reversal)
        );
    }

    #[test]
    fn the_contra_swaps_every_side_and_links_back() {
        let original = JournalEntry {
            id: EntryId(4),
            tenant: "acme".into(),
            currency: Currency::USD,
            posted_on: date(),
            kind: EntryKind::PaymentReceived,
            reference: "PAY-1".into(),
            reverses: None,
            lines: payment(dec!(300.00)).lines,
            memo: String::new(),
            accounting_date: None,
        };
        let contra = original.contra(EntryId(9), date(), "RET-1").unwrap();
        assert_eq!(contra.kind, EntryKind::PaymentReversed);
        assert_eq!(contra.reverses, Some(EntryId(4)));
        assert_eq!(contra.lines[0].side, Side::Credit);
        assert_eq!(contra.lines[1].side, Side::Debit);
        assert_eq!(contra.validate(), Ok(()));
        assert!(contra.is_contra_of(&original));
        assert!(original.is_contra_of(&contra));
        assert!(!original.is_contra_of(&original));
        assert!(contra.contra(EntryId(10), date(), "X").is_none());
    }

    #[test]
    fn an_entry_serialises_with_codes_and_decimal_strings() {
        let entry = JournalEntry {
            id: EntryId(1),
            tenant: "acme".into(),
            currency: Currency::USD,
            posted_on: date(),
            kind: EntryKind::PaymentReceived,
            reference: "PAY-1".into(),
            reverses: None,
            lines: payment(dec!(5)).lines,
            memo: String::new(),
            accounting_date: None,
        };
        let json = serde_json::to_string(&entry).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"id":1,"tenant":"acme","currency":"USD","posted_on":"2024-03-01","#,
                r#""kind":"payment_received","reference":"PAY-1","reverses":null,"lines":["#,
                r#"{"account":{"account":"cash","currency":"USD","subledger":null},"#,
                r#""side":"debit","amount":"5.00"},"#,
                r#"{"account":{"account":"premium_receivable_billed","currency":"USD","#,
                r#""subledger":"BA-1"},"side":"credit","amount":"5.00"}],"memo":""}"#
            )
        );
        let back: JournalEntry = serde_json::from_str(&json).unwrap();
        assert_eq!(back, entry);
    }
}
