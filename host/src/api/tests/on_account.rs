//! Seed 003's On Account Balance rules over HTTP: credit from a payment
//! made for a policy term or a transaction pays only that term's or
//! transaction's invoices (never another policy's, never free to refund);
//! "apply to future installments on collection" pays the scope's next
//! installments at once, in full, on one invoice owing nothing; "apply the
//! remainder to the next charges" pays part of the one after; and the
//! options seed 003 never shows together are refused.
//!
//! Test tenant `lab` (today 2026-01-01), account A1 (USD), invoices
//! separated by policy; policies of 1200.00 a year from 2026-01-01.

use super::*;
use crate::boot::create_tenant_on;

async fn lab(api: &Api, credit: Value) -> String {
    let key = create_tenant_on(&api.state, "lab", Some("2026-01-01".parse().unwrap())).unwrap();
    let key = with_product_and_account(api, key).await;
    let settings = json!({"settings": {"separate_invoices_by": "policy", "credit": credit}});
    let (status, answer) = api.post("/v1/billing/settings", &key, settings).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    key
}

async fn bind(api: &Api, key: &str, locator: &str, plan: &str) {
    let mut body = policy(locator, "1200.00");
    body["plan"] = json!(plan);
    let (status, answer) = api.post("/v1/policies", key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

async fn run_on(api: &Api, key: &str, day: &str) {
    let (status, answer) = api.post("/v1/clock", key, json!({"today": day})).await;
    assert!(status.is_success(), "{answer}");
    let (status, report) = api.post("/v1/billing/runs", key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
}

async fn pay(api: &Api, key: &str, amount: &str, extra: Value) -> Value {
    let mut body = json!({"account": "A1", "amount": amount, "received_on": "2026-01-01"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, answer) = api.post("/v1/payments", key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

/// A1's invoices: (locator, policies billed, issue date, due date, total,
/// outstanding).
async fn invoices(api: &Api, key: &str) -> Vec<(String, String, String, String, String, String)> {
    let (status, billing) = api.get("/v1/accounts/A1/billing", key).await;
    assert_eq!(status, StatusCode::OK, "{billing}");
    billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| {
            let invoice = &record["invoice"];
            let number = |v: &Value| {
                v.as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            };
            let total = number(&invoice["total"]["amount"]);
            let settled = number(&record["paid"])
                + number(&record["credited"])
                + number(&record["written_off"]);
            let mut policies: Vec<String> = invoice["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|i| i["policy"].as_str().map(str::to_string))
                .collect();
            policies.dedup();
            (
                invoice["locator"].as_str().unwrap().to_string(),
                policies.join("+"),
                invoice["issue_date"].as_str().unwrap().to_string(),
                invoice["due_date"].as_str().unwrap().to_string(),
                total.to_string(),
                (total - settled).to_string(),
            )
        })
        .collect()
}

fn row(cells: [&str; 6]) -> (String, String, String, String, String, String) {
    let [a, b, c, d, e, f] = cells.map(str::to_string);
    (a, b, c, d, e, f)
}

async fn reserved(api: &Api, key: &str) -> Value {
    let (_, billing) = api.get("/v1/accounts/A1/billing", key).await;
    billing["reserved_credit"].clone()
}

#[tokio::test]
async fn credit_reserved_for_a_term_pays_that_terms_invoices_and_not_another_policys() {
    let api = Api::new();
    let key = lab(&api, json!({})).await;
    bind(&api, &key, "P1", "monthly").await;
    bind(&api, &key, "P2", "monthly").await;
    // Nothing is open yet: all 300.00 is reserved for term 1 of P1.
    let paid = pay(
        &api,
        &key,
        "300.00",
        json!({"reserved_for": {"for": "term", "policy": "P1", "term": 1}}),
    )
    .await;
    assert_eq!(
        paid["other_events"][0]["collections"]["payment"]["to_credit"], "300.00",
        "{paid}"
    );
    run_on(&api, &key, "2026-01-01").await;
    let got = invoices(&api, &key).await;
    assert_eq!(
        got,
        vec![
            row(["A1-I1", "P1", "2026-01-01", "2026-01-01", "100.00", "0.00"]),
            row([
                "A1-I2",
                "P2",
                "2026-01-01",
                "2026-01-01",
                "100.00",
                "100.00"
            ]),
        ]
    );
    assert_eq!(
        reserved(&api, &key).await,
        json!([{"scope": {"for": "term", "policy": "P1", "term": 1}, "amount": "200.00"}])
    );
    // Reserved credit is not free credit: it is not refunded.
    let (status, problem) = api
        .post(
            "/v1/disbursements",
            &key,
            json!({"account": "A1", "amount": "50.00", "reason": "refund", "on": "2026-01-01"}),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("disbursement_exceeds_credit")
        ),
        "{problem}"
    );
    // P2's invoice is paid by a payment of its own; another month: P1's
    // second installment is paid by the reserved credit too.
    pay(&api, &key, "100.00", json!({"invoices": ["A1-I2"]})).await;
    run_on(&api, &key, "2026-02-01").await;
    let got = invoices(&api, &key).await;
    assert_eq!(
        got[2],
        row(["A1-I3", "P1", "2026-02-01", "2026-02-01", "100.00", "0.00"])
    );
    assert_eq!(
        got[3],
        row([
            "A1-I4",
            "P2",
            "2026-02-01",
            "2026-02-01",
            "100.00",
            "100.00"
        ])
    );
    assert_eq!(reserved(&api, &key).await[0]["amount"], "100.00");
}

#[tokio::test]
async fn credit_reserved_for_a_transaction_pays_only_invoices_of_that_transaction() {
    let api = Api::new();
    let key = lab(&api, json!({})).await;
    bind(&api, &key, "P1", "annual").await;
    run_on(&api, &key, "2026-01-01").await;
    // The endorsement doubles the premium from 2026-07-01: +600.00 (T2).
    let endorsement = json!({"effective": "2026-07-01", "changes": [{"op": "set_peril_fields", "exposure": "V1", "peril": "V1-COLL", "fields": {"yearly_premium": ["2400.00"]}}]});
    let (status, answer) = api
        .post("/v1/policies/P1/endorsements", &key, endorsement)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // Made for P1-T2: it does not pay the new-business invoice (T1).
    pay(
        &api,
        &key,
        "600.00",
        json!({"reserved_for": {"for": "transaction", "policy": "P1", "transaction": "P1-T2"}}),
    )
    .await;
    assert_eq!(invoices(&api, &key).await[0].5, "1200.00");
    pay(&api, &key, "1200.00", json!({})).await;
    run_on(&api, &key, "2026-07-01").await;
    let got = invoices(&api, &key).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[1].4.as_str(), got[1].5.as_str()), ("600.00", "0.00"));
    assert_eq!(reserved(&api, &key).await, Value::Null);
}

#[tokio::test]
async fn a_payment_for_a_term_pays_its_next_installments_in_full_at_once() {
    let api = Api::new();
    let key = lab(&api, json!({"apply_to_future_installments": true})).await;
    bind(&api, &key, "P1", "monthly").await;
    run_on(&api, &key, "2026-01-01").await;
    pay(&api, &key, "100.00", json!({})).await;
    // 350.00 for term 1: installments 2, 3 and 4 (300.00) are invoiced
    // today and owe nothing; 50.00 stays reserved.
    pay(
        &api,
        &key,
        "350.00",
        json!({"reserved_for": {"for": "term", "policy": "P1", "term": 1}}),
    )
    .await;
    let got = invoices(&api, &key).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        got[1],
        row(["A1-I2", "P1", "2026-01-01", "2026-02-01", "300.00", "0.00"])
    );
    assert_eq!(reserved(&api, &key).await[0]["amount"], "50.00");
    // February to April bill nothing more; May's installment takes the 50.00.
    run_on(&api, &key, "2026-05-01").await;
    let got = invoices(&api, &key).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        got[2],
        row(["A1-I3", "P1", "2026-05-01", "2026-05-01", "100.00", "50.00"])
    );
}

#[tokio::test]
async fn with_the_remainder_rule_the_next_installment_is_paid_in_part() {
    let api = Api::new();
    let credit =
        json!({"apply_to_future_installments": true, "apply_remainder_to_next_charges": true});
    let key = lab(&api, credit).await;
    bind(&api, &key, "P1", "monthly").await;
    run_on(&api, &key, "2026-01-01").await;
    pay(&api, &key, "100.00", json!({})).await;
    pay(
        &api,
        &key,
        "350.00",
        json!({"reserved_for": {"for": "term", "policy": "P1", "term": 1}}),
    )
    .await;
    let got = invoices(&api, &key).await;
    assert_eq!(
        got[1..],
        [
            row(["A1-I2", "P1", "2026-01-01", "2026-02-01", "300.00", "0.00"]),
            row(["A1-I3", "P1", "2026-01-01", "2026-05-01", "100.00", "50.00"]),
        ]
    );
    assert_eq!(reserved(&api, &key).await, Value::Null);
}

#[tokio::test]
async fn credit_not_reserved_never_pays_future_installments() {
    let api = Api::new();
    let key = lab(&api, json!({"apply_to_future_installments": true})).await;
    bind(&api, &key, "P1", "monthly").await;
    run_on(&api, &key, "2026-01-01").await;
    pay(&api, &key, "450.00", json!({})).await;
    let got = invoices(&api, &key).await;
    assert_eq!(
        got.len(),
        1,
        "free credit waits for the next invoice: {got:?}"
    );
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["credit"], "350.00");
}

