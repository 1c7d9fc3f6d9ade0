//! Payments, credit and delinquency: [E6], oldest due first, partial and
//! over-payments, named invoices, returned payments, credit distribution,
//! seed 003's automatic use of credit and seed 002's term confirmation.

use super::support::*;
use crate::collections::{
    AccountOverrides, BillingCommand, CollectionsEvent, CreditOptions, CreditTarget,
    DelinquencyStatus, ItemKind,
};
use crate::ledger::{EntryKind, LedgerAccount};
use crate::policy::ProductConfig;
use rust_decimal_macros::dec;

fn credit_options(world: &mut World, on_generation: bool, term_effective: bool) {
    world.exec(
        BillingCommand::ConfigureAccount {
            account: "A1".into(),
            overrides: AccountOverrides {
                credit: Some(CreditOptions {
                    apply_on_invoice_generation: on_generation,
                    apply_when_term_effective: term_effective,
                    apply_to_future_installments: false,
                    apply_remainder_to_next_charges: false,
                }),
                ..AccountOverrides::default()
            },
        },
        date(2020, 12, 1),
    );
}

/// [E6]: due 2023-01-01 with a 30-day grace, grace ends 2023-01-31; unpaid,
/// the policy lapses from 2023-02-01.
#[test]
fn unpaid_through_grace_the_policy_lapses_the_day_after_grace_ends() {
    let mut world = World::new();
    world.issue("P1", date(2023, 1, 1), "1200.00", date(2022, 12, 20));
    world.run_daily(date(2022, 12, 20), date(2023, 1, 31));
    let delinquency = world.account().delinquency("A1-Q1").unwrap().clone();
    assert_eq!(delinquency.due_date, date(2023, 1, 1));
    assert_eq!(delinquency.grace_end, date(2023, 1, 31));
    assert_eq!(delinquency.status, DelinquencyStatus::InGrace);
    assert!(
        world
            .state
            .book
            .policy("P1")
            .unwrap()
            .is_in_force(date(2023, 2, 1))
    );
    world.run(date(2023, 2, 1));
    assert_eq!(
        world.account().delinquency("A1-Q1").unwrap().status,
        DelinquencyStatus::Lapsed {
            on: date(2023, 2, 1),
            effective: date(2023, 2, 1)
        }
    );
    let policy = world.state.book.policy("P1").unwrap();
    assert!(policy.is_in_force(date(2023, 1, 31)));
    assert!(!policy.is_in_force(date(2023, 2, 1)));
    assert_eq!(
        policy.transactions.last().unwrap().effective,
        date(2023, 2, 1)
    );
}

/// [E6]: paying in full on the last day of grace ends the delinquency.
#[test]
fn paying_in_full_during_grace_ends_the_delinquency() {
    let mut world = World::new();
    world.issue("P1", date(2023, 1, 1), "1200.00", date(2022, 12, 20));
    world.run_daily(date(2022, 12, 20), date(2023, 1, 31));
    let events = world.pay(dec!(100.00), date(2023, 1, 31));
    assert!(events.contains(&crate::engine::TenantEvent::Collections(
        CollectionsEvent::DelinquencyEnded {
            account: "A1".into(),
            delinquency: "A1-Q1".into(),
            on: date(2023, 1, 31)
        }
    )));
    world.run_daily(date(2023, 2, 1), date(2023, 2, 15));
    assert!(
        world
            .state
            .book
            .policy("P1")
            .unwrap()
            .is_in_force(date(2023, 2, 15))
    );
    assert_eq!(world.state.book.policy("P1").unwrap().transactions.len(), 1);
}

#[test]
fn a_payment_without_invoices_settles_the_oldest_due_first_and_a_partial_one_leaves_the_rest_owed()
{
    let mut world = World::without_delinquency();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 2, 1));
    world.pay(dec!(150.00), date(2021, 2, 3));
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(0.00));
    assert_eq!(world.invoice("A1-I2").outstanding(), dec!(50.00));
    assert_eq!(world.account().credit, dec!(0));
    let payment = &world.account().payments[0].payment;
    assert_eq!(payment.locator, "A1-P1");
    assert_eq!(payment.to_credit, dec!(0));
}

