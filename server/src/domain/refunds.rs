//! Refunds: full or partial, never more than remains. The amount is reserved on the checkout
//! by a conditional update (`amount_refunded + x <= amount_captured`, in the same transaction
//! as the refund's row) before Stripe is called with an idempotency key made from the refund
//! row; Stripe's refusal gives the reservation back; Stripe could not be reached keeps it
//! (the same key retried, or the reconciler, drives it on). Refunds Stripe reports on the
//! charge (`charge.refunded`, a read) are reconciled: slotpay's by their metadata, others
//! (made in the Dashboard) recorded as external.

use serde::Deserialize;
use slotpay_core::{CheckoutStatus, ErrorCode, Money};

use super::checkouts::{self, CheckoutAdminView};
use super::store::load;
use super::sync::{settle_status, sync, LeaseMode, REFUND_METADATA};
use super::{integrations, new_id, outbox, DomainError};
use crate::db::{self, CheckoutRecord, RefundRecord, Reservation};
use crate::model::{RefundReason, RefundStatus};
use crate::state::AppState;
use crate::stripe::{Form, IdempotencyKey};

/// `POST /v1/admin/checkouts/{token}/refunds`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// Minor units (what remains when absent).
    pub amount: Option<i64>,
    /// `requested_by_customer`, `duplicate` or `fraudulent`: passed to Stripe and recorded.
    pub reason: Option<String>,
}

/// The reason given, refused unless it is one of Stripe's three.
pub fn reason_of(given: Option<&str>) -> Result<Option<RefundReason>, DomainError> {
    match given {
        None => Ok(None),
        Some(text) => RefundReason::parse(text).map(Some).ok_or_else(|| {
            DomainError::refused_at(
                ErrorCode::InvalidRequest,
                "The reason must be one of requested_by_customer, duplicate, fraudulent",
                "reason",
            )
        }),
    }
}

/// The refusal of a refund larger than what remains.
pub(crate) fn exceeds(remaining: Money) -> DomainError {
    DomainError::refused_at(
        ErrorCode::RefundExceedsRemaining,
        format!("Only {remaining} remains refundable on this payment"),
        "amount",
    )
}

/// Refunds a paid checkout, in full or in part. `key` makes the call idempotent: the same key
/// answers the same refund (and drives a pending one on).
pub async fn create(
    state: &AppState,
    token: &str,
    key: &str,
    input: RefundInput,
) -> Result<CheckoutAdminView, DomainError> {
    let reason = reason_of(input.reason.as_deref())?;
    let r = load(state, token).await?;
    if let Some(existing) = state.db.refund_by_key(&r.token, key).await? {
        if input.amount.is_some_and(|a| a != existing.amount) {
            return Err(DomainError::refused(
                ErrorCode::IdempotencyConflict,
                "This Idempotency-Key was used for another refund amount",
            ));
        }
        if reason.is_some() && reason != existing.reason {
            return Err(DomainError::refused(
                ErrorCode::IdempotencyConflict,
                "This Idempotency-Key was used for a refund with another reason",
            ));
        }
        if existing.status == RefundStatus::Pending {
            drive(state, &r, &existing).await?;
        }
        return finish(state, &r.token, key).await;
    }
    let amount = refund_amount(&r, input.amount)?;
    let now = db::now();
    let row = RefundRecord {
        id: new_id("rf_"),
        checkout_token: r.token.clone(),
        idempotency_key: Some(key.to_owned()),
        amount,
        status: RefundStatus::Pending,
        stripe_refund_id: None,
        failure_message: None,
        reason,
        created_at: now,
        updated_at: now,
    };
    match state.db.reserve_refund(&row).await? {
        Reservation::Reserved => {}
        Reservation::KeyTaken => return finish(state, &r.token, key).await,
        Reservation::Exceeds => {
            let fresh = load(state, &r.token).await?;
            let left = Money::from_minor(fresh.refundable(), r.amount.currency());
            return Err(exceeds(left));
        }
    }
    tracing::info!(token = %r.token, refund = %row.id, amount, "refund reserved");
    drive(state, &r, &row).await?;
    finish(state, &r.token, key).await
}

