//! Product configuration: the charges a product books, how each is handled
//! and invoiced, the rating chain, the installment plans offered, and the
//! cancellation holdback. Validated when deployed (seed 001).

use super::cancellation::{CancellationError, CancellationRules};
use crate::billing::{DurationBasis, InstallmentPlan};
use crate::domain::{Currency, RoundingMode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most charges one product may define.
pub const PRODUCT_CHARGES_MAX: usize = 64;
/// The most installment plans one product may offer.
pub const PRODUCT_PLANS_MAX: usize = 32;

/// What a charge is, for accounting and reporting (seed 001's categories);
/// the ledger maps each to the accounts it posts to.
pub use crate::ledger::ChargeCategory;

/// How a charge behaves through policy transactions.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Handling {
    /// Rate-based and prorated; the difference of priced timelines.
    #[default]
    Normal,
    /// A fixed amount with no duration: never prorated, untouched by
    /// cancellation, stripped from re-applied transactions, reversed with its
    /// transaction.
    Flat,
    /// A holdback kept on cancellation (short rate), reversed on reinstatement.
    Retention,
}

/// When a charge is invoiced.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Invoicing {
    /// Spread over the term's installments.
    #[default]
    Scheduled,
    /// On the policy's next uninvoiced installment (or at once when none).
    Next,
    /// On a new invoice at once, with pending `next` charges of the currency.
    Immediate,
}

/// One charge a product books.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargeDef {
    pub category: ChargeCategory,
    #[serde(default)]
    pub handling: Handling,
    #[serde(default)]
    pub invoicing: Invoicing,
}

/// Which rater prices the product (defined with its resolution in
/// [`crate::rating::chain`]).
pub use crate::rating::RatingChain;

/// What is held back when a policy is cancelled.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancellationRetention {
    /// The retention charge (handling `retention`).
    pub charge: String,
    /// The share of the returned premium that is kept, in percent:
    /// 10 keeps 50.00 of a 500.00 refund ([E3]).
    pub holdback_percent: Decimal,
}

/// A product's billing configuration.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductConfig {
    pub name: String,
    pub currency: Currency,
    #[serde(default)]
    pub duration_basis: DurationBasis,
    #[serde(default)]
    pub rounding_mode: RoundingMode,
    /// Charge name to its definition.
    pub charges: BTreeMap<String, ChargeDef>,
    /// The charge a rater's premium books to when it names none.
    #[serde(default = "default_premium_charge")]
    pub premium_charge: String,
    /// The charge commissions book to (category commission).
    #[serde(default)]
    pub commission_charge: Option<String>,
    pub rating: RatingChain,
    /// Plan name to plan.
    pub plans: BTreeMap<String, InstallmentPlan>,
    pub default_plan: String,
    /// A holdback percent on every cancellation ([E3]); see `cancellation`
    /// for refund methods per reason. Not both.
    #[serde(default)]
    pub cancellation_retention: Option<CancellationRetention>,
    /// Refund methods per cancellation reason, and a minimum earned premium.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<CancellationRules>,
    /// Days before a term's end a non-renewal notice must be given (0: any
    /// time before the end).
    #[serde(default)]
    pub non_renewal_notice_days: u32,
    /// The invoicing plugin, if the product has one.
    #[serde(default)]
    pub invoicing_plugin: Option<String>,
    /// The length of a term in months (12 by default).
    #[serde(default = "default_term_months")]
    pub term_months: u32,
    /// Which day chooses the rate version of a term (DOMAIN section 9).
    #[serde(default, skip_serializing_if = "RatingDate::is_term_start")]
    pub rating_date: RatingDate,
    /// A challenger rater asked beside the rating chain and never billed
    /// (shadow rating, [`crate::rating::shadow`]); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<Box<crate::rating::ShadowConfig>>,
    /// The billing methods a policy of the product may be bound with (seed
    /// 002: direct, agency); empty (the default): every method.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub billing_methods: Vec<crate::policy::BillingMethod>,
}

/// The day whose rate version rates a term: the version in effect on it
/// (for new business or for renewals) is recorded on the term, and every
/// transaction of the term uses it. Worked example ([E9]): `rater@2`
/// scheduled from 2026-06-01; a term starting 2026-01-01 and issued on
/// 2026-06-15 is rated by version 1 under `term_start`, by version 2 under
/// `issued`.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingDate {
    /// The term's first day.
    #[default]
    TermStart,
    /// The tenant's today when the new business or renewal is issued.
    Issued,
}

impl RatingDate {
    fn is_term_start(&self) -> bool {
        *self == RatingDate::TermStart
    }
}

fn default_premium_charge() -> String {
    "premium".to_string()
}

fn default_term_months() -> u32 {
    12
}

