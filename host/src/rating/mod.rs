//! Rating: the [`Rater`] trait that prices a policy's items for a segment of
//! time, and the native request and response types every rater shares.
//!
//! Three kinds of rater implement it: WebAssembly plugins
//! ([`crate::plugin`]), HTTP external raters (Socotra's wire format) and, in
//! tests, native Rust raters. Callers never know which one answered, except
//! through [`RaterIdentity`], which the audit trail records.

pub mod chain;
mod error;
pub mod external;
mod native;
pub mod schedule;
pub mod shadow;
mod types;
mod validate;

pub use chain::{RaterResolver, RaterSources, RatingChain};
pub use error::{RaterFailure, RatingError};
pub use external::{
    CallLocators, ExternalRateRequest, ExternalRater, ExternalRaterConfig,
    ExternalRaterConfigError, PolicyRecord, RatingCall, RedactedExternalRaterConfig,
};
pub use native::{FallbackRater, FieldRater};
pub use schedule::{AppliesTo, RatedFor};
pub use shadow::ShadowConfig;
pub use types::{
    Characteristics, Commission, Exposure, FieldValue, FlatCharge, Operation, Peril, Policy,
    Premium, PricedItem, RateItem, RateRequest, RateResponse, Segment,
};
pub use validate::validate_response;

/// Who priced a request: recorded with every charge so it can be explained.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RaterIdentity {
    /// A WebAssembly plugin, by id and the SHA-256 of its component bytes;
    /// with the hash of its edition (component and rate tables together)
    /// when it was configured through the log.
    Plugin {
        plugin_id: String,
        content_sha256: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        edition_sha256: Option<String>,
    },
    /// An HTTP external rater, by its registered name.
    External { name: String },
    /// A rater compiled into the host (tests and demos).
    Native { name: String },
}

/// Prices the items of a policy for one segment of its timeline.
///
/// Implementations must be pure functions of the request: the same request
/// always gives the same response, so a timeline can be re-priced and every
/// charge explained from its recorded rating call.
pub trait Rater: Send + Sync {
    /// Prices every item of `request`. The response is validated with
    /// [`validate_response`] before it is returned.
    fn rate(&self, request: &RateRequest) -> Result<RateResponse, RatingError>;

    /// Who this rater is, for the audit trail.
    fn identity(&self) -> RaterIdentity;

    /// Rates and says who actually answered (a fallback chain answers with
    /// the rater that priced the request).
    fn rate_with_identity(
        &self,
        request: &RateRequest,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        self.rate(request)
            .map(|response| (response, self.identity()))
    }

    /// Rates for a transaction, with the locators of the transaction that
    /// creates the segment (`quoteLocator`, `endorsementLocator`, ...). Only
    /// external raters send them (seed 004); every other rater ignores them.
    fn rate_with_call_locators(
        &self,
        request: &RateRequest,
        locators: &CallLocators,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        let _ = locators;
        self.rate_with_identity(request)
    }

    /// Rates for a transaction with everything the call knows: the locators
    /// and the policy record (Socotra's `PolicyResponse` beyond the request).
    /// Only external raters send the record; every other rater reads the
    /// locators as [`Rater::rate_with_call_locators`] does.
    fn rate_call(
        &self,
        request: &RateRequest,
        call: &RatingCall,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        self.rate_with_call_locators(request, &call.locators)
    }

    /// Whether [`Rater::rate_call`] reads the policy record: the host builds
    /// it only for raters that do (external raters, and chains holding
    /// one), so a plugin's calls cost nothing more.
    fn reads_policy_record(&self) -> bool {
        false
    }
}
