//! The `Store` trait: what the domain engine needs from durable storage. It
//! names no backend type, takes the tenant explicitly on every call, and uses
//! stream versions for optimistic concurrency, so the embedded sled store
//! (`SledStore`), the PostgreSQL store (`PgStore`) and the in-memory test
//! store (`MemoryStore`) are interchangeable.

use super::error::StoreError;
use super::event::{AppendOutcome, AppendRequest, StoredEvent};

/// The event log of every tenant, with idempotency, plus a small durable
/// key-value area for non-event data (plugin component bytes, API key hashes).
///
/// Readers only ever see acknowledged (durable) appends, in sequence order and
/// without gaps: a reader that consumed up to sequence `n` will never later
/// find an event below `n` it has not seen.
pub trait Store: Send + Sync {
    /// Appends the request's events atomically, after checking its
    /// idempotency key and expected stream versions in commit order. Returns
    /// only once the events are durable on disk. On any error nothing is
    /// written.
    fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError>;

    /// Queues an append and returns at once; [`PendingAppend::wait`] returns
    /// when it is durable (or refused). Appends are committed in the order
    /// they are submitted, so a caller holding a lock while submitting keeps
    /// its log order, and concurrent submitters share one fsync. Checks that
    /// need no commit (limits, shape) fail here, before anything is queued.
    /// The default commits synchronously.
    fn submit_append(&self, request: AppendRequest) -> Result<PendingAppend, StoreError> {
        let outcome = self.append(request)?;
        Ok(PendingAppend::new(move || Ok(outcome)))
    }

    /// The tenant's events with a sequence above `after_sequence`, in order,
    /// at most `limit` of them (and at most `READ_EVENTS_MAX`). An empty result
    /// means the reader is at the end of the log.
    fn read(
        &self,
        tenant: &str,
        after_sequence: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// Every event of one stream, in stream-version order.
    fn read_stream(&self, tenant: &str, stream: &str) -> Result<Vec<StoredEvent>, StoreError>;

    /// The number of events of the stream (0 if it does not exist).
    fn stream_version(&self, tenant: &str, stream: &str) -> Result<u64, StoreError>;

    /// The sequence of the tenant's last event (0 if it has none).
    fn last_sequence(&self, tenant: &str) -> Result<u64, StoreError>;

    /// The request hash and response stored with an idempotency key.
    fn idempotent_response(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<(String, serde_json::Value)>, StoreError>;

    /// Every tenant with at least one event or blob, sorted.
    /// The whole record of a used idempotency key: the request hash, the
    /// stored response, and the sequences of the events its command appended.
    fn idempotent_record(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<IdempotentRecord>, StoreError>;

    fn tenants(&self) -> Result<Vec<String>, StoreError>;

    /// The tenant's last sequence and, with a key, its idempotency record
    /// if committed, asked together: what a command checks before it is
    /// decided on a shared store (one question for the store to answer,
    /// with others', in one round).
    fn probe(&self, tenant: &str, key: Option<&str>) -> Result<Probed, StoreError> {
        Ok(Probed {
            last_sequence: self.last_sequence(tenant)?,
            record: match key {
                Some(key) => self.idempotent_record(tenant, key)?,
                None => None,
            },
        })
    }

    /// Whether other processes may append to this store at the same time (a
    /// database shared by several Premia hosts). The engine then reads what
    /// the others appended before it decides, and commits with
    /// `expected_last_sequence`, retrying on `SequenceConflict`.
    fn shared(&self) -> bool {
        false
    }

    /// Holds the tenant's log against other hosts' appends until the
    /// returned lock appends (and commits) or is dropped: what a host does
    /// instead of racing when it keeps losing races on a tenant. `None` on
    /// a store only this process appends to (nothing to hold against).
    fn lock_tenant(&self, tenant: &str) -> Result<Option<TenantLock>, StoreError> {
        let _ = tenant;
        Ok(None)
    }

    /// Takes or renews the lease `name` of `tenant` for `holder` for
    /// `ttl_ms`: whether `holder` holds it now. A lease names the one host
    /// doing a tenant's background work (webhook delivery) when several
    /// share the store; a store only one process opens always grants it.
    fn try_lease(
        &self,
        tenant: &str,
        name: &str,
        holder: &str,
        ttl_ms: u64,
    ) -> Result<bool, StoreError> {
        let _ = (tenant, name, holder, ttl_ms);
        Ok(true)
    }

    /// Stores `bytes` under (tenant, namespace, key), replacing any previous
    /// value. Returns once the value is durable.
    fn put_blob(
        &self,
        tenant: &str,
        namespace: &str,
        key: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError>;

    /// The bytes stored under (tenant, namespace, key).
    fn get_blob(
        &self,
        tenant: &str,
        namespace: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// The keys of a namespace, sorted.
    fn list_blobs(&self, tenant: &str, namespace: &str) -> Result<Vec<String>, StoreError>;

    /// Removes a blob; returns whether it existed. Durable when it returns.
    fn delete_blob(&self, tenant: &str, namespace: &str, key: &str) -> Result<bool, StoreError>;
}

/// An append queued for commit.
pub struct PendingAppend {
    wait: Box<dyn FnOnce() -> Result<AppendOutcome, StoreError> + Send>,
}

impl PendingAppend {
    /// A pending append answered by `wait`.
    pub fn new(wait: impl FnOnce() -> Result<AppendOutcome, StoreError> + Send + 'static) -> Self {
        PendingAppend {
            wait: Box::new(wait),
        }
    }

    /// Waits until the append is durable (or refused).
    pub fn wait(self) -> Result<AppendOutcome, StoreError> {
        (self.wait)()
    }
}

impl std::fmt::Debug for PendingAppend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingAppend")
    }
}

/// A tenant's log held against other hosts (see [`Store::lock_tenant`]):
/// nobody else appends to it until this lock appends or is dropped.
pub struct TenantLock {
    last_sequence: u64,
    append: Box<dyn FnOnce(AppendRequest) -> Result<AppendOutcome, StoreError> + Send>,
}

impl TenantLock {
    /// A lock of a log ending at `last_sequence`, whose append is `append`.
    pub fn new(
        last_sequence: u64,
        append: impl FnOnce(AppendRequest) -> Result<AppendOutcome, StoreError> + Send + 'static,
    ) -> Self {
        TenantLock {
            last_sequence,
            append: Box::new(append),
        }
    }

    /// The sequence of the tenant's last event, which stays the last until
    /// this lock appends.
    pub fn last_sequence(&self) -> u64 {
        self.last_sequence
    }

    /// Appends and commits under the lock, then releases it.
    pub fn append(self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        (self.append)(request)
    }
}

impl std::fmt::Debug for TenantLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TenantLock(at {})", self.last_sequence)
    }
}

/// The answer to [`Store::probe`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    pub last_sequence: u64,
    pub record: Option<IdempotentRecord>,
}

/// What the store keeps for a used idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentRecord {
    pub request_hash: String,
    pub response: serde_json::Value,
    pub first_sequence: u64,
    pub last_sequence: u64,
}
