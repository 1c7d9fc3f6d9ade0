//! Key secrets: 32 random bytes shown once as `prm_<64 hex>`, and the
//! SHA-256 they are stored and looked up by. Secrets are high-entropy, so a
//! plain SHA-256 (no salt, no slow hash) cannot be reversed by guessing.

use rand::Rng;
use sha2::{Digest, Sha256};

/// How a secret starts.
pub const SECRET_PREFIX: &str = "prm_";
/// Bytes of randomness in a secret.
const SECRET_BYTES: usize = 32;

/// A freshly drawn secret and its hash. Not `Debug`, so it cannot end up
/// in a log line by accident.
pub struct NewSecret {
    pub secret: String,
    pub hash: String,
}

impl NewSecret {
    pub fn generate() -> NewSecret {
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("{SECRET_PREFIX}{}", hex::encode(bytes));
        let hash = secret_hash(&secret);
        NewSecret { secret, hash }
    }
}

/// The SHA-256 of a secret, in hex.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_secrets_differ_and_each_hashes_to_64_hex_characters() {
        let (a, b) = (NewSecret::generate(), NewSecret::generate());
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with("prm_") && a.secret.len() == 68);
        assert_eq!(a.hash.len(), 64);
        assert_eq!(a.hash, secret_hash(&a.secret));
        assert_ne!(a.hash, b.hash);
    }
}
