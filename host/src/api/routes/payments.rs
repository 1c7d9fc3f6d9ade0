//! Payments over HTTP (DOMAIN section 11): an account's payment methods
//! (attach, list, detach), its autopay enrolment, the tenant's payment
//! processor adapter (admin; its signing secret shown once), the
//! collection attempts, and the processor's signed events.
//!
//! A payment method is a processor's token and display fields: anything
//! that looks like a full card number in any field of the body is refused
//! (`card_number_refused`, 422) before anything is kept. The token is
//! sealed in the secret area; events carry its reference, and no answer,
//! export or log shows it.

use super::command::{Effect, run};
use crate::api::auth::{Access, Allowed, Caller, can, valid_tenant};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, IdempotencyKey, NoPreview, Preview, blocking};
use crate::api::state::AppState;
use crate::engine::{EngineCommand, EngineError, RequestMeta};
use crate::payments::protocol::ProcessorEventBody;
use crate::payments::state::refuse_card_numbers;
use crate::payments::{
    Autopay, CollectionAttempt, MethodType, PaymentCommand, PaymentError, PaymentMethod,
};
use crate::webhooks::WebhookSecret;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The actor of processor events.
pub const PROCESSOR_ACTOR: &str = "processor";
/// How far a processor event's timestamp may be from now, in seconds.
pub const PROCESSOR_EVENT_SKEW_SECONDS_MAX: i64 = 300;
/// The largest processor event body, in bytes.
pub const PROCESSOR_EVENT_BYTES_MAX: usize = 64 * 1024;

/// A payment method to attach.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMethod {
    #[serde(rename = "type")]
    pub method_type: MethodType,
    /// The processor's token (never a card or bank number).
    pub token: String,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub last_four: String,
    #[serde(default)]
    pub exp_month: Option<u32>,
    #[serde(default)]
    pub exp_year: Option<u32>,
    /// Makes it the account's default (the first method always is).
    #[serde(default)]
    pub default: bool,
}

/// A payment method as shown: display fields only, never its token.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize)]
pub struct MethodView {
    pub id: String,
    pub account: String,
    #[serde(rename = "type")]
    pub method_type: MethodType,
    pub brand: String,
    pub last_four: String,
    pub exp_month: Option<u32>,
    pub exp_year: Option<u32>,
    pub default: bool,
    pub attached_at: DateTime<Utc>,
    pub attached_by: String,
}

/// An account's payment methods and autopay enrolment.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize)]
pub struct AccountMethods {
    pub methods: Vec<MethodView>,
    pub autopay: Autopay,
}

/// Autopay on (with a method, or the account's default) or off.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutopayChange {
    #[serde(default)]
    pub method: Option<String>,
    pub enabled: bool,
}

/// The tenant's payment processor adapter.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessorSettings {
    /// The adapter's base URL (`POST {url}/attempts`, `GET
    /// {url}/attempts/{id}`).
    pub url: String,
    /// Collect this many days before the due date (0 to 30; default 0).
    #[serde(default)]
    pub lead_days: u32,
    /// Days after the first attempt on which soft declines are retried
    /// (default 3 and 7).
    #[serde(default)]
    pub soft_decline_retry_days: Option<Vec<u32>>,
}

/// The processor adapter as configured, and (once, when it is set) the
/// secret that signs its events.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct ProcessorView {
    pub url: String,
    pub lead_days: u32,
    pub soft_decline_retry_days: Vec<u32>,
    /// `whsec_...`: shown only in the answer that set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn view(method: &PaymentMethod, default: Option<&String>) -> MethodView {
    MethodView {
        id: method.id.clone(),
        account: method.account.clone(),
        method_type: method.method_type,
        brand: method.brand.clone(),
        last_four: method.last_four.clone(),
        exp_month: method.exp_month,
        exp_year: method.exp_year,
        default: default == Some(&method.id),
        attached_at: method.attached_at,
        attached_by: method.attached_by.clone(),
    }
}

fn store_error(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
        error.to_string(),
    )
}

