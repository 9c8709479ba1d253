//! Operations: `/healthz` (checks the database; 503 when it cannot answer) and `/metrics`
//! (Prometheus text: on the main listener behind the admin token, or, with
//! `SLOTPAY_METRICS_LISTEN`, only on that private listener and without a token).

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::routes::admin_api::require_admin;
use crate::state::AppState;

/// Every operations route, described (`/metrics` as the main listener serves it).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(metrics))
}

/// The routes of the main listener.
pub fn router(state: &AppState) -> Router<AppState> {
    let (ops, _) = OpenApiRouter::new()
        .routes(routes!(healthz))
        .split_for_parts();
    if state.config.metrics_listen.is_some() {
        return ops;
    }
    ops.merge(metrics_router().route_layer(from_fn_with_state(state.clone(), require_admin)))
}

/// `/metrics` alone, for the metrics listener.
pub fn metrics_router() -> Router<AppState> {
    OpenApiRouter::new()
        .routes(routes!(metrics))
        .split_for_parts()
        .0
}

/// The server's health.
#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    /// `ok` or `unavailable`.
    status: &'static str,
    /// `ok` or `unavailable`: whether the database answered within 3 seconds.
    database: &'static str,
}

/// The health answer: JSON ending with a newline (read by people with `curl` too).
fn health(status: StatusCode, body: Health) -> Response {
    let json = serde_json::to_string(&body).expect("a health answer serialises");
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{json}\n"),
    )
        .into_response()
}

/// Whether the server and its database answer.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "Healthy.", body = Health),
        (status = 503, description = "The database did not answer.", body = Health),
    ),
)]
async fn healthz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(3), state.db.ping()).await {
        Ok(Ok(())) => health(
            StatusCode::OK,
            Health {
                status: "ok",
                database: "ok",
            },
        ),
        outcome => {
            let detail = match outcome {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_owned(),
            };
            tracing::error!(%detail, "health check: database unavailable");
            health(
                StatusCode::SERVICE_UNAVAILABLE,
                Health {
                    status: "unavailable",
                    database: "unavailable",
                },
            )
        }
    }
}

/// Prometheus metrics. On the main listener it needs the admin token; with
/// `SLOTPAY_METRICS_LISTEN` it is served only on that private listener, without one.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus' text format.", body = String, content_type = "text/plain; version=0.0.4; charset=utf-8")),
    security(("admin_token" = [])),
)]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
