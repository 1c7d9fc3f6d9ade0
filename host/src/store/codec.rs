//! The on-disk layout shared by the embedded backends: one ordered key space
//! with a one-byte tag per kind of record, and values that all start with a
//! big-endian `u16` format version, refused when unknown.
//!
//! Keys (names never contain NUL, so `\0` ends each name):
//! - `e tenant \0 seq:u64be` -> event: `[v][seq u64][stream_version u64][JSON body]`
//! - `s tenant \0 stream \0 version:u64be` -> stream index: `[v][seq u64]`
//! - `i tenant \0 key` -> idempotency: `[v][first u64][last u64][hash len u16][hash][response JSON]`
//! - `t tenant` -> tenant: `[v][last sequence u64]`
//! - `b tenant \0 namespace \0 key` -> blob: `[v][bytes]`
//! - `m format` -> the layout version of the whole store: `[v]`

use super::error::StoreError;
use super::event::{EVENT_FORMAT_VERSION, StoredEvent};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Format version of stream index entries.
pub(crate) const STREAM_FORMAT_VERSION: u16 = 1;
/// Format version of idempotency records.
pub(crate) const IDEMPOTENCY_FORMAT_VERSION: u16 = 1;
/// Format version of tenant records (the sequence counter).
pub(crate) const TENANT_FORMAT_VERSION: u16 = 1;
/// Format version of blobs.
pub(crate) const BLOB_FORMAT_VERSION: u16 = 1;
/// Layout version of the whole store (the key scheme above).
pub(crate) const STORE_FORMAT_VERSION: u16 = 1;

const EVENT_TAG: u8 = b'e';
const STREAM_TAG: u8 = b's';
const IDEMPOTENCY_TAG: u8 = b'i';
const TENANT_TAG: u8 = b't';
const BLOB_TAG: u8 = b'b';
/// The key of the store's layout version.
pub(crate) const FORMAT_KEY: &[u8] = b"mformat";
/// The prefix of every tenant record.
pub(crate) const TENANT_PREFIX: &[u8] = &[TENANT_TAG];

fn key(tag: u8, parts: &[&str], capacity: usize) -> Vec<u8> {
    let mut key =
        Vec::with_capacity(1 + capacity + parts.iter().map(|p| p.len() + 1).sum::<usize>());
    key.push(tag);
    for part in parts {
        key.extend_from_slice(part.as_bytes());
        key.push(0);
    }
    key
}

/// The prefix of a tenant's events.
pub(crate) fn event_prefix(tenant: &str) -> Vec<u8> {
    key(EVENT_TAG, &[tenant], 8)
}

/// The key of one event.
pub(crate) fn event_key(tenant: &str, sequence: u64) -> Vec<u8> {
    let mut key = event_prefix(tenant);
    key.extend_from_slice(&sequence.to_be_bytes());
    key
}

/// The prefix of a stream's index entries.
pub(crate) fn stream_prefix(tenant: &str, stream: &str) -> Vec<u8> {
    key(STREAM_TAG, &[tenant, stream], 8)
}

/// The key of one stream index entry (the planner builds it from a prefix).
#[cfg(test)]
pub(crate) fn stream_key(tenant: &str, stream: &str, version: u64) -> Vec<u8> {
    let mut key = stream_prefix(tenant, stream);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

/// The key of an idempotency record.
pub(crate) fn idempotency_key(tenant: &str, idempotency_key: &str) -> Vec<u8> {
    let mut key = key(IDEMPOTENCY_TAG, &[tenant], idempotency_key.len());
    key.extend_from_slice(idempotency_key.as_bytes());
    key
}

/// The key of a tenant record.
pub(crate) fn tenant_key(tenant: &str) -> Vec<u8> {
    let mut key = vec![TENANT_TAG];
    key.extend_from_slice(tenant.as_bytes());
    key
}

/// The tenant named by a tenant record's key.
pub(crate) fn tenant_of_key(key: &[u8]) -> Result<String, StoreError> {
    String::from_utf8(key[1..].to_vec())
        .map_err(|_| StoreError::Corrupt("a tenant key is not UTF-8".to_string()))
}

/// The prefix of a blob namespace.
pub(crate) fn blob_prefix(tenant: &str, namespace: &str) -> Vec<u8> {
    key(BLOB_TAG, &[tenant, namespace], 0)
}

/// The key of one blob.
pub(crate) fn blob_key(tenant: &str, namespace: &str, key: &str) -> Vec<u8> {
    let mut full = blob_prefix(tenant, namespace);
    full.extend_from_slice(key.as_bytes());
    full
}

/// The smallest key above every key that starts with `prefix`.
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    // Every byte was 0xFF: no finite upper bound; no key of ours gets here.
    vec![u8::MAX; prefix.len() + 1]
}

