//! `SledStore`: the embedded durable store. One sled tree holds the layout of
//! `codec`; writes go through group commit to one committer thread, which
//! applies a whole batch as one atomic sled batch, flushes sled, syncs its
//! files (`sled_files`), and only then publishes the new sequences to readers
//! and answers the writers.

use super::codec::{self, STORE_FORMAT_VERSION};
use super::error::StoreError;
use super::event::{AppendOutcome, AppendRequest, StoredEvent};
use super::group_commit::{CommitStats, Committer, GroupCommit, wait_for};
use super::kv::{KvRead, Visit};
use super::limits::check_tenant;
use super::planner::{Batch, Done, Planner};
use super::prepare::{Work, prepare_append, prepare_delete_blob, prepare_put_blob};
use super::reader;
use super::sled_files::SledFiles;
use super::traits::{IdempotentRecord, PendingAppend, Store};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

/// The embedded store, in one directory.
#[derive(Debug)]
pub struct SledStore {
    shared: Arc<Shared>,
    commit: GroupCommit,
}

#[derive(Debug)]
struct Shared {
    db: sled::Db,
    /// Tenant -> last durable sequence: what readers may see.
    visible: RwLock<HashMap<String, u64>>,
    /// Successful syncs of sled's files.
    syncs: AtomicU64,
}

impl Shared {
    fn visible(&self, tenant: &str) -> u64 {
        let visible = self.visible.read().unwrap_or_else(PoisonError::into_inner);
        visible.get(tenant).copied().unwrap_or(0)
    }
}

/// What group commit and the disk have done since the store was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SledStats {
    pub commit: CommitStats,
    /// Batches made durable (one flush and one round of fsyncs each).
    pub syncs: u64,
}

fn sled_error(error: sled::Error) -> StoreError {
    match error {
        sled::Error::Io(error) => StoreError::Io(error.to_string()),
        sled::Error::Corruption { .. } => StoreError::Corrupt(error.to_string()),
        other => StoreError::Io(other.to_string()),
    }
}

impl KvRead for sled::Db {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        sled::Tree::get(self, key)
            .map(|value| value.map(|v| v.to_vec()))
            .map_err(sled_error)
    }

    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<(), StoreError> {
        if start >= end {
            return Ok(());
        }
        let range = self.range(start..end);
        let mut step = |item: sled::Result<(sled::IVec, sled::IVec)>| {
            let (key, value) = item.map_err(sled_error)?;
            visit(&key, &value)
        };
        if reverse {
            for item in range.rev() {
                if step(item)?.is_break() {
                    break;
                }
            }
        } else {
            for item in range {
                if step(item)?.is_break() {
                    break;
                }
            }
        }
        Ok(())
    }
}

/// How long an open waits for the directory's lock: a store just dropped in
/// this process releases it when sled's background threads have stopped.
const OPEN_LOCK_WAIT_MS: u64 = 5_000;
const OPEN_LOCK_RETRY_MS: u64 = 20;

/// Opens sled in `dir`, waiting briefly if another handle in this process is
/// still closing (sled refuses the lock); a lock held by
/// another live process is still refused after the wait.
fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
    let started = std::time::Instant::now();
    loop {
        match sled::Config::new().path(dir).open() {
            Ok(db) => return Ok(db),
            // sled reports the refused lock as `Other` with this message.
            Err(sled::Error::Io(error))
                if error.to_string().starts_with("could not acquire lock")
                    && started.elapsed() < std::time::Duration::from_millis(OPEN_LOCK_WAIT_MS) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(OPEN_LOCK_RETRY_MS));
            }
            Err(error) => return Err(sled_error(error)),
        }
    }
}

impl SledStore {
    /// Opens (or creates) the store in `dir`. Refuses a directory written in
    /// an unknown layout version, or a sled database that is not a store.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        let dir = dir.canonicalize()?;
        let db = open_db(&dir)?;
        match KvRead::get(&db, codec::FORMAT_KEY)? {
            Some(value) => {
                codec::open_envelope("store layout", &value, STORE_FORMAT_VERSION)?;
            }
            None if db.is_empty() => {
                db.insert(
                    codec::FORMAT_KEY,
                    STORE_FORMAT_VERSION.to_be_bytes().to_vec(),
                )
                .map_err(sled_error)?;
            }
            None => {
                return Err(StoreError::Corrupt(format!(
                    "{} holds a sled database that is not a Premia store",
                    dir.display()
                )));
            }
        }
        let planner = Planner::load(&db)?;
        db.flush().map_err(sled_error)?;
        let files = SledFiles::open(&dir)?;
        let shared = Arc::new(Shared {
            db,
            visible: RwLock::new(planner.last_sequences().clone()),
            syncs: AtomicU64::new(0),
        });
        let commit = GroupCommit::start(SledCommitter {
            shared: Arc::clone(&shared),
            planner,
            files,
            failure: None,
        })?;
        Ok(SledStore { shared, commit })
    }

    /// What group commit and the disk have done since the store was opened.
    pub fn stats(&self) -> SledStats {
        SledStats {
            commit: self.commit.stats(),
            syncs: self.shared.syncs.load(Ordering::Relaxed),
        }
    }

    /// Writes a raw value under a raw key, bypassing the committer (tests of
    /// corrupt or foreign data).
    #[cfg(test)]
    pub(crate) fn insert_raw(&self, key: &[u8], value: &[u8]) {
        self.shared.db.insert(key, value).expect("sled insert");
    }

    /// How many raw keys start with `prefix` (tests of the layout).
    #[cfg(test)]
    pub(crate) fn count_raw(&self, prefix: &[u8]) -> usize {
        self.shared.db.scan_prefix(prefix).count()
    }
}

