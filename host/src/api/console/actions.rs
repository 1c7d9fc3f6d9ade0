//! An account's billing actions, each the same request a client would
//! send to the API (with the session's key and the form's idempotency
//! key): record a payment, return one with its fee, write off an invoice,
//! apply credit to the invoices chosen, approve or reject a disbursement,
//! place or release a hold. Success goes back to the account; a refusal is
//! the API's problem, shown readable.

use super::{Console, acting, after_action, call_api};
use axum::body::Bytes;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct PaymentForm {
    csrf: String,
    idempotency_key: String,
    amount: String,
    received_on: String,
    #[serde(default)]
    invoices: String,
    #[serde(default)]
    reference: String,
}

pub(super) async fn record_payment(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(account): Path<String>,
    Form(form): Form<PaymentForm>,
) -> Response {
    let (view, _) = match acting(&console, &headers, &form.csrf).await {
        Ok(acting) => acting,
        Err(response) => return response,
    };
    let invoices: Vec<String> = form
        .invoices
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let body = serde_json::json!({
        "account": account, "amount": form.amount.trim(), "received_on": form.received_on,
        "invoices": invoices, "reference": form.reference,
    });
    let (status, answer) =
        call_api(&console, &view, "/v1/payments", &form.idempotency_key, body).await;
    after_action(&view, &account, status, &answer)
}

#[derive(Deserialize)]
pub(super) struct KeyedForm {
    csrf: String,
    idempotency_key: String,
}

pub(super) async fn approve_disbursement(
    State(console): State<Console>,
    headers: HeaderMap,
    Path((account, disbursement)): Path<(String, String)>,
    Form(form): Form<KeyedForm>,
) -> Response {
    let (view, today) = match acting(&console, &headers, &form.csrf).await {
        Ok(acting) => acting,
        Err(response) => return response,
    };
    let body = serde_json::json!({"account": account, "on": today});
    let path = format!("/v1/disbursements/{disbursement}/approvals");
    let (status, answer) = call_api(&console, &view, &path, &form.idempotency_key, body).await;
    after_action(&view, &account, status, &answer)
}

#[derive(Deserialize)]
pub(super) struct ReasonForm {
    csrf: String,
    idempotency_key: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn reject_disbursement(
    State(console): State<Console>,
    headers: HeaderMap,
    Path((account, disbursement)): Path<(String, String)>,
    Form(form): Form<ReasonForm>,
) -> Response {
    let (view, today) = match acting(&console, &headers, &form.csrf).await {
        Ok(acting) => acting,
        Err(response) => return response,
    };
    let body = serde_json::json!({"account": account, "on": today, "reason": form.reason});
    let path = format!("/v1/disbursements/{disbursement}/rejections");
    let (status, answer) = call_api(&console, &view, &path, &form.idempotency_key, body).await;
    after_action(&view, &account, status, &answer)
}

#[derive(Deserialize)]
pub(super) struct AmountForm {
    csrf: String,
    idempotency_key: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    fee: String,
    #[serde(default)]
    reason: String,
}

/// An optional amount typed in a form: none when left empty.
fn optional_amount(text: &str) -> serde_json::Value {
    match text.trim() {
        "" => serde_json::Value::Null,
        amount => serde_json::Value::String(amount.to_string()),
    }
}

pub(super) async fn return_payment(
    State(console): State<Console>,
    headers: HeaderMap,
    Path((account, payment)): Path<(String, String)>,
    Form(form): Form<AmountForm>,
) -> Response {
    let (view, today) = match acting(&console, &headers, &form.csrf).await {
        Ok(acting) => acting,
        Err(response) => return response,
    };
    let body = serde_json::json!({"account": account, "on": today, "fee": optional_amount(&form.fee), "reason": form.reason});
    let path = format!("/v1/payments/{payment}/reversals");
    let (status, answer) = call_api(&console, &view, &path, &form.idempotency_key, body).await;
    after_action(&view, &account, status, &answer)
}

pub(super) async fn write_off(
    State(console): State<Console>,
    headers: HeaderMap,
    Path((account, invoice)): Path<(String, String)>,
    Form(form): Form<AmountForm>,
) -> Response {
    let (view, today) = match acting(&console, &headers, &form.csrf).await {
        Ok(acting) => acting,
        Err(response) => return response,
    };
    let body = serde_json::json!({"account": account, "invoice": invoice, "amount": optional_amount(&form.amount), "on": today, "reason": form.reason});
    let (status, answer) = call_api(
        &console,
        &view,
        "/v1/write-offs",
        &form.idempotency_key,
        body,
    )
    .await;
    after_action(&view, &account, status, &answer)
}

/// Applies the account's free credit: to the invoices ticked (`invoice`,
/// repeated), each up to the amount typed beside it (`amount-<invoice>`)
/// or what it owes; to the open invoices oldest due first when none is.
pub(super) async fn apply_credit(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(account): Path<String>,
    body: Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let (view, today) = match acting(&console, &headers, &field("csrf")).await {
        Ok(acting) => acting,
        Err(response) => return response,
    };
    let targets: Vec<serde_json::Value> = pairs
        .iter()
        .filter(|(k, _)| k == "invoice")
        .map(|(_, invoice)| {
            serde_json::json!({
                "invoice": invoice,
                "amount": optional_amount(&field(&format!("amount-{invoice}"))),
            })
        })
        .collect();
    let body = serde_json::json!({"account": account, "on": today, "targets": targets});
    let (status, answer) = call_api(
        &console,
        &view,
        "/v1/credit-distributions",
        &field("idempotency_key"),
        body,
    )
    .await;
    after_action(&view, &account, status, &answer)
}

#[derive(Deserialize)]
pub(super) struct HoldForm {
    csrf: String,
    idempotency_key: String,
    kind: String,
    #[serde(default)]
    reason: String,
    /// A suspension's end (exclusive).
    #[serde(default)]
    until: String,
    /// Days after a suspension's end its catch-up invoice is due.
    #[serde(default)]
    catch_up_due_days: String,
}

/// Places a hold from today: invoicing, delinquency, or a suspension until
/// a date (with the days its catch-up invoice is due after it).
pub(super) async fn place_hold(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(account): Path<String>,
    Form(form): Form<HoldForm>,
) -> Response {
    let (view, today) = match acting(&console, &headers, &form.csrf).await {
        Ok(acting) => acting,
        Err(response) => return response,
    };
    let kind = if form.kind == "suspension" {
        let days = form.catch_up_due_days.trim();
        serde_json::json!({
            "kind": "suspension",
            "until": form.until.trim(),
            "catch_up_due_days": days.parse::<u32>().map_or(serde_json::Value::String(days.to_string()), serde_json::Value::from),
        })
    } else {
        serde_json::json!({"kind": form.kind})
    };
    let body =
        serde_json::json!({"account": account, "kind": kind, "from": today, "reason": form.reason});
    let (status, answer) =
        call_api(&console, &view, "/v1/holds", &form.idempotency_key, body).await;
    after_action(&view, &account, status, &answer)
}

/// Releases a hold today.
pub(super) async fn release_hold(
    State(console): State<Console>,
    headers: HeaderMap,
    Path((account, hold)): Path<(String, String)>,
    Form(form): Form<KeyedForm>,
) -> Response {
    let (view, today) = match acting(&console, &headers, &form.csrf).await {
        Ok(acting) => acting,
        Err(response) => return response,
    };
    let body = serde_json::json!({"account": account, "on": today});
    let path = format!("/v1/holds/{hold}/releases");
    let (status, answer) = call_api(&console, &view, &path, &form.idempotency_key, body).await;
    after_action(&view, &account, status, &answer)
}
