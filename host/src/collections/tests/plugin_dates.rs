//! The invoicing plugin's `schedule-dates`, called when a term's installments
//! are laid out: a native plugin that invoices each installment on the
//! previous business day when it falls on a weekend and makes it due ten days
//! after its start. The dates it gives are in the stored slices and on the
//! invoices billing runs issue; replaying the log never asks it again. Bad
//! dates refuse the command and change nothing.

use super::support::*;
use crate::billing::{Cadence, InstallmentPlan};
use crate::collections::{BillingCommand, InvoiceAdjuster};
use crate::engine::EngineError;
use crate::invoicing::{DraftInvoice, InstallmentDates, InvoiceAdjustments, ScheduleInstallment};
use crate::policy::{InstallmentDatesError, PolicyError};
use chrono::{Datelike, NaiveDate, Weekday};
use rust_decimal_macros::dec;
use std::sync::{Arc, Mutex};

const PLUGIN: &str = "dates@1";

/// The previous business day of `day` when it falls on a weekend.
fn business_day_on_or_before(day: NaiveDate) -> NaiveDate {
    match day.weekday() {
        Weekday::Sat => day.pred_opt().unwrap(),
        Weekday::Sun => day.pred_opt().unwrap().pred_opt().unwrap(),
        _ => day,
    }
}

/// Moves dates as its `answer` says; remembers every schedule it was shown.
struct DatePlugin {
    answer: fn(&ScheduleInstallment) -> Option<(NaiveDate, NaiveDate)>,
    seen: Arc<Mutex<Vec<Vec<ScheduleInstallment>>>>,
}

impl DatePlugin {
    fn new(answer: fn(&ScheduleInstallment) -> Option<(NaiveDate, NaiveDate)>) -> DatePlugin {
        DatePlugin {
            answer,
            seen: Arc::default(),
        }
    }
}

impl InvoiceAdjuster for DatePlugin {
    fn adjust(&self, plugin_id: &str, _draft: &DraftInvoice) -> Result<InvoiceAdjustments, String> {
        assert_eq!(plugin_id, PLUGIN);
        Ok(InvoiceAdjustments {
            lines: vec![],
            due_date: None,
        })
    }

    fn schedule_dates(
        &self,
        plugin_id: &str,
        currency: &str,
        installments: &[ScheduleInstallment],
    ) -> Result<Vec<InstallmentDates>, String> {
        assert_eq!((plugin_id, currency), (PLUGIN, "USD"));
        self.seen.lock().unwrap().push(installments.to_vec());
        Ok(installments
            .iter()
            .filter_map(|i| {
                (self.answer)(i).map(|(generate_date, due_date)| InstallmentDates {
                    locator: i.locator.clone(),
                    generate_date,
                    due_date,
                })
            })
            .collect())
    }
}

/// Previous business day to invoice, due ten days after the start.
fn business_days(i: &ScheduleInstallment) -> Option<(NaiveDate, NaiveDate)> {
    let due = i.period.start + chrono::Days::new(10);
    Some((business_day_on_or_before(i.generate_date), due))
}

/// The monthly auto product (and a quarterly plan) dated by [`PLUGIN`], with
/// no delinquency.
fn world_with(plugin: DatePlugin) -> World {
    let mut product = monthly_product();
    product.invoicing_plugin = Some(PLUGIN.into());
    product
        .plans
        .insert("quarterly".into(), InstallmentPlan::new(Cadence::Quarterly));
    let mut world = World::with_product(product);
    world.adjuster = Box::new(plugin);
    world.exec(
        BillingCommand::ConfigureBilling {
            settings: crate::collections::BillingSettings {
                delinquency: crate::collections::DelinquencyPlan {
                    enabled: false,
                    ..Default::default()
                },
                ..Default::default()
            },
        },
        date(2020, 12, 1),
    );
    world
}

/// The invoice and due dates of `policy`'s stored slices, in order.
fn slice_dates(world: &World, policy: &str) -> Vec<(NaiveDate, NaiveDate)> {
    world
        .state
        .book
        .policy(policy)
        .unwrap()
        .slices
        .iter()
        .map(|s| (s.invoice_date, s.due_date))
        .collect()
}

/// The world's book, billing and ledger are as they were `before`.
fn assert_nothing_stored(world: &World, before: &crate::engine::TenantState) {
    assert_eq!(world.state.book, before.book, "nothing is stored");
    assert_eq!(world.state.collections, before.collections);
    assert_eq!(world.state.ledger.entries(), before.ledger.entries());
}

