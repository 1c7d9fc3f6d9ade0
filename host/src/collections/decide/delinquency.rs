//! Past due, delinquency and lapse.
//!
//! An invoice is past due from the day after its due date while it owes
//! anything. A past-due balance at or below the automatic write-off threshold
//! is written off instead of chased. Otherwise, when the past-due amount (of the
//! invoice, or of every past-due invoice of the policy) reaches the plan's
//! minimum, a delinquency starts, a late fee is booked if the plan has one, and
//! grace runs to `due date + grace days` ([E6]: due 2023-01-01, 30 days, grace
//! ends 2023-01-31). A delinquency started late (an invoice reopened by a
//! returned payment) gets its full grace from the day before it started.
//!
//! Only policies in force when the delinquency starts are in it (an expired or
//! cancelled policy cannot lapse), and an invoice billing no policy starts
//! none. When grace ends unpaid (and is not paused by a hold), the policies
//! lapse: the engine issues a cancellation effective the day after grace ends.
//!
//! A reinstatement (or the reversal of a lapse's cancellation) closes the
//! delinquency that lapsed the policy ([E15]): runs never reopen it, charge its
//! late fee again or lapse the policy again for it. If its invoices still owe
//! (at least the plan's minimum), a new delinquency takes them over, started on
//! the reinstatement day with a fresh grace period and no late fee; unpaid, it
//! lapses the policy again the day after its grace ends. It also takes over
//! the policy's invoices that fell past due while it was lapsed (they started
//! no delinquency then, the policy being out of force), in either scope.

use super::super::delinquency::{Delinquency, DelinquencyStatus, GraceChange, LapseCancellation};
use super::super::error::CollectionsError;
use super::super::event::CollectionsEvent;
use super::super::fee::{Fee, FeeReason, LATE_FEE_CHARGE};
use super::super::settings::DelinquencyPlan;
use super::super::settings::DelinquencyScope;
use super::super::write_off::WriteOff;
use super::Decider;
use super::run::{Lapse, LapseItem};
use crate::billing::grace::GraceError;
use crate::billing::{is_past_due, lapse_after};
use crate::domain::{Money, RoundingMode};
use crate::ledger::ChargeCategory;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeSet;

/// The most policies one decision lapses (each cancellation is a
/// transaction record in the log); the rest lapse in the next command.
pub const LAPSE_POLICIES_MAX: usize = 50;

