//! Refunds: full or partial, never more than remains. The amount is reserved on the checkout
//! by a conditional update (`amount_refunded + x <= amount_captured`, in the same transaction
//! as the refund's row) before Stripe is called with an idempotency key made from the refund
//! row; Stripe's refusal gives the reservation back; Stripe could not be reached keeps it
//! (the same key retried, or the reconciler, drives it on). Refunds Stripe reports on the
//! charge (`charge.refunded`, a read) are reconciled: slotpay's by their metadata, others
//! (made in the Dashboard) recorded as external.

use serde::Deserialize;
use slotpay_core::{ApiError, CheckoutStatus, ErrorCode, Money};

use super::checkouts::{self, amount, load, stored_status, CheckoutAdminView};
use super::payments::{self, LeaseMode};
use super::{integrations, new_id, DomainError};
use crate::db::{self, holds_amount, CheckoutRecord, DbError, RefundRecord, Reservation};
use crate::state::AppState;
use crate::stripe::{Charge, Form, IdempotencyKey};

const WRITE_TRIES: usize = 8;
/// Metadata key naming slotpay's refund row on Stripe's refund.
pub const REFUND_METADATA: &str = "slotpay_refund";

/// `POST /v1/admin/checkouts/{token}/refunds`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// Minor units (what remains when absent).
    pub amount: Option<i64>,
}

