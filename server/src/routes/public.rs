//! The public API the widget calls from merchants' pages, behind CORS (the merchant's
//! registered origins and the server's own pages) and the per-IP and per-merchant rate
//! limits: a checkout's view, a checkout from the catalogue (the script-tag embed), pay with
//! a card token, refresh after 3-D Secure.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use slotpay_core::{CheckoutView, PayRequest};

use super::ApiJson;
use crate::client_addr;
use crate::domain::checkouts::{self, ServiceCheckoutInput};
use crate::domain::payments::{self, PayOutcome};
use crate::error::ApiFailure;
use crate::state::AppState;

/// The public routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/checkouts/{token}", get(view))
        .route("/v1/checkouts/{token}/pay", post(pay))
        .route("/v1/checkouts/{token}/refresh", post(refresh))
        .route("/v1/merchants/{merchant_id}/checkouts", post(from_service))
}

/// A pay or refresh answer: its status and JSON body as the domain decided.
pub fn outcome(out: PayOutcome) -> Response {
    let status = StatusCode::from_u16(out.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        out.body,
    )
        .into_response()
}

async fn view(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<CheckoutView>, ApiFailure> {
    Ok(Json(checkouts::public_view(&s, &token).await?))
}

async fn from_service(
    State(s): State<AppState>,
    Path(merchant_id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ServiceCheckoutInput>,
) -> Result<(StatusCode, Json<CheckoutView>), ApiFailure> {
    let client = client_addr::client_ip(Some(peer.ip()), &headers, &s.config.trusted_proxies);
    Ok((
        StatusCode::CREATED,
        Json(checkouts::create_from_service(&s, &merchant_id, input, &client).await?),
    ))
}

async fn pay(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PayRequest>,
) -> Result<Response, ApiFailure> {
    let key = payments::parse_idempotency_key(
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()),
    )?;
    Ok(outcome(payments::pay(&s, &token, &key, req).await?))
}

async fn refresh(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiFailure> {
    Ok(outcome(payments::refresh(&s, &token).await?))
}
