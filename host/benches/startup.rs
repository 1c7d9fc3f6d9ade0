//! Start-up of a tenant with 1,000,000 events, with and without a
//! snapshot, on sled (and on PostgreSQL when `PREMIA_BENCH_POSTGRES_URL`
//! is set): the events are produced by real commands (policies issued,
//! endorsed and reversed, then payments), appended to the store, and the
//! engine is opened over it (`Engine::open`, what `premia serve` does):
//! - with no snapshot: the whole log is read, parsed and applied;
//! - with a snapshot at the end of the log (a clean shutdown);
//! - with a snapshot a whole interval before the end (the worst case while
//!   running: `SNAPSHOT_INTERVAL_EVENTS` events of tail to replay).
//!
//! `cargo bench -p premia --bench startup` prints the figures;
//! `PREMIA_BENCH_EVENTS` and `PREMIA_BENCH_POLICIES` change the sizes.

// Floats only turn durations and counts into printed rates; no money.
#![allow(clippy::float_arithmetic)]

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use premia::billing::{Cadence, InstallmentPlan};
use premia::collections::BillingCommand;
use premia::domain::{Currency, RoundingMode};
use premia::engine::snapshot;
use premia::engine::{Engine, EngineCommand, SNAPSHOT_INTERVAL_EVENTS, TenantEvent, TenantState};
use premia::policy::{
    ChargeCategory, ChargeDef, CommandContext, DataChange, ExposureData, Fields, Handling,
    Invoicing, PerilData, PolicyCommand, PolicyData, ProductConfig, RaterResolver, RatingChain,
};
use premia::rating::{FieldRater, FieldValue, Rater, RatingError};
use premia::store::{AppendRequest, CommandMeta, NewEvent, PgStore, SledStore, Store};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// The allocator the `premia` binary runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TENANT: &str = "bench";

/// The machine's load average (1, 5, 15 minutes), printed beside each
/// figure: the machine may be shared.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