/// The committer thread's side: plans, writes, flushes and syncs.
struct SledCommitter {
    shared: Arc<Shared>,
    planner: Planner,
    files: SledFiles,
    /// Set by the first storage failure: the state on disk is unknown after
    /// it, so every later write is refused until the store is reopened.
    failure: Option<String>,
}

impl SledCommitter {
    fn write_durably(&mut self, batch: Batch) -> Result<HashMap<String, u64>, StoreError> {
        let (writes, tenants) = batch.finish();
        let mut sled_batch = sled::Batch::default();
        for (key, value) in writes {
            match value {
                Some(value) => sled_batch.insert(key, value),
                None => sled_batch.remove(key),
            }
        }
        self.shared.db.apply_batch(sled_batch).map_err(sled_error)?;
        self.shared.db.flush().map_err(sled_error)?;
        self.files.sync()?;
        Ok(tenants)
    }
}

impl Committer for SledCommitter {
    fn commit(&mut self, works: Vec<Work>) -> Vec<Result<Done, StoreError>> {
        if let Some(failure) = &self.failure {
            return works
                .iter()
                .map(|_| Err(StoreError::Failed(failure.clone())))
                .collect();
        }
        let mut batch = Batch::default();
        let results: Vec<_> = works
            .into_iter()
            .map(|work| self.planner.plan(&self.shared.db, work, &mut batch))
            .collect();
        if batch.is_empty() {
            // Only refusals and replays of keys committed by earlier batches,
            // which are durable already.
            return results;
        }
        match self.write_durably(batch) {
            Ok(tenants) => {
                {
                    let mut visible = self
                        .shared
                        .visible
                        .write()
                        .unwrap_or_else(PoisonError::into_inner);
                    visible.extend(tenants);
                }
                self.shared
                    .syncs
                    .store(self.files.syncs(), Ordering::Relaxed);
                results
            }
            Err(error) => {
                self.failure = Some(error.to_string());
                results
                    .into_iter()
                    .map(|result| result.and(Err(error.clone())))
                    .collect()
            }
        }
    }
}

impl Store for SledStore {
    fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        self.submit_append(request)?.wait()
    }

    fn submit_append(&self, request: AppendRequest) -> Result<PendingAppend, StoreError> {
        let answer = self.commit.enqueue(prepare_append(request)?)?;
        Ok(PendingAppend::new(move || match wait_for(answer)? {
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
        reader::read_events(
            &self.shared.db,
            tenant,
            after_sequence,
            limit,
            self.shared.visible(tenant),
        )
    }

    fn read_stream(&self, tenant: &str, stream: &str) -> Result<Vec<StoredEvent>, StoreError> {
        reader::read_stream(&self.shared.db, tenant, stream, self.shared.visible(tenant))
    }

    fn stream_version(&self, tenant: &str, stream: &str) -> Result<u64, StoreError> {
        reader::stream_version(&self.shared.db, tenant, stream, self.shared.visible(tenant))
    }

    fn last_sequence(&self, tenant: &str) -> Result<u64, StoreError> {
        check_tenant(tenant)?;
        Ok(self.shared.visible(tenant))
    }

    fn idempotent_response(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<(String, serde_json::Value)>, StoreError> {
        reader::idempotent_response(&self.shared.db, tenant, key, self.shared.visible(tenant))
    }

    fn idempotent_record(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<IdempotentRecord>, StoreError> {
        reader::idempotent_record(&self.shared.db, tenant, key, self.shared.visible(tenant))
    }

    fn tenants(&self) -> Result<Vec<String>, StoreError> {
        let visible = self
            .shared
            .visible
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut tenants: Vec<String> = visible.keys().cloned().collect();
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
        self.commit
            .submit(prepare_put_blob(tenant, namespace, key, bytes)?)
            .map(|_| ())
    }

    fn get_blob(
        &self,
        tenant: &str,
        namespace: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        reader::get_blob(&self.shared.db, tenant, namespace, key)
    }

    fn list_blobs(&self, tenant: &str, namespace: &str) -> Result<Vec<String>, StoreError> {
        reader::list_blobs(&self.shared.db, tenant, namespace)
    }

    fn delete_blob(&self, tenant: &str, namespace: &str, key: &str) -> Result<bool, StoreError> {
        match self
            .commit
            .submit(prepare_delete_blob(tenant, namespace, key)?)?
        {
            Done::DeleteBlob(existed) => Ok(existed),
            other => unreachable!("a blob removal committed as {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests;
