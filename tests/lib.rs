//! Premia's integration tests live in `integration/`; this library only
//! carries the build script's output: where the compiled plugins are.

/// The directory holding every plugin and fixture compiled to wasm.
pub const PLUGINS_WASM_DIR: &str = env!("PREMIA_PLUGINS_WASM_DIR");
