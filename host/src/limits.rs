//! Every limit of the host in one index.
//!
//! Each limit is defined beside the code that enforces it and re-exported
//! here, one line each, under one naming style: what is counted, then its
//! unit (`_BYTES`, `_CHARS`, `_DAYS`, `_MS`, `_SECONDS`; none for a count),
//! then `_MAX` (`_MIN` for a floor). A name that would be ambiguous here gets
//! its module as a prefix (`LEDGER_`, `EXTERNAL_`). The relations between
//! limits that other code relies on are asserted at compile time at the end.
//!
//! The plugin sandbox's limits are configurable per runtime
//! ([`crate::plugin::PluginLimits`]); the `PLUGIN_*` constants are their
//! defaults. Not listed, because their modules keep them private: the
//! external rater's name, header and URL lengths and its decline message
//! length (`rating/external/config.rs`, `rating/external.rs`).

// --- store (`store/limits.rs`, `store/group_commit.rs`, `store/pg_store.rs`)
/// Largest encoded append (events plus response), bytes.
pub use crate::store::APPEND_BYTES_MAX;
/// Most balance projection lines in one append.
pub use crate::store::BALANCE_LINES_PER_APPEND_MAX;
/// Bytes after which a sled group-commit batch stops taking requests.
pub use crate::store::BATCH_BYTES_MAX;
/// Most requests in one sled group-commit batch.
pub use crate::store::BATCH_REQUESTS_MAX;
/// Largest blob (plugin component, rate table), bytes.
pub use crate::store::BLOB_BYTES_MAX;
/// Most events in one append.
pub use crate::store::EVENTS_PER_APPEND_MAX;
/// Longest command id, actor, idempotency key or request hash, bytes.
pub use crate::store::ID_BYTES_MAX;
/// Tenants a PostgreSQL host can hold locked at once (threads and connections).
pub use crate::store::LOCKERS;
/// Longest stream name, event kind, blob namespace or blob key, bytes.
pub use crate::store::NAME_BYTES_MAX;
/// Largest event payload, compact JSON bytes.
pub use crate::store::PAYLOAD_BYTES_MAX;
/// Most appends in one PostgreSQL commit transaction.
pub use crate::store::PG_BATCH_MAX;
/// Most freshness and idempotency probes a PostgreSQL host answers with one round of queries.
pub use crate::store::PROBE_BATCH_MAX;
/// Most events one store read returns.
pub use crate::store::READ_EVENTS_MAX;
/// Largest command response kept with an idempotency key, JSON bytes.
pub use crate::store::RESPONSE_BYTES_MAX;
/// Longest tenant id, bytes.
pub use crate::store::TENANT_BYTES_MAX;
/// Longest a PostgreSQL tenant lock waits for its append before it is rolled back, milliseconds.
pub use crate::store::TENANT_LOCK_HOLD_MS_MAX;

// --- plugin sandbox (`plugin/limits.rs`, `plugin/runtime.rs`, `config/blobs.rs`)
/// Idle instances one pooled plugin may keep.
pub use crate::config::blobs::POOLED_INSTANCES_MAX;
/// Core instances one component may hold.
pub use crate::plugin::CORE_INSTANCES_PER_COMPONENT_MAX;
/// Linear memories one component may hold.
pub use crate::plugin::MEMORIES_PER_COMPONENT_MAX;
/// Memory of a pool slot kept resident between calls, bytes.
pub use crate::plugin::MEMORY_KEEP_RESIDENT_BYTES_MAX;
/// Default uploaded component size, bytes.
pub use crate::plugin::PLUGIN_COMPONENT_BYTES_MAX;
/// Default plugin calls at the same time (pool slots).
pub use crate::plugin::PLUGIN_CONCURRENT_CALLS_MAX;
/// Default fuel (instructions) of one plugin call.
pub use crate::plugin::PLUGIN_FUEL_PER_CALL_MAX;
/// Default request size handed to a plugin, bytes.
pub use crate::plugin::PLUGIN_INPUT_BYTES_MAX;
/// Default log of one plugin call, bytes.
pub use crate::plugin::PLUGIN_LOG_BYTES_MAX;
/// Default longest plugin log line, bytes.
pub use crate::plugin::PLUGIN_LOG_LINE_BYTES_MAX;
/// Default linear memory of one plugin instance, bytes.
pub use crate::plugin::PLUGIN_MEMORY_BYTES_MAX;
/// Default response size accepted from a plugin, bytes.
pub use crate::plugin::PLUGIN_OUTPUT_BYTES_MAX;
/// Default quarantined calls at once, all plugins together.
pub use crate::plugin::PLUGIN_QUARANTINED_CALLS_MAX;
/// Default wall time of one quarantined call, milliseconds.
pub use crate::plugin::PLUGIN_QUARANTINED_WALL_TIME_MS_MAX;
/// Default WebAssembly stack of one call, bytes.
pub use crate::plugin::PLUGIN_STACK_BYTES_MAX;
/// Default table elements of one instance.
pub use crate::plugin::PLUGIN_TABLE_ELEMENTS_MAX;
/// Default wall time of one plugin call, milliseconds.
pub use crate::plugin::PLUGIN_WALL_TIME_MS_MAX;
/// Table memory of a pool slot kept resident between calls, bytes.
pub use crate::plugin::TABLE_KEEP_RESIDENT_BYTES_MAX;
/// Tables one component may hold.
pub use crate::plugin::TABLES_PER_COMPONENT_MAX;

