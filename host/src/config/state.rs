//! A tenant's configuration as its log built it: each plugin's versions
//! (hashes, tables, instance policy, who uploaded them and when) and
//! activations, and each external rater's revisions. Commands are decided
//! here, so a preview and a commit give the same events.
//!
//! Which version of a plugin is in effect on a day: of the activations
//! from that day or earlier, the one from the latest day (the later
//! recorded on a tie). Worked example: `rater@1` uploaded on 2026-01-10
//! (active from 2026-01-10), `rater@2` scheduled from 2026-06-01: on
//! 2026-05-31 `rater` means `rater@1`, from 2026-06-01 `rater@2`.

use super::command::{ConfigCommand, PluginUpload, RaterRegistration};
use super::error::ConfigError;
use super::event::ConfigEvent;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Who recorded a change, and when.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub by: String,
    pub at: DateTime<Utc>,
}

/// One uploaded plugin version.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginVersion {
    pub version: String,
    pub component_sha256: String,
    pub size_bytes: u64,
    pub world: String,
    pub wit_version: String,
    pub instance_policy: String,
    /// Table name to the SHA-256 of its CSV.
    pub tables: BTreeMap<String, String>,
    pub uploaded: Recorded,
}

/// An activation (immediate or scheduled) of a version.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activation {
    pub version: String,
    pub from: NaiveDate,
    pub scheduled: bool,
    pub recorded: Recorded,
}

/// A plugin name's versions and activations.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PluginHistory {
    pub versions: BTreeMap<String, PluginVersion>,
    /// In the order they were recorded.
    pub activations: Vec<Activation>,
}

impl PluginHistory {
    /// The version in effect on `day` (see the module documentation).
    pub fn active_on(&self, day: NaiveDate) -> Option<&str> {
        self.activations
            .iter()
            .enumerate()
            .filter(|(_, a)| a.from <= day)
            .max_by_key(|(index, a)| (a.from, *index))
            .map(|(_, a)| a.version.as_str())
    }
}

/// One registration of an external rater (header names only).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RaterRevision {
    pub revision: u32,
    pub url: String,
    pub header_names: Vec<String>,
    pub timeout_ms: u64,
    #[serde(skip)]
    pub secret_ref: String,
    pub recorded: Recorded,
}

/// A tenant's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigState {
    pub plugins: BTreeMap<String, PluginHistory>,
    pub raters: BTreeMap<String, Vec<RaterRevision>>,
    /// How many configuration events were applied: a host re-applies the
    /// configuration to its runtime when this moves.
    pub generation: u64,
}

/// Names and versions of plugins and tables: 1-64 letters, digits, '-',
/// '_' or '.'.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn check(what: &'static str, s: &str) -> Result<(), ConfigError> {
    if valid_name(s) {
        Ok(())
    } else {
        Err(ConfigError::InvalidName { what })
    }
}

impl ConfigState {
    /// The uploaded version `name@version`.
    pub fn version(&self, name: &str, version: &str) -> Option<&PluginVersion> {
        self.plugins.get(name)?.versions.get(version)
    }

    fn known_version(&self, name: &str, version: &str) -> Result<&PluginVersion, ConfigError> {
        self.version(name, version)
            .ok_or_else(|| ConfigError::UnknownVersion {
                name: name.to_string(),
                version: version.to_string(),
            })
    }

