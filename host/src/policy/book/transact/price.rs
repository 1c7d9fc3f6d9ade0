//! Pricing the terms a transaction changes: each term's timeline is priced
//! with the transaction added, reusing every recorded result that still
//! covers its characteristic, and compared with the timeline before.

use super::*;
use crate::policy::charges::ChargeDraft;
use crate::rating::RatingError;

/// The rater of each rate version, resolved at most once per transaction
/// and only when something needs pricing (a cancellation, a lapse or a
/// reversal usually needs none).
pub(super) struct TermRaters<'a> {
    product: &'a ProductConfig,
    resolver: &'a dyn RaterResolver,
    resolved: Vec<(Option<String>, Arc<dyn Rater>)>,
}

impl<'a> TermRaters<'a> {
    pub(super) fn new(product: &'a ProductConfig, resolver: &'a dyn RaterResolver) -> Self {
        TermRaters {
            product,
            resolver,
            resolved: Vec::new(),
        }
    }

    /// The rater of rate `version` (the product's chain pinned to it).
    pub(super) fn of_version(
        &mut self,
        version: Option<&str>,
    ) -> Result<Arc<dyn Rater>, RatingError> {
        if let Some((_, rater)) = self.resolved.iter().find(|(v, _)| v.as_deref() == version) {
            return Ok(rater.clone());
        }
        let chain = crate::rating::chain::pinned(&self.product.rating, version);
        let rater = self.resolver.resolve(&chain)?;
        self.resolved
            .push((version.map(str::to_string), rater.clone()));
        Ok(rater)
    }
}

/// The terms whose priced timeline changed: their new timelines and the
/// charge drafts of the difference, by term.
pub(super) struct Priced {
    pub(super) after: BTreeMap<u32, Vec<PricedSegment>>,
    pub(super) drafts: Vec<(u32, ChargeDraft)>,
}

/// Prices each term the transaction can change. Data and coverage change
/// from the transaction's effective date on (a reversal's: its target's),
/// so a term ending by then keeps its priced timeline: it is not priced
/// again (an endorsement of the last term of a ten-term policy prices one
/// term).
pub(super) fn price_terms(
    policy: &PolicyState,
    transaction: &Transaction,
    timeline: &Timeline,
    raters: &mut TermRaters<'_>,
    context: &CommandContext,
) -> Result<Priced, PolicyError> {
    let changes_from = match &transaction.change {
        TransactionChange::Reversal { target } => policy
            .transaction(target)
            .map_or(transaction.effective, |t| t.effective),
        _ => transaction.effective,
    };
    let mut priced = Priced {
        after: BTreeMap::new(),
        drafts: Vec::new(),
    };
    for term in &timeline.terms {
        if term.period.end() <= changes_from
            && term.number != transaction.term
            && timeline.corrected != Some(term.number)
        {
            continue;
        }
        let before = policy.priced.get(&term.number).cloned().unwrap_or_default();
        let after = price_term(policy, transaction, timeline, term, &before, raters)?;
        if after == before {
            continue;
        }
        let product = &policy.header.product;
        let term_drafts = timeline_difference(
            &before,
            &after,
            product,
            product.duration_basis,
            product.rounding_mode,
            context.arithmetic,
        )
        .map_err(PolicyError::Internal)?;
        priced
            .drafts
            .extend(term_drafts.into_iter().map(|d| (term.number, d)));
        priced.after.insert(term.number, after);
    }
    Ok(priced)
}

/// One term's timeline priced with the transaction added; the rater is
/// asked only about segments no recorded result in `before` covers (none is
/// reused for a term a rate correction re-rates).
fn price_term(
    policy: &PolicyState,
    transaction: &Transaction,
    timeline: &Timeline,
    term: &Term,
    before: &[PricedSegment],
    raters: &mut TermRaters<'_>,
) -> Result<Vec<PricedSegment>, PolicyError> {
    let header = &policy.header;
    let product = &header.product;
    let currency_code = product.currency.code().to_string();
    let version = term.rate_version.clone();
    let mut rater = || raters.of_version(version.as_deref());
    let context_for_term = PricingContext {
        policy_locator: &header.locator,
        product_name: &product.name,
        currency: &currency_code,
        time_zone: &header.time_zone,
        term: term.period,
    };
    let transactions = &timeline.transactions;
    let after_segments = segments(transactions, term.number, term.period);
    let previous_plan = policy.terms.last().map(|t| t.plan.as_str());
    // Built once per term, only for a call to a rater that reads it.
    let record = std::cell::OnceCell::new();
    let locators = |segment: &Segment<'_>, with_record: bool| crate::rating::RatingCall {
        locators: call_locators(transactions, transaction, segment, previous_plan),
        record: if with_record {
            record
                .get_or_init(|| {
                    policy_record(policy, transactions, transaction, &timeline.terms, term)
                })
                .clone()
        } else {
            crate::rating::PolicyRecord::default()
        },
    };
    let reusable: &[PricedSegment] = if timeline.corrected == Some(term.number) {
        &[]
    } else {
        before
    };
    let (after, _calls) = price_timeline(
        &mut rater,
        &context_for_term,
        &after_segments,
        reusable,
        &locators,
    )?;
    Ok(after)
}
