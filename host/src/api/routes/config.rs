//! Configuration: products and plugins (upload, tables, golden cases,
//! list). Admin only, except reads. API keys are in `keys`.

use super::command::{Effect, run};
use crate::api::auth::{Access, Allowed, Caller, can};
use crate::api::error::{ApiError, status_of_kind};
use crate::api::extract::{ApiJson, ApiQuery, IdempotencyKey, Preview, blocking};
use crate::api::state::{AppState, qualified, qualify_chain, unqualified, unqualify_chain};
use crate::config::blobs::{self, BlobError};
use crate::config::{ConfigCommand, PluginUpload};
use crate::plugin::{InstancePolicy, PluginError, PluginInfo};
use crate::policy::{PolicyCommand, ProductConfig};
use crate::rating::RateRequest;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Golden cases one upload may carry.
pub const GOLDEN_CASES_MAX: usize = 100;
/// The header marking a replayed answer (the same idempotency key and body).
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

#[utoipa::path(post, path = "/v1/products", request_body = ProductConfig, responses((status = 201, description = "Committed", body = Effect)), tag = "configuration")]
pub async fn deploy_product(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(mut product): ApiJson<ProductConfig>,
) -> Result<(StatusCode, Json<Effect>), ApiError> {
    product.rating = qualify_chain(&caller.tenant, &product.rating);
    if let Some(shadow) = &mut product.shadow {
        shadow.rater = qualify_chain(&caller.tenant, &shadow.rater);
    }
    if let Some(plugin) = &product.invoicing_plugin {
        product.invoicing_plugin = Some(qualified(&caller.tenant, plugin));
    }
    let (status, Json(mut effect)) = run(
        &state,
        &caller,
        PolicyCommand::DeployProduct { product }.into(),
        preview.0,
        key,
    )
    .await?;
    for product in &mut effect.products {
        *product = shown(&caller.tenant, product.clone());
    }
    Ok((status, Json(effect)))
}

/// A product as its tenant wrote it (names without the tenant prefix).
pub(super) fn shown(tenant: &str, mut product: ProductConfig) -> ProductConfig {
    product.rating = unqualify_chain(tenant, &product.rating);
    if let Some(shadow) = &mut product.shadow {
        shadow.rater = unqualify_chain(tenant, &shadow.rater);
    }
    product.invoicing_plugin = product
        .invoicing_plugin
        .map(|p| unqualified(tenant, &p).to_string());
    product
}

#[utoipa::path(get, path = "/v1/products", responses((status = 200, body = Vec<ProductConfig>)), tag = "configuration")]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ProductConfig>>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let products = engine.read(&caller.tenant, |s| {
            s.book.products.values().cloned().collect::<Vec<_>>()
        })?;
        Ok(Json(
            products
                .into_iter()
                .map(|p| shown(&caller.tenant, p))
                .collect(),
        ))
    })
    .await
}

#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PluginQuery {
    pub name: String,
    pub version: String,
    /// `fresh` (the default: a new sandbox per call, strongest isolation)
    /// or `pooled:<instances>:<calls per instance>` (reused instances,
    /// dropped after any failure; for heavy JavaScript and Python guests).
    #[serde(default)]
    pub instance_policy: Option<String>,
}

pub use crate::config::blobs::POOLED_INSTANCES_MAX;

pub(super) fn check_plugin_name(name: &str, version: &str) -> Result<(), ApiError> {
    let ok = crate::config::valid_name;
    if ok(name) && ok(version) {
        Ok(())
    } else {
        Err(ApiError::unprocessable(
            "invalid_plugin_name",
            "name and version: 1-64 letters, digits, '-', '_' or '.'",
        ))
    }
}

/// A plugin as its tenant sees it: its id, name and version without the
/// tenant prefix.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct PluginView {
    /// Whether this is the version products naming the plugin without a
    /// version use.
    pub active: bool,
    /// `fresh` or `pooled:<instances>:<calls per instance>`.
    pub instance_policy: String,
    /// Milliseconds of quarantine left, when a recent call of this version
    /// hit a resource limit (its calls run at idle CPU priority until then);
    /// absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantined_ms_left: Option<u64>,
    #[serde(flatten)]
    pub info: PluginInfo,
}

