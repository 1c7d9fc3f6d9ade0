//! Cancellation reasons and refund methods: how much of the unearned premium
//! a cancellation returns, chosen per reason by the product (seed 003,
//! DOMAIN section 4).
//!
//! A cancellation always credits the unearned premium pro rata (the timeline
//! difference); what the product's method does not return is kept by a
//! retention charge, so reinstating gives it back and reversing the
//! reinstatement keeps it again.
//!
//! - **pro rata**: everything unearned is returned;
//! - **short rate**: the term earns the table's percentage of its premium for
//!   the days it was in force; the difference to pro rata is kept;
//! - **flat**: nothing is returned;
//! - a **minimum earned premium** (an amount, or a percentage of the term's
//!   premium, the larger of the two) is kept whatever the method.
//!
//! Worked example: 1200.00 a year from 2026-01-01, cancelled effective
//! 2026-04-01 (90 days in force) returns 900.00 pro rata. A short-rate table
//! earning 35% at 90 days keeps 420.00 - 300.00 = 120.00 (780.00 refunded);
//! flat keeps 900.00; pro rata with a minimum earned premium of 40% keeps
//! 480.00 - 300.00 = 180.00.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Rows of a short-rate table, at most.
pub const SHORT_RATE_ROWS_MAX: usize = 400;

/// Why a policy is cancelled.
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CancellationReason {
    /// The insured asked for it (the default).
    #[default]
    InsuredRequest,
    /// Premium was not paid (a lapse after grace).
    NonPayment,
    /// The insurer's underwriting decision.
    Underwriting,
    /// The policy is replaced by another (rewritten).
    Rewrite,
}

impl CancellationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CancellationReason::InsuredRequest => "insured_request",
            CancellationReason::NonPayment => "non_payment",
            CancellationReason::Underwriting => "underwriting",
            CancellationReason::Rewrite => "rewrite",
        }
    }
}

/// One row of a short-rate table: up to `days_in_force` days (inclusive), the
/// term earns `earned_percent` of its premium.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShortRateRow {
    pub days_in_force: u32,
    pub earned_percent: Decimal,
}

/// How much of the unearned premium a cancellation returns.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum RefundMethod {
    /// Everything unearned, by the duration basis.
    ProRata,
    /// The term earns the table's percentage of its premium for the days it
    /// was in force (the first row whose `days_in_force` reaches them).
    ShortRate { table: Vec<ShortRateRow> },
    /// Nothing: the whole premium is earned.
    Flat,
}

/// A product's cancellation rules.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancellationRules {
    /// The retention charge (handling `retention`) that keeps what is not
    /// returned.
    pub charge: String,
    /// The refund method per reason; reasons not listed are pro rata.
    #[serde(default)]
    pub methods: BTreeMap<CancellationReason, RefundMethod>,
    /// The least premium a cancelled term earns, as an amount.
    #[serde(default)]
    pub minimum_earned_premium: Decimal,
    /// The least premium a cancelled term earns, as a percentage of its
    /// premium (the larger of the two minimums applies).
    #[serde(default)]
    pub minimum_earned_percent: Decimal,
}

/// Why cancellation rules are invalid, or cannot price a cancellation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancellationError {
    #[error("the short-rate table for {reason} is empty")]
    EmptyTable { reason: &'static str },
    #[error("the short-rate table for {reason} has more than {max} rows")]
    TableTooLong { reason: &'static str, max: usize },
    #[error(
        "the short-rate table for {reason} must list days in force in increasing order \
         with earned percentages from 0 to 100 that never decrease"
    )]
    TableOutOfOrder { reason: &'static str },
    #[error(
        "the short-rate table for {reason} ends at {last} days in force; the longest term \
         of the product lasts {needed} days"
    )]
    TableTooShort {
        reason: &'static str,
        last: u32,
        needed: u32,
    },
    #[error("minimum earned premium {0} must be zero or more")]
    NegativeMinimum(Decimal),
    #[error("minimum earned percent {0} must be between 0 and 100")]
    BadMinimumPercent(Decimal),
}

/// What a cancellation keeps, and the arithmetic in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub amount: Decimal,
    pub arithmetic: String,
}

impl CancellationRules {
    /// The method for `reason`.
    pub fn method(&self, reason: CancellationReason) -> &RefundMethod {
        static PRO_RATA: RefundMethod = RefundMethod::ProRata;
        self.methods.get(&reason).unwrap_or(&PRO_RATA)
    }

