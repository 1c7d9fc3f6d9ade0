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
//! | charges of a transaction | [`charges_written`], [`charges_written_to`] | Dr unbilled / Cr income or payable, per category; signed, netted; commission payable per producer |
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
//! | premium earned         | [`premium_earned`]       | Dr unearned premium, Cr earned premium (a credit the reverse) |
//!
//! Premium (`premium`, `flatPremium`, `credit`) is credited to unearned premium
//! when written, a liability, and moved to earned premium (revenue) by the
//! earnings run as its period passes; written premium is what the charges say
//! (`GET /v1/accounting/premium`). Entries of older logs credited
//! `written_premium` at once; they are left as they are and never earned again.
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
/// | unearned_premium                   |         |  960.00 |
/// | fee_income                         |         |   25.00 |
/// | commission_expense                 |  100.00 |         |
///
/// A mid-term cancellation with a retention (E3) of premium -500.00 and premium
/// +50.00 posts Dr unearned premium 450.00, Cr unbilled 450.00.
pub fn charges_written(
    billing_account: &str,
    charges: &[(ChargeCategory, Money)],
    posted_on: NaiveDate,
    reference: &str,
) -> Result<Option<EntryDraft>, LedgerError> {
    let charges: Vec<(ChargeCategory, Money, Option<&str>)> = charges
        .iter()
        .map(|(category, money)| (*category, *money, None))
        .collect();
    charges_written_to(billing_account, &charges, posted_on, reference)
}

