//! Charges: what a transaction adds to or takes from a policy, as the
//! difference between the priced timeline after it and before it, per item,
//! charge and period.
//!
//! Rounding happens once per *rate run*: the stretch of time over which an
//! item keeps the same yearly rate. Inside a run, the part up to each cut is
//! computed and rounded, and each piece is the difference of two such sums,
//! so splitting a run never changes its total ("the first part is computed,
//! the second gets the remainder"). An endorsement that changes nothing for
//! an item therefore charges nothing for it, not even a cent.
//!
//! Worked example ([E1]): 1000.00 yearly on [2021-01-01, 2022-01-01), days
//! basis; an endorsement effective 2021-07-01 raising the rate to 1200.00
//! charges (1200 − 1000) × 184/365 = 100.82 for [2021-07-01, 2022-01-01),
//! because the run before the change is untouched at 495.89.

use super::pricing::PricedSegment;
use super::product::{ChargeCategory, Handling, Invoicing, ProductConfig};
use crate::billing::{Arithmetic, DurationBasis, PremiumRate, RatedPremium};
use crate::domain::{Currency, Money, Period, RoundingMode};
use crate::rating::{Premium, RaterIdentity};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How a charge's amount came about, for the audit trail.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChargeExplanation {
    /// Who priced it (none for charges added by a command or reversed).
    pub rater: Option<RaterIdentity>,
    /// The priced segments (by period) of the transaction's timeline it
    /// comes from; their rating requests and responses are on the
    /// transaction record.
    pub rating_segments: Vec<Period>,
    pub duration_basis: Option<DurationBasis>,
    /// The arithmetic, one line per piece.
    pub arithmetic: Vec<String>,
}

/// A charge booked by a transaction or a command.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// `<transaction>-C<n>`.
    pub locator: String,
    pub policy: Option<String>,
    pub account: String,
    /// The transaction (or command) that booked it.
    pub transaction: String,
    pub term: Option<u32>,
    /// The priced item (peril), if any.
    pub item: Option<String>,
    /// The product charge name.
    pub charge: String,
    pub category: ChargeCategory,
    pub handling: Handling,
    pub invoicing: Invoicing,
    /// Who a commission is owed to.
    pub recipient: Option<String>,
    pub amount: Money,
    /// The technical premium of this charge (a premium charge whose rater
    /// answers a technical premium): the change of the technical premium
    /// over the charge's period, prorated and rounded as the amount is.
    /// Absent on other charges and on charges stored before it was kept.
    ///
    /// Example: a rater answering `yearlyPremium` 1200.00 and
    /// `yearlyTechnicalPremium` 1000.00 for a year books a premium charge
    /// of 1200.00 with technical premium 1000.00; a mid-term cancellation's
    /// refund of 600.00 carries −500.00.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technical_premium: Option<Decimal>,
    /// The coverage it pays for (none for flat charges).
    pub period: Option<Period>,
    /// The charge this one inverts: a reverse charge, which cannot itself be
    /// reversed.
    pub reverses: Option<String>,
    pub description: String,
    pub explanation: ChargeExplanation,
}

impl Charge {
    /// The inverse of this charge, booked by `transaction` (reverse charges
    /// are invoiced like flat charges and cannot be reversed).
    pub fn inverse(&self, locator: String, transaction: &str, why: &str) -> Charge {
        Charge {
            locator,
            transaction: transaction.to_string(),
            amount: self.amount.negated(),
            technical_premium: self.technical_premium.map(|t| -t),
            reverses: Some(self.locator.clone()),
            description: format!("{why}: {}", self.description),
            explanation: ChargeExplanation {
                arithmetic: vec![format!("−1 × {} ({})", self.amount.amount, self.locator)],
                ..ChargeExplanation::default()
            },
            ..self.clone()
        }
    }
}

/// A charge before it is given its locator and transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeDraft {
    pub item: Option<String>,
    pub charge: String,
    pub recipient: Option<String>,
    pub amount: Decimal,
    /// The technical premium's change over `period` (premium charges of a
    /// rater that answers one).
    pub technical_premium: Option<Decimal>,
    pub period: Period,
    pub arithmetic: Vec<String>,
    pub rating_segments: Vec<Period>,
    pub rater: Option<RaterIdentity>,
}

