//! Cancellation reasons and refund methods over HTTP (seed 003, DOMAIN
//! section 4): 1200.00 a year from 2026-01-01, cancelled effective
//! 2026-04-01 (90 days in force, 900.00 unearned by months), with the
//! product's method for each reason, worked out by hand.

use super::*;
use crate::boot::create_tenant_on;

/// The product: the short-rate table earns 35% at 90 days for the insured's
/// request; non-payment is flat (no refund); underwriting is pro rata;
/// rewrites are pro rata with a 40% minimum earned premium... which applies
/// to every reason.
fn cancelling_product(minimum_percent: &str) -> Value {
    let mut product = product();
    product["charges"]["short-rate"] =
        json!({"category": "fee", "handling": "retention", "invoicing": "next"});
    product["cancellation"] = json!({
        "charge": "short-rate",
        "methods": {
            "insured_request": {"method": "short_rate", "table": [
                {"days_in_force": 30, "earned_percent": "15"},
                {"days_in_force": 60, "earned_percent": "25"},
                {"days_in_force": 90, "earned_percent": "35"},
                {"days_in_force": 366, "earned_percent": "100"}
            ]},
            "non_payment": {"method": "flat"},
            "underwriting": {"method": "pro_rata"}
        },
        "minimum_earned_percent": minimum_percent
    });
    product
}

async fn tenant(api: &Api, minimum_percent: &str) -> String {
    let key = create_tenant_on(&api.state, "lab", Some("2025-12-15".parse().unwrap())).unwrap();
    let (status, answer) = api
        .post("/v1/products", &key, cancelling_product(minimum_percent))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    with_account(api, key).await
}

