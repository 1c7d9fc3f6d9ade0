//! Host bindings generated from `wit/since_v0.1.0` for both worlds. The
//! invoicer world reuses the rater world's `types` and `host` interfaces, so
//! one host implementation and one linker serve both.

#![allow(missing_docs, clippy::all)]

/// The `rater` world.
pub mod rater {
    wasmtime::component::bindgen!({
        world: "rater",
        path: "../wit/since_v0.1.0",
    });
}

/// The `invoicer` world.
pub mod invoicer {
    wasmtime::component::bindgen!({
        world: "invoicer",
        path: "../wit/since_v0.1.0",
        with: {
            "premia:plugin/types": super::rater::premia::plugin::types,
            "premia:plugin/host": super::rater::premia::plugin::host,
        },
    });
}

pub use invoicer::exports::premia::plugin::invoicing as wit_invoicing;
pub use rater::exports::premia::plugin::rating as wit_rating;
pub use rater::premia::plugin::host as wit_host;
pub use rater::premia::plugin::types as wit_types;

/// The WIT package version this host speaks.
pub const WIT_VERSION: &str = "0.1.0";
/// The interface a rating plugin exports.
pub const RATING_EXPORT: &str = "premia:plugin/rating@0.1.0";
/// The interface an invoicing plugin exports.
pub const INVOICING_EXPORT: &str = "premia:plugin/invoicing@0.1.0";
