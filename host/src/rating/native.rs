//! Raters compiled into the host: a field-driven rater for tests and demos,
//! and the fallback chain that tries a plugin first and an external rater
//! when the plugin fails.

use super::{
    Commission, FieldValue, FlatCharge, Operation, Premium, PricedItem, RateRequest, RateResponse,
    Rater, RaterIdentity, RatingError,
};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::Arc;

/// Prices each requested peril (the request's `items`, not every peril of
/// the policy) from its own fields, so tests can state premiums directly:
///
/// - `yearly_premium` (a decimal as text or number): a yearly rate, or
///   `exact_premium`: an exact amount for the segment;
/// - policy field `commission_percent`: a commission of that share of each
///   premium to the policy's `producer`;
/// - policy fields `flat:<charge>` with an amount, and `flat_on` naming the
///   operation (`new_business` by default) that books those flat charges;
/// - policy field `decline`: declines with its text.
///
/// Example: a peril with `yearly_premium = 1000.00` on a policy with
/// `commission_percent = 10` and `producer = agency-7` is priced yearly
/// 1000.00 with a yearly commission of 100.00 to agency-7.
#[derive(Debug, Clone, Default)]
pub struct FieldRater;

fn decimal_field(values: Option<&Vec<FieldValue>>) -> Option<Decimal> {
    match values?.first()? {
        FieldValue::Number { number } => Some(*number),
        FieldValue::Integer(i) => Some(Decimal::from(*i)),
        FieldValue::Text(t) => Decimal::from_str(t.trim()).ok(),
        _ => None,
    }
}

fn text_field(values: Option<&Vec<FieldValue>>) -> Option<&str> {
    match values?.first()? {
        FieldValue::Text(t) => Some(t.as_str()),
        _ => None,
    }
}

fn operation_name(operation: Operation) -> &'static str {
    match operation {
        Operation::NewBusiness => "new_business",
        Operation::Endorsement => "endorsement",
        Operation::Renewal => "renewal",
        Operation::Reinstatement => "reinstatement",
        Operation::Cancellation => "cancellation",
    }
}

impl Rater for FieldRater {
    fn rate(&self, request: &RateRequest) -> Result<RateResponse, RatingError> {
        let policy_fields = &request.policy.characteristics.fields;
        if let Some(reason) = text_field(policy_fields.get("decline")) {
            return Err(RatingError::Declined(reason.to_string()));
        }
        let commission_percent = decimal_field(policy_fields.get("commission_percent"));
        let producer = text_field(policy_fields.get("producer")).unwrap_or("producer");
        let mut items = Vec::new();
        for exposure in &request.policy.exposures {
            for peril in exposure
                .perils
                .iter()
                .filter(|p| request.items.iter().any(|i| i.locator == p.locator))
            {
                let fields = &peril.characteristics.fields;
                let premium = if let Some(exact) = decimal_field(fields.get("exact_premium")) {
                    Premium::Exact(exact)
                } else if let Some(yearly) = decimal_field(fields.get("yearly_premium")) {
                    Premium::Yearly(yearly)
                } else {
                    return Err(RatingError::InvalidInput(format!(
                        "peril {}: no yearly_premium or exact_premium field",
                        peril.locator
                    )));
                };
                let commissions = commission_percent
                    .map(|percent| {
                        let share = |amount: Decimal| amount * percent / Decimal::ONE_HUNDRED;
                        let amount = match premium {
                            Premium::Yearly(y) => Premium::Yearly(share(y)),
                            Premium::Exact(x) => Premium::Exact(share(x)),
                        };
                        vec![Commission {
                            recipient: producer.to_string(),
                            amount,
                        }]
                    })
                    .unwrap_or_default();
                let charge = text_field(fields.get("charge")).map(str::to_string);
                items.push(PricedItem {
                    locator: peril.locator.clone(),
                    charge,
                    premium,
                    technical_premium: None,
                    commissions,
                });
            }
        }
        let flat_on = text_field(policy_fields.get("flat_on")).unwrap_or("new_business");
        let flat_charges = if flat_on == operation_name(request.operation) {
            policy_fields
                .iter()
                .filter_map(|(name, values)| {
                    let charge = name.strip_prefix("flat:")?;
                    Some(FlatCharge {
                        charge: charge.to_string(),
                        amount: decimal_field(Some(values))?,
                        item: None,
                        description: charge.to_string(),
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let response = RateResponse {
            items,
            flat_charges,
        };
        super::validate_response("field-rater", request, &response)?;
        Ok(response)
    }

    fn identity(&self) -> RaterIdentity {
        RaterIdentity::Native {
            name: "field-rater".into(),
        }
    }
}

/// Tries `primary` (a plugin) and, only when it *fails* (trap, limits,
/// invalid output, unavailable), `fallback` (an external rater). A decline
/// or an invalid-input answer is the plugin's business answer and is
/// returned as it is.
pub struct FallbackRater {
    pub primary: Arc<dyn Rater>,
    pub fallback: Arc<dyn Rater>,
}

impl Rater for FallbackRater {
    fn rate(&self, request: &RateRequest) -> Result<RateResponse, RatingError> {
        self.rate_with_identity(request)
            .map(|(response, _)| response)
    }

    fn rate_with_identity(
        &self,
        request: &RateRequest,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        match self.primary.rate_with_identity(request) {
            Err(RatingError::Failed {
                rater,
                failure,
                message,
            }) => {
                tracing::warn!(%rater, failure = failure.code(), %message, "rater failed; using the fallback");
                self.fallback.rate_with_identity(request)
            }
            other => other,
        }
    }

    fn rate_with_call_locators(
        &self,
        request: &RateRequest,
        locators: &super::CallLocators,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        match self.primary.rate_with_call_locators(request, locators) {
            Err(RatingError::Failed {
                rater,
                failure,
                message,
            }) => {
                tracing::warn!(%rater, failure = failure.code(), %message, "rater failed; using the fallback");
                self.fallback.rate_with_call_locators(request, locators)
            }
            other => other,
        }
    }

    fn rate_call(
        &self,
        request: &RateRequest,
        call: &super::RatingCall,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        match self.primary.rate_call(request, call) {
            Err(RatingError::Failed {
                rater,
                failure,
                message,
            }) => {
                tracing::warn!(%rater, failure = failure.code(), %message, "rater failed; using the fallback");
                self.fallback.rate_call(request, call)
            }
            other => other,
        }
    }

    fn reads_policy_record(&self) -> bool {
        self.primary.reads_policy_record() || self.fallback.reads_policy_record()
    }

    fn identity(&self) -> RaterIdentity {
        self.primary.identity()
    }
}
