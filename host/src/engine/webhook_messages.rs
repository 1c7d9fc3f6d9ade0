//! What each event of a tenant's log tells a policy system, in the public
//! webhook schema ([`crate::webhooks::schema`]): the mapping from the
//! internal event format to `invoice.issued`, `term.confirmed`, ... One
//! event may tell nothing (a journal entry, a billed-through mark) or
//! several things (a lapse of two policies).
//!
//! Worked example: `transaction_issued` of a cancellation of policy `P-1`
//! (account `A-1`) effective 2026-07-01 returning 600.00 is
//! `policy.cancelled` with `{"account": "A-1", "policy": "P-1",
//! "transaction": "P-1-T2", "effective": "2026-07-01", "amount": {"amount":
//! "-600.00", ...}}`.

use super::state::{TenantEvent, TenantState};
use crate::collections::CollectionsEvent as C;
use crate::domain::Money;
use crate::payments::PaymentEvent;
use crate::policy::{BookEvent, TransactionKind};
use crate::store::StoredEvent;
use crate::webhooks::schema::{SCHEMA_VERSION, WebhookData, WebhookMessage};

/// The messages `event` (stored as `stored`) tells, in order; `state` names
/// the account of a policy when the event does not.
pub fn messages_of(
    stored: &StoredEvent,
    event: &TenantEvent,
    state: &TenantState,
) -> Vec<WebhookMessage> {
    let told = told(stored, event, state);
    told.into_iter()
        .enumerate()
        .map(|(index, (event_type, data))| WebhookMessage {
            event_type: event_type.to_string(),
            schema_version: SCHEMA_VERSION.to_string(),
            id: format!("msg_{}_{index}", stored.sequence),
            sequence: stored.sequence,
            timestamp: stored.issued_at,
            data,
        })
        .collect()
}

fn account_of(state: &TenantState, policy: &str) -> Option<String> {
    state
        .book
        .policies
        .get(policy)
        .map(|p| p.header.account.clone())
}

fn told(
    stored: &StoredEvent,
    event: &TenantEvent,
    state: &TenantState,
) -> Vec<(&'static str, WebhookData)> {
    let configuration = || {
        vec![(
            "configuration.changed",
            WebhookData {
                change: Some(stored.kind.clone()),
                subject: Some(stored.stream.clone()),
                actor: Some(stored.actor.clone()),
                ..WebhookData::default()
            },
        )]
    };
    match event {
        TenantEvent::Book(BookEvent::TransactionIssued { record }) => {
            let transaction = &record.transaction;
            let event_type = match transaction.kind {
                TransactionKind::NewBusiness => "policy.issued",
                TransactionKind::Cancellation => "policy.cancelled",
                TransactionKind::Reinstatement => "policy.reinstated",
                _ => return Vec::new(),
            };
            let account = record
                .opened
                .as_ref()
                .map(|header| header.account.clone())
                .or_else(|| account_of(state, &record.policy));
            let amount = record.charges.first().map(|first| {
                let total = record.charges.iter().map(|c| c.amount.amount).sum();
                Money::new(total, first.amount.currency)
            });
            vec![(
                event_type,
                WebhookData {
                    account,
                    policy: Some(record.policy.clone()),
                    term: Some(transaction.term),
                    transaction: Some(transaction.locator.clone()),
                    effective: Some(transaction.effective),
                    amount,
                    ..WebhookData::default()
                },
            )]
        }
        TenantEvent::Book(BookEvent::ProductDeployed { .. }) => configuration(),
        TenantEvent::Collections(event) => collections(event, state, configuration),
        TenantEvent::Config(_)
        | TenantEvent::Keys(_)
        | TenantEvent::Webhooks(_)
        | TenantEvent::Accounting(crate::engine::AccountingEvent::GlMappingUploaded { .. }) => {
            configuration()
        }
        TenantEvent::Payments(PaymentEvent::CollectionAttemptFailed {
            attempt,
            account,
            invoice,
            code,
            on,
            ..
        }) => vec![(
            "payment.failed",
            WebhookData {
                account: Some(account.clone()),
                invoice: Some(invoice.clone()),
                amount: state.payments.attempts.get(attempt).map(|a| a.amount),
                on: Some(*on),
                reason: Some(code.clone()),
                ..WebhookData::default()
            },
        )],
        TenantEvent::Payments(
            PaymentEvent::MethodAttached { .. }
            | PaymentEvent::MethodDetached { .. }
            | PaymentEvent::AutopaySet { .. }
            | PaymentEvent::ProcessorConfigured { .. },
        ) => configuration(),
        TenantEvent::Payments(_) => Vec::new(),
        TenantEvent::Book(_)
        | TenantEvent::Accounting(_)
        | TenantEvent::Journal(_)
        | TenantEvent::Clock(_)
        | TenantEvent::Shadow(_)
        | TenantEvent::Binding(_) => Vec::new(),
    }
}

