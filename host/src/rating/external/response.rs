//! Reading an external rater's answer: Socotra's
//! `pricedPerilCharacteristics` map, or an `exceptionMessage`.
//!
//! Rules:
//!
//! - `exceptionMessage` (any non-null value) declines the request with that
//!   message, whatever else the body holds.
//! - Each priced entry needs `yearlyPremium` or `exactPremium` (exact wins
//!   when both are given). `premium` and `technicalPremium` are aliases of
//!   `yearlyPremium` and `yearlyTechnicalPremium`; the full name wins when
//!   both are given.
//! - Amounts are decimal strings (`"765.00"`). A JSON number is accepted by
//!   its decimal text, as a Jackson-based Socotra would coerce it; a rater
//!   should send strings.
//! - Commissions need a `recipient` and `yearlyAmount` or `exactAmount`
//!   (exact wins).
//! - Unknown fields are ignored, so a rater built for Socotra works as is.
//!
//! Example: `{"pricedPerilCharacteristics": {"PER1:2025-03-01":
//! {"yearlyPremium": "765.00", "exactPremium": "12.00"}}}` prices the item
//! whose peril characteristics is `PER1:2025-03-01` at exactly 12.00.

#[cfg(doc)]
use crate::rating::RatingError;
use crate::rating::{Commission, Premium, PricedItem, RateRequest, RateResponse};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

/// An external rater's answer, before it becomes a [`RatingError`] or a
/// [`RateResponse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The rater priced the request.
    Priced(RateResponse),
    /// The rater sent an `exceptionMessage`.
    Declined(String),
}

/// The body of Socotra's external rater response.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResponse {
    #[serde(default)]
    priced_peril_characteristics: Option<BTreeMap<String, WirePriced>>,
    #[serde(default)]
    exception_message: Option<Value>,
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePriced {
    #[serde(default)]
    yearly_premium: Option<Value>,
    #[serde(default)]
    premium: Option<Value>,
    #[serde(default)]
    exact_premium: Option<Value>,
    #[serde(default)]
    yearly_technical_premium: Option<Value>,
    #[serde(default)]
    technical_premium: Option<Value>,
    #[serde(default)]
    exact_technical_premium: Option<Value>,
    #[serde(default)]
    commissions: Option<Vec<WireCommission>>,
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCommission {
    #[serde(default)]
    recipient: Option<String>,
    #[serde(default)]
    yearly_amount: Option<Value>,
    #[serde(default)]
    exact_amount: Option<Value>,
}

/// A decimal from a JSON string or number; `Ok(None)` for absent or null.
fn decimal(value: Option<&Value>, what: &str) -> Result<Option<Decimal>, String> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(format!("{what} must be a decimal string, got {other}")),
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map(Some)
        .map_err(|_| format!("{what} {text:?} is not a decimal"))
}

/// `exact` if given, else `yearly`, else `None`.
fn premium(
    exact: Option<&Value>,
    yearly: Option<&Value>,
    what: &str,
) -> Result<Option<Premium>, String> {
    let exact_value = decimal(exact, &format!("exact{what}"))?;
    let yearly_value = decimal(yearly, &format!("yearly{what}"))?;
    Ok(exact_value
        .map(Premium::Exact)
        .or(yearly_value.map(Premium::Yearly)))
}

/// `primary` unless it is absent or null, else `alias`.
fn or_alias<'a>(primary: &'a Option<Value>, alias: &'a Option<Value>) -> Option<&'a Value> {
    match primary {
        None | Some(Value::Null) => alias.as_ref(),
        Some(value) => Some(value),
    }
}

