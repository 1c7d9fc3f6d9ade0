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
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = Problem {
            kind: format!("https://premia.dev/problems/{}", self.code),
            title,
            status: self.status.as_u16(),
            detail: &self.detail,
            code: &self.code,
        };
        let json = serde_json::to_vec(&body).expect("problems serialize");
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            json,
        )
            .into_response()
    }
}

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
        | "term_not_found" => StatusCode::NOT_FOUND,
        "account_exists"
        | "policy_exists"
        | "idempotency_conflict"
        | "policy_not_in_force"
        | "policy_not_cancelled"
        | "policy_not_renewed"
        | "already_reversed"
        | "reversal_not_reversible"
        | "rate_correction_not_reversible"
        | "rate_version_unchanged"
        | "rating_declined"
        | "clock_backwards"
        | "not_a_test_tenant"
        | "tenant_not_new"
        | "api_key_revoked"
        | "last_admin_key" => StatusCode::CONFLICT,
        "rater_deadline" | "plugin_deadline" => StatusCode::GATEWAY_TIMEOUT,
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
        if let EngineError::Config(config) = &error {
            let status =
                StatusCode::from_u16(config.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            return ApiError::new(status, code, detail);
        }
        ApiError::new(status_of(code), code, detail)
    }
}

impl From<crate::config::ConfigError> for ApiError {
    fn from(error: crate::config::ConfigError) -> Self {
        EngineError::Config(error).into()
    }
}
