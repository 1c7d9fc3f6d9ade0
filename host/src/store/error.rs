//! Why a store operation failed. Every variant names the problem; none carries
//! a backend type, so a PostgreSQL store can return the same errors.

/// A failed store operation. `Clone` so that one storage failure can be
/// reported to every request of a group commit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The idempotency key was already used for a request with another body.
    #[error("idempotency key {key:?} was already used for a different request")]
    IdempotencyConflict { key: String },
    /// A stream is not at the version the command was decided on.
    #[error("stream {stream:?} is at version {actual}, not the expected {expected}")]
    VersionConflict {
        stream: String,
        expected: u64,
        actual: u64,
    },
    /// The tenant's log moved past the sequence the command was decided on
    /// (another host appended first): catch up and decide again.
    #[error("tenant {tenant:?} is at sequence {actual}, not the expected {expected}")]
    SequenceConflict {
        tenant: String,
        expected: u64,
        actual: u64,
    },
    /// The request is malformed (an empty name, no events, a duplicate stream...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A size or count limit of the store was exceeded.
    #[error("{what}: {actual} is over the limit of {limit}")]
    LimitExceeded {
        what: &'static str,
        limit: usize,
        actual: usize,
    },
    /// A stored value was written in a format this build does not know.
    #[error("{what} is stored in format version {version}, which this build does not support")]
    UnsupportedFormatVersion { what: &'static str, version: u16 },
    /// A stored value cannot be decoded, or the log breaks an invariant.
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// The disk or the storage engine failed.
    #[error("storage I/O failed: {0}")]
    Io(String),
    /// The store stopped accepting writes after a storage failure; what was
    /// acknowledged before is safe, the rest is unknown until it is reopened.
    #[error("the store refuses writes after an earlier storage failure ({0}); reopen it")]
    Failed(String),
    /// The store is shut down.
    #[error("the store is closed")]
    Closed,
}

impl From<std::io::Error> for StoreError {
    fn from(error: std::io::Error) -> Self {
        StoreError::Io(error.to_string())
    }
}
