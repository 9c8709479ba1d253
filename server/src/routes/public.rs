//! The public API the widget calls from merchants' pages, behind CORS (the merchant's
//! registered origins and the server's own pages) and the per-IP and per-merchant rate
//! limits: a checkout's view, a checkout from the catalogue (the script-tag embed), pay with
//! a card token, refresh after 3-D Secure.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use slotpay_core::{CheckoutToken, CheckoutView, PayRequest, PayResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiJson;
use crate::client_addr;
use crate::domain::checkouts::{self, ServiceCheckoutInput};
use crate::domain::payments::{self, PayOutcome};
use crate::error::ApiFailure;
use crate::schemas::MerchantId;
use crate::state::AppState;

/// The public routes, described.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(view))
        .routes(routes!(pay))
        .routes(routes!(refresh))
        .routes(routes!(from_service))
}

/// The public routes.
pub fn router() -> Router<AppState> {
    routes().split_for_parts().0
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

/// A checkout as the widget shows it.
#[utoipa::path(
    get,
    path = "/v1/checkouts/{token}",
    tag = "checkout",
    params(("token" = CheckoutToken, Path, description = "The checkout's token.")),
    responses((status = 200, description = "The checkout.", body = CheckoutView, example = json!({
        "token": "cs_6f1c0e9a2b7d4c3e8f5a1b2c3d4e5f6a7b8c9d0e1f2a3b4c", "status": "open",
        "amount": 2000, "currency": "eur", "merchant_name": "Salon Léa",
        "description": "Colour and cut, Sat 14:00 (deposit)", "booking_ref": "BK-20931",
        "email": "lea@example.com", "expires_at": 1764855000, "minimum_amount": 50,
        "publishable_key": "pk_test_51Hs0meTestKey", "stripe_js_url": "https://js.stripe.com/v3/",
        "mode": "sandbox", "card_brands": ["visa", "mastercard"],
        "payment_methods": ["card", "ideal", "bancontact"], "wallets": true, "locale": "fr",
        "receipt": null, "save_card": null
    }))),
)]
async fn view(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<CheckoutView>, ApiFailure> {
    Ok(Json(checkouts::public_view(&s, &token).await?))
}

/// A checkout for a service of the merchant's catalogue (the script-tag embed): the server
/// computes the prepayment from the service's price and rule.
#[utoipa::path(
    post,
    path = "/v1/merchants/{merchant_id}/checkouts",
    tag = "checkout",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    request_body(content = ServiceCheckoutInput, example = json!({"service_id": "svc_5c1e8a3f0b7d2e9a4c6f1b08"})),
    responses((status = 201, description = "The new checkout.", body = CheckoutView)),
)]
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

/// Pays the checkout with a PaymentMethod made by Stripe.js: the server creates and confirms
/// the PaymentIntent, once per checkout (the same `Idempotency-Key` answers the same again).
#[utoipa::path(
    post,
    path = "/v1/checkouts/{token}/pay",
    tag = "checkout",
    params(
        ("token" = CheckoutToken, Path, description = "The checkout's token."),
        ("Idempotency-Key" = String, Header, description = "One key per pay attempt (1 to 255 printable ASCII characters); a retry of the same attempt sends the same key."),
    ),
    request_body(content = PayRequest, example = json!({"payment_method": "pm_1QxYz2AbCdEfGhIjKlMnOpQr", "email": "lea@example.com", "save_card": false})),
    responses(
        (status = 200, description = "Paid, authorised, processing (a SEPA Debit), or awaiting 3-D Secure or the bank (`status` says which; `client_secret` for `requires_action`).", body = PayResponse, example = json!({
            "status": "succeeded",
            "receipt": {"method": "card", "amount": 2000, "currency": "eur", "brand": "visa", "last4": "4242", "reference": "BK-20931"}
        })),
        (status = 402, description = "Declined or not authenticated: the client may try another card.", body = PayResponse),
    ),
)]
async fn pay(
    State(s): State<AppState>,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PayRequest>,
) -> Result<Response, ApiFailure> {
    let key = payments::parse_idempotency_key(
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()),
    )?;
    let client = payments::Client {
        ip: client_addr::client_ip(Some(peer.ip()), &headers, &s.config.trusted_proxies),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    Ok(outcome(
        payments::pay(&s, &token, &key, req, &client).await?,
    ))
}

/// Reads the PaymentIntent again after 3-D Secure or a redirect, and answers as `pay` does.
#[utoipa::path(
    post,
    path = "/v1/checkouts/{token}/refresh",
    tag = "checkout",
    params(("token" = CheckoutToken, Path, description = "The checkout's token.")),
    responses(
        (status = 200, description = "The checkout's payment as it now is.", body = PayResponse),
        (status = 402, description = "Declined or not authenticated.", body = PayResponse),
    ),
)]
async fn refresh(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiFailure> {
    Ok(outcome(payments::refresh(&s, &token).await?))
}
