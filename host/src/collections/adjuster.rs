//! The invoicing plugin as the billing system sees it: a trait called while an
//! invoice is decided (never while events are applied), so tests use a native
//! implementation and production the plugin runtime
//! (`crate::engine::PluginInvoiceAdjuster`).

use crate::invoicing::{DraftInvoice, InstallmentDates, InvoiceAdjustments, ScheduleInstallment};
use crate::policy::InstallmentDater;

/// The most lines an invoicing plugin may add to one invoice.
pub const PLUGIN_LINES_MAX: usize = 20;

/// Calls the invoicing plugin a product names.
pub trait InvoiceAdjuster {
    /// The fees and adjustments plugin `plugin_id` makes to `draft`, or why it
    /// failed.
    fn adjust(&self, plugin_id: &str, draft: &DraftInvoice) -> Result<InvoiceAdjustments, String>;

    /// The dates plugin `plugin_id` gives some of a new schedule's
    /// `installments` (its `schedule-dates`; those left out keep theirs), or
    /// why it failed. By default every installment keeps its dates.
    fn schedule_dates(
        &self,
        plugin_id: &str,
        currency: &str,
        installments: &[ScheduleInstallment],
    ) -> Result<Vec<InstallmentDates>, String> {
        let _ = (plugin_id, currency, installments);
        Ok(Vec::new())
    }
}

/// An [`InvoiceAdjuster`] as the policy book's [`InstallmentDater`]: the
/// book lays out installments with the dates of the same invoicing plugins
/// that adjust the invoices.
#[derive(Clone, Copy)]
pub struct AdjusterDates<'a>(pub &'a dyn InvoiceAdjuster);

impl InstallmentDater for AdjusterDates<'_> {
    fn schedule_dates(
        &self,
        plugin_id: &str,
        currency: &str,
        installments: &[ScheduleInstallment],
    ) -> Result<Vec<InstallmentDates>, String> {
        self.0.schedule_dates(plugin_id, currency, installments)
    }
}

/// No invoicing plugins: a product naming one cannot be invoiced (its
/// installments keep the plan's dates).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoInvoicingPlugins;

impl InvoiceAdjuster for NoInvoicingPlugins {
    fn adjust(&self, plugin_id: &str, _draft: &DraftInvoice) -> Result<InvoiceAdjustments, String> {
        Err(format!("no invoicing plugin runtime to run {plugin_id}"))
    }
}
