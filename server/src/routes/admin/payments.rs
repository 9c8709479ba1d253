//! Payments: the table with date and status filters and its CSV download (the report),
//! and each checkout's page: the Stripe PaymentIntent, the events received, refunds,
//! disputes and cancellation fees, with the actions its state allows: refund in full or in
//! part (the remaining amount shown), capture or cancel an authorisation, cancel an unpaid
//! checkout, charge a cancellation fee to the saved card. A refund (with Stripe's reason)
//! and a cancel first show a confirmation that states the amount and what follows; only
//! the confirmation acts. Refund and fee forms carry a nonce that the domain uses as the
//! idempotency key, so a form sent twice acts once. The
//! page also lists what was sent to the booking platform about the checkout: each event,
//! each endpoint's delivery of it with the last answer, and a button to send it again.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Extension;
use slotpay_core::{CheckoutStatus, Currency, IntegrationMode, Money};

use super::form::{minor_units, Fields};
use super::views::{status_label, CheckoutRow, Local};
use super::webhooks::{sent_of, SentEvent};
use super::{
    done, form_nonce, merchant_chrome, render, safe_next, AdminError, Chrome, ConfirmPage,
    FormData, Page,
};
use crate::admin::sessions::{Flash, Session};
use crate::domain::checkouts::{
    self, CheckoutAdminView, DisputeView, EmailView, EventView, FeeView, ListQuery, RefundView,
};
use crate::domain::fees::{self, FeeInput};
use crate::domain::payments::{self as payment_domain, CaptureInput};
use crate::domain::refunds::{self, RefundInput};
use crate::domain::reports::{self, ReportQuery};
use crate::domain::{integrations, DomainError};
use crate::model::{FeeStatus, RefundReason, RefundStatus};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin/payments.html")]
struct ListPage {
    lang: &'static str,
    chrome: Chrome,
    merchant_id: String,
    rows: Vec<CheckoutRow>,
    totals: Vec<Total>,
    statuses: Vec<(&'static str, &'static str)>,
    csv_href: String,
    f: Fields,
}

/// The money taken by the listed payments in one currency: what was captured, refunded,
/// Stripe's fees (counted in their own currency) and what stays. Open, failed, expired and
/// canceled payments took nothing and count nowhere.
struct Total {
    local: Local,
    currency: Currency,
    payments: usize,
    taken: i64,
    refunded: i64,
    fees: i64,
}

impl Total {
    fn shown(&self, minor: &i64) -> String {
        self.local.money(*minor, self.currency)
    }

    fn net(&self) -> String {
        self.shown(&(self.taken - self.refunded - self.fees))
    }
}

/// The totals of a list, by currency, in the order the currencies first appear.
fn totals(list: &[CheckoutAdminView], local: &Local) -> Vec<Total> {
    let entry = |by: &mut Vec<Total>, currency: Currency| -> usize {
        let i = match by.iter().position(|t| t.currency == currency) {
            Some(i) => i,
            None => {
                by.push(Total {
                    local: local.clone(),
                    currency,
                    payments: 0,
                    taken: 0,
                    refunded: 0,
                    fees: 0,
                });
                by.len() - 1
            }
        };
        i
    };
    let mut by = Vec::new();
    for c in list.iter().filter(|c| c.status.is_settled()) {
        let i = entry(&mut by, currency_of(c));
        let t = &mut by[i];
        t.payments += 1;
        t.taken += c.amount_captured;
        t.refunded += c.amount_refunded;
        if let (Some(fee), Some(cur)) = (c.stripe_fee, c.stripe_fee_currency) {
            let i = entry(&mut by, cur);
            by[i].fees += fee;
        }
    }
    by
}

/// A line of one of the detail page's tables.
struct Line {
    id: String,
    what: String,
    amount: String,
    status: String,
    when: String,
    note: String,
}

impl Line {
    fn event(e: &EventView, l: &Local) -> Line {
        Line {
            id: e.id.clone(),
            what: e.kind.clone(),
            amount: String::new(),
            status: if e.processed_at.is_some() {
                "processed".into()
            } else {
                "received".into()
            },
            when: l.when(e.received_at),
            note: String::new(),
        }
    }

