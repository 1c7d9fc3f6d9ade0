//! What the host offers a plugin: rate-table look-ups and bounded logging.
//!
//! In a WebAssembly build these call the host's imports. In a native build
//! (your plugin's `cargo test`) they use the [`crate::testing`] host: tables
//! and log lines kept per test thread.

use crate::money::parse_decimal;
use rust_decimal::Decimal;

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Why a rate-table look-up found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupError {
    NoSuchTable,
    NoSuchRow,
    NoSuchColumn,
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LookupError::NoSuchTable => "no such table",
            LookupError::NoSuchRow => "no such row",
            LookupError::NoSuchColumn => "no such column",
        })
    }
}

/// Writes a line to the host's log for this call (bounded by the host).
pub fn log(level: LogLevel, message: &str) {
    imp::log(level, message)
}

/// Looks up the cell `column` of the first row of `table` whose leading
/// columns equal `keys`.
pub fn lookup(table: &str, keys: &[&str], column: &str) -> Result<String, LookupError> {
    imp::lookup(table, keys, column)
}

/// Looks up a decimal cell; the error text names the table, keys and column,
/// ready to return as invalid input.
pub fn lookup_decimal(table: &str, keys: &[&str], column: &str) -> Result<Decimal, String> {
    let where_ = || format!("{table}[{}].{column}", keys.join(", "));
    let text = lookup(table, keys, column).map_err(|error| format!("{}: {error}", where_()))?;
    parse_decimal(&text, &where_())
}

/// The WebAssembly implementation: the same for both worlds, over the host
/// interface that world's bindings generated.
#[cfg(target_arch = "wasm32")]
macro_rules! wit_host {
    ($($wit:ident)::+) => {
        mod imp {
            use super::{LogLevel, LookupError};
            use $($wit)::+ as wit;

            pub fn log(level: LogLevel, message: &str) {
                let level = match level {
                    LogLevel::Trace => wit::LogLevel::Trace,
                    LogLevel::Debug => wit::LogLevel::Debug,
                    LogLevel::Info => wit::LogLevel::Info,
                    LogLevel::Warn => wit::LogLevel::Warn,
                    LogLevel::Error => wit::LogLevel::Error,
                };
                wit::log(level, message)
            }

            pub fn lookup(table: &str, keys: &[&str], column: &str) -> Result<String, LookupError> {
                let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                wit::lookup(table, &keys, column).map_err(|error| match error {
                    wit::LookupError::NoSuchTable => LookupError::NoSuchTable,
                    wit::LookupError::NoSuchRow => LookupError::NoSuchRow,
                    wit::LookupError::NoSuchColumn => LookupError::NoSuchColumn,
                })
            }
        }
    };
}

#[cfg(all(target_arch = "wasm32", feature = "rating"))]
wit_host!(crate::rating::bindings::premia::plugin::host);

#[cfg(all(target_arch = "wasm32", feature = "invoicing", not(feature = "rating")))]
wit_host!(crate::invoicing::bindings::premia::plugin::host);

#[cfg(all(
    target_arch = "wasm32",
    not(feature = "invoicing"),
    not(feature = "rating")
))]
mod imp {
    use super::{LogLevel, LookupError};

    pub fn log(_level: LogLevel, _message: &str) {}

    pub fn lookup(_table: &str, _keys: &[&str], _column: &str) -> Result<String, LookupError> {
        Err(LookupError::NoSuchTable)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::{LogLevel, LookupError};

    pub fn log(level: LogLevel, message: &str) {
        crate::testing::record_log(level, message)
    }

    pub fn lookup(table: &str, keys: &[&str], column: &str) -> Result<String, LookupError> {
        crate::testing::lookup(table, keys, column)
    }
}
