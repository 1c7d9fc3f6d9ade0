//! Posting rules: pure functions that build the one balanced entry of each financial
//! event, so the transaction, invoicing and payment engines never assemble lines by
//! hand. Each returns an [`EntryDraft`] that [`crate::ledger::Ledger::post`] numbers
//! and records; each draft has already passed [`EntryDraft::validate`].
//!
//! `BA` is the billing account (the subledger of the receivables and of customer
//! credit); `unbilled`, `billed` and `credit` are its premium receivable unbilled,
//! premium receivable billed and customer credit.
//!
//! | event                  | rule                     | lines                                               |
//! |------------------------|--------------------------|-----------------------------------------------------|
//! | charges of a transaction | [`charges_written`]    | Dr unbilled / Cr income or payable, per category; signed, netted |
//! | invoice issued         | [`invoice_issued`]       | Dr billed, Cr unbilled (a credit invoice the reverse) |
//! | payment received       | [`payment_received`]     | Dr cash; Cr billed (allocated), Cr credit (the rest) |
//! | credit applied         | [`credit_applied`]       | Dr credit, Cr billed                                |
//! | credit invoice to credit | [`credit_issued`]      | Dr billed, Cr credit                                |
//! | payment reversed       | `Ledger::reverse`        | exact contra of the payment, `payment_reversed`     |
//! | reversal fee           | [`payment_reversal_fee`] | Dr unbilled, Cr fee income                          |
//! | write-off              | [`write_off`]            | Dr write-off expense, Cr billed                     |
//! | write-off reversed     | `Ledger::reverse`        | exact contra, `write_off_reversed`                  |
//! | disbursement executed  | [`disbursement_executed`] | Dr credit, Cr cash                                 |
//! | disbursement reversed  | `Ledger::reverse`        | exact contra, `disbursement_reversed`               |
//!
//! So the billed receivable of a billing account is always what its invoices billed,
//! less what payments, credits and write-offs settled: what its open invoices still
//! owe.