impl Decider<'_> {
    /// Marks the invoices whose due date has passed by `day`.
    pub(crate) fn mark_past_due(&mut self, day: NaiveDate) -> Result<(), CollectionsError> {
        let past_due: Vec<String> = self
            .account
            .open
            .iter()
            .map(|i| &self.account.invoices[*i])
            .filter(|r| {
                r.past_due_on.is_none()
                    && r.outstanding() > Decimal::ZERO
                    && is_past_due(r.invoice.due_date, day)
            })
            .map(|r| r.invoice.locator.clone())
            .collect();
        for invoice in past_due {
            if self.full() {
                break;
            }
            self.emit(CollectionsEvent::InvoicePastDue {
                account: self.account.locator.clone(),
                invoice,
                on: day,
            })?;
        }
        Ok(())
    }

    /// Writes off past-due balances at or below the threshold.
    pub(crate) fn write_off_small_balances(
        &mut self,
        day: NaiveDate,
    ) -> Result<(), CollectionsError> {
        let threshold = self.settings.auto_write_off_up_to;
        if threshold.is_zero() {
            return Ok(());
        }
        let small: Vec<(String, Decimal)> = self
            .account
            .open
            .iter()
            .map(|i| &self.account.invoices[*i])
            .filter(|r| r.past_due_on.is_some() && !r.keep_collecting)
            .map(|r| (r.invoice.locator.clone(), r.outstanding()))
            .filter(|(_, owed)| *owed > Decimal::ZERO && *owed <= threshold)
            .collect();
        if small.is_empty() {
            return Ok(());
        }
        for (invoice, owed) in small {
            if self.full() {
                break;
            }
            let write_off = WriteOff {
                locator: self.locator("W", self.account.write_offs.len()),
                account: self.account.locator.clone(),
                invoice,
                item: None,
                amount: self.money(owed),
                on: day,
                automatic: true,
                reason: format!("small balance at or below {threshold}"),
                entry: self.next_entry(),
            };
            self.emit(CollectionsEvent::WrittenOff { write_off })?;
        }
        self.after_settlement(day)
    }

    /// Whether `policy` is in force on `day`.
    fn in_force(&self, policy: &str, day: NaiveDate) -> bool {
        self.book
            .policies
            .get(policy)
            .is_some_and(|p| p.is_in_force(day))
    }

    /// Whether a delinquency that is in grace or has lapsed covers an invoice
    /// (per invoice) or a policy (per policy). One closed by a reinstatement
    /// still covers what it left to no successor (nothing, or less than the
    /// minimum, was owed), so a run never starts it again.
    fn covered(&self, matches: impl Fn(&Delinquency) -> bool) -> bool {
        self.account
            .delinquencies
            .iter()
            .filter(|d| match &d.status {
                DelinquencyStatus::Ended { .. } => false,
                DelinquencyStatus::ClosedByReinstatement { successor, .. } => successor.is_none(),
                DelinquencyStatus::InGrace | DelinquencyStatus::Lapsed { .. } => true,
            })
            .any(matches)
    }

    /// Starts the delinquencies past-due invoices call for on `day`.
    pub(crate) fn start_delinquencies(&mut self, day: NaiveDate) -> Result<(), CollectionsError> {
        let plan = self.settings.delinquency.clone();
        if !plan.enabled {
            return Ok(());
        }
        let past_due: Vec<usize> = self
            .account
            .open_by_age()
            .into_iter()
            .filter(|i| {
                let r = &self.account.invoices[*i];
                r.past_due_on.is_some() && r.outstanding() > Decimal::ZERO
            })
            .collect();
        let mut starts: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
        match plan.scope {
            DelinquencyScope::PerInvoice => {
                for position in past_due {
                    let record = &self.account.invoices[position];
                    let locator = &record.invoice.locator;
                    if self.covered(|d| d.invoices.contains(locator))
                        || record.outstanding() < plan.minimum
                    {
                        continue;
                    }
                    let policies: Vec<String> = record
                        .invoice
                        .policies()
                        .into_iter()
                        .filter(|p| self.in_force(p, day))
                        .map(str::to_string)
                        .collect();
                    if !policies.is_empty() {
                        starts.push((policies, vec![position]));
                    }
                }
            }
            DelinquencyScope::PerPolicy => {
                let policies: BTreeSet<&str> = past_due
                    .iter()
                    .flat_map(|i| self.account.invoices[*i].invoice.policies())
                    .collect();
                for policy in policies {
                    let in_grace = self
                        .account
                        .delinquencies
                        .iter()
                        .any(|d| d.is_in_grace() && d.policies.iter().any(|p| p == policy));
                    if in_grace || !self.in_force(policy, day) {
                        continue;
                    }
                    let invoices: Vec<usize> = past_due
                        .iter()
                        .copied()
                        .filter(|i| self.account.invoices[*i].invoice.bills_policy(policy))
                        .collect();
                    let owed: Decimal = invoices
                        .iter()
                        .map(|i| self.account.invoices[*i].outstanding())
                        .sum();
                    if owed >= plan.minimum {
                        starts.push((vec![policy.to_string()], invoices));
                    }
                }
            }
        }
        for (policies, invoices) in starts {
            if self.full() {
                break;
            }
            let due_date = invoices
                .iter()
                .map(|i| self.account.invoices[*i].invoice.due_date)
                .min()
                .unwrap_or(day);
            // Invoices owed again because a payment that ended a
            // delinquency of theirs was returned ([E13]): grace still
            // counts from their due date and the late fee is not charged
            // again. (Owed again after a write-off's reversal, grace is
            // full.)
            let reopened = invoices.iter().any(|i| {
                let locator = &self.account.invoices[*i].invoice.locator;
                self.account.delinquencies.iter().any(|d| {
                    let DelinquencyStatus::Ended { on: ended } = d.status else {
                        return false;
                    };
                    d.invoices.contains(locator)
                        && self.account.payments.iter().any(|p| {
                            p.reversed_on.is_some_and(|r| r >= ended)
                                && p.payment.allocations.iter().any(|a| &a.invoice == locator)
                        })
                })
            });
            let counted_from = if reopened {
                due_date
            } else {
                due_date.max(day.pred_opt().unwrap_or(day))
            };
            let grace_end = grace_end_from(&plan, counted_from)?;
            let locator = self.locator("Q", self.account.delinquencies.len());
            let delinquency = Delinquency {
                locator: locator.clone(),
                account: self.account.locator.clone(),
                scope: plan.scope,
                policies: policies.clone(),
                invoices: invoices
                    .iter()
                    .map(|i| self.account.invoices[*i].invoice.locator.clone())
                    .collect(),
                started_on: day,
                due_date,
                grace_end,
                status: DelinquencyStatus::InGrace,
                follows: None,
            };
            self.emit(CollectionsEvent::DelinquencyStarted { delinquency })?;
            if plan.late_fee > Decimal::ZERO && !reopened {
                let amount = Money::new(plan.late_fee, self.account.currency)
                    .rounded(RoundingMode::HalfAwayFromZero);
                let fee = Fee {
                    locator: self.locator("X", self.account.fees_booked as usize),
                    account: self.account.locator.clone(),
                    policy: policies.first().cloned(),
                    charge: LATE_FEE_CHARGE.to_string(),
                    category: ChargeCategory::Fee,
                    amount,
                    booked_on: day,
                    description: format!("Late fee ({locator})"),
                    reason: FeeReason::LateFee {
                        delinquency: locator.clone(),
                    },
                };
                self.emit(CollectionsEvent::FeesCharged {
                    account: self.account.locator.clone(),
                    on: day,
                    fees: vec![fee],
                })?;
            }
        }
        Ok(())
    }

    /// The delinquencies whose grace has ended unpaid by `day`, unless grace
    /// is paused that day.
    pub(crate) fn lapses_due(&self, day: NaiveDate) -> Option<Lapse> {
        if self.account.grace_paused(day) {
            return None;
        }
        let mut policies = 0;
        let items: Vec<LapseItem> = self
            .account
            .delinquencies
            .iter()
            .filter(|d| d.is_in_grace() && d.grace_end < day)
            .take_while(|d| {
                let fits = policies < LAPSE_POLICIES_MAX;
                policies += d.policies.len();
                fits
            })
            .map(|d| LapseItem {
                delinquency: d.locator.clone(),
                effective: lapse_after(d.grace_end),
                policies: d.policies.clone(),
            })
            .collect();
        (!items.is_empty()).then_some(Lapse { on: day, items })
    }

    /// Records a lapse and the cancellations it issued.
    pub fn record_lapse(
        &mut self,
        on: NaiveDate,
        item: &LapseItem,
        cancellations: Vec<LapseCancellation>,
    ) -> Result<(), CollectionsError> {
        self.emit(CollectionsEvent::DelinquencyLapsed {
            account: self.account.locator.clone(),
            delinquency: item.delinquency.clone(),
            on,
            effective: item.effective,
            cancellations,
        })
    }
}

