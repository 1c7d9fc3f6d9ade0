//! `Idempotency-Key` for the configuration POSTs (plugin upload, plugin
//! activation, API keys, external raters), which do not go through the
//! engine's command log where the commands keep theirs.
//!
//! A middleware on those routes: with a key, it fingerprints the request
//! (method, path, query and body bytes, SHA-256) and looks the key up in the
//! tenant's `config-idempotency` blobs.
//! - Not seen: the request runs; a success (2xx) is stored durably with its
//!   fingerprint, status and JSON body before it is answered. A refusal is
//!   not stored: it changed nothing, so the same key may be retried.
//! - Seen with the same fingerprint: the stored answer again, with the
//!   header `Idempotent-Replayed: true`; nothing runs.
//! - Seen with another fingerprint: `409 idempotency_conflict`.
//! - The same key running at the same moment: `409 idempotency_in_progress`.
//!
//! The secret of a created API key is never stored: a replayed key creation
//! answers the key masked (`prm_…` and its last 4 characters), since keys
//! are kept hashed only.
//!
//! Worked example: `POST /v1/api-keys` with `Idempotency-Key: k1` and
//! `{"role":"billing","label":"ops"}` creates a key `prm_9f…c3d1` (201). The
//! client times out and sends the same again: 201 with `"key":
//! "prm_…c3d1"` and `Idempotent-Replayed: true`; no second key exists. The
//! same key with `{"label":"other", ...}` gets 409.

use super::auth::{Access, Caller};
use super::error::ApiError;
use super::extract::IdempotencyKey;
use super::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Where the answers of configuration POSTs are kept, per tenant.
pub const CONFIG_IDEMPOTENCY_NAMESPACE: &str = "config-idempotency";
/// The header marking a replayed answer.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Largest answer kept for replay (a plugin view, a key, a rater).
const STORED_ANSWER_BYTES_MAX: usize = 256 * 1024;

/// What the middleware needs: the API state, the body limit of the route,
/// and the keys running now.
#[derive(Clone)]
pub struct ConfigIdempotency {
    pub state: AppState,
    pub body_bytes_max: usize,
    running: Arc<Mutex<HashSet<String>>>,
}

impl ConfigIdempotency {
    pub fn new(state: AppState) -> Self {
        ConfigIdempotency {
            state,
            body_bytes_max: super::JSON_BODY_BYTES_MAX,
            running: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// The same (sharing the keys running now) for a route taking bodies of
    /// up to `body_bytes_max`.
    pub fn with_body_limit(&self, body_bytes_max: usize) -> Self {
        ConfigIdempotency {
            body_bytes_max,
            ..self.clone()
        }
    }
}

/// A stored answer.
#[derive(Debug, Serialize, Deserialize)]
struct StoredAnswer {
    fingerprint: String,
    status: u16,
    body: serde_json::Value,
}

/// The key marked as running until dropped.
struct Running {
    running: Arc<Mutex<HashSet<String>>>,
    key: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.running
            .lock()
            .expect("idempotency lock")
            .remove(&self.key);
    }
}

/// The middleware (see the module documentation).
pub async fn configuration(
    State(config): State<ConfigIdempotency>,
    request: Request,
    next: Next,
) -> Response {
    match replay_or_run(&config, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn replay_or_run(
    config: &ConfigIdempotency,
    request: Request,
    next: Next,
) -> Result<Response, Response> {
    let (mut parts, body) = request.into_parts();
    let key = IdempotencyKey::from_request_parts(&mut parts, &config.state)
        .await
        .map_err(IntoResponse::into_response)?;
    let (Some(key), true) = (key.0, parts.method == Method::POST) else {
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    // Who is asking decides where the key lives; an unknown caller, or one
    // whose role may not configure, goes on to the handler, which answers
    // 401/403 as usual (and never sees a stored answer).
    let caller = match Caller::from_request_parts(&mut parts, &config.state).await {
        Ok(caller) if caller.role.allows(Access::Configure) => caller,
        _ => return Ok(next.run(Request::from_parts(parts, body)).await),
    };
    let bytes = axum::body::to_bytes(body, config.body_bytes_max)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body is over {} bytes", config.body_bytes_max),
            )
            .into_response()
        })?;
    let fingerprint = fingerprint(&parts.method, &parts.uri, &bytes);
    let blob_key = hex::encode(Sha256::digest(key.as_bytes()));
    let running_key = format!("{}\n{blob_key}", caller.tenant);
    let _running = {
        let mut running = config.running.lock().expect("idempotency lock");
        if !running.insert(running_key.clone()) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still running",
            )
            .into_response());
        }
        Running {
            running: Arc::clone(&config.running),
            key: running_key,
        }
    };
    if let Some(stored) = load(&config.state, &caller.tenant, &blob_key).await? {
        if stored.fingerprint != fingerprint {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_conflict",
                "this Idempotency-Key was used with another request",
            )
            .into_response());
        }
        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
        let mut response = (status, axum::Json(stored.body)).into_response();
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
        return Ok(response);
    }
    // The request runs, and its answer is stored, in a task of its own: a
    // client that goes away mid-request does not cut the change off from its
    // stored answer (a retry then replays instead of running it again).
    let path = parts.uri.path().to_string();
    let state = config.state.clone();
    let tenant = caller.tenant.clone();
    let request = Request::from_parts(parts, Body::from(bytes));
    tokio::spawn(async move {
        let _running = _running;
        run_and_keep(
            &state,
            &tenant,
            &blob_key,
            &path,
            fingerprint,
            request,
            next,
        )
        .await
    })
    .await
    .map_err(|e| {
        ApiError::internal(format!("a configuration request failed: {e}")).into_response()
    })?
}

