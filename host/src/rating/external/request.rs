//! The request body Premia POSTs to an external rater: Socotra's external
//! rater request, built from a native [`RateRequest`].
//!
//! Mapping rules (each one is what a rater written for Socotra expects):
//!
//! - `operation`: `new_business`, `endorsement`, `renewal`, `reinstatement`.
//!   Socotra never sends `cancellation`; Premia does not call the rater for it
//!   (see [`super::ExternalRater`]).
//! - `policy` has the shape of Socotra's `PolicyResponse`, restricted to what
//!   Premia can fill truthfully: locators, names, the product, the currency,
//!   term timestamps and one characteristics object per entity (the one in
//!   force during the segment).
//! - Timestamps are **milliseconds since the epoch as strings**, at midnight
//!   of the date in the request's time zone (a date `[start, end)` becomes
//!   `startTimestamp` = midnight of `start`, `endTimestamp` = midnight of
//!   `end`). When a daylight-saving jump skips midnight, the first instant of
//!   the day is used. Example: `2025-01-01` in `America/New_York` is
//!   `"1735707600000"` (2025-01-01T05:00:00Z).
//! - `fieldValues` maps each field to a **list of strings**: text as is,
//!   integers and decimals as their decimal text (`1.50` stays `"1.50"`),
//!   booleans `"true"`/`"false"`, dates `"YYYY-MM-DD"`.
//! - Peril characteristics carry `coverageStartTimestamp` and
//!   `coverageEndTimestamp`, equal to their own start and end (Premia has no
//!   separate coverage window per peril).
//! - `fieldGroupsByLocator` is always `{}` (Premia has no field groups), so
//!   raters that walk it find an empty map rather than nothing.
//! - `policyExposurePerils` has one entry per request item, in order.
//! - `tenantTimeZone` is the request's time zone.

use crate::rating::{Characteristics, FieldValue, RateRequest, RatingError};
use chrono::{LocalResult, NaiveDate, NaiveTime, TimeDelta, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// The optional locators of Socotra's request, when Premia knows them
/// (an endorsement, a quote, a renewal ...). All are omitted when `None`.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallLocators {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorsement_locator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_payment_schedule_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_locator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reinstatement_locator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_locator: Option<String>,
}

/// Socotra's external rater request.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalRateRequest {
    pub operation: String,
    pub policy: WirePolicy,
    pub policy_exposure_perils: Vec<PolicyExposurePeril>,
    pub tenant_time_zone: String,
    #[serde(flatten)]
    pub locators: CallLocators,
}

/// One peril characteristics to price, with the characteristics it hangs on.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyExposurePeril {
    pub policy_characteristics_locator: String,
    pub exposure_characteristics_locator: String,
    pub peril_characteristics_locator: String,
}

/// The policy, as Socotra's `PolicyResponse`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WirePolicy {
    pub locator: String,
    pub product_name: String,
    pub currency: String,
    pub original_contract_start_timestamp: String,
    pub effective_contract_end_timestamp: String,
    pub characteristics: Vec<WireCharacteristics>,
    pub exposures: Vec<WireExposure>,
}

/// An exposure, as Socotra's `ExposureResponse`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireExposure {
    pub locator: String,
    pub name: String,
    pub characteristics: Vec<WireCharacteristics>,
    pub perils: Vec<WirePeril>,
}

/// A peril, as Socotra's `PerilResponse`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WirePeril {
    pub locator: String,
    pub name: String,
    pub characteristics: Vec<WireCharacteristics>,
}

/// A characteristics object of a policy, exposure or peril. The links that
/// do not apply to an entity are omitted (a policy's characteristics have no
/// `exposureLocator`).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireCharacteristics {
    pub locator: String,
    pub policy_locator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure_locator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peril_locator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_characteristics_locator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure_characteristics_locator: Option<String>,
    pub start_timestamp: String,
    pub end_timestamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_start_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_end_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_start_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_end_timestamp: Option<String>,
    pub field_values: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub field_groups_by_locator: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// The first instant of `date` in `tz`, in milliseconds since the epoch, as
