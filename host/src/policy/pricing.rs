//! Pricing a timeline: every covered segment is rated through the product's
//! [`Rater`], and the request, response and rater are kept so that every
//! charge can be explained and the timeline re-priced exactly.
//!
//! A rating result belongs to a characteristic (DOMAIN section 9): an item's
//! data from one effective date on. [`price_timeline`] asks the rater only
//! about items whose rating input (policy fields, the item's exposure and
//! peril, the term; the operation aside) no recorded result of the term
//! covers; every other item reuses the recorded result, which the charges
//! prorate (a yearly premium by the duration basis, an exact premium by its
//! share of the span it was priced for, [`PricedSegment::recorded`]).
//!
//! Worked example: new business on [2026-01-01, 2027-01-01) asks once, for
//! the whole term: the vehicle at exact 370.56. A cancellation effective
//! 2026-07-01 leaves [2026-01-01, 2026-07-01), whose vehicle input is the
//! one priced for the whole term: no call, the result is reused and worth
//! 370.56 x 6/12 = 185.28 (months basis), so 185.28 is refunded. An
//! endorsement effective 2026-07-01 adding a trailer asks once, about the
//! trailer on [2026-07-01, 2027-01-01) only; the vehicle is not sent.

use super::timeline::Segment;
use crate::domain::Period;
use crate::rating::{
    Characteristics, Exposure, Peril, Policy, RateItem, RateRequest, RateResponse, Rater,
    RaterIdentity, RatingCall, RatingError, Segment as RatingSegment,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a policy's pricing needs besides its segments.
#[derive(Debug, Clone)]
pub struct PricingContext<'a> {
    pub policy_locator: &'a str,
    pub product_name: &'a str,
    pub currency: &'a str,
    pub time_zone: &'a str,
    pub term: Period,
}

/// A rated segment: the rating call that priced it.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedSegment {
    pub period: Period,
    /// The transaction whose effective date starts it.
    pub started_by: String,
    pub rater: RaterIdentity,
    /// The rating input of the segment: every item, whether it was sent or
    /// its recorded result reused.
    pub request: RateRequest,
    pub response: RateResponse,
    /// Items whose result was priced for another span than this segment's:
    /// reused from a recorded result, or asked here for the longer run over
    /// which the item keeps this input. Item locator to that span (an exact
    /// premium is prorated by this segment's share of it). Every other item
    /// was priced for exactly this segment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub recorded: BTreeMap<String, Period>,
}

impl PricedSegment {
    /// The span `item`'s result was priced for: this segment's, or the
    /// recorded one it reuses.
    pub fn rated_span(&self, item: &str) -> Period {
        self.recorded.get(item).copied().unwrap_or(self.period)
    }
}

fn rating_segment(period: Period) -> RatingSegment {
    RatingSegment {
        start: period.start(),
        end: period.end(),
    }
}

