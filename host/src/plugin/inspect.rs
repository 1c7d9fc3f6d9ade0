//! Inspection of a compiled component: which Premia world it implements,
//! against which WIT version, what it imports, and why it is incompatible.

use super::bindings::{INVOICING_EXPORT, RATING_EXPORT, WIT_VERSIONS};
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

/// A WIT package version the host speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WitVersion {
    /// `premia:plugin@0.1.0`.
    V0_1,
    /// `premia:plugin@0.2.0`: the richer draft invoice.
    V0_2,
}

impl WitVersion {
    /// The version of `premia:plugin@<text>`, if the host speaks it.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "0.1.0" => Some(WitVersion::V0_1),
            "0.2.0" => Some(WitVersion::V0_2),
            _ => None,
        }
    }
}

/// The world a Premia export implements and its WIT version text, for
/// `premia:plugin/rating@<version>` or `premia:plugin/invoicing@<version>`.
fn export_world(export: &str) -> Option<(PluginWorld, &str)> {
    let (interface, version) = export.split_once('@')?;
    let world = match interface {
        RATING_EXPORT => PluginWorld::Rater,
        INVOICING_EXPORT => PluginWorld::Invoicer,
        _ => return None,
    };
    Some((world, version))
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
    let supported = WIT_VERSIONS.join(" and ");
    let known: Vec<(PluginWorld, &str)> = premia_exports
        .iter()
        .filter_map(|e| export_world(e))
        .filter(|(_, version)| WitVersion::parse(version).is_some())
        .collect();
    let world = known.first().map(|(world, _)| *world);
    let wit_version = known
        .first()
        .map(|(_, version)| *version)
        .or_else(|| premia_exports.first().and_then(|e| e.split('@').nth(1)))
        .map(str::to_string);
    match (&world, premia_exports.first()) {
        (Some(_), _) if premia_exports.len() > 1 => problems
            .push("a plugin implements one world: it exports both rating and invoicing".into()),
        (Some(_), _) => {}
        (None, Some(export)) => problems.push(format!(
            "it exports {export}, but this host supports WIT versions {supported} only"
        )),
        (None, None) => problems.push(format!(
            "it exports no Premia world (expected {RATING_EXPORT} or {INVOICING_EXPORT} \
             of WIT version {supported})"
        )),
    }
    for import in &imports {
        let premia_version = import
            .strip_prefix("premia:plugin/")
            .map(|rest| rest.split_once('@').map_or("", |(_, version)| version));
        if let Some(version) = premia_version
            && WitVersion::parse(version).is_none()
        {
            problems.push(format!(
                "import {import}: this host supports WIT versions {supported} only"
            ));
        } else if let Some(version) = premia_version
            && world.is_some()
            && wit_version.as_deref() != Some(version)
        {
            problems.push(format!(
                "import {import}: a plugin imports the WIT version it exports ({})",
                wit_version.as_deref().unwrap_or_default()
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
