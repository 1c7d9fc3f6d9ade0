//! Write-offs by hand (invoice or item, whole or in part), automatic ones
//! under the small-balance threshold, and their reversal.

use super::support::*;
use crate::collections::{BillingCommand, BillingSettings, DelinquencyStatus};
use crate::domain::Currency;
use crate::ledger::{EntryKind, LedgerAccount};
use rust_decimal_macros::dec;

fn write_off_expense(world: &World) -> rust_decimal::Decimal {
    world
        .state
        .ledger
        .balance_of(LedgerAccount::WriteOffExpense, Currency::USD, None)
}

fn short_by_ten() -> World {
    let mut world = World::new();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 1, 1));
    world.pay(dec!(90.00), date(2021, 1, 1));
    world
}

#[test]
fn a_write_off_settles_what_is_left_and_its_reversal_makes_the_invoice_owe_again() {
    let mut world = short_by_ten();
    world.run(date(2021, 1, 5));
    assert_eq!(
        world.account().delinquency("A1-Q1").unwrap().status,
        DelinquencyStatus::InGrace
    );
    world.exec(
        BillingCommand::WriteOff {
            account: "A1".into(),
            invoice: "A1-I1".into(),
            item: None,
            amount: None,
            on: date(2021, 1, 6),
            reason: "goodwill".into(),
        },
        date(2021, 1, 6),
    );
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(0.00));
    assert_eq!(write_off_expense(&world), dec!(10.00));
    assert_eq!(
        world.account().delinquency("A1-Q1").unwrap().status,
        DelinquencyStatus::Ended {
            on: date(2021, 1, 6)
        },
        "settled in full, the delinquency ends"
    );
    world.exec(
        BillingCommand::ReverseWriteOff {
            account: "A1".into(),
            write_off: "A1-W1".into(),
            on: date(2021, 1, 8),
        },
        date(2021, 1, 8),
    );
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(10.00));
    assert_eq!(write_off_expense(&world), dec!(0.00));
    let kinds: Vec<EntryKind> = world
        .state
        .ledger
        .entries()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        &kinds[kinds.len() - 2..],
        &[EntryKind::WriteOff, EntryKind::WriteOffReversed]
    );
    assert_eq!(
        world.account().delinquency("A1-Q2").unwrap().grace_end,
        date(2021, 2, 6),
        "owed again, it is delinquent again with a full grace"
    );
    let twice = world.try_exec(
        BillingCommand::ReverseWriteOff {
            account: "A1".into(),
            write_off: "A1-W1".into(),
            on: date(2021, 1, 9),
        },
        date(2021, 1, 9),
    );
    assert_eq!(twice.unwrap_err().code(), "already_reversed");
}

#[test]
fn part_of_an_item_can_be_written_off_but_never_more_than_it_or_the_invoice() {
    let mut world = short_by_ten();
    let write_off = |amount| BillingCommand::WriteOff {
        account: "A1".into(),
        invoice: "A1-I1".into(),
        item: Some("A1-I1-1".into()),
        amount: Some(amount),
        on: date(2021, 1, 2),
        reason: String::new(),
    };
    world.exec(write_off(dec!(4.00)), date(2021, 1, 2));
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(6.00));
    assert_eq!(
        world.invoice("A1-I1").item_written_off["A1-I1-1"],
        dec!(4.00)
    );
    let too_much = world.try_exec(write_off(dec!(6.01)), date(2021, 1, 2));
    assert_eq!(too_much.unwrap_err().code(), "write_off_out_of_range");
}

#[test]
fn a_small_past_due_balance_is_written_off_automatically_instead_of_chased() {
    let mut world = World::new();
    world.exec(
        BillingCommand::ConfigureBilling {
            settings: BillingSettings {
                auto_write_off_up_to: dec!(10.00),
                ..BillingSettings::default()
            },
        },
        date(2020, 12, 1),
    );
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 1, 1));
    world.pay(dec!(90.00), date(2021, 1, 1));
    world.run(date(2021, 1, 2));
    let write_off = &world.account().write_offs[0].write_off;
    assert!(write_off.automatic);
    assert_eq!(write_off.amount.amount, dec!(10.00));
    assert_eq!(write_off.on, date(2021, 1, 2));
    assert!(world.account().delinquencies.is_empty());
    world.exec(
        BillingCommand::ReverseWriteOff {
            account: "A1".into(),
            write_off: "A1-W1".into(),
            on: date(2021, 1, 3),
        },
        date(2021, 1, 3),
    );
    world.run(date(2021, 1, 10));
    assert_eq!(
        world.account().write_offs.len(),
        1,
        "a reversed write-off is not made again"
    );
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(10.00));
}