/// [`charges_written`] with each charge's recipient: a commission to a
/// producer posts to `commission_payable` with the producer as subledger
/// (the commission payable per producer), netted per producer; a charge
/// without a recipient posts as [`charges_written`] does.
///
/// Example: commission 120.00 to `agency-7` posts Dr commission_expense
/// 120.00, Cr commission_payable/agency-7 120.00; a cancellation's -60.00
/// to `agency-7` (a chargeback) Dr commission_payable/agency-7 60.00, Cr
/// commission_expense 60.00.
pub fn charges_written_to(
    billing_account: &str,
    charges: &[(ChargeCategory, Money, Option<&str>)],
    posted_on: NaiveDate,
    reference: &str,
) -> Result<Option<EntryDraft>, LedgerError> {
    if charges.len() > CHARGES_PER_ENTRY_MAX {
        return Err(LedgerError::TooManyCharges {
            count: charges.len(),
        });
    }
    let Some((_, first, _)) = charges.first() else {
        return Ok(None);
    };
    let currency = first.currency;
    // Debit-positive net per account (and producer, for commission payable).
    // Cannot overflow: at most 1,000 charges of at most 10^15 each.
    let mut net: BTreeMap<(LedgerAccount, Option<&str>), Decimal> = BTreeMap::new();
    for (index, (category, charge, recipient)) in charges.iter().enumerate() {
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
        let producer = |account: LedgerAccount| {
            (account == LedgerAccount::CommissionPayable)
                .then_some(*recipient)
                .flatten()
        };
        *net.entry((debit, producer(debit))).or_default() += charge.amount;
        *net.entry((credit, producer(credit))).or_default() -= charge.amount;
    }
    let lines: Vec<JournalLine> = net
        .into_iter()
        .filter(|(_, amount)| !amount.is_zero())
        .map(|((account, producer), amount)| {
            let key = match producer {
                Some(producer) => AccountKey::with_subledger(account, currency, producer),
                None => key(account, currency, billing_account),
            };
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

/// The entry of premium earned by an earnings run for one product (or billing
/// account, for flat premium on the account): `earned` is the sum, over its premium charges,
/// of earned-to-date minus what earlier runs posted, signed; `None` when zero.
/// It moves premium out of unearned premium into earned premium; a negative
/// amount (a credit or a cancellation's refund earning) the reverse.
///
/// Example ([E10]): 1200.00 on `[2026-01-01, 2027-01-01)` by months, earned
/// through 2026-01-31, posts Dr unearned premium 100.00, Cr earned premium
/// 100.00, `premium_earned`, referencing the product.
pub fn premium_earned(
    earned: Money,
    posted_on: NaiveDate,
    reference: &str,
) -> Result<Option<EntryDraft>, LedgerError> {
    let amount = whole_amount("premium earned", earned)?;
    if amount.is_zero() {
        return Ok(None);
    }
    let currency = earned.currency;
    let unearned = AccountKey::new(LedgerAccount::UnearnedPremium, currency);
    let revenue = AccountKey::new(LedgerAccount::EarnedPremium, currency);
    let lines = if amount.is_sign_positive() {
        vec![
            JournalLine::debit(unearned, amount),
            JournalLine::credit(revenue, amount),
        ]
    } else {
        vec![
            JournalLine::debit(revenue, -amount),
            JournalLine::credit(unearned, -amount),
        ]
    };
    draft(
        currency,
        posted_on,
        EntryKind::PremiumEarned,
        reference,
        lines,
    )
    .map(Some)
}

/// The entry of a commission payment executed (DOMAIN section 10): what is owed
/// to the producer leaves as cash. Drafts, approvals and rejections post nothing.
///
/// Example: paying `agency-7` 50.00 posts Dr commission payable/agency-7 50.00,
/// Cr cash 50.00, `commission_paid`.
pub fn commission_paid(
    producer: &str,
    amount: Money,
    posted_on: NaiveDate,
    reference: &str,
) -> Result<EntryDraft, LedgerError> {
    let value = positive_amount("commission payment", amount)?;
    let currency = amount.currency;
    draft(
        currency,
        posted_on,
        EntryKind::CommissionPaid,
        reference,
        vec![
            JournalLine::debit(
                AccountKey::with_subledger(LedgerAccount::CommissionPayable, currency, producer),
                value,
            ),
            JournalLine::credit(AccountKey::new(LedgerAccount::Cash, currency), value),
        ],
    )
}

/// A line of `amount` signed debit-positive: a debit when positive, a credit of
/// its magnitude when negative, nothing when zero.
fn signed_line(account: AccountKey, amount: Decimal) -> Option<JournalLine> {
    if amount.is_zero() {
        None
    } else if amount.is_sign_positive() {
        Some(JournalLine::debit(account, amount))
    } else {
        Some(JournalLine::credit(account, -amount))
    }
}

/// The entry of an agency's remittance ([E11]): `cash` received (negative: paid
/// to the agency, for a statement that owes it), and `commission` the commission
/// payable of the items it settles in full (the agency kept it: net settlement).
/// The agency receivable is credited with both.
///
/// Example ([E11]): `agency-7` remits 1080.00 for an item of 1200.00 gross with
/// 120.00 commission: Dr cash 1080.00, Dr commission payable/agency-7 120.00,
/// Cr agency receivable/agency-7 1200.00. A chargeback item of -600.00 /
/// -60.00 / -540.00 settled by paying the agency 540.00: Dr agency
/// receivable/agency-7 600.00, Cr commission payable/agency-7 60.00, Cr cash
/// 540.00.
pub fn remittance_received(
    producer: &str,
    cash: Money,
    commission: Decimal,
    posted_on: NaiveDate,
    reference: &str,
) -> Result<EntryDraft, LedgerError> {
    let value = whole_amount("remittance", cash)?;
    let currency = cash.currency;
    let commission = whole_amount(
        "remittance commission",
        Money {
            amount: commission,
            currency,
        },
    )?;
    let lines: Vec<JournalLine> = [
        signed_line(AccountKey::new(LedgerAccount::Cash, currency), value),
        signed_line(
            AccountKey::with_subledger(LedgerAccount::CommissionPayable, currency, producer),
            commission,
        ),
        signed_line(
            AccountKey::with_subledger(LedgerAccount::AgencyReceivable, currency, producer),
            -(value + commission),
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    draft(
        currency,
        posted_on,
        EntryKind::RemittanceReceived,
        reference,
        lines,
    )
}

/// A charge entry of an agency-billed policy ([E11]): the receivable is owed
/// by the producer of record, not the insured, so every line on the billing
/// account's unbilled receivable moves to the agency receivable of
/// `producer`. Everything else (premium, commission) is untouched.
///
/// Example: 1200.00 premium with 10% commission to `agency-7` posts Dr agency
/// receivable/agency-7 1200.00, Cr unearned premium 1200.00, Dr commission
/// expense 120.00, Cr commission payable/agency-7 120.00.
pub fn agency_billed(mut entry: EntryDraft, producer: &str) -> EntryDraft {
    for line in &mut entry.lines {
        if line.account.account == LedgerAccount::PremiumReceivableUnbilled {
            line.account = AccountKey::with_subledger(
                LedgerAccount::AgencyReceivable,
                line.account.currency,
                producer,
            );
        }
    }
    entry
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::account::Side;
    use rust_decimal_macros::dec;

    const BA: &str = "BA-1";

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()
    }

    fn usd(amount: Decimal) -> Money {
        Money::new(amount, Currency::USD)
    }

    /// The lines as `(account, subledger, side, amount)` for exact comparison.
    fn lines(draft: &EntryDraft) -> Vec<(LedgerAccount, Option<&str>, Side, Decimal)> {
        draft
            .lines
            .iter()
            .map(|line| {
                (
                    line.account.account,
                    line.account.subledger.as_deref(),
                    line.side,
                    line.amount,
                )
            })
            .collect()
    }

    fn assert_balanced(draft: &EntryDraft) {
        let debits: Decimal = draft
            .lines
            .iter()
            .filter(|line| line.side == Side::Debit)
            .map(|line| line.amount)
            .sum();
        let credits: Decimal = draft
            .lines
            .iter()
            .filter(|line| line.side == Side::Credit)
            .map(|line| line.amount)
            .sum();
        assert_eq!(debits, credits);
        assert_eq!(draft.validate(), Ok(()));
    }

    use LedgerAccount::*;
    use Side::{Credit, Debit};

    #[test]
    fn charges_of_one_transaction_post_one_entry_netted_per_account() {
        let charges = [
            (ChargeCategory::Premium, usd(dec!(1000.00))),
            (ChargeCategory::Tax, usd(dec!(50.00))),
            (ChargeCategory::Fee, usd(dec!(25.00))),
            (ChargeCategory::Commission, usd(dec!(100.00))),
            (ChargeCategory::Credit, usd(dec!(-40.00))),
            (ChargeCategory::NonFinancial, usd(dec!(999.00))),
        ];
        let draft = charges_written(BA, &charges, day(), "TX-1")
            .unwrap()
            .unwrap();
        assert_balanced(&draft);
        assert_eq!(draft.kind, EntryKind::ChargeWritten);
        assert_eq!(draft.reference, "TX-1");
        assert_eq!(
            lines(&draft),
            [
                (PremiumReceivableUnbilled, Some(BA), Debit, dec!(1035.00)),
                (TaxesPayable, None, Credit, dec!(50.00)),
                (CommissionPayable, None, Credit, dec!(100.00)),
                (UnearnedPremium, None, Credit, dec!(960.00)),
                (FeeIncome, None, Credit, dec!(25.00)),
                (CommissionExpense, None, Debit, dec!(100.00)),
            ]
        );
    }

    #[test]
    fn commission_to_a_producer_is_payable_to_that_producer_and_a_chargeback_debits_it() {
        let charges = [
            (ChargeCategory::Premium, usd(dec!(1200.00)), None),
            (
                ChargeCategory::Commission,
                usd(dec!(120.00)),
                Some("agency-7"),
            ),
            (
                ChargeCategory::Commission,
                usd(dec!(30.00)),
                Some("agency-8"),
            ),
        ];
        let draft = charges_written_to("BA-1", &charges, day(), "TX-1")
            .unwrap()
            .unwrap();
        assert_balanced(&draft);
        assert_eq!(
            lines(&draft),
            vec![
                (
                    PremiumReceivableUnbilled,
                    Some("BA-1"),
                    Debit,
                    dec!(1200.00)
                ),
                (CommissionPayable, Some("agency-7"), Credit, dec!(120.00)),
                (CommissionPayable, Some("agency-8"), Credit, dec!(30.00)),
                (UnearnedPremium, None, Credit, dec!(1200.00)),
                (CommissionExpense, None, Debit, dec!(150.00)),
            ]
        );
        let chargeback = [(
            ChargeCategory::Commission,
            usd(dec!(-60.00)),
            Some("agency-7"),
        )];
        let draft = charges_written_to("BA-1", &chargeback, day(), "TX-2")
            .unwrap()
            .unwrap();
        assert_eq!(
            lines(&draft),
            vec![
                (CommissionPayable, Some("agency-7"), Debit, dec!(60.00)),
                (CommissionExpense, None, Credit, dec!(60.00)),
            ]
        );
    }

    #[test]
    fn every_category_posts_to_its_pair_of_accounts() {
        let cases = [
            (ChargeCategory::FlatPremium, UnearnedPremium),
            (ChargeCategory::Surcharge, SurchargeIncome),
            (ChargeCategory::FlatFee, FeeIncome),
            (ChargeCategory::InvoiceFee, FeeIncome),
            (ChargeCategory::FlatTax, TaxesPayable),
        ];
        for (category, income) in cases {
            let draft = charges_written(BA, &[(category, usd(dec!(7.50)))], day(), "TX-1")
                .unwrap()
                .unwrap();
            assert_eq!(
                lines(&draft),
                [
                    (PremiumReceivableUnbilled, Some(BA), Debit, dec!(7.50)),
                    (income, None, Credit, dec!(7.50)),
                ],
                "{category}"
            );
        }
        let ceded = charges_written(
            BA,
            &[(ChargeCategory::FlatCededPremium, usd(dec!(30.00)))],
            day(),
            "TX-1",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            lines(&ceded),
            [
                (CededPremiumPayable, None, Credit, dec!(30.00)),
                (CededPremium, None, Debit, dec!(30.00)),
            ]
        );
    }

    #[test]
    fn negative_charges_credit_the_unbilled_receivable() {
        let charges = [
            (ChargeCategory::Premium, usd(dec!(-500.00))),
            (ChargeCategory::Tax, usd(dec!(-25.00))),
            (ChargeCategory::Commission, usd(dec!(-50.00))),
        ];
        let draft = charges_written(BA, &charges, day(), "TX-CANCEL")
            .unwrap()
            .unwrap();
        assert_balanced(&draft);
        assert_eq!(
            lines(&draft),
            [
                (PremiumReceivableUnbilled, Some(BA), Credit, dec!(525.00)),
                (TaxesPayable, None, Debit, dec!(25.00)),
                (CommissionPayable, None, Debit, dec!(50.00)),
                (UnearnedPremium, None, Debit, dec!(500.00)),
                (CommissionExpense, None, Credit, dec!(50.00)),
            ]
        );
    }

    #[test]
    fn a_cancellation_with_retention_posts_the_net_refund_e3() {
        let charges = [
            (ChargeCategory::Premium, usd(dec!(-500.00))),
            (ChargeCategory::Premium, usd(dec!(50.00))),
        ];
        let draft = charges_written(BA, &charges, day(), "TX-CANCEL")
            .unwrap()
            .unwrap();
        assert_eq!(
            lines(&draft),
            [
                (PremiumReceivableUnbilled, Some(BA), Credit, dec!(450.00)),
                (UnearnedPremium, None, Debit, dec!(450.00)),
            ]
        );
    }

    #[test]
    fn charges_that_post_nothing_give_no_entry() {
        assert_eq!(charges_written(BA, &[], day(), "TX-1"), Ok(None));
        let offsetting = [
            (ChargeCategory::Premium, usd(dec!(80.00))),
            (ChargeCategory::Premium, usd(dec!(-80.00))),
            (ChargeCategory::None, usd(dec!(3.00))),
        ];
        assert_eq!(charges_written(BA, &offsetting, day(), "TX-1"), Ok(None));
    }

    #[test]
    fn charges_in_two_currencies_or_fractions_of_a_cent_are_refused() {
        let mixed = [
            (ChargeCategory::Premium, usd(dec!(10.00))),
            (ChargeCategory::Tax, Money::new(dec!(1.00), Currency::EUR)),
        ];
        assert_eq!(
            charges_written(BA, &mixed, day(), "TX-1"),
            Err(LedgerError::ChargeCurrencyMismatch {
                index: 1,
                category: ChargeCategory::Tax,
                expected: Currency::USD,
                found: Currency::EUR
            })
        );
        let unrounded = [(ChargeCategory::Premium, usd(dec!(495.890410)))];
        assert_eq!(
            charges_written(BA, &unrounded, day(), "TX-1"),
            Err(LedgerError::InvalidChargeAmount {
                index: 0,
                category: ChargeCategory::Premium,
                amount: dec!(495.890410)
            })
        );
        let many = vec![(ChargeCategory::Premium, usd(dec!(1.00))); CHARGES_PER_ENTRY_MAX + 1];
        assert_eq!(
            charges_written(BA, &many, day(), "TX-1"),
            Err(LedgerError::TooManyCharges {
                count: CHARGES_PER_ENTRY_MAX + 1
            })
        );
        let blank_account = [(ChargeCategory::Premium, usd(dec!(1.00)))];
        assert!(matches!(
            charges_written("", &blank_account, day(), "TX-1"),
            Err(LedgerError::InvalidSubledger { .. })
        ));
    }

    #[test]
    fn an_invoice_moves_its_total_from_unbilled_to_billed() {
        let draft = invoice_issued(BA, usd(dec!(250)), day(), "INV-1")
            .unwrap()
            .unwrap();
        assert_balanced(&draft);
        assert_eq!(draft.kind, EntryKind::InvoiceIssued);
        assert_eq!(
            lines(&draft),
            [
                (PremiumReceivableBilled, Some(BA), Debit, dec!(250.00)),
                (PremiumReceivableUnbilled, Some(BA), Credit, dec!(250.00)),
            ]
        );
        assert_eq!(draft.lines[0].amount.to_string(), "250.00");
    }

    #[test]
    fn a_credit_invoice_moves_its_total_back_and_a_zero_invoice_posts_nothing() {
        let draft = invoice_issued(BA, usd(dec!(-120.00)), day(), "INV-2")
            .unwrap()
            .unwrap();
        assert_eq!(
            lines(&draft),
            [
                (PremiumReceivableUnbilled, Some(BA), Debit, dec!(120.00)),
                (PremiumReceivableBilled, Some(BA), Credit, dec!(120.00)),
            ]
        );
        assert_eq!(
            invoice_issued(BA, usd(dec!(0.00)), day(), "INV-3"),
            Ok(None)
        );
        assert!(matches!(
            invoice_issued(BA, usd(dec!(0.001)), day(), "INV-4"),
            Err(LedgerError::InputNotInMinorUnits { .. })
        ));
    }

    #[test]
    fn an_overpayment_goes_to_customer_credit() {
        let draft =
            payment_received(BA, usd(dec!(300.00)), usd(dec!(250.00)), day(), "PAY-1").unwrap();
        assert_balanced(&draft);
        assert_eq!(draft.kind, EntryKind::PaymentReceived);
        assert_eq!(
            lines(&draft),
            [
                (Cash, None, Debit, dec!(300.00)),
                (PremiumReceivableBilled, Some(BA), Credit, dec!(250.00)),
                (CustomerCredit, Some(BA), Credit, dec!(50.00)),
            ]
        );
    }

    #[test]
    fn an_exact_or_unallocated_payment_has_two_lines() {
        let exact =
            payment_received(BA, usd(dec!(80.00)), usd(dec!(80.00)), day(), "PAY-1").unwrap();
        assert_eq!(
            lines(&exact),
            [
                (Cash, None, Debit, dec!(80.00)),
                (PremiumReceivableBilled, Some(BA), Credit, dec!(80.00)),
            ]
        );
        let unallocated =
            payment_received(BA, usd(dec!(80.00)), usd(dec!(0)), day(), "PAY-2").unwrap();
        assert_eq!(
            lines(&unallocated),
            [
                (Cash, None, Debit, dec!(80.00)),
                (CustomerCredit, Some(BA), Credit, dec!(80.00)),
            ]
        );
    }

    #[test]
    fn a_payment_that_is_not_positive_or_over_allocated_is_refused() {
        assert_eq!(
            payment_received(BA, usd(dec!(0)), usd(dec!(0)), day(), "PAY-1"),
            Err(LedgerError::InputNotPositive {
                what: "payment",
                amount: dec!(0)
            })
        );
        assert_eq!(
            payment_received(BA, usd(dec!(10.00)), usd(dec!(10.01)), day(), "PAY-1"),
            Err(LedgerError::AllocationExceedsPayment {
                allocated: dec!(10.01),
                payment: dec!(10.00)
            })
        );
        assert_eq!(
            payment_received(BA, usd(dec!(10.00)), usd(dec!(-1.00)), day(), "PAY-1"),
            Err(LedgerError::InputNotPositive {
                what: "allocated amount",
                amount: dec!(-1.00)
            })
        );
        assert_eq!(
            payment_received(
                BA,
                usd(dec!(10.00)),
                Money::new(dec!(5), Currency::EUR),
                day(),
                "PAY-1"
            ),
            Err(LedgerError::InputCurrencyMismatch {
                what: "allocated amount",
                expected: Currency::USD,
                found: Currency::EUR
            })
        );
        assert_eq!(
            payment_received(BA, usd(AMOUNT_MAX + dec!(1)), usd(dec!(0)), day(), "PAY-1"),
            Err(LedgerError::InputTooLarge {
                what: "payment",
                amount: AMOUNT_MAX + dec!(1)
            })
        );
    }

    #[test]
    fn applying_credit_settles_billed_receivable_from_customer_credit() {
        let draft = credit_applied(BA, usd(dec!(50.00)), day(), "INV-2").unwrap();
        assert_balanced(&draft);
        assert_eq!(draft.kind, EntryKind::CreditApplied);
        assert_eq!(
            lines(&draft),
            [
                (CustomerCredit, Some(BA), Debit, dec!(50.00)),
                (PremiumReceivableBilled, Some(BA), Credit, dec!(50.00)),
            ]
        );
    }

    #[test]
    fn issuing_credit_turns_a_negative_billed_balance_into_customer_credit() {
        let draft = credit_issued(BA, usd(dec!(120.00)), day(), "INV-2").unwrap();
        assert_balanced(&draft);
        assert_eq!(draft.kind, EntryKind::CreditIssued);
        assert_eq!(
            lines(&draft),
            [
                (PremiumReceivableBilled, Some(BA), Debit, dec!(120.00)),
                (CustomerCredit, Some(BA), Credit, dec!(120.00)),
            ]
        );
    }

    #[test]
    fn a_reversal_fee_is_a_billed_fee_charge() {
        let draft = payment_reversal_fee(BA, usd(dec!(25.00)), day(), "PAY-1").unwrap();
        assert_balanced(&draft);
        assert_eq!(draft.kind, EntryKind::ChargeWritten);
        assert_eq!(
            lines(&draft),
            [
                (PremiumReceivableUnbilled, Some(BA), Debit, dec!(25.00)),
                (FeeIncome, None, Credit, dec!(25.00)),
            ]
        );
    }

    #[test]
    fn a_write_off_expenses_billed_receivable() {
        let draft = write_off(BA, usd(dec!(10.00)), day(), "WO-1").unwrap();
        assert_balanced(&draft);
        assert_eq!(draft.kind, EntryKind::WriteOff);
        assert_eq!(
            lines(&draft),
            [
                (WriteOffExpense, None, Debit, dec!(10.00)),
                (PremiumReceivableBilled, Some(BA), Credit, dec!(10.00)),
            ]
        );
    }

    #[test]
    fn an_executed_disbursement_pays_customer_credit_out_of_cash() {
        let draft = disbursement_executed(BA, usd(dec!(40.00)), day(), "DISB-1").unwrap();
        assert_balanced(&draft);
        assert_eq!(draft.kind, EntryKind::DisbursementExecuted);
        assert_eq!(
            lines(&draft),
            [
                (CustomerCredit, Some(BA), Debit, dec!(40.00)),
                (Cash, None, Credit, dec!(40.00)),
            ]
        );
    }

    #[test]
    fn two_line_rules_refuse_zero_negative_and_unrounded_amounts() {
        type Rule = fn(&str, Money, NaiveDate, &str) -> Result<EntryDraft, LedgerError>;
        let rules: [(Rule, &str); 5] = [
            (credit_applied, "credit applied"),
            (credit_issued, "credit issued"),
            (payment_reversal_fee, "reversal fee"),
            (write_off, "write-off"),
            (disbursement_executed, "disbursement"),
        ];
        for (rule, what) in rules {
            for amount in [dec!(0), dec!(-1.00)] {
                assert_eq!(
                    rule(BA, usd(amount), day(), "R-1"),
                    Err(LedgerError::InputNotPositive { what, amount })
                );
            }
            assert_eq!(
                rule(BA, usd(dec!(1.001)), day(), "R-1"),
                Err(LedgerError::InputNotInMinorUnits {
                    what,
                    amount: dec!(1.001),
                    currency: Currency::USD
                })
            );
            assert!(matches!(
                rule(BA, usd(dec!(1.00)), day(), ""),
                Err(LedgerError::InvalidReference { .. })
            ));
        }
    }

    #[test]
    fn amounts_take_the_scale_of_their_currency() {
        let yen = Money::new(dec!(5000), Currency::JPY);
        let draft = write_off(BA, yen, day(), "WO-1").unwrap();
        assert_eq!(draft.lines[0].amount.to_string(), "5000");
        let dinar = Money::new(dec!(1.5), Currency::BHD);
        let draft = write_off(BA, dinar, day(), "WO-2").unwrap();
        assert_eq!(draft.lines[0].amount.to_string(), "1.500");
    }

    #[test]
    fn premium_earned_moves_unearned_to_earned_and_a_credit_the_other_way() {
        let draft = premium_earned(usd(dec!(100.00)), day(), "P-1")
            .unwrap()
            .unwrap();
        assert_balanced(&draft);
        assert_eq!(draft.kind, EntryKind::PremiumEarned);
        assert_eq!(
            lines(&draft),
            [
                (UnearnedPremium, None, Debit, dec!(100.00)),
                (EarnedPremium, None, Credit, dec!(100.00)),
            ]
        );
        let credit = premium_earned(usd(dec!(-600.00)), day(), "P-1")
            .unwrap()
            .unwrap();
        assert_eq!(
            lines(&credit),
            [
                (EarnedPremium, None, Debit, dec!(600.00)),
                (UnearnedPremium, None, Credit, dec!(600.00)),
            ]
        );
        assert_eq!(premium_earned(usd(dec!(0.00)), day(), "P-1"), Ok(None));
    }

    #[test]
    fn a_commission_payment_debits_the_producers_payable_and_credits_cash() {
        let draft = commission_paid("agency-7", usd(dec!(100.00)), day(), "agency-7-CP1").unwrap();
        assert_eq!(draft.kind, EntryKind::CommissionPaid);
        assert_eq!(
            lines(&draft),
            [
                (
                    LedgerAccount::CommissionPayable,
                    Some("agency-7"),
                    Side::Debit,
                    dec!(100.00)
                ),
                (LedgerAccount::Cash, None, Side::Credit, dec!(100.00)),
            ]
        );
        assert!(commission_paid("agency-7", usd(dec!(0)), day(), "x").is_err());
    }

    #[test]
    fn e11_a_remittance_of_the_net_settles_the_receivable_with_the_commission() {
        let draft =
            remittance_received("agency-7", usd(dec!(1080.00)), dec!(120.00), day(), "R1").unwrap();
        assert_balanced(&draft);
        assert_eq!(
            lines(&draft),
            [
                (LedgerAccount::Cash, None, Side::Debit, dec!(1080.00)),
                (
                    LedgerAccount::CommissionPayable,
                    Some("agency-7"),
                    Side::Debit,
                    dec!(120.00)
                ),
                (
                    LedgerAccount::AgencyReceivable,
                    Some("agency-7"),
                    Side::Credit,
                    dec!(1200.00)
                ),
            ]
        );
        // The chargeback item: -600.00 gross, -60.00 commission, paid out.
        let draft =
            remittance_received("agency-7", usd(dec!(-540.00)), dec!(-60.00), day(), "R2").unwrap();
        assert_eq!(
            lines(&draft),
            [
                (LedgerAccount::Cash, None, Side::Credit, dec!(540.00)),
                (
                    LedgerAccount::CommissionPayable,
                    Some("agency-7"),
                    Side::Credit,
                    dec!(60.00)
                ),
                (
                    LedgerAccount::AgencyReceivable,
                    Some("agency-7"),
                    Side::Debit,
                    dec!(600.00)
                ),
            ]
        );
    }

    #[test]
    fn an_agency_billed_charge_entry_owes_the_receivable_to_the_producer() {
        let draft = charges_written_to(
            BA,
            &[
                (ChargeCategory::Premium, usd(dec!(1200.00)), None),
                (
                    ChargeCategory::Commission,
                    usd(dec!(120.00)),
                    Some("agency-7"),
                ),
            ],
            day(),
            "P1-T1",
        )
        .unwrap()
        .unwrap();
        let draft = agency_billed(draft, "agency-7");
        assert_balanced(&draft);
        let receivables: Vec<_> = lines(&draft)
            .into_iter()
            .filter(|l| {
                matches!(
                    l.0,
                    LedgerAccount::AgencyReceivable | LedgerAccount::PremiumReceivableUnbilled
                )
            })
            .collect();
        assert_eq!(
            receivables,
            [(
                LedgerAccount::AgencyReceivable,
                Some("agency-7"),
                Side::Debit,
                dec!(1200.00)
            )]
        );
    }
}
