//! [E15]: a reinstatement closes the delinquency that lapsed the policy.
//! Due 2026-03-01, 30 days of grace and a 10.00 late fee: the fee is charged
//! once and the policy lapses from 2026-04-01. Reinstated without a gap on
//! 2026-04-10 while the March invoice still owes, a new delinquency starts on
//! 2026-04-10 with grace to 2026-05-10 and no second fee; unpaid, the policy
//! lapses again from 2026-05-11; paid in full before, nothing more happens.

use super::support::*;
use crate::collections::{
    BillingCommand, BillingSettings, CollectionsEvent, DelinquencyPlan, DelinquencyScope,
    DelinquencyStatus, FeeReason,
};
use crate::engine::TenantEvent;
use crate::policy::PolicyCommand;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// The late fees charged in the whole log.
fn late_fees(world: &World) -> Vec<Decimal> {
    world
        .log
        .iter()
        .filter_map(|e| match e {
            TenantEvent::Collections(CollectionsEvent::FeesCharged { fees, .. }) => Some(fees),
            _ => None,
        })
        .flatten()
        .filter(|f| matches!(f.reason, FeeReason::LateFee { .. }))
        .map(|f| f.amount.amount)
        .collect()
}

/// A monthly policy of 1200.00 a year from 2026-03-01 whose first invoice is
/// never paid: it lapses from 2026-04-01 and is reinstated without a gap on
/// 2026-04-10. Returns the reinstatement's events.
fn lapsed_and_reinstated(scope: DelinquencyScope) -> (World, Vec<TenantEvent>) {
    let mut world = World::new();
    world.exec(
        BillingCommand::ConfigureBilling {
            settings: BillingSettings {
                delinquency: DelinquencyPlan {
                    grace_days: 30,
                    late_fee: dec!(10.00),
                    scope,
                    ..DelinquencyPlan::default()
                },
                ..BillingSettings::default()
            },
        },
        date(2026, 2, 1),
    );
    world.issue("P1", date(2026, 3, 1), "1200.00", date(2026, 2, 15));
    world.run_daily(date(2026, 2, 15), date(2026, 4, 9));
    let lapsed = world.account().delinquency("A1-Q1").unwrap().clone();
    assert_eq!(
        (lapsed.started_on, lapsed.due_date, lapsed.grace_end),
        (date(2026, 3, 2), date(2026, 3, 1), date(2026, 3, 31))
    );
    assert_eq!(
        lapsed.status,
        DelinquencyStatus::Lapsed {
            on: date(2026, 4, 1),
            effective: date(2026, 4, 1)
        }
    );
    assert!(
        !world
            .state
            .book
            .policy("P1")
            .unwrap()
            .is_in_force(date(2026, 4, 1))
    );
    assert_eq!(late_fees(&world), vec![dec!(10.00)]);
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(100.00));

    let events = world.exec(
        PolicyCommand::Reinstate {
            policy: "P1".into(),
            effective: date(2026, 4, 1),
        },
        date(2026, 4, 10),
    );
    (world, events)
}

#[test]
fn a_reinstatement_closes_the_lapsed_delinquency_and_starts_a_new_one_from_that_day() {
    let (world, events) = lapsed_and_reinstated(DelinquencyScope::PerPolicy);
    let reinstatement = world
        .state
        .book
        .policy("P1")
        .unwrap()
        .transactions
        .last()
        .unwrap()
        .locator
        .clone();
    assert_eq!(
        World::billing_events(&events, "delinquency_closed_by_reinstatement"),
        vec![&CollectionsEvent::DelinquencyClosedByReinstatement {
            account: "A1".into(),
            delinquency: "A1-Q1".into(),
            on: date(2026, 4, 10),
            policy: "P1".into(),
            transaction: reinstatement.clone(),
            successor: Some("A1-Q2".into()),
            grace: vec![],
        }]
    );
    let closed = world.account().delinquency("A1-Q1").unwrap();
    assert_eq!(
        closed.status,
        DelinquencyStatus::ClosedByReinstatement {
            on: date(2026, 4, 10),
            policy: "P1".into(),
            transaction: reinstatement,
            successor: Some("A1-Q2".into()),
        }
    );
    let successor = world.account().delinquency("A1-Q2").unwrap();
    assert_eq!(successor.follows.as_deref(), Some("A1-Q1"));
    assert_eq!(successor.policies, vec!["P1".to_string()]);
    assert!(successor.invoices.contains(&"A1-I1".to_string()));
    assert_eq!(
        (successor.started_on, successor.grace_end),
        (date(2026, 4, 10), date(2026, 5, 10))
    );
    assert_eq!(successor.status, DelinquencyStatus::InGrace);
    assert_eq!(late_fees(&world), vec![dec!(10.00)], "no second late fee");
    world.assert_replay_rebuilds();
}

