//! Payments in the engine (DOMAIN section 11): method, autopay and
//! processor commands checked against the billing accounts; the
//! collection attempts a billing run requests for autopay invoices; and
//! attempt outcomes turned into the billing system's own commands: a
//! success records a payment allocated to the invoice, a failure schedules
//! its retry by failure class, a return or chargeback reverses the payment
//! with the tenant's returned payment fee.
//!
//! Worked example ([E13]): autopay with a processor retrying soft declines
//! after 3 and 7 days; an invoice of 106.45 due 2026-03-01. The run of
//! 2026-03-01 requests attempt `ca_1`; it fails `insufficient_funds`
//! (retry on 2026-03-04). The run of 2026-03-04 requests `ca_2`; it
//! succeeds: payment `A1-P1` of 106.45 is allocated to the invoice. A
//! `returned` processor event on 2026-03-10 reverses `A1-P1` with a 25.00
//! fee: the invoice owes 106.45 again, the fee is billed on the next
//! invoice, and grace still counts from 2026-03-01.

use super::command::EngineCommand;
use super::state::{EngineError, TenantEvent, TenantState};
use crate::collections::{BillingCommand, CollectionsEvent, InvoiceAdjuster};
use crate::domain::Money;
use crate::payments::protocol::{ProcessorEventBody, ProcessorEventType};
use crate::payments::retry::retry_on;
use crate::payments::{
    AttemptStatus, CollectionAttempt, FailureClass, PaymentCommand, PaymentError, PaymentEvent,
    ProcessorAnswer, ReturnKind,
};
use crate::policy::{CommandContext, RaterResolver};
use chrono::{Days, NaiveDate};

/// The actor of collection attempts a billing run requests.
pub const COLLECTIONS_ACTOR: &str = "premia:collections";

fn status_name(status: &AttemptStatus) -> &'static str {
    match status {
        AttemptStatus::Requested => "requested",
        AttemptStatus::Pending => "pending",
        AttemptStatus::Succeeded { .. } => "succeeded",
        AttemptStatus::Failed { .. } => "failed",
        AttemptStatus::Returned { .. } => "returned",
    }
}

fn resolved(attempt: &CollectionAttempt, why: &'static str) -> EngineError {
    PaymentError::AttemptState {
        attempt: attempt.id.clone(),
        status: status_name(&attempt.status),
        why,
    }
    .into()
}

impl TenantState {
    /// The events of a payment command.
    pub(super) fn decide_payments(
        &self,
        command: &PaymentCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let today = context
            .today
            .unwrap_or_else(|| context.issued_at.date_naive());
        match command {
            PaymentCommand::AttachMethod { account, .. }
            | PaymentCommand::DetachMethod { account, .. }
            | PaymentCommand::SetAutopay { account, .. } => {
                self.collections.account(account)?;
            }
            PaymentCommand::ConfigureProcessor { .. } => {}
            PaymentCommand::RecordAnswer { attempt, answer } => {
                let attempt = self.payments.attempt(attempt)?;
                if !attempt.is_open() {
                    return Err(resolved(attempt, "its outcome is already recorded"));
                }
                return match answer {
                    ProcessorAnswer::Succeeded {
                        processor_reference,
                    } => self.collected(
                        attempt,
                        today,
                        processor_reference,
                        None,
                        context,
                        raters,
                        adjuster,
                    ),
                    ProcessorAnswer::Pending { .. } => {
                        if attempt.status == AttemptStatus::Pending {
                            return Err(resolved(attempt, "it is already pending"));
                        }
                        Ok(vec![TenantEvent::Payments(
                            PaymentEvent::CollectionAttemptPending {
                                attempt: attempt.id.clone(),
                                account: attempt.account.clone(),
                                on: today,
                                actor: context.actor.clone(),
                                at: context.issued_at,
                            },
                        )])
                    }
                    ProcessorAnswer::Failed {
                        code,
                        retryable,
                        class,
                    } => Ok(self.failed(
                        attempt,
                        today,
                        code,
                        ProcessorAnswer::failure_class(*retryable, *class),
                        None,
                        context,
                    )),
                };
            }
            PaymentCommand::RecordProcessorEvent { event } => {
                return self.processor_event(event, today, context, raters, adjuster);
            }
        }
        Ok(vec![TenantEvent::Payments(self.payments.decide(
            command,
            &context.actor,
            context.issued_at,
        )?)])
    }

