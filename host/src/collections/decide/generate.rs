//! Generating invoices: the slices due on a day grouped by account, policy or
//! currency ("separate invoices by"), with the charges and fees that ride on
//! the next invoice; the product's invoicing plugin asked for fees and a due
//! date (only for an invoice that bills something: never a credit invoice or
//! one netting to zero); the invoice issued; a credit invoice turned into credit; credit
//! applied as the settings say.
//!
//! Dates: an invoice is issued on the run's day (seed 003: or the earliest
//! charge date when billing in advance) and is due `invoice_due_days` later,
//! but never before the earliest due date of the installments it bills. A
//! catch-up invoice of a suspension is due its set number of days after the
//! suspension ends. Charges and fees billed on their own are due after the
//! gap between generating and due in their policy's plan (seed 001: "relevant
//! installment preferences"), or `invoice_due_days`, whichever is later.
//!
//! Deductible invoices (seed 003): charges of the `deductible` category are
//! never mixed with premium. Each group of lines is split by stream and the
//! deductibles go on invoices of their own, issued on the generation day
//! (the charge date, or the day of generation when that has passed: a charge
//! is never billed before it is booked) and due `deductible_invoice_due_days`
//! later (the tenant's or the account's; `invoice_due_days` when unset).
//! Example: with 15 invoice due days and 30 deductible due days, an
//! `immediate` flat premium of 100.00 and a deductible of 500.00 booked on
//! 2026-03-10 make two invoices issued that day: 100.00 due 2026-03-25 and a
//! deductible invoice of 500.00 due 2026-04-09.
//!
//! Charges billed whole (seed 001): an `immediate` charge goes on a new invoice
//! at once, with every other charge of its transaction and every pending
//! `next` charge and fee of the account; a `next` charge rides on the next
//! invoice of its policy, or is billed at once when the policy has no
//! installment left to invoice; a charge of the account alone (no policy)
//! waits for the account's next invoice.

use super::super::account::{PendingCharge, PendingSlice};
use super::super::adjuster::PLUGIN_LINES_MAX;
use super::super::error::CollectionsError;
use super::super::event::{CollectionsEvent, CreditReason};
use super::super::fee::{Fee, FeeReason};
use super::super::invoice::{
    INVOICE_ITEMS_MAX, Invoice, InvoiceItem, InvoiceStream, ItemKind, SliceRef,
};
use super::super::settings::SeparateBy;
use super::{Decider, plus_days};
use crate::billing::{invoice_due_date, sends_invoice};
use crate::domain::Money;
use crate::invoicing::{Coverage, DraftInvoice, DraftItem, PolicyStatus};
use crate::ledger::ChargeCategory;
use crate::policy::{Charge, Invoicing};
use crate::rating::Segment;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

/// One invoice generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generation {
    pub on: NaiveDate,
    /// The catch-up invoice of a hold or suspension: everything pending goes.
    pub catch_up: bool,
    /// Days to pay, replacing the usual due date.
    pub due_days: Option<u32>,
    /// Installments invoiced ahead of their date (seed 003's "apply to
    /// future installments on collection"): issued on `on`, not on their
    /// invoice date.
    pub early: bool,
}

/// Something to put on an invoice.
#[derive(Debug, Clone)]
enum Line {
    Slice(PendingSlice),
    Pending(PendingCharge),
    /// A charge just booked by the command being decided.
    New(Box<Charge>),
    Fee(Fee),
}

impl Line {
    fn policy(&self) -> Option<&str> {
        match self {
            Line::Slice(s) => Some(&s.policy),
            Line::Pending(c) => c.policy.as_deref(),
            Line::New(c) => c.policy.as_deref(),
            Line::Fee(f) => f.policy.as_deref(),
        }
    }
}

type Groups = BTreeMap<Option<String>, Vec<Line>>;

