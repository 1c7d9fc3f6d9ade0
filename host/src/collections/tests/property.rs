//! Random sequences of billing runs, payments, returned payments, write-offs,
//! credit distributions, holds, plan changes, endorsements and flat charges:
//! after every command the trial balance is zero and every account's billed
//! receivable is what its open invoices owe (checked by the harness, with the
//! preview compared to the commit); no installment slice or charge is ever
//! invoiced twice; and replaying the log rebuilds the state.

use super::support::*;
use crate::billing::{Cadence, InstallmentPlan};
use crate::collections::{BillingCommand, CreditTarget, HoldKind};
use crate::policy::PolicyCommand;
use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
enum Step {
    Advance(u32),
    Pay(u32),
    ReversePayment(usize),
    WriteOff(usize),
    Distribute,
    Hold,
    Release,
    ChangePlan(bool),
    Endorse(u32),
    Flat(u32, bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (1u32..45).prop_map(Step::Advance),
        4 => (1u32..40_000).prop_map(Step::Pay),
        1 => (0usize..10).prop_map(Step::ReversePayment),
        1 => (0usize..10).prop_map(Step::WriteOff),
        1 => Just(Step::Distribute),
        1 => Just(Step::Hold),
        1 => Just(Step::Release),
        1 => any::<bool>().prop_map(Step::ChangePlan),
        1 => (10_000u32..500_000).prop_map(Step::Endorse),
        1 => ((1u32..5_000), any::<bool>()).prop_map(|(c, i)| Step::Flat(c, i)),
    ]
}

fn cents(value: u32) -> Decimal {
    Decimal::new(value.into(), 2)
}

fn apply(world: &mut World, today: &mut NaiveDate, step: &Step) {
    let account = "A1".to_string();
    let day = *today;
    let _ = match step {
        Step::Advance(days) => {
            *today = day + Duration::days(i64::from(*days));
            world.run(*today);
            return;
        }
        Step::Pay(amount) => world.try_exec(
            BillingCommand::RecordPayment {
                for_deductibles: false,
                reserved_for: None,
                account,
                amount: cents(*amount),
                received_on: day,
                invoices: vec![],
                reference: String::new(),
            },
            day,
        ),
        Step::ReversePayment(pick) => {
            let Some(payment) = world
                .account()
                .payments
                .get(*pick)
                .map(|p| p.payment.locator.clone())
            else {
                return;
            };
            world.try_exec(
                BillingCommand::ReversePayment {
                    account,
                    payment,
                    on: day,
                    fee: Some(cents(2_500)),
                    reason: String::new(),
                },
                day,
            )
        }
        Step::WriteOff(pick) => {
            let Some(invoice) = world
                .account()
                .invoices
                .get(*pick)
                .map(|r| r.invoice.locator.clone())
            else {
                return;
            };
            world.try_exec(
                BillingCommand::WriteOff {
                    account,
                    invoice,
                    item: None,
                    amount: None,
                    on: day,
                    reason: String::new(),
                },
                day,
            )
        }
        Step::Distribute => world.try_exec(
            BillingCommand::DistributeCredit {
                account,
                on: day,
                targets: Vec::<CreditTarget>::new(),
            },
            day,
        ),
        Step::Hold => world.try_exec(
            BillingCommand::PlaceHold {
                account,
                kind: HoldKind::Invoicing,
                from: day,
                reason: String::new(),
            },
            day,
        ),
        Step::Release => {
            let Some(hold) = world
                .account()
                .holds
                .iter()
                .find(|h| h.released_on.is_none())
                .map(|h| h.locator.clone())
            else {
                return;
            };
            world.try_exec(
                BillingCommand::ReleaseHold {
                    account,
                    hold,
                    on: day,
                },
                day,
            )
        }
        Step::ChangePlan(quarterly) => world.try_exec(
            BillingCommand::ChangePlan {
                policy: "P1".into(),
                plan: if *quarterly { "quarterly" } else { "monthly" }.into(),
                effective: day,
            },
            day,
        ),
        Step::Endorse(yearly) => {
            let yearly = cents(*yearly).to_string();
            let mut fields = crate::policy::Fields::new();
            fields.insert(
                "yearly_premium".into(),
                vec![crate::rating::FieldValue::Text(yearly)],
            );
            world.try_exec(
                PolicyCommand::Endorse {
                    policy: "P1".into(),
                    effective: day,
                    changes: vec![crate::policy::DataChange::SetPerilFields {
                        exposure: "V1".into(),
                        peril: "V1-COLL".into(),
                        fields,
                    }],
                },
                day,
            )
        }
        Step::Flat(amount, immediate) => world.try_exec(
            PolicyCommand::AddFlatCharge {
                account,
                policy: Some("P1".into()),
                charge: if *immediate {
                    "service-fee"
                } else {
                    "policy-fee"
                }
                .into(),
                amount: cents(*amount),
                invoicing: None,
                description: String::new(),
            },
            day,
        ),
    };
}

fn nothing_is_invoiced_twice(world: &World) {
    let mut seen = BTreeSet::new();
    for record in &world.account().invoices {
        for item in &record.invoice.items {
            let key = match &item.slice {
                Some(slice) => format!("{}#{}", slice.policy, slice.index),
                None => item.charge.clone(),
            };
            assert!(seen.insert(key.clone()), "{key} is invoiced twice");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn random_billing_keeps_the_ledger_and_the_invoices_in_step(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        let mut product = monthly_product();
        product
            .plans
            .insert("quarterly".into(), InstallmentPlan::new(Cadence::Quarterly));
        let mut world = World::with_product(product);
        world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
        let mut today = date(2020, 12, 20);
        for step in &steps {
            apply(&mut world, &mut today, step);
            nothing_is_invoiced_twice(&world);
        }
        world.run(today + Duration::days(400));
        nothing_is_invoiced_twice(&world);
        world.assert_replay_rebuilds();
    }
}
