//! Configuration work the engine does for its host, through the same
//! commands as the API: carrying what a previous release kept in blobs into
//! the log at start-up ([`crate::config::upgrade`]), and uploading a plugin
//! with its rate tables (the demo tenant).

use super::command::EngineCommand;
use super::service::{Engine, RequestMeta};
use super::state::EngineError;
use crate::config::secrets::SecretBox;
use crate::config::{ConfigCommand, ConfigError, PluginUpload, blobs, upgrade};
use crate::plugin::{InstancePolicy, PluginRuntime};

/// Meta of a command the host sends itself.
fn meta(actor: &str, key: String) -> RequestMeta {
    RequestMeta {
        actor: actor.to_string(),
        issued_at: chrono::Utc::now(),
        idempotency_key: Some(key),
        arithmetic: crate::billing::Arithmetic::Written,
    }
}

fn bytes_error(error: blobs::BlobError) -> EngineError {
    EngineError::Config(ConfigError::Bytes(error))
}

impl Engine {
    /// Carries `tenant`'s configuration blobs of the previous release into
    /// its log (once: fixed keys replay), then removes them. Returns how
    /// many commands it ran.
    pub fn carry_legacy_config(
        &self,
        tenant: &str,
        runtime: &PluginRuntime,
        secrets: &SecretBox,
    ) -> Result<usize, EngineError> {
        let config = self.read(tenant, |s| s.config.clone())?;
        let store = self.store().as_ref();
        let commands = upgrade::legacy_commands(store, runtime, secrets, tenant, &config)
            .map_err(bytes_error)?;
        let carried = commands.len();
        for (key, command) in commands {
            self.execute(
                tenant,
                &EngineCommand::Config(command),
                &meta(upgrade::UPGRADE_ACTOR, key),
            )?;
        }
        upgrade::remove_legacy(store, tenant).map_err(|e| EngineError::Store(e.to_string()))?;
        if carried > 0 {
            tracing::info!(%tenant, carried, "configuration carried from blobs into the log");
        }
        Ok(carried)
    }

    /// Uploads `name@version` (validated, stored by hash) and attaches
    /// `tables` (name, CSV), as `actor`, under keys `<actor>/<id>[/<table>]`.
    /// What the tenant already has (the version, a table) is left as it is,
    /// so loading the demo again changes nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn upload_plugin_with_tables(
        &self,
        tenant: &str,
        runtime: &PluginRuntime,
        name: &str,
        version: &str,
        component: &[u8],
        tables: &[(String, Vec<u8>)],
        actor: &str,
    ) -> Result<(), EngineError> {
        let store = self.store().as_ref();
        let stored =
            blobs::store_component(runtime, store, tenant, component, InstancePolicy::Fresh)
                .map_err(bytes_error)?;
        let id = format!("{name}@{version}");
        let upload = ConfigCommand::UploadPlugin(PluginUpload {
            name: name.into(),
            version: version.into(),
            component_sha256: stored.sha256,
            size_bytes: stored.size_bytes,
            world: stored.world,
            wit_version: stored.wit_version,
            instance_policy: stored.instance_policy,
        });
        self.execute(
            tenant,
            &upload.into(),
            &meta(actor, format!("{actor}/{id}")),
        )?;
        for (table, csv) in tables {
            let sha256 = blobs::store_table(store, tenant, csv).map_err(bytes_error)?;
            let attach = ConfigCommand::AttachRateTable {
                name: name.into(),
                version: version.into(),
                table: table.clone(),
                sha256,
            };
            self.execute(
                tenant,
                &attach.into(),
                &meta(actor, format!("{actor}/{id}/{table}")),
            )?;
        }
        Ok(())
    }
}
