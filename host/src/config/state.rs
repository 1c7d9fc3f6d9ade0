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
use crate::rating::schedule::{self, AppliesTo, RatedFor};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Who recorded a change, and when.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Recorded {
    pub by: String,
    pub at: DateTime<Utc>,
}

/// One uploaded plugin version.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PluginVersion {
    pub version: String,
    pub component_sha256: String,
    pub size_bytes: u64,
    pub world: String,
    pub wit_version: String,
    pub instance_policy: String,
    /// Table name to the SHA-256 of its CSV.
    pub tables: BTreeMap<String, String>,
    /// The version's content hash: its component and its rate tables
    /// together ([`edition_sha256`]), recorded in the audit of every
    /// charge it rates.
    pub edition_sha256: String,
    pub uploaded: Recorded,
}

/// The hash of a plugin version's edition: SHA-256 over its component's
/// hash and each table's name and hash, in name order. Worked example:
/// component `aa` with table `rates` of hash `bb` hashes the text
/// `component aa\ntable rates bb\n`.
pub fn edition_sha256(component_sha256: &str, tables: &BTreeMap<String, String>) -> String {
    use sha2::Digest;
    let mut text = format!("component {component_sha256}\n");
    for (name, sha) in tables {
        text.push_str(&format!("table {name} {sha}\n"));
    }
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// An activation (immediate or scheduled) of a version.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Activation {
    pub version: String,
    pub from: NaiveDate,
    pub scheduled: bool,
    /// The kinds of term it rates.
    pub applies_to: AppliesTo,
    pub recorded: Recorded,
}

/// A plugin name's versions and activations.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PluginHistory {
    pub versions: BTreeMap<String, PluginVersion>,
    /// In the order they were recorded.
    pub activations: Vec<Activation>,
}

impl PluginHistory {
    /// The version rating a term of `kind` whose rating date is `day`
    /// (the rule: [`crate::rating::schedule`]).
    pub fn version_for(&self, day: NaiveDate, kind: RatedFor) -> Option<&str> {
        schedule::version_on(self.dated(), day, kind)
    }

    /// The version in effect for new business on `day`.
    pub fn active_on(&self, day: NaiveDate) -> Option<&str> {
        self.version_for(day, RatedFor::NewBusiness)
    }

    /// The activations as the schedule rule reads them.
    pub fn dated(&self) -> impl Iterator<Item = schedule::Dated<'_>> {
        self.activations.iter().map(|a| schedule::Dated {
            from: a.from,
            applies_to: a.applies_to,
            version: &a.version,
        })
    }
}

/// One registration of an external rater (header names only).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
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
                    applies_to: AppliesTo::All,
                    by,
                    at,
                }])
            }
            ConfigCommand::ScheduleVersion {
                name,
                version,
                from,
                applies_to,
            } => self.schedule(name, version, &[(*from, *applies_to)], by, at, today),
            ConfigCommand::ScheduleVersions {
                name,
                version,
                new_business_from,
                renewals_from,
            } => {
                let days: Vec<(NaiveDate, AppliesTo)> = match (new_business_from, renewals_from) {
                    (None, None) => return Err(ConfigError::ScheduleEmpty),
                    (Some(nb), Some(r)) if nb == r => vec![(*nb, AppliesTo::All)],
                    (nb, r) => nb
                        .map(|d| (d, AppliesTo::NewBusiness))
                        .into_iter()
                        .chain(r.map(|d| (d, AppliesTo::Renewals)))
                        .collect(),
                };
                self.schedule(name, version, &days, by, at, today)
            }
            ConfigCommand::RegisterExternalRater(rater) => self.register(rater, by, at),
        }
    }

    /// The events scheduling `name@version` from each day for its kinds
    /// of term: each day after `today`, and no other version scheduled
    /// from the same day for a common kind (which of the two would rate?).
    fn schedule(
        &self,
        name: &str,
        version: &str,
        days: &[(NaiveDate, AppliesTo)],
        by: String,
        at: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<Vec<ConfigEvent>, ConfigError> {
        self.known_version(name, version)?;
        let mut events = Vec::with_capacity(days.len());
        for &(from, applies_to) in days {
            if from <= today {
                return Err(ConfigError::ScheduleNotInFuture { from, today });
            }
            let clash = self.plugins.get(name).and_then(|history| {
                history.activations.iter().find(|a| {
                    a.from == from && a.version != version && a.applies_to.overlaps(applies_to)
                })
            });
            if let Some(clash) = clash {
                return Err(ConfigError::ScheduleOverlaps {
                    name: name.to_string(),
                    other: clash.version.clone(),
                    from,
                });
            }
            events.push(ConfigEvent::VersionActivated {
                name: name.to_string(),
                version: version.to_string(),
                from,
                scheduled: true,
                applies_to,
                by: by.clone(),
                at,
            });
        }
        Ok(events)
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
                applies_to: AppliesTo::All,
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
                            edition_sha256: edition_sha256(component_sha256, &BTreeMap::new()),
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
                    found.edition_sha256 = edition_sha256(&found.component_sha256, &found.tables);
                }
            }
            ConfigEvent::VersionActivated {
                name,
                version,
                from,
                scheduled,
                applies_to,
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
                    applies_to: *applies_to,
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
