//! What an external rater is sent about the policy (Socotra's
//! `PolicyResponse` beyond the rating request) and the technical premium
//! kept on charges, through the policy book.
//!
//! Policy `P1` (UTC): vehicle `V1` with collision (`V1-COLL`, 1200.00
//! yearly, technical 1000.00) and comprehensive (`V1-COMP`, 300.00 yearly)
//! on [2026-01-01, 2027-01-01), months basis, with a 25.00 policy fee;
//! issued by `P1-T1` at 2025-12-15T12:00:00Z.

use crate::domain::CompactMap;
use crate::policy::product::tests::auto_product;
use crate::policy::*;
use crate::rating::external::ExternalRateRequest;
use crate::rating::{
    FieldRater, FieldValue, Premium, RateRequest, RateResponse, Rater, RaterIdentity, RatingCall,
    RatingError,
};
use crate::test_support::{OneRater, date};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// Prices as [`FieldRater`], with a yearly technical premium from the peril
/// field `yearly_technical_premium`, and keeps the Socotra request each call
/// would send.
#[derive(Default)]
pub(crate) struct Recording {
    pub(crate) sent: Mutex<Vec<Value>>,
}

impl Recording {
    fn priced(request: &RateRequest) -> Result<RateResponse, RatingError> {
        let mut response = FieldRater.rate(request)?;
        for item in &mut response.items {
            let technical = request
                .policy
                .exposures
                .iter()
                .flat_map(|e| &e.perils)
                .find(|p| p.locator == item.locator)
                .and_then(|p| p.characteristics.fields.get("yearly_technical_premium"))
                .and_then(|values| match values.first() {
                    Some(FieldValue::Text(text)) => text.parse().ok(),
                    _ => None,
                });
            item.technical_premium = technical.map(Premium::Yearly);
        }
        Ok(response)
    }
}

impl Rater for Recording {
    fn rate(&self, request: &RateRequest) -> Result<RateResponse, RatingError> {
        Recording::priced(request)
    }

    fn identity(&self) -> RaterIdentity {
        RaterIdentity::Native {
            name: "recording".into(),
        }
    }

    fn reads_policy_record(&self) -> bool {
        true
    }

    fn rate_call(
        &self,
        request: &RateRequest,
        call: &RatingCall,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        let wire = ExternalRateRequest::from_rating_call(request, call)?;
        self.sent
            .lock()
            .unwrap()
            .push(serde_json::to_value(wire).unwrap());
        Ok((Recording::priced(request)?, self.identity()))
    }
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn text(value: &str) -> Vec<FieldValue> {
    vec![FieldValue::Text(value.into())]
}

fn peril(name: &str, fields: &[(&str, &str)]) -> PerilData {
    PerilData {
        name: name.into(),
        fields: fields
            .iter()
            .map(|(field, value)| (field.to_string(), text(value)))
            .collect(),
    }
}

pub(crate) fn data() -> PolicyData {
    let perils = CompactMap::from([
        (
            "V1-COLL".to_string(),
            peril(
                "collision",
                &[
                    ("yearly_premium", "1200.00"),
                    ("yearly_technical_premium", "1000.00"),
                ],
            ),
        ),
        (
            "V1-COMP".to_string(),
            peril("comprehensive", &[("yearly_premium", "300.00")]),
        ),
    ]);
    PolicyData {
        fields: CompactMap::from([("flat:policy-fee".to_string(), text("25.00"))]),
        exposures: CompactMap::from([(
            "V1".to_string(),
            ExposureData {
                name: "vehicle".into(),
                fields: Fields::new(),
                perils,
            },
        )]),
    }
}

pub(crate) struct Fixture {
    pub(crate) book: PolicyBook,
    pub(crate) rater: Arc<Recording>,
}

impl Fixture {
    pub(crate) fn issued() -> Fixture {
        Fixture::issued_with("UTC", data())
    }

    /// `P1` issued in `time_zone` with `data`.
    pub(crate) fn issued_with(time_zone: &str, data: PolicyData) -> Fixture {
        let mut fixture = Fixture {
            book: PolicyBook::new(),
            rater: Arc::new(Recording::default()),
        };
        let issued_at = "2025-12-15T12:00:00Z";
        fixture.run(
            issued_at,
            PolicyCommand::DeployProduct {
                product: auto_product(),
            },
        );
        fixture.run(
            issued_at,
            PolicyCommand::CreateAccount {
                locator: "A1".into(),
                name: "Ada".into(),
                currency: crate::domain::Currency::USD,
            },
        );
        fixture.run(
            issued_at,
            PolicyCommand::IssuePolicy {
                locator: "P1".into(),
                account: "A1".into(),
                product: "auto".into(),
                start: date(2026, 1, 1),
                plan: None,
                time_zone: time_zone.into(),
                data,
                bind: Default::default(),
            },
        );
        fixture
    }

