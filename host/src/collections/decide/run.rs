//! The billing run of one account up to a date, processed as if it had run
//! every day: each day something is due (an invoice date by the calendar, a
//! due date passing, grace ending, a disbursement to execute, a suspension
//! ending, a term starting with credit waiting) is a step, handled in date
//! order. Days already finished by an earlier run are never processed again,
//! so running the same date twice changes nothing.
//!
//! Within a step, in order: a suspension ending (its grace extended), lapses,
//! invoices generated (the suspension's catch-up invoice), credit applied to effective terms, approved
//! disbursements executed, invoices found past due, small past-due balances
//! written off, and delinquencies started. A lapse cancels policies in the
//! policy book, so the run stops there; the engine decides the cancellations
//! and runs the account again, which does the rest of the day with the
//! lapse's credits in view (so the invoice of a day a policy lapses on nets
//! the installment and its credit instead of billing one and crediting it on
//! a second invoice).

use super::super::account::{AccountBilling, PendingSlice};
use super::super::error::CollectionsError;
use super::super::event::CollectionsEvent;
use super::super::hold::HoldKind;
use super::super::settings::BillingSettings;
use super::Decider;
use super::generate::Generation;
use crate::billing::BillingCalendar;
use chrono::NaiveDate;

/// The most steps (days with work) one run of one account may take.
pub const RUN_STEPS_MAX: usize = 20_000;

/// The policies a lapsing delinquency cancels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LapseItem {
    pub delinquency: String,
    /// The day after grace ended.
    pub effective: chrono::NaiveDate,
    pub policies: Vec<String>,
}

/// Delinquencies whose grace ended unpaid on the step `on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lapse {
    pub on: NaiveDate,
    pub items: Vec<LapseItem>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// Everything up to the date is done.
    Finished,
    /// Policies must lapse; run again afterwards.
    Lapse(Lapse),
    /// The decision is full; run again to continue.
    Full,
}

/// The day the billing run that invoices a slice scheduled on `date` runs: the
/// date itself without a calendar; with one, the run whose cut-off is the
/// first scheduled billing day on or after it (seed 003).
pub(crate) fn slice_step(calendar: Option<&BillingCalendar>, date: NaiveDate) -> NaiveDate {
    calendar
        .and_then(|calendar| {
            let scheduled = calendar.next_scheduled_date(date).ok()?;
            Some(calendar.billing_date(scheduled).ok()?.run_date)
        })
        .unwrap_or(date)
}

/// Whether a run of `account` up to `up_to` has anything to do.
pub fn has_run_work(
    account: &AccountBilling,
    settings: &BillingSettings,
    up_to: NaiveDate,
) -> bool {
    next_step(account, settings, account.processed_through, up_to).is_some()
}

/// The first day after `after` (and not after `up_to`) with work to do.
pub(crate) fn next_step(
    account: &AccountBilling,
    settings: &BillingSettings,
    after: Option<NaiveDate>,
    up_to: NaiveDate,
) -> Option<NaiveDate> {
    let floor = after.and_then(|d| d.succ_opt());
    let at = |date: NaiveDate| floor.map_or(date, |f| date.max(f));
    let mut best: Option<NaiveDate> = None;
    let mut consider = |date: NaiveDate| {
        if best.is_none_or(|b| date < b) {
            best = Some(date);
        }
    };
    if let Some(first) = account.pending_slices.first() {
        let day = at(slice_step(settings.calendar.as_ref(), first.date));
        if !account.invoicing_blocked(day) {
            consider(day);
        }
    }
    for fee in &account.pending_fees {
        let waits = match &fee.policy {
            Some(policy) => account.has_pending_slices(policy),
            None => !account.pending_slices.is_empty(),
        };
        let day = at(fee.booked_on);
        if !waits && !account.invoicing_blocked(day) {
            consider(day);
        }
    }
    let threshold = settings.auto_write_off_up_to;
    let credit_waits = settings.credit.apply_when_term_effective
        && account.available_credit() > rust_decimal::Decimal::ZERO;
    for position in &account.open {
        let record = &account.invoices[*position];
        let owed = record.outstanding();
        if owed <= rust_decimal::Decimal::ZERO {
            continue;
        }
        match record.past_due_on {
            None => {
                if let Some(day) = record.invoice.due_date.succ_opt() {
                    consider(at(day));
                }
            }
            Some(past_due_on) => {
                if !threshold.is_zero() && !record.keep_collecting && owed <= threshold {
                    consider(at(past_due_on));
                }
            }
        }
        if credit_waits {
            consider(at(record.invoice.effective_on));
        }
    }
    for delinquency in account.delinquencies.iter().filter(|d| d.is_in_grace()) {
        if let Some(day) = delinquency.grace_end.succ_opt().map(at)
            && !account.grace_paused(day)
        {
            consider(day);
        }
    }
    for disbursement in &account.disbursements {
        if let super::super::disbursement::DisbursementStatus::Approved { execute_on, .. } =
            disbursement.status
        {
            consider(at(execute_on));
        }
    }
    for hold in &account.holds {
        if let Some(until) = hold.suspension_end() {
            consider(at(until));
        }
    }
    best.filter(|day| *day <= up_to)
}

