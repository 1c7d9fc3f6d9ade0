//! Collections over HTTP: billing settings, billing runs, invoices,
//! payments and their reversal, credit distribution, write-offs,
//! disbursements, holds and payment-plan changes. Each endpoint builds one
//! billing command from its path and body; unknown fields are refused, and
//! so is a repeated one (by [`ApiJson`], as for every body). The caller's
//! role is checked before the body is read ([`Allowed`]).

use super::command::{Effect, run};
use crate::api::auth::{Access, Allowed, Caller, Needs, can};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, IdempotencyKey, Preview, blocking};
use crate::api::state::AppState;
use crate::collections::BillingCommand;
use crate::engine::{EngineCommand, RequestMeta};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

type Answer = Result<(StatusCode, Json<Effect>), ApiError>;

/// The billing command `kind` from a JSON body plus fields taken from the
/// path (or, in a bundle of previews, from an entry without its `command`).
pub(crate) fn command(
    kind: &str,
    body: Value,
    from_path: &[(&str, &str)],
) -> Result<BillingCommand, ApiError> {
    let Value::Object(mut fields) = body else {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "the body must be a JSON object",
        ));
    };
    for (name, value) in from_path {
        if fields
            .insert((*name).to_string(), Value::String((*value).to_string()))
            .is_some()
        {
            return Err(ApiError::unprocessable(
                "invalid_body",
                format!("`{name}` comes from the path, not the body"),
            ));
        }
    }
    if fields.contains_key("command") {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "unknown field `command`",
        ));
    }
    let mut tagged = Map::new();
    tagged.insert("command".into(), Value::String(kind.into()));
    tagged.extend(fields);
    let sent: Vec<String> = tagged.keys().cloned().collect();
    let command: BillingCommand = serde_json::from_value(Value::Object(tagged))
        .map_err(|e| ApiError::unprocessable("invalid_body", e.to_string()))?;
    // Unknown fields are refused: every field sent must be one the command has.
    let known = serde_json::to_value(&command).expect("commands serialize");
    if let Some(unknown) = sent.iter().find(|name| known.get(name.as_str()).is_none()) {
        return Err(ApiError::unprocessable(
            "invalid_body",
            format!("unknown field `{unknown}`"),
        ));
    }
    Ok(command)
}

/// Runs a billing command for a caller already allowed to (by [`Allowed`],
/// before the body was read).
async fn billing<N: Needs>(
    state: &AppState,
    caller: &Allowed<N>,
    command: BillingCommand,
    preview: Preview,
    key: Option<String>,
) -> Answer {
    run(
        state,
        caller,
        EngineCommand::Billing(command),
        preview.0,
        key,
    )
    .await
}

