//! Exports for finance and data teams: ledger lines, charges, invoices and
//! payments, one flat row per record, as CSV or typed Parquet, readable by a
//! warehouse or DuckDB (`SELECT * FROM 'ledger-lines.parquet'`).

use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::{ApiQuery, blocking};
use crate::api::state::AppState;
use crate::engine::{AccountingError, EngineError};
use crate::export::{ChargeRow, ExportError, InvoiceRow, PaymentRow, Row, to_csv, to_parquet};
use crate::ledger::line_rows;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// `?period=YYYY-MM`: the accounting period of the general-ledger journal
/// (`gl-journal` only).
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    #[serde(default)]
    pub period: Option<String>,
}

fn code<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Parquet,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }

    fn write<R: Row>(self, rows: impl IntoIterator<Item = R>) -> Result<Vec<u8>, ApiError> {
        match self {
            Format::Csv => to_csv(rows),
            Format::Parquet => to_parquet(rows),
        }
        .map_err(|e: ExportError| ApiError::internal(e.to_string()))
    }
}

/// `GET /v1/exports/{dataset}.csv` or `.parquet`, with dataset
/// `ledger-lines`, `charges`, `invoices`, `payments` or `gl-journal`
/// (`?period=YYYY-MM`: the period's journal lines mapped to the insurer's GL
/// accounts by the current GL mapping; an account the mapping leaves
/// unmapped is a 422 `gl_account_unmapped` naming it).
#[utoipa::path(get, path = "/v1/exports/{file}", params(ExportQuery), responses((status = 200, description = "CSV (text/csv) or Parquet (application/vnd.apache.parquet) file", content_type = "text/csv", body = String)), tag = "exports")]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    caller.require(Access::Read)?;
    let (dataset, format) = if let Some(dataset) = file.strip_suffix(".csv") {
        (dataset.to_string(), Format::Csv)
    } else if let Some(dataset) = file.strip_suffix(".parquet") {
        (dataset.to_string(), Format::Parquet)
    } else {
        return Err(ApiError::not_found(
            "exports are /v1/exports/<dataset>.csv or .parquet",
        ));
    };
    let engine = std::sync::Arc::clone(&state.engine);
    let body = blocking(move || {
        engine.read(&caller.tenant, |s| -> Result<Vec<u8>, ApiError> {
            if dataset != "gl-journal" && query.period.is_some() {
                return Err(ApiError::bad_request(
                    "bad_query",
                    "`period` is for the gl-journal export only",
                ));
            }
            match dataset.as_str() {
                "gl-journal" => {
                    let period = query.period.as_deref().ok_or_else(|| {
                        ApiError::bad_request("bad_query", "gl-journal needs ?period=YYYY-MM")
                    })?;
                    let period: crate::engine::Month = period
                        .parse()
                        .map_err(|e: AccountingError| ApiError::from(EngineError::from(e)))?;
                    let lines = s
                        .gl_journal(period)
                        .map_err(|e| ApiError::from(EngineError::from(e)))?;
                    format.write(lines)
                }
                "ledger-lines" => format.write(s.ledger.entries().iter().flat_map(line_rows)),
                "charges" => {
                    let charges = s
                        .book
                        .policies
                        .values()
                        .flat_map(|p| p.charges.iter())
                        .chain(s.book.account_charges.iter());
                    format.write(charges.map(|c| ChargeRow {
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
                        technical_premium: c.technical_premium,
                    }))
                }
                "invoices" => format.write(
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
                "payments" => format.write(
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
                    "no export {other}: ledger-lines, charges, invoices, payments or gl-journal"
                ))),
            }
        })?
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], body).into_response())
}
