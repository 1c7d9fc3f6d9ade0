//! The commands the engine accepts: policy commands (products, accounts,
//! transactions, flat charges) and, as they are added, billing commands.

use crate::policy::PolicyCommand;
use serde::{Deserialize, Serialize};

/// A command to a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineCommand {
    /// Products, accounts, policy transactions and flat charges.
    Policy(PolicyCommand),
}

impl From<PolicyCommand> for EngineCommand {
    fn from(command: PolicyCommand) -> Self {
        EngineCommand::Policy(command)
    }
}