    /// Checks the rules for a product whose longest term lasts
    /// `term_days_max` days.
    pub fn validate(&self, term_days_max: u32) -> Result<(), CancellationError> {
        if self.minimum_earned_premium < Decimal::ZERO {
            return Err(CancellationError::NegativeMinimum(
                self.minimum_earned_premium,
            ));
        }
        if self.minimum_earned_percent < Decimal::ZERO
            || self.minimum_earned_percent > Decimal::ONE_HUNDRED
        {
            return Err(CancellationError::BadMinimumPercent(
                self.minimum_earned_percent,
            ));
        }
        for (reason, method) in &self.methods {
            let RefundMethod::ShortRate { table } = method else {
                continue;
            };
            let reason = reason.as_str();
            let Some(last) = table.last() else {
                return Err(CancellationError::EmptyTable { reason });
            };
            if table.len() > SHORT_RATE_ROWS_MAX {
                return Err(CancellationError::TableTooLong {
                    reason,
                    max: SHORT_RATE_ROWS_MAX,
                });
            }
            let in_range = |p: Decimal| (Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&p);
            let ordered = table.iter().all(|r| in_range(r.earned_percent))
                && table.windows(2).all(|w| {
                    w[0].days_in_force < w[1].days_in_force
                        && w[0].earned_percent <= w[1].earned_percent
                });
            if !ordered {
                return Err(CancellationError::TableOutOfOrder { reason });
            }
            if last.days_in_force < term_days_max {
                return Err(CancellationError::TableTooShort {
                    reason,
                    last: last.days_in_force,
                    needed: term_days_max,
                });
            }
        }
        Ok(())
    }

