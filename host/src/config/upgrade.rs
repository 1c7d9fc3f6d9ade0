//! The upgrade from releases that kept configuration in blobs (plugins,
//! their tables, instance policies and active versions, external raters
//! with their header values in clear) instead of events. At start-up each
//! tenant's old blobs become configuration commands, run once through the
//! engine under fixed idempotency keys (`upgrade/...`, so a start-up
//! interrupted half-way replays what it already did), then the old blobs
//! are removed: rater header values then live only in the secret area,
//! encrypted.

use super::blobs::{self, BlobError};
use super::command::{ConfigCommand, PluginUpload};
use super::secrets::{RaterSecret, SecretBox};
use super::state::ConfigState;
use crate::plugin::PluginRuntime;
use crate::rating::ExternalRaterConfig;
use crate::store::{Store, StoreError};

/// The old release's namespaces: components by `name@version`.
pub const LEGACY_PLUGINS: &str = "plugins";
/// Tables by `name@version/table`.
pub const LEGACY_TABLES: &str = "plugin-tables";
/// Instance policies by `name@version`.
pub const LEGACY_POLICIES: &str = "plugin-policy";
/// Active versions by name.
pub const LEGACY_ACTIVE: &str = "plugin-active";
/// External raters (JSON with header values in clear) by name.
pub const LEGACY_RATERS: &str = "external-raters";
/// Every namespace the upgrade empties, the generation token and the
/// configuration requests' stored answers included.
pub const LEGACY_NAMESPACES: [&str; 7] = [
    LEGACY_PLUGINS,
    LEGACY_TABLES,
    LEGACY_POLICIES,
    LEGACY_ACTIVE,
    LEGACY_RATERS,
    "config",
    "config-idempotency",
];
/// The actor the carried commands are recorded with.
pub const UPGRADE_ACTOR: &str = "premia:upgrade";

fn text(
    store: &dyn Store,
    tenant: &str,
    namespace: &str,
    key: &str,
) -> Result<Option<String>, StoreError> {
    Ok(store
        .get_blob(tenant, namespace, key)?
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string()))
}

/// The commands (with their idempotency keys) that carry `tenant`'s old
/// blobs into its log; what `config` already holds is left out. The bytes
/// they name are stored first, by hash and in the secret area.
pub fn legacy_commands(
    store: &dyn Store,
    runtime: &PluginRuntime,
    secrets: &SecretBox,
    tenant: &str,
    config: &ConfigState,
) -> Result<Vec<(String, ConfigCommand)>, BlobError> {
    let mut commands = Vec::new();
    let table_keys = store.list_blobs(tenant, LEGACY_TABLES)?;
    for id in store.list_blobs(tenant, LEGACY_PLUGINS)? {
        let Some((name, version)) = id.split_once('@') else {
            continue;
        };
        if config.version(name, version).is_none() {
            let bytes = store
                .get_blob(tenant, LEGACY_PLUGINS, &id)?
                .ok_or_else(|| BlobError::Missing(id.clone()))?;
            let policy = text(store, tenant, LEGACY_POLICIES, &id)?;
            let policy = blobs::instance_policy(policy.as_deref())?;
            let stored = blobs::store_component(runtime, store, tenant, &bytes, policy)?;
            commands.push((
                format!("upgrade/plugin/{id}"),
                ConfigCommand::UploadPlugin(PluginUpload {
                    name: name.to_string(),
                    version: version.to_string(),
                    component_sha256: stored.sha256,
                    size_bytes: stored.size_bytes,
                    world: stored.world,
                    wit_version: stored.wit_version,
                    instance_policy: stored.instance_policy,
                }),
            ));
        }
        let prefix = format!("{id}/");
        for key in table_keys.iter().filter(|k| k.starts_with(&prefix)) {
            let table = &key[prefix.len()..];
            if config
                .version(name, version)
                .is_some_and(|v| v.tables.contains_key(table))
            {
                continue;
            }
            let csv = store
                .get_blob(tenant, LEGACY_TABLES, key)?
                .ok_or_else(|| BlobError::Missing(key.clone()))?;
            let sha256 = blobs::store_table(store, tenant, &csv)?;
            commands.push((
                format!("upgrade/table/{key}"),
                ConfigCommand::AttachRateTable {
                    name: name.to_string(),
                    version: version.to_string(),
                    table: table.to_string(),
                    sha256,
                },
            ));
        }
    }
    // The version each name had active (the first upload of a name
    // activates it; another one is activated again).
    for name in store.list_blobs(tenant, LEGACY_ACTIVE)? {
        let Some(version) = text(store, tenant, LEGACY_ACTIVE, &name)? else {
            continue;
        };
        let first_uploaded = store
            .list_blobs(tenant, LEGACY_PLUGINS)?
            .into_iter()
            .find_map(|id| id.strip_prefix(&format!("{name}@")).map(str::to_string));
        let already = config
            .plugins
            .get(&name)
            .and_then(|p| p.activations.last())
            .map(|a| a.version.clone())
            .or(first_uploaded);
        if already.as_deref() != Some(version.as_str()) {
            commands.push((
                format!("upgrade/active/{name}/{version}"),
                ConfigCommand::ActivateVersion { name, version },
            ));
        }
    }
    for name in store.list_blobs(tenant, LEGACY_RATERS)? {
        if config.raters.contains_key(&name) {
            continue;
        }
        let Some(bytes) = store.get_blob(tenant, LEGACY_RATERS, &name)? else {
            continue;
        };
        let Ok(rater) = serde_json::from_slice::<ExternalRaterConfig>(&bytes) else {
            tracing::warn!(%tenant, rater = %name, "an old external rater could not be read; left out");
            continue;
        };
        let secret = RaterSecret {
            url: rater.url.clone(),
            headers: rater.headers.clone(),
        };
        let secret_ref = secrets
            .put(store, tenant, &secret)
            .map_err(|e| BlobError::Missing(format!("the secret area: {e}")))?;
        let redacted = rater.redacted();
        commands.push((
            format!("upgrade/rater/{name}"),
            ConfigCommand::RegisterExternalRater(super::command::RaterRegistration {
                name: rater.name.clone(),
                url: redacted.url,
                header_names: redacted.header_names,
                timeout_ms: rater.timeout_ms,
                secret_ref,
            }),
        ));
    }
    Ok(commands)
}

/// Removes the old release's blobs of `tenant` (after its commands ran).
pub fn remove_legacy(store: &dyn Store, tenant: &str) -> Result<(), StoreError> {
    for namespace in LEGACY_NAMESPACES {
        for key in store.list_blobs(tenant, namespace)? {
            store.delete_blob(tenant, namespace, &key)?;
        }
    }
    Ok(())
}
