//! Why a key command was refused: each with a stable code the API shows.

use crate::domain::ErrorKind;

/// Why a key command was refused; a refused command changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("unknown role {0:?}: use admin, policy_system, billing or read_only")]
    UnknownRole(String),
    #[error("a label is at most {max} characters, without control characters")]
    InvalidLabel { max: usize },
    #[error("grace_seconds {requested} is over the maximum of {max}")]
    GraceTooLong { requested: u64, max: u64 },
    #[error("no API key {0}")]
    NotFound(String),
    #[error("API key {0} is revoked")]
    Revoked(String),
    #[error(
        "API key {0} is the tenant's last admin key: create another admin key before revoking it"
    )]
    LastAdmin(String),
}

impl KeyError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::UnknownRole(_) => "unknown_role",
            KeyError::InvalidLabel { .. } => "invalid_label",
            KeyError::GraceTooLong { .. } => "invalid_grace",
            KeyError::NotFound(_) => "api_key_not_found",
            KeyError::Revoked(_) => "api_key_revoked",
            KeyError::LastAdmin(_) => "last_admin_key",
        }
    }

    /// How the refusal is answered.
    pub fn kind(&self) -> ErrorKind {
        match self {
            KeyError::UnknownRole(_)
            | KeyError::InvalidLabel { .. }
            | KeyError::GraceTooLong { .. } => ErrorKind::Invalid,
            KeyError::NotFound(_) => ErrorKind::NotFound,
            KeyError::Revoked(_) | KeyError::LastAdmin(_) => ErrorKind::Conflict,
        }
    }
}
