//! The platform API under `/v1/admin`, behind the admin bearer token (compared in constant
//! time): merchants, their integration (`POST` adds and verifies, `PUT` adds or edits), their services, their checkouts (create, list, view,
//! resend, cancel, refund, capture, cancellation fee) and the payments report. Each handler
//! calls the domain.

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use slotpay_core::ErrorCode;

use super::ApiJson;
use crate::domain::catalogue::{self, ServiceDeleted, ServiceInput, ServiceView};
use crate::domain::checkouts::{self, CheckoutAdminView, CheckoutInput, ListQuery, ResendInput};
use crate::domain::endpoints::{self, EndpointInput, EndpointPatch, EndpointView};
use crate::domain::events::{self, EventList, EventQuery, EventView};
use crate::domain::fees::{self, FeeInput};
use crate::domain::integrations::{self, IntegrationDeleted, IntegrationInput, IntegrationView};
use crate::domain::mail;
use crate::domain::merchants::{self, MerchantDeleted, MerchantInput, MerchantView};
use crate::domain::payments::{self, CaptureInput};
use crate::domain::refunds::{self, RefundInput};
use crate::domain::reports::{self, Format, ReportQuery};
use crate::error::ApiFailure;
use crate::state::AppState;

type Answer<T> = Result<Json<T>, ApiFailure>;

/// The routes, with the bearer-token check.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/v1/admin/merchants",
            post(create_merchant).get(list_merchants),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}",
            get(get_merchant)
                .patch(update_merchant)
                .delete(delete_merchant),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/integration",
            get(get_integration)
                .post(add_integration)
                .put(set_integration)
                .delete(delete_integration),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/integration/verify",
            post(verify),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/integration/activate",
            post(activate),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/integration/deactivate",
            post(deactivate),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/services",
            post(create_service).get(list_services),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/services/{service_id}",
            get(get_service)
                .patch(update_service)
                .delete(delete_service),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/checkouts",
            post(create_checkout).get(list_checkouts),
        )
        .route(
            "/v1/admin/merchants/{merchant_id}/payments",
            get(payments_report),
        )
        .route("/v1/admin/checkouts/{token}", get(get_checkout))
        .route("/v1/admin/checkouts/{token}/refunds", post(refund))
        .route("/v1/admin/checkouts/{token}/capture", post(capture))
        .route("/v1/admin/checkouts/{token}/cancel", post(cancel))
        .route("/v1/admin/checkouts/{token}/resend", post(resend))
        .route("/v1/admin/checkouts/{token}/send-link", post(send_link))
        .route("/v1/admin/emails/{email_id}/retry", post(retry_email))
        .route(
            "/v1/admin/checkouts/{token}/cancellation-fee",
            post(cancellation_fee),
        )
        .route(
            "/v1/admin/webhook-endpoints",
            post(create_endpoint).get(list_endpoints),
        )
        .route(
            "/v1/admin/webhook-endpoints/{endpoint_id}",
            get(get_endpoint)
                .patch(update_endpoint)
                .delete(delete_endpoint),
        )
        .route(
            "/v1/admin/webhook-endpoints/{endpoint_id}/rotate-secret",
            post(rotate_endpoint_secret),
        )
        .route(
            "/v1/admin/webhook-endpoints/{endpoint_id}/reveal-secret",
            post(reveal_endpoint_secret),
        )
        .route("/v1/admin/events", get(list_events))
        .route("/v1/admin/events/{event_id}", get(get_event))
        .route("/v1/admin/events/{event_id}/resend", post(resend_event))
        .route_layer(from_fn_with_state(state, require_admin))
}

