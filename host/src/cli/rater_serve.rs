//! `premia rater serve <plugin.wasm> --tables <dir> --listen <addr>`: a
//! rating plugin served as a Socotra-compatible external rater (seed 004's
//! wire format). Socotra, or another Premia, calls it with `POST` on any
//! path. Each call runs in a fresh sandbox, as in the host.
//!
//! Used by `scripts/load.sh` to compare the same rating logic in-process
//! (WASM) and behind HTTP (external rater); also a way to offer a Premia
//! plugin to a policy system that speaks Socotra's protocol.

use crate::plugin::{PluginError, PluginLimits, PluginRuntime};
use crate::rating::external::{ExternalRateRequest, declined_wire_response, priced_wire_response};
use anyhow::Context;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use premia_plugin_sdk::tables::RateTables;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

struct Served {
    runtime: PluginRuntime,
    id: String,
}

async fn rate(State(served): State<Arc<Served>>, body: axum::body::Bytes) -> Response {
    let answer = tokio::task::spawn_blocking(move || {
        let request: ExternalRateRequest = match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("not a rating request: {e}"),
                )
                    .into_response();
            }
        };
        let native = match request.to_rate_request() {
            Ok(native) => native,
            Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
        };
        match served.runtime.rate(&served.id, &native) {
            Ok((response, _)) => Json(priced_wire_response(&response)).into_response(),
            Err(PluginError::Declined { message, .. }) => {
                Json(declined_wire_response(&message)).into_response()
            }
            Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
        }
    })
    .await;
    answer.unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
}

/// The external-rater service for a rating plugin's component `bytes`.
pub fn router(bytes: &[u8], tables: RateTables) -> anyhow::Result<axum::Router> {
    let runtime = PluginRuntime::new(PluginLimits::default())?;
    let id = runtime.register("external", "served", bytes, tables)?.id;
    let served = Arc::new(Served { runtime, id });
    Ok(axum::Router::new()
        .fallback(axum::routing::post(rate))
        .with_state(served))
}

/// Serves `plugin` until the process is stopped.
pub fn run(plugin: &Path, tables: Option<&Path>, listen: SocketAddr) -> anyhow::Result<()> {
    let bytes = std::fs::read(plugin).with_context(|| format!("reading {}", plugin.display()))?;
    let tables = match tables {
        Some(dir) => RateTables::from_dir(dir).map_err(anyhow::Error::msg)?,
        None => RateTables::new(),
    };
    let app = router(&bytes, tables)?;
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
