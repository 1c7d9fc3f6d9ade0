//! The request body Premia POSTs to an external rater: Socotra's external
//! rater request, built from a native [`RateRequest`] and, when the host
//! knows it, the policy's [`PolicyRecord`].
//!
//! Mapping rules (each one is what a rater written for Socotra expects):
//!
//! - `operation`: `new_business`, `endorsement`, `renewal`, `reinstatement`.
//!   Socotra never sends `cancellation`; Premia does not call the rater for it
//!   (see [`super::ExternalRater`]).
//! - `policy` has the shape of Socotra's `PolicyResponse`, restricted to what
//!   Premia can fill truthfully: locators (`displayId` is the locator),
//!   names, the product, the currency, the contract timestamps, one
//!   characteristics object per entity for the segment priced (always the
//!   last of its list), and from the record: `policyholderLocator`,
//!   `productLocator`, `createdTimestamp`/`updatedTimestamp`/
//!   `issuedTimestamp`, `paymentScheduleName`, `modifications`, `fees` and
//!   the earlier characteristics (with `issuedTimestamp`,
//!   `replacedTimestamp`, `premium`, `technicalPremium`). `invoices`,
//!   `documents` and `taxGroups` are empty lists and `mediaByLocator` an
//!   empty map: the policy book keeps none of them.
//! - `originalContractStartTimestamp` is the policy's inception (the first
//!   term's start, also on a renewal), `originalContractEndTimestamp` the
//!   first term's end and `effectiveContractEndTimestamp` the end of the term
//!   priced. Without a record, the term priced gives all three.
//! - Timestamps are **milliseconds since the epoch as strings**, at midnight
//!   of the date in the request's time zone (a date `[start, end)` becomes
//!   `startTimestamp` = midnight of `start`, `endTimestamp` = midnight of
//!   `end`). When a daylight-saving jump skips midnight, the first instant of
//!   the day is used. Example: `2025-01-01` in `America/New_York` is
//!   `"1735707600000"` (2025-01-01T05:00:00Z). Instants (issue times) are
//!   their own milliseconds.
//! - `fieldValues` maps each field to a **list of strings**: text as is,
//!   integers and decimals as their decimal text (`1.50` stays `"1.50"`),
//!   booleans `"true"`/`"false"`, dates `"YYYY-MM-DD"`.
//! - Socotra's built-in peril properties ([`super::BUILT_IN_PERIL_PROPERTIES`]:
//!   `deductible`, `indemnityInAggregate`, `indemnityPerEvent`,
//!   `indemnityPerItem`, `lumpSumPayment`) are top-level properties of a
//!   peril's characteristics, not field values: a peril field of one of
//!   those names with one value is sent as that property (and not among
//!   `fieldValues`), with its `<name>Currency` companion from the field of
//!   that name or else the policy's currency. Example: fields
//!   `{"deductible": [500.00], "limit": [1000]}` in USD are sent as
//!   `"deductible": "500.00", "deductibleCurrency": "USD", "fieldValues":
//!   {"limit": ["1000"]}`.
//! - Peril characteristics carry `coverageStartTimestamp` and
//!   `coverageEndTimestamp`, equal to their own start and end (Premia has no
//!   separate coverage window per peril). A peril's `renewalGroup` is its
//!   locator, stable across terms.
//! - `fieldGroupsByLocator` is always `{}` (Premia has no field groups), so
//!   raters that walk it find an empty map rather than nothing.
//! - `policyExposurePerils` has one entry per request item, in order.
//! - `tenantTimeZone` is the request's time zone.
//!
//! Every field Socotra may omit is optional when a request is read (by
//! `premia rater serve`), so a real Socotra request is read unchanged.

use super::built_in::{BuiltInPerilProperties, split_built_in, text_or_number};
use super::record::{Owner, PolicyRecord, RatingCall, RecordedCharacteristics};
use crate::rating::{Characteristics, FieldValue, RateRequest, RatingError};
use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policyholder_locator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_locator: Option<String>,
    pub product_name: String,
    /// Absent in some Socotra requests: `premia rater serve` then uses its
    /// default currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_timestamp: Option<String>,
    pub original_contract_start_timestamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_contract_end_timestamp: Option<String>,
    pub effective_contract_end_timestamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_schedule_name: Option<String>,
    pub characteristics: Vec<WireCharacteristics>,
    pub exposures: Vec<WireExposure>,
    #[serde(default)]
    pub modifications: Vec<WireModification>,
    #[serde(default)]
    pub fees: Vec<WireFee>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub invoices: Vec<Value>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub documents: Vec<Value>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub media_by_locator: BTreeMap<String, Value>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub tax_groups: Vec<Value>,
}

