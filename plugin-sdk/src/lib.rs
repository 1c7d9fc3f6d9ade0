//! # Premia plugin SDK
//!
//! Write a Premia rating or invoicing plugin in Rust, test its logic natively
//! with `cargo test`, and build it into a WebAssembly component with
//! `cargo build --target wasm32-wasip2 --release` (or `premia plugin build`).
//!
//! A plugin crate is one world. Enable the SDK feature of the world you
//! implement (`rating` or `invoicing`), implement its trait ([`Rater`] or
//! [`Invoicer`]) and register the type with [`register_rater!`] or
//! [`register_invoicer!`]:
//!
//! ```ignore
//! use premia_plugin_sdk::rating::*;
//!
//! struct FlatRater;
//!
//! impl Rater for FlatRater {
//!     fn rate(request: RateRequest) -> Result<RateResponse, RatingError> {
//!         let items = request
//!             .items
//!             .iter()
//!             .map(|item| PricedItem::yearly(&item.locator, dec("120.00")))
//!             .collect();
//!         Ok(RateResponse::items(items))
//!     }
//! }
//!
//! premia_plugin_sdk::register_rater!(FlatRater);
//! ```
//!
//! Money never crosses the boundary as a float: amounts are decimal strings,
//! read and written with [`Decimal`] through [`dec`], [`parse_decimal`] and
//! [`fmt_decimal`]. Plugins see no clock, randomness, network or files; the
//! host offers only [`host::lookup`] (rate tables) and [`host::log`].

#![deny(missing_docs)]

#[cfg(feature = "call-arena")]
pub mod arena;
mod common;
pub mod host;
#[cfg(feature = "invoicing")]
pub mod invoicing;
pub mod money;
#[cfg(feature = "rating")]
pub mod rating;
#[cfg(not(target_arch = "wasm32"))]
pub mod tables;
pub mod testing;

pub use money::{dec, fmt_decimal, parse_decimal, round_money};

pub use rust_decimal::Decimal;

/// The plugin's allocator (see [`arena`]): a bump arena for the instance's
/// first call. Off with `default-features = false`.
#[cfg(all(target_arch = "wasm32", feature = "call-arena"))]
#[global_allocator]
static ALLOCATOR: arena::CallArena<{ arena::ARENA_BYTES }> = arena::CallArena::new();

/// Sends a panic's message to the host log before the plugin aborts, so the
/// host's trap error can say why. Called at the start of every export; the
/// hook is installed once per instance.
#[doc(hidden)]
pub fn install_panic_hook() {
    #[cfg(target_arch = "wasm32")]
    {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                host::log(host::LogLevel::Error, &format!("panic: {info}"));
            }));
        });
    }
}
