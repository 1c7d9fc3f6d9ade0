//! Commissions payable per producer over HTTP (DOMAIN section 10, issue 21
//! item 4): the producers with their balances and a producer's statement
//! of an accounting month. Both are reads (`Access::Read`); the figures
//! come from [`crate::engine`]'s producer subledger.

use super::accounting::month;
use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::blocking;
use crate::api::state::AppState;
use crate::engine::{ProducerBalance, ProducerStatement};
use axum::Json;
use axum::extract::{Path, State};

/// Every producer ever owed commission, with what was written, charged
/// back and paid and the commission payable, per currency.
#[utoipa::path(get, path = "/v1/producers", responses((status = 200, body = Vec<ProducerBalance>)), tag = "accounting")]
pub async fn list_producers(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ProducerBalance>>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || Ok(Json(engine.read(&caller.tenant, |s| s.producers())?))).await
}

/// A producer's statement of an accounting month (`YYYY-MM`): per currency
/// the payable at the month's start, commission written, charged back
/// (negative) and paid in it, the payable at its end; and the month's
/// commissions beside the premium (and technical premium) they were taken
/// on. A producer never owed commission is a 404 `unknown_producer`.
#[utoipa::path(get, path = "/v1/producers/{producer}/statements/{period}", responses((status = 200, body = ProducerStatement)), tag = "accounting")]
pub async fn producer_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path((producer, period)): Path<(String, String)>,
) -> Result<Json<ProducerStatement>, ApiError> {
    caller.require(Access::Read)?;
    let period = month(&period)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        Ok(Json(engine.read(&caller.tenant, |s| {
            s.producer_statement(&producer, period)
        })??))
    })
    .await
}
