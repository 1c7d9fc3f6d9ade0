//! A store that fails its writes on demand, for fault-injection tests: it
//! wraps another store and, while failing, refuses every write as a disk or
//! database would (a failed `fsync`, a full disk, a dropped connection)
//! without writing anything. An append queued with `submit_append` fails at
//! `wait`, after it was queued, which is when an `fsync` error is seen.

use super::error::StoreError;
use super::event::{AppendOutcome, AppendRequest, StoredEvent};
use super::traits::{IdempotentRecord, PendingAppend, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// See the module documentation.
pub struct FailingStore {
    inner: Arc<dyn Store>,
    failing: AtomicBool,
    /// Whether listing tenants fails too (a store that does not answer).
    unreachable: AtomicBool,
    /// Writes still let through before the store starts failing
    /// ([`FailingStore::fail_writes_after`]); `u64::MAX` for no limit.
    writes_left: AtomicU64,
    /// Writes refused so far.
    pub refused: AtomicU64,
}

const INJECTED: &str = "injected write failure (fsync failed)";

impl FailingStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        FailingStore {
            inner,
            failing: AtomicBool::new(false),
            unreachable: AtomicBool::new(false),
            writes_left: AtomicU64::new(u64::MAX),
            refused: AtomicU64::new(0),
        }
    }

    /// Starts or stops refusing writes.
    pub fn fail_writes(&self, failing: bool) {
        self.writes_left.store(u64::MAX, Ordering::SeqCst);
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// Lets the next `writes` writes through, then refuses every write
    /// (a disk failing in the middle of a batch of work) until
    /// [`FailingStore::fail_writes`]`(false)`.
    pub fn fail_writes_after(&self, writes: u64) {
        self.failing.store(false, Ordering::SeqCst);
        self.writes_left.store(writes, Ordering::SeqCst);
    }

    /// Starts or stops failing to list tenants, as a store that does not
    /// answer at all (what a readiness probe asks).
    pub fn fail_reads(&self, failing: bool) {
        self.unreachable.store(failing, Ordering::SeqCst);
    }

    fn refuse(&self) -> Option<StoreError> {
        let left = self
            .writes_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| match left {
                u64::MAX | 0 => None,
                left => Some(left - 1),
            });
        if left == Err(0) {
            self.failing.store(true, Ordering::SeqCst);
        }
        self.failing.load(Ordering::SeqCst).then(|| {
            self.refused.fetch_add(1, Ordering::SeqCst);
            StoreError::Failed(INJECTED.into())
        })
    }
}

impl Store for FailingStore {
    fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        match self.refuse() {
            Some(error) => Err(error),
            None => self.inner.append(request),
        }
    }

    fn submit_append(&self, request: AppendRequest) -> Result<PendingAppend, StoreError> {
        match self.refuse() {
            Some(error) => Ok(PendingAppend::new(move || Err(error))),
            None => self.inner.submit_append(request),
        }
    }

    fn read(
        &self,
        tenant: &str,
        after_sequence: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.inner.read(tenant, after_sequence, limit)
    }

    fn read_stream(&self, tenant: &str, stream: &str) -> Result<Vec<StoredEvent>, StoreError> {
        self.inner.read_stream(tenant, stream)
    }

    fn stream_version(&self, tenant: &str, stream: &str) -> Result<u64, StoreError> {
        self.inner.stream_version(tenant, stream)
    }

    fn last_sequence(&self, tenant: &str) -> Result<u64, StoreError> {
        self.inner.last_sequence(tenant)
    }

    fn idempotent_response(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<(String, serde_json::Value)>, StoreError> {
        self.inner.idempotent_response(tenant, key)
    }

    fn idempotent_record(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<IdempotentRecord>, StoreError> {
        self.inner.idempotent_record(tenant, key)
    }

    fn tenants(&self) -> Result<Vec<String>, StoreError> {
        if self.unreachable.load(Ordering::SeqCst) {
            return Err(StoreError::Failed(
                "injected: the store does not answer".into(),
            ));
        }
        self.inner.tenants()
    }

    fn shared(&self) -> bool {
        self.inner.shared()
    }

    fn try_lease(
        &self,
        tenant: &str,
        name: &str,
        holder: &str,
        ttl_ms: u64,
    ) -> Result<bool, StoreError> {
        self.inner.try_lease(tenant, name, holder, ttl_ms)
    }

    fn put_blob(
        &self,
        tenant: &str,
        namespace: &str,
        key: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        match self.refuse() {
            Some(error) => Err(error),
            None => self.inner.put_blob(tenant, namespace, key, bytes),
        }
    }

    fn get_blob(
        &self,
        tenant: &str,
        namespace: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get_blob(tenant, namespace, key)
    }

    fn list_blobs(&self, tenant: &str, namespace: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list_blobs(tenant, namespace)
    }

    fn delete_blob(&self, tenant: &str, namespace: &str, key: &str) -> Result<bool, StoreError> {
        match self.refuse() {
            Some(error) => Err(error),
            None => self.inner.delete_blob(tenant, namespace, key),
        }
    }
}