/// Loads the snapshot alone and prints where its time went.
fn phases(name: &str, store: &dyn Store) {
    let loaded = snapshot::load(store, TENANT).unwrap().unwrap();
    let p = loaded.phases;
    println!(
        "{name}: snapshot load alone {:.2} s on {} threads (thread time: read {:.2} s, sha-256 {:.2} s, decode {:.2} s; assemble {:.2} s)",
        p.total.as_secs_f64(),
        p.threads,
        p.read.as_secs_f64(),
        p.hash.as_secs_f64(),
        p.decode.as_secs_f64(),
        p.assemble.as_secs_f64(),
    );
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Raters;

impl RaterResolver for Raters {
    fn resolve(&self, _chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
        Ok(Arc::new(FieldRater))
    }
}

fn product() -> ProductConfig {
    let mut charges = BTreeMap::new();
    let def = |category, handling, invoicing| ChargeDef {
        category,
        handling,
        invoicing,
    };
    charges.insert(
        "premium".to_string(),
        def(
            ChargeCategory::Premium,
            Handling::Normal,
            Invoicing::Scheduled,
        ),
    );
    charges.insert(
        "policy-fee".to_string(),
        def(ChargeCategory::FlatFee, Handling::Flat, Invoicing::Next),
    );
    let mut plans = BTreeMap::new();
    plans.insert(
        "monthly".to_string(),
        InstallmentPlan::new(Cadence::Monthly),
    );
    ProductConfig {
        name: "auto".into(),
        currency: Currency::USD,
        duration_basis: Default::default(),
        rounding_mode: RoundingMode::HalfAwayFromZero,
        charges,
        premium_charge: "premium".into(),
        commission_charge: None,
        rating: RatingChain::Native {
            rater: "field".into(),
        },
        plans,
        default_plan: "monthly".into(),
        cancellation_retention: None,
        cancellation: None,
        non_renewal_notice_days: 0,
        invoicing_plugin: None,
        term_months: 12,
        rating_date: Default::default(),
        shadow: None,
        billing_methods: Vec::new(),
    }
}

fn premium(cents: i64) -> Fields {
    let mut fields = Fields::new();
    let text = rust_decimal::Decimal::new(cents, 2).to_string();
    fields.insert("yearly_premium".into(), vec![FieldValue::Text(text)]);
    fields
}

/// The tenant's events, produced by executing commands, and its state a
/// snapshot interval before the end (with the number of events it holds).
struct History {
    events: Vec<TenantEvent>,
    policies: usize,
    early: (TenantState, usize),
    last: TenantState,
}

fn produce(events_target: usize, policies: usize) -> History {
    let context = |day: i64| CommandContext {
        actor: "bench".into(),
        issued_at: Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap() + Duration::days(day),
        idempotency_key: None,
        arithmetic: premia::billing::Arithmetic::Written,
        pending_slices: None,
        today: None,
    };
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let mut state = TenantState::new(TENANT).unwrap();
    let mut log: Vec<TenantEvent> = Vec::with_capacity(events_target + 16);
    let early_at = events_target.saturating_sub(SNAPSHOT_INTERVAL_EVENTS as usize);
    let mut early = None;
    let mut run =
        |state: &mut TenantState, log: &mut Vec<TenantEvent>, command: EngineCommand, day: i64| {
            if early.is_none() && log.len() >= early_at {
                early = Some((state.clone(), log.len()));
            }
            log.extend(state.execute(&command, &context(day), &Raters).unwrap());
        };
    run(
        &mut state,
        &mut log,
        PolicyCommand::DeployProduct { product: product() }.into(),
        0,
    );
    for policy in 1..=policies as i64 {
        let account = format!("A{policy}");
        let locator = format!("P{policy}");
        run(
            &mut state,
            &mut log,
            PolicyCommand::CreateAccount {
                locator: account.clone(),
                name: "x".into(),
                currency: Currency::USD,
            }
            .into(),
            0,
        );
        let mut perils = BTreeMap::new();
        perils.insert(
            format!("{locator}-COLL"),
            PerilData {
                name: "collision".into(),
                fields: premium(120_000 + policy),
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
        run(
            &mut state,
            &mut log,
            PolicyCommand::IssuePolicy {
                locator: locator.clone(),
                account,
                product: "auto".into(),
                start,
                plan: None,
                time_zone: "UTC".into(),
                data: PolicyData {
                    fields: Fields::new(),
                    exposures: exposures.into(),
                },
                bind: Default::default(),
            }
            .into(),
            0,
        );
        let change = DataChange::SetPerilFields {
            exposure: "V1".into(),
            peril: format!("{locator}-COLL"),
            fields: premium(150_000),
        };
        run(
            &mut state,
            &mut log,
            PolicyCommand::Endorse {
                policy: locator.clone(),
                effective: start + Duration::days(180),
                changes: vec![change],
            }
            .into(),
            180,
        );
    }
    // Payments on every account in turn fill the log.
    let mut n: i64 = 0;
    while log.len() < events_target {
        n += 1;
        let account = format!("A{}", 1 + n % policies as i64);
        run(
            &mut state,
            &mut log,
            BillingCommand::RecordPayment {
                account,
                amount: rust_decimal::Decimal::new(1_000 + n % 10_000, 2),
                received_on: start + Duration::days(1 + n % 300),
                invoices: vec![],
                reference: String::new(),
                for_deductibles: false,
                reserved_for: None,
            }
            .into(),
            1 + n % 300,
        );
    }
    History {
        events: log,
        policies,
        early: early.expect("an early state"),
        last: state,
    }
}

/// Appends the events in appends of at most 1,000.
fn append_all(store: &dyn Store, events: &[TenantEvent]) {
    for (n, chunk) in events
        .chunks(premia::store::EVENTS_PER_APPEND_MAX)
        .enumerate()
    {
        let request = AppendRequest {
            meta: CommandMeta {
                tenant: TENANT.into(),
                command_id: format!("load-{n}"),
                actor: "bench".into(),
                issued_at: Utc::now(),
                idempotency_key: None,
                request_hash: format!("load-{n}"),
            },
            expected_versions: Vec::new(),
            expected_last_sequence: None,
            chain: None,
            events: chunk
                .iter()
                .map(|event| NewEvent {
                    stream: event.stream(),
                    kind: event.kind().to_string(),
                    payload: serde_json::value::to_raw_value(event).unwrap(),
                })
                .collect(),
            balance_lines: chunk.iter().flat_map(TenantEvent::balance_lines).collect(),
            response: serde_json::json!({}),
        };
        store.append(request).unwrap();
    }
}

/// Opens the engine over the store: how long, and the state's fingerprint.
fn open(store: &Arc<dyn Store>) -> (f64, usize) {
    let started = Instant::now();
    let engine = Engine::open(Arc::clone(store), Arc::new(Raters)).unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let entries = engine.read(TENANT, |s| s.ledger.entries().len()).unwrap();
    (elapsed, entries)
}

fn measure(name: &str, store: Arc<dyn Store>, history: &History) {
    let started = Instant::now();
    append_all(store.as_ref(), &history.events);
    println!(
        "{name}: appended {} events in {:.1} s",
        history.events.len(),
        started.elapsed().as_secs_f64()
    );
    let (full, entries) = open(&store);
    println!(
        "{name}: start-up without a snapshot (whole log replayed): {full:.2} s ({:.0} events/s) [load {}]",
        history.events.len() as f64 / full,
        load_average()
    );

    // A snapshot one interval before the end: the worst tail.
    let (early_state, early_events) = &history.early;
    let encoded = snapshot::encode(early_state).unwrap();
    snapshot::save_encoded(store.as_ref(), TENANT, *early_events as u64, &encoded).unwrap();
    let (tail, tail_entries) = open(&store);
    assert_eq!(tail_entries, entries);
    println!(
        "{name}: start-up from a snapshot at {early_events} + {} events of tail: {tail:.2} s ({:.1}x faster) [load {}]",
        history.events.len() - early_events,
        full / tail,
        load_average()
    );

    // A snapshot at the end (a clean shutdown).
    let engine = Engine::open(Arc::clone(&store), Arc::new(Raters)).unwrap();
    let save_started = Instant::now();
    let saved = engine.snapshot(TENANT).unwrap().unwrap();
    let save = save_started.elapsed().as_secs_f64();
    drop(engine);
    println!(
        "{name}: snapshot of {} events: {:.1} MB in {} chunk(s), encoded and saved in {save:.2} s [load {}]",
        saved.sequence,
        saved.bytes as f64 / 1e6,
        saved.chunks,
        load_average()
    );
    let (end, end_entries) = open(&store);
    assert_eq!(end_entries, entries);
    println!(
        "{name}: start-up from a snapshot at the end of the log: {end:.2} s ({:.1}x faster) [load {}]",
        full / end,
        load_average()
    );
    phases(name, store.as_ref());
    let (again, _) = open(&store);
    println!(
        "{name}: start-up from a snapshot at the end of the log, again: {again:.2} s [load {}]",
        load_average()
    );
}

fn main() {
    let events_target = env_usize("PREMIA_BENCH_EVENTS", 1_000_000);
    let policies = env_usize("PREMIA_BENCH_POLICIES", 10_000);
    let started = Instant::now();
    let history = produce(events_target, policies);
    println!(
        "produced {} events ({} policies, then payments) in {:.1} s",
        history.events.len(),
        history.policies,
        started.elapsed().as_secs_f64()
    );
    compare_decoding(&history.last);
    let dir = tempfile::tempdir().unwrap();
    let sled: Arc<dyn Store> = Arc::new(SledStore::open(dir.path().join("store")).unwrap());
    measure("sled", sled, &history);
    if let Ok(url) = std::env::var("PREMIA_BENCH_POSTGRES_URL") {
        let url =
            premia::store::url_with_schema(&url, &premia::store::fresh_schema_name("startup"));
        let pg: Arc<dyn Store> = Arc::new(PgStore::open(&url).unwrap());
        measure("postgres", pg, &history);
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed().as_secs_f64())
}

/// Decoding alone, in memory: the whole state as one MessagePack value on
/// one thread (how format 1 stored it) against the parts on every core.
fn compare_decoding(state: &TenantState) {
    let (whole, whole_encode) = timed(|| rmp_serde::to_vec_named(state).unwrap());
    let (decoded, whole_decode) = timed(|| rmp_serde::from_slice::<TenantState>(&whole).unwrap());
    drop(decoded);
    let (parts, parts_encode) = timed(|| snapshot::encode(state).unwrap());
    let (decoded, parts_decode) = timed(|| snapshot::decode(&parts).unwrap());
    drop(decoded);
    println!(
        "decoding in memory: one value {:.1} MB, encode {whole_encode:.2} s, decode {whole_decode:.2} s (one thread); \
         {} parts {:.1} MB, encode {parts_encode:.2} s, decode {parts_decode:.2} s ({} threads): {:.2}x",
        whole.len() as f64 / 1e6,
        parts.parts.len(),
        parts.len() as f64 / 1e6,
        rayon::current_num_threads(),
        whole_decode / parts_decode
    );
}