#[test]
fn a_payment_naming_an_invoice_settles_only_it_and_the_rest_becomes_credit() {
    let mut world = World::without_delinquency();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 2, 1));
    world.exec(
        BillingCommand::RecordPayment {
            for_deductibles: false,
            reserved_for: None,
            account: "A1".into(),
            amount: dec!(130.00),
            received_on: date(2021, 2, 1),
            invoices: vec!["A1-I2".into()],
            reference: "cheque 1001".into(),
        },
        date(2021, 2, 1),
    );
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(100.00));
    assert_eq!(world.invoice("A1-I2").outstanding(), dec!(0.00));
    assert_eq!(world.account().credit, dec!(30.00));
    let entry = world.state.ledger.entries().last().unwrap();
    assert_eq!(entry.kind, EntryKind::PaymentReceived);
    assert_eq!(entry.reference, "A1-P1");
}

#[test]
fn an_overpayment_goes_to_credit_and_is_used_when_the_next_invoices_are_generated() {
    let mut world = World::new();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 1, 1));
    world.pay(dec!(250.00), date(2021, 1, 1));
    assert_eq!(world.account().credit, dec!(150.00));
    world.run(date(2021, 2, 1));
    assert_eq!(world.invoice("A1-I2").outstanding(), dec!(0.00));
    assert_eq!(world.invoice("A1-I2").credited, dec!(100.00));
    assert_eq!(world.account().credit, dec!(50.00));
    world.run(date(2021, 3, 1));
    assert_eq!(world.invoice("A1-I3").outstanding(), dec!(50.00));
    assert_eq!(world.account().credit, dec!(0.00));
    assert_eq!(
        world.state.ledger.balance_of(
            LedgerAccount::CustomerCredit,
            crate::domain::Currency::USD,
            Some("A1")
        ),
        dec!(0.00)
    );
}

#[test]
fn credit_is_distributed_by_hand_when_it_is_not_applied_automatically() {
    let mut world = World::without_delinquency();
    credit_options(&mut world, false, false);
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.exec(
        BillingCommand::RecordPayment {
            for_deductibles: false,
            reserved_for: None,
            account: "A1".into(),
            amount: dec!(180.00),
            received_on: date(2020, 12, 20),
            invoices: vec![],
            reference: String::new(),
        },
        date(2020, 12, 20),
    );
    world.run(date(2021, 2, 1));
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(100.00));
    assert_eq!(world.account().credit, dec!(180.00));
    world.exec(
        BillingCommand::DistributeCredit {
            account: "A1".into(),
            on: date(2021, 2, 2),
            targets: vec![
                CreditTarget {
                    invoice: "A1-I2".into(),
                    amount: None,
                },
                CreditTarget {
                    invoice: "A1-I1".into(),
                    amount: Some(dec!(60.00)),
                },
            ],
        },
        date(2021, 2, 2),
    );
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(40.00));
    assert_eq!(world.invoice("A1-I2").outstanding(), dec!(0.00));
    assert_eq!(world.account().credit, dec!(20.00));
    let too_much = world.try_exec(
        BillingCommand::DistributeCredit {
            account: "A1".into(),
            on: date(2021, 2, 2),
            targets: vec![CreditTarget {
                invoice: "A1-I1".into(),
                amount: Some(dec!(30.00)),
            }],
        },
        date(2021, 2, 2),
    );
    assert_eq!(too_much.unwrap_err().code(), "credit_too_large");
}

