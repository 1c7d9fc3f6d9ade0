//! Test fixtures: a native request for two perils of one vehicle, the exact
//! Socotra request it becomes, and a loopback HTTP server that plays an
//! external rater.

use crate::rating::{
    Characteristics, Exposure, FieldValue, Operation, Peril, Policy, RateItem, RateRequest, Segment,
};
use axum::Router;
use chrono::NaiveDate;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use std::net::SocketAddr;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn characteristics(locator: &str, fields: Vec<(&str, Vec<FieldValue>)>) -> Characteristics {
    Characteristics {
        locator: locator.to_string(),
        period: Segment {
            start: date("2025-03-01"),
            end: date("2026-01-01"),
        },
        fields: fields
            .into_iter()
            .map(|(name, values)| (name.to_string(), values))
            .collect(),
    }
}

/// New business for policy `P1` (term 2025, New York), rated from
/// 2025-03-01: vehicle `E1` with perils `PER1` (collision) and `PER2`
/// (liability), locators as Premia's pricing builds them.
pub fn sample_request() -> RateRequest {
    let policy_fields = vec![
        ("territory", vec![FieldValue::Text("urban".into())]),
        ("vehicle_count", vec![FieldValue::Integer(2)]),
        ("discount", vec![FieldValue::Number { number: dec!(0.15) }]),
        ("garaged", vec![FieldValue::Boolean(true)]),
        (
            "birth_date",
            vec![FieldValue::Date {
                date: date("1990-04-01"),
            }],
        ),
    ];
    let peril = |locator: &str, name: &str, fields| Peril {
        locator: locator.to_string(),
        name: name.to_string(),
        characteristics: characteristics(&format!("{locator}:2025-03-01"), fields),
    };
    let item = |peril: &str| RateItem {
        locator: peril.to_string(),
        policy_characteristics: "P1:2025-03-01".into(),
        exposure_characteristics: Some("E1:2025-03-01".into()),
        peril_characteristics: Some(format!("{peril}:2025-03-01")),
    };
    RateRequest {
        operation: Operation::NewBusiness,
        policy: Policy {
            locator: "P1".into(),
            product_name: "auto".into(),
            currency: "USD".into(),
            time_zone: "America/New_York".into(),
            term: Segment {
                start: date("2025-01-01"),
                end: date("2026-01-01"),
            },
            characteristics: characteristics("P1:2025-03-01", policy_fields),
            exposures: vec![Exposure {
                locator: "E1".into(),
                name: "vehicle".into(),
                characteristics: characteristics(
                    "E1:2025-03-01",
                    vec![("make", vec![FieldValue::Text("Volvo".into())])],
                ),
                perils: vec![
                    peril(
                        "PER1",
                        "collision",
                        vec![(
                            "deductible",
                            vec![FieldValue::Number {
                                number: dec!(500.00),
                            }],
                        )],
                    ),
                    peril(
                        "PER2",
                        "liability",
                        vec![(
                            "limits",
                            vec![FieldValue::Integer(100_000), FieldValue::Integer(300_000)],
                        )],
                    ),
                ],
            }],
        },
        items: vec![item("PER1"), item("PER2")],
        segment: Segment {
            start: date("2025-03-01"),
            end: date("2026-01-01"),
        },
        currency: "USD".into(),
        time_zone: "America/New_York".into(),
    }
}

/// The exact body [`sample_request`] becomes without a policy record, with
/// `extra` top-level keys (the optional locators). The collision's
/// `deductible` field is Socotra's built-in property, sent top-level. 2025-01-01, 2025-03-01 and 2026-01-01 at
/// midnight in New York are 1735707600000, 1740805200000 and 1767243600000.
pub fn expected_wire_json(extra: Value) -> Value {
    let peril = |locator: &str, name: &str, fields: Value, built_in: Value| {
        let mut peril = json!({
            "locator": locator,
            "displayId": locator,
            "name": name,
            "renewalGroup": locator,
            "characteristics": [{
                "locator": format!("{locator}:2025-03-01"),
                "policyLocator": "P1",
                "exposureLocator": "E1",
                "perilLocator": locator,
                "policyCharacteristicsLocator": "P1:2025-03-01",
                "exposureCharacteristicsLocator": "E1:2025-03-01",
                "startTimestamp": "1740805200000",
                "endTimestamp": "1767243600000",
                "coverageStartTimestamp": "1740805200000",
                "coverageEndTimestamp": "1767243600000",
                "fieldValues": fields,
                "fieldGroupsByLocator": {}
            }]
        });
        if let (Some(c), Value::Object(built_in)) =
            (peril["characteristics"][0].as_object_mut(), built_in)
        {
            c.extend(built_in);
        }
        peril
    };
    let mut body = json!({
        "operation": "new_business",
        "policy": {
            "locator": "P1",
            "displayId": "P1",
            "productName": "auto",
            "currency": "USD",
            "originalContractStartTimestamp": "1735707600000",
            "originalContractEndTimestamp": "1767243600000",
            "effectiveContractEndTimestamp": "1767243600000",
            "modifications": [],
            "fees": [],
            "invoices": [],
            "documents": [],
            "mediaByLocator": {},
            "taxGroups": [],
            "characteristics": [{
                "locator": "P1:2025-03-01",
                "policyLocator": "P1",
                "startTimestamp": "1740805200000",
                "endTimestamp": "1767243600000",
                "policyStartTimestamp": "1735707600000",
                "policyEndTimestamp": "1767243600000",
                "fieldValues": {
                    "birth_date": ["1990-04-01"],
                    "discount": ["0.15"],
                    "garaged": ["true"],
                    "territory": ["urban"],
                    "vehicle_count": ["2"]
                },
                "fieldGroupsByLocator": {}
            }],
            "exposures": [{
                "locator": "E1",
                "displayId": "E1",
                "name": "vehicle",
                "characteristics": [{
                    "locator": "E1:2025-03-01",
                    "policyLocator": "P1",
                    "exposureLocator": "E1",
                    "policyCharacteristicsLocator": "P1:2025-03-01",
                    "startTimestamp": "1740805200000",
                    "endTimestamp": "1767243600000",
                    "fieldValues": {"make": ["Volvo"]},
                    "fieldGroupsByLocator": {}
                }],
                "perils": [
                    peril("PER1", "collision", json!({}),
                          json!({"deductible": "500.00", "deductibleCurrency": "USD"})),
                    peril("PER2", "liability", json!({"limits": ["100000", "300000"]}), json!({}))
                ]
            }]
        },
        "policyExposurePerils": [
            {"policyCharacteristicsLocator": "P1:2025-03-01",
             "exposureCharacteristicsLocator": "E1:2025-03-01",
             "perilCharacteristicsLocator": "PER1:2025-03-01"},
            {"policyCharacteristicsLocator": "P1:2025-03-01",
             "exposureCharacteristicsLocator": "E1:2025-03-01",
             "perilCharacteristicsLocator": "PER2:2025-03-01"}
        ],
        "tenantTimeZone": "America/New_York"
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}

/// Serves `router` on `127.0.0.1:0` from a tokio runtime on a background
/// thread (left running until the test process ends) and returns its address.
pub fn serve(router: Router) -> SocketAddr {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("test runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind loopback");
            sender.send(listener.local_addr().expect("address")).ok();
            axum::serve(listener, router).await.ok();
        });
    });
    receiver.recv().expect("test server started")
}
