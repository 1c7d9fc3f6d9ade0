//! The store's limits, as named constants, and the checks of names (tenants,
//! streams, keys) that every backend applies the same way.

use super::error::StoreError;

/// The most events one append may carry.
pub const EVENTS_PER_APPEND_MAX: usize = 1_000;
/// The largest event payload, as compact JSON. A new policy of 200 perils on a
/// weekly five-year plan is well under it (see `docs/storage.md`).
pub const PAYLOAD_BYTES_MAX: usize = 8 * 1024 * 1024;
/// The largest command response stored with an idempotency key, as JSON.
pub const RESPONSE_BYTES_MAX: usize = 8 * 1024 * 1024;
/// The largest encoded append (all events plus the response).
pub const APPEND_BYTES_MAX: usize = 32 * 1024 * 1024;
const _: () = assert!(PAYLOAD_BYTES_MAX + RESPONSE_BYTES_MAX <= APPEND_BYTES_MAX);
/// The largest blob (a Python plugin component is ~18 MB).
pub const BLOB_BYTES_MAX: usize = 32 * 1024 * 1024;
/// The most events one `read` returns, whatever limit is asked.
pub const READ_EVENTS_MAX: usize = 10_000;
/// The longest tenant id.
pub const TENANT_BYTES_MAX: usize = 64;
/// The longest stream name, event kind, blob namespace or blob key.
pub const NAME_BYTES_MAX: usize = 256;
/// The most balance projection lines one append carries: as many events as
/// an append takes, each a journal entry of the most lines an entry has
/// (checked in `crate::limits`).
pub const BALANCE_LINES_PER_APPEND_MAX: usize = 32_000;
/// The longest command id, actor, idempotency key or request hash.
pub const ID_BYTES_MAX: usize = 256;

/// Checks a name that becomes part of a storage key: not empty, not over
/// `limit` bytes, no control characters (NUL separates key parts).
pub(crate) fn check_name(what: &'static str, name: &str, limit: usize) -> Result<(), StoreError> {
    if name.is_empty() {
        return Err(StoreError::InvalidRequest(format!("{what} is empty")));
    }
    if name.len() > limit {
        return Err(StoreError::LimitExceeded {
            what,
            limit,
            actual: name.len(),
        });
    }
    if name.chars().any(char::is_control) {
        return Err(StoreError::InvalidRequest(format!(
            "{what} {name:?} contains a control character"
        )));
    }
    Ok(())
}

/// Checks a tenant id.
pub(crate) fn check_tenant(tenant: &str) -> Result<(), StoreError> {
    check_name("tenant id bytes", tenant, TENANT_BYTES_MAX)
}

/// Checks a count or size against its limit.
pub(crate) fn check_limit(
    what: &'static str,
    actual: usize,
    limit: usize,
) -> Result<(), StoreError> {
    if actual > limit {
        return Err(StoreError::LimitExceeded {
            what,
            limit,
            actual,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_a_nul_byte_is_refused() {
        assert!(matches!(
            check_name("stream name bytes", "policy/\0P-1", NAME_BYTES_MAX),
            Err(StoreError::InvalidRequest(_))
        ));
    }

    #[test]
    fn a_tenant_id_over_64_bytes_is_refused_with_its_length() {
        let tenant = "t".repeat(65);
        assert_eq!(
            check_tenant(&tenant),
            Err(StoreError::LimitExceeded {
                what: "tenant id bytes",
                limit: 64,
                actual: 65
            })
        );
    }

    #[test]
    fn an_empty_tenant_id_is_refused() {
        assert!(matches!(
            check_tenant(""),
            Err(StoreError::InvalidRequest(_))
        ));
    }
}
