//! Write-offs, disbursements and holds, by hand; and what the billing run does
//! with them (execute approved disbursements, end suspensions).

use super::super::delinquency::GraceChange;
use super::super::disbursement::{Disbursement, DisbursementStatus};
use super::super::error::CollectionsError;
use super::super::event::CollectionsEvent;
use super::super::hold::{CATCH_UP_DUE_DAYS_MAX, Hold, HoldKind};
use super::super::write_off::WriteOff;
use super::generate::Generation;
use super::{Decider, check_text};
use chrono::NaiveDate;
use rust_decimal::Decimal;

impl Decider<'_> {
    /// Writes off an invoice or one of its items: `amount`, or all that is
    /// left of it (for an item: its amount less what was written off of it,
    /// never more than the invoice owes).
    pub fn write_off(
        &mut self,
        invoice: &str,
        item: Option<&str>,
        amount: Option<Decimal>,
        on: NaiveDate,
        reason: &str,
    ) -> Result<(), CollectionsError> {
        check_text("reason", reason)?;
        let record = self
            .account
            .invoice(invoice)
            .ok_or_else(|| self.not_found("invoice", invoice))?;
        let owed = record.outstanding();
        let limit = match item {
            None => owed,
            Some(item) => {
                let line = record
                    .invoice
                    .items
                    .iter()
                    .find(|i| i.locator == item)
                    .ok_or_else(|| self.not_found("invoice item", item))?;
                let done = record
                    .item_written_off
                    .get(item)
                    .copied()
                    .unwrap_or_default();
                (line.amount.amount - done).min(owed)
            }
        };
        let amount = match amount {
            Some(amount) => self.positive("write-off", amount)?.amount,
            None => limit,
        };
        if amount <= Decimal::ZERO || amount > limit {
            return Err(CollectionsError::WriteOffOutOfRange { amount, limit });
        }
        let write_off = WriteOff {
            locator: self.locator("W", self.account.write_offs.len()),
            account: self.account.locator.clone(),
            invoice: invoice.to_string(),
            item: item.map(str::to_string),
            amount: self.money(amount),
            on,
            automatic: false,
            reason: reason.to_string(),
            entry: self.next_entry(),
        };
        self.emit(CollectionsEvent::WrittenOff { write_off })?;
        self.after_settlement(on)
    }

    /// Reverses a write-off: the invoice owes it again, and is never again
    /// written off automatically.
    pub fn reverse_write_off(
        &mut self,
        write_off: &str,
        on: NaiveDate,
    ) -> Result<(), CollectionsError> {
        let record = self
            .account
            .write_off(write_off)
            .ok_or_else(|| self.not_found("write-off", write_off))?
            .clone();
        if let Some(on) = record.reversed_on {
            return Err(CollectionsError::AlreadyReversed {
                what: "write-off",
                locator: write_off.to_string(),
                on,
            });
        }
        let original = record.write_off;
        if on < original.on {
            return Err(CollectionsError::DateBeforeRecord {
                what: "write-off",
                locator: write_off.to_string(),
                happened: "was made on",
                recorded_on: original.on,
                on,
            });
        }
        self.emit(CollectionsEvent::WriteOffReversed {
            account: self.account.locator.clone(),
            write_off: write_off.to_string(),
            invoice: original.invoice,
            item: original.item,
            amount: original.amount,
            on,
            entry: original.entry,
        })?;
        self.mark_past_due(on)?;
        self.start_delinquencies(on)
    }

    fn disbursement_in(
        &self,
        locator: &str,
        expected: &'static str,
        allowed: impl Fn(&DisbursementStatus) -> bool,
    ) -> Result<Disbursement, CollectionsError> {
        let disbursement = self
            .account
            .disbursement(locator)
            .ok_or_else(|| self.not_found("disbursement", locator))?;
        if !allowed(&disbursement.status) {
            if let DisbursementStatus::Reversed { on, .. } = disbursement.status {
                return Err(CollectionsError::AlreadyReversed {
                    what: "disbursement",
                    locator: locator.to_string(),
                    on,
                });
            }
            return Err(CollectionsError::WrongState {
                what: "disbursement",
                locator: locator.to_string(),
                state: disbursement.status.name().to_string(),
                expected,
            });
        }
        Ok(disbursement.clone())
    }

    /// Drafts a refund of credit; it may not exceed the credit available.
    pub fn draft_disbursement(
        &mut self,
        amount: Decimal,
        on: NaiveDate,
        reason: &str,
    ) -> Result<(), CollectionsError> {
        check_text("reason", reason)?;
        let amount = self.positive("disbursement", amount)?;
        let available = self.account.available_credit();
        if amount.amount > available {
            return Err(CollectionsError::DisbursementExceedsCredit {
                amount: amount.amount,
                available,
            });
        }
        let disbursement = Disbursement {
            locator: self.locator("D", self.account.disbursements.len()),
            account: self.account.locator.clone(),
            amount,
            drafted_on: on,
            reason: reason.to_string(),
            status: DisbursementStatus::Draft,
        };
        self.emit(CollectionsEvent::DisbursementDrafted { disbursement })
    }

    pub fn approve_disbursement(
        &mut self,
        disbursement: &str,
        on: NaiveDate,
        execute_on: Option<NaiveDate>,
    ) -> Result<(), CollectionsError> {
        let draft = self.disbursement_in(disbursement, "draft", |s| {
            matches!(s, DisbursementStatus::Draft)
        })?;
        let execute_on = execute_on.unwrap_or(on).max(on);
        if on < draft.drafted_on {
            return Err(CollectionsError::DateBeforeRecord {
                what: "disbursement",
                locator: disbursement.to_string(),
                happened: "was drafted on",
                recorded_on: draft.drafted_on,
                on,
            });
        }
        self.emit(CollectionsEvent::DisbursementApproved {
            account: self.account.locator.clone(),
            disbursement: disbursement.to_string(),
            on,
            execute_on,
        })
    }

    pub fn reject_disbursement(
        &mut self,
        disbursement: &str,
        on: NaiveDate,
        reason: &str,
    ) -> Result<(), CollectionsError> {
        check_text("reason", reason)?;
        self.disbursement_in(
            disbursement,
            "draft or approved",
            DisbursementStatus::is_pending,
        )?;
        self.emit(CollectionsEvent::DisbursementRejected {
            account: self.account.locator.clone(),
            disbursement: disbursement.to_string(),
            on,
            reason: reason.to_string(),
        })
    }

    /// Reverses an executed refund: the credit comes back.
    pub fn reverse_disbursement(
        &mut self,
        disbursement: &str,
        on: NaiveDate,
        reason: &str,
    ) -> Result<(), CollectionsError> {
        check_text("reason", reason)?;
        let executed = self.disbursement_in(disbursement, "executed", |s| {
            matches!(s, DisbursementStatus::Executed { .. })
        })?;
        let DisbursementStatus::Executed {
            on: executed_on,
            entry,
        } = executed.status
        else {
            unreachable!("checked above");
        };
        if on < executed_on {
            return Err(CollectionsError::DateBeforeRecord {
                what: "disbursement",
                locator: disbursement.to_string(),
                happened: "was executed on",
                recorded_on: executed_on,
                on,
            });
        }
        self.emit(CollectionsEvent::DisbursementReversed {
            account: self.account.locator.clone(),
            disbursement: disbursement.to_string(),
            amount: executed.amount,
            on,
            reason: reason.to_string(),
            entry,
        })
    }

    /// Executes the approved disbursements due by `day`; one the credit no
    /// longer covers is rejected.
    pub(crate) fn execute_disbursements(&mut self, day: NaiveDate) -> Result<(), CollectionsError> {
        let due: Vec<Disbursement> = self
            .account
            .disbursements
            .iter()
            .filter(|d| {
                matches!(d.status, DisbursementStatus::Approved { execute_on, .. } if execute_on <= day)
            })
            .cloned()
            .collect();
        for disbursement in due {
            if self.full() {
                break;
            }
            let held_by_others = self.account.reserved_credit() - disbursement.amount.amount;
            let event = if self.account.credit - held_by_others >= disbursement.amount.amount {
                CollectionsEvent::DisbursementExecuted {
                    account: self.account.locator.clone(),
                    disbursement: disbursement.locator.clone(),
                    amount: disbursement.amount,
                    on: day,
                    entry: self.next_entry(),
                }
            } else {
                CollectionsEvent::DisbursementRejected {
                    account: self.account.locator.clone(),
                    disbursement: disbursement.locator.clone(),
                    on: day,
                    reason: "the account's credit no longer covers it".into(),
                }
            };
            self.emit(event)?;
        }
        Ok(())
    }

    /// Places a hold.
    pub fn place_hold(
        &mut self,
        kind: &HoldKind,
        from: NaiveDate,
        reason: &str,
    ) -> Result<(), CollectionsError> {
        check_text("reason", reason)?;
        if let HoldKind::Suspension {
            until,
            catch_up_due_days,
        } = kind
        {
            if *until <= from {
                return Err(CollectionsError::SuspensionEndNotAfterStart {
                    from,
                    until: *until,
                });
            }
            if *catch_up_due_days > CATCH_UP_DUE_DAYS_MAX {
                return Err(CollectionsError::InvalidCatchUpDueDays {
                    days: *catch_up_due_days,
                });
            }
        }
        let hold = Hold {
            locator: self.locator("H", self.account.holds.len()),
            kind: kind.clone(),
            from,
            reason: reason.to_string(),
            released_on: None,
        };
        self.emit(CollectionsEvent::HoldPlaced {
            account: self.account.locator.clone(),
            hold,
        })
    }

    /// Releases a hold (or ends a suspension early) and bills what it kept
    /// back on one catch-up invoice.
    pub fn release_hold(&mut self, hold: &str, on: NaiveDate) -> Result<(), CollectionsError> {
        let found = self
            .account
            .hold(hold)
            .ok_or_else(|| self.not_found("hold", hold))?;
        if let Some(released_on) = found.released_on {
            return Err(CollectionsError::WrongState {
                what: "hold",
                locator: hold.to_string(),
                state: format!("released on {released_on}"),
                expected: "in force",
            });
        }
        if on < found.from {
            return Err(CollectionsError::DateBeforeRecord {
                what: "hold",
                locator: hold.to_string(),
                happened: "starts on",
                recorded_on: found.from,
                on,
            });
        }
        let catches_up = !matches!(found.kind, HoldKind::Delinquency);
        let due_days = self.end_hold(hold, on)?;
        if catches_up && !self.account.invoicing_blocked(on) {
            self.generate(&Generation {
                on,
                catch_up: true,
                early: false,
                due_days,
            })?;
        }
        Ok(())
    }

    /// Ends a hold on `on`, extending grace by the days it paused; returns a
    /// suspension's catch-up due days.
    pub(crate) fn end_hold(
        &mut self,
        hold: &str,
        on: NaiveDate,
    ) -> Result<Option<u32>, CollectionsError> {
        let found = self
            .account
            .hold(hold)
            .ok_or_else(|| self.not_found("hold", hold))?
            .clone();
        let pauses = !matches!(found.kind, HoldKind::Invoicing);
        let mut grace = Vec::new();
        if pauses {
            for delinquency in self
                .account
                .delinquencies
                .iter()
                .filter(|d| d.is_in_grace())
            {
                let paused_from = found.from.max(delinquency.started_on);
                if delinquency.grace_end >= paused_from && on > paused_from {
                    let days = (on - paused_from).num_days();
                    grace.push(GraceChange {
                        delinquency: delinquency.locator.clone(),
                        grace_end: crate::domain::add_days(delinquency.grace_end, days)
                            .map_err(CollectionsError::DateOutOfRange)?,
                    });
                }
            }
        }
        self.emit(CollectionsEvent::HoldReleased {
            account: self.account.locator.clone(),
            hold: hold.to_string(),
            on,
            grace,
        })?;
        Ok(match found.kind {
            HoldKind::Suspension {
                catch_up_due_days, ..
            } => Some(catch_up_due_days),
            _ => None,
        })
    }
}
