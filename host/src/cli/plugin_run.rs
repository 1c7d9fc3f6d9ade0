//! `premia plugin run <file.wasm> --input <request.json>`: one call in the
//! production sandbox, with its measurements, like Shopify's function-runner.

use crate::plugin::{DraftInvoice, PluginLimits, PluginRuntime, PluginWorld};
use crate::rating::RateRequest;
use anyhow::Context;
use premia_plugin_sdk::tables::RateTables;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run(
    file: &Path,
    input: &Path,
    tables: Option<&Path>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let input_text =
        std::fs::read_to_string(input).with_context(|| format!("reading {}", input.display()))?;
    let tables = match tables {
        Some(dir) => RateTables::from_dir(dir).map_err(anyhow::Error::msg)?,
        None => RateTables::new(),
    };
    let runtime = PluginRuntime::new(PluginLimits::default())?;
    let info = runtime.register("cli", "local", &bytes, tables)?;
    let (outcome, report) = match info.world {
        PluginWorld::Rater => {
            let request: RateRequest = serde_json::from_str(&input_text)
                .with_context(|| format!("{} is not a rating request", input.display()))?;
            match runtime.rate(&info.id, &request) {
                Ok((response, report)) => (Ok(serde_json::to_value(response)?), Some(report)),
                Err(error) => (Err(error), None),
            }
        }
        PluginWorld::Invoicer => {
            let draft: DraftInvoice = serde_json::from_str(&input_text)
                .with_context(|| format!("{} is not a draft invoice", input.display()))?;
            match runtime.adjust_invoice(&info.id, &draft) {
                Ok((adjustments, report)) => (Ok(serde_json::to_value(adjustments)?), Some(report)),
                Err(error) => (Err(error), None),
            }
        }
    };
    let (body, code) = match outcome {
        Ok(result) => (
            serde_json::json!({ "result": result, "report": report }),
            ExitCode::SUCCESS,
        ),
        Err(error) => (
            serde_json::json!({ "error": { "code": error.code(), "message": error.to_string() } }),
            ExitCode::from(1),
        ),
    };
    writeln!(out, "{}", serde_json::to_string_pretty(&body)?)?;
    Ok(code)
}
