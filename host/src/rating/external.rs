//! HTTP external raters: a [`Rater`] that prices a request by POSTing it, in
//! Socotra's external rater format, to a registered web service.
//!
//! A rater service written for Socotra works with Premia unchanged: the
//! request is Socotra's (`operation`, `policy`, `policyExposurePerils`,
//! `tenantTimeZone`, optional locators; see [`ExternalRateRequest`]) and the
//! answer is read as Socotra reads it (`pricedPerilCharacteristics` or
//! `exceptionMessage`).
//!
//! Worked example: a new-business request for perils `PER1` and `PER2` of
//! policy `P1`, rated from 2025-03-01 in `America/New_York`, is sent as
//! `{"operation": "new_business", "policy": {...}, "policyExposurePerils":
//! [{"policyCharacteristicsLocator": "P1:2025-03-01",
//! "exposureCharacteristicsLocator": "E1:2025-03-01",
//! "perilCharacteristicsLocator": "PER1:2025-03-01"}, ...],
//! "tenantTimeZone": "America/New_York"}`. The answer
//! `{"pricedPerilCharacteristics": {"PER1:2025-03-01": {"yearlyPremium":
//! "765.00"}, "PER2:2025-03-01": {"exactPremium": "12.00"}}}` prices item
//! `PER1` at 765.00 a year and item `PER2` at exactly 12.00.
//!
//! Failures, as [`RatingError`]s:
//!
//! | what happened                                     | error                          |
//! |---------------------------------------------------|--------------------------------|
//! | `exceptionMessage` in the answer                  | `Declined(message)` (HTTP 409) |
//! | no answer within the timeout                      | `Failed { Deadline }`          |
//! | connection refused, DNS, TLS                      | `Failed { Unavailable }`       |
//! | non-2xx status, not the JSON format, a bad        | `Failed { InvalidOutput }`     |
//! | decimal, a missing premium, an unknown locator    |                                |
//! | an answer over 4 MiB                              | `Failed { OutputTooLarge }`    |
//!
//! Header values are credentials: they are sent, and never logged, shown by
//! `Debug`, or put in an error (an answer that echoes one has it replaced by
//! `<redacted>`).

mod built_in;
mod config;
mod http;
mod record;
mod request;
mod response;
mod wire_native;

pub use built_in::{BUILT_IN_PERIL_PROPERTIES, BuiltInPerilProperties, split_built_in};
pub use config::{
    DEFAULT_TIMEOUT_MS, ExternalRaterConfig, ExternalRaterConfigError, MAX_TIMEOUT_MS,
    RedactedExternalRaterConfig,
};
pub use http::{MAX_RESPONSE_BYTES, install_tls_provider};
pub use record::{
    Modification, Owner, PolicyRecord, RatingCall, RecordedCharacteristics, RecordedFee,
};
pub use request::{
    CallLocators, ExternalRateRequest, PolicyExposurePeril, WireCharacteristics, WireExposure,
    WireFee, WireModification, WirePeril, WirePolicy,
};
pub use wire_native::{ReadRequestError, declined_wire_response, priced_wire_response};

use super::{
    Operation, Premium, PricedItem, RateRequest, RateResponse, Rater, RaterFailure, RaterIdentity,
    RatingError, validate_response,
};
use reqwest::blocking::Client;
use reqwest::header::HeaderMap;
use response::Answer;
use rust_decimal::Decimal;
use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The longest decline message passed on, in characters.
const MAX_DECLINE_CHARS: usize = 1_000;
/// Header values shorter than this are not scrubbed from messages: they are
/// not credentials, and scrubbing `"1"` would garble every message.
const MIN_SECRET_CHARS: usize = 6;

/// An external rater: a name, a URL, headers and a timeout.
///
/// It blocks while it waits for the answer: call [`Rater::rate`] from a
/// blocking thread (`tokio::task::spawn_blocking`), never from async code.
/// Building one is cheap and safe anywhere; the HTTP client is made on the
/// first call.
///
/// **Cancellations** are not sent: Socotra never asks an external rater to
/// price one and its format has no flat charges (the only thing Premia asks
/// a rater for on cancellation). The rater answers locally, without a call:
/// each item priced at exactly 0 for the cancelled span, no flat charges, so
/// a product that keeps money on cancellation must say so in its
/// `cancellation_retention`.
pub struct ExternalRater {
    name: String,
    url: reqwest::Url,
    headers: HeaderMap,
    timeout_ms: u64,
    client: OnceLock<Result<Client, String>>,
    secrets: Vec<String>,
}

