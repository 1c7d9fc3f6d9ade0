//! The API's handlers, one file per resource family.

pub mod accounting;
pub mod activation;
pub mod agency;
pub mod billing;
pub mod bundle;
pub mod clock;
pub mod command;
pub mod config;
pub mod config_reads;
pub mod exports;
pub mod keys;
pub mod ledger;
pub mod payments;
pub mod pending;
pub mod policies;
pub mod producers;
pub mod raters;
pub mod read_model;
pub mod shadow;
pub mod webhooks;
