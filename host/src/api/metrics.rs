//! What an operator scrapes and probes: `/metrics` (Prometheus text
//! exposition of every series [`crate::telemetry`] records), `/readyz`
//! (whether the store answers and the tenants are loaded; 503 otherwise,
//! beside `/healthz`, which only says the process serves), and the
//! middleware that records each HTTP request by route template, method and
//! status with its latency.

use super::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Records the request's route (the template, never the path with its
/// ids), method, status and latency.
pub async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().as_str().to_string();
    let response = next.run(request).await;
    crate::telemetry::http_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// `GET /metrics`: every series in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text exposition format 0.0.4 (see docs/operations.md)", content_type = "text/plain")), security(()), tag = "operations")]
pub async fn metrics() -> Response {
    let body = crate::telemetry::prometheus().render();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// What `/readyz` answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// Whether the host takes traffic: the store answered and the tenants
    /// were loaded (the engine loads every stored tenant before the server
    /// listens; tenants another host creates later load at first use).
    pub ready: bool,
    /// Whether the event store answered.
    pub store: bool,
    /// Tenants held in memory.
    pub tenants_loaded: usize,
    /// Why it is not ready, when it is not (never the store's address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /readyz`: 200 when the store answers and the tenants are loaded,
/// 503 otherwise (a load balancer sends no traffic to the host then).
#[utoipa::path(get, path = "/readyz", responses((status = 200, body = Readiness), (status = 503, description = "the store does not answer (a problem, code `not_ready`)")), security(()), tag = "operations")]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let answer = tokio::task::spawn_blocking(move || {
        let tenants_loaded = state.engine.tenants().len();
        let store = state.store.tenants().is_ok();
        Readiness {
            ready: store,
            store,
            tenants_loaded,
            reason: (!store).then(|| "the event store does not answer".to_string()),
        }
    })
    .await;
    match answer {
        Ok(readiness) if readiness.ready => (StatusCode::OK, axum::Json(readiness)).into_response(),
        // Like every error answer, a problem (whose detail a 503 keeps to
        // itself: the probe's status is what a load balancer reads).
        Ok(readiness) => super::error::problem_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            readiness.reason.unwrap_or_default(),
        ),
        Err(_) => super::error::problem_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the readiness check did not finish",
        ),
    }
}
