//! A monthly billing run through the durable stores: the month of the
//! `collections` bench (one monthly policy per account, 1200.00 a year from
//! 2021-01-01, January invoiced and paid; February billed by 28 daily runs:
//! every invoice on the 1st, found past due on the 2nd, the other 26 runs
//! find nothing to do) run by `Engine::run_billing` over a `SledStore` (and
//! a `PgStore` when `PREMIA_BENCH_POSTGRES_URL` is set).
//!
//! The set-up is not timed: the policies are issued and January billed and
//! paid on a state in memory, its events appended in appends of 1,000, and
//! a snapshot of the state saved at the end of the log so the engine opens
//! without replaying it. The same state then runs February in memory
//! (`TenantState::billing_run`, the pure run): the durable run must append
//! exactly as many events and leave the same invoices and balances.
//!
//! A run that carries the tenant a snapshot interval past its latest
//! snapshot starts one in the background; the bench waits for it between
//! two days' runs and reports that wait apart (in production the runs are a
//! day apart and never wait for it).
//!
//! `cargo bench -p premia --bench billing_run` prints the figures;
//! `PREMIA_BENCH_POLICIES=10000,100000` (the default) sets the sizes,
//! `PREMIA_BENCH_STORES=sled,postgres` (the default) the stores;
//! `PREMIA_BENCH_PAUSE_MS=2000` says on stderr when the timed part starts
//! and waits 2 s first, for a profiler to attach (`scripts/profile-billing-run.sh`);
//! `PREMIA_BENCH_SNAPSHOTS=off` takes no snapshot (a profile of the runs alone).

// Rates and durations are reported as floats; no money is.
#![allow(clippy::float_arithmetic)]

mod support;

use chrono::{NaiveDate, TimeZone, Utc};
use premia::billing::Cadence;
use premia::collections::{BillingCommand, NoInvoicingPlugins};
use premia::engine::{Engine, EngineCommand, RequestMeta, TenantEvent, TenantState, snapshot};
use premia::policy::PolicyCommand;
use premia::store::{AppendRequest, CommandMeta, NewEvent, PgStore, SledStore, Store};
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Instant;
use support::{Raters, account, at, date, issue};

/// The allocator the `premia` binary runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TENANT: &str = "bench";

/// A tenant after January, as events and as the state they build.
struct Book {
    policies: usize,
    events: Vec<TenantEvent>,
    snapshot: snapshot::Encoded,
    /// What the pure February run appends.
    february_events: usize,
    /// Invoices of every account after the pure February.
    invoices: usize,
}

fn payment(i: usize) -> EngineCommand {
    BillingCommand::RecordPayment {
        for_deductibles: false,
        reserved_for: None,
        account: format!("A{i:06}"),
        amount: Decimal::new(10_000, 2),
        received_on: date(2021, 1, 1),
        invoices: vec![],
        reference: String::new(),
    }
    .into()
}

fn invoices(state: &TenantState) -> usize {
    state
        .collections
        .accounts
        .values()
        .map(|a| a.invoices.len())
        .sum()
}

/// The policies issued, January billed and paid, in memory; then February
/// in memory for the figures the durable run must reproduce.
fn book(n: usize) -> Book {
    let mut state = TenantState::new(TENANT).unwrap();
    let mut events = Vec::new();
    let run = |state: &mut TenantState,
               events: &mut Vec<TenantEvent>,
               command: EngineCommand,
               day: NaiveDate| {
        events.extend(state.execute(&command, &at(day), &Raters).unwrap());
    };
    let product = support::product("monthly", Cadence::Monthly);
    run(
        &mut state,
        &mut events,
        PolicyCommand::DeployProduct { product }.into(),
        date(2020, 12, 15),
    );
    for i in 0..n {
        run(
            &mut state,
            &mut events,
            account(format!("A{i:06}"), format!("Account {i}")),
            date(2020, 12, 15),
        );
        run(
            &mut state,
            &mut events,
            issue(format!("P{i:06}"), format!("A{i:06}"), date(2021, 1, 1)),
            date(2020, 12, 15),
        );
    }
    let january = |state: &mut TenantState, day: NaiveDate, events: &mut Vec<TenantEvent>| {
        let report =
            state.billing_run_recording(day, &at(day), &Raters, &NoInvoicingPlugins, events);
        assert!(report.failures.is_empty(), "{:?}", report.failures);
    };
    january(&mut state, date(2021, 1, 1), &mut events);
    for i in 0..n {
        run(&mut state, &mut events, payment(i), date(2021, 1, 1));
    }
    january(&mut state, date(2021, 1, 31), &mut events);
    let snapshot = snapshot::encode(&state).unwrap();
    let mut february_events = 0;
    for day in date(2021, 2, 1).iter_days().take(28) {
        let report = state.billing_run(day, &at(day), &Raters, &NoInvoicingPlugins);
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        february_events += report.events;
    }
    assert!(state.trial_balances_are_zero());
    Book {
        policies: n,
        events,
        snapshot,
        february_events,
        invoices: invoices(&state),
    }
}

