//! Memory per policy: a tenant's in-memory state (`TenantState`, what a host
//! keeps for every tenant it serves) after issuing many monthly policies, one
//! per account, 1200.00 a year (the billing-run bench's book), measured by a
//! counting global allocator (live heap bytes after minus before, divided by
//! the policies) and by the process's `VmRSS` / `VmHWM`.
//!
//! Reported at two points, each at a small and a large size (the cost must be
//! linear): the policies issued, then January invoiced and paid (invoice,
//! payment, journal entries, subledgers). Then the state is taken apart and
//! each part's bytes are what dropping it frees: the policy book (per field of
//! a policy), the ledger, collections (accounts and the read index).
//!
//! `cargo bench -p premia --bench memory` prints the figures;
//! `PREMIA_BENCH_POLICIES=...` changes the large size (default 100,000), the
//! small one is a tenth of it.

// Ratios are reported as floats; no money is.
#![allow(clippy::float_arithmetic)]
// The counting allocator wraps `System`'s, which is unsafe to call.
#![allow(unsafe_code)]

mod support;

use premia::billing::Cadence;
use premia::collections::{BillingCommand, Collections, NoInvoicingPlugins};
use premia::engine::{EngineCommand, TenantState};
use premia::ledger::Ledger;
use premia::policy::PolicyCommand;
use rust_decimal::Decimal;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use support::{Raters, account, at, date, issue};

/// The system allocator, counting the bytes it has handed out and not yet
/// taken back.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, size) };
        if !moved.is_null() {
            LIVE.fetch_add(size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Current and peak resident memory, in MiB.
fn resident() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
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

/// Bytes per policy freed by `drop`ping what `take` takes out of the state.
fn part<T>(name: &str, n: usize, take: impl FnOnce() -> T) {
    let before = live();
    let taken = take();
    drop(taken);
    let freed = before.saturating_sub(live());
    println!("  {name:<44} {:>7.0} B/policy", freed as f64 / n as f64);
}

/// Takes `state` apart and prints the bytes per policy each part frees.
fn breakdown_of(mut state: TenantState, n: usize, when: &str) {
    println!("where the bytes of {n} policies ({when}) are:");
    let policies = &mut state.book.policies;
    part("policy: transactions (with their data)", n, || {
        policies
            .values_mut()
            .map(|p| std::mem::take(&mut p.transactions))
            .collect::<Vec<_>>()
    });
    part("policy: priced timelines (requests, responses)", n, || {
        policies
            .values_mut()
            .map(|p| std::mem::take(&mut p.priced))
            .collect::<Vec<_>>()
    });
    part("policy: charges (with explanations)", n, || {
        policies
            .values_mut()
            .map(|p| std::mem::take(&mut p.charges))
            .collect::<Vec<_>>()
    });
    part("policy: installment slices", n, || {
        policies
            .values_mut()
            .map(|p| std::mem::take(&mut p.slices))
            .collect::<Vec<_>>()
    });
    part(
        "policy: the rest (header with its product copy, terms)",
        n,
        || std::mem::take(policies),
    );
    part("accounts (book)", n, || {
        std::mem::take(&mut state.book.accounts)
    });
    part("collections: read index", n, || {
        std::mem::take(&mut state.collections.index)
    });
    part("collections: accounts (invoices, payments)", n, || {
        std::mem::replace(&mut state.collections, Collections::new())
    });
    part("ledger (entries, turnover)", n, || {
        std::mem::replace(&mut state.ledger, Ledger::new("bench").unwrap())
    });
    part("everything else", n, || state);
}

/// Builds a book of `n` policies; prints bytes per policy issued and billed;
/// with `breakdown`, takes the state apart and prints where the bytes are.
fn measure(n: usize, breakdown: bool) -> (f64, f64) {
    let start = live();
    let mut state = TenantState::new("bench").unwrap();
    let context = at(date(2020, 12, 15));
    let product = support::product("monthly", Cadence::Monthly);
    state
        .execute(
            &PolicyCommand::DeployProduct { product }.into(),
            &context,
            &Raters,
        )
        .unwrap();
    let empty = live();
    for i in 0..n {
        let commands = [
            account(format!("A{i:06}"), format!("Account {i}")),
            issue(format!("P{i:06}"), format!("A{i:06}"), date(2021, 1, 1)),
        ];
        for command in commands {
            state.execute(&command, &context, &Raters).unwrap();
        }
    }
    let issued = (live() - empty) as f64 / n as f64;
    let (rss_issued, _) = resident();
    if breakdown && !billed_breakdown() {
        println!("{n} policies: {issued:.0} B/policy issued; VmRSS {rss_issued} MiB",);
        breakdown_of(state, n, "issued");
        return (issued, 0.0);
    }
    let january = state.billing_run(
        date(2021, 1, 1),
        &at(date(2021, 1, 1)),
        &Raters,
        &NoInvoicingPlugins,
    );
    assert!(january.failures.is_empty(), "{:?}", january.failures);
    for i in 0..n {
        state
            .execute(&payment(i), &at(date(2021, 1, 1)), &Raters)
            .unwrap();
    }
    assert!(state.trial_balances_are_zero());
    let billed = (live() - empty) as f64 / n as f64;
    let (rss_billed, hwm) = resident();
    println!(
        "{n} policies: {issued:.0} B/policy issued ({:.1} MiB live), {billed:.0} B/policy with \
         January invoiced and paid ({:.1} MiB live); VmRSS {rss_issued} MiB issued, \
         {rss_billed} MiB billed; VmHWM {hwm} MiB",
        (live() - start) as f64 / 1_048_576.0 - (billed - issued) * n as f64 / 1_048_576.0,
        (live() - start) as f64 / 1_048_576.0,
    );
    if breakdown {
        breakdown_of(state, n, "invoiced and paid");
    }
    (issued, billed)
}

/// Whether the breakdown is taken after January is billed and paid
/// (`PREMIA_BENCH_BREAKDOWN=billed`) rather than with the policies issued.
fn billed_breakdown() -> bool {
    std::env::var("PREMIA_BENCH_BREAKDOWN").is_ok_and(|v| v == "billed")
}

fn main() {
    let large: usize = std::env::var("PREMIA_BENCH_POLICIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let small = (large / 10).max(1);
    println!(
        "sizes (bytes inline): PolicyState {}, ProductConfig {}, AccountBilling {}, Charge {}, \
         InstallmentSlice {}, Transaction {}, PricedSegment {}",
        std::mem::size_of::<premia::policy::PolicyState>(),
        std::mem::size_of::<premia::policy::ProductConfig>(),
        std::mem::size_of::<premia::collections::AccountBilling>(),
        std::mem::size_of::<premia::policy::Charge>(),
        std::mem::size_of::<premia::policy::InstallmentSlice>(),
        std::mem::size_of::<premia::policy::Transaction>(),
        std::mem::size_of::<premia::policy::PricedSegment>(),
    );
    println!(
        "memory: live heap bytes per policy (counting allocator), one monthly policy per account"
    );
    let (small_issued, small_billed) = measure(small, false);
    let (large_issued, large_billed) = measure(large, true);
    println!(
        "linearity ({large} against {small}): issued {:.2}, invoiced and paid {:.2}",
        large_issued / small_issued,
        if large_billed > 0.0 {
            large_billed / small_billed
        } else {
            f64::NAN
        },
    );
}
