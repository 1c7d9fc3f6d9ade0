//! Webhook endpoints (DOMAIN section 11), admin only for changes: create
//! one (its `whsec_` secret shown once), list, read with its delivery
//! state, update, disable and enable, rotate the secret (the previous one
//! signs beside it for 24 h), delete; list its delivery attempts; replay
//! one message or a range of sequences. Every change is a command of the
//! tenant's log with its actor and time; the secret is sealed in the
//! secret area and never in an event, an answer (but the one that made
//! it) or a log.

use super::command::run;
use crate::api::auth::{Access, Allowed, Caller, can};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, ApiQuery, IdempotencyKey, NoPreview, blocking};
use crate::api::state::AppState;
use crate::engine::webhooks::{
    DeliveryAttempt, DeliveryCursor, REPLAY_SEQUENCES_MAX, Replay, load_cursor, queue_replay,
    recent_attempts,
};
use crate::webhooks::schema::EVENT_TYPES;
use crate::webhooks::{Endpoint, WebhookCommand, WebhookError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An endpoint to create.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// `http` or `https`, no user name or password in it.
    pub url: String,
    /// The event types it receives (`GET /v1/webhooks/event-types`).
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// What to change of an endpoint; what is absent stays.
#[derive(utoipa::ToSchema, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointChange {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
}

/// An endpoint with where its deliveries stand. Never its secret.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct EndpointView {
    #[serde(flatten)]
    pub endpoint: EndpointFields,
    /// Every message of events up to this sequence is delivered.
    pub delivered_through: u64,
    /// Failures in a row of the message at the head (0: healthy).
    pub failures: u32,
    /// Since when every attempt failed (the endpoint is disabled as
    /// `failing` three days after).
    pub failing_since: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Replays waiting to be sent.
    pub replays_queued: usize,
}

/// An endpoint's recorded fields, without its secret's reference.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct EndpointFields {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
    pub status: crate::webhooks::EndpointStatus,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// A created endpoint, or one with a new secret: the secret shown once.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct EndpointWithSecret {
    /// `whsec_...`: verify signatures with it (Standard Webhooks).
    pub secret: String,
    #[serde(flatten)]
    pub endpoint: EndpointView,
}

/// An event type and what it tells.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct EventTypeInfo {
    #[serde(rename = "type")]
    pub event_type: String,
    pub description: String,
}

/// A replay: a range of the log's sequences, or one message.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    #[serde(default)]
    pub from_sequence: Option<u64>,
    #[serde(default)]
    pub through_sequence: Option<u64>,
    /// One message id (`msg_<sequence>_<index>`).
    #[serde(default)]
    pub message: Option<String>,
}

/// How many attempts to list.
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttemptsQuery {
    /// 50 by default, at most 1000.
    pub limit: Option<u64>,
}

fn view(endpoint: &Endpoint, cursor: DeliveryCursor) -> EndpointView {
    EndpointView {
        endpoint: EndpointFields {
            id: endpoint.id.clone(),
            url: endpoint.url.clone(),
            event_types: endpoint.event_types.clone(),
            description: endpoint.description.clone(),
            status: endpoint.status.clone(),
            created_at: endpoint.created_at,
            created_by: endpoint.created_by.clone(),
        },
        delivered_through: cursor.delivered_through,
        failures: cursor.failures,
        failing_since: cursor.failing_since,
        next_attempt_at: cursor.next_attempt_at,
        replays_queued: cursor.replays.len(),
    }
}

fn store_error(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
        error.to_string(),
    )
}

fn endpoint_of(state: &AppState, tenant: &str, id: &str) -> Result<Endpoint, ApiError> {
    Ok(state
        .engine
        .read(tenant, |s| s.webhooks.get(id).cloned())??)
}

fn view_of(state: &AppState, tenant: &str, id: &str) -> Result<EndpointView, ApiError> {
    let endpoint = endpoint_of(state, tenant, id)?;
    let cursor = load_cursor(state.store.as_ref(), tenant, &endpoint).map_err(store_error)?;
    Ok(view(&endpoint, cursor))
}

/// A new secret sealed in the secret area: its text (shown once) and its
/// reference (in the command).
fn new_secret(
    state: &AppState,
    tenant: &str,
    idempotency_key: Option<&str>,
) -> Result<(String, String), ApiError> {
    let secret = state
        .raters
        .secrets
        .new_webhook_secret(tenant, idempotency_key);
    let reference = state
        .raters
        .secrets
        .put_webhook_secret(state.store.as_ref(), tenant, &secret)
        .map_err(store_error)?;
    Ok((secret.text(), reference))
}

