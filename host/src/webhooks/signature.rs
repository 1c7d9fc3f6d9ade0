//! Standard Webhooks signatures (DOMAIN section 11): `webhook-signature:
//! v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the endpoint's
//! secret (`whsec_` then the key in base64).
//!
//! Worked example ([E12]): secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`,
//! id `msg_p5jXN8AQM9LWM0D4loKWxJek`, timestamp `1614265330`, body
//! `{"test": 2432232314}` sign as
//! `v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=`.

use super::error::WebhookError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a secret's text form.
pub const SECRET_PREFIX: &str = "whsec_";
/// The bytes of a secret Premia makes (Standard Webhooks asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;
/// The most bytes a secret may have.
pub const SECRET_BYTES_MAX: usize = 64;
/// The fewest bytes a secret may have.
pub const SECRET_BYTES_MIN: usize = 24;
const _: () = assert!(SECRET_BYTES_MIN <= SECRET_BYTES && SECRET_BYTES <= SECRET_BYTES_MAX);

/// An endpoint's signing key. Its `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl WebhookSecret {
    /// A secret of `bytes` (from a random source or a derivation).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, WebhookError> {
        if !(SECRET_BYTES_MIN..=SECRET_BYTES_MAX).contains(&bytes.len()) {
            return Err(WebhookError::BadSecret);
        }
        Ok(WebhookSecret(bytes))
    }

    /// A new random secret.
    pub fn generate() -> Self {
        let bytes: [u8; SECRET_BYTES] = rand::random();
        WebhookSecret(bytes.to_vec())
    }

    /// Reads `whsec_<base64>`.
    pub fn parse(text: &str) -> Result<Self, WebhookError> {
        let encoded = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or(WebhookError::BadSecret)?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| WebhookError::BadSecret)?;
        WebhookSecret::from_bytes(bytes)
    }

    /// The text form, `whsec_<base64>`: shown to the tenant once.
    pub fn text(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The raw key bytes (for sealing in the secret area).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The signature of a message: `v1,<base64 HMAC-SHA256>` of
    /// `"{id}.{timestamp}.{body}"`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header of a message signed by each of
/// `secrets` (during a rotation the previous secret signs too, so a
/// receiver that has not switched yet still verifies), space-separated.
pub fn signature_header(
    secrets: &[&WebhookSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e12_the_standard_webhooks_example_signs_as_the_spec_says() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            secret.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_reads_back_from_its_text_and_its_debug_shows_nothing() {
        let secret = WebhookSecret::generate();
        let text = secret.text();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text).unwrap(), secret);
        assert_eq!(format!("{secret:?}"), "WebhookSecret(<redacted>)");
    }

    #[test]
    fn a_secret_without_its_prefix_or_too_short_is_refused() {
        assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(WebhookSecret::parse("whsec_AAAA").is_err());
        assert!(WebhookSecret::parse("whsec_!!!").is_err());
    }

    #[test]
    fn during_a_rotation_both_secrets_sign_the_message() {
        let (old, new) = (WebhookSecret::generate(), WebhookSecret::generate());
        let header = signature_header(&[&new, &old], "msg_1", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(
            parts,
            vec![new.sign("msg_1", 1, b"{}"), old.sign("msg_1", 1, b"{}")]
        );
    }
}
