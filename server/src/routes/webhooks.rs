//! `POST /v1/webhooks/stripe/{merchant_id}`: Stripe's webhooks, read as the raw body (the
//! signature covers its exact bytes), verified and stored before answering, applied after
//! the answer in a background task (and again by the reconciler if that task is lost).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::domain::webhooks::{self, Received};
use crate::error::ApiFailure;
use crate::state::AppState;

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/webhooks/stripe/{merchant_id}", post(receive))
}

async fn receive(
    State(s): State<AppState>,
    Path(merchant_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiFailure> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    match webhooks::receive(&s, &merchant_id, signature, &body).await? {
        Received::New(event) => {
            if event.needs_processing() {
                let state = s.clone();
                tokio::spawn(async move {
                    let _ = webhooks::process_received(&state, *event).await;
                });
            }
            Ok(Json(json!({"received": true})))
        }
        Received::Duplicate => Ok(Json(json!({"received": true, "duplicate": true}))),
    }
}
