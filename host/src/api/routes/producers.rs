//! Commissions payable per producer over HTTP (DOMAIN section 10, issue 21
//! item 4): the producers with their balances and a producer's statement
//! of an accounting month (reads, `Access::Read`; the figures come from
//! [`crate::engine`]'s producer subledger), and commission payments to a
//! producer: drafted, approved or rejected, executed (billing staff,
//! `can::Collect`; each previewable and idempotent like every command).

use super::accounting::month;
use super::command::{Effect, run};
use crate::api::auth::{Access, Allowed, Caller, can};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, IdempotencyKey, Preview, blocking};
use crate::api::state::AppState;
use crate::domain::{Currency, Money};
use crate::engine::{
    AccountingCommand, CommissionPayment, EngineCommand, ProducerBalance, ProducerStatement,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde::Deserialize;

type Answer = Result<(StatusCode, Json<Effect>), ApiError>;

/// Every producer ever owed commission, with what was written, charged
/// back and paid and the commission payable, per currency.
#[utoipa::path(get, path = "/v1/producers", responses((status = 200, body = Vec<ProducerBalance>)), tag = "accounting")]
pub async fn list_producers(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ProducerBalance>>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || Ok(Json(engine.read(&caller.tenant, |s| s.producers())?))).await
}

/// A producer's statement of an accounting month (`YYYY-MM`): per currency
/// the payable at the month's start, commission written, charged back
/// (negative) and paid in it, the payable at its end; and the month's
/// commissions beside the premium (and technical premium) they were taken
/// on. A producer never owed commission is a 404 `unknown_producer`.
#[utoipa::path(get, path = "/v1/producers/{producer}/statements/{period}", responses((status = 200, body = ProducerStatement)), tag = "accounting")]
pub async fn producer_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path((producer, period)): Path<(String, String)>,
) -> Result<Json<ProducerStatement>, ApiError> {
    caller.require(Access::Read)?;
    let period = month(&period)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        Ok(Json(engine.read(&caller.tenant, |s| {
            s.producer_statement(&producer, period)
        })??))
    })
    .await
}

/// A commission payment to draft: `{"amount": "100.00", "currency": "USD",
/// "reason": "December commission"}`.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCommissionPayment {
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: Currency,
    #[serde(default)]
    pub reason: String,
}

/// Why a commission payment is rejected.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRejection {
    #[serde(default)]
    pub reason: String,
}

async fn run_accounting<N: crate::api::auth::Needs>(
    state: &AppState,
    caller: &Allowed<N>,
    command: AccountingCommand,
    preview: bool,
    key: Option<String>,
) -> Answer {
    run(
        state,
        caller,
        EngineCommand::Accounting(command),
        preview,
        key,
    )
    .await
}

/// Drafts a commission payment to a producer (a disbursement to the
/// producer). Refused (409 `commission_payment_over_payable`, nothing
/// changed) when it is more than the producer's commission payable in the
/// currency less the payments already drafted or approved.
#[utoipa::path(post, path = "/v1/producers/{producer}/commission-payments", request_body = NewCommissionPayment, responses((status = 201, description = "Drafted: the `commission_payment_drafted` event", body = Effect)), tag = "accounting")]
pub async fn draft_commission_payment(
    State(state): State<AppState>,
    caller: Allowed<can::Collect>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path(producer): Path<String>,
    ApiJson(body): ApiJson<NewCommissionPayment>,
) -> Answer {
    let command = AccountingCommand::DraftCommissionPayment {
        producer,
        amount: Money {
            amount: body.amount,
            currency: body.currency,
        },
        reason: body.reason,
    };
    run_accounting(&state, &caller, command, preview.0, key).await
}

/// A producer's commission payments, in the order drafted.
#[utoipa::path(get, path = "/v1/producers/{producer}/commission-payments", responses((status = 200, body = Vec<CommissionPayment>)), tag = "accounting")]
pub async fn list_commission_payments(
    State(state): State<AppState>,
    caller: Caller,
    Path(producer): Path<String>,
) -> Result<Json<Vec<CommissionPayment>>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        Ok(Json(engine.read(&caller.tenant, |s| {
            let mut payments: Vec<CommissionPayment> = s
                .accounting
                .producers
                .payments_of(&producer)
                .cloned()
                .collect();
            payments.sort_by_key(|p| {
                p.locator
                    .rsplit("-CP")
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
            });
            payments
        })?))
    })
    .await
}

/// Approves a drafted commission payment.
#[utoipa::path(post, path = "/v1/producers/{producer}/commission-payments/{payment}/approvals", responses((status = 201, description = "Approved", body = Effect)), tag = "accounting")]
pub async fn approve_commission_payment(
    State(state): State<AppState>,
    caller: Allowed<can::Collect>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path((producer, payment)): Path<(String, String)>,
) -> Answer {
    let command = AccountingCommand::ApproveCommissionPayment { producer, payment };
    run_accounting(&state, &caller, command, preview.0, key).await
}

/// Rejects a drafted or approved commission payment.
#[utoipa::path(post, path = "/v1/producers/{producer}/commission-payments/{payment}/rejections", request_body = PaymentRejection, responses((status = 201, description = "Rejected", body = Effect)), tag = "accounting")]
pub async fn reject_commission_payment(
    State(state): State<AppState>,
    caller: Allowed<can::Collect>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path((producer, payment)): Path<(String, String)>,
    ApiJson(body): ApiJson<PaymentRejection>,
) -> Answer {
    let command = AccountingCommand::RejectCommissionPayment {
        producer,
        payment,
        reason: body.reason,
    };
    run_accounting(&state, &caller, command, preview.0, key).await
}

/// Executes an approved commission payment on the tenant's today: Dr
/// commission payable/producer, Cr cash (`commission_paid`). Refused when
/// the payable has dropped below its amount since it was drafted.
#[utoipa::path(post, path = "/v1/producers/{producer}/commission-payments/{payment}/executions", responses((status = 201, description = "Executed: the event and its entry", body = Effect)), tag = "accounting")]
pub async fn execute_commission_payment(
    State(state): State<AppState>,
    caller: Allowed<can::Collect>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path((producer, payment)): Path<(String, String)>,
) -> Answer {
    let command = AccountingCommand::ExecuteCommissionPayment { producer, payment };
    run_accounting(&state, &caller, command, preview.0, key).await
}
