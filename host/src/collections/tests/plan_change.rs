//! Changing a live term's payment plan: the installments not yet invoiced are
//! re-spread over the new plan.

use super::support::*;
use crate::billing::{Cadence, InstallmentPlan};
use crate::collections::BillingCommand;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn with_quarterly() -> World {
    let mut product = monthly_product();
    product
        .plans
        .insert("quarterly".into(), InstallmentPlan::new(Cadence::Quarterly));
    let mut world = World::with_product(product);
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.pay(dec!(1200.00), date(2020, 12, 20));
    world.run_daily(date(2021, 1, 1), date(2021, 3, 19));
    world
}

/// Every invoice of the world: issue date and total.
fn issued(world: &World) -> Vec<(chrono::NaiveDate, Decimal)> {
    world
        .rows()
        .into_iter()
        .map(|(_, issue, _, total)| (issue, total))
        .collect()
}

fn change(world: &mut World, plan: &str, effective: chrono::NaiveDate) {
    world.exec(
        BillingCommand::ChangePlan {
            policy: "P1".into(),
            plan: plan.into(),
            effective,
        },
        effective,
    );
}

#[test]
fn moving_to_quarterly_in_march_re_spreads_the_nine_months_left_over_three_quarters() {
    let mut world = with_quarterly();
    change(&mut world, "quarterly", date(2021, 3, 20));
    world.run_daily(date(2021, 3, 20), date(2021, 12, 31));
    let totals = issued(&world);
    assert_eq!(
        totals,
        vec![
            (date(2021, 1, 1), dec!(100.00)),
            (date(2021, 2, 1), dec!(100.00)),
            (date(2021, 3, 1), dec!(100.00)),
            (date(2021, 4, 1), dec!(300.00)),
            (date(2021, 7, 1), dec!(300.00)),
            (date(2021, 10, 1), dec!(300.00)),
        ]
    );
    let policy = world.state.book.policy("P1").unwrap();
    assert_eq!(policy.terms[0].plan, "quarterly");
    let slices: Decimal = policy.slices.iter().map(|s| s.amount.amount).sum();
    assert_eq!(slices, dec!(1200.00), "the slices still sum to the premium");
    world.assert_replay_rebuilds();
}

#[test]
fn moving_to_full_pay_mid_term_bills_the_rest_at_once() {
    let mut world = with_quarterly();
    change(&mut world, "annual", date(2021, 3, 20));
    assert_eq!(world.account().invoices.len(), 3);
    world.run(date(2021, 3, 20));
    assert_eq!(
        world.rows()[3],
        row("A1-I4", date(2021, 3, 20), date(2021, 3, 20), dec!(900.00))
    );
    world.run_daily(date(2021, 3, 21), date(2021, 12, 31));
    assert_eq!(world.account().invoices.len(), 4, "nothing is left to bill");
}

#[test]
fn changing_to_the_plan_already_in_force_is_refused() {
    let mut world = with_quarterly();
    let refused = world.try_exec(
        BillingCommand::ChangePlan {
            policy: "P1".into(),
            plan: "monthly".into(),
            effective: date(2021, 3, 20),
        },
        date(2021, 3, 20),
    );
    assert_eq!(refused.unwrap_err().code(), "plan_unchanged");
}

#[test]
fn after_a_change_to_quarterly_a_july_to_december_charge_is_billed_only_in_the_quarters_it_covers()
{
    let mut world = with_quarterly();
    // 1200.00 a year raised to 2400.00 from July: +600.00 for July-December.
    world.endorse("P1", date(2021, 7, 1), "2400.00", date(2021, 3, 19));
    world.pay(dec!(600.00), date(2021, 3, 19));
    change(&mut world, "quarterly", date(2021, 3, 20));
    world.run_daily(date(2021, 3, 20), date(2021, 12, 31));
    let totals = issued(&world);
    assert_eq!(
        totals,
        vec![
            (date(2021, 1, 1), dec!(100.00)),
            (date(2021, 2, 1), dec!(100.00)),
            (date(2021, 3, 1), dec!(100.00)),
            (date(2021, 4, 1), dec!(300.00)),
            (date(2021, 7, 1), dec!(600.00)),
            (date(2021, 10, 1), dec!(600.00)),
        ]
    );
    world.assert_replay_rebuilds();
}

