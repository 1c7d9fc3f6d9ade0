//! The read model of billing staff over HTTP: account search, an account's
//! whole picture and its payments, invoices listed and in detail, a
//! policy's timeline and the worklists. Every answer is read from the
//! caller's tenant only (`engine/read_model/`); lists page with
//! `?after=<cursor>&limit=` and answer `{data, next_cursor}`.

use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::{ApiQuery, blocking};
use crate::api::state::AppState;
use crate::collections::PaymentRecord;
use crate::engine::read_model::{
    self, AccountFilter, AccountOverview, AccountRow, CursorPage, InvoiceDetail, InvoiceQuery,
    InvoiceRow, InvoiceStatus, PageRequest, PolicyTimeline, ReadError,
    UPCOMING_INSTALLMENTS_DEFAULT, Worklist, WorklistRow,
};
use axum::Json;
use axum::extract::{Path, State};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::config::{PluginView, view};

/// `?after=<cursor>&limit=<n>`.
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The `next_cursor` of the page before.
    #[serde(default)]
    pub after: Option<String>,
    /// Rows per page: 100 unless given, at most 1000.
    #[serde(default)]
    pub limit: Option<usize>,
}

impl PageQuery {
    fn request(&self) -> PageRequest {
        PageRequest {
            after: self.after.clone(),
            limit: self.limit,
        }
    }
}

/// Runs `read` over the caller's tenant state and its today.
async fn read<T: Send + 'static>(
    state: &AppState,
    caller: Caller,
    read: impl FnOnce(&crate::engine::TenantState, NaiveDate) -> Result<T, ReadError> + Send + 'static,
) -> Result<Json<T>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let answer = engine.read(&caller.tenant, |s| read(s, s.today(chrono::Utc::now())))?;
        Ok(Json(answer?))
    })
    .await
}

/// `?q=&filter=&after=&limit=`.
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccountSearch {
    /// The start of a locator or a name, in any case.
    #[serde(default)]
    pub q: Option<String>,
    /// Filters, comma-separated, all applying: `delinquent`, `with_credit`,
    /// `on_hold`, `past_due`.
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Searches accounts by locator or name (prefix, any case), with filters
/// as of the tenant's today: `delinquent` (a delinquency in grace),
/// `with_credit`, `on_hold` (a hold in force), `past_due` (an open invoice
/// due before today).
#[utoipa::path(get, path = "/v1/accounts", params(AccountSearch), responses((status = 200, body = CursorPage<AccountRow>)), tag = "read model", operation_id = "search_accounts")]
pub async fn search_accounts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AccountSearch>,
) -> Result<Json<CursorPage<AccountRow>>, ApiError> {
    read(&state, caller, move |s, today| {
        let filters = AccountFilter::parse_list(query.filter.as_deref().unwrap_or(""))?;
        let request = PageRequest {
            after: query.after,
            limit: query.limit,
        };
        read_model::search_accounts(s, query.q.as_deref(), &filters, &request, today)
    })
    .await
}

/// `?upcoming=<n>`.
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// How many upcoming installment slices to show: 6 unless given, at
    /// most 120.
    #[serde(default)]
    pub upcoming: Option<usize>,
}

/// An account's whole picture on the tenant's today: balances with past-due
/// ageing (0-29, 30-59, 60-89, 90+ days), policies with their terms and
/// status, open invoices, upcoming installments, delinquencies, holds,
/// write-offs, disbursements and the settings in effect.
#[utoipa::path(get, path = "/v1/accounts/{account}/summary", params(SummaryQuery), responses((status = 200, body = AccountOverview)), tag = "read model", operation_id = "account_summary")]
pub async fn account_summary(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
    ApiQuery(query): ApiQuery<SummaryQuery>,
) -> Result<Json<AccountOverview>, ApiError> {
    read(&state, caller, move |s, today| {
        let upcoming = query.upcoming.unwrap_or(UPCOMING_INSTALLMENTS_DEFAULT);
        read_model::account_overview(s, &account, today, upcoming)
    })
    .await
}

