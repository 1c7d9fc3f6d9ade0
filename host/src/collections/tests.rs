//! Billing behaviour end to end through the engine state.

mod disbursements;
mod holds;
mod lifecycle;
mod payments;
mod plan_change;
pub(super) mod plugin;
mod plugin_dates;
mod property;
mod rater_outage;
mod reinstatement;
mod schedule;
mod seeds;
pub(crate) mod support;
mod write_offs;
mod year;
