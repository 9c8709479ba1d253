//! The platform API under `/v1/admin`, behind the admin bearer token (compared in constant
//! time): merchants (and their uploaded logo, the one body that is not JSON), their integration (`POST` adds and verifies, `PUT` adds or edits), their services, their checkouts (create, list, view,
//! resend, cancel, refund, capture, cancellation fee) and the payments report. Each handler
//! calls the domain.

use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use slotpay_core::{CheckoutToken, ErrorCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiJson;
use crate::domain::catalogue::{self, ServiceDeleted, ServiceInput, ServiceView};
use crate::domain::checkouts::{
    self, CheckoutAdminView, CheckoutInput, EmailView, FeeView, ListQuery, ResendInput,
};
use crate::domain::endpoints::{self, EndpointInput, EndpointPatch, EndpointView};
use crate::domain::events::{self, EventList, EventQuery, EventView};
use crate::domain::fees::{self, FeeInput};
use crate::domain::integrations::{self, IntegrationDeleted, IntegrationInput, IntegrationView};
use crate::domain::mail::{self, SendLinkInput};
use crate::domain::merchants::{self, MerchantDeleted, MerchantInput, MerchantView};
use crate::domain::payments::{self, CaptureInput};
use crate::domain::refunds::{self, RefundInput};
use crate::domain::reports::{self, Format, ReportQuery, ReportRow};
use crate::error::ApiFailure;
use crate::schemas::{EmailId, EndpointId, EventId, List, MerchantId, ServiceId};
use crate::state::AppState;

type Answer<T> = Result<Json<T>, ApiFailure>;

/// The answer to an endpoint's deletion.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct EndpointDeleted {
    /// The endpoint.
    id: String,
    /// Always true.
    deleted: bool,
}

/// The routes, described.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_merchant, list_merchants))
        .routes(routes!(get_merchant, update_merchant, delete_merchant))
        .merge(
            // An image is larger than the JSON bodies the rest of the API takes.
            OpenApiRouter::new()
                .routes(routes!(upload_logo, delete_logo))
                .layer(DefaultBodyLimit::max(crate::logo::UPLOAD_LIMIT)),
        )
        .routes(routes!(
            get_integration,
            add_integration,
            set_integration,
            delete_integration
        ))
        .routes(routes!(verify))
        .routes(routes!(activate))
        .routes(routes!(deactivate))
        .routes(routes!(create_service, list_services))
        .routes(routes!(get_service, update_service, delete_service))
        .routes(routes!(create_checkout, list_checkouts))
        .routes(routes!(payments_report))
        .routes(routes!(get_checkout))
        .routes(routes!(refund))
        .routes(routes!(capture))
        .routes(routes!(cancel))
        .routes(routes!(resend))
        .routes(routes!(send_link))
        .routes(routes!(retry_email))
        .routes(routes!(cancellation_fee))
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(rotate_endpoint_secret))
        .routes(routes!(reveal_endpoint_secret))
        .routes(routes!(list_events))
        .routes(routes!(get_event))
        .routes(routes!(resend_event))
}

/// The routes, with the bearer-token check.
pub fn router(state: AppState) -> Router<AppState> {
    routes()
        .split_for_parts()
        .0
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

/// Adds a merchant.
#[utoipa::path(
    post,
    path = "/v1/admin/merchants",
    tag = "merchants",
    request_body(content = MerchantInput, example = json!({"name": "Salon Léa", "allowed_origins": ["https://salon.example"], "locale": "fr", "time_zone": "Europe/Paris", "brand_color": "#2f6f5e", "corners": "large", "font": "serif", "color_scheme": "dark"})),
    responses((status = 201, description = "The merchant.", body = MerchantView)),
    security(("admin_token" = [])),
)]
async fn create_merchant(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<MerchantInput>,
) -> Result<(StatusCode, Json<MerchantView>), ApiFailure> {
    Ok((
        StatusCode::CREATED,
        Json(merchants::create(&s, input).await?),
    ))
}

/// Every merchant.
#[utoipa::path(
    get,
    path = "/v1/admin/merchants",
    tag = "merchants",
    responses((status = 200, description = "The merchants, oldest first.", body = List<MerchantView>)),
    security(("admin_token" = [])),
)]
async fn list_merchants(State(s): State<AppState>) -> Answer<List<MerchantView>> {
    Ok(Json(List {
        data: merchants::list(&s).await?,
    }))
}