#[tokio::test]
async fn bad_scopes_and_options_seed_003_never_shows_together_are_refused() {
    let api = Api::new();
    let key = lab(&api, json!({})).await;
    bind(&api, &key, "P1", "monthly").await;
    for (scope, code) in [
        (
            json!({"for": "term", "policy": "P1", "term": 2}),
            "credit_scope_not_found",
        ),
        (
            json!({"for": "term", "policy": "P9", "term": 1}),
            "credit_scope_not_found",
        ),
        (
            json!({"for": "transaction", "policy": "P1", "transaction": "P1-T7"}),
            "credit_scope_not_found",
        ),
    ] {
        let body = json!({"account": "A1", "amount": "10.00", "received_on": "2026-01-01", "reserved_for": scope});
        let (status, problem) = api.post("/v1/payments", &key, body).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::NOT_FOUND, Some(code)),
            "{problem}"
        );
    }
    let body = json!({"account": "A1", "amount": "10.00", "received_on": "2026-01-01", "for_deductibles": true,
                      "reserved_for": {"for": "term", "policy": "P1", "term": 1}});
    let (status, problem) = api.post("/v1/payments", &key, body).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("reserved_for_deductibles")
        )
    );
    for credit in [
        json!({"apply_on_invoice_generation": false, "apply_to_future_installments": true}),
        json!({"apply_remainder_to_next_charges": true}),
    ] {
        let (status, problem) = api
            .post(
                "/v1/billing/settings",
                &key,
                json!({"settings": {"credit": credit}}),
            )
            .await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("invalid_credit_options")
            ),
            "{problem}"
        );
    }
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert!(billing["payments"].as_array().unwrap().is_empty());
}
