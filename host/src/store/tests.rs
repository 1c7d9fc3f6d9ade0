//! The behaviour every store must have, run against `MemoryStore`,
//! `SledStore` and `PgStore` alike: each test is a generic function, and
//! `behaviour_tests!` makes one `#[test]` per backend of it. The tests that
//! write raw bytes in the key-value layout run on the embedded backends only;
//! `PgStore` has SQL counterparts at the end. The PostgreSQL variants need
//! `PREMIA_TEST_POSTGRES_URL` (see `test_database_url`).

use super::codec;
use super::*;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Barrier;

/// A store under test and whatever keeps it alive.
trait Harness {
    fn store(&self) -> &dyn Store;
    /// Writes a raw value under a raw key, bypassing every check.
    fn insert_raw(&self, key: &[u8], value: &[u8]);
    /// How many raw keys start with `prefix`.
    fn count_raw(&self, prefix: &[u8]) -> usize;
}

impl Harness for MemoryStore {
    fn store(&self) -> &dyn Store {
        self
    }
    fn insert_raw(&self, key: &[u8], value: &[u8]) {
        MemoryStore::insert_raw(self, key, value);
    }
    fn count_raw(&self, prefix: &[u8]) -> usize {
        MemoryStore::count_raw(self, prefix)
    }
}

struct SledHarness {
    store: SledStore,
    _dir: tempfile::TempDir,
}

impl Harness for SledHarness {
    fn store(&self) -> &dyn Store {
        &self.store
    }
    fn insert_raw(&self, key: &[u8], value: &[u8]) {
        self.store.insert_raw(key, value);
    }
    fn count_raw(&self, prefix: &[u8]) -> usize {
        self.store.count_raw(prefix)
    }
}

struct PgHarness {
    store: PgStore,
}

impl Harness for PgHarness {
    fn store(&self) -> &dyn Store {
        &self.store
    }
    fn insert_raw(&self, _key: &[u8], _value: &[u8]) {
        unreachable!("the key-value layout tests do not run on PostgreSQL")
    }
    fn count_raw(&self, _prefix: &[u8]) -> usize {
        unreachable!("the key-value layout tests do not run on PostgreSQL")
    }
}

/// A store in a fresh schema of the test database, or `None` (skipped).
fn postgres() -> Option<PgHarness> {
    let url = test_database_url()?;
    let url = url_with_schema(&url, &fresh_schema_name("store"));
    Some(PgHarness {
        store: PgStore::open(&url).expect("open the PostgreSQL store"),
    })
}

fn memory() -> MemoryStore {
    MemoryStore::new()
}

fn sled() -> SledHarness {
    let dir = tempfile::tempdir().expect("temporary directory");
    SledHarness {
        store: SledStore::open(dir.path().join("store")).expect("open the sled store"),
        _dir: dir,
    }
}

