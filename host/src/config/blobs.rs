//! The bytes configuration commands name, kept in the store's blob area
//! under their content hash before the command runs: plugin components and
//! rate tables. A blob no event names (a command refused after its bytes
//! were stored) is harmless: nothing reads it.

use crate::domain::ErrorKind;
use crate::plugin::{InstancePolicy, PluginError, PluginRuntime, content_sha256};
use crate::store::{Store, StoreError};
use premia_plugin_sdk::tables::{RateTable, RateTables};
use std::collections::BTreeMap;

/// Plugin components, by the SHA-256 of their bytes.
pub const COMPONENTS_NAMESPACE: &str = "plugin-components";
/// Rate tables (CSV), by the SHA-256 of their bytes.
pub const TABLES_NAMESPACE: &str = "rate-tables";

/// Most idle instances one plugin may keep (they share the runtime's slots).
pub const POOLED_INSTANCES_MAX: u32 = 8;

/// Why an upload's bytes were refused before any command ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error("the component is not compatible: {0}")]
    Incompatible(String),
    #[error("invalid instance policy: {0}")]
    InstancePolicy(String),
    #[error("invalid table: {0}")]
    Table(String),
    #[error("the configuration could not be stored: {0}")]
    Store(#[from] StoreError),
    #[error("{0} is missing from the store")]
    Missing(String),
}

impl BlobError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            BlobError::Plugin(error) => error.code(),
            BlobError::Incompatible(_) => "plugin_incompatible",
            BlobError::InstancePolicy(_) => "invalid_instance_policy",
            BlobError::Table(_) => "invalid_table",
            BlobError::Store(_) => "store_unavailable",
            BlobError::Missing(_) => "internal",
        }
    }

    /// How the refusal is answered: the bytes are what is wrong (whatever
    /// the runtime found when it compiled them), unless they are too large,
    /// name no plugin, or could not be kept or found in the store.
    pub fn kind(&self) -> ErrorKind {
        match self {
            BlobError::Plugin(error) => upload_kind(error),
            BlobError::Incompatible(_) | BlobError::InstancePolicy(_) | BlobError::Table(_) => {
                ErrorKind::Invalid
            }
            BlobError::Store(_) => ErrorKind::Unavailable,
            BlobError::Missing(_) => ErrorKind::Internal,
        }
    }
}

/// How the plugin runtime refusing uploaded component bytes (compiling,
/// inspecting or registering them) is answered: as bytes that will not do,
/// whatever failed, unless too large or naming no plugin.
pub fn upload_kind(error: &PluginError) -> ErrorKind {
    match error {
        PluginError::TooLarge { .. } => ErrorKind::TooLarge,
        PluginError::UnknownPlugin(_) => ErrorKind::NotFound,
        PluginError::OutOfFuel { .. }
        | PluginError::Deadline { .. }
        | PluginError::MemoryLimit { .. }
        | PluginError::StackOverflow { .. }
        | PluginError::Trap { .. }
        | PluginError::InputTooLarge { .. }
        | PluginError::OutputTooLarge { .. }
        | PluginError::InvalidOutput { .. }
        | PluginError::Declined { .. }
        | PluginError::InvalidInput { .. }
        | PluginError::Incompatible(_)
        | PluginError::WrongWorld { .. }
        | PluginError::Unavailable { .. }
        | PluginError::Quarantined { .. }
        | PluginError::QuarantineStarved { .. } => ErrorKind::Invalid,
    }
}

/// A validated component, stored: what its upload command records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredComponent {
    pub sha256: String,
    pub size_bytes: u64,
    pub world: String,
    pub wit_version: String,
    pub instance_policy: String,
}

/// Parses and bounds an instance policy (`fresh` when none is given).
pub fn instance_policy(text: Option<&str>) -> Result<InstancePolicy, BlobError> {
    let policy = text
        .map(str::parse::<InstancePolicy>)
        .transpose()
        .map_err(|e| BlobError::InstancePolicy(e.to_string()))?
        .unwrap_or(InstancePolicy::Fresh);
    if let InstancePolicy::Pooled { instances_max, .. } = policy
        && instances_max > POOLED_INSTANCES_MAX
    {
        return Err(BlobError::InstancePolicy(format!(
            "a pool keeps at most {POOLED_INSTANCES_MAX} instances"
        )));
    }
    Ok(policy)
}

/// Validates a component (world, WIT version, imports, size; it compiles)
/// and stores it under its hash. Nothing is stored for a bad one.
pub fn store_component(
    runtime: &PluginRuntime,
    store: &dyn Store,
    tenant: &str,
    bytes: &[u8],
    policy: InstancePolicy,
) -> Result<StoredComponent, BlobError> {
    let checked = check_component(runtime, bytes, policy)?;
    store.put_blob(tenant, COMPONENTS_NAMESPACE, &checked.sha256, bytes)?;
    Ok(checked)
}

/// What [`store_component`] records of a component, without storing it (a
/// preview keeps nothing).
pub fn check_component(
    runtime: &PluginRuntime,
    bytes: &[u8],
    policy: InstancePolicy,
) -> Result<StoredComponent, BlobError> {
    let report = runtime.inspect(bytes)?;
    if !report.is_compatible() {
        return Err(BlobError::Incompatible(report.problems.join("; ")));
    }
    // Compiled once here (the runtime caches it by content hash), so every
    // host's registration of the recorded upload is quick.
    runtime.compile(bytes)?;
    let world = report
        .world
        .map(|w| {
            serde_json::to_value(w)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let sha256 = content_sha256(bytes);
    Ok(StoredComponent {
        sha256,
        size_bytes: bytes.len() as u64,
        world,
        wit_version: report.wit_version.unwrap_or_default(),
        instance_policy: policy.to_string(),
    })
}

/// Checks a rate table (UTF-8 CSV) and stores it under its hash.
pub fn store_table(store: &dyn Store, tenant: &str, csv: &[u8]) -> Result<String, BlobError> {
    let sha256 = check_table(csv)?;
    store.put_blob(tenant, TABLES_NAMESPACE, &sha256, csv)?;
    Ok(sha256)
}

/// Checks a rate table (UTF-8 CSV); its hash, nothing stored.
pub fn check_table(csv: &[u8]) -> Result<String, BlobError> {
    let text = std::str::from_utf8(csv)
        .map_err(|_| BlobError::Table("the table is not UTF-8 text".into()))?;
    RateTable::from_csv(text).map_err(|e| BlobError::Table(e.to_string()))?;
    Ok(content_sha256(csv))
}

/// The stored component of `sha256`.
pub fn component(store: &dyn Store, tenant: &str, sha256: &str) -> Result<Vec<u8>, BlobError> {
    store
        .get_blob(tenant, COMPONENTS_NAMESPACE, sha256)?
        .ok_or_else(|| BlobError::Missing(format!("component {sha256}")))
}

/// The stored tables named in `tables` (name to hash).
pub fn tables(
    store: &dyn Store,
    tenant: &str,
    tables: &BTreeMap<String, String>,
) -> Result<RateTables, BlobError> {
    let mut loaded = RateTables::new();
    for (name, sha256) in tables {
        let bytes = store
            .get_blob(tenant, TABLES_NAMESPACE, sha256)?
            .ok_or_else(|| BlobError::Missing(format!("table {name} ({sha256})")))?;
        let table = RateTable::from_csv(&String::from_utf8_lossy(&bytes))
            .map_err(|e| BlobError::Table(e.to_string()))?;
        loaded.insert(name.clone(), table);
    }
    Ok(loaded)
}
