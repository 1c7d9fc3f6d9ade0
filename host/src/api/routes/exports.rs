//! CSV exports for finance and data teams: ledger lines, charges, invoices
//! and payments, one flat row per record, readable by a warehouse or DuckDB
//! (`SELECT * FROM 'ledger-lines.csv'`).

use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::blocking;
use crate::api::state::AppState;
use crate::ledger::line_rows;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// A charge as one flat row.
#[derive(utoipa::ToSchema, Debug, Serialize)]
struct ChargeRow {
    locator: String,
    account: String,
    policy: Option<String>,
    transaction: String,
    term: Option<u32>,
    item: Option<String>,
    charge: String,
    category: String,
    handling: String,
    invoicing: String,
    recipient: Option<String>,
    currency: String,
    amount: Decimal,
    period_start: Option<NaiveDate>,
    period_end: Option<NaiveDate>,
    reverses: Option<String>,
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
struct InvoiceRow {
    locator: String,
    account: String,
    number: u32,
    currency: String,
    issue_date: NaiveDate,
    due_date: NaiveDate,
    total: Decimal,
    paid: Decimal,
    credited: Decimal,
    written_off: Decimal,
    outstanding: Decimal,
    past_due_on: Option<NaiveDate>,
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
struct PaymentRow {
    locator: String,
    account: String,
    currency: String,
    amount: Decimal,
    received_on: NaiveDate,
    to_credit: Decimal,
    reversed_on: Option<NaiveDate>,
}

fn code<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn csv_of<T: Serialize>(rows: impl IntoIterator<Item = T>) -> Result<Vec<u8>, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer
            .serialize(row)
            .map_err(|e| ApiError::internal(e.to_string()))?;
    }
    writer
        .into_inner()
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// `GET /v1/exports/{dataset}.csv` with dataset `ledger-lines`, `charges`,
/// `invoices` or `payments`.
#[utoipa::path(get, path = "/v1/exports/{file}", responses((status = 200, description = "CSV (text/csv) or Parquet (application/vnd.apache.parquet) file", content_type = "text/csv", body = String)), tag = "exports")]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Access::Read)?;
    let dataset = file
        .strip_suffix(".csv")
        .ok_or_else(|| ApiError::not_found("exports are CSV: /v1/exports/<dataset>.csv"))?
        .to_string();
    let engine = std::sync::Arc::clone(&state.engine);
    let body = blocking(move || {
        engine.read(&caller.tenant, |s| -> Result<Vec<u8>, ApiError> {
            match dataset.as_str() {
                "ledger-lines" => csv_of(s.ledger.entries().iter().flat_map(line_rows)),
                "charges" => {
                    let charges = s
                        .book
                        .policies
                        .values()
                        .flat_map(|p| p.charges.iter())
                        .chain(s.book.account_charges.iter());
                    csv_of(charges.map(|c| ChargeRow {
                        locator: c.locator.clone(),
                        account: c.account.clone(),
                        policy: c.policy.clone(),
                        transaction: c.transaction.clone(),
                        term: c.term,
                        item: c.item.clone(),
                        charge: c.charge.clone(),
                        category: c.category.to_string(),
                        handling: code(&c.handling),
                        invoicing: code(&c.invoicing),
                        recipient: c.recipient.clone(),
                        currency: c.amount.currency.code().to_string(),
                        amount: c.amount.amount,
                        period_start: c.period.map(|p| p.start()),
                        period_end: c.period.map(|p| p.end()),
                        reverses: c.reverses.clone(),
                    }))
                }
                "invoices" => csv_of(
                    s.collections
                        .accounts
                        .values()
                        .flat_map(|a| a.invoices.iter())
                        .map(|r| InvoiceRow {
                            locator: r.invoice.locator.clone(),
                            account: r.invoice.account.clone(),
                            number: r.invoice.number,
                            currency: r.invoice.currency.code().to_string(),
                            issue_date: r.invoice.issue_date,
                            due_date: r.invoice.due_date,
                            total: r.invoice.total.amount,
                            paid: r.paid,
                            credited: r.credited,
                            written_off: r.written_off,
                            outstanding: r.outstanding(),
                            past_due_on: r.past_due_on,
                        }),
                ),
                "payments" => csv_of(
                    s.collections
                        .accounts
                        .values()
                        .flat_map(|a| a.payments.iter())
                        .map(|p| PaymentRow {
                            locator: p.payment.locator.clone(),
                            account: p.payment.account.clone(),
                            currency: p.payment.amount.currency.code().to_string(),
                            amount: p.payment.amount.amount,
                            received_on: p.payment.received_on,
                            to_credit: p.payment.to_credit,
                            reversed_on: p.reversed_on,
                        }),
                ),
                other => Err(ApiError::not_found(format!(
                    "no export {other}: ledger-lines, charges, invoices or payments"
                ))),
            }
        })?
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response())
}
