//! Pending transactions over HTTP: the policy commands automatic binding
//! holds until a payment covers their first invoice (see
//! `crate::engine::auto_bind` and docs/auto-bind.md), with where each stands.

use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::{ApiQuery, blocking};
use crate::api::state::AppState;
use crate::engine::PendingTransaction;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

/// `?account=`: only that account's.
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PendingQuery {
    /// Only the transactions of this account.
    #[serde(default)]
    pub account: Option<String>,
}

/// Held transactions in the order they arrived.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct PendingList {
    pub data: Vec<PendingTransaction>,
}

/// Every transaction held by automatic binding, in the order they arrived,
/// with its status (`pending`, `bound` or `expired`), the amount a payment
/// (with the account's credit) must cover to bind it and the day it expires.
#[utoipa::path(
    get,
    path = "/v1/pending-transactions",
    params(PendingQuery),
    responses((status = 200, body = PendingList)),
    tag = "billing"
)]
pub async fn list_pending(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PendingQuery>,
) -> Result<Json<PendingList>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let data = engine.read(&caller.tenant, |s| s.pending.list(query.account.as_deref()))?;
        Ok(Json(PendingList { data }))
    })
    .await
}
