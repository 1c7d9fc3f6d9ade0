//! External raters (Socotra's wire format): register by name with a URL and
//! headers, as a command of the tenant's log (each registration is a new
//! revision); list them and read one's revisions with header names only.
//! Header values (credentials) and the URL's query string are encrypted in
//! the secret area ([`crate::config::secrets`]): never in an event, an
//! answer or a log.

use super::config::run_config;
use crate::api::auth::{Access, Allowed, Caller, can};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, IdempotencyKey, Preview, blocking};
use crate::api::state::AppState;
use crate::config::RaterRevision;
use crate::rating::{ExternalRaterConfig, RedactedExternalRaterConfig};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use std::sync::Arc;

/// A registration's `200`: the rater again (a replay) or a preview's effect.
#[derive(utoipa::ToSchema, Debug, Serialize)]
#[serde(untagged)]
pub enum RaterAnswer {
    Rater(RedactedExternalRaterConfig),
    Preview(super::command::Effect),
}

fn latest(name: &str, revisions: &[RaterRevision]) -> Option<RedactedExternalRaterConfig> {
    revisions.last().map(|r| RedactedExternalRaterConfig {
        name: name.to_string(),
        url: r.url.clone(),
        header_names: r.header_names.clone(),
        timeout_ms: r.timeout_ms,
    })
}

/// Creates or replaces (as a new revision) an external rater. The answer
/// shows header names only. A re-registration without `headers` keeps the
/// header values of the revision it replaces (a new URL or timeout never
/// silently drops the rater's credentials); `"headers": []` removes them.
#[utoipa::path(post, path = "/v1/external-raters", request_body = ExternalRaterConfig, responses((status = 201, body = RedactedExternalRaterConfig), (status = 200, description = "A replay (the rater), or a preview (`?preview=true`: the events it would record)", body = RaterAnswer)), tag = "raters")]
pub async fn put_rater(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    let headers_given = body.get("headers").is_some();
    let mut config: ExternalRaterConfig = serde_json::from_value(body)
        .map_err(|e| ApiError::unprocessable("invalid_body", e.to_string()))?;
    config
        .validate()
        .map_err(|e| ApiError::unprocessable("invalid_external_rater", e.to_string()))?;
    let (store, directory, tenant) = (
        Arc::clone(&state.store),
        Arc::clone(&state.raters),
        caller.tenant.clone(),
    );
    let name = config.name.clone();
    let keep = !preview.0;
    let engine = Arc::clone(&state.engine);
    // The secret is encrypted into the secret area first (not for a
    // preview); the command names it by reference.
    let command = blocking(move || {
        if !headers_given {
            let previous = engine.read(&tenant, |s| {
                s.config
                    .raters
                    .get(&config.name)
                    .and_then(|revisions| revisions.last())
                    .map(|r| r.secret_ref.clone())
            })?;
            if let Some(reference) = previous {
                let secret = directory
                    .secrets
                    .get(store.as_ref(), &tenant, &reference)
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                config.headers = secret.headers;
            }
        }
        Ok(crate::config::rater_registration(
            &directory.secrets,
            store.as_ref(),
            &tenant,
            &config,
            keep,
        )?)
    })
    .await?;
    let tenant = caller.tenant.clone();
    run_config(&state, &caller, command, preview.0, key, move |state| {
        let revisions = state
            .engine
            .read(&tenant, |s| s.config.raters.get(&name).cloned())?
            .unwrap_or_default();
        latest(&name, &revisions).ok_or_else(|| ApiError::internal("the rater was not recorded"))
    })
    .await
}

/// The tenant's external raters (their latest revisions), header values
/// never shown.
#[utoipa::path(get, path = "/v1/external-raters", responses((status = 200, body = Vec<RedactedExternalRaterConfig>)), tag = "raters")]
pub async fn list_raters(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<RedactedExternalRaterConfig>>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || {
        let raters = state.engine.read(&caller.tenant, |s| {
            s.config
                .raters
                .iter()
                .filter_map(|(name, revisions)| latest(name, revisions))
                .collect::<Vec<_>>()
        })?;
        Ok(Json(raters))
    })
    .await
}

/// An external rater's revisions (header names only).
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct RaterDetail {
    pub name: String,
    /// Oldest first; the last is in use.
    pub revisions: Vec<RaterRevision>,
}

/// An external rater with every revision of its registration.
#[utoipa::path(get, path = "/v1/external-raters/{name}", responses((status = 200, body = RaterDetail)), tag = "raters")]
pub async fn get_rater(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<RaterDetail>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || {
        let revisions = state
            .engine
            .read(&caller.tenant, |s| s.config.raters.get(&name).cloned())?
            .ok_or_else(|| ApiError::not_found(format!("no external rater {name}")))?;
        Ok(Json(RaterDetail { name, revisions }))
    })
    .await
}
