//! Webhooks (DOMAIN section 11): a tenant's endpoints as configuration
//! events, the public event schema a policy system is told, Standard
//! Webhooks signatures, and the retry rule. Delivery itself (reading the
//! log after each endpoint's cursor and posting) is the engine's webhook
//! worker (`engine::service::webhooks`); the HTTP endpoints are in
//! `api::routes::webhooks`.

pub mod command;
pub mod endpoint;
pub mod error;
pub mod retry;
pub mod schema;
pub mod signature;
pub mod state;

pub use command::{WebhookCommand, WebhookEvent};
pub use endpoint::{DisableReason, Endpoint, EndpointStatus};
pub use error::WebhookError;
pub use schema::{WebhookData, WebhookMessage};
pub use signature::WebhookSecret;
pub use state::WebhookEndpoints;
