//! `premia plugin build`: `cargo build --target wasm32-wasip2 --release` in a
//! plugin crate, then the path of the component it produced.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The target every Rust plugin is built for.
pub const PLUGIN_TARGET: &str = "wasm32-wasip2";

pub fn run(path: &Path) -> anyhow::Result<ExitCode> {
    let component = build(path)?;
    println!("{}", component.display());
    Ok(ExitCode::SUCCESS)
}

/// Builds the plugin crate at `path` and returns its component's path.
pub fn build(path: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(&cargo)
        .args(["build", "--target", PLUGIN_TARGET, "--release"])
        .current_dir(path)
        .status()
        .with_context(|| format!("running {cargo} build in {}", path.display()))?;
    if !status.success() {
        bail!("cargo build failed ({status}); is the target installed? run: rustup target add {PLUGIN_TARGET}");
    }
    let metadata = Command::new(&cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(path)
        .output()
        .context("running cargo metadata")?;
    if !metadata.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&metadata.stderr));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.stdout)?;
    let target_dir = metadata["target_directory"].as_str().context("no target_directory in cargo metadata")?;
    let manifest = path.canonicalize()?.join("Cargo.toml");
    let package = metadata["packages"]
        .as_array()
        .and_then(|packages| {
            packages.iter().find(|p| p["manifest_path"].as_str().map(Path::new) == Some(manifest.as_path()))
        })
        .or_else(|| metadata["packages"].get(0))
        .context("no package in cargo metadata")?;
    let name = package["name"].as_str().context("package has no name")?.replace('-', "_");
    let component = Path::new(target_dir).join(PLUGIN_TARGET).join("release").join(format!("{name}.wasm"));
    if !component.exists() {
        bail!("the build produced no {}: is the crate a cdylib?", component.display());
    }
    Ok(component)
}