#[test]
fn installments_are_invoiced_on_the_business_day_the_plugin_gives_and_due_when_it_says() {
    let mut world = world_with(DatePlugin::new(business_days));
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    let slices = slice_dates(&world, "P1");
    assert_eq!(slices.len(), 12);
    assert_eq!(
        slices[..8],
        [
            (date(2021, 1, 1), date(2021, 1, 11)),
            (date(2021, 2, 1), date(2021, 2, 11)),
            (date(2021, 3, 1), date(2021, 3, 11)),
            (date(2021, 4, 1), date(2021, 4, 11)),
            // 2021-05-01 is a Saturday.
            (date(2021, 4, 30), date(2021, 5, 11)),
            (date(2021, 6, 1), date(2021, 6, 11)),
            (date(2021, 7, 1), date(2021, 7, 11)),
            // 2021-08-01 is a Sunday.
            (date(2021, 7, 30), date(2021, 8, 11)),
        ]
    );
    world.run_daily(date(2021, 1, 1), date(2021, 8, 31));
    assert_eq!(
        world.rows(),
        vec![
            row("A1-I1", date(2021, 1, 1), date(2021, 1, 11), dec!(100.00)),
            row("A1-I2", date(2021, 2, 1), date(2021, 2, 11), dec!(100.00)),
            row("A1-I3", date(2021, 3, 1), date(2021, 3, 11), dec!(100.00)),
            row("A1-I4", date(2021, 4, 1), date(2021, 4, 11), dec!(100.00)),
            row("A1-I5", date(2021, 4, 30), date(2021, 5, 11), dec!(100.00)),
            row("A1-I6", date(2021, 6, 1), date(2021, 6, 11), dec!(100.00)),
            row("A1-I7", date(2021, 7, 1), date(2021, 7, 11), dec!(100.00)),
            row("A1-I8", date(2021, 7, 30), date(2021, 8, 11), dec!(100.00)),
        ]
    );
    world.assert_replay_rebuilds();
}

#[test]
fn the_plugin_is_shown_each_installment_with_its_plan_dates_and_what_it_bills() {
    let plugin = DatePlugin::new(business_days);
    let seen = Arc::clone(&plugin.seen);
    let mut world = world_with(plugin);
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.len(),
        2,
        "asked once when the term is laid out, by the preview and by the commit"
    );
    assert_eq!(seen[0], seen[1]);
    let may = &seen[0][4];
    assert_eq!(may.locator, "P1-T1-I5");
    assert_eq!(may.policy, "P1");
    assert_eq!(may.number, 5);
    assert_eq!(
        (may.period.start, may.period.end),
        (date(2021, 5, 1), date(2021, 6, 1))
    );
    assert_eq!(
        (may.generate_date, may.due_date),
        (date(2021, 5, 1), date(2021, 5, 1))
    );
    assert_eq!(may.amount, dec!(100.00));
    assert_eq!(seen[0].len(), 12);
}

#[test]
fn an_endorsement_bills_its_change_on_the_invoices_of_the_dates_the_plugin_gave() {
    let mut world = world_with(DatePlugin::new(business_days));
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run_daily(date(2021, 1, 1), date(2021, 3, 31));
    world.endorse("P1", date(2021, 4, 1), "2400.00", date(2021, 3, 31));
    world.run_daily(date(2021, 4, 1), date(2021, 5, 31));
    let rows = world.rows();
    assert_eq!(
        rows[3..],
        [
            row("A1-I4", date(2021, 4, 1), date(2021, 4, 11), dec!(200.00)),
            row("A1-I5", date(2021, 4, 30), date(2021, 5, 11), dec!(200.00)),
        ],
        "one invoice a month, on the plugin's dates, with the endorsed premium"
    );
    world.assert_replay_rebuilds();
}

#[test]
fn a_plugin_that_moves_nothing_bills_exactly_as_a_product_without_one() {
    let mut without = World::without_delinquency();
    without.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    without.run_daily(date(2021, 1, 1), date(2021, 6, 30));
    let mut keeping = world_with(DatePlugin::new(|_| None));
    keeping.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    keeping.run_daily(date(2021, 1, 1), date(2021, 6, 30));
    assert_eq!(slice_dates(&keeping, "P1"), slice_dates(&without, "P1"));
    assert_eq!(keeping.rows(), without.rows());
    assert_eq!(keeping.rows()[4].1, date(2021, 5, 1));
}

