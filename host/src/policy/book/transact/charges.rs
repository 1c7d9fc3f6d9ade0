//! The charges a transaction books: the difference of the priced timeline
//! (normal charges), the flat charges of the segment it starts, and charges
//! outside the timeline (a cancellation's holdback, a reinstatement giving
//! it back, a reversal's inverses).

use super::*;
use crate::policy::charges::ChargeDraft;

/// Locators of a transaction's charges: `{transaction}-C1`, `-C2`, ...
pub(super) struct ChargeLocators {
    prefix: String,
    issued: u32,
}

impl ChargeLocators {
    pub(super) fn of(transaction: &Transaction) -> Self {
        ChargeLocators {
            prefix: transaction.locator.clone(),
            issued: 0,
        }
    }

    pub(super) fn next(&mut self) -> String {
        self.issued += 1;
        format!("{}-C{}", self.prefix, self.issued)
    }
}

/// The normal charges of the priced difference, one per draft.
pub(super) fn timeline_charges(
    policy: &PolicyState,
    transaction: &Transaction,
    drafts: Vec<(u32, ChargeDraft)>,
    locators: &mut ChargeLocators,
) -> Result<Vec<Charge>, PolicyError> {
    let header = &policy.header;
    let product = &header.product;
    let mut charges = Vec::with_capacity(drafts.len());
    for (term, draft) in drafts {
        let def = product
            .charge(&draft.charge)
            .ok_or_else(|| PolicyError::UndefinedCharge(draft.charge.clone()))?;
        if def.handling != Handling::Normal {
            return Err(PolicyError::UndefinedCharge(draft.charge.clone()));
        }
        let description = match &draft.recipient {
            Some(recipient) => format!("{} to {recipient} for {}", draft.charge, draft.period),
            None => format!("{} for {}", draft.charge, draft.period),
        };
        charges.push(Charge {
            locator: locators.next(),
            policy: Some(header.locator.clone()),
            account: header.account.clone(),
            transaction: transaction.locator.clone(),
            term: Some(term),
            item: draft.item,
            charge: draft.charge,
            category: def.category,
            handling: Handling::Normal,
            invoicing: def.invoicing,
            recipient: draft.recipient,
            amount: Money::new(draft.amount, product.currency),
            technical_premium: draft.technical_premium,
            period: Some(draft.period),
            reverses: None,
            description,
            explanation: ChargeExplanation {
                rater: draft.rater,
                rating_segments: draft.rating_segments,
                duration_basis: Some(product.duration_basis),
                arithmetic: draft.arithmetic,
            },
        });
    }
    Ok(charges)
}

/// Flat charges come only from the segment the transaction itself starts:
/// re-applied transactions keep their original flat charges.
pub(super) fn flat_charges(
    policy: &PolicyState,
    transaction: &Transaction,
    priced_after: &BTreeMap<u32, Vec<PricedSegment>>,
    locators: &mut ChargeLocators,
) -> Result<Vec<Charge>, PolicyError> {
    let header = &policy.header;
    let product = &header.product;
    let mut charges = Vec::new();
    for priced in priced_after
        .values()
        .flatten()
        .filter(|s| s.started_by == transaction.locator)
    {
        for flat in &priced.response.flat_charges {
            let def = product
                .charge(&flat.charge)
                .filter(|d| d.handling == Handling::Flat)
                .ok_or_else(|| PolicyError::UndefinedCharge(flat.charge.clone()))?;
            charges.push(Charge {
                locator: locators.next(),
                policy: Some(header.locator.clone()),
                account: header.account.clone(),
                transaction: transaction.locator.clone(),
                term: Some(transaction.term),
                item: flat.item.clone(),
                charge: flat.charge.clone(),
                category: def.category,
                handling: Handling::Flat,
                invoicing: def.invoicing,
                recipient: None,
                amount: Money::new(flat.amount, product.currency).rounded(product.rounding_mode),
                technical_premium: None,
                period: None,
                reverses: None,
                description: if flat.description.is_empty() {
                    flat.charge.clone()
                } else {
                    flat.description.clone()
                },
                explanation: ChargeExplanation {
                    rater: Some(priced.rater.clone()),
                    rating_segments: vec![priced.period],
                    duration_basis: None,
                    arithmetic: vec![format!(
                        "flat {} from the rating of {}",
                        flat.amount, priced.period
                    )],
                },
            });
        }
    }
    Ok(charges)
}

impl PolicyBook {
    /// Charges booked outside the timeline: a cancellation keeps its
    /// holdback ([`PolicyBook::retention_charges`]); a reinstatement gives
    /// back the holdback of the cancellation it reinstates ([E3]); a
    /// reversal books the inverse of everything its target booked outside
    /// the timeline (flat charges, holdbacks, and the inverses it booked,
    /// so a holdback it gave back is kept again).
    pub(super) fn charges_outside_timeline(
        &self,
        policy: &PolicyState,
        transaction: &Transaction,
        timeline: &Timeline,
        booked: &[Charge],
        raters: &mut TermRaters<'_>,
        locators: &mut ChargeLocators,
    ) -> Result<Vec<Charge>, PolicyError> {
        let mut charges = Vec::new();
        match &transaction.change {
            TransactionChange::Cancellation { .. } => {
                // A holdback is priced with the term's rate version.
                let term_version = timeline
                    .terms
                    .iter()
                    .find(|t| t.number == transaction.term)
                    .and_then(|t| t.rate_version.clone());
                let mut rater = || raters.of_version(term_version.as_deref());
                charges.extend(self.retention_charges(
                    policy,
                    transaction,
                    booked,
                    &mut rater,
                    &mut || locators.next(),
                )?);
            }
            TransactionChange::Reinstatement => {
                let cancellation = in_effect_order(&policy.transactions)
                    .into_iter()
                    .rev()
                    .find(|t| {
                        t.kind == TransactionKind::Cancellation
                            && t.term == transaction.term
                            && t.effective <= transaction.effective
                    })
                    .map(|t| t.locator.clone());
                if let Some(cancellation) = cancellation {
                    for retained in live_charges(policy, &cancellation, Handling::Retention) {
                        charges.push(retained.inverse(
                            locators.next(),
                            &transaction.locator,
                            "holdback returned on reinstatement",
                        ));
                    }
                }
            }
            TransactionChange::Reversal { target } => {
                for charge in policy
                    .charges
                    .iter()
                    .filter(|c| &c.transaction == target && c.handling != Handling::Normal)
                {
                    if is_standing(&policy.charges, &charge.locator) {
                        charges.push(charge.inverse(
                            locators.next(),
                            &transaction.locator,
                            "reversed",
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(charges)
    }
}
