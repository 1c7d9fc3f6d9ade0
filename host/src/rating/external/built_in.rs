//! Socotra's built-in peril properties: `deductible`, `indemnityInAggregate`,
//! `indemnityPerEvent`, `indemnityPerItem` and `lumpSumPayment`, each with a
//! `<name>Currency` companion. Socotra sends them as top-level properties of
//! a peril's characteristics, not among its field values; Premia keeps them
//! as peril fields of those names.
//!
//! Rules (Premia to Socotra, [`split_built_in`]): a peril field of one of
//! those names with one value becomes the property, with its currency from
//! the field `<name>Currency` (one value) or else the policy's currency; a
//! field with several values stays a field value. Socotra to Premia: each
//! property present becomes a field of its name (see `wire_native.rs`).
//!
//! Example: fields `{"deductible": ["500.00"], "limit": ["1000"]}` in USD
//! are sent as `"deductible": "500.00", "deductibleCurrency": "USD",
//! "fieldValues": {"limit": ["1000"]}`.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Socotra's built-in amount properties of peril characteristics; each has a
/// `<name>Currency` companion.
pub const BUILT_IN_PERIL_PROPERTIES: [&str; 5] = [
    "deductible",
    "indemnityInAggregate",
    "indemnityPerEvent",
    "indemnityPerItem",
    "lumpSumPayment",
];

/// Socotra's built-in amounts of a peril's characteristics and their
/// currencies, as strings. Read from a string or a JSON number.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuiltInPerilProperties {
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub deductible: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deductible_currency: Option<String>,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub indemnity_in_aggregate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indemnity_in_aggregate_currency: Option<String>,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub indemnity_per_event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indemnity_per_event_currency: Option<String>,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub indemnity_per_item: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indemnity_per_item_currency: Option<String>,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub lump_sum_payment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lump_sum_payment_currency: Option<String>,
}

impl BuiltInPerilProperties {
    /// The property `name` (Socotra's spelling, `deductibleCurrency` too).
    pub fn get(&self, name: &str) -> Option<&String> {
        self.slot(name)?.as_ref()
    }

    /// Every property set, by Socotra's name, in [`BUILT_IN_PERIL_PROPERTIES`]
    /// order, each amount followed by its currency.
    pub fn iter(&self) -> impl Iterator<Item = (String, &String)> {
        BUILT_IN_PERIL_PROPERTIES
            .iter()
            .flat_map(|name| [name.to_string(), format!("{name}Currency")])
            .filter_map(|name| {
                let value = self.get(&name)?;
                Some((name, value))
            })
    }

    fn set(&mut self, name: &str, value: String) {
        if let Some(slot) = self.slot_mut(name) {
            *slot = Some(value);
        }
    }

    fn slot(&self, name: &str) -> Option<&Option<String>> {
        Some(match name {
            "deductible" => &self.deductible,
            "deductibleCurrency" => &self.deductible_currency,
            "indemnityInAggregate" => &self.indemnity_in_aggregate,
            "indemnityInAggregateCurrency" => &self.indemnity_in_aggregate_currency,
            "indemnityPerEvent" => &self.indemnity_per_event,
            "indemnityPerEventCurrency" => &self.indemnity_per_event_currency,
            "indemnityPerItem" => &self.indemnity_per_item,
            "indemnityPerItemCurrency" => &self.indemnity_per_item_currency,
            "lumpSumPayment" => &self.lump_sum_payment,
            "lumpSumPaymentCurrency" => &self.lump_sum_payment_currency,
            _ => return None,
        })
    }

    fn slot_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "deductible" => &mut self.deductible,
            "deductibleCurrency" => &mut self.deductible_currency,
            "indemnityInAggregate" => &mut self.indemnity_in_aggregate,
            "indemnityInAggregateCurrency" => &mut self.indemnity_in_aggregate_currency,
            "indemnityPerEvent" => &mut self.indemnity_per_event,
            "indemnityPerEventCurrency" => &mut self.indemnity_per_event_currency,
            "indemnityPerItem" => &mut self.indemnity_per_item,
            "indemnityPerItemCurrency" => &mut self.indemnity_per_item_currency,
            "lumpSumPayment" => &mut self.lump_sum_payment,
            "lumpSumPaymentCurrency" => &mut self.lump_sum_payment_currency,
            _ => return None,
        })
    }
}

/// An optional amount read from a JSON string or number (Socotra sends
/// strings; a number is read by its decimal text).
pub(super) fn text_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(Value::Number(number)) => Ok(Some(number.to_string())),
        Some(other) => Err(D::Error::custom(format!(
            "an amount is a decimal string, got {other}"
        ))),
    }
}

/// Splits a peril's fields into Socotra's built-in properties and the
/// remaining field values (see the module's rules).
///
/// Example: `{"deductible": ["250"], "deductibleCurrency": ["CAD"]}` with
/// policy currency USD gives `deductible = "250"`, `deductibleCurrency =
/// "CAD"` and no field values.
pub fn split_built_in(
    fields: &BTreeMap<String, Vec<String>>,
    currency: &str,
) -> (BuiltInPerilProperties, BTreeMap<String, Vec<String>>) {
    let mut built_in = BuiltInPerilProperties::default();
    let mut rest = fields.clone();
    for name in BUILT_IN_PERIL_PROPERTIES {
        let Some([amount]) = fields.get(name).map(Vec::as_slice) else {
            continue;
        };
        let currency_name = format!("{name}Currency");
        let amount_currency = match fields.get(&currency_name).map(Vec::as_slice) {
            Some([own]) => {
                rest.remove(&currency_name);
                own.clone()
            }
            _ => currency.to_string(),
        };
        rest.remove(name);
        built_in.set(name, amount.clone());
        built_in.set(&currency_name, amount_currency);
    }
    (built_in, rest)
}
