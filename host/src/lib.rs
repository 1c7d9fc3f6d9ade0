//! Premia host library: the native billing core, the plugin runtime and the
//! raters that price policies.
//!
//! Dependencies point mostly one way: `cli -> boot -> api -> engine ->
//! (collections, policy, config, keys, store) -> (billing, ledger, plugin,
//! invoicing, rating) -> domain`; the full graph, checked from the `use crate::` lines,
//! is in `ARCHITECTURE.md`. `boot` is the composition root: it
//! opens the store and builds the runtime, raters and engine that `api` serves.
//! `domain` and `billing` are pure: no I/O, no async, no floats. Only `plugin`
//! imports wasmtime.

// Fixtures shared by the unit tests of several modules (ARCHITECTURE.md,
// "Tests").
#[cfg(test)]
pub(crate) mod test_support;

pub mod api;
pub mod billing;
pub mod boot;
pub mod cli;
pub mod collections;
pub mod config;
pub mod domain;
pub mod engine;
pub mod export;
pub mod invoicing;
pub mod keys;
pub mod ledger;
pub mod limits;
pub mod payments;
pub mod plugin;
pub mod policy;
pub mod rating;
pub mod store;
pub mod telemetry;
pub mod webhooks;
