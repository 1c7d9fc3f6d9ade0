//! Tests across the ledger: a worked billing scenario end to end, and properties of
//! random sequences of postings and reversals in several currencies and billing
//! accounts.

use crate::domain::{Currency, Money};
use crate::ledger::{
    ChargeCategory, EntryDraft, EntryId, EntryKind, JournalEntry, Ledger, LedgerAccount,
    LedgerError, postings,
};
use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, d).unwrap()
}

fn usd(amount: Decimal) -> Money {
    Money::new(amount, Currency::USD)
}

/// What billing account `BA-1` owes on its billed, unbilled and credit accounts.
fn owed(ledger: &Ledger) -> (Decimal, Decimal, Decimal) {
    let of = |account| ledger.balance_of(account, Currency::USD, Some("BA-1"));
    (
        of(LedgerAccount::PremiumReceivableBilled),
        of(LedgerAccount::PremiumReceivableUnbilled),
        of(LedgerAccount::CustomerCredit),
    )
}

fn post(ledger: &mut Ledger, draft: EntryDraft) -> EntryId {
    let id = ledger.post(draft).unwrap();
    assert!(ledger.trial_balance(Currency::USD).is_balanced());
    id
}

/// Closed through 2024-01-10: a payment posted on 2024-01-05 afterwards
/// keeps its date and gets 2024-01-11 as its accounting date; its reversal
/// too. An entry replayed with an accounting date in the closed period is
/// refused, and periods close only forward.
#[test]
fn nothing_is_dated_into_a_closed_period() {
    let mut ledger = Ledger::new("acme").unwrap();
    let charge = postings::charges_written(
        "BA-1",
        &[(ChargeCategory::Premium, usd(dec!(100.00)))],
        day(2),
        "TX-1",
    );
    post(&mut ledger, charge.unwrap().unwrap());
    ledger.close_through(day(10)).unwrap();
    assert_eq!(
        ledger.close_through(day(10)),
        Err(LedgerError::PeriodAlreadyClosed {
            closed_through: day(10),
            asked: day(10)
        })
    );
    let payment = postings::payment_received("BA-1", usd(dec!(40)), usd(dec!(0)), day(5), "PAY-1");
    let id = post(&mut ledger, payment.unwrap());
    let entry = ledger.entry(id).unwrap();
    assert_eq!(
        (entry.posted_on, entry.accounting_date()),
        (day(5), day(11))
    );
    assert_eq!(entry.accounting_date, Some(day(11)));
    let reversal = ledger.reverse(id, day(6), "RET-1").unwrap();
    assert_eq!(ledger.entry(reversal).unwrap().accounting_date(), day(11));
    let on_time = postings::payment_received("BA-1", usd(dec!(1)), usd(dec!(0)), day(12), "PAY-2");
    let id = post(&mut ledger, on_time.unwrap());
    assert_eq!(ledger.entry(id).unwrap().accounting_date, None);

    let mut forged = ledger.entry(id).unwrap().clone();
    forged.id = ledger.next_id();
    forged.accounting_date = Some(day(9));
    assert_eq!(
        ledger.apply(forged),
        Err(LedgerError::DatedIntoClosedPeriod {
            entry: EntryId(5),
            accounting_date: day(9),
            closed_through: day(10)
        })
    );
    // The closed period's figures: only the charge.
    let closed = ledger.trial_balance_between(Currency::USD, None, day(10));
    assert_eq!(closed.total_debits, dec!(100.00));
    let after = ledger.trial_balance_between(Currency::USD, Some(day(11)), day(31));
    assert_eq!(after.total_debits, dec!(81.00));
}

