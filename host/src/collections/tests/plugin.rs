//! The product's invoicing plugin, called while invoices are decided: a native
//! adjuster that adds a 5.00 installment fee to every invoice of a term but
//! the first whose premium nets to more than zero and whose policies are in
//! force on its date (what `plugins/installment-fee` does in WebAssembly).
//! Invoices that bill nothing (credit invoices, lines netting to zero) are
//! never shown to a plugin.

use super::support::*;
use crate::collections::{InvoiceAdjuster, ItemKind};
use crate::domain::Currency;
use crate::invoicing::{Coverage, DraftInvoice, InvoiceAdjustments, InvoiceLine, PolicyStatus};
use crate::ledger::{ChargeCategory, LedgerAccount};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::sync::Mutex;

/// The installment fee, natively; remembers the drafts it saw.
#[derive(Default)]
pub(super) struct InstallmentFee {
    drafts: Mutex<Vec<DraftInvoice>>,
}

impl InvoiceAdjuster for InstallmentFee {
    fn adjust(&self, plugin_id: &str, draft: &DraftInvoice) -> Result<InvoiceAdjustments, String> {
        assert_eq!(plugin_id, "installment-fee@0.1.0");
        self.drafts.lock().unwrap().push(draft.clone());
        let bills_an_installment = draft.items.iter().any(|i| i.installment_number.is_some());
        let premium: Decimal = draft
            .items
            .iter()
            .filter(|i| i.category == "premium" || i.category == "flatPremium")
            .map(|i| i.amount)
            .sum();
        let in_force = draft
            .policies
            .iter()
            .all(|p| p.coverage == Coverage::InForce);
        if draft.previous_invoice_count == 0
            || !bills_an_installment
            || premium <= Decimal::ZERO
            || !in_force
        {
            return Ok(InvoiceAdjustments {
                lines: vec![],
                due_date: None,
            });
        }
        Ok(InvoiceAdjustments {
            lines: vec![InvoiceLine {
                charge: "installment-fee".into(),
                amount: dec!(5.00),
                policy: draft.items.iter().find_map(|i| i.policy.clone()),
                description: "Installment fee".into(),
            }],
            due_date: None,
        })
    }
}

struct Failing;

impl InvoiceAdjuster for Failing {
    fn adjust(
        &self,
        _plugin_id: &str,
        _draft: &DraftInvoice,
    ) -> Result<InvoiceAdjustments, String> {
        Err("plugin_trap: unreachable".into())
    }
}

fn world_with_plugin() -> World {
    let mut product = monthly_product();
    product.invoicing_plugin = Some("installment-fee@0.1.0".into());
    World::with_product(product)
}

#[test]
fn the_invoicing_plugin_adds_an_installment_fee_to_every_invoice_but_the_first() {
    let mut world = world_with_plugin();
    world.adjuster = Box::new(InstallmentFee::default());
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.pay(dec!(1300.00), date(2020, 12, 20));
    world.run_daily(date(2021, 1, 1), date(2021, 3, 31));
    let totals: Vec<Decimal> = world.rows().into_iter().map(|r| r.3).collect();
    assert_eq!(totals, vec![dec!(100.00), dec!(105.00), dec!(105.00)]);
    let fee = world.invoice("A1-I2").invoice.items.last().unwrap().clone();
    assert_eq!(fee.kind, ItemKind::Fee);
    assert_eq!(fee.charge_name, "installment-fee");
    assert_eq!(fee.category, ChargeCategory::InvoiceFee);
    assert_eq!(fee.policy.as_deref(), Some("P1"));
    assert_eq!(
        world
            .state
            .ledger
            .balance_of(LedgerAccount::FeeIncome, Currency::USD, None),
        dec!(10.00)
    );
    world.assert_replay_rebuilds();
}

#[test]
fn the_plugin_sees_the_draft_with_installment_numbers_and_the_terms_previous_invoices() {
    let mut world = world_with_plugin();
    let adjuster = std::sync::Arc::new(InstallmentFee::default());
    struct Shared(std::sync::Arc<InstallmentFee>);
    impl InvoiceAdjuster for Shared {
        fn adjust(&self, id: &str, draft: &DraftInvoice) -> Result<InvoiceAdjustments, String> {
            self.0.adjust(id, draft)
        }
    }
    world.adjuster = Box::new(Shared(adjuster.clone()));
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.pay(dec!(1200.00), date(2020, 12, 20));
    world.run(date(2021, 2, 1));
    let drafts = adjuster.drafts.lock().unwrap();
    let seen: Vec<(u32, Option<u32>, Decimal)> = drafts
        .iter()
        .map(|d| {
            (
                d.previous_invoice_count,
                d.items[0].installment_number,
                d.items[0].amount,
            )
        })
        .collect();
    // The harness decides every command twice: as a preview, then for real.
    let once = vec![(0, Some(1), dec!(100.00)), (1, Some(2), dec!(100.00))];
    assert_eq!(seen, [once.clone(), once].concat());
    assert_eq!(drafts[0].currency, "USD");
    assert_eq!(drafts[0].invoice_date, date(2021, 1, 1));
}

