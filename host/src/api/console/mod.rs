//! The billing staff console (DOMAIN section 12), served by `premia serve`
//! at `/console`: HTML rendered on the server ([`pages`], maud templates
//! compiled into the binary), CSS embedded, no JavaScript and nothing from
//! a CDN. Signing in with an API key opens a session ([`session`]); every
//! form carries the session's CSRF token; the key's role applies (a
//! read-only key sees no action, and the API refuses one anyway).
//!
//! Every action goes through the API itself: the console sends the same
//! request a client would (`POST /v1/payments`, ...) to the API router with
//! the session's key and an idempotency key made when the form was shown,
//! so a double submit does nothing twice and an error is the API's
//! problem, shown as a readable message.
//!
//! Files: [`screens`] (the pages read: home, search, account, invoice,
//! policy, charge, ledger, event history), [`actions`] (an account's
//! billing actions), [`transactions`] (policy transactions, previewed then
//! committed), [`pages`] (the templates), [`session`].
//!
//! Headers on every page: a Content-Security-Policy allowing nothing but
//! the console's own stylesheet and forms, `X-Frame-Options: DENY`,
//! `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`.

mod actions;
pub mod pages;
mod screens;
pub mod session;
mod transactions;

use super::auth::Caller;
use super::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;
use session::Sessions;
use std::sync::Arc;
use tower::ServiceExt;

/// The console's stylesheet.
pub const STYLESHEET: &str = include_str!("console.css");
/// The longest search query the console reads, characters (longer ones
/// are cut).
pub const SEARCH_QUERY_CHARS_MAX: usize = 100;
/// The Content-Security-Policy of every console answer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What the console's handlers share: the application, the API router its
/// actions go through, and the sessions.
#[derive(Clone)]
pub struct Console {
    app: AppState,
    api: Router,
    sessions: Arc<Sessions>,
}

/// Who is looking at a page: the caller of the session's key and the
/// session's CSRF token (for the forms).
#[derive(Debug, Clone)]
pub struct View {
    pub caller: Caller,
    pub csrf: String,
    secret: String,
    token: String,
}

/// The console's routes over `app`, its actions sent to `api`.
pub fn router(app: AppState, api: Router) -> Router {
    let console = Console {
        app,
        api,
        sessions: Arc::default(),
    };
    Router::new()
        .route("/console", get(screens::home))
        .route("/console/", get(|| async { Redirect::to("/console") }))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route("/console/search", get(screens::search))
        .route("/console/ledger", get(screens::ledger))
        .route("/console/accounts/{account}", get(screens::account))
        .route(
            "/console/accounts/{account}/events",
            get(screens::account_events),
        )
        .route("/console/invoices/{invoice}", get(screens::invoice))
        .route(
            "/console/accounts/{account}/payments",
            post(actions::record_payment),
        )
        .route(
            "/console/accounts/{account}/disbursements/{disbursement}/approve",
            post(actions::approve_disbursement),
        )
        .route(
            "/console/accounts/{account}/disbursements/{disbursement}/reject",
            post(actions::reject_disbursement),
        )
        .route(
            "/console/accounts/{account}/payments/{payment}/return",
            post(actions::return_payment),
        )
        .route(
            "/console/accounts/{account}/invoices/{invoice}/write-off",
            post(actions::write_off),
        )
        .route(
            "/console/accounts/{account}/credit",
            post(actions::apply_credit),
        )
        .route(
            "/console/accounts/{account}/holds",
            post(actions::place_hold),
        )
        .route(
            "/console/accounts/{account}/holds/{hold}/release",
            post(actions::release_hold),
        )
        .route("/console/policies/{policy}", get(screens::policy))
        .route(
            "/console/policies/{policy}/charges/{charge}",
            get(screens::charge),
        )
        .route(
            "/console/policies/{policy}/{action}",
            post(transactions::transaction),
        )
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(console)
}

async fn security_headers(request: Request<Body>, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
}

/// The session of a request, its key checked again (a revoked key ends it).
async fn view_of(console: &Console, headers: &HeaderMap) -> Option<View> {
    let token = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(session::token_in)?
        .to_string();
    let found = console.sessions.get(&token, Utc::now())?;
    let keys = Arc::clone(&console.app.keys);
    let secret = found.secret.clone();
    let key = tokio::task::spawn_blocking(move || keys.authenticate(&secret))
        .await
        .ok()??;
    Some(View {
        caller: Caller {
            tenant: key.tenant,
            key: key.key,
            role: key.role,
            label: key.label,
            fresh: key.fresh,
        },
        csrf: found.csrf,
        secret: found.secret,
        token,
    })
}

pub(crate) fn to_sign_in() -> Response {
    Redirect::to("/console/sign-in").into_response()
}

