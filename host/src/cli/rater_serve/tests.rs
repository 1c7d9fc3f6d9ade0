//! `premia rater serve` behind Premia's own external-rater client, and the
//! Socotra answers it gives to every kind of failure.

use super::*;
use crate::rating::external::test_support::{sample_request, serve};
use crate::rating::{
    ExternalRater, ExternalRaterConfig, FieldValue, Premium, PricedItem, RateRequest, RateResponse,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;
use std::str::FromStr;

/// Prices each requested peril from its `deductible` field: 1200.00 a
/// year less a tenth of the deductible, with a technical premium 200.00
/// lower. Declines when the policy has a `decline` field.
///
/// Example: a deductible of 500.00 is priced 1150.00 yearly, technical
/// 950.00.
struct DeductibleRater;

impl Rater for DeductibleRater {
    fn rate(&self, request: &RateRequest) -> Result<RateResponse, RatingError> {
        if let Some(reason) = request.policy.characteristics.fields.get("decline") {
            return Err(RatingError::Declined(format!("{reason:?}")));
        }
        let mut items = Vec::new();
        for item in &request.items {
            let peril = request
                .policy
                .exposures
                .iter()
                .flat_map(|e| &e.perils)
                .find(|p| Some(&p.characteristics.locator) == item.peril_characteristics.as_ref())
                .ok_or_else(|| {
                    RatingError::InvalidInput(format!("no peril for {}", item.locator))
                })?;
            let deductible = match peril
                .characteristics
                .fields
                .get("deductible")
                .map(Vec::as_slice)
            {
                Some([FieldValue::Text(text)]) => Decimal::from_str(text).ok(),
                Some([FieldValue::Number { number }]) => Some(*number),
                Some([FieldValue::Integer(i)]) => Some(Decimal::from(*i)),
                _ => None,
            }
            .ok_or_else(|| {
                RatingError::InvalidInput(format!("peril {} has no deductible", peril.locator))
            })?;
            let yearly = (dec!(1200.00) - deductible / dec!(10)).round_dp(2);
            items.push(PricedItem {
                locator: item.locator.clone(),
                charge: None,
                premium: Premium::Yearly(yearly),
                technical_premium: Some(Premium::Yearly(yearly - dec!(200.00))),
                commissions: Vec::new(),
            });
        }
        Ok(RateResponse {
            items,
            flat_charges: Vec::new(),
        })
    }

    fn identity(&self) -> crate::rating::RaterIdentity {
        crate::rating::RaterIdentity::Native {
            name: "deductible".into(),
        }
    }
}

fn client(address: SocketAddr) -> ExternalRater {
    ExternalRater::new(&ExternalRaterConfig::new(
        "served",
        format!("http://{address}/rate"),
    ))
    .unwrap()
}

fn served(options: ServeOptions) -> SocketAddr {
    serve(router_for(Arc::new(DeductibleRater), options))
}

/// The sample request with a deductible of 1000 on the liability peril too.
fn with_deductibles() -> RateRequest {
    let mut request = sample_request();
    request.policy.exposures[0].perils[1]
        .characteristics
        .fields
        .insert("deductible".into(), vec![FieldValue::Integer(1000)]);
    request
}

#[test]
fn a_deductible_sent_by_premia_reaches_the_served_rater_as_a_field_and_prices_right() {
    let address = served(ServeOptions::default());
    let response = client(address).rate(&with_deductibles()).unwrap();
    assert_eq!(
        response.items,
        vec![
            PricedItem {
                locator: "PER1".into(),
                charge: None,
                premium: Premium::Yearly(dec!(1150.00)),
                technical_premium: Some(Premium::Yearly(dec!(950.00))),
                commissions: Vec::new(),
            },
            PricedItem {
                locator: "PER2".into(),
                charge: None,
                premium: Premium::Yearly(dec!(1100.00)),
                technical_premium: Some(Premium::Yearly(dec!(900.00))),
                commissions: Vec::new(),
            },
        ]
    );
}

fn answered(options: &ServeOptions, body: &[u8]) -> Value {
    answer(&DeductibleRater, options, body)
}

fn exception(message: &str) -> Value {
    json!({"pricedPerilCharacteristics": {}, "exceptionMessage": message})
}

#[test]
fn a_body_that_is_not_json_is_answered_with_an_exception_message() {
    assert_eq!(
        answered(&ServeOptions::default(), b"<html>"),
        exception("not a rating request: expected value at line 1 column 1")
    );
}

#[test]
fn a_request_missing_its_policy_is_answered_with_an_exception_message() {
    assert_eq!(
        answered(
            &ServeOptions::default(),
            br#"{"operation": "new_business", "policyExposurePerils": [], "tenantTimeZone": "UTC"}"#
        ),
        exception(
            "not a rating request: missing field `policy` at line 1 column 82"
        )
    );
}

fn wire_body(request: &RateRequest, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let wire =
        ExternalRateRequest::from_rate_request(request, &crate::rating::CallLocators::default())
            .unwrap();
    let mut body = serde_json::to_value(wire).unwrap();
    edit(&mut body);
    serde_json::to_vec(&body).unwrap()
}

#[test]
fn a_policy_without_a_currency_uses_the_default_currency_or_is_answered_with_an_exception() {
    let body = wire_body(&with_deductibles(), |body| {
        body["policy"].as_object_mut().unwrap().remove("currency");
    });
    assert_eq!(
        answered(&ServeOptions::default(), &body),
        exception(
            "not a rating request: policy P1 has no currency and the server has no default currency"
        )
    );
    let options = ServeOptions {
        default_currency: Some("USD".into()),
        ..ServeOptions::default()
    };
    assert_eq!(
        answered(&options, &body)["pricedPerilCharacteristics"]["PER1:2025-03-01"],
        json!({"yearlyPremium": "1150.00", "yearlyTechnicalPremium": "950.00"})
    );
}

#[test]
fn a_rater_error_and_a_decline_are_answered_with_exception_messages() {
    // The liability peril has no deductible: the rater refuses the input.
    let body = wire_body(&sample_request(), |_| {});
    assert_eq!(
        answered(&ServeOptions::default(), &body),
        exception("invalid rating input: peril PER2 has no deductible")
    );
    let mut declined = with_deductibles();
    declined
        .policy
        .characteristics
        .fields
        .insert("decline".into(), vec![FieldValue::Text("too young".into())]);
    assert_eq!(
        answered(&ServeOptions::default(), &wire_body(&declined, |_| {})),
        exception(r#"[Text("too young")]"#)
    );
}

#[test]
fn a_body_over_the_limit_is_http_200_with_an_exception_message() {
    let address = served(ServeOptions {
        max_request_bytes: 100,
        ..ServeOptions::default()
    });
    crate::rating::external::install_tls_provider();
    let reply = reqwest::blocking::Client::new()
        .post(format!("http://{address}/rate"))
        .body(" ".repeat(101))
        .send()
        .unwrap();
    let status = reply.status().as_u16();
    let text = reply.text().unwrap();
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        exception("the request could not be read (at most 100 bytes are): length limit exceeded")
    );
}

#[test]
fn every_failure_is_http_200_and_premia_reads_it_as_a_decline() {
    let address = served(ServeOptions::default());
    crate::rating::external::install_tls_provider();
    let http = reqwest::blocking::Client::new();
    let reply = http
        .post(format!("http://{address}/any/path"))
        .body("{")
        .send()
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(
        reply.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let body: Value = reply.json().unwrap();
    assert_eq!(
        body,
        exception("not a rating request: EOF while parsing an object at line 1 column 1")
    );
    // Premia's client turns the exception message into a decline (HTTP 409
    // from Premia's API).
    assert_eq!(
        client(address).rate(&sample_request()),
        Err(RatingError::Declined(
            "invalid rating input: peril PER2 has no deductible".into()
        ))
    );
}

fn golden(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

const NEW_BUSINESS: &str = include_str!("../../rating/external/golden/new_business.json");
const ENDORSEMENT: &str = include_str!("../../rating/external/golden/endorsement.json");

fn text(value: &str) -> Option<Vec<FieldValue>> {
    Some(vec![FieldValue::Text(value.into())])
}

#[test]
fn the_golden_new_business_request_is_read_unchanged_with_its_built_in_properties() {
    let request: ExternalRateRequest = serde_json::from_str(NEW_BUSINESS).unwrap();
    let native = request.to_rate_request().unwrap();
    assert_eq!(native.operation, crate::rating::Operation::NewBusiness);
    assert_eq!(native.currency, "USD");
    assert_eq!(native.time_zone, "America/Los_Angeles");
    let year = crate::rating::Segment {
        start: "2026-01-01".parse().unwrap(),
        end: "2027-01-01".parse().unwrap(),
    };
    assert_eq!(native.policy.term, year);
    assert_eq!(native.segment, year);
    assert_eq!(
        native
            .items
            .iter()
            .map(|i| i.locator.as_str())
            .collect::<Vec<_>>(),
        vec![
            "a2c5b6d7-8e9f-4a01-b2c3-d4e5f6a7b806",
            "b3d6c7e8-9f0a-4b12-c3d4-e5f6a7b8c907"
        ]
    );
    let perils = &native.policy.exposures[0].perils;
    // The collision carries only coverage timestamps.
    assert_eq!(perils[0].characteristics.period, year);
    let collision = &perils[0].characteristics.fields;
    assert_eq!(collision.get("deductible").cloned(), text("500.00"));
    assert_eq!(collision.get("deductibleCurrency").cloned(), text("USD"));
    assert_eq!(
        collision.get("indemnityPerEvent").cloned(),
        text("25000.00")
    );
    assert_eq!(collision.get("vehicle_use").cloned(), text("commute"));
    let liability = &perils[1].characteristics.fields;
    assert_eq!(liability.get("deductible").cloned(), text("1000"));
    assert_eq!(
        liability.get("indemnityInAggregate").cloned(),
        text("300000.00")
    );
    assert_eq!(
        answered(&ServeOptions::default(), NEW_BUSINESS.as_bytes()),
        json!({"pricedPerilCharacteristics": {
            "d9f2e3a4-5b6c-4d7e-8f90-a1b2c3d4e503":
                {"yearlyPremium": "1150.00", "yearlyTechnicalPremium": "950.00"},
            "e0a3f4b5-6c7d-4e8f-90a1-b2c3d4e5f604":
                {"yearlyPremium": "1100.00", "yearlyTechnicalPremium": "900.00"}
        }})
    );
}

#[test]
fn the_golden_endorsement_request_prices_the_named_characteristics_only() {
    let request: ExternalRateRequest = serde_json::from_str(ENDORSEMENT).unwrap();
    let native = request.to_rate_request().unwrap();
    assert_eq!(native.operation, crate::rating::Operation::Endorsement);
    let second_half = crate::rating::Segment {
        start: "2026-07-01".parse().unwrap(),
        end: "2027-01-01".parse().unwrap(),
    };
    assert_eq!(native.segment, second_half);
    assert_eq!(native.items.len(), 1);
    assert_eq!(
        native.items[0].locator,
        "a2c5b6d7-8e9f-4a01-b2c3-d4e5f6a7b806"
    );
    // The named characteristics, not the replaced or trimmed ones.
    assert_eq!(
        native.policy.characteristics.locator,
        "b5f0b0a4-0c5e-4d5a-9d0e-6a4f1c2d3e22"
    );
    let collision = &native.policy.exposures[0].perils[0].characteristics;
    assert_eq!(collision.locator, "d9f2e3a4-5b6c-4d7e-8f90-a1b2c3d4e542");
    assert_eq!(collision.period, second_half);
    assert_eq!(collision.fields.get("deductible").cloned(), text("1000.00"));
    assert_eq!(
        answered(&ServeOptions::default(), ENDORSEMENT.as_bytes()),
        json!({"pricedPerilCharacteristics": {
            "d9f2e3a4-5b6c-4d7e-8f90-a1b2c3d4e542":
                {"yearlyPremium": "1100.00", "yearlyTechnicalPremium": "900.00"}
        }})
    );
}

#[test]
fn the_golden_endorsement_without_a_currency_is_priced_in_the_default_currency() {
    let mut body = golden(ENDORSEMENT);
    body["policy"].as_object_mut().unwrap().remove("currency");
    let request: ExternalRateRequest = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(
        request.to_rate_request_with(Some("USD")).unwrap().currency,
        "USD"
    );
    let body = serde_json::to_vec(&body).unwrap();
    assert_eq!(
        answered(&ServeOptions::default(), &body),
        exception(
            "not a rating request: policy 100000001 has no currency and the server has no \
             default currency"
        )
    );
    let options = ServeOptions {
        default_currency: Some("USD".into()),
        ..ServeOptions::default()
    };
    assert_eq!(
        answered(&options, &body)["pricedPerilCharacteristics"]["d9f2e3a4-5b6c-4d7e-8f90-a1b2c3d4e542"]
            ["yearlyPremium"],
        "1100.00"
    );
}