#[test]
fn a_failing_plugin_refuses_the_run_and_changes_nothing() {
    let mut world = world_with_plugin();
    world.adjuster = Box::new(Failing);
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    let before = world.state.collections.clone();
    let refused = world.try_exec(
        crate::collections::BillingCommand::RunAccount {
            account: "A1".into(),
            up_to: date(2021, 1, 1),
        },
        date(2021, 1, 1),
    );
    assert_eq!(refused.unwrap_err().code(), "invoicing_plugin_failed");
    assert_eq!(world.state.collections, before);
    let report = world.state.billing_run(
        date(2021, 1, 1),
        &at(date(2021, 1, 1)),
        &FieldRaters,
        &Failing,
    );
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].0, "A1");
}

#[test]
fn the_immediate_invoice_of_a_new_policy_asks_its_products_plugin_too() {
    let mut world = world_with_plugin();
    let adjuster = std::sync::Arc::new(InstallmentFee::default());
    struct Shared(std::sync::Arc<InstallmentFee>);
    impl InvoiceAdjuster for Shared {
        fn adjust(&self, id: &str, draft: &DraftInvoice) -> Result<InvoiceAdjustments, String> {
            self.0.adjust(id, draft)
        }
    }
    world.adjuster = Box::new(Shared(adjuster.clone()));
    world.issue_with(
        "P1",
        "A1",
        date(2021, 1, 1),
        data("1200.00", &[("flat:service-fee", "30.00")]),
        None,
        date(2020, 12, 15),
    );
    assert_eq!(
        world.rows(),
        vec![row(
            "A1-I1",
            date(2020, 12, 15),
            date(2020, 12, 15),
            dec!(30.00)
        )],
        "the immediate fee is invoiced as the policy is issued"
    );
    let drafts = adjuster.drafts.lock().unwrap();
    assert_eq!(drafts.len(), 2, "previewed, then committed");
    assert_eq!(drafts[0].items[0].charge, "service-fee");
    assert_eq!(drafts[0].items[0].policy.as_deref(), Some("P1"));
}

/// A monthly policy of 1200.00 a year from 2021-01-01 with the installment
/// fee, paid up front, invoiced through March and cancelled from 2021-03-16
/// on 2021-03-31, then billed through December. With the product's 10%
/// short-rate holdback, or without it. Returns the world and every draft a
/// plugin was shown.
fn cancelled_mid_term(holdback: bool) -> (World, Vec<DraftInvoice>) {
    cancelled_mid_term_by(holdback, "billing-staff")
}

/// [`cancelled_mid_term`], the cancellation sent by `actor`.
fn cancelled_mid_term_by(holdback: bool, actor: &str) -> (World, Vec<DraftInvoice>) {
    let mut product = monthly_product();
    product.invoicing_plugin = Some("installment-fee@0.1.0".into());
    if !holdback {
        product.cancellation_retention = None;
    }
    let mut world = World::with_product(product);
    let adjuster = std::sync::Arc::new(InstallmentFee::default());
    struct Shared(std::sync::Arc<InstallmentFee>);
    impl InvoiceAdjuster for Shared {
        fn adjust(&self, id: &str, draft: &DraftInvoice) -> Result<InvoiceAdjustments, String> {
            self.0.adjust(id, draft)
        }
    }
    world.adjuster = Box::new(Shared(adjuster.clone()));
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.pay(dec!(1210.00), date(2020, 12, 20));
    world.run_daily(date(2020, 12, 20), date(2021, 3, 31));
    let context = crate::policy::CommandContext {
        actor: actor.to_string(),
        ..at(date(2021, 3, 31))
    };
    world
        .try_exec_with(
            crate::policy::PolicyCommand::Cancel {
                policy: "P1".into(),
                effective: date(2021, 3, 16),
                reason: Default::default(),
            },
            &context,
        )
        .unwrap();
    world.run_daily(date(2021, 4, 1), date(2021, 12, 31));
    world.assert_replay_rebuilds();
    let drafts = adjuster.drafts.lock().unwrap().clone();
    (world, drafts)
}

/// The installment fees of `world`: invoice and amount.
fn installment_fees(world: &World) -> Vec<(String, Decimal)> {
    world
        .account()
        .invoices
        .iter()
        .flat_map(|r| {
            r.invoice
                .items
                .iter()
                .filter(|i| i.charge_name == "installment-fee")
                .map(|i| (r.invoice.locator.clone(), i.amount.amount))
        })
        .collect()
}