#[test]
fn a_plan_change_lays_out_the_new_plans_installments_on_the_plugins_dates() {
    let mut world = world_with(DatePlugin::new(business_days));
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run_daily(date(2021, 1, 1), date(2021, 3, 19));
    world.exec(
        BillingCommand::ChangePlan {
            policy: "P1".into(),
            plan: "quarterly".into(),
            effective: date(2021, 3, 20),
        },
        date(2021, 3, 20),
    );
    world.run_daily(date(2021, 3, 20), date(2021, 12, 31));
    assert_eq!(
        world.rows()[3..],
        [
            row("A1-I4", date(2021, 4, 1), date(2021, 4, 11), dec!(300.00)),
            row("A1-I5", date(2021, 7, 1), date(2021, 7, 11), dec!(300.00)),
            // 2021-10-01 is a Friday: only the due date moves.
            row("A1-I6", date(2021, 10, 1), date(2021, 10, 11), dec!(300.00)),
        ]
    );
    world.assert_replay_rebuilds();
}

#[test]
fn an_invoice_date_after_its_due_date_refuses_the_issue_and_changes_nothing() {
    let mut world = world_with(DatePlugin::new(|i| {
        Some((i.period.start + chrono::Days::new(5), i.period.start))
    }));
    let before = world.state.clone();
    let refused = world.try_exec(issue_from_2021("P1", "A1", "1200.00"), date(2020, 12, 15));
    let Err(EngineError::Policy(PolicyError::InstallmentDates(error))) = refused else {
        panic!("refused for its dates: {refused:?}");
    };
    assert_eq!(
        error,
        InstallmentDatesError::InvoicedAfterDue {
            plugin: PLUGIN.into(),
            locator: "P1-T1-I1".into(),
            invoice_date: date(2021, 1, 6),
            due_date: date(2021, 1, 1),
        }
    );
    assert_eq!(
        EngineError::Policy(PolicyError::InstallmentDates(error)).code(),
        "invalid_installment_dates"
    );
    assert_nothing_stored(&world, &before);
}

#[test]
fn a_due_date_past_the_installments_end_refuses_a_plan_change_and_changes_nothing() {
    // Quarterly installments may be due 40 days after they start; monthly
    // ones may not.
    let mut world = world_with(DatePlugin::new(|i| {
        let due = i.period.start + chrono::Days::new(40);
        (due < i.period.end).then_some((i.generate_date, due))
    }));
    world.issue_with(
        "P1",
        "A1",
        date(2021, 1, 1),
        data("1200.00", &[]),
        Some("quarterly"),
        date(2020, 12, 15),
    );
    assert_eq!(
        slice_dates(&world, "P1")[0],
        (date(2021, 1, 1), date(2021, 2, 10))
    );
    world.adjuster = Box::new(DatePlugin::new(|i| {
        Some((i.generate_date, i.period.start + chrono::Days::new(40)))
    }));
    let before = world.state.clone();
    let refused = world.try_exec(
        BillingCommand::ChangePlan {
            policy: "P1".into(),
            plan: "monthly".into(),
            effective: date(2021, 1, 1),
        },
        date(2021, 1, 1),
    );
    let Err(error) = refused else {
        panic!("the plan change is refused");
    };
    assert_eq!(error.code(), "invalid_installment_dates");
    assert!(
        error
            .to_string()
            .contains("due on 2021-02-10, after its last day 2021-01-31"),
        "{error}"
    );
    assert_nothing_stored(&world, &before);
}

#[test]
fn a_failing_plugin_refuses_the_issue_with_the_invoicing_plugin_code() {
    struct Failing;
    impl InvoiceAdjuster for Failing {
        fn adjust(&self, _: &str, _: &DraftInvoice) -> Result<InvoiceAdjustments, String> {
            unreachable!("nothing is invoiced")
        }
        fn schedule_dates(
            &self,
            _: &str,
            _: &str,
            _: &[ScheduleInstallment],
        ) -> Result<Vec<InstallmentDates>, String> {
            Err("plugin_trap: unreachable".into())
        }
    }
    let mut world = world_with(DatePlugin::new(|_| None));
    world.adjuster = Box::new(Failing);
    let refused = world.try_exec(issue_from_2021("P1", "A1", "1200.00"), date(2020, 12, 15));
    let error = refused.unwrap_err();
    assert_eq!(error.code(), "invoicing_plugin_failed");
    assert!(world.state.book.policies.is_empty());
}
