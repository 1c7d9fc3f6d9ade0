//! Shadow rating's durable record and its report: what a product's
//! challenger answered beside the champion for a committed command
//! ([`ShadowRecord`], event kind `shadow_rated` on stream
//! `shadow/<product>`), and the tenant's running totals per product
//! ([`ShadowReports`]), rebuilt from the log like any other state. Applying
//! a record never calls a rater: the challenger was asked before the record
//! was decided (`service/shadow.rs`).
//!
//! The report counts calls compared, exact matches, differences per line
//! (item, charge, line, basis: how many differed, the largest absolute
//! difference, the total difference, challenger less champion), challenger
//! errors per kind, calls skipped (the shadow queue was full) and keeps a
//! few samples (request and both answers), preferring calls that did not
//! match.
//!
//! Worked example: a challenger pricing collision 10% higher on a policy
//! with V1 collision at yearly 1000.00, V1 liability at 500.00 and V2
//! collision at 800.00. New business (one call): the collision row counts
//! 2 differences, largest 100.00, total 180.00. An endorsement raising V1
//! collision to 2000.00 (one call, that peril only) adds one: count 3,
//! largest 200.00, total 380.00. An endorsement changing liability only
//! matches. Calls 3, exact matches 1.

use crate::policy::PolicyBook;
use crate::rating::shadow::{LineKey, ShadowOutcome};
use crate::rating::{Operation, RateRequest, RateResponse, RaterIdentity, Segment};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most samples a product's report keeps.
pub const SHADOW_SAMPLES_MAX: usize = 5;

/// The request and both answers of one compared call.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowSample {
    pub request: RateRequest,
    pub champion: RateResponse,
    pub champion_rater: RaterIdentity,
    /// The challenger's answer (none when it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenger: Option<RateResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenger_rater: Option<RaterIdentity>,
}

/// One rating call asked of both raters.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowCall {
    pub policy: String,
    pub operation: Operation,
    /// The span the call priced.
    pub segment: Segment,
    #[serde(flatten)]
    pub outcome: ShadowOutcome,
    /// The request and answers: kept in the log only when the report keeps
    /// the call as a sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<Box<ShadowSample>>,
}

impl ShadowCall {
    fn matched(&self) -> bool {
        self.outcome == ShadowOutcome::Matched
    }
}

/// The challenger's answers to the rating calls of one committed command,
/// for one product. Both the engine command that records them and the event
/// it appends.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowRecord {
    pub product: String,
    pub calls: Vec<ShadowCall>,
    /// Calls of the product not compared because the shadow queue was full,
    /// since the previous record.
    #[serde(default)]
    pub skipped: u64,
}

/// Why a shadow record cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShadowError {
    #[error("no product {0}")]
    UnknownProduct(String),
}

impl ShadowError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            ShadowError::UnknownProduct(_) => "product_not_found",
        }
    }

    /// How the refusal is answered.
    pub fn kind(&self) -> crate::domain::ErrorKind {
        match self {
            ShadowError::UnknownProduct(_) => crate::domain::ErrorKind::NotFound,
        }
    }
}

/// How often a line differed, and by how much.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DifferenceRow {
    #[serde(flatten)]
    pub key: LineKey,
    /// Calls' lines that differed.
    pub count: u64,
    /// The largest absolute difference.
    #[serde(with = "rust_decimal::serde::str")]
    pub largest_absolute_difference: Decimal,
    /// The sum of the differences, challenger less champion.
    #[serde(with = "rust_decimal::serde::str")]
    pub total_difference: Decimal,
}

/// Challenger failures of one kind.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ErrorCount {
    /// `declined`, `invalid_input`, `rater_unavailable`, `rater_deadline`,
    /// `plugin_trap`, ... or `panic`.
    pub kind: String,
    pub count: u64,
}

/// A product's shadow rating so far.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ShadowReport {
    /// Calls compared (committed commands only; quotes and previews are
    /// never sent to the challenger).
    pub calls: u64,
    pub exact_matches: u64,
    /// Calls where at least one line differed.
    pub differed: u64,
    /// Calls the challenger did not answer.
    pub challenger_errors: u64,
    /// Calls not compared because the shadow queue was full.
    pub skipped: u64,
    /// By item, charge, line and basis.
    pub differences: Vec<DifferenceRow>,
    pub errors: Vec<ErrorCount>,
    /// Up to [`SHADOW_SAMPLES_MAX`] calls, those that did not match first.
    pub samples: Vec<ShadowCall>,
}

