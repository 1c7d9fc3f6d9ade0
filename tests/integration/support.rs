//! Shared helpers: compiled plugins, their rate tables and golden cases.

use premia::plugin::{PluginLimits, PluginRuntime};
use premia::rating::RateRequest;
use premia_plugin_sdk::tables::RateTables;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The bytes of a compiled plugin or fixture, by crate name.
pub fn wasm(crate_name: &str) -> Vec<u8> {
    let path = Path::new(premia_tests::PLUGINS_WASM_DIR)
        .join(format!("{}.wasm", crate_name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The path of a compiled plugin or fixture.
pub fn wasm_path(crate_name: &str) -> PathBuf {
    Path::new(premia_tests::PLUGINS_WASM_DIR).join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// The rate tables shipped with a plugin under `plugins/<name>/tables`.
pub fn tables(plugin: &str) -> RateTables {
    RateTables::from_dir(&workspace().join("plugins").join(plugin).join("tables")).unwrap()
}

/// A runtime with the auto rater, installment-fee invoicer and faulty rater
/// registered as `auto@1`, `fee@1` and `faulty@1`.
pub fn runtime_with(limits: PluginLimits) -> Arc<PluginRuntime> {
    let runtime = PluginRuntime::new(limits).unwrap();
    runtime
        .register("auto", "1", &wasm("auto-rater"), tables("auto-rater"))
        .unwrap();
    runtime
        .register(
            "fee",
            "1",
            &wasm("installment-fee"),
            tables("installment-fee"),
        )
        .unwrap();
    runtime
        .register("faulty", "1", &wasm("faulty"), RateTables::new())
        .unwrap();
    Arc::new(runtime)
}

pub fn runtime() -> Arc<PluginRuntime> {
    runtime_with(PluginLimits::default())
}

/// A golden request of the auto rater.
pub fn golden_request(name: &str) -> RateRequest {
    let path = workspace()
        .join("plugins/golden/auto-rater")
        .join(format!("{name}.request.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A golden expected response of the auto rater, as JSON.
pub fn golden_expected(name: &str) -> serde_json::Value {
    let path = workspace()
        .join("plugins/golden/auto-rater")
        .join(format!("{name}.expected.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A one-item request for the faulty rater in `mode`.
pub fn faulty_request(mode: &str) -> RateRequest {
    let mut request = golden_request("one-sedan-urban");
    request.policy.characteristics.fields.insert(
        "mode".to_string(),
        vec![premia::rating::FieldValue::Text(mode.to_string())],
    );
    request.items.truncate(1);
    request
}

/// The names of the shared golden cases of the auto rater (every language's
/// auto rater must give each `<name>.expected.json` for `<name>.request.json`).
pub fn golden_cases() -> Vec<String> {
    let mut cases: Vec<String> = std::fs::read_dir(workspace().join("plugins/golden/auto-rater"))
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            name.strip_suffix(".request.json").map(str::to_string)
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 2, "golden cases: {cases:?}");
    cases
}

/// The bytes of a JavaScript or Python plugin built by the build script, by
/// folder name; fails with the build's problem when it could not be built.
pub fn lang_wasm(plugin: &str) -> Vec<u8> {
    let path = Path::new(premia_tests::LANG_PLUGINS_WASM_DIR)
        .join(format!("{}.wasm", plugin.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. The JavaScript/Python plugins were not built: {} \
             (install the toolchains with scripts/plugin-toolchains.sh, which scripts/test.sh runs)",
            path.display(),
            premia_tests::LANG_PLUGINS_PROBLEMS
        )
    })
}

/// A blocking HTTP client (with the TLS provider every client needs).
pub fn http_client() -> reqwest::blocking::Client {
    http_client_builder().build().unwrap()
}

/// A blocking HTTP client builder (with the TLS provider installed).
pub fn http_client_builder() -> reqwest::blocking::ClientBuilder {
    premia::rating::external::install_tls_provider();
    reqwest::blocking::Client::builder()
}