// --- external raters (`rating/external/`)
/// Largest response read from an external rater, bytes.
pub use crate::rating::external::MAX_RESPONSE_BYTES as EXTERNAL_RESPONSE_BYTES_MAX;
/// Longest timeout an external rater may be given, milliseconds.
pub use crate::rating::external::MAX_TIMEOUT_MS as EXTERNAL_TIMEOUT_MS_MAX;

// --- domain and billing (pure rules)
/// Most days in advance billing may run.
pub use crate::billing::calendar::ADVANCE_DAYS_MAX;
/// Most days between invoice and due date.
pub use crate::billing::calendar::DUE_DAYS_MAX;
/// Longest range of billing dates a calendar lists, days.
pub use crate::billing::calendar::RANGE_DAYS_MAX;
/// Farthest a billing date is shifted looking for an allowed day, days.
pub use crate::billing::calendar::SHIFT_DAYS_MAX;
/// Longest grace period, days.
pub use crate::billing::grace::GRACE_DAYS_MAX;
/// Most installment frames in one plan.
pub use crate::billing::installments::FRAMES_MAX;
/// Most lead days of an installment plan.
pub use crate::billing::installments::LEAD_DAYS_MAX;
/// Largest weight of one installment frame.
pub use crate::billing::installments::WEIGHT_MAX;
/// Most amounts one levelling splits.
pub use crate::billing::level::AMOUNTS_MAX as LEVEL_AMOUNTS_MAX;
/// Most parts one allocation splits an amount into.
pub use crate::domain::PARTS_MAX;
/// Longest period, days.
pub use crate::domain::PERIOD_DAYS_MAX;
/// Most decimal places of an allocation weight.
pub use crate::domain::WEIGHT_SCALE_MAX;

// --- policy (`policy/`)
/// Items a policy's vectors (transactions, charges, slices) keep at exact
/// capacity before growing by doubling.
pub use crate::policy::COMPACT_ITEMS_MAX;
/// Most exposures on one policy.
pub use crate::policy::EXPOSURES_MAX;
/// Distinct shared products kept before forgetting those no policy holds.
pub use crate::policy::INTERNED_VALUES_MAX;
/// Longest non-renewal reason, characters.
pub use crate::policy::NON_RENEWAL_REASON_CHARS_MAX;
/// Most perils on one exposure.
pub use crate::policy::PERILS_PER_EXPOSURE_MAX;
/// Most charge definitions of one product.
pub use crate::policy::PRODUCT_CHARGES_MAX;
/// Most installment plans of one product.
pub use crate::policy::PRODUCT_PLANS_MAX;
/// Most rows of a short-rate cancellation table.
pub use crate::policy::SHORT_RATE_ROWS_MAX;
/// Most terms of one policy.
pub use crate::policy::TERMS_PER_POLICY_MAX;
/// Most transactions on one policy.
pub use crate::policy::TRANSACTIONS_PER_POLICY_MAX;

