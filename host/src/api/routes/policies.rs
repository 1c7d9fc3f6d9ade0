//! Accounts, policies and their transactions, flat charges, and the audit
//! of a charge.

use super::command::{Effect, quote_preview, run};
use crate::api::auth::{Access, Allowed, Caller, can};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, IdempotencyKey, Preview, blocking};
use crate::api::state::AppState;
use crate::domain::Currency;
use crate::engine::EngineCommand;
use crate::ledger::LedgerAccount;
use crate::policy::{ChargeAudit, DataChange, Invoicing, PolicyCommand, PolicyData, PolicyState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

type Answer = Result<(StatusCode, Json<Effect>), ApiError>;

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub locator: String,
    pub name: String,
    pub currency: Currency,
}

#[utoipa::path(post, path = "/v1/accounts", request_body = NewAccount, responses((status = 201, description = "Committed", body = Effect)), tag = "policies")]
pub async fn create_account(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<NewAccount>,
) -> Answer {
    let command = PolicyCommand::CreateAccount {
        locator: body.locator,
        name: body.name,
        currency: body.currency,
    };
    run(&state, &caller, command.into(), preview.0, key).await
}

/// An account and its balances.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct AccountView {
    pub account: crate::policy::Account,
    pub policies: Vec<String>,
    pub receivable_unbilled: Decimal,
    pub receivable_billed: Decimal,
    pub credit: Decimal,
}

#[utoipa::path(get, path = "/v1/accounts/{locator}", responses((status = 200, body = AccountView)), tag = "policies")]
pub async fn get_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(locator): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let view = engine.read(&caller.tenant, |s| {
            let account = s.book.accounts.get(&locator)?.clone();
            let balance = |which| s.ledger.balance_of(which, account.currency, Some(&locator));
            Some(AccountView {
                policies: s
                    .book
                    .policies
                    .values()
                    .filter(|p| p.header.account == locator)
                    .map(|p| p.header.locator.clone())
                    .collect(),
                receivable_unbilled: balance(LedgerAccount::PremiumReceivableUnbilled),
                receivable_billed: balance(LedgerAccount::PremiumReceivableBilled),
                credit: balance(LedgerAccount::CustomerCredit),
                account,
            })
        })?;
        view.map(Json)
            .ok_or_else(|| ApiError::not_found(format!("no account {locator}")))
    })
    .await
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    pub locator: String,
    pub account: String,
    pub product: String,
    pub start: NaiveDate,
    #[serde(default)]
    pub plan: Option<String>,
    pub time_zone: String,
    pub data: PolicyData,
}

pub(crate) fn issue_command(body: NewPolicy) -> EngineCommand {
    PolicyCommand::IssuePolicy {
        locator: body.locator,
        account: body.account,
        product: body.product,
        start: body.start,
        plan: body.plan,
        time_zone: body.time_zone,
        data: body.data,
    }
    .into()
}

/// Issues a policy (new business), or quotes it with `?preview=true`.
#[utoipa::path(post, path = "/v1/policies", request_body = NewPolicy, responses((status = 201, description = "Committed", body = Effect)), tag = "policies")]
pub async fn issue_policy(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<NewPolicy>,
) -> Answer {
    run(&state, &caller, issue_command(body), preview.0, key).await
}

/// A priced line of a quote.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct QuoteLine {
    pub item: Option<String>,
    pub charge: String,
    pub amount: Decimal,
    pub period: Option<crate::domain::Period>,
}

/// An installment of a quote's payment schedule: one invoice the policy
/// will have, as a billing run will issue it (seed 002): its date after the
/// billing calendar, its due date, and its amount with the flat charges billed
/// with it and the invoicing plugin's fees.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct QuoteInstallment {
    /// Its place in the schedule (1 = the first invoice).
    pub installment: u32,
    /// The installments of the plan it bills (1 = the term's first); more
    /// than one on the catch-up invoice of a back-dated policy.
    pub installments: Vec<u32>,
    #[serde(serialize_with = "crate::domain::date_text::serialize_date")]
    pub invoice_date: NaiveDate,
    #[serde(serialize_with = "crate::domain::date_text::serialize_date")]
    pub due_date: NaiveDate,
    pub amount: Decimal,
}

/// What a policy would cost: its charges, the total billed to the customer,
/// and the payment schedule of the chosen plan: the invoices its first term
/// will have. Nothing is kept.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct QuoteView {
    pub currency: Option<Currency>,
    pub total: Decimal,
    pub lines: Vec<QuoteLine>,
    pub installments: Vec<QuoteInstallment>,
}

