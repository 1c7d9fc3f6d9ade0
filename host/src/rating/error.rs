//! Rating errors: the rater's own business answers (declined, invalid input)
//! kept apart from failures of the rater itself.

use crate::domain::ErrorKind;

/// Why a rater failed to answer, as a stable machine-readable kind.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RaterFailure {
    /// A plugin used up its instruction budget.
    OutOfFuel,
    /// A plugin or external rater ran past its wall-time limit.
    Deadline,
    /// A plugin tried to grow its memory past the limit.
    MemoryLimit,
    /// A plugin trapped (a panic, an unreachable, a bad memory access).
    Trap,
    /// A plugin overflowed its stack.
    StackOverflow,
    /// The request was larger than the rater accepts.
    InputTooLarge,
    /// The response was larger than the host accepts.
    OutputTooLarge,
    /// The response could not be used: bad decimals, unknown or missing items.
    InvalidOutput,
    /// The rater could not be reached or is not loaded (external rater down,
    /// plugin missing, pool exhausted). A fallback rater may be tried.
    Unavailable,
    /// A plugin in quarantine (it recently hit a resource limit) could not
    /// run because the quarantined calls allowed at once were running. Safe
    /// to retry later; a fallback rater may be tried.
    Quarantined,
}

impl RaterFailure {
    /// The stable code used in API problems and logs.
    pub fn code(self) -> &'static str {
        match self {
            RaterFailure::OutOfFuel => "plugin_out_of_fuel",
            RaterFailure::Deadline => "rater_deadline",
            RaterFailure::MemoryLimit => "plugin_memory_limit",
            RaterFailure::Trap => "plugin_trap",
            RaterFailure::StackOverflow => "plugin_stack_overflow",
            RaterFailure::InputTooLarge => "rater_input_too_large",
            RaterFailure::OutputTooLarge => "rater_output_too_large",
            RaterFailure::InvalidOutput => "rater_invalid_output",
            RaterFailure::Unavailable => "rater_unavailable",
            RaterFailure::Quarantined => "plugin_quarantined",
        }
    }

    /// How a failure is answered: the rater's failure (a bad gateway), a
    /// deadline (a gateway timeout), or, for a quarantined plugin, a
    /// service unavailable for now.
    pub fn kind(self) -> ErrorKind {
        match self {
            RaterFailure::Deadline => ErrorKind::UpstreamTimeout,
            RaterFailure::Quarantined => ErrorKind::Unavailable,
            RaterFailure::OutOfFuel
            | RaterFailure::MemoryLimit
            | RaterFailure::Trap
            | RaterFailure::StackOverflow
            | RaterFailure::InputTooLarge
            | RaterFailure::OutputTooLarge
            | RaterFailure::InvalidOutput
            | RaterFailure::Unavailable => ErrorKind::Upstream,
        }
    }
}

/// The error of a rating call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    /// The rater refused on business grounds; the message is for the user.
    #[error("declined: {0}")]
    Declined(String),
    /// The rater could not use its input; the message names the field.
    #[error("invalid rating input: {0}")]
    InvalidInput(String),
    /// The rater itself failed.
    #[error("rater {rater} failed ({}): {message}", failure.code())]
    Failed {
        rater: String,
        failure: RaterFailure,
        message: String,
    },
}

impl RatingError {
    /// A failure of `rater` of kind `failure`.
    pub fn failed(
        rater: impl Into<String>,
        failure: RaterFailure,
        message: impl Into<String>,
    ) -> Self {
        RatingError::Failed {
            rater: rater.into(),
            failure,
            message: message.into(),
        }
    }

    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            RatingError::Declined(_) => "rating_declined",
            RatingError::InvalidInput(_) => "rating_invalid_input",
            RatingError::Failed { failure, .. } => failure.code(),
        }
    }

    /// How the error is answered: a decline conflicts with the request (the
    /// rater will not price it), input the rater cannot use is invalid, and
    /// a failure is the rater's.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RatingError::Declined(_) => ErrorKind::Conflict,
            RatingError::InvalidInput(_) => ErrorKind::Invalid,
            RatingError::Failed { failure, .. } => failure.kind(),
        }
    }

    /// The failure kind, when the rater failed (not for business answers).
    pub fn failure(&self) -> Option<RaterFailure> {
        match self {
            RatingError::Failed { failure, .. } => Some(*failure),
            _ => None,
        }
    }
}
