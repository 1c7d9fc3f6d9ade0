//! The command engine: a tenant's policy book and ledger, driven by commands
//! into events, and (in `service`) kept in the durable event log.

mod command;
mod service;
mod state;

pub use command::EngineCommand;
pub use service::{
    BalanceChange, CommandOutcome, Engine, PreviewOutcome, RequestMeta, balances, request_hash,
};
pub use state::{EngineError, TenantEvent, TenantState};

#[cfg(test)]
mod tests;

#[cfg(test)]
mod service_tests;
