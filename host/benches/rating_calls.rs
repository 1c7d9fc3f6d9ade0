//! Rating calls and latency of one endorsement on a long policy: 5 terms and
//! 20 transactions (new business, then per term three endorsements and a
//! renewal), each endorsement changing one of three perils; then a 21st
//! endorsement on the last term is decided (not applied) again and again.
//! A counting in-process rater (the field rater, plus an optional simulated
//! network latency) counts the calls.
//!
//! `cargo bench -p premia --bench rating_calls` prints the calls of building
//! the policy and of the measured endorsement, then criterion's timings:
//! in-process, and with 200 µs per call (a loopback external rater's order of
//! magnitude, docs/benchmarks.md).

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use premia::billing::{Arithmetic, Cadence, InstallmentPlan};
use premia::domain::{Currency, RoundingMode};
use premia::policy::{
    ChargeCategory, ChargeDef, CommandContext, DataChange, ExposureData, Fields, Handling,
    Invoicing, PerilData, PolicyBook, PolicyCommand, PolicyData, ProductConfig, RaterResolver,
    RatingChain,
};
use premia::rating::{
    FieldRater, FieldValue, RateRequest, RateResponse, Rater, RaterIdentity, RatingError,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

struct Counting {
    calls: AtomicUsize,
    latency: Duration,
}

impl Rater for Counting {
    fn rate(&self, request: &RateRequest) -> Result<RateResponse, RatingError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if !self.latency.is_zero() {
            std::thread::sleep(self.latency);
        }
        FieldRater.rate(request)
    }

    fn identity(&self) -> RaterIdentity {
        RaterIdentity::Native {
            name: "counting".into(),
        }
    }
}

struct Resolver(Arc<Counting>);

impl RaterResolver for Resolver {
    fn resolve(&self, _chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
        Ok(self.0.clone())
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
            rater: "counting".into(),
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

fn premium(amount: u32) -> Fields {
    let mut fields = Fields::new();
    fields.insert(
        "yearly_premium".into(),
        vec![FieldValue::Text(format!("{amount}.00"))],
    );
    fields
}

const PERILS: [&str; 3] = ["V1-COLL", "V1-COMP", "V1-LIAB"];

fn data() -> PolicyData {
    let perils = PERILS
        .iter()
        .map(|p| {
            (
                p.to_string(),
                PerilData {
                    name: p.to_lowercase(),
                    fields: premium(600),
                },
            )
        })
        .collect();
    let mut exposures = BTreeMap::new();
    exposures.insert(
        "V1".to_string(),
        ExposureData {
            name: "vehicle".into(),
            fields: Fields::new(),
            perils,
        },
    );
    PolicyData {
        fields: Fields::new(),
        exposures: exposures.into(),
    }
}

fn context(n: usize) -> CommandContext {
    CommandContext {
        actor: "bench".into(),
        issued_at: Utc.with_ymd_and_hms(2021, 1, 1, 12, 0, 0).unwrap(),
        idempotency_key: Some(format!("k{n}")),
        arithmetic: Arithmetic::Written,
        pending_slices: None,
        today: None,
    }
}

fn endorse(start: NaiveDate, month: u32, n: usize) -> PolicyCommand {
    let effective = start + chrono::Months::new(month);
    PolicyCommand::Endorse {
        policy: "P1".into(),
        effective,
        changes: vec![DataChange::SetPerilFields {
            exposure: "V1".into(),
            peril: PERILS[n % PERILS.len()].into(),
            fields: premium(600 + 10 * n as u32),
        }],
    }
}

/// The book with the 20-transaction policy, and the rater's calls building it.
fn long_policy(rater: &Arc<Counting>) -> (PolicyBook, usize) {
    let built = policy_of_terms(rater, 5);
    assert_eq!(built.0.policy("P1").unwrap().transactions.len(), 20);
    built
}

/// The book with a policy of `terms` terms (three endorsements in each),
/// and the rater's calls building it.
fn policy_of_terms(rater: &Arc<Counting>, terms: u32) -> (PolicyBook, usize) {
    let resolver = Resolver(rater.clone());
    let mut book = PolicyBook::new();
    let start = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    let mut commands = vec![
        PolicyCommand::DeployProduct { product: product() },
        PolicyCommand::CreateAccount {
            locator: "A1".into(),
            name: "A".into(),
            currency: Currency::USD,
        },
        PolicyCommand::IssuePolicy {
            locator: "P1".into(),
            account: "A1".into(),
            product: "auto".into(),
            start,
            plan: None,
            time_zone: "UTC".into(),
            data: data(),
            bind: Default::default(),
        },
    ];
    let mut n = 0;
    for term in 0..terms {
        let term_start = start + chrono::Months::new(12 * term);
        for month in [3, 6, 9] {
            n += 1;
            commands.push(endorse(term_start, month, n));
        }
        if term + 1 < terms {
            commands.push(PolicyCommand::Renew {
                policy: "P1".into(),
                plan: None,
                changes: vec![],
            });
        }
    }
    for (i, command) in commands.iter().enumerate() {
        book.execute(command, &context(i), &resolver).unwrap();
    }
    (book, rater.calls.swap(0, Ordering::Relaxed))
}

fn rating_calls(c: &mut Criterion) {
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let measured = endorse(start, 7, 100);
    let mut group = c.benchmark_group("rating_calls");
    for (name, latency) in [
        ("in_process", Duration::ZERO),
        ("200us_per_call", Duration::from_micros(200)),
    ] {
        let rater = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            latency,
        });
        let (book, building) = long_policy(&rater);
        let resolver = Resolver(rater.clone());
        book.decide(&measured, &context(999), &resolver).unwrap();
        let endorsement = rater.calls.swap(0, Ordering::Relaxed);
        println!(
            "rating_calls/{name}: building the 5-term, 20-transaction policy: {building} calls; \
             one more endorsement: {endorsement} calls"
        );
        group.bench_function(format!("endorsement_{name}"), |b| {
            b.iter(|| book.decide(&measured, &context(999), &resolver).unwrap())
        });
    }
    // An endorsement of the last term of a 1-term and of a 10-term policy
    // (in process): the cost should not grow with the terms before it.
    for terms in [1u32, 10] {
        let rater = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            latency: Duration::ZERO,
        });
        let (book, _) = policy_of_terms(&rater, terms);
        let resolver = Resolver(rater.clone());
        let last_start =
            NaiveDate::from_ymd_opt(2021, 1, 1).unwrap() + chrono::Months::new(12 * (terms - 1));
        let measured = endorse(last_start, 7, 100);
        group.bench_function(format!("endorsement_last_of_{terms}_terms"), |b| {
            b.iter(|| book.decide(&measured, &context(999), &resolver).unwrap())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    targets = rating_calls
}
criterion_main!(benches);
