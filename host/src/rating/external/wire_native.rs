//! The other direction of seed 004's wire format: reading a Socotra
//! external-rater request as a native [`RateRequest`] and writing a native
//! answer as Socotra's response. This lets any Premia rater (a WASM plugin,
//! say) serve as an external rater for Socotra or for another Premia: see
//! `premia rater serve`.
//!
//! Rules:
//! - Millisecond timestamps become dates in `tenantTimeZone`
//!   (`"1735707600000"` in `America/New_York` is `2025-01-01`).
//! - A characteristics object's span is its coverage timestamps when it has
//!   them, else its `startTimestamp`/`endTimestamp`: Socotra's peril
//!   characteristics may carry only `coverageStartTimestamp` and
//!   `coverageEndTimestamp`.
//! - Field values stay text, as Socotra sends them; the plugin SDK's typed
//!   accessors read `"30"` as the integer 30. Socotra's built-in peril
//!   properties (`deductible`, `indemnityPerEvent` ... and their
//!   `*Currency`) become fields of those names, unless a field already has
//!   the name: `"deductible": "500.00"` is the field `deductible =
//!   ["500.00"]`.
//! - The currency is `policy.currency`, else the server's default currency
//!   (`premia rater serve --default-currency USD`).
//! - The policy, each exposure and each peril take the characteristics the
//!   request's `policyExposurePerils` name (else their last ones); each named
//!   peril characteristics is one item, priced over its coverage span. An
//!   item is named by its peril's locator, as in Premia's own requests (by
//!   its peril characteristics locator when one request prices two
//!   characteristics of the same peril); the answer maps it back.
//! - A priced item answers `yearlyPremium`/`exactPremium`, the technical
//!   premium likewise, and commissions with `yearlyAmount`/`exactAmount`; a
//!   decline answers `exceptionMessage`. Flat charges have no place in
//!   Socotra's response and are left out.

use super::request::{ExternalRateRequest, WireCharacteristics};
use crate::rating::{
    Characteristics, Exposure, FieldValue, Operation, Peril, Policy, Premium, RateItem,
    RateRequest, RateResponse, Segment,
};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

/// Why a Socotra request cannot be read as a native request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadRequestError {
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    #[error("timestamp {0:?} is not milliseconds since the epoch")]
    NotATimestamp(String),
    #[error("timestamp {0} is out of range")]
    TimestampOutOfRange(i64),
    #[error("unknown operation {0:?}")]
    UnknownOperation(String),
    #[error("{0} has no characteristics")]
    NoCharacteristics(String),
    #[error("characteristics {locator} have no {which} timestamp (coverage or own)")]
    NoTimestamp {
        locator: String,
        which: &'static str,
    },
    #[error("policy {0} has no currency and the server has no default currency")]
    NoCurrency(String),
}

fn date_of(millis: &str, tz: Tz) -> Result<NaiveDate, ReadRequestError> {
    let value: i64 = millis
        .trim()
        .parse()
        .map_err(|_| ReadRequestError::NotATimestamp(millis.to_string()))?;
    tz.timestamp_millis_opt(value)
        .single()
        .map(|t| t.date_naive())
        .ok_or(ReadRequestError::TimestampOutOfRange(value))
}

fn operation_of(name: &str) -> Result<Operation, ReadRequestError> {
    Ok(match name {
        "new_business" => Operation::NewBusiness,
        "endorsement" => Operation::Endorsement,
        "renewal" => Operation::Renewal,
        "reinstatement" => Operation::Reinstatement,
        other => return Err(ReadRequestError::UnknownOperation(other.to_string())),
    })
}

/// The coverage timestamp if given, else the characteristics' own.
fn timestamp<'a>(
    chosen: &WireCharacteristics,
    coverage: &'a Option<String>,
    own: &'a Option<String>,
    which: &'static str,
) -> Result<&'a str, ReadRequestError> {
    coverage
        .as_deref()
        .or(own.as_deref())
        .ok_or_else(|| ReadRequestError::NoTimestamp {
            locator: chosen.locator.clone(),
            which,
        })
}

