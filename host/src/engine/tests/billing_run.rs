//! Billing runs whose accounts share appends: a run through sled makes
//! exactly the pure run's events in far fewer appends than accounts, and a
//! run cut short by a failing store bills every account once when it is run
//! again.

use crate::collections::NoInvoicingPlugins;
use crate::collections::tests::support::{data, date, monthly_product};
use crate::domain::Currency;
use crate::engine::*;
use crate::policy::{CommandContext, PolicyCommand};
use crate::store::failing::FailingStore;
use crate::store::{SledStore, Store};
use crate::test_support::{FieldRaters, engine};
use chrono::{TimeZone, Utc};
use rust_decimal_macros::dec;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Accounts of the runs: several appends' worth.
const ACCOUNTS: usize = 300;

fn meta() -> RequestMeta {
    RequestMeta {
        actor: "scheduler".into(),
        issued_at: Utc.with_ymd_and_hms(2020, 12, 15, 9, 0, 0).unwrap(),
        idempotency_key: None,
        arithmetic: crate::billing::Arithmetic::Written,
    }
}

/// The context the engine decides the run's commands in.
fn context() -> CommandContext {
    CommandContext {
        actor: "scheduler".into(),
        issued_at: meta().issued_at,
        idempotency_key: None,
        arithmetic: crate::billing::Arithmetic::Written,
        pending_slices: None,
        today: None,
    }
}

/// `accounts` accounts with one monthly policy of 1200.00 a year each, from
/// 2021-01-01.
fn book(engine: &Engine, accounts: usize) {
    let run = |command: EngineCommand| {
        engine.execute("t1", &command, &meta()).unwrap();
    };
    run(PolicyCommand::DeployProduct {
        product: monthly_product(),
    }
    .into());
    for a in 0..accounts {
        run(PolicyCommand::CreateAccount {
            locator: format!("A{a:03}"),
            name: format!("Account {a}"),
            currency: Currency::USD,
        }
        .into());
        run(PolicyCommand::IssuePolicy {
            locator: format!("P{a:03}"),
            account: format!("A{a:03}"),
            product: "auto".into(),
            start: date(2021, 1, 1),
            plan: None,
            time_zone: "UTC".into(),
            data: data("1200.00", &[]),
            bind: Default::default(),
        }
        .into());
    }
}

/// Per account, the totals of its invoices.
fn invoices(state: &TenantState) -> Vec<Vec<rust_decimal::Decimal>> {
    state
        .collections
        .accounts
        .values()
        .map(|a| a.invoices.iter().map(|r| r.invoice.total.amount).collect())
        .collect()
}

#[test]
fn a_run_over_many_accounts_through_sled_appends_the_pure_runs_events_in_few_appends() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
    let engine = engine(Arc::clone(&store));
    book(&engine, ACCOUNTS);
    let mut pure = engine.read("t1", TenantState::clone).unwrap();
    let before = store.last_sequence("t1").unwrap();

    let report = engine.run_billing("t1", date(2021, 1, 1), &meta()).unwrap();

    let mut expected = Vec::new();
    let pure_report = pure.billing_run_recording(
        date(2021, 1, 1),
        &context(),
        &FieldRaters,
        &NoInvoicingPlugins,
        &mut expected,
    );
    assert_eq!(report, pure_report);
    assert_eq!(
        (report.accounts, report.accounts_billed, report.commands),
        (300, 300, 300)
    );
    assert!(report.failures.is_empty());
    let appended = store.read("t1", before, 10_000).unwrap();
    let events: Vec<TenantEvent> = appended
        .iter()
        .map(|stored| decode_stored(stored).unwrap())
        .collect();
    assert_eq!(events, expected, "the pure run's events, in its order");
    // 300 accounts' decisions in a handful of appends of at least
    // RUN_APPEND_EVENTS events each (the last one excepted).
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for stored in &appended {
        *sizes.entry(stored.command_id.as_str()).or_default() += 1;
    }
    assert!((2..10).contains(&sizes.len()), "{sizes:?}");
    let last = appended.last().unwrap().command_id.as_str();
    assert!(
        sizes
            .iter()
            .all(|(id, events)| *id == last || *events >= RUN_APPEND_EVENTS),
        "{sizes:?}"
    );
    // Every account: one invoice of a twelfth of 1200.00.
    let totals = engine.read("t1", invoices).unwrap();
    assert_eq!(totals, vec![vec![dec!(100.00)]; ACCOUNTS]);

    // The log rebuilds the same state.
    drop(engine);
    let reopened = crate::test_support::engine(store);
    let rebuilt = reopened.read("t1", TenantState::clone).unwrap();
    assert_eq!(rebuilt.collections, pure.collections);
    assert_eq!(rebuilt.ledger.entries(), pure.ledger.entries());
    assert!(rebuilt.trial_balances_are_zero());
}

#[test]
fn a_run_cut_short_by_a_failing_store_and_run_again_bills_each_account_once() {
    let dir = tempfile::tempdir().unwrap();
    let sled: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
    let failing = Arc::new(FailingStore::new(Arc::clone(&sled)));
    let store: Arc<dyn Store> = failing.clone();
    let engine = engine(Arc::clone(&store));
    book(&engine, ACCOUNTS);
    let mut pure = engine.read("t1", TenantState::clone).unwrap();
    let before = store.last_sequence("t1").unwrap();

    // The disk fails after the run's first append.
    failing.fail_writes_after(1);
    let cut = engine.run_billing("t1", date(2021, 1, 1), &meta()).unwrap();
    assert!(cut.accounts_billed > 0 && cut.accounts_billed < ACCOUNTS);
    assert_eq!(cut.failures.len(), ACCOUNTS - cut.accounts_billed);
    assert!(
        cut.failures[0].1.contains("injected write failure"),
        "{:?}",
        cut.failures[0]
    );
    let durable = store.last_sequence("t1").unwrap() - before;
    assert_eq!(
        durable as usize, cut.events,
        "only the first append is kept"
    );
    // The state does not keep what the log refused.
    let totals = engine.read("t1", invoices).unwrap();
    let billed = totals.iter().filter(|t| !t.is_empty()).count();
    assert_eq!(billed, cut.accounts_billed);

    failing.fail_writes(false);
    let again = engine.run_billing("t1", date(2021, 1, 1), &meta()).unwrap();
    assert!(again.failures.is_empty(), "{:?}", again.failures);
    assert_eq!(again.accounts_billed, ACCOUNTS - cut.accounts_billed);
    let once_more = engine.run_billing("t1", date(2021, 1, 1), &meta()).unwrap();
    assert_eq!((once_more.accounts_billed, once_more.events), (0, 0));

    // Each account billed once: the same invoices, entries and events as
    // one uninterrupted run.
    let mut expected = Vec::new();
    pure.billing_run_recording(
        date(2021, 1, 1),
        &context(),
        &FieldRaters,
        &NoInvoicingPlugins,
        &mut expected,
    );
    assert_eq!(
        store.last_sequence("t1").unwrap() - before,
        expected.len() as u64
    );
    let state = engine.read("t1", TenantState::clone).unwrap();
    assert_eq!(invoices(&state), vec![vec![dec!(100.00)]; ACCOUNTS]);
    assert_eq!(state.collections, pure.collections);
    assert!(state.trial_balances_are_zero());
    assert_eq!(state.receivable_mismatches(), vec![]);
}
