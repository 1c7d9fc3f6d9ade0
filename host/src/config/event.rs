//! The configuration events of a tenant's log: who changed which plugin,
//! rate table, active version or external rater, and when.

use crate::rating::AppliesTo;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A configuration change, as recorded.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ConfigEvent {
    PluginUploaded {
        name: String,
        version: String,
        component_sha256: String,
        size_bytes: u64,
        world: String,
        wit_version: String,
        instance_policy: String,
        by: String,
        at: DateTime<Utc>,
    },
    RateTableAttached {
        name: String,
        version: String,
        table: String,
        sha256: String,
        by: String,
        at: DateTime<Utc>,
    },
    /// `version` is active from `from` on (the day it was activated, or a
    /// later day it was scheduled for).
    VersionActivated {
        name: String,
        version: String,
        from: NaiveDate,
        /// True when it was scheduled ahead rather than activated at once.
        scheduled: bool,
        /// The kinds of term it rates (both when absent: events recorded
        /// before schedules had scopes).
        #[serde(default)]
        applies_to: AppliesTo,
        by: String,
        at: DateTime<Utc>,
    },
    ExternalRaterRegistered {
        name: String,
        /// 1 for the first registration under the name, then 2, 3, ...
        revision: u32,
        url: String,
        header_names: Vec<String>,
        timeout_ms: u64,
        secret_ref: String,
        by: String,
        at: DateTime<Utc>,
    },
}

impl ConfigEvent {
    /// The stable kind stored with the event.
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigEvent::PluginUploaded { .. } => "plugin_uploaded",
            ConfigEvent::RateTableAttached { .. } => "rate_table_attached",
            ConfigEvent::VersionActivated {
                scheduled: false, ..
            } => "plugin_version_activated",
            ConfigEvent::VersionActivated {
                scheduled: true, ..
            } => "plugin_version_scheduled",
            ConfigEvent::ExternalRaterRegistered { .. } => "external_rater_registered",
        }
    }

    /// The stream of the event: `plugin/<name>` or `external-rater/<name>`.
    pub fn stream(&self) -> String {
        match self {
            ConfigEvent::PluginUploaded { name, .. }
            | ConfigEvent::RateTableAttached { name, .. }
            | ConfigEvent::VersionActivated { name, .. } => format!("plugin/{name}"),
            ConfigEvent::ExternalRaterRegistered { name, .. } => format!("external-rater/{name}"),
        }
    }
}
