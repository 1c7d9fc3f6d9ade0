//! The holdback a cancellation keeps (a product's cancellation rules, its
//! retention percentage, or what the rater asks for the cancelled span),
//! and the charges of a transaction that still stand.

use super::*;

impl PolicyBook {
    /// The holdback a cancellation keeps: the product's percentage of the
    /// premium it returns, or, when the product sets none, what the rater
    /// asks for when pricing the cancelled span as a cancellation.
    ///
    /// Worked example ([E3]): 1000.00 a year cancelled at mid-term returns
    /// 500.00 of premium; a 10% holdback keeps 50.00.
    pub(super) fn retention_charges(
        &self,
        policy: &PolicyState,
        cancellation: &Transaction,
        booked: &[Charge],
        rater: &mut dyn FnMut() -> Result<Arc<dyn Rater>, crate::rating::RatingError>,
        next_locator: &mut dyn FnMut() -> String,
    ) -> Result<Vec<Charge>, PolicyError> {
        let header = &policy.header;
        let product = &header.product;
        let mut retention_charge = |charge: &str,
                                    amount: Decimal,
                                    arithmetic: String,
                                    rater|
         -> Result<Charge, PolicyError> {
            let def = product
                .charge(charge)
                .filter(|d| d.handling == Handling::Retention)
                .ok_or_else(|| PolicyError::UndefinedCharge(charge.to_string()))?;
            Ok(Charge {
                locator: next_locator(),
                policy: Some(header.locator.clone()),
                account: header.account.clone(),
                transaction: cancellation.locator.clone(),
                term: Some(cancellation.term),
                item: None,
                charge: charge.to_string(),
                category: def.category,
                handling: Handling::Retention,
                invoicing: def.invoicing,
                recipient: None,
                amount: Money::new(amount, product.currency).rounded(product.rounding_mode),
                technical_premium: None,
                period: None,
                reverses: None,
                description: format!("{charge} kept on cancellation"),
                explanation: ChargeExplanation {
                    rater,
                    arithmetic: vec![arithmetic],
                    ..ChargeExplanation::default()
                },
            })
        };
        if let Some(rules) = &product.cancellation {
            let reason = match cancellation.change {
                TransactionChange::Cancellation { reason } => reason,
                _ => CancellationReason::default(),
            };
            let premium = |c: &&Charge| {
                c.handling == Handling::Normal
                    && c.charge == product.premium_charge
                    && c.term == Some(cancellation.term)
            };
            let written: Decimal = policy
                .charges
                .iter()
                .filter(premium)
                .map(|c| c.amount.amount)
                .sum();
            let returned: Decimal = -booked
                .iter()
                .filter(premium)
                .map(|c| c.amount.amount)
                .sum::<Decimal>();
            let start = policy
                .terms
                .iter()
                .find(|t| t.number == cancellation.term)
                .map_or(cancellation.effective, |t| t.period.start());
            let days_in_force =
                u32::try_from((cancellation.effective - start).num_days()).unwrap_or(0);
            let kept = rules.kept(reason, written, returned, days_in_force);
            if kept.amount.is_zero() {
                return Ok(Vec::new());
            }
            return Ok(vec![retention_charge(
                &rules.charge,
                kept.amount,
                kept.arithmetic,
                None,
            )?]);
        }
        if let Some(retention) = &product.cancellation_retention {
            let returned: Decimal = -booked
                .iter()
                .filter(|c| c.handling == Handling::Normal && c.charge == product.premium_charge)
                .map(|c| c.amount.amount)
                .sum::<Decimal>();
            if returned <= Decimal::ZERO || retention.holdback_percent.is_zero() {
                return Ok(Vec::new());
            }
            let amount = returned * retention.holdback_percent / Decimal::ONE_HUNDRED;
            let arithmetic = format!(
                "{}% of {returned} returned premium = {amount}",
                retention.holdback_percent
            );
            return Ok(vec![retention_charge(
                &retention.charge,
                amount,
                arithmetic,
                None,
            )?]);
        }
        // No product holdback: ask the rater, pricing the cancelled span;
        // a product with no retention charge has nothing to ask for.
        if !product
            .charges
            .values()
            .any(|d| d.handling == Handling::Retention)
        {
            return Ok(Vec::new());
        }
        let Some(term) = policy.terms.iter().find(|t| t.number == cancellation.term) else {
            return Ok(Vec::new());
        };
        let Ok(span) = Period::new(cancellation.effective, term.period.end()) else {
            return Ok(Vec::new());
        };
        let segment = Segment {
            period: span,
            started_by: cancellation.locator.clone(),
            operation: crate::rating::Operation::Cancellation,
            data: std::borrow::Cow::Owned(policy.data_at(cancellation.effective)),
        };
        let currency_code = product.currency.code().to_string();
        let context = PricingContext {
            policy_locator: &header.locator,
            product_name: &product.name,
            currency: &currency_code,
            time_zone: &header.time_zone,
            term: term.period,
        };
        let priced = price_segments(rater()?.as_ref(), &context, &[segment])?;
        let mut retained = Vec::new();
        for flat in &priced[0].response.flat_charges {
            if product
                .charge(&flat.charge)
                .is_some_and(|d| d.handling == Handling::Retention)
            {
                let arithmetic = format!(
                    "{} asked by the rater for the cancelled span {span}",
                    flat.amount
                );
                retained.push(retention_charge(
                    &flat.charge,
                    flat.amount,
                    arithmetic,
                    Some(priced[0].rater.clone()),
                )?);
            }
        }
        Ok(retained)
    }
}

/// Charges of `handling` a transaction booked that still stand.
pub(super) fn live_charges<'a>(
    policy: &'a PolicyState,
    transaction: &str,
    handling: Handling,
) -> Vec<&'a Charge> {
    policy
        .charges
        .iter()
        .filter(|c| c.transaction == transaction && c.handling == handling && c.reverses.is_none())
        .filter(|c| is_standing(&policy.charges, &c.locator))
        .collect()
}
