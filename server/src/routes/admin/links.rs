//! Payment links: the list (each URL in a read-only field with a copy button, its status
//! and expiry), create one for an amount and a description or for a service, send one
//! again (a new expiry), cancel one (shared with the payments' cancel).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;

use super::form::{same, Fields};
use super::views::{CheckoutRow, Local};
use super::{done, merchant_chrome, render, safe_next, Chrome, FormData, Page};
use crate::admin::sessions::{Flash, Session};
use crate::domain::catalogue::{self, ServiceView};
use crate::domain::checkouts::{self, AmountField, CheckoutInput, ListQuery, ResendInput};
use crate::domain::{mail, DomainError};
use crate::state::AppState;

/// Expiry choices in days.
const EXPIRY_DAYS: &[u32] = &[1, 3, 7, 14, 30];

#[derive(Template)]
#[template(path = "admin/links.html")]
struct ListPage {
    lang: &'static str,
    chrome: Chrome,
    merchant_id: String,
    links: Vec<CheckoutRow>,
    /// This server sends emails: "Resend" emails the link to a client whose address is known.
    emails: bool,
}

#[derive(Template)]
#[template(path = "admin/link_form.html")]
struct FormPage {
    lang: &'static str,
    chrome: Chrome,
    merchant_id: String,
    services: Vec<ServiceView>,
    expiry_days: &'static [u32],
    f: Fields,
}

fn base(merchant_id: &str) -> String {
    format!("/admin/merchants/{merchant_id}/links")
}

/// `GET .../links`.
pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let (chrome, merchant) = merchant_chrome(&state, &session, &merchant_id, "links").await?;
    let query = ListQuery {
        link: Some(true),
        ..ListQuery::default()
    };
    let l = Local::of(&merchant);
    let links = checkouts::list(&state, &merchant.id, query)
        .await?
        .iter()
        .map(|c| CheckoutRow::of(c, &l))
        .collect();
    let page = ListPage {
        lang: "en",
        chrome,
        merchant_id: merchant.id,
        links,
        emails: mail::enabled(&state),
    };
    render(StatusCode::OK, &page)
}

async fn form_page(
    state: &AppState,
    session: &Session,
    merchant_id: &str,
    f: Fields,
    status: StatusCode,
) -> Page {
    let (chrome, merchant) = merchant_chrome(state, session, merchant_id, "links").await?;
    let services = catalogue::list(state, &merchant.id).await?;
    let page = FormPage {
        lang: "en",
        chrome,
        merchant_id: merchant.id,
        services,
        expiry_days: EXPIRY_DAYS,
        f,
    };
    render(status, &page)
}

/// `GET .../links/new`.
pub async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
) -> Page {
    let mut f = Fields::default();
    f.set("currency", "EUR").set("expires_in_days", "7");
    form_page(&state, &session, &merchant_id, f, StatusCode::OK).await
}

/// `POST .../links`: creates a payment link.
pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(merchant_id): Path<String>,
) -> Page {
    let mut f = Fields::default();
    f.keep(
        &form,
        &[
            "description",
            "amount",
            "currency",
            "service_id",
            "customer_email",
            "booking_ref",
            "expires_in_days",
        ],
    );
    let service_id = form.given("service_id");
    let amount = form.given("amount");
    let days = form
        .text("expires_in_days")
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|d| EXPIRY_DAYS.contains(d));
    let Some(days) = days else {
        f.refuse(
            Some("expires_in_days"),
            "invalid_request",
            "Choose how long the link stays valid",
        );
        return form_page(
            &state,
            &session,
            &merchant_id,
            f,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let input = CheckoutInput {
        // For a service with no amount typed, the service's prepayment in its currency.
        currency: if service_id.is_some() && amount.is_none() {
            None
        } else {
            form.given("currency")
        },
        amount: amount.map(AmountField::Decimal),
        description: form.given("description"),
        booking_ref: form.given("booking_ref"),
        customer_email: form.given("customer_email"),
        link: true,
        expires_in: Some(i64::from(days) * 86_400),
        capture: false,
        service_id,
    };
    match checkouts::create(&state, &merchant_id, input).await {
        Ok(c) => {
            let amount = Local::load(&state, &merchant_id)
                .await?
                .money(c.amount.minor(), c.amount.currency());
            done(
                &state,
                &session,
                vec![Flash::success(format!(
                    "Payment link created for {amount}: {}",
                    c.url.unwrap_or_default()
                ))],
                &base(&merchant_id),
            )
            .await
        }
        Err(e @ DomainError::NotFound("merchant")) => Err(e.into()),
        Err(e) => {
            f.refuse_domain(e, &same);
            form_page(
                &state,
                &session,
                &merchant_id,
                f,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /admin/checkouts/{token}/send-link`: emails the payment link to the address given.
pub async fn send(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(token): Path<String>,
) -> Page {
    let input = mail::SendLinkInput {
        email: form.given("email"),
    };
    let flash = match mail::send_link(&state, &token, input).await {
        Ok(e) => Flash::success(format!("Payment link emailed to {}", e.recipient)),
        Err(e @ DomainError::Refused(_)) => Flash::error(super::views::public_message(e)),
        Err(e) => return Err(e.into()),
    };
    done(
        &state,
        &session,
        vec![flash],
        &format!("/admin/checkouts/{token}"),
    )
    .await
}

/// `POST /admin/emails/{email_id}/retry`: a failed email sent again.
pub async fn retry_email(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(email_id): Path<String>,
) -> Page {
    let flash = match mail::retry(&state, &email_id).await {
        Ok(()) => Flash::success("The email is being sent again"),
        Err(e @ DomainError::Refused(_)) => Flash::error(super::views::public_message(e)),
        Err(e) => return Err(e.into()),
    };
    let to = safe_next(form.get("back").or(Some("/admin/merchants")));
    done(&state, &session, vec![flash], &to).await
}

/// `POST /admin/checkouts/{token}/resend`: a new expiry (7 days).
pub async fn resend(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(token): Path<String>,
) -> Page {
    let resent = checkouts::resend(&state, &token, ResendInput::default()).await;
    let until = match &resent {
        Ok(c) => Local::load(&state, &c.merchant_id)
            .await?
            .when_opt(c.expires_at),
        Err(_) => String::new(),
    };
    let flash = match resent {
        // With emails on and the client's address known, the link goes to the client again.
        Ok(c) if mail::enabled(&state) && c.customer_email.is_some() => {
            match mail::send_link(&state, &token, mail::SendLinkInput::default()).await {
                Ok(e) => Flash::success(format!(
                    "Payment link sent again to {}: it is valid until {}",
                    e.recipient, until
                )),
                Err(e @ DomainError::Refused(_)) => Flash::error(format!(
                    "Payment link renewed until {until}, but not emailed: {}",
                    super::views::public_message(e)
                )),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(_) => Flash::success(format!(
            "Payment link renewed: it is valid until {until} (send it to the client again)"
        )),
        Err(e @ DomainError::Refused(_)) => Flash::error(super::views::public_message(e)),
        Err(e) => return Err(e.into()),
    };
    let to = safe_next(
        form.get("back")
            .or(Some(&format!("/admin/checkouts/{token}"))),
    );
    done(&state, &session, vec![flash], &to).await
}
