//! Snapshots of a tenant's state, so that start-up (and a host catching up
//! with others) loads the latest good snapshot and replays only the events
//! after it instead of the whole log.
//!
//! A snapshot is the [`TenantState`] cut into **parts** ([`parts`]): a head
//! (everything but the large collections) and pieces of about
//! [`SNAPSHOT_PIECE_BYTES`] of the journal entries, policies, accounts and
//! billing accounts, each encoded with MessagePack (`rmp-serde`, field names
//! kept) on its own. They are stored through the [`Store`]'s blobs in the
//! tenant's `snapshots` namespace, so sled and PostgreSQL keep them alike
//! (no schema change): each part in chunks of at most
//! [`SNAPSHOT_CHUNK_BYTES_MAX`] under `<sequence>-<nonce>/<part>/<n>`, then
//! the manifest `latest` is replaced, naming the sequence the state
//! reached, every part with its section, item count, chunks, length and
//! SHA-256, the snapshot format version and the Premia version that wrote
//! it. Older chunks are removed afterwards. Start-up reads, checks and
//! decodes the parts on every core at once (rayon), the largest first, and
//! puts them back together in order.
//!
//! A snapshot is used only when all of these hold; otherwise it is ignored
//! (with a warning in the log) and the log is replayed from the start:
//! - its format version is [`SNAPSHOT_FORMAT_VERSION`] and it was written by
//!   this very Premia version (a new release replays once and snapshots
//!   again, so a changed state type never loads stale data);
//! - every chunk is there, the bytes have the recorded length and SHA-256;
//! - the bytes decode.
//!
//! Example: a tenant with 1,000,000 events and [`SNAPSHOT_INTERVAL_EVENTS`]
//! of 50,000 has a snapshot at sequence 1,000,000 (taken when it crossed it,
//! or at the last clean shutdown): start-up decodes it and replays nothing;
//! with 1,030,000 events it replays the 30,000 after the snapshot.
//!
//! What the API's views of the state leave out (a key's earlier
//! generations, an account's first invoice of each term, an external
//! rater's secret reference) travels beside the state in [`Extras`], and
//! indexes that are derived are rebuilt after decoding.

mod parts;

pub use parts::{Encoded, EncodedPart, SNAPSHOT_PIECE_BYTES, Section};

use super::state::TenantState;
use crate::domain::ErrorKind;
use crate::store::Store;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The encoding of snapshots: bumped whenever a type inside
/// [`TenantState`] changes shape or meaning.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 2;

/// Events between two snapshots of a tenant taken while it runs (a
/// snapshot is also taken at a clean shutdown). At the measured replay
/// rate this bounds the tail replayed at start-up to well under a second.
pub const SNAPSHOT_INTERVAL_EVENTS: u64 = 50_000;

/// Bytes of one snapshot chunk (a blob), below the store's blob limit.
pub const SNAPSHOT_CHUNK_BYTES_MAX: usize = 16 * 1024 * 1024;

/// The blob namespace of a tenant's snapshots.
pub const SNAPSHOT_NAMESPACE: &str = "snapshots";

/// The manifest's key in [`SNAPSHOT_NAMESPACE`].
const MANIFEST_KEY: &str = "latest";

const _: () = assert!(SNAPSHOT_CHUNK_BYTES_MAX <= crate::store::BLOB_BYTES_MAX);

/// Why a snapshot was not saved or not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot store: {0}")]
    Store(String),
    #[error(
        "snapshot format {found} (written by Premia {written_by}) is not format {expected} of Premia {running}"
    )]
    OtherFormat {
        found: u32,
        written_by: String,
        expected: u32,
        running: String,
    },
    #[error("snapshot chunk {0} is missing")]
    MissingChunk(String),
    #[error("snapshot bytes do not match their SHA-256 or length")]
    BadHash,
    #[error("snapshot does not decode: {0}")]
    Decode(String),
    #[error("snapshot does not encode: {0}")]
    Encode(String),
}

