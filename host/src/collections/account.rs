//! The billing state of one account: what is waiting to be invoiced, its
//! invoices and what settled them, payments, credit, delinquencies, write-offs,
//! disbursements and holds. Changed only by applying events.

use super::delinquency::{Delinquency, DelinquencyStatus};
use super::disbursement::{Disbursement, DisbursementStatus};
use super::event::CollectionsEvent;
use super::fee::Fee;
use super::hold::Hold;
use super::invoice::{InvoiceRecord, InvoiceStream, ItemKind};
use super::payment::PaymentRecord;
use super::settings::AccountOverrides;
use super::write_off::WriteOffRecord;
use crate::domain::Currency;
use crate::policy::{Charge, InstallmentSlice, is_spread};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// An installment slice not yet invoiced, ordered by the date it is to be
/// invoiced on.
#[derive(
    utoipa::ToSchema, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
pub struct PendingSlice {
    pub date: NaiveDate,
    /// Its policy's locator: the allocation of the account's
    /// [`AccountBilling::policies`] entry, shared by all its slices.
    #[schema(value_type = String)]
    pub policy: arcstr::ArcStr,
    /// Its position in the policy's slices.
    pub index: u32,
}

/// A charge of the policy book billed whole, not yet invoiced.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PendingCharge {
    /// Its policy; none for an account's own flat charges.
    pub policy: Option<String>,
    pub locator: String,
    /// Its position in the policy's charges (or the book's account charges).
    pub index: u32,
}

/// One account's billing state.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AccountBilling {
    pub locator: String,
    pub currency: Currency,
    pub overrides: AccountOverrides,
    /// Its policies, in the order they were issued.
    #[schema(value_type = Vec<String>)]
    pub policies: Vec<arcstr::ArcStr>,
    #[schema(value_type = std::collections::BTreeSet<PendingSlice>)]
    pub pending_slices: crate::domain::CompactSet<PendingSlice>,
    pub pending_charges: Vec<PendingCharge>,
    pub pending_fees: Vec<Fee>,
    /// A persistent vector (`imbl`) of shared records: the copy a command is
    /// decided on shares them, and changing one invoice of the copy copies
    /// that invoice and a chunk of pointers (a few are kept inline).
    #[schema(value_type = Vec<InvoiceRecord>)]
    pub invoices: imbl::Vector<std::sync::Arc<InvoiceRecord>>,
    /// Positions of the invoices that still owe something (or are owed).
    pub open: BTreeSet<usize>,
    /// Shared with the copies a command is decided on (a persistent vector
    /// of shared records): copying an account with a long history costs
    /// nothing per payment, and a payment decided on the copy adds to it
    /// without copying the others.
    #[schema(value_type = Vec<PaymentRecord>)]
    pub payments: imbl::Vector<std::sync::Arc<PaymentRecord>>,
    /// Customer credit: what the account has paid in advance or been credited.
    /// Can go below zero when a payment whose overpayment was used is returned.
    pub credit: Decimal,
    /// The part of `credit` flagged for deductibles (seed 003): it pays
    /// deductible invoices only, and other invoices never take it.
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub deductible_credit: Decimal,
    /// The parts of `credit` reserved for a policy term or a transaction
    /// (seed 003): they pay only invoices of their scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scoped_credit: Vec<super::ScopedCredit>,
    pub credit_applications: u32,
    pub fees_booked: u32,
    pub delinquencies: Vec<Delinquency>,
    pub write_offs: Vec<WriteOffRecord>,
    pub disbursements: Vec<Disbursement>,
    pub holds: Vec<Hold>,
    /// The last date a billing run finished the account through.
    pub processed_through: Option<NaiveDate>,
    /// The first invoice of each (policy, term) (seed 002).
    #[serde(skip)]
    pub first_invoices: BTreeMap<(String, u32), String>,
    pub confirmed_terms: BTreeSet<(String, u32)>,
}

/// The position encoded in a locator `<account>-<tag><n>`.
fn position(account: &str, tag: &str, locator: &str) -> Option<usize> {
    let number: usize = locator
        .strip_prefix(account)?
        .strip_prefix('-')?
        .strip_prefix(tag)?
        .parse()
        .ok()?;
    number.checked_sub(1)
}