/// Runs the request; a success is stored under the key before it is
/// answered.
async fn run_and_keep(
    state: &AppState,
    tenant: &str,
    blob_key: &str,
    path: &str,
    fingerprint: String,
    request: Request,
    next: Next,
) -> Result<Response, Response> {
    let response = next.run(request).await;
    if !response.status().is_success() {
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, STORED_ANSWER_BYTES_MAX)
        .await
        .map_err(|e| ApiError::internal(format!("reading an answer: {e}")).into_response())?;
    let answer: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::internal(format!("an answer is not JSON: {e}")).into_response())?;
    let stored = StoredAnswer {
        fingerprint,
        status: parts.status.as_u16(),
        body: if path == "/v1/api-keys" {
            masked_secret(&answer)
        } else {
            answer
        },
    };
    save(state, tenant, blob_key, &stored).await?;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

/// SHA-256 of the method, path with query, and body.
fn fingerprint(method: &Method, uri: &axum::http::Uri, body: &Bytes) -> String {
    let mut hash = Sha256::new();
    hash.update(method.as_str().as_bytes());
    hash.update(b"\n");
    hash.update(
        uri.path_and_query()
            .map_or(uri.path(), |p| p.as_str())
            .as_bytes(),
    );
    hash.update(b"\n");
    hash.update(body);
    hex::encode(hash.finalize())
}

/// A created key's answer with the secret masked: `prm_…` and its last 4
/// characters.
fn masked_secret(answer: &serde_json::Value) -> serde_json::Value {
    let mut answer = answer.clone();
    if let Some(key) = answer.get_mut("key")
        && let Some(secret) = key.as_str()
    {
        let tail_start = secret
            .char_indices()
            .rev()
            .nth(3)
            .map_or(0, |(index, _)| index);
        *key = serde_json::Value::String(format!("prm_…{}", &secret[tail_start..]));
    }
    answer
}

async fn load(
    state: &AppState,
    tenant: &str,
    blob_key: &str,
) -> Result<Option<StoredAnswer>, Response> {
    let (store, tenant, blob_key) = (
        Arc::clone(&state.store),
        tenant.to_string(),
        blob_key.to_string(),
    );
    let stored = tokio::task::spawn_blocking(move || {
        store.get_blob(&tenant, CONFIG_IDEMPOTENCY_NAMESPACE, &blob_key)
    })
    .await
    .map_err(|e| ApiError::internal(format!("worker failed: {e}")).into_response())?
    .map_err(|e| ApiError::internal(e.to_string()).into_response())?;
    stored
        .map(|bytes| serde_json::from_slice(&bytes))
        .transpose()
        .map_err(|e| ApiError::internal(format!("a stored answer: {e}")).into_response())
}

async fn save(
    state: &AppState,
    tenant: &str,
    blob_key: &str,
    stored: &StoredAnswer,
) -> Result<(), Response> {
    let bytes = serde_json::to_vec(stored)
        .map_err(|e| ApiError::internal(e.to_string()).into_response())?;
    let (store, tenant, blob_key) = (
        Arc::clone(&state.store),
        tenant.to_string(),
        blob_key.to_string(),
    );
    tokio::task::spawn_blocking(move || {
        store.put_blob(&tenant, CONFIG_IDEMPOTENCY_NAMESPACE, &blob_key, &bytes)
    })
    .await
    .map_err(|e| ApiError::internal(format!("worker failed: {e}")).into_response())?
    .map_err(|e| ApiError::internal(e.to_string()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_keys_secret_is_masked_to_its_last_four_characters() {
        let body = serde_json::json!({"key": "prm_0123456789abcdef", "role": "billing"});
        let masked = masked_secret(&body);
        assert_eq!(
            masked,
            serde_json::json!({"key": "prm_…cdef", "role": "billing"})
        );
    }

    #[test]
    fn the_fingerprint_covers_path_query_and_body() {
        let uri = |s: &str| s.parse::<axum::http::Uri>().unwrap();
        let body = Bytes::from_static(b"{}");
        let base = fingerprint(&Method::POST, &uri("/v1/plugins?name=a&version=1"), &body);
        assert_eq!(
            base,
            fingerprint(&Method::POST, &uri("/v1/plugins?name=a&version=1"), &body)
        );
        assert_ne!(
            base,
            fingerprint(&Method::POST, &uri("/v1/plugins?name=a&version=2"), &body)
        );
        assert_ne!(
            base,
            fingerprint(
                &Method::POST,
                &uri("/v1/plugins?name=a&version=1"),
                &Bytes::from_static(b"{ }")
            )
        );
    }
}
