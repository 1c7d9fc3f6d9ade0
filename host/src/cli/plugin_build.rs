//! `premia plugin build`: `cargo build --target wasm32-wasip2 --release` in a
//! Rust plugin crate, or componentize-js / componentize-py in a JavaScript or
//! Python plugin (a folder with a `premia-plugin.json`), then the path of the
//! component it produced.

use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The target every Rust plugin is built for.
pub const PLUGIN_TARGET: &str = "wasm32-wasip2";

pub fn run(
    path: &Path,
    target_dir: Option<&Path>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let component = build(path, target_dir)?;
    writeln!(out, "{}", component.display())?;
    Ok(ExitCode::SUCCESS)
}

/// Builds the plugin at `path` and returns its component's path.
pub fn build(path: &Path, target_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    if path.join(super::plugin_lang::MANIFEST).exists() {
        return super::plugin_lang::build(path, target_dir);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut build = Command::new(&cargo);
    build
        .args(["build", "--target", PLUGIN_TARGET, "--release"])
        .current_dir(path);
    let mut metadata = Command::new(&cargo);
    metadata
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(path);
    if let Some(dir) = target_dir {
        build.arg("--target-dir").arg(dir);
        metadata.env("CARGO_TARGET_DIR", dir);
    }
    let status = build
        .status()
        .with_context(|| format!("running {cargo} build in {}", path.display()))?;
    if !status.success() {
        bail!(
            "cargo build failed ({status}); is the target installed? run: rustup target add {PLUGIN_TARGET}"
        );
    }
    let metadata = metadata.output().context("running cargo metadata")?;
    if !metadata.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&metadata.stderr)
        );
    }
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.stdout)?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .context("no target_directory in cargo metadata")?;
    let manifest = path.canonicalize()?.join("Cargo.toml");
    let package = metadata["packages"]
        .as_array()
        .and_then(|packages| {
            packages
                .iter()
                .find(|p| p["manifest_path"].as_str().map(Path::new) == Some(manifest.as_path()))
        })
        .or_else(|| metadata["packages"].get(0))
        .context("no package in cargo metadata")?;
    let name = package["name"]
        .as_str()
        .context("package has no name")?
        .replace('-', "_");
    let component = Path::new(target_dir)
        .join(PLUGIN_TARGET)
        .join("release")
        .join(format!("{name}.wasm"));
    if !component.exists() {
        bail!(
            "the build produced no {}: is the crate a cdylib?",
            component.display()
        );
    }
    Ok(component)
}