/// A quote: new business priced and scheduled, nothing kept. For the full
/// effect (ledger entries, balances, explanations) preview the issue itself:
/// `POST /v1/policies?preview=true`.
#[utoipa::path(post, path = "/v1/quotes", request_body = NewPolicy, responses((status = 200, body = QuoteView)), tag = "policies")]
pub async fn quote(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    ApiJson(body): ApiJson<NewPolicy>,
) -> Result<Json<QuoteView>, ApiError> {
    let (effect, schedule) = quote_preview(&state, &caller, issue_command(body)).await?;
    let currency = effect.charges.first().map(|c| c.amount.currency);
    let total = effect
        .charges
        .iter()
        .filter(|c| c.category.is_billed())
        .map(|c| c.amount.amount)
        .sum();
    let lines = effect
        .charges
        .iter()
        .map(|c| QuoteLine {
            item: c.item.clone(),
            charge: c.charge.clone(),
            amount: c.amount.amount,
            period: c.period,
        })
        .collect();
    let installments = schedule
        .into_iter()
        .zip(1..)
        .map(|(invoice, place)| QuoteInstallment {
            installment: place,
            installments: invoice.installments,
            invoice_date: invoice.invoice_date,
            due_date: invoice.due_date,
            amount: invoice.amount,
        })
        .collect();
    Ok(Json(QuoteView {
        currency,
        total,
        lines,
        installments,
    }))
}

#[utoipa::path(get, path = "/v1/policies/{locator}", responses((status = 200, body = PolicyState)), tag = "policies")]
pub async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(locator): Path<String>,
) -> Result<Json<PolicyState>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let policy = engine.read(&caller.tenant, |s| s.book.policies.get(&locator).cloned())?;
        policy
            .map(Json)
            .ok_or_else(|| ApiError::not_found(format!("no policy {locator}")))
    })
    .await
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endorsement {
    pub effective: NaiveDate,
    pub changes: Vec<DataChange>,
}

#[utoipa::path(post, path = "/v1/policies/{locator}/endorsements", request_body = Endorsement, responses((status = 201, description = "Committed", body = Effect)), tag = "policies")]
pub async fn endorse(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path(policy): Path<String>,
    ApiJson(body): ApiJson<Endorsement>,
) -> Answer {
    let command = PolicyCommand::Endorse {
        policy,
        effective: body.effective,
        changes: body.changes,
    };
    run(&state, &caller, command.into(), preview.0, key).await
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Renewal {
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub changes: Vec<DataChange>,
}

#[utoipa::path(post, path = "/v1/policies/{locator}/renewals", request_body = Renewal, responses((status = 201, description = "Committed", body = Effect)), tag = "policies")]
pub async fn renew(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path(policy): Path<String>,
    ApiJson(body): ApiJson<Renewal>,
) -> Answer {
    let command = PolicyCommand::Renew {
        policy,
        plan: body.plan,
        changes: body.changes,
    };
    run(&state, &caller, command.into(), preview.0, key).await
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effective {
    pub effective: NaiveDate,
}

/// A cancellation: its effective date and reason (`insured_request` by
/// default; `non_payment`, `underwriting`, `rewrite`), which chooses the
/// product's refund method.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancellationBody {
    pub effective: NaiveDate,
    #[serde(default)]
    pub reason: crate::policy::CancellationReason,
}

#[utoipa::path(post, path = "/v1/policies/{locator}/cancellations", request_body = CancellationBody, responses((status = 201, description = "Committed", body = Effect)), tag = "policies")]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path(policy): Path<String>,
    ApiJson(body): ApiJson<CancellationBody>,
) -> Answer {
    run(
        &state,
        &caller,
        PolicyCommand::Cancel {
            policy,
            effective: body.effective,
            reason: body.reason,
        }
        .into(),
        preview.0,
        key,
    )
    .await
}

#[utoipa::path(post, path = "/v1/policies/{locator}/reinstatements", request_body = Effective, responses((status = 201, description = "Committed", body = Effect)), tag = "policies")]
pub async fn reinstate(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path(policy): Path<String>,
    ApiJson(body): ApiJson<Effective>,
) -> Answer {
    run(
        &state,
        &caller,
        PolicyCommand::Reinstate {
            policy,
            effective: body.effective,
        }
        .into(),
        preview.0,
        key,
    )
    .await
}

/// A notice of non-renewal: why the policy is not renewed.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonRenewalBody {
    pub reason: String,
}

/// Gives notice that the policy will not be renewed after its last term (at
/// least the product's `non_renewal_notice_days` before its end); the
/// policy's read shows it, the feed carries it (`policy_non_renewed`), and a
/// renewal is refused afterwards (`409 policy_not_renewed`).
#[utoipa::path(post, path = "/v1/policies/{locator}/non-renewal", request_body = NonRenewalBody, responses((status = 201, description = "Committed", body = Effect)), tag = "policies")]
pub async fn non_renew(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path(policy): Path<String>,
    ApiJson(body): ApiJson<NonRenewalBody>,
) -> Answer {
    run(
        &state,
        &caller,
        PolicyCommand::NonRenew {
            policy,
            reason: body.reason,
        }
        .into(),
        preview.0,
        key,
    )
    .await
}

