//! Accounts, policies and their transactions, flat charges, and the audit
//! of a charge.

use super::command::{Effect, quote_preview, run};
use crate::api::auth::{Access, Allowed, Caller, can};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, IdempotencyKey, Preview, blocking};
use crate::api::state::AppState;
use crate::collections::BillingCommand;
use crate::domain::Currency;
use crate::engine::EngineCommand;
use crate::ledger::LedgerAccount;
use crate::policy::{
    AccountDetails, BillingMethod, BindOptions, ChargeAudit, ConfirmationNotification, DataChange,
    Invoicing, PolicyCommand, PolicyData, PolicyState,
};
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

/// A new policy, as the policy system binds (or quotes) it (seed 002).
#[derive(utoipa::ToSchema, Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    pub locator: String,
    /// The billing account. A quote may leave it out; a bind naming an
    /// account the billing system does not know creates it from
    /// `account_details`.
    #[serde(default)]
    pub account: String,
    pub product: String,
    pub start: NaiveDate,
    #[serde(default)]
    pub plan: Option<String>,
    pub time_zone: String,
    pub data: PolicyData,
    /// The account to create when `account` is unknown (its currency is
    /// the product's when absent); ignored for a known account.
    #[serde(default)]
    pub account_details: Option<AccountDetails>,
    /// `notify_upon_sufficient_payment`: a `policy_system_notified` event
    /// when the term's first invoice is paid; `none` (the default): not.
    #[serde(default)]
    pub confirmation_notification: ConfirmationNotification,
    /// Payments received with the bind: recorded on the account right
    /// after the policy (their credit pays the first invoice, which
    /// confirms the term once it is covered).
    #[serde(default)]
    pub up_front_payments: Vec<UpFrontPayment>,
    /// `direct` (the default: the account is invoiced) or `agency` (the
    /// producer of record is billed on its agency statement, [E11]).
    #[serde(default)]
    pub billing_method: BillingMethod,
    /// The producer of record; required for agency bill, which it must be
    /// configured for (`PUT /v1/producers/{producer}/agency`).
    #[serde(default)]
    pub producer: Option<String>,
}

/// A payment received with a bind.
#[derive(utoipa::ToSchema, Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpFrontPayment {
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// The tenant's today when absent.
    #[serde(default)]
    pub received_on: Option<NaiveDate>,
    #[serde(default)]
    pub reference: String,
}

/// The most up-front payments one bind may carry.
pub const UP_FRONT_PAYMENTS_MAX: usize = 10;

/// The account a quote uses when it names none: never created.
const QUOTE_ACCOUNT: &str = "quote";

pub(crate) fn issue_command(body: NewPolicy) -> EngineCommand {
    PolicyCommand::IssuePolicy {
        locator: body.locator,
        account: body.account,
        product: body.product,
        start: body.start,
        plan: body.plan,
        time_zone: body.time_zone,
        data: body.data,
        bind: BindOptions {
            new_account: body.account_details,
            confirmation_notification: body.confirmation_notification,
            billing_method: body.billing_method,
            producer: body.producer,
        },
    }
    .into()
}

/// A quote's command: a quote needs no account (seed 002: the policy
/// system quotes before the billing system knows the account), so an
/// unknown or absent one is made up for it, in the product's currency.
pub(crate) fn quote_command(mut body: NewPolicy) -> EngineCommand {
    if body.account.is_empty() {
        body.account = QUOTE_ACCOUNT.to_string();
    }
    if body.account_details.is_none() {
        body.account_details = Some(AccountDetails {
            name: "quote".into(),
            currency: None,
        });
    }
    issue_command(body)
}

/// Issues a policy (new business), or quotes it with `?preview=true`.
/// With `account_details`, an unknown account is created in the same
/// command; with `up_front_payments`, each is recorded right after (under
/// the key `<Idempotency-Key>/up-front-<n>`, so a retry completes what a
/// failure interrupted).
#[utoipa::path(post, path = "/v1/policies", request_body = NewPolicy, responses((status = 201, description = "Committed", body = Effect)), tag = "policies")]
pub async fn issue_policy(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    preview: Preview,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<NewPolicy>,
) -> Answer {
    if body.up_front_payments.is_empty() {
        return run(&state, &caller, issue_command(body), preview.0, key).await;
    }
    if body.up_front_payments.len() > UP_FRONT_PAYMENTS_MAX {
        return Err(ApiError::unprocessable(
            "too_many_payments",
            format!("a bind carries at most {UP_FRONT_PAYMENTS_MAX} up-front payments"),
        ));
    }
    let account = body.account.clone();
    let payments = body.up_front_payments.clone();
    let today = {
        let engine = std::sync::Arc::clone(&state.engine);
        let tenant = caller.tenant.clone();
        blocking(move || Ok(engine.clock(&tenant)?.0)).await?
    };
    let payment_commands: Vec<EngineCommand> = payments
        .into_iter()
        .map(|payment| {
            BillingCommand::RecordPayment {
                account: account.clone(),
                amount: payment.amount,
                received_on: payment.received_on.unwrap_or(today),
                invoices: Vec::new(),
                reference: payment.reference,
                for_deductibles: false,
                reserved_for: None,
            }
            .into()
        })
        .collect();
    let issue = issue_command(body);
    if preview.0 {
        let steps = std::iter::once(issue)
            .chain(payment_commands)
            .map(Into::into)
            .collect();
        return super::command::preview_steps(&state, &caller, steps, key).await;
    }
    let (status, Json(mut effect)) = run(&state, &caller, issue, false, key.clone()).await?;
    for (n, command) in payment_commands.into_iter().enumerate() {
        let payment_key = key.as_ref().map(|k| format!("{k}/up-front-{}", n + 1));
        let (_, Json(paid)) = run(&state, &caller, command, false, payment_key).await?;
        effect.journal_entries.extend(paid.journal_entries);
        effect.other_events.extend(paid.other_events);
    }
    Ok((status, Json(effect)))
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
    Ok(Json(quote_view(&state, &caller, body).await?))
}

