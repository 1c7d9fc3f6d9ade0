//! The invoicing plugin as the billing system sees it: a trait called while an
//! invoice is decided (never while events are applied), so tests use a native
//! implementation and production the plugin runtime
//! (`crate::engine::PluginInvoiceAdjuster`).

use crate::plugin::{DraftInvoice, InvoiceAdjustments};

/// The most lines an invoicing plugin may add to one invoice.
pub const PLUGIN_LINES_MAX: usize = 20;

/// Calls the invoicing plugin a product names.
pub trait InvoiceAdjuster {
    /// The fees and adjustments plugin `plugin_id` makes to `draft`, or why it
    /// failed.
    fn adjust(&self, plugin_id: &str, draft: &DraftInvoice) -> Result<InvoiceAdjustments, String>;
}

/// No invoicing plugins: a product naming one cannot be invoiced.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoInvoicingPlugins;

impl InvoiceAdjuster for NoInvoicingPlugins {
    fn adjust(&self, plugin_id: &str, _draft: &DraftInvoice) -> Result<InvoiceAdjustments, String> {
        Err(format!("no invoicing plugin runtime to run {plugin_id}"))
    }
}
