//! Previews with account summaries: one command or a bundle of them (policy
//! commands, billing commands, billing runs) run in order on a copy of the
//! tenant's state by the code a commit runs, nothing kept. The answer is the
//! events, the ledger balances they move, and a summary of every billing
//! account they touch (see [`crate::engine::AccountSummary`]), whose next
//! invoice comes from running the account's billing forward on the same
//! copy.
//!
//! A step the commit would refuse refuses the whole preview with the same
//! error: a preview never shows an effect for what would not be kept.

use super::{Engine, PreviewOutcome, RequestMeta, command_context, refuse_future_run};
use crate::engine::account_summary::{AccountSummary, touched_accounts};
use crate::engine::command::EngineCommand;
use crate::engine::state::{EngineError, TenantEvent, TenantState};
use crate::policy::CommandContext;
use chrono::{NaiveDate, Utc};

/// One step of a previewed bundle. (A bundle holds at most a hundred, so
/// the size of a command inline does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewStep {
    /// A command, as its endpoint would commit it.
    Command(EngineCommand),
    /// A billing run of every account up to a date (by default the tenant's
    /// today, never past it), as `POST /v1/billing/runs` would make it.
    BillingRun { up_to: Option<NaiveDate> },
}

impl From<EngineCommand> for PreviewStep {
    fn from(command: EngineCommand) -> Self {
        PreviewStep::Command(command)
    }
}

/// A preview's effect and the summary of each billing account it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummarizedPreview {
    pub outcome: PreviewOutcome,
    /// By account locator.
    pub summaries: Vec<AccountSummary>,
}

impl Engine {
    /// Runs `steps` in order on a copy of the tenant's state and summarizes
    /// every billing account they touch; nothing is kept.
    pub fn preview_with_summaries(
        &self,
        tenant: &str,
        steps: &[PreviewStep],
        meta: &RequestMeta,
    ) -> Result<SummarizedPreview, EngineError> {
        let slot = self.slot(tenant)?;
        let mut copy = self.read_lock(tenant, &slot)?.state.clone();
        let context = command_context(meta, &copy);
        let ledger_before = copy.ledger.clone();
        let collections_before = copy.collections.clone();
        let events = self.run_steps(&mut copy, steps, &context)?;
        let balances = super::balance_changes(&ledger_before, &copy.ledger, &events);
        let mut summaries: Vec<AccountSummary> = touched_accounts(&copy, &events)
            .iter()
            .filter_map(|account| {
                AccountSummary::new(account, &collections_before, &ledger_before, &copy)
            })
            .collect();
        // Every figure is read before any account's billing is run forward.
        for summary in &mut summaries {
            match copy.run_to_next_invoice(
                &summary.account,
                &context,
                self.raters.as_ref(),
                self.adjuster.as_ref(),
            ) {
                Ok(next) => summary.next_invoice = next,
                Err(error) => summary.next_invoice_unavailable = Some(error.to_string()),
            }
        }
        Ok(SummarizedPreview {
            outcome: PreviewOutcome { events, balances },
            summaries,
        })
    }

    /// Runs `steps` in order on `copy`, as their commits would; returns the
    /// events, in order. The first refused step refuses them all.
    pub(super) fn run_steps(
        &self,
        copy: &mut TenantState,
        steps: &[PreviewStep],
        context: &CommandContext,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let mut events = Vec::new();
        for step in steps {
            match step {
                PreviewStep::Command(command) => {
                    refuse_future_run(copy, command)?;
                    events.extend(copy.execute_with(
                        command,
                        context,
                        self.raters.as_ref(),
                        self.adjuster.as_ref(),
                    )?);
                }
                PreviewStep::BillingRun { up_to } => {
                    let up_to = copy.run_date(*up_to, Utc::now())?;
                    copy.billing_run_recording(
                        up_to,
                        context,
                        self.raters.as_ref(),
                        self.adjuster.as_ref(),
                        &mut events,
                    );
                }
            }
        }
        Ok(events)
    }
}
