//! Shadow rating over HTTP: a product naming a challenger rater (here an
//! external rater served on the loopback by the test, or one that fails) is
//! billed by its champion only, and `GET /v1/products/{name}/shadow-report`
//! gives the comparison, rebuilt from the log after a restart.

use super::*;
use crate::rating::external::priced_wire_response;
use crate::rating::external::test_support::serve;
use crate::rating::{ExternalRateRequest, FieldValue, Premium, PricedItem, RateResponse};
use rust_decimal::Decimal;
use std::time::Duration;

/// An external rater that prices each peril at its `yearly_premium` field,
/// as the `field` rater does, but collision 10% higher (to the cent), after
/// `delay`.
fn ten_percent_on_collision(delay: Duration) -> Router {
    let rate = move |body: axum::body::Bytes| async move {
        tokio::time::sleep(delay).await;
        let wire: ExternalRateRequest = serde_json::from_slice(&body).unwrap();
        let request = wire.to_rate_request().unwrap();
        let items = request
            .items
            .iter()
            .map(|item| {
                // An item is named by its peril's locator.
                let peril = request
                    .policy
                    .exposures
                    .iter()
                    .flat_map(|e| &e.perils)
                    .find(|p| p.locator == item.locator)
                    .unwrap();
                let yearly = match &peril.characteristics.fields["yearly_premium"][0] {
                    FieldValue::Text(text) => text.parse::<Decimal>().unwrap(),
                    FieldValue::Number { number } => *number,
                    other => panic!("not a premium: {other:?}"),
                };
                let yearly = if peril.name == "collision" {
                    (yearly * Decimal::new(11, 1)).round_dp(2)
                } else {
                    yearly
                };
                PricedItem {
                    locator: item.locator.clone(),
                    charge: None,
                    premium: Premium::Yearly(yearly),
                    technical_premium: None,
                    commissions: Vec::new(),
                }
            })
            .collect();
        axum::Json(priced_wire_response(
            &request,
            &RateResponse {
                items,
                flat_charges: Vec::new(),
            },
        ))
    };
    Router::new().fallback(axum::routing::post(rate))
}

/// An external rater that answers after two seconds.
fn slow() -> Router {
    async fn rate() -> &'static str {
        tokio::time::sleep(Duration::from_secs(2)).await;
        "{}"
    }
    Router::new().fallback(axum::routing::post(rate))
}

