//! Bad input, sent as a hostile client would, answered the same way on
//! every endpoint: a repeated JSON key, an amount with more decimals than
//! its currency, a body over the limit, an unknown URL or method, a second
//! reversal, a read-only key with a malformed body, and a 5xx whose
//! internal text stays in the log. Each answer is a problem with a stable
//! status and `code`, and nothing changes.

use super::*;
use axum::http::HeaderMap;

/// Sends `body` as it is (a JSON text `json!` cannot write, or no JSON at
/// all) and reads the answer.
async fn send_raw(
    api: &Api,
    method: &str,
    path: &str,
    key: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Value) {
    send_raw_to(&api.router, method, path, key, content_type, body).await
}

async fn send_raw_to(
    router: &Router,
    method: &str,
    path: &str,
    key: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type);
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, value)
}

/// Asserts an answer is a problem with `status` and `code`.
fn assert_problem(answer: &(StatusCode, HeaderMap, Value), status: StatusCode, code: &str) {
    let (got, headers, body) = answer;
    assert_eq!(
        (*got, body["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert_eq!(
        headers["content-type"], "application/problem+json",
        "{body}"
    );
    assert_eq!(body["status"], status.as_u16());
}

async fn events(api: &Api, key: &str) -> Value {
    api.get("/v1/events?limit=1000", key).await.1
}

#[tokio::test]
async fn a_repeated_json_field_is_refused_by_billing_endpoints_as_by_typed_ones() {
    let api = Api::new();
    let key = acme(&api).await;
    let before = events(&api, &key).await;
    let payment =
        br#"{"account": "A1", "amount": "1.00", "received_on": "2026-01-01", "amount": "9000.00"}"#;
    let answer = send_raw(
        &api,
        "POST",
        "/v1/payments",
        Some(&key),
        "application/json",
        payment.to_vec(),
    )
    .await;
    assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert!(
        answer.2["detail"]
            .as_str()
            .unwrap()
            .contains("duplicate field `amount`"),
        "{}",
        answer.2
    );
    // A typed endpoint answers the same.
    let account = br#"{"locator": "A2", "name": "B", "currency": "USD", "name": "C"}"#;
    let typed = send_raw(
        &api,
        "POST",
        "/v1/accounts",
        Some(&key),
        "application/json",
        account.to_vec(),
    )
    .await;
    assert_problem(&typed, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    // Nested too: billing settings, and a billing command in a bundle.
    let settings = br#"{"settings": {"calendar": {"frequency": "monthly"}, "calendar": {}}}"#;
    let nested = send_raw(
        &api,
        "POST",
        "/v1/billing/settings",
        Some(&key),
        "application/json",
        settings.to_vec(),
    )
    .await;
    assert_problem(&nested, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let bundle = br#"{"commands": [{"command": "record_payment", "account": "A1", "amount": "1.00", "amount": "2.00", "received_on": "2026-01-01"}]}"#;
    let bundled = send_raw(
        &api,
        "POST",
        "/v1/previews",
        Some(&key),
        "application/json",
        bundle.to_vec(),
    )
    .await;
    assert_problem(&bundled, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(events(&api, &key).await, before);
}

#[tokio::test]
async fn an_amount_with_more_decimals_than_its_currency_is_refused_wherever_money_comes_in() {
    let api = Api::new();
    let key = acme(&api).await;
    let (status, paid) = api
        .post(
            "/v1/payments",
            &key,
            json!({"account": "A1", "amount": "100.00", "received_on": "2026-01-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let before = events(&api, &key).await;
    for amount in ["10.001", "10.000", "100.0000000000000000000000000001"] {
        let bodies = [
            (
                "/v1/payments",
                json!({"account": "A1", "amount": amount, "received_on": "2026-01-02"}),
            ),
            (
                "/v1/payments/A1-P1/reversals",
                json!({"account": "A1", "on": "2026-01-02", "fee": amount}),
            ),
            (
                "/v1/credit-distributions",
                json!({"account": "A1", "on": "2026-01-02", "targets": [{"invoice": "A1-I1", "amount": amount}]}),
            ),
            (
                "/v1/write-offs",
                json!({"account": "A1", "invoice": "A1-I1", "amount": amount, "on": "2026-01-02"}),
            ),
            (
                "/v1/disbursements",
                json!({"account": "A1", "amount": amount, "on": "2026-01-02"}),
            ),
            (
                "/v1/charges",
                json!({"account": "A1", "charge": "policy-fee", "amount": amount}),
            ),
        ];
        for (path, body) in bodies {
            for preview in ["", "?preview=true"] {
                let (status, problem) = api
                    .post(&format!("{path}{preview}"), &key, body.clone())
                    .await;
                assert_eq!(
                    (status, problem["code"].as_str()),
                    (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_amount")),
                    "{path}{preview} {amount}: {problem}"
                );
            }
        }
    }
    assert_eq!(events(&api, &key).await, before, "nothing changed");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["credit"], "100.00", "{billing}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_too_large_as_a_problem() {
    let api = Api::new();
    let key = acme(&api).await;
    let mut body = br#"{"account": "A1", "reference": ""#.to_vec();
    body.extend(std::iter::repeat_n(b'x', JSON_BODY_BYTES_MAX));
    body.extend(br#"", "amount": "1.00", "received_on": "2026-01-01"}"#);
    let answer = send_raw(
        &api,
        "POST",
        "/v1/payments",
        Some(&key),
        "application/json",
        body,
    )
    .await;
    assert_problem(&answer, StatusCode::PAYLOAD_TOO_LARGE, "too_large");

    // An upload over the component limit answers the same.
    let limits = PluginLimits {
        component_bytes_max: 1024,
        ..PluginLimits::default()
    };
    let state = open_state(crate::store::test_store(), None, limits).unwrap();
    let admin = state
        .keys
        .create_as("acme", Role::Admin, "test", "premia:test")
        .unwrap();
    let router = router(state);
    let answer = send_raw_to(
        &router,
        "POST",
        "/v1/plugins?name=big&version=1",
        Some(&admin),
        "application/wasm",
        vec![0; 4096],
    )
    .await;
    assert_problem(&answer, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
}

#[tokio::test]
async fn an_unknown_url_or_method_is_a_problem_not_text_or_nothing() {
    let api = Api::new();
    let key = acme(&api).await;
    let nowhere = send_raw(&api, "GET", "/v1/nowhere", Some(&key), "text/plain", vec![]).await;
    assert_problem(&nowhere, StatusCode::NOT_FOUND, "not_found");
    let root = send_raw(&api, "GET", "/", None, "text/plain", vec![]).await;
    assert_problem(&root, StatusCode::NOT_FOUND, "not_found");
    let method = send_raw(
        &api,
        "DELETE",
        "/v1/payments",
        Some(&key),
        "text/plain",
        vec![],
    )
    .await;
    assert_problem(
        &method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    assert!(method.1.contains_key("allow"), "{:?}", method.1);
    let put = send_raw(
        &api,
        "PUT",
        "/v1/policies/P1",
        Some(&key),
        "application/json",
        b"{}".to_vec(),
    )
    .await;
    assert_problem(&put, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn a_second_reversal_is_409_already_reversed_and_a_plan_change_of_no_policy_is_404() {
    let api = Api::new();
    let key = acme(&api).await;
    let (status, paid) = api
        .post(
            "/v1/payments",
            &key,
            json!({"account": "A1", "amount": "100.00", "received_on": "2026-01-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let reversal = json!({"account": "A1", "on": "2026-01-02"});
    let (status, first) = api
        .post("/v1/payments/A1-P1/reversals", &key, reversal.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = api
        .post("/v1/payments/A1-P1/reversals", &key, reversal)
        .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_reversed")),
        "{again}"
    );
    // As a transaction reversed twice answers.
    let (status, issued) = api
        .post("/v1/policies", &key, policy("P2", "1200.00"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let transaction = issued["transactions"][0]["locator"].as_str().unwrap();
    let body = json!({"transaction": transaction});
    let (status, first) = api
        .post("/v1/policies/P2/reversals", &key, body.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = api.post("/v1/policies/P2/reversals", &key, body).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_reversed")),
        "{again}"
    );

    let change = json!({"plan": "monthly", "effective": "2026-03-01"});
    let (status, problem) = api
        .post("/v1/policies/P9/plan-changes", &key, change.clone())
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("policy_not_found")),
        "{problem}"
    );
    // As a cancellation of no policy answers.
    let (status, problem) = api
        .post(
            "/v1/policies/P9/cancellations",
            &key,
            json!({"effective": "2026-03-01"}),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("policy_not_found"))
    );
    let (status, issued) = api
        .post("/v1/policies", &key, policy("P1", "1200.00"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let (status, problem) = api
        .post(
            "/v1/policies/P1/plan-changes",
            &key,
            json!({"plan": "weekly", "effective": "2026-03-01"}),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("plan_not_found")),
        "{problem}"
    );
}

#[tokio::test]
async fn a_read_only_key_sending_a_malformed_body_to_any_command_is_forbidden_before_it_is_parsed()
{
    let api = Api::new();
    acme(&api).await;
    let reader = api.key("acme", Role::ReadOnly);
    let doc = serde_json::to_value(openapi::document()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        // The processor's events carry no API key: a signature with the
        // tenant's processor secret is checked before the body is read
        // (`api::tests::payments`).
        if path == "/v1/processor-events" {
            continue;
        }
        for method in ["post", "put", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let path: String = path
                .split('/')
                .map(|s| if s.starts_with('{') { "x" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let answer = send_raw(
                &api,
                &method.to_uppercase(),
                &format!("{path}?preview=maybe"),
                Some(&reader),
                "application/json",
                b"{\"unterminated\": ".to_vec(),
            )
            .await;
            assert_eq!(
                (answer.0, answer.2["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("forbidden")),
                "{method} {path}: {}",
                answer.2
            );
            checked += 1;
        }
    }
    assert!(checked >= 35, "{checked} commands checked");
}

#[tokio::test]
async fn an_internal_error_answers_a_generic_detail_and_the_log_has_the_real_one_with_the_request_id()
 {
    let logs = captured_logs();
    let failing = Arc::new(crate::store::failing::FailingStore::new(
        crate::store::test_store(),
    ));
    let api = Api::over(failing.clone());
    let key = acme(&api).await;
    failing.fail_writes(true);
    let body = serde_json::to_vec(&policy("P1", "1200.00")).unwrap();
    let answer = send_raw(
        &api,
        "POST",
        "/v1/policies",
        Some(&key),
        "application/json",
        body,
    )
    .await;
    failing.fail_writes(false);
    assert_problem(
        &answer,
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
    );
    let request_id = answer.1["x-request-id"].to_str().unwrap().to_string();
    assert!(!request_id.is_empty());
    assert_eq!(
        answer.2["detail"],
        format!("temporarily unavailable; retry later; request id {request_id}")
    );
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    let line = logged
        .lines()
        .find(|line| line.contains("internal error") && line.contains(&request_id))
        .unwrap_or_else(|| panic!("no log line for request {request_id}"));
    assert!(line.contains("injected write failure"), "{line}");

    // A 500 too: its text is never the answer's.
    let internal = error::ApiError::internal("worker failed: secret stack trace");
    let response = axum::response::IntoResponse::into_response(internal);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let problem: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(problem["code"], "internal");
    assert_eq!(problem["detail"], "internal error");
}