impl Decider<'_> {
    /// Runs the account's billing up to and including `up_to`.
    pub fn run(&mut self, up_to: NaiveDate) -> Result<RunOutcome, CollectionsError> {
        let mut cursor = self.account.processed_through;
        let mut steps = 0;
        while let Some(day) = next_step(&self.account, &self.settings, cursor, up_to) {
            steps += 1;
            if steps > RUN_STEPS_MAX {
                return Err(CollectionsError::RunLimit {
                    account: self.account.locator.clone(),
                    message: format!("more than {RUN_STEPS_MAX} steps"),
                });
            }
            if let Some(outcome) = self.step(day)? {
                // Every day before this one is done: the next command resumes
                // here, never re-running a finished day (which would start a
                // delinquency again for an invoice whose one has lapsed).
                if let Some(before) = day.pred_opt()
                    && self.account.processed_through.is_none_or(|d| d < before)
                    && !self.full()
                {
                    self.emit(CollectionsEvent::BilledThrough {
                        account: self.account.locator.clone(),
                        through: before,
                    })?;
                }
                return Ok(outcome);
            }
            cursor = Some(day);
        }
        if self.emitted() > 0 {
            self.emit(CollectionsEvent::BilledThrough {
                account: self.account.locator.clone(),
                through: up_to,
            })?;
        }
        Ok(RunOutcome::Finished)
    }

    /// Everything due on `day`; a lapse or a full decision ends the run early.
    fn step(&mut self, day: NaiveDate) -> Result<Option<RunOutcome>, CollectionsError> {
        self.end_suspensions(day)?;
        if let Some(lapse) = self.lapses_due(day) {
            return Ok(Some(RunOutcome::Lapse(lapse)));
        }
        // A suspension that ended today (in this decision or an earlier one
        // the lapse interrupted) makes today's invoice its catch-up.
        let catch_up_due_days = self
            .account
            .holds
            .iter()
            .filter(|h| h.released_on == Some(day))
            .filter_map(|h| match h.kind {
                HoldKind::Suspension {
                    catch_up_due_days, ..
                } => Some(catch_up_due_days),
                _ => None,
            })
            .max();
        if !self.account.invoicing_blocked(day) {
            let generation = Generation {
                on: day,
                catch_up: catch_up_due_days.is_some(),
                early: false,
                due_days: catch_up_due_days,
            };
            if !self.generate(&generation)? {
                return Ok(Some(RunOutcome::Full));
            }
        }
        for phase in 0..5 {
            match phase {
                0 => self.apply_credit_to_effective_terms(day)?,
                1 => self.execute_disbursements(day)?,
                2 => self.mark_past_due(day)?,
                3 => self.write_off_small_balances(day)?,
                _ => self.start_delinquencies(day)?,
            }
            if self.full() {
                return Ok(Some(RunOutcome::Full));
            }
        }
        Ok(None)
    }

    /// Ends the suspensions whose time is up on `day`.
    fn end_suspensions(&mut self, day: NaiveDate) -> Result<(), CollectionsError> {
        let ending: Vec<String> = self
            .account
            .holds
            .iter()
            .filter(|h| h.suspension_end().is_some_and(|until| until <= day))
            .map(|h| h.locator.clone())
            .collect();
        for hold in ending {
            self.end_hold(&hold, day)?;
        }
        Ok(())
    }

    /// The pending slices a run on `day` invoices, in order.
    pub(crate) fn slices_due(&self, day: NaiveDate) -> Vec<PendingSlice> {
        let calendar = self.settings.calendar.as_ref();
        self.account
            .pending_slices
            .iter()
            .take_while(|s| slice_step(calendar, s.date) <= day)
            .cloned()
            .collect()
    }
}