/// The rating request for one segment. Items are perils, located by their
/// (stable) peril locator; characteristics locators are `<entity>:<segment
/// start>`.
pub fn rate_request(context: &PricingContext<'_>, segment: &Segment<'_>) -> RateRequest {
    let start = segment.period.start();
    let characteristics = |locator: &str, fields: &super::data::Fields| Characteristics {
        locator: format!("{locator}:{start}"),
        period: rating_segment(segment.period),
        fields: fields.clone(),
    };
    let policy_characteristics = characteristics(context.policy_locator, &segment.data.fields);
    let mut items = Vec::new();
    let exposures: Vec<Exposure> = segment
        .data
        .exposures
        .iter()
        .map(|(exposure_locator, exposure)| {
            let exposure_characteristics = characteristics(exposure_locator, &exposure.fields);
            let perils = exposure
                .perils
                .iter()
                .map(|(peril_locator, peril)| {
                    let peril_characteristics = characteristics(peril_locator, &peril.fields);
                    items.push(RateItem {
                        locator: peril_locator.clone(),
                        policy_characteristics: policy_characteristics.locator.clone(),
                        exposure_characteristics: Some(exposure_characteristics.locator.clone()),
                        peril_characteristics: Some(peril_characteristics.locator.clone()),
                    });
                    Peril {
                        locator: peril_locator.clone(),
                        name: peril.name.clone(),
                        characteristics: peril_characteristics,
                    }
                })
                .collect();
            Exposure {
                locator: exposure_locator.clone(),
                name: exposure.name.clone(),
                characteristics: exposure_characteristics,
                perils,
            }
        })
        .collect();
    RateRequest {
        operation: segment.operation,
        policy: Policy {
            locator: context.policy_locator.to_string(),
            product_name: context.product_name.to_string(),
            currency: context.currency.to_string(),
            time_zone: context.time_zone.to_string(),
            term: rating_segment(context.term),
            characteristics: policy_characteristics,
            exposures,
        },
        items,
        segment: rating_segment(segment.period),
        currency: context.currency.to_string(),
        time_zone: context.time_zone.to_string(),
    }
}

/// Rates every segment.
pub fn price_segments(
    rater: &dyn Rater,
    context: &PricingContext<'_>,
    segments: &[Segment<'_>],
) -> Result<Vec<PricedSegment>, RatingError> {
    segments
        .iter()
        .map(|segment| {
            let request = rate_request(context, segment);
            // Nothing to price (every peril removed): no call, no amounts.
            let (response, identity) = if request.items.is_empty() {
                (
                    RateResponse {
                        items: Vec::new(),
                        flat_charges: Vec::new(),
                    },
                    rater.identity(),
                )
            } else {
                rater.rate_with_identity(&request)?
            };
            Ok(PricedSegment {
                period: segment.period,
                started_by: segment.started_by.clone(),
                rater: identity,
                request,
                response,
                recorded: BTreeMap::new(),
            })
        })
        .collect()
}

/// What the rater reads to price one item: the policy (its fields and
/// term), the item's exposure and the item's peril. Dates, characteristics
/// locators and the operation are not part of it.
#[derive(Debug, PartialEq, Eq)]
struct ItemInput<'r> {
    policy: (&'r str, &'r str, &'r str, &'r str, RatingSegment),
    policy_fields: &'r super::data::Fields,
    exposure: (&'r str, &'r str, &'r super::data::Fields),
    peril: (&'r str, &'r str, &'r super::data::Fields),
}

fn item_input<'r>(request: &'r RateRequest, item: &str) -> Option<ItemInput<'r>> {
    let policy = &request.policy;
    policy.exposures.iter().find_map(|exposure| {
        let peril = exposure.perils.iter().find(|p| p.locator == item)?;
        Some(ItemInput {
            policy: (
                &policy.locator,
                &policy.product_name,
                &policy.currency,
                &policy.time_zone,
                policy.term,
            ),
            policy_fields: &policy.characteristics.fields,
            exposure: (
                &exposure.locator,
                &exposure.name,
                &exposure.characteristics.fields,
            ),
            peril: (&peril.locator, &peril.name, &peril.characteristics.fields),
        })
    })
}

/// The recorded result for `item` of `request` over `period`: a segment of
/// `recorded` whose input for the item is the same and whose result was
/// priced for a span covering `period`.
fn recorded_result<'p>(
    recorded: &'p [PricedSegment],
    request: &RateRequest,
    item: &str,
    period: Period,
) -> Option<&'p PricedSegment> {
    let input = item_input(request, item)?;
    recorded.iter().find(|segment| {
        segment.rated_span(item).contains_period(&period)
            && item_input(&segment.request, item).as_ref() == Some(&input)
    })
}

/// How many rating calls a pricing made, for the caller's counters.
pub type CallCount = usize;

