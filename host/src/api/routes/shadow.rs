//! `GET /v1/products/{name}/shadow-report`: how a product's challenger
//! rater compares with its champion so far (shadow rating, docs/rating.md):
//! calls compared, exact matches, differences by item and charge, challenger
//! errors by kind and a few samples. Read from the tenant's state, which the
//! `shadow_rated` events of its log build.

use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::blocking;
use crate::api::state::{AppState, unqualified, unqualify_chain};
use crate::engine::{ShadowCall, ShadowReport};
use crate::rating::{RaterIdentity, RatingChain};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

/// A product's shadow report.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct ShadowReportView {
    pub product: String,
    /// The challenger the product names now (none: shadow rating is off;
    /// what was recorded before is still reported).
    pub challenger: Option<RatingChain>,
    #[serde(flatten)]
    pub report: ShadowReport,
}

/// A rater's identity with the tenant's names as it wrote them.
fn shown_identity(tenant: &str, identity: &mut RaterIdentity) {
    match identity {
        RaterIdentity::Plugin { plugin_id, .. } => {
            *plugin_id = unqualified(tenant, plugin_id).to_string();
        }
        RaterIdentity::External { name } => *name = unqualified(tenant, name).to_string(),
        RaterIdentity::Native { .. } => {}
    }
}

fn shown_sample(tenant: &str, call: &mut ShadowCall) {
    if let Some(sample) = &mut call.sample {
        shown_identity(tenant, &mut sample.champion_rater);
        if let Some(rater) = &mut sample.challenger_rater {
            shown_identity(tenant, rater);
        }
    }
}

/// The product's shadow rating report. Only committed transactions are
/// compared (quotes and previews are not); the challenger answers after the
/// transaction, so its last calls may not be counted yet.
#[utoipa::path(get, path = "/v1/products/{name}/shadow-report", responses((status = 200, body = ShadowReportView)), tag = "configuration")]
pub async fn shadow_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<ShadowReportView>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || {
        let tenant = &caller.tenant;
        let found = state.engine.read(tenant, |s| {
            s.book
                .products
                .get(&name)
                .map(|product| (product.shadow.clone(), s.shadow.report(&name)))
        })?;
        let (shadow, mut report) = found.ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "product_not_found",
                format!("no product {name}"),
            )
        })?;
        for sample in &mut report.samples {
            shown_sample(tenant, sample);
        }
        Ok(Json(ShadowReportView {
            product: name,
            challenger: shadow.map(|s| unqualify_chain(tenant, &s.rater)),
            report,
        }))
    })
    .await
}
