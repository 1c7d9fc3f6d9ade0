//! Native testing of plugin logic: `cargo test` runs your [`crate::rating::Rater`]
//! or [`crate::invoicing::Invoicer`] directly, with no WebAssembly involved.
//!
//! The host imports are served per test thread: load rate tables with
//! [`load_tables_dir`] or [`add_table`], call your plugin, and read what it
//! logged with [`take_logs`].
//!
//! ```ignore
//! #[test]
//! fn sedan_collision_costs_612_a_year() {
//!     premia_plugin_sdk::testing::load_tables_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tables"));
//!     let response = MyRater::rate(request).unwrap();
//!     assert_eq!(response.items[0].premium, Rate::Yearly("612.00".into()));
//! }
//! ```

#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use crate::host::{LogLevel, LookupError};
    use crate::tables::{RateTable, RateTables};
    use std::cell::RefCell;

    thread_local! {
        static TABLES: RefCell<RateTables> = RefCell::new(RateTables::new());
        static LOGS: RefCell<Vec<(LogLevel, String)>> = const { RefCell::new(Vec::new()) };
    }

    /// Loads every `*.csv` of `dir` as this thread's rate tables.
    ///
    /// # Panics
    /// When the directory or a table cannot be read: a test set-up error.
    pub fn load_tables_dir(dir: impl AsRef<std::path::Path>) {
        let tables = RateTables::from_dir(dir.as_ref()).unwrap_or_else(|e| panic!("{e}"));
        TABLES.with(|t| *t.borrow_mut() = tables);
    }

    /// Adds one table from CSV text to this thread's rate tables.
    ///
    /// # Panics
    /// When the CSV is not a valid table.
    pub fn add_table(name: &str, csv_text: &str) {
        let table = RateTable::from_csv(csv_text).unwrap_or_else(|e| panic!("table {name}: {e}"));
        TABLES.with(|t| t.borrow_mut().insert(name, table));
    }

    /// Returns and clears what the plugin logged on this thread.
    pub fn take_logs() -> Vec<(LogLevel, String)> {
        LOGS.with(|l| std::mem::take(&mut *l.borrow_mut()))
    }

    pub(crate) fn record_log(level: LogLevel, message: &str) {
        LOGS.with(|l| l.borrow_mut().push((level, message.to_string())));
    }

    pub(crate) fn lookup(table: &str, keys: &[&str], column: &str) -> Result<String, LookupError> {
        TABLES.with(|t| t.borrow().lookup(table, keys, column).map(str::to_string))
    }
}