/// Appends the events in appends of at most 1,000, pipelined, and saves the
/// snapshot at their end.
fn load(store: &dyn Store, book: &Book) {
    let mut pending = Vec::new();
    let mut sequence = 0;
    for (n, chunk) in book
        .events
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
            expected_last_sequence: Some(sequence),
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
        sequence += chunk.len() as u64;
        pending.push(store.submit_append(request).unwrap());
    }
    for append in pending {
        append.wait().unwrap();
    }
    snapshot::save_encoded(store, TENANT, sequence, &book.snapshot).unwrap();
}

/// Waits for the background snapshot a run started, if one was due (the
/// run moved the tenant [`snapshot::SNAPSHOT_INTERVAL_EVENTS`] past the
/// latest snapshot): whether there was one. Daily runs are a day apart in
/// production, so the next run does not wait for it there; the bench runs
/// them back to back and keeps the snapshot out of the runs' time.
fn wait_for_snapshot(store: &dyn Store) -> bool {
    let last = store.last_sequence(TENANT).unwrap();
    let manifest = || snapshot::manifest(store, TENANT).unwrap();
    let at = || manifest().map(|m| m.sequence).unwrap_or(0);
    if last < at() + snapshot::SNAPSHOT_INTERVAL_EVENTS {
        return false;
    }
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    while at() < last {
        assert!(
            Instant::now() < deadline,
            "no snapshot after a run: the latest at {}, the log at {last}",
            at()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The snapshot's thread then deletes the older chunks: a run that ends
    // while it still does finds the tenant's snapshot running and takes none.
    let chunks = manifest().map(|m| m.chunks as usize).unwrap_or(0);
    while store
        .list_blobs(TENANT, snapshot::SNAPSHOT_NAMESPACE)
        .unwrap()
        .len()
        > chunks + 1
    {
        assert!(Instant::now() < deadline, "older snapshot chunks left");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    true
}

/// CPU seconds used by this process's threads (from `/proc/self/task`):
/// the main thread (the run), the store's committer, and every other.
#[derive(Debug, Default)]
struct ThreadCpu {
    main: f64,
    committer: f64,
    others: f64,
}

impl ThreadCpu {
    fn since(&self, before: &ThreadCpu) -> ThreadCpu {
        ThreadCpu {
            main: self.main - before.main,
            committer: self.committer - before.committer,
            others: self.others - before.others,
        }
    }
}

/// Threads that ended are not counted: the bench's threads live through
/// the run (the committer and sled's threads are the store's).
fn thread_cpu() -> ThreadCpu {
    let mut cpu = ThreadCpu::default();
    let pid = std::process::id().to_string();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return cpu;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ...`: utime and stime are the 12th and 13th
        // fields after the closing parenthesis, in ticks of 1/100 s.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 =
            fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
        let seconds = ticks / 100.0;
        if task.file_name().to_string_lossy() == pid {
            cpu.main += seconds;
        } else if head.contains("premia-store") {
            cpu.committer += seconds;
        } else {
            cpu.others += seconds;
        }
    }
    cpu
}

/// With `PREMIA_BENCH_PAUSE_MS` set, says on stderr that the timed part
/// starts and waits that long, so a profiler can attach to it alone
/// (`perf record -p <pid>`).
fn pause_for_profiler(name: &str, n: usize) {
    if let Some(ms) = std::env::var("PREMIA_BENCH_PAUSE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
    {
        eprintln!("timed part starts: {name} {n} pid {}", std::process::id());
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

fn meta(day: NaiveDate) -> RequestMeta {
    RequestMeta {
        actor: "bench".into(),
        issued_at: Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap()),
        idempotency_key: None,
        arithmetic: premia::billing::Arithmetic::Written,
    }
}

/// February by daily runs through the engine over `store`: seconds taken.
fn february(name: &str, store: Arc<dyn Store>, book: &Book) -> f64 {
    let n = book.policies;
    let setup = Instant::now();
    load(store.as_ref(), book);
    let mut engine = Engine::open(Arc::clone(&store), Arc::new(Raters)).unwrap();
    let snapshots_on = std::env::var("PREMIA_BENCH_SNAPSHOTS").as_deref() != Ok("off");
    if !snapshots_on {
        engine = engine.with_snapshot_interval(u64::MAX / 4);
    }
    let setup = setup.elapsed().as_secs_f64();
    let before = store.last_sequence(TENANT).unwrap();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    pause_for_profiler(name, n);
    let cpu_before = thread_cpu();
    let started = Instant::now();
    let mut commands = 0;
    let mut runs = Vec::new();
    let mut snapshots = 0.0;
    let mut saved = 0;
    for day in date(2021, 2, 1).iter_days().take(28) {
        let run = Instant::now();
        let report = engine.run_billing(TENANT, day, &meta(day)).unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        commands += report.commands;
        runs.push(run.elapsed().as_secs_f64());
        let waited = Instant::now();
        if snapshots_on && wait_for_snapshot(store.as_ref()) {
            saved += 1;
        }
        snapshots += waited.elapsed().as_secs_f64();
    }
    let seconds = started.elapsed().as_secs_f64() - snapshots;
    let cpu = thread_cpu().since(&cpu_before);
    let events = store.last_sequence(TENANT).unwrap() - before;
    assert_eq!(
        events as usize, book.february_events,
        "the pure run's events"
    );
    let (invoiced, balanced) = engine
        .read(TENANT, |s| (invoices(s), s.trial_balances_are_zero()))
        .unwrap();
    assert_eq!(invoiced, book.invoices);
    assert!(balanced);
    println!(
        "{name}, {n} policies: February (28 daily runs) {seconds:.2} s = {:.0} policies/s, \
         {:.1} us per policy; {commands} commands, {events} events appended; \
         runs of the 1st {:.2} s, the 2nd {:.2} s, the other 26 {:.2} s; \
         CPU {:.1} s on the run's thread, {:.1} s on the committer, {:.1} s on others; \
         {saved} background snapshots waited for between runs (not timed) {snapshots:.1} s; \
         set-up (not timed) {setup:.1} s; load average before {}",
        n as f64 / seconds,
        seconds * 1e6 / n as f64,
        runs[0],
        runs[1],
        runs[2..].iter().sum::<f64>(),
        cpu.main,
        cpu.committer,
        cpu.others,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    );
    seconds
}

fn main() {
    let sizes: Vec<usize> = std::env::var("PREMIA_BENCH_POLICIES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let stores = std::env::var("PREMIA_BENCH_STORES").unwrap_or_else(|_| "sled,postgres".into());
    let postgres = std::env::var("PREMIA_BENCH_POSTGRES_URL")
        .ok()
        .filter(|_| stores.contains("postgres"));
    println!("billing_run: February of monthly policies through the durable stores");
    let mut per_policy: Vec<(String, usize, f64)> = Vec::new();
    for n in sizes {
        let started = Instant::now();
        let book = book(n);
        println!(
            "{n} policies: {} events of set-up and the pure February ({} events) in {:.1} s",
            book.events.len(),
            book.february_events,
            started.elapsed().as_secs_f64()
        );
        if stores.contains("sled") {
            let dir = tempfile::tempdir().unwrap();
            let sled: Arc<dyn Store> = Arc::new(SledStore::open(dir.path().join("store")).unwrap());
            let seconds = february("sled", sled, &book);
            per_policy.push(("sled".into(), n, seconds / n as f64));
        }
        if let Some(url) = &postgres {
            let schema = premia::store::fresh_schema_name("billing_run");
            let url = premia::store::url_with_schema(url, &schema);
            let pg: Arc<dyn Store> = Arc::new(PgStore::open(&url).unwrap());
            let seconds = february("postgres", pg, &book);
            per_policy.push(("postgres".into(), n, seconds / n as f64));
        }
    }
    for store in ["sled", "postgres"] {
        let runs: Vec<_> = per_policy.iter().filter(|(s, ..)| s == store).collect();
        if let (Some(first), Some(last)) = (runs.first(), runs.last())
            && runs.len() > 1
        {
            println!(
                "{store}: cost per policy {:.1} us at {}, {:.1} us at {} (ratio {:.2})",
                first.2 * 1e6,
                first.1,
                last.2 * 1e6,
                last.1,
                last.2 / first.2
            );
        }
    }
}
