//! Shadow rating, the pure part: a product's challenger rater
//! ([`ShadowConfig`]) and how a challenger's answer compares with the
//! champion's (the product's rating chain) for the same rating call
//! ([`compare`]). The engine asks the challenger after the champion answered
//! and records the comparison (`crate::engine`, `shadow` and
//! `shadow_report`); nothing here calls a rater.
//!
//! An answer is compared line by line. A line is one amount of the answer
//! for one item (peril locator, or none for a flat charge on no item),
//! keyed ([`LineKey`]) by the item's peril *name* (so that a report over
//! many policies has one row per coverage; `policy` for a flat charge on no
//! item), the charge, what the amount is (premium, technical premium,
//! commission to a recipient, flat charge) and its basis (yearly or exact:
//! a yearly rate and an exact amount are never subtracted from each other,
//! they are different lines). A line missing from one answer counts as zero
//! there. Two answers match exactly when no line differs.
//!
//! Worked example: the champion prices collision at yearly 1000.00 and
//! liability at yearly 500.00; the challenger prices collision at yearly
//! 1100.00 and liability at yearly 500.00. One line differs: collision,
//! premium, premium, yearly, champion 1000.00, challenger 1100.00,
//! difference +100.00. The call does not match.

use super::{Premium, RateRequest, RateResponse, RatingChain, RatingError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A product's challenger: asked every rating call the product's champion
/// is asked (for committed transactions), recorded beside it, never billed.
///
/// In a product: `"shadow": {"rater": {"kind": "plugin", "plugin":
/// "auto-rater@2"}}`: the challenger is named as a rating chain is (a
/// plugin by `name@version` or name, an external rater, a plugin with a
/// fallback, or a native rater).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShadowConfig {
    /// The challenger rater.
    pub rater: RatingChain,
}

/// What an amount of an answer is.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Premium,
    TechnicalPremium,
    Commission,
    FlatCharge,
}

/// Whether an amount is a yearly rate or an exact amount.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Yearly,
    Exact,
}

/// Which amount of an answer a line is.
#[derive(
    utoipa::ToSchema, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct LineKey {
    /// The item's peril name (`collision`), or `policy` for a flat charge
    /// on no item.
    pub item: String,
    /// The charge the amount books to.
    pub charge: String,
    pub line: LineKind,
    /// A commission's recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    pub basis: Basis,
}

/// A line whose amounts differ between the champion and the challenger.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineDifference {
    /// The item's locator (none for a flat charge on no item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locator: Option<String>,
    #[serde(flatten)]
    pub key: LineKey,
    /// The champion's amount (zero when its answer has no such line).
    #[serde(with = "rust_decimal::serde::str")]
    pub champion: Decimal,
    /// The challenger's amount (zero when its answer has no such line).
    #[serde(with = "rust_decimal::serde::str")]
    pub challenger: Decimal,
}

impl LineDifference {
    /// The challenger's amount less the champion's.
    pub fn difference(&self) -> Decimal {
        self.challenger - self.champion
    }
}

/// The names an answer's lines book to, from the product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeNames {
    /// The charge a priced item with no charge books to.
    pub premium: String,
    /// The charge commissions book to.
    pub commission: String,
}

/// Why the challenger gave no answer, as a stable kind: `declined`,
/// `invalid_input`, or a rater failure's code (`rater_unavailable`,
/// `rater_deadline`, `plugin_trap`, `plugin_out_of_fuel`, ...; see
/// [`super::RaterFailure::code`]).
pub fn error_kind(error: &RatingError) -> &'static str {
    match error {
        RatingError::Declined(_) => "declined",
        RatingError::InvalidInput(_) => "invalid_input",
        RatingError::Failed { failure, .. } => failure.code(),
    }
}

/// The challenger's failure, as recorded.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengerError {
    /// See [`error_kind`]; `panic` when the challenger panicked.
    pub kind: String,
    pub message: String,
}

/// How one call's answers compare.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum ShadowOutcome {
    /// Every line is the same.
    Matched,
    /// These lines differ (in key order).
    Differed { lines: Vec<LineDifference> },
    /// The challenger gave no answer.
    Failed { error: ChallengerError },
}

impl ShadowOutcome {
    /// The outcome of a challenger that failed with `error`.
    pub fn failed(error: &RatingError) -> Self {
        ShadowOutcome::Failed {
            error: ChallengerError {
                kind: error_kind(error).to_string(),
                message: error.to_string(),
            },
        }
    }
}

/// An item's locator (none for a flat charge on no item) and a line key.
pub type ItemLine = (Option<String>, LineKey);

