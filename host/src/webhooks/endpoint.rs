//! A webhook endpoint: where a tenant's messages go (an `http` or `https`
//! URL with no credentials in it), which event types it receives, whether
//! it is enabled, and the reference of its secret (kept encrypted in the
//! secret area, never in an event or an answer).

use super::error::WebhookError;
use super::schema::is_event_type;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The most endpoints a tenant may have.
pub const ENDPOINTS_PER_TENANT_MAX: usize = 20;
/// The longest URL an endpoint may have.
pub const URL_CHARS_MAX: usize = 2_048;
/// The longest description.
pub const DESCRIPTION_CHARS_MAX: usize = 256;
/// How long the secret a rotation replaces keeps signing beside the new
/// one (Standard Webhooks receivers verify any of the signatures).
pub const PREVIOUS_SECRET_VALID_HOURS: i64 = 24;

/// An endpoint as the tenant's state keeps it.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `ep_1`, `ep_2`, ... in order of creation.
    pub id: String,
    pub url: String,
    /// The event types it receives (see `GET /v1/webhooks/event-types`).
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: String,
    pub status: EndpointStatus,
    /// Where its secret is kept (encrypted; never the secret itself).
    pub secret_ref: String,
    /// The secret a rotation replaced, still signing until `valid_until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<PreviousSecret>,
    /// Messages of events after this sequence of the tenant's log are
    /// delivered (the endpoint hears what happens after it was made).
    pub delivers_after: u64,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// The secret a rotation replaced.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousSecret {
    pub secret_ref: String,
    pub valid_until: DateTime<Utc>,
}

/// Whether an endpoint receives messages.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum EndpointStatus {
    Enabled,
    /// Disabled by staff, or by delivery: the receiver answered `410 Gone`,
    /// or every attempt failed for three days (`failing`).
    Disabled {
        reason: DisableReason,
    },
}

/// Why an endpoint was disabled.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisableReason {
    /// By a person, through the API.
    Requested,
    /// The receiver answered `410 Gone`.
    Gone,
    /// Every delivery attempt failed for three days.
    Failing,
}

impl Endpoint {
    pub fn is_enabled(&self) -> bool {
        self.status == EndpointStatus::Enabled
    }

    /// Whether it receives messages of `event_type`.
    pub fn receives(&self, event_type: &str) -> bool {
        self.event_types.iter().any(|t| t == event_type)
    }
}

/// Checks a URL: `http` or `https`, a host, no user name or password, no
/// fragment, at most [`URL_CHARS_MAX`] characters, and not one no message
/// can ever reach: port 0, or an unspecified, multicast or broadcast
/// address (`0.0.0.0`, `[::]`, `224.0.0.1`, `255.255.255.255`).
pub fn check_url(url: &str) -> Result<(), WebhookError> {
    let bad = |why| WebhookError::BadUrl {
        url: url.chars().take(200).collect(),
        why,
    };
    if url.chars().count() > URL_CHARS_MAX {
        return Err(bad("longer than 2048 characters"));
    }
    let parsed = url::Url::parse(url).map_err(|_| bad("not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("not http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("credentials belong in the signature, not the URL"));
    }
    if parsed.fragment().is_some() {
        return Err(bad("a fragment is never sent"));
    }
    if parsed.port() == Some(0) {
        return Err(bad("unreachable: port 0"));
    }
    let unreachable = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast(),
        Some(url::Host::Ipv6(ip)) => ip.is_unspecified() || ip.is_multicast(),
        _ => false,
    };
    if unreachable {
        return Err(bad("unreachable: not an address a request can go to"));
    }
    Ok(())
}

/// Checks event types: at least one, each known; returns them sorted
/// without repeats.
pub fn check_event_types(types: &[String]) -> Result<Vec<String>, WebhookError> {
    if types.is_empty() {
        return Err(WebhookError::NoEventTypes);
    }
    let mut checked: Vec<String> = Vec::with_capacity(types.len());
    for event_type in types {
        if !is_event_type(event_type) {
            return Err(WebhookError::UnknownEventType(
                event_type.chars().take(100).collect(),
            ));
        }
        checked.push(event_type.clone());
    }
    checked.sort();
    checked.dedup();
    Ok(checked)
}

/// Checks a description's length.
pub fn check_description(description: &str) -> Result<(), WebhookError> {
    if description.chars().count() > DESCRIPTION_CHARS_MAX {
        return Err(WebhookError::DescriptionTooLong {
            max: DESCRIPTION_CHARS_MAX,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_and_https_urls_with_a_host_are_accepted() {
        check_url("https://hooks.example.com/premia?x=1").unwrap();
        check_url("http://127.0.0.1:9000/in").unwrap();
    }

    #[test]
    fn other_schemes_credentials_fragments_and_non_urls_are_refused() {
        for url in [
            "ftp://example.com/x",
            "file:///etc/passwd",
            "https://user:pw@example.com/x",
            "https://token@example.com/x",
            "https://example.com/x#part",
            "http://0.0.0.0/in",
            "http://[::]:8080/in",
            "http://224.0.0.1/in",
            "http://255.255.255.255/in",
            "http://example.com:0/in",
            "not a url",
            "",
        ] {
            let error = check_url(url).unwrap_err();
            assert_eq!(error.code(), "invalid_webhook_url", "{url}");
        }
        let long = format!("https://example.com/{}", "a".repeat(URL_CHARS_MAX));
        assert_eq!(check_url(&long).unwrap_err().code(), "invalid_webhook_url");
    }

    #[test]
    fn event_types_are_known_sorted_and_not_repeated() {
        let types = check_event_types(&[
            "invoice.issued".into(),
            "term.confirmed".into(),
            "invoice.issued".into(),
        ])
        .unwrap();
        assert_eq!(types, vec!["invoice.issued", "term.confirmed"]);
        assert_eq!(
            check_event_types(&["invoice.eaten".into()]).unwrap_err(),
            WebhookError::UnknownEventType("invoice.eaten".into())
        );
        assert_eq!(
            check_event_types(&[]).unwrap_err(),
            WebhookError::NoEventTypes
        );
    }
}