/// The big-endian `u64` that ends a key (a sequence or a stream version).
pub(crate) fn key_suffix_u64(key: &[u8]) -> Result<u64, StoreError> {
    let start = key
        .len()
        .checked_sub(8)
        .ok_or_else(|| StoreError::Corrupt("a key is too short for its number".to_string()))?;
    Ok(u64::from_be_bytes(
        key[start..].try_into().expect("8 bytes"),
    ))
}

/// Checks a value's format version and returns what follows it.
pub(crate) fn open_envelope<'a>(
    what: &'static str,
    value: &'a [u8],
    supported: u16,
) -> Result<&'a [u8], StoreError> {
    if value.len() < 2 {
        return Err(StoreError::Corrupt(format!("{what} has no format version")));
    }
    let version = u16::from_be_bytes([value[0], value[1]]);
    if version != supported {
        return Err(StoreError::UnsupportedFormatVersion { what, version });
    }
    Ok(&value[2..])
}

fn read_u64(what: &'static str, bytes: &[u8], at: usize) -> Result<u64, StoreError> {
    bytes
        .get(at..at + 8)
        .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
        .ok_or_else(|| StoreError::Corrupt(format!("{what} is truncated")))
}

/// The JSON part of a stored event, borrowed for writing.
#[derive(Serialize)]
pub(crate) struct EventBodyRef<'a> {
    pub stream: &'a str,
    pub kind: &'a str,
    pub payload: &'a serde_json::value::RawValue,
    pub command_id: &'a str,
    pub actor: &'a str,
    pub issued_at: &'a DateTime<Utc>,
    pub idempotency_key: Option<&'a str>,
}

/// The JSON part of a stored event, owned for reading.
#[derive(Deserialize)]
struct EventBody {
    stream: String,
    kind: String,
    payload: serde_json::Value,
    command_id: String,
    actor: String,
    issued_at: DateTime<Utc>,
    idempotency_key: Option<String>,
}

/// The bytes before an event's JSON body: format version, sequence, stream version.
pub(crate) const EVENT_HEADER_BYTES: usize = 18;

/// An event value with its header still blank, for `fill_event_header`: the
/// body is serialised by the caller's thread, the header by the committer.
pub(crate) fn event_value_with_blank_header(body: &EventBodyRef<'_>) -> Vec<u8> {
    let mut value = Vec::with_capacity(EVENT_HEADER_BYTES + 512);
    value.resize(EVENT_HEADER_BYTES, 0);
    serde_json::to_writer(&mut value, body).expect("an event body serialises");
    value
}

/// Writes the header of an event value made by `event_value_with_blank_header`.
pub(crate) fn fill_event_header(value: &mut [u8], sequence: u64, stream_version: u64) {
    value[0..2].copy_from_slice(&EVENT_FORMAT_VERSION.to_be_bytes());
    value[2..10].copy_from_slice(&sequence.to_be_bytes());
    value[10..18].copy_from_slice(&stream_version.to_be_bytes());
}

/// Decodes an event stored under the tenant's `sequence`.
pub(crate) fn decode_event(
    tenant: &str,
    sequence: u64,
    value: &[u8],
) -> Result<StoredEvent, StoreError> {
    let rest = open_envelope("event", value, EVENT_FORMAT_VERSION)?;
    let stored_sequence = read_u64("event", rest, 0)?;
    let stream_version = read_u64("event", rest, 8)?;
    if stored_sequence != sequence {
        return Err(StoreError::Corrupt(format!(
            "event under sequence {sequence} of tenant {tenant:?} says it is {stored_sequence}"
        )));
    }
    let body: EventBody = serde_json::from_slice(&rest[16..])
        .map_err(|e| StoreError::Corrupt(format!("event {sequence} of tenant {tenant:?}: {e}")))?;
    Ok(StoredEvent {
        tenant: tenant.to_string(),
        sequence,
        stream: body.stream,
        stream_version,
        kind: body.kind,
        payload: body.payload,
        command_id: body.command_id,
        actor: body.actor,
        issued_at: body.issued_at,
        idempotency_key: body.idempotency_key,
        format_version: EVENT_FORMAT_VERSION,
    })
}

/// Encodes a `u64` record (a stream index entry or a tenant's last sequence).
pub(crate) fn encode_u64(version: u16, number: u64) -> Vec<u8> {
    let mut value = Vec::with_capacity(10);
    value.extend_from_slice(&version.to_be_bytes());
    value.extend_from_slice(&number.to_be_bytes());
    value
}

