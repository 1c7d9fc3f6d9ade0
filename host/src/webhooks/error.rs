//! Why a webhook command is refused.

use crate::domain::ErrorKind;

/// A refused webhook command; a refused command changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("no webhook endpoint {0}")]
    UnknownEndpoint(String),
    /// Not an `http` or `https` URL with a host, or one carrying a user
    /// name or password, or longer than the limit.
    #[error("webhook URL {url:?}: {why}")]
    BadUrl { url: String, why: &'static str },
    #[error("unknown webhook event type {0:?} (GET /v1/webhooks/event-types lists them)")]
    UnknownEventType(String),
    #[error("an endpoint subscribes to at least one event type")]
    NoEventTypes,
    #[error("a description has at most {max} characters")]
    DescriptionTooLong { max: usize },
    #[error("a tenant has at most {max} webhook endpoints")]
    TooManyEndpoints { max: usize },
    #[error("webhook endpoint {endpoint} is already {state}")]
    AlreadyInState {
        endpoint: String,
        state: &'static str,
    },
    #[error("a webhook secret is `whsec_` and 24 to 64 bytes in base64")]
    BadSecret,
    #[error(
        "a replay names sequences from 1 up, the first not after the last, at most {max} of them"
    )]
    BadReplayRange { max: u64 },
}

impl WebhookError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::UnknownEndpoint(_) => "webhook_endpoint_not_found",
            WebhookError::BadUrl { .. } => "invalid_webhook_url",
            WebhookError::UnknownEventType(_) => "unknown_webhook_event_type",
            WebhookError::NoEventTypes => "no_webhook_event_types",
            WebhookError::DescriptionTooLong { .. } => "webhook_description_too_long",
            WebhookError::TooManyEndpoints { .. } => "too_many_webhook_endpoints",
            WebhookError::AlreadyInState { .. } => "webhook_endpoint_unchanged",
            WebhookError::BadSecret => "invalid_webhook_secret",
            WebhookError::BadReplayRange { .. } => "invalid_replay_range",
        }
    }

    /// The kind of failure: "no such endpoint", a conflict with the
    /// endpoint's state or count, or a bad request.
    pub fn kind(&self) -> ErrorKind {
        match self {
            WebhookError::UnknownEndpoint(_) => ErrorKind::NotFound,
            WebhookError::AlreadyInState { .. } | WebhookError::TooManyEndpoints { .. } => {
                ErrorKind::Conflict
            }
            WebhookError::BadUrl { .. }
            | WebhookError::UnknownEventType(_)
            | WebhookError::NoEventTypes
            | WebhookError::DescriptionTooLong { .. }
            | WebhookError::BadSecret
            | WebhookError::BadReplayRange { .. } => ErrorKind::Invalid,
        }
    }
}
