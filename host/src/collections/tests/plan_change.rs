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
    let totals: Vec<(chrono::NaiveDate, Decimal)> = world
        .rows()
        .into_iter()
        .map(|(_, issue, _, total)| (issue, total))
        .collect();
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
    assert_eq!(refused.unwrap_err().code(), "invalid_request");
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
    let totals: Vec<(chrono::NaiveDate, Decimal)> = world
        .rows()
        .into_iter()
        .map(|(_, issue, _, total)| (issue, total))
        .collect();
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
    let totals: Vec<(chrono::NaiveDate, Decimal)> = world
        .rows()
        .into_iter()
        .map(|(_, issue, _, total)| (issue, total))
        .collect();
    let mut expected: Vec<(chrono::NaiveDate, Decimal)> =
        (1..=6).map(|m| (date(2021, m, 1), dec!(100.00))).collect();
    expected.push((date(2021, 7, 1), dec!(300.00)));
    expected.push((date(2021, 10, 1), dec!(300.00)));
    assert_eq!(totals, expected);
    world.assert_replay_rebuilds();
}