/// What a rated amount is keyed by (borrowed from the priced timelines and
/// the product: building keys copies no strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RateKey<'a> {
    item: &'a str,
    charge: &'a str,
    recipient: Option<&'a str>,
    exact: bool,
}

/// A stretch of time over which a key keeps one rate.
#[derive(Debug, Clone)]
struct RateRun<'a> {
    period: Period,
    /// The span an exact premium was priced for (it may be longer than the
    /// run when the result is reused after a split or a cancellation); the
    /// run's own period for a yearly rate.
    rated: Period,
    rate: PremiumRate,
    segments: Vec<Period>,
    rater: &'a RaterIdentity,
}

fn premium_rate(premium: Premium) -> (bool, Decimal) {
    match premium {
        Premium::Yearly(amount) => (false, amount),
        Premium::Exact(amount) => (true, amount),
    }
}

/// The rate runs of a priced timeline, per key: of the premiums and
/// commissions, or (`technical`) of the technical premiums.
fn rate_runs<'a>(
    priced: &'a [PricedSegment],
    product: &'a ProductConfig,
    technical: bool,
) -> BTreeMap<RateKey<'a>, Vec<RateRun<'a>>> {
    let mut runs: BTreeMap<RateKey<'a>, Vec<RateRun<'a>>> = BTreeMap::new();
    for segment in priced {
        let mut rates: BTreeMap<RateKey<'a>, Decimal> = BTreeMap::new();
        let mut spans: BTreeMap<&'a str, Period> = BTreeMap::new();
        for item in &segment.response.items {
            spans.insert(&item.locator, segment.rated_span(&item.locator));
            let charge = item.charge.as_deref().unwrap_or(&product.premium_charge);
            let premium = match (technical, item.technical_premium) {
                (false, _) => item.premium,
                (true, Some(technical_premium)) => technical_premium,
                (true, None) => continue,
            };
            let (exact, amount) = premium_rate(premium);
            let key = RateKey {
                item: &item.locator,
                charge,
                recipient: None,
                exact,
            };
            *rates.entry(key).or_default() += amount;
            if technical {
                continue;
            }
            if let Some(commission_charge) = &product.commission_charge {
                for commission in &item.commissions {
                    let (exact, amount) = premium_rate(commission.amount);
                    let key = RateKey {
                        item: &item.locator,
                        charge: commission_charge,
                        recipient: Some(&commission.recipient),
                        exact,
                    };
                    *rates.entry(key).or_default() += amount;
                }
            }
        }
        for (key, amount) in rates {
            let rate = if key.exact {
                PremiumRate::Exact(amount)
            } else {
                PremiumRate::Yearly(amount)
            };
            let rated = match rate {
                PremiumRate::Yearly(_) => segment.period,
                PremiumRate::Exact(_) => spans.get(key.item).copied().unwrap_or(segment.period),
            };
            let key_runs = runs.entry(key).or_default();
            // Yearly rates join when equal; exact amounts only when they are
            // pieces of one recorded result (the same amount for the same
            // span), so a split result still sums to its amount.
            match key_runs.last_mut() {
                Some(last)
                    if last.period.end() == segment.period.start()
                        && last.rate == rate
                        && (matches!(rate, PremiumRate::Yearly(_)) || last.rated == rated) =>
                {
                    last.period =
                        Period::new(last.period.start(), segment.period.end()).expect("contiguous");
                    last.segments.push(segment.period);
                }
                _ => key_runs.push(RateRun {
                    period: segment.period,
                    rated,
                    rate,
                    segments: vec![segment.period],
                    rater: &segment.rater,
                }),
            }
        }
    }
    runs
}

/// A piece of time compared across the two timelines.
struct PieceDifference<'a> {
    period: Period,
    after: Decimal,
    before: Decimal,
    /// The yearly rate after less the yearly rate before (zero for exact
    /// premiums): pieces are one charge only when it is the same.
    rate_change: Decimal,
    arithmetic: Vec<String>,
    segments: Vec<Period>,
    rater: Option<&'a RaterIdentity>,
}

/// One piece of a run between two cuts: its rounded amount and arithmetic.
struct Piece {
    period: Period,
    amount: Decimal,
    arithmetic: String,
}