impl SnapshotError {
    /// The stable code of the error, for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            SnapshotError::Store(_) => "snapshot_store",
            SnapshotError::OtherFormat { .. } => "snapshot_other_format",
            SnapshotError::MissingChunk(_) => "snapshot_missing_chunk",
            SnapshotError::BadHash => "snapshot_bad_hash",
            SnapshotError::Decode(_) => "snapshot_decode",
            SnapshotError::Encode(_) => "snapshot_encode",
        }
    }

    /// How the error would be answered (it never reaches a client: a
    /// snapshot that fails is ignored and the log replayed).
    pub fn kind(&self) -> ErrorKind {
        match self {
            SnapshotError::Store(_) => ErrorKind::Unavailable,
            SnapshotError::OtherFormat { .. }
            | SnapshotError::MissingChunk(_)
            | SnapshotError::BadHash
            | SnapshotError::Decode(_)
            | SnapshotError::Encode(_) => ErrorKind::Internal,
        }
    }
}

fn store_error(error: crate::store::StoreError) -> SnapshotError {
    SnapshotError::Store(error.to_string())
}

/// What `latest` says about the current snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    /// The Premia version that wrote it.
    pub written_by: String,
    /// The sequence of the last event the state includes.
    pub sequence: u64,
    /// The prefix of its chunk keys (`<sequence>-<nonce>`).
    pub prefix: String,
    /// Chunks and bytes of all the parts.
    pub chunks: u32,
    pub bytes: u64,
    /// The parts, in the state's order (absent from a manifest of format 1,
    /// which is then refused for its version).
    #[serde(default)]
    pub parts: Vec<PartManifest>,
    pub taken_at: DateTime<Utc>,
}

/// One part of a snapshot: what it holds, its chunks
/// (`<prefix>/<part>/<n>`), its length and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartManifest {
    pub section: Section,
    /// Items of a piece of a collection (1 for the head).
    pub items: u64,
    pub chunks: u32,
    pub bytes: u64,
    /// SHA-256 of the part's bytes, hex.
    pub sha256: String,
}

impl Manifest {
    /// The key of chunk `n` of part `part`.
    pub fn chunk_key(&self, part: usize, n: u32) -> String {
        format!("{}/{part:05}/{n}", self.prefix)
    }
}

/// A (policy, term) and its first invoice.
type FirstInvoice = ((String, u32), String);

/// What the API's views of the state do not serialize, kept beside it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Extras {
    /// Each key's earlier generations, in key order.
    key_generations: Vec<Vec<(u32, DateTime<Utc>)>>,
    /// Each account's first invoice of each (policy, term).
    first_invoices: BTreeMap<String, Vec<FirstInvoice>>,
    /// Each external rater's revisions' secret references, in order.
    rater_secret_refs: BTreeMap<String, Vec<String>>,
}

impl Extras {
    fn of(state: &TenantState) -> Extras {
        Extras {
            key_generations: state.keys.previous_generations(),
            first_invoices: state
                .collections
                .accounts
                .iter()
                .filter(|(_, account)| !account.first_invoices.is_empty())
                .map(|(locator, account)| {
                    let firsts = account
                        .first_invoices
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    (locator.clone(), firsts)
                })
                .collect(),
            rater_secret_refs: state
                .config
                .raters
                .iter()
                .map(|(name, revisions)| {
                    let refs = revisions.iter().map(|r| r.secret_ref.clone()).collect();
                    (name.clone(), refs)
                })
                .collect(),
        }
    }

    fn restore(self, state: &mut TenantState) {
        state.keys.restore(self.key_generations);
        for (locator, firsts) in self.first_invoices {
            if let Some(account) = state.collections.accounts.get_mut(&locator) {
                account.first_invoices = firsts.into_iter().collect();
            }
        }
        for (name, refs) in self.rater_secret_refs {
            if let Some(revisions) = state.config.raters.get_mut(&name) {
                for (revision, secret_ref) in revisions.iter_mut().zip(refs) {
                    revision.secret_ref = secret_ref;
                }
            }
        }
    }
}

/// The state's snapshot parts (see [`parts`]): the same state always gives
/// the same parts, so two states are equal when their encodings are.
pub fn encode(state: &TenantState) -> Result<Encoded, SnapshotError> {
    parts::encode(state)
}