async fn quote_view(
    state: &AppState,
    caller: &Caller,
    body: NewPolicy,
) -> Result<QuoteView, ApiError> {
    let (effect, schedule) = quote_preview(state, caller, quote_command(body)).await?;
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
    Ok(QuoteView {
        currency,
        total,
        lines,
        installments,
    })
}

/// One installment plan a product offers, priced for the quote: its
/// payment schedule (seed 002: "calculate payment schedule").
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct PlanOption {
    pub plan: String,
    pub total: Decimal,
    pub installments: Vec<QuoteInstallment>,
}

/// What the policy system shows on its payment screen (seed 002: "billing
/// system returns billing options, available installment plans, and
/// invoicing plans").
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct BillingOptions {
    pub currency: Option<Currency>,
    /// The billing methods the product and producer allow: `direct_bill`
    /// (unless the product leaves it out) and `agency_bill` when the
    /// product allows it and the quote's `producer` is configured for
    /// agency bill. List bill is not offered.
    pub billing_methods: Vec<String>,
    /// The product's default plan.
    pub default_plan: String,
    /// Every plan the product offers, with the quote's schedule on it.
    pub plans: Vec<PlanOption>,
}

/// The billing options of a quote: every installment plan of the product
/// with the payment schedule the quoted policy would have on it, and the
/// billing methods allowed. Nothing is kept; no account is needed.
#[utoipa::path(post, path = "/v1/quotes/billing-options", request_body = NewPolicy, responses((status = 200, body = BillingOptions)), tag = "policies")]
pub async fn billing_options(
    State(state): State<AppState>,
    caller: Allowed<can::Transact>,
    ApiJson(body): ApiJson<NewPolicy>,
) -> Result<Json<BillingOptions>, ApiError> {
    let (plans, default_plan, methods) = {
        let engine = std::sync::Arc::clone(&state.engine);
        let tenant = caller.tenant.clone();
        let name = body.product.clone();
        let producer = body.producer.clone();
        blocking(move || {
            let found = engine.read(&tenant, |s| {
                let methods = s
                    .billing_options(&name, producer.as_deref(), s.today(chrono::Utc::now()))
                    .map(|o| o.methods)
                    .unwrap_or_default();
                s.book.products.get(&name).map(|p| {
                    (
                        p.plans.keys().cloned().collect::<Vec<_>>(),
                        p.default_plan.clone(),
                        methods,
                    )
                })
            })?;
            found.ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "product_not_found",
                    format!("no product {name} is deployed"),
                )
            })
        })
        .await?
    };
    let mut options = Vec::with_capacity(plans.len());
    let mut currency = None;
    for plan in plans {
        let mut priced = body.clone();
        priced.plan = Some(plan.clone());
        let view = quote_view(&state, &caller, priced).await?;
        currency = currency.or(view.currency);
        options.push(PlanOption {
            plan,
            total: view.total,
            installments: view.installments,
        });
    }
    Ok(Json(BillingOptions {
        currency,
        billing_methods: methods
            .into_iter()
            .map(|m| match m {
                BillingMethod::Direct => "direct_bill".to_string(),
                BillingMethod::Agency => "agency_bill".to_string(),
            })
            .collect(),
        default_plan,
        plans: options,
    }))
}

/// A term as billing sees it (seed 002): bound on a day, confirmed once
/// its first invoice is paid.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct TermStanding {
    pub term: u32,
    /// The day it was bound (absent on terms bound before it was kept).
    pub bound_on: Option<NaiveDate>,
    /// Its first invoice is paid (`term_confirmed` in the feed).
    pub confirmed: bool,
}

/// A policy, and where each term stands.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct PolicyView {
    #[serde(flatten)]
    pub policy: PolicyState,
    pub term_standing: Vec<TermStanding>,
}

#[utoipa::path(get, path = "/v1/policies/{locator}", responses((status = 200, body = PolicyView)), tag = "policies")]
pub async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(locator): Path<String>,
) -> Result<Json<PolicyView>, ApiError> {
    caller.require(Access::Read)?;
    let engine = std::sync::Arc::clone(&state.engine);
    blocking(move || {
        let view = engine.read(&caller.tenant, |s| {
            let policy = PolicyState::clone(s.book.policies.get(&locator)?);
            let confirmed = s
                .collections
                .accounts
                .get(&policy.header.account)
                .map(|a| a.confirmed_terms.clone())
                .unwrap_or_default();
            let term_standing = policy
                .terms
                .iter()
                .map(|t| TermStanding {
                    term: t.number,
                    bound_on: t.bound_on,
                    confirmed: confirmed.contains(&(locator.clone(), t.number)),
                })
                .collect();
            Some(PolicyView {
                policy,
                term_standing,
            })
        })?;
        view.map(Json)
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
