//! Changing a live term's payment plan: the installments not yet invoiced
//! whose invoice date is on or after the change are withdrawn (each by an
//! inverse slice, so every charge's slices still sum to it; earlier ones stay
//! on the old plan) and what they came to, per charge, is spread again over
//! the new plan's installments whose invoice date is on or after the change,
//! each charge only over the installments its coverage falls in. When the new
//! plan has no such installment left (a change to full pay mid-term), the rest
//! is billed at once, on the change date. The product's invoicing plugin
//! dates the new plan's installments (`schedule-dates`), as when a
//! transaction lays them out.
//!
//! Nothing goes to installments the policy has no coverage in (after a
//! cancellation: nothing is billed, and no refund drip-fed, in frames after it,
//! [E14]); and what was caught up (billed on the next invoice for frames
//! already invoiced, or a remainder billed once) stays caught up: it goes on
//! the new plan's next installment that bills something, not spread again.

use super::error::CollectionsError;
use super::state::Collections;
use crate::billing::{InstallmentFrame, TermCharge, reschedule};
use crate::domain::{Money, Period};
use crate::policy::{
    BookEvent, InstallmentDater, InstallmentSlice, PluginDates, PolicyBook, frame_amounts,
    spread_period,
};
use chrono::NaiveDate;

/// The event that moves `policy`'s term in force on `effective` to `plan`.
pub fn change_plan(
    book: &PolicyBook,
    collections: &Collections,
    policy: &str,
    plan: &str,
    effective: NaiveDate,
    dater: &dyn InstallmentDater,
) -> Result<BookEvent, CollectionsError> {
    let internal = |message: String| CollectionsError::Internal(message);
    let state = book
        .policies
        .get(policy)
        .ok_or_else(|| CollectionsError::UnknownPolicy(policy.to_string()))?;
    let term = state
        .terms
        .iter()
        .find(|t| t.period.contains(effective))
        .ok_or_else(|| CollectionsError::OutsideTerm {
            policy: policy.to_string(),
            date: effective,
        })?;
    let product = &state.header.product;
    let new_plan = product
        .plans
        .get(plan)
        .ok_or_else(|| CollectionsError::UnknownPlan {
            product: product.name.clone(),
            plan: plan.to_string(),
        })?;
    if term.plan == plan {
        return Err(CollectionsError::PlanUnchanged {
            policy: policy.to_string(),
            term: term.number,
            plan: plan.to_string(),
        });
    }
    let account = collections.account(&state.header.account)?;
    // Installments invoiced before the change stay on the old plan; the
    // ones from the change on are replaced.
    let superseded: Vec<u32> = account
        .pending_slices
        .iter()
        .filter(|s| s.policy == policy && s.date >= effective)
        .filter(|s| state.slices[s.index as usize].term == term.number)
        .map(|s| s.index)
        .collect();
    let withdrawn: Vec<InstallmentSlice> = superseded
        .iter()
        .map(|i| {
            let slice = &state.slices[*i as usize];
            InstallmentSlice {
                amount: slice.amount.negated(),
                ..slice.clone()
            }
        })
        .collect();
    // What is left of each charge, in the order the charges first appear,
    // apart for what was caught up.
    let mut remaining: Vec<(arcstr::ArcStr, Money, bool)> = Vec::new();
    for slice in superseded.iter().map(|i| &state.slices[*i as usize]) {
        match remaining
            .iter_mut()
            .find(|(c, _, caught_up)| *c == slice.charge && *caught_up == slice.caught_up)
        {
            Some((_, amount, _)) => amount.amount += slice.amount.amount,
            None => remaining.push((slice.charge.clone(), slice.amount, slice.caught_up)),
        }
    }
    remaining.retain(|(_, amount, _)| !amount.is_zero());
    // The installments from the change on; those with no day in force bill
    // nothing (weight 0).
    let covered: Vec<Period> = state
        .priced
        .get(&term.number)
        .map(|segments| segments.iter().map(|s| s.period).collect())
        .unwrap_or_default();
    // The slices that spread what is left over `frames` (the new plan's).
    // The coverage already invoiced on the old plan is not billed again: the
    // new installments start after the last one invoiced.
    let pending: std::collections::BTreeSet<u32> = account
        .pending_slices
        .iter()
        .filter(|s| s.policy == policy)
        .map(|s| s.index)
        .collect();
    let invoiced_to = state
        .slices
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            let i = *i as u32;
            s.term == term.number
                && !s.caught_up
                && !pending.contains(&i)
                && !state.netted.contains(&i)
        })
        .map(|(_, s)| s.installment_period.end())
        .max();
    let lay_out = |frames: &[InstallmentFrame]| -> Result<Vec<InstallmentSlice>, CollectionsError> {
        let future: Vec<_> = frames
            .iter()
            .filter(|f| f.generate_date >= effective)
            .filter(|f| invoiced_to.is_none_or(|to| f.period.start() >= to))
            .cloned()
            .map(|mut f| {
                if covered.iter().all(|c| c.overlap_days(&f.period) == 0) {
                    f.weight = rust_decimal::Decimal::ZERO;
                }
                f
            })
            .collect();
        let next = future.iter().find(|f| !f.weight.is_zero());
        match (next, frames.last()) {
            _ if remaining.is_empty() => Ok(Vec::new()),
            (Some(first), _) => {
                // Each charge stays within the coverage it pays for: what is left
                // of it goes to the new installments its period covers (from the
                // first one on), or to the first one when its period is over;
                // what was caught up goes whole on the first.
                let span = Period::new(first.period.start(), term.period.end())
                    .map_err(|e| internal(format!("re-spreading: {e}")))?;
                // What was caught up stays caught up, whole on the first new
                // installment; the rest is scheduled as a transaction's
                // charges are (DOMAIN section 5): the new installments'
                // totals are the level split of what their coverage costs,
                // over every charge they hold.
                let currency = product.currency;
                let money = |units: i128| {
                    Money::from_minor_units(units, currency)
                        .map_err(|e| internal(format!("re-spreading: {e}")))
                };
                let mut slices: Vec<InstallmentSlice> = remaining
                    .iter()
                    .filter(|(_, _, caught_up)| *caught_up)
                    .map(|(charge, amount, _)| InstallmentSlice {
                        charge: charge.clone(),
                        term: term.number,
                        installment: first.index,
                        installment_period: first.period,
                        amount: *amount,
                        invoice_date: first.generate_date,
                        due_date: first.due_date,
                        caught_up: true,
                    })
                    .collect();
                let regular: Vec<&(arcstr::ArcStr, Money, bool)> = remaining
                    .iter()
                    .filter(|(_, _, caught_up)| !caught_up)
                    .collect();
                let term_charges: Vec<TermCharge> = regular
                    .iter()
                    .map(|(locator, amount, _)| {
                        let period = state
                            .charges
                            .iter()
                            .find(|c| &c.locator == locator)
                            .map(|charge| {
                                let effective = state
                                    .transaction(&charge.transaction)
                                    .map_or(term.period.start(), |t| t.effective);
                                spread_period(charge, effective, term.period)
                            })
                            .and_then(|period| period.intersection(&span))
                            .filter(|period| {
                                future.iter().any(|f| {
                                    f.period.overlap_days(period) > 0 && !f.weight.is_zero()
                                })
                            })
                            .unwrap_or(first.period);
                        Ok(TermCharge {
                            units: amount
                                .to_minor_units()
                                .map_err(|e| internal(format!("re-spreading: {e}")))?,
                            period,
                            new: true,
                        })
                    })
                    .collect::<Result<_, CollectionsError>>()?;
                let rescheduled = reschedule(
                    &future,
                    &term_charges,
                    &[],
                    &covered,
                    effective,
                    false,
                    new_plan.residue,
                )
                .map_err(|e| internal(format!("re-spreading: {e}")))?;
                for part in rescheduled.parts.iter().filter(|part| part.units != 0) {
                    slices.push(InstallmentSlice {
                        charge: regular[part.charge].0.clone(),
                        term: term.number,
                        installment: future[part.frame].index,
                        installment_period: future[part.frame].period,
                        amount: money(part.units)?,
                        invoice_date: part.invoice_date,
                        due_date: part.due_date,
                        caught_up: part.caught_up,
                    });
                }
                Ok(slices)
            }
            (None, Some(last)) => {
                // Billed at once, for the latest installment with coverage
                // begun by the change (not an empty one after a cancellation).
                let has_cover =
                    |f: &&InstallmentFrame| covered.iter().any(|c| c.overlap_days(&f.period) > 0);
                let last = frames
                    .iter()
                    .rev()
                    .filter(has_cover)
                    .find(|f| f.period.start() <= effective)
                    .or_else(|| frames.iter().find(has_cover))
                    .unwrap_or(last);
                Ok(remaining
                    .iter()
                    .map(|(charge, amount, _)| InstallmentSlice {
                        charge: charge.clone(),
                        term: term.number,
                        installment: last.index,
                        installment_period: last.period,
                        amount: *amount,
                        invoice_date: effective,
                        due_date: effective,
                        caught_up: true,
                    })
                    .collect())
            }
            (None, None) => Err(internal(format!("plan {plan} laid out no installments"))),
        }
    };
    let frames =
        new_plan
            .frames(term.period)
            .map_err(|source| CollectionsError::PlanNotApplicable {
                plan: plan.to_string(),
                source,
            })?;
    let mut slices = lay_out(&frames)?;
    // The product's invoicing plugin dates the new plan's installments, shown
    // what each bills; when it moves any, they are laid out on its dates.
    if product.invoicing_plugin.is_some() && !slices.is_empty() {
        let dates = PluginDates {
            dater,
            plugin: product.invoicing_plugin.as_deref(),
            policy,
            currency: product.currency.code(),
        };
        let amounts = frame_amounts(&frames, &slices);
        let moved = dates.frames(term.number, &frames, &amounts)?;
        if moved != frames {
            slices = lay_out(&moved)?;
        }
    }
    Ok(BookEvent::PlanChanged {
        policy: policy.to_string(),
        term: term.number,
        plan: plan.to_string(),
        effective,
        superseded,
        withdrawn,
        slices,
    })
}