    fn refund(r: &RefundView, l: &Local) -> Line {
        Line {
            id: r.stripe_refund_id.clone().unwrap_or_else(|| r.id.clone()),
            what: if r.external {
                "Made in the Stripe Dashboard".into()
            } else {
                "Refund".into()
            },
            amount: l.money(r.amount, r.currency),
            status: r.status.as_str().to_owned(),
            when: l.when(r.created_at),
            note: match (&r.failure_message, r.reason) {
                (Some(failure), _) => failure.clone(),
                (None, Some(reason)) => reason.label().to_owned(),
                (None, None) => String::new(),
            },
        }
    }

    fn email(e: &EmailView, l: &Local) -> Line {
        Line {
            id: e.id.clone(),
            what: format!(
                "{} to {}",
                match e.kind {
                    crate::model::EmailKind::Link => "Payment link",
                    crate::model::EmailKind::Receipt => "Receipt",
                },
                e.recipient
            ),
            amount: String::new(),
            status: e.status.as_str().to_owned(),
            when: l.when(e.sent_at.unwrap_or(e.created_at)),
            note: e.last_error.clone().unwrap_or_default(),
        }
    }

    fn dispute(d: &DisputeView, l: &Local) -> Line {
        Line {
            id: d.id.clone(),
            what: d.reason.clone().unwrap_or_else(|| "Dispute".into()),
            amount: l.money(d.amount, d.currency),
            status: d.status.as_str().to_owned(),
            when: l.when(d.created),
            note: String::new(),
        }
    }

    fn fee(x: &FeeView, l: &Local) -> Line {
        Line {
            id: x.payment_intent_id.clone().unwrap_or_else(|| x.id.clone()),
            what: "Cancellation fee".into(),
            amount: l.money(x.amount, x.currency),
            status: x.status.as_str().to_owned(),
            when: l.when(x.created_at),
            note: x
                .error
                .as_ref()
                .and_then(|e| e.message.clone())
                .unwrap_or_default(),
        }
    }

    /// The lines of a detail list (none when the view has no details).
    fn all<T>(items: &Option<Vec<T>>, l: &Local, line: fn(&T, &Local) -> Line) -> Vec<Line> {
        items.iter().flatten().map(|x| line(x, l)).collect()
    }
}

#[derive(Template)]
#[template(path = "admin/payment.html")]
struct DetailsPage {
    lang: &'static str,
    chrome: Chrome,
    c: CheckoutAdminView,
    status: &'static str,
    amount: String,
    captured: String,
    authorized: String,
    refunded: String,
    refundable: String,
    stripe_fee: String,
    card: String,
    created: String,
    paid: String,
    expires: String,
    events: Vec<Line>,
    refunds: Vec<Line>,
    disputes: Vec<Line>,
    fees: Vec<Line>,
    /// The events sent to the platform about the checkout, newest first.
    sent: Vec<SentEvent>,
    /// Whether older events were left out of `sent`.
    sent_more: bool,
    can_refund: bool,
    can_capture: bool,
    can_cancel: bool,
    can_fee: bool,
    /// Money moved (paid or authorised, refunded or not): the captured, refunded and fee
    /// rows mean something.
    settled: bool,
    /// The client can still pay it: its expiry and link are shown.
    payable: bool,
    /// The link can be emailed from here: emails are on, and the client can start paying it
    /// (not while a payment is in progress or awaiting authentication).
    can_email: bool,
    /// The emails to the client about it.
    emails: Vec<Line>,
    /// The failed ones (id, what), each with a "Send again" button.
    failed_emails: Vec<(String, String)>,
    /// Stripe's Dashboard for the integration's mode, where ids link to.
    dashboard: Option<&'static str>,
    /// Stripe's refund reasons, for the refund form.
    reasons: &'static [RefundReason],
    /// Too many declined cards: the checkout takes no more payments.
    locked: bool,
    can_resend: bool,
    f: Fields,
}

/// The filters, as typed.
/// The table's filters, as given (blank ones left out), in the order the form shows them.
const FILTERS: [&str; 4] = ["q", "from", "to", "status"];

