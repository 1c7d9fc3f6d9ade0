//! The events of the billing system, and the one journal entry each financial
//! event posts ([`CollectionsEvent::posting`]): a pure function of the event,
//! so replaying the log posts the same ledger.

use super::delinquency::{Delinquency, GraceChange, LapseCancellation};
use super::disbursement::Disbursement;
use super::fee::{Fee, FeeReason};
use super::hold::Hold;
use super::invoice::Invoice;
use super::payment::{Allocation, Payment};
use super::settings::{AccountOverrides, BillingSettings};
use super::write_off::WriteOff;
use crate::domain::Money;
use crate::ledger::{EntryDraft, EntryId, LedgerError, Posting, postings};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Why credit was applied.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditReason {
    /// Seed 003's "Apply on Invoice Generation".
    InvoiceGenerated,
    /// Seed 003's "Apply When Policy Term is effective".
    TermEffective,
    /// A credit distribution by hand.
    Distribution,
}

/// An event of the billing system.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum CollectionsEvent {
    BillingConfigured {
        settings: BillingSettings,
    },
    AccountConfigured {
        account: String,
        overrides: AccountOverrides,
    },
    /// Fees booked by the billing system (late, reversal, plugin fees).
    FeesCharged {
        account: String,
        on: NaiveDate,
        fees: Vec<Fee>,
    },
    InvoiceIssued {
        invoice: Invoice,
    },
    /// A credit invoice's amount turned into customer credit.
    CreditIssued {
        account: String,
        invoice: String,
        amount: Money,
        on: NaiveDate,
    },
    CreditApplied {
        account: String,
        /// `<account>-C<n>`.
        locator: String,
        on: NaiveDate,
        reason: CreditReason,
        allocations: Vec<Allocation>,
        total: Money,
        /// The reservation the credit came from (seed 003); none: the
        /// account's free credit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<super::CreditScope>,
    },
    PaymentReceived {
        payment: Payment,
    },
    /// A returned payment: its allocations undone, its credit taken back.
    PaymentReversed {
        account: String,
        payment: String,
        on: NaiveDate,
        reason: String,
        allocations: Vec<Allocation>,
        to_credit: Decimal,
        /// The payment's entry, posted again as its contra.
        entry: EntryId,
    },
    InvoicePastDue {
        account: String,
        invoice: String,
        on: NaiveDate,
    },
    DelinquencyStarted {
        delinquency: Delinquency,
    },
    /// Paid in full during grace.
    DelinquencyEnded {
        account: String,
        delinquency: String,
        on: NaiveDate,
    },
    /// Grace ended unpaid: the policy system is told that these policies were
    /// cancelled from `effective`.
    DelinquencyLapsed {
        account: String,
        delinquency: String,
        on: NaiveDate,
        effective: NaiveDate,
        cancellations: Vec<LapseCancellation>,
    },
    /// A lapsed delinquency closed by a transaction that put `policy` back in
    /// force; what its invoices still owe went to the delinquency `successor`
    /// (started by the next event), if anything ([E15]).
    DelinquencyClosedByReinstatement {
        account: String,
        delinquency: String,
        on: NaiveDate,
        policy: String,
        transaction: String,
        #[serde(default)]
        successor: Option<String>,
        /// Delinquencies of the policy already in grace, their grace
        /// extended to a fresh period from the reinstatement day.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        grace: Vec<GraceChange>,
    },
    /// Payments reached the term's first invoice (seed 002): the policy system
    /// is told the term is confirmed.
    TermConfirmed {
        account: String,
        policy: String,
        term: u32,
        invoice: String,
        on: NaiveDate,
    },
    WrittenOff {
        write_off: WriteOff,
    },
    WriteOffReversed {
        account: String,
        write_off: String,
        invoice: String,
        item: Option<String>,
        amount: Money,
        on: NaiveDate,
        /// The write-off's entry, posted again as its contra.
        entry: EntryId,
    },
    DisbursementDrafted {
        disbursement: Disbursement,
    },
    DisbursementApproved {
        account: String,
        disbursement: String,
        on: NaiveDate,
        execute_on: NaiveDate,
    },
    DisbursementRejected {
        account: String,
        disbursement: String,
        on: NaiveDate,
        reason: String,
    },
    DisbursementExecuted {
        account: String,
        disbursement: String,
        amount: Money,
        on: NaiveDate,
        entry: EntryId,
    },
    DisbursementReversed {
        account: String,
        disbursement: String,
        amount: Money,
        on: NaiveDate,
        reason: String,
        /// The execution's entry, posted again as its contra.
        entry: EntryId,
    },
    HoldPlaced {
        account: String,
        hold: Hold,
    },
    HoldReleased {
        account: String,
        hold: String,
        on: NaiveDate,
        /// Grace extended by the days the hold paused it.
        grace: Vec<GraceChange>,
    },
    /// A billing run finished the account up to this date.
    BilledThrough {
        account: String,
        through: NaiveDate,
    },
}

