//! The read model on a large account: one account with 10,008 invoices
//! (834 monthly policies billed for a year, one invoice per policy and
//! month), the first 5,004 of them paid by one payment, among 2,000 other
//! accounts of one policy each. Reported: p50, p95 and max over many reads
//! of a page of 100 of the account's invoices (first page, a deep page,
//! filtered by status and due dates), the tenant's past-due invoices, an
//! account search, the account's summary, and an invoice in detail, each
//! read and serialised to JSON as the api answers it (the HTTP layer
//! around it is not measured).
//!
//! `cargo bench -p premia --bench read_model` prints the figures.

// Durations are reported as floats; no money is.
#![allow(clippy::float_arithmetic)]

mod support;

use premia::billing::Cadence;
use premia::collections::{BillingCommand, NoInvoicingPlugins};
use premia::engine::read_model::{self, AccountFilter, InvoiceQuery, InvoiceStatus, PageRequest};
use premia::engine::{EngineCommand, TenantState};
use premia::policy::{PolicyCommand, ProductConfig};
use rust_decimal::Decimal;
use std::time::{Duration, Instant};
use support::{Raters, account, at, date};

/// Policies of the large account: 834 x 12 months = 10,008 invoices.
const LARGE_POLICIES: usize = 834;
/// Other accounts, one policy each.
const OTHER_ACCOUNTS: usize = 2_000;
/// Reads per case.
const READS: usize = 500;
/// The figure the issue asks for, in milliseconds (p95).
const PAGE_P95_MS_MAX: f64 = 200.0;

/// Product `auto`, monthly by default.
fn product() -> ProductConfig {
    support::product("monthly", Cadence::Monthly)
}

/// Issues `locator` on `account`, 1200.00 a year from 2021-01-01.
fn issue(locator: String, account: String) -> EngineCommand {
    support::issue(locator, account, date(2021, 1, 1))
}

/// The tenant: settings, the large account `BIG` and the others, billed
/// for 2021 and half paid.
fn tenant() -> TenantState {
    let mut state = TenantState::new("bench").unwrap();
    let context = at(date(2020, 12, 15));
    let settings = serde_json::from_value(serde_json::json!({
        "separate_invoices_by": "policy",
        "invoice_due_days": 15,
        "delinquency": {"enabled": false}
    }))
    .unwrap();
    let mut commands: Vec<EngineCommand> = vec![
        PolicyCommand::DeployProduct { product: product() }.into(),
        BillingCommand::ConfigureBilling { settings }.into(),
        account("BIG".into(), "Big Fleet Ltd".into()),
    ];
    for i in 0..LARGE_POLICIES {
        commands.push(issue(format!("BIG-P{i:04}"), "BIG".into()));
    }
    for i in 0..OTHER_ACCOUNTS {
        commands.push(account(format!("A{i:05}"), format!("Account {i}")));
        commands.push(issue(format!("P{i:05}"), format!("A{i:05}")));
    }
    for command in commands {
        state.execute(&command, &context, &Raters).unwrap();
    }
    for month in 1..=12 {
        let day = date(2021, month, 1);
        let report = state.billing_run(day, &at(day), &Raters, &NoInvoicingPlugins);
        assert!(report.failures.is_empty(), "{:?}", report.failures);
    }
    let big = &state.collections.accounts["BIG"];
    assert_eq!(big.invoices.len(), LARGE_POLICIES * 12);
    // Half of them paid, oldest due first.
    let half = Decimal::new(10_000, 2) * Decimal::from(LARGE_POLICIES * 6);
    state
        .execute(
            &BillingCommand::RecordPayment {
                for_deductibles: false,
                reserved_for: None,
                account: "BIG".into(),
                amount: half,
                received_on: date(2021, 12, 1),
                invoices: vec![],
                reference: String::new(),
            }
            .into(),
            &at(date(2021, 12, 1)),
            &Raters,
        )
        .unwrap();
    state
}

