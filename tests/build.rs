//! Compiles every plugin under `plugins/` and every fixture under
//! `tests/fixtures/` to a WebAssembly component for the integration tests.
//!
//! Each Rust crate is built by its own `cargo build` so that the SDK's world
//! features (`rating`, `invoicing`) are never unified across plugins. The
//! JavaScript and Python plugins are built with the toolchains that
//! `scripts/plugin-toolchains.sh` installs (see `lang_plugins`); when those
//! are missing the build still succeeds and the tests that need the
//! components fail with the reason.

#[path = "lang_plugins.rs"]
mod lang_plugins;

use std::path::{Path, PathBuf};
use std::process::Command;

const PLUGIN_CRATES: &[&str] = &[
    "plugins/auto-rater",
    "plugins/installment-fee",
    "plugins/faulty",
    "tests/fixtures/wrong-world",
    "tests/fixtures/forbidden-import",
    "tests/fixtures/date-mover",
    "tests/fixtures/rater-v0-2",
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    let target_dir = workspace.join("target").join("plugins");
    for dir in ["plugins", "plugin-sdk", "wit", "tests/fixtures"] {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for crate_dir in PLUGIN_CRATES {
        build(&cargo, &workspace, &workspace.join(crate_dir), &target_dir);
    }
    for dir in [
        "tools/js/package-lock.json",
        "tools/python/requirements.txt",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
    let lang_dir = target_dir.join("lang");
    let problems = lang_plugins::build_all(&workspace, &lang_dir);
    println!(
        "cargo:rustc-env=PREMIA_LANG_PLUGINS_WASM_DIR={}",
        lang_dir.display()
    );
    println!(
        "cargo:rustc-env=PREMIA_LANG_PLUGINS_PROBLEMS={}",
        problems.join(" | ").replace('\n', " ")
    );
    for problem in &problems {
        println!("cargo:warning={problem}");
    }
    let wasm_dir = target_dir.join("wasm32-wasip2").join("plugin");
    println!(
        "cargo:rustc-env=PREMIA_PLUGINS_WASM_DIR={}",
        wasm_dir.display()
    );
}

fn build(cargo: &str, workspace: &Path, crate_dir: &Path, target_dir: &Path) {
    let manifest = crate_dir.join("Cargo.toml");
    let output = Command::new(cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "plugin",
            "--manifest-path",
        ])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir)
        // Flags meant for the host build must not leak into the wasm build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("running cargo to build a plugin");
    if !output.status.success() {
        panic!(
            "building {} for wasm32-wasip2 failed (is the target installed? `rustup target add wasm32-wasip2`):\n{}",
            crate_dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