/// The most days a term of `months` months can last, whatever its start (a
/// four-year cycle of start days covers every leap-year case): 366 for 12.
pub fn longest_term_days(months: u32) -> u32 {
    let first = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).expect("a date");
    (0..1461)
        .filter_map(|d| {
            let start = first + chrono::Duration::days(d);
            let end = crate::domain::add_months_clamped(start, i32::try_from(months).ok()?).ok()?;
            u32::try_from((end - start).num_days()).ok()
        })
        .max()
        .unwrap_or(0)
}

/// Why a product cannot be deployed. Each message names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    #[error("charge {charge}: a normal charge must have scheduled invoicing, not {invoicing:?}")]
    NormalChargeNotScheduled {
        charge: String,
        invoicing: Invoicing,
    },
    #[error("the premium charge {0} is not defined, or is not a normal charge")]
    BadPremiumCharge(String),
    #[error("the commission charge {0} is not defined, or its category is not commission")]
    BadCommissionCharge(String),
    #[error("the retention charge {0} is not defined, or its handling is not retention")]
    BadRetentionCharge(String),
    #[error("holdback percent {0} must be between 0 and 100")]
    BadHoldback(Decimal),
    #[error("the default plan {0} is not one of the product's plans")]
    UnknownDefaultPlan(String),
    #[error("plan {plan}: {message}")]
    BadPlan { plan: String, message: String },
    #[error("the product has no name")]
    NoName,
    #[error("term length must be 1 to 60 months, not {0}")]
    BadTermLength(u32),
    #[error("{what}: more than {max}")]
    TooMany { what: &'static str, max: usize },
    #[error("a product has either cancellation_retention or cancellation rules, not both")]
    TwoCancellationRules,
    #[error("cancellation: {0}")]
    Cancellation(#[from] CancellationError),
    #[error("non-renewal notice of {0} days is longer than the term")]
    BadNonRenewalNotice(u32),
}

impl ProductConfig {
    /// Checks the configuration as seed 001 requires: a `normal` charge with
    /// `next` or `immediate` invoicing is an error; the premium, commission
    /// and retention charges must exist with the right handling; plans must
    /// be valid.
    pub fn validate(&self) -> Result<(), ProductError> {
        if self.name.trim().is_empty() {
            return Err(ProductError::NoName);
        }
        if self.charges.len() > PRODUCT_CHARGES_MAX {
            return Err(ProductError::TooMany {
                what: "charges",
                max: PRODUCT_CHARGES_MAX,
            });
        }
        if self.plans.len() > PRODUCT_PLANS_MAX {
            return Err(ProductError::TooMany {
                what: "plans",
                max: PRODUCT_PLANS_MAX,
            });
        }
        if !(1..=60).contains(&self.term_months) {
            return Err(ProductError::BadTermLength(self.term_months));
        }
        for (name, charge) in &self.charges {
            if charge.handling == Handling::Normal && charge.invoicing != Invoicing::Scheduled {
                return Err(ProductError::NormalChargeNotScheduled {
                    charge: name.clone(),
                    invoicing: charge.invoicing,
                });
            }
        }
        match self.charges.get(&self.premium_charge) {
            Some(def) if def.handling == Handling::Normal => {}
            _ => return Err(ProductError::BadPremiumCharge(self.premium_charge.clone())),
        }
        if let Some(commission) = &self.commission_charge {
            match self.charges.get(commission) {
                Some(def) if def.category == ChargeCategory::Commission => {}
                _ => return Err(ProductError::BadCommissionCharge(commission.clone())),
            }
        }
        if let Some(retention) = &self.cancellation_retention {
            match self.charges.get(&retention.charge) {
                Some(def) if def.handling == Handling::Retention => {}
                _ => return Err(ProductError::BadRetentionCharge(retention.charge.clone())),
            }
            if retention.holdback_percent < Decimal::ZERO
                || retention.holdback_percent > Decimal::ONE_HUNDRED
            {
                return Err(ProductError::BadHoldback(retention.holdback_percent));
            }
        }
        if let Some(rules) = &self.cancellation {
            if self.cancellation_retention.is_some() {
                return Err(ProductError::TwoCancellationRules);
            }
            match self.charges.get(&rules.charge) {
                Some(def) if def.handling == Handling::Retention => {}
                _ => return Err(ProductError::BadRetentionCharge(rules.charge.clone())),
            }
            rules.validate(longest_term_days(self.term_months))?;
        }
        if self.non_renewal_notice_days >= longest_term_days(self.term_months) {
            return Err(ProductError::BadNonRenewalNotice(
                self.non_renewal_notice_days,
            ));
        }
        if !self.plans.contains_key(&self.default_plan) {
            return Err(ProductError::UnknownDefaultPlan(self.default_plan.clone()));
        }
        for (name, plan) in &self.plans {
            plan.validate().map_err(|e| ProductError::BadPlan {
                plan: name.clone(),
                message: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// The definition of charge `name`, if the product has it.
    pub fn charge(&self, name: &str) -> Option<&ChargeDef> {
        self.charges.get(name)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::billing::Cadence;
    use rust_decimal_macros::dec;

    /// The auto product used across the policy tests: premium, a policy fee
    /// (flat, next), a service fee (flat, immediate), commission, a 10%
    /// short-rate holdback, monthly and annual plans.
    pub fn auto_product() -> ProductConfig {
        let mut charges = BTreeMap::new();
        let def = |category, handling, invoicing| ChargeDef {
            category,
            handling,
            invoicing,
        };
        charges.insert(
            "premium".into(),
            def(
                ChargeCategory::Premium,
                Handling::Normal,
                Invoicing::Scheduled,
            ),
        );
        charges.insert(
            "premium-tax".into(),
            def(ChargeCategory::Tax, Handling::Normal, Invoicing::Scheduled),
        );
        charges.insert(
            "policy-fee".into(),
            def(ChargeCategory::FlatFee, Handling::Flat, Invoicing::Next),
        );
        charges.insert(
            "service-fee".into(),
            def(ChargeCategory::Fee, Handling::Flat, Invoicing::Immediate),
        );
        charges.insert(
            "setup-fee".into(),
            def(
                ChargeCategory::FlatFee,
                Handling::Flat,
                Invoicing::Scheduled,
            ),
        );
        charges.insert(
            "commission".into(),
            def(
                ChargeCategory::Commission,
                Handling::Normal,
                Invoicing::Scheduled,
            ),
        );
        charges.insert(
            "short-rate".into(),
            def(ChargeCategory::Fee, Handling::Retention, Invoicing::Next),
        );
        let mut plans = BTreeMap::new();
        plans.insert("monthly".into(), InstallmentPlan::new(Cadence::Monthly));
        plans.insert("annual".into(), InstallmentPlan::new(Cadence::FullPay));
        ProductConfig {
            name: "auto".into(),
            currency: Currency::USD,
            duration_basis: DurationBasis::Months,
            rounding_mode: RoundingMode::HalfAwayFromZero,
            charges,
            premium_charge: "premium".into(),
            commission_charge: Some("commission".into()),
            rating: RatingChain::Native {
                rater: "test".into(),
            },
            plans,
            default_plan: "annual".into(),
            cancellation_retention: Some(CancellationRetention {
                charge: "short-rate".into(),
                holdback_percent: dec!(10),
            }),
            cancellation: None,
            non_renewal_notice_days: 0,
            invoicing_plugin: None,
            term_months: 12,
            rating_date: Default::default(),
            shadow: None,
            billing_methods: Vec::new(),
        }
    }

    #[test]
    fn the_auto_product_is_valid() {
        assert_eq!(auto_product().validate(), Ok(()));
    }

    #[test]
    fn a_normal_charge_invoiced_next_or_immediately_cannot_be_deployed() {
        for invoicing in [Invoicing::Next, Invoicing::Immediate] {
            let mut product = auto_product();
            product.charges.get_mut("premium-tax").unwrap().invoicing = invoicing;
            assert_eq!(
                product.validate(),
                Err(ProductError::NormalChargeNotScheduled {
                    charge: "premium-tax".into(),
                    invoicing
                })
            );
        }
    }

    #[test]
    fn flat_charges_may_be_invoiced_any_way() {
        let mut product = auto_product();
        for invoicing in [Invoicing::Next, Invoicing::Immediate, Invoicing::Scheduled] {
            product.charges.get_mut("policy-fee").unwrap().invoicing = invoicing;
            assert_eq!(product.validate(), Ok(()));
        }
    }

    #[test]
    fn the_premium_charge_must_exist_and_be_normal() {
        let mut product = auto_product();
        product.premium_charge = "policy-fee".into();
        assert_eq!(
            product.validate(),
            Err(ProductError::BadPremiumCharge("policy-fee".into()))
        );
    }

    #[test]
    fn a_holdback_over_one_hundred_percent_is_refused() {
        let mut product = auto_product();
        product
            .cancellation_retention
            .as_mut()
            .unwrap()
            .holdback_percent = dec!(101);
        assert_eq!(
            product.validate(),
            Err(ProductError::BadHoldback(dec!(101)))
        );
    }

    #[test]
    fn an_unknown_default_plan_is_refused() {
        let mut product = auto_product();
        product.default_plan = "weekly".into();
        assert_eq!(
            product.validate(),
            Err(ProductError::UnknownDefaultPlan("weekly".into()))
        );
    }

    #[test]
    fn charge_categories_read_as_seed_001_spells_them() {
        let def: ChargeDef = serde_json::from_str(
            r#"{"category": "flatFee", "handling": "flat", "invoicing": "immediate"}"#,
        )
        .unwrap();
        assert_eq!(def.category, ChargeCategory::FlatFee);
        let defaulted: ChargeDef = serde_json::from_str(r#"{"category": "premium"}"#).unwrap();
        assert_eq!(
            (defaulted.handling, defaulted.invoicing),
            (Handling::Normal, Invoicing::Scheduled)
        );
    }
}