/// Seed 003: "Apply When Policy Term is effective": an invoice of a term that
/// has not started is not paid from credit until the term starts.
#[test]
fn credit_waits_for_the_term_to_start_when_so_configured() {
    let mut product: ProductConfig = monthly_product();
    product.plans.get_mut("monthly").unwrap().generate_lead_days = 20;
    let mut world = World::with_product(product);
    credit_options(&mut world, false, true);
    world.pay(dec!(100.00), date(2021, 1, 5));
    world.issue("P1", date(2021, 3, 1), "1200.00", date(2021, 2, 1));
    world.run_daily(date(2021, 2, 1), date(2021, 2, 28));
    let first = world.invoice("A1-I1");
    assert_eq!(first.invoice.issue_date, date(2021, 2, 9));
    assert_eq!(first.invoice.due_date, date(2021, 3, 1));
    assert_eq!(
        first.outstanding(),
        dec!(100.00),
        "the term has not started"
    );
    world.run(date(2021, 3, 1));
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(0.00));
    assert_eq!(world.account().credit, dec!(0.00));
}

/// Seed 002: a bound term is confirmed when payments reach its first invoice,
/// and the policy system is told.
#[test]
fn a_term_is_confirmed_when_payments_reach_its_first_invoice() {
    let mut world = World::new();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 1, 1));
    let partial = world.pay(dec!(60.00), date(2021, 1, 2));
    assert!(World::billing_events(&partial, "term_confirmed").is_empty());
    let rest = world.pay(dec!(40.00), date(2021, 1, 3));
    assert_eq!(
        World::billing_events(&rest, "term_confirmed"),
        vec![&CollectionsEvent::TermConfirmed {
            account: "A1".into(),
            policy: "P1".into(),
            term: 1,
            invoice: "A1-I1".into(),
            on: date(2021, 1, 3)
        }]
    );
}

/// A returned cheque undoes the payment's allocations; its fee goes on the
/// next invoice; the reopened past-due invoice is delinquent again, with a
/// full grace from the day the payment came back.
#[test]
fn a_returned_payment_reopens_its_invoices_and_bills_its_fee_on_the_next_invoice() {
    let mut world = World::new();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 1, 1));
    world.pay(dec!(130.00), date(2021, 1, 1));
    world.run(date(2021, 1, 20));
    let events = world.exec(
        BillingCommand::ReversePayment {
            account: "A1".into(),
            payment: "A1-P1".into(),
            on: date(2021, 1, 20),
            fee: Some(dec!(25.00)),
            reason: "returned cheque".into(),
        },
        date(2021, 1, 20),
    );
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(100.00));
    assert_eq!(world.account().credit, dec!(0.00));
    let reversal = world
        .state
        .ledger
        .entries()
        .iter()
        .find(|e| e.kind == EntryKind::PaymentReversed)
        .unwrap();
    assert_eq!(reversal.reference, "A1-P1");
    let started = World::billing_events(&events, "delinquency_started");
    let [CollectionsEvent::DelinquencyStarted { delinquency }] = started.as_slice() else {
        panic!("one delinquency, got {started:?}");
    };
    assert_eq!(delinquency.started_on, date(2021, 1, 20));
    assert_eq!(delinquency.grace_end, date(2021, 2, 18));
    world.run(date(2021, 2, 1));
    let february = &world.invoice("A1-I2").invoice;
    let fee = february
        .items
        .iter()
        .find(|i| i.kind == ItemKind::Fee)
        .unwrap();
    assert_eq!(fee.charge_name, "payment-reversal-fee");
    assert_eq!(fee.amount.amount, dec!(25.00));
    assert_eq!(february.total.amount, dec!(125.00));
    let again = world.try_exec(
        BillingCommand::ReversePayment {
            account: "A1".into(),
            payment: "A1-P1".into(),
            on: date(2021, 2, 1),
            fee: None,
            reason: String::new(),
        },
        date(2021, 2, 1),
    );
    assert_eq!(again.unwrap_err().code(), "already_reversed");
}

