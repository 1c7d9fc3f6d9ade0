//! The engine over real stores: durable acknowledgement, idempotency,
//! restart, audit from the log.

use crate::domain::Currency;
use crate::engine::*;
use crate::policy::{
    ExposureData, Fields, PerilData, PolicyCommand, PolicyData, RaterResolver, RatingChain,
    auto_product,
};
use crate::rating::{FieldRater, FieldValue, Rater, RatingError};
use crate::store::{SledStore, Store};
use crate::test_support::{FieldRaters, engine};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal_macros::dec;
use std::collections::BTreeMap;
use std::sync::Arc;

fn meta(key: &str) -> RequestMeta {
    RequestMeta {
        actor: "policy-system".into(),
        issued_at: Utc.with_ymd_and_hms(2021, 1, 1, 9, 0, 0).unwrap(),
        idempotency_key: Some(key.into()),
        arithmetic: crate::billing::Arithmetic::Written,
    }
}

fn issue(yearly: &str) -> EngineCommand {
    let mut fields = Fields::new();
    fields.insert(
        "yearly_premium".into(),
        vec![FieldValue::Text(yearly.into())],
    );
    let mut perils = BTreeMap::new();
    perils.insert(
        "V1-COLL".to_string(),
        PerilData {
            name: "collision".into(),
            fields,
        },
    );
    let mut exposures = BTreeMap::new();
    exposures.insert(
        "V1".to_string(),
        ExposureData {
            name: "vehicle".into(),
            fields: Fields::new(),
            perils: perils.into(),
        },
    );
    PolicyCommand::IssuePolicy {
        locator: "P1".into(),
        account: "A1".into(),
        product: "auto".into(),
        start: NaiveDate::from_ymd_opt(2021, 1, 1).unwrap(),
        plan: None,
        time_zone: "UTC".into(),
        data: PolicyData {
            fields: Fields::new(),
            exposures: exposures.into(),
        },
        bind: Default::default(),
    }
    .into()
}

fn set_up(engine: &Engine) {
    engine
        .execute(
            "t1",
            &PolicyCommand::DeployProduct {
                product: auto_product(),
            }
            .into(),
            &meta("deploy"),
        )
        .unwrap();
    let account = PolicyCommand::CreateAccount {
        locator: "A1".into(),
        name: "Ada".into(),
        currency: Currency::USD,
    }
    .into();
    engine.execute("t1", &account, &meta("account")).unwrap();
}

#[test]
fn retrying_a_command_with_the_same_key_returns_the_first_result_and_does_nothing_again() {
    let store: Arc<dyn Store> = crate::store::test_store();
    let engine = engine(Arc::clone(&store));
    set_up(&engine);
    let first = engine
        .execute("t1", &issue("1000.00"), &meta("issue-1"))
        .unwrap();
    let events_after_first = store.last_sequence("t1").unwrap();
    let retry = engine
        .execute("t1", &issue("1000.00"), &meta("issue-1"))
        .unwrap();
    assert!(retry.replayed);
    assert_eq!(retry.events, first.events);
    assert_eq!(store.last_sequence("t1").unwrap(), events_after_first);
    assert_eq!(engine.read("t1", |s| s.book.policies.len()).unwrap(), 1);
}

#[test]
fn the_same_key_with_a_different_command_is_a_conflict_and_changes_nothing() {
    let store: Arc<dyn Store> = crate::store::test_store();
    let engine = engine(Arc::clone(&store));
    set_up(&engine);
    engine
        .execute("t1", &issue("1000.00"), &meta("issue-1"))
        .unwrap();
    let before = store.last_sequence("t1").unwrap();
    let error = engine
        .execute("t1", &issue("2000.00"), &meta("issue-1"))
        .unwrap_err();
    assert_eq!(error, EngineError::IdempotencyConflict("issue-1".into()));
    assert_eq!(error.code(), "idempotency_conflict");
    assert_eq!(store.last_sequence("t1").unwrap(), before);
}

#[test]
fn a_refused_command_appends_nothing() {
    let store: Arc<dyn Store> = crate::store::test_store();
    let engine = engine(Arc::clone(&store));
    set_up(&engine);
    let before = store.last_sequence("t1").unwrap();
    let cancel = PolicyCommand::Cancel {
        policy: "P9".into(),
        effective: NaiveDate::from_ymd_opt(2021, 6, 1).unwrap(),
        reason: Default::default(),
    }
    .into();
    assert_eq!(
        engine
            .execute("t1", &cancel, &meta("c"))
            .unwrap_err()
            .code(),
        "policy_not_found"
    );
    assert_eq!(store.last_sequence("t1").unwrap(), before);
}