impl Decider<'_> {
    /// Closes the lapsed delinquencies of `policy` now that `transaction`
    /// (issued on `on`) puts it back in force, and starts a successor for
    /// what their invoices still owe: from `on`, with a fresh grace period
    /// and no late fee ([E15]).
    pub fn close_on_reinstatement(
        &mut self,
        policy: &str,
        transaction: &str,
        on: NaiveDate,
    ) -> Result<(), CollectionsError> {
        let lapsed: Vec<Delinquency> = self
            .account
            .delinquencies
            .iter()
            .filter(|d| matches!(d.status, DelinquencyStatus::Lapsed { .. }))
            .filter(|d| d.policies.iter().any(|p| p == policy))
            .cloned()
            .collect();
        let plan = self.settings.delinquency.clone();
        for closed in lapsed {
            let invoices: Vec<String> = self
                .account
                .open_by_age()
                .into_iter()
                .map(|i| &self.account.invoices[i])
                .filter(|r| r.outstanding() > Decimal::ZERO)
                .filter(|r| {
                    let locator = &r.invoice.locator;
                    closed.invoices.contains(locator)
                        || (r.past_due_on.is_some()
                            && r.invoice.bills_policy(policy)
                            && !self.covered(|d| {
                                d.locator != closed.locator && d.invoices.contains(locator)
                            }))
                })
                .map(|r| r.invoice.locator.clone())
                .collect();
            let owed: Decimal = invoices
                .iter()
                .filter_map(|i| self.account.invoice(i))
                .map(|r| r.outstanding())
                .sum();
            let already_followed = closed.scope == DelinquencyScope::PerPolicy
                && self
                    .account
                    .delinquencies
                    .iter()
                    .any(|d| d.is_in_grace() && d.policies.iter().any(|p| p == policy));
            let successor =
                (plan.enabled && !invoices.is_empty() && owed >= plan.minimum && !already_followed)
                    .then(|| self.locator("Q", self.account.delinquencies.len()));
            // A delinquency of the policy already in grace (it started while
            // the policy was lapsed, for a later invoice, and holds the
            // closed one's) gets the fresh grace a reinstatement gives.
            let fresh_end = grace_end_from(&plan, on)?;
            let grace: Vec<GraceChange> = self
                .account
                .delinquencies
                .iter()
                .filter(|d| d.is_in_grace() && d.policies.iter().any(|p| p == policy))
                .filter(|d| d.grace_end < fresh_end)
                .map(|d| GraceChange {
                    delinquency: d.locator.clone(),
                    grace_end: fresh_end,
                })
                .collect();
            self.emit(CollectionsEvent::DelinquencyClosedByReinstatement {
                account: self.account.locator.clone(),
                delinquency: closed.locator.clone(),
                on,
                policy: policy.to_string(),
                transaction: transaction.to_string(),
                successor: successor.clone(),
                grace,
            })?;
            let Some(locator) = successor else {
                continue;
            };
            let delinquency = Delinquency {
                locator,
                account: self.account.locator.clone(),
                scope: closed.scope,
                policies: vec![policy.to_string()],
                invoices,
                started_on: on,
                due_date: on,
                grace_end: grace_end_from(&plan, on)?,
                status: DelinquencyStatus::InGrace,
                follows: Some(closed.locator.clone()),
            };
            self.emit(CollectionsEvent::DelinquencyStarted { delinquency })?;
        }
        Ok(())
    }
}

/// The last day of grace of `plan` counted from `from` (the grace rule of
/// `billing/grace.rs`, [E6]).
fn grace_end_from(plan: &DelinquencyPlan, from: NaiveDate) -> Result<NaiveDate, CollectionsError> {
    plan.grace().end_date(from).map_err(|e| match e {
        GraceError::TooLong(days) => CollectionsError::InvalidGraceDays { days },
        GraceError::Period(e) => CollectionsError::DateOutOfRange(e),
    })
}