fn filters(q: &HashMap<String, String>) -> Vec<(&'static str, String)> {
    FILTERS
        .iter()
        .filter_map(|k| {
            let v = q.get(*k)?.trim();
            (!v.is_empty()).then(|| (*k, v.to_owned()))
        })
        .collect()
}

fn filter<'a>(given: &'a [(&str, String)], name: &str) -> Option<&'a str> {
    given
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}

/// "Until" is inclusive on the page: a date means up to the end of that day (the domain's
/// bound is exclusive).
fn until_exclusive(to: &str) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(to, &format) {
        Ok(d) => d
            .next_day()
            .and_then(|n| n.format(&format).ok())
            .unwrap_or_else(|| to.to_owned()),
        Err(_) => to.to_owned(),
    }
}

/// `GET .../payments?from=&to=&status=`.
pub async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(merchant_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let (chrome, merchant) = merchant_chrome(&state, &session, &merchant_id, "payments").await?;
    let given = filters(&q);
    let mut f = Fields::default();
    for (k, v) in &given {
        f.set(k, v.clone());
    }
    let text = |name| filter(&given, name).map(str::to_owned);
    let query = ListQuery {
        status: text("status"),
        from: text("from"),
        to: filter(&given, "to").map(until_exclusive),
        q: text("q"),
        limit: Some(500),
        ..ListQuery::default()
    };
    let (list, code) = match checkouts::list(&state, &merchant.id, query).await {
        Ok(list) => (list, StatusCode::OK),
        Err(e @ DomainError::NotFound(_)) => return Err(e.into()),
        Err(e) => {
            f.refuse_domain(e, &|p| Some(p.to_owned()));
            (Vec::new(), StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let local = Local::of(&merchant);
    let totals = totals(&list, &local);
    let rows = list.iter().map(|c| CheckoutRow::of(c, &local)).collect();
    let mut csv = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &given {
        csv.append_pair(k, v);
    }
    let query = csv.finish();
    let page = ListPage {
        lang: "en",
        chrome,
        csv_href: format!(
            "/admin/merchants/{}/payments.csv{}{query}",
            merchant.id,
            if query.is_empty() { "" } else { "?" }
        ),
        merchant_id: merchant.id,
        rows,
        totals,
        statuses: CheckoutStatus::ALL
            .iter()
            .map(|s| (s.as_str(), status_label(*s)))
            .collect(),
        f,
    };
    render(code, &page)
}

/// `GET .../payments.csv`: the report as CSV, with the table's filters.
pub async fn csv(
    State(state): State<AppState>,
    Path(merchant_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let given = filters(&q);
    let text = |name| filter(&given, name).map(str::to_owned);
    let query = ReportQuery {
        from: text("from"),
        to: filter(&given, "to").map(until_exclusive),
        status: text("status"),
        q: text("q"),
        format: Some("csv".into()),
    };
    let rows = reports::rows(&state, &merchant_id, &query).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"slotpay-payments-{merchant_id}.csv\""),
            ),
        ],
        reports::csv(&rows),
    )
        .into_response())
}

fn currency_of(c: &CheckoutAdminView) -> Currency {
    c.amount.currency()
}

