//! Reading the ledger (entries with a cursor, balances, trial balance) and
//! the ordered event feed, with its filters (kind, category, stream,
//! account, policy, since, until).

use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::{ApiQuery, blocking};
use crate::api::state::AppState;
use crate::engine::{FeedFilter, TenantEvent};
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

/// `?after=&limit=` and the feed's filters (all optional; together they
/// all apply).
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    #[serde(default)]
    pub after: u64,
    #[serde(default)]
    pub limit: Option<usize>,
    /// Kinds, comma-separated (`api_key_created,api_key_revoked`).
    #[serde(default)]
    pub kind: Option<String>,
    /// `configuration`, `policy`, `billing`, `ledger` or `clock`.
    #[serde(default)]
    pub category: Option<String>,
    /// A stream (`policy/P-1`), or streams by prefix ending in `*` (`api-key/*`).
    #[serde(default)]
    pub stream: Option<String>,
    /// Everything that touched this billing account (its stream, its
    /// policies' streams, journal entries of its subledger).
    #[serde(default)]
    pub account: Option<String>,
    /// Everything that touched this policy (its stream and the journal
    /// entries of its transactions and charges).
    #[serde(default)]
    pub policy: Option<String>,
    /// Issued at or after: RFC 3339 (`2026-11-01T00:00:00Z`) or a date
    /// (midnight UTC).
    #[serde(default)]
    pub since: Option<String>,
    /// Issued before: RFC 3339 or a date (midnight UTC).
    #[serde(default)]
    pub until: Option<String>,
}

/// The categories of [`crate::engine::TenantEvent::category`].
const CATEGORIES: [&str; 6] = [
    "configuration",
    "policy",
    "billing",
    "ledger",
    "clock",
    "rating",
];

/// An instant of `since`/`until`: RFC 3339, or a date at midnight UTC.
fn instant(name: &str, value: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    value
        .parse::<chrono::NaiveDate>()
        .map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| {
            ApiError::bad_request(
                "bad_query",
                format!("{name}={value}: use an RFC 3339 time or a date (2026-11-01)"),
            )
        })
}

impl EventsQuery {
    fn filter(&self) -> Result<FeedFilter, ApiError> {
        if let Some(category) = &self.category
            && !CATEGORIES.contains(&category.as_str())
        {
            return Err(ApiError::bad_request(
                "bad_query",
                format!("category={category}: use one of {}", CATEGORIES.join(", ")),
            ));
        }
        let nonempty = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
        Ok(FeedFilter {
            kinds: self
                .kind
                .iter()
                .flat_map(|kinds| kinds.split(','))
                .map(str::trim)
                .filter(|kind| !kind.is_empty())
                .map(str::to_string)
                .collect(),
            category: nonempty(&self.category),
            stream: nonempty(&self.stream),
            account: nonempty(&self.account),
            policy: nonempty(&self.policy),
            since: self
                .since
                .as_deref()
                .map(|v| instant("since", v))
                .transpose()?,
            until: self
                .until
                .as_deref()
                .map(|v| instant("until", v))
                .transpose()?,
        })
    }
}

/// The ordered, durable feed of the tenant's events, from a cursor, with
/// optional filters. A filtered page reads at most 10,000 events of the
/// log, so it may hold fewer than `limit` events with a `next_cursor`: read
/// on until `next_cursor` is absent.
#[utoipa::path(get, path = "/v1/events", params(EventsQuery), responses((status = 200, body = Page<FeedEvent>)), tag = "ledger")]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<Page<FeedEvent>>, ApiError> {
    caller.require(Access::Read)?;
    let filter = query.filter()?;
    let limit = query
        .limit
        .unwrap_or(PAGE_LIMIT_DEFAULT)
        .clamp(1, PAGE_LIMIT_MAX);
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let page = engine.feed(&caller.tenant, &filter, query.after, limit)?;
        let data = page
            .events
            .into_iter()
            .map(|e| FeedEvent {
                sequence: e.stored.sequence,
                kind: e.stored.kind,
                stream: e.stored.stream,
                actor: e.stored.actor,
                issued_at: e.stored.issued_at,
                idempotency_key: e.stored.idempotency_key,
                event: e.event,
            })
            .collect();
        Ok(Json(Page {
            data,
            next_cursor: page.next_cursor,
        }))
    })
    .await
}
