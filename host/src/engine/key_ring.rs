//! Tenants' API keys over the engine and the store: a key's life (create,
//! rotate, revoke) is a command of its tenant's log ([`crate::keys`]); the
//! SHA-256 of each secret is kept in a store area of its own
//! ([`CREDENTIALS_NAMESPACE`] of [`SYSTEM_TENANT`], one blob per hash naming
//! the tenant, key id and secret generation), never in an event.
//!
//! Authenticating a secret: its hash finds the key id and generation; the
//! tenant's state (caught up with the log first on a shared store, so a key
//! revoked on another host is refused at once) says whether that key and
//! generation are accepted now.
//!
//! A secret is drawn before its command runs and its hash stored only after
//! the command committed: a replayed command (same idempotency key) stores
//! nothing and shows no secret (secrets are shown once and never kept).
//!
//! "Last used" is not audited: each host keeps the latest use of each key in
//! memory and writes the changed ones to [`LAST_USED_NAMESPACE`] of the
//! tenant every [`LAST_USED_FLUSH_SECONDS`] (a blob per key, the later of the
//! stored and the remembered time). A listing shows the later of the two,
//! so a host's own uses show at once; another host's after its next flush,
//! and a crash loses at most one interval of uses.

use super::command::EngineCommand;
use super::service::{Engine, Fresh, RequestMeta};
use super::state::{EngineError, TenantEvent};
use crate::keys::{ApiKey, KeyCommand, KeyEvent, NewSecret, Role, secret_hash};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

/// The store tenant that holds Premia's own records (API key hashes).
pub const SYSTEM_TENANT: &str = "_premia";
/// Where the hashes of the secrets are kept, one blob per hash.
pub const CREDENTIALS_NAMESPACE: &str = "api-key-credentials";
/// Keys of builds before keys were events (`{tenant, role, label}` by
/// hash); moved into the log at start-up.
const LEGACY_NAMESPACE: &str = "api-keys";
/// Where each tenant's keys' last use is kept, one blob per key id.
pub const LAST_USED_NAMESPACE: &str = "api-key-last-used";
/// How often a host writes the last uses it saw.
pub const LAST_USED_FLUSH_SECONDS: u64 = 60;

/// What the hash of a secret opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Credential {
    tenant: String,
    key: String,
    generation: u32,
}

/// A key that a presented secret opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub tenant: String,
    pub key: String,
    pub role: Role,
    pub label: String,
    /// On a shared store, what it answered when the key was checked (where
    /// the tenant's log ended, and the record of the request's idempotency
    /// key): the request's command decides on it
    /// ([`crate::engine::Engine::execute_fresh`]).
    pub fresh: Option<Fresh>,
}

/// A key after a create or rotate command: its new secret, shown once
/// (`None` when the command was a replay).
#[derive(Clone)]
pub struct IssuedKey {
    pub key: ApiKey,
    pub secret: Option<String>,
    pub replayed: bool,
}

/// A key with its last use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyListing {
    pub key: ApiKey,
    pub last_used: Option<DateTime<Utc>>,
}

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("API key records are inconsistent: {0}")]
    Corrupt(String),
}

/// The latest use of a key on this host, and whether it is written yet.
#[derive(Debug, Clone, Copy)]
struct Use {
    at: DateTime<Utc>,
    flushed: bool,
}

/// Every tenant's keys: the engine for their history, the store for the
/// hashes of their secrets.
pub struct KeyRing {
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    credentials: RwLock<HashMap<String, Credential>>,
    /// By tenant, then key id.
    uses: Mutex<HashMap<String, HashMap<String, Use>>>,
}

impl KeyRing {
    /// Loads the hashes of every secret, moves keys of older builds into
    /// their tenants' logs, and starts writing last uses in the background.
    pub fn open(engine: Arc<Engine>) -> Result<Arc<Self>, KeyRingError> {
        let store = Arc::clone(engine.store());
        let ring = Arc::new(KeyRing {
            engine,
            store,
            credentials: RwLock::new(HashMap::new()),
            uses: Mutex::new(HashMap::new()),
        });
        for hash in ring
            .store
            .list_blobs(SYSTEM_TENANT, CREDENTIALS_NAMESPACE)?
        {
            if let Some(credential) = ring.stored_credential(&hash)? {
                ring.cache(hash, credential);
            }
        }
        ring.migrate_legacy()?;
        start_flusher(&ring);
        Ok(ring)
    }