async fn details_page(
    state: &AppState,
    session: &Session,
    token: &str,
    mut f: Fields,
    status: StatusCode,
) -> Page {
    let c = checkouts::get(state, token).await?;
    let (chrome, merchant) = merchant_chrome(state, session, &c.merchant_id, "payments").await?;
    let l = Local::of(&merchant);
    let m = |minor: i64| l.money(minor, currency_of(&c));
    f.set("refund_key", form_nonce())
        .set("fee_key", form_nonce());
    if f.value("fee_amount").is_empty() {
        if let Some(offer) = c.cancellation_fee_offer {
            f.set("fee_amount", super::views::decimal(offer, currency_of(&c)));
        }
    }
    let row = CheckoutRow::of(&c, &l);
    let (sent, sent_more) = sent_of(state, &c.token, &l).await?;
    // Stripe's Dashboard, in the mode of the merchant's integration (test data for Sandbox).
    let dashboard = match integrations::stored(state, &c.merchant_id)
        .await?
        .map(|i| i.mode)
    {
        Some(IntegrationMode::Live) => Some("https://dashboard.stripe.com"),
        Some(IntegrationMode::Sandbox) => Some("https://dashboard.stripe.com/test"),
        _ => None,
    };
    let page = DetailsPage {
        lang: "en",
        chrome,
        status: status_label(c.status),
        amount: m(c.amount.minor()),
        captured: m(c.amount_captured),
        authorized: m(c.amount_authorized),
        refunded: m(c.amount_refunded),
        refundable: m(c.amount_refundable),
        stripe_fee: match (c.stripe_fee, c.stripe_fee_currency) {
            (Some(fee), Some(cur)) => l.money(fee, cur),
            _ => "—".into(),
        },
        created: l.when(c.created_at),
        paid: l.when_opt(c.paid_at),
        expires: l.when_opt(c.expires_at),
        events: Line::all(&c.events, &l, Line::event),
        refunds: Line::all(&c.refunds, &l, Line::refund),
        disputes: Line::all(&c.disputes, &l, Line::dispute),
        fees: Line::all(&c.cancellation_fees, &l, Line::fee),
        sent,
        sent_more,
        can_refund: matches!(
            c.status,
            CheckoutStatus::Paid | CheckoutStatus::PartiallyRefunded
        ) && c.amount_refundable > 0,
        can_capture: c.status == CheckoutStatus::Authorized,
        can_cancel: row.cancelable,
        can_fee: c.card_saved,
        reasons: RefundReason::ALL,
        dashboard,
        can_email: crate::domain::mail::enabled(state)
            && c.link
            && matches!(c.status, CheckoutStatus::Open | CheckoutStatus::Failed),
        emails: Line::all(&c.emails, &l, Line::email),
        failed_emails: c
            .emails
            .iter()
            .flatten()
            .filter(|e| e.status == crate::model::EmailStatus::Failed)
            .map(|e| (e.id.clone(), Line::email(e, &l).what))
            .collect(),
        settled: c.status.is_settled(),
        payable: row.payable,
        locked: c.declined_attempts >= i64::from(state.config.max_declines_per_checkout)
            && !c.status.is_settled(),
        can_resend: c.link && row.resendable,
        card: row.card,
        c,
        f,
    };
    render(status, &page)
}

/// `GET /admin/checkouts/{token}`.
pub async fn details(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(token): Path<String>,
) -> Page {
    details_page(&state, &session, &token, Fields::default(), StatusCode::OK).await
}

fn here(token: &str) -> String {
    format!("/admin/checkouts/{token}")
}