/// A transaction, as Socotra's `PolicyModificationResponse`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireModification {
    pub locator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_locator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_timestamp: Option<String>,
    #[serde(default)]
    pub new_policy_characteristics_locators: Vec<String>,
    #[serde(default)]
    pub exposure_modifications: Vec<WireExposureModification>,
}

/// The part of a modification about one exposure.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireExposureModification {
    pub exposure_locator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_exposure_characteristics_locator: Option<String>,
    #[serde(default)]
    pub peril_modifications: Vec<WirePerilModification>,
}

/// The part of a modification about one peril.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WirePerilModification {
    pub peril_locator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_peril_characteristics_locator: Option<String>,
}

/// A flat fee, as Socotra's `FeeResponse`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireFee {
    pub locator: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, deserialize_with = "text_or_number")]
    pub amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_currency: Option<String>,
    #[serde(default)]
    pub reversed: bool,
}

/// An exposure, as Socotra's `ExposureResponse`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireExposure {
    pub locator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_id: Option<String>,
    pub name: String,
    pub characteristics: Vec<WireCharacteristics>,
    #[serde(default)]
    pub perils: Vec<WirePeril>,
}

/// A peril, as Socotra's `PerilResponse`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WirePeril {
    pub locator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_id: Option<String>,
    pub name: String,
    /// Stable across renewals: the peril's locator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_group: Option<String>,
    pub characteristics: Vec<WireCharacteristics>,
}

/// A characteristics object of a policy, exposure or peril. The links that
/// do not apply to an entity are omitted (a policy's characteristics have no
/// `exposureLocator`).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireCharacteristics {
    pub locator: String,
    #[serde(default)]
    pub policy_locator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure_locator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peril_locator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_characteristics_locator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure_characteristics_locator: Option<String>,
    /// Absent on some Socotra peril characteristics, which carry only the
    /// coverage timestamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_start_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_end_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_start_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_end_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_timestamp: Option<String>,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub premium: Option<String>,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub technical_premium: Option<String>,
    #[serde(flatten)]
    pub built_in: BuiltInPerilProperties,
    #[serde(default)]
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

/// An instant in milliseconds since the epoch, as a string.
fn instant_millis(instant: DateTime<Utc>) -> String {
    instant.timestamp_millis().to_string()
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
#[derive(Default, Clone, Copy)]
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
    record: &'a PolicyRecord,
    /// The record's characteristics, by the entity they belong to.
    recorded: HashMap<&'a Owner, Vec<&'a RecordedCharacteristics>>,
    tz: Tz,
}

impl<'a> Builder<'a> {
    fn new(request: &'a RateRequest, record: &'a PolicyRecord, tz: Tz) -> Self {
        let mut recorded: HashMap<&Owner, Vec<&RecordedCharacteristics>> = HashMap::new();
        for c in &record.characteristics {
            recorded.entry(&c.owner).or_default().push(c);
        }
        Builder {
            request,
            record,
            recorded,
            tz,
        }
    }

    fn millis(&self, date: NaiveDate) -> String {
        midnight_millis(date, self.tz)
    }

