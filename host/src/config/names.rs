//! Tenant-qualified names: a tenant's plugins and raters are registered on
//! a host as `<tenant>/<name>`.

use crate::rating::RatingChain;

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
