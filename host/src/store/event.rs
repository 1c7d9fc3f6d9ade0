//! The values that go into and come out of the event log: the events a command
//! appends, the command's metadata, the append request and its outcome, and the
//! stored event a reader gets back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The format version of events this build writes (see `codec`).
pub const EVENT_FORMAT_VERSION: u16 = 1;

/// One event a command wants to append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    /// The stream (aggregate) it belongs to, e.g. `policy/P-1`, `account/A-1`.
    pub stream: String,
    /// What happened, e.g. `policy_issued`.
    pub kind: String,
    /// The event's data.
    pub payload: serde_json::Value,
}

/// Who sent a command, when, and how to recognise a retry of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandMeta {
    pub tenant: String,
    pub command_id: String,
    pub actor: String,
    pub issued_at: DateTime<Utc>,
    /// The client's idempotency key: a second request with the same key gets
    /// the first one's response back and writes nothing.
    pub idempotency_key: Option<String>,
    /// A hash of the request body: the same key with another hash is refused.
    pub request_hash: String,
}

/// One command's events, appended atomically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendRequest {
    pub meta: CommandMeta,
    /// Optimistic concurrency: each listed stream must be at this version
    /// (its number of events; 0 = the stream must not exist yet). Streams of
    /// `events` that are not listed are appended to whatever their version.
    pub expected_versions: Vec<(String, u64)>,
    /// Optimistic concurrency over the whole tenant: when set, the tenant's
    /// log must end at this sequence (the state the command was decided on
    /// has seen every event), else the append is refused with
    /// `StoreError::SequenceConflict`. Hosts sharing one database use it.
    #[serde(default)]
    pub expected_last_sequence: Option<u64>,
    /// At least one event, in the order they get their sequences.
    pub events: Vec<NewEvent>,
    /// The command's result, stored with the idempotency key and returned
    /// again to a retry.
    pub response: serde_json::Value,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppendOutcome {
    /// The events are durable with these tenant sequences (inclusive).
    Committed {
        first_sequence: u64,
        last_sequence: u64,
    },
    /// The idempotency key was seen with the same request hash: nothing was
    /// written, and this is the first request's response.
    Replayed { response: serde_json::Value },
}

/// An event as stored, with its place in the tenant's log and in its stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub tenant: String,
    /// 1-based, gap-free position in the tenant's log.
    pub sequence: u64,
    pub stream: String,
    /// 1-based position in its stream: the stream's version after this event.
    pub stream_version: u64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub command_id: String,
    pub actor: String,
    pub issued_at: DateTime<Utc>,
    pub idempotency_key: Option<String>,
    /// The format the event was stored in.
    pub format_version: u16,
}