    /// A characteristics object over `period` of a term `term`.
    fn wire_characteristics(
        &self,
        locator: &str,
        period: crate::rating::Segment,
        term: crate::rating::Segment,
        fields: &crate::domain::CompactMap<String, Vec<FieldValue>>,
        links: Links<'_>,
    ) -> WireCharacteristics {
        let owned = |s: Option<&str>| s.map(str::to_string);
        let start = self.millis(period.start);
        let end = self.millis(period.end);
        let texts: BTreeMap<String, Vec<String>> = fields
            .iter()
            .map(|(name, values)| (name.clone(), values.iter().map(field_value_text).collect()))
            .collect();
        let (built_in, field_values) = if links.is_peril {
            split_built_in(&texts, &self.request.policy.currency)
        } else {
            (BuiltInPerilProperties::default(), texts)
        };
        WireCharacteristics {
            locator: locator.to_string(),
            policy_locator: self.request.policy.locator.clone(),
            exposure_locator: owned(links.exposure),
            peril_locator: owned(links.peril),
            policy_characteristics_locator: owned(links.policy_characteristics),
            exposure_characteristics_locator: owned(links.exposure_characteristics),
            policy_start_timestamp: links.is_policy.then(|| self.millis(term.start)),
            policy_end_timestamp: links.is_policy.then(|| self.millis(term.end)),
            coverage_start_timestamp: links.is_peril.then(|| start.clone()),
            coverage_end_timestamp: links.is_peril.then(|| end.clone()),
            start_timestamp: Some(start),
            end_timestamp: Some(end),
            issued_timestamp: None,
            replaced_timestamp: None,
            premium: None,
            technical_premium: None,
            built_in,
            field_values,
            field_groups_by_locator: BTreeMap::new(),
        }
    }

    fn characteristics(&self, c: &Characteristics, links: Links<'_>) -> WireCharacteristics {
        self.wire_characteristics(
            &c.locator,
            c.period,
            self.request.policy.term,
            &c.fields,
            links,
        )
    }

    /// The recorded characteristics of `owner` (oldest first), then the
    /// request's own `current` one, which is always last. A recorded one
    /// with the current one's locator is the current one and is left out.
    fn history(
        &self,
        owner: &Owner,
        current: WireCharacteristics,
        links: Links<'_>,
    ) -> Vec<WireCharacteristics> {
        let mut recorded: Vec<&RecordedCharacteristics> = self
            .recorded
            .get(owner)
            .into_iter()
            .flatten()
            .copied()
            .filter(|c| c.locator != current.locator)
            .collect();
        recorded.sort_by_key(|c| (c.period.start, c.replaced.is_none(), c.period.end));
        let mut list: Vec<WireCharacteristics> = recorded
            .into_iter()
            .map(|c| {
                let mut wire = self.wire_characteristics(
                    &c.locator,
                    c.period,
                    c.term,
                    &c.fields,
                    Links {
                        policy_characteristics: (!links.is_policy)
                            .then_some(c.policy_characteristics.as_str()),
                        exposure_characteristics: if links.is_peril {
                            c.exposure_characteristics.as_deref()
                        } else {
                            None
                        },
                        ..links
                    },
                );
                wire.issued_timestamp = c.issued.map(instant_millis);
                wire.replaced_timestamp = c.replaced.map(instant_millis);
                wire.premium = c.premium.map(|p| p.to_string());
                wire.technical_premium = c.technical_premium.map(|p| p.to_string());
                wire
            })
            .collect();
        list.push(current);
        list
    }

    fn modifications(&self) -> Vec<WireModification> {
        let policy_locator = &self.request.policy.locator;
        self.record
            .modifications
            .iter()
            .map(|m| {
                let mut exposures: BTreeMap<&str, WireExposureModification> = BTreeMap::new();
                let mut policy_characteristics = Vec::new();
                for (owner, locator) in &m.new_characteristics {
                    match owner {
                        Owner::Policy => policy_characteristics.push(locator.clone()),
                        Owner::Exposure(exposure) => {
                            exposures
                                .entry(exposure)
                                .or_insert_with(|| exposure_modification(exposure))
                                .new_exposure_characteristics_locator = Some(locator.clone());
                        }
                        Owner::Peril { exposure, peril } => exposures
                            .entry(exposure)
                            .or_insert_with(|| exposure_modification(exposure))
                            .peril_modifications
                            .push(WirePerilModification {
                                peril_locator: peril.clone(),
                                new_peril_characteristics_locator: Some(locator.clone()),
                            }),
                    }
                }
                WireModification {
                    locator: m.locator.clone(),
                    display_id: Some(m.locator.clone()),
                    policy_locator: Some(policy_locator.clone()),
                    number: Some(m.number),
                    name: m.name.clone(),
                    created_timestamp: Some(instant_millis(m.created)),
                    effective_timestamp: Some(self.millis(m.effective)),
                    new_policy_characteristics_locators: policy_characteristics,
                    exposure_modifications: exposures.into_values().collect(),
                }
            })
            .collect()
    }

