//! Payments over HTTP (DOMAIN section 11): payment methods (tokens sealed,
//! card numbers refused), autopay, the collection worker against a
//! stand-in processor adapter on loopback with scripted answers, signed
//! processor events, and [E13] with its exact figures on a test tenant
//! whose clock the test moves.

use super::*;
use crate::payments::protocol::ProcessorAnswer;
use axum::extract::{Path as AxumPath, State as AxumState};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// A stand-in processor adapter: answers new attempts from a script (an
/// HTTP status and an answer each), the same answer to an attempt sent
/// again, and look-ups by attempt id.
#[derive(Clone, Default)]
struct StandIn {
    script: Arc<Mutex<VecDeque<(u16, ProcessorAnswer)>>>,
    /// Every attempt request body received, in order.
    posts: Arc<Mutex<Vec<Value>>>,
    answers: Arc<Mutex<HashMap<String, ProcessorAnswer>>>,
    lookups: Arc<Mutex<Vec<String>>>,
}

async fn stand_in_attempt(
    AxumState(stand_in): AxumState<StandIn>,
    headers: axum::http::HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> (StatusCode, axum::Json<ProcessorAnswer>) {
    assert_eq!(
        headers["idempotency-key"].to_str().unwrap(),
        body["idempotency_key"].as_str().unwrap()
    );
    stand_in.posts.lock().unwrap().push(body.clone());
    let attempt = body["attempt"].as_str().unwrap().to_string();
    if let Some(answer) = stand_in.answers.lock().unwrap().get(&attempt) {
        return (StatusCode::OK, axum::Json(answer.clone()));
    }
    let next = stand_in.script.lock().unwrap().pop_front();
    let Some((status, answer)) = next else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(failed(&format!("unscripted {body}"))),
        );
    };
    stand_in
        .answers
        .lock()
        .unwrap()
        .insert(attempt, answer.clone());
    (StatusCode::from_u16(status).unwrap(), axum::Json(answer))
}

async fn stand_in_lookup(
    AxumState(stand_in): AxumState<StandIn>,
    AxumPath(id): AxumPath<String>,
) -> Result<axum::Json<ProcessorAnswer>, StatusCode> {
    stand_in.lookups.lock().unwrap().push(id.clone());
    stand_in
        .answers
        .lock()
        .unwrap()
        .get(&id)
        .cloned()
        .map(axum::Json)
        .ok_or(StatusCode::NOT_FOUND)
}

impl StandIn {
    /// Serves on loopback; returns the base URL.
    async fn serve(&self, script: Vec<(u16, ProcessorAnswer)>) -> String {
        self.script.lock().unwrap().extend(script);
        let app = axum::Router::new()
            .route("/attempts", axum::routing::post(stand_in_attempt))
            .route("/attempts/{id}", axum::routing::get(stand_in_lookup))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }
}

fn failed(code: &str) -> ProcessorAnswer {
    ProcessorAnswer::Failed {
        code: code.into(),
        retryable: true,
        class: None,
    }
}

fn succeeded() -> ProcessorAnswer {
    ProcessorAnswer::Succeeded {
        processor_reference: "ch_1".into(),
    }
}

/// A test tenant `acme` whose clock starts on 2026-02-15, with the
/// product, account A1, a returned payment fee of 25.00 and 30 days of
/// grace, and policy P1 (full pay, 106.45 a year from 2026-03-01) issued
/// that day: one invoice of 106.45 due 2026-03-01. Returns the admin key.
async fn e13_tenant(api: &Api) -> String {
    let key =
        crate::boot::create_tenant_on(&api.state, "acme", Some("2026-02-15".parse().unwrap()))
            .unwrap();
    let key = with_product_and_account(api, key).await;
    let settings =
        json!({"settings": {"returned_payment_fee": "25.00", "delinquency": {"grace_days": 30}}});
    let (status, answer) = api.post("/v1/billing/settings", &key, settings).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let mut annual = policy("P1", "106.45");
    annual["start"] = json!("2026-03-01");
    let (status, answer) = api.post("/v1/policies", &key, annual).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    key
}

