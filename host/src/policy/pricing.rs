//! Pricing a timeline: every covered segment is rated through the product's
//! [`Rater`], and the request, response and rater are kept so that every
//! charge can be explained and the timeline re-priced exactly.

use super::timeline::Segment;
use crate::domain::Period;
use crate::rating::{
    Characteristics, Exposure, Peril, Policy, RateItem, RateRequest, RateResponse, Rater,
    RaterIdentity, RatingError, Segment as RatingSegment,
};
use serde::{Deserialize, Serialize};

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
    pub request: RateRequest,
    pub response: RateResponse,
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
            })
        })
        .collect()
}
