//! The registration of an external rater: a name, the URL Premia POSTs to,
//! the headers it sends (credentials, usually) and a timeout.
//!
//! Header values are secrets. They are stored and serialized (the registry
//! must keep them), but never shown: `Debug` redacts them and
//! [`ExternalRaterConfig::redacted`] lists header names only.
//!
//! ```json
//! {"name": "my-rater", "url": "https://rater.example.com/price",
//!  "headers": [{"name": "Authorization", "value": "Basic dXNlcjpwYXNz"}],
//!  "timeout_ms": 5000}
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;

/// The timeout of a rating call when the registration names none.
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;
/// The longest timeout a registration may ask for.
pub const MAX_TIMEOUT_MS: u64 = 120_000;
/// The longest rater name.
pub const MAX_NAME_CHARS: usize = 64;
/// The most headers a registration may send.
pub const MAX_HEADERS: usize = 32;
/// The longest header value, in bytes.
pub const MAX_HEADER_VALUE_BYTES: usize = 8 * 1024;
/// The longest URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// Headers that describe the connection or the body: Premia sets them.
const RESERVED_HEADERS: [&str; 6] = [
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "upgrade",
];

fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

/// An external rater as registered (Socotra's "Manage Integrations" entry).
#[derive(utoipa::ToSchema, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalRaterConfig {
    /// The unique name products reference (1 to 64 characters).
    pub name: String,
    /// The `http` or `https` URL of the rater's POST endpoint. Credentials
    /// belong in headers, never in the URL.
    pub url: String,
    /// Headers sent with every call, in order (a name may repeat).
    #[serde(default, with = "header_list")]
    pub headers: Vec<(String, String)>,
    /// The wall-time limit of one call, 1 to 120 000 ms (default 5 000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

/// What may be shown of a registration: everything but header values.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactedExternalRaterConfig {
    pub name: String,
    /// The URL with its query string (if any) replaced by `?<redacted>`.
    pub url: String,
    pub header_names: Vec<String>,
    pub timeout_ms: u64,
}

/// Why a registration is refused. Messages never contain header values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExternalRaterConfigError {
    #[error(
        "external rater name must be 1 to 64 characters, without control characters or surrounding spaces"
    )]
    InvalidName,
    #[error("external rater url is invalid: {0}")]
    InvalidUrl(String),
    /// `index` counts from 0; `name` is shown only when it is a valid name.
    #[error("external rater header {index} ({name}) is invalid: {reason}")]
    InvalidHeader {
        index: usize,
        name: String,
        reason: String,
    },
    #[error("external rater has {0} headers; at most 32 are allowed")]
    TooManyHeaders(usize),
    #[error("external rater timeout must be 1 to 120000 ms, got {0}")]
    InvalidTimeout(u64),
}

