//! `PgStore`: the store on PostgreSQL (and on databases speaking its wire
//! protocol), for several Premia hosts sharing one database.
//!
//! - Schema: the numbered files of `host/migrations/`, applied at open under
//!   an advisory lock and recorded in `premia_schema_migrations`.
//! - Writes go through group commit to one committer thread per host
//!   (`pg_commit.rs`, pipelined on its own asynchronous connection:
//!   `pg_link.rs`), which commits every pending append in one
//!   transaction of a fixed number of statements: it locks the rows of the
//!   batch's tenants in name order (`SELECT ... FOR UPDATE`), checks
//!   idempotency keys, the expected tenant sequence, stream versions and
//!   chains in memory, inserts the events, stream versions, idempotency
//!   records and the ledger balance projection (the balance lines the
//!   writer hands over with the events: the store never reads an event's
//!   kind or payload) with one multi-row statement each, and commits
//!   (durable: `synchronous_commit`). If the database refuses the batch
//!   (a deadlock, a serialisation failure), it is tried again, then each
//!   append alone, so one bad request never fails the others.
//! - The tenant row lock serialises the appends of a tenant across hosts:
//!   sequences are gap-free and commit in sequence order, so a reader (who
//!   sees committed rows only) never finds a gap it will later see filled.
//! - Reads run on a small pool of connections, each on its own thread: the
//!   sync `postgres` client must never run on a tokio worker thread, and
//!   callers include async handlers.
//!
//! Only the `pg_*.rs` files of `store/` import the database crates.

use super::error::StoreError;
use super::event::{AppendOutcome, AppendRequest, EVENT_FORMAT_VERSION, StoredEvent};
use super::limits::{READ_EVENTS_MAX, check_tenant};
use super::pg_lock::{LOCKERS, LockJob};
use super::pg_probe::Probe;
use super::planner::Done;
use super::prepare::{
    Work, check_blob_address, prepare_append, prepare_delete_blob, prepare_put_blob,
};
use super::traits::{IdempotentRecord, PendingAppend, Probed, Store, TenantLock};
use chrono::{DateTime, Utc};
use postgres::error::SqlState;
use postgres::{Client, NoTls, Statement};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The schema migrations, in order: (version, name, SQL).
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "event_log",
        include_str!("../../migrations/0001_event_log.sql"),
    ),
    (
        2,
        "leases",
        include_str!("../../migrations/0002_leases.sql"),
    ),
    (
        3,
        "events_without_tenant_check",
        include_str!("../../migrations/0003_events_without_tenant_check.sql"),
    ),
];

/// Format version of idempotency records in `premia_idempotency`.
pub(super) const IDEMPOTENCY_FORMAT_VERSION: i16 = 1;
/// The most appends the committer puts in one transaction.
pub const PG_BATCH_MAX: usize = 256;
/// Connections (and threads) serving reads, per host (16 measured no
/// faster than 4 in `scripts/bench-store.sh`, see docs/storage.md).
const READERS: usize = 4;
/// Attempts at a batch the database refused with a retryable error
/// (deadlock, serialisation failure) before each append is tried alone.
pub(super) const BATCH_ATTEMPTS: usize = 3;
/// The advisory lock key held while migrating ("premia" in ASCII).
const MIGRATION_LOCK: i64 = 0x7072_656d_6961;

pub(super) fn db_error(error: postgres::Error) -> StoreError {
    match error.as_db_error() {
        Some(db) => StoreError::Io(format!(
            "postgres: {} ({}): {}",
            db.severity(),
            db.code().code(),
            db.message()
        )),
        None => StoreError::Io(format!("postgres: {error}")),
    }
}

pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Whether a refused batch may succeed if tried again as is.
pub(super) fn retryable(error: &postgres::Error) -> bool {
    matches!(
        error.code(),
        Some(&SqlState::T_R_DEADLOCK_DETECTED) | Some(&SqlState::T_R_SERIALIZATION_FAILURE)
    )
}

