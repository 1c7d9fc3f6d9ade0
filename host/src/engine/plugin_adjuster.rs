//! The invoicing plugin through the plugin runtime: each call runs the
//! product's invoicing component in a fresh sandbox. A product that names
//! the plugin without a version uses the version active for that name. The
//! same plugin dates a new schedule's installments (`schedule-dates`).

use crate::collections::InvoiceAdjuster;
use crate::invoicing::{DraftInvoice, InstallmentDates, InvoiceAdjustments, ScheduleInstallment};
use crate::plugin::{ActiveVersions, PluginRuntime};
use std::sync::Arc;

/// Calls invoicing plugins registered in a [`PluginRuntime`].
#[derive(Clone)]
pub struct PluginInvoiceAdjuster {
    runtime: Arc<PluginRuntime>,
    active: Arc<ActiveVersions>,
}

impl PluginInvoiceAdjuster {
    pub fn new(runtime: Arc<PluginRuntime>) -> Self {
        PluginInvoiceAdjuster {
            runtime,
            active: Arc::default(),
        }
    }

    /// Resolves bare plugin names through `active`.
    pub fn with_active_versions(mut self, active: Arc<ActiveVersions>) -> Self {
        self.active = active;
        self
    }
}

impl std::fmt::Debug for PluginInvoiceAdjuster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PluginInvoiceAdjuster")
    }
}

impl InvoiceAdjuster for PluginInvoiceAdjuster {
    fn adjust(&self, plugin_id: &str, draft: &DraftInvoice) -> Result<InvoiceAdjustments, String> {
        self.runtime
            .adjust_invoice(&self.active.resolve(plugin_id), draft)
            .map(|(adjustments, _report)| adjustments)
            .map_err(|error| error.to_string())
    }

    fn schedule_dates(
        &self,
        plugin_id: &str,
        currency: &str,
        installments: &[ScheduleInstallment],
    ) -> Result<Vec<InstallmentDates>, String> {
        self.runtime
            .schedule_dates(&self.active.resolve(plugin_id), currency, installments)
            .map(|(dates, _report)| dates)
            .map_err(|error| error.to_string())
    }
}
