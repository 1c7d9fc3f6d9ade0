//! The native rating request and response, shared by every rater.
//!
//! This is also the JSON format of `premia plugin run --input`, of golden test
//! cases and of the audit trail. Amounts are decimal strings, dates ISO 8601
//! (`2025-01-01`), periods half-open `[start, end)`.
//!
//! ```json
//! {"operation": "new_business",
//!  "policy": {"locator": "P1", "product_name": "auto", "currency": "USD",
//!             "time_zone": "America/New_York",
//!             "term": {"start": "2025-01-01", "end": "2026-01-01"},
//!             "characteristics": {"locator": "PC1", "period": {...},
//!                                 "fields": {"territory": ["urban"]}},
//!             "exposures": [...]},
//!  "items": [{"locator": "PERC1", "policy_characteristics": "PC1",
//!             "exposure_characteristics": "EC1", "peril_characteristics": "PERC1"}],
//!  "segment": {"start": "2025-01-01", "end": "2026-01-01"},
//!  "currency": "USD", "time_zone": "America/New_York"}
//! ```

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The transaction being priced.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    NewBusiness,
    Endorsement,
    Renewal,
    Reinstatement,
    Cancellation,
}

/// A half-open date range `[start, end)` being priced.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A typed value of a characteristics field. In JSON: a string is text, a
/// whole number an integer, `true`/`false` a boolean, `{"number": "1.5"}` a
/// decimal and `{"date": "1990-04-01"}` a date.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Boolean(bool),
    Integer(i64),
    Text(String),
    Number {
        #[serde(with = "rust_decimal::serde::str")]
        number: Decimal,
    },
    Date {
        date: NaiveDate,
    },
}

/// A characteristics set: the data of a policy, exposure or peril in force
/// during `period`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Characteristics {
    pub locator: String,
    pub period: Segment,
    /// Field name to its values (a field may repeat).
    #[serde(default)]
    pub fields: BTreeMap<String, Vec<FieldValue>>,
}

/// A coverage of an exposure.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peril {
    pub locator: String,
    pub name: String,
    pub characteristics: Characteristics,
}

/// An insured object.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exposure {
    pub locator: String,
    pub name: String,
    pub characteristics: Characteristics,
    #[serde(default)]
    pub perils: Vec<Peril>,
}

/// The policy as it stands during the segment.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub locator: String,
    pub product_name: String,
    pub currency: String,
    pub time_zone: String,
    pub term: Segment,
    pub characteristics: Characteristics,
    #[serde(default)]
    pub exposures: Vec<Exposure>,
}

/// One thing to price.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateItem {
    pub locator: String,
    pub policy_characteristics: String,
    #[serde(default)]
    pub exposure_characteristics: Option<String>,
    #[serde(default)]
    pub peril_characteristics: Option<String>,
}

/// A request to price `items` for `segment`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    pub operation: Operation,
    pub policy: Policy,
    pub items: Vec<RateItem>,
    pub segment: Segment,
    pub currency: String,
    pub time_zone: String,
}

/// A premium as an annual rate (prorated by the duration basis) or an exact
/// amount for the segment. In JSON: `{"yearly": "765.00"}` or `{"exact": "12.00"}`.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Premium {
    Yearly(#[serde(with = "rust_decimal::serde::str")] Decimal),
    Exact(#[serde(with = "rust_decimal::serde::str")] Decimal),
}

/// A commission owed to a recipient.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commission {
    pub recipient: String,
    pub amount: Premium,
}

/// The price of one item.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricedItem {
    pub locator: String,
    /// The product charge; `None` is the product's premium charge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge: Option<String>,
    pub premium: Premium,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technical_premium: Option<Premium>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commissions: Vec<Commission>,
}

/// A charge with no duration, such as a fee.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlatCharge {
    pub charge: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// The priced items and flat charges of a rating call.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateResponse {
    pub items: Vec<PricedItem>,
    #[serde(default)]
    pub flat_charges: Vec<FlatCharge>,
}

impl RateRequest {
    /// An upper bound of the request's size on the wire, in bytes: the text
    /// it carries plus a fixed cost per value. Used to enforce input limits
    /// without serializing the request.
    pub fn approx_size_bytes(&self) -> usize {
        const VALUE_OVERHEAD_BYTES: usize = 16;
        fn characteristics_bytes(c: &Characteristics) -> usize {
            c.locator.len()
                + 2 * VALUE_OVERHEAD_BYTES
                + c.fields
                    .iter()
                    .map(|(name, values)| {
                        name.len()
                            + values
                                .iter()
                                .map(|v| match v {
                                    FieldValue::Text(t) => t.len() + VALUE_OVERHEAD_BYTES,
                                    _ => VALUE_OVERHEAD_BYTES,
                                })
                                .sum::<usize>()
                    })
                    .sum::<usize>()
        }
        let policy = &self.policy;
        let exposures: usize = policy
            .exposures
            .iter()
            .map(|e| {
                e.locator.len()
                    + e.name.len()
                    + characteristics_bytes(&e.characteristics)
                    + e.perils
                        .iter()
                        .map(|p| {
                            p.locator.len()
                                + p.name.len()
                                + characteristics_bytes(&p.characteristics)
                        })
                        .sum::<usize>()
            })
            .sum();
        let items: usize = self
            .items
            .iter()
            .map(|i| {
                i.locator.len()
                    + i.policy_characteristics.len()
                    + i.exposure_characteristics.as_ref().map_or(0, String::len)
                    + i.peril_characteristics.as_ref().map_or(0, String::len)
                    + VALUE_OVERHEAD_BYTES
            })
            .sum();
        policy.locator.len()
            + policy.product_name.len()
            + policy.currency.len()
            + policy.time_zone.len()
            + characteristics_bytes(&policy.characteristics)
            + exposures
            + items
            + self.currency.len()
            + self.time_zone.len()
            + 8 * VALUE_OVERHEAD_BYTES
    }
}
