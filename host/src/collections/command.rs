//! The billing commands: settings, billing runs, payments and credit,
//! write-offs, disbursements, holds and payment-plan changes. Every date a
//! command acts on is in the command (`on`, `received_on`, `up_to`), so tests
//! and back-office corrections move time explicitly.

use super::hold::HoldKind;
use super::settings::{AccountOverrides, BillingSettings};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An amount of credit to put on one invoice (all it can take when absent).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditTarget {
    pub invoice: String,
    #[serde(default)]
    pub amount: Option<Decimal>,
}

/// A command to the billing system.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum BillingCommand {
    /// Sets the tenant's billing settings.
    ConfigureBilling { settings: BillingSettings },
    /// Sets an account's overrides of the tenant's settings.
    ConfigureAccount {
        account: String,
        overrides: AccountOverrides,
    },
    /// Runs billing for one account up to and including `up_to`: invoices,
    /// past due, delinquency and lapses, disbursements, automatic write-offs.
    /// Idempotent: running it again for the same date does nothing. A run that
    /// lapses policies stops after the lapse; running it again continues.
    RunAccount { account: String, up_to: NaiveDate },
    /// Records a payment; without `invoices` it settles oldest due first, with
    /// them only those (in order); the rest goes to the account's credit.
    RecordPayment {
        account: String,
        amount: Decimal,
        received_on: NaiveDate,
        #[serde(default)]
        invoices: Vec<String>,
        #[serde(default)]
        reference: String,
        /// Flagged for deductibles (seed 003): without `invoices` it settles
        /// open deductible invoices, oldest due first, and what is left is
        /// credit for deductible invoices only.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        for_deductibles: bool,
        /// Made for a policy term or a transaction (seed 003): without
        /// `invoices` it settles that term's or transaction's open invoices,
        /// oldest due first, and what is left is credit reserved for it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reserved_for: Option<super::CreditScope>,
    },
    /// Reverses a payment (a returned cheque), optionally charging a fee.
    ReversePayment {
        account: String,
        payment: String,
        on: NaiveDate,
        #[serde(default)]
        fee: Option<Decimal>,
        #[serde(default)]
        reason: String,
    },
    /// Applies credit to invoices: the ones named, or oldest due first.
    DistributeCredit {
        account: String,
        on: NaiveDate,
        #[serde(default)]
        targets: Vec<CreditTarget>,
    },
    /// Writes off an invoice, or one of its items, whole or in part.
    WriteOff {
        account: String,
        invoice: String,
        #[serde(default)]
        item: Option<String>,
        #[serde(default)]
        amount: Option<Decimal>,
        on: NaiveDate,
        #[serde(default)]
        reason: String,
    },
    ReverseWriteOff {
        account: String,
        write_off: String,
        on: NaiveDate,
    },
    /// Drafts a refund of the account's credit.
    DraftDisbursement {
        account: String,
        amount: Decimal,
        on: NaiveDate,
        #[serde(default)]
        reason: String,
    },
    /// Approves a drafted refund; the billing run executes it on or after
    /// `execute_on` (the approval date when absent).
    ApproveDisbursement {
        account: String,
        disbursement: String,
        on: NaiveDate,
        #[serde(default)]
        execute_on: Option<NaiveDate>,
    },
    RejectDisbursement {
        account: String,
        disbursement: String,
        on: NaiveDate,
        #[serde(default)]
        reason: String,
    },
    /// Reverses an executed refund (it never reached the customer).
    ReverseDisbursement {
        account: String,
        disbursement: String,
        on: NaiveDate,
        #[serde(default)]
        reason: String,
    },
    PlaceHold {
        account: String,
        kind: HoldKind,
        from: NaiveDate,
        #[serde(default)]
        reason: String,
    },
    /// Releases a hold (or ends a suspension early); the invoices it kept back
    /// are billed at once on one catch-up invoice.
    ReleaseHold {
        account: String,
        hold: String,
        on: NaiveDate,
    },
    /// Moves the policy's term in force on `effective` to another plan of its
    /// product: the installments not yet invoiced are re-spread over the new
    /// plan's installments from `effective` on.
    ChangePlan {
        policy: String,
        plan: String,
        effective: NaiveDate,
    },
}