impl CollectionsEvent {
    /// The account it concerns (none for tenant settings).
    pub fn account(&self) -> Option<&str> {
        use CollectionsEvent as E;
        Some(match self {
            E::BillingConfigured { .. } => return None,
            E::InvoiceIssued { invoice } => &invoice.account,
            E::PaymentReceived { payment } => &payment.account,
            E::DelinquencyStarted { delinquency } => &delinquency.account,
            E::WrittenOff { write_off } => &write_off.account,
            E::DisbursementDrafted { disbursement } => &disbursement.account,
            E::AccountConfigured { account, .. }
            | E::FeesCharged { account, .. }
            | E::CreditIssued { account, .. }
            | E::CreditApplied { account, .. }
            | E::PaymentReversed { account, .. }
            | E::InvoicePastDue { account, .. }
            | E::DelinquencyEnded { account, .. }
            | E::DelinquencyLapsed { account, .. }
            | E::DelinquencyClosedByReinstatement { account, .. }
            | E::TermConfirmed { account, .. }
            | E::WriteOffReversed { account, .. }
            | E::DisbursementApproved { account, .. }
            | E::DisbursementRejected { account, .. }
            | E::DisbursementExecuted { account, .. }
            | E::DisbursementReversed { account, .. }
            | E::HoldPlaced { account, .. }
            | E::HoldReleased { account, .. }
            | E::BilledThrough { account, .. } => account,
        })
    }

    /// The stable kind stored with the event.
    pub fn kind(&self) -> &'static str {
        use CollectionsEvent as E;
        match self {
            E::BillingConfigured { .. } => "billing_configured",
            E::AccountConfigured { .. } => "billing_account_configured",
            E::FeesCharged { .. } => "fees_charged",
            E::InvoiceIssued { .. } => "invoice_issued",
            E::CreditIssued { .. } => "credit_issued",
            E::CreditApplied { .. } => "credit_applied",
            E::PaymentReceived { .. } => "payment_received",
            E::PaymentReversed { .. } => "payment_reversed",
            E::InvoicePastDue { .. } => "invoice_past_due",
            E::DelinquencyStarted { .. } => "delinquency_started",
            E::DelinquencyEnded { .. } => "delinquency_ended",
            E::DelinquencyLapsed { .. } => "delinquency_lapsed",
            E::DelinquencyClosedByReinstatement { .. } => "delinquency_closed_by_reinstatement",
            E::TermConfirmed { .. } => "term_confirmed",
            E::WrittenOff { .. } => "written_off",
            E::WriteOffReversed { .. } => "write_off_reversed",
            E::DisbursementDrafted { .. } => "disbursement_drafted",
            E::DisbursementApproved { .. } => "disbursement_approved",
            E::DisbursementRejected { .. } => "disbursement_rejected",
            E::DisbursementExecuted { .. } => "disbursement_executed",
            E::DisbursementReversed { .. } => "disbursement_reversed",
            E::HoldPlaced { .. } => "hold_placed",
            E::HoldReleased { .. } => "hold_released",
            E::BilledThrough { .. } => "billed_through",
        }
    }

    /// The one journal entry this event posts, if it is a financial event.
    ///
    /// | event                 | entry                                             |
    /// |-----------------------|---------------------------------------------------|
    /// | fees charged          | `charges_written` (a returned-payment fee: `payment_reversal_fee`) |
    /// | invoice issued        | `invoice_issued` of its total (none for zero)     |
    /// | credit issued         | `credit_issued`                                   |
    /// | credit applied        | `credit_applied` of the total                     |
    /// | payment received      | `payment_received`                                |
    /// | payment reversed      | contra of the payment's entry                     |
    /// | written off           | `write_off`                                       |
    /// | write-off reversed    | contra of the write-off's entry                   |
    /// | disbursement executed | `disbursement_executed`                           |
    /// | disbursement reversed | contra of the execution's entry                   |
    pub fn posting(&self) -> Result<Option<Posting>, LedgerError> {
        use CollectionsEvent as E;
        let entry = |draft: EntryDraft| Ok(Some(Posting::Entry(draft)));
        match self {
            E::FeesCharged { account, on, fees } => match fees.as_slice() {
                [fee] if matches!(fee.reason, FeeReason::PaymentReversal { .. }) => entry(
                    postings::payment_reversal_fee(account, fee.amount, *on, &fee.locator)?,
                ),
                [first, ..] => {
                    let lines: Vec<_> = fees.iter().map(|f| (f.category, f.amount)).collect();
                    Ok(
                        postings::charges_written(account, &lines, *on, &first.locator)?
                            .map(Posting::Entry),
                    )
                }
                [] => Ok(None),
            },
            E::InvoiceIssued { invoice } => Ok(postings::invoice_issued(
                &invoice.account,
                invoice.total,
                invoice.issue_date,
                &invoice.locator,
            )?
            .map(Posting::Entry)),
            E::CreditIssued {
                account,
                invoice,
                amount,
                on,
            } => entry(postings::credit_issued(account, *amount, *on, invoice)?),
            E::CreditApplied {
                account,
                locator,
                on,
                total,
                ..
            } => entry(postings::credit_applied(account, *total, *on, locator)?),
            E::PaymentReceived { payment } => {
                let allocated: Decimal = payment.allocations.iter().map(|a| a.amount).sum();
                entry(postings::payment_received(
                    &payment.account,
                    payment.amount,
                    Money::new(allocated, payment.amount.currency),
                    payment.received_on,
                    &payment.locator,
                )?)
            }
            E::WrittenOff { write_off } => entry(postings::write_off(
                &write_off.account,
                write_off.amount,
                write_off.on,
                &write_off.locator,
            )?),
            E::DisbursementExecuted {
                account,
                disbursement,
                amount,
                on,
                ..
            } => entry(postings::disbursement_executed(
                account,
                *amount,
                *on,
                disbursement,
            )?),
            E::PaymentReversed {
                payment: reference,
                on,
                entry: original,
                ..
            }
            | E::WriteOffReversed {
                write_off: reference,
                on,
                entry: original,
                ..
            }
            | E::DisbursementReversed {
                disbursement: reference,
                on,
                entry: original,
                ..
            } => Ok(Some(Posting::Contra {
                original: *original,
                posted_on: *on,
                reference: reference.clone(),
            })),
            _ => Ok(None),
        }
    }
}
