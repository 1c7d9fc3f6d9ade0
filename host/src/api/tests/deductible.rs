//! Deductible invoices (seed 003) over HTTP: deductible charges go on
//! invoices of their own, due after the deductible due days, never beside
//! premium; credit flagged for deductibles pays only deductible invoices.
//! Test tenant `lab` (today 2026-03-10): account A1 (USD), no policy;
//! invoices due 15 days after issue, deductible invoices 30 days.

use super::*;
use crate::boot::create_tenant_on;
use rust_decimal::Decimal;

fn deductible_product() -> Value {
    let mut body = product();
    body["charges"]["deductible"] =
        json!({"category": "deductible", "handling": "flat", "invoicing": "next"});
    body
}

async fn lab(api: &Api) -> String {
    let key = create_tenant_on(&api.state, "lab", Some("2026-03-10".parse().unwrap())).unwrap();
    let (status, answer) = api.post("/v1/products", &key, deductible_product()).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let key = with_account(api, key).await;
    let settings = json!({"settings": {"invoice_due_days": 15, "deductible_invoice_due_days": 30}});
    let (status, answer) = api.post("/v1/billing/settings", &key, settings).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    key
}

/// Adds a flat charge of the account, billed `invoicing` (`next` waits for
/// the account's next invoice, `immediate` bills it and what waits at once).
async fn charge(api: &Api, key: &str, charge: &str, amount: &str, invoicing: &str) {
    let body = json!({"account": "A1", "charge": charge, "amount": amount, "invoicing": invoicing});
    let (status, answer) = api.post("/v1/charges", key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

/// The invoices of A1: (locator, stream, issue date, due date, total, outstanding).
async fn invoices(api: &Api, key: &str) -> Vec<[String; 6]> {
    let (status, billing) = api.get("/v1/accounts/A1/billing", key).await;
    assert_eq!(status, StatusCode::OK, "{billing}");
    billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| {
            let invoice = &record["invoice"];
            let text = |v: &Value| v.as_str().unwrap_or("premium").to_string();
            let total: Decimal = text(&invoice["total"]["amount"]).parse().unwrap();
            let settled = ["paid", "credited", "written_off"]
                .iter()
                .map(|k| text(&record[*k]).parse::<Decimal>().unwrap())
                .sum::<Decimal>();
            [
                text(&invoice["locator"]),
                text(&invoice["stream"]),
                text(&invoice["issue_date"]),
                text(&invoice["due_date"]),
                total.to_string(),
                (total - settled).to_string(),
            ]
        })
        .collect()
}

fn rows(rows: &[[&str; 6]]) -> Vec<[String; 6]> {
    rows.iter().map(|r| r.map(str::to_string)).collect()
}

#[tokio::test]
async fn a_deductible_goes_on_its_own_invoice_due_after_the_deductible_due_days() {
    let api = Api::new();
    let key = lab(&api).await;
    charge(&api, &key, "policy-fee", "100.00", "next").await;
    charge(&api, &key, "deductible", "500.00", "immediate").await;
    assert_eq!(
        invoices(&api, &key).await,
        rows(&[
            [
                "A1-I1",
                "premium",
                "2026-03-10",
                "2026-03-25",
                "100.00",
                "100.00"
            ],
            [
                "A1-I2",
                "deductible",
                "2026-03-10",
                "2026-04-09",
                "500.00",
                "500.00"
            ],
        ])
    );
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    let first = &billing["invoices"][0]["invoice"];
    assert_eq!(
        first.get("stream"),
        None,
        "premium is the default, left out"
    );
}

#[tokio::test]
async fn an_account_may_have_deductible_due_days_of_its_own() {
    let api = Api::new();
    let key = lab(&api).await;
    let overrides = json!({"overrides": {"deductible_invoice_due_days": 45}});
    let (status, answer) = api
        .post("/v1/accounts/A1/billing-settings", &key, overrides)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    charge(&api, &key, "deductible", "250.00", "immediate").await;
    assert_eq!(
        invoices(&api, &key).await,
        rows(&[[
            "A1-I1",
            "deductible",
            "2026-03-10",
            "2026-04-24",
            "250.00",
            "250.00"
        ]])
    );
}

#[tokio::test]
async fn deductible_due_days_below_zero_or_over_366_are_refused_and_change_nothing() {
    let api = Api::new();
    let key = lab(&api).await;
    let before = api.get("/v1/events?limit=1000", &key).await.1;
    for (path, body, code) in [
        (
            "/v1/billing/settings",
            json!({"settings": {"deductible_invoice_due_days": 367}}),
            Some("invalid_deductible_due_days"),
        ),
        (
            "/v1/accounts/A1/billing-settings",
            json!({"overrides": {"deductible_invoice_due_days": 367}}),
            Some("invalid_deductible_due_days"),
        ),
        (
            "/v1/billing/settings",
            json!({"settings": {"deductible_invoice_due_days": -1}}),
            None,
        ),
        (
            "/v1/accounts/A1/billing-settings",
            json!({"overrides": {"deductible_invoice_due_days": -1}}),
            None,
        ),
    ] {
        let (status, problem) = api.post(path, &key, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        if let Some(code) = code {
            assert_eq!(problem["code"], code, "{problem}");
            assert!(
                problem["detail"].as_str().unwrap().contains("367"),
                "{problem}"
            );
        } else {
            assert!(problem["code"].is_string(), "{problem}");
        }
    }
    assert_eq!(api.get("/v1/events?limit=1000", &key).await.1, before);
    let (_, settings) = api.get("/v1/billing/settings", &key).await;
    assert_eq!(settings["deductible_invoice_due_days"], 30);
}

#[tokio::test]
async fn credit_flagged_for_deductibles_pays_only_deductible_invoices() {
    let api = Api::new();
    let key = lab(&api).await;
    charge(&api, &key, "policy-fee", "100.00", "next").await;
    charge(&api, &key, "deductible", "500.00", "immediate").await;
    let flagged = json!({"account": "A1", "amount": "700.00", "received_on": "2026-03-10",
                         "for_deductibles": true});
    let (status, answer) = api.post("/v1/payments", &key, flagged).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        invoices(&api, &key).await,
        rows(&[
            [
                "A1-I1",
                "premium",
                "2026-03-10",
                "2026-03-25",
                "100.00",
                "100.00"
            ],
            [
                "A1-I2",
                "deductible",
                "2026-03-10",
                "2026-04-09",
                "500.00",
                "0.00"
            ],
        ])
    );
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["credit"], "200.00", "{billing}");
    assert_eq!(billing["deductible_credit"], "200.00", "{billing}");

    // Ordinary credit never pays the premium invoice from flagged credit.
    let (status, problem) = api
        .post(
            "/v1/credit-distributions",
            &key,
            json!({"account": "A1", "on": "2026-03-10", "targets": [{"invoice": "A1-I1"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, problem) = api
        .post(
            "/v1/credit-distributions",
            &key,
            json!({"account": "A1", "on": "2026-03-10"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

    // A second deductible takes the flagged credit as it is generated
    // (credit applied on invoice generation); the premium still owes.
    charge(&api, &key, "deductible", "150.00", "immediate").await;
    assert_eq!(
        invoices(&api, &key).await,
        rows(&[
            [
                "A1-I1",
                "premium",
                "2026-03-10",
                "2026-03-25",
                "100.00",
                "100.00"
            ],
            [
                "A1-I2",
                "deductible",
                "2026-03-10",
                "2026-04-09",
                "500.00",
                "0.00"
            ],
            [
                "A1-I3",
                "deductible",
                "2026-03-10",
                "2026-04-09",
                "150.00",
                "0.00"
            ],
        ])
    );
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["credit"], "50.00", "{billing}");
    assert_eq!(billing["deductible_credit"], "50.00", "{billing}");
}

#[tokio::test]
async fn a_payment_for_deductibles_naming_a_premium_invoice_is_refused_and_changes_nothing() {
    let api = Api::new();
    let key = lab(&api).await;
    charge(&api, &key, "policy-fee", "100.00", "next").await;
    charge(&api, &key, "deductible", "500.00", "immediate").await;
    let before = api.get("/v1/events?limit=1000", &key).await.1;
    let body = json!({"account": "A1", "amount": "100.00", "received_on": "2026-03-10",
                      "invoices": ["A1-I1"], "for_deductibles": true});
    let (status, problem) = api.post("/v1/payments", &key, body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "not_a_deductible_invoice", "{problem}");
    assert_eq!(api.get("/v1/events?limit=1000", &key).await.1, before);
}

#[tokio::test]
async fn ordinary_credit_does_not_pay_a_deductible_invoice() {
    let api = Api::new();
    let key = lab(&api).await;
    let payment = json!({"account": "A1", "amount": "300.00", "received_on": "2026-03-10"});
    let (status, answer) = api.post("/v1/payments", &key, payment).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    charge(&api, &key, "deductible", "500.00", "immediate").await;
    let (status, problem) = api
        .post(
            "/v1/credit-distributions",
            &key,
            json!({"account": "A1", "on": "2026-03-10"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(
        invoices(&api, &key).await,
        rows(&[[
            "A1-I1",
            "deductible",
            "2026-03-10",
            "2026-04-09",
            "500.00",
            "500.00"
        ]])
    );
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["credit"], "300.00", "{billing}");
}

#[tokio::test]
async fn a_returned_payment_for_deductibles_takes_back_its_flagged_credit() {
    let api = Api::new();
    let key = lab(&api).await;
    charge(&api, &key, "deductible", "500.00", "immediate").await;
    let flagged = json!({"account": "A1", "amount": "700.00", "received_on": "2026-03-10",
                         "for_deductibles": true});
    let (status, answer) = api.post("/v1/payments", &key, flagged).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = api
        .post(
            "/v1/payments/A1-P1/reversals",
            &key,
            json!({"account": "A1", "on": "2026-03-10"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        invoices(&api, &key).await,
        rows(&[[
            "A1-I1",
            "deductible",
            "2026-03-10",
            "2026-04-09",
            "500.00",
            "500.00"
        ]])
    );
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["credit"], "0.00", "{billing}");
    assert_eq!(billing.get("deductible_credit"), None, "{billing}");
}
