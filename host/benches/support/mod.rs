//! Shared set-up of the benches that build a tenant's state in memory: a
//! product priced by the native `field` rater (`yearly_premium` on the
//! peril), policies of 1200.00 a year, and command contexts on a given day.
//! A bench uses it with `mod support;`.

#![allow(dead_code)]

use chrono::{NaiveDate, TimeZone, Utc};
use premia::billing::{Cadence, InstallmentPlan};
use premia::domain::{Currency, RoundingMode};
use premia::engine::EngineCommand;
use premia::policy::{
    ChargeCategory, ChargeDef, CommandContext, ExposureData, Fields, Handling, Invoicing,
    PerilData, PolicyCommand, PolicyData, ProductConfig, RaterResolver, RatingChain,
};
use premia::rating::{FieldRater, FieldValue, Rater, RatingError};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Resolves every chain to the native `field` rater.
pub struct Raters;

impl RaterResolver for Raters {
    fn resolve(&self, _chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
        Ok(Arc::new(FieldRater))
    }
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A command issued at noon UTC of `day`, by `bench`.
pub fn at(day: NaiveDate) -> CommandContext {
    CommandContext {
        actor: "bench".into(),
        issued_at: Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap()),
        idempotency_key: None,
        arithmetic: premia::billing::Arithmetic::Written,
        pending_slices: None,
        today: None,
    }
}

/// Product `auto`: a premium charge, plan `plan` of `cadence` (the default).
pub fn product(plan: &str, cadence: Cadence) -> ProductConfig {
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
    plans.insert(plan.to_string(), InstallmentPlan::new(cadence));
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
        default_plan: plan.into(),
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

/// One vehicle with collision priced `yearly` a year.
pub fn policy_data(yearly: &str) -> PolicyData {
    let mut fields = Fields::new();
    fields.insert(
        "yearly_premium".into(),
        vec![FieldValue::Text(yearly.into())],
    );
    let mut perils = BTreeMap::new();
    perils.insert(
        "V1-COLL".to_string(),
        PerilData {
            name: "collision".into(),
            fields,
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
    PolicyData {
        fields: Fields::new(),
        exposures: exposures.into(),
    }
}

/// Issues `locator` on `account`, 1200.00 a year from `start`.
pub fn issue(locator: String, account: String, start: NaiveDate) -> EngineCommand {
    PolicyCommand::IssuePolicy {
        locator,
        account,
        product: "auto".into(),
        start,
        plan: None,
        time_zone: "UTC".into(),
        data: policy_data("1200.00"),
        bind: Default::default(),
    }
    .into()
}

pub fn account(locator: String, name: String) -> EngineCommand {
    PolicyCommand::CreateAccount {
        locator,
        name,
        currency: Currency::USD,
    }
    .into()
}
