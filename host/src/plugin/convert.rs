//! Conversions between the host's native rating types and the WIT types a
//! plugin sees. Output conversions parse every decimal and fail with a plain
//! message that the runtime turns into an `invalid output` error.

use super::bindings::{wit_rating as wr, wit_types as wt};
use crate::rating::{
    Characteristics, Commission, FieldValue, FlatCharge, Operation, Policy, Premium, PricedItem,
    RateRequest, RateResponse, Segment,
};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::str::FromStr;

pub fn date_to_wit(date: NaiveDate) -> wt::Date {
    wt::Date {
        year: date.year(),
        month: date.month() as u8,
        day: date.day() as u8,
    }
}

pub fn date_from_wit(date: wt::Date) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(date.year, u32::from(date.month), u32::from(date.day))
        .ok_or_else(|| format!("{}-{}-{} is not a date", date.year, date.month, date.day))
}

pub fn period_to_wit(segment: Segment) -> wt::Period {
    wt::Period {
        start: date_to_wit(segment.start),
        end: date_to_wit(segment.end),
    }
}

fn operation_to_wit(operation: Operation) -> wt::Operation {
    match operation {
        Operation::NewBusiness => wt::Operation::NewBusiness,
        Operation::Endorsement => wt::Operation::Endorsement,
        Operation::Renewal => wt::Operation::Renewal,
        Operation::Reinstatement => wt::Operation::Reinstatement,
        Operation::Cancellation => wt::Operation::Cancellation,
    }
}

fn field_value_to_wit(value: &FieldValue) -> wt::FieldValue {
    match value {
        FieldValue::Boolean(b) => wt::FieldValue::Boolean(*b),
        FieldValue::Integer(i) => wt::FieldValue::Integer(*i),
        FieldValue::Text(t) => wt::FieldValue::Text(t.clone()),
        FieldValue::Number { number } => wt::FieldValue::Number(number.to_string()),
        FieldValue::Date { date } => wt::FieldValue::Date(date_to_wit(*date)),
    }
}

fn characteristics_to_wit(c: &Characteristics) -> wt::Characteristics {
    wt::Characteristics {
        locator: c.locator.clone(),
        period: period_to_wit(c.period),
        fields: c
            .fields
            .iter()
            .map(|(name, values)| wt::Field {
                name: name.clone(),
                values: values.iter().map(field_value_to_wit).collect(),
            })
            .collect(),
    }
}

fn policy_to_wit(policy: &Policy) -> wt::Policy {
    wt::Policy {
        locator: policy.locator.clone(),
        product_name: policy.product_name.clone(),
        currency: policy.currency.clone(),
        time_zone: policy.time_zone.clone(),
        term: period_to_wit(policy.term),
        characteristics: characteristics_to_wit(&policy.characteristics),
        exposures: policy
            .exposures
            .iter()
            .map(|e| wt::Exposure {
                locator: e.locator.clone(),
                name: e.name.clone(),
                characteristics: characteristics_to_wit(&e.characteristics),
                perils: e
                    .perils
                    .iter()
                    .map(|p| wt::Peril {
                        locator: p.locator.clone(),
                        name: p.name.clone(),
                        characteristics: characteristics_to_wit(&p.characteristics),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The WIT form of a native rating request.
pub fn rate_request_to_wit(request: &RateRequest) -> wr::RateRequest {
    wr::RateRequest {
        operation: operation_to_wit(request.operation),
        policy: policy_to_wit(&request.policy),
        items: request
            .items
            .iter()
            .map(|i| wr::RateItem {
                locator: i.locator.clone(),
                policy_characteristics: i.policy_characteristics.clone(),
                exposure_characteristics: i.exposure_characteristics.clone(),
                peril_characteristics: i.peril_characteristics.clone(),
            })
            .collect(),
        segment: period_to_wit(request.segment),
        currency: request.currency.clone(),
        time_zone: request.time_zone.clone(),
    }
}

/// Parses a decimal a plugin returned; `what` names it in the error.
pub fn parse_decimal(text: &str, what: &str) -> Result<Decimal, String> {
    Decimal::from_str(text).map_err(|_| format!("{what}: {text:?} is not a decimal"))
}

fn premium_from_wit(amount: &wt::Amount, what: &str) -> Result<Premium, String> {
    Ok(match amount {
        wt::Amount::Yearly(text) => Premium::Yearly(parse_decimal(text, what)?),
        wt::Amount::Exact(text) => Premium::Exact(parse_decimal(text, what)?),
    })
}

/// The bytes of text a rating response carries: what the output limit counts.
pub fn rate_response_bytes(response: &wr::RateResponse) -> usize {
    let amount_bytes = |a: &wt::Amount| match a {
        wt::Amount::Yearly(t) | wt::Amount::Exact(t) => t.len(),
    };
    let items: usize = response
        .items
        .iter()
        .map(|i| {
            i.locator.len()
                + i.charge.as_ref().map_or(0, String::len)
                + amount_bytes(&i.premium)
                + i.technical_premium.as_ref().map_or(0, amount_bytes)
                + i.commissions
                    .iter()
                    .map(|c| c.recipient.len() + amount_bytes(&c.amount))
                    .sum::<usize>()
        })
        .sum();
    let flats: usize = response
        .flat_charges
        .iter()
        .map(|f| {
            f.charge.len()
                + f.amount.len()
                + f.description.len()
                + f.item.as_ref().map_or(0, String::len)
        })
        .sum();
    items + flats
}

/// The native form of a plugin's rating response.
pub fn rate_response_from_wit(response: wr::RateResponse) -> Result<RateResponse, String> {
    let items = response
        .items
        .into_iter()
        .map(|item| {
            let what = format!("item {} premium", item.locator);
            Ok(PricedItem {
                premium: premium_from_wit(&item.premium, &what)?,
                technical_premium: item
                    .technical_premium
                    .as_ref()
                    .map(|t| {
                        premium_from_wit(t, &format!("item {} technical premium", item.locator))
                    })
                    .transpose()?,
                commissions: item
                    .commissions
                    .iter()
                    .map(|c| {
                        Ok(Commission {
                            recipient: c.recipient.clone(),
                            amount: premium_from_wit(
                                &c.amount,
                                &format!("item {} commission to {}", item.locator, c.recipient),
                            )?,
                        })
                    })
                    .collect::<Result<_, String>>()?,
                charge: item.charge,
                locator: item.locator,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let flat_charges = response
        .flat_charges
        .into_iter()
        .map(|f| {
            Ok(FlatCharge {
                amount: parse_decimal(&f.amount, &format!("flat charge {}", f.charge))?,
                charge: f.charge,
                item: f.item,
                description: f.description,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(RateResponse {
        items,
        flat_charges,
    })
}
