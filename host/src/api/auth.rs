//! Tenants' API keys: random secrets shown once, stored only as SHA-256
//! hashes, each bound to one tenant and one role. Every request is scoped to
//! its key's tenant; nothing crosses tenants.

use super::error::ApiError;
use crate::store::{Store, StoreError};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The store tenant that holds Premia's own records (API keys).
pub const SYSTEM_TENANT: &str = "_premia";
const KEYS_NAMESPACE: &str = "api-keys";
/// Bytes of randomness in a key.
const KEY_SECRET_BYTES: usize = 32;

/// What a key may do.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including products, plugins, raters and keys.
    Admin,
    /// Accounts, policies and their transactions, flat charges, previews.
    PolicySystem,
    /// Collections: payments, invoices, write-offs, disbursements, holds.
    Billing,
    /// Reads only.
    ReadOnly,
}

/// A kind of access a handler needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Configure,
    Transact,
    Collect,
}

impl Role {
    pub fn allows(self, access: Access) -> bool {
        matches!(
            (self, access),
            (Role::Admin, _)
                | (_, Access::Read)
                | (Role::PolicySystem, Access::Transact)
                | (Role::Billing, Access::Collect)
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::PolicySystem => "policy_system",
            Role::Billing => "billing",
            Role::ReadOnly => "read_only",
        }
    }
}

/// What is stored for a key: never the key itself.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub tenant: String,
    pub role: Role,
    pub label: String,
}

/// The SHA-256 of a key, in hex: how keys are stored and looked up.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Whether a tenant id is acceptable: 1-32 lower-case letters, digits or '-'.
pub fn valid_tenant(tenant: &str) -> bool {
    (1..=32).contains(&tenant.len())
        && tenant
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// All keys, by hash, loaded from the store at start-up.
pub struct KeyRing {
    store: Arc<dyn Store>,
    keys: RwLock<HashMap<String, KeyRecord>>,
}

impl KeyRing {
    pub fn load(store: Arc<dyn Store>) -> Result<Self, StoreError> {
        let mut keys = HashMap::new();
        for hash in store.list_blobs(SYSTEM_TENANT, KEYS_NAMESPACE)? {
            if let Some(bytes) = store.get_blob(SYSTEM_TENANT, KEYS_NAMESPACE, &hash)? {
                let record: KeyRecord = serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::Corrupt(format!("api key record {hash}: {e}")))?;
                keys.insert(hash, record);
            }
        }
        Ok(KeyRing {
            store,
            keys: RwLock::new(keys),
        })
    }

    /// Creates a key for `tenant` with `role`, stores its hash durably, and
    /// returns the key: the only time it is ever seen.
    pub fn create(&self, tenant: &str, role: Role, label: &str) -> Result<String, StoreError> {
        let mut secret = [0u8; KEY_SECRET_BYTES];
        rand::rng().fill_bytes(&mut secret);
        let key = format!("prm_{}", hex::encode(secret));
        let hash = key_hash(&key);
        let record = KeyRecord {
            tenant: tenant.to_string(),
            role,
            label: label.to_string(),
        };
        let bytes = serde_json::to_vec(&record).expect("records serialize");
        self.store
            .put_blob(SYSTEM_TENANT, KEYS_NAMESPACE, &hash, &bytes)?;
        self.keys.write().expect("keys lock").insert(hash, record);
        Ok(key)
    }

    /// The record of a presented key, if it is one. On a store shared by
    /// several hosts, a key unknown here is looked up in the store (another
    /// host may have created it).
    pub fn find(&self, key: &str) -> Option<KeyRecord> {
        let hash = key_hash(key);
        if let Some(record) = self.keys.read().expect("keys lock").get(&hash) {
            return Some(record.clone());
        }
        if !self.store.shared() {
            return None;
        }
        let bytes = self
            .store
            .get_blob(SYSTEM_TENANT, KEYS_NAMESPACE, &hash)
            .ok()??;
        let record: KeyRecord = serde_json::from_slice(&bytes).ok()?;
        self.keys
            .write()
            .expect("keys lock")
            .insert(hash, record.clone());
        Some(record)
    }

    /// Whether the tenant has any key.
    pub fn has_tenant(&self, tenant: &str) -> bool {
        self.keys
            .read()
            .expect("keys lock")
            .values()
            .any(|r| r.tenant == tenant)
    }

    /// How many keys exist.
    pub fn len(&self) -> usize {
        self.keys.read().expect("keys lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The caller of a request: its tenant and role, from its API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant: String,
    pub role: Role,
    pub label: String,
}

impl Caller {
    /// Refuses the request unless the caller's role allows one of `accesses`.
    pub fn require_any(&self, accesses: &[Access]) -> Result<(), ApiError> {
        if accesses.iter().any(|a| self.role.allows(*a)) {
            Ok(())
        } else {
            Err(ApiError::forbidden(self.role.name()))
        }
    }

    /// Refuses the request unless the caller's role allows `access`.
    pub fn require(&self, access: Access) -> Result<(), ApiError> {
        if self.role.allows(access) {
            Ok(())
        } else {
            Err(ApiError::forbidden(self.role.name()))
        }
    }
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync + AsRef<KeyRing>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthorized)?;
        let record = state
            .as_ref()
            .find(key.trim())
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Caller {
            tenant: record.tenant,
            role: record.role,
            label: record.label,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn a_key_is_stored_only_as_its_hash_and_found_again_after_a_reload() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let ring = KeyRing::load(Arc::clone(&store)).unwrap();
        let key = ring.create("acme", Role::Admin, "first").unwrap();
        assert!(key.starts_with("prm_") && key.len() == 68);
        let stored = store.list_blobs(SYSTEM_TENANT, KEYS_NAMESPACE).unwrap();
        assert_eq!(stored, vec![key_hash(&key)]);
        let bytes = store
            .get_blob(SYSTEM_TENANT, KEYS_NAMESPACE, &stored[0])
            .unwrap()
            .unwrap();
        assert!(
            !String::from_utf8(bytes).unwrap().contains(&key),
            "the key itself is never stored"
        );
        let reloaded = KeyRing::load(store).unwrap();
        assert_eq!(reloaded.find(&key).unwrap().tenant, "acme");
        assert!(reloaded.find("prm_wrong").is_none());
    }

    #[test]
    fn roles_allow_what_their_names_say() {
        assert!(Role::ReadOnly.allows(Access::Read) && !Role::ReadOnly.allows(Access::Transact));
        assert!(
            Role::PolicySystem.allows(Access::Transact)
                && !Role::PolicySystem.allows(Access::Configure)
        );
        assert!(Role::Billing.allows(Access::Collect) && !Role::Billing.allows(Access::Transact));
        assert!(Role::Admin.allows(Access::Configure));
    }
}
