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
    /// Step-by-step detail, for following a calculation.
    Trace,
    /// Diagnostic detail.
    Debug,
    /// Normal operation worth recording.
    Info,
    /// Something unexpected that the plugin worked around.
    Warn,
    /// A failure (panic messages are logged at this level).
    Error,
}

/// Why a rate-table look-up found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupError {
    /// No rate table has that name.
    NoSuchTable,
    /// The table has no row with that key.
    NoSuchRow,
    /// The table has no column with that name.
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
    // In WebAssembly the cell is remembered, parsed, for the rest of the call.
    #[cfg(all(target_arch = "wasm32", any(feature = "rating", feature = "invoicing")))]
    return imp::lookup_decimal(table, keys, column);
    #[cfg(not(all(target_arch = "wasm32", any(feature = "rating", feature = "invoicing"))))]
    decimal_of(table, keys, column, lookup(table, keys, column))
}

/// [`lookup_decimal`] from the cell's text (the native build, and the first
/// look-up of a cell in WebAssembly).
fn decimal_of(
    table: &str,
    keys: &[&str],
    column: &str,
    text: Result<String, LookupError>,
) -> Result<Decimal, String> {
    // The place is written out only for an error: a look-up is on the hot
    // path of every item.
    let where_ = || format!("{table}[{}].{column}", keys.join(", "));
    let text = text.map_err(|error| format!("{}: {error}", where_()))?;
    text.trim()
        .parse::<Decimal>()
        .or_else(|_| parse_decimal(&text, &where_()))
}

/// Forgets the look-ups remembered during the previous call. The exports
/// that `register_rater!` and `register_invoicer!` generate call it first.
#[doc(hidden)]
pub fn __begin_call() {
    #[cfg(all(target_arch = "wasm32", feature = "call-arena"))]
    crate::ALLOCATOR.begin_call();
    #[cfg(target_arch = "wasm32")]
    memo::forget();
}

/// Look-ups remembered for the rest of one call. Tables cannot change
/// during a call, so asking the host twice for the same cell (the same
/// driver-age band for each of a vehicle's perils, say) would only cost a
/// second trip across the boundary. Cleared at the start of every call, so
/// nothing is remembered from one call to the next even in a reused
/// instance; at most [`memo::ENTRIES_MAX`] cells are kept.
///
/// A remembered cell is found by a hash of its table, keys and column
/// (FNV-1a, no random seed: the call's only use of WASI would be for one)
/// and checked part by part, so a look-up that hits allocates nothing; a
/// decimal cell keeps its parsed value.
#[cfg(any(target_arch = "wasm32", test))]
mod memo {
    use super::LookupError;
    use rust_decimal::Decimal;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// The most cells remembered in one call; later ones are asked for
    /// every time.
    pub const ENTRIES_MAX: usize = 4_096;

    struct Cell {
        /// Each part of the look-up, prefixed with its length, so that no
        /// two different look-ups share a key whatever their text contains.
        key: Vec<u8>,
        answer: Result<String, LookupError>,
        /// The answer as a decimal, once asked for as one.
        decimal: Option<Decimal>,
        /// The next cell with the same hash.
        next: Option<usize>,
    }

    #[derive(Default)]
    struct Cells {
        cells: Vec<Cell>,
        /// Hash to the first cell with it.
        first: BTreeMap<u64, usize>,
    }

    thread_local! {
        static CELLS: RefCell<Cells> = RefCell::new(Cells::default());
    }