    /// What a cancellation for `reason` keeps of the `returned` premium
    /// (the pro-rata credit, positive) of a term whose premium is `written`,
    /// after `days_in_force` days. Never more than `returned`, never
    /// negative.
    ///
    /// Example: written 1200.00, returned 900.00 after 90 days, a short-rate
    /// row `{90, 35}`: the term earns 420.00 against 300.00 pro rata, so
    /// 120.00 is kept.
    pub fn kept(
        &self,
        reason: CancellationReason,
        written: Decimal,
        returned: Decimal,
        days_in_force: u32,
    ) -> Kept {
        let mut words = Vec::new();
        if returned <= Decimal::ZERO {
            return Kept {
                amount: Decimal::ZERO,
                arithmetic: "nothing returned, nothing kept".into(),
            };
        }
        let earned_pro_rata = written - returned;
        let mut kept = match self.method(reason) {
            RefundMethod::ProRata => {
                words.push(format!("{}: pro rata returns {returned}", reason.as_str()));
                Decimal::ZERO
            }
            RefundMethod::Flat => {
                words.push(format!(
                    "{}: flat, {returned} of premium not returned",
                    reason.as_str()
                ));
                returned
            }
            RefundMethod::ShortRate { table } => {
                // Validated to cover the longest term; past its end the
                // last row applies.
                let row = table
                    .iter()
                    .find(|r| r.days_in_force >= days_in_force)
                    .or(table.last());
                let percent = row.map_or(Decimal::ONE_HUNDRED, |r| r.earned_percent);
                let earned = written * percent / Decimal::ONE_HUNDRED;
                let kept = (earned - earned_pro_rata).clamp(Decimal::ZERO, returned);
                words.push(format!(
                    "{}: short rate, {days_in_force} days in force earn {percent}% of \
                     {written} = {earned}, less {earned_pro_rata} earned pro rata = {kept}",
                    reason.as_str()
                ));
                kept
            }
        };
        let minimum = self
            .minimum_earned_premium
            .max(written * self.minimum_earned_percent / Decimal::ONE_HUNDRED);
        let earned = earned_pro_rata + kept;
        if minimum > earned && kept < returned {
            let more = (minimum - earned).min(returned - kept);
            words.push(format!(
                "minimum earned premium {minimum}: {earned} earned, {more} more kept"
            ));
            kept += more;
        }
        debug_assert!(kept >= Decimal::ZERO && kept <= returned);
        Kept {
            amount: kept,
            arithmetic: words.join("; "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn rules(method: RefundMethod) -> CancellationRules {
        let mut methods = BTreeMap::new();
        methods.insert(CancellationReason::InsuredRequest, method);
        CancellationRules {
            charge: "short-rate".into(),
            methods,
            minimum_earned_premium: Decimal::ZERO,
            minimum_earned_percent: Decimal::ZERO,
        }
    }

    fn table() -> Vec<ShortRateRow> {
        [
            (30, dec!(15)),
            (60, dec!(25)),
            (90, dec!(35)),
            (366, dec!(100)),
        ]
        .into_iter()
        .map(|(days_in_force, earned_percent)| ShortRateRow {
            days_in_force,
            earned_percent,
        })
        .collect()
    }

    #[test]
    fn pro_rata_keeps_nothing() {
        let kept = rules(RefundMethod::ProRata).kept(
            CancellationReason::InsuredRequest,
            dec!(1200),
            dec!(900),
            90,
        );
        assert_eq!(kept.amount, dec!(0));
    }

    #[test]
    fn short_rate_keeps_what_the_table_earns_beyond_pro_rata() {
        let rules = rules(RefundMethod::ShortRate { table: table() });
        let kept = rules.kept(
            CancellationReason::InsuredRequest,
            dec!(1200),
            dec!(900),
            90,
        );
        assert_eq!(kept.amount, dec!(120.00));
        // 31 days falls in the 60-day row: 25% of 1200 = 300, less 1200 - 1100.
        let kept = rules.kept(
            CancellationReason::InsuredRequest,
            dec!(1200),
            dec!(1100),
            31,
        );
        assert_eq!(kept.amount, dec!(200.00));
    }

    #[test]
    fn flat_keeps_everything_returned() {
        let kept = rules(RefundMethod::Flat).kept(
            CancellationReason::InsuredRequest,
            dec!(1200),
            dec!(900),
            90,
        );
        assert_eq!(kept.amount, dec!(900));
    }

    #[test]
    fn reasons_not_listed_are_pro_rata() {
        let kept = rules(RefundMethod::Flat).kept(
            CancellationReason::Underwriting,
            dec!(1200),
            dec!(900),
            90,
        );
        assert_eq!(kept.amount, dec!(0));
    }

    #[test]
    fn the_larger_minimum_earned_premium_is_kept_whatever_the_method() {
        let mut rules = rules(RefundMethod::ProRata);
        rules.minimum_earned_percent = dec!(40);
        rules.minimum_earned_premium = dec!(350);
        let kept = rules.kept(
            CancellationReason::InsuredRequest,
            dec!(1200),
            dec!(900),
            90,
        );
        assert_eq!(kept.amount, dec!(180.00), "40% of 1200 = 480 > 350");
        // Never more than what is returned.
        rules.minimum_earned_percent = dec!(100);
        let kept = rules.kept(
            CancellationReason::InsuredRequest,
            dec!(1200),
            dec!(900),
            90,
        );
        assert_eq!(kept.amount, dec!(900));
    }

    #[test]
    fn a_table_must_cover_the_longest_term_and_be_ordered() {
        let short = rules(RefundMethod::ShortRate {
            table: table()[..3].to_vec(),
        });
        assert_eq!(
            short.validate(366),
            Err(CancellationError::TableTooShort {
                reason: "insured_request",
                last: 90,
                needed: 366
            })
        );
        let mut rows = table();
        rows.swap(0, 1);
        let unordered = rules(RefundMethod::ShortRate { table: rows });
        assert!(matches!(
            unordered.validate(366),
            Err(CancellationError::TableOutOfOrder { .. })
        ));
        assert_eq!(
            rules(RefundMethod::ShortRate { table: table() }).validate(366),
            Ok(())
        );
    }

    #[test]
    fn reasons_and_methods_read_as_snake_case() {
        let rules: CancellationRules = serde_json::from_value(serde_json::json!({
            "charge": "short-rate",
            "methods": {
                "insured_request": {"method": "short_rate", "table": [
                    {"days_in_force": 366, "earned_percent": "100"}
                ]},
                "non_payment": {"method": "flat"}
            },
            "minimum_earned_premium": "50.00"
        }))
        .unwrap();
        assert_eq!(
            rules.method(CancellationReason::NonPayment),
            &RefundMethod::Flat
        );
        assert_eq!(
            rules.method(CancellationReason::Rewrite),
            &RefundMethod::ProRata
        );
    }
}
