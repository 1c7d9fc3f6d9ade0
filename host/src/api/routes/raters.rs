//! External raters (Socotra's wire format): register by name with a URL and
//! headers; list them with header names only. Header values (credentials)
//! are never returned or logged.

use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, NoPreview, blocking};
use crate::api::state::{AppState, qualified};
use crate::rating::{ExternalRater, ExternalRaterConfig, RedactedExternalRaterConfig};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::Arc;

/// Store namespace of a tenant's external raters.
pub const EXTERNAL_RATERS_NAMESPACE: &str = "external-raters";

/// Registers an external rater under the tenant's name for it.
pub fn register(
    state: &AppState,
    tenant: &str,
    config: &ExternalRaterConfig,
) -> Result<(), ApiError> {
    let (name, rater) = build(tenant, config)?;
    install(state, name, rater);
    Ok(())
}

/// The rater of `config`, under the tenant's name for it, not yet in use.
fn build(tenant: &str, config: &ExternalRaterConfig) -> Result<(String, ExternalRater), ApiError> {
    let mut internal = config.clone();
    internal.name = qualified(tenant, &config.name);
    let rater = ExternalRater::new(&internal)
        .map_err(|e| ApiError::unprocessable("invalid_external_rater", e.to_string()))?;
    Ok((internal.name, rater))
}

/// Puts a built rater in use on this host.
fn install(state: &AppState, name: String, rater: ExternalRater) {
    state
        .raters
        .external
        .write()
        .expect("external raters lock")
        .insert(name, Arc::new(rater));
}

/// Registers every stored external rater of a tenant (at start-up).
pub fn register_stored(state: &AppState, tenant: &str) -> Result<(), ApiError> {
    for name in state
        .store
        .list_blobs(tenant, EXTERNAL_RATERS_NAMESPACE)
        .map_err(|e| ApiError::internal(e.to_string()))?
    {
        let bytes = state
            .store
            .get_blob(tenant, EXTERNAL_RATERS_NAMESPACE, &name)
            .map_err(|e| ApiError::internal(e.to_string()))?
            .unwrap_or_default();
        let config: ExternalRaterConfig =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::internal(e.to_string()))?;
        register(state, tenant, &config)?;
    }
    Ok(())
}

/// Creates or replaces an external rater. The answer shows header names only.
#[utoipa::path(post, path = "/v1/external-raters", request_body = ExternalRaterConfig, responses((status = 201, body = RedactedExternalRaterConfig)), tag = "raters")]
pub async fn put_rater(
    State(state): State<AppState>,
    caller: Caller,
    _: NoPreview,
    ApiJson(config): ApiJson<ExternalRaterConfig>,
) -> Result<(StatusCode, Json<RedactedExternalRaterConfig>), ApiError> {
    caller.require(Access::Configure)?;
    config
        .validate()
        .map_err(|e| ApiError::unprocessable("invalid_external_rater", e.to_string()))?;
    blocking(move || {
        // Built, then stored, then used: a refused write changes nothing.
        let (name, rater) = build(&caller.tenant, &config)?;
        let bytes = serde_json::to_vec(&config).expect("configs serialize");
        let _config = crate::api::config_sync::lock();
        state
            .store
            .put_blob(
                &caller.tenant,
                EXTERNAL_RATERS_NAMESPACE,
                &config.name,
                &bytes,
            )
            .map_err(crate::api::config_sync::store_problem)?;
        install(&state, name, rater);
        crate::api::config_sync::bump_generation(&state, &caller.tenant)?;
        Ok((StatusCode::CREATED, Json(config.redacted())))
    })
    .await
}

/// The tenant's external raters, header values redacted.
#[utoipa::path(get, path = "/v1/external-raters", responses((status = 200, body = Vec<RedactedExternalRaterConfig>)), tag = "raters")]
pub async fn list_raters(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<RedactedExternalRaterConfig>>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || {
        let mut raters = Vec::new();
        for name in state
            .store
            .list_blobs(&caller.tenant, EXTERNAL_RATERS_NAMESPACE)
            .map_err(|e| ApiError::internal(e.to_string()))?
        {
            if let Some(bytes) = state
                .store
                .get_blob(&caller.tenant, EXTERNAL_RATERS_NAMESPACE, &name)
                .map_err(|e| ApiError::internal(e.to_string()))?
            {
                let config: ExternalRaterConfig = serde_json::from_slice(&bytes)
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                raters.push(config.redacted());
            }
        }
        Ok(Json(raters))
    })
    .await
}