/// Refuses a body any string or number of which looks like a full card
/// number, naming the field (never its value).
fn refuse_cards_in(value: &Value, path: &str) -> Result<(), ApiError> {
    match value {
        Value::String(text) => Ok(refuse_card_numbers(&[(path, text)])?),
        Value::Number(number) => Ok(refuse_card_numbers(&[(path, &number.to_string())])?),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| refuse_cards_in(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().try_for_each(|(name, item)| {
            let inner = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            refuse_card_numbers(&[("a field name", name)])?;
            refuse_cards_in(item, &inner)
        }),
        Value::Bool(_) | Value::Null => Ok(()),
    }
}

/// Attaches a payment method (a processor's token and display fields) to
/// an account; anything that looks like a full card number in any field
/// is refused with `card_number_refused` and nothing is kept.
#[utoipa::path(post, path = "/v1/accounts/{account}/payment-methods", request_body = NewMethod, responses((status = 201, body = MethodView), (status = 422, description = "card_number_refused: a field looks like a card number")), tag = "payments")]
pub async fn attach_method(
    State(state): State<AppState>,
    caller: Allowed<can::Collect>,
    _: NoPreview,
    Path(account): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<MethodView>), ApiError> {
    refuse_cards_in(&body, "")?;
    let body: NewMethod = serde_json::from_value(body)
        .map_err(|e| ApiError::unprocessable("invalid_body", e.to_string()))?;
    if body.token.trim().is_empty()
        || body.token.chars().count() > crate::payments::state::TOKEN_CHARS_MAX
    {
        return Err(PaymentError::BadMethod {
            field: "token",
            why: format!(
                "1 to {} characters",
                crate::payments::state::TOKEN_CHARS_MAX
            ),
        }
        .into());
    }
    let tenant = caller.tenant.clone();
    // Checked before the token is sealed: a refusal keeps nothing.
    {
        let (state, tenant, account) = (state.clone(), tenant.clone(), account.clone());
        blocking(move || {
            state
                .engine
                .read(&tenant, |s| s.collections.account(&account).map(drop))?
                .map_err(EngineError::from)?;
            Ok(())
        })
        .await?;
    }
    let token_ref = {
        let (state, tenant, token) = (state.clone(), tenant.clone(), body.token.clone());
        blocking(move || {
            state
                .raters
                .secrets
                .put_payment_token(state.store.as_ref(), &tenant, &token)
                .map_err(store_error)
        })
        .await?
    };
    let command = PaymentCommand::AttachMethod {
        account: account.clone(),
        method_type: body.method_type,
        token_ref: token_ref.clone(),
        brand: body.brand,
        last_four: body.last_four,
        exp_month: body.exp_month,
        exp_year: body.exp_year,
        make_default: body.default,
    };
    let (status, Json(effect)) = run(&state, &caller, command.into(), false, key).await?;
    let made = effect.other_events.iter().find_map(|event| match event {
        crate::engine::TenantEvent::Payments(crate::payments::PaymentEvent::MethodAttached {
            method,
            ..
        }) => Some(method.clone()),
        _ => None,
    });
    blocking(move || {
        let found = state.engine.read(&tenant, |s| {
            let method = match &made {
                Some(id) => s.payments.methods.get(id),
                None => s
                    .payments
                    .methods_of(&account)
                    .into_iter()
                    .rev()
                    .find(|m| m.token_ref == token_ref),
            }?;
            Some(view(method, s.payments.defaults.get(&account)))
        })?;
        let found = found.ok_or_else(|| ApiError::not_found("the payment method was detached"))?;
        Ok((status, Json(found)))
    })
    .await
}

/// An account's payment methods (display fields only) and autopay.
#[utoipa::path(get, path = "/v1/accounts/{account}/payment-methods", responses((status = 200, body = AccountMethods)), tag = "payments")]
pub async fn list_methods(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> Result<Json<AccountMethods>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || {
        let answer = state.engine.read(&caller.tenant, |s| {
            s.collections.account(&account)?;
            let default = s.payments.defaults.get(&account);
            Ok::<_, EngineError>(AccountMethods {
                methods: s
                    .payments
                    .methods_of(&account)
                    .into_iter()
                    .map(|m| view(m, default))
                    .collect(),
                autopay: s
                    .payments
                    .autopay
                    .get(&account)
                    .cloned()
                    .unwrap_or(Autopay {
                        enabled: false,
                        method: None,
                    }),
            })
        })??;
        Ok(Json(answer))
    })
    .await
}

