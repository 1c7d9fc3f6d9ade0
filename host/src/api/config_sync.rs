//! Keeps a host's plugins, rate tables, instance policies, active plugin
//! versions and external raters in step with a store that several hosts
//! share (PostgreSQL).
//!
//! Products are commands in the tenant's log, so every host sees a deployed
//! product as soon as it catches up. Plugins and external raters are stored
//! as blobs and registered in each host's memory, so each configuration
//! change also writes a new random *generation* token for the tenant
//! ([`bump_generation`]). On a shared store, a background thread reads every
//! tenant's token every `CONFIG_SYNC_INTERVAL_MS` and, for a tenant whose
//! token changed, reloads its configuration from the store
//! ([`reload_tenant`]): plugins are registered again (compiled components
//! are cached by content hash, so an unchanged plugin is not compiled
//! again), external raters replaced, active versions reloaded.
//!
//! Worked example: host A and host B share a database. An admin uploads
//! `auto-rater@2` through A and activates it; within one interval (1 s) B
//! has registered `auto-rater@2` and prices products naming `auto-rater`
//! with version 2. On a store of one host (sled) nothing runs.

use super::error::ApiError;
use super::routes::{activation, config, raters};
use super::state::AppState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

/// Where the generation token is kept, per tenant.
pub const CONFIG_NAMESPACE: &str = "config";
const GENERATION_KEY: &str = "generation";
/// How often a host of a shared store looks for configuration changes.
pub const CONFIG_SYNC_INTERVAL_MS: u64 = 1_000;

/// Serializes configuration changes and reloads on this host, so that a
/// reload reading the store cannot apply an older value after a handler has
/// stored and applied a newer one. Configuration changes are rare; one lock
/// for all tenants is enough. Take it in handlers, around store + apply +
/// bump, never inside the helpers they call.
pub fn lock() -> MutexGuard<'static, ()> {
    static CONFIG: Mutex<()> = Mutex::new(());
    CONFIG
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A store error of a configuration write: 503, nothing was changed.
pub fn store_problem(error: crate::store::StoreError) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
        format!("the configuration could not be stored: {error}"),
    )
}

/// Records that `tenant`'s configuration changed (call after the change is
/// stored), so that the other hosts reload it.
pub fn bump_generation(state: &AppState, tenant: &str) -> Result<(), ApiError> {
    if !state.store.shared() {
        return Ok(());
    }
    let token = format!("{:032x}", rand::random::<u128>());
    state
        .store
        .put_blob(tenant, CONFIG_NAMESPACE, GENERATION_KEY, token.as_bytes())
        .map_err(store_problem)
}

/// Loads `tenant`'s plugins, external raters and active versions from the
/// store into this host (as at start-up). A plugin that no longer registers
/// is logged and skipped; the rest still load.
pub fn reload_tenant(state: &AppState, tenant: &str) -> Result<(), ApiError> {
    let _config = lock();
    raters::register_stored(state, tenant)?;
    for id in state
        .store
        .list_blobs(tenant, config::PLUGINS_NAMESPACE)
        .map_err(|e| ApiError::internal(e.to_string()))?
    {
        if let Err(error) = config::register_stored(state, tenant, &id) {
            tracing::warn!(%tenant, plugin = %id, error = %error.detail, "a stored plugin did not load");
        }
    }
    activation::load_active(state, tenant)
}

/// The parts of an [`AppState`], held weakly: the sync thread ends when the
/// state is dropped.
struct WeakState {
    engine: Weak<crate::engine::Engine>,
    raters: Weak<super::state::RaterDirectory>,
    keys: Weak<super::auth::KeyRing>,
    store: Weak<dyn crate::store::Store>,
}

impl WeakState {
    fn new(state: &AppState) -> Self {
        WeakState {
            engine: Arc::downgrade(&state.engine),
            raters: Arc::downgrade(&state.raters),
            keys: Arc::downgrade(&state.keys),
            store: Arc::downgrade(&state.store),
        }
    }

    fn upgrade(&self) -> Option<AppState> {
        Some(AppState {
            engine: self.engine.upgrade()?,
            raters: self.raters.upgrade()?,
            keys: self.keys.upgrade()?,
            store: self.store.upgrade()?,
        })
    }
}

/// Starts the sync thread when `state`'s store is shared; it stops once the
/// state is dropped. `seen`: the generations read before this host loaded
/// its configuration ([`current_generations`]), so that no change made
/// meanwhile is missed.
pub fn start(state: &AppState, mut seen: HashMap<String, Vec<u8>>) {
    if !state.store.shared() {
        return;
    }
    let weak = WeakState::new(state);
    std::thread::Builder::new()
        .name("premia-config-sync".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(CONFIG_SYNC_INTERVAL_MS));
                let Some(state) = weak.upgrade() else {
                    return;
                };
                if let Err(error) = sync_once(&state, &mut seen) {
                    tracing::warn!(error = %error.detail, "configuration sync failed; retrying");
                }
            }
        })
        .expect("spawning the configuration sync thread");
}

/// Each tenant's generation token (none on a store of one host).
pub fn current_generations(state: &AppState) -> Result<HashMap<String, Vec<u8>>, ApiError> {
    let internal = |e: crate::store::StoreError| ApiError::internal(e.to_string());
    let mut generations = HashMap::new();
    if !state.store.shared() {
        return Ok(generations);
    }
    for tenant in state.store.tenants().map_err(internal)? {
        if let Some(token) = state
            .store
            .get_blob(&tenant, CONFIG_NAMESPACE, GENERATION_KEY)
            .map_err(internal)?
        {
            generations.insert(tenant, token);
        }
    }
    Ok(generations)
}

/// Reloads the tenants whose generation changed since `seen`; a tenant that
/// fails is logged and tried again next time, the others go on.
fn sync_once(state: &AppState, seen: &mut HashMap<String, Vec<u8>>) -> Result<(), ApiError> {
    for (tenant, token) in current_generations(state)? {
        if seen.get(&tenant) == Some(&token) {
            continue;
        }
        match reload_tenant(state, &tenant) {
            Ok(()) => {
                tracing::info!(%tenant, "configuration reloaded from the shared store");
                seen.insert(tenant, token);
            }
            Err(error) => {
                tracing::warn!(%tenant, error = %error.detail, "configuration reload failed; retrying");
            }
        }
    }
    Ok(())
}
