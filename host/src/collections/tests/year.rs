//! A full year of a monthly policy driven by daily billing runs: 1200.00 a
//! year (100.00 a month) from 2021-01-01, raised to 2400.00 a year from
//! 2021-04-15 by an endorsement issued on 2021-04-10, every invoice paid on its
//! due date until June's, which is paid 10.00 short, and July's, which is not
//! paid at all. The June shortfall starts a delinquency on 06-02 whose grace
//! ends 07-01; the policy lapses from 07-02 and its credits flow into the
//! following invoices.

use super::support::*;
use crate::collections::{CollectionsEvent, DelinquencyStatus, LapseCancellation};
use crate::engine::TenantEvent;
use crate::ledger::LedgerAccount;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// Pays what each invoice due on `day` owes (10.00 short in June; nothing
/// from July on).
fn pay_what_is_due(world: &mut World, day: NaiveDate) {
    let due: Vec<Decimal> = world
        .account()
        .open
        .iter()
        .map(|i| &world.account().invoices[*i])
        .filter(|r| r.invoice.due_date == day && r.outstanding() > dec!(0))
        .map(|r| r.outstanding())
        .collect();
    for owed in due {
        match day.month() {
            1..=5 => world.pay(owed, day),
            6 => world.pay(owed - dec!(10.00), day),
            _ => vec![],
        };
    }
}

fn the_year() -> (World, Vec<TenantEvent>) {
    let mut world = World::new();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    let mut events = Vec::new();
    for day in date(2020, 12, 15)
        .iter_days()
        .take_while(|d| d.year() == 2020 || d.year() == 2021)
    {
        events.extend(world.run(day));
        if day == date(2021, 4, 10) {
            world.endorse("P1", date(2021, 4, 15), "2400.00", day);
        }
        pay_what_is_due(&mut world, day);
    }
    (world, events)
}

#[test]
fn a_year_of_monthly_billing_gives_every_invoice_its_amount_and_dates() {
    let (world, _) = the_year();
    let first = |month| date(2021, month, 1);
    let rows: Vec<Row> = [
        dec!(100.00),
        dec!(100.00),
        dec!(100.00),
        dec!(100.00),
        // May: its installment, the endorsement's for May, and the part of
        // April it covers (16 of April's 30 days), caught up.
        dec!(253.87),
        dec!(200.35),
        dec!(200.35),
        // The lapse from 07-02, on the run of 07-02: August to December have
        // no day in force, so their installments are netted and never
        // invoiced; the credit for July from the 2nd, the rounding of the
        // whole term (860.00 booked, 1054.57 invoiced) and the 10% short-rate
        // holdback (119.64) are billed once, on the lapse day:
        // 860.00 - 1054.57 + 119.64 = -74.93.
        dec!(-74.93),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, total)| {
        let month = i as u32 + 1;
        let day = if month == 8 {
            date(2021, 7, 2)
        } else {
            first(month)
        };
        row(&format!("A1-I{month}"), day, day, total)
    })
    .collect();
    assert_eq!(world.rows(), rows);
    let may = &world.invoice("A1-I5").invoice;
    let amounts: Vec<(&str, Decimal, Option<&str>)> = may
        .items
        .iter()
        .map(|i| (i.charge.as_str(), i.amount.amount, i.corrects.as_deref()))
        .collect();
    assert_eq!(
        amounts,
        vec![
            ("P1-T1-C1", dec!(100.00), None),
            ("P1-T2-C1", dec!(53.52), Some("A1-I4-1")),
            ("P1-T2-C1", dec!(100.35), None),
        ],
        "the endorsement's April part corrects April's installment"
    );
    world.assert_replay_rebuilds();
}

#[test]
fn a_payment_ten_short_in_june_leads_to_delinquency_and_a_lapse_from_the_day_after_grace() {
    let (world, events) = the_year();
    let delinquency = world.account().delinquency("A1-Q1").unwrap();
    assert_eq!(delinquency.invoices, vec!["A1-I6".to_string()]);
    assert_eq!(delinquency.started_on, date(2021, 6, 2));
    assert_eq!(delinquency.due_date, date(2021, 6, 1));
    assert_eq!(delinquency.grace_end, date(2021, 7, 1));
    assert_eq!(
        delinquency.status,
        DelinquencyStatus::Lapsed {
            on: date(2021, 7, 2),
            effective: date(2021, 7, 2)
        }
    );
    let lapsed = World::billing_events(&events, "delinquency_lapsed");
    assert_eq!(
        lapsed,
        vec![&CollectionsEvent::DelinquencyLapsed {
            account: "A1".into(),
            delinquency: "A1-Q1".into(),
            on: date(2021, 7, 2),
            effective: date(2021, 7, 2),
            cancellations: vec![LapseCancellation {
                policy: "P1".into(),
                transaction: "P1-T3".into()
            }],
        }]
    );
    let policy = world.state.book.policy("P1").unwrap();
    assert!(policy.is_in_force(date(2021, 7, 1)));
    assert!(!policy.is_in_force(date(2021, 7, 2)));
    assert_eq!(policy.transactions[2].actor, crate::engine::LAPSE_ACTOR);
    // The lapse day's credit settled June's 10.00 and part of July; what
    // July still owes is the receivable.
    assert_eq!(world.invoice("A1-I6").outstanding(), dec!(0.00));
    assert_eq!(world.invoice("A1-I7").outstanding(), dec!(135.42));
    assert_eq!(
        world.state.ledger.balance_of(
            LedgerAccount::PremiumReceivableBilled,
            crate::domain::Currency::USD,
            Some("A1")
        ),
        dec!(135.42)
    );
    assert_eq!(world.account().credit, dec!(0.00));
}

#[test]
fn the_first_invoice_paid_confirms_the_term() {
    let (world, _) = the_year();
    assert!(
        world
            .account()
            .confirmed_terms
            .contains(&("P1".to_string(), 1))
    );
}

#[test]
fn running_the_same_date_twice_changes_nothing() {
    let (mut world, _) = the_year();
    let before = world.state.collections.clone();
    let entries = world.state.ledger.len();
    assert_eq!(world.run(date(2021, 12, 31)), vec![]);
    assert_eq!(
        world.run(date(2021, 6, 15)),
        vec![],
        "nor does an earlier date"
    );
    assert_eq!(world.state.collections, before);
    assert_eq!(world.state.ledger.len(), entries);
}

#[test]
fn one_run_over_the_year_gives_the_same_invoices_as_daily_runs() {
    let mut world = World::new();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.pay(dec!(1200.00), date(2020, 12, 20));
    world.run(date(2021, 12, 31));
    let mut daily = World::new();
    daily.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    daily.pay(dec!(1200.00), date(2020, 12, 20));
    daily.run_daily(date(2020, 12, 21), date(2021, 12, 31));
    assert_eq!(world.rows(), daily.rows());
    assert_eq!(world.rows().len(), 12);
    assert_eq!(
        world.account().credit,
        dec!(0.00),
        "the prepayment paid every invoice"
    );
    assert!(world.account().open.is_empty());
}