/// Refuses requests without `Authorization: Bearer <admin token>`.
pub(crate) async fn require_admin(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let ok = given.is_some_and(|token| crate::admin::admin_token_matches(&state, token));
    if ok {
        return next.run(req).await;
    }
    let mut response = ApiFailure::new(
        ErrorCode::Unauthorized,
        "Send the admin token as Authorization: Bearer <token>",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

async fn create_merchant(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<MerchantInput>,
) -> Result<(StatusCode, Json<MerchantView>), ApiFailure> {
    Ok((
        StatusCode::CREATED,
        Json(merchants::create(&s, input).await?),
    ))
}

async fn list_merchants(State(s): State<AppState>) -> Answer<serde_json::Value> {
    let data = merchants::list(&s).await?;
    Ok(Json(serde_json::json!({ "data": data })))
}

async fn get_merchant(State(s): State<AppState>, Path(id): Path<String>) -> Answer<MerchantView> {
    Ok(Json(merchants::get(&s, &id).await?))
}

async fn update_merchant(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MerchantInput>,
) -> Answer<MerchantView> {
    Ok(Json(merchants::update(&s, &id, input).await?))
}

async fn delete_merchant(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<MerchantDeleted> {
    Ok(Json(merchants::delete(&s, &id).await?))
}

async fn get_integration(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<IntegrationView> {
    Ok(Json(integrations::get(&s, &id).await?))
}

async fn set_integration(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<IntegrationInput>,
) -> Answer<IntegrationView> {
    Ok(Json(integrations::set(&s, &id, input).await?))
}

/// Adds an integration (409 when there is one) and verifies its key at once: a key
/// Stripe refuses is not added (the admin pages' "Save integration").
async fn add_integration(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<IntegrationInput>,
) -> Result<(StatusCode, Json<IntegrationView>), ApiFailure> {
    Ok((
        StatusCode::CREATED,
        Json(integrations::add(&s, &id, input, false).await?),
    ))
}

async fn delete_integration(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<IntegrationDeleted> {
    Ok(Json(integrations::delete(&s, &id).await?))
}

async fn verify(State(s): State<AppState>, Path(id): Path<String>) -> Answer<IntegrationView> {
    Ok(Json(integrations::verify(&s, &id).await?))
}

async fn activate(State(s): State<AppState>, Path(id): Path<String>) -> Answer<IntegrationView> {
    Ok(Json(integrations::activate(&s, &id).await?))
}

async fn deactivate(State(s): State<AppState>, Path(id): Path<String>) -> Answer<IntegrationView> {
    Ok(Json(integrations::deactivate(&s, &id).await?))
}

async fn create_service(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ServiceInput>,
) -> Result<(StatusCode, Json<ServiceView>), ApiFailure> {
    Ok((
        StatusCode::CREATED,
        Json(catalogue::create(&s, &id, input).await?),
    ))
}

async fn list_services(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<serde_json::Value> {
    let data = catalogue::list(&s, &id).await?;
    Ok(Json(serde_json::json!({ "data": data })))
}

async fn get_service(
    State(s): State<AppState>,
    Path((id, service)): Path<(String, String)>,
) -> Answer<ServiceView> {
    Ok(Json(catalogue::get(&s, &id, &service).await?))
}

async fn update_service(
    State(s): State<AppState>,
    Path((id, service)): Path<(String, String)>,
    ApiJson(input): ApiJson<ServiceInput>,
) -> Answer<ServiceView> {
    Ok(Json(catalogue::update(&s, &id, &service, input).await?))
}

async fn delete_service(
    State(s): State<AppState>,
    Path((id, service)): Path<(String, String)>,
) -> Answer<ServiceDeleted> {
    Ok(Json(catalogue::delete(&s, &id, &service).await?))
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiFailure> {
    Ok(payments::parse_idempotency_key(
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()),
    )?)
}

/// An optional JSON body: none (or empty) is the default input.
fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiFailure> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiFailure::new(
            slotpay_core::ErrorCode::InvalidJson,
            crate::stripe::redact_keys(&e.to_string()),
        )
    })
}

async fn create_checkout(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CheckoutInput>,
) -> Result<(StatusCode, Json<CheckoutAdminView>), ApiFailure> {
    Ok((
        StatusCode::CREATED,
        Json(checkouts::create(&s, &id, input).await?),
    ))
}

async fn list_checkouts(
    State(s): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer<serde_json::Value> {
    let Query(q) = query
        .map_err(|e| ApiFailure::new(slotpay_core::ErrorCode::InvalidRequest, e.body_text()))?;
    let data = checkouts::list(&s, &id, q).await?;
    Ok(Json(serde_json::json!({ "data": data })))
}

async fn get_checkout(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> Answer<CheckoutAdminView> {
    Ok(Json(checkouts::get(&s, &token).await?))
}

async fn refund(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer<CheckoutAdminView> {
    let key = idempotency_key(&headers)?;
    let input: RefundInput = optional_body(&body)?;
    Ok(Json(refunds::create(&s, &token, &key, input).await?))
}

async fn capture(
    State(s): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Answer<CheckoutAdminView> {
    let input: CaptureInput = optional_body(&body)?;
    Ok(Json(payments::capture(&s, &token, input).await?))
}

async fn cancel(State(s): State<AppState>, Path(token): Path<String>) -> Answer<CheckoutAdminView> {
    Ok(Json(payments::cancel(&s, &token).await?))
}

async fn resend(
    State(s): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Answer<CheckoutAdminView> {
    let input: ResendInput = optional_body(&body)?;
    Ok(Json(checkouts::resend(&s, &token, input).await?))
}

async fn send_link(
    State(s): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Answer<checkouts::EmailView> {
    let input: mail::SendLinkInput = optional_body(&body)?;
    Ok(Json(mail::send_link(&s, &token, input).await?))
}

async fn retry_email(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiFailure> {
    mail::retry(&s, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn cancellation_fee(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<FeeInput>,
) -> Answer<checkouts::FeeView> {
    let key = idempotency_key(&headers)?;
    Ok(Json(fees::charge(&s, &token, &key, input).await?))
}

async fn payments_report(
    State(s): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiFailure> {
    let Query(q) = query
        .map_err(|e| ApiFailure::new(slotpay_core::ErrorCode::InvalidRequest, e.body_text()))?;
    let format = reports::parse_format(&q).map_err(ApiFailure::from)?;
    let rows = reports::rows(&s, &id, &q).await?;
    Ok(match format {
        Format::Json => Json(serde_json::json!({ "data": rows })).into_response(),
        Format::Csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"slotpay-payments-{id}.csv\""),
                ),
            ],
            reports::csv(&rows),
        )
            .into_response(),
    })
}

async fn create_endpoint(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<EndpointInput>,
) -> Result<(StatusCode, Json<EndpointView>), ApiFailure> {
    Ok((
        StatusCode::CREATED,
        Json(endpoints::create(&s, input).await?),
    ))
}

async fn list_endpoints(State(s): State<AppState>) -> Answer<serde_json::Value> {
    let data = endpoints::list(&s).await?;
    Ok(Json(serde_json::json!({ "data": data })))
}

async fn get_endpoint(State(s): State<AppState>, Path(id): Path<String>) -> Answer<EndpointView> {
    Ok(Json(endpoints::get(&s, &id).await?))
}

async fn update_endpoint(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<EndpointPatch>,
) -> Answer<EndpointView> {
    Ok(Json(endpoints::update(&s, &id, patch).await?))
}

async fn delete_endpoint(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<serde_json::Value> {
    endpoints::delete(&s, &id).await?;
    Ok(Json(serde_json::json!({ "id": id, "deleted": true })))
}

async fn rotate_endpoint_secret(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<EndpointView> {
    Ok(Json(endpoints::rotate_secret(&s, &id).await?))
}

async fn reveal_endpoint_secret(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<EndpointView> {
    Ok(Json(endpoints::reveal_secret(&s, &id).await?))
}

async fn list_events(
    State(s): State<AppState>,
    query: Result<Query<EventQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer<EventList> {
    let Query(q) = query
        .map_err(|e| ApiFailure::new(slotpay_core::ErrorCode::InvalidRequest, e.body_text()))?;
    Ok(Json(events::list(&s, q).await?))
}

async fn get_event(State(s): State<AppState>, Path(id): Path<String>) -> Answer<EventView> {
    Ok(Json(events::get(&s, &id).await?))
}

async fn resend_event(State(s): State<AppState>, Path(id): Path<String>) -> Answer<EventView> {
    Ok(Json(events::resend(&s, &id).await?))
}