/// Late fees of the delinquencies named.
fn late_fees_of(world: &World, delinquencies: &[&str]) -> Vec<Decimal> {
    world
        .log
        .iter()
        .filter_map(|e| match e {
            TenantEvent::Collections(CollectionsEvent::FeesCharged { fees, .. }) => Some(fees),
            _ => None,
        })
        .flatten()
        .filter(|f| {
            matches!(&f.reason, FeeReason::LateFee { delinquency } if delinquencies.contains(&delinquency.as_str()))
        })
        .map(|f| f.amount.amount)
        .collect()
}

/// Runs the reinstated world through 2026-05-31 and checks the policy lapses
/// again from 2026-05-11 for the successor, the closed one never reopened.
fn unpaid_through_may(scope: DelinquencyScope) -> World {
    let (mut world, _) = lapsed_and_reinstated(scope);
    world.run_daily(date(2026, 4, 10), date(2026, 5, 10));
    assert!(
        world
            .state
            .book
            .policy("P1")
            .unwrap()
            .is_in_force(date(2026, 5, 10)),
        "{scope:?}"
    );
    assert_eq!(
        world.account().delinquency("A1-Q2").unwrap().status,
        DelinquencyStatus::InGrace,
        "{scope:?}"
    );
    world.run_daily(date(2026, 5, 11), date(2026, 5, 31));
    assert!(
        matches!(
            world.account().delinquency("A1-Q1").unwrap().status,
            DelinquencyStatus::ClosedByReinstatement { .. }
        ),
        "{scope:?}: no run reopened the lapsed delinquency"
    );
    assert_eq!(
        world.account().delinquency("A1-Q2").unwrap().status,
        DelinquencyStatus::Lapsed {
            on: date(2026, 5, 11),
            effective: date(2026, 5, 11)
        },
        "{scope:?}"
    );
    let policy = world.state.book.policy("P1").unwrap();
    assert!(policy.is_in_force(date(2026, 5, 10)), "{scope:?}");
    assert!(!policy.is_in_force(date(2026, 5, 11)), "{scope:?}");
    assert_eq!(
        late_fees_of(&world, &["A1-Q1", "A1-Q2"]),
        vec![dec!(10.00)],
        "{scope:?}: the March invoice is charged one late fee"
    );
    world.assert_replay_rebuilds();
    world
}

/// [E15], unpaid: the policy lapses again from 2026-05-11, with one late fee
/// of 10.00 in all.
#[test]
fn unpaid_after_a_reinstatement_the_policy_lapses_again_the_day_after_the_fresh_grace() {
    let world = unpaid_through_may(DelinquencyScope::PerPolicy);
    assert_eq!(
        world.rows(),
        vec![
            row("A1-I1", date(2026, 3, 1), date(2026, 3, 1), dec!(100.00)),
            // April withdrawn by the lapse; the short-rate holdback and the late fee.
            row("A1-I2", date(2026, 4, 1), date(2026, 4, 1), dec!(120.00)),
            // April and May billed again, the holdback given back.
            row("A1-I3", date(2026, 5, 1), date(2026, 5, 1), dec!(90.00)),
            // The second lapse, from 05-11: June on have no day in force and
            // are netted; billed once on the lapse day, the credit for May
            // 11-31 (-67.74) and the 10% holdback on the 967.74 returned
            // (96.77).
            row("A1-I4", date(2026, 5, 11), date(2026, 5, 11), dec!(29.03)),
        ]
    );
    let lapsed_on: Vec<(String, NaiveDate)> = world
        .log
        .iter()
        .filter_map(|e| match e {
            TenantEvent::Collections(CollectionsEvent::DelinquencyLapsed {
                delinquency,
                effective,
                ..
            }) => Some((delinquency.clone(), *effective)),
            _ => None,
        })
        .collect();
    assert_eq!(
        lapsed_on,
        vec![
            ("A1-Q1".to_string(), date(2026, 4, 1)),
            ("A1-Q2".to_string(), date(2026, 5, 11))
        ]
    );
    assert_eq!(world.account().delinquencies.len(), 2);
    assert_eq!(late_fees(&world), vec![dec!(10.00)], "one late fee in all");
}

