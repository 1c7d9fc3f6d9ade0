//! Commission payments to producers (DOMAIN section 10: "commission payments
//! are disbursements to the producer"; issue 21 item 4): drafted, then
//! approved or rejected; an approved one is executed, and only then does
//! money move (Dr commission payable/producer, Cr cash, `commission_paid`).
//!
//! A payment may never pay more than the producer is owed: at drafting, its
//! amount must be at most the producer's commission payable in its currency
//! (the ledger's `commission_payable`/producer) less the payments already
//! drafted or approved; at execution, at most the payable then (a chargeback
//! in between may have lowered it). Worked example: `agency-7` is owed
//! 120.00; a draft of 100.00 is accepted, a second of 30.00 refused (only
//! 20.00 is left); after the first is executed the ledger's payable is
//! 20.00 and the statement shows 100.00 paid.

use super::accounting::{AccountingError, AccountingEvent};
use super::producer_book::{CommissionPayment, CommissionPaymentStatus};
use super::producer_error::ProducerError;
use super::state::{EngineError, TenantEvent, TenantState};
use crate::domain::{Currency, Money};
use crate::ledger::{LedgerAccount, Posting, postings};
use crate::policy::CommandContext;
use rust_decimal::Decimal;

/// Characters of a commission payment's reason, at most.
pub const COMMISSION_PAYMENT_REASON_CHARS_MAX: usize = 500;

fn refused(error: ProducerError) -> EngineError {
    AccountingError::from(error).into()
}

impl TenantState {
    /// The commission payable to `producer` in `currency`, by the ledger.
    pub fn commission_payable(&self, producer: &str, currency: Currency) -> Decimal {
        self.ledger
            .balance_of(LedgerAccount::CommissionPayable, currency, Some(producer))
    }

    /// What drafted and approved payments of `producer` in `currency` hold
    /// back, leaving out `except`.
    fn pending_payments(
        &self,
        producer: &str,
        currency: Currency,
        except: Option<&str>,
    ) -> Decimal {
        self.accounting
            .producers
            .payments_of(producer)
            .filter(|p| p.status.is_pending() && p.amount.currency == currency)
            .filter(|p| Some(p.locator.as_str()) != except)
            .map(|p| p.amount.amount)
            .sum()
    }

    /// A commission payment drafted.
    pub(super) fn draft_commission_payment(
        &self,
        producer: &str,
        amount: Money,
        reason: &str,
        context: &CommandContext,
        today: chrono::NaiveDate,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        if amount.amount <= Decimal::ZERO || !amount.is_in_minor_units() {
            return Err(refused(ProducerError::InvalidAmount {
                what: "a commission payment",
                amount: amount.amount,
                currency: amount.currency,
            }));
        }
        let chars = reason.chars().count();
        if chars > COMMISSION_PAYMENT_REASON_CHARS_MAX {
            return Err(refused(ProducerError::TextTooLong {
                what: "reason",
                chars,
                limit: COMMISSION_PAYMENT_REASON_CHARS_MAX,
            }));
        }
        if self.producers().iter().all(|p| p.producer != producer) {
            return Err(AccountingError::UnknownProducer(producer.to_string()).into());
        }
        let available = self.commission_payable(producer, amount.currency)
            - self.pending_payments(producer, amount.currency, None);
        if amount.amount > available {
            return Err(refused(ProducerError::PaymentOverPayable {
                producer: producer.to_string(),
                currency: amount.currency,
                amount: amount.amount,
                available: available.max(Decimal::ZERO),
            }));
        }
        let payment = CommissionPayment {
            locator: self.accounting.producers.next_payment_locator(producer),
            producer: producer.to_string(),
            amount,
            reason: reason.to_string(),
            drafted_on: today,
            drafted_by: context.actor.clone(),
            status: CommissionPaymentStatus::Draft,
        };
        Ok(vec![TenantEvent::Accounting(
            AccountingEvent::CommissionPaymentDrafted {
                payment,
                at: context.issued_at,
            },
        )])
    }

    /// The payment `locator` of `producer`, in a state `action` accepts.
    fn payment_for(
        &self,
        producer: &str,
        locator: &str,
        action: &'static str,
        accepts: fn(&CommissionPaymentStatus) -> bool,
    ) -> Result<&CommissionPayment, EngineError> {
        let payment = self
            .accounting
            .producers
            .payments
            .get(locator)
            .filter(|p| p.producer == producer)
            .ok_or_else(|| {
                refused(ProducerError::UnknownPayment {
                    producer: producer.to_string(),
                    payment: locator.to_string(),
                })
            })?;
        if !accepts(&payment.status) {
            return Err(refused(ProducerError::PaymentWrongState {
                payment: locator.to_string(),
                state: payment.status.name(),
                action,
            }));
        }
        Ok(payment)
    }

    /// A drafted payment approved.
    pub(super) fn approve_commission_payment(
        &self,
        producer: &str,
        locator: &str,
        context: &CommandContext,
        today: chrono::NaiveDate,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let payment = self.payment_for(producer, locator, "approved", |s| {
            *s == CommissionPaymentStatus::Draft
        })?;
        Ok(vec![TenantEvent::Accounting(
            AccountingEvent::CommissionPaymentApproved {
                payment: payment.locator.clone(),
                on: today,
                actor: context.actor.clone(),
                at: context.issued_at,
            },
        )])
    }

    /// A drafted or approved payment rejected.
    pub(super) fn reject_commission_payment(
        &self,
        producer: &str,
        locator: &str,
        reason: &str,
        context: &CommandContext,
        today: chrono::NaiveDate,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let payment = self.payment_for(producer, locator, "rejected", |s| s.is_pending())?;
        let chars = reason.chars().count();
        if chars > COMMISSION_PAYMENT_REASON_CHARS_MAX {
            return Err(refused(ProducerError::TextTooLong {
                what: "reason",
                chars,
                limit: COMMISSION_PAYMENT_REASON_CHARS_MAX,
            }));
        }
        Ok(vec![TenantEvent::Accounting(
            AccountingEvent::CommissionPaymentRejected {
                payment: payment.locator.clone(),
                on: today,
                reason: reason.to_string(),
                actor: context.actor.clone(),
                at: context.issued_at,
            },
        )])
    }

    /// An approved payment executed: the event and its entry.
    pub(super) fn execute_commission_payment(
        &self,
        producer: &str,
        locator: &str,
        context: &CommandContext,
        today: chrono::NaiveDate,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let payment = self.payment_for(producer, locator, "executed", |s| {
            matches!(s, CommissionPaymentStatus::Approved { .. })
        })?;
        let currency = payment.amount.currency;
        let available = self.commission_payable(producer, currency);
        if payment.amount.amount > available {
            return Err(refused(ProducerError::PaymentOverPayable {
                producer: producer.to_string(),
                currency,
                amount: payment.amount.amount,
                available: available.max(Decimal::ZERO),
            }));
        }
        let draft = postings::commission_paid(producer, payment.amount, today, &payment.locator)?;
        let entry = self
            .ledger
            .entry_for(Posting::Entry(draft), self.ledger.next_id())?;
        Ok(vec![
            TenantEvent::Accounting(AccountingEvent::CommissionPaymentExecuted {
                payment: payment.locator.clone(),
                on: today,
                actor: context.actor.clone(),
                at: context.issued_at,
            }),
            TenantEvent::Journal(entry),
        ])
    }
}
