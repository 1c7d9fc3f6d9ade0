//! Property tests over random command sequences: after every step the trial
//! balance is zero, the premium charges sum to the re-priced timeline, every
//! spread charge's installments sum to it, the receivable equals the billed
//! charges, a preview equals the commit, and replaying the events rebuilds
//! the same state.
//!
//! The engine's other tests, by topic: `billing` (billing runs through the
//! engine service), `model` (commands against a reference model) and
//! `service` (the engine over real stores).

use super::*;
use crate::ledger::LedgerAccount;
use crate::policy::{
    CommandContext, DataChange, ExposureData, Fields, PerilData, PolicyCommand, PolicyData,
    auto_product,
};
use crate::rating::FieldValue;
use crate::test_support::FieldRaters;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

mod accounting;
mod billing;
mod billing_run;
mod model;
mod service;

pub(super) fn context(step: usize) -> CommandContext {
    CommandContext {
        actor: "proptest".into(),
        issued_at: Utc.with_ymd_and_hms(2021, 1, 1, 12, 0, 0).unwrap()
            + Duration::days(step as i64),
        idempotency_key: Some(format!("k{step}")),
        arithmetic: crate::billing::Arithmetic::Written,
        pending_slices: None,
        today: None,
    }
}

fn text(value: String) -> Vec<FieldValue> {
    vec![FieldValue::Text(value)]
}

fn peril(cents: u32) -> PerilData {
    let mut fields = Fields::new();
    fields.insert(
        "yearly_premium".into(),
        text(Decimal::new(cents.into(), 2).to_string()),
    );
    PerilData {
        name: "collision".into(),
        fields,
    }
}

pub(super) fn start() -> TenantState {
    let mut state = TenantState::new("tenant-a").unwrap();
    let mut product = auto_product();
    product.default_plan = "monthly".into();
    state
        .execute(
            &PolicyCommand::DeployProduct { product }.into(),
            &context(0),
            &FieldRaters,
        )
        .unwrap();
    state
        .execute(
            &PolicyCommand::CreateAccount {
                locator: "A1".into(),
                name: "Ada".into(),
                currency: crate::domain::Currency::USD,
            }
            .into(),
            &context(0),
            &FieldRaters,
        )
        .unwrap();
    let mut perils = BTreeMap::new();
    perils.insert("V1-COLL".to_string(), peril(123_456));
    let mut exposures = BTreeMap::new();
    exposures.insert(
        "V1".to_string(),
        ExposureData {
            name: "vehicle".into(),
            fields: Fields::new(),
            perils: perils.into(),
        },
    );
    let mut data = PolicyData {
        fields: Fields::new(),
        exposures: exposures.into(),
    };
    data.fields
        .insert("flat:policy-fee".into(), text("25.00".into()));
    data.fields
        .insert("commission_percent".into(), text("12.5".into()));
    state
        .execute(
            &PolicyCommand::IssuePolicy {
                locator: "P1".into(),
                account: "A1".into(),
                product: "auto".into(),
                start: NaiveDate::from_ymd_opt(2021, 1, 1).unwrap(),
                plan: None,
                time_zone: "America/New_York".into(),
                data,
                bind: Default::default(),
            }
            .into(),
            &context(0),
            &FieldRaters,
        )
        .unwrap();
    state
}

#[derive(Debug, Clone)]
pub(super) enum Step {
    Premium { day: u32, cents: u32 },
    AddPeril { day: u32, cents: u32 },
    RemovePeril { day: u32 },
    Cancel { day: u32 },
    Reinstate { day: u32 },
    Reverse { pick: usize },
    Renew,
    Fee { cents: u32 },
}

pub(super) fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u32..365, 1u32..500_000).prop_map(|(day, cents)| Step::Premium { day, cents }),
        1 => (0u32..365, 1u32..100_000).prop_map(|(day, cents)| Step::AddPeril { day, cents }),
        1 => (0u32..365).prop_map(|day| Step::RemovePeril { day }),
        1 => (0u32..365).prop_map(|day| Step::Cancel { day }),
        1 => (0u32..365).prop_map(|day| Step::Reinstate { day }),
        2 => (0usize..100).prop_map(|pick| Step::Reverse { pick }),
        1 => Just(Step::Renew),
        1 => (1u32..10_000).prop_map(|cents| Step::Fee { cents }),
    ]
}