/// Detaches a payment method (refused while autopay uses it).
#[utoipa::path(delete, path = "/v1/accounts/{account}/payment-methods/{id}", responses((status = 201, body = Effect)), tag = "payments")]
pub async fn detach_method(
    State(state): State<AppState>,
    caller: Allowed<can::Collect>,
    preview: Preview,
    Path((account, method)): Path<(String, String)>,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<(StatusCode, Json<Effect>), ApiError> {
    let command = PaymentCommand::DetachMethod { account, method };
    run(&state, &caller, command.into(), preview.0, key).await
}

/// Turns autopay on (with `method`, or the account's default) or off.
#[utoipa::path(post, path = "/v1/accounts/{account}/autopay", request_body = AutopayChange, responses((status = 201, body = Effect)), tag = "payments")]
pub async fn set_autopay(
    State(state): State<AppState>,
    caller: Allowed<can::Collect>,
    preview: Preview,
    Path(account): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<AutopayChange>,
) -> Result<(StatusCode, Json<Effect>), ApiError> {
    let command = PaymentCommand::SetAutopay {
        account,
        method: body.method,
        enabled: body.enabled,
    };
    run(&state, &caller, command.into(), preview.0, key).await
}

/// An account's collection attempts, oldest first.
#[utoipa::path(get, path = "/v1/accounts/{account}/collection-attempts", responses((status = 200, body = Vec<CollectionAttempt>)), tag = "payments")]
pub async fn list_attempts(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> Result<Json<Vec<CollectionAttempt>>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || {
        let mut found = state.engine.read(&caller.tenant, |s| {
            s.collections.account(&account)?;
            Ok::<_, EngineError>(
                s.payments
                    .attempts
                    .values()
                    .filter(|a| a.account == account)
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        })??;
        found.sort_by_key(|a| a.id[3..].parse::<u32>().unwrap_or(u32::MAX));
        Ok(Json(found))
    })
    .await
}

/// Sets the tenant's payment processor adapter; a new signing secret for
/// its events is made and shown once in this answer.
#[utoipa::path(post, path = "/v1/payment-processor", request_body = ProcessorSettings, responses((status = 201, body = ProcessorView)), tag = "payments")]
pub async fn configure_processor(
    State(state): State<AppState>,
    caller: Allowed<can::Configure>,
    _: NoPreview,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<ProcessorSettings>,
) -> Result<(StatusCode, Json<ProcessorView>), ApiError> {
    let retry_days = body
        .soft_decline_retry_days
        .unwrap_or_else(|| crate::payments::retry::SOFT_DECLINE_RETRY_DAYS.to_vec());
    crate::payments::state::check_processor(&body.url, body.lead_days, &retry_days)?;
    let tenant = caller.tenant.clone();
    let (secret, secret_ref) = {
        let (state, tenant, key) = (state.clone(), tenant.clone(), key.clone());
        blocking(move || {
            let secret = state.raters.secrets.new_webhook_secret(
                &tenant,
                key.as_deref().map(|k| format!("processor/{k}")).as_deref(),
            );
            let reference = state
                .raters
                .secrets
                .put_webhook_secret(state.store.as_ref(), &tenant, &secret)
                .map_err(store_error)?;
            Ok((secret.text(), reference))
        })
        .await?
    };
    let command = PaymentCommand::ConfigureProcessor {
        url: body.url.clone(),
        secret_ref,
        lead_days: body.lead_days,
        soft_decline_retry_days: retry_days.clone(),
    };
    let (status, _) = run(&state, &caller, command.into(), false, key).await?;
    Ok((
        status,
        Json(ProcessorView {
            url: body.url,
            lead_days: body.lead_days,
            soft_decline_retry_days: retry_days,
            secret: Some(secret),
        }),
    ))
}

/// The tenant's payment processor adapter (never its secret).
#[utoipa::path(get, path = "/v1/payment-processor", responses((status = 200, body = ProcessorView)), tag = "payments")]
pub async fn get_processor(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ProcessorView>, ApiError> {
    caller.require(Access::Read)?;
    blocking(move || {
        let found = state
            .engine
            .read(&caller.tenant, |s| s.payments.processor.clone())?
            .ok_or_else(|| ApiError::from(PaymentError::NoProcessor))?;
        Ok(Json(ProcessorView {
            url: found.url,
            lead_days: found.lead_days,
            soft_decline_retry_days: found.soft_decline_retry_days,
            secret: None,
        }))
    })
    .await
}

/// What a processor event did.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct ProcessorEventAnswer {
    /// `applied`, or `already_applied` for an event sent again.
    pub result: String,
}

/// A processor's event about a collection attempt (`succeeded`, `failed`,
/// `returned`, `chargeback`), without an API key: the tenant in
/// `premia-tenant`, signed like a webhook (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
/// "id.timestamp.body">`) with the tenant's processor secret. An event
/// sent again is answered 200 and changes nothing.
#[utoipa::path(post, path = "/v1/processor-events", request_body = ProcessorEventBody, responses((status = 200, body = ProcessorEventAnswer), (status = 401, description = "unsigned or wrongly signed")), security(()), tag = "payments")]
pub async fn processor_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<ProcessorEventAnswer>), ApiError> {
    let refused = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_processor_signature",
            "send the tenant in `premia-tenant` and sign with its processor secret",
        )
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let tenant = header("premia-tenant")
        .filter(|t| valid_tenant(t))
        .ok_or_else(refused)?;
    let id = header("webhook-id").ok_or_else(refused)?;
    let timestamp: i64 = header("webhook-timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(refused)?;
    let signatures = header("webhook-signature").ok_or_else(refused)?;
    if (Utc::now().timestamp() - timestamp).abs() > PROCESSOR_EVENT_SKEW_SECONDS_MAX
        || body.len() > PROCESSOR_EVENT_BYTES_MAX
    {
        return Err(refused());
    }
    let secret: Option<WebhookSecret> = {
        let (state, tenant) = (state.clone(), tenant.clone());
        blocking(move || {
            let Ok(Some(reference)) = state.engine.read(&tenant, |s| {
                s.payments.processor.as_ref().map(|p| p.secret_ref.clone())
            }) else {
                return Ok(None);
            };
            Ok(state
                .raters
                .secrets
                .webhook_secret(state.store.as_ref(), &tenant, &reference)
                .ok())
        })
        .await?
    };
    let secret = secret.ok_or_else(refused)?;
    let expected = secret.sign(&id, timestamp, &body);
    if !signatures
        .split(' ')
        .any(|given| constant_time_eq(given.as_bytes(), expected.as_bytes()))
    {
        return Err(refused());
    }
    let event: ProcessorEventBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::unprocessable("invalid_body", e.to_string()))?;
    let command = EngineCommand::Payments(PaymentCommand::RecordProcessorEvent { event });
    let meta = RequestMeta {
        actor: PROCESSOR_ACTOR.to_string(),
        issued_at: Utc::now(),
        idempotency_key: None,
        arithmetic: crate::billing::Arithmetic::Written,
    };
    blocking(
        move || match state.engine.execute(&tenant, &command, &meta) {
            Ok(_) => Ok((
                StatusCode::OK,
                Json(ProcessorEventAnswer {
                    result: "applied".into(),
                }),
            )),
            Err(EngineError::Payments(PaymentError::EventApplied(_))) => Ok((
                StatusCode::OK,
                Json(ProcessorEventAnswer {
                    result: "already_applied".into(),
                }),
            )),
            Err(error) => Err(error.into()),
        },
    )
    .await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