/// One merchant.
#[utoipa::path(
    get,
    path = "/v1/admin/merchants/{merchant_id}",
    tag = "merchants",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    responses((status = 200, description = "The merchant.", body = MerchantView)),
    security(("admin_token" = [])),
)]
async fn get_merchant(State(s): State<AppState>, Path(id): Path<String>) -> Answer<MerchantView> {
    Ok(Json(merchants::get(&s, &id).await?))
}

/// Changes the fields given; the others are kept.
#[utoipa::path(
    patch,
    path = "/v1/admin/merchants/{merchant_id}",
    tag = "merchants",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    request_body(content = MerchantInput, example = json!({"font": "humanist", "color_scheme": ""})),
    responses((status = 200, description = "The merchant.", body = MerchantView)),
    security(("admin_token" = [])),
)]
async fn update_merchant(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MerchantInput>,
) -> Answer<MerchantView> {
    Ok(Json(merchants::update(&s, &id, input).await?))
}

/// Deletes a merchant without payments, with its integration (and its webhook endpoint at Stripe) and services.
#[utoipa::path(
    delete,
    path = "/v1/admin/merchants/{merchant_id}",
    tag = "merchants",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    responses((status = 200, description = "Deleted.", body = MerchantDeleted)),
    security(("admin_token" = [])),
)]
async fn delete_merchant(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<MerchantDeleted> {
    Ok(Json(merchants::delete(&s, &id).await?))
}

/// Uploads the merchant's logo (replacing any), which slotpay serves and shows before `logo_url`.
///
/// The body is the image's bytes, sent with its `Content-Type`: a PNG, JPEG, WebP or GIF image
/// of at most 256 KiB. Its first bytes decide its type: anything else (SVG included, as it can
/// carry script) is refused with `invalid_logo`, as is a `Content-Type` that names another type
/// (`application/octet-stream` leaves the bytes to say); a larger one with `payload_too_large`.
/// Nothing is stored when it is refused. The answer's `logo_upload.url` is where slotpay serves
/// it, a new address for each image (`/logos/{merchant_id}/{sha256}.{ext}`).
#[utoipa::path(
    put,
    path = "/v1/admin/merchants/{merchant_id}/logo",
    tag = "merchants",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    request_body(
        description = "The image's bytes.",
        content(
            (crate::schemas::ImageBytes = "image/png"),
            (crate::schemas::ImageBytes = "image/jpeg"),
            (crate::schemas::ImageBytes = "image/webp"),
            (crate::schemas::ImageBytes = "image/gif"),
        ),
    ),
    responses((status = 200, description = "The merchant, with its `logo_upload` and the `logo` it shows.", body = MerchantView)),
    security(("admin_token" = [])),
)]
async fn upload_logo(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Answer<MerchantView> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            crate::guards::payload_too_large(crate::logo::UPLOAD_LIMIT)
        } else {
            ApiFailure::from(
                slotpay_core::ApiError::new(
                    ErrorCode::InvalidLogo,
                    "The image could not be read: send its bytes as the body",
                )
                .with_param("logo"),
            )
        }
    })?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    Ok(Json(
        merchants::upload_logo(&s, &id, declared.as_deref(), body).await?,
    ))
}

/// Removes the merchant's uploaded logo: its address stops answering, and pages and receipts show `logo_url` again (if set). Removing none changes nothing.
#[utoipa::path(
    delete,
    path = "/v1/admin/merchants/{merchant_id}/logo",
    tag = "merchants",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    responses((status = 200, description = "The merchant, without an uploaded logo.", body = MerchantView)),
    security(("admin_token" = [])),
)]
async fn delete_logo(State(s): State<AppState>, Path(id): Path<String>) -> Answer<MerchantView> {
    Ok(Json(merchants::remove_logo(&s, &id).await?))
}

/// The merchant's Stripe integration (keys masked).
#[utoipa::path(
    get,
    path = "/v1/admin/merchants/{merchant_id}/integration",
    tag = "integration",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    responses((status = 200, description = "The integration.", body = IntegrationView)),
    security(("admin_token" = [])),
)]
async fn get_integration(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<IntegrationView> {
    Ok(Json(integrations::get(&s, &id).await?))
}

/// Adds or edits the integration; absent fields are kept.
#[utoipa::path(
    put,
    path = "/v1/admin/merchants/{merchant_id}/integration",
    tag = "integration",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    request_body(content = IntegrationInput, example = json!({"publishable_key": "pk_test_51Hs0meTestKey", "secret_key": "rk_test_51Hs0meRestrictedKey", "mode": "sandbox", "payment_methods": ["card", "ideal"]})),
    responses((status = 200, description = "The integration.", body = IntegrationView)),
    security(("admin_token" = [])),
)]
async fn set_integration(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<IntegrationInput>,
) -> Answer<IntegrationView> {
    Ok(Json(integrations::set(&s, &id, input).await?))
}

