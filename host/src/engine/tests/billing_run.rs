//! Billing runs whose accounts share appends: a run through sled makes
//! exactly the pure run's events in far fewer appends than accounts, and a
//! run cut short by a failing store bills every account once when it is run
//! again.

use crate::collections::NoInvoicingPlugins;
use crate::collections::tests::support::{date, issue_from_2021, monthly_product};
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
        run(issue_from_2021(&format!("P{a:03}"), &format!("A{a:03}"), "1200.00").into());
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

/// The snapshot interval counts a billing run's events as it counts
/// commands': a tenant of 300 accounts reopened with an interval of one
/// event past its log (no snapshot yet) runs January 1st (900 events: an
/// invoice, its journal entry and `billed_through` per account), and a
/// snapshot at the run's last event follows in the background (before the
/// fix only commands checked the interval: a run never saved one).
#[test]
fn a_billing_run_that_crosses_the_snapshot_interval_saves_a_snapshot() {
    let store: Arc<dyn Store> = Arc::new(crate::store::MemoryStore::new());
    book(&engine(Arc::clone(&store)), ACCOUNTS);
    let booked = store.last_sequence("t1").unwrap();
    assert!(snapshot::manifest(store.as_ref(), "t1").unwrap().is_none());

    let engine = engine(Arc::clone(&store)).with_snapshot_interval(booked + 1);
    let report = engine.run_billing("t1", date(2021, 1, 1), &meta()).unwrap();
    assert_eq!((report.accounts_billed, report.events), (300, 900));
    let end = booked + 900;
    assert_eq!(store.last_sequence("t1").unwrap(), end);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let at = snapshot::manifest(store.as_ref(), "t1")
            .unwrap()
            .map(|m| m.sequence);
        if at == Some(end) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "snapshot at {at:?}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // The saved state is the run's: a host opened now starts from it.
    let reopened = crate::test_support::engine(store);
    let totals = reopened.read("t1", invoices).unwrap();
    assert_eq!(totals, vec![vec![dec!(100.00)]; ACCOUNTS]);
}

/// Host B's side of the race: 20 new accounts each with a policy from
/// 2021-01-01, payments of 10.00 on A000..A019 and cancellations of
/// P100..P109 at mid-term (2021-07-01), one command at a time.
fn host_b_commands() -> Vec<EngineCommand> {
    let mut commands: Vec<EngineCommand> = Vec::new();
    for n in 0..20 {
        commands.push(
            PolicyCommand::CreateAccount {
                locator: format!("B{n:03}"),
                name: format!("Late account {n}"),
                currency: Currency::USD,
            }
            .into(),
        );
        commands.push(issue_from_2021(&format!("Q{n:03}"), &format!("B{n:03}"), "1200.00").into());
        commands.push(
            crate::collections::BillingCommand::RecordPayment {
                account: format!("A{n:03}"),
                amount: dec!(10.00),
                received_on: date(2021, 1, 1),
                invoices: vec![],
                reference: format!("pay-{n}"),
                for_deductibles: false,
                reserved_for: None,
            }
            .into(),
        );
        if n < 10 {
            commands.push(
                PolicyCommand::Cancel {
                    policy: format!("P{:03}", 100 + n),
                    effective: date(2021, 7, 1),
                    reason: Default::default(),
                }
                .into(),
            );
        }
    }
    commands
}

/// Two hosts on one PostgreSQL database: host A runs January 1st over 150
/// accounts while host B issues, pays and cancels on the same tenant (70
/// commands). Every command of B is answered, A's run reports no failure,
/// and a second run (on B) bills only the accounts A's run did not know;
/// then every one of the 170 accounts has exactly one invoice, both hosts
/// hold the log's state, running again appends nothing and the ledger
/// balances.
#[test]
fn a_billing_run_racing_another_host_on_postgres_bills_each_account_once() {
    use crate::store::{PgStore, fresh_schema_name, test_database_url, url_with_schema};
    let Some(url) = test_database_url() else {
        return;
    };
    const BOOKED: usize = 150;
    let url = url_with_schema(&url, &fresh_schema_name("run_race"));
    let host = || Arc::new(engine(Arc::new(PgStore::open(&url).unwrap())));
    let (a, b) = (host(), host());
    book(&a, BOOKED);

    let runner = {
        let a = Arc::clone(&a);
        std::thread::spawn(move || a.run_billing("t1", date(2021, 1, 1), &meta()).unwrap())
    };
    for (n, command) in host_b_commands().iter().enumerate() {
        let meta = RequestMeta {
            idempotency_key: Some(format!("b-{n}")),
            ..meta()
        };
        let outcome = b
            .execute("t1", command, &meta)
            .unwrap_or_else(|error| panic!("command {n} of host B refused: {error}"));
        assert!(!outcome.replayed);
    }
    let report = runner.join().unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.accounts, BOOKED);
    assert_eq!(report.accounts_billed, BOOKED);

    // Host B's run bills the accounts created after A's run listed its own.
    let late = b.run_billing("t1", date(2021, 1, 1), &meta()).unwrap();
    assert!(late.failures.is_empty(), "{:?}", late.failures);
    assert_eq!(late.accounts, BOOKED + 20);
    assert!(late.accounts_billed <= 20, "{late:?}");
    for host in [&a, &b] {
        let again = host.run_billing("t1", date(2021, 1, 1), &meta()).unwrap();
        assert_eq!((again.accounts_billed, again.events), (0, 0));
    }

    let rebuilt = engine(Arc::new(PgStore::open(&url).unwrap()));
    let seen = |engine: &Engine| {
        engine
            .read("t1", |s| {
                (s.collections.clone(), s.ledger.entries().to_vec())
            })
            .unwrap()
    };
    let log = seen(&rebuilt);
    assert!(seen(&a) == log, "host A holds the log's state");
    assert!(seen(&b) == log, "host B holds the log's state");
    let state = rebuilt.read("t1", TenantState::clone).unwrap();
    assert_eq!(state.collections.accounts.len(), BOOKED + 20);
    for (name, account) in &state.collections.accounts {
        let dates: Vec<_> = account
            .invoices
            .iter()
            .map(|r| r.invoice.issue_date)
            .collect();
        assert_eq!(dates, vec![date(2021, 1, 1)], "{name}: billed once");
    }
    // Neither paid nor cancelled: the first twelfth of 1200.00.
    for n in 20..100 {
        let invoices = &state.collections.accounts[&format!("A{n:03}")].invoices;
        assert_eq!(invoices[0].invoice.total.amount, dec!(100.00));
    }
    assert!(state.trial_balances_are_zero());
    assert_eq!(state.receivable_mismatches(), vec![]);
}