pub(super) fn command(state: &TenantState, step: &Step, index: usize) -> EngineCommand {
    let policy = state.book.policy("P1").unwrap();
    let day = |d: u32| NaiveDate::from_ymd_opt(2021, 1, 1).unwrap() + Duration::days(i64::from(d));
    match step {
        Step::Premium { day: d, cents } => {
            let mut fields = Fields::new();
            fields.insert(
                "yearly_premium".into(),
                text(Decimal::new((*cents).into(), 2).to_string()),
            );
            PolicyCommand::Endorse {
                policy: "P1".into(),
                effective: day(*d),
                changes: vec![DataChange::SetPerilFields {
                    exposure: "V1".into(),
                    peril: "V1-COLL".into(),
                    fields,
                }],
            }
            .into()
        }
        Step::AddPeril { day: d, cents } => PolicyCommand::Endorse {
            policy: "P1".into(),
            effective: day(*d),
            changes: vec![DataChange::AddPeril {
                exposure: "V1".into(),
                locator: format!("V1-X{index}"),
                peril: peril(*cents),
            }],
        }
        .into(),
        Step::RemovePeril { day: d } => PolicyCommand::Endorse {
            policy: "P1".into(),
            effective: day(*d),
            changes: vec![DataChange::RemovePeril {
                exposure: "V1".into(),
                locator: "V1-COLL".into(),
            }],
        }
        .into(),
        Step::Cancel { day: d } => PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: day(*d),
            reason: Default::default(),
        }
        .into(),
        Step::Reinstate { day: d } => PolicyCommand::Reinstate {
            policy: "P1".into(),
            effective: day(*d),
        }
        .into(),
        Step::Reverse { pick } => {
            let candidates: Vec<&str> = policy
                .transactions
                .iter()
                .filter(|t| {
                    t.reversed_by.is_none()
                        && t.kind != crate::policy::TransactionKind::Reversal
                        && t.sequence > 1
                })
                .map(|t| t.locator.as_str())
                .collect();
            match candidates.get(pick % candidates.len().max(1)) {
                Some(target) => PolicyCommand::Reverse {
                    policy: "P1".into(),
                    transaction: (*target).into(),
                }
                .into(),
                // Nothing to reverse yet: reverse nothing, change a field.
                None => command(
                    state,
                    &Step::Premium {
                        day: (*pick as u32) * 3,
                        cents: 99_999,
                    },
                    index,
                ),
            }
        }
        Step::Renew => PolicyCommand::Renew {
            policy: "P1".into(),
            plan: None,
            changes: vec![],
        }
        .into(),
        Step::Fee { cents } => PolicyCommand::AddFlatCharge {
            account: "A1".into(),
            policy: Some("P1".into()),
            charge: "service-fee".into(),
            amount: Decimal::new((*cents).into(), 2),
            invoicing: None,
            description: String::new(),
        }
        .into(),
    }
}