fn exceeds(remaining: Money) -> DomainError {
    DomainError::Refused(
        ApiError::new(
            ErrorCode::RefundExceedsRemaining,
            format!("Only {remaining} remains refundable on this payment"),
        )
        .with_param("amount"),
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
    let r = load(state, token).await?;
    let currency = amount(&r)?.currency();
    if let Some(existing) = state.db.refund_by_key(&r.token, key).await? {
        if input.amount.is_some_and(|a| a != existing.amount) {
            return Err(DomainError::Refused(ApiError::new(
                ErrorCode::IdempotencyConflict,
                "This Idempotency-Key was used for another refund amount",
            )));
        }
        if existing.status == "pending" {
            drive(state, &r, &existing).await?;
        }
        return finish(state, &r.token, key).await;
    }
    match stored_status(&r)? {
        CheckoutStatus::Paid | CheckoutStatus::PartiallyRefunded => {}
        CheckoutStatus::Refunded => return Err(exceeds(Money::from_minor(0, currency))),
        _ => {
            return Err(DomainError::Refused(ApiError::new(
                ErrorCode::Conflict,
                "Only a paid checkout can be refunded (cancel an authorisation instead)",
            )))
        }
    }
    let remaining = (r.amount_captured - r.amount_refunded).max(0);
    let amount = input.amount.unwrap_or(remaining);
    if amount < 1 {
        return Err(if input.amount.is_some() {
            DomainError::Refused(
                ApiError::new(
                    ErrorCode::InvalidAmount,
                    "The amount must be greater than zero",
                )
                .with_param("amount"),
            )
        } else {
            exceeds(Money::from_minor(0, currency))
        });
    }
    if amount % currency.step() != 0 {
        return Err(DomainError::Refused(
            ApiError::new(
                ErrorCode::InvalidAmountStep,
                format!(
                    "{currency} amounts must be a multiple of {}",
                    Money::from_minor(currency.step(), currency)
                ),
            )
            .with_param("amount"),
        ));
    }
    let now = db::now();
    let row = RefundRecord {
        id: new_id("rf_"),
        checkout_token: r.token.clone(),
        idempotency_key: Some(key.to_owned()),
        amount,
        status: "pending".into(),
        stripe_refund_id: None,
        failure_message: None,
        created_at: now,
        updated_at: now,
    };
    match state.db.reserve_refund(&row).await? {
        Reservation::Reserved => {}
        Reservation::KeyTaken => return finish(state, &r.token, key).await,
        Reservation::Exceeds => {
            let fresh = load(state, &r.token).await?;
            let left = (fresh.amount_captured - fresh.amount_refunded).max(0);
            return Err(exceeds(Money::from_minor(left, currency)));
        }
    }
    tracing::info!(token = %r.token, refund = %row.id, amount, "refund reserved");
    drive(state, &r, &row).await?;
    finish(state, &r.token, key).await
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
    if matches!(refund.status.as_str(), "failed" | "canceled") {
        let message = refund
            .failure_message
            .unwrap_or_else(|| "Stripe did not refund it".into());
        let code = if message.contains("greater than") {
            ErrorCode::RefundExceedsRemaining
        } else {
            ErrorCode::StripeError
        };
        return Err(DomainError::Refused(ApiError::new(code, message)));
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
    let form = Form::new()
        .push("payment_intent", pi)
        .push("amount", refund.amount.to_string())
        .push_map("metadata", REFUND_METADATA, refund.id.as_str())
        .push_map("metadata", "slotpay_checkout", r.token.as_str());
    let idem = IdempotencyKey::new(format!("slotpay:{}:refund:{}", r.token, refund.id));
    let now = db::now();
    match state.stripe.create_refund(&key, &form, &idem).await {
        Ok(re) => {
            let to = match re.status.as_deref() {
                Some("failed") | Some("canceled") => "failed",
                Some("succeeded") => "succeeded",
                _ => "pending",
            };
            state
                .db
                .transition_refund(&refund.id, "pending", to, Some(&re.id), None, now)
                .await?;
            if to == "pending" {
                // Stripe accepted it but has not settled it: keep the id, stay pending.
                tracing::info!(refund = %refund.id, "refund pending at Stripe");
            }
            settle_status(state, &r.token).await?;
            tracing::info!(token = %r.token, refund = %refund.id, status = to, "refund sent");
            Ok(())
        }
        Err(err) if err.refusal().is_some() => {
            let e = err.refusal().expect("a refusal");
            state
                .db
                .transition_refund(&refund.id, "pending", "failed", None, Some(&e.message), now)
                .await?;
            tracing::warn!(token = %r.token, refund = %refund.id, reason = %e.message, "Stripe refused the refund");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Reconciles the refunds Stripe shows on a charge with the stored ones.
pub(crate) async fn reconcile_charge(
    state: &AppState,
    r: &CheckoutRecord,
    charge: &Charge,
) -> Result<(), DomainError> {
    let Some(list) = &charge.refunds else {
        return Ok(());
    };
    let now = db::now();
    for re in &list.data {
        let status = match re.status.as_deref() {
            Some("succeeded") => "succeeded",
            Some("failed") => "failed",
            Some("canceled") => "canceled",
            _ => "pending",
        };
        let ours = match re.metadata.get(REFUND_METADATA) {
            Some(id) => state.db.get_refund(id).await?,
            None => state.db.refund_by_stripe_id(&re.id).await?,
        };
        match ours {
            Some(row) if row.checkout_token == r.token => {
                if row.status != status && row.status != "failed" && row.status != "canceled" {
                    state
                        .db
                        .transition_refund(&row.id, &row.status, status, Some(&re.id), None, now)
                        .await?;
                }
            }
            Some(_) => {}
            None => {
                let row = RefundRecord {
                    id: re.id.clone(),
                    checkout_token: r.token.clone(),
                    idempotency_key: None,
                    amount: re.amount,
                    status: status.into(),
                    stripe_refund_id: Some(re.id.clone()),
                    failure_message: None,
                    created_at: if re.created > 0 { re.created } else { now },
                    updated_at: now,
                };
                if state.db.insert_external_refund(&row).await? {
                    tracing::info!(token = %r.token, refund = %re.id, "refund made outside slotpay recorded");
                }
            }
        }
    }
    Ok(())
}

/// Moves a paid checkout to partially_refunded or refunded from its succeeded refunds.
pub(crate) async fn settle_status(
    state: &AppState,
    token: &str,
) -> Result<CheckoutRecord, DomainError> {
    for _ in 0..WRITE_TRIES {
        let r = load(state, token).await?;
        let status = stored_status(&r)?;
        if !matches!(
            status,
            CheckoutStatus::Paid | CheckoutStatus::PartiallyRefunded
        ) {
            return Ok(r);
        }
        let refunded: i64 = state
            .db
            .list_refunds(token)
            .await?
            .iter()
            .filter(|x| x.status == "succeeded")
            .map(|x| x.amount)
            .sum();
        let next = if r.amount_captured > 0 && refunded >= r.amount_captured {
            CheckoutStatus::Refunded
        } else if refunded > 0 {
            CheckoutStatus::PartiallyRefunded
        } else {
            status
        };
        if next == status || !status.can_transition_to(next) {
            return Ok(r);
        }
        let mut n = r.clone();
        n.status = next.as_str().into();
        n.updated_at = db::now();
        if state.db.update_checkout(&n).await? {
            return Ok(n);
        }
    }
    Err(DomainError::Storage(DbError::Conflict(
        "the checkout kept changing; try again",
    )))
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
            if payments::sync(state, &r, LeaseMode::Respect).await.is_ok() {
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

/// Whether a refund in this status still counts (for reports).
pub fn counts(status: &str) -> bool {
    holds_amount(status)
}
