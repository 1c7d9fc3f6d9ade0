//! Premia's integration tests live in `integration/`; this library only
//! carries the build script's output: where the compiled plugins are.

/// The directory holding every plugin and fixture compiled to wasm.
pub const PLUGINS_WASM_DIR: &str = env!("PREMIA_PLUGINS_WASM_DIR");

/// The directory holding the JavaScript and Python plugins compiled to wasm.
pub const LANG_PLUGINS_WASM_DIR: &str = env!("PREMIA_LANG_PLUGINS_WASM_DIR");

/// Why some JavaScript or Python plugins could not be built (empty if all
/// were): the tests that need them fail with this message.
pub const LANG_PLUGINS_PROBLEMS: &str = env!("PREMIA_LANG_PLUGINS_PROBLEMS");