// --- ledger (`ledger/`)
/// Characters of a commission payment's reason.
pub use crate::engine::COMMISSION_PAYMENT_REASON_CHARS_MAX;
/// Most charges one `premium_earned` event lists.
pub use crate::engine::EARNED_CHARGES_PER_EVENT_MAX;
/// Most charges one earnings run earns (the same day's next run goes on).
pub use crate::engine::EARNED_CHARGES_PER_RUN_MAX;
/// Allocations one agency remittance may name.
pub use crate::engine::REMITTANCE_ALLOCATIONS_MAX;
/// Characters of an agency remittance's reference.
pub use crate::engine::REMITTANCE_REFERENCE_CHARS_MAX;
/// Largest amount of one journal line.
pub use crate::ledger::AMOUNT_MAX as LEDGER_AMOUNT_MAX;
/// Most charges one transaction's journal entry gathers.
pub use crate::ledger::CHARGES_PER_ENTRY_MAX;
/// Most entries of one tenant's ledger.
pub use crate::ledger::ENTRIES_MAX as LEDGER_ENTRIES_MAX;
/// Longest GL account code (or product name) in a GL mapping row, bytes.
pub use crate::ledger::GL_ACCOUNT_BYTES_MAX;
/// Most rows in one GL mapping (at most ~250 bytes each in its event, far
/// below the event payload limit).
pub use crate::ledger::GL_MAPPING_ROWS_MAX;
/// Most lines of a journal entry.
pub use crate::ledger::LINES_PER_ENTRY_MAX;
/// Fewest lines of a journal entry.
pub use crate::ledger::LINES_PER_ENTRY_MIN;
/// Longest journal entry memo, bytes.
pub use crate::ledger::MEMO_BYTES_MAX;
/// Longest journal entry reference, bytes.
pub use crate::ledger::REFERENCE_BYTES_MAX;
/// Longest subledger name, bytes.
pub use crate::ledger::SUBLEDGER_BYTES_MAX;
/// Longest tenant id a ledger accepts, bytes.
pub use crate::ledger::TENANT_BYTES_MAX as LEDGER_TENANT_BYTES_MAX;

// --- collections (`collections/`)
/// Most days a suspension's catch-up invoice gives to pay.
pub use crate::collections::CATCH_UP_DUE_DAYS_MAX;
/// Most items of one invoice.
pub use crate::collections::INVOICE_ITEMS_MAX;
/// Most lines an invoicing plugin may add to one invoice.
pub use crate::collections::PLUGIN_LINES_MAX;
/// Most decimal places of an amount in billing settings.
pub use crate::collections::SETTINGS_AMOUNT_SCALE_MAX;
/// Most invoices one payment or credit distribution names.
pub use crate::collections::TARGETS_MAX;
/// Most events one billing decision emits before it leaves the rest.
pub use crate::collections::decide::DECISION_EVENTS_MAX;
/// Most policies one decision lapses (the rest lapse in the next command).
pub use crate::collections::decide::LAPSE_POLICIES_MAX;
/// Most steps (days with work) of one account's billing run.
pub use crate::collections::decide::RUN_STEPS_MAX;
/// Longest reason, reference or description of a billing command, bytes.
pub use crate::collections::decide::TEXT_BYTES_MAX;

// --- engine (`engine/`)
/// Most times a command is decided and committed while other hosts append first.
pub use crate::engine::COMMIT_ATTEMPTS as COMMIT_ATTEMPTS_MAX;
/// Most log events one filtered feed page reads.
pub use crate::engine::FEED_SCAN_EVENTS_MAX;
/// Most days with work the search for an account's next invoice runs through.
pub use crate::engine::NEXT_INVOICE_STEPS_MAX;
/// Most billing runs a schedule preview takes.
pub use crate::engine::PREVIEW_RUNS_MAX;
/// Events at which a billing run queues the append its accounts share.
pub use crate::engine::RUN_APPEND_EVENTS;
/// Most appends of one billing run waiting for durability at a time.
pub use crate::engine::RUN_APPENDS_IN_FLIGHT;
/// Most commands one account's billing run takes.
pub use crate::engine::RUN_COMMANDS_PER_ACCOUNT_MAX;
/// Most accounts a billing run decides under one hold of the tenant's lock.
pub use crate::engine::RUN_LOCK_ACCOUNTS_MAX;
/// How long a tenant commits one command at a time after another host raced it, ms.
pub use crate::engine::SHARED_CONTENDED_MS;
/// Largest chunk (one blob) of a tenant's snapshot, bytes.
pub use crate::engine::SNAPSHOT_CHUNK_BYTES_MAX;
/// Events between two snapshots of a running tenant (a floor on how often
/// one is taken, not a maximum: also one at every clean shutdown).
pub use crate::engine::SNAPSHOT_INTERVAL_EVENTS;
/// Bytes after which a piece of a snapshot's large collection is closed
/// (pieces are decoded in parallel at start-up).
pub use crate::engine::SNAPSHOT_PIECE_BYTES;
/// Most days ahead the invoices-coming-due worklist looks.
pub use crate::engine::read_model::COMING_DUE_DAYS_MAX;
/// Most rows one page of the read model returns (accounts, invoices,
/// payments, worklists).
pub use crate::engine::read_model::PAGE_ITEMS_MAX as READ_PAGE_ITEMS_MAX;
/// Most open invoices an account's summary lists.
pub use crate::engine::read_model::SUMMARY_OPEN_INVOICES_MAX;
/// Most upcoming installment slices an account's summary shows.
pub use crate::engine::read_model::UPCOMING_INSTALLMENTS_MAX;

