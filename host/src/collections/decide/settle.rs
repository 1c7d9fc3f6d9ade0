//! Settling invoices: payments (allocated to named invoices, or oldest due
//! first; the rest to credit), returned payments (every allocation undone, an
//! optional fee), credit applied automatically or by hand; and what settling
//! does: a delinquency paid in full during grace ends, and a term whose first
//! invoice is paid is confirmed (seed 002).
//!
//! Deductibles (seed 003): a payment flagged for deductibles settles open
//! deductible invoices (oldest due first) and may name only those; what it
//! leaves is credit flagged for deductibles, which pays deductible invoices
//! only, while other credit never pays them. Example: 700.00 flagged for
//! deductibles with a deductible invoice of 500.00 and a premium invoice of
//! 100.00 open pays the deductible and leaves 200.00 of deductible credit;
//! the premium invoice still owes 100.00.
//!
//! Choices: a payment naming invoices settles only those, in the order named,
//! and the rest goes to credit (it is not spread over other invoices). A
//! returned payment takes back the credit it gave even when that credit was
//! already used, so credit can go below zero; nothing is applied or refunded
//! from it until payments bring it back above zero. A returned payment reopens
//! the invoices it paid; those past their due date are past due again from
//! that day and start a new delinquency at once, with a full grace period from
//! the day the payment came back.

use super::super::command::CreditTarget;
use super::super::credit_scope::CreditScope;
use super::super::error::CollectionsError;
use super::super::event::{CollectionsEvent, CreditReason};
use super::super::fee::{Fee, FeeReason, REVERSAL_FEE_CHARGE};
use super::super::invoice::InvoiceStream;
use super::super::payment::{Allocation, Payment, TARGETS_MAX, allocate};
use super::super::settings::DelinquencyScope;
use super::{Decider, check_text};
use crate::ledger::ChargeCategory;
use chrono::NaiveDate;
use rust_decimal::Decimal;

