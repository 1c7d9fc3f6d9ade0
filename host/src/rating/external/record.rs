//! What a Socotra rater may read about a policy beyond the native rating
//! request: the policy's history and bookkeeping (who holds it, when it was
//! created and last changed, its modifications, fees, and the
//! characteristics priced before), as the host knows them when it calls.
//!
//! The native [`RateRequest`](crate::rating::RateRequest) carries what a
//! price depends on; a [`PolicyRecord`] carries the rest of Socotra's
//! `PolicyResponse`, and only external raters send it (seed 004). It travels
//! beside the request in a [`RatingCall`] and is never stored: it is rebuilt
//! from the policy for every call, so it never makes two rating inputs
//! differ.
//!
//! Worked example: an endorsement `P1-T2` effective 2026-07-01 of a policy
//! issued by `P1-T1` on 2025-12-15 sends `modifications` for `P1-T1`
//! (`new_business`, effective 2026-01-01) and `P1-T2` (`endorsement`,
//! effective 2026-07-01, new characteristics `P1:2026-07-01`,
//! `V1:2026-07-01`, `V1-COLL:2026-07-01`), `createdTimestamp` of 2025-12-15
//! and, among the peril's characteristics, `V1-COLL:2026-01-01` as recorded
//! before (issued by `P1-T1`, `premium` 1200.00 for the whole year) with
//! `replacedTimestamp` the endorsement's issue time, since the endorsement
//! cuts it at 2026-07-01.

use super::request::CallLocators;
use crate::rating::{FieldValue, Segment};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

/// One rating call: the Socotra locators of the transaction and the policy
/// record. Raters other than external ones read neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RatingCall {
    pub locators: CallLocators,
    pub record: PolicyRecord,
}

impl From<CallLocators> for RatingCall {
    fn from(locators: CallLocators) -> Self {
        RatingCall {
            locators,
            record: PolicyRecord::default(),
        }
    }
}

/// The policy facts of Socotra's `PolicyResponse` that the native request
/// does not carry. Every part is optional: what is absent is not sent (or
/// sent empty, for the lists Socotra always has).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyRecord {
    /// The account that holds the policy (`policyholderLocator`).
    pub policyholder_locator: Option<String>,
    /// `productLocator`: the product and the revision the policy was issued
    /// under, `auto:3`.
    pub product_locator: Option<String>,
    /// When the first transaction was issued (`createdTimestamp`).
    pub created: Option<DateTime<Utc>>,
    /// When the transaction being priced is issued (`updatedTimestamp`).
    pub updated: Option<DateTime<Utc>>,
    /// When new business was issued, if it already was (`issuedTimestamp`).
    pub issued: Option<DateTime<Utc>>,
    /// The first term's start: `originalContractStartTimestamp`, also on a
    /// renewal.
    pub inception: Option<NaiveDate>,
    /// The first term's end (`originalContractEndTimestamp`).
    pub original_end: Option<NaiveDate>,
    /// The payment plan of the term priced (`paymentScheduleName`).
    pub payment_schedule_name: Option<String>,
    /// Every transaction in effect, in issue order.
    pub modifications: Vec<Modification>,
    /// The policy's flat fees.
    pub fees: Vec<RecordedFee>,
    /// Characteristics other than the ones the request carries: the priced
    /// timeline as recorded before the call, and the rest of the timeline
    /// after the transaction.
    pub characteristics: Vec<RecordedCharacteristics>,
}

/// A transaction, as Socotra's `PolicyModificationResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modification {
    pub locator: String,
    /// Issue order within the policy, from 1.
    pub number: u32,
    /// Socotra's operation name (`new_business`, `endorsement`, `renewal`,
    /// `cancellation`, `reinstatement`).
    pub name: String,
    pub created: DateTime<Utc>,
    pub effective: NaiveDate,
    /// Characteristics the transaction starts, by the entity they belong to.
    pub new_characteristics: Vec<(Owner, String)>,
}

/// A flat fee of the policy, as Socotra's `FeeResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedFee {
    pub locator: String,
    pub name: String,
    pub description: String,
    pub amount: Decimal,
    pub reversed: bool,
}

/// The entity a characteristics object belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    Policy,
    Exposure(String),
    Peril { exposure: String, peril: String },
}

/// A characteristics object known to the host besides those of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCharacteristics {
    pub owner: Owner,
    /// Its locator on the wire (a replaced one whose locator the timeline
    /// now gives to its successor is `<locator>~<replacing transaction>`).
    pub locator: String,
    pub period: Segment,
    /// The term it belongs to (`policyStartTimestamp`/`policyEndTimestamp`
    /// of a policy's characteristics).
    pub term: Segment,
    pub fields: crate::domain::CompactMap<String, Vec<FieldValue>>,
    /// The policy and exposure characteristics it hangs on.
    pub policy_characteristics: String,
    pub exposure_characteristics: Option<String>,
    /// When the transaction that priced it was issued.
    pub issued: Option<DateTime<Utc>>,
    /// When the transaction being priced replaces it.
    pub replaced: Option<DateTime<Utc>>,
    /// Its premium for its period, rounded to the currency (perils only,
    /// when a recorded result covers it).
    pub premium: Option<Decimal>,
    pub technical_premium: Option<Decimal>,
}
