//! What kind of failure an error is, for whoever answers it: every module
//! error says which kind each of its variants is (an exhaustive match, so a
//! new variant must choose), and the API turns the kind into an HTTP status.
//! No HTTP types here: the domain does not know it is served over HTTP.

/// The kind of a refused command or failed operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request cannot be done as asked (HTTP 422).
    Invalid,
    /// The request names something that does not exist (HTTP 404).
    NotFound,
    /// The request conflicts with what exists or was done (HTTP 409).
    Conflict,
    /// The request or its effect is larger than Premia takes (HTTP 413).
    TooLarge,
    /// A plugin or external rater failed (HTTP 502).
    Upstream,
    /// A plugin or external rater ran past its deadline (HTTP 504).
    UpstreamTimeout,
    /// Premia cannot do it now; retrying later may work (HTTP 503).
    Unavailable,
    /// Premia's own state is not as it must be: a bug, not the client's
    /// doing (HTTP 500; the client never sees the error's text).
    Internal,
}