impl ShadowReport {
    /// Whether the report would keep `call` as a sample: while it has room,
    /// and then a call that did not match in place of a matched one.
    fn wants_sample(&self, call: &ShadowCall) -> bool {
        self.samples.len() < SHADOW_SAMPLES_MAX
            || (!call.matched() && self.samples.iter().any(ShadowCall::matched))
    }

    fn add(&mut self, call: &ShadowCall) {
        self.calls += 1;
        match &call.outcome {
            ShadowOutcome::Matched => self.exact_matches += 1,
            ShadowOutcome::Differed { lines } => {
                self.differed += 1;
                for line in lines {
                    let difference = line.difference();
                    let row = match self.differences.binary_search_by(|r| r.key.cmp(&line.key)) {
                        Ok(found) => &mut self.differences[found],
                        Err(at) => {
                            self.differences.insert(
                                at,
                                DifferenceRow {
                                    key: line.key.clone(),
                                    count: 0,
                                    largest_absolute_difference: Decimal::ZERO,
                                    total_difference: Decimal::ZERO,
                                },
                            );
                            &mut self.differences[at]
                        }
                    };
                    row.count += 1;
                    row.largest_absolute_difference =
                        row.largest_absolute_difference.max(difference.abs());
                    row.total_difference += difference;
                }
            }
            ShadowOutcome::Failed { error } => {
                self.challenger_errors += 1;
                match self.errors.binary_search_by(|e| e.kind.cmp(&error.kind)) {
                    Ok(found) => self.errors[found].count += 1,
                    Err(at) => self.errors.insert(
                        at,
                        ErrorCount {
                            kind: error.kind.clone(),
                            count: 1,
                        },
                    ),
                }
            }
        }
        if call.sample.is_some() && self.wants_sample(call) {
            if self.samples.len() >= SHADOW_SAMPLES_MAX
                && let Some(matched) = self.samples.iter().position(ShadowCall::matched)
            {
                self.samples.remove(matched);
            }
            self.samples.push(call.clone());
        }
    }
}

/// Every product's shadow report of a tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct ShadowReports {
    by_product: BTreeMap<String, ShadowReport>,
}

impl ShadowReports {
    /// The report of `product` (empty when nothing was compared yet).
    pub fn report(&self, product: &str) -> ShadowReport {
        self.by_product.get(product).cloned().unwrap_or_default()
    }

    /// The event recording `record`: the same calls, each with its request
    /// and answers only if the report will keep it as a sample (the log
    /// keeps few requests).
    pub fn decide(
        &self,
        record: &ShadowRecord,
        book: &PolicyBook,
    ) -> Result<ShadowRecord, ShadowError> {
        if !book.products.contains_key(&record.product) {
            return Err(ShadowError::UnknownProduct(record.product.clone()));
        }
        let mut report = self.report(&record.product);
        let mut decided = record.clone();
        for call in &mut decided.calls {
            if !report.wants_sample(call) {
                call.sample = None;
            }
            report.add(call);
        }
        Ok(decided)
    }

