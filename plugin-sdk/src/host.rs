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
    // The place is written out only for an error: a look-up is on the hot
    // path of every item.
    text.trim()
        .parse::<Decimal>()
        .or_else(|_| parse_decimal(&text, &where_()))
}

/// Forgets the look-ups remembered during the previous call. The exports
/// that `register_rater!` and `register_invoicer!` generate call it first.
#[doc(hidden)]
pub fn __begin_call() {
    #[cfg(target_arch = "wasm32")]
    memo::forget();
}

/// Look-ups remembered for the rest of one call. Tables cannot change
/// during a call, so asking the host twice for the same cell (the same
/// driver-age band for each of a vehicle's perils, say) would only cost a
/// second trip across the boundary. Cleared at the start of every call, so
/// nothing is remembered from one call to the next even in a reused
/// instance; at most [`memo::ENTRIES_MAX`] cells are kept.
#[cfg(target_arch = "wasm32")]
mod memo {
    use super::LookupError;
    use std::cell::RefCell;
    // Not a HashMap: its random seed would be the call's only use of WASI.
    use std::collections::BTreeMap;

    /// The most cells remembered in one call; later ones are asked for
    /// every time.
    pub const ENTRIES_MAX: usize = 4_096;

    thread_local! {
        static CELLS: RefCell<BTreeMap<Vec<u8>, Result<String, LookupError>>> =
            const { RefCell::new(BTreeMap::new()) };
    }

    /// The key of a cell: each part prefixed with its length, so that no
    /// two different look-ups share a key whatever their text contains.
    fn key(table: &str, keys: &[&str], column: &str) -> Vec<u8> {
        let parts = || {
            std::iter::once(table)
                .chain(keys.iter().copied())
                .chain([column])
        };
        let mut key = Vec::with_capacity(parts().map(|part| part.len() + 4).sum());
        for part in parts() {
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            key.extend_from_slice(&len.to_le_bytes());
            key.extend_from_slice(part.as_bytes());
        }
        key
    }

    pub fn remembered(
        table: &str,
        keys: &[&str],
        column: &str,
        ask: impl FnOnce() -> Result<String, LookupError>,
    ) -> Result<String, LookupError> {
        let key = key(table, keys, column);
        if let Some(answer) = CELLS.with(|cells| cells.borrow().get(&key).cloned()) {
            return answer;
        }
        let answer = ask();
        CELLS.with(|cells| {
            let mut cells = cells.borrow_mut();
            if cells.len() < ENTRIES_MAX {
                cells.insert(key, answer.clone());
            }
        });
        answer
    }

    pub fn forget() {
        CELLS.with(|cells| cells.borrow_mut().clear());
    }
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
                super::memo::remembered(table, keys, column, || {
                    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                    wit::lookup(table, &keys, column).map_err(|error| match error {
                        wit::LookupError::NoSuchTable => LookupError::NoSuchTable,
                        wit::LookupError::NoSuchRow => LookupError::NoSuchRow,
                        wit::LookupError::NoSuchColumn => LookupError::NoSuchColumn,
                    })
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