#[test]
fn after_a_restart_the_rebuilt_state_equals_the_state_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let (book, entries) = {
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let engine = engine(store);
        set_up(&engine);
        engine
            .execute("t1", &issue("1000.00"), &meta("issue"))
            .unwrap();
        let cancel = PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: NaiveDate::from_ymd_opt(2021, 7, 1).unwrap(),
            reason: Default::default(),
        }
        .into();
        engine.execute("t1", &cancel, &meta("cancel")).unwrap();
        let reinstate = PolicyCommand::Reinstate {
            policy: "P1".into(),
            effective: NaiveDate::from_ymd_opt(2021, 7, 1).unwrap(),
        }
        .into();
        engine
            .execute("t1", &reinstate, &meta("reinstate"))
            .unwrap();
        engine
            .read("t1", |s| (s.book.clone(), s.ledger.entries().to_vec()))
            .unwrap()
    };
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
    let reopened = engine(store);
    let (rebuilt_book, rebuilt_entries) = reopened
        .read("t1", |s| (s.book.clone(), s.ledger.entries().to_vec()))
        .unwrap();
    assert_eq!(rebuilt_book, book);
    assert_eq!(rebuilt_entries, entries);
    assert_eq!(
        rebuilt_book.policy("P1").unwrap().charge_total("premium"),
        dec!(1000.00)
    );
    // A retried key is still recognised after the restart.
    assert!(
        reopened
            .execute("t1", &issue("1000.00"), &meta("issue"))
            .unwrap()
            .replayed
    );
}

#[test]
fn a_preview_shows_the_balances_it_would_move_and_keeps_nothing() {
    let store: Arc<dyn Store> = crate::store::test_store();
    let engine = engine(Arc::clone(&store));
    set_up(&engine);
    let before = store.last_sequence("t1").unwrap();
    let preview = engine
        .preview("t1", &[issue("1000.00")], &meta("issue"))
        .unwrap();
    assert_eq!(store.last_sequence("t1").unwrap(), before);
    assert!(engine.read("t1", |s| s.book.policies.is_empty()).unwrap());
    let unbilled = preview
        .balances
        .iter()
        .find(|b| b.account.account == crate::ledger::LedgerAccount::PremiumReceivableUnbilled)
        .unwrap();
    assert_eq!((unbilled.before, unbilled.after), (dec!(0), dec!(1000.00)));
    let committed = engine
        .execute("t1", &issue("1000.00"), &meta("issue"))
        .unwrap();
    assert_eq!(committed.events, preview.events, "preview equals commit");
}

#[test]
fn a_charge_is_explained_from_the_event_log() {
    let store: Arc<dyn Store> = crate::store::test_store();
    let engine = engine(store);
    set_up(&engine);
    engine
        .execute("t1", &issue("1000.00"), &meta("issue"))
        .unwrap();
    let audit = engine.explain_charge("t1", "P1", "P1-T1-C1").unwrap();
    assert_eq!(audit.charge.amount.amount, dec!(1000.00));
    assert_eq!(audit.transaction.unwrap().locator, "P1-T1");
    assert_eq!(audit.rating_calls.len(), 1);
    assert_eq!(
        engine
            .explain_charge("t1", "P1", "nope")
            .unwrap_err()
            .code(),
        "not_found"
    );
}

#[test]
fn tenants_are_kept_apart() {
    let store: Arc<dyn Store> = crate::store::test_store();
    let engine = engine(store);
    set_up(&engine);
    engine
        .execute("t1", &issue("1000.00"), &meta("issue"))
        .unwrap();
    assert!(engine.read("t2", |s| s.book.policies.is_empty()).unwrap());
    assert_eq!(
        engine
            .execute("t2", &issue("1000.00"), &meta("issue"))
            .unwrap_err()
            .code(),
        "product_not_found"
    );
}