    /// Applies a decided record.
    pub fn apply(&mut self, record: &ShadowRecord) {
        let report = self.by_product.entry(record.product.clone()).or_default();
        report.skipped += record.skipped;
        for call in &record.calls {
            report.add(call);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::shadow::{Basis, ChallengerError, LineDifference, LineKind};
    use rust_decimal_macros::dec;

    fn call(outcome: ShadowOutcome) -> ShadowCall {
        ShadowCall {
            policy: "P1".into(),
            operation: Operation::NewBusiness,
            segment: Segment {
                start: "2026-01-01".parse().unwrap(),
                end: "2027-01-01".parse().unwrap(),
            },
            outcome,
            sample: None,
        }
    }

    fn collision(champion: Decimal, challenger: Decimal) -> LineDifference {
        LineDifference {
            locator: Some("V1-COLL".into()),
            key: LineKey {
                item: "collision".into(),
                charge: "premium".into(),
                line: LineKind::Premium,
                recipient: None,
                basis: Basis::Yearly,
            },
            champion,
            challenger,
        }
    }

    #[test]
    fn a_product_written_before_shadow_rating_reads_without_a_challenger_and_writes_none() {
        let product = crate::policy::auto_product();
        let mut json = serde_json::to_value(&product).unwrap();
        assert!(json.get("shadow").is_none());
        let read: crate::policy::ProductConfig = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(read.shadow, None);
        json["shadow"] = serde_json::json!({"rater": {"kind": "plugin", "plugin": "auto-rater@2"}});
        let read: crate::policy::ProductConfig = serde_json::from_value(json).unwrap();
        assert_eq!(
            read.shadow.map(|s| s.rater),
            Some(crate::rating::RatingChain::Plugin {
                plugin: "auto-rater@2".into()
            })
        );
    }

    #[test]
    fn differences_are_counted_with_their_largest_absolute_and_total_per_line() {
        let mut reports = ShadowReports::default();
        reports.apply(&ShadowRecord {
            product: "auto".into(),
            calls: vec![
                call(ShadowOutcome::Differed {
                    lines: vec![
                        collision(dec!(1000.00), dec!(1100.00)),
                        collision(dec!(800.00), dec!(880.00)),
                    ],
                }),
                call(ShadowOutcome::Differed {
                    lines: vec![collision(dec!(2000.00), dec!(1700.00))],
                }),
                call(ShadowOutcome::Matched),
                call(ShadowOutcome::Failed {
                    error: ChallengerError {
                        kind: "rater_deadline".into(),
                        message: "slow".into(),
                    },
                }),
            ],
            skipped: 2,
        });
        let report = reports.report("auto");
        assert_eq!(
            (
                report.calls,
                report.exact_matches,
                report.differed,
                report.challenger_errors,
                report.skipped
            ),
            (4, 1, 2, 1, 2)
        );
        assert_eq!(report.differences.len(), 1);
        let row = &report.differences[0];
        assert_eq!(
            (
                row.count,
                row.largest_absolute_difference,
                row.total_difference
            ),
            (3, dec!(300.00), dec!(-120.00))
        );
        assert_eq!(
            report.errors,
            vec![ErrorCount {
                kind: "rater_deadline".into(),
                count: 1
            }]
        );
    }

    #[test]
    fn samples_prefer_calls_that_did_not_match_and_the_log_keeps_only_those_requests() {
        let mut book = PolicyBook::new();
        book.products
            .insert("auto".into(), crate::policy::auto_product());
        let sample = || {
            Some(Box::new(ShadowSample {
                request: crate::rating::shadow::tests::request(),
                champion: RateResponse {
                    items: Vec::new(),
                    flat_charges: Vec::new(),
                },
                champion_rater: RaterIdentity::Native {
                    name: "field-rater".into(),
                },
                challenger: None,
                challenger_rater: None,
            }))
        };
        let with_sample = |outcome| ShadowCall {
            sample: sample(),
            ..call(outcome)
        };
        let mut reports = ShadowReports::default();
        let matched: Vec<ShadowCall> = (0..SHADOW_SAMPLES_MAX + 2)
            .map(|_| with_sample(ShadowOutcome::Matched))
            .collect();
        let record = ShadowRecord {
            product: "auto".into(),
            calls: matched,
            skipped: 0,
        };
        let decided = reports.decide(&record, &book).unwrap();
        let kept: Vec<bool> = decided.calls.iter().map(|c| c.sample.is_some()).collect();
        assert_eq!(kept, vec![true, true, true, true, true, false, false]);
        reports.apply(&decided);
        let differed = ShadowRecord {
            product: "auto".into(),
            calls: vec![with_sample(ShadowOutcome::Differed {
                lines: vec![collision(dec!(1.00), dec!(2.00))],
            })],
            skipped: 0,
        };
        let decided = reports.decide(&differed, &book).unwrap();
        assert!(decided.calls[0].sample.is_some());
        reports.apply(&decided);
        let report = reports.report("auto");
        assert_eq!(report.samples.len(), SHADOW_SAMPLES_MAX);
        assert_eq!(
            report.samples.iter().filter(|s| !s.matched()).count(),
            1,
            "a difference replaced a matched sample"
        );
        assert_eq!(
            reports.decide(
                &ShadowRecord {
                    product: "home".into(),
                    ..differed
                },
                &book
            ),
            Err(ShadowError::UnknownProduct("home".into()))
        );
    }
}
