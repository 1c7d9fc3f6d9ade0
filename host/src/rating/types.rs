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
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
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

/// Read as `#[serde(untagged)]` would read it (the variants tried in their
/// order: a boolean, an integer, a text, `{"number": ...}`, `{"date": ...}`;
/// other keys of an object are ignored), but straight from the JSON value
/// instead of buffering it and building an error for every variant that did
/// not match: policy data has several fields per exposure and peril, and
/// that was ~3% of a quote's CPU time.
impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldValueVisitor)
    }
}

struct FieldValueVisitor;

impl<'de> serde::de::Visitor<'de> for FieldValueVisitor {
    type Value = FieldValue;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(
            "a field value: a text, a whole number, true or false, \
             {\"number\": \"1.5\"} or {\"date\": \"1990-04-01\"}",
        )
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<FieldValue, E> {
        Ok(FieldValue::Boolean(value))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<FieldValue, E> {
        Ok(FieldValue::Integer(value))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<FieldValue, E> {
        i64::try_from(value)
            .map(FieldValue::Integer)
            .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(value), &self))
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<FieldValue, E> {
        Ok(FieldValue::Text(value.to_string()))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<FieldValue, E> {
        Ok(FieldValue::Text(value))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<FieldValue, A::Error> {
        use serde::de::Error;
        let mut number: Option<serde_json::Value> = None;
        let mut date: Option<serde_json::Value> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "number" if number.is_none() => number = Some(map.next_value()?),
                "date" if date.is_none() => date = Some(map.next_value()?),
                "number" | "date" => {
                    return Err(A::Error::custom(format!("duplicate field `{key}`")));
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        if let Some(serde_json::Value::String(text)) = &number
            && let Ok(value) = text.parse::<Decimal>()
        {
            return Ok(FieldValue::Number { number: value });
        }
        if let Some(serde_json::Value::String(text)) = &date
            && let Ok(value) = text.parse::<NaiveDate>()
        {
            return Ok(FieldValue::Date { date: value });
        }
        Err(A::Error::custom(
            "a field value object is {\"number\": \"<decimal>\"} or {\"date\": \"<yyyy-mm-dd>\"}",
        ))
    }
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
    #[schema(value_type = std::collections::BTreeMap<String, Vec<FieldValue>>)]
    pub fields: crate::domain::CompactMap<String, Vec<FieldValue>>,
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

#[cfg(test)]
mod tests {
    use super::FieldValue;
    use chrono::NaiveDate;
    use rust_decimal::Decimal;
    use serde::Deserialize;

    /// `FieldValue` as serde's `untagged` reads it: the reference its
    /// hand-written `Deserialize` must agree with.
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    enum Untagged {
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

    impl From<Untagged> for FieldValue {
        fn from(value: Untagged) -> Self {
            match value {
                Untagged::Boolean(v) => FieldValue::Boolean(v),
                Untagged::Integer(v) => FieldValue::Integer(v),
                Untagged::Text(v) => FieldValue::Text(v),
                Untagged::Number { number } => FieldValue::Number { number },
                Untagged::Date { date } => FieldValue::Date { date },
            }
        }
    }

    #[test]
    fn field_values_are_read_exactly_as_untagged_serde_reads_them() {
        for json in [
            r#"true"#,
            r#"false"#,
            r#"30"#,
            r#"-7"#,
            r#"9223372036854775807"#,
            r#"9223372036854775808"#,
            r#"1.5"#,
            r#""urban""#,
            r#""""#,
            r#""caf\u00e9""#,
            r#"{"number": "1.50"}"#,
            r#"{"number": "-0.001", "note": 1}"#,
            r#"{"number": 1.5}"#,
            r#"{"number": "abc"}"#,
            r#"{"date": "1990-04-01"}"#,
            r#"{"date": "1990-02-30"}"#,
            r#"{"number": "2", "date": "1990-04-01"}"#,
            r#"{"number": "x", "date": "1990-04-01"}"#,
            r#"{}"#,
            r#"{"other": "1"}"#,
            r#"null"#,
            r#"[1]"#,
        ] {
            let ours = serde_json::from_str::<FieldValue>(json).ok();
            let reference = serde_json::from_str::<Untagged>(json)
                .ok()
                .map(FieldValue::from);
            assert_eq!(ours, reference, "{json}");
        }
        assert_eq!(
            serde_json::from_str::<FieldValue>(r#"{"number": "1.50"}"#).unwrap(),
            FieldValue::Number {
                number: Decimal::new(150, 2)
            }
        );
    }

    #[test]
    fn a_field_value_that_is_none_of_the_kinds_says_what_is_expected() {
        let error = serde_json::from_str::<FieldValue>("1.5").unwrap_err();
        assert!(
            error.to_string().contains(r#"{"number": "1.5"}"#),
            "{error}"
        );
        let error = serde_json::from_str::<FieldValue>(r#"{"when": "1990-04-01"}"#).unwrap_err();
        assert!(error.to_string().contains("date"), "{error}");
    }
}