/// Decodes a `u64` record.
pub(crate) fn decode_u64(
    what: &'static str,
    value: &[u8],
    version: u16,
) -> Result<u64, StoreError> {
    let rest = open_envelope(what, value, version)?;
    if rest.len() != 8 {
        return Err(StoreError::Corrupt(format!(
            "{what} has {} bytes, not 8",
            rest.len()
        )));
    }
    read_u64(what, rest, 0)
}

/// A decoded idempotency record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdempotencyRecord<'a> {
    pub first_sequence: u64,
    pub last_sequence: u64,
    pub request_hash: &'a str,
    /// The response, as JSON.
    pub response: &'a [u8],
}

/// Encodes an idempotency record.
pub(crate) fn encode_idempotency(
    first_sequence: u64,
    last_sequence: u64,
    request_hash: &str,
    response: &[u8],
) -> Vec<u8> {
    let hash_len = u16::try_from(request_hash.len()).expect("request hash length is checked");
    let mut value = Vec::with_capacity(20 + request_hash.len() + response.len());
    value.extend_from_slice(&IDEMPOTENCY_FORMAT_VERSION.to_be_bytes());
    value.extend_from_slice(&first_sequence.to_be_bytes());
    value.extend_from_slice(&last_sequence.to_be_bytes());
    value.extend_from_slice(&hash_len.to_be_bytes());
    value.extend_from_slice(request_hash.as_bytes());
    value.extend_from_slice(response);
    value
}

/// Decodes an idempotency record.
pub(crate) fn decode_idempotency(value: &[u8]) -> Result<IdempotencyRecord<'_>, StoreError> {
    const WHAT: &str = "idempotency record";
    let rest = open_envelope(WHAT, value, IDEMPOTENCY_FORMAT_VERSION)?;
    let first_sequence = read_u64(WHAT, rest, 0)?;
    let last_sequence = read_u64(WHAT, rest, 8)?;
    let hash_len = rest
        .get(16..18)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or_else(|| StoreError::Corrupt(format!("{WHAT} is truncated")))?;
    let hash = rest
        .get(18..18 + hash_len)
        .ok_or_else(|| StoreError::Corrupt(format!("{WHAT} is truncated")))?;
    let request_hash = std::str::from_utf8(hash)
        .map_err(|_| StoreError::Corrupt(format!("{WHAT}: the request hash is not UTF-8")))?;
    Ok(IdempotencyRecord {
        first_sequence,
        last_sequence,
        request_hash,
        response: &rest[18 + hash_len..],
    })
}

/// Parses a stored response.
pub(crate) fn parse_response(response: &[u8]) -> Result<serde_json::Value, StoreError> {
    serde_json::from_slice(response)
        .map_err(|e| StoreError::Corrupt(format!("a stored response: {e}")))
}

/// Encodes a blob.
pub(crate) fn encode_blob(bytes: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(2 + bytes.len());
    value.extend_from_slice(&BLOB_FORMAT_VERSION.to_be_bytes());
    value.extend_from_slice(bytes);
    value
}

/// Decodes a blob.
pub(crate) fn decode_blob(value: &[u8]) -> Result<Vec<u8>, StoreError> {
    open_envelope("blob", value, BLOB_FORMAT_VERSION).map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_of_an_unknown_format_version_is_refused_with_that_version() {
        let mut value = encode_blob(b"abc");
        value[0..2].copy_from_slice(&7u16.to_be_bytes());
        assert_eq!(
            decode_blob(&value),
            Err(StoreError::UnsupportedFormatVersion {
                what: "blob",
                version: 7
            })
        );
    }

    #[test]
    fn event_keys_sort_by_sequence_within_a_tenant() {
        assert!(event_key("acme", 2) < event_key("acme", 10));
        assert!(event_key("acme", 255) < event_key("acme", 256));
        assert!(event_key("acme", u64::MAX) < prefix_end(&event_prefix("acme")));
    }

    #[test]
    fn one_tenants_prefix_does_not_cover_a_longer_tenant_name() {
        assert!(!event_key("acme-2", 1).starts_with(&event_prefix("acme")));
    }

    #[test]
    fn an_idempotency_record_round_trips() {
        let value = encode_idempotency(4, 6, "h1", br#"{"ok":true}"#);
        assert_eq!(
            decode_idempotency(&value).unwrap(),
            IdempotencyRecord {
                first_sequence: 4,
                last_sequence: 6,
                request_hash: "h1",
                response: br#"{"ok":true}"#,
            }
        );
    }

    #[test]
    fn an_event_under_the_wrong_sequence_is_corrupt() {
        let mut value = vec![0; EVENT_HEADER_BYTES];
        value.extend_from_slice(b"{}");
        fill_event_header(&mut value, 3, 1);
        assert!(matches!(
            decode_event("acme", 4, &value),
            Err(StoreError::Corrupt(_))
        ));
    }
}
