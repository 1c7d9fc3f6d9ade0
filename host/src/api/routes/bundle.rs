//! `POST /v1/previews`: a bundle of previews. Any command the API commits
//! may be previewed together with others, across policies and accounts, in
//! order: policy commands, billing commands (payments, plan changes, holds,
//! write-offs, credit, disbursements, settings) and billing runs. They run on
//! a copy of the tenant's state by the code a commit runs, and nothing is
//! kept; the answer is their effect with a summary of every account they
//! touch (what it owes, its credit, the refund due or amount owed, and the
//! next invoice).
//!
//! Each entry is the body of its endpoint with the command's name in
//! `command` (the names of the `PolicyCommand` and `BillingCommand` enums,
//! and `run_billing` for a billing run), and needs the role its endpoint
//! needs: a bundle is never shown to a key that could not commit it. An
//! entry the commit would refuse refuses the bundle with the same problem.

use super::command::{Effect, preview_steps};
use crate::api::auth::{Access, Allowed, can};
use crate::api::error::ApiError;
use crate::api::extract::ApiJson;
use crate::api::state::AppState;
use crate::collections::BillingCommand;
use crate::engine::{EngineCommand, PreviewStep};
use crate::policy::PolicyCommand;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Bounds a bundle preview.
pub const BUNDLE_COMMANDS_MAX: usize = 100;

/// The body of `POST /v1/previews`.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// 1 to 100 commands, previewed in order.
    #[schema(value_type = Vec<BundleCommand>)]
    pub commands: Vec<Value>,
}

/// An entry of a bundle: a policy command, a billing command, or a billing
/// run, named by `command`. (Documentation only: entries are read by
/// [`parse_entry`], which refuses unknown fields of billing commands as their
/// endpoints do.)
#[derive(utoipa::ToSchema, Serialize)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum BundleCommand {
    Policy(PolicyCommand),
    Billing(BillingCommand),
    BillingRun(BundleBillingRun),
}

/// A billing run of every account in a bundle, as `POST /v1/billing/runs`.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleBillingRun {
    pub command: RunBillingTag,
    /// At most the tenant's today (`GET /v1/clock`); today when left out.
    #[serde(default)]
    pub up_to: Option<NaiveDate>,
}

/// The name of a billing run entry.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunBillingTag {
    RunBilling,
}

/// Previews several commands across policies and accounts, in order, as one
/// effect with a summary per account touched; nothing is kept.
#[utoipa::path(post, path = "/v1/previews", request_body = Bundle, responses((status = 200, body = Effect)), tag = "policies")]
pub async fn preview_bundle(
    State(state): State<AppState>,
    // A key that may commit nothing previews nothing (checked before the
    // body is read); each entry is checked against its own endpoint's roles
    // below.
    caller: Allowed<can::CommitSomething>,
    ApiJson(body): ApiJson<Bundle>,
) -> Result<(StatusCode, Json<Effect>), ApiError> {
    if body.commands.is_empty() || body.commands.len() > BUNDLE_COMMANDS_MAX {
        return Err(ApiError::unprocessable(
            "invalid_bundle",
            format!("send 1 to {BUNDLE_COMMANDS_MAX} commands"),
        ));
    }
    let steps = body
        .commands
        .into_iter()
        .enumerate()
        .map(|(position, entry)| parse_entry(entry).map_err(|e| at(position, e)))
        .collect::<Result<Vec<PreviewStep>, ApiError>>()?;
    for step in &steps {
        caller.require_any(access(step))?;
    }
    preview_steps(&state, &caller, steps, None).await
}

/// Names the entry a problem is about.
fn at(position: usize, mut error: ApiError) -> ApiError {
    error.detail = format!("commands[{position}]: {}", error.detail);
    error
}

/// Reads one entry of a bundle.
pub fn parse_entry(entry: Value) -> Result<PreviewStep, ApiError> {
    let Value::Object(mut fields) = entry else {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "each command is a JSON object",
        ));
    };
    let kind = match fields.get("command") {
        Some(Value::String(kind)) => kind.clone(),
        _ => {
            return Err(ApiError::unprocessable(
                "invalid_body",
                "each command names what it is in `command`",
            ));
        }
    };
    match kind.as_str() {
        "deploy_product" => Err(ApiError::unprocessable(
            "invalid_bundle",
            "products are deployed at /v1/products",
        )),
        "run_account" => Err(ApiError::unprocessable(
            "invalid_bundle",
            "a billing run in a bundle is `run_billing` (every account, as POST /v1/billing/runs)",
        )),
        "run_billing" => {
            let run: BundleBillingRun = serde_json::from_value(Value::Object(fields))
                .map_err(|e| ApiError::unprocessable("invalid_body", e.to_string()))?;
            Ok(PreviewStep::BillingRun { up_to: run.up_to })
        }
        kind if billing_kinds().contains(kind) => {
            fields.remove("command");
            let command = super::billing::command(kind, Value::Object(fields), &[])?;
            Ok(PreviewStep::Command(EngineCommand::Billing(command)))
        }
        _ => {
            let command: PolicyCommand = serde_json::from_value(Value::Object(fields))
                .map_err(|e| ApiError::unprocessable("invalid_body", e.to_string()))?;
            Ok(PreviewStep::Command(EngineCommand::Policy(command)))
        }
    }
}

/// The names of the billing commands, from the schema their endpoints'
/// bodies are cut from (so a new billing command is a bundle entry too).
fn billing_kinds() -> &'static BTreeSet<String> {
    static KINDS: OnceLock<BTreeSet<String>> = OnceLock::new();
    KINDS.get_or_init(|| {
        crate::api::openapi::billing_command_bodies()
            .into_keys()
            .collect()
    })
}

/// The roles that may commit a step: those of its endpoint.
fn access(step: &PreviewStep) -> &'static [Access] {
    use BillingCommand as B;
    use PolicyCommand as P;
    match step {
        PreviewStep::BillingRun { .. } => &[Access::Collect],
        PreviewStep::Command(EngineCommand::Policy(command)) => match command {
            P::AddFlatCharge { .. } | P::ReverseCharges { .. } => {
                &[Access::Transact, Access::Collect]
            }
            P::DeployProduct { .. } => &[Access::Configure],
            _ => &[Access::Transact],
        },
        PreviewStep::Command(EngineCommand::Billing(command)) => match command {
            B::ChangePlan { .. } => &[Access::Transact],
            B::ConfigureBilling { .. } | B::ConfigureAccount { .. } => &[Access::Configure],
            _ => &[Access::Collect],
        },
        PreviewStep::Command(EngineCommand::Clock(_)) => &[Access::Configure],
        PreviewStep::Command(EngineCommand::Accounting(command)) => match command {
            crate::engine::AccountingCommand::UploadGlMapping { .. } => &[Access::Configure],
            _ => &[Access::Collect],
        },
        PreviewStep::Command(EngineCommand::Keys(_)) => &[Access::Configure],
        PreviewStep::Command(
            EngineCommand::Config(_) | EngineCommand::Shadow(_) | EngineCommand::Webhooks(_),
        ) => &[Access::Configure],
        PreviewStep::Command(EngineCommand::Payments(command)) => match command {
            crate::payments::PaymentCommand::ConfigureProcessor { .. } => &[Access::Configure],
            _ => &[Access::Collect],
        },
    }
}