    fn stored_credential(&self, hash: &str) -> Result<Option<Credential>, KeyRingError> {
        let Some(bytes) = self
            .store
            .get_blob(SYSTEM_TENANT, CREDENTIALS_NAMESPACE, hash)?
        else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| KeyRingError::Corrupt(format!("a credential record: {e}")))
    }

    fn cache(&self, hash: String, credential: Credential) {
        self.credentials
            .write()
            .expect("credentials lock")
            .insert(hash, credential);
    }

    fn store_credential(&self, hash: String, credential: Credential) -> Result<(), KeyRingError> {
        let bytes = serde_json::to_vec(&credential).expect("credentials serialize");
        self.store
            .put_blob(SYSTEM_TENANT, CREDENTIALS_NAMESPACE, &hash, &bytes)?;
        self.cache(hash, credential);
        Ok(())
    }

    /// Keys stored by builds before keys were events: each becomes a
    /// `key_created` event of its tenant (actor `premia:key-migration`) with
    /// its secret's hash moved to the credentials area. A retry after a
    /// crash replays the same command (its idempotency key is derived from
    /// the hash, which it does not reveal).
    fn migrate_legacy(&self) -> Result<(), KeyRingError> {
        #[derive(Deserialize)]
        struct LegacyRecord {
            tenant: String,
            role: Role,
            label: String,
        }
        for hash in self.store.list_blobs(SYSTEM_TENANT, LEGACY_NAMESPACE)? {
            let Some(bytes) = self
                .store
                .get_blob(SYSTEM_TENANT, LEGACY_NAMESPACE, &hash)?
            else {
                continue;
            };
            let record: LegacyRecord = serde_json::from_slice(&bytes)
                .map_err(|e| KeyRingError::Corrupt(format!("a legacy key record: {e}")))?;
            let tag = hex::encode(Sha256::digest(format!("premia-legacy-key:{hash}")));
            let meta = system_meta(
                "premia:key-migration",
                Some(format!("migrated-key-{}", &tag[..24])),
            );
            let command = KeyCommand::CreateKey {
                role: record.role,
                label: record.label,
            };
            let outcome =
                self.engine
                    .execute(&record.tenant, &EngineCommand::Keys(command), &meta)?;
            let key = key_event(&outcome.events)?.key().to_string();
            let credential = Credential {
                tenant: record.tenant,
                key,
                generation: 0,
            };
            self.store_credential(hash.clone(), credential)?;
            self.store
                .delete_blob(SYSTEM_TENANT, LEGACY_NAMESPACE, &hash)?;
        }
        Ok(())
    }

    /// Creates a key of `tenant`: the command under `meta` (its idempotency
    /// key honoured), then the new secret's hash.
    pub fn create(
        &self,
        tenant: &str,
        role: Role,
        label: &str,
        meta: &RequestMeta,
    ) -> Result<IssuedKey, KeyRingError> {
        let command = KeyCommand::CreateKey {
            role,
            label: label.to_string(),
        };
        self.issue(tenant, command, meta)
    }

    /// Gives key `key` a new secret; the replaced one stays valid for
    /// `grace_seconds`.
    pub fn rotate(
        &self,
        tenant: &str,
        key: &str,
        grace_seconds: u64,
        meta: &RequestMeta,
    ) -> Result<IssuedKey, KeyRingError> {
        let command = KeyCommand::RotateKey {
            key: key.to_string(),
            grace_seconds,
        };
        self.issue(tenant, command, meta)
    }

    /// Runs a command that gives a key a secret, and stores the secret's
    /// hash once the command committed.
    fn issue(
        &self,
        tenant: &str,
        command: KeyCommand,
        meta: &RequestMeta,
    ) -> Result<IssuedKey, KeyRingError> {
        let secret = NewSecret::generate();
        let outcome = self
            .engine
            .execute(tenant, &EngineCommand::Keys(command), meta)?;
        let (key, generation) = match key_event(&outcome.events)? {
            KeyEvent::KeyCreated { key, .. } => (key.clone(), 0),
            KeyEvent::KeyRotated {
                key, generation, ..
            } => (key.clone(), *generation),
            other => {
                return Err(KeyRingError::Corrupt(format!(
                    "a key command answered {}",
                    other.kind()
                )));
            }
        };
        let secret = if outcome.replayed {
            None
        } else {
            let credential = Credential {
                tenant: tenant.to_string(),
                key: key.clone(),
                generation,
            };
            self.store_credential(secret.hash, credential)?;
            Some(secret.secret)
        };
        Ok(IssuedKey {
            key: self.key(tenant, &key)?,
            secret,
            replayed: outcome.replayed,
        })
    }

    /// Revokes key `key` of `tenant` at once.
    pub fn revoke(
        &self,
        tenant: &str,
        key: &str,
        meta: &RequestMeta,
    ) -> Result<(ApiKey, bool), KeyRingError> {
        let command = KeyCommand::RevokeKey {
            key: key.to_string(),
        };
        let outcome = self
            .engine
            .execute(tenant, &EngineCommand::Keys(command), meta)?;
        Ok((self.key(tenant, key)?, outcome.replayed))
    }

    fn key(&self, tenant: &str, key: &str) -> Result<ApiKey, KeyRingError> {
        self.engine
            .read(tenant, |state| state.keys.get(key).cloned())?
            .ok_or_else(|| {
                KeyRingError::Corrupt(format!("key {key} of {tenant} is not in its state"))
            })
    }

    /// A key made by Premia itself (a tenant's first admin key, the demo's),
    /// by `actor` now; returns its secret.
    pub fn create_as(
        &self,
        tenant: &str,
        role: Role,
        label: &str,
        actor: &str,
    ) -> Result<String, KeyRingError> {
        let issued = self.create(tenant, role, label, &system_meta(actor, None))?;
        issued
            .secret
            .ok_or_else(|| KeyRingError::Corrupt("a new key without a secret".into()))
    }

    /// The tenant's keys, oldest first, with their last use.
    pub fn list(&self, tenant: &str) -> Result<Vec<KeyListing>, KeyRingError> {
        let keys = self
            .engine
            .read(tenant, |state| state.keys.all().to_vec())?;
        let uses = self
            .uses
            .lock()
            .expect("uses lock")
            .get(tenant)
            .cloned()
            .unwrap_or_default();
        keys.into_iter()
            .map(|key| {
                let here = uses.get(&key.id).map(|u| u.at);
                let stored = self.stored_last_use(tenant, &key.id)?;
                Ok(KeyListing {
                    last_used: here.max(stored),
                    key,
                })
            })
            .collect()
    }

    fn stored_last_use(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<DateTime<Utc>>, KeyRingError> {
        Ok(self
            .store
            .get_blob(tenant, LAST_USED_NAMESPACE, key)?
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| DateTime::parse_from_rfc3339(&text).ok())
            .map(|at| at.with_timezone(&Utc)))
    }

    /// The key a presented secret opens now, if any (and its use is
    /// remembered). On a shared store a hash unknown here is looked up in
    /// the store (another host may have issued it), and the tenant's state
    /// is caught up with the log first. May wait: see
    /// [`KeyRing::authenticate_without_waiting`].
    pub fn authenticate(&self, secret: &str) -> Option<Authenticated> {
        self.authenticate_for(secret, None)
    }

    /// [`KeyRing::authenticate`] for a request that carries
    /// `idempotency_key`: on a shared store, the one question that checks
    /// the key's state is fresh also asks whether that idempotency key was
    /// committed, and the answer comes back in [`Authenticated::fresh`].
    pub fn authenticate_for(
        &self,
        secret: &str,
        idempotency_key: Option<&str>,
    ) -> Option<Authenticated> {
        let credential = self.credential(secret, true)?;
        let now = Utc::now();
        let (accepted, fresh) = self
            .engine
            .read_fresh(&credential.tenant, idempotency_key, |state| {
                accepted(state, &credential, now)
            })
            .ok()?;
        let mut authenticated = self.used(credential, accepted?, now);
        authenticated.fresh = fresh;
        Some(authenticated)
    }

    /// [`KeyRing::authenticate`] if it can answer without waiting (a local
    /// store, the tenant not locked by a command), else `None`: call
    /// `authenticate` on a blocking thread then.
    pub fn authenticate_without_waiting(&self, secret: &str) -> Option<Option<Authenticated>> {
        if self.store.shared() {
            return None;
        }
        let Some(credential) = self.credential(secret, false) else {
            return Some(None);
        };
        let now = Utc::now();
        let accepted = self
            .engine
            .read_without_waiting(&credential.tenant, |state| {
                accepted(state, &credential, now)
            })?;
        Some(accepted.map(|accepted| self.used(credential, accepted, now)))
    }

    /// What the hash of `secret` opens: from memory, or (on a shared store,
    /// when `ask_store`) from the store.
    fn credential(&self, secret: &str, ask_store: bool) -> Option<Credential> {
        let hash = secret_hash(secret);
        let known = self
            .credentials
            .read()
            .expect("credentials lock")
            .get(&hash)
            .cloned();
        match known {
            Some(credential) => Some(credential),
            None if ask_store && self.store.shared() => {
                let credential = self.stored_credential(&hash).ok()??;
                self.cache(hash, credential.clone());
                Some(credential)
            }
            None => None,
        }
    }

    /// Remembers the use of an accepted key.
    fn used(
        &self,
        credential: Credential,
        (role, label): (Role, String),
        now: DateTime<Utc>,
    ) -> Authenticated {
        let used = Use {
            at: now,
            flushed: false,
        };
        let mut uses = self.uses.lock().expect("uses lock");
        // Most requests come from a key already seen: no allocation then.
        match uses
            .get_mut(credential.tenant.as_str())
            .and_then(|keys| keys.get_mut(credential.key.as_str()))
        {
            Some(seen) => *seen = used,
            None => {
                uses.entry(credential.tenant.clone())
                    .or_default()
                    .insert(credential.key.clone(), used);
            }
        }
        drop(uses);
        Authenticated {
            tenant: credential.tenant,
            key: credential.key,
            role,
            label,
            fresh: None,
        }
    }

    /// Writes the last uses not yet written (the later of the stored and the
    /// remembered time).
    pub fn flush_last_used(&self) -> Result<(), KeyRingError> {
        let pending: Vec<((String, String), DateTime<Utc>)> = self
            .uses
            .lock()
            .expect("uses lock")
            .iter()
            .flat_map(|(tenant, keys)| {
                keys.iter()
                    .filter(|(_, used)| !used.flushed)
                    .map(|(key, used)| ((tenant.clone(), key.clone()), used.at))
            })
            .collect();
        for ((tenant, key), at) in pending {
            let stored = self.stored_last_use(&tenant, &key)?;
            if stored.is_none_or(|stored| stored < at) {
                self.store.put_blob(
                    &tenant,
                    LAST_USED_NAMESPACE,
                    &key,
                    at.to_rfc3339().as_bytes(),
                )?;
            }
            if let Some(used) = self
                .uses
                .lock()
                .expect("uses lock")
                .get_mut(&tenant)
                .and_then(|keys| keys.get_mut(&key))
                && used.at == at
            {
                used.flushed = true;
            }
        }
        Ok(())
    }

    /// Whether the tenant has any key (revoked ones included).
    pub fn has_tenant(&self, tenant: &str) -> Result<bool, KeyRingError> {
        Ok(self.engine.read(tenant, |state| !state.keys.is_empty())?)
    }

    /// How many secrets (of every tenant) this host knows the hash of.
    pub fn secrets(&self) -> usize {
        self.credentials.read().expect("credentials lock").len()
    }

    /// Whether no key was ever issued (on this host's knowledge).
    pub fn is_empty(&self) -> bool {
        self.secrets() == 0
    }
}

