//! Seed 001 (how flat charges are invoiced) and seed 003 (the billing
//! calendar, invoices with nothing outstanding, separating invoices).

use super::support::*;
use crate::billing::{BillingCalendar, BillingDay, BillingFrequency};
use crate::collections::{
    AccountOverrides, BillingCommand, BillingSettings, DelinquencyPlan, ItemKind, SeparateBy,
};
use crate::policy::{Invoicing, PolicyCommand};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn flat(
    world: &mut World,
    policy: Option<&str>,
    charge: &str,
    amount: Decimal,
    day: chrono::NaiveDate,
) {
    world.exec(
        PolicyCommand::AddFlatCharge {
            account: "A1".into(),
            policy: policy.map(str::to_string),
            charge: charge.into(),
            amount,
            invoicing: None,
            description: String::new(),
        },
        day,
    );
}

fn kinds_and_amounts(world: &World, invoice: &str) -> Vec<(ItemKind, String, Decimal)> {
    world
        .invoice(invoice)
        .invoice
        .items
        .iter()
        .map(|i| (i.kind, i.charge_name.clone(), i.amount.amount))
        .collect()
}

fn monthly_policy() -> World {
    let mut world = World::without_delinquency();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 1, 1));
    world
}

#[test]
fn an_immediate_flat_charge_is_invoiced_at_once_with_the_pending_next_charges() {
    let mut world = monthly_policy();
    flat(
        &mut world,
        Some("P1"),
        "policy-fee",
        dec!(25.00),
        date(2021, 1, 5),
    );
    assert_eq!(world.account().invoices.len(), 1, "a next charge waits");
    flat(
        &mut world,
        Some("P1"),
        "service-fee",
        dec!(10.00),
        date(2021, 1, 10),
    );
    assert_eq!(
        world.rows()[1],
        row("A1-I2", date(2021, 1, 10), date(2021, 1, 10), dec!(35.00))
    );
    assert_eq!(
        kinds_and_amounts(&world, "A1-I2"),
        vec![
            (ItemKind::Charge, "service-fee".into(), dec!(10.00)),
            (ItemKind::Charge, "policy-fee".into(), dec!(25.00)),
        ]
    );
    world.run(date(2021, 2, 1));
    assert_eq!(
        world.rows()[2],
        row("A1-I3", date(2021, 2, 1), date(2021, 2, 1), dec!(100.00)),
        "the next charge is not billed twice"
    );
}

#[test]
fn a_next_flat_charge_rides_on_the_policys_next_installment() {
    let mut world = monthly_policy();
    flat(
        &mut world,
        Some("P1"),
        "policy-fee",
        dec!(25.00),
        date(2021, 1, 5),
    );
    world.run(date(2021, 2, 1));
    assert_eq!(
        kinds_and_amounts(&world, "A1-I2"),
        vec![
            (ItemKind::Installment, "premium".into(), dec!(100.00)),
            (ItemKind::Charge, "policy-fee".into(), dec!(25.00)),
        ]
    );
    let item = &world.invoice("A1-I2").invoice.items[1];
    assert_eq!(item.charge, "P1-F2", "the policy's second charge");
    assert_eq!(item.policy.as_deref(), Some("P1"));
}

#[test]
fn a_next_flat_charge_of_a_policy_with_nothing_left_to_invoice_is_billed_at_once() {
    let mut world = World::new();
    world.issue_with(
        "P1",
        "A1",
        date(2021, 1, 1),
        data("1200.00", &[]),
        Some("annual"),
        date(2020, 12, 15),
    );
    world.run(date(2021, 1, 1));
    flat(
        &mut world,
        Some("P1"),
        "policy-fee",
        dec!(25.00),
        date(2021, 3, 1),
    );
    assert_eq!(
        world.rows(),
        vec![
            row("A1-I1", date(2021, 1, 1), date(2021, 1, 1), dec!(1200.00)),
            row("A1-I2", date(2021, 3, 1), date(2021, 3, 1), dec!(25.00)),
        ]
    );
}