#[test]
fn concurrent_commands_on_one_tenant_share_commits_and_replay_in_log_order() {
    let dir = tempfile::tempdir().unwrap();
    let (book, entries) = {
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let engine = Arc::new(engine(store));
        set_up(&engine);
        let threads: Vec<_> = (0..8)
            .map(|thread| {
                let engine = Arc::clone(&engine);
                std::thread::spawn(move || {
                    let mut replays = 0;
                    for n in 0..20 {
                        // Threads 0-3 and 4-7 send the same keys: every key
                        // is sent twice, concurrently.
                        let key = format!("fee-{}-{n}", thread % 4);
                        let command: EngineCommand = PolicyCommand::AddFlatCharge {
                            account: "A1".into(),
                            policy: None,
                            charge: "service-fee".into(),
                            amount: rust_decimal::Decimal::new(100 + n, 2),
                            invoicing: None,
                            description: String::new(),
                        }
                        .into();
                        if engine
                            .execute("t1", &command, &meta(&key))
                            .unwrap()
                            .replayed
                        {
                            replays += 1;
                        }
                    }
                    replays
                })
            })
            .collect();
        let replays: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(replays, 80, "every key committed once and replayed once");
        engine
            .read("t1", |s| (s.book.clone(), s.ledger.entries().to_vec()))
            .unwrap()
    };
    assert_eq!(book.account_charges.len(), 80);
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
    let reopened = engine(store);
    let (rebuilt_book, rebuilt_entries) = reopened
        .read("t1", |s| (s.book.clone(), s.ledger.entries().to_vec()))
        .unwrap();
    assert_eq!(rebuilt_book, book);
    assert_eq!(rebuilt_entries, entries);
}

#[test]
fn a_single_command_preview_shows_the_balances_a_commit_then_has() {
    let store: Arc<dyn Store> = crate::store::test_store();
    let engine = engine(store);
    set_up(&engine);
    engine
        .execute("t1", &issue("1000.00"), &meta("issue"))
        .unwrap();
    let cancel: EngineCommand = PolicyCommand::Cancel {
        policy: "P1".into(),
        effective: NaiveDate::from_ymd_opt(2021, 7, 1).unwrap(),
        reason: Default::default(),
    }
    .into();
    let preview = engine
        .preview("t1", std::slice::from_ref(&cancel), &meta("cancel"))
        .unwrap();
    assert!(!preview.balances.is_empty());
    let committed = engine.execute("t1", &cancel, &meta("cancel")).unwrap();
    assert_eq!(committed.events, preview.events, "preview equals commit");
    for change in &preview.balances {
        let now = engine
            .read("t1", |s| s.ledger.balance(&change.account))
            .unwrap();
        assert_eq!(now, change.after, "{:?}", change.account);
    }
    let unbilled = preview
        .balances
        .iter()
        .find(|b| b.account.account == crate::ledger::LedgerAccount::PremiumReceivableUnbilled)
        .unwrap();
    // 1000.00 less the 500.00 returned, plus the 50.00 holdback.
    assert_eq!(
        (unbilled.before, unbilled.after),
        (dec!(1000.00), dec!(550.00))
    );
}

/// Field-rated products, priced in this process.
struct InProcessRaters;

impl RaterResolver for InProcessRaters {
    fn resolve(&self, _chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
        Ok(Arc::new(FieldRater))
    }

    fn prices_in_process(&self, _chain: &RatingChain) -> bool {
        true
    }
}

#[test]
fn a_quote_runs_on_the_callers_thread_only_when_it_would_wait_on_nothing() {
    let store = crate::store::test_store();
    let shared = store.shared();
    let engine = Engine::open(store, Arc::new(InProcessRaters)).unwrap();
    set_up(&engine);
    let quote = RequestMeta {
        idempotency_key: None,
        arithmetic: crate::billing::Arithmetic::Skipped,
        ..meta("quote")
    };
    let now = |product: &str| {
        let mut command = issue("1000.00");
        if let EngineCommand::Policy(PolicyCommand::IssuePolicy { product: named, .. }) =
            &mut command
        {
            *named = product.to_string();
        }
        engine.preview_quote_without_waiting("t1", &command, &quote)
    };
    if shared {
        assert!(
            now("auto").is_none(),
            "a shared store is asked before every read"
        );
        return;
    }
    let priced_now = now("auto").expect("nothing to wait on").unwrap();
    let waited = engine.preview("t1", &[issue("1000.00")], &quote).unwrap();
    assert_eq!(priced_now, waited, "the same answer as a preview");
    assert!(now("no-such-product").is_none());
    let account = PolicyCommand::CreateAccount {
        locator: "A2".into(),
        name: "Bo".into(),
        currency: Currency::USD,
    }
    .into();
    assert!(
        engine
            .preview_quote_without_waiting("t1", &account, &quote)
            .is_none(),
        "only a new policy is a quote"
    );
    // A commit holds the tenant's lock (it may be waiting on an external
    // rater): the quote does not wait for it on an async worker.
    engine.while_locked("t1", || assert!(now("auto").is_none()));
    assert!(now("auto").is_some());
    // Raters that may wait on the network.
    let elsewhere = Engine::open(crate::store::test_store(), Arc::new(FieldRaters)).unwrap();
    set_up(&elsewhere);
    assert!(
        elsewhere
            .preview_quote_without_waiting("t1", &issue("1000.00"), &quote)
            .is_none()
    );
}

