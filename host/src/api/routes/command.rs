//! Running a command from a request: durable commit or `?preview=true`, and
//! the response that shows its effect.

use crate::api::auth::Caller;
use crate::api::error::ApiError;
use crate::api::extract::blocking;
use crate::api::state::AppState;
use crate::billing::Arithmetic;
use crate::engine::{
    AccountSummary, BalanceChange, EngineCommand, PreviewStep, RequestMeta, ScheduledInvoice,
    TenantEvent,
};
use crate::ledger::JournalEntry;
use crate::policy::{Account, BookEvent, Charge, InstallmentSlice, ProductConfig, Transaction};
use axum::Json;
use axum::http::StatusCode;
use serde::Serialize;

/// What a command did (or would do, in a preview).
#[derive(utoipa::ToSchema, Debug, Clone, Default, Serialize)]
pub struct Effect {
    /// A preview: nothing was kept.
    pub preview: bool,
    /// An earlier request with the same idempotency key answered again.
    pub replayed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<ProductConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<Account>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transactions: Vec<Transaction>,
    pub charges: Vec<Charge>,
    pub installments: Vec<InstallmentSlice>,
    pub journal_entries: Vec<JournalEntry>,
    /// Balances before and after (previews only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub balances: Vec<BalanceChange>,
    /// Per billing account the commands touch (previews only): what it owes
    /// and its credit before and after, the refund due or the amount owed
    /// after, and the invoice the next billing run would issue.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub summaries: Vec<AccountSummary>,
    /// Events of other kinds, as they are.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_events: Vec<TenantEvent>,
}

impl Effect {
    pub fn from_events(events: Vec<TenantEvent>) -> Effect {
        let mut effect = Effect::default();
        for event in events {
            match event {
                TenantEvent::Book(BookEvent::ProductDeployed { product }) => {
                    effect.products.push(product)
                }
                TenantEvent::Book(BookEvent::AccountCreated { account }) => {
                    effect.accounts.push(account)
                }
                TenantEvent::Book(BookEvent::TransactionIssued { record }) => {
                    let record = *record;
                    effect.transactions.push(record.transaction);
                    effect.charges.extend(record.charges);
                    effect.installments.extend(record.slices);
                }
                TenantEvent::Book(BookEvent::FlatChargeAdded { charge }) => {
                    effect.charges.push(charge)
                }
                TenantEvent::Journal(entry) => effect.journal_entries.push(entry),
                #[allow(unreachable_patterns)]
                other => effect.other_events.push(other),
            }
        }
        effect
    }
}

/// Runs `command` for the caller's tenant: previewed (with the summaries of
/// the accounts it touches), or committed durably. 201 for a new commit,
/// 200 for a preview or a replay.
pub async fn run(
    state: &AppState,
    caller: &Caller,
    command: EngineCommand,
    preview: bool,
    idempotency_key: Option<String>,
) -> Result<(StatusCode, Json<Effect>), ApiError> {
    if preview {
        return preview_steps(state, caller, vec![command.into()], idempotency_key).await;
    }
    let engine = std::sync::Arc::clone(&state.engine);
    let tenant = caller.tenant.clone();
    // What is kept always carries its arithmetic.
    let meta = request_meta(caller, false, 1, idempotency_key, Arithmetic::Written);
    let fresh = caller.fresh.clone();
    blocking(move || {
        let outcome = engine.execute_fresh(&tenant, &command, &meta, fresh)?;
        let status = if outcome.replayed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        let mut effect = Effect::from_events(outcome.events);
        effect.replayed = outcome.replayed;
        Ok((status, Json(effect)))
    })
    .await
}

/// Previews steps (one command, or a bundle) in order on a copy of the
/// tenant's state: their full effect and the summary of every account they
/// touch; nothing is kept. A step the commit would refuse refuses the
/// preview with the same problem.
pub async fn preview_steps(
    state: &AppState,
    caller: &Caller,
    steps: Vec<PreviewStep>,
    idempotency_key: Option<String>,
) -> Result<(StatusCode, Json<Effect>), ApiError> {
    let engine = std::sync::Arc::clone(&state.engine);
    let tenant = caller.tenant.clone();
    // Shown as a commit would keep it: with its arithmetic (and the key
    // the commit would record).
    let meta = request_meta(
        caller,
        true,
        steps.len(),
        idempotency_key,
        Arithmetic::Written,
    );
    blocking(move || {
        let preview = engine.preview_with_summaries(&tenant, &steps, &meta)?;
        let mut effect = Effect::from_events(preview.outcome.events);
        effect.preview = true;
        effect.balances = preview.outcome.balances;
        effect.summaries = preview.summaries;
        Ok((StatusCode::OK, Json(effect)))
    })
    .await
}

/// Previews one command for a quote: the same amounts, dates and schedule
/// as a preview, without the charges' arithmetic in words (a quote shows no
/// explanation; `?preview=true` on the command itself has them).
///
/// A quote that waits on nothing (see
/// [`crate::engine::Engine::preview_quote_without_waiting`]) runs on the
/// async worker that took the request: handing a ~150 µs quote to the
/// blocking pool and back cost about a quarter of its CPU time (thread
/// wake-ups and context switches). Any other quote runs on the blocking
/// pool, as every commit does.
///
/// With the effect comes the payment schedule: the invoices the new policy's
/// first term will have, from the same invoice generation as a billing run
/// ([`crate::engine::Engine::quote_schedule`]), on the blocking pool (it
/// runs the product's invoicing plugin for every invoice).
pub async fn quote_preview(
    state: &AppState,
    caller: &Caller,
    command: EngineCommand,
) -> Result<(Effect, Vec<ScheduledInvoice>), ApiError> {
    let meta = request_meta(caller, true, 1, None, Arithmetic::Skipped);
    let now = state
        .engine
        .preview_quote_without_waiting(&caller.tenant, &command, &meta);
    let outcome = match now {
        Some(outcome) => outcome?,
        None => {
            let engine = std::sync::Arc::clone(&state.engine);
            let tenant = caller.tenant.clone();
            let meta = meta.clone();
            blocking(move || Ok(engine.preview(&tenant, &[command], &meta)?)).await?
        }
    };
    let engine = std::sync::Arc::clone(&state.engine);
    let tenant = caller.tenant.clone();
    let issue = outcome.events.clone();
    let schedule = blocking(move || Ok(engine.quote_schedule(&tenant, &issue, &meta)?)).await?;
    let mut effect = Effect::from_events(outcome.events);
    effect.preview = true;
    effect.balances = outcome.balances;
    Ok((effect, schedule))
}

/// Who is running a command and how, logged once per request (never a
/// key, a header or a body).
fn request_meta(
    caller: &Caller,
    preview: bool,
    commands: usize,
    idempotency_key: Option<String>,
    arithmetic: Arithmetic,
) -> RequestMeta {
    tracing::info!(tenant = %caller.tenant, role = caller.role.name(), preview, commands, "command");
    RequestMeta {
        actor: format!("{}:{}", caller.role.name(), caller.label),
        issued_at: chrono::Utc::now(),
        idempotency_key,
        arithmetic,
    }
}