/// Prices the segments of one term, asking `rater` (resolved only when a
/// call is needed) only about items whose input no result in `recorded` (the
/// term's priced timeline before the transaction) covers. A segment equal
/// to a recorded one (same period, start and input) is kept as it is. An
/// item with a new input is asked once, over the run of following
/// contiguous segments where its input stays the same (an out-of-sequence
/// change re-applied under later endorsements), and that result is reused
/// for the rest of the run. Each call carries what `call_of` gives for its
/// segment: the transaction's Socotra locators and, when the rater reads it
/// ([`Rater::reads_policy_record`]), the policy record.
pub fn price_timeline(
    rater: &mut dyn FnMut() -> Result<Arc<dyn Rater>, RatingError>,
    context: &PricingContext<'_>,
    segments: &[Segment<'_>],
    recorded: &[PricedSegment],
    call_of: &dyn Fn(&Segment<'_>, bool) -> RatingCall,
) -> Result<(Vec<PricedSegment>, CallCount), RatingError> {
    let requests: Vec<RateRequest> = segments.iter().map(|s| rate_request(context, s)).collect();
    let mut calls = 0;
    let mut priced: Vec<PricedSegment> = Vec::with_capacity(segments.len());
    for (index, (segment, request)) in segments.iter().zip(&requests).enumerate() {
        if let Some(same) = recorded.iter().find(|r| {
            r.period == segment.period
                && r.started_by == segment.started_by
                && &r.request == request
        }) {
            priced.push(same.clone());
            continue;
        }
        let mut spans = BTreeMap::new();
        let mut items = Vec::new();
        // Items to ask, by the end of the span to ask them for.
        let mut to_ask: BTreeMap<chrono::NaiveDate, Vec<RateItem>> = BTreeMap::new();
        let mut reused_rater = None;
        for item in &request.items {
            let found = recorded_result(recorded, request, &item.locator, segment.period)
                .or_else(|| recorded_result(&priced, request, &item.locator, segment.period));
            match found {
                Some(found) => {
                    spans.insert(item.locator.clone(), found.rated_span(&item.locator));
                    items.extend(
                        found
                            .response
                            .items
                            .iter()
                            .filter(|p| p.locator == item.locator)
                            .cloned(),
                    );
                    reused_rater.get_or_insert_with(|| found.rater.clone());
                }
                None => {
                    let input = item_input(request, &item.locator);
                    let mut end = segment.period.end();
                    for (next, next_request) in segments.iter().zip(&requests).skip(index + 1) {
                        let same = next.period.start() == end
                            && item_input(next_request, &item.locator) == input
                            && recorded_result(recorded, next_request, &item.locator, next.period)
                                .is_none();
                        if !same {
                            break;
                        }
                        end = next.period.end();
                    }
                    to_ask.entry(end).or_default().push(item.clone());
                }
            }
        }
        let mut flat_charges = Vec::new();
        let mut identity = reused_rater;
        for (end, asked_items) in to_ask {
            let span =
                Period::new(segment.period.start(), end).expect("a run ends after it starts");
            let asked = RateRequest {
                items: asked_items,
                ..rate_request(
                    context,
                    &Segment {
                        period: span,
                        ..segment.clone()
                    },
                )
            };
            let asking = rater()?;
            let call = call_of(segment, asking.reads_policy_record());
            let (response, answered) = asking.rate_call(&asked, &call)?;
            calls += 1;
            if span != segment.period {
                spans.extend(asked.items.iter().map(|i| (i.locator.clone(), span)));
            }
            items.extend(response.items);
            flat_charges.extend(response.flat_charges);
            identity = Some(answered);
        }
        let identity = match identity {
            Some(identity) => identity,
            None => rater()?.identity(),
        };
        priced.push(PricedSegment {
            period: segment.period,
            started_by: segment.started_by.clone(),
            rater: identity,
            request: request.clone(),
            response: RateResponse {
                items,
                flat_charges,
            },
            recorded: spans,
        });
    }
    Ok((priced, calls))
}
