//! The secret area: external raters' header values, encrypted at rest with
//! ChaCha20-Poly1305 (the `chacha20poly1305` crate), in a store area of
//! their own (blob namespace [`SECRETS_NAMESPACE`]). Events, the feed,
//! exports, answers and logs name a secret only by its reference: an
//! HMAC-SHA256 of the values under the same key, so the same values give
//! the same reference (a retried registration is a replay) and a reference
//! reveals nothing without the key.
//!
//! The key: `PREMIA_SECRET_KEY` (64 hex digits) when set, else
//! `<data>/secret.key` (made on first use, mode 0600). Hosts sharing a
//! database must share the key (the same variable, or a copy of the file).
//! Without a data directory (tests) a process-wide random key is used.

use crate::store::{Store, StoreError};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;
use std::sync::OnceLock;

/// The blob namespace of encrypted secrets, per tenant.
pub const SECRETS_NAMESPACE: &str = "rater-secrets";
/// The environment variable holding the key (64 hex digits).
pub const SECRET_KEY_ENV: &str = "PREMIA_SECRET_KEY";
/// The key file in a data directory.
pub const SECRET_KEY_FILE: &str = "secret.key";
const NONCE_BYTES: usize = 12;

/// Why a secret could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret key ({0}) must be 64 hex digits")]
    BadKey(&'static str),
    #[error("reading or writing the secret key file: {0}")]
    KeyFile(#[from] std::io::Error),
    #[error("a secret could not be decrypted (another key, or damaged)")]
    Undecryptable,
    #[error("secret {0} is missing from the secret area")]
    Missing(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// What of a rater registration is secret: its URL (its query string may
/// carry a credential) and its headers.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RaterSecret {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for RaterSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RaterSecret(<redacted>)")
    }
}

/// Encrypts and decrypts secrets with one key.
#[derive(Clone)]
pub struct SecretBox {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key>)")
    }
}

fn parse_key(text: &str, from: &'static str) -> Result<[u8; 32], SecretError> {
    let bytes = hex::decode(text.trim()).map_err(|_| SecretError::BadKey(from))?;
    bytes.try_into().map_err(|_| SecretError::BadKey(from))
}

impl SecretBox {
    pub fn new(key: [u8; 32]) -> Self {
        SecretBox { key }
    }

    /// The key from the environment, else from (or made in) `data`, else
    /// the process-wide random key.
    pub fn load(data: Option<&Path>) -> Result<Self, SecretError> {
        if let Ok(text) = std::env::var(SECRET_KEY_ENV) {
            return Ok(SecretBox::new(parse_key(&text, SECRET_KEY_ENV)?));
        }
        let Some(data) = data else {
            static PROCESS_KEY: OnceLock<[u8; 32]> = OnceLock::new();
            return Ok(SecretBox::new(*PROCESS_KEY.get_or_init(rand::random)));
        };
        let path = data.join(SECRET_KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(SecretBox::new(parse_key(&text, SECRET_KEY_FILE)?)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data)?;
                let key: [u8; 32] = rand::random();
                write_private(&path, hex::encode(key).as_bytes())?;
                Ok(SecretBox::new(key))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The reference of `secret`: a keyed digest, hex.
    pub fn reference(&self, secret: &RaterSecret) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key length");
        mac.update(b"premia rater secret v1\n");
        mac.update(&serde_json::to_vec(secret).expect("secrets serialize"));
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.key))
    }

    /// `plaintext` encrypted, bound to `context`: the nonce, then the
    /// ciphertext with its tag.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let sealed = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .expect("encryption of a small secret");
        [nonce.as_slice(), &sealed].concat()
    }

    /// The plaintext of [`SecretBox::seal`]'s output.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < NONCE_BYTES {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        self.cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .map_err(|_| SecretError::Undecryptable)
    }

    /// Keeps a rater's secret in the tenant's secret area; returns its
    /// reference.
    pub fn put(
        &self,
        store: &dyn Store,
        tenant: &str,
        secret: &RaterSecret,
    ) -> Result<String, SecretError> {
        let reference = self.reference(secret);
        let plaintext = serde_json::to_vec(secret).expect("secrets serialize");
        let sealed = self.seal(&plaintext, context(tenant, &reference).as_bytes());
        store.put_blob(tenant, SECRETS_NAMESPACE, &reference, &sealed)?;
        Ok(reference)
    }

    /// A rater's secret from the tenant's secret area.
    pub fn get(
        &self,
        store: &dyn Store,
        tenant: &str,
        reference: &str,
    ) -> Result<RaterSecret, SecretError> {
        let sealed = store
            .get_blob(tenant, SECRETS_NAMESPACE, reference)?
            .ok_or_else(|| SecretError::Missing(reference.to_string()))?;
        let plaintext = self.open(&sealed, context(tenant, reference).as_bytes())?;
        serde_json::from_slice(&plaintext).map_err(|_| SecretError::Undecryptable)
    }
}

/// The blob namespace of webhook endpoints' encrypted signing secrets.
pub const WEBHOOK_SECRETS_NAMESPACE: &str = "webhook-secrets";