/// Splits a run at `cuts`, rounding the running total so the pieces sum to
/// the run's rounded total.
fn run_pieces(
    run: &RateRun<'_>,
    cuts: &BTreeSet<NaiveDate>,
    basis: DurationBasis,
    currency: Currency,
    mode: RoundingMode,
    arithmetic: Arithmetic,
) -> Result<Vec<Piece>, String> {
    let rated = RatedPremium {
        rate: run.rate,
        period: match run.rate {
            PremiumRate::Yearly(_) => run.period,
            PremiumRate::Exact(_) => run.rated,
        },
        basis,
    };
    let mut bounds: Vec<NaiveDate> = cuts
        .iter()
        .copied()
        .filter(|d| *d > run.period.start() && *d < run.period.end())
        .collect();
    bounds.push(run.period.end());
    let mut pieces = Vec::with_capacity(bounds.len());
    let mut start = run.period.start();
    let mut total_before = Decimal::ZERO;
    for end in bounds {
        let prefix = Period::new(run.period.start(), end).map_err(|e| e.to_string())?;
        let prorated = rated
            .prorate_as(prefix, arithmetic)
            .map_err(|e| e.to_string())?;
        let total = Money::new(prorated.amount, currency).rounded(mode).amount;
        let period = Period::new(start, end).map_err(|e| e.to_string())?;
        pieces.push(Piece {
            period,
            amount: total - total_before,
            arithmetic: match arithmetic {
                Arithmetic::Written => format!(
                    "{period}: run {} from {}: {} → {total}, less {total_before} before {start}",
                    run.period,
                    run.period.start(),
                    prorated.explanation
                ),
                Arithmetic::Skipped => String::new(),
            },
        });
        total_before = total;
        start = end;
    }
    Ok(pieces)
}

/// The charges that turn the priced timeline `before` into `after` (one
/// term), per item, charge and contiguous period of change. With
/// [`Arithmetic::Skipped`] (a quote) the drafts' `arithmetic` is empty and
/// everything else is the same.
pub fn timeline_difference(
    before: &[PricedSegment],
    after: &[PricedSegment],
    product: &ProductConfig,
    basis: DurationBasis,
    mode: RoundingMode,
    arithmetic: Arithmetic,
) -> Result<Vec<ChargeDraft>, String> {
    let currency = product.currency;
    let cuts: BTreeSet<NaiveDate> = before
        .iter()
        .chain(after.iter())
        .flat_map(|s| [s.period.start(), s.period.end()])
        .collect();
    let before_runs = rate_runs(before, product, false);
    let after_runs = rate_runs(after, product, false);
    let technical = technical_pieces(before, after, product, &cuts, basis, mode)?;
    let keys: BTreeSet<&RateKey<'_>> = before_runs.keys().chain(after_runs.keys()).collect();
    let mut drafts = Vec::new();
    for key in keys {
        // Piece start date to its amounts after and before, with their arithmetic.
        let mut table: BTreeMap<NaiveDate, PieceDifference> = BTreeMap::new();
        for (runs, is_after) in [(after_runs.get(key), true), (before_runs.get(key), false)] {
            for run in runs.into_iter().flatten() {
                for piece in run_pieces(run, &cuts, basis, currency, mode, arithmetic)? {
                    let entry =
                        table
                            .entry(piece.period.start())
                            .or_insert_with(|| PieceDifference {
                                period: piece.period,
                                after: Decimal::ZERO,
                                before: Decimal::ZERO,
                                rate_change: Decimal::ZERO,
                                arithmetic: Vec::new(),
                                segments: Vec::new(),
                                rater: None,
                            });
                    if arithmetic == Arithmetic::Written {
                        let label = if is_after { "after" } else { "before" };
                        entry
                            .arithmetic
                            .push(format!("{label}: {}", piece.arithmetic));
                    }
                    if let PremiumRate::Yearly(rate) = run.rate {
                        if is_after {
                            entry.rate_change += rate;
                        } else {
                            entry.rate_change -= rate;
                        }
                    }
                    if is_after {
                        entry.after += piece.amount;
                        entry.segments.extend(
                            run.segments
                                .iter()
                                .filter(|s| s.contains_period(&piece.period)),
                        );
                        entry.rater = Some(run.rater);
                    } else {
                        entry.before += piece.amount;
                    }
                }
            }
        }
        // Contiguous pieces whose rate changed by the same amount are one
        // charge; where the change differs (a reversal or an out-of-sequence
        // change undoing different rates in different months) each period
        // gets its own, so installments bill each month what its coverage
        // costs.
        let mut open: Option<(ChargeDraft, Decimal)> = None;
        for PieceDifference {
            period,
            after: after_amount,
            before: before_amount,
            rate_change,
            arithmetic,
            segments,
            rater,
        } in table.into_values()
        {
            let difference = after_amount - before_amount;
            if difference.is_zero() {
                drafts.extend(open.take().map(|(draft, _)| draft));
                continue;
            }
            match &mut open {
                Some((draft, rate))
                    if draft.period.end() == period.start() && *rate == rate_change =>
                {
                    draft.period =
                        Period::new(draft.period.start(), period.end()).expect("contiguous pieces");
                    draft.amount += difference;
                    draft.arithmetic.extend(arithmetic);
                    draft.rating_segments.extend(segments);
                    if draft.rater.is_none() {
                        draft.rater = rater.cloned();
                    }
                }
                _ => {
                    drafts.extend(open.take().map(|(draft, _)| draft));
                    open = Some((
                        ChargeDraft {
                            item: Some(key.item.to_string()),
                            charge: key.charge.to_string(),
                            recipient: key.recipient.map(str::to_string),
                            amount: difference,
                            technical_premium: None,
                            period,
                            arithmetic,
                            rating_segments: segments,
                            rater: rater.cloned(),
                        },
                        rate_change,
                    ));
                }
            }
        }
        drafts.extend(open.take().map(|(draft, _)| draft));
    }
    drafts.retain(|d| !d.amount.is_zero());
    for draft in &mut drafts {
        let (Some(item), None) = (&draft.item, &draft.recipient) else {
            continue;
        };
        if let Some(pieces) = technical.get(&(item.as_str(), draft.charge.as_str())) {
            draft.technical_premium = Some(
                pieces
                    .values()
                    .filter(|(period, _)| draft.period.contains_period(period))
                    .map(|(_, amount)| *amount)
                    .sum(),
            );
        }
    }
    Ok(drafts)
}

