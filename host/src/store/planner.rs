//! The commit planner: the single writer's logic. It takes prepared work in
//! commit order, checks idempotency keys and expected stream versions against
//! the stored state plus what the current batch already holds, assigns tenant
//! sequences and stream versions, and collects the writes of a whole batch.
//! A request that fails a check adds nothing to the batch.

use super::codec::{self, STREAM_FORMAT_VERSION, TENANT_FORMAT_VERSION, TENANT_PREFIX};
use super::error::StoreError;
use super::event::AppendOutcome;
use super::kv::{KvRead, Writes};
use super::prepare::{PreparedAppend, Work};
use std::collections::HashMap;
use std::ops::ControlFlow;

/// What a piece of work did once committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Done {
    Append(AppendOutcome),
    PutBlob,
    /// Whether the blob existed.
    DeleteBlob(bool),
}

/// The writes of one batch, and what they change, so that later requests of
/// the same batch see earlier ones.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    writes: Writes,
    /// Stream prefix -> the stream's version (looked up or written).
    streams: HashMap<Vec<u8>, u64>,
    /// Idempotency key -> (request hash, response JSON) written in this batch.
    keys: HashMap<Vec<u8>, (String, Vec<u8>)>,
    /// Blob key -> whether it exists after this batch.
    blobs: HashMap<Vec<u8>, bool>,
    /// Tenant -> its last sequence after this batch, for every tenant written.
    tenants: HashMap<String, u64>,
}

impl Batch {
    /// Whether the batch writes nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.tenants.is_empty()
    }

    /// The writes to apply atomically (tenant counters included) and the last
    /// sequence of every tenant the batch touched.
    pub(crate) fn finish(mut self) -> (Writes, HashMap<String, u64>) {
        for (tenant, last) in &self.tenants {
            self.writes.push((
                codec::tenant_key(tenant),
                Some(codec::encode_u64(TENANT_FORMAT_VERSION, *last)),
            ));
        }
        (self.writes, self.tenants)
    }
}

/// The single writer's state: the last sequence assigned per tenant.
#[derive(Debug, Default)]
pub(crate) struct Planner {
    last_sequences: HashMap<String, u64>,
}

impl Planner {
    /// Loads the tenant counters from storage.
    pub(crate) fn load(kv: &dyn KvRead) -> Result<Self, StoreError> {
        let mut last_sequences = HashMap::new();
        let mut visit = |key: &[u8], value: &[u8]| {
            let last = codec::decode_u64("tenant record", value, TENANT_FORMAT_VERSION)?;
            last_sequences.insert(codec::tenant_of_key(key)?, last);
            Ok(ControlFlow::Continue(()))
        };
        kv.scan(
            TENANT_PREFIX,
            &codec::prefix_end(TENANT_PREFIX),
            false,
            &mut visit,
        )?;
        Ok(Planner { last_sequences })
    }

    /// The last sequence assigned per tenant (every known tenant).
    pub(crate) fn last_sequences(&self) -> &HashMap<String, u64> {
        &self.last_sequences
    }

    /// Plans one piece of work into `batch`, or refuses it and adds nothing.
    pub(crate) fn plan(
        &mut self,
        kv: &dyn KvRead,
        work: Work,
        batch: &mut Batch,
    ) -> Result<Done, StoreError> {
        match work {
            Work::Append(append) => self.plan_append(kv, append, batch).map(Done::Append),
            Work::PutBlob {
                tenant,
                namespace,
                key,
                value,
            } => {
                let key = codec::blob_key(&tenant, &namespace, &key);
                self.touch_tenant(tenant, batch);
                batch.blobs.insert(key.clone(), true);
                batch.writes.push((key, Some(value)));
                Ok(Done::PutBlob)
            }
            Work::DeleteBlob {
                tenant,
                namespace,
                key,
            } => {
                let key = codec::blob_key(&tenant, &namespace, &key);
                let existed = match batch.blobs.get(&key) {
                    Some(exists) => *exists,
                    None => kv.get(&key)?.is_some(),
                };
                if existed {
                    batch.blobs.insert(key.clone(), false);
                    batch.writes.push((key, None));
                }
                Ok(Done::DeleteBlob(existed))
            }
        }
    }

    /// Makes a tenant known (a blob may be its first record).
    fn touch_tenant(&mut self, tenant: String, batch: &mut Batch) {
        if !self.last_sequences.contains_key(&tenant) {
            self.last_sequences.insert(tenant.clone(), 0);
            batch.tenants.insert(tenant, 0);
        }
    }

