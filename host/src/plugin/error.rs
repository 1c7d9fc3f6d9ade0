//! Typed errors of the plugin runtime: one variant per way a plugin can fail,
//! each with the plugin's id, so callers and API problems can tell them apart.

use crate::rating::{RaterFailure, RatingError};

/// Why a plugin could not be registered or a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    #[error("plugin {plugin} ran out of fuel ({fuel_per_call_max} instructions)")]
    OutOfFuel {
        plugin: String,
        fuel_per_call_max: u64,
    },
    #[error("plugin {plugin} ran past its deadline of {wall_time_ms_max} ms")]
    Deadline {
        plugin: String,
        wall_time_ms_max: u64,
    },
    #[error("plugin {plugin} tried to use more than {memory_bytes_max} bytes of memory")]
    MemoryLimit {
        plugin: String,
        memory_bytes_max: usize,
    },
    #[error("plugin {plugin} overflowed its stack")]
    StackOverflow { plugin: String },
    #[error("plugin {plugin} trapped: {message}")]
    Trap { plugin: String, message: String },
    #[error("plugin {plugin} got {input_bytes} bytes of input; the limit is {input_bytes_max}")]
    InputTooLarge {
        plugin: String,
        input_bytes: usize,
        input_bytes_max: usize,
    },
    #[error("plugin {plugin} returned {output_bytes} bytes; the limit is {output_bytes_max}")]
    OutputTooLarge {
        plugin: String,
        output_bytes: usize,
        output_bytes_max: usize,
    },
    #[error("plugin {plugin} returned invalid output: {message}")]
    InvalidOutput { plugin: String, message: String },
    #[error("plugin {plugin} declined: {message}")]
    Declined { plugin: String, message: String },
    #[error("plugin {plugin} rejected its input: {message}")]
    InvalidInput { plugin: String, message: String },
    #[error("incompatible plugin: {0}")]
    Incompatible(String),
    #[error("component is {bytes} bytes; the limit is {component_bytes_max}")]
    TooLarge {
        bytes: usize,
        component_bytes_max: usize,
    },
    #[error("no plugin {0} is registered")]
    UnknownPlugin(String),
    #[error("plugin {plugin} is a {actual} plugin, not a {expected} plugin")]
    WrongWorld {
        plugin: String,
        expected: &'static str,
        actual: &'static str,
    },
    #[error("plugin {plugin} could not start: {message}")]
    Unavailable { plugin: String, message: String },
    #[error(
        "plugin {plugin} is quarantined after hitting a resource limit and {calls_max} \
         quarantined calls are already running; retry later"
    )]
    Quarantined { plugin: String, calls_max: u32 },
    #[error(
        "plugin {plugin} is quarantined and waited more than {quarantined_wall_time_ms_max} ms \
         for idle CPU; retry later"
    )]
    QuarantineStarved {
        plugin: String,
        quarantined_wall_time_ms_max: u64,
    },
}

impl PluginError {
    /// The stable code used in API problems and logs.
    pub fn code(&self) -> &'static str {
        match self {
            PluginError::OutOfFuel { .. } => "plugin_out_of_fuel",
            PluginError::Deadline { .. } => "plugin_deadline",
            PluginError::MemoryLimit { .. } => "plugin_memory_limit",
            PluginError::StackOverflow { .. } => "plugin_stack_overflow",
            PluginError::Trap { .. } => "plugin_trap",
            PluginError::InputTooLarge { .. } => "plugin_input_too_large",
            PluginError::OutputTooLarge { .. } => "plugin_output_too_large",
            PluginError::InvalidOutput { .. } => "plugin_invalid_output",
            PluginError::Declined { .. } => "plugin_declined",
            PluginError::InvalidInput { .. } => "plugin_invalid_input",
            PluginError::Incompatible(_) => "plugin_incompatible",
            PluginError::TooLarge { .. } => "plugin_too_large",
            PluginError::UnknownPlugin(_) => "plugin_unknown",
            PluginError::WrongWorld { .. } => "plugin_wrong_world",
            PluginError::Unavailable { .. } => "plugin_unavailable",
            PluginError::Quarantined { .. } | PluginError::QuarantineStarved { .. } => {
                "plugin_quarantined"
            }
        }
    }
}

impl From<PluginError> for RatingError {
    fn from(error: PluginError) -> Self {
        let message = error.to_string();
        let failed = |plugin: &str, failure| RatingError::failed(plugin, failure, message.clone());
        match &error {
            PluginError::Declined { message, .. } => RatingError::Declined(message.clone()),
            PluginError::InvalidInput { message, .. } => RatingError::InvalidInput(message.clone()),
            PluginError::OutOfFuel { plugin, .. } => failed(plugin, RaterFailure::OutOfFuel),
            PluginError::Deadline { plugin, .. } => failed(plugin, RaterFailure::Deadline),
            PluginError::MemoryLimit { plugin, .. } => failed(plugin, RaterFailure::MemoryLimit),
            PluginError::StackOverflow { plugin } => failed(plugin, RaterFailure::StackOverflow),
            PluginError::Trap { plugin, .. } => failed(plugin, RaterFailure::Trap),
            PluginError::InputTooLarge { plugin, .. } => {
                failed(plugin, RaterFailure::InputTooLarge)
            }
            PluginError::OutputTooLarge { plugin, .. } => {
                failed(plugin, RaterFailure::OutputTooLarge)
            }
            PluginError::InvalidOutput { plugin, .. } => {
                failed(plugin, RaterFailure::InvalidOutput)
            }
            PluginError::WrongWorld { plugin, .. } | PluginError::Unavailable { plugin, .. } => {
                failed(plugin, RaterFailure::Unavailable)
            }
            PluginError::UnknownPlugin(plugin) => failed(plugin, RaterFailure::Unavailable),
            PluginError::Quarantined { plugin, .. }
            | PluginError::QuarantineStarved { plugin, .. } => {
                failed(plugin, RaterFailure::Quarantined)
            }
            PluginError::Incompatible(_) | PluginError::TooLarge { .. } => {
                failed("plugin", RaterFailure::Unavailable)
            }
        }
    }
}
