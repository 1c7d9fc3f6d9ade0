//! `MemoryStore`: the store in memory, for tests. It runs the same planner,
//! key layout and readers as the sled store over a `BTreeMap` under one lock,
//! so it behaves the same in everything but durability.

use super::error::StoreError;
use super::event::{AppendOutcome, AppendRequest, StoredEvent};
use super::kv::apply_to_map;
use super::planner::{Batch, Done, Planner};
use super::prepare::{Work, prepare_append, prepare_delete_blob, prepare_put_blob};
use super::reader;
use super::traits::{IdempotentRecord, Store};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// An in-memory `Store`. Nothing survives a drop.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
    planner: Planner,
}

impl Inner {
    fn visible(&self, tenant: &str) -> u64 {
        self.planner
            .last_sequences()
            .get(tenant)
            .copied()
            .unwrap_or(0)
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied batch:
        // the map changes only in `apply_to_map`, which does not panic.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn commit(&self, work: Work) -> Result<Done, StoreError> {
        let mut guard = self.lock();
        let Inner { map, planner } = &mut *guard;
        let mut batch = Batch::default();
        let done = planner.plan(map, work, &mut batch)?;
        let (writes, _) = batch.finish();
        apply_to_map(map, writes);
        Ok(done)
    }

    /// Writes a raw value under a raw key (tests of corrupt or foreign data).
    #[cfg(test)]
    pub(crate) fn insert_raw(&self, key: &[u8], value: &[u8]) {
        self.lock().map.insert(key.to_vec(), value.to_vec());
    }

    /// How many raw keys start with `prefix` (tests of the layout).
    #[cfg(test)]
    pub(crate) fn count_raw(&self, prefix: &[u8]) -> usize {
        let guard = self.lock();
        guard
            .map
            .range(prefix.to_vec()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .count()
    }
}

impl Store for MemoryStore {
    fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        match self.commit(prepare_append(request)?)? {
            Done::Append(outcome) => Ok(outcome),
            other => unreachable!("an append planned as {other:?}"),
        }
    }

    fn read(
        &self,
        tenant: &str,
        after_sequence: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let inner = self.lock();
        reader::read_events(
            &inner.map,
            tenant,
            after_sequence,
            limit,
            inner.visible(tenant),
        )
    }

    fn read_stream(&self, tenant: &str, stream: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let inner = self.lock();
        reader::read_stream(&inner.map, tenant, stream, inner.visible(tenant))
    }

    fn stream_version(&self, tenant: &str, stream: &str) -> Result<u64, StoreError> {
        let inner = self.lock();
        reader::stream_version(&inner.map, tenant, stream, inner.visible(tenant))
    }

    fn last_sequence(&self, tenant: &str) -> Result<u64, StoreError> {
        super::limits::check_tenant(tenant)?;
        Ok(self.lock().visible(tenant))
    }

    fn idempotent_response(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<(String, serde_json::Value)>, StoreError> {
        let inner = self.lock();
        reader::idempotent_response(&inner.map, tenant, key, inner.visible(tenant))
    }

    fn idempotent_record(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<IdempotentRecord>, StoreError> {
        let inner = self.lock();
        reader::idempotent_record(&inner.map, tenant, key, inner.visible(tenant))
    }

    fn tenants(&self) -> Result<Vec<String>, StoreError> {
        let mut tenants: Vec<String> = self
            .lock()
            .planner
            .last_sequences()
            .keys()
            .cloned()
            .collect();
        tenants.sort();
        Ok(tenants)
    }

    fn put_blob(
        &self,
        tenant: &str,
        namespace: &str,
        key: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        self.commit(prepare_put_blob(tenant, namespace, key, bytes)?)
            .map(|_| ())
    }

    fn get_blob(
        &self,
        tenant: &str,
        namespace: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        reader::get_blob(&self.lock().map, tenant, namespace, key)
    }

    fn list_blobs(&self, tenant: &str, namespace: &str) -> Result<Vec<String>, StoreError> {
        reader::list_blobs(&self.lock().map, tenant, namespace)
    }

    fn delete_blob(&self, tenant: &str, namespace: &str, key: &str) -> Result<bool, StoreError> {
        match self.commit(prepare_delete_blob(tenant, namespace, key)?)? {
            Done::DeleteBlob(existed) => Ok(existed),
            other => unreachable!("a blob removal planned as {other:?}"),
        }
    }
}