/// Technical premium pieces between `cuts`, per (item, charge): each
/// piece's period and its change from `before` to `after`, prorated and
/// rounded by runs as premiums are. Only items whose rater answered a
/// technical premium (before or after) have an entry.
type TechnicalPieces<'a> = BTreeMap<(&'a str, &'a str), BTreeMap<NaiveDate, (Period, Decimal)>>;

fn technical_pieces<'a>(
    before: &'a [PricedSegment],
    after: &'a [PricedSegment],
    product: &'a ProductConfig,
    cuts: &BTreeSet<NaiveDate>,
    basis: DurationBasis,
    mode: RoundingMode,
) -> Result<TechnicalPieces<'a>, String> {
    let mut pieces: TechnicalPieces<'a> = BTreeMap::new();
    for (timeline, sign) in [(after, Decimal::ONE), (before, Decimal::NEGATIVE_ONE)] {
        for (key, runs) in rate_runs(timeline, product, true) {
            for run in &runs {
                for piece in run_pieces(
                    run,
                    cuts,
                    basis,
                    product.currency,
                    mode,
                    Arithmetic::Skipped,
                )? {
                    pieces
                        .entry((key.item, key.charge))
                        .or_default()
                        .entry(piece.period.start())
                        .or_insert((piece.period, Decimal::ZERO))
                        .1 += sign * piece.amount;
                }
            }
        }
    }
    Ok(pieces)
}

/// The amount of `charge` a priced timeline comes to when priced from
/// nothing: what the policy's charges of that name must sum to.
pub fn repriced_total(priced: &[PricedSegment], product: &ProductConfig, charge: &str) -> Decimal {
    timeline_difference(
        &[],
        priced,
        product,
        product.duration_basis,
        product.rounding_mode,
        Arithmetic::Skipped,
    )
    .expect("a stored timeline prices")
    .iter()
    .filter(|draft| draft.charge == charge)
    .map(|draft| draft.amount)
    .sum()
}
