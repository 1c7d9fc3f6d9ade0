//! Webhook endpoint commands and the events they append (configuration is
//! history: every change names who made it and when). Events carry a
//! secret's reference, never the secret.

use super::endpoint::DisableReason;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A command to a tenant's webhook endpoints.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum WebhookCommand {
    /// Makes endpoint `ep_<n+1>`; its secret is already sealed in the
    /// secret area under `secret_ref`.
    CreateEndpoint {
        url: String,
        event_types: Vec<String>,
        #[serde(default)]
        description: String,
        secret_ref: String,
    },
    /// Changes what is given; the rest stays.
    UpdateEndpoint {
        endpoint: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event_types: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    /// Stops deliveries (by staff, or by delivery for `gone`/`failing`).
    DisableEndpoint {
        endpoint: String,
        reason: DisableReason,
    },
    /// Resumes deliveries where they stopped.
    EnableEndpoint { endpoint: String },
    /// Signs with a new secret (sealed under `secret_ref`); the previous
    /// one signs beside it for a day.
    RotateSecret {
        endpoint: String,
        secret_ref: String,
    },
    /// Removes the endpoint; nothing more is delivered to it.
    DeleteEndpoint { endpoint: String },
}

/// An event of a tenant's webhook endpoints.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum WebhookEvent {
    EndpointCreated {
        endpoint: String,
        url: String,
        event_types: Vec<String>,
        description: String,
        secret_ref: String,
        delivers_after: u64,
        actor: String,
        at: DateTime<Utc>,
    },
    EndpointUpdated {
        endpoint: String,
        url: String,
        event_types: Vec<String>,
        description: String,
        actor: String,
        at: DateTime<Utc>,
    },
    EndpointDisabled {
        endpoint: String,
        reason: DisableReason,
        actor: String,
        at: DateTime<Utc>,
    },
    EndpointEnabled {
        endpoint: String,
        actor: String,
        at: DateTime<Utc>,
    },
    SecretRotated {
        endpoint: String,
        secret_ref: String,
        previous_secret_ref: String,
        previous_valid_until: DateTime<Utc>,
        actor: String,
        at: DateTime<Utc>,
    },
    EndpointDeleted {
        endpoint: String,
        actor: String,
        at: DateTime<Utc>,
    },
}

impl WebhookEvent {
    /// The stable kind stored with the event.
    pub fn kind(&self) -> &'static str {
        match self {
            WebhookEvent::EndpointCreated { .. } => "webhook_endpoint_created",
            WebhookEvent::EndpointUpdated { .. } => "webhook_endpoint_updated",
            WebhookEvent::EndpointDisabled { .. } => "webhook_endpoint_disabled",
            WebhookEvent::EndpointEnabled { .. } => "webhook_endpoint_enabled",
            WebhookEvent::SecretRotated { .. } => "webhook_secret_rotated",
            WebhookEvent::EndpointDeleted { .. } => "webhook_endpoint_deleted",
        }
    }

    /// The endpoint the event is about.
    pub fn endpoint(&self) -> &str {
        match self {
            WebhookEvent::EndpointCreated { endpoint, .. }
            | WebhookEvent::EndpointUpdated { endpoint, .. }
            | WebhookEvent::EndpointDisabled { endpoint, .. }
            | WebhookEvent::EndpointEnabled { endpoint, .. }
            | WebhookEvent::SecretRotated { endpoint, .. }
            | WebhookEvent::EndpointDeleted { endpoint, .. } => endpoint,
        }
    }
}