/// A product with a five-year term billed weekly, and a policy of `perils`
/// rated perils on one exposure.
fn large_policy(perils: usize) -> (EngineCommand, EngineCommand) {
    let mut product = auto_product();
    product.term_months = 60;
    product.plans.insert(
        "weekly".into(),
        crate::billing::InstallmentPlan::new(crate::billing::Cadence::Weekly),
    );
    product.default_plan = "weekly".into();
    // Fifty perils a vehicle (an exposure holds at most 64).
    let mut exposures = BTreeMap::new();
    for n in 0..perils {
        let mut fields = Fields::new();
        fields.insert(
            "yearly_premium".into(),
            vec![FieldValue::Text(format!("{}.37", 100 + n))],
        );
        exposures
            .entry(format!("V{}", n / 50))
            .or_insert_with(|| ExposureData {
                name: "vehicle".into(),
                fields: Fields::new(),
                perils: Default::default(),
            })
            .perils
            .insert(
                format!("V{}-P{n:03}", n / 50),
                PerilData {
                    name: "collision".into(),
                    fields,
                },
            );
    }
    let issue = PolicyCommand::IssuePolicy {
        locator: "BIG".into(),
        account: "A1".into(),
        product: "auto".into(),
        start: NaiveDate::from_ymd_opt(2021, 1, 1).unwrap(),
        plan: None,
        time_zone: "UTC".into(),
        data: PolicyData {
            fields: Fields::new(),
            exposures: exposures.into(),
        },
        bind: Default::default(),
    };
    (
        PolicyCommand::DeployProduct { product }.into(),
        issue.into(),
    )
}

#[test]
fn a_policy_of_200_perils_on_a_weekly_five_year_plan_issues_and_its_preview_agrees() {
    let store: Arc<dyn Store> = crate::store::test_store();
    let engine = engine(Arc::clone(&store));
    set_up(&engine);
    let (deploy, issue) = large_policy(200);
    engine.execute("t1", &deploy, &meta("deploy-5y")).unwrap();
    let preview = engine
        .preview("t1", std::slice::from_ref(&issue), &meta("big"))
        .unwrap();
    let started = std::time::Instant::now();
    let outcome = engine.execute("t1", &issue, &meta("big")).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(outcome.events, preview.events, "the preview is the commit");
    let record = outcome
        .events
        .iter()
        .find_map(|e| match e {
            TenantEvent::Book(crate::policy::BookEvent::TransactionIssued { record }) => {
                Some(record)
            }
            _ => None,
        })
        .unwrap();
    // 261 weekly installments over five years, 200 perils.
    assert_eq!(record.charges.len(), 200);
    assert!(record.slices.len() >= 200 * 261, "{}", record.slices.len());
    let bytes = serde_json::to_vec(&outcome.events).unwrap().len();
    eprintln!(
        "200 perils x 261 weekly installments: {} slices, events {bytes} bytes, committed in {elapsed:?}",
        record.slices.len()
    );
    assert!(bytes < crate::store::PAYLOAD_BYTES_MAX / 8, "{bytes} bytes");
    // Every peril's installments sum to its charge, and the term's weekly
    // installments are level: at most one cent apart in full weeks.
    let mut weekly = BTreeMap::new();
    for slice in &record.slices {
        *weekly.entry(slice.installment).or_insert(dec!(0)) += slice.amount.amount;
    }
    let full: Vec<_> = weekly.values().take(260).collect();
    let (low, high) = (full.iter().min().unwrap(), full.iter().max().unwrap());
    assert!(**high - **low <= dec!(0.01), "{low} .. {high}");
}

