//! Plugin versions in production: the first version uploaded under a name
//! becomes its active version; `POST /v1/plugins/{name}/{version}/activation`
//! switches every product that names the plugin without a version to another
//! uploaded version from today (a roll-out, or a roll-back to an older one);
//! `POST /v1/plugins/{name}/{version}/schedule` does so from a later day.
//! Products pinned to `name@version` never change. Each is a command of the
//! tenant's log (see [`crate::config`]); `GET /v1/plugins/{name}` shows the
//! versions, hashes, schedule, and who uploaded or activated what, when.

use super::command::Effect;
use super::config::{
    PluginAnswer, PluginView, check_plugin_name, ok_not_created, run_config, view,
};
use crate::api::auth::{Access, Allowed, Caller, can};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, IdempotencyKey, Preview, blocking};
use crate::api::state::{AppState, qualified};
use crate::config::{ConfigCommand, PluginHistory};
use crate::rating::AppliesTo;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

fn version_view(state: &AppState, tenant: &str, id: &str) -> Result<PluginView, ApiError> {
    let info = state
        .raters
        .plugins
        .plugin(&qualified(tenant, id))
        .ok_or_else(|| ApiError::not_found(format!("no plugin {id}")))?;
    Ok(view(state, tenant, info))
}

/// Activates an uploaded version for its name from today: products that
/// name the plugin without a version price (or invoice) with it from the
/// next call on.
#[utoipa::path(post, path = "/v1/plugins/{name}/{version}/activation", responses((status = 200, description = "Activated (or replayed): the version; or a preview (`?preview=true`)", body = PluginAnswer)), tag = "plugins")]
pub async fn activate_plugin(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path((name, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    check_plugin_name(&name, &version)?;
    let id = format!("{name}@{version}");
    let command = ConfigCommand::ActivateVersion { name, version };
    let tenant = caller.tenant.clone();
    let response = run_config(&state, &caller, command, preview.0, key, move |state| {
        version_view(state, &tenant, &id)
    })
    .await?;
    Ok(ok_not_created(response))
}

/// The days a scheduled version takes effect: `from` for new business and
/// renewals alike, or `new_business_from` and `renewals_from` (either or
/// both). Each a day after the tenant's today. A term is rated by the
/// version in effect on its rating date, for its kind (DOMAIN section 9).
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    #[serde(default)]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    pub new_business_from: Option<NaiveDate>,
    #[serde(default)]
    pub renewals_from: Option<NaiveDate>,
}

/// Schedules an uploaded version to become active from a later day.
#[utoipa::path(post, path = "/v1/plugins/{name}/{version}/schedule", request_body = ScheduleBody, responses((status = 201, body = PluginDetail), (status = 200, description = "A replay (the plugin), or a preview (`?preview=true`: the events it would record)", body = ScheduleAnswer)), tag = "plugins")]
pub async fn schedule_plugin(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path((name, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Response, ApiError> {
    check_plugin_name(&name, &version)?;
    let command = match body {
        ScheduleBody {
            from: Some(from),
            new_business_from: None,
            renewals_from: None,
        } => ConfigCommand::ScheduleVersion {
            name: name.clone(),
            version,
            from,
            applies_to: AppliesTo::All,
        },
        ScheduleBody {
            from: None,
            new_business_from,
            renewals_from,
        } => ConfigCommand::ScheduleVersions {
            name: name.clone(),
            version,
            new_business_from,
            renewals_from,
        },
        ScheduleBody { .. } => {
            return Err(ApiError::unprocessable(
                "invalid_schedule",
                "a schedule gives `from`, or `new_business_from` and/or `renewals_from`, not both",
            ));
        }
    };
    let tenant = caller.tenant.clone();
    run_config(&state, &caller, command, preview.0, key, move |state| {
        detail(state, &tenant, &name)
    })
    .await
}

/// A schedule's `200`: the plugin again (a replay) or a preview's effect.
#[derive(utoipa::ToSchema, Debug, Serialize)]
#[serde(untagged)]
pub enum ScheduleAnswer {
    Plugin(PluginDetail),
    Preview(Effect),
}

/// A plugin name's history: every version (hashes, tables, world, instance
/// policy, who uploaded it and when) and every activation.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct PluginDetail {
    pub name: String,
    /// The version products naming the plugin without a version use today.
    pub active_version: Option<String>,
    #[serde(flatten)]
    pub history: PluginHistory,
}

fn detail(state: &AppState, tenant: &str, name: &str) -> Result<PluginDetail, ApiError> {
    let history = state
        .engine
        .read(tenant, |s| s.config.plugins.get(name).cloned())?
        .ok_or_else(|| ApiError::not_found(format!("no plugin {name}")))?;
    Ok(PluginDetail {
        name: name.to_string(),
        active_version: state.raters.active.active(&qualified(tenant, name)),
        history,
    })
}

/// A plugin name with its versions and schedule.
#[utoipa::path(get, path = "/v1/plugins/{name}", responses((status = 200, body = PluginDetail)), tag = "plugins")]
pub async fn get_plugin(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<PluginDetail>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || detail(&state, &caller.tenant, &name).map(Json)).await
}
