//! Every limit of the plugin sandbox, defined in one place with its default.

use serde::{Deserialize, Serialize};

/// Default instructions (fuel units) of one plugin call.
pub const PLUGIN_FUEL_PER_CALL_MAX: u64 = 50_000_000;
/// Default linear memory of one plugin instance, in bytes.
pub const PLUGIN_MEMORY_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Default wall time of one plugin call, in milliseconds.
pub const PLUGIN_WALL_TIME_MS_MAX: u64 = 100;
/// Default size of a request handed to a plugin, in bytes.
pub const PLUGIN_INPUT_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Default size of a response accepted from a plugin, in bytes.
pub const PLUGIN_OUTPUT_BYTES_MAX: usize = 1024 * 1024;
/// Default log bytes one plugin call may write.
pub const PLUGIN_LOG_BYTES_MAX: usize = 64 * 1024;
/// Default longest plugin log line kept, in bytes.
pub const PLUGIN_LOG_LINE_BYTES_MAX: usize = 1024;
/// Default size of an uploaded plugin component, in bytes.
pub const PLUGIN_COMPONENT_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Default WebAssembly stack of one plugin call, in bytes.
pub const PLUGIN_STACK_BYTES_MAX: usize = 512 * 1024;
/// Default plugin calls running at the same time (pool slots).
pub const PLUGIN_CONCURRENT_CALLS_MAX: u32 = 64;
/// Default table elements of one plugin instance.
pub const PLUGIN_TABLE_ELEMENTS_MAX: usize = 20_000;
/// Default quarantined plugin calls running at once, across all plugins.
pub const PLUGIN_QUARANTINED_CALLS_MAX: u32 = 2;
/// Default wall time of one quarantined plugin call, in milliseconds.
pub const PLUGIN_QUARANTINED_WALL_TIME_MS_MAX: u64 = 10_000;

/// The limits one plugin call runs under, and the limits on plugin uploads.
///
/// The defaults suit rating a large policy (hundreds of items) with room to
/// spare while stopping a runaway plugin within milliseconds.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginLimits {
    /// Instructions (fuel units) one call may execute. 50M is about 20 ms of
    /// busy work; the auto rater uses ~30k for 3 items.
    pub fuel_per_call_max: u64,
    /// Linear memory one instance may grow to, in bytes.
    pub memory_bytes_max: usize,
    /// Wall time of one call, enforced by epoch interruption.
    pub wall_time_ms_max: u64,
    /// How often the epoch ticker advances, in milliseconds: the resolution
    /// of `wall_time_ms_max`.
    pub epoch_tick_ms: u64,
    /// Size of a request handed to a plugin, in bytes (approximate: text
    /// plus a fixed cost per value).
    pub input_bytes_max: usize,
    /// Size of a response accepted from a plugin, in bytes of text.
    pub output_bytes_max: usize,
    /// Log bytes one call may write; later lines are dropped.
    pub log_bytes_max: usize,
    /// Longest log line kept; longer lines are truncated.
    pub log_line_bytes_max: usize,
    /// Size of an uploaded component, in bytes.
    pub component_bytes_max: usize,
    /// WebAssembly stack of one call, in bytes.
    pub stack_bytes_max: usize,
    /// Plugin calls that may run at the same time (instances in the pool).
    pub concurrent_calls_max: u32,
    /// Table elements one instance may have.
    pub table_elements_max: usize,
    /// How long a plugin stays quarantined (its calls at idle CPU priority)
    /// after a call that hit a resource limit; 0 turns quarantine off. See
    /// the `quarantine` module.
    pub quarantine_ms: u64,
    /// Quarantined calls that may run at once, across all plugins; more are
    /// refused with `plugin_quarantined`.
    pub quarantined_calls_max: u32,
    /// Wall time of one quarantined call. Its `wall_time_ms_max` counts the
    /// CPU time it used, since it waits for idle CPU; this bounds the wait.
    pub quarantined_wall_time_ms_max: u64,
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            fuel_per_call_max: PLUGIN_FUEL_PER_CALL_MAX,
            memory_bytes_max: PLUGIN_MEMORY_BYTES_MAX,
            wall_time_ms_max: PLUGIN_WALL_TIME_MS_MAX,
            epoch_tick_ms: 1,
            input_bytes_max: PLUGIN_INPUT_BYTES_MAX,
            output_bytes_max: PLUGIN_OUTPUT_BYTES_MAX,
            log_bytes_max: PLUGIN_LOG_BYTES_MAX,
            log_line_bytes_max: PLUGIN_LOG_LINE_BYTES_MAX,
            component_bytes_max: PLUGIN_COMPONENT_BYTES_MAX,
            stack_bytes_max: PLUGIN_STACK_BYTES_MAX,
            concurrent_calls_max: PLUGIN_CONCURRENT_CALLS_MAX,
            table_elements_max: PLUGIN_TABLE_ELEMENTS_MAX,
            quarantine_ms: 60_000,
            quarantined_calls_max: PLUGIN_QUARANTINED_CALLS_MAX,
            quarantined_wall_time_ms_max: PLUGIN_QUARANTINED_WALL_TIME_MS_MAX,
        }
    }
}

impl PluginLimits {
    /// The epoch deadline of a call, in ticks (at least one).
    pub fn deadline_ticks(&self) -> u64 {
        (self.wall_time_ms_max / self.epoch_tick_ms.max(1)).max(1)
    }
}
