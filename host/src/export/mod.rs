//! Tabular exports for finance and data teams: ledger lines, charges,
//! invoices, payments, the warehouse datasets (`warehouse.rs`) and the
//! general-ledger journal (lines mapped to the
//! insurer's GL accounts, `ledger::GlJournalLine`) as flat rows, written as
//! CSV or Parquet. A row type declares its columns once ([`Row::COLUMNS`])
//! with the kind each holds, so Parquet files carry real types (dates as
//! `DATE`, money as `DECIMAL(18,4)`) that DuckDB, Spark or pandas read
//! without casting.

mod parquet_file;
mod rows;
mod warehouse;

pub use parquet_file::to_parquet;
pub use rows::{ChargeRow, InvoiceRow, PaymentRow};
pub use warehouse::{
    AllocationRow, CommissionRow, DisbursementRow, EarnedPremiumRow, InstallmentRow,
    InvoiceLineRow, WriteOffRow,
};

use serde::Serialize;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// UTF-8 text (codes, locators, names).
    Text,
    /// A calendar date (`YYYY-MM-DD` in JSON and CSV).
    Date,
    /// A decimal amount with at most [`DECIMAL_SCALE`] decimal places.
    Decimal,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
}

/// Decimal places of every money column in Parquet: 4 covers every ISO 4217
/// minor unit.
pub const DECIMAL_SCALE: u32 = 4;
/// Digits of a money column in Parquet (it fits a signed 64-bit integer).
pub const DECIMAL_PRECISION: u32 = 18;
/// Rows in one export at most (an export is built in memory).
pub const EXPORT_ROWS_MAX: usize = 5_000_000;

/// A column: its name (the row's serde field name) and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnKind,
}

/// Shorthand for declaring columns.
pub const fn column(name: &'static str, kind: ColumnKind) -> Column {
    Column { name, kind }
}

/// A flat export row: serializes to an object whose fields are exactly
/// [`Row::COLUMNS`], each a scalar or null.
pub trait Row: Serialize {
    const COLUMNS: &'static [Column];
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("an export holds at most {EXPORT_ROWS_MAX} rows")]
    TooManyRows,
    #[error("column {column}: {value} does not fit {kind:?}")]
    Unrepresentable {
        column: &'static str,
        kind: ColumnKind,
        value: String,
    },
    #[error("writing the file: {0}")]
    Write(String),
}

/// The rows as CSV with a header line.
pub fn to_csv<R: Row>(rows: impl IntoIterator<Item = R>) -> Result<Vec<u8>, ExportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(R::COLUMNS.iter().map(|c| c.name))
        .map_err(|e| ExportError::Write(e.to_string()))?;
    for (count, row) in rows.into_iter().enumerate() {
        if count >= EXPORT_ROWS_MAX {
            return Err(ExportError::TooManyRows);
        }
        let value = serde_json::to_value(&row).map_err(|e| ExportError::Write(e.to_string()))?;
        let record = R::COLUMNS.iter().map(|c| match &value[c.name] {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        writer
            .write_record(record)
            .map_err(|e| ExportError::Write(e.to_string()))?;
    }
    writer
        .into_inner()
        .map_err(|e| ExportError::Write(e.to_string()))
}

#[cfg(test)]
mod tests;
