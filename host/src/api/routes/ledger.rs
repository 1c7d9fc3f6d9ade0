//! Reading the ledger (entries with a cursor, balances, trial balance) and
//! the ordered event feed.

use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::{ApiQuery, blocking};
use crate::api::state::AppState;
use crate::engine::TenantEvent;
use crate::ledger::{AccountKey, JournalEntry, TrialBalance};
use axum::Json;
use axum::extract::State;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The longest page a list returns.
pub const PAGE_LIMIT_MAX: usize = 1_000;
const PAGE_LIMIT_DEFAULT: usize = 100;

/// `?after=<cursor>&limit=<n>`.
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    #[serde(default)]
    pub after: u64,
    #[serde(default)]
    pub limit: Option<usize>,
}

impl Cursor {
    fn limit(&self) -> usize {
        self.limit
            .unwrap_or(PAGE_LIMIT_DEFAULT)
            .clamp(1, PAGE_LIMIT_MAX)
    }
}

/// A page of a list and the cursor of the next page (absent at the end).
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<u64>,
}

#[utoipa::path(get, path = "/v1/ledger/entries", params(Cursor), responses((status = 200, body = Page<JournalEntry>)), tag = "ledger")]
pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Json<Page<JournalEntry>>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let limit = cursor.limit();
        let page = engine.read(&caller.tenant, |s| {
            let data: Vec<JournalEntry> = s
                .ledger
                .entries()
                .iter()
                .filter(|e| e.id.0 > cursor.after)
                .take(limit + 1)
                .cloned()
                .collect();
            data
        })?;
        Ok(Json(paged(page, limit, |e| e.id.0)))
    })
    .await
}

fn paged<T>(mut data: Vec<T>, limit: usize, cursor_of: impl Fn(&T) -> u64) -> Page<T> {
    let more = data.len() > limit;
    data.truncate(limit);
    let next_cursor = if more {
        data.last().map(cursor_of)
    } else {
        None
    };
    Page { data, next_cursor }
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct Balance {
    pub account: AccountKey,
    pub balance: Decimal,
}

#[utoipa::path(get, path = "/v1/ledger/balances", responses((status = 200, body = Vec<Balance>)), tag = "ledger")]
pub async fn balances(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Balance>>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let balances = engine.read(&caller.tenant, |s| {
            s.ledger
                .balances()
                .map(|(k, v)| Balance {
                    account: k.clone(),
                    balance: v,
                })
                .collect::<Vec<_>>()
        })?;
        Ok(Json(balances))
    })
    .await
}

#[utoipa::path(get, path = "/v1/ledger/trial-balance", responses((status = 200, body = Vec<TrialBalance>)), tag = "ledger")]
pub async fn trial_balance(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TrialBalance>>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let trial = engine.read(&caller.tenant, |s| {
            let currencies: Vec<_> = s.ledger.currencies().collect();
            currencies
                .into_iter()
                .map(|c| s.ledger.trial_balance(c))
                .collect::<Vec<_>>()
        })?;
        Ok(Json(trial))
    })
    .await
}

/// An event of the feed, with its place in the tenant's log.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct FeedEvent {
    pub sequence: u64,
    pub kind: String,
    pub stream: String,
    pub actor: String,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub idempotency_key: Option<String>,
    pub event: TenantEvent,
}

/// The ordered, durable feed of every event of the tenant, from a cursor.
#[utoipa::path(get, path = "/v1/events", params(Cursor), responses((status = 200, body = Page<FeedEvent>)), tag = "ledger")]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Json<Page<FeedEvent>>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || {
        let limit = cursor.limit();
        let stored = state
            .store
            .read(&caller.tenant, cursor.after, limit + 1)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let data = stored
            .into_iter()
            .map(|e| {
                let event: TenantEvent = serde_json::from_value(e.payload)
                    .map_err(|err| ApiError::internal(err.to_string()))?;
                Ok(FeedEvent {
                    sequence: e.sequence,
                    kind: e.kind,
                    stream: e.stream,
                    actor: e.actor,
                    issued_at: e.issued_at,
                    idempotency_key: e.idempotency_key,
                    event,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(Json(paged(data, limit, |e| e.sequence)))
    })
    .await
}