#[test]
fn a_payment_in_fractions_of_a_cent_is_refused_and_changes_nothing() {
    let mut world = World::new();
    let before = world.state.collections.clone();
    let refused = world.try_exec(
        BillingCommand::RecordPayment {
            for_deductibles: false,
            reserved_for: None,
            account: "A1".into(),
            amount: dec!(10.005),
            received_on: date(2021, 1, 1),
            invoices: vec![],
            reference: String::new(),
        },
        date(2021, 1, 1),
    );
    assert_eq!(refused.unwrap_err().code(), "invalid_amount");
    assert_eq!(world.state.collections, before);
}

/// A command is decided on a copy of its account (each event decided is
/// applied to the copy before the next): the copy shares the account's
/// payments instead of copying each, so an account with years of payments
/// costs a pointer per payment to decide on. Reversing one payment gives
/// the account a record of its own for that payment only.
#[test]
fn deciding_on_an_account_shares_its_payments_and_a_reversal_changes_only_its_own_record() {
    let mut world = World::without_delinquency();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 2, 1));
    for day in [3, 4, 5] {
        world.pay(dec!(10.00), date(2021, 2, day));
    }
    let before = world.account().payments.clone();
    world.exec(
        BillingCommand::ReversePayment {
            account: "A1".into(),
            payment: "A1-P2".into(),
            on: date(2021, 2, 6),
            fee: None,
            reason: "returned cheque".into(),
        },
        date(2021, 2, 6),
    );
    let after = &world.account().payments;
    assert!(
        std::sync::Arc::ptr_eq(&before[0], &after[0]),
        "A1-P1 shared"
    );
    assert!(
        std::sync::Arc::ptr_eq(&before[2], &after[2]),
        "A1-P3 shared"
    );
    assert!(!std::sync::Arc::ptr_eq(&before[1], &after[1]));
    assert_eq!(after[1].payment.locator, "A1-P2");
    assert_eq!(after[1].reversed_on, Some(date(2021, 2, 6)));
    assert_eq!(before[1].reversed_on, None, "the earlier copy unchanged");
    assert_eq!(after[0].reversed_on, None);
}

/// A command is decided on a copy of its account (`Decider::new`); the copy
/// shares the account's invoices and payments (persistent vectors), so a
/// command on an account with years of history does not copy the history,
/// and what the decision adds to its copy leaves the account as it was.
#[test]
fn a_decision_shares_the_accounts_invoices_and_payments_and_adds_to_its_copy_only() {
    let mut world = World::without_delinquency();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 2, 1));
    world.run(date(2021, 3, 1));
    for day in [3, 4, 5] {
        world.pay(dec!(10.00), date(2021, 3, day));
    }
    let state = &world.state;
    let mut decider = crate::collections::decide::Decider::new(
        &state.collections,
        &state.book,
        "A1",
        crate::ledger::EntryId(1_000),
        world.adjuster.as_ref(),
    )
    .unwrap();
    let account = world.account();
    assert_eq!(account.invoices.len(), 3);
    assert_eq!(account.payments.len(), 3);
    // (A few pointers are kept inline and copied; the records are shared.)
    for (copy, own) in decider.account().invoices.iter().zip(&account.invoices) {
        assert!(std::sync::Arc::ptr_eq(copy, own));
    }
    for (copy, own) in decider.account().payments.iter().zip(&account.payments) {
        assert!(std::sync::Arc::ptr_eq(copy, own));
    }

    let payment = account.payments[0].payment.clone();
    let mut next = payment.clone();
    next.locator = "A1-P4".into();
    decider.follow(&CollectionsEvent::PaymentReceived { payment: next });
    assert_eq!(decider.account().payments.len(), 4);
    assert_eq!(decider.account().payments[3].payment.locator, "A1-P4");
    assert!(std::sync::Arc::ptr_eq(
        &decider.account().payments[0],
        &account.payments[0]
    ));
    assert_eq!(account.payments.len(), 3, "the account unchanged");
    assert_eq!(account.payments[0].payment, payment);
}