fn priced_item(locator: &str, priced: &WirePriced) -> Result<PricedItem, String> {
    let item_premium = premium(
        priced.exact_premium.as_ref(),
        or_alias(&priced.yearly_premium, &priced.premium),
        "Premium",
    )?
    .ok_or_else(|| "no yearlyPremium or exactPremium".to_string())?;
    let technical_premium = premium_of_technical(priced)?;
    let commissions = priced
        .commissions
        .iter()
        .flatten()
        .enumerate()
        .map(|(index, c)| {
            let recipient = c
                .recipient
                .clone()
                .filter(|r| !r.is_empty())
                .ok_or_else(|| format!("commission {index} has no recipient"))?;
            let amount = premium(c.exact_amount.as_ref(), c.yearly_amount.as_ref(), "Amount")
                .map_err(|m| format!("commission {index}: {m}"))?
                .ok_or_else(|| format!("commission {index} has no yearlyAmount or exactAmount"))?;
            Ok(Commission { recipient, amount })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(PricedItem {
        locator: locator.to_string(),
        charge: None,
        premium: item_premium,
        technical_premium,
        commissions,
    })
}

fn premium_of_technical(priced: &WirePriced) -> Result<Option<Premium>, String> {
    premium(
        priced.exact_technical_premium.as_ref(),
        or_alias(&priced.yearly_technical_premium, &priced.technical_premium),
        "TechnicalPremium",
    )
}

/// Reads `body` as the answer to `request`: each priced peril
/// characteristics locator is mapped back to the request item it prices,
/// and items come back in the request's order.
///
/// Errors are plain messages; the caller makes them `InvalidOutput`.
pub fn read_answer(request: &RateRequest, body: &[u8]) -> Result<Answer, String> {
    let wire: WireResponse = serde_json::from_slice(body)
        .map_err(|e| format!("the response is not an external rater response: {e}"))?;
    match wire.exception_message {
        None | Some(Value::Null) => {}
        Some(Value::String(message)) => return Ok(Answer::Declined(message)),
        Some(other) => return Ok(Answer::Declined(other.to_string())),
    }
    let priced = wire.priced_peril_characteristics.ok_or_else(|| {
        "the response has neither pricedPerilCharacteristics nor exceptionMessage".to_string()
    })?;
    let items_by_peril: HashMap<&str, &str> = request
        .items
        .iter()
        .filter_map(|i| Some((i.peril_characteristics.as_deref()?, i.locator.as_str())))
        .collect();
    if let Some(unknown) = priced
        .keys()
        .find(|k| !items_by_peril.contains_key(k.as_str()))
    {
        return Err(format!("peril characteristics {unknown} was not requested"));
    }
    let mut items = Vec::with_capacity(request.items.len());
    for item in &request.items {
        let Some(peril) = item.peril_characteristics.as_deref() else {
            continue;
        };
        let entry = priced.get(peril).ok_or_else(|| {
            format!(
                "peril characteristics {peril} (item {}) was not priced",
                item.locator
            )
        })?;
        items.push(
            priced_item(&item.locator, entry)
                .map_err(|m| format!("peril characteristics {peril}: {m}"))?,
        );
    }
    Ok(Answer::Priced(RateResponse {
        items,
        flat_charges: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::external::test_support::sample_request;
    use rust_decimal_macros::dec;

    fn read(body: &str) -> Result<Answer, String> {
        read_answer(&sample_request(), body.as_bytes())
    }

    fn priced(body: &str) -> Vec<PricedItem> {
        match read(body) {
            Ok(Answer::Priced(response)) => response.items,
            other => panic!("not priced: {other:?}"),
        }
    }

    #[test]
    fn exact_wins_over_yearly_and_items_follow_the_request_order() {
        let items = priced(
            r#"{"pricedPerilCharacteristics": {
                "PER2:2025-03-01": {"yearlyPremium": "300.00"},
                "PER1:2025-03-01": {"yearlyPremium": "765.00", "exactPremium": "12.00"}}}"#,
        );
        assert_eq!(items[0].locator, "PER1");
        assert_eq!(items[0].premium, Premium::Exact(dec!(12.00)));
        assert_eq!(items[1].locator, "PER2");
        assert_eq!(items[1].premium, Premium::Yearly(dec!(300.00)));
    }

    #[test]
    fn the_full_name_wins_over_its_alias() {
        let items = priced(
            r#"{"pricedPerilCharacteristics": {
                "PER1:2025-03-01": {"yearlyPremium": "1.00", "premium": "2.00",
                                    "yearlyTechnicalPremium": "0.50", "technicalPremium": "0.70"},
                "PER2:2025-03-01": {"premium": "3.00", "technicalPremium": "0.90"}}}"#,
        );
        assert_eq!(items[0].premium, Premium::Yearly(dec!(1.00)));
        assert_eq!(
            items[0].technical_premium,
            Some(Premium::Yearly(dec!(0.50)))
        );
        assert_eq!(items[1].premium, Premium::Yearly(dec!(3.00)));
        assert_eq!(
            items[1].technical_premium,
            Some(Premium::Yearly(dec!(0.90)))
        );
    }

    #[test]
    fn a_json_number_is_read_by_its_decimal_text() {
        let items = priced(
            r#"{"pricedPerilCharacteristics": {
                "PER1:2025-03-01": {"yearlyPremium": 765.1},
                "PER2:2025-03-01": {"exactPremium": 12}}}"#,
        );
        assert_eq!(items[0].premium, Premium::Yearly(dec!(765.1)));
        assert_eq!(items[1].premium, Premium::Exact(dec!(12)));
    }

    #[test]
    fn an_exception_message_declines_even_beside_prices() {
        assert_eq!(
            read(r#"{"pricedPerilCharacteristics": {}, "exceptionMessage": "Driver too young"}"#),
            Ok(Answer::Declined("Driver too young".into()))
        );
    }

    #[test]
    fn a_commission_without_an_amount_is_invalid() {
        assert_eq!(
            read(
                r#"{"pricedPerilCharacteristics": {
                "PER1:2025-03-01": {"yearlyPremium": "1", "commissions": [{"recipient": "a"}]},
                "PER2:2025-03-01": {"yearlyPremium": "1"}}}"#
            ),
            Err("peril characteristics PER1:2025-03-01: commission 0 has no yearlyAmount or exactAmount".into())
        );
    }

    #[test]
    fn a_missing_peril_characteristics_is_named_with_its_item() {
        assert_eq!(
            read(r#"{"pricedPerilCharacteristics": {"PER1:2025-03-01": {"yearlyPremium": "1"}}}"#),
            Err("peril characteristics PER2:2025-03-01 (item PER2) was not priced".into())
        );
    }

    #[test]
    fn a_body_without_either_field_is_invalid() {
        assert_eq!(
            read(r#"{"premiums": {}}"#),
            Err("the response has neither pricedPerilCharacteristics nor exceptionMessage".into())
        );
    }

    #[test]
    fn a_boolean_premium_is_not_a_decimal() {
        assert_eq!(
            read(
                r#"{"pricedPerilCharacteristics": {
                "PER1:2025-03-01": {"yearlyPremium": true},
                "PER2:2025-03-01": {"yearlyPremium": "1"}}}"#
            ),
            Err("peril characteristics PER1:2025-03-01: yearlyPremium must be a decimal string, got true".into())
        );
    }
}