macro_rules! behaviour_tests {
    (every: [$($name:ident),* $(,)?], embedded: [$($kv:ident),* $(,)?]) => {
        mod memory_store {
            $(#[test] fn $name() { super::$name(&super::memory()); })*
            $(#[test] fn $kv() { super::$kv(&super::memory()); })*
        }
        mod sled_store {
            $(#[test] fn $name() { super::$name(&super::sled()); })*
            $(#[test] fn $kv() { super::$kv(&super::sled()); })*
        }
        mod postgres_store {
            $(#[test] fn $name() {
                if let Some(harness) = super::postgres() {
                    super::$name(&harness);
                }
            })*
        }
    };
}

behaviour_tests!(
    every: [
    appended_events_are_read_back_in_order_with_gap_free_sequences,
    a_cursor_returns_at_most_limit_events_after_it,
    tenants_are_isolated_and_sequences_are_per_tenant,
    a_retry_with_the_same_key_and_hash_replays_the_first_response_and_writes_nothing,
    the_same_key_with_another_hash_is_a_conflict_and_writes_nothing,
    a_version_conflict_refuses_the_whole_append_and_writes_nothing,
    sixteen_threads_appending_concurrently_produce_a_gap_free_duplicate_free_log,
    racing_requests_with_the_same_key_produce_one_commit_and_replays,
    racing_requests_for_a_new_stream_produce_one_commit_and_conflicts,
    an_expected_last_sequence_that_is_stale_refuses_the_append,
    more_than_1000_events_in_one_append_are_refused_and_nothing_is_written,
    a_payload_over_the_limit_is_refused_and_nothing_is_written,
    a_read_returns_at_most_10000_events_whatever_the_limit,
    an_append_without_events_or_with_a_stream_expected_twice_is_refused,
    blobs_are_stored_listed_replaced_and_deleted,
    a_blob_over_32_mib_is_refused,
    a_tenant_with_only_blobs_is_listed,
    ],
    embedded: [
    an_event_of_an_unknown_format_version_is_refused,
    an_idempotency_record_of_an_unknown_format_version_is_refused,
    events_above_the_last_acknowledged_sequence_are_not_visible,
    an_append_of_several_events_is_one_chunk_and_one_run_per_stream_read_back_from_anywhere,
    ]
);

fn issued_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 9, 30, 0).unwrap()
}

fn meta(tenant: &str, command_id: &str, key: Option<&str>, hash: &str) -> CommandMeta {
    CommandMeta {
        tenant: tenant.to_string(),
        command_id: command_id.to_string(),
        actor: "user:billing-clerk".to_string(),
        issued_at: issued_at(),
        idempotency_key: key.map(str::to_string),
        request_hash: hash.to_string(),
    }
}

fn event(stream: &str, kind: &str, payload: Value) -> NewEvent {
    NewEvent::json(stream, kind, &payload)
}

fn request(meta: CommandMeta, events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest {
        meta,
        expected_versions: Vec::new(),
        expected_last_sequence: None,
        chain: None,
        events,
        balance_lines: Vec::new(),
        response: json!({"ok": true}),
    }
}

fn committed(first_sequence: u64, last_sequence: u64) -> AppendOutcome {
    AppendOutcome::Committed {
        first_sequence,
        last_sequence,
    }
}

fn sequences(events: &[StoredEvent]) -> Vec<u64> {
    events.iter().map(|e| e.sequence).collect()
}

fn appended_events_are_read_back_in_order_with_gap_free_sequences(h: &impl Harness) {
    let store = h.store();
    let first = request(
        meta("acme", "C-1", None, "h1"),
        vec![
            event("policy/P-1", "policy_issued", json!({"premium": "1200.00"})),
            event("account/A-1", "charge_posted", json!({"amount": "100.00"})),
        ],
    );
    assert_eq!(store.append(first).unwrap(), committed(1, 2));
    let second = request(
        meta("acme", "C-2", None, "h2"),
        vec![event(
            "policy/P-1",
            "policy_endorsed",
            json!({"premium": "1300.00"}),
        )],
    );
    assert_eq!(store.append(second).unwrap(), committed(3, 3));

    let events = store.read("acme", 0, 100).unwrap();
    assert_eq!(sequences(&events), vec![1, 2, 3]);
    assert_eq!(
        events[0],
        StoredEvent {
            tenant: "acme".to_string(),
            sequence: 1,
            stream: "policy/P-1".to_string(),
            stream_version: 1,
            kind: "policy_issued".to_string(),
            payload: json!({"premium": "1200.00"}),
            command_id: "C-1".to_string(),
            actor: "user:billing-clerk".to_string(),
            issued_at: issued_at(),
            idempotency_key: None,
            format_version: 1,
        }
    );
    let places: Vec<(&str, u64)> = events
        .iter()
        .map(|e| (e.stream.as_str(), e.stream_version))
        .collect();
    assert_eq!(
        places,
        vec![("policy/P-1", 1), ("account/A-1", 1), ("policy/P-1", 2)]
    );
    assert_eq!(store.last_sequence("acme").unwrap(), 3);

    let policy = store.read_stream("acme", "policy/P-1").unwrap();
    assert_eq!(sequences(&policy), vec![1, 3]);
    assert_eq!(policy[1].kind, "policy_endorsed");
    assert_eq!(store.stream_version("acme", "policy/P-1").unwrap(), 2);
    assert_eq!(store.stream_version("acme", "account/A-1").unwrap(), 1);
    assert_eq!(store.stream_version("acme", "policy/P-9").unwrap(), 0);
    assert_eq!(store.read_stream("acme", "policy/P-9").unwrap(), vec![]);
}

fn a_cursor_returns_at_most_limit_events_after_it(h: &impl Harness) {
    let store = h.store();
    for n in 1..=5 {
        let events = vec![event("account/A-1", "payment_received", json!({"n": n}))];
        store
            .append(request(meta("acme", &format!("C-{n}"), None, "h"), events))
            .unwrap();
    }
    assert_eq!(sequences(&store.read("acme", 1, 2).unwrap()), vec![2, 3]);
    assert_eq!(sequences(&store.read("acme", 3, 10).unwrap()), vec![4, 5]);
    assert_eq!(store.read("acme", 5, 10).unwrap(), vec![]);
    assert_eq!(store.read("acme", 0, 0).unwrap(), vec![]);
    assert_eq!(store.read("acme", 99, 10).unwrap(), vec![]);
}

fn tenants_are_isolated_and_sequences_are_per_tenant(h: &impl Harness) {
    let store = h.store();
    let acme = vec![
        event("policy/P-1", "policy_issued", json!({"tenant": "acme"})),
        event("policy/P-1", "policy_endorsed", json!({"tenant": "acme"})),
    ];
    assert_eq!(
        store
            .append(request(meta("acme", "C-1", Some("k1"), "h1"), acme))
            .unwrap(),
        committed(1, 2)
    );
    let globex = vec![event(
        "policy/P-1",
        "policy_issued",
        json!({"tenant": "globex"}),
    )];
    assert_eq!(
        store
            .append(request(meta("globex", "C-1", Some("k1"), "h2"), globex))
            .unwrap(),
        committed(1, 1)
    );

    let events = store.read("globex", 0, 100).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].tenant.as_str(), events[0].sequence),
        ("globex", 1)
    );
    assert_eq!(events[0].payload, json!({"tenant": "globex"}));
    assert_eq!(store.last_sequence("acme").unwrap(), 2);
    assert_eq!(store.last_sequence("globex").unwrap(), 1);
    assert_eq!(store.last_sequence("initech").unwrap(), 0);
    assert_eq!(store.stream_version("acme", "policy/P-1").unwrap(), 2);
    assert_eq!(store.stream_version("globex", "policy/P-1").unwrap(), 1);
    assert_eq!(
        store
            .idempotent_response("globex", "k1")
            .unwrap()
            .unwrap()
            .0,
        "h2"
    );
    assert_eq!(store.read("initech", 0, 100).unwrap(), vec![]);
    assert_eq!(
        store.tenants().unwrap(),
        vec!["acme".to_string(), "globex".to_string()]
    );
}

