//! Snapshots: a snapshot plus the events after it gives the state a full
//! replay gives (for random histories), start-up loads the latest good
//! snapshot and replays the tail, and a snapshot of another format, with a
//! bad hash or a missing chunk is ignored and the whole log replayed; on
//! the in-memory store, sled and PostgreSQL.

use super::*;
use crate::collections::BillingCommand;
use crate::engine::tests::{Step, command, context, start, step};
use crate::engine::{Engine, EngineCommand, RequestMeta, TenantEvent};
use crate::keys::{KeyCommand, Role};
use crate::store::{
    MemoryStore, PgStore, SledStore, fresh_schema_name, test_database_url, url_with_schema,
};
use crate::test_support::{FieldRaters, date, engine};
use chrono::{Duration, TimeZone};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::sync::Arc;

/// A step of a random history: a policy transaction (as the engine's own
/// property test draws them), a billing run, a payment, or an API key
/// created or rotated (whose earlier generations the API's view omits).
#[derive(Debug, Clone)]
enum HistoryStep {
    Policy(Step),
    Run { day: u32 },
    Pay { cents: u32, day: u32 },
    CreateKey,
    RotateKey,
}

fn history_step() -> impl Strategy<Value = HistoryStep> {
    prop_oneof![
        4 => step().prop_map(HistoryStep::Policy),
        1 => (0u32..400).prop_map(|day| HistoryStep::Run { day }),
        1 => (1u32..200_000, 0u32..400).prop_map(|(cents, day)| HistoryStep::Pay { cents, day }),
        1 => Just(HistoryStep::CreateKey),
        1 => Just(HistoryStep::RotateKey),
    ]
}

fn history_command(state: &TenantState, step: &HistoryStep, index: usize) -> EngineCommand {
    let day = |d: u32| date(2021, 1, 1) + Duration::days(i64::from(d));
    match step {
        HistoryStep::Policy(step) => command(state, step, index),
        HistoryStep::Run { day: d } => BillingCommand::RunAccount {
            account: "A1".into(),
            up_to: day(*d),
        }
        .into(),
        HistoryStep::Pay { cents, day: d } => BillingCommand::RecordPayment {
            account: "A1".into(),
            amount: Decimal::new((*cents).into(), 2),
            received_on: day(*d),
            invoices: vec![],
            reference: format!("cheque {index}"),
            for_deductibles: false,
            reserved_for: None,
        }
        .into(),
        HistoryStep::CreateKey => KeyCommand::CreateKey {
            role: Role::Billing,
            label: format!("key {index}"),
        }
        .into(),
        HistoryStep::RotateKey => KeyCommand::RotateKey {
            key: "key-1".into(),
            grace_seconds: 86_400,
        }
        .into(),
    }
}

/// Runs `steps` from the engine tests' starting state: the states after
/// each step and the events of every step.
fn run(steps: &[HistoryStep]) -> (Vec<TenantState>, Vec<Vec<TenantEvent>>) {
    let mut state = start();
    let mut states = vec![state.clone()];
    let mut events = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let command = history_command(&state, step, index);
        events.push(
            state
                .execute(&command, &context(index + 1), &FieldRaters)
                .unwrap_or_default(),
        );
        states.push(state.clone());
    }
    (states, events)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn a_snapshot_plus_the_tail_equals_a_full_replay_for_random_histories(
        steps in proptest::collection::vec(history_step(), 1..20),
        cut in 0usize..20,
    ) {
        let (states, events) = run(&steps);
        let cut = cut % (steps.len() + 1);
        // The full replay: every event applied to the starting state.
        let mut replayed = start();
        for event in events.iter().flatten() {
            replayed.apply(event).unwrap();
        }
        // The snapshot after `cut` steps, decoded, then the tail applied.
        let mut restored = decode(&encode(&states[cut]).unwrap()).unwrap();
        for event in events[cut..].iter().flatten() {
            restored.apply(event).unwrap();
        }
        prop_assert_eq!(encode(&restored).unwrap(), encode(&replayed).unwrap());
        // The same answers from what readers ask.
        prop_assert_eq!(&restored.book, &replayed.book);
        prop_assert_eq!(restored.ledger.entries(), replayed.ledger.entries());
        prop_assert_eq!(&restored.collections, &replayed.collections);
        prop_assert_eq!(restored.keys.all(), replayed.keys.all());
        prop_assert_eq!(restored.events_applied, replayed.events_applied);
        let now = Utc.with_ymd_and_hms(2021, 6, 1, 0, 0, 0).unwrap();
        for key in replayed.keys.all() {
            for generation in 0..3 {
                prop_assert_eq!(
                    restored.keys.accepted(&key.id, generation, now).is_some(),
                    replayed.keys.accepted(&key.id, generation, now).is_some()
                );
            }
        }
    }
}

