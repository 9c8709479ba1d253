//! `POST /v1/webhooks/stripe/{merchant_id}`: Stripe's webhooks, read as the raw body (the
//! signature covers its exact bytes), verified and stored before answering, applied after
//! the answer in a background task (and again by the reconciler if that task is lost).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::{Json, Router};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::webhooks::{self, Received};
use crate::error::ApiFailure;
use crate::schemas::MerchantId;
use crate::state::AppState;

/// The route, described.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}

/// The route.
pub fn router() -> Router<AppState> {
    routes().split_for_parts().0
}

/// What slotpay answers Stripe.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Acknowledged {
    /// Always true: the event is stored.
    received: bool,
    /// True when this event had been received before (nothing is done twice).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    duplicate: bool,
}

/// A Stripe event for the merchant's account, signed with the endpoint's secret: verified and
/// stored before the answer, applied after it.
#[utoipa::path(
    post,
    path = "/v1/webhooks/stripe/{merchant_id}",
    tag = "stripe",
    params(
        ("merchant_id" = MerchantId, Path, description = "The merchant whose endpoint Stripe calls."),
        ("Stripe-Signature" = String, Header, description = "Stripe's signature of the exact body."),
    ),
    request_body(content = Object, description = "A Stripe Event object, as Stripe sends it.", content_type = "application/json"),
    responses((status = 200, description = "Stored (or received before).", body = Acknowledged)),
)]
async fn receive(
    State(s): State<AppState>,
    Path(merchant_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Acknowledged>, ApiFailure> {
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
            Ok(Json(Acknowledged {
                received: true,
                duplicate: false,
            }))
        }
        Received::Duplicate => Ok(Json(Acknowledged {
            received: true,
            duplicate: true,
        })),
    }
}
