//! Stripe webhooks in: [`receive`] verifies the raw body's signature with core against the
//! merchant's signing secret(s) (the previous one too while a secret is rolled), 300 s
//! tolerance, and stores the event by merchant and id (a duplicate changes nothing; merchants
//! sharing one Stripe account each store their copy and apply it to their own payments);
//! [`process_received`] applies it after the answer. Out-of-order delivery converges: states only move forward, and an
//! event that is not newer than what is known (or is about a charge) makes slotpay read the
//! PaymentIntent from Stripe and apply that instead.

use slotpay_core::{webhook_signature, ErrorCode, Money, WebhookSecret};

use super::fees::{self, FEE_METADATA};
use super::sync::{apply, sync, Extra, LeaseMode};
use super::{integrations, outbox, DomainError};
use crate::db::{self, DisputeRecord, EventRecord};
use crate::metrics::WebhookOutcome;
use crate::state::AppState;
use crate::stripe::{Dispute, Event, PaymentIntent};

/// Processing attempts before an event is left for a person to look at.
pub const MAX_ATTEMPTS: i64 = 10;

/// What a received webhook came to.
#[derive(Debug)]
pub enum Received {
    /// Stored now; [`process_received`] applies it (unless it needs nothing).
    New(Box<ReceivedEvent>),
    /// Seen before: nothing changes.
    Duplicate,
}

/// An event just stored, with its parsed body: processing starts from it instead of
/// reading the row back.
#[derive(Debug)]
pub struct ReceivedEvent {
    record: EventRecord,
    event: Event,
}

impl ReceivedEvent {
    /// False when it was stored as processed: nothing in slotpay depends on it.
    pub fn needs_processing(&self) -> bool {
        self.record.processed_at.is_none()
    }
}

/// What processing an event involves, from its type and object alone.
enum Work<'a> {
    /// Nothing: a type slotpay does not act on (`payment_intent.created`, or an object
    /// without a PaymentIntent).
    Nothing,
    /// A dispute, recorded.
    Dispute,
    /// A PaymentIntent (or its charge): its checkout or cancellation fee is updated.
    Intent(&'a str),
}

fn work_of(event: &Event) -> Work<'_> {
    let kind = event.kind.as_str();
    let object = &event.data.object;
    if kind.starts_with("charge.dispute.") {
        return Work::Dispute;
    }
    if kind == "payment_intent.created" {
        return Work::Nothing;
    }
    let pi_id = if kind.starts_with("payment_intent.") {
        object.get("id")
    } else if kind.starts_with("charge.") {
        object.get("payment_intent")
    } else {
        None
    };
    match pi_id.and_then(|v| v.as_str()) {
        Some(id) => Work::Intent(id),
        None => Work::Nothing,
    }
}

fn rejected(message: &str) -> DomainError {
    DomainError::refused(ErrorCode::InvalidSignature, message)
}

fn verify(
    signature: Option<&str>,
    body: &[u8],
    secrets: &[WebhookSecret],
    now: i64,
) -> Result<i64, webhook_signature::SignatureError> {
    let plain: Vec<&str> = secrets.iter().map(|s| s.expose_secret()).collect();
    webhook_signature::verify(
        signature,
        body,
        &plain,
        now,
        webhook_signature::DEFAULT_TOLERANCE_SECS,
    )
}

/// Verifies and stores a webhook. Refusals (unknown merchant, bad signature, not an event)
/// store nothing. An event that needs no processing is stored as processed.
pub async fn receive(
    state: &AppState,
    merchant_id: &str,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Received, DomainError> {
    let now = db::now();
    // The cached secrets first; what they refuse is checked against the stored ones, so a
    // secret changed by another instance is accepted at once.
    let cached = integrations::cached_webhook_secrets(state, merchant_id, now)
        .filter(|secrets| verify(signature, body, secrets, now).is_ok());
    if cached.is_none() {
        let secrets = match integrations::webhook_secrets(state, merchant_id, now).await? {
            Some(s) => s,
            None => {
                state.metrics.webhook(WebhookOutcome::Rejected);
                return Err(rejected(
                    "No webhook signing secret is set up for this merchant",
                ));
            }
        };
        if let Err(e) = verify(signature, body, &secrets, now) {
            state.metrics.webhook(WebhookOutcome::Rejected);
            tracing::warn!(merchant_id, reason = %e, "webhook refused");
            return Err(rejected(&format!("Webhook signature refused: {e}")));
        }
    }
    let event: Event = match serde_json::from_slice(body) {
        Ok(e) => e,
        Err(_) => {
            state.metrics.webhook(WebhookOutcome::Rejected);
            return Err(DomainError::refused(
                ErrorCode::InvalidJson,
                "The body is not a Stripe event",
            ));
        }
    };
    state.metrics.webhook(WebhookOutcome::Verified);
    let nothing_to_do = matches!(work_of(&event), Work::Nothing);
    let record = EventRecord {
        event_id: event.id.clone(),
        merchant_id: merchant_id.to_owned(),
        event_type: event.kind.clone(),
        object_id: event
            .data
            .object
            .get("id")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        checkout_token: None,
        created: event.created,
        payload: String::from_utf8_lossy(body).into_owned(),
        received_at: now,
        processed_at: nothing_to_do.then_some(now),
        attempts: 0,
        last_error: None,
    };
    if state.db.insert_event(&record).await? {
        tracing::debug!(merchant_id, event = %event.id, kind = %event.kind, "webhook stored");
        if nothing_to_do {
            state.metrics.webhook(WebhookOutcome::Processed);
        }
        Ok(Received::New(Box::new(ReceivedEvent { record, event })))
    } else {
        state.metrics.webhook(WebhookOutcome::Duplicate);
        Ok(Received::Duplicate)
    }
}

/// Processes an event just received (after the answer), from what [`receive`] stored.
pub async fn process_received(
    state: &AppState,
    received: ReceivedEvent,
) -> Result<(), DomainError> {
    if !received.needs_processing() {
        return Ok(());
    }
    process_parsed(state, &received.record, &received.event).await
}

/// Processes a stored event (again, if it was processed: applying is idempotent).
async fn process_record(state: &AppState, record: &EventRecord) -> Result<(), DomainError> {
    match serde_json::from_str::<Event>(&record.payload) {
        Ok(event) => process_parsed(state, record, &event).await,
        Err(err) => {
            let e = DomainError::corrupt("stripe_events", format!("payload: {err}"));
            failed(state, record, e).await
        }
    }
}

async fn process_parsed(
    state: &AppState,
    record: &EventRecord,
    event: &Event,
) -> Result<(), DomainError> {
    match apply_event(state, record, event).await {
        Ok(token) => {
            state
                .db
                .mark_event_processed(record, token.as_deref(), db::now())
                .await?;
            state.metrics.webhook(WebhookOutcome::Processed);
            Ok(())
        }
        Err(e) => failed(state, record, e).await,
    }
}

async fn failed(state: &AppState, record: &EventRecord, e: DomainError) -> Result<(), DomainError> {
    state.metrics.webhook(WebhookOutcome::Failed);
    tracing::warn!(event = %record.event_id, merchant_id = %record.merchant_id, error = %e,
        "webhook processing failed; it is retried");
    state.db.mark_event_failed(record, &e.to_string()).await?;
    Err(e)
}

/// Processes events that are still unprocessed (after a restart, or a failure).
pub async fn process_pending(state: &AppState, received_before: i64) -> usize {
    let events = match state
        .db
        .pending_events(received_before, MAX_ATTEMPTS, 500)
        .await
    {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "pending webhooks not read");
            return 0;
        }
    };
    let mut done = 0;
    for e in events {
        if process_record(state, &e).await.is_ok() {
            done += 1;
        }
    }
    done
}