/// Connects, creating the schema named first in the URL's `search_path` if
/// it does not exist yet (`?options=-c%20search_path%3Dname`).
fn connect(url: &str) -> Result<Client, StoreError> {
    let mut client = Client::connect(url, NoTls).map_err(db_error)?;
    let current: Option<String> = client
        .query_one("SELECT current_schema()::text", &[])
        .map_err(db_error)?
        .get(0);
    if current.is_none() {
        let path: String = client
            .query_one("SHOW search_path", &[])
            .map_err(db_error)?
            .get(0);
        let first = path
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        if first.is_empty() || first.contains('"') || first.starts_with('$') {
            return Err(StoreError::InvalidRequest(format!(
                "the search_path {path:?} names no usable schema"
            )));
        }
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{first}\""))
            .map_err(db_error)?;
    }
    Ok(client)
}

/// Applies the migrations this build knows and the database lacks; refuses a
/// database migrated by a newer build.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    // A database without advisory locks (some wire-compatible ones) is
    // migrated without: start one host first after an upgrade there.
    let locked = match client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]) {
        Ok(_) => true,
        Err(error) if error.code().is_some() => {
            tracing::warn!("no advisory lock for migrations: {error}");
            false
        }
        Err(error) => return Err(db_error(error)),
    };
    let result = migrate_locked(client);
    if locked {
        client
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .map_err(db_error)?;
    }
    result
}

fn migrate_locked(client: &mut Client) -> Result<(), StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS premia_schema_migrations (
                 version    integer     PRIMARY KEY,
                 name       text        NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .map_err(db_error)?;
    let applied: Vec<i32> = client
        .query("SELECT version FROM premia_schema_migrations", &[])
        .map_err(db_error)?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if let Some(newer) = applied.iter().find(|v| **v > known) {
        return Err(StoreError::UnsupportedFormatVersion {
            what: "database schema",
            version: u16::try_from(*newer).unwrap_or(u16::MAX),
        });
    }
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        let mut tx = client.transaction().map_err(db_error)?;
        tx.batch_execute(sql).map_err(db_error)?;
        tx.execute(
            "INSERT INTO premia_schema_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .map_err(db_error)?;
        tx.commit().map_err(db_error)?;
        tracing::info!(version, name, "applied database migration");
    }
    Ok(())
}

type ReadJob = Box<dyn FnOnce(&mut Option<Client>) + Send>;

pub(super) struct WriteJob {
    pub work: Work,
    pub reply: SyncSender<Result<Done, StoreError>>,
}

/// A row of the ledger balance projection (`premia_ledger_balances`):
/// amounts are the database's `numeric`, as decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerBalanceRow {
    pub account: String,
    pub currency: String,
    /// The subledger (an account locator), or empty.
    pub subledger: String,
    pub debits: String,
    pub credits: String,
}

