//! `premia processor simulate`: a local payment processor adapter speaking
//! Premia's collection protocol (`docs/payments.md`,
//! [`crate::payments::protocol`]) with outcomes scripted by the method
//! token's prefix, for the demo and tests:
//!
//! | token | answer |
//! |---|---|
//! | `tok_pending...` | `pending` |
//! | `tok_soft_<code>` | `failed`, `<code>`, retryable (a soft decline) |
//! | `tok_hard_<code>` | `failed`, `<code>`, not retryable (a hard decline) |
//! | `tok_error...` | `failed`, `processor_error`, retryable (class `processor_error`) |
//! | `tok_fails<n>_<code>...` | the first `n` attempts at an invoice fail `<code>` (soft), then `succeeded` |
//! | anything else | `succeeded` |
//!
//! Example ([E13]): with `tok_fails1_insufficient_funds`, the first attempt
//! at an invoice fails `insufficient_funds` and the retry succeeds.
//!
//! The same idempotency key gets the same answer (nothing is collected
//! twice); `GET /attempts/{id}` answers what an attempt got, `404` if it
//! was never seen. With `--premia`, `--tenant` and `--secret`, `POST
//! /simulate/events {"attempt": "ca_2", "type": "returned", "code":
//! "R01"}` signs such an event and posts it to Premia's
//! `/v1/processor-events`.

use crate::payments::FailureClass;
use crate::payments::protocol::{AttemptRequest, ProcessorAnswer, ProcessorEventBody};
use crate::webhooks::WebhookSecret;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Where the simulator posts processor events (all three or none).
#[derive(Debug, Clone, Default)]
pub struct EventsTarget {
    /// Premia's base URL, e.g. `http://127.0.0.1:8080`.
    pub premia: Option<String>,
    pub tenant: Option<String>,
    /// The tenant's processor secret (`whsec_...`).
    pub secret: Option<String>,
}

#[derive(Default)]
struct Book {
    /// Answers by idempotency key.
    by_key: HashMap<String, ProcessorAnswer>,
    /// Idempotency keys by attempt id.
    by_attempt: HashMap<String, String>,
    /// Attempts seen per invoice.
    per_invoice: HashMap<String, u32>,
    events: u64,
}

#[derive(Clone)]
struct Simulator {
    book: Arc<Mutex<Book>>,
    target: EventsTarget,
}

/// The scripted answer to the `seen`-th attempt (1 for the first) at an
/// invoice with `token`.
pub fn scripted(token: &str, seen: u32) -> ProcessorAnswer {
    let failed =
        |code: &str, retryable: bool, class: Option<FailureClass>| ProcessorAnswer::Failed {
            code: code.to_string(),
            retryable,
            class,
        };
    let reference = format!("sim_{seen}");
    if token.starts_with("tok_pending") {
        ProcessorAnswer::Pending {
            processor_reference: reference,
        }
    } else if let Some(code) = token.strip_prefix("tok_soft_") {
        failed(code, true, Some(FailureClass::SoftDecline))
    } else if let Some(code) = token.strip_prefix("tok_hard_") {
        failed(code, false, Some(FailureClass::HardDecline))
    } else if token.starts_with("tok_error") {
        failed("processor_error", true, Some(FailureClass::ProcessorError))
    } else if let Some(rest) = token.strip_prefix("tok_fails")
        && let Some((count, code)) = rest.split_once('_')
        && let Ok(count) = count.parse::<u32>()
        && seen <= count
    {
        failed(code, true, Some(FailureClass::SoftDecline))
    } else {
        ProcessorAnswer::Succeeded {
            processor_reference: reference,
        }
    }
}

async fn attempt(
    State(sim): State<Simulator>,
    Json(request): Json<AttemptRequest>,
) -> Json<ProcessorAnswer> {
    let mut book = sim.book.lock().expect("book");
    if let Some(answer) = book.by_key.get(&request.idempotency_key) {
        return Json(answer.clone());
    }
    let seen = {
        let count = book.per_invoice.entry(request.invoice.clone()).or_default();
        *count += 1;
        *count
    };
    let answer = scripted(&request.method_token, seen);
    book.by_key
        .insert(request.idempotency_key.clone(), answer.clone());
    book.by_attempt
        .insert(request.attempt.clone(), request.idempotency_key.clone());
    println!(
        "attempt {} ({} {} for invoice {}): {}",
        request.attempt,
        request.amount.amount,
        request.amount.currency.code(),
        request.invoice,
        serde_json::to_string(&answer).unwrap_or_default()
    );
    Json(answer)
}

async fn lookup(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
) -> Result<Json<ProcessorAnswer>, StatusCode> {
    let book = sim.book.lock().expect("book");
    book.by_attempt
        .get(&id)
        .and_then(|key| book.by_key.get(key))
        .cloned()
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}

