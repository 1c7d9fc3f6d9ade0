//! Configuration: products and plugins (upload, tables, golden cases,
//! list). Admin only, except reads. API keys are in `keys`.

use super::command::{Effect, run};
use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, ApiQuery, IdempotencyKey, NoPreview, Preview, blocking};
use crate::api::state::{AppState, qualified, qualify_chain, unqualified, unqualify_chain};
use crate::plugin::{InstancePolicy, PluginError, PluginInfo};
use crate::policy::{PolicyCommand, ProductConfig};
use crate::rating::RateRequest;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use premia_plugin_sdk::tables::{RateTable, RateTables};
use serde::{Deserialize, Serialize};

/// Store namespaces of a tenant's plugins and their rate tables.
pub const PLUGINS_NAMESPACE: &str = "plugins";
pub const PLUGIN_TABLES_NAMESPACE: &str = "plugin-tables";
/// Golden cases one upload may carry.
pub const GOLDEN_CASES_MAX: usize = 100;

#[utoipa::path(post, path = "/v1/products", request_body = ProductConfig, responses((status = 201, description = "Committed", body = Effect)), tag = "configuration")]
pub async fn deploy_product(
    State(state): State<AppState>,
    caller: Caller,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(mut product): ApiJson<ProductConfig>,
) -> Result<(StatusCode, Json<Effect>), ApiError> {
    caller.require(Access::Configure)?;
    product.rating = qualify_chain(&caller.tenant, &product.rating);
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
fn shown(tenant: &str, mut product: ProductConfig) -> ProductConfig {
    product.rating = unqualify_chain(tenant, &product.rating);
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

/// Most idle instances one plugin may keep (they share the runtime's slots).
pub const POOLED_INSTANCES_MAX: u32 = 8;

/// Store namespace of each plugin's instance policy (absent: fresh).
pub const PLUGIN_POLICY_NAMESPACE: &str = "plugin-policy";

pub(super) fn check_plugin_name(name: &str, version: &str) -> Result<(), ApiError> {
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
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

fn plugin_problem(error: PluginError) -> ApiError {
    let status = match &error {
        PluginError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        PluginError::UnknownPlugin(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, error.code(), error.to_string())
}

/// Loads a tenant's stored tables for a plugin.
fn stored_tables(state: &AppState, tenant: &str, id: &str) -> Result<RateTables, ApiError> {
    let mut tables = RateTables::new();
    let prefix = format!("{id}/");
    let names = state
        .store
        .list_blobs(tenant, PLUGIN_TABLES_NAMESPACE)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    for key in names.into_iter().filter(|k| k.starts_with(&prefix)) {
        let bytes = state
            .store
            .get_blob(tenant, PLUGIN_TABLES_NAMESPACE, &key)
            .map_err(|e| ApiError::internal(e.to_string()))?
            .unwrap_or_default();
        let table =
            RateTable::from_csv(&String::from_utf8_lossy(&bytes)).map_err(ApiError::internal)?;
        tables.insert(key[prefix.len()..].to_string(), table);
    }
    Ok(tables)
}

/// Registers a stored plugin (and its tables) in the runtime.
pub fn register_stored(state: &AppState, tenant: &str, id: &str) -> Result<PluginInfo, ApiError> {
    let bytes = state
        .store
        .get_blob(tenant, PLUGINS_NAMESPACE, id)
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found(format!("no plugin {id}")))?;
    let tables = stored_tables(state, tenant, id)?;
    let (name, version) = id.split_once('@').unwrap_or((id, ""));
    let policy = match state
        .store
        .get_blob(tenant, PLUGIN_POLICY_NAMESPACE, id)
        .map_err(|e| ApiError::internal(e.to_string()))?
    {
        Some(text) => String::from_utf8_lossy(&text)
            .parse::<InstancePolicy>()
            .map_err(|e| ApiError::internal(e.to_string()))?,
        None => InstancePolicy::Fresh,
    };
    state
        .raters
        .plugins
        .register_with_policy(&qualified(tenant, name), version, &bytes, tables, policy)
        .map_err(plugin_problem)
}

/// Uploads a component (`application/wasm` body) as `name@version`: it is
/// validated (world, WIT version, imports, size) and compiled before it is
/// stored; an incompatible or oversized component is refused and nothing is kept.
#[utoipa::path(post, path = "/v1/plugins", request_body(content = Vec<u8>, content_type = "application/wasm"), params(PluginQuery), responses((status = 201, body = PluginView)), tag = "plugins")]
pub async fn upload_plugin(
    State(state): State<AppState>,
    caller: Caller,
    _: NoPreview,
    ApiQuery(query): ApiQuery<PluginQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<PluginView>), ApiError> {
    caller.require(Access::Configure)?;
    check_plugin_name(&query.name, &query.version)?;
    blocking(move || {
        let id = format!("{}@{}", query.name, query.version);
        let policy = query
            .instance_policy
            .as_deref()
            .map(str::parse::<InstancePolicy>)
            .transpose()
            .map_err(|e| ApiError::unprocessable("invalid_instance_policy", e.to_string()))?;
        if let Some(InstancePolicy::Pooled { instances_max, .. }) = policy
            && instances_max > POOLED_INSTANCES_MAX
        {
            return Err(ApiError::unprocessable(
                "invalid_instance_policy",
                format!("a pool keeps at most {POOLED_INSTANCES_MAX} instances"),
            ));
        }
        // Validate and compile first: nothing is stored for a bad upload.
        let report = state
            .raters
            .plugins
            .inspect(&body)
            .map_err(plugin_problem)?;
        if !report.is_compatible() {
            return Err(ApiError::unprocessable(
                "plugin_incompatible",
                report.problems.join("; "),
            ));
        }
        let _config = crate::api::config_sync::lock();
        state
            .store
            .put_blob(&caller.tenant, PLUGINS_NAMESPACE, &id, &body)
            .map_err(crate::api::config_sync::store_problem)?;
        let policy_text = policy.unwrap_or(InstancePolicy::Fresh).to_string();
        state
            .store
            .put_blob(
                &caller.tenant,
                PLUGIN_POLICY_NAMESPACE,
                &id,
                policy_text.as_bytes(),
            )
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let info = register_stored(&state, &caller.tenant, &id)?;
        super::activation::activate_if_first(&state, &caller.tenant, &query.name, &query.version)?;
        crate::api::config_sync::bump_generation(&state, &caller.tenant)?;
        Ok((
            StatusCode::CREATED,
            Json(view(&state, &caller.tenant, info)),
        ))
    })
    .await
}

/// Attaches a rate table (CSV body) to an uploaded plugin and reloads it.
#[utoipa::path(put, path = "/v1/plugins/{name}/{version}/tables/{table}", request_body(content = String, content_type = "text/csv"), responses((status = 200, body = PluginView)), tag = "plugins")]
pub async fn put_table(
    State(state): State<AppState>,
    caller: Caller,
    _: NoPreview,
    Path((name, version, table)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<PluginView>, ApiError> {
    caller.require(Access::Configure)?;
    check_plugin_name(&name, &version)?;
    check_plugin_name(&table, "csv")?;
    blocking(move || {
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::unprocessable("invalid_table", "the table is not UTF-8 text"))?;
        RateTable::from_csv(text).map_err(|e| ApiError::unprocessable("invalid_table", e))?;
        let id = format!("{name}@{version}");
        if state
            .store
            .get_blob(&caller.tenant, PLUGINS_NAMESPACE, &id)
            .map_err(|e| ApiError::internal(e.to_string()))?
            .is_none()
        {
            return Err(ApiError::not_found(format!("no plugin {id}")));
        }
        let _config = crate::api::config_sync::lock();
        state
            .store
            .put_blob(
                &caller.tenant,
                PLUGIN_TABLES_NAMESPACE,
                &format!("{id}/{table}"),
                &body,
            )
            .map_err(crate::api::config_sync::store_problem)?;
        let info = register_stored(&state, &caller.tenant, &id)?;
        crate::api::config_sync::bump_generation(&state, &caller.tenant)?;
        Ok(Json(view(&state, &caller.tenant, info)))
    })
    .await
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
    caller: Caller,
    Path((name, version)): Path<(String, String)>,
    ApiJson(cases): ApiJson<Vec<GoldenCase>>,
) -> Result<(StatusCode, Json<Vec<GoldenResult>>), ApiError> {
    caller.require(Access::Configure)?;
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