/// The store on PostgreSQL.
pub struct PgStore {
    writes: Option<Sender<WriteJob>>,
    reads: Option<Sender<ReadJob>>,
    probes: Option<Sender<Probe>>,
    locks: Option<Sender<LockJob>>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgStore")
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`), applies missing
    /// migrations, and starts the committer and the readers.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let url = url.to_string();
        // The sync client runs its own runtime: connect on a plain thread,
        // never on the caller's (which may be a tokio worker).
        {
            let url = url.clone();
            std::thread::spawn(move || -> Result<(), StoreError> {
                let mut client = connect(&url)?;
                migrate(&mut client)
            })
            .join()
            .map_err(|_| StoreError::Failed("connecting panicked".to_string()))??;
        }
        let mut threads = Vec::new();
        let (writes, write_queue) = mpsc::channel::<WriteJob>();
        {
            let url = url.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("premia-pg-commit".to_string())
                    .spawn(move || super::pg_commit::run_committer(url, write_queue))?,
            );
        }
        let (reads, read_queue) = mpsc::channel::<ReadJob>();
        let read_queue = Arc::new(Mutex::new(read_queue));
        for n in 0..READERS {
            let url = url.clone();
            let queue = Arc::clone(&read_queue);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("premia-pg-read-{n}"))
                    .spawn(move || run_reader(url, queue))?,
            );
        }
        let (probes, probe_queue) = mpsc::channel::<Probe>();
        {
            let url = url.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("premia-pg-probe".to_string())
                    .spawn(move || super::pg_probe::run_prober(url, probe_queue))?,
            );
        }
        let (locks, lock_queue) = mpsc::channel::<LockJob>();
        let lock_queue = Arc::new(Mutex::new(lock_queue));
        for n in 0..LOCKERS {
            let url = url.clone();
            let queue = Arc::clone(&lock_queue);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("premia-pg-lock-{n}"))
                    .spawn(move || super::pg_lock::run_locker(url, queue))?,
            );
        }
        Ok(PgStore {
            writes: Some(writes),
            reads: Some(reads),
            probes: Some(probes),
            locks: Some(locks),
            threads,
        })
    }

    fn enqueue(&self, work: Work) -> Result<Receiver<Result<Done, StoreError>>, StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.writes
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(WriteJob { work, reply })
            .map_err(|_| StoreError::Closed)?;
        Ok(answer)
    }

    fn submit(&self, work: Work) -> Result<Done, StoreError> {
        wait(self.enqueue(work)?)
    }

    /// Queues a probe for the prober (see `pg_probe`).
    fn ask(&self, probe: Probe) -> Result<(), StoreError> {
        self.probes
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(probe)
            .map_err(|_| StoreError::Closed)
    }

    /// Runs `read` on a reader's connection and returns its result.
    pub(crate) fn with_reader<T: Send + 'static>(
        &self,
        read: impl FnOnce(&mut Client) -> Result<T, postgres::Error> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let job: ReadJob = Box::new(move |slot: &mut Option<Client>| {
            let mut client_lost = false;
            let result = reader_client(slot).and_then(|client| {
                read(client).map_err(|error| {
                    // No answer from the server: the connection is gone;
                    // the next read connects again.
                    if error.code().is_none() {
                        client_lost = true;
                    }
                    db_error(error)
                })
            });
            if client_lost {
                *slot = None;
            }
            let _ = reply.send(result);
        });
        self.reads
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(job)
            .map_err(|_| StoreError::Closed)?;
        answer
            .recv()
            .unwrap_or_else(|_| Err(StoreError::Failed("a reader thread stopped".to_string())))
    }

    /// The ledger balance projection of a tenant, sorted.
    pub fn ledger_balances(&self, tenant: &str) -> Result<Vec<LedgerBalanceRow>, StoreError> {
        check_tenant(tenant)?;
        let tenant = tenant.to_string();
        self.with_reader(move |client| {
            Ok(client
                .query(
                    "SELECT account, currency, subledger, debits::text, credits::text
                     FROM premia_ledger_balances WHERE tenant = $1
                     ORDER BY account, currency, subledger",
                    &[&tenant],
                )?
                .iter()
                .map(|row| LedgerBalanceRow {
                    account: row.get(0),
                    currency: row.get(1),
                    subledger: row.get(2),
                    debits: row.get(3),
                    credits: row.get(4),
                })
                .collect())
        })
    }

    /// Runs SQL on a connection of the store (tests of corrupt data).
    #[cfg(test)]
    pub(crate) fn execute_raw(&self, sql: &str) {
        let sql = sql.to_string();
        self.with_reader(move |client| client.batch_execute(&sql))
            .expect("raw SQL");
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.writes = None;
        self.reads = None;
        self.probes = None;
        self.locks = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The prober's answer to a probe.
fn answered<T>(answer: Receiver<Result<T, StoreError>>) -> Result<T, StoreError> {
    answer
        .recv()
        .unwrap_or_else(|_| Err(StoreError::Failed("a store thread stopped".to_string())))
}

fn wait(answer: Receiver<Result<Done, StoreError>>) -> Result<Done, StoreError> {
    answer.recv().unwrap_or_else(|_| {
        Err(StoreError::Failed(
            "the committer thread stopped".to_string(),
        ))
    })
}

pub(super) fn reader_client(slot: &mut Option<Client>) -> Result<&mut Client, StoreError> {
    if slot.as_ref().is_none_or(Client::is_closed) {
        STATEMENTS.with(|statements| statements.borrow_mut().clear());
        *slot = Some(reconnect()?);
    }
    Ok(slot.as_mut().expect("connected above"))
}

thread_local! {
    pub(super) static URL: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    /// The statements this thread prepared on its connection (emptied when
    /// it connects again).
    static STATEMENTS: std::cell::RefCell<std::collections::HashMap<&'static str, Statement>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// `sql` prepared once per connection of the current store thread: the
/// statements every batch and probe runs are parsed and planned once, not
/// at every call (one round trip each instead of two).
pub(super) fn prepared(
    client: &mut impl postgres::GenericClient,
    sql: &'static str,
) -> Result<Statement, postgres::Error> {
    if let Some(statement) = STATEMENTS.with(|statements| statements.borrow().get(sql).cloned()) {
        return Ok(statement);
    }
    let statement = client.prepare(sql)?;
    STATEMENTS.with(|statements| statements.borrow_mut().insert(sql, statement.clone()));
    Ok(statement)
}

/// Connects with the URL of the current store thread.
fn reconnect() -> Result<Client, StoreError> {
    let url = URL.with(|url| url.borrow().clone());
    let mut client = Client::connect(&url, NoTls).map_err(db_error)?;
    client.batch_execute(SESSION_SETTINGS).map_err(db_error)?;
    Ok(client)
}

/// What every connection of the store sets first. Its statements are
/// prepared once and run with a generic plan: without it the server plans
/// each execution again whenever its estimate of the generic plan looks
/// worse than the first custom plans (a perf profile of the committer's
/// batch statement: planning took a sixth of PostgreSQL's time). The
/// statements are written so that their generic plans are index lookups
/// (`LATERAL ... LIMIT 1`, `tenant = ANY($1)` on the primary key).
pub(super) const SESSION_SETTINGS: &str = "SET plan_cache_mode = force_generic_plan";

fn run_reader(url: String, queue: Arc<Mutex<Receiver<ReadJob>>>) {
    URL.with(|slot| *slot.borrow_mut() = url);
    let mut client: Option<Client> = None;
    while let Some(job) = next_job(&queue) {
        job(&mut client);
    }
}

/// The next job of a queue several threads take from (one at a time: the
/// others wait for the lock meanwhile); `None` once the store is dropped.
pub(super) fn next_job<T>(queue: &Mutex<Receiver<T>>) -> Option<T> {
    let queue = queue.lock().unwrap_or_else(|p| p.into_inner());
    queue.recv().ok()
}

/// An idempotency record from a row whose first columns are `request_hash,
/// response::text, first_sequence, last_sequence, format_version`.
pub(super) fn record_of_row(
    row: &postgres::Row,
    tenant: &str,
    key: &str,
) -> Result<IdempotentRecord, StoreError> {
    let version: i16 = row.get(4);
    if version != IDEMPOTENCY_FORMAT_VERSION {
        return Err(StoreError::UnsupportedFormatVersion {
            what: "idempotency record",
            version: version as u16,
        });
    }
    let response: String = row.get(1);
    let response = serde_json::from_str(&response).map_err(|error| {
        StoreError::Corrupt(format!("idempotency record {key:?} of {tenant:?}: {error}"))
    })?;
    Ok(IdempotentRecord {
        request_hash: row.get(0),
        response,
        first_sequence: to_u64(row.get(2)),
        last_sequence: to_u64(row.get(3)),
    })
}

const EVENT_COLUMNS: &str = "tenant, sequence, stream, stream_version, kind, payload::text, \
     command_id, actor, issued_at, idempotency_key, format_version";

fn event_of_row(row: &postgres::Row) -> Result<StoredEvent, StoreError> {
    let tenant: String = row.get(0);
    let sequence = to_u64(row.get(1));
    let version: i16 = row.get(10);
    if version != EVENT_FORMAT_VERSION as i16 {
        return Err(StoreError::UnsupportedFormatVersion {
            what: "event",
            version: version as u16,
        });
    }
    let payload: String = row.get(5);
    let payload = serde_json::from_str(&payload)
        .map_err(|e| StoreError::Corrupt(format!("event {sequence} of tenant {tenant:?}: {e}")))?;
    let issued_at: DateTime<Utc> = row.get(8);
    Ok(StoredEvent {
        tenant,
        sequence,
        stream: row.get(2),
        stream_version: to_u64(row.get(3)),
        kind: row.get(4),
        payload,
        command_id: row.get(6),
        actor: row.get(7),
        issued_at,
        idempotency_key: row.get(9),
        format_version: EVENT_FORMAT_VERSION,
    })
}

/// The database the PostgreSQL variants of the tests use:
/// `PREMIA_TEST_POSTGRES_URL`. Without it they fail in CI (`CI` set) and are
/// skipped, loudly, elsewhere.
pub fn test_database_url() -> Option<String> {
    match std::env::var("PREMIA_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!(
            "PREMIA_TEST_POSTGRES_URL is not set: the PostgreSQL tests must run in CI \
             (scripts/test.sh starts a database with scripts/postgres.sh)"
        ),
        _ => {
            eprintln!(
                "SKIPPED a PostgreSQL test: PREMIA_TEST_POSTGRES_URL is not set \
                 (export PREMIA_TEST_POSTGRES_URL=$(scripts/postgres.sh start), or run scripts/test.sh)"
            );
            None
        }
    }
}