impl ExternalRater {
    /// A rater for a registration, checked with
    /// [`ExternalRaterConfig::validate`].
    pub fn new(config: &ExternalRaterConfig) -> Result<Self, ExternalRaterConfigError> {
        config.validate()?;
        let mut secrets = Vec::new();
        for (_, value) in &config.headers {
            secrets.push(value.clone());
            // `Basic dXNlcjpwYXNz`: the credential alone may be echoed too.
            if let Some((_, token)) = value.trim().rsplit_once(' ') {
                secrets.push(token.to_string());
            }
        }
        secrets.retain(|s| s.chars().count() >= MIN_SECRET_CHARS);
        // Longest first, so a value is scrubbed before its token.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Ok(ExternalRater {
            name: config.name.clone(),
            url: config.parsed_url()?,
            headers: config.header_map()?,
            timeout_ms: config.timeout_ms,
            client: OnceLock::new(),
            secrets,
        })
    }

    /// The registered name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The timeout of one call, in milliseconds.
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }

    /// Rates `request`, sending the optional Socotra locators (endorsement,
    /// quote, renewal ...) Premia knows for this call.
    pub fn rate_with_locators(
        &self,
        request: &RateRequest,
        locators: &CallLocators,
    ) -> Result<RateResponse, RatingError> {
        self.rate_with_call(request, &RatingCall::from(locators.clone()))
    }

    /// Rates `request`, sending the locators and the policy record of
    /// `call` (see [`PolicyRecord`]).
    pub fn rate_with_call(
        &self,
        request: &RateRequest,
        call: &RatingCall,
    ) -> Result<RateResponse, RatingError> {
        let started = std::time::Instant::now();
        let result = self.rate_with_call_unmeasured(request, call);
        let code = result.as_ref().err().map(|e| e.code()).unwrap_or_default();
        crate::telemetry::external_rater_call(started.elapsed(), code);
        result
    }

    fn rate_with_call_unmeasured(
        &self,
        request: &RateRequest,
        call: &RatingCall,
    ) -> Result<RateResponse, RatingError> {
        if request.operation == Operation::Cancellation {
            tracing::debug!(rater = %self.name, "cancellation priced locally at zero");
            return Ok(zero_response(request));
        }
        if request.items.is_empty() {
            return Ok(RateResponse {
                items: Vec::new(),
                flat_charges: Vec::new(),
            });
        }
        let wire = ExternalRateRequest::from_rating_call(request, call)?;
        let body = serde_json::to_vec(&wire)
            .map_err(|e| RatingError::InvalidInput(format!("request not serializable: {e}")))?;
        let timeout = Duration::from_millis(self.timeout_ms);
        let client = self
            .client
            .get_or_init(|| http::build_client(timeout))
            .as_ref()
            .map_err(|m| self.failed(RaterFailure::Unavailable, m))?;
        let started = Instant::now();
        let reply = http::post(client, &self.url, &self.headers, body, timeout);
        let elapsed_ms = started.elapsed().as_millis();
        let reply = reply.map_err(|(failure, message)| {
            tracing::warn!(rater = %self.name, failure = failure.code(), elapsed_ms, "external rater call failed");
            self.failed(failure, &message)
        })?;
        tracing::debug!(rater = %self.name, status = reply.status.as_u16(), elapsed_ms, bytes = reply.body.len(), "external rater answered");
        if !reply.status.is_success() {
            return Err(self.failed(RaterFailure::InvalidOutput, &self.status_message(&reply)));
        }
        match response::read_answer(request, &reply.body) {
            Ok(Answer::Declined(message)) => Err(RatingError::Declined(self.decline(&message))),
            Ok(Answer::Priced(response)) => {
                validate_response(&self.name, request, &response)?;
                Ok(response)
            }
            Err(message) => Err(self.failed(RaterFailure::InvalidOutput, &message)),
        }
    }

    /// `answered HTTP 500 Internal Server Error`, with the rater's
    /// `exceptionMessage` (scrubbed, at most 200 characters) when the body
    /// has one.
    fn status_message(&self, reply: &http::Reply) -> String {
        let mut message = format!("answered HTTP {}", reply.status);
        let exception = serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| v.get("exceptionMessage")?.as_str().map(|m| self.scrub(m)));
        if let Some(exception) = exception {
            message.push_str(": ");
            message.extend(exception.chars().take(200));
        }
        message
    }

    /// A failure of this rater, its message scrubbed of header values.
    fn failed(&self, failure: RaterFailure, message: &str) -> RatingError {
        RatingError::failed(&self.name, failure, self.scrub(message))
    }

    /// The rater's decline message for the user: scrubbed, at most 1 000
    /// characters, never empty.
    fn decline(&self, message: &str) -> String {
        let message = self.scrub(message.trim());
        if message.is_empty() {
            return format!("external rater {} declined without a message", self.name);
        }
        let mut text: String = message.chars().take(MAX_DECLINE_CHARS).collect();
        if text.len() < message.len() {
            text.push('…');
        }
        text
    }

    /// `text` with every header value (and the credential of `Scheme
    /// credential` values) replaced by `<redacted>`.
    fn scrub(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |t, secret| {
            t.replace(secret, "<redacted>")
        })
    }
}

/// Every item at exactly zero: the answer to a cancellation.
fn zero_response(request: &RateRequest) -> RateResponse {
    RateResponse {
        items: request
            .items
            .iter()
            .map(|item| PricedItem {
                locator: item.locator.clone(),
                charge: None,
                premium: Premium::Exact(Decimal::ZERO),
                technical_premium: None,
                commissions: Vec::new(),
            })
            .collect(),
        flat_charges: Vec::new(),
    }
}

impl Rater for ExternalRater {
    fn rate(&self, request: &RateRequest) -> Result<RateResponse, RatingError> {
        self.rate_with_locators(request, &CallLocators::default())
    }

    fn rate_with_call_locators(
        &self,
        request: &RateRequest,
        locators: &CallLocators,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        self.rate_with_locators(request, locators)
            .map(|response| (response, self.identity()))
    }

    fn rate_call(
        &self,
        request: &RateRequest,
        call: &RatingCall,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        self.rate_with_call(request, call)
            .map(|response| (response, self.identity()))
    }

    fn reads_policy_record(&self) -> bool {
        true
    }

    fn identity(&self) -> RaterIdentity {
        RaterIdentity::External {
            name: self.name.clone(),
        }
    }
}

impl fmt::Debug for ExternalRater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.headers.keys().map(|k| k.to_string()).collect();
        f.debug_struct("ExternalRater")
            .field("name", &self.name)
            .field("url", &config::redact_url(self.url.as_str()))
            .field("headers", &config::HeaderNames(&names))
            .field("timeout_ms", &self.timeout_ms)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
