//! Inspection of a compiled component: which Premia world it implements,
//! against which WIT version, what it imports, and why it is incompatible.

use super::bindings::{INVOICING_EXPORT, RATING_EXPORT, WIT_VERSION};
use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::Component;

/// The Premia world a component implements.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginWorld {
    /// Exports `premia:plugin/rating`.
    Rater,
    /// Exports `premia:plugin/invoicing`.
    Invoicer,
}

/// What `premia plugin check` reports.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentReport {
    pub world: Option<PluginWorld>,
    pub wit_version: Option<String>,
    pub content_sha256: String,
    pub size_bytes: usize,
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    /// Empty when the component is compatible.
    pub problems: Vec<String>,
}

impl ComponentReport {
    pub fn is_compatible(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Interfaces a plugin may import. WASI is linked but deterministic and
/// empty (see `plugin::wasi`); sockets, HTTP and anything unknown are refused.
const ALLOWED_IMPORT_PREFIXES: &[&str] = &[
    "premia:plugin/host@",
    "premia:plugin/types@",
    "wasi:cli/",
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
];

/// Reads the world, version, imports and exports of `component`.
pub fn inspect_component(
    engine: &Engine,
    component: &Component,
    content_sha256: String,
    size_bytes: usize,
) -> ComponentReport {
    let ty = component.component_type();
    let imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let mut problems = Vec::new();

    let premia_exports: Vec<&String> = exports
        .iter()
        .filter(|e| e.starts_with("premia:plugin/"))
        .collect();
    let world = if exports.iter().any(|e| e == RATING_EXPORT) {
        Some(PluginWorld::Rater)
    } else if exports.iter().any(|e| e == INVOICING_EXPORT) {
        Some(PluginWorld::Invoicer)
    } else {
        None
    };
    let wit_version = premia_exports
        .first()
        .and_then(|e| e.split('@').nth(1))
        .map(str::to_string);
    match (&world, premia_exports.first()) {
        (Some(_), _) if premia_exports.len() > 1 => problems
            .push("a plugin implements one world: it exports both rating and invoicing".into()),
        (Some(_), _) => {}
        (None, Some(export)) => problems.push(format!(
            "it exports {export}, but this host supports WIT version {WIT_VERSION} only"
        )),
        (None, None) => problems.push(format!(
            "it exports no Premia world (expected {RATING_EXPORT} or {INVOICING_EXPORT})"
        )),
    }
    for import in &imports {
        if import.starts_with("premia:plugin/") && !import.ends_with(&format!("@{WIT_VERSION}")) {
            problems.push(format!(
                "import {import}: this host supports WIT version {WIT_VERSION} only"
            ));
        } else if !ALLOWED_IMPORT_PREFIXES
            .iter()
            .any(|prefix| import.starts_with(prefix))
        {
            problems.push(format!(
                "forbidden import {import}: plugins may not reach the outside world"
            ));
        }
    }
    ComponentReport {
        world,
        wit_version,
        content_sha256,
        size_bytes,
        imports,
        exports,
        problems,
    }
}