fn a_retry_with_the_same_key_and_hash_replays_the_first_response_and_writes_nothing(
    h: &impl Harness,
) {
    let store = h.store();
    let mut first = request(
        meta("acme", "C-1", Some("pay-1"), "h1"),
        vec![event(
            "account/A-1",
            "payment_received",
            json!({"amount": "50.00"}),
        )],
    );
    first.response = json!({"payment": "PAY-1"});
    assert_eq!(store.append(first).unwrap(), committed(1, 1));

    let mut retry = request(
        meta("acme", "C-2", Some("pay-1"), "h1"),
        vec![
            event(
                "account/A-1",
                "payment_received",
                json!({"amount": "50.00"}),
            ),
            event("account/A-1", "journal_posted", json!({})),
        ],
    );
    retry.response = json!({"payment": "PAY-2"});
    retry.expected_versions = vec![("account/A-1".to_string(), 0)];
    assert_eq!(
        store.append(retry).unwrap(),
        AppendOutcome::Replayed {
            response: json!({"payment": "PAY-1"})
        }
    );
    assert_eq!(store.last_sequence("acme").unwrap(), 1);
    assert_eq!(store.read("acme", 0, 100).unwrap().len(), 1);
    assert_eq!(
        store.idempotent_response("acme", "pay-1").unwrap(),
        Some(("h1".to_string(), json!({"payment": "PAY-1"})))
    );
    assert_eq!(store.idempotent_response("acme", "pay-2").unwrap(), None);
}

fn the_same_key_with_another_hash_is_a_conflict_and_writes_nothing(h: &impl Harness) {
    let store = h.store();
    let events = vec![event(
        "account/A-1",
        "payment_received",
        json!({"amount": "50.00"}),
    )];
    store
        .append(request(meta("acme", "C-1", Some("pay-1"), "h1"), events))
        .unwrap();
    let events = vec![event(
        "account/A-1",
        "payment_received",
        json!({"amount": "70.00"}),
    )];
    assert_eq!(
        store.append(request(meta("acme", "C-2", Some("pay-1"), "h2"), events)),
        Err(StoreError::IdempotencyConflict {
            key: "pay-1".to_string()
        })
    );
    assert_eq!(store.last_sequence("acme").unwrap(), 1);
    assert_eq!(
        store.read("acme", 0, 100).unwrap()[0].payload,
        json!({"amount": "50.00"})
    );
}

fn a_version_conflict_refuses_the_whole_append_and_writes_nothing(h: &impl Harness) {
    let store = h.store();
    let mut issue = request(
        meta("acme", "C-1", None, "h1"),
        vec![event("policy/P-1", "policy_issued", json!({}))],
    );
    issue.expected_versions = vec![("policy/P-1".to_string(), 0)];
    assert_eq!(store.append(issue).unwrap(), committed(1, 1));

    let mut stale = request(
        meta("acme", "C-2", Some("end-1"), "h2"),
        vec![
            event("account/A-1", "charge_posted", json!({})),
            event("policy/P-1", "policy_endorsed", json!({})),
        ],
    );
    stale.expected_versions = vec![
        ("account/A-1".to_string(), 0),
        ("policy/P-1".to_string(), 0),
    ];
    assert_eq!(
        store.append(stale.clone()),
        Err(StoreError::VersionConflict {
            stream: "policy/P-1".to_string(),
            expected: 0,
            actual: 1
        })
    );
    assert_eq!(store.last_sequence("acme").unwrap(), 1);
    assert_eq!(store.stream_version("acme", "account/A-1").unwrap(), 0);
    assert_eq!(store.idempotent_response("acme", "end-1").unwrap(), None);

    // The key was not consumed: decided again on the right version, it commits.
    stale.expected_versions[1].1 = 1;
    assert_eq!(store.append(stale).unwrap(), committed(2, 3));
    assert_eq!(store.stream_version("acme", "policy/P-1").unwrap(), 2);
}