#[test]
fn an_effect_over_the_logs_limit_is_refused_the_same_way_by_preview_and_commit() {
    let events = vec![TenantEvent::Book(
        crate::policy::BookEvent::ProductDeployed {
            product: auto_product(),
        },
    )];
    assert_eq!(crate::engine::state::check_event_sizes(&events), Ok(()));
    let error = EngineError::TooLarge {
        what: "event payload bytes",
        limit: crate::store::PAYLOAD_BYTES_MAX,
        actual: crate::store::PAYLOAD_BYTES_MAX + 1,
    };
    assert_eq!(error.code(), "too_large");
    assert_eq!(
        error.to_string(),
        format!(
            "event payload bytes {} is over the limit of {}",
            crate::store::PAYLOAD_BYTES_MAX + 1,
            crate::store::PAYLOAD_BYTES_MAX
        )
    );
}

/// On PostgreSQL, the balance projection the store sums from the lines the
/// engine hands over agrees with the ledger, key by key: a 1000.00 policy
/// issued and billed up to 2021-01-01 debits `premium_receivable_unbilled`
/// of `A1` 1000.00. Skipped without a test database.
#[test]
fn the_postgresql_balance_projection_agrees_with_the_ledger() {
    use crate::ledger::Side;
    use crate::store::{PgStore, fresh_schema_name, test_database_url, url_with_schema};
    let Some(url) = test_database_url() else {
        return;
    };
    let url = url_with_schema(&url, &fresh_schema_name("projection"));
    let store = Arc::new(PgStore::open(&url).unwrap());
    let engine = engine(Arc::clone(&store) as Arc<dyn Store>);
    set_up(&engine);
    engine
        .execute("t1", &issue("1000.00"), &meta("issue"))
        .unwrap();
    let mut run = meta("run");
    run.idempotency_key = None;
    let report = engine
        .run_billing("t1", NaiveDate::from_ymd_opt(2021, 1, 1).unwrap(), &run)
        .unwrap();
    assert!(report.failures.is_empty(), "{report:?}");
    let rows = store.ledger_balances("t1").unwrap();
    let unbilled = rows
        .iter()
        .find(|r| r.account == "premium_receivable_unbilled" && r.subledger == "A1")
        .unwrap();
    assert_eq!(unbilled.debits, "1000.00");
    let ledger = engine
        .read("t1", |s| {
            s.ledger
                .balances()
                .map(|(key, balance)| (key.clone(), balance))
                .collect::<Vec<_>>()
        })
        .unwrap();
    assert_eq!(rows.len(), ledger.len(), "{rows:?}");
    for (key, balance) in ledger {
        let row = rows
            .iter()
            .find(|r| {
                r.account == key.account.code()
                    && r.currency == key.currency.code()
                    && r.subledger == key.subledger.clone().unwrap_or_default()
            })
            .unwrap_or_else(|| panic!("no row of {key:?}"));
        let debits: rust_decimal::Decimal = row.debits.parse().unwrap();
        let credits: rust_decimal::Decimal = row.credits.parse().unwrap();
        let signed = match key.account.normal_side() {
            Side::Debit => debits - credits,
            Side::Credit => credits - debits,
        };
        assert_eq!(signed, balance, "{key:?}");
    }
}

