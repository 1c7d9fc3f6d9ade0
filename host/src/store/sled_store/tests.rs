//! What only the durable store has: surviving a restart, its on-disk layout
//! version, sled's blob files, and group commit sharing syncs.

use super::*;
use crate::store::{CommandMeta, NewEvent};
use chrono::{TimeZone, Utc};
use serde_json::json;

fn append(
    tenant: &str,
    command: &str,
    key: Option<&str>,
    events: &[(&str, &str)],
) -> AppendRequest {
    AppendRequest {
        meta: CommandMeta {
            tenant: tenant.to_string(),
            command_id: command.to_string(),
            actor: "api-key:K-1".to_string(),
            issued_at: Utc.with_ymd_and_hms(2024, 6, 30, 23, 59, 59).unwrap(),
            idempotency_key: key.map(str::to_string),
            request_hash: format!("hash-{command}"),
        },
        expected_versions: Vec::new(),
        expected_last_sequence: None,
        chain: None,
        events: events
            .iter()
            .map(|(stream, kind)| {
                NewEvent::json(
                    *stream,
                    *kind,
                    &json!({"command": command, "amount": "123.45", "lines": [1, 2, 3]}),
                )
            })
            .collect(),
        balance_lines: Vec::new(),
        response: json!({"command": command}),
    }
}

#[test]
fn reopening_a_sled_store_after_drop_returns_exactly_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let store = SledStore::open(&path).unwrap();
    store
        .append(append(
            "acme",
            "C-1",
            Some("k1"),
            &[
                ("policy/P-1", "policy_issued"),
                ("account/A-1", "charge_posted"),
            ],
        ))
        .unwrap();
    store
        .append(append(
            "acme",
            "C-2",
            None,
            &[("policy/P-1", "policy_endorsed")],
        ))
        .unwrap();
    store
        .append(append(
            "globex",
            "C-1",
            Some("k1"),
            &[("policy/P-7", "policy_issued")],
        ))
        .unwrap();
    store
        .put_blob("acme", "plugins", "sha256-aa", b"component")
        .unwrap();
    let acme = store.read("acme", 0, 100).unwrap();
    let globex = store.read("globex", 0, 100).unwrap();
    let policy = store.read_stream("acme", "policy/P-1").unwrap();
    drop(store);

    let store = SledStore::open(&path).unwrap();
    assert_eq!(store.read("acme", 0, 100).unwrap(), acme);
    assert_eq!(acme.len(), 3);
    assert_eq!(store.read("globex", 0, 100).unwrap(), globex);
    assert_eq!(store.read_stream("acme", "policy/P-1").unwrap(), policy);
    assert_eq!(store.last_sequence("acme").unwrap(), 3);
    assert_eq!(store.stream_version("acme", "policy/P-1").unwrap(), 2);
    assert_eq!(
        store.tenants().unwrap(),
        vec!["acme".to_string(), "globex".to_string()]
    );
    assert_eq!(
        store.idempotent_response("acme", "k1").unwrap(),
        Some(("hash-C-1".to_string(), json!({"command": "C-1"})))
    );
    assert_eq!(
        store.get_blob("acme", "plugins", "sha256-aa").unwrap(),
        Some(b"component".to_vec())
    );

    // The log goes on where it stopped, and a retry after the restart replays.
    assert_eq!(
        store
            .append(append(
                "acme",
                "C-3",
                None,
                &[("policy/P-1", "policy_cancelled")]
            ))
            .unwrap(),
        AppendOutcome::Committed {
            first_sequence: 4,
            last_sequence: 4
        }
    );
    assert_eq!(store.stream_version("acme", "policy/P-1").unwrap(), 3);
    assert_eq!(
        store
            .append(append(
                "acme",
                "C-1",
                Some("k1"),
                &[("policy/P-1", "policy_issued")]
            ))
            .unwrap(),
        AppendOutcome::Replayed {
            response: json!({"command": "C-1"})
        }
    );
}