macro_rules! billing_endpoint {
    ($(#[$doc:meta])* $name:ident, $path:literal, $kind:literal, $needs:ty) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, request_body = Object, responses((status = 201, description = "Committed", body = Effect)), tag = "billing")]
        pub async fn $name(
            State(state): State<AppState>,
            caller: Allowed<$needs>,
            preview: Preview,
            IdempotencyKey(key): IdempotencyKey,
            ApiJson(body): ApiJson<Value>,
        ) -> Answer {
            let command = command($kind, body, &[])?;
            billing(&state, &caller, command, preview, key).await
        }
    };
    ($(#[$doc:meta])* $name:ident, $path:literal, $kind:literal, $needs:ty, $field:literal) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, request_body = Object, responses((status = 201, description = "Committed", body = Effect)), tag = "billing")]
        pub async fn $name(
            State(state): State<AppState>,
            caller: Allowed<$needs>,
            preview: Preview,
            IdempotencyKey(key): IdempotencyKey,
            Path(id): Path<String>,
            ApiJson(body): ApiJson<Value>,
        ) -> Answer {
            let command = command($kind, body, &[($field, id.as_str())])?;
            billing(&state, &caller, command, preview, key).await
        }
    };
}

billing_endpoint!(
    /// Tenant billing settings (calendar, invoice grouping, credit, delinquency, write-off threshold).
    configure_billing, "/v1/billing/settings", "configure_billing", can::Configure
);
billing_endpoint!(
    /// An account's overrides of the tenant's billing settings.
    configure_account, "/v1/accounts/{account}/billing-settings", "configure_account", can::Configure, "account"
);
billing_endpoint!(
    /// Records a payment against an account (optionally for given invoices).
    record_payment, "/v1/payments", "record_payment", can::Collect
);
billing_endpoint!(
    /// Reverses a payment (a returned cheque), with an optional fee.
    reverse_payment, "/v1/payments/{payment}/reversals", "reverse_payment", can::Collect, "payment"
);
billing_endpoint!(
    /// Applies customer credit to invoices.
    distribute_credit, "/v1/credit-distributions", "distribute_credit", can::Collect
);
billing_endpoint!(
    /// Writes off an invoice or an item, whole or in part.
    write_off, "/v1/write-offs", "write_off", can::Collect
);
billing_endpoint!(
    /// Reverses a write-off.
    reverse_write_off, "/v1/write-offs/{write_off}/reversals", "reverse_write_off", can::Collect, "write_off"
);
billing_endpoint!(
    /// Drafts a disbursement of customer credit.
    draft_disbursement, "/v1/disbursements", "draft_disbursement", can::Collect
);
billing_endpoint!(
    /// Approves a disbursement; a billing run executes it.
    approve_disbursement, "/v1/disbursements/{disbursement}/approvals", "approve_disbursement", can::Collect, "disbursement"
);
billing_endpoint!(
    /// Rejects a disbursement.
    reject_disbursement, "/v1/disbursements/{disbursement}/rejections", "reject_disbursement", can::Collect, "disbursement"
);
billing_endpoint!(
    /// Reverses an executed disbursement.
    reverse_disbursement, "/v1/disbursements/{disbursement}/reversals", "reverse_disbursement", can::Collect, "disbursement"
);
billing_endpoint!(
    /// Places an invoicing hold, a delinquency hold or a suspension.
    place_hold, "/v1/holds", "place_hold", can::Collect
);
billing_endpoint!(
    /// Releases a hold (catch-up invoice as the hold says).
    release_hold, "/v1/holds/{hold}/releases", "release_hold", can::Collect, "hold"
);
billing_endpoint!(
    /// Changes a live term's payment plan: future installments are re-spread.
    change_plan, "/v1/policies/{policy}/plan-changes", "change_plan", can::Transact, "policy"
);

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingRun {
    /// The date to run to: at most the tenant's today (`GET /v1/clock`);
    /// today when left out.
    #[serde(default)]
    pub up_to: Option<NaiveDate>,
}

/// What `POST /v1/billing/runs` answers: the run's report, or with
/// `?preview=true` what the run would do.
#[derive(utoipa::ToSchema, Debug, Serialize)]
#[serde(untagged)]
pub enum BillingRunAnswer {
    Report(crate::engine::BillingRunReport),
    Preview(Box<crate::engine::BillingRunPreview>),
}

/// Runs billing up to a date (by default the tenant's today) for every
/// account: invoices, past due, delinquency and lapse, disbursements,
/// automatic write-offs. Idempotent: the same date twice changes nothing the
/// second time. A date past the tenant's today is refused with 422
/// `run_in_the_future` and nothing changes. With `?preview=true`, the same
/// run is made on a copy of the tenant's state and nothing is kept: the
/// answer lists the invoices it would issue, invoices it would mark past
/// due, delinquencies, lapses and their cancellations, write-offs,
/// disbursements, fees, journal entries and every event.
#[utoipa::path(
    post,
    path = "/v1/billing/runs",
    request_body = BillingRun,
    params(("preview" = Option<bool>, Query, description = "Return what the run would do without keeping anything.")),
    responses((status = 200, body = BillingRunAnswer)),
    tag = "billing",
    operation_id = "run_billing"
)]
pub async fn post_billing_run(
    State(state): State<AppState>,
    caller: Allowed<can::Collect>,
    preview: Preview,
    ApiJson(body): ApiJson<BillingRun>,
) -> Result<Json<BillingRunAnswer>, ApiError> {
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let meta = RequestMeta {
            actor: format!("{}:{}", caller.role.name(), caller.label),
            issued_at: chrono::Utc::now(),
            idempotency_key: None,
            arithmetic: crate::billing::Arithmetic::Written,
        };
        if preview.0 {
            let answer = engine.preview_billing_run(&caller.tenant, body.up_to, &meta)?;
            return Ok(Json(BillingRunAnswer::Preview(Box::new(answer))));
        }
        Ok(Json(BillingRunAnswer::Report(engine.run_billing(
            &caller.tenant,
            body.up_to,
            &meta,
        )?)))
    })
    .await
}

/// An account's invoices with what each still owes, and its payments.
#[utoipa::path(get, path = "/v1/accounts/{account}/billing", responses((status = 200, body = Object)), tag = "billing")]
pub async fn account_billing(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let found = engine.read(&caller.tenant, |s| {
            s.collections.accounts.get(&account).map(|a| {
                let invoices: Vec<Value> = a
                    .invoices
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "invoice": r.invoice,
                            "paid": r.paid,
                            "credited": r.credited,
                            "written_off": r.written_off,
                            "outstanding": r.outstanding(),
                            "past_due_on": r.past_due_on,
                        })
                    })
                    .collect();
                let payments: Vec<Value> = a
                    .payments
                    .iter()
                    .map(
                        |p| serde_json::json!({"payment": p.payment, "reversed_on": p.reversed_on}),
                    )
                    .collect();
                let mut billing = serde_json::json!({
                    "account": a.locator,
                    "currency": a.currency,
                    "credit": a.credit,
                    "invoices": invoices,
                    "payments": payments,
                    "delinquencies": a.delinquencies,
                });
                // The part of the credit flagged for deductibles (seed 003),
                // shown only when there is some.
                if !a.deductible_credit.is_zero() {
                    billing["deductible_credit"] = serde_json::json!(a.deductible_credit);
                }
                // Credit reserved for policy terms and transactions (seed 003).
                if !a.scoped_credit.is_empty() {
                    billing["reserved_credit"] = serde_json::json!(a.scoped_credit);
                }
                billing
            })
        })?;
        found
            .map(Json)
            .ok_or_else(|| ApiError::not_found(format!("no billing account {account}")))
    })
    .await
}
