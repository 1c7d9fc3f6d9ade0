//! Errors of policy commands: each with a stable code for API problems.

use super::data::DataError;
use super::dates::InstallmentDatesError;
use super::product::ProductError;
use crate::rating::RatingError;

/// Why a policy command was refused. A refused command changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("no account {0}")]
    UnknownAccount(String),
    #[error("account {0} already exists")]
    DuplicateAccount(String),
    #[error("no policy {0}")]
    UnknownPolicy(String),
    #[error("policy {0} already exists")]
    DuplicatePolicy(String),
    #[error("no product {0} is deployed")]
    UnknownProduct(String),
    #[error("product {product} has no installment plan {plan}")]
    UnknownPlan { product: String, plan: String },
    #[error("no transaction {0} on this policy")]
    UnknownTransaction(String),
    #[error("{0}")]
    InvalidProduct(#[from] ProductError),
    #[error("{0}")]
    InvalidData(#[from] DataError),
    #[error("effective date {date} is outside every term of policy {policy}")]
    OutsideTerm {
        policy: String,
        date: chrono::NaiveDate,
    },
    #[error("policy {policy} is not in force on {date}")]
    NotInForce {
        policy: String,
        date: chrono::NaiveDate,
    },
    #[error("policy {policy} is not cancelled on {date}: nothing to reinstate")]
    NotCancelled {
        policy: String,
        date: chrono::NaiveDate,
    },
    #[error("policy {policy} is not renewed: it ends on {ends_on}")]
    NotRenewed {
        policy: String,
        ends_on: chrono::NaiveDate,
    },
    #[error(
        "a non-renewal of policy {policy} must be given {notice_days} days before its end on \
         {ends_on}; today is {today}"
    )]
    NoticeTooLate {
        policy: String,
        notice_days: u32,
        ends_on: chrono::NaiveDate,
        today: chrono::NaiveDate,
    },
    #[error("the product's rating names {0}, which is not uploaded or registered")]
    UnknownRater(String),
    #[error("policy {policy} has no term {term}")]
    UnknownTerm { policy: String, term: u32 },
    #[error("no version {version} of plugin {plugin} can rate: {detail}")]
    UnknownRateVersion {
        plugin: String,
        version: String,
        detail: String,
    },
    #[error("term {term} is already rated by version {version}")]
    RateVersionUnchanged { term: u32, version: String },
    #[error(
        "product {0} rates with no plugin named without a version: it has no rate versions to correct with"
    )]
    RateCorrectionUnsupported(String),
    #[error(
        "transaction {0} is a rate correction; correct the rates again with the earlier version instead"
    )]
    CorrectionNotReversible(String),
    #[error("a rate correction needs a reason of 1 to {0} characters")]
    BadCorrectionReason(usize),
    #[error("transaction {0} is already reversed")]
    AlreadyReversed(String),
    #[error("transaction {0} is a reversal; a reversal cannot be reversed")]
    ReversalOfReversal(String),
    #[error("the rater returned charge {0}, which the product does not define with that handling")]
    UndefinedCharge(String),
    #[error("rating failed: {0}")]
    Rating(#[from] RatingError),
    #[error("{0}")]
    InstallmentDates(#[from] InstallmentDatesError),
    #[error("{0}")]
    Invalid(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl PolicyError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::UnknownAccount(_) => "account_not_found",
            PolicyError::DuplicateAccount(_) => "account_exists",
            PolicyError::UnknownPolicy(_) => "policy_not_found",
            PolicyError::DuplicatePolicy(_) => "policy_exists",
            PolicyError::UnknownProduct(_) => "product_not_found",
            PolicyError::UnknownPlan { .. } => "plan_not_found",
            PolicyError::UnknownTransaction(_) => "transaction_not_found",
            PolicyError::InvalidProduct(_) => "invalid_product",
            PolicyError::InvalidData(_) => "invalid_policy_data",
            PolicyError::OutsideTerm { .. } => "outside_term",
            PolicyError::NotInForce { .. } => "policy_not_in_force",
            PolicyError::NotCancelled { .. } => "policy_not_cancelled",
            PolicyError::NotRenewed { .. } => "policy_not_renewed",
            PolicyError::NoticeTooLate { .. } => "non_renewal_notice_too_late",
            PolicyError::UnknownRater(_) => "product_rater_unknown",
            PolicyError::UnknownTerm { .. } => "term_not_found",
            PolicyError::UnknownRateVersion { .. } => "rate_version_unknown",
            PolicyError::RateVersionUnchanged { .. } => "rate_version_unchanged",
            PolicyError::RateCorrectionUnsupported(_) => "rate_correction_unsupported",
            PolicyError::CorrectionNotReversible(_) => "rate_correction_not_reversible",
            PolicyError::BadCorrectionReason(_) => "invalid_correction_reason",
            PolicyError::AlreadyReversed(_) => "already_reversed",
            PolicyError::ReversalOfReversal(_) => "reversal_not_reversible",
            PolicyError::UndefinedCharge(_) => "undefined_charge",
            PolicyError::Rating(RatingError::Declined(_)) => "rating_declined",
            PolicyError::Rating(RatingError::InvalidInput(_)) => "rating_invalid_input",
            PolicyError::Rating(RatingError::Failed { failure, .. }) => failure.code(),
            PolicyError::InstallmentDates(error) => error.code(),
            PolicyError::Invalid(_) => "invalid_request",
            PolicyError::Internal(_) => "internal",
        }
    }
}
