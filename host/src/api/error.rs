//! API errors as RFC 9457 `application/problem+json`, each with a stable
//! machine-readable `code`.

use crate::engine::EngineError;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A problem the API reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub detail: String,
}

/// An RFC 9457 problem with Premia's stable `code`.
#[derive(utoipa::ToSchema, Serialize)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            detail: detail.into(),
        }
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unprocessable(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send a valid API key as `Authorization: Bearer <key>`",
        )
    }

    pub fn forbidden(role: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this API key's role ({role}) may not do this"),
        )
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
    }
}

impl IntoResponse for ApiError {
    /// The problem; a 500 or 503 shows a generic detail (the real one goes
    /// with the response, as [`HiddenDetail`], for
    /// [`super::problems::problems`] to log with the request id).
    fn into_response(self) -> Response {
        if hides_detail(self.status) {
            let mut response =
                problem_response(self.status, &self.code, generic_detail(self.status, None));
            response.extensions_mut().insert(HiddenDetail {
                code: self.code,
                detail: self.detail,
            });
            return response;
        }
        problem_response(self.status, &self.code, &self.detail)
    }
}

/// The text of a 500 or 503 that the client does not see: logged with the
/// request id by [`super::problems::problems`].
#[derive(Debug, Clone)]
pub struct HiddenDetail {
    pub code: String,
    pub detail: String,
}

/// Whether a problem of `status` shows only a generic detail: a 500 or a
/// 503 never sends internal error text (a store's error, a worker's panic)
/// to the client.
pub fn hides_detail(status: StatusCode) -> bool {
    status == StatusCode::INTERNAL_SERVER_ERROR || status == StatusCode::SERVICE_UNAVAILABLE
}

/// The detail a client sees for a 500 or 503, naming the request id to
/// quote when asking what happened.
pub fn generic_detail(status: StatusCode, request_id: Option<&str>) -> String {
    let what = if status == StatusCode::SERVICE_UNAVAILABLE {
        "temporarily unavailable; retry later"
    } else {
        "internal error"
    };
    match request_id {
        Some(id) if !id.is_empty() => format!("{what}; request id {id}"),
        _ => what.to_string(),
    }
}

/// An `application/problem+json` response.
pub fn problem_response(status: StatusCode, code: &str, detail: impl AsRef<str>) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = Problem {
        kind: format!("https://premia.dev/problems/{code}"),
        title,
        status: status.as_u16(),
        detail: detail.as_ref(),
        code,
    };
    let json = serde_json::to_vec(&body).expect("problems serialize");
    (status, [(header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE)], json).into_response()
}

/// The media type of every error answer.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The HTTP status of an engine error code.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        "not_found"
        | "account_not_found"
        | "policy_not_found"
        | "product_not_found"
        | "plan_not_found"
        | "transaction_not_found"
        | "api_key_not_found"
        | "term_not_found"
        | "charge_not_found" => StatusCode::NOT_FOUND,
        "account_exists"
        | "conflict"
        | "policy_exists"
        | "idempotency_conflict"
        | "policy_not_in_force"
        | "policy_not_cancelled"
        | "policy_not_renewed"
        | "already_reversed"
        | "reversal_not_reversible"
        | "rate_correction_not_reversible"
        | "charge_not_reversible"
        | "rate_version_unchanged"
        | "rating_declined"
        | "clock_backwards"
        | "not_a_test_tenant"
        | "tenant_not_new"
        | "api_key_revoked"
        | "last_admin_key" => StatusCode::CONFLICT,
        "rater_deadline" | "plugin_deadline" => StatusCode::GATEWAY_TIMEOUT,
        // An invoicing plugin that failed is a plugin's failure, as a
        // rating plugin's is (dates it answered that cannot be stay 422
        // `invalid_installment_dates`: the product's plan and plugin disagree).
        "invoicing_plugin_failed" => StatusCode::BAD_GATEWAY,
        "plugin_quarantined" => StatusCode::SERVICE_UNAVAILABLE,
        code if code.starts_with("plugin_") || code.starts_with("rater_") => {
            StatusCode::BAD_GATEWAY
        }
        "store_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "internal" | "ledger_refused" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        let code = error.code();
        let detail = match &error {
            // A rater's decline is shown as the rater said it (seed 004).
            EngineError::Policy(crate::policy::PolicyError::Rating(
                crate::rating::RatingError::Declined(message),
            )) => message.clone(),
            other => other.to_string(),
        };
        if let EngineError::Webhooks(webhooks) = &error {
            let status = match webhooks.kind() {
                crate::webhooks::WebhookErrorKind::NotFound => StatusCode::NOT_FOUND,
                crate::webhooks::WebhookErrorKind::Conflict => StatusCode::CONFLICT,
                crate::webhooks::WebhookErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            };
            return ApiError::new(status, code, detail);
        }
        if let EngineError::Config(config) = &error {
            let status =
                StatusCode::from_u16(config.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            return ApiError::new(status, code, detail);
        }
        ApiError::new(status_of(code), code, detail)
    }
}

impl From<crate::webhooks::WebhookError> for ApiError {
    fn from(error: crate::webhooks::WebhookError) -> Self {
        EngineError::Webhooks(error).into()
    }
}

impl From<crate::config::ConfigError> for ApiError {
    fn from(error: crate::config::ConfigError) -> Self {
        EngineError::Config(error).into()
    }
}
