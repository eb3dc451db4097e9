//! One HTTP server for every endpoint: `/metrics`, `/healthz`, `/readyz`, and
//! the admin endpoints `GET /admin/ruleset` and `POST /admin/reload`.
//!
//! Admin access: with no `admin_tokens` configured, only clients on the
//! loopback interface are served; with tokens, every admin request needs
//! `Authorization: Bearer <token>` whose SHA-256 is configured, and the
//! token's name is the actor in the audit trail. The server binds to
//! localhost by default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sha2::{Digest, Sha256};

use super::reload::Reloader;
use super::{EngineError, Shared};

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Engine state.
    pub shared: Arc<Shared>,
    /// Reload entry point (absent in tools that only serve metrics).
    pub reloader: Option<Arc<Reloader>>,
    /// Admin token name -> hex SHA-256.
    pub tokens: BTreeMap<String, String>,
}

impl AppState {
    /// Metrics and health only, no admin reload.
    pub fn metrics_only(shared: Arc<Shared>) -> AppState {
        AppState {
            shared,
            reloader: None,
            tokens: BTreeMap::new(),
        }
    }
}

/// The routes, for embedding and tests.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/admin/ruleset", get(ruleset))
        .route("/admin/reload", post(reload))
        .with_state(state)
}

/// Binds `addr` and serves until `shutdown` resolves.
pub async fn serve(
    addr: &str,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<tokio::task::JoinHandle<()>, EngineError> {
    let listener =
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|cause| EngineError::Listen {
                addr: addr.to_string(),
                cause,
            })?;
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(addr = %local, "http server listening");
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(error = %e, "http server stopped");
        }
    }))
}

/// Hex SHA-256 of a token, as `admin_tokens` stores it.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The actor allowed to use an admin endpoint, or the refusal.
fn authorize(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<String, (StatusCode, &'static str)> {
    if state.tokens.is_empty() {
        if peer.ip().is_loopback() {
            return Ok(format!("localhost:{}", peer.port()));
        }
        return Err((
            StatusCode::FORBIDDEN,
            "admin endpoints answer only to localhost unless admin_tokens are configured\n",
        ));
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(hash_token);
    let Some(presented) = presented else {
        return Err((StatusCode::UNAUTHORIZED, "bearer token required\n"));
    };
    // compare every configured hash fully, so timing tells nothing
    let mut actor = None;
    for (name, hash) in &state.tokens {
        let equal = hash.len() == presented.len()
            && hash
                .bytes()
                .zip(presented.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a.to_ascii_lowercase() ^ b))
                == 0;
        if equal {
            actor = Some(name.clone());
        }
    }
    actor.ok_or((StatusCode::UNAUTHORIZED, "unknown token\n"))
}

/// Authorizes an admin request and audits a refusal.
fn admit(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    action: &str,
) -> Result<String, (StatusCode, &'static str)> {
    authorize(state, peer, headers)
        .inspect_err(|_| audit_admin(&peer.ip().to_string(), action, "refused"))
}

fn audit_admin(actor: &str, action: &str, result: &str) {
    let record = serde_json::json!({
        "time": super::metrics::unix_now(), "actor": actor, "action": action, "result": result,
    });
    tracing::info!(target: "wordwarden::audit", record = %record, "audit");
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.shared.metrics.render(),
    )
        .into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    let shared = &state.shared;
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

async fn ruleset(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let actor = match admit(&state, peer, &headers, "GET /admin/ruleset") {
        Ok(a) => a,
        Err(refusal) => return refusal.into_response(),
    };
    audit_admin(&actor, "GET /admin/ruleset", "ok");
    let status = state
        .shared
        .status
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    Json(status).into_response()
}

async fn reload(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let actor = match admit(&state, peer, &headers, "POST /admin/reload") {
        Ok(a) => a,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(reloader) = &state.reloader else {
        return (StatusCode::NOT_FOUND, "no reloader\n").into_response();
    };
    let record = reloader.reload_dir("http", &actor).await;
    let code = if record.result == "rejected" {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (code, Json(record)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(tokens: &[(&str, &str)]) -> AppState {
        let config = super::super::Config {
            wordlists: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wordlists"),
            ..Default::default()
        };
        AppState {
            shared: Shared::new(&config).unwrap(),
            reloader: None,
            tokens: tokens
                .iter()
                .map(|(n, t)| (n.to_string(), hash_token(t)))
                .collect(),
        }
    }

    fn bearer(t: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("Bearer {t}").parse().unwrap(),
        );
        h
    }

    #[test]
    fn without_tokens_only_loopback_is_served() {
        let s = state(&[]);
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "10.1.2.3:5000".parse().unwrap();
        assert!(authorize(&s, local, &HeaderMap::new()).is_ok());
        assert_eq!(
            authorize(&s, remote, &HeaderMap::new()).unwrap_err().0,
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn with_tokens_every_client_needs_one() {
        let s = state(&[("alice", "a-secret"), ("bob", "b-secret")]);
        let remote: SocketAddr = "10.1.2.3:5000".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(authorize(&s, remote, &bearer("b-secret")).unwrap(), "bob");
        assert_eq!(
            authorize(&s, local, &HeaderMap::new()).unwrap_err().0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            authorize(&s, remote, &bearer("nope")).unwrap_err().0,
            StatusCode::UNAUTHORIZED
        );
    }
}