use crate::domain::{Currency, Money};
use crate::ledger::account::{AccountKey, LedgerAccount};
use crate::ledger::category::{CHARGES_PER_ENTRY_MAX, ChargeCategory};
use crate::ledger::entry::{AMOUNT_MAX, EntryDraft, EntryKind, JournalLine};
use crate::ledger::error::LedgerError;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The entry of the charges one policy transaction wrote (or of flat charges added
/// by hand), all in one currency; `None` when they post nothing (no charges, only
/// `none`/`nonFinancial` ones, or amounts that net to zero on every account).
///
/// Each charge debits and credits the pair of accounts of its category
/// ([`ChargeCategory::accounts`]): a positive charge debits the first and credits
/// the second, a negative one (a credit, a cancellation refund, the undoing of an
/// out-of-sequence or reversed transaction) the reverse. The amounts are then netted
/// per account, so the entry has one line per account touched, in chart order.
///
/// Example: premium 1000.00, tax 50.00, fee 25.00, commission 100.00, credit -40.00
/// for `BA-1` post
///
/// | account                            | debit   | credit  |
/// |------------------------------------|---------|---------|
/// | premium_receivable_unbilled / BA-1 | 1035.00 |         |
/// | taxes_payable                      |         |   50.00 |
/// | commission_payable                 |         |  100.00 |
/// | written_premium                    |         |  960.00 |
/// | fee_income                         |         |   25.00 |
/// | commission_expense                 |  100.00 |         |
///
/// A mid-term cancellation with a retention ([E3]) of premium -500.00 and premium
/// +50.00 posts Dr written premium 450.00, Cr unbilled 450.00.
pub fn charges_written(
    billing_account: &str,
    charges: &[(ChargeCategory, Money)],
    posted_on: NaiveDate,
    reference: &str,
) -> Result<Option<EntryDraft>, LedgerError> {
    if charges.len() > CHARGES_PER_ENTRY_MAX {
        return Err(LedgerError::TooManyCharges {
            count: charges.len(),
        });
    }
    let Some((_, first)) = charges.first() else {
        return Ok(None);
    };
    let currency = first.currency;
    // Debit-positive net per account. Cannot overflow: at most 1,000 charges of at
    // most 10^15 each.
    let mut net: BTreeMap<LedgerAccount, Decimal> = BTreeMap::new();
    for (index, (category, charge)) in charges.iter().enumerate() {
        if charge.currency != currency {
            return Err(LedgerError::ChargeCurrencyMismatch {
                index,
                category: *category,
                expected: currency,
                found: charge.currency,
            });
        }
        if !charge.is_in_minor_units() || charge.amount.abs() > AMOUNT_MAX {
            return Err(LedgerError::InvalidChargeAmount {
                index,
                category: *category,
                amount: charge.amount,
            });
        }
        let Some((debit, credit)) = category.accounts() else {
            continue;
        };
        *net.entry(debit).or_default() += charge.amount;
        *net.entry(credit).or_default() -= charge.amount;
    }
    let lines: Vec<JournalLine> = net
        .into_iter()
        .filter(|(_, amount)| !amount.is_zero())
        .map(|(account, amount)| {
            let key = key(account, currency, billing_account);
            if amount.is_sign_positive() {
                JournalLine::debit(key, amount)
            } else {
                JournalLine::credit(key, -amount)
            }
        })
        .collect();
    if lines.is_empty() {
        return Ok(None);
    }
    draft(
        currency,
        posted_on,
        EntryKind::ChargeWritten,
        reference,
        lines,
    )
    .map(Some)
}

/// The entry of an issued invoice of `total` (the sum of its items, signed): the
/// amount moves from unbilled to billed receivable. `None` for a zero total.
///
/// Example: an invoice of 250.00 for `BA-1` posts Dr billed/BA-1 250.00, Cr
/// unbilled/BA-1 250.00. A credit invoice of -120.00 (refund installments after a
/// cancellation) posts Dr unbilled 120.00, Cr billed 120.00; follow it with
/// [`credit_issued`] to turn the negative billed balance into customer credit.
pub fn invoice_issued(
    billing_account: &str,
    total: Money,
    posted_on: NaiveDate,
    reference: &str,
) -> Result<Option<EntryDraft>, LedgerError> {
    let amount = whole_amount("invoice total", total)?;
    if amount.is_zero() {
        return Ok(None);
    }
    let currency = total.currency;
    let billed = key(
        LedgerAccount::PremiumReceivableBilled,
        currency,
        billing_account,
    );
    let unbilled = key(
        LedgerAccount::PremiumReceivableUnbilled,
        currency,
        billing_account,
    );
    let lines = if amount.is_sign_positive() {
        vec![
            JournalLine::debit(billed, amount),
            JournalLine::credit(unbilled, amount),
        ]
    } else {
        vec![
            JournalLine::debit(unbilled, -amount),
            JournalLine::credit(billed, -amount),
        ]
    };
    draft(
        currency,
        posted_on,
        EntryKind::InvoiceIssued,
        reference,
        lines,
    )
    .map(Some)
}

/// The entry of a payment of `payment` of which `allocated` settles invoices; the
/// rest (an overpayment, or an unallocated payment) becomes customer credit.
/// `allocated` may be zero and may not exceed `payment`.
///
/// Example: 300.00 paid against an invoice of 250.00 posts Dr cash 300.00, Cr
/// billed/BA-1 250.00, Cr credit/BA-1 50.00. A returned cheque is
/// `Ledger::reverse` of this entry (`payment_reversed`), plus
/// [`payment_reversal_fee`] if a fee is charged.
pub fn payment_received(
    billing_account: &str,
    payment: Money,
    allocated: Money,
    posted_on: NaiveDate,
    reference: &str,
) -> Result<EntryDraft, LedgerError> {
    let paid = positive_amount("payment", payment)?;
    let currency = payment.currency;
    same_currency("allocated amount", currency, allocated)?;
    let settled = whole_amount("allocated amount", allocated)?;
    if settled < Decimal::ZERO {
        return Err(LedgerError::InputNotPositive {
            what: "allocated amount",
            amount: settled,
        });
    }
    if settled > paid {
        return Err(LedgerError::AllocationExceedsPayment {
            allocated: settled,
            payment: paid,
        });
    }
    let overpaid = paid - settled;
    let mut lines = vec![JournalLine::debit(
        AccountKey::new(LedgerAccount::Cash, currency),
        paid,
    )];
    if !settled.is_zero() {
        lines.push(JournalLine::credit(
            key(
                LedgerAccount::PremiumReceivableBilled,
                currency,
                billing_account,
            ),
            settled,
        ));
    }
    if !overpaid.is_zero() {
        lines.push(JournalLine::credit(
            key(LedgerAccount::CustomerCredit, currency, billing_account),
            overpaid,
        ));
    }
    draft(
        currency,
        posted_on,
        EntryKind::PaymentReceived,
        reference,
        lines,
    )
}

/// The entry of customer credit applied to an invoice (automatically when it is
/// generated, or by a credit distribution).
///
/// Example: 50.00 of credit applied to invoice INV-2 of `BA-1` posts Dr credit/BA-1
/// 50.00, Cr billed/BA-1 50.00.
pub fn credit_applied(
    billing_account: &str,
    amount: Money,
    posted_on: NaiveDate,
    reference: &str,
) -> Result<EntryDraft, LedgerError> {
    transfer(
        EntryKind::CreditApplied,
        (
            LedgerAccount::CustomerCredit,
            LedgerAccount::PremiumReceivableBilled,
        ),
        billing_account,
        ("credit applied", amount),
        posted_on,
        reference,
    )
}

/// The entry that turns what a credit invoice owes the customer into customer
/// credit, so it can be applied to later invoices or refunded.
///
/// Example: after a credit invoice of -120.00 (billed/BA-1 at -120.00), posting
/// 120.00 gives Dr billed/BA-1 120.00, Cr credit/BA-1 120.00: billed back to 0.00,
/// credit 120.00.
pub fn credit_issued(
    billing_account: &str,
    amount: Money,
    posted_on: NaiveDate,
    reference: &str,
) -> Result<EntryDraft, LedgerError> {
    transfer(
        EntryKind::CreditIssued,
        (
            LedgerAccount::PremiumReceivableBilled,
            LedgerAccount::CustomerCredit,
        ),
        billing_account,
        ("credit issued", amount),
        posted_on,
        reference,
    )
}

/// The entry of a fee charged for a returned payment: a flat fee, billed like any
/// other charge (it then goes on an invoice through [`invoice_issued`]).
///
/// Example: a 25.00 fee on `BA-1` posts Dr unbilled/BA-1 25.00, Cr fee income 25.00,
/// as `charge_written` referencing the returned payment.
pub fn payment_reversal_fee(
    billing_account: &str,
    fee: Money,
    posted_on: NaiveDate,
    reference: &str,
) -> Result<EntryDraft, LedgerError> {
    transfer(
        EntryKind::ChargeWritten,
        (
            LedgerAccount::PremiumReceivableUnbilled,
            LedgerAccount::FeeIncome,
        ),
        billing_account,
        ("reversal fee", fee),
        posted_on,
        reference,
    )
}

/// The entry of a write-off of billed receivable (by hand, or automatically below a
/// small-balance threshold). Undone by `Ledger::reverse` (`write_off_reversed`).
///
/// Example: writing off 10.00 of `BA-1` posts Dr write-off expense 10.00, Cr
/// billed/BA-1 10.00.
pub fn write_off(
    billing_account: &str,
    amount: Money,
    posted_on: NaiveDate,
    reference: &str,
) -> Result<EntryDraft, LedgerError> {
    transfer(
        EntryKind::WriteOff,
        (
            LedgerAccount::WriteOffExpense,
            LedgerAccount::PremiumReceivableBilled,
        ),
        billing_account,
        ("write-off", amount),
        posted_on,
        reference,
    )
}

/// The entry of an executed disbursement: customer credit refunded, money leaves.
/// Drafts, approvals and rejections post nothing. Undone by `Ledger::reverse`
/// (`disbursement_reversed`).
///
/// Example: refunding 40.00 of `BA-1`'s credit posts Dr credit/BA-1 40.00, Cr cash
/// 40.00.
pub fn disbursement_executed(
    billing_account: &str,
    amount: Money,
    posted_on: NaiveDate,
    reference: &str,
) -> Result<EntryDraft, LedgerError> {
    transfer(
        EntryKind::DisbursementExecuted,
        (LedgerAccount::CustomerCredit, LedgerAccount::Cash),
        billing_account,
        ("disbursement", amount),
        posted_on,
        reference,
    )
}

/// A two-line entry: Dr `accounts.0`, Cr `accounts.1`, of a positive amount.
fn transfer(
    kind: EntryKind,
    (debit, credit): (LedgerAccount, LedgerAccount),
    billing_account: &str,
    (what, money): (&'static str, Money),
    posted_on: NaiveDate,
    reference: &str,
) -> Result<EntryDraft, LedgerError> {
    let amount = positive_amount(what, money)?;
    let currency = money.currency;
    let lines = vec![
        JournalLine::debit(key(debit, currency, billing_account), amount),
        JournalLine::credit(key(credit, currency, billing_account), amount),
    ];
    draft(currency, posted_on, kind, reference, lines)
}

fn draft(
    currency: Currency,
    posted_on: NaiveDate,
    kind: EntryKind,
    reference: &str,
    lines: Vec<JournalLine>,
) -> Result<EntryDraft, LedgerError> {
    let draft = EntryDraft::new(currency, posted_on, kind, reference, lines);
    draft.validate()?;
    Ok(draft)
}

/// The key of `account`: per billing account for receivables and customer credit,
/// without a subledger otherwise.
fn key(account: LedgerAccount, currency: Currency, billing_account: &str) -> AccountKey {
    if account.requires_subledger() {
        AccountKey::with_subledger(account, currency, billing_account)
    } else {
        AccountKey::new(account, currency)
    }
}

/// The amount of `money`, a whole number of minor units of magnitude at most
/// [`AMOUNT_MAX`], of either sign.
fn whole_amount(what: &'static str, money: Money) -> Result<Decimal, LedgerError> {
    if !money.is_in_minor_units() {
        return Err(LedgerError::InputNotInMinorUnits {
            what,
            amount: money.amount,
            currency: money.currency,
        });
    }
    if money.amount.abs() > AMOUNT_MAX {
        return Err(LedgerError::InputTooLarge {
            what,
            amount: money.amount,
        });
    }
    Ok(money.amount)
}

/// As [`whole_amount`], and above zero.
fn positive_amount(what: &'static str, money: Money) -> Result<Decimal, LedgerError> {
    if money.amount <= Decimal::ZERO {
        return Err(LedgerError::InputNotPositive {
            what,
            amount: money.amount,
        });
    }
    whole_amount(what, money)
}

fn same_currency(what: &'static str, expected: Currency, money: Money) -> Result<(), LedgerError> {
    if money.currency != expected {
        return Err(LedgerError::InputCurrencyMismatch {
            what,
            expected,
            found: money.currency,
        });
    }
    Ok(())
}