impl ExternalRaterConfig {
    /// A registration with no headers and the default timeout.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        ExternalRaterConfig {
            name: name.into(),
            url: url.into(),
            headers: Vec::new(),
            timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }

    /// Adds a header sent with every call.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the timeout of one call.
    pub fn with_timeout_ms(mut self, timeout_ms: u64) -> Self {
        self.timeout_ms = timeout_ms;
        self
    }

    /// Checks the registration.
    ///
    /// Example: `{"name": "my-rater", "url": "ftp://rater"}` is refused with
    /// "external rater url is invalid: the scheme must be http or https, not
    /// ftp"; `https://user:secret@rater.example.com/` is refused because the
    /// URL carries credentials.
    pub fn validate(&self) -> Result<(), ExternalRaterConfigError> {
        self.parsed_url()?;
        let name_chars = self.name.chars().count();
        if name_chars == 0
            || name_chars > MAX_NAME_CHARS
            || self.name.chars().any(char::is_control)
            || self.name.trim() != self.name
        {
            return Err(ExternalRaterConfigError::InvalidName);
        }
        if self.timeout_ms == 0 || self.timeout_ms > MAX_TIMEOUT_MS {
            return Err(ExternalRaterConfigError::InvalidTimeout(self.timeout_ms));
        }
        self.header_map().map(|_| ())
    }

    /// The registration without header values, for listings and logs.
    pub fn redacted(&self) -> RedactedExternalRaterConfig {
        RedactedExternalRaterConfig {
            name: self.name.clone(),
            url: redact_url(&self.url),
            header_names: self.headers.iter().map(|(n, _)| n.clone()).collect(),
            timeout_ms: self.timeout_ms,
        }
    }

    pub(super) fn parsed_url(&self) -> Result<reqwest::Url, ExternalRaterConfigError> {
        let invalid = |m: &str| ExternalRaterConfigError::InvalidUrl(m.to_string());
        if self.url.len() > MAX_URL_BYTES {
            return Err(invalid("it is longer than 2048 bytes"));
        }
        let url = reqwest::Url::parse(&self.url)
            .map_err(|e| ExternalRaterConfigError::InvalidUrl(e.to_string()))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(ExternalRaterConfigError::InvalidUrl(format!(
                "the scheme must be http or https, not {}",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "it carries credentials; send them in a header instead",
            ));
        }
        if url.fragment().is_some() {
            return Err(invalid("it has a fragment"));
        }
        Ok(url)
    }

    /// The headers, checked, with every value marked sensitive.
    pub(super) fn header_map(
        &self,
    ) -> Result<reqwest::header::HeaderMap, ExternalRaterConfigError> {
        use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
        if self.headers.len() > MAX_HEADERS {
            return Err(ExternalRaterConfigError::TooManyHeaders(self.headers.len()));
        }
        let mut map = HeaderMap::with_capacity(self.headers.len());
        for (index, (name, value)) in self.headers.iter().enumerate() {
            let invalid = |shown: &str, reason: &str| ExternalRaterConfigError::InvalidHeader {
                index,
                name: shown.to_string(),
                reason: reason.to_string(),
            };
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid("?", "the name is not a valid HTTP header name"))?;
            if RESERVED_HEADERS.contains(&header_name.as_str()) {
                return Err(invalid(name, "Premia sets this header itself"));
            }
            if value.len() > MAX_HEADER_VALUE_BYTES {
                return Err(invalid(name, "the value is longer than 8192 bytes"));
            }
            let mut header_value = HeaderValue::from_str(value)
                .map_err(|_| invalid(name, "the value must be visible ASCII, spaces or tabs"))?;
            header_value.set_sensitive(true);
            map.append(header_name, header_value);
        }
        Ok(map)
    }
}

/// `url` with its query string replaced by `?<redacted>`: some services take
/// keys in the query (`?code=...`), which must not reach logs or errors.
pub(super) fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?<redacted>"),
        None => url.to_string(),
    }
}

impl fmt::Debug for ExternalRaterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = self.redacted();
        f.debug_struct("ExternalRaterConfig")
            .field("name", &redacted.name)
            .field("url", &redacted.url)
            .field("headers", &HeaderNames(&redacted.header_names))
            .field("timeout_ms", &redacted.timeout_ms)
            .finish()
    }
}

/// Shows `[Authorization: <redacted>, ...]`.
pub(super) struct HeaderNames<'a>(pub &'a [String]);

impl fmt::Debug for HeaderNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|n| format!("{n}: <redacted>")))
            .finish()
    }
}

/// Headers in JSON as `[{"name": ..., "value": ...}]`; `[[name, value]]`
/// pairs are accepted too.
mod header_list {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(utoipa::ToSchema, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Named {
        name: String,
        value: String,
    }

    #[derive(utoipa::ToSchema, Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Named(Named),
        Pair(String, String),
    }

