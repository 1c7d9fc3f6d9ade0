//! The commit planner: the single writer's logic. It takes prepared work in
//! commit order, checks idempotency keys and expected stream versions against
//! the stored state plus what the current batch already holds, assigns tenant
//! sequences and stream versions, and collects the writes of a whole batch.
//! A request that fails a check adds nothing to the batch.

use super::codec::{self, STREAM_FORMAT_VERSION, TENANT_FORMAT_VERSION, TENANT_PREFIX};
use super::error::StoreError;
use super::event::AppendOutcome;
use super::kv::{KvRead, Writes};
use super::packed::{self, ChunkBuilder, RUN_SEQUENCES_MAX};
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
    /// Tenant -> the event chunk being filled (see `packed`).
    chunks: HashMap<String, ChunkBuilder>,
    /// Stream prefix -> the stream run being filled.
    runs: HashMap<Vec<u8>, StreamRun>,
}

/// A stream's entries of this batch: versions `first..` at `sequences`.
#[derive(Debug)]
struct StreamRun {
    first: u64,
    sequences: Vec<u64>,
}

/// One record for `sequences` of the stream at `prefix`, from version
/// `first` on: a single index entry for one, a stream run for several.
fn stream_record(prefix: &[u8], first: u64, sequences: &[u64]) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut key = Vec::with_capacity(prefix.len() + 8);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&first.to_be_bytes());
    let value = match sequences {
        [sequence] => codec::encode_u64(STREAM_FORMAT_VERSION, *sequence),
        _ => packed::encode_stream_run(sequences),
    };
    (key, Some(value))
}

/// One record for a chunk's events: the event's own record for one.
fn event_record(tenant: &str, chunk: ChunkBuilder) -> (Vec<u8>, Option<Vec<u8>>) {
    let (first, value) = chunk.finish();
    let value = match packed::event_values(first, &value) {
        Ok(events) if events.len() == 1 => events[0].1.to_vec(),
        _ => value,
    };
    (codec::event_key(tenant, first), Some(value))
}

impl Batch {
    /// Whether the batch writes nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.tenants.is_empty()
    }

    /// The writes to apply atomically (tenant counters included) and the last
    /// sequence of every tenant the batch touched.
    pub(crate) fn finish(mut self) -> (Writes, HashMap<String, u64>) {
        for (tenant, chunk) in std::mem::take(&mut self.chunks) {
            self.writes.push(event_record(&tenant, chunk));
        }
        for (prefix, run) in std::mem::take(&mut self.runs) {
            self.writes
                .push(stream_record(&prefix, run.first, &run.sequences));
        }
        for (tenant, last) in &self.tenants {
            self.writes.push((
                codec::tenant_key(tenant),
                Some(codec::encode_u64(TENANT_FORMAT_VERSION, *last)),
            ));
        }
        (self.writes, self.tenants)
    }

    /// Adds an event (its whole record) to the tenant's chunk, closing the
    /// chunk first when it is full.
    fn push_event(&mut self, tenant: &str, sequence: u64, value: &[u8]) {
        let chunk = match self.chunks.get_mut(tenant) {
            Some(chunk) => chunk,
            None => self
                .chunks
                .entry(tenant.to_string())
                .or_insert_with(|| ChunkBuilder::new(sequence)),
        };
        if chunk.next() != sequence || !chunk.fits(value.len()) {
            let full = std::mem::replace(chunk, ChunkBuilder::new(sequence));
            self.writes.push(event_record(tenant, full));
        }
        chunk.push(value);
    }

    /// Adds a stream index entry to the stream's run, closing the run first
    /// when it is full.
    fn push_stream_entry(&mut self, prefix: Vec<u8>, version: u64, sequence: u64) {
        match self.runs.get_mut(&prefix) {
            Some(run)
                if run.first + run.sequences.len() as u64 == version
                    && run.sequences.len() < RUN_SEQUENCES_MAX =>
            {
                run.sequences.push(sequence);
            }
            Some(run) => {
                let full = std::mem::replace(
                    run,
                    StreamRun {
                        first: version,
                        sequences: vec![sequence],
                    },
                );
                self.writes
                    .push(stream_record(&prefix, full.first, &full.sequences));
            }
            None => {
                self.runs.insert(
                    prefix,
                    StreamRun {
                        first: version,
                        sequences: vec![sequence],
                    },
                );
            }
        }
    }
}

/// Streams whose versions the planner keeps in memory: past it the cache is
/// emptied (and refilled from storage as streams are touched again).
pub(crate) const STREAM_VERSIONS_CACHED_MAX: usize = 1 << 18;

/// The single writer's state: the last sequence assigned per tenant, and
/// the versions of the streams it touched lately.
#[derive(Debug, Default)]
pub(crate) struct Planner {
    last_sequences: HashMap<String, u64>,
    /// Stream prefix -> its version, as planned (the single writer's own
    /// writes: a failed write stops every later one, see `SledCommitter`).
    versions: HashMap<Vec<u8>, u64>,
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
        Ok(Planner {
            last_sequences,
            versions: HashMap::new(),
        })
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
            // In the events' values already.
            command_id: _,
            actor: _,
            issued_at: _,
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
        if self.versions.len() > STREAM_VERSIONS_CACHED_MAX {
            // The batch's own versions stay in `batch.streams`.
            self.versions.clear();
        }
        let mut versions: HashMap<String, u64> = HashMap::new();
        for (stream, expected) in expected_versions {
            let actual = self.current_version(kv, batch, &tenant, &stream)?;
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
                let actual = self.current_version(kv, batch, &tenant, &event.stream)?;
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
            batch.push_event(&tenant, sequence, &value);
            batch.push_stream_entry(
                codec::stream_prefix(&tenant, &event.stream),
                *version,
                sequence,
            );
        }
        for (stream, version) in versions {
            let prefix = codec::stream_prefix(&tenant, &stream);
            self.versions.insert(prefix.clone(), version);
            batch.streams.insert(prefix, version);
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

impl Planner {
    /// A stream's current version: from the batch if it touched or looked it
    /// up, else from the planner's cache, else from its last stored index
    /// record.
    fn current_version(
        &mut self,
        kv: &dyn KvRead,
        batch: &Batch,
        tenant: &str,
        stream: &str,
    ) -> Result<u64, StoreError> {
        let prefix = codec::stream_prefix(tenant, stream);
        if let Some(version) = batch.streams.get(&prefix) {
            return Ok(*version);
        }
        if let Some(version) = self.versions.get(&prefix) {
            return Ok(*version);
        }
        let mut version = 0;
        let mut visit = |key: &[u8], value: &[u8]| {
            let entries = packed::stream_entries(codec::key_suffix_u64(key)?, value)?;
            version = entries.last().map_or(0, |(version, _)| *version);
            Ok(ControlFlow::Break(()))
        };
        kv.scan(&prefix, &codec::prefix_end(&prefix), true, &mut visit)?;
        self.versions.insert(prefix, version);
        Ok(version)
    }
}
