//! The other direction of seed 004's wire format: reading a Socotra
//! external-rater request as a native [`RateRequest`] and writing a native
//! answer as Socotra's response. This lets any Premia rater (a WASM plugin,
//! say) serve as an external rater for Socotra or for another Premia: see
//! `premia rater serve`.
//!
//! Rules:
//! - Millisecond timestamps become dates in `tenantTimeZone`
//!   (`"1735707600000"` in `America/New_York` is `2025-01-01`).
//! - Field values stay text, as Socotra sends them; the plugin SDK's typed
//!   accessors read `"30"` as the integer 30.
//! - The policy, each exposure and each peril take the characteristics the
//!   request's `policyExposurePerils` name (else their last ones); each named
//!   peril characteristics is one item, priced over its coverage span.
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
use std::collections::BTreeMap;

fn date_of(millis: &str, tz: Tz) -> Result<NaiveDate, String> {
    let millis: i64 = millis
        .parse()
        .map_err(|_| format!("timestamp {millis:?} is not milliseconds since the epoch"))?;
    tz.timestamp_millis_opt(millis)
        .single()
        .map(|t| t.date_naive())
        .ok_or_else(|| format!("timestamp {millis} is out of range"))
}

fn operation_of(name: &str) -> Result<Operation, String> {
    Ok(match name {
        "new_business" => Operation::NewBusiness,
        "endorsement" => Operation::Endorsement,
        "renewal" => Operation::Renewal,
        "reinstatement" => Operation::Reinstatement,
        other => return Err(format!("unknown operation {other:?}")),
    })
}

fn characteristics(
    list: &[WireCharacteristics],
    named: &[&str],
    tz: Tz,
    owner: &str,
) -> Result<Characteristics, String> {
    let chosen = list
        .iter()
        .find(|c| named.contains(&c.locator.as_str()))
        .or_else(|| list.last())
        .ok_or_else(|| format!("{owner} has no characteristics"))?;
    let start = chosen
        .coverage_start_timestamp
        .as_deref()
        .unwrap_or(&chosen.start_timestamp);
    let end = chosen
        .coverage_end_timestamp
        .as_deref()
        .unwrap_or(&chosen.end_timestamp);
    let fields: BTreeMap<String, Vec<FieldValue>> = chosen
        .field_values
        .iter()
        .map(|(name, values)| {
            (
                name.clone(),
                values.iter().map(|v| FieldValue::Text(v.clone())).collect(),
            )
        })
        .collect();
    Ok(Characteristics {
        locator: chosen.locator.clone(),
        period: Segment {
            start: date_of(start, tz)?,
            end: date_of(end, tz)?,
        },
        fields,
    })
}

impl ExternalRateRequest {
    /// The native request this wire request asks for.
    pub fn to_rate_request(&self) -> Result<RateRequest, String> {
        let tz: Tz = self
            .tenant_time_zone
            .parse()
            .map_err(|_| format!("unknown time zone {:?}", self.tenant_time_zone))?;
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
                    .collect::<Result<Vec<_>, String>>()?;
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
            .collect::<Result<Vec<_>, String>>()?;
        let policy = Policy {
            locator: wire.locator.clone(),
            product_name: wire.product_name.clone(),
            currency: wire.currency.clone(),
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
        let peril_spans: BTreeMap<&str, Segment> = policy
            .exposures
            .iter()
            .flat_map(|e| &e.perils)
            .map(|p| (p.characteristics.locator.as_str(), p.characteristics.period))
            .collect();
        let items = self
            .policy_exposure_perils
            .iter()
            .map(|p| RateItem {
                locator: p.peril_characteristics_locator.clone(),
                policy_characteristics: p.policy_characteristics_locator.clone(),
                exposure_characteristics: Some(p.exposure_characteristics_locator.clone()),
                peril_characteristics: Some(p.peril_characteristics_locator.clone()),
            })
            .collect::<Vec<_>>();
        let segment = items
            .first()
            .and_then(|i| peril_spans.get(i.locator.as_str()).copied())
            .unwrap_or(policy.term);
        Ok(RateRequest {
            operation: operation_of(&self.operation)?,
            currency: policy.currency.clone(),
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

/// Socotra's response body for a priced request.
pub fn priced_wire_response(response: &RateResponse) -> Value {
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
        priced.insert(item.locator.clone(), Value::Object(entry));
    }
    json!({ "pricedPerilCharacteristics": priced })
}

/// Socotra's response body for a declined request.
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
        let body = priced_wire_response(&response);
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
}