fn sixteen_threads_appending_concurrently_produce_a_gap_free_duplicate_free_log(h: &impl Harness) {
    const THREADS: usize = 16;
    const APPENDS: usize = 25;
    let store = h.store();
    let barrier = Barrier::new(THREADS);
    let outcomes: Vec<Vec<AppendOutcome>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    (0..APPENDS)
                        .map(|n| {
                            let stream = format!("account/A-{thread}");
                            let events = (0..3)
                                .map(|part| {
                                    event(
                                        &stream,
                                        "journal_line",
                                        json!({"thread": thread, "n": n, "part": part}),
                                    )
                                })
                                .collect();
                            let key = format!("k-{thread}-{n}");
                            store
                                .append(request(meta("acme", &key, Some(&key), "h"), events))
                                .unwrap()
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let total = (THREADS * APPENDS * 3) as u64;
    let mut claimed = BTreeSet::new();
    for outcome in outcomes.iter().flatten() {
        let AppendOutcome::Committed {
            first_sequence,
            last_sequence,
        } = outcome
        else {
            panic!("unexpected {outcome:?}");
        };
        assert_eq!(last_sequence - first_sequence, 2);
        for sequence in *first_sequence..=*last_sequence {
            assert!(claimed.insert(sequence), "sequence {sequence} given twice");
        }
    }
    assert_eq!(claimed, (1..=total).collect::<BTreeSet<_>>());
    assert_eq!(store.last_sequence("acme").unwrap(), total);

    let mut events = Vec::new();
    loop {
        let page = store.read("acme", events.len() as u64, 100).unwrap();
        if page.is_empty() {
            break;
        }
        events.extend(page);
    }
    assert_eq!(sequences(&events), (1..=total).collect::<Vec<_>>());
    let mut seen = BTreeMap::new();
    for e in &events {
        let identity = (
            e.payload["thread"].as_u64().unwrap(),
            e.payload["n"].as_u64().unwrap(),
            e.payload["part"].as_u64().unwrap(),
        );
        assert!(
            seen.insert(identity, e.sequence).is_none(),
            "{identity:?} stored twice"
        );
    }
    assert_eq!(seen.len() as u64, total);
    for thread in 0..THREADS {
        let stream = store
            .read_stream("acme", &format!("account/A-{thread}"))
            .unwrap();
        let versions: Vec<u64> = stream.iter().map(|e| e.stream_version).collect();
        assert_eq!(versions, (1..=(APPENDS * 3) as u64).collect::<Vec<_>>());
        let order: Vec<(u64, u64)> = stream
            .iter()
            .map(|e| {
                (
                    e.payload["n"].as_u64().unwrap(),
                    e.payload["part"].as_u64().unwrap(),
                )
            })
            .collect();
        let expected: Vec<(u64, u64)> = (0..APPENDS as u64)
            .flat_map(|n| (0..3).map(move |p| (n, p)))
            .collect();
        assert_eq!(order, expected);
    }
}

fn racing_requests_with_the_same_key_produce_one_commit_and_replays(h: &impl Harness) {
    const THREADS: usize = 16;
    let store = h.store();
    let barrier = Barrier::new(THREADS);
    let outcomes: Vec<AppendOutcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut append = request(
                        meta("acme", &format!("C-{thread}"), Some("pay-1"), "h1"),
                        vec![
                            event("account/A-1", "payment_received", json!({})),
                            event("account/A-1", "journal_posted", json!({})),
                        ],
                    );
                    append.response = json!({"winner": thread});
                    barrier.wait();
                    store.append(append).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<&AppendOutcome> = outcomes
        .iter()
        .filter(|o| matches!(o, AppendOutcome::Committed { .. }))
        .collect();
    assert_eq!(winners, vec![&committed(1, 2)]);
    let (_, response) = store.idempotent_response("acme", "pay-1").unwrap().unwrap();
    let replays = outcomes
        .iter()
        .filter(|o| {
            **o == AppendOutcome::Replayed {
                response: response.clone(),
            }
        })
        .count();
    assert_eq!(replays, THREADS - 1);
    assert_eq!(store.last_sequence("acme").unwrap(), 2);
}

fn racing_requests_for_a_new_stream_produce_one_commit_and_conflicts(h: &impl Harness) {
    const THREADS: usize = 8;
    let store = h.store();
    let barrier = Barrier::new(THREADS);
    let results: Vec<Result<AppendOutcome, StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut append = request(
                        meta("acme", &format!("C-{thread}"), None, "h"),
                        vec![event("policy/P-1", "policy_issued", json!({"by": thread}))],
                    );
                    append.expected_versions = vec![("policy/P-1".to_string(), 0)];
                    barrier.wait();
                    store.append(append)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == Ok(committed(1, 1)))
            .count(),
        1
    );
    let conflict = Err(StoreError::VersionConflict {
        stream: "policy/P-1".to_string(),
        expected: 0,
        actual: 1,
    });
    assert_eq!(
        results.iter().filter(|r| **r == conflict).count(),
        THREADS - 1
    );
    assert_eq!(store.read_stream("acme", "policy/P-1").unwrap().len(), 1);
}

fn an_event_of_an_unknown_format_version_is_refused(h: &impl Harness) {
    let store = h.store();
    let events = vec![event("policy/P-1", "policy_issued", json!({}))];
    store
        .append(request(meta("acme", "C-1", None, "h"), events))
        .unwrap();
    let mut value = vec![0, 99];
    value.extend_from_slice(&1u64.to_be_bytes());
    value.extend_from_slice(&1u64.to_be_bytes());
    value.extend_from_slice(b"{}");
    h.insert_raw(&codec::event_key("acme", 1), &value);
    let refused = Err(StoreError::UnsupportedFormatVersion {
        what: "event",
        version: 99,
    });
    assert_eq!(store.read("acme", 0, 10), refused);
    assert_eq!(store.read_stream("acme", "policy/P-1"), refused);
}

fn an_idempotency_record_of_an_unknown_format_version_is_refused(h: &impl Harness) {
    let store = h.store();
    let events = vec![event("policy/P-1", "policy_issued", json!({}))];
    store
        .append(request(
            meta("acme", "C-1", Some("k1"), "h"),
            events.clone(),
        ))
        .unwrap();
    let mut value = codec::encode_idempotency(1, 1, "h", b"{}");
    value[0..2].copy_from_slice(&2u16.to_be_bytes());
    h.insert_raw(&codec::idempotency_key("acme", "k1"), &value);
    let refused = StoreError::UnsupportedFormatVersion {
        what: "idempotency record",
        version: 2,
    };
    assert_eq!(
        store.idempotent_response("acme", "k1"),
        Err(refused.clone())
    );
    assert_eq!(
        store.append(request(meta("acme", "C-2", Some("k1"), "h"), events)),
        Err(refused)
    );
    assert_eq!(store.last_sequence("acme").unwrap(), 1);
}