/// The lines of `response`, an answer to `request`, summed by item and key.
pub fn lines(
    request: &RateRequest,
    response: &RateResponse,
    names: &ChargeNames,
) -> BTreeMap<ItemLine, Decimal> {
    let peril_name = |locator: &str| -> String {
        request
            .policy
            .exposures
            .iter()
            .flat_map(|e| &e.perils)
            .find(|p| p.locator == locator)
            .map_or_else(|| locator.to_string(), |p| p.name.clone())
    };
    let split = |premium: &Premium| match *premium {
        Premium::Yearly(amount) => (Basis::Yearly, amount),
        Premium::Exact(amount) => (Basis::Exact, amount),
    };
    let mut lines: BTreeMap<ItemLine, Decimal> = BTreeMap::new();
    let mut add =
        |locator: Option<&str>, charge: &str, line, recipient: Option<&str>, (basis, amount)| {
            let key = LineKey {
                item: locator.map_or_else(|| "policy".to_string(), peril_name),
                charge: charge.to_string(),
                line,
                recipient: recipient.map(str::to_string),
                basis,
            };
            *lines.entry((locator.map(str::to_string), key)).or_default() += amount;
        };
    for priced in &response.items {
        let locator = Some(priced.locator.as_str());
        let charge = priced.charge.as_deref().unwrap_or(&names.premium);
        add(
            locator,
            charge,
            LineKind::Premium,
            None,
            split(&priced.premium),
        );
        if let Some(technical) = &priced.technical_premium {
            add(
                locator,
                charge,
                LineKind::TechnicalPremium,
                None,
                split(technical),
            );
        }
        for commission in &priced.commissions {
            add(
                locator,
                &names.commission,
                LineKind::Commission,
                Some(&commission.recipient),
                split(&commission.amount),
            );
        }
    }
    for flat in &response.flat_charges {
        add(
            flat.item.as_deref(),
            &flat.charge,
            LineKind::FlatCharge,
            None,
            (Basis::Exact, flat.amount),
        );
    }
    lines
}

