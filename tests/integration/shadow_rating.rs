//! Shadow rating end to end, over real HTTP with compiled plugins: moving
//! the demo's auto product from an external rater to the WebAssembly plugin
//! with the same logic (every premium and commission matches; the report
//! shows the one thing Socotra's wire format cannot carry, the plugin's
//! policy fee), and trying a plugin with a new
//! urban factor as the challenger of the plugin in use (the report shows by
//! how much, peril by peril, while the champion alone is billed).

use crate::harness::{ApiClient, TestHost, auto_policy, premiums};
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The auto-rater plugin served as a Socotra external rater on loopback
/// (`premia rater serve`), until the test process ends.
fn auto_rater_served_as_external() -> SocketAddr {
    let app = premia::cli::rater_serve::router(
        &wasm("auto-rater"),
        tables("auto-rater"),
        premia::cli::rater_serve::ServeOptions::default(),
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        runtime.block_on(async move { axum::serve(listener, app).await.unwrap() })
    });
    address
}

/// `POST path`, which must succeed: its answer.
fn post(admin: &ApiClient, path: &str, body: Value) -> Value {
    let (status, body) = admin.post(path, &body);
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// Deploys the demo's auto product as `name`, rated by `rating`, with
/// `challenger` as its shadow rater.
fn deploy(admin: &ApiClient, name: &str, rating: Option<Value>, challenger: Value) {
    let (status, body) = admin.deploy_product_variant("auto", name, |product| {
        if let Some(rating) = rating {
            product["rating"] = rating;
        }
        product["shadow"] = json!({"rater": challenger});
    });
    assert!(status.is_success(), "/v1/products: {status} {body}");
}

/// The product's shadow report once it counts `calls` calls.
fn report_after(admin: &ApiClient, product: &str, calls: u64) -> Value {
    let started = Instant::now();
    loop {
        let (_, report) = admin.get(&format!("/v1/products/{product}/shadow-report"));
        if report["calls"].as_u64() >= Some(calls) {
            return report;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the challenger never answered: {report}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A policy of `product` on account A-1.
fn policy(locator: &str, product: &str) -> Value {
    let mut body = auto_policy(locator);
    body["product"] = json!(product);
    body
}

#[test]
fn an_external_rater_and_its_plugin_port_differ_only_by_the_fee_the_wire_cannot_carry() {
    let host = TestHost::demo();
    let admin = host.admin();
    let external = auto_rater_served_as_external();
    post(
        &admin,
        "/v1/external-raters",
        json!({"name": "legacy", "url": format!("http://{external}/rate"), "timeout_ms": 10_000}),
    );
    deploy(
        &admin,
        "auto-legacy",
        Some(json!({"kind": "external", "rater": "legacy"})),
        json!({"kind": "plugin", "plugin": "auto-rater@1"}),
    );
    post(
        &admin,
        "/v1/accounts",
        json!({"locator": "A-1", "name": "Ada", "currency": "USD"}),
    );
    let issued = post(&admin, "/v1/policies", policy("P-1", "auto-legacy"));
    assert_eq!(premiums(&issued), vec!["185.00", "512.50", "765.00"]);
    // A higher deductible on collision from July: one call, that peril.
    let endorsed = post(
        &admin,
        "/v1/policies/P-1/endorsements",
        json!({"effective": "2026-07-01", "changes": [{"op": "set_peril_fields", "exposure": "V1",
               "peril": "V1-COLL", "fields": {"deductible": [1000]}}]}),
    );
    // 612 × 1.25 × 0.88 = 673.20 a year, down 91.80, for half the term.
    assert_eq!(premiums(&endorsed), vec!["-45.90"]);

    // The endorsement's call matches; new business differs by one line:
    // the plugin books the 25.00 policy fee as a flat charge, which an
    // external rater's answer (`pricedPerilCharacteristics`) has no place
    // for. Premiums, technical premiums and commissions are the same.
    let report = report_after(&admin, "auto-legacy", 2);
    assert_eq!(
        (
            &report["calls"],
            &report["exact_matches"],
            &report["differed"],
            &report["challenger_errors"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(0)),
        "{report}"
    );
    assert_eq!(
        report["differences"],
        json!([{"item": "policy", "charge": "policy-fee", "line": "flat_charge", "basis": "exact",
                "count": 1, "largest_absolute_difference": "25.00", "total_difference": "25.00"}])
    );
    assert_eq!(report["samples"][0]["operation"], "new_business");
    assert_eq!(
        report["samples"][0]["lines"],
        json!([{"item": "policy", "charge": "policy-fee", "line": "flat_charge", "basis": "exact",
                "champion": "0", "challenger": "25.00"}])
    );
    let sample = &report["samples"][0]["sample"];
    assert_eq!(
        sample["champion_rater"],
        json!({"kind": "external", "name": "legacy"})
    );
    assert_eq!(sample["challenger_rater"]["kind"], "plugin");
    assert_eq!(sample["challenger_rater"]["plugin_id"], "auto-rater@1");
    assert_eq!(sample["champion"]["items"], sample["challenger"]["items"]);
    assert_eq!(report["samples"][1]["outcome"], "matched");
}

#[test]
fn a_plugin_with_a_new_urban_factor_shadows_the_plugin_in_use_and_is_never_billed() {
    let host = TestHost::demo();
    let admin = host.admin();
    admin.upload_auto_rater("auto-rater-next", "1", "1.50");
    deploy(
        &admin,
        "auto-next",
        None,
        json!({"kind": "plugin", "plugin": "auto-rater-next@1"}),
    );
    post(
        &admin,
        "/v1/accounts",
        json!({"locator": "A-1", "name": "Ada", "currency": "USD"}),
    );
    // Billed by the champion (urban 1.25), not the challenger (1.50).
    let issued = post(&admin, "/v1/policies", policy("P-1", "auto-next"));
    assert_eq!(premiums(&issued), vec!["185.00", "512.50", "765.00"]);

    let report = report_after(&admin, "auto-next", 1);
    assert_eq!(
        (
            &report["calls"],
            &report["exact_matches"],
            &report["differed"]
        ),
        (&json!(1), &json!(0), &json!(1)),
        "{report}"
    );
    // Each premium 1.50 / 1.25 = 1.2 times the champion's: 410 × 0.25,
    // 612 × 0.25 and 148 × 0.25 more.
    let premium_rows: Vec<(String, String, String)> = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["line"] == "premium")
        .map(|row| {
            assert_eq!(row["count"], 1, "{row}");
            (
                row["item"].as_str().unwrap().to_string(),
                row["largest_absolute_difference"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                row["total_difference"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        premium_rows,
        vec![
            ("bodily_injury".into(), "102.50".into(), "102.50".into()),
            ("collision".into(), "153.00".into(), "153.00".into()),
            ("comprehensive".into(), "37.00".into(), "37.00".into()),
        ]
    );
    assert_eq!(
        report["samples"][0]["sample"]["challenger_rater"]["plugin_id"],
        "auto-rater-next@1"
    );
    let (status, missing) = admin.get("/v1/products/no-such/shadow-report");
    assert_eq!(
        (status, missing["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("product_not_found"))
    );
}
