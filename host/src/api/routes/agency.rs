//! Agency bill over HTTP (DOMAIN section 10, seed 002, [E11]; issue 21 item
//! 5): a producer's agency configuration (its statement day, configuration
//! as history, `can::Configure`), its agency statements with their items,
//! remittances (billing staff, `can::Collect`), the exceptions list (items
//! short-paid) and the billing options a product and producer allow at
//! quote time. The rules are in [`crate::engine`]'s `agency` module.

use super::command::{Effect, run};
use super::config::ok_not_created;
use crate::api::auth::{Access, Allowed, Caller, can};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, ApiQuery, IdempotencyKey, Preview, blocking};
use crate::api::state::AppState;
use crate::domain::{Currency, Money};
use crate::engine::{
    AccountingCommand, AgencyConfig, AgencyException, AgencyStatement, AllocationRequest,
    BillingOptions, EngineCommand,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

/// `{"statement_day": 20}`: statements are cut monthly on that day (the
/// month's last day when shorter).
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencySettings {
    pub statement_day: u32,
}

/// Configures a producer for agency bill: a new version from the tenant's
/// today, recorded with its actor and time (`agency_configured`). Items
/// posted from then on follow it; earlier statements keep their days.
#[utoipa::path(put, path = "/v1/producers/{producer}/agency", request_body = AgencySettings, responses((status = 200, description = "Recorded; or a preview (`?preview=true`)", body = Effect)), tag = "agency")]
pub async fn put_agency(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path(producer): Path<String>,
    ApiJson(body): ApiJson<AgencySettings>,
) -> Result<Response, ApiError> {
    let command = AccountingCommand::ConfigureAgency {
        producer,
        statement_day: body.statement_day,
    };
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

/// Every version of a producer's agency configuration, oldest first.
#[utoipa::path(get, path = "/v1/producers/{producer}/agency", responses((status = 200, body = Vec<AgencyConfig>)), tag = "agency")]
pub async fn get_agency(
    State(state): State<AppState>,
    caller: Caller,
    Path(producer): Path<String>,
) -> Result<Json<Vec<AgencyConfig>>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        engine
            .read(&caller.tenant, |s| {
                s.accounting.producers.agencies.get(&producer).cloned()
            })?
            .map(Json)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "producer {producer} is not configured for agency bill"
                ))
            })
    })
    .await
}

/// A producer's agency statements, oldest first, with their totals per
/// currency (gross, commission, net, paid, open); `issued` once their day
/// has come, `upcoming` before.
#[utoipa::path(get, path = "/v1/producers/{producer}/agency-statements", responses((status = 200, body = Vec<AgencyStatement>)), tag = "agency")]
pub async fn list_agency_statements(
    State(state): State<AppState>,
    caller: Caller,
    Path(producer): Path<String>,
) -> Result<Json<Vec<AgencyStatement>>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        Ok(Json(engine.read(&caller.tenant, |s| {
            s.agency_statements(&producer, s.today(chrono::Utc::now()))
        })??))
    })
    .await
}

/// One agency statement (by its day, `YYYY-MM-DD`): its items (gross,
/// commission, net, paid, open each) and the remittances received for it.
#[utoipa::path(get, path = "/v1/producers/{producer}/agency-statements/{date}", responses((status = 200, body = AgencyStatement)), tag = "agency")]
pub async fn get_agency_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path((producer, date)): Path<(String, NaiveDate)>,
) -> Result<Json<AgencyStatement>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        Ok(Json(engine.read(&caller.tenant, |s| {
            s.agency_statement(&producer, date, s.today(chrono::Utc::now()))
        })??))
    })
    .await
}

/// An agency's remittance: `{"statement": "2025-12-20", "amount":
/// "1080.00", "currency": "USD"}`, optionally `allocations` item by item
/// (`[{"item": "P1-T1", "amount": "1000.00"}]`, summing to the amount;
/// oldest first when absent), `received_on` (today when absent) and a
/// `reference`. Negative for a statement that owes the agency.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRemittance {
    pub statement: NaiveDate,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: Currency,
    #[serde(default)]
    pub received_on: Option<NaiveDate>,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub allocations: Option<Vec<AllocationRequest>>,
}

/// Records an agency's remittance for an issued statement, allocated item
/// by item: Dr cash, Dr commission payable/producer (the commission of the
/// items it pays in full), Cr agency receivable/producer. Refused, nothing
/// changed: more than the statement still owes
/// (`remittance_over_statement`), a currency it has no item in
/// (`remittance_currency_mismatch`), an allocation that does not fit
/// (`remittance_allocation_invalid`), a statement not issued yet.
#[utoipa::path(post, path = "/v1/producers/{producer}/remittances", request_body = NewRemittance, responses((status = 201, description = "Received: the `remittance_received` event and its entry", body = Effect)), tag = "agency")]
pub async fn post_remittance(
    State(state): State<AppState>,
    caller: Allowed<can::Collect>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path(producer): Path<String>,
    ApiJson(body): ApiJson<NewRemittance>,
) -> Result<(StatusCode, Json<Effect>), ApiError> {
    let command = AccountingCommand::ReceiveRemittance {
        producer,
        statement: body.statement,
        amount: Money {
            amount: body.amount,
            currency: body.currency,
        },
        received_on: body.received_on,
        reference: body.reference,
        allocations: body.allocations,
    };
    run(
        &state,
        &caller,
        EngineCommand::Accounting(command),
        preview.0,
        key,
    )
    .await
}

/// Items still open on issued statements an agency remitted for
/// (short-paid, or left unpaid), every producer's.
#[utoipa::path(get, path = "/v1/agency-exceptions", responses((status = 200, body = Vec<AgencyException>)), tag = "agency")]
pub async fn list_agency_exceptions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AgencyException>>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        Ok(Json(engine.read(&caller.tenant, |s| {
            s.agency_exceptions(s.today(chrono::Utc::now()))
        })?))
    })
    .await
}

/// `?producer=agency-7`.
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProducerQuery {
    #[serde(default)]
    pub producer: Option<String>,
}

/// The billing methods a product allows for a producer at quote time (seed
/// 002): `direct` unless the product leaves it out; `agency` when the
/// product allows it and the producer is configured for agency bill.
#[utoipa::path(get, path = "/v1/products/{product}/billing-options", params(ProducerQuery), responses((status = 200, body = BillingOptions)), tag = "agency")]
pub async fn billing_options(
    State(state): State<AppState>,
    caller: Caller,
    Path(product): Path<String>,
    ApiQuery(query): ApiQuery<ProducerQuery>,
) -> Result<Json<BillingOptions>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        Ok(Json(engine.read(&caller.tenant, |s| {
            s.billing_options(
                &product,
                query.producer.as_deref(),
                s.today(chrono::Utc::now()),
            )
        })??))
    })
    .await
}