/// p50, p95 and max of `READS` runs of `read`, in milliseconds.
fn measure(name: &str, mut read: impl FnMut() -> usize) -> f64 {
    let mut times: Vec<Duration> = Vec::with_capacity(READS);
    let mut bytes = 0;
    for _ in 0..READS {
        let started = Instant::now();
        bytes = read();
        times.push(started.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let p95 = ms(times[READS * 95 / 100]);
    println!(
        "{name:<58} p50 {:>7.3} ms  p95 {:>7.3} ms  max {:>7.3} ms  ({bytes} bytes)",
        ms(times[READS / 2]),
        p95,
        ms(times[READS - 1]),
    );
    p95
}

fn json<T: serde::Serialize>(answer: T) -> usize {
    serde_json::to_vec(&answer).unwrap().len()
}

fn main() {
    let setup = Instant::now();
    let state = tenant();
    let today = date(2021, 12, 20);
    println!(
        "read model: account BIG with {} invoices among {} accounts; built in {:.1} s",
        state.collections.accounts["BIG"].invoices.len(),
        state.collections.accounts.len(),
        setup.elapsed().as_secs_f64()
    );
    let page = |after: Option<String>| PageRequest {
        after,
        limit: Some(100),
    };
    let big = |status: Option<InvoiceStatus>| InvoiceQuery {
        account: Some("BIG".into()),
        status,
        ..InvoiceQuery::default()
    };
    let list = |query: &InvoiceQuery, request: &PageRequest| {
        read_model::list_invoices(&state, query, request, today).unwrap()
    };
    let mut worst: f64 = 0.0;
    worst = worst.max(measure("BIG's invoices, first page of 100", || {
        json(list(&big(None), &page(None)))
    }));
    // The cursor of the page ending at invoice 9,900.
    let mut deep = list(&big(None), &page(None));
    for _ in 0..98 {
        deep = list(&big(None), &page(deep.next_cursor.clone()));
    }
    let cursor = deep.next_cursor.clone();
    worst = worst.max(measure(
        "BIG's invoices, page 100 (after invoice 9,900)",
        || json(list(&big(None), &page(cursor.clone()))),
    ));
    worst = worst.max(measure("BIG's paid invoices, first page", || {
        json(list(&big(Some(InvoiceStatus::Paid)), &page(None)))
    }));
    worst = worst.max(measure("BIG's past-due invoices, first page", || {
        json(list(&big(Some(InvoiceStatus::PastDue)), &page(None)))
    }));
    let window = InvoiceQuery {
        due_from: Some(date(2021, 11, 1)),
        due_to: Some(date(2021, 11, 30)),
        ..big(None)
    };
    worst = worst.max(measure(
        "BIG's invoices due in November, first page",
        || json(list(&window, &page(None))),
    ));
    let tenant_past_due = InvoiceQuery {
        status: Some(InvoiceStatus::PastDue),
        ..InvoiceQuery::default()
    };
    measure("the tenant's past-due invoices, first page", || {
        json(list(&tenant_past_due, &page(None)))
    });
    measure("account search q=account 19, past_due", || {
        json(
            read_model::search_accounts(
                &state,
                Some("account 19"),
                &[AccountFilter::PastDue],
                &page(None),
                today,
            )
            .unwrap(),
        )
    });
    measure("BIG's summary (6 upcoming installments)", || {
        json(read_model::account_overview(&state, "BIG", today, 6).unwrap())
    });
    // Its first invoice: every later one is read for corrections of it.
    measure("invoice BIG-I1 in detail", || {
        json(read_model::invoice_detail(&state, "BIG-I1", today).unwrap())
    });
    measure("policy BIG-P0000's timeline", || {
        json(read_model::policy_timeline(&state, "BIG-P0000", today).unwrap())
    });
    println!("worst p95 of a page of BIG's invoices: {worst:.3} ms (target {PAGE_P95_MS_MAX} ms)");
    assert!(worst <= PAGE_P95_MS_MAX);
}