fn characteristics(
    list: &[WireCharacteristics],
    named: &[&str],
    tz: Tz,
    owner: &str,
) -> Result<Characteristics, ReadRequestError> {
    let chosen = list
        .iter()
        .find(|c| named.contains(&c.locator.as_str()))
        .or_else(|| list.last())
        .ok_or_else(|| ReadRequestError::NoCharacteristics(owner.to_string()))?;
    let start = timestamp(
        chosen,
        &chosen.coverage_start_timestamp,
        &chosen.start_timestamp,
        "start",
    )?;
    let end = timestamp(
        chosen,
        &chosen.coverage_end_timestamp,
        &chosen.end_timestamp,
        "end",
    )?;
    let mut fields: BTreeMap<String, Vec<FieldValue>> = chosen
        .field_values
        .iter()
        .map(|(name, values)| {
            (
                name.clone(),
                values.iter().map(|v| FieldValue::Text(v.clone())).collect(),
            )
        })
        .collect();
    for (name, value) in chosen.built_in.iter() {
        fields
            .entry(name)
            .or_insert_with(|| vec![FieldValue::Text(value.clone())]);
    }
    Ok(Characteristics {
        locator: chosen.locator.clone(),
        period: Segment {
            start: date_of(start, tz)?,
            end: date_of(end, tz)?,
        },
        fields: fields.into(),
    })
}

impl ExternalRateRequest {
    /// The native request this wire request asks for; a request without
    /// `policy.currency` is refused.
    pub fn to_rate_request(&self) -> Result<RateRequest, ReadRequestError> {
        self.to_rate_request_with(None)
    }

    /// The native request this wire request asks for, in
    /// `default_currency` when the policy names none.
    ///
    /// Example: a request whose peril characteristics `PER1:c1` of peril
    /// `PER1` carries only `coverageStartTimestamp` 1735707600000 and
    /// `coverageEndTimestamp` 1767243600000 in `America/New_York`, and
    /// `"deductible": "500"`, gives item `PER1` priced over [2025-01-01,
    /// 2026-01-01) with the peril field `deductible = ["500"]`.
    pub fn to_rate_request_with(
        &self,
        default_currency: Option<&str>,
    ) -> Result<RateRequest, ReadRequestError> {
        let tz: Tz = self
            .tenant_time_zone
            .parse()
            .map_err(|_| ReadRequestError::UnknownTimeZone(self.tenant_time_zone.clone()))?;
        let named_policy: Vec<&str> = self
            .policy_exposure_perils
            .iter()
            .map(|p| p.policy_characteristics_locator.as_str())
            .collect();
        let named_exposures: Vec<&str> = self
            .policy_exposure_perils
            .iter()
            .map(|p| p.exposure_characteristics_locator.as_str())
            .collect();
        let named_perils: Vec<&str> = self
            .policy_exposure_perils
            .iter()
            .map(|p| p.peril_characteristics_locator.as_str())
            .collect();
        let wire = &self.policy;
        let currency = wire
            .currency
            .clone()
            .or_else(|| default_currency.map(str::to_string))
            .ok_or_else(|| ReadRequestError::NoCurrency(wire.locator.clone()))?;
        let exposures = wire
            .exposures
            .iter()
            .map(|exposure| {
                let perils = exposure
                    .perils
                    .iter()
                    .map(|peril| {
                        Ok(Peril {
                            locator: peril.locator.clone(),
                            name: peril.name.clone(),
                            characteristics: characteristics(
                                &peril.characteristics,
                                &named_perils,
                                tz,
                                &peril.locator,
                            )?,
                        })
                    })
                    .collect::<Result<Vec<_>, ReadRequestError>>()?;
                Ok(Exposure {
                    locator: exposure.locator.clone(),
                    name: exposure.name.clone(),
                    characteristics: characteristics(
                        &exposure.characteristics,
                        &named_exposures,
                        tz,
                        &exposure.locator,
                    )?,
                    perils,
                })
            })
            .collect::<Result<Vec<_>, ReadRequestError>>()?;
        let policy = Policy {
            locator: wire.locator.clone(),
            product_name: wire.product_name.clone(),
            currency: currency.clone(),
            time_zone: self.tenant_time_zone.clone(),
            term: Segment {
                start: date_of(&wire.original_contract_start_timestamp, tz)?,
                end: date_of(&wire.effective_contract_end_timestamp, tz)?,
            },
            characteristics: characteristics(
                &wire.characteristics,
                &named_policy,
                tz,
                &wire.locator,
            )?,
            exposures,
        };
        // Peril characteristics locator to (peril locator, span).
        let perils: HashMap<&str, (&str, Segment)> = policy
            .exposures
            .iter()
            .flat_map(|e| &e.perils)
            .map(|p| {
                (
                    p.characteristics.locator.as_str(),
                    (p.locator.as_str(), p.characteristics.period),
                )
            })
            .collect();
        let mut per_peril: HashMap<&str, usize> = HashMap::new();
        for named in &named_perils {
            if let Some((peril, _)) = perils.get(named) {
                *per_peril.entry(peril).or_default() += 1;
            }
        }
        let items = self
            .policy_exposure_perils
            .iter()
            .map(|p| {
                let characteristics = p.peril_characteristics_locator.as_str();
                let locator = match perils.get(characteristics) {
                    Some((peril, _)) if per_peril.get(peril) == Some(&1) => peril.to_string(),
                    _ => characteristics.to_string(),
                };
                RateItem {
                    locator,
                    policy_characteristics: p.policy_characteristics_locator.clone(),
                    exposure_characteristics: Some(p.exposure_characteristics_locator.clone()),
                    peril_characteristics: Some(characteristics.to_string()),
                }
            })
            .collect::<Vec<_>>();
        let segment = items
            .first()
            .and_then(|i| perils.get(i.peril_characteristics.as_deref()?))
            .map(|(_, span)| *span)
            .unwrap_or(policy.term);
        Ok(RateRequest {
            operation: operation_of(&self.operation)?,
            currency,
            time_zone: self.tenant_time_zone.clone(),
            policy,
            items,
            segment,
        })
    }
}

