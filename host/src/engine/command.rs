//! The commands the engine accepts: policy commands (products, accounts,
//! transactions, flat charges) and billing commands (settings, billing runs,
//! payments, credit, write-offs, disbursements, holds, plan changes), the
//! test clock, API keys, webhooks and payments.

use super::accounting::AccountingCommand;
use super::clock::ClockCommand;
use super::shadow_report::ShadowRecord;
use crate::collections::BillingCommand;
use crate::config::ConfigCommand;
use crate::keys::KeyCommand;
use crate::payments::PaymentCommand;
use crate::policy::PolicyCommand;
use crate::webhooks::WebhookCommand;
use serde::{Deserialize, Serialize};

/// A command to a tenant.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineCommand {
    /// Products, accounts, policy transactions and flat charges.
    Policy(PolicyCommand),
    /// Invoicing, payments and collections.
    Billing(BillingCommand),
    /// A test tenant's clock.
    Clock(ClockCommand),
    /// The tenant's API keys.
    Keys(KeyCommand),
    /// Plugins, rate tables, active versions and external raters.
    Config(ConfigCommand),
    /// A challenger's answers beside the champion's (shadow rating), sent by
    /// the engine's shadow worker, never by the API.
    Shadow(ShadowRecord),
    /// The tenant's webhook endpoints.
    Webhooks(WebhookCommand),
    /// Earnings runs, closing months, the GL mapping.
    Accounting(AccountingCommand),
    /// Payment methods, autopay, the processor adapter and collection
    /// attempts' outcomes.
    Payments(PaymentCommand),
}

impl From<AccountingCommand> for EngineCommand {
    fn from(command: AccountingCommand) -> Self {
        EngineCommand::Accounting(command)
    }
}

impl From<PaymentCommand> for EngineCommand {
    fn from(command: PaymentCommand) -> Self {
        EngineCommand::Payments(command)
    }
}

impl From<WebhookCommand> for EngineCommand {
    fn from(command: WebhookCommand) -> Self {
        EngineCommand::Webhooks(command)
    }
}

impl From<PolicyCommand> for EngineCommand {
    fn from(command: PolicyCommand) -> Self {
        EngineCommand::Policy(command)
    }
}

impl From<BillingCommand> for EngineCommand {
    fn from(command: BillingCommand) -> Self {
        EngineCommand::Billing(command)
    }
}

impl From<ClockCommand> for EngineCommand {
    fn from(command: ClockCommand) -> Self {
        EngineCommand::Clock(command)
    }
}

impl From<KeyCommand> for EngineCommand {
    fn from(command: KeyCommand) -> Self {
        EngineCommand::Keys(command)
    }
}

impl From<ConfigCommand> for EngineCommand {
    fn from(command: ConfigCommand) -> Self {
        EngineCommand::Config(command)
    }
}
