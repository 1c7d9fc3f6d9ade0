//! Why booting (opening a data directory or store, loading the demo,
//! creating a tenant, serving) failed.

use crate::engine::{EngineError, KeyRingError};
use crate::plugin::PluginError;
use crate::store::StoreError;
use std::path::PathBuf;

/// Why booting failed.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("opening the PostgreSQL store: {0}")]
    Postgres(StoreError),
    #[error("--store {0:?}: use `sled` or a postgres:// URL")]
    UnknownStore(String),
    #[error("the plugin runtime: {0}")]
    Plugins(#[from] PluginError),
    #[error("rebuilding tenants from their logs: {0}")]
    Engine(#[from] EngineError),
    #[error("API keys: {0}")]
    Keys(#[from] KeyRingError),
    #[error("{what} of {tenant}: {detail}")]
    Configuration {
        what: &'static str,
        tenant: String,
        detail: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: build the example plugins first (scripts/demo.sh does)", path.display())]
    DemoPlugin {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tenant {0:?}: use 1-32 lower-case letters, digits or '-'")]
    InvalidTenant(String),
    #[error("tenant {0} already exists")]
    TenantExists(String),
    #[error(transparent)]
    Serve(#[from] crate::api::server::ServeError),
    #[error("a start-up task failed: {0}")]
    Task(String),
}

impl BootError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BootError {
        let path = path.into();
        move |source| BootError::Io { path, source }
    }
}
