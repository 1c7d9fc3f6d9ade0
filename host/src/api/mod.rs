//! The HTTP API (`/v1/...`): JSON resources for policy systems, insurers,
//! billing staff and finance teams. Errors are `application/problem+json`
//! with stable codes; every POST honours `Idempotency-Key`; every mutating
//! endpoint takes `?preview=true`; lists page with `?after=&limit=`.
//!
//! Handlers call the blocking [`crate::engine::Engine`] on the blocking
//! thread pool; every command is durable before its response is sent.

pub mod auth;
pub mod console;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod problems;
pub mod routes;
mod schemas;
pub mod server;
pub mod state;
mod unique_keys;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use routes::{
    accounting, activation, agency, billing, bundle, clock, config, config_reads, exports, keys,
    ledger, payments, pending, policies, producers, raters, read_model, shadow, webhooks,
};
pub use state::{AppState, RaterDirectory};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Largest JSON body accepted.
pub const JSON_BODY_BYTES_MAX: usize = 1024 * 1024;

/// The API router over `state`.
pub fn router(state: AppState) -> Router {
    let api = api_router(state.clone());
    // The console's actions go through the API router itself.
    api.clone()
        .merge(console::router(state, api))
        // Every request, the console's too, by route template and status.
        .layer(axum::middleware::from_fn(metrics::record))
}