fn more_than_1000_events_in_one_append_are_refused_and_nothing_is_written(h: &impl Harness) {
    let store = h.store();
    let events = (0..1001)
        .map(|n| event("policy/P-1", "line", json!(n)))
        .collect();
    assert_eq!(
        store.append(request(meta("acme", "C-1", None, "h"), events)),
        Err(StoreError::LimitExceeded {
            what: "events per append",
            limit: 1000,
            actual: 1001
        })
    );
    let events = (0..1000)
        .map(|n| event("policy/P-1", "line", json!(n)))
        .collect();
    assert_eq!(
        store
            .append(request(meta("acme", "C-2", None, "h"), events))
            .unwrap(),
        committed(1, 1000)
    );
}

fn a_payload_over_the_limit_is_refused_and_nothing_is_written(h: &impl Harness) {
    let store = h.store();
    // A JSON string of n characters is n + 2 bytes with its quotes.
    let too_big = vec![event(
        "policy/P-1",
        "note",
        json!("x".repeat(PAYLOAD_BYTES_MAX - 1)),
    )];
    assert_eq!(
        store.append(request(meta("acme", "C-1", None, "h"), too_big)),
        Err(StoreError::LimitExceeded {
            what: "payload bytes",
            limit: PAYLOAD_BYTES_MAX,
            actual: PAYLOAD_BYTES_MAX + 1
        })
    );
    assert_eq!(store.last_sequence("acme").unwrap(), 0);
    assert_eq!(store.tenants().unwrap(), Vec::<String>::new());
    let just_fits = vec![event(
        "policy/P-1",
        "note",
        json!("x".repeat(PAYLOAD_BYTES_MAX - 2)),
    )];
    assert_eq!(
        store
            .append(request(meta("acme", "C-2", None, "h"), just_fits))
            .unwrap(),
        committed(1, 1)
    );
}

fn a_read_returns_at_most_10000_events_whatever_the_limit(h: &impl Harness) {
    let store = h.store();
    for n in 0..11 {
        let count = if n == 10 { 1 } else { 1000 };
        let events = (0..count)
            .map(|i| event("account/A-1", "line", json!(i)))
            .collect();
        store
            .append(request(meta("acme", &format!("C-{n}"), None, "h"), events))
            .unwrap();
    }
    assert_eq!(store.last_sequence("acme").unwrap(), 10_001);
    let page = store.read("acme", 0, usize::MAX).unwrap();
    assert_eq!(
        (page.len(), page.last().unwrap().sequence),
        (READ_EVENTS_MAX, 10_000)
    );
    assert_eq!(
        sequences(&store.read("acme", 10_000, usize::MAX).unwrap()),
        vec![10_001]
    );
}

fn an_append_without_events_or_with_a_stream_expected_twice_is_refused(h: &impl Harness) {
    let store = h.store();
    assert!(matches!(
        store.append(request(meta("acme", "C-1", None, "h"), vec![])),
        Err(StoreError::InvalidRequest(_))
    ));
    let mut twice = request(
        meta("acme", "C-2", None, "h"),
        vec![event("policy/P-1", "x", json!({}))],
    );
    twice.expected_versions = vec![("policy/P-1".to_string(), 0), ("policy/P-1".to_string(), 1)];
    assert!(matches!(
        store.append(twice),
        Err(StoreError::InvalidRequest(_))
    ));
    let nul = request(
        meta("acme", "C-3", None, "h"),
        vec![event("policy/\0P-1", "x", json!({}))],
    );
    assert!(matches!(
        store.append(nul),
        Err(StoreError::InvalidRequest(_))
    ));
    assert_eq!(store.last_sequence("acme").unwrap(), 0);
}

fn blobs_are_stored_listed_replaced_and_deleted(h: &impl Harness) {
    let store = h.store();
    store
        .put_blob("acme", "plugins", "sha256-bb", b"component b")
        .unwrap();
    store
        .put_blob("acme", "plugins", "sha256-aa", b"component a")
        .unwrap();
    store
        .put_blob("acme", "api-keys", "key-1", b"hash")
        .unwrap();
    store
        .put_blob("globex", "plugins", "sha256-cc", b"other tenant")
        .unwrap();
    assert_eq!(
        store.get_blob("acme", "plugins", "sha256-aa").unwrap(),
        Some(b"component a".to_vec())
    );
    assert_eq!(
        store.list_blobs("acme", "plugins").unwrap(),
        vec!["sha256-aa", "sha256-bb"]
    );
    assert_eq!(
        store.list_blobs("globex", "api-keys").unwrap(),
        Vec::<String>::new()
    );

    store
        .put_blob("acme", "plugins", "sha256-aa", b"replaced")
        .unwrap();
    assert_eq!(
        store.get_blob("acme", "plugins", "sha256-aa").unwrap(),
        Some(b"replaced".to_vec())
    );
    assert!(store.delete_blob("acme", "plugins", "sha256-aa").unwrap());
    assert!(!store.delete_blob("acme", "plugins", "sha256-aa").unwrap());
    assert_eq!(
        store.get_blob("acme", "plugins", "sha256-aa").unwrap(),
        None
    );
    assert_eq!(
        store.list_blobs("acme", "plugins").unwrap(),
        vec!["sha256-bb"]
    );
    assert_eq!(
        store.get_blob("acme", "plugins", "sha256-cc").unwrap(),
        None
    );
}