impl AccountBilling {
    pub fn new(locator: &str, currency: Currency) -> Self {
        AccountBilling {
            locator: locator.to_string(),
            currency,
            overrides: AccountOverrides::default(),
            policies: Vec::new(),
            pending_slices: crate::domain::CompactSet::new(),
            pending_charges: Vec::new(),
            pending_fees: Vec::new(),
            invoices: imbl::Vector::new(),
            open: BTreeSet::new(),
            payments: imbl::Vector::new(),
            credit: Decimal::ZERO,
            deductible_credit: Decimal::ZERO,
            scoped_credit: Vec::new(),
            credit_applications: 0,
            fees_booked: 0,
            delinquencies: Vec::new(),
            write_offs: Vec::new(),
            disbursements: Vec::new(),
            holds: Vec::new(),
            processed_through: None,
            first_invoices: BTreeMap::new(),
            confirmed_terms: BTreeSet::new(),
        }
    }

    /// The locator of the next record of a kind: `<account>-<tag><count + 1>`.
    pub fn next_locator(&self, tag: &str, count: usize) -> String {
        format!("{}-{tag}{}", self.locator, count + 1)
    }

    pub fn invoice_position(&self, locator: &str) -> Option<usize> {
        position(&self.locator, "I", locator).filter(|i| *i < self.invoices.len())
    }

    pub fn invoice(&self, locator: &str) -> Option<&InvoiceRecord> {
        self.invoice_position(locator).map(|i| &*self.invoices[i])
    }

    pub fn payment(&self, locator: &str) -> Option<&PaymentRecord> {
        position(&self.locator, "P", locator)
            .and_then(|i| self.payments.get(i))
            .map(|p| &**p)
    }

    pub fn write_off(&self, locator: &str) -> Option<&WriteOffRecord> {
        position(&self.locator, "W", locator).and_then(|i| self.write_offs.get(i))
    }

    pub fn disbursement(&self, locator: &str) -> Option<&Disbursement> {
        position(&self.locator, "D", locator).and_then(|i| self.disbursements.get(i))
    }

    pub fn hold(&self, locator: &str) -> Option<&Hold> {
        position(&self.locator, "H", locator).and_then(|i| self.holds.get(i))
    }

    pub fn delinquency(&self, locator: &str) -> Option<&Delinquency> {
        position(&self.locator, "Q", locator).and_then(|i| self.delinquencies.get(i))
    }

    /// What the open invoices still owe, together: the billed receivable.
    pub fn open_balance(&self) -> Decimal {
        self.open
            .iter()
            .map(|i| self.invoices[*i].outstanding())
            .sum()
    }

    /// Credit held back by drafted and approved disbursements.
    pub fn reserved_credit(&self) -> Decimal {
        self.disbursements
            .iter()
            .filter(|d| d.status.is_pending())
            .map(|d| d.amount.amount)
            .sum()
    }

    /// Credit reserved for policy terms and transactions, together.
    pub fn scoped_total(&self) -> Decimal {
        self.scoped_credit.iter().map(|s| s.amount).sum()
    }

    /// Credit reserved for `scope`.
    pub fn scoped(&self, scope: &super::CreditScope) -> Decimal {
        self.scoped_credit
            .iter()
            .find(|s| &s.scope == scope)
            .map_or(Decimal::ZERO, |s| s.amount)
    }

    fn add_scoped(&mut self, scope: &super::CreditScope, amount: Decimal) {
        match self.scoped_credit.iter_mut().find(|s| &s.scope == scope) {
            Some(found) => found.amount += amount,
            None => self.scoped_credit.push(super::ScopedCredit {
                scope: scope.clone(),
                amount,
            }),
        }
        self.scoped_credit.retain(|s| !s.amount.is_zero());
    }

    /// Free credit that may be applied to any invoice or refunded: the
    /// credit less what pending disbursements hold back and what is
    /// reserved for terms and transactions, never below zero.
    pub fn available_credit(&self) -> Decimal {
        (self.credit - self.reserved_credit() - self.scoped_total().max(Decimal::ZERO))
            .max(Decimal::ZERO)
    }

    /// Credit that may be applied to invoices of `stream` (seed 003): the
    /// flagged credit for deductible invoices, the rest for the others.
    /// Pending disbursements hold back ordinary credit first.
    ///
    /// Example: 300.00 of credit of which 200.00 came from a payment flagged
    /// for deductibles: 200.00 for deductible invoices, 100.00 for the others.
    pub fn credit_for(&self, stream: InvoiceStream) -> Decimal {
        let available = self.available_credit();
        let flagged = self.deductible_credit.max(Decimal::ZERO).min(available);
        match stream {
            InvoiceStream::Deductible => flagged,
            InvoiceStream::Premium => available - flagged,
        }
    }