fn put_premium(entry: &mut Map<String, Value>, yearly: &str, exact: &str, premium: &Premium) {
    match premium {
        Premium::Yearly(amount) => entry.insert(yearly.into(), json!(amount.to_string())),
        Premium::Exact(amount) => entry.insert(exact.into(), json!(amount.to_string())),
    };
}

/// Socotra's response body for `response`, the answer to `request`: each
/// item is keyed by the peril characteristics locator it prices.
pub fn priced_wire_response(request: &RateRequest, response: &RateResponse) -> Value {
    let characteristics: HashMap<&str, &str> = request
        .items
        .iter()
        .filter_map(|i| Some((i.locator.as_str(), i.peril_characteristics.as_deref()?)))
        .collect();
    let mut priced = Map::new();
    for item in &response.items {
        let mut entry = Map::new();
        put_premium(&mut entry, "yearlyPremium", "exactPremium", &item.premium);
        if let Some(technical) = &item.technical_premium {
            put_premium(
                &mut entry,
                "yearlyTechnicalPremium",
                "exactTechnicalPremium",
                technical,
            );
        }
        if !item.commissions.is_empty() {
            let commissions: Vec<Value> = item
                .commissions
                .iter()
                .map(|c| {
                    let mut commission = Map::new();
                    commission.insert("recipient".into(), json!(c.recipient));
                    put_premium(&mut commission, "yearlyAmount", "exactAmount", &c.amount);
                    Value::Object(commission)
                })
                .collect();
            entry.insert("commissions".into(), Value::Array(commissions));
        }
        let key = characteristics
            .get(item.locator.as_str())
            .copied()
            .unwrap_or(&item.locator);
        priced.insert(key.to_string(), Value::Object(entry));
    }
    json!({ "pricedPerilCharacteristics": priced })
}

