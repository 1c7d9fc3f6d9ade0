//! The command engine: a tenant's policy book, ledger and billing state, driven
//! by commands into events, and (in `service`) kept in the durable event log.

mod account_summary;
mod accounting;
mod agency;
mod amounts;
mod auto_bind;
mod billing;
mod clock;
mod command;
mod commission_payments;
mod configure;
mod feed;
mod key_ring;
mod next_invoice;
mod payments;
mod plugin_adjuster;
mod producer_book;
mod producer_error;
mod producers;
pub mod read_model;
mod reinstatement;
mod schedule;
mod service;
mod shadow_report;
pub mod snapshot;
mod state;
mod warehouse;
pub mod webhook_messages;

pub use account_summary::{AccountPosition, AccountSummary, touched_accounts};
pub use accounting::{
    AccountingCommand, AccountingError, AccountingEvent, ClosedPeriod,
    EARNED_CHARGES_PER_EVENT_MAX, EARNED_CHARGES_PER_RUN_MAX, EarnedCharge, GlMappingVersion,
    Month, PeriodBalances, PeriodDetail, PeriodView, PremiumReport, PremiumRow,
};
pub use agency::{
    AgencyException, AgencyItem, AgencyStatement, AgencyTotals, AllocationRequest, BillingOptions,
    REMITTANCE_ALLOCATIONS_MAX, REMITTANCE_REFERENCE_CHARS_MAX, statement_date,
};
pub use auto_bind::{BindingEvent, PendingStatus, PendingTransaction, transaction_type};
pub use billing::{
    BillingRunPreview, BillingRunReport, DisbursementPreview, LAPSE_ACTOR, LapsePreview, PastDue,
    RUN_COMMANDS_PER_ACCOUNT_MAX,
};
pub use clock::{ClockCommand, ClockError, ClockEvent, TenantClock, wall_today};
pub use command::EngineCommand;
pub use commission_payments::COMMISSION_PAYMENT_REASON_CHARS_MAX;
pub use feed::{FEED_SCAN_EVENTS_MAX, FeedEntry, FeedFilter, FeedPage};
pub use key_ring::{
    Authenticated, CREDENTIALS_NAMESPACE, IssuedKey, KeyListing, KeyRing, KeyRingError,
    LAST_USED_FLUSH_SECONDS, LAST_USED_NAMESPACE, SYSTEM_TENANT,
};
pub use next_invoice::{NEXT_INVOICE_STEPS_MAX, NextInvoice};
pub use payments::COLLECTIONS_ACTOR;
pub use plugin_adjuster::PluginInvoiceAdjuster;
pub use producer_book::{
    AgencyConfig, CommissionPayment, CommissionPaymentStatus, Remittance, RemittanceAllocation,
};
pub use producer_error::ProducerError;
pub use producers::{CommissionLine, ProducerBalance, ProducerStatement, ProducerTotals};
pub use schedule::{PREVIEW_RUNS_MAX, ScheduledInvoice};
pub use service::collect;
pub use service::decode_stored;
pub use service::webhooks;
pub use service::{
    BalanceChange, COMMIT_ATTEMPTS, CommandOutcome, Engine, Fresh, PreviewOutcome, PreviewStep,
    RUN_APPEND_EVENTS, RUN_APPENDS_IN_FLIGHT, RUN_LOCK_ACCOUNTS_MAX, RequestMeta, SHADOW_ACTOR,
    SHADOW_QUEUE_JOBS_MAX, SHARED_CONTENDED_MS, SummarizedPreview, request_hash,
};
pub use shadow_report::{
    DifferenceRow, ErrorCount, SHADOW_SAMPLES_MAX, ShadowCall, ShadowError, ShadowRecord,
    ShadowReport, ShadowReports, ShadowSample,
};
pub use snapshot::{
    SNAPSHOT_CHUNK_BYTES_MAX, SNAPSHOT_FORMAT_VERSION, SNAPSHOT_INTERVAL_EVENTS,
    SNAPSHOT_PIECE_BYTES, SnapshotError,
};
pub use state::{EngineError, TenantEvent, TenantState};
pub use warehouse::WarehouseFilter;

#[cfg(test)]
mod tests;
