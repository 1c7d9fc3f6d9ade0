//! The invoicing world: implement [`Invoicer`] and register it with
//! [`crate::register_invoicer!`].
//!
//! `use premia_plugin_sdk::invoicing::*;` is the only import a plugin needs.
//!
//! The invoicer targets `premia:plugin@0.2.0`: besides its items, a
//! [`DraftInvoice`] carries its `net` (the items' sum, a decimal string; read
//! it with [`DraftInvoice::net_amount`]), whether it is a `credit`, and the
//! status of each of its `policies` ([`PolicyStatus`]: the term billed and
//! its [`Coverage`] on the invoice date: in force, not started, cancelled or
//! lapsed with the effective date, expired).

/// Bindings generated from `wit/since_v0.2.0` for the `invoicer` world.
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "invoicer",
        path: "../wit/since_v0.2.0",
        pub_export_macro: true,
        export_macro_name: "export_invoicer",
        additional_derives: [PartialEq],
        default_bindings_module: "premia_plugin_sdk::invoicing::bindings",
    });
}

pub use crate::host::{LogLevel, log, lookup, lookup_decimal};
pub use crate::{Decimal, dec, fmt_decimal, parse_decimal, round_money};
pub use bindings::exports::premia::plugin::invoicing::{
    Coverage, DraftInvoice, DraftItem, Installment, InstallmentDates, InvoiceAdjustments,
    InvoiceLine, PolicyStatus,
};
pub use bindings::premia::plugin::types::{Date, Period, PluginError};

crate::common::impl_type_helpers!(bindings::premia::plugin::types);

/// An invoicing plugin: fees and adjustments on draft invoices, and
/// optionally new installment dates.
pub trait Invoicer {
    /// Lines to add to a draft invoice (fees positive, discounts negative)
    /// and optionally a new due date.
    fn adjust_invoice(invoice: DraftInvoice) -> Result<InvoiceAdjustments, PluginError>;

    /// New dates for installments of a new schedule. The default keeps
    /// every date as it is.
    fn schedule_dates(
        currency: String,
        installments: Vec<Installment>,
    ) -> Result<Vec<InstallmentDates>, PluginError> {
        let _ = (currency, installments);
        Ok(Vec::new())
    }
}

impl DraftInvoice {
    /// The invoice's net (the sum of its items) as a decimal, or invalid
    /// input if the host sent something that is not one.
    pub fn net_amount(&self) -> Result<Decimal, PluginError> {
        parse_decimal(&self.net, "net").map_err(PluginError::InvalidInput)
    }

    /// The status of `policy`, if the invoice bills it.
    pub fn policy_status(&self, policy: &str) -> Option<&PolicyStatus> {
        self.policies.iter().find(|status| status.policy == policy)
    }

    /// Whether every policy the invoice bills is in force on the invoice
    /// date (true for an invoice of no policy).
    pub fn all_policies_in_force(&self) -> bool {
        self.policies
            .iter()
            .all(|status| status.coverage.is_in_force())
    }
}

impl Coverage {
    /// Whether the policy is covered on the invoice date.
    pub fn is_in_force(&self) -> bool {
        matches!(self, Coverage::InForce)
    }

    /// The effective date of the cancellation or lapse, if the policy is
    /// cancelled or lapsed on the invoice date.
    pub fn cancelled_from(&self) -> Option<Date> {
        match self {
            Coverage::Cancelled(effective) | Coverage::Lapsed(effective) => Some(*effective),
            Coverage::InForce | Coverage::NotStarted | Coverage::Expired => None,
        }
    }
}

impl InvoiceAdjustments {
    /// Adds nothing and keeps the due date.
    pub fn none() -> Self {
        InvoiceAdjustments {
            lines: Vec::new(),
            due_date: None,
        }
    }

    /// Adds a line (a fee, or a negative adjustment).
    pub fn line(mut self, charge: &str, amount: Decimal, description: &str) -> Self {
        self.lines.push(InvoiceLine {
            charge: charge.to_string(),
            amount: fmt_decimal(amount),
            policy: None,
            description: description.to_string(),
        });
        self
    }
}

#[doc(hidden)]
pub fn __adjust_invoice<I: Invoicer>(
    invoice: DraftInvoice,
) -> Result<InvoiceAdjustments, PluginError> {
    crate::install_panic_hook();
    crate::host::__begin_call();
    I::adjust_invoice(invoice)
}

#[doc(hidden)]
pub fn __schedule_dates<I: Invoicer>(
    currency: String,
    installments: Vec<Installment>,
) -> Result<Vec<InstallmentDates>, PluginError> {
    crate::install_panic_hook();
    crate::host::__begin_call();
    I::schedule_dates(currency, installments)
}

/// Registers an [`Invoicer`] as the plugin's export. Call it once, at the
/// root of the plugin crate.
#[macro_export]
macro_rules! register_invoicer {
    ($invoicer:ty) => {
        #[doc(hidden)]
        pub struct __PremiaInvoicerExport;

        impl $crate::invoicing::bindings::exports::premia::plugin::invoicing::Guest
            for __PremiaInvoicerExport
        {
            fn adjust_invoice(
                invoice: $crate::invoicing::DraftInvoice,
            ) -> ::core::result::Result<$crate::invoicing::InvoiceAdjustments, $crate::invoicing::PluginError>
            {
                $crate::invoicing::__adjust_invoice::<$invoicer>(invoice)
            }

            fn schedule_dates(
                currency: ::std::string::String,
                installments: ::std::vec::Vec<$crate::invoicing::Installment>,
            ) -> ::core::result::Result<
                ::std::vec::Vec<$crate::invoicing::InstallmentDates>,
                $crate::invoicing::PluginError,
            > {
                $crate::invoicing::__schedule_dates::<$invoicer>(currency, installments)
            }
        }

        // Exported only in WebAssembly: a native build (tests) has no component exports.
        #[cfg(target_arch = "wasm32")]
        $crate::invoicing::bindings::export_invoicer!(__PremiaInvoicerExport with_types_in $crate::invoicing::bindings);
    };
}
