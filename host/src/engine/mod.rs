//! The command engine: a tenant's policy book and ledger, driven by commands
//! into events, and (in `service`) kept in the durable event log.

mod state;

pub use state::{EngineError, TenantEvent, TenantState};

#[cfg(test)]
mod tests;
