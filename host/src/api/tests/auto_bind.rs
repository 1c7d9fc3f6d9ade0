//! Automatic binding after payment (seed 003's "Auto Bind Setting"), over
//! HTTP on a test tenant whose clock starts on 2025-12-15: held
//! transactions, their binding by a payment (with credit), their expiry,
//! the listing and refused settings. Amounts are worked out by hand: P1
//! costs 1200.00 a year, monthly from 2026-01-01 (100.00 a month); doubling
//! it from 2026-01-01 adds 1200.00, whose first invoice (2026-01-01) bills
//! 100.00.

use super::*;
use crate::boot::create_tenant_on;

/// A test tenant on 2025-12-15 with the product, account A1 and
/// `auto_bind` set to `auto_bind`; returns its admin key.
async fn lab(api: &Api, auto_bind: Value) -> String {
    let key = create_tenant_on(&api.state, "lab", Some("2025-12-15".parse().unwrap())).unwrap();
    let key = with_product_and_account(api, key).await;
    let (status, answer) = api
        .post(
            "/v1/billing/settings",
            &key,
            json!({"settings": {"auto_bind": auto_bind}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    key
}

fn monthly_policy() -> Value {
    let mut body = policy("P1", "1200.00");
    body["plan"] = json!("monthly");
    body
}

fn doubling() -> Value {
    json!({"effective": "2026-01-01", "changes": [{"op": "set_peril_fields", "exposure": "V1", "peril": "V1-COLL", "fields": {"yearly_premium": ["2400.00"]}}]})
}

async fn pay(api: &Api, key: &str, amount: &str, on: &str) -> Value {
    let (status, answer) = api
        .post(
            "/v1/payments",
            key,
            json!({"account": "A1", "amount": amount, "received_on": on}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

/// Moves the clock to `day` and runs billing up to it.
async fn run_on(api: &Api, key: &str, day: &str) {
    let (status, answer) = api.post("/v1/clock", key, json!({"today": day})).await;
    assert!(status.is_success(), "{answer}");
    let (status, report) = api.post("/v1/billing/runs", key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
}

/// The automatic binding events an answer shows, by type.
fn binding_events(effect: &Value) -> Vec<String> {
    effect["other_events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter_map(|e| e["binding"]["type"].as_str())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

async fn pending(api: &Api, key: &str) -> Vec<Value> {
    let (status, list) = api.get("/v1/pending-transactions?account=A1", key).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["data"].as_array().unwrap().clone()
}

/// Every invoice of A1: issue date and total.
async fn invoices(api: &Api, key: &str) -> Vec<(String, String)> {
    let (status, billing) = api.get("/v1/accounts/A1/billing", key).await;
    assert_eq!(status, StatusCode::OK, "{billing}");
    billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let i = &r["invoice"];
            (
                i["issue_date"].as_str().unwrap().to_string(),
                i["total"]["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_endorsement_is_held_until_a_payment_with_credit_covers_its_first_invoice_then_bound() {
    let api = Api::new();
    let key = lab(
        &api,
        json!({"transactions": ["endorsement"], "expire_after_days": 30}),
    )
    .await;
    // New business is not listed: it binds at once, as before.
    let (status, issued) = api.post("/v1/policies", &key, monthly_policy()).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(amounts(&issued, "premium"), vec!["1200.00"]);
    let (_, policy_before) = api.get("/v1/policies/P1", &key).await;

    let (status, held) = api
        .post("/v1/policies/P1/endorsements", &key, doubling())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    assert!(held["charges"].as_array().unwrap().is_empty(), "{held}");
    assert!(held.get("transactions").is_none(), "{held}");
    assert_eq!(binding_events(&held), vec!["transaction_pending"]);
    assert_eq!(
        api.get("/v1/policies/P1", &key).await.1,
        policy_before,
        "a held endorsement changes nothing"
    );
    let list = pending(&api, &key).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["locator"], "pending-1");
    assert_eq!(list[0]["status"], "pending");
    assert_eq!(list[0]["transaction_type"], "endorsement");
    assert_eq!(list[0]["required"], "100.00");
    assert_eq!(list[0]["arrived_on"], "2025-12-15");
    assert_eq!(list[0]["expires_on"], "2026-01-14");

    // 99.99 is not enough: it goes to credit and the endorsement waits.
    let short = pay(&api, &key, "99.99", "2025-12-15").await;
    assert!(binding_events(&short).is_empty(), "{short}");
    assert_eq!(pending(&api, &key).await[0]["status"], "pending");
    assert_eq!(api.get("/v1/policies/P1", &key).await.1, policy_before);

    // 0.01 more, with the 99.99 of credit, covers the 100.00.
    let (status, _) = api
        .post("/v1/clock", &key, json!({"today": "2025-12-20"}))
        .await;
    assert!(status.is_success());
    let paid = pay(&api, &key, "0.01", "2025-12-20").await;
    assert!(
        binding_events(&paid).contains(&"transaction_bound".to_string()),
        "{paid}"
    );
    assert_eq!(amounts(&paid, "premium"), vec!["1200.00"]);
    assert_eq!(paid["transactions"][0]["locator"], "P1-T2");
    assert_eq!(
        paid["transactions"][0]["effective"], "2026-01-01",
        "bound with its original effective date"
    );
    let list = pending(&api, &key).await;
    assert_eq!(list[0]["status"], "bound");
    assert_eq!(list[0]["settled_on"], "2025-12-20");
    assert_eq!(list[0]["payment"], "A1-P2");

    // January bills the policy's 100.00 and the endorsement's 100.00; the
    // 100.00 of credit pays half of it.
    run_on(&api, &key, "2026-01-01").await;
    assert_eq!(
        invoices(&api, &key).await,
        vec![("2026-01-01".to_string(), "200.00".to_string())]
    );
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["invoices"][0]["outstanding"], "100.00", "{billing}");
}

#[tokio::test]
async fn an_endorsement_never_paid_expires_in_the_billing_run_of_its_expiry_day_and_never_binds() {
    let api = Api::new();
    let key = lab(
        &api,
        json!({"transactions": ["endorsement"], "expire_after_days": 30}),
    )
    .await;
    let (status, _) = api.post("/v1/policies", &key, monthly_policy()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api
        .post("/v1/policies/P1/endorsements", &key, doubling())
        .await;
    assert_eq!(status, StatusCode::CREATED);

    run_on(&api, &key, "2026-01-13").await;
    assert_eq!(pending(&api, &key).await[0]["status"], "pending");
    run_on(&api, &key, "2026-01-14").await;
    let list = pending(&api, &key).await;
    assert_eq!(list[0]["status"], "expired");
    assert_eq!(list[0]["settled_on"], "2026-01-14");

    // A payment after the expiry binds nothing: February bills 100.00.
    let paid = pay(&api, &key, "500.00", "2026-01-14").await;
    assert!(binding_events(&paid).is_empty(), "{paid}");
    run_on(&api, &key, "2026-02-01").await;
    assert_eq!(
        invoices(&api, &key).await,
        vec![
            ("2026-01-01".to_string(), "100.00".to_string()),
            ("2026-02-01".to_string(), "100.00".to_string()),
        ]
    );
}

#[tokio::test]
async fn new_business_is_held_until_paid_and_its_preview_shows_it_pending() {
    let api = Api::new();
    let key = lab(
        &api,
        json!({"transactions": ["new_business"], "expire_after_days": 10}),
    )
    .await;
    let (status, preview) = api
        .post("/v1/policies?preview=true", &key, monthly_policy())
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(binding_events(&preview), vec!["transaction_pending"]);
    assert!(
        pending(&api, &key).await.is_empty(),
        "a preview keeps nothing"
    );

    let (status, held) = api.post("/v1/policies", &key, monthly_policy()).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    assert_eq!(binding_events(&held), vec!["transaction_pending"]);
    assert_eq!(
        api.get("/v1/policies/P1", &key).await.0,
        StatusCode::NOT_FOUND
    );
    let list = pending(&api, &key).await;
    assert_eq!(list[0]["transaction_type"], "new_business");
    assert_eq!(list[0]["policy"], "P1");
    assert_eq!(list[0]["required"], "100.00");
    assert_eq!(list[0]["expires_on"], "2025-12-25");

    let paid = pay(&api, &key, "100.00", "2025-12-15").await;
    assert_eq!(amounts(&paid, "premium"), vec!["1200.00"], "{paid}");
    assert_eq!(api.get("/v1/policies/P1", &key).await.0, StatusCode::OK);
    assert_eq!(pending(&api, &key).await[0]["status"], "bound");
    run_on(&api, &key, "2026-01-01").await;
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(
        billing["invoices"][0]["invoice"]["total"]["amount"],
        "100.00"
    );
    assert_eq!(billing["invoices"][0]["outstanding"], "0", "{billing}");
}

#[tokio::test]
async fn bad_auto_bind_settings_are_refused_with_a_stable_code_and_change_nothing() {
    let api = Api::new();
    let key = crate::boot::create_tenant_on(&api.state, "lab", Some("2025-12-15".parse().unwrap()))
        .unwrap();
    let (_, before) = api.get("/v1/billing/settings", &key).await;
    for (auto_bind, code) in [
        (
            json!({"transactions": ["endorsement"], "expire_after_days": 0}),
            "invalid_auto_bind",
        ),
        (
            json!({"transactions": ["endorsement"], "expire_after_days": 367}),
            "invalid_auto_bind",
        ),
    ] {
        let (status, problem) = api
            .post(
                "/v1/billing/settings",
                &key,
                json!({"settings": {"auto_bind": auto_bind}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["code"], code);
    }
    let (status, problem) = api
        .post(
            "/v1/billing/settings",
            &key,
            json!({"settings": {"auto_bind": {"transactions": ["declaration"], "expire_after_days": 30}}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "invalid_body");
    assert_eq!(api.get("/v1/billing/settings", &key).await.1, before);
    assert!(before.get("auto_bind").is_none(), "{before}");
    // The largest expiry is accepted.
    let (status, answer) = api
        .post(
            "/v1/billing/settings",
            &key,
            json!({"settings": {"auto_bind": {"transactions": ["renewal", "cancellation", "reinstatement"], "expire_after_days": 366}}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

#[tokio::test]
async fn pending_transactions_bind_in_arrival_order_and_credit_that_bound_one_is_not_counted_again()
{
    let api = Api::new();
    let key = lab(
        &api,
        json!({"transactions": ["endorsement"], "expire_after_days": 30}),
    )
    .await;
    for locator in ["P1", "P2"] {
        let mut body = monthly_policy();
        body["locator"] = json!(locator);
        let (status, answer) = api.post("/v1/policies", &key, body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    for locator in ["P1", "P2"] {
        let (status, answer) = api
            .post(
                &format!("/v1/policies/{locator}/endorsements"),
                &key,
                doubling(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    // A held command that would be refused is refused at once.
    let (status, problem) = api
        .post("/v1/policies/P9/endorsements", &key, doubling())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    let status_of = |list: &[Value]| -> Vec<(String, String)> {
        list.iter()
            .map(|p| {
                (
                    p["policy"].as_str().unwrap().to_string(),
                    p["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let s = |p: &str, st: &str| (p.to_string(), st.to_string());
    assert_eq!(
        status_of(&pending(&api, &key).await),
        vec![s("P1", "pending"), s("P2", "pending")]
    );

    // 150.00 covers the first (100.00), not both.
    let paid = pay(&api, &key, "150.00", "2025-12-15").await;
    assert_eq!(binding_events(&paid), vec!["transaction_bound"]);
    assert_eq!(paid["transactions"][0]["locator"], "P1-T2");
    let list = pending(&api, &key).await;
    assert_eq!(list[0]["first_invoice_on"], "2026-01-01");
    assert_eq!(status_of(&list), vec![s("P1", "bound"), s("P2", "pending")]);
    // 40.00 with the 50.00 of credit not set aside for P1 is 90.00: short.
    let paid = pay(&api, &key, "40.00", "2025-12-15").await;
    assert!(binding_events(&paid).is_empty(), "{paid}");
    // 10.00 more makes 100.00.
    let paid = pay(&api, &key, "10.00", "2025-12-15").await;
    assert_eq!(binding_events(&paid), vec!["transaction_bound"]);
    assert_eq!(paid["transactions"][0]["locator"], "P2-T2");
    assert_eq!(
        status_of(&pending(&api, &key).await),
        vec![s("P1", "bound"), s("P2", "bound")]
    );
}