fn check_invariants(state: &TenantState) {
    assert!(state.trial_balances_are_zero(), "the trial balance is zero");
    let policy = state.book.policy("P1").unwrap();
    let product = &policy.header.product;
    // Charges sum to the re-priced timeline, per charge.
    for charge_name in ["premium", "commission"] {
        let repriced: Decimal = policy
            .priced
            .values()
            .map(|after| crate::policy::repriced_total(after, product, charge_name))
            .sum();
        assert_eq!(
            policy.charge_total(charge_name),
            repriced,
            "{charge_name} charges sum to the re-priced timeline"
        );
    }
    // Every spread charge's installments sum to the charge.
    for charge in &policy.charges {
        let slices: Vec<_> = policy
            .slices
            .iter()
            .filter(|s| s.charge == charge.locator)
            .collect();
        if !slices.is_empty() {
            let total: Decimal = slices.iter().map(|s| s.amount.amount).sum();
            assert_eq!(
                total, charge.amount.amount,
                "installments of {} sum to it",
                charge.locator
            );
        }
    }
    // No payment yet: the receivable, unbilled and billed (immediate flat
    // charges are invoiced at once), is every billed charge.
    let billed: Decimal = policy
        .charges
        .iter()
        .filter(|c| c.category.is_billed())
        .map(|c| c.amount.amount)
        .sum();
    let receivable = |account| {
        state
            .ledger
            .balance_of(account, crate::domain::Currency::USD, Some("A1"))
    };
    let credit = receivable(LedgerAccount::CustomerCredit);
    assert_eq!(
        receivable(LedgerAccount::PremiumReceivableUnbilled)
            + receivable(LedgerAccount::PremiumReceivableBilled)
            - credit,
        billed,
        "the receivable, less credit, is what the charges billed"
    );
    assert_eq!(
        state.receivable_mismatches(),
        vec![],
        "the billed receivable is what open invoices owe"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn random_transaction_sequences_keep_every_invariant(steps in proptest::collection::vec(step(), 1..16)) {
        let mut state = start();
        let mut events = Vec::new();
        check_invariants(&state);
        for (index, step) in steps.iter().enumerate() {
            let command: EngineCommand = command(&state, step, index);
            let context = context(index + 1);
            // Preview: decide on a copy.
            let mut copy = state.clone();
            let previewed = copy.execute(&command, &context, &FieldRaters);
            match state.execute(&command, &context, &FieldRaters) {
                Ok(committed) => {
                    prop_assert_eq!(previewed.unwrap(), committed.clone(), "preview equals commit");
                    events.extend(committed);
                }
                Err(error) => {
                    if std::env::var_os("PREMIA_PROPTEST_DEBUG").is_some() {
                        eprintln!("refused: {error}");
                    }
                    prop_assert_eq!(previewed.unwrap_err(), error);
                }
            }
            check_invariants(&state);
        }
        // Replaying this policy's events on the starting state rebuilds it.
        let mut rebuilt = start();
        for event in &events {
            rebuilt.apply(event).unwrap();
        }
        prop_assert_eq!(&rebuilt.book, &state.book);
        prop_assert_eq!(rebuilt.ledger.entries(), state.ledger.entries());
        prop_assert_eq!(&rebuilt.collections, &state.collections);
    }
}

/// The balance lines the engine hands the store with its events add up, per
/// ledger account, currency and subledger, to the ledger's own balances:
/// 1200.00 a year billed monthly from 2021-01-01, the first invoice of
/// 100.00, and a payment of 150.00 (cash debited 150.00, nothing credited).
#[test]
fn the_balance_lines_handed_to_the_store_add_up_to_the_ledgers_balances() {
    use crate::collections::tests::support::{World, date};
    use crate::ledger::Side;
    use rust_decimal_macros::dec;
    let mut world = World::new();
    world.issue("P1", date(2021, 1, 1), "1200.00", date(2020, 12, 15));
    world.run(date(2021, 1, 1));
    world.pay(dec!(150.00), date(2021, 1, 5));
    let mut totals: BTreeMap<(String, String, String), (Decimal, Decimal)> = BTreeMap::new();
    for line in world.log.iter().flat_map(TenantEvent::balance_lines) {
        let total = totals
            .entry((line.account, line.currency, line.subledger))
            .or_default();
        total.0 += line.debit;
        total.1 += line.credit;
    }
    assert_eq!(
        totals[&("cash".to_string(), "USD".to_string(), String::new())],
        (dec!(150.00), Decimal::ZERO)
    );
    let mut keys = 0;
    for (key, balance) in world.state.ledger.balances() {
        keys += 1;
        let (debits, credits) = totals[&(
            key.account.code().to_string(),
            key.currency.code().to_string(),
            key.subledger.clone().unwrap_or_default(),
        )];
        let signed = match key.account.normal_side() {
            Side::Debit => debits - credits,
            Side::Credit => credits - debits,
        };
        assert_eq!(signed, balance, "{key:?}");
    }
    assert_eq!(keys, totals.len());
    assert!(keys >= 3, "{totals:?}");
}