/// With pieces of 200 bytes, a history's journal entries, policies and
/// accounts are cut into several pieces each; decoded (in parallel) and put
/// back together they give the same state as pieces of the usual size.
#[test]
fn a_state_cut_in_many_small_pieces_decodes_to_the_same_state() {
    let steps: Vec<HistoryStep> = (0..12)
        .map(|n| match n % 3 {
            0 => HistoryStep::Pay {
                cents: 10_000 + n,
                day: n,
            },
            1 => HistoryStep::Run { day: 40 * n },
            _ => HistoryStep::CreateKey,
        })
        .collect();
    let (states, _) = run(&steps);
    let state = states.last().unwrap();
    let small = parts::encode_in_pieces_of(state, 200).unwrap();
    let entries = small
        .parts
        .iter()
        .filter(|part| part.section == Section::LedgerEntries)
        .count();
    assert!(entries >= 2, "{entries} pieces of journal entries");
    assert_eq!(small.parts[0].section, Section::Head);
    let restored = decode(&small).unwrap();
    assert_eq!(encode(&restored).unwrap(), encode(state).unwrap());
    assert_eq!(restored.ledger.entries(), state.ledger.entries());
    assert_eq!(restored.book, state.book);
    assert_eq!(restored.collections, state.collections);
}

/// An API key rotated with a grace period: the snapshot keeps the earlier
/// generation (which the API's view of a key leaves out), so after loading
/// it the old secret is still accepted until the grace ends.
#[test]
fn a_key_rotated_in_grace_still_accepts_its_old_generation_after_a_snapshot() {
    let (states, _) = run(&[HistoryStep::CreateKey, HistoryStep::RotateKey]);
    let restored = decode(&encode(&states[2]).unwrap()).unwrap();
    // Rotated on step 2 (2021-01-03 12:00) with a day of grace.
    let in_grace = Utc.with_ymd_and_hms(2021, 1, 4, 11, 0, 0).unwrap();
    let after = Utc.with_ymd_and_hms(2021, 1, 4, 13, 0, 0).unwrap();
    assert!(restored.keys.accepted("key-1", 0, in_grace).is_some());
    assert!(restored.keys.accepted("key-1", 0, after).is_none());
    assert!(restored.keys.accepted("key-1", 1, after).is_some());
}

fn meta(n: usize) -> RequestMeta {
    RequestMeta {
        actor: "policy-system".into(),
        issued_at: Utc.with_ymd_and_hms(2021, 1, 1, 9, 0, 0).unwrap(),
        idempotency_key: Some(format!("k{n}")),
        arithmetic: crate::billing::Arithmetic::Written,
    }
}

/// A tenant with a product, an account and `payments` payments of 1.00
/// each: 3 + 2 x `payments` events (each payment posts a journal entry).
fn fill(engine: &Engine, payments: usize) {
    let mut product = crate::policy::auto_product();
    product.default_plan = "monthly".into();
    let setup: [EngineCommand; 2] = [
        crate::policy::PolicyCommand::DeployProduct { product }.into(),
        crate::policy::PolicyCommand::CreateAccount {
            locator: "A1".into(),
            name: "Ada".into(),
            currency: crate::domain::Currency::USD,
        }
        .into(),
    ];
    for (n, command) in setup.iter().enumerate() {
        engine.execute("t1", command, &meta(n)).unwrap();
    }
    for n in 0..payments {
        let pay: EngineCommand = BillingCommand::RecordPayment {
            account: "A1".into(),
            amount: Decimal::ONE,
            received_on: date(2021, 1, 1),
            invoices: vec![],
            reference: String::new(),
            for_deductibles: false,
            reserved_for: None,
        }
        .into();
        engine.execute("t1", &pay, &meta(100 + n)).unwrap();
    }
}