    /// The stream of the invoice `locator` (premium when unknown).
    pub fn stream_of(&self, locator: &str) -> InvoiceStream {
        self.invoice(locator)
            .map_or(InvoiceStream::Premium, |r| r.invoice.stream)
    }

    /// Whether invoicing is held on `date`.
    pub fn invoicing_blocked(&self, date: NaiveDate) -> bool {
        self.holds.iter().any(|h| h.blocks_invoicing(date))
    }

    /// Whether grace is paused on `date`.
    pub fn grace_paused(&self, date: NaiveDate) -> bool {
        self.holds.iter().any(|h| h.pauses_grace(date))
    }

    /// Whether any installment of `policy` is waiting to be invoiced.
    pub fn has_pending_slices(&self, policy: &str) -> bool {
        self.pending_slices.iter().any(|s| s.policy == policy)
    }

    /// Open invoices, oldest due first.
    pub fn open_by_age(&self) -> Vec<usize> {
        let mut open: Vec<usize> = self.open.iter().copied().collect();
        open.sort_by_key(|i| self.invoices[*i].age_key());
        open
    }

    fn touch(&mut self, position: usize) {
        if self.invoices[position].outstanding().is_zero() {
            self.open.remove(&position);
        } else {
            self.open.insert(position);
        }
    }

    fn settle(&mut self, invoice: &str, change: impl FnOnce(&mut InvoiceRecord)) {
        if let Some(position) = self.invoice_position(invoice) {
            change(std::sync::Arc::make_mut(&mut self.invoices[position]));
            self.touch(position);
        }
    }

    /// A new policy of the account.
    pub fn add_policy(&mut self, policy: &str) {
        self.policies.push(policy.into());
    }

    /// `policy`'s locator as the account keeps it: its entry in
    /// [`Self::policies`] (newest first: slices usually arrive for a recent
    /// policy), or a new allocation for a policy it does not list.
    fn shared_locator(&self, policy: &str) -> arcstr::ArcStr {
        self.policies
            .iter()
            .rev()
            .find(|p| **p == policy)
            .cloned()
            .unwrap_or_else(|| policy.into())
    }

    /// Makes the pending slices share their policy's locator with
    /// [`Self::policies`] (a decoded account reads one string per slice).
    /// One look-up per slice in a map of the policies (slices are sorted by
    /// date first, so a fleet account's slices alternate between policies).
    pub fn share_locators(&mut self) {
        let shared: std::collections::HashMap<&str, &arcstr::ArcStr> =
            self.policies.iter().map(|p| (p.as_str(), p)).collect();
        let slices = std::mem::take(&mut self.pending_slices)
            .iter()
            .map(|slice| PendingSlice {
                policy: shared
                    .get(slice.policy.as_str())
                    .map(|p| (*p).clone())
                    .unwrap_or_else(|| slice.policy.clone()),
                ..slice.clone()
            })
            .collect();
        self.pending_slices = slices;
    }

    /// Installment slices booked for `policy`, the first at position `base`.
    pub fn add_slices(&mut self, policy: &str, base: usize, slices: &[InstallmentSlice]) {
        self.pending_slices.reserve(slices.len());
        let policy = self.shared_locator(policy);
        for (offset, slice) in slices.iter().enumerate() {
            if !slice.amount.is_zero() {
                self.pending_slices.insert(PendingSlice {
                    date: slice.invoice_date,
                    policy: policy.clone(),
                    index: (base + offset) as u32,
                });
            }
        }
    }

    /// Slices withdrawn before they were invoiced.
    pub fn withdraw_slices(&mut self, policy: &str, indices: &[u32]) {
        if indices.is_empty() {
            return;
        }
        let indices: BTreeSet<u32> = indices.iter().copied().collect();
        self.pending_slices
            .retain(|s| s.policy != policy || !indices.contains(&s.index));
    }

