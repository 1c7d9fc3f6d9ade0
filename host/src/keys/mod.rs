//! A tenant's API keys as configuration history (DOMAIN section 9): keys are
//! created, rotated and revoked by commands of the tenant's log, whose events
//! carry the key's id, role, label, actor and time, never its secret or the
//! secret's hash. Pure: the engine keeps these events; the hashes of the
//! secrets live in a store area of their own (`engine::KeyRing`).

mod command;
mod error;
mod registry;
mod role;
mod secret;

pub use command::{KeyCommand, KeyEvent};
pub use error::KeyError;
pub use registry::{ApiKey, ApiKeys, GRACE_SECONDS_DEFAULT, GRACE_SECONDS_MAX, LABEL_CHARS_MAX};
pub use role::{Access, Role};
pub use secret::{NewSecret, SECRET_PREFIX, secret_hash};
