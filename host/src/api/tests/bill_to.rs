//! Bill-to parties (seed 003) over HTTP: an account's own billing settings
//! override the billing entity's defaults (its billing day, its
//! communication preference, automatic billing), and turning automatic
//! billing back on bills what accumulated on one catch-up invoice. Test
//! tenant `lab` (today 2025-12-15); A1 and A2 each with a monthly policy of
//! 1200.00 a year (100.00 a month) from 2026-01-01, paid in advance.

use super::*;
use crate::boot::create_tenant_on;

async fn lab(api: &Api) -> String {
    let key = create_tenant_on(&api.state, "lab", Some("2025-12-15".parse().unwrap())).unwrap();
    let (status, answer) = api.post("/v1/products", &key, product()).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    for (account, policy) in [("A1", "P1"), ("A2", "P2")] {
        let (status, answer) = api
            .post(
                "/v1/accounts",
                &key,
                json!({"locator": account, "name": account, "currency": "USD"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let mut body = policy_body(policy);
        body["account"] = json!(account);
        let (status, answer) = api.post("/v1/policies", &key, body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        // Paid in advance: nothing here is ever past due.
        let (status, answer) = api
            .post(
                "/v1/payments",
                &key,
                json!({"account": account, "amount": "2000.00", "received_on": "2025-12-15"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    key
}

fn policy_body(locator: &str) -> Value {
    let mut body = policy(locator, "1200.00");
    body["plan"] = json!("monthly");
    body
}

async fn run_on(api: &Api, key: &str, day: &str) {
    let (status, answer) = api.post("/v1/clock", key, json!({"today": day})).await;
    assert!(status.is_success(), "{answer}");
    let (status, report) = api.post("/v1/billing/runs", key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
}

/// The invoices of `account`: (issue date, total).
async fn invoices(api: &Api, key: &str, account: &str) -> Vec<(String, String)> {
    let (status, billing) = api
        .get(&format!("/v1/accounts/{account}/billing"), key)
        .await;
    assert_eq!(status, StatusCode::OK, "{billing}");
    billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["invoice"]["issue_date"].as_str().unwrap().to_string(),
                i["invoice"]["total"]["amount"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

fn rows(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn a_bill_to_partys_own_calendar_moves_its_billing_day_and_the_others_keep_the_tenants() {
    let api = Api::new();
    let key = lab(&api).await;
    let monthly_on = |day: u8| json!({"frequency": "monthly", "day": {"day-of-month": day}, "weekends_allowed": true});
    let (status, answer) = api
        .post(
            "/v1/billing/settings",
            &key,
            json!({"settings": {"calendar": monthly_on(1)}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = api
        .post(
            "/v1/accounts/A1/billing-settings",
            &key,
            json!({"overrides": {"calendar": monthly_on(15), "communication": "fax"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    for day in ["2026-01-01", "2026-01-15", "2026-02-01", "2026-02-15"] {
        run_on(&api, &key, day).await;
    }
    assert_eq!(
        invoices(&api, &key, "A1").await,
        rows(&[("2026-01-15", "100.00"), ("2026-02-15", "100.00")])
    );
    assert_eq!(
        invoices(&api, &key, "A2").await,
        rows(&[("2026-01-01", "100.00"), ("2026-02-01", "100.00")])
    );
    let (_, settings) = api.get("/v1/accounts/A1/billing-settings", &key).await;
    assert_eq!(settings["in_effect"]["communication"], "fax", "{settings}");
    let (_, settings) = api.get("/v1/accounts/A2/billing-settings", &key).await;
    assert_eq!(
        settings["in_effect"]["communication"],
        Value::Null,
        "email, the default"
    );
}

#[tokio::test]
async fn turning_automatic_billing_back_on_bills_what_accumulated_on_one_catch_up_invoice() {
    let api = Api::new();
    let key = lab(&api).await;
    let (status, answer) = api
        .post(
            "/v1/accounts/A1/billing-settings",
            &key,
            json!({"overrides": {"automatic_billing": false}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let held = answer["other_events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["collections"]["type"] == "hold_placed")
        .unwrap_or_else(|| panic!("an invoicing hold: {answer}"))
        .clone();
    assert_eq!(held["collections"]["hold"]["kind"]["kind"], "invoicing");
    assert_eq!(held["collections"]["hold"]["from"], "2025-12-15");
    // Turning it off again changes no hold.
    let (status, again) = api
        .post(
            "/v1/accounts/A1/billing-settings",
            &key,
            json!({"overrides": {"automatic_billing": false, "invoice_due_days": 10}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert!(
        !again["other_events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["collections"]["type"] == "hold_placed"),
        "{again}"
    );
    run_on(&api, &key, "2026-01-01").await;
    run_on(&api, &key, "2026-02-01").await;
    assert!(invoices(&api, &key, "A1").await.is_empty());
    assert_eq!(invoices(&api, &key, "A2").await.len(), 2);

    // Back on, on 2026-02-10: January's and February's installments on one
    // invoice issued that day, due 10 days later; March as usual.
    let (status, _) = api
        .post("/v1/clock", &key, json!({"today": "2026-02-10"}))
        .await;
    assert!(status.is_success());
    let (status, answer) = api
        .post(
            "/v1/accounts/A1/billing-settings",
            &key,
            json!({"overrides": {"automatic_billing": true, "invoice_due_days": 10}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        invoices(&api, &key, "A1").await,
        rows(&[("2026-02-10", "200.00")])
    );
    run_on(&api, &key, "2026-03-01").await;
    assert_eq!(
        invoices(&api, &key, "A1").await,
        rows(&[("2026-02-10", "200.00"), ("2026-03-01", "100.00")])
    );
    // The billing entity's default cannot be turned off: per party only.
    let (status, refused) = api
        .post(
            "/v1/billing/settings",
            &key,
            json!({"settings": {"automatic_billing": false}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["code"], "automatic_billing_per_account");
}