/// `url` with `schema` first in its `search_path`: many isolated stores in
/// one database (the schema is created on open).
pub fn url_with_schema(url: &str, schema: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}

/// A schema name no other test uses.
pub fn fresh_schema_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl Store for PgStore {
    fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        self.submit_append(request)?.wait()
    }

    fn submit_append(&self, request: AppendRequest) -> Result<PendingAppend, StoreError> {
        let answer = self.enqueue(prepare_append(request)?)?;
        Ok(PendingAppend::new(move || match wait(answer)? {
            Done::Append(outcome) => Ok(outcome),
            other => unreachable!("an append committed as {other:?}"),
        }))
    }

    fn read(
        &self,
        tenant: &str,
        after_sequence: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        check_tenant(tenant)?;
        let limit = limit.min(READ_EVENTS_MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let tenant = tenant.to_string();
        let rows = self.with_reader(move |client| {
            client.query(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM premia_events
                     WHERE tenant = $1 AND sequence > $2 ORDER BY sequence LIMIT $3"
                ),
                &[&tenant, &to_i64(after_sequence), &(limit as i64)],
            )
        })?;
        rows.iter().map(event_of_row).collect()
    }

    fn read_stream(&self, tenant: &str, stream: &str) -> Result<Vec<StoredEvent>, StoreError> {
        check_tenant(tenant)?;
        let (tenant, stream) = (tenant.to_string(), stream.to_string());
        let rows = self.with_reader(move |client| {
            client.query(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM premia_events
                     WHERE tenant = $1 AND stream = $2 ORDER BY stream_version"
                ),
                &[&tenant, &stream],
            )
        })?;
        rows.iter().map(event_of_row).collect()
    }

    fn stream_version(&self, tenant: &str, stream: &str) -> Result<u64, StoreError> {
        check_tenant(tenant)?;
        let (tenant, stream) = (tenant.to_string(), stream.to_string());
        self.with_reader(move |client| {
            Ok(client
                .query_opt(
                    "SELECT version FROM premia_streams WHERE tenant = $1 AND stream = $2",
                    &[&tenant, &stream],
                )?
                .map(|row| to_u64(row.get(0)))
                .unwrap_or(0))
        })
    }

    fn last_sequence(&self, tenant: &str) -> Result<u64, StoreError> {
        check_tenant(tenant)?;
        let (reply, answer) = mpsc::sync_channel(1);
        self.ask(Probe::Last {
            tenant: tenant.to_string(),
            reply,
        })?;
        answered(answer)
    }

    fn idempotent_response(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<(String, serde_json::Value)>, StoreError> {
        Ok(self
            .idempotent_record(tenant, key)?
            .map(|record| (record.request_hash, record.response)))
    }

    fn idempotent_record(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<IdempotentRecord>, StoreError> {
        check_tenant(tenant)?;
        let (reply, answer) = mpsc::sync_channel(1);
        self.ask(Probe::Key {
            tenant: tenant.to_string(),
            key: key.to_string(),
            reply,
        })?;
        answered(answer)
    }

    fn probe(&self, tenant: &str, key: Option<&str>) -> Result<Probed, StoreError> {
        check_tenant(tenant)?;
        let (reply, answer) = mpsc::sync_channel(1);
        self.ask(Probe::Both {
            tenant: tenant.to_string(),
            key: key.map(str::to_string),
            reply,
        })?;
        answered(answer)
    }

    fn tenants(&self) -> Result<Vec<String>, StoreError> {
        self.with_reader(|client| {
            Ok(client
                .query(
                    "SELECT tenant FROM (SELECT tenant FROM premia_tenants WHERE last_sequence > 0
                                         UNION SELECT tenant FROM premia_blobs) AS t
                     ORDER BY tenant COLLATE \"C\"",
                    &[],
                )?
                .iter()
                .map(|row| row.get(0))
                .collect())
        })
    }

    fn shared(&self) -> bool {
        true
    }

    fn lock_tenant(&self, tenant: &str) -> Result<Option<TenantLock>, StoreError> {
        check_tenant(tenant)?;
        let (locked, held) = mpsc::sync_channel(1);
        let (then, next) = mpsc::sync_channel(1);
        let (done, outcome) = mpsc::sync_channel(1);
        self.locks
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(LockJob {
                tenant: tenant.to_string(),
                locked,
                then: next,
                done,
            })
            .map_err(|_| StoreError::Closed)?;
        let last_sequence = answered(held)?;
        Ok(Some(TenantLock::new(last_sequence, move |request| {
            let work = prepare_append(request)?;
            then.send(work).map_err(|_| {
                StoreError::Io("the tenant lock was held too long and released".to_string())
            })?;
            match answered(outcome)? {
                Done::Append(outcome) => Ok(outcome),
                other => unreachable!("an append committed as {other:?}"),
            }
        })))
    }

    fn try_lease(
        &self,
        tenant: &str,
        name: &str,
        holder: &str,
        ttl_ms: u64,
    ) -> Result<bool, StoreError> {
        check_tenant(tenant)?;
        let (tenant, name, holder) = (tenant.to_string(), name.to_string(), holder.to_string());
        let ttl_ms = to_i64(ttl_ms);
        self.with_reader(move |client| {
            // Taken when free, expired, or already ours (a renewal); the
            // row's lock makes two hosts' attempts one after the other.
            let row = client.query_opt(
                "INSERT INTO premia_leases (tenant, name, holder, expires_at)
                 VALUES ($1, $2, $3, now() + $4::bigint * interval '1 millisecond')
                 ON CONFLICT (tenant, name) DO UPDATE
                   SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                   WHERE premia_leases.holder = EXCLUDED.holder
                      OR premia_leases.expires_at < now()
                 RETURNING holder",
                &[&tenant, &name, &holder, &ttl_ms],
            )?;
            Ok(row.is_some())
        })
    }

    fn put_blob(
        &self,
        tenant: &str,
        namespace: &str,
        key: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        self.submit(prepare_put_blob(tenant, namespace, key, bytes)?)
            .map(|_| ())
    }

    fn get_blob(
        &self,
        tenant: &str,
        namespace: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        check_blob_address(tenant, namespace, key)?;
        let (tenant, namespace, key) = (tenant.to_string(), namespace.to_string(), key.to_string());
        self.with_reader(move |client| {
            Ok(client
                .query_opt(
                    "SELECT bytes FROM premia_blobs WHERE tenant = $1 AND namespace = $2 AND key = $3",
                    &[&tenant, &namespace, &key],
                )?
                .map(|row| row.get(0)))
        })
    }

    fn list_blobs(&self, tenant: &str, namespace: &str) -> Result<Vec<String>, StoreError> {
        check_tenant(tenant)?;
        let (tenant, namespace) = (tenant.to_string(), namespace.to_string());
        self.with_reader(move |client| {
            Ok(client
                .query(
                    "SELECT key FROM premia_blobs WHERE tenant = $1 AND namespace = $2
                     ORDER BY key COLLATE \"C\"",
                    &[&tenant, &namespace],
                )?
                .iter()
                .map(|row| row.get(0))
                .collect())
        })
    }

    fn delete_blob(&self, tenant: &str, namespace: &str, key: &str) -> Result<bool, StoreError> {
        match self.submit(prepare_delete_blob(tenant, namespace, key)?)? {
            Done::DeleteBlob(existed) => Ok(existed),
            other => unreachable!("a blob removal committed as {other:?}"),
        }
    }
}
