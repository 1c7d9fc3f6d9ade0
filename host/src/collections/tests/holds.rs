//! Holds: an invoicing hold and its catch-up invoice, a delinquency hold that
//! pauses grace, and a suspension that ends with one catch-up invoice due a
//! set number of days later.

use super::support::*;
use crate::collections::{BillingCommand, DelinquencyStatus, HoldKind};
use rust_decimal_macros::dec;

fn hold(world: &mut World, kind: HoldKind, from: chrono::NaiveDate) {
    world.exec(
        BillingCommand::PlaceHold {
            account: "A1".into(),
            kind,
            from,
            reason: "dispute".into(),
        },
        from,
    );
}

fn release(world: &mut World, hold: &str, on: chrono::NaiveDate) {
    world.exec(
        BillingCommand::ReleaseHold {
            account: "A1".into(),
            hold: hold.into(),
            on,
        },
        on,
    );
}

fn paid_monthly_policy() -> World {
    let mut world = World::new();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.pay(dec!(1200.00), date(2020, 12, 20));
    world
}

#[test]
fn an_invoicing_hold_keeps_installments_back_until_released_then_bills_them_on_one_invoice() {
    let mut world = paid_monthly_policy();
    world.run_daily(date(2021, 1, 1), date(2021, 3, 14));
    hold(&mut world, HoldKind::Invoicing, date(2021, 3, 15));
    world.run_daily(date(2021, 3, 15), date(2021, 5, 9));
    assert_eq!(world.account().invoices.len(), 3, "April and May are held");
    release(&mut world, "A1-H1", date(2021, 5, 10));
    world.run_daily(date(2021, 5, 10), date(2021, 6, 1));
    let rows = world.rows();
    assert_eq!(
        &rows[3..],
        &[
            row("A1-I4", date(2021, 5, 10), date(2021, 5, 10), dec!(200.00)),
            row("A1-I5", date(2021, 6, 1), date(2021, 6, 1), dec!(100.00)),
        ]
    );
    assert!(world.invoice("A1-I4").invoice.catch_up);
    assert!(!world.invoice("A1-I5").invoice.catch_up);
}

#[test]
fn a_delinquency_hold_pauses_grace_and_its_release_extends_it_by_the_days_held() {
    let mut world = World::new();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run_daily(date(2021, 1, 1), date(2021, 1, 19));
    assert_eq!(
        world.account().delinquency("A1-Q1").unwrap().grace_end,
        date(2021, 1, 31)
    );
    hold(&mut world, HoldKind::Delinquency, date(2021, 1, 20));
    world.run_daily(date(2021, 1, 20), date(2021, 2, 9));
    assert!(world.account().delinquency("A1-Q1").unwrap().is_in_grace());
    release(&mut world, "A1-H1", date(2021, 2, 10));
    assert_eq!(
        world.account().delinquency("A1-Q1").unwrap().grace_end,
        date(2021, 2, 21),
        "21 days held"
    );
    world.run_daily(date(2021, 2, 10), date(2021, 2, 21));
    assert!(world.account().delinquency("A1-Q1").unwrap().is_in_grace());
    world.run(date(2021, 2, 22));
    assert_eq!(
        world.account().delinquency("A1-Q1").unwrap().status,
        DelinquencyStatus::Lapsed {
            on: date(2021, 2, 22),
            effective: date(2021, 2, 22)
        }
    );
}

#[test]
fn a_suspension_ends_with_one_catch_up_invoice_due_the_set_days_after_it() {
    let mut world = World::new();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 1, 1));
    hold(
        &mut world,
        HoldKind::Suspension {
            until: date(2021, 6, 1),
            catch_up_due_days: 15,
        },
        date(2021, 1, 20),
    );
    world.run_daily(date(2021, 1, 20), date(2021, 5, 31));
    assert_eq!(world.account().invoices.len(), 1, "nothing is invoiced");
    assert!(
        world.account().delinquency("A1-Q1").unwrap().is_in_grace(),
        "grace is paused"
    );
    world.run(date(2021, 6, 1));
    assert_eq!(
        world.rows(),
        vec![
            row("A1-I1", date(2021, 1, 1), date(2021, 1, 1), dec!(100.00)),
            row("A1-I2", date(2021, 6, 1), date(2021, 6, 16), dec!(500.00)),
        ]
    );
    let delinquency = world.account().delinquency("A1-Q1").unwrap();
    assert_eq!(
        delinquency.grace_end,
        date(2021, 6, 12),
        "January's grace (to 01-31) resumes after the suspension with the 12 days it had left"
    );
    assert_eq!(
        world.account().hold("A1-H1").unwrap().released_on,
        Some(date(2021, 6, 1))
    );
}
