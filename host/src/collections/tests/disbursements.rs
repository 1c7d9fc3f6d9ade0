//! Disbursements: drafted, approved, executed by the billing run (only then
//! does money leave), rejected, reversed; credit held back while pending.

use super::support::*;
use crate::collections::{BillingCommand, DisbursementStatus};
use crate::domain::Currency;
use crate::ledger::{EntryKind, LedgerAccount};
use rust_decimal_macros::dec;

fn with_credit() -> World {
    let mut world = World::new();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 1, 1));
    world.pay(dec!(250.00), date(2021, 1, 1));
    world
}

fn cash(world: &World) -> rust_decimal::Decimal {
    world
        .state
        .ledger
        .balance_of(LedgerAccount::Cash, Currency::USD, None)
}

fn draft(amount: rust_decimal::Decimal, day: chrono::NaiveDate) -> BillingCommand {
    BillingCommand::DraftDisbursement {
        account: "A1".into(),
        amount,
        on: day,
        reason: "refund to Ada".into(),
    }
}

#[test]
fn a_disbursement_moves_money_only_when_the_run_executes_it_and_can_be_reversed() {
    let mut world = with_credit();
    world.exec(draft(dec!(100.00), date(2021, 1, 5)), date(2021, 1, 5));
    world.exec(
        BillingCommand::ApproveDisbursement {
            account: "A1".into(),
            disbursement: "A1-D1".into(),
            on: date(2021, 1, 6),
            execute_on: Some(date(2021, 1, 15)),
        },
        date(2021, 1, 6),
    );
    world.run(date(2021, 1, 14));
    assert_eq!(cash(&world), dec!(250.00), "approved is not executed");
    world.run(date(2021, 1, 15));
    assert_eq!(cash(&world), dec!(150.00));
    assert_eq!(world.account().credit, dec!(50.00));
    let executed = world.account().disbursement("A1-D1").unwrap();
    assert!(matches!(
        executed.status,
        DisbursementStatus::Executed { on, .. } if on == date(2021, 1, 15)
    ));
    world.exec(
        BillingCommand::ReverseDisbursement {
            account: "A1".into(),
            disbursement: "A1-D1".into(),
            on: date(2021, 1, 20),
            reason: "cheque never cashed".into(),
        },
        date(2021, 1, 20),
    );
    assert_eq!(cash(&world), dec!(250.00));
    assert_eq!(world.account().credit, dec!(150.00));
    let kinds: Vec<EntryKind> = world
        .state
        .ledger
        .entries()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        &kinds[kinds.len() - 2..],
        &[
            EntryKind::DisbursementExecuted,
            EntryKind::DisbursementReversed
        ]
    );
}

#[test]
fn a_rejected_disbursement_moves_nothing_and_a_draft_cannot_exceed_the_credit() {
    let mut world = with_credit();
    assert_eq!(
        world
            .try_exec(draft(dec!(150.01), date(2021, 1, 5)), date(2021, 1, 5))
            .unwrap_err()
            .code(),
        "disbursement_exceeds_credit"
    );
    world.exec(draft(dec!(30.00), date(2021, 1, 5)), date(2021, 1, 5));
    world.exec(
        BillingCommand::RejectDisbursement {
            account: "A1".into(),
            disbursement: "A1-D1".into(),
            on: date(2021, 1, 6),
            reason: "customer prefers credit".into(),
        },
        date(2021, 1, 6),
    );
    world.run(date(2021, 1, 31));
    assert_eq!(cash(&world), dec!(250.00));
    assert_eq!(world.account().credit, dec!(150.00));
    let approve_rejected = world.try_exec(
        BillingCommand::ApproveDisbursement {
            account: "A1".into(),
            disbursement: "A1-D1".into(),
            on: date(2021, 1, 7),
            execute_on: None,
        },
        date(2021, 1, 7),
    );
    assert_eq!(approve_rejected.unwrap_err().code(), "conflict");
}

#[test]
fn credit_held_by_a_pending_disbursement_is_not_applied_to_new_invoices() {
    let mut world = with_credit();
    world.exec(draft(dec!(120.00), date(2021, 1, 5)), date(2021, 1, 5));
    world.run(date(2021, 2, 1));
    assert_eq!(world.invoice("A1-I2").credited, dec!(30.00));
    assert_eq!(world.invoice("A1-I2").outstanding(), dec!(70.00));
    assert_eq!(world.account().credit, dec!(120.00));
}

#[test]
fn an_approved_disbursement_the_credit_no_longer_covers_is_rejected_by_the_run() {
    let mut world = with_credit();
    world.exec(draft(dec!(150.00), date(2021, 1, 5)), date(2021, 1, 5));
    world.exec(
        BillingCommand::ApproveDisbursement {
            account: "A1".into(),
            disbursement: "A1-D1".into(),
            on: date(2021, 1, 5),
            execute_on: Some(date(2021, 1, 10)),
        },
        date(2021, 1, 5),
    );
    world.exec(
        BillingCommand::ReversePayment {
            account: "A1".into(),
            payment: "A1-P1".into(),
            on: date(2021, 1, 8),
            fee: None,
            reason: "returned cheque".into(),
        },
        date(2021, 1, 8),
    );
    world.run(date(2021, 1, 10));
    assert!(matches!(
        world.account().disbursement("A1-D1").unwrap().status,
        DisbursementStatus::Rejected { .. }
    ));
    assert_eq!(cash(&world), dec!(0.00));
}