#[test]
fn an_accounts_own_flat_charge_waits_for_the_accounts_next_invoice() {
    let mut world = monthly_policy();
    flat(
        &mut world,
        None,
        "policy-fee",
        dec!(15.00),
        date(2021, 1, 5),
    );
    assert_eq!(world.account().invoices.len(), 1);
    world.run(date(2021, 2, 1));
    assert_eq!(
        kinds_and_amounts(&world, "A1-I2"),
        vec![
            (ItemKind::Installment, "premium".into(), dec!(100.00)),
            (ItemKind::Charge, "policy-fee".into(), dec!(15.00)),
        ]
    );
    assert_eq!(world.invoice("A1-I2").invoice.items[1].policy, None);
}

#[test]
fn reversing_an_immediate_charge_bills_its_inverse_on_a_credit_invoice_linked_to_it() {
    let mut world = monthly_policy();
    flat(
        &mut world,
        Some("P1"),
        "service-fee",
        dec!(10.00),
        date(2021, 1, 10),
    );
    world.exec(
        PolicyCommand::ReverseCharges {
            account: "A1".into(),
            charges: vec!["P1-F2".into()],
        },
        date(2021, 1, 12),
    );
    let credit = &world.invoice("A1-I3").invoice;
    assert_eq!(credit.total.amount, dec!(-10.00));
    assert_eq!(credit.items[0].corrects.as_deref(), Some("A1-I2-1"));
    assert_eq!(credit.items[0].amount.amount, dec!(-10.00));
    assert_eq!(
        world
            .state
            .book
            .policy("P1")
            .unwrap()
            .charges
            .last()
            .unwrap()
            .invoicing,
        Invoicing::Immediate
    );
    // The credit is applied to the open invoices as it is generated.
    assert_eq!(world.invoice("A1-I1").outstanding(), dec!(90.00));
}

/// Seed 003: monthly on the 1st, 9 days in advance, no weekends, 15 due days.
/// The run of Monday 2024-04-22 bills the installment generated 04-25 (its
/// cut-off is 05-01), issued 04-25 and due 05-10; July's run falls on
/// Saturday 06-22 and moves to Friday 06-21.
#[test]
fn the_billing_calendar_runs_in_advance_off_weekends_and_gives_due_days() {
    let mut product = monthly_product();
    product.plans.get_mut("monthly").unwrap().generate_lead_days = 6;
    let mut world = World::with_product(product);
    let mut calendar = BillingCalendar::new(BillingFrequency::Monthly, BillingDay::DayOfMonth(1));
    calendar.bill_in_advance_days = 9;
    world.exec(
        BillingCommand::ConfigureBilling {
            settings: BillingSettings {
                calendar: Some(calendar),
                invoice_due_days: 15,
                delinquency: DelinquencyPlan {
                    enabled: false,
                    ..DelinquencyPlan::default()
                },
                ..BillingSettings::default()
            },
        },
        date(2024, 4, 1),
    );
    world.issue("P1", date(2024, 5, 1), "1200.00", date(2024, 4, 1));
    world.run_daily(date(2024, 4, 1), date(2024, 4, 21));
    assert!(world.account().invoices.is_empty());
    world.run(date(2024, 4, 22));
    assert_eq!(world.account().invoices.len(), 1);
    world.run_daily(date(2024, 4, 23), date(2024, 6, 20));
    assert_eq!(world.account().invoices.len(), 2);
    world.run(date(2024, 6, 21));
    assert_eq!(
        world.rows(),
        vec![
            row("A1-I1", date(2024, 4, 25), date(2024, 5, 10), dec!(100.00)),
            row("A1-I2", date(2024, 5, 26), date(2024, 6, 10), dec!(100.00)),
            row("A1-I3", date(2024, 6, 25), date(2024, 7, 10), dec!(100.00)),
        ]
    );
}

