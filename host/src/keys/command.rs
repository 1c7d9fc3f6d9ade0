//! Key commands and the events they append. Events name the key by its id
//! and carry its role, label, who acted and when; never a secret or a hash.

use super::role::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A command to a tenant's API keys.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum KeyCommand {
    /// Creates a key with `role` and `label`; its id is the next `key-<n>`.
    CreateKey { role: Role, label: String },
    /// Revokes a key at once: its secrets (current and in grace) are refused.
    RevokeKey { key: String },
    /// Gives a key a new secret; the one it replaces stays valid for
    /// `grace_seconds` (and no secret older than that stays valid longer).
    RotateKey { key: String, grace_seconds: u64 },
}

/// An event of a tenant's API keys.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum KeyEvent {
    /// A key was created; its first secret is generation 0.
    KeyCreated {
        key: String,
        role: Role,
        label: String,
        actor: String,
        at: DateTime<Utc>,
    },
    /// A key was revoked.
    KeyRevoked {
        key: String,
        role: Role,
        label: String,
        actor: String,
        at: DateTime<Utc>,
    },
    /// A key got secret `generation`; the earlier ones stay valid until
    /// `previous_valid_until`.
    KeyRotated {
        key: String,
        role: Role,
        label: String,
        generation: u32,
        previous_valid_until: DateTime<Utc>,
        actor: String,
        at: DateTime<Utc>,
    },
}

impl KeyEvent {
    /// The stable kind stored with the event.
    pub fn kind(&self) -> &'static str {
        match self {
            KeyEvent::KeyCreated { .. } => "api_key_created",
            KeyEvent::KeyRevoked { .. } => "api_key_revoked",
            KeyEvent::KeyRotated { .. } => "api_key_rotated",
        }
    }

    /// The key's id.
    pub fn key(&self) -> &str {
        match self {
            KeyEvent::KeyCreated { key, .. }
            | KeyEvent::KeyRevoked { key, .. }
            | KeyEvent::KeyRotated { key, .. } => key,
        }
    }
}
