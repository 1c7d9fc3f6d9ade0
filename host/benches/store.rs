//! Durable event store speed: appends through `SledStore` with group commit
//! (every append acknowledged only after an fsync), with 1 and with 16
//! concurrent writers, p50/p99 latency, and reading back 100k events from a
//! reopened store (the raw input of a projection rebuild).
//!
//! Each append is one command like a payment: 3 events of ~300-byte JSON
//! payloads (payment, journal entry, invoice allocation).
//! Target: at least 20,000 durable events per second with concurrent writers.
//!
//! Run with `cargo bench -p premia --bench store` (prints figures; no criterion).

#![allow(clippy::float_arithmetic)]

use chrono::{TimeZone, Utc};
use premia::store::{AppendRequest, CommandMeta, NewEvent, SledStore, Store};
use serde_json::json;
use std::time::{Duration, Instant};

const TENANT: &str = "acme";
const EVENTS_PER_APPEND: usize = 3;
const SINGLE_WRITER_APPENDS: usize = 3_000;
const WRITERS: usize = 16;
const APPENDS_PER_WRITER: usize = 2_000;
const READ_BACK_EVENTS: u64 = 100_000;
const READ_PAGE_EVENTS: usize = 10_000;

fn payment(writer: usize, n: usize) -> AppendRequest {
    let account = format!("account/A-{writer:04}");
    let command = format!("cmd-{writer:04}-{n:07}");
    let payment_id = format!("PAY-{writer:04}-{n:07}");
    let events = vec![
        NewEvent::json(
            account.clone(),
            "payment_received",
            &json!({
                "payment": payment_id, "account": account, "amount": "1234.56", "currency": "USD",
                "method": "ach", "reference": "ACH-20240301-000123456789", "received_on": "2024-03-01",
                "payer": {"name": "Jane Q. Policyholder", "bank_last4": "6789"},
                "allocation": "oldest_first", "note": "monthly installment 3 of 12"
            }),
        ),
        NewEvent::json(
            account.clone(),
            "journal_entry_posted",
            &json!({
                "entry": format!("JE-{writer:04}-{n:07}"), "currency": "USD", "posted_on": "2024-03-01",
                "lines": [
                    {"account": "cash", "debit": "1234.56", "credit": "0.00"},
                    {"account": "premium_receivable_billed", "debit": "0.00", "credit": "1234.56"}
                ],
                "source": payment_id, "memo": "payment applied to open invoices"
            }),
        ),
        NewEvent::json(
            account.clone(),
            "invoice_paid",
            &json!({
                "invoice": format!("INV-{writer:04}-{n:07}"), "payment": payment_id, "amount": "1234.56",
                "currency": "USD", "remaining": "0.00", "due_on": "2024-03-05", "paid_on": "2024-03-01",
                "policy": "policy/P-000123", "installment": 3, "status": "paid", "late": false
            }),
        ),
    ];
    AppendRequest {
        meta: CommandMeta {
            tenant: TENANT.to_string(),
            command_id: command.clone(),
            actor: "api-key:K-0001".to_string(),
            issued_at: Utc.with_ymd_and_hms(2024, 3, 1, 9, 30, 0).unwrap(),
            idempotency_key: Some(command),
            request_hash: "9f2c1d6e4b7a8c0e1f3a5b7d9c2e4f6a8b0c1d3e5f7a9b2c4d6e8f0a1b3c5d7e"
                .to_string(),
        },
        expected_versions: Vec::new(),
        expected_last_sequence: None,
        chain: None,
        events,
        balance_lines: Vec::new(),
        response: json!({"payment": payment_id, "status": "applied"}),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn report(name: &str, writers: usize, elapsed: Duration, mut latencies: Vec<Duration>) {
    latencies.sort();
    let appends = latencies.len() as f64;
    let seconds = elapsed.as_secs_f64();
    println!(
        "{name:<28} writers {writers:>2}: {:>7.0} appends/s {:>7.0} events/s   p50 {:>7.1} us   p99 {:>7.1} us   ({} appends in {:.2} s)",
        appends / seconds,
        appends * EVENTS_PER_APPEND as f64 / seconds,
        percentile(&latencies, 0.50).as_secs_f64() * 1e6,
        percentile(&latencies, 0.99).as_secs_f64() * 1e6,
        latencies.len(),
        seconds,
    );
}

fn single_writer(store: &SledStore) {
    for n in 0..200 {
        store.append(payment(9_999, n)).unwrap();
    }
    let mut latencies = Vec::with_capacity(SINGLE_WRITER_APPENDS);
    let started = Instant::now();
    for n in 0..SINGLE_WRITER_APPENDS {
        let request = payment(0, n);
        let sent = Instant::now();
        store.append(request).unwrap();
        latencies.push(sent.elapsed());
    }
    report("durable append", 1, started.elapsed(), latencies);
}

/// `first_writer` keeps each run's commands (and idempotency keys) distinct.
fn concurrent_writers(store: &SledStore, first_writer: usize, writers: usize, appends: usize) {
    let before = store.stats();
    let started = Instant::now();
    let latencies: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..writers)
            .map(|writer| {
                scope.spawn(move || {
                    let mut latencies = Vec::with_capacity(appends);
                    for n in 0..appends {
                        let request = payment(first_writer + writer, n);
                        let sent = Instant::now();
                        store.append(request).unwrap();
                        latencies.push(sent.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let elapsed = started.elapsed();
    report("durable append", writers, elapsed, latencies);
    let after = store.stats();
    let batches = after.commit.batches - before.commit.batches;
    let requests = after.commit.requests - before.commit.requests;
    println!(
        "{:<40} {batches} batches, {:.1} appends per batch, {} syncs",
        "",
        requests as f64 / batches as f64,
        after.syncs - before.syncs
    );
}

fn read_back(path: &std::path::Path) {
    let opened = Instant::now();
    let store = SledStore::open(path).unwrap();
    let open_time = opened.elapsed();
    let last = store.last_sequence(TENANT).unwrap();
    assert!(last >= READ_BACK_EVENTS, "only {last} events");
    let started = Instant::now();
    let mut cursor = 0;
    let mut bytes = 0usize;
    while cursor < READ_BACK_EVENTS {
        let page = store.read(TENANT, cursor, READ_PAGE_EVENTS).unwrap();
        cursor = page.last().unwrap().sequence;
        bytes += page.iter().map(|e| e.kind.len()).sum::<usize>();
    }
    let elapsed = started.elapsed();
    std::hint::black_box(bytes);
    println!(
        "read back {cursor} events from a reopened store: {:.0} ms ({:.0} events/s; open {:.0} ms)",
        elapsed.as_secs_f64() * 1e3,
        cursor as f64 / elapsed.as_secs_f64(),
        open_time.as_secs_f64() * 1e3,
    );
}

fn main() {
    let sample = payment(0, 0);
    let payload_bytes: Vec<usize> = sample
        .events
        .iter()
        .map(|e| serde_json::to_vec(&e.payload).unwrap().len())
        .collect();
    println!(
        "each append: {EVENTS_PER_APPEND} events, payloads of {payload_bytes:?} bytes of JSON"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let store = SledStore::open(&path).unwrap();
        single_writer(&store);
        concurrent_writers(&store, 100, 4, APPENDS_PER_WRITER / 2);
        concurrent_writers(&store, 200, WRITERS, APPENDS_PER_WRITER);
    }
    read_back(&path);
}
