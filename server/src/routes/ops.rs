//! Operations: `/healthz` (checks the database; 503 when it cannot answer) and `/metrics`
//! (Prometheus text): on the main listener behind the admin token, or, with
//! `SLOTPAY_METRICS_LISTEN`, only on that private listener and without a token.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

use crate::routes::admin_api::require_admin;
use crate::state::AppState;

/// The routes of the main listener.
pub fn router(state: &AppState) -> Router<AppState> {
    let ops = Router::new().route("/healthz", get(healthz));
    if state.config.metrics_listen.is_some() {
        return ops;
    }
    ops.merge(metrics_router().route_layer(from_fn_with_state(state.clone(), require_admin)))
}

/// `/metrics` alone, for the metrics listener.
pub fn metrics_router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// The health answer: JSON ending with a newline (read by people with `curl` too).
fn health(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{body}\n"),
    )
        .into_response()
}

async fn healthz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(3), state.db.ping()).await {
        Ok(Ok(())) => health(StatusCode::OK, json!({"status": "ok", "database": "ok"})),
        outcome => {
            let detail = match outcome {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_owned(),
            };
            tracing::error!(%detail, "health check: database unavailable");
            health(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"status": "unavailable", "database": "unavailable"}),
            )
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