impl SecretBox {
    /// The secret of a new webhook endpoint (or a rotation): derived from
    /// the request's idempotency key when it has one, so a retried request
    /// makes the same secret and replays; random otherwise.
    pub fn new_webhook_secret(
        &self,
        tenant: &str,
        idempotency_key: Option<&str>,
    ) -> crate::webhooks::WebhookSecret {
        match idempotency_key {
            Some(key) => {
                let mut mac =
                    <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key length");
                mac.update(b"premia webhook secret v1\n");
                mac.update(tenant.as_bytes());
                mac.update(b"\n");
                mac.update(key.as_bytes());
                crate::webhooks::WebhookSecret::from_bytes(mac.finalize().into_bytes().to_vec())
                    .expect("32 bytes")
            }
            None => crate::webhooks::WebhookSecret::generate(),
        }
    }

    /// Keeps a webhook secret sealed in the tenant's secret area; returns
    /// its reference (a keyed digest: the same secret, the same reference).
    pub fn put_webhook_secret(
        &self,
        store: &dyn Store,
        tenant: &str,
        secret: &crate::webhooks::WebhookSecret,
    ) -> Result<String, SecretError> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key length");
        mac.update(b"premia webhook secret reference v1\n");
        mac.update(secret.bytes());
        let reference = hex::encode(&mac.finalize().into_bytes()[..16]);
        let context = format!("{tenant}/{WEBHOOK_SECRETS_NAMESPACE}/{reference}");
        let sealed = self.seal(secret.bytes(), context.as_bytes());
        store.put_blob(tenant, WEBHOOK_SECRETS_NAMESPACE, &reference, &sealed)?;
        Ok(reference)
    }

    /// A webhook secret from the tenant's secret area.
    pub fn webhook_secret(
        &self,
        store: &dyn Store,
        tenant: &str,
        reference: &str,
    ) -> Result<crate::webhooks::WebhookSecret, SecretError> {
        let sealed = store
            .get_blob(tenant, WEBHOOK_SECRETS_NAMESPACE, reference)?
            .ok_or_else(|| SecretError::Missing(reference.to_string()))?;
        let context = format!("{tenant}/{WEBHOOK_SECRETS_NAMESPACE}/{reference}");
        let bytes = self.open(&sealed, context.as_bytes())?;
        crate::webhooks::WebhookSecret::from_bytes(bytes).map_err(|_| SecretError::Undecryptable)
    }
}

/// The blob namespace of payment methods' encrypted processor tokens.
pub const PAYMENT_TOKENS_NAMESPACE: &str = "payment-tokens";

impl SecretBox {
    /// Keeps a payment method's processor token sealed in the tenant's
    /// secret area; returns its reference (a keyed digest of the tenant
    /// and token: the same token, the same reference, so a retried
    /// attachment replays). Events name the token only by it.
    pub fn put_payment_token(
        &self,
        store: &dyn Store,
        tenant: &str,
        token: &str,
    ) -> Result<String, SecretError> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key length");
        mac.update(b"premia payment token reference v1\n");
        mac.update(tenant.as_bytes());
        mac.update(b"\n");
        mac.update(token.as_bytes());
        let reference = format!("tok_{}", hex::encode(&mac.finalize().into_bytes()[..16]));
        let context = format!("{tenant}/{PAYMENT_TOKENS_NAMESPACE}/{reference}");
        let sealed = self.seal(token.as_bytes(), context.as_bytes());
        store.put_blob(tenant, PAYMENT_TOKENS_NAMESPACE, &reference, &sealed)?;
        Ok(reference)
    }

    /// A payment method's processor token from the tenant's secret area.
    pub fn payment_token(
        &self,
        store: &dyn Store,
        tenant: &str,
        reference: &str,
    ) -> Result<String, SecretError> {
        let sealed = store
            .get_blob(tenant, PAYMENT_TOKENS_NAMESPACE, reference)?
            .ok_or_else(|| SecretError::Missing(reference.to_string()))?;
        let context = format!("{tenant}/{PAYMENT_TOKENS_NAMESPACE}/{reference}");
        let bytes = self.open(&sealed, context.as_bytes())?;
        String::from_utf8(bytes).map_err(|_| SecretError::Undecryptable)
    }
}

fn context(tenant: &str, reference: &str) -> String {
    format!("{tenant}/{SECRETS_NAMESPACE}/{reference}")
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn headers_are_kept_encrypted_and_read_back_with_the_same_key_only() {
        let store = MemoryStore::new();
        let secrets = SecretBox::new([7; 32]);
        let secret = RaterSecret {
            url: "http://rater.test/price".into(),
            headers: vec![("Authorization".to_string(), "Basic c2VjcmV0".to_string())],
        };
        let reference = secrets.put(&store, "acme", &secret).unwrap();
        let stored = store
            .get_blob("acme", SECRETS_NAMESPACE, &reference)
            .unwrap()
            .unwrap();
        assert!(!String::from_utf8_lossy(&stored).contains("c2VjcmV0"));
        assert_eq!(secrets.get(&store, "acme", &reference).unwrap(), secret);
        let other = SecretBox::new([8; 32]);
        assert!(matches!(
            other.get(&store, "acme", &reference),
            Err(SecretError::Undecryptable)
        ));
        // The same values give the same reference; other values another.
        assert_eq!(secrets.reference(&secret), reference);
        let other_values = RaterSecret {
            headers: Vec::new(),
            ..secret.clone()
        };
        assert_ne!(secrets.reference(&other_values), reference);
    }

    #[test]
    fn a_key_file_is_made_once_and_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let first = SecretBox::load(Some(dir.path())).unwrap();
        let again = SecretBox::load(Some(dir.path())).unwrap();
        assert_eq!(first.key, again.key);
        let text = std::fs::read_to_string(dir.path().join(SECRET_KEY_FILE)).unwrap();
        assert_eq!(text.len(), 64);
    }
}