/// The state encoded in `encoded` (see [`encode`]), its parts decoded in
/// parallel.
pub fn decode(encoded: &Encoded) -> Result<TenantState, SnapshotError> {
    let decoded = encoded
        .parts
        .par_iter()
        .map(|part| parts::decode_part(part.section, part.items, &part.bytes))
        .collect::<Result<Vec<_>, _>>()?;
    parts::assemble(decoded)
}

/// A loaded snapshot: the state and the sequence it reached.
#[derive(Debug)]
pub struct Loaded {
    pub sequence: u64,
    pub state: TenantState,
    pub bytes: u64,
    pub phases: LoadPhases,
}

/// Where the time of a load went. The parts are read, checked and decoded
/// on several threads at once, so `read`, `hash` and `decode` add up the
/// threads' times and may exceed `total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadPhases {
    /// Reading the chunks from the store.
    pub read: Duration,
    /// Checking lengths and SHA-256.
    pub hash: Duration,
    /// Decoding the parts.
    pub decode: Duration,
    /// Putting the parts together into the state.
    pub assemble: Duration,
    /// The whole load, manifest to state.
    pub total: Duration,
    /// Threads that decoded.
    pub threads: usize,
}

/// What a save wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub sequence: u64,
    pub bytes: u64,
    pub chunks: u32,
}

/// The manifest of the tenant's current snapshot, if any.
pub fn manifest(store: &dyn Store, tenant: &str) -> Result<Option<Manifest>, SnapshotError> {
    let Some(bytes) = store
        .get_blob(tenant, SNAPSHOT_NAMESPACE, MANIFEST_KEY)
        .map_err(store_error)?
    else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| SnapshotError::Decode(format!("manifest: {e}")))
}

/// Saves `encoded` (the state at `sequence`) as the tenant's snapshot:
/// chunks first, then the manifest, then older chunks are removed. A
/// snapshot older than the current one is not saved (another host may have
/// saved a newer one).
pub fn save_encoded(
    store: &dyn Store,
    tenant: &str,
    sequence: u64,
    encoded: &Encoded,
) -> Result<Option<Saved>, SnapshotError> {
    if let Ok(Some(current)) = manifest(store, tenant)
        && current.sequence >= sequence
        && current.format_version == SNAPSHOT_FORMAT_VERSION
        && current.written_by == env!("CARGO_PKG_VERSION")
    {
        return Ok(None);
    }
    let nonce: u32 = rand::random();
    let mut manifest = Manifest {
        format_version: SNAPSHOT_FORMAT_VERSION,
        written_by: env!("CARGO_PKG_VERSION").to_string(),
        sequence,
        prefix: format!("{sequence:020}-{nonce:08x}"),
        chunks: 0,
        bytes: 0,
        parts: Vec::with_capacity(encoded.parts.len()),
        taken_at: Utc::now(),
    };
    for (index, part) in encoded.parts.iter().enumerate() {
        let mut chunks = 0_u32;
        for (n, chunk) in part.bytes.chunks(SNAPSHOT_CHUNK_BYTES_MAX).enumerate() {
            let n = u32::try_from(n).map_err(|_| SnapshotError::Encode("chunks".into()))?;
            store
                .put_blob(
                    tenant,
                    SNAPSHOT_NAMESPACE,
                    &manifest.chunk_key(index, n),
                    chunk,
                )
                .map_err(store_error)?;
            chunks += 1;
        }
        manifest.chunks += chunks;
        manifest.bytes += part.bytes.len() as u64;
        manifest.parts.push(PartManifest {
            section: part.section,
            items: part.items,
            chunks,
            bytes: part.bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&part.bytes)),
        });
    }
    let manifest_bytes =
        serde_json::to_vec(&manifest).map_err(|e| SnapshotError::Encode(e.to_string()))?;
    store
        .put_blob(tenant, SNAPSHOT_NAMESPACE, MANIFEST_KEY, &manifest_bytes)
        .map_err(store_error)?;
    // Chunks of older snapshots (keys sort by sequence) are no longer named.
    for key in store
        .list_blobs(tenant, SNAPSHOT_NAMESPACE)
        .map_err(store_error)?
    {
        if key != MANIFEST_KEY && key.as_str() < manifest.prefix.as_str() {
            store
                .delete_blob(tenant, SNAPSHOT_NAMESPACE, &key)
                .map_err(store_error)?;
        }
    }
    Ok(Some(Saved {
        sequence,
        bytes: manifest.bytes,
        chunks: manifest.chunks,
    }))
}

