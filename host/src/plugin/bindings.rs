//! Host bindings generated from every WIT version the host supports, one
//! module per version: `v0_1` from `wit/since_v0.1.0`, `v0_2` from
//! `wit/since_v0.2.0`. Within a version the invoicer world reuses the rater
//! world's `types` and `host` interfaces. Version 0.2 also reuses the Rust
//! types of 0.1's `types` interface (the interface is identical; only its
//! version differs), so dates, periods, policies and plugin errors convert
//! once; its `host` interface is generated anew, because it is linked under
//! its own versioned name.

#![allow(missing_docs, clippy::all)]

/// `premia:plugin@0.1.0`.
pub mod v0_1 {
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
}

/// `premia:plugin@0.2.0`: the draft invoice carries its net, whether it is a
/// credit, and each policy's coverage.
pub mod v0_2 {
    /// The `rater` world (the same as 0.1's).
    pub mod rater {
        wasmtime::component::bindgen!({
            world: "rater",
            path: "../wit/since_v0.2.0",
            with: {
                "premia:plugin/types": crate::plugin::bindings::v0_1::rater::premia::plugin::types,
            },
        });
    }

    /// The `invoicer` world.
    pub mod invoicer {
        wasmtime::component::bindgen!({
            world: "invoicer",
            path: "../wit/since_v0.2.0",
            with: {
                "premia:plugin/types": crate::plugin::bindings::v0_1::rater::premia::plugin::types,
                "premia:plugin/host": super::rater::premia::plugin::host,
            },
        });
    }
}

pub use v0_1::invoicer::exports::premia::plugin::invoicing as wit_invoicing_v0_1;
pub use v0_1::rater::exports::premia::plugin::rating as wit_rating;
pub use v0_1::rater::premia::plugin::host as wit_host;
pub use v0_1::rater::premia::plugin::types as wit_types;
pub use v0_2::invoicer::exports::premia::plugin::invoicing as wit_invoicing;
pub use v0_2::rater::exports::premia::plugin::rating as wit_rating_v0_2;
pub use v0_2::rater::premia::plugin::host as wit_host_v0_2;

/// The WIT package versions this host speaks, oldest first.
pub const WIT_VERSIONS: [&str; 2] = ["0.1.0", "0.2.0"];
/// The newest WIT package version this host speaks.
pub const WIT_VERSION: &str = "0.2.0";
/// The interface a rating plugin exports, without its version.
pub const RATING_EXPORT: &str = "premia:plugin/rating";
/// The interface an invoicing plugin exports, without its version.
pub const INVOICING_EXPORT: &str = "premia:plugin/invoicing";