/// Socotra's response body for a declined or failed request: an empty
/// `pricedPerilCharacteristics` (a required property) and the
/// `exceptionMessage`, which Socotra (and Premia's client) report as HTTP
/// 409 with that message.
pub fn declined_wire_response(message: &str) -> Value {
    json!({ "pricedPerilCharacteristics": {}, "exceptionMessage": message })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::external::request::{CallLocators, ExternalRateRequest};
    use crate::rating::external::response::{Answer, read_answer};
    use crate::rating::external::test_support::sample_request;
    use crate::rating::{Commission, PricedItem};
    use rust_decimal_macros::dec;

    #[test]
    fn a_request_read_back_from_the_wire_keeps_dates_items_and_fields_as_text() {
        let native = sample_request();
        let wire =
            ExternalRateRequest::from_rate_request(&native, &CallLocators::default()).unwrap();
        let back = wire.to_rate_request().unwrap();
        assert_eq!(back.operation, native.operation);
        assert_eq!(back.policy.term, native.policy.term);
        assert_eq!(back.segment, native.segment);
        assert_eq!(back.items.len(), native.items.len());
        assert_eq!(
            back.items[0].peril_characteristics,
            native.items[0].peril_characteristics
        );
        let peril = &back.policy.exposures[0].perils[0].characteristics;
        assert_eq!(
            peril.locator,
            native.policy.exposures[0].perils[0].characteristics.locator
        );
        for values in back.policy.exposures[0].characteristics.fields.values() {
            assert!(values.iter().all(|v| matches!(v, FieldValue::Text(_))));
        }
    }

    #[test]
    fn a_native_answer_written_to_the_wire_reads_back_the_same() {
        // Served requests name each item by its peril characteristics.
        let mut request = sample_request();
        let locator = request.items[0].peril_characteristics.clone().unwrap();
        request.items[0].locator = locator.clone();
        let response = RateResponse {
            items: vec![PricedItem {
                locator: locator.clone(),
                charge: None,
                premium: Premium::Yearly(dec!(765.00)),
                technical_premium: Some(Premium::Exact(dec!(12.00))),
                commissions: vec![Commission {
                    recipient: "agency-7".into(),
                    amount: Premium::Yearly(dec!(76.50)),
                }],
            }],
            flat_charges: vec![],
        };
        let body = priced_wire_response(&request, &response);
        assert_eq!(
            body["pricedPerilCharacteristics"][&locator]["yearlyPremium"],
            "765.00"
        );
        assert_eq!(
            body["pricedPerilCharacteristics"][&locator]["exactTechnicalPremium"],
            "12.00"
        );
        let mut one_item = request.clone();
        one_item.items.truncate(1);
        let answer = read_answer(&one_item, body.to_string().as_bytes()).unwrap();
        assert_eq!(answer, Answer::Priced(response));
        let declined = declined_wire_response("driver too young");
        assert_eq!(
            read_answer(&one_item, declined.to_string().as_bytes()).unwrap(),
            Answer::Declined("driver too young".into())
        );
    }

    /// The sample request as Socotra would send it, edited by `edit`.
    fn wire(edit: impl FnOnce(&mut Value)) -> ExternalRateRequest {
        let mut body = crate::rating::external::test_support::expected_wire_json(json!({}));
        edit(&mut body);
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn a_peril_with_only_coverage_timestamps_is_priced_over_its_coverage() {
        let request = wire(|body| {
            for peril in body["policy"]["exposures"][0]["perils"]
                .as_array_mut()
                .unwrap()
            {
                let c = peril["characteristics"][0].as_object_mut().unwrap();
                c.remove("startTimestamp");
                c.remove("endTimestamp");
                // 2025-06-01 to 2025-12-01 in New York.
                c.insert("coverageStartTimestamp".into(), json!("1748750400000"));
                c.insert("coverageEndTimestamp".into(), json!("1764565200000"));
            }
        });
        let native = request.to_rate_request().unwrap();
        let span = Segment {
            start: "2025-06-01".parse().unwrap(),
            end: "2025-12-01".parse().unwrap(),
        };
        assert_eq!(native.segment, span);
        assert_eq!(
            native.policy.exposures[0].perils[0].characteristics.period,
            span
        );
        assert_eq!(
            native
                .items
                .iter()
                .map(|i| i.locator.as_str())
                .collect::<Vec<_>>(),
            vec!["PER1", "PER2"]
        );
    }

    #[test]
    fn characteristics_without_any_start_are_refused_by_name() {
        let request = wire(|body| {
            let c = body["policy"]["exposures"][0]["perils"][0]["characteristics"][0]
                .as_object_mut()
                .unwrap();
            c.remove("startTimestamp");
            c.remove("coverageStartTimestamp");
        });
        assert_eq!(
            request.to_rate_request(),
            Err(ReadRequestError::NoTimestamp {
                locator: "PER1:2025-03-01".into(),
                which: "start"
            })
        );
    }

    #[test]
    fn built_in_peril_properties_are_read_back_as_fields() {
        let request = wire(|body| {
            let c = body["policy"]["exposures"][0]["perils"][1]["characteristics"][0]
                .as_object_mut()
                .unwrap();
            c.insert("indemnityInAggregate".into(), json!(300000));
            c.insert("lumpSumPayment".into(), json!("50.00"));
            c.insert("lumpSumPaymentCurrency".into(), json!("EUR"));
        });
        let native = request.to_rate_request().unwrap();
        let text = |v: &str| vec![FieldValue::Text(v.into())];
        let collision = &native.policy.exposures[0].perils[0].characteristics.fields;
        assert_eq!(collision.get("deductible"), Some(&text("500.00")));
        assert_eq!(collision.get("deductibleCurrency"), Some(&text("USD")));
        let liability = &native.policy.exposures[0].perils[1].characteristics.fields;
        assert_eq!(liability.get("indemnityInAggregate"), Some(&text("300000")));
        assert_eq!(liability.get("lumpSumPayment"), Some(&text("50.00")));
        assert_eq!(liability.get("lumpSumPaymentCurrency"), Some(&text("EUR")));
        assert_eq!(liability.get("deductible"), None);
    }

    #[test]
    fn a_policy_without_a_currency_takes_the_default_currency_or_is_refused() {
        let request = wire(|body| {
            body["policy"].as_object_mut().unwrap().remove("currency");
        });
        let native = request.to_rate_request_with(Some("CAD")).unwrap();
        assert_eq!(native.currency, "CAD");
        assert_eq!(native.policy.currency, "CAD");
        assert_eq!(
            request.to_rate_request(),
            Err(ReadRequestError::NoCurrency("P1".into()))
        );
    }
}