    fn plan_append(
        &mut self,
        kv: &dyn KvRead,
        append: PreparedAppend,
        batch: &mut Batch,
    ) -> Result<AppendOutcome, StoreError> {
        let PreparedAppend {
            tenant,
            idempotency_key,
            request_hash,
            expected_versions,
            expected_last_sequence,
            // One process owns a key-value store and its queue is FIFO: an
            // append after a broken one of its chain always expects a
            // sequence the log has not reached, so the check below refuses it.
            chain: _,
            events,
            // The key-value stores keep no balance projection.
            balance_lines: _,
            response,
        } = append;

        // A retry wins over everything else: its versions are stale by design.
        let stored_key = idempotency_key
            .as_deref()
            .map(|key| codec::idempotency_key(&tenant, key));
        if let (Some(key), Some(stored_key)) = (&idempotency_key, &stored_key)
            && let Some(outcome) = replay(kv, batch, key, stored_key, &request_hash)?
        {
            return Ok(outcome);
        }

        // Every check and lookup before the first write.
        let last = self.last_sequences.get(&tenant).copied().unwrap_or(0);
        if let Some(expected) = expected_last_sequence
            && expected != last
        {
            return Err(StoreError::SequenceConflict {
                tenant,
                expected,
                actual: last,
            });
        }
        let mut versions: HashMap<String, u64> = HashMap::new();
        for (stream, expected) in expected_versions {
            let actual = current_version(kv, batch, &tenant, &stream)?;
            if actual != expected {
                return Err(StoreError::VersionConflict {
                    stream,
                    expected,
                    actual,
                });
            }
            versions.insert(stream, actual);
        }
        for event in &events {
            if !versions.contains_key(&event.stream) {
                let actual = current_version(kv, batch, &tenant, &event.stream)?;
                versions.insert(event.stream.clone(), actual);
            }
        }

        let first_sequence = last + 1;
        let mut sequence = first_sequence - 1;
        for event in events {
            sequence += 1;
            let version = versions.get_mut(&event.stream).expect("looked up above");
            *version += 1;
            let mut value = event.value;
            codec::fill_event_header(&mut value, sequence, *version);
            batch
                .writes
                .push((codec::event_key(&tenant, sequence), Some(value)));
            batch.writes.push((
                codec::stream_key(&tenant, &event.stream, *version),
                Some(codec::encode_u64(STREAM_FORMAT_VERSION, sequence)),
            ));
        }
        for (stream, version) in versions {
            batch
                .streams
                .insert(codec::stream_prefix(&tenant, &stream), version);
        }
        if let Some(stored_key) = stored_key {
            batch.writes.push((
                stored_key.clone(),
                Some(codec::encode_idempotency(
                    first_sequence,
                    sequence,
                    &request_hash,
                    &response,
                )),
            ));
            batch.keys.insert(stored_key, (request_hash, response));
        }
        self.last_sequences.insert(tenant.clone(), sequence);
        batch.tenants.insert(tenant, sequence);
        Ok(AppendOutcome::Committed {
            first_sequence,
            last_sequence: sequence,
        })
    }
}

/// The outcome for a key already used: a replay with the first response if
/// the request hash matches, a conflict if not; `None` for a new key.
fn replay(
    kv: &dyn KvRead,
    batch: &Batch,
    key: &str,
    stored_key: &[u8],
    request_hash: &str,
) -> Result<Option<AppendOutcome>, StoreError> {
    let found = match batch.keys.get(stored_key) {
        Some((hash, response)) => Some((hash.clone(), response.clone())),
        None => match kv.get(stored_key)? {
            Some(value) => {
                let record = codec::decode_idempotency(&value)?;
                Some((record.request_hash.to_string(), record.response.to_vec()))
            }
            None => None,
        },
    };
    match found {
        None => Ok(None),
        Some((hash, response)) if hash == request_hash => Ok(Some(AppendOutcome::Replayed {
            response: codec::parse_response(&response)?,
        })),
        Some(_) => Err(StoreError::IdempotencyConflict {
            key: key.to_string(),
        }),
    }
}

/// A stream's current version: from the batch if it touched or looked it up,
/// else from its last stored index entry.
fn current_version(
    kv: &dyn KvRead,
    batch: &Batch,
    tenant: &str,
    stream: &str,
) -> Result<u64, StoreError> {
    let prefix = codec::stream_prefix(tenant, stream);
    if let Some(version) = batch.streams.get(&prefix) {
        return Ok(*version);
    }
    let mut version = 0;
    let mut visit = |key: &[u8], value: &[u8]| {
        codec::decode_u64("stream index entry", value, STREAM_FORMAT_VERSION)?;
        version = codec::key_suffix_u64(key)?;
        Ok(ControlFlow::Break(()))
    };
    kv.scan(&prefix, &codec::prefix_end(&prefix), true, &mut visit)?;
    Ok(version)
}
