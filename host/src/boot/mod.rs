//! The composition root: opens the event store (sled in the data
//! directory, or PostgreSQL with `--store postgres://...`), builds the plugin
//! runtime, the rater directory and the engine, re-registers every tenant's
//! plugins and raters, loads the demo tenant on first run, and hands the
//! booted state to the API to serve. The CLI calls here; `api` only
//! translates HTTP over a state booted here (`cli -> boot -> api`).

mod demo;
mod error;
mod tenant;

pub use demo::{DEMO_TENANT, DemoFiles, demo_product, load_demo, load_demo_as};
pub use error::BootError;
pub use tenant::{create_tenant, create_tenant_on, make_test_tenant, make_test_tenant_on};

use crate::api::state::{AppState, RaterDirectory};
use crate::config::{HostConfig, secrets::SecretBox};
use crate::engine::{Engine, KeyRing, SYSTEM_TENANT};
use crate::plugin::{PluginLimits, PluginRuntime};
use crate::store::{PgStore, SledStore, Store};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Opens the state over a store: keys, plugin runtime (with the artifact
/// cache in `artifacts`, if given), every stored plugin, the engine.
pub fn open_state(
    store: Arc<dyn Store>,
    artifacts: Option<&Path>,
    limits: PluginLimits,
) -> Result<AppState, BootError> {
    let mut runtime = PluginRuntime::new(limits)?;
    if let Some(dir) = artifacts {
        runtime = runtime.with_artifact_dir(dir)?;
    }
    let runtime = Arc::new(runtime);
    // The secret key lives in the data directory (beside `artifacts/`), or
    // in the environment.
    let secrets = SecretBox::load(artifacts.and_then(Path::parent)).map_err(|e| {
        BootError::Configuration {
            what: "loading the secret key",
            tenant: "every tenant".into(),
            detail: e.to_string(),
        }
    })?;
    let raters = Arc::new(RaterDirectory::with_secrets(Arc::clone(&runtime), secrets));
    let adjuster = Arc::new(
        crate::engine::PluginInvoiceAdjuster::new(runtime)
            .with_active_versions(Arc::clone(&raters.active)),
    );
    // Each tenant's configuration events put its plugins and raters in use
    // on this host, now and whenever they move (a command, a catch-up).
    let sink = Arc::new(HostConfig::new(Arc::clone(&store), Arc::clone(&raters)));
    let engine = Arc::new(
        Engine::open(Arc::clone(&store), raters.clone())?
            .with_invoice_adjuster(adjuster)
            .with_config_sink(sink),
    );
    // Rating calls of products with a challenger are also sent to it, after
    // their command was answered (shadow rating).
    Engine::start_shadow_rating(&engine);
    let keys = KeyRing::open(Arc::clone(&engine))?;
    let state = AppState {
        engine,
        raters,
        keys,
        store: Arc::clone(&store),
    };
    for tenant in store.tenants()?.into_iter().filter(|t| t != SYSTEM_TENANT) {
        // A previous release's configuration blobs become events, once.
        state
            .engine
            .carry_legacy_config(&tenant, &state.raters.plugins, &state.raters.secrets)?;
    }
    Ok(state)
}

/// Options of `premia serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub data: PathBuf,
    pub listen: SocketAddr,
    pub demo: bool,
    /// Load the demo tenant as a test tenant (a clock of its own).
    pub demo_test: bool,
    pub demo_files: DemoFiles,
    /// The event store: `None` or `sled` for sled in `data/store`, or a
    /// `postgres://` URL.
    pub store: Option<String>,
}

/// Opens the event store `store` names: sled in `data/store` (`None` or
/// `"sled"`), or a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn open_store(data: &Path, store: Option<&str>) -> Result<Arc<dyn Store>, BootError> {
    Ok(match store {
        None | Some("sled") => Arc::new(SledStore::open(data.join("store"))?),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Arc::new(PgStore::open(url).map_err(BootError::Postgres)?)
        }
        Some(other) => {
            return Err(BootError::UnknownStore(
                other.split('@').next_back().unwrap_or_default().to_string(),
            ));
        }
    })
}

/// Opens a data directory: `store/` (sled) and `artifacts/` (compiled plugins).
pub fn open_data_dir(data: &Path) -> Result<AppState, BootError> {
    open_data_dir_with(data, None)
}

/// Opens a data directory (`artifacts/` for compiled plugins) with the event
/// store `store` names (see [`open_store`]).
pub fn open_data_dir_with(data: &Path, store: Option<&str>) -> Result<AppState, BootError> {
    std::fs::create_dir_all(data).map_err(BootError::io(data))?;
    let store = open_store(data, store)?;
    open_state(
        store,
        Some(&data.join("artifacts")),
        PluginLimits::default(),
    )
}

/// Starts delivering webhook messages of every tenant over `state` (see
/// [`crate::engine::webhooks`]); delivery stops when the handle is dropped.
pub fn start_webhooks(state: &AppState) -> crate::engine::webhooks::WebhookWorker {
    Engine::start_webhooks(&state.engine, state.raters.secrets.clone())
}

/// Starts sending every tenant's requested collection attempts to its
/// payment processor adapter (see [`crate::engine::collect`]); it stops
/// when the handle is dropped.
pub fn start_collections(state: &AppState) -> crate::engine::collect::CollectionWorker {
    Engine::start_collections(&state.engine, state.raters.secrets.clone())
}

/// Runs the server until Ctrl-C, then saves every tenant's snapshot.
pub async fn serve(options: ServeOptions) -> Result<(), BootError> {
    // Metrics count from the start (store, snapshots, tenants loaded), not
    // from the first scrape.
    crate::telemetry::prometheus();
    let data = options.data.clone();
    let store = options.store.clone();
    let state = tokio::task::spawn_blocking(move || open_data_dir_with(&data, store.as_deref()))
        .await
        .map_err(|e| BootError::Task(e.to_string()))??;
    // Webhook messages are delivered from the log while the server runs.
    let _webhooks = start_webhooks(&state);
    // Collection attempts are sent to the processor adapter.
    let _collections = start_collections(&state);
    if options.demo || state.keys.is_empty() {
        let demo_state = state.clone();
        let files = options.demo_files.clone();
        let test = options.demo_test;
        let key = tokio::task::spawn_blocking(move || load_demo_as(&demo_state, &files, test))
            .await
            .map_err(|e| BootError::Task(e.to_string()))??;
        println!(
            "Loaded the demo tenant `{DEMO_TENANT}` (auto product, auto-rater and installment-fee plugins)."
        );
        println!("Its admin API key, shown once:\n\n    {key}\n");
        println!(
            "Try: curl -H 'Authorization: Bearer {key}' http://{}/v1/products",
            options.listen
        );
    }
    let engine = std::sync::Arc::clone(&state.engine);
    let served = crate::api::server::serve(state, options.listen).await;
    // A clean shutdown saves every tenant's snapshot, so the next start-up
    // replays nothing.
    let _ = tokio::task::spawn_blocking(move || engine.snapshot_all()).await;
    Ok(served?)
}