pub(super) fn view(state: &AppState, tenant: &str, info: PluginInfo) -> PluginView {
    let id = unqualified(tenant, &info.id);
    let (name, version) = id.split_once('@').unwrap_or((id, ""));
    let active = state
        .raters
        .active
        .active(&qualified(tenant, name))
        .as_deref()
        == Some(version);
    let instance_policy = state
        .raters
        .plugins
        .instance_policy(&info.id)
        .unwrap_or(InstancePolicy::Fresh)
        .to_string();
    let quarantined_ms_left = state
        .raters
        .plugins
        .quarantined_for(&info.id)
        .map(|left| u64::try_from(left.as_millis()).unwrap_or(u64::MAX));
    PluginView {
        active,
        instance_policy,
        quarantined_ms_left,
        info: PluginInfo {
            id: id.to_string(),
            name: name.to_string(),
            version: version.to_string(),
            ..info
        },
    }
}

/// A problem for bytes refused before any command ran (the store's text
/// stays out of a 503's answer, as every 5xx's).
pub(super) fn blob_problem(error: BlobError) -> ApiError {
    ApiError::new(
        status_of_kind(error.kind()),
        error.code(),
        error.to_string(),
    )
}

/// Runs a configuration command: a preview answers its effect (200); a
/// commit answers what `shown` makes of the state after it (201, or 200
/// with `Idempotent-Replayed: true` for a replay).
pub(super) async fn run_config<T: Serialize + Send + 'static>(
    state: &AppState,
    caller: &Caller,
    command: ConfigCommand,
    preview: bool,
    key: Option<String>,
    shown: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    let (status, Json(effect)) = run(state, caller, command.into(), preview, key).await?;
    if preview {
        return Ok((status, Json(effect)).into_response());
    }
    let state = state.clone();
    let view = blocking(move || shown(&state)).await?;
    let mut response = (status, Json(view)).into_response();
    if effect.replayed {
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// The view of `name@version` as registered on this host.
fn registered_view(state: &AppState, tenant: &str, id: &str) -> Result<PluginView, ApiError> {
    let info = state
        .raters
        .plugins
        .plugin(&qualified(tenant, id))
        .ok_or_else(|| ApiError::internal(format!("plugin {id} is recorded but did not load")))?;
    Ok(view(state, tenant, info))
}

/// Uploads a component (`application/wasm` body) as `name@version`: it is
/// validated (world, WIT version, imports, size) and compiled, stored under
/// its content hash, and its upload recorded in the tenant's log (the first
/// version of a name becomes active). An incompatible or oversized
/// component is refused and nothing is recorded; so is a version already
/// uploaded (409 `plugin_version_exists`).
#[utoipa::path(post, path = "/v1/plugins", request_body(content = Vec<u8>, content_type = "application/wasm"), params(PluginQuery), responses((status = 201, body = PluginView), (status = 200, description = "A replay (the same key and body), or a preview (`?preview=true`: the events it would record)", body = PluginAnswer)), tag = "plugins")]
pub async fn upload_plugin(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    ApiQuery(query): ApiQuery<PluginQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_plugin_name(&query.name, &query.version)?;
    let policy = blobs::instance_policy(query.instance_policy.as_deref()).map_err(blob_problem)?;
    let (store, runtime, tenant) = (
        Arc::clone(&state.store),
        Arc::clone(&state.raters.plugins),
        caller.tenant.clone(),
    );
    // Validated, compiled and stored by hash first (a preview stores
    // nothing): a bad upload records nothing.
    let keep = !preview.0;
    let stored = blocking(move || {
        if keep {
            blobs::store_component(&runtime, store.as_ref(), &tenant, &body, policy)
        } else {
            blobs::check_component(&runtime, &body, policy)
        }
        .map_err(blob_problem)
    })
    .await?;
    let id = format!("{}@{}", query.name, query.version);
    let command = ConfigCommand::UploadPlugin(PluginUpload {
        name: query.name,
        version: query.version,
        component_sha256: stored.sha256,
        size_bytes: stored.size_bytes,
        world: stored.world,
        wit_version: stored.wit_version,
        instance_policy: stored.instance_policy,
    });
    let tenant = caller.tenant.clone();
    run_config(&state, &caller, command, preview.0, key, move |state| {
        registered_view(state, &tenant, &id)
    })
    .await
}

/// Attaches a rate table (CSV body) to an uploaded version: stored by its
/// hash, its attachment recorded. A table already attached to the version
/// is refused (409 `plugin_version_immutable`: a new table means a new
/// version).
#[utoipa::path(put, path = "/v1/plugins/{name}/{version}/tables/{table}", request_body(content = String, content_type = "text/csv"), responses((status = 200, description = "Attached (or replayed): the version; or a preview (`?preview=true`)", body = PluginAnswer)), tag = "plugins")]
pub async fn put_table(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path((name, version, table)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_plugin_name(&name, &version)?;
    check_plugin_name(&table, "csv")?;
    let (store, tenant) = (Arc::clone(&state.store), caller.tenant.clone());
    let keep = !preview.0;
    let sha256 = blocking(move || {
        if keep {
            blobs::store_table(store.as_ref(), &tenant, &body)
        } else {
            blobs::check_table(&body)
        }
        .map_err(blob_problem)
    })
    .await?;
    let id = format!("{name}@{version}");
    let command = ConfigCommand::AttachRateTable {
        name,
        version,
        table,
        sha256,
    };
    let tenant = caller.tenant.clone();
    let response = run_config(&state, &caller, command, preview.0, key, move |state| {
        registered_view(state, &tenant, &id)
    })
    .await?;
    Ok(ok_not_created(response))
}

/// A configuration command's `200`: the plugin version again (a replay,
/// or a change to an existing resource) or, with `?preview=true`, the
/// effect (the events it would record).
#[derive(utoipa::ToSchema, Debug, Serialize)]
#[serde(untagged)]
pub enum PluginAnswer {
    Plugin(PluginView),
    Preview(Effect),
}

/// A commit's 201 as 200 (the resource existed before).
pub(super) fn ok_not_created(mut response: Response) -> Response {
    if response.status() == StatusCode::CREATED {
        *response.status_mut() = StatusCode::OK;
    }
    response
}

#[utoipa::path(get, path = "/v1/plugins", responses((status = 200, body = Vec<PluginView>)), tag = "plugins")]
pub async fn list_plugins(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    caller.require(Access::Read)?;
    let prefix = format!("{}/", caller.tenant);
    let plugins = state
        .raters
        .plugins
        .list()
        .into_iter()
        .filter(|p| p.id.starts_with(&prefix))
        .map(|p| view(&state, &caller.tenant, p))
        .collect();
    Ok(Json(plugins))
}

/// One golden case: a request and the response the author expects.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldenCase {
    pub name: String,
    pub request: RateRequest,
    pub expected: serde_json::Value,
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct GoldenResult {
    pub name: String,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Runs the author's golden cases against an uploaded rating plugin in the
/// production sandbox; 200 when every case passes, 422 with the results
/// otherwise.
#[utoipa::path(post, path = "/v1/plugins/{name}/{version}/golden", request_body = Vec<GoldenCase>, responses((status = 200, description = "Every case passed", body = Vec<GoldenResult>), (status = 422, description = "Some case failed (the results say which and why), or the cases are invalid (a problem)", content((Vec<GoldenResult> = "application/json"), (crate::api::error::Problem = "application/problem+json")))), tag = "plugins")]
pub async fn run_golden(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    Path((name, version)): Path<(String, String)>,
    ApiJson(cases): ApiJson<Vec<GoldenCase>>,
) -> Result<(StatusCode, Json<Vec<GoldenResult>>), ApiError> {
    if cases.is_empty() || cases.len() > GOLDEN_CASES_MAX {
        return Err(ApiError::unprocessable(
            "invalid_golden_cases",
            format!("send 1 to {GOLDEN_CASES_MAX} cases"),
        ));
    }
    blocking(move || {
        let id = qualified(&caller.tenant, &format!("{name}@{version}"));
        let mut results = Vec::with_capacity(cases.len());
        for case in cases {
            match state.raters.plugins.rate(&id, &case.request) {
                Ok((response, _)) => {
                    let actual = serde_json::to_value(&response).expect("responses serialize");
                    results.push(GoldenResult {
                        name: case.name,
                        passed: actual == case.expected,
                        actual: Some(actual),
                        error: None,
                    });
                }
                Err(PluginError::UnknownPlugin(_)) => {
                    return Err(ApiError::not_found(format!("no plugin {name}@{version}")));
                }
                Err(error) => results.push(GoldenResult {
                    name: case.name,
                    passed: false,
                    actual: None,
                    error: Some(error.to_string()),
                }),
            }
        }
        let status = if results.iter().all(|r| r.passed) {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        Ok((status, Json(results)))
    })
    .await
}
