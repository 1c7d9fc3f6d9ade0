//! The payment schedule of a quote through the engine service: the scratch
//! tenant is copied from the tenant's state under a read lock (only the
//! product, the account and its billing settings), and billed outside it, so
//! a quote never holds up commits while its invoices are generated.

use super::{Engine, RequestMeta, command_context};
use crate::engine::schedule::ScheduledInvoice;
use crate::engine::state::{EngineError, TenantEvent};

impl Engine {
    /// The invoices of the policy that `issue` (the events of a quoted new
    /// business, as [`Engine::preview`] decided them) would open, through
    /// its first term, with the product's invoicing plugin.
    pub fn quote_schedule(
        &self,
        tenant: &str,
        issue: &[TenantEvent],
        meta: &RequestMeta,
    ) -> Result<Vec<ScheduledInvoice>, EngineError> {
        let slot = self.slot(tenant)?;
        let (scratch, context) = {
            let guard = self.read_lock(tenant, &slot)?;
            (
                guard.state.schedule_scratch(issue)?,
                command_context(meta, &guard.state),
            )
        };
        scratch.bill_first_term(
            issue,
            &context,
            self.raters.as_ref(),
            self.adjuster.as_ref(),
        )
    }
}