/// A rate correction of one term: the version of the product's plugin to
/// re-rate it with, and why (kept in the audit).
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateCorrectionBody {
    pub term: u32,
    pub version: String,
    pub reason: String,
}

/// Re-rates a term with a named version of the product's plugin (DOMAIN
/// section 9) and books the differences as charges; later transactions of
/// the term use that version. Previewable (`?preview=true`) and idempotent
/// like every command. Refusals: `term_not_found` (404),
/// `rate_version_unknown`, `rate_correction_unsupported` (422),
/// `rate_version_unchanged` (409).
#[utoipa::path(post, path = "/v1/policies/{locator}/rate-corrections", request_body = RateCorrectionBody, responses((status = 201, description = "Committed", body = Effect)), tag = "policies")]
pub async fn correct_rates(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path(policy): Path<String>,
    ApiJson(body): ApiJson<RateCorrectionBody>,
) -> Answer {
    run(
        &state,
        &caller,
        PolicyCommand::CorrectRates {
            policy,
            term: body.term,
            version: body.version,
            reason: body.reason,
        }
        .into(),
        preview.0,
        key,
    )
    .await
}

/// A rate correction of every policy of a product in force today.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductRateCorrectionBody {
    pub version: String,
    pub reason: String,
}

/// Re-rates, with a named version, the term in force on the tenant's today
/// of every policy of the product (those already rated by it are left as
/// they are): one command, like a billing run, previewable and idempotent.
#[utoipa::path(post, path = "/v1/products/{name}/rate-corrections", request_body = ProductRateCorrectionBody, responses((status = 201, description = "Committed", body = Effect)), tag = "products")]
pub async fn correct_product_rates(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path(product): Path<String>,
    ApiJson(body): ApiJson<ProductRateCorrectionBody>,
) -> Answer {
    run(
        &state,
        &caller,
        PolicyCommand::CorrectProductRates {
            product,
            version: body.version,
            reason: body.reason,
        }
        .into(),
        preview.0,
        key,
    )
    .await
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reversal {
    pub transaction: String,
}

#[utoipa::path(post, path = "/v1/policies/{locator}/reversals", request_body = Reversal, responses((status = 201, description = "Committed", body = Effect)), tag = "policies")]
pub async fn reverse(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    Path(policy): Path<String>,
    ApiJson(body): ApiJson<Reversal>,
) -> Answer {
    let command = PolicyCommand::Reverse {
        policy,
        transaction: body.transaction,
    };
    run(&state, &caller, command.into(), preview.0, key).await
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFlatCharge {
    pub account: String,
    #[serde(default)]
    pub policy: Option<String>,
    pub charge: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    #[serde(default)]
    pub invoicing: Option<Invoicing>,
    #[serde(default)]
    pub description: String,
}

/// Adds a flat charge by hand (seed 001's Add Charges).
#[utoipa::path(post, path = "/v1/charges", request_body = NewFlatCharge, responses((status = 201, description = "Committed", body = Effect)), tag = "policies")]
pub async fn add_charge(
    State(state): State<AppState>,
    caller: Allowed<can::TransactOrCollect>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<NewFlatCharge>,
) -> Answer {
    let command = PolicyCommand::AddFlatCharge {
        account: body.account,
        policy: body.policy,
        charge: body.charge,
        amount: body.amount,
        invoicing: body.invoicing,
        description: body.description,
    };
    run(&state, &caller, command.into(), preview.0, key).await
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargeReversal {
    pub account: String,
    pub charges: Vec<String>,
}

/// Books inverse charges for flat charges; they cannot themselves be reversed.
#[utoipa::path(post, path = "/v1/charges/reversals", request_body = ChargeReversal, responses((status = 201, description = "Committed", body = Effect)), tag = "policies")]
pub async fn reverse_charges(
    State(state): State<AppState>,
    caller: Allowed<can::TransactOrCollect>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<ChargeReversal>,
) -> Answer {
    let command = PolicyCommand::ReverseCharges {
        account: body.account,
        charges: body.charges,
    };
    run(&state, &caller, command.into(), preview.0, key).await
}

/// Explains a charge: its transaction, rating calls, basis and arithmetic.
#[utoipa::path(get, path = "/v1/policies/{policy}/charges/{charge}/audit", responses((status = 200, body = ChargeAudit)), tag = "policies")]
pub async fn audit_charge(
    State(state): State<AppState>,
    caller: Caller,
    Path((policy, charge)): Path<(String, String)>,
) -> Result<Json<ChargeAudit>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        Ok(Json(engine.explain_charge(
            &caller.tenant,
            &policy,
            &charge,
        )?))
    })
    .await
}
