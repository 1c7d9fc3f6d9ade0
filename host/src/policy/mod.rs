//! Policies and their transactions: new business, endorsement, renewal,
//! cancellation, reinstatement and reversal, in any order and out of
//! sequence; the priced timeline and the charges that are its difference;
//! flat, retention and reverse charges; installment slices.
//!
//! Pure state machine over the [`Rater`](crate::rating::Rater) trait: the
//! durable event log and the ledger postings are layered on top.

mod audit;
mod book;
mod cancellation;
mod charges;
mod compact_slices;
mod data;
mod dates;
mod error;
mod pricing;
mod product;
mod rating_record;
mod schedule;
pub mod shared;
mod timeline;
mod transaction;

pub use audit::{ChargeAudit, explain};
pub use book::{
    Account, AccountDetails, BillingMethod, BindOptions, BookEvent, CommandContext,
    ConfirmationNotification, PolicyBook, PolicyCommand, PolicyHeader, PolicyState, RaterResolver,
    Term, TermTimeline, TransactionRecord, is_standing,
};
pub use cancellation::{
    CancellationError, CancellationReason, CancellationRules, Kept, RefundMethod, ShortRateRow,
};
pub use charges::{Charge, ChargeExplanation, repriced_total};
pub use data::{DataChange, DataError, ExposureData, Fields, PerilData, PolicyData};
pub use dates::{
    InstallmentDater, InstallmentDatesError, KeepDates, PluginDates, frame_amounts,
    installment_locator,
};
pub use error::PolicyError;
pub use pricing::PricedSegment;
pub use product::{
    CancellationRetention, ChargeCategory, ChargeDef, Handling, Invoicing, ProductConfig,
    ProductError, RatingChain, RatingDate,
};
pub use schedule::{InstallmentSlice, is_spread, spread_period};
pub use transaction::{Transaction, TransactionChange, TransactionKind};
// Limits, gathered with the others in `crate::limits`.
pub use book::{
    COMPACT_ITEMS_MAX, CORRECTION_REASON_CHARS_MAX, NON_RENEWAL_REASON_CHARS_MAX,
    TERMS_PER_POLICY_MAX, TRANSACTIONS_PER_POLICY_MAX,
};
pub use cancellation::SHORT_RATE_ROWS_MAX;
pub use data::{EXPOSURES_MAX, PERILS_PER_EXPOSURE_MAX};
pub use product::{PRODUCT_CHARGES_MAX, PRODUCT_PLANS_MAX};
pub use shared::INTERNED_VALUES_MAX;

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) use product::tests::auto_product;
