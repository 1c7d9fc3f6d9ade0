//! Reading the log of the embedded backends. Every read takes `visible`, the
//! tenant's last acknowledged (durable) sequence, and never returns anything
//! above it, so readers see whole commits only and never an event that a crash
//! could still take away.

use super::codec;
use super::error::StoreError;
use super::event::StoredEvent;
use super::kv::KvRead;
use super::limits::{ID_BYTES_MAX, NAME_BYTES_MAX, READ_EVENTS_MAX, check_name, check_tenant};
use super::packed;
use super::prepare::check_blob_address;
use super::traits::IdempotentRecord;
use std::ops::ControlFlow;

/// The sequence under which the event record holding `sequence` is stored
/// (the event's own, or the first of its chunk): the last key at or below it.
fn record_holding(kv: &dyn KvRead, tenant: &str, sequence: u64) -> Result<u64, StoreError> {
    let mut found = None;
    let mut visit = |key: &[u8], _: &[u8]| {
        found = Some(codec::key_suffix_u64(key)?);
        Ok(ControlFlow::Break(()))
    };
    kv.scan(
        &codec::event_prefix(tenant),
        &codec::event_key(tenant, sequence.saturating_add(1)),
        true,
        &mut visit,
    )?;
    found.ok_or_else(|| {
        StoreError::Corrupt(format!(
            "tenant {tenant:?}: sequence {sequence} is missing (no record at or below it)"
        ))
    })
}