#[test]
fn two_hosts_pipelining_commands_of_one_tenant_lose_races_without_losing_or_refusing_a_command() {
    use crate::store::{PgStore, fresh_schema_name, test_database_url, url_with_schema};
    let Some(url) = test_database_url() else {
        return;
    };
    let url = url_with_schema(&url, &fresh_schema_name("pipeline"));
    let hosts: Vec<Arc<Engine>> = (0..2)
        .map(|_| {
            Arc::new(engine(
                Arc::new(PgStore::open(&url).unwrap()) as Arc<dyn Store>
            ))
        })
        .collect();
    set_up(&hosts[0]);
    // Four threads per host, 15 fees each (1.00, 1.01, ... 1.14), all at
    // once on the same tenant: the hosts' pipelines keep breaking each
    // other's chains.
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let engine = Arc::clone(&hosts[thread % 2]);
            std::thread::spawn(move || {
                for n in 0..15 {
                    let command: EngineCommand = PolicyCommand::AddFlatCharge {
                        account: "A1".into(),
                        policy: None,
                        charge: "service-fee".into(),
                        amount: rust_decimal::Decimal::new(100 + n, 2),
                        invoicing: None,
                        description: String::new(),
                    }
                    .into();
                    let outcome = engine
                        .execute("t1", &command, &meta(&format!("fee-{thread}-{n}")))
                        .expect("no command is refused");
                    assert!(!outcome.replayed);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let seen: Vec<_> = hosts
        .iter()
        .map(|host| {
            host.read("t1", |s| (s.book.clone(), s.ledger.entries().to_vec()))
                .unwrap()
        })
        .collect();
    assert_eq!(
        seen[0].0.account_charges.len(),
        120,
        "8 threads x 15 fees, once each"
    );
    let rebuilt = engine(Arc::new(PgStore::open(&url).unwrap()) as Arc<dyn Store>)
        .read("t1", |s| (s.book.clone(), s.ledger.entries().to_vec()))
        .unwrap();
    assert_eq!(seen[0], rebuilt, "host A's state is the log's");
    assert_eq!(seen[1], rebuilt, "host B's state is the log's");
}

#[test]
fn a_command_decided_on_what_authentication_asked_still_sees_what_other_hosts_committed_since() {
    use crate::store::{PgStore, fresh_schema_name, test_database_url, url_with_schema};
    let Some(url) = test_database_url() else {
        return;
    };
    let url = url_with_schema(&url, &fresh_schema_name("fresh"));
    let host = |_| engine(Arc::new(PgStore::open(&url).unwrap()) as Arc<dyn Store>);
    let (a, b) = (host(0), host(1));
    set_up(&a);
    let fee = |cents: i64| -> EngineCommand {
        PolicyCommand::AddFlatCharge {
            account: "A1".into(),
            policy: None,
            charge: "service-fee".into(),
            amount: rust_decimal::Decimal::new(cents, 2),
            invoicing: None,
            description: String::new(),
        }
        .into()
    };
    let fees = |host: &Engine| host.read("t1", |s| s.book.account_charges.len()).unwrap();

    // Host A authenticates a request with key k1; host B then commits k1.
    let (_, fresh) = a.read_fresh("t1", Some("k1"), |_| ()).unwrap();
    let fresh = fresh.expect("a shared store answers");
    assert_eq!(fresh.idempotency_key.as_deref(), Some("k1"));
    assert_eq!(fresh.probed.record, None, "k1 not committed yet");
    assert!(!b.execute("t1", &fee(100), &meta("k1")).unwrap().replayed);
    // A's command, decided on the older answer, is the same request again.
    let outcome = a
        .execute_fresh("t1", &fee(100), &meta("k1"), Some(fresh))
        .unwrap();
    assert!(outcome.replayed, "the store caught the key committed since");
    assert_eq!(fees(&a), 1);

    // Host A authenticates k2; host B commits another fee; A's fee is
    // decided again after its append conflicts, and both land.
    let (_, fresh) = a.read_fresh("t1", Some("k2"), |_| ()).unwrap();
    assert!(!b.execute("t1", &fee(200), &meta("k3")).unwrap().replayed);
    let outcome = a
        .execute_fresh("t1", &fee(300), &meta("k2"), fresh)
        .unwrap();
    assert!(!outcome.replayed);
    assert_eq!(fees(&a), 3);

    // An answer asked for another key is not used: k3 is found committed.
    let (_, other) = a.read_fresh("t1", Some("k4"), |_| ()).unwrap();
    let outcome = a
        .execute_fresh("t1", &fee(200), &meta("k3"), other)
        .unwrap();
    assert!(outcome.replayed);
    assert_eq!((fees(&a), fees(&b)), (3, 3));
    let amounts = |host: &Engine| {
        host.read("t1", |s| {
            let mut amounts: Vec<_> = s
                .book
                .account_charges
                .iter()
                .map(|c| c.amount.amount)
                .collect();
            amounts.sort();
            amounts
        })
        .unwrap()
    };
    assert_eq!(amounts(&a), vec![dec!(1.00), dec!(2.00), dec!(3.00)]);
    assert_eq!(amounts(&a), amounts(&b));
}
