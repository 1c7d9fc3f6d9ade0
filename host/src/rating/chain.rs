//! Which rater prices a product, and when a fallback prices: a product's
//! rating chain names a plugin, an external rater, a plugin that falls back
//! to an external rater, or a native rater; [`resolve`] turns it into the
//! rater that prices, from the raters a host has in use ([`RaterSources`]:
//! the configuration's plugins and external raters,
//! [`crate::config::RaterDirectory`]).
//!
//! The fallback prices when the plugin is not loaded (it is unavailable),
//! and, through [`FallbackRater`], when a loaded plugin fails (never when
//! it declines or rejects its input).

use super::{FallbackRater, FieldRater, RatedFor, Rater, RaterFailure, RatingError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which rater prices the product.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RatingChain {
    /// A registered plugin, by id (`name@version`, pinned) or by name (the
    /// version activated for that name).
    Plugin { plugin: String },
    /// A registered external rater, by name.
    External { rater: String },
    /// A plugin, falling back to an external rater when the plugin is
    /// unavailable or fails (never when it declines or rejects its input).
    PluginWithFallback { plugin: String, fallback: String },
    /// A rater compiled into the host (tests and demos), by name.
    Native { rater: String },
}

/// Where the raters a chain names come from on a host.
pub trait RaterSources {
    /// The plugin a reference means (`name@version`, or a name whose active
    /// version is meant), if it is loaded.
    fn plugin(&self, reference: &str) -> Result<Arc<dyn Rater>, RatingError>;
    /// Whether that plugin is loaded and prices on the calling thread (not
    /// quarantined).
    fn plugin_in_process(&self, reference: &str) -> bool;
    /// The external rater of that (tenant-qualified) name.
    fn external(&self, name: &str) -> Result<Arc<dyn Rater>, RatingError>;
}

/// The rater that prices with `chain`.
pub fn resolve(
    chain: &RatingChain,
    sources: &dyn RaterSources,
) -> Result<Arc<dyn Rater>, RatingError> {
    match chain {
        RatingChain::Plugin { plugin } => sources.plugin(plugin),
        RatingChain::External { rater } => sources.external(rater),
        RatingChain::PluginWithFallback { plugin, fallback } => {
            let fallback = sources.external(fallback)?;
            match sources.plugin(plugin) {
                Ok(primary) => Ok(Arc::new(FallbackRater { primary, fallback })),
                // The plugin is not loaded: that is unavailability, so the
                // fallback prices.
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

/// Whether pricing with `chain` runs in this process without waiting on
/// anything outside it (see [`RaterResolver::prices_in_process`]).
pub fn prices_in_process(chain: &RatingChain, sources: &dyn RaterSources) -> bool {
    match chain {
        RatingChain::Plugin { plugin } => sources.plugin_in_process(plugin),
        // Native raters are compiled in: known to `resolve`, or not at all.
        RatingChain::Native { .. } => resolve(chain, sources).is_ok(),
        RatingChain::External { .. } | RatingChain::PluginWithFallback { .. } => false,
    }
}

/// The version of the plugin a chain names that rates a term of `kind`
/// whose rating date is `day`: the version a pinned reference
/// (`name@version`) names, or the one the schedule puts in effect for a
/// bare name (`None` when the chain names no plugin, or nothing is
/// scheduled for it).
pub fn term_version(
    chain: &RatingChain,
    resolver: &dyn RaterResolver,
    day: NaiveDate,
    kind: RatedFor,
) -> Option<String> {
    let plugin = match chain {
        RatingChain::Plugin { plugin } | RatingChain::PluginWithFallback { plugin, .. } => plugin,
        RatingChain::External { .. } | RatingChain::Native { .. } => return None,
    };
    match plugin.split_once('@') {
        Some((_, version)) => Some(version.to_string()),
        None => resolver.version_for(plugin, day, kind),
    }
}

/// The chain rating a term pinned to `version` of its plugin: a bare
/// plugin name becomes `name@version`; everything else is as it is.
/// Worked example: `{"kind": "plugin", "plugin": "rater"}` pinned to `1`
/// rates with `rater@1` whatever version is active later.
pub fn pinned(chain: &RatingChain, version: Option<&str>) -> RatingChain {
    let pin = |plugin: &String| match version {
        Some(version) if !plugin.contains('@') => format!("{plugin}@{version}"),
        _ => plugin.clone(),
    };
    match chain {
        RatingChain::Plugin { plugin } => RatingChain::Plugin {
            plugin: pin(plugin),
        },
        RatingChain::PluginWithFallback { plugin, fallback } => RatingChain::PluginWithFallback {
            plugin: pin(plugin),
            fallback: fallback.clone(),
        },
        other => other.clone(),
    }
}

/// The first plugin or external rater `chain` names that `sources` do not
/// have (a bare plugin name needs an active or scheduled version), without
/// its tenant prefix. Native raters are known to [`resolve`] or not at all.
pub fn missing(
    chain: &RatingChain,
    plugin_exists: &dyn Fn(&str) -> bool,
    rater_exists: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let shown = |name: &str| name.split_once('/').map_or(name, |(_, n)| n).to_string();
    match chain {
        RatingChain::Plugin { plugin } => (!plugin_exists(plugin)).then(|| shown(plugin)),
        RatingChain::External { rater } => (!rater_exists(rater)).then(|| shown(rater)),
        RatingChain::PluginWithFallback { plugin, fallback } => {
            if !plugin_exists(plugin) {
                Some(shown(plugin))
            } else if !rater_exists(fallback) {
                Some(shown(fallback))
            } else {
                None
            }
        }
        RatingChain::Native { rater } => (rater != "field").then(|| rater.clone()),
    }
}

/// Finds the rater a product's rating chain names.
pub trait RaterResolver {
    fn resolve(&self, chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError>;

    /// The first plugin (with its version, when pinned) or external rater
    /// `chain` names that does not exist here, as the tenant wrote it: a
    /// product naming it is refused at deploy. Resolvers that cannot tell
    /// say none.
    fn missing_rater(&self, chain: &RatingChain) -> Option<String> {
        let _ = chain;
        None
    }

    /// The version of plugin `name` (a bare name) rating a term of `kind`
    /// whose rating date is `day` ([`crate::rating::schedule`]). Resolvers
    /// without schedules know none: their terms are not pinned.
    fn version_for(&self, name: &str, day: NaiveDate, kind: RatedFor) -> Option<String> {
        let _ = (name, day, kind);
        None
    }

    /// Whether pricing with `chain` now runs in this process without waiting
    /// on anything outside it (no network, no thread of its own): a plugin
    /// that is loaded and not quarantined, or a native rater. An external
    /// rater, or a plugin that may fall back to one, waits on the network.
    /// When unsure, say no: the caller then prices on a blocking thread.
    fn prices_in_process(&self, chain: &RatingChain) -> bool {
        let _ = chain;
        false
    }
}