    pub(crate) fn run(&mut self, issued_at: &str, command: PolicyCommand) -> Vec<BookEvent> {
        let context = CommandContext {
            actor: "tester".into(),
            issued_at: at(issued_at),
            idempotency_key: Some(format!("{issued_at}-{command:?}")),
            arithmetic: crate::billing::Arithmetic::Written,
            pending_slices: None,
            today: None,
        };
        self.book
            .execute(&command, &context, &OneRater(self.rater.clone()))
            .unwrap()
    }

    /// The requests sent since the last time they were taken.
    pub(crate) fn sent(&self) -> Vec<Value> {
        std::mem::take(&mut *self.rater.sent.lock().unwrap())
    }
}

fn charges(events: &[BookEvent]) -> Vec<&Charge> {
    events
        .iter()
        .filter_map(|e| match e {
            BookEvent::TransactionIssued { record } => Some(record),
            _ => None,
        })
        .flat_map(|r| r.charges.iter())
        .collect()
}

fn premium_endorsement(amount: &str) -> PolicyCommand {
    PolicyCommand::Endorse {
        policy: "P1".into(),
        effective: date(2026, 7, 1),
        changes: vec![DataChange::SetPerilFields {
            exposure: "V1".into(),
            peril: "V1-COLL".into(),
            fields: CompactMap::from([("yearly_premium".to_string(), text(amount))]),
        }],
    }
}

/// The characteristics of the peril at `index` of the first exposure, as
/// (locator, start, end, issued, replaced, premium, technical premium).
fn history(request: &Value, index: usize) -> Vec<[Value; 7]> {
    request["policy"]["exposures"][0]["perils"][index]["characteristics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            [
                "locator",
                "startTimestamp",
                "endTimestamp",
                "issuedTimestamp",
                "replacedTimestamp",
                "premium",
                "technicalPremium",
            ]
            .map(|key| c.get(key).cloned().unwrap_or(Value::Null))
        })
        .collect()
}

// 2026-01-01, 2026-07-01, 2027-01-01 and 2028-01-01 at midnight UTC.
const JAN_2026: &str = "1767225600000";
const JUL_2026: &str = "1782864000000";
const JAN_2027: &str = "1798761600000";
const JAN_2028: &str = "1830297600000";
// 2025-12-15T12:00:00Z and 2026-06-20T08:00:00Z.
const ISSUED_T1: &str = "1765800000000";
const ISSUED_T2: &str = "1781942400000";

#[test]
fn new_business_sends_the_policy_record_with_its_own_modification() {
    let fixture = Fixture::issued();
    let sent = fixture.sent();
    assert_eq!(sent.len(), 1);
    let policy = &sent[0]["policy"];
    assert_eq!(policy["policyholderLocator"], "A1");
    assert_eq!(policy["productLocator"], "auto:1");
    assert_eq!(policy["createdTimestamp"], ISSUED_T1);
    assert_eq!(policy["updatedTimestamp"], ISSUED_T1);
    assert_eq!(policy.get("issuedTimestamp"), None, "not issued yet");
    assert_eq!(policy["paymentScheduleName"], "annual");
    assert_eq!(policy["originalContractStartTimestamp"], JAN_2026);
    assert_eq!(policy["originalContractEndTimestamp"], JAN_2027);
    assert_eq!(policy["fees"], json!([]));
    assert_eq!(
        policy["modifications"],
        json!([{
            "locator": "P1-T1", "displayId": "P1-T1", "policyLocator": "P1", "number": 1,
            "name": "new_business", "createdTimestamp": ISSUED_T1,
            "effectiveTimestamp": JAN_2026,
            "newPolicyCharacteristicsLocators": ["P1:2026-01-01"],
            "exposureModifications": [{
                "exposureLocator": "V1",
                "newExposureCharacteristicsLocator": "V1:2026-01-01",
                "perilModifications": [
                    {"perilLocator": "V1-COLL", "newPerilCharacteristicsLocator": "V1-COLL:2026-01-01"},
                    {"perilLocator": "V1-COMP", "newPerilCharacteristicsLocator": "V1-COMP:2026-01-01"}
                ]
            }]
        }])
    );
    // Nothing was priced before: one characteristics per peril.
    assert_eq!(
        history(&sent[0], 0),
        vec![[
            json!("V1-COLL:2026-01-01"),
            json!(JAN_2026),
            json!(JAN_2027),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null
        ]]
    );
}

