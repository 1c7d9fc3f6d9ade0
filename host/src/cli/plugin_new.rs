//! `premia plugin new <name>`: scaffold a rating plugin crate that builds,
//! passes its test, and runs on the sample request it ships with.

use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const CARGO_TOML: &str = include_str!("template/Cargo.toml.tmpl");
const LIB_RS: &str = include_str!("template/lib.rs.tmpl");
const TESTS_RS: &str = include_str!("template/tests.rs.tmpl");
const RATES_CSV: &str = include_str!("template/rates.csv");
const REQUEST_JSON: &str = include_str!("template/request.json");
const README_MD: &str = include_str!("template/README.md.tmpl");

/// The SDK this binary was built with, used when no `--sdk-path` is given.
fn default_sdk_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("plugin-sdk")
}

pub fn run(
    name: &str,
    dir: Option<PathBuf>,
    sdk_path: Option<PathBuf>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    scaffold(name, &dir, &sdk_path.unwrap_or_else(default_sdk_path))?;
    writeln!(
        out,
        "created {} ({name}); next: cd {} && cargo test && premia plugin build",
        dir.display(),
        dir.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the plugin crate `name` into `dir`, which must not exist yet.
pub fn scaffold(name: &str, dir: &Path, sdk_path: &Path) -> anyhow::Result<()> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if !valid {
        bail!(
            "plugin name {name:?}: use lower-case letters, digits, '-' and '_', starting with a letter"
        );
    }
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    let sdk_path = sdk_path.canonicalize().with_context(|| {
        format!(
            "the plugin SDK is not at {}: pass --sdk-path",
            sdk_path.display()
        )
    })?;
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{sdk_path}}", &sdk_path.display().to_string())
    };
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::create_dir_all(dir.join("tables"))?;
    let files: [(&str, String); 6] = [
        ("Cargo.toml", fill(CARGO_TOML)),
        ("src/lib.rs", fill(LIB_RS)),
        ("src/tests.rs", fill(TESTS_RS)),
        ("tables/rates.csv", RATES_CSV.to_string()),
        ("request.json", REQUEST_JSON.to_string()),
        ("README.md", fill(README_MD)),
    ];
    for (path, text) in files {
        std::fs::write(dir.join(path), text).with_context(|| format!("writing {path}"))?;
    }
    Ok(())
}
