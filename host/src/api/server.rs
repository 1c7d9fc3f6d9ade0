//! Serving a booted state over HTTP until Ctrl-C (the state is opened by
//! [`crate::boot`]).

use super::state::AppState;
use std::net::SocketAddr;

/// Why serving stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

/// Serves the API over `state` on `listen` until Ctrl-C.
pub async fn serve(state: AppState, listen: SocketAddr) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: listen,
            source,
        })?;
    if let Ok(addr) = listener.local_addr() {
        println!("premia listening on http://{addr}");
    }
    axum::serve(listener, super::router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(ServeError::Serve)
}
