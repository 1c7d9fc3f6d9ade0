//! Billing behaviour end to end through the engine state.

mod disbursements;
mod holds;
mod payments;
mod plan_change;
mod plugin;
mod seeds;
mod support;
mod write_offs;
mod year;
