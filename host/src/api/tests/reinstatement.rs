//! [E15] over HTTP: a reinstatement closes the delinquency that lapsed the
//! policy. Billing settings, billing runs, payments and every read go through
//! the router; the policy is issued and reinstated through the engine with
//! the day they happen, because the API issues transactions at the wall clock
//! and the test tenant's own clock is not there yet (DOMAIN section 5).

use super::*;

/// A command issued at noon UTC on `day`, through the engine the API uses.
async fn transact_on(api: &Api, command: crate::policy::PolicyCommand, day: &str) {
    let engine = Arc::clone(&api.state.engine);
    let day: chrono::NaiveDate = day.parse().unwrap();
    let meta = crate::engine::RequestMeta {
        actor: "policy-system:test".into(),
        issued_at: day.and_hms_opt(12, 0, 0).unwrap().and_utc(),
        idempotency_key: None,
        arithmetic: crate::billing::Arithmetic::Written,
    };
    tokio::task::spawn_blocking(move || engine.execute("acme", &command.into(), &meta))
        .await
        .unwrap()
        .unwrap();
}

fn decimal(value: &Value) -> rust_decimal::Decimal {
    value.as_str().unwrap().parse().unwrap()
}

/// The late-fee lines of every invoice of `A1`.
fn late_fee_lines(billing: &Value) -> Vec<String> {
    billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["invoice"]["items"].as_array().unwrap().iter())
        .filter(|item| item["charge_name"] == "late-fee")
        .map(|item| item["amount"]["amount"].as_str().unwrap().to_string())
        .collect()
}

/// Account `A1` with a monthly policy of 1200.00 a year from 2026-03-01
/// (issued 2026-02-15) whose March invoice is never paid: 30 days of grace
/// and a 10.00 late fee lapse it from 2026-04-01; it is reinstated without a
/// gap on 2026-04-10. Returns the admin key.
async fn lapsed_and_reinstated(api: &Api) -> String {
    let key = acme(api).await;
    let settings = json!({"settings": {"delinquency": {"grace_days": 30, "late_fee": "10.00"}}});
    let (status, answer) = api.post("/v1/billing/settings", &key, settings).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let mut monthly = policy("P1", "1200.00");
    monthly["plan"] = json!("monthly");
    monthly["start"] = json!("2026-03-01");
    let body: routes::policies::NewPolicy = serde_json::from_value(monthly).unwrap();
    let crate::engine::EngineCommand::Policy(issue) = routes::policies::issue_command(body) else {
        unreachable!("an issue is a policy command")
    };
    transact_on(api, issue, "2026-02-15").await;

    let (status, report) = api
        .post("/v1/billing/runs", &key, json!({"up_to": "2026-04-09"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    let first = &billing["delinquencies"][0];
    assert_eq!(first["locator"], "A1-Q1");
    assert_eq!(first["grace_end"], "2026-03-31");
    assert_eq!(first["status"]["status"], "lapsed");
    assert_eq!(first["status"]["effective"], "2026-04-01");
    assert_eq!(late_fee_lines(&billing), vec!["10.00"]);
    assert_eq!(billing["invoices"][0]["invoice"]["due_date"], "2026-03-01");
    assert_eq!(billing["invoices"][0]["outstanding"], "100.00");

    transact_on(
        api,
        crate::policy::PolicyCommand::Reinstate {
            policy: "P1".into(),
            effective: "2026-04-01".parse().unwrap(),
        },
        "2026-04-10",
    )
    .await;
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    let closed = &billing["delinquencies"][0]["status"];
    assert_eq!(closed["status"], "closed_by_reinstatement");
    assert_eq!(closed["on"], "2026-04-10");
    assert_eq!(closed["successor"], "A1-Q2");
    let successor = &billing["delinquencies"][1];
    assert_eq!(successor["locator"], "A1-Q2");
    assert_eq!(successor["follows"], "A1-Q1");
    assert_eq!(successor["started_on"], "2026-04-10");
    assert_eq!(successor["grace_end"], "2026-05-10");
    assert_eq!(successor["status"]["status"], "in_grace");
    key
}

/// The effective dates of the policy's cancellations.
async fn cancellations(api: &Api, key: &str) -> Vec<String> {
    let (_, policy) = api.get("/v1/policies/P1", key).await;
    policy["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "cancellation")
        .map(|t| t["effective"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn over_http_a_reinstated_policy_left_unpaid_lapses_again_after_a_fresh_grace_with_one_late_fee()
 {
    let api = Api::new();
    let key = lapsed_and_reinstated(&api).await;
    let (status, report) = api
        .post("/v1/billing/runs", &key, json!({"up_to": "2026-05-10"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(cancellations(&api, &key).await, vec!["2026-04-01"]);
    api.post("/v1/billing/runs", &key, json!({"up_to": "2026-05-31"}))
        .await;
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    let delinquencies = billing["delinquencies"].as_array().unwrap();
    assert_eq!(delinquencies.len(), 2, "{billing}");
    assert_eq!(
        delinquencies[0]["status"]["status"],
        "closed_by_reinstatement"
    );
    assert_eq!(delinquencies[1]["status"]["status"], "lapsed");
    assert_eq!(delinquencies[1]["status"]["effective"], "2026-05-11");
    assert_eq!(
        cancellations(&api, &key).await,
        vec!["2026-04-01", "2026-05-11"]
    );
    assert_eq!(
        late_fee_lines(&billing),
        vec!["10.00"],
        "one late fee in all"
    );
}

#[tokio::test]
async fn over_http_a_reinstated_policy_paid_in_full_during_the_fresh_grace_stays_in_force() {
    let api = Api::new();
    let key = lapsed_and_reinstated(&api).await;
    api.post("/v1/billing/runs", &key, json!({"up_to": "2026-05-09"}))
        .await;
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    let owed: rust_decimal::Decimal = billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| decimal(&i["outstanding"]))
        .sum();
    let (status, paid) = api
        .post(
            "/v1/payments",
            &key,
            json!({"account": "A1", "amount": owed.to_string(), "received_on": "2026-05-09"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    api.post("/v1/billing/runs", &key, json!({"up_to": "2026-05-31"}))
        .await;
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    let delinquencies = billing["delinquencies"].as_array().unwrap();
    assert_eq!(delinquencies.len(), 2, "{billing}");
    assert_eq!(delinquencies[1]["status"]["status"], "ended");
    assert_eq!(delinquencies[1]["status"]["on"], "2026-05-09");
    assert_eq!(cancellations(&api, &key).await, vec!["2026-04-01"]);
    assert_eq!(
        late_fee_lines(&billing),
        vec!["10.00"],
        "one late fee in all"
    );
    assert_eq!(
        decimal(&billing["invoices"][0]["outstanding"]),
        rust_decimal::Decimal::ZERO
    );
}