    fn processor_event(
        &self,
        event: &ProcessorEventBody,
        today: NaiveDate,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        if self.payments.processor_events.contains(&event.id) {
            return Err(PaymentError::EventApplied(event.id.clone()).into());
        }
        let attempt = self.payments.attempt(&event.attempt)?;
        let id = Some(event.id.clone());
        match event.event_type {
            ProcessorEventType::Succeeded => {
                if !attempt.is_open() {
                    return Err(resolved(attempt, "only an open attempt succeeds"));
                }
                self.collected(
                    attempt,
                    today,
                    &event.processor_reference,
                    id,
                    context,
                    raters,
                    adjuster,
                )
            }
            ProcessorEventType::Failed => {
                if !attempt.is_open() {
                    return Err(resolved(attempt, "only an open attempt fails"));
                }
                Ok(self.failed(
                    attempt,
                    today,
                    &event.code,
                    ProcessorAnswer::failure_class(event.retryable, event.class),
                    id,
                    context,
                ))
            }
            ProcessorEventType::Returned | ProcessorEventType::Chargeback => {
                let AttemptStatus::Succeeded { payment, .. } = &attempt.status else {
                    return Err(resolved(attempt, "only a collected payment comes back"));
                };
                let kind = event
                    .event_type
                    .return_kind()
                    .unwrap_or(ReturnKind::Returned);
                let billing = self.collections.account(&attempt.account)?;
                let fee = self.collections.settings_for(billing).returned_payment_fee;
                let reason = match kind {
                    ReturnKind::Returned => format!("returned by the processor: {}", event.code),
                    ReturnKind::Chargeback => format!("charged back: {}", event.code),
                };
                let reverse = BillingCommand::ReversePayment {
                    account: attempt.account.clone(),
                    payment: payment.clone(),
                    on: today,
                    fee: (!fee.is_zero()).then_some(fee),
                    reason: reason.chars().take(200).collect(),
                };
                let mut events = vec![TenantEvent::Payments(
                    PaymentEvent::CollectionPaymentReturned {
                        attempt: attempt.id.clone(),
                        account: attempt.account.clone(),
                        payment: payment.clone(),
                        kind,
                        code: event.code.clone(),
                        on: today,
                        processor_event: event.id.clone(),
                        actor: context.actor.clone(),
                        at: context.issued_at,
                    },
                )];
                events.extend(self.decide_with(
                    &EngineCommand::Billing(reverse),
                    context,
                    raters,
                    adjuster,
                )?);
                Ok(events)
            }
        }
    }

    /// A collected attempt: the payment recorded and allocated to its
    /// invoice (with what a payment brings: confirmations, bindings).
    #[allow(clippy::too_many_arguments)]
    fn collected(
        &self,
        attempt: &CollectionAttempt,
        on: NaiveDate,
        processor_reference: &str,
        processor_event: Option<String>,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        adjuster: &dyn InvoiceAdjuster,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let record = BillingCommand::RecordPayment {
            account: attempt.account.clone(),
            amount: attempt.amount.amount,
            received_on: on.max(attempt.requested_on),
            invoices: vec![attempt.invoice.clone()],
            reference: format!("autopay {}", attempt.id),
            for_deductibles: false,
            reserved_for: None,
        };
        let billing =
            self.decide_with(&EngineCommand::Billing(record), context, raters, adjuster)?;
        let payment = billing
            .iter()
            .find_map(|event| match event {
                TenantEvent::Collections(CollectionsEvent::PaymentReceived { payment }) => {
                    Some(payment.locator.clone())
                }
                _ => None,
            })
            .ok_or_else(|| EngineError::Corrupt("a collection recorded no payment".into()))?;
        let mut events = vec![TenantEvent::Payments(
            PaymentEvent::CollectionAttemptSucceeded {
                attempt: attempt.id.clone(),
                account: attempt.account.clone(),
                payment,
                on: on.max(attempt.requested_on),
                processor_reference: processor_reference.to_string(),
                processor_event,
                actor: context.actor.clone(),
                at: context.issued_at,
            },
        )];
        events.extend(billing);
        Ok(events)
    }