#[test]
fn an_endorsement_sends_its_modification_the_fees_and_the_characteristics_it_replaces() {
    let mut fixture = Fixture::issued();
    fixture.sent();
    fixture.run("2026-06-20T08:00:00Z", premium_endorsement("1800.00"));
    let sent = fixture.sent();
    assert_eq!(sent.len(), 1);
    let request = &sent[0];
    assert_eq!(request["endorsementLocator"], "P1-T2");
    let policy = &request["policy"];
    assert_eq!(policy["createdTimestamp"], ISSUED_T1);
    assert_eq!(policy["issuedTimestamp"], ISSUED_T1);
    assert_eq!(policy["updatedTimestamp"], ISSUED_T2);
    assert_eq!(
        policy["fees"],
        json!([{"locator": "P1-T1-C3", "name": "policy-fee", "description": "policy-fee",
                "amount": "25.00", "amountCurrency": "USD", "reversed": false}])
    );
    let modifications = policy["modifications"].as_array().unwrap();
    assert_eq!(modifications.len(), 2);
    assert_eq!(modifications[1]["name"], "endorsement");
    assert_eq!(modifications[1]["createdTimestamp"], ISSUED_T2);
    assert_eq!(modifications[1]["effectiveTimestamp"], JUL_2026);
    assert_eq!(
        modifications[1]["newPolicyCharacteristicsLocators"],
        json!(["P1:2026-07-01"])
    );
    // The collision: the whole year as recorded (replaced now), its first
    // half reusing that result, and the half being priced.
    assert_eq!(
        history(request, 0),
        vec![
            [
                json!("V1-COLL:2026-01-01~P1-T2"),
                json!(JAN_2026),
                json!(JAN_2027),
                json!(ISSUED_T1),
                json!(ISSUED_T2),
                json!("1200.00"),
                json!("1000.00")
            ],
            [
                json!("V1-COLL:2026-01-01"),
                json!(JAN_2026),
                json!(JUL_2026),
                json!(ISSUED_T1),
                Value::Null,
                json!("600.00"),
                json!("500.00")
            ],
            [
                json!("V1-COLL:2026-07-01"),
                json!(JUL_2026),
                json!(JAN_2027),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ],
        ]
    );
    // The comprehensive is not asked about, but is in the policy as well.
    assert_eq!(history(request, 1)[0][5], json!("300.00"));
    assert_eq!(history(request, 1)[1][5], json!("150.00"));
    assert_eq!(request["policyExposurePerils"].as_array().unwrap().len(), 1);
}

#[test]
fn a_renewal_sends_the_inception_as_the_original_contract_start() {
    let mut fixture = Fixture::issued();
    fixture.sent();
    fixture.run(
        "2026-12-01T00:00:00Z",
        PolicyCommand::Renew {
            policy: "P1".into(),
            plan: Some("monthly".into()),
            changes: Vec::new(),
        },
    );
    let sent = fixture.sent();
    assert_eq!(sent.len(), 1);
    let policy = &sent[0]["policy"];
    assert_eq!(policy["originalContractStartTimestamp"], JAN_2026);
    assert_eq!(policy["originalContractEndTimestamp"], JAN_2027);
    assert_eq!(policy["effectiveContractEndTimestamp"], JAN_2028);
    assert_eq!(policy["paymentScheduleName"], "monthly");
    assert_eq!(sent[0]["newPaymentScheduleName"], "monthly");
    // The first term's characteristics are there, as recorded.
    assert_eq!(
        history(&sent[0], 0)[0],
        [
            json!("V1-COLL:2026-01-01"),
            json!(JAN_2026),
            json!(JAN_2027),
            json!(ISSUED_T1),
            Value::Null,
            json!("1200.00"),
            json!("1000.00")
        ]
    );
    assert_eq!(history(&sent[0], 0)[1][0], json!("V1-COLL:2027-01-01"));
    // Each policy characteristics names its own term.
    let terms: Vec<[Value; 3]> = policy["characteristics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            ["locator", "policyStartTimestamp", "policyEndTimestamp"]
                .map(|key| c.get(key).cloned().unwrap_or(Value::Null))
        })
        .collect();
    assert_eq!(
        terms,
        vec![
            [json!("P1:2026-01-01"), json!(JAN_2026), json!(JAN_2027)],
            [json!("P1:2027-01-01"), json!(JAN_2027), json!(JAN_2028)],
        ]
    );
}