fn a_blob_over_32_mib_is_refused(h: &impl Harness) {
    let store = h.store();
    let bytes = vec![7u8; BLOB_BYTES_MAX + 1];
    assert_eq!(
        store.put_blob("acme", "plugins", "big", &bytes),
        Err(StoreError::LimitExceeded {
            what: "blob bytes",
            limit: 33_554_432,
            actual: 33_554_433
        })
    );
    assert_eq!(store.get_blob("acme", "plugins", "big").unwrap(), None);
}

fn a_tenant_with_only_blobs_is_listed(h: &impl Harness) {
    let store = h.store();
    store
        .put_blob("initech", "api-keys", "key-1", b"hash")
        .unwrap();
    assert_eq!(store.tenants().unwrap(), vec!["initech".to_string()]);
    assert_eq!(store.last_sequence("initech").unwrap(), 0);
}

fn events_above_the_last_acknowledged_sequence_are_not_visible(h: &impl Harness) {
    let store = h.store();
    let events = vec![event("policy/P-1", "policy_issued", json!({}))];
    store
        .append(request(meta("acme", "C-1", None, "h"), events))
        .unwrap();
    // What a commit in progress looks like: applied but not yet acknowledged.
    let mut value = vec![0; codec::EVENT_HEADER_BYTES];
    value.extend_from_slice(
        br#"{"stream":"policy/P-1","kind":"x","payload":{},"command_id":"C-2","actor":"a","issued_at":"2024-03-01T09:30:00Z","idempotency_key":null}"#,
    );
    codec::fill_event_header(&mut value, 2, 2);
    h.insert_raw(&codec::event_key("acme", 2), &value);
    h.insert_raw(
        &codec::stream_key("acme", "policy/P-1", 2),
        &codec::encode_u64(codec::STREAM_FORMAT_VERSION, 2),
    );
    assert_eq!(sequences(&store.read("acme", 0, 10).unwrap()), vec![1]);
    assert_eq!(
        sequences(&store.read_stream("acme", "policy/P-1").unwrap()),
        vec![1]
    );
    assert_eq!(store.stream_version("acme", "policy/P-1").unwrap(), 1);
    assert_eq!(store.last_sequence("acme").unwrap(), 1);
}

fn an_expected_last_sequence_that_is_stale_refuses_the_append(h: &impl Harness) {
    let store = h.store();
    let mut first = request(
        meta("acme", "C-1", None, "h1"),
        vec![event("policy/P-1", "policy_issued", json!({}))],
    );
    first.expected_last_sequence = Some(0);
    assert_eq!(store.append(first).unwrap(), committed(1, 1));
    let mut stale = request(
        meta("acme", "C-2", Some("k2"), "h2"),
        vec![event("account/A-1", "payment_received", json!({}))],
    );
    stale.expected_last_sequence = Some(0);
    assert_eq!(
        store.append(stale.clone()),
        Err(StoreError::SequenceConflict {
            tenant: "acme".to_string(),
            expected: 0,
            actual: 1
        })
    );
    assert_eq!(store.last_sequence("acme").unwrap(), 1);
    assert_eq!(store.idempotent_response("acme", "k2").unwrap(), None);
    stale.expected_last_sequence = Some(1);
    assert_eq!(store.append(stale.clone()).unwrap(), committed(2, 2));
    // A retry of a committed key is replayed whatever its expected sequence.
    assert!(matches!(
        store.append(stale).unwrap(),
        AppendOutcome::Replayed { .. }
    ));
}

/// PostgreSQL counterparts of the embedded-only tests, and what only the
/// database does: the append-only table, the ledger projection, two stores
/// (two hosts) on one database.
mod postgres_only {
    use super::*;

    fn pg() -> Option<PgHarness> {
        super::postgres()
    }

    #[test]
    fn an_event_of_an_unknown_format_version_is_refused() {
        let Some(h) = pg() else { return };
        let events = vec![event("policy/P-1", "policy_issued", json!({}))];
        h.store
            .append(request(meta("acme", "C-1", None, "h"), events))
            .unwrap();
        h.store.execute_raw(
            "INSERT INTO premia_events VALUES ('acme', 2, 'policy/P-1', 2, 'x', '{}', 'C-2', 'a', \
             now(), NULL, 99)",
        );
        let refused = Err(StoreError::UnsupportedFormatVersion {
            what: "event",
            version: 99,
        });
        assert_eq!(h.store.read("acme", 0, 10), refused);
        assert_eq!(h.store.read_stream("acme", "policy/P-1"), refused);
    }