/// Adds an integration (409 when there is one) and verifies its key at once: a key
/// Stripe refuses is not added (the admin pages' "Save integration").
#[utoipa::path(
    post,
    path = "/v1/admin/merchants/{merchant_id}/integration",
    tag = "integration",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    request_body = IntegrationInput,
    responses((status = 201, description = "The integration, verified.", body = IntegrationView)),
    security(("admin_token" = [])),
)]
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

/// Deletes the integration, removing the webhook endpoint slotpay registered at Stripe.
#[utoipa::path(
    delete,
    path = "/v1/admin/merchants/{merchant_id}/integration",
    tag = "integration",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    responses((status = 200, description = "Deleted.", body = IntegrationDeleted)),
    security(("admin_token" = [])),
)]
async fn delete_integration(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<IntegrationDeleted> {
    Ok(Json(integrations::delete(&s, &id).await?))
}

/// Checks the keys with Stripe now.
#[utoipa::path(
    post,
    path = "/v1/admin/merchants/{merchant_id}/integration/verify",
    tag = "integration",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    responses((status = 200, description = "The integration with the verification's outcome.", body = IntegrationView)),
    security(("admin_token" = [])),
)]
async fn verify(State(s): State<AppState>, Path(id): Path<String>) -> Answer<IntegrationView> {
    Ok(Json(integrations::verify(&s, &id).await?))
}

/// Registers slotpay's webhook endpoint at Stripe and turns payments on.
#[utoipa::path(
    post,
    path = "/v1/admin/merchants/{merchant_id}/integration/activate",
    tag = "integration",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    responses((status = 200, description = "The integration.", body = IntegrationView)),
    security(("admin_token" = [])),
)]
async fn activate(State(s): State<AppState>, Path(id): Path<String>) -> Answer<IntegrationView> {
    Ok(Json(integrations::activate(&s, &id).await?))
}

/// Turns payments off (the keys are kept).
#[utoipa::path(
    post,
    path = "/v1/admin/merchants/{merchant_id}/integration/deactivate",
    tag = "integration",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    responses((status = 200, description = "The integration.", body = IntegrationView)),
    security(("admin_token" = [])),
)]
async fn deactivate(State(s): State<AppState>, Path(id): Path<String>) -> Answer<IntegrationView> {
    Ok(Json(integrations::deactivate(&s, &id).await?))
}

/// Adds a service to the catalogue.
#[utoipa::path(
    post,
    path = "/v1/admin/merchants/{merchant_id}/services",
    tag = "services",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    request_body(content = ServiceInput, example = json!({"name": "Haircut", "price": "25.00", "currency": "eur", "prepayment": {"type": "percent", "percent": 30}})),
    responses((status = 201, description = "The service.", body = ServiceView)),
    security(("admin_token" = [])),
)]
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

/// The merchant's services.
#[utoipa::path(
    get,
    path = "/v1/admin/merchants/{merchant_id}/services",
    tag = "services",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    responses((status = 200, description = "The services.", body = List<ServiceView>)),
    security(("admin_token" = [])),
)]
async fn list_services(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<List<ServiceView>> {
    Ok(Json(List {
        data: catalogue::list(&s, &id).await?,
    }))
}

/// One service.
#[utoipa::path(
    get,
    path = "/v1/admin/merchants/{merchant_id}/services/{service_id}",
    tag = "services",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`)."), ("service_id" = ServiceId, Path, description = "The service (`svc_...`).")),
    responses((status = 200, description = "The service.", body = ServiceView)),
    security(("admin_token" = [])),
)]
async fn get_service(
    State(s): State<AppState>,
    Path((id, service)): Path<(String, String)>,
) -> Answer<ServiceView> {
    Ok(Json(catalogue::get(&s, &id, &service).await?))
}

/// Changes the fields given.
#[utoipa::path(
    patch,
    path = "/v1/admin/merchants/{merchant_id}/services/{service_id}",
    tag = "services",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`)."), ("service_id" = ServiceId, Path, description = "The service (`svc_...`).")),
    request_body = ServiceInput,
    responses((status = 200, description = "The service.", body = ServiceView)),
    security(("admin_token" = [])),
)]
async fn update_service(
    State(s): State<AppState>,
    Path((id, service)): Path<(String, String)>,
    ApiJson(input): ApiJson<ServiceInput>,
) -> Answer<ServiceView> {
    Ok(Json(catalogue::update(&s, &id, &service, input).await?))
}