#[test]
fn a_store_of_an_unknown_layout_version_is_refused_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store.insert_raw(codec::FORMAT_KEY, &9u16.to_be_bytes());
    drop(store);
    assert_eq!(
        SledStore::open(dir.path()).unwrap_err(),
        StoreError::UnsupportedFormatVersion {
            what: "store layout",
            version: 9
        }
    );
}

#[test]
fn a_sled_database_that_is_not_a_store_is_refused_on_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        db.insert(b"something", b"else").unwrap();
        db.flush().unwrap();
    }
    assert!(matches!(
        SledStore::open(dir.path()),
        Err(StoreError::Corrupt(_))
    ));
}

#[test]
fn a_blob_too_big_for_a_log_segment_goes_to_sleds_blob_files_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let component: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let store = SledStore::open(dir.path()).unwrap();
    store
        .put_blob("acme", "plugins", "sha256-big", &component)
        .unwrap();
    let blob_files = std::fs::read_dir(dir.path().join("blobs")).unwrap().count();
    assert!(blob_files >= 1, "sled wrote no blob file");
    drop(store);
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(
        store.get_blob("acme", "plugins", "sha256-big").unwrap(),
        Some(component)
    );
}

#[test]
fn concurrent_writers_share_syncs_and_every_commit_is_synced() {
    const THREADS: usize = 16;
    const APPENDS: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let store = &store;
            scope.spawn(move || {
                for n in 0..APPENDS {
                    let stream = format!("account/A-{thread}");
                    let command = format!("C-{thread}-{n}");
                    store
                        .append(append(
                            "acme",
                            &command,
                            None,
                            &[(&stream, "payment_received")],
                        ))
                        .unwrap();
                }
            });
        }
    });
    let stats = store.stats();
    assert_eq!(stats.commit.requests, (THREADS * APPENDS) as u64);
    assert_eq!(stats.syncs, stats.commit.batches);
    assert!(
        stats.syncs < stats.commit.requests,
        "no batch held two requests: {stats:?}"
    );
}

#[test]
fn a_batch_of_only_refusals_is_not_synced() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store
        .append(append(
            "acme",
            "C-1",
            Some("k1"),
            &[("policy/P-1", "policy_issued")],
        ))
        .unwrap();
    let mut stale = append("acme", "C-2", None, &[("policy/P-1", "policy_endorsed")]);
    stale.expected_versions = vec![("policy/P-1".to_string(), 0)];
    assert!(matches!(
        store.append(stale),
        Err(StoreError::VersionConflict { .. })
    ));
    assert!(matches!(
        store.append(append(
            "acme",
            "C-1",
            Some("k1"),
            &[("policy/P-1", "policy_issued")]
        )),
        Ok(AppendOutcome::Replayed { .. })
    ));
    assert_eq!(store.stats().syncs, 1);
}

#[test]
fn after_a_failed_sync_the_append_is_not_acknowledged_nor_visible_and_later_writes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store
        .append(append(
            "acme",
            "C-1",
            None,
            &[("policy/P-1", "policy_issued")],
        ))
        .unwrap();
    // Syncing lists `blobs/`: without it the sync fails after sled applied the batch.
    std::fs::remove_dir_all(dir.path().join("blobs")).unwrap();
    assert!(matches!(
        store.append(append(
            "acme",
            "C-2",
            None,
            &[("policy/P-1", "policy_endorsed")]
        )),
        Err(StoreError::Io(_))
    ));
    assert_eq!(store.last_sequence("acme").unwrap(), 1);
    assert_eq!(store.read("acme", 0, 10).unwrap().len(), 1);
    assert_eq!(store.stream_version("acme", "policy/P-1").unwrap(), 1);
    assert!(matches!(
        store.put_blob("acme", "plugins", "p", b"x"),
        Err(StoreError::Failed(_))
    ));
}

#[test]
fn a_second_open_of_a_live_store_is_refused_after_waiting_for_its_lock() {
    let dir = tempfile::tempdir().unwrap();
    let _first = SledStore::open(dir.path()).unwrap();
    let started = std::time::Instant::now();
    let second = SledStore::open(dir.path());
    assert!(matches!(second, Err(StoreError::Io(_))), "{second:?}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(OPEN_LOCK_WAIT_MS));
}
