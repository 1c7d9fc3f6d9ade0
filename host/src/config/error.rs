//! Why a configuration command was refused. Every variant has a stable code
//! (the API's problem `code`) and says which [`ErrorKind`] it is (the API's
//! HTTP status).

use super::blobs::BlobError;
use crate::domain::ErrorKind;
use chrono::NaiveDate;

/// A refused configuration command: nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{what}: 1-64 letters, digits, '-', '_' or '.'")]
    InvalidName { what: &'static str },
    #[error("no plugin {name}@{version}")]
    UnknownVersion { name: String, version: String },
    #[error(
        "{name}@{version} is already uploaded with other bytes; a new component means a new version"
    )]
    VersionExists { name: String, version: String },
    #[error(
        "{name}@{version} already has a table {table} with other rows; a new rate table means a new version"
    )]
    TableExists {
        name: String,
        version: String,
        table: String,
    },
    #[error("a version is scheduled from a later day than today ({today}), not from {from}")]
    ScheduleNotInFuture { from: NaiveDate, today: NaiveDate },
    #[error(
        "{name}@{other} is already scheduled from {from} for the same kind of term; one version takes effect on a day"
    )]
    ScheduleOverlaps {
        name: String,
        other: String,
        from: NaiveDate,
    },
    #[error("a schedule names a day for new business, for renewals, or both")]
    ScheduleEmpty,
    #[error(
        "{name}@{version} has rated policy terms; its tables are fixed (a new rate table means a new version)"
    )]
    VersionInUse { name: String, version: String },
    #[error("invalid instance policy: {0}")]
    InvalidInstancePolicy(String),
    #[error("invalid external rater: {0}")]
    InvalidExternalRater(String),
    #[error("no external rater {0}")]
    UnknownExternalRater(String),
    #[error("the secret area could not be written: {0}")]
    SecretArea(String),
    /// The bytes a command names (a component, a table) were refused or
    /// could not be kept.
    #[error(transparent)]
    Bytes(#[from] BlobError),
}

impl ConfigError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::InvalidName { .. } => "invalid_plugin_name",
            ConfigError::UnknownVersion { .. } => "plugin_version_unknown",
            ConfigError::VersionExists { .. } => "plugin_version_exists",
            ConfigError::TableExists { .. } => "plugin_version_immutable",
            ConfigError::ScheduleNotInFuture { .. } => "schedule_not_in_future",
            ConfigError::ScheduleOverlaps { .. } => "schedule_overlaps",
            ConfigError::ScheduleEmpty => "invalid_schedule",
            ConfigError::VersionInUse { .. } => "plugin_version_immutable",
            ConfigError::InvalidInstancePolicy(_) => "invalid_instance_policy",
            ConfigError::InvalidExternalRater(_) => "invalid_external_rater",
            ConfigError::UnknownExternalRater(_) => "external_rater_unknown",
            ConfigError::SecretArea(_) => "store_unavailable",
            ConfigError::Bytes(error) => error.code(),
        }
    }

    /// Whether the request names something that does not exist, is in
    /// conflict with what exists, is invalid, or could not be kept now.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ConfigError::UnknownVersion { .. } | ConfigError::UnknownExternalRater(_) => {
                ErrorKind::NotFound
            }
            ConfigError::VersionExists { .. }
            | ConfigError::TableExists { .. }
            | ConfigError::ScheduleOverlaps { .. }
            | ConfigError::VersionInUse { .. } => ErrorKind::Conflict,
            ConfigError::SecretArea(_) => ErrorKind::Unavailable,
            ConfigError::InvalidName { .. }
            | ConfigError::ScheduleNotInFuture { .. }
            | ConfigError::ScheduleEmpty
            | ConfigError::InvalidInstancePolicy(_)
            | ConfigError::InvalidExternalRater(_) => ErrorKind::Invalid,
            ConfigError::Bytes(error) => error.kind(),
        }
    }
}