impl Decider<'_> {
    /// Invoice positions named by locator, refusing unknown ones and repeats.
    fn targets(&self, invoices: &[String]) -> Result<Vec<usize>, CollectionsError> {
        if invoices.len() > TARGETS_MAX {
            return Err(CollectionsError::TooManyInvoices { max: TARGETS_MAX });
        }
        let mut positions = Vec::with_capacity(invoices.len());
        for invoice in invoices {
            let position = self
                .account
                .invoice_position(invoice)
                .ok_or_else(|| self.not_found("invoice", invoice))?;
            if positions.contains(&position) {
                return Err(CollectionsError::InvoiceNamedTwice {
                    invoice: invoice.clone(),
                });
            }
            positions.push(position);
        }
        Ok(positions)
    }

    /// Records a payment. One made for a policy term or a transaction
    /// (`reserved_for`, seed 003) settles, without `invoices`, the open
    /// invoices of its scope only, oldest due first; what it leaves is
    /// credit reserved for that scope, and with "apply to future
    /// installments on collection" it pays the scope's next installments at
    /// once (see [`Decider::apply_to_future_installments`]).
    pub fn record_payment(
        &mut self,
        amount: Decimal,
        received_on: NaiveDate,
        invoices: &[String],
        reference: &str,
        for_deductibles: bool,
        reserved_for: Option<&CreditScope>,
    ) -> Result<(), CollectionsError> {
        let amount = self.positive("payment", amount)?;
        check_text("reference", reference)?;
        if let Some(scope) = reserved_for {
            if for_deductibles {
                return Err(CollectionsError::ReservedForDeductibles);
            }
            self.check_scope(scope)?;
        }
        let deductible =
            |i: &usize| self.account.invoices[*i].invoice.stream == InvoiceStream::Deductible;
        let targets = if invoices.is_empty() {
            let open = self.account.open_by_age();
            match reserved_for {
                Some(scope) => open
                    .into_iter()
                    .filter(|i| self.scope_covers(scope, *i))
                    .collect(),
                None if for_deductibles => open.into_iter().filter(deductible).collect(),
                None => open,
            }
        } else {
            self.targets(invoices)?
        };
        if for_deductibles && let Some(other) = targets.iter().find(|i| !deductible(i)) {
            return Err(CollectionsError::NotDeductible {
                invoice: self.account.invoices[*other].invoice.locator.clone(),
            });
        }
        let (allocations, left) = allocate(
            amount.amount,
            targets.iter().map(|i| &*self.account.invoices[*i]),
        );
        let payment = Payment {
            locator: self.locator("P", self.account.payments.len()),
            account: self.account.locator.clone(),
            amount,
            received_on,
            reference: reference.to_string(),
            allocations,
            to_credit: left,
            for_deductibles,
            reserved_for: reserved_for.cloned(),
            entry: self.next_entry(),
        };
        self.emit(CollectionsEvent::PaymentReceived { payment })?;
        if let Some(scope) = reserved_for
            && left > Decimal::ZERO
        {
            self.apply_to_future_installments(scope, received_on)?;
        }
        self.after_settlement(received_on)
    }

    /// Refuses a scope that names a policy of another account, a term the
    /// policy does not have, or a transaction of another policy.
    fn check_scope(&self, scope: &CreditScope) -> Result<(), CollectionsError> {
        let unknown = || CollectionsError::UnknownCreditScope {
            scope: format!("{scope:?}").chars().take(200).collect(),
        };
        let policy = self
            .book
            .policies
            .get(scope.policy())
            .filter(|p| p.header.account == self.account.locator)
            .ok_or_else(unknown)?;
        let known = match scope {
            CreditScope::Term { term, .. } => policy.terms.iter().any(|t| t.number == *term),
            CreditScope::Transaction { transaction, .. } => {
                policy.transaction(transaction).is_some()
            }
        };
        if !known {
            return Err(unknown());
        }
        Ok(())
    }

    /// Whether credit reserved for `scope` may pay the invoice at `position`.
    pub(crate) fn scope_covers(&self, scope: &CreditScope, position: usize) -> bool {
        let invoice = &self.account.invoices[position].invoice;
        invoice.stream == InvoiceStream::Premium
            && scope.covers(invoice, |policy, transaction| {
                self.book
                    .policies
                    .get(policy)
                    .and_then(|p| p.transaction(transaction))
                    .map(|t| t.term)
            })
    }

    /// Reverses a payment: its allocations are undone and its credit taken
    /// back; a fee, if given, is billed on the next invoice.
    pub fn reverse_payment(
        &mut self,
        payment: &str,
        on: NaiveDate,
        fee: Option<Decimal>,
        reason: &str,
    ) -> Result<(), CollectionsError> {
        check_text("reason", reason)?;
        let record = self
            .account
            .payment(payment)
            .ok_or_else(|| self.not_found("payment", payment))?
            .clone();
        if let Some(on) = record.reversed_on {
            return Err(CollectionsError::AlreadyReversed {
                what: "payment",
                locator: payment.to_string(),
                on,
            });
        }
        if on < record.payment.received_on {
            return Err(CollectionsError::DateBeforeRecord {
                what: "payment",
                locator: payment.to_string(),
                happened: "was received on",
                recorded_on: record.payment.received_on,
                on,
            });
        }
        let fee = fee.map(|f| self.positive("reversal fee", f)).transpose()?;
        self.emit(CollectionsEvent::PaymentReversed {
            account: self.account.locator.clone(),
            payment: payment.to_string(),
            on,
            reason: reason.to_string(),
            allocations: record.payment.allocations.clone(),
            to_credit: record.payment.to_credit,
            entry: record.payment.entry,
        })?;
        if let Some(amount) = fee {
            let policy = record
                .payment
                .allocations
                .iter()
                .filter_map(|a| self.account.invoice(&a.invoice))
                .find_map(|r| r.invoice.policies().first().map(|p| p.to_string()));
            let fee = Fee {
                locator: self.locator("X", self.account.fees_booked as usize),
                account: self.account.locator.clone(),
                policy,
                charge: REVERSAL_FEE_CHARGE.to_string(),
                category: ChargeCategory::Fee,
                amount,
                booked_on: on,
                description: format!("Fee for returned payment {payment}"),
                reason: FeeReason::PaymentReversal {
                    payment: payment.to_string(),
                },
            };
            self.emit(CollectionsEvent::FeesCharged {
                account: self.account.locator.clone(),
                on,
                fees: vec![fee],
            })?;
        }
        self.mark_past_due(on)?;
        self.start_delinquencies(on)
    }

    /// Applies credit by hand: to the invoices named (each up to the amount
    /// given, or all it owes), or oldest due first.
    pub fn distribute_credit(
        &mut self,
        on: NaiveDate,
        targets: &[CreditTarget],
    ) -> Result<(), CollectionsError> {
        if self.account.available_credit() <= Decimal::ZERO {
            return Err(CollectionsError::NoCreditToDistribute {
                account: self.account.locator.clone(),
            });
        }
        let allocations = if targets.is_empty() {
            self.credit_allocations(&self.account.open_by_age())
        } else {
            let mut available = [InvoiceStream::Premium, InvoiceStream::Deductible]
                .map(|stream| (stream, self.account.credit_for(stream)));
            let names: Vec<String> = targets.iter().map(|t| t.invoice.clone()).collect();
            let positions = self.targets(&names)?;
            let mut allocations = Vec::new();
            for (target, position) in targets.iter().zip(positions) {
                let stream = self.account.invoices[position].invoice.stream;
                let pool = &mut available
                    .iter_mut()
                    .find(|(s, _)| *s == stream)
                    .expect("both streams")
                    .1;
                let owed = self.account.invoices[position].outstanding();
                let wanted = match target.amount {
                    Some(amount) => self.positive("credit", amount)?.amount,
                    None => owed,
                };
                if wanted > owed || wanted > *pool {
                    return Err(CollectionsError::CreditTooLarge {
                        invoice: target.invoice.clone(),
                        wanted,
                        owed,
                        available: *pool,
                    });
                }
                if wanted > Decimal::ZERO {
                    *pool -= wanted;
                    allocations.push(Allocation {
                        invoice: target.invoice.clone(),
                        amount: wanted,
                    });
                }
            }
            allocations
        };
        if allocations.is_empty() {
            return Err(CollectionsError::NoOpenInvoice);
        }
        self.emit_credit(allocations, on, CreditReason::Distribution, None)?;
        self.after_settlement(on)
    }

    /// Applies available credit to the invoices at `positions`, in order:
    /// first credit reserved for a term or transaction to the invoices of
    /// its scope (seed 003), then the account's free credit.
    pub(crate) fn apply_credit(
        &mut self,
        positions: &[usize],
        on: NaiveDate,
        reason: CreditReason,
    ) -> Result<(), CollectionsError> {
        if positions.is_empty() {
            return Ok(());
        }
        let scopes: Vec<(CreditScope, Decimal)> = self
            .account
            .scoped_credit
            .iter()
            .filter(|s| s.amount > Decimal::ZERO)
            .map(|s| (s.scope.clone(), s.amount))
            .collect();
        for (scope, available) in scopes {
            let covered = positions
                .iter()
                .filter(|i| self.scope_covers(&scope, **i))
                .map(|i| &*self.account.invoices[*i]);
            let (allocations, _) = allocate(available, covered);
            if !allocations.is_empty() {
                self.emit_credit(allocations, on, reason, Some(scope))?;
            }
        }
        if self.account.available_credit() <= Decimal::ZERO {
            return Ok(());
        }
        let allocations = self.credit_allocations(positions);
        if allocations.is_empty() {
            return Ok(());
        }
        self.emit_credit(allocations, on, reason, None)
    }

    /// Available credit spread over the invoices at `positions`, in order,
    /// each from the credit of its stream (seed 003): deductible invoices
    /// from credit flagged for deductibles, the others from the rest.
    fn credit_allocations(&self, positions: &[usize]) -> Vec<Allocation> {
        let mut allocations = Vec::new();
        for stream in [InvoiceStream::Premium, InvoiceStream::Deductible] {
            let available = self.account.credit_for(stream);
            if available <= Decimal::ZERO {
                continue;
            }
            let of_stream = positions
                .iter()
                .map(|i| &*self.account.invoices[*i])
                .filter(|r| r.invoice.stream == stream);
            allocations.extend(allocate(available, of_stream).0);
        }
        let order = |a: &Allocation| {
            positions
                .iter()
                .position(|i| self.account.invoices[*i].invoice.locator == a.invoice)
        };
        allocations.sort_by_key(order);
        allocations
    }

    fn emit_credit(
        &mut self,
        allocations: Vec<Allocation>,
        on: NaiveDate,
        reason: CreditReason,
        scope: Option<CreditScope>,
    ) -> Result<(), CollectionsError> {
        let total: Decimal = allocations.iter().map(|a| a.amount).sum();
        self.emit(CollectionsEvent::CreditApplied {
            account: self.account.locator.clone(),
            locator: self.locator("C", self.account.credit_applications as usize),
            on,
            reason,
            allocations,
            total: self.money(total),
            scope,
        })
    }

    /// Seed 003's "Apply When Policy Term is effective": credit goes to open
    /// invoices whose terms have started by `day`, oldest due first.
    pub(crate) fn apply_credit_to_effective_terms(
        &mut self,
        day: NaiveDate,
    ) -> Result<(), CollectionsError> {
        if !self.settings.credit.apply_when_term_effective {
            return Ok(());
        }
        let targets: Vec<usize> = self
            .account
            .open_by_age()
            .into_iter()
            .filter(|i| self.account.invoices[*i].invoice.effective_on <= day)
            .collect();
        let reserved = self.account.scoped_total() > Decimal::ZERO;
        if targets.is_empty() || (self.account.available_credit() <= Decimal::ZERO && !reserved) {
            return Ok(());
        }
        self.apply_credit(&targets, day, CreditReason::TermEffective)?;
        self.after_settlement(day)
    }

    /// What settling may have done: end delinquencies paid in full, confirm
    /// terms whose first invoice is paid.
    pub(crate) fn after_settlement(&mut self, on: NaiveDate) -> Result<(), CollectionsError> {
        let ended: Vec<String> = self
            .account
            .delinquencies
            .iter()
            .filter(|d| d.is_in_grace())
            .filter(|d| {
                let settled = |owed: Decimal| owed <= Decimal::ZERO;
                match d.scope {
                    DelinquencyScope::PerInvoice => d.invoices.iter().all(|i| {
                        self.account
                            .invoice(i)
                            .is_none_or(|r| settled(r.outstanding()))
                    }),
                    DelinquencyScope::PerPolicy => self.account.invoices.iter().all(|r| {
                        r.past_due_on.is_none()
                            || !d.policies.iter().any(|p| r.invoice.bills_policy(p))
                            || settled(r.outstanding())
                    }),
                }
            })
            .map(|d| d.locator.clone())
            .collect();
        for delinquency in ended {
            self.emit(CollectionsEvent::DelinquencyEnded {
                account: self.account.locator.clone(),
                delinquency,
                on,
            })?;
        }
        self.confirm_terms(None, on)
    }

    /// Confirms the terms whose first invoice is paid: those of the invoice
    /// at `position`, or of every invoice.
    pub(crate) fn confirm_terms(
        &mut self,
        position: Option<usize>,
        on: NaiveDate,
    ) -> Result<(), CollectionsError> {
        let only = position.map(|i| self.account.invoices[i].invoice.locator.clone());
        let confirmed: Vec<(String, u32, String)> = self
            .account
            .first_invoices
            .iter()
            .filter(|(_, invoice)| only.as_ref().is_none_or(|o| o == *invoice))
            .filter(|(key, _)| !self.account.confirmed_terms.contains(key))
            .filter(|(_, invoice)| self.account.invoice(invoice).is_some_and(|r| r.is_paid()))
            .map(|((policy, term), invoice)| (policy.clone(), *term, invoice.clone()))
            .collect();
        for (policy, term, invoice) in confirmed {
            self.emit(CollectionsEvent::TermConfirmed {
                account: self.account.locator.clone(),
                policy,
                term,
                invoice,
                on,
            })?;
        }
        Ok(())
    }
}
