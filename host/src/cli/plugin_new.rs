//! `premia plugin new <name> [--lang rust|js|python]`: scaffold a rating
//! plugin that builds, passes its test, and runs on the sample request it
//! ships with (and gives the sample response, for JavaScript and Python).

use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::plugin_lang::Language;

const CARGO_TOML: &str = include_str!("template/Cargo.toml.tmpl");
const LIB_RS: &str = include_str!("template/lib.rs.tmpl");
const TESTS_RS: &str = include_str!("template/tests.rs.tmpl");
const RATES_CSV: &str = include_str!("template/rates.csv");
const REQUEST_JSON: &str = include_str!("template/request.json");
const README_MD: &str = include_str!("template/README.md.tmpl");
const EXPECTED_JSON: &str = include_str!("template/expected.json");
const JS_INDEX: &str = include_str!("template/js/index.js.tmpl");
const JS_README: &str = include_str!("template/js/README.md.tmpl");
const JS_SDK: &str = include_str!("../../../plugin-sdk/js/premia.js");
const PY_APP: &str = include_str!("template/python/app.py.tmpl");
const PY_README: &str = include_str!("template/python/README.md.tmpl");
const PY_SDK: &str = include_str!("../../../plugin-sdk/python/premia.py");

/// The SDK this binary was built with, used when no `--sdk-path` is given.
fn default_sdk_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("plugin-sdk")
}

pub fn run(
    name: &str,
    lang: Language,
    dir: Option<PathBuf>,
    sdk_path: Option<PathBuf>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    let next = match lang {
        Language::Rust => {
            scaffold(name, &dir, &sdk_path.unwrap_or_else(default_sdk_path))?;
            "cargo test && premia plugin build"
        }
        Language::Js | Language::Python => {
            scaffold_lang(name, lang, &dir)?;
            "premia plugin build && premia plugin run dist/*.wasm --input request.json --tables tables --expect expected.json"
        }
    };
    writeln!(
        out,
        "created {} ({name}); next: cd {} && {next}",
        dir.display(),
        dir.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn check_name(name: &str, dir: &Path) -> anyhow::Result<()> {
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
    Ok(())
}

/// Writes a JavaScript or Python rating plugin `name` into `dir`, which must
/// not exist yet: its manifest, source, the SDK file, a rate table, a sample
/// request and the response it gives.
pub fn scaffold_lang(name: &str, lang: Language, dir: &Path) -> anyhow::Result<()> {
    check_name(name, dir)?;
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{crate}}", &name.replace('-', "_"))
    };
    let (language, source, files): (&str, &str, Vec<(&str, String)>) = match lang {
        Language::Js => (
            "javascript",
            "src/index.js",
            vec![
                ("src/index.js", fill(JS_INDEX)),
                ("src/premia.js", JS_SDK.to_string()),
                ("README.md", fill(JS_README)),
            ],
        ),
        Language::Python => (
            "python",
            "app.py",
            vec![
                ("app.py", fill(PY_APP)),
                ("premia.py", PY_SDK.to_string()),
                ("README.md", fill(PY_README)),
            ],
        ),
        Language::Rust => bail!("use scaffold for Rust plugins"),
    };
    let manifest = serde_json::json!({
        "name": name,
        "version": "0.1.0",
        "language": language,
        "world": "rater",
        "source": source,
    });
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::create_dir_all(dir.join("tables"))?;
    let common = [
        (
            super::plugin_lang::MANIFEST,
            serde_json::to_string_pretty(&manifest)? + "\n",
        ),
        ("tables/rates.csv", RATES_CSV.to_string()),
        ("request.json", REQUEST_JSON.to_string()),
        ("expected.json", EXPECTED_JSON.to_string()),
        (".gitignore", "dist/\n__pycache__/\n".to_string()),
    ];
    for (path, text) in files.into_iter().chain(common) {
        std::fs::write(dir.join(path), text).with_context(|| format!("writing {path}"))?;
    }
    if lang == Language::Python {
        std::fs::remove_dir(dir.join("src"))?;
    }
    Ok(())
}

/// Writes the plugin crate `name` into `dir`, which must not exist yet.
pub fn scaffold(name: &str, dir: &Path, sdk_path: &Path) -> anyhow::Result<()> {
    check_name(name, dir)?;
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