// --- payments (`payments/`, `engine/service/collect.rs`, `api/routes/payments.rs`)
/// Largest processor event body, bytes.
pub use crate::api::routes::payments::PROCESSOR_EVENT_BYTES_MAX;
/// Farthest a processor event's timestamp is from now, seconds.
pub use crate::api::routes::payments::PROCESSOR_EVENT_SKEW_SECONDS_MAX;
/// Longest wait between look-ups of an attempt whose answer was lost, ms.
pub use crate::engine::collect::LOOKUP_BACKOFF_MS_MAX;
/// Most digits of what is refused as a card number.
pub use crate::payments::card::CARD_DIGITS_MAX;
/// Fewest digits of what is refused as a card number.
pub use crate::payments::card::CARD_DIGITS_MIN;
/// Latest retry day after the first attempt, days.
pub use crate::payments::retry::RETRY_DAYS_MAX as COLLECTION_RETRY_DAYS_MAX;
/// Most soft-decline retries a tenant configures.
pub use crate::payments::retry::SOFT_DECLINE_RETRIES_MAX;
/// Longest payment method brand, characters.
pub use crate::payments::state::BRAND_CHARS_MAX as PAYMENT_BRAND_CHARS_MAX;
/// Most days before the due date a collection is made.
pub use crate::payments::state::LEAD_DAYS_MAX as COLLECTION_LEAD_DAYS_MAX;
/// Most payment methods attached to one account.
pub use crate::payments::state::METHODS_PER_ACCOUNT_MAX as PAYMENT_METHODS_PER_ACCOUNT_MAX;
/// Longest processor adapter URL, characters.
pub use crate::payments::state::PROCESSOR_URL_CHARS_MAX;
/// Longest processor token, characters.
pub use crate::payments::state::TOKEN_CHARS_MAX as PAYMENT_TOKEN_CHARS_MAX;

// --- API keys, exports and HTTP (`keys/`, `export/`, `api/`)
/// Largest JSON request body, bytes.
pub use crate::api::JSON_BODY_BYTES_MAX;
/// Longest `Idempotency-Key` header, bytes.
pub use crate::api::extract::IDEMPOTENCY_KEY_BYTES_MAX;
/// Most commands in one bundle preview.
pub use crate::api::routes::bundle::BUNDLE_COMMANDS_MAX;
/// Most golden cases one plugin upload carries.
pub use crate::api::routes::config::GOLDEN_CASES_MAX;
/// Most rows one list page returns.
pub use crate::api::routes::ledger::PAGE_LIMIT_MAX as PAGE_ROWS_MAX;
/// Most rows of one export.
pub use crate::export::EXPORT_ROWS_MAX;
/// Longest rotation grace of an API key, seconds.
pub use crate::keys::GRACE_SECONDS_MAX as KEY_GRACE_SECONDS_MAX;
/// Longest API key label, characters.
pub use crate::keys::LABEL_CHARS_MAX as KEY_LABEL_CHARS_MAX;

// --- the staff console (`api/console/`)
/// Longest search query, characters.
pub use crate::api::console::SEARCH_QUERY_CHARS_MAX as CONSOLE_SEARCH_QUERY_CHARS_MAX;
/// Most journal entries one ledger page filtered by reference reads.
pub use crate::api::console::pages::ENTRIES_SCANNED_MAX as CONSOLE_LEDGER_ENTRIES_SCANNED_MAX;
/// Most rows one console list or page shows.
pub use crate::api::console::pages::ROWS_MAX as CONSOLE_ROWS_MAX;
/// How long a console session lasts, seconds.
pub use crate::api::console::session::SESSION_SECONDS_MAX as CONSOLE_SESSION_SECONDS_MAX;
/// Most console sessions a host keeps.
pub use crate::api::console::session::SESSIONS_MAX as CONSOLE_SESSIONS_MAX;