/// a string. Midnight when it exists; the end of the gap when a
/// daylight-saving jump skips it (`2018-11-04` in `America/Sao_Paulo` starts
/// at 01:00 local time); the earlier instant when midnight repeats.
pub fn midnight_millis(date: NaiveDate, tz: Tz) -> String {
    let mut local = date.and_time(NaiveTime::MIN);
    // A gap lasts at most a few hours; a day always has a valid minute.
    for _ in 0..(24 * 60) {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                return t.timestamp_millis().to_string();
            }
            LocalResult::None => local += TimeDelta::minutes(1),
        }
    }
    // Unreachable for real zones; fall back to the UTC reading of midnight.
    date.and_time(NaiveTime::MIN)
        .and_utc()
        .timestamp_millis()
        .to_string()
}

/// A field value as Socotra's string form.
///
/// Example: `Integer(25)` is `"25"`, `Number(1.50)` is `"1.50"`,
/// `Boolean(true)` is `"true"`, `Date(1990-04-01)` is `"1990-04-01"`.
pub fn field_value_text(value: &FieldValue) -> String {
    match value {
        FieldValue::Text(text) => text.clone(),
        FieldValue::Integer(i) => i.to_string(),
        FieldValue::Number { number } => number.to_string(),
        FieldValue::Boolean(b) => b.to_string(),
        FieldValue::Date { date } => date.format("%Y-%m-%d").to_string(),
    }
}

/// Socotra's name of an operation; `None` for a cancellation, which Socotra
/// never sends to an external rater.
pub fn operation_name(operation: crate::rating::Operation) -> Option<&'static str> {
    use crate::rating::Operation;
    match operation {
        Operation::NewBusiness => Some("new_business"),
        Operation::Endorsement => Some("endorsement"),
        Operation::Renewal => Some("renewal"),
        Operation::Reinstatement => Some("reinstatement"),
        Operation::Cancellation => None,
    }
}

/// Links of a characteristics object to the entities around it.
#[derive(Default)]
struct Links<'a> {
    exposure: Option<&'a str>,
    peril: Option<&'a str>,
    policy_characteristics: Option<&'a str>,
    exposure_characteristics: Option<&'a str>,
    is_peril: bool,
    is_policy: bool,
}

struct Builder<'a> {
    request: &'a RateRequest,
    tz: Tz,
}

impl Builder<'_> {
    fn millis(&self, date: NaiveDate) -> String {
        midnight_millis(date, self.tz)
    }

    fn characteristics(&self, c: &Characteristics, links: Links<'_>) -> WireCharacteristics {
        let owned = |s: Option<&str>| s.map(str::to_string);
        let start = self.millis(c.period.start);
        let end = self.millis(c.period.end);
        let term = self.request.policy.term;
        WireCharacteristics {
            locator: c.locator.clone(),
            policy_locator: self.request.policy.locator.clone(),
            exposure_locator: owned(links.exposure),
            peril_locator: owned(links.peril),
            policy_characteristics_locator: owned(links.policy_characteristics),
            exposure_characteristics_locator: owned(links.exposure_characteristics),
            policy_start_timestamp: links.is_policy.then(|| self.millis(term.start)),
            policy_end_timestamp: links.is_policy.then(|| self.millis(term.end)),
            coverage_start_timestamp: links.is_peril.then(|| start.clone()),
            coverage_end_timestamp: links.is_peril.then(|| end.clone()),
            start_timestamp: start,
            end_timestamp: end,
            field_values: c
                .fields
                .iter()
                .map(|(name, values)| (name.clone(), values.iter().map(field_value_text).collect()))
                .collect(),
            field_groups_by_locator: BTreeMap::new(),
        }
    }

    fn policy(&self) -> WirePolicy {
        let policy = &self.request.policy;
        let policy_characteristics = policy.characteristics.locator.as_str();
        let exposures = policy
            .exposures
            .iter()
            .map(|exposure| {
                let exposure_characteristics = exposure.characteristics.locator.as_str();
                WireExposure {
                    locator: exposure.locator.clone(),
                    name: exposure.name.clone(),
                    characteristics: vec![self.characteristics(
                        &exposure.characteristics,
                        Links {
                            exposure: Some(&exposure.locator),
                            policy_characteristics: Some(policy_characteristics),
                            ..Links::default()
                        },
                    )],
                    perils: exposure
                        .perils
                        .iter()
                        .map(|peril| WirePeril {
                            locator: peril.locator.clone(),
                            name: peril.name.clone(),
                            characteristics: vec![self.characteristics(
                                &peril.characteristics,
                                Links {
                                    exposure: Some(&exposure.locator),
                                    peril: Some(&peril.locator),
                                    policy_characteristics: Some(policy_characteristics),
                                    exposure_characteristics: Some(exposure_characteristics),
                                    is_peril: true,
                                    ..Links::default()
                                },
                            )],
                        })
                        .collect(),
                }
            })
            .collect();
        WirePolicy {
            locator: policy.locator.clone(),
            product_name: policy.product_name.clone(),
            currency: policy.currency.clone(),
            original_contract_start_timestamp: self.millis(policy.term.start),
            effective_contract_end_timestamp: self.millis(policy.term.end),
            characteristics: vec![self.characteristics(
                &policy.characteristics,
                Links {
                    is_policy: true,
                    ..Links::default()
                },
            )],
            exposures,
        }
    }
}