impl Decider<'_> {
    /// Generates the invoices due on `generation.on`. False when the decision
    /// is full and the rest waits for the next command.
    pub(crate) fn generate(&mut self, generation: &Generation) -> Result<bool, CollectionsError> {
        let due = self.slices_due(generation.on);
        let due_keys: BTreeSet<(&str, u32)> =
            due.iter().map(|s| (s.policy.as_str(), s.index)).collect();
        let remaining: BTreeSet<&str> = self
            .account
            .pending_slices
            .iter()
            .filter(|s| !due_keys.contains(&(s.policy.as_str(), s.index)))
            .map(|s| s.policy.as_str())
            .collect();
        let mut groups: Groups = BTreeMap::new();
        for slice in due {
            groups
                .entry(self.group_key(Some(&slice.policy)))
                .or_default()
                .push(Line::Slice(slice));
        }
        for charge in self.account.pending_charges.clone() {
            let immediate = self.book_charge(&charge)?.invoicing == Invoicing::Immediate;
            self.place(
                &mut groups,
                Line::Pending(charge),
                immediate,
                generation,
                &remaining,
            );
        }
        for fee in self.account.pending_fees.clone() {
            self.place(&mut groups, Line::Fee(fee), false, generation, &remaining);
        }
        for lines in groups.values() {
            for (stream, lines) in self.by_stream(lines)? {
                for chunk in lines.chunks(INVOICE_ITEMS_MAX) {
                    if self.full() {
                        return Ok(false);
                    }
                    self.issue(chunk, stream, generation)?;
                }
            }
        }
        self.after_settlement(generation.on)?;
        Ok(true)
    }

    /// Invoices `slices` (pending installments of one policy) on `on`, ahead
    /// of their dates, on one invoice due when the earliest of them is.
    pub(crate) fn invoice_early(
        &mut self,
        slices: Vec<PendingSlice>,
        on: NaiveDate,
    ) -> Result<(), CollectionsError> {
        if slices.is_empty() {
            return Ok(());
        }
        let lines: Vec<Line> = slices.into_iter().map(Line::Slice).collect();
        let generation = Generation {
            on,
            catch_up: false,
            due_days: None,
            early: true,
        };
        for chunk in lines.chunks(INVOICE_ITEMS_MAX) {
            self.issue(chunk, InvoiceStream::Premium, &generation)?;
        }
        Ok(())
    }

    /// The lines of one invoice group split by stream (seed 003): premium
    /// lines first, then deductibles; a stream with no line is left out.
    fn by_stream(
        &self,
        lines: &[Line],
    ) -> Result<Vec<(InvoiceStream, Vec<Line>)>, CollectionsError> {
        let mut premium = Vec::new();
        let mut deductible = Vec::new();
        for line in lines {
            match InvoiceStream::of(self.line_category(line)?) {
                InvoiceStream::Premium => premium.push(line.clone()),
                InvoiceStream::Deductible => deductible.push(line.clone()),
            }
        }
        Ok([
            (InvoiceStream::Premium, premium),
            (InvoiceStream::Deductible, deductible),
        ]
        .into_iter()
        .filter(|(_, lines)| !lines.is_empty())
        .collect())
    }

    /// The category of what a line bills.
    fn line_category(&self, line: &Line) -> Result<ChargeCategory, CollectionsError> {
        Ok(match line {
            Line::Slice(pending) => {
                let policy = self.book.policies.get(pending.policy.as_str());
                let slice = policy.and_then(|p| p.slices.get(pending.index as usize));
                policy
                    .zip(slice)
                    .and_then(|(p, slice)| p.charges.iter().find(|c| c.locator == slice.charge))
                    .map(|c| c.category)
                    .ok_or_else(|| missing_slice(pending))?
            }
            Line::Pending(pending) => self.book_charge(pending)?.category,
            Line::New(charge) => charge.category,
            Line::Fee(fee) => fee.category,
        })
    }

    /// Bills charges booked by a command at once when seed 001 says so: an
    /// `immediate` one, or a `next` one whose policy has no installment left
    /// to invoice. The invoice carries every charge of the command and every
    /// pending charge and fee of the account. Nothing happens while invoicing
    /// is held (they are billed on the catch-up invoice).
    pub fn invoice_immediately(
        &mut self,
        on: NaiveDate,
        charges: &[Charge],
        policies_with_new_slices: &BTreeSet<String>,
        netted: &BTreeMap<String, BTreeSet<u32>>,
    ) -> Result<(), CollectionsError> {
        // A policy has installments left when a pending one is not netted by
        // the command, or the command bills new ones.
        let installments_left = |policy: &String| {
            policies_with_new_slices.contains(policy)
                || self.account.pending_slices.iter().any(|s| {
                    &s.policy == policy && !netted.get(policy).is_some_and(|n| n.contains(&s.index))
                })
        };
        let immediate = charges.iter().any(|c| {
            c.invoicing == Invoicing::Immediate
                || c.policy.as_ref().is_some_and(|p| !installments_left(p))
        });
        if !immediate || self.account.invoicing_blocked(on) {
            return Ok(());
        }
        let mut lines: Vec<Line> = charges
            .iter()
            .map(|c| Line::New(Box::new(c.clone())))
            .collect();
        lines.extend(
            self.account
                .pending_charges
                .iter()
                .cloned()
                .map(Line::Pending),
        );
        lines.extend(self.account.pending_fees.iter().cloned().map(Line::Fee));
        let generation = Generation {
            on,
            catch_up: false,
            early: false,
            due_days: None,
        };
        for (stream, lines) in self.by_stream(&lines)? {
            for chunk in lines.chunks(INVOICE_ITEMS_MAX) {
                self.issue(chunk, stream, &generation)?;
            }
        }
        self.after_settlement(on)
    }

    fn group_key(&self, policy: Option<&str>) -> Option<String> {
        match self.settings.separate_invoices_by {
            SeparateBy::Policy => policy.map(str::to_string),
            SeparateBy::Account | SeparateBy::Currency => None,
        }
    }

    /// Puts a charge or fee on an invoice of this generation, or leaves it to
    /// wait for a later one.
    fn place(
        &self,
        groups: &mut Groups,
        line: Line,
        immediate: bool,
        generation: &Generation,
        remaining: &BTreeSet<&str>,
    ) {
        let key = self.group_key(line.policy());
        if let Some(lines) = groups.get_mut(&key) {
            lines.push(line);
            return;
        }
        let own = match line.policy() {
            None => {
                if let Some(lines) = groups.values_mut().next() {
                    lines.push(line);
                    return;
                }
                generation.catch_up || remaining.is_empty()
            }
            Some(policy) => generation.catch_up || immediate || !remaining.contains(policy),
        };
        if own {
            groups.entry(key).or_default().push(line);
        }
    }

    /// The book's charge a pending charge points at.
    fn book_charge(&self, pending: &PendingCharge) -> Result<&Charge, CollectionsError> {
        let pool = match &pending.policy {
            Some(policy) => self.book.policies.get(policy).map(|p| p.charges.as_slice()),
            None => Some(self.book.account_charges.as_slice()),
        };
        pool.and_then(|charges| charges.get(pending.index as usize))
            .filter(|c| c.locator == pending.locator)
            .ok_or_else(|| {
                CollectionsError::Internal(format!(
                    "pending charge {} is not in the book",
                    pending.locator
                ))
            })
    }

    /// The first earlier item matching `matches`.
    fn earlier_item(&self, matches: impl Fn(&InvoiceItem) -> bool) -> Option<String> {
        self.account
            .invoices
            .iter()
            .flat_map(|r| r.invoice.items.iter())
            .find(|item| matches(item))
            .map(|item| item.locator.clone())
    }

    fn charge_item(&self, charge: &Charge, locator: String) -> InvoiceItem {
        InvoiceItem {
            locator,
            kind: ItemKind::Charge,
            slice: None,
            charge: charge.locator.clone(),
            charge_name: charge.charge.clone(),
            transaction: Some(charge.transaction.clone()),
            policy: charge.policy.clone(),
            category: charge.category,
            amount: charge.amount,
            period: charge.period,
            description: charge.description.clone(),
            corrects: charge.reverses.as_ref().and_then(|original| {
                self.earlier_item(|item| item.kind == ItemKind::Charge && &item.charge == original)
            }),
        }
    }

    fn slice_item(
        &self,
        pending: &PendingSlice,
        locator: String,
    ) -> Result<(InvoiceItem, NaiveDate, NaiveDate), CollectionsError> {
        let missing = || missing_slice(pending);
        let policy = self
            .book
            .policies
            .get(pending.policy.as_str())
            .ok_or_else(missing)?;
        let slice = policy
            .slices
            .get(pending.index as usize)
            .ok_or_else(missing)?;
        let charge = policy
            .charges
            .iter()
            .find(|c| c.locator == slice.charge)
            .ok_or_else(missing)?;
        let term_start = policy
            .terms
            .iter()
            .find(|t| t.number == slice.term)
            .map_or(slice.installment_period.start(), |t| t.period.start());
        let corrects = slice.caught_up.then(|| {
            self.earlier_item(|item| {
                item.slice.as_ref().is_some_and(|s| {
                    s.policy == pending.policy
                        && s.term == slice.term
                        && s.installment == slice.installment
                })
            })
        });
        let item = InvoiceItem {
            locator,
            kind: ItemKind::Installment,
            slice: Some(SliceRef {
                policy: pending.policy.to_string(),
                index: pending.index,
                term: slice.term,
                installment: slice.installment,
                invoice_date: slice.invoice_date,
            }),
            charge: charge.locator.clone(),
            charge_name: charge.charge.clone(),
            transaction: Some(charge.transaction.clone()),
            policy: Some(pending.policy.to_string()),
            category: charge.category,
            amount: slice.amount,
            period: Some(slice.installment_period),
            description: format!(
                "{} installment {} of term {}",
                charge.charge,
                slice.installment + 1,
                slice.term
            ),
            corrects: corrects.flatten(),
        };
        Ok((item, slice.due_date, term_start))
    }

    fn fee_item(fee: &Fee, locator: String) -> InvoiceItem {
        InvoiceItem {
            locator,
            kind: ItemKind::Fee,
            slice: None,
            charge: fee.locator.clone(),
            charge_name: fee.charge.clone(),
            transaction: None,
            policy: fee.policy.clone(),
            category: fee.category,
            amount: fee.amount,
            period: None,
            description: fee.description.clone(),
            corrects: None,
        }
    }

    /// Days between generating and due in the plan of `policy`'s last term.
    fn plan_due_gap(&self, policy: &str) -> u32 {
        self.plan_of(policy).map_or(0, |plan| {
            plan.generate_lead_days.saturating_sub(plan.due_lead_days)
        })
    }

    /// Issues one invoice of `lines`, all of `stream`.
    fn issue(
        &mut self,
        lines: &[Line],
        stream: InvoiceStream,
        generation: &Generation,
    ) -> Result<(), CollectionsError> {
        let number = self.account.invoices.len() as u32 + 1;
        let locator = format!("{}-I{number}", self.account.locator);
        let item_locator = |k: usize| format!("{locator}-{}", k + 1);
        let mut items = Vec::with_capacity(lines.len());
        let mut earliest_generated: Option<NaiveDate> = None;
        let mut earliest_due: Option<NaiveDate> = None;
        let mut effective_on: Option<NaiveDate> = None;
        let mut due_gap = 0;
        for (k, line) in lines.iter().enumerate() {
            let item = match line {
                Line::Slice(pending) => {
                    let (item, due, term_start) = self.slice_item(pending, item_locator(k))?;
                    earliest_generated =
                        Some(earliest_generated.map_or(pending.date, |d| d.min(pending.date)));
                    earliest_due = Some(earliest_due.map_or(due, |d| d.min(due)));
                    effective_on = Some(effective_on.map_or(term_start, |d| d.min(term_start)));
                    item
                }
                Line::Pending(pending) => {
                    let charge = self.book_charge(pending)?;
                    self.charge_item(charge, item_locator(k))
                }
                Line::New(charge) => self.charge_item(charge, item_locator(k)),
                Line::Fee(fee) => Self::fee_item(fee, item_locator(k)),
            };
            if item.kind != ItemKind::Installment
                && let Some(policy) = &item.policy
            {
                due_gap = due_gap.max(self.plan_due_gap(policy));
            }
            items.push(item);
        }
        let on = generation.on;
        let issue_date = match generation.early {
            true => on,
            false => earliest_generated.map_or(on, |d| d.max(on)),
        };
        let mut due_date = match generation.due_days {
            Some(days) => plus_days(on, days)?,
            None if stream == InvoiceStream::Deductible => {
                plus_days(issue_date, self.settings.deductible_due_days())?
            }
            None => {
                let not_before = match earliest_due {
                    Some(due) => due,
                    None => plus_days(issue_date, due_gap)?,
                };
                invoice_due_date(issue_date, self.settings.invoice_due_days, not_before)
                    .map_err(|e| CollectionsError::InvalidCalendar(e.to_string()))?
            }
        };
        let (fees, plugin_due) = self.plugin_fees(&locator, &items, issue_date, due_date)?;
        if let Some(moved) = plugin_due {
            due_date = moved;
        }
        if !fees.is_empty() {
            self.emit(CollectionsEvent::FeesCharged {
                account: self.account.locator.clone(),
                on: issue_date,
                fees: fees.clone(),
            })?;
            for fee in &fees {
                let k = items.len();
                items.push(Self::fee_item(fee, item_locator(k)));
            }
        }
        let total: Decimal = items.iter().map(|i| i.amount.amount).sum();
        let total = self
            .money(total)
            .rounded(crate::domain::RoundingMode::HalfAwayFromZero);
        let credit = self.settings.credit;
        let planned_credit = if credit.apply_on_invoice_generation && total.amount > Decimal::ZERO {
            self.account.credit_for(stream).min(total.amount)
        } else {
            Decimal::ZERO
        };
        let owed_after_credit = (total.amount - planned_credit).max(Decimal::ZERO);
        let invoice = Invoice {
            locator: locator.clone(),
            account: self.account.locator.clone(),
            currency: self.account.currency,
            number,
            issue_date,
            due_date,
            items,
            total,
            sent: sends_invoice(
                &self.money(owed_after_credit),
                self.settings.send_zero_outstanding_invoices,
            ),
            catch_up: generation.catch_up,
            effective_on: effective_on.unwrap_or(issue_date),
            stream,
        };
        self.emit(CollectionsEvent::InvoiceIssued { invoice })?;
        if total.is_negative() {
            self.emit(CollectionsEvent::CreditIssued {
                account: self.account.locator.clone(),
                invoice: locator.clone(),
                amount: total.negated(),
                on: issue_date,
            })?;
        }
        if credit.apply_on_invoice_generation {
            let targets = if total.amount > Decimal::ZERO {
                vec![self.account.invoices.len() - 1]
            } else if total.is_negative() {
                self.account.open_by_age()
            } else {
                Vec::new()
            };
            self.apply_credit(&targets, issue_date, CreditReason::InvoiceGenerated)?;
        }
        self.confirm_terms(Some(self.account.invoices.len() - 1), issue_date)
    }

    /// Asks the invoicing plugins of the invoice's products for fees and a due
    /// date. Each distinct plugin is called once, in name order, with the
    /// same draft; the latest due date any of them asks for wins. An invoice
    /// that bills nothing (its lines net to zero or less: a credit invoice,
    /// or installments and their withdrawals cancelling out) is not shown to
    /// the plugins: a customer is never charged a fee on it.
    fn plugin_fees(
        &self,
        invoice: &str,
        items: &[InvoiceItem],
        issue_date: NaiveDate,
        due_date: NaiveDate,
    ) -> Result<(Vec<Fee>, Option<NaiveDate>), CollectionsError> {
        let policies: BTreeSet<&str> = items.iter().filter_map(|i| i.policy.as_deref()).collect();
        let plugins: BTreeSet<&str> = policies
            .iter()
            .filter_map(|p| self.product_of(p))
            .filter_map(|product| product.invoicing_plugin.as_deref())
            .collect();
        let net: Decimal = items.iter().map(|i| i.amount.amount).sum();
        if plugins.is_empty() || net <= Decimal::ZERO {
            return Ok((Vec::new(), None));
        }
        let draft = DraftInvoice {
            account: self.account.locator.clone(),
            currency: self.account.currency.code().to_string(),
            invoice_date: issue_date,
            due_date,
            previous_invoice_count: self.previous_invoices(items),
            items: items
                .iter()
                .map(|item| DraftItem {
                    locator: item.locator.clone(),
                    policy: item.policy.clone(),
                    charge: item.charge_name.clone(),
                    category: item.category.code().to_string(),
                    amount: item.amount.amount,
                    period: item.period.map(|p| Segment {
                        start: p.start(),
                        end: p.end(),
                    }),
                    installment_number: item.slice.as_ref().map(|s| s.installment + 1),
                })
                .collect(),
            policies: self.policy_statuses(items, issue_date),
        };
        let mut fees = Vec::new();
        let mut moved: Option<NaiveDate> = None;
        for plugin in plugins {
            let failed = |message: String| CollectionsError::Plugin {
                plugin: plugin.to_string(),
                message,
            };
            let adjustments = self.adjuster.adjust(plugin, &draft).map_err(failed)?;
            if adjustments.lines.len() > PLUGIN_LINES_MAX {
                return Err(failed(format!("more than {PLUGIN_LINES_MAX} lines")));
            }
            if let Some(due) = adjustments.due_date {
                if due < issue_date {
                    return Err(failed(format!("due date {due} is before {issue_date}")));
                }
                moved = Some(moved.map_or(due, |d| d.max(due)));
            }
            for line in adjustments.lines {
                let amount = Money::new(line.amount, self.account.currency);
                if !amount.is_in_minor_units() || line.amount.abs() > crate::ledger::AMOUNT_MAX {
                    return Err(failed(format!(
                        "line {}: {} is not an amount in whole minor units",
                        line.charge, line.amount
                    )));
                }
                if let Some(policy) = &line.policy
                    && !policies.contains(policy.as_str())
                {
                    return Err(failed(format!(
                        "line {}: policy {policy} is not on the invoice",
                        line.charge
                    )));
                }
                if line.charge.is_empty() || line.amount.is_zero() {
                    continue;
                }
                let category = line
                    .policy
                    .as_deref()
                    .or_else(|| policies.first().copied())
                    .and_then(|p| self.product_of(p))
                    .and_then(|product| product.charge(&line.charge))
                    .map_or(ChargeCategory::InvoiceFee, |def| def.category);
                let count = self.account.fees_booked as usize + fees.len();
                fees.push(Fee {
                    locator: self.locator("X", count),
                    account: self.account.locator.clone(),
                    policy: line.policy.clone(),
                    description: if line.description.is_empty() {
                        line.charge.clone()
                    } else {
                        line.description.clone()
                    },
                    charge: line.charge,
                    category,
                    amount: amount.rounded(crate::domain::RoundingMode::HalfAwayFromZero),
                    booked_on: issue_date,
                    reason: FeeReason::Invoicing {
                        plugin: plugin.to_string(),
                        invoice: invoice.to_string(),
                    },
                });
            }
        }
        Ok((fees, moved))
    }

    /// The status on `on` of every policy the items belong to, in locator
    /// order: the term billed (of the policy's first installment on the
    /// invoice, else the term holding `on`, else its last term begun by
    /// then) and its coverage on `on`. A policy the command being decided
    /// opens is not in the book yet: it is in force unless all its items
    /// pay for coverage that starts after `on`.
    fn policy_statuses(&self, items: &[InvoiceItem], on: NaiveDate) -> Vec<PolicyStatus> {
        let policies: BTreeSet<&str> = items.iter().filter_map(|i| i.policy.as_deref()).collect();
        policies
            .into_iter()
            .map(|policy| {
                let of_policy = || items.iter().filter(|i| i.policy.as_deref() == Some(policy));
                let billed_term = of_policy().find_map(|i| i.slice.as_ref().map(|s| s.term));
                let Some(state) = self.book.policies.get(policy) else {
                    let starts_later = of_policy().filter_map(|i| i.period).all(|p| p.start() > on);
                    let any_period = of_policy().any(|i| i.period.is_some());
                    return PolicyStatus {
                        policy: policy.to_string(),
                        term: billed_term.unwrap_or(1),
                        coverage: if any_period && starts_later {
                            Coverage::NotStarted
                        } else {
                            Coverage::InForce
                        },
                    };
                };
                let holding_on = state.terms.iter().find(|t| t.period.contains(on));
                let term = billed_term
                    .or(holding_on.map(|t| t.number))
                    .or_else(|| {
                        state
                            .terms
                            .iter()
                            .rev()
                            .find(|t| t.period.start() <= on)
                            .map(|t| t.number)
                    })
                    .or_else(|| state.terms.first().map(|t| t.number))
                    .unwrap_or(1);
                let coverage = if state.is_in_force(on) {
                    Coverage::InForce
                } else if let Some(cancellation) =
                    state.cancellation_on(holding_on.map_or(term, |t| t.number), on)
                {
                    if cancellation.actor == crate::collections::LAPSE_ACTOR {
                        Coverage::Lapsed {
                            effective: cancellation.effective,
                        }
                    } else {
                        Coverage::Cancelled {
                            effective: cancellation.effective,
                        }
                    }
                } else if state
                    .terms
                    .iter()
                    .find(|t| t.number == term)
                    .is_some_and(|t| on < t.period.start())
                {
                    Coverage::NotStarted
                } else {
                    Coverage::Expired
                };
                PolicyStatus {
                    policy: policy.to_string(),
                    term,
                    coverage,
                }
            })
            .collect()
    }

    /// How many earlier invoices billed the term of the draft's first
    /// installment (the account's invoice count when it bills none): the
    /// plugin's `previous_invoice_count`, so "every invoice of a term but the
    /// first" is easy to write.
    fn previous_invoices(&self, items: &[InvoiceItem]) -> u32 {
        let Some(first) = items.iter().find_map(|i| i.slice.as_ref()) else {
            return self.account.invoices.len() as u32;
        };
        self.account
            .invoices
            .iter()
            .filter(|r| {
                r.invoice.items.iter().any(|i| {
                    i.slice
                        .as_ref()
                        .is_some_and(|s| s.policy == first.policy && s.term == first.term)
                })
            })
            .count() as u32
    }
}

/// A pending slice the book does not have: billing and the book disagree.
fn missing_slice(pending: &PendingSlice) -> CollectionsError {
    CollectionsError::Internal(format!(
        "pending slice {} of policy {} is not in the book",
        pending.index, pending.policy
    ))
}