#[test]
fn a_technical_premium_is_kept_on_the_charge_beside_its_amount() {
    let mut fixture = Fixture::issued();
    let policy = fixture.book.policy("P1").unwrap();
    let technical: Vec<(Option<&str>, Decimal, Option<Decimal>)> = policy
        .charges
        .iter()
        .map(|c| (c.item.as_deref(), c.amount.amount, c.technical_premium))
        .collect();
    assert_eq!(
        technical,
        vec![
            (Some("V1-COLL"), dec!(1200.00), Some(dec!(1000.00))),
            (Some("V1-COMP"), dec!(300.00), None),
            (None, dec!(25.00), None),
        ]
    );
    // An endorsement raising the premium (the technical premium unchanged)
    // carries no technical change; a cancellation refunds half of both.
    let events = fixture.run("2026-06-20T08:00:00Z", premium_endorsement("1800.00"));
    let endorsed: Vec<_> = charges(&events)
        .iter()
        .map(|c| (c.amount.amount, c.technical_premium))
        .collect();
    assert_eq!(endorsed, vec![(dec!(300.00), Some(dec!(0.00)))]);
    let events = fixture.run(
        "2026-06-21T08:00:00Z",
        PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: date(2026, 7, 1),
            reason: Default::default(),
        },
    );
    let collision: Vec<_> = charges(&events)
        .iter()
        .filter(|c| c.item.as_deref() == Some("V1-COLL") && c.charge == "premium")
        .map(|c| (c.amount.amount, c.technical_premium))
        .collect();
    assert_eq!(collision, vec![(dec!(-900.00), Some(dec!(-500.00)))]);
}

#[test]
fn a_charge_stored_without_a_technical_premium_still_reads() {
    let fixture = Fixture::issued();
    let charge = &fixture.book.policy("P1").unwrap().charges[1];
    let mut stored = serde_json::to_value(charge).unwrap();
    assert_eq!(stored.get("technical_premium"), None);
    stored.as_object_mut().unwrap().remove("technical_premium");
    let read: Charge = serde_json::from_value(stored).unwrap();
    assert_eq!(read.technical_premium, None);
    let with = &fixture.book.policy("P1").unwrap().charges[0];
    assert_eq!(
        serde_json::to_value(with).unwrap()["technical_premium"],
        "1000.00"
    );
}

/// Where `ours` has a key the golden request lacks (the golden's array
/// elements merged into one shape; field maps are opaque).
fn missing_from_golden(ours: &Value, golden: &Value, path: &str, missing: &mut Vec<String>) {
    fn merged(values: &[Value]) -> Value {
        values.iter().fold(Value::Null, merge)
    }
    fn merge(shape: Value, value: &Value) -> Value {
        match (shape, value) {
            (Value::Object(mut shape), Value::Object(value)) => {
                for (key, v) in value {
                    let merged = merge(shape.remove(key).unwrap_or(Value::Null), v);
                    shape.insert(key.clone(), merged);
                }
                Value::Object(shape)
            }
            (Value::Array(mut shape), Value::Array(value)) => {
                shape.extend(value.iter().cloned());
                Value::Array(shape)
            }
            (Value::Null, value) => value.clone(),
            (shape, _) => shape,
        }
    }
    match (ours, golden) {
        (Value::Object(ours), Value::Object(golden)) => {
            for (key, value) in ours {
                let here = format!("{path}.{key}");
                match golden.get(key) {
                    None => missing.push(here),
                    Some(_)
                        if matches!(
                            key.as_str(),
                            "fieldValues" | "fieldGroupsByLocator" | "mediaByLocator"
                        ) => {}
                    Some(theirs) => missing_from_golden(value, theirs, &here, missing),
                }
            }
        }
        (Value::Array(ours), Value::Array(golden)) => {
            let shape = merged(golden);
            for (index, value) in ours.iter().enumerate() {
                if shape.is_null() {
                    missing.push(format!("{path}[{index}]"));
                } else {
                    missing_from_golden(value, &shape, &format!("{path}[{index}]"), missing);
                }
            }
        }
        (Value::Object(_) | Value::Array(_), _) => missing.push(format!("{path} (kind)")),
        _ => {}
    }
}