/// The amount a new refund asks for (what remains when absent), refused when the checkout
/// is not paid, nothing remains, or the amount is not one the currency allows.
fn refund_amount(r: &CheckoutRecord, asked: Option<i64>) -> Result<i64, DomainError> {
    let currency = r.amount.currency();
    match r.status {
        CheckoutStatus::Paid | CheckoutStatus::PartiallyRefunded => {}
        CheckoutStatus::Refunded => return Err(exceeds(Money::from_minor(0, currency))),
        _ => {
            return Err(DomainError::refused(
                ErrorCode::Conflict,
                "Only a paid checkout can be refunded (cancel an authorisation instead)",
            ))
        }
    }
    let amount = asked.unwrap_or(r.refundable());
    if amount < 1 {
        return Err(match asked {
            Some(_) => DomainError::refused_at(
                ErrorCode::InvalidAmount,
                "The amount must be greater than zero",
                "amount",
            ),
            None => exceeds(Money::from_minor(0, currency)),
        });
    }
    if amount % currency.step() != 0 {
        return Err(DomainError::refused_at(
            ErrorCode::InvalidAmountStep,
            format!(
                "{currency} amounts must be a multiple of {}",
                Money::from_minor(currency.step(), currency)
            ),
            "amount",
        ));
    }
    Ok(amount)
}

/// The answer after a refund: the checkout in full, or the refund's failure.
async fn finish(
    state: &AppState,
    token: &str,
    key: &str,
) -> Result<CheckoutAdminView, DomainError> {
    let refund = state
        .db
        .refund_by_key(token, key)
        .await?
        .ok_or(DomainError::NotFound("refund"))?;
    if !refund.status.holds_amount() {
        let message = refund
            .failure_message
            .unwrap_or_else(|| "Stripe did not refund it".into());
        let code = if message.contains("greater than") {
            ErrorCode::RefundExceedsRemaining
        } else {
            ErrorCode::StripeError
        };
        return Err(DomainError::refused(code, message));
    }
    let r = load(state, token).await?;
    checkouts::admin_view(state, &r, true).await
}

/// Sends a pending refund to Stripe (its idempotency key comes from the row, so sending it
/// again never refunds twice) and records the outcome.
pub(crate) async fn drive(
    state: &AppState,
    r: &CheckoutRecord,
    refund: &RefundRecord,
) -> Result<(), DomainError> {
    let key = integrations::server_key(state, &r.merchant_id).await?;
    let pi = r.payment_intent_id.clone().ok_or_else(|| {
        DomainError::Internal("refund of a checkout without PaymentIntent".into())
    })?;
    let mut form = Form::new()
        .push("payment_intent", pi)
        .push("amount", refund.amount.to_string())
        .push_map("metadata", REFUND_METADATA, refund.id.as_str())
        .push_map("metadata", "slotpay_checkout", r.token.as_str());
    if let Some(reason) = refund.reason {
        form = form.push("reason", reason.as_str());
    }
    let idem = IdempotencyKey::new(format!("slotpay:{}:refund:{}", r.token, refund.id));
    match state.stripe.create_refund(&key, &form, &idem).await {
        Ok(re) => {
            let to = RefundStatus::from_stripe(re.status.as_ref());
            let now_stored = load(state, &r.token).await?;
            let events = outbox::refund_events(state, &now_stored, refund, to, Some(&re.id));
            state
                .db
                .transition_refund(
                    &refund.id,
                    RefundStatus::Pending,
                    to,
                    Some(&re.id),
                    None,
                    &events,
                )
                .await?;
            if to == RefundStatus::Pending {
                // Stripe accepted it but has not settled it: keep the id, stay pending.
                tracing::info!(refund = %refund.id, "refund pending at Stripe");
            }
            settle_status(state, &r.token).await?;
            tracing::info!(token = %r.token, refund = %refund.id, status = %to, "refund sent");
            Ok(())
        }
        Err(err) if err.refusal().is_some() => {
            let e = err.refusal().expect("a refusal");
            let mut failed = refund.clone();
            failed.failure_message = Some(e.message.clone());
            let now_stored = load(state, &r.token).await?;
            let events =
                outbox::refund_events(state, &now_stored, &failed, RefundStatus::Failed, None);
            state
                .db
                .transition_refund(
                    &refund.id,
                    RefundStatus::Pending,
                    RefundStatus::Failed,
                    None,
                    Some(&e.message),
                    &events,
                )
                .await?;
            tracing::warn!(token = %r.token, refund = %refund.id, reason = %e.message, "Stripe refused the refund");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Drives refunds left pending (Stripe was unreachable and nobody retried) and re-reads
/// their checkouts.
pub(crate) async fn drive_pending(state: &AppState, created_before: i64) -> usize {
    let pending = match state.db.pending_refunds(created_before).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "pending refunds not read");
            return 0;
        }
    };
    let mut done = 0;
    for refund in pending {
        let Ok(r) = load(state, &refund.checkout_token).await else {
            continue;
        };
        if refund.stripe_refund_id.is_some() {
            // Stripe has it; the charge says how it ended.
            if sync(state, &r, LeaseMode::Respect).await.is_ok() {
                done += 1;
            }
            continue;
        }
        match drive(state, &r, &refund).await {
            Ok(()) => done += 1,
            Err(e) => tracing::warn!(refund = %refund.id, error = %e, "pending refund not sent"),
        }
    }
    done
}