/// Deletes a service (its checkouts keep their amounts).
#[utoipa::path(
    delete,
    path = "/v1/admin/merchants/{merchant_id}/services/{service_id}",
    tag = "services",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`)."), ("service_id" = ServiceId, Path, description = "The service (`svc_...`).")),
    responses((status = 200, description = "Deleted.", body = ServiceDeleted)),
    security(("admin_token" = [])),
)]
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

/// Creates a checkout for the widget, or a payment link (`link: true`) with its `/pay/{token}` page.
#[utoipa::path(
    post,
    path = "/v1/admin/merchants/{merchant_id}/checkouts",
    tag = "payments",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`).")),
    request_body(content = CheckoutInput, example = json!({"amount": 3000, "currency": "eur", "description": "Colour, Friday 10:00", "booking_ref": "BK-1042", "customer_email": "lea@example.com", "expires_in": 900})),
    responses((status = 201, description = "The checkout.", body = CheckoutAdminView)),
    security(("admin_token" = [])),
)]
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

/// The merchant's checkouts, newest first, filtered.
#[utoipa::path(
    get,
    path = "/v1/admin/merchants/{merchant_id}/checkouts",
    tag = "payments",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`)."), ListQuery),
    responses((status = 200, description = "The checkouts.", body = List<CheckoutAdminView>)),
    security(("admin_token" = [])),
)]
async fn list_checkouts(
    State(s): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer<List<CheckoutAdminView>> {
    let Query(q) = query
        .map_err(|e| ApiFailure::new(slotpay_core::ErrorCode::InvalidRequest, e.body_text()))?;
    Ok(Json(List {
        data: checkouts::list(&s, &id, q).await?,
    }))
}

/// A checkout with its PaymentIntent, events, refunds, disputes, cancellation fees and emails.
#[utoipa::path(
    get,
    path = "/v1/admin/checkouts/{token}",
    tag = "payments",
    params(("token" = CheckoutToken, Path, description = "The checkout's token.")),
    responses((status = 200, description = "The checkout.", body = CheckoutAdminView)),
    security(("admin_token" = [])),
)]
async fn get_checkout(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> Answer<CheckoutAdminView> {
    Ok(Json(checkouts::get(&s, &token).await?))
}

/// Refunds all that remains (no `amount`) or part of it; never more than remains.
#[utoipa::path(
    post,
    path = "/v1/admin/checkouts/{token}/refunds",
    tag = "payments",
    params(("token" = CheckoutToken, Path, description = "The checkout's token."), ("Idempotency-Key" = String, Header, description = "One key per operation; the same key answers the same again.")),
    request_body(content = Option<RefundInput>, example = json!({"amount": 1250, "reason": "requested_by_customer"})),
    responses((status = 200, description = "The checkout with the refund.", body = CheckoutAdminView)),
    security(("admin_token" = [])),
)]
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

/// Captures an authorisation, all of it or `amount`.
#[utoipa::path(
    post,
    path = "/v1/admin/checkouts/{token}/capture",
    tag = "payments",
    params(("token" = CheckoutToken, Path, description = "The checkout's token.")),
    request_body = Option<CaptureInput>,
    responses((status = 200, description = "The checkout, paid.", body = CheckoutAdminView)),
    security(("admin_token" = [])),
)]
async fn capture(
    State(s): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Answer<CheckoutAdminView> {
    let input: CaptureInput = optional_body(&body)?;
    Ok(Json(payments::capture(&s, &token, input).await?))
}

/// Cancels an unpaid checkout or link, or releases an authorisation.
#[utoipa::path(
    post,
    path = "/v1/admin/checkouts/{token}/cancel",
    tag = "payments",
    params(("token" = CheckoutToken, Path, description = "The checkout's token.")),
    responses((status = 200, description = "The checkout, canceled.", body = CheckoutAdminView)),
    security(("admin_token" = [])),
)]
async fn cancel(State(s): State<AppState>, Path(token): Path<String>) -> Answer<CheckoutAdminView> {
    Ok(Json(payments::cancel(&s, &token).await?))
}

/// Renews an unpaid link's expiry.
#[utoipa::path(
    post,
    path = "/v1/admin/checkouts/{token}/resend",
    tag = "payments",
    params(("token" = CheckoutToken, Path, description = "The checkout's token.")),
    request_body = Option<ResendInput>,
    responses((status = 200, description = "The checkout with its new expiry.", body = CheckoutAdminView)),
    security(("admin_token" = [])),
)]
async fn resend(
    State(s): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Answer<CheckoutAdminView> {
    let input: ResendInput = optional_body(&body)?;
    Ok(Json(checkouts::resend(&s, &token, input).await?))
}

/// Emails an open payment link to `email`, or to the checkout's client email (needs SLOTPAY_SMTP_URL).
#[utoipa::path(
    post,
    path = "/v1/admin/checkouts/{token}/send-link",
    tag = "payments",
    params(("token" = CheckoutToken, Path, description = "The checkout's token.")),
    request_body = Option<SendLinkInput>,
    responses((status = 200, description = "The email, queued.", body = EmailView)),
    security(("admin_token" = [])),
)]
async fn send_link(
    State(s): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Answer<EmailView> {
    let input: SendLinkInput = optional_body(&body)?;
    Ok(Json(mail::send_link(&s, &token, input).await?))
}

/// Sends a failed email again.
#[utoipa::path(
    post,
    path = "/v1/admin/emails/{email_id}/retry",
    tag = "payments",
    params(("email_id" = EmailId, Path, description = "The email (`em_...`).")),
    responses((status = 204, description = "Queued again.")),
    security(("admin_token" = [])),
)]
async fn retry_email(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiFailure> {
    mail::retry(&s, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Charges the card saved at checkout a cancellation or no-show fee, up to what the client agreed to.
#[utoipa::path(
    post,
    path = "/v1/admin/checkouts/{token}/cancellation-fee",
    tag = "payments",
    params(("token" = CheckoutToken, Path, description = "The checkout's token."), ("Idempotency-Key" = String, Header, description = "One key per operation; the same key answers the same again.")),
    request_body = FeeInput,
    responses((status = 200, description = "The fee.", body = FeeView)),
    security(("admin_token" = [])),
)]
async fn cancellation_fee(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<FeeInput>,
) -> Answer<FeeView> {
    let key = idempotency_key(&headers)?;
    Ok(Json(fees::charge(&s, &token, &key, input).await?))
}

/// The payments report, as JSON or CSV.
#[utoipa::path(
    get,
    path = "/v1/admin/merchants/{merchant_id}/payments",
    tag = "payments",
    params(("merchant_id" = MerchantId, Path, description = "The merchant (`mer_...`)."), ReportQuery),
    responses((status = 200, description = "The rows (`format=json`, the default), or the same as CSV (`format=csv`).", content((List<ReportRow> = "application/json"), (String = "text/csv")))),
    security(("admin_token" = [])),
)]
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
        Format::Json => Json(List { data: rows }).into_response(),
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

/// Adds an endpoint for events to the platform; its signing secret is shown once.
#[utoipa::path(
    post,
    path = "/v1/admin/webhook-endpoints",
    tag = "events",
    request_body(content = EndpointInput, example = json!({"url": "https://booking.example/slotpay-events", "events": ["checkout.paid", "checkout.expired"], "description": "Booking backend"})),
    responses((status = 201, description = "The endpoint, with its secret.", body = EndpointView)),
    security(("admin_token" = [])),
)]
async fn create_endpoint(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<EndpointInput>,
) -> Result<(StatusCode, Json<EndpointView>), ApiFailure> {
    Ok((
        StatusCode::CREATED,
        Json(endpoints::create(&s, input).await?),
    ))
}

/// Every endpoint.
#[utoipa::path(
    get,
    path = "/v1/admin/webhook-endpoints",
    tag = "events",
    responses((status = 200, description = "The endpoints.", body = List<EndpointView>)),
    security(("admin_token" = [])),
)]
async fn list_endpoints(State(s): State<AppState>) -> Answer<List<EndpointView>> {
    Ok(Json(List {
        data: endpoints::list(&s).await?,
    }))
}

/// One endpoint.
#[utoipa::path(
    get,
    path = "/v1/admin/webhook-endpoints/{endpoint_id}",
    tag = "events",
    params(("endpoint_id" = EndpointId, Path, description = "The endpoint (`we_...`).")),
    responses((status = 200, description = "The endpoint.", body = EndpointView)),
    security(("admin_token" = [])),
)]
async fn get_endpoint(State(s): State<AppState>, Path(id): Path<String>) -> Answer<EndpointView> {
    Ok(Json(endpoints::get(&s, &id).await?))
}

/// Changes the fields given.
#[utoipa::path(
    patch,
    path = "/v1/admin/webhook-endpoints/{endpoint_id}",
    tag = "events",
    params(("endpoint_id" = EndpointId, Path, description = "The endpoint (`we_...`).")),
    request_body = EndpointPatch,
    responses((status = 200, description = "The endpoint.", body = EndpointView)),
    security(("admin_token" = [])),
)]
async fn update_endpoint(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<EndpointPatch>,
) -> Answer<EndpointView> {
    Ok(Json(endpoints::update(&s, &id, patch).await?))
}

/// Deletes an endpoint.
#[utoipa::path(
    delete,
    path = "/v1/admin/webhook-endpoints/{endpoint_id}",
    tag = "events",
    params(("endpoint_id" = EndpointId, Path, description = "The endpoint (`we_...`).")),
    responses((status = 200, description = "Deleted.", body = EndpointDeleted)),
    security(("admin_token" = [])),
)]
async fn delete_endpoint(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<EndpointDeleted> {
    endpoints::delete(&s, &id).await?;
    Ok(Json(EndpointDeleted { id, deleted: true }))
}

/// A new signing secret; the previous one keeps signing for 24 hours.
#[utoipa::path(
    post,
    path = "/v1/admin/webhook-endpoints/{endpoint_id}/rotate-secret",
    tag = "events",
    params(("endpoint_id" = EndpointId, Path, description = "The endpoint (`we_...`).")),
    responses((status = 200, description = "The endpoint, with its new secret.", body = EndpointView)),
    security(("admin_token" = [])),
)]
async fn rotate_endpoint_secret(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<EndpointView> {
    Ok(Json(endpoints::rotate_secret(&s, &id).await?))
}

/// The signing secret.
#[utoipa::path(
    post,
    path = "/v1/admin/webhook-endpoints/{endpoint_id}/reveal-secret",
    tag = "events",
    params(("endpoint_id" = EndpointId, Path, description = "The endpoint (`we_...`).")),
    responses((status = 200, description = "The endpoint, with its secret.", body = EndpointView)),
    security(("admin_token" = [])),
)]
async fn reveal_endpoint_secret(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Answer<EndpointView> {
    Ok(Json(endpoints::reveal_secret(&s, &id).await?))
}

/// Events sent to the platform, newest first.
#[utoipa::path(
    get,
    path = "/v1/admin/events",
    tag = "events",
    params(EventQuery),
    responses((status = 200, description = "The events.", body = EventList)),
    security(("admin_token" = [])),
)]
async fn list_events(
    State(s): State<AppState>,
    query: Result<Query<EventQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer<EventList> {
    let Query(q) = query
        .map_err(|e| ApiFailure::new(slotpay_core::ErrorCode::InvalidRequest, e.body_text()))?;
    Ok(Json(events::list(&s, q).await?))
}

/// One event with its deliveries and their attempts.
#[utoipa::path(
    get,
    path = "/v1/admin/events/{event_id}",
    tag = "events",
    params(("event_id" = EventId, Path, description = "The event (`evt_...`).")),
    responses((status = 200, description = "The event.", body = EventView)),
    security(("admin_token" = [])),
)]
async fn get_event(State(s): State<AppState>, Path(id): Path<String>) -> Answer<EventView> {
    Ok(Json(events::get(&s, &id).await?))
}

/// Sends an event again to every endpoint that wants it.
#[utoipa::path(
    post,
    path = "/v1/admin/events/{event_id}/resend",
    tag = "events",
    params(("event_id" = EventId, Path, description = "The event (`evt_...`).")),
    responses((status = 200, description = "The event.", body = EventView)),
    security(("admin_token" = [])),
)]
async fn resend_event(State(s): State<AppState>, Path(id): Path<String>) -> Answer<EventView> {
    Ok(Json(events::resend(&s, &id).await?))
}
