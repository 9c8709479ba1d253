//! The booking platform's webhook endpoints: the list with the form to add one (URL, one
//! merchant or all, the event types wanted or all, a note); each endpoint's page with its
//! recent deliveries, each of which can be sent again; edit (URL, event types, note);
//! disable and enable; reveal the signing secret; rotate it and delete the endpoint after a
//! confirmation. A signing secret is shown only in the answer of the POST that made, rotated
//! or revealed it, in a marked box: never in a URL, a flash message or a later page. A
//! payment's page lists what was sent to the platform about its checkout ([`sent_of`]).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use slotpay_core::ErrorCode;

use super::form::{same, Fields};
use super::views::{public_message, Local};
use super::{chrome, done, render, safe_next, AdminError, Chrome, ConfirmPage, FormData, Page};
use crate::admin::sessions::{Flash, Session};
use crate::domain::endpoints::{self, EndpointInput, EndpointPatch, EndpointView};
use crate::domain::events::{self, AttemptView, EndpointDeliveryView, EventQuery};
use crate::domain::merchants::{self, MerchantView};
use crate::domain::DomainError;
use crate::model::{DeliveryStatus, EventType};
use crate::state::AppState;

/// How many deliveries an endpoint's page lists.
const DELIVERIES_SHOWN: i64 = 50;
/// How many of a checkout's events its payment page lists.
const EVENTS_SHOWN: i64 = 100;
/// How many characters of an endpoint's answer the pages show.
const ANSWER_SHOWN: usize = 120;
/// The fields the add form shows again after a refusal.
const KEPT: &[&str] = &["url", "merchant_id", "events", "description"];

const BASE: &str = "/admin/webhooks";

fn here(endpoint_id: &str) -> String {
    format!("{BASE}/{endpoint_id}")
}

/// An endpoint as the pages show it.
struct Shown {
    e: EndpointView,
    /// The merchant's name, or "All merchants".
    merchant: String,
    /// The event types, or "All events".
    events: String,
    created: String,
    /// Until when the secret before the last rotation still signs, or empty.
    previous_until: String,
}

