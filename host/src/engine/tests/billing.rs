//! Billing runs through the engine service: one decision per account and
//! step (many accounts' decisions share an append, see `billing_run`),
//! nothing appended when nothing is due, the billing state
//! rebuilt from the log after a restart, and large accounts split over
//! commands and invoices within the store's limits.

use crate::collections::tests::support::{date, issue_from_2021, monthly_product};
use crate::collections::{
    BillingCommand, BillingSettings, DelinquencyPlan, INVOICE_ITEMS_MAX, SeparateBy,
};
use crate::domain::Currency;
use crate::engine::*;
use crate::policy::PolicyCommand;
use crate::store::{SledStore, Store};
use crate::test_support::engine;
use chrono::{TimeZone, Utc};
use std::sync::Arc;

fn meta(key: Option<&str>) -> RequestMeta {
    RequestMeta {
        actor: "scheduler".into(),
        issued_at: Utc.with_ymd_and_hms(2020, 12, 15, 9, 0, 0).unwrap(),
        idempotency_key: key.map(str::to_string),
        arithmetic: crate::billing::Arithmetic::Written,
    }
}

/// `accounts` accounts with `policies` monthly policies each, from 2021-01-01.
fn book(engine: &Engine, accounts: usize, policies: usize) {
    let run = |command: EngineCommand| {
        engine.execute("t1", &command, &meta(None)).unwrap();
    };
    run(PolicyCommand::DeployProduct {
        product: monthly_product(),
    }
    .into());
    for a in 0..accounts {
        run(PolicyCommand::CreateAccount {
            locator: format!("A{a}"),
            name: format!("Account {a}"),
            currency: Currency::USD,
        }
        .into());
        for p in 0..policies {
            run(issue_from_2021(&format!("P{a}-{p}"), &format!("A{a}"), "1200.00").into());
        }
    }
}

#[test]
fn a_billing_run_is_one_command_per_account_and_running_it_again_appends_nothing() {
    let store: Arc<dyn Store> = crate::store::test_store();
    let engine = engine(Arc::clone(&store));
    book(&engine, 3, 1);
    let report = engine
        .run_billing("t1", date(2021, 1, 1), &meta(None))
        .unwrap();
    assert_eq!(
        (report.accounts, report.accounts_billed, report.commands),
        (3, 3, 3)
    );
    assert!(report.failures.is_empty());
    let sequence = store.last_sequence("t1").unwrap();
    let again = engine
        .run_billing("t1", date(2021, 1, 1), &meta(None))
        .unwrap();
    assert_eq!(
        (again.accounts_billed, again.commands, again.events),
        (0, 0, 0)
    );
    assert_eq!(store.last_sequence("t1").unwrap(), sequence);
    let invoices = engine
        .read("t1", |s| {
            s.collections
                .accounts
                .values()
                .map(|a| a.invoices.len())
                .sum::<usize>()
        })
        .unwrap();
    assert_eq!(invoices, 3);
}

#[test]
fn after_a_restart_the_billing_state_is_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (collections, entries) = {
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let engine = engine(store);
        book(&engine, 2, 1);
        engine
            .execute(
                "t1",
                &BillingCommand::RecordPayment {
                    for_deductibles: false,
                    reserved_for: None,
                    account: "A0".into(),
                    amount: rust_decimal_macros::dec!(1200.00),
                    received_on: date(2020, 12, 20),
                    invoices: vec![],
                    reference: String::new(),
                }
                .into(),
                &meta(Some("pay")),
            )
            .unwrap();
        // A1 never pays: it lapses in February, which takes more commands.
        let report = engine
            .run_billing("t1", date(2021, 3, 1), &meta(None))
            .unwrap();
        assert!(report.failures.is_empty());
        assert!(
            report.commands > 2,
            "the lapse needs its own commands: {report:?}"
        );
        engine
            .read("t1", |s| {
                (s.collections.clone(), s.ledger.entries().to_vec())
            })
            .unwrap()
    };
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
    let reopened = engine(store);
    let (rebuilt, rebuilt_entries) = reopened
        .read("t1", |s| {
            assert_eq!(s.receivable_mismatches(), vec![]);
            (s.collections.clone(), s.ledger.entries().to_vec())
        })
        .unwrap();
    assert_eq!(rebuilt, collections);
    assert_eq!(rebuilt_entries, entries);
    assert_eq!(
        rebuilt.accounts["A1"].delinquencies[0].status,
        crate::collections::DelinquencyStatus::Lapsed {
            on: date(2021, 2, 1),
            effective: date(2021, 2, 1)
        }
    );
    let again = reopened
        .run_billing("t1", date(2021, 3, 1), &meta(None))
        .unwrap();
    assert_eq!(again.commands, 0, "the run is finished");
}

