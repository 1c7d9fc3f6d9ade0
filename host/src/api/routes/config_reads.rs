//! Reads of configuration with its history: a product and its revisions
//! (from the product's stream in the log: who deployed each, when, under
//! which key), and the billing settings in effect for the tenant and for an
//! account (with what the account overrides).

use super::config::shown;
use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::blocking;
use crate::api::state::AppState;
use crate::collections::{AccountOverrides, BillingSettings};
use crate::engine::TenantEvent;
use crate::policy::{BookEvent, ProductConfig};
use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One deployment of a product.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct ProductRevision {
    /// 1 for the first deployment, then 2, 3, ...
    pub revision: u32,
    /// The event's position in the tenant's log.
    pub sequence: u64,
    pub deployed_by: String,
    pub deployed_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    pub product: ProductConfig,
}

/// A product as deployed now, and every revision.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct ProductDetail {
    pub name: String,
    /// The revision in effect (new policies record it).
    pub revision: u32,
    pub product: ProductConfig,
    /// Oldest first.
    pub revisions: Vec<ProductRevision>,
}

/// A product with its revisions.
#[utoipa::path(get, path = "/v1/products/{name}", responses((status = 200, body = ProductDetail)), tag = "configuration")]
pub async fn get_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<ProductDetail>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || {
        let tenant = &caller.tenant;
        let (product, revision) = state.engine.read(tenant, |s| {
            (
                s.book.products.get(&name).cloned(),
                s.book.product_revisions.get(&name).copied().unwrap_or(0),
            )
        })?;
        let product = product.ok_or_else(|| ApiError::not_found(format!("no product {name}")))?;
        let history = state
            .engine
            .stream_history(tenant, &format!("product/{name}"))?;
        let mut revisions = Vec::new();
        for (event, deployed) in history {
            let TenantEvent::Book(BookEvent::ProductDeployed { product }) = deployed else {
                continue;
            };
            revisions.push(ProductRevision {
                revision: revisions.len() as u32 + 1,
                sequence: event.sequence,
                deployed_by: event.actor,
                deployed_at: event.issued_at,
                idempotency_key: event.idempotency_key,
                product: shown(tenant, product),
            });
        }
        Ok(Json(ProductDetail {
            name,
            revision,
            product: shown(tenant, product),
            revisions,
        }))
    })
    .await
}

/// The tenant's billing settings in effect.
#[utoipa::path(get, path = "/v1/billing/settings", responses((status = 200, body = BillingSettings)), tag = "billing")]
pub async fn get_billing_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<BillingSettings>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || {
        Ok(Json(state.engine.read(&caller.tenant, |s| {
            s.collections.settings.clone()
        })?))
    })
    .await
}

/// An account's billing settings: what is in effect, and what it overrides.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct AccountSettings {
    pub account: String,
    /// The tenant's settings with the account's overrides applied.
    pub in_effect: BillingSettings,
    /// Only what the account sets itself (absent fields follow the tenant).
    pub overrides: AccountOverrides,
}

/// An account's billing settings in effect and its overrides.
#[utoipa::path(get, path = "/v1/accounts/{account}/billing-settings", responses((status = 200, body = AccountSettings)), tag = "billing")]
pub async fn get_account_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> Result<Json<AccountSettings>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || {
        let found = state.engine.read(&caller.tenant, |s| {
            s.collections.accounts.get(&account).map(|billing| {
                (
                    s.collections.settings_for(billing),
                    billing.overrides.clone(),
                )
            })
        })?;
        let (in_effect, overrides) =
            found.ok_or_else(|| ApiError::not_found(format!("no account {account}")))?;
        Ok(Json(AccountSettings {
            account,
            in_effect,
            overrides,
        }))
    })
    .await
}
