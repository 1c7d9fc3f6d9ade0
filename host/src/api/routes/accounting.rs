//! Insurance accounting over HTTP (DOMAIN section 10): earnings runs, the
//! written/earned/unearned premium report, accounting periods (listing,
//! closing, their trial balances) and the GL mapping. The general-ledger
//! export itself is `GET /v1/exports/gl-journal.csv?period=YYYY-MM` (and
//! `.parquet`), in [`super::exports`].
//!
//! Earnings runs and closes are billing staff's (`can::Collect`); the GL
//! mapping is configuration (`can::Configure`). Each command takes
//! `?preview=true` and `Idempotency-Key` like every other.

use super::command::{Effect, run};
use super::config::ok_not_created;
use crate::api::auth::{Access, Allowed, Caller, can};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, ApiQuery, IdempotencyKey, Preview, blocking};
use crate::api::state::AppState;
use crate::engine::{
    AccountingCommand, AccountingError, EngineCommand, GlMappingVersion, Month, PeriodDetail,
    PeriodView, PremiumReport,
};
use crate::ledger::GlMapping;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

type Answer = Result<(StatusCode, Json<Effect>), ApiError>;

/// `{"as_of": "2026-01-31"}`.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarningsBody {
    /// Earn through the end of this day (not after the tenant's today).
    pub as_of: NaiveDate,
}

/// Posts premium earned through the end of `as_of`: per premium charge, the
/// earned-to-date minus what was posted before (so running it again posts
/// nothing), one `premium_earned` entry per policy and currency.
#[utoipa::path(post, path = "/v1/accounting/earnings", request_body = EarningsBody, responses((status = 201, description = "Committed: the run's event and its entries", body = Effect)), tag = "accounting")]
pub async fn run_earnings(
    State(state): State<AppState>,
    caller: Allowed<can::Collect>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<EarningsBody>,
) -> Answer {
    let command = AccountingCommand::RunEarnings { as_of: body.as_of };
    run(
        &state,
        &caller,
        EngineCommand::Accounting(command),
        preview.0,
        key,
    )
    .await
}

/// `?as_of=YYYY-MM-DD` (default: the tenant's today).
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AsOf {
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
}

/// Written, earned and unearned premium as of the end of a day, by policy,
/// product and currency (and totals by product and by currency).
#[utoipa::path(get, path = "/v1/accounting/premium", params(AsOf), responses((status = 200, body = PremiumReport)), tag = "accounting")]
pub async fn premium_report(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AsOf>,
) -> Result<Json<PremiumReport>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let report = engine.read(&caller.tenant, |s| {
            let as_of = query.as_of.unwrap_or_else(|| s.today(chrono::Utc::now()));
            s.premium_report(as_of)
        })??;
        Ok(Json(report))
    })
    .await
}

/// Every month from the book's first to the tenant's today, open or closed.
#[utoipa::path(get, path = "/v1/accounting/periods", responses((status = 200, body = Vec<PeriodView>)), tag = "accounting")]
pub async fn list_periods(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<PeriodView>>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let periods = engine.read(&caller.tenant, |s| s.periods(s.today(chrono::Utc::now())))?;
        Ok(Json(periods))
    })
    .await
}

pub(super) fn month(text: &str) -> Result<Month, ApiError> {
    text.parse::<Month>()
        .map_err(|e: AccountingError| crate::engine::EngineError::from(e).into())
}

/// A month's state and trial balances per currency: what its entries
/// posted (`activity`) and the balances at its end (`closing`). A closed
/// month answers the same figures forever.
#[utoipa::path(get, path = "/v1/accounting/periods/{period}", responses((status = 200, body = PeriodDetail)), tag = "accounting")]
pub async fn get_period(
    State(state): State<AppState>,
    caller: Caller,
    Path(period): Path<String>,
) -> Result<Json<PeriodDetail>, ApiError> {
    caller.require(Access::Read)?;
    let period = month(&period)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        Ok(Json(
            engine.read(&caller.tenant, |s| s.period_detail(period))?,
        ))
    })
    .await
}

/// Closes a month: runs earnings to its last day, then closes it. Months
/// close in order, once over; nothing is dated into a closed month again.
#[utoipa::path(post, path = "/v1/accounting/periods/{period}/close", responses((status = 201, description = "Committed: the earnings run, its entries and the close", body = Effect)), tag = "accounting")]
pub async fn close_period(
    State(state): State<AppState>,
    caller: Allowed<can::Collect>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path(period): Path<String>,
) -> Answer {
    let period = month(&period)?;
    let command = AccountingCommand::ClosePeriod { period };
    run(
        &state,
        &caller,
        EngineCommand::Accounting(command),
        preview.0,
        key,
    )
    .await
}

/// Uploads a new version of the GL mapping (CSV: `account,product,currency,
/// gl_account`; product and currency may be empty for "any").
#[utoipa::path(put, path = "/v1/accounting/gl-mapping", request_body(content = String, content_type = "text/csv"), responses((status = 200, description = "Recorded (the new version's event); or a preview (`?preview=true`)", body = Effect)), tag = "accounting")]
pub async fn put_gl_mapping(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    body: Bytes,
) -> Result<Response, ApiError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::unprocessable("gl_mapping_not_csv", "the mapping is not UTF-8"))?;
    let mapping = GlMapping::from_csv(text)
        .map_err(|e| crate::engine::EngineError::from(AccountingError::from(e)))?;
    let command = AccountingCommand::UploadGlMapping { mapping };
    let answer = run(
        &state,
        &caller,
        EngineCommand::Accounting(command),
        preview.0,
        key,
    )
    .await?;
    Ok(ok_not_created(answer.into_response()))
}

/// The current GL mapping: its version, rows, who uploaded it and when.
#[utoipa::path(get, path = "/v1/accounting/gl-mapping", responses((status = 200, body = GlMappingVersion)), tag = "accounting")]
pub async fn get_gl_mapping(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<GlMappingVersion>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        engine
            .read(&caller.tenant, |s| s.accounting.gl_mapping().cloned())?
            .map(Json)
            .ok_or_else(|| ApiError::not_found("no GL mapping has been uploaded"))
    })
    .await
}
