//! One month of billing over many policies on monthly plans: every account
//! (one policy each, 1200.00 a year from 2021-01-01) has had January invoiced
//! and paid; February is then billed by daily billing runs (02-01 to 02-28):
//! every policy's February invoice on the 1st, none of them paid, so every
//! invoice is found past due on the 2nd and starts a delinquency. Reported as
//! policies billed per second, with the process's peak memory (`VmHWM`).
//!
//! - the pure path (`TenantState::billing_run`, no store) at 25k and 100k
//!   policies, to show the cost per policy does not grow with the book;
//! - the durable path (`Engine::run_billing` over a `MemoryStore`, one command
//!   per account) at 10k policies.
//!
//! `cargo bench -p premia --bench collections` prints the figures;
//! `PREMIA_BENCH_POLICIES=...` changes the large size.

// Rates and durations are reported as floats; no money is.
#![allow(clippy::float_arithmetic)]

mod support;

use chrono::{NaiveDate, TimeZone, Utc};
use premia::billing::Cadence;
use premia::collections::{BillingCommand, NoInvoicingPlugins};
use premia::engine::{Engine, EngineCommand, RequestMeta, TenantState};
use premia::policy::{PolicyCommand, ProductConfig};
use premia::store::{MemoryStore, Store};
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Instant;
use support::{Raters, account, at, date, issue};

/// Policies of the large run, unless `PREMIA_BENCH_POLICIES` says otherwise.
const POLICIES_DEFAULT: usize = 100_000;
/// Policies of the small run, for linearity.
const POLICIES_SMALL: usize = 25_000;
/// Policies of the durable run.
const POLICIES_DURABLE: usize = 10_000;

/// Product `auto`, monthly by default.
fn product() -> ProductConfig {
    support::product("monthly", Cadence::Monthly)
}

/// The setup commands: the product, then per account its creation, its
/// policy, and (after January is billed) the payment of January.
fn account_commands(n: usize) -> Vec<EngineCommand> {
    let mut commands = Vec::with_capacity(2 * n);
    for i in 0..n {
        commands.push(account(format!("A{i:06}"), format!("Account {i}")));
        commands.push(issue(
            format!("P{i:06}"),
            format!("A{i:06}"),
            date(2021, 1, 1),
        ));
    }
    commands
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

/// Peak and current resident memory, in MiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// February by daily runs over `n` policies on the pure path; returns the
/// seconds it took.
fn pure(n: usize) -> f64 {
    let setup = Instant::now();
    let mut state = TenantState::new("bench").unwrap();
    let context = at(date(2020, 12, 15));
    state
        .execute(
            &PolicyCommand::DeployProduct { product: product() }.into(),
            &context,
            &Raters,
        )
        .unwrap();
    for command in account_commands(n) {
        state.execute(&command, &context, &Raters).unwrap();
    }
    let (_, issued) = memory();
    let january = state.billing_run(
        date(2021, 1, 1),
        &at(date(2021, 1, 1)),
        &Raters,
        &NoInvoicingPlugins,
    );
    assert!(january.failures.is_empty());
    for i in 0..n {
        state
            .execute(&payment(i), &at(date(2021, 1, 1)), &Raters)
            .unwrap();
    }
    state.billing_run(
        date(2021, 1, 31),
        &at(date(2021, 1, 31)),
        &Raters,
        &NoInvoicingPlugins,
    );
    let setup = setup.elapsed().as_secs_f64();
    let entries = state.ledger.len();
    let (_, before) = memory();
    let started = Instant::now();
    let mut events = 0;
    for day in date(2021, 2, 1).iter_days().take(28) {
        let report = state.billing_run(day, &at(day), &Raters, &NoInvoicingPlugins);
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        events += report.events;
    }
    let seconds = started.elapsed().as_secs_f64();
    let invoices: usize = state
        .collections
        .accounts
        .values()
        .map(|a| a.invoices.len())
        .sum();
    assert_eq!(invoices, 2 * n, "January and February for every policy");
    assert!(state.trial_balances_are_zero());
    assert!(state.receivable_mismatches().is_empty());
    let (peak, resident) = memory();
    println!(
        "pure path, {n} policies: setup {setup:.1} s; February (28 daily runs) {seconds:.2} s = \
         {:.0} policies/s, {:.1} us per policy; {events} events, {} journal entries; \
         VmHWM {peak} MiB; VmRSS {issued} MiB with the policies issued, {before} MiB with \
         January billed and paid, {resident} MiB after February",
        n as f64 / seconds,
        seconds * 1e6 / n as f64,
        state.ledger.len() - entries,
    );
    seconds
}

/// February by daily runs over `n` policies through the engine and a
/// memory store.
fn durable(n: usize) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let engine = Engine::open(Arc::clone(&store), Arc::new(Raters)).unwrap();
    let meta = |day: NaiveDate| RequestMeta {
        actor: "bench".into(),
        issued_at: Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap()),
        idempotency_key: None,
        arithmetic: premia::billing::Arithmetic::Written,
    };
    let setup_meta = meta(date(2020, 12, 15));
    engine
        .execute(
            "bench",
            &PolicyCommand::DeployProduct { product: product() }.into(),
            &setup_meta,
        )
        .unwrap();
    for command in account_commands(n) {
        engine.execute("bench", &command, &setup_meta).unwrap();
    }
    engine
        .run_billing("bench", date(2021, 1, 1), &meta(date(2021, 1, 1)))
        .unwrap();
    for i in 0..n {
        engine
            .execute("bench", &payment(i), &meta(date(2021, 1, 1)))
            .unwrap();
    }
    engine
        .run_billing("bench", date(2021, 1, 31), &meta(date(2021, 1, 31)))
        .unwrap();
    let before = store.last_sequence("bench").unwrap();
    let started = Instant::now();
    let mut commands = 0;
    for day in date(2021, 2, 1).iter_days().take(28) {
        let report = engine.run_billing("bench", day, &meta(day)).unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        commands += report.commands;
    }
    let seconds = started.elapsed().as_secs_f64();
    let events = store.last_sequence("bench").unwrap() - before;
    println!(
        "engine + MemoryStore, {n} policies: February (28 daily runs) {seconds:.2} s = \
         {:.0} policies/s; {commands} durable commands, {events} events appended",
        n as f64 / seconds,
    );
}

fn main() {
    let large: usize = std::env::var("PREMIA_BENCH_POLICIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(POLICIES_DEFAULT);
    println!("collections: one month of billing, one monthly policy per account");
    durable(POLICIES_DURABLE.min(large));
    let small = pure(POLICIES_SMALL.min(large));
    let big = pure(large);
    println!(
        "cost per policy: {:.1} us at {} policies, {:.1} us at {large} (ratio {:.2})",
        small * 1e6 / POLICIES_SMALL.min(large) as f64,
        POLICIES_SMALL.min(large),
        big * 1e6 / large as f64,
        (big / large as f64) / (small / POLICIES_SMALL.min(large) as f64),
    );
}
