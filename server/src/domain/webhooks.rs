//! Stripe webhooks in: [`receive`] verifies the raw body's signature with core against the
//! merchant's signing secret(s) (the previous one too while a secret is rolled), 300 s
//! tolerance, and stores the event by id (a duplicate changes nothing); [`process`] applies
//! it after the answer. Out-of-order delivery converges: states only move forward, and an
//! event that is not newer than what is known (or is about a charge) makes slotpay read the
//! PaymentIntent from Stripe and apply that instead.

use slotpay_core::{webhook_signature, ApiError, ErrorCode};

use super::checkouts::load;
use super::fees::{self, FEE_METADATA};
use super::payments::{self, Extra, LeaseMode};
use super::{integrations, DomainError};
use crate::db::{self, DisputeRecord, EventRecord};
use crate::metrics::WebhookOutcome;
use crate::state::AppState;
use crate::stripe::{Dispute, Event, PaymentIntent};

/// Processing attempts before an event is left for a person to look at.
pub const MAX_ATTEMPTS: i64 = 10;

/// What a received webhook came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received {
    /// Stored; process it.
    New(String),
    /// Seen before: nothing changes.
    Duplicate,
}

fn rejected(message: &str) -> DomainError {
    DomainError::Refused(ApiError::new(ErrorCode::InvalidSignature, message))
}

/// Verifies and stores a webhook. Refusals (unknown merchant, bad signature, not an event)
/// store nothing.
pub async fn receive(
    state: &AppState,
    merchant_id: &str,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Received, DomainError> {
    let now = db::now();
    let secrets = match integrations::webhook_secrets(state, merchant_id, now).await? {
        Some(s) => s,
        None => {
            state.metrics.webhook(WebhookOutcome::Rejected);
            return Err(rejected(
                "No webhook signing secret is set up for this merchant",
            ));
        }
    };
    let plain: Vec<&str> = secrets.iter().map(|s| s.expose_secret()).collect();
    if let Err(e) = webhook_signature::verify(
        signature,
        body,
        &plain,
        now,
        webhook_signature::DEFAULT_TOLERANCE_SECS,
    ) {
        state.metrics.webhook(WebhookOutcome::Rejected);
        tracing::warn!(merchant_id, reason = %e, "webhook refused");
        return Err(rejected(&format!("Webhook signature refused: {e}")));
    }
    let event: Event = match serde_json::from_slice(body) {
        Ok(e) => e,
        Err(_) => {
            state.metrics.webhook(WebhookOutcome::Rejected);
            return Err(DomainError::Refused(ApiError::new(
                ErrorCode::InvalidJson,
                "The body is not a Stripe event",
            )));
        }
    };
    state.metrics.webhook(WebhookOutcome::Verified);
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
        processed_at: None,
        attempts: 0,
        last_error: None,
    };
    if state.db.insert_event(&record).await? {
        tracing::debug!(merchant_id, event = %event.id, kind = %event.kind, "webhook stored");
        Ok(Received::New(event.id))
    } else {
        state.metrics.webhook(WebhookOutcome::Duplicate);
        Ok(Received::Duplicate)
    }
}

/// Processes a stored event (again, if it was processed: applying is idempotent).
pub async fn process(state: &AppState, event_id: &str) -> Result<(), DomainError> {
    let Some(record) = state.db.get_event(event_id).await? else {
        return Ok(());
    };
    match apply_event(state, &record).await {
        Ok(token) => {
            state
                .db
                .mark_event_processed(event_id, token.as_deref(), db::now())
                .await?;
            state.metrics.webhook(WebhookOutcome::Processed);
            Ok(())
        }
        Err(e) => {
            state.metrics.webhook(WebhookOutcome::Failed);
            tracing::warn!(event = %event_id, error = %e, "webhook processing failed; it is retried");
            state.db.mark_event_failed(event_id, &e.to_string()).await?;
            Err(e)
        }
    }
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
        if process(state, &e.event_id).await.is_ok() {
            done += 1;
        }
    }
    done
}

/// Applies one event; returns the checkout it concerned.
async fn apply_event(state: &AppState, e: &EventRecord) -> Result<Option<String>, DomainError> {
    let event: Event = serde_json::from_str(&e.payload)
        .map_err(|err| DomainError::Internal(format!("stored event does not parse: {err}")))?;
    let object = &event.data.object;
    let kind = event.kind.as_str();
    if kind.starts_with("charge.dispute.") {
        let dispute: Dispute = serde_json::from_value(object.clone())
            .map_err(|err| DomainError::Internal(format!("dispute: {err}")))?;
        return apply_dispute(state, &e.merchant_id, &dispute, event.created).await;
    }
    if kind == "payment_intent.created" {
        return Ok(None);
    }
    let pi_id = if kind.starts_with("payment_intent.") {
        object.get("id").and_then(|v| v.as_str())
    } else if kind.starts_with("charge.") {
        object.get("payment_intent").and_then(|v| v.as_str())
    } else {
        None
    };
    let Some(pi_id) = pi_id else {
        return Ok(None);
    };
    // A cancellation fee's PaymentIntent.
    let fee_id = object
        .get("metadata")
        .and_then(|m| m.get(FEE_METADATA))
        .and_then(|v| v.as_str());
    if let Some(fee) = state.db.fee_by_payment_intent_or_id(pi_id, fee_id).await? {
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
            payments::apply(
                state,
                &r.token,
                &pi,
                event.created,
                LeaseMode::Respect,
                &Extra::default(),
            )
            .await?;
            return Ok(Some(r.token));
        }
    }
    // Older than what is known, or about a charge: Stripe's current state decides.
    let r = load(state, &r.token).await?;
    payments::sync(state, &r, LeaseMode::Respect).await?;
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
    let token = checkout
        .filter(|c| c.merchant_id == merchant_id)
        .map(|c| c.token);
    state
        .db
        .upsert_dispute(&DisputeRecord {
            id: d.id.clone(),
            merchant_id: merchant_id.to_owned(),
            checkout_token: token.clone(),
            charge_id: d.charge.clone(),
            amount: d.amount,
            currency: d.currency.clone(),
            reason: d.reason.clone(),
            status: d.status.clone(),
            stripe_created: d.created,
            event_created,
            updated_at: db::now(),
        })
        .await?;
    tracing::info!(dispute = %d.id, status = %d.status, "dispute recorded");
    Ok(token)
}
