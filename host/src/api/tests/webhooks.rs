//! Webhooks through the API: endpoints made, read, changed, disabled,
//! rotated and deleted as configuration events; bad input refused with
//! nothing changed; secrets never read back; and deliveries to a receiver
//! inside the test, signed (Standard Webhooks) and in log order, retried
//! after a failure, stopped by `410 Gone`, and replayed.

use super::*;
use crate::webhooks::WebhookSecret;
use axum::http::HeaderMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a receiver got: headers and body of each request.
type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A receiver on loopback answering each request with the next status of
/// `script` (then 204), recording what it got.
async fn receiver(script: Vec<u16>) -> (String, Received) {
    let received: Received = Arc::default();
    let script = Arc::new(Mutex::new(script.into_iter()));
    let (got, next) = (Arc::clone(&received), Arc::clone(&script));
    let app = axum::Router::new().route(
        "/in",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (got, next) = (Arc::clone(&got), Arc::clone(&next));
            async move {
                got.lock().unwrap().push((headers, body.to_vec()));
                let status = next.lock().unwrap().next().unwrap_or(204);
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/in"), received)
}

async fn wait_for(received: &Received, count: usize) -> Vec<(HeaderMap, Vec<u8>)> {
    let started = Instant::now();
    loop {
        let got = received.lock().unwrap().clone();
        if got.len() >= count || started.elapsed() > Duration::from_secs(20) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn types(received: &[(HeaderMap, Vec<u8>)]) -> Vec<String> {
    received
        .iter()
        .map(|(_, body)| {
            let message: Value = serde_json::from_slice(body).unwrap();
            message["type"].as_str().unwrap().to_string()
        })
        .collect()
}

/// Checks a delivery's signature with `secret` (any of the signatures in
/// the header, as a Standard Webhooks receiver does).
fn verifies(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let secret = WebhookSecret::parse(secret).unwrap();
    let id = headers["webhook-id"].to_str().unwrap();
    let timestamp: i64 = headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected = secret.sign(id, timestamp, body);
    headers["webhook-signature"]
        .to_str()
        .unwrap()
        .split(' ')
        .any(|signature| signature == expected)
}

async fn create(api: &Api, key: &str, url: &str, types: &[&str]) -> Value {
    let (status, body) = api
        .post(
            "/v1/webhooks/endpoints",
            key,
            json!({"url": url, "event_types": types, "description": "policy system"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

#[tokio::test]
async fn an_endpoint_is_made_with_a_secret_shown_once_and_changed_as_configuration_history() {
    let api = Api::new();
    let key = acme(&api).await;
    let made = create(
        &api,
        &key,
        "https://hooks.example.com/premia",
        &["invoice.issued"],
    )
    .await;
    assert_eq!(made["id"], "ep_1");
    assert_eq!(made["status"]["state"], "enabled");
    let secret = made["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let (status, read) = api.get("/v1/webhooks/endpoints/ep_1", &key).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        read.get("secret").is_none() && read.get("secret_ref").is_none(),
        "{read}"
    );
    assert_eq!(read["event_types"], json!(["invoice.issued"]));

    let (status, changed) = api
        .call(
            "PATCH",
            "/v1/webhooks/endpoints/ep_1",
            Some(&key),
            Some(json!({"event_types": ["term.confirmed", "policy.lapsed"]})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        changed["event_types"],
        json!(["policy.lapsed", "term.confirmed"])
    );
    assert_eq!(changed["url"], "https://hooks.example.com/premia");

    let (status, disabled) = api
        .post("/v1/webhooks/endpoints/ep_1/disable", &key, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        disabled["status"],
        json!({"state": "disabled", "reason": "requested"})
    );
    let (status, again) = api
        .post("/v1/webhooks/endpoints/ep_1/disable", &key, json!({}))
        .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("webhook_endpoint_unchanged"))
    );
    let (status, _) = api
        .post("/v1/webhooks/endpoints/ep_1/enable", &key, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, rotated) = api
        .post(
            "/v1/webhooks/endpoints/ep_1/secret-rotations",
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let new_secret = rotated["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    let (status, _) = api
        .call(
            "DELETE",
            "/v1/webhooks/endpoints/ep_1",
            Some(&key),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = api.get("/v1/webhooks/endpoints/ep_1", &key).await;
    assert_eq!(
        (status, gone["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("webhook_endpoint_not_found"))
    );

    // Every change is in the feed with its actor; no secret anywhere.
    let (_, feed) = api.get("/v1/events?category=configuration", &key).await;
    let feed_text = feed.to_string();
    for kind in [
        "webhook_endpoint_created",
        "webhook_endpoint_updated",
        "webhook_endpoint_disabled",
        "webhook_endpoint_enabled",
        "webhook_secret_rotated",
        "webhook_endpoint_deleted",
    ] {
        assert!(feed_text.contains(kind), "{kind} in {feed_text}");
    }
    let secret_b64 = secret.trim_start_matches("whsec_");
    assert!(
        !feed_text.contains(secret_b64)
            && !feed_text.contains(new_secret.trim_start_matches("whsec_"))
    );
    let logs = String::from_utf8_lossy(&captured_logs().lock().unwrap()).to_string();
    assert!(!logs.contains(secret_b64));
}

#[tokio::test]
async fn bad_urls_unknown_types_and_read_only_keys_are_refused_and_change_nothing() {
    let api = Api::new();
    let key = acme(&api).await;
    for (body, code) in [
        (
            json!({"url": "ftp://x.example/in", "event_types": ["invoice.issued"]}),
            "invalid_webhook_url",
        ),
        (
            json!({"url": "https://user:pw@x.example/in", "event_types": ["invoice.issued"]}),
            "invalid_webhook_url",
        ),
        (
            json!({"url": "not a url", "event_types": ["invoice.issued"]}),
            "invalid_webhook_url",
        ),
        (
            json!({"url": "https://x.example/in", "event_types": ["invoice.eaten"]}),
            "unknown_webhook_event_type",
        ),
        (
            json!({"url": "https://x.example/in", "event_types": []}),
            "no_webhook_event_types",
        ),
    ] {
        let (status, problem) = api.post("/v1/webhooks/endpoints", &key, body.clone()).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{body}"
        );
    }
    let reader = api.key("acme", Role::ReadOnly);
    let (status, _) = api
        .post(
            "/v1/webhooks/endpoints",
            &reader,
            json!({"url": "https://x.example/in", "event_types": ["invoice.issued"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, listed) = api.get("/v1/webhooks/endpoints", &key).await;
    assert_eq!(listed, json!([]));
    // Another tenant sees none of acme's endpoints.
    create(&api, &key, "https://x.example/in", &["invoice.issued"]).await;
    let other = api.key("globex", Role::Admin);
    let (_, listed) = api.get("/v1/webhooks/endpoints", &other).await;
    assert_eq!(listed, json!([]));
    let (status, _) = api.get("/v1/webhooks/endpoints/ep_1", &other).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_signed_delivered_in_log_order_retried_after_a_failure_and_replayed() {
    let api = Api::new();
    let key = acme(&api).await;
    let _worker = crate::boot::start_webhooks(&api.state);
    // The first attempt fails with 503: the message is sent again ~5 s later.
    let (url, received) = receiver(vec![503]).await;
    let made = create(&api, &key, &url, &["policy.issued", "policy.cancelled"]).await;
    let secret = made["secret"].as_str().unwrap().to_string();
    let (status, _) = api
        .post("/v1/policies", &key, policy("P1", "1200.00"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api
        .post(
            "/v1/policies/P1/cancellations",
            &key,
            json!({"effective": "2026-07-02"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let got = wait_for(&received, 3).await;
    assert_eq!(
        types(&got),
        vec!["policy.issued", "policy.issued", "policy.cancelled"],
        "the failed first message is sent again before the next"
    );
    assert_eq!(got[0].0["webhook-id"], got[1].0["webhook-id"]);
    for (headers, body) in &got {
        assert!(verifies(&secret, headers, body));
    }
    let issued: Value = serde_json::from_slice(&got[0].1).unwrap();
    assert_eq!(issued["schema_version"], "2026-12-01");
    assert_eq!(issued["data"]["policy"], "P1");
    assert_eq!(issued["data"]["account"], "A1");
    assert_eq!(issued["data"]["amount"]["amount"], "1200.00");
    // 1200.00 a year by months, cancelled from 2026-07-02: 30/31 of July
    // and 5 whole months returned, 1200.00 x (5 + 30/31) / 12.
    let cancelled: Value = serde_json::from_slice(&got[2].1).unwrap();
    assert_eq!(cancelled["data"]["effective"], "2026-07-02");
    assert_eq!(cancelled["data"]["transaction"], "P1-T2");
    assert_eq!(cancelled["data"]["amount"]["amount"], "-596.77");
    assert!(cancelled["sequence"].as_u64() > issued["sequence"].as_u64());

    // Attempts are listed once the worker's pass has recorded them.
    let started = Instant::now();
    let attempts = loop {
        let (_, attempts) = api.get("/v1/webhooks/endpoints/ep_1/attempts", &key).await;
        if attempts.as_array().unwrap().len() >= 3 || started.elapsed() > Duration::from_secs(10) {
            break attempts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let outcomes: Vec<(&str, Option<u64>)> = attempts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["outcome"].as_str().unwrap(), a["status"].as_u64()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("delivered", Some(204)),
            ("delivered", Some(204)),
            ("failed", Some(503))
        ]
    );
    let started = Instant::now();
    let read = loop {
        let (_, read) = api.get("/v1/webhooks/endpoints/ep_1", &key).await;
        if read["failures"] == 0 || started.elapsed() > Duration::from_secs(10) {
            break read;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(read["failures"], 0);

    // A replay of the policy's message sends it once more, same id.
    let id = got[0].0["webhook-id"].to_str().unwrap().to_string();
    let (status, _) = api
        .post(
            "/v1/webhooks/endpoints/ep_1/replays",
            &key,
            json!({"message": id}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let got = wait_for(&received, 4).await;
    assert_eq!(got[3].0["webhook-id"].to_str().unwrap(), id);
    assert_eq!(types(&got[3..]), vec!["policy.issued"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_answering_410_gone_disables_its_endpoint_at_once() {
    let api = Api::new();
    let key = acme(&api).await;
    let _worker = crate::boot::start_webhooks(&api.state);
    let (url, received) = receiver(vec![410]).await;
    create(&api, &key, &url, &["policy.issued"]).await;
    let (status, _) = api
        .post("/v1/policies", &key, policy("P1", "1200.00"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    wait_for(&received, 1).await;
    let started = Instant::now();
    let read = loop {
        let (_, read) = api.get("/v1/webhooks/endpoints/ep_1", &key).await;
        if read["status"]["state"] == "disabled" || started.elapsed() > Duration::from_secs(10) {
            break read;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        read["status"],
        json!({"state": "disabled", "reason": "gone"})
    );
    let (_, feed) = api.get("/v1/events?category=configuration", &key).await;
    let disabled = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "webhook_endpoint_disabled")
        .cloned()
        .unwrap();
    assert_eq!(disabled["actor"], "premia:webhooks");
}
