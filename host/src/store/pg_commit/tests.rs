//! The PostgreSQL committer on a real database (`PREMIA_TEST_POSTGRES_URL`,
//! skipped without it, required in CI): a batch is all or nothing, a refused
//! append leaves the others and the tenant row consistent with the log, a
//! broken chain refuses the rest of the chain, and a lost connection fails
//! the batch with a retryable error and is replaced.

use super::{Begin, BrokenChains, commit_batch, commit_works};
use crate::store::event::{AppendOutcome, AppendRequest, BalanceLine, CommandMeta, NewEvent};
use crate::store::pg_link::Link;
use crate::store::planner::Done;
use crate::store::prepare::{Work, prepare_append};
use crate::store::{
    PgStore, Store, StoreError, fresh_schema_name, test_database_url, url_with_schema,
};
use chrono::{TimeZone, Utc};
use postgres::{Client, NoTls};
use rust_decimal::Decimal;
use serde_json::json;

/// A store in a fresh schema, a direct connection to that schema, and the
/// schema's URL.
fn database(prefix: &str) -> Option<(PgStore, Client, String)> {
    let url = url_with_schema(&test_database_url()?, &fresh_schema_name(prefix));
    let store = PgStore::open(&url).expect("open the PostgreSQL store");
    let client = std::thread::spawn({
        let url = url.clone();
        move || Client::connect(&url, NoTls).expect("connect")
    })
    .join()
    .unwrap();
    Some((store, client, url))
}

/// A payment of `amount` to account A-1 of `tenant`: one event, two balance
/// lines (cash debited, the account's receivable credited).
pub(in crate::store) fn payment(tenant: &str, n: u32, kind: &str, amount: &str) -> AppendRequest {
    let amount: Decimal = amount.parse().unwrap();
    AppendRequest {
        meta: CommandMeta {
            tenant: tenant.to_string(),
            command_id: format!("C-{n}"),
            actor: "user:clerk".to_string(),
            issued_at: Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap(),
            idempotency_key: Some(format!("K-{n}")),
            request_hash: format!("h{n}"),
        },
        expected_versions: Vec::new(),
        expected_last_sequence: None,
        chain: None,
        events: vec![NewEvent::json(
            "account/A-1",
            kind,
            &json!({ "n": n, "amount": amount.to_string() }),
        )],
        balance_lines: vec![
            BalanceLine {
                account: "cash".to_string(),
                currency: "USD".to_string(),
                subledger: String::new(),
                debit: amount,
                credit: Decimal::ZERO,
            },
            BalanceLine {
                account: "premium_receivable".to_string(),
                currency: "USD".to_string(),
                subledger: "A-1".to_string(),
                debit: Decimal::ZERO,
                credit: amount,
            },
        ],
        response: json!({ "events": 1 }),
    }
}

fn work(request: AppendRequest) -> Work {
    prepare_append(request).unwrap()
}

/// Ends every connection of the store whose URL names `application_name`
/// (a database restart, a failover, an administrator): how many.
pub(in crate::store) fn end_connections_of(base: &str, application_name: &str) -> i64 {
    let (base, name) = (base.to_string(), application_name.to_string());
    on_thread(move || {
        let mut admin = Client::connect(&base, NoTls).unwrap();
        admin
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE application_name = $1",
                &[&name],
            )
            .unwrap()
            .get(0)
    })
}

/// Runs `f` on a plain thread (the sync client must not run on a test's
/// runtime thread, and keeps this independent of the caller).
pub(in crate::store) fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

