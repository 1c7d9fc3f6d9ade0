//! Puts a tenant's configuration, as its log built it, in use on this host:
//! plugins registered in the runtime (component and tables read from the
//! blob area by hash), each name's activation timeline, and each external
//! rater's latest revision (header values decrypted from the secret area).
//!
//! The engine calls [`ConfigSink::apply`] whenever a tenant's configuration
//! moved: after a command of this host, after catching up with another
//! host's events, and after a rebuild. So a change made through one host
//! takes effect on another within its next catch-up, with no thread and no
//! restart. What is already in use is left alone (a plugin is registered
//! again only if its hash, tables or instance policy changed).

use super::blobs;
use super::directory::RaterDirectory;
use super::names::qualified;
use super::state::ConfigState;
use crate::plugin::InstancePolicy;
use crate::rating::{ExternalRater, ExternalRaterConfig};
use crate::store::Store;
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Where the engine hands a tenant's configuration after it moved, with
/// the tenant's own today when it is a test tenant (its clock: the day its
/// plugin versions are chosen for).
pub trait ConfigSink: Send + Sync {
    fn apply(&self, tenant: &str, config: &ConfigState, test_today: Option<NaiveDate>);
}

/// A sink that puts nothing in use (engines without plugins or raters).
#[derive(Debug, Default)]
pub struct NoConfigSink;

impl ConfigSink for NoConfigSink {
    fn apply(&self, _tenant: &str, _config: &ConfigState, _test_today: Option<NaiveDate>) {}
}

/// What is in use of one plugin version: hash, tables and instance policy.
type InUse = (String, BTreeMap<String, String>, String);

/// The sink of a host: registers into its [`RaterDirectory`].
pub struct HostConfig {
    store: Arc<dyn Store>,
    directory: Arc<RaterDirectory>,
    plugins: Mutex<HashMap<String, InUse>>,
    raters: Mutex<HashMap<String, u32>>,
}

impl HostConfig {
    pub fn new(store: Arc<dyn Store>, directory: Arc<RaterDirectory>) -> Self {
        HostConfig {
            store,
            directory,
            plugins: Mutex::default(),
            raters: Mutex::default(),
        }
    }

    fn register_plugin(
        &self,
        tenant: &str,
        name: &str,
        version: &super::state::PluginVersion,
    ) -> Result<(), blobs::BlobError> {
        let bytes = blobs::component(self.store.as_ref(), tenant, &version.component_sha256)?;
        let tables = blobs::tables(self.store.as_ref(), tenant, &version.tables)?;
        let policy = version
            .instance_policy
            .parse::<InstancePolicy>()
            .unwrap_or(InstancePolicy::Fresh);
        self.directory.plugins.register_with_policy(
            &qualified(tenant, name),
            &version.version,
            &bytes,
            tables,
            policy,
        )?;
        self.directory.plugins.set_edition(
            &format!("{}@{}", qualified(tenant, name), version.version),
            &version.edition_sha256,
        );
        Ok(())
    }

    fn install_rater(
        &self,
        tenant: &str,
        name: &str,
        revision: &super::state::RaterRevision,
    ) -> Result<(), String> {
        let secret = self
            .directory
            .secrets
            .get(self.store.as_ref(), tenant, &revision.secret_ref)
            .map_err(|e| e.to_string())?;
        let config = ExternalRaterConfig {
            name: qualified(tenant, name),
            url: secret.url,
            headers: secret.headers,
            timeout_ms: revision.timeout_ms,
        };
        let rater = ExternalRater::new(&config).map_err(|e| e.to_string())?;
        self.directory
            .external
            .write()
            .expect("external raters lock")
            .insert(config.name, Arc::new(rater));
        Ok(())
    }
}

impl std::fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostConfig")
    }
}

impl ConfigSink for HostConfig {
    fn apply(&self, tenant: &str, config: &ConfigState, test_today: Option<NaiveDate>) {
        self.directory.active.set_today(tenant, test_today);
        for (name, history) in &config.plugins {
            for version in history.versions.values() {
                let id = qualified(tenant, &format!("{name}@{}", version.version));
                let wanted: InUse = (
                    version.component_sha256.clone(),
                    version.tables.clone(),
                    version.instance_policy.clone(),
                );
                if self.plugins.lock().expect("in use lock").get(&id) == Some(&wanted) {
                    continue;
                }
                match self.register_plugin(tenant, name, version) {
                    Ok(()) => {
                        self.plugins.lock().expect("in use lock").insert(id, wanted);
                    }
                    Err(error) => {
                        tracing::warn!(%tenant, plugin = %id, %error, "a recorded plugin did not load")
                    }
                }
            }
            let timeline = history
                .activations
                .iter()
                .map(|a| (a.from, a.applies_to, a.version.clone()))
                .collect();
            self.directory
                .active
                .set_timeline(&qualified(tenant, name), timeline);
        }
        for (name, revisions) in &config.raters {
            let Some(latest) = revisions.last() else {
                continue;
            };
            let key = qualified(tenant, name);
            if self.raters.lock().expect("in use lock").get(&key) == Some(&latest.revision) {
                continue;
            }
            match self.install_rater(tenant, name, latest) {
                Ok(()) => {
                    self.raters
                        .lock()
                        .expect("in use lock")
                        .insert(key, latest.revision);
                }
                // The error names no header value.
                Err(error) => {
                    tracing::warn!(%tenant, rater = %name, %error, "a recorded external rater did not load")
                }
            }
        }
    }
}
