//! A tenant's "today": `GET /v1/clock` for every tenant, and `POST
//! /v1/clock` for staff (admin or billing) of a test tenant to move its own
//! clock forward. A normal tenant's today is the wall clock (the latest local
//! date of UTC and of its policies' time zones) and cannot be set: 409
//! `not_a_test_tenant`. A date before the clock's is 409 `clock_backwards`.
//! Moving the clock is a command of the tenant's log (who and when are kept
//! with it), so it survives restarts.

use crate::api::auth::{Access, Allowed, Caller, can};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, IdempotencyKey, NoPreview, blocking};
use crate::api::state::AppState;
use crate::engine::{ClockCommand, EngineCommand, RequestMeta};
use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A tenant's today.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// The date billing runs default to and may not run past.
    pub today: NaiveDate,
    /// Whether this is a test tenant's own clock (true) or the wall clock.
    pub test: bool,
}

/// The date to move a test tenant's clock to.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetClock {
    /// The same day as the clock's or later.
    pub today: NaiveDate,
}

/// The tenant's today, and whether it is a test tenant's own clock.
#[utoipa::path(get, path = "/v1/clock", responses((status = 200, body = Clock)), tag = "billing")]
pub async fn get_clock(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Clock>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let (today, test) = engine.clock(&caller.tenant)?;
        Ok(Json(Clock { today, test }))
    })
    .await
}

/// Moves a test tenant's clock forward (admin or billing staff). 409
/// `clock_backwards` for a date before the clock's, 409 `not_a_test_tenant`
/// for a normal tenant.
#[utoipa::path(
    post,
    path = "/v1/clock",
    request_body = SetClock,
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body: the same response again; same key, other body: 409 idempotency_conflict.")),
    responses((status = 200, body = Clock)),
    tag = "billing"
)]
pub async fn set_clock(
    State(state): State<AppState>,
    caller: Allowed<can::Collect>,
    _: NoPreview,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<SetClock>,
) -> Result<Json<Clock>, ApiError> {
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let meta = RequestMeta {
            actor: format!("{}:{}", caller.role.name(), caller.label),
            issued_at: chrono::Utc::now(),
            idempotency_key: key,
            arithmetic: crate::billing::Arithmetic::Written,
        };
        let command = EngineCommand::Clock(ClockCommand::MoveClock { today: body.today });
        engine.execute(&caller.tenant, &command, &meta)?;
        let (today, test) = engine.clock(&caller.tenant)?;
        Ok(Json(Clock { today, test }))
    })
    .await
}