    pub fn serialize<S: Serializer>(headers: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(headers.iter().map(|(name, value)| Named {
            name: name.clone(),
            value: value.clone(),
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
        let entries = Vec::<Entry>::deserialize(d)?;
        Ok(entries
            .into_iter()
            .map(|entry| match entry {
                Entry::Named(Named { name, value }) => (name, value),
                Entry::Pair(name, value) => (name, value),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ExternalRaterConfig {
        ExternalRaterConfig::new("my-rater", "https://rater.example.com/price?code=k3y")
            .with_header("Authorization", "Basic c2VjcmV0LXZhbHVl")
            .with_header("X-Tenant", "acme")
    }

    #[test]
    fn a_registration_with_an_https_url_and_headers_is_valid() {
        assert_eq!(config().validate(), Ok(()));
    }

    #[test]
    fn the_timeout_defaults_to_five_seconds_and_headers_read_as_name_value_objects() {
        let json = r#"{"name": "r", "url": "http://127.0.0.1:9/rate",
            "headers": [{"name": "Authorization", "value": "Bearer t"}, ["X-A", "b"]]}"#;
        let parsed: ExternalRaterConfig = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.timeout_ms, 5_000);
        assert_eq!(
            parsed.headers,
            vec![
                ("Authorization".to_string(), "Bearer t".to_string()),
                ("X-A".to_string(), "b".to_string())
            ]
        );
        assert_eq!(
            serde_json::to_value(&parsed).unwrap()["headers"],
            serde_json::json!([{"name": "Authorization", "value": "Bearer t"},
                               {"name": "X-A", "value": "b"}])
        );
    }

    #[test]
    fn the_redacted_view_lists_header_names_only_and_hides_the_query() {
        assert_eq!(
            config().redacted(),
            RedactedExternalRaterConfig {
                name: "my-rater".into(),
                url: "https://rater.example.com/price?<redacted>".into(),
                header_names: vec!["Authorization".into(), "X-Tenant".into()],
                timeout_ms: 5_000,
            }
        );
    }

    #[test]
    fn debug_never_shows_a_header_value() {
        let shown = format!("{:?}", config());
        assert!(!shown.contains("c2VjcmV0LXZhbHVl"), "{shown}");
        assert!(!shown.contains("acme"), "{shown}");
        assert!(shown.contains("Authorization: <redacted>"), "{shown}");
    }

    #[test]
    fn a_url_that_is_not_http_or_https_is_refused() {
        let bad = ExternalRaterConfig::new("r", "ftp://rater.example.com/");
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "external rater url is invalid: the scheme must be http or https, not ftp"
        );
    }

    #[test]
    fn a_url_with_credentials_is_refused_without_echoing_them() {
        let bad = ExternalRaterConfig::new("r", "https://user:hunter22@rater.example.com/");
        let message = bad.validate().unwrap_err().to_string();
        assert_eq!(
            message,
            "external rater url is invalid: it carries credentials; send them in a header instead"
        );
    }

    #[test]
    fn names_must_have_1_to_64_characters() {
        let named = |name: &str| ExternalRaterConfig::new(name, "http://127.0.0.1:1/").validate();
        assert_eq!(named(""), Err(ExternalRaterConfigError::InvalidName));
        assert_eq!(
            named(&"r".repeat(65)),
            Err(ExternalRaterConfigError::InvalidName)
        );
        assert_eq!(named(" r"), Err(ExternalRaterConfigError::InvalidName));
        assert_eq!(named(&"é".repeat(64)), Ok(()));
    }

    #[test]
    fn a_header_value_with_a_newline_is_refused_without_echoing_it() {
        let bad = ExternalRaterConfig::new("r", "http://127.0.0.1:1/")
            .with_header("Authorization", "Bearer s3cr3t\r\nX-Evil: 1");
        let message = bad.validate().unwrap_err().to_string();
        assert_eq!(
            message,
            "external rater header 0 (Authorization) is invalid: the value must be visible ASCII, spaces or tabs"
        );
    }

    #[test]
    fn premia_sets_content_type_itself() {
        let bad = ExternalRaterConfig::new("r", "http://127.0.0.1:1/")
            .with_header("Content-Type", "text/plain");
        assert!(matches!(
            bad.validate(),
            Err(ExternalRaterConfigError::InvalidHeader { index: 0, .. })
        ));
    }

    #[test]
    fn the_timeout_must_be_between_1_and_120000_ms() {
        let timed = |ms| {
            ExternalRaterConfig::new("r", "http://127.0.0.1:1/")
                .with_timeout_ms(ms)
                .validate()
        };
        assert_eq!(timed(0), Err(ExternalRaterConfigError::InvalidTimeout(0)));
        assert_eq!(
            timed(120_001),
            Err(ExternalRaterConfigError::InvalidTimeout(120_001))
        );
        assert_eq!(timed(120_000), Ok(()));
    }
}