/// Charge 1000.00, invoice 250.00, pay 300.00 (50.00 to credit), invoice 250.00,
/// apply the 50.00 credit, pay 180.00, write off 10.00, the 180.00 cheque returns
/// with a 25.00 fee, the write-off is reversed, 250.00 paid (50.00 to credit) and
/// the 50.00 refunded. At every step the billed receivable is what the invoices
/// still owe: billed minus paid minus credit applied minus written off.
#[test]
fn the_billed_receivable_of_an_account_is_what_its_invoices_still_owe() {
    let ba = "BA-1";
    let mut ledger = Ledger::new("acme").unwrap();
    let charges = [(ChargeCategory::Premium, usd(dec!(1000.00)))];
    let charge = postings::charges_written(ba, &charges, day(1), "TX-1");
    post(&mut ledger, charge.unwrap().unwrap());
    assert_eq!(owed(&ledger), (dec!(0), dec!(1000.00), dec!(0)));

    let invoice = postings::invoice_issued(ba, usd(dec!(250.00)), day(2), "INV-1");
    post(&mut ledger, invoice.unwrap().unwrap());
    assert_eq!(owed(&ledger), (dec!(250.00), dec!(750.00), dec!(0)));

    let payment =
        postings::payment_received(ba, usd(dec!(300.00)), usd(dec!(250.00)), day(3), "PAY-1");
    post(&mut ledger, payment.unwrap());
    assert_eq!(owed(&ledger), (dec!(0.00), dec!(750.00), dec!(50.00)));

    let invoice = postings::invoice_issued(ba, usd(dec!(250.00)), day(4), "INV-2");
    post(&mut ledger, invoice.unwrap().unwrap());
    let credit = postings::credit_applied(ba, usd(dec!(50.00)), day(4), "INV-2");
    post(&mut ledger, credit.unwrap());
    assert_eq!(owed(&ledger), (dec!(200.00), dec!(500.00), dec!(0.00)));

    let payment =
        postings::payment_received(ba, usd(dec!(180.00)), usd(dec!(180.00)), day(5), "PAY-2");
    let cheque = post(&mut ledger, payment.unwrap());
    let write_off = postings::write_off(ba, usd(dec!(10.00)), day(6), "WO-1");
    let write_off = post(&mut ledger, write_off.unwrap());
    // 500.00 billed - 430.00 paid - 50.00 credit applied - 10.00 written off.
    assert_eq!(owed(&ledger), (dec!(10.00), dec!(500.00), dec!(0.00)));

    let returned = ledger.reverse(cheque, day(7), "RET-1").unwrap();
    assert_eq!(
        ledger.entry(returned).unwrap().kind,
        EntryKind::PaymentReversed
    );
    let fee = postings::payment_reversal_fee(ba, usd(dec!(25.00)), day(7), "RET-1");
    post(&mut ledger, fee.unwrap());
    assert_eq!(owed(&ledger), (dec!(190.00), dec!(525.00), dec!(0.00)));

    ledger.reverse(write_off, day(8), "WO-1-UNDO").unwrap();
    assert_eq!(owed(&ledger), (dec!(200.00), dec!(525.00), dec!(0.00)));

    let payment =
        postings::payment_received(ba, usd(dec!(250.00)), usd(dec!(200.00)), day(9), "PAY-3");
    post(&mut ledger, payment.unwrap());
    let refund = postings::disbursement_executed(ba, usd(dec!(50.00)), day(10), "DISB-1");
    post(&mut ledger, refund.unwrap());
    assert_eq!(owed(&ledger), (dec!(0.00), dec!(525.00), dec!(0.00)));

    let of = |account| ledger.balance_of(account, Currency::USD, None);
    assert_eq!(of(LedgerAccount::Cash), dec!(500.00));
    assert_eq!(of(LedgerAccount::UnearnedPremium), dec!(1000.00));
    assert_eq!(of(LedgerAccount::FeeIncome), dec!(25.00));
    assert_eq!(of(LedgerAccount::WriteOffExpense), dec!(0.00));
    // Assets (cash 500.00 + unbilled 525.00) equal unearned premium (a liability,
    // 1000.00) and revenue (25.00).
    let trial_balance = ledger.trial_balance(Currency::USD);
    assert!(trial_balance.is_balanced());
    assert_eq!(trial_balance.total_debits, dec!(2555.00));
    assert_eq!(ledger.len(), 12);
}

const BILLING_ACCOUNTS: [&str; 3] = ["BA-1", "BA-2", "BA-3"];
const CURRENCIES: [Currency; 3] = [Currency::USD, Currency::JPY, Currency::BHD];