/// Nanoseconds spent in each phase, added up over the threads.
#[derive(Default)]
struct PhaseClock {
    read: AtomicU64,
    hash: AtomicU64,
    decode: AtomicU64,
}

impl PhaseClock {
    fn add(counter: &AtomicU64, since: Instant) {
        let nanos = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        counter.fetch_add(nanos, Ordering::Relaxed);
    }

    fn get(counter: &AtomicU64) -> Duration {
        Duration::from_nanos(counter.load(Ordering::Relaxed))
    }
}

/// Reads, checks and decodes part `index` of the snapshot.
fn load_part(
    store: &dyn Store,
    tenant: &str,
    manifest: &Manifest,
    index: usize,
    clock: &PhaseClock,
) -> Result<parts::Decoded, SnapshotError> {
    let part = &manifest.parts[index];
    let started = Instant::now();
    let mut bytes = Vec::new();
    for n in 0..part.chunks {
        let key = manifest.chunk_key(index, n);
        let chunk = store
            .get_blob(tenant, SNAPSHOT_NAMESPACE, &key)
            .map_err(store_error)?
            .ok_or(SnapshotError::MissingChunk(key))?;
        if bytes.is_empty() {
            bytes = chunk;
        } else {
            bytes.extend_from_slice(&chunk);
        }
    }
    PhaseClock::add(&clock.read, started);
    let started = Instant::now();
    if bytes.len() as u64 != part.bytes || hex::encode(Sha256::digest(&bytes)) != part.sha256 {
        return Err(SnapshotError::BadHash);
    }
    PhaseClock::add(&clock.hash, started);
    let started = Instant::now();
    let decoded = parts::decode_part(part.section, part.items, &bytes);
    PhaseClock::add(&clock.decode, started);
    decoded
}

/// The tenant's snapshot if it is good: `Ok(None)` when there is none, an
/// error saying why it cannot be used otherwise (the caller logs it and
/// replays the log). The parts are read, checked and decoded in parallel,
/// the largest first.
pub fn load(store: &dyn Store, tenant: &str) -> Result<Option<Loaded>, SnapshotError> {
    let started = Instant::now();
    let Some(manifest) = manifest(store, tenant)? else {
        return Ok(None);
    };
    if manifest.format_version != SNAPSHOT_FORMAT_VERSION
        || manifest.written_by != env!("CARGO_PKG_VERSION")
    {
        return Err(SnapshotError::OtherFormat {
            found: manifest.format_version,
            written_by: manifest.written_by,
            expected: SNAPSHOT_FORMAT_VERSION,
            running: env!("CARGO_PKG_VERSION").to_string(),
        });
    }
    if manifest.parts.is_empty() {
        return Err(SnapshotError::Decode("a manifest without parts".into()));
    }
    let clock = PhaseClock::default();
    // The largest parts first, so that no thread is left with a large one
    // at the end; the results go back to the parts' order.
    let mut order: Vec<usize> = (0..manifest.parts.len()).collect();
    order.sort_by_key(|index| std::cmp::Reverse(manifest.parts[*index].bytes));
    let mut decoded = order
        .par_iter()
        .with_max_len(1)
        .map(|index| load_part(store, tenant, &manifest, *index, &clock).map(|part| (*index, part)))
        .collect::<Result<Vec<_>, _>>()?;
    decoded.sort_by_key(|(index, _)| *index);
    let assembling = Instant::now();
    let state = parts::assemble(decoded.into_iter().map(|(_, part)| part).collect())?;
    let phases = LoadPhases {
        read: PhaseClock::get(&clock.read),
        hash: PhaseClock::get(&clock.hash),
        decode: PhaseClock::get(&clock.decode),
        assemble: assembling.elapsed(),
        total: started.elapsed(),
        threads: rayon::current_num_threads(),
    };
    Ok(Some(Loaded {
        sequence: manifest.sequence,
        state,
        bytes: manifest.bytes,
        phases,
    }))
}

#[cfg(test)]
mod tests;
