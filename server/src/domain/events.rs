//! The events API: what slotpay told (or is telling) the platform, newest first, each with
//! its deliveries and their attempts, and sending one again. Events are kept
//! [`KEPT_SECS`] (the reconciler deletes older ones).

use serde::{Deserialize, Serialize};
use slotpay_core::{ApiError, ErrorCode};

use super::checkouts::parse_time;
use super::{Checker, DomainError};
use crate::db::{DeliveryAttempt, DeliveryRecord, EventFilter, PlatformEvent};
use crate::model::{DeliveryStatus, EventType};
use crate::state::AppState;

/// How long events are kept (30 days).
pub const KEPT_SECS: i64 = 30 * 86_400;
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;
/// The most deliveries [`endpoint_deliveries`] lists.
pub const MAX_ENDPOINT_DELIVERIES: i64 = 100;

/// The filters of the list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// One merchant's events.
    pub merchant_id: Option<String>,
    /// One type (`checkout.paid`, ...).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// One checkout's events (its token).
    pub checkout: Option<String>,
    /// Made at or after: unix seconds or an ISO 8601 date or date-time.
    pub created_after: Option<String>,
    /// The id of the last event of the previous page.
    pub starting_after: Option<String>,
    /// At most this many (default 20, at most 100).
    pub limit: Option<i64>,
}

/// An event as the API shows it: its body, and when asked, its deliveries.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// `evt_...`.
    #[schema(value_type = crate::schemas::EventId)]
    pub id: String,
    /// `checkout.paid`, ...
    #[serde(rename = "type")]
    pub kind: EventType,
    /// Unix seconds.
    pub created: i64,
    /// The merchant it concerns.
    #[schema(value_type = crate::schemas::MerchantId)]
    pub merchant_id: String,
    /// The body sent to endpoints, as sent.
    pub payload: serde_json::Value,
    /// Its deliveries (the single-event view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveries: Option<Vec<DeliveryView>>,
}

/// One delivery of an event.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// `{event}.{endpoint}`.
    pub id: String,
    /// The endpoint.
    #[schema(value_type = crate::schemas::EndpointId)]
    pub endpoint_id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: DeliveryStatus,
    /// The next attempt (while pending).
    pub next_attempt_at: Option<i64>,
    /// Every attempt so far.
    pub attempts: Vec<AttemptView>,
}

/// One attempt of a delivery.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    /// 1, 2, ...
    pub attempt: i64,
    /// Unix seconds.
    pub at: i64,
    /// Milliseconds.
    pub duration_ms: i64,
    /// The endpoint's HTTP status.
    pub status_code: Option<i64>,
    /// What went wrong.
    pub error: Option<String>,
    /// The start of the endpoint's answer.
    pub response: Option<String>,
}

/// One delivery of an endpoint's recent ones: its event, where it is, its last attempt.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointDeliveryView {
    /// The event, `evt_...`.
    #[schema(value_type = crate::schemas::EventId)]
    pub event_id: String,
    /// The event's type (`None` when the event was deleted meanwhile).
    #[serde(rename = "type")]
    pub kind: Option<EventType>,
    /// The checkout the event is about, when it is about one (its token).
    pub checkout: Option<String>,
    /// `pending`, `succeeded` or `failed`.
    pub status: DeliveryStatus,
    /// How many attempts were made.
    pub attempts: i64,
    /// The next attempt (while pending).
    pub next_attempt_at: Option<i64>,
    /// The newest attempt.
    pub last_attempt: Option<AttemptView>,
    /// When it last changed (unix seconds).
    pub updated_at: i64,
}

/// A page of events.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EventList {
    /// Newest first.
    pub data: Vec<EventView>,
    /// Whether older events follow.
    pub has_more: bool,
}

fn view(e: &PlatformEvent) -> Result<EventView, DomainError> {
    let payload = serde_json::from_str(&e.payload)
        .map_err(|err| DomainError::corrupt("platform_events", format!("payload: {err}")))?;
    Ok(EventView {
        id: e.id.clone(),
        kind: e.kind,
        created: e.created_at,
        merchant_id: e.merchant_id.clone(),
        payload,
        deliveries: None,
    })
}