    fn parts<'a>(
        table: &'a str,
        keys: &'a [&'a str],
        column: &'a str,
    ) -> impl Iterator<Item = &'a str> {
        std::iter::once(table)
            .chain(keys.iter().copied())
            .chain([column])
    }

    fn length_prefix(part: &str) -> [u8; 4] {
        u32::try_from(part.len()).unwrap_or(u32::MAX).to_le_bytes()
    }

    fn hash(table: &str, keys: &[&str], column: &str) -> u64 {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut hash = OFFSET;
        for part in parts(table, keys, column) {
            for byte in length_prefix(part).iter().chain(part.as_bytes()) {
                hash = (hash ^ u64::from(*byte)).wrapping_mul(PRIME);
            }
        }
        hash
    }

    fn key(table: &str, keys: &[&str], column: &str) -> Vec<u8> {
        let mut key = Vec::with_capacity(parts(table, keys, column).map(|p| p.len() + 4).sum());
        for part in parts(table, keys, column) {
            key.extend_from_slice(&length_prefix(part));
            key.extend_from_slice(part.as_bytes());
        }
        key
    }

    /// Whether `key` is the key of this look-up, without building it.
    fn is_key_of(mut key: &[u8], table: &str, keys: &[&str], column: &str) -> bool {
        for part in parts(table, keys, column) {
            let Some(rest) = key.strip_prefix(&length_prefix(part)[..]) else {
                return false;
            };
            let Some(rest) = rest.strip_prefix(part.as_bytes()) else {
                return false;
            };
            key = rest;
        }
        key.is_empty()
    }

    impl Cells {
        fn find(&self, hash: u64, table: &str, keys: &[&str], column: &str) -> Option<usize> {
            let mut at = self.first.get(&hash).copied();
            while let Some(index) = at {
                let cell = &self.cells[index];
                if is_key_of(&cell.key, table, keys, column) {
                    return Some(index);
                }
                at = cell.next;
            }
            None
        }

        fn remember(
            &mut self,
            hash: u64,
            table: &str,
            keys: &[&str],
            column: &str,
            answer: Result<String, LookupError>,
        ) -> Option<usize> {
            if self.cells.len() >= ENTRIES_MAX {
                return None;
            }
            let index = self.cells.len();
            let next = self.first.insert(hash, index);
            self.cells.push(Cell {
                key: key(table, keys, column),
                answer,
                decimal: None,
                next,
            });
            Some(index)
        }
    }

    /// The cell's text: remembered, or asked with `ask` and remembered.
    pub fn remembered(
        table: &str,
        keys: &[&str],
        column: &str,
        ask: impl FnOnce() -> Result<String, LookupError>,
    ) -> Result<String, LookupError> {
        let hash = hash(table, keys, column);
        let found = CELLS.with(|cells| {
            let cells = cells.borrow();
            cells
                .find(hash, table, keys, column)
                .map(|index| cells.cells[index].answer.clone())
        });
        if let Some(answer) = found {
            return answer;
        }
        let answer = ask();
        CELLS.with(|cells| {
            cells
                .borrow_mut()
                .remember(hash, table, keys, column, answer.clone())
        });
        answer
    }

    /// The cell as a decimal: remembered, or asked with `ask`, parsed with
    /// `parse` and remembered.
    pub fn remembered_decimal(
        table: &str,
        keys: &[&str],
        column: &str,
        ask: impl FnOnce() -> Result<String, LookupError>,
        parse: impl FnOnce(Result<String, LookupError>) -> Result<Decimal, String>,
    ) -> Result<Decimal, String> {
        let hash = hash(table, keys, column);
        let known = CELLS.with(|cells| {
            let cells = cells.borrow();
            cells.find(hash, table, keys, column).map(|index| {
                let cell = &cells.cells[index];
                (index, cell.decimal, cell.answer.clone())
            })
        });
        let (index, answer) = match known {
            Some((_, Some(decimal), _)) => return Ok(decimal),
            Some((index, None, answer)) => (Some(index), answer),
            None => {
                let answer = ask();
                let index = CELLS.with(|cells| {
                    cells
                        .borrow_mut()
                        .remember(hash, table, keys, column, answer.clone())
                });
                (index, answer)
            }
        };
        let decimal = parse(answer);
        if let (Some(index), Ok(value)) = (index, &decimal) {
            CELLS.with(|cells| cells.borrow_mut().cells[index].decimal = Some(*value));
        }
        decimal
    }

    pub fn forget() {
        CELLS.with(|cells| {
            let mut cells = cells.borrow_mut();
            cells.cells.clear();
            cells.first.clear();
        });
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_remembered_cell_is_asked_for_once_per_call_and_parts_never_run_together() {
            forget();
            let asked = std::cell::Cell::new(0);
            let ask = |text: &'static str| {
                let asked = &asked;
                move || {
                    asked.set(asked.get() + 1);
                    Ok(text.to_string())
                }
            };
            assert_eq!(remembered("t", &["a", "bc"], "x", ask("1")), Ok("1".into()));
            assert_eq!(remembered("t", &["a", "bc"], "x", ask("2")), Ok("1".into()));
            // The same letters split otherwise are another cell.
            assert_eq!(remembered("t", &["ab", "c"], "x", ask("3")), Ok("3".into()));
            assert_eq!(remembered("t", &["abc"], "x", ask("4")), Ok("4".into()));
            let parse = |answer: Result<String, LookupError>| {
                answer
                    .map_err(|e| e.to_string())?
                    .parse::<Decimal>()
                    .map_err(|e| e.to_string())
            };
            assert_eq!(
                remembered_decimal("t", &["a", "bc"], "x", ask("9"), parse),
                Ok(Decimal::ONE)
            );
            assert_eq!(
                remembered_decimal("d", &[], "x", ask("1.25"), parse),
                Ok(Decimal::new(125, 2))
            );
            assert_eq!(
                remembered_decimal("d", &[], "x", ask("7"), parse),
                Ok(Decimal::new(125, 2))
            );
            assert_eq!(asked.get(), 4, "asked once per distinct cell");
            forget();
            assert_eq!(remembered("t", &["a", "bc"], "x", ask("5")), Ok("5".into()));
            assert_eq!(asked.get(), 5, "nothing is remembered after forget");
        }

        #[test]
        fn cells_sharing_a_hash_are_told_apart_by_their_key() {
            let mut cells = Cells::default();
            let a = cells.remember(7, "t", &["a"], "x", Ok("A".into())).unwrap();
            let b = cells.remember(7, "t", &["b"], "x", Ok("B".into())).unwrap();
            assert_eq!(cells.find(7, "t", &["a"], "x"), Some(a));
            assert_eq!(cells.find(7, "t", &["b"], "x"), Some(b));
            assert_eq!(cells.find(7, "t", &["c"], "x"), None);
        }

        #[test]
        fn no_more_than_the_limit_is_remembered() {
            let mut cells = Cells::default();
            for n in 0..ENTRIES_MAX {
                assert!(
                    cells
                        .remember(n as u64, "t", &[], "x", Ok(String::new()))
                        .is_some()
                );
            }
            assert_eq!(
                cells.remember(u64::MAX, "t", &[], "x", Ok(String::new())),
                None
            );
        }
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

            fn ask(table: &str, keys: &[&str], column: &str) -> Result<String, LookupError> {
                let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                wit::lookup(table, &keys, column).map_err(|error| match error {
                    wit::LookupError::NoSuchTable => LookupError::NoSuchTable,
                    wit::LookupError::NoSuchRow => LookupError::NoSuchRow,
                    wit::LookupError::NoSuchColumn => LookupError::NoSuchColumn,
                })
            }

            pub fn lookup(table: &str, keys: &[&str], column: &str) -> Result<String, LookupError> {
                super::memo::remembered(table, keys, column, || ask(table, keys, column))
            }

            pub fn lookup_decimal(
                table: &str,
                keys: &[&str],
                column: &str,
            ) -> Result<rust_decimal::Decimal, String> {
                super::memo::remembered_decimal(
                    table,
                    keys,
                    column,
                    || ask(table, keys, column),
                    |text| super::decimal_of(table, keys, column, text),
                )
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