// --- webhooks (`webhooks/`, `engine/service/webhooks.rs`)
/// Delivery attempts kept per endpoint.
pub use crate::engine::webhooks::ATTEMPTS_KEPT_MAX as WEBHOOK_ATTEMPTS_KEPT_MAX;
/// How long a receiver has to answer, milliseconds.
pub use crate::engine::webhooks::DELIVERY_TIMEOUT_MS as WEBHOOK_DELIVERY_TIMEOUT_MS;
/// How long a host's hold on a tenant's deliveries lasts, milliseconds.
pub use crate::engine::webhooks::LEASE_TTL_MS as WEBHOOK_LEASE_TTL_MS;
/// Most sequences one replay names.
pub use crate::engine::webhooks::REPLAY_SEQUENCES_MAX as WEBHOOK_REPLAY_SEQUENCES_MAX;
/// Longest webhook endpoint description, characters.
pub use crate::webhooks::endpoint::DESCRIPTION_CHARS_MAX as WEBHOOK_DESCRIPTION_CHARS_MAX;
/// Most webhook endpoints of a tenant.
pub use crate::webhooks::endpoint::ENDPOINTS_PER_TENANT_MAX as WEBHOOK_ENDPOINTS_PER_TENANT_MAX;
/// Longest webhook URL, characters.
pub use crate::webhooks::endpoint::URL_CHARS_MAX as WEBHOOK_URL_CHARS_MAX;
/// Days a webhook endpoint may fail before it is disabled.
pub use crate::webhooks::retry::FAILING_DAYS_MAX as WEBHOOK_FAILING_DAYS_MAX;
/// Bytes of a webhook secret, at most and at least.
pub use crate::webhooks::signature::{
    SECRET_BYTES_MAX as WEBHOOK_SECRET_BYTES_MAX, SECRET_BYTES_MIN as WEBHOOK_SECRET_BYTES_MIN,
};

// --- relations other code relies on, checked when the crate compiles
// An append carries one payload and its response.
const _: () = assert!(PAYLOAD_BYTES_MAX + RESPONSE_BYTES_MAX <= APPEND_BYTES_MAX);
// A plugin component is stored as one blob.
const _: () = assert!(PLUGIN_COMPONENT_BYTES_MAX <= BLOB_BYTES_MAX);
// A billing decision is written in one append.
const _: () = assert!(DECISION_EVENTS_MAX <= EVENTS_PER_APPEND_MAX);
// An append of journal entries only, each of the most lines, hands over all
// of its balance lines.
const _: () = assert!(EVENTS_PER_APPEND_MAX * LINES_PER_ENTRY_MAX <= BALANCE_LINES_PER_APPEND_MAX);
// A request body, a plugin's output and an external rater's response each
// fit in one event payload.
const _: () = assert!(JSON_BODY_BYTES_MAX <= PAYLOAD_BYTES_MAX);
const _: () = assert!(PLUGIN_OUTPUT_BYTES_MAX <= PAYLOAD_BYTES_MAX);
const _: () = assert!(EXTERNAL_RESPONSE_BYTES_MAX <= PAYLOAD_BYTES_MAX);
// An idempotency key is kept as a store id.
const _: () = assert!(IDEMPOTENCY_KEY_BYTES_MAX <= ID_BYTES_MAX);
// Every tenant the store accepts has a ledger.
const _: () = assert!(LEDGER_TENANT_BYTES_MAX >= TENANT_BYTES_MAX);
// Plugin log lines and quarantine.
const _: () = assert!(PLUGIN_LOG_LINE_BYTES_MAX <= PLUGIN_LOG_BYTES_MAX);
const _: () = assert!(PLUGIN_QUARANTINED_CALLS_MAX <= PLUGIN_CONCURRENT_CALLS_MAX);
const _: () = assert!(PLUGIN_WALL_TIME_MS_MAX <= PLUGIN_QUARANTINED_WALL_TIME_MS_MAX);
// A pooled plugin's idle instances are pool slots.
const _: () = assert!(POOLED_INSTANCES_MAX <= PLUGIN_CONCURRENT_CALLS_MAX);
// Calendar shifts stay inside the range a calendar covers, which stays
// inside the longest period; a catch-up invoice's due days are due days.
const _: () = assert!(SHIFT_DAYS_MAX <= RANGE_DAYS_MAX);
const _: () = assert!(RANGE_DAYS_MAX as usize <= PERIOD_DAYS_MAX as usize);
const _: () = assert!(CATCH_UP_DUE_DAYS_MAX <= DUE_DAYS_MAX);
const _: () = assert!(LINES_PER_ENTRY_MIN <= LINES_PER_ENTRY_MAX);
// A webhook secret Premia makes is one a receiver accepts.
const _: () = assert!(
    WEBHOOK_SECRET_BYTES_MIN <= crate::webhooks::signature::SECRET_BYTES
        && crate::webhooks::signature::SECRET_BYTES <= WEBHOOK_SECRET_BYTES_MAX
);
// A host holding the delivery lease renews it before it lapses, even after
// a delivery that ran to its timeout.
const _: () = assert!(WEBHOOK_DELIVERY_TIMEOUT_MS < WEBHOOK_LEASE_TTL_MS);
