//! The console's pages that read: home (worklists), search, an account
//! (its lists paged), its event history, an invoice, a policy, a charge
//! and the ledger. Each needs a session; each reads only the session's
//! tenant (another tenant's locators are "Not found").

use super::pages::{self, AccountPage, LedgerPage, Worklists};
use super::{Console, form_key, get_api, not_found, page, read, to_sign_in, view_of};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

pub(super) async fn home(State(console): State<Console>, headers: HeaderMap) -> Response {
    let Some(view) = view_of(&console, &headers).await else {
        return to_sign_in();
    };
    let (_, plugins) = get_api(&console, &view, "/v1/worklists/quarantined-plugins").await;
    let (_, endpoints) = get_api(&console, &view, "/v1/webhooks/endpoints").await;
    let extra = Worklists {
        quarantined_plugins: plugins["data"].as_array().cloned().unwrap_or_default(),
        webhook_endpoints: endpoints.as_array().cloned().unwrap_or_default(),
    };
    let shown = view.clone();
    match read(&console, &view, move |state, today| {
        pages::home(&shown, state, today, &extra)
    })
    .await
    {
        Ok(markup) => page(markup),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// Search: an exact locator (account, policy, invoice; as typed or in
/// capitals) opens it; anything else lists what starts with it.
pub(super) async fn search(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Response {
    let Some(view) = view_of(&console, &headers).await else {
        return to_sign_in();
    };
    let q: String = query
        .q
        .chars()
        .take(super::SEARCH_QUERY_CHARS_MAX)
        .collect();
    let shown = view.clone();
    let found = read(
        &console,
        &view,
        move |state, today| match pages::exact_match(state, &q) {
            Some(target) => Err(target),
            None => Ok(pages::search(&shown, state, &q, today)),
        },
    )
    .await;
    match found {
        Ok(Ok(markup)) => page(markup),
        Ok(Err(target)) => Redirect::to(&target).into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub(super) struct LedgerQuery {
    #[serde(default)]
    after: Option<u64>,
    #[serde(default)]
    reference: Option<String>,
}

pub(super) async fn ledger(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(query): Query<LedgerQuery>,
) -> Response {
    let Some(view) = view_of(&console, &headers).await else {
        return to_sign_in();
    };
    let shown = view.clone();
    let wanted = LedgerPage {
        after: query.after,
        reference: query.reference.filter(|r| !r.is_empty()),
    };
    match read(&console, &view, move |state, _| {
        pages::ledger(&shown, state, &wanted)
    })
    .await
    {
        Ok(markup) => page(markup),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub(super) struct AccountQuery {
    #[serde(default)]
    invoices_after: Option<String>,
    #[serde(default)]
    payments_after: Option<String>,
}

pub(super) async fn account(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(locator): Path<String>,
    Query(query): Query<AccountQuery>,
) -> Response {
    let Some(view) = view_of(&console, &headers).await else {
        return to_sign_in();
    };
    let shown = view.clone();
    let mut wanted = AccountPage {
        locator: locator.clone(),
        key: form_key(),
        invoices_after: query.invoices_after.filter(|c| !c.is_empty()),
        payments_after: query.payments_after.filter(|c| !c.is_empty()),
        ..AccountPage::default()
    };
    match read(&console, &view, move |state, today| {
        wanted.today = today;
        pages::account(&shown, state, &wanted)
    })
    .await
    {
        Ok(Some(markup)) => page(markup),
        Ok(None) => not_found(
            &view,
            &format!("No account {locator} (or no such page of it)."),
        ),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub(super) struct EventsQuery {
    #[serde(default)]
    after: u64,
}

/// An account's event history, a page at a time (the API's feed filtered
/// by account).
pub(super) async fn account_events(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(locator): Path<String>,
    Query(query): Query<EventsQuery>,
) -> Response {
    let Some(view) = view_of(&console, &headers).await else {
        return to_sign_in();
    };
    let wanted = locator.clone();
    match read(&console, &view, move |state, _| {
        state.collections.accounts.contains_key(&wanted)
    })
    .await
    {
        Ok(true) => {}
        Ok(false) => return not_found(&view, &format!("No account {locator}.")),
        Err(response) => return response,
    }
    let path = format!(
        "/v1/events?account={}&after={}&limit={}",
        encode(&locator),
        query.after,
        pages::ROWS_MAX
    );
    let (status, answer) = get_api(&console, &view, &path).await;
    if !status.is_success() {
        return super::after_action_to(&view, &pages::href::account(&locator), status, &answer);
    }
    page(pages::account_events(&view, &locator, &answer, query.after))
}

pub(super) async fn invoice(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(locator): Path<String>,
) -> Response {
    let Some(view) = view_of(&console, &headers).await else {
        return to_sign_in();
    };
    let shown = view.clone();
    let wanted = locator.clone();
    match read(&console, &view, move |state, today| {
        pages::invoice(&shown, state, &wanted, today)
    })
    .await
    {
        Ok(Some(markup)) => page(markup),
        Ok(None) => not_found(&view, &format!("No invoice {locator}.")),
        Err(response) => response,
    }
}

pub(super) async fn policy(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(locator): Path<String>,
) -> Response {
    let Some(view) = view_of(&console, &headers).await else {
        return to_sign_in();
    };
    let shown = view.clone();
    let wanted = locator.clone();
    match read(&console, &view, move |state, today| {
        pages::policy(&shown, state, &wanted, today)
    })
    .await
    {
        Ok(Some(markup)) => page(markup),
        Ok(None) => not_found(&view, &format!("No policy {locator}.")),
        Err(response) => response,
    }
}

/// A charge's explanation: its audit (the engine's, as
/// `GET /v1/policies/{p}/charges/{c}/audit` answers it).
pub(super) async fn charge(
    State(console): State<Console>,
    headers: HeaderMap,
    Path((policy, charge)): Path<(String, String)>,
) -> Response {
    let Some(view) = view_of(&console, &headers).await else {
        return to_sign_in();
    };
    let engine = Arc::clone(&console.app.engine);
    let tenant = view.caller.tenant.clone();
    let (p, c) = (policy.clone(), charge.clone());
    let audit = tokio::task::spawn_blocking(move || engine.explain_charge(&tenant, &p, &c))
        .await
        .ok()
        .and_then(Result::ok);
    let Some(audit) = audit else {
        return not_found(&view, &format!("No charge {charge} of policy {policy}."));
    };
    let shown = view.clone();
    match read(&console, &view, move |state, _| {
        pages::charge(&shown, state, &policy, &audit)
    })
    .await
    {
        Ok(markup) => page(markup),
        Err(response) => response,
    }
}