    #[test]
    fn an_idempotency_record_of_an_unknown_format_version_is_refused() {
        let Some(h) = pg() else { return };
        let events = vec![event("policy/P-1", "policy_issued", json!({}))];
        h.store
            .append(request(
                meta("acme", "C-1", Some("k1"), "h"),
                events.clone(),
            ))
            .unwrap();
        h.store
            .execute_raw("UPDATE premia_idempotency SET format_version = 2 WHERE key = 'k1'");
        let refused = StoreError::UnsupportedFormatVersion {
            what: "idempotency record",
            version: 2,
        };
        assert_eq!(
            h.store.idempotent_response("acme", "k1"),
            Err(refused.clone())
        );
        assert_eq!(
            h.store
                .append(request(meta("acme", "C-2", Some("k1"), "h"), events)),
            Err(refused)
        );
        assert_eq!(h.store.last_sequence("acme").unwrap(), 1);
    }

    #[test]
    fn the_event_table_refuses_updates_and_deletes() {
        let Some(h) = pg() else { return };
        let events = vec![event("policy/P-1", "policy_issued", json!({}))];
        h.store
            .append(request(meta("acme", "C-1", None, "h"), events))
            .unwrap();
        for sql in [
            "UPDATE premia_events SET kind = 'forged'",
            "DELETE FROM premia_events",
        ] {
            let sql = sql.to_string();
            let refused = h
                .store
                .with_reader(move |client| client.batch_execute(&sql));
            assert!(
                matches!(&refused, Err(StoreError::Io(m)) if m.contains("append-only")),
                "{refused:?}"
            );
        }
        assert_eq!(
            h.store.read("acme", 0, 10).unwrap()[0].kind,
            "policy_issued"
        );
    }

    /// The balance lines an append hands over are summed into the
    /// projection with its events; the store reads no event payload (the
    /// events here are opaque).
    #[test]
    fn balance_lines_update_the_ledger_balances_in_the_same_transaction() {
        let Some(h) = pg() else { return };
        let line = |account: &str, sub: &str, side: &str, amount: &str| {
            let amount: rust_decimal::Decimal = amount.parse().unwrap();
            let (debit, credit) = if side == "debit" {
                (amount, rust_decimal::Decimal::ZERO)
            } else {
                (rust_decimal::Decimal::ZERO, amount)
            };
            BalanceLine {
                account: account.to_string(),
                currency: "USD".to_string(),
                subledger: sub.to_string(),
                debit,
                credit,
            }
        };
        let entry = || event("ledger", "opaque", json!({"anything": true}));
        let append = |command: &str, events: Vec<NewEvent>, lines: Vec<BalanceLine>| {
            let mut request = request(meta("acme", command, None, "h"), events);
            request.balance_lines = lines;
            request
        };
        let first = append(
            "C-1",
            vec![
                event("policy/P-1", "transaction_issued", json!({})),
                entry(),
            ],
            vec![
                line("premium_receivable", "A-1", "debit", "1200.10"),
                line("written_premium", "", "credit", "1200.10"),
            ],
        );
        h.store.append(first).unwrap();
        let second = append(
            "C-2",
            vec![entry()],
            vec![
                line("cash", "", "debit", "100.05"),
                line("premium_receivable", "A-1", "credit", "100.05"),
            ],
        );
        h.store.append(second).unwrap();
        let balances = h.store.ledger_balances("acme").unwrap();
        let as_strs: Vec<(&str, &str, &str, &str)> = balances
            .iter()
            .map(|r| {
                (
                    r.account.as_str(),
                    r.subledger.as_str(),
                    r.debits.as_str(),
                    r.credits.as_str(),
                )
            })
            .collect();
        assert_eq!(
            as_strs,
            vec![
                ("cash", "", "100.05", "0"),
                ("premium_receivable", "A-1", "1200.10", "100.05"),
                ("written_premium", "", "0", "1200.10"),
            ]
        );
        // A refused append leaves the projection as it was.
        let mut stale = append(
            "C-3",
            vec![entry()],
            vec![line("cash", "", "debit", "1.00")],
        );
        stale.expected_versions = vec![("ledger".to_string(), 0)];
        assert!(h.store.append(stale).is_err());
        assert_eq!(h.store.ledger_balances("acme").unwrap(), balances);
    }

