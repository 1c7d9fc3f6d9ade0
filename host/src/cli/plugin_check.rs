//! `premia plugin check <file.wasm>`: is this component a plugin this host
//! can run?

use crate::plugin::{PluginLimits, PluginRuntime};
use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;

pub fn run(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let runtime = PluginRuntime::new(PluginLimits::default())?;
    let report = match runtime.inspect(&bytes) {
        Ok(report) => report,
        Err(error) => {
            if json {
                println!("{}", serde_json::json!({"compatible": false, "problems": [error.to_string()]}));
            } else {
                println!("{}: incompatible\n  - {error}", file.display());
            }
            return Ok(ExitCode::from(1));
        }
    };
    if json {
        let mut value = serde_json::to_value(&report)?;
        value["compatible"] = report.is_compatible().into();
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}", file.display());
        println!("  world:       {}", report.world.map_or("none".to_string(), |w| format!("{w:?}").to_lowercase()));
        println!("  wit version: {}", report.wit_version.as_deref().unwrap_or("none"));
        println!("  size:        {} bytes", report.size_bytes);
        println!("  sha256:      {}", report.content_sha256);
        println!("  imports:     {}", report.imports.join(", "));
        if report.is_compatible() {
            println!("  compatible:  yes");
        } else {
            println!("  compatible:  no");
            for problem in &report.problems {
                println!("    - {problem}");
            }
        }
    }
    Ok(if report.is_compatible() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
