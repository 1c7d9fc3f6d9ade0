//! Errors of policy commands: each with a stable code for API problems.

use super::data::DataError;
use super::dates::InstallmentDatesError;
use super::product::ProductError;
use crate::domain::ErrorKind;
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
    #[error("{what} bills in {currency}, product {product} in {product_currency}")]
    CurrencyMismatch {
        what: String,
        currency: crate::domain::Currency,
        product: String,
        product_currency: crate::domain::Currency,
    },
    #[error("an account's name is 1 to {0} characters")]
    BadAccountName(usize),
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
    #[error("a policy has at most {0} terms")]
    TooManyTerms(usize),
    #[error("a policy has at most {0} transactions")]
    TooManyTransactions(usize),
    #[error("a non-renewal needs a reason of 1 to {0} characters")]
    BadNonRenewalReason(usize),
    #[error("invalid time zone: {0}")]
    BadTimeZone(String),
    #[error("a term cannot be made from that start: {0}")]
    BadTerm(String),
    #[error("{0:?}: a locator is 1-64 letters, digits, '-', '_' or '.'")]
    BadLocator(String),
    #[error("policy {policy} is not on account {account}")]
    PolicyNotOnAccount { policy: String, account: String },
    #[error("amount {amount} must be non-zero and in whole {currency} minor units")]
    BadAmount {
        amount: rust_decimal::Decimal,
        currency: crate::domain::Currency,
    },
    #[error("name 1 to {0} charges to reverse")]
    BadChargeList(usize),
    #[error("charge {0} is named twice")]
    ChargeNamedTwice(String),
    #[error("no charge {charge} on account {account}")]
    UnknownCharge { charge: String, account: String },
    #[error("charge {0} is not a flat charge; reverse its transaction instead")]
    NotAFlatCharge(String),
    #[error("charge {0} is a reverse charge and cannot be reversed")]
    ReverseOfReverseCharge(String),
    #[error("charge {0} is already reversed")]
    ChargeAlreadyReversed(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("agency bill needs the producer of record: give `producer`")]
    AgencyWithoutProducer,
    #[error("product {product} does not allow the billing method {method:?}")]
    BillingMethodNotAllowed {
        product: String,
        method: crate::policy::BillingMethod,
    },
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
            PolicyError::CurrencyMismatch { .. } => "currency_mismatch",
            PolicyError::BadAccountName(_) => "invalid_account_name",
            PolicyError::UnknownTerm { .. } => "term_not_found",
            PolicyError::UnknownRateVersion { .. } => "rate_version_unknown",
            PolicyError::RateVersionUnchanged { .. } => "rate_version_unchanged",
            PolicyError::RateCorrectionUnsupported(_) => "rate_correction_unsupported",
            PolicyError::CorrectionNotReversible(_) => "rate_correction_not_reversible",
            PolicyError::BadCorrectionReason(_) => "invalid_correction_reason",
            PolicyError::AlreadyReversed(_) => "already_reversed",
            PolicyError::ReversalOfReversal(_) => "reversal_not_reversible",
            PolicyError::UndefinedCharge(_) => "undefined_charge",
            PolicyError::Rating(error) => error.code(),
            PolicyError::InstallmentDates(error) => error.code(),
            PolicyError::TooManyTerms(_) => "too_many_terms",
            PolicyError::TooManyTransactions(_) => "too_many_transactions",
            PolicyError::BadNonRenewalReason(_) => "invalid_non_renewal_reason",
            PolicyError::BadTimeZone(_) => "invalid_time_zone",
            PolicyError::BadTerm(_) => "invalid_term",
            PolicyError::BadLocator(_) => "invalid_locator",
            PolicyError::PolicyNotOnAccount { .. } => "policy_not_on_account",
            PolicyError::BadAmount { .. } => "invalid_amount",
            PolicyError::BadChargeList(_) => "invalid_charge_list",
            PolicyError::ChargeNamedTwice(_) => "invalid_charge_list",
            PolicyError::UnknownCharge { .. } => "charge_not_found",
            PolicyError::NotAFlatCharge(_) | PolicyError::ReverseOfReverseCharge(_) => {
                "charge_not_reversible"
            }
            PolicyError::ChargeAlreadyReversed(_) => "already_reversed",
            PolicyError::Internal(_) => "internal",
            PolicyError::AgencyWithoutProducer => "agency_without_producer",
            PolicyError::BillingMethodNotAllowed { .. } => "billing_method_not_allowed",
        }
    }

    /// How the refusal is answered.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PolicyError::UnknownAccount(_)
            | PolicyError::UnknownPolicy(_)
            | PolicyError::UnknownProduct(_)
            | PolicyError::UnknownPlan { .. }
            | PolicyError::UnknownTransaction(_)
            | PolicyError::UnknownTerm { .. }
            | PolicyError::UnknownCharge { .. } => ErrorKind::NotFound,
            PolicyError::DuplicateAccount(_)
            | PolicyError::DuplicatePolicy(_)
            | PolicyError::NotInForce { .. }
            | PolicyError::NotCancelled { .. }
            | PolicyError::NotRenewed { .. }
            | PolicyError::RateVersionUnchanged { .. }
            | PolicyError::CorrectionNotReversible(_)
            | PolicyError::AlreadyReversed(_)
            | PolicyError::ReversalOfReversal(_)
            | PolicyError::NotAFlatCharge(_)
            | PolicyError::ReverseOfReverseCharge(_)
            | PolicyError::ChargeAlreadyReversed(_) => ErrorKind::Conflict,
            PolicyError::InvalidProduct(_)
            | PolicyError::InvalidData(_)
            | PolicyError::OutsideTerm { .. }
            | PolicyError::NoticeTooLate { .. }
            | PolicyError::CurrencyMismatch { .. }
            | PolicyError::BadAccountName(_)
            | PolicyError::UnknownRater(_)
            | PolicyError::UnknownRateVersion { .. }
            | PolicyError::RateCorrectionUnsupported(_)
            | PolicyError::BadCorrectionReason(_)
            | PolicyError::UndefinedCharge(_)
            | PolicyError::TooManyTerms(_)
            | PolicyError::TooManyTransactions(_)
            | PolicyError::BadNonRenewalReason(_)
            | PolicyError::BadTimeZone(_)
            | PolicyError::BadTerm(_)
            | PolicyError::BadLocator(_)
            | PolicyError::PolicyNotOnAccount { .. }
            | PolicyError::BadAmount { .. }
            | PolicyError::BadChargeList(_)
            | PolicyError::ChargeNamedTwice(_)
            | PolicyError::AgencyWithoutProducer
            | PolicyError::BillingMethodNotAllowed { .. } => ErrorKind::Invalid,
            PolicyError::Rating(error) => error.kind(),
            PolicyError::InstallmentDates(error) => error.kind(),
            PolicyError::Internal(_) => ErrorKind::Internal,
        }
    }
}
