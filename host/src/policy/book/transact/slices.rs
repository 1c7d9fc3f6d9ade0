//! Installment slices of a transaction, per term: its scheduled charges
//! follow the coverage's cost, open installments are levelled again, and
//! what now bills nothing is netted (see `billing::reschedule`); then the
//! book's invariant is checked.

use super::*;

/// The slices and the netted slice positions of a transaction's charges.
#[allow(clippy::too_many_arguments)]
pub(super) fn schedule(
    policy: &PolicyState,
    transaction: &Transaction,
    timeline: &Timeline,
    opened_term: Option<&Term>,
    priced_after: &BTreeMap<u32, Vec<PricedSegment>>,
    charges: &[Charge],
    context: &CommandContext,
    dater: &dyn InstallmentDater,
) -> Result<(Vec<InstallmentSlice>, Vec<u32>), PolicyError> {
    let header = &policy.header;
    let product = &header.product;
    let zone =
        parse_time_zone(&header.time_zone).map_err(|e| PolicyError::BadTimeZone(e.to_string()))?;
    let arrival = context
        .today
        .unwrap_or_else(|| local_date(context.issued_at, zone));
    let held = held_slices(policy, context, arrival);
    let currency_code = product.currency.code().to_string();
    let dates = PluginDates {
        dater,
        plugin: product.invoicing_plugin.as_deref(),
        policy: &header.locator,
        currency: &currency_code,
    };
    let mut slices = Vec::new();
    let mut netted = Vec::new();
    for term in &timeline.terms {
        let effective_of = |charge: &Charge| {
            policy
                .transaction(&charge.transaction)
                .map_or(transaction.effective, |t| t.effective)
        };
        let old: Vec<(&Charge, Period)> = policy
            .charges
            .iter()
            .filter(|c| c.term == Some(term.number) && is_spread(c))
            .map(|c| (c, spread_period(c, effective_of(c), term.period)))
            .collect();
        let new: Vec<(&Charge, Period)> = charges
            .iter()
            .filter(|c| c.term == Some(term.number) && is_spread(c))
            .map(|c| (c, spread_period(c, transaction.effective, term.period)))
            .collect();
        let plan = product
            .plans
            .get(&term.plan)
            .ok_or_else(|| PolicyError::UnknownPlan {
                product: product.name.clone(),
                plan: term.plan.clone(),
            })?;
        let covered: Vec<Period> = priced_after
            .get(&term.number)
            .or_else(|| policy.priced.get(&term.number))
            .map(|segments| segments.iter().map(|s| s.period).collect())
            .unwrap_or_default();
        let slicing = TermSlicing {
            number: term.number,
            period: term.period,
            plan,
            arrival,
            opens_term: opened_term.is_some_and(|t| t.number == term.number),
            covered: &covered,
            frames: None,
        };
        let base = policy.slices.len() + slices.len();
        let (term_slices, term_netted) =
            dated_slices_for_term(&held, &old, &new, &slicing, base, &dates)?;
        slices.extend(term_slices);
        netted.extend(term_netted);
    }
    Ok((slices, netted))
}

/// The policy's slices with what billing did with each: netted, still
/// pending (billing's own list when it gave one, else by invoice date on
/// or after the transaction's arrival), or invoiced.
fn held_slices<'a>(
    policy: &'a PolicyState,
    context: &CommandContext,
    arrival: NaiveDate,
) -> Vec<(&'a InstallmentSlice, HeldState)> {
    let pending_here = context
        .pending_slices
        .as_ref()
        .map(|pending| pending.get(&policy.header.locator));
    policy
        .slices
        .iter()
        .enumerate()
        .map(|(position, slice)| {
            let position = position as u32;
            let pending = match pending_here {
                Some(set) => set.is_some_and(|set| set.contains(&position)),
                None => slice.invoice_date >= arrival,
            };
            let state = if policy.netted.contains(&position) {
                HeldState::Netted
            } else if pending {
                HeldState::Pending
            } else {
                HeldState::Invoiced
            };
            (slice, state)
        })
        .collect()
}

/// The book's invariant after every transaction, checked in production
/// (TigerBeetle style): each charge the transaction's slices touch is billed
/// by its slices exactly, withdrawals and re-billed parts included. Worked
/// example: 1200.00 spread over 12 months is 12 slices of 100.00; a
/// cancellation withdrawing the last 6 adds -600.00 for that charge and
/// -600.00 of its own, so both sum to their charges.
pub(super) fn assert_slices_bill_their_charges(
    policy: &PolicyState,
    charges: &[Charge],
    slices: &[InstallmentSlice],
) {
    let touched: std::collections::BTreeSet<&str> =
        slices.iter().map(|s| s.charge.as_str()).collect();
    let mut billed: BTreeMap<&str, Decimal> = BTreeMap::new();
    for slice in policy.slices.iter().chain(slices) {
        if touched.contains(slice.charge.as_str()) {
            *billed.entry(slice.charge.as_str()).or_default() += slice.amount.amount;
        }
    }
    for locator in touched {
        let charge = charges
            .iter()
            .chain(&policy.charges)
            .find(|c| c.locator == locator);
        let Some(charge) = charge else {
            panic!(
                "slices of policy {} bill no charge {locator}",
                policy.locator()
            );
        };
        assert_eq!(
            billed.get(locator).copied().unwrap_or_default(),
            charge.amount.amount,
            "the slices of charge {locator} of policy {} sum to it",
            policy.locator()
        );
    }
}