/// The tenant's events after `after_sequence`, up to `visible`, at most `limit`.
pub(crate) fn read_events(
    kv: &dyn KvRead,
    tenant: &str,
    after_sequence: u64,
    limit: usize,
    visible: u64,
) -> Result<Vec<StoredEvent>, StoreError> {
    check_tenant(tenant)?;
    let limit = limit.min(READ_EVENTS_MAX);
    if after_sequence >= visible || limit == 0 {
        return Ok(Vec::new());
    }
    let count = usize::try_from(visible - after_sequence)
        .unwrap_or(usize::MAX)
        .min(limit);
    let mut events = Vec::with_capacity(count);
    let mut expected = after_sequence + 1;
    let start = record_holding(kv, tenant, expected)?;
    let mut visit = |key: &[u8], value: &[u8]| {
        let first = codec::key_suffix_u64(key)?;
        for (sequence, event) in packed::event_values(first, value)? {
            if sequence < expected {
                continue;
            }
            if sequence != expected {
                return Err(StoreError::Corrupt(format!(
                    "tenant {tenant:?}: sequence {expected} is missing (found {sequence})"
                )));
            }
            events.push(codec::decode_event(tenant, sequence, event)?);
            expected += 1;
            if events.len() == count {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    };
    kv.scan(
        &codec::event_key(tenant, start),
        &codec::event_key(tenant, visible + 1),
        false,
        &mut visit,
    )?;
    if events.len() != count {
        return Err(StoreError::Corrupt(format!(
            "tenant {tenant:?}: sequence {expected} is missing (the log ends before {visible})"
        )));
    }
    Ok(events)
}

/// The visible `(version, sequence)` entries of a stream, in version order.
fn stream_index(
    kv: &dyn KvRead,
    tenant: &str,
    stream: &str,
    visible: u64,
) -> Result<Vec<(u64, u64)>, StoreError> {
    let mut entries = Vec::new();
    let prefix = codec::stream_prefix(tenant, stream);
    let mut visit = |key: &[u8], value: &[u8]| {
        for (version, sequence) in packed::stream_entries(codec::key_suffix_u64(key)?, value)? {
            if sequence > visible {
                return Ok(ControlFlow::Break(()));
            }
            entries.push((version, sequence));
        }
        Ok(ControlFlow::Continue(()))
    };
    kv.scan(&prefix, &codec::prefix_end(&prefix), false, &mut visit)?;
    Ok(entries)
}

/// Every visible event of a stream, in stream-version order.
pub(crate) fn read_stream(
    kv: &dyn KvRead,
    tenant: &str,
    stream: &str,
    visible: u64,
) -> Result<Vec<StoredEvent>, StoreError> {
    check_tenant(tenant)?;
    check_name("stream name bytes", stream, NAME_BYTES_MAX)?;
    let entries = stream_index(kv, tenant, stream, visible)?;
    let mut events = Vec::with_capacity(entries.len());
    // The record last read (its first and last sequences and its value): a
    // stream's events of one batch share a chunk.
    let mut record: Option<(u64, u64, Vec<u8>)> = None;
    for (index, (version, sequence)) in entries.into_iter().enumerate() {
        let missing = || {
            StoreError::Corrupt(format!(
                "stream {stream:?} points to missing sequence {sequence}"
            ))
        };
        if !matches!(&record, Some((first, last, _)) if (*first..=*last).contains(&sequence)) {
            let first = record_holding(kv, tenant, sequence).map_err(|_| missing())?;
            let value = kv
                .get(&codec::event_key(tenant, first))?
                .ok_or_else(missing)?;
            let last = packed::event_values(first, &value)?
                .last()
                .map_or(first, |(last, _)| *last);
            record = Some((first, last, value));
        }
        let (first, _, value) = record.as_ref().expect("read above");
        let value = packed::event_values(*first, value)?
            .into_iter()
            .find(|(s, _)| *s == sequence)
            .map(|(_, event)| event)
            .ok_or_else(missing)?;
        let event = codec::decode_event(tenant, sequence, value)?;
        if event.stream != stream || event.stream_version != version || version != index as u64 + 1
        {
            return Err(StoreError::Corrupt(format!(
                "stream {stream:?} version {version} points to sequence {sequence}, which is version {} of {:?}",
                event.stream_version, event.stream
            )));
        }
        events.push(event);
    }
    Ok(events)
}

/// The stream's version as of `visible`.
pub(crate) fn stream_version(
    kv: &dyn KvRead,
    tenant: &str,
    stream: &str,
    visible: u64,
) -> Result<u64, StoreError> {
    check_tenant(tenant)?;
    check_name("stream name bytes", stream, NAME_BYTES_MAX)?;
    let prefix = codec::stream_prefix(tenant, stream);
    let mut version = 0;
    let mut visit = |key: &[u8], value: &[u8]| {
        let entries = packed::stream_entries(codec::key_suffix_u64(key)?, value)?;
        match entries
            .iter()
            .rev()
            .find(|(_, sequence)| *sequence <= visible)
        {
            Some((last, _)) => {
                version = *last;
                Ok(ControlFlow::Break(()))
            }
            None => Ok(ControlFlow::Continue(())),
        }
    };
    kv.scan(&prefix, &codec::prefix_end(&prefix), true, &mut visit)?;
    Ok(version)
}

/// The request hash and response of a visible idempotency record.
pub(crate) fn idempotent_response(
    kv: &dyn KvRead,
    tenant: &str,
    key: &str,
    visible: u64,
) -> Result<Option<(String, serde_json::Value)>, StoreError> {
    Ok(idempotent_record(kv, tenant, key, visible)?.map(|r| (r.request_hash, r.response)))
}

/// The whole record of a used idempotency key, with the sequences its
/// command's events got.
pub(crate) fn idempotent_record(
    kv: &dyn KvRead,
    tenant: &str,
    key: &str,
    visible: u64,
) -> Result<Option<IdempotentRecord>, StoreError> {
    check_tenant(tenant)?;
    check_name("idempotency key bytes", key, ID_BYTES_MAX)?;
    let Some(value) = kv.get(&codec::idempotency_key(tenant, key))? else {
        return Ok(None);
    };
    let record = codec::decode_idempotency(&value)?;
    if record.last_sequence > visible {
        return Ok(None);
    }
    Ok(Some(IdempotentRecord {
        request_hash: record.request_hash.to_string(),
        response: codec::parse_response(record.response)?,
        first_sequence: record.first_sequence,
        last_sequence: record.last_sequence,
    }))
}

/// A blob's bytes.
pub(crate) fn get_blob(
    kv: &dyn KvRead,
    tenant: &str,
    namespace: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    check_blob_address(tenant, namespace, key)?;
    kv.get(&codec::blob_key(tenant, namespace, key))?
        .map(|value| codec::decode_blob(&value))
        .transpose()
}

/// The keys of a blob namespace, sorted.
pub(crate) fn list_blobs(
    kv: &dyn KvRead,
    tenant: &str,
    namespace: &str,
) -> Result<Vec<String>, StoreError> {
    check_tenant(tenant)?;
    check_name("blob namespace bytes", namespace, NAME_BYTES_MAX)?;
    let prefix = codec::blob_prefix(tenant, namespace);
    let mut keys = Vec::new();
    let mut visit = |key: &[u8], _: &[u8]| {
        let name = std::str::from_utf8(&key[prefix.len()..])
            .map_err(|_| StoreError::Corrupt("a blob key is not UTF-8".to_string()))?;
        keys.push(name.to_string());
        Ok(ControlFlow::Continue(()))
    };
    kv.scan(&prefix, &codec::prefix_end(&prefix), false, &mut visit)?;
    Ok(keys)
}