    /// A failed attempt and the day it is retried (see
    /// [`crate::payments::retry`]).
    fn failed(
        &self,
        attempt: &CollectionAttempt,
        on: NaiveDate,
        code: &str,
        class: FailureClass,
        processor_event: Option<String>,
        context: &CommandContext,
    ) -> Vec<TenantEvent> {
        let retry_days = self
            .payments
            .processor
            .as_ref()
            .map(|p| p.soft_decline_retry_days.clone())
            .unwrap_or_default();
        let on = on.max(attempt.requested_on);
        vec![TenantEvent::Payments(
            PaymentEvent::CollectionAttemptFailed {
                attempt: attempt.id.clone(),
                account: attempt.account.clone(),
                invoice: attempt.invoice.clone(),
                code: code.chars().take(100).collect(),
                class,
                on,
                retry_on: retry_on(
                    class,
                    attempt.number,
                    attempt.first_requested_on,
                    on,
                    &retry_days,
                ),
                processor_event,
                actor: context.actor.clone(),
                at: context.issued_at,
            },
        )]
    }

    /// The collection attempts a billing run of `account` up to `up_to`
    /// requests: for each open invoice of an account in autopay (with a
    /// method and a processor), a first attempt once its due date less the
    /// lead days has come, or a retry once a failed attempt's retry day
    /// has; none while an attempt is open, after a success, a return or a
    /// failure that is not retried. Deterministic: the same state and date
    /// give the same requests, and once requested nothing more is.
    pub(super) fn autopay_requests(
        &self,
        account: &str,
        up_to: NaiveDate,
        context: &CommandContext,
    ) -> Vec<TenantEvent> {
        let payments = &self.payments;
        let Some(processor) = &payments.processor else {
            return Vec::new();
        };
        let Some(method) = payments
            .autopay
            .get(account)
            .filter(|a| a.enabled)
            .and_then(|a| a.method.as_ref())
            .and_then(|m| payments.methods.get(m))
        else {
            return Vec::new();
        };
        let Ok(billing) = self.collections.account(account) else {
            return Vec::new();
        };
        let mut made = payments.attempts_made;
        let mut events = Vec::new();
        for record in &billing.invoices {
            let owed = record.outstanding();
            if owed <= rust_decimal::Decimal::ZERO {
                continue;
            }
            let invoice = &record.invoice;
            let collect_from = invoice
                .due_date
                .checked_sub_days(Days::new(u64::from(processor.lead_days)))
                .unwrap_or(invoice.due_date);
            if collect_from > up_to {
                continue;
            }
            let attempts = payments.attempts_of(&invoice.locator);
            let (number, first_requested_on) = match attempts.last() {
                None => (1, up_to),
                Some(last) => match &last.status {
                    AttemptStatus::Failed {
                        retry_on: Some(day),
                        ..
                    } if *day <= up_to => (last.number + 1, last.first_requested_on),
                    _ => continue,
                },
            };
            made += 1;
            let attempt = format!("ca_{made}");
            events.push(TenantEvent::Payments(
                PaymentEvent::CollectionAttemptRequested {
                    idempotency_key: format!("{attempt}/{}", invoice.locator),
                    attempt,
                    account: account.to_string(),
                    invoice: invoice.locator.clone(),
                    amount: Money::new(owed, invoice.currency),
                    method: method.id.clone(),
                    number,
                    first_requested_on,
                    requested_on: up_to,
                    actor: COLLECTIONS_ACTOR.to_string(),
                    at: context.issued_at,
                },
            ));
        }
        events
    }
}