fn golden(name: &str) -> Value {
    let text = match name {
        "new_business" => include_str!("../../rating/external/golden/new_business.json"),
        _ => include_str!("../../rating/external/golden/endorsement.json"),
    };
    serde_json::from_str(text).unwrap()
}

/// The golden requests' policy: a vehicle with collision (deductible
/// 500.00, per-event indemnity 25000.00; 1150.00 yearly, technical 950.00)
/// and liability (deductible 1000, aggregate indemnity 300000.00; 1100.00,
/// technical 900.00), in Los Angeles, with a 25.00 policy fee.
fn golden_data() -> PolicyData {
    let perils = CompactMap::from([
        (
            "V1-COLL".to_string(),
            peril(
                "collision",
                &[
                    ("deductible", "500.00"),
                    ("indemnityPerEvent", "25000.00"),
                    ("vehicle_use", "commute"),
                    ("yearly_premium", "1150.00"),
                    ("yearly_technical_premium", "950.00"),
                ],
            ),
        ),
        (
            "V1-LIAB".to_string(),
            peril(
                "liability",
                &[
                    ("deductible", "1000"),
                    ("indemnityInAggregate", "300000.00"),
                    ("limit", "100000"),
                    ("yearly_premium", "1100.00"),
                    ("yearly_technical_premium", "900.00"),
                ],
            ),
        ),
    ]);
    PolicyData {
        fields: CompactMap::from([
            ("flat:policy-fee".to_string(), text("25.00")),
            ("territory".to_string(), text("urban")),
        ]),
        exposures: CompactMap::from([(
            "V1".to_string(),
            ExposureData {
                name: "vehicle".into(),
                fields: CompactMap::from([
                    ("make".to_string(), text("Volvo")),
                    ("year".to_string(), text("2021")),
                ]),
                perils,
            },
        )]),
    }
}

/// The values of `keys` in `value`, `null` where absent.
fn picked(value: &Value, keys: &[&str]) -> Vec<Value> {
    keys.iter()
        .map(|key| value.get(*key).cloned().unwrap_or(Value::Null))
        .collect()
}

const POLICY_KEYS: [&str; 8] = [
    "createdTimestamp",
    "updatedTimestamp",
    "issuedTimestamp",
    "originalContractStartTimestamp",
    "originalContractEndTimestamp",
    "effectiveContractEndTimestamp",
    "paymentScheduleName",
    "productName",
];

const PERIL_KEYS: [&str; 12] = [
    "startTimestamp",
    "endTimestamp",
    "coverageStartTimestamp",
    "coverageEndTimestamp",
    "issuedTimestamp",
    "replacedTimestamp",
    "premium",
    "technicalPremium",
    "deductible",
    "deductibleCurrency",
    "indemnityPerEvent",
    "indemnityInAggregate",
];

#[test]
fn the_new_business_request_has_the_shape_and_values_of_the_golden_socotra_request() {
    let fixture = Fixture::issued_with("America/Los_Angeles", golden_data());
    let ours = fixture.sent().remove(0);
    let golden = golden("new_business");
    let mut missing = Vec::new();
    missing_from_golden(&ours, &golden, "", &mut missing);
    assert_eq!(missing, Vec::<String>::new());
    assert_eq!(ours["operation"], golden["operation"]);
    assert_eq!(ours["tenantTimeZone"], golden["tenantTimeZone"]);
    let mut policy_keys = POLICY_KEYS.to_vec();
    policy_keys.retain(|k| *k != "productName");
    assert_eq!(
        picked(&ours["policy"], &policy_keys),
        picked(&golden["policy"], &policy_keys)
    );
    let perils = |request: &Value| -> Vec<Vec<Value>> {
        request["policy"]["exposures"][0]["perils"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| picked(&p["characteristics"][0], &PERIL_KEYS[2..]))
            .collect()
    };
    assert_eq!(perils(&ours), perils(&golden));
}

