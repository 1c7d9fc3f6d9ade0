//! Invoicing, payments and collections (DOMAIN section 6): billing runs up to a
//! date, immutable invoices, payments and credit, delinquency and lapse,
//! write-offs, disbursements, holds, and payment-plan changes.
//!
//! A pure state machine like the policy book: [`BillingCommand`]s are decided
//! (by [`Decider`], with the invoicing plugin called only then) into
//! [`CollectionsEvent`]s, each financial one posting one balanced journal
//! entry ([`CollectionsEvent::posting`]); events are applied
//! ([`Collections::apply`]) without side effects, so replaying the log
//! rebuilds the state. The engine (`crate::engine`) ties it to the policy book
//! and the ledger: it issues lapse cancellations through the book and bills
//! `immediate` flat charges as their transactions are issued.
//!
//! Invariant: the billed receivable of every account equals what its open
//! invoices still owe ([`AccountBilling::open_balance`]).
//!
//! - `settings`: tenant defaults and account overrides.
//! - `invoice`, `payment`, `fee`, `delinquency`, `write_off`, `disbursement`,
//!   `hold`: the records.
//! - `account`, `state`: the billing state and how events change it.
//! - `event`, `command`, `error`: what goes in and out.
//! - `decide`: how commands become events.
//! - `plan`: payment-plan changes.
//! - `adjuster`: the invoicing plugin as a trait.

mod account;
mod adjuster;
mod command;
mod credit_scope;
pub mod decide;
mod delinquency;
mod disbursement;
mod error;
mod event;
mod fee;
mod hold;
mod invoice;
mod payment;
mod plan;
mod read_index;
mod settings;
mod state;
mod write_off;

pub use account::{AccountBilling, PendingCharge, PendingSlice};
pub use adjuster::{AdjusterDates, InvoiceAdjuster, NoInvoicingPlugins, PLUGIN_LINES_MAX};
pub use command::{BillingCommand, CreditTarget};
pub use credit_scope::{CreditScope, ScopedCredit};
pub use decide::{Decided, Decider, Lapse, LapseItem, RunOutcome, has_run_work};
pub use delinquency::{
    Delinquency, DelinquencyStatus, GraceChange, LAPSE_ACTOR, LapseCancellation,
};
pub use disbursement::{Disbursement, DisbursementStatus};
pub use error::CollectionsError;
pub use event::{CollectionsEvent, CreditReason};
pub use fee::{Fee, FeeReason, LATE_FEE_CHARGE, REVERSAL_FEE_CHARGE};
pub use hold::{Hold, HoldKind};
pub use invoice::{INVOICE_ITEMS_MAX, Invoice, InvoiceItem, InvoiceRecord, ItemKind, SliceRef};
pub use payment::{Allocation, Payment, PaymentRecord};
pub use plan::change_plan;
pub use read_index::{InvoiceKey, InvoiceState, ReadIndex};
pub use settings::{
    AUTO_BIND_DAYS_MAX, AUTOMATIC_BILLING_OFF, AccountOverrides, AutoBind, AutoBindType,
    BillingSettings, Communication, CreditOptions, DelinquencyPlan, DelinquencyScope, SeparateBy,
};
pub use state::Collections;
pub use write_off::{WriteOff, WriteOffRecord};
// Limits, gathered with the others in `crate::limits`.
pub use hold::CATCH_UP_DUE_DAYS_MAX;
pub use payment::TARGETS_MAX;
pub use settings::SETTINGS_AMOUNT_SCALE_MAX;

#[cfg(test)]
pub(crate) mod tests;