    #[test]
    fn two_stores_on_one_database_append_with_gap_free_sequences_and_conflicts() {
        let Some(url) = test_database_url() else {
            return;
        };
        let url = url_with_schema(&url, &fresh_schema_name("hosts"));
        let hosts = [PgStore::open(&url).unwrap(), PgStore::open(&url).unwrap()];
        const PER_THREAD: usize = 20;
        let conflicts = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for thread in 0..8usize {
                let store = &hosts[thread % 2];
                let conflicts = &conflicts;
                scope.spawn(move || {
                    for n in 0..PER_THREAD {
                        // Decide on the sequence read, append expecting it,
                        // and retry on a conflict: what the engine does.
                        loop {
                            let last = store.last_sequence("acme").unwrap();
                            let key = format!("k-{thread}-{n}");
                            let mut append = request(
                                meta("acme", &key, Some(&key), "h"),
                                vec![
                                    event(
                                        "account/A-1",
                                        "payment_received",
                                        json!({"t": thread, "n": n}),
                                    ),
                                    event("ledger", "line", json!({})),
                                ],
                            );
                            append.expected_last_sequence = Some(last);
                            match store.append(append) {
                                Ok(AppendOutcome::Committed { first_sequence, .. }) => {
                                    assert_eq!(first_sequence, last + 1);
                                    break;
                                }
                                Err(StoreError::SequenceConflict { .. }) => {
                                    conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                }
                                other => panic!("{other:?}"),
                            }
                        }
                    }
                });
            }
        });
        let total = (8 * PER_THREAD * 2) as u64;
        for store in &hosts {
            assert_eq!(store.last_sequence("acme").unwrap(), total);
            let mut events = Vec::new();
            loop {
                let page = store.read("acme", events.len() as u64, 50).unwrap();
                if page.is_empty() {
                    break;
                }
                events.extend(page);
            }
            assert_eq!(sequences(&events), (1..=total).collect::<Vec<_>>());
            let versions: Vec<u64> = store
                .read_stream("acme", "account/A-1")
                .unwrap()
                .iter()
                .map(|e| e.stream_version)
                .collect();
            assert_eq!(versions, (1..=total / 2).collect::<Vec<_>>());
        }
        eprintln!(
            "two stores: {total} events, {} conflicts retried",
            conflicts.load(std::sync::atomic::Ordering::Relaxed)
        );
    }

    #[test]
    fn one_host_holds_a_tenants_lease_at_a_time_and_another_takes_it_once_it_expired() {
        let Some(h) = pg() else { return };
        let store = &h.store;
        assert!(
            store
                .try_lease("acme", "webhooks", "host-a", 60_000)
                .unwrap()
        );
        assert!(
            !store
                .try_lease("acme", "webhooks", "host-b", 60_000)
                .unwrap()
        );
        // The holder renews (here for 1 ms: it lapses at once).
        assert!(store.try_lease("acme", "webhooks", "host-a", 1).unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(
            store
                .try_lease("acme", "webhooks", "host-b", 60_000)
                .unwrap()
        );
        assert!(
            !store
                .try_lease("acme", "webhooks", "host-a", 60_000)
                .unwrap()
        );
        // Leases are per tenant and per name.
        assert!(
            store
                .try_lease("globex", "webhooks", "host-a", 60_000)
                .unwrap()
        );
        assert!(store.try_lease("acme", "other", "host-a", 60_000).unwrap());
    }
}

#[test]
fn a_store_only_one_process_opens_always_grants_a_lease() {
    let store = memory();
    assert!(
        store
            .try_lease("acme", "webhooks", "host-a", 60_000)
            .unwrap()
    );
    assert!(
        store
            .try_lease("acme", "webhooks", "host-b", 60_000)
            .unwrap()
    );
}

/// The packed layout (`packed`): single events keep the one-record layout,
/// a commit of several is one event chunk and one stream run per stream, and
/// reads see one log whatever records hold it.
fn an_append_of_several_events_is_one_chunk_and_one_run_per_stream_read_back_from_anywhere(
    h: &impl Harness,
) {
    let store = h.store();
    let one = |n: &str, stream: &str| {
        store
            .append(request(
                meta("acme", n, None, n),
                vec![event(stream, "x", json!({ "n": n }))],
            ))
            .unwrap()
    };
    assert_eq!(one("C-1", "account/A-1"), committed(1, 1));
    let batch = vec![
        event("account/A-1", "invoice_issued", json!({"n": 2})),
        event("ledger", "journal_entry", json!({"n": 3})),
        event("account/A-1", "billed_through", json!({"n": 4})),
        event("ledger", "journal_entry", json!({"n": 5})),
    ];
    assert_eq!(
        store
            .append(request(meta("acme", "C-2", None, "h2"), batch))
            .unwrap(),
        committed(2, 5)
    );
    assert_eq!(one("C-3", "ledger"), committed(6, 6));

    // Six events in three records; account/A-1 in two, ledger in two.
    assert_eq!(h.count_raw(&codec::event_prefix("acme")), 3);
    assert_eq!(h.count_raw(&codec::stream_prefix("acme", "account/A-1")), 2);
    assert_eq!(h.count_raw(&codec::stream_prefix("acme", "ledger")), 2);

    for after in 0..6 {
        for limit in 1..=6 {
            let read = store.read("acme", after, limit).unwrap();
            let expected: Vec<u64> = (after + 1..=6).take(limit).collect();
            assert_eq!(sequences(&read), expected, "after {after}, limit {limit}");
        }
    }
    let all = store.read("acme", 0, 10).unwrap();
    let numbers: Vec<Value> = all.iter().map(|e| e.payload["n"].clone()).collect();
    assert_eq!(
        numbers,
        vec![
            json!("C-1"),
            json!(2),
            json!(3),
            json!(4),
            json!(5),
            json!("C-3")
        ]
    );
    let account = store.read_stream("acme", "account/A-1").unwrap();
    assert_eq!(sequences(&account), vec![1, 2, 4]);
    assert_eq!(
        account.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let ledger = store.read_stream("acme", "ledger").unwrap();
    assert_eq!(sequences(&ledger), vec![3, 5, 6]);
    assert_eq!(store.stream_version("acme", "account/A-1").unwrap(), 3);
    assert_eq!(store.stream_version("acme", "ledger").unwrap(), 3);

    // The next append on a stream continues its versions.
    let mut next = request(
        meta("acme", "C-4", None, "h4"),
        vec![event("account/A-1", "x", json!({}))],
    );
    next.expected_versions = vec![("account/A-1".to_string(), 3)];
    assert_eq!(store.append(next).unwrap(), committed(7, 7));
    assert_eq!(store.stream_version("acme", "account/A-1").unwrap(), 4);
}
