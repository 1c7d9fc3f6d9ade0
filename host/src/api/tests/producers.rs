//! Commissions payable per producer over HTTP (DOMAIN section 10, issue 21
//! item 4): the producer subledger, chargebacks and producer statements per
//! accounting month.
//!
//! By hand: 1200.00 a year from 2026-01-01 with a 10% commission to
//! `agency-7` writes 1200.00 x 10 / 100 = 120.00 of commission payable. A
//! cancellation effective 2026-07-01 (by months) refunds 6 of 12 months of
//! premium, -600.00, and of commission, 120.00 x 6 / 12 = -60.00: a
//! chargeback, leaving 120.00 - 60.00 = 60.00 payable.

use super::*;
use crate::boot::create_tenant_on;

/// A test tenant `lab` on 2025-12-15 with product `auto` (months) booking
/// commissions to its `commission` charge, and account A1; returns its
/// admin key.
async fn lab(api: &Api) -> String {
    let key = create_tenant_on(&api.state, "lab", Some("2025-12-15".parse().unwrap())).unwrap();
    let mut product = product();
    product["charges"]["commission"] = json!({"category": "commission"});
    product["commission_charge"] = json!("commission");
    let (status, answer) = api.post("/v1/products", &key, product).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    with_account(api, key).await
}

/// Issues P1, 1200.00 a year from 2026-01-01, with 10% commission to
/// `agency-7`.
async fn issue_with_commission(api: &Api, key: &str) {
    let mut body = policy("P1", "1200.00");
    body["plan"] = json!("annual");
    body["data"]["fields"] = json!({"commission_percent": ["10"], "producer": ["agency-7"]});
    let (status, answer) = api.post("/v1/policies", key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(amounts(&answer, "premium"), ["1200.00"]);
    assert_eq!(amounts(&answer, "commission"), ["120.00"]);
}

async fn cancel_mid_term(api: &Api, key: &str) {
    let (status, answer) = api
        .post(
            "/v1/policies/P1/cancellations",
            key,
            json!({"effective": "2026-07-01", "reason": "insured_request"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(amounts(&answer, "commission"), ["-60.00"]);
}

async fn statement(api: &Api, key: &str, period: &str) -> Value {
    let (status, answer) = api
        .get(&format!("/v1/producers/agency-7/statements/{period}"), key)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

/// `[opening, written, charged_back, paid, closing]` of the USD totals.
fn totals(statement: &Value) -> [String; 5] {
    let totals = &statement["totals"];
    assert_eq!(totals.as_array().unwrap().len(), 1, "{statement}");
    let total = &totals[0];
    assert_eq!(total["currency"], "USD");
    ["opening", "written", "charged_back", "paid", "closing"]
        .map(|field| total[field].as_str().unwrap().to_string())
}

fn figures(values: [&str; 5]) -> [String; 5] {
    values.map(str::to_string)
}

#[tokio::test]
async fn a_commission_written_and_charged_back_in_one_month_leaves_60_payable() {
    let api = Api::new();
    let key = lab(&api).await;
    issue_with_commission(&api, &key).await;
    cancel_mid_term(&api, &key).await;

    let december = statement(&api, &key, "2025-12").await;
    assert_eq!(
        totals(&december),
        figures(["0.00", "120.00", "-60.00", "0.00", "60.00"])
    );
    let lines = december["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{december}");
    assert_eq!(lines[0]["kind"], "written");
    assert_eq!(lines[0]["amount"], "120.00");
    assert_eq!(lines[0]["premium"], "1200.00");
    assert_eq!(lines[0]["technical_premium"], Value::Null);
    assert_eq!(lines[1]["kind"], "chargeback");
    assert_eq!(lines[1]["amount"], "-60.00");
    assert_eq!(lines[1]["premium"], "-600.00");

    let (status, producers) = api.get("/v1/producers", &key).await;
    assert_eq!(status, StatusCode::OK, "{producers}");
    assert_eq!(
        producers,
        json!([{"producer": "agency-7", "currency": "USD", "written": "120.00",
                "charged_back": "-60.00", "paid": "0.00", "payable": "60.00"}])
    );

    let (_, balances) = api.get("/v1/ledger/balances", &key).await;
    let payable: Vec<&Value> = balances
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["account"]["account"] == "commission_payable")
        .collect();
    assert_eq!(payable.len(), 1, "{balances}");
    assert_eq!(payable[0]["account"]["subledger"], "agency-7", "{balances}");
    assert_eq!(payable[0]["balance"], "60.00", "{balances}");
}

#[tokio::test]
async fn a_chargeback_in_a_later_month_opens_and_closes_each_statement_on_the_balance() {
    let api = Api::new();
    let key = lab(&api).await;
    issue_with_commission(&api, &key).await;
    let (status, answer) = api
        .post("/v1/clock", &key, json!({"today": "2026-02-10"}))
        .await;
    assert!(status.is_success(), "{answer}");
    cancel_mid_term(&api, &key).await;

    assert_eq!(
        totals(&statement(&api, &key, "2025-12").await),
        figures(["0.00", "120.00", "0.00", "0.00", "120.00"])
    );
    let january = statement(&api, &key, "2026-01").await;
    assert_eq!(
        totals(&january),
        figures(["120.00", "0.00", "0.00", "0.00", "120.00"])
    );
    assert_eq!(january["lines"], json!([]));
    let february = statement(&api, &key, "2026-02").await;
    assert_eq!(
        totals(&february),
        figures(["120.00", "0.00", "-60.00", "0.00", "60.00"])
    );
    assert_eq!(february["lines"][0]["posted_on"], "2026-02-10");
}

#[tokio::test]
async fn a_producer_never_owed_commission_or_a_period_that_is_no_month_is_refused() {
    let api = Api::new();
    let key = lab(&api).await;
    issue_with_commission(&api, &key).await;
    let (status, answer) = api
        .get("/v1/producers/agency-8/statements/2025-12", &key)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["code"], "unknown_producer");
    let (status, answer) = api
        .get("/v1/producers/agency-7/statements/2025-13", &key)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "invalid_period");
}
