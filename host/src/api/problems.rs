//! Every error answer is `application/problem+json`, whoever made it: a
//! layer over the whole router that
//!
//! - turns an error answer that is not a problem (axum's own: a `405` from
//!   a method router, a `413` from a body limit, a `400` from a path that
//!   does not parse) into one, with the code of its status (`too_large`,
//!   `method_not_allowed`, ...) and its headers kept (`Allow`);
//! - keeps internal text out of a `500` or `503`: the client sees a generic
//!   detail naming the request id (`internal error; request id ...`), and
//!   the real text is logged with that id.

use super::error::{
    HiddenDetail, PROBLEM_CONTENT_TYPE, generic_detail, hides_detail, problem_response,
};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// How much of a non-problem error body is kept as the problem's detail.
const DETAIL_BYTES_MAX: usize = 1024;

/// The layer's function (see the module documentation).
pub async fn problems(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_CONTENT_TYPE.as_bytes());
    if is_problem && !hides_detail(status) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let (code, detail) = match parts.extensions.remove::<HiddenDetail>() {
        Some(hidden) => (hidden.code, hidden.detail),
        None if is_problem => (code_of(status).to_string(), String::new()),
        None => {
            let bytes = axum::body::to_bytes(body, DETAIL_BYTES_MAX * 4)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(DETAIL_BYTES_MAX)])
                .trim()
                .to_string();
            (code_of(status).to_string(), text)
        }
    };
    let shown = if hides_detail(status) {
        tracing::error!(
            request_id = %request_id,
            status = status.as_u16(),
            code = %code,
            detail = %detail,
            "internal error"
        );
        generic_detail(status, Some(&request_id))
    } else if detail.is_empty() {
        default_detail(status).to_string()
    } else {
        detail
    };
    let mut answer = problem_response(status, &code, shown);
    keep_headers(&parts.headers, answer.headers_mut());
    *answer.extensions_mut() = std::mem::take(&mut parts.extensions);
    answer
}

/// The code of an error answer nobody gave a code: from its status.
pub fn code_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_ACCEPTABLE => "not_acceptable",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::CONFLICT => "conflict",
        StatusCode::LENGTH_REQUIRED => "length_required",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        StatusCode::GATEWAY_TIMEOUT => "timeout",
        StatusCode::BAD_GATEWAY => "bad_gateway",
        status if status.is_server_error() => "internal",
        _ => "bad_request",
    }
}

fn default_detail(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "no such endpoint",
        StatusCode::METHOD_NOT_ALLOWED => {
            "this endpoint does not take this method; the `Allow` header lists those it takes"
        }
        StatusCode::PAYLOAD_TOO_LARGE => "the body is over this endpoint's limit",
        other => other.canonical_reason().unwrap_or("error"),
    }
}

/// The headers of the original answer worth keeping (`Allow` on a 405,
/// `Retry-After`, ...): all but those describing the body it replaced.
fn keep_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if name == header::CONTENT_TYPE || name == header::CONTENT_LENGTH {
            continue;
        }
        to.append(name.clone(), value.clone());
    }
}
