//! The event-sourced durable store: the per-tenant event log that is Premia's
//! source of truth, idempotency of commands, and a small durable key-value
//! area (plugin components, API key hashes).
//!
//! - `Store` (traits.rs) is what the domain engine uses; it names no backend
//!   type, so a PostgreSQL store can implement it later.
//! - `SledStore` is the embedded default: group commit, one atomic sled batch
//!   per commit, and an fsync of sled's files before any writer is answered.
//! - `MemoryStore` is the same logic without durability, for tests.
//!
//! - `PgStore` is the same contract on PostgreSQL (and wire-compatible
//!   databases), for several hosts sharing one database.
//!
//! Only this module imports sled and the PostgreSQL client.

mod codec;
mod error;
mod event;
mod group_commit;
mod kv;
mod limits;
mod memory;
mod packed;
mod pg_commit;
mod pg_link;
mod pg_lock;
mod pg_probe;
mod pg_store;
mod planner;
mod prepare;
mod reader;
mod sled_files;
mod sled_store;
mod traits;

#[cfg(test)]
pub(crate) mod failing;
#[cfg(test)]
mod tests;

pub use error::StoreError;
pub use event::{
    AppendOutcome, AppendRequest, BalanceLine, CommandMeta, EVENT_FORMAT_VERSION, NewEvent,
    StoredEvent,
};
pub use group_commit::{BATCH_BYTES_MAX, BATCH_REQUESTS_MAX, CommitStats};
pub use limits::{
    APPEND_BYTES_MAX, BALANCE_LINES_PER_APPEND_MAX, BLOB_BYTES_MAX, EVENTS_PER_APPEND_MAX,
    ID_BYTES_MAX, NAME_BYTES_MAX, PAYLOAD_BYTES_MAX, READ_EVENTS_MAX, RESPONSE_BYTES_MAX,
    TENANT_BYTES_MAX,
};
pub use memory::MemoryStore;
pub use pg_lock::{LOCKERS, TENANT_LOCK_HOLD_MS_MAX};
pub use pg_probe::PROBE_BATCH_MAX;
pub use pg_store::{
    LedgerBalanceRow, MIGRATIONS, PG_BATCH_MAX, PgStore, fresh_schema_name, test_database_url,
    url_with_schema,
};
pub use sled_store::{SledStats, SledStore};
pub use traits::{IdempotentRecord, PendingAppend, Probed, Store, TenantLock};

/// The store the backend-agnostic engine and API suites run on: a
/// `MemoryStore`, or a `PgStore` in a fresh schema of
/// `PREMIA_TEST_POSTGRES_URL` when `PREMIA_TEST_BACKEND=postgres`
/// (`scripts/test.sh` runs those suites both ways).
#[cfg(test)]
pub(crate) fn test_store() -> std::sync::Arc<dyn Store> {
    if std::env::var("PREMIA_TEST_BACKEND").as_deref() == Ok("postgres") {
        let url = std::env::var("PREMIA_TEST_POSTGRES_URL")
            .expect("PREMIA_TEST_BACKEND=postgres needs PREMIA_TEST_POSTGRES_URL");
        let url = url_with_schema(&url, &fresh_schema_name("suite"));
        return std::sync::Arc::new(PgStore::open(&url).expect("open the PostgreSQL store"));
    }
    std::sync::Arc::new(MemoryStore::new())
}
