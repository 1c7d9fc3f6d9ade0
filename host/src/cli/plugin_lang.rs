//! JavaScript and Python plugins: the `premia-plugin.json` manifest that
//! marks them, and their build with the pinned toolchains of `tools/`
//! (componentize-js for JavaScript, componentize-py for Python), installed by
//! `scripts/plugin-toolchains.sh`.
//!
//! Both builds disable every WASI feature (JavaScript: all of componentize-js'
//! features; Python: `--stub-wasi`), so the component imports only the Premia
//! host interface and stays a pure function of its input.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The manifest file of a JavaScript or Python plugin.
pub const MANIFEST: &str = "premia-plugin.json";

/// A plugin's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    Rust,
    #[value(alias = "javascript")]
    Js,
    #[value(alias = "py")]
    Python,
}

/// `premia-plugin.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub language: String,
    /// `rater` or `invoicer`.
    pub world: String,
    /// `src/index.js` (JavaScript) or `app.py` (Python, the module it names).
    pub source: String,
}

impl Manifest {
    pub fn read(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
    }

    pub fn language(&self) -> anyhow::Result<Language> {
        match self.language.as_str() {
            "javascript" | "js" => Ok(Language::Js),
            "python" | "py" => Ok(Language::Python),
            other => bail!("{MANIFEST}: language {other:?}: expected \"javascript\" or \"python\""),
        }
    }
}

/// Where the pinned toolchains and the WIT package are: the Premia checkout
/// this binary was built from, unless `PREMIA_HOME` names another.
pub fn premia_home() -> PathBuf {
    std::env::var_os("PREMIA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

const SETUP: &str = "install the toolchains with scripts/plugin-toolchains.sh in the Premia checkout (or set PREMIA_HOME to it)";

/// Builds the JavaScript or Python plugin in `dir` into
/// `<out_dir or dir/dist>/<name>.wasm` and returns that path.
pub fn build(dir: &Path, out_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let manifest = Manifest::read(dir)?;
    if !["rater", "invoicer"].contains(&manifest.world.as_str()) {
        bail!(
            "{MANIFEST}: world {:?}: expected \"rater\" or \"invoicer\"",
            manifest.world
        );
    }
    let home = premia_home();
    let wit = home.join("wit").join("since_v0.1.0");
    let out_dir = out_dir.map_or_else(|| dir.join("dist"), Path::to_path_buf);
    std::fs::create_dir_all(&out_dir)?;
    let out = out_dir.join(format!("{}.wasm", manifest.name.replace('-', "_")));
    let out = std::path::absolute(&out)?;
    let dir = std::path::absolute(dir)?;
    let mut command = match manifest.language()? {
        Language::Js => {
            let script = home.join("tools/js/componentize.mjs");
            if !home
                .join("tools/js/node_modules/@bytecodealliance/componentize-js")
                .exists()
            {
                bail!("the JavaScript toolchain is not installed: {SETUP}");
            }
            let mut command = Command::new("node");
            command
                .arg(script)
                .arg(dir.join(&manifest.source))
                .arg(&wit)
                .arg(&manifest.world)
                .arg(&out);
            command
        }
        Language::Python => {
            let tool = home.join("tools/python/.venv/bin/componentize-py");
            if !tool.exists() {
                bail!("the Python toolchain is not installed: {SETUP}");
            }
            let module = manifest.source.trim_end_matches(".py");
            let mut command = Command::new(tool);
            command
                .arg("-d")
                .arg(&wit)
                .args(["-w", &manifest.world, "componentize", "--stub-wasi", "-p"])
                .arg(&dir)
                .arg(module)
                .arg("-o")
                .arg(&out);
            command
        }
        Language::Rust => unreachable!("Manifest::language never answers Rust"),
    };
    let output = command
        .current_dir(&dir)
        .output()
        .context("running the plugin toolchain")?;
    if !output.status.success() {
        bail!(
            "building {} failed:\n{}{}",
            manifest.name,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_names_the_language_world_and_source_of_a_plugin() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(MANIFEST),
            r#"{"name": "r", "version": "0.1.0", "language": "python", "world": "rater", "source": "app.py"}"#,
        )
        .unwrap();
        let manifest = Manifest::read(dir.path()).unwrap();
        assert_eq!(manifest.language().unwrap(), Language::Python);
        assert_eq!(manifest.world, "rater");
        assert_eq!(manifest.source, "app.py");
    }

    #[test]
    fn a_manifest_in_an_unknown_language_is_refused_by_name() {
        let manifest = Manifest {
            name: "r".into(),
            language: "cobol".into(),
            world: "rater".into(),
            source: "r.cbl".into(),
        };
        let error = manifest.language().unwrap_err().to_string();
        assert!(error.contains("\"cobol\""), "{error}");
    }
}