fn page(markup: maud::Markup) -> Response {
    Html(markup.into_string()).into_response()
}

fn not_found(view: &View, what: &str) -> Response {
    let body = pages::layout(
        "Not found",
        Some(view),
        maud::html! { h1 { "Not found" } p.problem role="alert" { (what) } },
    );
    (StatusCode::NOT_FOUND, Html(body.into_string())).into_response()
}

/// Reads the tenant's state for a page.
async fn read<R: Send + 'static>(
    console: &Console,
    view: &View,
    read: impl FnOnce(&crate::engine::TenantState, chrono::NaiveDate) -> R + Send + 'static,
) -> Result<R, Response> {
    let engine = Arc::clone(&console.app.engine);
    let tenant = view.caller.tenant.clone();
    tokio::task::spawn_blocking(move || {
        engine.read(&tenant, |state| {
            let today = state.today(Utc::now());
            read(state, today)
        })
    })
    .await
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())?
    .map_err(|_| StatusCode::SERVICE_UNAVAILABLE.into_response())
}

async fn sign_in_page() -> Response {
    page(pages::sign_in(None))
}

#[derive(Deserialize)]
struct SignIn {
    key: String,
}

async fn sign_in(State(console): State<Console>, Form(form): Form<SignIn>) -> Response {
    let keys = Arc::clone(&console.app.keys);
    let secret = form.key.trim().to_string();
    let probe = secret.clone();
    let found = tokio::task::spawn_blocking(move || keys.authenticate(&probe))
        .await
        .ok()
        .flatten();
    if found.is_none() {
        let body = pages::sign_in(Some("That key is not valid (unknown, revoked or expired)."));
        return (StatusCode::UNAUTHORIZED, Html(body.into_string())).into_response();
    }
    let token = console.sessions.open(secret, Utc::now());
    let mut response = Redirect::to("/console").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&session::cookie(&token)).expect("a cookie is ASCII"),
    );
    response
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn sign_out(
    State(console): State<Console>,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(view) = view_of(&console, &headers).await
        && view.csrf == form.csrf
    {
        console.sessions.close(&view.token);
    }
    let mut response = Redirect::to("/console/sign-in").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&session::expired_cookie()).expect("a cookie is ASCII"),
    );
    response
}

/// A fresh idempotency key for the forms of a page.
fn form_key() -> String {
    let bytes: [u8; 16] = rand::random();
    format!("console-{}", hex::encode(bytes))
}

/// Sends `body` to the API as the session's key: the API's status and
/// answer.
async fn call_api(
    console: &Console,
    view: &View,
    path: &str,
    idempotency_key: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    send_api(console, view, "POST", path, idempotency_key, Some(body)).await
}

/// Reads `path` of the API as the session's key: its status and answer.
async fn get_api(console: &Console, view: &View, path: &str) -> (StatusCode, serde_json::Value) {
    send_api(console, view, "GET", path, "", None).await
}

async fn send_api(
    console: &Console,
    view: &View,
    method: &str,
    path: &str,
    idempotency_key: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", view.secret));
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    if !idempotency_key.is_empty() {
        request = request.header("idempotency-key", idempotency_key);
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let request = request.body(body).expect("a request");
    let Ok(response) = console.api.clone().oneshot(request).await;
    let status = response.status();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// The page after an action: back to the account, or the API's problem as
/// a readable error.
fn after_action(
    view: &View,
    account: &str,
    status: StatusCode,
    answer: &serde_json::Value,
) -> Response {
    after_action_to(
        view,
        &format!("/console/accounts/{account}"),
        status,
        answer,
    )
}

/// The page after an action: back to `back`, or the API's problem as a
/// readable error.
fn after_action_to(
    view: &View,
    back: &str,
    status: StatusCode,
    answer: &serde_json::Value,
) -> Response {
    if status.is_success() {
        return Redirect::to(back).into_response();
    }
    let body = pages::layout(
        "Refused",
        Some(view),
        maud::html! {
            h1 { "Not done" }
            (pages::problem(answer))
            p { a href=(back) { "Back" } }
        },
    );
    (status, Html(body.into_string())).into_response()
}

fn csrf_refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        "the form is stale or forged (CSRF): reload the page",
    )
        .into_response()
}

/// Who acts and the tenant's today, for a form posted with `csrf`: the
/// sign-in page without a session, 403 for a stale or forged form.
async fn acting(
    console: &Console,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<(View, chrono::NaiveDate), Response> {
    let Some(view) = view_of(console, headers).await else {
        return Err(to_sign_in());
    };
    if view.csrf != csrf {
        return Err(csrf_refused());
    }
    let today = read(console, &view, |_, today| today).await?;
    Ok((view, today))
}