#[test]
fn on_a_future_dated_policy_a_change_from_july_leaves_january_to_june_on_the_old_plan() {
    let mut product = monthly_product();
    product
        .plans
        .insert("quarterly".into(), InstallmentPlan::new(Cadence::Quarterly));
    let mut world = World::with_product(product);
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 11, 15));
    world.exec(
        BillingCommand::ChangePlan {
            policy: "P1".into(),
            plan: "quarterly".into(),
            effective: date(2021, 7, 1),
        },
        date(2020, 11, 16),
    );
    world.pay(dec!(1200.00), date(2020, 12, 20));
    world.run_daily(date(2020, 11, 16), date(2021, 12, 31));
    let totals = issued(&world);
    let mut expected: Vec<(chrono::NaiveDate, Decimal)> =
        (1..=6).map(|m| (date(2021, m, 1), dec!(100.00))).collect();
    expected.push((date(2021, 7, 1), dec!(300.00)));
    expected.push((date(2021, 10, 1), dec!(300.00)));
    assert_eq!(totals, expected);
    world.assert_replay_rebuilds();
}

/// Found by the lifecycle property test: a cancellation after a plan change
/// must still net the installments the new plan has pending ([E14]). The
/// installments the change superseded and the slices withdrawing them were
/// taken for invoiced ones, so every frame looked billed: the cancellation's
/// credit was all refunded at once and the new plan's installments for the
/// months after the cancellation were invoiced anyway, one a month.
#[test]
fn a_cancellation_after_a_plan_change_nets_the_new_plans_installments() {
    let mut world = with_quarterly();
    change(&mut world, "quarterly", date(2021, 3, 20));
    world.exec(
        crate::policy::PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: date(2021, 7, 1),
            reason: Default::default(),
        },
        date(2021, 3, 25),
    );
    world.run_daily(date(2021, 3, 25), date(2021, 12, 31));
    let totals = issued(&world);
    // January to March (paid), the second quarter with the cancellation's
    // 10% holdback (60.00), and nothing for the third and fourth: they are
    // netted, not refunded now and billed later.
    assert_eq!(
        totals,
        vec![
            (date(2021, 1, 1), dec!(100.00)),
            (date(2021, 2, 1), dec!(100.00)),
            (date(2021, 3, 1), dec!(100.00)),
            (date(2021, 4, 1), dec!(360.00)),
        ]
    );
    let policy = world.state.book.policy("P1").unwrap();
    let slices: Decimal = policy.slices.iter().map(|s| s.amount.amount).sum();
    assert_eq!(slices, dec!(600.00), "the slices sum to the premium left");
    world.assert_replay_rebuilds();
}

/// Found by the lifecycle property test: a plan change after a cancellation
/// re-spread what was still pending over every installment of the new plan,
/// the cancelled months included: the premium left for the months still in
/// force was billed, and the cancellation's caught-up credit refunded, a
/// little every month after the cancellation ([E14]: nothing is billed and
/// no refund drip-fed in frames after a cancellation).
#[test]
fn a_plan_change_after_a_cancellation_bills_nothing_after_it() {
    let mut world = with_quarterly();
    world.exec(
        crate::policy::PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: date(2021, 5, 10),
            reason: Default::default(),
        },
        date(2021, 3, 20),
    );
    change(&mut world, "quarterly", date(2021, 3, 20));
    world.run_daily(date(2021, 3, 20), date(2021, 12, 31));
    let totals = issued(&world);
    // April to 9 May (1 month and 9 of May's 31 days: 129.03) and the 10%
    // holdback of the 770.97 returned (77.10), on the second quarter's
    // invoice; nothing after.
    assert_eq!(
        totals,
        vec![
            (date(2021, 1, 1), dec!(100.00)),
            (date(2021, 2, 1), dec!(100.00)),
            (date(2021, 3, 1), dec!(100.00)),
            (date(2021, 4, 1), dec!(206.13)),
        ]
    );
    world.assert_replay_rebuilds();
}