    /// The events of `command`, sent by `by` at `at`; `today` is the
    /// tenant's today (its test clock, or the UTC date of `at`).
    pub fn decide(
        &self,
        command: &ConfigCommand,
        by: &str,
        at: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Vec<ConfigEvent>, ConfigError> {
        let by = by.to_string();
        match command {
            ConfigCommand::UploadPlugin(upload) => self.upload(upload, by, at, today),
            ConfigCommand::AttachRateTable {
                name,
                version,
                table,
                sha256,
            } => {
                check("table", table)?;
                let found = self.known_version(name, version)?;
                if found.tables.contains_key(table) {
                    return Err(ConfigError::TableExists {
                        name: name.clone(),
                        version: version.clone(),
                        table: table.clone(),
                    });
                }
                Ok(vec![ConfigEvent::RateTableAttached {
                    name: name.clone(),
                    version: version.clone(),
                    table: table.clone(),
                    sha256: sha256.clone(),
                    by,
                    at,
                }])
            }
            ConfigCommand::ActivateVersion { name, version } => {
                self.known_version(name, version)?;
                Ok(vec![ConfigEvent::VersionActivated {
                    name: name.clone(),
                    version: version.clone(),
                    from: today,
                    scheduled: false,
                    by,
                    at,
                }])
            }
            ConfigCommand::ScheduleVersion {
                name,
                version,
                from,
            } => {
                self.known_version(name, version)?;
                if *from <= today {
                    return Err(ConfigError::ScheduleNotInFuture { from: *from, today });
                }
                Ok(vec![ConfigEvent::VersionActivated {
                    name: name.clone(),
                    version: version.clone(),
                    from: *from,
                    scheduled: true,
                    by,
                    at,
                }])
            }
            ConfigCommand::RegisterExternalRater(rater) => self.register(rater, by, at),
        }
    }

    fn upload(
        &self,
        upload: &PluginUpload,
        by: String,
        at: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Vec<ConfigEvent>, ConfigError> {
        check("name and version", &upload.name)?;
        check("name and version", &upload.version)?;
        upload
            .instance_policy
            .parse::<crate::plugin::InstancePolicy>()
            .map_err(|e| ConfigError::InvalidInstancePolicy(e.to_string()))?;
        if self.version(&upload.name, &upload.version).is_some() {
            return Err(ConfigError::VersionExists {
                name: upload.name.clone(),
                version: upload.version.clone(),
            });
        }
        let mut events = vec![ConfigEvent::PluginUploaded {
            name: upload.name.clone(),
            version: upload.version.clone(),
            component_sha256: upload.component_sha256.clone(),
            size_bytes: upload.size_bytes,
            world: upload.world.clone(),
            wit_version: upload.wit_version.clone(),
            instance_policy: upload.instance_policy.clone(),
            by: by.clone(),
            at,
        }];
        // The first version of a name becomes its active version.
        let first = self
            .plugins
            .get(&upload.name)
            .is_none_or(|p| p.activations.is_empty());
        if first {
            events.push(ConfigEvent::VersionActivated {
                name: upload.name.clone(),
                version: upload.version.clone(),
                from: today,
                scheduled: false,
                by,
                at,
            });
        }
        Ok(events)
    }

    fn register(
        &self,
        rater: &RaterRegistration,
        by: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<ConfigEvent>, ConfigError> {
        let name_chars = rater.name.chars().count();
        if name_chars == 0 || name_chars > 64 || rater.name.chars().any(char::is_control) {
            return Err(ConfigError::InvalidExternalRater(
                "a name is 1 to 64 characters".into(),
            ));
        }
        let revision = self.raters.get(&rater.name).map_or(0, Vec::len) as u32 + 1;
        Ok(vec![ConfigEvent::ExternalRaterRegistered {
            name: rater.name.clone(),
            revision,
            url: rater.url.clone(),
            header_names: rater.header_names.clone(),
            timeout_ms: rater.timeout_ms,
            secret_ref: rater.secret_ref.clone(),
            by,
            at,
        }])
    }

    /// Applies a recorded event.
    pub fn apply(&mut self, event: &ConfigEvent) {
        self.generation += 1;
        match event {
            ConfigEvent::PluginUploaded {
                name,
                version,
                component_sha256,
                size_bytes,
                world,
                wit_version,
                instance_policy,
                by,
                at,
            } => {
                self.plugins
                    .entry(name.clone())
                    .or_default()
                    .versions
                    .insert(
                        version.clone(),
                        PluginVersion {
                            version: version.clone(),
                            component_sha256: component_sha256.clone(),
                            size_bytes: *size_bytes,
                            world: world.clone(),
                            wit_version: wit_version.clone(),
                            instance_policy: instance_policy.clone(),
                            tables: BTreeMap::new(),
                            uploaded: Recorded {
                                by: by.clone(),
                                at: *at,
                            },
                        },
                    );
            }
            ConfigEvent::RateTableAttached {
                name,
                version,
                table,
                sha256,
                ..
            } => {
                if let Some(found) = self
                    .plugins
                    .get_mut(name)
                    .and_then(|p| p.versions.get_mut(version))
                {
                    found.tables.insert(table.clone(), sha256.clone());
                }
            }
            ConfigEvent::VersionActivated {
                name,
                version,
                from,
                scheduled,
                by,
                at,
            } => self
                .plugins
                .entry(name.clone())
                .or_default()
                .activations
                .push(Activation {
                    version: version.clone(),
                    from: *from,
                    scheduled: *scheduled,
                    recorded: Recorded {
                        by: by.clone(),
                        at: *at,
                    },
                }),
            ConfigEvent::ExternalRaterRegistered {
                name,
                revision,
                url,
                header_names,
                timeout_ms,
                secret_ref,
                by,
                at,
            } => self
                .raters
                .entry(name.clone())
                .or_default()
                .push(RaterRevision {
                    revision: *revision,
                    url: url.clone(),
                    header_names: header_names.clone(),
                    timeout_ms: *timeout_ms,
                    secret_ref: secret_ref.clone(),
                    recorded: Recorded {
                        by: by.clone(),
                        at: *at,
                    },
                }),
        }
    }
}