#[test]
fn the_endorsement_request_has_the_shape_and_values_of_the_golden_socotra_request() {
    let mut fixture = Fixture::issued_with("America/Los_Angeles", golden_data());
    fixture.sent();
    fixture.run(
        "2026-06-20T08:00:00Z",
        PolicyCommand::Endorse {
            policy: "P1".into(),
            effective: date(2026, 7, 1),
            changes: vec![DataChange::SetPerilFields {
                exposure: "V1".into(),
                peril: "V1-COLL".into(),
                fields: CompactMap::from([
                    ("deductible".to_string(), text("1000.00")),
                    ("yearly_premium".to_string(), text("1100.00")),
                ]),
            }],
        },
    );
    let ours = fixture.sent().remove(0);
    let golden = golden("endorsement");
    let mut missing = Vec::new();
    missing_from_golden(&ours, &golden, "", &mut missing);
    assert_eq!(missing, Vec::<String>::new());
    assert_eq!(ours["operation"], "endorsement");
    let mut policy_keys = POLICY_KEYS.to_vec();
    policy_keys.retain(|k| *k != "productName");
    assert_eq!(
        picked(&ours["policy"], &policy_keys),
        picked(&golden["policy"], &policy_keys)
    );
    // Every peril's history: replaced, trimmed and new, with the recorded
    // premiums.
    let histories = |request: &Value| -> Vec<Vec<Value>> {
        request["policy"]["exposures"][0]["perils"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["characteristics"].as_array().unwrap().iter())
            .map(|c| picked(c, &PERIL_KEYS[2..]))
            .collect()
    };
    assert_eq!(histories(&ours), histories(&golden));
    let fee = &ours["policy"]["fees"][0];
    assert_eq!(
        picked(fee, &["name", "amount", "amountCurrency", "reversed"]),
        picked(
            &golden["policy"]["fees"][0],
            &["name", "amount", "amountCurrency", "reversed"]
        )
    );
    assert_eq!(
        picked(
            &ours["policy"]["modifications"][1],
            &["name", "effectiveTimestamp", "createdTimestamp"]
        ),
        picked(
            &golden["policy"]["modifications"][1],
            &["name", "effectiveTimestamp", "createdTimestamp"]
        )
    );
}

/// Prices as [`Recording`] but, like a plugin, does not read the record.
struct NotReading(Recording);

impl Rater for NotReading {
    fn rate(&self, request: &RateRequest) -> Result<RateResponse, RatingError> {
        self.0.rate(request)
    }

    fn identity(&self) -> RaterIdentity {
        self.0.identity()
    }

    fn rate_call(
        &self,
        request: &RateRequest,
        call: &RatingCall,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        assert_eq!(call.record, crate::rating::PolicyRecord::default());
        self.0.rate_call(request, call)
    }
}

#[test]
fn a_rater_that_does_not_read_the_policy_record_is_not_given_one() {
    let rater = Arc::new(NotReading(Recording::default()));
    struct Plain(Arc<NotReading>);
    impl RaterResolver for Plain {
        fn resolve(&self, _chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
            Ok(self.0.clone())
        }
    }
    let mut book = PolicyBook::new();
    let context = CommandContext {
        actor: "tester".into(),
        issued_at: at("2025-12-15T12:00:00Z"),
        idempotency_key: None,
        arithmetic: crate::billing::Arithmetic::Written,
        pending_slices: None,
        today: None,
    };
    for command in [
        PolicyCommand::DeployProduct {
            product: auto_product(),
        },
        PolicyCommand::CreateAccount {
            locator: "A1".into(),
            name: "Ada".into(),
            currency: crate::domain::Currency::USD,
        },
        PolicyCommand::IssuePolicy {
            locator: "P1".into(),
            account: "A1".into(),
            product: "auto".into(),
            start: date(2026, 1, 1),
            plan: None,
            time_zone: "UTC".into(),
            data: data(),
            bind: Default::default(),
        },
    ] {
        book.execute(&command, &context, &Plain(rater.clone()))
            .unwrap();
    }
    // The call was made, with locators and an empty record.
    let sent = rater.0.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["quoteLocator"], "P1-T1");
    assert_eq!(sent[0]["policy"].get("policyholderLocator"), None);
}

#[test]
fn the_golden_shape_check_names_every_key_the_golden_lacks() {
    let mut missing = Vec::new();
    missing_from_golden(
        &json!({"a": 1, "b": [{"c": 1}, {"d": {"e": 1}}], "fieldValues": {"x": ["1"]}}),
        &json!({"a": "1", "b": [{"c": 2}, {"d": {}}], "fieldValues": {}}),
        "",
        &mut missing,
    );
    assert_eq!(missing, vec![".b[1].d.e".to_string()]);
}
