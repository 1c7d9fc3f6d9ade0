//! `premia rater serve <plugin.wasm> --tables <dir> --listen <addr>
//! [--default-currency USD]`: a rating plugin served as a Socotra-compatible
//! external rater (seed 004's wire format). Socotra, or another Premia,
//! calls it with `POST` on any path. Each call runs in a fresh sandbox, as in
//! the host. [`router_for`] serves any [`Rater`] the same way.
//!
//! A real Socotra request is read unchanged (see
//! [`ExternalRateRequest::to_rate_request_with`]): peril characteristics
//! with only coverage timestamps, built-in peril properties (read back as
//! fields), and no `policy.currency` (the `--default-currency` is used).
//!
//! Every answer to a `POST` is Socotra's response with HTTP 200: the priced
//! characteristics, or, for **any** failure (a body over
//! [`MAX_REQUEST_BYTES`], not JSON or not a rating request, a request that
//! cannot be read, a decline, a rater that fails),
//! `{"pricedPerilCharacteristics": {}, "exceptionMessage": "..."}`. Socotra looks for `exceptionMessage` in the answer and reports
//! it to its caller as HTTP 409 with that message; Premia's own client does
//! the same, and reads a non-2xx status as a broken rater instead. Example:
//! a body `{"operation": "new_business"}` is answered `200
//! {"pricedPerilCharacteristics": {}, "exceptionMessage": "not a rating
//! request: missing field `policy` at line 1 column 29"}`.
//!
//! Used by `scripts/load.sh` to compare the same rating logic in-process
//! (WASM) and behind HTTP (external rater); also a way to offer a Premia
//! plugin to a policy system that speaks Socotra's protocol.

use crate::plugin::{PluginLimits, PluginRater, PluginRuntime};
use crate::rating::external::{ExternalRateRequest, declined_wire_response, priced_wire_response};
use crate::rating::{Rater, RatingError};
use anyhow::Context;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use premia_plugin_sdk::tables::RateTables;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// The largest request body read by default: 32 MiB (a policy with many
/// exposures and its whole history is large).
pub const MAX_REQUEST_BYTES: usize = 32 * 1024 * 1024;

/// How the served rater reads requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// The currency of a request whose policy names none (`USD`).
    pub default_currency: Option<String>,
    /// The largest request body read; a larger one is answered with an
    /// `exceptionMessage`.
    pub max_request_bytes: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            default_currency: None,
            max_request_bytes: MAX_REQUEST_BYTES,
        }
    }
}

struct Served {
    rater: Arc<dyn Rater>,
    options: ServeOptions,
}

/// The Socotra answer to one request body: the priced characteristics, or
/// the `exceptionMessage` of whatever went wrong.
pub fn answer(rater: &dyn Rater, options: &ServeOptions, body: &[u8]) -> Value {
    let request: ExternalRateRequest = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(e) => return declined_wire_response(&format!("not a rating request: {e}")),
    };
    let native = match request.to_rate_request_with(options.default_currency.as_deref()) {
        Ok(native) => native,
        Err(e) => return declined_wire_response(&format!("not a rating request: {e}")),
    };
    match rater.rate(&native) {
        Ok(response) => priced_wire_response(&native, &response),
        Err(RatingError::Declined(message)) => declined_wire_response(&message),
        Err(error) => declined_wire_response(&error.to_string()),
    }
}

async fn rate(State(served): State<Arc<Served>>, request: axum::extract::Request) -> Response {
    let limit = served.options.max_request_bytes;
    let body = match axum::body::to_bytes(request.into_body(), limit).await {
        Ok(body) => body,
        Err(error) => {
            let message =
                format!("the request could not be read (at most {limit} bytes are): {error}");
            return Json(declined_wire_response(&message)).into_response();
        }
    };
    let answered =
        tokio::task::spawn_blocking(move || answer(served.rater.as_ref(), &served.options, &body))
            .await;
    let value =
        answered.unwrap_or_else(|e| declined_wire_response(&format!("the rater stopped: {e}")));
    Json(value).into_response()
}

/// The external-rater service for any rater.
pub fn router_for(rater: Arc<dyn Rater>, options: ServeOptions) -> axum::Router {
    let served = Arc::new(Served { rater, options });
    axum::Router::new()
        .fallback(axum::routing::post(rate))
        .with_state(served)
}

/// The external-rater service for a rating plugin's component `bytes`.
pub fn router(
    bytes: &[u8],
    tables: RateTables,
    options: ServeOptions,
) -> anyhow::Result<axum::Router> {
    let runtime = Arc::new(PluginRuntime::new(PluginLimits::default())?);
    let id = runtime.register("external", "served", bytes, tables)?.id;
    let rater = PluginRater::new(runtime, &id).map_err(anyhow::Error::msg)?;
    Ok(router_for(Arc::new(rater), options))
}

/// Serves `plugin` until the process is stopped.
pub fn run(
    plugin: &Path,
    tables: Option<&Path>,
    listen: SocketAddr,
    options: ServeOptions,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(plugin).with_context(|| format!("reading {}", plugin.display()))?;
    let tables = match tables {
        Some(dir) => RateTables::from_dir(dir).map_err(anyhow::Error::msg)?,
        None => RateTables::new(),
    };
    let app = router(&bytes, tables, options)?;
    tokio::runtime::Runtime::new()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!(
            "external rater listening on http://{}",
            listener.local_addr()?
        );
        axum::serve(listener, app).await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests;