/// One random step.
#[derive(Debug, Clone)]
enum Op {
    Charges {
        account: usize,
        currency: usize,
        charges: Vec<(usize, i64)>,
    },
    Invoice {
        account: usize,
        currency: usize,
        units: i64,
    },
    Payment {
        account: usize,
        currency: usize,
        units: i64,
        allocated: i64,
    },
    Transfer {
        rule: usize,
        account: usize,
        currency: usize,
        units: i64,
    },
    Reverse {
        pick: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let account = 0..BILLING_ACCOUNTS.len();
    let currency = 0..CURRENCIES.len();
    let charge = (0..ChargeCategory::ALL.len(), -1_000_000_i64..1_000_000);
    prop_oneof![
        (
            account.clone(),
            currency.clone(),
            prop::collection::vec(charge, 0..6)
        )
            .prop_map(|(account, currency, charges)| Op::Charges {
                account,
                currency,
                charges
            }),
        (account.clone(), currency.clone(), -200_000_i64..500_000).prop_map(
            |(account, currency, units)| Op::Invoice {
                account,
                currency,
                units
            }
        ),
        (
            account.clone(),
            currency.clone(),
            1_i64..500_000,
            0_i64..500_000
        )
            .prop_map(|(account, currency, units, allocated)| Op::Payment {
                account,
                currency,
                units,
                allocated: allocated.min(units)
            }),
        (0_usize..5, account, currency, 1_i64..100_000).prop_map(
            |(rule, account, currency, units)| Op::Transfer {
                rule,
                account,
                currency,
                units
            }
        ),
        any::<usize>().prop_map(|pick| Op::Reverse { pick }),
    ]
}

fn money(units: i64, currency: usize) -> Money {
    Money::from_minor_units(i128::from(units), CURRENCIES[currency]).unwrap()
}

/// The draft of a non-reversal step, or `None` when it posts nothing.
fn draft_of(op: &Op, posted_on: NaiveDate, reference: &str) -> Option<EntryDraft> {
    match op {
        Op::Charges {
            account,
            currency,
            charges,
        } => {
            let charges: Vec<_> = charges
                .iter()
                .map(|(category, units)| (ChargeCategory::ALL[*category], money(*units, *currency)))
                .collect();
            postings::charges_written(BILLING_ACCOUNTS[*account], &charges, posted_on, reference)
                .unwrap()
        }
        Op::Invoice {
            account,
            currency,
            units,
        } => postings::invoice_issued(
            BILLING_ACCOUNTS[*account],
            money(*units, *currency),
            posted_on,
            reference,
        )
        .unwrap(),
        Op::Payment {
            account,
            currency,
            units,
            allocated,
        } => Some(
            postings::payment_received(
                BILLING_ACCOUNTS[*account],
                money(*units, *currency),
                money(*allocated, *currency),
                posted_on,
                reference,
            )
            .unwrap(),
        ),
        Op::Transfer {
            rule,
            account,
            currency,
            units,
        } => {
            let rule = [
                postings::credit_applied,
                postings::credit_issued,
                postings::payment_reversal_fee,
                postings::write_off,
                postings::disbursement_executed,
            ][*rule];
            Some(
                rule(
                    BILLING_ACCOUNTS[*account],
                    money(*units, *currency),
                    posted_on,
                    reference,
                )
                .unwrap(),
            )
        }
        Op::Reverse { .. } => None,
    }
}

/// Every entry balances and every currency's trial balance is zero.
fn assert_balanced(ledger: &Ledger) {
    for currency in CURRENCIES {
        let trial_balance = ledger.trial_balance(currency);
        assert!(trial_balance.is_balanced());
        assert_eq!(trial_balance.net(), Decimal::ZERO);
    }
}

fn run(ops: &[Op]) -> Ledger {
    let mut ledger = Ledger::new("acme").unwrap();
    for (step, op) in ops.iter().enumerate() {
        let posted_on = day(1) + Days::new(step as u64);
        let reference = format!("REF-{step}");
        if let Op::Reverse { pick } = op {
            if ledger.is_empty() {
                continue;
            }
            let id = EntryId((pick % ledger.len()) as u64 + 1);
            let original = ledger.entry(id).unwrap().clone();
            let earlier = ledger.reversal_of(id);
            let before = ledger.clone();
            match ledger.reverse(id, posted_on, &reference) {
                Ok(contra) => {
                    assert!(original.reverses.is_none() && earlier.is_none());
                    let contra = ledger.entry(contra).unwrap();
                    assert!(contra.is_contra_of(&original));
                    assert_eq!(contra.reverses, Some(id));
                    assert_eq!(ledger.reversal_of(id), Some(contra.id));
                }
                Err(LedgerError::CannotReverseReversal(refused)) => {
                    assert_eq!(refused, id);
                    assert!(original.reverses.is_some());
                    assert_eq!(ledger, before);
                }
                Err(LedgerError::AlreadyReversed { entry, reversal }) => {
                    assert_eq!((entry, Some(reversal)), (id, earlier));
                    assert_eq!(ledger, before);
                }
                Err(other) => panic!("unexpected {other}"),
            }
        } else if let Some(draft) = draft_of(op, posted_on, &reference) {
            let id = ledger.post(draft).unwrap();
            assert!(ledger.entry(id).unwrap().is_balanced());
        }
        assert_balanced(&ledger);
    }
    ledger
}

proptest! {
    #[test]
    fn every_step_keeps_every_trial_balance_at_zero(ops in prop::collection::vec(op(), 0..60)) {
        let ledger = run(&ops);
        for entry in ledger.entries() {
            prop_assert!(entry.is_balanced());
            prop_assert_eq!(entry.validate(), Ok(()));
        }
    }

    #[test]
    fn reversing_every_entry_brings_every_account_back_to_zero(
        ops in prop::collection::vec(op(), 0..60)
    ) {
        let mut ledger = run(&ops);
        let last = day(1) + Days::new(ops.len() as u64);
        let open: Vec<EntryId> = ledger
            .entries()
            .iter()
            .filter(|entry| entry.reverses.is_none() && ledger.reversal_of(entry.id).is_none())
            .map(|entry| entry.id)
            .collect();
        for id in open {
            ledger.reverse(id, last, "UNDO-ALL").unwrap();
        }
        for (key, balance) in ledger.balances() {
            prop_assert_eq!(balance, Decimal::ZERO, "{}", key);
        }
        for currency in CURRENCIES {
            for row in ledger.trial_balance(currency).rows {
                prop_assert_eq!(row.debits, row.credits);
            }
        }
    }

    #[test]
    fn rebuilding_from_the_entries_gives_the_same_balances(
        ops in prop::collection::vec(op(), 0..60)
    ) {
        let ledger = run(&ops);
        let json = serde_json::to_string(ledger.entries()).unwrap();
        let entries: Vec<JournalEntry> = serde_json::from_str(&json).unwrap();
        let rebuilt = Ledger::from_entries("acme", entries).unwrap();
        prop_assert_eq!(
            rebuilt.balances().collect::<Vec<_>>(),
            ledger.balances().collect::<Vec<_>>()
        );
        for currency in CURRENCIES {
            prop_assert_eq!(rebuilt.trial_balance(currency), ledger.trial_balance(currency));
        }
        prop_assert_eq!(rebuilt, ledger);
    }
}

/// A book of three entries (a charge, an invoice, a payment, then the
/// payment reversed) taken apart into its head and entries comes back as
/// the same book; with one entry missing, or entries out of order, the
/// parts do not fit.
#[test]
fn a_book_rebuilt_from_its_head_and_entries_is_the_same_book() {
    let mut ledger = Ledger::new("acme").unwrap();
    let charges = [(ChargeCategory::Premium, usd(dec!(1000)))];
    post(
        &mut ledger,
        postings::charges_written("BA-1", &charges, day(1), "TX-1")
            .unwrap()
            .unwrap(),
    );
    post(
        &mut ledger,
        postings::invoice_issued("BA-1", usd(dec!(250)), day(2), "INV-1")
            .unwrap()
            .unwrap(),
    );
    let paid = post(
        &mut ledger,
        postings::payment_received("BA-1", usd(dec!(300)), usd(dec!(250)), day(3), "PAY-1")
            .unwrap(),
    );
    ledger.reverse(paid, day(4), "PAY-1-R").unwrap();
    let entries = ledger.entries().to_vec();
    assert_eq!(entries.len(), 4);

    let rebuilt = Ledger::from_head(ledger.head(), entries.clone()).unwrap();
    assert_eq!(rebuilt, ledger);
    assert_eq!(rebuilt.reversal_of(paid), Some(EntryId(4)));
    assert_eq!(owed(&rebuilt), (dec!(250), dec!(750), dec!(0)));

    assert_eq!(
        Ledger::from_head(ledger.head(), entries[..3].to_vec()),
        None
    );
    let mut swapped = entries;
    swapped.swap(0, 1);
    assert_eq!(Ledger::from_head(ledger.head(), swapped), None);
}