/// An event to send to Premia.
#[derive(Debug, serde::Deserialize)]
struct EventOrder {
    attempt: String,
    #[serde(rename = "type")]
    event_type: crate::payments::protocol::ProcessorEventType,
    #[serde(default)]
    code: String,
}

async fn send_event(
    State(sim): State<Simulator>,
    Json(order): Json<EventOrder>,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let bad = |why: String| (StatusCode::BAD_REQUEST, why);
    let (Some(premia), Some(tenant), Some(secret)) = (
        sim.target.premia.clone(),
        sim.target.tenant.clone(),
        sim.target.secret.clone(),
    ) else {
        return Err(bad("start with --premia, --tenant and --secret".into()));
    };
    let secret = WebhookSecret::parse(&secret).map_err(|e| bad(e.to_string()))?;
    let id = {
        let mut book = sim.book.lock().expect("book");
        book.events += 1;
        format!("evt_sim_{}", book.events)
    };
    let body = ProcessorEventBody {
        id: id.clone(),
        event_type: order.event_type,
        attempt: order.attempt,
        code: order.code,
        retryable: false,
        class: None,
        processor_reference: String::new(),
    };
    let body = serde_json::to_vec(&body).expect("events serialize");
    let answer = tokio::task::spawn_blocking(move || {
        crate::rating::external::install_tls_provider();
        let timestamp = chrono::Utc::now().timestamp();
        reqwest::blocking::Client::new()
            .post(format!(
                "{}/v1/processor-events",
                premia.trim_end_matches('/')
            ))
            .header("content-type", "application/json")
            .header("premia-tenant", tenant)
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", secret.sign(&id, timestamp, &body))
            .body(body)
            .send()
            .and_then(|r| Ok((r.status().as_u16(), r.text()?)))
    })
    .await
    .map_err(|e| bad(e.to_string()))?
    .map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()))?;
    Ok(Json(
        serde_json::json!({"status": answer.0, "answer": answer.1}),
    ))
}

/// The simulator's router.
pub fn router(target: EventsTarget) -> axum::Router {
    let sim = Simulator {
        book: Arc::new(Mutex::new(Book::default())),
        target,
    };
    axum::Router::new()
        .route("/attempts", post(attempt))
        .route("/attempts/{id}", get(lookup))
        .route("/simulate/events", post(send_event))
        .with_state(sim)
}

/// Serves the simulator until the process is stopped.
pub fn run(listen: SocketAddr, target: EventsTarget) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!(
            "payment processor simulator listening on http://{}",
            listener.local_addr()?
        );
        axum::serve(listener, router(target)).await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn call(
        app: &axum::Router,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        let mut request = axum::http::Request::builder().method(method).uri(path);
        let body = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Body::from(serde_json::to_vec(&json).unwrap())
            }
            None => Body::empty(),
        };
        let response = app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    fn request(attempt: &str, key: &str, token: &str) -> serde_json::Value {
        serde_json::json!({
            "attempt": attempt, "idempotency_key": key,
            "amount": {"amount": "106.45", "currency": "USD"},
            "method_token": token, "account": "A1", "invoice": "A1-I1"
        })
    }

    #[tokio::test]
    async fn the_simulator_fails_the_first_attempts_a_token_names_then_succeeds_and_answers_a_key_once()
     {
        let app = router(EventsTarget::default());
        let token = "tok_fails1_insufficient_funds";
        let (status, first) = call(
            &app,
            "POST",
            "/attempts",
            Some(request("ca_1", "k1", token)),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(first["status"], "failed");
        assert_eq!(first["code"], "insufficient_funds");
        assert_eq!(first["retryable"], true);
        let (_, second) = call(
            &app,
            "POST",
            "/attempts",
            Some(request("ca_2", "k2", token)),
        )
        .await;
        assert_eq!(second["status"], "succeeded");
        // The same key again: the same answer, nothing collected again.
        let (_, again) = call(
            &app,
            "POST",
            "/attempts",
            Some(request("ca_2", "k2", token)),
        )
        .await;
        assert_eq!(again, second);
        let (status, looked_up) = call(&app, "GET", "/attempts/ca_1", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(looked_up, first);
        assert_eq!(
            call(&app, "GET", "/attempts/ca_9", None).await.0,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn token_prefixes_script_pending_soft_hard_and_processor_errors() {
        assert!(matches!(
            scripted("tok_pending_1", 1),
            ProcessorAnswer::Pending { .. }
        ));
        assert_eq!(
            scripted("tok_hard_stolen_card", 1),
            ProcessorAnswer::Failed {
                code: "stolen_card".into(),
                retryable: false,
                class: Some(FailureClass::HardDecline)
            }
        );
        assert!(matches!(
            scripted("tok_error", 1),
            ProcessorAnswer::Failed {
                class: Some(FailureClass::ProcessorError),
                ..
            }
        ));
        assert!(matches!(
            scripted("tok_visa", 1),
            ProcessorAnswer::Succeeded { .. }
        ));
    }
}
