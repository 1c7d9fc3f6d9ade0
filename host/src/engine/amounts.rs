//! The one check of money that comes in: every amount a command carries (a
//! payment, a payment reversal's fee, credit put on an invoice, a write-off,
//! a disbursement, a flat charge) is checked against its account's currency
//! before the command is decided, by [`Money::received`]: more decimal
//! places than the currency's minor unit is refused with 422
//! `invalid_amount`, never rounded, and nothing changes. Commits, previews,
//! bundles and quotes all decide through [`super::TenantState::decide_with`],
//! which runs this first.

use super::command::EngineCommand;
use super::state::{EngineError, TenantState};
use crate::collections::BillingCommand;
use crate::domain::{Currency, Money};
use crate::policy::PolicyCommand;
use rust_decimal::Decimal;

impl TenantState {
    /// Refuses `command` if an amount in it has more decimal places than its
    /// account's currency. An unknown account is left to the command's own
    /// check (`account_not_found`).
    pub(super) fn check_received_amounts(
        &self,
        command: &EngineCommand,
    ) -> Result<(), EngineError> {
        let Some((account, amounts)) = received_amounts(command) else {
            return Ok(());
        };
        let Some(currency) = self.currency_of(account) else {
            return Ok(());
        };
        for (what, amount) in amounts {
            Money::received(amount, currency)
                .map_err(|source| EngineError::InvalidAmount { what, source })?;
        }
        Ok(())
    }

    fn currency_of(&self, account: &str) -> Option<Currency> {
        self.book
            .accounts
            .get(account)
            .map(|a| a.currency)
            .or_else(|| self.collections.accounts.get(account).map(|a| a.currency))
    }
}

/// The account a command's amounts are in, and the amounts, each named.
fn received_amounts(command: &EngineCommand) -> Option<(&str, Vec<(&'static str, Decimal)>)> {
    match command {
        EngineCommand::Billing(command) => match command {
            BillingCommand::RecordPayment {
                account, amount, ..
            } => Some((account, vec![("payment", *amount)])),
            BillingCommand::ReversePayment {
                account,
                fee: Some(fee),
                ..
            } => Some((account, vec![("reversal fee", *fee)])),
            BillingCommand::DistributeCredit {
                account, targets, ..
            } => Some((
                account,
                targets
                    .iter()
                    .filter_map(|t| t.amount.map(|a| ("credit", a)))
                    .collect(),
            )),
            BillingCommand::WriteOff {
                account,
                amount: Some(amount),
                ..
            } => Some((account, vec![("write-off", *amount)])),
            BillingCommand::DraftDisbursement {
                account, amount, ..
            } => Some((account, vec![("disbursement", *amount)])),
            _ => None,
        },
        EngineCommand::Policy(PolicyCommand::AddFlatCharge {
            account, amount, ..
        }) => Some((account, vec![("flat charge", *amount)])),
        _ => None,
    }
}