    fn policy(&self) -> WirePolicy {
        let policy = &self.request.policy;
        let record = self.record;
        let policy_characteristics = policy.characteristics.locator.as_str();
        let exposures = policy
            .exposures
            .iter()
            .map(|exposure| {
                let exposure_characteristics = exposure.characteristics.locator.as_str();
                let exposure_links = Links {
                    exposure: Some(&exposure.locator),
                    policy_characteristics: Some(policy_characteristics),
                    ..Links::default()
                };
                WireExposure {
                    locator: exposure.locator.clone(),
                    display_id: Some(exposure.locator.clone()),
                    name: exposure.name.clone(),
                    characteristics: self.history(
                        &Owner::Exposure(exposure.locator.clone()),
                        self.characteristics(&exposure.characteristics, exposure_links),
                        exposure_links,
                    ),
                    perils: exposure
                        .perils
                        .iter()
                        .map(|peril| {
                            let peril_links = Links {
                                exposure: Some(&exposure.locator),
                                peril: Some(&peril.locator),
                                policy_characteristics: Some(policy_characteristics),
                                exposure_characteristics: Some(exposure_characteristics),
                                is_peril: true,
                                ..Links::default()
                            };
                            WirePeril {
                                locator: peril.locator.clone(),
                                display_id: Some(peril.locator.clone()),
                                name: peril.name.clone(),
                                renewal_group: Some(peril.locator.clone()),
                                characteristics: self.history(
                                    &Owner::Peril {
                                        exposure: exposure.locator.clone(),
                                        peril: peril.locator.clone(),
                                    },
                                    self.characteristics(&peril.characteristics, peril_links),
                                    peril_links,
                                ),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        let policy_links = Links {
            is_policy: true,
            ..Links::default()
        };
        let inception = record.inception.unwrap_or(policy.term.start);
        let original_end = record.original_end.unwrap_or(policy.term.end);
        WirePolicy {
            locator: policy.locator.clone(),
            display_id: Some(policy.locator.clone()),
            policyholder_locator: record.policyholder_locator.clone(),
            product_locator: record.product_locator.clone(),
            product_name: policy.product_name.clone(),
            currency: Some(policy.currency.clone()),
            created_timestamp: record.created.map(instant_millis),
            updated_timestamp: record.updated.map(instant_millis),
            issued_timestamp: record.issued.map(instant_millis),
            original_contract_start_timestamp: self.millis(inception),
            original_contract_end_timestamp: Some(self.millis(original_end)),
            effective_contract_end_timestamp: self.millis(policy.term.end),
            payment_schedule_name: record.payment_schedule_name.clone(),
            characteristics: self.history(
                &Owner::Policy,
                self.characteristics(&policy.characteristics, policy_links),
                policy_links,
            ),
            exposures,
            modifications: self.modifications(),
            fees: record
                .fees
                .iter()
                .map(|fee| WireFee {
                    locator: fee.locator.clone(),
                    name: fee.name.clone(),
                    description: fee.description.clone(),
                    amount: Some(fee.amount.to_string()),
                    amount_currency: Some(policy.currency.clone()),
                    reversed: fee.reversed,
                })
                .collect(),
            invoices: Vec::new(),
            documents: Vec::new(),
            media_by_locator: BTreeMap::new(),
            tax_groups: Vec::new(),
        }
    }
}

fn exposure_modification(exposure: &str) -> WireExposureModification {
    WireExposureModification {
        exposure_locator: exposure.to_string(),
        new_exposure_characteristics_locator: None,
        peril_modifications: Vec::new(),
    }
}

impl ExternalRateRequest {
    /// Socotra's request for `request`, without a policy record.
    ///
    /// Fails as [`ExternalRateRequest::from_rating_call`] does.
    pub fn from_rate_request(
        request: &RateRequest,
        locators: &CallLocators,
    ) -> Result<Self, RatingError> {
        Self::from_rating_call(request, &RatingCall::from(locators.clone()))
    }

    /// Socotra's request for `request`, with the locators and the policy
    /// record of `call`.
    ///
    /// Fails with [`RatingError::InvalidInput`] when the request cannot be
    /// said in Socotra's format: a cancellation, an unknown time zone, an
    /// item without exposure or peril characteristics (Socotra prices perils
    /// only), an item naming characteristics the policy does not have, or
    /// two items pricing the same peril characteristics.
    pub fn from_rating_call(request: &RateRequest, call: &RatingCall) -> Result<Self, RatingError> {
        let locators = &call.locators;
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
            policy: Builder::new(request, &call.record, tz).policy(),
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

    fn peril_json(wire: &ExternalRateRequest, index: usize) -> serde_json::Value {
        serde_json::to_value(&wire.policy.exposures[0].perils[index].characteristics[0]).unwrap()
    }

    #[test]
    fn built_in_peril_properties_are_sent_top_level_with_their_currency() {
        let mut request = sample_request();
        let fields = &mut request.policy.exposures[0].perils[1].characteristics.fields;
        fields.insert(
            "indemnityPerEvent".into(),
            vec![FieldValue::Integer(100_000)],
        );
        fields.insert(
            "indemnityPerEventCurrency".into(),
            vec![FieldValue::Text("CAD".into())],
        );
        fields.insert(
            "lumpSumPayment".into(),
            vec![FieldValue::Integer(1), FieldValue::Integer(2)],
        );
        let wire =
            ExternalRateRequest::from_rate_request(&request, &CallLocators::default()).unwrap();
        let collision = peril_json(&wire, 0);
        assert_eq!(collision["deductible"], "500.00");
        assert_eq!(collision["deductibleCurrency"], "USD");
        assert_eq!(collision["fieldValues"], json!({}));
        let liability = peril_json(&wire, 1);
        assert_eq!(liability["indemnityPerEvent"], "100000");
        assert_eq!(liability["indemnityPerEventCurrency"], "CAD");
        // Two values cannot be one property: they stay field values.
        assert_eq!(liability.get("lumpSumPayment"), None);
        assert_eq!(
            liability["fieldValues"],
            json!({"limits": ["100000", "300000"], "lumpSumPayment": ["1", "2"]})
        );
    }

    #[test]
    fn a_policy_field_named_deductible_stays_a_field_value() {
        let mut request = sample_request();
        request.policy.characteristics.fields.insert(
            "deductible".into(),
            vec![FieldValue::Number { number: dec!(250) }],
        );
        let wire =
            ExternalRateRequest::from_rate_request(&request, &CallLocators::default()).unwrap();
        let policy = serde_json::to_value(&wire.policy.characteristics[0]).unwrap();
        assert_eq!(policy["fieldValues"]["deductible"], json!(["250"]));
        assert_eq!(policy.get("deductible"), None);
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn record() -> PolicyRecord {
        use super::super::record::{Modification, RecordedFee};
        let fields = |amount: &str| {
            BTreeMap::from([(
                "deductible".to_string(),
                vec![FieldValue::Text(amount.into())],
            )])
        };
        PolicyRecord {
            policyholder_locator: Some("A1".into()),
            product_locator: Some("auto:3".into()),
            created: Some(at("2024-12-15T12:00:00Z")),
            updated: Some(at("2025-02-20T09:30:00Z")),
            issued: Some(at("2024-12-15T12:00:00Z")),
            inception: Some(date("2024-01-01")),
            original_end: Some(date("2025-01-01")),
            payment_schedule_name: Some("monthly".into()),
            modifications: vec![Modification {
                locator: "P1-T3".into(),
                number: 3,
                name: "endorsement".into(),
                created: at("2025-02-20T09:30:00Z"),
                effective: date("2025-03-01"),
                new_characteristics: vec![
                    (Owner::Policy, "P1:2025-03-01".into()),
                    (Owner::Exposure("E1".into()), "E1:2025-03-01".into()),
                    (
                        Owner::Peril {
                            exposure: "E1".into(),
                            peril: "PER1".into(),
                        },
                        "PER1:2025-03-01".into(),
                    ),
                ],
            }],
            fees: vec![RecordedFee {
                locator: "P1-T1-C9".into(),
                name: "policy-fee".into(),
                description: "policy-fee".into(),
                amount: dec!(25.00),
                reversed: false,
            }],
            characteristics: vec![RecordedCharacteristics {
                owner: Owner::Peril {
                    exposure: "E1".into(),
                    peril: "PER1".into(),
                },
                locator: "PER1:2025-01-01~P1-T3".into(),
                period: crate::rating::Segment {
                    start: date("2025-01-01"),
                    end: date("2026-01-01"),
                },
                term: crate::rating::Segment {
                    start: date("2025-01-01"),
                    end: date("2026-01-01"),
                },
                fields: fields("1000").into(),
                policy_characteristics: "P1:2025-01-01".into(),
                exposure_characteristics: Some("E1:2025-01-01".into()),
                issued: Some(at("2024-12-15T12:00:00Z")),
                replaced: Some(at("2025-02-20T09:30:00Z")),
                premium: Some(dec!(900.00)),
                technical_premium: Some(dec!(800.00)),
            }],
        }
    }

    #[test]
    fn the_policy_record_fills_socotras_policy_response() {
        let mut request = sample_request();
        request.operation = Operation::Renewal;
        let call = RatingCall {
            locators: CallLocators::default(),
            record: record(),
        };
        let wire =
            serde_json::to_value(ExternalRateRequest::from_rating_call(&request, &call).unwrap())
                .unwrap();
        let policy = &wire["policy"];
        assert_eq!(policy["displayId"], "P1");
        assert_eq!(policy["policyholderLocator"], "A1");
        assert_eq!(policy["productLocator"], "auto:3");
        // 2024-12-15T12:00:00Z and 2025-02-20T09:30:00Z.
        assert_eq!(policy["createdTimestamp"], "1734264000000");
        assert_eq!(policy["issuedTimestamp"], "1734264000000");
        assert_eq!(policy["updatedTimestamp"], "1740043800000");
        // The inception (2024-01-01 in New York), not the term's start.
        assert_eq!(policy["originalContractStartTimestamp"], "1704085200000");
        assert_eq!(policy["originalContractEndTimestamp"], "1735707600000");
        assert_eq!(policy["effectiveContractEndTimestamp"], "1767243600000");
        assert_eq!(policy["paymentScheduleName"], "monthly");
        assert_eq!(
            policy["modifications"],
            json!([{
                "locator": "P1-T3", "displayId": "P1-T3", "policyLocator": "P1",
                "number": 3, "name": "endorsement",
                "createdTimestamp": "1740043800000",
                "effectiveTimestamp": "1740805200000",
                "newPolicyCharacteristicsLocators": ["P1:2025-03-01"],
                "exposureModifications": [{
                    "exposureLocator": "E1",
                    "newExposureCharacteristicsLocator": "E1:2025-03-01",
                    "perilModifications": [{
                        "perilLocator": "PER1",
                        "newPerilCharacteristicsLocator": "PER1:2025-03-01"
                    }]
                }]
            }])
        );
        assert_eq!(
            policy["fees"],
            json!([{"locator": "P1-T1-C9", "name": "policy-fee", "description": "policy-fee",
                    "amount": "25.00", "amountCurrency": "USD", "reversed": false}])
        );
        assert_eq!(policy["invoices"], json!([]));
        assert_eq!(policy["documents"], json!([]));
        assert_eq!(policy["mediaByLocator"], json!({}));
        assert_eq!(policy["taxGroups"], json!([]));
        let collision = &policy["exposures"][0]["perils"][0];
        assert_eq!(collision["renewalGroup"], "PER1");
        assert_eq!(
            collision["characteristics"][0],
            json!({
                "locator": "PER1:2025-01-01~P1-T3",
                "policyLocator": "P1",
                "exposureLocator": "E1",
                "perilLocator": "PER1",
                "policyCharacteristicsLocator": "P1:2025-01-01",
                "exposureCharacteristicsLocator": "E1:2025-01-01",
                "startTimestamp": "1735707600000",
                "endTimestamp": "1767243600000",
                "coverageStartTimestamp": "1735707600000",
                "coverageEndTimestamp": "1767243600000",
                "issuedTimestamp": "1734264000000",
                "replacedTimestamp": "1740043800000",
                "premium": "900.00",
                "technicalPremium": "800.00",
                "deductible": "1000",
                "deductibleCurrency": "USD",
                "fieldValues": {},
                "fieldGroupsByLocator": {}
            })
        );
        // The characteristics priced are last.
        assert_eq!(
            collision["characteristics"][1]["locator"],
            "PER1:2025-03-01"
        );
        assert_eq!(collision["characteristics"].as_array().unwrap().len(), 2);
    }
}
