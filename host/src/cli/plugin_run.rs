//! `premia plugin run <file.wasm> --input <request.json>`: a call in the
//! production sandbox, with its measurements, like Shopify's function-runner.
//! `--expect` compares the result with the response the author expects;
//! `--instance-policy` and `--calls` show what a pooled instance costs.

use crate::plugin::{DraftInvoice, InstancePolicy, PluginLimits, PluginRuntime, PluginWorld};
use crate::rating::{RateRequest, RateResponse};
use anyhow::Context;
use premia_plugin_sdk::tables::RateTables;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The options of `premia plugin run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub tables: Option<PathBuf>,
    pub expect: Option<PathBuf>,
    pub instance_policy: InstancePolicy,
    pub calls: u32,
    /// Overrides the wall-time limit of a call, in milliseconds.
    pub wall_time_ms: Option<u64>,
}

pub fn run(
    file: &Path,
    input: &Path,
    options: &RunOptions,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let input_text =
        std::fs::read_to_string(input).with_context(|| format!("reading {}", input.display()))?;
    let tables = match &options.tables {
        Some(dir) => RateTables::from_dir(dir).map_err(anyhow::Error::msg)?,
        None => RateTables::new(),
    };
    let mut limits = PluginLimits::default();
    if let Some(wall_time_ms) = options.wall_time_ms {
        limits.wall_time_ms_max = wall_time_ms;
    }
    let runtime = PluginRuntime::new(limits)?;
    let info =
        runtime.register_with_policy("cli", "local", &bytes, tables, options.instance_policy)?;
    let mut outcome = Err(anyhow::anyhow!("no call was made"));
    for _ in 0..options.calls.max(1) {
        outcome = match info.world {
            PluginWorld::Rater => {
                let request: RateRequest = serde_json::from_str(&input_text)
                    .with_context(|| format!("{} is not a rating request", input.display()))?;
                runtime
                    .rate(&info.id, &request)
                    .map(|(response, report)| (serde_json::to_value(response), report))
            }
            PluginWorld::Invoicer => {
                let draft: DraftInvoice = serde_json::from_str(&input_text)
                    .with_context(|| format!("{} is not a draft invoice", input.display()))?;
                runtime
                    .adjust_invoice(&info.id, &draft)
                    .map(|(adjustments, report)| (serde_json::to_value(adjustments), report))
            }
        }
        .map_err(anyhow::Error::from);
        if outcome.is_err() {
            break;
        }
    }
    let (body, code) = match outcome {
        Ok((result, report)) => {
            let result = result?;
            let mut body = serde_json::json!({ "result": result, "report": report });
            let mut code = ExitCode::SUCCESS;
            if let Some(expected) = &options.expect {
                let matches = matches_expected(info.world, &result, expected)?;
                body["expected"] = serde_json::json!({ "file": expected, "matches": matches });
                if !matches {
                    code = ExitCode::from(1);
                }
            }
            (body, code)
        }
        Err(error) => {
            let body = match error.downcast_ref::<crate::plugin::PluginError>() {
                Some(error) => serde_json::json!({
                    "error": { "code": error.code(), "message": error.to_string() }
                }),
                None => return Err(error),
            };
            (body, ExitCode::from(1))
        }
    };
    writeln!(out, "{}", serde_json::to_string_pretty(&body)?)?;
    Ok(code)
}

/// Whether `result` is the response in `expected`: amounts compare as
/// decimals ("660.0" is "660.00"), everything else exactly.
fn matches_expected(
    world: PluginWorld,
    result: &serde_json::Value,
    expected: &Path,
) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(expected)
        .with_context(|| format!("reading {}", expected.display()))?;
    let expected_value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", expected.display()))?;
    Ok(match world {
        PluginWorld::Rater => {
            let want: RateResponse = serde_json::from_value(expected_value)
                .with_context(|| format!("{} is not a rating response", expected.display()))?;
            let got: RateResponse = serde_json::from_value(result.clone())?;
            want == got
        }
        PluginWorld::Invoicer => &expected_value == result,
    })
}
