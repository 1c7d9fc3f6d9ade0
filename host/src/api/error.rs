//! API errors as RFC 9457 `application/problem+json`, each with a stable
//! machine-readable `code`.

use crate::domain::ErrorKind;
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

/// The HTTP status of a kind of error. Every module error says which kind
/// each of its variants is (an exhaustive match), so the status of a new
/// variant is chosen where the variant is added, never defaulted here.
pub fn status_of_kind(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Upstream => StatusCode::BAD_GATEWAY,
        ErrorKind::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
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
        ApiError::new(status_of_kind(error.kind()), code, detail)
    }
}

impl From<crate::engine::read_model::ReadError> for ApiError {
    fn from(error: crate::engine::read_model::ReadError) -> Self {
        ApiError::new(
            status_of_kind(error.kind()),
            error.code(),
            error.to_string(),
        )
    }
}

impl From<crate::webhooks::WebhookError> for ApiError {
    fn from(error: crate::webhooks::WebhookError) -> Self {
        EngineError::Webhooks(error).into()
    }
}

impl From<crate::payments::PaymentError> for ApiError {
    fn from(error: crate::payments::PaymentError) -> Self {
        EngineError::Payments(error).into()
    }
}

impl From<crate::config::ConfigError> for ApiError {
    fn from(error: crate::config::ConfigError) -> Self {
        EngineError::Config(error).into()
    }
}
