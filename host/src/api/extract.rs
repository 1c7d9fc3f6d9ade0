//! Request extractors that fail with problem+json: JSON bodies (unknown
//! fields and repeated keys refused, a body over the limit 413), the
//! `Idempotency-Key` header and the `preview` flag.

use super::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Longest idempotency key accepted.
pub const IDEMPOTENCY_KEY_BYTES_MAX: usize = 255;

/// A JSON body; malformed JSON (400 `malformed_json`), a wrong content
/// type (415), unknown fields or a key repeated in an object, at any depth
/// (422 `invalid_body`, as serde refuses a repeated field of a typed body),
/// or a body over the limit (413 `too_large`) give a problem and nothing
/// changes.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(request.headers()) {
            return Err(unsupported_media_type());
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(body_problem)?;
        // Plain serde_json first; only a body that fails is read again by
        // axum's extractor, which tracks the path to name the bad field.
        let value = match serde_json::from_slice::<T>(&bytes) {
            Ok(value) => value,
            Err(_) => match axum::Json::<T>::from_bytes(&bytes) {
                Ok(axum::Json(value)) => value,
                Err(rejection) => return Err(json_problem(rejection)),
            },
        };
        // A map or a `Value` keeps the last of a repeated key where a
        // struct refuses it: every body is held to the struct's rule.
        super::unique_keys::check(&bytes).map_err(|e| {
            ApiError::unprocessable(
                "invalid_body",
                format!("Failed to deserialize the JSON body into the target type: {e}"),
            )
        })?;
        Ok(ApiJson(value))
    }
}

/// `application/json` or `application/<anything>+json`, parameters aside,
/// as axum's `Json` extractor accepts.
fn has_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let subtype = subtype.as_bytes();
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case(b"json")
            || subtype.len() > 5 && subtype[subtype.len() - 5..].eq_ignore_ascii_case(b"+json"))
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as JSON with `Content-Type: application/json`",
    )
}

/// A body that could not be read: over the limit is 413 `too_large`.
fn body_problem(rejection: axum::extract::rejection::BytesRejection) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    ApiError::bad_request("bad_body", rejection.body_text())
}

/// A body over its endpoint's limit.
pub fn too_large() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!(
            "the body is over this endpoint's limit ({} bytes for JSON)",
            super::JSON_BODY_BYTES_MAX
        ),
    )
}

fn json_problem(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::unprocessable("invalid_body", e.body_text()),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request("malformed_json", e.body_text()),
        JsonRejection::MissingJsonContentType(_) => unsupported_media_type(),
        other => ApiError::bad_request("bad_body", other.body_text()),
    }
}

/// A query string; unknown or malformed parameters give a 400 problem.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request("bad_query", rejection.body_text())),
        }
    }
}

/// The `Idempotency-Key` header, if sent.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        IdempotencyKey::of(&parts.headers)
    }
}

impl IdempotencyKey {
    /// The key the headers carry, if any; 400 `bad_idempotency_key` for an
    /// empty, control-character or over-long one.
    pub fn of(headers: &axum::http::HeaderMap) -> Result<IdempotencyKey, ApiError> {
        let Some(value) = headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let key = value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| {
                !k.is_empty()
                    && k.len() <= IDEMPOTENCY_KEY_BYTES_MAX
                    && !k.chars().any(char::is_control)
            })
            .ok_or_else(|| {
                ApiError::bad_request(
                    "bad_idempotency_key",
                    format!(
                        "Idempotency-Key must be 1-{IDEMPOTENCY_KEY_BYTES_MAX} printable characters"
                    ),
                )
            })?;
        Ok(IdempotencyKey(Some(key.to_string())))
    }
}

/// `?preview=true`: return the full effect without persisting anything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Preview(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for Preview {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, "true"));
            if name == "preview" {
                return match value {
                    "true" | "1" => Ok(Preview(true)),
                    "false" | "0" => Ok(Preview(false)),
                    other => Err(ApiError::bad_request(
                        "bad_query",
                        format!("preview={other}: use true or false"),
                    )),
                };
            }
        }
        Ok(Preview(false))
    }
}

/// For endpoints that cannot preview: `?preview=true` is refused with
/// `preview_unsupported` (400) rather than silently committed.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPreview;

impl<S: Send + Sync> FromRequestParts<S> for NoPreview {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if Preview::from_request_parts(parts, state).await?.0 {
            return Err(ApiError::bad_request(
                "preview_unsupported",
                "this endpoint cannot preview; send it without `preview=true`",
            ));
        }
        Ok(NoPreview)
    }
}

/// Runs blocking engine work off the async threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("worker failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::has_json_content_type;
    use axum::http::{HeaderMap, HeaderValue, header::CONTENT_TYPE};

    fn with_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn json_bodies_are_recognised_as_axum_recognises_them() {
        for accepted in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/problem+json",
        ] {
            assert!(has_json_content_type(&with_type(accepted)), "{accepted}");
        }
        for refused in ["text/plain", "application/xml", "json", "text/json", ""] {
            assert!(!has_json_content_type(&with_type(refused)), "{refused}");
        }
        assert!(!has_json_content_type(&HeaderMap::new()));
    }
}