/// Per invoice, the same: the March invoice's delinquency is closed, its
/// successor (which also takes the April invoice that fell past due while
/// the policy was lapsed) lapses the policy again from 2026-05-11.
#[test]
fn per_invoice_a_reinstated_invoice_lapses_again_without_a_second_fee() {
    let world = unpaid_through_may(DelinquencyScope::PerInvoice);
    assert_eq!(
        world.account().delinquency("A1-Q2").unwrap().invoices,
        vec!["A1-I1".to_string(), "A1-I2".to_string()]
    );
}

/// [E15], paid in full before grace ends: nothing more happens.
#[test]
fn paid_in_full_after_a_reinstatement_nothing_more_happens() {
    let (mut world, _) = lapsed_and_reinstated(DelinquencyScope::PerPolicy);
    world.run_daily(date(2026, 4, 10), date(2026, 5, 9));
    let owed = world.account().open_balance();
    let events = world.pay(owed, date(2026, 5, 9));
    assert_eq!(
        World::billing_events(&events, "delinquency_ended"),
        vec![&CollectionsEvent::DelinquencyEnded {
            account: "A1".into(),
            delinquency: "A1-Q2".into(),
            on: date(2026, 5, 9)
        }]
    );
    world.run_daily(date(2026, 5, 10), date(2026, 5, 31));
    assert!(
        world
            .state
            .book
            .policy("P1")
            .unwrap()
            .is_in_force(date(2026, 5, 31))
    );
    assert_eq!(
        world.account().delinquencies.len(),
        2,
        "no delinquency after"
    );
    assert_eq!(late_fees(&world), vec![dec!(10.00)]);
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(0));
    world.assert_replay_rebuilds();
}

/// Reversing the lapse's cancellation puts the policy back in force as a
/// reinstatement without a gap does, and closes the delinquency the same way.
#[test]
fn reversing_the_lapse_cancellation_closes_the_delinquency_like_a_reinstatement() {
    let mut world = World::new();
    world.exec(
        BillingCommand::ConfigureBilling {
            settings: BillingSettings {
                delinquency: DelinquencyPlan {
                    late_fee: dec!(10.00),
                    ..DelinquencyPlan::default()
                },
                ..BillingSettings::default()
            },
        },
        date(2026, 2, 1),
    );
    world.issue("P1", date(2026, 3, 1), "1200.00", date(2026, 2, 15));
    world.run_daily(date(2026, 2, 15), date(2026, 4, 9));
    let cancellation = world
        .log
        .iter()
        .find_map(|e| match e {
            TenantEvent::Collections(CollectionsEvent::DelinquencyLapsed {
                cancellations, ..
            }) => Some(cancellations[0].transaction.clone()),
            _ => None,
        })
        .unwrap();
    let events = world.exec(
        PolicyCommand::Reverse {
            policy: "P1".into(),
            transaction: cancellation,
        },
        date(2026, 4, 10),
    );
    assert_eq!(
        World::billing_events(&events, "delinquency_closed_by_reinstatement").len(),
        1
    );
    let successor = world.account().delinquency("A1-Q2").unwrap();
    assert_eq!(
        (
            successor.started_on,
            successor.grace_end,
            successor.follows.as_deref()
        ),
        (date(2026, 4, 10), date(2026, 5, 10), Some("A1-Q1"))
    );
    world.run_daily(date(2026, 4, 10), date(2026, 5, 10));
    assert!(
        world
            .state
            .book
            .policy("P1")
            .unwrap()
            .is_in_force(date(2026, 5, 10))
    );
    assert_eq!(late_fees(&world), vec![dec!(10.00)]);
    world.assert_replay_rebuilds();
}
