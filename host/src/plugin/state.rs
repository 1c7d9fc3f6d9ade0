//! The state of one plugin call: its store data. Created fresh for every call
//! and dropped with it (or, for a pooled instance, cleared by `begin_call`
//! and dropped with the instance), so no host state leaks between calls.

use super::bindings::wit_host;
use super::limits::PluginLimits;
use super::wasi::deterministic_wasi_ctx;
use premia_plugin_sdk::tables::RateTables;
use serde::Serialize;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// A log line a plugin wrote during a call.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    pub level: &'static str,
    pub message: String,
}

/// The error a memory grow past the limit traps with.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {memory_bytes_max} bytes exceeded (asked for {desired_bytes})")]
pub struct MemoryLimitExceeded {
    pub memory_bytes_max: usize,
    pub desired_bytes: usize,
}

/// Enforces memory and table limits and records the memory peak.
#[derive(Debug)]
pub struct CallLimiter {
    memory_bytes_max: usize,
    table_elements_max: usize,
    pub memory_peak_bytes: usize,
    /// Set when a grow was refused, so the trap is reported as a memory limit.
    pub memory_limit_hit: bool,
}

impl wasmtime::ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes_max {
            self.memory_limit_hit = true;
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                memory_bytes_max: self.memory_bytes_max,
                desired_bytes: desired,
            }));
        }
        self.memory_peak_bytes = self.memory_peak_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.table_elements_max)
    }
}

/// Store data of one call.
pub struct CallState {
    pub plugin_id: Arc<str>,
    pub limiter: CallLimiter,
    pub tables: Arc<RateTables>,
    pub logs: Vec<LogLine>,
    log_bytes_used: usize,
    log_bytes_max: usize,
    log_line_bytes_max: usize,
    /// Lines dropped because the log budget was spent.
    pub logs_dropped: usize,
    /// A quarantined call waited for idle CPU past its wall-time cap (as
    /// opposed to using up its CPU time).
    pub quarantine_wall_cap_hit: bool,
    /// Built on the first WASI call only: most plugins never make one, and
    /// building a context costs more than the rest of the call.
    wasi: Option<WasiCtx>,
    resources: ResourceTable,
}

impl CallState {
    pub fn new(plugin_id: Arc<str>, tables: Arc<RateTables>, limits: &PluginLimits) -> Self {
        CallState {
            plugin_id,
            limiter: CallLimiter {
                memory_bytes_max: limits.memory_bytes_max,
                table_elements_max: limits.table_elements_max,
                memory_peak_bytes: 0,
                memory_limit_hit: false,
            },
            tables,
            logs: Vec::new(),
            log_bytes_used: 0,
            log_bytes_max: limits.log_bytes_max,
            log_line_bytes_max: limits.log_line_bytes_max,
            logs_dropped: 0,
            quarantine_wall_cap_hit: false,
            wasi: None,
            resources: ResourceTable::new(),
        }
    }

    /// Clears what one call leaves in the state (logs, log budget, the
    /// memory-limit flag) before a pooled instance serves another call. The
    /// memory peak is the instance's: linear memory never shrinks.
    pub fn begin_call(&mut self) {
        self.logs.clear();
        self.log_bytes_used = 0;
        self.logs_dropped = 0;
        self.limiter.memory_limit_hit = false;
    }

    /// The message of the panic the plugin reported before trapping, if any.
    pub fn panic_message(&self) -> Option<&str> {
        self.logs
            .iter()
            .rev()
            .find_map(|line| line.message.strip_prefix("panic: "))
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: self.wasi.get_or_insert_with(deterministic_wasi_ctx),
            table: &mut self.resources,
        }
    }
}

fn level_name(level: wit_host::LogLevel) -> &'static str {
    match level {
        wit_host::LogLevel::Trace => "trace",
        wit_host::LogLevel::Debug => "debug",
        wit_host::LogLevel::Info => "info",
        wit_host::LogLevel::Warn => "warn",
        wit_host::LogLevel::Error => "error",
    }
}

/// Cuts `text` to at most `bytes_max` bytes on a character boundary.
fn truncate_to(text: &mut String, bytes_max: usize) {
    if text.len() > bytes_max {
        let mut end = bytes_max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

impl wit_host::Host for CallState {
    fn log(&mut self, level: wit_host::LogLevel, mut message: String) {
        truncate_to(&mut message, self.log_line_bytes_max);
        if self.log_bytes_used + message.len() > self.log_bytes_max {
            self.logs_dropped += 1;
            return;
        }
        self.log_bytes_used += message.len();
        tracing::debug!(plugin = %self.plugin_id, level = level_name(level), "{message}");
        self.logs.push(LogLine {
            level: level_name(level),
            message,
        });
    }

    fn lookup(
        &mut self,
        table: String,
        keys: Vec<String>,
        column: String,
    ) -> Result<String, wit_host::LookupError> {
        use premia_plugin_sdk::host::LookupError;
        self.tables
            .lookup(&table, &keys, &column)
            .map(str::to_string)
            .map_err(|error| match error {
                LookupError::NoSuchTable => wit_host::LookupError::NoSuchTable,
                LookupError::NoSuchRow => wit_host::LookupError::NoSuchRow,
                LookupError::NoSuchColumn => wit_host::LookupError::NoSuchColumn,
            })
    }
}

impl super::bindings::wit_types::Host for CallState {}

/// 0.2's `host` interface is 0.1's under a new version: the same calls.
impl super::bindings::wit_host_v0_2::Host for CallState {
    fn log(&mut self, level: super::bindings::wit_host_v0_2::LogLevel, message: String) {
        use super::bindings::wit_host_v0_2::LogLevel as L2;
        let level = match level {
            L2::Trace => wit_host::LogLevel::Trace,
            L2::Debug => wit_host::LogLevel::Debug,
            L2::Info => wit_host::LogLevel::Info,
            L2::Warn => wit_host::LogLevel::Warn,
            L2::Error => wit_host::LogLevel::Error,
        };
        wit_host::Host::log(self, level, message)
    }

    fn lookup(
        &mut self,
        table: String,
        keys: Vec<String>,
        column: String,
    ) -> Result<String, super::bindings::wit_host_v0_2::LookupError> {
        use super::bindings::wit_host_v0_2::LookupError as E2;
        wit_host::Host::lookup(self, table, keys, column).map_err(|error| match error {
            wit_host::LookupError::NoSuchTable => E2::NoSuchTable,
            wit_host::LookupError::NoSuchRow => E2::NoSuchRow,
            wit_host::LookupError::NoSuchColumn => E2::NoSuchColumn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wit_host::Host;

    #[test]
    fn logging_stops_at_the_budget_and_truncates_long_lines() {
        let limits = PluginLimits {
            log_bytes_max: 10,
            log_line_bytes_max: 4,
            ..PluginLimits::default()
        };
        let mut state = CallState::new("p".into(), Arc::new(RateTables::new()), &limits);
        for _ in 0..5 {
            state.log(wit_host::LogLevel::Info, "abcdef".to_string());
        }
        assert_eq!(state.logs.len(), 2);
        assert_eq!(state.logs[0].message, "abcd");
        assert_eq!(state.logs_dropped, 3);
    }
}