/// The event types an endpoint may receive.
#[utoipa::path(get, path = "/v1/webhooks/event-types", responses((status = 200, body = Vec<EventTypeInfo>)), tag = "webhooks")]
pub async fn event_types(caller: Caller) -> Result<Json<Vec<EventTypeInfo>>, ApiError> {
    caller.require(Access::Read)?;
    Ok(Json(
        EVENT_TYPES
            .iter()
            .map(|(event_type, description)| EventTypeInfo {
                event_type: event_type.to_string(),
                description: description.to_string(),
            })
            .collect(),
    ))
}

/// Creates an endpoint; its secret is shown once. It receives messages of
/// events recorded after it.
#[utoipa::path(post, path = "/v1/webhooks/endpoints", request_body = NewEndpoint, responses((status = 201, body = EndpointWithSecret), (status = 200, description = "A replay (same Idempotency-Key and body): the same endpoint and secret", body = EndpointWithSecret)), tag = "webhooks")]
pub async fn create_endpoint(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    _: NoPreview,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<NewEndpoint>,
) -> Result<(StatusCode, Json<EndpointWithSecret>), ApiError> {
    // Refused before a secret is made.
    crate::webhooks::endpoint::check_url(&body.url)?;
    crate::webhooks::endpoint::check_event_types(&body.event_types)?;
    crate::webhooks::endpoint::check_description(&body.description)?;
    let tenant = caller.tenant.clone();
    let (secret, secret_ref) = {
        let (state, tenant, key) = (state.clone(), tenant.clone(), key.clone());
        blocking(move || new_secret(&state, &tenant, key.as_deref())).await?
    };
    let command = WebhookCommand::CreateEndpoint {
        url: body.url,
        event_types: body.event_types,
        description: body.description,
        secret_ref: secret_ref.clone(),
    };
    let (status, _) = run(&state, &caller, command.into(), false, key).await?;
    blocking(move || {
        let id = state
            .engine
            .read(&tenant, |s| {
                s.webhooks
                    .endpoints
                    .values()
                    .find(|e| e.secret_ref == secret_ref)
                    .map(|e| e.id.clone())
            })?
            .ok_or_else(|| ApiError::internal("the endpoint was not recorded"))?;
        Ok((
            status,
            Json(EndpointWithSecret {
                secret,
                endpoint: view_of(&state, &tenant, &id)?,
            }),
        ))
    })
    .await
}

/// The tenant's endpoints with where their deliveries stand.
#[utoipa::path(get, path = "/v1/webhooks/endpoints", responses((status = 200, body = Vec<EndpointView>)), tag = "webhooks")]
pub async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<EndpointView>>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || {
        let endpoints: Vec<Endpoint> = state.engine.read(&caller.tenant, |s| {
            s.webhooks.endpoints.values().cloned().collect()
        })?;
        let mut views = Vec::with_capacity(endpoints.len());
        for endpoint in &endpoints {
            let cursor =
                load_cursor(state.store.as_ref(), &caller.tenant, endpoint).map_err(store_error)?;
            views.push(view(endpoint, cursor));
        }
        Ok(Json(views))
    })
    .await
}

/// One endpoint with where its deliveries stand.
#[utoipa::path(get, path = "/v1/webhooks/endpoints/{id}", responses((status = 200, body = EndpointView)), tag = "webhooks")]
pub async fn get_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EndpointView>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || Ok(Json(view_of(&state, &caller.tenant, &id)?))).await
}

async fn change(
    state: AppState,
    caller: &Caller,
    key: Option<String>,
    id: String,
    command: WebhookCommand,
) -> Result<Json<EndpointView>, ApiError> {
    let _ = run(&state, caller, command.into(), false, key).await?;
    let tenant = caller.tenant.clone();
    blocking(move || Ok(Json(view_of(&state, &tenant, &id)?))).await
}

/// Changes an endpoint's URL, event types or description.
#[utoipa::path(patch, path = "/v1/webhooks/endpoints/{id}", request_body = EndpointChange, responses((status = 200, body = EndpointView)), tag = "webhooks")]
pub async fn update_endpoint(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    _: NoPreview,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EndpointChange>,
) -> Result<Json<EndpointView>, ApiError> {
    let command = WebhookCommand::UpdateEndpoint {
        endpoint: id.clone(),
        url: body.url,
        event_types: body.event_types,
        description: body.description,
    };
    change(state, &caller, key, id, command).await
}

/// Stops deliveries to an endpoint (409 if it is disabled already).
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{id}/disable", responses((status = 200, body = EndpointView)), tag = "webhooks")]
pub async fn disable_endpoint(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    _: NoPreview,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<String>,
) -> Result<Json<EndpointView>, ApiError> {
    let command = WebhookCommand::DisableEndpoint {
        endpoint: id.clone(),
        reason: crate::webhooks::DisableReason::Requested,
    };
    change(state, &caller, key, id, command).await
}

