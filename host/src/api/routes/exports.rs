//! Exports for finance and data teams: ledger lines, charges, invoices,
//! payments, the general-ledger journal and the warehouse datasets (invoice
//! lines, payment allocations, write-offs, disbursements, installments,
//! earned premium by charge, commissions), one flat row per record, as CSV or
//! typed Parquet, readable by a warehouse or DuckDB
//! (`SELECT * FROM 'ledger-lines.parquet'`).
//!
//! The warehouse datasets take `from`/`to` (days, both included, on each
//! dataset's own day) and `after` (a cursor: the ledger entry id, see
//! `engine/warehouse.rs`); every answer of theirs carries the cursor of the
//! next incremental load in the `Premia-Next-Cursor` header.

use crate::api::auth::{Access, Caller};
use crate::api::error::ApiError;
use crate::api::extract::{ApiQuery, blocking};
use crate::api::state::AppState;
use crate::engine::{AccountingError, EngineError, WarehouseFilter};
use crate::export::{ChargeRow, ExportError, InvoiceRow, PaymentRow, Row, to_csv, to_parquet};
use crate::ledger::line_rows;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The header carrying the cursor of the next incremental load.
pub const NEXT_CURSOR_HEADER: &str = "premia-next-cursor";

/// The datasets filtered by `from`, `to` and `after`.
const WAREHOUSE_DATASETS: [&str; 6] = [
    "invoice-lines",
    "payment-allocations",
    "write-offs",
    "disbursements",
    "installments",
    "commissions",
];

/// Which rows an export holds.
#[derive(utoipa::IntoParams, Debug, Deserialize)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `YYYY-MM`: the accounting period of the general-ledger journal
    /// (`gl-journal` only, required there).
    #[serde(default)]
    pub period: Option<String>,
    /// The first day of the rows (each dataset's own day: an invoice's issue
    /// date, a payment's receipt, a write-off's day, a disbursement's draft,
    /// an installment's invoice date, a commission's posting day); warehouse
    /// datasets only.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// The last day of the rows; warehouse datasets only.
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// A cursor (the `Premia-Next-Cursor` of an earlier load): only the rows
    /// whose ledger entry id is greater; warehouse datasets only.
    #[serde(default)]
    pub after: Option<u64>,
    /// `earned-premium` only: the day (through its end) premium is earned
    /// as of; the tenant's today when absent.
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
}

impl ExportQuery {
    /// Refuses the parameters `dataset` does not take.
    fn check(&self, dataset: &str) -> Result<(), ApiError> {
        let refuse = |what: &str| Err(ApiError::bad_request("bad_query", what.to_string()));
        if dataset != "gl-journal" && self.period.is_some() {
            return refuse("`period` is for the gl-journal export only");
        }
        if dataset != "earned-premium" && self.as_of.is_some() {
            return refuse("`as_of` is for the earned-premium export only");
        }
        let warehouse = WAREHOUSE_DATASETS.contains(&dataset);
        if !warehouse && (self.from.is_some() || self.to.is_some() || self.after.is_some()) {
            return refuse(&format!(
                "`from`, `to` and `after` are for the {} exports only",
                WAREHOUSE_DATASETS.join(", ")
            ));
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return refuse("`from` is after `to`");
        }
        Ok(())
    }

    fn filter(&self) -> WarehouseFilter {
        WarehouseFilter {
            from: self.from,
            to: self.to,
            after: self.after,
        }
    }
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
/// `ledger-lines`, `charges`, `invoices`, `payments`, `gl-journal`
/// (`?period=YYYY-MM`: the period's journal lines mapped to the insurer's GL
/// accounts by the current GL mapping; an account the mapping leaves
/// unmapped is a 422 `gl_account_unmapped` naming it), or a warehouse
/// dataset: `invoice-lines` (each with its slice, charge and transaction),
/// `payment-allocations` (a payment's rows sum to its amount), `write-offs`,
/// `disbursements`, `installments`, `commissions` (by producer), each
/// filtered by `from`/`to` and the cursor `after` and answering the next
/// cursor in `Premia-Next-Cursor`; and `earned-premium` (`?as_of=`: written,
/// earned and unearned premium per charge). Money is a decimal string in CSV
/// and `DECIMAL(18,4)` in Parquet.
#[utoipa::path(get, path = "/v1/exports/{file}", params(("file" = String, Path, description = "`<dataset>.csv` or `<dataset>.parquet`"), ExportQuery), responses((status = 200, description = "CSV (text/csv) or Parquet (application/vnd.apache.parquet) file; warehouse datasets carry the next load's cursor in `Premia-Next-Cursor`", content_type = "text/csv", body = String, headers(("premia-next-cursor" = u64, description = "warehouse datasets: the cursor (`after`) of the next incremental load")))), tag = "exports")]
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
    query.check(&dataset)?;
    let engine = std::sync::Arc::clone(&state.engine);
    let warehouse = WAREHOUSE_DATASETS.contains(&dataset.as_str());
    let (body, cursor) = blocking(move || {
        engine.read(&caller.tenant, |s| -> Result<(Vec<u8>, u64), ApiError> {
            let cursor = s.warehouse_cursor().max(query.after.unwrap_or_default());
            let filter = query.filter();
            let body = match dataset.as_str() {
                "invoice-lines" => format.write(s.invoice_lines(filter)),
                "payment-allocations" => format.write(s.payment_allocations(filter)),
                "write-offs" => format.write(s.write_off_rows(filter)),
                "disbursements" => format.write(s.disbursement_rows(filter)),
                "installments" => format.write(s.installment_rows(filter)),
                "commissions" => format.write(s.commission_rows(filter)),
                "earned-premium" => {
                    let as_of = query.as_of.unwrap_or_else(|| s.today(chrono::Utc::now()));
                    let rows = s
                        .earned_premium_rows(as_of)
                        .map_err(|e| ApiError::from(EngineError::from(e)))?;
                    format.write(rows)
                }
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
                    "no export {other}: ledger-lines, charges, invoices, payments, gl-journal, \
                     earned-premium or {}",
                    WAREHOUSE_DATASETS.join(", ")
                ))),
            }?;
            Ok((body, cursor))
        })?
    })
    .await?;
    let mut response = ([(header::CONTENT_TYPE, format.content_type())], body).into_response();
    if warehouse {
        response
            .headers_mut()
            .insert(NEXT_CURSOR_HEADER, axum::http::HeaderValue::from(cursor));
    }
    Ok(response)
}
