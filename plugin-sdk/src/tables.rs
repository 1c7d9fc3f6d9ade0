//! Rate tables: CSV files with a header row, looked up by their leading
//! columns. The host and the native test host share this code, so a table
//! answers the same in `cargo test` as in production.
//!
//! Example `base-rates.csv`:
//!
//! ```text
//! vehicle_class,bodily_injury,collision
//! sedan,410.00,612.00
//! ```
//!
//! `lookup(["sedan"], "collision")` gives `"612.00"`.

use crate::host::LookupError;
use std::collections::HashMap;

/// The most rows one table may have.
pub const TABLE_ROWS_MAX: usize = 100_000;

/// One parsed rate table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateTable {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    /// First row index by the row's first cell, to skip a linear scan.
    first_cell_index: HashMap<String, Vec<usize>>,
}

impl RateTable {
    /// Parses CSV text with a header row. Cells are trimmed.
    pub fn from_csv(text: &str) -> Result<Self, String> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let columns: Vec<String> = reader
            .headers()
            .map_err(|e| format!("bad header row: {e}"))?
            .iter()
            .map(str::to_string)
            .collect();
        if columns.is_empty() || columns.iter().any(String::is_empty) {
            return Err("the header row must name every column".to_string());
        }
        let mut rows = Vec::new();
        let mut first_cell_index: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, record) in reader.records().enumerate() {
            let record = record.map_err(|e| format!("row {}: {e}", index + 2))?;
            if rows.len() == TABLE_ROWS_MAX {
                return Err(format!("more than {TABLE_ROWS_MAX} rows"));
            }
            let row: Vec<String> = record.iter().map(str::to_string).collect();
            first_cell_index
                .entry(row[0].clone())
                .or_default()
                .push(rows.len());
            rows.push(row);
        }
        Ok(RateTable {
            columns,
            rows,
            first_cell_index,
        })
    }

    /// The table's column names, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// How many data rows the table has.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// The cell `column` of the first row whose leading cells equal `keys`.
    pub fn lookup<K: AsRef<str>>(&self, keys: &[K], column: &str) -> Result<&str, LookupError> {
        let column_index = self
            .columns
            .iter()
            .position(|name| name == column)
            .ok_or(LookupError::NoSuchColumn)?;
        let candidates: &[usize] = match keys.first() {
            Some(first) => self
                .first_cell_index
                .get(first.as_ref())
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            None => {
                return self
                    .rows
                    .first()
                    .map(|row| row[column_index].as_str())
                    .ok_or(LookupError::NoSuchRow);
            }
        };
        candidates
            .iter()
            .map(|&index| &self.rows[index])
            .find(|row| {
                keys.len() <= row.len()
                    && keys
                        .iter()
                        .zip(row.iter())
                        .all(|(key, cell)| key.as_ref() == cell)
            })
            .map(|row| row[column_index].as_str())
            .ok_or(LookupError::NoSuchRow)
    }
}

/// A named set of rate tables, as shipped with a plugin or product.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateTables {
    tables: HashMap<String, RateTable>,
}

impl RateTables {
    /// An empty set of tables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a table.
    pub fn insert(&mut self, name: impl Into<String>, table: RateTable) {
        self.tables.insert(name.into(), table);
    }

    /// Loads every `*.csv` file of a directory; a table is named after its
    /// file without the extension.
    pub fn from_dir(dir: &std::path::Path) -> Result<Self, String> {
        let mut tables = RateTables::new();
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("csv") {
                continue;
            }
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .ok_or_else(|| format!("{}: bad file name", path.display()))?
                .to_string();
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let table =
                RateTable::from_csv(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            tables.insert(name, table);
        }
        Ok(tables)
    }

    /// Looks up a cell; see [`RateTable::lookup`].
    pub fn lookup<K: AsRef<str>>(
        &self,
        table: &str,
        keys: &[K],
        column: &str,
    ) -> Result<&str, LookupError> {
        self.tables
            .get(table)
            .ok_or(LookupError::NoSuchTable)?
            .lookup(keys, column)
    }

    /// The names of the tables, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.tables.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATES: &str =
        "class, territory, factor\nsedan,urban,1.25\nsedan,rural,0.90\nsuv,urban,1.40\n";

    #[test]
    fn lookup_matches_the_leading_columns_in_order() {
        let table = RateTable::from_csv(RATES).unwrap();
        assert_eq!(table.lookup(&["sedan", "rural"], "factor"), Ok("0.90"));
        assert_eq!(table.lookup(&["suv"], "factor"), Ok("1.40"));
    }

    #[test]
    fn missing_rows_columns_and_tables_are_told_apart() {
        let mut tables = RateTables::new();
        tables.insert("territory", RateTable::from_csv(RATES).unwrap());
        assert_eq!(
            tables.lookup("territory", &["van"], "factor"),
            Err(LookupError::NoSuchRow)
        );
        assert_eq!(
            tables.lookup("territory", &["sedan"], "rate"),
            Err(LookupError::NoSuchColumn)
        );
        assert_eq!(
            tables.lookup("age", &["sedan"], "factor"),
            Err(LookupError::NoSuchTable)
        );
    }

    #[test]
    fn a_header_with_an_empty_name_is_refused() {
        assert!(RateTable::from_csv("a,,c\n1,2,3\n").is_err());
    }
}
