//! Rebuilding a tenant's projections (policy book and ledger) from its event
//! log: 100k events produced by real commands (new business, endorsements,
//! out-of-sequence endorsements, reversals), stored as JSON, then parsed and
//! applied in order.
//!
//! `cargo bench -p premia --bench rebuild` prints the figures.

// Floats only turn durations and counts into printed rates; no money.
#![allow(clippy::float_arithmetic)]

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use premia::billing::{Cadence, InstallmentPlan};
use premia::domain::{Currency, RoundingMode};
use premia::engine::{TenantEvent, TenantState};
use premia::policy::{
    ChargeCategory, ChargeDef, CommandContext, DataChange, ExposureData, Fields, Handling,
    Invoicing, PerilData, PolicyCommand, PolicyData, ProductConfig, RaterResolver, RatingChain,
};
use premia::rating::{FieldRater, FieldValue, Rater, RatingError};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use premia::engine::{Engine, RequestMeta};
use premia::store::{SledStore, Store};

const EVENTS_TARGET: usize = 100_000;

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

fn main() {
    let context = |day: i64| CommandContext {
        actor: "bench".into(),
        issued_at: Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap() + Duration::days(day),
        idempotency_key: None,
        arithmetic: premia::billing::Arithmetic::Written,
        pending_slices: None,
        today: None,
    };
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let mut state = TenantState::new("bench").unwrap();
    let mut log: Vec<String> = Vec::new();
    let run = |state: &mut TenantState, log: &mut Vec<String>, command: PolicyCommand, day: i64| {
        for event in state
            .execute(&command.into(), &context(day), &Raters)
            .unwrap()
        {
            log.push(serde_json::to_string(&event).unwrap());
        }
    };
    run(
        &mut state,
        &mut log,
        PolicyCommand::DeployProduct { product: product() },
        0,
    );
    let produce_started = Instant::now();
    let mut policy = 0;
    while log.len() < EVENTS_TARGET {
        policy += 1;
        let account = format!("A{policy}");
        let locator = format!("P{policy}");
        run(
            &mut state,
            &mut log,
            PolicyCommand::CreateAccount {
                locator: account.clone(),
                name: "x".into(),
                currency: Currency::USD,
            },
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
        let data = PolicyData {
            fields: Fields::new(),
            exposures: exposures.into(),
        };
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
                data,
                bind: Default::default(),
            },
            0,
        );
        for (month, cents) in [(6, 150_000), (3, 90_000)] {
            let change = DataChange::SetPerilFields {
                exposure: "V1".into(),
                peril: format!("{locator}-COLL"),
                fields: premium(cents),
            };
            let effective = start + Duration::days(30 * month);
            run(
                &mut state,
                &mut log,
                PolicyCommand::Endorse {
                    policy: locator.clone(),
                    effective,
                    changes: vec![change],
                },
                month,
            );
        }
        run(
            &mut state,
            &mut log,
            PolicyCommand::Reverse {
                policy: locator.clone(),
                transaction: format!("{locator}-T2"),
            },
            200,
        );
    }
    let produce = produce_started.elapsed();
    let bytes: usize = log.iter().map(String::len).sum();

    let rebuild_started = Instant::now();
    let mut rebuilt = TenantState::new("bench").unwrap();
    for line in &log {
        let event: TenantEvent = serde_json::from_str(line).unwrap();
        rebuilt.apply(&event).unwrap();
    }
    let rebuild = rebuild_started.elapsed();
    assert_eq!(rebuilt.book, state.book);
    assert!(rebuilt.trial_balances_are_zero());

    println!(
        "events: {} ({} policies, {:.1} MB of JSON)",
        log.len(),
        policy,
        bytes as f64 / 1e6
    );
    println!(
        "producing them by executing commands: {:.2} s ({:.0} events/s)",
        produce.as_secs_f64(),
        log.len() as f64 / produce.as_secs_f64()
    );
    println!(
        "rebuild (parse + apply): {:.3} s ({:.0} events/s)",
        rebuild.as_secs_f64(),
        log.len() as f64 / rebuild.as_secs_f64()
    );
    durable_commands();
}

/// Durable commands through the engine and the sled store: each command adds
/// a flat charge to an account, which writes the charge event and its journal
/// entry (one append; one fsync serves each group-commit batch).
fn durable_commands() {
    const COMMANDS_PER_WRITER: usize = 400;
    let issued_at = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap();
    let meta = move |key: String| RequestMeta {
        actor: "bench".into(),
        issued_at,
        idempotency_key: Some(key),
        arithmetic: premia::billing::Arithmetic::Written,
    };
    for (writers, tenants) in [(1usize, 1usize), (16, 16), (16, 1), (64, 1)] {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let engine = Arc::new(Engine::open(store, Arc::new(Raters)).unwrap());
        for tenant in 0..tenants {
            let tenant = format!("t{tenant}");
            let deploy = PolicyCommand::DeployProduct { product: product() };
            engine
                .execute(&tenant, &deploy.into(), &meta("deploy".into()))
                .unwrap();
            for writer in 0..writers {
                let account = PolicyCommand::CreateAccount {
                    locator: format!("A{writer}"),
                    name: "x".into(),
                    currency: Currency::USD,
                };
                engine
                    .execute(&tenant, &account.into(), &meta(format!("account-{writer}")))
                    .unwrap();
            }
        }
        let started = Instant::now();
        let threads: Vec<_> = (0..writers)
            .map(|writer| {
                let engine = Arc::clone(&engine);
                std::thread::spawn(move || {
                    let tenant = format!("t{}", writer % tenants);
                    let mut latencies = Vec::with_capacity(COMMANDS_PER_WRITER);
                    for n in 0..COMMANDS_PER_WRITER {
                        let command = PolicyCommand::AddFlatCharge {
                            account: format!("A{writer}"),
                            policy: None,
                            charge: "policy-fee".into(),
                            amount: rust_decimal::Decimal::new(1_000 + n as i64, 2),
                            invoicing: None,
                            description: String::new(),
                        };
                        let one = Instant::now();
                        engine
                            .execute(&tenant, &command.into(), &meta(format!("w{writer}-{n}")))
                            .unwrap();
                        latencies.push(one.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies: Vec<_> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let elapsed = started.elapsed();
        latencies.sort();
        let commands = writers * COMMANDS_PER_WRITER;
        println!(
            "durable commands, {writers} writers on {tenants} tenant(s): {:.0} commands/s (each 1 journal entry), p50 {} us, p99 {} us",
            commands as f64 / elapsed.as_secs_f64(),
            latencies[latencies.len() / 2].as_micros(),
            latencies[latencies.len() * 99 / 100].as_micros(),
        );
    }
}
