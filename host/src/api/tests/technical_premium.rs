//! A technical premium answered by an external rater over HTTP is kept on
//! the charge beside its amount: in the transaction's answer, the charge's
//! audit and the charges export.

use super::*;
use crate::rating::external::test_support::serve;

/// A loopback external rater that prices every peril characteristics it is
/// asked about at 1200.00 a year, technical premium 1000.00, under Socotra's
/// alias names (`premium`, `technicalPremium`); keeps the last request.
fn technical_rater() -> (std::net::SocketAddr, Arc<std::sync::Mutex<Value>>) {
    let seen = Arc::new(std::sync::Mutex::new(Value::Null));
    let kept = seen.clone();
    let router = axum::Router::new().route(
        "/rate",
        axum::routing::post(move |body: axum::body::Bytes| async move {
            let request: Value = serde_json::from_slice(&body).unwrap();
            *kept.lock().unwrap() = request.clone();
            let priced: serde_json::Map<String, Value> = request["policyExposurePerils"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["perilCharacteristicsLocator"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                        json!({"premium": "1200.00", "technicalPremium": "1000.00"}),
                    )
                })
                .collect();
            axum::Json(json!({ "pricedPerilCharacteristics": priced }))
        }),
    );
    (serve(router), seen)
}

#[tokio::test]
async fn a_technical_premium_answered_by_an_external_rater_is_on_the_charge_its_audit_and_the_export()
 {
    let api = Api::new();
    let key = acme(&api).await;
    let (address, seen) = technical_rater();
    let (status, answer) = api
        .post(
            "/v1/external-raters",
            &key,
            json!({"name": "socotra-style", "url": format!("http://{address}/rate"),
                   "timeout_ms": 5000, "headers": []}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let mut product = product();
    product["name"] = json!("auto-ext");
    product["rating"] = json!({"kind": "external", "rater": "socotra-style"});
    assert_eq!(
        api.post("/v1/products", &key, product).await.0,
        StatusCode::CREATED
    );
    let mut policy = policy("P1", "0");
    policy["product"] = json!("auto-ext");
    let (status, effect) = api.post("/v1/policies", &key, policy).await;
    assert_eq!(status, StatusCode::CREATED, "{effect}");
    let charge = &effect["charges"][0];
    assert_eq!(charge["locator"], "P1-T1-C1");
    assert_eq!(charge["amount"]["amount"], "1200.00");
    assert_eq!(charge["technical_premium"], "1000.00");
    // The rater was sent the policy record over HTTP.
    let sent = seen.lock().unwrap().clone();
    assert_eq!(sent["policy"]["policyholderLocator"], "A1");
    assert_eq!(sent["policy"]["modifications"][0]["locator"], "P1-T1");
    assert_eq!(
        sent["policy"]["exposures"][0]["perils"][0]["renewalGroup"],
        "V1-COLL"
    );

    let (status, audit) = api
        .get("/v1/policies/P1/charges/P1-T1-C1/audit", &key)
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    assert_eq!(audit["charge"]["technical_premium"], "1000.00");
    assert_eq!(
        audit["rating_calls"][0]["response"]["items"][0]["technical_premium"],
        json!({"yearly": "1000.00"})
    );

    let (status, csv) = api.get("/v1/exports/charges.csv", &key).await;
    assert_eq!(status, StatusCode::OK);
    let text = csv.as_str().unwrap();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",reverses,technical_premium"),
        "{text}"
    );
    assert_eq!(
        lines.next().unwrap(),
        "P1-T1-C1,A1,P1,P1-T1,1,V1-COLL,premium,premium,normal,scheduled,,USD,1200.00,\
         2026-01-01,2027-01-01,,1000.00"
    );
}