#[test]
fn a_large_account_is_billed_over_several_commands_and_invoices_within_the_store_limits() {
    let store: Arc<dyn Store> = crate::store::test_store();
    let engine = engine(Arc::clone(&store));
    let settings = |separate_invoices_by| BillingSettings {
        separate_invoices_by,
        delinquency: DelinquencyPlan {
            enabled: false,
            ..DelinquencyPlan::default()
        },
        ..BillingSettings::default()
    };
    engine
        .execute(
            "t1",
            &BillingCommand::ConfigureBilling {
                settings: settings(SeparateBy::Account),
            }
            .into(),
            &meta(Some("together")),
        )
        .unwrap();
    book(&engine, 1, 450);
    let report = engine
        .run_billing("t1", date(2021, 1, 1), &meta(None))
        .unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let items: Vec<usize> = engine
        .read("t1", |s| {
            s.collections.accounts["A0"]
                .invoices
                .iter()
                .map(|r| r.invoice.items.len())
                .collect()
        })
        .unwrap();
    assert_eq!(
        items,
        vec![
            INVOICE_ITEMS_MAX,
            INVOICE_ITEMS_MAX,
            INVOICE_ITEMS_MAX,
            INVOICE_ITEMS_MAX,
            50
        ]
    );
    engine
        .execute(
            "t1",
            &BillingCommand::ConfigureBilling {
                settings: settings(SeparateBy::Policy),
            }
            .into(),
            &meta(Some("separate")),
        )
        .unwrap();
    let report = engine
        .run_billing("t1", date(2021, 2, 1), &meta(None))
        .unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(report.commands > 1, "450 invoices do not fit one decision");
    let february = engine
        .read("t1", |s| {
            s.collections.accounts["A0"]
                .invoices
                .iter()
                .filter(|r| r.invoice.issue_date == date(2021, 2, 1))
                .count()
        })
        .unwrap();
    assert_eq!(february, 450);
}

#[test]
fn every_way_into_a_billing_run_refuses_a_date_past_a_test_tenants_clock_and_the_clock_survives_a_restart()
 {
    let store: Arc<dyn Store> = crate::store::test_store();
    let engine = engine(Arc::clone(&store));
    let clock = |today| EngineCommand::Clock(ClockCommand::MoveClock { today });
    engine
        .execute(
            "t1",
            &EngineCommand::Clock(ClockCommand::StartTestClock {
                today: date(2020, 12, 15),
            }),
            &meta(None),
        )
        .unwrap();
    book(&engine, 2, 1);
    let sequence = store.last_sequence("t1").unwrap();
    let refused = |error: EngineError| {
        assert_eq!(
            error,
            EngineError::Clock(ClockError::RunInTheFuture {
                up_to: date(2021, 1, 1),
                today: date(2020, 12, 15)
            })
        );
        assert_eq!(error.code(), "run_in_the_future");
    };
    refused(
        engine
            .run_billing("t1", date(2021, 1, 1), &meta(None))
            .unwrap_err(),
    );
    refused(
        engine
            .preview_billing_run("t1", Some(date(2021, 1, 1)), &meta(None))
            .unwrap_err(),
    );
    let one_account = EngineCommand::Billing(BillingCommand::RunAccount {
        account: "A0".into(),
        up_to: date(2021, 1, 1),
    });
    refused(engine.execute("t1", &one_account, &meta(None)).unwrap_err());
    refused(
        engine
            .preview("t1", std::slice::from_ref(&one_account), &meta(None))
            .unwrap_err(),
    );
    assert_eq!(
        store.last_sequence("t1").unwrap(),
        sequence,
        "nothing appended"
    );

    engine
        .execute("t1", &clock(date(2021, 1, 1)), &meta(None))
        .unwrap();
    // Without a date, a run goes to the clock's today.
    let report = engine.run_billing("t1", None, &meta(None)).unwrap();
    assert_eq!(
        (report.up_to, report.accounts_billed),
        (date(2021, 1, 1), 2)
    );

    drop(engine);
    let reopened = self::engine(store);
    assert_eq!(reopened.clock("t1").unwrap(), (date(2021, 1, 1), true));
    assert_eq!(
        reopened
            .execute("t1", &clock(date(2020, 12, 31)), &meta(None))
            .unwrap_err()
            .code(),
        "clock_backwards"
    );
}
