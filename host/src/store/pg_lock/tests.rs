//! Tenant locks on a real database (`PREMIA_TEST_POSTGRES_URL`, skipped
//! without it, required in CI): while one host holds a tenant, another
//! host's append to it waits and then lands after the holder's; a lock
//! dropped without an append writes nothing and frees the tenant.

use crate::store::pg_commit::tests::payment;
use crate::store::{
    AppendOutcome, PgStore, Store, StoreError, fresh_schema_name, test_database_url,
    url_with_schema,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn two_hosts() -> Option<(Arc<PgStore>, Arc<PgStore>)> {
    let url = url_with_schema(&test_database_url()?, &fresh_schema_name("lock"));
    Some((
        Arc::new(PgStore::open(&url).unwrap()),
        Arc::new(PgStore::open(&url).unwrap()),
    ))
}

#[test]
fn another_hosts_append_waits_for_the_lock_and_lands_after_the_holders() {
    let Some((a, b)) = two_hosts() else {
        return;
    };
    a.append(payment("acme", 1, "payment_received", "10.00"))
        .unwrap();
    let held = a
        .lock_tenant("acme")
        .unwrap()
        .expect("PostgreSQL holds tenants");
    assert_eq!(held.last_sequence(), 1);
    // Host B appends (expecting nothing in particular) while A holds acme.
    let started = Instant::now();
    let waiting = {
        let b = Arc::clone(&b);
        std::thread::spawn(move || {
            let outcome = b.append(payment("acme", 3, "payment_received", "30.00"));
            (outcome, started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    // A decides on the log it holds (at 1) and commits 2.
    let mut mine = payment("acme", 2, "payment_received", "20.00");
    mine.expected_last_sequence = Some(held.last_sequence());
    assert_eq!(
        held.append(mine).unwrap(),
        AppendOutcome::Committed {
            first_sequence: 2,
            last_sequence: 2
        }
    );
    let (theirs, waited) = waiting.join().unwrap();
    assert_eq!(
        theirs.unwrap(),
        AppendOutcome::Committed {
            first_sequence: 3,
            last_sequence: 3
        }
    );
    assert!(
        waited >= Duration::from_millis(250),
        "B waited for A's lock: {waited:?}"
    );
    let keys: Vec<_> = a
        .read("acme", 0, 10)
        .unwrap()
        .into_iter()
        .map(|e| e.idempotency_key.unwrap())
        .collect();
    assert_eq!(keys, ["K-1", "K-2", "K-3"]);
}

#[test]
fn a_lock_dropped_without_an_append_writes_nothing_and_frees_the_tenant() {
    let Some((a, b)) = two_hosts() else {
        return;
    };
    a.append(payment("acme", 1, "payment_received", "10.00"))
        .unwrap();
    drop(a.lock_tenant("acme").unwrap().expect("held"));
    // Another host appends at once, and a tenant held for the first time
    // (no row yet) is held and appended to like any other.
    assert!(matches!(
        b.append(payment("acme", 2, "payment_received", "20.00")),
        Ok(AppendOutcome::Committed {
            first_sequence: 2,
            ..
        })
    ));
    let held = b.lock_tenant("globex").unwrap().expect("held");
    assert_eq!(held.last_sequence(), 0);
    let mut first = payment("globex", 1, "payment_received", "5.00");
    first.expected_last_sequence = Some(0);
    assert!(matches!(
        held.append(first),
        Ok(AppendOutcome::Committed {
            first_sequence: 1,
            ..
        })
    ));
    assert_eq!(a.last_sequence("acme").unwrap(), 2);
    assert_eq!(a.last_sequence("globex").unwrap(), 1);
}

#[test]
fn an_append_refused_under_the_lock_writes_nothing_and_releases_it() {
    let Some((a, b)) = two_hosts() else {
        return;
    };
    a.append(payment("acme", 1, "payment_received", "10.00"))
        .unwrap();
    let held = a.lock_tenant("acme").unwrap().expect("held");
    // The same key again with another request: refused, nothing written.
    let mut conflicting = payment("acme", 1, "payment_received", "99.00");
    conflicting.meta.request_hash = "another".to_string();
    assert!(matches!(
        held.append(conflicting),
        Err(StoreError::IdempotencyConflict { .. })
    ));
    assert!(matches!(
        b.append(payment("acme", 2, "payment_received", "20.00")),
        Ok(AppendOutcome::Committed {
            first_sequence: 2,
            ..
        })
    ));
    assert_eq!(a.read("acme", 0, 10).unwrap().len(), 2);
}
