//! Billing core speed: building a 12-installment monthly schedule for a one-year
//! term and spreading 10 charges over it, as every quote and every billing run does.
//! Target: under 20 us for the whole case.
//!
//! Run with `cargo bench -p premia --bench billing`.

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use premia::billing::{Cadence, InstallmentPlan, SpreadCharge, spread};
use premia::domain::{Currency, Money, Period, ResiduePlacement};
use rust_decimal::Decimal;
use std::hint::black_box;

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

fn charges(term: Period) -> Vec<SpreadCharge> {
    // Premium, taxes and fees of a new business: ten amounts with odd cents.
    let cents = [13986, 1294, 19278, 1783, 1000, 998, 123456, 7777, 301, 4545];
    cents
        .iter()
        .map(|cents| SpreadCharge {
            amount: Money::new(Decimal::new(*cents, 2), Currency::USD),
            period: term,
        })
        .collect()
}

fn schedule_and_spread(c: &mut Criterion) {
    let term = Period::new(date(2024, 1, 15), date(2025, 1, 15)).unwrap();
    let plan = InstallmentPlan {
        generate_lead_days: 20,
        due_lead_days: 5,
        ..InstallmentPlan::new(Cadence::Monthly)
    };
    let charges = charges(term);
    let arrival = date(2024, 1, 2);

    c.bench_function("12 monthly frames + spread 10 charges", |b| {
        b.iter(|| {
            let frames = plan.frames(black_box(term)).unwrap();
            let spread = spread(
                &frames,
                black_box(&charges),
                arrival,
                ResiduePlacement::LargestRemainder,
            )
            .unwrap();
            assert_eq!(frames.len(), 12);
            spread
        })
    });

    c.bench_function("12 monthly frames only", |b| {
        b.iter(|| plan.frames(black_box(term)).unwrap())
    });

    let frames = plan.frames(term).unwrap();
    c.bench_function("spread 10 charges over 12 frames only", |b| {
        b.iter(|| {
            spread(
                black_box(&frames),
                black_box(&charges),
                arrival,
                ResiduePlacement::LargestRemainder,
            )
            .unwrap()
        })
    });
}

criterion_group!(benches, schedule_and_spread);
criterion_main!(benches);