/// Applies one event; returns the checkout it concerned.
async fn apply_event(
    state: &AppState,
    e: &EventRecord,
    event: &Event,
) -> Result<Option<String>, DomainError> {
    let object = &event.data.object;
    let kind = event.kind.as_str();
    let pi_id = match work_of(event) {
        Work::Nothing => return Ok(None),
        Work::Dispute => {
            let dispute: Dispute = serde_json::from_value(object.clone())
                .map_err(|err| DomainError::Internal(format!("dispute: {err}")))?;
            return apply_dispute(state, &e.merchant_id, &dispute, event.created).await;
        }
        Work::Intent(id) => id,
    };
    // A cancellation fee's PaymentIntent.
    let fee_id = object
        .get("metadata")
        .and_then(|m| m.get(FEE_METADATA))
        .and_then(|v| v.as_str());
    if let Some(fee) = state.db.fee_by_payment_intent_or_id(pi_id, fee_id).await? {
        let owner = state.db.get_checkout(&fee.checkout_token).await?;
        if owner.is_none_or(|c| c.merchant_id != e.merchant_id) {
            // Another merchant's fee: its own endpoint hears of it.
            return Ok(None);
        }
        let key = integrations::server_key(state, &e.merchant_id).await?;
        let pi = state
            .stripe
            .retrieve_payment_intent(&key, pi_id, &[])
            .await?;
        fees::apply_intent(state, fee, &pi).await?;
        return Ok(None);
    }
    let Some(r) = state.db.checkout_by_payment_intent(pi_id).await? else {
        // Not one of slotpay's payments (made in the Dashboard), or a race with storing the
        // PaymentIntent's id: the reconciler settles the latter.
        return Ok(None);
    };
    if r.merchant_id != e.merchant_id {
        return Ok(None);
    }
    let fresh = kind.starts_with("payment_intent.") && event.created > r.synced_at;
    if fresh {
        if let Ok(pi) = serde_json::from_value::<PaymentIntent>(object.clone()) {
            apply(
                state,
                &r,
                &pi,
                event.created,
                LeaseMode::Respect,
                &Extra::default(),
            )
            .await?;
            return Ok(Some(r.token));
        }
    }
    // Older than what is known, or about a charge: Stripe's current state decides (`r` was
    // read just now; `sync` reads the row again before it writes).
    sync(state, &r, LeaseMode::Respect).await?;
    Ok(Some(r.token))
}

async fn apply_dispute(
    state: &AppState,
    merchant_id: &str,
    d: &Dispute,
    event_created: i64,
) -> Result<Option<String>, DomainError> {
    let checkout = match &d.payment_intent {
        Some(pi) => state.db.checkout_by_payment_intent(pi).await?,
        None => state.db.checkout_by_charge(&d.charge).await?,
    };
    if checkout
        .as_ref()
        .is_some_and(|c| c.merchant_id != merchant_id)
    {
        // A dispute on another merchant's payment: its own endpoint hears of it.
        return Ok(None);
    }
    let token = checkout.as_ref().map(|c| c.token.clone());
    let record = DisputeRecord {
        id: d.id.clone(),
        merchant_id: merchant_id.to_owned(),
        checkout_token: token.clone(),
        charge_id: d.charge.clone(),
        amount: Money::from_minor(d.amount, d.currency),
        reason: d.reason.clone(),
        status: d.status.clone(),
        stripe_created: d.created,
        event_created,
        updated_at: db::now(),
    };
    state
        .db
        .upsert_dispute(&record, |before| {
            outbox::dispute_events(state, checkout.as_ref(), &record, before)
        })
        .await?;
    tracing::info!(dispute = %d.id, status = %d.status, "dispute recorded");
    Ok(token)
}