/// Issues `locator` on its own account (1200.00 a year, full pay) and
/// cancels it effective 2026-04-01 for `reason`, before the term's invoice;
/// returns the cancellation's charges (charge name, amount).
async fn cancelled(api: &Api, key: &str, locator: &str, reason: &str) -> Vec<(String, String)> {
    let account = format!("A-{locator}");
    let (status, answer) = api
        .post(
            "/v1/accounts",
            key,
            json!({"locator": account, "name": "Ada", "currency": "USD"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let mut body = policy(locator, "1200.00");
    body["plan"] = json!("annual");
    body["account"] = json!(account);
    let (status, answer) = api.post("/v1/policies", key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = api
        .post(
            &format!("/v1/policies/{locator}/cancellations"),
            key,
            json!({"effective": "2026-04-01", "reason": reason}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["transactions"][0]["change"]["reason"], reason);
    answer["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["charge"].as_str().unwrap().to_string(),
                c["amount"]["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// What the account of `locator` is invoiced on 2026-01-01.
async fn invoiced(api: &Api, key: &str, locator: &str) -> String {
    let (status, billing) = api
        .get(&format!("/v1/accounts/A-{locator}/billing"), key)
        .await;
    assert_eq!(status, StatusCode::OK, "{billing}");
    let invoices = billing["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{billing}");
    assert_eq!(invoices[0]["invoice"]["issue_date"], "2026-01-01");
    invoices[0]["invoice"]["total"]["amount"]
        .as_str()
        .unwrap()
        .to_string()
}

fn charges(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(c, a)| (c.to_string(), a.to_string()))
        .collect()
}

/// Insured's request, short rate: the term earns 35% of 1200.00 = 420.00
/// against 300.00 pro rata, so 120.00 is kept and the customer is invoiced
/// 420.00. Non-payment, flat: all 900.00 kept, 1200.00 invoiced.
/// Underwriting, pro rata: 900.00 returned, 300.00 invoiced.
#[tokio::test]
async fn each_reason_refunds_by_the_products_method() {
    let api = Api::new();
    let key = tenant(&api, "0").await;
    assert_eq!(
        cancelled(&api, &key, "P1", "insured_request").await,
        charges(&[("premium", "-900.00"), ("short-rate", "120.00")])
    );
    assert_eq!(
        cancelled(&api, &key, "P2", "non_payment").await,
        charges(&[("premium", "-900.00"), ("short-rate", "900.00")])
    );
    assert_eq!(
        cancelled(&api, &key, "P3", "underwriting").await,
        charges(&[("premium", "-900.00")])
    );
    let (status, answer) = api
        .post("/v1/clock", &key, json!({"today": "2026-01-01"}))
        .await;
    assert!(status.is_success(), "{answer}");
    let (status, answer) = api.post("/v1/billing/runs", &key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(invoiced(&api, &key, "P1").await, "420.00");
    assert_eq!(invoiced(&api, &key, "P2").await, "1200.00");
    assert_eq!(invoiced(&api, &key, "P3").await, "300.00");
}

/// A minimum earned premium of 40% (480.00) applies whatever the method: a
/// rewrite (pro rata, 300.00 earned) keeps 180.00 more; the short rate's
/// 420.00 is raised to 480.00 (180.00 kept); flat already earns it all.
#[tokio::test]
async fn a_minimum_earned_premium_is_kept_whatever_the_method() {
    let api = Api::new();
    let key = tenant(&api, "40").await;
    assert_eq!(
        cancelled(&api, &key, "P1", "rewrite").await,
        charges(&[("premium", "-900.00"), ("short-rate", "180.00")])
    );
    assert_eq!(
        cancelled(&api, &key, "P2", "insured_request").await,
        charges(&[("premium", "-900.00"), ("short-rate", "180.00")])
    );
    assert_eq!(
        cancelled(&api, &key, "P3", "non_payment").await,
        charges(&[("premium", "-900.00"), ("short-rate", "900.00")])
    );
}

/// Reinstating gives the kept premium back; a cancellation without a reason
/// is the insured's request.
#[tokio::test]
async fn a_reinstatement_gives_back_what_the_cancellation_kept() {
    let api = Api::new();
    let key = tenant(&api, "0").await;
    cancelled(&api, &key, "P1", "insured_request").await;
    let (status, answer) = api
        .post(
            "/v1/policies/P1/reinstatements",
            &key,
            json!({"effective": "2026-04-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let amounts: Vec<(&str, &str)> = answer["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["charge"].as_str().unwrap(),
                c["amount"]["amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        amounts,
        vec![("premium", "900.00"), ("short-rate", "-120.00")]
    );
    let (status, answer) = api
        .post(
            "/v1/policies/P1/cancellations",
            &key,
            json!({"effective": "2026-04-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        answer["transactions"][0]["change"]["reason"],
        "insured_request"
    );
    assert_eq!(answer["charges"][1]["amount"]["amount"], "120.00");
}

/// Bad input changes nothing: an unknown reason, a short-rate table that
/// does not cover the term, both kinds of cancellation rules.
#[tokio::test]
async fn unknown_reasons_and_short_tables_are_refused_with_a_clear_problem() {
    let api = Api::new();
    let key = tenant(&api, "0").await;
    let mut body = policy("P1", "1200.00");
    body["plan"] = json!("annual");
    assert_eq!(
        api.post("/v1/policies", &key, body).await.0,
        StatusCode::CREATED
    );
    let (status, problem) = api
        .post(
            "/v1/policies/P1/cancellations",
            &key,
            json!({"effective": "2026-04-01", "reason": "boredom"}),
        )
        .await;
    assert!(status.is_client_error(), "{status} {problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("boredom"),
        "{problem}"
    );
    let (_, policy) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(
        policy["transactions"].as_array().unwrap().len(),
        1,
        "{policy}"
    );

    let mut short = cancelling_product("0");
    short["name"] = json!("short");
    short["cancellation"]["methods"]["insured_request"]["table"] =
        json!([{"days_in_force": 365, "earned_percent": "100"}]);
    let (status, problem) = api.post("/v1/products", &key, short).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("ends at 365 days in force"),
        "{problem}"
    );
    let mut both = cancelling_product("0");
    both["name"] = json!("both");
    both["cancellation_retention"] = json!({"charge": "short-rate", "holdback_percent": "10"});
    let (status, problem) = api.post("/v1/products", &key, both).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, _) = api.get("/v1/products/short", &key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A test tenant with the product requiring 30 days' notice of
/// non-renewal and P1 (1200.00 a year from 2026-01-01) bound; its clock
/// moved to `today`.
async fn bound_with_notice(api: &Api, today: &str) -> String {
    let key = create_tenant_on(&api.state, "lab", Some("2025-12-15".parse().unwrap())).unwrap();
    let mut product = cancelling_product("0");
    product["non_renewal_notice_days"] = json!(30);
    let (status, answer) = api.post("/v1/products", &key, product).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let key = with_account(api, key).await;
    let mut body = policy("P1", "1200.00");
    body["plan"] = json!("annual");
    assert_eq!(
        api.post("/v1/policies", &key, body).await.0,
        StatusCode::CREATED
    );
    let (status, answer) = api.post("/v1/clock", &key, json!({"today": today})).await;
    assert!(status.is_success(), "{answer}");
    key
}

/// Non-renewal: with 30 days' notice required, a notice given on 2026-12-15
/// for a term ending 2027-01-01 is too late; given on 2026-11-20 it is
/// recorded (the policy's read and the feed show it) and the renewal is
/// refused.
#[tokio::test]
async fn a_non_renewal_needs_its_notice_and_stops_the_renewal() {
    let api = Api::new();
    let key = bound_with_notice(&api, "2026-12-15").await;
    let (status, problem) = api
        .post(
            "/v1/policies/P1/non-renewal",
            &key,
            json!({"reason": "underwriting: losses"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "non_renewal_notice_too_late");
    let (_, read) = api.get("/v1/policies/P1", &key).await;
    assert!(
        read.get("non_renewal").is_none_or(|v| v.is_null()),
        "{read}"
    );

    // A tenant whose clock is still early enough.
    let api = Api::new();
    let key = bound_with_notice(&api, "2026-11-20").await;
    let (status, problem) = api
        .post("/v1/policies/P1/non-renewal", &key, json!({"reason": " "}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, answer) = api
        .post(
            "/v1/policies/P1/non-renewal",
            &key,
            json!({"reason": "underwriting: losses"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (_, read) = api.get("/v1/policies/P1", &key).await;
    let notice = &read["non_renewal"];
    assert_eq!(notice["ends_on"], "2027-01-01", "{read}");
    assert_eq!(notice["notice_on"], "2026-11-20");
    assert_eq!(notice["reason"], "underwriting: losses");
    assert_eq!(notice["term"], 1);
    let (status, problem) = api.post("/v1/policies/P1/renewals", &key, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "policy_not_renewed");
    let (status, problem) = api
        .post(
            "/v1/policies/P1/non-renewal",
            &key,
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let (status, feed) = api.get("/v1/events?kind=policy_non_renewed", &key).await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    assert_eq!(feed["data"].as_array().map(Vec::len), Some(1), "{feed}");
}