/// Configures the stand-in as the processor, attaches a card and turns
/// autopay on; returns the processor secret.
async fn autopay_with(api: &Api, key: &str, url: &str) -> String {
    let (status, processor) = api
        .post("/v1/payment-processor", key, json!({"url": url}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{processor}");
    assert_eq!(processor["soft_decline_retry_days"], json!([3, 7]));
    let secret = processor["secret"].as_str().unwrap().to_string();
    let card = json!({"type": "card", "token": "tok_e13_secret_token", "brand": "visa",
        "last_four": "4242", "exp_month": 12, "exp_year": 2030});
    let (status, method) = api.post("/v1/accounts/A1/payment-methods", key, card).await;
    assert_eq!(status, StatusCode::CREATED, "{method}");
    assert_eq!(method["id"], "pm_1");
    assert_eq!(method["default"], true);
    let (status, answer) = api
        .post(
            "/v1/accounts/A1/autopay",
            key,
            json!({"method": "pm_1", "enabled": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    secret
}

async fn move_clock(api: &Api, key: &str, today: &str) {
    let (status, answer) = api.post("/v1/clock", key, json!({"today": today})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn run_billing(api: &Api, key: &str) -> Value {
    let (status, report) = api.post("/v1/billing/runs", key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

/// The account's attempts once `done` holds for them (the worker sends
/// on its own thread), or a failure after 10 seconds.
async fn attempts_when(api: &Api, key: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut last = Vec::new();
    for _ in 0..200 {
        let (status, attempts) = api.get("/v1/accounts/A1/collection-attempts", key).await;
        assert_eq!(status, StatusCode::OK, "{attempts}");
        last = attempts.as_array().unwrap().clone();
        if done(&last) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the collection worker did not finish in time: {last:?}");
}

fn status_of(attempt: &Value) -> &str {
    attempt["status"]["status"].as_str().unwrap()
}

/// Posts a processor event signed with `secret` (as the processor would).
async fn processor_event(api: &Api, secret: &str, body: Value) -> (StatusCode, Value) {
    let secret = crate::webhooks::WebhookSecret::parse(secret).unwrap();
    let id = body["id"].as_str().unwrap().to_string();
    let timestamp = chrono::Utc::now().timestamp();
    let bytes = serde_json::to_vec(&body).unwrap();
    let signature = secret.sign(&id, timestamp, &bytes);
    let timestamp = timestamp.to_string();
    api.call(
        "POST",
        "/v1/processor-events",
        None,
        Some(body),
        &[
            ("premia-tenant", "acme"),
            ("webhook-id", &id),
            ("webhook-timestamp", &timestamp),
            ("webhook-signature", &signature),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e13_autopay_fails_then_succeeds_on_the_retry_and_a_return_owes_the_invoice_again_with_the_fee()
 {
    let api = Api::new();
    let key = e13_tenant(&api).await;
    let stand_in = StandIn::default();
    let url = stand_in
        .serve(vec![
            (200, failed("insufficient_funds")),
            (200, succeeded()),
            (200, failed("insufficient_funds")),
        ])
        .await;
    let secret = autopay_with(&api, &key, &url).await;
    let _worker = crate::boot::start_collections(&api.state);

    // 2026-03-01: the run requests the first attempt; it fails.
    move_clock(&api, &key, "2026-03-01").await;
    run_billing(&api, &key).await;
    let attempts =
        attempts_when(&api, &key, |a| a.len() == 1 && status_of(&a[0]) == "failed").await;
    let first = &attempts[0];
    assert_eq!(first["id"], "ca_1");
    assert_eq!(first["invoice"], "A1-I1");
    assert_eq!(first["amount"]["amount"], "106.45");
    assert_eq!(first["requested_on"], "2026-03-01");
    assert_eq!(first["status"]["code"], "insufficient_funds");
    assert_eq!(first["status"]["class"], "soft_decline");
    assert_eq!(first["status"]["on"], "2026-03-01");
    assert_eq!(first["status"]["retry_on"], "2026-03-04");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["invoices"][0]["invoice"]["locator"], "A1-I1");
    assert_eq!(billing["invoices"][0]["invoice"]["due_date"], "2026-03-01");
    assert_eq!(billing["invoices"][0]["outstanding"], "106.45");
    // Running again the same day asks for nothing more.
    run_billing(&api, &key).await;
    move_clock(&api, &key, "2026-03-03").await;
    run_billing(&api, &key).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(stand_in.posts.lock().unwrap().len(), 1);

    // 2026-03-04: the retry succeeds and pays the invoice.
    move_clock(&api, &key, "2026-03-04").await;
    run_billing(&api, &key).await;
    let attempts = attempts_when(&api, &key, |a| {
        a.len() == 2 && status_of(&a[1]) == "succeeded"
    })
    .await;
    let retry = &attempts[1];
    assert_eq!(retry["id"], "ca_2");
    assert_eq!(retry["number"], 2);
    assert_eq!(retry["first_requested_on"], "2026-03-01");
    assert_eq!(retry["status"]["on"], "2026-03-04");
    let payment = retry["status"]["payment"].as_str().unwrap().to_string();
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["invoices"][0]["outstanding"], "0");
    let paid = &billing["payments"][0]["payment"];
    assert_eq!(paid["locator"], payment.as_str());
    assert_eq!(paid["amount"]["amount"], "106.45");
    assert_eq!(paid["received_on"], "2026-03-04");
    assert_eq!(paid["allocations"][0]["invoice"], "A1-I1");
    let posts = stand_in.posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 2);
    assert_ne!(posts[0]["idempotency_key"], posts[1]["idempotency_key"]);
    assert_eq!(posts[1]["method_token"], "tok_e13_secret_token");
    assert_eq!(
        posts[1]["amount"],
        json!({"amount": "106.45", "currency": "USD"})
    );

    // 2026-03-10: the payment is returned; the invoice owes 106.45 again
    // and 25.00 more is billed.
    move_clock(&api, &key, "2026-03-10").await;
    let event = json!({"id": "evt_1", "type": "returned", "attempt": "ca_2", "code": "R01"});
    let (status, answer) = processor_event(&api, &secret, event.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], "applied");
    // The same event again changes nothing.
    let (status, answer) = processor_event(&api, &secret, event).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], "already_applied");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["invoices"][0]["outstanding"], "106.45");
    assert_eq!(billing["payments"][0]["reversed_on"], "2026-03-10");
    run_billing(&api, &key).await;
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    let fees: Vec<(String, String)> = billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["invoice"]["items"].as_array().unwrap().iter())
        .filter(|item| item["charge_name"] == "payment-reversal-fee")
        .map(|item| {
            (
                item["amount"]["amount"].as_str().unwrap().to_string(),
                item["charge_name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        fees,
        vec![("25.00".to_string(), "payment-reversal-fee".to_string())]
    );
    assert_eq!(billing["invoices"][0]["outstanding"], "106.45");
    // Grace still counts from the original due date.
    let delinquency = billing["delinquencies"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(delinquency["grace_end"], "2026-03-31", "{delinquency}");
    // The attempt shows the return; the returned invoice is not collected
    // again by itself, while the fee's invoice (due that day) is.
    let attempts =
        attempts_when(&api, &key, |a| a.len() == 3 && status_of(&a[2]) == "failed").await;
    assert_eq!(status_of(&attempts[1]), "returned");
    assert_eq!(attempts[1]["status"]["kind"], "returned");
    assert_eq!(attempts[1]["status"]["payment"], payment.as_str());
    assert_eq!(attempts[2]["invoice"], "A1-I2");
    assert_eq!(attempts[2]["amount"]["amount"], "25.00");
    assert_eq!(attempts[2]["requested_on"], "2026-03-10");
    let posts = stand_in.posts.lock().unwrap().clone();
    let invoices: Vec<&str> = posts
        .iter()
        .map(|p| p["invoice"].as_str().unwrap())
        .collect();
    assert_eq!(invoices, ["A1-I1", "A1-I1", "A1-I2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_whose_answer_was_lost_is_looked_up_and_never_collected_twice() {
    let api = Api::new();
    let key = e13_tenant(&api).await;
    let stand_in = StandIn::default();
    // The adapter collects, then its answer is lost (a 503).
    let url = stand_in.serve(vec![(503, succeeded())]).await;
    autopay_with(&api, &key, &url).await;
    let _worker = crate::boot::start_collections(&api.state);
    move_clock(&api, &key, "2026-03-01").await;
    run_billing(&api, &key).await;
    let attempts = attempts_when(&api, &key, |a| {
        a.len() == 1 && status_of(&a[0]) == "succeeded"
    })
    .await;
    assert_eq!(attempts[0]["status"]["on"], "2026-03-01");
    assert_eq!(stand_in.posts.lock().unwrap().len(), 1);
    assert_eq!(*stand_in.lookups.lock().unwrap(), vec!["ca_1".to_string()]);
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["payments"].as_array().unwrap().len(), 1);
    assert_eq!(billing["invoices"][0]["outstanding"], "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_decline_is_never_retried_and_tells_payment_failed() {
    let api = Api::new();
    let key = e13_tenant(&api).await;
    let stand_in = StandIn::default();
    let hard = ProcessorAnswer::Failed {
        code: "stolen_card".into(),
        retryable: false,
        class: None,
    };
    let url = stand_in.serve(vec![(200, hard)]).await;
    autopay_with(&api, &key, &url).await;
    let _worker = crate::boot::start_collections(&api.state);
    move_clock(&api, &key, "2026-03-01").await;
    run_billing(&api, &key).await;
    let attempts =
        attempts_when(&api, &key, |a| a.len() == 1 && status_of(&a[0]) == "failed").await;
    assert_eq!(attempts[0]["status"]["class"], "hard_decline");
    assert!(attempts[0]["status"].get("retry_on").is_none());
    move_clock(&api, &key, "2026-03-20").await;
    run_billing(&api, &key).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(stand_in.posts.lock().unwrap().len(), 1);
    let (_, feed) = api.get("/v1/events?limit=1000", &key).await;
    let kinds: Vec<&str> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"collection_attempt_requested"), "{kinds:?}");
    assert!(kinds.contains(&"collection_attempt_failed"), "{kinds:?}");
    // The failure tells `payment.failed`.
    let state = api.state.engine.rebuild("acme").unwrap();
    let stored = api.state.store.read("acme", 0, 10_000).unwrap();
    let told: Vec<String> = stored
        .iter()
        .flat_map(|s| {
            let event = crate::engine::decode_stored(s).unwrap();
            crate::engine::webhook_messages::messages_of(s, &event, &state)
        })
        .map(|m| m.event_type)
        .collect();
    assert!(told.contains(&"payment.failed".to_string()), "{told:?}");
}

#[tokio::test]
async fn a_card_number_in_any_field_is_refused_and_nothing_is_kept() {
    let api = Api::new();
    let key = acme(&api).await;
    for body in [
        json!({"type": "card", "token": "4242 4242 4242 4242"}),
        json!({"type": "card", "token": "tok_1", "brand": "visa 4111-1111-1111-1111"}),
        json!({"type": "card", "token": "tok_1", "last_four": "4242424242424242"}),
        json!({"type": "card", "token": "tok_1", "exp_year": 4_242_424_242_424_242_u64}),
    ] {
        let (status, problem) = api
            .post("/v1/accounts/A1/payment-methods", &key, body)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["code"], "card_number_refused");
        assert!(!problem.to_string().contains("4242 4242"));
        assert!(!problem.to_string().contains("4111-1111"));
    }
    let (status, listed) = api.get("/v1/accounts/A1/payment-methods", &key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["methods"], json!([]));
    let (_, feed) = api.get("/v1/events?limit=1000", &key).await;
    assert!(!feed.to_string().contains("payment_method_attached"));
}

#[tokio::test]
async fn a_token_is_sealed_and_never_in_answers_events_or_logs() {
    let logs = captured_logs();
    let api = Api::new();
    let key = acme(&api).await;
    let token = "tok_never_shown_7f3a";
    let card =
        json!({"type": "bank_account", "token": token, "brand": "First Bank", "last_four": "6789"});
    let (status, method) = api
        .post("/v1/accounts/A1/payment-methods", &key, card)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{method}");
    assert_eq!(method["type"], "bank_account");
    assert_eq!(method["last_four"], "6789");
    let (_, listed) = api.get("/v1/accounts/A1/payment-methods", &key).await;
    let (_, feed) = api.get("/v1/events?limit=1000", &key).await;
    let (_, export) = api.get("/v1/exports/ledger.csv", &key).await;
    for shown in [
        method.to_string(),
        listed.to_string(),
        feed.to_string(),
        export.to_string(),
    ] {
        assert!(!shown.contains(token), "{shown}");
    }
    assert!(feed.to_string().contains("payment_method_attached"));
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(!logged.contains(token));
    let stored = api.state.store.read("acme", 0, 10_000).unwrap();
    assert!(stored.iter().all(|e| {
        !String::from_utf8_lossy(&serde_json::to_vec(&e.payload).unwrap()).contains(token)
    }));
}

#[tokio::test]
async fn the_first_method_is_the_default_autopay_uses_it_and_a_method_in_autopay_is_not_detached() {
    let api = Api::new();
    let key = acme(&api).await;
    for token in ["tok_a", "tok_b"] {
        let (status, _) = api
            .post(
                "/v1/accounts/A1/payment-methods",
                &key,
                json!({"type": "card", "token": token, "brand": "visa", "last_four": "4242", "exp_month": 1, "exp_year": 2031}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, answer) = api
        .post("/v1/accounts/A1/autopay", &key, json!({"enabled": true}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (_, listed) = api.get("/v1/accounts/A1/payment-methods", &key).await;
    assert_eq!(listed["methods"][0]["default"], true);
    assert_eq!(listed["methods"][1]["default"], false);
    assert_eq!(
        listed["autopay"],
        json!({"enabled": true, "method": "pm_1"})
    );
    let (status, problem) = api
        .call(
            "DELETE",
            "/v1/accounts/A1/payment-methods/pm_1",
            Some(&key),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "payment_method_in_autopay");
    let (status, _) = api
        .call(
            "DELETE",
            "/v1/accounts/A1/payment-methods/pm_2",
            Some(&key),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, problem) = api
        .call(
            "DELETE",
            "/v1/accounts/A1/payment-methods/pm_2",
            Some(&key),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["code"], "payment_method_not_found");
    let (_, listed) = api.get("/v1/accounts/A1/payment-methods", &key).await;
    assert_eq!(listed["methods"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_processor_event_with_a_bad_signature_is_401_and_changes_nothing() {
    let api = Api::new();
    let key = acme(&api).await;
    let (status, _) = api
        .post(
            "/v1/payment-processor",
            &key,
            json!({"url": "http://127.0.0.1:9"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (status, problem) = processor_event(
        &api,
        other,
        json!({"id": "evt_1", "type": "returned", "attempt": "ca_1", "code": "R01"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    assert_eq!(problem["code"], "invalid_processor_signature");
    let (_, processor) = api.get("/v1/payment-processor", &key).await;
    assert!(processor.get("secret").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lead_days_collect_early_a_pending_attempt_waits_for_the_processors_event_and_a_chargeback_reverses_it()
 {
    let api = Api::new();
    let key = e13_tenant(&api).await;
    // Invoices due 10 days after they are issued: 2026-03-01, due 2026-03-11.
    let settings = json!({"settings": {"returned_payment_fee": "25.00", "invoice_due_days": 10}});
    let (status, answer) = api.post("/v1/billing/settings", &key, settings).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let stand_in = StandIn::default();
    let pending = ProcessorAnswer::Pending {
        processor_reference: "pi_1".into(),
    };
    let url = stand_in.serve(vec![(200, pending)]).await;
    let secret = autopay_with(&api, &key, &url).await;
    let body = json!({"url": url, "lead_days": 3, "soft_decline_retry_days": [2]});
    let (status, processor) = api.post("/v1/payment-processor", &key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{processor}");
    let secret_now = processor["secret"].as_str().unwrap().to_string();
    assert_ne!(
        secret_now, secret,
        "a new configuration signs with a new secret"
    );
    let _worker = crate::boot::start_collections(&api.state);

    // Due 2026-03-11 with 3 lead days: nothing on 2026-03-07, collected on
    // 2026-03-08.
    move_clock(&api, &key, "2026-03-07").await;
    run_billing(&api, &key).await;
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["invoices"][0]["invoice"]["due_date"], "2026-03-11");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(stand_in.posts.lock().unwrap().is_empty());
    move_clock(&api, &key, "2026-03-08").await;
    run_billing(&api, &key).await;
    let attempts = attempts_when(&api, &key, |a| {
        a.len() == 1 && status_of(&a[0]) == "pending"
    })
    .await;
    assert_eq!(attempts[0]["requested_on"], "2026-03-08");

    // A return before the attempt succeeded does not fit it.
    let chargeback =
        json!({"id": "evt_0", "type": "chargeback", "attempt": "ca_1", "code": "fraud"});
    let (status, problem) = processor_event(&api, &secret_now, chargeback).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "collection_attempt_state");

    // The processor tells the success later.
    move_clock(&api, &key, "2026-03-09").await;
    let success = json!({"id": "evt_1", "type": "succeeded", "attempt": "ca_1"});
    let (status, answer) = processor_event(&api, &secret_now, success).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["invoices"][0]["outstanding"], "0");
    assert_eq!(
        billing["payments"][0]["payment"]["received_on"],
        "2026-03-09"
    );

    // A chargeback reverses it with the returned payment fee.
    move_clock(&api, &key, "2026-03-15").await;
    let chargeback =
        json!({"id": "evt_2", "type": "chargeback", "attempt": "ca_1", "code": "fraudulent"});
    let (status, answer) = processor_event(&api, &secret_now, chargeback).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let attempts = attempts_when(&api, &key, |a| status_of(&a[0]) == "returned").await;
    assert_eq!(attempts[0]["status"]["kind"], "chargeback");
    assert_eq!(attempts[0]["status"]["on"], "2026-03-15");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["invoices"][0]["outstanding"], "106.45");
    assert_eq!(billing["payments"][0]["reversed_on"], "2026-03-15");
    // The log rebuilds the same payments state.
    let live = api
        .state
        .engine
        .read("acme", |s| s.payments.clone())
        .unwrap();
    assert_eq!(api.state.engine.rebuild("acme").unwrap().payments, live);
}

#[tokio::test]
async fn another_tenant_sees_no_payment_method_and_cannot_pay_or_collect_for_this_tenants_invoices()
{
    let api = Api::new();
    let key = e13_tenant(&api).await;
    let card = json!({"type": "card", "token": "tok_acme_only", "brand": "visa",
        "last_four": "4242", "exp_month": 12, "exp_year": 2030});
    let (status, _) = api
        .post("/v1/accounts/A1/payment-methods", &key, card.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, before) = api.get("/v1/events?after=0&limit=1000", &key).await;
    let other = api.key("globex", Role::Admin);
    let (status, _) = api.get("/v1/accounts/A1/payment-methods", &other).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for (path, body) in [
        ("/v1/accounts/A1/payment-methods", card),
        (
            "/v1/accounts/A1/autopay",
            json!({"method": "pm_1", "enabled": true}),
        ),
        (
            "/v1/payments",
            json!({"account": "A1", "amount": "106.45", "received_on": "2026-02-15", "invoices": ["A1-I1"]}),
        ),
    ] {
        let (status, problem) = api.post(path, &other, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {problem}");
        assert!(!problem.to_string().contains("tok_acme_only"));
    }
    let (status, _) = api
        .call(
            "DELETE",
            "/v1/accounts/A1/payment-methods/pm_1",
            Some(&other),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, after) = api.get("/v1/events?after=0&limit=1000", &key).await;
    assert_eq!(before, after, "nothing of acme changed");
}

/// Autopay through `premia processor simulate`'s router (the simulator the
/// demo uses), its outcomes scripted by the card's token.
async fn with_simulator(api: &Api, key: &str, token: &str) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let simulator = crate::cli::processor_simulate::router(Default::default());
    tokio::spawn(async move { axum::serve(listener, simulator).await.unwrap() });
    let (status, answer) = api
        .post("/v1/payment-processor", key, json!({"url": url}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let card = json!({"type": "card", "token": token, "brand": "visa",
        "last_four": "4242", "exp_month": 12, "exp_year": 2030});
    let (status, answer) = api.post("/v1/accounts/A1/payment-methods", key, card).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = api
        .post("/v1/accounts/A1/autopay", key, json!({"enabled": true}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_simulator_a_soft_decline_is_collected_on_the_retry_three_days_later() {
    let api = Api::new();
    let key = e13_tenant(&api).await;
    with_simulator(&api, &key, "tok_fails1_insufficient_funds").await;
    let _worker = crate::boot::start_collections(&api.state);
    move_clock(&api, &key, "2026-03-01").await;
    run_billing(&api, &key).await;
    let attempts =
        attempts_when(&api, &key, |a| a.len() == 1 && status_of(&a[0]) == "failed").await;
    assert_eq!(attempts[0]["status"]["code"], "insufficient_funds");
    assert_eq!(attempts[0]["status"]["retry_on"], "2026-03-04");
    move_clock(&api, &key, "2026-03-04").await;
    run_billing(&api, &key).await;
    attempts_when(&api, &key, |a| {
        a.len() == 2 && status_of(&a[1]) == "succeeded"
    })
    .await;
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["invoices"][0]["outstanding"], "0");
    assert_eq!(
        billing["payments"][0]["payment"]["amount"]["amount"],
        "106.45"
    );
    assert_eq!(
        billing["payments"][0]["payment"]["received_on"],
        "2026-03-04"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_simulator_a_hard_decline_is_never_retried() {
    let api = Api::new();
    let key = e13_tenant(&api).await;
    with_simulator(&api, &key, "tok_hard_stolen_card").await;
    let _worker = crate::boot::start_collections(&api.state);
    move_clock(&api, &key, "2026-03-01").await;
    run_billing(&api, &key).await;
    let attempts =
        attempts_when(&api, &key, |a| a.len() == 1 && status_of(&a[0]) == "failed").await;
    assert_eq!(attempts[0]["status"]["code"], "stolen_card");
    assert_eq!(attempts[0]["status"]["class"], "hard_decline");
    for day in ["2026-03-04", "2026-03-08"] {
        move_clock(&api, &key, day).await;
        run_billing(&api, &key).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, attempts) = api.get("/v1/accounts/A1/collection-attempts", &key).await;
    assert_eq!(attempts.as_array().unwrap().len(), 1, "{attempts}");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["invoices"][0]["outstanding"], "106.45");
}