/// Cancelled mid-term: the second and third installments get their 5.00;
/// the cancellation's invoice (the credit for March 16-31, with or without
/// the holdback, billed once on the day it is issued) gets none; April to
/// December have no day in force, so their installments are netted and no
/// invoice is made for them; no plugin is shown an invoice that bills nothing.
#[test]
fn a_cancelled_policy_pays_no_installment_fee_on_its_credit_or_after_it() {
    for holdback in [true, false] {
        let (world, drafts) = cancelled_mid_term(holdback);
        let april = if holdback { dec!(43.55) } else { dec!(-51.61) };
        let expected = vec![
            row("A1-I1", date(2021, 1, 1), date(2021, 1, 1), dec!(100.00)),
            row("A1-I2", date(2021, 2, 1), date(2021, 2, 1), dec!(105.00)),
            row("A1-I3", date(2021, 3, 1), date(2021, 3, 1), dec!(105.00)),
            row("A1-I4", date(2021, 3, 31), date(2021, 3, 31), april),
        ];
        assert_eq!(world.rows(), expected, "holdback {holdback}");
        assert_eq!(
            installment_fees(&world),
            vec![
                ("A1-I2".to_string(), dec!(5.00)),
                ("A1-I3".to_string(), dec!(5.00))
            ],
            "holdback {holdback}: February and March pay the fee; nothing after the cancellation"
        );
        assert!(
            drafts
                .iter()
                .all(|d| d.items.iter().map(|i| i.amount).sum::<Decimal>() > Decimal::ZERO),
            "holdback {holdback}: no plugin is shown an invoice that bills nothing"
        );
    }
}

/// What a plugin sees of a draft: its invoice date, net, whether it is a
/// credit, and its policies' statuses (each draft once, though the harness
/// previews every command before committing it).
fn seen(drafts: &[DraftInvoice]) -> Vec<(NaiveDate, Decimal, bool, Vec<PolicyStatus>)> {
    let mut seen: Vec<_> = drafts
        .iter()
        .map(|d| (d.invoice_date, d.net(), d.is_credit(), d.policies.clone()))
        .collect();
    seen.dedup();
    seen
}

fn p1(coverage: Coverage) -> Vec<PolicyStatus> {
    vec![PolicyStatus {
        policy: "P1".into(),
        term: 1,
        coverage,
    }]
}

/// Cancelled from 2021-03-16 on 2021-03-31 (with the holdback, so the
/// cancellation's invoice bills 43.55 and is shown to the plugin): the
/// invoices before it see P1 in force; the cancellation's sees it cancelled
/// from 03-16. Sent by the billing run (a lapse for non-payment), the same
/// cancellation shows as lapsed from 03-16.
#[test]
fn the_plugin_sees_each_drafts_net_and_its_policy_in_force_cancelled_or_lapsed() {
    let cancelled_from_the_16th = Coverage::Cancelled {
        effective: date(2021, 3, 16),
    };
    let lapsed_from_the_16th = Coverage::Lapsed {
        effective: date(2021, 3, 16),
    };
    for (actor, after) in [
        ("billing-staff", cancelled_from_the_16th),
        (crate::engine::LAPSE_ACTOR, lapsed_from_the_16th),
    ] {
        let (_, drafts) = cancelled_mid_term_by(true, actor);
        assert_eq!(
            seen(&drafts),
            vec![
                (date(2021, 1, 1), dec!(100.00), false, p1(Coverage::InForce)),
                (date(2021, 2, 1), dec!(100.00), false, p1(Coverage::InForce)),
                (date(2021, 3, 1), dec!(100.00), false, p1(Coverage::InForce)),
                (date(2021, 3, 31), dec!(43.55), false, p1(after)),
            ],
            "cancelled by {actor}"
        );
    }
}

#[test]
fn a_draft_whose_items_net_below_zero_is_a_credit() {
    let mut draft: DraftInvoice = serde_json::from_value(serde_json::json!({
        "account": "A1",
        "currency": "USD",
        "invoice_date": "2021-03-31",
        "due_date": "2021-04-15",
        "previous_invoice_count": 3,
        "items": [],
    }))
    .unwrap();
    for (locator, amount) in [
        ("installment-4", "83.34"),
        ("cancellation-credit", "-100.00"),
    ] {
        draft.items.push(crate::invoicing::DraftItem {
            locator: locator.into(),
            policy: Some("P1".into()),
            charge: "premium".into(),
            category: "premium".into(),
            amount: amount.parse().unwrap(),
            period: None,
            installment_number: None,
        });
    }
    assert_eq!(draft.net(), dec!(-16.66));
    assert!(draft.is_credit());
    assert_eq!(draft.policies, [], "a draft read without policies has none");
}