pub(crate) fn attempt_view(a: &DeliveryAttempt) -> AttemptView {
    AttemptView {
        attempt: a.attempt,
        at: a.at,
        duration_ms: a.duration_ms,
        status_code: a.status_code,
        error: a.error.clone(),
        response: a.response.clone(),
    }
}

fn delivery_view(d: &DeliveryRecord, attempts: &[DeliveryAttempt]) -> DeliveryView {
    DeliveryView {
        id: d.id.clone(),
        endpoint_id: d.endpoint_id.clone(),
        status: d.status,
        next_attempt_at: (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
        attempts: attempts.iter().map(attempt_view).collect(),
    }
}

async fn load(state: &AppState, id: &str) -> Result<PlatformEvent, DomainError> {
    state
        .db
        .get_platform_event(id)
        .await?
        .ok_or_else(|| DomainError::refused(ErrorCode::NotFound, "No event has this id"))
}

/// A page of events, newest first.
pub async fn list(state: &AppState, q: EventQuery) -> Result<EventList, DomainError> {
    let mut c = Checker::default();
    let kind = q.kind.as_deref().map(|k| {
        EventType::parse(k).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("Unknown event type {k:?}"),
            )
            .with_param("type")
        })
    });
    let kind = kind.and_then(|k| c.check(k));
    let created_after = q
        .created_after
        .as_deref()
        .and_then(|t| c.check(parse_time(t, "created_after")));
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        c.push(
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("limit must be 1 to {MAX_LIMIT}"),
            )
            .with_param("limit"),
        );
    }
    c.finish()?;
    let starting_after = match &q.starting_after {
        None => None,
        Some(id) => {
            let e = state.db.get_platform_event(id).await?.ok_or_else(|| {
                DomainError::refused_at(
                    ErrorCode::InvalidRequest,
                    "starting_after names no event",
                    "starting_after",
                )
            })?;
            Some((e.created_at, e.id))
        }
    };
    let filter = EventFilter {
        merchant_id: q.merchant_id,
        kind,
        checkout: q.checkout,
        created_after,
        starting_after,
        limit: limit + 1,
    };
    let mut found = state.db.list_platform_events(&filter).await?;
    let has_more = found.len() as i64 > limit;
    found.truncate(limit as usize);
    Ok(EventList {
        data: found.iter().map(view).collect::<Result<_, _>>()?,
        has_more,
    })
}

/// One event with its deliveries.
pub async fn get(state: &AppState, id: &str) -> Result<EventView, DomainError> {
    let e = load(state, id).await?;
    let mut v = view(&e)?;
    v.deliveries = Some(
        state
            .db
            .deliveries_of_event(&e.id)
            .await?
            .iter()
            .map(|(d, a)| delivery_view(d, a))
            .collect(),
    );
    Ok(v)
}

/// An endpoint's newest deliveries (at most `limit`, clamped to 1 to
/// [`MAX_ENDPOINT_DELIVERIES`]), most recently changed first, each with its event's type and
/// checkout and its newest attempt.
pub async fn endpoint_deliveries(
    state: &AppState,
    endpoint_id: &str,
    limit: i64,
) -> Result<Vec<EndpointDeliveryView>, DomainError> {
    let limit = limit.clamp(1, MAX_ENDPOINT_DELIVERIES);
    let mut out = Vec::new();
    for (d, last) in state.db.recent_deliveries(endpoint_id, limit).await? {
        let event = state.db.get_platform_event(&d.event_id).await?;
        out.push(EndpointDeliveryView {
            kind: event.as_ref().map(|e| e.kind),
            checkout: event.and_then(|e| e.checkout_token),
            event_id: d.event_id,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
            last_attempt: last.as_ref().map(attempt_view),
            updated_at: d.updated_at,
        });
    }
    Ok(out)
}

/// Sends an event again, now, to every endpoint that wants it.
pub async fn resend(state: &AppState, id: &str) -> Result<EventView, DomainError> {
    let e = load(state, id).await?;
    let n = state.db.resend_platform_event(&e).await?;
    if n == 0 {
        return Err(DomainError::refused(
            ErrorCode::Conflict,
            "No enabled webhook endpoint wants this event",
        ));
    }
    state.db.deliveries_made().notify_one();
    tracing::info!(event = %e.id, endpoints = n, "event sent again");
    get(state, id).await
}
