//! Turns a write request into `Work` for the committer: checks names and
//! limits and serialises the JSON in the caller's thread, so the single
//! committer thread only checks versions and keys and assigns sequences.

use super::codec::{EventBodyRef, encode_blob, event_value_with_blank_header};
use super::error::StoreError;
use super::event::{AppendRequest, BalanceLine};
use super::limits::{
    APPEND_BYTES_MAX, BALANCE_LINES_PER_APPEND_MAX, BLOB_BYTES_MAX, EVENTS_PER_APPEND_MAX,
    ID_BYTES_MAX, NAME_BYTES_MAX, PAYLOAD_BYTES_MAX, RESPONSE_BYTES_MAX, check_limit, check_name,
    check_tenant,
};
use std::collections::HashSet;

/// One event, ready to store: its stream, kind and payload (the columns of
/// PostgreSQL's table) and its value in the key-value layout, whose header
/// (sequence and stream version) the committer fills in.
#[derive(Debug)]
pub(crate) struct PreparedEvent {
    pub stream: String,
    pub kind: String,
    pub payload: Box<serde_json::value::RawValue>,
    pub value: Vec<u8>,
}

/// A checked append.
#[derive(Debug)]
pub(crate) struct PreparedAppend {
    pub tenant: String,
    pub command_id: String,
    pub actor: String,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub idempotency_key: Option<String>,
    pub request_hash: String,
    pub expected_versions: Vec<(String, u64)>,
    pub expected_last_sequence: Option<u64>,
    /// The pipeline the append belongs to (see `AppendRequest::chain`).
    pub chain: Option<u64>,
    pub events: Vec<PreparedEvent>,
    /// What the events add to the balance projection (PostgreSQL only).
    pub balance_lines: Vec<BalanceLine>,
    /// The response, as JSON.
    pub response: Vec<u8>,
}

/// A checked write for the committer.
#[derive(Debug)]
pub(crate) enum Work {
    Append(PreparedAppend),
    PutBlob {
        tenant: String,
        namespace: String,
        key: String,
        /// The encoded value (format version and bytes).
        value: Vec<u8>,
    },
    DeleteBlob {
        tenant: String,
        namespace: String,
        key: String,
    },
}

impl Work {
    /// Roughly how many bytes the work writes (for sizing commit batches).
    pub(crate) fn bytes(&self) -> usize {
        match self {
            Work::Append(append) => {
                append.response.len()
                    + append
                        .events
                        .iter()
                        .map(|e| e.value.len() + 64)
                        .sum::<usize>()
            }
            Work::PutBlob { value, .. } => value.len(),
            Work::DeleteBlob { .. } => 64,
        }
    }
}

/// Checks an append and serialises its events and response.
pub(crate) fn prepare_append(request: AppendRequest) -> Result<Work, StoreError> {
    let AppendRequest {
        meta,
        expected_versions,
        expected_last_sequence,
        chain,
        events,
        balance_lines,
        response,
    } = request;
    check_tenant(&meta.tenant)?;
    check_name("command id bytes", &meta.command_id, ID_BYTES_MAX)?;
    check_name("actor bytes", &meta.actor, ID_BYTES_MAX)?;
    check_name("request hash bytes", &meta.request_hash, ID_BYTES_MAX)?;
    if let Some(key) = &meta.idempotency_key {
        check_name("idempotency key bytes", key, ID_BYTES_MAX)?;
    }
    if events.is_empty() {
        return Err(StoreError::InvalidRequest(
            "an append must carry at least one event".to_string(),
        ));
    }
    check_limit("events per append", events.len(), EVENTS_PER_APPEND_MAX)?;
    check_limit(
        "expected versions per append",
        expected_versions.len(),
        EVENTS_PER_APPEND_MAX,
    )?;
    let mut seen = HashSet::with_capacity(expected_versions.len());
    for (stream, _) in &expected_versions {
        check_name("stream name bytes", stream, NAME_BYTES_MAX)?;
        if !seen.insert(stream.as_str()) {
            return Err(StoreError::InvalidRequest(format!(
                "stream {stream:?} has two expected versions"
            )));
        }
    }

    let response = serde_json::to_vec(&response).expect("a JSON value serialises");
    check_limit("response bytes", response.len(), RESPONSE_BYTES_MAX)?;
    let mut total = response.len();
    let mut prepared = Vec::with_capacity(events.len());
    for event in events {
        check_name("stream name bytes", &event.stream, NAME_BYTES_MAX)?;
        check_name("event kind bytes", &event.kind, NAME_BYTES_MAX)?;
        check_limit(
            "payload bytes",
            event.payload.get().len(),
            PAYLOAD_BYTES_MAX,
        )?;
        let value = event_value_with_blank_header(&EventBodyRef {
            stream: &event.stream,
            kind: &event.kind,
            payload: &event.payload,
            command_id: &meta.command_id,
            actor: &meta.actor,
            issued_at: &meta.issued_at,
            idempotency_key: meta.idempotency_key.as_deref(),
        });
        total += value.len();
        prepared.push(PreparedEvent {
            stream: event.stream,
            kind: event.kind,
            payload: event.payload,
            value,
        });
    }
    check_limit(
        "balance lines per append",
        balance_lines.len(),
        BALANCE_LINES_PER_APPEND_MAX,
    )?;
    for line in &balance_lines {
        check_name("balance account bytes", &line.account, NAME_BYTES_MAX)?;
        check_name("balance currency bytes", &line.currency, NAME_BYTES_MAX)?;
        if !line.subledger.is_empty() {
            check_name("balance subledger bytes", &line.subledger, NAME_BYTES_MAX)?;
        }
    }
    check_limit("append bytes", total, APPEND_BYTES_MAX)?;
    Ok(Work::Append(PreparedAppend {
        tenant: meta.tenant,
        command_id: meta.command_id,
        actor: meta.actor,
        issued_at: meta.issued_at,
        idempotency_key: meta.idempotency_key,
        request_hash: meta.request_hash,
        expected_versions,
        expected_last_sequence,
        chain,
        events: prepared,
        balance_lines,
        response,
    }))
}

/// Checks a blob's address.
pub(crate) fn check_blob_address(
    tenant: &str,
    namespace: &str,
    key: &str,
) -> Result<(), StoreError> {
    check_tenant(tenant)?;
    check_name("blob namespace bytes", namespace, NAME_BYTES_MAX)?;
    check_name("blob key bytes", key, NAME_BYTES_MAX)
}

/// Checks a blob write and encodes its value.
pub(crate) fn prepare_put_blob(
    tenant: &str,
    namespace: &str,
    key: &str,
    bytes: &[u8],
) -> Result<Work, StoreError> {
    check_blob_address(tenant, namespace, key)?;
    check_limit("blob bytes", bytes.len(), BLOB_BYTES_MAX)?;
    Ok(Work::PutBlob {
        tenant: tenant.to_string(),
        namespace: namespace.to_string(),
        key: key.to_string(),
        value: encode_blob(bytes),
    })
}

/// Checks a blob removal.
pub(crate) fn prepare_delete_blob(
    tenant: &str,
    namespace: &str,
    key: &str,
) -> Result<Work, StoreError> {
    check_blob_address(tenant, namespace, key)?;
    Ok(Work::DeleteBlob {
        tenant: tenant.to_string(),
        namespace: namespace.to_string(),
        key: key.to_string(),
    })
}
