//! The largest policies that issue: a new policy of `perils` rated perils on
//! a weekly five-year plan (261 installments), issued through the engine on
//! a sled store (decide, append with fsync, apply), then endorsed mid-term
//! (every open installment levelled again). Prints the time, the number of
//! slices and the bytes of the events, per size.
//!
//! `cargo bench -p premia --bench large_policy` prints the figures.

use chrono::{NaiveDate, TimeZone, Utc};
use premia::billing::{Cadence, InstallmentPlan};
use premia::domain::{Currency, RoundingMode};
use premia::engine::{Engine, EngineCommand, RequestMeta, TenantEvent};
use premia::policy::{
    BookEvent, ChargeCategory, ChargeDef, DataChange, ExposureData, Fields, Handling, Invoicing,
    PerilData, PolicyCommand, PolicyData, ProductConfig, RaterResolver, RatingChain,
};
use premia::rating::{FieldRater, FieldValue, Rater, RatingError};
use premia::store::{SledStore, Store};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

struct Raters;

impl RaterResolver for Raters {
    fn resolve(&self, _chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
        Ok(Arc::new(FieldRater))
    }
}

fn product() -> ProductConfig {
    let mut charges = BTreeMap::new();
    charges.insert(
        "premium".to_string(),
        ChargeDef {
            category: ChargeCategory::Premium,
            handling: Handling::Normal,
            invoicing: Invoicing::Scheduled,
        },
    );
    let mut plans = BTreeMap::new();
    plans.insert("weekly".to_string(), InstallmentPlan::new(Cadence::Weekly));
    ProductConfig {
        name: "fleet".into(),
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
        default_plan: "weekly".into(),
        cancellation_retention: None,
        cancellation: None,
        non_renewal_notice_days: 0,
        invoicing_plugin: None,
        term_months: 60,
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

fn data(perils: usize) -> PolicyData {
    let mut exposures = BTreeMap::new();
    for n in 0..perils {
        exposures
            .entry(format!("V{}", n / 50))
            .or_insert_with(|| ExposureData {
                name: "vehicle".into(),
                fields: Fields::new(),
                perils: Default::default(),
            })
            .perils
            .insert(
                format!("V{}-P{n:04}", n / 50),
                PerilData {
                    name: "collision".into(),
                    fields: premium(10_037 + n as i64),
                },
            );
    }
    PolicyData {
        fields: Fields::new(),
        exposures: exposures.into(),
    }
}

fn meta(key: &str) -> RequestMeta {
    RequestMeta {
        actor: "bench".into(),
        issued_at: Utc.with_ymd_and_hms(2025, 12, 1, 12, 0, 0).unwrap(),
        idempotency_key: Some(key.into()),
        arithmetic: premia::billing::Arithmetic::Written,
    }
}

fn slices_and_bytes(events: &[TenantEvent]) -> (usize, usize) {
    let slices = events
        .iter()
        .map(|e| match e {
            TenantEvent::Book(BookEvent::TransactionIssued { record }) => record.slices.len(),
            _ => 0,
        })
        .sum();
    (slices, serde_json::to_vec(events).unwrap().len())
}

fn main() {
    for perils in [50, 200, 1000] {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
        let engine = Engine::open(store, Arc::new(Raters)).unwrap();
        let run = |command: EngineCommand, key: &str| engine.execute("t1", &command, &meta(key));
        run(
            PolicyCommand::DeployProduct { product: product() }.into(),
            "deploy",
        )
        .unwrap();
        run(
            PolicyCommand::CreateAccount {
                locator: "A1".into(),
                name: "Fleet Co".into(),
                currency: Currency::USD,
            }
            .into(),
            "account",
        )
        .unwrap();
        let issue = PolicyCommand::IssuePolicy {
            locator: "P1".into(),
            account: "A1".into(),
            product: "fleet".into(),
            start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            plan: None,
            time_zone: "UTC".into(),
            data: data(perils),
            bind: Default::default(),
        };
        let started = Instant::now();
        let issued = run(issue.into(), "issue").unwrap();
        let issue_time = started.elapsed();
        let (slices, bytes) = slices_and_bytes(&issued.events);
        let endorse = PolicyCommand::Endorse {
            policy: "P1".into(),
            effective: NaiveDate::from_ymd_opt(2028, 7, 1).unwrap(),
            changes: vec![DataChange::SetPerilFields {
                exposure: "V0".into(),
                peril: "V0-P0000".into(),
                fields: premium(20_000),
            }],
        };
        let started = Instant::now();
        let endorsed = run(endorse.into(), "endorse").unwrap();
        let endorse_time = started.elapsed();
        let (endorse_slices, endorse_bytes) = slices_and_bytes(&endorsed.events);
        println!(
            "{perils} perils x 261 weekly installments: issue {slices} slices, {bytes} bytes of events, {issue_time:.1?}; \
             mid-term endorsement {endorse_slices} slices, {endorse_bytes} bytes, {endorse_time:.1?}"
        );
    }
}