/// The JSON API alone (no console).
fn api_router(state: AppState) -> Router {
    let component_bytes_max = state.raters.plugins.limits().component_bytes_max;
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(metrics::readyz))
        .route("/metrics", get(metrics::metrics))
        .route(
            "/v1/products",
            post(config::deploy_product).get(config::list_products),
        )
        .route("/v1/products/{name}", get(config_reads::get_product))
        .route(
            "/v1/products/{name}/shadow-report",
            get(shadow::shadow_report),
        )
        .route(
            "/v1/plugins",
            post(config::upload_plugin)
                .layer(DefaultBodyLimit::max(component_bytes_max))
                .get(config::list_plugins),
        )
        .route("/v1/plugins/{name}", get(activation::get_plugin))
        .route(
            "/v1/plugins/{name}/{version}/schedule",
            post(activation::schedule_plugin),
        )
        .route(
            "/v1/plugins/{name}/{version}/tables/{table}",
            put(config::put_table),
        )
        .route(
            "/v1/plugins/{name}/{version}/golden",
            post(config::run_golden),
        )
        .route(
            "/v1/plugins/{name}/{version}/activation",
            post(activation::activate_plugin),
        )
        .route("/v1/openapi.json", get(openapi::serve))
        .route("/v1/api-keys", post(keys::create_key).get(keys::list_keys))
        .route("/v1/api-keys/{id}", delete(keys::revoke_key))
        .route("/v1/api-keys/{id}/rotation", post(keys::rotate_key))
        .route(
            "/v1/external-raters",
            post(raters::put_rater).get(raters::list_raters),
        )
        .route("/v1/external-raters/{name}", get(raters::get_rater))
        .route(
            "/v1/accounts",
            post(policies::create_account).get(read_model::search_accounts),
        )
        .route("/v1/accounts/{locator}", get(policies::get_account))
        .route("/v1/quotes", post(policies::quote))
        .route(
            "/v1/quotes/billing-options",
            post(policies::billing_options),
        )
        .route("/v1/policies", post(policies::issue_policy))
        .route("/v1/policies/{locator}", get(policies::get_policy))
        .route(
            "/v1/policies/{locator}/endorsements",
            post(policies::endorse),
        )
        .route("/v1/policies/{locator}/renewals", post(policies::renew))
        .route(
            "/v1/policies/{locator}/cancellations",
            post(policies::cancel),
        )
        .route(
            "/v1/policies/{locator}/reinstatements",
            post(policies::reinstate),
        )
        .route(
            "/v1/policies/{locator}/non-renewal",
            post(policies::non_renew),
        )
        .route("/v1/policies/{locator}/reversals", post(policies::reverse))
        .route(
            "/v1/policies/{locator}/rate-corrections",
            post(policies::correct_rates),
        )
        .route(
            "/v1/products/{name}/rate-corrections",
            post(policies::correct_product_rates),
        )
        .route(
            "/v1/policies/{policy}/charges/{charge}/audit",
            get(policies::audit_charge),
        )
        .route("/v1/charges", post(policies::add_charge))
        .route("/v1/charges/reversals", post(policies::reverse_charges))
        .route("/v1/previews", post(bundle::preview_bundle))
        .route(
            "/v1/billing/settings",
            post(billing::configure_billing).get(config_reads::get_billing_settings),
        )
        .route("/v1/billing/runs", post(billing::post_billing_run))
        .route("/v1/clock", get(clock::get_clock).post(clock::set_clock))
        .route(
            "/v1/accounts/{account}/billing-settings",
            post(billing::configure_account).get(config_reads::get_account_settings),
        )
        .route(
            "/v1/accounts/{account}/billing",
            get(billing::account_billing),
        )
        .route(
            "/v1/accounts/{account}/summary",
            get(read_model::account_summary),
        )
        .route(
            "/v1/accounts/{account}/payments",
            get(read_model::account_payments),
        )
        .route("/v1/invoices", get(read_model::list_invoices))
        .route("/v1/invoices/{invoice}", get(read_model::get_invoice))
        .route(
            "/v1/policies/{policy}/timeline",
            get(read_model::policy_timeline),
        )
        .route("/v1/worklists/{worklist}", get(read_model::worklist))
        .route("/v1/pending-transactions", get(pending::list_pending))
        .route("/v1/payments", post(billing::record_payment))
        .route(
            "/v1/accounts/{account}/payment-methods",
            post(payments::attach_method).get(payments::list_methods),
        )
        .route(
            "/v1/accounts/{account}/payment-methods/{id}",
            delete(payments::detach_method),
        )
        .route(
            "/v1/accounts/{account}/autopay",
            post(payments::set_autopay),
        )
        .route(
            "/v1/accounts/{account}/collection-attempts",
            get(payments::list_attempts),
        )
        .route(
            "/v1/payment-processor",
            post(payments::configure_processor).get(payments::get_processor),
        )
        .route("/v1/processor-events", post(payments::processor_event))
        .route(
            "/v1/payments/{payment}/reversals",
            post(billing::reverse_payment),
        )
        .route("/v1/credit-distributions", post(billing::distribute_credit))
        .route("/v1/write-offs", post(billing::write_off))
        .route(
            "/v1/write-offs/{write_off}/reversals",
            post(billing::reverse_write_off),
        )
        .route("/v1/disbursements", post(billing::draft_disbursement))
        .route(
            "/v1/disbursements/{disbursement}/approvals",
            post(billing::approve_disbursement),
        )
        .route(
            "/v1/disbursements/{disbursement}/rejections",
            post(billing::reject_disbursement),
        )
        .route(
            "/v1/disbursements/{disbursement}/reversals",
            post(billing::reverse_disbursement),
        )
        .route("/v1/holds", post(billing::place_hold))
        .route("/v1/holds/{hold}/releases", post(billing::release_hold))
        .route(
            "/v1/policies/{policy}/plan-changes",
            post(billing::change_plan),
        )
        .route("/v1/ledger/entries", get(ledger::entries))
        .route("/v1/ledger/balances", get(ledger::balances))
        .route("/v1/ledger/trial-balance", get(ledger::trial_balance))
        .route("/v1/events", get(ledger::events))
        .route("/v1/exports/{file}", get(exports::export))
        .route("/v1/accounting/earnings", post(accounting::run_earnings))
        .route("/v1/accounting/premium", get(accounting::premium_report))
        .route("/v1/producers", get(producers::list_producers))
        .route(
            "/v1/producers/{producer}/statements/{period}",
            get(producers::producer_statement),
        )
        .route(
            "/v1/producers/{producer}/commission-payments",
            post(producers::draft_commission_payment).get(producers::list_commission_payments),
        )
        .route(
            "/v1/producers/{producer}/commission-payments/{payment}/approvals",
            post(producers::approve_commission_payment),
        )
        .route(
            "/v1/producers/{producer}/commission-payments/{payment}/rejections",
            post(producers::reject_commission_payment),
        )
        .route(
            "/v1/producers/{producer}/commission-payments/{payment}/executions",
            post(producers::execute_commission_payment),
        )
        .route(
            "/v1/producers/{producer}/agency",
            put(agency::put_agency).get(agency::get_agency),
        )
        .route(
            "/v1/producers/{producer}/agency-statements",
            get(agency::list_agency_statements),
        )
        .route(
            "/v1/producers/{producer}/agency-statements/{date}",
            get(agency::get_agency_statement),
        )
        .route(
            "/v1/producers/{producer}/remittances",
            post(agency::post_remittance),
        )
        .route("/v1/agency-exceptions", get(agency::list_agency_exceptions))
        .route(
            "/v1/products/{product}/billing-options",
            get(agency::billing_options),
        )
        .route("/v1/accounting/periods", get(accounting::list_periods))
        .route(
            "/v1/accounting/periods/{period}",
            get(accounting::get_period),
        )
        .route(
            "/v1/accounting/periods/{period}/close",
            post(accounting::close_period),
        )
        .route(
            "/v1/accounting/gl-mapping",
            put(accounting::put_gl_mapping).get(accounting::get_gl_mapping),
        )
        .route("/v1/webhooks/event-types", get(webhooks::event_types))
        .route(
            "/v1/webhooks/endpoints",
            post(webhooks::create_endpoint).get(webhooks::list_endpoints),
        )
        .route(
            "/v1/webhooks/endpoints/{id}",
            get(webhooks::get_endpoint)
                .patch(webhooks::update_endpoint)
                .delete(webhooks::delete_endpoint),
        )
        .route(
            "/v1/webhooks/endpoints/{id}/disable",
            post(webhooks::disable_endpoint),
        )
        .route(
            "/v1/webhooks/endpoints/{id}/enable",
            post(webhooks::enable_endpoint),
        )
        .route(
            "/v1/webhooks/endpoints/{id}/secret-rotations",
            post(webhooks::rotate_secret),
        )
        .route(
            "/v1/webhooks/endpoints/{id}/attempts",
            get(webhooks::list_attempts),
        )
        .route(
            "/v1/webhooks/endpoints/{id}/replays",
            post(webhooks::replay),
        )
        .fallback(|| async { error::ApiError::not_found("no such endpoint") })
        .layer(DefaultBodyLimit::max(JSON_BODY_BYTES_MAX))
        // Inside the trace span: what it logs carries the request id.
        .layer(axum::middleware::from_fn(problems::problems))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The span of one request: method, path and request id (never headers,
/// so never a key). Handlers add the tenant to what they log inside it.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}

#[cfg(test)]
mod tests;