#[test]
fn an_invoice_with_nothing_outstanding_is_issued_but_not_sent_when_so_configured() {
    let mut world = World::new();
    world.exec(
        BillingCommand::ConfigureAccount {
            account: "A1".into(),
            overrides: AccountOverrides {
                send_zero_outstanding_invoices: Some(false),
                ..AccountOverrides::default()
            },
        },
        date(2020, 12, 1),
    );
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.pay(dec!(150.00), date(2020, 12, 20));
    world.run(date(2021, 2, 1));
    let sent: Vec<(bool, Decimal)> = world
        .account()
        .invoices
        .iter()
        .map(|r| (r.invoice.sent, r.outstanding()))
        .collect();
    assert_eq!(sent, vec![(false, dec!(0.00)), (true, dec!(50.00))]);
}

#[test]
fn invoices_are_separated_by_policy_or_kept_together_by_account() {
    for (separate, expected) in [
        (
            SeparateBy::Account,
            vec![row(
                "A1-I1",
                date(2021, 1, 1),
                date(2021, 1, 1),
                dec!(300.00),
            )],
        ),
        (
            SeparateBy::Policy,
            vec![
                row("A1-I1", date(2021, 1, 1), date(2021, 1, 1), dec!(100.00)),
                row("A1-I2", date(2021, 1, 1), date(2021, 1, 1), dec!(200.00)),
            ],
        ),
    ] {
        let mut world = World::new();
        world.exec(
            BillingCommand::ConfigureBilling {
                settings: BillingSettings {
                    separate_invoices_by: separate,
                    ..BillingSettings::default()
                },
            },
            date(2020, 12, 1),
        );
        world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
        world.issue("P2", date(2021, 1, 1), "2400.00", date(2020, 12, 15));
        world.run(date(2021, 1, 1));
        assert_eq!(world.rows(), expected, "separated by {separate:?}");
    }
}

/// The two calendar fields the billing settings own are refused on the
/// calendar (`calendar_field_in_settings`), for the tenant and in an
/// account's calendar changes; the settings' own fields bill: monthly on
/// the 1st with 15 due days, 1200.00 a year from Wednesday 2024-05-01 is
/// invoiced 100.00 on 05-01, due 05-16.
#[test]
fn a_calendar_naming_due_days_or_zero_invoices_is_refused_and_the_settings_fields_bill_instead() {
    let mut world = World::without_delinquency();
    let monthly = BillingCalendar::new(BillingFrequency::Monthly, BillingDay::DayOfMonth(1));
    let refused = [
        BillingCalendar {
            invoice_due_days: 15,
            ..monthly.clone()
        },
        BillingCalendar {
            send_zero_outstanding_invoices: false,
            ..monthly.clone()
        },
    ];
    for calendar in refused {
        let error = world
            .try_exec(
                BillingCommand::ConfigureBilling {
                    settings: BillingSettings {
                        calendar: Some(calendar.clone()),
                        ..BillingSettings::default()
                    },
                },
                date(2024, 4, 1),
            )
            .unwrap_err();
        assert_eq!(error.code(), "calendar_field_in_settings", "{calendar:?}");
    }
    let changes = crate::billing::CalendarOverrides {
        invoice_due_days: Some(10),
        ..crate::billing::CalendarOverrides::default()
    };
    let error = world
        .try_exec(
            BillingCommand::ConfigureAccount {
                account: "A1".into(),
                overrides: AccountOverrides {
                    calendar_changes: Some(changes),
                    ..AccountOverrides::default()
                },
            },
            date(2024, 4, 1),
        )
        .unwrap_err();
    assert_eq!(error.code(), "calendar_field_in_settings");
    assert!(error.to_string().contains("invoice_due_days"), "{error}");

    world.exec(
        BillingCommand::ConfigureBilling {
            settings: BillingSettings {
                calendar: Some(monthly),
                invoice_due_days: 15,
                delinquency: DelinquencyPlan {
                    enabled: false,
                    ..DelinquencyPlan::default()
                },
                ..BillingSettings::default()
            },
        },
        date(2024, 4, 1),
    );
    world.issue("P1", date(2024, 5, 1), "1200.00", date(2024, 4, 1));
    world.run(date(2024, 5, 1));
    assert_eq!(
        world.rows(),
        vec![row(
            "A1-I1",
            date(2024, 5, 1),
            date(2024, 5, 16),
            dec!(100.00)
        )]
    );
}