impl Shown {
    fn of(e: EndpointView, names: &HashMap<String, String>) -> Shown {
        let merchant = match &e.merchant_id {
            None => "All merchants".to_owned(),
            Some(id) => names.get(id).cloned().unwrap_or_else(|| id.clone()),
        };
        let events = if e.events.is_empty() {
            "All events".to_owned()
        } else {
            e.events
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        Shown {
            merchant,
            events,
            created: Local::operator().when(e.created_at),
            previous_until: e
                .previous_secret_until
                .map(|t| Local::operator().when(t))
                .unwrap_or_default(),
            e,
        }
    }
}

/// A signing secret shown once, and why.
struct Secret {
    value: String,
    /// `added`, `rotated` or `revealed`.
    why: &'static str,
}

/// A delivery status for people, and its badge's CSS class.
fn delivery_status(s: DeliveryStatus) -> (&'static str, &'static str) {
    match s {
        DeliveryStatus::Pending => ("Pending", "open"),
        DeliveryStatus::Succeeded => ("Succeeded", "ok"),
        DeliveryStatus::Failed => ("Failed", "bad"),
    }
}

/// The start of an endpoint's answer, on one line.
fn answer_start(a: &AttemptView) -> String {
    let text: String = a
        .response
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if text.chars().count() > ANSWER_SHOWN {
        let mut cut: String = text.chars().take(ANSWER_SHOWN).collect();
        cut.push('…');
        cut
    } else {
        text
    }
}

/// What the endpoint answered last, in a few words: its HTTP status or what went wrong.
fn outcome(a: &AttemptView) -> String {
    match (&a.error, a.status_code) {
        (Some(e), _) => e.clone(),
        (None, Some(code)) => format!("HTTP {code}"),
        (None, None) => "No answer".to_owned(),
    }
}

/// A line of an endpoint's deliveries.
struct DeliveryRow {
    event_id: String,
    kind: String,
    checkout: Option<String>,
    status: &'static str,
    status_class: &'static str,
    status_code: &'static str,
    attempts: i64,
    /// The last attempt's time, or `—`.
    last_at: String,
    /// Its HTTP status or error, or `—`.
    outcome: String,
    /// The start of its answer.
    answer: String,
    /// The next attempt's time, or `—`.
    next: String,
}

impl DeliveryRow {
    fn of(d: EndpointDeliveryView) -> DeliveryRow {
        let (status, status_class) = delivery_status(d.status);
        let last = d.last_attempt.as_ref();
        DeliveryRow {
            kind: d
                .kind
                .map_or_else(|| "(event deleted)".to_owned(), |k| k.as_str().to_owned()),
            checkout: d.checkout,
            status,
            status_class,
            status_code: d.status.as_str(),
            attempts: d.attempts,
            last_at: Local::operator().when_opt(last.map(|a| a.at)),
            outcome: last.map_or_else(|| "—".to_owned(), outcome),
            answer: last.map(answer_start).unwrap_or_default(),
            next: Local::operator().when_opt(d.next_attempt_at),
            event_id: d.event_id,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/webhooks.html")]
struct ListPage {
    lang: &'static str,
    chrome: Chrome,
    endpoints: Vec<Shown>,
    merchants: Vec<MerchantView>,
    event_types: &'static [EventType],
    f: Fields,
}

#[derive(Template)]
#[template(path = "admin/webhook.html")]
struct DetailsPage {
    lang: &'static str,
    chrome: Chrome,
    ep: Shown,
    secret: Option<Secret>,
    deliveries: Vec<DeliveryRow>,
}

#[derive(Template)]
#[template(path = "admin/webhook_form.html")]
struct FormPage {
    lang: &'static str,
    chrome: Chrome,
    ep: Shown,
    event_types: &'static [EventType],
    f: Fields,
}

/// The page's chrome, with "Webhooks" as the current entry of the navigation.
async fn webhooks_chrome(state: &AppState, session: &Session) -> Result<Chrome, AdminError> {
    let mut c = chrome(state, session).await?;
    c.area = "webhooks";
    Ok(c)
}

/// Every merchant, and their names by id.
async fn merchant_names(
    state: &AppState,
) -> Result<(Vec<MerchantView>, HashMap<String, String>), AdminError> {
    let all = merchants::list(state).await?;
    let names = all.iter().map(|m| (m.id.clone(), m.name.clone())).collect();
    Ok((all, names))
}

/// Whether a refusal says the endpoint (or the event) does not exist: an error page, not
/// the form again.
fn is_not_found(e: &DomainError) -> bool {
    match e {
        DomainError::NotFound(_) => true,
        DomainError::Refused(api) => api.code == ErrorCode::NotFound,
        _ => false,
    }
}

async fn list_page(state: &AppState, session: &Session, f: Fields, status: StatusCode) -> Page {
    let (all, names) = merchant_names(state).await?;
    let page = ListPage {
        lang: "en",
        chrome: webhooks_chrome(state, session).await?,
        endpoints: endpoints::list(state)
            .await?
            .into_iter()
            .map(|e| Shown::of(e, &names))
            .collect(),
        merchants: all,
        event_types: EventType::ALL,
        f,
    };
    render(status, &page)
}

/// `GET /admin/webhooks`: the endpoints and the form to add one.
pub async fn list(State(state): State<AppState>, Extension(session): Extension<Session>) -> Page {
    list_page(&state, &session, Fields::default(), StatusCode::OK).await
}

/// The endpoint's page; with `secret`, the secret just made, rotated or revealed in its
/// box, and `said` as the page's message (shown here, not kept for the next page).
async fn details_page(
    state: &AppState,
    session: &Session,
    e: EndpointView,
    secret: Option<Secret>,
    said: Option<Flash>,
) -> Page {
    let (_, names) = merchant_names(state).await?;
    let deliveries = events::endpoint_deliveries(state, &e.id, DELIVERIES_SHOWN)
        .await?
        .into_iter()
        .map(DeliveryRow::of)
        .collect();
    let mut chrome = webhooks_chrome(state, session).await?;
    chrome.flash.extend(said);
    let page = DetailsPage {
        lang: "en",
        chrome,
        ep: Shown::of(e, &names),
        secret,
        deliveries,
    };
    render(StatusCode::OK, &page)
}

/// `POST /admin/webhooks`: adds an endpoint and shows its signing secret, this once.
pub async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
) -> Page {
    let input = EndpointInput {
        url: form.text("url"),
        events: Some(form.all("events")),
        merchant_id: form.given("merchant_id"),
        description: form.given("description"),
    };
    match endpoints::create(&state, input).await {
        Ok(mut e) => {
            let value = e.secret.take().unwrap_or_default();
            let secret = Some(Secret {
                value,
                why: "added",
            });
            let said = Flash::success("Webhook endpoint added");
            details_page(&state, &session, e, secret, Some(said)).await
        }
        Err(e) => {
            let mut f = Fields::default();
            f.keep(&form, KEPT);
            if let DomainError::NotFound("merchant") = e {
                f.refuse(
                    Some("merchant_id"),
                    ErrorCode::NotFound.as_str(),
                    "This merchant no longer exists; choose another",
                );
            } else {
                f.refuse_domain(e, &same);
            }
            list_page(&state, &session, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// `GET /admin/webhooks/{id}`: the endpoint and its recent deliveries.
pub async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(endpoint_id): Path<String>,
) -> Page {
    let e = endpoints::get(&state, &endpoint_id).await?;
    details_page(&state, &session, e, None, None).await
}

async fn form_page(
    state: &AppState,
    session: &Session,
    e: EndpointView,
    f: Fields,
    status: StatusCode,
) -> Page {
    let (_, names) = merchant_names(state).await?;
    let page = FormPage {
        lang: "en",
        chrome: webhooks_chrome(state, session).await?,
        ep: Shown::of(e, &names),
        event_types: EventType::ALL,
        f,
    };
    render(status, &page)
}

/// `GET /admin/webhooks/{id}/edit`: URL, event types and note.
pub async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(endpoint_id): Path<String>,
) -> Page {
    let e = endpoints::get(&state, &endpoint_id).await?;
    let mut f = Fields::default();
    f.set("url", e.url.clone())
        .set("description", e.description.clone().unwrap_or_default());
    for t in &e.events {
        f.add("events", t.as_str());
    }
    form_page(&state, &session, e, f, StatusCode::OK).await
}

/// `POST /admin/webhooks/{id}`: saves the edit (no event type ticked: all of them; an empty
/// note removes it).
pub async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(endpoint_id): Path<String>,
) -> Page {
    let stored = endpoints::get(&state, &endpoint_id).await?;
    let patch = EndpointPatch {
        url: Some(form.text("url")),
        events: Some(Some(form.all("events"))),
        disabled: None,
        description: Some(form.given("description")),
    };
    match endpoints::update(&state, &endpoint_id, patch).await {
        Ok(e) => {
            done(
                &state,
                &session,
                vec![Flash::success("Webhook endpoint updated")],
                &here(&e.id),
            )
            .await
        }
        Err(e) if is_not_found(&e) => Err(e.into()),
        Err(e) => {
            let mut f = Fields::default();
            f.keep(&form, &["url", "events", "description"]);
            f.refuse_domain(e, &same);
            form_page(
                &state,
                &session,
                stored,
                f,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// Where a switch or a resend returns: the page it was posted from (`back`), or `default`.
fn back(form: &FormData, default: String) -> String {
    match form.get("back") {
        Some(b) => safe_next(Some(b)),
        None => default,
    }
}

async fn switch(
    state: &AppState,
    session: &Session,
    form: &FormData,
    endpoint_id: &str,
    disabled: bool,
) -> Page {
    let patch = EndpointPatch {
        disabled: Some(disabled),
        ..EndpointPatch::default()
    };
    let e = endpoints::update(state, endpoint_id, patch).await?;
    let text = if disabled {
        "Webhook endpoint disabled: events from now on are not sent to it, and deliveries already waiting are held until it is enabled again"
    } else {
        "Webhook endpoint enabled: deliveries waiting for it are sent now"
    };
    done(
        state,
        session,
        vec![Flash::success(text)],
        &back(form, here(&e.id)),
    )
    .await
}

/// `POST /admin/webhooks/{id}/disable`.
pub async fn disable(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(endpoint_id): Path<String>,
) -> Page {
    switch(&state, &session, &form, &endpoint_id, true).await
}

/// `POST /admin/webhooks/{id}/enable`.
pub async fn enable(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(endpoint_id): Path<String>,
) -> Page {
    switch(&state, &session, &form, &endpoint_id, false).await
}

/// `GET /admin/webhooks/{id}/rotate-secret`: the confirmation step.
pub async fn confirm_rotate(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(endpoint_id): Path<String>,
) -> Page {
    let e = endpoints::get(&state, &endpoint_id).await?;
    let hours = endpoints::ROTATION_OVERLAP_SECS / 3600;
    let page = ConfirmPage {
        lang: "en",
        chrome: webhooks_chrome(&state, &session).await?,
        title: "Rotate the signing secret?".into(),
        question: format!(
            "Are you sure you want a new signing secret for {}?",
            e.url
        ),
        detail: format!(
            "The new secret is shown once, on the next page. For {hours} hours webhooks are signed with both the new and the current secret, so the platform can switch over without missing an event; after that only the new secret signs, and a platform still checking with the current one refuses every event.{}",
            if e.previous_secret_until.is_some() {
                " The last rotation is still in its overlap: the secret before the current one stops signing at once."
            } else {
                ""
            }
        ),
        action: format!("{}/rotate-secret", here(&e.id)),
        confirm_label: "Rotate the secret".into(),
        cancel_href: here(&e.id),
        fields: Vec::new(),
    };
    render(StatusCode::OK, &page)
}

/// `POST /admin/webhooks/{id}/rotate-secret`: a new secret, shown this once.
pub async fn rotate(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(endpoint_id): Path<String>,
) -> Page {
    let mut e = endpoints::rotate_secret(&state, &endpoint_id).await?;
    let secret = Some(Secret {
        value: e.secret.take().unwrap_or_default(),
        why: "rotated",
    });
    let said = Flash::success("Signing secret rotated");
    details_page(&state, &session, e, secret, Some(said)).await
}

/// `POST /admin/webhooks/{id}/reveal-secret`: the current secret, on this page only.
pub async fn reveal(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(endpoint_id): Path<String>,
) -> Page {
    let mut e = endpoints::reveal_secret(&state, &endpoint_id).await?;
    let secret = Some(Secret {
        value: e.secret.take().unwrap_or_default(),
        why: "revealed",
    });
    details_page(&state, &session, e, secret, None).await
}

/// `GET /admin/webhooks/{id}/delete`: the confirmation step.
pub async fn confirm_delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(endpoint_id): Path<String>,
) -> Page {
    let e = endpoints::get(&state, &endpoint_id).await?;
    let page = ConfirmPage {
        lang: "en",
        chrome: webhooks_chrome(&state, &session).await?,
        title: "Delete webhook endpoint?".into(),
        question: format!(
            "Are you sure you want to delete the webhook endpoint {}?",
            e.url
        ),
        detail: "The platform stops receiving events at this URL at once: deliveries still waiting are dropped, and the endpoint's delivery history is deleted with it. Events stay in the events list. This cannot be undone; to stop deliveries for a while, disable the endpoint instead.".into(),
        action: format!("{}/delete", here(&e.id)),
        confirm_label: "Delete endpoint".into(),
        cancel_href: here(&e.id),
        fields: Vec::new(),
    };
    render(StatusCode::OK, &page)
}

/// `POST /admin/webhooks/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(endpoint_id): Path<String>,
) -> Page {
    let e = endpoints::get(&state, &endpoint_id).await?;
    endpoints::delete(&state, &endpoint_id).await?;
    done(
        &state,
        &session,
        vec![Flash::success(format!(
            "Webhook endpoint {} deleted",
            e.url
        ))],
        BASE,
    )
    .await
}

/// `POST /admin/events/{id}/resend`: sends the event again now, to every enabled endpoint
/// that wants it; back to the page it was posted from.
pub async fn resend(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Extension(form): Extension<FormData>,
    Path(event_id): Path<String>,
) -> Page {
    let flash = match events::resend(&state, &event_id).await {
        // The count of endpoints is not told: the sender may have finished some already.
        Ok(e) => Flash::success(format!(
            "Event {} ({}) is being sent again to every enabled endpoint that wants it",
            e.id, e.kind
        )),
        Err(e) if is_not_found(&e) => return Err(e.into()),
        Err(e) => Flash::error(format!("Not sent again: {}", public_message(e))),
    };
    done(&state, &session, vec![flash], &back(&form, BASE.to_owned())).await
}

/// One delivery of an event, as a payment's page shows it.
pub struct SentDelivery {
    /// `we_...`.
    pub endpoint_id: String,
    /// The endpoint's URL (its id when it was deleted meanwhile).
    pub endpoint: String,
    /// `Succeeded`.
    pub status: &'static str,
    /// The badge's CSS class.
    pub status_class: &'static str,
    /// `succeeded`.
    pub status_code: &'static str,
    /// How many attempts were made.
    pub attempts: usize,
    /// What the endpoint answered last: its HTTP status or error, and the start of its
    /// answer; `—` before the first attempt.
    pub last_answer: String,
    /// The next attempt's time, or `—`.
    pub next: String,
}

/// An event sent to the platform about a checkout, with its deliveries.
pub struct SentEvent {
    /// `evt_...`.
    pub id: String,
    /// `checkout.paid`.
    pub kind: &'static str,
    /// When it happened, for people.
    pub when: String,
    /// One per endpoint that wanted it (none: no endpoint did).
    pub deliveries: Vec<SentDelivery>,
}

impl SentEvent {
    /// The rows the event spans in the table (at least one).
    pub fn span(&self) -> usize {
        self.deliveries.len().max(1)
    }
}

/// What was sent to the platform about checkout `token`, newest first (at most
/// [`EVENTS_SHOWN`]), and whether older events were left out.
pub async fn sent_of(
    state: &AppState,
    token: &str,
    l: &Local,
) -> Result<(Vec<SentEvent>, bool), AdminError> {
    let query = EventQuery {
        checkout: Some(token.to_owned()),
        limit: Some(EVENTS_SHOWN),
        ..EventQuery::default()
    };
    let found = events::list(state, query).await?;
    let urls: HashMap<String, String> = endpoints::list(state)
        .await?
        .into_iter()
        .map(|e| (e.id, e.url))
        .collect();
    let mut out = Vec::with_capacity(found.data.len());
    for listed in found.data {
        let e = match events::get(state, &listed.id).await {
            Ok(e) => e,
            // Deleted since it was listed (kept for a limited time).
            Err(err) if is_not_found(&err) => continue,
            Err(err) => return Err(err.into()),
        };
        let deliveries = e
            .deliveries
            .unwrap_or_default()
            .into_iter()
            .map(|d| {
                let (status, status_class) = delivery_status(d.status);
                let last_answer = match d.attempts.last() {
                    None => "—".to_owned(),
                    Some(a) => {
                        let start = answer_start(a);
                        if start.is_empty() {
                            outcome(a)
                        } else {
                            format!("{} · {start}", outcome(a))
                        }
                    }
                };
                SentDelivery {
                    endpoint: urls
                        .get(&d.endpoint_id)
                        .cloned()
                        .unwrap_or_else(|| d.endpoint_id.clone()),
                    endpoint_id: d.endpoint_id,
                    status,
                    status_class,
                    status_code: d.status.as_str(),
                    attempts: d.attempts.len(),
                    last_answer,
                    next: l.when_opt(d.next_attempt_at),
                }
            })
            .collect();
        out.push(SentEvent {
            id: e.id,
            kind: e.kind.as_str(),
            when: l.when(e.created),
            deliveries,
        });
    }
    Ok((out, found.has_more))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(
        status_code: Option<i64>,
        error: Option<&str>,
        response: Option<&str>,
    ) -> AttemptView {
        AttemptView {
            attempt: 1,
            at: 0,
            duration_ms: 5,
            status_code,
            error: error.map(str::to_owned),
            response: response.map(str::to_owned),
        }
    }

    #[test]
    fn answers_in_a_few_words() {
        assert_eq!(outcome(&attempt(Some(200), None, None)), "HTTP 200");
        assert_eq!(
            outcome(&attempt(Some(500), Some("HTTP 500"), None)),
            "HTTP 500"
        );
        assert_eq!(
            outcome(&attempt(None, Some("timed out"), None)),
            "timed out"
        );
        assert_eq!(outcome(&attempt(None, None, None)), "No answer");
        assert_eq!(
            answer_start(&attempt(Some(200), None, Some("{\n  \"ok\": true\n}"))),
            "{ \"ok\": true }"
        );
        let long = "é".repeat(ANSWER_SHOWN + 10);
        let cut = answer_start(&attempt(Some(200), None, Some(&long)));
        assert_eq!(cut.chars().count(), ANSWER_SHOWN + 1);
        assert!(cut.ends_with('…'));
    }
}
