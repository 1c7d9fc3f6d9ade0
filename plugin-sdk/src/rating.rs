//! The rating world: implement [`Rater`] and register it with
//! [`crate::register_rater!`].
//!
//! Everything a rater needs is re-exported here, so `use
//! premia_plugin_sdk::rating::*;` is the only import a plugin needs.

/// Bindings generated from `wit/since_v0.1.0` for the `rater` world.
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "rater",
        path: "../wit/since_v0.1.0",
        pub_export_macro: true,
        export_macro_name: "export_rater",
        additional_derives: [PartialEq],
        default_bindings_module: "premia_plugin_sdk::rating::bindings",
    });
}

pub use crate::host::{LogLevel, log, lookup, lookup_decimal};
pub use crate::{Decimal, dec, fmt_decimal, parse_decimal, round_money};
pub use bindings::exports::premia::plugin::rating::{
    Commission, FlatCharge, PricedItem, RateItem, RateRequest, RateResponse, RatingError,
};
pub use bindings::premia::plugin::types::{
    Amount, Characteristics, Date, Exposure, Field, FieldValue, Operation, Peril, Period,
    PluginError, Policy,
};

crate::common::impl_type_helpers!(bindings::premia::plugin::types);

/// A rating plugin: prices the items of a policy for one segment.
///
/// Each call runs in a fresh sandbox, so a rater keeps no state between
/// calls: it is a pure function of its request.
pub trait Rater {
    /// Prices every item of `request`; yearly rates are prorated by the host.
    fn rate(request: RateRequest) -> Result<RateResponse, RatingError>;
}

impl Amount {
    /// An annual rate from a decimal.
    pub fn yearly(amount: Decimal) -> Self {
        Amount::Yearly(fmt_decimal(amount))
    }

    /// An exact amount for the segment from a decimal.
    pub fn exact(amount: Decimal) -> Self {
        Amount::Exact(fmt_decimal(amount))
    }
}

impl PricedItem {
    /// The item `locator` priced at an annual rate, booked to the product's
    /// premium charge.
    pub fn yearly(locator: &str, amount: Decimal) -> Self {
        PricedItem {
            locator: locator.to_string(),
            charge: None,
            premium: Amount::yearly(amount),
            technical_premium: None,
            commissions: Vec::new(),
        }
    }

    /// The item `locator` priced at an exact amount for the segment.
    pub fn exact(locator: &str, amount: Decimal) -> Self {
        PricedItem {
            premium: Amount::exact(amount),
            ..PricedItem::yearly(locator, Decimal::ZERO)
        }
    }

    /// Books the amount to another product charge, such as `premium-tax`.
    pub fn charge(mut self, charge: &str) -> Self {
        self.charge = Some(charge.to_string());
        self
    }

    /// Adds a technical premium.
    pub fn technical(mut self, technical_premium: Amount) -> Self {
        self.technical_premium = Some(technical_premium);
        self
    }

    /// Adds a commission.
    pub fn commission(mut self, recipient: &str, amount: Amount) -> Self {
        self.commissions.push(Commission {
            recipient: recipient.to_string(),
            amount,
        });
        self
    }
}

impl FlatCharge {
    /// A flat charge (a fee) of `amount` booked to the product charge `charge`.
    pub fn new(charge: &str, amount: Decimal, description: &str) -> Self {
        FlatCharge {
            charge: charge.to_string(),
            amount: fmt_decimal(amount),
            item: None,
            description: description.to_string(),
        }
    }
}

impl RateResponse {
    /// A response with these priced items and no flat charges.
    pub fn items(items: Vec<PricedItem>) -> Self {
        RateResponse {
            items,
            flat_charges: Vec::new(),
        }
    }

    /// Adds a flat charge.
    pub fn flat(mut self, charge: FlatCharge) -> Self {
        self.flat_charges.push(charge);
        self
    }
}

impl RateRequest {
    /// The exposure whose characteristics `item` prices, if it prices one.
    pub fn exposure_of(&self, item: &RateItem) -> Option<&Exposure> {
        let wanted = item.exposure_characteristics.as_deref()?;
        self.policy
            .exposures
            .iter()
            .find(|e| e.characteristics.locator == wanted)
    }

    /// The exposure and peril whose characteristics `item` prices, or
    /// invalid input naming the item.
    pub fn peril_of(&self, item: &RateItem) -> Result<(&Exposure, &Peril), RatingError> {
        let wanted = item.peril_characteristics.as_deref().ok_or_else(|| {
            PluginError::invalid(format!("item {}: no peril characteristics", item.locator))
        })?;
        self.policy
            .exposures
            .iter()
            .flat_map(|exposure| exposure.perils.iter().map(move |peril| (exposure, peril)))
            .find(|(_, peril)| peril.characteristics.locator == wanted)
            .ok_or_else(|| {
                PluginError::invalid(format!(
                    "item {}: unknown peril characteristics {wanted}",
                    item.locator
                ))
            })
    }
}

#[doc(hidden)]
pub fn __rate<R: Rater>(request: RateRequest) -> Result<RateResponse, RatingError> {
    crate::install_panic_hook();
    crate::host::__begin_call();
    R::rate(request)
}

/// Registers a [`Rater`] as the plugin's export. Call it once, at the root
/// of the plugin crate.
#[macro_export]
macro_rules! register_rater {
    ($rater:ty) => {
        #[doc(hidden)]
        pub struct __PremiaRaterExport;

        impl $crate::rating::bindings::exports::premia::plugin::rating::Guest for __PremiaRaterExport {
            fn rate(
                request: $crate::rating::RateRequest,
            ) -> ::core::result::Result<$crate::rating::RateResponse, $crate::rating::RatingError> {
                $crate::rating::__rate::<$rater>(request)
            }
        }

        // Exported only in WebAssembly: a native build (tests) has no component exports.
        #[cfg(target_arch = "wasm32")]
        $crate::rating::bindings::export_rater!(__PremiaRaterExport with_types_in $crate::rating::bindings);
    };
}
