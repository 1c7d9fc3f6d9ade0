//! Rows as a Parquet file: one row group, every column `OPTIONAL`, text as
//! `STRING`, dates as `DATE`, money as `DECIMAL(18,4)` stored in `INT64`
//! (exact: 12.34 is stored as 123400), whole numbers as `INT64`, flags as `BOOLEAN`; Snappy
//! compression.

use super::{
    Column, ColumnKind, DECIMAL_PRECISION, DECIMAL_SCALE, EXPORT_ROWS_MAX, ExportError, Row,
};
use chrono::NaiveDate;
use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use std::sync::Arc;

fn write_error(error: impl ToString) -> ExportError {
    ExportError::Write(error.to_string())
}

fn field(column: &Column) -> Result<Arc<Type>, ExportError> {
    let (physical, logical) = match column.kind {
        ColumnKind::Text => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
        ColumnKind::Date => (PhysicalType::INT32, Some(LogicalType::Date)),
        ColumnKind::Decimal => (
            PhysicalType::INT64,
            Some(LogicalType::Decimal {
                scale: DECIMAL_SCALE as i32,
                precision: DECIMAL_PRECISION as i32,
            }),
        ),
        ColumnKind::Integer => (
            PhysicalType::INT64,
            Some(LogicalType::Integer {
                bit_width: 64,
                is_signed: true,
            }),
        ),
        ColumnKind::Boolean => (PhysicalType::BOOLEAN, None),
    };
    let mut builder = Type::primitive_type_builder(column.name, physical)
        .with_repetition(Repetition::OPTIONAL)
        .with_logical_type(logical);
    if column.kind == ColumnKind::Decimal {
        builder = builder
            .with_precision(DECIMAL_PRECISION as i32)
            .with_scale(DECIMAL_SCALE as i32);
    }
    Ok(Arc::new(builder.build().map_err(write_error)?))
}

fn unrepresentable(column: &Column, value: &Value) -> ExportError {
    ExportError::Unrepresentable {
        column: column.name,
        kind: column.kind,
        value: value.to_string(),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn days_since_epoch(column: &Column, value: &Value) -> Result<i32, ExportError> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch is a date");
    let date = value
        .as_str()
        .and_then(|s| NaiveDate::from_str(s).ok())
        .ok_or_else(|| unrepresentable(column, value))?;
    i32::try_from((date - epoch).num_days()).map_err(|_| unrepresentable(column, value))
}

/// The decimal as an integer count of 1/10^4: exact, or refused.
fn scaled_decimal(column: &Column, value: &Value) -> Result<i64, ExportError> {
    let decimal = match value {
        Value::String(s) => Decimal::from_str(s).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
    .ok_or_else(|| unrepresentable(column, value))?;
    let scaled = decimal * Decimal::from(10_i64.pow(DECIMAL_SCALE));
    if scaled.fract() != Decimal::ZERO {
        return Err(unrepresentable(column, value));
    }
    i64::try_from(scaled).map_err(|_| unrepresentable(column, value))
}

fn integer(column: &Column, value: &Value) -> Result<i64, ExportError> {
    value.as_i64().ok_or_else(|| unrepresentable(column, value))
}

/// The rows as a Parquet file.
pub fn to_parquet<R: Row>(rows: impl IntoIterator<Item = R>) -> Result<Vec<u8>, ExportError> {
    let mut values = Vec::new();
    for row in rows {
        if values.len() >= EXPORT_ROWS_MAX {
            return Err(ExportError::TooManyRows);
        }
        values.push(serde_json::to_value(&row).map_err(write_error)?);
    }
    let fields = R::COLUMNS
        .iter()
        .map(field)
        .collect::<Result<Vec<_>, _>>()?;
    let schema = Type::group_type_builder("premia_export")
        .with_fields(fields)
        .build()
        .map_err(write_error)?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by("premia".to_string())
        .build();
    let mut writer = SerializedFileWriter::new(Vec::new(), Arc::new(schema), Arc::new(properties))
        .map_err(write_error)?;
    let mut group = writer.next_row_group().map_err(write_error)?;
    for column in R::COLUMNS {
        let mut out = group
            .next_column()
            .map_err(write_error)?
            .expect("one column writer per declared column");
        let cells: Vec<&Value> = values.iter().map(|row| &row[column.name]).collect();
        let definition: Vec<i16> = cells.iter().map(|v| i16::from(!v.is_null())).collect();
        let present = cells.iter().filter(|v| !v.is_null());
        match column.kind {
            ColumnKind::Text => {
                let data: Vec<ByteArray> = present
                    .map(|v| ByteArray::from(text(v).into_bytes()))
                    .collect();
                out.typed::<ByteArrayType>()
                    .write_batch(&data, Some(&definition), None)
                    .map_err(write_error)?;
            }
            ColumnKind::Date => {
                let data = present
                    .map(|v| days_since_epoch(column, v))
                    .collect::<Result<Vec<_>, _>>()?;
                out.typed::<Int32Type>()
                    .write_batch(&data, Some(&definition), None)
                    .map_err(write_error)?;
            }
            ColumnKind::Boolean => {
                let data = present
                    .map(|v| v.as_bool().ok_or_else(|| unrepresentable(column, v)))
                    .collect::<Result<Vec<_>, _>>()?;
                out.typed::<BoolType>()
                    .write_batch(&data, Some(&definition), None)
                    .map_err(write_error)?;
            }
            ColumnKind::Decimal | ColumnKind::Integer => {
                let convert = if column.kind == ColumnKind::Decimal {
                    scaled_decimal
                } else {
                    integer
                };
                let data = present
                    .map(|v| convert(column, v))
                    .collect::<Result<Vec<_>, _>>()?;
                out.typed::<Int64Type>()
                    .write_batch(&data, Some(&definition), None)
                    .map_err(write_error)?;
            }
        }
        out.close().map_err(write_error)?;
    }
    group.close().map_err(write_error)?;
    writer.into_inner().map_err(write_error)
}
