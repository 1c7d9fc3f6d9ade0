//! API keys (admin): `POST /v1/api-keys` creates one and shows its secret
//! once, `GET /v1/api-keys` lists them (never a secret or a hash), `DELETE
//! /v1/api-keys/{id}` revokes one at once, `POST /v1/api-keys/{id}/rotation`
//! gives one a new secret while the replaced one stays valid for a grace
//! period (24 h unless `grace_seconds` says otherwise, at most 7 days).
//! Each change is a command of the tenant's log (in the event feed with its
//! actor, time and idempotency key); a replay (same `Idempotency-Key` and
//! body) answers 200 with the same key and `key: null`.

use crate::api::auth::{Access, Allowed, Caller, can};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, IdempotencyKey, NoPreview, blocking};
use crate::api::state::AppState;
use crate::engine::{IssuedKey, KeyRingError, RequestMeta};
use crate::keys::{ApiKey, GRACE_SECONDS_DEFAULT, KeyError, Role};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A key to create.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// `admin`, `policy_system`, `billing` or `read_only`; another name is
    /// 422 `unknown_role`.
    pub role: String,
    /// At most 64 characters.
    #[serde(default)]
    pub label: String,
}

/// A rotation's grace for the replaced secret.
#[derive(utoipa::ToSchema, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// How long the replaced secret stays valid: 86400 (24 h) by default,
    /// 0 to stop it at once, at most 604800 (7 days).
    #[serde(default)]
    pub grace_seconds: Option<u64>,
}

/// A key, as listed: never its secret or a hash.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct KeyInfo {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The latest request made with it (see docs/api.md: kept per host in
    /// memory, written every minute).
    pub last_used: Option<DateTime<Utc>>,
}

/// A created or rotated key and its new secret.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct IssuedKeyAnswer {
    /// The new secret, shown once; `null` on a replay (secrets are never
    /// kept, only their hashes).
    pub key: Option<String>,
    /// An earlier request with the same idempotency key answered again.
    pub replayed: bool,
    #[serde(flatten)]
    pub api_key: ApiKey,
}

/// A revoked key.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct RevokedKey {
    pub replayed: bool,
    #[serde(flatten)]
    pub api_key: ApiKey,
}

fn meta(caller: &Caller, idempotency_key: Option<String>) -> RequestMeta {
    tracing::info!(tenant = %caller.tenant, role = caller.role.name(), "api key command");
    RequestMeta {
        actor: format!("{}:{}", caller.role.name(), caller.label),
        issued_at: Utc::now(),
        idempotency_key,
        arithmetic: crate::billing::Arithmetic::Written,
    }
}

impl From<KeyRingError> for ApiError {
    fn from(error: KeyRingError) -> Self {
        match error {
            KeyRingError::Engine(error) => error.into(),
            KeyRingError::Store(error) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                error.to_string(),
            ),
            KeyRingError::Corrupt(detail) => ApiError::internal(detail),
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(error: KeyError) -> Self {
        crate::engine::EngineError::from(error).into()
    }
}

fn issued(issued: IssuedKey) -> (StatusCode, Json<IssuedKeyAnswer>) {
    let status = if issued.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let answer = IssuedKeyAnswer {
        key: issued.secret,
        replayed: issued.replayed,
        api_key: issued.key,
    };
    (status, Json(answer))
}

/// Creates another API key for the caller's tenant; its secret is shown
/// once.
#[utoipa::path(
    post,
    path = "/v1/api-keys",
    request_body = NewKey,
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body: the same key again (200, `key: null`); same key, other body: 409 idempotency_conflict.")),
    responses((status = 201, body = IssuedKeyAnswer), (status = 200, description = "Replayed", body = IssuedKeyAnswer)),
    tag = "configuration"
)]
pub async fn create_key(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    _: NoPreview,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<IssuedKeyAnswer>), ApiError> {
    let role = Role::from_name(&body.role).ok_or(KeyError::UnknownRole(body.role))?;
    blocking(move || {
        let meta = meta(&caller, idempotency_key);
        let created = state
            .keys
            .create(&caller.tenant, role, &body.label, &meta)?;
        Ok(issued(created))
    })
    .await
}

/// The tenant's keys, oldest first, revoked ones included.
#[utoipa::path(get, path = "/v1/api-keys", responses((status = 200, body = Vec<KeyInfo>)), tag = "configuration")]
pub async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<KeyInfo>>, ApiError> {
    caller.require(Access::Configure)?;
    blocking(move || {
        let keys = state.keys.list(&caller.tenant)?;
        Ok(Json(
            keys.into_iter()
                .map(|listing| KeyInfo {
                    key: listing.key,
                    last_used: listing.last_used,
                })
                .collect(),
        ))
    })
    .await
}

/// Revokes a key at once, on every host. 404 `api_key_not_found`, 409
/// `api_key_revoked` when it already is, 409 `last_admin_key` for the
/// tenant's last live admin key.
#[utoipa::path(
    delete,
    path = "/v1/api-keys/{id}",
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key: the same answer again (200, `replayed: true`)")),
    responses((status = 200, body = RevokedKey)),
    tag = "configuration"
)]
pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    _: NoPreview,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    Path(id): Path<String>,
) -> Result<Json<RevokedKey>, ApiError> {
    blocking(move || {
        let meta = meta(&caller, idempotency_key);
        let (api_key, replayed) = state.keys.revoke(&caller.tenant, &id, &meta)?;
        Ok(Json(RevokedKey { replayed, api_key }))
    })
    .await
}

/// Gives a key a new secret (shown once); the replaced one stays valid for
/// `grace_seconds` (default 86400, at most 604800; 422 `invalid_grace`
/// above). 404 `api_key_not_found`, 409 `api_key_revoked`.
#[utoipa::path(
    post,
    path = "/v1/api-keys/{id}/rotation",
    request_body = Rotation,
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body: the same key again (200, `key: null`); same key, other body: 409 idempotency_conflict.")),
    responses((status = 201, body = IssuedKeyAnswer), (status = 200, description = "Replayed", body = IssuedKeyAnswer)),
    tag = "configuration"
)]
pub async fn rotate_key(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    _: NoPreview,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<IssuedKeyAnswer>), ApiError> {
    let rotation: Rotation = if body.iter().all(u8::is_ascii_whitespace) {
        Rotation::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => {
                ApiError::unprocessable("invalid_body", e.to_string())
            }
            _ => ApiError::bad_request("malformed_json", e.to_string()),
        })?
    };
    let grace = rotation.grace_seconds.unwrap_or(GRACE_SECONDS_DEFAULT);
    blocking(move || {
        let meta = meta(&caller, idempotency_key);
        let rotated = state.keys.rotate(&caller.tenant, &id, grace, &meta)?;
        Ok(issued(rotated))
    })
    .await
}