/// An account's payments in the order received, each with its allocations.
#[utoipa::path(get, path = "/v1/accounts/{account}/payments", params(PageQuery), responses((status = 200, body = CursorPage<PaymentRecord>)), tag = "read model", operation_id = "account_payments")]
pub async fn account_payments(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<CursorPage<PaymentRecord>>, ApiError> {
    read(&state, caller, move |s, _| {
        read_model::payments(s, &account, &query.request())
    })
    .await
}

/// `?account=&status=&due_from=&due_to=&after=&limit=`.
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InvoiceList {
    /// One account's invoices (by number); without it, the tenant's (by
    /// status, then due date).
    #[serde(default)]
    pub account: Option<String>,
    /// `open`, `past_due`, `paid` or `written_off`, on the tenant's today.
    #[serde(default)]
    pub status: Option<String>,
    /// Due on or after.
    #[serde(default)]
    pub due_from: Option<NaiveDate>,
    /// Due on or before.
    #[serde(default)]
    pub due_to: Option<NaiveDate>,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Invoices, filtered by account, status and due dates.
#[utoipa::path(get, path = "/v1/invoices", params(InvoiceList), responses((status = 200, body = CursorPage<InvoiceRow>)), tag = "read model", operation_id = "list_invoices")]
pub async fn list_invoices(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<InvoiceList>,
) -> Result<Json<CursorPage<InvoiceRow>>, ApiError> {
    read(&state, caller, move |s, today| {
        let filters = InvoiceQuery {
            account: query.account,
            status: query
                .status
                .as_deref()
                .map(InvoiceStatus::parse)
                .transpose()?,
            due_from: query.due_from,
            due_to: query.due_to,
        };
        let request = PageRequest {
            after: query.after,
            limit: query.limit,
        };
        read_model::list_invoices(s, &filters, &request, today)
    })
    .await
}

/// An invoice with its items (the slices, charges and transactions they
/// bill), the payments applied to it, its write-offs and the invoices whose
/// items correct its items or that its items correct.
#[utoipa::path(get, path = "/v1/invoices/{invoice}", responses((status = 200, body = InvoiceDetail)), tag = "read model", operation_id = "get_invoice")]
pub async fn get_invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(invoice): Path<String>,
) -> Result<Json<InvoiceDetail>, ApiError> {
    read(&state, caller, move |s, today| {
        read_model::invoice_detail(s, &invoice, today)
    })
    .await
}

/// A policy's timeline: terms and standing, transactions in effect order,
/// priced segments, charges.
#[utoipa::path(get, path = "/v1/policies/{policy}/timeline", responses((status = 200, body = PolicyTimeline)), tag = "read model", operation_id = "policy_timeline")]
pub async fn policy_timeline(
    State(state): State<AppState>,
    caller: Caller,
    Path(policy): Path<String>,
) -> Result<Json<PolicyTimeline>, ApiError> {
    read(&state, caller, move |s, today| {
        read_model::policy_timeline(s, &policy, today)
    })
    .await
}

/// `?after=&limit=&days=`.
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WorklistQuery {
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
    /// For `invoices-coming-due`: days ahead of today (14 unless given, at
    /// most 366).
    #[serde(default)]
    pub days: Option<u32>,
}

/// A row of a worklist: of the billing state, or a quarantined plugin.
#[derive(utoipa::ToSchema, Debug, Serialize)]
#[serde(untagged)]
pub enum WorklistItem {
    Billing(WorklistRow),
    Plugin(PluginView),
}

/// A worklist: `delinquent-accounts`, `disbursements-awaiting-approval`,
/// `active-holds` (in force today), `invoices-coming-due` (open, due from
/// today to `days` later) or `quarantined-plugins`.
#[utoipa::path(get, path = "/v1/worklists/{worklist}", params(WorklistQuery), responses((status = 200, body = CursorPage<WorklistItem>)), tag = "read model", operation_id = "worklist")]
pub async fn worklist(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<WorklistQuery>,
) -> Result<Json<CursorPage<WorklistItem>>, ApiError> {
    let request = PageRequest {
        after: query.after,
        limit: query.limit,
    };
    if name == "quarantined-plugins" {
        caller.require(Access::Read)?;
        return Ok(Json(quarantined_plugins(&state, &caller, &request)?));
    }
    let page = read(&state, caller, move |s, today| {
        read_model::worklist(s, Worklist::parse(&name, query.days)?, &request, today)
    })
    .await?;
    let page = page.0;
    Ok(Json(CursorPage {
        data: page.data.into_iter().map(WorklistItem::Billing).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The tenant's plugin versions in quarantine, by id.
fn quarantined_plugins(
    state: &AppState,
    caller: &Caller,
    request: &PageRequest,
) -> Result<CursorPage<WorklistItem>, ApiError> {
    let after = request
        .after
        .as_deref()
        .map(read_model::decode_cursor)
        .transpose()
        .map_err(ApiError::from)?;
    let prefix = format!("{}/", caller.tenant);
    let limit = request.limit();
    let mut plugins: Vec<PluginView> = state
        .raters
        .plugins
        .list()
        .into_iter()
        .filter(|p| p.id.starts_with(&prefix))
        .map(|p| view(state, &caller.tenant, p))
        .filter(|v| v.quarantined_ms_left.is_some())
        .filter(|v| after.as_ref().is_none_or(|after| v.info.id > *after))
        .collect();
    plugins.sort_by(|a, b| a.info.id.cmp(&b.info.id));
    plugins.truncate(limit + 1);
    let page = read_model::page(plugins, limit, |v| v.info.id.clone());
    Ok(CursorPage {
        data: page.data.into_iter().map(WorklistItem::Plugin).collect(),
        next_cursor: page.next_cursor,
    })
}