impl ExternalRateRequest {
    /// Socotra's request for `request`.
    ///
    /// Fails with [`RatingError::InvalidInput`] when the request cannot be
    /// said in Socotra's format: a cancellation, an unknown time zone, an
    /// item without exposure or peril characteristics (Socotra prices perils
    /// only), an item naming characteristics the policy does not have, or
    /// two items pricing the same peril characteristics.
    pub fn from_rate_request(
        request: &RateRequest,
        locators: &CallLocators,
    ) -> Result<Self, RatingError> {
        let invalid = |m: String| RatingError::InvalidInput(m);
        let operation = operation_name(request.operation).ok_or_else(|| {
            invalid("an external rater is not asked to price a cancellation".to_string())
        })?;
        let tz: Tz = request.time_zone.parse().map_err(|_| {
            invalid(format!(
                "time zone {:?} is not an IANA time zone",
                request.time_zone
            ))
        })?;
        let policy = &request.policy;
        let known_policy = policy.characteristics.locator.as_str();
        let known_exposures: HashSet<&str> = policy
            .exposures
            .iter()
            .map(|e| e.characteristics.locator.as_str())
            .collect();
        let known_perils: HashSet<&str> = policy
            .exposures
            .iter()
            .flat_map(|e| &e.perils)
            .map(|p| p.characteristics.locator.as_str())
            .collect();
        let mut priced = HashSet::with_capacity(request.items.len());
        let mut policy_exposure_perils = Vec::with_capacity(request.items.len());
        for item in &request.items {
            let (Some(exposure), Some(peril)) =
                (&item.exposure_characteristics, &item.peril_characteristics)
            else {
                return Err(invalid(format!(
                    "item {} has no exposure or peril characteristics; an external rater prices perils only",
                    item.locator
                )));
            };
            let unknown = if item.policy_characteristics != known_policy {
                Some(&item.policy_characteristics)
            } else if !known_exposures.contains(exposure.as_str()) {
                Some(exposure)
            } else if !known_perils.contains(peril.as_str()) {
                Some(peril)
            } else {
                None
            };
            if let Some(unknown) = unknown {
                return Err(invalid(format!(
                    "item {} names characteristics {unknown} that the policy does not have",
                    item.locator
                )));
            }
            if !priced.insert(peril.as_str()) {
                return Err(invalid(format!(
                    "peril characteristics {peril} is priced by two items"
                )));
            }
            policy_exposure_perils.push(PolicyExposurePeril {
                policy_characteristics_locator: item.policy_characteristics.clone(),
                exposure_characteristics_locator: exposure.clone(),
                peril_characteristics_locator: peril.clone(),
            });
        }
        Ok(ExternalRateRequest {
            operation: operation.to_string(),
            policy: Builder { request, tz }.policy(),
            policy_exposure_perils,
            tenant_time_zone: request.time_zone.clone(),
            locators: locators.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::Operation;
    use crate::rating::external::test_support::sample_request;
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn midnight_in_new_york_in_winter_is_five_in_the_morning_utc() {
        assert_eq!(
            midnight_millis(date("2025-01-01"), chrono_tz::America::New_York),
            "1735707600000"
        );
    }

    #[test]
    fn midnight_in_new_york_in_summer_is_four_in_the_morning_utc() {
        // 2025-07-01T04:00:00Z
        assert_eq!(
            midnight_millis(date("2025-07-01"), chrono_tz::America::New_York),
            "1751342400000"
        );
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_when_the_clocks_jump() {
        // Sao Paulo jumped from 00:00 to 01:00 on 2018-11-04: the day starts
        // at 01:00-02:00, which is 2018-11-04T03:00:00Z.
        assert_eq!(
            midnight_millis(date("2018-11-04"), chrono_tz::America::Sao_Paulo),
            "1541300400000"
        );
    }

    #[test]
    fn field_values_become_strings() {
        assert_eq!(field_value_text(&FieldValue::Text("urban".into())), "urban");
        assert_eq!(field_value_text(&FieldValue::Integer(-25)), "-25");
        assert_eq!(
            field_value_text(&FieldValue::Number { number: dec!(1.50) }),
            "1.50"
        );
        assert_eq!(field_value_text(&FieldValue::Boolean(false)), "false");
        assert_eq!(
            field_value_text(&FieldValue::Date {
                date: date("1990-04-01")
            }),
            "1990-04-01"
        );
    }

    #[test]
    fn the_request_has_socotras_shape_exactly() {
        let wire = ExternalRateRequest::from_rate_request(
            &sample_request(),
            &CallLocators {
                endorsement_locator: Some("END-1".into()),
                ..CallLocators::default()
            },
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&wire).unwrap(),
            crate::rating::external::test_support::expected_wire_json(json!({
                "endorsementLocator": "END-1"
            }))
        );
    }

    #[test]
    fn a_cancellation_is_not_said_in_socotras_format() {
        let mut request = sample_request();
        request.operation = Operation::Cancellation;
        assert_eq!(
            ExternalRateRequest::from_rate_request(&request, &CallLocators::default()),
            Err(RatingError::InvalidInput(
                "an external rater is not asked to price a cancellation".into()
            ))
        );
    }

    #[test]
    fn a_policy_level_item_cannot_be_priced_by_an_external_rater() {
        let mut request = sample_request();
        request.items[0].peril_characteristics = None;
        assert_eq!(
            ExternalRateRequest::from_rate_request(&request, &CallLocators::default()),
            Err(RatingError::InvalidInput(
                "item PER1 has no exposure or peril characteristics; an external rater prices perils only".into()
            ))
        );
    }

    #[test]
    fn an_item_naming_unknown_characteristics_is_invalid_input() {
        let mut request = sample_request();
        request.items[0].peril_characteristics = Some("NOPE".into());
        assert_eq!(
            ExternalRateRequest::from_rate_request(&request, &CallLocators::default()),
            Err(RatingError::InvalidInput(
                "item PER1 names characteristics NOPE that the policy does not have".into()
            ))
        );
    }

    #[test]
    fn an_unknown_time_zone_is_invalid_input() {
        let mut request = sample_request();
        request.time_zone = "Mars/Olympus".into();
        assert_eq!(
            ExternalRateRequest::from_rate_request(&request, &CallLocators::default()),
            Err(RatingError::InvalidInput(
                "time zone \"Mars/Olympus\" is not an IANA time zone".into()
            ))
        );
    }
}
