//! Billing behaviour end to end through the engine state.

mod payments;
mod support;
mod year;
