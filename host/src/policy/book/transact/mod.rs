//! A transaction's effect: the timeline priced with it added, the
//! difference booked as charges (flat, retention and reverse charges too),
//! and the installment slices that bill them. One file per step:
//! [`price`] prices the terms the transaction changes, [`charges`] books
//! charges, [`retention`] the holdback a cancellation keeps, [`slices`]
//! schedules the installments and checks the book's invariant.

use super::*;

mod charges;
mod price;
mod retention;
mod slices;

use retention::live_charges;

use charges::ChargeLocators;
use price::{Priced, TermRaters};

/// The policy's transactions and terms with the new transaction added:
/// what the timeline is priced from.
struct Timeline {
    transactions: Vec<Transaction>,
    terms: Vec<Term>,
    /// The term a rate correction re-rates with its version, asking the
    /// rater about every item again (no recorded result is reused).
    corrected: Option<u32>,
}

impl Timeline {
    fn with(
        policy: &PolicyState,
        transaction: &Transaction,
        opened_term: Option<&Term>,
    ) -> Result<Timeline, PolicyError> {
        let mut transactions = policy.transactions.clone();
        if let TransactionChange::Reversal { target } = &transaction.change
            && let Some(t) = transactions.iter_mut().find(|t| &t.locator == target)
        {
            t.reversed_by = Some(transaction.locator.clone());
        }
        transactions.push(transaction.clone());
        let mut terms = policy.terms.clone();
        terms.extend(opened_term.cloned());
        let corrected = match &transaction.change {
            TransactionChange::RateCorrection { version, .. } => {
                let term = terms
                    .iter_mut()
                    .find(|t| t.number == transaction.term)
                    .ok_or_else(|| PolicyError::Internal("a correction of no term".into()))?;
                term.rate_version = Some(version.clone());
                Some(transaction.term)
            }
            _ => None,
        };
        Ok(Timeline {
            transactions,
            terms,
            corrected,
        })
    }
}

impl PolicyBook {
    /// Prices the timeline with `transaction` added and books the
    /// difference, the flat, retention and reverse charges, and the
    /// installment slices.
    ///
    /// A rating result belongs to a characteristic (DOMAIN section 9): only
    /// items whose input no recorded result of the term covers are sent to
    /// the rater (see [`price_timeline`] and docs/rating.md); the rater is
    /// resolved only then. Worked example: 1200.00 yearly on [2026-01-01,
    /// 2027-01-01) asked once by new business; an endorsement raising it to
    /// 1800.00 from 07-01 asks once about [07-01, 2027-01-01) (+300.00); a
    /// cancellation from 10-01, its reinstatement and the endorsement's
    /// reversal ask nothing (−450.00, +450.00, −300.00).
    pub(super) fn transact(
        &self,
        policy: &PolicyState,
        transaction: Transaction,
        opened_term: Option<Term>,
        with: Deciding<'_>,
    ) -> Result<BookEvent, PolicyError> {
        let Deciding {
            context,
            raters,
            dater,
        } = with;
        if policy.transactions.len() >= TRANSACTIONS_PER_POLICY_MAX {
            return Err(PolicyError::TooManyTransactions(
                TRANSACTIONS_PER_POLICY_MAX,
            ));
        }
        let timeline = Timeline::with(policy, &transaction, opened_term.as_ref())?;
        let mut raters = TermRaters::new(&policy.header.product, raters);
        let Priced { after, drafts } =
            price::price_terms(policy, &transaction, &timeline, &mut raters, context)?;

        let mut locators = ChargeLocators::of(&transaction);
        let mut charges = charges::timeline_charges(policy, &transaction, drafts, &mut locators)?;
        charges.extend(charges::flat_charges(
            policy,
            &transaction,
            &after,
            &mut locators,
        )?);
        let outside = self.charges_outside_timeline(
            policy,
            &transaction,
            &timeline,
            &charges,
            &mut raters,
            &mut locators,
        )?;
        charges.extend(outside);

        let (slices, netted) = slices::schedule(
            policy,
            &transaction,
            &timeline,
            opened_term.as_ref(),
            &after,
            &charges,
            context,
            dater,
        )?;
        slices::assert_slices_bill_their_charges(policy, &charges, &slices);
        Ok(BookEvent::TransactionIssued {
            record: Box::new(TransactionRecord {
                policy: policy.header.locator.clone(),
                opened: None,
                term: opened_term,
                transaction,
                charges,
                slices,
                netted,
                priced: after
                    .into_iter()
                    .map(|(term, segments)| TermTimeline { term, segments })
                    .collect(),
            }),
        })
    }
}
