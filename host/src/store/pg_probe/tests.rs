//! The prober on a real database (`PREMIA_TEST_POSTGRES_URL`, skipped
//! without it, required in CI): many callers asking at once each get the
//! answer to their own question, an answer reflects every commit made before
//! it was asked, and a lost connection fails the round with a retryable
//! error and is replaced.

use crate::store::pg_commit::tests::{end_connections_of, payment};
use crate::store::{
    AppendOutcome, PgStore, Store, StoreError, fresh_schema_name, test_database_url,
    url_with_schema,
};
use std::sync::Arc;

#[test]
fn callers_asking_at_once_each_get_the_answer_to_their_own_question() {
    let Some(base) = test_database_url() else {
        return;
    };
    let store =
        Arc::new(PgStore::open(&url_with_schema(&base, &fresh_schema_name("probe"))).unwrap());
    // acme has 3 events (keys K-1..K-3), globex 1 (K-1), initech none.
    for n in 1..=3 {
        store
            .append(payment("acme", n, "payment_received", "10.00"))
            .unwrap();
    }
    store
        .append(payment("globex", 1, "payment_received", "25.00"))
        .unwrap();
    let askers: Vec<_> = (0..48)
        .map(|i| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let tenant = ["acme", "globex", "initech"][i % 3];
                let last = store.last_sequence(tenant).unwrap();
                let key = format!("K-{}", i % 4);
                let record = store.idempotent_record(tenant, &key).unwrap();
                (
                    tenant,
                    key,
                    last,
                    record.map(|r| (r.request_hash, r.first_sequence)),
                )
            })
        })
        .collect();
    for asker in askers {
        let (tenant, key, last, record) = asker.join().unwrap();
        let expected_last = match tenant {
            "acme" => 3,
            "globex" => 1,
            _ => 0,
        };
        assert_eq!(last, expected_last, "{tenant}");
        let expected_record = match (tenant, key.as_str()) {
            ("acme", "K-1") => Some(("h1".to_string(), 1)),
            ("acme", "K-2") => Some(("h2".to_string(), 2)),
            ("acme", "K-3") => Some(("h3".to_string(), 3)),
            ("globex", "K-1") => Some(("h1".to_string(), 1)),
            _ => None,
        };
        assert_eq!(record, expected_record, "{tenant} {key}");
    }
}

#[test]
fn a_probe_sees_every_commit_acknowledged_before_it_was_asked() {
    let Some(base) = test_database_url() else {
        return;
    };
    let store =
        Arc::new(PgStore::open(&url_with_schema(&base, &fresh_schema_name("probe"))).unwrap());
    // A writer commits while readers keep asking: no answer is ever behind
    // what was acknowledged before the question.
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            for n in 1..=60 {
                store
                    .append(payment("acme", n, "payment_received", "1.00"))
                    .unwrap();
                let last = store.last_sequence("acme").unwrap();
                assert!(last >= u64::from(n), "acknowledged {n}, probe says {last}");
                let record = store.idempotent_record("acme", &format!("K-{n}")).unwrap();
                assert_eq!(record.map(|r| r.last_sequence), Some(u64::from(n)));
            }
        })
    };
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut seen = 0;
                for _ in 0..100 {
                    let last = store.last_sequence("acme").unwrap();
                    assert!(last >= seen, "went back from {seen} to {last}");
                    seen = last;
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for reader in readers {
        reader.join().unwrap();
    }
    assert_eq!(store.last_sequence("acme").unwrap(), 60);
}

#[test]
fn a_lost_prober_connection_fails_its_round_with_a_retryable_error_and_reconnects() {
    let Some(base) = test_database_url() else {
        return;
    };
    let name = fresh_schema_name("probe_reconnect");
    let url = format!("{}&application_name={name}", url_with_schema(&base, &name));
    let store = PgStore::open(&url).unwrap();
    assert!(matches!(
        store.append(payment("acme", 1, "payment_received", "10.00")),
        Ok(AppendOutcome::Committed { .. })
    ));
    assert_eq!(store.last_sequence("acme").unwrap(), 1);
    let killed = end_connections_of(&base, &name);
    assert!(
        killed >= 2,
        "the committer's and the prober's connections: {killed}"
    );
    std::thread::sleep(std::time::Duration::from_millis(100));
    let mut answers = Vec::new();
    for attempt in 0..3 {
        match store.idempotent_record("acme", "K-1") {
            Ok(record) => {
                answers.push(record.map(|r| r.request_hash));
                break;
            }
            Err(StoreError::Io(message)) => assert!(attempt < 2, "still failing: {message}"),
            Err(other) => panic!("not a retryable error: {other:?}"),
        }
    }
    assert_eq!(answers, vec![Some("h1".to_string())]);
    assert_eq!(store.last_sequence("acme").unwrap(), 1);
}