/// Resumes deliveries where they stopped (409 if it is enabled already).
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{id}/enable", responses((status = 200, body = EndpointView)), tag = "webhooks")]
pub async fn enable_endpoint(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    _: NoPreview,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<String>,
) -> Result<Json<EndpointView>, ApiError> {
    // A failing endpoint enabled again is tried at once.
    let tenant = caller.tenant.clone();
    {
        let (state, tenant, id) = (state.clone(), tenant.clone(), id.clone());
        blocking(move || {
            let endpoint = endpoint_of(&state, &tenant, &id)?;
            let store = state.store.as_ref();
            let mut cursor = load_cursor(store, &tenant, &endpoint).map_err(store_error)?;
            if !endpoint.is_enabled() {
                cursor.next_attempt_at = None;
                cursor.failures = 0;
                cursor.failing_since = None;
                let bytes = serde_json::to_vec(&cursor).expect("cursors serialize");
                store
                    .put_blob(
                        &tenant,
                        crate::engine::webhooks::CURSORS_NAMESPACE,
                        &endpoint.id,
                        &bytes,
                    )
                    .map_err(store_error)?;
            }
            Ok(())
        })
        .await?;
    }
    let command = WebhookCommand::EnableEndpoint {
        endpoint: id.clone(),
    };
    change(state, &caller, key, id, command).await
}

/// Gives an endpoint a new secret, shown once; the previous one signs
/// beside it for 24 h (each message carries both signatures).
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{id}/secret-rotations", responses((status = 200, body = EndpointWithSecret)), tag = "webhooks")]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    _: NoPreview,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<String>,
) -> Result<Json<EndpointWithSecret>, ApiError> {
    let tenant = caller.tenant.clone();
    let (secret, secret_ref) = {
        let (state, tenant, id, key) = (state.clone(), tenant.clone(), id.clone(), key.clone());
        blocking(move || {
            endpoint_of(&state, &tenant, &id)?;
            new_secret(&state, &tenant, key.as_deref())
        })
        .await?
    };
    let command = WebhookCommand::RotateSecret {
        endpoint: id.clone(),
        secret_ref,
    };
    let Json(endpoint) = change(state, &caller, key, id, command).await?;
    Ok(Json(EndpointWithSecret { secret, endpoint }))
}

/// Deletes an endpoint: nothing more is delivered to it.
#[utoipa::path(delete, path = "/v1/webhooks/endpoints/{id}", responses((status = 204)), tag = "webhooks")]
pub async fn delete_endpoint(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    _: NoPreview,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let command = WebhookCommand::DeleteEndpoint { endpoint: id };
    let _ = run(&state, &caller, command.into(), false, key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An endpoint's latest delivery attempts, newest first.
#[utoipa::path(get, path = "/v1/webhooks/endpoints/{id}/attempts", params(AttemptsQuery), responses((status = 200, body = Vec<DeliveryAttempt>)), tag = "webhooks")]
pub async fn list_attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<AttemptsQuery>,
) -> Result<Json<Vec<DeliveryAttempt>>, ApiError> {
    caller.require(Access::Read)?;
    let limit = query.limit.unwrap_or(50).clamp(1, 1_000);
    blocking(move || {
        let endpoint = endpoint_of(&state, &caller.tenant, &id)?;
        Ok(Json(
            recent_attempts(state.store.as_ref(), &caller.tenant, &endpoint, limit)
                .map_err(store_error)?,
        ))
    })
    .await
}

/// Sends messages again: those of a range of the log's sequences the
/// endpoint receives, or one message. Queued before its live messages.
#[utoipa::path(post, path = "/v1/webhooks/endpoints/{id}/replays", request_body = ReplayRequest, responses((status = 202, body = EndpointView)), tag = "webhooks")]
pub async fn replay(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    _: NoPreview,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplayRequest>,
) -> Result<(StatusCode, Json<EndpointView>), ApiError> {
    let bad = WebhookError::BadReplayRange {
        max: REPLAY_SEQUENCES_MAX,
    };
    let replay = match (body.message, body.from_sequence, body.through_sequence) {
        (Some(message), None, None) => {
            let sequence = message
                .strip_prefix("msg_")
                .and_then(|rest| rest.split('_').next())
                .and_then(|s| s.parse::<u64>().ok())
                .filter(|s| *s >= 1)
                .ok_or(bad.clone())?;
            Replay {
                next: sequence,
                through: sequence,
                only: Some(message),
            }
        }
        (None, Some(from), Some(through))
            if from >= 1 && from <= through && through - from < REPLAY_SEQUENCES_MAX =>
        {
            Replay {
                next: from,
                through,
                only: None,
            }
        }
        _ => return Err(bad.into()),
    };
    blocking(move || {
        let endpoint = endpoint_of(&state, &caller.tenant, &id)?;
        queue_replay(state.store.as_ref(), &caller.tenant, &endpoint, replay)
            .map_err(store_error)?;
        Ok((
            StatusCode::ACCEPTED,
            Json(view_of(&state, &caller.tenant, &id)?),
        ))
    })
    .await
}
