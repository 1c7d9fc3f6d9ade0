//! The payment schedule shown before binding is what is billed (seed 002;
//! DOMAIN section 6): a quote of a monthly policy with a 25.00 policy fee and
//! the installment-fee plugin, on a billing calendar (monthly on the 1st, 9
//! days in advance, no weekends, 15 due days), equals invoice for invoice
//! what the billing runs issue once it is bound: dates, due dates, amounts.

use super::plugin::InstallmentFee;
use super::support::*;
use crate::billing::{BillingCalendar, BillingDay, BillingFrequency};
use crate::collections::{BillingCommand, BillingSettings};
use crate::engine::EngineCommand;
use crate::policy::PolicyCommand;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn issue(start: NaiveDate) -> EngineCommand {
    PolicyCommand::IssuePolicy {
        locator: "P1".into(),
        account: "A1".into(),
        product: "auto".into(),
        start,
        plan: None,
        time_zone: "UTC".into(),
        data: data("1200.00", &[("flat:policy-fee", "25.00")]),
        bind: Default::default(),
    }
    .into()
}

/// The monthly auto product with the installment-fee plugin, on the seed 003
/// calendar.
fn world() -> World {
    let mut product = monthly_product();
    product.invoicing_plugin = Some("installment-fee@0.1.0".into());
    product.plans.get_mut("monthly").unwrap().generate_lead_days = 6;
    let mut world = World::with_product(product);
    world.adjuster = Box::new(InstallmentFee::default());
    let mut calendar = BillingCalendar::new(BillingFrequency::Monthly, BillingDay::DayOfMonth(1));
    calendar.bill_in_advance_days = 9;
    world.exec(
        BillingCommand::ConfigureBilling {
            settings: BillingSettings {
                calendar: Some(calendar),
                invoice_due_days: 15,
                ..BillingSettings::default()
            },
        },
        date(2026, 1, 1),
    );
    world
}

/// What a quote of `start` on `day` schedules: issue date, due date, amount.
fn quote(world: &World, start: NaiveDate, day: NaiveDate) -> Vec<(NaiveDate, NaiveDate, Decimal)> {
    let context = at(day);
    let adjuster = world.adjuster.as_ref();
    let events = world
        .state
        .decide_with(&issue(start), &context, &FieldRaters, adjuster)
        .unwrap();
    world
        .state
        .scheduled_invoices(&events, &context, &FieldRaters, adjuster)
        .unwrap()
        .into_iter()
        .map(|i| (i.invoice_date, i.due_date, i.amount))
        .collect()
}

fn billed(world: &World) -> Vec<(NaiveDate, NaiveDate, Decimal)> {
    world.rows().into_iter().map(|r| (r.1, r.2, r.3)).collect()
}

#[test]
fn the_quoted_schedule_is_what_the_billing_runs_invoice() {
    let mut world = world();
    let start = date(2026, 3, 1);
    let quoted = quote(&world, start, date(2026, 2, 10));
    assert_eq!(quoted.len(), 12);
    assert_eq!(
        quoted[0],
        (date(2026, 2, 23), date(2026, 3, 10), dec!(125.00)),
        "the first installment with the 25.00 policy fee, on the calendar's \
         run 9 days before March 1st (Sunday 02-22 moved to Monday 02-23)"
    );
    assert_eq!(
        quoted[1].2,
        dec!(105.00),
        "the plugin's 5.00 from the second"
    );
    assert_eq!(world.state.book.policies.len(), 0, "a quote keeps nothing");

    world.exec(issue(start), date(2026, 2, 10));
    world.pay(dec!(2000.00), date(2026, 2, 10));
    world.run_daily(date(2026, 2, 10), date(2027, 3, 1));
    assert_eq!(billed(&world), quoted);
}

/// A back-dated policy: the quote shows the catch-up invoice as the billing
/// run issues it ([E16]): January to March are due on the binding day
/// (03-12); on this calendar (monthly on the 1st, 9 days in advance) the
/// first run after it is the one for April 1st, on Monday 03-23, which bills
/// them with April's installment, due 15 days later.
#[test]
fn a_back_dated_quote_shows_the_catch_up_invoice() {
    let mut world = world();
    let start = date(2026, 1, 1);
    let quoted = quote(&world, start, date(2026, 3, 12));
    assert_eq!(
        quoted[0],
        (date(2026, 3, 23), date(2026, 4, 7), dec!(425.00)),
        "January to April and the policy fee on one invoice"
    );
    world.exec(issue(start), date(2026, 3, 12));
    world.pay(dec!(2000.00), date(2026, 3, 12));
    world.run_daily(date(2026, 3, 12), date(2027, 1, 1));
    assert_eq!(billed(&world), quoted);
}
