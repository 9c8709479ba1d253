//! Cancellation and no-show fees: the card a client saved at checkout (consent, a Customer,
//! `setup_future_usage=off_session`) is charged off-session with its own PaymentIntent
//! (`off_session=true, confirm=true`). The minimum is checked first; a decline is reported
//! with its code, and `authentication_required` as such, so staff can send a payment link.

use serde::Deserialize;
use slotpay_core::{check_chargeable, ApiError, ErrorCode, Money};

use super::checkouts::{amount, fee_view, load, FeeView};
use super::{integrations, new_id, DomainError};
use crate::db::{self, FeeRecord};
use crate::state::AppState;
use crate::stripe::{Form, IdempotencyKey, PaymentIntent, StripeError, StripeErrorKind};

/// Metadata key naming slotpay's fee row on its PaymentIntent.
pub const FEE_METADATA: &str = "slotpay_fee";

/// `POST /v1/admin/checkouts/{token}/cancellation-fee`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeInput {
    /// Minor units of the checkout's currency.
    pub amount: i64,
}

fn status_of(pi: &PaymentIntent) -> &'static str {
    match pi.status.as_str() {
        "succeeded" => "succeeded",
        "requires_action" => "requires_action",
        "processing" | "requires_confirmation" => "pending",
        _ => "failed",
    }
}

/// The answer for a fee: its view, or the decline as an error (402).
fn answer(fee: FeeRecord) -> Result<FeeView, DomainError> {
    match fee.status.as_str() {
        "failed" | "requires_action" => {
            let code = match fee.error_code.as_deref() {
                Some("authentication_required") => ErrorCode::AuthenticationRequired,
                _ if fee.decline_code.as_deref() == Some("authentication_required")
                    || fee.status == "requires_action" =>
                {
                    ErrorCode::AuthenticationRequired
                }
                _ => ErrorCode::CardDeclined,
            };
            let message = if code == ErrorCode::AuthenticationRequired {
                "The bank asks the client to authenticate this charge: send them a payment link instead".to_owned()
            } else {
                fee.error_message
                    .clone()
                    .unwrap_or_else(|| "The card was declined".into())
            };
            let mut e = ApiError::new(code, message);
            if let Some(d) = fee.decline_code.clone().or(fee.error_code.clone()) {
                e = e.with_decline_code(d);
            }
            Err(DomainError::Refused(e))
        }
        _ => Ok(fee_view(&fee)),
    }
}

/// Charges a cancellation or no-show fee to the card saved on a checkout. `key` makes it
/// idempotent (the same key answers the same charge).
pub async fn charge(
    state: &AppState,
    token: &str,
    key: &str,
    input: FeeInput,
) -> Result<FeeView, DomainError> {
    let r = load(state, token).await?;
    let currency = amount(&r)?.currency();
    if let Some(existing) = state.db.fee_by_key(&r.token, key).await? {
        if existing.amount != input.amount {
            return Err(DomainError::Refused(ApiError::new(
                ErrorCode::IdempotencyConflict,
                "This Idempotency-Key was used for another fee amount",
            )));
        }
        if existing.status != "pending" {
            return answer(existing);
        }
        return send(state, &r.merchant_id, &r, existing).await;
    }
    let (Some(customer), Some(_pm)) = (&r.customer_id, &r.saved_payment_method) else {
        return Err(DomainError::Refused(ApiError::new(
            ErrorCode::Conflict,
            "No card was saved on this checkout (the client did not agree to save it)",
        )));
    };
    let fee = Money::from_minor(input.amount, currency);
    check_chargeable(fee).map_err(|e| DomainError::Refused(e.into()))?;
    let _ = customer;
    let now = db::now();
    let row = FeeRecord {
        id: new_id("fee_"),
        checkout_token: r.token.clone(),
        idempotency_key: key.to_owned(),
        amount: input.amount,
        currency: currency.code().to_owned(),
        status: "pending".into(),
        payment_intent_id: None,
        error_code: None,
        decline_code: None,
        error_message: None,
        created_at: now,
        updated_at: now,
    };
    if !state.db.insert_fee(&row).await? {
        let existing = state
            .db
            .fee_by_key(&r.token, key)
            .await?
            .ok_or(DomainError::NotFound("cancellation fee"))?;
        return answer(existing);
    }
    send(state, &r.merchant_id, &r, row).await
}

async fn send(
    state: &AppState,
    merchant_id: &str,
    r: &crate::db::CheckoutRecord,
    mut fee: FeeRecord,
) -> Result<FeeView, DomainError> {
    let key = integrations::server_key(state, merchant_id).await?;
    let (Some(customer), Some(pm)) = (&r.customer_id, &r.saved_payment_method) else {
        return Err(DomainError::Internal("fee without a saved card".into()));
    };
    let form = Form::new()
        .push("amount", fee.amount.to_string())
        .push("currency", fee.currency.as_str())
        .push("customer", customer.as_str())
        .push("payment_method", pm.as_str())
        .push_list("payment_method_types", &["card"])
        .push("off_session", "true")
        .push("confirm", "true")
        .push(
            "description",
            format!("Cancellation fee: {}", r.description),
        )
        .push_map("metadata", FEE_METADATA, fee.id.as_str())
        .push_map("metadata", "slotpay_checkout", r.token.as_str());
    let idem = IdempotencyKey::new(format!("slotpay:{}:fee:{}", r.token, fee.id));
    let result = state.stripe.create_payment_intent(&key, &form, &idem).await;
    fee.updated_at = db::now();
    match result {
        Ok(pi) => {
            fee.status = status_of(&pi).into();
            fee.payment_intent_id = Some(pi.id.clone());
        }
        Err(StripeError::Api(e)) if e.kind == StripeErrorKind::CardError => {
            fee.status = if e.code.as_deref() == Some("authentication_required")
                || e.decline_code.as_deref() == Some("authentication_required")
            {
                "requires_action"
            } else {
                "failed"
            }
            .into();
            fee.payment_intent_id = e.payment_intent.clone();
            fee.error_code = e.code.clone();
            fee.decline_code = e.decline_code.clone();
            fee.error_message = Some(e.message.clone());
        }
        Err(err) if err.refusal().is_some() => {
            let e = err.refusal().expect("a refusal");
            fee.status = "failed".into();
            fee.error_code = e.code.clone().or(Some("stripe_error".into()));
            fee.error_message = Some(e.message.clone());
        }
        Err(e) => return Err(e.into()),
    }
    state.db.update_fee(&fee).await?;
    tracing::info!(token = %r.token, fee = %fee.id, status = %fee.status, "cancellation fee charged");
    answer(fee)
}

/// Applies a webhook about a fee's PaymentIntent.
pub(crate) async fn apply_intent(
    state: &AppState,
    fee: FeeRecord,
    pi: &PaymentIntent,
) -> Result<(), DomainError> {
    let status = status_of(pi);
    // A fee that succeeded stays so; a failed one may still succeed (a retried charge).
    if fee.status == "succeeded" || fee.status == status {
        return Ok(());
    }
    let mut f = fee;
    f.status = status.into();
    f.payment_intent_id = Some(pi.id.clone());
    if let Some(e) = &pi.last_payment_error {
        f.error_code = e.code.clone();
        f.decline_code = e.decline_code.clone();
        f.error_message = e.message.clone();
    }
    f.updated_at = db::now();
    state.db.update_fee(&f).await?;
    Ok(())
}