    /// Charges booked (for `policy`, or the account's own), the first at
    /// position `base`: those billed whole wait for an invoice.
    pub fn add_charges(&mut self, policy: Option<&str>, base: usize, charges: &[Charge]) {
        for (offset, charge) in charges.iter().enumerate() {
            if charge.category.is_billed() && !is_spread(charge) && !charge.amount.is_zero() {
                self.pending_charges.push(PendingCharge {
                    policy: policy.map(str::to_string),
                    locator: charge.locator.clone(),
                    index: (base + offset) as u32,
                });
            }
        }
    }

    /// Applies an event of this account.
    pub fn apply(&mut self, event: &CollectionsEvent) {
        use CollectionsEvent as E;
        match event {
            E::BillingConfigured { .. } => {}
            E::AccountConfigured { overrides, .. } => self.overrides = overrides.clone(),
            E::FeesCharged { fees, .. } => {
                self.fees_booked += fees.len() as u32;
                self.pending_fees.extend(fees.iter().cloned());
            }
            E::InvoiceIssued { invoice } => {
                for item in &invoice.items {
                    match item.kind {
                        ItemKind::Installment => {
                            if let Some(slice) = &item.slice {
                                self.pending_slices.remove(&PendingSlice {
                                    date: slice.invoice_date,
                                    policy: slice.policy.as_str().into(),
                                    index: slice.index,
                                });
                                self.first_invoices
                                    .entry((slice.policy.clone(), slice.term))
                                    .or_insert_with(|| invoice.locator.clone());
                            }
                        }
                        ItemKind::Charge => {
                            self.pending_charges.retain(|c| c.locator != item.charge)
                        }
                        ItemKind::Fee => self.pending_fees.retain(|f| f.locator != item.charge),
                    }
                }
                self.invoices
                    .push_back(std::sync::Arc::new(InvoiceRecord::new(invoice.clone())));
                self.touch(self.invoices.len() - 1);
            }
            E::CreditIssued {
                invoice, amount, ..
            } => {
                self.credit += amount.amount;
                if self.stream_of(invoice) == InvoiceStream::Deductible {
                    self.deductible_credit += amount.amount;
                }
                self.settle(invoice, |r| r.credited -= amount.amount);
            }
            E::CreditApplied {
                allocations,
                total,
                scope,
                ..
            } => {
                self.credit_applications += 1;
                self.credit -= total.amount;
                if let Some(scope) = scope {
                    self.add_scoped(scope, -total.amount);
                }
                for allocation in allocations {
                    if self.stream_of(&allocation.invoice) == InvoiceStream::Deductible {
                        self.deductible_credit -= allocation.amount;
                    }
                    self.settle(&allocation.invoice, |r| r.credited += allocation.amount);
                }
            }
            E::PaymentReceived { payment } => {
                self.credit += payment.to_credit;
                if payment.for_deductibles {
                    self.deductible_credit += payment.to_credit;
                }
                if let Some(scope) = &payment.reserved_for {
                    self.add_scoped(scope, payment.to_credit);
                }
                for allocation in &payment.allocations {
                    self.settle(&allocation.invoice, |r| r.paid += allocation.amount);
                }
                self.payments.push_back(std::sync::Arc::new(PaymentRecord {
                    payment: payment.clone(),
                    reversed_on: None,
                }));
            }
            E::PaymentReversed {
                payment,
                on,
                allocations,
                to_credit,
                ..
            } => {
                self.credit -= *to_credit;
                if self
                    .payment(payment)
                    .is_some_and(|r| r.payment.for_deductibles)
                {
                    self.deductible_credit -= *to_credit;
                }
                if let Some(scope) = self
                    .payment(payment)
                    .and_then(|r| r.payment.reserved_for.clone())
                {
                    self.add_scoped(&scope, -*to_credit);
                }
                for allocation in allocations {
                    self.settle(&allocation.invoice, |r| r.paid -= allocation.amount);
                }
                if let Some(i) = position(&self.locator, "P", payment) {
                    std::sync::Arc::make_mut(&mut self.payments[i]).reversed_on = Some(*on);
                }
            }
            E::InvoicePastDue { invoice, on, .. } => {
                self.settle(invoice, |r| r.past_due_on = Some(*on));
            }
            E::DelinquencyStarted { delinquency } => self.delinquencies.push(delinquency.clone()),
            E::DelinquencyEnded {
                delinquency, on, ..
            } => self.set_delinquency(delinquency, DelinquencyStatus::Ended { on: *on }),
            E::DelinquencyLapsed {
                delinquency,
                on,
                effective,
                ..
            } => self.set_delinquency(
                delinquency,
                DelinquencyStatus::Lapsed {
                    on: *on,
                    effective: *effective,
                },
            ),
            E::DelinquencyClosedByReinstatement {
                delinquency,
                on,
                policy,
                transaction,
                successor,
                grace,
                ..
            } => {
                self.set_delinquency(
                    delinquency,
                    DelinquencyStatus::ClosedByReinstatement {
                        on: *on,
                        policy: policy.clone(),
                        transaction: transaction.clone(),
                        successor: successor.clone(),
                    },
                );
                for change in grace {
                    if let Some(i) = position(&self.locator, "Q", &change.delinquency)
                        .filter(|i| *i < self.delinquencies.len())
                    {
                        self.delinquencies[i].grace_end = change.grace_end;
                    }
                }
            }
            E::TermConfirmed { policy, term, .. } => {
                self.confirmed_terms.insert((policy.clone(), *term));
            }
            E::WrittenOff { write_off } => {
                let amount = write_off.amount.amount;
                let item = write_off.item.clone();
                self.settle(&write_off.invoice, |r| {
                    r.written_off += amount;
                    if let Some(item) = item {
                        *r.item_written_off.entry(item).or_default() += amount;
                    }
                });
                self.write_offs.push(WriteOffRecord {
                    write_off: write_off.clone(),
                    reversed_on: None,
                });
            }
            E::WriteOffReversed {
                write_off,
                invoice,
                item,
                amount,
                on,
                ..
            } => {
                let item = item.clone();
                self.settle(invoice, |r| {
                    r.written_off -= amount.amount;
                    r.keep_collecting = true;
                    if let Some(item) = item {
                        *r.item_written_off.entry(item).or_default() -= amount.amount;
                    }
                });
                if let Some(i) = position(&self.locator, "W", write_off) {
                    self.write_offs[i].reversed_on = Some(*on);
                }
            }
            E::DisbursementDrafted { disbursement } => {
                self.disbursements.push(disbursement.clone())
            }
            E::DisbursementApproved {
                disbursement,
                on,
                execute_on,
                ..
            } => self.set_disbursement(
                disbursement,
                DisbursementStatus::Approved {
                    on: *on,
                    execute_on: *execute_on,
                },
            ),
            E::DisbursementRejected {
                disbursement,
                on,
                reason,
                ..
            } => self.set_disbursement(
                disbursement,
                DisbursementStatus::Rejected {
                    on: *on,
                    reason: reason.clone(),
                },
            ),
            E::DisbursementExecuted {
                disbursement,
                amount,
                on,
                entry,
                ..
            } => {
                self.credit -= amount.amount;
                self.set_disbursement(
                    disbursement,
                    DisbursementStatus::Executed {
                        on: *on,
                        entry: *entry,
                    },
                );
            }
            E::DisbursementReversed {
                disbursement,
                amount,
                on,
                reason,
                ..
            } => {
                self.credit += amount.amount;
                let executed_on = match self.disbursement(disbursement).map(|d| &d.status) {
                    Some(DisbursementStatus::Executed { on, .. }) => *on,
                    _ => *on,
                };
                self.set_disbursement(
                    disbursement,
                    DisbursementStatus::Reversed {
                        on: *on,
                        executed_on,
                        reason: reason.clone(),
                    },
                );
            }
            E::HoldPlaced { hold, .. } => self.holds.push(hold.clone()),
            E::HoldReleased {
                hold, on, grace, ..
            } => {
                if let Some(i) = position(&self.locator, "H", hold) {
                    self.holds[i].released_on = Some(*on);
                }
                for change in grace {
                    if let Some(i) = position(&self.locator, "Q", &change.delinquency) {
                        self.delinquencies[i].grace_end = change.grace_end;
                    }
                }
            }
            E::BilledThrough { through, .. } => self.processed_through = Some(*through),
        }
    }

    fn set_delinquency(&mut self, locator: &str, status: DelinquencyStatus) {
        if let Some(i) = position(&self.locator, "Q", locator) {
            self.delinquencies[i].status = status;
        }
    }

    fn set_disbursement(&mut self, locator: &str, status: DisbursementStatus) {
        if let Some(i) = position(&self.locator, "D", locator) {
            self.disbursements[i].status = status;
        }
    }
}
