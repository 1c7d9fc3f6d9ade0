//! Insurance accounting at scale (issue 21 item 7): an earnings run over
//! 100,000 policies (goal: at most 5 s on the release build) and the cost per
//! policy of closing a month (which runs that month's earnings first).
//!
//! The book: 100,000 policies of 1200.00 a year on `[2026-01-01,
//! 2027-01-01)` (one premium charge each, paid in full), on 1,000 accounts,
//! written on 2025-12-15. Measured on a copy of that state each time (the
//! copy is not timed): the earnings run as of 2026-01-31 (100,000 charges
//! earn 100.00 each: events listing them, one entry), and the close of
//! January 2026 after December 2025 was closed (the same run, then the
//! close). Both are the engine's `execute` (decide and apply), in memory; the
//! store's append is not measured.
//!
//! `cargo bench -p premia --bench accounting` prints the figures
//! (criterion, 10 samples each).

// Durations are reported as floats; no money is.
#![allow(clippy::float_arithmetic)]

mod support;

use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};
use premia::billing::Cadence;
use premia::engine::{AccountingCommand, EngineCommand, TenantEvent, TenantState};
use premia::policy::PolicyCommand;
use std::time::{Duration, Instant};
use support::{Raters, account, at, date, issue, product};

/// Policies in the book (`PREMIA_BENCH_POLICIES` overrides it, for a
/// quick look on a slow machine).
const POLICIES_DEFAULT: usize = 100_000;

fn policies() -> usize {
    std::env::var("PREMIA_BENCH_POLICIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(POLICIES_DEFAULT)
}
/// Policies per account.
const POLICIES_PER_ACCOUNT: usize = 100;

fn book() -> TenantState {
    let started = Instant::now();
    let mut state = TenantState::new("bench").unwrap();
    let context = at(date(2025, 12, 15));
    let deploy: EngineCommand = PolicyCommand::DeployProduct {
        product: product("annual", Cadence::FullPay),
    }
    .into();
    state.execute(&deploy, &context, &Raters).unwrap();
    for a in 0..policies() / POLICIES_PER_ACCOUNT {
        let locator = format!("A{a:04}");
        state
            .execute(
                &account(locator.clone(), format!("Account {a}")),
                &context,
                &Raters,
            )
            .unwrap();
        for p in 0..POLICIES_PER_ACCOUNT {
            let command = issue(format!("P{a:04}-{p:03}"), locator.clone(), date(2026, 1, 1));
            state.execute(&command, &context, &Raters).unwrap();
        }
    }
    eprintln!(
        "book of {} policies built in {:.1} s",
        policies(),
        started.elapsed().as_secs_f64()
    );
    state
}

fn earned_charges(events: &[TenantEvent]) -> usize {
    events
        .iter()
        .map(|e| match e {
            TenantEvent::Accounting(premia::engine::AccountingEvent::PremiumEarned {
                charges,
                ..
            }) => charges.len(),
            _ => 0,
        })
        .sum()
}

fn accounting(c: &mut Criterion) {
    let state = book();
    let earn: EngineCommand = AccountingCommand::RunEarnings {
        as_of: date(2026, 1, 31),
    }
    .into();
    let february = at(date(2026, 2, 1));
    // Once, untimed by criterion, to check what the run does.
    let mut check = state.clone();
    let events = check.execute(&earn, &february, &Raters).unwrap();
    assert_eq!(earned_charges(&events), policies());

    let mut group = c.benchmark_group("accounting");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(20));
    let earnings = format!("earnings run, {} policies", policies());
    let closing = format!("close of January 2026, {} policies", policies());
    group.bench_function(&earnings, |b| {
        b.iter_batched(
            || state.clone(),
            |mut s| s.execute(&earn, &february, &Raters).unwrap(),
            BatchSize::PerIteration,
        )
    });

    // December has nothing to earn (the terms start in January): closed
    // first, outside the measure.
    let mut closed_december = state.clone();
    let close = |month: &str| -> EngineCommand {
        AccountingCommand::ClosePeriod {
            period: month.parse().unwrap(),
        }
        .into()
    };
    closed_december
        .execute(&close("2025-12"), &february, &Raters)
        .unwrap();
    let close_january = close("2026-01");
    group.bench_function(&closing, |b| {
        b.iter_batched(
            || closed_december.clone(),
            |mut s| s.execute(&close_january, &february, &Raters).unwrap(),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, accounting);
criterion_main!(benches);