/// Compares the challenger's answer to `request` with the champion's.
///
/// Example: champion collision yearly 1000.00, challenger collision yearly
/// 1100.00 and an extra flat `policy-fee` of 25.00: two lines differ,
/// `collision/premium/yearly` by +100.00 and `policy/policy-fee/exact` by
/// +25.00.
pub fn compare(
    request: &RateRequest,
    champion: &RateResponse,
    challenger: Result<&RateResponse, &RatingError>,
    names: &ChargeNames,
) -> ShadowOutcome {
    let challenger = match challenger {
        Ok(answer) => answer,
        Err(error) => return ShadowOutcome::failed(error),
    };
    let champion = lines(request, champion, names);
    let mut challenger = lines(request, challenger, names);
    let mut differing = Vec::new();
    for ((locator, key), champion_amount) in champion {
        let challenger_amount = challenger
            .remove(&(locator.clone(), key.clone()))
            .unwrap_or_default();
        if challenger_amount != champion_amount {
            differing.push(LineDifference {
                locator,
                key,
                champion: champion_amount,
                challenger: challenger_amount,
            });
        }
    }
    for ((locator, key), challenger_amount) in challenger {
        if !challenger_amount.is_zero() {
            differing.push(LineDifference {
                locator,
                key,
                champion: Decimal::ZERO,
                challenger: challenger_amount,
            });
        }
    }
    if differing.is_empty() {
        return ShadowOutcome::Matched;
    }
    differing.sort_by(|a, b| (&a.locator, &a.key).cmp(&(&b.locator, &b.key)));
    ShadowOutcome::Differed { lines: differing }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rating::{
        Characteristics, Commission, Exposure, FlatCharge, Operation, Peril, Policy, PricedItem,
        RateItem, RaterFailure, Segment,
    };
    use rust_decimal_macros::dec;

    fn segment() -> Segment {
        Segment {
            start: "2026-01-01".parse().unwrap(),
            end: "2027-01-01".parse().unwrap(),
        }
    }

    fn characteristics(locator: &str) -> Characteristics {
        Characteristics {
            locator: locator.into(),
            period: segment(),
            fields: Default::default(),
        }
    }

    /// Vehicle V1 with collision (V1-COLL) and liability (V1-LIAB).
    pub(crate) fn request() -> RateRequest {
        let peril = |locator: &str, name: &str| Peril {
            locator: locator.into(),
            name: name.into(),
            characteristics: characteristics(locator),
        };
        let item = |locator: &str| RateItem {
            locator: locator.into(),
            policy_characteristics: "P1".into(),
            exposure_characteristics: Some("V1".into()),
            peril_characteristics: Some(locator.into()),
        };
        RateRequest {
            operation: Operation::NewBusiness,
            policy: Policy {
                locator: "P1".into(),
                product_name: "auto".into(),
                currency: "USD".into(),
                time_zone: "UTC".into(),
                term: segment(),
                characteristics: characteristics("P1"),
                exposures: vec![Exposure {
                    locator: "V1".into(),
                    name: "vehicle".into(),
                    characteristics: characteristics("V1"),
                    perils: vec![peril("V1-COLL", "collision"), peril("V1-LIAB", "liability")],
                }],
            },
            items: vec![item("V1-COLL"), item("V1-LIAB")],
            segment: segment(),
            currency: "USD".into(),
            time_zone: "UTC".into(),
        }
    }

    fn priced(locator: &str, premium: Premium) -> PricedItem {
        PricedItem {
            locator: locator.into(),
            charge: None,
            premium,
            technical_premium: None,
            commissions: Vec::new(),
        }
    }

    fn answer(collision: Premium, liability: Premium) -> RateResponse {
        RateResponse {
            items: vec![priced("V1-COLL", collision), priced("V1-LIAB", liability)],
            flat_charges: Vec::new(),
        }
    }

    fn names() -> ChargeNames {
        ChargeNames {
            premium: "premium".into(),
            commission: "commission".into(),
        }
    }

    fn key(item: &str, charge: &str, line: LineKind, basis: Basis) -> LineKey {
        LineKey {
            item: item.into(),
            charge: charge.into(),
            line,
            recipient: None,
            basis,
        }
    }

    #[test]
    fn the_same_amounts_written_with_other_scales_match_exactly() {
        let champion = answer(Premium::Yearly(dec!(1000.00)), Premium::Exact(dec!(250)));
        let challenger = answer(Premium::Yearly(dec!(1000)), Premium::Exact(dec!(250.000)));
        assert_eq!(
            compare(&request(), &champion, Ok(&challenger), &names()),
            ShadowOutcome::Matched
        );
    }

    #[test]
    fn a_challenger_ten_percent_higher_on_one_peril_differs_on_that_line_only() {
        let champion = answer(
            Premium::Yearly(dec!(1000.00)),
            Premium::Yearly(dec!(500.00)),
        );
        let challenger = answer(
            Premium::Yearly(dec!(1100.00)),
            Premium::Yearly(dec!(500.00)),
        );
        let ShadowOutcome::Differed { lines } =
            compare(&request(), &champion, Ok(&challenger), &names())
        else {
            panic!("the answers differ");
        };
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0].key,
            key("collision", "premium", LineKind::Premium, Basis::Yearly)
        );
        assert_eq!(
            (
                lines[0].champion,
                lines[0].challenger,
                lines[0].difference()
            ),
            (dec!(1000.00), dec!(1100.00), dec!(100.00))
        );
    }

    #[test]
    fn a_yearly_rate_and_an_exact_amount_are_two_lines_never_subtracted() {
        let champion = answer(
            Premium::Yearly(dec!(1200.00)),
            Premium::Yearly(dec!(500.00)),
        );
        let challenger = answer(Premium::Exact(dec!(600.00)), Premium::Yearly(dec!(500.00)));
        let ShadowOutcome::Differed { lines } =
            compare(&request(), &champion, Ok(&challenger), &names())
        else {
            panic!("the answers differ");
        };
        let differences: Vec<(Basis, Decimal)> = lines
            .iter()
            .map(|l| (l.key.basis, l.difference()))
            .collect();
        assert_eq!(
            differences,
            vec![
                (Basis::Yearly, dec!(-1200.00)),
                (Basis::Exact, dec!(600.00))
            ]
        );
    }

    #[test]
    fn commissions_and_flat_charges_are_lines_of_their_own() {
        let champion = answer(
            Premium::Yearly(dec!(1000.00)),
            Premium::Yearly(dec!(500.00)),
        );
        let mut challenger = champion.clone();
        challenger.items[0].commissions.push(Commission {
            recipient: "agency-7".into(),
            amount: Premium::Yearly(dec!(100.00)),
        });
        challenger.flat_charges.push(FlatCharge {
            charge: "policy-fee".into(),
            amount: dec!(25.00),
            item: None,
            description: String::new(),
        });
        let ShadowOutcome::Differed { lines } =
            compare(&request(), &champion, Ok(&challenger), &names())
        else {
            panic!("the answers differ");
        };
        let mut commission = key(
            "collision",
            "commission",
            LineKind::Commission,
            Basis::Yearly,
        );
        commission.recipient = Some("agency-7".into());
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.key.clone(), l.difference()))
                .collect::<Vec<_>>(),
            vec![
                (
                    key("policy", "policy-fee", LineKind::FlatCharge, Basis::Exact),
                    dec!(25.00)
                ),
                (commission, dec!(100.00)),
            ]
        );
    }

    #[test]
    fn a_failing_challenger_is_recorded_with_its_stable_kind() {
        let champion = answer(
            Premium::Yearly(dec!(1000.00)),
            Premium::Yearly(dec!(500.00)),
        );
        let cases = [
            (RatingError::Declined("no".into()), "declined"),
            (RatingError::InvalidInput("x".into()), "invalid_input"),
            (
                RatingError::failed("acme/v2", RaterFailure::Deadline, "slow"),
                "rater_deadline",
            ),
            (
                RatingError::failed("acme/v2", RaterFailure::Unavailable, "not loaded"),
                "rater_unavailable",
            ),
        ];
        for (error, kind) in cases {
            let ShadowOutcome::Failed { error: recorded } =
                compare(&request(), &champion, Err(&error), &names())
            else {
                panic!("a failure");
            };
            assert_eq!(recorded.kind, kind);
            assert_eq!(recorded.message, error.to_string());
        }
    }
}
