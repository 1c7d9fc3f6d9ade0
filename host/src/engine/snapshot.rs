//! Snapshots of a tenant's state, so that start-up (and a host catching up
//! with others) loads the latest good snapshot and replays only the events
//! after it instead of the whole log.
//!
//! A snapshot is the whole [`TenantState`] encoded with MessagePack
//! (`rmp-serde`, field names kept), stored through the [`Store`]'s blobs in
//! the tenant's `snapshots` namespace, so sled and PostgreSQL keep it alike
//! (no schema change): the bytes are cut in chunks of at most
//! [`SNAPSHOT_CHUNK_BYTES_MAX`] under `<sequence>-<nonce>/<n>`, then the
//! manifest `latest` is replaced, naming the sequence the state reached, the
//! chunks, the byte count, the SHA-256 of the bytes, the snapshot format
//! version and the Premia version that wrote it. Older chunks are removed
//! afterwards.
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

use super::state::TenantState;
use crate::domain::ErrorKind;
use crate::store::Store;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The encoding of snapshots: bumped whenever a type inside
/// [`TenantState`] changes shape or meaning.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;

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
    pub chunks: u32,
    pub bytes: u64,
    /// SHA-256 of the encoded bytes, hex.
    pub sha256: String,
    pub taken_at: DateTime<Utc>,
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

#[derive(Serialize)]
struct BodyRef<'a> {
    state: &'a TenantState,
    extras: Extras,
}

#[derive(Deserialize)]
struct Body {
    state: TenantState,
    extras: Extras,
}

/// The state's snapshot bytes: the same state always gives the same bytes
/// (every map in it is ordered), so two states are equal when their
/// encodings are.
pub fn encode(state: &TenantState) -> Result<Vec<u8>, SnapshotError> {
    let body = BodyRef {
        state,
        extras: Extras::of(state),
    };
    rmp_serde::to_vec_named(&body).map_err(|e| SnapshotError::Encode(e.to_string()))
}

/// The state encoded in `bytes` (see [`encode`]).
pub fn decode(bytes: &[u8]) -> Result<TenantState, SnapshotError> {
    let body: Body =
        rmp_serde::from_slice(bytes).map_err(|e| SnapshotError::Decode(e.to_string()))?;
    let mut state = body.state;
    body.extras.restore(&mut state);
    Ok(state)
}

/// A loaded snapshot: the state and the sequence it reached.
#[derive(Debug)]
pub struct Loaded {
    pub sequence: u64,
    pub state: TenantState,
    pub bytes: u64,
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
    encoded: &[u8],
) -> Result<Option<Saved>, SnapshotError> {
    if let Ok(Some(current)) = manifest(store, tenant)
        && current.sequence >= sequence
        && current.format_version == SNAPSHOT_FORMAT_VERSION
        && current.written_by == env!("CARGO_PKG_VERSION")
    {
        return Ok(None);
    }
    let nonce: u32 = rand::random();
    let prefix = format!("{sequence:020}-{nonce:08x}");
    let mut chunks = 0_u32;
    for (n, chunk) in encoded.chunks(SNAPSHOT_CHUNK_BYTES_MAX).enumerate() {
        store
            .put_blob(tenant, SNAPSHOT_NAMESPACE, &format!("{prefix}/{n}"), chunk)
            .map_err(store_error)?;
        chunks += 1;
    }
    let manifest = Manifest {
        format_version: SNAPSHOT_FORMAT_VERSION,
        written_by: env!("CARGO_PKG_VERSION").to_string(),
        sequence,
        prefix: prefix.clone(),
        chunks,
        bytes: encoded.len() as u64,
        sha256: hex::encode(Sha256::digest(encoded)),
        taken_at: Utc::now(),
    };
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
        if key != MANIFEST_KEY && key.as_str() < prefix.as_str() {
            store
                .delete_blob(tenant, SNAPSHOT_NAMESPACE, &key)
                .map_err(store_error)?;
        }
    }
    Ok(Some(Saved {
        sequence,
        bytes: manifest.bytes,
        chunks,
    }))
}

/// The tenant's snapshot if it is good: `Ok(None)` when there is none, an
/// error saying why it cannot be used otherwise (the caller logs it and
/// replays the log).
pub fn load(store: &dyn Store, tenant: &str) -> Result<Option<Loaded>, SnapshotError> {
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
    let mut bytes = Vec::with_capacity(usize::try_from(manifest.bytes).unwrap_or(0));
    for n in 0..manifest.chunks {
        let key = format!("{}/{n}", manifest.prefix);
        let chunk = store
            .get_blob(tenant, SNAPSHOT_NAMESPACE, &key)
            .map_err(store_error)?
            .ok_or(SnapshotError::MissingChunk(key))?;
        bytes.extend_from_slice(&chunk);
    }
    if bytes.len() as u64 != manifest.bytes
        || hex::encode(Sha256::digest(&bytes)) != manifest.sha256
    {
        return Err(SnapshotError::BadHash);
    }
    let state = decode(&bytes)?;
    Ok(Some(Loaded {
        sequence: manifest.sequence,
        state,
        bytes: manifest.bytes,
    }))
}

#[cfg(test)]
mod tests;