/// What the database holds for `tenant`: the tenant row's last sequence,
/// the events' sequences and kinds, the idempotency keys, and the cash
/// debits of the balance projection.
fn contents(client: &mut Client, tenant: &str) -> (i64, Vec<(i64, String)>, Vec<String>, String) {
    let last: i64 = client
        .query_opt(
            "SELECT last_sequence FROM premia_tenants WHERE tenant = $1",
            &[&tenant],
        )
        .unwrap()
        .map(|row| row.get(0))
        .unwrap_or(0);
    let events = client
        .query(
            "SELECT sequence, kind FROM premia_events WHERE tenant = $1 ORDER BY sequence",
            &[&tenant],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let keys = client
        .query(
            "SELECT key FROM premia_idempotency WHERE tenant = $1 ORDER BY key",
            &[&tenant],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let cash: String = client
        .query_opt(
            "SELECT debits::text FROM premia_ledger_balances WHERE tenant = $1 AND account = 'cash'",
            &[&tenant],
        )
        .unwrap()
        .map(|row| row.get(0))
        .unwrap_or_else(|| "none".to_string());
    (last, events, keys, cash)
}

/// A trigger that makes the database refuse any event of kind `poison`.
fn refuse_poison(client: &mut Client) {
    client
        .batch_execute(
            "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF NEW.kind = 'poison' THEN RAISE EXCEPTION 'poison refused'; END IF;
                 RETURN NEW;
             END $$;
             CREATE TRIGGER refuse_poison BEFORE INSERT ON premia_events
                 FOR EACH ROW EXECUTE FUNCTION refuse_poison();",
        )
        .unwrap();
}

#[test]
fn a_batch_the_database_refuses_writes_nothing_not_even_its_good_appends() {
    let Some((_store, mut client, url)) = database("batch_whole") else {
        return;
    };
    refuse_poison(&mut client);
    let works = vec![
        work(payment("acme", 1, "payment_received", "10.00")),
        work(payment("acme", 2, "poison", "20.00")),
        work(payment("acme", 3, "payment_received", "30.00")),
    ];
    let refused = on_thread(move || {
        let mut link = Link::new(url);
        let once = link.run(async |conn| {
            commit_batch(conn, &works, &mut BrokenChains::default(), Begin::Now).await
        });
        once.unwrap().is_err()
    });
    assert!(refused, "the database refuses the batch");
    assert_eq!(
        contents(&mut client, "acme"),
        (0, vec![], vec![], "none".to_string()),
        "no event, no key, no balance, and the tenant row at 0"
    );
}

#[test]
fn after_a_refused_batch_the_good_appends_commit_alone_gap_free_and_the_tenant_row_matches_the_log()
{
    let Some((store, mut client, url)) = database("batch_alone") else {
        return;
    };
    refuse_poison(&mut client);
    let works = vec![
        work(payment("acme", 1, "payment_received", "10.00")),
        work(payment("acme", 2, "poison", "20.00")),
        work(payment("acme", 3, "payment_received", "30.00")),
    ];
    let results = on_thread(move || {
        let mut link = Link::new(url);
        commit_works(&mut link, &works, &mut BrokenChains::default())
    });
    assert!(matches!(
        results[0],
        Ok(Done::Append(AppendOutcome::Committed {
            first_sequence: 1,
            last_sequence: 1
        }))
    ));
    assert!(
        matches!(results[1], Err(StoreError::Io(_))),
        "{:?}",
        results[1]
    );
    assert!(matches!(
        results[2],
        Ok(Done::Append(AppendOutcome::Committed {
            first_sequence: 2,
            last_sequence: 2
        }))
    ));
    assert_eq!(
        contents(&mut client, "acme"),
        (
            2,
            vec![
                (1, "payment_received".to_string()),
                (2, "payment_received".to_string())
            ],
            vec!["K-1".to_string(), "K-3".to_string()],
            "40.00".to_string(),
        ),
        "10.00 + 30.00 of cash, nothing of the refused 20.00"
    );
    assert_eq!(store.last_sequence("acme").unwrap(), 2);
    assert_eq!(store.idempotent_record("acme", "K-2").unwrap(), None);
}

#[test]
fn a_chain_broken_by_another_host_refuses_its_later_appends_even_when_their_sequence_matches() {
    let Some((_store, mut client, url)) = database("chain") else {
        return;
    };
    // Host A decided payments 1 and 2 on a log at 0 (its state has 1 in it
    // when it decides 2, which expects 1); host B's payment 9 commits first.
    let mut other_host = payment("acme", 9, "payment_received", "5.00");
    other_host.expected_last_sequence = Some(0);
    let mut first = payment("acme", 1, "payment_received", "10.00");
    first.expected_last_sequence = Some(0);
    first.chain = Some(7);
    let mut second = payment("acme", 2, "payment_received", "20.00");
    second.expected_last_sequence = Some(1);
    second.chain = Some(7);
    let mut fresh = payment("acme", 3, "payment_received", "30.00");
    fresh.expected_last_sequence = Some(1);
    fresh.chain = Some(8);
    let works = vec![work(other_host), work(first), work(second), work(fresh)];
    let results = on_thread(move || {
        let mut link = Link::new(url);
        commit_works(&mut link, &works, &mut BrokenChains::default())
    });
    assert!(matches!(
        results[0],
        Ok(Done::Append(AppendOutcome::Committed {
            first_sequence: 1,
            ..
        }))
    ));
    assert_eq!(
        results[1].as_ref().unwrap_err(),
        &StoreError::SequenceConflict {
            tenant: "acme".to_string(),
            expected: 0,
            actual: 1
        }
    );
    assert_eq!(
        results[2].as_ref().unwrap_err(),
        &StoreError::SequenceConflict {
            tenant: "acme".to_string(),
            expected: 1,
            actual: 1
        },
        "the log is at 1 as payment 2 expects, but 1 is B's event, not payment 1"
    );
    // A rebuilt state (a new chain) decided on B's event commits.
    assert!(matches!(
        results[3],
        Ok(Done::Append(AppendOutcome::Committed {
            first_sequence: 2,
            ..
        }))
    ));
    assert_eq!(
        contents(&mut client, "acme"),
        (
            2,
            vec![
                (1, "payment_received".to_string()),
                (2, "payment_received".to_string())
            ],
            vec!["K-3".to_string(), "K-9".to_string()],
            "35.00".to_string(),
        )
    );
}

#[test]
fn a_lost_connection_fails_with_a_retryable_error_and_the_store_reconnects() {
    let Some(base) = test_database_url() else {
        return;
    };
    let name = fresh_schema_name("reconnect");
    let url = format!("{}&application_name={name}", url_with_schema(&base, &name));
    let store = PgStore::open(&url).unwrap();
    assert!(matches!(
        store.append(payment("acme", 1, "payment_received", "10.00")),
        Ok(AppendOutcome::Committed {
            first_sequence: 1,
            ..
        })
    ));
    assert_eq!(store.read("acme", 0, 10).unwrap().len(), 1);
    // The database ends every connection of this store (a restart, a
    // failover, an administrator).
    let killed = end_connections_of(&base, &name);
    assert!(
        killed >= 2,
        "the committer's and a reader's connections: {killed}"
    );
    std::thread::sleep(std::time::Duration::from_millis(100));
    // The batch that finds the connection gone fails whole, as a retryable
    // I/O error (503 store_unavailable at the API); the retry commits.
    let mut outcomes = Vec::new();
    for attempt in 0..3 {
        match store.append(payment("acme", 2, "payment_received", "20.00")) {
            Ok(outcome) => {
                outcomes.push(outcome);
                break;
            }
            Err(StoreError::Io(message)) => assert!(attempt < 2, "still failing: {message}"),
            Err(other) => panic!("not a retryable error: {other:?}"),
        }
    }
    assert_eq!(
        outcomes,
        vec![AppendOutcome::Committed {
            first_sequence: 2,
            last_sequence: 2
        }]
    );
    // Readers reconnect too.
    let mut read = None;
    for _ in 0..3 {
        if let Ok(events) = store.read("acme", 0, 10) {
            read = Some(events.len());
            break;
        }
    }
    assert_eq!(read, Some(2));
    assert_eq!(store.last_sequence("acme").unwrap(), 2);
}
