//! One HTTP server for every endpoint: `/metrics`, `/healthz`, `/readyz` and
//! `GET /admin/ruleset`. It binds to localhost by default.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::sync::watch;

use super::{EngineError, Shared};

/// The routes, for embedding and tests.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/admin/ruleset", get(ruleset))
        .with_state(shared)
}

/// Binds `addr` and serves until `stop` turns true.
pub async fn serve(
    addr: &str,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, EngineError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| EngineError::Listen {
            addr: addr.to_string(),
            source,
        })?;
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(addr = %local, "http server listening");
    let app = router(shared);
    Ok(tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(error = %e, "http server stopped");
        }
    }))
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        shared.metrics.render(),
    )
        .into_response()
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        let why = if !shared.brokers_up.load(std::sync::atomic::Ordering::Relaxed) {
            "not ready: no broker reachable\n"
        } else {
            "not ready: no partitions assigned\n"
        };
        (StatusCode::SERVICE_UNAVAILABLE, why).into_response()
    }
}

async fn ruleset(State(shared): State<Arc<Shared>>) -> Response {
    let status = shared.status.lock().map(|s| s.clone()).unwrap_or_default();
    Json(status).into_response()
}
