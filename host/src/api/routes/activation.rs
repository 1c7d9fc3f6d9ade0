//! Plugin versions in production: the first version uploaded under a name
//! becomes its active version; `POST /v1/plugins/{name}/{version}/activation`
//! switches every product that names the plugin without a version to another
//! uploaded version (a roll-out, or a roll-back to an older one). Products
//! pinned to `name@version` never change. The choice is durable and
//! reloaded at start-up.

use super::config::{PLUGINS_NAMESPACE, PluginView, check_plugin_name, view};
use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::{NoPreview, blocking};
use crate::api::state::{AppState, qualified};
use axum::Json;
use axum::extract::{Path, State};

/// Store namespace of the active version of each plugin name.
pub const ACTIVE_NAMESPACE: &str = "plugin-active";

fn internal(error: impl ToString) -> ApiError {
    ApiError::internal(error.to_string())
}

/// Loads a tenant's active versions into the rater directory.
pub fn load_active(state: &AppState, tenant: &str) -> Result<(), ApiError> {
    for name in state
        .store
        .list_blobs(tenant, ACTIVE_NAMESPACE)
        .map_err(internal)?
    {
        if let Some(version) = state
            .store
            .get_blob(tenant, ACTIVE_NAMESPACE, &name)
            .map_err(internal)?
        {
            let version = String::from_utf8_lossy(&version).to_string();
            state
                .raters
                .active
                .activate(&qualified(tenant, &name), &version);
        }
    }
    Ok(())
}

/// Makes `name@version` the active version of `name`, durably.
pub fn activate(state: &AppState, tenant: &str, name: &str, version: &str) -> Result<(), ApiError> {
    state
        .store
        .put_blob(tenant, ACTIVE_NAMESPACE, name, version.as_bytes())
        .map_err(crate::api::config_sync::store_problem)?;
    state
        .raters
        .active
        .activate(&qualified(tenant, name), version);
    crate::api::config_sync::bump_generation(state, tenant)
}

/// Activates `name@version` when `name` has no active version yet.
pub fn activate_if_first(
    state: &AppState,
    tenant: &str,
    name: &str,
    version: &str,
) -> Result<(), ApiError> {
    // The store, not this host's memory: on a shared store another host may
    // have activated a version a moment ago.
    let stored = state
        .store
        .get_blob(tenant, ACTIVE_NAMESPACE, name)
        .map_err(internal)?;
    if stored.is_none() {
        activate(state, tenant, name, version)?;
    }
    Ok(())
}

/// Activates an uploaded version for its name: products that name the plugin
/// without a version price (or invoice) with it from the next call on.
#[utoipa::path(post, path = "/v1/plugins/{name}/{version}/activation", responses((status = 200, body = PluginView)), tag = "plugins")]
pub async fn activate_plugin(
    State(state): State<AppState>,
    caller: Caller,
    _: NoPreview,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<PluginView>, ApiError> {
    caller.require(Access::Configure)?;
    check_plugin_name(&name, &version)?;
    blocking(move || {
        let id = format!("{name}@{version}");
        let stored = state
            .store
            .get_blob(&caller.tenant, PLUGINS_NAMESPACE, &id)
            .map_err(internal)?
            .is_some();
        let info = state
            .raters
            .plugins
            .list()
            .into_iter()
            .find(|p| p.id == qualified(&caller.tenant, &id));
        let (true, Some(info)) = (stored, info) else {
            return Err(ApiError::not_found(format!("no plugin {id}")));
        };
        let config = crate::api::config_sync::lock();
        activate(&state, &caller.tenant, &name, &version)?;
        drop(config);
        tracing::info!(tenant = %caller.tenant, plugin = %id, "plugin activated");
        Ok(Json(view(&state, &caller.tenant, info)))
    })
    .await
}
