//! Serving a booted state over HTTP until Ctrl-C (the state is opened by
//! [`crate::boot`]).

use super::state::AppState;
use anyhow::Context;
use std::net::SocketAddr;

/// Serves the API over `state` on `listen` until Ctrl-C.
pub async fn serve(state: AppState, listen: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    println!("premia listening on http://{}", listener.local_addr()?);
    axum::serve(listener, super::router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
