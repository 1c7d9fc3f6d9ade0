//! The configuration commands a tenant sends. The bytes they name (a
//! plugin's component, a rate table, a rater's encrypted header values) are
//! stored before the command runs, each under its content hash or secret
//! reference; the command, and the event it becomes, carry only the hash.

use crate::rating::AppliesTo;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A configuration command (DOMAIN section 9): recorded in the tenant's log
/// with its actor, time and idempotency key like every other command.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum ConfigCommand {
    /// Records an uploaded plugin version (its component is stored under
    /// `component_sha256`). The first version of a name becomes active.
    UploadPlugin(PluginUpload),
    /// Attaches a rate table (stored under `sha256`) to an uploaded version.
    AttachRateTable {
        name: String,
        version: String,
        table: String,
        sha256: String,
    },
    /// Makes an uploaded version the one products naming the plugin without
    /// a version use, from today on.
    ActivateVersion { name: String, version: String },
    /// Makes an uploaded version active from a later day on, for the
    /// kinds of term `applies_to` names (a schedule with different days
    /// for new business and renewals is two commands' worth of events:
    /// see `ScheduleVersions`).
    ScheduleVersion {
        name: String,
        version: String,
        from: NaiveDate,
        #[serde(default)]
        applies_to: AppliesTo,
    },
    /// Makes an uploaded version active for new business from one day and
    /// for renewals from another (either may be absent, not both).
    ScheduleVersions {
        name: String,
        version: String,
        new_business_from: Option<NaiveDate>,
        renewals_from: Option<NaiveDate>,
    },
    /// Registers (or replaces, as a new revision) an external rater. Its
    /// header values are not here: they are encrypted in the secret area
    /// under `secret_ref`.
    RegisterExternalRater(RaterRegistration),
}

/// What an upload records of a validated component.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginUpload {
    pub name: String,
    pub version: String,
    /// SHA-256 of the component bytes (hex): the key of the stored blob.
    pub component_sha256: String,
    pub size_bytes: u64,
    /// `rater` or `invoicer`.
    pub world: String,
    pub wit_version: String,
    /// `fresh` or `pooled:<instances>:<calls per instance>`.
    pub instance_policy: String,
}

/// An external rater's registration without its header values.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaterRegistration {
    pub name: String,
    /// The URL with its query string (if any) replaced by `?<redacted>`
    /// (the whole URL is in the secret area).
    pub url: String,
    pub header_names: Vec<String>,
    pub timeout_ms: u64,
    /// Where the encrypted URL and header values are kept: a keyed digest
    /// of them, so the same values give the same reference (a retry is a
    /// replay) and the reference says nothing about them.
    pub secret_ref: String,
}
