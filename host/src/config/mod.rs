//! Configuration as history (DOMAIN section 9): plugin uploads, rate
//! tables, activations and schedules of plugin versions, and external rater
//! registrations are commands of the tenant's log, decided here and run by
//! the engine like every other command (one idempotency system, previews,
//! the feed, multi-host catch-up). Products and billing settings were
//! already commands of the book and of billing.
//!
//! - [`ConfigCommand`] / [`ConfigEvent`] / [`ConfigState`]: what is
//!   recorded and what it adds up to.
//! - [`blobs`]: the bytes the commands name, stored by content hash first.
//! - [`secrets`]: external raters' header values, encrypted in a store area
//!   of their own, never in an event.
//! - [`host`]: puts a tenant's configuration in use on this host whenever
//!   the engine applied configuration events (commits and catch-ups).
//! - [`directory`]: which rater a rating chain means on this host.
//! - [`upgrade`]: carries configuration that an older release kept in blobs
//!   into events, once, at start-up.

pub mod blobs;
mod command;
pub mod directory;
mod error;
mod event;
pub mod host;
pub mod names;
pub mod secrets;
mod state;
pub mod upgrade;

#[cfg(test)]
mod tests;

pub use command::{ConfigCommand, PluginUpload, RaterRegistration};
pub use directory::RaterDirectory;
pub use error::ConfigError;
pub use event::ConfigEvent;
pub use host::{ConfigSink, HostConfig, NoConfigSink};
pub use state::{
    Activation, ConfigState, PluginHistory, PluginVersion, RaterRevision, Recorded, edition_sha256,
    valid_name,
};

use crate::rating::ExternalRaterConfig;
use crate::store::Store;

/// The command registering `rater`: its header values are encrypted into
/// the tenant's secret area first (unless `keep` is false: a preview keeps
/// nothing), the command names them by reference.
pub fn rater_registration(
    secrets: &secrets::SecretBox,
    store: &dyn Store,
    tenant: &str,
    rater: &ExternalRaterConfig,
    keep: bool,
) -> Result<ConfigCommand, ConfigError> {
    rater
        .validate()
        .map_err(|e| ConfigError::InvalidExternalRater(e.to_string()))?;
    let secret = secrets::RaterSecret {
        url: rater.url.clone(),
        headers: rater.headers.clone(),
    };
    let secret_ref = if keep {
        secrets
            .put(store, tenant, &secret)
            .map_err(|e| ConfigError::SecretArea(e.to_string()))?
    } else {
        secrets.reference(&secret)
    };
    let redacted = rater.redacted();
    Ok(ConfigCommand::RegisterExternalRater(RaterRegistration {
        name: rater.name.clone(),
        url: redacted.url,
        header_names: redacted.header_names,
        timeout_ms: rater.timeout_ms,
        secret_ref,
    }))
}
