//! The plugin runtime: the only module that imports wasmtime.
//!
//! Plugins are WebAssembly components against a version of the WIT package
//! in `wit/`: `premia:plugin@0.1.0` (`wit/since_v0.1.0`) or `@0.2.0`
//! (`wit/since_v0.2.0`, whose draft invoice adds its net, a credit flag and
//! each policy's coverage), each with a `rater` world and an `invoicer`
//! world. The host detects a component's version when it inspects it and
//! calls it in that version (`bindings` holds one module per version). [`PluginRuntime`] validates and compiles a component
//! once when it is registered (cached by content hash), pre-instantiates it,
//! and runs every call in a fresh store and instance from the pooling
//! allocator (or, for a plugin with a pooled [`InstancePolicy`], in an idle
//! instance kept from an earlier successful call), under the limits of
//! [`PluginLimits`]. Each way a call can fail
//! has its own [`PluginError`] variant; a failed call never affects the next.
//!
//! Plugins see only the host's `lookup` (rate tables) and `log` imports, and
//! a WASI with no files, environment, sockets, a fixed clock and seeded
//! randomness ([`wasi`]).

mod active;
mod bindings;
mod convert;
mod error;
mod inspect;
mod invoicing;
mod limits;
mod policy;
mod pool;
mod quarantine;
mod rater;
mod runtime;
mod state;
mod versions;
pub mod wasi;

/// The invoicing contract a plugin is called with (defined in
/// `crate::invoicing`, re-exported for callers of the runtime).
pub use crate::invoicing::{
    Coverage, DraftInvoice, DraftItem, InstallmentDates, InvoiceAdjustments, InvoiceLine,
    PolicyStatus, ScheduleInstallment,
};
pub use active::ActiveVersions;
pub use bindings::{INVOICING_EXPORT, RATING_EXPORT, WIT_VERSION, WIT_VERSIONS};
pub use error::PluginError;
pub use inspect::{ComponentReport, PluginWorld};
pub use limits::{
    PLUGIN_COMPONENT_BYTES_MAX, PLUGIN_CONCURRENT_CALLS_MAX, PLUGIN_FUEL_PER_CALL_MAX,
    PLUGIN_INPUT_BYTES_MAX, PLUGIN_LOG_BYTES_MAX, PLUGIN_LOG_LINE_BYTES_MAX,
    PLUGIN_MEMORY_BYTES_MAX, PLUGIN_OUTPUT_BYTES_MAX, PLUGIN_QUARANTINED_CALLS_MAX,
    PLUGIN_QUARANTINED_WALL_TIME_MS_MAX, PLUGIN_STACK_BYTES_MAX, PLUGIN_TABLE_ELEMENTS_MAX,
    PLUGIN_WALL_TIME_MS_MAX, PluginLimits,
};
pub use policy::{InstancePolicy, InstancePolicyParseError};
pub use rater::PluginRater;
pub use runtime::{
    CORE_INSTANCES_PER_COMPONENT_MAX, CallReport, MEMORIES_PER_COMPONENT_MAX,
    MEMORY_KEEP_RESIDENT_BYTES_MAX, PluginInfo, PluginRuntime, TABLE_KEEP_RESIDENT_BYTES_MAX,
    TABLES_PER_COMPONENT_MAX, content_sha256,
};
pub use state::LogLine;
