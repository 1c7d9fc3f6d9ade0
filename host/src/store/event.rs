//! The values that go into and come out of the event log: the events a command
//! appends, the command's metadata, the append request and its outcome, and the
//! stored event a reader gets back.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The format version of events this build writes (see `codec`).
pub const EVENT_FORMAT_VERSION: u16 = 1;

/// One event a command wants to append.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewEvent {
    /// The stream (aggregate) it belongs to, e.g. `policy/P-1`, `account/A-1`.
    pub stream: String,
    /// What happened, e.g. `policy_issued`.
    pub kind: String,
    /// The event's data, as JSON text: serialised once by the writer and
    /// copied as it is into the stored record (no `Value` tree in between).
    pub payload: Box<RawValue>,
}

impl NewEvent {
    /// An event whose payload is `payload` serialised to JSON.
    pub fn new(
        stream: impl Into<String>,
        kind: impl Into<String>,
        payload: &impl Serialize,
    ) -> Result<Self, serde_json::Error> {
        Ok(NewEvent {
            stream: stream.into(),
            kind: kind.into(),
            payload: serde_json::value::to_raw_value(payload)?,
        })
    }

    /// An event with a JSON value as its payload.
    pub fn json(
        stream: impl Into<String>,
        kind: impl Into<String>,
        payload: &serde_json::Value,
    ) -> Self {
        Self::new(stream, kind, payload).expect("a JSON value serialises")
    }
}

/// Two events are equal when their streams, kinds and payload texts are.
impl PartialEq for NewEvent {
    fn eq(&self, other: &Self) -> bool {
        self.stream == other.stream
            && self.kind == other.kind
            && self.payload.get() == other.payload.get()
    }
}

impl Eq for NewEvent {}

/// One line of the balance projection a store may keep beside the log
/// (PostgreSQL's `premia_ledger_balances`: debit and credit totals per
/// account, currency and subledger), handed over by the writer with the
/// events it comes from. The store adds the lines up in the append's
/// transaction, so the projection never disagrees with the log; it never
/// reads an event's kind or payload to find them. Stores without the
/// projection (sled, memory) ignore them.
///
/// Example: an entry debiting `cash` 100.05 and crediting
/// `premium_receivable` of account `A-1` 100.05 (USD) hands over
/// `{account: "cash", currency: "USD", subledger: "", debit: 100.05, credit: 0}`
/// and `{account: "premium_receivable", currency: "USD", subledger: "A-1",
/// debit: 0, credit: 100.05}`; after it, `cash` totals 100.05 of debits and 0
/// of credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceLine {
    pub account: String,
    pub currency: String,
    /// The subledger (an account locator), or empty.
    #[serde(default)]
    pub subledger: String,
    pub debit: Decimal,
    pub credit: Decimal,
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
    /// A pipeline of dependent appends (see [`crate::store::Store::submit_append`]):
    /// a writer that queues several appends of a tenant before the first is
    /// durable, each decided on a state that includes the ones before it,
    /// names them with one chain number (unique in the process). Once an
    /// append of a chain is refused or fails (or is answered `Replayed`),
    /// every later append of that chain is refused with
    /// `StoreError::SequenceConflict`, even if the log happens to end at the
    /// sequence it expects (another host appended exactly as many events).
    /// `None`: the append depends on nothing in flight.
    #[serde(default)]
    pub chain: Option<u64>,
    /// At least one event, in the order they get their sequences.
    pub events: Vec<NewEvent>,
    /// What the events add to the balance projection (see [`BalanceLine`]);
    /// empty when they add nothing.
    #[serde(default)]
    pub balance_lines: Vec<BalanceLine>,
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