fn collections(
    event: &C,
    state: &TenantState,
    configuration: impl Fn() -> Vec<(&'static str, WebhookData)>,
) -> Vec<(&'static str, WebhookData)> {
    let one = |event_type, data| vec![(event_type, data)];
    match event {
        C::BillingConfigured { .. } | C::AccountConfigured { .. } => configuration(),
        C::InvoiceIssued { invoice } => one(
            "invoice.issued",
            WebhookData {
                account: Some(invoice.account.clone()),
                invoice: Some(invoice.locator.clone()),
                amount: Some(invoice.total),
                on: Some(invoice.issue_date),
                due_date: Some(invoice.due_date),
                ..WebhookData::default()
            },
        ),
        C::InvoicePastDue {
            account,
            invoice,
            on,
        } => one(
            "invoice.past_due",
            WebhookData {
                account: Some(account.clone()),
                invoice: Some(invoice.clone()),
                on: Some(*on),
                ..WebhookData::default()
            },
        ),
        C::PaymentReceived { payment } => one(
            "payment.received",
            WebhookData {
                account: Some(payment.account.clone()),
                payment: Some(payment.locator.clone()),
                amount: Some(payment.amount),
                on: Some(payment.received_on),
                ..WebhookData::default()
            },
        ),
        C::PaymentReversed {
            account,
            payment,
            on,
            reason,
            ..
        } => one(
            "payment.returned",
            WebhookData {
                account: Some(account.clone()),
                payment: Some(payment.clone()),
                amount: state
                    .collections
                    .accounts
                    .get(account)
                    .and_then(|a| a.payments.iter().find(|p| &p.payment.locator == payment))
                    .map(|p| p.payment.amount),
                on: Some(*on),
                reason: Some(reason.clone()),
                ..WebhookData::default()
            },
        ),
        C::DelinquencyStarted { delinquency } => one(
            "delinquency.started",
            WebhookData {
                account: Some(delinquency.account.clone()),
                delinquency: Some(delinquency.locator.clone()),
                on: Some(delinquency.started_on),
                due_date: Some(delinquency.due_date),
                grace_end: Some(delinquency.grace_end),
                ..WebhookData::default()
            },
        ),
        C::DelinquencyEnded {
            account,
            delinquency,
            on,
        } => one(
            "delinquency.ended",
            WebhookData {
                account: Some(account.clone()),
                delinquency: Some(delinquency.clone()),
                on: Some(*on),
                reason: Some("paid".into()),
                ..WebhookData::default()
            },
        ),
        C::DelinquencyClosedByReinstatement {
            account,
            delinquency,
            on,
            policy,
            ..
        } => one(
            "delinquency.ended",
            WebhookData {
                account: Some(account.clone()),
                delinquency: Some(delinquency.clone()),
                policy: Some(policy.clone()),
                on: Some(*on),
                reason: Some("reinstated".into()),
                ..WebhookData::default()
            },
        ),
        C::DelinquencyLapsed {
            account,
            delinquency,
            on,
            effective,
            cancellations,
        } => cancellations
            .iter()
            .map(|lapse| {
                (
                    "policy.lapsed",
                    WebhookData {
                        account: Some(account.clone()),
                        delinquency: Some(delinquency.clone()),
                        policy: Some(lapse.policy.clone()),
                        transaction: Some(lapse.transaction.clone()),
                        on: Some(*on),
                        effective: Some(*effective),
                        ..WebhookData::default()
                    },
                )
            })
            .collect(),
        C::TermConfirmed {
            account,
            policy,
            term,
            invoice,
            on,
        } => one(
            "term.confirmed",
            WebhookData {
                account: Some(account.clone()),
                policy: Some(policy.clone()),
                term: Some(*term),
                invoice: Some(invoice.clone()),
                on: Some(*on),
                ..WebhookData::default()
            },
        ),
        C::DisbursementExecuted {
            account,
            disbursement,
            amount,
            on,
            ..
        } => one(
            "disbursement.executed",
            WebhookData {
                account: Some(account.clone()),
                disbursement: Some(disbursement.clone()),
                amount: Some(*amount),
                on: Some(*on),
                ..WebhookData::default()
            },
        ),
        C::FeesCharged { .. }
        | C::CreditIssued { .. }
        | C::CreditApplied { .. }
        | C::WrittenOff { .. }
        | C::WriteOffReversed { .. }
        | C::DisbursementDrafted { .. }
        | C::DisbursementApproved { .. }
        | C::DisbursementRejected { .. }
        | C::DisbursementReversed { .. }
        | C::HoldPlaced { .. }
        | C::HoldReleased { .. }
        | C::BilledThrough { .. } => Vec::new(),
    }
}