/// Registers external rater `name` at `url`.
async fn register(api: &Api, key: &str, name: &str, url: String, timeout_ms: u64) {
    let rater = json!({"name": name, "url": url, "timeout_ms": timeout_ms});
    let (status, answer) = api.post("/v1/external-raters", key, rater).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// Deploys `product()` as `name`, with `shadow` as its challenger (or none).
async fn deploy(api: &Api, key: &str, name: &str, shadow: Option<Value>) {
    let mut body = product();
    body["name"] = json!(name);
    if let Some(rater) = shadow {
        body["shadow"] = json!({"rater": rater});
    }
    let (status, answer) = api.post("/v1/products", key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// Policy `locator` of `product` on account `account`: V1 with collision at
/// 1000.00 and liability at 500.00 yearly, V2 with collision at 800.00.
fn fleet(locator: &str, account: &str, product: &str) -> Value {
    let peril =
        |name: &str, yearly: &str| json!({"name": name, "fields": {"yearly_premium": [yearly]}});
    json!({
        "locator": locator, "account": account, "product": product,
        "start": "2026-01-01", "time_zone": "UTC",
        "data": {"exposures": {
            "V1": {"name": "vehicle", "perils": {
                format!("{locator}-V1-COLL"): peril("collision", "1000.00"),
                format!("{locator}-V1-LIAB"): peril("liability", "500.00")}},
            "V2": {"name": "vehicle", "perils": {
                format!("{locator}-V2-COLL"): peril("collision", "800.00")}}
        }}
    })
}

fn set_yearly(locator: &str, peril: &str, effective: &str, yearly: &str) -> Value {
    json!({"effective": effective, "changes": [{"op": "set_peril_fields", "exposure": "V1",
           "peril": format!("{locator}-{peril}"), "fields": {"yearly_premium": [yearly]}}]})
}

/// The charges of an answer: (charge, amount, period start).
fn billed(effect: &Value) -> Vec<(String, String, String)> {
    effect["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["charge"].as_str().unwrap().to_string(),
                c["amount"]["amount"].as_str().unwrap().to_string(),
                c["period"]["start"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

async fn create_account(api: &Api, key: &str, locator: &str) {
    let (status, answer) = api
        .post(
            "/v1/accounts",
            key,
            json!({"locator": locator, "name": "Ada", "currency": "USD"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// Issues `body` and returns its charges.
async fn issue(api: &Api, key: &str, body: Value) -> Vec<(String, String, String)> {
    let (status, issued) = api.post("/v1/policies", key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    billed(&issued)
}

async fn endorse(
    api: &Api,
    key: &str,
    policy: &str,
    change: Value,
) -> Vec<(String, String, String)> {
    let (status, endorsed) = api
        .post(&format!("/v1/policies/{policy}/endorsements"), key, change)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{endorsed}");
    billed(&endorsed)
}

/// The product's shadow report, once the challenger answered every call.
async fn shadow_report(api: &Api, key: &str, product: &str) -> Value {
    assert!(
        api.state
            .engine
            .wait_for_shadow_rating(Duration::from_secs(30)),
        "the challenger answers"
    );
    let (status, report) = api
        .get(&format!("/v1/products/{product}/shadow-report"), key)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

/// Invoice totals of `account`, oldest first.
async fn invoice_totals(api: &Api, key: &str, account: &str) -> Vec<String> {
    let (status, billing) = api
        .get(&format!("/v1/accounts/{account}/billing"), key)
        .await;
    assert_eq!(status, StatusCode::OK, "{billing}");
    billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["invoice"]["total"]["amount"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_challenger_ten_percent_higher_on_collision_is_reported_by_line_and_never_billed() {
    let api = Api::new();
    let key = acme(&api).await;
    let address = serve(ten_percent_on_collision(Duration::ZERO));
    register(&api, &key, "v2", format!("http://{address}/rate"), 5_000).await;
    deploy(
        &api,
        &key,
        "auto-shadow",
        Some(json!({"kind": "external", "rater": "v2"})),
    )
    .await;
    create_account(&api, &key, "A2").await;
    // The product reads back with the challenger as the tenant named it.
    let (status, detail) = api.get("/v1/products/auto-shadow", &key).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(
        detail["product"]["shadow"],
        json!({"rater": {"kind": "external", "rater": "v2"}})
    );

    // A quote and a preview are not sent to the challenger.
    let (status, quote) = api
        .post("/v1/quotes", &key, fleet("P1", "A1", "auto-shadow"))
        .await;
    assert_eq!(
        (status, quote["total"].as_str()),
        (StatusCode::OK, Some("2300.00"))
    );
    // P1 is priced by the champion and shadowed; P2, the same on a product
    // without a challenger, is what P1 must be billed.
    let shadowed = issue(&api, &key, fleet("P1", "A1", "auto-shadow")).await;
    let plain = issue(&api, &key, fleet("P2", "A2", "auto")).await;
    assert_eq!(shadowed, plain);
    let total: Decimal = shadowed
        .iter()
        .map(|(_, amount, _)| amount.parse::<Decimal>().unwrap())
        .sum();
    assert_eq!(total, Decimal::new(230000, 2));

    // Collision of V1 to 2000.00 from July: one call, that peril only.
    let (status, previewed) = api
        .post(
            "/v1/policies/P1/endorsements?preview=true",
            &key,
            set_yearly("P1", "V1-COLL", "2026-07-01", "2000.00"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{previewed}");
    let committed = endorse(
        &api,
        &key,
        "P1",
        set_yearly("P1", "V1-COLL", "2026-07-01", "2000.00"),
    )
    .await;
    assert_eq!(billed(&previewed), committed, "a preview equals its commit");
    assert_eq!(
        committed,
        endorse(
            &api,
            &key,
            "P2",
            set_yearly("P2", "V1-COLL", "2026-07-01", "2000.00")
        )
        .await
    );
    assert_eq!(
        committed,
        vec![(
            "premium".to_string(),
            "500.00".to_string(),
            "2026-07-01".to_string()
        )]
    );
    // Liability from October: the challenger agrees.
    assert_eq!(
        endorse(
            &api,
            &key,
            "P1",
            set_yearly("P1", "V1-LIAB", "2026-10-01", "600.00")
        )
        .await,
        endorse(
            &api,
            &key,
            "P2",
            set_yearly("P2", "V1-LIAB", "2026-10-01", "600.00")
        )
        .await
    );

    let report = shadow_report(&api, &key, "auto-shadow").await;
    assert_eq!(report["product"], "auto-shadow");
    assert_eq!(
        report["challenger"],
        json!({"kind": "external", "rater": "v2"})
    );
    assert_eq!(
        (
            &report["calls"],
            &report["exact_matches"],
            &report["differed"],
            &report["challenger_errors"],
            &report["skipped"]
        ),
        (&json!(3), &json!(1), &json!(2), &json!(0), &json!(0)),
        "{report}"
    );
    // New business: V1 +100.00 and V2 +80.00; the July endorsement +200.00.
    assert_eq!(
        report["differences"],
        json!([{"item": "collision", "charge": "premium", "line": "premium", "basis": "yearly",
                "count": 3, "largest_absolute_difference": "200.00", "total_difference": "380.00"}])
    );
    assert_eq!(report["errors"], json!([]));
    let samples = report["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 3);
    let first = &samples[0];
    assert_eq!(
        (&first["policy"], &first["operation"], &first["outcome"]),
        (&json!("P1"), &json!("new_business"), &json!("differed"))
    );
    assert_eq!(
        first["lines"],
        json!([
            {"locator": "P1-V1-COLL", "item": "collision", "charge": "premium", "line": "premium",
             "basis": "yearly", "champion": "1000.00", "challenger": "1100.00"},
            {"locator": "P1-V2-COLL", "item": "collision", "charge": "premium", "line": "premium",
             "basis": "yearly", "champion": "800.00", "challenger": "880.00"}
        ])
    );
    let answers = |side: &str| -> Vec<(String, Value)> {
        first["sample"][side]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["locator"].as_str().unwrap().to_string(),
                    i["premium"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(
        answers("champion"),
        vec![
            ("P1-V1-COLL".to_string(), json!({"yearly": "1000.00"})),
            ("P1-V1-LIAB".to_string(), json!({"yearly": "500.00"})),
            ("P1-V2-COLL".to_string(), json!({"yearly": "800.00"})),
        ]
    );
    let mut challenger = answers("challenger");
    challenger.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        challenger,
        vec![
            ("P1-V1-COLL".to_string(), json!({"yearly": "1100.00"})),
            ("P1-V1-LIAB".to_string(), json!({"yearly": "500.00"})),
            ("P1-V2-COLL".to_string(), json!({"yearly": "880.00"})),
        ]
    );
    assert_eq!(
        first["sample"]["challenger_rater"],
        json!({"kind": "external", "name": "v2"})
    );
    assert_eq!(
        first["sample"]["request"]["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        samples[1]["sample"]["request"]["items"][0]["locator"],
        "P1-V1-COLL"
    );
    assert_eq!(samples[2]["outcome"], "matched");

    // The billed amounts are the champion's: the same invoices as P2's.
    let (status, run) = api.post("/v1/billing/runs", &key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let shadowed_invoices = invoice_totals(&api, &key, "A1").await;
    assert!(!shadowed_invoices.is_empty());
    assert_eq!(shadowed_invoices, invoice_totals(&api, &key, "A2").await);
    let (_, a1) = api.get("/v1/accounts/A1", &key).await;
    let (_, a2) = api.get("/v1/accounts/A2", &key).await;
    assert_eq!(a1["receivable_billed"], a2["receivable_billed"]);
    assert_eq!(a1["receivable_unbilled"], a2["receivable_unbilled"]);

    // The product without a challenger compared nothing.
    let plain = shadow_report(&api, &key, "auto").await;
    assert_eq!(
        (&plain["calls"], &plain["challenger"]),
        (&json!(0), &Value::Null)
    );
}

#[tokio::test]
async fn a_failing_challenger_never_fails_the_transaction_and_is_counted_by_kind() {
    let api = Api::new();
    let key = acme(&api).await;
    let address = serve(slow());
    register(&api, &key, "slow", format!("http://{address}/rate"), 200).await;
    register(
        &api,
        &key,
        "down",
        "http://127.0.0.1:9/rate".to_string(),
        500,
    )
    .await;
    let cases = [
        (
            "auto-missing",
            json!({"kind": "plugin", "plugin": "missing@1"}),
            "rater_unavailable",
        ),
        (
            "auto-unregistered",
            json!({"kind": "external", "rater": "nobody"}),
            "rater_unavailable",
        ),
        (
            "auto-slow",
            json!({"kind": "external", "rater": "slow"}),
            "rater_deadline",
        ),
        (
            "auto-down",
            json!({"kind": "external", "rater": "down"}),
            "rater_unavailable",
        ),
    ];
    for (n, (product, challenger, _)) in cases.iter().enumerate() {
        deploy(&api, &key, product, Some(challenger.clone())).await;
        let mut body = policy(&format!("P{n}"), "1200.00");
        body["product"] = json!(product);
        let charges = issue(&api, &key, body).await;
        assert_eq!(
            charges,
            vec![(
                "premium".to_string(),
                "1200.00".to_string(),
                "2026-01-01".to_string()
            )],
            "{product}: billed by the champion"
        );
    }
    for (product, _, kind) in cases {
        let report = shadow_report(&api, &key, product).await;
        assert_eq!(
            (
                &report["calls"],
                &report["exact_matches"],
                &report["challenger_errors"]
            ),
            (&json!(1), &json!(0), &json!(1)),
            "{product}: {report}"
        );
        assert_eq!(
            report["errors"],
            json!([{"kind": kind, "count": 1}]),
            "{product}"
        );
        assert_eq!(report["differences"], json!([]));
        let sample = &report["samples"][0];
        assert_eq!(sample["outcome"], "failed");
        assert_eq!(sample["error"]["kind"], kind);
        assert!(sample["sample"].get("challenger").is_none());
    }
}

#[tokio::test]
async fn the_shadow_report_of_an_unknown_product_is_a_404_problem() {
    let api = Api::new();
    let key = acme(&api).await;
    let (status, headers, problem) = api
        .call_with_headers(
            "GET",
            "/v1/products/no-such/shadow-report",
            Some(&key),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["code"], "product_not_found");
    assert_eq!(headers["content-type"], "application/problem+json");
    // Another tenant's product is unknown too.
    let globex = api.key("globex", Role::Admin);
    let (status, _) = api.get("/v1/products/auto/shadow-report", &globex).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_shadow_report_is_rebuilt_from_the_log_after_a_restart() {
    let store = crate::store::test_store();
    let api = Api::over(Arc::clone(&store));
    let key = acme(&api).await;
    deploy(
        &api,
        &key,
        "auto-shadow",
        Some(json!({"kind": "native", "rater": "field"})),
    )
    .await;
    let mut body = policy("P1", "1200.00");
    body["product"] = json!("auto-shadow");
    issue(&api, &key, body).await;
    let before = shadow_report(&api, &key, "auto-shadow").await;
    assert_eq!(
        (&before["calls"], &before["exact_matches"]),
        (&json!(1), &json!(1)),
        "{before}"
    );
    let (_, feed) = api
        .get("/v1/events?after=0&limit=1000&category=rating", &key)
        .await;
    let recorded = feed["data"].as_array().unwrap();
    assert_eq!(recorded.len(), 1, "{feed}");
    assert_eq!(
        (&recorded[0]["kind"], &recorded[0]["actor"]),
        (&json!("shadow_rated"), &json!(crate::engine::SHADOW_ACTOR))
    );

    let restarted = Api::over(store);
    assert_eq!(shadow_report(&restarted, &key, "auto-shadow").await, before);
}

#[tokio::test]
async fn a_slow_challenger_never_delays_the_champions_answer() {
    let api = Api::new();
    let key = acme(&api).await;
    let delay = Duration::from_secs(3);
    let address = serve(ten_percent_on_collision(delay));
    register(&api, &key, "v2", format!("http://{address}/rate"), 10_000).await;
    deploy(
        &api,
        &key,
        "auto-shadow",
        Some(json!({"kind": "external", "rater": "v2"})),
    )
    .await;
    let mut body = policy("P1", "1000.00");
    body["product"] = json!("auto-shadow");
    let started = std::time::Instant::now();
    let charges = issue(&api, &key, body).await;
    let answered = started.elapsed();
    assert!(
        answered < delay,
        "the champion answered in {answered:?}, without waiting for the challenger"
    );
    assert_eq!(charges[0].1, "1000.00");
    // The challenger answers later, within its own timeout.
    let report = shadow_report(&api, &key, "auto-shadow").await;
    assert!(started.elapsed() >= delay);
    assert_eq!(
        (
            &report["calls"],
            &report["differed"],
            &report["challenger_errors"]
        ),
        (&json!(1), &json!(1), &json!(0)),
        "{report}"
    );
    assert_eq!(
        report["differences"][0]["total_difference"],
        json!("100.00")
    );
}