/// The detail page again with a refused action's errors at `field` (the form's amount).
async fn refused(
    state: &AppState,
    session: &Session,
    token: &str,
    form: &FormData,
    field: &str,
    e: DomainError,
) -> Page {
    if let DomainError::NotFound(_) = e {
        return Err(AdminError::Domain(e));
    }
    if let DomainError::Refused(api) = &e {
        if api.code == slotpay_core::ErrorCode::CheckoutNotFound {
            return Err(AdminError::Domain(e));
        }
    }
    let mut f = Fields::default();
    f.keep(form, &[field, "refund_reason"]);
    f.refuse_domain(e, &|p| {
        Some(match p {
            "amount" => field.to_owned(),
            "reason" => "refund_reason".to_owned(),
            _ => p.to_owned(),
        })
    });
    details_page(state, session, token, f, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// An optional decimal amount of a form, in minor units of the checkout's currency.
fn optional_amount(
    form: &FormData,
    field: &str,
    c: &CheckoutAdminView,
) -> Result<Option<i64>, DomainError> {
    match form.given(field) {
        None => Ok(None),
        Some(text) => minor_units(&text, currency_of(c), field)
            .map(Some)
            .map_err(DomainError::Refused),
    }
}

/// The domain's idempotency key of a form's nonce.
fn form_key(form: &FormData, field: &str) -> Result<String, DomainError> {
    let nonce = form.given(field).unwrap_or_default();
    payment_domain::parse_idempotency_key(Some(&format!("admin-form:{nonce}"))).and_then(|k| {
        if nonce.is_empty() {
            Err(DomainError::refused(
                slotpay_core::ErrorCode::MissingIdempotencyKey,
                "The form is incomplete; reload the page and try again",
            ))
        } else {
            Ok(k)
        }
    })
}

/// Whether a money action's form is its confirmation (else the confirmation is shown).
fn confirmed(form: &FormData) -> bool {
    form.get("confirmed") == Some("yes")
}

/// The form's fields again, for the confirmation to post, with `confirmed=yes`.
fn carried(form: &FormData, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .filter_map(|n| form.get(n).map(|v| ((*n).to_owned(), v.to_owned())))
        .chain([("confirmed".to_owned(), "yes".to_owned())])
        .collect()
}

/// `POST /admin/checkouts/{token}/refund`: the amount (all that remains when empty) and
/// Stripe's reason, checked, then a confirmation; the confirmation refunds.
pub async fn refund(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(token): Path<String>,
) -> Page {
    let c = checkouts::get(&state, &token).await?;
    let checked = async {
        let amount = optional_amount(&form, "refund_amount", &c)?;
        let key = form_key(&form, "refund_key")?;
        let reason = refunds::reason_of(form.given("refund_reason").as_deref())?;
        Ok::<_, DomainError>((amount, key, reason))
    }
    .await;
    let (amount, key, reason) = match checked {
        Ok(x) => x,
        Err(e) => return refused(&state, &session, &token, &form, "refund_amount", e).await,
    };
    let currency = currency_of(&c);
    let refunding = amount.unwrap_or(c.amount_refundable);
    let l = Local::load(&state, &c.merchant_id).await?;
    let shown = l.money(refunding, currency);
    if !confirmed(&form) {
        if refunding > c.amount_refundable {
            let e = refunds::exceeds(Money::from_minor(c.amount_refundable, currency));
            return refused(&state, &session, &token, &form, "refund_amount", e).await;
        }
        let (chrome, _) = merchant_chrome(&state, &session, &c.merchant_id, "payments").await?;
        let card = CheckoutRow::of(&c, &l).card;
        let left = c.amount_refundable - refunding;
        let page = ConfirmPage {
            lang: "en",
            chrome,
            title: format!("Refund {shown}?"),
            question: format!(
                "Refund {shown} of the {} paid for {} to the client{}?",
                l.money(c.amount.minor(), currency),
                c.description,
                if card.is_empty() {
                    String::new()
                } else {
                    format!("'s {card}")
                }
            ),
            detail: format!(
                "{} The money goes back to the card within 5 to 10 business days and cannot be taken back; Stripe keeps its fee. Reason sent to Stripe: {}.",
                if left > 0 {
                    format!("{} stays refundable after it.", l.money(left, currency))
                } else {
                    "Nothing stays refundable after it.".to_owned()
                },
                reason.map_or("none given", RefundReason::label)
            ),
            action: format!("{}/refund", here(&token)),
            confirm_label: format!("Refund {shown}"),
            cancel_href: here(&token),
            fields: carried(&form, &["refund_amount", "refund_key", "refund_reason"]),
        };
        return render(StatusCode::OK, &page);
    }
    let result = async {
        let input = RefundInput {
            amount,
            reason: reason.map(|r| r.as_str().to_owned()),
        };
        let after = refunds::create(&state, &token, &key, input).await?;
        let pending = after
            .refunds
            .iter()
            .flatten()
            .max_by_key(|r| r.created_at)
            .is_some_and(|r| r.status == RefundStatus::Pending);
        Ok::<_, DomainError>(if pending {
            format!("Refund of {shown} requested; Stripe is processing it")
        } else {
            format!("Refund of {shown} made")
        })
    }
    .await;
    match result {
        Ok(text) => done(&state, &session, vec![Flash::success(text)], &here(&token)).await,
        Err(e) => refused(&state, &session, &token, &form, "refund_amount", e).await,
    }
}

/// `POST /admin/checkouts/{token}/capture`: the whole authorisation, or part of it.
pub async fn capture(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(token): Path<String>,
) -> Page {
    let c = checkouts::get(&state, &token).await?;
    let result = async {
        let amount = optional_amount(&form, "capture_amount", &c)?;
        let after = payment_domain::capture(&state, &token, CaptureInput { amount }).await?;
        let l = Local::load(&state, &c.merchant_id).await?;
        Ok::<_, DomainError>(format!(
            "Payment captured: {}",
            l.money(after.amount_captured, currency_of(&after))
        ))
    }
    .await;
    match result {
        Ok(text) => done(&state, &session, vec![Flash::success(text)], &here(&token)).await,
        Err(e) => refused(&state, &session, &token, &form, "capture_amount", e).await,
    }
}

/// `POST /admin/checkouts/{token}/cancel`: an unpaid checkout or link, or an authorisation;
/// a confirmation first.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(token): Path<String>,
) -> Page {
    let before = checkouts::get(&state, &token).await?;
    let to = match form.get("back") {
        Some(b) => safe_next(Some(b)),
        None => here(&token),
    };
    if !confirmed(&form) {
        let (chrome, merchant) =
            merchant_chrome(&state, &session, &before.merchant_id, "payments").await?;
        let l = Local::of(&merchant);
        let amount = l.money(before.amount.minor(), currency_of(&before));
        let what = &before.description;
        let (title, question, detail, label) = if before.status == CheckoutStatus::Authorized {
            let held = l.money(before.amount_authorized, currency_of(&before));
            (
                "Cancel the authorisation?".to_owned(),
                format!("Release the {held} held on the client's card for {what}?"),
                "The client is not charged, and this payment can no longer be captured. This cannot be undone.",
                "Cancel the authorisation",
            )
        } else if before.link {
            (
                "Cancel this payment link?".to_owned(),
                format!("Cancel the link asking {amount} for {what}?"),
                "The client can no longer pay through it; its page says it was canceled. This cannot be undone, but a new link can be sent at any time.",
                "Cancel the link",
            )
        } else {
            (
                "Cancel this payment?".to_owned(),
                format!("Cancel the payment of {amount} for {what}?"),
                "The client can no longer pay it. This cannot be undone.",
                "Cancel the payment",
            )
        };
        let page = ConfirmPage {
            lang: "en",
            chrome,
            title,
            question,
            detail: detail.to_owned(),
            action: format!("{}/cancel", here(&token)),
            confirm_label: label.to_owned(),
            cancel_href: to,
            fields: carried(&form, &["back"]),
        };
        return render(StatusCode::OK, &page);
    }
    let flash = match payment_domain::cancel(&state, &token).await {
        Ok(_) if before.status == CheckoutStatus::Authorized => {
            Flash::success("Authorisation canceled: the amount is released on the client's card")
        }
        Ok(_) if before.link => Flash::success("Payment link canceled"),
        Ok(_) => Flash::success("Payment canceled"),
        Err(e @ DomainError::NotFound(_)) => return Err(e.into()),
        Err(e) => Flash::error(super::views::public_message(e)),
    };
    done(&state, &session, vec![flash], &to).await
}

/// `POST /admin/checkouts/{token}/cancellation-fee`: charges the saved card.
pub async fn fee(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(token): Path<String>,
) -> Page {
    let c = checkouts::get(&state, &token).await?;
    let result = async {
        let Some(amount) = optional_amount(&form, "fee_amount", &c)? else {
            return Err(DomainError::refused_at(
                slotpay_core::ErrorCode::InvalidAmount,
                "Give the fee's amount",
                "fee_amount",
            ));
        };
        let key = form_key(&form, "fee_key")?;
        let fee = fees::charge(&state, &token, &key, FeeInput { amount }).await?;
        let charged = Local::load(&state, &c.merchant_id)
            .await?
            .money(fee.amount, fee.currency);
        Ok::<_, DomainError>(if fee.status == FeeStatus::Succeeded {
            format!("Cancellation fee of {charged} charged")
        } else {
            format!("Cancellation fee of {charged} requested; Stripe is processing it")
        })
    }
    .await;
    match result {
        Ok(text) => done(&state, &session, vec![Flash::success(text)], &here(&token)).await,
        Err(e) => refused(&state, &session, &token, &form, "fee_amount", e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_includes_its_day() {
        assert_eq!(until_exclusive("2026-11-21"), "2026-11-22");
        assert_eq!(until_exclusive("2026-12-31"), "2027-01-01");
        assert_eq!(until_exclusive("1700000000"), "1700000000");
    }
}
