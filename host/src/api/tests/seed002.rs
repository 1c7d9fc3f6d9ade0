//! Seed 002's flow over HTTP, from quote to confirmation: the policy system
//! quotes before the billing system knows the account, asks for the
//! billing options (every plan with its payment schedule), binds with the
//! account's details and an up-front payment, and is told when the term is
//! confirmed. Test tenant `lab` (today 2025-12-15); product `auto` (plans
//! `monthly` and `annual`); policy P1 of 1200.00 a year from 2026-01-01.

use super::*;
use crate::boot::create_tenant_on;

async fn lab(api: &Api) -> String {
    let key = create_tenant_on(&api.state, "lab", Some("2025-12-15".parse().unwrap())).unwrap();
    let (status, answer) = api.post("/v1/products", &key, product()).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    key
}

/// P1 for account `NEW`, which the billing system does not know.
fn bind_body() -> Value {
    let mut body = policy("P1", "1200.00");
    body["account"] = json!("NEW");
    body["plan"] = json!("monthly");
    body
}

#[tokio::test]
async fn a_quote_needs_no_account_and_the_billing_options_show_every_plans_schedule() {
    let api = Api::new();
    let key = lab(&api).await;
    let mut body = policy("P1", "1200.00");
    body.as_object_mut().unwrap().remove("account");
    let (status, quote) = api.post("/v1/quotes", &key, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{quote}");
    assert_eq!(quote["currency"], "USD");
    assert_eq!(quote["total"], "1200.00");

    let (status, options) = api.post("/v1/quotes/billing-options", &key, body).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert_eq!(options["billing_methods"], json!(["direct_bill"]));
    assert_eq!(options["default_plan"], "annual");
    let plans = options["plans"].as_array().unwrap();
    let plan = |name: &str| plans.iter().find(|p| p["plan"] == name).unwrap().clone();
    let annual = plan("annual");
    assert_eq!(annual["total"], "1200.00");
    assert_eq!(annual["installments"].as_array().unwrap().len(), 1);
    assert_eq!(annual["installments"][0]["invoice_date"], "2026-01-01");
    assert_eq!(annual["installments"][0]["amount"], "1200.00");
    let monthly = plan("monthly");
    let installments = monthly["installments"].as_array().unwrap();
    assert_eq!(installments.len(), 12);
    assert!(
        installments.iter().all(|i| i["amount"] == "100.00"),
        "{monthly}"
    );
    assert_eq!(installments[1]["invoice_date"], "2026-02-01");
    // Nothing was kept: no account, no policy.
    let (status, _) = api.get("/v1/accounts/quote", &key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_bind_creates_the_unknown_account_applies_its_up_front_payment_and_the_paid_term_is_confirmed_and_told()
 {
    let api = Api::new();
    let key = lab(&api).await;
    let mut body = bind_body();
    body["account_details"] = json!({"name": "Ada Lovelace"});
    body["confirmation_notification"] = json!("notify_upon_sufficient_payment");
    body["up_front_payments"] = json!([{"amount": "100.00", "reference": "card at bind"}]);
    let headers = [("idempotency-key", "bind-P1")];
    let (status, bound) = api
        .call(
            "POST",
            "/v1/policies",
            Some(&key),
            Some(body.clone()),
            &headers,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    assert_eq!(bound["accounts"][0]["locator"], "NEW");
    assert_eq!(bound["accounts"][0]["currency"], "USD");
    // A retry with the same key creates nothing more.
    let (status, again) = api
        .call("POST", "/v1/policies", Some(&key), Some(body), &headers)
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let (status, account) = api.get("/v1/accounts/NEW", &key).await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!(account["account"]["name"], "Ada Lovelace");
    assert_eq!(account["credit"], "100.00");

    let (_, read) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(
        read["term_standing"],
        json!([{"term": 1, "bound_on": "2025-12-15", "confirmed": false}])
    );
    assert_eq!(
        read["header"]["confirmation_notification"],
        "notify_upon_sufficient_payment"
    );

    // The first invoice (100.00 on 2026-01-01) is paid by the up-front
    // payment: the term is confirmed, and the policy system told.
    let (status, _) = api
        .post("/v1/clock", &key, json!({"today": "2026-01-01"}))
        .await;
    assert!(status.is_success());
    let (status, report) = api.post("/v1/billing/runs", &key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (_, read) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(read["term_standing"][0]["confirmed"], true, "{read}");
    let (_, told) = api
        .get("/v1/events?kind=policy_system_notified", &key)
        .await;
    let told = told["data"].as_array().unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    let notice = &told[0]["event"]["book"];
    assert_eq!(notice["policy"], "P1");
    assert_eq!(notice["term"], 1);
    assert_eq!(notice["on"], "2026-01-01");
}

#[tokio::test]
async fn a_term_of_a_policy_bound_without_notification_is_confirmed_without_telling() {
    let api = Api::new();
    let key = lab(&api).await;
    let mut body = bind_body();
    body["account_details"] = json!({"name": "Ada"});
    body["up_front_payments"] = json!([{"amount": "100.00"}]);
    let (status, bound) = api.post("/v1/policies", &key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    api.post("/v1/clock", &key, json!({"today": "2026-01-01"}))
        .await;
    api.post("/v1/billing/runs", &key, json!({})).await;
    let (_, read) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(read["term_standing"][0]["confirmed"], true, "{read}");
    let (_, told) = api
        .get("/v1/events?kind=policy_system_notified", &key)
        .await;
    assert!(told["data"].as_array().unwrap().is_empty(), "{told}");
}

#[tokio::test]
async fn a_bind_in_another_currency_than_the_products_or_for_an_unknown_account_without_details_changes_nothing()
 {
    let api = Api::new();
    let key = lab(&api).await;
    let mut body = bind_body();
    body["account_details"] = json!({"name": "Ada", "currency": "EUR"});
    let (status, refused) = api.post("/v1/policies", &key, body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["code"], "currency_mismatch");
    let (status, refused) = api.post("/v1/policies", &key, bind_body()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    assert_eq!(refused["code"], "account_not_found");
    let mut body = bind_body();
    body["account_details"] = json!({"name": "  "});
    let (status, refused) = api.post("/v1/policies", &key, body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["code"], "invalid_account_name");
    // A preview of a bind with its payment shows both, and keeps nothing.
    let mut body = bind_body();
    body["account_details"] = json!({"name": "Ada"});
    body["up_front_payments"] = json!([{"amount": "100.00"}]);
    let (status, previewed) = api.post("/v1/policies?preview=true", &key, body).await;
    assert_eq!(status, StatusCode::OK, "{previewed}");
    assert_eq!(previewed["accounts"][0]["locator"], "NEW");
    assert!(
        previewed["other_events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["collections"]["type"] == "payment_received"),
        "{previewed}"
    );
    let (status, _) = api.get("/v1/accounts/NEW", &key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