/// The role and label of the key a credential names, if its tenant's state
/// accepts the credential's generation at `now`.
fn accepted(
    state: &super::state::TenantState,
    credential: &Credential,
    now: DateTime<Utc>,
) -> Option<(Role, String)> {
    state
        .keys
        .accepted(&credential.key, credential.generation, now)
        .map(|key| (key.role, key.label.clone()))
}

/// The key event among a key command's events.
fn key_event(events: &[TenantEvent]) -> Result<&KeyEvent, KeyRingError> {
    events
        .iter()
        .find_map(|event| match event {
            TenantEvent::Keys(event) => Some(event),
            _ => None,
        })
        .ok_or_else(|| KeyRingError::Corrupt("a key command appended no key event".into()))
}

/// A command Premia sends itself, by `actor`, now.
fn system_meta(actor: &str, idempotency_key: Option<String>) -> RequestMeta {
    RequestMeta {
        actor: actor.to_string(),
        issued_at: Utc::now(),
        idempotency_key,
        arithmetic: crate::billing::Arithmetic::Written,
    }
}

/// Writes last uses every [`LAST_USED_FLUSH_SECONDS`] until the ring is
/// dropped (checked every second).
fn start_flusher(ring: &Arc<KeyRing>) {
    let weak: Weak<KeyRing> = Arc::downgrade(ring);
    let spawned = std::thread::Builder::new()
        .name("premia-key-uses".into())
        .spawn(move || {
            let mut ticks = 0;
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let Some(ring) = weak.upgrade() else { return };
                ticks += 1;
                if ticks % LAST_USED_FLUSH_SECONDS == 0
                    && let Err(error) = ring.flush_last_used()
                {
                    tracing::warn!(%error, "writing API keys' last use failed; retrying");
                }
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "API keys' last use will not be written");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::RaterResolver;

    struct NoRaters;

    impl RaterResolver for NoRaters {
        fn resolve(
            &self,
            chain: &crate::policy::RatingChain,
        ) -> Result<Arc<dyn crate::rating::Rater>, crate::rating::RatingError> {
            Err(crate::rating::RatingError::failed(
                format!("{chain:?}"),
                crate::rating::RaterFailure::Unavailable,
                "no raters in this test",
            ))
        }
    }

    fn ring() -> Arc<KeyRing> {
        let store: Arc<dyn Store> = Arc::new(crate::store::MemoryStore::new());
        let engine = Arc::new(Engine::open(store, Arc::new(NoRaters)).unwrap());
        KeyRing::open(engine).unwrap()
    }

    #[test]
    fn a_secret_is_answered_without_waiting_unless_its_tenant_is_locked_by_a_command() {
        let ring = ring();
        let secret = ring
            .create_as("acme", Role::Billing, "ops", "premia:test")
            .unwrap();
        let found = ring.authenticate_without_waiting(&secret).unwrap().unwrap();
        assert_eq!(
            (found.tenant.as_str(), found.key.as_str(), found.role),
            ("acme", "key-1", Role::Billing)
        );
        assert_eq!(
            ring.authenticate_without_waiting("prm_unknown").unwrap(),
            None
        );
        let waiting = ring
            .engine
            .while_locked("acme", || ring.authenticate_without_waiting(&secret));
        assert!(waiting.is_none(), "it would wait for the command");
        assert_eq!(ring.authenticate(&secret).unwrap().label, "ops");
    }

    #[test]
    fn a_replayed_rotation_stores_no_second_secret_and_shows_none() {
        let ring = ring();
        ring.create_as("acme", Role::Admin, "ops", "premia:test")
            .unwrap();
        let meta = system_meta("admin:ops", Some("rotate-1".into()));
        let first = ring.rotate("acme", "key-1", 60, &meta).unwrap();
        assert!(first.secret.is_some() && !first.replayed);
        assert_eq!(ring.secrets(), 2);
        let again = ring.rotate("acme", "key-1", 60, &meta).unwrap();
        assert!(again.secret.is_none() && again.replayed);
        assert_eq!(again.key.generation, 1);
        assert_eq!(ring.secrets(), 2);
    }
}