fn credit(engine: &Engine) -> Decimal {
    engine
        .read("t1", |state| state.collections.accounts["A1"].credit)
        .unwrap()
}

/// Start-up on `store`: with a snapshot after 5 payments and 2 more after
/// it, a reopened engine has the credit of all 7 (7.00); a marker put in
/// the snapshot (credit 1,000.00 more, saved with a correct hash) shows
/// after reopening, which proves the snapshot was loaded and only the tail
/// replayed; a bad hash, a missing chunk or another format is ignored and
/// the log replayed (7.00 again).
fn start_up_uses_good_snapshots_and_ignores_bad_ones(store: Arc<dyn Store>) {
    let first = engine(Arc::clone(&store));
    fill(&first, 5);
    let saved = first.snapshot("t1").unwrap().expect("a snapshot is saved");
    assert_eq!(saved.sequence, 2 + 5 * 2);
    assert_eq!(first.snapshot("t1").unwrap(), None, "nothing new to save");
    for n in 5..7 {
        let pay: EngineCommand = BillingCommand::RecordPayment {
            account: "A1".into(),
            amount: Decimal::ONE,
            received_on: date(2021, 1, 1),
            invoices: vec![],
            reference: String::new(),
            for_deductibles: false,
            reserved_for: None,
        }
        .into();
        first.execute("t1", &pay, &meta(100 + n)).unwrap();
    }
    assert_eq!(credit(&first), Decimal::new(700, 2));
    assert_eq!(credit(&engine(Arc::clone(&store))), Decimal::new(700, 2));

    // A marker in a well-formed snapshot shows: the snapshot is used.
    let loaded = load(store.as_ref(), "t1").unwrap().unwrap();
    assert_eq!(loaded.sequence, 12);
    let mut marked = loaded.state;
    marked.collections.accounts.get_mut("A1").unwrap().credit += Decimal::new(100_000, 2);
    // Saved as a newer snapshot of the same sequence is refused, so the
    // manifest is removed first.
    store
        .delete_blob("t1", SNAPSHOT_NAMESPACE, "latest")
        .unwrap();
    save_encoded(store.as_ref(), "t1", 12, &encode(&marked).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        credit(&engine(Arc::clone(&store))),
        Decimal::new(100_700, 2)
    );

    // A chunk whose bytes changed: bad hash, ignored.
    let manifest = manifest(store.as_ref(), "t1").unwrap().unwrap();
    let chunk_key = manifest.chunk_key(0, 0);
    let mut chunk = store
        .get_blob("t1", SNAPSHOT_NAMESPACE, &chunk_key)
        .unwrap()
        .unwrap();
    let middle = chunk.len() / 2;
    chunk[middle] ^= 0x55;
    store
        .put_blob("t1", SNAPSHOT_NAMESPACE, &chunk_key, &chunk)
        .unwrap();
    assert_eq!(
        load(store.as_ref(), "t1").unwrap_err(),
        SnapshotError::BadHash
    );
    assert_eq!(credit(&engine(Arc::clone(&store))), Decimal::new(700, 2));

    // Another format version: ignored.
    let mut old = manifest.clone();
    old.format_version = SNAPSHOT_FORMAT_VERSION - 1;
    store
        .put_blob(
            "t1",
            SNAPSHOT_NAMESPACE,
            "latest",
            &serde_json::to_vec(&old).unwrap(),
        )
        .unwrap();
    assert_eq!(
        load(store.as_ref(), "t1").unwrap_err().code(),
        "snapshot_other_format"
    );
    assert_eq!(credit(&engine(Arc::clone(&store))), Decimal::new(700, 2));

    // A missing chunk: ignored.
    store
        .put_blob(
            "t1",
            SNAPSHOT_NAMESPACE,
            "latest",
            &serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();
    store
        .delete_blob("t1", SNAPSHOT_NAMESPACE, &chunk_key)
        .unwrap();
    assert_eq!(
        load(store.as_ref(), "t1").unwrap_err(),
        SnapshotError::MissingChunk(chunk_key)
    );
    let reopened = engine(Arc::clone(&store));
    assert_eq!(credit(&reopened), Decimal::new(700, 2));

    // A new snapshot replaces the bad one, and older chunks are removed.
    let saved = reopened.snapshot("t1").unwrap().unwrap();
    assert_eq!(saved.sequence, 16);
    let keys = store.list_blobs("t1", SNAPSHOT_NAMESPACE).unwrap();
    let latest = super::manifest(store.as_ref(), "t1").unwrap().unwrap();
    assert_eq!(keys.len(), 1 + latest.chunks as usize, "{keys:?}");
    assert!(
        keys.iter()
            .all(|key| key == "latest" || key.starts_with(&latest.prefix))
    );
    assert_eq!(load(store.as_ref(), "t1").unwrap().unwrap().sequence, 16);
}

#[test]
fn start_up_uses_good_snapshots_and_ignores_bad_ones_in_memory() {
    start_up_uses_good_snapshots_and_ignores_bad_ones(Arc::new(MemoryStore::new()));
}

#[test]
fn start_up_uses_good_snapshots_and_ignores_bad_ones_on_sled() {
    let dir = tempfile::tempdir().unwrap();
    start_up_uses_good_snapshots_and_ignores_bad_ones(Arc::new(
        SledStore::open(dir.path().join("store")).unwrap(),
    ));
}

#[test]
fn start_up_uses_good_snapshots_and_ignores_bad_ones_on_postgres() {
    let Some(url) = test_database_url() else {
        return;
    };
    let url = url_with_schema(&url, &fresh_schema_name("snapshot"));
    start_up_uses_good_snapshots_and_ignores_bad_ones(Arc::new(PgStore::open(&url).unwrap()));
}

/// Every 4 events the engine saves a snapshot in the background: after 10
/// payments (22 events) the latest snapshot is at sequence 20 or later
/// once the background saves finish.
#[test]
fn the_engine_saves_a_snapshot_every_interval_of_events() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let engine = engine(Arc::clone(&store)).with_snapshot_interval(4);
    fill(&engine, 10);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let at = manifest(store.as_ref(), "t1")
            .unwrap()
            .map(|m| m.sequence)
            .unwrap_or(0);
        if at >= 20 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "snapshot at {at}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A second host on the same PostgreSQL database that opens after the
/// first saved a snapshot starts from it: its state equals the first
/// host's.
#[test]
fn a_second_host_starts_from_the_snapshot_the_first_saved_on_postgres() {
    let Some(url) = test_database_url() else {
        return;
    };
    let url = url_with_schema(&url, &fresh_schema_name("snapshot_hosts"));
    let first_store: Arc<dyn Store> = Arc::new(PgStore::open(&url).unwrap());
    let first = engine(Arc::clone(&first_store));
    fill(&first, 3);
    first.snapshot("t1").unwrap().unwrap();
    let second = engine(Arc::new(PgStore::open(&url).unwrap()));
    assert_eq!(credit(&second), Decimal::new(300, 2));
    let a = first.read("t1", |s| encode(s).unwrap()).unwrap();
    let b = second.read("t1", |s| encode(s).unwrap()).unwrap();
    assert_eq!(a, b);
}

/// Issues `locator` on account A1 with P1's data, under product `auto`.
fn issue_like_p1(state: &mut TenantState, locator: &str, step: usize) {
    let data = match &state.book.policies["P1"].transactions[0].change {
        crate::policy::TransactionChange::NewBusiness { data, .. } => data.clone(),
        other => panic!("P1 opens with new business, not {other:?}"),
    };
    state
        .execute(
            &crate::policy::PolicyCommand::IssuePolicy {
                locator: locator.into(),
                account: "A1".into(),
                product: "auto".into(),
                start: date(2021, 1, 1),
                plan: None,
                time_zone: "America/New_York".into(),
                data,
                bind: Default::default(),
            }
            .into(),
            &context(step),
            &FieldRaters,
        )
        .unwrap();
}

#[test]
fn policies_of_one_product_revision_share_one_product_copy_before_and_after_a_snapshot() {
    let mut state = start();
    issue_like_p1(&mut state, "P2", 10);
    let mut product = (*state.book.policies["P1"].header.product).clone();
    product.non_renewal_notice_days = 45;
    state
        .execute(
            &crate::policy::PolicyCommand::DeployProduct { product }.into(),
            &context(11),
            &FieldRaters,
        )
        .unwrap();
    issue_like_p1(&mut state, "P3", 12);
    let product =
        |state: &TenantState, policy: &str| Arc::clone(&state.book.policies[policy].header.product);
    assert!(Arc::ptr_eq(&product(&state, "P1"), &product(&state, "P2")));
    assert!(!Arc::ptr_eq(&product(&state, "P1"), &product(&state, "P3")));
    assert_eq!(product(&state, "P3").non_renewal_notice_days, 45);

    let decoded = decode(&encode(&state).unwrap()).unwrap();
    assert_eq!(
        decoded.book, state.book,
        "a snapshot gives back the same book"
    );
    assert_eq!(decoded.collections, state.collections);
    assert!(Arc::ptr_eq(
        &product(&decoded, "P1"),
        &product(&decoded, "P2")
    ));
    assert!(!Arc::ptr_eq(
        &product(&decoded, "P2"),
        &product(&decoded, "P3")
    ));
    assert_eq!(product(&decoded, "P1").non_renewal_notice_days, 0);
}

/// Asserts that the slices of `policy` billing `charge` share one locator
/// allocation; returns how many there are.
fn slices_share_their_charge(state: &TenantState, policy: &str, charge: &str) -> usize {
    let slices: Vec<&arcstr::ArcStr> = state.book.policies[policy]
        .slices
        .iter()
        .map(|s| &s.charge)
        .filter(|c| **c == charge)
        .collect();
    assert!(
        slices.iter().all(|c| arcstr::ArcStr::ptr_eq(c, slices[0])),
        "slices of {charge} on {policy} share one locator: {:?}",
        slices.iter().map(|c| c.as_ptr()).collect::<Vec<_>>()
    );
    slices.len()
}

/// Asserts that account A1's pending slices of `policy` share the locator
/// of A1's list of policies; returns how many there are.
fn pending_slices_share_their_policy(state: &TenantState, policy: &str) -> usize {
    let billing = &state.collections.accounts["A1"];
    let listed = billing.policies.iter().find(|p| **p == policy).unwrap();
    let pending: Vec<_> = billing
        .pending_slices
        .iter()
        .filter(|s| s.policy == policy)
        .collect();
    assert!(
        pending
            .iter()
            .all(|s| arcstr::ArcStr::ptr_eq(&s.policy, listed)),
        "pending slices of {policy} share the account's locator"
    );
    pending.len()
}

#[test]
fn slices_share_their_charge_and_policy_locators_before_and_after_a_snapshot() {
    let mut state = start();
    issue_like_p1(&mut state, "P2", 10);
    // P1's book: a premium of 1234.56 (charge C2) in twelve monthly slices.
    assert_eq!(slices_share_their_charge(&state, "P2", "P2-T1-C2"), 12);
    assert_eq!(pending_slices_share_their_policy(&state, "P2"), 12);

    let decoded = decode(&encode(&state).unwrap()).unwrap();
    assert_eq!(
        decoded.book, state.book,
        "a snapshot gives back the same book"
    );
    assert_eq!(decoded.collections, state.collections);
    assert_eq!(slices_share_their_charge(&decoded, "P2", "P2-T1-C2"), 12);
    assert_eq!(pending_slices_share_their_policy(&decoded, "P2"), 12);
}
