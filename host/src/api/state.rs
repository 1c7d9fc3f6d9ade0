//! The API's shared state, and the rater directory that resolves a product's
//! rating chain to a plugin, an external rater or a native rater.
//!
//! Plugins and external raters are registered per tenant under
//! `<tenant>/<name>`: the API qualifies every name a tenant sends with its own
//! tenant, so one tenant can never price with another's plugin or rater.

use super::auth::KeyRing;
use crate::engine::Engine;
use crate::plugin::{ActiveVersions, PluginRater, PluginRuntime};
use crate::policy::{RaterResolver, RatingChain};
use crate::rating::{FallbackRater, FieldRater, Rater, RaterFailure, RatingError};
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Resolves rating chains to raters.
pub struct RaterDirectory {
    pub plugins: Arc<PluginRuntime>,
    pub external: RwLock<HashMap<String, Arc<dyn Rater>>>,
    /// The active version of each plugin name (for products that name a
    /// plugin without a version).
    pub active: Arc<ActiveVersions>,
}

impl RaterDirectory {
    pub fn new(plugins: Arc<PluginRuntime>) -> Self {
        RaterDirectory {
            plugins,
            external: RwLock::new(HashMap::new()),
            active: Arc::default(),
        }
    }

    fn plugin(&self, id: &str) -> Result<Arc<dyn Rater>, RatingError> {
        let id = self.active.resolve(id);
        Ok(Arc::new(PluginRater::new(Arc::clone(&self.plugins), &id)?))
    }

    fn external(&self, name: &str) -> Result<Arc<dyn Rater>, RatingError> {
        self.external
            .read()
            .expect("external raters lock")
            .get(name)
            .cloned()
            .ok_or_else(|| {
                RatingError::failed(
                    name,
                    RaterFailure::Unavailable,
                    "no external rater of that name",
                )
            })
    }
}

impl RaterResolver for RaterDirectory {
    fn resolve(&self, chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
        match chain {
            RatingChain::Plugin { plugin } => self.plugin(plugin),
            RatingChain::External { rater } => self.external(rater),
            RatingChain::PluginWithFallback { plugin, fallback } => {
                let fallback = self.external(fallback)?;
                match self.plugin(plugin) {
                    Ok(primary) => Ok(Arc::new(FallbackRater { primary, fallback })),
                    // The plugin is not loaded: that is unavailability, so
                    // the fallback prices.
                    Err(_) => Ok(fallback),
                }
            }
            RatingChain::Native { rater } if rater == "field" => Ok(Arc::new(FieldRater)),
            RatingChain::Native { rater } => Err(RatingError::failed(
                rater,
                RaterFailure::Unavailable,
                "no native rater of that name",
            )),
        }
    }

    fn prices_in_process(&self, chain: &RatingChain) -> bool {
        match chain {
            RatingChain::Plugin { plugin } => {
                let id = self.active.resolve(plugin);
                // A quarantined plugin's calls run on a thread of their own,
                // and its caller waits for them.
                self.plugins.is_registered(&id) && self.plugins.quarantined_for(&id).is_none()
            }
            // Native raters are compiled in: known to `resolve`, or not at all.
            RatingChain::Native { .. } => self.resolve(chain).is_ok(),
            RatingChain::External { .. } | RatingChain::PluginWithFallback { .. } => false,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub raters: Arc<RaterDirectory>,
    pub keys: Arc<KeyRing>,
    pub store: Arc<dyn Store>,
}

impl AsRef<Arc<KeyRing>> for AppState {
    fn as_ref(&self) -> &Arc<KeyRing> {
        &self.keys
    }
}

/// `<tenant>/<name>`: the name a tenant's plugin or rater is registered under.
pub fn qualified(tenant: &str, name: &str) -> String {
    format!("{tenant}/{name}")
}

/// The name a tenant knows, without its tenant prefix.
pub fn unqualified<'a>(tenant: &str, name: &'a str) -> &'a str {
    name.strip_prefix(tenant)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(name)
}

/// The rating chain with every name qualified by `tenant`.
pub fn qualify_chain(tenant: &str, chain: &RatingChain) -> RatingChain {
    match chain {
        RatingChain::Plugin { plugin } => RatingChain::Plugin {
            plugin: qualified(tenant, plugin),
        },
        RatingChain::External { rater } => RatingChain::External {
            rater: qualified(tenant, rater),
        },
        RatingChain::PluginWithFallback { plugin, fallback } => RatingChain::PluginWithFallback {
            plugin: qualified(tenant, plugin),
            fallback: qualified(tenant, fallback),
        },
        RatingChain::Native { rater } => RatingChain::Native {
            rater: rater.clone(),
        },
    }
}

/// The rating chain as the tenant wrote it.
pub fn unqualify_chain(tenant: &str, chain: &RatingChain) -> RatingChain {
    match chain {
        RatingChain::Plugin { plugin } => RatingChain::Plugin {
            plugin: unqualified(tenant, plugin).into(),
        },
        RatingChain::External { rater } => RatingChain::External {
            rater: unqualified(tenant, rater).into(),
        },
        RatingChain::PluginWithFallback { plugin, fallback } => RatingChain::PluginWithFallback {
            plugin: unqualified(tenant, plugin).into(),
            fallback: unqualified(tenant, fallback).into(),
        },
        RatingChain::Native { rater } => RatingChain::Native {
            rater: rater.clone(),
        },
    }
}
